//! coordination.k8s.io/v1 Leases through kubectl, and the controllers' leader election over
//! the Lease kube-system/kube-controller-manager: held by a serving replica and renewed,
//! released on SIGTERM, taken over by another candidate when its holder stops or dies.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_console::controllers::ControllerOptions;
use service_console::controllers::leader::LeaderElection;
use service_console::registry::{ClusterSettings, Registry, WriteOptions, kind_by_plural};
use service_plan::lease::election::Timing;

use crate::support::kubectl::{Kubectl, cells};
use crate::support::process::ServerProcess;
use crate::support::{TestCluster, pools};

const LEASE_PATH: &str =
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager";

/// Polls `probe` every 100 ms until it answers, failing after `limit`.
async fn eventually<T>(
    what: &str,
    limit: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn spec(lease: &Value, field: &str) -> Value {
    lease["spec"][field].clone()
}

/// `serve` elects itself at once: `kubectl get leases` shows the server holding the
/// controllers' lease, which it renews every retry period and releases when it stops.
#[tokio::test]
async fn the_serving_replica_holds_and_renews_the_controller_managers_lease() {
    let mut server = ServerProcess::start(&["--no-demo"]);
    let Some(kubectl) = Kubectl::for_server(&server.url) else {
        return;
    };
    let listed = kubectl.run(&["get", "leases", "-n", "kube-system"]).await;
    assert_eq!(
        (listed.code, listed.stderr.as_str()),
        (0, ""),
        "{listed:#?}"
    );
    let lines: Vec<Vec<String>> = listed.stdout.lines().map(cells).collect();
    assert_eq!(lines.len(), 2, "{}", listed.stdout);
    assert_eq!(lines[0], ["NAME", "HOLDER", "AGE"]);
    assert_eq!(lines[1][0], "kube-controller-manager");
    // kube-controller-manager's identity: the host name, `_`, a UUID.
    let holder = lines[1][1].clone();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let (host, uuid) = holder.rsplit_once('_').expect("host_uuid");
    if !hostname.trim().is_empty() {
        assert_eq!(host, hostname.trim());
    }
    assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{holder}");

    let yaml = kubectl
        .run(&[
            "get",
            "lease",
            "kube-controller-manager",
            "-n",
            "kube-system",
            "-o",
            "yaml",
        ])
        .await;
    assert_eq!(yaml.code, 0, "{yaml:#?}");
    let lease: Value = serde_saphyr::from_str(&yaml.stdout).expect("kubectl printed YAML");
    assert_eq!(lease["apiVersion"], "coordination.k8s.io/v1");
    assert_eq!(lease["kind"], "Lease");
    let mut fields: Vec<&str> = lease["spec"]
        .as_object()
        .expect("spec")
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "acquireTime",
            "holderIdentity",
            "leaseDurationSeconds",
            "leaseTransitions",
            "renewTime"
        ]
    );
    assert_eq!(spec(&lease, "holderIdentity"), json!(holder));
    assert_eq!(spec(&lease, "leaseDurationSeconds"), 15);
    assert_eq!(spec(&lease, "leaseTransitions"), 0);
    // MicroTimes: RFC 3339 with six fractional digits.
    let renewed = spec(&lease, "renewTime");
    let micro = renewed.as_str().expect("renewTime");
    assert_eq!(
        (micro.len(), &micro[19..20], &micro[26..]),
        (27, ".", "Z"),
        "{micro}"
    );

    // Renewed every retry period (2 s), by the same holder since the same acquisition.
    let later = eventually("a renewal", Duration::from_secs(10), async || {
        let run = kubectl
            .run(&[
                "get",
                "lease",
                "kube-controller-manager",
                "-n",
                "kube-system",
                "-o",
                "json",
            ])
            .await;
        let now: Value = serde_json::from_str(&run.stdout).ok()?;
        (spec(&now, "renewTime") != renewed).then_some(now)
    })
    .await;
    assert!(spec(&later, "renewTime").as_str() > renewed.as_str());
    assert_eq!(spec(&later, "holderIdentity"), json!(holder));
    assert_eq!(spec(&later, "acquireTime"), spec(&lease, "acquireTime"));
    assert_eq!(spec(&later, "leaseTransitions"), 0);

    // SIGTERM: the leader gives the lease up (client-go's ReleaseOnCancel) on its way out.
    assert!(server.terminate().success());
    assert!(
        server
            .log()
            .contains("successfully acquired lease kube-system/kube-controller-manager")
    );
    assert!(
        server
            .log()
            .contains("released lease kube-system/kube-controller-manager")
    );
    let state = service_console::server::open_state(server.data_dir(), pools())
        .await
        .expect("reopen the data directory");
    let stored = state
        .registry
        .get_raw("leases", "kube-system", "kube-controller-manager")
        .await
        .expect("read")
        .expect("the lease is kept");
    assert_eq!(spec(&stored.object, "holderIdentity"), "");
    assert_eq!(spec(&stored.object, "leaseDurationSeconds"), 1);
    assert_eq!(spec(&stored.object, "leaseTransitions"), 0);
    // Both ends of the leadership are Events about the Lease, as `kubectl describe` lists them.
    let events = state
        .registry
        .list("events", Some("kube-system"), &Default::default())
        .await
        .expect("list events");
    let mut elections: Vec<(String, String, String)> = events
        .items
        .iter()
        .filter(|e| e["reason"] == "LeaderElection")
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                text(&e["involvedObject"]["kind"]),
                text(&e["source"]["component"]),
                text(&e["message"]),
            )
        })
        .collect();
    elections.sort();
    let event = |what: &str| {
        (
            "Lease".to_string(),
            "kube-controller-manager".to_string(),
            format!("{holder} {what}"),
        )
    };
    assert_eq!(
        elections,
        [event("became leader"), event("stopped leading")]
    );
}

