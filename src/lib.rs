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
pub mod front;
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

/// The whole HTTP application, as `serve` runs it in local mode with the default limits.
pub fn app(state: AppState) -> front::Front {
    front::Front::new(
        routes(state),
        inflight::Inflight::new(inflight::DEFAULT_READS, inflight::DEFAULT_WRITES),
        std::time::Duration::from_secs(inflight::DEFAULT_DEADLINE_SECS),
        front::Exposure::Local,
    )
}

/// Every route; the server serves them behind [`front::Front`].
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
