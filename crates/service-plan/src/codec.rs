//! Decoding request bodies into Services with kube-apiserver's decode errors, and
//! canonicalisation to the shape Go's `omitempty` gives every stored object.
//!
//! kube-apiserver decodes with a case-sensitive fork of `encoding/json`: a value of the wrong
//! type is a 400 naming the Go struct field, unknown and duplicated fields are collected for
//! `fieldValidation`. The Service schema below is just large enough to reproduce those texts.

use k8s_openapi::api::core::v1::{Service, ServiceStatus};
use serde_json::{Map, Value};

use crate::field::go_quote;

/// The group, version and kind an endpoint decodes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gvk {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
}

impl Gvk {
    /// `v1` `Service`.
    pub const SERVICE: Gvk = Gvk {
        group: "",
        version: "v1",
        kind: "Service",
    };

    /// `apiVersion` as written in objects: `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A body that cannot be decoded: always a 400 BadRequest with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    pub message: String,
}

/// A decoded object and the strict-decoding problems found on the way (unknown or
/// duplicated fields), which `fieldValidation` turns into an error, warnings or nothing.
#[derive(Debug, Clone)]
pub struct Decoded<T> {
    pub object: T,
    pub strict_errors: Vec<String>,
}

/// How `fieldValidation` treats unknown and duplicated fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Reject the request (kubectl's default for apply, create and edit).
    Strict,
    /// Accept, and return each problem as a `Warning` (the server default).
    #[default]
    Warn,
    /// Accept silently.
    Ignore,
}

impl FieldValidation {
    /// Parses the query parameter; kube-apiserver answers anything else with a 400.
    pub fn parse(value: Option<&str>) -> Result<Self, DecodeError> {
        match value {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(other) => Err(DecodeError {
                message: format!(
                    "fieldValidation parameter unsupported: {other}. Valid values are: Ignore, Warn, Strict"
                ),
            }),
        }
    }
}

/// Parses a JSON body, reporting syntax errors in `encoding/json`'s words.
pub fn parse_json(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| go_json_syntax_error(body, &e))
}

/// Maps a serde_json syntax error to the message Go's `encoding/json` gives for it.
fn go_json_syntax_error(body: &[u8], e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "unexpected end of JSON input".to_string();
    }
    let offending = offending_char(body, e.line(), e.column());
    let text = e.to_string();
    let context = if text.starts_with("key must be a string") {
        "looking for beginning of object key string"
    } else if text.starts_with("expected `:`") {
        "after object key"
    } else if text.starts_with("expected `,` or `}`") {
        "after object key:value pair"
    } else if text.starts_with("expected `,` or `]`") {
        "after array element"
    } else if text.starts_with("trailing characters") {
        "after top-level value"
    } else if text.starts_with("invalid type") || text.starts_with("invalid value") {
        return text;
    } else if text.starts_with("control character") {
        "in string literal"
    } else if text.starts_with("invalid escape") {
        "in string escape code"
    } else {
        "looking for beginning of value"
    };
    match offending {
        Some(c) => format!("invalid character {} {context}", go_quote_char(c)),
        None => "unexpected end of JSON input".to_string(),
    }
}

fn offending_char(body: &[u8], line: usize, column: usize) -> Option<char> {
    let text = String::from_utf8_lossy(body);
    let l = text.lines().nth(line.checked_sub(1)?)?;
    l.chars().nth(column.checked_sub(1)?)
}

/// Go's `quoteChar` in encoding/json's scanner.
fn go_quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        c => {
            let q = go_quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

/// Kinds the kube-apiserver scheme knows, by apiVersion: decoding one of these into another
/// kind fails with "unknown conversion"; anything else is "not registered".
fn registered(api_version: &str, kind: &str) -> Option<&'static str> {
    const CORE: &[&str] = &[
        "Binding",
        "ComponentStatus",
        "ConfigMap",
        "Endpoints",
        "Event",
        "LimitRange",
        "List",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Pod",
        "PodTemplate",
        "ReplicationController",
        "ResourceQuota",
        "Secret",
        "Service",
        "ServiceAccount",
        "Status",
    ];
    const APPS: &[&str] = &[
        "ControllerRevision",
        "DaemonSet",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
    ];
    const DISCOVERY: &[&str] = &["EndpointSlice"];
    let kinds = match api_version {
        "v1" => CORE,
        "apps/v1" => APPS,
        "discovery.k8s.io/v1" => DISCOVERY,
        _ => return None,
    };
    kinds.iter().copied().find(|k| *k == kind)
}

