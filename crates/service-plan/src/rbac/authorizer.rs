//! The RBAC authorizer: which bindings apply to a user, the rules of the roles they name, and
//! the decision for one request. Mirrors `plugin/pkg/auth/authorizer/rbac/rbac.go` and the
//! `DefaultRuleResolver` of `pkg/registry/rbac/validation/rule.go`.
//!
//! The server answers lookups through [`RuleResolver`]; this module never stores anything.

use std::borrow::Cow;
use std::fmt;
use std::ops::ControlFlow;

use k8s_openapi::api::authorization::v1::{
    NonResourceRule, ResourceRule, SubjectRulesReviewStatus,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::request_info::RequestInfo;
use super::rules::{items, rule_allows};
use super::{
    GROUP_NAME, KIND_CLUSTER_ROLE, KIND_GROUP, KIND_ROLE, KIND_SERVICE_ACCOUNT, KIND_USER,
};
use crate::field::go_quote;
use crate::status::Status;
use crate::user::{UserInfo, service_account_user};

/// What is asked of the authorizer; mirrors `authorizer.Attributes` (`AttributesRecord`).
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    /// Who asks.
    pub user: &'a UserInfo,
    /// The kube verb, or the lower-case HTTP method of a non-resource request.
    pub verb: &'a str,
    /// Whether this is a resource request (else `path` is what is asked for).
    pub is_resource_request: bool,
    /// The URL path of a non-resource request.
    pub path: &'a str,
    /// The namespace; empty for cluster-scoped requests.
    pub namespace: &'a str,
    /// The API group; `""` for core.
    pub api_group: &'a str,
    /// The API version (upstream passes `*` for its internal checks).
    pub api_version: &'a str,
    /// The resource, e.g. `services`.
    pub resource: &'a str,
    /// The subresource, e.g. `status`.
    pub subresource: &'a str,
    /// The object name; empty for create, list, watch and deletecollection.
    pub name: &'a str,
}

impl<'a> Attributes<'a> {
    /// The attributes of an HTTP request, as `WithAuthorization` builds them from its
    /// `RequestInfo` (`GetAuthorizerAttributes`).
    pub fn for_request(user: &'a UserInfo, info: &'a RequestInfo) -> Attributes<'a> {
        Attributes {
            user,
            verb: &info.verb,
            is_resource_request: info.is_resource_request,
            path: &info.path,
            namespace: &info.namespace,
            api_group: &info.api_group,
            api_version: &info.api_version,
            resource: &info.resource,
            subresource: &info.subresource,
            name: &info.name,
        }
    }

    /// A resource check such as the registry makes for itself (`bind`, `escalate`): no
    /// subresource, version `*`.
    pub fn resource(
        user: &'a UserInfo,
        verb: &'a str,
        api_group: &'a str,
        resource: &'a str,
        namespace: &'a str,
        name: &'a str,
    ) -> Attributes<'a> {
        Attributes {
            user,
            verb,
            is_resource_request: true,
            path: "",
            namespace,
            api_group,
            api_version: "*",
            resource,
            subresource: "",
            name,
        }
    }

    /// A non-resource check: `verb` on `path`.
    pub fn non_resource(user: &'a UserInfo, verb: &'a str, path: &'a str) -> Attributes<'a> {
        Attributes {
            user,
            verb,
            is_resource_request: false,
            path,
            namespace: "",
            api_group: "",
            api_version: "",
            resource: "",
            subresource: "",
            name: "",
        }
    }
}

/// The RBAC authorizer's answer. RBAC only ever grants: a request no rule allows gets "no
/// opinion", which kube-apiserver turns into 403 when no other authorizer allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, with the reason `RBAC: allowed by ClusterRoleBinding "…" of ClusterRole "…"
    /// to Group "…"`.
    Allow(String),
    /// Not allowed; the reason is empty, or `RBAC: …` naming the bindings that could not be
    /// resolved. The 403 message ends with it.
    NoOpinion(String),
}

impl Decision {
    /// Whether the request may proceed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    /// The reason text, possibly empty.
    pub fn reason(&self) -> &str {
        match self {
            Decision::Allow(r) | Decision::NoOpinion(r) => r,
        }
    }
}

