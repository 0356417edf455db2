//! Kubernetes literals of the Service kind (`pkg/apis/core/types.go`), written once.
//!
//! Only names live here; the rules that use them live in [`super::validate`].

/// `spec.type: ClusterIP`.
pub const TYPE_CLUSTER_IP: &str = "ClusterIP";
/// `spec.type: NodePort`.
pub const TYPE_NODE_PORT: &str = "NodePort";
/// `spec.type: LoadBalancer`.
pub const TYPE_LOAD_BALANCER: &str = "LoadBalancer";
/// `spec.type: ExternalName`.
pub const TYPE_EXTERNAL_NAME: &str = "ExternalName";
/// Every supported `spec.type`.
pub const SERVICE_TYPES: [&str; 4] = [
    TYPE_CLUSTER_IP,
    TYPE_NODE_PORT,
    TYPE_LOAD_BALANCER,
    TYPE_EXTERNAL_NAME,
];

/// Port protocol `TCP` (the default).
pub const PROTOCOL_TCP: &str = "TCP";
/// Port protocol `UDP`.
pub const PROTOCOL_UDP: &str = "UDP";
/// Port protocol `SCTP`.
pub const PROTOCOL_SCTP: &str = "SCTP";
/// Every supported port protocol.
pub const PROTOCOLS: [&str; 3] = [PROTOCOL_TCP, PROTOCOL_UDP, PROTOCOL_SCTP];

/// The `clusterIP` value of a headless Service.
pub const CLUSTER_IP_NONE: &str = "None";

/// `sessionAffinity: ClientIP`.
pub const AFFINITY_CLIENT_IP: &str = "ClientIP";
/// `sessionAffinity: None` (the default).
pub const AFFINITY_NONE: &str = "None";
/// Every supported `sessionAffinity`.
pub const SESSION_AFFINITIES: [&str; 2] = [AFFINITY_CLIENT_IP, AFFINITY_NONE];
/// The default ClientIP affinity timeout, in seconds.
pub const DEFAULT_CLIENT_IP_TIMEOUT_SECS: i32 = 10800;
/// The largest ClientIP affinity timeout, in seconds (`MaxClientIPServiceAffinitySeconds`).
pub const MAX_CLIENT_IP_TIMEOUT_SECS: i32 = 86400;

/// Traffic policy `Cluster` (external and internal).
pub const TRAFFIC_POLICY_CLUSTER: &str = "Cluster";
/// Traffic policy `Local` (external and internal).
pub const TRAFFIC_POLICY_LOCAL: &str = "Local";
/// Every supported external or internal traffic policy.
pub const TRAFFIC_POLICIES: [&str; 2] = [TRAFFIC_POLICY_CLUSTER, TRAFFIC_POLICY_LOCAL];

/// `trafficDistribution: PreferClose`, the only value in v1.32.
pub const TRAFFIC_DISTRIBUTION_PREFER_CLOSE: &str = "PreferClose";

/// IP family `IPv4`.
pub const IP_FAMILY_IPV4: &str = "IPv4";
/// IP family `IPv6`.
pub const IP_FAMILY_IPV6: &str = "IPv6";
/// Every supported IP family.
pub const IP_FAMILIES: [&str; 2] = [IP_FAMILY_IPV4, IP_FAMILY_IPV6];

/// `ipFamilyPolicy: SingleStack`.
pub const IP_FAMILY_POLICY_SINGLE_STACK: &str = "SingleStack";
/// `ipFamilyPolicy: PreferDualStack`.
pub const IP_FAMILY_POLICY_PREFER_DUAL_STACK: &str = "PreferDualStack";
/// `ipFamilyPolicy: RequireDualStack`.
pub const IP_FAMILY_POLICY_REQUIRE_DUAL_STACK: &str = "RequireDualStack";
/// Every supported `ipFamilyPolicy`.
pub const IP_FAMILY_POLICIES: [&str; 3] = [
    IP_FAMILY_POLICY_SINGLE_STACK,
    IP_FAMILY_POLICY_PREFER_DUAL_STACK,
    IP_FAMILY_POLICY_REQUIRE_DUAL_STACK,
];

/// Load-balancer ingress `ipMode: VIP` (the default).
pub const IP_MODE_VIP: &str = "VIP";
/// Load-balancer ingress `ipMode: Proxy`.
pub const IP_MODE_PROXY: &str = "Proxy";
/// Every supported load-balancer ingress `ipMode`.
pub const IP_MODES: [&str; 2] = [IP_MODE_VIP, IP_MODE_PROXY];

/// The kubelet port a LoadBalancer may not expose in v1.32 (`ports.KubeletPort`).
pub const KUBELET_PORT: i32 = 10250;

/// Annotation holding load-balancer source ranges when the field is empty.
pub const ANNOTATION_LB_SOURCE_RANGES: &str =
    "service.beta.kubernetes.io/load-balancer-source-ranges";
/// Annotation selecting topology-aware routing.
pub const ANNOTATION_TOPOLOGY_MODE: &str = "service.kubernetes.io/topology-mode";
/// Deprecated predecessor of [`ANNOTATION_TOPOLOGY_MODE`].
pub const ANNOTATION_TOPOLOGY_AWARE_HINTS: &str = "service.kubernetes.io/topology-aware-hints";
