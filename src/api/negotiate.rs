//! Response content negotiation: the `Accept` walk of kubernetes-api.md §5.3. Entries are
//! taken in order; a Table entry wins for kinds with a printer, plain JSON or a wildcard
//! means JSON, and media types this server never produces (protobuf, YAML) are skipped.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT;

/// The Content-Type of a Table response (`v1`).
pub const TABLE_V1_CONTENT_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";
/// The Content-Type of a Table response asked for as `v1beta1`.
pub const TABLE_V1BETA1_CONTENT_TYPE: &str = "application/json;as=Table;v=v1beta1;g=meta.k8s.io";
/// Plain JSON.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// What a response body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The object or list itself.
    Json,
    /// A `meta.k8s.io` Table of the given version (`v1` or `v1beta1`).
    Table(&'static str),
}

impl Output {
    /// The response Content-Type.
    pub fn content_type(self) -> &'static str {
        match self {
            Output::Json => JSON_CONTENT_TYPE,
            Output::Table("v1beta1") => TABLE_V1BETA1_CONTENT_TYPE,
            Output::Table(_) => TABLE_V1_CONTENT_TYPE,
        }
    }

    /// The `apiVersion` of the Table, when this is one.
    pub fn table_api_version(self) -> Option<&'static str> {
        match self {
            Output::Json => None,
            Output::Table("v1beta1") => Some("meta.k8s.io/v1beta1"),
            Output::Table(_) => Some("meta.k8s.io/v1"),
        }
    }
}

/// One entry of an `Accept` header: its media type and parameters, lower-cased keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    pub media_type: String,
    pub params: Vec<(String, String)>,
}

impl MediaRange {
    /// The value of parameter `name`, if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits an `Accept` header into its entries, in order.
pub fn media_ranges(headers: &HeaderMap) -> Vec<MediaRange> {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let media_type = parts.next()?.to_ascii_lowercase();
            if media_type.is_empty() {
                return None;
            }
            let params = parts
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| {
                    (
                        k.trim().to_ascii_lowercase(),
                        v.trim().trim_matches('"').to_string(),
                    )
                })
                .collect();
            Some(MediaRange { media_type, params })
        })
        .collect()
}

/// The media type of a request body: what precedes `;`, trimmed and lower-cased.
pub fn body_media_type(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// The media types kube-apiserver serves resources as, in its 406 text's order.
pub const ACCEPTED_MEDIA_TYPES: [&str; 3] = [
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

/// Whether the `Accept` header (absent: anything) names a type resources are served as,
/// directly or by a wildcard.
pub fn acceptable(headers: &HeaderMap) -> bool {
    let ranges = media_ranges(headers);
    ranges.is_empty()
        || ranges.iter().any(|r| {
            matches!(r.media_type.as_str(), "*/*" | "application/*")
                || ACCEPTED_MEDIA_TYPES.contains(&r.media_type.as_str())
        })
}

/// Chooses JSON or a Table for a resource response.
pub fn output(headers: &HeaderMap) -> Output {
    for range in media_ranges(headers) {
        let is_json = matches!(
            range.media_type.as_str(),
            "application/json" | "application/*" | "*/*"
        );
        if !is_json {
            continue;
        }
        match range.param("as") {
            None => return Output::Json,
            Some("Table") if range.param("g") == Some("meta.k8s.io") => match range.param("v") {
                Some("v1") => return Output::Table("v1"),
                Some("v1beta1") => return Output::Table("v1beta1"),
                _ => continue,
            },
            Some(_) => continue,
        }
    }
    Output::Json
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn kubectl_get_asks_for_a_table() {
        let h = accept(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
        );
        assert_eq!(output(&h), Output::Table("v1"));
    }

    #[test]
    fn protobuf_is_skipped_and_json_taken() {
        assert_eq!(
            output(&accept(
                "application/vnd.kubernetes.protobuf,application/json"
            )),
            Output::Json
        );
        assert_eq!(output(&accept("application/json, */*")), Output::Json);
        assert_eq!(output(&HeaderMap::new()), Output::Json);
    }

    #[test]
    fn v1beta1_table_alone() {
        assert_eq!(
            output(&accept("application/json;as=Table;v=v1beta1;g=meta.k8s.io")),
            Output::Table("v1beta1")
        );
    }
}
