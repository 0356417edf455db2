//! The ACK CLB plan for a LoadBalancer Service against the current cluster: the instance to
//! create, keep, reuse, delete or release; each listener and vServer group with its backends
//! and weights; what gets overwritten; every conflict; and the consequences of the chosen
//! policy and plug-in. Mirrors CCM's `clbv1` model builder and applier, plus the sharing rules
//! CCM does not enforce (doc §c–§g). Pure data in, plain `Serialize` data out.

pub mod backends;
pub mod consequences;
pub mod events;
pub mod manual;
pub mod naming;
pub mod reuse;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

pub use self::backends::{
    BackendInput, BackendKind, BackendMode, BackendPod, BackendServer, ClusterNode, NetworkPlugin,
    backend_mode, backend_pods, build_backends, is_candidate_node,
};
pub use self::consequences::{BackendServers, Consequences, QuotaUse, consequences};
pub use self::events::PlannedEvent;
pub use self::naming::{
    NamedKey, default_load_balancer_name, listener_name, parse_listener_name, parse_named_key,
    vserver_group_name,
};
use crate::annotations::{self, AddressType, ClbAnnotations};
use crate::json::Pointer as _;
use crate::service::types::{PROTOCOL_TCP, TRAFFIC_POLICY_LOCAL, TYPE_LOAD_BALANCER};
use crate::traffic::string_map;

/// `instance-charge-type: PayBySpec`.
pub const PAY_BY_SPEC: &str = "PayBySpec";
/// `instance-charge-type: PayByCLCU`, CCM's default today.
pub const PAY_BY_CLCU: &str = "PayByCLCU";
/// CCM's default spec for pay-by-spec CLBs.
pub const DEFAULT_SPEC: &str = "slb.s1.small";
/// `charge-type: paybybandwidth`.
pub const PAY_BY_BANDWIDTH: &str = "paybybandwidth";

/// An existing CLB listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlbListener {
    /// Frontend port.
    pub port: i32,
    /// `tcp`, `udp`, `http` or `https`.
    pub protocol: String,
    /// The description ("listener name"); CCM's own are `k8s/<port>/<svc>/<ns>/<cid>`.
    pub description: String,
    /// The vServer group it forwards to.
    pub vserver_group_id: Option<String>,
}

impl SlbListener {
    /// The owning Service as CCM parses it; `None` for a user-managed listener.
    pub fn owner(&self) -> Option<NamedKey> {
        parse_listener_name(&self.description).ok()
    }
}

/// An existing vServer group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlbVServerGroup {
    /// `rsp-…`.
    pub id: String,
    /// The name; CCM's own are `k8s/<port>/<svc>/<ns>/<cid>`.
    pub name: String,
}

/// An existing CLB instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlbInstance {
    /// `lb-…`.
    pub id: String,
    /// The instance name.
    pub name: String,
    /// Public or VPC-internal.
    pub address_type: AddressType,
    /// The assigned IP address.
    pub address: String,
    /// `PayBySpec` or `PayByCLCU`.
    pub instance_charge_type: String,
    /// The spec of a pay-by-spec instance.
    pub spec: Option<String>,
    /// `paybytraffic` or `paybybandwidth` (internet instances).
    pub internet_charge_type: Option<String>,
    /// Mbit/s (pay-by-bandwidth).
    pub bandwidth: Option<i32>,
    /// Tags, including ACK's ownership tags.
    pub tags: BTreeMap<String, String>,
    /// Its listeners.
    pub listeners: Vec<SlbListener>,
    /// Its vServer groups.
    pub vserver_groups: Vec<SlbVServerGroup>,
}

/// Who an instance belongs to, read from its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Ownership {
    /// Created by CCM for a Service: tagged `kubernetes.do.not.delete` (and `ack.aliyun.com`).
    #[serde(rename_all = "camelCase")]
    CreatedForService {
        /// The `a`+UID name in the `kubernetes.do.not.delete` tag.
        load_balancer_name: String,
        /// The `ack.aliyun.com` cluster id, if tagged.
        cluster_id: Option<String>,
    },
    /// Tagged `ack.aliyun.com` only: a cluster resource such as the API-server CLB.
    #[serde(rename_all = "camelCase")]
    Cluster {
        /// The cluster id.
        cluster_id: String,
    },
    /// Created by hand; `reused` when CCM has tagged it `kubernetes.reused.by.user`.
    Manual {
        /// Tagged as reused by a Service.
        reused: bool,
    },
}

impl SlbInstance {
    /// Who the instance belongs to (doc §c).
    pub fn ownership(&self) -> Ownership {
        if let Some(name) = self.tags.get(events::TAG_KEY_SERVICE) {
            return Ownership::CreatedForService {
                load_balancer_name: name.clone(),
                cluster_id: self.tags.get(events::TAG_KEY_CLUSTER).cloned(),
            };
        }
        if let Some(cluster_id) = self.tags.get(events::TAG_KEY_CLUSTER) {
            return Ownership::Cluster {
                cluster_id: cluster_id.clone(),
            };
        }
        Ownership::Manual {
            reused: self.tags.contains_key(events::TAG_KEY_REUSED),
        }
    }
}

/// The cluster the plan is computed against.
#[derive(Debug, Clone, Copy)]
pub struct SlbContext<'a> {
    /// `--cluster-id`; names and tags carry it.
    pub cluster_id: &'a str,
    /// `--network-plugin`.
    pub network_plugin: NetworkPlugin,
    /// The cluster's VPC id, quoted in the ENI error.
    pub vpc_id: &'a str,
    /// Every node.
    pub nodes: &'a [ClusterNode],
    /// The Service's pod endpoints ([`backend_pods`] of its EndpointSlices).
    pub backends: &'a [BackendPod],
    /// Every CLB instance of the account.
    pub instances: &'a [SlbInstance],
    /// The other Services of the cluster (the planned one is skipped by namespace and name).
    pub services: &'a [Service],
}

