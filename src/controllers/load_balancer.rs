//! The load-balancer controller, as ACK's cloud controller manager: for every LoadBalancer
//! Service it runs the SLB plan and applies it to the inventory (create, keep, reuse, delete,
//! preserve or release an instance; listeners and vServer groups with their backends), sets
//! `status.loadBalancer.ingress`, and records CCM's Events.

use service_plan::json::Pointer as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use serde_json::{Value, json};
use service_plan::annotations::{self, AddressType};
use service_plan::endpoints;
use service_plan::slb::{
    self, IngressPlan, InstancePlan, ListenerAction, SlbChange, SlbContext, SlbInstance,
    SlbListener, SlbPlan, SlbVServerGroup, VServerGroupAction, events,
};

use super::informer::{
    INSTANCES_BY_NAME, INSTANCES_BY_OWNER, Informers, Key, NodeView, Notification,
    SERVICES_BY_LOAD_BALANCER, SERVICES_BY_TYPE, typed,
};
use super::{Controller, EventRecord, Reconciler, Sync, record_event, str_at};
use crate::registry::{
    GroupBackends, InstanceRequest, Registry, RegistryError, VPC_ID, cluster_node,
    new_vserver_group_id,
};

/// The component and field manager of the controller.
pub const COMPONENT: &str = "service-controller";
/// Kubernetes' service controller reason before a sync.
pub const REASON_ENSURING: &str = "EnsuringLoadBalancer";
/// Its text.
pub const ENSURING_TEXT: &str = "Ensuring load balancer";
/// The `Service` type the controller provisions for.
const TYPE_LOAD_BALANCER: &str = "LoadBalancer";

/// A one-shot full resync of every LoadBalancer Service and of orphaned instances.
#[derive(Debug, Default)]
pub struct LoadBalancerController;

impl Controller for LoadBalancerController {
    const NAME: &'static str = "load-balancer";

    async fn sync(&mut self, registry: &Registry, _sync: Sync) -> Result<(), RegistryError> {
        let informers = Informers::snapshot(registry).await?;
        super::resync_once(&LoadBalancerReconciler::new(registry.clone(), informers)).await
    }
}

/// What the load-balancer controller's queue holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LoadBalancerKey {
    /// One Service.
    Service(Key),
    /// Instances and listeners left by Services that are gone (only on a full resync).
    Orphans,
}

/// The running load-balancer controller: reconciles one Service at a time. One worker:
/// Services may share an instance, and an instance is read, changed and saved whole.
pub struct LoadBalancerReconciler {
    registry: Registry,
    informers: Arc<Informers>,
    /// The last state of deleted Services whose instance is still to release, as compact
    /// JSON (a mass delete holds every Service here until its reconcile).
    deleted: Mutex<HashMap<Key, Box<str>>>,
}

impl LoadBalancerReconciler {
    /// A reconciler reading `informers`.
    pub fn new(registry: Registry, informers: Arc<Informers>) -> LoadBalancerReconciler {
        LoadBalancerReconciler {
            registry,
            informers,
            deleted: Mutex::new(HashMap::new()),
        }
    }

