//! The real kubectl against a server whose controllers run over the demo cluster: the
//! EXTERNAL-IP of a LoadBalancer Service (`<pending>` first, then the SLB address), its
//! Endpoints with the demo pods' IPs, and `kubectl describe` with the ingress and CCM's Events.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::Value;
use service_console::registry::ClusterSettings;

use crate::support::TestCluster;
use crate::support::kubectl::{DEADLINE, Kubectl, ages, cells, table};

/// The annotation that names an existing SLB instance to reuse.
const LB_ID: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id";

/// The pause between two polls of the API.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

const SERVICE_HEADER: [&str; 6] = [
    "NAME",
    "TYPE",
    "CLUSTER-IP",
    "EXTERNAL-IP",
    "PORT(S)",
    "AGE",
];

/// The ACK walkthrough's `my-nginx-svc` for the demo `nginx` app, with extra annotations.
fn nginx_svc_yaml(annotations: &[(&str, &str)]) -> String {
    let mut yaml = String::from("apiVersion: v1\nkind: Service\nmetadata:\n  name: my-nginx-svc\n");
    if !annotations.is_empty() {
        yaml.push_str("  annotations:\n");
        for (key, value) in annotations {
            yaml.push_str(&format!("    {key}: {value}\n"));
        }
    }
    yaml.push_str(
        "  labels:\n    app: nginx\nspec:\n  type: LoadBalancer\n  selector:\n    app: nginx\n  \
         ports:\n  - port: 80\n    protocol: TCP\n    targetPort: 80\n",
    );
    yaml
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

/// A server with the workloads, endpoints and load-balancer controllers over the demo
/// cluster; `None` when kubectl is missing.
async fn start() -> Option<Kubectl> {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    Kubectl::start_with(cluster).await
}

/// Polls `probe` until it returns `Some`, failing with `what` after [`DEADLINE`].
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn service(k: &Kubectl, name: &str) -> Value {
    k.get_json(&format!("/api/v1/namespaces/default/services/{name}"))
        .await
}

/// The ingress IP the controller sets on `name`, once it is set.
async fn ingress_ip(k: &Kubectl, name: &str) -> String {
    eventually(&format!("the ingress IP of {name}"), || async {
        let svc = service(k, name).await;
        svc.pointer("/status/loadBalancer/ingress/0/ip")
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .await
}

/// The pod IPs of the demo `nginx` Deployment, once both replicas have one, sorted.
async fn nginx_pod_ips(k: &Kubectl) -> Vec<String> {
    eventually("two nginx pods with IPs", || async {
        let pods = k
            .get_json("/api/v1/namespaces/default/pods?labelSelector=app%3Dnginx")
            .await;
        let mut ips: Vec<String> = pods["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.pointer("/status/podIP").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        ips.sort_by_key(|ip| ip.parse::<std::net::Ipv4Addr>().ok());
        (ips.len() == 2).then_some(ips)
    })
    .await
}

/// The events of `name` as (type, reason, message), from the API.
async fn events_of(k: &Kubectl, name: &str) -> Vec<(String, String, String)> {
    let events = k.get_json("/api/v1/namespaces/default/events").await;
    events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e.pointer("/involvedObject/name").and_then(Value::as_str) == Some(name))
        .map(|e| {
            let text = |key: &str| e[key].as_str().unwrap_or_default().to_owned();
            (text("type"), text("reason"), text("message"))
        })
        .collect()
}

/// Waits for an event of `name` that satisfies `wanted`, failing with the events recorded so far.
async fn wait_for_event(
    k: &Kubectl,
    name: &str,
    wanted: impl Fn(&(String, String, String)) -> bool,
) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let events = events_of(k, name).await;
        if events.iter().any(&wanted) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no such event of {name} within {DEADLINE:?}; recorded {events:#?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn cluster_ip(svc: &Value) -> String {
    svc["spec"]["clusterIP"]
        .as_str()
        .expect("a Cluster IP")
        .to_owned()
}

fn node_port(svc: &Value) -> i64 {
    svc["spec"]["ports"][0]["nodePort"]
        .as_i64()
        .expect("a node port")
}

/// The cells of a `get svc` line for `my-nginx-svc` without its AGE.
fn without_age(line: &str) -> Vec<String> {
    let mut cells = cells(line);
    cells.pop();
    cells
}

/// The cells of a `kubectl describe` table row (its tabwriter pads columns by two spaces).
fn describe_cells(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_svc_watch_prints_pending_before_the_external_ip_the_controller_assigns() {
    let Some(k) = start().await else {
        return;
    };
    let mut watch = k.spawn(&["get", "svc", "-w"]);
    // The seeded `kubernetes` row: the watch is established before the Service exists.
    watch
        .wait_for("the kubernetes Service", |l| l.starts_with("kubernetes "))
        .await;
    k.write("my-nginx-svc.yaml", &nginx_svc_yaml(&[]));
    k.run(&["apply", "-f", "my-nginx-svc.yaml"])
        .await
        .assert_ok("service/my-nginx-svc created\n");
    let first = watch
        .wait_for("the my-nginx-svc row", |l| l.starts_with("my-nginx-svc "))
        .await;
    let ip = ingress_ip(&k, "my-nginx-svc").await;
    let svc = service(&k, "my-nginx-svc").await;
    let (cluster_ip, np) = (cluster_ip(&svc), node_port(&svc));
    let ports = format!("80:{np}/TCP");
    assert_eq!(
        without_age(&first),
        row(&[
            "my-nginx-svc",
            "LoadBalancer",
            &cluster_ip,
            "<pending>",
            &ports
        ]),
        "the Service is printed first as it was created, before the controller ran"
    );
    let assigned = watch
        .wait_for("the row with the ingress IP", |l| {
            l.starts_with("my-nginx-svc ") && cells(l).contains(&ip)
        })
        .await;
    assert_eq!(
        without_age(&assigned),
        row(&["my-nginx-svc", "LoadBalancer", &cluster_ip, &ip, &ports])
    );
    let before_ip = &watch.seen[..watch.seen.len() - 1];
    assert!(
        before_ip
            .iter()
            .filter(|l| l.starts_with("my-nginx-svc "))
            .all(|l| cells(l).get(3).map(String::as_str) == Some("<pending>")),
        "every earlier row is pending: {:#?}",
        watch.seen
    );
    assert_eq!(watch.kill(), "");

    let get = k.run(&["get", "svc", "my-nginx-svc"]).await;
    let age = ages(&get.stdout);
    let expected = table(&[
        row(&SERVICE_HEADER),
        row(&[
            "my-nginx-svc",
            "LoadBalancer",
            &cluster_ip,
            &ip,
            &ports,
            &age[0],
        ]),
    ]);
    get.assert_ok(&expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_svc_shows_pending_while_the_load_balancer_cannot_be_ensured_then_the_external_ip() {
    let Some(k) = start().await else {
        return;
    };
    let missing = "lb-doesnotexist0000000000";
    k.write("my-nginx-svc.yaml", &nginx_svc_yaml(&[(LB_ID, missing)]));
    k.run(&["apply", "-f", "my-nginx-svc.yaml"])
        .await
        .assert_ok("service/my-nginx-svc created\n");
    // CCM's text; what the brackets hold for an instance that was never found is not pinned.
    let not_found = format!(
        "InvalidLoadBalancerId.NotFound: The specified LoadBalancerId does not exist: {missing}"
    );
    wait_for_event(&k, "my-nginx-svc", |(type_, reason, message)| {
        type_ == "Warning"
            && reason == "SyncLoadBalancerFailed"
            && message.starts_with("Error syncing load balancer [")
            && message.ends_with(&format!("]: {not_found}"))
    })
    .await;

    let svc = service(&k, "my-nginx-svc").await;
    let (cluster_ip, np) = (cluster_ip(&svc), node_port(&svc));
    let ports = format!("80:{np}/TCP");
    let get = k.run(&["get", "svc", "my-nginx-svc"]).await;
    let age = ages(&get.stdout);
    get.assert_ok(&table(&[
        row(&SERVICE_HEADER),
        row(&[
            "my-nginx-svc",
            "LoadBalancer",
            &cluster_ip,
            "<pending>",
            &ports,
            &age[0],
        ]),
    ]));

    // Without the reuse annotation the controller creates an instance for the Service.
    let unset = format!("{LB_ID}-");
    k.run(&["annotate", "svc", "my-nginx-svc", &unset])
        .await
        .assert_ok("service/my-nginx-svc annotated\n");
    let ip = ingress_ip(&k, "my-nginx-svc").await;
    assert!(ip.starts_with("47.100.0."), "{ip} from the SLB pool");
    let get = k.run(&["get", "svc", "my-nginx-svc"]).await;
    let age = ages(&get.stdout);
    get.assert_ok(&table(&[
        row(&SERVICE_HEADER),
        row(&[
            "my-nginx-svc",
            "LoadBalancer",
            &cluster_ip,
            &ip,
            &ports,
            &age[0],
        ]),
    ]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_endpoints_lists_the_demo_pod_ips_with_the_target_port() {
    let Some(k) = start().await else {
        return;
    };
    k.write("my-nginx-svc.yaml", &nginx_svc_yaml(&[]));
    k.run(&["apply", "-f", "my-nginx-svc.yaml"])
        .await
        .assert_ok("service/my-nginx-svc created\n");
    let ips = nginx_pod_ips(&k).await;
    let listed = ips
        .iter()
        .map(|ip| format!("{ip}:80"))
        .collect::<Vec<_>>()
        .join(",");
    let get = eventually("the endpoints of both pods", || async {
        let get = k.run(&["get", "endpoints", "my-nginx-svc"]).await;
        let line = get.stdout.lines().nth(1).map(cells).unwrap_or_default();
        (line.get(1) == Some(&listed)).then_some(get)
    })
    .await;
    let age = ages(&get.stdout);
    get.assert_ok(&table(&[
        row(&["NAME", "ENDPOINTS", "AGE"]),
        row(&["my-nginx-svc", &listed, &age[0]]),
    ]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_svc_shows_the_ingress_the_endpoints_and_the_ensured_event() {
    let Some(k) = start().await else {
        return;
    };
    k.write("my-nginx-svc.yaml", &nginx_svc_yaml(&[]));
    k.run(&["apply", "-f", "my-nginx-svc.yaml"])
        .await
        .assert_ok("service/my-nginx-svc created\n");
    let ip = ingress_ip(&k, "my-nginx-svc").await;
    let ips = nginx_pod_ips(&k).await;
    let endpoints = ips
        .iter()
        .map(|ip| format!("{ip}:80"))
        .collect::<Vec<_>>()
        .join(",");
    let id = eventually("the EnsuredLoadBalancer event", || async {
        events_of(&k, "my-nginx-svc")
            .await
            .into_iter()
            .find(|e| e.1 == "EnsuredLoadBalancer")
            .map(|e| e.2)
    })
    .await;
    let id = id
        .strip_prefix("Ensured load balancer [")
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or_else(|| panic!("CCM's EnsuredLoadBalancer text: {id}"))
        .to_owned();
    assert!(id.starts_with("lb-"), "{id}");

    let describe = eventually("describe with both endpoints", || async {
        let run = k.run(&["describe", "svc", "my-nginx-svc"]).await;
        run.stdout
            .contains(&format!("Endpoints:                {endpoints}\n"))
            .then_some(run)
    })
    .await;
    assert_eq!(
        (describe.code, describe.stderr.as_str()),
        (0, ""),
        "{describe:#?}"
    );
    let out = &describe.stdout;
    assert!(
        out.contains(&format!("LoadBalancer Ingress:     {ip} (VIP)\n")),
        "{out}"
    );
    assert!(
        out.contains("Type:                     LoadBalancer\n"),
        "{out}"
    );
    // Events:  Type  Reason  Age  From  Message, one row per event.
    let rows: Vec<Vec<String>> = out
        .split_once("Events:")
        .map(|(_, events)| events.lines().skip(3).map(describe_cells).collect())
        .unwrap_or_default();
    let ensured = rows
        .iter()
        .find(|r| r.get(1).map(String::as_str) == Some("EnsuredLoadBalancer"))
        .unwrap_or_else(|| panic!("an EnsuredLoadBalancer row in {out}"));
    assert_eq!(
        (
            ensured[0].as_str(),
            ensured[3].as_str(),
            ensured[4].as_str()
        ),
        (
            "Normal",
            "service-controller",
            format!("Ensured load balancer [{id}]").as_str()
        ),
        "{out}"
    );
}
