//! Controller machinery benchmarks: the work queue, an indexed Pod informer, every node read
//! as a reconcile reads them, and the controllers catching up after a storm of Service
//! creates on a durable SQLite store.
//!
//! Run with `cargo bench --bench controllers` (`BENCH_SERVICES` sets the storm's size).
//! Prints one line per figure.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;
use service_console::controllers::informer::{
    Informers, NodeView, PODS_BY_LABEL, label_term, typed,
};
use service_console::controllers::queue::{DEFAULT_CAPACITY, WorkQueue};
use service_console::controllers::{ControllerOptions, start_controllers};
use service_console::registry::WriteOptions;
use service_console::server::open_state;
use service_console::store::{Encoded, Event, EventType, ObjectKey};
use service_plan::alloc::{Pools, PortRange, ServiceCidr};

const QUEUE_KEYS: u64 = 200_000;
const INFORMER_PODS: usize = 100_000;
const APPS: usize = 1_000;
/// Each lookup decodes the pods it selects, so fewer than there are pods.
const LOOKUPS: usize = 10_000;
const NODES: usize = 1_000;
/// Each read takes every node, so far fewer than the pod lookups.
const NODE_READS: usize = 200;
const STORM_SERVICES: usize = 3_000;
const STORM_WRITERS: usize = 16;
const SETTLE_DEADLINE: Duration = Duration::from_secs(600);

fn rate(count: f64, elapsed: Duration) -> f64 {
    count / elapsed.as_secs_f64()
}

async fn bench_queue() {
    let queue: Arc<WorkQueue<u64>> = WorkQueue::new(DEFAULT_CAPACITY);
    let processed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..2 {
        let (queue, processed) = (Arc::clone(&queue), Arc::clone(&processed));
        workers.push(tokio::spawn(async move {
            while let Some(key) = queue.get().await {
                processed.fetch_add(1, Ordering::Relaxed);
                queue.done(&key);
            }
        }));
    }
    let start = Instant::now();
    // Every key twice: the second add finds it waiting (or held) and costs a lookup.
    for key in 0..QUEUE_KEYS {
        queue.add(key).await;
        queue.add(key).await;
    }
    while !queue.is_idle() {
        tokio::task::yield_now().await;
    }
    let elapsed = start.elapsed();
    queue.shut_down();
    for w in workers {
        w.await.expect("worker");
    }
    let done = processed.load(Ordering::Relaxed);
    println!(
        "queue: {} adds of {QUEUE_KEYS} keys, {done} handed out to 2 workers, in {:.3} s ({:.0} adds/s)",
        2 * QUEUE_KEYS,
        elapsed.as_secs_f64(),
        rate((2 * QUEUE_KEYS) as f64, elapsed)
    );
}

fn pod_event(revision: i64, i: usize, app: usize, event_type: EventType) -> Event {
    let name = format!("pod-{i}");
    Event {
        revision,
        event_type,
        key: ObjectKey::new("pods", "default", &name),
        object: Arc::new(Encoded::new(
            "",
            revision,
            json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "default", "name": name,
                         "labels": {"app": format!("app-{app}"), "pod-template-hash": "abcde12345"},
                         "resourceVersion": revision.to_string()},
            "spec": {"nodeName": format!("node-{}", i % 50), "containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": "Running", "podIP": format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)},
        })
            .to_string()
            .as_str(),
        )),
    }
}

fn bench_informer() {
    let informers = Informers::new();
    let pods = &informers.pods;
    let events: Vec<Event> = (0..INFORMER_PODS)
        .map(|i| pod_event(i as i64 + 1, i, i % APPS, EventType::Added))
        .collect();
    let start = Instant::now();
    for e in events {
        pods.apply(e);
    }
    let added = start.elapsed();
    let start = Instant::now();
    let mut found = 0;
    for i in 0..LOOKUPS {
        let terms = [
            label_term("default", "app", &format!("app-{}", i % APPS)),
            label_term("default", "pod-template-hash", "abcde12345"),
        ];
        found += pods.by_all(PODS_BY_LABEL, &terms).len();
    }
    let looked_up = start.elapsed();
    // What the endpoints controller does with a selector: the pods it picks, as the
    // projections the informer keeps (nothing decoded).
    let start = Instant::now();
    let mut typed = 0;
    for i in 0..LOOKUPS {
        let terms = [
            label_term("default", "app", &format!("app-{}", i % APPS)),
            label_term("default", "pod-template-hash", "abcde12345"),
        ];
        typed += pods.by_all_projected::<Pod>(PODS_BY_LABEL, &terms).len();
    }
    let looked_up_typed = start.elapsed();
    let base = INFORMER_PODS as i64;
    let events: Vec<Event> = (0..INFORMER_PODS)
        .map(|i| pod_event(base + i as i64 + 1, i, (i + 1) % APPS, EventType::Modified))
        .collect();
    let start = Instant::now();
    for e in events {
        pods.apply(e);
    }
    let relabelled = start.elapsed();
    println!(
        "informer: {INFORMER_PODS} pod adds with 4 indexes in {:.3} s ({:.0} events/s); relabels {:.0} events/s",
        added.as_secs_f64(),
        rate(INFORMER_PODS as f64, added),
        rate(INFORMER_PODS as f64, relabelled)
    );
    println!(
        "informer: {LOOKUPS} two-term selector lookups over {INFORMER_PODS} pods ({} pods each) in {:.3} s ({:.0} lookups/s)",
        found / LOOKUPS,
        looked_up.as_secs_f64(),
        rate(LOOKUPS as f64, looked_up)
    );
    println!(
        "informer: the same lookups as the pods' endpoints views ({} each) in {:.3} s ({:.0} lookups/s)",
        typed / LOOKUPS,
        looked_up_typed.as_secs_f64(),
        rate(LOOKUPS as f64, looked_up_typed)
    );
}

