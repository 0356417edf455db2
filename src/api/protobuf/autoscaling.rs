//! The protobuf autoscaling/v1 HorizontalPodAutoscaler bodies kubectl's typed client sends
//! (`kubectl autoscale KIND NAME --min=N --max=M [--cpu-percent=P]`: kubectl v1.32 posts
//! autoscaling/v1 even where v2 is served), decoded into JSON. The messages hold the whole
//! v1 spec (k8s.io/api autoscaling/v1 generated.proto); a body with a field set that is not
//! read (the status is the server's, the metadata as other kinds read it) is refused, naming
//! the field, rather than stored without it.

use prost::Message;
use serde_json::{Map, Value, json};

use super::workload::{Fields, OBJECT_META, unread_field};
use super::{ObjectMeta, envelope, put_object, put_opt, put_str};

/// `autoscaling/v1.HorizontalPodAutoscaler` (status, field 3, is the server's and is not read).
#[derive(Clone, PartialEq, Message)]
struct HorizontalPodAutoscaler {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<Spec>,
}

/// `autoscaling/v1.HorizontalPodAutoscalerSpec`.
#[derive(Clone, PartialEq, Message)]
struct Spec {
    #[prost(message, optional, tag = "1")]
    scale_target_ref: Option<Reference>,
    #[prost(int32, optional, tag = "2")]
    min_replicas: Option<i32>,
    #[prost(int32, tag = "3")]
    max_replicas: i32,
    #[prost(int32, optional, tag = "4")]
    target_cpu_utilization_percentage: Option<i32>,
}

/// `autoscaling/v1.CrossVersionObjectReference`.
#[derive(Clone, PartialEq, Message)]
struct Reference {
    #[prost(string, tag = "1")]
    kind: String,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    api_version: String,
}

const HPA: Fields = Fields(&[
    (1, "metadata", Some(&OBJECT_META)),
    (
        2,
        "spec",
        Some(&Fields(&[
            (
                1,
                "scaleTargetRef",
                Some(&Fields(&[
                    (1, "kind", None),
                    (2, "name", None),
                    (3, "apiVersion", None),
                ])),
            ),
            (2, "minReplicas", None),
            (3, "maxReplicas", None),
            (4, "targetCPUUtilizationPercentage", None),
        ])),
    ),
    (3, "status", None),
]);

/// Decodes a `k8s\0` + `runtime.Unknown` body carrying an autoscaling/v1
/// HorizontalPodAutoscaler into JSON.
pub fn decode_horizontal_pod_autoscaler(body: &[u8]) -> Result<Value, String> {
    let (type_meta, raw) = envelope(body, "autoscaling/v1", "HorizontalPodAutoscaler")?;
    if let Some(field) = unread_field(&raw, &HPA, "HorizontalPodAutoscaler")? {
        return Err(format!(
            "protobuf bodies with {field} set are not supported: send JSON"
        ));
    }
    let hpa = HorizontalPodAutoscaler::decode(raw.as_slice())
        .map_err(|e| format!("decoding v1.HorizontalPodAutoscaler: {e}"))?;
    let mut object = Map::new();
    object.insert("apiVersion".into(), json!(type_meta.api_version));
    object.insert("kind".into(), json!(type_meta.kind));
    object.insert(
        "metadata".into(),
        hpa.metadata
            .map(|m| m.to_json())
            .unwrap_or_else(|| json!({})),
    );
    put_object(&mut object, "spec", hpa.spec.map(|s| s.to_json()));
    Ok(Value::Object(object))
}

impl Spec {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(r) = &self.scale_target_ref {
            let mut reference = Map::new();
            put_str(&mut reference, "kind", &r.kind);
            put_str(&mut reference, "name", &r.name);
            put_str(&mut reference, "apiVersion", &r.api_version);
            m.insert("scaleTargetRef".into(), Value::Object(reference));
        }
        put_opt(&mut m, "minReplicas", self.min_replicas);
        m.insert("maxReplicas".into(), json!(self.max_replicas));
        put_opt(
            &mut m,
            "targetCPUUtilizationPercentage",
            self.target_cpu_utilization_percentage,
        );
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body `kubectl autoscale deployment web --min=2 --max=5 --cpu-percent=80` sends.
    fn what_kubectl_autoscale_sends() -> HorizontalPodAutoscaler {
        HorizontalPodAutoscaler {
            metadata: Some(ObjectMeta {
                name: "web".into(),
                ..Default::default()
            }),
            spec: Some(Spec {
                scale_target_ref: Some(Reference {
                    kind: "Deployment".into(),
                    name: "web".into(),
                    api_version: "apps/v1".into(),
                }),
                min_replicas: Some(2),
                max_replicas: 5,
                target_cpu_utilization_percentage: Some(80),
            }),
        }
    }

    fn body(hpa: &HorizontalPodAutoscaler) -> Vec<u8> {
        super::super::test_body(
            "autoscaling/v1",
            "HorizontalPodAutoscaler",
            hpa.encode_to_vec(),
        )
    }

    #[test]
    fn kubectl_autoscale_body_decodes() {
        assert_eq!(
            decode_horizontal_pod_autoscaler(&body(&what_kubectl_autoscale_sends()))
                .expect("decodes"),
            json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                   "metadata": {"name": "web"},
                   "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                            "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80}})
        );
    }

    #[test]
    fn other_kinds_and_versions_are_refused() {
        let raw = what_kubectl_autoscale_sends().encode_to_vec();
        let v2 = super::super::test_body("autoscaling/v2", "HorizontalPodAutoscaler", raw);
        assert_eq!(
            decode_horizontal_pod_autoscaler(&v2),
            Err("protobuf bodies of kind \"HorizontalPodAutoscaler\" in version \"autoscaling/v2\" are not supported".into())
        );
    }
}
