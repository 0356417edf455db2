//! The History tab of a Service (who changed it, when, through what, and what changed, with
//! any two revisions compared) and the Recently deleted Services of a namespace. Both read
//! the registry's history; the readable diffs come from `service_plan::history`.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use service_plan::diff::ChangeClass;
use service_plan::history;

use super::views::{
    CompareView, Crumb, DeletedServiceView, DeletedServicesPage, HistoryEntryView,
    ServiceHistoryPage, details_url, list_url, services_crumb,
};
use super::{ConsoleError, Ctx, pages::layout};
use crate::AppState;
use crate::registry::RegistryError;

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
    let revisions = app.registry.deleted_services(&namespace).await?;
    let crumbs = vec![services_crumb(&namespace), Crumb::here("Recently deleted")];
    let layout = layout(&app.registry, &ctx, "Recently deleted", &namespace, crumbs).await?;
    let items = revisions
        .iter()
        .map(|r| {
            let entry = history::entry(r, None);
            let name = crate::registry::str_at(&r.object, "/metadata/name").to_string();
            DeletedServiceView {
                history_url: format!("{}/history", details_url(&namespace, &name)),
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
