//! Watch fan-out: 1,000 open API watches on one Service collection, then changes to one
//! Service; measures how long each change takes to reach every watcher (from the moment the
//! write was acknowledged to the moment a watcher's stream yields its event), and the server's
//! memory with the watches open.
//!
//! Run with `cargo bench --bench watch`. Prints p50/p99/max delivery latency.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use service_console::server::open_state;
use service_plan::alloc::{Pools, PortRange, ServiceCidr};
use tokio::sync::mpsc;

/// Open watches.
const WATCHERS: usize = 1_000;
/// Changes measured, one at a time.
const CHANGES: usize = 50;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temporary directory");
        let pools = Pools {
            service_cidr: ServiceCidr::parse("10.96.0.0/12").expect("cidr"),
            node_ports: PortRange::DEFAULT,
        };
        let state = open_state(dir.path(), pools).await.expect("open store");
        let app = service_console::app(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, tower::make::Shared::new(app)).await.expect("serve") });
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        let services = format!("{base}/api/v1/namespaces/default/services");
        let created = client
            .post(&services)
            .json(&json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "watched"},
                "spec": {"ports": [{"port": 80}]}}))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), 201);
        let rss_before = rss_mib();

        // Each watcher reports the time it saw each MODIFIED event.
        let (seen_tx, mut seen_rx) = mpsc::channel::<(usize, Instant)>(WATCHERS * 4);
        for _ in 0..WATCHERS {
            let response = client
                .get(format!("{services}?watch=true&resourceVersion=0&timeoutSeconds=600"))
                .send()
                .await
                .expect("watch");
            assert_eq!(response.status(), 200);
            let seen = seen_tx.clone();
            tokio::spawn(async move {
                let mut body = response.bytes_stream();
                let mut buffer = Vec::new();
                let mut change = 0;
                while let Some(Ok(chunk)) = body.next().await {
                    buffer.extend_from_slice(&chunk);
                    while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buffer.drain(..=end).collect();
                        if line.windows(10).any(|w| w == b"\"MODIFIED\"") {
                            if seen.send((change, Instant::now())).await.is_err() {
                                return;
                            }
                            change += 1;
                        }
                    }
                }
            });
        }
        drop(seen_tx);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss_open = rss_mib();

        let mut latencies = Vec::with_capacity(WATCHERS * CHANGES);
        for change in 0..CHANGES {
            let patch = json!({"metadata": {"labels": {"change": change.to_string()}}});
            let reply = client
                .patch(format!("{services}/watched"))
                .header("content-type", "application/merge-patch+json")
                .body(patch.to_string())
                .send()
                .await
                .expect("patch");
            let acknowledged = Instant::now();
            assert_eq!(reply.status(), 200);
            let mut reached = 0;
            while reached < WATCHERS {
                let (seen_change, at) =
                    tokio::time::timeout(Duration::from_secs(30), seen_rx.recv())
                        .await
                        .expect("every watcher sees the change")
                        .expect("watchers are running");
                assert_eq!(seen_change, change);
                latencies.push(at.saturating_duration_since(acknowledged));
                reached += 1;
            }
        }
        latencies.sort();
        println!(
            "watch fan-out: {WATCHERS} watchers x {CHANGES} changes: delivery after the write's acknowledgement p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        );
        println!(
            "RSS (server and clients in one process) {rss_before:.0} MiB before the watches, {rss_open:.0} MiB with {WATCHERS} open"
        );
    });
}