/// The lookups the authorizer needs from the store, as upstream's `RoleGetter`,
/// `RoleBindingLister`, `ClusterRoleGetter` and `ClusterRoleBindingLister`.
///
/// `Ok(None)` means "no such object"; `Err` carries a store failure, which the authorizer
/// reports in its reason but does not let stop it (rules are additive).
pub trait RuleResolver {
    /// The ClusterRole called `name`.
    fn cluster_role(&self, name: &str) -> Result<Option<Cow<'_, ClusterRole>>, String>;
    /// The Role `namespace/name`.
    fn role(&self, namespace: &str, name: &str) -> Result<Option<Cow<'_, Role>>, String>;
    /// Every ClusterRoleBinding.
    fn cluster_role_bindings(&self) -> Result<Cow<'_, [ClusterRoleBinding]>, String>;
    /// Every RoleBinding of `namespace`.
    fn role_bindings(&self, namespace: &str) -> Result<Cow<'_, [RoleBinding]>, String>;
}

/// A resolver over lists held in memory, as upstream's `StaticRoles`; handy for tests and for
/// a policy that lives only in memory (the bootstrap policy before the store has it).
#[derive(Debug, Clone, Default)]
pub struct StaticPolicy {
    /// ClusterRoles, looked up by name.
    pub cluster_roles: Vec<ClusterRole>,
    /// Roles, looked up by namespace and name.
    pub roles: Vec<Role>,
    /// ClusterRoleBindings, walked in this order.
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
    /// RoleBindings of every namespace, walked in this order.
    pub role_bindings: Vec<RoleBinding>,
}

impl RuleResolver for StaticPolicy {
    fn cluster_role(&self, name: &str) -> Result<Option<Cow<'_, ClusterRole>>, String> {
        Ok(self
            .cluster_roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
            .map(Cow::Borrowed))
    }

    fn role(&self, namespace: &str, name: &str) -> Result<Option<Cow<'_, Role>>, String> {
        Ok(self
            .roles
            .iter()
            .find(|r| {
                r.metadata.namespace.as_deref() == Some(namespace)
                    && r.metadata.name.as_deref() == Some(name)
            })
            .map(Cow::Borrowed))
    }

    fn cluster_role_bindings(&self) -> Result<Cow<'_, [ClusterRoleBinding]>, String> {
        Ok(Cow::Borrowed(&self.cluster_role_bindings))
    }

    fn role_bindings(&self, namespace: &str) -> Result<Cow<'_, [RoleBinding]>, String> {
        Ok(Cow::Owned(
            self.role_bindings
                .iter()
                .filter(|b| b.metadata.namespace.as_deref() == Some(namespace))
                .cloned()
                .collect(),
        ))
    }
}

/// Where role lookups come from, which changes only the text of a "not found".
///
/// The authorizer reads informer listers (`clusterrole.rbac.authorization.k8s.io "x" not
/// found`); the RBAC registry's escalation checks read storage (`clusterroles.rbac…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupVia {
    /// Informer listers: singular resource names in errors.
    Cache,
    /// The registry's storage: plural resource names, and a 404 when surfaced.
    Storage,
}

/// Why the rules of a binding could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// The referenced role does not exist; `resource` is as the lookup names it.
    NotFound {
        resource: &'static str,
        name: String,
    },
    /// `roleRef.kind` is neither Role nor ClusterRole.
    UnsupportedKind(String),
    /// The store failed.
    Failed(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound { resource, name } => {
                write!(f, "{resource}.{GROUP_NAME} {} not found", go_quote(name))
            }
            ResolveError::UnsupportedKind(kind) => {
                write!(f, "unsupported role reference kind: {}", go_quote(kind))
            }
            ResolveError::Failed(msg) => f.write_str(msg),
        }
    }
}

/// The rules a roleRef names, looked up in `binding_namespace` for a Role; mirrors
/// `GetRoleReferenceRules`.
pub fn role_reference_rules<R: RuleResolver + ?Sized>(
    resolver: &R,
    role_ref: &RoleRef,
    binding_namespace: &str,
    via: LookupVia,
) -> Result<Vec<PolicyRule>, ResolveError> {
    let not_found = |resource: &'static str| ResolveError::NotFound {
        resource,
        name: role_ref.name.clone(),
    };
    match role_ref.kind.as_str() {
        KIND_ROLE => {
            let role = resolver
                .role(binding_namespace, &role_ref.name)
                .map_err(ResolveError::Failed)?
                .ok_or_else(|| {
                    not_found(match via {
                        LookupVia::Cache => "role",
                        LookupVia::Storage => "roles",
                    })
                })?;
            Ok(role.rules.clone().unwrap_or_default())
        }
        KIND_CLUSTER_ROLE => {
            let role = resolver
                .cluster_role(&role_ref.name)
                .map_err(ResolveError::Failed)?
                .ok_or_else(|| {
                    not_found(match via {
                        LookupVia::Cache => "clusterrole",
                        LookupVia::Storage => "clusterroles",
                    })
                })?;
            Ok(role.rules.clone().unwrap_or_default())
        }
        other => Err(ResolveError::UnsupportedKind(other.to_string())),
    }
}

