//! The RBAC objects kube-apiserver creates at start-up, for the resources this server serves.
//! Mirrors `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go` and
//! `controller_policy.go` (v1.32), as rendered in upstream's `testdata/*.yaml`: rule lists
//! sorted as `RuleOrDie` sorts them, every object labelled `kubernetes.io/bootstrapping:
//! rbac-defaults` and annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`.
//!
//! `admin`, `edit` and `view` carry upstream's aggregation rules and, already filled in, the
//! rules the clusterrole-aggregation controller would give them ([`aggregate_rules`]).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector as MetaLabelSelector, ObjectMeta,
};

use super::authorizer::StaticPolicy;
use super::{GROUP_NAME, KIND_CLUSTER_ROLE, KIND_GROUP, KIND_SERVICE_ACCOUNT, KIND_USER};
use crate::lease::election::LEASE_NAME;
use crate::selector::LabelSelector;
use crate::user::{AUTHENTICATED, KUBE_CONTROLLER_MANAGER, MASTERS, UNAUTHENTICATED};

/// The label every bootstrap object carries.
pub const BOOTSTRAPPING_LABEL: &str = "kubernetes.io/bootstrapping";
/// The value of [`BOOTSTRAPPING_LABEL`].
pub const BOOTSTRAPPING_VALUE: &str = "rbac-defaults";
/// `rbacv1.AutoUpdateAnnotationKey`: reconciled at every start while `"true"`.
pub const AUTO_UPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";
/// The label that aggregates a ClusterRole into `admin`.
pub const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
/// The label that aggregates a ClusterRole into `edit`.
pub const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
/// The label that aggregates a ClusterRole into `view`.
pub const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";
/// The prefix of controller roles: `system:controller:endpoint-controller`.
pub const CONTROLLER_ROLE_PREFIX: &str = "system:controller:";
/// The namespace of controller service accounts.
pub const CONTROLLER_NAMESPACE: &str = "kube-system";

const CORE: &str = "";
const APPS: &str = "apps";
const EXTENSIONS: &str = "extensions";
const AUTHENTICATION: &str = "authentication.k8s.io";
const AUTHORIZATION: &str = "authorization.k8s.io";
const AUTOSCALING: &str = "autoscaling";
const COORDINATION: &str = crate::lease::GROUP_NAME;
const BATCH: &str = "batch";
const DISCOVERY: &str = "discovery.k8s.io";
const EVENTS: &str = "events.k8s.io";
const NETWORKING: &str = "networking.k8s.io";
const POLICY: &str = "policy";

/// `Read` in policy.go.
const READ: &[&str] = &["get", "list", "watch"];
/// `Write` in policy.go.
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
/// `ReadWrite` in policy.go.
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// The controllers whose roles and bindings are created, as upstream names them.
pub const CONTROLLERS: [&str; 5] = [
    "deployment-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "replicaset-controller",
    "service-controller",
];

/// A rule with its lists sorted, as `rbacv1helpers.NewRule(...).RuleOrDie()` returns it.
fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    let sorted = |v: &[&str]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    PolicyRule {
        verbs: sorted(verbs),
        api_groups: (!groups.is_empty()).then(|| sorted(groups)),
        resources: (!resources.is_empty()).then(|| sorted(resources)),
        ..Default::default()
    }
}

/// A rule limited to the objects named `names`, as `.Names(...)` builds it.
fn named_rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
    let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    names.sort();
    PolicyRule {
        resource_names: Some(names),
        ..rule(verbs, groups, resources)
    }
}

fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    let mut urls: Vec<String> = urls.iter().map(|s| s.to_string()).collect();
    urls.sort();
    PolicyRule {
        non_resource_urls: Some(urls),
        ..rule(verbs, &[], &[])
    }
}

/// `eventsRule()`: controllers record events through both event APIs.
fn events_rule() -> PolicyRule {
    rule(&["create", "update", "patch"], &[CORE, EVENTS], &["events"])
}

/// `addDefaultMetadata`: the bootstrapping label and the autoupdate annotation.
fn default_meta(name: &str, extra_labels: &[(&str, &str)]) -> ObjectMeta {
    let mut labels: BTreeMap<String, String> = extra_labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.insert(BOOTSTRAPPING_LABEL.into(), BOOTSTRAPPING_VALUE.into());
    ObjectMeta {
        name: Some(name.into()),
        labels: Some(labels),
        annotations: Some(BTreeMap::from([(
            AUTO_UPDATE_ANNOTATION.to_string(),
            "true".to_string(),
        )])),
        ..Default::default()
    }
}

