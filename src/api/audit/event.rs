//! The `audit.k8s.io/v1` Event as kube-apiserver's log backend writes it (one JSON object per
//! line), and the policy that picks a level per request. Field names and order follow
//! `staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use service_plan::status::Status;
use service_plan::user::UserInfo;

use super::request::{ObjectRef, RequestAttributes};

/// How much of a request is recorded (`audit.k8s.io/v1` Level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    /// Nothing is logged.
    None,
    /// Who, what, when and the response code; no bodies.
    Metadata,
    /// Metadata and the request body.
    Request,
    /// Metadata, the request body and the response body.
    RequestResponse,
}

/// The paths that are never logged: probes and the console's static files.
const UNLOGGED_PATHS: &[&str] = &["/healthz", "/readyz", "/livez", "/version", "/favicon.ico"];

/// The level of a request: `None` for probes, `RequestResponse` for writes to Services,
/// `Metadata` for everything else.
pub fn level(path: &str, attributes: &RequestAttributes) -> Level {
    let trimmed = path.trim_end_matches('/');
    let probe = UNLOGGED_PATHS
        .iter()
        .any(|p| trimmed == *p || path.starts_with(&format!("{p}/")))
        || path.starts_with("/static/");
    if probe {
        return Level::None;
    }
    let services = attributes
        .object
        .as_ref()
        .is_some_and(|o| o.resource == "services" && o.api_group.is_empty());
    if services && attributes.is_write() {
        Level::RequestResponse
    } else {
        Level::Metadata
    }
}

/// `authentication.k8s.io/v1` UserInfo.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditUser {
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl From<&UserInfo> for AuditUser {
    fn from(user: &UserInfo) -> Self {
        AuditUser {
            username: user.name.clone(),
            uid: user.uid.clone(),
            groups: user.groups.clone(),
            extra: user.extra.clone(),
        }
    }
}

/// `metav1.Status` as the event's responseStatus carries it: the bounded fields only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResponseStatus {
    pub metadata: serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<service_plan::status::StatusDetails>,
    pub code: u16,
}

impl ResponseStatus {
    /// The response status of a request answered with `code` and, for a failure, `status`.
    pub fn new(code: u16, status: Option<&Status>) -> ResponseStatus {
        match status {
            Some(s) => ResponseStatus {
                metadata: Default::default(),
                status: s.status.clone(),
                message: s.message.clone(),
                reason: s.reason.clone(),
                details: s.details.clone(),
                code: s.code,
            },
            None => ResponseStatus {
                code,
                ..Default::default()
            },
        }
    }
}

/// One `audit.k8s.io/v1` Event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub level: Level,
    #[serde(rename = "auditID")]
    pub audit_id: String,
    pub stage: &'static str,
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    pub verb: String,
    pub user: AuditUser,
    #[serde(rename = "sourceIPs", skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user_agent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_object: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_object: Option<Value>,
    pub request_received_timestamp: MicroTime,
    pub stage_timestamp: MicroTime,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The stage after the response body is sent.
pub const STAGE_RESPONSE_COMPLETE: &str = "ResponseComplete";
/// The stage of a long-running request once its headers are sent.
pub const STAGE_RESPONSE_STARTED: &str = "ResponseStarted";

/// `metav1.MicroTime`: RFC 3339 in UTC with exactly six fractional digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MicroTime(pub Timestamp);

impl MicroTime {
    /// The current time.
    pub fn now() -> MicroTime {
        MicroTime(Timestamp::now())
    }
}

impl std::fmt::Display for MicroTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Go's "2006-01-02T15:04:05.000000Z07:00" in UTC.
        write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M:%S.%6fZ"))
    }
}

impl Serialize for MicroTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Longest User-Agent kept, as upstream truncates it.
const MAX_USER_AGENT_BYTES: usize = 1024;

/// A User-Agent as upstream records it: cut after 1,024 bytes with `...TRUNCATED`.
pub fn truncate_user_agent(agent: &str) -> String {
    if agent.len() <= MAX_USER_AGENT_BYTES {
        return agent.to_owned();
    }
    let mut end = MAX_USER_AGENT_BYTES;
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...TRUNCATED", &agent[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::audit::request::attributes;

    #[test]
    fn micro_time_has_six_fractional_digits_in_utc() {
        let t: Timestamp = "2026-12-05T06:07:08.5Z".parse().expect("timestamp");
        assert_eq!(MicroTime(t).to_string(), "2026-12-05T06:07:08.500000Z");
    }

    #[test]
    fn levels_per_request() {
        let level_of = |method: &str, path: &str| level(path, &attributes(method, path, None));
        assert_eq!(level_of("GET", "/healthz"), Level::None);
        assert_eq!(level_of("GET", "/readyz/"), Level::None);
        assert_eq!(level_of("GET", "/livez"), Level::None);
        assert_eq!(level_of("GET", "/version"), Level::None);
        assert_eq!(level_of("GET", "/static/css/app.css"), Level::None);
        assert_eq!(
            level_of("GET", "/api/v1/namespaces/a/services/web"),
            Level::Metadata
        );
        assert_eq!(
            level_of("POST", "/api/v1/namespaces/a/services"),
            Level::RequestResponse
        );
        assert_eq!(
            level_of("PUT", "/api/v1/namespaces/a/services/web/status"),
            Level::RequestResponse
        );
        assert_eq!(
            level_of("POST", "/api/v1/namespaces/a/pods"),
            Level::Metadata
        );
        assert_eq!(level_of("POST", "/services"), Level::Metadata);
    }

    #[test]
    fn long_user_agents_are_truncated_as_upstream() {
        let agent = "a".repeat(1030);
        let cut = truncate_user_agent(&agent);
        assert_eq!(cut.len(), 1024 + "...TRUNCATED".len());
        assert!(cut.ends_with("a...TRUNCATED"));
    }
}
