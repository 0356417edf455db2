//! Server-side printing for kubectl: the `meta.k8s.io/v1` Table, its columns per kind and
//! the cells of each row, ported from kube-apiserver's printers
//! (pkg/printers/internalversion/printers.go). Pure: the caller passes the current time.
//! ServiceAccounts and the RBAC kinds are printed by the `access` submodule, re-exported here.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

mod access;
mod autoscaling;
mod flowcontrol;
mod lease;

pub use access::{
    SubjectsStrings, binding_cells, cluster_role_binding_columns, created_at, role_binding_columns,
    role_cells, role_columns, service_account_cells, service_account_columns,
};
pub use autoscaling::{
    format_metrics as format_hpa_metrics, horizontal_pod_autoscaler_cells,
    horizontal_pod_autoscaler_columns,
};
pub use flowcontrol::{
    flow_schema_cells, flow_schema_columns, priority_level_cells, priority_level_columns,
};
pub use lease::{lease_cells, lease_columns};

/// `kind` of a Table response.
pub const TABLE_KIND: &str = "Table";
/// `apiVersion` of a Table response.
pub const TABLE_API_VERSION: &str = "meta.k8s.io/v1";
/// `kind` of the object carried in each row by default.
pub const PARTIAL_OBJECT_METADATA_KIND: &str = "PartialObjectMetadata";

/// Cell text for a missing value (`<none>`).
const NONE: &str = "<none>";
/// Cell text for a time that is not set (`<unknown>`).
const UNKNOWN: &str = "<unknown>";

/// A `meta.k8s.io/v1` Table, the body kubectl asks for with its Table Accept header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// Always [`TABLE_KIND`].
    pub kind: String,
    /// Always [`TABLE_API_VERSION`].
    pub api_version: String,
    /// The list's metadata; `resourceVersion` is what `kubectl get -w` watches from.
    pub metadata: TableListMeta,
    /// Every column, including the `priority: 1` ones kubectl shows only with `-o wide`.
    pub column_definitions: Vec<TableColumnDefinition>,
    /// One row per object.
    pub rows: Vec<TableRow>,
}

/// The `metadata` of a Table (a `ListMeta`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableListMeta {
    /// The collection's resource version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// The continue token of a paginated list.
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_: Option<String>,
    /// How many items a paginated list has left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_item_count: Option<i64>,
}

/// One column of a Table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableColumnDefinition {
    /// Column title; kubectl upper-cases it.
    pub name: String,
    /// OpenAPI type of the cells: `string`, `integer`, …
    #[serde(rename = "type")]
    pub type_: String,
    /// `name` on the Name column (kubectl then prints `service/x` for mixed kinds), else empty.
    pub format: String,
    /// Human description of the column.
    pub description: String,
    /// 0 for default columns, 1 for `-o wide` ones.
    pub priority: i32,
}

/// One row of a Table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// Cell values, one per column, in column order.
    pub cells: Vec<Value>,
    /// Row conditions; upstream marks finished pods `Completed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<TableRowCondition>,
    /// The object the row describes, shaped by `includeObject`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub object: Value,
}

/// A condition on a row (`metav1.TableRowCondition`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRowCondition {
    /// Condition type, e.g. `Completed`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// The `includeObject` query parameter: what each row's `object` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object.
    None,
    /// A `PartialObjectMetadata` with the object's metadata (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the query value (`None`, `Metadata`, `Object`); anything else is `None` here and
    /// left for the caller to reject.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "None" => Some(Self::None),
            "Metadata" => Some(Self::Metadata),
            "Object" => Some(Self::Object),
            _ => None,
        }
    }
}

/// The kinds this server prints as tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// core/v1 Service.
    Service,
    /// core/v1 Endpoints.
    Endpoints,
    /// core/v1 Pod.
    Pod,
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// core/v1 Node.
    Node,
    /// core/v1 Namespace.
    Namespace,
    /// discovery.k8s.io/v1 EndpointSlice.
    EndpointSlice,
    /// core/v1 Event.
    Event,
    /// events.k8s.io/v1 Event: upstream prints both versions from the one internal type, so
    /// its Table is the core Event's, printed from the converted object.
    EventsV1Event,
    /// core/v1 ServiceAccount.
    ServiceAccount,
    /// rbac.authorization.k8s.io/v1 Role (apiserver's default `Name`/`Created At` table).
    Role,
    /// rbac.authorization.k8s.io/v1 ClusterRole (likewise).
    ClusterRole,
    /// rbac.authorization.k8s.io/v1 RoleBinding.
    RoleBinding,
    /// rbac.authorization.k8s.io/v1 ClusterRoleBinding.
    ClusterRoleBinding,
    /// coordination.k8s.io/v1 Lease.
    Lease,
    /// flowcontrol.apiserver.k8s.io/v1 FlowSchema.
    FlowSchema,
    /// flowcontrol.apiserver.k8s.io/v1 PriorityLevelConfiguration.
    PriorityLevelConfiguration,
    /// autoscaling/v2 HorizontalPodAutoscaler.
    HorizontalPodAutoscaler,
    /// autoscaling/v1 HorizontalPodAutoscaler: printed from its v2 form, as upstream prints
    /// both versions from the one internal type.
    HorizontalPodAutoscalerV1,
}

impl TableKind {
    /// The printer for an object `kind`, if there is one.
    pub fn from_kind(kind: &str) -> Option<Self> {
        Some(match kind {
            "Service" => Self::Service,
            "Endpoints" => Self::Endpoints,
            "Pod" => Self::Pod,
            "Deployment" => Self::Deployment,
            "ReplicaSet" => Self::ReplicaSet,
            "Node" => Self::Node,
            "Namespace" => Self::Namespace,
            "EndpointSlice" => Self::EndpointSlice,
            "Event" => Self::Event,
            "ServiceAccount" => Self::ServiceAccount,
            "Role" => Self::Role,
            "ClusterRole" => Self::ClusterRole,
            "RoleBinding" => Self::RoleBinding,
            "ClusterRoleBinding" => Self::ClusterRoleBinding,
            "Lease" => Self::Lease,
            "FlowSchema" => Self::FlowSchema,
            "PriorityLevelConfiguration" => Self::PriorityLevelConfiguration,
            crate::autoscaling::KIND => Self::HorizontalPodAutoscaler,
            _ => return None,
        })
    }

    /// The printer for `kind` in `group`/`version` (kinds of the same name in two groups or
    /// versions may differ).
    pub fn for_resource(group: &str, version: &str, kind: &str) -> Option<Self> {
        match (group, version, kind) {
            (crate::events::GROUP_NAME, _, "Event") => Some(Self::EventsV1Event),
            (crate::autoscaling::GROUP_NAME, "v1", crate::autoscaling::KIND) => {
                Some(Self::HorizontalPodAutoscalerV1)
            }
            _ => Self::from_kind(kind),
        }
    }

    /// The column definitions, in upstream's order.
    pub fn columns(self) -> Vec<TableColumnDefinition> {
        match self {
            Self::Service => service_columns(),
            Self::Endpoints => endpoints_columns(),
            Self::Pod => pod_columns(),
            Self::Deployment => deployment_columns(),
            Self::ReplicaSet => replica_set_columns(),
            Self::Node => node_columns(),
            Self::Namespace => namespace_columns(),
            Self::EndpointSlice => endpoint_slice_columns(),
            Self::Event | Self::EventsV1Event => event_columns(),
            Self::ServiceAccount => service_account_columns(),
            Self::Role | Self::ClusterRole => role_columns(),
            Self::RoleBinding => role_binding_columns(),
            Self::ClusterRoleBinding => cluster_role_binding_columns(),
            Self::Lease => lease_columns(),
            Self::FlowSchema => flow_schema_columns(),
            Self::PriorityLevelConfiguration => priority_level_columns(),
            Self::HorizontalPodAutoscaler | Self::HorizontalPodAutoscalerV1 => {
                horizontal_pod_autoscaler_columns()
            }
        }
    }

