//! The validation of HorizontalPodAutoscalers (pkg/apis/autoscaling/validation/validation.go,
//! v1.32: the `HPAScaleToZero` gate is alpha and off, `HPAContainerMetrics` is GA). Metadata is
//! validated by the registry's generic rules (names are DNS subdomains,
//! `ValidateReplicationControllerName`).

use crate::json::Pointer as _;
use serde_json::Value;

use crate::field::{FieldError, FieldErrors, Raw};
use crate::format::{self, validate_path_segment_name};
use crate::workload::qos::quantity_nanos;

/// `MaxPeriodSeconds`: the longest scaling policy period.
const MAX_PERIOD_SECONDS: i64 = 1800;
/// `MaxStabilizationWindowSeconds`: the longest stabilization window.
const MAX_STABILIZATION_WINDOW_SECONDS: i64 = 3600;
/// `validMetricSourceTypesList` (a sorted set).
const METRIC_SOURCE_TYPES: [&str; 5] = [
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];
/// `validSelectPolicyTypesList` (a sorted set).
const SELECT_POLICIES: [&str; 3] = ["Disabled", "Max", "Min"];
/// `validPolicyTypesList` (a sorted set).
const POLICY_TYPES: [&str; 2] = ["Percent", "Pods"];

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn int_of(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// A set (non-null) object field.
fn object_of<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| x.is_object())
}

/// A Quantity's sign (`Sign()`), `None` when it does not parse (decoding rejects those).
fn quantity_sign(q: &Value) -> Option<i128> {
    q.as_str().and_then(quantity_nanos).map(i128::signum)
}

/// `ValidateHorizontalPodAutoscaler` (`old` None) or `ValidateHorizontalPodAutoscalerUpdate`,
/// after the metadata's; the status rules of `ValidateHorizontalPodAutoscalerStatusUpdate`
/// hold for every write (a spec write keeps the stored status).
pub fn validate(hpa: &Value, old: Option<&Value>) -> FieldErrors {
    // An update may keep minReplicas 0 if the stored object has it (the gate was on once).
    let lower_bound = match old
        .and_then(|o| o.at("/spec/minReplicas"))
        .and_then(Value::as_i64)
    {
        Some(0) => 0,
        _ => 1,
    };
    let empty = Value::Object(Default::default());
    let spec = hpa.get("spec").unwrap_or(&empty);
    let mut errs = validate_spec(spec, "spec", lower_bound);
    if old.is_some() {
        let status = hpa.get("status").unwrap_or(&empty);
        for key in ["currentReplicas", "desiredReplicas"] {
            if let Some(n) = int_of(status, key).filter(|n| *n < 0) {
                errs.push(FieldError::invalid(
                    format!("status.{key}"),
                    n,
                    "must be greater than or equal to 0",
                ));
            }
        }
    }
    errs
}

