//! A Service's revision history as people read it: for each kept revision, who wrote it, when,
//! through what (the console, `kubectl edit`, `kubectl apply`, a controller) and what changed
//! since the revision before it, with status-only and bookkeeping-only revisions marked to fold.

use crate::json::Pointer as _;
use serde::Serialize;
use serde_json::Value;

use crate::diff::{self, Change};

/// One kept revision, as the store returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub revision: i64,
    pub uid: String,
    /// create, update, patch, apply or delete.
    pub verb: String,
    /// `status` for a status write.
    pub subresource: String,
    /// `""` for the server's own controllers.
    pub user: String,
    pub user_agent: String,
    pub manager: String,
    /// RFC 3339.
    pub time: String,
    pub object: Value,
}

/// One revision with its changes against the one before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub revision: i64,
    pub uid: String,
    pub verb: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
    /// Who: the user, or `controller` for the server's own writes.
    pub user: String,
    pub user_agent: String,
    pub field_manager: String,
    /// Through what, e.g. `kubectl edit`, `console`, `service-controller` (a controller's
    /// field manager, with the user `controller`).
    pub through: String,
    pub time: String,
    /// The revision the changes are against; `None` for a creation (or when older
    /// revisions are no longer kept).
    pub previous: Option<i64>,
    pub changes: Vec<Change>,
    /// Only status or bookkeeping changed, or a controller wrote it: folded by default.
    pub folded: bool,
}

/// The user shown for the server's own writes.
pub const CONTROLLER_USER: &str = "controller";

/// Through what a write came, from its field manager (kubectl's managers are its User-Agent
/// prefixes: `kubectl-edit`, `kubectl-client-side-apply`, …).
pub fn through(user: &str, manager: &str, verb: &str) -> String {
    match manager {
        "service-console" if !user.is_empty() => "console".into(),
        "kubectl-client-side-apply" => "kubectl apply".into(),
        "kubectl" if verb == "apply" => "kubectl apply --server-side".into(),
        m if m.starts_with("kubectl-") => format!("kubectl {}", &m["kubectl-".len()..]),
        m => m.into(),
    }
}

/// Entries for `revisions` (newest first), each diffed against the next older revision of
/// the same object (same uid).
pub fn entries(revisions: &[Revision]) -> Vec<Entry> {
    revisions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let previous = revisions.get(i + 1).filter(|p| p.uid == r.uid);
            entry(r, previous)
        })
        .collect()
}

