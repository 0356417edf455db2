//! Team-mode authorization: every API request is decided by RBAC over the stored roles and
//! bindings, after `system:masters` (kube-apiserver's privileged-group authorizer), and a
//! refusal is the 403 Status kube-apiserver writes, word for word.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use service_plan::rbac::{Attributes, new_request_info};
use service_plan::status::Status;

use super::{AuthMode, user_of};
use crate::AppState;
use crate::status_response::status_response;

/// The API's authorization: runs `inner` if the request's user may do what it asks, or
/// answers 403. Local mode allows everyone everything, without reading the request at all.
pub async fn authorized<Fut: Future<Output = Response>>(
    state: &AppState,
    request: Request,
    inner: impl FnOnce(Request) -> Fut,
) -> Response {
    if matches!(state.auth, AuthMode::Local) {
        return inner(request).await;
    }
    let user = user_of(&request);
    let uri = request.uri();
    let info = match new_request_info(
        request.method().as_str(),
        uri.path(),
        uri.query().unwrap_or_default(),
    ) {
        Ok(info) => info,
        Err(e) => {
            let body = e.internal_error_body(&uri.to_string());
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
        }
    };
    let attrs = match services_action(&info.path) {
        Some((verb, namespace, name)) => {
            Attributes::resource(&user, verb, "", "services", namespace, name)
        }
        None => Attributes::for_request(&user, &info),
    };
    match permit(state, &attrs) {
        Ok(()) => inner(request).await,
        Err(forbidden) => status_response(&forbidden).into_response(),
    }
}

/// What this server's own endpoints about Services ask of RBAC (verb, namespace, name):
/// - a plan (`/plan/v1/namespaces/{ns}/services`) is a dry-run create;
/// - a Service's history (`/history/v1/namespaces/{ns}/services/{name}`) is a get: whoever may
///   read the Service may read its past;
/// - the deleted Services of a namespace (`/history/v1/namespaces/{ns}/deleted-services`) are
///   a list.
fn services_action(path: &str) -> Option<(&'static str, &str, &str)> {
    let segment = |s: &str| !s.is_empty() && !s.contains('/');
    if let Some(rest) = path.strip_prefix("/plan/v1/namespaces/") {
        let namespace = rest.strip_suffix("/services").filter(|ns| segment(ns))?;
        return Some(("create", namespace, ""));
    }
    let rest = path.strip_prefix("/history/v1/namespaces/")?;
    let (namespace, rest) = rest.split_once('/')?;
    match rest.split_once('/') {
        Some(("services", name)) if segment(namespace) && segment(name) => {
            Some(("get", namespace, name))
        }
        None if rest == "deleted-services" && segment(namespace) => Some(("list", namespace, "")),
        _ => None,
    }
}

/// Whether `attrs` may be done: everything in local mode, what RBAC allows (after
/// `system:masters`) in team mode; kube-apiserver's 403 Status otherwise.
pub fn permit(state: &AppState, attrs: &Attributes<'_>) -> Result<(), Box<Status>> {
    match state.auth {
        AuthMode::Local => Ok(()),
        AuthMode::Team(_) => state.registry.authorize(attrs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_endpoints_map_to_services_verbs() {
        assert_eq!(
            services_action("/plan/v1/namespaces/a/services"),
            Some(("create", "a", ""))
        );
        assert_eq!(
            services_action("/history/v1/namespaces/a/services/web"),
            Some(("get", "a", "web"))
        );
        assert_eq!(
            services_action("/history/v1/namespaces/a/deleted-services"),
            Some(("list", "a", ""))
        );
        for other in [
            "/history/v1/namespaces/a/services/web/x",
            "/history/v1/namespaces//services/web",
            "/plan/v1/namespaces/a/b/services",
            "/api/v1/namespaces/a/services",
        ] {
            assert_eq!(services_action(other), None, "{other}");
        }
    }
}
