//! Resource handlers: one per HTTP method on `/api/...` and `/apis/...` paths. Each reads
//! the target, the query and the body, calls the registry once and shapes the answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::body::RawBody;
use super::discovery;
use super::error::{ApiError, PATCH_MEDIA_TYPES};
use super::list;
use super::params::{self, Params};
use super::patch::{Patch, PatchType};
use super::response::{Negotiated, list_body, respond};
use super::target::{Subresource, Target};
use super::{scale, watch};
use crate::AppState;
use crate::registry::{Applied, WriteOptions};

/// GET: watch or list a collection, read an object or its status.
pub async fn get(
    State(app): State<AppState>,
    target: Target,
    params: Params,
    negotiated: Negotiated,
) -> Result<Response, ApiError> {
    let kind = target.kind;
    let Some(name) = target.name.as_deref() else {
        let watch = params.watch()?;
        params.validate_list_options(watch)?;
        if watch {
            return watch::watch(&app.registry, &target, &params, negotiated).await;
        }
        consistent_read(&app, &params).await?;
        let listed = list::list(&app.registry, &target, &params).await?;
        return negotiated.list(kind, listed);
    };
    target.reject_create_only()?;
    if target.subresource == Some(Subresource::Scale) {
        return scale::get(&app.registry, kind, target.namespace_or_empty(), name).await;
    }
    consistent_read(&app, &params).await?;
    let object = app
        .registry
        .get_read(kind, target.namespace_or_empty(), name)?;
    negotiated.read(kind, object)
}

/// A read without `resourceVersion` (and not from a continue token) is a consistent read, as
/// kube-apiserver serves it: it shows every write committed before it, on any replica.
async fn consistent_read(app: &AppState, params: &Params) -> Result<(), ApiError> {
    let unversioned = params.get("resourceVersion").is_none_or(str::is_empty);
    let continued = params.get("continue").is_some_and(|t| !t.is_empty());
    if unversioned && !continued {
        app.registry.sync().await?;
    }
    Ok(())
}

/// POST to a collection: create.
pub async fn create(
    State(app): State<AppState>,
    target: Target,
    params: Params,
    negotiated: Negotiated,
    body: RawBody,
) -> Result<Response, ApiError> {
    let kind = target.kind;
    if target.subresource == Some(Subresource::Token) {
        return super::token_request::create(&app, &target, &body).await;
    }
    // Objects are created in their namespace's collection only.
    if target.name.is_some() || (kind.namespaced && target.namespace.is_none()) {
        return Err(ApiError::method_not_allowed());
    }
    let opts = params.write_options("CreateOptions")?;
    let object = body.object(kind)?;
    let applied = app
        .registry
        .create(kind, target.namespace_or_empty(), &object, &opts)
        .await?;
    Ok(negotiated.object(kind, StatusCode::CREATED, applied.object, &applied.warnings))
}

/// PUT an object or its status: replace.
pub async fn replace(
    State(app): State<AppState>,
    target: Target,
    params: Params,
    negotiated: Negotiated,
    body: RawBody,
) -> Result<Response, ApiError> {
    let (kind, namespace) = (target.kind, target.namespace_or_empty());
    let Some(name) = target.name.as_deref() else {
        return Err(ApiError::method_not_allowed());
    };
    target.reject_create_only()?;
    let opts = params.write_options("UpdateOptions")?;
    let registry = &app.registry;
    let (applied, created) = match target.subresource {
        Some(Subresource::Scale) => {
            return scale::write(registry, &target, &body, None, &opts).await;
        }
        None => (registry.replace(kind, namespace, name, &body.object(kind)?, &opts)).await?,
        Some(Subresource::Status | Subresource::Token) => {
            let object = body.object(kind)?;
            let applied = registry.update_status(kind, namespace, name, &object, &opts);
            (applied.await?, false)
        }
    };
    Ok(negotiated.object(
        kind,
        created_or_ok(created),
        applied.object,
        &applied.warnings,
    ))
}