/// Whether the Service is being applied (created or updated) or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SlbChange {
    /// Create or update.
    Apply,
    /// Delete.
    Delete,
}

/// What happens to the CLB instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum InstancePlan {
    /// No CLB is involved.
    None {
        /// Why, in one sentence.
        reason: String,
    },
    /// Create an instance from the annotations.
    #[serde(rename_all = "camelCase")]
    Create {
        /// Instance name (`…-name`, else `a`+UID).
        name: String,
        /// Address type.
        address_type: AddressType,
        /// `PayBySpec` or `PayByCLCU`.
        instance_charge_type: String,
        /// Spec (pay-by-spec only).
        spec: Option<String>,
        /// Internet charge type (internet only).
        internet_charge_type: Option<String>,
        /// Bandwidth in Mbit/s (pay-by-bandwidth only).
        bandwidth: Option<i32>,
        /// Pinned internal address.
        ip: Option<String>,
        /// `on` or `off`.
        delete_protection: String,
        /// `ConsoleProtection` or `NonProtection`.
        modification_protection: String,
        /// Tags written at creation, ACK's ownership tags first.
        tags: BTreeMap<String, String>,
    },
    /// Keep the instance CCM created for this Service, applying attribute changes.
    Keep {
        /// Instance id.
        id: String,
        /// Its address.
        address: String,
        /// Attribute changes, one sentence each.
        changes: Vec<String>,
    },
    /// Use a manually created instance.
    #[serde(rename_all = "camelCase")]
    Reuse {
        /// Instance id.
        id: String,
        /// Its address.
        address: String,
        /// Listeners are managed by this Service.
        force_override_listeners: bool,
    },
    /// Delete the instance CCM created (with all its listeners and vServer groups).
    Delete {
        /// Instance id.
        id: String,
        /// Its address.
        address: String,
    },
    /// Keep the instance CCM created: protections off, ownership tags removed.
    #[serde(rename_all = "camelCase")]
    Preserve {
        /// Instance id.
        id: String,
        /// Its address.
        address: String,
        /// The tags removed.
        removed_tags: Vec<String>,
    },
    /// Keep a reused instance; only this Service's vServer groups (and, with force-override,
    /// its listeners) are removed.
    Release {
        /// Instance id.
        id: String,
        /// Its address.
        address: String,
    },
}

impl InstancePlan {
    /// The id of an existing instance the plan touches.
    pub fn id(&self) -> Option<&str> {
        match self {
            InstancePlan::None { .. } | InstancePlan::Create { .. } => None,
            InstancePlan::Keep { id, .. }
            | InstancePlan::Reuse { id, .. }
            | InstancePlan::Delete { id, .. }
            | InstancePlan::Preserve { id, .. }
            | InstancePlan::Release { id, .. } => Some(id),
        }
    }
}

/// What happens to a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ListenerAction {
    /// Created.
    Create,
    /// Exists and is kept in step.
    Keep,
    /// Deleted.
    Delete,
    /// A listener not created for a Service is taken over (force-override on).
    TakeOver,
    /// Reused instance without force-override: an existing listener is left as is; point it
    /// at this Service's vServer group yourself.
    LeaveExisting,
    /// Reused instance without force-override and no listener on the port: none is created.
    NotCreated,
}

/// One listener of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerPlan {
    /// Frontend port.
    pub port: i32,
    /// `tcp`, `udp`, `http` or `https`.
    pub protocol: String,
    /// The description CCM writes (for an existing listener left alone, its current one).
    pub name: String,
    /// The vServer group it forwards to.
    pub vserver_group: String,
    /// `rr` or `wrr`, …
    pub scheduler: String,
    /// What happens.
    pub action: ListenerAction,
}

/// What happens to a vServer group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum VServerGroupAction {
    /// Created.
    Create,
    /// Exists and its backends are kept in step.
    Keep {
        /// `rsp-…`.
        id: String,
    },
    /// A user-managed group named by `…-vgroup-port`; only this Service's servers change.
    UseExisting {
        /// `rsp-…`.
        id: String,
    },
    /// Deleted.
    Delete {
        /// `rsp-…`.
        id: String,
    },
}

/// One vServer group of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VServerGroupPlan {
    /// The name CCM gives it.
    pub name: String,
    /// The Service port it serves (0 for a group being deleted).
    pub service_port: i32,
    /// What happens.
    pub action: VServerGroupAction,
    /// Its backend servers after the change.
    pub backends: Vec<BackendServer>,
}

/// Which sharing rule or CCM error a conflict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConflictKind {
    /// An annotation value fails its check.
    InvalidAnnotation,
    /// Row 1: the CLB was created by Kubernetes (or is the API server's).
    CreatedByKubernetes,
    /// Row 2: the Service already has another address.
    IpMismatch,
    /// Row 4: the address type differs.
    AddressTypeChange,
    /// `…-id` names no CLB.
    NotFound,
    /// Row 12: the Service's CLB is gone but its status still shows it.
    LoadBalancerMissing,
    /// Row 13: several CLBs carry the Service's tag or name.
    MultipleFound,
    /// Rule 3 (rows 6 and 7): another Service uses the frontend port.
    PortInUse,
    /// Row 8: a hand-made listener holds the port with another protocol.
    ListenerProtocol,
    /// Rule 5: the CLB is used by another cluster.
    CrossCluster,
    /// Row 11: `…-vgroup-port` is wrong.
    VServerGroup,
    /// Row 15: too many backend servers.
    BackendQuota,
    /// Row 17: spec or pay-by-spec on a pay-by-CLCU CLB.
    ChargeType,
    /// Row 19: ENI backends without ENIs.
    EniNotFound,
}

