//! The escalation checks on writes of roles and bindings: nobody grants what they do not hold.
//! Mirrors `Covers` (`component-helpers/auth/rbac/validation/policy_comparator.go`),
//! `CompactRules` (`pkg/registry/rbac/validation/policy_compact.go`), `ConfirmNoEscalation`
//! (`rule.go`), `pkg/registry/rbac/escalation_check.go` and the `policybased` storages of
//! roles, clusterroles, rolebindings and clusterrolebindings.

use std::collections::BTreeSet;

use k8s_openapi::Metadata;
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, RoleRef};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::authorizer::{
    Attributes, LookupVia, ResolveError, RuleResolver, aggregate, authorize, is_privileged,
    policy_rules_for, role_reference_rules,
};
use super::message::forbidden;
use super::rules::{compact_string, go_quoted_list, items};
use super::{ALL, GROUP_NAME, KIND_CLUSTER_ROLE, KIND_ROLE};
use crate::field::go_quote;
use crate::status::{Resource, Status};
use crate::user::UserInfo;

/// Whether `owner` rules allow everything `servant` rules do, and the atomic rules they do not;
/// mirrors `validation.Covers`.
///
/// Each servant rule is broken into rules of one group, resource, verb and name (or one URL
/// and verb); each must be covered by a single owner rule.
pub fn covers(owner: &[PolicyRule], servant: &[PolicyRule]) -> (bool, Vec<PolicyRule>) {
    let uncovered: Vec<PolicyRule> = servant
        .iter()
        .flat_map(breakdown_rule)
        .filter(|sub| !owner.iter().any(|o| rule_covers(o, sub)))
        .collect();
    (uncovered.is_empty(), uncovered)
}

/// A rule as rules of at most one group, resource, verb and name; mirrors `BreakdownRule`.
pub fn breakdown_rule(rule: &PolicyRule) -> Vec<PolicyRule> {
    let one = |s: &String| Some(vec![s.clone()]);
    let mut subrules = Vec::new();
    for group in items(&rule.api_groups) {
        for resource in items(&rule.resources) {
            for verb in &rule.verbs {
                let base = PolicyRule {
                    api_groups: one(group),
                    resources: one(resource),
                    verbs: vec![verb.clone()],
                    ..Default::default()
                };
                let names = items(&rule.resource_names);
                if names.is_empty() {
                    subrules.push(base);
                } else {
                    subrules.extend(names.iter().map(|name| PolicyRule {
                        resource_names: one(name),
                        ..base.clone()
                    }));
                }
            }
        }
    }
    // Non-resource URLs combine only with verbs.
    for url in items(&rule.non_resource_urls) {
        for verb in &rule.verbs {
            subrules.push(PolicyRule {
                non_resource_urls: one(url),
                verbs: vec![verb.clone()],
                ..Default::default()
            });
        }
    }
    subrules
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

fn has_all(set: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| has(set, w))
}

/// `resourceCoversAll`: `*`, every resource listed, or `*/sub` for each `resource/sub`.
fn resource_covers_all(owned: &[String], wanted: &[String]) -> bool {
    if has(owned, ALL) || has_all(owned, wanted) {
        return true;
    }
    wanted.iter().all(|path| {
        has(owned, path)
            || path
                .split_once('/')
                .is_some_and(|(_, sub)| has(owned, &format!("*/{sub}")))
    })
}

/// `nonResourceURLCovers`: the same path, or a prefix ending in `*`.
fn non_resource_url_covers(owner: &str, path: &str) -> bool {
    owner == path || (owner.ends_with('*') && path.starts_with(owner.trim_end_matches('*')))
}

/// `ruleCovers`: whether one owner rule covers one broken-down rule.
fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, ALL) || has_all(&owner.verbs, &sub.verbs);
    let owner_groups = items(&owner.api_groups);
    let groups = has(owner_groups, ALL) || has_all(owner_groups, items(&sub.api_groups));
    let resources = resource_covers_all(items(&owner.resources), items(&sub.resources));
    let urls = items(&sub.non_resource_urls).iter().all(|path| {
        items(&owner.non_resource_urls)
            .iter()
            .any(|o| non_resource_url_covers(o, path))
    });
    let owner_names = items(&owner.resource_names);
    let sub_names = items(&sub.resource_names);
    // A rule without names is only covered by a rule without names.
    let names =
        owner_names.is_empty() || (!sub_names.is_empty() && has_all(owner_names, sub_names));
    verbs && groups && resources && names && urls
}

