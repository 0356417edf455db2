//! The read-only history endpoint the console's History tab and `service-console history`
//! read: `GET /history/v1/namespaces/{namespace}/services/{name}` (every kept revision with
//! its changes), `...?diff=REV[&against=OLDER]` (one diff) and
//! `GET /history/v1/namespaces/{namespace}/deleted-services`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};
use service_plan::history::{self, Revision};
use service_plan::status::Status;

use super::error::ApiError;
use crate::AppState;

/// The apiVersion of the history documents.
pub const HISTORY_API_VERSION: &str = "history.service-console.io/v1";
/// Where the history endpoint is served.
pub const HISTORY_PREFIX: &str = "/history/v1";

/// `GET /history/v1/namespaces/{namespace}/services/{name}`.
pub async fn show(
    State(app): State<AppState>,
    Path((namespace, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let revisions = app.registry.service_history(&namespace, &name).await?;
    let (diff, against) = (
        query_revision(&query, "diff")?,
        query_revision(&query, "against")?,
    );
    let Some(to) = diff else {
        let items: Vec<Value> = history::entries(&revisions)
            .into_iter()
            .zip(&revisions)
            .map(|(entry, revision)| with_object(entry, revision))
            .collect();
        return Ok(Json(json!({
            "apiVersion": HISTORY_API_VERSION, "kind": "ServiceHistory",
            "metadata": {"namespace": namespace, "name": name},
            "items": items,
        })));
    };
    let at = |revision: i64| {
        revisions
            .iter()
            .position(|r| r.revision == revision)
            .ok_or_else(|| revision_not_found(revision, &name))
    };
    let i = at(to)?;
    let from = match against {
        Some(from) => Some(&revisions[at(from)?]),
        None => revisions.get(i + 1).filter(|p| p.uid == revisions[i].uid),
    };
    let entry = history::entry(&revisions[i], from);
    Ok(Json(json!({
        "apiVersion": HISTORY_API_VERSION, "kind": "ServiceDiff",
        "metadata": {"namespace": namespace, "name": name},
        "from": entry.previous, "to": entry.revision, "changes": entry.changes,
    })))
}

/// `GET /history/v1/namespaces/{namespace}/deleted-services`.
pub async fn deleted(
    State(app): State<AppState>,
    Path(namespace): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let revisions = app.registry.deleted_services(&namespace).await?;
    let items: Vec<Value> = revisions
        .iter()
        .map(|r| with_object(history::entry(r, None), r))
        .collect();
    Ok(Json(json!({
        "apiVersion": HISTORY_API_VERSION, "kind": "DeletedServiceList",
        "metadata": {"namespace": namespace},
        "items": items,
    })))
}

fn with_object(entry: history::Entry, revision: &Revision) -> Value {
    let mut value = serde_json::to_value(entry).unwrap_or(Value::Null);
    if let Some(fields) = value.as_object_mut() {
        fields.insert("object".into(), revision.object.clone());
    }
    value
}

/// A revision number from the query, 400 when it is not one.
fn query_revision(query: &Option<String>, key: &str) -> Result<Option<i64>, ApiError> {
    let Some(value) = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
    else {
        return Ok(None);
    };
    value
        .parse()
        .map(Some)
        .map_err(|_| ApiError::bad_request(format!("{key}: invalid revision {value:?}")))
}

fn revision_not_found(revision: i64, name: &str) -> ApiError {
    ApiError::new(Status::failure(
        404,
        "NotFound",
        format!("revision {revision} of services \"{name}\" not found"),
        None,
    ))
}
