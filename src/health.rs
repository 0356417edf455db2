//! Health endpoints and the plain home page.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;

use crate::AppState;

/// `/healthz`, `/livez`, `/readyz` and `/`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ready))
        .route("/livez", get(live))
        .route("/readyz", get(ready))
        .route("/", get(home))
}

async fn live() -> &'static str {
    "ok"
}

/// Ready once the store answers (it was opened and migrated before the server started).
async fn ready(State(app): State<AppState>) -> (StatusCode, &'static str) {
    match app.registry.store().count("namespaces", None).await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

async fn home() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>service-console</title></head>",
        "<body><h1>service-console</h1>",
        "<p>A web console for Kubernetes Services with a Kubernetes-compatible API. ",
        "Health: <a href=\"/healthz\">/healthz</a>.</p></body></html>"
    ))
}
