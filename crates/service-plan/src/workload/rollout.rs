//! The rules of kube-controller-manager v1.32's deployment controller that decide what a
//! rollout does and what it reports: the pod-template hash, the fenceposts of a rolling
//! update, the new ReplicaSet's size and annotations, and the Deployment's status with
//! upstream's condition reasons and messages. From pkg/controller/deployment/util/
//! deployment_util.go, pkg/controller/deployment/{sync,rolling,progress}.go and
//! pkg/controller/controller_utils.go (`ComputeHash`). Objects are the stored JSON.

use crate::json::Pointer as _;
use serde_json::{Map, Value, json};

use super::defaults::STRATEGY_ROLLING_UPDATE;

/// `apps.DefaultDeploymentUniqueLabelKey`.
pub const LABEL_TEMPLATE_HASH: &str = "pod-template-hash";
/// `RevisionAnnotation`.
pub const ANNOTATION_REVISION: &str = "deployment.kubernetes.io/revision";
/// `RevisionHistoryAnnotation`.
pub const ANNOTATION_REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// `DesiredReplicasAnnotation`.
pub const ANNOTATION_DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// `MaxReplicasAnnotation`.
pub const ANNOTATION_MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// `kubectl.kubernetes.io/last-applied-configuration`, never copied to a ReplicaSet.
const ANNOTATION_LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// `apps.DeprecatedRollbackTo`.
const ANNOTATION_ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
/// `annotationsToSkip`: the Deployment annotations a ReplicaSet does not copy.
const ANNOTATIONS_TO_SKIP: [&str; 6] = [
    ANNOTATION_LAST_APPLIED,
    ANNOTATION_REVISION,
    ANNOTATION_REVISION_HISTORY,
    ANNOTATION_DESIRED_REPLICAS,
    ANNOTATION_MAX_REPLICAS,
    ANNOTATION_ROLLBACK_TO,
];
/// `maxRevHistoryLengthInChars` of sync.go.
const MAX_REVISION_HISTORY_CHARS: usize = 2000;

/// Condition reasons of deployment_util.go.
pub const REASON_NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const REASON_RS_UPDATED: &str = "ReplicaSetUpdated";
pub const REASON_NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const REASON_FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const REASON_TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const REASON_MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const REASON_MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
pub const REASON_PAUSED: &str = "DeploymentPaused";
pub const REASON_RESUMED: &str = "DeploymentResumed";
/// Condition types.
pub const CONDITION_AVAILABLE: &str = "Available";
pub const CONDITION_PROGRESSING: &str = "Progressing";

/// `utilrand`'s alphabet: no vowels (no words), no look-alikes.
pub const SAFE_ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// Go's `math.MaxInt32`, the "no progress deadline" value.
const NO_DEADLINE: i64 = i32::MAX as i64;

/// `rand.SafeEncodeString`: each byte mapped into [`SAFE_ALPHANUMS`].
pub fn safe_encode_string(s: &str) -> String {
    s.bytes()
        .map(|b| char::from(SAFE_ALPHANUMS[usize::from(b) % SAFE_ALPHANUMS.len()]))
        .collect()
}

