//! Selector × pods → the Endpoints object and EndpointSlices of a Service, as kube-controller-
//! manager's endpoints and EndpointSlice controllers (v1.32) compute them. Output is sorted and
//! named deterministically, so recomputing an unchanged cluster yields equal objects.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Node, ObjectReference, Pod, Service,
    ServicePort,
};
use k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointPort as SlicePort, EndpointSlice,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize as _;

use crate::format::{is_dns1123_subdomain, is_ipv6_string};
use crate::selector::matches_service_selector;
use crate::service::types::{
    CLUSTER_IP_NONE, IP_FAMILY_IPV4, IP_FAMILY_IPV6, PROTOCOL_TCP, TYPE_EXTERNAL_NAME,
};

/// Label naming the Service an EndpointSlice belongs to (`discovery.LabelServiceName`).
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// Label naming the controller that manages an EndpointSlice (`discovery.LabelManagedBy`).
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The EndpointSlice controller's name, the value of [`LABEL_MANAGED_BY`].
pub const ENDPOINTSLICE_CONTROLLER: &str = "endpointslice-controller.k8s.io";
/// Label set on the endpoints of a headless Service (`v1.IsHeadlessService`).
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
/// The node label carrying the zone copied into `endpoints[].zone`.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// Label keeping the EndpointSlice mirroring controller away from an Endpoints
/// (`discovery.LabelSkipMirror`).
pub const LABEL_SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
/// The `kubernetes` Service in `default`, whose endpoints are the API server itself.
pub const MASTER_SERVICE_NAME: &str = "kubernetes";
/// The name of the API server's port in the `kubernetes` Service and its endpoints.
pub const MASTER_PORT_NAME: &str = "https";

