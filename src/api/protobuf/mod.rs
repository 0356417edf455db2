//! Decodes the protobuf Service bodies kubectl's typed clients send (`kubectl create service …`,
//! kubernetes-api.md §8.11) into the JSON the rest of the API works with. Only the messages a
//! Service needs are written out by hand with `prost`: the `k8s-pb` crate would pull in every
//! Kubernetes proto for these few structs. API responses are never protobuf; the one protobuf
//! document served is `/openapi/v2` ([`openapi_v2`]).

use std::collections::BTreeMap;

use prost::Message;

mod autoscaling;
mod identity;
pub mod openapi_v2;
mod workload;

pub use autoscaling::decode_horizontal_pod_autoscaler;
pub use identity::{decode_identity_object, decode_review, decode_token_request};
use serde_json::{Map, Value, json};
pub use workload::decode_deployment;

/// The 4 bytes every Kubernetes protobuf body starts with.
pub const MAGIC: &[u8] = b"k8s\0";

/// The only kind decoded here.
const SERVICE_KIND: &str = "Service";
/// The only group version Services have.
const SERVICE_API_VERSION: &str = "v1";

/// Decodes a `k8s\0` + `runtime.Unknown` body carrying a v1 Service into its JSON form.
///
/// Mirrors the protobuf serializer of apimachinery `runtime/serializer/protobuf`. Go writes
/// every non-pointer field even when empty, so empty strings, zeros, `false` and empty messages
/// are left out as JSON `omitempty` would; pointer fields keep a present `false`, `0` or `""`.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let (type_meta, raw) = envelope(body, SERVICE_API_VERSION, SERVICE_KIND)?;
    let service =
        Service::decode(raw.as_slice()).map_err(|e| format!("decoding v1.Service: {e}"))?;
    let mut object = Map::new();
    object.insert("apiVersion".to_owned(), json!(type_meta.api_version));
    object.insert("kind".to_owned(), json!(type_meta.kind));
    object.insert(
        "metadata".to_owned(),
        service
            .metadata
            .map(|m| m.to_json())
            .unwrap_or_else(|| json!({})),
    );
    put_object(&mut object, "spec", service.spec.map(|s| s.to_json()));
    put_object(&mut object, "status", service.status.map(|s| s.to_json()));
    Ok(Value::Object(object))
}

/// The type and raw message of a `k8s\0` + `runtime.Unknown` body, which must carry
/// `api_version`/`kind`.
pub(super) fn envelope(
    body: &[u8],
    api_version: &str,
    kind: &str,
) -> Result<(TypeMeta, Vec<u8>), String> {
    let payload = body
        .strip_prefix(MAGIC)
        .ok_or("protobuf body does not start with the k8s magic number")?;
    let unknown = Unknown::decode(payload).map_err(|e| format!("decoding runtime.Unknown: {e}"))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    if type_meta.kind != kind || type_meta.api_version != api_version {
        return Err(format!(
            "protobuf bodies of kind {:?} in version {:?} are not supported",
            type_meta.kind, type_meta.api_version
        ));
    }
    if !unknown.content_encoding.is_empty() {
        return Err(format!(
            "unsupported protobuf content encoding {:?}",
            unknown.content_encoding
        ));
    }
    Ok((type_meta, unknown.raw))
}

/// A `k8s\0` + `runtime.Unknown` body carrying `raw` as `api_version`/`kind`, as kubectl's
/// typed clients send it.
#[cfg(test)]
pub(super) fn test_body(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: api_version.into(),
            kind: kind.into(),
        }),
        raw,
        content_encoding: String::new(),
        content_type: String::new(),
    };
    let mut out = MAGIC.to_vec();
    out.extend(unknown.encode_to_vec());
    out
}

/// `runtime.Unknown` from apimachinery `runtime/generated.proto`.
#[derive(Clone, PartialEq, Message)]
struct Unknown {
    #[prost(message, optional, tag = "1")]
    type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", tag = "2")]
    raw: Vec<u8>,
    #[prost(string, tag = "3")]
    content_encoding: String,
    #[prost(string, tag = "4")]
    content_type: String,
}

