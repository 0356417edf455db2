//! A Service's revision history as people read it: for each kept revision, who wrote it, when,
//! through what (the console, `kubectl edit`, `kubectl apply`, a controller) and what changed
//! since the revision before it, with status-only and bookkeeping-only revisions marked to fold.

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
    /// Only status or bookkeeping changed: folded away by default.
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
    let folded = revision.verb != "delete"
        && revision.verb != "create"
        && previous.is_some()
        && diff::is_foldable(&changes);
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
}
