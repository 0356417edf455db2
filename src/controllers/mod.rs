//! Controllers, as in Kubernetes: each follows registry watch events (resuming from the last
//! revision it saw, re-listing when the log was compacted past it), recomputes the desired
//! state with `service-plan`, and writes back through the registry only what differs.

pub mod demo;
pub mod endpoints;
pub mod load_balancer;
pub mod workloads;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use futures::FutureExt;
use futures::stream::{self, StreamExt};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::AppState;
pub use crate::registry::str_at;
use crate::registry::{
    DeletePreconditions, Kind, Registry, RegistryError, WriteOptions, kind_by_plural,
};
use crate::store::{Event, Revision, StoreError};

/// How long a controller waits before watching again after a storage failure.
const RETRY_AFTER_FAILURE_MS: u64 = 500;

/// What a controller is asked to do.
pub enum Sync<'a> {
    /// Everything: at start-up and after the watch expired.
    All,
    /// The objects these events touched.
    Events(&'a [Event]),
}

/// A controller: the resources it follows and how it reconciles.
pub trait Controller: Send + 'static {
    /// Its name, for logs.
    const NAME: &'static str;
    /// The resources whose events it follows.
    const RESOURCES: &'static [&'static str];
    /// Reconciles what `sync` names; errors are logged and retried on the next event.
    fn sync(
        &mut self,
        registry: &Registry,
        sync: Sync<'_>,
    ) -> impl Future<Output = Result<(), RegistryError>> + Send;
}

/// The running controllers; dropping it stops them.
pub struct Controllers {
    tasks: Vec<JoinHandle<()>>,
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

/// Seeds the demo cluster (when asked and the cluster has no nodes) and starts the
/// workloads, endpoints and load-balancer controllers.
pub async fn start_controllers(
    state: &AppState,
    opts: ControllerOptions,
) -> Result<Controllers, RegistryError> {
    let registry = state.registry.clone();
    if opts.demo {
        demo::seed(&registry).await?;
    }
    let tasks = vec![
        tokio::spawn(drive(registry.clone(), workloads::Workloads)),
        tokio::spawn(drive(registry.clone(), endpoints::EndpointsController)),
        tokio::spawn(drive(registry, load_balancer::LoadBalancerController)),
    ];
    Ok(Controllers { tasks })
}

/// Runs one controller for ever: full sync, then events in batches.
async fn drive<C: Controller>(registry: Registry, mut controller: C) {
    loop {
        let from = registry.store().current_revision();
        if let Err(e) = controller.sync(&registry, Sync::All).await {
            tracing::warn!(controller = C::NAME, error = %e, "full sync failed");
        }
        follow(&registry, &mut controller, from).await;
        tokio::time::sleep(Duration::from_millis(RETRY_AFTER_FAILURE_MS)).await;
    }
}

/// Follows the watch from `from` until it expires or fails; returns to re-list.
async fn follow<C: Controller>(registry: &Registry, controller: &mut C, mut last: Revision) {
    loop {
        let mut streams = Vec::new();
        for resource in C::RESOURCES {
            match registry.watch(resource, last).await {
                Ok(s) => streams.push(s.boxed()),
                Err(e) => {
                    tracing::warn!(controller = C::NAME, error = %e, "watch failed");
                    return;
                }
            }
        }
        let mut events = stream::select_all(streams);
        loop {
            let Some(first) = events.next().await else {
                break;
            };
            let mut batch = Vec::new();
            let mut failed = false;
            for item in std::iter::once(first).chain(std::iter::from_fn(|| {
                events.next().now_or_never().flatten()
            })) {
                match item {
                    Ok(event) => batch.push(event),
                    Err(StoreError::Expired { .. }) => failed = true,
                    Err(e) => {
                        tracing::warn!(controller = C::NAME, error = %e, "watch stream failed");
                        failed = true;
                    }
                }
            }
            last = batch
                .iter()
                .map(|e| e.revision)
                .max()
                .unwrap_or(last)
                .max(last);
            if !batch.is_empty()
                && let Err(e) = controller.sync(registry, Sync::Events(&batch)).await
            {
                // A failed sync may have lost work no later event brings back: re-list.
                tracing::warn!(controller = C::NAME, error = %e, "sync failed");
                return;
            }
            if failed {
                return;
            }
        }
    }
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
            match desired.pointer(&format!("/metadata/{key}")) {
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

/// Creates `desired`, or updates the stored object when the fields the controller owns
/// differ; stores nothing otherwise. Returns whether it wrote.
pub async fn upsert(
    registry: &Registry,
    plural: &str,
    namespace: &str,
    desired: &Value,
    manager: &str,
) -> Result<bool, RegistryError> {
    let kind = kind(plural)?;
    let name = desired
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let ns = if kind.namespaced { namespace } else { "" };
    match registry.get_raw(plural, ns, &name).await? {
        None => match registry
            .create(kind, namespace, desired, &writer(manager))
            .await
        {
            Ok(_) => Ok(true),
            // Someone else created it meanwhile: the next event reconciles it.
            Err(RegistryError::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(e),
        },
        Some(stored) => {
            let has_status = kind.subresources.contains(&"status");
            let mut body = overlay(&stored.object, desired);
            let status = desired
                .get("status")
                .filter(|s| stored.object.get("status") != Some(*s))
                .cloned();
            if !has_status && let Some(status) = &status {
                body["status"] = status.clone();
            }
            let mut wrote = false;
            if body != stored.object {
                registry
                    .update(kind, namespace, &name, &body, &writer(manager))
                    .await?;
                wrote = true;
            }
            if has_status && let Some(status) = status {
                registry
                    .patch_status(kind, namespace, &name, &writer(manager), move |cur| {
                        let mut next = cur.clone();
                        next["status"] = status.clone();
                        Ok(next)
                    })
                    .await?;
                wrote = true;
            }
            Ok(wrote)
        }
    }
}

/// Deletes an object if it exists.
pub async fn delete_if_present(
    registry: &Registry,
    plural: &str,
    namespace: &str,
    name: &str,
) -> Result<bool, RegistryError> {
    let kind = kind(plural)?;
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

/// Namespaces and names touched by a batch of events of `resource`.
pub fn touched<'a>(events: &'a [Event], resource: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
    events.iter().filter(move |e| e.key.kind == resource)
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
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}