/// Merges rules of one group and one resource (and at most one name) that differ only by
/// verb; mirrors `CompactRules`. Other rules keep their order and come first.
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut compacted = Vec::new();
    let mut simple: Vec<(SimpleResource, PolicyRule)> = Vec::new();
    for rule in rules {
        match simple_resource(rule) {
            Some(key) => match simple.iter_mut().find(|(k, _)| *k == key) {
                Some((_, existing)) => existing.verbs.extend(rule.verbs.iter().cloned()),
                None => simple.push((key, rule.clone())),
            },
            None => compacted.push(rule.clone()),
        }
    }
    // Upstream appends these in map order; every caller sorts the printed rules.
    compacted.extend(simple.into_iter().map(|(_, rule)| rule));
    compacted
}

/// The group, resource and optional name that [`compact_rules`] merges on (`simpleResource`).
type SimpleResource = (String, String, Option<String>);

/// `isSimpleResourceRule`: one group, one resource, at most one name, no URLs.
fn simple_resource(rule: &PolicyRule) -> Option<SimpleResource> {
    let names = items(&rule.resource_names);
    if names.len() > 1 || !items(&rule.non_resource_urls).is_empty() {
        return None;
    }
    match (items(&rule.api_groups), items(&rule.resources)) {
        ([group], [resource]) => Some((group.clone(), resource.clone(), names.first().cloned())),
        _ => None,
    }
}

/// The error text when `user` asks to grant `rules` it does not hold in `namespace`, or `None`
/// when it holds them all; mirrors `ConfirmNoEscalation`.
///
/// The user's rules come from the registry's own lookups, so a binding to a missing role
/// reads `clusterroles.rbac.authorization.k8s.io "x" not found` among the resolution errors.
pub fn confirm_no_escalation<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    namespace: &str,
    rules: &[PolicyRule],
    resolver: &R,
) -> Option<String> {
    let (owner_rules, errors) = policy_rules_for(user, namespace, resolver, LookupVia::Storage);
    let (covered, missing) = covers(&owner_rules, rules);
    if covered {
        return None;
    }
    // A set: sorted, without duplicates.
    let descriptions: BTreeSet<String> =
        compact_rules(&missing).iter().map(compact_string).collect();
    let mut msg = format!(
        "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        go_quote(&user.name),
        go_quoted_list(&user.groups),
        descriptions.into_iter().collect::<Vec<_>>().join("\n")
    );
    if !errors.is_empty() {
        // `%v` of a []error holding one aggregate.
        msg.push_str(&format!("; resolution errors: [{}]", aggregate(&errors)));
    }
    Some(msg)
}

/// Which role resource a write is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleResource {
    /// `roles`, namespaced.
    Roles,
    /// `clusterroles`.
    ClusterRoles,
}

impl RoleResource {
    fn plural(self) -> &'static str {
        match self {
            RoleResource::Roles => "roles",
            RoleResource::ClusterRoles => "clusterroles",
        }
    }
}

/// A create or update of a Role or ClusterRole, as the registry sees it.
#[derive(Debug, Clone, Copy)]
pub struct RoleWrite<'a> {
    /// Roles or ClusterRoles.
    pub resource: RoleResource,
    /// The namespace of the request; empty for ClusterRoles.
    pub namespace: &'a str,
    /// The name in the URL: empty on create, the object's name on update.
    pub path_name: &'a str,
    /// The object's `metadata.name`, which the 403 names.
    pub name: &'a str,
    /// The rules the written object will hold.
    pub rules: &'a [PolicyRule],
    /// An update that changes only what the garbage collector needs (see
    /// [`only_gc_fields_changed`]) is never checked.
    pub only_gc_fields_changed: bool,
    /// Whether the new ClusterRole, or on update the old one, has an aggregation rule with
    /// selectors ([`has_aggregation_rule`]): since it can gather anything, that needs `*` on
    /// everything.
    pub aggregation_rule: bool,
}

