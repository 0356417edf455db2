//! Three `service-console serve` processes on one PostgreSQL database, as replicas behind a
//! load balancer run: a change through one is watched on another within a second, concurrent
//! creators on all three never get one ClusterIP or node port twice, concurrent updates lose
//! nothing (the losers get 409), kubectl's walkthrough works against each, and `/readyz`
//! follows the database's reachability without ever logging its password.
//!
//! Controllers run on every replica here (leader election is not part of this suite); every
//! assertion holds whatever they write meanwhile.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};

use crate::support::kubectl::{Kubectl, cells};
use crate::support::postgres::{TestDatabase, test_database};
use crate::support::process::ServerProcess;
use crate::support::proxy::CutOff;

/// Three replicas on one fresh database.
struct Replicas {
    servers: Vec<ServerProcess>,
    _database: TestDatabase,
}

/// `None` skips (no PostgreSQL cluster outside CI).
fn replicas() -> Option<Replicas> {
    let database = test_database()?;
    // The first creates the schema and bootstraps; the others start on it.
    let servers = (0..3)
        .map(|_| ServerProcess::start(&["--database", &database.url, "--no-demo"]))
        .collect();
    Some(Replicas {
        servers,
        _database: database,
    })
}

fn service(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "type": "NodePort",
            "selector": {"app": name},
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP"},
                {"name": "https", "port": 443, "protocol": "TCP"}
            ]
        }
    })
}

const SERVICES: &str = "/api/v1/namespaces/default/services";

async fn post(client: &reqwest::Client, base: &str, body: &Value) -> (u16, Value) {
    send(client.post(format!("{base}{SERVICES}")), body).await
}