    fn deleted(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Box<str>>> {
        self.deleted.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn load_balancer_services(&self) -> Vec<LoadBalancerKey> {
        self.informers
            .services
            .index_keys(SERVICES_BY_TYPE, TYPE_LOAD_BALANCER)
            .into_iter()
            .map(LoadBalancerKey::Service)
            .collect()
    }

    /// The SLB plan of `svc` against the caches: what `Registry::plan_slb` computes, reading
    /// only the nodes, the Service's pods, the instances it can find and the Services that
    /// can share them.
    fn plan(&self, svc: &Service, change: SlbChange) -> SlbPlan {
        let settings = self.registry.settings();
        let nodes: Vec<Arc<NodeView>> = self.informers.nodes.list_projected();
        let namespace = svc.metadata.namespace.clone().unwrap_or_default();
        let pods = self.selected_pods(&namespace, svc);
        // `endpoints::node_zones`, from the zone the view already read.
        let zones: BTreeMap<String, String> = nodes
            .iter()
            .map(|n| (n.node.name.clone(), n.node.zone.clone()))
            .collect();
        let slices =
            endpoints::compute_endpoint_slices(svc, &pods, Some(&zones)).unwrap_or_default();
        let instances = self.candidate_instances(svc);
        let services = self.sharing_services(&instances);
        let nodes: Vec<slb::ClusterNode> = nodes.iter().map(|n| n.node.clone()).collect();
        let backends = slb::backend_pods(&slices);
        let ctx = SlbContext {
            cluster_id: &settings.cluster_id,
            network_plugin: settings.network_plugin,
            vpc_id: VPC_ID,
            nodes: &nodes,
            backends: &backends,
            instances: &instances,
            services: &services,
        };
        slb::plan_load_balancer(svc, change, &ctx)
    }

    fn selected_pods(&self, namespace: &str, svc: &Service) -> Vec<Arc<Pod>> {
        let selector = svc.spec.as_ref().and_then(|s| s.selector.as_ref());
        self.informers
            .pods_selected_by(namespace, selector.into_iter().flatten())
    }

    /// The instances the planner may pick for `svc`: the one its annotation names, and those
    /// tagged or named for it (`find_instance` looks for nothing else).
    fn candidate_instances(&self, svc: &Service) -> Vec<SlbInstance> {
        let lb = &self.informers.load_balancers;
        let mut objects = Vec::new();
        let empty = BTreeMap::new();
        let anns = annotations::check(svc.metadata.annotations.as_ref().unwrap_or(&empty));
        if let Some(id) = anns.annotations.load_balancer_id.as_deref() {
            objects.extend(lb.get(&Key::new("", id)));
        }
        if let Some(uid) = svc.metadata.uid.as_deref().filter(|u| !u.is_empty()) {
            let name = slb::default_load_balancer_name(uid);
            objects.extend(lb.by_index(INSTANCES_BY_OWNER, &name));
            objects.extend(lb.by_index(INSTANCES_BY_NAME, &name));
        }
        let mut seen = BTreeSet::new();
        let mut instances: Vec<SlbInstance> = objects
            .iter()
            .filter(|o| seen.insert(str_at(o, "/metadata/name").to_string()))
            .filter_map(|o| typed::<SlbInstance>(o.get("spec")?))
            .collect();
        instances.sort_by(|a, b| a.id.cmp(&b.id));
        instances
    }

    /// The Services that name one of `instances` (the only ones the planner compares).
    fn sharing_services(&self, instances: &[SlbInstance]) -> Vec<Service> {
        let mut keys = BTreeSet::new();
        let mut services = Vec::new();
        for instance in instances {
            for svc in self
                .informers
                .services
                .by_index(SERVICES_BY_LOAD_BALANCER, &instance.id)
            {
                if keys.insert(Key::of(&svc))
                    && let Some(svc) = typed::<Service>(&svc)
                {
                    services.push(svc);
                }
            }
        }
        services
    }

    /// Plans one Service and applies the plan.
    async fn sync_service(&self, object: &Value, change: SlbChange) -> Result<(), RegistryError> {
        let Some(svc) = typed::<Service>(object) else {
            return Ok(());
        };
        // Not a LoadBalancer, owning no instance and showing no ingress: the plan would be
        // to do nothing (CCM's `needsCleanup` is false), so skip making it, which reads every
        // node and the Service's pods.
        if !is_load_balancer(object)
            && object.at("/status/loadBalancer/ingress").is_none()
            && self.candidate_instances(&svc).is_empty()
        {
            return Ok(());
        }
        let plan = self.plan(&svc, change);
        let touches_instance = !matches!(plan.instance, InstancePlan::None { .. });
        apply(&self.registry, object, &svc, &plan).await?;
        // The next Service may share the instance: the caches must show this one's changes.
        if touches_instance {
            let revision = self.registry.current_revision();
            self.informers.catch_up(&self.registry, revision).await?;
        }
        Ok(())
    }
}

fn is_load_balancer(object: &Value) -> bool {
    str_at(object, "/spec/type") == TYPE_LOAD_BALANCER
}

impl Reconciler for LoadBalancerReconciler {
    type Key = LoadBalancerKey;
    const NAME: &'static str = "load-balancer";
    const RESOURCES: &'static [&'static str] = &["services", "pods", "nodes"];
    const WORKERS: usize = 1;

    fn keys_for(&self, resource: &str, notification: &Notification) -> Vec<LoadBalancerKey> {
        if let Notification::Resynced = notification {
            if resource != "services" {
                return Vec::new();
            }
            let mut keys = self.load_balancer_services();
            keys.push(LoadBalancerKey::Orphans);
            return keys;
        }
        let mut keys = BTreeSet::new();
        match resource {
            "services" => {
                if let Notification::Deleted(object) = notification {
                    self.deleted()
                        .insert(Key::of(object), object.to_string().into());
                }
                keys.extend(notification.objects().map(|o| Key::of(o)));
            }
            "pods" => {
                // Pods are backends (Terway) or weigh nodes (Local): the LoadBalancer
                // Services selecting the pod, before or after, are affected.
                // Read from the indexes alone: nothing is decoded however many Services
                // share the pod's labels.
                let services = &self.informers.services;
                for pod in notification.objects() {
                    keys.extend(
                        self.informers
                            .services_selecting(pod)
                            .into_iter()
                            .filter(|k| services.in_index(SERVICES_BY_TYPE, TYPE_LOAD_BALANCER, k)),
                    );
                }
            }
            "nodes" => {
                let affected = match notification {
                    Notification::Updated { old, new } => {
                        let (old, new) = (typed::<Node>(old), typed::<Node>(new));
                        old.as_ref().map(cluster_node) != new.as_ref().map(cluster_node)
                    }
                    _ => true,
                };
                if affected {
                    return self.load_balancer_services();
                }
            }
            _ => {}
        }
        keys.into_iter().map(LoadBalancerKey::Service).collect()
    }

    async fn reconcile(&self, key: &LoadBalancerKey) -> Result<(), RegistryError> {
        let key = match key {
            LoadBalancerKey::Orphans => {
                let services: Vec<Arc<Value>> = self
                    .informers
                    .services
                    .by_index(SERVICES_BY_TYPE, TYPE_LOAD_BALANCER);
                return collect_orphans(&self.registry, &services).await;
            }
            LoadBalancerKey::Service(key) => key,
        };
        let gone = self
            .deleted()
            .get(key)
            .map(|text| serde_json::from_str::<Value>(text));
        match gone {
            Some(Ok(object)) => {
                self.sync_service(&object, SlbChange::Delete).await?;
                self.deleted().remove(key);
            }
            // Our own serde_json output always decodes; were it not to, keep nothing for ever.
            Some(Err(_)) => {
                self.deleted().remove(key);
            }
            None => {}
        }
        if let Some(object) = self.informers.services.get(key) {
            self.sync_service(&object, SlbChange::Apply).await?;
        }
        Ok(())
    }
}

/// Removes what CCM created for Services of this cluster that no longer exist (deletions
/// missed while the controller was not running).
async fn collect_orphans(
    registry: &Registry,
    services: &[Arc<Value>],
) -> Result<(), RegistryError> {
    let cluster_id = registry.settings().cluster_id;
    let lb_names: BTreeSet<String> = services
        .iter()
        .filter(|s| is_load_balancer(s))
        .map(|s| slb::default_load_balancer_name(str_at(s, "/metadata/uid")))
        .collect();
    let lb_services: BTreeSet<(String, String)> = services
        .iter()
        .filter(|s| is_load_balancer(s))
        .map(|s| {
            (
                str_at(s, "/metadata/namespace").to_string(),
                str_at(s, "/metadata/name").to_string(),
            )
        })
        .collect();
    for mut instance in registry.load_balancers().await? {
        let ours = instance.tags.get(events::TAG_KEY_CLUSTER) == Some(&cluster_id);
        if let Some(owner) = instance.tags.get(events::TAG_KEY_SERVICE)
            && ours
            && !lb_names.contains(owner)
        {
            registry.remove_load_balancer(&instance.id).await?;
            continue;
        }
        let gone = |name: &str| {
            slb::parse_named_key(name).is_ok_and(|k| {
                k.cluster_id == cluster_id
                    && !lb_services.contains(&(k.namespace.clone(), k.service.clone()))
            })
        };
        let before = (instance.listeners.len(), instance.vserver_groups.len());
        instance.listeners.retain(|l| !gone(&l.description));
        instance.vserver_groups.retain(|g| !gone(&g.name));
        if before != (instance.listeners.len(), instance.vserver_groups.len()) {
            registry
                .save_load_balancer(&instance, &GroupBackends::new())
                .await?;
        }
    }
    Ok(())
}

/// The instance a Create plan describes, without id and address.
fn new_instance(plan: &InstancePlan) -> Option<InstanceRequest> {
    let InstancePlan::Create {
        name,
        address_type,
        instance_charge_type,
        spec,
        internet_charge_type,
        bandwidth,
        ip,
        tags,
        ..
    } = plan
    else {
        return None;
    };
    Some(InstanceRequest {
        instance: SlbInstance {
            id: String::new(),
            name: name.clone(),
            address_type: *address_type,
            address: String::new(),
            instance_charge_type: instance_charge_type.clone(),
            spec: spec.clone(),
            internet_charge_type: internet_charge_type.clone(),
            bandwidth: *bandwidth,
            tags: tags.clone(),
            listeners: Vec::new(),
            vserver_groups: Vec::new(),
        },
        ip: ip.clone(),
    })
}

/// The attribute changes of a kept instance, from the annotations (`LoadBalancerManager.Update`).
fn update_attributes(svc: &Service, instance: &mut SlbInstance) {
    let empty = BTreeMap::new();
    let anns = annotations::check(svc.metadata.annotations.as_ref().unwrap_or(&empty)).annotations;
    if let Some(name) = anns.name {
        instance.name = name;
    }
    if let Some(charge) = anns.instance_charge_type {
        instance.instance_charge_type = charge;
    }
    if instance.instance_charge_type == slb::PAY_BY_SPEC
        && let Some(spec) = anns.spec
    {
        instance.spec = Some(spec);
    }
    if instance.address_type == AddressType::Internet {
        if let Some(charge) = anns.charge_type {
            instance.internet_charge_type = Some(charge);
        }
        if instance.internet_charge_type.as_deref() == Some(slb::PAY_BY_BANDWIDTH)
            && let Some(b) = anns.bandwidth
        {
            instance.bandwidth = Some(b);
        }
    }
}

/// Listeners and vServer groups of an applied plan, with the backends of the Service's groups.
fn apply_groups(
    registry_backends: &BTreeMap<String, Value>,
    plan: &SlbPlan,
    instance: &mut SlbInstance,
) -> GroupBackends {
    let mut backends = GroupBackends::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for group in &plan.vserver_groups {
        let servers = serde_json::to_value(&group.backends).unwrap_or_else(|_| json!([]));
        match &group.action {
            VServerGroupAction::Create => {
                let id = instance
                    .vserver_groups
                    .iter()
                    .find(|g| g.name == group.name)
                    .map(|g| g.id.clone())
                    .unwrap_or_else(new_vserver_group_id);
                if !instance.vserver_groups.iter().any(|g| g.id == id) {
                    instance.vserver_groups.push(SlbVServerGroup {
                        id: id.clone(),
                        name: group.name.clone(),
                    });
                }
                ids.insert(group.name.clone(), id.clone());
                backends.insert(id, servers);
            }
            VServerGroupAction::Keep { id } => {
                ids.insert(group.name.clone(), id.clone());
                backends.insert(id.clone(), servers);
            }
            VServerGroupAction::UseExisting { id } => {
                // A user-managed group: only this Service's servers change.
                let mut merged: Vec<Value> = registry_backends
                    .get(id)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|s| str_at(s, "/description") != group.name)
                    .cloned()
                    .collect();
                merged.extend(
                    group
                        .backends
                        .iter()
                        .filter_map(|b| serde_json::to_value(b).ok()),
                );
                ids.insert(group.name.clone(), id.clone());
                backends.insert(id.clone(), Value::Array(merged));
            }
            VServerGroupAction::Delete { id } => {
                instance.vserver_groups.retain(|g| g.id != *id);
            }
        }
    }
    for listener in &plan.listeners {
        let group_id = ids.get(&listener.vserver_group).cloned();
        let same = |l: &SlbListener| l.port == listener.port && l.protocol == listener.protocol;
        match listener.action {
            ListenerAction::Create => {
                if !instance.listeners.iter().any(same) {
                    instance.listeners.push(SlbListener {
                        port: listener.port,
                        protocol: listener.protocol.clone(),
                        description: listener.name.clone(),
                        vserver_group_id: group_id,
                    });
                }
            }
            ListenerAction::Keep | ListenerAction::TakeOver => {
                if let Some(l) = instance.listeners.iter_mut().find(|l| same(l)) {
                    l.description = listener.name.clone();
                    l.vserver_group_id = group_id;
                }
            }
            ListenerAction::Delete => instance
                .listeners
                .retain(|l| !(same(l) && l.description == listener.name)),
            ListenerAction::LeaveExisting | ListenerAction::NotCreated => {}
        }
    }
    instance
        .listeners
        .sort_by(|a, b| (a.port, &a.protocol).cmp(&(b.port, &b.protocol)));
    backends
}

