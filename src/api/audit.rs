//! Per-request ids: every API response carries `Audit-Id`, and an internal error is logged
//! here, once, with that id, its method and path.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::middleware::Next;
use axum::response::Response;

use super::error::InternalDetail;

/// The response header kube-apiserver names its request ids with.
const AUDIT_ID_HEADER: &str = "audit-id";

/// Middleware: assigns the request id and logs internal errors with it.
pub async fn audit(request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
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
    response
}