/// The Endpoints and EndpointSlice kube-apiserver keeps for the `kubernetes` Service: one
/// ready address, the server's own, on its secure port named `https` (the lease reconciler of
/// pkg/controlplane/reconcilers/lease.go, with `setSkipMirrorTrue`, and the EndpointSlice
/// `endpointSliceFromEndpoints` of endpointsadapter.go makes from it, labelled only with its
/// Service's name).
pub fn master_endpoints(ip: &str, port: i32) -> (Endpoints, EndpointSlice) {
    let meta = |labels: BTreeMap<String, String>| ObjectMeta {
        name: Some(MASTER_SERVICE_NAME.into()),
        namespace: Some("default".into()),
        labels: Some(labels),
        ..Default::default()
    };
    let endpoints = Endpoints {
        metadata: meta([(LABEL_SKIP_MIRROR.to_string(), "true".to_string())].into()),
        subsets: Some(vec![EndpointSubset {
            addresses: Some(vec![EndpointAddress {
                ip: ip.into(),
                ..Default::default()
            }]),
            ports: Some(vec![EndpointPort {
                name: Some(MASTER_PORT_NAME.into()),
                port,
                protocol: Some(PROTOCOL_TCP.into()),
                ..Default::default()
            }]),
            ..Default::default()
        }]),
    };
    let address_type = if is_ipv6_string(ip) {
        ADDRESS_TYPE_IPV6
    } else {
        ADDRESS_TYPE_IPV4
    };
    let slice = EndpointSlice {
        metadata: meta(
            [(
                LABEL_SERVICE_NAME.to_string(),
                MASTER_SERVICE_NAME.to_string(),
            )]
            .into(),
        ),
        address_type: address_type.into(),
        endpoints: vec![Endpoint {
            addresses: vec![ip.into()],
            conditions: Some(EndpointConditions {
                ready: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ports: Some(vec![SlicePort {
            name: Some(MASTER_PORT_NAME.into()),
            port: Some(port),
            protocol: Some(PROTOCOL_TCP.into()),
            ..Default::default()
        }]),
    };
    (endpoints, slice)
}

/// The zone of each node by its name (`""` when the node has no zone label), as the
/// EndpointSlice controller reads zones for its endpoints' hints.
pub fn node_zones<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> BTreeMap<String, String> {
    nodes
        .into_iter()
        .map(|n| {
            let zone = n
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_ZONE))
                .cloned()
                .unwrap_or_default();
            (n.metadata.name.clone().unwrap_or_default(), zone)
        })
        .collect()
}
/// `maxEndpointsPerSlice`, the controller's default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// EndpointSlice `addressType` for IPv4.
pub const ADDRESS_TYPE_IPV4: &str = "IPv4";
/// EndpointSlice `addressType` for IPv6.
pub const ADDRESS_TYPE_IPV6: &str = "IPv6";

/// `names.SimpleNameGenerator`: at most 58 characters of base plus a 5-character suffix.
const MAX_GENERATED_BASE_LEN: usize = 58;
/// `utilrand.String`'s alphabet: no vowels, no confusable characters.
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The endpoint objects of one Service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEndpoints {
    /// The `v1` Endpoints object, named like the Service.
    pub endpoints: Endpoints,
    /// The `discovery.k8s.io/v1` EndpointSlices, at least one per IP family.
    pub slices: Vec<EndpointSlice>,
}

/// Both endpoint objects of a Service; `None` when the controllers leave the Service alone
/// (no selector, an empty selector, or `type: ExternalName`).
///
/// `node_zones` maps node names to their `topology.kubernetes.io/zone` label ("" when unset);
/// see [`compute_endpoint_slices`].
pub fn compute<P: Borrow<Pod>>(
    svc: &Service,
    pods: &[P],
    node_zones: Option<&BTreeMap<String, String>>,
) -> Option<ServiceEndpoints> {
    Some(ServiceEndpoints {
        endpoints: compute_endpoints(svc, pods)?,
        slices: compute_endpoint_slices(svc, pods, node_zones)?,
    })
}

/// Whether the controllers manage endpoints for this Service at all.
fn has_selector(svc: &Service) -> bool {
    let Some(spec) = svc.spec.as_ref() else {
        return false;
    };
    spec.type_.as_deref() != Some(TYPE_EXTERNAL_NAME)
        && spec.selector.as_ref().is_some_and(|s| !s.is_empty())
}

/// The pods of the Service's namespace its selector matches.
fn selected_pods<'a, P: Borrow<Pod>>(
    svc: &'a Service,
    pods: &'a [P],
) -> impl Iterator<Item = &'a Pod> + 'a {
    let selector = svc.spec.as_ref().and_then(|s| s.selector.as_ref());
    let namespace = svc.metadata.namespace.as_deref();
    let empty = BTreeMap::new();
    pods.iter().map(Borrow::borrow).filter(move |pod: &&Pod| {
        let same_ns = match (namespace, pod.metadata.namespace.as_deref()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        same_ns
            && matches_service_selector(selector, pod.metadata.labels.as_ref().unwrap_or(&empty))
    })
}

/// The part of a pod that [`compute`] reads, and nothing else: what an informer keeps per pod
/// so that a Service's reconcile reads its pods without decoding them (a Service selecting a
/// hundred pods would otherwise decode a hundred whole pods, managed fields and all, on every
/// reconcile). Decoded straight from the pod's JSON, skipping every other field: the
/// metadata the endpoints name (namespace, name, uid, labels, deletion), `restartPolicy`,
/// `hostname`, `subdomain`, `nodeName`, each container's name and ports (and an init
/// container's `restartPolicy`), and the status' phase, IPs and conditions. Each field reads
/// as k8s-openapi reads it (a missing or null list or string is empty), so the view is the
/// whole pod's decode with the other fields left unset.
pub fn endpoints_view(pod: &serde_json::Value) -> Result<Pod, serde_json::Error> {
    view::Pod::deserialize(pod).map(Pod::from)
}

/// The fields [`endpoints_view`] decodes, as the k8s-openapi types name them.
mod view {
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1 as core;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub(super) struct Pod {
        metadata: Option<Meta>,
        spec: Option<Spec>,
        status: Option<Status>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Meta {
        namespace: Option<String>,
        name: Option<String>,
        uid: Option<String>,
        labels: Option<BTreeMap<String, String>>,
        deletion_timestamp: Option<Time>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        containers: Option<Vec<Container>>,
        init_containers: Option<Vec<Container>>,
        restart_policy: Option<String>,
        hostname: Option<String>,
        subdomain: Option<String>,
        node_name: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Container {
        name: Option<String>,
        ports: Option<Vec<core::ContainerPort>>,
        restart_policy: Option<String>,
    }

    #[derive(Deserialize)]
    struct Status {
        phase: Option<String>,
        #[serde(rename = "podIP")]
        pod_ip: Option<String>,
        #[serde(rename = "podIPs")]
        pod_ips: Option<Vec<core::PodIP>>,
        conditions: Option<Vec<Condition>>,
    }

    #[derive(Deserialize)]
    struct Condition {
        #[serde(rename = "type")]
        type_: Option<String>,
        status: Option<String>,
    }

    impl From<Container> for core::Container {
        fn from(c: Container) -> core::Container {
            core::Container {
                name: c.name.unwrap_or_default(),
                ports: c.ports,
                restart_policy: c.restart_policy,
                ..core::Container::default()
            }
        }
    }

    fn containers(list: Option<Vec<Container>>) -> Option<Vec<core::Container>> {
        list.map(|l| l.into_iter().map(core::Container::from).collect())
    }

    impl From<Pod> for core::Pod {
        fn from(pod: Pod) -> core::Pod {
            core::Pod {
                metadata: pod
                    .metadata
                    .map_or_else(ObjectMeta::default, |m| ObjectMeta {
                        namespace: m.namespace,
                        name: m.name,
                        uid: m.uid,
                        labels: m.labels,
                        deletion_timestamp: m.deletion_timestamp,
                        ..ObjectMeta::default()
                    }),
                spec: pod.spec.map(|s| core::PodSpec {
                    containers: containers(s.containers).unwrap_or_default(),
                    init_containers: containers(s.init_containers),
                    restart_policy: s.restart_policy,
                    hostname: s.hostname,
                    subdomain: s.subdomain,
                    node_name: s.node_name,
                    ..core::PodSpec::default()
                }),
                status: pod.status.map(|s| core::PodStatus {
                    phase: s.phase,
                    pod_ip: s.pod_ip,
                    pod_ips: s.pod_ips,
                    conditions: s.conditions.map(|cs| {
                        cs.into_iter()
                            .map(|c| core::PodCondition {
                                type_: c.type_.unwrap_or_default(),
                                status: c.status.unwrap_or_default(),
                                ..core::PodCondition::default()
                            })
                            .collect()
                    }),
                    ..core::PodStatus::default()
                }),
            }
        }
    }
}

/// Mirrors `podutil.IsPodReady`: the `Ready` condition is `True`.
pub fn is_pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The pod's IPs: `status.podIPs`, else `status.podIP`.
fn pod_ips(pod: &Pod) -> Vec<String> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let ips: Vec<String> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.clone())
        .filter(|ip| !ip.is_empty())
        .collect();
    if !ips.is_empty() {
        return ips;
    }
    status
        .pod_ip
        .iter()
        .filter(|ip| !ip.is_empty())
        .cloned()
        .collect()
}

/// Mirrors `endpointsliceutil.ShouldPodBeInEndpoints`.
fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if pod_ips(pod).is_empty() {
        return false;
    }
    if !include_terminating && pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    match pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) {
        Some("Never") => phase != "Failed" && phase != "Succeeded",
        Some("OnFailure") => phase != "Succeeded",
        _ => true,
    }
}

