//! "Warn before, not after": the Service ports whose targetPort the backend's pods do not
//! expose, found before the Service exists. The match is the endpoints controller's
//! ([`crate::endpoints::find_port`], after `podutil.FindPort` in kubernetes
//! pkg/api/v1/pod/util.go): a named targetPort needs a container port of that name and the
//! Service port's protocol, or the pod gets no endpoint for it; a number is used as it is,
//! so a number no container declares still gets endpoints, but traffic reaches the pod on a
//! port it may not listen on.

use k8s_openapi::api::core::v1::{PodSpec, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use crate::endpoints::protocol_or_tcp;

/// A port a container of the backend's pods declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExposedPort {
    pub number: i32,
    /// The port's name; empty when it has none.
    pub name: String,
    pub protocol: String,
    pub container: String,
}

impl ExposedPort {
    /// `80/TCP (http, nginx)`, or `80/TCP (nginx)` for a port without a name.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            format!("{}/{} ({})", self.number, self.protocol, self.container)
        } else {
            format!(
                "{}/{} ({}, {})",
                self.number, self.protocol, self.name, self.container
            )
        }
    }
}

/// A Service port whose targetPort the backend's pods do not expose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnexposedTarget {
    /// The port's index in `spec.ports`.
    pub index: usize,
    /// `spec.ports[i].targetPort`.
    pub field: String,
    /// The targetPort as written (the port number when it has none).
    pub target: String,
    /// Whether the pods get no endpoint for this port at all (a name nothing declares).
    pub no_endpoints: bool,
    /// The sentence for a person.
    pub message: String,
    /// The ports of the Service port's protocol the pods do expose: what to choose instead.
    pub choices: Vec<ExposedPort>,
}

/// The ports the containers (and restartable init containers, as `FindPort` reads them) of
/// `specs` declare, each once, in declaration order.
pub fn exposed_ports<'a>(specs: impl IntoIterator<Item = &'a PodSpec>) -> Vec<ExposedPort> {
    let mut out: Vec<ExposedPort> = Vec::new();
    for spec in specs {
        let sidecars = spec
            .init_containers
            .iter()
            .flatten()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"));
        for container in spec.containers.iter().chain(sidecars) {
            for port in container.ports.iter().flatten() {
                let exposed = ExposedPort {
                    number: port.container_port,
                    name: port.name.clone().unwrap_or_default(),
                    protocol: protocol_or_tcp(port.protocol.as_deref()).to_string(),
                    container: container.name.clone(),
                };
                if !out.contains(&exposed) {
                    out.push(exposed);
                }
            }
        }
    }
    out
}

/// The ports of `ports` whose targetPort is not among `exposed`. A number is only judged
/// when the pods declare some port (many images declare none and listen all the same); a
/// name is always judged, as without a match the pod gets no endpoint.
pub fn unexposed_targets(ports: &[ServicePort], exposed: &[ExposedPort]) -> Vec<UnexposedTarget> {
    let mut out = Vec::new();
    for (index, port) in ports.iter().enumerate() {
        let protocol = protocol_or_tcp(port.protocol.as_deref());
        let choices: Vec<ExposedPort> = exposed
            .iter()
            .filter(|e| e.protocol == protocol)
            .cloned()
            .collect();
        let offered = if choices.is_empty() {
            format!("They expose no {protocol} port.")
        } else {
            let labels: Vec<String> = choices.iter().map(ExposedPort::label).collect();
            format!("They expose {}.", labels.join(", "))
        };
        let field = format!("spec.ports[{index}].targetPort");
        let (target, no_endpoints, message) = match &port.target_port {
            Some(IntOrString::String(name)) => {
                if choices.iter().any(|e| e.name == *name) {
                    continue;
                }
                let message = format!(
                    "Container port \"{name}\" ({field}): no container of the backend's pods has a {protocol} port named \"{name}\", so no endpoints are created for this port and its traffic reaches no pod. {offered}"
                );
                (name.clone(), true, message)
            }
            target => {
                let number = match target {
                    Some(IntOrString::Int(n)) => *n,
                    _ => port.port,
                };
                if exposed.is_empty() || choices.iter().any(|e| e.number == number) {
                    continue;
                }
                let message = format!(
                    "Container port {number} ({field}): the backend's pods do not expose {protocol} port {number}. Traffic is sent to {number} anyway and is refused unless the application listens there. {offered}"
                );
                (number.to_string(), false, message)
            }
        };
        out.push(UnexposedTarget {
            index,
            field,
            target,
            no_endpoints,
            message,
            choices,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{Container, ContainerPort};

    use super::*;

    fn spec(ports: &[(i32, &str, &str)]) -> PodSpec {
        PodSpec {
            containers: vec![Container {
                name: "nginx".into(),
                ports: Some(
                    ports
                        .iter()
                        .map(|(n, name, protocol)| ContainerPort {
                            container_port: *n,
                            name: Some(name.to_string()).filter(|s| !s.is_empty()),
                            protocol: Some(protocol.to_string()),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn port(port: i32, target: Option<IntOrString>) -> ServicePort {
        ServicePort {
            port,
            target_port: target,
            protocol: Some("TCP".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_number_the_pods_do_not_expose_is_a_warning_with_their_ports_as_choices() {
        let exposed = exposed_ports([&spec(&[(80, "http", "TCP"), (53, "dns", "UDP")])]);
        let found = unexposed_targets(&[port(80, Some(IntOrString::Int(8080)))], &exposed);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "spec.ports[0].targetPort");
        assert!(!found[0].no_endpoints);
        assert_eq!(
            found[0].message,
            "Container port 8080 (spec.ports[0].targetPort): the backend's pods do not expose TCP port 8080. Traffic is sent to 8080 anyway and is refused unless the application listens there. They expose 80/TCP (http, nginx)."
        );
        // Only ports of the Service port's protocol are offered.
        assert_eq!(found[0].choices.len(), 1);
        assert_eq!(found[0].choices[0].number, 80);
    }

    #[test]
    fn without_a_target_the_port_number_is_judged() {
        let exposed = exposed_ports([&spec(&[(80, "", "TCP")])]);
        assert!(unexposed_targets(&[port(80, None)], &exposed).is_empty());
        assert_eq!(
            unexposed_targets(&[port(81, None)], &exposed)[0].target,
            "81"
        );
    }

    #[test]
    fn a_name_matches_a_port_of_that_name_and_protocol_only() {
        let exposed = exposed_ports([&spec(&[(80, "http", "TCP"), (53, "dns", "UDP")])]);
        let named = |n: &str| port(80, Some(IntOrString::String(n.into())));
        assert!(unexposed_targets(&[named("http")], &exposed).is_empty());
        let dns = unexposed_targets(&[named("dns")], &exposed);
        assert!(dns[0].no_endpoints, "dns is UDP, the Service port TCP");
        assert!(
            dns[0].message.contains("no endpoints are created"),
            "{}",
            dns[0].message
        );
    }

    #[test]
    fn pods_that_declare_no_port_leave_numbers_alone_but_not_names() {
        let exposed = exposed_ports([&spec(&[])]);
        assert!(unexposed_targets(&[port(80, Some(IntOrString::Int(8080)))], &exposed).is_empty());
        let named = unexposed_targets(
            &[port(80, Some(IntOrString::String("web".into())))],
            &exposed,
        );
        assert_eq!(named.len(), 1);
        assert!(
            named[0].message.ends_with("They expose no TCP port."),
            "{}",
            named[0].message
        );
    }
}
