//! HorizontalPodAutoscalers with the real kubectl: stored as autoscaling/v2 and served as
//! autoscaling/v1 too, one storage behind both, as kube-apiserver v1.32 does. No HPA
//! controller runs here, so targets stay `<unknown>`, as on a cluster without metrics-server.

use serde_json::{Value, json};

use crate::support::kubectl::{Kubectl, ages, cells};

/// kubectl's resource.version.group name of the v1 view.
const HPA_V1: &str = "horizontalpodautoscalers.v1.autoscaling";

/// `kubectl ARGS -o json`, parsed.
async fn json_of(k: &Kubectl, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    let run = k.run(&args).await;
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:#?}");
    serde_json::from_str(&run.stdout).expect("kubectl printed JSON")
}

/// A table's rows as cells, the AGE column (checked to be an age) left out.
fn rows_without_age(output: &str) -> Vec<Vec<String>> {
    ages(output);
    output
        .lines()
        .map(|line| {
            let mut row = cells(line);
            row.pop();
            row
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_autoscale_creates_a_v2_autoscaler_readable_through_v1() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.run(&["create", "deployment", "web", "--image=nginx:1.27"])
        .await
        .assert_ok("deployment.apps/web created\n");
    k.run(&[
        "autoscale",
        "deployment",
        "web",
        "--min=2",
        "--max=5",
        "--cpu-percent=80",
    ])
    .await
    .assert_ok("horizontalpodautoscaler.autoscaling/web autoscaled\n");

    // Upstream's columns; no controller measures the pods, so the target is <unknown>.
    let run = k.run(&["get", "hpa"]).await;
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:#?}");
    assert_eq!(
        rows_without_age(&run.stdout),
        [
            vec![
                "NAME",
                "REFERENCE",
                "TARGETS",
                "MINPODS",
                "MAXPODS",
                "REPLICAS"
            ],
            vec!["web", "Deployment/web", "cpu: <unknown>/80%", "2", "5", "0"],
        ]
    );
    // The v1 view prints the same row.
    let v1 = k.run(&["get", HPA_V1]).await;
    assert_eq!(rows_without_age(&v1.stdout), rows_without_age(&run.stdout));

    // Stored as v2 (kubectl prefers it), as kube-apiserver defaults and stores it.
    let v2 = json_of(&k, &["get", "hpa", "web"]).await;
    assert_eq!(v2["apiVersion"], "autoscaling/v2");
    assert_eq!(
        v2["spec"],
        json!({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
               "minReplicas": 2, "maxReplicas": 5,
               "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]})
    );
    assert_eq!(v2["status"], json!({"desiredReplicas": 0}));

    // The same object through autoscaling/v1: the cpu metric is the v1 percentage.
    let v1 = json_of(&k, &["get", HPA_V1, "web"]).await;
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["metadata"]["uid"], v2["metadata"]["uid"]);
    assert_eq!(
        v1["spec"],
        json!({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
               "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80})
    );
    assert_eq!(
        v1["status"],
        json!({"currentReplicas": 0, "desiredReplicas": 0})
    );

    let api_versions = k.run(&["api-versions"]).await;
    let lines: Vec<&str> = api_versions.stdout.lines().collect();
    for wanted in ["autoscaling/v1", "autoscaling/v2"] {
        assert!(lines.contains(&wanted), "{api_versions:#?}");
    }
    // `hpa` is in the `all` category, as upstream's.
    let all = k.run(&["get", "all", "-o", "name"]).await;
    assert!(
        all.stdout
            .lines()
            .any(|l| l == "horizontalpodautoscaler.autoscaling/web"),
        "{all:#?}"
    );
    k.run(&["delete", "hpa", "web"])
        .await
        .assert_ok("horizontalpodautoscaler.autoscaling \"web\" deleted\n");
    let gone = k.run(&["get", HPA_V1, "web"]).await;
    gone.assert_err(
        "Error from server (NotFound): horizontalpodautoscalers.autoscaling \"web\" not found\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_autoscaler_created_through_v1_reads_through_v2_and_bad_ones_are_refused() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write(
        "v1.yaml",
        "apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api
  maxReplicas: 4
  targetCPUUtilizationPercentage: 60
",
    );
    k.run(&["create", "-f", "v1.yaml"])
        .await
        .assert_ok("horizontalpodautoscaler.autoscaling/api created\n");
    let v2 = json_of(
        &k,
        &["get", "horizontalpodautoscalers.v2.autoscaling", "api"],
    )
    .await;
    assert_eq!(
        v2["spec"],
        json!({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
               "minReplicas": 1, "maxReplicas": 4,
               "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}]})
    );
    // An update through v1 keeps the object v2 stores.
    k.run(&[
        "patch",
        HPA_V1,
        "api",
        "-p",
        r#"{"spec":{"maxReplicas":6}}"#,
    ])
    .await
    .assert_ok("horizontalpodautoscaler.autoscaling/api patched\n");
    let v2 = json_of(&k, &["get", "hpa", "api"]).await;
    assert_eq!(v2["spec"]["maxReplicas"], 6);
    assert_eq!(
        v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        60
    );

    // A v2 metric v1 cannot say survives a write through v1 (in upstream's annotation).
    k.write(
        "memory.yaml",
        "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: mem
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: mem
  maxReplicas: 3
  metrics:
  - type: Resource
    resource:
      name: memory
      target:
        type: AverageValue
        averageValue: 100Mi
",
    );
    k.run(&["create", "-f", "memory.yaml"])
        .await
        .assert_ok("horizontalpodautoscaler.autoscaling/mem created\n");
    let v1 = json_of(&k, &["get", HPA_V1, "mem"]).await;
    assert_eq!(
        v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"],
        r#"[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}}]"#
    );
    assert!(
        v1["spec"].get("targetCPUUtilizationPercentage").is_none(),
        "{v1:#}"
    );
    k.run(&[
        "patch",
        HPA_V1,
        "mem",
        "-p",
        r#"{"spec":{"maxReplicas":4}}"#,
    ])
    .await
    .assert_ok("horizontalpodautoscaler.autoscaling/mem patched\n");
    let v2 = json_of(&k, &["get", "hpa", "mem"]).await;
    assert_eq!(
        (
            &v2["spec"]["maxReplicas"],
            &v2["spec"]["metrics"][0]["resource"]["name"]
        ),
        (&json!(4), &json!("memory"))
    );
    assert!(v2["metadata"].get("annotations").is_none(), "{v2:#}");

    // maxReplicas below minReplicas, in kube-apiserver's words, through either version.
    k.write(
        "bad.yaml",
        "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: bad
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 3
  maxReplicas: 2
",
    );
    k.run(&["create", "-f", "bad.yaml"]).await.assert_err(
        "The HorizontalPodAutoscaler \"bad\" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`\n",
    );
    k.write(
        "bad-v1.yaml",
        "apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: bad
spec:
  scaleTargetRef:
    name: web
  minReplicas: 0
  maxReplicas: 2
",
    );
    k.run(&["create", "-f", "bad-v1.yaml"]).await.assert_err(
        "The HorizontalPodAutoscaler \"bad\" is invalid: \n* spec.minReplicas: Invalid value: 0: must be greater than or equal to 1\n* spec.scaleTargetRef.kind: Required value\n\
         * spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas\n",
    );
    let missing = k.run(&["get", "hpa", "bad"]).await;
    assert_eq!(missing.code, 1, "{missing:#?}");
}
