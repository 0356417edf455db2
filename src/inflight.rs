//! kube-apiserver's limits on one request: the in-flight limits (`--max-requests-inflight`,
//! `--max-mutating-requests-inflight`), past which a request is answered at once with 429 and
//! `Retry-After` instead of queueing without bound, and the request deadline
//! (`--request-timeout`), past which it is answered 504. Long-running requests (watches, the
//! console's live stream) are exempt from both, as upstream exempts them.

use std::sync::Arc;

use axum::extract::{Query, Request};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use service_plan::status::{Status, StatusDetails};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::api::error::status_response;
use crate::api::params::Params;

/// kube-apiserver's defaults: reads and writes served at once, and the seconds a request may
/// take.
pub const DEFAULT_READS: usize = 400;
pub const DEFAULT_WRITES: usize = 200;
pub const DEFAULT_DEADLINE_SECS: u64 = 60;

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

    /// A slot of the request's pool for its lifetime, or `None` when the pool is full.
    pub fn try_slot(&self, method: &Method) -> Option<OwnedSemaphorePermit> {
        let pool = match *method {
            Method::GET | Method::HEAD | Method::OPTIONS => &self.readonly,
            _ => &self.mutating,
        };
        Arc::clone(pool).try_acquire_owned().ok()
    }
}

/// Upstream's answer to a request not answered within its deadline: 504.
///
/// As upstream, the work itself is not undone: a write already queued for commit still
/// commits, and a client that retries finds it.
pub fn deadline_exceeded() -> Response {
    let status = Status::failure(
        504,
        "Timeout",
        "Timeout: request did not complete within requested timeout - context deadline exceeded",
        Some(StatusDetails::default()),
    );
    status_response(&status, None)
}

/// Watches and the console's live stream stay open for minutes; they hold no slot and have
/// no deadline.
pub fn is_long_running<B>(request: &Request<B>) -> bool {
    let uri = request.uri();
    // The query read as the API reads it: the first `watch`, parsed as Go parses booleans.
    uri.path() == "/services/watch"
        || Query::<Vec<(String, String)>>::try_from_uri(uri)
            .is_ok_and(|Query(pairs)| Params::from_pairs(pairs).watch().unwrap_or(false))
}

/// Upstream's answer (`tooManyRequests` of the max-in-flight filter): Go's `http.Error`, so
/// plain text rather than a Status, with `Retry-After: 1`, which client-go waits and retries on.
pub fn too_many_requests() -> Response {
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
