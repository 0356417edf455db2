//! `/openapi/v2`: one Swagger 2.0 document of every kind served, from the same generator as
//! the v3 documents (definitions named and `#/definitions/…` references as upstream's
//! swagger.json, the same `x-kubernetes-*` extensions). It is what client-go's
//! `OpenAPISchema()` fetches as gnostic protobuf, so what `kubectl explain
//! --output=plaintext-openapiv2` prints and, more importantly, where kubectl's client-side
//! apply and edit take their strategic merge strategies from instead of their compiled-in
//! types. Served as kube-openapi `pkg/handler/handler.go` does: JSON or protobuf by `Accept`
//! (406 otherwise), one ETag for both (upper-case hex SHA-512 of the JSON) honoured in
//! `If-None-Match`, `Vary: Accept`. Both encodings are built once, on first request.

use std::sync::LazyLock;

use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH, LAST_MODIFIED, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};

use super::{kind_paths, schemas};
use crate::api::error::{OBJECT_MEDIA_TYPES, PATCH_MEDIA_TYPES};
use crate::api::negotiate::media_ranges;
use crate::api::protobuf::openapi_v2;
use crate::api::version::GIT_VERSION;
use crate::registry::{KINDS, Kind};

/// What client-go asks for (kube-openapi's deprecated subtype, still accepted).
pub const PROTOBUF_DEPRECATED: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The protobuf Content-Type, answered for both protobuf subtypes.
pub const PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The document in both encodings.
struct Encoded {
    json: Vec<u8>,
    protobuf: Vec<u8>,
    /// `"<upper-case hex SHA-512 of json>"`.
    etag: String,
    last_modified: String,
}

static ENCODED: LazyLock<Encoded> = LazyLock::new(|| {
    let doc = document();
    // A `Value` always encodes: its Display cannot fail, unlike a generic `to_vec`.
    let json = doc.to_string().into_bytes();
    let protobuf = openapi_v2::Document::from_json(&doc).to_bytes();
    let etag = format!("\"{}\"", hex::encode_upper(Sha512::digest(&json)));
    let last_modified = jiff::Timestamp::now()
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    Encoded {
        json,
        protobuf,
        etag,
        last_modified,
    }
});

/// Upstream's swagger.json spells these two scalars as plain strings; their k8s-openapi
/// schemas only carry v3's `x-kubernetes-int-or-string`, which Swagger 2.0 readers ignore.
const V2_SCALARS: [(&str, &str, Option<&str>); 2] = [
    (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        "string",
        Some("int-or-string"),
    ),
    (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "string",
        None,
    ),
];

/// The Swagger 2.0 document.
pub fn document() -> Value {
    let kinds: Vec<&Kind> = KINDS.iter().collect();
    let settings = SchemaSettings::openapi3().with(|s| {
        s.definitions_path = "/definitions".into();
        s.meta_schema = None;
        // No transforms: Swagger 2.0 keeps a reference's description beside its `$ref`
        // (v3 wraps it in `allOf`), and has no `nullable`.
        s.transforms = Vec::new();
    });
    let mut definitions = schemas(settings, &kinds);
    for (name, ty, format) in V2_SCALARS {
        if let Some(Value::Object(schema)) = definitions.get_mut(name) {
            schema.remove("x-kubernetes-int-or-string");
            schema.insert("type".into(), json!(ty));
            if let Some(format) = format {
                schema.insert("format".into(), json!(format));
            }
        }
    }
    let mut v3_paths = Map::new();
    for kind in &kinds {
        kind_paths(kind, &mut v3_paths);
    }
    let paths: Map<String, Value> = v3_paths
        .into_iter()
        .map(|(path, item)| (path, path_item(item)))
        .collect();
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "definitions": definitions,
    })
}

/// A v3 path item in Swagger 2.0 terms: parameters carry their type themselves, operations
/// say what they consume and produce.
fn path_item(item: Value) -> Value {
    let Value::Object(item) = item else {
        return item;
    };
    let converted = item.into_iter().map(|(key, value)| {
        let value = match (key.as_str(), value) {
            ("parameters", params) => parameters(params),
            (method, Value::Object(mut operation)) => {
                let params = operation.remove("parameters").unwrap_or(json!([]));
                operation.insert("parameters".into(), parameters(params));
                let consumes: &[&str] = if method == "patch" {
                    PATCH_MEDIA_TYPES
                } else {
                    &["*/*"]
                };
                operation.insert("consumes".into(), json!(consumes));
                operation.insert("produces".into(), json!(OBJECT_MEDIA_TYPES));
                operation.insert("schemes".into(), json!(["https"]));
                Value::Object(operation)
            }
            (_, other) => other,
        };
        (key, value)
    });
    Value::Object(converted.collect())
}

/// `{"name", "in", "schema": {"type", "uniqueItems"}}` → `{"name", "in", "type", "uniqueItems"}`.
fn parameters(params: Value) -> Value {
    let Value::Array(params) = params else {
        return params;
    };
    params
        .into_iter()
        .map(|param| {
            let Value::Object(mut param) = param else {
                return param;
            };
            if let Some(Value::Object(schema)) = param.remove("schema") {
                param.extend(schema);
            }
            Value::Object(param)
        })
        .collect()
}

