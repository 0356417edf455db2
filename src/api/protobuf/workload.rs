//! The protobuf Deployment bodies kubectl's typed clients send (`kubectl create deployment
//! NAME --image=… [--replicas=N] [--port=P] [-- COMMAND…]`), decoded into JSON. The messages
//! hold the fields a Deployment's spec and its pod template commonly carry (k8s.io/api
//! apps/v1 and core/v1 generated.proto); a body with any other field set is refused, naming
//! the field, rather than stored without it. Go writes the zero value of every non-pointer
//! field, so only fields with a value count.

use std::collections::BTreeMap;

use prost::Message;
use serde_json::{Map, Value, json};

use super::{IntOrString, ObjectMeta, envelope, put_list, put_object, put_opt, put_str};

/// `apps/v1.Deployment` (status, field 3, is the server's and is not read).
#[derive(Clone, PartialEq, Message)]
struct Deployment {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<DeploymentSpec>,
}

/// `apps/v1.DeploymentSpec`.
#[derive(Clone, PartialEq, Message)]
struct DeploymentSpec {
    #[prost(int32, optional, tag = "1")]
    replicas: Option<i32>,
    #[prost(message, optional, tag = "2")]
    selector: Option<LabelSelector>,
    #[prost(message, optional, tag = "3")]
    template: Option<PodTemplateSpec>,
    #[prost(message, optional, tag = "4")]
    strategy: Option<DeploymentStrategy>,
    #[prost(int32, tag = "5")]
    min_ready_seconds: i32,
    #[prost(int32, optional, tag = "6")]
    revision_history_limit: Option<i32>,
    #[prost(bool, tag = "7")]
    paused: bool,
    #[prost(int32, optional, tag = "9")]
    progress_deadline_seconds: Option<i32>,
}

/// `apps/v1.DeploymentStrategy`.
#[derive(Clone, PartialEq, Message)]
struct DeploymentStrategy {
    #[prost(string, tag = "1")]
    r#type: String,
    #[prost(message, optional, tag = "2")]
    rolling_update: Option<RollingUpdate>,
}

/// `apps/v1.RollingUpdateDeployment`.
#[derive(Clone, PartialEq, Message)]
struct RollingUpdate {
    #[prost(message, optional, tag = "1")]
    max_unavailable: Option<IntOrString>,
    #[prost(message, optional, tag = "2")]
    max_surge: Option<IntOrString>,
}

/// `meta/v1.LabelSelector`.
#[derive(Clone, PartialEq, Message)]
struct LabelSelector {
    #[prost(btree_map = "string, string", tag = "1")]
    match_labels: BTreeMap<String, String>,
    #[prost(message, repeated, tag = "2")]
    match_expressions: Vec<Requirement>,
}

/// `meta/v1.LabelSelectorRequirement`.
#[derive(Clone, PartialEq, Message)]
struct Requirement {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    operator: String,
    #[prost(string, repeated, tag = "3")]
    values: Vec<String>,
}

/// `core/v1.PodTemplateSpec`.
#[derive(Clone, PartialEq, Message)]
struct PodTemplateSpec {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<PodSpec>,
}

/// `core/v1.PodSpec`, the fields read here.
#[derive(Clone, PartialEq, Message)]
struct PodSpec {
    #[prost(message, repeated, tag = "2")]
    containers: Vec<Container>,
    #[prost(string, tag = "3")]
    restart_policy: String,
    #[prost(int64, optional, tag = "4")]
    termination_grace_period_seconds: Option<i64>,
    #[prost(string, tag = "6")]
    dns_policy: String,
    #[prost(btree_map = "string, string", tag = "7")]
    node_selector: BTreeMap<String, String>,
    #[prost(string, tag = "8")]
    service_account_name: String,
    #[prost(string, tag = "19")]
    scheduler_name: String,
}

/// `core/v1.Container`, the fields read here.
#[derive(Clone, PartialEq, Message)]
struct Container {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    image: String,
    #[prost(string, repeated, tag = "3")]
    command: Vec<String>,
    #[prost(string, repeated, tag = "4")]
    args: Vec<String>,
    #[prost(string, tag = "5")]
    working_dir: String,
    #[prost(message, repeated, tag = "6")]
    ports: Vec<ContainerPort>,
    #[prost(message, repeated, tag = "7")]
    env: Vec<EnvVar>,
    #[prost(string, tag = "13")]
    termination_message_path: String,
    #[prost(string, tag = "14")]
    image_pull_policy: String,
    #[prost(string, tag = "20")]
    termination_message_policy: String,
}

