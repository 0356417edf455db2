//! Backend selection and weights (doc §f): which nodes or pods join a vServer group, on which
//! port, with which weight. Mirrors CCM's `clbv1/vgroups.go` and its node filters.

use std::collections::BTreeMap;

use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::{Deserialize, Serialize};

use crate::annotations::{BackendType, ClbAnnotations};

/// The cluster's network plug-in (`--network-plugin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPlugin {
    /// Flannel: pods have overlay addresses; the CLB reaches nodes.
    Flannel,
    /// Terway in ENIIP mode: pods have VPC addresses; the CLB reaches pods (ENI backends).
    TerwayEniip,
}

impl NetworkPlugin {
    /// The flag spelling: `flannel` or `terway-eniip`.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkPlugin::Flannel => "flannel",
            NetworkPlugin::TerwayEniip => "terway-eniip",
        }
    }

    /// Parses the flag spelling.
    pub fn parse(value: &str) -> Option<NetworkPlugin> {
        match value {
            "flannel" => Some(NetworkPlugin::Flannel),
            "terway-eniip" => Some(NetworkPlugin::TerwayEniip),
            _ => None,
        }
    }
}

/// A node as the planner needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterNode {
    /// `metadata.name`.
    pub name: String,
    /// The `InternalIP` address.
    pub internal_ip: String,
    /// `topology.kubernetes.io/zone`.
    pub zone: String,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// `metadata.labels`, for CCM's exclusion labels and `backend-label`.
    pub labels: BTreeMap<String, String>,
}

/// A pod endpoint of the Service, as the EndpointSlices describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendPod {
    /// The pod name (`targetRef.name`).
    pub name: String,
    /// The pod IP.
    pub ip: String,
    /// The node it runs on.
    pub node_name: Option<String>,
    /// `conditions.ready`.
    pub ready: bool,
    /// `conditions.terminating`.
    pub terminating: bool,
    /// Service port name ("" when unnamed) → the resolved target port on this pod.
    pub ports: BTreeMap<String, i32>,
}

/// The pod endpoints of a Service's EndpointSlices, one per address, sorted by IP.
pub fn backend_pods(slices: &[EndpointSlice]) -> Vec<BackendPod> {
    let mut pods: BTreeMap<String, BackendPod> = BTreeMap::new();
    for slice in slices {
        let ports: BTreeMap<String, i32> = slice
            .ports
            .iter()
            .flatten()
            .filter_map(|p| Some((p.name.clone().unwrap_or_default(), p.port?)))
            .collect();
        for ep in &slice.endpoints {
            let conditions = ep.conditions.clone().unwrap_or_default();
            for ip in &ep.addresses {
                let pod = pods.entry(ip.clone()).or_insert_with(|| BackendPod {
                    name: ep
                        .target_ref
                        .as_ref()
                        .and_then(|r| r.name.clone())
                        .unwrap_or_default(),
                    ip: ip.clone(),
                    node_name: ep.node_name.clone(),
                    // An unset condition reads as ready, as the API documents.
                    ready: conditions.ready != Some(false),
                    terminating: conditions.terminating == Some(true),
                    ports: BTreeMap::new(),
                });
                pod.ports.extend(ports.clone());
            }
        }
    }
    pods.into_values().collect()
}

/// How CCM picks backends (`GetServiceTrafficPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendMode {
    /// Every candidate node, on the NodePort, weight 100.
    Cluster,
    /// Candidate nodes running a ready pod, on the NodePort, weight = pod count.
    Local,
    /// Every ready pod, on its targetPort, weight 100.
    Eni,
}

/// ENI if `backend-type: eni` (or, unset, the cluster default: ENI on Terway-Eniip), else
/// Local or Cluster by `externalTrafficPolicy`.
pub fn backend_mode(
    annotations: &ClbAnnotations,
    plugin: NetworkPlugin,
    local: bool,
) -> BackendMode {
    let eni = match annotations.backend_type {
        Some(BackendType::Eni) => true,
        Some(BackendType::Ecs) => false,
        None => plugin == NetworkPlugin::TerwayEniip,
    };
    match (eni, local) {
        (true, _) => BackendMode::Eni,
        (false, true) => BackendMode::Local,
        (false, false) => BackendMode::Cluster,
    }
}

/// Node labels that keep a node out of every CLB.
const EXCLUDE_LABELS: [&str; 3] = [
    "node.kubernetes.io/exclude-from-external-load-balancers",
    "alpha.service-controller.kubernetes.io/exclude-balancer",
    "service.alibabacloud.com/exclude-node",
];
/// The master role label; masters never serve Services.
const LABEL_MASTER: &str = "node-role.kubernetes.io/master";

/// CCM's candidate-node filter (doc §f).
pub fn is_candidate_node(node: &ClusterNode, annotations: &ClbAnnotations) -> bool {
    if node.labels.contains_key(LABEL_MASTER)
        || EXCLUDE_LABELS.iter().any(|l| node.labels.contains_key(*l))
    {
        return false;
    }
    // Virtual-kubelet nodes are never added themselves.
    if node.labels.get("type").map(String::as_str) == Some("virtual-kubelet") {
        return false;
    }
    if !node.ready || (node.unschedulable && annotations.remove_unscheduled_backend) {
        return false;
    }
    annotations
        .backend_label
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v))
}

/// Whether a backend server is a node or a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// An ECS instance (node), reached on the NodePort.
    Ecs,
    /// A pod's elastic network interface, reached on the targetPort.
    Eni,
}

