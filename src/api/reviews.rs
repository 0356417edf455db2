//! The create-only review APIs clients ask about themselves with: SelfSubjectReview
//! (`kubectl auth whoami`), SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE`) and
//! SelfSubjectRulesReview (`kubectl auth can-i --list`). Nothing is stored; each answer is the
//! request with its status filled in.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReviewSpec;
use serde_json::{Value, json};
use service_plan::json::Pointer as _;
use service_plan::rbac::authorizer::rules_review;
use service_plan::rbac::review::access_review;
use service_plan::user::UserInfo;

use super::body::{PROTOBUF, RawBody};
use super::error::ApiError;
use super::protobuf;
use crate::AppState;
use crate::auth::{AuthMode, user_of};

/// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews`: who the request is.
pub async fn self_subject_review(request: Request) -> Response {
    let user = user_of(&request);
    let answer = json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": user_info(&user)},
    });
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`: may I?
pub async fn self_subject_access_review(
    State(app): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let user = user_of(&request);
    let review = review_body(request, "SelfSubjectAccessReview").await?;
    let spec: SelfSubjectAccessReviewSpec =
        serde_json::from_value(review.get("spec").cloned().unwrap_or(Value::Null))
            .map_err(|e| ApiError::bad_request(format!("json: {e}")))?;
    // Local mode's users are all in `system:masters`, which the review allows everything.
    let status = access_review(&user, &spec, app.registry.policy().as_ref())
        .map_err(|status| ApiError::new(*status))?;
    let status = serde_json::to_value(status).unwrap_or(Value::Null);
    Ok(answered(review, status))
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews`: what may I do here?
pub async fn self_subject_rules_review(
    State(app): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let user = user_of(&request);
    let review = review_body(request, "SelfSubjectRulesReview").await?;
    let namespace = review
        .at("/spec/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let status = match &app.auth {
        AuthMode::Local => json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        }),
        AuthMode::Team(_) => {
            let status = rules_review(&user, &namespace, app.registry.policy().as_ref())
                .map_err(|status| ApiError::new(*status))?;
            serde_json::to_value(status).unwrap_or(Value::Null)
        }
    };
    Ok(answered(review, status))
}

/// The review in the body (JSON, YAML or kubectl's protobuf).
async fn review_body(request: Request, kind: &str) -> Result<Value, ApiError> {
    let body = <RawBody as axum::extract::FromRequest<()>>::from_request(request, &()).await?;
    if body.media_type == PROTOBUF {
        return protobuf::decode_review(&body.bytes, kind).map_err(ApiError::bad_request);
    }
    body.review()
}

/// The review sent, with `status` and without server-owned metadata.
fn answered(mut review: Value, status: Value) -> Response {
    if let Some(object) = review.as_object_mut() {
        object.insert("status".into(), status);
        object
            .entry("metadata")
            .or_insert_with(|| json!({"creationTimestamp": null}));
    }
    (StatusCode::CREATED, axum::Json(review)).into_response()
}

fn user_info(user: &UserInfo) -> Value {
    let mut info = json!({"username": user.name, "groups": user.groups});
    if !user.uid.is_empty() {
        info["uid"] = json!(user.uid);
    }
    if !user.extra.is_empty() {
        info["extra"] = json!(user.extra);
    }
    info
}
