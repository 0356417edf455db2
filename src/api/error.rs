//! The API's one error type: every failure leaves as a `metav1.Status` JSON body with the
//! code, reason and message kube-apiserver would send. Storage failures keep their text in
//! the server log (see [`super::audit`]) and never in the body.

use axum::response::{IntoResponse, Response};
use service_plan::patch::PatchError;
use service_plan::status::{Status, StatusCause, StatusDetails};

use crate::registry::{RegistryError, StoreError};

/// The largest request body accepted, as kube-apiserver's `MaxRequestBodyBytes` (3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Media types a create or update body may use, in upstream's order.
pub const OBJECT_MEDIA_TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

/// Media types a PATCH body may use, in the order kube-apiserver lists them.
pub const PATCH_MEDIA_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// A failed API request, answered as a `metav1.Status`.
#[derive(Debug)]
pub struct ApiError {
    /// Boxed: a Status is large and errors travel through every `Result` here.
    status: Box<Status>,
    /// The detail of an internal failure, for the log only.
    internal: Option<String>,
}

/// Carries an internal error's detail from the response to the audit middleware, which logs
/// it once with the request id.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

impl ApiError {
    /// An error answered with `status` as is.
    pub fn new(status: Status) -> ApiError {
        ApiError {
            status: Box::new(status),
            internal: None,
        }
    }

    /// 400 BadRequest with `message`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(Status::bad_request(message))
    }

    /// 404 for a path that serves nothing.
    pub fn path_not_found() -> ApiError {
        ApiError::new(Status::path_not_found())
    }

    /// 405 for a method the path does not serve.
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(Status::failure(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            Some(StatusDetails::default()),
        ))
    }

    /// 413 for a body over [`MAX_BODY_BYTES`].
    pub fn too_large() -> ApiError {
        ApiError::new(Status::failure(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {MAX_BODY_BYTES}"),
            None,
        ))
    }

    /// 415 listing the media types the endpoint accepts (`NewUnsupportedMediaTypeError`).
    pub fn unsupported_media_type(accepted: &[&str]) -> ApiError {
        ApiError::new(Status::failure(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
            None,
        ))
    }

    /// 500 for a failure of the server's own, such as a response it cannot encode; the detail
    /// goes to the log only.
    pub fn internal(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: Box::new(Status::internal(
                "an internal error occurred; see the server log",
            )),
            internal: Some(detail.into()),
        }
    }

    /// The Status this error answers with.
    pub fn status(&self) -> &Status {
        &self.status
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> ApiError {
        let internal = match &e {
            RegistryError::Store(StoreError::Expired { .. }) => None,
            RegistryError::Store(store) => Some(store.to_string()),
            _ => None,
        };
        ApiError {
            status: Box::new(e.status()),
            internal,
        }
    }
}

impl From<PatchError> for ApiError {
    /// Mirrors how the patch handler wraps each patch library error.
    fn from(e: PatchError) -> ApiError {
        let status = match e {
            PatchError::BadRequest(m) => Status::bad_request(m),
            // errors.NewGenericServerResponse(422, "", ...): a fixed message, the text as cause.
            PatchError::Unprocessable(m) => Status::failure(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
                Some(StatusDetails {
                    causes: vec![StatusCause {
                        reason: "UnexpectedServerResponse".into(),
                        message: m,
                        field: String::new(),
                    }],
                    ..Default::default()
                }),
            ),
            PatchError::TooLarge(m) => Status::failure(413, "RequestEntityTooLarge", m, None),
            // A plain Go error becomes a 500 with no reason.
            PatchError::Internal(m) => Status::failure(500, "", m, None),
        };
        ApiError::new(status)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        status_response(&self.status, self.internal.map(InternalDetail))
    }
}

/// A Status body with its code and `Content-Type: application/json`, carrying an internal
/// error's detail to the audit middleware.
pub fn status_response(status: &Status, internal: Option<InternalDetail>) -> Response {
    let mut response = crate::status_response::status_response(status);
    if let Some(detail) = internal {
        response.extensions_mut().insert(detail);
    }
    response
}

/// The fallback for every path nothing serves.
pub async fn not_found() -> ApiError {
    ApiError::path_not_found()
}

/// The fallback for a method a served path does not accept.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
