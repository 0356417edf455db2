//! Controllers, as kube-controller-manager's: shared informers (one list and one watch of
//! the store, cached and indexed) turn changes into keys on de-duplicating work queues, and
//! workers reconcile one key at a time from the caches, computing the desired state with
//! `service-plan` and writing back through the registry only what differs.

mod adoption;
pub mod demo;
pub mod deployments;
pub mod endpoints;
pub mod informer;
pub mod kubernetes_service;
pub mod leader;
pub mod load_balancer;
mod own_writes;
pub mod queue;
pub mod workloads;

use service_plan::json::Pointer as _;
use std::collections::BTreeMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::AppState;
pub use crate::registry::str_at;
use crate::registry::{
    DeletePreconditions, Kind, Registry, RegistryError, Revision, WriteOptions, kind_by_plural,
};
use informer::{Informers, Notification};
use queue::WorkQueue;

/// What a one-shot [`Controller::sync`] covers.
pub enum Sync {
    /// Every object, from freshly listed caches (ordinary changes go through the queues).
    All,
}

/// A one-shot full resync of a controller, outside the running controllers.
pub trait Controller: Send + 'static {
    /// Its name, for logs.
    const NAME: &'static str;
    /// Reconciles every object once against freshly listed caches.
    fn sync(
        &mut self,
        registry: &Registry,
        sync: Sync,
    ) -> impl Future<Output = Result<(), RegistryError>> + Send;
}

/// How a running controller turns notifications into keys and reconciles one key.
pub trait Reconciler: Send + std::marker::Sync + 'static {
    /// What its queue holds.
    type Key: Clone + Eq + Hash + std::fmt::Debug + Send + std::marker::Sync + 'static;
    /// Its name, for logs.
    const NAME: &'static str;
    /// The resources whose notifications it follows.
    const RESOURCES: &'static [&'static str];
    /// How many keys it reconciles at once.
    const WORKERS: usize;
    /// The keys a notification of `resource` affects; [`Notification::Resynced`] may name
    /// every key (the only full resync).
    fn keys_for(&self, resource: &str, notification: &Notification) -> Vec<Self::Key>;
    /// Brings one key in step.
    fn reconcile(&self, key: &Self::Key) -> impl Future<Output = Result<(), RegistryError>> + Send;
    /// After a reconcile of `key` that succeeded: when to reconcile it again though nothing
    /// changed (a deadline to notice), as client-go's `AddAfter`.
    fn requeue_after(&self, _key: &Self::Key) -> Option<std::time::Duration> {
        None
    }
}

/// Counters of one controller, for tests and diagnostics.
#[derive(Debug, Default)]
pub struct ReconcileStats {
    /// Keys reconciled (successfully or not).
    pub reconciles: AtomicU64,
    /// Reconciles that failed and were queued for a retry.
    pub failures: AtomicU64,
}

impl ReconcileStats {
    /// Keys reconciled so far.
    pub fn reconciles(&self) -> u64 {
        self.reconciles.load(Ordering::Relaxed)
    }
}

/// Counters of every controller.
#[derive(Debug, Default)]
pub struct ControllerStats {
    /// The endpoints controller's.
    pub endpoints: ReconcileStats,
    /// The load-balancer controller's.
    pub load_balancer: ReconcileStats,
    /// The ReplicaSet (pods) controller's.
    pub workloads: ReconcileStats,
    /// The deployment (ReplicaSets) controller's.
    pub deployments: ReconcileStats,
}

/// Whether a started controller has nothing to do: nothing being turned into keys, no key
/// waiting or held.
type IdleProbe = Box<dyn Fn() -> bool + Send + std::marker::Sync>;

/// The running controllers; dropping it stops them.
pub struct Controllers {
    tasks: Vec<JoinHandle<()>>,
    stats: Arc<ControllerStats>,
    informers: Arc<Informers>,
    registry: Registry,
    idle: Vec<IdleProbe>,
}

