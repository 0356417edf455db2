//! The printer of HorizontalPodAutoscalers, as kube-apiserver v1.32 prints them
//! (pkg/printers/internalversion/printers.go: `horizontalPodAutoscalerColumnDefinitions`,
//! `printHorizontalPodAutoscaler`, `formatHPAMetrics`). Both versions print the v2 form: the
//! v1 view is converted back first, as upstream prints the one internal type.

use serde_json::Value;

use super::{
    TableColumnDefinition, age_cell, age_column, column, int_at, list_at, name_cell, name_column,
    str_at,
};

/// The descriptions upstream takes from `autoscalingv2beta1.HorizontalPodAutoscalerSpec{}` and
/// `…Status{}.SwaggerDoc()`.
const DESC_REFERENCE: &str = "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.";
const DESC_TARGETS: &str = "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.";
const DESC_MIN_PODS: &str = "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.";
const DESC_MAX_PODS: &str = "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.";
const DESC_REPLICAS: &str = "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.";

/// How many metrics the Targets column shows before `+ N more...`.
const SHOWN_METRICS: usize = 2;
/// What a metric without a reading shows (no HPA controller runs here, as on a cluster
/// without metrics-server).
const UNKNOWN: &str = "<unknown>";

/// Columns of `kubectl get hpa`.
pub fn horizontal_pod_autoscaler_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Reference", "string", 0, DESC_REFERENCE),
        column("Targets", "string", 0, DESC_TARGETS),
        column("MinPods", "string", 0, DESC_MIN_PODS),
        column("MaxPods", "string", 0, DESC_MAX_PODS),
        column("Replicas", "string", 0, DESC_REPLICAS),
        age_column(),
    ]
}

/// Cells of an autoscaling/v2 HorizontalPodAutoscaler's row.
pub fn horizontal_pod_autoscaler_cells(hpa: &Value, now: i64) -> Vec<Value> {
    let reference = format!(
        "{}/{}",
        str_at(hpa, &["spec", "scaleTargetRef", "kind"]),
        str_at(hpa, &["spec", "scaleTargetRef", "name"])
    );
    let min_pods = int_at(hpa, &["spec", "minReplicas"])
        .map_or_else(|| "<unset>".to_owned(), |n| n.to_string());
    vec![
        name_cell(hpa),
        Value::from(reference),
        Value::from(format_metrics(
            list_at(hpa, &["spec", "metrics"]),
            list_at(hpa, &["status", "currentMetrics"]),
        )),
        Value::from(min_pods),
        Value::from(int_at(hpa, &["spec", "maxReplicas"]).unwrap_or(0)),
        Value::from(int_at(hpa, &["status", "currentReplicas"]).unwrap_or(0)),
        age_cell(hpa, now),
    ]
}

/// A Quantity at `path`, as given.
fn quantity(v: Option<&Value>, path: &[&str]) -> String {
    v.and_then(|v| super::at(v, path))
        .and_then(Value::as_str)
        .unwrap_or("0")
        .to_owned()
}

/// A set field at `path` of `v`.
fn set<'a>(v: Option<&'a Value>, path: &[&str]) -> Option<&'a Value> {
    v.and_then(|v| super::at(v, path)).filter(|x| !x.is_null())
}

