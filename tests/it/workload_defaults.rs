//! Deployments and Pods are stored defaulted, as kube-apiserver v1.32 defaults them on create
//! and update (`SetObjectDefaults_Deployment`, `SetObjectDefaults_Pod`).

use serde_json::{Value, json};
use service_console::registry::{Kind, WriteOptions, kind_by_plural};

use crate::support::TestCluster;
use crate::support::kubectl::Kubectl;

fn deployments() -> &'static Kind {
    kind_by_plural("deployments").expect("deployments are served")
}

fn pods() -> &'static Kind {
    kind_by_plural("pods").expect("pods are served")
}

fn minimal_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}
    })
}

fn defaulted_spec() -> Value {
    json!({
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [{"name": "nginx", "image": "nginx",
                                "imagePullPolicy": "Always",
                                "terminationMessagePath": "/dev/termination-log",
                                "terminationMessagePolicy": "File"}],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "securityContext": {},
                "schedulerName": "default-scheduler"
            }
        }
    })
}

#[tokio::test]
async fn created_deployment_is_stored_defaulted() {
    let c = TestCluster::new().await;
    let created = c
        .registry()
        .create(
            deployments(),
            "default",
            &minimal_deployment(),
            &WriteOptions::default(),
        )
        .await
        .unwrap()
        .object;
    assert_eq!(created["spec"], defaulted_spec());
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(created["status"], json!({}));
    let read = c
        .registry()
        .get(deployments(), "default", "web")
        .await
        .unwrap();
    assert_eq!(read["spec"], defaulted_spec());
}

#[tokio::test]
async fn a_status_sent_on_create_is_dropped() {
    let c = TestCluster::new().await;
    let mut body = minimal_deployment();
    body["status"] = json!({"replicas": 5, "readyReplicas": 5});
    let created = c
        .registry()
        .create(deployments(), "default", &body, &WriteOptions::default())
        .await
        .unwrap()
        .object;
    assert_eq!(created["status"], json!({}));
}

#[tokio::test]
async fn updating_with_the_undefaulted_body_changes_nothing() {
    let c = TestCluster::new().await;
    let opts = WriteOptions::default();
    let created = c
        .registry()
        .create(deployments(), "default", &minimal_deployment(), &opts)
        .await
        .unwrap()
        .object;
    let updated = c
        .registry()
        .update(
            deployments(),
            "default",
            "web",
            &minimal_deployment(),
            &opts,
        )
        .await
        .unwrap();
    assert!(!updated.changed);
    assert_eq!(updated.object["spec"], defaulted_spec());
    assert_eq!(
        updated.object["metadata"]["generation"],
        created["metadata"]["generation"]
    );
}

#[tokio::test]
async fn created_pod_is_stored_defaulted() {
    let c = TestCluster::new().await;
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                 "ports": [{"containerPort": 80}]}]}
    });
    let created = c
        .registry()
        .create(pods(), "default", &pod, &WriteOptions::default())
        .await
        .unwrap()
        .object;
    assert_eq!(
        created["spec"],
        json!({
            "containers": [{"name": "c", "image": "busybox:1.36",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "imagePullPolicy": "IfNotPresent",
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File"}],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "enableServiceLinks": true
        })
    );
    assert_eq!(
        created["status"],
        json!({"phase": "Pending", "qosClass": "BestEffort"})
    );
}

#[tokio::test]
async fn pod_with_only_limits_gets_requests_and_is_guaranteed() {
    let c = TestCluster::new().await;
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "g"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                 "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]}
    });
    let created = c
        .registry()
        .create(pods(), "default", &pod, &WriteOptions::default())
        .await
        .unwrap()
        .object;
    assert_eq!(
        created["spec"]["containers"][0]["resources"],
        json!({"limits": {"cpu": "500m", "memory": "128Mi"},
               "requests": {"cpu": "500m", "memory": "128Mi"}})
    );
    assert_eq!(
        created["status"],
        json!({"phase": "Pending", "qosClass": "Guaranteed"})
    );
}

