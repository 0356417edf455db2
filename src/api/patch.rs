//! PATCH bodies: the patch type from the Content-Type, and the function the registry calls
//! with the latest object to get the patched body. The patch libraries' errors are kept
//! aside, because the registry's error type has no room for their 422 and 500 shapes.

use std::sync::Mutex;

use serde_json::Value;
use service_plan::codec;
use service_plan::patch::{PatchError, PatchSchema, json_patch, merge_patch, strategic};

use super::body::RawBody;
use super::error::{ApiError, PATCH_MEDIA_TYPES};
use crate::registry::{Kind, RegistryError};

/// The four patch types kube-apiserver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// The patch type of a body's media type; anything else is a 415.
    pub fn from_media_type(media_type: &str) -> Result<PatchType, ApiError> {
        match media_type {
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
            "application/apply-patch+yaml" => Ok(PatchType::Apply),
            _ => Err(ApiError::unsupported_media_type(PATCH_MEDIA_TYPES)),
        }
    }
}

/// A JSON, merge or strategic patch ready to apply to whatever the registry reads.
pub struct Patch {
    patch_type: PatchType,
    body: bytes::Bytes,
    /// The strategic patch, parsed once.
    strategic: Value,
    schema: PatchSchema,
    /// The last patch library error, reported instead of the registry's stand-in.
    failure: Mutex<Option<PatchError>>,
}

impl Patch {
    /// Prepares a patch of `kind`; a strategic patch that is not JSON is a 400 up front.
    pub fn new(kind: &Kind, patch_type: PatchType, body: &RawBody) -> Result<Patch, ApiError> {
        let strategic = match patch_type {
            PatchType::Strategic => {
                codec::parse_json(&body.bytes).map_err(ApiError::bad_request)?
            }
            _ => Value::Null,
        };
        Ok(Patch {
            patch_type,
            body: body.bytes.clone(),
            strategic,
            schema: PatchSchema::for_kind(kind.resource.kind),
            failure: Mutex::new(None),
        })
    }

    /// Applies the patch to `current`, as the registry's patch callback.
    pub fn apply(&self, current: &Value) -> Result<Value, RegistryError> {
        let patched = match self.patch_type {
            PatchType::Json => json_patch::apply(current, &self.body),
            PatchType::Merge => merge_patch::apply_bytes(current, &self.body),
            PatchType::Strategic => strategic::apply(current, &self.strategic, &self.schema),
            PatchType::Apply => Err(PatchError::Internal(
                "apply patches are not applied here".into(),
            )),
        };
        patched.map_err(|e| {
            let stand_in = RegistryError::BadRequest(e.message().to_owned());
            if let Ok(mut slot) = self.failure.lock() {
                *slot = Some(e);
            }
            stand_in
        })
    }

    /// The error to answer with: the patch library's own, if it was the one that failed.
    pub fn error(&self, e: RegistryError) -> ApiError {
        match self.failure.lock().ok().and_then(|mut slot| slot.take()) {
            Some(patch_error) => patch_error.into(),
            None => e.into(),
        }
    }
}
