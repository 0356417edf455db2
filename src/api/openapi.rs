//! OpenAPI v3: an index and one small document per group version. Each kind's PATCH
//! operation carries `x-kubernetes-group-version-kind` and the `fieldValidation`
//! parameter, which is what makes kubectl leave validation to the server (§4). Schemas are
//! not served; `/openapi/v2` is a 404 on purpose.

use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::version::GIT_VERSION;
use crate::registry::{KINDS, Kind};

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
    for kind in KINDS
        .iter()
        .filter(|k| k.resource.group == group && k.version == version)
    {
        kind_paths(kind, &mut paths);
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "components": {"schemas": {}},
    })
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
    fn group_infix_is_camel_case() {
        let slices = KINDS
            .iter()
            .find(|k| k.resource.plural == "endpointslices")
            .unwrap();
        assert_eq!(operation_infix(slices), "DiscoveryV1");
    }
}
