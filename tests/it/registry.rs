//! The registry over a real SQLite file: the create/update/delete pipeline, allocation
//! under concurrency, optimistic concurrency and restarts.

use serde_json::{Value, json};
use service_console::registry::{DeletePreconditions, RegistryError, WriteOptions};

use crate::support::TestCluster;

fn nginx() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "my-nginx-svc", "labels": {"app": "nginx"},
            "annotations": {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet"}},
        "spec": {"type": "LoadBalancer", "selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}
    })
}

fn opts() -> WriteOptions {
    WriteOptions::default()
}

fn message(e: RegistryError) -> String {
    e.status().message
}

#[tokio::test]
async fn new_cluster_has_default_namespace_and_kubernetes_service() {
    let c = TestCluster::new().await;
    let svc = c
        .registry()
        .get_service("default", "kubernetes")
        .await
        .unwrap();
    assert_eq!(svc["spec"]["clusterIP"], "172.21.0.1");
    assert_eq!(svc["spec"]["ports"][0]["port"], 443);
    c.registry().require_namespace("default").await.unwrap();
    assert_eq!(
        message(c.registry().require_namespace("nons").await.unwrap_err()),
        "namespaces \"nons\" not found"
    );
}

#[tokio::test]
async fn create_sets_server_fields_and_allocates() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let meta = &created["metadata"];
    assert_eq!(meta["namespace"], "default");
    assert_eq!(meta["uid"].as_str().unwrap().len(), 36);
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert!(
        meta["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 0
    );
    assert!(meta.get("generation").is_none());
    let spec = &created["spec"];
    assert!(spec["clusterIP"].as_str().unwrap().starts_with("172.21."));
    assert_eq!(spec["clusterIPs"], json!([spec["clusterIP"].clone()]));
    let np = spec["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&np));
    assert_eq!(spec["externalTrafficPolicy"], "Cluster");
    assert_eq!(spec["allocateLoadBalancerNodePorts"], true);
    assert_eq!(created["status"], json!({"loadBalancer": {}}));
    let got = c
        .registry()
        .get_service("default", "my-nginx-svc")
        .await
        .unwrap();
    assert_eq!(got, created);
}

#[tokio::test]
async fn create_of_existing_name_is_already_exists() {
    let c = TestCluster::new().await;
    c.registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap();
    let e = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap_err();
    assert_eq!(message(e), "services \"my-nginx-svc\" already exists");
}

#[tokio::test]
async fn create_in_missing_namespace_is_not_found() {
    let c = TestCluster::new().await;
    let e = c
        .registry()
        .create_service("nons", &nginx(), &opts())
        .await
        .unwrap_err();
    assert_eq!(e.status().code, 404);
    assert_eq!(message(e), "namespaces \"nons\" not found");
}

#[tokio::test]
async fn invalid_create_stores_nothing() {
    let c = TestCluster::new().await;
    let mut body = nginx();
    body["spec"]["ports"][0]["port"] = json!(0);
    let e = c
        .registry()
        .create_service("default", &body, &opts())
        .await
        .unwrap_err();
    let status = e.status();
    assert_eq!(status.code, 422);
    assert_eq!(
        status.message,
        "Service \"my-nginx-svc\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
    );
    let e = c
        .registry()
        .get_service("default", "my-nginx-svc")
        .await
        .unwrap_err();
    assert_eq!(e.status().code, 404);
    assert!(c.registry().store().allocated("node-port").is_empty());
}

#[tokio::test]
async fn update_keeps_allocations_and_changes_ports() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let mut body = nginx();
    body["spec"]["ports"][0]["port"] = json!(8080);
    let updated = c
        .registry()
        .update_service("default", "my-nginx-svc", &body, &opts())
        .await
        .unwrap();
    assert!(updated.changed);
    let svc = updated.object;
    assert_eq!(svc["spec"]["clusterIP"], created["spec"]["clusterIP"]);
    assert_eq!(svc["spec"]["ports"][0]["port"], 8080);
    assert_eq!(svc["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(
        svc["metadata"]["creationTimestamp"],
        created["metadata"]["creationTimestamp"]
    );
    assert_ne!(
        svc["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn noop_update_keeps_the_resource_version() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let before = c.registry().store().current_revision();
    let again = c
        .registry()
        .update_service("default", "my-nginx-svc", &nginx(), &opts())
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(again.object, created);
    assert_eq!(c.registry().store().current_revision(), before);
}

#[tokio::test]
async fn stale_update_is_a_conflict() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let mut first = created.clone();
    first["metadata"]["labels"]["tier"] = json!("web");
    c.registry()
        .update_service("default", "my-nginx-svc", &first, &opts())
        .await
        .unwrap();
    let mut stale = created.clone();
    stale["metadata"]["labels"]["tier"] = json!("db");
    let e = c
        .registry()
        .update_service("default", "my-nginx-svc", &stale, &opts())
        .await
        .unwrap_err();
    assert_eq!(e.status().code, 409);
    assert_eq!(
        message(e),
        "Operation cannot be fulfilled on services \"my-nginx-svc\": the object has been modified; please apply your changes to the latest version and try again"
    );
}

#[tokio::test]
async fn delete_releases_allocations() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let ip = created["spec"]["clusterIP"].as_str().unwrap().to_string();
    assert!(c.registry().store().allocated("service-ip").contains(&ip));
    let deleted = c
        .registry()
        .delete_service(
            "default",
            "my-nginx-svc",
            &DeletePreconditions::default(),
            &opts(),
        )
        .await
        .unwrap();
    assert_eq!(deleted["metadata"]["name"], "my-nginx-svc");
    assert!(!c.registry().store().allocated("service-ip").contains(&ip));
    assert!(c.registry().store().allocated("node-port").is_empty());
    let e = c
        .registry()
        .delete_service(
            "default",
            "my-nginx-svc",
            &DeletePreconditions::default(),
            &opts(),
        )
        .await
        .unwrap_err();
    assert_eq!(message(e), "services \"my-nginx-svc\" not found");
}

#[tokio::test]
async fn concurrent_creates_with_explicit_node_ports_never_double_allocate() {
    let c = TestCluster::new().await;
    // 32 creates over 8 distinct ports: exactly 8 win, the rest get the allocator's error.
    let ports: Vec<i64> = (0..32).map(|i| 31000 + (i * 7 % 8)).collect();
    let mut tasks = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let registry = c.registry().clone();
        let body = json!({"metadata": {"name": format!("np-{i}")},
            "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}});
        tasks.push(tokio::spawn(async move {
            registry
                .create_service("default", &body, &WriteOptions::default())
                .await
        }));
    }
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(applied) => winners.push(
                applied.object["spec"]["ports"][0]["nodePort"]
                    .as_i64()
                    .unwrap(),
            ),
            Err(e) => assert_eq!(
                message(e),
                format!(
                    "Service \"np-{i}\" is invalid: spec.ports[0].nodePort: Invalid value: {}: provided port is already allocated",
                    ports[i]
                )
            ),
        }
    }
    winners.sort_unstable();
    assert_eq!(winners, (31000..31008).collect::<Vec<_>>());
    assert_eq!(c.registry().store().allocated("node-port").len(), 8);
}

