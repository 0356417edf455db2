//! OpenAPI v3: an index and one document per group version. Each kind's PATCH operation
//! carries `x-kubernetes-group-version-kind` and the `fieldValidation` parameter, which is
//! what makes kubectl leave validation to the server (§4). The schemas, with upstream's
//! descriptions, come from the k8s-openapi types (their `schemars` support) rather than being
//! written by hand; each kind's schema names its group, version and kind, which is how
//! `kubectl explain` finds it. Upstream's `x-kubernetes-*` list, map and patch extensions are
//! written in by [`extensions`]; [`v2`] serves the same schemas as Swagger 2.0.

use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::version::GIT_VERSION;
use crate::registry::{KINDS, Kind};

mod extensions;
pub mod v2;

/// One group version's document, serialised once.
struct Document {
    /// `api/v1` or `apis/apps/v1`.
    path: String,
    bytes: Vec<u8>,
    /// Upper-case hex SHA-256 of `bytes`.
    hash: String,
}

static DOCUMENTS: LazyLock<Vec<Document>> = LazyLock::new(build_documents);

fn build_documents() -> Vec<Document> {
    let mut group_versions: Vec<(&'static str, &'static str)> = Vec::new();
    for kind in &KINDS {
        if !group_versions.contains(&(kind.resource.group, kind.version)) {
            group_versions.push((kind.resource.group, kind.version));
        }
    }
    group_versions
        .into_iter()
        .map(|(group, version)| {
            let path = if group.is_empty() {
                format!("api/{version}")
            } else {
                format!("apis/{group}/{version}")
            };
            // A `Value` always encodes: its Display cannot fail, unlike a generic `to_vec`.
            let bytes = document(group, version).to_string().into_bytes();
            let hash = hex::encode_upper(Sha256::digest(&bytes));
            Document { path, bytes, hash }
        })
        .collect()
}

fn query_param(name: &str, schema_type: &str) -> Value {
    json!({"name": name, "in": "query", "schema": {"type": schema_type, "uniqueItems": true}})
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "uniqueItems": true}})
}

