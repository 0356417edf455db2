//! `kubectl get endpoints` against a server whose controllers run over the demo cluster.

use service_console::registry::{ClusterSettings, WriteOptions};

use crate::support::TestCluster;
use crate::support::kubectl::Kubectl;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_endpoints_lists_the_demo_pod_ips() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let body = serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "my-nginx-svc"},
        "spec": {"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]}
    });
    cluster
        .registry()
        .create_service("default", &body, &WriteOptions::default())
        .await
        .expect("service");
    let Some(k) = Kubectl::start_with(cluster).await else {
        return;
    };
    let deadline = std::time::Instant::now() + crate::support::kubectl::DEADLINE;
    loop {
        let pods = k.get_json("/api/v1/namespaces/default/pods").await;
        let mut ips: Vec<String> = pods["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["status"]["podIP"].as_str().map(|ip| format!("{ip}:80")))
            .collect();
        ips.sort();
        let run = k
            .run(&["get", "endpoints", "my-nginx-svc", "--no-headers"])
            .await;
        let shown = run
            .stdout
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let mut listed: Vec<String> = shown.split(',').map(str::to_string).collect();
        listed.sort();
        if run.code == 0 && ips.len() == 2 && listed == ips {
            assert!(run.stdout.starts_with("my-nginx-svc "), "{run:#?}");
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "endpoints never listed the pods: {run:#?} {ips:?}"
        );
        // Each kubectl run takes its own time; the loop is bounded by the deadline.
        tokio::task::yield_now().await;
    }
}

/// The `kubernetes` Service's Endpoints and EndpointSlice point at the server itself, as
/// kube-apiserver keeps them: its listen address and port, named `https`.
#[test]
fn kubernetes_service_endpoints_are_the_listen_address() {
    let Some(kubectl) = crate::support::kubectl::find_kubectl() else {
        return;
    };
    let server = crate::support::process::ServerProcess::start(&["--no-demo"]);
    let port = server.port;
    let dir = tempfile::tempdir().expect("kubectl home");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        crate::support::kubectl::kubeconfig_for(&server.url),
    )
    .expect("kubeconfig");
    let kubectl = |args: &[&str]| {
        let output = std::process::Command::new(&kubectl)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .args(args)
            .env("HOME", dir.path())
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .expect("run kubectl");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let printed = kubectl(&["get", "endpoints", "kubernetes", "--no-headers"]);
    let cells = crate::support::kubectl::cells(printed.trim_end());
    assert_eq!(
        cells[..2],
        ["kubernetes".to_string(), format!("127.0.0.1:{port}")],
        "{printed}"
    );
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_str(&kubectl(args)).expect("JSON")
    };
    let ep = json(&["get", "endpoints", "kubernetes", "-o", "json"]);
    assert_eq!(
        ep["metadata"]["labels"],
        serde_json::json!({"endpointslice.kubernetes.io/skip-mirror": "true"})
    );
    assert_eq!(
        ep["subsets"],
        serde_json::json!([{"addresses": [{"ip": "127.0.0.1"}],
                            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}])
    );
    let slice = json(&["get", "endpointslice", "kubernetes", "-o", "json"]);
    assert_eq!(
        slice["metadata"]["labels"],
        serde_json::json!({"kubernetes.io/service-name": "kubernetes"})
    );
    assert_eq!(slice["addressType"], serde_json::json!("IPv4"));
    assert_eq!(
        slice["endpoints"],
        serde_json::json!([{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}])
    );
    assert_eq!(
        slice["ports"],
        serde_json::json!([{"name": "https", "port": port, "protocol": "TCP"}])
    );
    let svc = json(&["get", "service", "kubernetes", "-o", "json"]);
    assert_eq!(
        svc["spec"]["ports"][0]["targetPort"],
        serde_json::json!(port)
    );
}
