//! "Why no traffic?": when a Service has no ready endpoints (or its load balancer is still
//! pending), say why, from the Service, the namespace's pods and the Service's events. Pure
//! functions over the objects; the console's Details page shows them.

use crate::json::Pointer as _;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSpec, ServicePort};
use serde_json::Value;

use crate::selector::matches_service_selector;
use crate::service::types::{TYPE_EXTERNAL_NAME, TYPE_LOAD_BALANCER};
use crate::target_ports::{UnexposedTarget, exposed_ports, unexposed_targets};

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.at(pointer).and_then(Value::as_str).unwrap_or("")
}

fn list<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.at(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A JSON object of strings as a sorted map.
pub fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The pod's `Ready` condition is `True`.
pub fn pod_ready(pod: &Value) -> bool {
    list(pod, "/status/conditions")
        .iter()
        .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
}

/// Why traffic sent to `svc` reaches no pod, one sentence each; empty when nothing is wrong.
/// `ready_endpoints` counts the ready endpoint addresses; `events` are the Service's.
pub fn why_no_traffic(
    svc: &Value,
    pods: &[Value],
    ready_endpoints: usize,
    events: &[Value],
) -> Vec<String> {
    let mut reasons = Vec::new();
    let namespace = s(svc, "/metadata/namespace");
    let selector: BTreeMap<String, String> = string_map(svc.at("/spec/selector"));
    let pending = s(svc, "/spec/type") == TYPE_LOAD_BALANCER
        && list(svc, "/status/loadBalancer/ingress").is_empty();
    if ready_endpoints == 0 && s(svc, "/spec/type") != TYPE_EXTERNAL_NAME {
        if selector.is_empty() {
            reasons.push(
                "The Service has no selector (no backend), so no Endpoints are created for it."
                    .to_string(),
            );
        } else {
            let matching: Vec<&Value> = pods
                .iter()
                .filter(|p| {
                    matches_service_selector(Some(&selector), &string_map(p.at("/metadata/labels")))
                })
                .collect();
            let text = selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            if matching.is_empty() {
                reasons.push(format!(
                    "The selector {text} matches no pod in namespace {namespace}."
                ));
            } else {
                let ready: Vec<&&Value> = matching.iter().filter(|p| pod_ready(p)).collect();
                if ready.is_empty() {
                    let names: Vec<String> = matching
                        .iter()
                        .map(|p| {
                            let phase = match s(p, "/status/phase") {
                                "" => "Unknown",
                                phase => phase,
                            };
                            format!("{} ({phase})", s(p, "/metadata/name"))
                        })
                        .collect();
                    reasons.push(format!(
                        "{} pod(s) match the selector {text}, but none is ready: {}.",
                        matching.len(),
                        names.join(", ")
                    ));
                }
            }
        }
    }
    if pending {
        let last = events
            .iter()
            .max_by_key(|e| {
                [
                    "/lastTimestamp",
                    "/eventTime",
                    "/metadata/creationTimestamp",
                ]
                .iter()
                .map(|p| s(e, p))
                .find(|t| !t.is_empty())
                .unwrap_or("")
                .to_string()
            })
            .map(|e| format!(" Last event: {}: {}", s(e, "/reason"), s(e, "/message")));
        reasons.push(format!(
            "The load balancer is pending: the Service has no external address yet.{}",
            last.unwrap_or_default()
        ));
    }
    reasons
}

/// The ports of `svc` whose targetPort the pods its selector matches among `pods` do not
/// expose (see [`crate::target_ports`]); empty for a Service without a selector.
pub fn unexposed_in(svc: &Value, pods: &[Value]) -> Vec<UnexposedTarget> {
    let selector = string_map(svc.at("/spec/selector"));
    if selector.is_empty() {
        return Vec::new();
    }
    let specs: Vec<PodSpec> = pods
        .iter()
        .filter(|p| {
            matches_service_selector(Some(&selector), &string_map(p.at("/metadata/labels")))
        })
        .filter_map(|p| serde_json::from_value(p.get("spec")?.clone()).ok())
        .collect();
    if specs.is_empty() {
        return Vec::new();
    }
    let ports: Vec<ServicePort> = svc
        .at("/spec/ports")
        .and_then(|p| serde_json::from_value(p.clone()).ok())
        .unwrap_or_default();
    unexposed_targets(&ports, &exposed_ports(&specs))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn svc(spec: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec})
    }

    fn pod(name: &str, ready: bool, port: i64) -> Value {
        json!({
            "metadata": {"name": name, "labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "ports": [{"containerPort": port, "name": "http"}]}]},
            "status": {"phase": if ready { "Running" } else { "Pending" }, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
        })
    }

    #[test]
    fn no_selector_says_so() {
        let reasons = why_no_traffic(&svc(json!({"type": "ClusterIP"})), &[], 0, &[]);
        assert_eq!(
            reasons,
            ["The Service has no selector (no backend), so no Endpoints are created for it."]
        );
    }

    #[test]
    fn selector_matching_nothing_names_the_selector() {
        let s = svc(json!({"selector": {"app": "web"}, "ports": [{"port": 80}]}));
        let reasons = why_no_traffic(&s, &[pod("a", true, 80)], 0, &[]);
        assert_eq!(
            reasons,
            ["The selector app=web matches no pod in namespace default."]
        );
    }

    #[test]
    fn unready_pods_are_reported() {
        let s =
            svc(json!({"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 8080}]}));
        let reasons = why_no_traffic(&s, &[pod("a", false, 80)], 0, &[]);
        assert_eq!(
            reasons,
            ["1 pod(s) match the selector app=nginx, but none is ready: a (Pending)."]
        );
    }

    #[test]
    fn a_target_port_the_matching_pods_do_not_expose_is_named() {
        let s =
            svc(json!({"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 8080}]}));
        let other = json!({"metadata": {"name": "b", "labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "ports": [{"containerPort": 8080}]}]}});
        let found = unexposed_in(&s, &[pod("a", true, 80), other]);
        assert_eq!(found.len(), 1, "only the matching pods count");
        assert!(
            found[0].message.contains("do not expose TCP port 8080"),
            "{}",
            found[0].message
        );
        assert!(
            unexposed_in(
                &svc(json!({"ports": [{"port": 80}]})),
                &[pod("a", true, 80)]
            )
            .is_empty()
        );
    }

    #[test]
    fn named_target_port_resolves_against_container_port_names() {
        let s = svc(
            json!({"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": "http"}]}),
        );
        assert!(unexposed_in(&s, &[pod("a", true, 80)]).is_empty());
    }

    #[test]
    fn pending_load_balancer_quotes_the_last_event() {
        let s = svc(
            json!({"type": "LoadBalancer", "selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]}),
        );
        let events = [
            json!({"reason": "EnsuringLoadBalancer", "message": "old", "lastTimestamp": "2024-01-01T00:00:00Z"}),
            json!({"reason": "SyncLoadBalancerFailed", "message": "boom", "lastTimestamp": "2024-01-01T00:00:05Z"}),
        ];
        let reasons = why_no_traffic(&s, &[pod("a", true, 80)], 1, &events);
        assert_eq!(
            reasons,
            [
                "The load balancer is pending: the Service has no external address yet. Last event: SyncLoadBalancerFailed: boom"
            ]
        );
    }
}