/// `CoreV1`, `AppsV1`, `DiscoveryV1`: upstream's operationId infix.
fn operation_infix(kind: &Kind) -> String {
    let group = kind.resource.group.trim_end_matches(".k8s.io");
    let group = if group.is_empty() { "core" } else { group };
    let mut out = String::new();
    for word in group.split('.').chain(std::iter::once(kind.version)) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn operation(kind: &Kind, verb: &str, action: &str, suffix: &str, parameters: Vec<Value>) -> Value {
    let scope = if kind.namespaced { "Namespaced" } else { "" };
    json!({
        "operationId": format!("{verb}{}{scope}{}{suffix}", operation_infix(kind), kind.resource.kind),
        "parameters": parameters,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": kind.resource.group, "version": kind.version, "kind": kind.resource.kind},
    })
}

fn write_params(patch: bool) -> Vec<Value> {
    let mut params = vec![
        query_param("dryRun", "string"),
        query_param("fieldManager", "string"),
    ];
    if patch {
        params.push(query_param("force", "boolean"));
    }
    params.push(query_param("fieldValidation", "string"));
    params
}

/// The paths of one kind: its collection, its objects and their status.
fn kind_paths(kind: &Kind, paths: &mut Map<String, Value>) {
    let prefix = if kind.resource.group.is_empty() {
        format!("/api/{}", kind.version)
    } else {
        format!("/apis/{}/{}", kind.resource.group, kind.version)
    };
    let scope = if kind.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let collection = format!("{prefix}{scope}/{}", kind.resource.plural);
    let mut path_params = if kind.namespaced {
        vec![path_param("namespace")]
    } else {
        Vec::new()
    };
    paths.insert(
        collection.clone(),
        json!({
            "get": operation(kind, "list", "list", "", Vec::new()),
            "post": operation(kind, "create", "post", "", write_params(false)),
            "parameters": path_params,
        }),
    );
    path_params.push(path_param("name"));
    paths.insert(
        format!("{collection}/{{name}}"),
        json!({
            "get": operation(kind, "read", "get", "", Vec::new()),
            "put": operation(kind, "replace", "put", "", write_params(false)),
            "patch": operation(kind, "patch", "patch", "", write_params(true)),
            "delete": operation(kind, "delete", "delete", "", vec![query_param("dryRun", "string")]),
            "parameters": path_params,
        }),
    );
    if kind.subresources.contains(&"status") {
        paths.insert(
            format!("{collection}/{{name}}/status"),
            json!({
                "get": operation(kind, "read", "get", "Status", Vec::new()),
                "put": operation(kind, "replace", "put", "Status", write_params(false)),
                "patch": operation(kind, "patch", "patch", "Status", write_params(true)),
                "parameters": path_params,
            }),
        );
    }
}

fn document(group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    let kinds: Vec<&Kind> = KINDS
        .iter()
        .filter(|k| k.resource.group == group && k.version == version)
        .collect();
    for kind in &kinds {
        kind_paths(kind, &mut paths);
    }
    let schemas = schemas(SchemaSettings::openapi3(), &kinds);
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// The schemas of `kinds` and of everything they refer to, generated with `settings` (which
/// say where references point): each kind's names its group, version and kind, which is how
/// `kubectl explain` finds it, and upstream's `x-kubernetes-*` extensions are written in.
fn schemas(settings: SchemaSettings, kinds: &[&Kind]) -> Map<String, Value> {
    let mut generator = settings.into_generator();
    let named: Vec<(String, &Kind)> = kinds
        .iter()
        .map(|kind| (schema_of(kind, &mut generator), *kind))
        .collect();
    let mut schemas = generator.take_definitions(true);
    for (name, kind) in named {
        if let Some(Value::Object(schema)) = schemas.get_mut(&name) {
            schema.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([{"group": kind.resource.group, "kind": kind.resource.kind, "version": kind.version}]),
            );
        }
    }
    extensions::mark(&mut schemas);
    schemas
}

/// The schema of the field at the dotted `path` below the definition `root`, following
/// references and list items.
#[cfg(test)]
fn field_schema<'a>(schemas: &'a Map<String, Value>, root: &str, path: &str) -> Option<&'a Value> {
    let mut definition = root.to_string();
    let segments: Vec<&str> = path.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        let property = schemas
            .get(&definition)?
            .pointer(&format!("/properties/{segment}"))?;
        if i + 1 == segments.len() {
            return Some(property);
        }
        definition = referenced(property).or_else(|| property.get("items").and_then(referenced))?;
    }
    None
}

/// The definition a schema refers to (`$ref`, or the one `allOf` entry upstream wraps it in).
#[cfg(test)]
fn referenced(schema: &Value) -> Option<String> {
    let reference = schema
        .get("$ref")
        .or_else(|| schema.pointer("/allOf/0/$ref"))?
        .as_str()?;
    reference.rsplit('/').next().map(str::to_owned)
}

/// Generates the schema of `kind`'s type (and everything it refers to) into `generator`;
/// returns the schema's name, e.g. `io.k8s.api.core.v1.Service`.
fn schema_of(kind: &Kind, generator: &mut SchemaGenerator) -> String {
    fn named<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
        generator.subschema_for::<T>();
        T::schema_name().into_owned()
    }
    use k8s_openapi::api::{
        apps, autoscaling, coordination, core, discovery, events, flowcontrol, rbac,
    };
    match (kind.resource.group, kind.resource.kind) {
        ("", "Service") => named::<core::v1::Service>(generator),
        ("", "Endpoints") => named::<core::v1::Endpoints>(generator),
        ("", "Pod") => named::<core::v1::Pod>(generator),
        ("", "Node") => named::<core::v1::Node>(generator),
        ("", "Namespace") => named::<core::v1::Namespace>(generator),
        ("", "Event") => named::<core::v1::Event>(generator),
        (service_plan::events::GROUP_NAME, "Event") => named::<events::v1::Event>(generator),
        ("", "ServiceAccount") => named::<core::v1::ServiceAccount>(generator),
        (_, "Deployment") => named::<apps::v1::Deployment>(generator),
        (_, "ReplicaSet") => named::<apps::v1::ReplicaSet>(generator),
        (_, "EndpointSlice") => named::<discovery::v1::EndpointSlice>(generator),
        (_, "Lease") => named::<coordination::v1::Lease>(generator),
        (_, "FlowSchema") => named::<flowcontrol::v1::FlowSchema>(generator),
        (_, "PriorityLevelConfiguration") => {
            named::<flowcontrol::v1::PriorityLevelConfiguration>(generator)
        }
        (service_plan::autoscaling::GROUP_NAME, "HorizontalPodAutoscaler") => match kind.version {
            "v1" => named::<autoscaling::v1::HorizontalPodAutoscaler>(generator),
            _ => named::<autoscaling::v2::HorizontalPodAutoscaler>(generator),
        },
        (_, "Role") => named::<rbac::v1::Role>(generator),
        (_, "ClusterRole") => named::<rbac::v1::ClusterRole>(generator),
        (_, "RoleBinding") => named::<rbac::v1::RoleBinding>(generator),
        (_, "ClusterRoleBinding") => named::<rbac::v1::ClusterRoleBinding>(generator),
        _ => String::new(),
    }
}

