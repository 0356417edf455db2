//! Local mode, the default: plain HTTP on a loopback address, no sign-in, like `kubectl proxy`.
//! Its one defence is that only this machine can reach it, so it also refuses requests whose
//! `Host` names anything but this machine: a page on another site that re-points its DNS
//! name at 127.0.0.1 (DNS rebinding) must not be served, CSRF token included.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HOST, USER_AGENT, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use service_plan::user::{ANONYMOUS, MASTERS, UserInfo};

/// The user of console requests in local mode.
pub const CONSOLE_USER: &str = "service-console";

/// Why a local-mode server refuses to start on `listen`, if it does.
pub fn refuse_listen(listen: SocketAddr) -> Option<String> {
    (!listen.ip().is_loopback()).then(|| {
        format!(
            "refusing to serve plain HTTP without authentication on {listen}, which is not a \
             loopback address: anyone who can reach it could change every object. Pass --tls to \
             serve a team over HTTPS with authentication and RBAC, or listen on 127.0.0.1."
        )
    })
}

/// Whether a `Host` header names this machine: `localhost` or a loopback address, with or
/// without a port (kubectl proxy's default `--accept-hosts`).
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((address, port)) if port.is_empty() || is_port(port) => address,
            _ => return false,
        },
        None => match host.rsplit_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return false,
            None => host,
        },
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_port(text: &str) -> bool {
    text.strip_prefix(':')
        .unwrap_or(text)
        .parse::<u16>()
        .is_ok()
}

/// The 403 for a request whose `Host` is not this machine, or `None` to serve it. A request
/// without `Host` (HTTP/1.0, in-process callers) cannot come from a rebinding browser and is
/// served.
pub fn refuse_other_hosts<B>(request: &Request<B>) -> Option<Response> {
    let host = request
        .headers()
        .get(HOST)
        .map(|v| v.to_str().unwrap_or_default())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))?;
    if is_loopback_host(host) {
        return None;
    }
    tracing::warn!(host = %host.escape_debug(), "refused a request for a host that is not this machine");
    Some(
        (
            StatusCode::FORBIDDEN,
            [
                (
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ),
                (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            ],
            "Forbidden: this server only answers requests addressed to localhost\n",
        )
            .into_response(),
    )
}

/// A local-mode user: everything is allowed, so the user is in `system:masters`.
fn local_user(name: &str) -> Arc<UserInfo> {
    Arc::new(UserInfo::authenticated(name, [MASTERS.to_string()]))
}

/// The API user in local mode: the client's User-Agent prefix (e.g. `kubectl-edit`), as the
/// default field manager is.
pub fn api_user(request: &Request) -> Arc<UserInfo> {
    let name = request
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(service_plan::meta::manager_from_user_agent)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| ANONYMOUS.to_string());
    local_user(&name)
}

/// The console user in local mode: the console itself.
pub fn console_user() -> Arc<UserInfo> {
    local_user(CONSOLE_USER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_an_accepted_host() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.0.0.1:8080",
            "127.1.2.3:1",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "10.0.0.1:8080",
            "[::2]:80",
            "[::1]x",
            "localhost:http",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn a_public_address_is_refused_without_tls() {
        assert!(refuse_listen("127.0.0.1:8080".parse().unwrap()).is_none());
        assert!(refuse_listen("[::1]:8080".parse().unwrap()).is_none());
        let message = refuse_listen("0.0.0.0:8080".parse().unwrap()).unwrap();
        assert!(message.contains("--tls"), "{message}");
    }
}
