//! Classification of a request, as kube-apiserver v1.32's API Priority and Fairness filter does
//! it after authentication (staging/src/k8s.io/apiserver/pkg/util/flowcontrol/apf_controller.go:
//! `digestConfigObjects`, `startRequest`; rule.go: `matchesFlowSchema` and its helpers): the
//! FlowSchemas whose priority level exists, ordered by matching precedence then name, and the
//! first one with a rule matching the request's user and target wins. A missing `exempt` or
//! `catch-all` (FlowSchema or priority level) is stood in for by its bootstrap object, whose
//! uid is empty, as upstream's implicit ones are.

use std::collections::HashMap;

use k8s_openapi::api::flowcontrol::v1::{
    FlowSchema, NonResourcePolicyRule, PolicyRulesWithSubjects, PriorityLevelConfiguration,
    ResourcePolicyRule, Subject,
};
use serde_json::Value;

use super::bootstrap::{self, FLOW_SCHEMAS, PRIORITY_LEVELS};
use super::{NAME_CATCH_ALL, NAME_EXEMPT};
use crate::rbac::RequestInfo;
use crate::user::UserInfo;

/// Where a request was classified: the FlowSchema and priority level, by name and uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub flow_schema: String,
    pub flow_schema_uid: String,
    pub priority_level: String,
    pub priority_level_uid: String,
}

/// One FlowSchema as the matcher needs it.
#[derive(Debug, Clone)]
struct Schema {
    name: String,
    uid: String,
    precedence: i32,
    priority_level: String,
    rules: Vec<PolicyRulesWithSubjects>,
}

impl Schema {
    fn of(fs: FlowSchema) -> Schema {
        let meta = fs.metadata;
        let spec = fs.spec.unwrap_or_default();
        Schema {
            name: meta.name.unwrap_or_default(),
            uid: meta.uid.unwrap_or_default(),
            precedence: spec.matching_precedence.unwrap_or(0),
            priority_level: spec.priority_level_configuration.name,
            rules: spec.rules.unwrap_or_default(),
        }
    }

    /// The bootstrap stand-in of a missing mandatory FlowSchema.
    fn implicit(name: &str) -> Option<Schema> {
        let object = bootstrap::mandatory(FLOW_SCHEMAS, name)?.object();
        serde_json::from_value(object).ok().map(Schema::of)
    }
}

/// A snapshot of the configuration, digested for matching: what the server keeps in memory
/// and replaces whenever a FlowSchema or priority level changes.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// In matching order.
    flow_schemas: Vec<Schema>,
    /// Priority level uids by name.
    levels: HashMap<String, String>,
}

impl Classifier {
    /// Digests the stored FlowSchemas and priority levels (JSON objects; one that does not
    /// decode is left out).
    pub fn new(flow_schemas: &[Value], priority_levels: &[Value]) -> Classifier {
        let mut levels: HashMap<String, String> = priority_levels
            .iter()
            .filter_map(|p| serde_json::from_value::<PriorityLevelConfiguration>(p.clone()).ok())
            .map(|p| {
                (
                    p.metadata.name.unwrap_or_default(),
                    p.metadata.uid.unwrap_or_default(),
                )
            })
            .collect();
        for name in [NAME_EXEMPT, NAME_CATCH_ALL] {
            if bootstrap::mandatory(PRIORITY_LEVELS, name).is_some() {
                levels.entry(name.to_string()).or_default();
            }
        }
        let mut schemas: Vec<Schema> = flow_schemas
            .iter()
            .filter_map(|f| serde_json::from_value::<FlowSchema>(f.clone()).ok())
            .map(Schema::of)
            .filter(|s| levels.contains_key(&s.priority_level))
            .collect();
        schemas.sort_by(|a, b| (a.precedence, &a.name).cmp(&(b.precedence, &b.name)));
        if !schemas.iter().any(|s| s.name == NAME_EXEMPT)
            && let Some(exempt) = Schema::implicit(NAME_EXEMPT)
        {
            schemas.insert(0, exempt);
        }
        if !schemas.iter().any(|s| s.name == NAME_CATCH_ALL)
            && let Some(catch_all) = Schema::implicit(NAME_CATCH_ALL)
        {
            schemas.push(catch_all);
        }
        Classifier {
            flow_schemas: schemas,
            levels,
        }
    }