/// `runtime.TypeMeta`.
#[derive(Clone, PartialEq, Message)]
pub(super) struct TypeMeta {
    #[prost(string, tag = "1")]
    pub(super) api_version: String,
    #[prost(string, tag = "2")]
    pub(super) kind: String,
}

/// `v1.Service` from k8s.io/api `core/v1/generated.proto`.
#[derive(Clone, PartialEq, Message)]
struct Service {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    spec: Option<ServiceSpec>,
    #[prost(message, optional, tag = "3")]
    status: Option<ServiceStatus>,
}

/// `meta/v1.ObjectMeta` (managedFields, field 17, is skipped: the server owns it).
#[derive(Clone, PartialEq, Message)]
pub(super) struct ObjectMeta {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    generate_name: String,
    #[prost(string, tag = "3")]
    namespace: String,
    #[prost(string, tag = "4")]
    self_link: String,
    #[prost(string, tag = "5")]
    uid: String,
    #[prost(string, tag = "6")]
    resource_version: String,
    #[prost(int64, tag = "7")]
    generation: i64,
    #[prost(message, optional, tag = "8")]
    creation_timestamp: Option<Time>,
    #[prost(message, optional, tag = "9")]
    deletion_timestamp: Option<Time>,
    #[prost(int64, optional, tag = "10")]
    deletion_grace_period_seconds: Option<i64>,
    #[prost(btree_map = "string, string", tag = "11")]
    labels: BTreeMap<String, String>,
    #[prost(btree_map = "string, string", tag = "12")]
    annotations: BTreeMap<String, String>,
    #[prost(message, repeated, tag = "13")]
    owner_references: Vec<OwnerReference>,
    #[prost(string, repeated, tag = "14")]
    finalizers: Vec<String>,
}

/// `meta/v1.OwnerReference`.
#[derive(Clone, PartialEq, Message)]
struct OwnerReference {
    #[prost(string, tag = "1")]
    kind: String,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    uid: String,
    #[prost(string, tag = "5")]
    api_version: String,
    #[prost(bool, optional, tag = "6")]
    controller: Option<bool>,
    #[prost(bool, optional, tag = "7")]
    block_owner_deletion: Option<bool>,
}

