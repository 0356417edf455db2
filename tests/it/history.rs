//! Who changed what: the audit log in kube-apiserver's format, the revision history of
//! Services, its JSON endpoint and the `history` command, over real HTTP and SQLite files.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service_console::api::audit::{AuditLog, AuditLogOptions};
use service_console::config::LimitArgs;
use tokio::net::TcpListener;

use crate::support::TestCluster;

/// A server on a free port over `cluster`, served as `serve` serves (connection info included).
async fn serve(cluster: &TestCluster) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let state = cluster.state.clone();
    let limits = LimitArgs {
        max_requests_inflight: 400,
        max_mutating_requests_inflight: 200,
        max_connections: Some(256),
        header_read_timeout: 32,
        request_timeout: 60,
        shutdown_grace: 1,
    };
    tokio::spawn(async move { service_console::server::serve(listener, state, &limits).await });
    url
}

/// A cluster whose audit log goes to `path`.
async fn audited_cluster(path: &Path) -> TestCluster {
    let mut cluster = TestCluster::new().await;
    cluster.state.audit = AuditLog::start(&AuditLogOptions {
        path: path.to_owned(),
        max_size_mb: 0,
        max_backups: 0,
    })
    .expect("audit log");
    cluster
}

/// The audit log's events, once there are at least `count`.
async fn events(path: &Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let events: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is one JSON event"))
            .collect();
        if events.len() >= count || Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const KUBECTL_CREATE: &str = "kubectl-create/v1.32.0 (linux/amd64) kubernetes/70d3cc9";
const SECRET_TOKEN: &str = "s3cr3t-bearer-token";
const SECRET_COOKIE: &str = "sc_session=s3cr3t-session";

fn web_service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "labels": {"tier": "web"}},
        "spec": {"ports": [{"name": "https", "port": 443, "targetPort": 443}], "selector": {"app": "web"}}
    })
}

#[tokio::test]
async fn audit_log_writes_kube_apiserver_events_per_request() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("audit.log");
    let cluster = audited_cluster(&log).await;
    let url = serve(&cluster).await;
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{url}/api/v1/namespaces/default/services"))
        .header("user-agent", KUBECTL_CREATE)
        .header("authorization", format!("Bearer {SECRET_TOKEN}"))
        .header("cookie", SECRET_COOKIE)
        .header("content-type", "application/json")
        .body(web_service().to_string())
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let audit_id = created.headers()["audit-id"]
        .to_str()
        .expect("audit id")
        .to_owned();
    let health = client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let missing = client
        .get(format!("{url}/api/v1/namespaces/default/services/nope"))
        .header(
            "user-agent",
            "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9",
        )
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), 404);

    let events = events(&log, 2).await;
    assert_eq!(events.len(), 2, "the probe is not logged: {events:#?}");
    let create = &events[0];
    assert_eq!(create["kind"], "Event");
    assert_eq!(create["apiVersion"], "audit.k8s.io/v1");
    assert_eq!(create["level"], "RequestResponse");
    assert_eq!(create["auditID"], audit_id.as_str());
    assert_eq!(create["stage"], "ResponseComplete");
    assert_eq!(create["requestURI"], "/api/v1/namespaces/default/services");
    assert_eq!(create["verb"], "create");
    assert_eq!(
        create["user"],
        json!({"username": "kubectl-create", "groups": ["system:masters", "system:authenticated"]})
    );
    assert_eq!(create["sourceIPs"], json!(["127.0.0.1"]));
    assert_eq!(create["userAgent"], KUBECTL_CREATE);
    assert_eq!(
        create["objectRef"],
        json!({"resource": "services", "namespace": "default", "apiVersion": "v1"})
    );
    assert_eq!(
        create["responseStatus"],
        json!({"metadata": {}, "code": 201})
    );
    assert_eq!(create["requestObject"], web_service());
    assert_eq!(create["responseObject"]["metadata"]["name"], "web");
    assert!(create["responseObject"]["spec"]["clusterIP"].is_string());
    for field in ["requestReceivedTimestamp", "stageTimestamp"] {
        let time = create[field].as_str().expect("timestamp");
        // RFC 3339 with microseconds in UTC, e.g. 2026-12-05T06:07:08.123456Z.
        assert_eq!(time.len(), 27, "{field}: {time}");
        assert!(
            time.ends_with('Z') && time.as_bytes()[19] == b'.',
            "{field}: {time}"
        );
    }
    let keys: Vec<&str> = create
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "kind",
            "apiVersion",
            "level",
            "auditID",
            "stage",
            "requestURI",
            "verb",
            "user",
            "sourceIPs",
            "userAgent",
            "objectRef",
            "responseStatus",
            "requestObject",
            "responseObject",
            "requestReceivedTimestamp",
            "stageTimestamp"
        ],
        "upstream's field order"
    );

    let get = &events[1];
    assert_eq!(get["level"], "Metadata");
    assert_eq!(get["verb"], "get");
    assert_eq!(get["user"]["username"], "kubectl");
    assert_eq!(get["objectRef"]["name"], "nope");
    assert_eq!(
        get["responseStatus"],
        json!({
            "metadata": {}, "status": "Failure", "message": "services \"nope\" not found",
            "reason": "NotFound", "details": {"name": "nope", "kind": "services"}, "code": 404
        })
    );
    assert!(get.get("requestObject").is_none() && get.get("responseObject").is_none());

    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains("s3cr3t"), "no secret reaches the audit log");
}

#[tokio::test]
async fn watches_are_logged_when_started_and_when_complete() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("audit.log");
    let cluster = audited_cluster(&log).await;
    let url = serve(&cluster).await;
    let response = reqwest::get(format!(
        "{url}/api/v1/namespaces/default/services?watch=true&timeoutSeconds=1"
    ))
    .await
    .expect("watch");
    assert_eq!(response.status(), 200);
    response
        .bytes()
        .await
        .expect("watch ends after its timeout");

    let events = events(&log, 2).await;
    let stages: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["verb"].as_str().unwrap_or(""),
                e["stage"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [("watch", "ResponseStarted"), ("watch", "ResponseComplete")]
    );
    assert_eq!(events[0]["auditID"], events[1]["auditID"]);
}

#[tokio::test]
async fn an_unwritable_audit_log_fails_no_request() {
    let cluster = audited_cluster(Path::new("/dev/full")).await;
    let url = serve(&cluster).await;
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let response = client
            .get(format!("{url}/api/v1/namespaces/default/services"))
            .send()
            .await
            .expect("list");
        assert_eq!(response.status(), 200);
    }
}