/// The version part of an apiVersion: `v1` of `apps/v1`; also the Go package name that
/// prints in conversion errors (`v1.Pod`).
fn version_part(api_version: &str) -> &str {
    api_version.rsplit('/').next().unwrap_or(api_version)
}

/// The version of a body's `apiVersion`, as decode errors print it; `default` when absent.
pub fn data_version(value: &Value, default: &str) -> String {
    match value.get("apiVersion").and_then(Value::as_str) {
        Some(v) if !v.is_empty() => version_part(v).to_string(),
        _ => default.to_string(),
    }
}

/// Checks `apiVersion`/`kind` of a body decoded for `expected`, as the versioning decoder
/// and `transformDecodeError` do; missing values default to the endpoint's.
pub fn check_type_meta(value: &Value, expected: Gvk) -> Result<(), DecodeError> {
    let Some(obj) = value.as_object() else {
        let what = json_kind(value);
        return Err(DecodeError {
            message: format!(
                "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: json: cannot unmarshal {what} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }} ({})",
                expected.kind,
                summarize(&serde_json::to_vec(value).unwrap_or_default())
            ),
        });
    };
    let api_version = match obj.get("apiVersion") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => expected.api_version(),
    };
    let kind = match obj.get("kind") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => expected.kind.to_string(),
    };
    let version = version_part(&api_version).to_string();
    let fail = |detail: String| DecodeError {
        message: format!(
            "{kind} in version {} cannot be handled as a {}: {detail}",
            go_quote(&version),
            expected.kind
        ),
    };
    if api_version == expected.api_version() && kind == expected.kind {
        return Ok(());
    }
    match registered(&api_version, &kind) {
        None => Err(fail(format!(
            "no kind {} is registered for version {} in scheme \"pkg/api/legacyscheme/scheme.go:30\"",
            go_quote(&kind),
            go_quote(&api_version)
        ))),
        Some(k) => Err(fail(format!(
            "converting ({}.{k}) to (core.{}): unknown conversion",
            version_part(&api_version),
            expected.kind
        ))),
    }
}

/// `summarizeData` of the create handler: the start of the body for the error text.
pub fn summarize(data: &[u8]) -> String {
    const MAX: usize = 30;
    if data.is_empty() {
        return "<empty>".to_string();
    }
    if data[0] == b'{' {
        let cut = &data[..data.len().min(MAX)];
        let s = String::from_utf8_lossy(cut).into_owned();
        return if data.len() > MAX {
            format!("{s} ...")
        } else {
            s
        };
    }
    let cut = &data[..data.len().min(MAX)];
    let hex: String = cut.iter().map(|b| format!("{b:02x}")).collect();
    if data.len() > MAX {
        format!("{hex} ...")
    } else {
        hex
    }
}

/// The error for a body that is not JSON at all, as the create/update handlers print it.
pub fn unrecognized(kind: &str, detail: &str, body: &[u8]) -> DecodeError {
    DecodeError {
        message: format!(
            "the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse error: {detail} ({})",
            summarize(body)
        ),
    }
}

/// Decodes a Service from an already-parsed JSON value (YAML bodies are converted first).
pub fn decode_service(value: &Value) -> Result<Decoded<Service>, DecodeError> {
    check_type_meta(value, Gvk::SERVICE)?;
    let mut strict_errors = Vec::new();
    let mut cleaned = value.clone();
    let mut saved = None;
    let walked = walk(
        &mut cleaned,
        &SERVICE,
        "Service",
        &mut Vec::new(),
        "",
        &mut strict_errors,
        &mut saved,
    );
    if let Some(type_error) = walked.err().or(saved) {
        return Err(cannot_handle(value, &type_error));
    }
    let mut service: Service =
        serde_json::from_value(cleaned).map_err(|e| cannot_handle(value, &format!("json: {e}")))?;
    canonicalize(&mut service);
    Ok(Decoded {
        object: service,
        strict_errors,
    })
}

