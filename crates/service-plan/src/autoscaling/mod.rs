//! HorizontalPodAutoscalers as kube-apiserver v1.32 serves them: stored as autoscaling/v2,
//! served as autoscaling/v2 and as autoscaling/v1, a converted view of the same objects.
//! Defaults mirror `pkg/apis/autoscaling/v2/defaults.go`, validation
//! `pkg/apis/autoscaling/validation/validation.go`, the strategy
//! `pkg/registry/autoscaling/horizontalpodautoscaler/strategy.go` and the v1 conversion
//! `pkg/apis/autoscaling/v1/conversion.go`. No controller acts on them: with no metrics
//! pipeline their targets stay `<unknown>`, as on a cluster without metrics-server.

pub mod conversion;
pub mod defaults;
mod v1_metrics;
pub mod validation;

/// The autoscaling API group.
pub const GROUP_NAME: &str = "autoscaling";
/// The version HorizontalPodAutoscalers are stored in (and the preferred one).
pub const STORED_VERSION: &str = "v2";
/// The apiVersion of the stored form.
pub const STORED_API_VERSION: &str = "autoscaling/v2";
/// The apiVersion of the v1 view.
pub const V1_API_VERSION: &str = "autoscaling/v1";
/// The kind, the same in both versions.
pub const KIND: &str = "HorizontalPodAutoscaler";
/// `autoscaling.DefaultCPUUtilization`: the target of an autoscaler that names no metric.
pub const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// The Resource metric `cpu` at `utilization` percent, as v2 spells it.
fn cpu_utilization_metric(utilization: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "type": "Resource",
        "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": utilization},
        },
    })
}

/// What decoding an autoscaling/v2 body does besides the type's own decoding: upstream's
/// conversion drops the v1 view's round-trip annotations, then the v2 defaults apply.
pub fn on_decode(hpa: &mut serde_json::Value) {
    conversion::drop_round_trip_annotations(hpa);
    defaults::set_defaults(hpa);
}

/// `prepareForCreate` of the strategy: a create cannot set status. The empty v2 status
/// serializes as `{"desiredReplicas": 0}` (`currentReplicas` is omitempty in v2, not
/// `desiredReplicas`).
pub fn prepare_for_create(hpa: &mut serde_json::Value) {
    if let Some(o) = hpa.as_object_mut() {
        o.insert("status".into(), serde_json::json!({"desiredReplicas": 0}));
    }
}