impl Controllers {
    /// The controllers' counters.
    pub fn stats(&self) -> &ControllerStats {
        &self.stats
    }

    /// The shared informers the controllers read.
    pub fn informers(&self) -> &Informers {
        &self.informers
    }

    /// Whether everything stored so far has reached the caches and been reconciled: no
    /// notification in flight, no key waiting or being reconciled.
    pub fn is_idle(&self) -> bool {
        self.informers.revision() >= self.registry.current_revision()
            && self.informers.backlog() == 0
            && self.idle.iter().all(|idle| idle())
    }
}

impl Drop for Controllers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Which controllers to start.
#[derive(Debug, Clone, Copy)]
pub struct ControllerOptions {
    /// Seed the demo cluster into a new data directory.
    pub demo: bool,
}

/// Seeds the demo cluster (when asked and the cluster has no nodes) and starts the shared
/// informers and the workloads, endpoints and load-balancer controllers.
pub async fn start_controllers(
    state: &AppState,
    opts: ControllerOptions,
) -> Result<Controllers, RegistryError> {
    let registry = state.registry.clone();
    if opts.demo {
        demo::seed(&registry).await?;
    }
    let informers = Informers::new();
    let stats = Arc::new(ControllerStats::default());
    let mut tasks = Vec::new();
    let mut idle = Vec::new();
    // Subscribing before the informers run is what hands every controller the first
    // Resynced, its full resync at start.
    let (t, i) = spawn(
        Arc::new(workloads::WorkloadsReconciler::new(
            registry.clone(),
            Arc::clone(&informers),
        )),
        &informers,
        Arc::clone(&stats),
        |s| &s.workloads,
    );
    tasks.extend(t);
    idle.push(i);
    let (t, i) = spawn(
        Arc::new(deployments::DeploymentReconciler::new(
            registry.clone(),
            Arc::clone(&informers),
        )),
        &informers,
        Arc::clone(&stats),
        |s| &s.deployments,
    );
    tasks.extend(t);
    idle.push(i);
    let (t, i) = spawn(
        Arc::new(endpoints::EndpointsReconciler::new(
            registry.clone(),
            Arc::clone(&informers),
        )),
        &informers,
        Arc::clone(&stats),
        |s| &s.endpoints,
    );
    tasks.extend(t);
    idle.push(i);
    let (t, i) = spawn(
        Arc::new(load_balancer::LoadBalancerReconciler::new(
            registry.clone(),
            Arc::clone(&informers),
        )),
        &informers,
        Arc::clone(&stats),
        |s| &s.load_balancer,
    );
    tasks.extend(t);
    idle.push(i);
    tasks.push(tokio::spawn(Arc::clone(&informers).run(registry.clone())));
    Ok(Controllers {
        tasks,
        stats,
        informers,
        registry,
        idle,
    })
}

