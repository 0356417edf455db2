//! service-console: a web console for Kubernetes Services with a Kubernetes-compatible API.
//!
//! Requests enter through [`health`] (and, later, the API and the console), call the
//! [`registry`] once, and the registry plans with `service-plan` and commits to the [`store`].

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod connections;
pub mod console;
pub mod controllers;
pub mod flowcontrol;
pub mod health;
pub mod inflight;
pub mod manifest;
pub mod plan_view;
pub mod registry;
pub mod server;
pub mod state;
pub mod status_response;
pub mod store;

use axum::Router;

pub use state::AppState;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    with_legacy_watch_paths(routes(state))
}

/// Every route, without the rewriting of deprecated paths.
pub fn routes(state: AppState) -> Router {
    Router::new()
        // Probes are classified too (the `probes` FlowSchema), though not authenticated: a
        // GET of them matches `probes` whoever asks.
        .merge(health::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            flowcontrol::classify,
        )))
        .merge(api::routes(&state))
        .merge(console::routes(&state))
        .fallback(api::error::not_found)
        // Every response, API and probes included, is read as the type it says it is.
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                axum::http::HeaderValue::from_static("nosniff"),
            ),
        )
        .with_state(state)
}

/// `service` behind the rewriting of the deprecated `/api/v1/watch/...` paths, so that it
/// (its middleware included) sees them as the watches they are.
pub fn with_legacy_watch_paths(service: Router) -> Router {
    Router::new()
        .fallback_service(service)
        .layer(axum::middleware::map_request(api::legacy_watch::rewrite))
}
