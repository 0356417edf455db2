//! Console benchmark: the Services list and Details with 100,000 Services in the store, and
//! the checks of a LoadBalancer Service that reuses an SLB instance.
//!
//! Run with `cargo bench --bench console`. Fills a durable SQLite store with a realistic mix of
//! Services (shaped exactly as the registry stores them), then times in-process requests through
//! the whole router and prints one line per figure: p50 and p99 server time over
//! `REQUESTS` requests, and the page weight of the list.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::StreamExt;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use service_console::front::Front;
use service_console::registry::{NewLoadBalancer, WriteOptions};
use service_console::server::open_state;
use service_console::store::{
    Allocation, HistoryNote, ObjectKey, Precondition, Store, Write, WriteOp,
};
use service_plan::alloc::{POOL_NODE_PORTS, POOL_SERVICE_IPS, Pools, PortRange, ServiceCidr};
use tower::ServiceExt;

/// Services in the store.
const SERVICES: usize = 100_000;
/// Namespaces besides `default`, which holds 90% of the Services.
const TEAM_NAMESPACES: usize = 10;
/// Requests timed per figure.
const REQUESTS: usize = 200;
/// Writes in flight while filling the store (the writer group-commits up to 256).
const FILL_CONCURRENCY: usize = 512;
/// Creates of Services reusing one instance, each timed.
const REUSE_CREATES: usize = 50;
/// The page a "later page" figure times: reached by following Next links.
const LATER_PAGE: usize = 50;
/// Spread of creation times: one slot a minute, two Services a slot (so some tie).
const CREATED_SPREAD_SECS: i64 = 60;
const APP_PREFIXES: [&str; 8] = [
    "web", "api", "db", "cache", "worker", "auth", "billing", "search",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The kinds of Service in the mix, by share of `i % 100`.
fn service_type(i: usize) -> &'static str {
    match i % 100 {
        0 => "NodePort",
        1 => "LoadBalancer",
        2..=11 => "Headless",
        12..=21 => "ExternalName",
        _ => "ClusterIP",
    }
}

fn namespace_of(i: usize) -> String {
    if i % 10 == 9 {
        format!("team-{}", (i / 10) % TEAM_NAMESPACES)
    } else {
        "default".to_owned()
    }
}

fn name_of(i: usize) -> String {
    format!("{}-{i:06}", APP_PREFIXES[i % APP_PREFIXES.len()])
}