/// One entry: `revision` against `previous` (`None`: nothing to compare with).
pub fn entry(revision: &Revision, previous: Option<&Revision>) -> Entry {
    let changes = match previous {
        // A delete stores the last state: nothing but bookkeeping changed.
        Some(p) if revision.verb != "delete" => diff::diff(&p.object, &revision.object),
        _ => Vec::new(),
    };
    // Status-only and bookkeeping-only revisions fold, and so does whatever the server's
    // own controllers changed: what people did stays in view.
    let folded = revision.verb != "delete"
        && revision.verb != "create"
        && previous.is_some()
        && (diff::is_foldable(&changes) || revision.user.is_empty());
    Entry {
        revision: revision.revision,
        uid: revision.uid.clone(),
        verb: revision.verb.clone(),
        subresource: revision.subresource.clone(),
        user: if revision.user.is_empty() {
            CONTROLLER_USER.into()
        } else {
            revision.user.clone()
        },
        user_agent: revision.user_agent.clone(),
        field_manager: revision.manager.clone(),
        through: through(&revision.user, &revision.manager, &revision.verb),
        time: revision.time.clone(),
        previous: previous.map(|p| p.revision),
        changes,
        folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn revision(n: i64, verb: &str, user: &str, manager: &str, object: Value) -> Revision {
        Revision {
            revision: n,
            uid: "u1".into(),
            verb: verb.into(),
            subresource: String::new(),
            user: user.into(),
            user_agent: String::new(),
            manager: manager.into(),
            time: "2026-12-05T06:00:00Z".into(),
            object,
        }
    }

    #[test]
    fn through_names_the_tool() {
        assert_eq!(
            through("kubectl-edit", "kubectl-edit", "update"),
            "kubectl edit"
        );
        assert_eq!(
            through(
                "kubectl-client-side-apply",
                "kubectl-client-side-apply",
                "patch"
            ),
            "kubectl apply"
        );
        assert_eq!(
            through("kubectl", "kubectl", "apply"),
            "kubectl apply --server-side"
        );
        assert_eq!(
            through("service-console", "service-console", "update"),
            "console"
        );
        assert_eq!(
            through("", "service-controller", "update"),
            "service-controller"
        );
    }

    #[test]
    fn each_entry_is_diffed_against_the_one_before_and_status_only_folds() {
        let v1 = json!({"spec": {"type": "ClusterIP"}});
        let v2 = json!({"spec": {"type": "NodePort"}});
        let v3 = json!({"spec": {"type": "NodePort"}, "status": {"x": 1}});
        let revisions = [
            revision(3, "patch", "", "service-controller", v3),
            revision(2, "update", "kubectl-edit", "kubectl-edit", v2),
            revision(1, "create", "service-console", "service-console", v1),
        ];
        let entries = entries(&revisions);
        assert_eq!(entries[0].user, "controller");
        assert!(entries[0].folded);
        assert_eq!(
            entries[1].changes[0].to_string(),
            "spec.type ClusterIP → NodePort"
        );
        assert!(!entries[1].folded);
        assert_eq!(entries[1].previous, Some(1));
        assert_eq!((entries[2].previous, entries[2].folded), (None, false));
    }

    #[test]
    fn a_controllers_spec_change_folds_and_a_persons_does_not() {
        let v1 = json!({"metadata": {"annotations": {}}});
        let v2 = json!({"metadata": {"annotations": {"lb-id": "lb-1"}}});
        let by_controller = revision(2, "update", "", "service-controller", v2.clone());
        let by_person = revision(2, "update", "alice", "kubectl-edit", v2);
        let first = revision(1, "create", "alice", "kubectl-create", v1);
        assert!(entry(&by_controller, Some(&first)).folded);
        assert!(!entry(&by_person, Some(&first)).folded);
    }
}

/// Metadata fields the server sets, which a restored body leaves to the server again.
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

/// The body that restores `old` (a kept revision): an update of `current` at its
/// resourceVersion when the Service exists, else a create. What the server set is left to
/// it; the Cluster IPs are `current`'s (they cannot change); a node port the old revision
/// left empty keeps the one `current` holds for the same port. For a create, addresses and
/// node ports are kept only when `free` says they are still free, else allocated anew.
pub fn restore_body(
    old: &Value,
    current: Option<&Value>,
    free: &dyn Fn(&Allocation) -> bool,
) -> Value {
    let mut body = old.clone();
    if let Some(fields) = body.as_object_mut() {
        fields.remove("status");
        if let Some(meta) = fields.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in SERVER_METADATA {
                meta.remove(*field);
            }
            if let Some(rv) = current.and_then(|c| c.at("/metadata/resourceVersion")) {
                meta.insert("resourceVersion".into(), rv.clone());
            }
        }
    }
    let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) else {
        return body;
    };
    // Node ports belong to NodePort and LoadBalancer Services only; a restored ClusterIP
    // Service must not carry the ones the current type holds.
    let node_ports = matches!(
        spec.get("type").and_then(Value::as_str),
        Some("NodePort" | "LoadBalancer")
    );
    let local = spec.get("externalTrafficPolicy").and_then(Value::as_str) == Some("Local");
    match current.and_then(|c| c.get("spec")) {
        Some(now) => {
            for field in ["clusterIP", "clusterIPs"] {
                match now.get(field) {
                    Some(value) => spec.insert(field.into(), value.clone()),
                    None => spec.remove(field),
                };
            }
            if spec.get("healthCheckNodePort").is_none()
                && node_ports
                && local
                && let Some(port) = now.get("healthCheckNodePort")
            {
                spec.insert("healthCheckNodePort".into(), port.clone());
            }
            let current_ports = now.get("ports").and_then(Value::as_array);
            if let (Some(ports), Some(current_ports), true) = (
                spec.get_mut("ports").and_then(Value::as_array_mut),
                current_ports,
                node_ports,
            ) {
                for port in ports.iter_mut().filter(|p| p.get("nodePort").is_none()) {
                    let held = current_ports
                        .iter()
                        .find(|c| same_port(c, port))
                        .and_then(|c| c.get("nodePort"));
                    if let (Some(held), Some(port)) = (held, port.as_object_mut()) {
                        port.insert("nodePort".into(), held.clone());
                    }
                }
            }
        }
        None => {
            let ips_free = spec
                .get("clusterIPs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .chain(spec.get("clusterIP"))
                .filter_map(Value::as_str)
                .filter(|ip| *ip != "None")
                .all(|ip| free(&Allocation::ClusterIp(ip.to_string())));
            if !ips_free {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    let taken = port
                        .get("nodePort")
                        .and_then(Value::as_i64)
                        .is_some_and(|p| !free(&Allocation::NodePort(p)));
                    if taken {
                        port.remove("nodePort");
                    }
                }
            }
            let health_taken = spec
                .get("healthCheckNodePort")
                .and_then(Value::as_i64)
                .is_some_and(|p| !free(&Allocation::NodePort(p)));
            if health_taken {
                spec.remove("healthCheckNodePort");
            }
        }
    }
    body
}

