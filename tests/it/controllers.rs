//! The controllers end to end on a real store: the demo cluster, workloads, endpoints, and
//! the load-balancer controller with ACK's sharing rules and both backend tables (Flannel and
//! Terway-Eniip × Local and Cluster). Controllers are awaited by following the store's watch
//! with a deadline, never by sleeping.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::Ipv4Addr;
use std::time::Duration;

use futures::StreamExt;
use ipnet::Ipv4Net;
use serde_json::{Value, json};
use service_console::registry::{
    ClusterSettings, NewLoadBalancer, Registry, RegistryError, WriteOptions, kind_by_plural,
};
use service_plan::slb::{NetworkPlugin, SlbChange};

use service_console::controllers::endpoints::EndpointsController;
use service_console::controllers::load_balancer::LoadBalancerController;
use service_console::controllers::workloads::Workloads;
use service_console::controllers::{Controller, Sync};

use crate::support::TestCluster;

/// How long a controller may take to converge.
const DEADLINE: Duration = Duration::from_secs(60);
const LB_ID: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id";

fn settings(plugin: NetworkPlugin) -> ClusterSettings {
    ClusterSettings {
        network_plugin: plugin,
        ..ClusterSettings::default()
    }
}

/// Polls `check` after every store event until it returns `Some`, or panics at the deadline.
async fn eventually<T, F, Fut>(registry: &Registry, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let from = registry.store().current_revision();
        if let Some(v) = check().await {
            return v;
        }
        let mut events = registry.store().watch(None, from).await.expect("watch");
        if tokio::time::timeout_at(until, events.next()).await.is_err() {
            panic!("timed out waiting for {what}");
        }
    }
}

async fn list(registry: &Registry, plural: &str, namespace: Option<&str>) -> Vec<Value> {
    registry
        .list(plural, namespace, &Default::default())
        .await
        .expect("list")
        .items
}

async fn get(registry: &Registry, plural: &str, namespace: &str, name: &str) -> Option<Value> {
    let kind = kind_by_plural(plural).expect("kind");
    match registry.get(kind, namespace, name).await {
        Ok(v) => Some(v),
        Err(RegistryError::NotFound { .. }) => None,
        Err(e) => panic!("get {plural} {name}: {e}"),
    }
}

fn running_pods_of(pods: &[Value], app: &str) -> Vec<Value> {
    pods.iter()
        .filter(|p| {
            p["metadata"]["labels"]["app"] == json!(app) && p["status"]["phase"] == json!("Running")
        })
        .cloned()
        .collect()
}

/// The pod IPs of `app`, sorted, once `count` of its pods run.
async fn pod_ips(registry: &Registry, app: &str, count: usize) -> Vec<String> {
    eventually(registry, &format!("{count} running {app} pods"), || async {
        let pods = running_pods_of(&list(registry, "pods", Some("default")).await, app);
        let mut ips: Vec<String> = pods
            .iter()
            .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
            .collect();
        ips.sort();
        (ips.len() == count).then_some(ips)
    })
    .await
}

async fn create_service(registry: &Registry, body: Value) -> Result<Value, RegistryError> {
    registry
        .create_service("default", &body, &WriteOptions::default())
        .await
        .map(|a| a.object)
}

fn service(name: &str, spec: Value, annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "annotations": annotations}, "spec": spec})
}

fn lb_spec(port: i64, policy: &str) -> Value {
    json!({"type": "LoadBalancer", "externalTrafficPolicy": policy, "selector": {"app": "nginx"}, "ports": [{"port": port, "targetPort": 80, "protocol": "TCP"}]})
}

async fn create_deployment(registry: &Registry, name: &str, replicas: i64, port: Value) {
    let body = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": name, "image": "nginx:1.25", "ports": [port]}]}}}
    });
    let kind = kind_by_plural("deployments").expect("kind");
    registry
        .create(kind, "default", &body, &WriteOptions::default())
        .await
        .expect("create deployment");
}

async fn scale(registry: &Registry, name: &str, replicas: i64) {
    let kind = kind_by_plural("deployments").expect("kind");
    registry
        .patch(
            kind,
            "default",
            name,
            &WriteOptions::default(),
            move |cur| {
                let mut next = cur.clone();
                next["spec"]["replicas"] = json!(replicas);
                // As `kubectl scale`: no resourceVersion precondition, so a controller's
                // concurrent status write is retried over, not a conflict.
                if let Some(meta) = next["metadata"].as_object_mut() {
                    meta.remove("resourceVersion");
                }
                Ok(next)
            },
        )
        .await
        .expect("scale");
}

