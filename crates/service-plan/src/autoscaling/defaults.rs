//! `SetDefaults_HorizontalPodAutoscaler` of autoscaling/v2 (pkg/apis/autoscaling/v2/defaults.go,
//! v1.32: no `selectionStrategy` and no `tolerance` yet).

use serde_json::{Map, Value, json};

use super::{DEFAULT_CPU_UTILIZATION, cpu_utilization_metric};

/// `defaultHPAScaleUpRules`: the scale-up behaviour of autoscalers before `behavior` existed.
fn default_scale_up() -> Value {
    json!({
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ],
    })
}

/// `defaultHPAScaleDownRules`: no stabilization window, as that one is the controller's flag.
fn default_scale_down() -> Value {
    json!({
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    })
}

/// `copyHPAScalingRules`: the rules' set fields over the defaults.
fn scaling_rules(given: Option<&Value>, mut defaults: Value) -> Value {
    if let (Some(Value::Object(given)), Some(out)) = (given, defaults.as_object_mut()) {
        for key in ["selectPolicy", "stabilizationWindowSeconds", "policies"] {
            if let Some(v) = given.get(key).filter(|v| !v.is_null()) {
                out.insert(key.into(), v.clone());
            }
        }
    }
    defaults
}

/// Defaults an autoscaling/v2 HorizontalPodAutoscaler: `minReplicas` 1, a CPU target of 80%
/// when no metric is named, and every unset scaling rule of a `behavior` that is set.
pub fn set_defaults(hpa: &mut Value) {
    let Some(root) = hpa.as_object_mut() else {
        return;
    };
    let spec = root
        .entry("spec")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(spec) = spec.as_object_mut() else {
        return;
    };
    if spec.get("minReplicas").is_none_or(Value::is_null) {
        spec.insert("minReplicas".into(), Value::from(1));
    }
    let no_metrics = spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if no_metrics {
        spec.insert(
            "metrics".into(),
            json!([cpu_utilization_metric(Value::from(DEFAULT_CPU_UTILIZATION))]),
        );
    }
    if let Some(Value::Object(behavior)) = spec.get_mut("behavior") {
        let up = scaling_rules(behavior.get("scaleUp"), default_scale_up());
        let down = scaling_rules(behavior.get("scaleDown"), default_scale_down());
        behavior.insert("scaleUp".into(), up);
        behavior.insert("scaleDown".into(), down);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_spec_gets_min_replicas_one_and_cpu_80_percent() {
        let mut hpa = json!({"spec": {"maxReplicas": 3}});
        set_defaults(&mut hpa);
        assert_eq!(hpa["spec"]["minReplicas"], 1);
        assert_eq!(
            hpa["spec"]["metrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}])
        );
        assert!(hpa["spec"].get("behavior").is_none());
    }

    #[test]
    fn set_fields_are_kept() {
        let memory = json!([{"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}]);
        let mut hpa = json!({"spec": {"minReplicas": 3, "maxReplicas": 5, "metrics": memory}});
        set_defaults(&mut hpa);
        assert_eq!(hpa["spec"]["minReplicas"], 3);
        assert_eq!(hpa["spec"]["metrics"], memory);
    }

    #[test]
    fn a_set_behavior_gets_every_unset_rule() {
        let mut hpa = json!({"spec": {"maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}});
        set_defaults(&mut hpa);
        let behavior = &hpa["spec"]["behavior"];
        assert_eq!(behavior["scaleUp"], default_scale_up());
        assert_eq!(
            behavior["scaleDown"],
            json!({"stabilizationWindowSeconds": 60, "selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]})
        );
    }
}
