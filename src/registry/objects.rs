//! The kinds served besides Services, and one entry point per verb that dispatches Services
//! to their own pipeline. Other kinds get kube-apiserver's decoding and generic metadata
//! rules; their behaviour (pods for deployments, endpoints for services) is the controllers'.

use std::fmt::Write as _;

use super::Propagation;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Endpoints, Event, Namespace, Node, Pod};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use service_plan::codec::{self, FieldValidation, Gvk};
use service_plan::field::FieldErrors;
use service_plan::format;
use service_plan::json::Pointer as _;
use service_plan::meta::{
    NameCheck, validate_object_meta_generic, validate_object_meta_update_generic,
};
use service_plan::status::Resource;

use super::apply::Tracking;
use super::namespaces::{NAMESPACES, PROTECTED_NAMESPACES};
use super::rbac;
use super::services::{SERVICES, check_delete_preconditions};
use super::str_at;
use super::write::{Attempt, Commit, replace_at};
use super::{
    Applied, DeletePreconditions, GENERATE_NAME_RETRIES, ListOptions, ListPage, ReadObject,
    Registry, RegistryError, WriteOptions,
};
use crate::store::{ObjectKey, Precondition, StoreError, Write, WriteOp};

/// A resource the server serves: its names, scope and how its objects are decoded.
#[derive(Debug)]
pub struct Kind {
    pub resource: Resource,
    pub version: &'static str,
    pub namespaced: bool,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources served besides the object itself.
    pub subresources: &'static [&'static str],
    name_check: NameCheck,
    decode: DecodeFn,
    /// For a kind served over another kind's stored objects, how they convert.
    stored_as: Option<StoredAs>,
}

/// How a kind served as a view of another kind's stored objects converts them:
/// kube-apiserver stores events.k8s.io/v1 Events as core/v1 Events, one storage behind both
/// APIs, so an Event written through either is read through both.
#[derive(Debug)]
pub struct StoredAs {
    /// The group, version and kind of the stored objects.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// A stored object as this kind serves it.
    served: fn(&Value) -> Value,
    /// An object of this kind as it is stored.
    stored: fn(&Value) -> Value,
}

/// Decodes a body into the kind's canonical JSON and the unknown fields it dropped.
type DecodeFn = fn(&Value) -> Result<(Value, Vec<String>), String>;

impl Kind {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.resource.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.resource.group, self.version)
        }
    }

    fn gvk(&self) -> Gvk {
        Gvk {
            group: self.resource.group,
            version: self.version,
            kind: self.resource.kind,
        }
    }

    /// True for the kinds whose protobuf bodies (what `kubectl create sa|role|namespace|…`
    /// sends) are decoded besides Services: ServiceAccounts, Namespaces and the RBAC kinds.
    pub fn decodes_identity_protobuf(&self) -> bool {
        self.resource == SERVICE_ACCOUNTS
            || self.resource == NAMESPACES
            || self.resource.group == service_plan::rbac::GROUP_NAME
    }

    /// The group, version and kind its objects are stored as (their own, but for a view).
    pub fn storage_gvk(&self) -> (&'static str, &'static str, &'static str) {
        match &self.stored_as {
            Some(s) => (s.group, s.version, s.kind),
            None => (self.resource.group, self.version, self.resource.kind),
        }
    }

    /// True for a kind served over another kind's stored objects.
    pub fn is_view(&self) -> bool {
        self.stored_as.is_some()
    }

    /// A stored object as this kind serves it.
    pub fn served(&self, stored: Value) -> Value {
        match &self.stored_as {
            Some(s) => (s.served)(&stored),
            None => stored,
        }
    }

    /// A stored object as this kind serves it, borrowed when it is served as stored.
    fn served_ref<'a>(&self, stored: &'a Value) -> std::borrow::Cow<'a, Value> {
        match &self.stored_as {
            Some(s) => std::borrow::Cow::Owned((s.served)(stored)),
            None => std::borrow::Cow::Borrowed(stored),
        }
    }

    /// True for Services, which have their own pipeline.
    pub fn is_services(&self) -> bool {
        self.resource == SERVICES
    }
}

/// Decodes through the k8s-openapi type: unknown fields are those the type drops.
fn decode_typed<T: DeserializeOwned + Serialize>(
    value: &Value,
) -> Result<(Value, Vec<String>), String> {
    // Deserialized from the borrowed tree: the same errors as from an owned one, without a
    // copy of the whole object per write.
    let typed = T::deserialize(value).map_err(|e| format!("json: {e}"))?;
    let canonical = serde_json::to_value(&typed).map_err(|e| format!("json: {e}"))?;
    let mut unknown = Vec::new();
    walk_unknown(value, &canonical, &mut Vec::new(), &mut unknown);
    Ok((canonical, unknown))
}

/// One step of a path: a field name or a list index.
enum Step<'a> {
    Field(&'a str),
    Index(usize),
}

