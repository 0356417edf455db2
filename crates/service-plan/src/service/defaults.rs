//! Static defaulting of v1 Services (service-rules.md §7.1) and read-time defaults (§7.3).

use k8s_openapi::api::core::v1::{ClientIPConfig, Service, SessionAffinityConfig};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::types;

/// True for NodePort, LoadBalancer, and ClusterIP with external IPs (`service.ExternallyAccessible`).
pub fn externally_accessible(svc: &Service) -> bool {
    let Some(spec) = svc.spec.as_ref() else {
        return false;
    };
    match spec.type_.as_deref() {
        Some(types::TYPE_NODE_PORT) | Some(types::TYPE_LOAD_BALANCER) => true,
        Some(types::TYPE_CLUSTER_IP) => spec
            .external_ips
            .as_ref()
            .is_some_and(|ips| !ips.is_empty()),
        _ => false,
    }
}

/// Mirrors `SetDefaults_Service` in pkg/apis/core/v1/defaults.go; runs on every POST/PUT body.
pub fn set_defaults(svc: &mut Service) {
    let spec = svc.spec.get_or_insert_with(Default::default);
    if spec.session_affinity.as_deref().unwrap_or("").is_empty() {
        spec.session_affinity = Some(types::AFFINITY_NONE.into());
    }
    if spec.session_affinity.as_deref() == Some(types::AFFINITY_NONE) {
        spec.session_affinity_config = None;
    }
    if spec.session_affinity.as_deref() == Some(types::AFFINITY_CLIENT_IP) {
        let has_timeout = spec
            .session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .is_some_and(|c| c.timeout_seconds.is_some());
        if !has_timeout {
            spec.session_affinity_config = Some(SessionAffinityConfig {
                client_ip: Some(ClientIPConfig {
                    timeout_seconds: Some(types::DEFAULT_CLIENT_IP_TIMEOUT_SECS),
                }),
            });
        }
    }
    if spec.type_.as_deref().unwrap_or("").is_empty() {
        spec.type_ = Some(types::TYPE_CLUSTER_IP.into());
    }
    for port in spec.ports.iter_mut().flatten() {
        if port.protocol.as_deref().unwrap_or("").is_empty() {
            port.protocol = Some(types::PROTOCOL_TCP.into());
        }
        let unset = match &port.target_port {
            None => true,
            Some(IntOrString::Int(0)) => true,
            Some(IntOrString::String(s)) => s.is_empty(),
            Some(IntOrString::Int(_)) => false,
        };
        if unset {
            port.target_port = Some(IntOrString::Int(port.port));
        }
    }
    let type_ = spec.type_.clone().unwrap_or_default();
    if externally_accessible(svc) {
        let spec = svc.spec.get_or_insert_with(Default::default);
        if spec
            .external_traffic_policy
            .as_deref()
            .unwrap_or("")
            .is_empty()
        {
            spec.external_traffic_policy = Some(types::TRAFFIC_POLICY_CLUSTER.into());
        }
    }
    let spec = svc.spec.get_or_insert_with(Default::default);
    if spec.internal_traffic_policy.is_none()
        && matches!(
            type_.as_str(),
            types::TYPE_NODE_PORT | types::TYPE_LOAD_BALANCER | types::TYPE_CLUSTER_IP
        )
    {
        spec.internal_traffic_policy = Some(types::TRAFFIC_POLICY_CLUSTER.into());
    }
    if type_ == types::TYPE_LOAD_BALANCER {
        if spec.allocate_load_balancer_node_ports.is_none() {
            spec.allocate_load_balancer_node_ports = Some(true);
        }
        let ingress = svc
            .status
            .as_mut()
            .and_then(|s| s.load_balancer.as_mut())
            .and_then(|lb| lb.ingress.as_mut());
        for ing in ingress.into_iter().flatten() {
            if ing.ip.as_deref().is_some_and(|ip| !ip.is_empty()) && ing.ip_mode.is_none() {
                ing.ip_mode = Some(types::IP_MODE_VIP.into());
            }
        }
    }
}

/// Mirrors `defaultOnRead` in pkg/registry/core/service/storage: applied to every Service
/// read from storage, so objects stored by older versions look current.
pub fn default_on_read(svc: &mut Service) {
    let Some(spec) = svc.spec.as_mut() else {
        return;
    };
    if spec.type_.as_deref() == Some(types::TYPE_EXTERNAL_NAME) {
        spec.internal_traffic_policy = None;
        return;
    }
    if spec.cluster_ips.as_ref().is_none_or(Vec::is_empty)
        && let Some(ip) = spec.cluster_ip.as_ref().filter(|ip| !ip.is_empty())
    {
        spec.cluster_ips = Some(vec![ip.clone()]);
    }
    let ips = spec.cluster_ips.clone().unwrap_or_default();
    if ips.is_empty() {
        return;
    }
    if ips[0] == types::CLUSTER_IP_NONE {
        if spec.ip_family_policy.is_none() || spec.ip_families.as_ref().is_none_or(Vec::is_empty) {
            let selectorless = spec.selector.as_ref().is_none_or(|s| s.is_empty());
            if selectorless {
                spec.ip_family_policy
                    .get_or_insert_with(|| types::IP_FAMILY_POLICY_REQUIRE_DUAL_STACK.into());
                spec.ip_families.get_or_insert_with(|| {
                    vec![types::IP_FAMILY_IPV4.into(), types::IP_FAMILY_IPV6.into()]
                });
            } else {
                spec.ip_family_policy
                    .get_or_insert_with(|| types::IP_FAMILY_POLICY_SINGLE_STACK.into());
                spec.ip_families
                    .get_or_insert_with(|| vec![types::IP_FAMILY_IPV4.into()]);
            }
        }
        return;
    }
    if spec.ip_families.as_ref().is_none_or(Vec::is_empty) {
        spec.ip_families = Some(ips.iter().map(|ip| ip_family_of(ip).to_string()).collect());
    }
    if spec.ip_family_policy.is_none() {
        let policy = if ips.len() > 1 {
            types::IP_FAMILY_POLICY_REQUIRE_DUAL_STACK
        } else {
            types::IP_FAMILY_POLICY_SINGLE_STACK
        };
        spec.ip_family_policy = Some(policy.into());
    }
}