fn validate_spec(spec: &Value, path: &str, lower_bound: i64) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let min = int_of(spec, "minReplicas");
    if let Some(min) = min.filter(|m| *m < lower_bound) {
        errs.push(FieldError::invalid(
            format!("{path}.minReplicas"),
            min,
            format!("must be greater than or equal to {lower_bound}"),
        ));
    }
    let max = int_of(spec, "maxReplicas").unwrap_or(0);
    if max < 1 {
        errs.push(FieldError::invalid(
            format!("{path}.maxReplicas"),
            max,
            "must be greater than 0",
        ));
    }
    if let Some(min) = min
        && max < min
    {
        errs.push(FieldError::invalid(
            format!("{path}.maxReplicas"),
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    let empty = Value::Object(Default::default());
    errs.extend(validate_reference(
        spec.get("scaleTargetRef").unwrap_or(&empty),
        &format!("{path}.scaleTargetRef"),
    ));
    errs.extend(validate_metrics(
        spec.get("metrics"),
        &format!("{path}.metrics"),
        min,
    ));
    if let Some(behavior) = object_of(spec, "behavior") {
        for key in ["scaleUp", "scaleDown"] {
            if let Some(rules) = object_of(behavior, key) {
                errs.extend(validate_scaling_rules(
                    rules,
                    &format!("{path}.behavior.{key}"),
                ));
            }
        }
    }
    errs
}

/// `ValidateCrossVersionObjectReference`: kind and name required, each a path segment.
fn validate_reference(reference: &Value, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    for key in ["kind", "name"] {
        let value = str_of(reference, key);
        if value.is_empty() {
            errs.push(FieldError::required(format!("{path}.{key}"), ""));
        } else {
            for msg in validate_path_segment_name(value, false) {
                errs.push(FieldError::invalid(format!("{path}.{key}"), value, msg));
            }
        }
    }
    errs
}

fn validate_metrics(metrics: Option<&Value>, path: &str, min: Option<i64>) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let metrics = metrics
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut object_or_external = false;
    for (i, metric) in metrics.iter().enumerate() {
        errs.extend(validate_metric_spec(metric, &format!("{path}[{i}]")));
        object_or_external |= matches!(str_of(metric, "type"), "Object" | "External");
    }
    if min == Some(0) && !object_or_external {
        errs.push(FieldError::forbidden(
            path,
            "must specify at least one Object or External metric to support scaling to zero replicas",
        ));
    }
    errs
}

fn validate_metric_spec(spec: &Value, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let kind = str_of(spec, "type");
    if kind.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.type"),
            "must specify a metric source type",
        ));
    }
    if !METRIC_SOURCE_TYPES.contains(&kind) {
        errs.push(FieldError::not_supported(
            format!("{path}.type"),
            kind,
            &METRIC_SOURCE_TYPES,
        ));
    }
    // Only the first source present is validated; the others are reported as extra below.
    let mut present: Vec<&str> = Vec::new();
    for source in [
        "object",
        "external",
        "pods",
        "resource",
        "containerResource",
    ] {
        let Some(src) = object_of(spec, source) else {
            continue;
        };
        present.push(source);
        if present.len() > 1 {
            continue;
        }
        let p = format!("{path}.{source}");
        errs.extend(match source {
            "object" => validate_object_source(src, &p),
            "external" => validate_external_source(src, &p),
            "pods" => validate_pods_source(src, &p),
            "resource" => validate_resource_source(src, &p),
            _ => validate_container_resource_source(src, &p),
        });
    }
    let expected = match kind {
        "Object" => "object",
        "Pods" => "pods",
        "Resource" => "resource",
        "External" => "external",
        "ContainerResource" => "containerResource",
        _ => {
            errs.push(FieldError::not_supported(
                format!("{path}.type"),
                kind,
                &METRIC_SOURCE_TYPES,
            ));
            ""
        }
    };
    if !expected.is_empty() && !present.contains(&expected) {
        errs.push(FieldError::required(
            format!("{path}.{expected}"),
            "must populate information for the given metric source",
        ));
    }
    if present.len() != 1 {
        // Upstream ranges over a set: its order is Go's map order; ours is sorted.
        let mut extra: Vec<&str> = present.into_iter().filter(|s| *s != expected).collect();
        extra.sort_unstable();
        for source in extra {
            errs.push(FieldError::forbidden(
                format!("{path}.{source}"),
                "must populate the given metric source only",
            ));
        }
    }
    errs
}

fn target_of(src: &Value) -> Value {
    src.get("target")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()))
}

fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

fn validate_object_source(src: &Value, path: &str) -> FieldErrors {
    let empty = Value::Object(Default::default());
    let mut errs = validate_reference(
        src.get("describedObject").unwrap_or(&empty),
        &format!("{path}.describedObject"),
    );
    let (more, target) = metric_and_target(src, path);
    errs.extend(more);
    if !has(&target, "value") && !has(&target, "averageValue") {
        errs.push(FieldError::required(
            format!("{path}.target.averageValue"),
            "must set either a target value or averageValue",
        ));
    }
    errs
}

/// The `metric` and `target` every metric source but Resource and ContainerResource has:
/// their errors, and the target for the source's own checks.
fn metric_and_target(src: &Value, path: &str) -> (FieldErrors, Value) {
    let empty = Value::Object(Default::default());
    let mut errs = validate_metric_identifier(
        src.get("metric").unwrap_or(&empty),
        &format!("{path}.metric"),
    );
    let target = target_of(src);
    errs.extend(validate_metric_target(&target, &format!("{path}.target")));
    (errs, target)
}

fn validate_external_source(src: &Value, path: &str) -> FieldErrors {
    let (mut errs, target) = metric_and_target(src, path);
    let (value, average) = (has(&target, "value"), has(&target, "averageValue"));
    if !value && !average {
        errs.push(FieldError::required(
            format!("{path}.target.averageValue"),
            "must set either a target value for metric or a per-pod target",
        ));
    }
    if value && average {
        errs.push(FieldError::forbidden(
            format!("{path}.target.value"),
            "may not set both a target value for metric and a per-pod target",
        ));
    }
    errs
}

