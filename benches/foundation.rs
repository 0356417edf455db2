//! Foundation benchmarks: `validate` throughput and registry creates on a durable SQLite store.
//!
//! Run with `cargo bench --bench foundation`. Prints one line per figure.

use std::time::{Duration, Instant};

use serde_json::json;
use service_console::cli::validate::{Outcome, validate_document};
use service_console::manifest::parse_documents;
use service_console::registry::WriteOptions;
use service_console::server::open_state;
use service_plan::alloc::{Pools, PortRange, ServiceCidr};

const VALIDATE_SERVICES: usize = 10_000;
const CREATES_PER_RUN: usize = 2_000;

fn manifest(count: usize) -> String {
    let mut text = String::new();
    for i in 0..count {
        let kind = ["ClusterIP", "NodePort", "LoadBalancer"][i % 3];
        text.push_str(&format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  labels:\n    app: web-{i}\nspec:\n  type: {kind}\n  selector:\n    app: web-{i}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n  - name: https\n    port: 443\n    targetPort: 8443\n---\n"
        ));
    }
    text
}

fn bench_validate(pools: &Pools) {
    let text = manifest(VALIDATE_SERVICES);
    let start = Instant::now();
    let docs = parse_documents(&text).expect("manifest parses");
    let parsed = start.elapsed();
    let mut valid = 0;
    for doc in &docs {
        if let Outcome::Valid(_) = validate_document(doc, pools, "bench.yaml") {
            valid += 1;
        }
    }
    let total = start.elapsed();
    assert_eq!(valid, VALIDATE_SERVICES, "every generated Service is valid");
    println!(
        "validate: {VALIDATE_SERVICES} Services from one {} KiB file in {:.3} s ({:.0} Services/s; YAML parsing {:.3} s of it)",
        text.len() / 1024,
        total.as_secs_f64(),
        VALIDATE_SERVICES as f64 / total.as_secs_f64(),
        parsed.as_secs_f64()
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn bench_creates(pools: Pools, writers: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = open_state(dir.path(), pools).await.expect("open store");
    let per_writer = CREATES_PER_RUN / writers;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let registry = state.registry.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_writer);
            for i in 0..per_writer {
                let body = json!({"metadata": {"name": format!("w{w}-s{i}")},
                    "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
                let t = Instant::now();
                registry.create_service("default", &body, &WriteOptions::default()).await.expect("create");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("writer task"));
    }
    let elapsed = start.elapsed();
    latencies.sort();
    println!(
        "registry create, {writers:>2} writer(s): {} creates in {:.2} s = {:.0} creates/s; latency p50 {:.2} ms, p99 {:.2} ms (durable SQLite, synchronous=FULL)",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
}

/// Recording the managed fields of a create, for the three objects a Service create writes (the
/// Service, then its Endpoints and EndpointSlice, as their controllers write them).
fn bench_record_create() {
    const ROUNDS: usize = 20_000;
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now());
    let objects = [
        (
            "kubectl-create",
            json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "bench", "tier": "web"},
                "annotations": {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet"}},
            "spec": {"selector": {"app": "bench"}, "type": "ClusterIP", "sessionAffinity": "None",
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                          {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}]}}),
        ),
        (
            "endpoint-controller",
            json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "bench", "tier": "web"}}}),
        ),
        (
            "endpointslice-controller",
            json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-abcde", "namespace": "default", "generateName": "web-",
                "labels": {"app": "bench", "tier": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    "kubernetes.io/service-name": "web"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web", "uid": "u",
                    "controller": true, "blockOwnerDeletion": true}]},
            "addressType": "IPv4", "endpoints": null,
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "https", "port": 8443, "protocol": "TCP"}]}),
        ),
    ];
    // The best of five runs: this machine's other load only ever adds time.
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..ROUNDS / 5 {
            for (manager, request) in &objects {
                let mut new = request.clone();
                let write = service_plan::apply::UpdateWrite {
                    live: None,
                    request,
                    manager,
                    subresource: None,
                    now: &now,
                };
                service_plan::apply::record_update(&write, &mut new);
                assert!(new["metadata"]["managedFields"].is_array());
            }
        }
        best = best.min(start.elapsed().as_secs_f64() / (ROUNDS / 5 * objects.len()) as f64);
    }
    println!(
        "managed fields of a create: {:.2} µs per object (a Service, its Endpoints and its EndpointSlice; best of 5 runs of {} rounds)",
        best * 1e6,
        ROUNDS / 5
    );
}

fn main() {
    bench_record_create();
    let pools = Pools {
        service_cidr: ServiceCidr::parse("10.96.0.0/12").expect("cidr"),
        node_ports: PortRange::DEFAULT,
    };
    bench_validate(&pools);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    for writers in [1, 16] {
        runtime.block_on(bench_creates(pools, writers));
    }
}
