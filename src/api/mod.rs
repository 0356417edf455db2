//! The Kubernetes REST API: `/version`, discovery, OpenAPI v2 and v3, and every resource in the
//! registry's `KINDS` under `/api` and `/apis`. Handlers are thin adapters over the
//! registry; status codes are decided in [`error`] only.

pub mod audit;
pub mod body;
pub mod discovery;
pub mod error;
pub mod handlers;
pub mod history;
pub mod legacy_watch;
pub mod list;
pub mod negotiate;
pub mod openapi;
pub mod params;
pub mod patch;
pub mod plan;
pub mod protobuf;
pub mod response;
pub mod reviews;
pub mod scale;
pub mod target;
pub mod token_request;
pub mod version;
pub mod watch;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get};

use crate::AppState;

/// The methods served on resource paths; any other is a 405 Status.
fn resource_methods() -> MethodRouter<AppState> {
    get(handlers::get)
        .post(handlers::create)
        .put(handlers::replace)
        .patch(handlers::patch)
        .delete(handlers::delete)
        .fallback(error::method_not_allowed)
}

/// A GET-only route whose other methods are a 405 Status.
fn read_only<H, T>(handler: H) -> MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    get(handler).fallback(error::method_not_allowed)
}

/// A POST-only route (the review APIs) whose other methods are a 405 Status.
fn create_only<H, T>(handler: H) -> MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    axum::routing::post(handler).fallback(error::method_not_allowed)
}

/// Every API route. Unknown paths fall through to the application's fallback, which is
/// [`error::not_found`].
pub fn routes(state: &AppState) -> Router<AppState> {
    // kube-apiserver answers discovery with and without a trailing slash; the generated
    // clients (Python's among them) ask for `/version/`, `/api/`, `/api/v1/`, ….
    let routes = Router::new()
        .route("/version", read_only(version::version))
        .route("/version/", read_only(version::version))
        .route("/api", read_only(discovery::core_group))
        .route("/api/", read_only(discovery::core_group))
        .route("/apis", read_only(discovery::named_groups))
        .route("/apis/", read_only(discovery::named_groups))
        .route("/apis/{group}", read_only(discovery::named_group))
        .route("/apis/{group}/", read_only(discovery::named_group))
        .route("/api/v1", read_only(discovery::core_resources))
        .route("/api/v1/", read_only(discovery::core_resources))
        .route(
            "/apis/{group}/{version}",
            read_only(discovery::group_resources),
        )
        .route(
            "/apis/{group}/{version}/",
            read_only(discovery::group_resources),
        )
        .route(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            create_only(reviews::self_subject_review),
        )
        .route(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            create_only(reviews::self_subject_access_review),
        )
        .route(
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            create_only(reviews::self_subject_rules_review),
        )
        .route("/api/{*rest}", resource_methods())
        .route("/apis/{group}/{version}/{*rest}", resource_methods())
        .route("/openapi/v3", read_only(openapi::index))
        .route("/openapi/v3/{*path}", read_only(openapi::document_handler))
        .route("/openapi/v2", read_only(openapi::v2::handler))
        .route(
            "/history/v1/namespaces/{namespace}/services/{name}",
            read_only(history::show),
        )
        .route(
            "/history/v1/namespaces/{namespace}/deleted-services",
            read_only(history::deleted),
        )
        .route(
            "/plan/v1/namespaces/{namespace}/services",
            axum::routing::post(plan::plan),
        );
    routes.layer(middleware::from_fn_with_state(state.clone(), guard))
}

/// The API's middleware, in kube-apiserver's order: authentication, audit, priority and
/// fairness (between authentication and authorization, as upstream's filter: refused requests
/// carry its headers, unauthenticated ones do not), then authorization. One layer rather than
/// four, because each `from_fn` layer clones and boxes the rest of the stack on every request.
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    use crate::auth::{authorize::authorized, with_api_user};
    use crate::flowcontrol::classified;
    let state = &state;
    with_api_user(state, request, |request| {
        audit::audited(state, request, |request| {
            classified(state, request, |request| {
                authorized(state, request, |request| next.run(request))
            })
        })
    })
    .await
}
