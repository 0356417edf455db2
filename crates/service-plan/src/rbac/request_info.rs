//! What a request asks for, as kube-apiserver's `RequestInfoFactory` reads it from the method,
//! path and query: resource or non-resource, the kube verb, group, version, namespace,
//! resource, subresource and name. Mirrors `staging/src/k8s.io/apiserver/pkg/endpoints/request/
//! requestinfo.go` (v1.32, with `AuthorizeWithSelectors` on, its default since beta).

use crate::format::validate_path_segment_name;
use crate::selector::{FieldSelector, LabelSelector};

/// Path prefixes that hold resources (`APIPrefixes`).
const API_PREFIXES: [&str; 2] = ["api", "apis"];
/// The prefix whose resources have no group segment (`GrouplessAPIPrefixes`).
const GROUPLESS_API_PREFIX: &str = "api";
/// Verbs written as a path segment before the resource (`specialVerbs`).
const SPECIAL_VERBS: [&str; 2] = ["proxy", "watch"];
/// The special verb whose parts never carry a subresource (`specialVerbsNoSubresources`).
const VERB_PROXY: &str = "proxy";
/// Subresources of a namespace, so `/namespaces/x/status` is not a resource called `status`.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];
/// Verbs whose selectors are kept for authorization (`verbsWithSelectors`).
const VERBS_WITH_SELECTORS: [&str; 3] = ["list", "watch", "deletecollection"];

/// The request as authorization sees it; mirrors `request.RequestInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Whether the request is for an API resource (else a non-resource URL such as `/healthz`).
    pub is_resource_request: bool,
    /// The URL path, percent-decoded as Go's `URL.Path`.
    pub path: String,
    /// The kube verb (`get`, `list`, `watch`, `create`, …); the lower-case HTTP method for
    /// non-resource requests.
    pub verb: String,
    /// `api` or `apis` for resource requests.
    pub api_prefix: String,
    /// The API group; `""` for the core group.
    pub api_group: String,
    /// The API version, e.g. `v1`.
    pub api_version: String,
    /// The namespace; for `/api/v1/namespaces/foo` it is `foo` itself.
    pub namespace: String,
    /// The resource, e.g. `services`.
    pub resource: String,
    /// The subresource, e.g. `status`.
    pub subresource: String,
    /// The object name from the path, or from a `metadata.name=` field selector on list/watch.
    pub name: String,
    /// The path parts from the resource on: `[resource, name, subresource, …]`.
    pub parts: Vec<String>,
    /// The raw `fieldSelector` of a list, watch or deletecollection.
    pub field_selector: String,
    /// The raw `labelSelector` of a list, watch or deletecollection.
    pub label_selector: String,
}

/// A path that names a special verb but nothing after it (`/api/v1/watch`); kube-apiserver
/// answers such a request with a 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to determine kind and namespace from url, {url}")]
pub struct RequestInfoError {
    /// The URL as Go prints it: path, then `?query` when there is one.
    pub url: String,
    /// What was known before the failure, as upstream returns it alongside the error.
    pub partial: Box<RequestInfo>,
}

impl RequestInfoError {
    /// The plain-text 500 body kube-apiserver writes (`responsewriters.InternalError` of the
    /// `WithRequestInfo` filter's `failed to create RequestInfo: …`), given the request URI.
    pub fn internal_error_body(&self, request_uri: &str) -> String {
        sanitize(&format!(
            "Internal Server Error: {}: failed to create RequestInfo: {self}",
            crate::field::go_quote(request_uri)
        ))
    }
}

