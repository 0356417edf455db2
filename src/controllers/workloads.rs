//! The workloads controllers, a small KWOK: the deployment controller (deployments.rs) turns
//! each Deployment into ReplicaSets, and this ReplicaSet controller turns each ReplicaSet's
//! replicas into Running Pods (`<replicaset>-<5 random>`) with IPs from the pod CIDR (one /24
//! per node, as Flannel hands out), spread over the ready Nodes deterministically; the
//! ReplicaSet's status follows its Pods (pkg/controller/replicaset/replica_set.go).

use service_plan::json::Pointer as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ipnet::Ipv4Net;
use serde_json::{Value, json};
use service_plan::workload::rollout::{self, spec_replicas};

use super::deployments::DeploymentReconciler;
use super::informer::{
    Informers, Key, NodeView, Notification, ORPHANS, PODS_BY_IP, PODS_BY_NODE, PODS_BY_OWNER,
    controlled_by, owner_value,
};
use super::{
    Controller, EventRecord, Reconciler, Sync, delete_if_present, record_event, resync_once,
    str_at, upsert,
};
use crate::registry::{REPLICA_SETS, Registry, RegistryError, Revision};

/// The field manager (and ServiceAccount) of the controller's writes.
pub const MANAGER: &str = "replicaset-controller";
/// The label carrying the template hash, as the deployment controller sets it.
pub const LABEL_TEMPLATE_HASH: &str = service_plan::workload::rollout::LABEL_TEMPLATE_HASH;
/// The kind that controls Pods here.
const KIND: &str = "ReplicaSet";
/// `utilrand.String`'s alphabet, for name suffixes.
const ALPHABET: &[u8] = service_plan::workload::rollout::SAFE_ALPHANUMS;
/// Length of a pod name suffix.
const SUFFIX_CHARS: usize = 5;
/// Prefix length of each node's pod subnet.
const NODE_SUBNET_PREFIX: u8 = 24;

/// A one-shot full resync of every Deployment, then of every ReplicaSet.
#[derive(Debug, Default)]
pub struct Workloads;

impl Controller for Workloads {
    const NAME: &'static str = "workloads";

    async fn sync(&mut self, registry: &Registry, _sync: Sync) -> Result<(), RegistryError> {
        let informers = Informers::snapshot(registry).await?;
        resync_once(&DeploymentReconciler::new(
            registry.clone(),
            Arc::clone(&informers),
        ))
        .await?;
        resync_once(&WorkloadsReconciler::new(registry.clone(), informers)).await
    }
}

/// The running ReplicaSet controller: reconciles one ReplicaSet key at a time. One worker:
/// pod IPs and node spreading are cluster-wide choices, so two ReplicaSets never place pods
/// at once.
pub struct WorkloadsReconciler {
    registry: Registry,
    informers: Arc<Informers>,
    /// ReplicaSets with pods ready but not yet for `minReadySeconds`: when to look again.
    pending: Mutex<HashMap<Key, Duration>>,
}

impl WorkloadsReconciler {
    /// A reconciler reading `informers`.
    pub fn new(registry: Registry, informers: Arc<Informers>) -> WorkloadsReconciler {
        WorkloadsReconciler {
            registry,
            informers,
            pending: Mutex::default(),
        }
    }

    /// Every ReplicaSet and every ReplicaSet named as a pod's controller (orphans to remove).
    fn all_keys(&self) -> Vec<Key> {
        let mut keys: BTreeSet<Key> = self.informers.replica_sets.keys().into_iter().collect();
        keys.extend(
            self.informers
                .pods
                .list()
                .iter()
                .filter_map(|p| controlled_by(p, KIND)),
        );
        keys.into_iter().collect()
    }

    /// Owners of the pods on a node.
    fn owners_on(&self, node: &str, keys: &mut BTreeSet<Key>) {
        keys.extend(
            self.informers
                .pods
                .by_index(PODS_BY_NODE, node)
                .iter()
                .filter_map(|p| controlled_by(p, KIND)),
        );
    }
}

/// What placing a pod reads of a node (see [`node_slots`]).
fn placement_inputs(node: &Value) -> Option<(bool, String, String)> {
    let view = NodeView::of(node)?;
    Some((view.node.ready, view.node.internal_ip, view.pod_cidr))
}

