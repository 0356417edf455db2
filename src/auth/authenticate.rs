//! Team-mode authentication, in kube-apiserver's order: a verified client certificate, then a
//! bearer token, then anonymous. A bearer token that does not verify (and no certificate) is a
//! 401, not anonymous.

use service_plan::json::Pointer as _;
use std::sync::Arc;

use axum::http::header::AUTHORIZATION;
use axum::http::{Extensions, HeaderMap};
use axum::response::{IntoResponse, Response};
use service_plan::status::Status;
use service_plan::user::UserInfo;

use super::Team;
use super::tls::ClientCertificateUser;
use crate::AppState;
use crate::registry::kind_by_plural;

/// The user of an API request, or kube-apiserver's 401 Status.
pub async fn api_user(
    state: &AppState,
    team: &Team,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Result<Arc<UserInfo>, Response> {
    let token = bearer_token(headers).map(str::to_owned);
    let certificate = extensions.get::<ClientCertificateUser>().cloned();
    if let Some(ClientCertificateUser(user)) = certificate {
        return Ok(user);
    }
    match token {
        Some(token) => token_user(state, team, &token)
            .await
            .ok_or_else(unauthorized),
        None => Ok(Arc::new(UserInfo::anonymous())),
    }
}

/// The token of an `Authorization: Bearer …` header; other schemes are not ours to read.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The ServiceAccount user a token names, while that ServiceAccount exists with the uid the
/// token was bound to.
pub async fn token_user(state: &AppState, team: &Team, token: &str) -> Option<Arc<UserInfo>> {
    let claims = match team.tokens.verify(token) {
        Ok(claims) => claims,
        Err(e) => {
            // The reason is for the operator; the token itself never reaches the log.
            tracing::info!(reason = %e, "refused a bearer token");
            return None;
        }
    };
    let (namespace, account) = (
        &claims.kubernetes.namespace,
        &claims.kubernetes.serviceaccount,
    );
    if !service_account_holds(state, namespace, &account.name, &account.uid).await {
        tracing::info!(
            serviceaccount = %claims.sub,
            "refused a token of a ServiceAccount that was deleted (and perhaps re-created)"
        );
        return None;
    }
    Some(Arc::new(UserInfo::service_account(
        namespace,
        &account.name,
        &account.uid,
    )))
}

/// Whether ServiceAccount `namespace/name` exists with `uid`: what keeps its tokens (and the
/// console sessions they opened) valid, so deleting it revokes them at once.
pub async fn service_account_holds(
    state: &AppState,
    namespace: &str,
    name: &str,
    uid: &str,
) -> bool {
    let Some(kind) = kind_by_plural("serviceaccounts") else {
        return false;
    };
    match state.registry.get(kind, namespace, name).await {
        Ok(account) => account.at("/metadata/uid").and_then(|v| v.as_str()) == Some(uid),
        Err(_) => false,
    }
}

/// kube-apiserver's answer to credentials that do not authenticate.
pub fn unauthorized() -> Response {
    let status = Status::failure(401, "Unauthorized", "Unauthorized".to_string(), None);
    crate::status_response::status_response(&status).into_response()
}
