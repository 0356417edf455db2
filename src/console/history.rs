//! The History tab of a Service (who changed it, when, through what, and what changed, with
//! any two revisions compared) and the Recently deleted Services of a namespace. Both read
//! the registry's history; the readable diffs come from `service_plan::history`.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use service_plan::diff::ChangeClass;
use service_plan::history;
use service_plan::json::Pointer as _;

use super::views::{
    CompareView, Crumb, DeletedServiceView, DeletedServicesPage, HistoryEntryView,
    ServiceHistoryPage, ServiceRestorePage, details_url, list_url, services_crumb,
};
use super::{ConsoleError, Ctx, pages::layout, redirect_with_flash};
use crate::AppState;
use crate::registry::{RegistryError, WriteOptions};

/// Query of the History tab: two revisions to compare.
#[derive(Debug, Default, Deserialize)]
pub struct CompareQuery {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// `GET /services/{namespace}/{name}/history`.
pub async fn show(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name)): Path<(String, String)>,
    Query(query): Query<CompareQuery>,
) -> Result<ServiceHistoryPage, ConsoleError> {
    // Whoever may get a Service may read its history.
    ctx.access.check_services("get", &namespace, &name)?;
    let revisions = app.registry.service_history(&namespace, &name).await?;
    let exists = match app.registry.get_service(&namespace, &name).await {
        Ok(_) => true,
        Err(RegistryError::NotFound { .. }) => false,
        Err(e) => return Err(e.into()),
    };
    let details = details_url(&namespace, &name);
    let crumbs = vec![
        services_crumb(&namespace),
        Crumb::link(&name, details.clone()),
        Crumb::here("History"),
    ];
    let layout = layout(
        &app.registry,
        &ctx,
        &format!("History of {name}"),
        &namespace,
        crumbs,
    )
    .await?;
    let entries = history::entries(&revisions);
    let compare = match (query.from, query.to) {
        (Some(from), Some(to)) => Some(compare(&revisions, from, to, &name)?),
        _ => None,
    };
    Ok(ServiceHistoryPage {
        layout,
        history_url: format!("{details}/history"),
        details_url: details,
        exists,
        entries: entries
            .iter()
            .map(|e| HistoryEntryView::new(&namespace, &name, e))
            .collect(),
        compare_from: compare.as_ref().map_or_else(
            || {
                revisions
                    .get(1)
                    .or(revisions.first())
                    .map_or(0, |r| r.revision)
            },
            |c| c.from,
        ),
        compare_to: compare
            .as_ref()
            .map_or_else(|| revisions.first().map_or(0, |r| r.revision), |c| c.to),
        revisions: revisions.iter().map(|r| r.revision).collect(),
        compare,
        name,
        namespace,
    })
}

/// The changes from revision `from` to revision `to`.
fn compare(
    revisions: &[history::Revision],
    from: i64,
    to: i64,
    name: &str,
) -> Result<CompareView, ConsoleError> {
    let find = |revision: i64| {
        revisions
            .iter()
            .find(|r| r.revision == revision)
            .ok_or_else(|| {
                ConsoleError::from(RegistryError::NotFound {
                    resource: crate::registry::SERVICES,
                    name: format!("{name} (revision {revision})"),
                })
            })
    };
    let entry = history::entry(find(to)?, Some(find(from)?));
    let (spec, other): (Vec<_>, Vec<_>) = entry
        .changes
        .iter()
        .partition(|c| c.class == ChangeClass::Spec);
    Ok(CompareView {
        from,
        to,
        changes: spec.iter().map(|c| c.text.clone()).collect(),
        folded_changes: other.iter().map(|c| c.text.clone()).collect(),
    })
}

/// Query of Recently deleted.
#[derive(Debug, Default, Deserialize)]
pub struct DeletedQuery {
    pub namespace: Option<String>,
}

/// `GET /services/deleted?namespace=NS`.
pub async fn deleted(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(query): Query<DeletedQuery>,
) -> Result<DeletedServicesPage, ConsoleError> {
    let namespace = query
        .namespace
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| super::services::DEFAULT_NAMESPACE.to_string());
    ctx.access.check_services("list", &namespace, "")?;
    let revisions = app.registry.deleted_services(&namespace).await?;
    let crumbs = vec![services_crumb(&namespace), Crumb::here("Recently deleted")];
    let layout = layout(&app.registry, &ctx, "Recently deleted", &namespace, crumbs).await?;
    let items = revisions
        .iter()
        .map(|r| {
            let entry = history::entry(r, None);
            let name = crate::registry::str_at(&r.object, "/metadata/name").to_string();
            let history_url = format!("{}/history", details_url(&namespace, &name));
            DeletedServiceView {
                restore_url: format!("{history_url}/{}/restore", r.revision),
                history_url,
                name,
                time: entry.time,
                user: entry.user,
                through: entry.through,
            }
        })
        .collect();
    Ok(DeletedServicesPage {
        layout,
        list_url: list_url(&namespace),
        namespace,
        items,
    })
}

/// The form of Restore: the version its plan was made for (`""` for a re-create).
#[derive(Debug, Default, Deserialize)]
pub struct RestoreForm {
    #[serde(rename = "resourceVersion", default)]
    pub resource_version: String,
}