/// Replaces `&`, `<` and `>` as kube-apiserver's response writers do, so an error never
/// reads as HTML.
pub(crate) fn sanitize(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Reads a request; mirrors `RequestInfoFactory.NewRequestInfo` with kube-apiserver's prefixes.
///
/// `method` is the HTTP method as sent (`GET`), `raw_path` the path as on the wire
/// (percent-encoded), `raw_query` the query string without `?` (may be empty).
pub fn new_request_info(
    method: &str,
    raw_path: &str,
    raw_query: &str,
) -> Result<RequestInfo, RequestInfoError> {
    let path = percent_decode(raw_path, false).unwrap_or_else(|| raw_path.to_string());
    let query = Query::parse(raw_query);
    let mut info = RequestInfo {
        path: path.clone(),
        verb: method.to_lowercase(),
        ..Default::default()
    };

    let mut parts = split_path(&path);
    if parts.len() < 3 || !API_PREFIXES.contains(&parts[0].as_str()) {
        return Ok(info);
    }
    info.api_prefix = parts.remove(0);
    if info.api_prefix != GROUPLESS_API_PREFIX {
        // One part (the prefix) is consumed, so this asks whether there were four.
        if parts.len() < 3 {
            return Ok(info);
        }
        info.api_group = parts.remove(0);
    }
    info.is_resource_request = true;
    info.api_version = parts.remove(0);

    let verb_via_path_prefix = parts
        .first()
        .is_some_and(|p| SPECIAL_VERBS.contains(&p.as_str()));
    if verb_via_path_prefix {
        if parts.len() < 2 {
            let url = if raw_query.is_empty() {
                path
            } else {
                format!("{path}?{raw_query}")
            };
            return Err(RequestInfoError {
                url,
                partial: Box::new(info),
            });
        }
        info.verb = parts.remove(0);
    } else {
        info.verb = match method {
            "POST" => "create",
            "GET" | "HEAD" => "get",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "",
        }
        .to_string();
    }

    if parts.first().is_some_and(|p| p == "namespaces")
        && let Some(namespace) = parts.get(1)
    {
        info.namespace = namespace.clone();
        // A step after the namespace name that is not a namespace subresource is a
        // namespaced resource in its own right.
        if parts
            .get(2)
            .is_some_and(|p| !NAMESPACE_SUBRESOURCES.contains(&p.as_str()))
        {
            parts.drain(..2);
        }
    }

    if parts.len() >= 3 && info.verb != VERB_PROXY {
        info.subresource = parts[2].clone();
    }
    if let Some(name) = parts.get(1) {
        info.name = name.clone();
    }
    if let Some(resource) = parts.first() {
        info.resource = resource.clone();
    }
    info.parts = parts;

    if info.name.is_empty() && info.verb == "get" {
        let (watch, name) = list_options(&query);
        info.verb = if watch { "watch" } else { "list" }.to_string();
        info.name = name.unwrap_or_default();
    }
    if info.name.is_empty() && info.verb == "delete" {
        info.verb = "deletecollection".to_string();
    }

    // Requests that name their verb in the path do not honour selectors consistently, so
    // upstream keeps no selector for them.
    if !verb_via_path_prefix && VERBS_WITH_SELECTORS.contains(&info.verb.as_str()) {
        info.field_selector = query.first("fieldSelector").unwrap_or_default().to_string();
        info.label_selector = query.first("labelSelector").unwrap_or_default().to_string();
    }
    Ok(info)
}

/// Whether a list is a watch, and the single name a `metadata.name=` field selector asks for.
///
/// Mirrors the `ListOptions` decoding in `NewRequestInfo`: when any parameter fails to decode,
/// upstream drops the decoded options (so no name) and reads only `watch` from the raw query.
fn list_options(query: &Query) -> (bool, Option<String>) {
    let watch = query.first("watch").is_some_and(go_bool);
    if !list_options_decode(query) {
        return (watch, None);
    }
    let name = query
        .first("fieldSelector")
        .and_then(|s| FieldSelector::parse(s).ok())
        .and_then(|s| s.requires_exact_match("metadata.name").map(str::to_string))
        .filter(|name| validate_path_segment_name(name, false).is_empty());
    (watch, name)
}

/// Whether the query decodes as `ListOptions`: both selectors parse and the integer
/// parameters are integers (`Convert_Slice_string_To_int64` takes the first value).
fn list_options_decode(query: &Query) -> bool {
    let selectors_parse = query
        .first("fieldSelector")
        .is_none_or(|s| FieldSelector::parse(s).is_ok())
        && query
            .first("labelSelector")
            .is_none_or(|s| LabelSelector::parse(s).is_ok());
    let integers_parse = ["limit", "timeoutSeconds"]
        .iter()
        .all(|key| query.first(key).is_none_or(go_parse_int64));
    selectors_parse && integers_parse
}

/// Go's `strconv.ParseInt(s, 10, 64)` succeeding: an optional sign and decimal digits that fit.
fn go_parse_int64(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_ok()
}

/// A query value read as a bool (`Convert_Slice_string_To_bool`): `0` and `false` in any case
/// are false; everything else, the empty string included, is true.
fn go_bool(v: &str) -> bool {
    !(v == "0" || v.eq_ignore_ascii_case("false"))
}

/// `splitPath`: trim slashes at both ends, then split on every slash.
fn split_path(path: &str) -> Vec<String> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').map(str::to_string).collect()
}