impl ConflictKind {
    /// Whether the registry refuses the write itself (sharing rules 2, 3 and 5 of doc §d,
    /// which CCM does not check); the others CCM reports after the write, as a
    /// `SyncLoadBalancerFailed` event, and the console refuses before it.
    pub fn refused_on_write(self) -> bool {
        matches!(
            self,
            ConflictKind::CreatedByKubernetes
                | ConflictKind::PortInUse
                | ConflictKind::CrossCluster
        )
    }
}

/// A reason the plan cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// Which rule.
    pub kind: ConflictKind,
    /// The text: CCM's when CCM reports it, ours for the rules CCM does not check.
    pub message: String,
}

/// The `status.loadBalancer.ingress` the Service will get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "camelCase")]
pub enum IngressPlan {
    /// Nothing (not a CLB Service, or being released).
    None,
    /// The address of a new instance, known once it exists: `<pending>` until then.
    Pending,
    /// The instance address.
    Ip(String),
    /// The `…-hostname` annotation.
    Hostname(String),
    /// The EIPs bound to the instance (`external-ip-type: eip`), falling back to its address.
    Eip(String),
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlbPlan {
    /// `namespace/name`.
    pub service: String,
    /// The instance.
    pub instance: InstancePlan,
    /// Listeners, by port.
    pub listeners: Vec<ListenerPlan>,
    /// vServer groups, by port.
    pub vserver_groups: Vec<VServerGroupPlan>,
    /// Existing configuration the plan replaces or removes, one sentence each.
    pub overwritten: Vec<String>,
    /// Reasons the plan cannot be applied; empty when it can.
    pub conflicts: Vec<Conflict>,
    /// `Warning` texts (unknown annotations).
    pub warnings: Vec<String>,
    /// Other things worth knowing, one sentence each.
    pub notes: Vec<String>,
    /// The consequences of the policy and plug-in, for a Service that gets backends.
    pub consequences: Option<Consequences>,
    /// The ingress status.
    pub ingress: IngressPlan,
    /// The console's External Endpoint: `<ip-or-hostname>:<port>` per port, once known.
    pub external_endpoints: Vec<String>,
    /// The events the controller records when it applies the plan.
    pub events: Vec<PlannedEvent>,
}

impl SlbPlan {
    /// True when a conflict blocks the change.
    pub fn is_blocked(&self) -> bool {
        !self.conflicts.is_empty()
    }
}

/// Everything the planner derives from the Service once.
struct Subject<'a> {
    svc: &'a Service,
    name: String,
    namespace: String,
    key: String,
    anns: ClbAnnotations,
    ports: &'a [ServicePort],
    local: bool,
}

/// Plans the CLB side of a Service change.
///
/// For [`SlbChange::Apply`] of a `type: LoadBalancer` Service that the CLB controller owns
/// (no `loadBalancerClass`, no `…/class` or `…-tunnel-type`): reuse `…-id`, else keep the
/// instance tagged for this Service, else create one; then listeners, vServer groups and
/// backends. A delete, or a type other than LoadBalancer, releases what the Service holds.
/// Pass the Service with its node ports allocated: node backends listen on them.
pub fn plan_load_balancer(svc: &Service, change: SlbChange, ctx: &SlbContext<'_>) -> SlbPlan {
    let check = annotations::check(
        svc.metadata
            .annotations
            .as_ref()
            .unwrap_or(&BTreeMap::new()),
    );
    let spec = svc.spec.as_ref();
    let subject = Subject {
        svc,
        name: svc.metadata.name.clone().unwrap_or_default(),
        namespace: svc.metadata.namespace.clone().unwrap_or_default(),
        key: format!(
            "{}/{}",
            svc.metadata.namespace.as_deref().unwrap_or_default(),
            svc.metadata.name.as_deref().unwrap_or_default()
        ),
        anns: check.annotations.clone(),
        ports: spec.and_then(|s| s.ports.as_deref()).unwrap_or_default(),
        local: spec.and_then(|s| s.external_traffic_policy.as_deref())
            == Some(TRAFFIC_POLICY_LOCAL),
    };
    let mut plan = SlbPlan {
        service: subject.key.clone(),
        instance: InstancePlan::None {
            reason: String::new(),
        },
        listeners: Vec::new(),
        vserver_groups: Vec::new(),
        overwritten: Vec::new(),
        conflicts: Vec::new(),
        warnings: check.warnings,
        notes: Vec::new(),
        consequences: None,
        ingress: IngressPlan::None,
        external_endpoints: Vec::new(),
        events: Vec::new(),
    };

    let is_lb = spec.and_then(|s| s.type_.as_deref()) == Some(TYPE_LOAD_BALANCER);
    let clb = is_lb
        && spec.and_then(|s| s.load_balancer_class.as_ref()).is_none()
        && !subject.anns.other_controller;
    let found = find_instance(&subject, ctx, &mut plan);
    if change == SlbChange::Delete || !clb {
        plan_release(&subject, ctx, found, &mut plan, is_lb && !clb);
        return plan;
    }
    plan.conflicts.extend(check.errors.iter().map(|e| Conflict {
        kind: ConflictKind::InvalidAnnotation,
        message: e.message.clone(),
    }));
    plan_apply(&subject, ctx, found, &mut plan);
    plan
}