fn cannot_handle(value: &Value, detail: &str) -> DecodeError {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .unwrap_or("Service");
    let version = data_version(value, "v1");
    DecodeError {
        message: format!(
            "{kind} in version {} cannot be handled as a Service: {detail}",
            go_quote(&version)
        ),
    }
}

/// Decodes a Service and applies `fieldValidation`: under `Strict`, unknown or duplicated
/// fields are the 400 kube-apiserver answers; otherwise they stay in `strict_errors`.
pub fn decode_service_validated(
    value: &Value,
    validation: FieldValidation,
) -> Result<Decoded<Service>, DecodeError> {
    let decoded = decode_service(value)?;
    if validation == FieldValidation::Strict && !decoded.strict_errors.is_empty() {
        return Err(strict_error(
            "Service",
            &data_version(value, "v1"),
            &decoded.strict_errors,
        ));
    }
    Ok(decoded)
}

/// The full message for strict-decoding problems under `fieldValidation=Strict`.
pub fn strict_error(kind: &str, version: &str, problems: &[String]) -> DecodeError {
    DecodeError {
        message: format!(
            "{kind} in version {} cannot be handled as a {kind}: strict decoding error: {}",
            go_quote(version),
            problems.join(", ")
        ),
    }
}

/// Go's `omitempty`: empty strings, zero numbers and empty maps/lists are not stored, and a
/// Service always carries `status.loadBalancer`.
pub fn canonicalize(svc: &mut Service) {
    canonicalize_object_meta(&mut svc.metadata);
    if let Some(spec) = svc.spec.as_mut() {
        for s in [
            &mut spec.cluster_ip,
            &mut spec.type_,
            &mut spec.external_name,
            &mut spec.external_traffic_policy,
            &mut spec.session_affinity,
            &mut spec.load_balancer_ip,
        ] {
            if s.as_deref() == Some("") {
                *s = None;
            }
        }
        if spec.health_check_node_port == Some(0) {
            spec.health_check_node_port = None;
        }
        if spec.publish_not_ready_addresses == Some(false) {
            spec.publish_not_ready_addresses = None;
        }
        for list in [
            &mut spec.cluster_ips,
            &mut spec.external_ips,
            &mut spec.load_balancer_source_ranges,
            &mut spec.ip_families,
        ] {
            if list.as_ref().is_some_and(Vec::is_empty) {
                *list = None;
            }
        }
        if spec.selector.as_ref().is_some_and(|m| m.is_empty()) {
            spec.selector = None;
        }
        if spec.ports.as_ref().is_some_and(Vec::is_empty) {
            spec.ports = None;
        }
        for port in spec.ports.iter_mut().flatten() {
            if port.name.as_deref() == Some("") {
                port.name = None;
            }
            if port.protocol.as_deref() == Some("") {
                port.protocol = None;
            }
            if port.node_port == Some(0) {
                port.node_port = None;
            }
        }
    }
    let status = svc.status.get_or_insert_with(ServiceStatus::default);
    let lb = status.load_balancer.get_or_insert_with(Default::default);
    if lb.ingress.as_ref().is_some_and(Vec::is_empty) {
        lb.ingress = None;
    }
    for ingress in lb.ingress.iter_mut().flatten() {
        if ingress.ip.as_deref() == Some("") {
            ingress.ip = None;
        }
        if ingress.hostname.as_deref() == Some("") {
            ingress.hostname = None;
        }
        if ingress.ports.as_ref().is_some_and(Vec::is_empty) {
            ingress.ports = None;
        }
    }
    if status.conditions.as_ref().is_some_and(Vec::is_empty) {
        status.conditions = None;
    }
}

/// Go's `omitempty` for ObjectMeta: shared by every kind.
pub fn canonicalize_object_meta(
    meta: &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) {
    for s in [
        &mut meta.name,
        &mut meta.generate_name,
        &mut meta.namespace,
        &mut meta.self_link,
        &mut meta.uid,
        &mut meta.resource_version,
    ] {
        if s.as_deref() == Some("") {
            *s = None;
        }
    }
    if meta.generation == Some(0) {
        meta.generation = None;
    }
    if meta.labels.as_ref().is_some_and(|m| m.is_empty()) {
        meta.labels = None;
    }
    if meta.annotations.as_ref().is_some_and(|m| m.is_empty()) {
        meta.annotations = None;
    }
    if meta.owner_references.as_ref().is_some_and(Vec::is_empty) {
        meta.owner_references = None;
    }
    if meta.finalizers.as_ref().is_some_and(Vec::is_empty) {
        meta.finalizers = None;
    }
    if meta.managed_fields.as_ref().is_some_and(Vec::is_empty) {
        meta.managed_fields = None;
    }
}