/// Without `--leader-elect` there is no lease: the controllers simply run.
#[tokio::test]
async fn without_leader_election_no_lease_is_written() {
    let server = ServerProcess::start(&["--no-demo", "--leader-elect=false"]);
    let Some(kubectl) = Kubectl::for_server(&server.url) else {
        return;
    };
    let listed = kubectl.run(&["get", "leases", "-A"]).await;
    assert_eq!(
        (listed.code, listed.stdout.as_str(), listed.stderr.as_str()),
        (0, "", "No resources found\n")
    );
    assert!(!server.log().contains("leader lease"), "{}", server.log());
}

const LEASE_YAML: &str = "apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: my-lock
  namespace: default
spec:
  holderIdentity: worker-1
  leaseDurationSeconds: 30
  acquireTime: \"2026-11-26T03:53:53.000000Z\"
  renewTime: \"2026-11-26T03:54:00.123456Z\"
  leaseTransitions: 2
";

/// A Lease applied by kubectl round-trips; invalid specs get kube-apiserver's errors.
#[tokio::test]
async fn kubectl_applies_leases_and_gets_upstreams_errors() {
    let Some(kubectl) = Kubectl::start().await else {
        return;
    };
    kubectl.write("lease.yaml", LEASE_YAML);
    kubectl
        .run(&["apply", "-f", "lease.yaml"])
        .await
        .assert_ok("lease.coordination.k8s.io/my-lock created\n");
    let run = kubectl
        .run(&["get", "lease", "my-lock", "-o", "json"])
        .await;
    let lease: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        lease["spec"],
        json!({"holderIdentity": "worker-1", "leaseDurationSeconds": 30,
               "acquireTime": "2026-11-26T03:53:53.000000Z",
               "renewTime": "2026-11-26T03:54:00.123456Z", "leaseTransitions": 2})
    );
    let listed = kubectl.run(&["get", "leases"]).await;
    let rows: Vec<Vec<String>> = listed.stdout.lines().map(cells).collect();
    assert_eq!(rows[0], ["NAME", "HOLDER", "AGE"]);
    assert_eq!(rows[1][..2], ["my-lock", "worker-1"]);
    // Applying it again changes nothing.
    kubectl
        .run(&["apply", "-f", "lease.yaml"])
        .await
        .assert_ok("lease.coordination.k8s.io/my-lock unchanged\n");

    // ValidateLeaseSpec's words, on update and on create.
    kubectl.write(
        "negative.yaml",
        &LEASE_YAML.replace("leaseDurationSeconds: 30", "leaseDurationSeconds: -5"),
    );
    kubectl
        .run(&["apply", "-f", "negative.yaml"])
        .await
        .assert_err("The Lease \"my-lock\" is invalid: spec.leaseDurationSeconds: Invalid value: -5: must be greater than 0\n");
    let both = LEASE_YAML
        .replace("my-lock", "other-lock")
        .replace("leaseDurationSeconds: 30", "leaseDurationSeconds: 0")
        .replace("leaseTransitions: 2", "leaseTransitions: -1");
    kubectl.write("both.yaml", &both);
    kubectl
        .run(&["create", "-f", "both.yaml"])
        .await
        .assert_err(
            "The Lease \"other-lock\" is invalid: \n\
         * spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0\n\
         * spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0\n",
        );
    // Coordinated leader election is alpha and off in v1.32: its fields are dropped.
    let preferred = LEASE_YAML.replace("my-lock", "coordinated").replace(
        "spec:\n",
        "spec:\n  strategy: OldestEmulationVersion\n  preferredHolder: worker-2\n",
    );
    kubectl.write("coordinated.yaml", &preferred);
    kubectl
        .run(&["create", "-f", "coordinated.yaml"])
        .await
        .assert_ok("lease.coordination.k8s.io/coordinated created\n");
    let run = kubectl
        .run(&["get", "lease", "coordinated", "-o", "json"])
        .await;
    let coordinated: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(coordinated["spec"].get("strategy"), None);
    assert_eq!(coordinated["spec"].get("preferredHolder"), None);

    // Lease updates must name the version they replace (AllowUnconditionalUpdate is false);
    // kubectl replace reads it from the server.
    let mut unversioned = lease.clone();
    unversioned["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("resourceVersion");
    let put = reqwest::Client::new()
        .put(format!(
            "{}/apis/coordination.k8s.io/v1/namespaces/default/leases/my-lock",
            kubectl.base_url
        ))
        .json(&unversioned)
        .send()
        .await
        .expect("PUT");
    assert_eq!(put.status().as_u16(), 422);
    let status: Value = put.json().await.expect("Status");
    assert_eq!(
        status["message"],
        "leases.coordination.k8s.io \"my-lock\" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update"
    );
    kubectl.write(
        "renewed.yaml",
        &LEASE_YAML.replace("holderIdentity: worker-1", "holderIdentity: worker-3"),
    );
    kubectl
        .run(&["replace", "-f", "renewed.yaml"])
        .await
        .assert_ok("lease.coordination.k8s.io/my-lock replaced\n");
    // A stale resourceVersion is a Conflict, which is how a candidate learns it lost.
    let put = reqwest::Client::new()
        .put(format!(
            "{}/apis/coordination.k8s.io/v1/namespaces/default/leases/my-lock",
            kubectl.base_url
        ))
        .json(&lease)
        .send()
        .await
        .expect("PUT");
    assert_eq!(put.status().as_u16(), 409);
}

