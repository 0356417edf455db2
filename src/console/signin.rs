//! Console sign-in (team mode only): the sign-in page that takes a ServiceAccount bearer token,
//! as the Kubernetes Dashboard does, the session cookie it sets, sign-out, and the gate that
//! sends a request without a session to sign-in. Local mode has no sign-in and never gets here.

use std::time::{Duration, Instant};

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use service_plan::user::ANONYMOUS;

use super::views::encode;
use super::{CSRF_COOKIE, Ctx, Flash, redirect_with_flash};
use crate::AppState;
use crate::auth::AuthMode;
use crate::auth::session::{SESSION_COOKIE, SESSION_LIFETIME_SECS};

/// The sign-in page.
pub const SIGN_IN_PATH: &str = "/login";
/// Where a signed-in user lands without a `then`.
const HOME: &str = "/services";
/// The live-update stream: a script's request, answered 401 rather than redirected.
const WATCH_PATH: &str = "/services/watch";
/// The Kubernetes Dashboard's words for a token that does not sign in; which check failed
/// (signature, expiry, a deleted ServiceAccount) is only for the server log.
pub const INVALID_TOKEN: &str = "Unauthorized (401): Invalid credentials provided";

/// `GET /login`.
#[derive(Template, WebTemplate)]
#[template(path = "signin.html")]
pub struct SignInPage {
    pub request_id: String,
    pub csrf_token: String,
    pub flash: Option<Flash>,
    /// Where to go after signing in (already checked to be a path of this console).
    pub then: String,
    pub error: Option<String>,
}

impl SignInPage {
    fn new(ctx: &Ctx, then: &str, error: Option<String>) -> SignInPage {
        SignInPage {
            request_id: ctx.request_id.clone(),
            csrf_token: ctx.csrf_token.clone(),
            flash: ctx.flash.clone(),
            then: then_path(then).unwrap_or_default().to_string(),
            error,
        }
    }
}

/// `then` when it is a path of this console to go to after signing in, never another site
/// (no open redirect): it starts with one `/`, and has no backslash, whitespace or control
/// character, which browsers drop or read as `/` (`/\evil.example`, `/\t/evil.example`).
pub fn then_path(then: &str) -> Option<&str> {
    let ours = then.starts_with('/')
        && !then.starts_with("//")
        && !then
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        && !is_sign_in_path(then);
    ours.then_some(then)
}

fn is_sign_in_path(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path == SIGN_IN_PATH || path == "/logout"
}

/// Middleware (team mode): a request without a session goes to sign-in with the path it
/// wanted; the sign-in page, sign-out and the static files are open to everyone, and the
/// live-update stream answers 401.
pub async fn require_session(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(app.auth, AuthMode::Local) || is_open(request.uri().path()) {
        return next.run(request).await;
    }
    if crate::auth::user_of(&request).name != ANONYMOUS {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path == WATCH_PATH || request.headers().contains_key("hx-request") {
        return (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response();
    }
    let wanted = request.uri().path_and_query().map_or(path, |p| p.as_str());
    // A form posted after the session ended cannot be replayed; sign-in leads home instead.
    let then = Some(wanted)
        .filter(|_| request.method() == Method::GET)
        .and_then(then_path);
    match then {
        Some(then) => Redirect::to(&format!("{SIGN_IN_PATH}?then={}", encode(then))),
        None => Redirect::to(SIGN_IN_PATH),
    }
    .into_response()
}

/// Paths served without a session.
fn is_open(path: &str) -> bool {
    is_sign_in_path(path) || path.starts_with("/static/") || path == "/favicon.ico"
}

/// Query of `GET /login`.
#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    pub then: String,
}

/// `GET /login`: the sign-in form; in local mode there is nothing to sign in to.
pub async fn form(State(app): State<AppState>, ctx: Ctx, Query(q): Query<SignInQuery>) -> Response {
    if matches!(app.auth, AuthMode::Local) {
        return Redirect::to(HOME).into_response();
    }
    SignInPage::new(&ctx, &q.then, None).into_response()
}

/// The posted sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub then: String,
}

/// `POST /login`: signs in with a ServiceAccount token and lands where the user was going.
pub async fn sign_in(
    State(app): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(posted): Form<SignInForm>,
) -> Response {
    let AuthMode::Team(team) = &app.auth else {
        return Redirect::to(HOME).into_response();
    };
    let token = posted.token.trim();
    let refused = || {
        let page = SignInPage::new(&ctx, &posted.then, Some(INVALID_TOKEN.to_string()));
        (StatusCode::UNAUTHORIZED, page).into_response()
    };
    if token.is_empty() {
        return refused();
    }
    // `token_user` checks the signature and the ServiceAccount; the claims give the expiry,
    // past which the session must not outlive the token.
    let Ok(claims) = team.tokens.verify(token) else {
        return refused();
    };
    let Some(user) = crate::auth::authenticate::token_user(&app, team, token).await else {
        return refused();
    };
    let now = jiff::Timestamp::now().as_second();
    let valid_for = Duration::from_secs(u64::try_from(claims.exp - now).unwrap_or(0));
    tracing::info!(user = %user.name, "signed in to the console");
    // Signing in again (perhaps as someone else) ends the browser's previous session.
    if let Some(previous) = crate::auth::session::cookie_of(&headers) {
        team.sessions.revoke(&previous);
    }
    let id = team.sessions.create(user, valid_for, Instant::now());
    let max_age = valid_for.min(Duration::from_secs(SESSION_LIFETIME_SECS));
    let then = then_path(&posted.then).unwrap_or(HOME);
    let mut response = Redirect::to(then).into_response();
    let headers = response.headers_mut();
    let session = format!(
        "{SESSION_COOKIE}={id}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        max_age.as_secs()
    );
    // A new CSRF token for the signed-in user: one planted before sign-in stops working.
    let csrf = format!(
        "{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        hex::encode(rand::random::<[u8; 32]>())
    );
    for cookie in [session, csrf] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.append(SET_COOKIE, v);
        }
    }
    response
}

/// `POST /logout`: ends the session, forgets its cookie and returns to sign-in.
pub async fn sign_out(State(app): State<AppState>, request: Request) -> Response {
    let AuthMode::Team(team) = &app.auth else {
        return Redirect::to(HOME).into_response();
    };
    if let Some(id) = crate::auth::session::cookie_of(request.headers()) {
        team.sessions.revoke(&id);
    }
    let mut response = redirect_with_flash(SIGN_IN_PATH, "success", "You have signed out.");
    let cleared =
        format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&cleared) {
        response.headers_mut().append(SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn then_accepts_only_paths_of_this_console() {
        for ours in [
            "/services",
            "/services?namespace=x",
            "/services/default/web",
            "/services/default/web/edit?x=%2F%2Fevil.example",
            "/",
        ] {
            assert_eq!(then_path(ours), Some(ours), "{ours}");
        }
        for other in [
            "",
            "services",
            "https://evil.example/",
            "//evil.example",
            "//evil.example/services",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            " /services",
            "/login",
            "/login?then=/services",
            "/logout",
        ] {
            assert_eq!(then_path(other), None, "{other:?}");
        }
    }

    #[test]
    fn static_files_and_sign_in_are_open() {
        for open in ["/login", "/logout", "/static/css/app.css", "/favicon.ico"] {
            assert!(is_open(open), "{open}");
        }
        for closed in ["/", "/services", "/login-elsewhere", "/loginx", "/static"] {
            assert!(!is_open(closed), "{closed}");
        }
    }
}
