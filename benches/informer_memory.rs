//! What the informer caches cost per object: the resident set growth of filling the Service,
//! Endpoints and EndpointSlice informers with `BENCH_SERVICES` (default 20,000) Services of
//! about 1.5 KB each (as `kubectl apply` leaves them: last-applied annotation, managedFields)
//! and one Endpoints and one EndpointSlice per Service. In the server an informer shares the
//! store's compressed copy of each object; here nothing else holds the events' copies, so the
//! figure is that copy plus the informer's keys and indexes.
//!
//! Then the list the informers start from: `BENCH_SERVICES` Services created through the
//! registry into a durable SQLite store, listed into informers (`Informers::snapshot`): the
//! resident set after and its peak while listing.
//!
//! Run with `cargo bench --bench informer_memory`. Prints one line per figure;
//! `BENCH_ONLY=list` (or `fill`) runs one part, so that the other's freed memory, which the
//! allocator may keep, does not hide growth.
//! The bench uses the server's allocator (jemalloc), so the figures are the server's.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use service_console::controllers::informer::{Informer, Informers};
use service_console::registry::WriteOptions;
use service_console::server::open_state;
use service_console::store::{Encoded, Event, EventType, ObjectKey};
use service_plan::alloc::{Pools, PortRange, ServiceCidr};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const SERVICES: usize = 20_000;

/// The process's resident set, in bytes, from `/proc/self/status`.
fn rss() -> usize {
    status_bytes("VmRSS:")
}

/// A size field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn managed_fields(manager: &str, operation: &str, subresource: Option<&str>) -> Value {
    let mut entry = json!({
        "manager": manager, "operation": operation, "apiVersion": "v1",
        "time": "2026-12-04T23:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
                                    "f:labels": {".": {}, "f:app": {}, "f:tier": {}}},
                     "f:spec": {"f:internalTrafficPolicy": {}, "f:ports": {".": {}, "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}},
                                "f:selector": {}, "f:sessionAffinity": {}, "f:type": {}}},
    });
    if let Some(s) = subresource {
        entry["subresource"] = json!(s);
    }
    entry
}

fn service(i: usize) -> Value {
    let name = format!("web-{i:05}");
    let applied = format!(
        r#"{{"apiVersion":"v1","kind":"Service","metadata":{{"annotations":{{}},"labels":{{"app":"{name}","tier":"frontend"}},"name":"{name}","namespace":"default"}},"spec":{{"ports":[{{"name":"http","port":80,"protocol":"TCP","targetPort":8080}}],"selector":{{"app":"{name}"}}}}}}"#
    );
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {
            "name": name, "namespace": "default",
            "uid": format!("0b6c8f4e-1d2a-4c3b-9e8f-{i:012}"),
            "resourceVersion": (i + 1).to_string(),
            "creationTimestamp": "2026-12-04T23:00:00Z",
            "labels": {"app": name, "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied},
            "managedFields": [managed_fields("kubectl-client-side-apply", "Update", None)],
        },
        "spec": {
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}],
            "selector": {"app": name},
            "clusterIP": format!("10.96.{}.{}", i >> 8, i & 255),
            "clusterIPs": [format!("10.96.{}.{}", i >> 8, i & 255)],
            "type": "ClusterIP", "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {}},
    })
}

fn endpoints(i: usize) -> Value {
    let name = format!("web-{i:05}");
    json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {
            "name": name, "namespace": "default",
            "uid": format!("1c7d9f5a-2e3b-4d4c-8f9a-{i:012}"),
            "resourceVersion": (i + 1).to_string(),
            "creationTimestamp": "2026-12-04T23:00:00Z",
            "labels": {"app": name, "tier": "frontend"},
            "managedFields": [managed_fields("endpoint-controller", "Update", None)],
        },
        "subsets": [{
            "addresses": [
                {"ip": format!("10.244.{}.{}", i >> 8, i & 255), "nodeName": "node-1",
                 "targetRef": {"kind": "Pod", "namespace": "default", "name": format!("{name}-7d4b9c6f5-abcde"), "uid": format!("2d8e0a6b-3f4c-4e5d-9a0b-{i:012}")}},
            ],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        }],
    })
}

