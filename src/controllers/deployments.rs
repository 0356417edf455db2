//! The deployment controller, as kube-controller-manager's (pkg/controller/deployment): each
//! Deployment owns ReplicaSets named `<deployment>-<pod-template-hash>`, one per template it
//! has had; a rollout scales the new one up and the old ones down (RollingUpdate within
//! maxSurge/maxUnavailable, or Recreate), one step per sync, and the Deployment's status and
//! revision annotation follow. The rules come from `service_plan::workload::rollout`.

use service_plan::json::Pointer as _;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value, json};
use service_plan::workload::defaults::STRATEGY_RECREATE;
use service_plan::workload::rollout::{
    self, ANNOTATION_DESIRED_REPLICAS, ANNOTATION_MAX_REPLICAS, ANNOTATION_REVISION,
    CONDITION_PROGRESSING, LABEL_TEMPLATE_HASH, REASON_FOUND_NEW_RS, REASON_NEW_RS_CREATED,
    REASON_PAUSED, REASON_RESUMED, REASON_TIMED_OUT, int_at, spec_replicas,
};

use super::informer::{
    Informers, Key, Notification, ORPHANS, PODS_BY_OWNER, REPLICA_SETS_BY_OWNER, controlled_by,
    owner_value,
};
use super::{EventRecord, Reconciler, delete_if_present, record_event, str_at, writer};
use crate::registry::{REPLICA_SETS, Registry, RegistryError};

/// The field manager (and ServiceAccount) of the controller's writes.
pub const MANAGER: &str = "deployment-controller";
/// The kind that controls ReplicaSets.
const KIND: &str = "Deployment";

/// The running deployment controller: reconciles one Deployment key at a time.
pub struct DeploymentReconciler {
    registry: Registry,
    informers: Arc<Informers>,
    /// Rollouts in progress: when to check them against their progress deadline.
    deadlines: Mutex<HashMap<Key, Duration>>,
}

impl DeploymentReconciler {
    /// A reconciler reading `informers`.
    pub fn new(registry: Registry, informers: Arc<Informers>) -> DeploymentReconciler {
        DeploymentReconciler {
            registry,
            informers,
            deadlines: Mutex::default(),
        }
    }

    /// Every Deployment, and every Deployment named as the controller of a ReplicaSet or of a
    /// Pod (what is left of one that is gone).
    fn all_keys(&self) -> Vec<Key> {
        let mut keys: BTreeSet<Key> = self.informers.deployments.keys().into_iter().collect();
        for informer in [&self.informers.replica_sets, &self.informers.pods] {
            keys.extend(
                informer
                    .list()
                    .iter()
                    .filter_map(|o| controlled_by(o, KIND)),
            );
        }
        keys.into_iter().collect()
    }
}

impl Reconciler for DeploymentReconciler {
    type Key = Key;
    const NAME: &'static str = "deployments";
    const RESOURCES: &'static [&'static str] = &["deployments", "replicasets"];
    const WORKERS: usize = 1;

    fn keys_for(&self, resource: &str, notification: &Notification) -> Vec<Key> {
        if let Notification::Resynced = notification {
            return if resource == "deployments" {
                self.all_keys()
            } else {
                Vec::new()
            };
        }
        let keys: BTreeSet<Key> = match resource {
            "deployments" => notification.objects().map(|d| Key::of(d)).collect(),
            // A ReplicaSet's change concerns only the Deployment controlling it.
            "replicasets" => notification
                .objects()
                .filter_map(|rs| controlled_by(rs, KIND))
                .collect(),
            _ => BTreeSet::new(),
        };
        keys.into_iter().collect()
    }

    async fn reconcile(&self, key: &Key) -> Result<(), RegistryError> {
        let mut sync = DeploymentSync {
            registry: &self.registry,
            informers: &self.informers,
            now: serde_json::to_value(crate::registry::now()).unwrap_or(Value::Null),
            wrote: false,
            requeue_after: None,
        };
        let result = sync.run(key).await;
        {
            let mut deadlines = self
                .deadlines
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match sync.requeue_after {
                Some(after) => deadlines.insert(key.clone(), after),
                None => deadlines.remove(key),
            };
        }
        // The next sync reads the caches: they must show this one's writes.
        if sync.wrote {
            self.informers
                .catch_up(&self.registry, self.registry.current_revision())
                .await?;
        }
        result
    }

    fn requeue_after(&self, key: &Key) -> Option<Duration> {
        self.deadlines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
    }
}

