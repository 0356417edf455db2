//! Defaulting and validation of Role, ClusterRole, RoleBinding and ClusterRoleBinding, with
//! kube-apiserver's field paths and texts. Mirrors `pkg/apis/rbac/v1/defaults.go` and
//! `pkg/apis/rbac/validation/validation.go`; aggregation selectors as apimachinery's
//! `ValidateLabelSelector`.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as MetaLabelSelector;

use super::rules::items;
use super::{
    GROUP_NAME, KIND_CLUSTER_ROLE, KIND_GROUP, KIND_ROLE, KIND_SERVICE_ACCOUNT, KIND_USER,
};
use crate::field::{FieldError, FieldErrors, Raw, go_quote, go_string_slice};
use crate::format::{
    is_qualified_name, is_valid_label_value, name_is_dns1123_subdomain, validate_path_segment_name,
};
use crate::meta::{validate_labels, validate_object_meta, validate_object_meta_update};
use crate::selector::LabelSelector;

/// `ValidateRBACName`: role and binding names need only be path segments; the prefix flag is
/// ignored, so a generateName is checked as a whole name too.
fn rbac_name(name: &str, _prefix: bool) -> Vec<String> {
    validate_path_segment_name(name, false)
}

/// `SetDefaults_RoleBinding` and `SetDefaults_Subject`: an empty `roleRef.apiGroup` is the
/// RBAC group; an empty subject `apiGroup` is the RBAC group for User and Group.
pub fn set_defaults_role_binding(binding: &mut RoleBinding) {
    default_role_ref(&mut binding.role_ref);
    binding
        .subjects
        .iter_mut()
        .flatten()
        .for_each(default_subject);
}

/// `SetDefaults_ClusterRoleBinding` and `SetDefaults_Subject`.
pub fn set_defaults_cluster_role_binding(binding: &mut ClusterRoleBinding) {
    default_role_ref(&mut binding.role_ref);
    binding
        .subjects
        .iter_mut()
        .flatten()
        .for_each(default_subject);
}

fn default_role_ref(role_ref: &mut RoleRef) {
    if role_ref.api_group.is_empty() {
        role_ref.api_group = GROUP_NAME.into();
    }
}

fn default_subject(subject: &mut Subject) {
    if subject.api_group.as_deref().unwrap_or_default().is_empty()
        && (subject.kind == KIND_USER || subject.kind == KIND_GROUP)
    {
        subject.api_group = Some(GROUP_NAME.into());
    }
}

/// Mirrors `ValidateRole`.
pub fn validate_role(role: &Role) -> FieldErrors {
    let mut errs = validate_object_meta(&role.metadata, true, rbac_name, "metadata");
    errs.extend(validate_rules(
        role.rules.as_deref().unwrap_or_default(),
        true,
    ));
    errs
}

/// Mirrors `ValidateRoleUpdate`.
pub fn validate_role_update(new: &Role, old: &Role) -> FieldErrors {
    let mut errs = validate_role(new);
    errs.extend(validate_object_meta_update(
        &new.metadata,
        &old.metadata,
        "metadata",
    ));
    errs
}

/// Mirrors `ValidateClusterRole` with `AllowInvalidLabelValueInSelector` off, as on create.
pub fn validate_cluster_role(role: &ClusterRole) -> FieldErrors {
    validate_cluster_role_with(role, false)
}

/// Mirrors `ValidateClusterRoleUpdate`: label values in aggregation selectors may stay invalid
/// when the stored role already had such a value.
pub fn validate_cluster_role_update(new: &ClusterRole, old: &ClusterRole) -> FieldErrors {
    let allow_invalid_values = selectors(old)
        .iter()
        .flat_map(|s| s.match_expressions.iter().flatten())
        .flat_map(|e| e.values.iter().flatten())
        .any(|v| !is_valid_label_value(v).is_empty());
    let mut errs = validate_cluster_role_with(new, allow_invalid_values);
    errs.extend(validate_object_meta_update(
        &new.metadata,
        &old.metadata,
        "metadata",
    ));
    errs
}

