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
    tokio::spawn(
        async move { service_console::server::serve(listener, state, None, &limits).await },
    );
    url
}

/// A cluster whose audit log goes to `path`.
async fn audited_cluster(path: &Path) -> TestCluster {
    let mut cluster = TestCluster::new().await;
    let audit = AuditLog::start(&AuditLogOptions {
        path: path.to_owned(),
        max_size_mb: 0,
        max_backups: 0,
    })
    .expect("audit log");
    cluster.state = cluster.state.with_audit(audit);
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
        json!({"resource": "services", "namespace": "default", "name": "web", "apiVersion": "v1"}),
        "a create names its object from the body, as upstream's LogRequestObject does"
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
async fn console_pages_are_audited_under_their_request_id() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let log = dir.path().join("audit.log");
    let cluster = audited_cluster(&log).await;
    let url = serve(&cluster).await;
    let page = reqwest::Client::new()
        .get(format!("{url}/services?namespace=default"))
        .header("cookie", SECRET_COOKIE)
        .send()
        .await
        .expect("services page");
    assert_eq!(page.status(), 200);
    let id = page.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    assert_eq!(page.headers()["audit-id"].to_str().ok(), Some(id.as_str()));
    reqwest::get(format!("{url}/static/css/app.css"))
        .await
        .expect("stylesheet");

    let events = events(&log, 1).await;
    assert_eq!(events.len(), 1, "static files are not logged: {events:#?}");
    let event = &events[0];
    assert_eq!(event["auditID"], id.as_str());
    assert_eq!(event["level"], "Metadata");
    assert_eq!(event["verb"], "get");
    assert_eq!(event["requestURI"], "/services?namespace=default");
    assert_eq!(event["user"]["username"], "service-console");
    assert!(event.get("objectRef").is_none(), "a non-resource request");
    assert_eq!(
        event["responseStatus"],
        json!({"metadata": {}, "code": 200})
    );
    assert!(
        !std::fs::read_to_string(&log)
            .expect("log")
            .contains("s3cr3t")
    );
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

/// A client that sends `agent` as its User-Agent.
fn client_as(agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(agent)
        .build()
        .expect("client")
}

const SERVICES: &str = "/api/v1/namespaces/default/services";

async fn send(request: reqwest::RequestBuilder, expected: u16) -> Value {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expected, "{body}");
    body
}

/// The history document of default/web.
async fn history_of(url: &str, name: &str) -> Value {
    send(
        reqwest::Client::new().get(format!(
            "{url}/history/v1/namespaces/default/services/{name}"
        )),
        200,
    )
    .await
}

/// Deletes `default/{name}` through the console's form, as a browser would.
async fn console_delete(url: &str, name: &str) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = client
        .get(format!("{url}/services/default/{name}/delete"))
        .send()
        .await
        .expect("confirm page");
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("sc_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("csrf cookie")
        .to_owned();
    let response = client
        .post(format!("{url}/services/default/{name}/delete"))
        .header("cookie", format!("sc_csrf={csrf}"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 303);
}

/// Creates web (kubectl create), edits targetPort (kubectl edit), adds a label (kubectl
/// patch), applies server-side (kubectl apply --server-side), writes status (a controller).
async fn write_through_every_door(url: &str) {
    send(
        client_as(KUBECTL_CREATE)
            .post(format!("{url}{SERVICES}"))
            .json(&web_service()),
        201,
    )
    .await;
    let mut current = send(
        reqwest::Client::new().get(format!("{url}{SERVICES}/web")),
        200,
    )
    .await;
    current["spec"]["ports"][0]["targetPort"] = json!(8443);
    send(
        client_as("kubectl-edit/v1.32.0 (linux/amd64) kubernetes/70d3cc9")
            .put(format!("{url}{SERVICES}/web"))
            .json(&current),
        200,
    )
    .await;
    send(
        client_as("kubectl-patch/v1.32.0 (linux/amd64) kubernetes/70d3cc9")
            .patch(format!("{url}{SERVICES}/web"))
            .header("content-type", "application/strategic-merge-patch+json")
            .body(r#"{"metadata":{"labels":{"env":"prod"}}}"#),
        200,
    )
    .await;
    let applied = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "annotations": {"owner": "team-a"}},
        "spec": {"ports": [{"name": "https", "port": 443, "targetPort": 8443}], "selector": {"app": "web"}}
    });
    send(
        client_as("kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9")
            .patch(format!(
                "{url}{SERVICES}/web?fieldManager=kubectl&force=true"
            ))
            .header("content-type", "application/apply-patch+yaml")
            .body(applied.to_string()),
        200,
    )
    .await;
}