/// Whether a binding subject is the user; mirrors `appliesToUser`.
///
/// A ServiceAccount subject without a namespace takes the binding's namespace, so in a
/// ClusterRoleBinding (no namespace) it matches nobody.
pub fn applies_to_user(user: &UserInfo, subject: &Subject, binding_namespace: &str) -> bool {
    match subject.kind.as_str() {
        KIND_USER => user.name == subject.name,
        KIND_GROUP => user.in_group(&subject.name),
        KIND_SERVICE_ACCOUNT => {
            let namespace = subject
                .namespace
                .as_deref()
                .filter(|ns| !ns.is_empty())
                .unwrap_or(binding_namespace);
            !namespace.is_empty() && user.name == service_account_user(namespace, &subject.name)
        }
        _ => false,
    }
}

/// The binding that granted a rule, printed as upstream's describers do.
#[derive(Debug, Clone, Copy)]
pub enum RuleSource<'b> {
    /// `ClusterRoleBinding "name" of ClusterRole "role" to Group "g"`.
    ClusterRoleBinding {
        binding: &'b ClusterRoleBinding,
        subject: &'b Subject,
    },
    /// `RoleBinding "name/namespace" of Role "role" to User "u"`.
    RoleBinding {
        binding: &'b RoleBinding,
        subject: &'b Subject,
    },
}

impl fmt::Display for RuleSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSource::ClusterRoleBinding { binding, subject } => write!(
                f,
                "ClusterRoleBinding {} of {} {} to {}",
                go_quote(binding.metadata.name.as_deref().unwrap_or_default()),
                binding.role_ref.kind,
                go_quote(&binding.role_ref.name),
                describe_subject(subject, "")
            ),
            RuleSource::RoleBinding { binding, subject } => {
                let namespace = binding.metadata.namespace.as_deref().unwrap_or_default();
                let name = binding.metadata.name.as_deref().unwrap_or_default();
                write!(
                    f,
                    "RoleBinding {} of {} {} to {}",
                    go_quote(&format!("{name}/{namespace}")),
                    binding.role_ref.kind,
                    go_quote(&binding.role_ref.name),
                    describe_subject(subject, namespace)
                )
            }
        }
    }
}

/// `describeSubject`: a ServiceAccount prints as `name/namespace` (in that order upstream).
fn describe_subject(subject: &Subject, binding_namespace: &str) -> String {
    if subject.kind == KIND_SERVICE_ACCOUNT {
        let namespace = subject
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .unwrap_or(binding_namespace);
        return format!(
            "{} {}",
            subject.kind,
            go_quote(&format!("{}/{namespace}", subject.name))
        );
    }
    format!("{} {}", subject.kind, go_quote(&subject.name))
}

/// One step of [`visit_rules_for`]: a rule with its source, or a resolution error.
#[derive(Debug)]
pub enum Visit<'b> {
    /// A rule that applies, and the binding that granted it.
    Rule {
        source: RuleSource<'b>,
        rule: &'b PolicyRule,
    },
    /// A binding whose rules could not be read, or a list that failed.
    Error(ResolveError),
}

