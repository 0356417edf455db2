//! The endpoints controller: Endpoints and EndpointSlices for every Service with a selector,
//! from `service_plan::endpoints`, kept in step on Service, Pod and Node changes; none for a
//! Service without a selector; removed with their Service. One Service per work item: a Pod
//! change queues only the Services selecting it, a Node change only those with pods on it.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::Value;
use service_plan::endpoints::{self, ENDPOINTSLICE_CONTROLLER, LABEL_MANAGED_BY};

use super::informer::{
    Informers, Key, MANAGED_SLICES_BY_SERVICE, Notification, PODS_BY_NODE, selector_of, typed,
};
use super::own_writes::OwnWrites;
use super::{Controller, Reconciler, Sync, delete_if_present, labels_of, resync_once, str_at};
use crate::registry::{Registry, RegistryError};

/// The field manager of Endpoints writes.
pub const MANAGER: &str = "endpoint-controller";
/// The field manager of EndpointSlice writes.
pub const SLICE_MANAGER: &str = "endpointslice-controller";
/// Workers: keys are independent (each writes only its own Service's objects), and a worker
/// spends most of a reconcile waiting for its durable commit, so many of them share one group
/// commit (kube-controller-manager runs 5 endpoints workers by default, against etcd's
/// latency). Measured with `scale.sh` at 30,000 Services: 8 workers caught up 20 s after the
/// last create, 32 workers 4.5 s, at the price of slower creates during the storm.
const WORKERS: usize = 32;

/// A one-shot full resync of Endpoints and EndpointSlices.
#[derive(Debug, Default)]
pub struct EndpointsController;

impl Controller for EndpointsController {
    const NAME: &'static str = "endpoints";

    async fn sync(&mut self, registry: &Registry, _sync: Sync) -> Result<(), RegistryError> {
        let informers = Informers::snapshot(registry).await?;
        resync_once(&EndpointsReconciler::new(registry.clone(), informers)).await
    }
}

/// The running endpoints controller: reconciles one Service key at a time.
pub struct EndpointsReconciler {
    registry: Registry,
    informers: Arc<Informers>,
    /// Services seen deleted whose Endpoints are still to delete.
    deleted: Mutex<HashSet<Key>>,
    /// Its Endpoints and EndpointSlice writes whose events are still to come.
    own_endpoints: OwnWrites,
    own_slices: OwnWrites,
}

impl EndpointsReconciler {
    /// A reconciler reading `informers`.
    pub fn new(registry: Registry, informers: Arc<Informers>) -> EndpointsReconciler {
        EndpointsReconciler {
            registry,
            informers,
            deleted: Mutex::new(HashSet::new()),
            own_endpoints: OwnWrites::new("endpoints"),
            own_slices: OwnWrites::new("endpointslices"),
        }
    }

    fn deleted(&self) -> std::sync::MutexGuard<'_, HashSet<Key>> {
        self.deleted.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every Service, and the Service of every slice this controller manages (slices left
    /// by Services that are gone).
    fn all_keys(&self) -> Vec<Key> {
        let mut keys: BTreeSet<Key> = self.informers.services.keys().into_iter().collect();
        for slice in self.informers.endpoint_slices.list() {
            if is_managed(&slice) {
                keys.insert(slice_owner(&slice));
            }
        }
        keys.into_iter().collect()
    }

    /// The pods the Service's selector picks out, by the label index; ordered by name.
    fn selected_pods(&self, svc: &Value) -> Vec<Arc<Pod>> {
        let selector = selector_of(svc);
        self.informers
            .pods_selected_by(str_at(svc, "/metadata/namespace"), &selector)
    }

    /// The zone of each node the pods run on (each node decoded once, however many pods it
    /// runs).
    fn zones(&self, pods: &[Arc<Pod>]) -> BTreeMap<String, String> {
        let nodes: BTreeSet<String> = pods
            .iter()
            .filter_map(|p| p.spec.as_ref()?.node_name.clone())
            .collect();
        nodes
            .into_iter()
            .filter_map(|node| {
                let object = self.informers.nodes.get(&Key::new("", &node))?;
                let zone = labels_of(&object)
                    .get(endpoints::LABEL_ZONE)
                    .cloned()
                    .unwrap_or_default();
                Some((node, zone))
            })
            .collect()
    }

    /// Deletes the managed slices of `key` not named in `wanted` (read from the index alone:
    /// nothing is decoded).
    async fn delete_slices_except(
        &self,
        key: &Key,
        wanted: &BTreeSet<String>,
    ) -> Result<(), RegistryError> {
        let slices = self
            .informers
            .endpoint_slices
            .index_keys(MANAGED_SLICES_BY_SERVICE, &key.to_string());
        for slice in slices {
            if !wanted.contains(&slice.name) {
                delete_if_present(
                    &self.registry,
                    MANAGER,
                    "endpointslices",
                    &key.namespace,
                    &slice.name,
                )
                .await?;
            }
        }
        Ok(())
    }
}

fn is_managed(slice: &Value) -> bool {
    labels_of(slice).get(LABEL_MANAGED_BY).map(String::as_str) == Some(ENDPOINTSLICE_CONTROLLER)
}

fn slice_owner(slice: &Value) -> Key {
    let name = labels_of(slice)
        .get(endpoints::LABEL_SERVICE_NAME)
        .cloned()
        .unwrap_or_default();
    Key::new(str_at(slice, "/metadata/namespace"), &name)
}

fn zone_of(node: &Value) -> Option<String> {
    labels_of(node).get(endpoints::LABEL_ZONE).cloned()
}

impl Reconciler for EndpointsReconciler {
    type Key = Key;
    const NAME: &'static str = "endpoints";
    const RESOURCES: &'static [&'static str] =
        &["services", "pods", "nodes", "endpoints", "endpointslices"];
    const WORKERS: usize = WORKERS;