impl Reconciler for WorkloadsReconciler {
    type Key = Key;
    const NAME: &'static str = "workloads";
    const RESOURCES: &'static [&'static str] = &["replicasets", "pods", "nodes"];
    const WORKERS: usize = 1;

    fn keys_for(&self, resource: &str, notification: &Notification) -> Vec<Key> {
        if let Notification::Resynced = notification {
            return if resource == "replicasets" {
                self.all_keys()
            } else {
                Vec::new()
            };
        }
        let mut keys = BTreeSet::new();
        match resource {
            "replicasets" => keys.extend(notification.objects().map(|rs| Key::of(rs))),
            // A Pod's change concerns only the ReplicaSet controlling it.
            "pods" => keys.extend(
                notification
                    .objects()
                    .filter_map(|p| controlled_by(p, KIND)),
            ),
            "nodes" => match notification {
                // A node that goes takes its pods with it.
                Notification::Deleted(node) => {
                    self.owners_on(str_at(node, "/metadata/name"), &mut keys)
                }
                // New or changed room lets unscheduled pods be placed; a heartbeat does not.
                Notification::Added(_) => self.owners_on("", &mut keys),
                Notification::Updated { old, new } => {
                    if placement_inputs(old) != placement_inputs(new) {
                        self.owners_on("", &mut keys);
                    }
                }
                Notification::Resynced => {}
            },
            _ => {}
        }
        keys.into_iter().collect()
    }

    async fn reconcile(&self, key: &Key) -> Result<(), RegistryError> {
        let (wrote, available_in) = reconcile(&self.registry, &self.informers, key).await?;
        {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            match available_in {
                Some(after) => pending.insert(key.clone(), after),
                None => pending.remove(key),
            };
        }
        // The next ReplicaSet picks IPs and nodes from the caches: they must show these pods.
        if let Some(revision) = wrote {
            self.informers.catch_up(&self.registry, revision).await?;
        }
        Ok(())
    }

    fn requeue_after(&self, key: &Key) -> Option<Duration> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
    }
}

/// A node the scheduler may use.
#[derive(Debug, Clone)]
struct NodeSlot {
    name: String,
    internal_ip: String,
    subnet: Ipv4Net,
    /// Only a ready node takes new pods; the others still hold their subnet's index.
    ready: bool,
}

fn random_suffix() -> String {
    (0..SUFFIX_CHARS)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect()
}

/// Each node's pod subnet: its `spec.podCIDR`, else the /24 of the pod CIDR at its index.
fn node_slots(nodes: &[Arc<NodeView>], pod_cidr: Ipv4Net) -> Vec<NodeSlot> {
    let mut names: Vec<&NodeView> = nodes.iter().map(|n| &**n).collect();
    names.sort_by(|a, b| a.node.name.cmp(&b.node.name));
    names
        .iter()
        .enumerate()
        .map(|(index, view)| {
            let by_index = pod_cidr
                .subnets(NODE_SUBNET_PREFIX.max(pod_cidr.prefix_len()))
                .ok()
                .and_then(|mut s| s.nth(index));
            let subnet = view
                .pod_cidr
                .parse::<Ipv4Net>()
                .ok()
                .or(by_index)
                .unwrap_or(pod_cidr);
            NodeSlot {
                name: view.node.name.clone(),
                internal_ip: view.node.internal_ip.clone(),
                subnet,
                ready: view.node.ready,
            }
        })
        .collect()
}

fn owner_uid(pod: &Value) -> Option<&str> {
    pod.at("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter().find(|r| {
                str_at(r, "/kind") == KIND && r.get("controller") == Some(&Value::Bool(true))
            })
        })
        .and_then(|r| r.get("uid").and_then(Value::as_str))
}

