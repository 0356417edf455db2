//! autoscaling/v1 HorizontalPodAutoscalers as a view of the stored autoscaling/v2 ones
//! (pkg/apis/autoscaling/v1/conversion.go, through the internal type).
//!
//! v1 has one metric, `targetCPUUtilizationPercentage`: the first Resource `cpu` metric of v2
//! with a utilization target, and back. v1 keeps what it cannot say in annotations, so a write
//! through v1 keeps it: the other metrics (`autoscaling.alpha.kubernetes.io/metrics`, in v1's
//! v2beta1-like `MetricSpec` shape), `spec.behavior` (`autoscaling.alpha.kubernetes.io/behavior`)
//! and `status.conditions` (`autoscaling.alpha.kubernetes.io/conditions`). The current metrics
//! (`autoscaling.alpha.kubernetes.io/current-metrics`) are not written: v1 shows the cpu
//! utilization only, and a status write through v1 keeps only that.

use crate::json::Pointer as _;
use serde_json::{Map, Value, json};

use super::{STORED_API_VERSION, V1_API_VERSION, cpu_utilization_metric, v1_metrics};

/// `MetricSpecsAnnotation`.
pub const METRIC_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// `MetricStatusesAnnotation`.
pub const METRIC_STATUSES_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// `HorizontalPodAutoscalerConditionsAnnotation`.
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// `BehaviorSpecsAnnotation`.
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";

/// `DropRoundTripHorizontalPodAutoscalerAnnotations`: the annotations only conversion writes.
const ROUND_TRIP_ANNOTATIONS: [&str; 4] = [
    METRIC_SPECS_ANNOTATION,
    METRIC_STATUSES_ANNOTATION,
    CONDITIONS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
];

/// The metadata of `hpa` without the round-trip annotations (and without an emptied map,
/// which Go's `omitempty` leaves out).
fn metadata_without_round_trip(hpa: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let mut meta = hpa
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut dropped = Map::new();
    if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
        for key in ROUND_TRIP_ANNOTATIONS {
            if let Some(v) = annotations.remove(key) {
                dropped.insert(key.to_owned(), v);
            }
        }
        if annotations.is_empty() {
            meta.remove("annotations");
        }
    }
    (meta, dropped)
}

/// Drops the round-trip annotations from an autoscaling/v2 object, as upstream's v2
/// conversion does on every decode: only the v1 view writes them.
pub fn drop_round_trip_annotations(hpa: &mut Value) {
    let (meta, _) = metadata_without_round_trip(hpa);
    if let Some(o) = hpa.as_object_mut() {
        o.insert("metadata".into(), Value::Object(meta));
    }
}

fn set_annotation(meta: &mut Map<String, Value>, key: &str, value: &Value) {
    let text = serde_json::to_string(value).unwrap_or_default();
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(a) = annotations.as_object_mut() {
        a.insert(key.to_owned(), Value::String(text));
    }
}

fn has_utilization(metric: &Value) -> bool {
    metric
        .at("/resource/target/averageUtilization")
        .is_some_and(|u| !u.is_null())
}

fn is_cpu_resource(metric: &Value) -> bool {
    metric.get("type").and_then(Value::as_str) == Some("Resource")
        && metric.at("/resource/name").and_then(Value::as_str) == Some("cpu")
}

/// Copies the `keys` of `from` that are set into `to`.
fn copy_set(from: &Value, to: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        if let Some(v) = from.get(*key).filter(|v| !v.is_null()) {
            to.insert((*key).to_owned(), v.clone());
        }
    }
}