    /// Whether a priority level named `name` exists (what a FlowSchema's `Dangling` condition
    /// reports); the implicit mandatory ones do not count.
    pub fn has_priority_level(&self, name: &str) -> bool {
        self.levels.get(name).is_some_and(|uid| !uid.is_empty())
    }

    /// The FlowSchema and priority level of a request by `user` described by `info`: the first
    /// matching FlowSchema, else `catch-all`.
    pub fn classify(&self, user: &UserInfo, info: &RequestInfo) -> Classification {
        let chosen = self
            .flow_schemas
            .iter()
            .find(|s| s.rules.iter().any(|r| matches_policy_rule(user, info, r)))
            .or_else(|| self.flow_schemas.iter().find(|s| s.name == NAME_CATCH_ALL));
        self.classification(chosen)
    }

    /// [`Classifier::classify`] when the request cannot change the answer: the first rule
    /// whose subjects match `user` matches every request (as `exempt`'s does for
    /// `system:masters`). `None`: the request decides, so its info is needed.
    pub fn classify_user(&self, user: &UserInfo) -> Option<Classification> {
        for schema in &self.flow_schemas {
            for rule in &schema.rules {
                if rule.subjects.iter().any(|s| matches_subject(user, s)) {
                    return matches_every_request(rule).then(|| self.classification(Some(schema)));
                }
            }
        }
        None
    }

