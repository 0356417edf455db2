//! service-console: a web console for Kubernetes Services with a Kubernetes-compatible API.
//!
//! Requests enter through [`health`] (and, later, the API and the console), call the
//! [`registry`] once, and the registry plans with `service-plan` and commits to the [`store`].

pub mod api;
pub mod cli;
pub mod config;
pub mod connections;
pub mod console;
pub mod controllers;
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
    let routes = Router::new()
        .merge(health::routes())
        .merge(api::routes())
        .merge(console::routes())
        .fallback(api::error::not_found)
        .with_state(state);
    // The deprecated `/api/v1/watch/...` paths are rewritten before the routes see them.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::map_request(api::legacy_watch::rewrite))
}