/// Mirrors `endpointutil.ShouldSetHostname`.
fn hostname_for(pod: &Pod, svc: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    (spec.subdomain.as_deref() == svc.metadata.name.as_deref()
        && pod.metadata.namespace == svc.metadata.namespace)
        .then(|| hostname.to_string())
}

pub(crate) fn protocol_or_tcp(protocol: Option<&str>) -> &str {
    protocol.filter(|p| !p.is_empty()).unwrap_or(PROTOCOL_TCP)
}

/// Mirrors `podutil.FindPort`: a number is used as is; a name is looked up among the
/// containers' ports (and restartable init containers') with the Service port's protocol.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    let name = match &port.target_port {
        Some(IntOrString::Int(n)) => return Some(*n),
        None => return Some(port.port),
        Some(IntOrString::String(name)) => name,
    };
    // kube-apiserver stores a numeric string target port as a string too; FindPort then
    // treats it as a name and only a container port of that name matches.
    let protocol = protocol_or_tcp(port.protocol.as_deref());
    let spec = pod.spec.as_ref()?;
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    spec.containers
        .iter()
        .chain(sidecars)
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| {
            p.name.as_deref() == Some(name.as_str())
                && protocol_or_tcp(p.protocol.as_deref()) == protocol
        })
        .map(|p| p.container_port)
}

fn target_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".to_string()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..ObjectReference::default()
    }
}

/// The IP family the Endpoints object uses: the Service's primary family.
fn primary_family_is_ipv6(svc: &Service) -> bool {
    let spec = svc.spec.as_ref();
    if let Some(first) = spec
        .and_then(|s| s.ip_families.as_ref())
        .and_then(|f| f.first())
    {
        return first == IP_FAMILY_IPV6;
    }
    spec.and_then(|s| s.cluster_ip.as_deref())
        .is_some_and(|ip| ip != CLUSTER_IP_NONE && is_ipv6_string(ip))
}

fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some(CLUSTER_IP_NONE)
}

/// The v1 Endpoints object, as the endpoints controller's `syncService` builds it; `None`
/// for a Service the controller ignores.
///
/// Ready pods go to `addresses`, not-ready ones to `notReadyAddresses` (all to `addresses`
/// with `publishNotReadyAddresses`); a pod whose named targetPort it does not expose is left
/// out of that port. Subsets are repacked so each holds the addresses sharing one port set.
/// Unlike Go, which orders ports and subsets by hash, ports are sorted by name, number and
/// protocol and subsets by their addresses, so the order is stable and readable.
pub fn compute_endpoints<P: Borrow<Pod>>(svc: &Service, pods: &[P]) -> Option<Endpoints> {
    if !has_selector(svc) {
        return None;
    }
    let spec = svc.spec.as_ref()?;
    let publish_not_ready = spec.publish_not_ready_addresses == Some(true);
    let want_ipv6 = primary_family_is_ipv6(svc);
    let ports = spec.ports.as_deref().unwrap_or_default();

    // port → (ip, uid) → (address, ready); the sentinel `None` stands for "no ports".
    let mut by_port: BTreeMap<Option<PortKey>, AddressSet> = BTreeMap::new();
    for pod in selected_pods(svc, pods) {
        if !should_pod_be_in_endpoints(pod, publish_not_ready) {
            continue;
        }
        let Some(ip) = pod_ips(pod)
            .into_iter()
            .find(|ip| is_ipv6_string(ip) == want_ipv6)
        else {
            continue;
        };
        let address = EndpointAddress {
            ip: ip.clone(),
            hostname: hostname_for(pod, svc),
            node_name: pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty()),
            target_ref: Some(target_ref(pod)),
        };
        let ready = publish_not_ready || is_pod_ready(pod);
        let key = (ip, pod.metadata.uid.clone().unwrap_or_default());
        if ports.is_empty() {
            // A headless Service may have no ports; its pods are still published.
            if is_headless(svc) {
                by_port
                    .entry(None)
                    .or_default()
                    .insert(key, (address, ready));
            }
            continue;
        }
        for port in ports {
            let Some(number) = find_port(pod, port) else {
                continue;
            };
            let port_key = PortKey {
                name: port.name.clone().unwrap_or_default(),
                port: number,
                protocol: protocol_or_tcp(port.protocol.as_deref()).to_string(),
                app_protocol: port.app_protocol.clone(),
            };
            by_port
                .entry(Some(port_key))
                .or_default()
                .insert(key.clone(), (address.clone(), ready));
        }
    }

    // Repack: ports that share the same address set share a subset (RepackSubsets).
    let mut groups: BTreeMap<Vec<(AddressKey, bool)>, RepackedSubset> = BTreeMap::new();
    for (port, addrs) in by_port {
        let key: Vec<(AddressKey, bool)> =
            addrs.iter().map(|(k, (_, r))| (k.clone(), *r)).collect();
        let entry = groups
            .entry(key)
            .or_insert_with(|| (addrs.into_values().collect(), Vec::new()));
        entry.1.extend(port);
    }
    let subsets: Vec<EndpointSubset> = groups
        .into_values()
        .map(|(addrs, mut ports)| {
            ports.sort();
            let (ready, not_ready): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|(_, r)| *r);
            let strip = |v: Vec<(EndpointAddress, bool)>| {
                let v: Vec<EndpointAddress> = v.into_iter().map(|(a, _)| a).collect();
                (!v.is_empty()).then_some(v)
            };
            EndpointSubset {
                addresses: strip(ready),
                not_ready_addresses: strip(not_ready),
                ports: (!ports.is_empty())
                    .then(|| ports.into_iter().map(PortKey::into_core).collect()),
            }
        })
        .collect();

    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    if is_headless(svc) {
        labels.insert(LABEL_HEADLESS.to_string(), String::new());
    } else {
        labels.remove(LABEL_HEADLESS);
    }
    Some(Endpoints {
        metadata: ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: svc.metadata.namespace.clone(),
            labels: (!labels.is_empty()).then_some(labels),
            ..ObjectMeta::default()
        },
        subsets: (!subsets.is_empty()).then_some(subsets),
    })
}