/// 32-bit FNV-1a, as Go's `hash/fnv.New32a`.
pub fn fnv32a(chunks: &[&[u8]]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in chunks.iter().flat_map(|c| c.iter()) {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The template's canonical text: what the k8s-openapi type serializes (fields in one fixed
/// order, maps sorted) without empty maps and lists, so templates Go would decode alike (an
/// empty `resources: {}` is the Go struct's zero value, as an absent one is) hash alike
/// however their JSON was written.
fn canonical_template(template: &Value) -> String {
    let mut canonical =
        serde_json::from_value::<k8s_openapi::api::core::v1::PodTemplateSpec>(template.clone())
            .ok()
            .and_then(|t| serde_json::to_value(&t).ok())
            .unwrap_or_else(|| template.clone());
    prune_empty(&mut canonical);
    canonical.to_string()
}

/// Drops nulls and empty maps and lists, depth first (`apiequality.Semantic.DeepEqual` holds
/// nil and empty alike).
fn prune_empty(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                prune_empty(v);
            }
            map.retain(|_, v| !is_empty_value(v));
        }
        Value::Array(items) => items.iter_mut().for_each(prune_empty),
        _ => {}
    }
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `controller.ComputeHash`: FNV-32a of the template, then of the collision count's 8
/// little-endian bytes if there is one, printed in decimal and safe-encoded. Upstream hashes
/// the Go struct as `spew` prints it, which this cannot reproduce byte for byte: the value
/// differs, the alphabet and length rule (one character per decimal digit) are upstream's.
pub fn compute_hash(template: &Value, collision_count: Option<i64>) -> String {
    let text = canonical_template(template);
    let mut count_bytes = [0u8; 8];
    let chunks: Vec<&[u8]> = match collision_count {
        Some(c) => {
            // binary.LittleEndian.PutUint32 into an 8-byte slice: the upper 4 stay zero.
            count_bytes[..4].copy_from_slice(&(c as u32).to_le_bytes());
            vec![text.as_bytes(), &count_bytes]
        }
        None => vec![text.as_bytes()],
    };
    safe_encode_string(&fnv32a(&chunks).to_string())
}

/// A template without the `pod-template-hash` label, for `EqualIgnoreHash`.
fn without_hash(template: &Value) -> Value {
    let mut t: Value = serde_json::from_str(&canonical_template(template)).unwrap_or(Value::Null);
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(LABEL_TEMPLATE_HASH);
    }
    prune_empty(&mut t);
    t
}

/// `EqualIgnoreHash`: the templates are equal once the hash label is left out of both.
pub fn equal_ignore_hash(a: &Value, b: &Value) -> bool {
    without_hash(a) == without_hash(b)
}

