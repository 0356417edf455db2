//! Inputs that took the process down or left it broken (issue 9): each must be refused in
//! kube-apiserver's words, leave stored data as it was, and leave the server answering.

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use service_console::front::Front;
use service_console::store::{ObjectKey, Precondition, Store, StoreError, Write, WriteOp};
use tower::ServiceExt;

use crate::support::{TestCluster, pools};

const SERVICES: &str = "/api/v1/namespaces/default/services";

async fn send(
    app: &Front,
    method: &str,
    uri: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .header("accept", "application/json")
        .body(Body::from(body))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

fn service(name: &str) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    })
    .to_string()
}

/// A cluster with one Service, `web`, and the router over it.
async fn with_web() -> (TestCluster, Front, Value) {
    let cluster = TestCluster::new().await;
    let app = service_console::app(cluster.state.clone());
    let (status, created) = send(&app, "POST", SERVICES, "application/json", service("web")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (cluster, app, created)
}

/// The Service is still there, unchanged, and the server still answers.
async fn assert_unchanged(app: &Front, created: &Value) {
    let (status, now) = send(
        app,
        "GET",
        &format!("{SERVICES}/web"),
        "application/json",
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        now["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
}

fn cause(reply: &Value) -> &str {
    reply["details"]["causes"][0]["message"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_json_patch_copy_bomb_is_refused_at_the_copy_limit() {
    let (_cluster, app, created) = with_web().await;
    let ops: Vec<Value> = (0..20)
        .map(|i| json!({"op": "copy", "from": "/metadata", "path": format!("/metadata/a{i}")}))
        .collect();
    let (status, reply) = send(
        &app,
        "PATCH",
        &format!("{SERVICES}/web"),
        "application/json-patch+json",
        Value::Array(ops).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert!(
        cause(&reply)
            .starts_with("Unable to complete the copy, the accumulated size increase of copy is "),
        "{reply}"
    );
    assert!(
        cause(&reply).ends_with("exceeding the limit 3145728"),
        "{reply}"
    );
    assert_unchanged(&app, &created).await;
}

#[tokio::test]
async fn a_json_patch_nesting_objects_into_each_other_is_refused() {
    let (_cluster, app, created) = with_web().await;
    // About 6,000 levels if nothing stopped it: the patch that overflowed the stack.
    let mut ops = vec![json!({"op": "add", "path": "/metadata/annotations", "value": {}})];
    ops.push(json!({"op": "add", "path": "/x", "value": {}}));
    for _ in 0..2000 {
        ops.push(json!({"op": "add", "path": "/y", "value": {}}));
        ops.push(json!({"op": "move", "from": "/x", "path": "/y/x"}));
        ops.push(json!({"op": "move", "from": "/y", "path": "/x"}));
    }
    let (status, reply) = send(
        &app,
        "PATCH",
        &format!("{SERVICES}/web"),
        "application/json-patch+json",
        Value::Array(ops).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert_eq!(cause(&reply), "exceeded max depth of 100");
    assert_unchanged(&app, &created).await;
}

/// `depth` levels of `{"a": …}` around an empty object, as JSON text built without recursion.
fn nested_object(depth: usize) -> String {
    format!("{}{{}}{}", "{\"a\":".repeat(depth), "}".repeat(depth))
}

#[tokio::test]
async fn deeply_nested_bodies_are_refused_by_every_decoder_and_patch_type() {
    let (_cluster, app, created) = with_web().await;
    let deep = nested_object(20_000);
    let web = format!("{SERVICES}/web");
    let cases = [
        (
            "POST",
            SERVICES.to_owned(),
            "application/json",
            format!(
                "{{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{{\"name\":\"deep\",\"labels\":{deep}}}}}"
            ),
        ),
        (
            "PUT",
            web.clone(),
            "application/json",
            format!(
                "{{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{{\"name\":\"web\",\"annotations\":{deep}}}}}"
            ),
        ),
        (
            "PATCH",
            web.clone(),
            "application/merge-patch+json",
            format!("{{\"metadata\":{{\"annotations\":{deep}}}}}"),
        ),
        (
            "PATCH",
            web.clone(),
            "application/strategic-merge-patch+json",
            format!("{{\"spec\":{{\"x\":{deep}}}}}"),
        ),
        (
            "PATCH",
            web.clone(),
            "application/json-patch+json",
            format!("[{{\"op\":\"add\",\"path\":\"/spec/x\",\"value\":{deep}}}]"),
        ),
        (
            "PATCH",
            format!("{web}?fieldManager=hostile"),
            "application/apply-patch+yaml",
            format!(
                "{{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{{\"name\":\"web\"}},\"spec\":{deep}}}"
            ),
        ),
        (
            "PATCH",
            format!("{web}?fieldManager=hostile"),
            "application/apply-patch+yaml",
            format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec: {}",
                "[".repeat(20_000)
            ),
        ),
        (
            "POST",
            SERVICES.to_owned(),
            "application/yaml",
            format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: deep\nspec: {}1{}",
                "[".repeat(20_000),
                "]".repeat(20_000)
            ),
        ),
    ];
    for (method, uri, content_type, body) in cases {
        let (status, reply) = send(&app, method, &uri, content_type, body).await;
        assert!(
            status.is_client_error(),
            "{method} {content_type}: {status} {reply}"
        );
        assert_unchanged(&app, &created).await;
    }
}

#[tokio::test]
async fn list_options_are_validated_as_upstream_does() {
    let (_cluster, app, _created) = with_web().await;
    let (status, reply) = send(
        &app,
        "GET",
        &format!("{SERVICES}?resourceVersionMatch=garbage&resourceVersion=1"),
        "",
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"garbage\": supported values: \"Exact\", \"NotOlderThan\", \"\""
    );
    // A negative timeout ends the watch at once, as upstream's timer does.
    let watch = tokio::time::timeout(
        Duration::from_secs(10),
        send(
            &app,
            "GET",
            &format!("{SERVICES}?watch=true&timeoutSeconds=-1&resourceVersion=1"),
            "",
            String::new(),
        ),
    )
    .await
    .expect("the watch ended");
    assert_eq!(watch.0, StatusCode::OK);
}

fn store_write(name: &str, filler: &str) -> Write {
    let key = ObjectKey::new("services", "default", name);
    Write::new(WriteOp::Put {
        key,
        uid: format!("uid-{name}"),
        object: json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default", "annotations": {"filler": filler}}}),
        precondition: Precondition::MustNotExist,
    })
}

/// The database's page limit stands in for a full disk: the write that does not fit fails
/// with [`StoreError::Full`], and once compaction frees pages the same store writes again
/// (before the fix every later commit failed until restart).
#[tokio::test]
async fn a_full_database_fails_writes_only_while_it_is_full() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open_sqlite_limited(&dir.path().join("store.db"), Some(300))
        .await
        .expect("open");
    let filler = "x".repeat(4000);
    let mut acknowledged = Vec::new();
    let full = loop {
        let name = format!("svc-{}", acknowledged.len());
        match store.commit(store_write(&name, &filler)).await {
            Ok(_) => acknowledged.push(name),
            Err(e) => break e,
        }
        assert!(acknowledged.len() < 10_000, "the page limit never filled");
    };
    assert!(matches!(full, StoreError::Full), "{full:?}");
    assert!(!store.is_writable());
    // Reads go on, and nothing acknowledged is lost.
    for name in &acknowledged {
        let key = ObjectKey::new("services", "default", name);
        assert!(store.get(&key).await.expect("read").is_some(), "{name}");
    }
    // Deleting the event log's history frees pages; then writes commit again.
    for name in acknowledged.iter().take(acknowledged.len() / 2) {
        let key = ObjectKey::new("services", "default", name);
        let delete = Write::new(WriteOp::Delete {
            key,
            precondition: Precondition::None,
        });
        // Deletes may themselves need a page while the database is full; they must not stick.
        let _ = store.commit(delete).await;
    }
    let _ = store.compact_keeping(0).await;
    store
        .commit(store_write("after", "small"))
        .await
        .expect("writes commit once there is room");
    assert!(store.is_writable());
}

/// Mounts a tmpfs of `size` at `dir`; false where this process may not mount.
fn mount_tmpfs(dir: &Path, size: &str) -> bool {
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

/// A real full filesystem: the client gets 507 in plain words, `/readyz` fails while writes
/// cannot commit and recovers by itself once space is freed, and nothing acknowledged is lost.
#[tokio::test]
async fn a_full_disk_is_reported_and_recovered_from() {
    let mount = tempfile::tempdir().expect("temporary directory");
    if !mount_tmpfs(mount.path(), "8m") {
        assert!(
            std::env::var("CI").is_err(),
            "CI must be able to mount a tmpfs (run as root)"
        );
        eprintln!("skipping: cannot mount a tmpfs here");
        return;
    }
    let unmount = Unmount(mount.path().to_path_buf());
    let state = service_console::server::open_state(mount.path(), pools())
        .await
        .expect("open");
    let app = service_console::app(state.clone());
    // Fill what is left of the filesystem but a little.
    let ballast = mount.path().join("ballast");
    let free = fs_free(mount.path());
    std::fs::write(&ballast, vec![0u8; free.saturating_sub(64 * 1024) as usize]).expect("ballast");

    let mut acknowledged = Vec::new();
    let reply = loop {
        let name = format!("svc-{}", acknowledged.len());
        let (status, reply) =
            send(&app, "POST", SERVICES, "application/json", service(&name)).await;
        if status != StatusCode::CREATED {
            break (status, reply);
        }
        acknowledged.push(name);
        assert!(acknowledged.len() < 5_000, "the filesystem never filled");
    };
    assert_eq!(reply.0, StatusCode::INSUFFICIENT_STORAGE, "{}", reply.1);
    assert!(
        reply.1["message"]
            .as_str()
            .unwrap_or_default()
            .contains("storage is full"),
        "{}",
        reply.1
    );
    let (ready, _) = send(&app, "GET", "/readyz", "", String::new()).await;
    assert_eq!(ready, StatusCode::SERVICE_UNAVAILABLE);

    std::fs::remove_file(&ballast).expect("free space");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (ready, _) = send(&app, "GET", "/readyz", "", String::new()).await;
        if ready == StatusCode::OK {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz never recovered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, reply) = send(
        &app,
        "POST",
        SERVICES,
        "application/json",
        service("after-full"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    for name in &acknowledged {
        let (status, _) = send(
            &app,
            "GET",
            &format!("{SERVICES}/{name}"),
            "",
            String::new(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{name} was acknowledged");
    }
    drop(app);
    drop(state);
    drop(unmount);
}

fn fs_free(path: &Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .expect("df");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df prints the free bytes")
}

/// Unmounts the tmpfs when the test ends, passed or failed.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// A small deterministic generator (xorshift64*), so a failing input can be replayed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A JSON value from the shapes a Service has, sometimes of the wrong type or nested.
    fn value(&mut self, depth: usize) -> Value {
        match self.below(if depth > 3 { 6 } else { 9 }) {
            0 => Value::Null,
            1 => json!(self.below(70_000) as i64 - 100),
            2 => json!(self.pick(&[
                "TCP",
                "UDP",
                "ClusterIP",
                "LoadBalancer",
                "",
                "a/b",
                "None",
                "10.0.0.1"
            ])),
            3 => json!(true),
            4 => json!(self.pick(&["80", "http", "-1", "1e3", "ÿ", "x".repeat(70).as_str()])),
            5 => json!(self.below(3) as f64 + 0.5),
            6 => Value::Array((0..self.below(3)).map(|_| self.value(depth + 1)).collect()),
            _ => {
                let mut map = serde_json::Map::new();
                for _ in 0..self.below(4) {
                    let key = self.pick(&[
                        "port",
                        "ports",
                        "name",
                        "protocol",
                        "targetPort",
                        "nodePort",
                        "type",
                        "selector",
                        "app",
                        "$patch",
                        "$retainKeys",
                        "$setElementOrder/ports",
                        "clusterIP",
                        "labels",
                        "f:spec",
                    ]);
                    map.insert(key.to_owned(), self.value(depth + 1));
                }
                Value::Object(map)
            }
        }
    }

    fn path(&mut self) -> String {
        let mut path = String::new();
        for _ in 0..1 + self.below(4) {
            path.push('/');
            path.push_str(self.pick(&[
                "spec", "metadata", "ports", "0", "1", "-", "labels", "selector", "port", "name",
                "a~1b", "~0", "", "status",
            ]));
        }
        path
    }

    /// A patch body of `content_type`'s kind, well-formed or not.
    fn patch(&mut self, content_type: &str) -> String {
        if self.below(10) == 0 {
            // Bytes that may not even be JSON.
            let mut body: Vec<u8> = (0..self.below(40)).map(|_| self.next() as u8).collect();
            body.insert(0, b'{');
            return String::from_utf8_lossy(&body).into_owned();
        }
        match content_type {
            "application/json-patch+json" => {
                let ops: Vec<Value> = (0..1 + self.below(4))
                    .map(|_| {
                        let op = self.pick(&["add", "remove", "replace", "move", "copy", "test", "bogus"]);
                        json!({"op": op, "path": self.path(), "from": self.path(), "value": self.value(0)})
                    })
                    .collect();
                Value::Array(ops).to_string()
            }
            _ => {
                let mut spec = serde_json::Map::new();
                for _ in 0..1 + self.below(3) {
                    let key = self.pick(&[
                        "ports",
                        "selector",
                        "type",
                        "clusterIP",
                        "sessionAffinity",
                        "externalTrafficPolicy",
                        "$setElementOrder/ports",
                        "$retainKeys",
                    ]);
                    spec.insert(key.to_owned(), self.value(1));
                }
                json!({"metadata": {"labels": self.value(2)}, "spec": spec}).to_string()
            }
        }
    }
}

/// Generated patches of every type, server-side applies, JSON, YAML and protobuf bodies and
/// list/watch query strings against a live registry: the
/// server answers each (a 500 only as kube-apiserver does, as a plain patch-library error),
/// and the stored Service always stays readable.
#[tokio::test]
async fn generated_patches_bodies_and_queries_never_break_the_server() {
    const INPUTS: usize = 1500;
    let (_cluster, app, _created) = with_web().await;
    let mut generator = Gen(0x5EED_CAFE_F00D_0001);
    let web = format!("{SERVICES}/web");
    let mut answered = [0usize; 6];
    for i in 0..INPUTS {
        let content_type = generator.pick(&[
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ]);
        let (method, uri, content_type, body) = match i % 6 {
            0 | 1 => (
                "PATCH",
                web.clone(),
                content_type,
                generator.patch(content_type),
            ),
            2 => {
                let mut body = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": format!("gen-{i}")}, "spec": generator.value(0)});
                if generator.below(2) == 0 {
                    body["spec"] =
                        json!({"ports": [generator.value(1)], "type": generator.value(2)});
                }
                // JSON is YAML too: the YAML decoder gets the same objects.
                let content_type = generator.pick(&["application/json", "application/yaml"]);
                ("POST", SERVICES.to_owned(), content_type, body.to_string())
            }
            4 => {
                let mut body = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": generator.value(2)}});
                body["spec"] = json!({"ports": [generator.value(1)], "selector": generator.value(2), "type": generator.value(3)});
                let force = generator.pick(&["true", "false"]);
                let uri = format!("{web}?fieldManager=generated&force={force}");
                (
                    "PATCH",
                    uri,
                    "application/apply-patch+yaml",
                    body.to_string(),
                )
            }
            5 => {
                // What kubectl create sends, with its envelope cut or filled with noise.
                let mut body = b"k8s\0".to_vec();
                body.extend((0..generator.below(200)).map(|_| generator.next() as u8));
                let body = String::from_utf8_lossy(&body).into_owned();
                (
                    "POST",
                    SERVICES.to_owned(),
                    "application/vnd.kubernetes.protobuf",
                    body,
                )
            }
            _ => {
                let name = generator.pick(&[
                    "limit",
                    "continue",
                    "labelSelector",
                    "fieldSelector",
                    "resourceVersion",
                    "resourceVersionMatch",
                    "timeoutSeconds",
                    "watch",
                    "allowWatchBookmarks",
                ]);
                let value = generator.pick(&[
                    "-1",
                    "0",
                    "abc",
                    "x%3Dy",
                    "metadata.name%3D%3Dweb",
                    "true",
                    "NotOlderThan",
                    "%FF",
                    "99999999999999999999",
                ]);
                let mut uri = format!("{SERVICES}?{name}={value}");
                if name == "watch" {
                    uri.push_str("&timeoutSeconds=1");
                }
                ("GET", uri, "application/json", String::new())
            }
        };
        let (status, reply) = send(&app, method, &uri, content_type, body.clone()).await;
        answered[(status.as_u16() / 100) as usize] += 1;
        if status.is_server_error() {
            // kube-apiserver's own 500s: a patch library's plain error, and an apply whose
            // body the typed converter refuses.
            let message = reply["message"].as_str().unwrap_or_default();
            let upstream_500 = (reply.get("reason").is_none_or(|r| r == "")
                && content_type.contains("patch"))
                || (content_type == "application/apply-patch+yaml"
                    && message.starts_with(
                        "Internal error occurred: failed to create typed patch object",
                    ));
            assert!(
                status == StatusCode::INTERNAL_SERVER_ERROR && upstream_500,
                "{method} {uri} {content_type}\n{body}\n→ {status} {reply}"
            );
        }
        if i % 100 == 0 {
            let (status, now) = send(&app, "GET", &web, "", String::new()).await;
            assert_eq!(status, StatusCode::OK, "{now}");
        }
    }
    eprintln!(
        "{INPUTS} generated inputs answered by class (1xx..5xx): {:?}",
        &answered[1..]
    );
    assert_eq!(answered.iter().sum::<usize>(), INPUTS);
}

/// Generated console forms (field names with odd indices and paths, odd values, every button)
/// posted with a valid CSRF token to the create and update pages: never a 5xx, and the
/// stored Service stays readable.
#[tokio::test]
async fn generated_console_forms_never_break_the_server() {
    use crate::support::{ConsoleResponse, form_body};
    const FORMS: usize = 400;
    let (_cluster, app, _created) = with_web().await;
    let page = |request: Request<Body>| {
        let app = app.clone();
        async move { ConsoleResponse::read(app.oneshot(request).await.expect("response")).await }
    };
    let first = page(
        Request::get("/services")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    let csrf = first
        .cookie("sc_csrf")
        .expect("the console sets a CSRF cookie");
    let mut generator = Gen(0xF0F0_1234_5678_9ABC);
    let names = [
        "metadata.name",
        "metadata.namespace",
        "spec.type",
        "backend",
        "spec.ports[0].port",
        "spec.ports[0].targetPort",
        "spec.ports[0].protocol",
        "spec.ports[0].nodePort",
        "spec.ports[99999999999].port",
        "spec.ports[-1].name",
        "spec.ports[].port",
        "metadata.labels[0].key",
        "metadata.labels[0].value",
        "metadata.annotations[0].key",
        "metadata.annotations[0].value",
        "spec.sessionAffinity",
        "spec.externalTrafficPolicy",
        "spec.clusterIP",
        "resourceVersion",
        "op",
    ];
    let values = [
        "",
        "web",
        "80",
        "-1",
        "99999999999999999999",
        "TCP",
        "LoadBalancer",
        "NodePort",
        "<script>alert(1)</script>",
        "a/b",
        "submit",
        "add-port",
        "remove-port",
        "preview",
        "1",
        "ÿ\u{0}",
    ];
    let mut answered = [0usize; 6];
    let mut forbidden = 0;
    for i in 0..FORMS {
        let mut fields: Vec<(String, String)> = vec![("csrf_token".into(), csrf.clone())];
        for _ in 0..1 + generator.below(8) {
            let name = generator.pick(&names).to_owned();
            let value = if generator.below(4) == 0 {
                "x".repeat(generator.below(300))
            } else {
                generator.pick(&values).to_owned()
            };
            fields.push((name, value));
        }
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let path = if i % 2 == 0 {
            "/services"
        } else {
            "/services/default/web"
        };
        let request = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .header("cookie", format!("sc_csrf={csrf}"))
            .body(Body::from(form_body(&borrowed)))
            .expect("request");
        let reply = page(request).await;
        answered[(reply.status.as_u16() / 100) as usize] += 1;
        if reply.status == StatusCode::FORBIDDEN {
            forbidden += 1;
        }
        assert!(
            !reply.status.is_server_error(),
            "POST {path} {borrowed:?} → {}\n{}",
            reply.status,
            reply.body
        );
    }
    let (status, _) = send(&app, "GET", &format!("{SERVICES}/web"), "", String::new()).await;
    assert_eq!(status, StatusCode::OK);
    eprintln!(
        "{FORMS} generated console forms answered by class (1xx..5xx): {:?}",
        &answered[1..]
    );
    // The token was accepted: the forms reached the form code, not the CSRF check.
    assert_eq!(forbidden, 0);
}