/// `meta/v1.Time`.
#[derive(Clone, PartialEq, Message)]
struct Time {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// `v1.ServiceSpec`.
#[derive(Clone, PartialEq, Message)]
struct ServiceSpec {
    #[prost(message, repeated, tag = "1")]
    ports: Vec<ServicePort>,
    #[prost(btree_map = "string, string", tag = "2")]
    selector: BTreeMap<String, String>,
    #[prost(string, tag = "3")]
    cluster_ip: String,
    #[prost(string, tag = "4")]
    r#type: String,
    #[prost(string, repeated, tag = "5")]
    external_ips: Vec<String>,
    #[prost(string, tag = "7")]
    session_affinity: String,
    #[prost(string, tag = "8")]
    load_balancer_ip: String,
    #[prost(string, repeated, tag = "9")]
    load_balancer_source_ranges: Vec<String>,
    #[prost(string, tag = "10")]
    external_name: String,
    #[prost(string, tag = "11")]
    external_traffic_policy: String,
    #[prost(int32, tag = "12")]
    health_check_node_port: i32,
    #[prost(bool, tag = "13")]
    publish_not_ready_addresses: bool,
    #[prost(message, optional, tag = "14")]
    session_affinity_config: Option<SessionAffinityConfig>,
    #[prost(string, optional, tag = "17")]
    ip_family_policy: Option<String>,
    #[prost(string, repeated, tag = "18")]
    cluster_ips: Vec<String>,
    #[prost(string, repeated, tag = "19")]
    ip_families: Vec<String>,
    #[prost(bool, optional, tag = "20")]
    allocate_load_balancer_node_ports: Option<bool>,
    #[prost(string, optional, tag = "21")]
    load_balancer_class: Option<String>,
    #[prost(string, optional, tag = "22")]
    internal_traffic_policy: Option<String>,
    #[prost(string, optional, tag = "23")]
    traffic_distribution: Option<String>,
}

/// `v1.ServicePort`.
#[derive(Clone, PartialEq, Message)]
struct ServicePort {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    protocol: String,
    #[prost(int32, tag = "3")]
    port: i32,
    #[prost(message, optional, tag = "4")]
    target_port: Option<IntOrString>,
    #[prost(int32, tag = "5")]
    node_port: i32,
    #[prost(string, optional, tag = "6")]
    app_protocol: Option<String>,
}

/// `util/intstr.IntOrString`: `type` 0 is an integer, 1 a string.
#[derive(Clone, PartialEq, Message)]
struct IntOrString {
    #[prost(int64, tag = "1")]
    r#type: i64,
    #[prost(int32, tag = "2")]
    int_val: i32,
    #[prost(string, tag = "3")]
    str_val: String,
}

/// `v1.SessionAffinityConfig`.
#[derive(Clone, PartialEq, Message)]
struct SessionAffinityConfig {
    #[prost(message, optional, tag = "1")]
    client_ip: Option<ClientIpConfig>,
}

/// `v1.ClientIPConfig`.
#[derive(Clone, PartialEq, Message)]
struct ClientIpConfig {
    #[prost(int32, optional, tag = "1")]
    timeout_seconds: Option<i32>,
}

/// `v1.ServiceStatus` (conditions, field 2, are skipped: the server owns status).
#[derive(Clone, PartialEq, Message)]
struct ServiceStatus {
    #[prost(message, optional, tag = "1")]
    load_balancer: Option<LoadBalancerStatus>,
}

/// `v1.LoadBalancerStatus`.
#[derive(Clone, PartialEq, Message)]
struct LoadBalancerStatus {
    #[prost(message, repeated, tag = "1")]
    ingress: Vec<LoadBalancerIngress>,
}

/// `v1.LoadBalancerIngress`.
#[derive(Clone, PartialEq, Message)]
struct LoadBalancerIngress {
    #[prost(string, tag = "1")]
    ip: String,
    #[prost(string, tag = "2")]
    hostname: String,
    #[prost(string, optional, tag = "3")]
    ip_mode: Option<String>,
}

impl ObjectMeta {
    pub(super) fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "name", &self.name);
        put_str(&mut m, "generateName", &self.generate_name);
        put_str(&mut m, "namespace", &self.namespace);
        put_str(&mut m, "selfLink", &self.self_link);
        put_str(&mut m, "uid", &self.uid);
        put_str(&mut m, "resourceVersion", &self.resource_version);
        if self.generation != 0 {
            m.insert("generation".to_owned(), json!(self.generation));
        }
        put_time(
            &mut m,
            "creationTimestamp",
            self.creation_timestamp.as_ref(),
        );
        put_time(
            &mut m,
            "deletionTimestamp",
            self.deletion_timestamp.as_ref(),
        );
        if let Some(seconds) = self.deletion_grace_period_seconds {
            m.insert("deletionGracePeriodSeconds".to_owned(), json!(seconds));
        }
        put_map(&mut m, "labels", &self.labels);
        put_map(&mut m, "annotations", &self.annotations);
        if !self.owner_references.is_empty() {
            let refs = self
                .owner_references
                .iter()
                .map(OwnerReference::to_json)
                .collect();
            m.insert("ownerReferences".to_owned(), Value::Array(refs));
        }
        put_list(&mut m, "finalizers", &self.finalizers);
        Value::Object(m)
    }
}

impl OwnerReference {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "apiVersion", &self.api_version);
        put_str(&mut m, "kind", &self.kind);
        put_str(&mut m, "name", &self.name);
        put_str(&mut m, "uid", &self.uid);
        put_opt(&mut m, "controller", self.controller);
        put_opt(&mut m, "blockOwnerDeletion", self.block_owner_deletion);
        Value::Object(m)
    }
}