#[tokio::test]
async fn concurrent_dynamic_creates_get_distinct_ips_and_ports() {
    let c = TestCluster::new().await;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let registry = c.registry().clone();
        let body = json!({"metadata": {"name": format!("lb-{i}")},
            "spec": {"type": "NodePort", "ports": [{"port": 80}]}});
        tasks.push(tokio::spawn(async move {
            registry
                .create_service("default", &body, &WriteOptions::default())
                .await
        }));
    }
    let mut ips = std::collections::BTreeSet::new();
    let mut ports = std::collections::BTreeSet::new();
    for task in tasks {
        let svc = task.await.unwrap().unwrap().object;
        ips.insert(svc["spec"]["clusterIP"].as_str().unwrap().to_string());
        ports.insert(svc["spec"]["ports"][0]["nodePort"].as_i64().unwrap());
    }
    assert_eq!(ips.len(), 32);
    assert_eq!(ports.len(), 32);
}

#[tokio::test]
async fn restart_keeps_objects_allocations_and_revision() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let revision = c.registry().store().current_revision();
    let ips = c.registry().store().allocated("service-ip");
    let c = c.reopen().await;
    assert_eq!(
        c.registry()
            .get_service("default", "my-nginx-svc")
            .await
            .unwrap(),
        created
    );
    assert_eq!(c.registry().store().current_revision(), revision);
    assert_eq!(c.registry().store().allocated("service-ip"), ips);
    // The next write continues the counter.
    let mut body = nginx();
    body["metadata"]["name"] = json!("second");
    let second = c
        .registry()
        .create_service("default", &body, &opts())
        .await
        .unwrap()
        .object;
    assert_eq!(
        second["metadata"]["resourceVersion"],
        (revision + 1).to_string()
    );
}

#[tokio::test]
async fn unknown_fields_are_rejected_under_strict_and_warned_otherwise() {
    let c = TestCluster::new().await;
    let mut body = nginx();
    body["spec"]["foo"] = json!("bar");
    let strict = WriteOptions {
        field_validation: service_plan::codec::FieldValidation::Strict,
        ..opts()
    };
    let e = c
        .registry()
        .create_service("default", &body, &strict)
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.foo\""
    );
    let applied = c
        .registry()
        .create_service("default", &body, &opts())
        .await
        .unwrap();
    assert_eq!(
        applied.warnings,
        vec!["unknown field \"spec.foo\"".to_string()]
    );
    assert!(applied.object["spec"].get("foo").is_none());
}

