//! The bootstrap configuration of API Priority and Fairness, as kube-apiserver v1.32 defines it
//! (staging/src/k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap/default.go), and how the
//! `priority-and-fairness-config-producer` post-start hook keeps it
//! (pkg/registry/flowcontrol/ensurer/strategy.go): mandatory objects are created when missing
//! and their spec and annotation are always put back; suggested objects are created when
//! missing and put back only while their `apf.kubernetes.io/autoupdate-spec` is `true` (or
//! absent on an object still at generation 1).

use crate::json::Pointer as _;
use serde_json::{Value, json};

use super::{AUTO_UPDATE_ANNOTATION, NAME_CATCH_ALL, NAME_EXEMPT};
use crate::user::{
    AUTHENTICATED, KUBE_CONTROLLER_MANAGER, MASTERS, SERVICE_ACCOUNTS, UNAUTHENTICATED,
};

/// `user.NodesGroup`.
const NODES: &str = "system:nodes";
/// `user.KubeScheduler`.
const KUBE_SCHEDULER: &str = "system:kube-scheduler";
/// `metav1.NamespaceSystem`.
const KUBE_SYSTEM: &str = "kube-system";

/// A bootstrap object: its resource (`flowschemas` or `prioritylevelconfigurations`), name and
/// spec, and whether it is mandatory.
#[derive(Debug, Clone)]
pub struct BootstrapObject {
    pub resource: &'static str,
    pub name: &'static str,
    pub spec: Value,
    pub mandatory: bool,
}

impl BootstrapObject {
    /// The same object, mandatory.
    fn mandatory(self) -> BootstrapObject {
        BootstrapObject {
            mandatory: true,
            ..self
        }
    }

    /// The object to create, annotated for auto-update.
    pub fn object(&self) -> Value {
        let kind = if self.resource == FLOW_SCHEMAS {
            "FlowSchema"
        } else {
            "PriorityLevelConfiguration"
        };
        json!({
            "apiVersion": format!("{}/v1", super::GROUP_NAME),
            "kind": kind,
            "metadata": {
                "name": self.name,
                "annotations": {AUTO_UPDATE_ANNOTATION: "true"},
            },
            "spec": self.spec,
        })
    }
}

/// The resource of FlowSchemas.
pub const FLOW_SCHEMAS: &str = "flowschemas";
/// The resource of PriorityLevelConfigurations.
pub const PRIORITY_LEVELS: &str = "prioritylevelconfigurations";

fn limited(shares: i32, lendable: i32, queuing: Option<(i32, i32, i32)>) -> Value {
    let response = match queuing {
        Some((queues, hand_size, limit)) => json!({
            "type": "Queue",
            "queuing": {"queues": queues, "handSize": hand_size, "queueLengthLimit": limit},
        }),
        None => json!({"type": "Reject"}),
    };
    json!({
        "type": "Limited",
        "limited": {
            "nominalConcurrencyShares": shares,
            "lendablePercent": lendable,
            "limitResponse": response,
        },
    })
}

fn groups(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|n| json!({"kind": "Group", "group": {"name": n}}))
        .collect()
}

fn users(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|n| json!({"kind": "User", "user": {"name": n}}))
        .collect()
}

fn kube_system_service_accounts(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|n| json!({"kind": "ServiceAccount", "serviceAccount": {"name": n, "namespace": KUBE_SYSTEM}}))
        .collect()
}

fn resource_rule(
    verbs: &[&str],
    groups: &[&str],
    resources: &[&str],
    namespaces: &[&str],
    cluster_scope: bool,
) -> Value {
    let mut rule = json!({
        "verbs": verbs,
        "apiGroups": groups,
        "resources": resources,
        "namespaces": namespaces,
    });
    // `clusterScope` is omitempty.
    if cluster_scope {
        rule["clusterScope"] = json!(true);
    }
    rule
}

