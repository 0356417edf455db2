//! Who a request is. Every request leaves the front door with an `Arc<UserInfo>` in its
//! extensions: in local mode (plain HTTP on loopback, like `kubectl proxy`) the user is
//! whoever the request says it is; in team mode authentication decides.

pub mod authenticate;
pub mod authorize;
pub mod local;
pub mod pki;
pub mod session;
pub mod tls;
pub mod tokens;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use service_plan::user::UserInfo;

use crate::AppState;

/// How requests are authenticated and authorised, chosen at start-up.
#[derive(Clone, Default)]
pub enum AuthMode {
    /// Plain HTTP on loopback; everyone may do everything.
    #[default]
    Local,
    /// HTTPS for a team: every request is authenticated, then authorised by RBAC.
    Team(Arc<Team>),
}

/// What team mode authenticates with.
#[derive(Debug)]
pub struct Team {
    pub tokens: tokens::TokenKeys,
    /// The console's sign-in sessions.
    pub sessions: session::Sessions,
}

/// The user a request was authenticated as (the anonymous user when none was attached).
pub fn user_of(request: &Request) -> Arc<UserInfo> {
    request
        .extensions()
        .get::<Arc<UserInfo>>()
        .cloned()
        .unwrap_or_else(|| Arc::new(UserInfo::anonymous()))
}

/// The API's authentication: attaches the request's user and runs `inner`, or answers 401.
pub async fn with_api_user<Fut: Future<Output = Response>>(
    state: &AppState,
    mut request: Request,
    inner: impl FnOnce(Request) -> Fut,
) -> Response {
    let user = match &state.auth {
        AuthMode::Local => local::api_user(&request),
        AuthMode::Team(team) => {
            match authenticate::api_user(state, team, request.headers(), request.extensions()).await
            {
                Ok(user) => user,
                Err(unauthorized) => return unauthorized,
            }
        }
    };
    request.extensions_mut().insert(user);
    inner(request).await
}

/// Middleware of the console: attaches the request's user; in team mode the user of the
/// request's sign-in session, or the anonymous user without one.
pub async fn console_user(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match &state.auth {
        AuthMode::Local => local::console_user(),
        AuthMode::Team(team) => {
            let signed_in = match session::cookie_of(request.headers()) {
                Some(id) => session::session_user(&state, &team.sessions, &id).await,
                None => None,
            };
            signed_in.unwrap_or_else(|| Arc::new(UserInfo::anonymous()))
        }
    };
    request.extensions_mut().insert(user);
    next.run(request).await
}

/// Team mode's PKI (generated on first start), token keys and HTTPS configuration.
pub fn team_mode(
    data_dir: &std::path::Path,
    listen: std::net::SocketAddr,
    args: &crate::config::TlsArgs,
) -> anyhow::Result<(Arc<Team>, Arc<rustls::ServerConfig>)> {
    let names = pki::serving_names(&listen.ip().to_string(), &args.tls_sans);
    let pki = pki::Pki::load_or_create(data_dir, &names)?;
    let config = tls::server_config(&pki, args)?;
    let tokens = tokens::TokenKeys::from_pem(&pki.sa_key_pem, &pki.sa_public_pem)?;
    let sessions = session::Sessions::default();
    Ok((Arc::new(Team { tokens, sessions }), config))
}
