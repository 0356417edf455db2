//! `POST /plan/v1/namespaces/{namespace}/services`: the plan of a Service manifest (JSON or
//! YAML body) as `ServicePlan` JSON, for `service-console plan`. It stores nothing, so it is
//! not a console form and carries no CSRF token; errors are `metav1.Status` like the API's.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use service_plan::slb::SlbChange;

use super::body::RawBody;
use super::error::ApiError;
use crate::AppState;
use crate::registry::{ServicePlan, kind_by_plural};

/// Query of the plan endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct PlanQuery {
    /// `delete` plans deleting the stored Service the manifest names; else create or update.
    #[serde(default)]
    pub change: String,
}

/// `POST /plan/v1/namespaces/{namespace}/services`.
pub async fn plan(
    State(app): State<AppState>,
    Path(namespace): Path<String>,
    Query(query): Query<PlanQuery>,
    body: RawBody,
) -> Result<Json<ServicePlan>, ApiError> {
    let kind = kind_by_plural("services")
        .ok_or_else(|| ApiError::bad_request("services are not served"))?;
    let object = body.object(kind)?;
    let change = match query.change.as_str() {
        "delete" => SlbChange::Delete,
        _ => SlbChange::Apply,
    };
    let plan = app
        .registry
        .plan_service(&namespace, &object, change)
        .await?;
    Ok(Json(plan))
}
