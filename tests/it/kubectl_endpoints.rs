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
