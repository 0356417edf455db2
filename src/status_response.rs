//! A `metav1.Status` as an HTTP response: what the API answers every failure with, and what
//! the console answers a non-browser client on a path nothing serves.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use service_plan::status::Status;

/// A Status body with its code and `Content-Type: application/json`; the Status also rides
/// in the response's extensions, for the audit log's responseStatus.
pub fn status_response(status: &Status) -> Response {
    let code = StatusCode::from_u16(status.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(status).unwrap_or_default();
    let mut response = (
        code,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    response.extensions_mut().insert(status.clone());
    response
}