/// A JSON type in the Service schema, with the Go type name errors print.
#[derive(Debug)]
enum Ty {
    /// A string; the Go type name (`string`, `v1.Protocol`, `types.UID`).
    Str(&'static str),
    Int32,
    Int64,
    Bool,
    IntOrString,
    /// `map[string]string`.
    StrMap,
    List(&'static Ty, &'static str),
    Obj(&'static Struct),
    /// Anything: not checked (managedFields, conditions).
    Any,
}

#[derive(Debug)]
struct Struct {
    go_name: &'static str,
    fields: &'static [(&'static str, Ty)],
}

const STR: Ty = Ty::Str("string");

static TYPE_META_FIELDS: [(&str, Ty); 2] = [("apiVersion", STR), ("kind", STR)];

static OWNER_REFERENCE: Struct = Struct {
    go_name: "OwnerReference",
    fields: &[
        ("apiVersion", STR),
        ("kind", STR),
        ("name", STR),
        ("uid", Ty::Str("types.UID")),
        ("controller", Ty::Bool),
        ("blockOwnerDeletion", Ty::Bool),
    ],
};

static OBJECT_META: Struct = Struct {
    go_name: "ObjectMeta",
    fields: &[
        ("name", STR),
        ("generateName", STR),
        ("namespace", STR),
        ("selfLink", STR),
        ("uid", Ty::Str("types.UID")),
        ("resourceVersion", STR),
        ("generation", Ty::Int64),
        ("creationTimestamp", Ty::Any),
        ("deletionTimestamp", Ty::Any),
        ("deletionGracePeriodSeconds", Ty::Int64),
        ("labels", Ty::StrMap),
        ("annotations", Ty::StrMap),
        (
            "ownerReferences",
            Ty::List(&Ty::Obj(&OWNER_REFERENCE), "[]v1.OwnerReference"),
        ),
        ("finalizers", Ty::List(&STR, "[]string")),
        ("managedFields", Ty::Any),
    ],
};

static SERVICE_PORT: Struct = Struct {
    go_name: "ServicePort",
    fields: &[
        ("name", STR),
        ("protocol", Ty::Str("v1.Protocol")),
        ("appProtocol", STR),
        ("port", Ty::Int32),
        ("targetPort", Ty::IntOrString),
        ("nodePort", Ty::Int32),
    ],
};

static CLIENT_IP_CONFIG: Struct = Struct {
    go_name: "ClientIPConfig",
    fields: &[("timeoutSeconds", Ty::Int32)],
};

static SESSION_AFFINITY_CONFIG: Struct = Struct {
    go_name: "SessionAffinityConfig",
    fields: &[("clientIP", Ty::Obj(&CLIENT_IP_CONFIG))],
};

static SERVICE_SPEC: Struct = Struct {
    go_name: "ServiceSpec",
    fields: &[
        (
            "ports",
            Ty::List(&Ty::Obj(&SERVICE_PORT), "[]v1.ServicePort"),
        ),
        ("selector", Ty::StrMap),
        ("clusterIP", STR),
        ("clusterIPs", Ty::List(&STR, "[]string")),
        ("type", Ty::Str("v1.ServiceType")),
        ("externalIPs", Ty::List(&STR, "[]string")),
        ("sessionAffinity", Ty::Str("v1.ServiceAffinity")),
        ("loadBalancerIP", STR),
        ("loadBalancerSourceRanges", Ty::List(&STR, "[]string")),
        ("externalName", STR),
        (
            "externalTrafficPolicy",
            Ty::Str("v1.ServiceExternalTrafficPolicy"),
        ),
        ("healthCheckNodePort", Ty::Int32),
        ("publishNotReadyAddresses", Ty::Bool),
        ("sessionAffinityConfig", Ty::Obj(&SESSION_AFFINITY_CONFIG)),
        (
            "ipFamilies",
            Ty::List(&Ty::Str("v1.IPFamily"), "[]v1.IPFamily"),
        ),
        ("ipFamilyPolicy", Ty::Str("v1.IPFamilyPolicy")),
        ("allocateLoadBalancerNodePorts", Ty::Bool),
        ("loadBalancerClass", STR),
        (
            "internalTrafficPolicy",
            Ty::Str("v1.ServiceInternalTrafficPolicy"),
        ),
        ("trafficDistribution", STR),
    ],
};