fn cluster_role(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: default_meta(name, labels),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

/// A role filled by aggregation of the roles labelled `aggregate_label: "true"`.
fn aggregated_role(name: &str, labels: &[(&str, &str)], aggregate_label: &str) -> ClusterRole {
    ClusterRole {
        metadata: default_meta(name, labels),
        rules: None,
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(vec![MetaLabelSelector {
                match_labels: Some(BTreeMap::from([(
                    aggregate_label.to_string(),
                    "true".to_string(),
                )])),
                match_expressions: None,
            }]),
        }),
    }
}

/// The user-facing and discovery ClusterRoles (`clusterRoles()` in policy.go), restricted to
/// the ones this server needs, with `admin`, `edit` and `view` already aggregated.
pub fn cluster_roles() -> Vec<ClusterRole> {
    let mut roles = vec![
        // A "root" role which can do absolutely anything.
        cluster_role(
            "cluster-admin",
            &[],
            vec![rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])],
        ),
        // Just enough to tell whether the server is ready and to discover API versions.
        cluster_role(
            "system:discovery",
            &[],
            vec![url_rule(
                &["get"],
                &[
                    "/livez",
                    "/readyz",
                    "/healthz",
                    "/version",
                    "/version/",
                    "/openapi",
                    "/openapi/*",
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                ],
            )],
        ),
        // What a "normal" user needs to learn about themselves.
        cluster_role(
            "system:basic-user",
            &[],
            vec![
                rule(
                    &["create"],
                    &[AUTHORIZATION],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(&["create"], &[AUTHENTICATION], &["selfsubjectreviews"]),
            ],
        ),
        // Insensitive cluster information, for everyone.
        cluster_role(
            "system:public-info-viewer",
            &[],
            vec![url_rule(
                &["get"],
                &["/livez", "/readyz", "/healthz", "/version", "/version/"],
            )],
        ),
        aggregated_role("admin", &[], AGGREGATE_TO_ADMIN),
        aggregated_role("edit", &[(AGGREGATE_TO_ADMIN, "true")], AGGREGATE_TO_EDIT),
        aggregated_role("view", &[(AGGREGATE_TO_EDIT, "true")], AGGREGATE_TO_VIEW),
        cluster_role(
            "system:aggregate-to-admin",
            &[(AGGREGATE_TO_ADMIN, "true")],
            vec![
                rule(
                    &["create"],
                    &[AUTHORIZATION],
                    &["localsubjectaccessreviews"],
                ),
                rule(READ_WRITE, &[GROUP_NAME], &["roles", "rolebindings"]),
            ],
        ),
        cluster_role(
            "system:aggregate-to-edit",
            &[(AGGREGATE_TO_EDIT, "true")],
            aggregate_to_edit_rules(),
        ),
        cluster_role(
            "system:aggregate-to-view",
            &[(AGGREGATE_TO_VIEW, "true")],
            aggregate_to_view_rules(),
        ),
        cluster_role(
            KUBE_CONTROLLER_MANAGER,
            &[],
            kube_controller_manager_rules(),
        ),
    ];
    aggregate_all(&mut roles);
    roles
}

/// `system:kube-controller-manager`: what kube-controller-manager itself (not one of its
/// controllers) does; here, leader election on its own Lease.
fn kube_controller_manager_rules() -> Vec<PolicyRule> {
    vec![
        events_rule(),
        // Needed for leader election.
        rule(&["create"], &[COORDINATION], &["leases"]),
        named_rule(
            &["get", "update"],
            &[COORDINATION],
            &["leases"],
            &[LEASE_NAME],
        ),
        // Fundamental resources.
        rule(&["create"], &[CORE], &["secrets", "serviceaccounts"]),
        rule(&["delete"], &[CORE], &["secrets"]),
        rule(
            &["get"],
            &[CORE],
            &["namespaces", "secrets", "serviceaccounts", "configmaps"],
        ),
        rule(&["update"], &[CORE], &["secrets", "serviceaccounts"]),
        // Needed to check API access. These creates are non-mutating.
        rule(&["create"], &[AUTHENTICATION], &["tokenreviews"]),
        rule(&["create"], &[AUTHORIZATION], &["subjectaccessreviews"]),
        // Needed for all shared informers.
        rule(&["list", "watch"], &["*"], &["*"]),
        rule(&["create"], &[CORE], &["serviceaccounts/token"]),
    ]
}