impl ServiceSpec {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if !self.ports.is_empty() {
            m.insert(
                "ports".to_owned(),
                Value::Array(self.ports.iter().map(ServicePort::to_json).collect()),
            );
        }
        put_map(&mut m, "selector", &self.selector);
        put_str(&mut m, "clusterIP", &self.cluster_ip);
        put_list(&mut m, "clusterIPs", &self.cluster_ips);
        put_str(&mut m, "type", &self.r#type);
        put_list(&mut m, "externalIPs", &self.external_ips);
        put_str(&mut m, "sessionAffinity", &self.session_affinity);
        put_str(&mut m, "loadBalancerIP", &self.load_balancer_ip);
        put_list(
            &mut m,
            "loadBalancerSourceRanges",
            &self.load_balancer_source_ranges,
        );
        put_str(&mut m, "externalName", &self.external_name);
        put_str(
            &mut m,
            "externalTrafficPolicy",
            &self.external_traffic_policy,
        );
        if self.health_check_node_port != 0 {
            m.insert(
                "healthCheckNodePort".to_owned(),
                json!(self.health_check_node_port),
            );
        }
        if self.publish_not_ready_addresses {
            m.insert("publishNotReadyAddresses".to_owned(), json!(true));
        }
        if let Some(config) = &self.session_affinity_config {
            let mut client_ip = Map::new();
            if let Some(c) = &config.client_ip {
                put_opt(&mut client_ip, "timeoutSeconds", c.timeout_seconds);
            }
            let config = match config.client_ip {
                Some(_) => json!({"clientIP": client_ip}),
                None => json!({}),
            };
            m.insert("sessionAffinityConfig".to_owned(), config);
        }
        put_list(&mut m, "ipFamilies", &self.ip_families);
        put_opt(&mut m, "ipFamilyPolicy", self.ip_family_policy.clone());
        put_opt(
            &mut m,
            "allocateLoadBalancerNodePorts",
            self.allocate_load_balancer_node_ports,
        );
        put_opt(
            &mut m,
            "loadBalancerClass",
            self.load_balancer_class.clone(),
        );
        put_opt(
            &mut m,
            "internalTrafficPolicy",
            self.internal_traffic_policy.clone(),
        );
        put_opt(
            &mut m,
            "trafficDistribution",
            self.traffic_distribution.clone(),
        );
        Value::Object(m)
    }
}

impl ServicePort {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "name", &self.name);
        put_str(&mut m, "protocol", &self.protocol);
        put_opt(&mut m, "appProtocol", self.app_protocol.clone());
        if self.port != 0 {
            m.insert("port".to_owned(), json!(self.port));
        }
        if let Some(target) = self.target_port.as_ref().and_then(IntOrString::to_json) {
            m.insert("targetPort".to_owned(), target);
        }
        if self.node_port != 0 {
            m.insert("nodePort".to_owned(), json!(self.node_port));
        }
        Value::Object(m)
    }
}

impl IntOrString {
    /// The JSON number or string; `None` for the zero value (an unset targetPort).
    fn to_json(&self) -> Option<Value> {
        match self.r#type {
            1 if !self.str_val.is_empty() => Some(json!(self.str_val)),
            1 => None,
            _ if self.int_val != 0 => Some(json!(self.int_val)),
            _ => None,
        }
    }
}

impl ServiceStatus {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(lb) = self
            .load_balancer
            .as_ref()
            .filter(|lb| !lb.ingress.is_empty())
        {
            let ingress = lb
                .ingress
                .iter()
                .map(LoadBalancerIngress::to_json)
                .collect();
            m.insert(
                "loadBalancer".to_owned(),
                json!({"ingress": Value::Array(ingress)}),
            );
        }
        Value::Object(m)
    }
}

impl LoadBalancerIngress {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        put_str(&mut m, "ip", &self.ip);
        put_str(&mut m, "hostname", &self.hostname);
        put_opt(&mut m, "ipMode", self.ip_mode.clone());
        Value::Object(m)
    }
}

pub(super) fn put_str(m: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        m.insert(key.to_owned(), json!(value));
    }
}