static PORT_STATUS: Struct = Struct {
    go_name: "PortStatus",
    fields: &[
        ("port", Ty::Int32),
        ("protocol", Ty::Str("v1.Protocol")),
        ("error", STR),
    ],
};

static LOAD_BALANCER_INGRESS: Struct = Struct {
    go_name: "LoadBalancerIngress",
    fields: &[
        ("ip", STR),
        ("hostname", STR),
        ("ipMode", Ty::Str("v1.LoadBalancerIPMode")),
        ("ports", Ty::List(&Ty::Obj(&PORT_STATUS), "[]v1.PortStatus")),
    ],
};

static LOAD_BALANCER_STATUS: Struct = Struct {
    go_name: "LoadBalancerStatus",
    fields: &[(
        "ingress",
        Ty::List(&Ty::Obj(&LOAD_BALANCER_INGRESS), "[]v1.LoadBalancerIngress"),
    )],
};

static SERVICE_STATUS: Struct = Struct {
    go_name: "ServiceStatus",
    fields: &[
        ("loadBalancer", Ty::Obj(&LOAD_BALANCER_STATUS)),
        ("conditions", Ty::Any),
    ],
};

static SERVICE: Struct = Struct {
    go_name: "Service",
    fields: &[
        ("metadata", Ty::Obj(&OBJECT_META)),
        ("spec", Ty::Obj(&SERVICE_SPEC)),
        ("status", Ty::Obj(&SERVICE_STATUS)),
    ],
};

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn go_type_name(ty: &Ty) -> String {
    match ty {
        Ty::Str(n) => n.to_string(),
        Ty::Int32 | Ty::IntOrString => "int32".to_string(),
        Ty::Int64 => "int64".to_string(),
        Ty::Bool => "bool".to_string(),
        Ty::StrMap => "map[string]string".to_string(),
        Ty::List(_, n) => n.to_string(),
        Ty::Obj(s) => format!("v1.{}", s.go_name),
        Ty::Any => "interface {}".to_string(),
    }
}

/// `encoding/json`'s UnmarshalTypeError text with the struct-field context.
fn type_error(what: String, strukt: &str, stack: &[String], ty: &Ty) -> String {
    format!(
        "json: cannot unmarshal {what} into Go struct field {strukt}.{} of type {}",
        stack.join("."),
        go_type_name(ty)
    )
}

/// `encoding/json`'s UnmarshalTypeError text without context: what `IntOrString.UnmarshalJSON`
/// returns, since it decodes with a nested `json.Unmarshal` into its `int32`.
fn int_or_string_error(what: String) -> String {
    format!("json: cannot unmarshal {what} into Go value of type int32")
}

/// Checks `value` against `ty`, collects unknown fields, and removes `null`s, which Go leaves
/// as zero values. Like Go's decoder, a type mismatch is saved (the first one wins) and
/// decoding goes on, while an error from a custom `UnmarshalJSON` (`IntOrString`) aborts the
/// decode at once and is returned as `Err`, ahead of any saved error.
fn walk(
    value: &mut Value,
    strukt: &Struct,
    parent: &str,
    stack: &mut Vec<String>,
    path: &str,
    unknown: &mut Vec<String>,
    saved: &mut Option<String>,
) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Ok(());
    };
    let keys: Vec<String> = map.keys().cloned().collect();
    let is_top = stack.is_empty();
    for key in keys {
        let field = strukt
            .fields
            .iter()
            .chain(if is_top {
                TYPE_META_FIELDS.iter()
            } else {
                [].iter()
            })
            .find(|(name, _)| *name == key);
        let child_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let Some((_, ty)) = field else {
            unknown.push(format!("unknown field {}", go_quote(&child_path)));
            map.remove(&key);
            continue;
        };
        let Some(child) = map.get_mut(&key) else {
            continue;
        };
        if child.is_null() {
            map.remove(&key);
            continue;
        }
        stack.push(key.clone());
        let result = walk_value(
            child,
            ty,
            strukt.go_name,
            stack,
            &child_path,
            unknown,
            saved,
        );
        stack.pop();
        result?;
    }
    let _ = parent;
    Ok(())
}

