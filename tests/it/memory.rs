//! Memory of the console's update review, measured on a real server process: the YAML diff of
//! a large Service must cost memory in proportion to its size, not to its size squared.

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::support::process::ServerProcess;

/// The size of the Service under review.
const SERVICE_BYTES: usize = 2 * 1024 * 1024;
/// How much a review of it may raise the server's peak resident memory.
const MAX_REVIEW_GROWTH_KIB: u64 = 100 * 1024;

/// The server's peak resident memory (`VmHWM`), in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in KiB")
}

/// A Service of about [`SERVICE_BYTES`], made large by many long finalizers: many YAML lines
/// that the console's form keeps as they are, so the review compares two large texts.
fn large_service() -> Value {
    let domain = format!("{0}.{0}.{0}.example.com", "a".repeat(63));
    let count = SERVICE_BYTES / (domain.len() + "/cleanup-000000".len() + 4);
    let finalizers: Vec<String> = (0..count)
        .map(|i| format!("{domain}/cleanup-{i:06}"))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "big", "finalizers": finalizers},
        "spec": {"ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]},
    })
}

#[tokio::test]
async fn reviewing_an_update_of_a_2_mib_service_stays_within_100_mib() {
    let server = ServerProcess::start(&[]);
    let client = reqwest::Client::new();
    let body = large_service().to_string();
    assert!(body.len() >= SERVICE_BYTES * 9 / 10, "{} bytes", body.len());
    let created = client
        .post(format!("{}/api/v1/namespaces/default/services", server.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("created Service");
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_string();

    let edit = client
        .get(format!("{}/services/default/big/edit", server.url))
        .send()
        .await
        .expect("edit page");
    assert_eq!(edit.status(), 200);
    let token = edit
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("sc_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("CSRF cookie")
        .to_string();

    let before = peak_kib(server.child.id());
    let form = [
        ("csrf_token", token.as_str()),
        ("metadata.namespace", "default"),
        ("metadata.name", "big"),
        ("metadata.resourceVersion", &rv),
        ("spec.type", "ClusterIP"),
        ("backend", ""),
        ("spec.ports[0].name", ""),
        ("spec.ports[0].port", "81"),
        ("spec.ports[0].targetPort", "8080"),
        ("spec.ports[0].protocol", "TCP"),
        ("op", "review"),
    ];
    let review = client
        .post(format!("{}/services/default/big", server.url))
        .header(COOKIE, format!("sc_csrf={token}"))
        .form(&form)
        .send()
        .await
        .expect("review");
    assert_eq!(review.status(), 200);
    let page = review.text().await.expect("review page");
    assert!(
        page.contains("Changes to save")
            && page.contains("-   - port: 80")
            && page.contains("+   - port: 81")
            && !page.contains("cleanup-000000")
            && page.contains("unchanged lines"),
        "the review shows the change, and folds the thousands of unchanged finalizers"
    );
    let growth = peak_kib(server.child.id()).saturating_sub(before);
    assert!(
        growth <= MAX_REVIEW_GROWTH_KIB,
        "the review raised the server's peak memory by {growth} KiB"
    );
}
