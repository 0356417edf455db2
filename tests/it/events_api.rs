//! events.k8s.io/v1 Events with the real kubectl: one storage behind two APIs, as in
//! kube-apiserver. The controllers' core/v1 Events list through events.k8s.io/v1 with the
//! same Table; an Event created through either API reads through the other, converted; the
//! new API's stricter validation answers with upstream's 422; its watch converts each event.

use std::time::Instant;

use serde_json::{Value, json};
use service_console::registry::ClusterSettings;

use crate::support::TestCluster;
use crate::support::kubectl::{DEADLINE, Kubectl, cells};

/// kubectl's resource.version.group name of the new API's events.
const EVENTS_V1: &str = "events.v1.events.k8s.io";

/// An events.k8s.io/v1 Event as a new-style recorder writes it.
const EVENTS_V1_YAML: &str = "apiVersion: events.k8s.io/v1
kind: Event
metadata:
  name: web.scaled
  namespace: default
eventTime: \"2026-12-05T10:00:00.123456Z\"
reportingController: example.com/scaler
reportingInstance: scaler-7f9
action: Scaling
reason: ScaledUp
regarding:
  apiVersion: apps/v1
  kind: Deployment
  name: web
  namespace: default
related:
  kind: ReplicaSet
  name: web-5d8
  namespace: default
note: scaled web up to 3 replicas
type: Normal
series:
  count: 2
  lastObservedTime: \"2026-12-05T10:01:00.000000Z\"
";

/// A core/v1 Event as an old-style recorder (kubelet, controllers) writes it.
const CORE_YAML: &str = "apiVersion: v1
kind: Event
metadata:
  name: web.pulled
  namespace: default
involvedObject:
  kind: Pod
  name: web-1
  namespace: default
  fieldPath: spec.containers{web}
reason: Pulled
message: Container image pulled
source:
  component: kubelet
  host: node-1
firstTimestamp: \"2026-12-05T09:00:00Z\"
lastTimestamp: \"2026-12-05T09:30:00Z\"
count: 4
type: Normal
";

/// The item named `name` of a list kubectl printed as JSON.
fn item<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e.pointer("/metadata/name") == Some(&json!(name)))
        .unwrap_or_else(|| panic!("no event {name} in {list:#}"))
}

/// `kubectl ARGS -o json`, parsed.
async fn json_of(k: &Kubectl, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    let run = k.run(&args).await;
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:#?}");
    serde_json::from_str(&run.stdout).expect("kubectl printed JSON")
}