#[tokio::test]
async fn every_write_of_a_service_is_kept_with_who_when_and_how() {
    let cluster = TestCluster::new().await;
    let url = serve(&cluster).await;
    write_through_every_door(&url).await;
    let opts = service_console::registry::WriteOptions {
        field_manager: Some("service-controller".into()),
        ..Default::default()
    };
    let conditions = json!([{"type": "Ready", "status": "True", "reason": "Ready",
        "message": "", "lastTransitionTime": "2026-12-05T06:00:00Z"}]);
    // As the load-balancer controller writes status: the current object with a new status.
    cluster
        .registry()
        .patch_service_status("default", "web", &opts, move |current| {
            let mut next = current.clone();
            next["status"] = json!({"conditions": conditions.clone()});
            Ok(next)
        })
        .await
        .expect("status write");

    let history = history_of(&url, "web").await;
    let items = history["items"].as_array().expect("items");
    let summary: Vec<(String, String, String, String)> = items
        .iter()
        .map(|i| {
            let s = |f: &str| i[f].as_str().unwrap_or("").to_string();
            (s("verb"), s("subresource"), s("user"), s("through"))
        })
        .collect();
    let row = |v: &str, sub: &str, u: &str, t: &str| {
        (v.to_string(), sub.to_string(), u.to_string(), t.to_string())
    };
    assert_eq!(
        summary,
        [
            row("patch", "status", "controller", "service-controller"),
            row("apply", "", "kubectl", "kubectl apply --server-side"),
            row("patch", "", "kubectl-patch", "kubectl patch"),
            row("update", "", "kubectl-edit", "kubectl edit"),
            row("create", "", "kubectl-create", "kubectl create"),
        ]
    );
    let lines = |i: usize| -> Vec<String> {
        items[i]["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter(|c| c["class"] == "spec")
            .map(|c| c["text"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(lines(3), ["spec.ports[https].targetPort 443 → 8443"]);
    assert_eq!(lines(2), ["metadata.labels.env added: prod"]);
    assert_eq!(lines(1), ["metadata.annotations.owner added: team-a"]);
    assert_eq!(
        items[0]["folded"], true,
        "a status-only write folds: {}",
        items[0]["changes"]
    );
    assert_eq!(items[3]["folded"], false);
    assert_eq!(items[4]["previous"], Value::Null);
    // Each revision is the object exactly as stored by its write.
    let current = send(
        reqwest::Client::new().get(format!("{url}{SERVICES}/web")),
        200,
    )
    .await;
    assert_eq!(
        items[0]["revision"].as_i64().map(|r| r.to_string()),
        current["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_string)
    );
    assert_eq!(items[0]["object"]["status"], current["status"]);
    assert_eq!(items[0]["userAgent"], "");
    assert_eq!(
        items[3]["userAgent"],
        "kubectl-edit/v1.32.0 (linux/amd64) kubernetes/70d3cc9"
    );

    let revision = items[3]["revision"].as_i64().expect("revision");
    let diff = send(
        reqwest::Client::new().get(format!(
            "{url}/history/v1/namespaces/default/services/web?diff={revision}"
        )),
        200,
    )
    .await;
    assert_eq!(diff["kind"], "ServiceDiff");
    assert_eq!(diff["from"], items[4]["revision"]);
    let first = items[4]["revision"].as_i64().expect("revision");
    let newest = items[1]["revision"].as_i64().expect("revision");
    let compared = send(
        reqwest::Client::new().get(format!(
            "{url}/history/v1/namespaces/default/services/web?diff={newest}&against={first}"
        )),
        200,
    )
    .await;
    let texts: Vec<&str> = compared["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["class"] == "spec")
        .filter_map(|c| c["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "metadata.labels.env added: prod",
            "metadata.annotations.owner added: team-a",
            "spec.ports[https].targetPort 443 → 8443"
        ]
    );
}

#[tokio::test]
async fn unknown_history_is_not_found_in_upstream_words() {
    let cluster = TestCluster::new().await;
    let url = serve(&cluster).await;
    let missing = send(
        reqwest::Client::new().get(format!("{url}/history/v1/namespaces/default/services/nope")),
        404,
    )
    .await;
    assert_eq!(missing["message"], "services \"nope\" not found");
    let kubernetes = history_of(&url, "kubernetes").await;
    let revision = kubernetes["items"][0]["revision"]
        .as_i64()
        .expect("revision");
    let bad = send(
        reqwest::Client::new().get(format!(
            "{url}/history/v1/namespaces/default/services/kubernetes?diff={}",
            revision + 1000
        )),
        404,
    )
    .await;
    assert_eq!(
        bad["message"],
        format!(
            "revision {} of services \"kubernetes\" not found",
            revision + 1000
        )
    );
}

#[tokio::test]
async fn history_outlives_its_service_and_the_server() {
    let cluster = TestCluster::new().await;
    let url = serve(&cluster).await;
    send(
        client_as(KUBECTL_CREATE)
            .post(format!("{url}{SERVICES}"))
            .json(&web_service()),
        201,
    )
    .await;
    console_delete(&url, "web").await;
    let deleted = send(
        reqwest::Client::new().get(format!(
            "{url}/history/v1/namespaces/default/deleted-services"
        )),
        200,
    )
    .await;
    let items = deleted["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{deleted}");
    assert_eq!(items[0]["object"]["metadata"]["name"], "web");
    assert_eq!(items[0]["user"], "service-console");
    assert_eq!(items[0]["through"], "console");

    let cluster = cluster.reopen().await;
    let url = serve(&cluster).await;
    let history = history_of(&url, "web").await;
    let verbs: Vec<&str> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["verb"].as_str())
        .collect();
    assert_eq!(verbs, ["delete", "create"]);

    send(
        client_as(KUBECTL_CREATE)
            .post(format!("{url}{SERVICES}"))
            .json(&web_service()),
        201,
    )
    .await;
    let deleted = send(
        reqwest::Client::new().get(format!(
            "{url}/history/v1/namespaces/default/deleted-services"
        )),
        200,
    )
    .await;
    assert_eq!(
        deleted["items"],
        json!([]),
        "a re-created Service is not deleted"
    );
    let history = history_of(&url, "web").await;
    assert_eq!(
        history["items"][0]["previous"],
        Value::Null,
        "a new uid starts afresh"
    );
}

#[tokio::test]
async fn retention_keeps_the_newest_revisions_of_each_service() {
    let cluster = TestCluster::new().await;
    cluster
        .registry()
        .set_history_retention(service_console::store::HistoryRetention::new(3, 30));
    let url = serve(&cluster).await;
    for name in ["web", "api"] {
        let mut svc = web_service();
        svc["metadata"]["name"] = json!(name);
        send(
            client_as(KUBECTL_CREATE)
                .post(format!("{url}{SERVICES}"))
                .json(&svc),
            201,
        )
        .await;
    }
    for i in 0..5 {
        send(
            client_as("kubectl-label/v1.32.0")
                .patch(format!("{url}{SERVICES}/web"))
                .header("content-type", "application/merge-patch+json")
                .body(format!(r#"{{"metadata":{{"labels":{{"round":"{i}"}}}}}}"#)),
            200,
        )
        .await;
    }
    let web = history_of(&url, "web").await;
    let rounds: Vec<String> = web["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            i["object"]["metadata"]["labels"]["round"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(rounds, ["4", "3", "2"]);
    assert_eq!(
        history_of(&url, "api").await["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

// Multi-threaded: the command runs as a blocking child process while the server answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_command_prints_entries_and_one_diff() {
    let cluster = TestCluster::new().await;
    let url = serve(&cluster).await;
    write_through_every_door(&url).await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_service-console"))
            .arg("history")
            .args(args)
            .args(["--server", &url])
            .output()
            .expect("run service-console history");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, text, err) = run(&["default/web"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("kubectl-edit via kubectl edit (update)"),
        "{text}"
    );
    assert!(
        text.contains("  spec.ports[https].targetPort 443 → 8443\n"),
        "{text}"
    );
    assert!(
        text.contains("kubectl-create via kubectl create (create)\n  created\n"),
        "{text}"
    );

    let (code, json_text, _) = run(&["default/web", "-o", "json"]);
    assert_eq!(code, 0);
    let history: Value = serde_json::from_str(&json_text).expect("json");
    let edit = history["items"][2]["revision"].as_i64().expect("revision");
    let (code, diff, _) = run(&["default/web", "--diff", &edit.to_string()]);
    assert_eq!(code, 0);
    let created = history["items"][3]["revision"].as_i64().expect("revision");
    assert!(
        diff.starts_with(&format!("revision {created} → {edit}\n")),
        "{diff}"
    );
    assert!(
        diff.contains("  spec.ports[https].targetPort 443 → 8443\n"),
        "{diff}"
    );

    let (code, _, err) = run(&["default/nope"]);
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "Error from server (NotFound): services \"nope\" not found"
        )
    );
}

/// XPath of the Service form.
const SERVICE_FORM: &str = "//form[.//*[@name='metadata.name' or @name='spec.ports[0].port']]";

/// History through the console in Chromium: a Service created by kubectl, its target port
/// changed in the console's Update form, its status written by a controller; the History tab
/// shows who did what through which door, the diff lines, the status write folded, and a
/// comparison of the first and last revisions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_tab_shows_who_changed_what_in_chromium() {
    let Some(t) = crate::support::browser::BrowserTest::start(
        "history_tab_shows_who_changed_what_in_chromium",
    )
    .await
    else {
        return;
    };
    let registry = t.cluster.registry();
    let kubectl = service_console::registry::WriteOptions {
        user: Some(std::sync::Arc::new(
            service_plan::user::UserInfo::authenticated(
                "kubectl-create",
                ["system:masters".to_string()],
            ),
        )),
        agent_manager: Some("kubectl-create".into()),
        user_agent: Some(KUBECTL_CREATE.into()),
        ..Default::default()
    };
    let mut svc = web_service();
    svc["metadata"]["name"] = json!("web-history");
    registry
        .create_service("default", &svc, &kubectl)
        .await
        .expect("create");

    t.open("/services/default/web-history/edit").await;
    t.wait_for("the form prefilled with target port 443", async || {
        (t.value("spec.ports[0].targetPort").await == "443").then_some(())
    })
    .await;
    t.fill("spec.ports[0].targetPort", "8443").await;
    let review = format!("{SERVICE_FORM}//button[normalize-space()='Review changes']");
    t.wait_xpath(&review).await.click().await.expect("review");
    t.wait_text("Changes to save").await;
    let update = format!("{SERVICE_FORM}//button[normalize-space()='Update']");
    t.wait_xpath(&update).await.click().await.expect("update");
    t.wait_for("the stored target port to change", async || {
        let svc = registry.get_service("default", "web-history").await.ok()?;
        (svc["spec"]["ports"][0]["targetPort"] == 8443).then_some(())
    })
    .await;
    let controller = service_console::registry::WriteOptions {
        field_manager: Some("service-controller".into()),
        ..Default::default()
    };
    registry
        .patch_service_status("default", "web-history", &controller, |current| {
            let mut next = current.clone();
            next["status"] = json!({"conditions": [{"type": "Ready", "status": "True",
                "reason": "Ready", "message": "", "lastTransitionTime": "2026-12-05T06:00:00Z"}]});
            Ok(next)
        })
        .await
        .expect("status");

    t.open("/services/default/web-history").await;
    t.click_button("History").await;
    t.wait_text("Compare revisions").await;
    t.screenshot("history").await;
    let text = t.page_text().await.expect("page text");
    assert!(
        text.contains("service-console via console (update)"),
        "the console's write: {text}"
    );
    assert!(
        text.contains("spec.ports[https].targetPort 443 → 8443"),
        "{text}"
    );
    assert!(
        text.contains("kubectl-create via kubectl create (create)"),
        "{text}"
    );
    assert!(
        text.contains("controller via service-controller (patch status)"),
        "{text}"
    );
    // The status write is folded: its lines are inside a closed <details>.
    let folded = t
        .wait_xpath("//li[contains(@class,'history-folded')]//details")
        .await;
    assert_eq!(folded.attr("open").await.expect("attribute"), None);
    assert!(!text.contains("status.conditions added"), "{text}");

    let entries = t
        .browser
        .find_all(fantoccini::Locator::Css("li.history-entry"))
        .await
        .expect("entries");
    let mut revisions = Vec::new();
    for entry in &entries {
        let revision = entry.attr("data-revision").await.expect("attribute");
        revisions.push(revision.unwrap_or_default());
    }
    assert_eq!(revisions.len(), 3, "newest first: {revisions:?}");
    assert!(
        revisions
            .windows(2)
            .all(|w| w[0].parse::<i64>().ok() > w[1].parse::<i64>().ok())
    );

    let select =
        |name: &str, value: &str| format!("//select[@name='{name}']/option[@value='{value}']");
    t.wait_xpath(&select("from", &revisions[2]))
        .await
        .click()
        .await
        .expect("from");
    t.wait_xpath(&select("to", &revisions[0]))
        .await
        .click()
        .await
        .expect("to");
    t.click_button("Compare").await;
    t.wait_text(&format!("Revision {} → {}", revisions[2], revisions[0]))
        .await;
    t.screenshot("compare").await;
    let result = t
        .wait_css("#compare-result")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        result.contains("spec.ports[https].targetPort 443 → 8443"),
        "{result}"
    );

    // Restore the first revision: its plan first, then the write.
    let restore = format!(
        "//li[@data-revision='{}']//a[normalize-space()='Restore this version']",
        revisions[2]
    );
    t.wait_xpath(&restore)
        .await
        .click()
        .await
        .expect("restore link");
    t.wait_text("What restoring does").await;
    t.screenshot("restore-plan").await;
    let plan = t
        .wait_css("#restore-changes")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        plan.contains("spec.ports[https].targetPort 8443 → 443"),
        "{plan}"
    );
    t.click_button("Restore").await;
    t.wait_text(&format!(
        "Service \"web-history\" restored to revision {}.",
        revisions[2]
    ))
    .await;
    t.screenshot("restored").await;
    let svc = registry
        .get_service("default", "web-history")
        .await
        .expect("service");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 443);
    t.finish().await;
}

/// A console session over HTTP: a client that does not follow redirects, and its CSRF token.
struct Console {
    url: String,
    client: reqwest::Client,
    csrf: String,
}

impl Console {
    async fn open(url: &str) -> Console {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let page = client
            .get(format!("{url}/services"))
            .send()
            .await
            .expect("services page");
        let csrf = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("sc_csrf="))
            .and_then(|c| c.split(';').next())
            .expect("csrf cookie")
            .to_owned();
        Console {
            url: url.to_owned(),
            client,
            csrf,
        }
    }

    /// GET a console page: its status and unescaped text.
    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .header("cookie", format!("sc_csrf={}", self.csrf))
            .send()
            .await
            .expect("get");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        (status, crate::support::html_unescape(&body))
    }

    /// POST a console form: its status and unescaped text.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .header("cookie", format!("sc_csrf={}", self.csrf))
            .form(&all)
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        (status, crate::support::html_unescape(&body))
    }
}

/// The `value` of the hidden input `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no input {name}: {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap_or(0)].to_string()
}

