//! Listener, vServer-group and CLB names exactly as CCM writes them (`pkg/model/load_balancer.go`,
//! `clbv1/listeners.go`). The names are identifiers: CCM decides ownership by parsing them.

use serde::Serialize;

/// The first segment of every CCM-owned listener and vServer-group name.
pub const NAME_PREFIX: &str = "k8s";
/// The cluster id CCM uses when its config has none (self-built clusters collide on it).
pub const DEFAULT_CLUSTER_ID: &str = "clusterid";
/// CCM's `FORMAT_ERROR`, the start of the error for a name that does not parse.
pub const FORMAT_ERROR: &str = "ListenerName Format Error: k8s/${port}/${service}/${namespace}/${clusterid} format is expected";

/// The listener description (the console's "listener name"): `k8s/<port>/<svc>/<ns>/<cid>`.
pub fn listener_name(port: i32, service: &str, namespace: &str, cluster_id: &str) -> String {
    format!("{NAME_PREFIX}/{port}/{service}/{namespace}/{cluster_id}")
}

/// The vServer-group name: `k8s/<backendPortKey>/<svc>/<ns>/<cid>`, where the key is the
/// NodePort for node backends and the targetPort (number or name) for ENI backends. Every
/// backend server's description is this name too.
pub fn vserver_group_name(
    port_key: &str,
    service: &str,
    namespace: &str,
    cluster_id: &str,
) -> String {
    format!("{NAME_PREFIX}/{port_key}/{service}/{namespace}/{cluster_id}")
}

/// Mirrors `GetDefaultLoadBalancerName`: `"a"` + the Service UID without dashes, at most 32
/// characters. CCM tags its CLB with this and finds it again by it.
pub fn default_load_balancer_name(uid: &str) -> String {
    let name: String = std::iter::once('a')
        .chain(uid.chars().filter(|c| *c != '-'))
        .collect();
    name.chars().take(32).collect()
}

/// The parts of a CCM-owned name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedKey {
    /// The port segment: a service port, NodePort or targetPort.
    pub port: String,
    /// The Service name.
    pub service: String,
    /// The Service namespace.
    pub namespace: String,
    /// The cluster id.
    pub cluster_id: String,
}

impl NamedKey {
    /// CCM's ownership test: service name, namespace and cluster id all match.
    pub fn is_owned_by(&self, namespace: &str, service: &str, cluster_id: &str) -> bool {
        self.service == service && self.namespace == namespace && self.cluster_id == cluster_id
    }
}

/// Mirrors `LoadVGroupNamedKey`: exactly five `/`-separated parts, the first `k8s`. Anything
/// else is user-managed; the error is CCM's text.
pub fn parse_named_key(name: &str) -> Result<NamedKey, String> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        [prefix, port, service, namespace, cluster_id] if *prefix == NAME_PREFIX => Ok(NamedKey {
            port: port.to_string(),
            service: service.to_string(),
            namespace: namespace.to_string(),
            cluster_id: cluster_id.to_string(),
        }),
        _ => Err(format!("{FORMAT_ERROR}. Got [{name}]")),
    }
}

/// Mirrors `LoadListenerNamedKey`: [`parse_named_key`] plus a numeric port.
pub fn parse_listener_name(name: &str) -> Result<NamedKey, String> {
    let key = parse_named_key(name)?;
    key.port.parse::<i32>().map_err(|_| {
        format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            crate::field::go_quote(&key.port)
        )
    })?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_doc_example() {
        assert_eq!(
            listener_name(80, "nginx", "default", "c123"),
            "k8s/80/nginx/default/c123"
        );
        assert_eq!(
            vserver_group_name("31234", "nginx", "default", "c123"),
            "k8s/31234/nginx/default/c123"
        );
        assert_eq!(
            vserver_group_name("http", "nginx", "default", "c123"),
            "k8s/http/nginx/default/c123"
        );
    }

    #[test]
    fn default_name_drops_dashes_and_truncates() {
        assert_eq!(
            default_load_balancer_name("1b2c3d4e-5f60-7181-92a3-b4c5d6e7f809"),
            "a1b2c3d4e5f60718192a3b4c5d6e7f80"
        );
        assert_eq!(default_load_balancer_name("abc"), "aabc");
    }

    #[test]
    fn parse_accepts_only_five_parts_with_k8s_prefix() {
        let key = parse_named_key("k8s/80/nginx/default/c123").unwrap();
        assert!(key.is_owned_by("default", "nginx", "c123"));
        assert!(!key.is_owned_by("default", "nginx", "other"));
        let cases = [
            "my-listener",
            "k8s/80/nginx/default",
            "x8s/80/nginx/default/c",
            "k8s/80/a/b/c/d",
        ];
        for name in cases {
            assert_eq!(
                parse_named_key(name),
                Err(format!(
                    "ListenerName Format Error: k8s/${{port}}/${{service}}/${{namespace}}/${{clusterid}} format is expected. Got [{name}]"
                )),
                "{name}"
            );
        }
        assert_eq!(
            parse_listener_name("k8s/http/nginx/default/c"),
            Err(r#"strconv.Atoi: parsing "http": invalid syntax"#.to_string())
        );
    }
}
