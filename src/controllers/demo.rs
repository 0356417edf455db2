//! The demo cluster a new data directory starts with: three ready Nodes in three zones of
//! cn-hangzhou and an `nginx` Deployment (`app: nginx`, 2 replicas, port 80).

use serde_json::{Value, json};

use super::writer;
use crate::registry::{Registry, RegistryError, kind_by_plural};

/// The demo Nodes: name suffix (internal IP) and zone.
pub const DEMO_NODES: [(&str, &str); 3] = [
    ("192.168.0.11", "cn-hangzhou-i"),
    ("192.168.0.12", "cn-hangzhou-j"),
    ("192.168.0.13", "cn-hangzhou-k"),
];
/// The region of the demo Nodes.
pub const DEMO_REGION: &str = "cn-hangzhou";
/// The kubelet version the demo Nodes report.
pub const KUBELET_VERSION: &str = "v1.32.1-aliyun.1";
/// The field manager of the seed.
const MANAGER: &str = "service-console-demo";

/// A ready Node named as ACK names them (`<region>.<internal IP>`), with its pod subnet.
pub fn node(ip: &str, zone: &str, pod_cidr: &str) -> Value {
    let name = format!("{DEMO_REGION}.{ip}");
    let now = serde_json::to_value(crate::registry::now()).unwrap_or(Value::Null);
    let condition = |t: &str, status: &str, reason: &str, message: &str| json!({"type": t, "status": status, "reason": reason, "message": message, "lastHeartbeatTime": now, "lastTransitionTime": now});
    let resources = json!({"cpu": "4", "memory": "15950552Ki", "pods": "64", "ephemeral-storage": "118882128Ki"});
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "ecs.g7.xlarge",
                "topology.kubernetes.io/region": DEMO_REGION,
                "topology.kubernetes.io/zone": zone,
                "failure-domain.beta.kubernetes.io/region": DEMO_REGION,
                "failure-domain.beta.kubernetes.io/zone": zone,
            },
        },
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr], "providerID": format!("{DEMO_REGION}.i-{}", ip.replace('.', ""))},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "",
                "containerRuntimeVersion": "containerd://1.6.36",
                "kernelVersion": "5.10.134-18.al8.x86_64",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": "",
                "operatingSystem": "linux",
                "osImage": "Alibaba Cloud Linux 3.2104 U11 (OpenAnolis Edition)",
                "systemUUID": "",
            },
        },
    })
}

/// The demo `nginx` Deployment.
pub fn nginx_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
            },
        },
    })
}

/// Seeds the demo cluster unless the cluster already has Nodes.
pub async fn seed(registry: &Registry) -> Result<(), RegistryError> {
    if registry.count("nodes", None).await? > 0 {
        return Ok(());
    }
    let nodes = kind_by_plural("nodes")
        .ok_or_else(|| RegistryError::Internal("nodes are not served".into()))?;
    let deployments = kind_by_plural("deployments")
        .ok_or_else(|| RegistryError::Internal("deployments are not served".into()))?;
    let pod_cidr = registry.settings().pod_cidr;
    let subnets: Vec<String> = pod_cidr
        .subnets(24.max(pod_cidr.prefix_len()))
        .map(|s| s.map(|n| n.to_string()).collect())
        .unwrap_or_default();
    for (index, (ip, zone)) in DEMO_NODES.iter().enumerate() {
        let subnet = subnets
            .get(index)
            .cloned()
            .unwrap_or_else(|| pod_cidr.to_string());
        match registry
            .create(nodes, "", &node(ip, zone, &subnet), &writer(MANAGER))
            .await
        {
            Ok(_) | Err(RegistryError::AlreadyExists { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    match registry
        .create(
            deployments,
            "default",
            &nginx_deployment(),
            &writer(MANAGER),
        )
        .await
    {
        Ok(_) | Err(RegistryError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