async fn get_service(url: &str, name: &str) -> Value {
    send(
        reqwest::Client::new().get(format!("{url}{SERVICES}/{name}")),
        200,
    )
    .await
}

/// Creates `name` (kubectl create) and changes its https targetPort to 8443 (kubectl edit);
/// returns the revision created.
async fn created_then_edited(url: &str, service: Value) -> i64 {
    let created = send(
        client_as(KUBECTL_CREATE)
            .post(format!("{url}{SERVICES}"))
            .json(&service),
        201,
    )
    .await;
    let name = created["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_string();
    let mut current = created;
    current["spec"]["ports"][0]["targetPort"] = json!(8443);
    send(
        client_as("kubectl-edit/v1.32.0")
            .put(format!("{url}{SERVICES}/{name}"))
            .json(&current),
        200,
    )
    .await;
    let history = history_of(url, &name).await;
    history["items"][1]["revision"].as_i64().expect("revision")
}

#[tokio::test]
async fn restoring_an_older_version_shows_its_plan_then_updates_at_the_current_version() {
    let cluster = TestCluster::new().await;
    let url = serve(&cluster).await;
    let first = created_then_edited(&url, web_service()).await;
    let before = get_service(&url, "web").await;
    let console = Console::open(&url).await;
    let path = format!("/services/default/web/history/{first}/restore");

    let (status, plan) = console.get(&path).await;
    assert_eq!(status, 200);
    assert!(
        plan.contains("spec.ports[https].targetPort 8443 → 443"),
        "{plan}"
    );
    let cluster_ip = before["spec"]["clusterIP"].as_str().expect("cluster IP");
    assert!(plan.contains(&format!("Cluster IP {cluster_ip}")), "{plan}");
    let rv = hidden(&plan, "resourceVersion");
    assert_eq!(
        Some(rv.as_str()),
        before["metadata"]["resourceVersion"].as_str()
    );
    assert_eq!(
        get_service(&url, "web").await["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"],
        "the plan writes nothing"
    );

    let (status, _) = console.post(&path, &[("resourceVersion", &rv)]).await;
    assert_eq!(status, 303);
    let after = get_service(&url, "web").await;
    assert_eq!(after["spec"]["ports"][0]["targetPort"], 443);
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(after["spec"]["clusterIP"], before["spec"]["clusterIP"]);
    let history = history_of(&url, "web").await;
    assert_eq!(history["items"][0]["user"], "service-console");
    assert_eq!(history["items"][0]["verb"], "update");
}

#[tokio::test]
async fn a_restore_over_a_change_made_since_its_plan_is_a_conflict() {
    let cluster = TestCluster::new().await;
    let url = serve(&cluster).await;
    let first = created_then_edited(&url, web_service()).await;
    let console = Console::open(&url).await;
    let path = format!("/services/default/web/history/{first}/restore");
    let (_, plan) = console.get(&path).await;
    let rv = hidden(&plan, "resourceVersion");
    send(
        client_as("kubectl-label/v1.32.0")
            .patch(format!("{url}{SERVICES}/web"))
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"metadata":{"labels":{"late":"yes"}}}"#),
        200,
    )
    .await;

    let (status, page) = console.post(&path, &[("resourceVersion", &rv)]).await;
    assert_eq!(status, 409);
    assert!(
        page.contains("The Service changed after this plan was shown, so nothing was restored: Operation cannot be fulfilled on services \"web\": the object has been modified; please apply your changes to the latest version and try again."),
        "{page}"
    );
    assert_ne!(
        hidden(&page, "resourceVersion"),
        rv,
        "the new plan is for the new version"
    );
    assert_eq!(
        get_service(&url, "web").await["spec"]["ports"][0]["targetPort"],
        8443
    );
}