    /// The cells of `obj`'s row (every column, wide ones included), at Unix time `now`.
    pub fn cells(self, obj: &Value, now: i64) -> Vec<Value> {
        match self {
            Self::Service => service_cells(obj, now),
            Self::Endpoints => endpoints_cells(obj, now),
            Self::Pod => pod_cells(obj, now),
            Self::Deployment => deployment_cells(obj, now),
            Self::ReplicaSet => replica_set_cells(obj, now),
            Self::Node => node_cells(obj, now),
            Self::Namespace => namespace_cells(obj, now),
            Self::EndpointSlice => endpoint_slice_cells(obj, now),
            Self::Event => event_cells(obj, now),
            Self::EventsV1Event => event_cells(&crate::events::to_core(obj), now),
            Self::ServiceAccount => service_account_cells(obj, now),
            Self::Role | Self::ClusterRole => role_cells(obj),
            Self::RoleBinding | Self::ClusterRoleBinding => binding_cells(obj, now),
            Self::Lease => lease_cells(obj, now),
            Self::FlowSchema => flow_schema_cells(obj, now),
            Self::PriorityLevelConfiguration => priority_level_cells(obj, now),
            Self::HorizontalPodAutoscaler => horizontal_pod_autoscaler_cells(obj, now),
            Self::HorizontalPodAutoscalerV1 => {
                horizontal_pod_autoscaler_cells(&crate::autoscaling::conversion::from_v1(obj), now)
            }
        }
    }

    /// The row for `obj`, carrying the object as `include` asks.
    pub fn row(self, obj: Value, now: i64, include: IncludeObject) -> TableRow {
        let cells = self.cells(&obj, now);
        let conditions = match self {
            Self::Pod => pod_row_conditions(&obj),
            _ => Vec::new(),
        };
        let object = match include {
            IncludeObject::None => Value::Null,
            IncludeObject::Metadata => partial_object_metadata(obj),
            IncludeObject::Object => obj,
        };
        TableRow {
            cells,
            conditions,
            object,
        }
    }

    /// A whole Table for `objects` (a list, or one object for a single GET).
    pub fn table(
        self,
        objects: Vec<Value>,
        now: i64,
        metadata: TableListMeta,
        include: IncludeObject,
    ) -> Table {
        Table {
            kind: TABLE_KIND.to_owned(),
            api_version: TABLE_API_VERSION.to_owned(),
            metadata,
            column_definitions: self.columns(),
            rows: objects
                .into_iter()
                .map(|o| self.row(o, now, include))
                .collect(),
        }
    }
}

/// The `PartialObjectMetadata` kubectl reads namespace and labels from: the object's
/// metadata without `managedFields`.
pub fn partial_object_metadata(mut obj: Value) -> Value {
    let mut metadata = match obj.get_mut("metadata").map(Value::take) {
        Some(Value::Object(metadata)) => metadata,
        _ => Map::new(),
    };
    metadata.retain(|key, _| key != "managedFields");
    json!({
        "kind": PARTIAL_OBJECT_METADATA_KIND,
        "apiVersion": TABLE_API_VERSION,
        "metadata": Value::Object(metadata),
    })
}

/// apimachinery's `duration.HumanDuration` for a duration of whole seconds, e.g. `45s`,
/// `5m3s`, `3h5m`, `3d4h`, `2y30d`; `<invalid>` below −1s and `0s` for −1s.
pub fn human_duration(d_seconds: i64) -> String {
    let d = d_seconds;
    if d < -1 {
        return "<invalid>".to_owned();
    }
    if d < 0 {
        return "0s".to_owned();
    }
    if d < 60 * 2 {
        return format!("{d}s");
    }
    let minutes = d / 60;
    if minutes < 10 {
        let s = d % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// Parses an RFC 3339 timestamp (`metav1.Time` or `MicroTime`) into Unix seconds.
pub fn parse_timestamp(value: &str) -> Option<i64> {
    value
        .parse::<k8s_openapi::jiff::Timestamp>()
        .ok()
        .map(|t| t.as_second())
}

/// Upstream `translateTimestampSince`: the age of `timestamp` at `now`, `<unknown>` if unset.
pub fn translate_timestamp_since(timestamp: Option<&str>, now: i64) -> String {
    match timestamp.and_then(parse_timestamp) {
        Some(t) => human_duration(now.saturating_sub(t)),
        None => UNKNOWN.to_owned(),
    }
}

fn column(name: &str, type_: &str, priority: i32, description: &str) -> TableColumnDefinition {
    TableColumnDefinition {
        name: name.to_owned(),
        type_: type_.to_owned(),
        format: String::new(),
        description: description.to_owned(),
        priority,
    }
}

fn name_column(priority: i32) -> TableColumnDefinition {
    TableColumnDefinition {
        format: "name".to_owned(),
        ..column("Name", "string", priority, DESC_NAME)
    }
}

fn age_column() -> TableColumnDefinition {
    column("Age", "string", 0, DESC_AGE)
}

fn at<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, key| v.get(key))
}

fn str_at<'a>(obj: &'a Value, path: &[&str]) -> &'a str {
    at(obj, path).and_then(Value::as_str).unwrap_or("")
}

fn int_at(obj: &Value, path: &[&str]) -> Option<i64> {
    at(obj, path).and_then(Value::as_i64)
}

fn list_at<'a>(obj: &'a Value, path: &[&str]) -> &'a [Value] {
    at(obj, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn map_at<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    at(obj, path).and_then(Value::as_object)
}

fn name_cell(obj: &Value) -> Value {
    Value::from(str_at(obj, &["metadata", "name"]))
}

fn age_cell(obj: &Value, now: i64) -> Value {
    Value::from(translate_timestamp_since(
        at(obj, &["metadata", "creationTimestamp"]).and_then(Value::as_str),
        now,
    ))
}