/// A table's lines as cells, without the LAST SEEN column (`skip`), which may tick between
/// two runs.
fn rows_without(output: &str, skip: usize) -> Vec<Vec<String>> {
    output
        .lines()
        .map(|line| {
            let mut cells = cells(line);
            if cells.len() > skip {
                cells.remove(skip);
            }
            cells
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_v1_lists_the_controllers_events_with_upstreams_table() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let Some(k) = Kubectl::start_with(cluster).await else {
        return;
    };
    // The demo cluster's controllers record Events through core/v1.
    let deadline = Instant::now() + DEADLINE;
    let core = loop {
        let core = k.get_json("/api/v1/events").await;
        if core["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break core;
        }
        assert!(Instant::now() < deadline, "no controller events: {core:#}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let first = &core["items"][0];
    let name = first["metadata"]["name"].as_str().unwrap_or_default();
    let namespace = first["metadata"]["namespace"].as_str().unwrap_or_default();

    // The same rows as through core/v1: one storage, one printer. The controllers may record
    // another Event between the two runs, so they are compared until both show the same.
    let deadline = Instant::now() + DEADLINE;
    let (v1, legacy) = loop {
        let v1 = k.run(&["get", EVENTS_V1, "-A"]).await;
        let legacy = k.run(&["get", "events", "-A"]).await;
        let same = rows_without(&v1.stdout, 1) == rows_without(&legacy.stdout, 1);
        if same || Instant::now() >= deadline {
            break (v1, legacy);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!((v1.code, v1.stderr.as_str()), (0, ""), "{v1:#?}");
    assert_eq!(legacy.code, 0, "{legacy:#?}");
    let header = v1.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        cells(header),
        [
            "NAMESPACE",
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "MESSAGE"
        ]
    );
    assert!(v1.stdout.lines().count() > 1, "{v1:#?}");
    assert_eq!(rows_without(&v1.stdout, 1), rows_without(&legacy.stdout, 1));
    let wide = k
        .run(&["get", EVENTS_V1, "-n", namespace, "-o", "wide"])
        .await;
    assert_eq!(
        cells(wide.stdout.lines().next().unwrap_or_default()),
        [
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST SEEN",
            "COUNT",
            "NAME"
        ],
        "{wide:#?}"
    );

    // Each is converted: involvedObject is regarding, message is note, count deprecatedCount.
    let served = json_of(&k, &["get", EVENTS_V1, "-n", namespace, name]).await;
    assert_eq!(served["apiVersion"], "events.k8s.io/v1");
    assert_eq!(served["regarding"], first["involvedObject"]);
    assert_eq!(served["note"], first["message"]);
    // The controllers may count the Event up meanwhile: its count is read between two core reads.
    let again = k
        .get_json(&format!("/api/v1/namespaces/{namespace}/events/{name}"))
        .await;
    let count = served["deprecatedCount"].as_i64().unwrap_or_default();
    assert!(
        (first["count"].as_i64().unwrap_or_default()..=again["count"].as_i64().unwrap_or_default())
            .contains(&count),
        "{served:#} {again:#}"
    );
    assert_eq!(served["deprecatedSource"], first["source"]);
    assert_eq!(served["reportingController"], first["reportingComponent"]);
    assert_eq!(served["metadata"]["uid"], first["metadata"]["uid"]);
    for core_only in ["involvedObject", "message", "count", "source"] {
        assert!(served.get(core_only).is_none(), "{core_only} in {served:#}");
    }

    // Field selectors use the new API's labels, mapped to the stored fields.
    let kind = first["involvedObject"]["kind"].as_str().unwrap_or_default();
    let regarding = format!(
        "regarding.kind={kind},regarding.name={}",
        first["involvedObject"]["name"].as_str().unwrap_or_default()
    );
    let selected = json_of(
        &k,
        &["get", EVENTS_V1, "-A", "--field-selector", &regarding],
    )
    .await;
    assert!(selected["items"].as_array().is_some_and(|i| !i.is_empty()));
    assert!(
        selected["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| e["regarding"]["kind"] == json!(kind)),
        "{selected:#}"
    );
    k.run(&["get", EVENTS_V1, "-A", "--field-selector", "involvedObject.kind=Pod"])
        .await
        .assert_err("Error from server (BadRequest): Unable to find \"events.k8s.io/v1, Resource=events\" that match label selector \"\", field selector \"involvedObject.kind=Pod\": field label not supported: involvedObject.kind\n");
    // Pages of the new API are pages of the same rows.
    let paged = k
        .run(&["get", EVENTS_V1, "-A", "--chunk-size=1", "-o", "name"])
        .await;
    let all = k.run(&["get", "events", "-A", "-o", "name"]).await;
    assert_eq!(paged.code, 0, "{paged:#?}");
    assert_eq!(
        paged.stdout.lines().count(),
        all.stdout.lines().count(),
        "{paged:#?} {all:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_created_through_either_api_reads_through_the_other() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write("new.yaml", EVENTS_V1_YAML);
    k.run(&["create", "-f", "new.yaml"])
        .await
        .assert_ok("event.events.k8s.io/web.scaled created\n");
    let core = json_of(&k, &["get", "events"]).await;
    let event = item(&core, "web.scaled");
    assert_eq!(event["apiVersion"], "v1");
    assert_eq!(
        event["involvedObject"],
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "default"})
    );
    assert_eq!(event["message"], "scaled web up to 3 replicas");
    assert_eq!(event["reportingComponent"], "example.com/scaler");
    assert_eq!(event["reportingInstance"], "scaler-7f9");
    assert_eq!(event["action"], "Scaling");
    assert_eq!(event["reason"], "ScaledUp");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["eventTime"], "2026-12-05T10:00:00.123456Z");
    assert_eq!(
        event["series"],
        json!({"count": 2, "lastObservedTime": "2026-12-05T10:01:00.000000Z"})
    );
    assert_eq!(event["related"]["name"], "web-5d8");
    for new_only in [
        "regarding",
        "note",
        "reportingController",
        "deprecatedCount",
    ] {
        assert!(event.get(new_only).is_none(), "{new_only} in {event:#}");
    }

    k.write("old.yaml", CORE_YAML);
    k.run(&["create", "-f", "old.yaml"])
        .await
        .assert_ok("event/web.pulled created\n");
    let served = json_of(&k, &["get", EVENTS_V1, "web.pulled"]).await;
    assert_eq!(served["apiVersion"], "events.k8s.io/v1");
    assert_eq!(served["kind"], "Event");
    assert_eq!(
        served["regarding"],
        json!({"kind": "Pod", "name": "web-1", "namespace": "default", "fieldPath": "spec.containers{web}"})
    );
    assert_eq!(served["note"], "Container image pulled");
    assert_eq!(
        served["deprecatedSource"],
        json!({"component": "kubelet", "host": "node-1"})
    );
    assert_eq!(served["deprecatedFirstTimestamp"], "2026-12-05T09:00:00Z");
    assert_eq!(served["deprecatedLastTimestamp"], "2026-12-05T09:30:00Z");
    assert_eq!(served["deprecatedCount"], 4);
    for core_only in [
        "involvedObject",
        "message",
        "source",
        "count",
        "firstTimestamp",
    ] {
        assert!(served.get(core_only).is_none(), "{core_only} in {served:#}");
    }

    // A patch through the new API applies to its fields; the stored Event changes for both.
    k.run(&[
        "patch",
        EVENTS_V1,
        "web.pulled",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"seen":"yes"}}}"#,
    ])
    .await
    .assert_ok("event.events.k8s.io/web.pulled patched\n");
    let core = k
        .get_json("/api/v1/namespaces/default/events/web.pulled")
        .await;
    assert_eq!(core["metadata"]["labels"]["seen"], "yes");
    assert_eq!(core["message"], "Container image pulled");
    // Through the new API, what the old one allowed to change is immutable.
    let changed = k
        .run(&[
            "patch",
            EVENTS_V1,
            "web.pulled",
            "--type=merge",
            "-p",
            r#"{"note":"another"}"#,
        ])
        .await;
    changed.assert_err(
        "The Event \"web.pulled\" is invalid: message: Invalid value: \"another\": field is immutable\n",
    );

    k.run(&["delete", EVENTS_V1, "web.scaled"])
        .await
        .assert_ok("event.events.k8s.io \"web.scaled\" deleted\n");
    k.run(&["get", "events", "web.scaled"])
        .await
        .assert_err("Error from server (NotFound): events \"web.scaled\" not found\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_v1_requires_what_upstream_requires() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write(
        "no-action.yaml",
        &EVENTS_V1_YAML
            .replace("name: web.scaled", "name: no-action")
            .replace("action: Scaling\n", ""),
    );
    k.run(&["create", "-f", "no-action.yaml"])
        .await
        .assert_err("The Event \"no-action\" is invalid: action: Required value\n");
    // The 422 itself, as kube-apiserver words it.
    let body = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "web.scaled"},
        "eventTime": "2026-12-05T10:00:00.000000Z",
        "reportingInstance": "scaler-7f9",
        "action": "Scaling",
        "reason": "ScaledUp",
        "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"},
        "type": "Normal",
    });
    let response = reqwest::Client::new()
        .post(format!(
            "{}/apis/events.k8s.io/v1/namespaces/default/events",
            k.base_url
        ))
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 422);
    let status: Value = response.json().await.expect("a Status");
    assert_eq!(
        status["message"],
        "Event.events.k8s.io \"web.scaled\" is invalid: [reportingController: Required value, reportingController: Invalid value: \"\": name part must be non-empty, reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]"
    );
    assert_eq!(status["details"]["group"], "events.k8s.io");
    assert_eq!(status["details"]["kind"], "Event");

    // The deprecated fields are the old API's: the new one refuses them.
    k.write(
        "old-as-new.yaml",
        &CORE_YAML.replace("apiVersion: v1", "apiVersion: events.k8s.io/v1"),
    );
    let refused = k.run(&["create", "-f", "old-as-new.yaml"]).await;
    assert_eq!(refused.code, 1, "{refused:#?}");
    assert!(
        refused.stderr.contains("unknown field \"involvedObject\""),
        "{refused:#?}"
    );
    // Through core/v1 the same Event without an action is legacy-valid.
    k.write(
        "core-no-action.yaml",
        "apiVersion: v1\nkind: Event\nmetadata:\n  name: plain\ninvolvedObject:\n  kind: Pod\n  name: p\n  namespace: default\nreason: Started\n",
    );
    k.run(&["create", "-f", "core-no-action.yaml"])
        .await
        .assert_ok("event/plain created\n");
    k.write(
        "wrong-namespace.yaml",
        "apiVersion: v1\nkind: Event\nmetadata:\n  name: elsewhere\ninvolvedObject:\n  kind: Pod\n  name: p\n  namespace: kube-system\n",
    );
    k.run(&["create", "-f", "wrong-namespace.yaml"])
        .await
        .assert_err("The Event \"elsewhere\" is invalid: involvedObject.namespace: Invalid value: \"kube-system\": does not match event.namespace\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_through_events_v1_sees_a_new_event_converted() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    let mut watch = k.spawn(&[
        "get",
        EVENTS_V1,
        "--watch",
        "--output-watch-events",
        "-o",
        "jsonpath={.type} {.object.apiVersion} {.object.metadata.name} {.object.note}{\"\\n\"}",
    ]);
    // Created through core/v1 once the watch is listening (kubectl lists first, then watches).
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    k.write("old.yaml", CORE_YAML);
    k.run(&["create", "-f", "old.yaml"])
        .await
        .assert_ok("event/web.pulled created\n");
    let line = watch
        .wait_for("the new event", |line| line.contains("web.pulled"))
        .await;
    assert_eq!(
        line,
        "ADDED events.k8s.io/v1 web.pulled Container image pulled"
    );
    k.run(&["delete", "events", "web.pulled"])
        .await
        .assert_ok("event \"web.pulled\" deleted\n");
    let line = watch
        .wait_for("the deletion", |line| line.starts_with("DELETED"))
        .await;
    assert_eq!(
        line,
        "DELETED events.k8s.io/v1 web.pulled Container image pulled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_through_events_v1_merges_the_view() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write("new.yaml", EVENTS_V1_YAML);
    k.run(&["apply", "-f", "new.yaml"])
        .await
        .assert_ok("event.events.k8s.io/web.scaled created\n");
    // The second apply diffs against the view it reads back: nothing changed.
    k.run(&["apply", "-f", "new.yaml"])
        .await
        .assert_ok("event.events.k8s.io/web.scaled unchanged\n");
    k.run(&["apply", "--server-side", "-f", "new.yaml"])
        .await
        .assert_ok("event.events.k8s.io/web.scaled serverside-applied\n");
    let core = k
        .get_json("/api/v1/namespaces/default/events/web.scaled")
        .await;
    assert_eq!(core["message"], "scaled web up to 3 replicas");
    assert_eq!(core["reportingComponent"], "example.com/scaler");
    // Managed fields keep the version they were written through, as upstream records them.
    let managers: Vec<(&str, &str)> = core["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or_default(),
                m["apiVersion"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        managers.contains(&("kubectl", "events.k8s.io/v1")),
        "{managers:?}"
    );
}