fn selectors(role: &ClusterRole) -> &[MetaLabelSelector] {
    role.aggregation_rule
        .as_ref()
        .and_then(|a| a.cluster_role_selectors.as_deref())
        .unwrap_or_default()
}

fn validate_cluster_role_with(role: &ClusterRole, allow_invalid_values: bool) -> FieldErrors {
    let mut errs = validate_object_meta(&role.metadata, false, rbac_name, "metadata");
    errs.extend(validate_rules(
        role.rules.as_deref().unwrap_or_default(),
        false,
    ));
    if role.aggregation_rule.is_some() {
        let path = "aggregationRule.clusterRoleSelectors";
        if selectors(role).is_empty() {
            errs.push(FieldError::required(
                path,
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            ));
        }
        for (i, selector) in selectors(role).iter().enumerate() {
            let at = format!("{path}[{i}]");
            errs.extend(validate_label_selector(selector, allow_invalid_values, &at));
            if LabelSelector::from_label_selector(selector).is_err() {
                // Upstream prints the nil selector it got back.
                errs.push(FieldError::invalid(
                    at,
                    None::<String>,
                    "invalid label selector.",
                ));
            }
        }
    }
    errs
}

fn validate_rules(rules: &[PolicyRule], namespaced: bool) -> FieldErrors {
    let mut errs = FieldErrors::new();
    for (i, rule) in rules.iter().enumerate() {
        errs.extend(validate_policy_rule(
            rule,
            namespaced,
            &format!("rules[{i}]"),
        ));
    }
    errs
}

