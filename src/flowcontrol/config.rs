//! The configuration side of API Priority and Fairness, as each kube-apiserver v1.32 runs it:
//! - the producer (`priority-and-fairness-config-producer` post-start hook,
//!   pkg/registry/flowcontrol/rest/storage_flowcontrol.go and ensurer/strategy.go) creates the
//!   bootstrap objects that are missing, puts back the spec of mandatory objects and of
//!   suggested ones still marked `apf.kubernetes.io/autoupdate-spec: "true"`, and deletes
//!   auto-updated objects that are no longer in the bootstrap configuration; at start-up, then
//!   every minute, and at once when a bootstrap object is deleted or changed;
//! - the consumer (staging/src/k8s.io/apiserver/pkg/util/flowcontrol/apf_controller.go)
//!   follows the stored objects, replaces the classifier's snapshot on every change, and
//!   writes each FlowSchema's `Dangling` condition (whether its priority level exists).
//!
//! The objects live in memory here (a few dozen), filled by one list and then the store's
//! watch; a request never reads storage to be classified.

use service_plan::json::Pointer as _;
use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use service_plan::field::go_quote;
use service_plan::flowcontrol::AUTO_UPDATE_ANNOTATION;
use service_plan::flowcontrol::bootstrap::{
    self, BootstrapObject, FLOW_SCHEMAS, PRIORITY_LEVELS, revise_if_needed,
};
use service_plan::flowcontrol::classify::Classifier;
use tokio::task::JoinHandle;

use crate::AppState;
use crate::registry::{
    DeletePreconditions, Event, EventType, Kind, ListOptions, Registry, RegistryError, Revision,
    StoreError, WriteOptions, kind_by_plural,
};

/// The field manager of the producer's writes.
pub const PRODUCER: &str = "api-priority-and-fairness-config-producer-v1";
/// The field manager of the consumer's status writes.
pub const CONSUMER: &str = "api-priority-and-fairness-config-consumer-v1";
/// How often the producer ensures the whole bootstrap configuration again.
const ENSURE_PERIOD: Duration = Duration::from_secs(60);
/// How long the consumer waits before listing again after a failed watch.
const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(500);
/// `flowcontrol.FlowSchemaConditionDangling`.
const DANGLING: &str = "Dangling";

fn options(manager: &str) -> WriteOptions {
    WriteOptions {
        field_manager: Some(manager.to_string()),
        ..Default::default()
    }
}

fn kind(resource: &str) -> Result<&'static Kind, RegistryError> {
    kind_by_plural(resource)
        .ok_or_else(|| RegistryError::Internal(format!("resource {resource} is not served")))
}

/// Ensures the bootstrap configuration, publishes the first snapshot, and follows the store
/// from then on (until the process ends).
pub async fn start(state: &AppState) -> Result<JoinHandle<()>, RegistryError> {
    ensure_all(&state.registry).await?;
    let config = Config::list(&state.registry)?;
    config.publish(state).await;
    Ok(tokio::spawn(run(state.clone(), config)))
}

/// The producer's pass: suggested objects, then mandatory ones (priority levels before the
/// FlowSchemas that name them), then the removal of dangling auto-updated objects.
pub async fn ensure_all(registry: &Registry) -> Result<(), RegistryError> {
    let (levels, schemas) = (bootstrap::priority_levels(), bootstrap::flow_schemas());
    let suggested = levels.iter().chain(&schemas).filter(|o| !o.mandatory);
    let mandatory = levels.iter().chain(&schemas).filter(|o| o.mandatory);
    for object in suggested.chain(mandatory) {
        let current = registry.get_raw(object.resource, "", object.name).await?;
        ensure_one(
            registry,
            object,
            current.map(|s| with_revision(s.object, s.revision)),
        )
        .await?;
    }
    remove_unwanted(registry).await
}

fn with_revision(mut object: Value, revision: Revision) -> Value {
    object["metadata"]["resourceVersion"] = Value::String(revision.to_string());
    object
}

