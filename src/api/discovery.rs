//! API discovery, generated from the registry's `KINDS`: aggregated (apidiscovery.k8s.io
//! v2, when the `Accept` asks for it) and legacy (`APIVersions`, `APIGroupList`,
//! `APIResourceList`). kubectl trusts it for short names, scope, `-A` and `get all`.

use axum::extract::Path;
use axum::http::header::{CONTENT_TYPE, HOST, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::negotiate::media_ranges;
use crate::registry::{KINDS, Kind, NAMESPACES};

/// Verbs of every resource but namespaces.
const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Namespaces have no `deletecollection`.
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
/// Verbs of every subresource.
const SUBRESOURCE_VERBS: &[&str] = &["get", "patch", "update"];
/// The group of aggregated discovery documents.
const DISCOVERY_GROUP: &str = "apidiscovery.k8s.io";
/// The address clients are told to use when the request names none.
const DEFAULT_SERVER_ADDRESS: &str = "127.0.0.1:8080";

/// The verbs discovery lists for `kind`.
pub fn verbs(kind: &Kind) -> &'static [&'static str] {
    if kind.resource == NAMESPACES {
        NAMESPACE_VERBS
    } else {
        VERBS
    }
}

/// The groups served, in discovery order; `""` is the core group.
fn groups() -> Vec<&'static str> {
    let mut groups: Vec<&'static str> = Vec::new();
    for kind in &KINDS {
        if !groups.contains(&kind.resource.group) {
            groups.push(kind.resource.group);
        }
    }
    groups
}

/// The versions served in `group`, in discovery order.
fn versions(group: &str) -> Vec<&'static str> {
    let mut versions: Vec<&'static str> = Vec::new();
    for kind in KINDS.iter().filter(|k| k.resource.group == group) {
        if !versions.contains(&kind.version) {
            versions.push(kind.version);
        }
    }
    versions
}

/// The kinds of one group version, by resource name: kube-apiserver lists them sorted, which
/// is also the order `kubectl get all` prints them in.
fn kinds_in(group: &str, version: &str) -> impl Iterator<Item = &'static Kind> {
    let mut kinds: Vec<&'static Kind> = KINDS
        .iter()
        .filter(|k| k.resource.group == group && k.version == version)
        .collect();
    kinds.sort_by_key(|k| k.resource.plural);
    kinds.into_iter()
}

/// The group, version and kind a subresource answers with.
fn subresource_kind(kind: &Kind, subresource: &str) -> Value {
    match subresource {
        "scale" => json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}),
        "token" => {
            json!({"group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest"})
        }
        _ => {
            json!({"group": kind.resource.group, "version": kind.version, "kind": kind.resource.kind})
        }
    }
}

/// The verbs of a subresource: TokenRequest is create-only.
fn subresource_verbs(subresource: &str) -> &'static [&'static str] {
    match subresource {
        "token" => &["create"],
        _ => SUBRESOURCE_VERBS,
    }
}

/// Sets `key` to the strings of `values` unless there are none (Go's `omitempty`).
fn set_list(object: &mut Value, key: &str, values: &[&str]) {
    if !values.is_empty() {
        object[key] = json!(values);
    }
}

/// Which discovery document the `Accept` header asks for: the aggregated version, if any.
fn aggregated_version(headers: &HeaderMap) -> Option<&'static str> {
    for range in media_ranges(headers) {
        let json = matches!(
            range.media_type.as_str(),
            "application/json" | "application/*" | "*/*"
        );
        if !json {
            continue;
        }
        match (range.param("as"), range.param("g"), range.param("v")) {
            (None, _, _) => return None,
            (Some("APIGroupDiscoveryList"), Some(DISCOVERY_GROUP), Some("v2")) => {
                return Some("v2");
            }
            (Some("APIGroupDiscoveryList"), Some(DISCOVERY_GROUP), Some("v2beta1")) => {
                return Some("v2beta1");
            }
            _ => continue,
        }
    }
    None
}

// ---- aggregated ----------------------------------------------------------------------------

fn aggregated_resource(kind: &Kind) -> Value {
    let mut resource = json!({
        "resource": kind.resource.plural,
        "responseKind": subresource_kind(kind, ""),
        "scope": if kind.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": kind.singular,
        "verbs": verbs(kind),
    });
    set_list(&mut resource, "shortNames", kind.short_names);
    set_list(&mut resource, "categories", kind.categories);
    if !kind.subresources.is_empty() {
        let subresources: Vec<Value> = kind
            .subresources
            .iter()
            .map(|s| json!({"subresource": s, "responseKind": subresource_kind(kind, s), "verbs": subresource_verbs(s)}))
            .collect();
        resource["subresources"] = Value::Array(subresources);
    }
    resource
}