fn walk_value(
    value: &mut Value,
    ty: &Ty,
    strukt: &str,
    stack: &mut Vec<String>,
    path: &str,
    unknown: &mut Vec<String>,
    saved: &mut Option<String>,
) -> Result<(), String> {
    let mut save = |e: String| {
        saved.get_or_insert(e);
    };
    let mismatch = |v: &Value| type_error(json_kind(v).to_string(), strukt, stack, ty);
    match ty {
        Ty::Any => {}
        Ty::Str(_) => match value {
            Value::String(_) => {}
            v => save(mismatch(v)),
        },
        Ty::Bool => match value {
            Value::Bool(_) => {}
            v => save(mismatch(v)),
        },
        Ty::Int32 | Ty::Int64 => match value {
            Value::Number(n) => {
                let fits = match ty {
                    Ty::Int32 => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
                    _ => n.as_i64().is_some(),
                };
                if !fits {
                    save(type_error(format!("number {n}"), strukt, stack, ty));
                }
            }
            v => save(mismatch(v)),
        },
        Ty::IntOrString => match value {
            Value::String(_) => {}
            Value::Number(n) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => {}
            Value::Number(n) => return Err(int_or_string_error(format!("number {n}"))),
            v => return Err(int_or_string_error(json_kind(v).to_string())),
        },
        Ty::StrMap => match value {
            Value::Object(map) => {
                map.retain(|_, v| !v.is_null());
                for v in map.values() {
                    if !v.is_string() {
                        save(type_error(json_kind(v).to_string(), strukt, stack, &STR));
                    }
                }
            }
            v => save(mismatch(v)),
        },
        Ty::List(elem, _) => match value {
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if item.is_null() {
                        // Go decodes a null element as the zero value.
                        *item = match elem {
                            Ty::Obj(_) => Value::Object(Map::new()),
                            Ty::Str(_) => Value::String(String::new()),
                            _ => Value::Null,
                        };
                        continue;
                    }
                    let item_path = format!("{path}[{i}]");
                    walk_value(item, elem, strukt, stack, &item_path, unknown, saved)?;
                }
            }
            v => save(mismatch(v)),
        },
        Ty::Obj(s) => match value {
            Value::Object(_) => return walk(value, s, strukt, stack, path, unknown, saved),
            v => save(mismatch(v)),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        decode_service(&v)
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    }

    #[test]
    fn missing_type_meta_defaults_to_the_endpoint() {
        let d = decode_service(&json!({"metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}}))
            .unwrap();
        assert_eq!(d.object.metadata.name.as_deref(), Some("web"));
        assert!(d.strict_errors.is_empty());
    }

    #[test]
    fn unregistered_kind_is_a_bad_request() {
        assert_eq!(
            err(json!({"apiVersion":"v1","kind":"Foo"})),
            "Foo in version \"v1\" cannot be handled as a Service: no kind \"Foo\" is registered for version \"v1\" in scheme \"pkg/api/legacyscheme/scheme.go:30\""
        );
    }

    #[test]
    fn other_registered_kind_cannot_be_converted() {
        assert_eq!(
            err(json!({"apiVersion":"v1","kind":"Pod"})),
            "Pod in version \"v1\" cannot be handled as a Service: converting (v1.Pod) to (core.Service): unknown conversion"
        );
    }

    #[test]
    fn wrong_group_is_not_registered() {
        assert_eq!(
            err(json!({"apiVersion":"apps/v1","kind":"Service"})),
            "Service in version \"v1\" cannot be handled as a Service: no kind \"Service\" is registered for version \"apps/v1\" in scheme \"pkg/api/legacyscheme/scheme.go:30\""
        );
    }

    #[test]
    fn wrong_value_type_names_the_go_struct_field() {
        assert_eq!(
            err(json!({"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":"80"}]}})),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32"
        );
        assert_eq!(
            err(json!({"spec":{"type":5}})),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal number into Go struct field ServiceSpec.spec.type of type v1.ServiceType"
        );
        assert_eq!(
            err(json!({"spec":{"ports":[{"port":70000000000i64}]}})),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal number 70000000000 into Go struct field ServicePort.spec.ports.port of type int32"
        );
        assert_eq!(
            err(json!({"metadata":{"labels":{"a":1}}})),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
        );
    }

    #[test]
    fn int_or_string_errors_have_no_struct_context_and_win_over_saved_errors() {
        // IntOrString.UnmarshalJSON decodes with a nested encoding/json call, so its error has
        // no field context and aborts the decode, ahead of a type error saved earlier.
        let cases = [
            (
                json!({"spec":{"ports":[{"port":80,"targetPort":80.5}]}}),
                "number 80.5",
            ),
            (
                json!({"spec":{"ports":[{"port":80,"targetPort":2147483648i64}]}}),
                "number 2147483648",
            ),
            (
                json!({"spec":{"ports":[{"port":80,"targetPort":true}]}}),
                "bool",
            ),
            (
                json!({"spec":{"ports":[{"port":80,"targetPort":[1]}]}}),
                "array",
            ),
            (
                json!({"spec":{"ports":[{"port":80,"targetPort":{}}]}}),
                "object",
            ),
            (
                json!({"spec":{"type":5,"ports":[{"port":"80","targetPort":false}]}}),
                "bool",
            ),
        ];
        for (body, what) in cases {
            assert_eq!(
                err(body),
                format!(
                    "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal {what} into Go value of type int32"
                )
            );
        }
    }

    #[test]
    fn the_first_saved_type_error_wins() {
        assert_eq!(
            err(json!({"spec":{"type":5,"ports":[{"port":"80"}]}})),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal number into Go struct field ServiceSpec.spec.type of type v1.ServiceType"
        );
        assert_eq!(
            err(json!({"spec":{"ports":[{"port":"80"}],"type":5}})),
            "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32"
        );
    }

    #[test]
    fn unknown_fields_are_collected_with_indexed_paths() {
        let d =
            decode_service(&json!({"spec":{"foo":1,"ports":[{"port":80,"bogus":true}]}})).unwrap();
        assert_eq!(
            d.strict_errors,
            vec![
                "unknown field \"spec.foo\"",
                "unknown field \"spec.ports[0].bogus\""
            ]
        );
        assert_eq!(
            strict_error("Service", "v1", &d.strict_errors).message,
            "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.foo\", unknown field \"spec.ports[0].bogus\""
        );
    }

    #[test]
    fn nulls_are_zero_values() {
        let d = decode_service(&json!({"metadata":{"creationTimestamp":null,"name":"x"},"spec":{"ports":[{"port":null}],"selector":null}})).unwrap();
        assert_eq!(d.object.spec.unwrap().ports.unwrap()[0].port, 0);
    }

    #[test]
    fn canonical_form_drops_empty_values_and_keeps_status() {
        let d = decode_service(&json!({"spec":{"clusterIP":"","selector":{},"ports":[{"name":"","port":80,"nodePort":0}]}})).unwrap();
        let v = serde_json::to_value(&d.object).unwrap();
        assert_eq!(v["spec"], json!({"ports":[{"port":80}]}));
        assert_eq!(v["status"], json!({"loadBalancer":{}}));
    }

    #[test]
    fn syntax_errors_use_encoding_json_words() {
        assert_eq!(
            parse_json(b"{").unwrap_err(),
            "unexpected end of JSON input"
        );
        assert_eq!(
            parse_json(b"{\"a\" 1}").unwrap_err(),
            "invalid character '1' after object key"
        );
        assert_eq!(
            parse_json(b"{\"a\":1 \"b\":2}").unwrap_err(),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(
            parse_json(b"[1 2]").unwrap_err(),
            "invalid character '2' after array element"
        );
        assert_eq!(
            parse_json(b"{x}").unwrap_err(),
            "invalid character 'x' looking for beginning of object key string"
        );
        assert_eq!(
            unrecognized("Service", "unexpected end of JSON input", b"{").message,
            "the object provided is unrecognized (must be of type Service): couldn't get version/kind; json parse error: unexpected end of JSON input ({)"
        );
    }
}