/// The instance the Service uses now: by `…-id`, else by CCM's tag, else by CCM's name.
fn find_instance<'c>(s: &Subject<'_>, ctx: &SlbContext<'c>, plan: &mut SlbPlan) -> Found<'c> {
    if let Some(id) = s.anns.load_balancer_id.as_deref() {
        return match ctx.instances.iter().find(|i| i.id == id) {
            Some(instance) => Found::Reused(instance),
            None => Found::MissingReuse(id.to_string()),
        };
    }
    let uid = s.svc.metadata.uid.as_deref().unwrap_or_default();
    if uid.is_empty() {
        return Found::None;
    }
    let default_name = default_load_balancer_name(uid);
    // CCM looks by tag first and falls back to the name.
    let by_tag: Vec<&SlbInstance> = ctx
        .instances
        .iter()
        .filter(|i| i.tags.get(events::TAG_KEY_SERVICE) == Some(&default_name))
        .collect();
    let (by, hits) = if by_tag.is_empty() {
        (
            "name",
            ctx.instances
                .iter()
                .filter(|i| i.name == default_name)
                .collect(),
        )
    } else {
        ("tag", by_tag)
    };
    match hits.as_slice() {
        [] => Found::None,
        [one] => Found::Own(one),
        many => {
            let ids: Vec<String> = many.iter().map(|i| i.id.clone()).collect();
            plan.conflicts.push(Conflict {
                kind: ConflictKind::MultipleFound,
                message: events::multiple_found(&s.key, by, &ids),
            });
            Found::Ambiguous
        }
    }
}