/// An address's identity in `RepackSubsets`: IP and pod UID.
type AddressKey = (String, String);
/// The addresses offering one port, with their readiness.
type AddressSet = BTreeMap<AddressKey, (EndpointAddress, bool)>;

/// A subset being repacked: its addresses with readiness, and the ports they share.
type RepackedSubset = (Vec<(EndpointAddress, bool)>, Vec<PortKey>);

/// One resolved endpoint port; the ordering gives Endpoints and slices a stable port order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PortKey {
    name: String,
    port: i32,
    protocol: String,
    app_protocol: Option<String>,
}

impl PortKey {
    fn into_core(self) -> EndpointPort {
        EndpointPort {
            // The Endpoints API omits an empty name (`omitempty`).
            name: (!self.name.is_empty()).then_some(self.name),
            port: self.port,
            protocol: Some(self.protocol),
            app_protocol: self.app_protocol,
        }
    }

    fn into_slice(self) -> SlicePort {
        SlicePort {
            // Always present, "" when unnamed: `kubectl describe` dereferences it.
            name: Some(self.name),
            port: Some(self.port),
            protocol: Some(self.protocol),
            app_protocol: self.app_protocol,
        }
    }
}

/// The EndpointSlices, as the EndpointSlice controller's reconciler builds them; `None` for a
/// Service the controller ignores.
///
/// One set of slices per IP family in `spec.ipFamilies` (IPv4 when unset); endpoints are
/// grouped by their resolved port set and cut into slices of [`MAX_ENDPOINTS_PER_SLICE`];
/// a family without endpoints gets one empty placeholder slice. Terminating pods are kept
/// with `terminating: true`. With `node_zones`, a pod on an unknown node is skipped (unless
/// `publishNotReadyAddresses`) and endpoints get their node's zone; with `None` nodes are not
/// checked. The controller names slices `generateName` + random suffix; here the suffix is a
/// hash of the Service, family and slice index, so recomputing gives the same names.
pub fn compute_endpoint_slices<P: Borrow<Pod>>(
    svc: &Service,
    pods: &[P],
    node_zones: Option<&BTreeMap<String, String>>,
) -> Option<Vec<EndpointSlice>> {
    if !has_selector(svc) {
        return None;
    }
    let spec = svc.spec.as_ref()?;
    let publish_not_ready = spec.publish_not_ready_addresses == Some(true);
    let families: Vec<&str> = match spec.ip_families.as_deref() {
        Some(f) if !f.is_empty() => f.iter().map(String::as_str).collect(),
        _ if primary_family_is_ipv6(svc) => vec![IP_FAMILY_IPV6],
        _ => vec![IP_FAMILY_IPV4],
    };
    let ports = spec.ports.as_deref().unwrap_or_default();
    let mut slices = Vec::new();
    for family in families {
        let ipv6 = family == IP_FAMILY_IPV6;
        let address_type = if ipv6 {
            ADDRESS_TYPE_IPV6
        } else {
            ADDRESS_TYPE_IPV4
        };
        let mut by_ports: BTreeMap<Vec<PortKey>, Vec<Endpoint>> = BTreeMap::new();
        for pod in selected_pods(svc, pods) {
            if !should_pod_be_in_endpoints(pod, true) {
                continue;
            }
            let node_name = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty());
            let zone = match (node_zones, node_name.as_deref()) {
                (Some(zones), Some(node)) => match zones.get(node) {
                    Some(zone) => Some(zone.clone()).filter(|z| !z.is_empty()),
                    None if publish_not_ready => None,
                    None => continue,
                },
                _ => None,
            };
            let addresses: Vec<String> = pod_ips(pod)
                .into_iter()
                .filter(|ip| is_ipv6_string(ip) == ipv6)
                .collect();
            if addresses.is_empty() {
                continue;
            }
            let mut port_keys: Vec<PortKey> = ports
                .iter()
                .filter_map(|port| {
                    Some(PortKey {
                        name: port.name.clone().unwrap_or_default(),
                        port: find_port(pod, port)?,
                        protocol: protocol_or_tcp(port.protocol.as_deref()).to_string(),
                        app_protocol: port.app_protocol.clone(),
                    })
                })
                .collect();
            port_keys.sort();
            let serving = is_pod_ready(pod);
            let terminating = pod.metadata.deletion_timestamp.is_some();
            by_ports.entry(port_keys).or_default().push(Endpoint {
                addresses,
                conditions: Some(EndpointConditions {
                    // "ready" is never true for a terminating pod unless addresses are published.
                    ready: Some(publish_not_ready || (serving && !terminating)),
                    serving: Some(serving),
                    terminating: Some(terminating),
                }),
                hostname: hostname_for(pod, svc),
                node_name,
                target_ref: Some(target_ref(pod)),
                zone,
                ..Endpoint::default()
            });
        }
        if by_ports.is_empty() {
            slices.push(new_slice(
                svc,
                address_type,
                slices.len(),
                Vec::new(),
                Vec::new(),
            ));
            continue;
        }
        for (port_keys, mut endpoints) in by_ports {
            endpoints.sort_by(|a, b| (&a.addresses, name_of(a)).cmp(&(&b.addresses, name_of(b))));
            for chunk in endpoints.chunks(MAX_ENDPOINTS_PER_SLICE) {
                let index = slices.len();
                slices.push(new_slice(
                    svc,
                    address_type,
                    index,
                    port_keys.clone(),
                    chunk.to_vec(),
                ));
            }
        }
    }
    Some(slices)
}

