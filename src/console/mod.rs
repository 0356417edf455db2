//! The HTML console: routes, the per-request context (request id, CSRF token, flash),
//! security headers, error pages and the embedded static files. Handlers live in
//! [`services`], [`plan`], [`applications`], [`nodes`] and [`load_balancers`]; they call the
//! registry and never decide a Service rule themselves.

pub mod applications;
pub mod catalog;
pub mod forms;
pub mod history;
pub mod load_balancers;
pub mod nodes;
mod pages;
pub mod plan;
pub mod services;
pub mod signin;
pub mod views;
pub mod wording;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use service_plan::rbac::Attributes;
use service_plan::status::Status;
use service_plan::user::UserInfo;
use subtle::ConstantTimeEq;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use crate::auth::AuthMode;
use crate::registry::RegistryError;

/// Largest request body the console reads (a pasted manifest fits comfortably).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest Service form body the console still reads to say which field is too large: the
/// largest values are left out until the rest fits [`MAX_BODY_BYTES`], and the form comes
/// back with the error on them. Larger bodies only get the 413 page.
pub const MAX_OVERSIZED_FORM_BYTES: usize = 1024 * 1024;

/// The fields a Service form arrived without because the body was too large: each form
/// field name with the size of the value that was left out. Handlers that see it answer
/// 413 with the form, never write.
#[derive(Debug, Clone, Default)]
pub struct Oversized(pub Vec<(String, usize)>);

/// Whether `path` is a Service form that answers [`Oversized`] with the form (create,
/// update, and their plan previews).
fn oversized_form_path(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        parts.as_slice(),
        ["services"] | ["services", "plan"] | ["services", _, _] | ["services", _, _, "plan"]
    )
}

/// Leaves the largest values of `pairs` out (their names kept, values empty) until the
/// encoded form fits [`MAX_BODY_BYTES`]; returns the fields left out with their sizes.
fn leave_out_largest(pairs: &mut [(String, String)]) -> Vec<(String, usize)> {
    let encoded = |pairs: &[(String, String)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter())
            .finish()
            .len()
    };
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(pairs[i].1.len()));
    let mut left_out = Vec::new();
    for i in order {
        if encoded(pairs) <= MAX_BODY_BYTES {
            break;
        }
        let value = std::mem::take(&mut pairs[i].1);
        left_out.push((pairs[i].0.clone(), value.len()));
    }
    left_out
}
/// The double-submit CSRF cookie.
pub const CSRF_COOKIE: &str = "sc_csrf";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The one-shot flash message cookie.
pub const FLASH_COOKIE: &str = "sc_flash";
/// The namespace the user chose last, so the pages that name none open in it.
pub const NAMESPACE_COOKIE: &str = "sc_namespace";
/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The console's Content-Security-Policy: no inline scripts or styles, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const APP_CSS: &str = include_str!("../../static/css/app.css");
const APP_JS: &str = include_str!("../../static/js/app.js");
const FAVICON_SVG: &str = include_str!("../../static/favicon.svg");