#[tokio::test]
async fn delete_precondition_conflicts_name_the_kind() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let uid = created["metadata"]["uid"].as_str().unwrap().to_string();
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let pre = DeletePreconditions {
        uid: Some("other".into()),
        resource_version: None,
    };
    let e = c
        .registry()
        .delete_service("default", "my-nginx-svc", &pre, &opts())
        .await
        .unwrap_err();
    let status = serde_json::to_value(e.status()).unwrap();
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("Operation cannot be fulfilled on Service \"my-nginx-svc\": the UID in the precondition (other) does not match the UID in record ({uid}). The object might have been deleted and then recreated"),
            "reason": "Conflict", "details": {"name": "my-nginx-svc", "kind": "Service"}, "code": 409})
    );
    let pre = DeletePreconditions {
        uid: Some(uid),
        resource_version: Some("1".into()),
    };
    let e = c
        .registry()
        .delete_service("default", "my-nginx-svc", &pre, &opts())
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        format!(
            "Operation cannot be fulfilled on Service \"my-nginx-svc\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record ({rv}). The object might have been modified"
        )
    );
    assert!(
        c.registry()
            .get_service("default", "my-nginx-svc")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn put_with_another_uid_fails_the_storage_precondition() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let uid = created["metadata"]["uid"].as_str().unwrap().to_string();
    let mut body = created.clone();
    body["metadata"]["uid"] = json!("other");
    // Also stale: the uid precondition is checked before the resourceVersion.
    body["metadata"]["resourceVersion"] = json!("1");
    let e = c
        .registry()
        .update_service("default", "my-nginx-svc", &body, &opts())
        .await
        .unwrap_err();
    let status = e.status();
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        format!(
            "Operation cannot be fulfilled on services \"my-nginx-svc\": StorageError: invalid object, Code: 4, Key: /registry/services/specs/default/my-nginx-svc, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: other, UID in object meta: {uid}"
        )
    );
}

#[tokio::test]
async fn put_with_an_unparsable_resource_version_is_a_bare_500() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let mut body = created.clone();
    body["metadata"]["resourceVersion"] = json!("abc");
    let e = c
        .registry()
        .update_service("default", "my-nginx-svc", &body, &opts())
        .await
        .unwrap_err();
    assert_eq!(
        serde_json::to_value(e.status()).unwrap(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "strconv.ParseUint: parsing \"abc\": invalid syntax", "code": 500})
    );
    // resourceVersion "0" is an unconditional update.
    body["metadata"]["resourceVersion"] = json!("0");
    body["metadata"]["labels"]["tier"] = json!("web");
    let applied = c
        .registry()
        .update_service("default", "my-nginx-svc", &body, &opts())
        .await
        .unwrap();
    assert!(applied.changed);
    assert_eq!(applied.object["metadata"]["labels"]["tier"], "web");
}

#[tokio::test]
async fn update_with_another_namespace_in_the_body_is_a_bad_request() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let mut body = created.clone();
    body["metadata"]["namespace"] = json!("kube-system");
    let e = c
        .registry()
        .update_service("default", "my-nginx-svc", &body, &opts())
        .await
        .unwrap_err();
    assert_eq!(
        (e.status().code, e.status().reason),
        (400, "BadRequest".to_string())
    );
    assert_eq!(
        message(e),
        "the namespace of the provided object does not match the namespace sent on the request"
    );
    let mut body = created.clone();
    body["metadata"]["name"] = json!("other");
    let e = c
        .registry()
        .update_service_status("default", "my-nginx-svc", &body, &opts())
        .await
        .unwrap_err();
    assert_eq!(
        message(e),
        "the name of the object (other) does not match the name on the URL (my-nginx-svc)"
    );
}

#[tokio::test]
async fn status_put_keeps_the_spec_and_takes_the_body_metadata() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create_service("default", &nginx(), &opts())
        .await
        .unwrap()
        .object;
    let mut body = created.clone();
    body["spec"]["ports"][0]["port"] = json!(8080);
    body["metadata"]["labels"]["tier"] = json!("web");
    body["status"] = json!({"loadBalancer": {"ingress": [{"ip": "192.168.49.11"}]}});
    let applied = c
        .registry()
        .update_service_status("default", "my-nginx-svc", &body, &opts())
        .await
        .unwrap();
    assert_eq!(applied.object["spec"], created["spec"]);
    assert_eq!(applied.object["metadata"]["labels"]["tier"], "web");
    assert_eq!(
        applied.object["status"],
        json!({"loadBalancer": {"ingress": [{"ip": "192.168.49.11", "ipMode": "VIP"}]}})
    );
    // The same write again stores nothing.
    let before = c.registry().store().current_revision();
    body["metadata"]["resourceVersion"] = applied.object["metadata"]["resourceVersion"].clone();
    let again = c
        .registry()
        .update_service_status("default", "my-nginx-svc", &body, &opts())
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(c.registry().store().current_revision(), before);
}
