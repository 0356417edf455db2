//! The consequences of a backend mode and traffic policy, from the doc's Flannel and
//! Terway-Eniip tables (§f): backend servers, SLB quota use, who can reach the SLB IP,
//! pod-level balancing, source IP preservation and session persistence.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::service::types::{TRAFFIC_POLICY_CLUSTER, TRAFFIC_POLICY_LOCAL};

use super::backends::{BackendMode, BackendServer, ClusterNode, NetworkPlugin};

/// Which servers the CLB sends traffic to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BackendServers {
    /// Every (candidate) node.
    AllNodes,
    /// The nodes running a ready backend pod.
    NodesWithPods,
    /// The pods themselves.
    Pods,
}

/// How much of the CLB quotas the Service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum QuotaUse {
    /// One backend per node that runs a pod.
    Low,
    /// Every node joins every Service's vServer groups.
    High,
    /// One backend per pod.
    PerPod,
}

/// The consequences the console shows before the user commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consequences {
    /// The cluster's network plug-in.
    pub network_plugin: NetworkPlugin,
    /// `spec.externalTrafficPolicy` (`Cluster` when unset).
    pub external_traffic_policy: String,
    /// How CCM picks backends.
    pub backend_mode: BackendMode,
    /// Which servers the CLB sends traffic to.
    pub backend_servers: BackendServers,
    /// Distinct backend servers over all vServer groups of the Service.
    pub backend_server_count: usize,
    /// vServer groups of the Service; in node modes each backend node joins each of them.
    pub vserver_group_count: usize,
    /// SLB quota use.
    pub quota_use: QuotaUse,
    /// Every node can reach the SLB IP from inside the cluster.
    pub slb_ip_reachable_from_all_nodes: bool,
    /// The nodes that can reach the SLB IP from inside the cluster, sorted.
    pub slb_ip_reachable_from: Vec<String>,
    /// Traffic is spread over pods, not only over nodes.
    pub pod_level_balancing: bool,
    /// The client source IP reaches the pod.
    pub source_ip_preserved: bool,
    /// Session persistence on the listener holds end to end.
    pub session_persistence: bool,
    /// The same facts as short sentences.
    pub sentences: Vec<String>,
}

/// The consequences for a Service whose vServer groups hold `groups` backends.
pub fn consequences(
    plugin: NetworkPlugin,
    local: bool,
    mode: BackendMode,
    scheduler: &str,
    nodes: &[ClusterNode],
    pod_nodes: &BTreeSet<String>,
    groups: &[&[BackendServer]],
) -> Consequences {
    let distinct: BTreeSet<(&str, &str)> = groups
        .iter()
        .flat_map(|g| g.iter())
        .map(|b| (b.name.as_str(), b.ip.as_str()))
        .collect();
    let backend_server_count = distinct.len();
    let all_nodes: Vec<String> = {
        let mut v: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
        v.sort();
        v
    };
    let wrr = scheduler == crate::annotations::SCHEDULER_WRR;
    let (backend_servers, quota_use, pod_level, source_ip, session) = match mode {
        BackendMode::Local => (
            BackendServers::NodesWithPods,
            QuotaUse::Low,
            wrr,
            true,
            true,
        ),
        BackendMode::Cluster => (BackendServers::AllNodes, QuotaUse::High, true, false, false),
        BackendMode::Eni => (BackendServers::Pods, QuotaUse::PerPod, true, true, true),
    };
    // kube-proxy short-circuits the SLB IP to local endpoints under Local, so only nodes
    // with a pod answer; under Cluster any node forwards.
    let reachable: Vec<String> = if local {
        all_nodes
            .iter()
            .filter(|n| pod_nodes.contains(*n))
            .cloned()
            .collect()
    } else {
        all_nodes.clone()
    };
    let reachable_all = !local;

    let mut sentences = Vec::new();
    sentences.push(match backend_servers {
        BackendServers::NodesWithPods => format!(
            "Backend servers: the {} node(s) running a ready backend pod, on the NodePort.",
            backend_server_count
        ),
        BackendServers::AllNodes => format!(
            "Backend servers: all {} candidate node(s), on the NodePort.",
            backend_server_count
        ),
        BackendServers::Pods => format!(
            "Backend servers: the {} ready pod(s) themselves, on the container port.",
            backend_server_count
        ),
    });
    sentences.push(
        match quota_use {
            QuotaUse::Low => {
                "SLB quota use is low: only nodes that run a pod join the vServer groups."
            }
            QuotaUse::High => {
                "SLB quota use is high: every node joins every Service's vServer groups."
            }
            QuotaUse::PerPod => "SLB quota use grows with the pods: each pod is a backend server.",
        }
        .to_string(),
    );
    sentences.push(if reachable_all {
        "All nodes can reach the SLB IP from inside the cluster.".to_string()
    } else if reachable.is_empty() {
        "No node can reach the SLB IP from inside the cluster: kube-proxy short-circuits it to local pods and no node runs one.".to_string()
    } else {
        format!(
            "Only nodes running a backend pod can reach the SLB IP from inside the cluster ({}): kube-proxy short-circuits it to local pods.",
            reachable.join(", ")
        )
    });
    sentences.push(match (mode, wrr) {
        (BackendMode::Local, true) => {
            "Traffic is spread over pods: the wrr scheduler weights each node by its pod count.".to_string()
        }
        (BackendMode::Local, false) => format!(
            "Traffic is spread over nodes, not pods: the {scheduler} scheduler ignores the pod-count weights; set the scheduler annotation to wrr."
        ),
        (BackendMode::Cluster, _) => {
            "Traffic is spread over pods through a second hop via kube-proxy.".to_string()
        }
        (BackendMode::Eni, _) => "Traffic is spread over pods directly.".to_string(),
    });
    sentences.push(if source_ip {
        "The client source IP is preserved.".to_string()
    } else {
        "The client source IP is not preserved: kube-proxy SNATs traffic it forwards to another node.".to_string()
    });
    sentences.push(if session {
        "Session persistence works.".to_string()
    } else {
        "Session persistence does not work: the second hop through kube-proxy may pick another pod."
            .to_string()
    });

    Consequences {
        network_plugin: plugin,
        external_traffic_policy: if local {
            TRAFFIC_POLICY_LOCAL
        } else {
            TRAFFIC_POLICY_CLUSTER
        }
        .to_string(),
        backend_mode: mode,
        backend_servers,
        backend_server_count,
        vserver_group_count: groups.len(),
        quota_use,
        slb_ip_reachable_from_all_nodes: reachable_all,
        slb_ip_reachable_from: reachable,
        pod_level_balancing: pod_level,
        source_ip_preserved: source_ip,
        session_persistence: session,
        sentences,
    }
}