/// Console routes, with their middleware; merged into [`crate::app`].
pub fn routes(state: &AppState) -> Router<AppState> {
    let headers = [
        (HeaderName::from_static("content-security-policy"), CSP),
        (HeaderName::from_static("x-content-type-options"), "nosniff"),
        (HeaderName::from_static("x-frame-options"), "DENY"),
        (HeaderName::from_static("referrer-policy"), "same-origin"),
    ];
    let mut router = Router::new()
        .route("/", get(|| async { Redirect::to("/services") }))
        .route("/services", get(services::index).post(services::create))
        .route("/services/new", get(services::new))
        .route(
            "/services/yaml",
            axum::routing::post(services::create_from_yaml),
        )
        .route("/services/preview", axum::routing::post(services::preview))
        .route("/services/plan", axum::routing::post(plan::preview_create))
        .route(
            "/services/{namespace}/{name}/plan",
            axum::routing::post(plan::preview_update),
        )
        .route("/applications", get(applications::index))
        .route("/applications/{namespace}/{name}", get(applications::show))
        .route("/nodes", get(nodes::index))
        .route(
            "/load-balancers",
            get(load_balancers::index).post(load_balancers::create),
        )
        .route(
            "/load-balancers/{id}/delete",
            get(load_balancers::confirm_delete).post(load_balancers::delete),
        )
        .route("/services/watch", get(services::watch))
        .route(
            "/services/delete",
            axum::routing::post(services::bulk_delete),
        )
        .route(
            "/services/{namespace}/{name}",
            get(services::show).post(services::update),
        )
        .route("/services/{namespace}/{name}/edit", get(services::edit))
        .route("/services/{namespace}/{name}/history", get(history::show))
        .route(
            "/services/{namespace}/{name}/history/{revision}/restore",
            get(history::confirm_restore).post(history::restore),
        )
        .route("/services/deleted", get(history::deleted))
        .route(
            "/services/{namespace}/{name}/delete",
            get(services::confirm_delete).post(services::delete),
        )
        .route(
            "/static/css/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route(
            "/static/js/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/static/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON_SVG) }),
        )
        // Browsers ask for /favicon.ico whatever the page links; an SVG answers them all.
        .route(
            "/favicon.ico",
            get(|| async { asset("image/svg+xml", FAVICON_SVG) }),
        )
        .route("/login", get(signin::form).post(signin::sign_in))
        .route("/logout", axum::routing::post(signin::sign_out))
        .route("/{*path}", axum::routing::any(not_found))
        .layer(middleware::from_fn_with_state(state.clone(), context))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            signin::require_session,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::api::audit::audit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::console_user,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Unknown paths: the 404 page for browsers, the API's `Status` for everything else.
async fn not_found(headers: axum::http::HeaderMap) -> Response {
    let html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if html {
        ConsoleError::NotFound("The page you asked for does not exist.".into()).into_response()
    } else {
        crate::status_response::status_response(&Status::path_not_found())
    }
}

/// A flash message shown once on the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// `success` or `error`.
    pub kind: String,
    pub message: String,
}

/// What every console handler knows about its request; one extractor instead of five.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub request_id: String,
    pub csrf_token: String,
    pub flash: Option<Flash>,
    /// The signed-in user's name (team mode); `None` in local mode, which has no sign-in.
    pub signed_in: Option<String>,
    /// What the request's user may do.
    pub access: Access,
    /// The namespace the user chose last (the [`NAMESPACE_COOKIE`]); `Some("")` is All
    /// Namespaces.
    pub sticky_namespace: Option<String>,
}

impl Ctx {
    /// The namespace a page opens in: the one it names, else the one chosen last, else
    /// `default`.
    pub fn namespace_or_sticky(&self, named: Option<String>) -> String {
        named
            .or_else(|| self.sticky_namespace.clone())
            .unwrap_or_else(|| services::DEFAULT_NAMESPACE.to_string())
    }
}

/// Whether `value` can be a namespace's name (or "" for All Namespaces): what the namespace
/// cookie may hold, so it never carries anything else into a page or a header.
fn namespace_like(value: &str) -> bool {
    value.len() <= 253
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// The namespace a GET names in its query (`?namespace=…`), to remember as the user's choice.
fn chosen_namespace(request: &Request) -> Option<String> {
    if request.method() != Method::GET {
        return None;
    }
    form_pairs(request.uri().query()?.as_bytes())
        .into_iter()
        .find(|(k, _)| k == "namespace")
        .map(|(_, v)| v)
        .filter(|v| namespace_like(v))
}

/// The request's user with the authorizer that decides for it: what the console asks before
/// it offers an action, and checks again before it writes.
#[derive(Clone)]
pub struct Access {
    app: AppState,
    pub user: Arc<UserInfo>,
    /// The browser's User-Agent, for the writes' history.
    user_agent: Option<String>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access").field("user", &self.user).finish()
    }
}