/// A timing short enough for a test: a lease lasts 2 s, renewals every 200 ms.
fn quick_timing() -> Timing {
    Timing {
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_millis(1500),
        retry_period: Duration::from_millis(200),
    }
}

async fn holder(registry: &Registry) -> String {
    let lease = registry
        .get_raw("leases", "kube-system", "kube-controller-manager")
        .await
        .expect("read")
        .expect("lease");
    lease.object["spec"]["holderIdentity"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn endpoints_addresses(registry: &Registry, name: &str) -> Option<usize> {
    let endpoints = registry
        .get_raw("endpoints", "default", name)
        .await
        .ok()??;
    let count = endpoints.object["subsets"]
        .as_array()?
        .iter()
        .filter_map(|s| s["addresses"].as_array())
        .map(Vec::len)
        .sum();
    (count > 0).then_some(count)
}

async fn create_nginx_service(registry: &Registry, name: &str) {
    let services = kind_by_plural("services").expect("services");
    let body = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]},
    });
    registry
        .create(services, "default", &body, &WriteOptions::default())
        .await
        .expect("create the Service");
}

/// Two candidates over one store: only the holder runs controllers; when it dies without
/// releasing, the other takes over once the lease has not changed for its duration, and the
/// endpoints of a Service created meanwhile appear; a graceful stop hands over at once.
#[tokio::test]
async fn a_candidate_takes_over_when_the_leader_dies_or_stops() {
    // The demo cluster (nodes and two nginx pods) is seeded by whoever leads first.
    let cluster = TestCluster::new().await;
    cluster.registry().configure(ClusterSettings::default());
    let options = ControllerOptions { demo: true };
    let a = LeaderElection::start(
        cluster.state.clone(),
        options,
        quick_timing(),
        "replica-a".into(),
    )
    .await;
    let b = LeaderElection::start(
        cluster.state.clone(),
        options,
        quick_timing(),
        "replica-b".into(),
    )
    .await;
    let registry = cluster.registry();
    assert_eq!(holder(registry).await, "replica-a");
    create_nginx_service(registry, "before").await;
    eventually(
        "endpoints from the leader",
        Duration::from_secs(20),
        async || endpoints_addresses(registry, "before").await,
    )
    .await;

    // The leader dies: nobody renews, and nobody runs controllers until the lease expires.
    let died = Instant::now();
    a.abandon();
    create_nginx_service(registry, "meanwhile").await;
    eventually("replica-b leading", Duration::from_secs(20), async || {
        (holder(registry).await == "replica-b").then_some(())
    })
    .await;
    assert!(
        died.elapsed() >= Duration::from_millis(1500),
        "taken over after {:?}, before the lease could expire",
        died.elapsed()
    );
    eventually(
        "endpoints from the new leader",
        Duration::from_secs(20),
        async || endpoints_addresses(registry, "meanwhile").await,
    )
    .await;
    let lease = registry
        .get_raw("leases", "kube-system", "kube-controller-manager")
        .await
        .expect("read")
        .expect("lease");
    assert_eq!(spec(&lease.object, "leaseTransitions"), 1);

    // A graceful stop releases the lease: a third candidate takes it within a few retries,
    // far sooner than a lease duration after the last renewal.
    let c = LeaderElection::start(
        cluster.state.clone(),
        options,
        quick_timing(),
        "replica-c".into(),
    )
    .await;
    assert_eq!(holder(registry).await, "replica-b");
    let stopped = Instant::now();
    b.stop().await;
    eventually("replica-c leading", Duration::from_secs(5), async || {
        (holder(registry).await == "replica-c").then_some(())
    })
    .await;
    assert!(
        stopped.elapsed() < Duration::from_secs(2),
        "{:?}",
        stopped.elapsed()
    );
    c.stop().await;
    assert_eq!(holder(registry).await, "");
}