/// `system:aggregate-to-edit`: write access to user workloads, read access to escalating
/// resources; no `/status`, quota or limits, which are the domain of the system.
fn aggregate_to_edit_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            &[CORE],
            &[
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ],
        ),
        rule(&["impersonate"], &[CORE], &["serviceaccounts"]),
        rule(
            WRITE,
            &[CORE],
            &[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ],
        ),
        rule(&["create"], &[CORE], &["pods/eviction"]),
        rule(
            WRITE,
            &[CORE],
            &[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
                "events",
            ],
        ),
        rule(&["create"], &[CORE], &["serviceaccounts/token"]),
        rule(
            WRITE,
            &[APPS],
            &[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ],
        ),
        rule(WRITE, &[AUTOSCALING], &["horizontalpodautoscalers"]),
        rule(WRITE, &[BATCH], &["jobs", "cronjobs"]),
        rule(
            WRITE,
            &[EXTENSIONS],
            &[
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "ingresses",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
                "networkpolicies",
            ],
        ),
        rule(WRITE, &[POLICY], &["poddisruptionbudgets"]),
        rule(WRITE, &[NETWORKING], &["networkpolicies", "ingresses"]),
    ]
}

/// `system:aggregate-to-view`: read access to non-escalating resources in a namespace.
fn aggregate_to_view_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            &[CORE],
            &[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ],
        ),
        rule(
            READ,
            &[CORE],
            &[
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ],
        ),
        // Reading namespaces at the namespace scope means reading *this* namespace, which
        // tells a user which namespaces they have access to.
        rule(READ, &[CORE], &["namespaces"]),
        rule(READ, &[DISCOVERY], &["endpointslices"]),
        rule(
            READ,
            &[APPS],
            &[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/status",
                "statefulsets/scale",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
            ],
        ),
        rule(
            READ,
            &[AUTOSCALING],
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        rule(
            READ,
            &[BATCH],
            &["jobs", "cronjobs", "cronjobs/status", "jobs/status"],
        ),
        rule(
            READ,
            &[EXTENSIONS],
            &[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
                "networkpolicies",
            ],
        ),
        rule(
            READ,
            &[POLICY],
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        rule(
            READ,
            &[NETWORKING],
            &["ingresses", "ingresses/status", "networkpolicies"],
        ),
    ]
}

/// The ClusterRoles of the controllers in [`CONTROLLERS`] (`buildControllerRoles()` in
/// controller_policy.go).
pub fn controller_roles() -> Vec<ClusterRole> {
    let role = |name: &str, rules: Vec<PolicyRule>| {
        cluster_role(&format!("{CONTROLLER_ROLE_PREFIX}{name}"), &[], rules)
    };
    vec![
        role(
            "deployment-controller",
            vec![
                rule(
                    &["get", "list", "watch", "update"],
                    &[APPS, EXTENSIONS],
                    &["deployments"],
                ),
                rule(&["update"], &[APPS, EXTENSIONS], &["deployments/status"]),
                rule(
                    &["update"],
                    &[APPS, EXTENSIONS],
                    &["deployments/finalizers"],
                ),
                rule(
                    &[
                        "get", "list", "watch", "create", "update", "patch", "delete",
                    ],
                    &[APPS, EXTENSIONS],
                    &["replicasets"],
                ),
                rule(&["get", "list", "watch", "update"], &[CORE], &["pods"]),
                events_rule(),
            ],
        ),
        role(
            "endpoint-controller",
            vec![
                rule(READ, &[CORE], &["services", "pods"]),
                rule(
                    &["get", "list", "create", "update", "delete", "watch"],
                    &[CORE],
                    &["endpoints"],
                ),
                rule(&["create"], &[CORE], &["endpoints/restricted"]),
                events_rule(),
            ],
        ),
        role(
            "endpointslice-controller",
            vec![
                rule(READ, &[CORE], &["services", "pods", "nodes"]),
                // Owner references with blockOwnerDeletion to a Service need update on its finalizers.
                rule(&["update"], &[CORE], &["services/finalizers"]),
                rule(
                    &["get", "list", "create", "update", "delete", "watch"],
                    &[DISCOVERY],
                    &["endpointslices"],
                ),
                events_rule(),
            ],
        ),
        role(
            "replicaset-controller",
            vec![
                rule(
                    &["get", "list", "watch", "update"],
                    &[APPS, EXTENSIONS],
                    &["replicasets"],
                ),
                rule(&["update"], &[APPS, EXTENSIONS], &["replicasets/status"]),
                rule(
                    &["update"],
                    &[APPS, EXTENSIONS],
                    &["replicasets/finalizers"],
                ),
                rule(
                    &["list", "watch", "patch", "create", "delete"],
                    &[CORE],
                    &["pods"],
                ),
                events_rule(),
            ],
        ),
        role(
            "service-controller",
            vec![
                rule(READ, &[CORE], &["services"]),
                rule(&["patch", "update"], &[CORE], &["services/status"]),
                rule(&["list", "watch"], &[CORE], &["nodes"]),
                events_rule(),
            ],
        ),
    ]
}