enum Found<'c> {
    None,
    Own(&'c SlbInstance),
    Reused(&'c SlbInstance),
    MissingReuse(String),
    Ambiguous,
}

/// Delete, or a type change away from LoadBalancer: what the Service holds is released.
fn plan_release(
    s: &Subject<'_>,
    ctx: &SlbContext<'_>,
    found: Found<'_>,
    plan: &mut SlbPlan,
    other_class: bool,
) {
    let (instance, reused) = match found {
        Found::Own(i) => (i, false),
        Found::Reused(i) => (i, true),
        Found::None | Found::MissingReuse(_) | Found::Ambiguous => {
            plan.instance = InstancePlan::None {
                reason: if other_class {
                    "another load balancer controller handles this Service".to_string()
                } else {
                    "no Server Load Balancer instance belongs to this Service".to_string()
                },
            };
            return;
        }
    };
    let owned = |key: Option<NamedKey>| {
        key.is_some_and(|k| k.is_owned_by(&s.namespace, &s.name, ctx.cluster_id))
    };
    let own_listeners: Vec<&SlbListener> = instance
        .listeners
        .iter()
        .filter(|l| owned(l.owner()))
        .collect();
    let own_groups: Vec<&SlbVServerGroup> = instance
        .vserver_groups
        .iter()
        .filter(|g| owned(parse_named_key(&g.name).ok()))
        .collect();
    let delete_listeners = !reused || s.anns.force_override_listeners;
    if reused {
        plan.instance = InstancePlan::Release {
            id: instance.id.clone(),
            address: instance.address.clone(),
        };
        plan.notes.push(format!(
            "Load balancer {} was reused, so it is kept; only this Service's vServer groups{} are removed.",
            instance.id,
            if delete_listeners { " and listeners" } else { "" }
        ));
    } else if s.anns.preserve_on_delete {
        plan.instance = InstancePlan::Preserve {
            id: instance.id.clone(),
            address: instance.address.clone(),
            removed_tags: vec![
                events::TAG_KEY_SERVICE.to_string(),
                events::TAG_KEY_CLUSTER.to_string(),
            ],
        };
        plan.events.push(PlannedEvent::warning(
            events::REASON_PRESERVED_ON_DELETE,
            events::preserved_text(&instance.id),
        ));
    } else {
        plan.instance = InstancePlan::Delete {
            id: instance.id.clone(),
            address: instance.address.clone(),
        };
        plan.overwritten.push(format!(
            "Load balancer {} ({}) is deleted with its {} listener(s) and {} vServer group(s).",
            instance.id,
            instance.address,
            instance.listeners.len(),
            instance.vserver_groups.len()
        ));
    }
    if !s.anns.preserve_on_delete || reused {
        if delete_listeners {
            for l in &own_listeners {
                plan.listeners.push(ListenerPlan {
                    port: l.port,
                    protocol: l.protocol.clone(),
                    name: l.description.clone(),
                    vserver_group: l.vserver_group_id.clone().unwrap_or_default(),
                    scheduler: String::new(),
                    action: ListenerAction::Delete,
                });
            }
        }
        for g in &own_groups {
            plan.vserver_groups.push(VServerGroupPlan {
                name: g.name.clone(),
                service_port: 0,
                action: VServerGroupAction::Delete { id: g.id.clone() },
                backends: Vec::new(),
            });
        }
    }
    plan.events.push(PlannedEvent::normal(
        events::REASON_CLEAN,
        events::CLEAN_TEXT,
    ));
}

/// The protocol CCM gives a port's listener: `…-protocol-port`, else the port's, lowercased.
fn listener_protocol(anns: &ClbAnnotations, port: &ServicePort) -> String {
    anns.protocol_port
        .iter()
        .find(|(_, p)| *p == port.port)
        .map(|(proto, _)| proto.clone())
        .unwrap_or_else(|| {
            port.protocol
                .as_deref()
                .unwrap_or(PROTOCOL_TCP)
                .to_lowercase()
        })
}

/// The SLB instance ids a stored Service names: its `…-loadbalancer-id` annotation (in either
/// spelling) and CCM's label, sorted, without repeats. A Service of another type may name one
/// too; [`shares_instance`] decides whether it uses it.
pub fn instance_ids(svc: &serde_json::Value) -> Vec<String> {
    let metadata = |field: &str| string_map(svc.get("metadata").and_then(|m| m.get(field)));
    let mut ids = Vec::new();
    if let Some(id) = annotations::get(&metadata("annotations"), annotations::LOAD_BALANCER_ID) {
        ids.push(id.to_owned());
    }
    if let Some(id) = metadata("labels").remove(events::LABEL_LOAD_BALANCER_ID) {
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The values under which a stored Service is indexed for finding it from an SLB instance:
/// [`instance_index_by_id`] of each of its [`instance_ids`], and, for a LoadBalancer Service,
/// [`instance_index_by_owner`] of the name of the instance CCM creates for it. A ClusterIP
/// Service, the common case, has no value, so the index costs nothing per Service. A lookup
/// may find more Services than the relation holds for (one of another type naming an
/// instance): readers still decide with the relation's own rule ([`shares_instance`], the
/// owner tag).
pub fn instance_index_values(svc: &serde_json::Value) -> Vec<String> {
    let mut values: Vec<String> = instance_ids(svc)
        .iter()
        .map(|id| instance_index_by_id(id))
        .collect();
    let field = |pointer: &str| {
        svc.at(pointer)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    };
    let uid = field("/metadata/uid");
    if field("/spec/type") == TYPE_LOAD_BALANCER && !uid.is_empty() {
        values.push(instance_index_by_owner(&default_load_balancer_name(uid)));
    }
    values
}

/// The index value of the Services naming instance `id` (see [`instance_index_values`]).
pub fn instance_index_by_id(id: &str) -> String {
    format!("id:{id}")
}

/// The index value of the Service the instance named `name` was created for (the value of its
/// `kubernetes.do.not.delete` tag; see [`instance_index_values`]).
pub fn instance_index_by_owner(name: &str) -> String {
    format!("owner:{name}")
}

/// Whether `other` uses the CLB `id` (by annotation or by CCM's label).
fn shares_instance(other: &Service, id: &str) -> bool {
    let by_annotation = other
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| annotations::get(a, annotations::LOAD_BALANCER_ID))
        == Some(id);
    let by_label = other
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(events::LABEL_LOAD_BALANCER_ID))
        .map(String::as_str)
        == Some(id);
    let is_lb = other.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some(TYPE_LOAD_BALANCER);
    is_lb && (by_annotation || by_label)
}

fn plan_apply(s: &Subject<'_>, ctx: &SlbContext<'_>, found: Found<'_>, plan: &mut SlbPlan) {
    let ingress_ips: Vec<(String, String)> = s
        .svc
        .status
        .as_ref()
        .and_then(|st| st.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_ref())
        .map(|v| {
            v.iter()
                .map(|i| {
                    (
                        i.ip.clone().unwrap_or_default(),
                        i.hostname.clone().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut instance: Option<&SlbInstance> = None;
    let mut reused = false;
    match found {
        Found::Ambiguous => {}
        Found::MissingReuse(id) => plan.conflicts.push(Conflict {
            kind: ConflictKind::NotFound,
            message: events::load_balancer_not_found(&id),
        }),
        Found::Reused(i) => {
            instance = Some(i);
            reused = true;
            check_reuse(s, ctx, i, &ingress_ips, plan);
            plan.instance = InstancePlan::Reuse {
                id: i.id.clone(),
                address: i.address.clone(),
                force_override_listeners: s.anns.force_override_listeners,
            };
        }
        Found::Own(i) => {
            instance = Some(i);
            plan.instance = InstancePlan::Keep {
                id: i.id.clone(),
                address: i.address.clone(),
                changes: keep_changes(s, i, plan),
            };
            if s.anns.preserve_on_delete {
                plan.events.push(PlannedEvent::warning(
                    events::REASON_PRESERVED_ON_DELETE,
                    events::preserved_text(&i.id),
                ));
            }
        }
        Found::None => {
            if let Some((ip, _)) = ingress_ips.first().filter(|(ip, _)| !ip.is_empty()) {
                plan.conflicts.push(Conflict {
                    kind: ConflictKind::LoadBalancerMissing,
                    message: events::load_balancer_missing(ip),
                });
            }
            plan.instance = create_plan(s, ctx, plan);
        }
    }
    if let Some(i) = instance
        && s.anns.address_type.is_some_and(|t| t != i.address_type)
    {
        plan.conflicts.push(Conflict {
            kind: ConflictKind::AddressTypeChange,
            message: events::ADDRESS_TYPE_CHANGE.to_string(),
        });
    }

    plan_groups_and_listeners(s, ctx, instance, reused, plan);

    plan.ingress = match (&s.anns.hostname, instance) {
        (Some(h), _) => IngressPlan::Hostname(h.clone()),
        (None, Some(i)) if s.anns.external_ip_type_eip => IngressPlan::Eip(i.address.clone()),
        (None, Some(i)) => IngressPlan::Ip(i.address.clone()),
        (None, None) => IngressPlan::Pending,
    };
    if let IngressPlan::Ip(host) | IngressPlan::Hostname(host) | IngressPlan::Eip(host) =
        &plan.ingress
    {
        // A port no listener will serve (reuse without force-override) is no endpoint.
        let unserved: Vec<i32> = plan
            .listeners
            .iter()
            .filter(|l| l.action == ListenerAction::NotCreated)
            .map(|l| l.port)
            .collect();
        plan.external_endpoints = s
            .ports
            .iter()
            .filter(|p| !unserved.contains(&p.port))
            .map(|p| format!("{host}:{}", p.port))
            .collect();
    }

    let id = instance.map(|i| i.id.as_str()).unwrap_or_default();
    match plan.conflicts.first() {
        Some(c) => plan.events.push(PlannedEvent::warning(
            events::REASON_SYNC_FAILED,
            events::sync_failed_text(id, &c.message),
        )),
        // The id of a new instance is only known once it exists; the controller records it then.
        None if !id.is_empty() => plan.events.push(PlannedEvent::normal(
            events::REASON_ENSURED,
            events::ensured_text(id),
        )),
        None => {}
    }
}

/// The reuse checks: rows 1 and 2 (CCM's `isLoadBalancerReusable`), cross-cluster sharing and
/// frontend ports (rules 3 and 5, which CCM does not check).
fn check_reuse(
    s: &Subject<'_>,
    ctx: &SlbContext<'_>,
    i: &SlbInstance,
    ingress: &[(String, String)],
    plan: &mut SlbPlan,
) {
    if i.tags.contains_key(events::TAG_KEY_SERVICE) || i.tags.contains_key(events::TAG_KEY_CLUSTER)
    {
        plan.conflicts.push(Conflict {
            kind: ConflictKind::CreatedByKubernetes,
            message: events::reuse_created_by_kubernetes(&i.id),
        });
    }
    if !s.anns.external_ip_type_eip && !ingress.is_empty() {
        let matches = ingress
            .iter()
            .any(|(ip, host)| *ip == i.address || (!host.is_empty() && ip.is_empty()));
        if !matches {
            plan.conflicts.push(Conflict {
                kind: ConflictKind::IpMismatch,
                message: events::reuse_ip_mismatch(&i.id, &ingress[0].0, &i.address),
            });
        }
    }
    let mut foreign: BTreeMap<String, String> = BTreeMap::new();
    let names = i
        .listeners
        .iter()
        .map(|l| l.description.as_str())
        .chain(i.vserver_groups.iter().map(|g| g.name.as_str()));
    for name in names {
        if let Ok(key) = parse_named_key(name)
            && key.cluster_id != ctx.cluster_id
        {
            foreign
                .entry(key.cluster_id)
                .or_insert_with(|| name.to_string());
        }
    }
    for (cluster, name) in foreign {
        plan.conflicts.push(Conflict {
            kind: ConflictKind::CrossCluster,
            message: events::cross_cluster(&i.id, &cluster, &name),
        });
    }

    let others: Vec<&Service> = ctx
        .services
        .iter()
        .filter(|o| {
            (
                o.metadata.namespace.as_deref().unwrap_or_default(),
                o.metadata.name.as_deref().unwrap_or_default(),
            ) != (s.namespace.as_str(), s.name.as_str())
        })
        .filter(|o| shares_instance(o, &i.id))
        .collect();
    let mut reported: BTreeSet<(i32, String, String)> = BTreeSet::new();
    let mut ports: Vec<i32> = s.ports.iter().map(|p| p.port).collect();
    ports.sort_unstable();
    ports.dedup();
    for port in ports {
        let mut users: Vec<(String, String)> = Vec::new();
        for other in &others {
            let declares = other
                .spec
                .as_ref()
                .and_then(|sp| sp.ports.as_ref())
                .is_some_and(|ps| ps.iter().any(|p| p.port == port));
            if declares {
                users.push((
                    other.metadata.namespace.clone().unwrap_or_default(),
                    other.metadata.name.clone().unwrap_or_default(),
                ));
            }
        }
        for l in i.listeners.iter().filter(|l| l.port == port) {
            if let Some(owner) = l.owner() {
                let mine = owner.is_owned_by(&s.namespace, &s.name, ctx.cluster_id);
                // Another cluster's listener is reported once, as cross-cluster sharing.
                if !mine && owner.cluster_id == ctx.cluster_id {
                    users.push((owner.namespace, owner.service));
                }
            }
        }
        for (ns, name) in users {
            if reported.insert((port, ns.clone(), name.clone())) {
                plan.conflicts.push(Conflict {
                    kind: ConflictKind::PortInUse,
                    message: events::port_in_use(port, &i.id, &ns, &name),
                });
            }
        }
    }
}

/// Attribute changes CCM applies to the Service's own instance (`LoadBalancerManager.Update`).
fn keep_changes(s: &Subject<'_>, i: &SlbInstance, plan: &mut SlbPlan) -> Vec<String> {
    let mut changes = Vec::new();
    let anns = &s.anns;
    match anns.instance_charge_type.as_deref() {
        Some(PAY_BY_SPEC) if i.instance_charge_type == PAY_BY_CLCU => {
            plan.conflicts.push(Conflict {
                kind: ConflictKind::ChargeType,
                message: events::CLCU_TO_SPEC.to_string(),
            })
        }
        Some(want) if want != i.instance_charge_type => {
            changes.push(format!(
                "instance charge type {} → {want}",
                i.instance_charge_type
            ));
        }
        _ => {}
    }
    let charge = anns
        .instance_charge_type
        .as_deref()
        .unwrap_or(&i.instance_charge_type);
    if let Some(spec) = anns.spec.as_deref() {
        if charge == PAY_BY_CLCU {
            plan.conflicts.push(Conflict {
                kind: ConflictKind::ChargeType,
                message: events::SPEC_ON_CLCU.to_string(),
            });
        } else if i.spec.as_deref() != Some(spec) {
            changes.push(format!(
                "spec {} → {spec}",
                i.spec.as_deref().unwrap_or("none")
            ));
        }
    }
    if i.address_type == AddressType::Internet {
        if let Some(c) = anns
            .charge_type
            .as_deref()
            .filter(|c| i.internet_charge_type.as_deref() != Some(*c))
        {
            changes.push(format!(
                "internet charge type {} → {c}",
                i.internet_charge_type.as_deref().unwrap_or("none")
            ));
        }
        let bandwidth_billed = anns.charge_type.as_deref() == Some(PAY_BY_BANDWIDTH);
        if let Some(b) = anns
            .bandwidth
            .filter(|b| bandwidth_billed && i.bandwidth != Some(*b))
        {
            changes.push(format!(
                "bandwidth {} → {b} Mbit/s",
                i.bandwidth
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "none".to_string())
            ));
        }
    }
    if let Some(name) = anns.name.as_deref().filter(|n| *n != i.name) {
        changes.push(format!("name {} → {name}", i.name));
    }
    changes
}

/// The instance CCM creates (`setModelDefaultValue`).
fn create_plan(s: &Subject<'_>, ctx: &SlbContext<'_>, plan: &mut SlbPlan) -> InstancePlan {
    let anns = &s.anns;
    let uid = s.svc.metadata.uid.as_deref().unwrap_or_default();
    if uid.is_empty() {
        plan.notes.push(
            "The instance name and its kubernetes.do.not.delete tag derive from the Service UID, assigned when the Service is created."
                .to_string(),
        );
    }
    let default_name = default_load_balancer_name(uid);
    let charge = anns
        .instance_charge_type
        .clone()
        .unwrap_or_else(|| PAY_BY_CLCU.to_string());
    let address_type = anns.address_type.unwrap_or(AddressType::Internet);
    if anns.spec.is_some() && charge == PAY_BY_CLCU {
        plan.conflicts.push(Conflict {
            kind: ConflictKind::ChargeType,
            message: events::SPEC_ON_CLCU.to_string(),
        });
    }
    let spec = (charge == PAY_BY_SPEC).then(|| {
        anns.spec
            .clone()
            .unwrap_or_else(|| DEFAULT_SPEC.to_string())
    });
    let internet = address_type == AddressType::Internet;
    let mut tags = BTreeMap::new();
    tags.insert(events::TAG_KEY_SERVICE.to_string(), default_name.clone());
    tags.insert(
        events::TAG_KEY_CLUSTER.to_string(),
        ctx.cluster_id.to_string(),
    );
    for (k, v) in &anns.additional_tags {
        tags.entry(k.clone()).or_insert_with(|| v.clone());
    }
    InstancePlan::Create {
        name: anns.name.clone().unwrap_or(default_name),
        address_type,
        instance_charge_type: charge,
        spec,
        internet_charge_type: if internet {
            anns.charge_type.clone()
        } else {
            None
        },
        bandwidth: if internet { anns.bandwidth } else { None },
        ip: anns.ip.clone(),
        delete_protection: anns
            .delete_protection
            .clone()
            .unwrap_or_else(|| "on".to_string()),
        modification_protection: anns
            .modification_protection
            .clone()
            .unwrap_or_else(|| "ConsoleProtection".to_string()),
        tags,
    }
}

/// vServer groups with their backends, listeners, and the consequences.
fn plan_groups_and_listeners(
    s: &Subject<'_>,
    ctx: &SlbContext<'_>,
    instance: Option<&SlbInstance>,
    reused: bool,
    plan: &mut SlbPlan,
) {
    let mode = backend_mode(&s.anns, ctx.network_plugin, s.local);
    if mode == BackendMode::Eni
        && ctx.network_plugin == NetworkPlugin::Flannel
        && let Some(pod) = ctx.backends.iter().find(|p| p.ready && !p.terminating)
    {
        plan.conflicts.push(Conflict {
            kind: ConflictKind::EniNotFound,
            message: events::eni_not_found(&pod.ip, ctx.vpc_id),
        });
    }
    let lb_id = instance.map(|i| i.id.as_str()).unwrap_or_default();
    let scheduler = s.anns.effective_scheduler().to_string();
    let user_vgroups = reused && !s.anns.vgroup_port.is_empty();
    let mut any_empty = false;
    let mut desired_names: BTreeSet<String> = BTreeSet::new();
    for (index, port) in s.ports.iter().enumerate() {
        let port_key = match mode {
            BackendMode::Eni => match &port.target_port {
                Some(IntOrString::Int(n)) => n.to_string(),
                Some(IntOrString::String(name)) => name.clone(),
                None => port.port.to_string(),
            },
            BackendMode::Cluster | BackendMode::Local => {
                if port.node_port.is_none() {
                    plan.notes.push(format!(
                        "spec.ports[{index}].nodePort is not allocated; node backends are reached on the NodePort."
                    ));
                }
                port.node_port.unwrap_or(0).to_string()
            }
        };
        let name = vserver_group_name(&port_key, &s.name, &s.namespace, ctx.cluster_id);
        desired_names.insert(name.clone());
        let bound = if user_vgroups {
            s.anns
                .vgroup_port
                .iter()
                .find(|(_, p)| *p == port.port)
                .map(|(id, _)| id.clone())
        } else {
            None
        };
        let action = match (&bound, instance) {
            (Some(id), Some(i)) => {
                match i.vserver_groups.iter().find(|g| g.id == *id) {
                    None => plan.conflicts.push(Conflict {
                        kind: ConflictKind::VServerGroup,
                        message: events::vgroup_not_found(id, lb_id),
                    }),
                    Some(g) if parse_named_key(&g.name).is_ok() => plan.conflicts.push(Conflict {
                        kind: ConflictKind::VServerGroup,
                        message: events::vgroup_created_by_ccm(id, lb_id),
                    }),
                    Some(_) => {}
                }
                VServerGroupAction::UseExisting { id: id.clone() }
            }
            _ => match instance.and_then(|i| i.vserver_groups.iter().find(|g| g.name == name)) {
                Some(g) => VServerGroupAction::Keep { id: g.id.clone() },
                None => VServerGroupAction::Create,
            },
        };
        let numeric_target = match &port.target_port {
            Some(IntOrString::Int(n)) => Some(*n),
            Some(IntOrString::String(_)) => None,
            None => Some(port.port),
        };
        let input = BackendInput {
            mode,
            nodes: ctx.nodes,
            pods: ctx.backends,
            annotations: &s.anns,
            total_weight: if bound.is_some() { s.anns.weight } else { None },
        };
        let servers = build_backends(
            &input,
            port.name.as_deref().unwrap_or_default(),
            port.node_port.unwrap_or(0),
            numeric_target,
            &name,
        );
        any_empty |= servers.is_empty();
        plan.vserver_groups.push(VServerGroupPlan {
            name: name.clone(),
            service_port: port.port,
            action,
            backends: servers,
        });
        let listener = listener_plan(s, ctx, instance, reused, port, &name, &scheduler, plan);
        plan.listeners.push(listener);
    }

    // The Service's own groups and listeners that no port wants any more are removed.
    if let Some(i) = instance {
        let owned = |key: Option<NamedKey>| {
            key.is_some_and(|k| k.is_owned_by(&s.namespace, &s.name, ctx.cluster_id))
        };
        for g in i
            .vserver_groups
            .iter()
            .filter(|g| !desired_names.contains(&g.name) && owned(parse_named_key(&g.name).ok()))
        {
            plan.vserver_groups.push(VServerGroupPlan {
                name: g.name.clone(),
                service_port: 0,
                action: VServerGroupAction::Delete { id: g.id.clone() },
                backends: Vec::new(),
            });
        }
        if !reused || s.anns.force_override_listeners {
            let wanted: BTreeSet<(i32, String)> = plan
                .listeners
                .iter()
                .map(|l| (l.port, l.protocol.clone()))
                .collect();
            for l in i
                .listeners
                .iter()
                .filter(|l| owned(l.owner()) && !wanted.contains(&(l.port, l.protocol.clone())))
            {
                plan.listeners.push(ListenerPlan {
                    port: l.port,
                    protocol: l.protocol.clone(),
                    name: l.description.clone(),
                    vserver_group: String::new(),
                    scheduler: String::new(),
                    action: ListenerAction::Delete,
                });
                plan.overwritten.push(format!(
                    "Listener {}:{} ({}) is deleted.",
                    l.protocol.to_uppercase(),
                    l.port,
                    l.description
                ));
            }
        }
    }

    let distinct: BTreeSet<(String, String)> = plan
        .vserver_groups
        .iter()
        .flat_map(|g| g.backends.iter().map(|b| (b.name.clone(), b.ip.clone())))
        .collect();
    if distinct.len() > events::MAX_BACKENDS_PER_CLB {
        plan.conflicts.push(Conflict {
            kind: ConflictKind::BackendQuota,
            message: events::BACKEND_QUOTA.to_string(),
        });
    }
    if any_empty {
        plan.events.push(PlannedEvent::normal(
            events::REASON_UNAVAILABLE,
            events::NO_AVAILABLE_NODES,
        ));
    }
    let pod_nodes: BTreeSet<String> = ctx
        .backends
        .iter()
        .filter(|p| p.ready && !p.terminating)
        .filter_map(|p| p.node_name.clone())
        .collect();
    let groups: Vec<&[BackendServer]> = plan
        .vserver_groups
        .iter()
        .filter(|g| !matches!(g.action, VServerGroupAction::Delete { .. }))
        .map(|g| g.backends.as_slice())
        .collect();
    plan.consequences = Some(consequences(
        ctx.network_plugin,
        s.local,
        mode,
        &scheduler,
        ctx.nodes,
        &pod_nodes,
        &groups,
    ));
}

/// One listener: created, kept, taken over or left alone (doc §d rule 1, rows 6–8).
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename the arguments"
)]
fn listener_plan(
    s: &Subject<'_>,
    ctx: &SlbContext<'_>,
    instance: Option<&SlbInstance>,
    reused: bool,
    port: &ServicePort,
    group: &str,
    scheduler: &str,
    plan: &mut SlbPlan,
) -> ListenerPlan {
    let protocol = listener_protocol(&s.anns, port);
    let name = listener_name(port.port, &s.name, &s.namespace, ctx.cluster_id);
    let existing: Vec<&SlbListener> = instance
        .map(|i| i.listeners.iter().filter(|l| l.port == port.port).collect())
        .unwrap_or_default();
    let same = existing.iter().find(|l| l.protocol == protocol);
    let mine = |l: &SlbListener| {
        l.owner()
            .is_some_and(|k| k.is_owned_by(&s.namespace, &s.name, ctx.cluster_id))
    };
    let lb_id = instance.map(|i| i.id.as_str()).unwrap_or_default();
    let action = if reused && !s.anns.force_override_listeners {
        match existing.first() {
            Some(l) => {
                plan.notes.push(format!(
                    "Listener {}:{} on {lb_id} is not managed by this Service (force-override-listeners is off): point it at vServer group {group} yourself.",
                    l.protocol.to_uppercase(),
                    l.port
                ));
                ListenerAction::LeaveExisting
            }
            None => {
                plan.notes.push(format!(
                    "No listener is created on port {} of {lb_id} (force-override-listeners is off): create one that forwards to vServer group {group}.",
                    port.port
                ));
                ListenerAction::NotCreated
            }
        }
    } else {
        // A hand-made listener with another protocol on the port blocks creation (row 8).
        for l in existing
            .iter()
            .filter(|l| l.protocol != protocol && l.owner().is_none())
        {
            plan.conflicts.push(Conflict {
                kind: ConflictKind::ListenerProtocol,
                message: events::listener_protocol_conflict(
                    port.port,
                    lb_id,
                    &l.protocol,
                    &protocol,
                ),
            });
        }
        match same {
            Some(l) if mine(l) => ListenerAction::Keep,
            Some(l) if l.owner().is_none() => {
                plan.overwritten.push(format!(
                    "Listener {}:{} on {lb_id} (\"{}\") is taken over by this Service: it will forward to vServer group {group}.",
                    protocol.to_uppercase(),
                    port.port,
                    l.description
                ));
                ListenerAction::TakeOver
            }
            // Owned by another Service: already a PortInUse conflict.
            Some(_) => ListenerAction::TakeOver,
            None => ListenerAction::Create,
        }
    };
    if matches!(action, ListenerAction::LeaveExisting)
        && let Some(l) = existing.first()
    {
        return ListenerPlan {
            port: l.port,
            protocol: l.protocol.clone(),
            name: l.description.clone(),
            vserver_group: group.to_string(),
            scheduler: scheduler.to_string(),
            action,
        };
    }
    ListenerPlan {
        port: port.port,
        protocol,
        name,
        vserver_group: group.to_string(),
        scheduler: scheduler.to_string(),
        action,
    }
}