#[tokio::test]
async fn a_deployment_whose_selector_misses_its_template_is_refused_in_upstreams_words() {
    let cluster = TestCluster::new().await;
    let deployments = kind_by_plural("deployments").unwrap();
    let body = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "other"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]}
            }
        }
    });
    let error = cluster
        .registry()
        .create(deployments, "default", &body, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"
    );
}

/// A Deployment manifest whose one container is `container` (YAML lines under `- `) and whose
/// pod spec adds `extra` (YAML lines at the pod spec's indent).
fn deployment_yaml(container: &str, extra: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
{extra}      containers:
      - name: web
        image: nginx:1.27
{container}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_prints_every_pod_spec_error_of_a_deployment_in_upstreams_order() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write(
        "bad.yaml",
        &deployment_yaml(
            "        env:
        - name: GREETING=1
          value: hi
        volumeMounts:
        - name: missing
          mountPath: /data
        livenessProbe:
          exec:
            command: [\"true\"]
          httpGet:
            port: 80
",
            "      volumes:
      - name: cache
        emptyDir: {}
      - name: cache
        emptyDir: {}
",
        ),
    );
    k.run(&["apply", "-f", "bad.yaml"]).await.assert_err(
        "The Deployment \"web\" is invalid: \n\
         * spec.template.spec.volumes[1].name: Duplicate value: \"cache\"\n\
         * spec.template.spec.containers[0].env[0].name: Invalid value: \"GREETING=1\": a valid environment variable name must consist only of printable ASCII characters other than '='\n\
         * spec.template.spec.containers[0].volumeMounts[0].name: Not found: \"missing\"\n\
         * spec.template.spec.containers[0].livenessProbe.httpGet: Forbidden: may not specify more than 1 handler type\n",
    );
    let run = k.run(&["get", "deployments", "-o", "name"]).await;
    run.assert_ok("");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_shows_a_probe_defaulted_and_refuses_a_pod_without_its_volume() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write(
        "web.yaml",
        &deployment_yaml(
            "        livenessProbe:
          httpGet:
            port: 8080
        volumeMounts:
        - name: config
          mountPath: /etc/web
",
            "      volumes:
      - name: config
        configMap:
          name: web-config
",
        ),
    );
    k.run(&["apply", "-f", "web.yaml"])
        .await
        .assert_ok("deployment.apps/web created\n");
    let run = k.run(&["get", "deployment", "web", "-o", "json"]).await;
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:#?}");
    let deployment: Value = serde_json::from_str(&run.stdout).expect("kubectl printed JSON");
    let spec = &deployment["spec"]["template"]["spec"];
    assert_eq!(
        spec["containers"][0]["livenessProbe"],
        json!({"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
               "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(
        spec["volumes"],
        json!([{"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}}])
    );

    k.write(
        "pod.yaml",
        "apiVersion: v1
kind: Pod
metadata:
  name: lonely
spec:
  containers:
  - name: app
    image: busybox:1.36
    volumeMounts:
    - name: config
      mountPath: /etc/app
",
    );
    k.run(&["apply", "-f", "pod.yaml"]).await.assert_err(
        "The Pod \"lonely\" is invalid: spec.containers[0].volumeMounts[0].name: Not found: \"config\"\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_of_a_replica_set_prints_its_env_and_probe_errors() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.write(
        "rs.yaml",
        "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: nginx:1.27
        env:
        - name: NODE
          valueFrom:
            fieldRef:
              fieldPath: status.phase
        startupProbe:
          tcpSocket:
            port: 80
          successThreshold: 2
",
    );
    k.run(&["create", "-f", "rs.yaml"]).await.assert_err(
        "The ReplicaSet \"api\" is invalid: \n\
         * spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"\n\
         * spec.template.spec.containers[0].startupProbe.successThreshold: Invalid value: 2: must be 1\n",
    );
}