/// Calls `visitor` with every rule that applies to `user` in `namespace` (ClusterRoleBindings
/// first, then the namespace's RoleBindings, each in store order) and every error met on the
/// way; stops when the visitor breaks. Mirrors `DefaultRuleResolver.VisitRulesFor`.
pub fn visit_rules_for<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    namespace: &str,
    resolver: &R,
    via: LookupVia,
    visitor: &mut dyn FnMut(Visit<'_>) -> ControlFlow<()>,
) {
    match resolver.cluster_role_bindings() {
        Err(e) => {
            if visitor(Visit::Error(ResolveError::Failed(e))).is_break() {
                return;
            }
        }
        Ok(bindings) => {
            for binding in bindings.iter() {
                let subjects = binding.subjects.as_deref().unwrap_or_default();
                let Some(subject) = subjects.iter().find(|s| applies_to_user(user, s, "")) else {
                    continue;
                };
                let flow = match role_reference_rules(resolver, &binding.role_ref, "", via) {
                    Err(e) => visitor(Visit::Error(e)),
                    Ok(rules) => {
                        let source = RuleSource::ClusterRoleBinding { binding, subject };
                        visit_rules(&rules, source, visitor)
                    }
                };
                if flow.is_break() {
                    return;
                }
            }
        }
    }

    if namespace.is_empty() {
        return;
    }
    match resolver.role_bindings(namespace) {
        Err(e) => {
            let _ = visitor(Visit::Error(ResolveError::Failed(e)));
        }
        Ok(bindings) => {
            for binding in bindings.iter() {
                let subjects = binding.subjects.as_deref().unwrap_or_default();
                let Some(subject) = subjects
                    .iter()
                    .find(|s| applies_to_user(user, s, namespace))
                else {
                    continue;
                };
                let flow = match role_reference_rules(resolver, &binding.role_ref, namespace, via) {
                    Err(e) => visitor(Visit::Error(e)),
                    Ok(rules) => {
                        let source = RuleSource::RoleBinding { binding, subject };
                        visit_rules(&rules, source, visitor)
                    }
                };
                if flow.is_break() {
                    return;
                }
            }
        }
    }
}

fn visit_rules(
    rules: &[PolicyRule],
    source: RuleSource<'_>,
    visitor: &mut dyn FnMut(Visit<'_>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    for rule in rules {
        visitor(Visit::Rule { source, rule })?;
    }
    ControlFlow::Continue(())
}

/// Every rule that applies to `user` in `namespace`, and the text of each error met;
/// mirrors `DefaultRuleResolver.RulesFor`.
pub fn policy_rules_for<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    namespace: &str,
    resolver: &R,
    via: LookupVia,
) -> (Vec<PolicyRule>, Vec<String>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    visit_rules_for(user, namespace, resolver, via, &mut |visit| {
        match visit {
            Visit::Rule { rule, .. } => rules.push(rule.clone()),
            Visit::Error(e) => errors.push(e.to_string()),
        }
        ControlFlow::Continue(())
    });
    (rules, errors)
}

/// Decides one request; mirrors `RBACAuthorizer.Authorize`.
///
/// `system:masters` is allowed everything through the bootstrap `cluster-admin` binding
/// ([`super::bootstrap`]), not by a special case here. (kube-apiserver also puts a
/// privileged-groups authorizer for `system:masters` before RBAC, so a deleted binding does
/// not lock its members out; [`is_privileged`] is that check.)
pub fn authorize<R: RuleResolver + ?Sized>(attrs: &Attributes<'_>, resolver: &R) -> Decision {
    let mut allowed_by = None;
    let mut errors = Vec::new();
    visit_rules_for(
        attrs.user,
        attrs.namespace,
        resolver,
        LookupVia::Cache,
        &mut |visit| match visit {
            Visit::Rule { source, rule } if rule_allows(attrs, rule) => {
                allowed_by = Some(source.to_string());
                ControlFlow::Break(())
            }
            Visit::Rule { .. } => ControlFlow::Continue(()),
            Visit::Error(e) => {
                errors.push(e.to_string());
                ControlFlow::Continue(())
            }
        },
    );
    if let Some(source) = allowed_by {
        return Decision::Allow(format!("RBAC: allowed by {source}"));
    }
    if errors.is_empty() {
        Decision::NoOpinion(String::new())
    } else {
        Decision::NoOpinion(format!("RBAC: {}", aggregate(&errors)))
    }
}

/// kube-apiserver's authorizer chain for `--authorization-mode=RBAC`: the privileged-groups
/// authorizer first (`system:masters` allowed with an empty reason), then RBAC. Mirrors the
/// union built in `pkg/kubeapiserver/authorizer` with `authorizerfactory.NewPrivilegedGroups`.
pub fn authorize_with_privileged_groups<R: RuleResolver + ?Sized>(
    attrs: &Attributes<'_>,
    resolver: &R,
) -> Decision {
    if is_privileged(attrs.user) {
        return Decision::Allow(String::new());
    }
    authorize(attrs, resolver)
}