fn or_none(s: String) -> String {
    if s.is_empty() { NONE.to_owned() } else { s }
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, joined by `,`; `<none>` when empty.
pub fn format_labels(labels: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<(&String, &str)> = labels
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    or_none(
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key;
/// empty for a missing or empty selector, `<invalid>` for an unknown operator.
pub fn format_label_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector.filter(|s| s.is_object()) else {
        return String::new();
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            requirements.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for expr in list_at(selector, &["matchExpressions"]) {
        let key = str_at(expr, &["key"]);
        let mut values: Vec<&str> = list_at(expr, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let values = values.join(",");
        let text = match str_at(expr, &["operator"]) {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "Exists" => key.to_owned(),
            "DoesNotExist" => format!("!{key}"),
            _ => return "<invalid>".to_owned(),
        };
        requirements.push((key.to_owned(), text));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    requirements
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(",")
}

/// Columns of `kubectl get services`.
pub fn service_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Type", "string", 0, DESC_SERVICE_TYPE),
        column("Cluster-IP", "string", 0, DESC_SERVICE_CLUSTER_IP),
        column("External-IP", "string", 0, DESC_SERVICE_EXTERNAL_IPS),
        column("Port(s)", "string", 0, DESC_SERVICE_PORTS),
        age_column(),
        column("Selector", "string", 1, DESC_SERVICE_SELECTOR),
    ]
}

/// Cells of a Service row. Mirrors printService.
pub fn service_cells(svc: &Value, now: i64) -> Vec<Value> {
    let cluster_ip = list_at(svc, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty())
        .or_else(|| Some(str_at(svc, &["spec", "clusterIP"])).filter(|ip| !ip.is_empty()))
        .unwrap_or(NONE);
    vec![
        name_cell(svc),
        Value::from(str_at(svc, &["spec", "type"])),
        Value::from(cluster_ip),
        Value::from(service_external_ip(svc)),
        Value::from(or_none(service_ports(svc))),
        age_cell(svc, now),
        Value::from(format_labels(map_at(svc, &["spec", "selector"]))),
    ]
}

/// The External-IP cell. Mirrors getServiceExternalIP (wide, so never truncated).
pub fn service_external_ip(svc: &Value) -> String {
    let external_ips: Vec<&str> = list_at(svc, &["spec", "externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match str_at(svc, &["spec", "type"]) {
        "ClusterIP" | "NodePort" => or_none(external_ips.join(",")),
        "LoadBalancer" => {
            let mut ingress: Vec<&str> = list_at(svc, &["status", "loadBalancer", "ingress"])
                .iter()
                .filter_map(|i| {
                    let ip = str_at(i, &["ip"]);
                    let hostname = str_at(i, &["hostname"]);
                    if !ip.is_empty() {
                        Some(ip)
                    } else if !hostname.is_empty() {
                        Some(hostname)
                    } else {
                        None
                    }
                })
                .collect();
            ingress.sort_unstable();
            ingress.dedup();
            let mut all = ingress;
            all.extend(external_ips);
            if all.is_empty() {
                "<pending>".to_owned()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_at(svc, &["spec", "externalName"]).to_owned(),
        _ => UNKNOWN.to_owned(),
    }
}

/// The Port(s) text: `port/PROTO` or `port:nodePort/PROTO`, joined by `,`; empty without
/// ports. Mirrors makePortString.
pub fn service_ports(svc: &Value) -> String {
    list_at(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int_at(p, &["port"]).unwrap_or(0);
            let protocol = str_at(p, &["protocol"]);
            match int_at(p, &["nodePort"]).filter(|n| *n > 0) {
                Some(node_port) => format!("{port}:{node_port}/{protocol}"),
                None => format!("{port}/{protocol}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Columns of `kubectl get endpoints`.
pub fn endpoints_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Endpoints", "string", 0, DESC_ENDPOINTS_SUBSETS),
        age_column(),
    ]
}

/// Cells of an Endpoints row. Mirrors printEndpoints.
pub fn endpoints_cells(ep: &Value, now: i64) -> Vec<Value> {
    vec![
        name_cell(ep),
        Value::from(format_endpoints(ep)),
        age_cell(ep, now),
    ]
}

/// Host and port the way Go's `net.JoinHostPort` writes them (IPv6 in brackets).
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `a + N more...` once `max` entries are listed.
const MAX_LISTED: usize = 3;

/// The Endpoints cell: the first three ready `ip:port`, then ` + N more...`. Mirrors
/// formatEndpoints.
pub fn format_endpoints(ep: &Value) -> String {
    let subsets = list_at(ep, &["subsets"]);
    if subsets.is_empty() {
        return NONE.to_owned();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for subset in subsets {
        let addresses = list_at(subset, &["addresses"]);
        let ports = list_at(subset, &["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            for address in addresses {
                if list.len() == MAX_LISTED {
                    more = true;
                    break;
                }
                list.push(str_at(address, &["ip"]).to_owned());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            let port_number = int_at(port, &["port"]).unwrap_or(0);
            for address in addresses {
                if list.len() == MAX_LISTED {
                    more = true;
                    break;
                }
                list.push(join_host_port(str_at(address, &["ip"]), port_number));
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count.saturating_sub(MAX_LISTED))
    } else {
        joined
    }
}

/// Columns of `kubectl get pods`.
pub fn pod_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column(
            "Ready",
            "string",
            0,
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        column(
            "Status",
            "string",
            0,
            "The aggregate status of the containers in this pod.",
        ),
        column(
            "Restarts",
            "string",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        age_column(),
        column("IP", "string", 1, DESC_POD_IP),
        column("Node", "string", 1, DESC_POD_NODE_NAME),
        column("Nominated Node", "string", 1, DESC_POD_NOMINATED_NODE),
        column("Readiness Gates", "string", 1, DESC_POD_READINESS_GATES),
    ]
}

fn is_restartable_init_container(init: Option<&&Value>) -> bool {
    init.is_some_and(|c| str_at(c, &["restartPolicy"]) == "Always")
}

fn has_condition(pod: &Value, type_: &str) -> bool {
    list_at(pod, &["status", "conditions"])
        .iter()
        .any(|c| str_at(c, &["type"]) == type_ && str_at(c, &["status"]) == "True")
}

/// The later of the running "last restart" time and a container's last termination.
fn later_restart(last: Option<i64>, status: &Value) -> Option<i64> {
    let finished = at(status, &["lastState", "terminated", "finishedAt"])
        .and_then(Value::as_str)
        .and_then(parse_timestamp);
    match (last, finished) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn terminated_reason(terminated: &Value, prefix: &str) -> String {
    let reason = str_at(terminated, &["reason"]);
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int_at(terminated, &["signal"]).unwrap_or(0);
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!(
            "{prefix}ExitCode:{}",
            int_at(terminated, &["exitCode"]).unwrap_or(0)
        )
    }
}

/// Cells of a Pod row. Mirrors printPod: Ready `n/m`, the aggregate Status, Restarts with
/// `(age ago)` of the last restart, and the wide IP, Node, Nominated Node and Readiness Gates.
pub fn pod_cells(pod: &Value, now: i64) -> Vec<Value> {
    let containers = list_at(pod, &["spec", "containers"]);
    let init_containers = list_at(pod, &["spec", "initContainers"]);
    let mut total = containers.len();
    let mut ready = 0usize;
    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut last_restart: Option<i64> = None;
    let mut last_sidecar_restart: Option<i64> = None;

    let phase = str_at(pod, &["status", "phase"]);
    let status_reason = str_at(pod, &["status", "reason"]);
    let mut reason = if status_reason.is_empty() {
        phase
    } else {
        status_reason
    }
    .to_owned();
    if list_at(pod, &["status", "conditions"]).iter().any(|c| {
        str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated"
    }) {
        reason = "SchedulingGated".to_owned();
    }

    let init_by_name: std::collections::HashMap<&str, &Value> = init_containers
        .iter()
        .map(|c| (str_at(c, &["name"]), c))
        .collect();
    total += init_containers
        .iter()
        .filter(|c| str_at(c, &["restartPolicy"]) == "Always")
        .count();

    let mut initializing = false;
    for (i, status) in list_at(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let count = int_at(status, &["restartCount"]).unwrap_or(0);
        restarts += count;
        last_restart = later_restart(last_restart, status);
        let sidecar = is_restartable_init_container(init_by_name.get(str_at(status, &["name"])));
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = later_restart(last_sidecar_restart, status);
        }
        let terminated = at(status, &["state", "terminated"]).filter(|t| t.is_object());
        let waiting_reason = str_at(status, &["state", "waiting", "reason"]);
        let started = at(status, &["started"]).and_then(Value::as_bool) == Some(true);
        if terminated.is_some_and(|t| int_at(t, &["exitCode"]).unwrap_or(0) == 0) {
            continue;
        }
        if sidecar && started {
            if at(status, &["ready"]).and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = terminated_reason(t, "Init:");
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    if !initializing || has_condition(pod, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for status in list_at(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int_at(status, &["restartCount"]).unwrap_or(0);
            last_restart = later_restart(last_restart, status);
            let waiting_reason = str_at(status, &["state", "waiting", "reason"]);
            let terminated = at(status, &["state", "terminated"]).filter(|t| t.is_object());
            let running = at(status, &["state", "running"]).is_some_and(Value::is_object);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_owned();
            } else if let Some(t) = terminated {
                reason = terminated_reason(t, "");
            } else if at(status, &["ready"]).and_then(Value::as_bool) == Some(true) && running {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_condition(pod, "Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .to_owned();
        }
    }

    let deleting = at(pod, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null());
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".to_owned();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_owned();
    }

    let restarts_text = match last_restart {
        Some(t) if restarts != 0 => {
            format!("{restarts} ({} ago)", human_duration(now.saturating_sub(t)))
        }
        _ => restarts.to_string(),
    };

    let pod_ip = list_at(pod, &["status", "podIPs"])
        .first()
        .map(|ip| str_at(ip, &["ip"]).to_owned())
        .unwrap_or_default();
    let gates = list_at(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        NONE.to_owned()
    } else {
        let conditions = list_at(pod, &["status", "conditions"]);
        let true_count = gates
            .iter()
            .filter(|g| {
                let wanted = str_at(g, &["conditionType"]);
                conditions
                    .iter()
                    .find(|c| str_at(c, &["type"]) == wanted)
                    .is_some_and(|c| str_at(c, &["status"]) == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };

    vec![
        name_cell(pod),
        Value::from(format!("{ready}/{total}")),
        Value::from(reason),
        Value::from(restarts_text),
        age_cell(pod, now),
        Value::from(or_none(pod_ip)),
        Value::from(or_none(str_at(pod, &["spec", "nodeName"]).to_owned())),
        Value::from(or_none(
            str_at(pod, &["status", "nominatedNodeName"]).to_owned(),
        )),
        Value::from(readiness_gates),
    ]
}

/// Upstream marks rows of finished pods with a `Completed` condition.
fn pod_row_conditions(pod: &Value) -> Vec<TableRowCondition> {
    let (reason, message) = match str_at(pod, &["status", "phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return Vec::new(),
    };
    vec![TableRowCondition {
        type_: "Completed".to_owned(),
        status: "True".to_owned(),
        reason: reason.to_owned(),
        message: message.to_owned(),
    }]
}

/// Columns of `kubectl get deployments`.
pub fn deployment_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Ready", "string", 0, "Number of the pod with ready state"),
        column("Up-to-date", "string", 0, DESC_DEPLOYMENT_UPDATED),
        column("Available", "string", 0, DESC_DEPLOYMENT_AVAILABLE),
        age_column(),
    ]
    .into_iter()
    .chain(template_columns(DESC_DEPLOYMENT_SELECTOR))
    .collect()
}

/// The `-o wide` columns of a workload with a pod template: Containers, Images, Selector.
fn template_columns(selector: &'static str) -> [TableColumnDefinition; 3] {
    [
        column(
            "Containers",
            "string",
            1,
            "Names of each container in the template.",
        ),
        column(
            "Images",
            "string",
            1,
            "Images referenced by each container in the template.",
        ),
        column("Selector", "string", 1, selector),
    ]
}

/// The cells of [`template_columns`]: the template's container names and images, and the
/// workload's selector.
fn template_cells(workload: &Value) -> [Value; 3] {
    let containers = list_at(workload, &["spec", "template", "spec", "containers"]);
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, &["image"])).collect();
    [
        Value::from(names.join(",")),
        Value::from(images.join(",")),
        Value::from(format_label_selector(at(workload, &["spec", "selector"]))),
    ]
}

/// Cells of a Deployment row. Mirrors printDeployment: Up-to-date and Available are numbers.
pub fn deployment_cells(deploy: &Value, now: i64) -> Vec<Value> {
    // Defaulting sets spec.replicas to 1 when it is absent.
    let desired = int_at(deploy, &["spec", "replicas"]).unwrap_or(1);
    let ready = int_at(deploy, &["status", "readyReplicas"]).unwrap_or(0);
    let updated = int_at(deploy, &["status", "updatedReplicas"]).unwrap_or(0);
    let available = int_at(deploy, &["status", "availableReplicas"]).unwrap_or(0);
    vec![
        name_cell(deploy),
        Value::from(format!("{ready}/{desired}")),
        Value::from(updated),
        Value::from(available),
        age_cell(deploy, now),
    ]
    .into_iter()
    .chain(template_cells(deploy))
    .collect()
}

/// Columns of `kubectl get replicasets` (`replicaSetColumnDefinitions` in printers.go).
pub fn replica_set_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Desired", "integer", 0, DESC_RS_DESIRED),
        column("Current", "integer", 0, DESC_RS_CURRENT),
        column("Ready", "integer", 0, DESC_RS_READY),
        age_column(),
    ]
    .into_iter()
    .chain(template_columns(DESC_RS_SELECTOR))
    .collect()
}

/// Cells of a ReplicaSet row. Mirrors printReplicaSet: the counts are integers.
pub fn replica_set_cells(rs: &Value, now: i64) -> Vec<Value> {
    let desired = int_at(rs, &["spec", "replicas"]).unwrap_or(1);
    let current = int_at(rs, &["status", "replicas"]).unwrap_or(0);
    let ready = int_at(rs, &["status", "readyReplicas"]).unwrap_or(0);
    vec![
        name_cell(rs),
        Value::from(desired),
        Value::from(current),
        Value::from(ready),
        age_cell(rs, now),
    ]
    .into_iter()
    .chain(template_cells(rs))
    .collect()
}

/// Columns of `kubectl get nodes`.
pub fn node_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Status", "string", 0, "The status of the node"),
        column("Roles", "string", 0, "The roles of the node"),
        age_column(),
        column("Version", "string", 0, DESC_NODE_KUBELET_VERSION),
        column("Internal-IP", "string", 1, DESC_NODE_ADDRESSES),
        column("External-IP", "string", 1, DESC_NODE_ADDRESSES),
        column("OS-Image", "string", 1, DESC_NODE_OS_IMAGE),
        column("Kernel-Version", "string", 1, DESC_NODE_KERNEL),
        column("Container-Runtime", "string", 1, DESC_NODE_RUNTIME),
    ]
}

const NODE_ROLE_LABEL_PREFIX: &str = "node-role.kubernetes.io/";
const NODE_ROLE_LABEL: &str = "kubernetes.io/role";

fn node_address(node: &Value, type_: &str) -> String {
    list_at(node, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == type_)
        .map(|a| str_at(a, &["address"]).to_owned())
        .unwrap_or_else(|| NONE.to_owned())
}

fn or_unknown(s: &str) -> String {
    if s.is_empty() {
        UNKNOWN.to_owned()
    } else {
        s.to_owned()
    }
}

/// Cells of a Node row. Mirrors printNode and findNodeRoles.
pub fn node_cells(node: &Value, now: i64) -> Vec<Value> {
    // Only the Ready condition is shown; a later duplicate overrides an earlier one.
    let mut status: Vec<String> = Vec::new();
    if let Some(ready) = list_at(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| str_at(c, &["type"]) == "Ready")
    {
        status.push(
            if str_at(ready, &["status"]) == "True" {
                "Ready"
            } else {
                "NotReady"
            }
            .to_owned(),
        );
    }
    if status.is_empty() {
        status.push("Unknown".to_owned());
    }
    if at(node, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled".to_owned());
    }
    let mut roles: Vec<String> = map_at(node, &["metadata", "labels"])
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| {
                    if let Some(role) = k.strip_prefix(NODE_ROLE_LABEL_PREFIX) {
                        (!role.is_empty()).then(|| role.to_owned())
                    } else if k == NODE_ROLE_LABEL {
                        v.as_str().filter(|r| !r.is_empty()).map(str::to_owned)
                    } else {
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles.dedup();
    let info = |field: &str| or_unknown(str_at(node, &["status", "nodeInfo", field]));
    vec![
        name_cell(node),
        Value::from(status.join(",")),
        Value::from(or_none(roles.join(","))),
        age_cell(node, now),
        Value::from(str_at(node, &["status", "nodeInfo", "kubeletVersion"])),
        Value::from(node_address(node, "InternalIP")),
        Value::from(node_address(node, "ExternalIP")),
        Value::from(info("osImage")),
        Value::from(info("kernelVersion")),
        Value::from(info("containerRuntimeVersion")),
    ]
}

/// Columns of `kubectl get namespaces`.
pub fn namespace_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Status", "string", 0, "The status of the namespace"),
        age_column(),
    ]
}

/// Cells of a Namespace row. Mirrors printNamespace.
pub fn namespace_cells(ns: &Value, now: i64) -> Vec<Value> {
    vec![
        name_cell(ns),
        Value::from(str_at(ns, &["status", "phase"])),
        age_cell(ns, now),
    ]
}

/// Columns of `kubectl get endpointslices`.
pub fn endpoint_slice_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("AddressType", "string", 0, DESC_SLICE_ADDRESS_TYPE),
        column("Ports", "string", 0, DESC_SLICE_PORTS),
        column("Endpoints", "string", 0, DESC_SLICE_ENDPOINTS),
        age_column(),
    ]
}

/// upstream `listWithMoreString`.
fn list_with_more(list: &[String], more: bool, count: usize) -> String {
    let joined = list.join(",");
    if more {
        return format!("{joined} + {} more...", count.saturating_sub(MAX_LISTED));
    }
    if joined.is_empty() {
        "<unset>".to_owned()
    } else {
        joined
    }
}

/// Cells of an EndpointSlice row. Mirrors printEndpointSlice, formatDiscoveryPorts and
/// formatDiscoveryEndpoints.
pub fn endpoint_slice_cells(slice: &Value, now: i64) -> Vec<Value> {
    let mut ports = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for port in list_at(slice, &["ports"]) {
        if ports.len() < MAX_LISTED {
            let text = match int_at(port, &["port"]) {
                Some(n) => n.to_string(),
                None => at(port, &["name"])
                    .and_then(Value::as_str)
                    .map_or_else(|| "<unset>".to_owned(), str::to_owned),
            };
            ports.push(text);
        } else {
            more = true;
        }
        count += 1;
    }
    let ports_text = list_with_more(&ports, more, count);

    let mut addresses = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for endpoint in list_at(slice, &["endpoints"]) {
        for address in list_at(endpoint, &["addresses"]) {
            if addresses.len() < MAX_LISTED {
                addresses.push(address.as_str().unwrap_or("").to_owned());
            } else {
                more = true;
            }
            count += 1;
        }
    }
    vec![
        name_cell(slice),
        Value::from(str_at(slice, &["addressType"])),
        Value::from(ports_text),
        Value::from(list_with_more(&addresses, more, count)),
        age_cell(slice, now),
    ]
}

/// Columns of `kubectl get events`.
pub fn event_columns() -> Vec<TableColumnDefinition> {
    vec![
        column("Last Seen", "string", 0, DESC_EVENT_LAST_SEEN),
        column("Type", "string", 0, DESC_EVENT_TYPE),
        column("Reason", "string", 0, DESC_EVENT_REASON),
        column("Object", "string", 0, DESC_EVENT_OBJECT),
        column("Subobject", "string", 1, DESC_EVENT_SUBOBJECT),
        column("Source", "string", 1, DESC_EVENT_SOURCE),
        column("Message", "string", 0, DESC_EVENT_MESSAGE),
        column("First Seen", "string", 1, DESC_EVENT_FIRST_SEEN),
        column("Count", "string", 1, DESC_EVENT_COUNT),
        name_column(1),
    ]
}

fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

/// Cells of an Event row. Mirrors printEvent and formatEventSource; Count is a number.
pub fn event_cells(event: &Value, now: i64) -> Vec<Value> {
    let time_at = |path: &[&str]| {
        at(event, path)
            .and_then(Value::as_str)
            .and_then(parse_timestamp)
    };
    let since = |t: Option<i64>| match t {
        Some(t) => human_duration(now.saturating_sub(t)),
        None => UNKNOWN.to_owned(),
    };
    let first_seen = match time_at(&["firstTimestamp"]) {
        Some(t) => since(Some(t)),
        None => since(time_at(&["eventTime"])),
    };
    let mut last_seen = match time_at(&["lastTimestamp"]) {
        Some(t) => since(Some(t)),
        None => first_seen.clone(),
    };
    let mut count = int_at(event, &["count"]).unwrap_or(0);
    if at(event, &["series"]).is_some_and(Value::is_object) {
        last_seen = since(time_at(&["series", "lastObservedTime"]));
        count = int_at(event, &["series", "count"]).unwrap_or(0);
    } else if count == 0 {
        // Singleton events from the events.k8s.io API carry no count.
        count = 1;
    }
    let kind = str_at(event, &["involvedObject", "kind"]).to_lowercase();
    let name = str_at(event, &["involvedObject", "name"]);
    let target = if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    };
    let component = first_non_empty(
        str_at(event, &["source", "component"]),
        str_at(event, &["reportingComponent"]),
    );
    let instance = first_non_empty(
        str_at(event, &["source", "host"]),
        str_at(event, &["reportingInstance"]),
    );
    let source = if instance.is_empty() {
        component.to_owned()
    } else {
        format!("{component}, {instance}")
    };
    vec![
        Value::from(last_seen),
        Value::from(str_at(event, &["type"])),
        Value::from(str_at(event, &["reason"])),
        Value::from(target),
        Value::from(str_at(event, &["involvedObject", "fieldPath"])),
        Value::from(source),
        Value::from(str_at(event, &["message"]).trim()),
        Value::from(first_seen),
        Value::from(count),
        name_cell(event),
    ]
}

const DESC_NAME: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const DESC_AGE: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const DESC_SERVICE_TYPE: &str = "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types";
const DESC_SERVICE_CLUSTER_IP: &str = "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
const DESC_SERVICE_EXTERNAL_IPS: &str = "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.";
const DESC_SERVICE_PORTS: &str = "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
const DESC_SERVICE_SELECTOR: &str = "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/";
const DESC_ENDPOINTS_SUBSETS: &str = "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.";
const DESC_POD_IP: &str = "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.";
const DESC_POD_NODE_NAME: &str = "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename";
const DESC_POD_NOMINATED_NODE: &str = "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.";
const DESC_POD_READINESS_GATES: &str = "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates";
const DESC_DEPLOYMENT_UPDATED: &str = "Total number of non-terminated pods targeted by this deployment that have the desired template spec.";
const DESC_DEPLOYMENT_AVAILABLE: &str = "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.";
const DESC_DEPLOYMENT_SELECTOR: &str = "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.";
const DESC_RS_DESIRED: &str = "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller";
const DESC_RS_CURRENT: &str = "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller";
const DESC_RS_READY: &str =
    "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.";
const DESC_RS_SELECTOR: &str = "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
const DESC_NODE_KUBELET_VERSION: &str = "Kubelet Version reported by the node.";
const DESC_NODE_ADDRESSES: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";
const DESC_NODE_OS_IMAGE: &str =
    "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).";
const DESC_NODE_KERNEL: &str =
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).";
const DESC_NODE_RUNTIME: &str = "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).";
const DESC_SLICE_ADDRESS_TYPE: &str = "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.";
const DESC_SLICE_PORTS: &str = "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates \"all ports\". Each slice may include a maximum of 100 ports.";
const DESC_SLICE_ENDPOINTS: &str = "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.";
const DESC_EVENT_LAST_SEEN: &str =
    "The time at which the most recent occurrence of this event was recorded.";
const DESC_EVENT_TYPE: &str =
    "Type of this event (Normal, Warning), new types could be added in the future";
const DESC_EVENT_REASON: &str = "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.";
const DESC_EVENT_OBJECT: &str = "The object that this event is about.";
const DESC_EVENT_SUBOBJECT: &str = "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.";
const DESC_EVENT_SOURCE: &str =
    "The component reporting this event. Should be a short machine understandable string.";
const DESC_EVENT_MESSAGE: &str = "A human-readable description of the status of this operation.";
const DESC_EVENT_FIRST_SEEN: &str =
    "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)";
const DESC_EVENT_COUNT: &str = "The number of times this event has occurred.";

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26T03:53:53Z
    const CREATED: i64 = 1_795_665_233;

    fn cells(kind: TableKind, obj: &Value, now: i64) -> Vec<Value> {
        kind.cells(obj, now)
    }

    fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": "2026-11-26T03:53:53Z"})
    }

    #[test]
    fn human_duration_matches_apimachinery() {
        let cases = [
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (45, "45s"),
            (119, "119s"),
            (120, "2m"),
            (303, "5m3s"),
            (600, "10m"),
            (720, "12m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (8 * 3600, "8h"),
            (20 * 3600, "20h"),
            (47 * 3600 + 59 * 60, "47h"),
            (48 * 3600, "2d"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (8 * 86400, "8d"),
            (30 * 86400, "30d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (760 * 86400, "2y30d"),
            (8 * 365 * 86400, "8y"),
            (20 * 365 * 86400, "20y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }

    #[test]
    fn parse_timestamp_reads_rfc3339() {
        assert_eq!(parse_timestamp("2026-11-26T03:53:53Z"), Some(CREATED));
        assert_eq!(
            parse_timestamp("2026-11-26T03:53:53.123456Z"),
            Some(CREATED)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(translate_timestamp_since(None, CREATED), "<unknown>");
    }

    fn lb_service() -> Value {
        json!({
            "kind": "Service",
            "metadata": {
                "name": "my-nginx-svc", "namespace": "default", "uid": "u1",
                "resourceVersion": "1010", "creationTimestamp": "2026-11-26T03:53:53Z",
                "labels": {"app": "nginx"},
                "managedFields": [{"manager": "kubectl"}]
            },
            "spec": {
                "type": "LoadBalancer", "clusterIP": "172.21.0.14", "clusterIPs": ["172.21.0.14"],
                "selector": {"tier": "web", "app": "nginx"},
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30080}]
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "192.168.49.11"}]}}
        })
    }

    #[test]
    fn service_row_matches_the_capture() {
        assert_eq!(
            cells(TableKind::Service, &lb_service(), CREATED + 16),
            vec![
                json!("my-nginx-svc"),
                json!("LoadBalancer"),
                json!("172.21.0.14"),
                json!("192.168.49.11"),
                json!("80:30080/TCP"),
                json!("16s"),
                json!("app=nginx,tier=web")
            ]
        );
    }

    #[test]
    fn service_columns_shape() {
        let cols = service_columns();
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "Selector"
            ]
        );
        assert_eq!(cols[0].format, "name");
        assert!(
            cols[..6]
                .iter()
                .all(|c| c.priority == 0 && c.type_ == "string")
        );
        assert_eq!(cols[6].priority, 1);
        assert!(
            cols[1]
                .description
                .starts_with("type determines how the Service is exposed.")
        );
    }

    #[test]
    fn service_external_ip_rules() {
        let mut svc = lb_service();
        svc["status"] = json!({"loadBalancer": {}});
        assert_eq!(service_external_ip(&svc), "<pending>");
        svc["status"]["loadBalancer"]["ingress"] = json!([{"ip": "10.0.0.2"}, {"hostname": "lb.example.com"}, {"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {}]);
        assert_eq!(
            service_external_ip(&svc),
            "10.0.0.1,10.0.0.2,lb.example.com"
        );
        svc["spec"]["externalIPs"] = json!(["1.2.3.4"]);
        assert_eq!(
            service_external_ip(&svc),
            "10.0.0.1,10.0.0.2,lb.example.com,1.2.3.4"
        );
        svc["status"] = json!({});
        assert_eq!(service_external_ip(&svc), "1.2.3.4");

        let cluster_ip = json!({"spec": {"type": "ClusterIP"}});
        assert_eq!(service_external_ip(&cluster_ip), "<none>");
        let node_port =
            json!({"spec": {"type": "NodePort", "externalIPs": ["1.1.1.1", "2.2.2.2"]}});
        assert_eq!(service_external_ip(&node_port), "1.1.1.1,2.2.2.2");
        let external = json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        assert_eq!(service_external_ip(&external), "db.example.com");
        assert_eq!(service_external_ip(&json!({"spec": {}})), "<unknown>");
    }

    #[test]
    fn service_cluster_ip_and_ports_cells() {
        let headless = json!({"metadata": meta("h"), "spec": {"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}});
        let c = cells(TableKind::Service, &headless, CREATED);
        assert_eq!(c[2], json!("None"));
        assert_eq!(c[4], json!("<none>"));
        assert_eq!(c[6], json!("<none>"));
        let external = json!({"metadata": meta("e"), "spec": {"type": "ExternalName", "externalName": "x.example"}});
        assert_eq!(
            cells(TableKind::Service, &external, CREATED)[2],
            json!("<none>")
        );
        let ports = json!({"spec": {"ports": [
            {"port": 8080, "protocol": "TCP", "nodePort": 30087},
            {"port": 443, "protocol": "TCP", "nodePort": 30094},
            {"port": 53, "protocol": "UDP"}
        ]}});
        assert_eq!(service_ports(&ports), "8080:30087/TCP,443:30094/TCP,53/UDP");
    }

    #[test]
    fn row_object_is_partial_object_metadata_without_managed_fields() {
        let row = TableKind::Service.row(lb_service(), CREATED, IncludeObject::Metadata);
        assert_eq!(
            row.object,
            json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": {
                    "name": "my-nginx-svc", "namespace": "default", "uid": "u1",
                    "resourceVersion": "1010", "creationTimestamp": "2026-11-26T03:53:53Z",
                    "labels": {"app": "nginx"}
                }
            })
        );
        assert_eq!(
            TableKind::Service
                .row(lb_service(), CREATED, IncludeObject::None)
                .object,
            Value::Null
        );
    }

    #[test]
    fn table_serializes_in_the_captured_shape() {
        let table = TableKind::Service.table(
            vec![lb_service()],
            CREATED,
            TableListMeta {
                resource_version: Some("1014".into()),
                ..TableListMeta::default()
            },
            IncludeObject::Metadata,
        );
        let v = serde_json::to_value(&table).unwrap();
        assert_eq!(v["kind"], json!("Table"));
        assert_eq!(v["apiVersion"], json!("meta.k8s.io/v1"));
        assert_eq!(v["metadata"], json!({"resourceVersion": "1014"}));
        assert_eq!(
            v["columnDefinitions"][1]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>()),
            Some(vec![
                "name".into(),
                "type".into(),
                "format".into(),
                "description".into(),
                "priority".into()
            ])
        );
        assert_eq!(v["columnDefinitions"][0]["format"], json!("name"));
        assert!(v["rows"][0].get("conditions").is_none());
        let empty = TableKind::Service.table(
            Vec::new(),
            CREATED,
            TableListMeta::default(),
            IncludeObject::Metadata,
        );
        assert_eq!(serde_json::to_value(&empty).unwrap()["rows"], json!([]));
    }

    #[test]
    fn endpoints_cells() {
        let ep = json!({"metadata": meta("web"), "subsets": [
            {"addresses": [{"ip": "10.244.0.13"}, {"ip": "10.244.0.14"}],
             "notReadyAddresses": [{"ip": "10.244.0.99"}],
             "ports": [{"port": 80}, {"port": 443}]}
        ]});
        assert_eq!(
            cells(TableKind::Endpoints, &ep, CREATED + 60),
            vec![
                json!("web"),
                json!("10.244.0.13:80,10.244.0.14:80,10.244.0.13:443 + 1 more..."),
                json!("60s")
            ]
        );
        assert_eq!(format_endpoints(&json!({})), "<none>");
        assert_eq!(
            format_endpoints(&json!({"subsets": [{"notReadyAddresses": [{"ip": "1.1.1.1"}]}]})),
            ""
        );
        let headless = json!({"subsets": [{"addresses": [{"ip": "1.1.1.1"}, {"ip": "fd00::1"}]}]});
        assert_eq!(format_endpoints(&headless), "1.1.1.1,fd00::1");
        let v6 = json!({"subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]});
        assert_eq!(format_endpoints(&v6), "[fd00::1]:80");
    }

    fn running_pod() -> Value {
        json!({
            "metadata": meta("web-1"),
            "spec": {"nodeName": "node-a", "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {
                "phase": "Running",
                "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                    {"name": "b", "ready": true, "restartCount": 2, "state": {"running": {}},
                     "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-26T03:58:53Z"}}}
                ]
            }
        })
    }

    #[test]
    fn pod_running_row() {
        assert_eq!(
            cells(TableKind::Pod, &running_pod(), CREATED + 600),
            vec![
                json!("web-1"),
                json!("2/2"),
                json!("Running"),
                json!("2 (5m ago)"),
                json!("10m"),
                json!("10.244.0.5"),
                json!("node-a"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let cols = pod_columns();
        assert_eq!(cols[3].name, "Restarts");
        assert_eq!(cols.iter().filter(|c| c.priority == 1).count(), 4);
    }

    #[test]
    fn pod_pending_and_waiting_reasons() {
        let pending = json!({"metadata": meta("p"), "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}});
        let c = cells(TableKind::Pod, &pending, CREATED);
        assert_eq!(
            (c[1].clone(), c[2].clone(), c[3].clone()),
            (json!("0/1"), json!("Pending"), json!("0"))
        );
        assert_eq!(c[5], json!("<none>"));
        assert_eq!(c[6], json!("<none>"));

        let crash = json!({"metadata": meta("p"), "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Running",
            "containerStatuses": [{"name": "a", "ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let c = cells(TableKind::Pod, &crash, CREATED);
        assert_eq!(
            (c[2].clone(), c[3].clone()),
            (json!("CrashLoopBackOff"), json!("3"))
        );

        let exited = json!({"metadata": meta("p"), "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Failed",
            "containerStatuses": [{"name": "a", "state": {"terminated": {"exitCode": 137}}}]}});
        assert_eq!(
            cells(TableKind::Pod, &exited, CREATED)[2],
            json!("ExitCode:137")
        );
        let row = TableKind::Pod.row(exited, CREATED, IncludeObject::None);
        assert_eq!(row.conditions[0].reason, "Failed");
        assert_eq!(row.conditions[0].message, "The pod failed.");
    }

    #[test]
    fn pod_init_and_terminating() {
        let init = json!({"metadata": meta("p"),
        "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]},
        "status": {"phase": "Pending", "initContainerStatuses": [
            {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
            {"name": "i2", "state": {"running": {}}}
        ]}});
        assert_eq!(cells(TableKind::Pod, &init, CREATED)[2], json!("Init:1/2"));

        let init_failed = json!({"metadata": meta("p"),
        "spec": {"initContainers": [{"name": "i1"}], "containers": [{"name": "a"}]},
        "status": {"phase": "Pending", "initContainerStatuses": [
            {"name": "i1", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
        ]}});
        assert_eq!(
            cells(TableKind::Pod, &init_failed, CREATED)[2],
            json!("Init:Error")
        );

        let sidecar = json!({"metadata": meta("p"),
            "spec": {"initContainers": [{"name": "s", "restartPolicy": "Always"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
                "initContainerStatuses": [{"name": "s", "started": true, "ready": true, "state": {"running": {}}}],
                "containerStatuses": [{"name": "a", "ready": true, "state": {"running": {}}}]}});
        let c = cells(TableKind::Pod, &sidecar, CREATED);
        assert_eq!(
            (c[1].clone(), c[2].clone()),
            (json!("2/2"), json!("Running"))
        );

        let mut deleting = running_pod();
        deleting["metadata"]["deletionTimestamp"] = json!("2026-11-26T04:00:00Z");
        assert_eq!(
            cells(TableKind::Pod, &deleting, CREATED)[2],
            json!("Terminating")
        );
        deleting["status"]["reason"] = json!("NodeLost");
        assert_eq!(
            cells(TableKind::Pod, &deleting, CREATED)[2],
            json!("Unknown")
        );
    }

    #[test]
    fn pod_readiness_gates_and_nominated_node() {
        let mut pod = running_pod();
        pod["spec"]["readinessGates"] =
            json!([{"conditionType": "Ready"}, {"conditionType": "x/y"}]);
        pod["status"]["nominatedNodeName"] = json!("node-b");
        let c = cells(TableKind::Pod, &pod, CREATED);
        assert_eq!(c[7], json!("node-b"));
        assert_eq!(c[8], json!("1/2"));
    }

    #[test]
    fn replica_set_row() {
        let rs = json!({"metadata": meta("nginx-6d8f9b7c5"),
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx", "pod-template-hash": "6d8f9b7c5"}},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2}});
        assert_eq!(
            cells(TableKind::ReplicaSet, &rs, CREATED + 90),
            vec![
                json!("nginx-6d8f9b7c5"),
                json!(3),
                json!(3),
                json!(2),
                json!("90s"),
                json!("web"),
                json!("nginx:1.27"),
                json!("app=nginx,pod-template-hash=6d8f9b7c5")
            ]
        );
        let names: Vec<String> = TableKind::ReplicaSet
            .columns()
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(
            names,
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
    }

    #[test]
    fn deployment_row() {
        let d = json!({"metadata": meta("nginx"),
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "nginx"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["b", "a"]}, {"key": "gone", "operator": "DoesNotExist"}]},
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        assert_eq!(
            cells(TableKind::Deployment, &d, CREATED + 3 * 86400 + 4 * 3600),
            vec![
                json!("nginx"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("3d4h"),
                json!("web,log"),
                json!("nginx:1.27,busybox"),
                json!("app=nginx,env in (a,b),!gone")
            ]
        );
        let bare = json!({"metadata": meta("x"), "spec": {}});
        let c = cells(TableKind::Deployment, &bare, CREATED);
        assert_eq!(
            (c[1].clone(), c[2].clone(), c[7].clone()),
            (json!("0/1"), json!(0), json!(""))
        );
        assert_eq!(
            format_label_selector(Some(
                &json!({"matchExpressions": [{"key": "a", "operator": "Bad"}]})
            )),
            "<invalid>"
        );
    }

    #[test]
    fn node_row() {
        let n = json!({"metadata": {"name": "n1", "creationTimestamp": "2026-11-26T03:53:53Z",
                "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/": "", "kubernetes.io/role": "master"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.49.2"}, {"type": "Hostname", "address": "n1"}],
                "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Ubuntu 22.04", "kernelVersion": "", "containerRuntimeVersion": "containerd://1.7"}}});
        assert_eq!(
            cells(TableKind::Node, &n, CREATED + 20 * 3600),
            vec![
                json!("n1"),
                json!("Ready,SchedulingDisabled"),
                json!("control-plane,master"),
                json!("20h"),
                json!("v1.32.0"),
                json!("192.168.49.2"),
                json!("<none>"),
                json!("Ubuntu 22.04"),
                json!("<unknown>"),
                json!("containerd://1.7")
            ]
        );
        let bare = json!({"metadata": {"name": "n2"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
        let c = cells(TableKind::Node, &bare, CREATED);
        assert_eq!(
            (c[1].clone(), c[2].clone(), c[3].clone()),
            (json!("NotReady"), json!("<none>"), json!("<unknown>"))
        );
        assert_eq!(
            cells(TableKind::Node, &json!({}), CREATED)[1],
            json!("Unknown")
        );
    }

    #[test]
    fn namespace_row() {
        let ns = json!({"metadata": meta("kube-system"), "status": {"phase": "Active"}});
        assert_eq!(
            cells(TableKind::Namespace, &ns, CREATED + 30 * 86400),
            vec![json!("kube-system"), json!("Active"), json!("30d")]
        );
    }

    #[test]
    fn flowcontrol_rows() {
        let fs = json!({"metadata": meta("exempt"), "spec": {"matchingPrecedence": 1,
            "priorityLevelConfiguration": {"name": "exempt"}}});
        assert_eq!(
            cells(TableKind::FlowSchema, &fs, CREATED + 60),
            [
                json!("exempt"),
                json!("exempt"),
                json!(1),
                json!("<none>"),
                json!("60s"),
                json!("?")
            ]
        );
        let dangling = json!({"metadata": meta("x"), "spec": {"matchingPrecedence": 5,
            "distinguisherMethod": {"type": "ByUser"}, "priorityLevelConfiguration": {"name": "gone"}},
            "status": {"conditions": [{"type": "Dangling", "status": "True"}]}});
        let row = cells(TableKind::FlowSchema, &dangling, CREATED);
        assert_eq!((&row[3], &row[5]), (&json!("ByUser"), &json!("True")));
        let rejecting = json!({"metadata": meta("catch-all"), "spec": {"type": "Limited",
            "limited": {"nominalConcurrencyShares": 5, "limitResponse": {"type": "Reject"}}}});
        assert_eq!(
            cells(TableKind::PriorityLevelConfiguration, &rejecting, CREATED)[1..6],
            [
                json!("Limited"),
                json!(5),
                json!("<none>"),
                json!("<none>"),
                json!("<none>")
            ]
        );
        let queuing = json!({"metadata": meta("p"), "spec": {"type": "Limited",
            "limited": {"nominalConcurrencyShares": 0, "limitResponse": {"type": "Queue",
                "queuing": {"queues": 64, "handSize": 6, "queueLengthLimit": 50}}}}});
        assert_eq!(
            cells(TableKind::PriorityLevelConfiguration, &queuing, CREATED)[2..6],
            [json!(0), json!(64), json!(6), json!(50)]
        );
        let exempt = json!({"metadata": meta("exempt"), "spec": {"type": "Exempt",
            "exempt": {"nominalConcurrencyShares": 0}}});
        assert_eq!(
            cells(TableKind::PriorityLevelConfiguration, &exempt, CREATED)[2],
            json!("<none>")
        );
    }

    #[test]
    fn lease_row() {
        let held = json!({"metadata": meta("kube-controller-manager"),
            "spec": {"holderIdentity": "host_4f6c", "leaseDurationSeconds": 15}});
        assert_eq!(
            cells(TableKind::Lease, &held, CREATED + 300),
            vec![
                json!("kube-controller-manager"),
                json!("host_4f6c"),
                json!("5m")
            ]
        );
        let released = json!({"metadata": meta("x"), "spec": {"holderIdentity": ""}});
        assert_eq!(cells(TableKind::Lease, &released, CREATED)[1], json!(""));
        let names: Vec<String> = TableKind::Lease
            .columns()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["Name", "Holder", "Age"]);
    }

    #[test]
    fn endpoint_slice_row() {
        let s = json!({"metadata": meta("web-abc"), "addressType": "IPv4",
            "ports": [{"port": 80}, {"name": "https"}, {}, {"port": 9}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3", "10.0.0.4"]}]});
        assert_eq!(
            cells(TableKind::EndpointSlice, &s, CREATED + 45),
            vec![
                json!("web-abc"),
                json!("IPv4"),
                json!("80,https,<unset> + 1 more..."),
                json!("10.0.0.1,10.0.0.2,10.0.0.3 + 1 more..."),
                json!("45s")
            ]
        );
        let empty = json!({"metadata": meta("e"), "addressType": "IPv6"});
        let c = cells(TableKind::EndpointSlice, &empty, CREATED);
        assert_eq!(
            (c[2].clone(), c[3].clone()),
            (json!("<unset>"), json!("<unset>"))
        );
    }

    #[test]
    fn event_row() {
        let e = json!({"metadata": meta("web.17a"), "type": "Normal", "reason": "Scheduled",
            "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"},
            "source": {"component": "default-scheduler"},
            "message": "  Successfully assigned default/web-1 to n1\n",
            "firstTimestamp": "2026-11-26T03:53:53Z", "lastTimestamp": "2026-11-26T03:54:53Z", "count": 2});
        assert_eq!(
            cells(TableKind::Event, &e, CREATED + 120),
            vec![
                json!("60s"),
                json!("Normal"),
                json!("Scheduled"),
                json!("pod/web-1"),
                json!("spec.containers{web}"),
                json!("default-scheduler"),
                json!("Successfully assigned default/web-1 to n1"),
                json!("2m"),
                json!(2),
                json!("web.17a")
            ]
        );
        let new_api = json!({"metadata": meta("x"), "eventTime": "2026-11-26T03:53:53.000000Z",
            "involvedObject": {"kind": "Node"}, "reportingComponent": "kubelet", "reportingInstance": "n1"});
        let c = cells(TableKind::Event, &new_api, CREATED + 5);
        assert_eq!(c[0], json!("5s"));
        assert_eq!(c[3], json!("node"));
        assert_eq!(c[5], json!("kubelet, n1"));
        assert_eq!(c[7], json!("5s"));
        assert_eq!(c[8], json!(1));
        let series = json!({"metadata": meta("s"), "firstTimestamp": "2026-11-26T03:53:53Z",
            "series": {"count": 7, "lastObservedTime": "2026-11-26T03:55:53.5Z"}});
        let c = cells(TableKind::Event, &series, CREATED + 180);
        assert_eq!((c[0].clone(), c[8].clone()), (json!("60s"), json!(7)));
        // The events.k8s.io/v1 view of an Event prints the same row as its core/v1 form.
        let served = crate::events::from_core(&e);
        let v1 = TableKind::for_resource("events.k8s.io", "v1", "Event").unwrap();
        assert_eq!(v1, TableKind::EventsV1Event);
        assert_eq!(
            cells(v1, &served, CREATED + 120),
            cells(TableKind::Event, &e, CREATED + 120)
        );
        assert_eq!(v1.columns(), TableKind::Event.columns());
        let cols = event_columns();
        assert_eq!(
            cols.last()
                .map(|c| (c.name.as_str(), c.format.as_str(), c.priority)),
            Some(("Name", "name", 1))
        );
    }

    #[test]
    fn every_kind_has_a_cell_per_column_even_for_garbage() {
        for kind in [
            "Service",
            "Endpoints",
            "Pod",
            "Deployment",
            "ReplicaSet",
            "Node",
            "Namespace",
            "EndpointSlice",
            "Event",
            "ServiceAccount",
            "Role",
            "ClusterRole",
            "RoleBinding",
            "ClusterRoleBinding",
            "Lease",
            "FlowSchema",
            "PriorityLevelConfiguration",
        ] {
            let k = TableKind::from_kind(kind).unwrap();
            for obj in [
                json!(null),
                json!(5),
                json!({"metadata": 1, "spec": [], "status": "x"}),
            ] {
                assert_eq!(k.cells(&obj, 0).len(), k.columns().len(), "{kind}");
            }
        }
        assert_eq!(TableKind::from_kind("Widget"), None);
    }
}