/// The addresses of a Service's Endpoints, sorted.
fn endpoint_ips(ep: &Value) -> Vec<String> {
    let mut ips: Vec<String> = ep["subsets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["addresses"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a["ip"].as_str().map(str::to_string))
        .collect();
    ips.sort();
    ips
}

async fn slices_of(registry: &Registry, service: &str) -> Vec<Value> {
    list(registry, "endpointslices", Some("default"))
        .await
        .into_iter()
        .filter(|s| s["metadata"]["labels"]["kubernetes.io/service-name"] == json!(service))
        .collect()
}

/// The stored Service once it shows an ingress IP.
async fn ingress_ip(registry: &Registry, name: &str) -> String {
    eventually(registry, &format!("an ingress IP on {name}"), || async {
        let svc = registry.get_service("default", name).await.ok()?;
        svc["status"]["loadBalancer"]["ingress"][0]["ip"]
            .as_str()
            .map(str::to_string)
    })
    .await
}

async fn instance_with_address(registry: &Registry, ip: &str) -> Value {
    let objects = registry.load_balancer_objects().await.expect("instances");
    objects
        .into_iter()
        .find(|o| o["spec"]["address"] == json!(ip))
        .expect("an instance with the ingress address")
}

/// Backend servers of the group named `k8s/<key>/<svc>/default/<cluster>` as
/// (name, ip, port, weight), sorted.
fn group_backends(instance: &Value, group_name: &str) -> Vec<(String, String, i64, i64)> {
    let group = instance["spec"]["vserverGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["name"] == json!(group_name))
        .unwrap_or_else(|| panic!("no group {group_name} in {instance:#}"));
    let mut servers: Vec<(String, String, i64, i64)> = group["backendServers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            (
                b["name"].as_str().unwrap_or_default().to_string(),
                b["ip"].as_str().unwrap_or_default().to_string(),
                b["port"].as_i64().unwrap_or_default(),
                b["weight"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    servers.sort();
    servers
}

fn events_for(events: &[Value], name: &str) -> Vec<(String, String, String)> {
    events
        .iter()
        .filter(|e| e["involvedObject"]["name"] == json!(name))
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_string(),
                e["reason"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn invalid_message(result: Result<Value, RegistryError>) -> String {
    match result {
        Err(e @ RegistryError::Invalid { .. }) => e.to_string(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_cluster_has_three_nodes_and_two_nginx_pods_with_pod_cidr_ips() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    let ips = pod_ips(registry, "nginx", 2).await;

    let nodes = list(registry, "nodes", None).await;
    let names: Vec<&str> = nodes
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "cn-hangzhou.192.168.0.11",
            "cn-hangzhou.192.168.0.12",
            "cn-hangzhou.192.168.0.13"
        ]
    );
    let cidr: Ipv4Net = "172.20.0.0/16".parse().expect("cidr");
    for ip in &ips {
        assert!(
            cidr.contains(&ip.parse::<Ipv4Addr>().expect("ip")),
            "{ip} outside {cidr}"
        );
    }
    let pods = running_pods_of(&list(registry, "pods", Some("default")).await, "nginx");
    let mut hosts: Vec<&str> = pods
        .iter()
        .filter_map(|p| p["spec"]["nodeName"].as_str())
        .collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(
        hosts.len(),
        2,
        "two replicas spread over two nodes: {pods:#?}"
    );
    for pod in &pods {
        assert!(
            pod["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .starts_with("nginx-"),
            "{pod}"
        );
        assert_eq!(
            pod["spec"]["containers"][0]["ports"][0]["containerPort"],
            json!(80)
        );
        // Deployment -> ReplicaSet -> Pod, the ReplicaSet named for the template's hash.
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], json!("ReplicaSet"));
        let hash = pod["metadata"]["labels"]["pod-template-hash"]
            .as_str()
            .expect("hash label");
        assert_eq!(owner["name"], json!(format!("nginx-{hash}")));
    }
    let deploy = eventually(registry, "nginx status", || async {
        let d = get(registry, "deployments", "default", "nginx").await?;
        (d["status"]["readyReplicas"] == json!(2)).then_some(d)
    })
    .await;
    assert_eq!(deploy["status"]["availableReplicas"], json!(2));
    assert_eq!(deploy["status"]["observedGeneration"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_with_selector_gets_endpoints_and_slices_with_named_target_port() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    create_deployment(
        registry,
        "web",
        2,
        json!({"name": "http", "containerPort": 8080, "protocol": "TCP"}),
    )
    .await;
    let ips = pod_ips(registry, "web", 2).await;
    create_service(
        registry,
        service("bare", json!({"ports": [{"port": 80}]}), json!({})),
    )
    .await
    .expect("bare");
    let spec = json!({"selector": {"app": "web"}, "ports": [{"name": "web", "port": 80, "targetPort": "http"}]});
    create_service(registry, service("web", spec, json!({})))
        .await
        .expect("web");

    let (ep, slices) = eventually(registry, "endpoints and slices of web", || async {
        let ep = get(registry, "endpoints", "default", "web").await?;
        let slices = slices_of(registry, "web").await;
        let sliced = slices
            .iter()
            .map(|s| s["endpoints"].as_array().map_or(0, Vec::len))
            .sum::<usize>();
        (endpoint_ips(&ep) == ips && sliced == ips.len()).then_some((ep, slices))
    })
    .await;
    assert_eq!(
        ep["subsets"][0]["ports"],
        json!([{"name": "web", "port": 8080, "protocol": "TCP"}])
    );
    assert_eq!(slices.len(), 1, "{slices:#?}");
    let mut slice_ips: Vec<String> = slices[0]["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["addresses"][0].as_str().map(str::to_string))
        .collect();
    slice_ips.sort();
    assert_eq!(slice_ips, ips);
    assert_eq!(
        slices[0]["ports"],
        json!([{"name": "web", "port": 8080, "protocol": "TCP"}])
    );

    // The selector-less Service was created first and still has nothing.
    assert_eq!(get(registry, "endpoints", "default", "bare").await, None);
    assert!(slices_of(registry, "bare").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_the_deployment_updates_endpoints_and_delete_removes_them() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    let spec = json!({"selector": {"app": "nginx"}, "ports": [{"port": 80}]});
    create_service(registry, service("my-nginx-svc", spec, json!({})))
        .await
        .expect("svc");
    let count = |n: usize| {
        move || async move {
            let ep = get(registry, "endpoints", "default", "my-nginx-svc").await?;
            (endpoint_ips(&ep).len() == n).then_some(())
        }
    };
    eventually(registry, "2 endpoints", count(2)).await;
    scale(registry, "nginx", 3).await;
    eventually(registry, "3 endpoints", count(3)).await;
    scale(registry, "nginx", 1).await;
    eventually(registry, "1 endpoint", count(1)).await;
    assert_eq!(
        running_pods_of(&list(registry, "pods", Some("default")).await, "nginx").len(),
        1
    );

    let kind = kind_by_plural("deployments").expect("kind");
    registry
        .delete(
            kind,
            "default",
            "nginx",
            &Default::default(),
            &WriteOptions::default(),
        )
        .await
        .expect("delete");
    eventually(registry, "pods deleted with their Deployment", || async {
        list(registry, "pods", Some("default"))
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    eventually(registry, "no endpoints", count(0)).await;

    registry
        .delete_service(
            "default",
            "my-nginx-svc",
            &Default::default(),
            &WriteOptions::default(),
        )
        .await
        .expect("delete svc");
    eventually(registry, "endpoints deleted with the Service", || async {
        let ep = get(registry, "endpoints", "default", "my-nginx-svc").await;
        (ep.is_none() && slices_of(registry, "my-nginx-svc").await.is_empty()).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancer_service_gets_an_instance_listeners_ingress_and_events_and_delete_releases_it()
 {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    pod_ips(registry, "nginx", 2).await;
    let created = create_service(
        registry,
        service("my-nginx-svc", lb_spec(80, "Cluster"), json!({})),
    )
    .await
    .expect("svc");
    let node_port = created["spec"]["ports"][0]["nodePort"]
        .as_i64()
        .expect("node port");
    let ip = ingress_ip(registry, "my-nginx-svc").await;
    let pool: Ipv4Net = "47.100.0.0/24".parse().expect("pool");
    assert!(pool.contains(&ip.parse::<Ipv4Addr>().expect("ip")), "{ip}");

    let instance = instance_with_address(registry, &ip).await;
    let id = instance["spec"]["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("lb-"), "{id}");
    assert_eq!(instance["kind"], json!("LoadBalancer"));
    assert_eq!(instance["metadata"]["name"], json!(id));
    let uid = created["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .replace('-', "");
    assert_eq!(
        instance["spec"]["tags"]["kubernetes.do.not.delete"],
        json!(format!("a{uid}").chars().take(32).collect::<String>())
    );
    assert_eq!(
        instance["spec"]["tags"]["ack.aliyun.com"],
        json!("c-service-console")
    );
    let listeners = &instance["spec"]["listeners"];
    assert_eq!(listeners[0]["port"], json!(80));
    assert_eq!(listeners[0]["protocol"], json!("tcp"));
    assert_eq!(
        listeners[0]["description"],
        json!("k8s/80/my-nginx-svc/default/c-service-console")
    );
    let group = format!("k8s/{node_port}/my-nginx-svc/default/c-service-console");
    assert_eq!(group_backends(&instance, &group).len(), 3);
    let svc = registry
        .get_service("default", "my-nginx-svc")
        .await
        .expect("svc");
    assert_eq!(
        svc["status"]["loadBalancer"]["ingress"],
        json!([{"ip": ip, "ipMode": "VIP"}])
    );

    let events = eventually(registry, "EnsuredLoadBalancer", || async {
        let events = events_for(
            &list(registry, "events", Some("default")).await,
            "my-nginx-svc",
        );
        events
            .iter()
            .any(|e| e.1 == "EnsuredLoadBalancer")
            .then_some(events)
    })
    .await;
    assert!(
        events.contains(&(
            "Normal".into(),
            "EnsuredLoadBalancer".into(),
            format!("Ensured load balancer [{id}]")
        )),
        "{events:#?}"
    );
    assert!(
        events.contains(&(
            "Normal".into(),
            "EnsuringLoadBalancer".into(),
            "Ensuring load balancer".into()
        )),
        "{events:#?}"
    );

    registry
        .delete_service(
            "default",
            "my-nginx-svc",
            &Default::default(),
            &WriteOptions::default(),
        )
        .await
        .expect("delete");
    eventually(registry, "the instance released", || async {
        matches!(
            registry.load_balancer(&id).await,
            Err(RegistryError::NotFound { .. })
        )
        .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_instance_is_shared_on_different_ports_and_a_taken_port_is_rejected() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    let manual = registry
        .create_load_balancer(NewLoadBalancer {
            name: "shared".into(),
            spec: "slb.s1.small".into(),
            address_type: "internet".into(),
            ..Default::default()
        })
        .await
        .expect("manual instance");
    let reuse = json!({LB_ID: manual.id, "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners": "true"});
    create_service(
        registry,
        service("first", lb_spec(80, "Cluster"), reuse.clone()),
    )
    .await
    .expect("first");
    create_service(
        registry,
        service("second", lb_spec(443, "Cluster"), reuse.clone()),
    )
    .await
    .expect("second");
    assert_eq!(ingress_ip(registry, "first").await, manual.address);
    assert_eq!(ingress_ip(registry, "second").await, manual.address);
    let instance = eventually(registry, "both listeners", || async {
        let i = registry.load_balancer(&manual.id).await.ok()?;
        (i.listeners.len() == 2).then_some(i)
    })
    .await;
    let names: Vec<&str> = instance
        .listeners
        .iter()
        .map(|l| l.description.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "k8s/80/first/default/c-service-console",
            "k8s/443/second/default/c-service-console"
        ]
    );
    assert_eq!(
        instance
            .tags
            .get("kubernetes.reused.by.user")
            .map(String::as_str),
        Some("true")
    );

    let third = invalid_message(
        create_service(registry, service("third", lb_spec(80, "Cluster"), reuse)).await,
    );
    assert_eq!(
        third,
        format!(
            "Service \"third\" is invalid: metadata.annotations[{LB_ID}]: Invalid value: \"{id}\": port 80 of load balancer {id} is already used by Service default/first; Services sharing a load balancer must use different frontend ports",
            id = manual.id
        )
    );

    let refused = registry
        .delete_load_balancer(&manual.id)
        .await
        .expect_err("in use");
    assert_eq!(
        refused.to_string(),
        format!(
            "Operation cannot be fulfilled on loadbalancers.slb.service-console.io \"{}\": the load balancer is used by Service default/first, default/second; delete the Service or stop it from using the load balancer first",
            manual.id
        )
    );
    // Deleting a Service that reused the instance keeps the instance and the other listener.
    registry
        .delete_service(
            "default",
            "first",
            &Default::default(),
            &WriteOptions::default(),
        )
        .await
        .expect("delete");
    let kept = eventually(registry, "first's listener removed", || async {
        let i = registry.load_balancer(&manual.id).await.ok()?;
        (i.listeners.len() == 1).then_some(i)
    })
    .await;
    assert_eq!(kept.listeners[0].port, 443);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_created_for_a_service_is_refused_for_reuse() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    create_service(
        registry,
        service("owner", lb_spec(80, "Cluster"), json!({})),
    )
    .await
    .expect("owner");
    let ip = ingress_ip(registry, "owner").await;
    let id = instance_with_address(registry, &ip).await["spec"]["id"]
        .as_str()
        .expect("id")
        .to_string();

    let message = invalid_message(
        create_service(
            registry,
            service("thief", lb_spec(8080, "Cluster"), json!({LB_ID: id})),
        )
        .await,
    );
    assert_eq!(
        message,
        format!(
            "Service \"thief\" is invalid: metadata.annotations[{LB_ID}]: Invalid value: \"{id}\": alicloud: the loadbalancer {id} can not be reused, can not reuse loadbalancer created by kubernetes."
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_used_by_another_cluster_is_refused() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), false).await;
    let registry = cluster.registry();
    let manual = registry
        .create_load_balancer(NewLoadBalancer {
            name: "other".into(),
            address_type: "internet".into(),
            ..Default::default()
        })
        .await
        .expect("manual");
    let mut instance = registry.load_balancer(&manual.id).await.expect("instance");
    instance.listeners.push(service_plan::slb::SlbListener {
        port: 80,
        protocol: "tcp".into(),
        description: "k8s/80/web/default/c-other".into(),
        vserver_group_id: None,
    });
    registry
        .save_load_balancer(&instance, &Default::default())
        .await
        .expect("save");
    let message = invalid_message(
        create_service(
            registry,
            service("mine", lb_spec(8080, "Cluster"), json!({LB_ID: manual.id})),
        )
        .await,
    );
    assert_eq!(
        message,
        format!(
            "Service \"mine\" is invalid: metadata.annotations[{LB_ID}]: Invalid value: \"{id}\": load balancer {id} is already used by cluster c-other (k8s/80/web/default/c-other); a load balancer cannot be shared across clusters",
            id = manual.id
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_annotation_value_is_rejected_and_unknown_key_warns() {
    let cluster = TestCluster::new().await;
    let registry = cluster.registry();
    let bad =
        json!({"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "public"});
    let message = invalid_message(
        create_service(registry, service("bad", lb_spec(80, "Cluster"), bad)).await,
    );
    assert!(
        message.starts_with(
            "Service \"bad\" is invalid: metadata.annotations[service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type]: Invalid value: \"public\": "
        ),
        "{message}"
    );
    let unknown = json!({"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-colour": "blue"});
    let applied = registry
        .create_service(
            "default",
            &service("odd", lb_spec(80, "Cluster"), unknown),
            &WriteOptions::default(),
        )
        .await
        .expect("created with a warning");
    assert_eq!(
        applied.warnings,
        [
            "metadata.annotations[service.beta.kubernetes.io/alibaba-cloud-loadbalancer-colour]: unknown Alibaba Cloud load balancer annotation; the cloud controller ignores it"
        ]
    );
}

/// One row of the seed's tables: the backends, weights and consequences of a policy on a plug-in.
async fn check_row(
    plugin: NetworkPlugin,
    policy: &str,
    expect: impl Fn(&BTreeMap<String, String>, &[String], i64) -> Vec<(String, String, i64, i64)>,
    consequences: Value,
) {
    let cluster = TestCluster::with_controllers(settings(plugin), true).await;
    let registry = cluster.registry();
    let pod_ips = pod_ips(registry, "nginx", 2).await;
    let annotations =
        json!({"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-scheduler": "wrr"});
    let proposed = service("my-nginx-svc", lb_spec(80, policy), annotations);
    let plan = registry
        .plan_service("default", &proposed, SlbChange::Apply)
        .await
        .expect("plan");
    let plan = serde_json::to_value(&plan).expect("plan json");
    let got = &plan["slb"]["consequences"];
    for (key, value) in consequences.as_object().expect("object") {
        assert_eq!(&got[key], value, "{key} for {plugin:?}/{policy}: {got:#}");
    }

    let created = create_service(registry, proposed).await.expect("svc");
    let node_port = created["spec"]["ports"][0]["nodePort"]
        .as_i64()
        .expect("node port");
    let ip = ingress_ip(registry, "my-nginx-svc").await;
    let nodes: BTreeMap<String, String> = list(registry, "nodes", None)
        .await
        .iter()
        .map(|n| {
            (
                n["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                n["status"]["addresses"][0]["address"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let pods = running_pods_of(&list(registry, "pods", Some("default")).await, "nginx");
    let pod_nodes: Vec<String> = pods
        .iter()
        .filter_map(|p| p["spec"]["nodeName"].as_str().map(str::to_string))
        .collect();
    let key = if plugin == NetworkPlugin::TerwayEniip {
        "80".to_string()
    } else {
        node_port.to_string()
    };
    let group = format!("k8s/{key}/my-nginx-svc/default/c-service-console");
    let instance = instance_with_address(registry, &ip).await;
    let mut want = expect(&nodes, &pod_nodes, node_port);
    if plugin == NetworkPlugin::TerwayEniip {
        want = pods
            .iter()
            .map(|p| {
                (
                    p["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    p["status"]["podIP"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    80,
                    100,
                )
            })
            .collect();
        want.sort();
        assert_eq!(
            want.iter()
                .map(|w| w.1.clone())
                .collect::<std::collections::BTreeSet<_>>(),
            pod_ips.into_iter().collect()
        );
    }
    assert_eq!(
        group_backends(&instance, &group),
        want,
        "{plugin:?}/{policy}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flannel_local_uses_nodes_with_pods_weighted_by_pod_count() {
    let expect = |nodes: &BTreeMap<String, String>, pod_nodes: &[String], node_port: i64| {
        let mut rows: Vec<(String, String, i64, i64)> = nodes
            .iter()
            .filter(|(n, _)| pod_nodes.contains(n))
            .map(|(n, ip)| {
                (
                    n.clone(),
                    ip.clone(),
                    node_port,
                    i64::try_from(pod_nodes.iter().filter(|p| *p == n).count()).unwrap_or(0),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let consequences = json!({"backendServers": "nodesWithPods", "quotaUse": "low", "slbIpReachableFromAllNodes": false, "podLevelBalancing": true, "sourceIpPreserved": true, "sessionPersistence": true});
    check_row(NetworkPlugin::Flannel, "Local", expect, consequences).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flannel_cluster_uses_all_nodes_with_weight_100() {
    let expect = |nodes: &BTreeMap<String, String>, _: &[String], node_port: i64| {
        nodes
            .iter()
            .map(|(n, ip)| (n.clone(), ip.clone(), node_port, 100))
            .collect()
    };
    let consequences = json!({"backendServers": "allNodes", "quotaUse": "high", "slbIpReachableFromAllNodes": true, "podLevelBalancing": true, "sourceIpPreserved": false, "sessionPersistence": false});
    check_row(NetworkPlugin::Flannel, "Cluster", expect, consequences).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terway_eniip_local_uses_pods() {
    let consequences = json!({"backendServers": "pods", "quotaUse": "perPod", "slbIpReachableFromAllNodes": false, "podLevelBalancing": true, "sourceIpPreserved": true, "sessionPersistence": true});
    check_row(
        NetworkPlugin::TerwayEniip,
        "Local",
        |_, _, _| Vec::new(),
        consequences,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terway_eniip_cluster_uses_pods() {
    let consequences = json!({"backendServers": "pods", "quotaUse": "perPod", "slbIpReachableFromAllNodes": true, "podLevelBalancing": true, "sourceIpPreserved": true, "sessionPersistence": true});
    check_row(
        NetworkPlugin::TerwayEniip,
        "Cluster",
        |_, _, _| Vec::new(),
        consequences,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_store_nothing_when_nothing_changed() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    pod_ips(registry, "nginx", 2).await;
    create_service(
        registry,
        service("my-nginx-svc", lb_spec(80, "Local"), json!({})),
    )
    .await
    .expect("svc");
    ingress_ip(registry, "my-nginx-svc").await;
    eventually(registry, "endpoints and slices", || async {
        get(registry, "endpoints", "default", "my-nginx-svc").await?;
        (!slices_of(registry, "my-nginx-svc").await.is_empty()).then_some(())
    })
    .await;
    eventually(registry, "EnsuredLoadBalancer", || async {
        let events = events_for(
            &list(registry, "events", Some("default")).await,
            "my-nginx-svc",
        );
        events
            .iter()
            .any(|e| e.1 == "EnsuredLoadBalancer")
            .then_some(())
    })
    .await;
    // A full resync of every controller over the settled cluster writes nothing.
    let settled = registry.store().current_revision();
    Workloads
        .sync(registry, Sync::All)
        .await
        .expect("workloads");
    EndpointsController
        .sync(registry, Sync::All)
        .await
        .expect("endpoints");
    LoadBalancerController
        .sync(registry, Sync::All)
        .await
        .expect("load balancer");
    let now = registry.store().current_revision();
    if now != settled {
        let mut written = registry.store().watch(None, settled).await.expect("watch");
        let mut keys = Vec::new();
        while let Ok(Some(Ok(event))) =
            tokio::time::timeout(Duration::from_millis(200), written.next()).await
        {
            keys.push(format!(
                "{:?} {:?}: {}",
                event.event_type,
                event.key,
                String::from_utf8_lossy(&event.object.body().unwrap_or_default())
            ));
        }
        panic!("a settled resync wrote:\n{}", keys.join("\n"));
    }
}

/// Waits until every store write so far has been reconciled by every controller.
async fn settled(cluster: &TestCluster) {
    let controllers = cluster.controllers.as_ref().expect("controllers");
    let until = tokio::time::Instant::now() + DEADLINE;
    // Twice in a row: a notification between the probes' reads shows up on the second.
    let mut idle_checks = 0;
    while idle_checks < 2 {
        idle_checks = if controllers.is_idle() {
            idle_checks + 1
        } else {
            0
        };
        assert!(
            tokio::time::Instant::now() < until,
            "timed out waiting for the controllers to settle"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn set_pod_labels(registry: &Registry, pod: &str, labels: Value) {
    let kind = kind_by_plural("pods").expect("kind");
    registry
        .patch(kind, "default", pod, &WriteOptions::default(), move |cur| {
            let mut next = cur.clone();
            next["metadata"]["labels"] = labels.clone();
            if let Some(meta) = next["metadata"].as_object_mut() {
                meta.remove("resourceVersion");
            }
            Ok(next)
        })
        .await
        .expect("label pod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_label_change_reconciles_only_the_services_selecting_the_pod() {
    const BYSTANDERS: usize = 40;
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    pod_ips(registry, "nginx", 2).await;
    let pods = running_pods_of(&list(registry, "pods", Some("default")).await, "nginx");
    let pod = pods[0]["metadata"]["name"].as_str().expect("pod name");
    let mut labels = pods[0]["metadata"]["labels"].clone();

    let ports = json!([{"port": 80}]);
    for tier in ["web", "db"] {
        let spec = json!({"selector": {"app": "nginx", "tier": tier}, "ports": ports});
        create_service(registry, service(&format!("nginx-{tier}"), spec, json!({})))
            .await
            .expect("svc");
    }
    // Same namespace, some even sharing the pod's `app` label: none selects the pod.
    for i in 0..BYSTANDERS {
        let selector = if i % 2 == 0 {
            json!({"app": format!("other-{i}")})
        } else {
            json!({"app": "nginx", "tier": format!("cache-{i}")})
        };
        let spec = json!({"selector": selector, "ports": ports});
        create_service(
            registry,
            service(&format!("bystander-{i}"), spec, json!({})),
        )
        .await
        .expect("svc");
    }
    labels["tier"] = json!("web");
    set_pod_labels(registry, pod, labels.clone()).await;
    let addresses = |name: &'static str, n: usize| {
        move || async move {
            let ep = get(registry, "endpoints", "default", name).await?;
            (endpoint_ips(&ep).len() == n).then_some(())
        }
    };
    eventually(
        registry,
        "the web Service selects the pod",
        addresses("nginx-web", 1),
    )
    .await;
    settled(&cluster).await;

    let stats = cluster.controllers.as_ref().expect("controllers").stats();
    let before = stats.endpoints.reconciles();
    labels["tier"] = json!("db");
    set_pod_labels(registry, pod, labels).await;
    eventually(registry, "the pod moves to the db Service", || async {
        addresses("nginx-web", 0)().await?;
        addresses("nginx-db", 1)().await
    })
    .await;
    settled(&cluster).await;
    let reconciles = stats.endpoints.reconciles() - before;
    // Per selecting Service, at most: the pod change, then its own Endpoints and EndpointSlice
    // writes coming back (4 each). A whole-namespace resync reconciles every bystander too.
    assert!(
        (2..=8).contains(&reconciles),
        "{reconciles} reconciles for one pod label change selected by 2 of {} Services",
        BYSTANDERS + 3
    );
}

/// The events of the endpoints controller's own Endpoints and EndpointSlice writes do not
/// queue their Service again (upstream's endpointSliceTracker): one create, one reconcile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_create_is_reconciled_once_not_again_for_its_own_endpoints() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    settled(&cluster).await;
    let stats = cluster.controllers.as_ref().expect("controllers").stats();
    let before = stats.endpoints.reconciles();
    let spec = json!({"selector": {"app": "nobody"}, "ports": [{"port": 80}]});
    create_service(registry, service("lonely", spec, json!({})))
        .await
        .expect("svc");
    eventually(registry, "the Service has its EndpointSlice", || async {
        let slices = list(registry, "endpointslices", Some("default")).await;
        slices
            .iter()
            .any(|s| s["metadata"]["labels"]["kubernetes.io/service-name"] == "lonely")
            .then_some(())
    })
    .await;
    get(registry, "endpoints", "default", "lonely")
        .await
        .expect("the Service has its Endpoints");
    settled(&cluster).await;
    assert_eq!(stats.endpoints.reconciles() - before, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_heartbeat_reconciles_nothing_and_a_zone_change_only_services_with_pods_there() {
    let cluster = TestCluster::with_controllers(ClusterSettings::default(), true).await;
    let registry = cluster.registry();
    pod_ips(registry, "nginx", 2).await;
    let spec = json!({"selector": {"app": "nginx"}, "ports": [{"port": 80}]});
    create_service(registry, service("my-nginx-svc", spec, json!({})))
        .await
        .expect("svc");
    let spec = json!({"selector": {"app": "elsewhere"}, "ports": [{"port": 80}]});
    create_service(registry, service("bystander", spec, json!({})))
        .await
        .expect("svc");
    create_service(
        registry,
        service("my-lb", lb_spec(80, "Cluster"), json!({})),
    )
    .await
    .expect("lb svc");
    eventually(registry, "endpoints", || async {
        let ep = get(registry, "endpoints", "default", "my-nginx-svc").await?;
        (endpoint_ips(&ep).len() == 2).then_some(())
    })
    .await;
    ingress_ip(registry, "my-lb").await;
    settled(&cluster).await;

    let node = running_pods_of(&list(registry, "pods", Some("default")).await, "nginx")[0]["spec"]
        ["nodeName"]
        .as_str()
        .expect("node name")
        .to_string();
    let kind = kind_by_plural("nodes").expect("kind");
    let touch = |field: &'static str, key: &'static str, value: &'static str| {
        let node = node.clone();
        async move {
            registry
                .patch(kind, "", &node, &WriteOptions::default(), move |cur| {
                    let mut next = cur.clone();
                    next["metadata"][field][key] = json!(value);
                    if let Some(meta) = next["metadata"].as_object_mut() {
                        meta.remove("resourceVersion");
                    }
                    Ok(next)
                })
                .await
                .expect("patch node");
        }
    };
    let stats = cluster.controllers.as_ref().expect("controllers").stats();
    let counts = || {
        [
            stats.endpoints.reconciles(),
            stats.load_balancer.reconciles(),
            stats.workloads.reconciles(),
        ]
    };
    // An annotation nothing reads is what a heartbeat is to these controllers: no work.
    let before = counts();
    touch("annotations", "example.com/heartbeat", "1").await;
    settled(&cluster).await;
    assert_eq!(
        counts(),
        before,
        "endpoints, load balancer, workloads reconciles"
    );

    // A zone change reaches the slices of the Services with pods on the node, only.
    let before = stats.endpoints.reconciles();
    touch("labels", "topology.kubernetes.io/zone", "cn-hangzhou-z").await;
    eventually(registry, "the new zone in the slice", || async {
        let slices = slices_of(registry, "my-nginx-svc").await;
        slices
            .iter()
            .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
            .any(|e| e["zone"] == json!("cn-hangzhou-z"))
            .then_some(())
    })
    .await;
    settled(&cluster).await;
    let reconciles = stats.endpoints.reconciles() - before;
    // Two Services select pods there (my-nginx-svc and my-lb): the node change, then each
    // one's own EndpointSlice write coming back. The bystander is never reconciled.
    assert!(
        (2..=6).contains(&reconciles),
        "{reconciles} endpoints reconciles for one zone change"
    );
}

/// A (re-)list reads one store snapshot a page at a time: more Services than a page are all
/// cached, each without `managedFields`, at the snapshot's revision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn informers_list_more_objects_than_a_page() {
    use service_console::controllers::informer::{Informers, Key, LIST_PAGE_LEN};

    let cluster = TestCluster::new().await;
    let registry = cluster.registry();
    let count = LIST_PAGE_LEN * 2 + 7;
    let spec = json!({"selector": {"app": "web"}, "ports": [{"port": 80}]});
    for i in 0..count {
        create_service(
            registry,
            service(&format!("web-{i:04}"), spec.clone(), json!({})),
        )
        .await
        .expect("svc");
    }
    let informers = Informers::snapshot(registry).await.expect("list");
    let listed = list(registry, "services", None).await;
    assert_eq!(informers.services.len(), listed.len());
    assert!(informers.services.len() > count);
    let keys = informers.services.keys();
    for i in 0..count {
        assert!(keys.contains(&Key::new("default", &format!("web-{i:04}"))));
    }
    let cached = informers
        .services
        .get(&Key::new("default", &format!("web-{:04}", count - 1)))
        .expect("cached");
    assert!(cached.pointer("/metadata/managedFields").is_none());
    assert_eq!(informers.revision(), registry.store().current_revision());
}