fn validate_pods_source(src: &Value, path: &str) -> FieldErrors {
    let (mut errs, target) = metric_and_target(src, path);
    if !has(&target, "averageValue") {
        errs.push(FieldError::required(
            format!("{path}.target.averageValue"),
            "must specify a positive target averageValue",
        ));
    }
    errs
}

/// The rules a Resource and a ContainerResource source share on their target.
fn validate_utilization_or_value(target: &Value, path: &str, errs: &mut FieldErrors) {
    let (utilization, average) = (
        has(target, "averageUtilization"),
        has(target, "averageValue"),
    );
    if !utilization && !average {
        errs.push(FieldError::required(
            format!("{path}.target.averageUtilization"),
            "must set either a target raw value or a target utilization",
        ));
    }
    if utilization && average {
        errs.push(FieldError::forbidden(
            format!("{path}.target.averageValue"),
            "may not set both a target raw value and a target utilization",
        ));
    }
}

fn validate_resource_source(src: &Value, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if str_of(src, "name").is_empty() {
        errs.push(FieldError::required(
            format!("{path}.name"),
            "must specify a resource name",
        ));
    }
    let target = target_of(src);
    errs.extend(validate_metric_target(&target, &format!("{path}.target")));
    validate_utilization_or_value(&target, path, &mut errs);
    errs
}

fn validate_container_resource_source(src: &Value, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if str_of(src, "name").is_empty() {
        errs.push(FieldError::required(
            format!("{path}.name"),
            "must specify a resource name",
        ));
    }
    let container = str_of(src, "container");
    if container.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.container"),
            "must specify a container",
        ));
    } else {
        for msg in format::is_dns1123_label(container) {
            errs.push(FieldError::invalid(
                format!("{path}.container"),
                container,
                msg,
            ));
        }
    }
    let target = target_of(src);
    errs.extend(validate_metric_target(&target, &format!("{path}.target")));
    validate_utilization_or_value(&target, path, &mut errs);
    errs
}

fn validate_metric_target(target: &Value, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let kind = str_of(target, "type");
    if kind.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.type"),
            "must specify a metric target type",
        ));
    }
    if !matches!(kind, "Utilization" | "Value" | "AverageValue") {
        errs.push(FieldError::invalid(
            format!("{path}.type"),
            kind,
            "must be either Utilization, Value, or AverageValue",
        ));
    }
    for key in ["value", "averageValue"] {
        if let Some(q) = target.get(key).filter(|q| !q.is_null())
            && quantity_sign(q) != Some(1)
        {
            let text = q.as_str().unwrap_or_default().to_string();
            errs.push(FieldError::invalid(
                format!("{path}.{key}"),
                Raw(text),
                "must be positive",
            ));
        }
    }
    if let Some(u) = int_of(target, "averageUtilization").filter(|u| *u < 1) {
        errs.push(FieldError::invalid(
            format!("{path}.averageUtilization"),
            u,
            "must be greater than 0",
        ));
    }
    errs
}

fn validate_metric_identifier(id: &Value, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let name = str_of(id, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.name"),
            "must specify a metric name",
        ));
    } else {
        for msg in validate_path_segment_name(name, false) {
            errs.push(FieldError::invalid(format!("{path}.name"), name, msg));
        }
    }
    errs
}