/// `core/v1.ContainerPort`.
#[derive(Clone, PartialEq, Message)]
struct ContainerPort {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int32, tag = "2")]
    host_port: i32,
    #[prost(int32, tag = "3")]
    container_port: i32,
    #[prost(string, tag = "4")]
    protocol: String,
    #[prost(string, tag = "5")]
    host_ip: String,
}

/// `core/v1.EnvVar` with a literal value.
#[derive(Clone, PartialEq, Message)]
struct EnvVar {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// The fields of a message this decoder reads: number, JSON name and, for a message whose
/// own fields are checked, those.
pub(super) struct Fields(pub(super) &'static [(u32, &'static str, Option<&'static Fields>)]);

pub(super) const OBJECT_META: Fields = Fields(&[
    (1, "name", None),
    (2, "generateName", None),
    (3, "namespace", None),
    (4, "selfLink", None),
    (5, "uid", None),
    (6, "resourceVersion", None),
    (7, "generation", None),
    (8, "creationTimestamp", None),
    (9, "deletionTimestamp", None),
    (10, "deletionGracePeriodSeconds", None),
    (11, "labels", None),
    (12, "annotations", None),
    (13, "ownerReferences", None),
    (14, "finalizers", None),
    (17, "managedFields", None),
]);
const CONTAINER: Fields = Fields(&[
    (1, "name", None),
    (2, "image", None),
    (3, "command", None),
    (4, "args", None),
    (5, "workingDir", None),
    (6, "ports", None),
    (
        7,
        "env",
        Some(&Fields(&[(1, "name", None), (2, "value", None)])),
    ),
    (13, "terminationMessagePath", None),
    (14, "imagePullPolicy", None),
    (20, "terminationMessagePolicy", None),
]);
const POD_SPEC: Fields = Fields(&[
    (2, "containers", Some(&CONTAINER)),
    (3, "restartPolicy", None),
    (4, "terminationGracePeriodSeconds", None),
    (6, "dnsPolicy", None),
    (7, "nodeSelector", None),
    (8, "serviceAccountName", None),
    (19, "schedulerName", None),
]);
const DEPLOYMENT: Fields = Fields(&[
    (1, "metadata", Some(&OBJECT_META)),
    (
        2,
        "spec",
        Some(&Fields(&[
            (1, "replicas", None),
            (2, "selector", None),
            (
                3,
                "template",
                Some(&Fields(&[
                    (1, "metadata", Some(&OBJECT_META)),
                    (2, "spec", Some(&POD_SPEC)),
                ])),
            ),
            (4, "strategy", None),
            (5, "minReadySeconds", None),
            (6, "revisionHistoryLimit", None),
            (7, "paused", None),
            (9, "progressDeadlineSeconds", None),
        ])),
    ),
    (3, "status", None),
]);

/// Reads a base-128 varint at the start of `bytes`: its value and the rest.
fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// The path of the first field set in `bytes` that `fields` does not read, if any.
pub(super) fn unread_field(
    mut bytes: &[u8],
    fields: &Fields,
    path: &str,
) -> Result<Option<String>, String> {
    let malformed = || format!("malformed protobuf in {path}");
    while !bytes.is_empty() {
        let (tag, rest) = varint(bytes).ok_or_else(malformed)?;
        let (number, wire) = (u32::try_from(tag >> 3).unwrap_or(0), tag & 7);
        let (value, rest): (&[u8], &[u8]) = match wire {
            0 => {
                let (v, r) = varint(rest).ok_or_else(malformed)?;
                (if v == 0 { &[] } else { &rest[..1] }, r)
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                let v = rest.get(..n).ok_or_else(malformed)?;
                (if v.iter().all(|b| *b == 0) { &[] } else { v }, &rest[n..])
            }
            2 => {
                let (len, r) = varint(rest).ok_or_else(malformed)?;
                let len = usize::try_from(len).map_err(|_| malformed())?;
                (r.get(..len).ok_or_else(malformed)?, &r[len..])
            }
            _ => return Err(malformed()),
        };
        bytes = rest;
        match fields.0.iter().find(|(n, _, _)| *n == number) {
            Some((_, name, Some(child))) if wire == 2 => {
                if let Some(found) = unread_field(value, child, &format!("{path}.{name}"))? {
                    return Ok(Some(found));
                }
            }
            Some(_) => {}
            None if value.is_empty() => {}
            None => return Ok(Some(format!("{path} field {number}"))),
        }
    }
    Ok(None)
}

/// Decodes a `k8s\0` + `runtime.Unknown` body carrying an apps/v1 Deployment into JSON.
pub fn decode_deployment(body: &[u8]) -> Result<Value, String> {
    let (type_meta, raw) = envelope(body, "apps/v1", "Deployment")?;
    if let Some(field) = unread_field(&raw, &DEPLOYMENT, "Deployment")? {
        return Err(format!(
            "protobuf bodies with {field} set are not supported: send JSON"
        ));
    }
    let deployment =
        Deployment::decode(raw.as_slice()).map_err(|e| format!("decoding v1.Deployment: {e}"))?;
    let mut object = Map::new();
    object.insert("apiVersion".into(), json!(type_meta.api_version));
    object.insert("kind".into(), json!(type_meta.kind));
    object.insert(
        "metadata".into(),
        deployment
            .metadata
            .map(|m| m.to_json())
            .unwrap_or_else(|| json!({})),
    );
    put_object(&mut object, "spec", deployment.spec.map(|s| s.to_json()));
    Ok(Value::Object(object))
}

fn int_or_string(v: &IntOrString) -> Value {
    if v.r#type == 1 {
        json!(v.str_val)
    } else {
        json!(v.int_val)
    }
}

impl DeploymentSpec {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_opt(&mut m, "replicas", self.replicas);
        if let Some(selector) = &self.selector {
            m.insert("selector".into(), selector.to_json());
        }
        if let Some(template) = &self.template {
            let mut t = Map::new();
            put_object(
                &mut t,
                "metadata",
                template.metadata.as_ref().map(ObjectMeta::to_json),
            );
            t.insert(
                "spec".into(),
                template
                    .spec
                    .as_ref()
                    .map(PodSpec::to_json)
                    .unwrap_or_else(|| json!({})),
            );
            m.insert("template".into(), Value::Object(t));
        }
        if let Some(strategy) = &self.strategy {
            let mut s = Map::new();
            put_str(&mut s, "type", &strategy.r#type);
            if let Some(rolling) = &strategy.rolling_update {
                let mut r = Map::new();
                put_opt(
                    &mut r,
                    "maxUnavailable",
                    rolling.max_unavailable.as_ref().map(int_or_string),
                );
                put_opt(
                    &mut r,
                    "maxSurge",
                    rolling.max_surge.as_ref().map(int_or_string),
                );
                s.insert("rollingUpdate".into(), Value::Object(r));
            }
            put_object(&mut m, "strategy", Some(Value::Object(s)));
        }
        if self.min_ready_seconds != 0 {
            m.insert("minReadySeconds".into(), json!(self.min_ready_seconds));
        }
        put_opt(&mut m, "revisionHistoryLimit", self.revision_history_limit);
        if self.paused {
            m.insert("paused".into(), json!(true));
        }
        put_opt(
            &mut m,
            "progressDeadlineSeconds",
            self.progress_deadline_seconds,
        );
        Value::Object(m)
    }
}

impl LabelSelector {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if !self.match_labels.is_empty() {
            m.insert("matchLabels".into(), json!(self.match_labels));
        }
        if !self.match_expressions.is_empty() {
            let expressions: Vec<Value> = self
                .match_expressions
                .iter()
                .map(|r| {
                    let mut e = Map::new();
                    e.insert("key".into(), json!(r.key));
                    e.insert("operator".into(), json!(r.operator));
                    put_list(&mut e, "values", &r.values);
                    Value::Object(e)
                })
                .collect();
            m.insert("matchExpressions".into(), Value::Array(expressions));
        }
        Value::Object(m)
    }
}