/// Which encoding an `Accept` header asks for: the first entry (by `q`, stable) matching
/// JSON or one of the protobuf subtypes; `None` is a 406. No `Accept` means `*/*`: JSON.
fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let mut ranges = media_ranges(headers);
    if ranges.is_empty() {
        return Some("application/json");
    }
    let quality = |r: &crate::api::negotiate::MediaRange| {
        r.param("q")
            .and_then(|q| q.parse::<f64>().ok())
            .unwrap_or(1.0)
    };
    ranges.sort_by(|a, b| quality(b).total_cmp(&quality(a)));
    let offered = [
        ("application/json", "application/json"),
        (PROTOBUF_DEPRECATED, PROTOBUF),
        (PROTOBUF, PROTOBUF),
    ];
    ranges.iter().find_map(|range| {
        let (ty, sub) = range.media_type.split_once('/')?;
        offered.iter().find_map(|(media, answer)| {
            let (offer_ty, offer_sub) = media.split_once('/')?;
            ((ty == "*" || ty == offer_ty) && (sub == "*" || sub == offer_sub)).then_some(*answer)
        })
    })
}

/// Whether `If-None-Match` names `etag` (or `*`), compared weakly as Go's `http.ServeContent`.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// GET /openapi/v2.
pub async fn handler(headers: HeaderMap) -> Response {
    let encoded = &*ENCODED;
    let mut response = match negotiate(&headers) {
        None => StatusCode::NOT_ACCEPTABLE.into_response(),
        Some(_) if not_modified(&headers, &encoded.etag) => {
            StatusCode::NOT_MODIFIED.into_response()
        }
        Some(content_type) => {
            let body = if content_type == PROTOBUF {
                encoded.protobuf.clone()
            } else {
                encoded.json.clone()
            };
            let mut response = ([(CONTENT_TYPE, content_type)], body).into_response();
            if let Ok(value) = HeaderValue::from_str(&encoded.last_modified) {
                response.headers_mut().insert(LAST_MODIFIED, value);
            }
            response
        }
    };
    let status = response.status();
    let response_headers = response.headers_mut();
    response_headers.insert(VARY, HeaderValue::from_static("Accept"));
    if status != StatusCode::NOT_ACCEPTABLE
        && let Ok(value) = HeaderValue::from_str(&encoded.etag)
    {
        response_headers.insert(ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::ACCEPT,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn negotiates_like_kube_openapi() {
        assert_eq!(negotiate(&HeaderMap::new()), Some("application/json"));
        assert_eq!(negotiate(&accept("*/*")), Some("application/json"));
        assert_eq!(negotiate(&accept(PROTOBUF_DEPRECATED)), Some(PROTOBUF));
        assert_eq!(
            negotiate(&accept(
                "application/json;q=0.5, application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
            )),
            Some(PROTOBUF)
        );
        assert_eq!(negotiate(&accept("text/html")), None);
    }

    #[test]
    fn definitions_are_named_and_referenced_as_upstream() {
        let doc = document();
        let definitions = &doc["definitions"];
        let service = &definitions["io.k8s.api.core.v1.Service"];
        assert_eq!(
            service["properties"]["spec"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.ServiceSpec"
        );
        assert!(service["properties"]["spec"]["description"].is_string());
        assert_eq!(
            service["x-kubernetes-group-version-kind"],
            json!([{"group": "", "kind": "Service", "version": "v1"}])
        );
        let ports = &definitions["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-patch-merge-key"], "port");
        assert_eq!(
            ports["x-kubernetes-list-map-keys"],
            json!(["port", "protocol"])
        );
        assert_eq!(
            definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"],
            "int-or-string"
        );
        for kind in KINDS.iter() {
            assert!(
                definitions
                    .as_object()
                    .unwrap()
                    .values()
                    .any(|d| d["x-kubernetes-group-version-kind"][0]["kind"] == kind.resource.kind),
                "{}",
                kind.resource.kind
            );
        }
        let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/services/{name}"]["patch"];
        assert_eq!(patch["consumes"], json!(PATCH_MEDIA_TYPES));
        assert_eq!(
            patch["parameters"][0],
            json!({"name": "dryRun", "in": "query", "type": "string", "uniqueItems": true})
        );
        let text = doc.to_string();
        assert!(!text.contains("#/components/"), "v3 references left");
    }

    #[test]
    fn protobuf_decodes_to_the_same_definitions() {
        let encoded = &*ENCODED;
        let decoded = openapi_v2::Document::decode(encoded.protobuf.as_slice()).unwrap();
        let json: Value = serde_json::from_slice(&encoded.json).unwrap();
        let names: Vec<&str> = decoded
            .definitions
            .as_ref()
            .unwrap()
            .additional_properties
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        let expected: Vec<&str> = json["definitions"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(names, expected);
        let spec = decoded
            .definitions
            .as_ref()
            .unwrap()
            .additional_properties
            .iter()
            .find(|d| d.name == "io.k8s.api.core.v1.ServiceSpec")
            .and_then(|d| d.value.as_ref())
            .unwrap();
        let ports = spec
            .properties
            .as_ref()
            .unwrap()
            .additional_properties
            .iter()
            .find(|p| p.name == "ports")
            .and_then(|p| p.value.as_ref())
            .unwrap();
        let extension = |name: &str| {
            ports
                .vendor_extension
                .iter()
                .find(|e| e.name == name)
                .and_then(|e| e.value.as_ref())
                .map(|v| v.yaml.clone())
        };
        assert_eq!(
            extension("x-kubernetes-patch-strategy").as_deref(),
            Some("\"merge\"")
        );
        assert_eq!(
            extension("x-kubernetes-list-map-keys").as_deref(),
            Some(r#"["port","protocol"]"#)
        );
        assert_eq!(decoded.swagger, "2.0");
    }
}
