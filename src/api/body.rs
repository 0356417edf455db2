//! Request bodies: read up to [`MAX_BODY_BYTES`], then decoded by their Content-Type —
//! JSON, YAML, or protobuf (Services only) for objects; JSON or YAML for DeleteOptions.
//! Anything else, an absent Content-Type included, is a 415 in kube-apiserver's words, never
//! a guess.

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde_json::Value;
use service_plan::codec;
use service_plan::json::Pointer as _;

use super::error::{ApiError, MAX_BODY_BYTES, OBJECT_MEDIA_TYPES};
use super::negotiate::body_media_type;
use super::protobuf;
use crate::registry::{DeletePreconditions, Kind};

/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/yaml`.
pub const YAML: &str = "application/yaml";
/// `application/vnd.kubernetes.protobuf`, what kubectl's typed clients send.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// A request body and its media type, read whole.
#[derive(Debug, Clone)]
pub struct RawBody {
    /// The Content-Type without parameters, lower-cased; empty when absent.
    pub media_type: String,
    pub bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let media_type = body_media_type(request.headers());
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(ApiError::too_large());
        }
        let mut stream = request.into_body().into_data_stream();
        let mut buffer = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::bad_request(format!("error reading request body: {e}")))?;
            // A chunked body declares no length, so the limit is also enforced while reading.
            if buffer.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(ApiError::too_large());
            }
            buffer.extend_from_slice(&chunk);
        }
        Ok(RawBody {
            media_type,
            bytes: buffer.freeze(),
        })
    }
}

impl RawBody {
    /// The body of a create or update of `kind`, as JSON. kube-apiserver would take an absent
    /// Content-Type for JSON; we refuse it, because a cross-site `no-cors` fetch can send a
    /// body without one (or as `text/plain`) and no preflight would stop it.
    pub fn object(&self, kind: &Kind) -> Result<Value, ApiError> {
        match self.media_type.as_str() {
            JSON => codec::parse_json(&self.bytes).map_err(|detail| {
                ApiError::bad_request(
                    codec::unrecognized(kind.resource.kind, &detail, &self.bytes).message,
                )
            }),
            YAML => yaml(&self.bytes),
            PROTOBUF if kind.is_services() => {
                protobuf::decode(&self.bytes).map_err(ApiError::bad_request)
            }
            // What `kubectl create deployment` sends.
            PROTOBUF if kind.resource.kind == "Deployment" => {
                protobuf::decode_deployment(&self.bytes).map_err(ApiError::bad_request)
            }
            // What `kubectl autoscale` sends (v1.32 posts autoscaling/v1).
            PROTOBUF if kind.resource.kind == "HorizontalPodAutoscaler" && kind.version == "v1" => {
                protobuf::decode_horizontal_pod_autoscaler(&self.bytes)
                    .map_err(ApiError::bad_request)
            }
            PROTOBUF if kind.decodes_identity_protobuf() => protobuf::decode_identity_object(
                &self.bytes,
                &kind.api_version(),
                kind.resource.kind,
            )
            .map_err(ApiError::bad_request),
            _ => Err(ApiError::unsupported_media_type(OBJECT_MEDIA_TYPES)),
        }
    }

    /// The JSON or YAML body of a review (a create-only kind that is never stored).
    pub fn review(&self) -> Result<Value, ApiError> {
        match self.media_type.as_str() {
            JSON => codec::parse_json(&self.bytes).map_err(ApiError::bad_request),
            YAML => yaml(&self.bytes),
            _ => Err(ApiError::unsupported_media_type(OBJECT_MEDIA_TYPES)),
        }
    }

    /// The configuration of a server-side apply: YAML, of which kubectl's JSON is a case.
    pub fn apply_configuration(&self) -> Result<Value, ApiError> {
        yaml(&self.bytes)
    }

    /// The optional `DeleteOptions` body of a DELETE.
    pub fn delete_options(&self) -> Result<DeleteBody, ApiError> {
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(DeleteBody::default());
        }
        let value = match self.media_type.as_str() {
            JSON => codec::parse_json(&self.bytes).map_err(ApiError::bad_request)?,
            YAML => yaml(&self.bytes)?,
            // Typed clients send protobuf DeleteOptions; without a decoder for them the
            // defaults (no preconditions, no dry run) are what such clients nearly always mean.
            PROTOBUF => return Ok(DeleteBody::default()),
            _ => return Err(ApiError::unsupported_media_type(OBJECT_MEDIA_TYPES)),
        };
        DeleteBody::from_value(&value)
    }
}

fn yaml(bytes: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))?;
    crate::manifest::parse_yaml_body(text).map_err(ApiError::bad_request)
}

/// What a DELETE body may say.
#[derive(Debug, Clone, Default)]
pub struct DeleteBody {
    pub preconditions: DeletePreconditions,
    pub dry_run: Vec<String>,
    /// `propagationPolicy`, or the deprecated `orphanDependents`.
    pub propagation: Option<crate::registry::Propagation>,
}

impl DeleteBody {
    /// Reads `preconditions` and `dryRun` of a `DeleteOptions` object.
    pub fn from_value(value: &Value) -> Result<DeleteBody, ApiError> {
        if !value.is_object() && !value.is_null() {
            return Err(ApiError::bad_request(
                "json: cannot unmarshal non-object into Go value of type v1.DeleteOptions",
            ));
        }
        let text = |pointer: &str| value.at(pointer).and_then(Value::as_str).map(str::to_owned);
        let dry_run = match value.get("dryRun") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        Ok(DeleteBody {
            preconditions: DeletePreconditions {
                uid: text("/preconditions/uid"),
                resource_version: text("/preconditions/resourceVersion"),
            },
            dry_run,
            propagation: crate::registry::Propagation::named(
                text("/propagationPolicy").as_deref(),
                value.get("orphanDependents").and_then(Value::as_bool),
            ),
        })
    }
}