/// Whether the user is in `system:masters`, which kube-apiserver's privileged-groups
/// authorizer allows everything and the RBAC registry lets escalate (`EscalationAllowed`).
pub fn is_privileged(user: &UserInfo) -> bool {
    user.in_group(crate::user::MASTERS)
}

/// What a user may do in a namespace, as a SelfSubjectRulesReview reports it (`kubectl auth
/// can-i --list`); mirrors `RBACAuthorizer.RulesFor` and the review's REST handler.
///
/// Resource rules keep their verbs, groups, resources and names; non-resource rules their
/// verbs and URLs. RBAC always enumerates completely, so `incomplete` is false; rules of
/// bindings that could not be resolved are reported in `evaluationError`.
pub fn rules_for<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    namespace: &str,
    resolver: &R,
) -> SubjectRulesReviewStatus {
    let (rules, errors) = policy_rules_for(user, namespace, resolver, LookupVia::Cache);
    let mut status = SubjectRulesReviewStatus {
        evaluation_error: (!errors.is_empty()).then(|| aggregate(&errors)),
        incomplete: false,
        ..Default::default()
    };
    for rule in rules {
        if !items(&rule.resources).is_empty() {
            status.resource_rules.push(ResourceRule {
                verbs: rule.verbs.clone(),
                api_groups: rule.api_groups.clone(),
                resources: rule.resources.clone(),
                resource_names: rule.resource_names.clone(),
            });
        }
        if !items(&rule.non_resource_urls).is_empty() {
            status.non_resource_rules.push(NonResourceRule {
                verbs: rule.verbs,
                non_resource_urls: rule.non_resource_urls,
            });
        }
    }
    status
}

/// The status of a SelfSubjectRulesReview for `spec.namespace`; mirrors the review's REST
/// `Create`, which answers 400 `no namespace on request` when the namespace is empty.
pub fn rules_review<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    spec_namespace: &str,
    resolver: &R,
) -> Result<SubjectRulesReviewStatus, Box<Status>> {
    if spec_namespace.is_empty() {
        return Err(Box::new(Status::bad_request("no namespace on request")));
    }
    Ok(rules_for(user, spec_namespace, resolver))
}