/// Every verb, group and resource, in every namespace and cluster-wide.
fn all_resources() -> Value {
    resource_rule(&["*"], &["*"], &["*"], &["*"], true)
}

fn non_resource_rule(verbs: &[&str], urls: &[&str]) -> Value {
    json!({"verbs": verbs, "nonResourceURLs": urls})
}

fn flow_schema(
    name: &'static str,
    priority_level: &str,
    precedence: i32,
    distinguisher: Option<&str>,
    subjects: Vec<Value>,
    resource_rules: Vec<Value>,
    non_resource_rules: Vec<Value>,
) -> BootstrapObject {
    let mut rule = json!({"subjects": subjects});
    if !resource_rules.is_empty() {
        rule["resourceRules"] = Value::Array(resource_rules);
    }
    if !non_resource_rules.is_empty() {
        rule["nonResourceRules"] = Value::Array(non_resource_rules);
    }
    let mut spec = json!({
        "priorityLevelConfiguration": {"name": priority_level},
        "matchingPrecedence": precedence,
        "rules": [rule],
    });
    if let Some(d) = distinguisher {
        spec["distinguisherMethod"] = json!({"type": d});
    }
    BootstrapObject {
        resource: FLOW_SCHEMAS,
        name,
        spec,
        mandatory: false,
    }
}

/// A FlowSchema matching every request of `subjects`.
fn flow_schema_all(
    name: &'static str,
    priority_level: &str,
    precedence: i32,
    distinguisher: Option<&str>,
    subjects: Vec<Value>,
) -> BootstrapObject {
    flow_schema(
        name,
        priority_level,
        precedence,
        distinguisher,
        subjects,
        vec![all_resources()],
        vec![non_resource_rule(&["*"], &["*"])],
    )
}

fn priority_level(name: &'static str, spec: Value, mandatory: bool) -> BootstrapObject {
    BootstrapObject {
        resource: PRIORITY_LEVELS,
        name,
        spec,
        mandatory,
    }
}

const BY_USER: Option<&str> = Some("ByUser");
const BY_NAMESPACE: Option<&str> = Some("ByNamespace");

