//! What kube-apiserver writes at start-up to bring stored bootstrap roles and bindings up to
//! date: missing objects are created, missing rules, selectors and subjects added, labels and
//! annotations merged, and objects annotated `autoupdate: "false"` left alone. Mirrors
//! `computeReconciledRole` and `computeReconciledRoleBinding` in
//! `pkg/registry/rbac/reconciliation`, in the union mode the start-up hook uses (nothing extra
//! is ever removed).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{AggregationRule, ClusterRole, ClusterRoleBinding, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as MetaLabelSelector;

use super::bootstrap::AUTO_UPDATE_ANNOTATION;
use super::escalation::covers;

/// The write reconciliation asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciled<T> {
    /// Nothing to do.
    None,
    /// The object does not exist: create it.
    Create(T),
    /// Update the stored object to this.
    Update(T),
    /// A binding's roleRef differs, and roleRef is immutable: delete and create this.
    Recreate(T),
    /// The stored object is annotated `autoupdate: "false"` and would have changed.
    Protected,
}

/// `merge(expected, existing)`: existing values win; unset stays unset only if both are.
fn merge(
    expected: &Option<BTreeMap<String, String>>,
    existing: &Option<BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    if expected.is_none() && existing.is_none() {
        return None;
    }
    let mut out = expected.clone().unwrap_or_default();
    out.extend(existing.clone().unwrap_or_default());
    Some(out)
}

fn protected(annotations: &Option<BTreeMap<String, String>>) -> bool {
    annotations
        .as_ref()
        .and_then(|a| a.get(AUTO_UPDATE_ANNOTATION))
        .is_some_and(|v| v == "false")
}

/// Reconciles a stored ClusterRole with the expected one.
pub fn reconcile_cluster_role(
    existing: Option<&ClusterRole>,
    expected: &ClusterRole,
) -> Reconciled<ClusterRole> {
    let Some(existing) = existing else {
        return Reconciled::Create(expected.clone());
    };
    let mut role = existing.clone();
    role.metadata.annotations = merge(
        &expected.metadata.annotations,
        &existing.metadata.annotations,
    );
    role.metadata.labels = merge(&expected.metadata.labels, &existing.metadata.labels);

    let existing_rules = existing.rules.as_deref().unwrap_or_default();
    let (_, missing) = covers(
        existing_rules,
        expected.rules.as_deref().unwrap_or_default(),
    );
    if !missing.is_empty() {
        role.rules = Some(existing_rules.iter().cloned().chain(missing).collect());
    }

    match (&expected.aggregation_rule, &existing.aggregation_rule) {
        // Not expected to aggregate at all: drop the stored aggregation.
        (None, Some(_)) => role.aggregation_rule = None,
        (Some(want), have) => {
            let have_selectors = have
                .as_ref()
                .and_then(|a| a.cluster_role_selectors.clone())
                .unwrap_or_default();
            let missing: Vec<MetaLabelSelector> = want
                .cluster_role_selectors
                .iter()
                .flatten()
                .filter(|s| !have_selectors.contains(s))
                .cloned()
                .collect();
            if !missing.is_empty() {
                let mut selectors = have_selectors;
                selectors.extend(missing);
                role.aggregation_rule = Some(AggregationRule {
                    cluster_role_selectors: Some(selectors),
                });
            }
        }
        (None, None) => {}
    }

    if role == *existing {
        Reconciled::None
    } else if protected(&existing.metadata.annotations) {
        Reconciled::Protected
    } else {
        Reconciled::Update(role)
    }
}