/// Whether a ClusterRole aggregates (`hasAggregationRule`): a rule with at least one selector.
pub fn has_aggregation_rule(role: &ClusterRole) -> bool {
    role.aggregation_rule
        .as_ref()
        .and_then(|a| a.cluster_role_selectors.as_ref())
        .is_some_and(|s| !s.is_empty())
}

/// The rules of cluster-admin (`fullAuthority` in the clusterrole storage).
fn full_authority() -> Vec<PolicyRule> {
    vec![
        PolicyRule {
            verbs: vec![ALL.into()],
            api_groups: Some(vec![ALL.into()]),
            resources: Some(vec![ALL.into()]),
            ..Default::default()
        },
        PolicyRule {
            verbs: vec![ALL.into()],
            non_resource_urls: Some(vec![ALL.into()]),
            ..Default::default()
        },
    ]
}

/// Whether `user` may write the role; mirrors `policybased.Storage.Create/Update` of roles and
/// clusterroles.
///
/// Allowed are `system:masters`, users granted `escalate` on the role resource (for the URL's
/// name, so on create only a grant without resourceNames helps), and users who already hold
/// every rule; an aggregation rule further needs cluster-admin's rules. Otherwise the 403 reads `roles.rbac.authorization.k8s.io "x" is forbidden: user
/// "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not
/// currently held:\n{APIGroups:[""], Resources:["services"], Verbs:["create"]}`.
pub fn check_role_write<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    write: &RoleWrite<'_>,
    resolver: &R,
) -> Result<(), Box<Status>> {
    if is_privileged(user) || write.only_gc_fields_changed {
        return Ok(());
    }
    let resource = write.resource.plural();
    let escalate = Attributes::resource(
        user,
        "escalate",
        GROUP_NAME,
        resource,
        write.namespace,
        write.path_name,
    );
    if authorize(&escalate, resolver).is_allowed() {
        return Ok(());
    }
    if let Some(msg) = confirm_no_escalation(user, write.namespace, write.rules, resolver) {
        return Err(Box::new(forbidden(GROUP_NAME, resource, write.name, &msg)));
    }
    if write.aggregation_rule
        && confirm_no_escalation(user, write.namespace, &full_authority(), resolver).is_some()
    {
        return Err(Box::new(forbidden(
            GROUP_NAME,
            resource,
            write.name,
            "must have cluster-admin privileges to use the aggregationRule",
        )));
    }
    Ok(())
}

/// Which binding resource a write is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingResource {
    /// `rolebindings`, namespaced.
    RoleBindings,
    /// `clusterrolebindings`.
    ClusterRoleBindings,
}

/// A create or update of a RoleBinding or ClusterRoleBinding, as the registry sees it.
#[derive(Debug, Clone, Copy)]
pub struct BindingWrite<'a> {
    /// RoleBindings or ClusterRoleBindings.
    pub resource: BindingResource,
    /// The namespace of the request; empty for ClusterRoleBindings.
    pub namespace: &'a str,
    /// The object's `metadata.name`, which the 403 names.
    pub name: &'a str,
    /// The role the binding grants.
    pub role_ref: &'a RoleRef,
    /// An update that changes only what the garbage collector needs is never checked.
    pub only_gc_fields_changed: bool,
}

/// Whether `user` may write the binding; mirrors `policybased.Storage.Create/Update` of
/// rolebindings and clusterrolebindings.
///
/// Allowed are `system:masters`, users granted `bind` on the referenced role (in the
/// binding's namespace, or cluster-wide for a ClusterRoleBinding), and users who hold every
/// rule of the role. A referenced role that does not exist is a 404 (`clusterroles.rbac.
/// authorization.k8s.io "x" not found`); a roleRef kind that is neither Role nor ClusterRole
/// fails upstream with a 500 before validation sees it.
pub fn check_binding_write<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    write: &BindingWrite<'_>,
    resolver: &R,
) -> Result<(), Box<Status>> {
    if is_privileged(user) || write.only_gc_fields_changed {
        return Ok(());
    }
    if binding_authorized(user, write.role_ref, write.namespace, resolver) {
        return Ok(());
    }
    let rules = role_reference_rules(
        resolver,
        write.role_ref,
        write.namespace,
        LookupVia::Storage,
    )
    .map_err(|e| match e {
        ResolveError::NotFound { resource, ref name } => {
            let kind = if resource == "roles" {
                KIND_ROLE
            } else {
                KIND_CLUSTER_ROLE
            };
            Status::not_found(
                Resource {
                    group: GROUP_NAME,
                    plural: resource,
                    kind,
                },
                name,
            )
        }
        other => Status::internal(other.to_string()),
    })?;
    let resource = match write.resource {
        BindingResource::RoleBindings => "rolebindings",
        BindingResource::ClusterRoleBindings => "clusterrolebindings",
    };
    match confirm_no_escalation(user, write.namespace, &rules, resolver) {
        None => Ok(()),
        Some(msg) => Err(Box::new(forbidden(GROUP_NAME, resource, write.name, &msg))),
    }
}

