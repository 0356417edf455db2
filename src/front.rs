//! The front door: what every request passes before routing. It notes the connection's peer
//! (and client certificate), rewrites deprecated watch paths, refuses foreign `Host`s in local
//! mode, holds an in-flight slot and the deadline ([`crate::inflight`]), and adds HSTS in team
//! mode.
//!
//! One tower service rather than a stack of axum middleware: each `from_fn` layer clones and
//! boxes the rest of the stack on every request, and with an extra router for the rewrite the
//! five layers this replaces cost a fifth of a small GET's time (`get-vs-hello.sh`: 39k
//! against 48k requests/s without them).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, header};
use axum::response::Response;
use futures::future::BoxFuture;
use tower::Service;

use crate::api::legacy_watch;
use crate::auth::tls::ClientCertificateUser;
use crate::inflight::{self, Inflight};

/// How the server is reached.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exposure {
    /// Plain HTTP on loopback: requests must name this machine as their `Host`.
    Local,
    /// HTTPS for a team: browsers are told to keep to HTTPS.
    Team,
}

/// The application behind its front door; cloned per connection, with that connection's
/// peer.
#[derive(Clone)]
pub struct Front {
    app: Router,
    inflight: Inflight,
    deadline: Duration,
    exposure: Exposure,
    peer: Option<SocketAddr>,
    certificate: Option<ClientCertificateUser>,
}

impl Front {
    /// `app` behind the limits of `inflight` and `deadline`.
    pub fn new(app: Router, inflight: Inflight, deadline: Duration, exposure: Exposure) -> Front {
        Front {
            app,
            inflight,
            deadline,
            exposure,
            peer: None,
            certificate: None,
        }
    }

    /// The front door of one connection: its requests carry the peer's address (for the
    /// audit log's sourceIPs) and the user of its verified client certificate.
    pub fn for_connection(
        &self,
        peer: SocketAddr,
        certificate: Option<ClientCertificateUser>,
    ) -> Front {
        Front {
            peer: Some(peer),
            certificate,
            ..self.clone()
        }
    }
}

impl<B> Service<Request<B>> for Front
where
    B: HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready, and the limits answer at once instead of waiting.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut request = request.map(Body::new);
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        if let Some(certificate) = &self.certificate {
            request.extensions_mut().insert(certificate.clone());
        }
        // Before routing, so that the router and its middleware see the watch it is.
        legacy_watch::rewrite(&mut request);
        let exposure = self.exposure;
        let answer = |response: Response| -> Self::Future {
            Box::pin(std::future::ready(Ok(with_exposure(response, exposure))))
        };
        if exposure == Exposure::Local
            && let Some(refused) = crate::auth::local::refuse_other_hosts(&request)
        {
            return answer(refused);
        }
        // A long-running request holds no slot and has no deadline.
        let limits = if inflight::is_long_running(&request) {
            None
        } else {
            let Some(slot) = self.inflight.try_slot(request.method()) else {
                return answer(inflight::too_many_requests());
            };
            Some((slot, self.deadline))
        };
        let routed = self.app.call(request);
        Box::pin(async move {
            let response = match limits {
                None => routed.await?,
                Some((_slot, deadline)) => match tokio::time::timeout(deadline, routed).await {
                    Ok(response) => response?,
                    Err(_) => inflight::deadline_exceeded(),
                },
            };
            Ok(with_exposure(response, exposure))
        })
    }
}

/// Browsers that once reached the team console over HTTPS never try plain HTTP again.
fn with_exposure(mut response: Response, exposure: Exposure) -> Response {
    if exposure == Exposure::Team {
        response
            .headers_mut()
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::*;

    fn request(method: &str, uri: &str) -> Request<Body> {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .expect("request")
    }

    async fn reply(front: &Front, method: &str, uri: &str) -> Response {
        front
            .clone()
            .oneshot(request(method, uri))
            .await
            .expect("reply")
    }

    /// `app` behind a front door whose slots never run out.
    fn roomy(app: Router, deadline: Duration, exposure: Exposure) -> Front {
        Front::new(app, Inflight::new(8, 8), deadline, exposure)
    }

    async fn body_of(response: Response) -> bytes::Bytes {
        axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body")
    }

    #[tokio::test]
    async fn a_write_past_the_limit_is_refused_with_retry_after_and_reads_have_their_own_slots() {
        let release = Arc::new(Notify::new());
        let held = Arc::clone(&release);
        let inflight = Inflight::new(1, 1);
        let app = Router::new().route(
            "/api/v1/services",
            post(move || {
                let held = Arc::clone(&held);
                async move { held.notified().await }
            })
            .get(|| async { "listed" }),
        );
        let front = Front::new(
            app,
            inflight.clone(),
            Duration::from_secs(60),
            Exposure::Local,
        );
        let first = tokio::spawn(front.clone().oneshot(request("POST", "/api/v1/services")));
        // However slow the machine, go on only once the first write holds the one slot.
        while inflight.try_slot(&axum::http::Method::POST).is_some() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }

        let refused = reply(&front, "POST", "/api/v1/services").await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()["retry-after"], "1");
        // Reads have their own slots.
        let read = reply(&front, "GET", "/api/v1/services").await;
        assert_eq!(read.status(), StatusCode::OK);

        release.notify_one();
        let first = first.await.expect("task").expect("reply");
        assert_eq!(first.status(), StatusCode::OK);
        // The slot is given back with the answer.
        let after = tokio::spawn(front.clone().oneshot(request("POST", "/api/v1/services")));
        tokio::time::sleep(Duration::from_millis(50)).await;
        release.notify_one();
        assert_eq!(
            after.await.expect("task").expect("reply").status(),
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_request_past_the_deadline_gets_upstreams_504_and_a_watch_does_not() {
        let app = Router::new().route(
            "/api/v1/services",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "late"
            }),
        );
        let front = roomy(app, Duration::from_millis(50), Exposure::Team);
        let late = reply(&front, "GET", "/api/v1/services").await;
        assert_eq!(late.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(
            late.headers()[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000"
        );
        let body = body_of(late).await;
        let status: serde_json::Value = serde_json::from_slice(&body).expect("a Status");
        assert_eq!(
            status["message"],
            "Timeout: request did not complete within requested timeout - context deadline exceeded"
        );
        assert_eq!(status["reason"], "Timeout");
        let watch = reply(&front, "GET", "/api/v1/services?watch=true").await;
        assert_eq!(watch.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_deprecated_watch_path_is_routed_as_the_watch_it_is_and_foreign_hosts_are_refused() {
        let app = Router::new().route(
            "/api/v1/namespaces/{namespace}/services",
            get(|uri: axum::http::Uri| async move { uri.to_string() }),
        );
        let front = roomy(app, Duration::from_secs(60), Exposure::Local);
        let routed = reply(&front, "GET", "/api/v1/watch/namespaces/default/services").await;
        assert_eq!(routed.status(), StatusCode::OK);
        let body = body_of(routed).await;
        assert_eq!(&body[..], b"/api/v1/namespaces/default/services?watch=true");

        let mut foreign = request("GET", "/api/v1/namespaces/default/services");
        foreign
            .headers_mut()
            .insert(header::HOST, HeaderValue::from_static("evil.example"));
        let refused = front.oneshot(foreign).await.expect("reply");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
}