/// Mirrors `ValidatePolicyRule`: verbs are required; a rule is either for non-resource URLs
/// (only in ClusterRoles) or for resources, which need groups and resources.
pub fn validate_policy_rule(rule: &PolicyRule, namespaced: bool, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if rule.verbs.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.verbs"),
            "verbs must contain at least one value",
        ));
    }
    let urls = items(&rule.non_resource_urls);
    if !urls.is_empty() {
        let at = format!("{path}.nonResourceURLs");
        if namespaced {
            errs.push(FieldError::invalid(
                &at,
                go_string_slice(urls),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if !items(&rule.api_groups).is_empty()
            || !items(&rule.resources).is_empty()
            || !items(&rule.resource_names).is_empty()
        {
            errs.push(FieldError::invalid(
                &at,
                go_string_slice(urls),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errs;
    }
    if items(&rule.api_groups).is_empty() {
        errs.push(FieldError::required(
            format!("{path}.apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if items(&rule.resources).is_empty() {
        errs.push(FieldError::required(
            format!("{path}.resources"),
            "resource rules must supply at least one resource",
        ));
    }
    errs
}

/// Mirrors `ValidateRoleBinding`: roleRef may name a Role or a ClusterRole.
pub fn validate_role_binding(binding: &RoleBinding) -> FieldErrors {
    let mut errs = validate_object_meta(&binding.metadata, true, rbac_name, "metadata");
    errs.extend(validate_role_ref(
        &binding.role_ref,
        &[KIND_ROLE, KIND_CLUSTER_ROLE],
    ));
    errs.extend(validate_subjects(
        binding.subjects.as_deref().unwrap_or_default(),
        true,
    ));
    errs
}

/// Mirrors `ValidateRoleBindingUpdate`: roleRef may not change.
pub fn validate_role_binding_update(new: &RoleBinding, old: &RoleBinding) -> FieldErrors {
    let mut errs = validate_role_binding(new);
    errs.extend(validate_object_meta_update(
        &new.metadata,
        &old.metadata,
        "metadata",
    ));
    errs.extend(validate_role_ref_unchanged(&new.role_ref, &old.role_ref));
    errs
}

/// Mirrors `ValidateClusterRoleBinding`: roleRef must name a ClusterRole; ServiceAccount
/// subjects need a namespace.
pub fn validate_cluster_role_binding(binding: &ClusterRoleBinding) -> FieldErrors {
    let mut errs = validate_object_meta(&binding.metadata, false, rbac_name, "metadata");
    errs.extend(validate_role_ref(&binding.role_ref, &[KIND_CLUSTER_ROLE]));
    errs.extend(validate_subjects(
        binding.subjects.as_deref().unwrap_or_default(),
        false,
    ));
    errs
}

/// Mirrors `ValidateClusterRoleBindingUpdate`: roleRef may not change.
pub fn validate_cluster_role_binding_update(
    new: &ClusterRoleBinding,
    old: &ClusterRoleBinding,
) -> FieldErrors {
    let mut errs = validate_cluster_role_binding(new);
    errs.extend(validate_object_meta_update(
        &new.metadata,
        &old.metadata,
        "metadata",
    ));
    errs.extend(validate_role_ref_unchanged(&new.role_ref, &old.role_ref));
    errs
}

fn validate_role_ref(role_ref: &RoleRef, kinds: &[&str]) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if role_ref.api_group != GROUP_NAME {
        errs.push(FieldError::not_supported_in_order(
            "roleRef.apiGroup",
            role_ref.api_group.as_str(),
            &[GROUP_NAME],
        ));
    }
    if !kinds.contains(&role_ref.kind.as_str()) {
        errs.push(FieldError::not_supported_in_order(
            "roleRef.kind",
            role_ref.kind.as_str(),
            kinds,
        ));
    }
    if role_ref.name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        for msg in rbac_name(&role_ref.name, false) {
            errs.push(FieldError::invalid(
                "roleRef.name",
                role_ref.name.as_str(),
                msg,
            ));
        }
    }
    errs
}

/// `roleRef: Invalid value: rbac.RoleRef{…}: cannot change roleRef`, the value as Go's `%#v`
/// prints the internal type.
fn validate_role_ref_unchanged(new: &RoleRef, old: &RoleRef) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if new != old {
        let printed = format!(
            "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
            go_quote(&new.api_group),
            go_quote(&new.kind),
            go_quote(&new.name)
        );
        errs.push(FieldError::invalid(
            "roleRef",
            Raw(printed),
            "cannot change roleRef",
        ));
    }
    errs
}

fn validate_subjects(subjects: &[Subject], namespaced: bool) -> FieldErrors {
    let mut errs = FieldErrors::new();
    for (i, subject) in subjects.iter().enumerate() {
        errs.extend(validate_subject(
            subject,
            namespaced,
            &format!("subjects[{i}]"),
        ));
    }
    errs
}

/// Mirrors `ValidateRoleBindingSubject`.
pub fn validate_subject(subject: &Subject, namespaced: bool, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let api_group = subject.api_group.as_deref().unwrap_or_default();
    if subject.name.is_empty() {
        errs.push(FieldError::required(format!("{path}.name"), ""));
    }
    match subject.kind.as_str() {
        KIND_SERVICE_ACCOUNT => {
            if !subject.name.is_empty() {
                for msg in name_is_dns1123_subdomain(&subject.name, false) {
                    errs.push(FieldError::invalid(
                        format!("{path}.name"),
                        subject.name.as_str(),
                        msg,
                    ));
                }
            }
            if !api_group.is_empty() {
                errs.push(FieldError::not_supported_in_order(
                    format!("{path}.apiGroup"),
                    api_group,
                    &[""],
                ));
            }
            if !namespaced && subject.namespace.as_deref().unwrap_or_default().is_empty() {
                errs.push(FieldError::required(format!("{path}.namespace"), ""));
            }
        }
        KIND_USER | KIND_GROUP => {
            if api_group != GROUP_NAME {
                errs.push(FieldError::not_supported_in_order(
                    format!("{path}.apiGroup"),
                    api_group,
                    &[GROUP_NAME],
                ));
            }
        }
        other => errs.push(FieldError::not_supported_in_order(
            format!("{path}.kind"),
            other,
            &[KIND_SERVICE_ACCOUNT, KIND_USER, KIND_GROUP],
        )),
    }
    errs
}

/// Mirrors apimachinery's `ValidateLabelSelector` (matchLabels, then each requirement).
fn validate_label_selector(
    selector: &MetaLabelSelector,
    allow_invalid_values: bool,
    path: &str,
) -> FieldErrors {
    let mut errs = validate_labels(
        selector.match_labels.as_ref().unwrap_or(&BTreeMap::new()),
        &format!("{path}.matchLabels"),
    );
    for (i, expr) in selector.match_expressions.iter().flatten().enumerate() {
        let at = format!("{path}.matchExpressions[{i}]");
        let values = expr.values.as_deref().unwrap_or_default();
        match expr.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                format!("{at}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                format!("{at}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(
                format!("{at}.operator"),
                other,
                "not a valid selector operator",
            )),
        }
        for msg in is_qualified_name(&expr.key) {
            errs.push(FieldError::invalid(
                format!("{at}.key"),
                expr.key.as_str(),
                msg,
            ));
        }
        if !allow_invalid_values {
            for (j, value) in values.iter().enumerate() {
                for msg in is_valid_label_value(value) {
                    errs.push(FieldError::invalid(
                        format!("{at}.values[{j}]"),
                        value.as_str(),
                        msg,
                    ));
                }
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::rules::{rule, url_rule};
    use k8s_openapi::api::rbac::v1::AggregationRule;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, ObjectMeta};

    fn meta(namespace: Option<&str>, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            ..Default::default()
        }
    }

    fn texts(errs: &FieldErrors) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    fn role_ref(kind: &str, name: &str) -> RoleRef {
        RoleRef {
            api_group: GROUP_NAME.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    fn subject(kind: &str, name: &str, namespace: Option<&str>) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(Into::into),
            api_group: None,
        }
    }

    fn binding(subjects: Vec<Subject>, role_ref: RoleRef) -> RoleBinding {
        let mut b = RoleBinding {
            metadata: meta(Some("default"), "b"),
            role_ref,
            subjects: Some(subjects),
        };
        set_defaults_role_binding(&mut b);
        b
    }

    #[test]
    fn valid_objects_have_no_errors() {
        let role = Role {
            metadata: meta(Some("default"), "r"),
            rules: Some(vec![rule(&["get"], &[""], &["services"])]),
        };
        assert!(validate_role(&role).is_empty());
        let b = binding(
            vec![
                subject(KIND_USER, "alice", None),
                subject(KIND_GROUP, "g", None),
                subject(KIND_SERVICE_ACCOUNT, "sa", None),
            ],
            role_ref(KIND_CLUSTER_ROLE, "view"),
        );
        assert!(
            validate_role_binding(&b).is_empty(),
            "{:?}",
            texts(&validate_role_binding(&b))
        );
        assert!(
            crate::rbac::bootstrap::policy()
                .cluster_roles
                .iter()
                .all(|r| validate_cluster_role(r).is_empty())
        );
        assert!(
            crate::rbac::bootstrap::policy()
                .cluster_role_bindings
                .iter()
                .all(|b| validate_cluster_role_binding(b).is_empty())
        );
    }

    #[test]
    fn rules_need_verbs_groups_and_resources_or_cluster_scoped_urls() {
        let role = Role {
            metadata: meta(Some("default"), "r"),
            rules: Some(vec![
                PolicyRule::default(),
                url_rule(&["get"], &["/healthz"]),
                PolicyRule {
                    api_groups: Some(vec!["".into()]),
                    ..url_rule(&["get"], &["/a", "/b"])
                },
            ]),
        };
        assert_eq!(
            texts(&validate_role(&role)),
            vec![
                "rules[0].verbs: Required value: verbs must contain at least one value",
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[0].resources: Required value: resource rules must supply at least one resource",
                "rules[1].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs",
                "rules[2].nonResourceURLs: Invalid value: []string{\"/a\", \"/b\"}: namespaced rules cannot apply to non-resource URLs",
                "rules[2].nonResourceURLs: Invalid value: []string{\"/a\", \"/b\"}: rules cannot apply to both regular resources and non-resource URLs",
            ]
        );
        let cluster = ClusterRole {
            metadata: meta(None, "c"),
            rules: Some(vec![url_rule(&["get"], &["/healthz"])]),
            ..Default::default()
        };
        assert!(validate_cluster_role(&cluster).is_empty());
    }

    #[test]
    fn names_are_path_segments_and_namespaces_follow_scope() {
        let role = Role {
            metadata: meta(None, "a/b"),
            rules: None,
        };
        assert_eq!(
            texts(&validate_role(&role)),
            vec![
                "metadata.name: Invalid value: \"a/b\": may not contain '/'",
                "metadata.namespace: Required value"
            ]
        );
        let cluster = ClusterRole {
            metadata: meta(Some("default"), "system:x"),
            ..Default::default()
        };
        assert_eq!(
            texts(&validate_cluster_role(&cluster)),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
    }

    #[test]
    fn role_refs_and_subjects_read_like_upstream() {
        let mut b = binding(
            vec![
                subject("Robot", "r", None),
                subject(KIND_SERVICE_ACCOUNT, "Bad_Name", None),
                Subject {
                    api_group: Some("x".into()),
                    ..subject(KIND_SERVICE_ACCOUNT, "sa", None)
                },
                subject(KIND_USER, "", None),
            ],
            RoleRef {
                api_group: "x.io".into(),
                kind: "Policy".into(),
                name: "".into(),
            },
        );
        b.subjects.as_mut().unwrap()[3].api_group = Some("other".into());
        assert_eq!(
            texts(&validate_role_binding(&b)),
            vec![
                "roleRef.apiGroup: Unsupported value: \"x.io\": supported values: \"rbac.authorization.k8s.io\"",
                "roleRef.kind: Unsupported value: \"Policy\": supported values: \"Role\", \"ClusterRole\"",
                "roleRef.name: Required value",
                "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
                "subjects[1].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                "subjects[2].apiGroup: Unsupported value: \"x\": supported values: \"\"",
                "subjects[3].name: Required value",
                "subjects[3].apiGroup: Unsupported value: \"other\": supported values: \"rbac.authorization.k8s.io\"",
            ]
        );
    }

    #[test]
    fn cluster_role_bindings_take_only_cluster_roles_and_namespaced_service_accounts() {
        let mut b = ClusterRoleBinding {
            metadata: meta(None, "b"),
            role_ref: RoleRef {
                api_group: String::new(),
                kind: KIND_ROLE.into(),
                name: "r".into(),
            },
            subjects: Some(vec![
                subject(KIND_SERVICE_ACCOUNT, "sa", None),
                subject(KIND_GROUP, "g", None),
            ]),
        };
        set_defaults_cluster_role_binding(&mut b);
        assert_eq!(b.role_ref.api_group, GROUP_NAME);
        assert_eq!(
            b.subjects.as_ref().unwrap()[1].api_group.as_deref(),
            Some(GROUP_NAME)
        );
        assert_eq!(b.subjects.as_ref().unwrap()[0].api_group, None);
        assert_eq!(
            texts(&validate_cluster_role_binding(&b)),
            vec![
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[0].namespace: Required value",
            ]
        );
    }

    #[test]
    fn role_ref_is_immutable() {
        let mut old = binding(vec![], role_ref(KIND_CLUSTER_ROLE, "view"));
        old.metadata.resource_version = Some("7".into());
        let mut new = old.clone();
        new.role_ref.name = "edit".into();
        assert_eq!(
            texts(&validate_role_binding_update(&new, &old)),
            vec![
                "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef"
            ]
        );
        new.role_ref = old.role_ref.clone();
        assert!(validate_role_binding_update(&new, &old).is_empty());
    }

    #[test]
    fn aggregation_rules_need_valid_selectors() {
        let mut role = ClusterRole {
            metadata: meta(None, "agg"),
            aggregation_rule: Some(AggregationRule {
                cluster_role_selectors: Some(vec![]),
            }),
            ..Default::default()
        };
        assert_eq!(
            texts(&validate_cluster_role(&role)),
            vec![
                "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"
            ]
        );
        role.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![MetaLabelSelector {
                match_labels: None,
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: "k".into(),
                    operator: "Exists".into(),
                    values: Some(vec!["v".into()]),
                }]),
            }]),
        });
        assert_eq!(
            texts(&validate_cluster_role(&role)),
            vec![
                "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                "aggregationRule.clusterRoleSelectors[0]: Invalid value: \"null\": invalid label selector.",
            ]
        );
    }
}