/// `formatHPAMetrics`: each metric as `current/target`, `<unknown>` before a reading.
pub fn format_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".to_owned();
    }
    let mut list: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let entry = match str_at(spec, &["type"]) {
            // The Object and External sources print `(avg)` for a per-pod target.
            source @ ("External" | "Object") => {
                let key = if source == "External" {
                    "external"
                } else {
                    "object"
                };
                let current_of = |field: &str| {
                    set(status, &[key]).map(|_| quantity(status, &[key, "current", field]))
                };
                if set(Some(spec), &[key, "target", "averageValue"]).is_some() {
                    let current = set(status, &[key, "current", "averageValue"])
                        .map(|_| quantity(status, &[key, "current", "averageValue"]))
                        .unwrap_or_else(|| UNKNOWN.to_owned());
                    let target = quantity(Some(spec), &[key, "target", "averageValue"]);
                    format!("{current}/{target} (avg)")
                } else {
                    let current = current_of("value").unwrap_or_else(|| UNKNOWN.to_owned());
                    format!(
                        "{current}/{}",
                        quantity(Some(spec), &[key, "target", "value"])
                    )
                }
            }
            "Pods" => {
                let current = set(status, &["pods"])
                    .map(|_| quantity(status, &["pods", "current", "averageValue"]))
                    .unwrap_or_else(|| UNKNOWN.to_owned());
                format!(
                    "{current}/{}",
                    quantity(Some(spec), &["pods", "target", "averageValue"])
                )
            }
            source @ ("Resource" | "ContainerResource") => {
                let key = if source == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let name = str_at(spec, &[key, "name"]);
                if set(Some(spec), &[key, "target", "averageValue"]).is_some() {
                    let current = set(status, &[key])
                        .map(|_| quantity(status, &[key, "current", "averageValue"]))
                        .unwrap_or_else(|| UNKNOWN.to_owned());
                    let target = quantity(Some(spec), &[key, "target", "averageValue"]);
                    format!("{name}: {current}/{target}")
                } else {
                    let current = set(status, &[key, "current", "averageUtilization"])
                        .and_then(Value::as_i64)
                        .map_or_else(|| UNKNOWN.to_owned(), |u| format!("{u}%"));
                    let target = set(Some(spec), &[key, "target", "averageUtilization"])
                        .and_then(Value::as_i64)
                        .map_or_else(|| "<auto>".to_owned(), |u| format!("{u}%"));
                    format!("{name}: {current}/{target}")
                }
            }
            _ => "<unknown type>".to_owned(),
        };
        list.push(entry);
    }
    let count = list.len();
    if count > SHOWN_METRICS {
        list.truncate(SHOWN_METRICS);
        return format!("{} + {} more...", list.join(", "), count - SHOWN_METRICS);
    }
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cpu(u: i64) -> Value {
        json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": u}}})
    }

    #[test]
    fn a_new_autoscaler_prints_unknown_targets() {
        let hpa = json!({
            "metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": 2, "maxReplicas": 5, "metrics": [cpu(80)]},
            "status": {"desiredReplicas": 0},
        });
        let now = 1_767_225_600 + 90;
        assert_eq!(
            horizontal_pod_autoscaler_cells(&hpa, now),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: <unknown>/80%"),
                json!("2"),
                json!(5),
                json!(0),
                json!("90s")
            ]
        );
        let names: Vec<String> = horizontal_pod_autoscaler_columns()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(
            names,
            [
                "Name",
                "Reference",
                "Targets",
                "MinPods",
                "MaxPods",
                "Replicas",
                "Age"
            ]
        );
    }

    #[test]
    fn metrics_with_readings_and_more_than_two() {
        let specs = [
            cpu(80),
            json!({"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}),
            json!({"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}),
            json!({"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "AverageValue", "averageValue": "30"}}}),
        ];
        let statuses = [
            json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 35, "averageValue": "35m"}}}),
            json!({"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "60Mi"}}}),
        ];
        assert_eq!(
            format_metrics(&specs, &statuses),
            "cpu: 35%/80%, memory: 60Mi/100Mi + 2 more..."
        );
        assert_eq!(
            format_metrics(&specs[2..], &[]),
            "<unknown>/10, <unknown>/30 (avg)"
        );
        assert_eq!(format_metrics(&[], &[]), "<none>");
        let no_min = json!({"metadata": {"name": "x"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "maxReplicas": 1}});
        assert_eq!(
            horizontal_pod_autoscaler_cells(&no_min, 0)[3],
            json!("<unset>")
        );
    }
}
