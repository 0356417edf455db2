//! kube-apiserver's limits on one request: the in-flight limits (`--max-requests-inflight`,
//! `--max-mutating-requests-inflight`), past which a request is answered at once with 429 and
//! `Retry-After` instead of queueing without bound, and the request deadline
//! (`--request-timeout`), past which it is answered 504. Long-running requests (watches, the
//! console's live stream) are exempt from both, as upstream exempts them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use service_plan::status::{Status, StatusDetails};
use tokio::sync::Semaphore;

use crate::api::error::status_response;
use crate::api::params::Params;

/// The two pools of request slots.
#[derive(Clone)]
pub struct Inflight {
    readonly: Arc<Semaphore>,
    mutating: Arc<Semaphore>,
}

impl Inflight {
    /// Slots for `readonly` reads and `mutating` writes at once.
    pub fn new(readonly: usize, mutating: usize) -> Inflight {
        Inflight {
            readonly: Arc::new(Semaphore::new(readonly.max(1))),
            mutating: Arc::new(Semaphore::new(mutating.max(1))),
        }
    }
}

/// The middleware: takes a slot for the request's lifetime or answers 429.
pub async fn limit(State(inflight): State<Inflight>, request: Request, next: Next) -> Response {
    if is_long_running(&request) {
        return next.run(request).await;
    }
    let pool = match *request.method() {
        Method::GET | Method::HEAD | Method::OPTIONS => &inflight.readonly,
        _ => &inflight.mutating,
    };
    match Arc::clone(pool).try_acquire_owned() {
        Ok(_slot) => next.run(request).await,
        Err(_) => too_many_requests(),
    }
}

/// The middleware: a request not answered within `deadline` gets upstream's 504.
///
/// As upstream, the work itself is not undone: a write already queued for commit still
/// commits, and a client that retries finds it.
pub async fn deadline(State(deadline): State<Duration>, request: Request, next: Next) -> Response {
    if is_long_running(&request) {
        return next.run(request).await;
    }
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let status = Status::failure(
                504,
                "Timeout",
                "Timeout: request did not complete within requested timeout - context deadline exceeded",
                Some(StatusDetails::default()),
            );
            status_response(&status, None)
        }
    }
}

/// Watches and the console's live stream stay open for minutes; they hold no slot.
fn is_long_running(request: &Request) -> bool {
    let uri = request.uri();
    // The query read as the API reads it: the first `watch`, parsed as Go parses booleans.
    uri.path() == "/services/watch"
        || Query::<Vec<(String, String)>>::try_from_uri(uri)
            .is_ok_and(|Query(pairs)| Params::from_pairs(pairs).watch().unwrap_or(false))
}

/// Upstream's answer (`tooManyRequests` of the max-in-flight filter): Go's `http.Error`, so
/// plain text rather than a Status, with `Retry-After: 1`, which client-go waits and retries on.
fn too_many_requests() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::RETRY_AFTER, "1"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        "Too many requests, please try again later.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::post;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_write_past_the_limit_is_refused_with_retry_after_and_reads_have_their_own_slots() {
        let release = Arc::new(Notify::new());
        let held = Arc::clone(&release);
        let inflight = Inflight::new(1, 1);
        let app = Router::new()
            .route(
                "/api/v1/services",
                post(move || {
                    let held = Arc::clone(&held);
                    async move { held.notified().await }
                })
                .get(|| async { "listed" }),
            )
            .layer(axum::middleware::from_fn_with_state(
                inflight.clone(),
                limit,
            ));
        let request = |method: &str, uri: &str| {
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .expect("request")
        };
        let first = tokio::spawn(app.clone().oneshot(request("POST", "/api/v1/services")));
        // However slow the machine, go on only once the first write holds the one slot.
        while inflight.mutating.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }

        let refused = app
            .clone()
            .oneshot(request("POST", "/api/v1/services"))
            .await
            .expect("reply");
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()["retry-after"], "1");
        // Reads have their own slots.
        let read = app
            .clone()
            .oneshot(request("GET", "/api/v1/services"))
            .await
            .expect("reply");
        assert_eq!(read.status(), StatusCode::OK);

        release.notify_one();
        let first = first.await.expect("task").expect("reply");
        assert_eq!(first.status(), StatusCode::OK);
        let after = tokio::spawn(app.clone().oneshot(request("POST", "/api/v1/services")));
        tokio::time::sleep(Duration::from_millis(50)).await;
        release.notify_one();
        assert_eq!(
            after.await.expect("task").expect("reply").status(),
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_request_past_the_deadline_gets_upstreams_504_and_a_watch_does_not() {
        let app = Router::new()
            .route(
                "/api/v1/services",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "late"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Duration::from_millis(50),
                deadline,
            ));
        let get = |uri: &str| {
            Request::builder()
                .uri(uri)
                .body(Body::empty())
                .expect("request")
        };
        let late = app
            .clone()
            .oneshot(get("/api/v1/services"))
            .await
            .expect("reply");
        assert_eq!(late.status(), StatusCode::GATEWAY_TIMEOUT);
        let body = axum::body::to_bytes(late.into_body(), 1 << 16)
            .await
            .expect("body");
        let status: serde_json::Value = serde_json::from_slice(&body).expect("a Status");
        assert_eq!(
            status["message"],
            "Timeout: request did not complete within requested timeout - context deadline exceeded"
        );
        assert_eq!(status["reason"], "Timeout");
        let watch = app
            .oneshot(get("/api/v1/services?watch=true"))
            .await
            .expect("reply");
        assert_eq!(watch.status(), StatusCode::OK);
    }
}