/// Something a restored Service may re-claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allocation {
    ClusterIp(String),
    NodePort(i64),
}

/// Whether two ports are the same port: by name, else by port and protocol.
fn same_port(a: &Value, b: &Value) -> bool {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    match (text(a, "name"), text(b, "name")) {
        (x, y) if !x.is_empty() || !y.is_empty() => x == y,
        _ => {
            let protocol = |v: &Value| match text(v, "protocol") {
                p if p.is_empty() => "TCP".to_string(),
                p => p,
            };
            a.get("port") == b.get("port") && protocol(a) == protocol(b)
        }
    }
}

#[cfg(test)]
mod restore_tests {
    use super::*;
    use serde_json::json;

    fn old() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "uid": "u1", "resourceVersion": "5",
                "creationTimestamp": "2026-12-01T00:00:00Z", "managedFields": [], "labels": {"a": "b"}},
            "spec": {"type": "NodePort", "clusterIP": "172.21.0.10", "clusterIPs": ["172.21.0.10"],
                "ports": [{"name": "http", "port": 80, "nodePort": 30080}, {"name": "https", "port": 443}]},
            "status": {"loadBalancer": {}}
        })
    }

    #[test]
    fn an_update_keeps_what_the_cluster_holds_and_names_the_current_version() {
        let current = json!({
            "metadata": {"name": "web", "resourceVersion": "9"},
            "spec": {"clusterIP": "172.21.0.10", "clusterIPs": ["172.21.0.10"],
                "ports": [{"name": "https", "port": 443, "nodePort": 31443}]}
        });
        let body = restore_body(&old(), Some(&current), &|_| true);
        assert_eq!(
            body["metadata"],
            json!({"name": "web", "resourceVersion": "9", "labels": {"a": "b"}})
        );
        assert_eq!(body.get("status"), None);
        assert_eq!(body["spec"]["ports"][0]["nodePort"], 30080);
        assert_eq!(body["spec"]["ports"][1]["nodePort"], 31443);
    }

    #[test]
    fn a_cluster_ip_revision_takes_no_node_port() {
        let mut old = old();
        old["spec"]["type"] = json!("ClusterIP");
        old["spec"]["ports"] = json!([{"name": "https", "port": 443}]);
        let current = json!({"metadata": {"resourceVersion": "9"},
            "spec": {"type": "NodePort", "ports": [{"name": "https", "port": 443, "nodePort": 31443}]}});
        let body = restore_body(&old, Some(&current), &|_| true);
        assert_eq!(body["spec"]["ports"][0].get("nodePort"), None);
    }

    #[test]
    fn a_create_reclaims_what_is_free_and_lets_the_rest_be_allocated_anew() {
        let body = restore_body(&old(), None, &|a| *a != Allocation::NodePort(30080));
        assert_eq!(body["metadata"].get("resourceVersion"), None);
        assert_eq!(body["spec"]["clusterIP"], "172.21.0.10");
        assert_eq!(body["spec"]["ports"][0].get("nodePort"), None);
        let taken_ip = restore_body(&old(), None, &|a| !matches!(a, Allocation::ClusterIp(_)));
        assert_eq!(taken_ip["spec"].get("clusterIP"), None);
        assert_eq!(taken_ip["spec"]["ports"][0]["nodePort"], 30080);
    }
}