fn aggregated_group(group: &str) -> Value {
    let versions: Vec<Value> = versions(group)
        .into_iter()
        .map(|version| {
            let resources: Vec<Value> = kinds_in(group, version).map(aggregated_resource).collect();
            json!({"version": version, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

fn aggregated(version: &'static str, core: bool) -> Response {
    let items: Vec<Value> = groups()
        .into_iter()
        .filter(|g| g.is_empty() == core)
        .map(aggregated_group)
        .collect();
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("{DISCOVERY_GROUP}/{version}"),
        "metadata": {},
        "items": items,
    });
    let content_type =
        format!("application/json;g={DISCOVERY_GROUP};v={version};as=APIGroupDiscoveryList");
    discovery_response(content_type, &body)
}

fn discovery_response(content_type: String, body: &Value) -> Response {
    let mut response = (StatusCode::OK, body.to_string().into_bytes()).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(VARY, HeaderValue::from_static("Accept"));
    response
}

// ---- legacy --------------------------------------------------------------------------------

/// Upstream's `StorageVersionHash`: base64 of the first 8 bytes of the SHA-256 of
/// `group/version/kind` (the kind as stored), which clients compare to notice a storage change.
fn storage_version_hash(kind: &Kind) -> String {
    use base64::Engine;
    use sha2::Digest;
    let (group, version, stored_kind) = kind.storage_gvk();
    let gvk = format!("{group}/{version}/{stored_kind}");
    let digest = sha2::Sha256::digest(gvk.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

fn legacy_resources(kind: &Kind) -> Vec<Value> {
    let mut resource = json!({
        "name": kind.resource.plural,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.resource.kind,
        "verbs": verbs(kind),
    });
    set_list(&mut resource, "shortNames", kind.short_names);
    set_list(&mut resource, "categories", kind.categories);
    resource["storageVersionHash"] = json!(storage_version_hash(kind));
    let mut out = vec![resource];
    for sub in kind.subresources {
        let gvk = subresource_kind(kind, sub);
        let mut entry = json!({
            "name": format!("{}/{sub}", kind.resource.plural),
            "singularName": "",
            "namespaced": kind.namespaced,
            "kind": gvk["kind"],
            "verbs": subresource_verbs(sub),
        });
        // A subresource in another group names it, as `deployments/scale` does.
        if gvk["group"] != json!(kind.resource.group) {
            entry["group"] = gvk["group"].clone();
            entry["version"] = gvk["version"].clone();
        }
        out.push(entry);
    }
    out
}

fn resource_list(group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = kinds_in(group, version)
        .flat_map(legacy_resources)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}

fn json_response(body: &Value) -> Response {
    discovery_response("application/json".to_string(), body)
}

/// GET /api: the core group, aggregated or as `APIVersions`.
pub async fn core_group(headers: HeaderMap) -> Response {
    if let Some(version) = aggregated_version(&headers) {
        return aggregated(version, true);
    }
    let address = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or(DEFAULT_SERVER_ADDRESS);
    json_response(&json!({
        "kind": "APIVersions",
        "versions": versions(""),
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }))
}

/// GET /apis: the named groups, aggregated or as `APIGroupList`.
pub async fn named_groups(headers: HeaderMap) -> Response {
    if let Some(version) = aggregated_version(&headers) {
        return aggregated(version, false);
    }
    let groups: Vec<Value> = groups()
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|group| api_group(group, json!({})))
        .collect();
    json_response(&json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

/// A named group's `APIGroup` after the fields of `head`: its versions, the first preferred.
fn api_group(group: &str, mut head: Value) -> Value {
    let versions: Vec<Value> = versions(group)
        .into_iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    head["name"] = json!(group);
    head["versions"] = Value::Array(versions);
    head["preferredVersion"] = preferred;
    head
}

/// GET /apis/{group}: one named group, as kube-apiserver serves it (`APIGroup`).
pub async fn named_group(Path(group): Path<String>) -> Result<Response, ApiError> {
    if group.is_empty() || !groups().contains(&group.as_str()) {
        return Err(ApiError::path_not_found());
    }
    let head = json!({"kind": "APIGroup", "apiVersion": "v1"});
    Ok(json_response(&api_group(&group, head)))
}

/// GET /api/v1: the core resources.
pub async fn core_resources() -> Result<Response, ApiError> {
    resource_list("", "v1")
        .map(|body| json_response(&body))
        .ok_or_else(ApiError::path_not_found)
}

/// GET /apis/{group}/{version}: a named group version's resources.
pub async fn group_resources(
    Path((group, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    resource_list(&group, &version)
        .map(|body| json_response(&body))
        .ok_or_else(ApiError::path_not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_picks_aggregated_v2() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::ACCEPT,
            HeaderValue::from_static(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
            ),
        );
        assert_eq!(aggregated_version(&headers), Some("v2"));
        headers.insert(
            axum::http::header::ACCEPT,
            HeaderValue::from_static("application/json, */*"),
        );
        assert_eq!(aggregated_version(&headers), None);
    }

    #[test]
    fn storage_version_hashes_are_upstreams() {
        let hash = |plural: &str| {
            KINDS
                .iter()
                .find(|k| k.resource.plural == plural)
                .map(storage_version_hash)
        };
        // As kube-apiserver v1.32 publishes them in /api/v1 and /apis/apps/v1.
        assert_eq!(hash("services").as_deref(), Some("0/CO1lhkEBI="));
        assert_eq!(hash("pods").as_deref(), Some("xPOwRZ+Yhw8="));
        assert_eq!(hash("deployments").as_deref(), Some("8aSe+NMegvE="));
        assert_eq!(hash("leases").as_deref(), Some("gqkMMb/YqFM="));
        assert_eq!(hash("replicasets").as_deref(), Some("P1RzHs8/mWQ="));
        // events.k8s.io/v1 events are stored as core/v1 Events: both publish one hash.
        let events_v1 = KINDS.iter().find(|k| k.resource.group == "events.k8s.io");
        assert_eq!(
            events_v1.map(storage_version_hash).as_deref(),
            Some("r2yiGXH7wu8=")
        );
        assert_eq!(hash("events").as_deref(), Some("r2yiGXH7wu8="));
        // Both autoscaling versions publish the stored autoscaling/v2 kind's hash.
        let hpa: Vec<String> = KINDS
            .iter()
            .filter(|k| k.resource.plural == "horizontalpodautoscalers")
            .map(storage_version_hash)
            .collect();
        assert_eq!(hpa, ["qwQve8ut294=", "qwQve8ut294="]);
    }
}