/// GET /openapi/v3: where each group version's document is, with its hash.
pub async fn index() -> Response {
    let mut paths = Map::new();
    for doc in DOCUMENTS.iter() {
        let url = format!("/openapi/v3/{}?hash={}", doc.path, doc.hash);
        paths.insert(doc.path.clone(), json!({"serverRelativeURL": url}));
    }
    let body = json!({"paths": paths}).to_string();
    (StatusCode::OK, [(CONTENT_TYPE, "application/json")], body).into_response()
}

/// The `?hash=` of a document request.
#[derive(Debug, Deserialize)]
pub struct HashQuery {
    hash: Option<String>,
}

/// GET /openapi/v3/{group version}: the document; with the current hash it is immutable,
/// with a stale one the client is sent to the current URL, as upstream does.
pub async fn document_handler(
    Path(path): Path<String>,
    Query(query): Query<HashQuery>,
) -> Result<Response, ApiError> {
    let doc = DOCUMENTS
        .iter()
        .find(|d| d.path == path)
        .ok_or_else(ApiError::path_not_found)?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", doc.hash)).ok();
    let cache = match query.hash.as_deref() {
        Some(hash) if hash == doc.hash => "public, immutable",
        Some(_) => {
            let location = format!("/openapi/v3/{}?hash={}", doc.path, doc.hash);
            let mut response = (
                StatusCode::MOVED_PERMANENTLY,
                [(CACHE_CONTROL, "no-cache, no-store, max-age=0")],
            )
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(LOCATION, value);
            }
            return Ok(response);
        }
        None => "no-cache, private",
    };
    let mut response = (
        StatusCode::OK,
        [(CONTENT_TYPE, "application/json"), (CACHE_CONTROL, cache)],
        doc.bytes.clone(),
    )
        .into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(ETAG, etag);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use service_plan::patch::strategic::{ListStrategy, PatchSchema};

    use super::*;

    #[test]
    fn service_patch_lists_field_validation() {
        let doc = document("", "v1");
        let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/services/{name}"]["patch"];
        assert_eq!(patch["operationId"], "patchCoreV1NamespacedService");
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "", "version": "v1", "kind": "Service"})
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
    }

    #[test]
    fn service_schemas_carry_descriptions_and_their_kind() {
        let doc = document("", "v1");
        let schemas = &doc["components"]["schemas"];
        let service = &schemas["io.k8s.api.core.v1.Service"];
        assert_eq!(
            service["x-kubernetes-group-version-kind"],
            json!([{"group": "", "kind": "Service", "version": "v1"}])
        );
        assert_eq!(
            service["properties"]["spec"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.ServiceSpec"
        );
        let ports = &schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-patch-merge-key"], "port");
        assert_eq!(ports["x-kubernetes-patch-strategy"], "merge");
        let pod_spec = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"];
        assert_eq!(
            pod_spec["containers"]["x-kubernetes-patch-merge-key"],
            "name"
        );
        let container = &schemas["io.k8s.api.core.v1.Container"]["properties"];
        assert_eq!(
            container["ports"]["x-kubernetes-patch-merge-key"],
            "containerPort"
        );
        let port = &schemas["io.k8s.api.core.v1.ServicePort"]["properties"]["port"];
        assert_eq!(
            port["description"],
            "The port that will be exposed by this service."
        );
        assert!(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].is_object());
    }

    /// Every definition and property the upstream table names exists in what we generate,
    /// so no marker is lost to a renamed field or a type k8s-openapi spells differently.
    #[test]
    fn every_upstream_marker_lands() {
        let kinds: Vec<&Kind> = KINDS.iter().collect();
        let schemas = schemas(SchemaSettings::openapi3(), &kinds);
        for marker in extensions::MARKERS.iter() {
            let definition = &schemas[marker.definition];
            let target = match marker.property {
                None => definition,
                Some(property) => &definition["properties"][property],
            };
            for (name, value) in &marker.extensions {
                if name == "required" && value == &json!([]) {
                    assert!(target.get(name).is_none(), "{} required", marker.definition);
                    continue;
                }
                assert_eq!(
                    &target[name], value,
                    "{} {:?} {name}",
                    marker.definition, marker.property
                );
            }
        }
    }

    /// The strategic merge patches the server applies (service-plan's `PatchSchema`) merge
    /// every list the way the published documents tell kubectl to build its patches.
    #[test]
    fn server_patch_strategies_match_the_published_ones() {
        let kinds: Vec<&Kind> = KINDS.iter().collect();
        let schemas = schemas(SchemaSettings::openapi3(), &kinds);
        for kind in KINDS.iter() {
            let mut generator = SchemaSettings::openapi3().into_generator();
            let root = schema_of(kind, &mut generator);
            for (path, strategy) in PatchSchema::for_kind(kind.resource.kind).lists() {
                let field = field_schema(&schemas, &root, path).unwrap_or_else(|| {
                    panic!("{} {path} is not in the schema", kind.resource.kind)
                });
                // Upstream also says `retainKeys` for some (`merge,retainKeys`).
                let published = field["x-kubernetes-patch-strategy"].as_str().unwrap_or("");
                assert!(
                    published.split(',').any(|s| s == "merge"),
                    "{} {path}",
                    kind.resource.kind
                );
                let key = match strategy {
                    ListStrategy::MergeByKey(key) => json!(key),
                    ListStrategy::MergeSet | ListStrategy::Replace => Value::Null,
                };
                assert_eq!(
                    field["x-kubernetes-patch-merge-key"], key,
                    "{} {path}",
                    kind.resource.kind
                );
            }
        }
    }

    #[test]
    fn service_ports_are_a_map_list_keyed_by_port_and_protocol() {
        let doc = document("", "v1");
        let spec = &doc["components"]["schemas"]["io.k8s.api.core.v1.ServiceSpec"]["properties"];
        assert_eq!(spec["ports"]["x-kubernetes-list-type"], "map");
        assert_eq!(
            spec["ports"]["x-kubernetes-list-map-keys"],
            json!(["port", "protocol"])
        );
        assert_eq!(spec["ipFamilies"]["x-kubernetes-list-type"], "atomic");
        assert_eq!(spec["clusterIPs"]["x-kubernetes-list-type"], "atomic");
        assert_eq!(spec["selector"]["x-kubernetes-map-type"], "atomic");
        let pod_spec = &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"];
        assert_eq!(
            pod_spec["containers"]["x-kubernetes-list-map-keys"],
            json!(["name"])
        );
        // Markers sit beside v3's `allOf` reference wrapper, as upstream's.
        let meta = &doc["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
            ["properties"];
        assert_eq!(
            meta["ownerReferences"]["x-kubernetes-list-map-keys"],
            json!(["uid"])
        );
    }

    #[test]
    fn group_infix_is_camel_case() {
        let slices = KINDS
            .iter()
            .find(|k| k.resource.plural == "endpointslices")
            .unwrap();
        assert_eq!(operation_infix(slices), "DiscoveryV1");
    }
}