/// Starts a controller: one task per followed resource turning notifications into keys,
/// and its workers.
fn spawn<R: Reconciler>(
    reconciler: Arc<R>,
    informers: &Informers,
    stats: Arc<ControllerStats>,
    counters: fn(&ControllerStats) -> &ReconcileStats,
) -> (Vec<JoinHandle<()>>, IdleProbe) {
    let queue: Arc<WorkQueue<R::Key>> = WorkQueue::new(queue::DEFAULT_CAPACITY);
    // Notifications a pump has received and not yet turned into keys.
    let pumping = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for resource in R::RESOURCES {
        let Some(informer) = informers.of(resource) else {
            tracing::error!(controller = R::NAME, resource, "no informer for resource");
            continue;
        };
        let mut notifications = informer.subscribe();
        let (reconciler, queue, pumping) = (
            Arc::clone(&reconciler),
            Arc::clone(&queue),
            Arc::clone(&pumping),
        );
        tasks.push(tokio::spawn(async move {
            while let Some(n) = notifications.recv().await {
                pumping.fetch_add(1, Ordering::SeqCst);
                for key in reconciler.keys_for(resource, &n) {
                    queue.add(key).await;
                }
                pumping.fetch_sub(1, Ordering::SeqCst);
            }
        }));
    }
    // Keys with a delayed reconcile pending: one timer per key at most.
    let timers: Arc<std::sync::Mutex<std::collections::HashSet<R::Key>>> = Arc::default();
    for _ in 0..R::WORKERS.max(1) {
        let (reconciler, queue, stats, timers) = (
            Arc::clone(&reconciler),
            Arc::clone(&queue),
            Arc::clone(&stats),
            Arc::clone(&timers),
        );
        tasks.push(tokio::spawn(async move {
            while let Some(key) = queue.get().await {
                let result = reconciler.reconcile(&key).await;
                let counters = counters(&stats);
                counters.reconciles.fetch_add(1, Ordering::Relaxed);
                if result.is_ok()
                    && let Some(after) = reconciler.requeue_after(&key)
                {
                    add_after(&queue, &timers, key.clone(), after);
                }
                match result {
                    Ok(()) => queue.forget(&key),
                    Err(e) => {
                        counters.failures.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(controller = R::NAME, ?key, error = %e, "reconcile failed");
                        queue.add_rate_limited(key.clone());
                    }
                }
                queue.done(&key);
            }
        }));
    }
    let idle: IdleProbe = Box::new(move || pumping.load(Ordering::SeqCst) == 0 && queue.is_idle());
    (tasks, idle)
}

/// Adds `key` to `queue` after `after`, unless a timer for it is already pending (that one
/// fires first, and its reconcile asks again if it still needs to).
fn add_after<K: Clone + Eq + Hash + Send + std::marker::Sync + 'static>(
    queue: &Arc<WorkQueue<K>>,
    timers: &Arc<std::sync::Mutex<std::collections::HashSet<K>>>,
    key: K,
    after: std::time::Duration,
) {
    let pending = || {
        timers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if !pending().insert(key.clone()) {
        return;
    }
    // Weak: a timer outliving its controller (stopped meanwhile) adds nothing.
    let (queue, timers) = (Arc::downgrade(queue), Arc::downgrade(timers));
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let (Some(queue), Some(timers)) = (queue.upgrade(), timers.upgrade()) else {
            return;
        };
        timers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&key);
        queue.add(key).await;
    });
}

/// Reconciles every key a full resync names, once, in order: the one-shot [`Controller::sync`].
pub async fn resync_once<R: Reconciler>(reconciler: &R) -> Result<(), RegistryError> {
    let mut seen = std::collections::HashSet::new();
    for resource in R::RESOURCES {
        for key in reconciler.keys_for(resource, &Notification::Resynced) {
            if seen.insert(key.clone()) {
                reconciler.reconcile(&key).await?;
            }
        }
    }
    Ok(())
}

/// The revision a write stored, from its object's `metadata.resourceVersion`.
pub fn revision_of(object: &Value) -> Option<Revision> {
    str_at(object, "/metadata/resourceVersion").parse().ok()
}

/// The ServiceAccount (in `kube-system`) a controller acts as when it writes `plural`: pods
/// are the replicaset controller's to write, and the endpoints controller does the endpoint
/// and endpointslice controllers' work, each part as its upstream owner, whose bootstrap
/// role allows exactly that part.
fn identity<'a>(manager: &'a str, plural: &str) -> &'a str {
    match plural {
        "pods" => "replicaset-controller",
        "endpointslices" => "endpointslice-controller",
        _ => manager,
    }
}

/// The user a controller write is made as: kube-controller-manager's own writes (its lease
/// and the events about it) as `system:kube-controller-manager`, which its bootstrap role
/// binds; the controllers' as their ServiceAccounts in kube-system.
fn user_of(manager: &str, plural: &str) -> service_plan::user::UserInfo {
    if manager == leader::MANAGER {
        service_plan::user::UserInfo::authenticated(service_plan::user::KUBE_CONTROLLER_MANAGER, [])
    } else {
        service_plan::user::UserInfo::service_account("kube-system", identity(manager, plural), "")
    }
}

