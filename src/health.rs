//! Health endpoints (`/` belongs to the console, which redirects it to the Services list).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::AppState;

/// `/healthz`, `/livez` and `/readyz`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ready))
        .route("/livez", get(live))
        .route("/readyz", get(ready))
}

async fn live() -> &'static str {
    "ok"
}

/// Ready once the store answers (it was opened and migrated before the server started) and
/// while writes commit: a full disk makes the server unready until space is free again, and so
/// does a PostgreSQL database this replica cannot reach (within a second, and ready again as
/// soon as it answers).
async fn ready(State(app): State<AppState>) -> (StatusCode, &'static str) {
    if !app.registry.store().is_reachable() {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable");
    }
    if !app.registry.store().is_writable() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "store cannot commit writes",
        );
    }
    match app.registry.store().count("namespaces", None).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}