fn binding(role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: default_meta(role, &[]),
        role_ref: RoleRef {
            api_group: GROUP_NAME.into(),
            kind: KIND_CLUSTER_ROLE.into(),
            name: role.into(),
        },
        subjects: Some(subjects),
    }
}

fn group(name: &str) -> Subject {
    Subject {
        kind: KIND_GROUP.into(),
        api_group: Some(GROUP_NAME.into()),
        name: name.into(),
        namespace: None,
    }
}

/// The ClusterRoleBindings of [`cluster_roles`] (`clusterRoleBindings()` in policy.go):
/// `system:masters` may do everything; authenticated users may discover and learn about
/// themselves; everyone may read the public information.
pub fn cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    vec![
        binding("cluster-admin", vec![group(MASTERS)]),
        binding("system:discovery", vec![group(AUTHENTICATED)]),
        binding("system:basic-user", vec![group(AUTHENTICATED)]),
        binding(
            "system:public-info-viewer",
            vec![group(AUTHENTICATED), group(UNAUTHENTICATED)],
        ),
        binding(
            KUBE_CONTROLLER_MANAGER,
            vec![Subject {
                kind: KIND_USER.into(),
                api_group: Some(GROUP_NAME.into()),
                name: KUBE_CONTROLLER_MANAGER.into(),
                namespace: None,
            }],
        ),
    ]
}

/// One binding per controller role, to the ServiceAccount `kube-system/<controller>`.
pub fn controller_role_bindings() -> Vec<ClusterRoleBinding> {
    CONTROLLERS
        .iter()
        .map(|name| {
            binding(
                &format!("{CONTROLLER_ROLE_PREFIX}{name}"),
                vec![Subject {
                    kind: KIND_SERVICE_ACCOUNT.into(),
                    api_group: None,
                    name: name.to_string(),
                    namespace: Some(CONTROLLER_NAMESPACE.into()),
                }],
            )
        })
        .collect()
}

/// Every bootstrap role and binding, as a resolver: what the server holds before anyone
/// edits the policy.
pub fn policy() -> StaticPolicy {
    let mut cluster_roles = cluster_roles();
    cluster_roles.extend(controller_roles());
    let mut cluster_role_bindings = cluster_role_bindings();
    cluster_role_bindings.extend(controller_role_bindings());
    StaticPolicy {
        cluster_roles,
        cluster_role_bindings,
        ..Default::default()
    }
}

/// The rules the clusterrole-aggregation controller gives an aggregated role, or `None` for a
/// role without an aggregation rule; mirrors `syncClusterRole` in
/// `pkg/controller/clusterroleaggregation`.
///
/// For each selector, the matching roles other than the role itself are taken in name order
/// and their rules appended unless an equal rule is already there. A selector that does not
/// parse matches nothing here (upstream stops syncing the role).
pub fn aggregate_rules(role: &ClusterRole, all: &[ClusterRole]) -> Option<Vec<PolicyRule>> {
    let selectors = role
        .aggregation_rule
        .as_ref()?
        .cluster_role_selectors
        .as_deref()?;
    let mut rules: Vec<PolicyRule> = Vec::new();
    for selector in selectors {
        let Ok(selector) = LabelSelector::from_label_selector(selector) else {
            continue;
        };
        let mut matching: Vec<&ClusterRole> = all
            .iter()
            .filter(|r| r.metadata.name != role.metadata.name)
            .filter(|r| selector.matches(r.metadata.labels.as_ref().unwrap_or(&BTreeMap::new())))
            .collect();
        matching.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        for source in matching {
            for rule in source.rules.as_deref().unwrap_or_default() {
                if !rules.contains(rule) {
                    rules.push(rule.clone());
                }
            }
        }
    }
    Some(rules)
}