/// `ensureConfiguration`: creates a missing object, revises one that should be; losing a race
/// to another writer is left to the next pass.
async fn ensure_one(
    registry: &Registry,
    object: &BootstrapObject,
    current: Option<Value>,
) -> Result<(), RegistryError> {
    let kind = kind(object.resource)?;
    let written = match current {
        None => registry
            .create(kind, "", &object.object(), &options(PRODUCER))
            .await
            .map(|_| {
                tracing::info!(
                    resource = object.resource,
                    name = object.name,
                    "created the bootstrap object"
                )
            }),
        Some(current) => match revise_if_needed(&current, object) {
            None => return Ok(()),
            Some(revised) => registry
                .update(kind, "", object.name, &revised, &options(PRODUCER))
                .await
                .map(|_| {
                    tracing::info!(
                        resource = object.resource,
                        name = object.name,
                        "revised the bootstrap object"
                    )
                }),
        },
    };
    match written {
        Ok(())
        | Err(RegistryError::AlreadyExists { .. })
        | Err(RegistryError::Conflict { .. })
        | Err(RegistryError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `removeDanglingBootstrapConfiguration`: an object marked for auto-update whose name the
/// bootstrap configuration no longer has is deleted (at the version read).
async fn remove_unwanted(registry: &Registry) -> Result<(), RegistryError> {
    for resource in [FLOW_SCHEMAS, PRIORITY_LEVELS] {
        let page = registry
            .list(resource, None, &ListOptions::default())
            .await?;
        for item in page.items {
            let name = item
                .at("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let auto_update = item
                .at("/metadata/annotations")
                .and_then(|a| a.get(AUTO_UPDATE_ANNOTATION))
                .and_then(Value::as_str)
                .and_then(service_plan::format::parse_go_bool)
                == Some(true);
            if !auto_update || bootstrap::find(resource, name).is_some() {
                continue;
            }
            let preconditions = DeletePreconditions {
                resource_version: item
                    .at("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                ..Default::default()
            };
            match registry
                .delete(
                    kind(resource)?,
                    "",
                    name,
                    &preconditions,
                    &options(PRODUCER),
                )
                .await
            {
                Ok(_) => tracing::info!(
                    resource,
                    name,
                    "deleted an auto-updated object no longer in the bootstrap configuration"
                ),
                Err(RegistryError::NotFound { .. }) | Err(RegistryError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// The stored FlowSchemas and priority levels, by name, as of `revision`.
struct Config {
    flow_schemas: BTreeMap<String, Value>,
    levels: BTreeMap<String, Value>,
    revision: Revision,
}

impl Config {
    fn list(registry: &Registry) -> Result<Config, RegistryError> {
        let mut revision = Revision::MAX;
        let mut read = |resource: &str| -> Result<BTreeMap<String, Value>, RegistryError> {
            let page = registry.list_read(resource, None, &ListOptions::default())?;
            // Watching from the older of the two lists replays what the newer already has,
            // which changes nothing.
            revision = revision.min(page.revision);
            page.items
                .into_iter()
                .map(|item| {
                    let object = item.into_value()?;
                    let name = object["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    Ok((name, object))
                })
                .collect()
        };
        let flow_schemas = read(FLOW_SCHEMAS)?;
        let levels = read(PRIORITY_LEVELS)?;
        Ok(Config {
            flow_schemas,
            levels,
            revision,
        })
    }

    /// Applies a watch event; the bootstrap object its object is, if it is of ours.
    fn apply(&mut self, registry: &Registry, event: Event) -> Result<Option<Value>, RegistryError> {
        self.revision = event.revision;
        let map = match event.key.kind.as_str() {
            FLOW_SCHEMAS => &mut self.flow_schemas,
            PRIORITY_LEVELS => &mut self.levels,
            _ => return Ok(None),
        };
        let object = registry.read(&event.key.kind, event.object)?.into_value()?;
        let name = event.key.name.clone();
        match event.event_type {
            EventType::Deleted => {
                map.remove(&name);
            }
            EventType::Added | EventType::Modified => {
                map.insert(name, object.clone());
            }
        }
        Ok(Some(object))
    }

    fn classifier(&self) -> Classifier {
        let schemas: Vec<Value> = self.flow_schemas.values().cloned().collect();
        let levels: Vec<Value> = self.levels.values().cloned().collect();
        Classifier::new(&schemas, &levels)
    }

    /// Replaces the snapshot requests are classified by, then brings the FlowSchemas'
    /// `Dangling` conditions up to date.
    async fn publish(&self, state: &AppState) {
        let classifier = self.classifier();
        for fs in self.flow_schemas.values() {
            let level = fs
                .at("/spec/priorityLevelConfiguration/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Err(e) =
                sync_dangling(&state.registry, fs, !classifier.has_priority_level(level)).await
            {
                tracing::warn!(error = %e, "writing a FlowSchema's status");
            }
        }
        state.flowcontrol.replace(classifier);
    }
}

/// `presyncFlowSchemaStatus`: the `Dangling` condition a FlowSchema should carry, written when
/// it differs from the one it has.
async fn sync_dangling(
    registry: &Registry,
    fs: &Value,
    dangling: bool,
) -> Result<(), RegistryError> {
    let level = fs
        .at("/spec/priorityLevelConfiguration/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (status, reason, message) = if dangling {
        (
            "True",
            "NotFound",
            format!(
                "This FlowSchema references the PriorityLevelConfiguration object named {} but there is no such object",
                go_quote(level)
            ),
        )
    } else {
        (
            "False",
            "Found",
            format!(
                "This FlowSchema references the PriorityLevelConfiguration object named {} and it exists",
                go_quote(level)
            ),
        )
    };
    let conditions = fs
        .at("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let current = conditions.iter().find(|c| c["type"] == DANGLING);
    if current.is_some_and(|c| {
        c["status"] == status && c["reason"] == reason && c["message"] == message.as_str()
    }) {
        return Ok(());
    }
    let condition = json!({
        "type": DANGLING,
        "status": status,
        "lastTransitionTime": service_plan::k8s_openapi::jiff::Timestamp::now().round(service_plan::k8s_openapi::jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default(),
        "reason": reason,
        "message": message,
    });
    let name = fs
        .at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let written = registry
        .patch_status(
            kind(FLOW_SCHEMAS)?,
            "",
            name,
            &options(CONSUMER),
            |stored| {
                let mut object = stored.clone();
                let mut kept: Vec<Value> = object
                    .at("/status/conditions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| c["type"] != DANGLING)
                    .collect();
                kept.push(condition.clone());
                object["status"] = json!({"conditions": kept});
                Ok(object)
            },
        )
        .await;
    match written {
        Ok(_) | Err(RegistryError::NotFound { .. }) | Err(RegistryError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Follows the store: every change to a FlowSchema or priority level replaces the snapshot,
/// and a bootstrap object deleted or changed is ensured again at once.
async fn run(state: AppState, mut config: Config) {
    let mut tick = tokio::time::interval(ENSURE_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        follow(&state, &mut config, &mut tick).await;
        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
        match Config::list(&state.registry) {
            Ok(listed) => {
                config = listed;
                config.publish(&state).await;
            }
            Err(e) => tracing::warn!(error = %e, "flowcontrol: list failed"),
        }
    }
}

/// Watches from the config's revision until the watch ends or fails.
async fn follow(state: &AppState, config: &mut Config, tick: &mut tokio::time::Interval) {
    let registry = &state.registry;
    let mut events = match registry.watch_all(config.revision).await {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(error = %e, "flowcontrol: watch failed");
            return;
        }
    };
    loop {
        tokio::select! {
            item = events.next() => match item {
                Some(Ok(event)) => {
                    let (resource, name, deleted) = (
                        event.key.kind.clone(),
                        event.key.name.clone(),
                        event.event_type == EventType::Deleted,
                    );
                    let object = match config.apply(registry, event) {
                        Ok(Some(object)) => object,
                        Ok(None) => continue,
                        Err(e) => {
                            tracing::warn!(error = %e, "flowcontrol: an event does not decode");
                            return;
                        }
                    };
                    config.publish(state).await;
                    if let Some(wanted) = bootstrap::find(&resource, &name) {
                        let current = (!deleted).then_some(object);
                        if let Err(e) = ensure_one(registry, &wanted, current).await {
                            tracing::warn!(error = %e, "flowcontrol: ensuring a bootstrap object");
                        }
                    }
                }
                Some(Err(StoreError::Expired { .. })) | None => return,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "flowcontrol: watch stream failed");
                    return;
                }
            },
            _ = tick.tick() => {
                if let Err(e) = ensure_all(registry).await {
                    tracing::warn!(error = %e, "flowcontrol: ensuring the bootstrap configuration");
                }
            }
        }
    }
}
