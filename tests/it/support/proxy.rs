//! A TCP proxy the test can cut off and restore.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A TCP proxy in front of the database that the test can cut off and restore: what a
/// replica sees when the network to its database fails.
pub struct CutOff {
    /// The port the proxy listens on, on 127.0.0.1.
    pub port: u16,
    open: Arc<AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl CutOff {
    /// Forwards connections to `target` (`host:port`).
    pub async fn start(target: String) -> CutOff {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("address").port();
        let open = Arc::new(AtomicBool::new(true));
        let connections: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (accepting, tasks) = (Arc::clone(&open), Arc::clone(&connections));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::Acquire) {
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                let mut tasks = tasks.lock().expect("tasks");
                tasks.retain(|task| !task.is_finished());
                tasks.push(task);
            }
        });
        CutOff {
            port,
            open,
            connections,
        }
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, Ordering::Release);
        for task in self.connections.lock().expect("tasks").drain(..) {
            task.abort();
        }
    }

    /// Accepts and forwards connections again.
    pub fn restore(&self) {
        self.open.store(true, Ordering::Release);
    }
}
