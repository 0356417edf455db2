//! Per-request ids and the audit log: every API and console response carries `Audit-Id`, an
//! internal error is logged here, once, with that id, and every request that the policy does
//! not exempt becomes an `audit.k8s.io/v1` Event in kube-apiserver's log-backend format.

pub mod event;
pub mod request;
pub mod sink;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;
use service_plan::status::Status;
use service_plan::user::UserInfo;

use super::error::{ApiError, InternalDetail, MAX_BODY_BYTES};
use crate::AppState;
use event::{Event, Level, MicroTime, ResponseStatus};
pub use sink::{AuditLog, AuditLogOptions};

/// The response header kube-apiserver names its request ids with.
pub const AUDIT_ID_HEADER: &str = "audit-id";

/// The request's audit id, in its extensions for the handlers (the console shows it as its
/// request id, so a page's id finds its audit event).
#[derive(Debug, Clone)]
pub struct AuditId(pub String);

/// Middleware: assigns the request id, logs internal errors with it and records the event.
pub async fn audit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    audited(&state, request, |request| next.run(request)).await
}

/// [`audit`] around `inner`.
pub async fn audited<Fut: Future<Output = Response>>(
    state: &AppState,
    mut request: Request,
    inner: impl FnOnce(Request) -> Fut,
) -> Response {
    let received = MicroTime::now();
    let id = uuid::Uuid::new_v4().to_string();
    request.extensions_mut().insert(AuditId(id.clone()));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let pending = match Some(&state.audit).filter(|log| log.enabled()) {
        Some(log) => PendingEvent::start(log.clone(), &request, &id, received),
        None => None,
    };
    let (request, request_object) = match &pending {
        Some(p) if p.event.level >= Level::Request => match read_request_object(request).await {
            Ok(read) => read,
            Err(response) => return response,
        },
        _ => (request, None),
    };
    let mut response = inner(request).await;
    if let Some(InternalDetail(detail)) = response.extensions_mut().remove::<InternalDetail>() {
        tracing::error!(request_id = %id, %method, %path, error = %detail, "internal error");
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(AUDIT_ID_HEADER, value);
    }
    // kube-apiserver's WithCacheControl: responses that set no policy are not to be cached
    // by shared caches.
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    }
    match pending {
        Some(mut pending) => {
            if let (Some(object_ref), Some(object)) =
                (pending.event.object_ref.as_mut(), request_object.as_ref())
            {
                object_ref.fill_from(object);
            }
            pending.event.request_object = request_object;
            pending.finish(response).await
        }
        None => response,
    }
}

/// An event being built while its request is served.
struct PendingEvent {
    log: AuditLog,
    event: Event,
}

impl PendingEvent {
    /// The event of `request`, or `None` when the policy logs nothing of it.
    fn start(log: AuditLog, request: &Request, id: &str, received: MicroTime) -> Option<Self> {
        let uri = request.uri();
        let attributes = request::attributes(request.method().as_str(), uri.path(), uri.query());
        let level = event::level(uri.path(), &attributes);
        if level == Level::None {
            return None;
        }
        let user = request
            .extensions()
            .get::<Arc<UserInfo>>()
            .map(|u| event::AuditUser::from(u.as_ref()))
            .unwrap_or_else(|| (&UserInfo::anonymous()).into());
        let remote = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let event = Event {
            kind: "Event",
            api_version: "audit.k8s.io/v1",
            level,
            audit_id: id.to_owned(),
            stage: event::STAGE_RESPONSE_COMPLETE,
            request_uri: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            verb: attributes.verb,
            user,
            source_ips: source_ips(request.headers(), remote),
            user_agent: request
                .headers()
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(event::truncate_user_agent)
                .unwrap_or_default(),
            object_ref: attributes.object,
            response_status: None,
            request_object: None,
            response_object: None,
            request_received_timestamp: received,
            stage_timestamp: received,
            annotations: Default::default(),
        };
        Some(PendingEvent { log, event })
    }

