//! Readable field-level differences between two versions of an object, for a Service's
//! history: `spec.ports[https].targetPort 443 → 8443`, `metadata.labels.tier added: web`.
//! List items are matched by their merge key (ports by name, else port/protocol; objects by
//! `name`), and every change is classified so that status-only and bookkeeping changes
//! (managedFields, resourceVersion, generation) can be folded away.

pub mod lines;

use serde::Serialize;
use serde_json::Value;

/// What kind of field a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeClass {
    /// What a user asks for: spec, labels, annotations, …
    Spec,
    /// What controllers report: `status`.
    Status,
    /// What the server keeps for itself: managedFields, resourceVersion, generation, uid.
    Bookkeeping,
}

/// How a field changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum ChangeKind {
    Added { value: String },
    Removed { value: String },
    Changed { from: String, to: String },
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The field, e.g. `spec.ports[https].targetPort`.
    pub path: String,
    #[serde(flatten)]
    pub kind: ChangeKind,
    pub class: ChangeClass,
    /// The change as one line (its `Display`), for readers of the JSON.
    pub text: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn line(path: &str, kind: &ChangeKind) -> String {
    match kind {
        ChangeKind::Added { value } => format!("{path} added: {value}"),
        ChangeKind::Removed { value } => format!("{path} removed: {value}"),
        ChangeKind::Changed { from, to } => format!("{path} {from} → {to}"),
    }
}

/// Whether every change is status or bookkeeping: a revision a reader may fold away.
pub fn is_foldable(changes: &[Change]) -> bool {
    changes.iter().all(|c| c.class != ChangeClass::Spec)
}

/// The changes from `old` to `new`, in field order (old's, then fields only new has).
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    walk(&mut Vec::new(), old, new, &mut changes);
    changes
}

/// Metadata fields the server maintains.
const BOOKKEEPING: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
];

fn class_of(path: &[String]) -> ChangeClass {
    match path.first().map(String::as_str) {
        Some("status") => ChangeClass::Status,
        Some("metadata")
            if path
                .get(1)
                .is_some_and(|f| BOOKKEEPING.contains(&f.as_str())) =>
        {
            ChangeClass::Bookkeeping
        }
        _ => ChangeClass::Spec,
    }
}

/// A path as people read it: `spec.ports[https].targetPort`,
/// `metadata.annotations["service.beta.kubernetes.io/x"]`.
fn render(path: &[String]) -> String {
    let mut out = String::new();
    for segment in path {
        if segment.starts_with('[') {
            out.push_str(segment);
        } else if segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !segment.is_empty()
        {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        } else {
            out.push_str(&format!("[{}]", Value::String(segment.clone())));
        }
    }
    out
}

/// A value as one short line: strings bare, everything else as compact JSON.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn push(changes: &mut Vec<Change>, path: &[String], kind: ChangeKind) {
    let path_text = render(path);
    changes.push(Change {
        text: line(&path_text, &kind),
        path: path_text,
        kind,
        class: class_of(path),
    });
}

fn walk(path: &mut Vec<String>, old: &Value, new: &Value, changes: &mut Vec<Change>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, before) in a {
                path.push(key.clone());
                match b.get(key) {
                    Some(after) => walk(path, before, after, changes),
                    None => leaves(path, before, changes, removed),
                }
                path.pop();
            }
            for (key, after) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                path.push(key.clone());
                leaves(path, after, changes, added);
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) => match (keys_of(path, a), keys_of(path, b)) {
            (Some(old_keys), Some(new_keys)) => {
                for (key, before) in old_keys.iter().zip(a) {
                    path.push(format!("[{key}]"));
                    match new_keys.iter().position(|k| k == key) {
                        Some(i) => walk(path, before, &b[i], changes),
                        None => push(changes, path, removed(before)),
                    }
                    path.pop();
                }
                for (key, after) in new_keys.iter().zip(b) {
                    if !old_keys.contains(key) {
                        path.push(format!("[{key}]"));
                        push(changes, path, added(after));
                        path.pop();
                    }
                }
            }
            _ => push(
                changes,
                path,
                ChangeKind::Changed {
                    from: show(old),
                    to: show(new),
                },
            ),
        },
        (Value::Null, after) => leaves(path, after, changes, added),
        (before, Value::Null) => leaves(path, before, changes, removed),
        (before, after) => push(
            changes,
            path,
            ChangeKind::Changed {
                from: show(before),
                to: show(after),
            },
        ),
    }
}

/// A field added or removed as a whole, reported leaf by leaf when it is a map (a new
/// `metadata.annotations` is its keys added), as one value otherwise.
fn leaves(
    path: &mut Vec<String>,
    value: &Value,
    changes: &mut Vec<Change>,
    kind: fn(&Value) -> ChangeKind,
) {
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (key, field) in fields {
                path.push(key.clone());
                leaves(path, field, changes, kind);
                path.pop();
            }
        }
        other => push(changes, path, kind(other)),
    }
}

fn added(value: &Value) -> ChangeKind {
    ChangeKind::Added { value: show(value) }
}

fn removed(value: &Value) -> ChangeKind {
    ChangeKind::Removed { value: show(value) }
}