    fn classification(&self, schema: Option<&Schema>) -> Classification {
        let Some(schema) = schema else {
            return Classification {
                flow_schema: String::new(),
                flow_schema_uid: String::new(),
                priority_level: String::new(),
                priority_level_uid: String::new(),
            };
        };
        Classification {
            flow_schema: schema.name.clone(),
            flow_schema_uid: schema.uid.clone(),
            priority_level: schema.priority_level.clone(),
            priority_level_uid: self
                .levels
                .get(&schema.priority_level)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// Whether a rule's resource and non-resource rules between them match any request.
fn matches_every_request(rule: &PolicyRulesWithSubjects) -> bool {
    let all = |items: &[String]| items.iter().any(|i| i == "*");
    let every_resource = rule.resource_rules.iter().flatten().any(|r| {
        all(&r.verbs)
            && all(&r.api_groups)
            && all(&r.resources)
            && r.cluster_scope == Some(true)
            && all(r.namespaces.as_deref().unwrap_or_default())
    });
    let every_path = rule
        .non_resource_rules
        .iter()
        .flatten()
        .any(|r| all(&r.verbs) && all(&r.non_resource_urls));
    every_resource && every_path
}

/// `matchesPolicyRule`.
fn matches_policy_rule(
    user: &UserInfo,
    info: &RequestInfo,
    rule: &PolicyRulesWithSubjects,
) -> bool {
    if !rule.subjects.iter().any(|s| matches_subject(user, s)) {
        return false;
    }
    if info.is_resource_request {
        rule.resource_rules
            .iter()
            .flatten()
            .any(|r| matches_resource_rule(info, r))
    } else {
        rule.non_resource_rules
            .iter()
            .flatten()
            .any(|r| matches_non_resource_rule(info, r))
    }
}

/// `matchesSubject`.
fn matches_subject(user: &UserInfo, subject: &Subject) -> bool {
    match subject.kind.as_str() {
        "User" => subject
            .user
            .as_ref()
            .is_some_and(|u| u.name == "*" || u.name == user.name),
        "Group" => subject
            .group
            .as_ref()
            .is_some_and(|g| g.name == "*" || user.groups.contains(&g.name)),
        "ServiceAccount" => subject.service_account.as_ref().is_some_and(|sa| {
            match crate::user::parse_service_account_user(&user.name) {
                Some((namespace, name)) => {
                    namespace == sa.namespace && (sa.name == "*" || name == sa.name)
                }
                None => false,
            }
        }),
        _ => false,
    }
}

/// `containsString`: `x` is listed, or the list is the wildcard alone.
fn contains(x: &str, list: &[String], wildcard: &str) -> bool {
    (list.len() == 1 && list[0] == wildcard) || list.iter().any(|y| y == x)
}

/// `matchesResourcePolicyRule`.
fn matches_resource_rule(info: &RequestInfo, rule: &ResourcePolicyRule) -> bool {
    let resource = if info.subresource.is_empty() {
        info.resource.clone()
    } else {
        format!("{}/{}", info.resource, info.subresource)
    };
    if !contains(&info.verb, &rule.verbs, "*")
        || !contains(&resource, &rule.resources, "*")
        || !contains(&info.api_group, &rule.api_groups, "*")
    {
        return false;
    }
    if info.namespace.is_empty() {
        return rule.cluster_scope.unwrap_or(false);
    }
    contains(
        &info.namespace,
        rule.namespaces.as_deref().unwrap_or_default(),
        "*",
    )
}

/// `matchesNonResourcePolicyRule`: `*` matches every path; any other rule path matches itself
/// and every path under it (`/healthz` and `/healthz/*` both match `/healthz/etcd`).
fn matches_non_resource_rule(info: &RequestInfo, rule: &NonResourcePolicyRule) -> bool {
    if !contains(&info.verb, &rule.verbs, "*") {
        return false;
    }
    rule.non_resource_urls.iter().any(|url| {
        if url == "*" || *url == info.path {
            return true;
        }
        let prefix = url.strip_suffix('*').unwrap_or(url);
        if prefix.ends_with('/') {
            info.path.starts_with(prefix)
        } else {
            info.path.starts_with(&format!("{prefix}/"))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::rbac::new_request_info;
    use crate::user::{AUTHENTICATED, KUBE_CONTROLLER_MANAGER, MASTERS};

    /// The bootstrap configuration as stored: each object with a uid named after it.
    fn stored() -> (Vec<Value>, Vec<Value>) {
        let with_uid = |o: bootstrap::BootstrapObject| {
            let mut object = o.object();
            object["metadata"]["uid"] = json!(format!("uid-{}", o.name));
            object
        };
        (
            bootstrap::flow_schemas()
                .into_iter()
                .map(with_uid)
                .collect(),
            bootstrap::priority_levels()
                .into_iter()
                .map(with_uid)
                .collect(),
        )
    }

    fn classify(c: &Classifier, user: &UserInfo, method: &str, path: &str) -> (String, String) {
        let info = new_request_info(method, path, "").unwrap();
        let got = c.classify(user, &info);
        (got.flow_schema, got.priority_level_uid)
    }

    fn user(name: &str, groups: &[&str]) -> UserInfo {
        UserInfo::authenticated(name, groups.iter().map(|g| g.to_string()))
    }

    /// A `system:masters` user is `exempt` whatever it asks; anyone else's classification
    /// depends on the request, and the shortcut says so.
    #[test]
    fn the_user_alone_decides_only_where_a_rule_matches_every_request() {
        let (schemas, levels) = stored();
        let c = Classifier::new(&schemas, &levels);
        let admin = user("admin", &[MASTERS, AUTHENTICATED]);
        let shortcut = c
            .classify_user(&admin)
            .expect("exempt matches every request");
        assert_eq!(shortcut.flow_schema, "exempt");
        for (method, path) in [
            ("GET", "/api/v1/namespaces/default/services/web"),
            ("GET", "/healthz"),
        ] {
            assert_eq!(classify(&c, &admin, method, path).0, shortcut.flow_schema);
        }
        assert!(c.classify_user(&user("alice", &[AUTHENTICATED])).is_none());
        let kcm = user(KUBE_CONTROLLER_MANAGER, &[AUTHENTICATED]);
        assert!(c.classify_user(&kcm).is_none());
    }

    #[test]
    fn the_bootstrap_configuration_classifies_as_upstream() {
        let (fs, pl) = stored();
        let c = Classifier::new(&fs, &pl);
        let admin = user("kubernetes-admin", &[MASTERS]);
        assert_eq!(
            classify(&c, &admin, "GET", "/api/v1/namespaces/default/services"),
            ("exempt".into(), "uid-exempt".into())
        );
        let alice = user("alice", &[]);
        assert!(alice.groups.contains(&AUTHENTICATED.to_string()));
        assert_eq!(
            classify(&c, &alice, "GET", "/api/v1/namespaces/default/services").0,
            "global-default"
        );
        // Probes of anyone are exempt; other non-resource paths are not.
        assert_eq!(classify(&c, &alice, "GET", "/readyz").0, "probes");
        assert_eq!(classify(&c, &alice, "GET", "/version").0, "global-default");
        assert_eq!(
            classify(&c, &UserInfo::anonymous(), "GET", "/livez").0,
            "probes"
        );
        let sa = UserInfo::service_account("default", "bob", "u1");
        assert_eq!(
            classify(&c, &sa, "GET", "/api/v1/namespaces/default/pods"),
            ("service-accounts".into(), "uid-workload-low".into())
        );
        let kcm = user(KUBE_CONTROLLER_MANAGER, &[]);
        let lease =
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager";
        assert_eq!(
            classify(&c, &kcm, "PUT", lease),
            (
                "system-leader-election".into(),
                "uid-leader-election".into()
            )
        );
        // Listing leases is not leader election: kube-controller-manager's own schema.
        assert_eq!(
            classify(
                &c,
                &kcm,
                "GET",
                "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
            )
            .0,
            "kube-controller-manager"
        );
        assert_eq!(
            classify(&c, &kcm, "PUT", "/api/v1/namespaces/default/endpoints/web").0,
            "endpoint-controller"
        );
        let system_sa = UserInfo::service_account("kube-system", "deployment-controller", "u2");
        assert_eq!(
            classify(
                &c,
                &system_sa,
                "GET",
                "/apis/apps/v1/namespaces/default/deployments"
            )
            .0,
            "kube-system-service-accounts"
        );
        assert_eq!(
            classify(
                &c,
                &system_sa,
                "PUT",
                "/api/v1/namespaces/default/configmaps/lock"
            )
            .0,
            "workload-leader-election"
        );
        let node = user("system:node:n1", &["system:nodes"]);
        assert_eq!(
            classify(&c, &node, "PATCH", "/api/v1/nodes/n1/status").0,
            "system-node-high"
        );
        assert_eq!(
            classify(&c, &node, "GET", "/api/v1/namespaces/a/pods").0,
            "system-nodes"
        );
    }

    #[test]
    fn ties_go_to_the_first_name_and_dangling_schemas_are_ignored() {
        let (mut fs, pl) = stored();
        let mut twin = fs
            .iter()
            .find(|f| f["metadata"]["name"] == "global-default")
            .unwrap()
            .clone();
        twin["metadata"]["name"] = json!("a-twin");
        twin["metadata"]["uid"] = json!("uid-a-twin");
        fs.push(twin.clone());
        let alice = user("alice", &[]);
        let path = "/api/v1/namespaces/default/services";
        assert_eq!(
            classify(&Classifier::new(&fs, &pl), &alice, "GET", path).0,
            "a-twin"
        );
        fs.last_mut().unwrap()["spec"]["priorityLevelConfiguration"]["name"] = json!("missing");
        let c = Classifier::new(&fs, &pl);
        assert_eq!(classify(&c, &alice, "GET", path).0, "global-default");
        assert!(!c.has_priority_level("missing"));
        assert!(c.has_priority_level("global-default"));
    }

    #[test]
    fn missing_mandatory_objects_are_implicit_with_no_uid() {
        let (fs, pl) = stored();
        let fs: Vec<Value> = fs
            .into_iter()
            .filter(|f| {
                f["metadata"]["name"] != "exempt" && f["metadata"]["name"] != "global-default"
            })
            .collect();
        let c = Classifier::new(&fs, &pl);
        let admin = user("kubernetes-admin", &[MASTERS]);
        let path = "/api/v1/namespaces/default/services";
        assert_eq!(
            classify(&c, &admin, "GET", path),
            ("exempt".into(), "uid-exempt".into())
        );
        let got = c.classify(&admin, &new_request_info("GET", path, "").unwrap());
        assert_eq!(got.flow_schema_uid, "");
        assert_eq!(
            classify(&c, &user("alice", &[]), "GET", path),
            ("catch-all".into(), "uid-catch-all".into())
        );
        // A user in no group at all still lands in catch-all.
        let bare = UserInfo {
            name: "x".into(),
            ..Default::default()
        };
        assert_eq!(classify(&c, &bare, "GET", path).0, "catch-all");
    }

    #[test]
    fn non_resource_rules_match_their_path_and_below() {
        let rule: NonResourcePolicyRule = serde_json::from_value(
            json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*", "/healthz"]}),
        )
        .unwrap();
        let info = |p: &str| new_request_info("GET", p, "").unwrap();
        assert!(matches_non_resource_rule(&info("/healthz"), &rule));
        assert!(matches_non_resource_rule(&info("/healthz/etcd"), &rule));
        assert!(!matches_non_resource_rule(&info("/healthzx"), &rule));
        assert!(matches_non_resource_rule(&info("/apis/x"), &rule));
        assert!(!matches_non_resource_rule(&info("/api"), &rule));
        assert!(!matches_non_resource_rule(
            &new_request_info("POST", "/healthz", "").unwrap(),
            &rule
        ));
    }
}