/// One backend server of a vServer group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendServer {
    /// Node or pod.
    pub kind: BackendKind,
    /// The node name or the pod name.
    pub name: String,
    /// The node's internal IP or the pod IP.
    pub ip: String,
    /// The backend port: NodePort or targetPort.
    pub port: i32,
    /// The weight CCM sets.
    pub weight: i32,
    /// For node backends in Local mode: the Service's ready pods on the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<usize>,
    /// CCM writes the vServer-group name here to recognise its own servers.
    pub description: String,
}

/// The weight of every Cluster or ENI backend without `weight`.
pub const DEFAULT_SERVER_WEIGHT: i32 = 100;

/// What a vServer group's backends are built from.
pub struct BackendInput<'a> {
    /// The backend mode.
    pub mode: BackendMode,
    /// Every node of the cluster.
    pub nodes: &'a [ClusterNode],
    /// The Service's pod endpoints.
    pub pods: &'a [BackendPod],
    /// The Service's CLB annotations.
    pub annotations: &'a ClbAnnotations,
    /// `…-weight`, applied only to a user-managed vServer group on a reused CLB.
    pub total_weight: Option<i32>,
}

/// The backend servers of the vServer group for one Service port, sorted by name.
///
/// `node_port` is the backend port of node backends; `target_port` resolves the pod port of
/// ENI backends: the pod's port of this Service port's name, else the numeric targetPort.
pub fn build_backends(
    input: &BackendInput<'_>,
    service_port_name: &str,
    node_port: i32,
    numeric_target_port: Option<i32>,
    description: &str,
) -> Vec<BackendServer> {
    let candidates: BTreeMap<&str, &ClusterNode> = input
        .nodes
        .iter()
        .filter(|n| is_candidate_node(n, input.annotations))
        .map(|n| (n.name.as_str(), n))
        .collect();
    // Terminating endpoints are skipped, then only ready ones count.
    let ready_pods = input.pods.iter().filter(|p| p.ready && !p.terminating);
    let default_weight = input
        .annotations
        .default_weight
        .unwrap_or(DEFAULT_SERVER_WEIGHT);
    let mut servers = match input.mode {
        BackendMode::Cluster => {
            let n = candidates.len();
            candidates
                .values()
                .map(|node| BackendServer {
                    kind: BackendKind::Ecs,
                    name: node.name.clone(),
                    ip: node.internal_ip.clone(),
                    port: node_port,
                    weight: per_backend_weight(input.total_weight, n).unwrap_or(default_weight),
                    pods: None,
                    description: description.to_string(),
                })
                .collect::<Vec<_>>()
        }
        BackendMode::Local => {
            let mut per_node: BTreeMap<&str, usize> = BTreeMap::new();
            for pod in ready_pods {
                if let Some(node) = pod
                    .node_name
                    .as_deref()
                    .filter(|n| candidates.contains_key(n))
                {
                    *per_node.entry(node).or_default() += 1;
                }
            }
            let total: usize = per_node.values().sum();
            per_node
                .into_iter()
                .filter_map(|(name, count)| {
                    let node = candidates.get(name)?;
                    Some(BackendServer {
                        kind: BackendKind::Ecs,
                        name: node.name.clone(),
                        ip: node.internal_ip.clone(),
                        port: node_port,
                        weight: local_weight(input.total_weight, count, total),
                        pods: Some(count),
                        description: description.to_string(),
                    })
                })
                .collect()
        }
        BackendMode::Eni => {
            let pods: Vec<(&BackendPod, i32)> = ready_pods
                .filter_map(|p| {
                    // A named targetPort the pod does not expose leaves the pod out.
                    let port = p
                        .ports
                        .get(service_port_name)
                        .copied()
                        .or(numeric_target_port)?;
                    Some((p, port))
                })
                .collect();
            let n = pods.len();
            pods.into_iter()
                .map(|(pod, port)| BackendServer {
                    kind: BackendKind::Eni,
                    name: pod.name.clone(),
                    ip: pod.ip.clone(),
                    port,
                    weight: per_backend_weight(input.total_weight, n).unwrap_or(default_weight),
                    pods: None,
                    description: description.to_string(),
                })
                .collect()
        }
    };
    servers.sort_by(|a, b| (&a.name, &a.ip).cmp(&(&b.name, &b.ip)));
    servers
}

/// `podPercentAlgorithm` for Cluster and ENI: `max(1, W / backends)`; `W = 0` gives 0.
fn per_backend_weight(total: Option<i32>, backends: usize) -> Option<i32> {
    let total = total?;
    if total == 0 || backends == 0 {
        return Some(0);
    }
    let n = i32::try_from(backends).unwrap_or(i32::MAX);
    Some((total / n).max(1))
}

/// Local weights: the pod count (`podNumberAlgorithm`), or with `W` set
/// `max(1, W * podsOnNode / totalPods)` (`podPercentAlgorithm`).
fn local_weight(total_weight: Option<i32>, pods_on_node: usize, total_pods: usize) -> i32 {
    let count = i32::try_from(pods_on_node).unwrap_or(i32::MAX);
    match total_weight {
        None => count.max(1),
        Some(0) => 0,
        Some(w) => {
            let total = i32::try_from(total_pods).unwrap_or(i32::MAX).max(1);
            (w.saturating_mul(count) / total).max(1)
        }
    }
}