#[tokio::test]
async fn a_revision_whose_node_port_is_taken_now_is_refused_with_the_reason() {
    let cluster = TestCluster::new().await;
    let url = serve(&cluster).await;
    let mut svc = web_service();
    svc["spec"]["type"] = json!("NodePort");
    svc["spec"]["ports"][0]["nodePort"] = json!(30080);
    let first = created_then_edited(&url, svc).await;
    send(
        client_as("kubectl-patch/v1.32.0")
            .patch(format!("{url}{SERVICES}/web"))
            .header("content-type", "application/strategic-merge-patch+json")
            .body(r#"{"spec":{"ports":[{"port":443,"nodePort":30081}]}}"#),
        200,
    )
    .await;
    let mut other = web_service();
    other["metadata"]["name"] = json!("other");
    other["spec"]["type"] = json!("NodePort");
    other["spec"]["ports"][0]["nodePort"] = json!(30080);
    send(
        client_as(KUBECTL_CREATE)
            .post(format!("{url}{SERVICES}"))
            .json(&other),
        201,
    )
    .await;

    let console = Console::open(&url).await;
    let path = format!("/services/default/web/history/{first}/restore");
    let (status, page) = console.get(&path).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("Revision {first} cannot be restored: The Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated")),
        "{page}"
    );
    assert!(
        !page.contains(">Restore</button>"),
        "no Restore button: {page}"
    );
    let rv = get_service(&url, "web").await["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    let (status, _) = console.post(&path, &[("resourceVersion", &rv)]).await;
    assert_eq!(status, 422);
    assert_eq!(
        get_service(&url, "web").await["spec"]["ports"][0]["nodePort"],
        30081
    );
}