/// A stored autoscaling/v2 HorizontalPodAutoscaler as autoscaling/v1 serves it
/// (`Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler`).
pub fn to_v1(hpa: &Value) -> Value {
    let (mut meta, _) = metadata_without_round_trip(hpa);
    let empty = Value::Object(Map::new());
    let spec = hpa.get("spec").unwrap_or(&empty);
    let status = hpa.get("status").unwrap_or(&empty);
    if let Some(behavior) = spec.get("behavior").filter(|b| b.is_object()) {
        set_annotation(&mut meta, BEHAVIOR_ANNOTATION, behavior);
    }
    if let Some(conditions) = status
        .get("conditions")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    {
        set_annotation(
            &mut meta,
            CONDITIONS_ANNOTATION,
            &Value::Array(conditions.clone()),
        );
    }

    let mut v1_spec = Map::new();
    copy_set(
        spec,
        &mut v1_spec,
        &["scaleTargetRef", "minReplicas", "maxReplicas"],
    );
    // The first cpu Resource metric decides, utilization target or not.
    let metrics = spec.get("metrics").and_then(Value::as_array);
    // Every metric but the cpu utilizations is kept in the annotation, in v1's shape.
    let others: Vec<Value> = metrics
        .into_iter()
        .flatten()
        .filter(|m| !(is_cpu_resource(m) && has_utilization(m)))
        .map(v1_metrics::spec_to_v1)
        .collect();
    if !others.is_empty() {
        set_annotation(&mut meta, METRIC_SPECS_ANNOTATION, &Value::Array(others));
    }
    if let Some(cpu) = metrics.into_iter().flatten().find(|m| is_cpu_resource(m))
        && let Some(u) = cpu
            .at("/resource/target/averageUtilization")
            .filter(|u| !u.is_null())
    {
        v1_spec.insert("targetCPUUtilizationPercentage".into(), u.clone());
    }

    let mut v1_status = Map::new();
    copy_set(
        status,
        &mut v1_status,
        &["observedGeneration", "lastScaleTime"],
    );
    for key in ["currentReplicas", "desiredReplicas"] {
        let n = status.get(key).and_then(Value::as_i64).unwrap_or(0);
        v1_status.insert(key.into(), Value::from(n));
    }
    // Every cpu Resource status with a utilization counts; the last one wins.
    let current = status.get("currentMetrics").and_then(Value::as_array);
    for metric in current.into_iter().flatten().filter(|m| is_cpu_resource(m)) {
        if let Some(u) = metric
            .at("/resource/current/averageUtilization")
            .filter(|u| !u.is_null())
        {
            v1_status.insert("currentCPUUtilizationPercentage".into(), u.clone());
        }
    }
    json!({
        "kind": super::KIND,
        "apiVersion": V1_API_VERSION,
        "metadata": meta,
        "spec": v1_spec,
        "status": v1_status,
    })
}