    fn keys_for(&self, resource: &str, notification: &Notification) -> Vec<Key> {
        if let Notification::Resynced = notification {
            self.own_endpoints.clear();
            self.own_slices.clear();
            // Every informer re-lists together: one full resync is enough.
            return if resource == "services" {
                self.all_keys()
            } else {
                Vec::new()
            };
        }
        let mut keys = BTreeSet::new();
        match resource {
            "services" => {
                for object in notification.objects() {
                    keys.insert(Key::of(object));
                }
                if let Notification::Deleted(object) = notification {
                    self.deleted().insert(Key::of(object));
                }
            }
            "pods" => {
                for pod in notification.objects() {
                    keys.extend(self.informers.services_selecting(pod));
                }
            }
            "nodes" => {
                // Only a node's zone reaches endpoints (the slices' `zone`).
                let affected = match notification {
                    Notification::Updated { old, new } => zone_of(old) != zone_of(new),
                    _ => true,
                };
                if affected {
                    for node in notification.objects() {
                        let name = str_at(node, "/metadata/name");
                        for pod in self.informers.pods.by_index(PODS_BY_NODE, name) {
                            keys.extend(self.informers.services_selecting(&pod));
                        }
                    }
                }
            }
            "endpoints" if self.own_endpoints.echoes(notification) => {}
            "endpointslices" if self.own_slices.echoes(notification) => {}
            "endpoints" => {
                // Someone else's change to a Service's Endpoints is undone; Endpoints without
                // a Service are not this controller's.
                for object in notification.objects() {
                    let key = Key::of(object);
                    if self.informers.services.contains(&key) {
                        keys.insert(key);
                    }
                }
            }
            "endpointslices" => {
                for object in notification.objects() {
                    if is_managed(object) {
                        keys.insert(slice_owner(object));
                    }
                }
            }
            _ => {}
        }
        keys.into_iter().collect()
    }

    async fn reconcile(&self, key: &Key) -> Result<(), RegistryError> {
        let registry = &self.registry;
        let Some(object) = self.informers.services.get(key) else {
            // Forget only a delete acted on: one recorded while the slices are deleted (the
            // informer drops the Service before it tells us) is for the next reconcile.
            let seen_deleted = self.deleted().contains(key);
            if seen_deleted && !key.name.is_empty() {
                delete_if_present(registry, MANAGER, "endpoints", &key.namespace, &key.name)
                    .await?;
            }
            self.delete_slices_except(key, &BTreeSet::new()).await?;
            if seen_deleted {
                self.deleted().remove(key);
            }
            return Ok(());
        };
        // Forget a recorded delete only while the Service is still cached: the informer drops
        // it from the cache before it tells us of the delete, so a delete seen since `get`
        // (which decodes, a window wide enough to hit) stays recorded for the next reconcile.
        {
            let mut deleted = self.deleted();
            if self.informers.services.contains(key) {
                deleted.remove(key);
            }
        }
        let Some(svc) = typed::<Service>(&object) else {
            return Ok(());
        };
        let pods = self.selected_pods(&object);
        let zones = self.zones(&pods);
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        if let Some(computed) = endpoints::compute(&svc, &pods, Some(&zones)) {
            let ep = to_value(&computed.endpoints, "v1", "Endpoints")?;
            let cached = self.informers.endpoints.get(key);
            self.own_endpoints
                .upsert(registry, &key.namespace, ep, MANAGER, cached.as_deref())
                .await?;
            for slice in &computed.slices {
                let value = to_value(slice, "discovery.k8s.io/v1", "EndpointSlice")?;
                let name = str_at(&value, "/metadata/name").to_string();
                let cached = self
                    .informers
                    .endpoint_slices
                    .get(&Key::new(&key.namespace, &name));
                self.own_slices
                    .upsert(
                        registry,
                        &key.namespace,
                        value,
                        SLICE_MANAGER,
                        cached.as_deref(),
                    )
                    .await?;
                wanted.insert(name);
            }
        }
        // Slices of this Service that it no longer wants (no selector, or changed shape).
        self.delete_slices_except(key, &wanted).await
    }
}

fn to_value<T: serde::Serialize>(
    object: &T,
    api_version: &str,
    kind: &str,
) -> Result<Value, RegistryError> {
    let mut v = serde_json::to_value(object)
        .map_err(|e| RegistryError::Internal(format!("encoding {kind}: {e}")))?;
    v["apiVersion"] = Value::String(api_version.into());
    v["kind"] = Value::String(kind.into());
    Ok(v)
}