impl PodSpec {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        let containers: Vec<Value> = self.containers.iter().map(Container::to_json).collect();
        m.insert("containers".into(), Value::Array(containers));
        put_str(&mut m, "restartPolicy", &self.restart_policy);
        put_opt(
            &mut m,
            "terminationGracePeriodSeconds",
            self.termination_grace_period_seconds,
        );
        put_str(&mut m, "dnsPolicy", &self.dns_policy);
        if !self.node_selector.is_empty() {
            m.insert("nodeSelector".into(), json!(self.node_selector));
        }
        put_str(&mut m, "serviceAccountName", &self.service_account_name);
        put_str(&mut m, "schedulerName", &self.scheduler_name);
        Value::Object(m)
    }
}

impl Container {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "name", &self.name);
        put_str(&mut m, "image", &self.image);
        put_list(&mut m, "command", &self.command);
        put_list(&mut m, "args", &self.args);
        put_str(&mut m, "workingDir", &self.working_dir);
        if !self.ports.is_empty() {
            let ports: Vec<Value> = self
                .ports
                .iter()
                .map(|p| {
                    let mut port = Map::new();
                    put_str(&mut port, "name", &p.name);
                    if p.host_port != 0 {
                        port.insert("hostPort".into(), json!(p.host_port));
                    }
                    port.insert("containerPort".into(), json!(p.container_port));
                    put_str(&mut port, "protocol", &p.protocol);
                    put_str(&mut port, "hostIP", &p.host_ip);
                    Value::Object(port)
                })
                .collect();
            m.insert("ports".into(), Value::Array(ports));
        }
        if !self.env.is_empty() {
            let env: Vec<Value> = self
                .env
                .iter()
                .map(|e| {
                    let mut var = Map::new();
                    var.insert("name".into(), json!(e.name));
                    put_str(&mut var, "value", &e.value);
                    Value::Object(var)
                })
                .collect();
            m.insert("env".into(), Value::Array(env));
        }
        put_str(
            &mut m,
            "terminationMessagePath",
            &self.termination_message_path,
        );
        put_str(&mut m, "imagePullPolicy", &self.image_pull_policy);
        put_str(
            &mut m,
            "terminationMessagePolicy",
            &self.termination_message_policy,
        );
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(deployment: &Deployment) -> Vec<u8> {
        super::super::test_body("apps/v1", "Deployment", deployment.encode_to_vec())
    }

    fn what_kubectl_create_deployment_sends() -> Deployment {
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        let meta = |name: &str| ObjectMeta {
            name: name.into(),
            labels: labels.clone(),
            ..Default::default()
        };
        Deployment {
            metadata: Some(meta("web")),
            spec: Some(DeploymentSpec {
                replicas: Some(3),
                selector: Some(LabelSelector {
                    match_labels: labels.clone(),
                    match_expressions: Vec::new(),
                }),
                template: Some(PodTemplateSpec {
                    metadata: Some(meta("")),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "nginx".into(),
                            image: "nginx:1.27".into(),
                            ports: vec![ContainerPort {
                                container_port: 80,
                                ..Default::default()
                            }],
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                }),
                strategy: Some(DeploymentStrategy::default()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn kubectl_create_deployment_decodes() {
        let object =
            decode_deployment(&body(&what_kubectl_create_deployment_sends())).expect("decodes");
        assert_eq!(
            object,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "labels": {"app": "web"}},
                   "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                                                                  "ports": [{"containerPort": 80}]}]}}}})
        );
    }

    #[test]
    fn a_field_not_read_is_refused_not_dropped() {
        let mut raw = what_kubectl_create_deployment_sends().encode_to_vec();
        // spec (2) { template (3) { spec (2) { volumes (1): a non-empty message } } }
        let volumes = [0x0a, 0x02, 0x0a, 0x00];
        let pod_spec = [&[0x12, volumes.len() as u8][..], &volumes].concat();
        let template = [&[0x1a, pod_spec.len() as u8][..], &pod_spec].concat();
        raw.extend([&[0x12, template.len() as u8][..], &template].concat());
        assert_eq!(
            unread_field(&raw, &DEPLOYMENT, "Deployment").expect("well formed"),
            Some("Deployment.spec.template.spec field 1".to_string())
        );
    }
}