/// The merge keys of a list's items, when every item has a distinct one: Service ports by
/// name, else `port/protocol`; other objects by `name`; managedFields by manager and
/// operation. `None` compares the list as one value.
fn keys_of(path: &[String], items: &[Value]) -> Option<Vec<String>> {
    let field = path.last().map(String::as_str).unwrap_or("");
    let keys: Vec<String> = items
        .iter()
        .map(|item| {
            let object = item.as_object()?;
            let text = |k: &str| {
                object
                    .get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            };
            if field == "ports" {
                if let Some(name) = text("name") {
                    return Some(name.to_owned());
                }
                let port = object.get("port")?;
                return Some(format!(
                    "{}/{}",
                    show(port),
                    text("protocol").unwrap_or("TCP")
                ));
            }
            if field == "managedFields" {
                return Some(format!("{}/{}", text("manager")?, text("operation")?));
            }
            text("name").map(str::to_owned)
        })
        .collect::<Option<_>>()?;
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    (unique.len() == keys.len()).then_some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(target_port: i64, labels: Value) -> Value {
        json!({
            "metadata": {"name": "web", "labels": labels, "resourceVersion": "7"},
            "spec": {"ports": [
                {"name": "http", "port": 80, "targetPort": 80},
                {"name": "https", "port": 443, "targetPort": target_port}
            ]}
        })
    }

    fn lines(old: &Value, new: &Value) -> Vec<String> {
        diff(old, new).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn ports_are_matched_by_name_and_labels_by_key() {
        let old = service(443, json!({"app": "web"}));
        let new = service(8443, json!({"app": "web", "tier": "web"}));
        assert_eq!(
            lines(&old, &new),
            [
                "metadata.labels.tier added: web",
                "spec.ports[https].targetPort 443 → 8443",
            ]
        );
    }

    #[test]
    fn reordered_ports_are_no_change_and_unnamed_ports_key_by_port_and_protocol() {
        let a = json!({"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}, {"port": 53, "protocol": "UDP"}]}});
        let b = json!({"spec": {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 80, "protocol": "TCP", "targetPort": 8080}]}});
        assert_eq!(lines(&a, &b), ["spec.ports[80/TCP].targetPort 80 → 8080"]);
    }

    #[test]
    fn added_and_removed_ports_and_annotations_with_dots() {
        let a = json!({"metadata": {"annotations": {"service.beta.kubernetes.io/x": "1"}}, "spec": {"ports": [{"name": "a", "port": 1}]}});
        let b =
            json!({"metadata": {"annotations": {}}, "spec": {"ports": [{"name": "b", "port": 2}]}});
        assert_eq!(
            lines(&a, &b),
            [
                "metadata.annotations[\"service.beta.kubernetes.io/x\"] removed: 1",
                "spec.ports[a] removed: {\"name\":\"a\",\"port\":1}",
                "spec.ports[b] added: {\"name\":\"b\",\"port\":2}",
            ]
        );
    }

    #[test]
    fn a_new_map_is_its_keys_added() {
        let a = json!({"metadata": {"name": "web"}});
        let b = json!({"metadata": {"name": "web", "annotations": {"owner": "team-a", "x": "1"}}});
        assert_eq!(
            lines(&a, &b),
            [
                "metadata.annotations.owner added: team-a",
                "metadata.annotations.x added: 1"
            ]
        );
        assert_eq!(
            lines(&b, &a)[0],
            "metadata.annotations.owner removed: team-a"
        );
    }

    #[test]
    fn scalar_lists_compare_whole() {
        let a = json!({"spec": {"ipFamilies": ["IPv4"]}});
        let b = json!({"spec": {"ipFamilies": ["IPv4", "IPv6"]}});
        assert_eq!(
            lines(&a, &b),
            ["spec.ipFamilies [\"IPv4\"] → [\"IPv4\",\"IPv6\"]"]
        );
    }

    #[test]
    fn status_and_bookkeeping_changes_fold() {
        let a = json!({"metadata": {"resourceVersion": "1", "managedFields": [{"manager": "x", "operation": "Update", "time": "a"}]}, "status": {}});
        let b = json!({"metadata": {"resourceVersion": "2", "managedFields": [{"manager": "x", "operation": "Update", "time": "b"}]}, "status": {"loadBalancer": {"ingress": [{"ip": "47.100.0.1"}]}}});
        let changes = diff(&a, &b);
        assert_eq!(
            changes.iter().map(|c| c.class).collect::<Vec<_>>(),
            [
                ChangeClass::Bookkeeping,
                ChangeClass::Bookkeeping,
                ChangeClass::Status
            ]
        );
        assert_eq!(
            changes[1].to_string(),
            "metadata.managedFields[x/Update].time a → b"
        );
        assert!(is_foldable(&changes));
        let spec = diff(
            &json!({"spec": {"type": "ClusterIP"}}),
            &json!({"spec": {"type": "NodePort"}}),
        );
        assert!(!is_foldable(&spec));
    }

    #[test]
    fn an_unchanged_object_has_no_changes() {
        let svc = service(443, json!({"app": "web"}));
        assert!(diff(&svc, &svc.clone()).is_empty());
    }
}