/// The priority levels, mandatory first (`MandatoryPriorityLevelConfigurations`, then
/// `SuggestedPriorityLevelConfigurations`), each created before the FlowSchemas that name it.
pub fn priority_levels() -> Vec<BootstrapObject> {
    vec![
        priority_level(NAME_CATCH_ALL, limited(5, 0, None), true),
        priority_level(
            NAME_EXEMPT,
            json!({"type": "Exempt", "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0}}),
            true,
        ),
        priority_level("system", limited(30, 33, Some((64, 6, 50))), false),
        priority_level("node-high", limited(40, 25, Some((64, 6, 50))), false),
        priority_level("leader-election", limited(10, 0, Some((16, 4, 50))), false),
        priority_level("workload-high", limited(40, 50, Some((128, 6, 50))), false),
        priority_level("workload-low", limited(100, 90, Some((128, 6, 50))), false),
        priority_level("global-default", limited(20, 50, Some((128, 6, 50))), false),
    ]
}

/// The FlowSchemas, mandatory first (`MandatoryFlowSchemas`, then `SuggestedFlowSchemas`).
pub fn flow_schemas() -> Vec<BootstrapObject> {
    let everyone = || groups(&[UNAUTHENTICATED, AUTHENTICATED]);
    let get_create_update = ["get", "create", "update"];
    vec![
        flow_schema_all(NAME_EXEMPT, NAME_EXEMPT, 1, None, groups(&[MASTERS])).mandatory(),
        flow_schema_all(NAME_CATCH_ALL, NAME_CATCH_ALL, 10000, BY_USER, everyone()).mandatory(),
        flow_schema_all("system-nodes", "system", 500, BY_USER, groups(&[NODES])),
        flow_schema(
            "system-node-high",
            "node-high",
            400,
            BY_USER,
            groups(&[NODES]),
            vec![
                resource_rule(&["*"], &[""], &["nodes", "nodes/status"], &["*"], true),
                resource_rule(&["*"], &["coordination.k8s.io"], &["leases"], &["*"], false),
            ],
            vec![],
        ),
        flow_schema(
            "probes",
            NAME_EXEMPT,
            2,
            None,
            everyone(),
            vec![],
            vec![non_resource_rule(
                &["get"],
                &["/healthz", "/readyz", "/livez"],
            )],
        ),
        flow_schema(
            "system-leader-election",
            "leader-election",
            100,
            BY_USER,
            [
                users(&[KUBE_CONTROLLER_MANAGER, KUBE_SCHEDULER]),
                kube_system_service_accounts(&["*"]),
            ]
            .concat(),
            vec![resource_rule(
                &get_create_update,
                &["coordination.k8s.io"],
                &["leases"],
                &["*"],
                false,
            )],
            vec![],
        ),
        flow_schema(
            "workload-leader-election",
            "leader-election",
            200,
            BY_USER,
            kube_system_service_accounts(&["*"]),
            vec![
                resource_rule(
                    &get_create_update,
                    &[""],
                    &["endpoints", "configmaps"],
                    &["*"],
                    false,
                ),
                resource_rule(
                    &get_create_update,
                    &["coordination.k8s.io"],
                    &["leases"],
                    &["*"],
                    false,
                ),
            ],
            vec![],
        ),
        flow_schema(
            "endpoint-controller",
            "workload-high",
            150,
            BY_USER,
            [
                users(&[KUBE_CONTROLLER_MANAGER]),
                kube_system_service_accounts(&[
                    "endpoint-controller",
                    "endpointslicemirroring-controller",
                ]),
            ]
            .concat(),
            vec![resource_rule(
                &get_create_update,
                &[""],
                &["endpoints"],
                &["*"],
                false,
            )],
            vec![],
        ),
        flow_schema_all(
            "kube-controller-manager",
            "workload-high",
            800,
            BY_NAMESPACE,
            users(&[KUBE_CONTROLLER_MANAGER]),
        ),
        flow_schema_all(
            "kube-scheduler",
            "workload-high",
            800,
            BY_NAMESPACE,
            users(&[KUBE_SCHEDULER]),
        ),
        flow_schema_all(
            "kube-system-service-accounts",
            "workload-high",
            900,
            BY_NAMESPACE,
            kube_system_service_accounts(&["*"]),
        ),
        flow_schema_all(
            "service-accounts",
            "workload-low",
            9000,
            BY_USER,
            groups(&[SERVICE_ACCOUNTS]),
        ),
        flow_schema_all(
            "global-default",
            "global-default",
            9900,
            BY_USER,
            everyone(),
        ),
    ]
}

/// The bootstrap object of `resource` named `name`, if there is one.
pub fn find(resource: &str, name: &str) -> Option<BootstrapObject> {
    let all = if resource == FLOW_SCHEMAS {
        flow_schemas()
    } else {
        priority_levels()
    };
    all.into_iter().find(|o| o.name == name)
}

/// The mandatory object of `resource` named `name`, if there is one.
pub fn mandatory(resource: &str, name: &str) -> Option<BootstrapObject> {
    find(resource, name).filter(|o| o.mandatory)
}

/// `shouldUpdateSpec`: the annotation as a Go boolean; without a boolean there, only an
/// object nobody has changed since it was created (generation 1).
fn should_update_spec(current: &Value) -> bool {
    let annotation = current
        .at(&format!(
            "/metadata/annotations/{}",
            AUTO_UPDATE_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str);
    match annotation.and_then(crate::format::parse_go_bool) {
        Some(update) => update,
        None => current.at("/metadata/generation").and_then(Value::as_i64) == Some(1),
    }
}

/// `shouldUpdateAnnotation`: unless the annotation already says `desired`.
fn should_update_annotation(current: &Value, desired: bool) -> bool {
    let annotation = current
        .at(&format!(
            "/metadata/annotations/{}",
            AUTO_UPDATE_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str);
    annotation.and_then(crate::format::parse_go_bool) != Some(desired)
}

/// `ReviseIfNeeded`: the object `current` should be replaced by (spec and auto-update
/// annotation revised), or `None` when it is as it should be. `current` is as stored, so
/// defaulted; the bootstrap spec is compared after the same defaulting.
pub fn revise_if_needed(current: &Value, bootstrap: &BootstrapObject) -> Option<Value> {
    let auto_update = bootstrap.mandatory || should_update_spec(current);
    let update_annotation = should_update_annotation(current, auto_update);
    let mut wanted = bootstrap.object();
    super::validate::set_defaults(&mut wanted);
    let spec_changed = auto_update && current.get("spec") != wanted.get("spec");
    if !update_annotation && !spec_changed {
        return None;
    }
    let mut revised = current.clone();
    if update_annotation {
        let meta = &mut revised["metadata"];
        if !meta.get("annotations").is_some_and(Value::is_object) {
            meta["annotations"] = json!({});
        }
        meta["annotations"][AUTO_UPDATE_ANNOTATION] = Value::String(auto_update.to_string());
    }
    if spec_changed {
        revised["spec"] = wanted["spec"].clone();
    }
    Some(revised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_schema_names_a_bootstrap_priority_level() {
        let levels: Vec<&str> = priority_levels().iter().map(|p| p.name).collect();
        for fs in flow_schemas() {
            let pl = fs.spec["priorityLevelConfiguration"]["name"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(levels.contains(&pl.as_str()), "{}", fs.name);
        }
        assert_eq!(flow_schemas().len(), 13);
        assert_eq!(priority_levels().len(), 8);
    }

    #[test]
    fn bootstrap_objects_are_valid_and_unchanged_by_defaulting() {
        for o in flow_schemas().into_iter().chain(priority_levels()) {
            let mut object = o.object();
            let before = object.clone();
            crate::flowcontrol::validate::set_defaults(&mut object);
            assert_eq!(object, before, "{}", o.name);
            let errors = crate::flowcontrol::validate::validate(&object);
            assert!(errors.is_empty(), "{}: {errors:?}", o.name);
        }
    }

    #[test]
    fn mandatory_objects_are_put_back_suggested_only_while_auto_updated() {
        let exempt = mandatory(FLOW_SCHEMAS, NAME_EXEMPT).unwrap();
        let mut current = exempt.object();
        assert_eq!(revise_if_needed(&current, &exempt), None);
        current["spec"]["matchingPrecedence"] = json!(5);
        current["metadata"]["annotations"][AUTO_UPDATE_ANNOTATION] = json!("false");
        let revised = revise_if_needed(&current, &exempt).unwrap();
        assert_eq!(revised["spec"], exempt.spec);
        assert_eq!(
            revised["metadata"]["annotations"][AUTO_UPDATE_ANNOTATION],
            "true"
        );

        let suggested = find(FLOW_SCHEMAS, "global-default").unwrap();
        let mut current = suggested.object();
        current["spec"]["matchingPrecedence"] = json!(9000);
        current["metadata"]["annotations"][AUTO_UPDATE_ANNOTATION] = json!("false");
        assert_eq!(revise_if_needed(&current, &suggested), None);
        // No annotation at generation 2: the user's spec stays, the annotation says so.
        current["metadata"]["annotations"] = json!({});
        current["metadata"]["generation"] = json!(2);
        let revised = revise_if_needed(&current, &suggested).unwrap();
        assert_eq!(revised["spec"]["matchingPrecedence"], 9000);
        assert_eq!(
            revised["metadata"]["annotations"][AUTO_UPDATE_ANNOTATION],
            "false"
        );
        // At generation 1 it is brought back.
        current["metadata"]["generation"] = json!(1);
        let revised = revise_if_needed(&current, &suggested).unwrap();
        assert_eq!(revised["spec"]["matchingPrecedence"], 9900);
    }
}