/// The ingress the Service should show.
fn ingress_for(plan: &SlbPlan, instance: Option<&SlbInstance>) -> Value {
    match (&plan.ingress, instance) {
        (IngressPlan::Hostname(h), _) => json!([{"hostname": h}]),
        (IngressPlan::Ip(ip) | IngressPlan::Eip(ip), _) => json!([{"ip": ip, "ipMode": "VIP"}]),
        (IngressPlan::Pending, Some(i)) => json!([{"ip": i.address, "ipMode": "VIP"}]),
        _ => json!([]),
    }
}

/// Writes `status.loadBalancer.ingress` when it differs; returns whether it wrote.
async fn set_ingress(
    registry: &Registry,
    object: &Value,
    ingress: Value,
) -> Result<bool, RegistryError> {
    let current = object
        .at("/status/loadBalancer/ingress")
        .cloned()
        .unwrap_or_else(|| json!([]));
    if current == ingress {
        return Ok(false);
    }
    let (ns, name) = (
        str_at(object, "/metadata/namespace"),
        str_at(object, "/metadata/name"),
    );
    let services = super::kind("services")?;
    super::authorized(registry, COMPONENT, "update", services, "status", ns, name)?;
    let result = registry
        .patch_service_status(ns, name, &super::writer(COMPONENT), move |cur| {
            let mut next = cur.clone();
            next["status"]["loadBalancer"] = if ingress.as_array().is_some_and(Vec::is_empty) {
                json!({})
            } else {
                json!({"ingress": ingress})
            };
            Ok(next)
        })
        .await;
    match result {
        Ok(applied) => Ok(applied.changed),
        Err(RegistryError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

async fn record(
    registry: &Registry,
    object: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    bump: bool,
) -> Result<(), RegistryError> {
    let record = EventRecord {
        object,
        type_,
        reason,
        message,
        component: COMPONENT,
    };
    record_event(registry, record, bump).await
}

/// Applies a plan to the inventory and the Service, recording Events when anything changed
/// (and a failure once per distinct message).
async fn apply(
    registry: &Registry,
    object: &Value,
    svc: &Service,
    plan: &SlbPlan,
) -> Result<(), RegistryError> {
    let mut object = object.clone();
    if object.get("kind").is_none() {
        object["kind"] = json!("Service");
        object["apiVersion"] = json!("v1");
    }
    let object = &object;
    if plan.is_blocked() {
        for e in &plan.events {
            record(registry, object, e.type_, e.reason, &e.message, false).await?;
        }
        return Ok(());
    }
    let mut created = None;
    let (mut instance, released) = match &plan.instance {
        InstancePlan::None { .. } => {
            if !is_load_balancer(object) && object.at("/status/loadBalancer/ingress").is_some() {
                set_ingress(registry, object, json!([])).await?;
            }
            return Ok(());
        }
        InstancePlan::Create { .. } => {
            let Some(request) = new_instance(&plan.instance) else {
                return Ok(());
            };
            match registry.insert_load_balancer(request).await {
                Ok(instance) => {
                    created = Some(instance.id.clone());
                    (instance, false)
                }
                Err(e) => {
                    let text = events::sync_failed_text("", &e.to_string());
                    record(
                        registry,
                        object,
                        events::EVENT_WARNING,
                        events::REASON_SYNC_FAILED,
                        &text,
                        false,
                    )
                    .await?;
                    return Ok(());
                }
            }
        }
        InstancePlan::Keep { id, .. } => {
            let mut instance = registry.load_balancer(id).await?;
            update_attributes(svc, &mut instance);
            (instance, false)
        }
        InstancePlan::Reuse { id, .. } => {
            let mut instance = registry.load_balancer(id).await?;
            if !instance.tags.contains_key(events::TAG_KEY_REUSED)
                && instance.tags.len() < events::MAX_TAGS_PER_CLB
            {
                instance
                    .tags
                    .insert(events::TAG_KEY_REUSED.to_string(), "true".to_string());
            }
            (instance, false)
        }
        InstancePlan::Delete { id, .. } => {
            match registry.remove_load_balancer(id).await {
                Ok(()) | Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            return released_events(registry, object, plan).await;
        }
        InstancePlan::Preserve {
            id, removed_tags, ..
        } => {
            let mut instance = registry.load_balancer(id).await?;
            for tag in removed_tags {
                instance.tags.remove(tag);
            }
            (instance, true)
        }
        InstancePlan::Release { id, .. } => (registry.load_balancer(id).await?, true),
    };
    let stored = registry.load_balancer_object(&instance.id).await?;
    let backends = apply_groups(
        &crate::registry::stored_backends(&stored),
        plan,
        &mut instance,
    );
    let changed = registry.save_load_balancer(&instance, &backends).await?;
    if released {
        if is_load_balancer(object) || object.at("/status/loadBalancer/ingress").is_some() {
            set_ingress(registry, object, json!([])).await?;
        }
        return if changed {
            released_events(registry, object, plan).await
        } else {
            Ok(())
        };
    }
    let status_changed = set_ingress(registry, object, ingress_for(plan, Some(&instance))).await?;
    if created.is_none() && !changed && !status_changed {
        return Ok(());
    }
    record(
        registry,
        object,
        events::EVENT_NORMAL,
        REASON_ENSURING,
        ENSURING_TEXT,
        true,
    )
    .await?;
    for e in &plan.events {
        record(registry, object, e.type_, e.reason, &e.message, true).await?;
    }
    if let Some(id) = created {
        record(
            registry,
            object,
            events::EVENT_NORMAL,
            events::REASON_ENSURED,
            &events::ensured_text(&id),
            true,
        )
        .await?;
    }
    Ok(())
}

async fn released_events(
    registry: &Registry,
    object: &Value,
    plan: &SlbPlan,
) -> Result<(), RegistryError> {
    for e in &plan.events {
        record(registry, object, e.type_, e.reason, &e.message, true).await?;
    }
    Ok(())
}
