//! The protobuf bodies kubectl sends for identities and access: TokenRequest (`kubectl create
//! token`), the self reviews (`kubectl auth can-i`), ServiceAccounts (`kubectl create sa`) and
//! the RBAC kinds (`kubectl create role|clusterrole|rolebinding|clusterrolebinding`), and
//! Namespaces (`kubectl create namespace`).

use prost::Message;
use serde_json::{Map, Value, json};

use super::{ObjectMeta, envelope, put_list, put_opt, put_str};

/// Decodes the protobuf TokenRequest `kubectl create token` sends into its JSON form (the
/// spec only: the metadata is the path's).
pub fn decode_token_request(body: &[u8]) -> Result<Value, String> {
    let (type_meta, raw) = envelope(body, "authentication.k8s.io/v1", "TokenRequest")?;
    let request = TokenRequest::decode(raw.as_slice())
        .map_err(|e| format!("decoding v1.TokenRequest: {e}"))?;
    let spec = request.spec.unwrap_or_default();
    let mut object = json!({
        "apiVersion": type_meta.api_version,
        "kind": type_meta.kind,
        "spec": {"audiences": spec.audiences},
    });
    if let Some(seconds) = spec.expiration_seconds {
        object["spec"]["expirationSeconds"] = json!(seconds);
    }
    Ok(object)
}

/// Decodes a protobuf SelfSubjectAccessReview or SelfSubjectRulesReview (`kubectl auth
/// can-i`) into its JSON form: the spec only.
pub fn decode_review(body: &[u8], kind: &str) -> Result<Value, String> {
    let (type_meta, raw) = envelope(body, "authorization.k8s.io/v1", kind)?;
    let failed = |e: prost::DecodeError| format!("decoding v1.{kind}: {e}");
    if kind == "SelfSubjectRulesReview" {
        let review = RulesReview::decode(raw.as_slice()).map_err(failed)?;
        let namespace = review.spec.unwrap_or_default().namespace;
        return Ok(
            json!({"apiVersion": type_meta.api_version, "kind": type_meta.kind, "spec": {"namespace": namespace}}),
        );
    }
    let review = Review::decode(raw.as_slice()).map_err(failed)?;
    let spec = review.spec.unwrap_or_default();
    let mut json_spec = Map::new();
    if let Some(r) = spec.resource_attributes {
        let mut m = Map::new();
        for (key, value) in [
            ("namespace", &r.namespace),
            ("verb", &r.verb),
            ("group", &r.group),
            ("version", &r.version),
            ("resource", &r.resource),
            ("subresource", &r.subresource),
            ("name", &r.name),
        ] {
            put_str(&mut m, key, value);
        }
        json_spec.insert("resourceAttributes".into(), Value::Object(m));
    }
    if let Some(n) = spec.non_resource_attributes {
        json_spec.insert(
            "nonResourceAttributes".into(),
            json!({"path": n.path, "verb": n.verb}),
        );
    }
    Ok(json!({"apiVersion": type_meta.api_version, "kind": type_meta.kind, "spec": json_spec}))
}

/// `authorization/v1.SelfSubjectAccessReview` (spec only).
#[derive(Clone, PartialEq, Message)]
struct Review {
    #[prost(message, optional, tag = "2")]
    spec: Option<ReviewSpec>,
}

/// `authorization/v1.SelfSubjectRulesReview` (spec only).
#[derive(Clone, PartialEq, Message)]
struct RulesReview {
    #[prost(message, optional, tag = "2")]
    spec: Option<RulesReviewSpec>,
}

/// `SelfSubjectRulesReviewSpec`.
#[derive(Clone, PartialEq, Message)]
struct RulesReviewSpec {
    #[prost(string, tag = "1")]
    namespace: String,
}

/// `SelfSubjectAccessReviewSpec`.
#[derive(Clone, PartialEq, Message)]
struct ReviewSpec {
    #[prost(message, optional, tag = "1")]
    resource_attributes: Option<ResourceAttributes>,
    #[prost(message, optional, tag = "2")]
    non_resource_attributes: Option<NonResourceAttributes>,
}

/// `authorization/v1.ResourceAttributes` (the alpha selectors, 8 and 9, are not read).
#[derive(Clone, PartialEq, Message)]
struct ResourceAttributes {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    verb: String,
    #[prost(string, tag = "3")]
    group: String,
    #[prost(string, tag = "4")]
    version: String,
    #[prost(string, tag = "5")]
    resource: String,
    #[prost(string, tag = "6")]
    subresource: String,
    #[prost(string, tag = "7")]
    name: String,
}

/// `authorization/v1.NonResourceAttributes`.
#[derive(Clone, PartialEq, Message)]
struct NonResourceAttributes {
    #[prost(string, tag = "1")]
    path: String,
    #[prost(string, tag = "2")]
    verb: String,
}

/// `authentication/v1.TokenRequest` (metadata and status are not read).
#[derive(Clone, PartialEq, Message)]
struct TokenRequest {
    #[prost(message, optional, tag = "2")]
    spec: Option<TokenRequestSpec>,
}

/// `authentication/v1.TokenRequestSpec` (boundObjectRef, field 3, is not supported).
#[derive(Clone, PartialEq, Message)]
struct TokenRequestSpec {
    #[prost(string, repeated, tag = "1")]
    audiences: Vec<String>,
    #[prost(int64, optional, tag = "4")]
    expiration_seconds: Option<i64>,
}

