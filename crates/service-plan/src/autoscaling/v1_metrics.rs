//! The autoscaling/v1 `MetricSpec` shape (v2beta1's: `targetAverageUtilization`,
//! `metricName`, …) in which v1 keeps the metrics it cannot say in the
//! `autoscaling.alpha.kubernetes.io/metrics` annotation, and back to v2
//! (pkg/apis/autoscaling/v1/conversion.go, `Convert_autoscaling_*MetricSource_To_v1_*` and back).
//! Fields are written in the Go structs' order, as `json.Marshal` writes them.

use crate::json::Pointer as _;
use serde_json::{Map, Value};

/// Copies `from[from_key]` to `to[to_key]` when set.
fn put(to: &mut Map<String, Value>, to_key: &str, from: Option<&Value>) {
    if let Some(v) = from.filter(|v| !v.is_null()) {
        to.insert(to_key.to_owned(), v.clone());
    }
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.at(path)
}

/// A v2 metric as v1's annotation spells it.
pub fn spec_to_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    put(&mut out, "type", metric.get("type"));
    if let Some(src) = metric.get("object").filter(|v| v.is_object()) {
        let mut o = Map::new();
        put(&mut o, "target", src.get("describedObject"));
        put(&mut o, "metricName", at(src, "/metric/name"));
        // `targetValue` is not a pointer in v1: Go writes the zero Quantity.
        let value = at(src, "/target/value")
            .cloned()
            .unwrap_or(Value::from("0"));
        o.insert("targetValue".into(), value);
        put(&mut o, "selector", at(src, "/metric/selector"));
        put(&mut o, "averageValue", at(src, "/target/averageValue"));
        out.insert("object".into(), Value::Object(o));
    }
    if let Some(src) = metric.get("pods").filter(|v| v.is_object()) {
        let mut o = Map::new();
        put(&mut o, "metricName", at(src, "/metric/name"));
        let value = at(src, "/target/averageValue")
            .cloned()
            .unwrap_or(Value::from("0"));
        o.insert("targetAverageValue".into(), value);
        put(&mut o, "selector", at(src, "/metric/selector"));
        out.insert("pods".into(), Value::Object(o));
    }
    for key in ["resource", "containerResource"] {
        if let Some(src) = metric.get(key).filter(|v| v.is_object()) {
            let mut o = Map::new();
            put(&mut o, "name", src.get("name"));
            put(
                &mut o,
                "targetAverageUtilization",
                at(src, "/target/averageUtilization"),
            );
            put(
                &mut o,
                "targetAverageValue",
                at(src, "/target/averageValue"),
            );
            put(&mut o, "container", src.get("container"));
            out.insert(key.into(), Value::Object(o));
        }
    }
    if let Some(src) = metric.get("external").filter(|v| v.is_object()) {
        let mut o = Map::new();
        put(&mut o, "metricName", at(src, "/metric/name"));
        put(&mut o, "metricSelector", at(src, "/metric/selector"));
        put(&mut o, "targetValue", at(src, "/target/value"));
        put(
            &mut o,
            "targetAverageValue",
            at(src, "/target/averageValue"),
        );
        out.insert("external".into(), Value::Object(o));
    }
    Value::Object(out)
}

/// A metric of v1's annotation as v2 spells it.
pub fn spec_from_v1(metric: &Value) -> Value {
    let mut out = Map::new();
    put(&mut out, "type", metric.get("type"));
    let identifier = |src: &Value, selector: &str| {
        let mut id = Map::new();
        put(&mut id, "name", src.get("metricName"));
        put(&mut id, "selector", src.get(selector));
        Value::Object(id)
    };
    if let Some(src) = metric.get("object").filter(|v| v.is_object()) {
        let average = src.get("averageValue").filter(|v| !v.is_null());
        let mut target = Map::new();
        let kind = if average.is_none() {
            "Value"
        } else {
            "AverageValue"
        };
        target.insert("type".into(), Value::from(kind));
        put(&mut target, "value", src.get("targetValue"));
        put(&mut target, "averageValue", average);
        let mut o = Map::new();
        put(&mut o, "describedObject", src.get("target"));
        o.insert("target".into(), Value::Object(target));
        o.insert("metric".into(), identifier(src, "selector"));
        out.insert("object".into(), Value::Object(o));
    }
    if let Some(src) = metric.get("pods").filter(|v| v.is_object()) {
        let mut target = Map::new();
        target.insert("type".into(), Value::from("AverageValue"));
        put(&mut target, "averageValue", src.get("targetAverageValue"));
        let mut o = Map::new();
        o.insert("metric".into(), identifier(src, "selector"));
        o.insert("target".into(), Value::Object(target));
        out.insert("pods".into(), Value::Object(o));
    }
    for key in ["resource", "containerResource"] {
        if let Some(src) = metric.get(key).filter(|v| v.is_object()) {
            let utilization = src.get("targetAverageUtilization").filter(|v| !v.is_null());
            let mut target = Map::new();
            let kind = if utilization.is_none() {
                "AverageValue"
            } else {
                "Utilization"
            };
            target.insert("type".into(), Value::from(kind));
            put(&mut target, "averageValue", src.get("targetAverageValue"));
            put(&mut target, "averageUtilization", utilization);
            let mut o = Map::new();
            put(&mut o, "name", src.get("name"));
            o.insert("target".into(), Value::Object(target));
            put(&mut o, "container", src.get("container"));
            out.insert(key.into(), Value::Object(o));
        }
    }
    if let Some(src) = metric.get("external").filter(|v| v.is_object()) {
        let value = src.get("targetValue").filter(|v| !v.is_null());
        let mut target = Map::new();
        let kind = if value.is_none() {
            "AverageValue"
        } else {
            "Value"
        };
        target.insert("type".into(), Value::from(kind));
        put(&mut target, "value", value);
        put(&mut target, "averageValue", src.get("targetAverageValue"));
        let mut o = Map::new();
        o.insert("metric".into(), identifier(src, "metricSelector"));
        o.insert("target".into(), Value::Object(target));
        out.insert("external".into(), Value::Object(o));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_source_round_trips_through_the_v1_shape() {
        let metrics = [
            json!({"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}),
            json!({"type": "ContainerResource", "containerResource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}, "container": "app"}}),
            json!({"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}),
            json!({"type": "Object", "object": {"describedObject": {"kind": "Ingress", "name": "main", "apiVersion": "networking.k8s.io/v1"},
                   "target": {"type": "Value", "value": "2k"}, "metric": {"name": "hits"}}}),
            json!({"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
                   "target": {"type": "AverageValue", "averageValue": "30"}}}),
        ];
        for metric in metrics {
            assert_eq!(spec_from_v1(&spec_to_v1(&metric)), metric, "{metric}");
        }
    }

    #[test]
    fn the_v1_shape_is_v2beta1s() {
        let memory = json!({"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 70}}});
        assert_eq!(
            serde_json::to_string(&spec_to_v1(&memory)).unwrap(),
            r#"{"type":"Resource","resource":{"name":"memory","targetAverageUtilization":70}}"#
        );
    }
}
