//! Team-mode authorization: every API request is decided by RBAC over the stored roles and
//! bindings, after `system:masters` (kube-apiserver's privileged-group authorizer), and a
//! refusal is the 403 Status kube-apiserver writes, word for word.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use service_plan::rbac::message::forbidden_status;
use service_plan::rbac::{
    Attributes, Decision, authorize_with_privileged_groups, new_request_info,
};
use service_plan::user::UserInfo;

use super::{AuthMode, user_of};
use crate::AppState;
use crate::status_response::status_response;

/// Middleware of the API: refuses what the request's user may not do (team mode only).
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(state.auth, AuthMode::Local) {
        return next.run(request).await;
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
    let attrs = match plan_namespace(&info.path) {
        // A plan is a dry-run create: whoever may create Services there may plan them.
        Some(namespace) => Attributes::resource(&user, "create", "", "services", namespace, ""),
        None => Attributes::for_request(&user, &info),
    };
    match decide(&state, &attrs) {
        Decision::Allow(_) => next.run(request).await,
        Decision::NoOpinion(reason) => {
            status_response(&forbidden_status(&attrs, &reason)).into_response()
        }
    }
}

/// The namespace of a `/plan/v1/namespaces/{ns}/services` path.
fn plan_namespace(path: &str) -> Option<&str> {
    path.strip_prefix("/plan/v1/namespaces/")?
        .strip_suffix("/services")
        .filter(|ns| !ns.is_empty() && !ns.contains('/'))
}

/// The decision on `attrs`: everything in local mode, RBAC after `system:masters` in team mode.
pub fn decide(state: &AppState, attrs: &Attributes<'_>) -> Decision {
    match state.auth {
        AuthMode::Local => Decision::Allow(String::new()),
        AuthMode::Team(_) => {
            authorize_with_privileged_groups(attrs, state.registry.policy().as_ref())
        }
    }
}

/// Whether `user` may `verb` the `resource` of `group` in `namespace` (named `name`, or any):
/// what the console asks before it offers an action.
pub fn can(
    state: &AppState,
    user: &UserInfo,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: &str,
    name: &str,
) -> bool {
    decide(
        state,
        &Attributes::resource(user, verb, group, resource, namespace, name),
    )
    .is_allowed()
}