async fn send(request: reqwest::RequestBuilder, body: &Value) -> (u16, Value) {
    let response = request
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_create_through_one_replica_is_watched_on_another_within_a_second() {
    let Some(replicas) = replicas() else {
        return;
    };
    let Some(on_b) = Kubectl::for_server(&replicas.servers[1].url) else {
        return;
    };
    let mut watch = on_b.spawn(&["get", "services", "--watch"]);
    // The watch is established once its initial list has printed.
    watch
        .wait_for("the kubernetes Service", |line| {
            line.starts_with("kubernetes ")
        })
        .await;

    let client = reqwest::Client::new();
    let started = Instant::now();
    let (status, created) = post(&client, &replicas.servers[0].url, &service("web")).await;
    assert_eq!(status, 201, "{created}");
    let line = watch.wait_for("web", |line| line.starts_with("web ")).await;
    let elapsed = started.elapsed();

    assert!(
        elapsed < Duration::from_secs(1),
        "seen on b after {elapsed:?}"
    );
    let row = cells(&line);
    assert_eq!(row[1], "NodePort", "{line}");
    assert_eq!(Some(row[2].as_str()), created["spec"]["clusterIP"].as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creators_on_three_replicas_never_double_allocate() {
    let Some(replicas) = replicas() else {
        return;
    };
    let client = reqwest::Client::new();
    let creates = replicas.servers.iter().enumerate().flat_map(|(r, server)| {
        let client = client.clone();
        (0..16).map(move |i| {
            let (client, url) = (client.clone(), server.url.clone());
            async move { post(&client, &url, &service(&format!("r{r}-s{i}"))).await }
        })
    });
    let results = join_all(creates).await;

    for (status, body) in &results {
        assert_eq!(*status, 201, "{body}");
    }
    let mut ips = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for (_, body) in &results {
        let ip = body["spec"]["clusterIP"].as_str().expect("a ClusterIP");
        assert!(ips.insert(ip.to_owned()), "ClusterIP {ip} handed out twice");
        for port in body["spec"]["ports"].as_array().expect("ports") {
            let node_port = port["nodePort"].as_i64().expect("a node port");
            assert!(
                ports.insert(node_port),
                "node port {node_port} handed out twice"
            );
        }
    }
    assert_eq!((ips.len(), ports.len()), (48, 96));
    // Every replica lists the same 48 Services with the same allocations.
    for server in &replicas.servers {
        let (status, list) = get(&client, &format!("{}{SERVICES}", server.url)).await;
        assert_eq!(status, 200);
        let listed: BTreeSet<String> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|s| s["metadata"]["name"] != "kubernetes")
            .map(|s| s["spec"]["clusterIP"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(listed, ips, "{}", server.url);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_across_replicas_lose_nothing_and_losers_get_409() {
    let Some(replicas) = replicas() else {
        return;
    };
    let client = reqwest::Client::new();
    let (status, created) = post(&client, &replicas.servers[0].url, &service("shared")).await;
    assert_eq!(status, 201, "{created}");
    let path = format!("{SERVICES}/shared");

    // The same stale version through two replicas: exactly one wins.
    let mut stale = created.clone();
    stale["metadata"]["labels"] = json!({"first": "a"});
    let first = send(
        client.put(format!("{}{path}", replicas.servers[1].url)),
        &stale,
    )
    .await;
    stale["metadata"]["labels"] = json!({"first": "b"});
    let second = send(
        client.put(format!("{}{path}", replicas.servers[2].url)),
        &stale,
    )
    .await;
    assert_eq!((first.0, second.0), (200, 409), "{second:?}");
    assert_eq!(second.1["reason"], "Conflict");

    // 3 × 8 writers, each adding its own annotation with read-modify-write: every loser
    // gets 409, reads again and retries; in the end no annotation is missing.
    let writers = replicas.servers.iter().enumerate().flat_map(|(r, server)| {
        let (client, path) = (client.clone(), path.clone());
        (0..8).map(move |i| {
            let (client, url) = (client.clone(), format!("{}{path}", server.url));
            async move {
                let mut conflicts = 0;
                loop {
                    let (_, mut current) = get(&client, &url).await;
                    current["metadata"]["annotations"][format!("writer-{r}-{i}")] = json!("done");
                    let (status, body) = send(client.put(&url), &current).await;
                    match status {
                        200 => return conflicts,
                        409 => conflicts += 1,
                        other => panic!("PUT answered {other}: {body}"),
                    }
                }
            }
        })
    });
    let conflicts: usize = join_all(writers).await.into_iter().sum();

    for server in &replicas.servers {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (_, current) = get(&client, &format!("{}{path}", server.url)).await;
            let annotations = current["metadata"]["annotations"]
                .as_object()
                .map_or(0, |a| a.keys().filter(|k| k.starts_with("writer-")).count());
            if annotations == 24 {
                break;
            }
            assert!(Instant::now() < deadline, "{}: {current}", server.url);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    eprintln!("{conflicts} conflicts among 24 concurrent writers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kubectl_walkthrough_works_against_each_replica() {
    let Some(replicas) = replicas() else {
        return;
    };
    let mut clients = Vec::new();
    for server in &replicas.servers {
        let Some(kubectl) = Kubectl::for_server(&server.url) else {
            return;
        };
        clients.push(kubectl);
    }
    for (r, kubectl) in clients.iter().enumerate() {
        let name = format!("my-nginx-svc-{r}");
        let next = &clients[(r + 1) % clients.len()];
        let manifest = kubectl.write(
            "svc.yaml",
            &format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: default\n  \
                 labels:\n    app: nginx\nspec:\n  type: LoadBalancer\n  selector:\n    app: nginx\n  \
                 ports:\n  - port: 80\n    protocol: TCP\n    targetPort: 80\n"
            ),
        );
        let manifest = manifest.to_str().expect("UTF-8 path");

        kubectl
            .run(&["apply", "-f", manifest])
            .await
            .assert_ok(&format!("service/{name} created\n"));
        // Read through the next replica at once: a read without resourceVersion is consistent.
        next.run(&["get", "service", &name, "-o", "name"])
            .await
            .assert_ok(&format!("service/{name}\n"));
        kubectl
            .run(&["apply", "-f", manifest])
            .await
            .assert_ok(&format!("service/{name} unchanged\n"));
        kubectl
            .run(&[
                "patch",
                "service",
                &name,
                "--type=merge",
                "-p",
                r#"{"metadata":{"labels":{"tier":"web"}}}"#,
            ])
            .await
            .assert_ok(&format!("service/{name} patched\n"));
        next.run(&[
            "get",
            "service",
            &name,
            "-o",
            "jsonpath={.metadata.labels.tier}",
        ])
        .await
        .assert_ok("web");
        kubectl
            .run(&["delete", "service", &name])
            .await
            .assert_ok(&format!("service \"{name}\" deleted\n"));
        next.run(&["get", "service", &name, "-o", "name"])
            .await
            .assert_err(&format!(
                "Error from server (NotFound): services \"{name}\" not found\n"
            ));
    }
}

fn ready(server: &ServerProcess) -> bool {
    server
        .get("/readyz")
        .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
}

fn wait_until(what: &str, limit: Duration, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readyz_follows_the_database_and_the_password_is_never_logged() {
    let Some(database) = test_database() else {
        return;
    };
    // host:port of the test database, behind the proxy; the password is one the cluster
    // (trust authentication) ignores, so only this test knows it.
    let authority = database
        .url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|authority| authority.rsplit('@').next())
        .expect("host:port in the URL")
        .to_owned();
    let name = database.url.rsplit('/').next().expect("database name");
    let proxy = CutOff::start(authority).await;
    let password = "pw-8c1f0e-never-logged";
    let url = format!(
        "postgres://postgres:{password}@127.0.0.1:{}/{name}",
        proxy.port
    );
    let server = ServerProcess::start(&["--database", &url, "--no-demo"]);

    proxy.cut();
    let cut = Instant::now();
    wait_until(
        "unready once the database is unreachable",
        Duration::from_secs(10),
        || !ready(&server),
    );
    let unready_after = cut.elapsed();
    // The tailer notices too (its reads time out), and keeps the replica unready.
    wait_until(
        "the tailer reports the outage",
        Duration::from_secs(10),
        || server.log().contains("reading the event log failed"),
    );
    assert!(!ready(&server));
    proxy.restore();
    wait_until(
        "ready again once it is back",
        Duration::from_secs(10),
        || ready(&server),
    );
    let client = reqwest::Client::new();
    let (status, body) = post(&client, &server.url, &service("after-outage")).await;

    let log = server.log();
    assert!(unready_after < Duration::from_secs(5), "{unready_after:?}");
    assert_eq!(status, 201, "{body}\n{log}");
    assert!(log.contains("the database is reachable again"), "{log}");
    assert!(!log.contains(password), "{log}");
}
