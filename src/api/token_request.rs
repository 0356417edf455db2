//! `POST …/serviceaccounts/{name}/token`: the TokenRequest API (authentication.k8s.io/v1),
//! which `kubectl create token NAME [--duration]` calls. Tokens are bound to the
//! ServiceAccount's uid and are signed only in team mode, where they authenticate.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use service_plan::field::{FieldError, FieldErrors};
use service_plan::status::Resource;

use super::body::RawBody;
use super::error::ApiError;
use super::target::Target;
use crate::AppState;
use crate::auth::AuthMode;
use crate::auth::tokens::{
    DEFAULT_EXPIRATION_SECONDS, ISSUER, MAX_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS,
};
use crate::registry::RegistryError;

/// The resource errors of a TokenRequest name.
const TOKEN_REQUESTS: Resource = Resource {
    group: "authentication.k8s.io",
    plural: "tokenrequests",
    kind: "TokenRequest",
};

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
    let spec = request.get("spec").cloned().unwrap_or(Value::Null);
    let seconds = spec
        .get("expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    let audiences: Vec<String> = match spec.get("audiences").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect(),
        _ => vec![ISSUER.to_string()],
    };
    check_expiration(name, seconds)?;
    let account = app.registry.get(target.kind, namespace, name).await?;
    let uid = account
        .pointer("/metadata/uid")
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

/// TokenRequest validation of `spec.expirationSeconds`, in upstream's words.
fn check_expiration(name: &str, seconds: i64) -> Result<(), ApiError> {
    let detail = if seconds < MIN_EXPIRATION_SECONDS {
        "may not specify a duration less than 10 minutes"
    } else if seconds > MAX_EXPIRATION_SECONDS {
        "may not specify a duration larger than 2^32 seconds"
    } else {
        return Ok(());
    };
    let mut errors = FieldErrors::new();
    errors.push(FieldError::invalid(
        "spec.expirationSeconds",
        seconds,
        detail,
    ));
    Err(RegistryError::Invalid {
        resource: TOKEN_REQUESTS,
        name: name.to_string(),
        errors,
    }
    .into())
}