impl Access {
    /// Whether the user may `verb` the `resource` of `group` in `namespace` (named `name`, or
    /// any when empty).
    pub fn can(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> bool {
        let attrs = Attributes::resource(&self.user, verb, group, resource, namespace, name);
        crate::auth::authorize::permit(&self.app, &attrs).is_ok()
    }

    /// [`Access::can`] as a check: kube-apiserver's 403 sentence when the user may not.
    pub fn check(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<(), ConsoleError> {
        let attrs = Attributes::resource(&self.user, verb, group, resource, namespace, name);
        crate::auth::authorize::permit(&self.app, &attrs)
            .map_err(|forbidden| ConsoleError::Forbidden(forbidden.message))
    }

    /// [`Access::check`] of Services (the core group).
    pub fn check_services(
        &self,
        verb: &str,
        namespace: &str,
        name: &str,
    ) -> Result<(), ConsoleError> {
        self.check(verb, "", services::SERVICES, namespace, name)
    }

    /// [`Access::can`] of Services (the core group).
    pub fn can_services(&self, verb: &str, namespace: &str, name: &str) -> bool {
        self.can(verb, "", services::SERVICES, namespace, name)
    }

    /// Write options that name the user, so the registry's own checks see who writes.
    pub fn write_options(&self) -> crate::registry::WriteOptions {
        crate::registry::WriteOptions {
            user: Some(self.user.clone()),
            user_agent: self.user_agent.clone(),
            ..Default::default()
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| ConsoleError::Internal("missing request context".into()))
    }
}

/// Why a console request failed; rendered as an error page by [`context`], which knows the
/// request id.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Internal(String),
}

impl ConsoleError {
    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<RegistryError> for ConsoleError {
    fn from(e: RegistryError) -> Self {
        match &e {
            RegistryError::NotFound { .. } => ConsoleError::NotFound(e.status().message),
            RegistryError::Forbidden { .. } => ConsoleError::Forbidden(e.status().message),
            RegistryError::BadRequest(m) => ConsoleError::BadRequest(m.clone()),
            RegistryError::Store(_) | RegistryError::Internal(_) => {
                ConsoleError::Internal(e.to_string())
            }
            _ => ConsoleError::BadRequest(e.status().kubectl_text()),
        }
    }
}

/// Marker left on an error response for [`context`] to render.
#[derive(Debug, Clone)]
struct ErrorMarker {
    status: StatusCode,
    message: String,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ConsoleError::Internal(_) => "Something went wrong on our side.".to_string(),
            other => other.to_string(),
        };
        if let ConsoleError::Internal(detail) = &self {
            // The request id is logged by `context` next to this marker's page.
            tracing::error!(error = %detail, "console request failed");
        }
        let mut response = status.into_response();
        response
            .extensions_mut()
            .insert(ErrorMarker { status, message });
        response
    }
}

/// Request id, CSRF check of every POST (double-submit cookie), flash, and error pages; in
/// team mode (HTTPS) every cookie the console sets is `Secure`.
async fn context(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let team = matches!(app.auth, AuthMode::Team(_));
    let user = crate::auth::user_of(&request);
    // The audit id when the audit middleware gave one, so the page's id finds its event.
    let request_id = request
        .extensions()
        .get::<crate::api::audit::AuditId>()
        .map_or_else(
            || uuid::Uuid::new_v4().simple().to_string(),
            |id| id.0.clone(),
        );
    let user_agent = request
        .headers()
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cookie_token = cookie(&request, CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    let csrf_token = cookie_token
        .clone()
        .unwrap_or_else(|| hex::encode(rand::random::<[u8; 32]>()));
    let flash = cookie(&request, FLASH_COOKIE).and_then(|v| decode_flash(&v));
    let sticky_namespace = cookie(&request, NAMESPACE_COOKIE).filter(|v| namespace_like(v));
    let chosen = chosen_namespace(&request).filter(|c| sticky_namespace.as_ref() != Some(c));
    let ctx = Ctx {
        request_id: request_id.clone(),
        csrf_token: csrf_token.clone(),
        flash: flash.clone(),
        signed_in: team.then(|| user.name.clone()),
        access: Access {
            app,
            user,
            user_agent,
        },
        sticky_namespace,
    };
    let mut response = match checked(request, cookie_token.as_deref()).await {
        Ok(mut request) => {
            request.extensions_mut().insert(ctx.clone());
            next.run(request).await
        }
        Err(e) => e.into_response(),
    };
    if let Some(marker) = response.extensions_mut().remove::<ErrorMarker>() {
        tracing::warn!(request_id = %request_id, status = %marker.status, "console error page");
        response = error_page(&ctx, marker.status, &marker.message);
    }
    let remember = chosen.filter(|_| response.status().is_success());
    let headers = response.headers_mut();
    if let Some(namespace) = remember {
        // Lax: a link from elsewhere to the console still opens in the namespace chosen last.
        let value = format!("{NAMESPACE_COOKIE}={namespace}; Path=/; HttpOnly; SameSite=Lax");
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.append(SET_COOKIE, v);
        }
    }
    if cookie_token.is_none() {
        let value = format!("{CSRF_COOKIE}={csrf_token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.append(SET_COOKIE, v);
        }
    }
    let sets_flash = headers
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(FLASH_COOKIE.as_bytes()));
    if flash.is_some() && !sets_flash {
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("sc_flash=; Path=/; Max-Age=0; SameSite=Strict"),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID_HEADER, v);
    }
    if team {
        secure_cookies(headers);
    }
    response
}

