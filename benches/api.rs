//! API benchmarks: the Kubernetes REST API over HTTP with 10,000 Services stored, driven by
//! keep-alive reqwest clients (1 and 16 concurrent) on the same machine.
//!
//! Run with `cargo bench --bench api`. Prints one line per case.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};
use service_console::registry::{WriteOptions, kind_by_plural};
use service_console::server::open_state;
use service_plan::alloc::{Pools, PortRange, ServiceCidr};

/// Services stored before measuring.
const STORED_SERVICES: usize = 10_000;
/// Namespaces the stored Services are spread over.
const NAMESPACES: usize = 10;
/// Concurrent tasks creating the stored Services (writes are group-committed).
const SEED_WRITERS: usize = 32;
/// How long each client keeps sending requests in one case.
const CASE_SECS: f64 = 3.0;
/// The most requests one client sends in one case.
const MAX_REQUESTS_PER_CLIENT: usize = 2_000;
/// The Accept header `kubectl get` sends.
const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// One request a case repeats; `i` numbers the requests of one client.
#[derive(Clone, Copy)]
enum Case {
    GetOne,
    ListNamespace,
    ListAll,
    ListAllTable,
    PageTable,
    Create,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::GetOne => "GET one Service",
            Case::ListNamespace => "LIST one namespace (1,000, JSON)",
            Case::ListAll => "LIST all namespaces (10,000, JSON)",
            Case::ListAllTable => "LIST all namespaces (10,000, Table)",
            Case::PageTable => "LIST a page of 500 (Table), as kubectl",
            Case::Create => "POST create Service",
        }
    }

    fn request(
        self,
        client: &reqwest::Client,
        base: &str,
        clients: usize,
        who: usize,
        i: usize,
    ) -> reqwest::RequestBuilder {
        match self {
            Case::GetOne => client.get(format!("{base}/api/v1/namespaces/ns-3/services/svc-3-{}", (who + i) % 1000)),
            Case::ListNamespace => client.get(format!("{base}/api/v1/namespaces/ns-3/services")),
            Case::ListAll => client.get(format!("{base}/api/v1/services")),
            Case::ListAllTable => client.get(format!("{base}/api/v1/services")).header(ACCEPT, TABLE_ACCEPT),
            // `kubectl get svc -A`'s first page (its default --chunk-size).
            Case::PageTable => client.get(format!("{base}/api/v1/services?limit=500")).header(ACCEPT, TABLE_ACCEPT),
            Case::Create => client
                .post(format!("{base}/api/v1/namespaces/ns-{}/services", i % NAMESPACES))
                .header(CONTENT_TYPE, "application/json")
                .body(
                    json!({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": format!("bench-{clients}-{who}-{i}"), "labels": {"app": "bench"}},
                        "spec": {"selector": {"app": "bench"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
                    .to_string(),
                ),
        }
    }

    fn expected(self) -> reqwest::StatusCode {
        match self {
            Case::Create => reqwest::StatusCode::CREATED,
            _ => reqwest::StatusCode::OK,
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Stores `STORED_SERVICES` ClusterIP Services through the registry, `NAMESPACES` namespaces
/// of `svc-<ns>-<i>`.
async fn seed(state: &service_console::AppState) {
    let registry = &state.registry;
    let namespaces = kind_by_plural("namespaces").expect("namespaces are served");
    for ns in 0..NAMESPACES {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("ns-{ns}")}});
        registry
            .create(namespaces, "", &body, &WriteOptions::default())
            .await
            .expect("create namespace");
    }
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..SEED_WRITERS {
        let (registry, next) = (registry.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= STORED_SERVICES {
                    return;
                }
                let (ns, i) = (n % NAMESPACES, n / NAMESPACES);
                let body = json!({"metadata": {"name": format!("svc-{ns}-{i}"), "labels": {"app": format!("web-{i}"), "tier": "web"}},
                    "spec": {"selector": {"app": format!("web-{i}")},
                        "ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443, "targetPort": 8443}]}});
                registry.create_service(&format!("ns-{ns}"), &body, &WriteOptions::default()).await.expect("create service");
            }
        }));
    }
    for t in tasks {
        t.await.expect("seed task");
    }
    println!(
        "seeded {STORED_SERVICES} Services in {NAMESPACES} namespaces in {:.1} s ({SEED_WRITERS} registry writers)",
        start.elapsed().as_secs_f64()
    );
}

/// Runs `case` with `clients` concurrent keep-alive clients; prints requests/s and latencies.
async fn run(base: &str, case: Case, clients: usize) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(CASE_SECS);
    let mut tasks = Vec::new();
    for who in 0..clients {
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("http client");
            let mut latencies = Vec::new();
            let mut bytes = 0;
            // Every client sends at least one request, however slow the case.
            for i in 0..MAX_REQUESTS_PER_CLIENT {
                if i > 0 && Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                let response = case
                    .request(&client, &base, clients, who, i)
                    .send()
                    .await
                    .expect("request");
                let status = response.status();
                let body = response.bytes().await.expect("response body");
                latencies.push(t.elapsed());
                assert_eq!(
                    status,
                    case.expected(),
                    "{}: {}",
                    case.label(),
                    String::from_utf8_lossy(&body)
                );
                bytes = body.len();
            }
            (latencies, bytes)
        }));
    }
    let mut latencies = Vec::new();
    let mut bytes = 0;
    for t in tasks {
        let (l, b) = t.await.expect("client task");
        latencies.extend(l);
        bytes = b;
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let size = match case {
        Case::ListAll | Case::ListAllTable | Case::PageTable => {
            format!("; response {:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
        }
        _ => String::new(),
    };
    println!(
        "{:<38} {clients:>2} client(s): {:>6} requests in {:.2} s = {:>7.1} req/s; latency p50 {:>8.2} ms, p99 {:>8.2} ms{size}",
        case.label(),
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
}

async fn bench() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The default /20 has only 4094 addresses; 10,000 ClusterIPs need a bigger range.
    let pools = Pools {
        service_cidr: ServiceCidr::parse("10.96.0.0/12").expect("cidr"),
        node_ports: PortRange::DEFAULT,
    };
    let state = open_state(dir.path(), pools).await.expect("open store");
    seed(&state).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let app = service_console::app(state);
    tokio::spawn(async move {
        axum::serve(listener, tower::make::Shared::new(app))
            .await
            .expect("serve")
    });
    // Sanity check and the sizes of the list responses, once.
    let client = reqwest::Client::new();
    let list: Value = client
        .get(format!("{base}/api/v1/services"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    let items = list["items"].as_array().map_or(0, Vec::len);
    assert!(
        items > STORED_SERVICES,
        "list all returns every Service (and kubernetes): {items}"
    );
    for case in [
        Case::GetOne,
        Case::ListNamespace,
        Case::ListAll,
        Case::ListAllTable,
        Case::PageTable,
        Case::Create,
    ] {
        for clients in [1, 16] {
            run(&base, case, clients).await;
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(bench());
}