/// Reconciles a stored ClusterRoleBinding with the expected one.
pub fn reconcile_cluster_role_binding(
    existing: Option<&ClusterRoleBinding>,
    expected: &ClusterRoleBinding,
) -> Reconciled<ClusterRoleBinding> {
    let Some(existing) = existing else {
        return Reconciled::Create(expected.clone());
    };
    let result = if existing.role_ref != expected.role_ref {
        Reconciled::Recreate(expected.clone())
    } else {
        let mut binding = existing.clone();
        binding.metadata.annotations = merge(
            &expected.metadata.annotations,
            &existing.metadata.annotations,
        );
        binding.metadata.labels = merge(&expected.metadata.labels, &existing.metadata.labels);
        let have: Vec<Subject> = existing.subjects.clone().unwrap_or_default();
        let missing: Vec<Subject> = expected
            .subjects
            .iter()
            .flatten()
            .filter(|s| !have.contains(s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            binding.subjects = Some(have.into_iter().chain(missing).collect());
        }
        if binding == *existing {
            Reconciled::None
        } else {
            Reconciled::Update(binding)
        }
    };
    if result != Reconciled::None && protected(&existing.metadata.annotations) {
        Reconciled::Protected
    } else {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::bootstrap::{cluster_role_bindings, cluster_roles};
    use crate::rbac::rules::rule;

    fn find_role(name: &str) -> ClusterRole {
        cluster_roles()
            .into_iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
            .unwrap()
    }

    #[test]
    fn missing_objects_are_created_and_equal_ones_left_alone() {
        let view = find_role("view");
        assert_eq!(
            reconcile_cluster_role(None, &view),
            Reconciled::Create(view.clone())
        );
        assert_eq!(reconcile_cluster_role(Some(&view), &view), Reconciled::None);
    }

    #[test]
    fn missing_rules_are_appended_and_extra_ones_kept() {
        let expected = find_role("system:public-info-viewer");
        let mut stored = expected.clone();
        stored.rules = Some(vec![rule(&["get"], &[""], &["pods"])]);
        stored.metadata.labels = Some(BTreeMap::from([("team".to_string(), "a".to_string())]));
        let Reconciled::Update(updated) = reconcile_cluster_role(Some(&stored), &expected) else {
            panic!("expected an update");
        };
        let rules = updated.rules.unwrap();
        // Upstream appends the missing rules as Covers breaks them down: one per URL and verb.
        assert_eq!(rules.len(), 6);
        assert_eq!(rules[0], rule(&["get"], &[""], &["pods"]));
        assert_eq!(
            crate::rbac::rules::compact_string(&rules[1]),
            "{NonResourceURLs:[\"/healthz\"], Verbs:[\"get\"]}"
        );
        let labels = updated.metadata.labels.unwrap();
        assert_eq!(labels["team"], "a");
        assert_eq!(labels["kubernetes.io/bootstrapping"], "rbac-defaults");
    }

    #[test]
    fn autoupdate_false_protects_a_role() {
        let expected = find_role("system:basic-user");
        let mut stored = expected.clone();
        stored.rules = Some(vec![]);
        stored
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(AUTO_UPDATE_ANNOTATION.into(), "false".into());
        assert_eq!(
            reconcile_cluster_role(Some(&stored), &expected),
            Reconciled::Protected
        );
    }

    #[test]
    fn bindings_gain_missing_subjects_and_are_recreated_for_a_new_role_ref() {
        let expected = cluster_role_bindings()
            .into_iter()
            .find(|b| b.metadata.name.as_deref() == Some("system:public-info-viewer"))
            .unwrap();
        let mut stored = expected.clone();
        stored.subjects.as_mut().unwrap().truncate(1);
        let Reconciled::Update(updated) = reconcile_cluster_role_binding(Some(&stored), &expected)
        else {
            panic!("expected an update");
        };
        assert_eq!(updated.subjects, expected.subjects);

        let mut moved = expected.clone();
        moved.role_ref.name = "other".into();
        assert_eq!(
            reconcile_cluster_role_binding(Some(&moved), &expected),
            Reconciled::Recreate(expected.clone())
        );
        assert_eq!(
            reconcile_cluster_role_binding(Some(&expected), &expected),
            Reconciled::None
        );

        moved
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(AUTO_UPDATE_ANNOTATION.into(), "false".into());
        assert_eq!(
            reconcile_cluster_role_binding(Some(&moved), &expected),
            Reconciled::Protected
        );
    }
}