/// The failover of the issue, across processes: 3 replicas over one PostgreSQL database
/// (`--database`), the leader killed with SIGKILL; another replica holds the lease within
/// 20 s and the endpoints of a Service created meanwhile appear. Runs when
/// a fresh database of the test PostgreSQL cluster can be made (under `CI=true` it must).
#[tokio::test]
async fn replicas_over_one_database_fail_over_when_the_leader_is_killed() {
    let Some(database) = crate::support::postgres::test_database() else {
        return;
    };
    let flags = [
        "--database",
        database.url.as_str(),
        "--leader-elect-lease-duration",
        "15s",
    ];
    let mut replicas: Vec<Option<ServerProcess>> =
        (0..3).map(|_| Some(ServerProcess::start(&flags))).collect();
    let client = reqwest::Client::new();
    let get = async |replica: &ServerProcess, path: &str| -> Option<Value> {
        let response = client
            .get(format!("{}{path}", replica.url))
            .send()
            .await
            .ok()?;
        response.status().is_success().then_some(())?;
        response.json().await.ok()
    };
    let any = |replicas: &[Option<ServerProcess>]| -> usize {
        replicas
            .iter()
            .position(Option::is_some)
            .expect("a live replica")
    };

    // Each replica logs its own identity when it starts campaigning.
    let leader_of = |replicas: &[Option<ServerProcess>], holder: &str| -> Option<usize> {
        replicas.iter().position(|r| {
            r.as_ref().is_some_and(|r| {
                r.log()
                    .lines()
                    .any(|l| l.contains("attempting to acquire leader lease") && l.contains(holder))
            })
        })
    };
    let first = eventually("a leader", Duration::from_secs(20), async || {
        let lease = get(replicas[0].as_ref()?, LEASE_PATH).await?;
        let holder = lease["spec"]["holderIdentity"].as_str()?.to_string();
        (!holder.is_empty()).then_some(holder)
    })
    .await;
    let leader = leader_of(&replicas, &first).expect("the leader is one of the replicas");

    let killed = Instant::now();
    if let Some(mut process) = replicas[leader].take() {
        process.child.kill().expect("SIGKILL the leader");
        let _ = process.child.wait();
    }
    let survivor = replicas[any(&replicas)].as_ref().expect("survivor");
    // The database outlives the test: a name of its own.
    let name = format!(
        "after-failover-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let body = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]},
    });
    let created = client
        .post(format!(
            "{}/api/v1/namespaces/default/services",
            survivor.url
        ))
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status().as_u16(), 201);

    let next = eventually(
        "another replica leading",
        Duration::from_secs(20),
        async || {
            let lease = get(survivor, LEASE_PATH).await?;
            let holder = lease["spec"]["holderIdentity"].as_str()?.to_string();
            (!holder.is_empty() && holder != first).then_some(holder)
        },
    )
    .await;
    assert!(
        killed.elapsed() <= Duration::from_secs(20),
        "taken over after {:?}",
        killed.elapsed()
    );
    assert!(
        leader_of(&replicas, &next).is_some(),
        "{next} is a live replica"
    );
    let path = format!("/api/v1/namespaces/default/endpoints/{name}");
    eventually(
        "endpoints of the Service",
        Duration::from_secs(20),
        async || {
            let endpoints = get(survivor, &path).await?;
            let addresses = endpoints["subsets"][0]["addresses"].as_array()?.len();
            (addresses > 0).then_some(())
        },
    )
    .await;
}
