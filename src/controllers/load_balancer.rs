//! The load-balancer controller, as ACK's cloud controller manager: for every LoadBalancer
//! Service it runs the SLB plan and applies it to the inventory (create, keep, reuse, delete,
//! preserve or release an instance; listeners and vServer groups with their backends), sets
//! `status.loadBalancer.ingress`, and records CCM's Events.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Service;
use serde_json::{Value, json};
use service_plan::annotations::{self, AddressType};
use service_plan::slb::{
    self, IngressPlan, InstancePlan, ListenerAction, SlbChange, SlbInstance, SlbListener, SlbPlan,
    SlbVServerGroup, VServerGroupAction, events,
};

use super::{Controller, EventRecord, Sync, record_event, str_at};
use crate::registry::{
    GroupBackends, InstanceRequest, Registry, RegistryError, new_vserver_group_id,
};
use crate::store::EventType;

/// The component and field manager of the controller.
pub const COMPONENT: &str = "service-controller";
/// Kubernetes' service controller reason before a sync.
pub const REASON_ENSURING: &str = "EnsuringLoadBalancer";
/// Its text.
pub const ENSURING_TEXT: &str = "Ensuring load balancer";

/// Provisions SLB instances for LoadBalancer Services.
#[derive(Debug, Default)]
pub struct LoadBalancerController;

impl Controller for LoadBalancerController {
    const NAME: &'static str = "load-balancer";
    const RESOURCES: &'static [&'static str] = &["services", "pods", "nodes"];

    async fn sync(&mut self, registry: &Registry, sync: Sync<'_>) -> Result<(), RegistryError> {
        let events = match sync {
            Sync::All => return full_sync(registry).await,
            Sync::Events(events) => events,
        };
        let mut services: BTreeSet<(String, String)> = BTreeSet::new();
        let mut namespaces: BTreeSet<String> = BTreeSet::new();
        let mut all = false;
        for event in events {
            match event.key.kind.as_str() {
                "services" if event.event_type == EventType::Deleted => {
                    if let Ok(svc) = serde_json::from_value::<Service>(event.object.clone()) {
                        let plan = registry.plan_slb(&svc, SlbChange::Delete).await?;
                        apply(registry, &event.object, &svc, &plan).await?;
                    }
                    services.remove(&(event.key.namespace.clone(), event.key.name.clone()));
                }
                "services" => {
                    services.insert((event.key.namespace.clone(), event.key.name.clone()));
                }
                "pods" => {
                    namespaces.insert(event.key.namespace.clone());
                }
                _ => all = true,
            }
        }
        let mut targets: Vec<Value> = Vec::new();
        for (ns, name) in &services {
            if let Some(stored) = registry.get_raw("services", ns, name).await? {
                targets.push(registry.decorate("services", stored.object));
            }
        }
        if all || !namespaces.is_empty() {
            let scope: Option<&str> = None;
            for svc in registry
                .list("services", scope, &Default::default())
                .await?
                .items
            {
                let ns = str_at(&svc, "/metadata/namespace").to_string();
                let key = (ns.clone(), str_at(&svc, "/metadata/name").to_string());
                if (all || namespaces.contains(&ns))
                    && is_load_balancer(&svc)
                    && !services.contains(&key)
                {
                    targets.push(svc);
                }
            }
        }
        for object in targets {
            sync_service(registry, &object).await?;
        }
        Ok(())
    }
}

fn is_load_balancer(object: &Value) -> bool {
    str_at(object, "/spec/type") == "LoadBalancer"
}

/// Every LoadBalancer Service, then instances and listeners left by Services that are gone.
async fn full_sync(registry: &Registry) -> Result<(), RegistryError> {
    let services = registry
        .list("services", None, &Default::default())
        .await?
        .items;
    for svc in services.iter().filter(|s| is_load_balancer(s)) {
        sync_service(registry, svc).await?;
    }
    collect_orphans(registry, &services).await
}

/// Plans one stored Service and applies the plan.
async fn sync_service(registry: &Registry, object: &Value) -> Result<(), RegistryError> {
    let Ok(svc) = serde_json::from_value::<Service>(object.clone()) else {
        return Ok(());
    };
    let plan = registry.plan_slb(&svc, SlbChange::Apply).await?;
    apply(registry, object, &svc, &plan).await
}

/// Removes what CCM created for Services of this cluster that no longer exist (deletions
/// missed while the controller was not running).
async fn collect_orphans(registry: &Registry, services: &[Value]) -> Result<(), RegistryError> {
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
        .pointer("/status/loadBalancer/ingress")
        .cloned()
        .unwrap_or_else(|| json!([]));
    if current == ingress {
        return Ok(false);
    }
    let (ns, name) = (
        str_at(object, "/metadata/namespace"),
        str_at(object, "/metadata/name"),
    );
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
            if !is_load_balancer(object) && object.pointer("/status/loadBalancer/ingress").is_some()
            {
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
        if is_load_balancer(object) || object.pointer("/status/loadBalancer/ingress").is_some() {
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