/// The fields of `input` that `known` (its typed round trip) dropped, as `unknown field
/// "spec.x"`, `path` leading to both. The path is kept as a stack of its steps and printed
/// only for a field reported: formatting it for every field was most of the cost of this
/// check on every write.
fn walk_unknown<'a>(
    input: &'a Value,
    known: &Value,
    path: &mut Vec<Step<'a>>,
    out: &mut Vec<String>,
) {
    match (input, known) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(kv) => {
                        path.push(Step::Field(k));
                        walk_unknown(v, kv, path, out);
                        path.pop();
                    }
                    None if v.is_null() => {}
                    None if matches!(k.as_str(), "apiVersion" | "kind") && path.is_empty() => {}
                    None => {
                        path.push(Step::Field(k));
                        out.push(format!(
                            "unknown field {}",
                            service_plan::field::go_quote(&printed(path))
                        ));
                        path.pop();
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(Step::Index(i));
                walk_unknown(x, y, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A path as the unknown-field warning prints it: `spec.ports[0].x`.
fn printed(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(name) if out.is_empty() => out.push_str(name),
            Step::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

const NO_STRINGS: &[&str] = &[];

/// Resources whose registry strategy has `AllowCreateOnUpdate() == true` upstream.
const CREATE_ON_UPDATE: [&str; 4] = ["services", "endpoints", "events", LEASES.plural];

/// Resources whose registry strategy has `AllowUnconditionalUpdate() == false` upstream: a
/// PUT must name the resourceVersion it replaces.
const NO_UNCONDITIONAL_UPDATE: [&str; 1] = [LEASES.plural];

/// The 422 of a PUT without a resourceVersion where one is required. Upstream's store
/// (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, `Update`) names the
/// group and the resource, not the kind, and prints the missing version as 0.
fn unconditional_update_refused(kind: &Kind, name: &str) -> RegistryError {
    RegistryError::Invalid {
        resource: Resource {
            kind: kind.resource.plural,
            ..kind.resource
        },
        name: name.to_string(),
        errors: vec![service_plan::field::FieldError::invalid(
            "metadata.resourceVersion",
            0,
            "must be specified for an update",
        )]
        .into(),
    }
}

/// Every resource served, in discovery order (groups in kube-apiserver's order: apps, then
/// events.k8s.io, then autoscaling, then rbac.authorization.k8s.io, then coordination.k8s.io, then
/// discovery.k8s.io, then flowcontrol.apiserver.k8s.io).
pub static KINDS: [Kind; 20] = [
    Kind {
        resource: SERVICES,
        version: "v1",
        namespaced: true,
        singular: "service",
        short_names: &["svc"],
        categories: &["all"],
        subresources: &["status"],
        name_check: format::name_is_dns1035_label,
        decode: decode_typed::<k8s_openapi::api::core::v1::Service>,
        stored_as: None,
    },
    Kind {
        resource: Resource {
            group: "",
            plural: "endpoints",
            kind: "Endpoints",
        },
        version: "v1",
        namespaced: true,
        singular: "endpoints",
        short_names: &["ep"],
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::validate_path_segment_name,
        decode: decode_typed::<Endpoints>,
        stored_as: None,
    },
    Kind {
        resource: Resource {
            group: "",
            plural: "pods",
            kind: "Pod",
        },
        version: "v1",
        namespaced: true,
        singular: "pod",
        short_names: &["po"],
        categories: &["all"],
        subresources: &["status"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<Pod>,
        stored_as: None,
    },
    Kind {
        resource: Resource {
            group: "",
            plural: "nodes",
            kind: "Node",
        },
        version: "v1",
        namespaced: false,
        singular: "node",
        short_names: &["no"],
        categories: NO_STRINGS,
        subresources: &["status"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<Node>,
        stored_as: None,
    },
    Kind {
        resource: NAMESPACES,
        version: "v1",
        namespaced: false,
        singular: "namespace",
        short_names: &["ns"],
        categories: NO_STRINGS,
        subresources: &["status"],
        name_check: format::name_is_dns1123_label,
        decode: decode_typed::<Namespace>,
        stored_as: None,
    },
    Kind {
        resource: Resource {
            group: "",
            plural: "events",
            kind: "Event",
        },
        version: "v1",
        namespaced: true,
        singular: "event",
        short_names: &["ev"],
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::validate_path_segment_name,
        decode: decode_typed::<Event>,
        stored_as: None,
    },
    Kind {
        resource: Resource {
            group: "apps",
            plural: "deployments",
            kind: "Deployment",
        },
        version: "v1",
        namespaced: true,
        singular: "deployment",
        short_names: &["deploy"],
        categories: &["all"],
        subresources: &["status", "scale"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<Deployment>,
        stored_as: None,
    },
    // ReplicaSets: what a Deployment's rollouts are made of (apps/v1, `kubectl get rs`).
    Kind {
        resource: REPLICA_SETS,
        version: "v1",
        namespaced: true,
        singular: "replicaset",
        short_names: &["rs"],
        categories: &["all"],
        subresources: &["status", "scale"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<k8s_openapi::api::apps::v1::ReplicaSet>,
        stored_as: None,
    },
    // events.k8s.io/v1 Events: the core Events' rows, converted (kube-apiserver's group order
    // puts events.k8s.io right after apps).
    Kind {
        resource: Resource {
            group: service_plan::events::GROUP_NAME,
            plural: "events",
            kind: "Event",
        },
        version: "v1",
        namespaced: true,
        singular: "event",
        short_names: &["ev"],
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::validate_path_segment_name,
        decode: decode_typed::<k8s_openapi::api::events::v1::Event>,
        stored_as: Some(StoredAs {
            group: "",
            version: service_plan::events::STORED_API_VERSION,
            kind: "Event",
            served: service_plan::events::from_core,
            stored: service_plan::events::to_core,
        }),
    },
    // HorizontalPodAutoscalers: stored as autoscaling/v2 (served first, so preferred), and
    // served as autoscaling/v1 over the same rows, converted. Upstream's group order puts
    // autoscaling after authorization (not served here), before batch and rbac.
    Kind {
        resource: HORIZONTAL_POD_AUTOSCALERS,
        version: service_plan::autoscaling::STORED_VERSION,
        namespaced: true,
        singular: "horizontalpodautoscaler",
        short_names: &["hpa"],
        categories: &["all"],
        subresources: &["status"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>,
        stored_as: None,
    },
    Kind {
        resource: HORIZONTAL_POD_AUTOSCALERS,
        version: "v1",
        namespaced: true,
        singular: "horizontalpodautoscaler",
        short_names: &["hpa"],
        categories: &["all"],
        subresources: &["status"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler>,
        stored_as: Some(StoredAs {
            group: service_plan::autoscaling::GROUP_NAME,
            version: service_plan::autoscaling::STORED_VERSION,
            kind: service_plan::autoscaling::KIND,
            served: service_plan::autoscaling::conversion::to_v1,
            stored: service_plan::autoscaling::conversion::from_v1,
        }),
    },
    Kind {
        resource: SERVICE_ACCOUNTS,
        version: "v1",
        namespaced: true,
        singular: "serviceaccount",
        short_names: &["sa"],
        categories: NO_STRINGS,
        subresources: &["token"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<k8s_openapi::api::core::v1::ServiceAccount>,
        stored_as: None,
    },
    Kind {
        resource: rbac::ROLES,
        version: "v1",
        namespaced: true,
        singular: "role",
        short_names: NO_STRINGS,
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::validate_path_segment_name,
        decode: decode_typed::<k8s_openapi::api::rbac::v1::Role>,
        stored_as: None,
    },
    Kind {
        resource: rbac::CLUSTER_ROLES,
        version: "v1",
        namespaced: false,
        singular: "clusterrole",
        short_names: NO_STRINGS,
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::validate_path_segment_name,
        decode: decode_typed::<k8s_openapi::api::rbac::v1::ClusterRole>,
        stored_as: None,
    },
    Kind {
        resource: rbac::ROLE_BINDINGS,
        version: "v1",
        namespaced: true,
        singular: "rolebinding",
        short_names: NO_STRINGS,
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::validate_path_segment_name,
        decode: decode_typed::<k8s_openapi::api::rbac::v1::RoleBinding>,
        stored_as: None,
    },
    Kind {
        resource: rbac::CLUSTER_ROLE_BINDINGS,
        version: "v1",
        namespaced: false,
        singular: "clusterrolebinding",
        short_names: NO_STRINGS,
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::validate_path_segment_name,
        decode: decode_typed::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>,
        stored_as: None,
    },
    Kind {
        resource: LEASES,
        version: "v1",
        namespaced: true,
        singular: "lease",
        short_names: NO_STRINGS,
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<Lease>,
        stored_as: None,
    },
    Kind {
        resource: Resource {
            group: "discovery.k8s.io",
            plural: "endpointslices",
            kind: "EndpointSlice",
        },
        version: "v1",
        namespaced: true,
        singular: "endpointslice",
        short_names: NO_STRINGS,
        categories: NO_STRINGS,
        subresources: NO_STRINGS,
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<EndpointSlice>,
        stored_as: None,
    },
    Kind {
        resource: FLOW_SCHEMAS,
        version: "v1",
        namespaced: false,
        singular: "flowschema",
        short_names: NO_STRINGS,
        categories: NO_STRINGS,
        subresources: &["status"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<FlowSchema>,
        stored_as: None,
    },
    Kind {
        resource: PRIORITY_LEVEL_CONFIGURATIONS,
        version: "v1",
        namespaced: false,
        singular: "prioritylevelconfiguration",
        short_names: NO_STRINGS,
        categories: NO_STRINGS,
        subresources: &["status"],
        name_check: format::name_is_dns1123_subdomain,
        decode: decode_typed::<PriorityLevelConfiguration>,
        stored_as: None,
    },
];

/// FlowSchemas: how API requests are classified (API Priority and Fairness).
pub const FLOW_SCHEMAS: Resource = Resource {
    group: service_plan::flowcontrol::GROUP_NAME,
    plural: service_plan::flowcontrol::bootstrap::FLOW_SCHEMAS,
    kind: "FlowSchema",
};

/// PriorityLevelConfigurations: the priority levels FlowSchemas assign requests to.
pub const PRIORITY_LEVEL_CONFIGURATIONS: Resource = Resource {
    group: service_plan::flowcontrol::GROUP_NAME,
    plural: service_plan::flowcontrol::bootstrap::PRIORITY_LEVELS,
    kind: "PriorityLevelConfiguration",
};

/// The kinds of API Priority and Fairness, whose strategies count spec changes in
/// `metadata.generation`.
const FLOWCONTROL_KINDS: [&str; 2] = ["FlowSchema", "PriorityLevelConfiguration"];

/// HorizontalPodAutoscalers (autoscaling/v2, and autoscaling/v1 as a view).
pub const HORIZONTAL_POD_AUTOSCALERS: Resource = Resource {
    group: service_plan::autoscaling::GROUP_NAME,
    plural: "horizontalpodautoscalers",
    kind: service_plan::autoscaling::KIND,
};

/// Leases: what leader election (the controllers' among them) is decided on.
pub const LEASES: Resource = Resource {
    group: service_plan::lease::GROUP_NAME,
    plural: "leases",
    kind: "Lease",
};

/// ServiceAccounts: identities whose tokens authenticate in team mode.
pub const SERVICE_ACCOUNTS: Resource = Resource {
    group: "",
    plural: "serviceaccounts",
    kind: "ServiceAccount",
};

/// ReplicaSets, which Deployments own and which own Pods.
pub const REPLICA_SETS: Resource = Resource {
    group: "apps",
    plural: "replicasets",
    kind: "ReplicaSet",
};

/// The kind served at `group`/`version`/`plural`.
pub fn kind_for(group: &str, version: &str, plural: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.resource.group == group && k.version == version && k.resource.plural == plural)
}

/// The kind of a plural resource name in any group.
pub fn kind_by_plural(plural: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.resource.plural == plural)
}

/// The object's metadata, for validation, without the managed-fields entries' `fieldsV1`:
/// validation reads only their manager, operation, type and subresource, and deserializing
/// the field sets (a deep copy of each) was most of the cost of this on every controller write.
fn meta_of(object: &Value) -> ObjectMeta {
    // Deserialized from the borrowed tree: copying `metadata` first cost as much again.
    let Some(Value::Object(meta)) = object.get("metadata") else {
        return ObjectMeta::default();
    };
    let decoded = without(meta, "managedFields").and_then(|mut decoded: ObjectMeta| {
        decoded.managed_fields = match meta.get("managedFields") {
            Some(Value::Array(entries)) => Some(
                entries
                    .iter()
                    .map(|entry| match entry {
                        Value::Object(entry) => without(entry, "fieldsV1"),
                        other => ManagedFieldsEntry::deserialize(other),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(other) => Option::deserialize(other)?,
            None => None,
        };
        Ok(decoded)
    });
    decoded.unwrap_or_default()
}

/// `T` deserialized from the fields of `map` but `skipped`.
fn without<T: DeserializeOwned>(map: &Map<String, Value>, skipped: &str) -> serde_json::Result<T> {
    let fields = map
        .iter()
        .filter(|(key, _)| key.as_str() != skipped)
        .map(|(key, value)| (key.as_str(), value));
    T::deserialize(serde::de::value::MapDeserializer::new(fields))
}

/// The finalizer of an owner whose dependents the garbage collector orphans.
const ORPHAN_FINALIZER: &str = "orphan";
/// The finalizer of an owner that waits for its dependents to be deleted first.
const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// How the garbage collector writes: as kube-controller-manager, not as the deleting user.
fn collector() -> WriteOptions {
    WriteOptions {
        field_manager: Some("kube-controller-manager".into()),
        ..WriteOptions::default()
    }
}

/// The kind of the objects `owner`'s controller owns, as far as this server's controllers go:
/// Deployments own ReplicaSets, which own Pods.
fn dependents_of(owner: &Kind) -> Option<&'static str> {
    match owner.resource.kind {
        "Deployment" => Some(REPLICA_SETS.plural),
        "ReplicaSet" => Some("pods"),
        _ => None,
    }
}

fn set_meta(object: &mut Value, key: &str, value: Value) {
    if let Some(meta) = object.as_object_mut().map(|o| {
        o.entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()))
    }) && let Some(m) = meta.as_object_mut()
    {
        if value.is_null() {
            m.remove(key);
        } else {
            m.insert(key.to_string(), value);
        }
    }
}

impl Registry {
    fn decode_object(
        &self,
        kind: &Kind,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<(Value, Vec<String>), RegistryError> {
        let validation = opts.field_validation;
        codec::check_type_meta(body, kind.gvk())
            .map_err(|e| RegistryError::BadRequest(e.message))?;
        let version = codec::data_version(body, kind.version);
        let decoded = if opts.canonical_body {
            Ok((body.clone(), Vec::new()))
        } else {
            (kind.decode)(body)
        };
        let (mut object, unknown) = decoded.map_err(|e| {
            RegistryError::BadRequest(format!(
                "{} in version {} cannot be handled as a {}: {e}",
                kind.resource.kind,
                service_plan::field::go_quote(&version),
                kind.resource.kind
            ))
        })?;
        if validation == FieldValidation::Strict && !unknown.is_empty() {
            return Err(RegistryError::BadRequest(
                codec::strict_error(kind.resource.kind, &version, &unknown).message,
            ));
        }
        if let Some(o) = object.as_object_mut() {
            o.insert("apiVersion".into(), Value::String(kind.api_version()));
            o.insert("kind".into(), Value::String(kind.resource.kind.into()));
        }
        // A view's objects go on in their stored form: defaulted, validated and stored as
        // the kind they are stored as.
        if let Some(stored_as) = &kind.stored_as {
            object = (stored_as.stored)(&object);
        }
        let warnings = if validation == FieldValidation::Warn {
            unknown
        } else {
            Vec::new()
        };
        Ok((object, warnings))
    }

    fn invalid(kind: &Kind, object: &Value, errors: FieldErrors) -> RegistryError {
        RegistryError::Invalid {
            resource: kind.resource,
            name: str_at(object, "/metadata/name").to_string(),
            errors,
        }
    }

    /// POST an object of any served kind.
    pub async fn create(
        &self,
        kind: &'static Kind,
        namespace: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<Applied, RegistryError> {
        self.create_tracked(kind, namespace, body, opts, Tracking::Update)
            .await
    }

    /// POST an object, recording `metadata.managedFields` as `tracking` says.
    ///
    /// A name generated from `generateName` that is taken is generated again, up to
    /// [`GENERATE_NAME_RETRIES`] times, as kube-apiserver v1.32 does (`RetryGenerateName`, GA):
    /// five random characters collide about once in 30,000 names.
    pub(super) async fn create_tracked(
        &self,
        kind: &'static Kind,
        namespace: &str,
        body: &Value,
        opts: &WriteOptions,
        tracking: Tracking,
    ) -> Result<Applied, RegistryError> {
        let generated = str_at(body, "/metadata/name").is_empty()
            && !str_at(body, "/metadata/generateName").is_empty();
        let mut retries = 0;
        loop {
            let created = if kind.is_services() {
                self.create_service_tracked(namespace, body, opts, tracking)
                    .await
            } else {
                self.create_object(kind, namespace, body, opts, tracking)
                    .await
            };
            match created {
                Err(RegistryError::AlreadyExists { .. })
                    if generated && retries < GENERATE_NAME_RETRIES =>
                {
                    retries += 1;
                }
                created => return created.map(|applied| served(kind, applied)),
            }
        }
    }

    /// POST an object of a kind other than Service, once.
    async fn create_object(
        &self,
        kind: &'static Kind,
        namespace: &str,
        body: &Value,
        opts: &WriteOptions,
        tracking: Tracking,
    ) -> Result<Applied, RegistryError> {
        let (mut object, warnings) = self.decode_object(kind, body, opts)?;
        if kind.namespaced {
            match str_at(&object, "/metadata/namespace") {
                "" => set_meta(&mut object, "namespace", Value::String(namespace.into())),
                ns if ns == namespace => {}
                _ => {
                    return Err(RegistryError::BadRequest(
                        "the namespace of the provided object does not match the namespace sent on the request".into(),
                    ));
                }
            }
            self.require_namespace(namespace).await?;
        } else {
            set_meta(&mut object, "namespace", Value::Null);
        }
        let meta = super::new_object_meta();
        if str_at(&object, "/metadata/name").is_empty() {
            let base = str_at(&object, "/metadata/generateName").to_string();
            if !base.is_empty() {
                let name = service_plan::service::pipeline::generate_name(&base, &meta.name_suffix);
                set_meta(&mut object, "name", Value::String(name));
            }
        }
        set_meta(&mut object, "uid", Value::String(meta.uid.clone()));
        set_meta(
            &mut object,
            "creationTimestamp",
            serde_json::to_value(&meta.now).unwrap_or(Value::Null),
        );
        let request = object.clone();
        for server_owned in [
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
            "managedFields",
        ] {
            set_meta(&mut object, server_owned, Value::Null);
        }
        default_on_create(kind, &mut object);
        service_plan::rbac::objects::default_object(kind.resource.plural, &mut object);
        tracking.record(opts, None, Some(&request), &mut object, None);
        let mut errors = validate_object_meta_generic(
            &meta_of(&object),
            kind.namespaced,
            kind.name_check,
            "metadata",
        );
        errors.extend(validate_kind(kind, &object, None));
        if !errors.is_empty() {
            return Err(Self::invalid(kind, &object, errors));
        }
        if !str_at(&object, "/metadata/resourceVersion").is_empty() {
            return Err(RegistryError::BadRequest(
                "resourceVersion should not be set on objects to be created".into(),
            ));
        }
        self.check_rbac_write(&kind.resource, opts, &object, None)?;
        let name = str_at(&object, "/metadata/name").to_string();
        let ns = if kind.namespaced { namespace } else { "" };
        if opts.dry_run {
            return Ok(Applied {
                object,
                warnings,
                changed: true,
            });
        }
        let write = Write {
            // A controller's own object: its informer reads it next (see `canonical_body`).
            hand_over: opts.canonical_body,
            ..Write::new(WriteOp::Put {
                key: ObjectKey::new(kind.resource.plural, ns, &name),
                uid: meta.uid,
                object,
                precondition: Precondition::MustNotExist,
            })
        };
        match self.commit(write).await {
            Ok(event) => {
                if kind.resource == NAMESPACES {
                    self.ensure_default_service_account(&name).await?;
                }
                Ok(Applied {
                    object: event.object,
                    warnings,
                    changed: true,
                })
            }
            Err(StoreError::AlreadyExists) => Err(RegistryError::AlreadyExists {
                resource: kind.resource,
                name,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// GET one object of any served kind.
    pub async fn get(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
    ) -> Result<Value, RegistryError> {
        self.get_read(kind, namespace, name)?.into_value()
    }

    /// GET one object of any served kind, as a reader gets it (see [`Registry::read`]).
    pub fn get_read(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
    ) -> Result<ReadObject, RegistryError> {
        let ns = if kind.namespaced { namespace } else { "" };
        let read = self
            .read_one(kind.resource.plural, ns, name)?
            .ok_or_else(|| RegistryError::NotFound {
                resource: kind.resource,
                name: name.to_string(),
            })?;
        self.serve(kind, read)
    }

    /// A stored object as a reader of `kind` gets it: as read, or converted for a view.
    pub fn serve(&self, kind: &Kind, read: ReadObject) -> Result<ReadObject, RegistryError> {
        if !kind.is_view() {
            return Ok(read);
        }
        Ok(ReadObject::Decorated(kind.served(read.into_value()?)))
    }

    /// [`Registry::list_read`] of `kind`'s objects, each as its readers get it.
    pub fn list_served(
        &self,
        kind: &Kind,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListPage<ReadObject>, RegistryError> {
        let mut page = self.list_read(kind.resource.plural, namespace, opts)?;
        if kind.is_view() {
            page.items = page
                .items
                .into_iter()
                .map(|item| self.serve(kind, item))
                .collect::<Result<_, _>>()?;
        }
        Ok(page)
    }

    /// PUT an object of any served kind.
    pub async fn update(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<Applied, RegistryError> {
        if kind.is_services() {
            return self.update_service(namespace, name, body, opts).await;
        }
        let body = body.clone();
        self.update_with(
            kind,
            namespace,
            name,
            opts,
            false,
            move |_| Ok(body.clone()),
        )
        .await
    }

    /// PUT as the API serves it: an update, except that a missing object of a kind whose
    /// strategy allows create-on-update (Services, Endpoints, Events) is created. Returns
    /// whether the object was created.
    pub async fn replace(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<(Applied, bool), RegistryError> {
        let unconditional = str_at(body, "/metadata/resourceVersion").is_empty();
        let ns = if kind.namespaced { namespace } else { "" };
        let missing = unconditional
            && self
                .get_raw(kind.resource.plural, ns, name)
                .await?
                .is_none();
        if unconditional && !missing && NO_UNCONDITIONAL_UPDATE.contains(&kind.resource.plural) {
            return Err(unconditional_update_refused(kind, name));
        }
        if CREATE_ON_UPDATE.contains(&kind.resource.plural) && missing {
            let body_name = str_at(body, "/metadata/name");
            if body_name != name {
                return Err(RegistryError::BadRequest(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
            return Ok((self.create(kind, namespace, body, opts).await?, true));
        }
        Ok((self.update(kind, namespace, name, body, opts).await?, false))
    }

    /// PATCH an object of any served kind; `patch` maps the current object to the new body.
    pub async fn patch(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        patch: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        if kind.is_services() {
            return self.patch_service(namespace, name, opts, patch).await;
        }
        self.update_with(kind, namespace, name, opts, false, patch)
            .await
    }

    /// PUT the `status` subresource of any served kind.
    pub async fn update_status(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<Applied, RegistryError> {
        if kind.is_services() {
            return self
                .update_service_status(namespace, name, body, opts)
                .await;
        }
        let body = body.clone();
        self.update_with(kind, namespace, name, opts, true, move |_| Ok(body.clone()))
            .await
    }

    /// PATCH the `status` subresource of any served kind.
    pub async fn patch_status(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        patch: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        if kind.is_services() {
            return self
                .patch_service_status(namespace, name, opts, patch)
                .await;
        }
        self.update_with(kind, namespace, name, opts, true, patch)
            .await
    }

    async fn update_with(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        status_only: bool,
        body_for: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        self.update_with_tracked(
            kind,
            namespace,
            name,
            opts,
            status_only,
            Tracking::Update,
            body_for,
        )
        .await
    }

    /// The update path, recording `metadata.managedFields` as `tracking` says.
    #[expect(
        clippy::too_many_arguments,
        reason = "the update path's inputs, passed through unchanged"
    )]
    pub(super) async fn update_with_tracked(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        status_only: bool,
        tracking: Tracking,
        body_for: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        let ns = if kind.namespaced { namespace } else { "" };
        let key = &ObjectKey::new(kind.resource.plural, ns, name);
        let (body_for, tracking) = (&body_for, &tracking);
        let updated = self.guaranteed_update(kind.resource, key, |stored| async move {
            // A patch applies to the object as the client reads it.
            let body = body_for(&kind.served_ref(&stored.object))?;
            let (mut object, warnings) = self.decode_object(kind, &body, opts)?;
            // Every update body is defaulted as it is decoded, as kube-apiserver does.
            service_plan::workload::defaults::set_object_defaults(kind.resource.kind, &mut object);
            let body_name = str_at(&object, "/metadata/name").to_string();
            if body_name != name {
                return Err(RegistryError::BadRequest(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
            if kind.namespaced {
                match str_at(&object, "/metadata/namespace").to_string() {
                    n if n.is_empty() => {
                        set_meta(&mut object, "namespace", Value::String(namespace.into()))
                    }
                    n if n == namespace => {}
                    n => {
                        return Err(RegistryError::BadRequest(format!(
                            "the namespace of the object ({n}) does not match the namespace on the request ({namespace})"
                        )));
                    }
                }
            }
            let stored_rv = stored.revision.to_string();
            let explicit_rv = match str_at(&object, "/metadata/resourceVersion") {
                "" => false,
                rv if rv == stored_rv => true,
                _ => {
                    return Err(RegistryError::Conflict {
                        resource: kind.resource,
                        name: name.to_string(),
                    });
                }
            };
            set_meta(&mut object, "resourceVersion", Value::String(stored_rv));
            let old = &stored.object;
            if status_only {
                // The status strategy keeps everything but status from storage; a Deployment's
                // or ReplicaSet's keeps only the spec, so its controller records revisions in
                // the annotations with a status write; an apply keeps the managed fields its
                // merge computed.
                let status = object.get("status").cloned();
                let annotations = object.at("/metadata/annotations").cloned();
                let managed = object.at("/metadata/managedFields").cloned();
                object = old.clone();
                if WORKLOAD_KINDS.contains(&kind.resource.kind) {
                    set_meta(&mut object, "annotations", annotations.unwrap_or(Value::Null));
                }
                if let (Tracking::Apply, Some(managed)) = (tracking, managed) {
                    set_meta(&mut object, "managedFields", managed);
                }
                match status {
                    Some(s) => object["status"] = s,
                    None => {
                        if let Some(o) = object.as_object_mut() {
                            o.remove("status");
                        }
                    }
                }
            } else {
                // A spec write keeps the stored status, uid and creation time.
                match old.get("status") {
                    Some(s) if kind.subresources.contains(&"status") => {
                        object["status"] = s.clone()
                    }
                    _ => {}
                }
                for keep in [
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "generation",
                ] {
                    if let Some(v) = old.at(&format!("/metadata/{keep}")) {
                        if keep == "uid" && !str_at(&object, "/metadata/uid").is_empty() {
                            continue;
                        }
                        set_meta(&mut object, keep, v.clone());
                    }
                }
                bump_generation(kind, old, &mut object);
            }
            prepare_for_update(kind, &mut object, old);
            tracking.record(
                opts,
                Some(old),
                None,
                &mut object,
                status_only.then_some("status"),
            );
            service_plan::rbac::objects::default_object(kind.resource.plural, &mut object);
            let mut errors = validate_object_meta_generic(
                &meta_of(&object),
                kind.namespaced,
                kind.name_check,
                "metadata",
            );
            errors.extend(validate_object_meta_update_generic(
                &meta_of(&object),
                &meta_of(old),
                "metadata",
            ));
            errors.extend(validate_kind(kind, &object, Some(old)));
            if !errors.is_empty() {
                return Err(Self::invalid(kind, &object, errors));
            }
            self.check_rbac_write(&kind.resource, opts, &object, Some(old))?;
            if &object == old {
                return Ok(Attempt::Done(Applied {
                    object: object.clone(),
                    warnings,
                    changed: false,
                }));
            }
            if opts.dry_run {
                return Ok(Attempt::Done(Applied {
                    object,
                    warnings,
                    changed: true,
                }));
            }
            let write = replace_at(key, &stored, object);
            let answer = move |event: crate::store::Committed| Applied {
                object: event.object,
                warnings,
                changed: true,
            };
            Ok(Commit::new(write, answer)
                .conflict_is_final(explicit_rv)
                .into())
        });
        updated.await.map(|applied| served(kind, applied))
    }

    /// DELETE an object of any served kind; returns its last state. Deleting a namespace
    /// deletes everything in it first.
    pub async fn delete(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        preconditions: &DeletePreconditions,
        opts: &WriteOptions,
    ) -> Result<Value, RegistryError> {
        if kind.is_services() {
            return self
                .delete_service(namespace, name, preconditions, opts)
                .await;
        }
        if kind.resource == NAMESPACES {
            if PROTECTED_NAMESPACES.contains(&name) {
                return Err(RegistryError::Forbidden {
                    resource: NAMESPACES,
                    name: name.to_string(),
                    detail: "this namespace may not be deleted".into(),
                });
            }
            if self.get_raw(NAMESPACES.plural, "", name).await?.is_none() {
                return Err(RegistryError::NotFound {
                    resource: NAMESPACES,
                    name: name.to_string(),
                });
            }
            if !opts.dry_run {
                self.delete_namespace_contents(name).await?;
            }
        }
        self.delete_object(kind, namespace, name, preconditions, opts)
            .await
            .map(|object| kind.served(object))
    }

    async fn delete_object(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        preconditions: &DeletePreconditions,
        opts: &WriteOptions,
    ) -> Result<Value, RegistryError> {
        let ns = if kind.namespaced { namespace } else { "" };
        let key = &ObjectKey::new(kind.resource.plural, ns, name);
        let finalizer = match opts.propagation {
            Propagation::Background => None,
            Propagation::Orphan => Some(ORPHAN_FINALIZER),
            Propagation::Foreground => Some(FOREGROUND_FINALIZER),
        };
        if let Some(finalizer) =
            finalizer.filter(|_| !opts.dry_run && dependents_of(kind).is_some())
        {
            let uid = self
                .mark_deleting(kind, key, preconditions, finalizer)
                .await?;
            Box::pin(self.collect_dependents(kind, namespace, &uid, opts.propagation)).await?;
        }
        self.guaranteed_update(kind.resource, key, |stored| async move {
            check_delete_preconditions(kind.resource, name, &stored, preconditions)?;
            if opts.dry_run {
                return Ok(Attempt::Done(stored.object));
            }
            let write = Write::new(WriteOp::Delete {
                key: key.clone(),
                precondition: Precondition::Revision(stored.revision),
            });
            Ok(Commit::new(write, |event| event.object).into())
        })
        .await
    }

    /// The first step of a delete the garbage collector finishes: the object gets its
    /// `deletionTimestamp` and `finalizer`, so that its controller stops acting for it (a
    /// Deployment being deleted adopts nothing) while its dependents are handled. Returns its
    /// uid.
    async fn mark_deleting(
        &self,
        kind: &'static Kind,
        key: &ObjectKey,
        preconditions: &DeletePreconditions,
        finalizer: &'static str,
    ) -> Result<String, RegistryError> {
        let now = serde_json::to_value(super::now()).unwrap_or(Value::Null);
        self.guaranteed_update(kind.resource, key, |stored| {
            let now = now.clone();
            async move {
                check_delete_preconditions(kind.resource, &key.name, &stored, preconditions)?;
                let uid = stored.uid.clone();
                let mut object = stored.object.clone();
                set_meta(&mut object, "deletionTimestamp", now);
                set_meta(
                    &mut object,
                    "deletionGracePeriodSeconds",
                    serde_json::json!(0),
                );
                let finalizers = &mut object["metadata"]["finalizers"];
                match finalizers.as_array_mut() {
                    Some(list) if list.iter().any(|f| f == finalizer) => {}
                    Some(list) => list.push(serde_json::json!(finalizer)),
                    None => *finalizers = serde_json::json!([finalizer]),
                }
                let write = super::write::replace_at(key, &stored, object);
                Ok(Commit::new(write, move |_| uid).into())
            }
        })
        .await
    }

    /// What the garbage collector does to an owner's dependents before the owner goes, for the
    /// kinds [`dependents_of`] names. With `Orphan` they lose their owner reference to it and
    /// stay (`orphanDependents` in `pkg/controller/garbagecollector/garbagecollector.go`); with
    /// `Foreground` they are deleted first, each in the foreground too.
    async fn collect_dependents(
        &self,
        owner: &'static Kind,
        namespace: &str,
        uid: &str,
        propagation: Propagation,
    ) -> Result<(), RegistryError> {
        let Some((kind, names)) = self.dependents(owner, namespace, uid).await? else {
            return Ok(());
        };
        let foreground = WriteOptions {
            propagation: Propagation::Foreground,
            ..collector()
        };
        for name in &names {
            let done = match propagation {
                Propagation::Background => return Ok(()),
                Propagation::Orphan => self
                    .update_with(kind, namespace, name, &collector(), false, |current| {
                        let mut object = current.clone();
                        let refs = object
                            .pointer_mut("/metadata/ownerReferences")
                            .and_then(Value::as_array_mut);
                        let left = refs.map_or(0, |refs| {
                            refs.retain(|r| r["uid"] != uid);
                            refs.len()
                        });
                        if left == 0 {
                            set_meta(&mut object, "ownerReferences", Value::Null);
                        }
                        Ok(object)
                    })
                    .await
                    .map(drop),
                Propagation::Foreground => {
                    let pre = DeletePreconditions::default();
                    self.delete_object(kind, namespace, name, &pre, &foreground)
                        .await
                        .map(drop)
                }
            };
            match done {
                // Deleted meanwhile: nothing left to orphan or delete.
                Ok(()) | Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The kind and names of the objects in `namespace` that name `uid` among their owners,
    /// for the kinds [`dependents_of`] names.
    async fn dependents(
        &self,
        owner: &'static Kind,
        namespace: &str,
        uid: &str,
    ) -> Result<Option<(&'static Kind, Vec<String>)>, RegistryError> {
        let Some(dependents) = dependents_of(owner) else {
            return Ok(None);
        };
        let kind = kind_by_plural(dependents)
            .ok_or_else(|| RegistryError::Internal(format!("no served kind for {dependents}")))?;
        let page = self
            .list(dependents, Some(namespace), &Default::default())
            .await?;
        let names = page
            .items
            .iter()
            .filter(|object| {
                object
                    .at("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
            })
            .map(|object| str_at(object, "/metadata/name").to_string())
            .collect();
        Ok(Some((kind, names)))
    }

    async fn delete_namespace_contents(&self, namespace: &str) -> Result<(), RegistryError> {
        // A view's objects are deleted with the kind they are stored as.
        for kind in KINDS.iter().filter(|k| k.namespaced && !k.is_view()) {
            let page = self
                .list(kind.resource.plural, Some(namespace), &Default::default())
                .await?;
            for item in page.items {
                let name = str_at(&item, "/metadata/name").to_string();
                let (pre, opts) = (DeletePreconditions::default(), WriteOptions::default());
                let deleted = if kind.is_services() {
                    self.delete_service(namespace, &name, &pre, &opts).await
                } else {
                    self.delete_object(kind, namespace, &name, &pre, &opts)
                        .await
                };
                match deleted {
                    Ok(_) | Err(RegistryError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

/// A write's result as `kind` serves it.
fn served(kind: &Kind, mut applied: Applied) -> Applied {
    if kind.is_view() {
        applied.object = kind.served(applied.object);
    }
    applied
}

/// The kind's own validation of a create (`old` None) or an update, after the metadata's.
fn validate_kind(kind: &Kind, object: &Value, old: Option<&Value>) -> FieldErrors {
    use service_plan::workload::validate;
    let mut errors = match kind.resource.kind {
        "Event" => {
            // Strict for events.k8s.io/v1 writes, legacy for core/v1 ones, as upstream's
            // strategy decides by the request's group version.
            let api = service_plan::events::RequestApi::of_group(kind.resource.group);
            return match old {
                None => service_plan::events::validate_event_create(object, api),
                Some(old) => service_plan::events::validate_event_update(object, old, api),
            };
        }
        "Deployment" => validate::validate_deployment_spec(object),
        "ReplicaSet" => validate::validate_replica_set_spec(object),
        "Pod" => return validate::validate_pod(object),
        "Lease" => return service_plan::lease::validate::validate_lease(object),
        service_plan::autoscaling::KIND => {
            return service_plan::autoscaling::validation::validate(object, old);
        }
        kind if FLOWCONTROL_KINDS.contains(&kind) => {
            return service_plan::flowcontrol::validate::validate(object);
        }
        _ => {
            return service_plan::rbac::objects::validate_object(kind.resource.plural, object, old);
        }
    };
    if let Some(old) = old {
        errors.extend(validate::validate_selector_unchanged(object, old));
    }
    errors
}

/// Deployments and ReplicaSets: spec-only status strategies and generations.
const WORKLOAD_KINDS: [&str; 2] = ["Deployment", "ReplicaSet"];

/// Defaults kube-apiserver applies to the other kinds on create, and what their strategies
/// clear (`PrepareForCreate`).
fn default_on_create(kind: &Kind, object: &mut Value) {
    match kind.resource.kind {
        "Namespace" => {
            let name = str_at(object, "/metadata/name").to_string();
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                let labels = meta
                    .entry("labels")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(l) = labels.as_object_mut() {
                    l.insert("kubernetes.io/metadata.name".into(), Value::String(name));
                }
            }
            object["spec"] = serde_json::json!({"finalizers": ["kubernetes"]});
            object["status"] = serde_json::json!({"phase": "Active"});
        }
        "Deployment" => {
            // deploymentStrategy.PrepareForCreate: status is the controller's to write.
            set_meta(object, "generation", Value::from(1));
            object["status"] = serde_json::json!({});
            service_plan::workload::defaults::set_deployment_defaults(object);
        }
        "Lease" => service_plan::lease::validate::prepare_for_create(object),
        service_plan::autoscaling::KIND => {
            service_plan::autoscaling::on_decode(object);
            service_plan::autoscaling::prepare_for_create(object);
        }
        kind if FLOWCONTROL_KINDS.contains(&kind) => {
            service_plan::flowcontrol::validate::set_defaults(object);
            service_plan::flowcontrol::validate::prepare_for_create(object);
        }
        "ReplicaSet" => {
            // rsStrategy.PrepareForCreate; `status.replicas` has no omitempty.
            set_meta(object, "generation", Value::from(1));
            object["status"] = serde_json::json!({"replicas": 0});
            service_plan::workload::defaults::set_replica_set_defaults(object);
        }
        "Pod" => {
            service_plan::workload::defaults::set_pod_defaults(object);
            if object.at("/status/phase").is_none() {
                let qos_class = service_plan::workload::qos::pod_qos_class(object);
                object["status"] = serde_json::json!({"phase": "Pending", "qosClass": qos_class});
            }
        }
        _ => {}
    }
}

/// What a kind's strategy clears from an update before it is validated
/// (`PrepareForUpdate`), beyond the status and metadata rules every kind shares.
fn prepare_for_update(kind: &Kind, object: &mut Value, old: &Value) {
    if kind.resource == LEASES {
        service_plan::lease::validate::prepare_for_update(object, old);
    }
}

/// Deployments and ReplicaSets count spec changes in `metadata.generation`; a Deployment's
/// annotation changes count too, as its ReplicaSets copy them (deploymentStrategy).
fn bump_generation(kind: &Kind, old: &Value, object: &mut Value) {
    if !WORKLOAD_KINDS.contains(&kind.resource.kind)
        && !FLOWCONTROL_KINDS.contains(&kind.resource.kind)
    {
        return;
    }
    let generation = old
        .at("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let annotations_changed = kind.resource.kind == "Deployment"
        && old.at("/metadata/annotations") != object.at("/metadata/annotations");
    let next = if old.get("spec") != object.get("spec") || annotations_changed {
        generation + 1
    } else {
        generation
    };
    set_meta(object, "generation", Value::from(next));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Unknown fields are named by their whole path, through maps and lists, and a null or
    /// the top level's type fields are never reported.
    #[test]
    fn unknown_fields_are_named_by_their_path() {
        let input = json!({"apiVersion": "v1", "kind": "Endpoints", "x": 1, "gone": null,
            "metadata": {"name": "web", "extra": {"a": 1}},
            "subsets": [{"addresses": [{"ip": "10.0.0.1", "zone": "z"}]}, {"y": true}]});
        let known = json!({"metadata": {"name": "web"},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}, {}]});
        let mut found = Vec::new();

        walk_unknown(&input, &known, &mut Vec::new(), &mut found);

        assert_eq!(
            found,
            [
                r#"unknown field "x""#,
                r#"unknown field "metadata.extra""#,
                r#"unknown field "subsets[0].addresses[0].zone""#,
                r#"unknown field "subsets[1].y""#,
            ]
        );
    }

    /// What the endpoints controller writes is canonical already, as `canonical_body`
    /// assumes: the typed round trip gives each of its objects back unchanged, key order
    /// included, with no unknown field.
    #[test]
    fn computed_endpoints_are_canonical() {
        let service: k8s_openapi::api::core::v1::Service = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "u1",
                "labels": {"app": "web"}, "annotations": {"a": "b"}},
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.10",
                "ipFamilies": ["IPv4"], "publishNotReadyAddresses": false,
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}]}}))
        .expect("a Service");
        let pod = |name: &str, ip: &str, ready: &str| -> Pod {
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "shop", "uid": name,
                    "labels": {"app": "web"}, "resourceVersion": "7"},
                "spec": {"nodeName": "node-a", "hostname": name, "containers": [{"name": "c",
                    "ports": [{"name": "http", "containerPort": 8080}]}]},
                "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                    "conditions": [{"type": "Ready", "status": ready}]}}))
            .expect("a Pod")
        };
        let pods = [pod("a", "10.0.0.1", "True"), pod("b", "10.0.0.2", "False")];
        let zones = [("node-a".to_owned(), "zone-1".to_owned())].into();
        let computed = service_plan::endpoints::compute(&service, &pods, Some(&zones))
            .expect("a selector has endpoints");
        let mut objects = vec![(
            "endpoints",
            serde_json::to_value(&computed.endpoints).expect("encodes"),
        )];
        for slice in &computed.slices {
            objects.push((
                "endpointslices",
                serde_json::to_value(slice).expect("encodes"),
            ));
        }

        for (plural, object) in objects {
            let kind = kind_by_plural(plural).expect("served");
            let (decoded, unknown) = (kind.decode)(&object).expect("decodes");

            assert!(unknown.is_empty(), "{plural}: {unknown:?}");
            assert_eq!(
                serde_json::to_string(&decoded).expect("encodes"),
                serde_json::to_string(&object).expect("encodes"),
                "{plural}"
            );
        }
    }

    /// Validation's view of the metadata is the whole metadata but the field sets: a bad
    /// manager is still seen, and an entry or a metadata that does not decode still yields
    /// none, as a full decode would.
    #[test]
    fn meta_of_is_the_metadata_without_field_sets() {
        let object = json!({"metadata": {
            "name": "web", "namespace": "default", "labels": {"app": "web"},
            "managedFields": [
                {"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                 "time": "2026-12-06T07:00:00Z", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}}},
                {"manager": "x".repeat(200), "operation": "Bad", "subresource": "status"},
            ],
        }});
        let full = ObjectMeta::deserialize(&object["metadata"]).expect("metadata");
        let mut expected = full.clone();
        for entry in expected.managed_fields.iter_mut().flatten() {
            entry.fields_v1 = None;
        }

        assert_eq!(meta_of(&object), expected);
        assert!(full.managed_fields.expect("entries")[0].fields_v1.is_some());
        let mut bad_entry = object.clone();
        bad_entry["metadata"]["managedFields"][0]["manager"] = json!(7);
        assert_eq!(meta_of(&bad_entry), ObjectMeta::default());
        let mut bad_list = object.clone();
        bad_list["metadata"]["managedFields"] = json!("no list");
        assert_eq!(meta_of(&bad_list), ObjectMeta::default());
        let mut no_list = object.clone();
        no_list["metadata"]["managedFields"] = Value::Null;
        assert_eq!(meta_of(&no_list).managed_fields, None);
        assert_eq!(meta_of(&no_list).name.as_deref(), Some("web"));
    }
}