/// Whether [`default_on_read`] could change a stored spec, judged from its JSON without
/// decoding it: reads of objects this server wrote (all of them already defaulted) skip the
/// typed round trip.
pub fn default_on_read_applies(spec: &serde_json::Value) -> bool {
    let present = |field: &str| match spec.get(field) {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Array(items)) => !items.is_empty(),
        Some(serde_json::Value::String(text)) => !text.is_empty(),
        Some(_) => true,
    };
    if spec.get("type").and_then(serde_json::Value::as_str) == Some(types::TYPE_EXTERNAL_NAME) {
        return present("internalTrafficPolicy");
    }
    if !present("clusterIPs") && !present("clusterIP") {
        return false;
    }
    !(present("clusterIPs") && present("ipFamilies") && present("ipFamilyPolicy"))
}

/// `IPv6` when the text contains a colon, else `IPv4` (families of stored, valid IPs).
pub fn ip_family_of(ip: &str) -> &'static str {
    if ip.contains(':') {
        types::IP_FAMILY_IPV6
    } else {
        types::IP_FAMILY_IPV4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_read_check_agrees_with_default_on_read() {
        let specs = [
            json!({"type": "ClusterIP", "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"], "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"}),
            json!({"type": "ClusterIP", "clusterIP": "10.0.0.1"}),
            json!({"type": "ClusterIP", "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"]}),
            json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"], "selector": {"a": "b"}}),
            json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"], "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"}),
            json!({"type": "ExternalName", "externalName": "a.b", "internalTrafficPolicy": "Cluster"}),
            json!({"type": "ExternalName", "externalName": "a.b"}),
            json!({"type": "ClusterIP"}),
            json!({"clusterIPs": [], "clusterIP": ""}),
        ];
        for spec in specs {
            let typed: k8s_openapi::api::core::v1::ServiceSpec =
                serde_json::from_value(spec.clone()).unwrap();
            let mut svc = Service {
                spec: Some(typed.clone()),
                ..Service::default()
            };
            default_on_read(&mut svc);
            let changes = svc.spec.as_ref() != Some(&typed);
            // The check may say "maybe" where nothing changes, never "no" where something does.
            assert!(!changes || default_on_read_applies(&spec), "{spec}");
            if !default_on_read_applies(&spec) {
                assert!(!changes, "{spec}");
            }
        }
    }

    fn defaulted(v: serde_json::Value) -> serde_json::Value {
        let mut svc: Service = serde_json::from_value(v).unwrap();
        set_defaults(&mut svc);
        serde_json::to_value(&svc).unwrap()["spec"].clone()
    }

    #[test]
    fn cluster_ip_service_gets_type_protocol_target_port_and_policies() {
        let spec = defaulted(json!({"spec":{"ports":[{"port":80}]}}));
        assert_eq!(
            spec,
            json!({"internalTrafficPolicy":"Cluster","ports":[{"port":80,"protocol":"TCP","targetPort":80}],"sessionAffinity":"None","type":"ClusterIP"})
        );
    }

    #[test]
    fn load_balancer_gets_external_policy_and_node_port_allocation() {
        let spec = defaulted(
            json!({"spec":{"type":"LoadBalancer","ports":[{"port":80,"targetPort":""}]}}),
        );
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
        assert_eq!(spec["allocateLoadBalancerNodePorts"], true);
        assert_eq!(spec["ports"][0]["targetPort"], 80);
    }

    #[test]
    fn client_ip_affinity_gets_the_default_timeout() {
        let spec = defaulted(
            json!({"spec":{"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{}}}}),
        );
        assert_eq!(
            spec["sessionAffinityConfig"],
            json!({"clientIP":{"timeoutSeconds":10800}})
        );
    }

    #[test]
    fn affinity_none_drops_the_config() {
        let spec = defaulted(
            json!({"spec":{"sessionAffinity":"None","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":5}}}}),
        );
        assert!(spec.get("sessionAffinityConfig").is_none());
    }

    #[test]
    fn cluster_ip_with_external_ips_is_externally_accessible() {
        let spec = defaulted(json!({"spec":{"externalIPs":["1.2.3.4"]}}));
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
    }

    #[test]
    fn external_name_gets_no_internal_traffic_policy() {
        let spec =
            defaulted(json!({"spec":{"type":"ExternalName","externalName":"db.example.com"}}));
        assert!(spec.get("internalTrafficPolicy").is_none());
    }
}