/// An integer at `pointer`, 0 when absent.
pub fn int_at(object: &Value, pointer: &str) -> i64 {
    object.at(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// `spec.replicas` (defaulted to 1 on every stored object).
pub fn spec_replicas(object: &Value) -> i64 {
    object
        .at("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// An annotation of `object`, if set.
pub fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .at("/metadata/annotations")
        .and_then(Value::as_object)
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// `Revision`: the ReplicaSet's revision annotation as a number (0 when unset or not one).
pub fn revision(rs: &Value) -> i64 {
    annotation(rs, ANNOTATION_REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// `MaxRevision` of a set of ReplicaSets.
pub fn max_revision<'a>(rss: impl IntoIterator<Item = &'a Value>) -> i64 {
    rss.into_iter().map(revision).max().unwrap_or(0)
}

/// `intstrutil.GetScaledValueFromIntOrPercent`: an int as it is, `"N%"` of `total` rounded
/// up or down; anything else (refused by validation) as 0.
pub fn scaled_value(value: Option<&Value>, total: i64, round_up: bool) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => {
            let Some(percent) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return s.parse().unwrap_or(0);
            };
            let scaled = percent * total;
            if round_up {
                (scaled + 99).div_euclid(100)
            } else {
                scaled.div_euclid(100)
            }
        }
        _ => 0,
    }
}

/// Whether the Deployment rolls out with `RollingUpdate`.
pub fn is_rolling_update(d: &Value) -> bool {
    d.at("/spec/strategy/type").and_then(Value::as_str) == Some(STRATEGY_ROLLING_UPDATE)
}

/// `ResolveFenceposts`: the surge and unavailability a rolling update allows for `desired`
/// replicas; both zero (rounding) gives one unavailable.
pub fn resolve_fenceposts(d: &Value, desired: i64) -> (i64, i64) {
    let rolling = d.at("/spec/strategy/rollingUpdate");
    let surge = scaled_value(rolling.and_then(|r| r.get("maxSurge")), desired, true);
    let unavailable = scaled_value(
        rolling.and_then(|r| r.get("maxUnavailable")),
        desired,
        false,
    );
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// `MaxSurge`.
pub fn max_surge(d: &Value) -> i64 {
    if !is_rolling_update(d) {
        return 0;
    }
    resolve_fenceposts(d, spec_replicas(d)).0
}

/// `MaxUnavailable`: never more than the replicas.
pub fn max_unavailable(d: &Value) -> i64 {
    let replicas = spec_replicas(d);
    if !is_rolling_update(d) || replicas == 0 {
        return 0;
    }
    resolve_fenceposts(d, replicas).1.min(replicas)
}

/// `HasProgressDeadline`.
pub fn has_progress_deadline(d: &Value) -> bool {
    d.at("/spec/progressDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s != NO_DEADLINE)
}

/// `GetReplicaCountForReplicaSets`: the sum of `spec.replicas`.
pub fn spec_total<'a>(rss: impl IntoIterator<Item = &'a Value>) -> i64 {
    rss.into_iter().map(spec_replicas).sum()
}

/// The sum of one `status` count (`replicas`, `readyReplicas`, `availableReplicas`).
pub fn status_total<'a>(rss: impl IntoIterator<Item = &'a Value>, field: &str) -> i64 {
    rss.into_iter()
        .map(|rs| int_at(rs, &format!("/status/{field}")))
        .sum()
}

/// `NewRSNewReplicas`: how big the new ReplicaSet may be now. `all_total` counts every
/// ReplicaSet's `spec.replicas`, the new one's included.
pub fn new_rs_new_replicas(d: &Value, all_total: i64, new_rs_replicas: i64) -> i64 {
    let replicas = spec_replicas(d);
    if !is_rolling_update(d) {
        return replicas;
    }
    if new_rs_replicas == replicas {
        return new_rs_replicas;
    }
    let max_total = replicas + max_surge(d);
    if all_total >= max_total {
        return new_rs_replicas;
    }
    let up = (max_total - all_total).min(replicas - new_rs_replicas);
    new_rs_replicas + up
}

/// `SetReplicasAnnotations`: whether the annotations changed.
pub fn set_replicas_annotations(
    annotations: &mut Map<String, Value>,
    desired: i64,
    max: i64,
) -> bool {
    let mut changed = false;
    for (key, value) in [
        (ANNOTATION_DESIRED_REPLICAS, desired),
        (ANNOTATION_MAX_REPLICAS, max),
    ] {
        let value = value.to_string();
        if annotations.get(key).and_then(Value::as_str) != Some(value.as_str()) {
            annotations.insert(key.to_string(), Value::String(value));
            changed = true;
        }
    }
    changed
}

/// `SetNewReplicaSetAnnotations`: the Deployment's annotations (but [`ANNOTATIONS_TO_SKIP`])
/// copied onto the new ReplicaSet's, its revision raised to `new_revision` (keeping the old
/// one in the revision history when it is reused, as a rollback does) and, for a ReplicaSet
/// about to be created, the replicas annotations. Returns whether anything changed.
pub fn set_new_rs_annotations(
    d: &Value,
    annotations: &mut Map<String, Value>,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = false;
    if let Some(from) = d.at("/metadata/annotations").and_then(Value::as_object) {
        for (k, v) in from {
            if ANNOTATIONS_TO_SKIP.contains(&k.as_str()) || annotations.get(k) == Some(v) {
                continue;
            }
            annotations.insert(k.clone(), v.clone());
            changed = true;
        }
    }
    let old = annotations
        .get(ANNOTATION_REVISION)
        .and_then(Value::as_str)
        .map(str::to_string);
    let old_number = match old.as_deref() {
        None | Some("") => 0,
        Some(o) => match o.parse::<i64>() {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    if old_number < new_revision {
        annotations.insert(ANNOTATION_REVISION.into(), json!(new_revision.to_string()));
        changed = true;
        if let Some(old) = old {
            let history = annotations
                .get(ANNOTATION_REVISION_HISTORY)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let next = if history.is_empty() {
                Some(old)
            } else {
                let mut revisions: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > MAX_REVISION_HISTORY_CHARS && start < revisions.len() {
                    total -= revisions[start].len() + 1;
                    start += 1;
                }
                (total <= MAX_REVISION_HISTORY_CHARS).then(|| {
                    revisions = revisions.split_off(start);
                    revisions.push(&old);
                    revisions.join(",")
                })
            };
            if let Some(next) = next {
                annotations.insert(ANNOTATION_REVISION_HISTORY.into(), Value::String(next));
            }
        }
    }
    if !exists {
        let replicas = spec_replicas(d);
        changed |= set_replicas_annotations(annotations, replicas, replicas + max_surge(d));
    }
    changed
}

/// A Deployment condition as `NewDeploymentCondition` makes it.
pub fn new_condition(type_: &str, status: &str, reason: &str, message: &str, now: &Value) -> Value {
    json!({"type": type_, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
           "reason": reason, "message": message})
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `GetDeploymentCondition`.
pub fn get_condition<'a>(status: &'a Value, type_: &str) -> Option<&'a Value> {
    status
        .get("conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| str_of(c, "type") == type_)
}

fn conditions_mut(status: &mut Value) -> Option<&mut Vec<Value>> {
    let object = status.as_object_mut()?;
    object
        .entry("conditions")
        .or_insert_with(|| Value::Array(Vec::new()))
        .as_array_mut()
}

/// `RemoveDeploymentCondition`.
pub fn remove_condition(status: &mut Value, type_: &str) {
    if let Some(conditions) = conditions_mut(status) {
        conditions.retain(|c| str_of(c, "type") != type_);
        if conditions.is_empty()
            && let Some(o) = status.as_object_mut()
        {
            o.remove("conditions");
        }
    }
}

/// `SetDeploymentCondition`: nothing changes when status and reason are the same; a condition
/// whose status stays keeps its transition time; the new one goes last.
pub fn set_condition(status: &mut Value, mut condition: Value) {
    let type_ = str_of(&condition, "type").to_string();
    if let Some(current) = get_condition(status, &type_) {
        if str_of(current, "status") == str_of(&condition, "status")
            && str_of(current, "reason") == str_of(&condition, "reason")
        {
            return;
        }
        if str_of(current, "status") == str_of(&condition, "status") {
            condition["lastTransitionTime"] = current["lastTransitionTime"].clone();
        }
    }
    if let Some(conditions) = conditions_mut(status) {
        conditions.retain(|c| str_of(c, "type") != type_);
        conditions.push(condition);
    }
}

/// `calculateStatus`: the Deployment's counts from its ReplicaSets, its conditions kept, and
/// the `Available` condition for them. Zero counts are left out (Go's `omitempty`).
pub fn calculate_status(d: &Value, all: &[&Value], new_rs: Option<&Value>, now: &Value) -> Value {
    let available = status_total(all.iter().copied(), "availableReplicas");
    let total = spec_total(all.iter().copied());
    let mut status = json!({
        "observedGeneration": int_at(d, "/metadata/generation"),
        "replicas": status_total(all.iter().copied(), "replicas"),
        "updatedReplicas": new_rs.map_or(0, |rs| int_at(rs, "/status/replicas")),
        "readyReplicas": status_total(all.iter().copied(), "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": (total - available).max(0),
    });
    if let Some(o) = status.as_object_mut() {
        o.retain(|_, v| v.as_i64() != Some(0));
    }
    if let Some(conditions) = d.at("/status/conditions").filter(|c| c.is_array()) {
        status["conditions"] = conditions.clone();
    }
    if let Some(count) = d.at("/status/collisionCount").filter(|c| !c.is_null()) {
        status["collisionCount"] = count.clone();
    }
    let condition = if available >= spec_replicas(d) - max_unavailable(d) {
        new_condition(
            CONDITION_AVAILABLE,
            "True",
            REASON_MIN_AVAILABLE,
            "Deployment has minimum availability.",
            now,
        )
    } else {
        new_condition(
            CONDITION_AVAILABLE,
            "False",
            REASON_MIN_UNAVAILABLE,
            "Deployment does not have minimum availability.",
            now,
        )
    };
    set_condition(&mut status, condition);
    status
}

/// `DeploymentComplete`.
pub fn deployment_complete(d: &Value, status: &Value) -> bool {
    let replicas = spec_replicas(d);
    int_at(status, "/updatedReplicas") == replicas
        && int_at(status, "/replicas") == replicas
        && int_at(status, "/availableReplicas") == replicas
        && int_at(status, "/observedGeneration") >= int_at(d, "/metadata/generation")
}

/// `DeploymentProgressing`: more updated, ready or available replicas, or fewer old ones.
pub fn deployment_progressing(d: &Value, status: &Value) -> bool {
    let old = d.get("status").cloned().unwrap_or(Value::Null);
    let count = |s: &Value, f: &str| int_at(s, &format!("/{f}"));
    let old_old = count(&old, "replicas") - count(&old, "updatedReplicas");
    let new_old = count(status, "replicas") - count(status, "updatedReplicas");
    count(status, "updatedReplicas") > count(&old, "updatedReplicas")
        || count(status, "readyReplicas") > count(&old, "readyReplicas")
        || count(status, "availableReplicas") > count(&old, "availableReplicas")
        || old_old > new_old
}

/// Seconds since the epoch of an RFC 3339 timestamp.
fn seconds(v: Option<&Value>) -> Option<i64> {
    v?.as_str()?
        .parse::<k8s_openapi::jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second())
}

fn deadline_seconds(d: &Value) -> i64 {
    int_at(d, "/spec/progressDeadlineSeconds")
}

/// `DeploymentTimedOut`: the `Progressing` condition was last updated longer than
/// `progressDeadlineSeconds` before `now` (a complete rollout never times out).
pub fn deployment_timed_out(d: &Value, status: &Value, now: &Value) -> bool {
    if !has_progress_deadline(d) {
        return false;
    }
    let Some(c) = get_condition(status, CONDITION_PROGRESSING) else {
        return false;
    };
    match str_of(c, "reason") {
        REASON_NEW_RS_AVAILABLE => false,
        REASON_TIMED_OUT => true,
        _ => match (seconds(c.get("lastUpdateTime")), seconds(Some(now))) {
            (Some(from), Some(now)) => from + deadline_seconds(d) < now,
            _ => false,
        },
    }
}

/// `requeueStuckDeployment`: in how many seconds to look again at a rollout still in
/// progress, so that it times out on time (`None`: no need).
pub fn requeue_after(d: &Value, status: &Value, now: &Value) -> Option<i64> {
    let c = get_condition(status, CONDITION_PROGRESSING)?;
    if !has_progress_deadline(d)
        || deployment_complete(d, status)
        || matches!(
            str_of(c, "reason"),
            REASON_NEW_RS_AVAILABLE | REASON_TIMED_OUT
        )
    {
        return None;
    }
    let after = seconds(c.get("lastUpdateTime"))? + deadline_seconds(d) - seconds(Some(now))?;
    Some(if after < 1 { 1 } else { after + 1 })
}

/// `podutil.IsPodAvailable`: `None` for a pod that is not ready, `Some(0)` for one ready for
/// `minReadySeconds` already (by its Ready condition's transition time), else `Some(n)`: the
/// seconds until it will be.
pub fn pod_available_in(pod: &Value, min_ready_seconds: i64, now: &Value) -> Option<i64> {
    let ready = pod
        .at("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| str_of(c, "type") == "Ready" && str_of(c, "status") == "True")?;
    if min_ready_seconds <= 0 {
        return Some(0);
    }
    let (Some(since), Some(now)) = (seconds(ready.get("lastTransitionTime")), seconds(Some(now)))
    else {
        return Some(min_ready_seconds);
    };
    // Available once since + minReadySeconds is strictly before now.
    Some((since + min_ready_seconds + 1 - now).max(0))
}

/// `syncRolloutStatus`'s status: [`calculate_status`], then the `Progressing` condition for
/// a rollout that completed, progressed or timed out (a complete one is not touched again).
pub fn rollout_status(d: &Value, all: &[&Value], new_rs: Option<&Value>, now: &Value) -> Value {
    let mut status = calculate_status(d, all, new_rs, now);
    if !has_progress_deadline(d) {
        remove_condition(&mut status, CONDITION_PROGRESSING);
    }
    let current = get_condition(&status, CONDITION_PROGRESSING).cloned();
    let complete_before = int_at(&status, "/replicas") == int_at(&status, "/updatedReplicas")
        && current
            .as_ref()
            .is_some_and(|c| str_of(c, "reason") == REASON_NEW_RS_AVAILABLE);
    if has_progress_deadline(d) && !complete_before {
        let name = new_rs.map(|rs| {
            rs.at("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
        });
        if deployment_complete(d, &status) {
            let message = match name {
                Some(n) => format!("ReplicaSet {n:?} has successfully progressed."),
                None => format!(
                    "Deployment {:?} has successfully progressed.",
                    str_of(&d["metadata"], "name")
                ),
            };
            let c = new_condition(
                CONDITION_PROGRESSING,
                "True",
                REASON_NEW_RS_AVAILABLE,
                &message,
                now,
            );
            set_condition(&mut status, c);
        } else if deployment_progressing(d, &status) {
            let message = match name {
                Some(n) => format!("ReplicaSet {n:?} is progressing."),
                None => format!(
                    "Deployment {:?} is progressing.",
                    str_of(&d["metadata"], "name")
                ),
            };
            let mut c = new_condition(
                CONDITION_PROGRESSING,
                "True",
                REASON_RS_UPDATED,
                &message,
                now,
            );
            if let Some(current) = &current {
                if str_of(current, "status") == "True" {
                    c["lastTransitionTime"] = current["lastTransitionTime"].clone();
                }
                remove_condition(&mut status, CONDITION_PROGRESSING);
            }
            set_condition(&mut status, c);
        } else if deployment_timed_out(d, &status, now) {
            let message = match name {
                Some(n) => format!("ReplicaSet {n:?} has timed out progressing."),
                None => format!(
                    "Deployment {:?} has timed out progressing.",
                    str_of(&d["metadata"], "name")
                ),
            };
            let c = new_condition(
                CONDITION_PROGRESSING,
                "False",
                REASON_TIMED_OUT,
                &message,
                now,
            );
            set_condition(&mut status, c);
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: i64, surge: Value, unavailable: Value) -> Value {
        json!({"metadata": {"name": "web", "generation": 2},
               "spec": {"replicas": replicas, "progressDeadlineSeconds": 600,
                        "strategy": {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}}})
    }

    #[test]
    fn fnv32a_matches_go() {
        // hash/fnv New32a: the empty input is the offset basis; "a" is a published vector.
        assert_eq!(fnv32a(&[b""]), 0x811c_9dc5);
        assert_eq!(fnv32a(&[b"a"]), 0xe40c_292c);
        assert_eq!(fnv32a(&[b"foo", b"bar"]), fnv32a(&[b"foobar"]));
    }

    #[test]
    fn hash_is_safe_encoded_decimal_and_follows_collisions() {
        let t = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        let h = compute_hash(&t, None);
        let n = fnv32a(&[canonical_template(&t).as_bytes()]).to_string();
        assert_eq!(h.len(), n.len());
        assert!(h.bytes().all(|b| SAFE_ALPHANUMS.contains(&b)));
        // Digit d is byte 48+d, and (48+d) % 27 indexes the alphabet from its `4`.
        assert_eq!(safe_encode_string("0123456789"), "456789bcdf");
        // Key order does not matter; a collision count does.
        let reordered = json!({"spec": {"containers": [{"image": "nginx", "name": "c"}]}, "metadata": {"labels": {"app": "web"}}});
        assert_eq!(compute_hash(&reordered, None), h);
        assert_ne!(compute_hash(&t, Some(1)), h);
    }

    #[test]
    fn equal_ignore_hash_ignores_only_the_hash_label() {
        let a = json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
        let b = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}});
        assert!(equal_ignore_hash(&a, &b));
        let c = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "y"}]}});
        assert!(!equal_ignore_hash(&a, &c));
        // What kubectl's rollback patches back: Go's zero values written out.
        let zeros = json!({"metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "c", "image": "x", "resources": {}}],
                                    "securityContext": {}}});
        assert!(equal_ignore_hash(&zeros, &b));
        assert_eq!(compute_hash(&zeros, None), compute_hash(&b, None));
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let d = deployment(10, json!("25%"), json!("25%"));
        assert_eq!(resolve_fenceposts(&d, 10), (3, 2));
        assert_eq!(max_surge(&d), 3);
        assert_eq!(max_unavailable(&d), 2);
        // 25% of 1: surge 1, unavailable 0.
        let one = deployment(1, json!("25%"), json!("25%"));
        assert_eq!(resolve_fenceposts(&one, 1), (1, 0));
        // Both zero after rounding: one unavailable.
        let zero = deployment(3, json!(0), json!("10%"));
        assert_eq!(resolve_fenceposts(&zero, 3), (0, 1));
        let recreate = json!({"spec": {"replicas": 3, "strategy": {"type": "Recreate"}}});
        assert_eq!((max_surge(&recreate), max_unavailable(&recreate)), (0, 0));
    }

    #[test]
    fn new_replica_set_grows_within_the_surge() {
        let d = deployment(4, json!(1), json!(0));
        // 4 old, new at 0: room for one more pod.
        assert_eq!(new_rs_new_replicas(&d, 4, 0), 1);
        // Already at 5 pods in all: no room.
        assert_eq!(new_rs_new_replicas(&d, 5, 1), 1);
        // Old ones gone: up to the replicas, never past them.
        assert_eq!(new_rs_new_replicas(&d, 2, 2), 4);
    }

    #[test]
    fn new_replica_set_annotations_copy_skip_and_keep_history() {
        let d = json!({"metadata": {"annotations": {"kubernetes.io/change-cause": "v2",
                        "deployment.kubernetes.io/revision": "9",
                        "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
                       "spec": {"replicas": 3, "strategy": {"type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}});
        let mut a = Map::new();
        assert!(set_new_rs_annotations(&d, &mut a, 1, false));
        assert_eq!(
            Value::Object(a.clone()),
            json!({"kubernetes.io/change-cause": "v2", "deployment.kubernetes.io/revision": "1",
                   "deployment.kubernetes.io/desired-replicas": "3",
                   "deployment.kubernetes.io/max-replicas": "4"})
        );
        assert!(!set_new_rs_annotations(&d, &mut a, 1, true));
        // Reused at revision 3 (a rollback): 1 goes to the history.
        assert!(set_new_rs_annotations(&d, &mut a, 3, true));
        assert_eq!(a[ANNOTATION_REVISION], json!("3"));
        assert_eq!(a[ANNOTATION_REVISION_HISTORY], json!("1"));
        assert!(set_new_rs_annotations(&d, &mut a, 5, true));
        assert_eq!(a[ANNOTATION_REVISION_HISTORY], json!("1,3"));
    }

    #[test]
    fn status_reports_upstream_conditions() {
        let now = json!("2026-01-01T00:00:00Z");
        let d = deployment(2, json!("25%"), json!("25%"));
        let rs = json!({"metadata": {"name": "web-abc"}, "spec": {"replicas": 2},
                        "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2}});
        let status = rollout_status(&d, &[&rs], Some(&rs), &now);
        assert_eq!(status["replicas"], 2);
        assert_eq!(status["updatedReplicas"], 2);
        assert!(status.get("unavailableReplicas").is_none());
        let available = get_condition(&status, CONDITION_AVAILABLE).unwrap();
        assert_eq!(available["reason"], REASON_MIN_AVAILABLE);
        assert_eq!(available["message"], "Deployment has minimum availability.");
        let progressing = get_condition(&status, CONDITION_PROGRESSING).unwrap();
        assert_eq!(progressing["reason"], REASON_NEW_RS_AVAILABLE);
        assert_eq!(
            progressing["message"],
            "ReplicaSet \"web-abc\" has successfully progressed."
        );

        let starting = json!({"metadata": {"name": "web-abc"}, "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let status = rollout_status(&d, &[&starting], Some(&starting), &now);
        assert_eq!(status["unavailableReplicas"], 1);
        let available = get_condition(&status, CONDITION_AVAILABLE).unwrap();
        assert_eq!(available["reason"], REASON_MIN_UNAVAILABLE);
        let progressing = get_condition(&status, CONDITION_PROGRESSING).unwrap();
        assert_eq!(progressing["reason"], REASON_RS_UPDATED);
        assert_eq!(
            progressing["message"],
            "ReplicaSet \"web-abc\" is progressing."
        );
    }

    #[test]
    fn a_stuck_rollout_times_out_after_its_deadline() {
        let mut d = deployment(2, json!("25%"), json!("25%"));
        d["spec"]["progressDeadlineSeconds"] = json!(10);
        let rs = json!({"metadata": {"name": "web-abc"}, "spec": {"replicas": 2}, "status": {}});
        d["status"] = json!({"conditions": [new_condition(CONDITION_PROGRESSING, "True",
            REASON_RS_UPDATED, "ReplicaSet \"web-abc\" is progressing.", &json!("2026-01-01T00:00:00Z"))]});
        let early = json!("2026-01-01T00:00:04Z");
        let status = rollout_status(&d, &[&rs], Some(&rs), &early);
        assert_eq!(requeue_after(&d, &status, &early), Some(7));
        let late = json!("2026-01-01T00:00:11Z");
        let status = rollout_status(&d, &[&rs], Some(&rs), &late);
        let c = get_condition(&status, CONDITION_PROGRESSING).unwrap();
        assert_eq!(
            (c["status"].clone(), c["reason"].clone()),
            (json!("False"), json!(REASON_TIMED_OUT))
        );
        assert_eq!(
            c["message"],
            "ReplicaSet \"web-abc\" has timed out progressing."
        );
        assert_eq!(requeue_after(&d, &status, &late), None);
    }

    #[test]
    fn pods_are_available_min_ready_seconds_after_ready() {
        let pod = json!({"status": {"conditions": [{"type": "Ready", "status": "True",
                                                     "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
        let at = |s: &str| json!(format!("2026-01-01T00:00:{s}Z"));
        assert_eq!(pod_available_in(&pod, 0, &at("00")), Some(0));
        assert_eq!(pod_available_in(&pod, 5, &at("02")), Some(4));
        assert_eq!(pod_available_in(&pod, 5, &at("05")), Some(1));
        assert_eq!(pod_available_in(&pod, 5, &at("06")), Some(0));
        assert_eq!(pod_available_in(&json!({"status": {}}), 0, &at("00")), None);
    }

    #[test]
    fn set_condition_keeps_a_same_reason_condition() {
        let now = json!("t1");
        let mut status = json!({});
        set_condition(
            &mut status,
            new_condition("Available", "True", "A", "m1", &json!("t0")),
        );
        set_condition(
            &mut status,
            new_condition("Available", "True", "A", "m2", &now),
        );
        assert_eq!(
            get_condition(&status, "Available").unwrap()["message"],
            "m1"
        );
        set_condition(
            &mut status,
            new_condition("Available", "True", "B", "m3", &now),
        );
        let c = get_condition(&status, "Available").unwrap();
        assert_eq!(
            (c["reason"].clone(), c["lastTransitionTime"].clone()),
            (json!("B"), json!("t0"))
        );
    }
}