fn validate_scaling_rules(rules: &Value, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if let Some(window) = int_of(rules, "stabilizationWindowSeconds") {
        if window < 0 {
            errs.push(FieldError::invalid(
                format!("{path}.stabilizationWindowSeconds"),
                window,
                "must be greater than or equal to zero",
            ));
        }
        if window > MAX_STABILIZATION_WINDOW_SECONDS {
            errs.push(FieldError::invalid(
                format!("{path}.stabilizationWindowSeconds"),
                window,
                format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"),
            ));
        }
    }
    if let Some(select) = rules.get("selectPolicy").and_then(Value::as_str)
        && !SELECT_POLICIES.contains(&select)
    {
        errs.push(FieldError::not_supported(
            format!("{path}.selectPolicy"),
            select,
            &SELECT_POLICIES,
        ));
    }
    let policies = rules
        .get("policies")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if policies.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.policies"),
            "must specify at least one Policy",
        ));
    }
    for (i, policy) in policies.iter().enumerate() {
        let p = format!("{path}.policies[{i}]");
        let kind = str_of(policy, "type");
        if !POLICY_TYPES.contains(&kind) {
            errs.push(FieldError::not_supported(
                format!("{p}.type"),
                kind,
                &POLICY_TYPES,
            ));
        }
        let value = int_of(policy, "value").unwrap_or(0);
        if value <= 0 {
            errs.push(FieldError::invalid(
                format!("{p}.value"),
                value,
                "must be greater than zero",
            ));
        }
        let period = int_of(policy, "periodSeconds").unwrap_or(0);
        if period <= 0 {
            errs.push(FieldError::invalid(
                format!("{p}.periodSeconds"),
                period,
                "must be greater than zero",
            ));
        }
        if period > MAX_PERIOD_SECONDS {
            errs.push(FieldError::invalid(
                format!("{p}.periodSeconds"),
                period,
                format!("must be less than or equal to {MAX_PERIOD_SECONDS}"),
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hpa(spec: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": spec})
    }

    fn texts(errs: &FieldErrors) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    fn web_ref() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"})
    }

    #[test]
    fn a_defaulted_autoscaler_is_valid() {
        let mut h = hpa(json!({"scaleTargetRef": web_ref(), "maxReplicas": 5}));
        super::super::defaults::set_defaults(&mut h);
        assert!(
            validate(&h, None).is_empty(),
            "{:?}",
            texts(&validate(&h, None))
        );
    }

    #[test]
    fn max_below_min_and_missing_reference_in_upstreams_words() {
        let h = hpa(
            json!({"scaleTargetRef": {}, "minReplicas": 3, "maxReplicas": 2,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}),
        );
        assert_eq!(
            texts(&validate(&h, None)),
            [
                "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
                "spec.scaleTargetRef.kind: Required value",
                "spec.scaleTargetRef.name: Required value",
            ]
        );
    }

    #[test]
    fn min_replicas_zero_is_refused_unless_stored_so() {
        let spec = json!({"scaleTargetRef": web_ref(), "minReplicas": 0, "maxReplicas": 2,
            "metrics": [{"type": "Object", "object": {"describedObject": web_ref(), "metric": {"name": "qps"}, "target": {"type": "Value", "value": "10"}}}]});
        assert_eq!(
            texts(&validate(&hpa(spec.clone()), None)),
            ["spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"]
        );
        assert!(validate(&hpa(spec.clone()), Some(&hpa(spec))).is_empty());
    }

    #[test]
    fn metric_rules() {
        let h = hpa(
            json!({"scaleTargetRef": web_ref(), "minReplicas": 1, "maxReplicas": 0, "metrics": [
                {"type": "Resource", "resource": {"name": "", "target": {"type": "Utilization", "averageUtilization": 0}}},
                {"type": "Pods"},
                {"type": "Bogus", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                {"type": "Pods", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                 "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
            ]}),
        );
        assert_eq!(
            texts(&validate(&h, None)),
            [
                "spec.maxReplicas: Invalid value: 0: must be greater than 0",
                "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`",
                "spec.metrics[0].resource.name: Required value: must specify a resource name",
                "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0",
                "spec.metrics[1].pods: Required value: must populate information for the given metric source",
                // Twice, as upstream: once for the set, once for the switch.
                "spec.metrics[2].type: Unsupported value: \"Bogus\": supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"",
                "spec.metrics[2].type: Unsupported value: \"Bogus\": supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"",
                // Two sources: only the first is validated, the other is refused.
                "spec.metrics[3].resource: Forbidden: must populate the given metric source only",
            ]
        );
    }

    #[test]
    fn behavior_rules() {
        let h = hpa(
            json!({"scaleTargetRef": web_ref(), "maxReplicas": 2, "minReplicas": 1,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
            "behavior": {"scaleUp": {"stabilizationWindowSeconds": 4000, "selectPolicy": "Most", "policies": [{"type": "Pods", "value": 0, "periodSeconds": 1801}]},
                         "scaleDown": {"policies": []}}}),
        );
        assert_eq!(
            texts(&validate(&h, None)),
            [
                "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600",
                "spec.behavior.scaleUp.selectPolicy: Unsupported value: \"Most\": supported values: \"Disabled\", \"Max\", \"Min\"",
                "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero",
                "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800",
                "spec.behavior.scaleDown.policies: Required value: must specify at least one Policy",
            ]
        );
    }
}