fn slice(i: usize) -> Value {
    let name = format!("web-{i:05}");
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {
            "name": format!("{name}-x7k2p"), "namespace": "default",
            "generateName": format!("{name}-"),
            "uid": format!("3e9f1b7c-4a5d-4f6e-8b1c-{i:012}"),
            "resourceVersion": (i + 1).to_string(),
            "creationTimestamp": "2026-12-04T23:00:00Z",
            "labels": {"app": name, "tier": "frontend",
                       "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                       "kubernetes.io/service-name": name},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                                 "uid": format!("0b6c8f4e-1d2a-4c3b-9e8f-{i:012}"),
                                 "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [managed_fields("endpointslice-controller.k8s.io", "Update", None)],
        },
        "addressType": "IPv4",
        "endpoints": [{
            "addresses": [format!("10.244.{}.{}", i >> 8, i & 255)],
            "conditions": {"ready": true, "serving": true, "terminating": false},
            "nodeName": "node-1", "zone": "zone-a",
            "targetRef": {"kind": "Pod", "namespace": "default", "name": format!("{name}-7d4b9c6f5-abcde"), "uid": format!("2d8e0a6b-3f4c-4e5d-9a0b-{i:012}")},
        }],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    })
}

/// Fills `informer` with `count` objects made by `make`, one event at a time (so only the
/// cache grows); returns the resident set growth in bytes and the mean object size.
fn fill(informer: &Informer, count: usize, make: fn(usize) -> Value) -> (usize, usize) {
    let mut text = 0;
    let before = rss();
    for i in 0..count {
        let object = make(i);
        text += serde_json::to_string(&object).map_or(0, |s| s.len());
        let key = ObjectKey::new(
            informer.resource(),
            "default",
            object["metadata"]["name"].as_str().unwrap_or_default(),
        );
        informer.apply(Event {
            revision: i as i64 + 1,
            event_type: EventType::Added,
            key,
            object: Arc::new(Encoded::new("", i as i64 + 1, &object.to_string())),
        });
    }
    (rss().saturating_sub(before), text / count.max(1))
}

const WRITERS: usize = 16;

/// Creates `count` Services through the registry, then lists them into informers.
async fn bench_list(count: usize) {
    let pools = Pools {
        service_cidr: ServiceCidr::parse("10.96.0.0/12").expect("cidr"),
        node_ports: PortRange::DEFAULT,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let state = open_state(dir.path(), pools).await.expect("open store");
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let registry = state.registry.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..count).step_by(WRITERS) {
                let mut body = service(i);
                for field in [
                    "uid",
                    "resourceVersion",
                    "creationTimestamp",
                    "managedFields",
                ] {
                    if let Some(meta) = body["metadata"].as_object_mut() {
                        meta.shift_remove(field);
                    }
                }
                if let Some(spec) = body["spec"].as_object_mut() {
                    spec.shift_remove("clusterIP");
                    spec.shift_remove("clusterIPs");
                }
                registry
                    .create_service("default", &body, &WriteOptions::default())
                    .await
                    .expect("create");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let (before, peak_before) = (rss(), status_bytes("VmHWM:"));
    let start = Instant::now();
    let informers = Informers::snapshot(&state.registry).await.expect("list");
    let listed = start.elapsed();
    let (after, peak) = (rss(), status_bytes("VmHWM:"));
    let peak_note = if peak > peak_before {
        format!("peak +{:.1} MiB", (peak - before) as f64 / (1 << 20) as f64)
    } else {
        "no new peak".to_string()
    };
    println!(
        "informer memory: {} Services listed from the store into informers in {:.2} s: RSS +{:.1} MiB after ({} B per Service), {peak_note} while listing",
        informers.services.len(),
        listed.as_secs_f64(),
        after.saturating_sub(before) as f64 / (1 << 20) as f64,
        after.saturating_sub(before) / count.max(1),
    );
}

fn main() {
    let count = std::env::var("BENCH_SERVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SERVICES);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only != "list" {
        bench_fill(count);
    }
    if only != "fill" {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(bench_list(count));
    }
}

/// Fills the informers from events, one resource after the other.
fn bench_fill(count: usize) {
    let informers = Informers::new();
    let start = Instant::now();
    let mut total = 0;
    for (informer, make) in [
        (&informers.services, service as fn(usize) -> Value),
        (&informers.endpoints, endpoints),
        (&informers.endpoint_slices, slice),
    ] {
        let (grown, size) = fill(informer, count, make);
        total += grown;
        println!(
            "informer memory: {count} {} of {size} B JSON each: RSS +{:.1} MiB, {} B per cached object",
            informer.resource(),
            grown as f64 / (1 << 20) as f64,
            grown / count.max(1),
        );
    }
    println!(
        "informer memory: {count} Services with their Endpoints and EndpointSlices: RSS +{:.1} MiB ({} B per Service), filled in {:.2} s; {:.0} MiB at 30,000 Services",
        total as f64 / (1 << 20) as f64,
        total / count.max(1),
        start.elapsed().as_secs_f64(),
        (total / count.max(1) * 30_000) as f64 / (1 << 20) as f64,
    );
}