/// An autoscaling/v1 HorizontalPodAutoscaler as autoscaling/v2 stores it
/// (`Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler`).
pub fn from_v1(hpa: &Value) -> Value {
    let (meta, dropped) = metadata_without_round_trip(hpa);
    let empty = Value::Object(Map::new());
    let spec = hpa.get("spec").unwrap_or(&empty);
    let status = hpa.get("status").unwrap_or(&empty);

    let mut v2_spec = Map::new();
    copy_set(
        spec,
        &mut v2_spec,
        &["scaleTargetRef", "minReplicas", "maxReplicas"],
    );
    let parsed = |key: &str| {
        dropped
            .get(key)
            .and_then(Value::as_str)
            .and_then(|text| serde_json::from_str::<Value>(text).ok())
    };
    // The annotation's metrics first, then the cpu percentage's, as upstream orders them.
    let mut metrics: Vec<Value> = parsed(METRIC_SPECS_ANNOTATION)
        .and_then(|m| m.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(v1_metrics::spec_from_v1)
        .collect();
    if let Some(u) = spec
        .get("targetCPUUtilizationPercentage")
        .filter(|u| !u.is_null())
    {
        metrics.push(cpu_utilization_metric(u.clone()));
    }
    if !metrics.is_empty() {
        v2_spec.insert("metrics".into(), Value::Array(metrics));
    }
    if let Some(behavior) = parsed(BEHAVIOR_ANNOTATION).filter(Value::is_object) {
        v2_spec.insert("behavior".into(), behavior);
    }

    let mut v2_status = Map::new();
    copy_set(
        status,
        &mut v2_status,
        &[
            "observedGeneration",
            "lastScaleTime",
            "currentReplicas",
            "desiredReplicas",
        ],
    );
    if let Some(u) = status
        .get("currentCPUUtilizationPercentage")
        .filter(|u| !u.is_null())
    {
        v2_status.insert(
            "currentMetrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": u}}}]),
        );
    }
    if let Some(conditions) = parsed(CONDITIONS_ANNOTATION).filter(Value::is_array) {
        v2_status.insert("conditions".into(), conditions);
    }

    let mut out = json!({
        "kind": super::KIND,
        "apiVersion": STORED_API_VERSION,
        "metadata": meta,
        "spec": v2_spec,
    });
    if hpa.get("status").is_some() {
        out["status"] = Value::Object(v2_status);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(metrics: Value) -> Value {
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default", "annotations": {"team": "a"}},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 2, "maxReplicas": 5, "metrics": metrics},
            "status": {"desiredReplicas": 0},
        })
    }

    fn cpu(u: i64) -> Value {
        json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": u}}})
    }

    #[test]
    fn cpu_utilization_becomes_the_v1_percentage_and_back() {
        let stored = v2(json!([cpu(80)]));
        let served = to_v1(&stored);
        assert_eq!(served["apiVersion"], "autoscaling/v1");
        assert_eq!(
            served["spec"],
            json!({"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                   "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80})
        );
        // v1 prints both replica counts (no omitempty there).
        assert_eq!(
            served["status"],
            json!({"currentReplicas": 0, "desiredReplicas": 0})
        );
        assert_eq!(served["metadata"]["annotations"], json!({"team": "a"}));
        let back = from_v1(&served);
        assert_eq!(back["apiVersion"], "autoscaling/v2");
        assert_eq!(back["spec"], stored["spec"]);
        assert_eq!(back["metadata"], stored["metadata"]);
    }

    #[test]
    fn only_the_first_cpu_metric_counts_and_only_with_a_utilization() {
        let value_target = json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "AverageValue", "averageValue": "500m"}}});
        let served = to_v1(&v2(json!([value_target, cpu(50)])));
        assert!(
            served["spec"]
                .get("targetCPUUtilizationPercentage")
                .is_none()
        );
        let memory = json!({"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 70}}});
        let served = to_v1(&v2(json!([memory, cpu(60)])));
        assert_eq!(served["spec"]["targetCPUUtilizationPercentage"], 60);
    }

    #[test]
    fn no_percentage_means_no_metrics_until_defaulted() {
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}});
        let stored = from_v1(&v1);
        assert!(stored["spec"].get("metrics").is_none());
        assert!(stored.get("status").is_none());
    }

    #[test]
    fn status_cpu_and_round_trip_annotations() {
        let mut stored = v2(json!([cpu(80)]));
        stored["spec"]["behavior"] = json!({"scaleDown": {"selectPolicy": "Min", "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}});
        stored["status"] = json!({
            "currentReplicas": 2, "desiredReplicas": 3,
            "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 95, "averageValue": "95m"}}}],
            "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}],
        });
        let served = to_v1(&stored);
        assert_eq!(served["status"]["currentCPUUtilizationPercentage"], 95);
        assert_eq!(served["status"]["currentReplicas"], 2);
        let annotations = &served["metadata"]["annotations"];
        assert_eq!(
            annotations[BEHAVIOR_ANNOTATION],
            r#"{"scaleDown":{"selectPolicy":"Min","policies":[{"type":"Pods","value":1,"periodSeconds":60}]}}"#
        );
        assert!(
            annotations[CONDITIONS_ANNOTATION]
                .as_str()
                .unwrap()
                .contains("ReadyForNewScale")
        );
        let back = from_v1(&served);
        assert_eq!(back["spec"]["behavior"], stored["spec"]["behavior"]);
        assert_eq!(back["status"]["conditions"], stored["status"]["conditions"]);
        // The annotations are conversion's own: they are not stored.
        assert_eq!(back["metadata"]["annotations"], json!({"team": "a"}));
        assert_eq!(
            back["status"]["currentMetrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 95}}}])
        );
    }

    #[test]
    fn other_metrics_ride_in_the_annotation_and_come_back_before_the_cpu_one() {
        let memory = json!({"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}});
        let stored = v2(json!([cpu(70), memory.clone()]));
        let served = to_v1(&stored);
        assert_eq!(served["spec"]["targetCPUUtilizationPercentage"], 70);
        assert_eq!(
            served["metadata"]["annotations"][METRIC_SPECS_ANNOTATION],
            r#"[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}}]"#
        );
        let back = from_v1(&served);
        assert_eq!(back["spec"]["metrics"], json!([memory, cpu(70)]));
        assert_eq!(back["metadata"]["annotations"], json!({"team": "a"}));
    }

    #[test]
    fn v2_objects_lose_the_round_trip_annotations() {
        let mut stored = v2(json!([cpu(80)]));
        stored["metadata"]["annotations"][BEHAVIOR_ANNOTATION] = json!("{}");
        drop_round_trip_annotations(&mut stored);
        assert_eq!(stored["metadata"]["annotations"], json!({"team": "a"}));
    }
}