pub(super) fn put_opt<T: Into<Value>>(m: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        m.insert(key.to_owned(), v.into());
    }
}

pub(super) fn put_list(m: &mut Map<String, Value>, key: &str, values: &[String]) {
    if !values.is_empty() {
        m.insert(key.to_owned(), json!(values));
    }
}

fn put_map(m: &mut Map<String, Value>, key: &str, values: &BTreeMap<String, String>) {
    if !values.is_empty() {
        m.insert(key.to_owned(), json!(values));
    }
}

pub(super) fn put_object(m: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value.filter(|v| v.as_object().is_some_and(|o| !o.is_empty())) {
        m.insert(key.to_owned(), v);
    }
}

/// An RFC 3339 timestamp in seconds, as `metav1.Time` marshals; the zero Time is unset.
fn put_time(m: &mut Map<String, Value>, key: &str, time: Option<&Time>) {
    let Some(time) = time.filter(|t| t.seconds != 0) else {
        return;
    };
    if let Ok(ts) = jiff::Timestamp::from_second(time.seconds) {
        m.insert(
            key.to_owned(),
            json!(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body `kubectl create service clusterip foo --tcp=80:8080` sent (kubernetes-api.md §8.11).
    const CAPTURED_CLUSTERIP_FOO: &str = "\
        6b3873000a0d0a02763112075365727669636512690a1f0a03666f6f12001a00\
        22002a003200380042005a0a0a036170701203666f6f12420a1b0a0738302d38\
        303830120354435018502207080010903f1a002800120a0a036170701203666f\
        6f1a002209436c757374657249503a00420052005a00600068001a020a001a00\
        2200";

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }

    fn envelope(kind: &str, service: &Service) -> Vec<u8> {
        let unknown = Unknown {
            type_meta: Some(TypeMeta {
                api_version: "v1".to_owned(),
                kind: kind.to_owned(),
            }),
            raw: service.encode_to_vec(),
            content_encoding: String::new(),
            content_type: String::new(),
        };
        [MAGIC, unknown.encode_to_vec().as_slice()].concat()
    }

    fn named(name: &str, spec: ServiceSpec) -> Service {
        let labels = BTreeMap::from([("app".to_owned(), name.to_owned())]);
        Service {
            metadata: Some(ObjectMeta {
                name: name.to_owned(),
                labels,
                ..Default::default()
            }),
            spec: Some(spec),
            status: Some(ServiceStatus {
                load_balancer: Some(LoadBalancerStatus::default()),
            }),
        }
    }

    fn tcp_port(name: &str, port: i32, target: i32, node_port: i32) -> ServicePort {
        ServicePort {
            name: name.to_owned(),
            protocol: "TCP".to_owned(),
            port,
            target_port: Some(IntOrString {
                r#type: 0,
                int_val: target,
                str_val: String::new(),
            }),
            node_port,
            app_protocol: None,
        }
    }

    #[test]
    fn captured_clusterip_body_decodes_to_the_service_kubectl_meant() {
        let body = hex(CAPTURED_CLUSTERIP_FOO);
        assert_eq!(body.len(), 130);
        let decoded = decode(&body).unwrap();
        assert_eq!(
            decoded,
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "foo", "labels": {"app": "foo"}},
                "spec": {
                    "ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
                    "selector": {"app": "foo"},
                    "type": "ClusterIP"
                }
            })
        );
    }

    #[test]
    fn captured_body_key_order_is_kubernetes_order() {
        let decoded = decode(&hex(CAPTURED_CLUSTERIP_FOO)).unwrap();
        let keys: Vec<&str> = decoded
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
    }

    #[test]
    fn nodeport_with_fixed_node_port_decodes() {
        let spec = ServiceSpec {
            ports: vec![tcp_port("80-8080", 80, 8080, 30080)],
            selector: BTreeMap::from([("app".to_owned(), "np".to_owned())]),
            r#type: "NodePort".to_owned(),
            ..Default::default()
        };
        let decoded = decode(&envelope("Service", &named("np", spec))).unwrap();
        assert_eq!(
            decoded["spec"],
            json!({
                "ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080}],
                "selector": {"app": "np"},
                "type": "NodePort"
            })
        );
        assert_eq!(decoded.get("status"), None, "an empty status is unset");
    }

    #[test]
    fn loadbalancer_keeps_pointer_fields_and_named_target_port() {
        let mut port = tcp_port("http", 443, 0, 0);
        port.target_port = Some(IntOrString {
            r#type: 1,
            int_val: 0,
            str_val: "https".to_owned(),
        });
        port.app_protocol = Some("https".to_owned());
        let spec = ServiceSpec {
            ports: vec![port],
            r#type: "LoadBalancer".to_owned(),
            load_balancer_source_ranges: vec!["10.0.0.0/8".to_owned(), "192.168.0.0/16".to_owned()],
            allocate_load_balancer_node_ports: Some(false),
            external_traffic_policy: "Local".to_owned(),
            session_affinity: "ClientIP".to_owned(),
            session_affinity_config: Some(SessionAffinityConfig {
                client_ip: Some(ClientIpConfig {
                    timeout_seconds: Some(600),
                }),
            }),
            ..Default::default()
        };
        let mut service = named("lb", spec);
        if let Some(meta) = service.metadata.as_mut() {
            meta.annotations.insert(
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type".to_owned(),
                "intranet".to_owned(),
            );
            meta.creation_timestamp = Some(Time {
                seconds: 1_795_000_000,
                nanos: 0,
            });
            meta.deletion_timestamp = Some(Time::default());
        }
        let decoded = decode(&envelope("Service", &service)).unwrap();
        assert_eq!(
            decoded["metadata"],
            json!({
                "name": "lb",
                "creationTimestamp": "2026-11-18T11:06:40Z",
                "labels": {"app": "lb"},
                "annotations": {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet"}
            })
        );
        assert_eq!(
            decoded["spec"],
            json!({
                "ports": [{"name": "http", "protocol": "TCP", "appProtocol": "https", "port": 443, "targetPort": "https"}],
                "type": "LoadBalancer",
                "sessionAffinity": "ClientIP",
                "loadBalancerSourceRanges": ["10.0.0.0/8", "192.168.0.0/16"],
                "externalTrafficPolicy": "Local",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
                "allocateLoadBalancerNodePorts": false
            })
        );
    }

    #[test]
    fn externalname_without_ports_decodes() {
        let spec = ServiceSpec {
            r#type: "ExternalName".to_owned(),
            external_name: "db.example.com".to_owned(),
            ..Default::default()
        };
        let mut service = named("ext", spec);
        service.status = Some(ServiceStatus {
            load_balancer: Some(LoadBalancerStatus {
                ingress: vec![LoadBalancerIngress {
                    ip: "192.168.49.11".to_owned(),
                    hostname: String::new(),
                    ip_mode: Some("VIP".to_owned()),
                }],
            }),
        });
        let decoded = decode(&envelope("Service", &service)).unwrap();
        assert_eq!(
            decoded["spec"],
            json!({"type": "ExternalName", "externalName": "db.example.com"})
        );
        assert_eq!(
            decoded["status"],
            json!({"loadBalancer": {"ingress": [{"ip": "192.168.49.11", "ipMode": "VIP"}]}})
        );
    }

    #[test]
    fn other_kinds_are_rejected() {
        let err = decode(&envelope("ConfigMap", &named("x", ServiceSpec::default()))).unwrap_err();
        assert_eq!(
            err,
            "protobuf bodies of kind \"ConfigMap\" in version \"v1\" are not supported"
        );
    }

    #[test]
    fn missing_magic_is_rejected() {
        let err = decode(b"{\"kind\":\"Service\"}").unwrap_err();
        assert_eq!(
            err,
            "protobuf body does not start with the k8s magic number"
        );
    }

    #[test]
    fn truncated_body_is_rejected() {
        let body = hex(CAPTURED_CLUSTERIP_FOO);
        assert!(
            decode(&body[..60])
                .unwrap_err()
                .starts_with("decoding runtime.Unknown: ")
        );
    }
}