/// Marks every cookie of `headers` `Secure`, so a browser never sends it over plain HTTP.
fn secure_cookies(headers: &mut axum::http::HeaderMap) {
    let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
    headers.remove(SET_COOKIE);
    for cookie in cookies {
        let secured = match cookie.to_str() {
            Ok(text) if !text.to_ascii_lowercase().contains("; secure") => {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
            }
            _ => cookie,
        };
        headers.append(SET_COOKIE, secured);
    }
}

/// Paths whose POSTs are console forms. The plan API (`/plan/v1/…`) changes nothing and is
/// called by the CLI, so it is not guarded; other paths only answer 404.
const FORM_PREFIXES: [&str; 4] = ["/services", "/load-balancers", "/login", "/logout"];

/// Passes safe methods through; a POST must carry the cookie's token in its form body.
async fn checked(request: Request, cookie_token: Option<&str>) -> Result<Request, ConsoleError> {
    let path = request.uri().path();
    if request.method() != Method::POST || !FORM_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return Ok(request);
    }
    let (mut parts, body) = request.into_parts();
    let too_large = || {
        ConsoleError::PayloadTooLarge(format!(
            "The request body is larger than {MAX_BODY_BYTES} bytes."
        ))
    };
    let limit = if oversized_form_path(parts.uri.path()) {
        MAX_OVERSIZED_FORM_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let mut bytes: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    let mut pairs = form_pairs(&bytes);
    let posted = pairs
        .iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let valid = cookie_token.is_some_and(|t| constant_time_eq(t.as_bytes(), posted.as_bytes()));
    if !valid {
        return Err(ConsoleError::Forbidden(
            "The form's security token is missing or does not match your session. Reload the page and submit the form again."
                .into(),
        ));
    }
    if bytes.len() > MAX_BODY_BYTES {
        // The form comes back without the largest values, with the error on them.
        let left_out = leave_out_largest(&mut pairs);
        bytes = Bytes::from(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter())
                .finish(),
        );
        if bytes.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        parts.extensions.insert(Oversized(left_out));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Compares two tokens in time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Decodes an `application/x-www-form-urlencoded` body into its pairs, in order.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The value of the request's cookie `name`, from any of its `Cookie` headers.
fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn decode_flash(value: &str) -> Option<Flash> {
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, message) = text.split_once(':')?;
    let kind = if kind == "error" { "error" } else { "success" };
    Some(Flash {
        kind: kind.into(),
        message: message.into(),
    })
}

/// A 303 redirect that shows `message` once on the page it leads to.
pub fn redirect_with_flash(to: &str, kind: &str, message: &str) -> Response {
    let value = URL_SAFE_NO_PAD.encode(format!("{kind}:{message}"));
    let cookie = format!("{FLASH_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, v);
    }
    response
}

fn error_page(ctx: &Ctx, status: StatusCode, message: &str) -> Response {
    let page = views::ErrorPage::new(ctx, status, message);
    let rendered = match status {
        StatusCode::NOT_FOUND => views::NotFoundPage {
            layout: page.layout,
            message: page.message,
        }
        .render(),
        StatusCode::INTERNAL_SERVER_ERROR => views::ServerErrorPage {
            layout: page.layout,
        }
        .render(),
        _ => page.render(),
    };
    let html = rendered.unwrap_or_else(|_| format!("{status}: request id {}", ctx.request_id));
    (status, Html(html)).into_response()
}
