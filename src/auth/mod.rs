//! Who a request is. Every request leaves the front door with an `Arc<UserInfo>` in its
//! extensions: in local mode (plain HTTP on loopback, like `kubectl proxy`) the user is
//! whoever the request says it is; in team mode authentication decides.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::header::USER_AGENT;
use axum::middleware::Next;
use axum::response::Response;
use service_plan::user::{MASTERS, UserInfo};

/// The user of console requests in local mode.
pub const LOCAL_CONSOLE_USER: &str = "service-console";

/// The user a request was authenticated as (the anonymous user when none was attached).
pub fn user_of(request: &Request) -> Arc<UserInfo> {
    request
        .extensions()
        .get::<Arc<UserInfo>>()
        .cloned()
        .unwrap_or_else(|| Arc::new(UserInfo::anonymous()))
}

/// A local-mode user: everything is allowed, so the user is in `system:masters`.
fn local_user(name: &str) -> Arc<UserInfo> {
    Arc::new(UserInfo::authenticated(name, [MASTERS.to_string()]))
}

/// Middleware for the API in local mode: the user is the client's User-Agent prefix (e.g.
/// `kubectl-edit`), as the default field manager is.
pub async fn local_api_user(mut request: Request, next: Next) -> Response {
    let name = request
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(service_plan::meta::manager_from_user_agent)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| service_plan::user::ANONYMOUS.to_string());
    request.extensions_mut().insert(local_user(&name));
    next.run(request).await
}

/// Middleware for the console in local mode: the user is the console itself.
pub async fn local_console_user(mut request: Request, next: Next) -> Response {
    request
        .extensions_mut()
        .insert(local_user(LOCAL_CONSOLE_USER));
    next.run(request).await
}