/// The Pod a ReplicaSet's replica is (`getPodsFromTemplate`: the template's labels, which
/// carry the pod-template hash, and annotations), placed on `node` with `ip` (unscheduled
/// when `None`).
fn pod_for(
    rs: &Value,
    name: &str,
    placement: Option<(&NodeSlot, String)>,
    started: &Value,
) -> Value {
    let namespace = str_at(rs, "/metadata/namespace");
    let template = rs.at("/spec/template").cloned().unwrap_or(Value::Null);
    let labels = template
        .at("/metadata/labels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut spec = template
        .get("spec")
        .cloned()
        .unwrap_or_else(|| json!({"containers": []}));
    let containers: Vec<Value> = spec
        .get("containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": format!("{}-", str_at(rs, "/metadata/name")),
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [controller_ref(rs)],
        },
    });
    if let Some(annotations) = template.at("/metadata/annotations") {
        pod["metadata"]["annotations"] = annotations.clone();
    }
    let Some((node, ip)) = placement else {
        pod["spec"] = spec;
        pod["status"] = json!({"phase": "Pending", "qosClass": "BestEffort", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/0 nodes are available: no ready node.", "lastTransitionTime": started}
        ]});
        return pod;
    };
    spec["nodeName"] = json!(node.name);
    pod["spec"] = spec;
    let condition = |t: &str| json!({"type": t, "status": "True", "lastTransitionTime": started});
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| {
            json!({
                "name": str_at(c, "/name"),
                "image": str_at(c, "/image"),
                "imageID": "",
                "ready": true,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": started}},
            })
        })
        .collect();
    pod["status"] = json!({
        "phase": "Running",
        "conditions": [condition("PodReadyToStartContainers"), condition("Initialized"), condition("Ready"), condition("ContainersReady"), condition("PodScheduled")],
        "hostIP": node.internal_ip,
        "hostIPs": [{"ip": node.internal_ip}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": started,
        "containerStatuses": statuses,
        "qosClass": "BestEffort",
    });
    pod
}

/// Picks the ready node with the fewest of this Deployment's pods, then the fewest pods,
/// then the first name.
fn pick_node<'a>(
    slots: &'a [NodeSlot],
    mine: &BTreeMap<String, usize>,
    all: &BTreeMap<String, usize>,
) -> Option<&'a NodeSlot> {
    slots.iter().min_by_key(|s| {
        (
            mine.get(&s.name).copied().unwrap_or(0),
            all.get(&s.name).copied().unwrap_or(0),
            s.name.clone(),
        )
    })
}

/// The first free address of the node's subnet (its first host is the bridge's).
fn pick_ip(slot: &NodeSlot, used: impl Fn(&str) -> bool) -> Option<String> {
    slot.subnet
        .hosts()
        .skip(1)
        .map(|ip| ip.to_string())
        .find(|ip| !used(ip))
}

/// A Normal Event on the ReplicaSet, as `PodControl` records each pod it creates or deletes
/// (pkg/controller/controller_utils.go).
async fn pod_event(
    registry: &Registry,
    rs: &Value,
    reason: &str,
    message: &str,
) -> Result<(), RegistryError> {
    let record = EventRecord {
        object: rs,
        type_: "Normal",
        reason,
        message,
        component: MANAGER,
    };
    record_event(registry, record, true).await
}

/// `getPodsToDelete`'s ranking (`ActivePods`): unscheduled before scheduled, pending before
/// running, not ready before ready, newer before older. The first ones go first.
fn deletion_rank(pod: &Value) -> (bool, bool, bool, std::cmp::Reverse<String>) {
    (
        !str_at(pod, "/spec/nodeName").is_empty(),
        str_at(pod, "/status/phase") == "Running",
        is_ready_pod(pod),
        std::cmp::Reverse(str_at(pod, "/metadata/creationTimestamp").to_string()),
    )
}

fn is_ready_pod(pod: &Value) -> bool {
    pod.at("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True")
        })
}