/// Decodes a protobuf ServiceAccount or RBAC object of `api_version`/`kind` into its JSON form.
pub fn decode_identity_object(body: &[u8], api_version: &str, kind: &str) -> Result<Value, String> {
    let (type_meta, raw) = envelope(body, api_version, kind)?;
    let failed = |e: prost::DecodeError| format!("decoding {kind}: {e}");
    let mut object = Map::new();
    object.insert("apiVersion".into(), json!(type_meta.api_version));
    object.insert("kind".into(), json!(type_meta.kind));
    let metadata = match kind {
        "ServiceAccount" => {
            let account = ServiceAccount::decode(raw.as_slice()).map_err(failed)?;
            let names = |names: Vec<&String>| -> Vec<Value> {
                names
                    .into_iter()
                    .map(|name| json!({"name": name}))
                    .collect()
            };
            if !account.secrets.is_empty() {
                let secrets = names(account.secrets.iter().map(|r| &r.name).collect());
                object.insert("secrets".into(), Value::Array(secrets));
            }
            if !account.image_pull_secrets.is_empty() {
                let pulls = names(account.image_pull_secrets.iter().map(|r| &r.name).collect());
                object.insert("imagePullSecrets".into(), Value::Array(pulls));
            }
            put_opt(
                &mut object,
                "automountServiceAccountToken",
                account.automount_service_account_token,
            );
            account.metadata
        }
        "Role" | "ClusterRole" => {
            let role = Role::decode(raw.as_slice()).map_err(failed)?;
            let rules: Vec<Value> = role.rules.iter().map(PolicyRule::to_json).collect();
            object.insert("rules".into(), Value::Array(rules));
            role.metadata
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let binding = RoleBinding::decode(raw.as_slice()).map_err(failed)?;
            let subjects: Vec<Value> = binding.subjects.iter().map(Subject::to_json).collect();
            if !subjects.is_empty() {
                object.insert("subjects".into(), Value::Array(subjects));
            }
            let role_ref = binding.role_ref.unwrap_or_default();
            object.insert(
                "roleRef".into(),
                json!({"apiGroup": role_ref.api_group, "kind": role_ref.kind, "name": role_ref.name}),
            );
            binding.metadata
        }
        // `kubectl create namespace` sends only the name; spec and status are the server's.
        "Namespace" => {
            MetadataOnly::decode(raw.as_slice())
                .map_err(failed)?
                .metadata
        }
        _ => {
            return Err(format!(
                "protobuf bodies of kind {kind:?} are not supported"
            ));
        }
    };
    object.insert(
        "metadata".into(),
        metadata.map(|m| m.to_json()).unwrap_or_else(|| json!({})),
    );
    Ok(Value::Object(object))
}

/// Any object whose metadata is its field 1, read for the metadata alone.
#[derive(Clone, PartialEq, Message)]
struct MetadataOnly {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
}

/// `core/v1.ServiceAccount` (secrets are read by name only).
#[derive(Clone, PartialEq, Message)]
struct ServiceAccount {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, repeated, tag = "2")]
    secrets: Vec<ObjectReference>,
    #[prost(message, repeated, tag = "3")]
    image_pull_secrets: Vec<LocalReference>,
    #[prost(bool, optional, tag = "4")]
    automount_service_account_token: Option<bool>,
}

/// The name of a `core/v1.ObjectReference` (its other fields are not read).
#[derive(Clone, PartialEq, Message)]
struct ObjectReference {
    #[prost(string, tag = "3")]
    name: String,
}

/// `core/v1.LocalObjectReference`.
#[derive(Clone, PartialEq, Message)]
struct LocalReference {
    #[prost(string, tag = "1")]
    name: String,
}

/// `rbac/v1.Role` and `ClusterRole` (the aggregation rule, field 3, is not decoded).
#[derive(Clone, PartialEq, Message)]
struct Role {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, repeated, tag = "2")]
    rules: Vec<PolicyRule>,
}

/// `rbac/v1.PolicyRule`.
#[derive(Clone, PartialEq, Message)]
struct PolicyRule {
    #[prost(string, repeated, tag = "1")]
    verbs: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    api_groups: Vec<String>,
    #[prost(string, repeated, tag = "3")]
    resources: Vec<String>,
    #[prost(string, repeated, tag = "4")]
    resource_names: Vec<String>,
    #[prost(string, repeated, tag = "5")]
    non_resource_urls: Vec<String>,
}

impl PolicyRule {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("verbs".into(), json!(self.verbs));
        put_list(&mut m, "apiGroups", &self.api_groups);
        put_list(&mut m, "resources", &self.resources);
        put_list(&mut m, "resourceNames", &self.resource_names);
        put_list(&mut m, "nonResourceURLs", &self.non_resource_urls);
        Value::Object(m)
    }
}

/// `rbac/v1.RoleBinding` and `ClusterRoleBinding`.
#[derive(Clone, PartialEq, Message)]
struct RoleBinding {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, repeated, tag = "2")]
    subjects: Vec<Subject>,
    #[prost(message, optional, tag = "3")]
    role_ref: Option<RoleRef>,
}

/// `rbac/v1.Subject`.
#[derive(Clone, PartialEq, Message)]
struct Subject {
    #[prost(string, tag = "1")]
    kind: String,
    #[prost(string, tag = "2")]
    api_group: String,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    namespace: String,
}

impl Subject {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "kind", &self.kind);
        put_str(&mut m, "apiGroup", &self.api_group);
        put_str(&mut m, "name", &self.name);
        put_str(&mut m, "namespace", &self.namespace);
        Value::Object(m)
    }
}

/// `rbac/v1.RoleRef`.
#[derive(Clone, PartialEq, Message)]
struct RoleRef {
    #[prost(string, tag = "1")]
    api_group: String,
    #[prost(string, tag = "2")]
    kind: String,
    #[prost(string, tag = "3")]
    name: String,
}