fn name_of(ep: &Endpoint) -> Option<&str> {
    ep.target_ref.as_ref().and_then(|r| r.name.as_deref())
}

/// Mirrors `newEndpointSlice` and `setEndpointSliceLabels`.
fn new_slice(
    svc: &Service,
    address_type: &str,
    index: usize,
    ports: Vec<PortKey>,
    endpoints: Vec<Endpoint>,
) -> EndpointSlice {
    let name = svc.metadata.name.clone().unwrap_or_default();
    let namespace = svc.metadata.namespace.clone().unwrap_or_default();
    let mut labels: BTreeMap<String, String> = svc
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| {
            ![LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS].contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if is_headless(svc) {
        labels.insert(LABEL_HEADLESS.to_string(), String::new());
    }
    labels.insert(LABEL_SERVICE_NAME.to_string(), name.clone());
    labels.insert(
        LABEL_MANAGED_BY.to_string(),
        ENDPOINTSLICE_CONTROLLER.to_string(),
    );
    let prefix = slice_prefix(&name);
    let seed = format!("{namespace}/{name}/{address_type}/{index}");
    EndpointSlice {
        address_type: address_type.to_string(),
        endpoints,
        metadata: ObjectMeta {
            name: Some(format!(
                "{}{}",
                truncate(&prefix, MAX_GENERATED_BASE_LEN),
                suffix(&seed)
            )),
            generate_name: Some(prefix),
            namespace: svc.metadata.namespace.clone(),
            labels: Some(labels),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".to_string(),
                kind: "Service".to_string(),
                name,
                uid: svc.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        // Go builds `[]` and `omitempty` drops it, so no ports reads as absent.
        ports: (!ports.is_empty()).then(|| ports.into_iter().map(PortKey::into_slice).collect()),
    }
}

/// Mirrors `getEndpointSlicePrefix`: `<service>-`, or `endpointslice-` when that is not a
/// valid name prefix.
fn slice_prefix(service_name: &str) -> String {
    let prefix = format!("{service_name}-");
    // NameIsDNSSubdomain with prefix=true validates the prefix plus a sample suffix.
    if is_dns1123_subdomain(&format!("{prefix}a")).is_empty() {
        prefix
    } else {
        "endpointslice-".to_string()
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A 5-character suffix from `SUFFIX_ALPHABET`, derived from `seed` with FNV-1a.
fn suffix(seed: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let n = SUFFIX_ALPHABET.len() as u64;
    (0..5)
        .map(|_| {
            let c = SUFFIX_ALPHABET[(hash % n) as usize];
            hash /= n;
            char::from(c)
        })
        .collect()
}

/// The distinct node names of the ready, non-terminating endpoints of a Service's slices.
pub fn ready_nodes(slices: &[EndpointSlice]) -> BTreeSet<String> {
    slices
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
        .filter_map(|e| e.node_name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, PodCondition, PodSpec, PodStatus, ServiceSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;

    #[test]
    fn master_endpoints_follow_the_address_family() {
        let (ep, slice) = master_endpoints("::1", 8443);
        assert_eq!(slice.address_type, ADDRESS_TYPE_IPV6);
        assert_eq!(slice.endpoints[0].addresses, ["::1"]);
        let subset = &ep.subsets.as_ref().expect("subsets")[0];
        let port = &subset.ports.as_ref().expect("ports")[0];
        assert_eq!((port.name.as_deref(), port.port), (Some("https"), 8443));
        let (_, slice) = master_endpoints("10.0.0.1", 6443);
        assert_eq!(slice.address_type, ADDRESS_TYPE_IPV4);
    }

    fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn service(selector: Option<&[(&str, &str)]>, ports: Vec<ServicePort>) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("svc-uid".into()),
                labels: labels(&[("team", "a")]),
                ..ObjectMeta::default()
            },
            spec: Some(ServiceSpec {
                selector: selector.and_then(labels),
                ports: Some(ports),
                cluster_ip: Some("10.0.0.10".into()),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        }
    }

    fn port(name: Option<&str>, port: i32, target: IntOrString) -> ServicePort {
        ServicePort {
            name: name.map(str::to_string),
            port,
            target_port: Some(target),
            protocol: Some("TCP".into()),
            ..ServicePort::default()
        }
    }

    fn pod(name: &str, ip: &str, node: &str, ready: bool, container_ports: &[(&str, i32)]) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(format!("uid-{name}")),
                labels: labels(&[("app", "web")]),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: Some(node.into()),
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(
                        container_ports
                            .iter()
                            .map(|(n, p)| ContainerPort {
                                name: (!n.is_empty()).then(|| n.to_string()),
                                container_port: *p,
                                protocol: Some("TCP".into()),
                                ..ContainerPort::default()
                            })
                            .collect(),
                    ),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
            status: Some(PodStatus {
                pod_ip: Some(ip.into()),
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
        }
    }

    fn ips(v: &Option<Vec<EndpointAddress>>) -> Vec<&str> {
        v.iter().flatten().map(|a| a.ip.as_str()).collect()
    }

    fn addresses(subset: &EndpointSubset) -> (Vec<&str>, Vec<&str>) {
        (ips(&subset.addresses), ips(&subset.not_ready_addresses))
    }

    #[test]
    fn no_selector_means_no_endpoint_objects() {
        let svc = service(None, vec![port(None, 80, IntOrString::Int(80))]);
        let pods = [pod("a", "10.1.0.1", "n1", true, &[])];
        assert_eq!(compute(&svc, &pods, None), None);
        let empty = service(Some(&[]), vec![port(None, 80, IntOrString::Int(80))]);
        assert_eq!(compute(&empty, &pods, None), None);
    }

    #[test]
    fn named_target_port_resolves_against_container_ports() {
        let svc = service(
            Some(&[("app", "web")]),
            vec![port(Some("http"), 80, IntOrString::String("web".into()))],
        );
        let pods = [
            pod("a", "10.1.0.1", "n1", true, &[("web", 8080)]),
            pod("b", "10.1.0.2", "n2", true, &[("web", 9090)]),
            pod("c", "10.1.0.3", "n2", true, &[("other", 7070)]),
        ];
        let ep = compute_endpoints(&svc, &pods).unwrap();
        let subsets = ep.subsets.unwrap();
        // Different resolved ports give different subsets; pod c exposes no "web" port.
        assert_eq!(subsets.len(), 2);
        assert_eq!(addresses(&subsets[0]).0, vec!["10.1.0.1"]);
        assert_eq!(subsets[0].ports.as_ref().unwrap()[0].port, 8080);
        assert_eq!(addresses(&subsets[1]).0, vec!["10.1.0.2"]);
        assert_eq!(subsets[1].ports.as_ref().unwrap()[0].port, 9090);

        let slices = compute_endpoint_slices(&svc, &pods, None).unwrap();
        let summary: Vec<(Option<i32>, Vec<&str>)> = slices
            .iter()
            .map(|s| {
                (
                    s.ports.as_ref().map(|p| p[0].port.unwrap_or_default()),
                    s.endpoints
                        .iter()
                        .map(|e| e.addresses[0].as_str())
                        .collect(),
                )
            })
            .collect();
        // The slice controller keeps pod c, with no ports.
        assert_eq!(
            summary,
            vec![
                (None, vec!["10.1.0.3"]),
                (Some(8080), vec!["10.1.0.1"]),
                (Some(9090), vec!["10.1.0.2"])
            ]
        );
    }

    #[test]
    fn not_ready_pod_is_in_not_ready_addresses_and_ready_false() {
        let svc = service(
            Some(&[("app", "web")]),
            vec![port(None, 80, IntOrString::Int(8080))],
        );
        let pods = [
            pod("a", "10.1.0.1", "n1", true, &[]),
            pod("b", "10.1.0.2", "n1", false, &[]),
        ];
        let ep = compute_endpoints(&svc, &pods).unwrap();
        let subsets = ep.subsets.unwrap();
        assert_eq!(subsets.len(), 1);
        assert_eq!(addresses(&subsets[0]), (vec!["10.1.0.1"], vec!["10.1.0.2"]));
        let slices = compute_endpoint_slices(&svc, &pods, None).unwrap();
        let conditions: Vec<(bool, bool, bool)> = slices[0]
            .endpoints
            .iter()
            .map(|e| {
                let c = e.conditions.clone().unwrap();
                (c.ready.unwrap(), c.serving.unwrap(), c.terminating.unwrap())
            })
            .collect();
        assert_eq!(conditions, vec![(true, true, false), (false, false, false)]);
    }

    #[test]
    fn publish_not_ready_addresses_makes_every_pod_ready() {
        let mut svc = service(
            Some(&[("app", "web")]),
            vec![port(None, 80, IntOrString::Int(8080))],
        );
        svc.spec.as_mut().unwrap().publish_not_ready_addresses = Some(true);
        let pods = [pod("b", "10.1.0.2", "n1", false, &[])];
        let ep = compute_endpoints(&svc, &pods).unwrap();
        assert_eq!(
            addresses(&ep.subsets.unwrap()[0]),
            (vec!["10.1.0.2"], vec![])
        );
        let slices = compute_endpoint_slices(&svc, &pods, None).unwrap();
        assert_eq!(
            slices[0].endpoints[0].conditions.as_ref().unwrap().ready,
            Some(true)
        );
    }

    #[test]
    fn unnamed_port_has_empty_name_in_slices_and_none_in_endpoints() {
        let svc = service(
            Some(&[("app", "web")]),
            vec![port(None, 80, IntOrString::Int(8080))],
        );
        let pods = [pod("a", "10.1.0.1", "n1", true, &[])];
        let slices = compute_endpoint_slices(&svc, &pods, None).unwrap();
        let json = serde_json::to_value(&slices[0]).unwrap();
        assert_eq!(json["ports"][0]["name"], "");
        let ep = compute_endpoints(&svc, &pods).unwrap();
        assert_eq!(ep.subsets.unwrap()[0].ports.as_ref().unwrap()[0].name, None);
    }

    #[test]
    fn slice_metadata_labels_and_owner() {
        let svc = service(
            Some(&[("app", "web")]),
            vec![port(None, 80, IntOrString::Int(8080))],
        );
        let pods = [pod("a", "10.1.0.1", "n1", true, &[])];
        let zones: BTreeMap<String, String> =
            [("n1".to_string(), "cn-hangzhou-k".to_string())].into();
        let slices = compute_endpoint_slices(&svc, &pods, Some(&zones)).unwrap();
        let slice = &slices[0];
        assert_eq!(slice.address_type, "IPv4");
        let meta = &slice.metadata;
        assert_eq!(meta.generate_name.as_deref(), Some("web-"));
        assert!(meta.name.as_deref().unwrap().starts_with("web-"));
        assert_eq!(meta.name.as_deref().unwrap().len(), "web-".len() + 5);
        assert_eq!(
            meta.labels,
            labels(&[
                ("team", "a"),
                (LABEL_SERVICE_NAME, "web"),
                (LABEL_MANAGED_BY, ENDPOINTSLICE_CONTROLLER)
            ])
        );
        let owner = &meta.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("Service", "web", "svc-uid")
        );
        assert_eq!(
            (owner.controller, owner.block_owner_deletion),
            (Some(true), Some(true))
        );
        let ep = &slice.endpoints[0];
        assert_eq!(ep.node_name.as_deref(), Some("n1"));
        assert_eq!(ep.zone.as_deref(), Some("cn-hangzhou-k"));
        assert_eq!(ep.target_ref.as_ref().unwrap().name.as_deref(), Some("a"));
    }

    #[test]
    fn no_matching_pod_gives_empty_endpoints_and_a_placeholder_slice() {
        let svc = service(
            Some(&[("app", "other")]),
            vec![port(None, 80, IntOrString::Int(8080))],
        );
        let pods = [pod("a", "10.1.0.1", "n1", true, &[])];
        let ep = compute_endpoints(&svc, &pods).unwrap();
        assert_eq!(ep.subsets, None);
        assert_eq!(ep.metadata.name.as_deref(), Some("web"));
        let slices = compute_endpoint_slices(&svc, &pods, None).unwrap();
        assert_eq!(slices.len(), 1);
        assert!(slices[0].endpoints.is_empty());
        assert_eq!(slices[0].ports, None);
    }

    #[test]
    fn terminating_pod_is_only_in_slices() {
        let svc = service(
            Some(&[("app", "web")]),
            vec![port(None, 80, IntOrString::Int(8080))],
        );
        let mut p = pod("a", "10.1.0.1", "n1", true, &[]);
        p.metadata.deletion_timestamp = Some(Time("2026-01-01T00:00:00Z".parse().unwrap()));
        let ep = compute_endpoints(&svc, std::slice::from_ref(&p)).unwrap();
        assert_eq!(ep.subsets, None);
        let slices = compute_endpoint_slices(&svc, &[p], None).unwrap();
        let c = slices[0].endpoints[0].conditions.clone().unwrap();
        assert_eq!(
            (c.ready, c.serving, c.terminating),
            (Some(false), Some(true), Some(true))
        );
    }

    #[test]
    fn pod_on_unknown_node_is_skipped_in_slices() {
        let svc = service(
            Some(&[("app", "web")]),
            vec![port(None, 80, IntOrString::Int(8080))],
        );
        let pods = [pod("a", "10.1.0.1", "gone", true, &[])];
        let zones = BTreeMap::new();
        let slices = compute_endpoint_slices(&svc, &pods, Some(&zones)).unwrap();
        assert!(slices[0].endpoints.is_empty());
    }

    #[test]
    fn recompute_is_identical() {
        let svc = service(
            Some(&[("app", "web")]),
            vec![port(Some("http"), 80, IntOrString::Int(8080))],
        );
        let pods = [
            pod("b", "10.1.0.2", "n2", true, &[]),
            pod("a", "10.1.0.1", "n1", false, &[]),
        ];
        let mut reversed = pods.clone();
        reversed.reverse();
        assert_eq!(compute(&svc, &pods, None), compute(&svc, &reversed, None));
    }

    #[test]
    fn the_endpoints_view_of_pods_computes_the_same_endpoints() {
        use k8s_openapi::api::core::v1::{EnvVar, PodIP};
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
        let mut pods = vec![
            pod("a", "10.1.0.1", "n1", true, &[("http", 8080)]),
            pod("b", "10.1.0.2", "n2", false, &[("http", 8081)]),
            pod("c", "10.1.0.3", "n1", true, &[]),
            pod("d", "10.1.0.4", "n3", true, &[("http", 8080)]),
            pod("e", "10.1.0.5", "n2", true, &[("http", 8080)]),
        ];
        // What the view leaves out, on every pod; it must change nothing.
        for p in &mut pods {
            p.metadata.annotations = labels(&[("note", "x")]);
            p.metadata.resource_version = Some("7".into());
            p.metadata.managed_fields = Some(vec![ManagedFieldsEntry::default()]);
            let spec = p.spec.as_mut().expect("spec");
            spec.service_account_name = Some("default".into());
            let c = &mut spec.containers[0];
            c.image = Some("nginx".into());
            c.env = Some(vec![EnvVar {
                name: "A".into(),
                value: Some("1".into()),
                ..EnvVar::default()
            }]);
            let status = p.status.as_mut().expect("status");
            status.host_ip = Some("192.168.0.1".into());
            status.conditions.as_mut().expect("conditions")[0].reason = Some("r".into());
        }
        // And what it keeps, in every shape the rules look at.
        pods[1].metadata.deletion_timestamp = Some(Time("2026-01-01T00:00:00Z".parse().unwrap()));
        let spec = pods[2].spec.as_mut().expect("spec");
        spec.hostname = Some("c".into());
        spec.subdomain = Some("web".into());
        spec.init_containers = Some(vec![Container {
            name: "sidecar".into(),
            image: Some("envoy".into()),
            restart_policy: Some("Always".into()),
            ports: Some(vec![ContainerPort {
                name: Some("http".into()),
                container_port: 9090,
                ..ContainerPort::default()
            }]),
            ..Container::default()
        }]);
        pods[3].spec.as_mut().expect("spec").restart_policy = Some("Never".into());
        pods[3].status.as_mut().expect("status").phase = Some("Failed".into());
        pods[4].status.as_mut().expect("status").pod_ips = Some(vec![
            PodIP {
                ip: "10.1.0.5".into(),
            },
            PodIP {
                ip: "fd00::5".into(),
            },
        ]);
        let views: Vec<Pod> = pods
            .iter()
            .map(|p| endpoints_view(&serde_json::to_value(p).expect("encodes")).expect("decodes"))
            .collect();
        assert!(views[0].metadata.managed_fields.is_none());
        assert!(
            views[0].spec.as_ref().expect("spec").containers[0]
                .image
                .is_none()
        );

        let named = || port(Some("http"), 80, IntOrString::String("http".into()));
        let mut services = vec![
            service(Some(&[("app", "web")]), vec![named()]),
            service(
                Some(&[("app", "web")]),
                vec![named(), port(Some("raw"), 81, IntOrString::Int(9000))],
            ),
        ];
        let mut published = service(Some(&[("app", "web")]), vec![named()]);
        published
            .spec
            .as_mut()
            .expect("spec")
            .publish_not_ready_addresses = Some(true);
        services.push(published);
        let mut dual = service(Some(&[("app", "web")]), vec![named()]);
        dual.spec.as_mut().expect("spec").ip_families =
            Some(vec![IP_FAMILY_IPV4.into(), IP_FAMILY_IPV6.into()]);
        services.push(dual);
        let mut headless = service(Some(&[("app", "web")]), Vec::new());
        headless.spec.as_mut().expect("spec").cluster_ip = Some(CLUSTER_IP_NONE.into());
        services.push(headless);

        let zones: BTreeMap<String, String> = [("n1", "z1"), ("n2", "")]
            .into_iter()
            .map(|(n, z)| (n.to_string(), z.to_string()))
            .collect();
        for svc in &services {
            for zones in [None, Some(&zones)] {
                let full = compute(svc, &pods, zones).expect("selected");
                let viewed = compute(svc, &views, zones).expect("selected");
                assert_eq!(full.endpoints, viewed.endpoints);
                assert_eq!(full.slices, viewed.slices);
            }
        }
    }

    #[test]
    fn the_endpoints_view_reads_nulls_and_gaps_as_the_whole_pod_does() {
        let pods = [
            serde_json::json!({"metadata": null, "spec": null, "status": null}),
            serde_json::json!({
                "metadata": {"name": "p", "labels": null, "annotations": {"a": "b"}},
                "spec": {"containers": null, "initContainers": [{"name": "i", "ports": null}],
                         "hostname": null, "nodeName": "n1"},
                "status": {"podIP": "10.0.0.1", "podIPs": null,
                           "conditions": [{"type": "Ready", "status": "True", "reason": null},
                                          {"status": "False"}]},
            }),
        ];
        for json in &pods {
            let whole = Pod::deserialize(json).expect("a pod");
            let view = endpoints_view(json).expect("a view");
            assert_eq!(view.metadata.name, whole.metadata.name);
            assert_eq!(view.metadata.labels, whole.metadata.labels);
            assert_eq!(
                view.spec
                    .as_ref()
                    .map(|s| (&s.containers, &s.init_containers, &s.node_name)),
                whole
                    .spec
                    .as_ref()
                    .map(|s| (&s.containers, &s.init_containers, &s.node_name))
            );
            assert_eq!(
                view.status
                    .as_ref()
                    .map(|s| (&s.pod_ip, &s.pod_ips, &s.conditions)),
                whole
                    .status
                    .as_ref()
                    .map(|s| (&s.pod_ip, &s.pod_ips, &s.conditions))
            );
        }
    }
}