/// Runs aggregation until nothing changes, as the controller converges when an aggregated
/// role (`view`) is itself aggregated into another (`edit`).
pub fn aggregate_all(roles: &mut [ClusterRole]) {
    // Each round settles at least one more level of nesting.
    for _ in 0..=roles.len() {
        let mut changed = false;
        for i in 0..roles.len() {
            if let Some(rules) = aggregate_rules(&roles[i], roles)
                && roles[i].rules.as_ref() != Some(&rules)
            {
                roles[i].rules = Some(rules);
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::authorizer::{Attributes, authorize};
    use crate::rbac::rules::compact_string;
    use crate::user::UserInfo;

    fn find<'a>(roles: &'a [ClusterRole], name: &str) -> &'a ClusterRole {
        roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
            .unwrap()
    }

    fn printed(role: &ClusterRole) -> Vec<String> {
        role.rules
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(compact_string)
            .collect()
    }

    #[test]
    fn roles_render_like_upstream_testdata() {
        let roles = cluster_roles();
        assert_eq!(
            serde_json::to_value(find(&roles, "system:public-info-viewer")).unwrap(),
            serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {
                    "name": "system:public-info-viewer",
                    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}
                },
                "rules": [{
                    "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                    "verbs": ["get"]
                }]
            })
        );
        assert_eq!(
            printed(find(&roles, "system:discovery")),
            vec![
                "{NonResourceURLs:[\"/api\" \"/api/*\" \"/apis\" \"/apis/*\" \"/healthz\" \"/livez\" \"/openapi\" \"/openapi/*\" \"/readyz\" \"/version\" \"/version/\"], Verbs:[\"get\"]}"
            ]
        );
        assert_eq!(
            printed(find(&roles, "system:aggregate-to-admin")),
            vec![
                "{APIGroups:[\"authorization.k8s.io\"], Resources:[\"localsubjectaccessreviews\"], Verbs:[\"create\"]}",
                "{APIGroups:[\"rbac.authorization.k8s.io\"], Resources:[\"rolebindings\" \"roles\"], Verbs:[\"create\" \"delete\" \"deletecollection\" \"get\" \"list\" \"patch\" \"update\" \"watch\"]}",
            ]
        );
        let controllers = controller_roles();
        assert_eq!(
            printed(find(&controllers, "system:controller:service-controller")),
            vec![
                "{APIGroups:[\"\"], Resources:[\"services\"], Verbs:[\"get\" \"list\" \"watch\"]}",
                "{APIGroups:[\"\"], Resources:[\"services/status\"], Verbs:[\"patch\" \"update\"]}",
                "{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"list\" \"watch\"]}",
                "{APIGroups:[\"\" \"events.k8s.io\"], Resources:[\"events\"], Verbs:[\"create\" \"patch\" \"update\"]}",
            ]
        );
    }

    #[test]
    fn admin_edit_and_view_are_aggregated_in_name_order() {
        let roles = cluster_roles();
        let view = find(&roles, "view");
        assert_eq!(view.rules, find(&roles, "system:aggregate-to-view").rules);
        let edit = find(&roles, "edit").rules.clone().unwrap();
        let to_edit = find(&roles, "system:aggregate-to-edit")
            .rules
            .clone()
            .unwrap();
        assert_eq!(
            edit.len(),
            to_edit.len() + view.rules.as_ref().unwrap().len()
        );
        assert_eq!(edit[..to_edit.len()], to_edit[..]);
        let admin = find(&roles, "admin").rules.clone().unwrap();
        // `edit` sorts before `system:aggregate-to-admin`.
        assert_eq!(admin[..edit.len()], edit[..]);
        assert_eq!(admin.len(), edit.len() + 2);
        assert_eq!(
            find(&roles, "admin")
                .aggregation_rule
                .as_ref()
                .unwrap()
                .cluster_role_selectors
                .as_ref()
                .unwrap()[0]
                .match_labels
                .as_ref()
                .unwrap()[AGGREGATE_TO_ADMIN],
            "true"
        );
    }

    #[test]
    fn aggregation_skips_duplicate_rules_and_the_role_itself() {
        let mut roles = vec![
            aggregated_role("a", &[("x", "true")], "x"),
            cluster_role(
                "c",
                &[("x", "true")],
                vec![rule(&["get"], &[""], &["pods"])],
            ),
            cluster_role(
                "b",
                &[("x", "true")],
                vec![
                    rule(&["get"], &[""], &["pods"]),
                    rule(&["list"], &[""], &["pods"]),
                ],
            ),
        ];
        aggregate_all(&mut roles);
        assert_eq!(
            printed(&roles[0]),
            vec![
                "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}",
                "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"list\"]}",
            ]
        );
        assert_eq!(aggregate_rules(&roles[1], &roles), None);
    }

    #[test]
    fn bindings_grant_what_upstream_grants() {
        let policy = policy();
        let masters = UserInfo::authenticated("root", [MASTERS.to_string()]);
        let anything = Attributes::resource(&masters, "escalate", "x", "y", "z", "w");
        assert_eq!(
            authorize(&anything, &policy).reason(),
            "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\""
        );
        let bob = UserInfo::authenticated("bob", []);
        assert!(
            authorize(
                &Attributes::non_resource(&bob, "get", "/apis/apps/v1"),
                &policy
            )
            .is_allowed()
        );
        assert!(
            authorize(
                &Attributes::resource(
                    &bob,
                    "create",
                    AUTHORIZATION,
                    "selfsubjectrulesreviews",
                    "",
                    ""
                ),
                &policy
            )
            .is_allowed()
        );
        assert!(
            !authorize(
                &Attributes::resource(&bob, "list", "", "services", "default", ""),
                &policy
            )
            .is_allowed()
        );
        let anonymous = UserInfo::anonymous();
        assert!(
            authorize(
                &Attributes::non_resource(&anonymous, "get", "/version"),
                &policy
            )
            .is_allowed()
        );
        assert!(
            !authorize(
                &Attributes::non_resource(&anonymous, "get", "/apis"),
                &policy
            )
            .is_allowed()
        );

        let service_controller =
            UserInfo::service_account(CONTROLLER_NAMESPACE, "service-controller", "u");
        let mut update_status = Attributes::resource(
            &service_controller,
            "update",
            "",
            "services",
            "default",
            "web",
        );
        update_status.subresource = "status";
        assert!(authorize(&update_status, &policy).is_allowed());
        update_status.subresource = "";
        assert!(!authorize(&update_status, &policy).is_allowed());
        let event = Attributes::resource(
            &service_controller,
            "create",
            EVENTS,
            "events",
            "default",
            "",
        );
        assert!(authorize(&event, &policy).is_allowed());

        // kube-controller-manager may create any Lease but read and renew only its own.
        let manager = UserInfo::authenticated(KUBE_CONTROLLER_MANAGER, []);
        let lease = |verb, name| {
            let attrs =
                Attributes::resource(&manager, verb, COORDINATION, "leases", "kube-system", name);
            authorize(&attrs, &policy).is_allowed()
        };
        assert!(lease("create", ""));
        assert!(lease("get", LEASE_NAME));
        assert!(lease("update", LEASE_NAME));
        assert!(!lease("update", "kube-scheduler"));
        assert!(!lease("delete", LEASE_NAME));
        assert!(!lease("update", ""));
    }

    #[test]
    fn controller_bindings_name_kube_system_service_accounts() {
        let bindings = controller_role_bindings();
        let endpoint = bindings
            .iter()
            .find(|b| b.metadata.name.as_deref() == Some("system:controller:endpoint-controller"))
            .unwrap();
        assert_eq!(
            serde_json::to_value(endpoint).unwrap(),
            serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {
                    "name": "system:controller:endpoint-controller",
                    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}
                },
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:controller:endpoint-controller"},
                "subjects": [{"kind": "ServiceAccount", "name": "endpoint-controller", "namespace": "kube-system"}]
            })
        );
        assert_eq!(bindings.len(), controller_roles().len());
    }
}