/// `GET /services/{namespace}/{name}/history/{revision}/restore`: the plan, nothing written.
pub async fn confirm_restore(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name, revision)): Path<(String, String, i64)>,
) -> Result<ServiceRestorePage, ConsoleError> {
    ctx.access.check_services("get", &namespace, &name)?;
    restore_page(&app, &ctx, &namespace, &name, revision, None).await
}

/// `POST /services/{namespace}/{name}/history/{revision}/restore`: restores at the version
/// the plan was made for; a change since then shows the new plan with the conflict.
pub async fn restore(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name, revision)): Path<(String, String, i64)>,
    Form(form): Form<RestoreForm>,
) -> Result<Response, ConsoleError> {
    let rv = Some(form.resource_version.as_str()).filter(|rv| !rv.is_empty());
    // Restoring a deleted Service re-creates it; any other restore updates it.
    let verb = match app.registry.get_service(&namespace, &name).await {
        Ok(_) => "update",
        Err(RegistryError::NotFound { .. }) => "create",
        Err(e) => return Err(e.into()),
    };
    let target = if verb == "update" { name.as_str() } else { "" };
    ctx.access.check_services(verb, &namespace, target)?;
    let opts = ctx.access.write_options();
    match app
        .registry
        .restore_service(&namespace, &name, revision, rv, &opts)
        .await
    {
        Ok(_) => Ok(redirect_with_flash(
            &format!("{}/history", details_url(&namespace, &name)),
            "success",
            &format!("Service \"{name}\" restored to revision {revision}."),
        )),
        Err(e @ (RegistryError::Conflict { .. } | RegistryError::AlreadyExists { .. })) => {
            let conflict = format!(
                "The Service changed after this plan was shown, so nothing was restored: {}. Review the new plan and restore again.",
                e.status().message
            );
            let page = restore_page(&app, &ctx, &namespace, &name, revision, Some(conflict));
            Ok((StatusCode::CONFLICT, page.await?).into_response())
        }
        Err(e) if is_refusal(&e) => {
            let page = restore_page(&app, &ctx, &namespace, &name, revision, None);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page.await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether a failed restore is the revision's own fault (it no longer validates or fits).
fn is_refusal(e: &RegistryError) -> bool {
    matches!(
        e,
        RegistryError::Invalid { .. } | RegistryError::BadRequest(_)
    )
}

/// The restore page: a dry run of the restore at the current version.
async fn restore_page(
    app: &AppState,
    ctx: &Ctx,
    namespace: &str,
    name: &str,
    revision: i64,
    conflict: Option<String>,
) -> Result<ServiceRestorePage, ConsoleError> {
    let current = match app.registry.get_service(namespace, name).await {
        Ok(current) => Some(current),
        Err(RegistryError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let rv = current
        .as_ref()
        .map(|c| crate::registry::str_at(c, "/metadata/resourceVersion").to_string());
    let opts = WriteOptions {
        dry_run: true,
        ..ctx.access.write_options()
    };
    let planned = app
        .registry
        .restore_service(namespace, name, revision, rv.as_deref(), &opts)
        .await;
    let details = details_url(namespace, name);
    let crumbs = vec![
        services_crumb(namespace),
        Crumb::link(name, details.clone()),
        Crumb::link("History", format!("{details}/history")),
        Crumb::here(&format!("Restore revision {revision}")),
    ];
    let title = format!("Restore {name}");
    let layout = layout(&app.registry, ctx, &title, namespace, crumbs).await?;
    let mut page = ServiceRestorePage {
        layout,
        name: name.to_string(),
        namespace: namespace.to_string(),
        revision,
        summary: String::new(),
        recreate: current.is_none(),
        changes: Vec::new(),
        allocations: Vec::new(),
        refusal: None,
        conflict,
        resource_version: rv.unwrap_or_default(),
        action: format!("{details}/history/{revision}/restore"),
        history_url: format!("{details}/history"),
    };
    match planned {
        Ok(restored) => {
            let entry = history::entry(&restored.revision, None);
            page.summary = format!("{} by {} via {}", entry.time, entry.user, entry.through);
            let after = &restored.applied.object;
            page.allocations = allocations_of(after);
            if let Some(before) = &restored.before {
                page.changes = service_plan::diff::diff(before, after)
                    .into_iter()
                    .filter(|c| c.class == ChangeClass::Spec)
                    .map(|c| c.text)
                    .collect();
            }
        }
        Err(e) if is_refusal(&e) => {
            page.refusal = Some(format!(
                "Revision {revision} cannot be restored: {}",
                e.status().kubectl_text()
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(page)
}

/// The Cluster IP and node ports a Service holds, one line each.
fn allocations_of(svc: &serde_json::Value) -> Vec<String> {
    let mut lines = Vec::new();
    let ip = crate::registry::str_at(svc, "/spec/clusterIP");
    if !ip.is_empty() {
        lines.push(format!("Cluster IP {ip}"));
    }
    for port in svc
        .at("/spec/ports")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(node_port) = port.get("nodePort").and_then(serde_json::Value::as_i64) {
            let label = port
                .get("name")
                .and_then(serde_json::Value::as_str)
                .filter(|n| !n.is_empty())
                .map_or_else(|| port["port"].to_string(), str::to_string);
            lines.push(format!("Node port {node_port} for port {label}"));
        }
    }
    lines
}