/// One Deployment's sync: the caches it reads and whether it wrote.
struct DeploymentSync<'a> {
    registry: &'a Registry,
    informers: &'a Informers,
    now: Value,
    wrote: bool,
    /// `requeueStuckDeployment`'s delay, for a rollout still in progress.
    requeue_after: Option<Duration>,
}

fn name_of(object: &Value) -> &str {
    str_at(object, "/metadata/name")
}

fn uid_of(object: &Value) -> &str {
    str_at(object, "/metadata/uid")
}

fn controller_uid(object: &Value) -> Option<&str> {
    object
        .at("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller") == Some(&Value::Bool(true)))?
        .get("uid")
        .and_then(Value::as_str)
}

fn creation(rs: &Value) -> (String, String) {
    (
        str_at(rs, "/metadata/creationTimestamp").to_string(),
        name_of(rs).to_string(),
    )
}

/// `FilterActiveReplicaSets`: the ReplicaSets that want pods.
fn active(rss: &[Value]) -> Vec<Value> {
    rss.iter()
        .filter(|rs| spec_replicas(rs) > 0)
        .cloned()
        .collect()
}

fn annotations_of(object: &Value) -> Map<String, Value> {
    object
        .at("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn set_annotations(object: &mut Value, annotations: Map<String, Value>) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
}

/// `SetDeploymentRevision`: whether the annotation changed.
fn set_deployment_revision(d: &mut Value, revision: &str) -> bool {
    let mut annotations = annotations_of(d);
    if annotations.get(ANNOTATION_REVISION).and_then(Value::as_str) == Some(revision) {
        return false;
    }
    annotations.insert(ANNOTATION_REVISION.into(), json!(revision));
    set_annotations(d, annotations);
    true
}

/// The labels of `labels` with the pod-template hash added.
fn with_hash(labels: Option<&Value>, hash: &str) -> Value {
    let mut labels = labels
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels.insert(LABEL_TEMPLATE_HASH.into(), json!(hash));
    Value::Object(labels)
}

impl DeploymentSync<'_> {
    async fn run(&mut self, key: &Key) -> Result<(), RegistryError> {
        let owner = owner_value(KIND, key);
        // Pods this server's earlier controller made for the Deployment itself: ReplicaSets
        // own the pods now (nothing upstream ever adopts a pod another controller owns).
        for pod in self.informers.pods.by_index(PODS_BY_OWNER, &owner) {
            self.delete("pods", &key.namespace, name_of(&pod)).await?;
        }
        let deployment = self.informers.deployments.get(key);
        let uid = deployment.as_deref().map(uid_of);
        let mut rs_list = Vec::new();
        for rs in self
            .informers
            .replica_sets
            .by_index(REPLICA_SETS_BY_OWNER, &owner)
        {
            // The garbage collector's part: a ReplicaSet whose Deployment is gone goes too.
            if controller_uid(&rs) != uid {
                self.delete("replicasets", &key.namespace, name_of(&rs))
                    .await?;
            } else {
                rs_list.push((*rs).clone());
            }
        }
        let Some(deployment) = deployment else {
            return Ok(());
        };
        // Being deleted: the garbage collector decides what becomes of its ReplicaSets
        // (upstream syncs only its status then).
        if deployment.at("/metadata/deletionTimestamp").is_some() {
            return Ok(());
        }
        // `ClaimReplicaSets`: orphans the selector matches are taken back.
        let adopted = super::adoption::adopt(
            self.registry,
            MANAGER,
            &self.informers.replica_sets,
            ORPHANS,
            &deployment,
            controller_ref(&deployment),
        )
        .await?;
        self.wrote |= !adopted.is_empty();
        rs_list.extend(adopted);
        rs_list.sort_by_key(creation);
        let mut d = (*deployment).clone();
        self.sync_deployment(&mut d, rs_list).await
    }

    /// `syncDeployment`: pause, scaling event, or a rollout step of the strategy.
    async fn sync_deployment(
        &mut self,
        d: &mut Value,
        rs_list: Vec<Value>,
    ) -> Result<(), RegistryError> {
        self.check_paused_conditions(d).await?;
        let paused = d.at("/spec/paused").and_then(Value::as_bool) == Some(true);
        if paused || is_scaling_event(d, &rs_list) {
            return self.sync(d, rs_list, paused).await;
        }
        if str_at(d, "/spec/strategy/type") == STRATEGY_RECREATE {
            self.rollout_recreate(d, rs_list).await
        } else {
            self.rollout_rolling(d, rs_list).await
        }
    }

    /// `checkPausedConditions`.
    async fn check_paused_conditions(&mut self, d: &mut Value) -> Result<(), RegistryError> {
        if !rollout::has_progress_deadline(d) {
            return Ok(());
        }
        let status = d.get("status").cloned().unwrap_or_else(|| json!({}));
        let reason = rollout::get_condition(&status, CONDITION_PROGRESSING)
            .map(|c| str_at(c, "/reason").to_string());
        if reason.as_deref() == Some(REASON_TIMED_OUT) {
            return Ok(());
        }
        let paused = d.at("/spec/paused").and_then(Value::as_bool) == Some(true);
        let paused_condition = reason.as_deref() == Some(REASON_PAUSED);
        let (reason, message) = match (paused, paused_condition) {
            (true, false) => (REASON_PAUSED, "Deployment is paused"),
            (false, true) => (REASON_RESUMED, "Deployment is resumed"),
            _ => return Ok(()),
        };
        let mut status = status;
        let c =
            rollout::new_condition(CONDITION_PROGRESSING, "Unknown", reason, message, &self.now);
        rollout::set_condition(&mut status, c);
        d["status"] = status;
        self.update_status(d).await
    }

    /// `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created when asked and
    /// missing) and the old ones, with the revisions brought up to date.
    async fn new_and_old(
        &mut self,
        d: &mut Value,
        rs_list: &[Value],
        create: bool,
    ) -> Result<(Option<Value>, Vec<Value>), RegistryError> {
        let template = d.at("/spec/template").cloned().unwrap_or(Value::Null);
        // FindNewReplicaSet: the oldest one with the Deployment's template.
        let found = rs_list.iter().position(|rs| {
            rollout::equal_ignore_hash(rs.at("/spec/template").unwrap_or(&Value::Null), &template)
        });
        let old: Vec<Value> = rs_list
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != found)
            .map(|(_, rs)| rs.clone())
            .collect();
        let new_revision = rollout::max_revision(&old) + 1;
        if let Some(i) = found {
            let mut rs = rs_list[i].clone();
            let mut annotations = annotations_of(&rs);
            let changed = rollout::set_new_rs_annotations(d, &mut annotations, new_revision, true);
            let min_ready = d.at("/spec/minReadySeconds").cloned();
            if changed || rs.at("/spec/minReadySeconds") != min_ready.as_ref() {
                rs = self
                    .update_replica_set(&rs, move |next| {
                        // Onto the stored annotations: a concurrent change to others stays.
                        let mut merged = annotations_of(next);
                        merged.extend(annotations.clone());
                        set_annotations(next, merged);
                        match &min_ready {
                            Some(m) => next["spec"]["minReadySeconds"] = m.clone(),
                            None => {
                                if let Some(spec) = next["spec"].as_object_mut() {
                                    spec.remove("minReadySeconds");
                                }
                            }
                        }
                    })
                    .await?;
                return Ok((Some(rs), old));
            }
            let revision = rollout::annotation(&rs, ANNOTATION_REVISION)
                .unwrap_or("")
                .to_string();
            let mut needs_update = set_deployment_revision(d, &revision);
            let mut status = d.get("status").cloned().unwrap_or_else(|| json!({}));
            if rollout::has_progress_deadline(d)
                && rollout::get_condition(&status, CONDITION_PROGRESSING).is_none()
            {
                let message = format!("Found new replica set {:?}", name_of(&rs));
                let c = rollout::new_condition(
                    CONDITION_PROGRESSING,
                    "True",
                    REASON_FOUND_NEW_RS,
                    &message,
                    &self.now,
                );
                rollout::set_condition(&mut status, c);
                d["status"] = status;
                needs_update = true;
            }
            if needs_update {
                self.update_status(d).await?;
            }
            return Ok((Some(rs), old));
        }
        if !create {
            return Ok((None, old));
        }
        let created = self
            .create_new_replica_set(d, &template, &old, new_revision)
            .await?;
        Ok((Some(created), old))
    }

    /// The create half of `getNewReplicaSet`.
    async fn create_new_replica_set(
        &mut self,
        d: &mut Value,
        template: &Value,
        old: &[Value],
        new_revision: i64,
    ) -> Result<Value, RegistryError> {
        let collision_count = d.at("/status/collisionCount").and_then(Value::as_i64);
        let hash = rollout::compute_hash(template, collision_count);
        let mut rs_template = template.clone();
        rs_template["metadata"]["labels"] = with_hash(template.at("/metadata/labels"), &hash);
        let mut selector = d.at("/spec/selector").cloned().unwrap_or(json!({}));
        selector["matchLabels"] = with_hash(selector.get("matchLabels"), &hash);
        let replicas = rollout::new_rs_new_replicas(d, rollout::spec_total(old), 0);
        let mut annotations = Map::new();
        rollout::set_new_rs_annotations(d, &mut annotations, new_revision, false);
        let namespace = str_at(d, "/metadata/namespace").to_string();
        let name = format!("{}-{hash}", name_of(d));
        let mut spec = json!({"replicas": replicas, "selector": selector, "template": rs_template});
        if let Some(min_ready) = d.at("/spec/minReadySeconds") {
            spec["minReadySeconds"] = min_ready.clone();
        }
        let body = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": rs_template["metadata"]["labels"],
                "annotations": annotations,
                "ownerReferences": [controller_ref(d)],
            },
            "spec": spec,
        });
        let kind = super::kind(REPLICA_SETS.plural)?;
        super::authorized(self.registry, MANAGER, "create", kind, "", &namespace, "")?;
        let (created, already_exists) = match self
            .registry
            .create(kind, &namespace, &body, &writer(MANAGER))
            .await
        {
            Ok(applied) => {
                self.wrote = true;
                (applied.object, false)
            }
            Err(RegistryError::AlreadyExists { .. }) => {
                let existing = self
                    .registry
                    .get_raw(REPLICA_SETS.plural, &namespace, &name)
                    .await?
                    .map(|s| s.object);
                match existing {
                    Some(rs)
                        if controller_uid(&rs) == Some(uid_of(d))
                            && rollout::equal_ignore_hash(
                                rs.at("/spec/template").unwrap_or(&Value::Null),
                                template,
                            ) =>
                    {
                        (rs, true)
                    }
                    _ => {
                        // A hash collision: the next sync hashes with a higher count.
                        d["status"]["collisionCount"] = json!(collision_count.unwrap_or(0) + 1);
                        self.update_status(d).await?;
                        return Err(RegistryError::AlreadyExists {
                            resource: REPLICA_SETS,
                            name,
                        });
                    }
                }
            }
            Err(e) => return Err(e),
        };
        if !already_exists && replicas > 0 {
            let message = format!("Scaled up replica set {name} to {replicas}");
            self.event(d, &message).await?;
        }
        let mut needs_update = set_deployment_revision(d, &new_revision.to_string());
        if !already_exists && rollout::has_progress_deadline(d) {
            let mut status = d.get("status").cloned().unwrap_or_else(|| json!({}));
            let message = format!("Created new replica set {name:?}");
            let c = rollout::new_condition(
                CONDITION_PROGRESSING,
                "True",
                REASON_NEW_RS_CREATED,
                &message,
                &self.now,
            );
            rollout::set_condition(&mut status, c);
            d["status"] = status;
            needs_update = true;
        }
        if needs_update {
            self.update_status(d).await?;
        }
        Ok(created)
    }

    /// `rolloutRolling`: grow the new ReplicaSet, or else shrink the old ones, one step.
    async fn rollout_rolling(
        &mut self,
        d: &mut Value,
        rs_list: Vec<Value>,
    ) -> Result<(), RegistryError> {
        let (new, old) = self.new_and_old(d, &rs_list, true).await?;
        let Some(mut new) = new else {
            return Ok(());
        };
        // reconcileNewReplicaSet.
        let mut all: Vec<Value> = old.iter().cloned().chain([new.clone()]).collect();
        let (desired, current) = (spec_replicas(d), spec_replicas(&new));
        if current != desired {
            let target = if current > desired {
                desired
            } else {
                rollout::new_rs_new_replicas(d, rollout::spec_total(&all), current)
            };
            let (scaled, updated) = self.scale_replica_set(&new, target, d).await?;
            new = updated;
            if scaled {
                let all: Vec<Value> = old.into_iter().chain([new.clone()]).collect();
                return self.sync_rollout_status(d, &all, Some(&new)).await;
            }
        }
        // reconcileOldReplicaSets.
        all = old.iter().cloned().chain([new.clone()]).collect();
        let (old, scaled_down) = self.reconcile_old_replica_sets(d, &all, old, &new).await?;
        let all: Vec<Value> = old.iter().cloned().chain([new.clone()]).collect();
        if scaled_down {
            return self.sync_rollout_status(d, &all, Some(&new)).await;
        }
        let status = d.get("status").cloned().unwrap_or(Value::Null);
        if rollout::deployment_complete(d, &status) {
            self.cleanup(d, &old).await?;
        }
        self.sync_rollout_status(d, &all, Some(&new)).await
    }

    /// `reconcileOldReplicaSets`: scale the old ReplicaSets down as far as `maxUnavailable`
    /// allows, unhealthy replicas first. Returns the old ReplicaSets as they now are.
    async fn reconcile_old_replica_sets(
        &mut self,
        d: &Value,
        all: &[Value],
        mut old: Vec<Value>,
        new: &Value,
    ) -> Result<(Vec<Value>, bool), RegistryError> {
        if rollout::spec_total(&old) == 0 {
            return Ok((old, false));
        }
        let min_available = spec_replicas(d) - rollout::max_unavailable(d);
        let new_unavailable = spec_replicas(new) - int_at(new, "/status/availableReplicas");
        let max_scaled_down = rollout::spec_total(all) - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok((old, false));
        }
        old.sort_by_key(creation);
        // cleanupUnhealthyReplicas.
        let mut cleaned = 0;
        for rs in old.iter_mut() {
            if cleaned >= max_scaled_down {
                break;
            }
            let replicas = spec_replicas(rs);
            let unhealthy = replicas - int_at(rs, "/status/availableReplicas");
            if replicas == 0 || unhealthy <= 0 {
                continue;
            }
            let down = (max_scaled_down - cleaned).min(unhealthy);
            let (_, updated) = self.scale_replica_set(rs, replicas - down, d).await?;
            *rs = updated;
            cleaned += down;
        }
        // scaleDownOldReplicaSetsForRollingUpdate.
        let all: Vec<Value> = old.iter().cloned().chain([new.clone()]).collect();
        let available = rollout::status_total(&all, "availableReplicas");
        let mut scaled = 0;
        if available > min_available {
            let to_scale = available - min_available;
            for rs in old.iter_mut() {
                if scaled >= to_scale {
                    break;
                }
                let replicas = spec_replicas(rs);
                if replicas == 0 {
                    continue;
                }
                let down = replicas.min(to_scale - scaled);
                let (_, updated) = self.scale_replica_set(rs, replicas - down, d).await?;
                *rs = updated;
                scaled += down;
            }
        }
        Ok((old, cleaned + scaled > 0))
    }

    /// `rolloutRecreate`: every old pod goes before the new ReplicaSet gets any.
    async fn rollout_recreate(
        &mut self,
        d: &mut Value,
        rs_list: Vec<Value>,
    ) -> Result<(), RegistryError> {
        let (mut new, mut old) = self.new_and_old(d, &rs_list, false).await?;
        let mut scaled_down = false;
        for rs in old.iter_mut().filter(|rs| spec_replicas(rs) > 0) {
            let (scaled, updated) = self.scale_replica_set(rs, 0, d).await?;
            *rs = updated;
            scaled_down |= scaled;
        }
        let all: Vec<Value> = old.iter().cloned().chain(new.clone()).collect();
        if scaled_down || self.old_pods_running(&old) {
            return self.sync_rollout_status(d, &all, new.as_ref()).await;
        }
        if new.is_none() {
            (new, old) = self.new_and_old(d, &rs_list, true).await?;
        }
        let Some(mut new) = new else {
            return Ok(());
        };
        let (_, updated) = self.scale_replica_set(&new, spec_replicas(d), d).await?;
        new = updated;
        let status = d.get("status").cloned().unwrap_or(Value::Null);
        if rollout::deployment_complete(d, &status) {
            self.cleanup(d, &old).await?;
        }
        let all: Vec<Value> = old.iter().cloned().chain([new.clone()]).collect();
        self.sync_rollout_status(d, &all, Some(&new)).await
    }

    /// `oldPodsRunning`: whether an old ReplicaSet still has pods.
    fn old_pods_running(&self, old: &[Value]) -> bool {
        old.iter().any(|rs| {
            int_at(rs, "/status/replicas") > 0
                || self
                    .informers
                    .pods
                    .index_len(PODS_BY_OWNER, &owner_value("ReplicaSet", &Key::of(rs)))
                    > 0
        })
    }

    /// `sync`: a scaling event or a paused Deployment — sizes change, templates do not.
    async fn sync(
        &mut self,
        d: &mut Value,
        rs_list: Vec<Value>,
        paused: bool,
    ) -> Result<(), RegistryError> {
        let (new, old) = self.new_and_old(d, &rs_list, false).await?;
        let (new, old) = self.scale(d, new, old).await?;
        if paused {
            self.cleanup(d, &old).await?;
        }
        let all: Vec<Value> = old.iter().cloned().chain(new.clone()).collect();
        let status =
            rollout::calculate_status(d, &all.iter().collect::<Vec<_>>(), new.as_ref(), &self.now);
        self.write_status_if_changed(d, status).await
    }

    /// `scale`: the one active (or newest) ReplicaSet takes the new size; else old ones go
    /// when the new one is saturated; else a rolling Deployment scales all proportionally.
    async fn scale(
        &mut self,
        d: &Value,
        new: Option<Value>,
        mut old: Vec<Value>,
    ) -> Result<(Option<Value>, Vec<Value>), RegistryError> {
        let replicas = spec_replicas(d);
        // FindActiveOrLatest.
        old.sort_by_key(|rs| std::cmp::Reverse(creation(rs)));
        let all: Vec<Value> = new.iter().cloned().chain(old.iter().cloned()).collect();
        let all_active = active(&all);
        let active_or_latest = match all_active.len() {
            0 => new.clone().or_else(|| old.first().cloned()),
            1 => all_active.first().cloned(),
            _ => None,
        };
        if let Some(rs) = active_or_latest {
            if spec_replicas(&rs) != replicas {
                let (_, updated) = self.scale_replica_set(&rs, replicas, d).await?;
                return Ok(replace(new, old, updated));
            }
            return Ok((new, old));
        }
        // IsSaturated.
        if let Some(n) = &new
            && spec_replicas(n) == replicas
            && rollout::annotation(n, ANNOTATION_DESIRED_REPLICAS) == Some(&replicas.to_string())
            && int_at(n, "/status/availableReplicas") == replicas
        {
            for rs in old.iter_mut().filter(|rs| spec_replicas(rs) > 0) {
                let (_, updated) = self.scale_replica_set(rs, 0, d).await?;
                *rs = updated;
            }
            return Ok((new, old));
        }
        if !rollout::is_rolling_update(d) {
            return Ok((new, old));
        }
        // Proportional scaling of every active ReplicaSet.
        let allowed = if replicas > 0 {
            replicas + rollout::max_surge(d)
        } else {
            0
        };
        let to_add = allowed - rollout::spec_total(&all_active);
        let mut sorted = all_active;
        // ReplicaSetsBySizeNewer when growing, BySizeOlder when shrinking: largest first.
        sorted.sort_by(|a, b| {
            let by_size = spec_replicas(b).cmp(&spec_replicas(a));
            let by_age = if to_add > 0 {
                creation(b).cmp(&creation(a))
            } else {
                creation(a).cmp(&creation(b))
            };
            by_size.then(by_age)
        });
        let mut sizes: Vec<i64> = Vec::with_capacity(sorted.len());
        let mut added = 0;
        for rs in &sorted {
            let mut proportion = 0;
            if to_add != 0 && added != to_add && spec_replicas(rs) != 0 {
                let fraction = replica_set_fraction(rs, d);
                let allowed = to_add - added;
                proportion = if to_add > 0 {
                    fraction.min(allowed)
                } else {
                    fraction.max(allowed)
                };
            }
            sizes.push(spec_replicas(rs) + proportion);
            added += proportion;
        }
        let (mut new, mut old) = (new, old);
        for (i, rs) in sorted.iter().enumerate() {
            let mut size = sizes[i];
            if i == 0 && to_add != 0 {
                size = (size + to_add - added).max(0);
            }
            let (_, updated) = self.scale_replica_set(rs, size, d).await?;
            (new, old) = replace(new, old, updated);
        }
        Ok((new, old))
    }

    /// `cleanupDeployment`: the oldest revisions beyond `revisionHistoryLimit` go, if empty.
    async fn cleanup(&mut self, d: &Value, old: &[Value]) -> Result<(), RegistryError> {
        let Some(limit) = d.at("/spec/revisionHistoryLimit").and_then(Value::as_i64) else {
            return Ok(());
        };
        let mut cleanable: Vec<&Value> = old
            .iter()
            .filter(|rs| rs.at("/metadata/deletionTimestamp").is_none())
            .collect();
        let diff = i64::try_from(cleanable.len()).unwrap_or(i64::MAX) - limit;
        if diff <= 0 {
            return Ok(());
        }
        cleanable.sort_by_key(|rs| (rollout::revision(rs), creation(rs)));
        let namespace = str_at(d, "/metadata/namespace").to_string();
        for rs in cleanable
            .into_iter()
            .take(usize::try_from(diff).unwrap_or(0))
        {
            if int_at(rs, "/status/replicas") != 0
                || spec_replicas(rs) != 0
                || int_at(rs, "/metadata/generation") > int_at(rs, "/status/observedGeneration")
            {
                continue;
            }
            self.delete("replicasets", &namespace, name_of(rs)).await?;
        }
        Ok(())
    }

    /// `syncRolloutStatus`.
    async fn sync_rollout_status(
        &mut self,
        d: &mut Value,
        all: &[Value],
        new: Option<&Value>,
    ) -> Result<(), RegistryError> {
        let all: Vec<&Value> = all.iter().collect();
        let status = rollout::rollout_status(d, &all, new, &self.now);
        self.requeue_after = rollout::requeue_after(d, &status, &self.now)
            .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(1)));
        self.write_status_if_changed(d, status).await
    }

    async fn write_status_if_changed(
        &mut self,
        d: &mut Value,
        status: Value,
    ) -> Result<(), RegistryError> {
        if d.get("status") == Some(&status) {
            return Ok(());
        }
        d["status"] = status;
        self.update_status(d).await
    }

    /// `scaleReplicaSet`: the new size and the replicas annotations, in one write; returns
    /// whether the size changed and the ReplicaSet as it now is.
    async fn scale_replica_set(
        &mut self,
        rs: &Value,
        size: i64,
        d: &Value,
    ) -> Result<(bool, Value), RegistryError> {
        let old_size = spec_replicas(rs);
        let desired = spec_replicas(d);
        let max = desired + rollout::max_surge(d);
        let mut annotations = annotations_of(rs);
        let annotations_changed = rollout::set_replicas_annotations(&mut annotations, desired, max);
        if old_size == size && !annotations_changed {
            return Ok((false, rs.clone()));
        }
        let updated = self
            .update_replica_set(rs, move |next| {
                next["spec"]["replicas"] = json!(size);
                let mut a = annotations_of(next);
                a.insert(
                    ANNOTATION_DESIRED_REPLICAS.into(),
                    json!(desired.to_string()),
                );
                a.insert(ANNOTATION_MAX_REPLICAS.into(), json!(max.to_string()));
                set_annotations(next, a);
            })
            .await?;
        if old_size != size {
            let direction = if old_size < size { "up" } else { "down" };
            let message = format!(
                "Scaled {direction} replica set {} to {size} from {old_size}",
                name_of(rs)
            );
            self.event(d, &message).await?;
        }
        Ok((old_size != size, updated))
    }

    async fn update_replica_set(
        &mut self,
        rs: &Value,
        change: impl Fn(&mut Value),
    ) -> Result<Value, RegistryError> {
        let kind = super::kind(REPLICA_SETS.plural)?;
        let (namespace, name) = (str_at(rs, "/metadata/namespace"), name_of(rs));
        super::authorized(self.registry, MANAGER, "update", kind, "", namespace, name)?;
        let applied = self
            .registry
            .patch(kind, namespace, name, &writer(MANAGER), |cur| {
                let mut next = cur.clone();
                change(&mut next);
                Ok(next)
            })
            .await?;
        self.wrote |= applied.changed;
        Ok(applied.object)
    }

    /// `UpdateStatus` of the Deployment: its status and its annotations (the revision).
    async fn update_status(&mut self, d: &Value) -> Result<(), RegistryError> {
        let kind = super::kind("deployments")?;
        let (namespace, name) = (str_at(d, "/metadata/namespace"), name_of(d));
        super::authorized(
            self.registry,
            MANAGER,
            "update",
            kind,
            "status",
            namespace,
            name,
        )?;
        let status = d.get("status").cloned().unwrap_or_else(|| json!({}));
        // Only the revision is the controller's: other annotations stay as stored.
        let revision = rollout::annotation(d, ANNOTATION_REVISION).map(str::to_string);
        let uid = uid_of(d).to_string();
        match self
            .registry
            .patch_status(kind, namespace, name, &writer(MANAGER), move |cur| {
                if uid_of(cur) != uid {
                    return Err(RegistryError::Conflict {
                        resource: kind.resource,
                        name: name_of(cur).to_string(),
                    });
                }
                let mut next = cur.clone();
                next["status"] = status.clone();
                if let Some(revision) = &revision {
                    let mut annotations = annotations_of(&next);
                    annotations.insert(ANNOTATION_REVISION.into(), json!(revision));
                    set_annotations(&mut next, annotations);
                }
                Ok(next)
            })
            .await
        {
            Ok(applied) => {
                self.wrote |= applied.changed;
                Ok(())
            }
            Err(RegistryError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn delete(
        &mut self,
        plural: &str,
        namespace: &str,
        name: &str,
    ) -> Result<(), RegistryError> {
        self.wrote |= delete_if_present(self.registry, MANAGER, plural, namespace, name).await?;
        Ok(())
    }

    /// A Normal `ScalingReplicaSet` Event on the Deployment, as `kubectl describe` lists them.
    async fn event(&mut self, d: &Value, message: &str) -> Result<(), RegistryError> {
        let record = EventRecord {
            object: d,
            type_: "Normal",
            reason: "ScalingReplicaSet",
            message,
            component: MANAGER,
        };
        record_event(self.registry, record, true).await?;
        self.wrote = true;
        Ok(())
    }
}

/// `metav1.NewControllerRef` of a Deployment.
fn controller_ref(d: &Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": KIND,
        "name": name_of(d),
        "uid": uid_of(d),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// `isScalingEvent`: an active ReplicaSet was sized for another replica count.
fn is_scaling_event(d: &Value, rs_list: &[Value]) -> bool {
    let replicas = spec_replicas(d);
    active(rs_list).iter().any(|rs| {
        rollout::annotation(rs, ANNOTATION_DESIRED_REPLICAS)
            .and_then(|a| a.parse::<i64>().ok())
            .is_some_and(|desired| desired != replicas)
    })
}

/// `getReplicaSetFraction`: the ReplicaSet's share of a resize, by the size it had for the
/// `max-replicas` it was annotated with.
fn replica_set_fraction(rs: &Value, d: &Value) -> i64 {
    let replicas = spec_replicas(d);
    if replicas == 0 {
        return -spec_replicas(rs);
    }
    let deployment_replicas = replicas + rollout::max_surge(d);
    let annotated = rollout::annotation(rs, ANNOTATION_MAX_REPLICAS)
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or_else(|| int_at(d, "/status/replicas"));
    if annotated == 0 {
        return 0;
    }
    // math.Round of the float division, half away from zero.
    let numerator = spec_replicas(rs) * deployment_replicas;
    let new_size = (2 * numerator + annotated).div_euclid(2 * annotated);
    new_size - spec_replicas(rs)
}

/// The new and old ReplicaSets with `updated` in place of its earlier state.
fn replace(new: Option<Value>, old: Vec<Value>, updated: Value) -> (Option<Value>, Vec<Value>) {
    let same = |rs: &Value| name_of(rs) == name_of(&updated);
    let new = new.map(|n| if same(&n) { updated.clone() } else { n });
    let old = old
        .into_iter()
        .map(|o| if same(&o) { updated.clone() } else { o })
        .collect();
    (new, old)
}
