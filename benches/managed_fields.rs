//! Managed-fields benchmarks: recording `metadata.managedFields` for the writes of a create
//! storm (`service_plan::apply::record_update`), a part of every write's CPU that this
//! machine's end-to-end runs are too noisy to show. Single-threaded and without I/O, so that a
//! change of a few percent shows.
//!
//! Run with `cargo bench --bench managed_fields`. Prints one line per figure: the median of
//! several rounds, in microseconds per write.

use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};
use service_plan::apply::{UpdateWrite, record_update};

const WRITES_PER_ROUND: u32 = 20_000;
const ROUNDS: usize = 7;

/// The Service of `create-vs-etcd.sh`, as the registry records it on create.
fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {
            "annotations": {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet"},
            "creationTimestamp": "2026-12-06T18:10:22Z",
            "labels": {"app": "bench", "tier": "web"},
            "name": "bench-1", "namespace": "default",
            "uid": "7cce54ab-8935-4644-8d78-32a618324851"
        },
        "spec": {
            "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"],
            "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}
            ],
            "selector": {"app": "bench"}, "sessionAffinity": "None", "type": "ClusterIP"
        }
    })
}

/// The EndpointSlice the endpoints controller creates for that Service.
fn endpoint_slice() -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "addressType": "IPv4", "endpoints": [],
        "metadata": {
            "generateName": "bench-1-",
            "labels": {
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                "kubernetes.io/service-name": "bench-1"
            },
            "name": "bench-1-tp8xr", "namespace": "default",
            "ownerReferences": [{
                "apiVersion": "v1", "blockOwnerDeletion": true, "controller": true,
                "kind": "Service", "name": "bench-1",
                "uid": "7cce54ab-8935-4644-8d78-32a618324851"
            }],
            "uid": "b33c445e-75fa-48ab-81d5-5e7dfcd41b55",
            "creationTimestamp": "2026-12-06T18:19:44Z"
        }
    })
}

/// Median microseconds per `record_update` of `request` over `live`. The copies it writes
/// into are made before the clock starts; dropping each after its write is timed, as a write
/// drops its object once stored.
fn bench(name: &str, live: Option<&Value>, request: &Value, manager: &str, now: &Time) {
    let mut rounds = Vec::with_capacity(ROUNDS);
    let mut recorded = 0;
    for _ in 0..ROUNDS {
        let copies: Vec<Value> = (0..WRITES_PER_ROUND).map(|_| request.clone()).collect();
        let start = Instant::now();
        for mut new in copies {
            let write = UpdateWrite {
                live,
                request,
                manager,
                subresource: None,
                now,
            };
            record_update(&write, &mut new);
            recorded += usize::from(new["metadata"]["managedFields"].is_array());
            std::hint::black_box(new);
        }
        rounds.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(WRITES_PER_ROUND));
    }
    assert_eq!(
        recorded,
        ROUNDS * WRITES_PER_ROUND as usize,
        "every write records its managed fields"
    );
    rounds.sort_by(f64::total_cmp);
    println!(
        "managed fields, {name}: {:.2} µs per write (median of {ROUNDS} rounds of {WRITES_PER_ROUND})",
        rounds[ROUNDS / 2]
    );
}

fn main() {
    let now: Time = Time("2026-12-06T18:10:22Z".parse().expect("a timestamp"));
    let service = service();
    bench("create a Service", None, &service, "kubectl-create", &now);
    bench(
        "create an EndpointSlice",
        None,
        &endpoint_slice(),
        "endpointslice-controller",
        &now,
    );
    // An update that changes one label of a Service whose create was recorded.
    let mut stored = service.clone();
    record_update(
        &UpdateWrite {
            live: None,
            request: &service,
            manager: "kubectl-create",
            subresource: None,
            now: &now,
        },
        &mut stored,
    );
    let mut updated = stored.clone();
    updated["metadata"]["labels"]["tier"] = json!("api");
    bench(
        "update a Service's label",
        Some(&stored),
        &updated,
        "kubectl-edit",
        &now,
    );
}