/// In team mode, refuses a controller write its role does not allow, with the 403 an API
/// client would get; in local mode every write is allowed.
pub fn authorized(
    registry: &Registry,
    manager: &str,
    verb: &str,
    kind: &Kind,
    subresource: &str,
    namespace: &str,
    name: &str,
) -> Result<(), RegistryError> {
    // The API server's own writes (the `kubernetes` Service's endpoints) are its loopback
    // client's, a member of system:masters.
    if !registry.controllers_authorized() || manager == kubernetes_service::MANAGER {
        return Ok(());
    }
    let user = user_of(manager, kind.resource.plural);
    let namespace = if kind.namespaced { namespace } else { "" };
    let mut attrs = service_plan::rbac::Attributes::resource(
        &user,
        verb,
        kind.resource.group,
        kind.resource.plural,
        namespace,
        name,
    );
    attrs.subresource = subresource;
    registry.authorize(&attrs).map_err(|forbidden| {
        tracing::error!(controller = manager, error = %forbidden.message, "controller write refused by its role");
        RegistryError::Status(forbidden)
    })
}

/// Write options of controller writes: the controller's field manager.
pub fn writer(manager: &str) -> WriteOptions {
    WriteOptions {
        field_manager: Some(manager.to_string()),
        ..Default::default()
    }
}

fn kind(plural: &str) -> Result<&'static Kind, RegistryError> {
    kind_by_plural(plural)
        .ok_or_else(|| RegistryError::Internal(format!("resource {plural} is not served")))
}

/// The fields of `desired` that a controller owns, copied onto `current`.
fn overlay(current: &Value, desired: &Value) -> Value {
    let mut merged = current.clone();
    let (Some(m), Some(d)) = (merged.as_object_mut(), desired.as_object()) else {
        return desired.clone();
    };
    for (key, value) in d {
        if key == "metadata" || key == "status" {
            continue;
        }
        m.insert(key.clone(), value.clone());
    }
    m.retain(|k, _| d.contains_key(k) || k == "metadata" || k == "status");
    let meta = merged.get_mut("metadata").and_then(Value::as_object_mut);
    if let Some(meta) = meta {
        for key in ["labels", "annotations", "ownerReferences"] {
            match desired.at(&format!("/metadata/{key}")) {
                Some(v) if !v.is_null() => {
                    meta.insert(key.to_string(), v.clone());
                }
                _ => {
                    meta.remove(key);
                }
            }
        }
    }
    merged
}

/// What a controller must write so that `stored` holds the fields of `desired` it owns: the
/// whole object (`None`: it already does) and a changed `status` for a status subresource.
fn changes(kind: &Kind, stored: &Value, desired: &Value) -> (Option<Value>, Option<Value>) {
    if holds(stored, desired) {
        return (None, None);
    }
    let has_status = kind.subresources.contains(&"status");
    let mut body = overlay(stored, desired);
    let status = desired
        .get("status")
        .filter(|s| stored.get("status") != Some(*s))
        .cloned();
    if !has_status && let Some(status) = &status {
        body["status"] = status.clone();
    }
    let body = (body != *stored).then_some(body);
    (body, status.filter(|_| has_status))
}

/// Whether `stored` already holds the fields of `desired` a controller owns.
pub fn is_current(plural: &str, stored: &Value, desired: &Value) -> Result<bool, RegistryError> {
    kind(plural)?;
    Ok(holds(stored, desired))
}