/// `utilerrors.NewAggregate(errs).Error()`: one error as is, several de-duplicated in `[…]`.
pub(crate) fn aggregate(errors: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [one] => one.to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::rules::{rule, url_rule};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub(crate) fn meta(namespace: Option<&str>, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            ..Default::default()
        }
    }

    pub(crate) fn subject(kind: &str, name: &str, namespace: Option<&str>) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: namespace.map(Into::into),
            api_group: (kind != KIND_SERVICE_ACCOUNT).then(|| GROUP_NAME.into()),
        }
    }

    fn role_ref(kind: &str, name: &str) -> RoleRef {
        RoleRef {
            api_group: GROUP_NAME.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    fn policy() -> StaticPolicy {
        StaticPolicy {
            cluster_roles: vec![
                ClusterRole {
                    metadata: meta(None, "service-reader"),
                    rules: Some(vec![rule(&["get", "list", "watch"], &[""], &["services"])]),
                    ..Default::default()
                },
                ClusterRole {
                    metadata: meta(None, "healthz"),
                    rules: Some(vec![url_rule(&["get"], &["/healthz"])]),
                    ..Default::default()
                },
            ],
            roles: vec![Role {
                metadata: meta(Some("default"), "service-writer"),
                rules: Some(vec![rule(&["create", "update"], &[""], &["services"])]),
            }],
            cluster_role_bindings: vec![
                ClusterRoleBinding {
                    metadata: meta(None, "readers"),
                    role_ref: role_ref(KIND_CLUSTER_ROLE, "service-reader"),
                    subjects: Some(vec![
                        subject(KIND_USER, "bob", None),
                        subject(KIND_GROUP, "readers", None),
                    ]),
                },
                ClusterRoleBinding {
                    metadata: meta(None, "everyone-healthz"),
                    role_ref: role_ref(KIND_CLUSTER_ROLE, "healthz"),
                    subjects: Some(vec![subject(KIND_GROUP, "system:authenticated", None)]),
                },
            ],
            role_bindings: vec![
                RoleBinding {
                    metadata: meta(Some("default"), "writers"),
                    role_ref: role_ref(KIND_ROLE, "service-writer"),
                    subjects: Some(vec![subject(KIND_SERVICE_ACCOUNT, "alice", None)]),
                },
                RoleBinding {
                    metadata: meta(Some("other"), "writers"),
                    role_ref: role_ref(KIND_ROLE, "service-writer"),
                    subjects: Some(vec![subject(KIND_USER, "carol", None)]),
                },
            ],
        }
    }

    fn decide(user: &UserInfo, verb: &str, namespace: &str, name: &str) -> Decision {
        let attrs = Attributes::resource(user, verb, "", "services", namespace, name);
        authorize(&attrs, &policy())
    }

    #[test]
    fn a_cluster_role_binding_allows_and_names_itself() {
        let bob = UserInfo::authenticated("bob", []);
        assert_eq!(
            decide(&bob, "list", "default", ""),
            Decision::Allow(
                "RBAC: allowed by ClusterRoleBinding \"readers\" of ClusterRole \"service-reader\" to User \"bob\""
                    .into()
            )
        );
        let reader = UserInfo::authenticated("dave", ["readers".to_string()]);
        assert_eq!(
            decide(&reader, "get", "", "web").reason(),
            "RBAC: allowed by ClusterRoleBinding \"readers\" of ClusterRole \"service-reader\" to Group \"readers\""
        );
        assert_eq!(
            decide(&bob, "create", "default", ""),
            Decision::NoOpinion(String::new())
        );
    }

    #[test]
    fn a_role_binding_service_account_takes_the_binding_namespace() {
        let alice = UserInfo::service_account("default", "alice", "u1");
        assert_eq!(
            decide(&alice, "create", "default", "").reason(),
            "RBAC: allowed by RoleBinding \"writers/default\" of Role \"service-writer\" to ServiceAccount \"alice/default\""
        );
        // The same service account name in another namespace is someone else.
        let other = UserInfo::service_account("kube-system", "alice", "u2");
        assert!(!decide(&other, "create", "default", "").is_allowed());
        // A RoleBinding grants only in its namespace, never cluster-wide.
        assert!(!decide(&alice, "create", "", "").is_allowed());
        assert!(!decide(&alice, "create", "other", "").is_allowed());
    }

    #[test]
    fn a_namespaceless_service_account_in_a_cluster_role_binding_matches_nobody() {
        let sa = subject(KIND_SERVICE_ACCOUNT, "alice", None);
        let user = UserInfo::service_account("default", "alice", "u1");
        assert!(!applies_to_user(&user, &sa, ""));
        assert!(applies_to_user(&user, &sa, "default"));
        assert!(applies_to_user(
            &user,
            &subject(KIND_SERVICE_ACCOUNT, "alice", Some("default")),
            "other"
        ));
        assert!(!applies_to_user(
            &user,
            &subject("Unknown", "alice", None),
            "default"
        ));
    }

    #[test]
    fn missing_roles_are_reported_but_other_bindings_still_count() {
        let mut p = policy();
        p.role_bindings.insert(
            0,
            RoleBinding {
                metadata: meta(Some("default"), "broken"),
                role_ref: role_ref(KIND_CLUSTER_ROLE, "gone"),
                subjects: Some(vec![subject(KIND_USER, "carol", None)]),
            },
        );
        p.role_bindings.push(RoleBinding {
            metadata: meta(Some("default"), "odd"),
            role_ref: role_ref("Other", "x"),
            subjects: Some(vec![subject(KIND_USER, "carol", None)]),
        });
        p.role_bindings.push(RoleBinding {
            metadata: meta(Some("default"), "no-role"),
            role_ref: role_ref(KIND_ROLE, "absent"),
            subjects: Some(vec![subject(KIND_USER, "carol", None)]),
        });
        let carol = UserInfo::authenticated("carol", []);
        let attrs = Attributes::resource(&carol, "get", "", "services", "default", "web");
        assert_eq!(
            authorize(&attrs, &p),
            Decision::NoOpinion(
                "RBAC: [clusterrole.rbac.authorization.k8s.io \"gone\" not found, unsupported role reference kind: \"Other\", role.rbac.authorization.k8s.io \"absent\" not found]"
                    .into()
            )
        );
        p.role_bindings.truncate(1);
        assert_eq!(
            authorize(&attrs, &p).reason(),
            "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
        );
    }

    #[test]
    fn non_resource_requests_are_matched_by_cluster_role_bindings() {
        let bob = UserInfo::authenticated("bob", []);
        assert!(
            authorize(
                &Attributes::non_resource(&bob, "get", "/healthz"),
                &policy()
            )
            .is_allowed()
        );
        assert!(
            !authorize(
                &Attributes::non_resource(&bob, "post", "/healthz"),
                &policy()
            )
            .is_allowed()
        );
        let anonymous = UserInfo::anonymous();
        assert!(
            !authorize(
                &Attributes::non_resource(&anonymous, "get", "/healthz"),
                &policy()
            )
            .is_allowed()
        );
    }

    #[test]
    fn rules_for_lists_resource_and_non_resource_rules_in_binding_order() {
        let alice = UserInfo::service_account("default", "alice", "u1");
        let status = rules_for(&alice, "default", &policy());
        assert!(!status.incomplete);
        assert_eq!(status.evaluation_error, None);
        assert_eq!(
            status.resource_rules,
            vec![ResourceRule {
                verbs: vec!["create".into(), "update".into()],
                api_groups: Some(vec!["".into()]),
                resources: Some(vec!["services".into()]),
                resource_names: None,
            }]
        );
        assert_eq!(
            status.non_resource_rules,
            vec![NonResourceRule {
                verbs: vec!["get".into()],
                non_resource_urls: Some(vec!["/healthz".into()]),
            }]
        );
        // Without a namespace only cluster-wide bindings count.
        assert!(rules_for(&alice, "", &policy()).resource_rules.is_empty());
    }

    #[test]
    fn rules_for_reports_unresolvable_bindings_as_the_evaluation_error() {
        let mut p = policy();
        p.cluster_role_bindings.push(ClusterRoleBinding {
            metadata: meta(None, "broken"),
            role_ref: role_ref(KIND_CLUSTER_ROLE, "gone"),
            subjects: Some(vec![subject(KIND_USER, "bob", None)]),
        });
        let status = rules_for(&UserInfo::authenticated("bob", []), "default", &p);
        assert_eq!(
            status.evaluation_error.as_deref(),
            Some("clusterrole.rbac.authorization.k8s.io \"gone\" not found")
        );
        assert_eq!(status.resource_rules.len(), 1);
    }

    #[test]
    fn a_rules_review_needs_a_namespace() {
        let bob = UserInfo::authenticated("bob", []);
        let status = rules_review(&bob, "", &policy()).unwrap_err();
        assert_eq!(
            (status.code, status.reason.as_str(), status.message.as_str()),
            (400, "BadRequest", "no namespace on request")
        );
        assert_eq!(
            rules_review(&bob, "default", &policy())
                .unwrap()
                .resource_rules
                .len(),
            1
        );
    }

    #[test]
    fn the_privileged_groups_authorizer_allows_masters_without_a_reason() {
        let root = UserInfo::authenticated("root", [crate::user::MASTERS.to_string()]);
        let attrs = Attributes::resource(&root, "delete", "", "nodes", "", "n1");
        assert_eq!(
            authorize(&attrs, &policy()),
            Decision::NoOpinion(String::new())
        );
        assert_eq!(
            authorize_with_privileged_groups(&attrs, &policy()),
            Decision::Allow(String::new())
        );
        let bob = UserInfo::authenticated("bob", []);
        let list = Attributes::resource(&bob, "list", "", "services", "", "");
        assert!(authorize_with_privileged_groups(&list, &policy()).is_allowed());
    }

    #[test]
    fn store_failures_do_not_stop_the_walk() {
        struct Failing;
        impl RuleResolver for Failing {
            fn cluster_role(&self, _: &str) -> Result<Option<Cow<'_, ClusterRole>>, String> {
                Err("boom".into())
            }
            fn role(&self, _: &str, _: &str) -> Result<Option<Cow<'_, Role>>, String> {
                Err("boom".into())
            }
            fn cluster_role_bindings(&self) -> Result<Cow<'_, [ClusterRoleBinding]>, String> {
                Err("list failed".into())
            }
            fn role_bindings(&self, _: &str) -> Result<Cow<'_, [RoleBinding]>, String> {
                Err("list failed too".into())
            }
        }
        let bob = UserInfo::authenticated("bob", []);
        let attrs = Attributes::resource(&bob, "get", "", "services", "default", "web");
        assert_eq!(
            authorize(&attrs, &Failing),
            Decision::NoOpinion("RBAC: [list failed, list failed too]".into())
        );
    }
}
