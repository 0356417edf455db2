//! `POST …/serviceaccounts/{name}/token`: the TokenRequest API (authentication.k8s.io/v1),
//! which `kubectl create token NAME [--duration]` calls. Tokens are bound to the
//! ServiceAccount's uid and are signed only in team mode, where they authenticate.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use service_plan::json::Pointer as _;
use service_plan::token_request;

use super::body::RawBody;
use super::error::ApiError;
use super::target::Target;
use crate::AppState;
use crate::auth::AuthMode;

/// Issues a token for the ServiceAccount the path names.
pub async fn create(app: &AppState, target: &Target, body: &RawBody) -> Result<Response, ApiError> {
    let AuthMode::Team(team) = &app.auth else {
        return Err(ApiError::bad_request(
            "ServiceAccount tokens are issued in team mode only (serve --tls): a local server \
             does not authenticate requests",
        ));
    };
    let (namespace, name) = (target.namespace_or_empty(), target.name_or_empty());
    let request = if body.media_type == super::body::PROTOBUF {
        super::protobuf::decode_token_request(&body.bytes).map_err(ApiError::bad_request)?
    } else {
        body.object(target.kind)?
    };
    let spec = token_request::spec_of(&request, name).map_err(|status| ApiError::new(*status))?;
    let (audiences, seconds) = (spec.audiences, spec.expiration_seconds);
    let account = app.registry.get(target.kind, namespace, name).await?;
    let uid = account
        .at("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let now = jiff::Timestamp::now().as_second();
    let token = team
        .tokens
        .issue(namespace, name, uid, audiences.clone(), now, seconds)
        .map_err(|e| ApiError::internal(format!("signing a token: {e}")))?;
    let expires = jiff::Timestamp::from_second(now + seconds)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let answer = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": null},
        "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": null},
        "status": {"token": token, "expirationTimestamp": expires},
    });
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}