/// Whether `stored` already holds the fields of `desired` a controller owns (those [`overlay`]
/// copies, and a `status`), decided without building the overlay: every event of a controller's
/// own write asks this, and the copy cost more than the rest of the check.
fn holds(stored: &Value, desired: &Value) -> bool {
    let (Some(have), Some(want)) = (stored.as_object(), desired.as_object()) else {
        return stored == desired;
    };
    let owned = |key: &String| key != "metadata" && key != "status";
    let fields = want
        .iter()
        .filter(|(k, _)| owned(k))
        .all(|(k, v)| have.get(k) == Some(v))
        && have
            .keys()
            .filter(|k| owned(k))
            .all(|k| want.contains_key(k));
    let meta = match stored.get("metadata") {
        Some(Value::Object(meta)) => {
            ["labels", "annotations", "ownerReferences"]
                .iter()
                .all(|key| {
                    let wanted = desired.get("metadata").and_then(|m| m.get(*key));
                    meta.get(*key) == wanted.filter(|v| !v.is_null())
                })
        }
        // The overlay leaves metadata that is no object as it is.
        _ => true,
    };
    let status = desired
        .get("status")
        .is_none_or(|status| stored.get("status") == Some(status));
    fields && meta && status
}

/// Creates `desired`, or updates the stored object when the fields the controller owns
/// differ; stores nothing otherwise. Returns the revision of its last write, if it wrote.
/// `canonical`: `desired` is a typed object serialized as it is, so a create takes it as it is
/// (see [`WriteOptions::canonical_body`]); an update's body is `desired` merged onto the
/// stored object, whose added fields may sit out of their canonical order, so it is always
/// decoded.
pub async fn upsert(
    registry: &Registry,
    plural: &str,
    namespace: &str,
    desired: &Value,
    manager: &str,
    canonical: bool,
) -> Result<Option<Revision>, RegistryError> {
    let kind = kind(plural)?;
    let name = desired
        .at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let ns = if kind.namespaced { namespace } else { "" };
    match registry.get_raw(plural, ns, &name).await? {
        None => {
            authorized(registry, manager, "create", kind, "", namespace, "")?;
            let opts = WriteOptions {
                canonical_body: canonical,
                ..writer(manager)
            };
            match registry.create(kind, namespace, desired, &opts).await {
                Ok(applied) => Ok(revision_of(&applied.object)),
                // Someone else created it meanwhile: the next event reconciles it.
                Err(RegistryError::AlreadyExists { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        }
        Some(stored) => {
            let (body, status) = changes(kind, &stored.object, desired);
            let mut wrote = None;
            if let Some(body) = body {
                authorized(registry, manager, "update", kind, "", namespace, &name)?;
                let applied = registry
                    .update(kind, namespace, &name, &body, &writer(manager))
                    .await?;
                wrote = revision_of(&applied.object).or(Some(stored.revision));
            }
            if let Some(status) = status {
                authorized(
                    registry, manager, "update", kind, "status", namespace, &name,
                )?;
                let applied = registry
                    .patch_status(kind, namespace, &name, &writer(manager), move |cur| {
                        let mut next = cur.clone();
                        next["status"] = status.clone();
                        Ok(next)
                    })
                    .await?;
                wrote = revision_of(&applied.object)
                    .or(wrote)
                    .or(Some(stored.revision));
            }
            Ok(wrote)
        }
    }
}

/// Deletes an object if it exists.
pub async fn delete_if_present(
    registry: &Registry,
    manager: &str,
    plural: &str,
    namespace: &str,
    name: &str,
) -> Result<bool, RegistryError> {
    let kind = kind(plural)?;
    authorized(registry, manager, "delete", kind, "", namespace, name)?;
    match registry
        .delete(
            kind,
            namespace,
            name,
            &DeletePreconditions::default(),
            &WriteOptions::default(),
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(RegistryError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A core/v1 Event about `object` (a Service, a Deployment, …), named so that the same
/// reason and message about the same object is one Event whose count grows.
#[derive(Debug, Clone)]
pub struct EventRecord<'a> {
    pub object: &'a Value,
    pub type_: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
    pub component: &'a str,
}

/// Records an Event; `bump` increments the count of an existing identical Event, else an
/// existing one is left alone (a failure repeated by every resync is recorded once).
pub async fn record_event(
    registry: &Registry,
    record: EventRecord<'_>,
    bump: bool,
) -> Result<(), RegistryError> {
    use sha2::Digest;
    let namespace = str_at(record.object, "/metadata/namespace");
    let namespace = if namespace.is_empty() {
        "default"
    } else {
        namespace
    };
    let name = str_at(record.object, "/metadata/name");
    let uid = str_at(record.object, "/metadata/uid");
    let digest =
        sha2::Sha256::digest(format!("{uid}\n{}\n{}", record.reason, record.message).as_bytes());
    let event_name = format!("{name}.{}", &hex::encode(digest)[..16]);
    let now = serde_json::to_value(crate::registry::now()).unwrap_or(Value::Null);
    let events = kind("events")?;
    if let Some(stored) = registry.get_raw("events", namespace, &event_name).await? {
        if !bump {
            return Ok(());
        }
        let count = stored
            .object
            .get("count")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            + 1;
        let mut body = stored.object.clone();
        body["count"] = json!(count);
        body["lastTimestamp"] = now;
        authorized(
            registry,
            record.component,
            "update",
            events,
            "",
            namespace,
            &event_name,
        )?;
        registry
            .update(
                events,
                namespace,
                &event_name,
                &body,
                &writer(record.component),
            )
            .await?;
        return Ok(());
    }
    let body = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": event_name, "namespace": namespace},
        "involvedObject": {
            "apiVersion": str_at(record.object, "/apiVersion"),
            "kind": str_at(record.object, "/kind"),
            "name": name,
            "namespace": namespace,
            "uid": uid,
            "resourceVersion": str_at(record.object, "/metadata/resourceVersion"),
        },
        "reason": record.reason,
        "message": record.message,
        "type": record.type_,
        "source": {"component": record.component},
        "reportingComponent": record.component,
        "reportingInstance": "",
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
    });
    authorized(
        registry,
        record.component,
        "create",
        events,
        "",
        namespace,
        "",
    )?;
    match registry
        .create(events, namespace, &body, &writer(record.component))
        .await
    {
        Ok(_) | Err(RegistryError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Labels of an object as a map.
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    service_plan::traffic::string_map(object.at("/metadata/labels"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `is_current` answers as building the overlay with `changes` does.
    #[test]
    fn is_current_agrees_with_changes() {
        let stored = json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "web", "uid": "u", "resourceVersion": "7",
                         "labels": {"app": "web"}, "managedFields": []},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}],
        });
        let desired = json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}]}],
        });
        let mut other_subsets = desired.clone();
        other_subsets["subsets"] = json!([]);
        let mut fewer_fields = desired.clone();
        fewer_fields
            .as_object_mut()
            .expect("object")
            .remove("subsets");
        let mut null_labels = desired.clone();
        null_labels["metadata"]["labels"] = Value::Null;
        let mut annotated = desired.clone();
        annotated["metadata"]["annotations"] = json!({"a": "b"});
        let mut new_status = desired.clone();
        new_status["status"] = json!({"ready": true});
        let cases = [
            (&desired, true),
            (&other_subsets, false),
            (&fewer_fields, false),
            (&null_labels, false),
            (&annotated, false),
            (&new_status, false),
        ];
        for plural in ["endpoints", "services"] {
            let kind = kind(plural).expect("served");
            for (desired, expected) in cases {
                let (body, status) = changes(kind, &stored, desired);
                let by_overlay = body.is_none() && status.is_none();
                assert_eq!(by_overlay, expected, "{plural}: {desired}");
                assert_eq!(
                    is_current(plural, &stored, desired).expect("served"),
                    expected,
                    "{plural}: {desired}"
                );
            }
        }
    }
}