/// A query string decoded as Go's `url.ParseQuery`, keeping the order of pairs.
#[derive(Debug, Default)]
struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Pairs with a `;` in the key, or a bad escape, are dropped as Go drops them.
    fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.contains(';'))
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                Some((percent_decode(key, true)?, percent_decode(value, true)?))
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `key` (`url.Values.Get`).
    fn first(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Go's `url.QueryUnescape` (`plus_is_space`) or `url.PathUnescape`: `%XX` decoded, `None` on a
/// bad escape.
fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let text = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(text, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: &str, path: &str, query: &str) -> RequestInfo {
        new_request_info(method, path, query).unwrap()
    }

    /// The table of `TestGetAPIRequestInfo` in upstream's requestinfo_test.go, in part:
    /// (method, path, query, verb, prefix, group, version, namespace, resource, subresource,
    /// name, parts).
    #[test]
    fn resource_requests_read_like_upstream() {
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a [&'a str],
        );
        let cases: &[Case<'_>] = &[
            (
                "GET",
                "/api/v1/namespaces",
                "",
                "list",
                "api",
                "",
                "v1",
                "",
                "namespaces",
                "",
                "",
                &["namespaces"],
            ),
            (
                "GET",
                "/api/v1/namespaces/other",
                "",
                "get",
                "api",
                "",
                "v1",
                "other",
                "namespaces",
                "",
                "other",
                &["namespaces", "other"],
            ),
            (
                "GET",
                "/api/v1/namespaces/other/pods",
                "",
                "list",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "GET",
                "/api/v1/namespaces/other/pods/foo",
                "",
                "get",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "",
                "foo",
                &["pods", "foo"],
            ),
            (
                "HEAD",
                "/api/v1/namespaces/other/pods/foo",
                "",
                "get",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "",
                "foo",
                &["pods", "foo"],
            ),
            (
                "GET",
                "/api/v1/pods",
                "",
                "list",
                "api",
                "",
                "v1",
                "",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "POST",
                "/api/v1/namespaces/other/pods",
                "",
                "create",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "PUT",
                "/api/v1/namespaces/other/services/web/status",
                "",
                "update",
                "api",
                "",
                "v1",
                "other",
                "services",
                "status",
                "web",
                &["services", "web", "status"],
            ),
            (
                "PATCH",
                "/apis/apps/v1/namespaces/other/deployments/d/scale",
                "",
                "patch",
                "apis",
                "apps",
                "v1",
                "other",
                "deployments",
                "scale",
                "d",
                &["deployments", "d", "scale"],
            ),
            (
                "DELETE",
                "/api/v1/namespaces/other/pods/foo",
                "",
                "delete",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "",
                "foo",
                &["pods", "foo"],
            ),
            (
                "DELETE",
                "/api/v1/namespaces/other/pods",
                "",
                "deletecollection",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "GET",
                "/api/v1/watch/pods",
                "",
                "watch",
                "api",
                "",
                "v1",
                "",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "GET",
                "/api/v1/pods",
                "watch=true",
                "watch",
                "api",
                "",
                "v1",
                "",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "GET",
                "/api/v1/pods",
                "watch=false",
                "list",
                "api",
                "",
                "v1",
                "",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "GET",
                "/api/v1/pods",
                "watch=0",
                "list",
                "api",
                "",
                "v1",
                "",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "GET",
                "/api/v1/pods",
                "watch=1",
                "watch",
                "api",
                "",
                "v1",
                "",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "GET",
                "/api/v1/watch/namespaces/other/pods",
                "",
                "watch",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "",
                "",
                &["pods"],
            ),
            (
                "GET",
                "/api/v1/namespaces/other/pods/foo/proxy/a/b",
                "",
                "get",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "proxy",
                "foo",
                &["pods", "foo", "proxy", "a", "b"],
            ),
            (
                "GET",
                "/api/v1/proxy/namespaces/other/pods/foo/a",
                "",
                "proxy",
                "api",
                "",
                "v1",
                "other",
                "pods",
                "",
                "foo",
                &["pods", "foo", "a"],
            ),
            (
                "PUT",
                "/api/v1/namespaces/other/finalize",
                "",
                "update",
                "api",
                "",
                "v1",
                "other",
                "namespaces",
                "finalize",
                "other",
                &["namespaces", "other", "finalize"],
            ),
            (
                "PUT",
                "/api/v1/namespaces/other/status",
                "",
                "update",
                "api",
                "",
                "v1",
                "other",
                "namespaces",
                "status",
                "other",
                &["namespaces", "other", "status"],
            ),
            (
                "POST",
                "/api/v1/namespaces/default/serviceaccounts/alice/token",
                "",
                "create",
                "api",
                "",
                "v1",
                "default",
                "serviceaccounts",
                "token",
                "alice",
                &["serviceaccounts", "alice", "token"],
            ),
            (
                "GET",
                "/apis/discovery.k8s.io/v1/endpointslices",
                "",
                "list",
                "apis",
                "discovery.k8s.io",
                "v1",
                "",
                "endpointslices",
                "",
                "",
                &["endpointslices"],
            ),
            (
                "GET",
                "/apis/rbac.authorization.k8s.io/v1/clusterroles/view",
                "",
                "get",
                "apis",
                "rbac.authorization.k8s.io",
                "v1",
                "",
                "clusterroles",
                "",
                "view",
                &["clusterroles", "view"],
            ),
            (
                "OPTIONS",
                "/api/v1/pods",
                "",
                "",
                "api",
                "",
                "v1",
                "",
                "pods",
                "",
                "",
                &["pods"],
            ),
        ];
        for &(method, path, query, verb, prefix, group, version, ns, resource, sub, name, parts) in
            cases
        {
            let got = info(method, path, query);
            let want = RequestInfo {
                is_resource_request: true,
                path: path.into(),
                verb: verb.into(),
                api_prefix: prefix.into(),
                api_group: group.into(),
                api_version: version.into(),
                namespace: ns.into(),
                resource: resource.into(),
                subresource: sub.into(),
                name: name.into(),
                parts: parts.iter().map(|p| p.to_string()).collect(),
                field_selector: String::new(),
                label_selector: String::new(),
            };
            assert_eq!(got, want, "{method} {path}?{query}");
        }
    }

    #[test]
    fn non_resource_requests_keep_the_lower_case_method() {
        for (method, path) in [
            ("GET", "/"),
            ("GET", "/healthz"),
            ("GET", "/api"),
            ("GET", "/api/v1"),
            ("GET", "/apis"),
            ("GET", "/apis/apps"),
            ("GET", "/apis/apps/v1"),
            ("POST", "/version"),
            ("GET", "/openapi/v2"),
            ("GET", "/other/v1/pods"),
        ] {
            let got = info(method, path, "");
            assert!(!got.is_resource_request, "{path}");
            assert_eq!(got.verb, method.to_lowercase(), "{path}");
            assert_eq!(got.path, path);
            assert!(
                got.resource.is_empty() && got.api_version.is_empty(),
                "{path}"
            );
        }
        // Upstream records the prefix before it finds the group path too short.
        assert_eq!(info("GET", "/apis/apps/v1", "").api_prefix, "apis");
    }

    #[test]
    fn a_metadata_name_field_selector_names_a_list_or_watch() {
        let got = info(
            "GET",
            "/api/v1/namespaces/default/services",
            "fieldSelector=metadata.name%3Dweb&watch=1",
        );
        assert_eq!((got.verb.as_str(), got.name.as_str()), ("watch", "web"));
        assert_eq!(got.field_selector, "metadata.name=web");

        let got = info(
            "GET",
            "/api/v1/services",
            "fieldSelector=metadata.name==web,spec.type=ClusterIP",
        );
        assert_eq!((got.verb.as_str(), got.name.as_str()), ("list", "web"));

        // `!=` is no exact match; a name that is no path segment is ignored.
        assert_eq!(
            info(
                "GET",
                "/api/v1/services",
                "fieldSelector=metadata.name!=web"
            )
            .name,
            ""
        );
        assert_eq!(
            info(
                "GET",
                "/api/v1/services",
                "fieldSelector=metadata.name=a%2Fb"
            )
            .name,
            ""
        );
        assert_eq!(
            info("GET", "/api/v1/services", "fieldSelector=metadata.name=..").name,
            ""
        );
    }

    #[test]
    fn a_list_options_decode_failure_drops_the_name_but_keeps_watch() {
        let got = info(
            "GET",
            "/api/v1/services",
            "fieldSelector=metadata.name=web&limit=x&watch=true",
        );
        assert_eq!((got.verb.as_str(), got.name.as_str()), ("watch", ""));
        let got = info(
            "GET",
            "/api/v1/services",
            "fieldSelector=metadata.name=web&labelSelector=a%20in",
        );
        assert_eq!((got.verb.as_str(), got.name.as_str()), ("list", ""));
        let got = info(
            "GET",
            "/api/v1/services",
            "fieldSelector=metadata.name=web&limit=500",
        );
        assert_eq!(got.name, "web");
    }

    #[test]
    fn selectors_are_kept_for_list_watch_and_deletecollection_only() {
        let q = "labelSelector=app%3Dweb&fieldSelector=spec.type%3DClusterIP";
        let got = info("DELETE", "/api/v1/namespaces/default/services", q);
        assert_eq!(got.verb, "deletecollection");
        assert_eq!(got.label_selector, "app=web");
        assert_eq!(got.field_selector, "spec.type=ClusterIP");
        assert_eq!(
            info("GET", "/api/v1/namespaces/default/services/web", q).label_selector,
            ""
        );
        // The deprecated /watch/ path never carries selectors into authorization.
        assert_eq!(info("GET", "/api/v1/watch/services", q).label_selector, "");
    }

    #[test]
    fn a_special_verb_without_a_resource_is_an_error() {
        let err = new_request_info("GET", "/api/v1/watch", "x=1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unable to determine kind and namespace from url, /api/v1/watch?x=1"
        );
        assert_eq!(
            err.internal_error_body("/api/v1/watch?x=1"),
            "Internal Server Error: \"/api/v1/watch?x=1\": failed to create RequestInfo: unable to determine kind and namespace from url, /api/v1/watch?x=1"
        );
        assert!(err.partial.is_resource_request);
    }

    #[test]
    fn paths_are_percent_decoded_like_go_url_path() {
        let got = info("GET", "/api/v1/namespaces/default/services/a%3Ab", "");
        assert_eq!(got.name, "a:b");
        assert_eq!(got.path, "/api/v1/namespaces/default/services/a:b");
    }
}