/// Whether the user holds `bind` on the referenced role; mirrors `BindingAuthorized`.
pub fn binding_authorized<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    role_ref: &RoleRef,
    binding_namespace: &str,
    resolver: &R,
) -> bool {
    let resource = match role_ref.kind.as_str() {
        KIND_CLUSTER_ROLE => "clusterroles",
        KIND_ROLE => "roles",
        _ => return false,
    };
    let attrs = Attributes::resource(
        user,
        "bind",
        &role_ref.api_group,
        resource,
        binding_namespace,
        &role_ref.name,
    );
    authorize(&attrs, resolver).is_allowed()
}

/// Whether `new` differs from `old` only in owner references, finalizers, selfLink or managed
/// fields, the fields the garbage collector writes; mirrors `rbacregistry.IsOnlyMutatingGCFields`.
pub fn only_gc_fields_changed<T>(new: &T, old: &T) -> bool
where
    T: Metadata<Ty = ObjectMeta> + Clone + PartialEq,
{
    let mut copied = new.clone();
    let old_meta = old.metadata();
    let meta = copied.metadata_mut();
    meta.owner_references = old_meta.owner_references.clone();
    meta.finalizers = old_meta.finalizers.clone();
    meta.self_link = old_meta.self_link.clone();
    meta.managed_fields = old_meta.managed_fields.clone();
    copied == *old
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::authorizer::StaticPolicy;
    use crate::rbac::rules::{rule, url_rule};
    use crate::rbac::{KIND_GROUP, KIND_USER};
    use k8s_openapi::api::rbac::v1::{
        AggregationRule, ClusterRoleBinding, Role, RoleBinding, Subject,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    fn named(mut r: PolicyRule, names: &[&str]) -> PolicyRule {
        r.resource_names = Some(names.iter().map(|s| s.to_string()).collect());
        r
    }

    fn meta(namespace: Option<&str>, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            ..Default::default()
        }
    }

    fn role_ref(kind: &str, name: &str) -> RoleRef {
        RoleRef {
            api_group: GROUP_NAME.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    fn user_subject(kind: &str, name: &str) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            api_group: Some(GROUP_NAME.into()),
            namespace: None,
        }
    }

    #[test]
    fn covers_follows_upstream_cases() {
        let owner = [rule(&["get", "list"], &[""], &["services", "pods/*"])];
        assert!(covers(&owner, &[rule(&["get"], &[""], &["services"])]).0);
        assert!(
            covers(
                &owner,
                &[named(rule(&["get"], &[""], &["services"]), &["web"])]
            )
            .0
        );
        // `pods/*` is no wildcard for covers either: only the literal `pods/*` is covered.
        assert!(!covers(&owner, &[rule(&["get"], &[""], &["pods/log"])]).0);
        assert!(covers(&owner, &[rule(&["get"], &[""], &["pods/*"])]).0);

        let star_sub = [rule(&["get"], &[""], &["*/status"])];
        assert!(covers(&star_sub, &[rule(&["get"], &[""], &["services/status"])]).0);
        assert!(!covers(&star_sub, &[rule(&["get"], &[""], &["services"])]).0);

        let all = [rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])];
        assert!(
            covers(
                &all,
                &[
                    rule(&["escalate"], &["x"], &["y"]),
                    url_rule(&["get"], &["/z"])
                ]
            )
            .0
        );
        // A resource-only owner never covers a URL.
        assert!(!covers(&all[..1], &[url_rule(&["get"], &["/healthz"])]).0);

        let urls = [url_rule(&["get"], &["/api/*", "/healthz"])];
        assert!(covers(&urls, &[url_rule(&["get"], &["/api/v1", "/healthz"])]).0);
        assert!(!covers(&urls, &[url_rule(&["get"], &["/healthz/etcd"])]).0);

        // Names: a named owner rule never covers an unnamed request.
        let named_owner = [named(rule(&["get"], &[""], &["services"]), &["web"])];
        assert!(!covers(&named_owner, &[rule(&["get"], &[""], &["services"])]).0);
        assert!(
            !covers(
                &named_owner,
                &[named(rule(&["get"], &[""], &["services"]), &["db"])]
            )
            .0
        );
    }

    #[test]
    fn covers_returns_the_broken_down_rules_that_are_missing() {
        let owner = [rule(&["get"], &[""], &["services"])];
        let (ok, missing) = covers(
            &owner,
            &[rule(&["get", "create"], &["", "apps"], &["services"])],
        );
        assert!(!ok);
        let printed: Vec<String> = missing.iter().map(compact_string).collect();
        assert_eq!(
            printed,
            vec![
                "{APIGroups:[\"\"], Resources:[\"services\"], Verbs:[\"create\"]}",
                "{APIGroups:[\"apps\"], Resources:[\"services\"], Verbs:[\"get\"]}",
                "{APIGroups:[\"apps\"], Resources:[\"services\"], Verbs:[\"create\"]}",
            ]
        );
    }

    #[test]
    fn compact_rules_merges_verbs_of_one_group_resource_and_name() {
        let missing = breakdown_rule(&rule(&["get", "list"], &[""], &["services", "pods"]));
        let printed: BTreeSet<String> =
            compact_rules(&missing).iter().map(compact_string).collect();
        assert_eq!(
            printed.into_iter().collect::<Vec<_>>(),
            vec![
                "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\" \"list\"]}",
                "{APIGroups:[\"\"], Resources:[\"services\"], Verbs:[\"get\" \"list\"]}",
            ]
        );
        let named_missing = breakdown_rule(&named(
            rule(&["get", "update"], &["apps"], &["deployments"]),
            &["d"],
        ));
        assert_eq!(
            compact_rules(&named_missing)
                .iter()
                .map(compact_string)
                .collect::<Vec<_>>(),
            vec![
                "{APIGroups:[\"apps\"], Resources:[\"deployments\"], ResourceNames:[\"d\"], Verbs:[\"get\" \"update\"]}"
            ]
        );
    }

    fn policy() -> StaticPolicy {
        StaticPolicy {
            cluster_roles: vec![
                ClusterRole {
                    metadata: meta(None, "reader"),
                    rules: Some(vec![rule(&["get", "list", "watch"], &[""], &["services"])]),
                    ..Default::default()
                },
                ClusterRole {
                    metadata: meta(None, "binder"),
                    rules: Some(vec![named(
                        rule(&["bind"], &[GROUP_NAME], &["clusterroles"]),
                        &["admin"],
                    )]),
                    ..Default::default()
                },
                ClusterRole {
                    metadata: meta(None, "escalator"),
                    rules: Some(vec![rule(&["escalate"], &[GROUP_NAME], &["roles"])]),
                    ..Default::default()
                },
                ClusterRole {
                    metadata: meta(None, "admin"),
                    rules: Some(vec![rule(&["*"], &["*"], &["*"])]),
                    ..Default::default()
                },
            ],
            roles: vec![Role {
                metadata: meta(Some("default"), "writer"),
                rules: Some(vec![rule(&["create"], &[""], &["services"])]),
            }],
            cluster_role_bindings: vec![ClusterRoleBinding {
                metadata: meta(None, "readers"),
                role_ref: role_ref(KIND_CLUSTER_ROLE, "reader"),
                subjects: Some(vec![user_subject(KIND_GROUP, "system:authenticated")]),
            }],
            role_bindings: vec![
                RoleBinding {
                    metadata: meta(Some("default"), "binders"),
                    role_ref: role_ref(KIND_CLUSTER_ROLE, "binder"),
                    subjects: Some(vec![user_subject(KIND_USER, "binder")]),
                },
                RoleBinding {
                    metadata: meta(Some("default"), "escalators"),
                    role_ref: role_ref(KIND_CLUSTER_ROLE, "escalator"),
                    subjects: Some(vec![user_subject(KIND_USER, "escalator")]),
                },
                RoleBinding {
                    metadata: meta(Some("default"), "broken"),
                    role_ref: role_ref(KIND_CLUSTER_ROLE, "gone"),
                    subjects: Some(vec![user_subject(KIND_USER, "broken")]),
                },
            ],
        }
    }

    fn role_write<'a>(rules: &'a [PolicyRule]) -> RoleWrite<'a> {
        RoleWrite {
            resource: RoleResource::Roles,
            namespace: "default",
            path_name: "",
            name: "new-role",
            rules,
            only_gc_fields_changed: false,
            aggregation_rule: false,
        }
    }

    #[test]
    fn granting_held_rules_is_allowed_and_others_forbidden_word_for_word() {
        let bob = UserInfo::authenticated("bob", []);
        let held = [rule(&["get"], &[""], &["services"])];
        assert_eq!(
            check_role_write(&bob, &role_write(&held), &policy()),
            Ok(())
        );

        let more = [
            rule(&["get", "create"], &[""], &["services"]),
            rule(&["delete"], &["apps"], &["deployments"]),
        ];
        let status = check_role_write(&bob, &role_write(&more), &policy()).unwrap_err();
        assert_eq!(status.code, 403);
        assert_eq!(
            status.message,
            "roles.rbac.authorization.k8s.io \"new-role\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"services\"], Verbs:[\"create\"]}\n{APIGroups:[\"apps\"], Resources:[\"deployments\"], Verbs:[\"delete\"]}"
        );
        let details = status.details.unwrap();
        assert_eq!(
            (
                details.group.as_str(),
                details.kind.as_str(),
                details.name.as_str()
            ),
            (GROUP_NAME, "roles", "new-role")
        );
    }

    #[test]
    fn resolution_errors_are_appended() {
        let broken = UserInfo::authenticated("broken", []);
        let more = [rule(&["create"], &[""], &["services"])];
        let status = check_role_write(&broken, &role_write(&more), &policy()).unwrap_err();
        assert!(
            status.message.ends_with(
                "Verbs:[\"create\"]}; resolution errors: [clusterroles.rbac.authorization.k8s.io \"gone\" not found]"
            ),
            "{}",
            status.message
        );
    }

    #[test]
    fn masters_escalate_and_gc_only_updates_skip_the_check() {
        let admin = UserInfo::authenticated("admin", [crate::user::MASTERS.to_string()]);
        let anything = [rule(&["*"], &["*"], &["*"])];
        assert_eq!(
            check_role_write(&admin, &role_write(&anything), &policy()),
            Ok(())
        );
        let bob = UserInfo::authenticated("bob", []);
        let gc_only = RoleWrite {
            only_gc_fields_changed: true,
            ..role_write(&anything)
        };
        assert_eq!(check_role_write(&bob, &gc_only, &policy()), Ok(()));
    }

    #[test]
    fn the_escalate_verb_allows_granting_anything() {
        let escalator = UserInfo::authenticated("escalator", []);
        let anything = [rule(&["*"], &["*"], &["*"])];
        assert_eq!(
            check_role_write(&escalator, &role_write(&anything), &policy()),
            Ok(())
        );
        // The RoleBinding grants escalate only in its namespace.
        let cluster = RoleWrite {
            resource: RoleResource::ClusterRoles,
            namespace: "",
            ..role_write(&anything)
        };
        let status = check_role_write(&escalator, &cluster, &policy()).unwrap_err();
        assert!(status.message.starts_with(
            "clusterroles.rbac.authorization.k8s.io \"new-role\" is forbidden: user \"escalator\""
        ));
    }

    #[test]
    fn an_aggregation_rule_needs_cluster_admin_rules() {
        let bob = UserInfo::authenticated("bob", []);
        let write = RoleWrite {
            resource: RoleResource::ClusterRoles,
            namespace: "",
            aggregation_rule: true,
            ..role_write(&[])
        };
        let status = check_role_write(&bob, &write, &policy()).unwrap_err();
        assert_eq!(
            status.message,
            "clusterroles.rbac.authorization.k8s.io \"new-role\" is forbidden: must have cluster-admin privileges to use the aggregationRule"
        );
        let mut p = policy();
        p.cluster_role_bindings.push(ClusterRoleBinding {
            metadata: meta(None, "bob-admin"),
            role_ref: role_ref(KIND_CLUSTER_ROLE, "everything"),
            subjects: Some(vec![user_subject(KIND_USER, "bob")]),
        });
        p.cluster_roles.push(ClusterRole {
            metadata: meta(None, "everything"),
            rules: Some(full_authority()),
            ..Default::default()
        });
        assert_eq!(check_role_write(&bob, &write, &p), Ok(()));

        let mut role = ClusterRole::default();
        assert!(!has_aggregation_rule(&role));
        role.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![]),
        });
        assert!(!has_aggregation_rule(&role));
        role.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector::default()]),
        });
        assert!(has_aggregation_rule(&role));
    }

    fn binding_write<'a>(role_ref: &'a RoleRef) -> BindingWrite<'a> {
        BindingWrite {
            resource: BindingResource::RoleBindings,
            namespace: "default",
            name: "b",
            role_ref,
            only_gc_fields_changed: false,
        }
    }

    #[test]
    fn binding_needs_the_roles_rules_or_bind_on_it() {
        let bob = UserInfo::authenticated("bob", []);
        let reader = role_ref(KIND_CLUSTER_ROLE, "reader");
        assert_eq!(
            check_binding_write(&bob, &binding_write(&reader), &policy()),
            Ok(())
        );

        let writer = role_ref(KIND_ROLE, "writer");
        let status = check_binding_write(&bob, &binding_write(&writer), &policy()).unwrap_err();
        assert_eq!(
            status.message,
            "rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"services\"], Verbs:[\"create\"]}"
        );

        let binder = UserInfo::authenticated("binder", []);
        let admin = role_ref(KIND_CLUSTER_ROLE, "admin");
        assert_eq!(
            check_binding_write(&binder, &binding_write(&admin), &policy()),
            Ok(())
        );
        // bind is granted for `admin` in `default` only.
        let cluster = BindingWrite {
            resource: BindingResource::ClusterRoleBindings,
            namespace: "",
            ..binding_write(&admin)
        };
        let status = check_binding_write(&binder, &cluster, &policy()).unwrap_err();
        assert!(status.message.starts_with(
            "clusterrolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"binder\""
        ));
    }

    #[test]
    fn binding_a_missing_role_is_not_found_and_a_bad_kind_internal() {
        let bob = UserInfo::authenticated("bob", []);
        let gone = role_ref(KIND_CLUSTER_ROLE, "gone");
        let status = check_binding_write(&bob, &binding_write(&gone), &policy()).unwrap_err();
        assert_eq!(
            (status.code, status.message.as_str()),
            (
                404,
                "clusterroles.rbac.authorization.k8s.io \"gone\" not found"
            )
        );
        let gone_role = role_ref(KIND_ROLE, "gone");
        let status = check_binding_write(&bob, &binding_write(&gone_role), &policy()).unwrap_err();
        assert_eq!(
            status.message,
            "roles.rbac.authorization.k8s.io \"gone\" not found"
        );
        let odd = role_ref("Other", "x");
        let status = check_binding_write(&bob, &binding_write(&odd), &policy()).unwrap_err();
        assert_eq!(
            (status.code, status.message.as_str()),
            (
                500,
                "Internal error occurred: unsupported role reference kind: \"Other\""
            )
        );
    }

    #[test]
    fn gc_field_changes_are_recognised() {
        let old = Role {
            metadata: meta(Some("default"), "r"),
            rules: Some(vec![rule(&["get"], &[""], &["services"])]),
        };
        let mut new = old.clone();
        new.metadata.finalizers = Some(vec!["x".into()]);
        assert!(only_gc_fields_changed(&new, &old));
        new.rules = Some(vec![rule(&["*"], &["*"], &["*"])]);
        assert!(!only_gc_fields_changed(&new, &old));
    }
}