/// One Service of each kind created through the registry: the exact shape it stores.
async fn templates(state: &service_console::AppState) -> Vec<(&'static str, Value)> {
    let selector = json!({"app": "tpl"});
    let bodies = [
        (
            "ClusterIP",
            json!({"type": "ClusterIP", "selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}),
        ),
        (
            "NodePort",
            json!({"type": "NodePort", "selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 32700}]}),
        ),
        (
            "LoadBalancer",
            json!({"type": "LoadBalancer", "selector": selector, "ports": [{"name": "https", "port": 443, "targetPort": 8443, "nodePort": 32701}]}),
        ),
        (
            "Headless",
            json!({"clusterIP": "None", "selector": selector, "ports": [{"port": 5432}]}),
        ),
        (
            "ExternalName",
            json!({"type": "ExternalName", "externalName": "db.example.com"}),
        ),
    ];
    let mut out = Vec::new();
    for (kind, spec) in bodies {
        let name = format!("template-{}", kind.to_lowercase());
        let body = json!({"metadata": {"name": name, "annotations": {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec": "slb.s1.small"}}, "spec": spec});
        state
            .registry
            .create_service("default", &body, &WriteOptions::default())
            .await
            .expect("template service");
        let stored = state
            .registry
            .get_raw("services", "default", &name)
            .await
            .expect("read")
            .expect("template exists");
        out.push((kind, stored.object));
    }
    out
}

/// The i-th Service and what it allocates, from the template of its kind.
fn service(i: usize, templates: &[(&'static str, Value)], base: i64) -> Write {
    let kind = service_type(i);
    let mut object = templates
        .iter()
        .find(|(k, _)| *k == kind)
        .expect("a template per kind")
        .1
        .clone();
    let (namespace, name) = (namespace_of(i), name_of(i));
    let app = format!("{}-{}", APP_PREFIXES[i % APP_PREFIXES.len()], i % 500);
    // A permutation of 0..SERVICES, so that creation order is not name order.
    let slot = (i * 7919 % SERVICES) as i64 / 2;
    let created = jiff::Timestamp::from_second(base + slot * CREATED_SPREAD_SECS)
        .expect("timestamp in range");
    let uid = uuid::Uuid::new_v4().to_string();
    let meta = &mut object["metadata"];
    meta["name"] = json!(name);
    meta["namespace"] = json!(namespace);
    meta["uid"] = json!(uid);
    meta["creationTimestamp"] = json!(created.to_string());
    let tier = ["front", "back", "data"][i % 3];
    meta["labels"] = json!({"app": app, "tier": tier});
    let mut allocate = Vec::new();
    if kind != "ExternalName" {
        object["spec"]["selector"] = json!({"app": app});
    }
    if matches!(kind, "ClusterIP" | "NodePort" | "LoadBalancer") {
        // 10.1.0.0 upwards: clear of 10.0.0.1, the kubernetes Service.
        let ip =
            std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 1, 0, 0)) + i as u32)
                .to_string();
        object["spec"]["clusterIP"] = json!(ip);
        object["spec"]["clusterIPs"] = json!([ip]);
        allocate.push(Allocation::new(POOL_SERVICE_IPS, ip));
    }
    if matches!(kind, "NodePort" | "LoadBalancer") {
        // One node port each, 30000..=31999: 2,000 of the 2,768 in the default range; the
        // templates hold 32700 and 32701.
        let port = 30000 + (i / 100 * 2 + i % 100) as i32;
        object["spec"]["ports"][0]["nodePort"] = json!(port);
        allocate.push(Allocation::new(POOL_NODE_PORTS, port.to_string()));
    }
    if kind == "LoadBalancer" && i % 200 == 1 {
        object["status"] = json!({"loadBalancer": {"ingress": [{"ip": format!("47.100.{}.{}", (i / 256) % 256, i % 256)}]}});
    }
    let key = ObjectKey::new("services", namespace, name);
    Write {
        allocate,
        // Every create through the registry keeps its history row: so does the fill.
        history: Some(HistoryNote {
            verb: "create".into(),
            user: "kubectl-create".into(),
            manager: "kubectl-create".into(),
            ..Default::default()
        }),
        ..Write::new(WriteOp::Put {
            key,
            uid,
            object,
            precondition: Precondition::MustNotExist,
        })
    }
}

async fn fill(state: &service_console::AppState, store: &Store) -> Duration {
    for t in 0..TEAM_NAMESPACES {
        state
            .registry
            .ensure_namespace(&format!("team-{t}"))
            .await
            .expect("namespace");
    }
    let templates = templates(state).await;
    let base = jiff::Timestamp::now().as_second() - (SERVICES as i64 / 2) * CREATED_SPREAD_SECS;
    let start = Instant::now();
    let writes = futures::stream::iter(0..SERVICES)
        .map(|i| {
            let write = service(i, &templates, base);
            async move { store.commit(write).await }
        })
        .buffer_unordered(FILL_CONCURRENCY);
    futures::pin_mut!(writes);
    while let Some(result) = writes.next().await {
        result.expect("commit");
    }
    start.elapsed()
}

async fn get(app: &Front, uri: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("infallible router");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Times `REQUESTS` GETs of `uris` (cycled) and prints p50 and p99.
async fn measure(app: &Front, label: &str, uris: &[String]) {
    let (status, body) = get(app, &uris[0]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{label}: {}",
        &body[..body.len().min(500)]
    );
    let rows = body.matches("name=\"selected\"").count();
    let mut times = Vec::with_capacity(REQUESTS);
    for n in 0..REQUESTS {
        let uri = &uris[n % uris.len()];
        let t = Instant::now();
        let (status, _) = get(app, uri).await;
        times.push(t.elapsed());
        assert_eq!(status, StatusCode::OK, "{label}: {uri}");
    }
    times.sort();
    println!(
        "{label:<52} p50 {:>7.2} ms  p99 {:>7.2} ms  ({rows} rows, {} KiB)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        body.len() / 1024
    );
}

/// The Next link of a list page, unescaped.
fn next_link(body: &str) -> Option<String> {
    let end = body.find("\" rel=\"next\"")?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    Some(body[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

async fn later_page(app: &Front, first: &str) -> String {
    let mut uri = first.to_owned();
    for _ in 1..LATER_PAGE {
        let (_, body) = get(app, &uri).await;
        uri = next_link(&body).expect("a next page");
    }
    uri
}

/// Bytes of the list page and of the CSS and JavaScript it references.
async fn page_weight(app: &Front, uri: &str) {
    let (_, html) = get(app, uri).await;
    let mut assets = Vec::new();
    for marker in ["href=\"/static/", "src=\"/static/"] {
        for (at, _) in html.match_indices(marker) {
            let start = at + marker.len() - "/static/".len();
            let end = start + html[start..].find('"').expect("closing quote");
            assets.push(html[start..end].to_owned());
        }
    }
    let mut total = html.len();
    let mut parts = vec![format!("HTML {} B", html.len())];
    for asset in &assets {
        let (status, body) = get(app, asset).await;
        assert_eq!(status, StatusCode::OK, "{asset}");
        total += body.len();
        parts.push(format!("{asset} {} B", body.len()));
    }
    println!(
        "list page weight: {:.1} KiB uncompressed ({})",
        total as f64 / 1024.0,
        parts.join(", ")
    );
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pools = Pools {
        service_cidr: ServiceCidr::parse("10.0.0.0/8").expect("cidr"),
        node_ports: PortRange::DEFAULT,
    };
    let state = open_state(dir.path(), pools).await.expect("open store");
    let store = state.registry.store().clone();
    let filled = fill(&state, &store).await;
    let total = store.count("services", None).await.expect("count");
    let in_default = store
        .count("services", Some("default"))
        .await
        .expect("count");
    println!(
        "fill: {total} Services ({in_default} in default) committed through the store in {:.1} s; 78% ClusterIP, 10% headless, 10% ExternalName, 1% NodePort, 1% LoadBalancer",
        filled.as_secs_f64()
    );
    let app = service_console::app(state.clone());
    let list = "/services?namespace=default".to_owned();
    measure(
        &app,
        "list, first page (default, by name)",
        std::slice::from_ref(&list),
    )
    .await;
    let later = later_page(&app, &list).await;
    measure(
        &app,
        &format!("list, page {LATER_PAGE} (default, by name)"),
        &[later],
    )
    .await;
    measure(
        &app,
        "list, first page (All Namespaces)",
        &["/services?namespace=".to_owned()],
    )
    .await;
    measure(
        &app,
        "name filter, common (\"api\")",
        &["/services?namespace=default&name=api".to_owned()],
    )
    .await;
    let rare: Vec<String> = (0..50)
        .map(|n| format!("/services?namespace=default&name={}", name_of(n * 1990)))
        .collect();
    measure(&app, "name filter, one match (exact names)", &rare).await;
    measure(
        &app,
        "name filter, no match",
        &["/services?namespace=default&name=zzz".to_owned()],
    )
    .await;
    measure(
        &app,
        "type filter (NodePort, 1%)",
        &["/services?namespace=default&type=NodePort".to_owned()],
    )
    .await;
    measure(
        &app,
        "type filter (ClusterIP, 78%)",
        &["/services?namespace=default&type=ClusterIP".to_owned()],
    )
    .await;
    let newest = "/services?namespace=default&sort=created".to_owned();
    measure(
        &app,
        "sort by creation time (newest first)",
        std::slice::from_ref(&newest),
    )
    .await;
    let later_newest = later_page(&app, &newest).await;
    measure(
        &app,
        &format!("sort by creation time, page {LATER_PAGE}"),
        &[later_newest],
    )
    .await;
    measure(
        &app,
        "sort by creation time (oldest first)",
        &["/services?namespace=default&sort=created-asc".to_owned()],
    )
    .await;
    measure(
        &app,
        "sort by creation time (All Namespaces)",
        &["/services?namespace=&sort=created".to_owned()],
    )
    .await;
    measure(
        &app,
        "type filter + sort by creation time (NodePort)",
        &["/services?namespace=default&type=NodePort&sort=created".to_owned()],
    )
    .await;
    measure(
        &app,
        "label filter, bounded scan (app=web-8, 0.1%)",
        &["/services?namespace=default&label=app%3Dweb-8".to_owned()],
    )
    .await;
    let details: Vec<String> = (0..50)
        .map(|n| n * 1999)
        .map(|i| format!("/services/{}/{}", namespace_of(i), name_of(i)))
        .collect();
    measure(&app, "Details page", &details).await;
    let name = history_of_fifty(&state).await;
    let tab = format!("/services/default/{name}/history");
    measure(&app, "History tab (50 revisions)", &[tab]).await;
    let json = format!("/history/v1/namespaces/default/services/{name}");
    measure(&app, "history JSON (50 revisions)", &[json]).await;
    page_weight(&app, &list).await;
    reuse(&state).await;
}

/// A LoadBalancer Service naming an instance to reuse: its create (the write-time sharing
/// check reads the instance's other Services), the console's reuse choices and the instance's
/// users, each over the whole store.
async fn reuse(state: &service_console::AppState) {
    let registry = &state.registry;
    let instance = registry
        .create_load_balancer(NewLoadBalancer {
            name: "shared".into(),
            spec: "slb.s1.small".into(),
            address_type: "intranet".into(),
            ..Default::default()
        })
        .await
        .expect("manual instance");
    let mut creates = Vec::with_capacity(REUSE_CREATES);
    for i in 0..REUSE_CREATES {
        let body = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": format!("reuse-{i}"), "annotations": {
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id": instance.id}},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 1000 + i}]}});
        let start = Instant::now();
        registry
            .create_service("default", &body, &WriteOptions::default())
            .await
            .expect("a Service reusing the instance");
        creates.push(start.elapsed());
    }
    let start = Instant::now();
    let choices = registry
        .reuse_choices("default", "next")
        .await
        .expect("reuse choices");
    let choosing = start.elapsed();
    let start = Instant::now();
    let users = registry
        .load_balancer_users(&instance.id)
        .await
        .expect("users");
    let listing = start.elapsed();
    assert_eq!(
        users.len(),
        REUSE_CREATES,
        "every create reuses the instance"
    );
    creates.sort();
    println!(
        "reuse: {REUSE_CREATES} creates of a LoadBalancer Service reusing an instance: p50 {:.2} ms, p99 {:.2} ms; reuse choices ({} instance) {:.2} ms; the instance's {} users {:.2} ms",
        percentile(&creates, 0.50).as_secs_f64() * 1e3,
        percentile(&creates, 0.99).as_secs_f64() * 1e3,
        choices.len(),
        choosing.as_secs_f64() * 1e3,
        users.len(),
        listing.as_secs_f64() * 1e3,
    );
}

/// Gives one Service of the default namespace 49 more revisions (a label each); returns its
/// name.
async fn history_of_fifty(state: &service_console::AppState) -> String {
    let name = name_of(1990);
    for round in 0..49 {
        state
            .registry
            .patch_service("default", &name, &WriteOptions::default(), move |current| {
                let mut next = current.clone();
                next["metadata"]["labels"]["round"] = json!(round.to_string());
                Ok(next)
            })
            .await
            .expect("patch");
    }
    name
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(run());
}
