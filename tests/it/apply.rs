//! Server-side apply through the registry on a real SQLite file: create, no-op re-apply,
//! pruning, conflicts with other managers, force, and `metadata.managedFields` of every write.

use serde_json::{Value, json};
use service_console::registry::{Kind, RegistryError, WriteOptions, kind_by_plural};

use crate::support::TestCluster;

const NAME: &str = "my-nginx-svc";

fn services() -> &'static Kind {
    kind_by_plural("services").expect("services are served")
}

/// The body of `kubectl apply --server-side -f my-nginx-svc.yaml`.
fn nginx() -> Value {
    json!({"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":"nginx"},"name":NAME,"namespace":"default"},
           "spec":{"ports":[{"port":80,"protocol":"TCP","targetPort":80}],"selector":{"app":"nginx"},"type":"LoadBalancer"}})
}

fn by(manager: &str) -> WriteOptions {
    WriteOptions {
        field_manager: Some(manager.to_string()),
        ..WriteOptions::default()
    }
}

async fn apply(
    c: &TestCluster,
    body: &Value,
    force: bool,
) -> Result<(Value, bool, bool), RegistryError> {
    let (applied, created) = c
        .registry()
        .apply(
            services(),
            "default",
            NAME,
            body,
            "kubectl",
            force,
            false,
            &WriteOptions::default(),
        )
        .await?;
    Ok((applied.object, applied.changed, created))
}

fn managers(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().expect("manager").to_string(),
                e["operation"].as_str().expect("operation").to_string(),
            )
        })
        .collect()
}

/// `kubectl apply` (client-side) changing targetPort of the applied Service.
async fn client_side_apply_changes_target_port(c: &TestCluster) {
    let mut current = c
        .registry()
        .get_service("default", NAME)
        .await
        .expect("stored service");
    current["spec"]["ports"][0]["targetPort"] = json!(8080);
    c.registry()
        .update_service("default", NAME, &current, &by("kubectl-client-side-apply"))
        .await
        .expect("client-side apply");
}

#[tokio::test]
async fn apply_creates_and_reapplying_unchanged_is_a_noop() {
    let c = TestCluster::new().await;
    let (created, changed, was_created) = apply(&c, &nginx(), false).await.unwrap();
    assert!(was_created && changed);
    assert!(
        created["spec"]["clusterIP"]
            .as_str()
            .unwrap()
            .starts_with("172.21.")
    );
    assert!(created["spec"]["ports"][0]["nodePort"].as_i64().is_some());
    let entry = &created["metadata"]["managedFields"][0];
    assert_eq!(
        managers(&created),
        [("kubectl".to_string(), "Apply".to_string())]
    );
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:metadata":{"f:labels":{"f:app":{}}},
               "f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}},
                         "f:selector":{},"f:type":{}}})
    );
    let before = c.registry().store().current_revision();
    let (again, changed, was_created) = apply(&c, &nginx(), false).await.unwrap();
    assert!(!was_created && !changed);
    assert_eq!(again, created);
    assert_eq!(c.registry().store().current_revision(), before);
}

#[tokio::test]
async fn apply_changes_a_port_and_keeps_allocations() {
    let c = TestCluster::new().await;
    let (created, _, _) = apply(&c, &nginx(), false).await.unwrap();
    let mut body = nginx();
    body["spec"]["ports"] = json!([{"name":"http","port":8080,"protocol":"TCP","targetPort":80}]);
    let (updated, changed, was_created) = apply(&c, &body, false).await.unwrap();
    assert!(changed && !was_created);
    let ports = updated["spec"]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1, "port 80 is pruned: {ports:?}");
    assert_eq!(ports[0]["port"], 8080);
    assert!(ports[0]["nodePort"].as_i64().is_some());
    assert_eq!(updated["spec"]["clusterIP"], created["spec"]["clusterIP"]);
    assert_ne!(
        updated["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(
        c.registry().get_service("default", NAME).await.unwrap(),
        updated
    );
}

#[tokio::test]
async fn apply_over_a_client_side_apply_change_is_a_conflict() {
    let c = TestCluster::new().await;
    apply(&c, &nginx(), false).await.unwrap();
    client_side_apply_changes_target_port(&c).await;
    let before = c.registry().get_service("default", NAME).await.unwrap();
    let e = apply(&c, &nginx(), false).await.unwrap_err();
    let status = serde_json::to_value(e.status()).unwrap();
    assert_eq!(
        status,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
               "message":"Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .spec.ports[port=80,protocol=\"TCP\"].targetPort",
               "reason":"Conflict",
               "details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-client-side-apply\" using v1",
                                     "field":".spec.ports[port=80,protocol=\"TCP\"].targetPort"}]},
               "code":409})
    );
    assert_eq!(
        c.registry().get_service("default", NAME).await.unwrap(),
        before
    );
}

