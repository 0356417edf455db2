//! The `deployments/{name}/scale` subresource: an autoscaling/v1 Scale view of a
//! Deployment, as `kubectl scale` reads and patches it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use service_plan::json::Pointer as _;

use super::body::RawBody;
use super::error::ApiError;
use super::patch::{Patch, PatchType};
use super::target::Target;
use crate::registry::{Kind, Registry, RegistryError, WriteOptions};

/// The Scale of a Deployment object.
fn scale_of(deployment: &Value) -> Value {
    let meta = &deployment["metadata"];
    let selector = deployment
        .at("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": deployment.at("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": deployment.at("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}

/// The Deployment with the replicas a new Scale asks for.
fn with_replicas(deployment: &Value, scale: &Value) -> Result<Value, RegistryError> {
    let replicas = match scale.at("/spec/replicas") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_i64().filter(|r| i32::try_from(*r).is_ok()).ok_or_else(|| {
            RegistryError::BadRequest(format!(
                "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal {v} into Go struct field ScaleSpec.spec.replicas of type int32"
            ))
        })?,
    };
    let mut next = deployment.clone();
    next["spec"]["replicas"] = json!(replicas);
    Ok(next)
}

/// GET the Scale.
pub async fn get(
    registry: &Registry,
    kind: &'static Kind,
    namespace: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let deployment = registry.get(kind, namespace, name).await?;
    Ok((StatusCode::OK, Json(scale_of(&deployment))).into_response())
}

/// PUT or PATCH the Scale: the new replicas go to the Deployment through the registry.
pub async fn write(
    registry: &Registry,
    target: &Target,
    body: &RawBody,
    patch_type: Option<PatchType>,
    opts: &WriteOptions,
) -> Result<Response, ApiError> {
    let (kind, namespace, name) = (
        target.kind,
        target.namespace_or_empty(),
        target.name_or_empty(),
    );
    let patch = match patch_type {
        Some(PatchType::Apply) => {
            return Err(ApiError::unsupported_media_type(
                super::error::PATCH_MEDIA_TYPES,
            ));
        }
        Some(t) => Some(Patch::new(kind, t, body)?),
        None => None,
    };
    let replaced = match patch {
        None => Some(body.object(kind)?),
        Some(_) => None,
    };
    let applied = registry
        .patch(kind, namespace, name, opts, |current| {
            let new_scale = match (&patch, &replaced) {
                (Some(p), _) => p.apply(&scale_of(current))?,
                (None, Some(scale)) => scale.clone(),
                (None, None) => scale_of(current),
            };
            with_replicas(current, &new_scale)
        })
        .await
        .map_err(|e| match &patch {
            Some(p) => p.error(e),
            None => e.into(),
        })?;
    Ok((StatusCode::OK, Json(scale_of(&applied.object))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_reads_replicas_and_selector() {
        let d = json!({"metadata":{"name":"nginx","namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"nginx"}}},"status":{"replicas":2}});
        let s = scale_of(&d);
        assert_eq!(s["spec"]["replicas"], 2);
        assert_eq!(s["status"]["selector"], "app=nginx");
        let next = with_replicas(&d, &json!({"spec":{"replicas":5}})).unwrap();
        assert_eq!(next["spec"]["replicas"], 5);
    }
}