/// A node as kubelet reports it: addresses, conditions, capacity and the images it holds.
fn node_event(revision: i64, i: usize) -> Event {
    let name = format!("node-{i:04}");
    let images: Vec<_> = (0..20)
        .map(|n| json!({"names": [format!("registry.example.com/team/app-{n}@sha256:{n:064}"), format!("registry.example.com/team/app-{n}:v1.{n}")], "sizeBytes": 123_456_789}))
        .collect();
    let conditions: Vec<_> = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
        .iter()
        .map(|t| json!({"type": t, "status": if *t == "Ready" { "True" } else { "False" }, "lastHeartbeatTime": "2026-12-06T00:00:00Z", "lastTransitionTime": "2026-12-01T00:00:00Z", "reason": "KubeletReady", "message": "kubelet is posting ready status"}))
        .collect();
    let node = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": format!("uid-{i}"), "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": format!("cn-hangzhou-{}", ["h", "i", "k"][i % 3]),
            "node.kubernetes.io/instance-type": "ecs.g7.xlarge"}},
        "spec": {"podCIDR": format!("172.20.{}.0/24", i % 256), "providerID": format!("cn-hangzhou.i-{i:020}")},
        "status": {
            "addresses": [{"type": "InternalIP", "address": format!("192.168.{}.{}", i / 256, i % 256)}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "4", "memory": "16012300Ki", "pods": "64", "ephemeral-storage": "123722704Ki"},
            "allocatable": {"cpu": "3900m", "memory": "13594636Ki", "pods": "64", "ephemeral-storage": "114021653813"},
            "conditions": conditions, "images": images,
            "nodeInfo": {"kubeletVersion": "v1.32.1-aliyun.1", "containerRuntimeVersion": "containerd://1.6.36", "osImage": "Alibaba Cloud Linux 3", "kernelVersion": "5.10.134-18.al8.x86_64", "architecture": "amd64", "operatingSystem": "linux", "machineID": format!("{i:032}"), "systemUUID": format!("{i:032}"), "bootID": format!("{i:032}"), "kubeProxyVersion": "v1.32.1"}
        }
    });
    Event {
        revision,
        event_type: EventType::Added,
        key: ObjectKey::new("nodes", "", name.as_str()),
        object: Arc::new(Encoded::new("", revision, &node.to_string())),
    }
}

/// Every node as a reconcile reads them: decoded from the cache (as before the nodes informer
/// kept a view of each), and as the views.
fn bench_nodes() {
    let informers = Informers::new();
    for i in 0..NODES {
        informers.nodes.apply(node_event(i as i64 + 1, i));
    }
    let start = Instant::now();
    let mut ready = 0;
    for _ in 0..NODE_READS {
        let nodes: Vec<Node> = informers
            .nodes
            .list()
            .iter()
            .filter_map(|n| typed::<Node>(n))
            .collect();
        ready += nodes
            .iter()
            .map(service_console::registry::cluster_node)
            .filter(|n| n.ready)
            .count();
    }
    let decoded = start.elapsed();
    let start = Instant::now();
    let mut ready_views = 0;
    for _ in 0..NODE_READS {
        let nodes: Vec<Arc<NodeView>> = informers.nodes.list_projected();
        ready_views += nodes
            .iter()
            .map(|n| n.node.clone())
            .filter(|n| n.ready)
            .count();
    }
    let viewed = start.elapsed();
    assert_eq!(
        ready, ready_views,
        "the views read the nodes as decoding them does"
    );
    println!(
        "nodes: every one of {NODES} nodes read {NODE_READS} times: decoded {:.2} ms per read, as the nodes' views {:.3} ms per read",
        decoded.as_secs_f64() * 1e3 / NODE_READS as f64,
        viewed.as_secs_f64() * 1e3 / NODE_READS as f64,
    );
}

async fn bench_storm(pools: Pools, services: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = open_state(dir.path(), pools).await.expect("open store");
    let controllers = start_controllers(&state, ControllerOptions { demo: true })
        .await
        .expect("controllers");
    let settle = || async {
        let until = Instant::now() + SETTLE_DEADLINE;
        let mut idle = 0;
        while idle < 2 {
            idle = if controllers.is_idle() { idle + 1 } else { 0 };
            assert!(Instant::now() < until, "controllers did not settle");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    settle().await;
    let before = controllers.stats().endpoints.reconciles();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..STORM_WRITERS {
        let registry = state.registry.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..services).step_by(STORM_WRITERS) {
                let body = json!({
                    "apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": format!("storm-{i}")},
                    "spec": {"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]},
                });
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
    let created = start.elapsed();
    settle().await;
    let total = start.elapsed();
    let endpoints = controllers.informers().endpoints.len();
    println!(
        "storm: {services} Services selecting a 2-pod Deployment, {STORM_WRITERS} writers: created in {:.2} s ({:.0}/s); controllers caught up {:.2} s after the last create; {} endpoints reconciles; {endpoints} Endpoints",
        created.as_secs_f64(),
        rate(services as f64, created),
        (total - created).as_secs_f64(),
        controllers.stats().endpoints.reconciles() - before,
    );
}

fn main() {
    let pools = Pools {
        service_cidr: ServiceCidr::parse("10.96.0.0/12").expect("cidr"),
        node_ports: PortRange::DEFAULT,
    };
    let services = std::env::var("BENCH_SERVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(STORM_SERVICES);
    bench_informer();
    bench_nodes();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(bench_queue());
    runtime.block_on(bench_storm(pools, services));
}
