//! The accept loop in front of the router: a cap on open connections below the file limit,
//! a header-read timeout, back-off on accept errors, and graceful shutdown on SIGTERM/SIGINT.
//! `axum::serve` offers none of the limits, so connections are served with hyper-util directly.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::front::Front;

/// File descriptors kept back from connections for the database, logs and the like.
const RESERVED_FILES: u64 = 64;
/// The longest pause after an accept error (e.g. out of file descriptors).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// How connections are limited and closed.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Most connections open at once; further clients wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (kube-apiserver: ~32 s).
    pub header_read_timeout: Duration,
    /// How long in-flight requests may run on after a shutdown signal.
    pub shutdown_grace: Duration,
}

/// Raises the soft open-file limit to the hard one and returns the connections that fit
/// below it.
pub fn connections_within_file_limit() -> usize {
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    usize::try_from(files.saturating_sub(RESERVED_FILES).max(16)).unwrap_or(usize::MAX)
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, runs
/// `on_shutdown` (which ends watches), and waits up to the grace period, or until `force`
/// resolves (a second signal), for open requests to finish.
pub async fn serve(
    listener: TcpListener,
    app: Front,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    on_shutdown: impl FnOnce(),
    force: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut backoff = Duration::from_millis(5);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(error = %error, "accept failed; backing off");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        backoff = Duration::from_millis(5);
        // As Go's net package (and so kube-apiserver) does: small responses go out at once.
        let _ = stream.set_nodelay(true);
        let (builder, watcher, app, tls) = (
            builder.clone(),
            graceful.watcher(),
            app.clone(),
            tls.clone(),
        );
        let first_byte_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            // hyper's header timer starts with the first byte; a client that connects and
            // says nothing must not hold its slot for ever either.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(first_byte_timeout, stream.peek(&mut first)).await,
                Ok(Ok(1..))
            ) {
                return;
            }
            match tls {
                None => {
                    let service = TowerToHyperService::new(app.for_connection(peer, None));
                    serve_connection(&builder, TokioIo::new(stream), service, watcher).await;
                }
                Some(config) => {
                    let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
                    // A failed handshake (no TLS, an unknown CA) concerns that client only.
                    let Ok(Ok(stream)) = tokio::time::timeout(first_byte_timeout, handshake).await
                    else {
                        return;
                    };
                    let certificate = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .and_then(|leaf| crate::auth::tls::certificate_user(leaf));
                    let service = TowerToHyperService::new(app.for_connection(peer, certificate));
                    serve_connection(&builder, TokioIo::new(stream), service, watcher).await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; ending watches");
    on_shutdown();
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing open connections");
        }
        () = force => tracing::warn!("second signal; exiting at once"),
    }
}

/// Serves one connection until it ends or the graceful shutdown closes it.
async fn serve_connection<I, S>(
    builder: &Builder<TokioExecutor>,
    io: TokioIo<I>,
    service: TowerToHyperService<S>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            Request<Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let connection = builder.serve_connection_with_upgrades(io, service);
    // A connection error (a client gone, a header timeout) concerns that client only.
    let _ = watcher.watch(connection.into_owned()).await;
}

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C).
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