#[tokio::test]
async fn a_deleted_service_is_listed_and_re_created_with_a_new_uid() {
    let cluster = TestCluster::new().await;
    let url = serve(&cluster).await;
    let created = send(
        client_as(KUBECTL_CREATE)
            .post(format!("{url}{SERVICES}"))
            .json(&web_service()),
        201,
    )
    .await;
    console_delete(&url, "web").await;
    let console = Console::open(&url).await;
    let (status, page) = console.get("/services/deleted?namespace=default").await;
    assert_eq!(status, 200);
    assert!(page.contains("<td class=\"mono\">web</td>"), "{page}");
    assert!(
        page.contains("<td>service-console</td><td>console</td>"),
        "{page}"
    );
    let history = history_of(&url, "web").await;
    let deleted = history["items"][0]["revision"].as_i64().expect("revision");
    let path = format!("/services/default/web/history/{deleted}/restore");
    assert!(page.contains(&format!("href=\"{path}\"")), "{page}");

    let (status, plan) = console.get(&path).await;
    assert_eq!(status, 200);
    assert!(plan.contains("Restoring re-creates it"), "{plan}");
    assert_eq!(hidden(&plan, "resourceVersion"), "");
    let (status, _) = console.post(&path, &[("resourceVersion", "")]).await;
    assert_eq!(status, 303);
    let restored = get_service(&url, "web").await;
    assert_ne!(restored["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(
        restored["spec"]["clusterIP"], created["spec"]["clusterIP"],
        "re-claimed"
    );
    assert_eq!(
        restored["metadata"]["labels"],
        created["metadata"]["labels"]
    );
    let (_, page) = console.get("/services/deleted?namespace=default").await;
    assert!(
        page.contains("No Service of this namespace was deleted recently."),
        "{page}"
    );
    // A second re-create from the same plan finds the Service there.
    let (status, page) = console.post(&path, &[("resourceVersion", "")]).await;
    assert_eq!(status, 409);
    assert!(page.contains("services \"web\" already exists"), "{page}");
}

/// History through real kubectl: `kubectl apply` (create), `kubectl edit`, `kubectl apply`
/// again, each recorded as what it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_and_edit_are_recorded_as_such() {
    use std::os::unix::fs::PermissionsExt;
    let Some(k) = crate::support::kubectl::Kubectl::start().await else {
        return;
    };
    let manifest = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n\
                    spec:\n  ports:\n  - name: https\n    port: 443\n    targetPort: 443\n  \
                    selector:\n    app: web\n";
    k.write("web.yaml", manifest);
    k.run(&["apply", "-f", "web.yaml"])
        .await
        .assert_ok("service/web created\n");
    let editor = k.write(
        "editor.sh",
        "#!/bin/sh\nsed -i 's/^    targetPort: 443$/    targetPort: 8443/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut edit = k.command(&["edit", "service", "web"]);
    edit.env("EDITOR", &editor);
    k.run_command(edit, None)
        .await
        .assert_ok("service/web edited\n");
    k.write(
        "web.yaml",
        &manifest.replace("  name: web\n", "  name: web\n  labels:\n    tier: web\n"),
    );
    k.run(&["apply", "-f", "web.yaml"])
        .await
        .assert_ok("service/web configured\n");

    let history = history_of(&k.base_url, "web").await;
    let items = history["items"].as_array().expect("items");
    let seen: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["through"].as_str().unwrap_or(""),
                i["verb"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("kubectl apply", "patch"),
            ("kubectl edit", "patch"),
            ("kubectl apply", "create")
        ]
    );
    let spec_lines = |i: usize| -> Vec<&str> {
        items[i]["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter(|c| c["class"] == "spec")
            .filter_map(|c| c["text"].as_str())
            .collect()
    };
    assert_eq!(spec_lines(1), ["spec.ports[https].targetPort 443 → 8443"]);
    assert!(
        spec_lines(0).contains(&"metadata.labels.tier added: web"),
        "{:?}",
        spec_lines(0)
    );
}