#[tokio::test]
async fn forced_apply_takes_the_conflicting_field() {
    let c = TestCluster::new().await;
    apply(&c, &nginx(), false).await.unwrap();
    client_side_apply_changes_target_port(&c).await;
    let (forced, changed, _) = apply(&c, &nginx(), true).await.unwrap();
    assert!(changed);
    assert_eq!(forced["spec"]["ports"][0]["targetPort"], 80);
    assert_eq!(
        managers(&forced),
        [("kubectl".to_string(), "Apply".to_string())]
    );
    apply(&c, &nginx(), false).await.unwrap();
}

#[tokio::test]
async fn apply_without_field_manager_is_invalid() {
    let c = TestCluster::new().await;
    let e = c
        .registry()
        .apply(
            services(),
            "default",
            NAME,
            &nginx(),
            "",
            false,
            false,
            &WriteOptions::default(),
        )
        .await
        .unwrap_err();
    let status = e.status();
    assert_eq!(status.code, 422);
    assert_eq!(
        status.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
}

#[tokio::test]
async fn apply_with_another_name_is_a_bad_request() {
    let c = TestCluster::new().await;
    let mut body = nginx();
    body["metadata"]["name"] = json!("other");
    let e = apply(&c, &body, false).await.unwrap_err();
    assert_eq!(e.status().code, 400);
    assert_eq!(
        e.status().message,
        "the name of the object (other) does not match the name on the URL (my-nginx-svc)"
    );
}

#[tokio::test]
async fn ordinary_writes_record_update_entries() {
    let c = TestCluster::new().await;
    let mut body = nginx();
    body["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    let created = c
        .registry()
        .create_service("default", &body, &by("kubectl-create"))
        .await
        .unwrap()
        .object;
    let entries = created["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry["manager"], "kubectl-create");
    assert_eq!(entry["operation"], "Update");
    assert_eq!(entry["apiVersion"], "v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert!(entry["time"].as_str().unwrap().ends_with('Z'));
    let spec = entry["fieldsV1"]["f:spec"].as_object().unwrap();
    assert!(
        spec.contains_key("f:sessionAffinity") && spec.contains_key("f:type"),
        "{spec:?}"
    );
    assert!(
        !spec.contains_key("f:clusterIP"),
        "allocated fields belong to nobody: {spec:?}"
    );

    let before = c.registry().store().current_revision();
    let same = c
        .registry()
        .update_service("default", NAME, &created, &by("kubectl-edit"))
        .await
        .unwrap();
    assert!(!same.changed);
    assert_eq!(c.registry().store().current_revision(), before);

    let label = |current: &Value| {
        let mut v = current.clone();
        v["metadata"]["labels"]["env"] = json!("prod");
        Ok(v)
    };
    let labelled = c
        .registry()
        .patch_service("default", NAME, &by("kubectl-label"), label)
        .await
        .unwrap()
        .object;
    assert_eq!(
        managers(&labelled),
        [
            ("kubectl-create".to_string(), "Update".to_string()),
            ("kubectl-label".to_string(), "Update".to_string())
        ]
    );
    assert_eq!(
        labelled["metadata"]["managedFields"][1]["fieldsV1"],
        json!({"f:metadata":{"f:labels":{"f:env":{}}}})
    );
}

/// An apply to the status of another kind: only the status changes, and the applier owns it
/// through an `Apply` entry for the status subresource.
#[tokio::test]
async fn apply_to_a_deployment_status_changes_only_the_status() {
    let c = TestCluster::new().await;
    let deployments = kind_by_plural("deployments").expect("deployments are served");
    let deployment = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
        "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
                "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}});
    c.registry()
        .create(deployments, "default", &deployment, &by("kubectl-create"))
        .await
        .unwrap();
    let status = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
        "spec":{"replicas":7},"status":{"observedGeneration":1,"replicas":1}});
    let (applied, created) = c
        .registry()
        .apply(
            deployments,
            "default",
            "web",
            &status,
            "rollout-controller",
            false,
            true,
            &WriteOptions::default(),
        )
        .await
        .unwrap();
    assert!(!created);
    let object = applied.object;
    assert_eq!(
        (&object["spec"]["replicas"], &object["status"]["replicas"]),
        (&json!(1), &json!(1)),
        "{object}"
    );
    let entry = object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "rollout-controller")
        .cloned()
        .unwrap_or_else(|| panic!("no rollout-controller entry in {object}"));
    assert_eq!(
        (&entry["operation"], &entry["subresource"]),
        (&json!("Apply"), &json!("status"))
    );
    assert!(
        entry["fieldsV1"].get("f:spec").is_none(),
        "the status subresource owns no spec field: {entry}"
    );
}