/// PATCH an object or its status with a JSON, merge, strategic or apply patch.
pub async fn patch(
    State(app): State<AppState>,
    target: Target,
    params: Params,
    negotiated: Negotiated,
    body: RawBody,
) -> Result<Response, ApiError> {
    let kind = target.kind;
    let Some(name) = target.name.as_deref() else {
        return Err(ApiError::method_not_allowed());
    };
    target.reject_create_only()?;
    let opts = params.write_options("PatchOptions")?;
    let patch_type = PatchType::from_media_type(&body.media_type)?;
    if patch_type == PatchType::Apply {
        return apply(&app, &target, &params, negotiated, &body, &opts).await;
    }
    let patch = Patch::new(kind, patch_type, &body)?;
    let status = match target.subresource {
        Some(Subresource::Scale) => {
            return scale::write(&app.registry, &target, &body, Some(patch_type), &opts).await;
        }
        subresource => subresource == Some(Subresource::Status),
    };
    let applied = patch_object(&app, &target, name, status, &opts, &patch).await?;
    Ok(negotiated.object(kind, StatusCode::OK, applied.object, &applied.warnings))
}

/// Applies `patch` to the object or, with `status`, to its status.
async fn patch_object(
    app: &AppState,
    target: &Target,
    name: &str,
    status: bool,
    opts: &WriteOptions,
    patch: &Patch,
) -> Result<Applied, ApiError> {
    let (kind, namespace) = (target.kind, target.namespace_or_empty());
    let change = |current: &Value| patch.apply(current);
    let applied = if status {
        app.registry
            .patch_status(kind, namespace, name, opts, change)
            .await
    } else {
        app.registry
            .patch(kind, namespace, name, opts, change)
            .await
    };
    applied.map_err(|e| patch.error(e))
}

/// A server-side apply: 201 when it created the object, 200 otherwise.
async fn apply(
    app: &AppState,
    target: &Target,
    params: &Params,
    negotiated: Negotiated,
    body: &RawBody,
    opts: &WriteOptions,
) -> Result<Response, ApiError> {
    let (kind, name) = (target.kind, target.name_or_empty());
    let status = match target.subresource {
        None => false,
        Some(Subresource::Status) => true,
        // Applying to the Scale is not served: answer as a server without apply there does.
        Some(_) => return Err(ApiError::unsupported_media_type(&PATCH_MEDIA_TYPES[..3])),
    };
    let configuration = body.apply_configuration()?;
    let manager = opts.field_manager.clone().unwrap_or_default();
    let (applied, created) = app
        .registry
        .apply(
            kind,
            target.namespace_or_empty(),
            name,
            &configuration,
            &manager,
            params.force()?,
            status,
            opts,
        )
        .await?;
    Ok(negotiated.object(
        kind,
        created_or_ok(created),
        applied.object,
        &applied.warnings,
    ))
}

/// 201 for a write that created its object, 200 otherwise.
fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// DELETE an object (answering with its last state) or, on a collection, every object the
/// selectors pick.
pub async fn delete(
    State(app): State<AppState>,
    target: Target,
    params: Params,
    negotiated: Negotiated,
    body: RawBody,
) -> Result<Response, ApiError> {
    let kind = target.kind;
    let options = body.delete_options()?;
    let mut opts = params.write_options("DeleteOptions")?;
    opts.dry_run |= params::dry_run(&options.dry_run, "DeleteOptions")?;
    if let Some(propagation) = options.propagation {
        opts.propagation = propagation;
    }
    match (target.name.as_deref(), target.subresource) {
        (Some(name), None) => {
            let namespace = target.namespace_or_empty();
            let deleted = app
                .registry
                .delete(kind, namespace, name, &options.preconditions, &opts);
            Ok(negotiated.object(kind, StatusCode::OK, deleted.await?, &[]))
        }
        (None, None)
            if kind.namespaced == target.namespace.is_some()
                && discovery::verbs(kind).contains(&"deletecollection") =>
        {
            delete_collection(&app, &target, &params, &opts).await
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// DELETE on a collection: every object the selectors pick, answered as a list.
async fn delete_collection(
    app: &AppState,
    target: &Target,
    params: &Params,
    opts: &WriteOptions,
) -> Result<Response, ApiError> {
    let kind = target.kind;
    let selectors = params.selectors(kind)?;
    let deleted = app
        .registry
        .delete_collection(kind, target.namespace.as_deref(), &selectors, opts)
        .await?;
    let revision = app.registry.current_revision().to_string();
    let body = list_body(kind, deleted, revision, None, None);
    Ok(respond(StatusCode::OK, "application/json", &body, &[]))
}