/// Brings one ReplicaSet's Pods and status in step, or removes the Pods of a ReplicaSet
/// that is gone; returns the store revision after its writes, if it wrote, and when a pod
/// ready but not yet for `minReadySeconds` will be available.
async fn reconcile(
    registry: &Registry,
    informers: &Informers,
    key: &Key,
) -> Result<(Option<Revision>, Option<Duration>), RegistryError> {
    let settings = registry.settings();
    let nodes: Vec<Arc<NodeView>> = informers.nodes.list_projected();
    let node_names: BTreeSet<&str> = nodes.iter().map(|n| n.node.name.as_str()).collect();
    let slots: Vec<NodeSlot> = node_slots(&nodes, settings.pod_cidr)
        .into_iter()
        .filter(|s| s.ready)
        .collect();
    let now = serde_json::to_value(crate::registry::now()).unwrap_or(Value::Null);
    let rs = informers.replica_sets.get(key);
    let uid = rs.as_deref().map(|r| str_at(r, "/metadata/uid"));
    let mut wrote = false;

    // Pods of a deleted (or re-created) ReplicaSet, and pods on nodes that are gone, go.
    let mut freed: BTreeSet<Key> = BTreeSet::new();
    let mut freed_nodes: Vec<String> = Vec::new();
    let mut owned: Vec<Value> = Vec::new();
    for pod in informers
        .pods
        .by_index(PODS_BY_OWNER, &owner_value(KIND, key))
    {
        let orphan = owner_uid(&pod) != uid;
        let node = str_at(&pod, "/spec/nodeName");
        let lost = !node.is_empty() && !node_names.contains(&node);
        if orphan || lost {
            wrote |= delete_if_present(
                registry,
                MANAGER,
                "pods",
                &key.namespace,
                str_at(&pod, "/metadata/name"),
            )
            .await?;
            freed.insert(Key::of(&pod));
            freed_nodes.push(node.to_string());
        } else {
            owned.push((*pod).clone());
        }
    }
    let Some(rs) = rs else {
        return Ok((wrote.then(|| registry.current_revision()), None));
    };
    let rs = &*rs;
    // Being deleted: the garbage collector decides what becomes of its pods (upstream
    // manages replicas only while `DeletionTimestamp` is nil).
    if rs.at("/metadata/deletionTimestamp").is_some() {
        return Ok((wrote.then(|| registry.current_revision()), None));
    }
    // `ClaimPods`: orphans the selector matches are taken back.
    let adopted = super::adoption::adopt(
        registry,
        MANAGER,
        &informers.pods,
        ORPHANS,
        rs,
        controller_ref(rs),
    )
    .await?;
    wrote |= !adopted.is_empty();
    owned.extend(adopted);

    // Cluster-wide counts come from the pod indexes, corrected by this reconcile's changes.
    let mut taken_ips: BTreeSet<String> = BTreeSet::new();
    let mut per_node: BTreeMap<String, usize> = slots
        .iter()
        .map(|s| {
            let on_node = informers.pods.index_len(PODS_BY_NODE, &s.name);
            let gone = freed_nodes.iter().filter(|n| **n == s.name).count();
            (s.name.clone(), on_node.saturating_sub(gone))
        })
        .collect();

    let (namespace, name) = (key.namespace.as_str(), key.name.as_str());
    let replicas = usize::try_from(spec_replicas(rs)).unwrap_or(0);

    // manageReplicas: extra replicas go in `getPodsToDelete`'s order.
    owned.sort_by_key(deletion_rank);
    let extra = owned.len().saturating_sub(replicas);
    let keep = owned.split_off(extra);
    for pod in owned {
        let pod_name = str_at(&pod, "/metadata/name");
        if delete_if_present(registry, MANAGER, "pods", namespace, pod_name).await? {
            wrote = true;
            pod_event(
                registry,
                rs,
                "SuccessfulDelete",
                &format!("Deleted pod: {pod_name}"),
            )
            .await?;
        }
        let node = str_at(&pod, "/spec/nodeName").to_string();
        if let Some(n) = per_node.get_mut(&node) {
            *n = n.saturating_sub(1);
        }
        freed.insert(Key::of(&pod));
    }
    let used = |ip: &str, taken: &BTreeSet<String>| {
        taken.contains(ip)
            || informers
                .pods
                .index_any(PODS_BY_IP, ip, |k| !freed.contains(k))
    };
    let mut mine: BTreeMap<String, usize> = BTreeMap::new();
    for pod in &keep {
        *mine
            .entry(str_at(pod, "/spec/nodeName").to_string())
            .or_default() += 1;
    }

    let mut result = Vec::new();
    // Unscheduled pods get a node once one is ready.
    for pod in keep {
        if !str_at(&pod, "/spec/nodeName").is_empty() || slots.is_empty() {
            result.push(pod);
            continue;
        }
        let pod_name = str_at(&pod, "/metadata/name").to_string();
        let Some(slot) = pick_node(&slots, &mine, &per_node) else {
            continue;
        };
        let Some(ip) = pick_ip(slot, |ip| used(ip, &taken_ips)) else {
            continue;
        };
        taken_ips.insert(ip.clone());
        *mine.entry(slot.name.clone()).or_default() += 1;
        *per_node.entry(slot.name.clone()).or_default() += 1;
        let placed = pod_for(rs, &pod_name, Some((slot, ip)), &now);
        wrote |= upsert(registry, "pods", namespace, &placed, MANAGER, false)
            .await?
            .is_some();
        result.push(placed);
    }
    while result.len() < replicas {
        let pod_name = format!("{name}-{}", random_suffix());
        let placement = pick_node(&slots, &mine, &per_node)
            .and_then(|slot| Some((slot, pick_ip(slot, |ip| used(ip, &taken_ips))?)));
        if let Some((slot, ip)) = &placement {
            taken_ips.insert(ip.clone());
            *mine.entry(slot.name.clone()).or_default() += 1;
            *per_node.entry(slot.name.clone()).or_default() += 1;
        }
        let pod = pod_for(rs, &pod_name, placement, &now);
        if upsert(registry, "pods", namespace, &pod, MANAGER, false)
            .await?
            .is_some()
        {
            wrote = true;
            pod_event(
                registry,
                rs,
                "SuccessfulCreate",
                &format!("Created pod: {pod_name}"),
            )
            .await?;
        }
        result.push(pod);
    }

    // calculateStatus of replica_set_utils.go; ready pods are available at once (no pod
    // here is ready before minReadySeconds could matter).
    let count = |keep: &dyn Fn(&Value) -> bool| -> i64 {
        i64::try_from(result.iter().filter(|p| keep(p)).count()).unwrap_or(i64::MAX)
    };
    let template_labels =
        service_plan::traffic::string_map(rs.at("/spec/template/metadata/labels"));
    let ready = count(&is_ready_pod);
    // podutil.IsPodAvailable: ready for minReadySeconds.
    let min_ready = rs
        .at("/spec/minReadySeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let waits: Vec<i64> = result
        .iter()
        .filter_map(|p| rollout::pod_available_in(p, min_ready, &now))
        .collect();
    let available = i64::try_from(waits.iter().filter(|w| **w == 0).count()).unwrap_or(0);
    let available_in = waits
        .iter()
        .filter(|w| **w > 0)
        .min()
        .map(|s| Duration::from_secs(u64::try_from(*s).unwrap_or(1)));
    let mut status = json!({
        "replicas": count(&|_| true),
        "fullyLabeledReplicas": count(&|p| {
            let labels = super::labels_of(p);
            template_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
        }),
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": rs.at("/metadata/generation").and_then(Value::as_i64).unwrap_or(1),
    });
    // Every count but `replicas` is omitempty.
    if let Some(o) = status.as_object_mut() {
        o.retain(|k, v| k == "replicas" || v.as_i64() != Some(0));
    }
    if rs.get("status") != Some(&status) {
        let kind = super::kind(REPLICA_SETS.plural)?;
        super::authorized(registry, MANAGER, "update", kind, "status", namespace, name)?;
        let body = status.clone();
        let uid = str_at(rs, "/metadata/uid").to_string();
        match registry
            .patch_status(kind, namespace, name, &super::writer(MANAGER), move |cur| {
                if str_at(cur, "/metadata/uid") != uid {
                    return Err(RegistryError::NotFound {
                        resource: REPLICA_SETS,
                        name: str_at(cur, "/metadata/name").to_string(),
                    });
                }
                let mut next = cur.clone();
                next["status"] = body.clone();
                Ok(next)
            })
            .await
        {
            Ok(applied) => wrote |= applied.changed,
            Err(RegistryError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((wrote.then(|| registry.current_revision()), available_in))
}

/// The owner reference a ReplicaSet puts on its pods.
fn controller_ref(rs: &Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": KIND,
        "name": str_at(rs, "/metadata/name"),
        "uid": str_at(rs, "/metadata/uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}