    /// Records the event of `response`: now, or for a watch when its body ends (with a
    /// `ResponseStarted` event now, as upstream does for long-running requests).
    async fn finish(mut self, response: Response) -> Response {
        let code = response.status().as_u16();
        self.event.response_status = Some(ResponseStatus::new(
            code,
            response.extensions().get::<Status>(),
        ));
        if self.event.verb == "watch" {
            let mut started = self.event.clone();
            started.stage = event::STAGE_RESPONSE_STARTED;
            started.stage_timestamp = MicroTime::now();
            self.log.record(&started);
            let (parts, body) = response.into_parts();
            let stream = body.into_data_stream();
            // The guard goes with the stream: the event is recorded when the body ends or the
            // client goes away.
            let guard = CompleteOnDrop(Some(self));
            let body = Body::from_stream(stream.map(move |chunk| {
                let _ = &guard;
                chunk
            }));
            return Response::from_parts(parts, body);
        }
        let response = if self.event.level >= Level::RequestResponse {
            let (parts, body) = response.into_parts();
            let bytes = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    tracing::warn!(%error, "response body could not be read for the audit log");
                    Bytes::new()
                }
            };
            self.event.response_object = json_object(parts.headers.get(CONTENT_TYPE), &bytes);
            Response::from_parts(parts, Body::from(bytes))
        } else {
            response
        };
        self.event.stage_timestamp = MicroTime::now();
        self.log.record(&self.event);
        response
    }
}

/// Records a watch's `ResponseComplete` event when its body is dropped.
struct CompleteOnDrop(Option<PendingEvent>);

impl Drop for CompleteOnDrop {
    fn drop(&mut self) {
        if let Some(mut pending) = self.0.take() {
            pending.event.stage_timestamp = MicroTime::now();
            pending.log.record(&pending.event);
        }
    }
}

/// The request body as the event's requestObject (JSON, or YAML turned into JSON; a protobuf
/// body is left out), and the request with its body put back.
async fn read_request_object(request: Request) -> Result<(Request, Option<Value>), Response> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::too_large().into_response())?;
    let object = json_object(parts.headers.get(CONTENT_TYPE), &bytes);
    Ok((Request::from_parts(parts, Body::from(bytes)), object))
}

/// A body as JSON, when it is JSON or YAML.
fn json_object(content_type: Option<&HeaderValue>, bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    let media = content_type
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let media = media.split(';').next().unwrap_or("").trim();
    if media.ends_with("json") {
        serde_json::from_slice(bytes).ok()
    } else if media.ends_with("yaml") {
        let text = std::str::from_utf8(bytes).ok()?;
        crate::manifest::parse_yaml_body(text).ok()
    } else {
        None
    }
}

/// The client's addresses as upstream's `utilnet.SourceIPs` lists them: `X-Forwarded-For`,
/// then `X-Real-Ip`, then the connection's peer, each once.
fn source_ips(headers: &HeaderMap, remote: Option<SocketAddr>) -> Vec<String> {
    let mut ips: Vec<std::net::IpAddr> = Vec::new();
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|v| v.split(','));
    let real = headers.get("x-real-ip").and_then(|v| v.to_str().ok());
    for candidate in forwarded.chain(real) {
        if let Ok(ip) = candidate.trim().parse() {
            ips.push(ip);
        }
    }
    if let Some(remote) = remote
        && !ips.contains(&remote.ip())
    {
        ips.push(remote.ip());
    }
    ips.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ips_list_forwarded_then_real_then_peer() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("10.0.0.1, 10.0.0.2"),
        );
        headers.insert("x-real-ip", HeaderValue::from_static("10.0.0.3"));
        let peer: SocketAddr = "127.0.0.1:5555".parse().expect("address");
        assert_eq!(
            source_ips(&headers, Some(peer)),
            vec!["10.0.0.1", "10.0.0.2", "10.0.0.3", "127.0.0.1"]
        );
        assert_eq!(source_ips(&HeaderMap::new(), None), Vec::<String>::new());
    }
}
