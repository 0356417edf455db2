//! View models: one askama struct per template, with every value preformatted in Rust
//! (using `service_plan::table` where kubectl prints the same thing, so both agree).

use service_plan::json::Pointer as _;
use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use service_plan::service::types::{
    PROTOCOLS, TRAFFIC_POLICY_CLUSTER, TRAFFIC_POLICY_LOCAL, TYPE_CLUSTER_IP, TYPE_LOAD_BALANCER,
    TYPE_NODE_PORT,
};
use service_plan::table;

use super::forms::{
    ANN_LB_ID, BACKEND_SELECTOR_PREFIX, Backend, FormErrors, ServiceForm, selector_text, string_map,
};
use super::{Ctx, Flash, catalog};

/// `sort=` of the newest first order of the Services list.
pub const SORT_CREATED: &str = "created";
/// `sort=` of the oldest first order of the Services list.
pub const SORT_CREATED_ASC: &str = "created-asc";

/// The header, navigation, breadcrumbs and flash of every page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub request_id: String,
    pub csrf_token: String,
    pub flash: Option<Flash>,
    /// The selected namespace; empty for All Namespaces.
    pub namespace: String,
    pub namespaces: Vec<SelectOption>,
    pub crumbs: Vec<Crumb>,
    /// The left-navigation entry of the page, and where the namespace picker leads.
    pub section: &'static str,
    /// The signed-in user's name (team mode), shown with Sign out.
    pub user: Option<String>,
    /// What the user may do in the page's namespace.
    pub may: Actions,
}

/// The actions the user may take in a page's namespace; the page offers only these.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actions {
    pub create_services: bool,
    pub update_services: bool,
    pub delete_services: bool,
    pub create_load_balancers: bool,
    pub delete_load_balancers: bool,
}

impl Actions {
    /// What `access` allows in `namespace` ("" for all namespaces).
    pub fn of(access: &super::Access, namespace: &str) -> Actions {
        let slb = |verb| {
            access.can(
                verb,
                crate::registry::LOAD_BALANCERS.group,
                crate::registry::LOAD_BALANCERS.plural,
                "",
                "",
            )
        };
        Actions {
            create_services: access.can_services("create", namespace, ""),
            update_services: access.can_services("update", namespace, ""),
            delete_services: access.can_services("delete", namespace, ""),
            create_load_balancers: slb("create"),
            delete_load_balancers: slb("delete"),
        }
    }
}

impl Layout {
    /// The layout of a page titled `title` in `namespace` ("" for all).
    pub fn new(
        ctx: &Ctx,
        title: &str,
        namespace: &str,
        namespaces: &[String],
        crumbs: Vec<Crumb>,
    ) -> Layout {
        // The picker offers only the namespaces whose Services the user may list.
        let mut options = Vec::new();
        if ctx.access.can_services("list", "", "") {
            options.push(SelectOption::new(
                "",
                "All Namespaces",
                namespace.is_empty(),
            ));
        }
        options.extend(
            namespaces
                .iter()
                .filter(|n| ctx.access.can_services("list", n, ""))
                .map(|n| SelectOption::new(n, n, n == namespace)),
        );
        // A namespace that does not exist stays shown as chosen, and says so.
        if !namespace.is_empty() && !namespaces.iter().any(|n| n == namespace) {
            options.push(SelectOption::new(
                namespace,
                &format!("{namespace} (does not exist)"),
                true,
            ));
        }
        Layout {
            title: title.to_string(),
            request_id: ctx.request_id.clone(),
            csrf_token: ctx.csrf_token.clone(),
            flash: ctx.flash.clone(),
            namespace: namespace.to_string(),
            namespaces: options,
            crumbs,
            section: "/services",
            user: ctx.signed_in.clone(),
            may: Actions::of(&ctx.access, namespace),
        }
    }

    /// The same layout for a page of another navigation `section` (`/applications`, …).
    pub fn in_section(mut self, section: &'static str) -> Layout {
        self.section = section;
        self
    }
}

/// One breadcrumb; the last has no link.
#[derive(Debug, Clone)]
pub struct Crumb {
    pub label: String,
    pub href: Option<String>,
}

impl Crumb {
    /// A linked crumb.
    pub fn link(label: &str, href: String) -> Crumb {
        Crumb {
            label: label.to_string(),
            href: Some(href),
        }
    }

    /// The current page's crumb.
    pub fn here(label: &str) -> Crumb {
        Crumb {
            label: label.to_string(),
            href: None,
        }
    }
}

/// The crumb of the Services list in `namespace`.
pub fn services_crumb(namespace: &str) -> Crumb {
    Crumb::link("Services", list_url(namespace))
}

/// An `<option>`.
#[derive(Debug, Clone)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl SelectOption {
    /// An option reading `label` that posts `value`.
    pub fn new(value: &str, label: &str, selected: bool) -> SelectOption {
        SelectOption {
            value: value.to_string(),
            label: label.to_string(),
            selected,
        }
    }
}

fn options(values: &[(&str, &str)], selected: &str) -> Vec<SelectOption> {
    values
        .iter()
        .map(|(v, l)| SelectOption::new(v, l, *v == selected))
        .collect()
}

/// A link, or plain text when `href` is `None`.
#[derive(Debug, Clone)]
pub struct EndpointLink {
    pub text: String,
    pub href: Option<String>,
    /// The port it reaches; 0 for "Pending".
    pub port: i64,
}

/// Percent-encodes a query or path component.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, NOT_UNRESERVED).to_string()
}

/// Every byte but RFC 3986's unreserved characters is percent-encoded.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `/services?namespace=…`.
pub fn list_url(namespace: &str) -> String {
    format!("/services?namespace={}", encode(namespace))
}

/// `/services/{namespace}/{name}`.
pub fn details_url(namespace: &str, name: &str) -> String {
    format!("/services/{}/{}", encode(namespace), encode(name))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.at(pointer).and_then(Value::as_str).unwrap_or("")
}

fn array_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.at(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// `2024-05-01T12:00:00Z` → `2024-05-01 12:00:00 UTC`.
pub fn created_at(svc: &Value) -> String {
    let ts = str_at(svc, "/metadata/creationTimestamp");
    if ts.is_empty() {
        String::new()
    } else {
        format!("{} UTC", ts.replacen('T', " ", 1).trim_end_matches('Z'))
    }
}

/// kubectl's AGE of an object.
pub(super) fn age(obj: &Value, now: i64) -> String {
    let ts = obj
        .at("/metadata/creationTimestamp")
        .and_then(Value::as_str);
    table::translate_timestamp_since(ts, now)
}

/// The Cluster IP column (`None` for headless, `-` when unset), as kubectl's CLUSTER-IP.
pub fn cluster_ip(svc: &Value) -> String {
    let ip = str_at(svc, "/spec/clusterIP");
    if ip.is_empty() {
        "-".into()
    } else {
        ip.to_string()
    }
}

/// In-cluster endpoints as ACK lists them: `name:port PROTO` per port and, for ports with a
/// node port (NodePort and LoadBalancer), `name:nodePort PROTO` as well.
pub fn internal_endpoints(svc: &Value) -> Vec<String> {
    let name = str_at(svc, "/metadata/name");
    let ports = array_at(svc, "/spec/ports");
    let line = |number: i64, port: &Value| format!("{name}:{number} {}", str_at(port, "/protocol"));
    let service_ports = ports
        .iter()
        .map(|p| line(p.get("port").and_then(Value::as_i64).unwrap_or(0), p));
    let node_ports = ports.iter().filter_map(|p| {
        p.get("nodePort")
            .and_then(Value::as_i64)
            .filter(|n| *n > 0)
            .map(|n| line(n, p))
    });
    service_ports.chain(node_ports).collect()
}

fn scheme(port: &Value) -> &'static str {
    let app = str_at(port, "/appProtocol").to_ascii_lowercase();
    let name = str_at(port, "/name");
    let https =
        app == "https" || app.ends_with("/https") || name == "https" || name.starts_with("https-");
    if https { "https" } else { "http" }
}

fn endpoint_link(host: &str, number: i64, port: &Value) -> EndpointLink {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let protocol = str_at(port, "/protocol");
    let text = format!("{host}:{number}");
    if protocol.is_empty() || protocol == "TCP" {
        EndpointLink {
            href: Some(format!("{}://{text}", scheme(port))),
            text,
            port: number,
        }
    } else {
        EndpointLink {
            text: format!("{text} {protocol}"),
            href: None,
            port: number,
        }
    }
}

/// The External Endpoint: for LoadBalancer each ingress with each port (`Pending` until the
/// load balancer has an address); for NodePort a node address with each node port; no link
/// for UDP or SCTP.
pub fn external_endpoints(svc: &Value, node_address: Option<&str>) -> Vec<EndpointLink> {
    let ports = array_at(svc, "/spec/ports");
    match str_at(svc, "/spec/type") {
        TYPE_LOAD_BALANCER => {
            let hosts: Vec<&str> = array_at(svc, "/status/loadBalancer/ingress")
                .iter()
                .map(|i| {
                    if str_at(i, "/ip").is_empty() {
                        str_at(i, "/hostname")
                    } else {
                        str_at(i, "/ip")
                    }
                })
                .filter(|h| !h.is_empty())
                .collect();
            if hosts.is_empty() {
                return vec![EndpointLink {
                    text: "Pending".into(),
                    href: None,
                    port: 0,
                }];
            }
            let port_number = |p: &Value| p.get("port").and_then(Value::as_i64).unwrap_or(0);
            hosts
                .iter()
                .flat_map(|h| {
                    ports
                        .iter()
                        .map(move |p| endpoint_link(h, port_number(p), p))
                })
                .collect()
        }
        TYPE_NODE_PORT => match node_address {
            Some(node) => ports
                .iter()
                .filter_map(|p| {
                    Some(endpoint_link(
                        node,
                        p.get("nodePort").and_then(Value::as_i64)?,
                        p,
                    ))
                })
                .collect(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// A node's address for NodePort links: its ExternalIP, else its InternalIP.
pub fn node_address(node: &Value) -> Option<String> {
    let addresses = array_at(node, "/status/addresses");
    ["ExternalIP", "InternalIP"].iter().find_map(|kind| {
        addresses
            .iter()
            .find(|a| str_at(a, "/type") == *kind)
            .map(|a| str_at(a, "/address").to_string())
    })
}

/// YAML of an object without `managedFields`.
pub fn to_yaml(object: &Value) -> String {
    let mut object = object.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    serde_saphyr::to_string(&object).unwrap_or_else(|e| format!("# cannot print YAML: {e}"))
}

// ---------------------------------------------------------------- list

/// One row of the Services list.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    pub namespace: String,
    pub name: String,
    pub details_url: String,
    pub edit_url: String,
    pub delete_url: String,
    pub service_type: String,
    pub created_at: String,
    pub age: String,
    pub cluster_ip: String,
    pub internal: Vec<String>,
    pub external: Vec<EndpointLink>,
    pub select_value: String,
    /// Whether the user may update and delete this Service.
    pub may_update: bool,
    pub may_delete: bool,
}

impl ServiceRow {
    /// The row of one Service at Unix time `now`.
    pub fn new(svc: &Value, now: i64, node: Option<&str>) -> ServiceRow {
        let namespace = str_at(svc, "/metadata/namespace").to_string();
        let name = str_at(svc, "/metadata/name").to_string();
        let details = details_url(&namespace, &name);
        ServiceRow {
            edit_url: format!("{details}/edit"),
            delete_url: format!("{details}/delete"),
            details_url: details,
            service_type: type_label(str_at(svc, "/spec/type")),
            created_at: created_at(svc),
            age: age(svc, now),
            cluster_ip: cluster_ip(svc),
            internal: internal_endpoints(svc),
            external: external_endpoints(svc, node),
            select_value: format!("{namespace}/{name}"),
            may_update: true,
            may_delete: true,
            namespace,
            name,
        }
    }
}

/// The table, pagination and empty state: the part live updates replace.
#[derive(Debug, Clone)]
pub struct ServiceResults {
    pub rows: Vec<ServiceRow>,
    /// "45 Services", or how many of them match the filters.
    pub total: String,
    /// This page of the list with its filters: where deletes return to.
    pub self_url: String,
    pub all_namespaces: bool,
    pub filtered: bool,
    pub error: Option<String>,
    pub page_number: usize,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub first_url: Option<String>,
    pub create_url: String,
    pub clear_url: String,
    pub csrf_token: String,
    /// Whether the user may create Services here, and delete any of those on the page.
    pub may_create: bool,
    pub may_delete: bool,
    /// The namespace shown when it does not exist: the page says so instead of "no Services".
    pub missing_namespace: Option<String>,
}

/// The list's filter values, as typed.
#[derive(Debug, Clone, Default)]
pub struct ListFilters {
    pub name: String,
    pub label: String,
    pub service_type: String,
    pub sort: String,
    pub type_options: Vec<SelectOption>,
    pub sort_options: Vec<SelectOption>,
    /// The page sizes (20, 50, 100), the chosen one selected.
    pub page_size_options: Vec<SelectOption>,
}

impl ListFilters {
    /// Filters with their select options.
    pub fn new(name: &str, label: &str, service_type: &str, sort: &str) -> ListFilters {
        ListFilters {
            name: name.into(),
            label: label.into(),
            service_type: service_type.into(),
            sort: sort.into(),
            type_options: options(
                &[
                    ("", "All types"),
                    (TYPE_CLUSTER_IP, "Cluster IP (ClusterIP)"),
                    (TYPE_NODE_PORT, "Node Port (NodePort)"),
                    (TYPE_LOAD_BALANCER, "Server Load Balancer (LoadBalancer)"),
                    ("ExternalName", "External Name (ExternalName)"),
                ],
                service_type,
            ),
            sort_options: options(
                &[
                    ("name", "Name"),
                    (SORT_CREATED, "Created At (newest first)"),
                    (SORT_CREATED_ASC, "Created At (oldest first)"),
                ],
                sort,
            ),
            page_size_options: Vec::new(),
        }
    }
}

/// `GET /services`.
#[derive(Template, WebTemplate)]
#[template(path = "services/index.html")]
pub struct ServiceIndexPage {
    pub layout: Layout,
    pub filters: ListFilters,
    pub results: ServiceResults,
    pub watch_url: String,
}

/// The live-update fragment of the list.
#[derive(Template, WebTemplate)]
#[template(path = "services/index.html", block = "results")]
pub struct ServiceResultsPartial {
    pub results: ServiceResults,
}

// ---------------------------------------------------------------- details

/// One Port Mapping row of Details.
#[derive(Debug, Clone)]
pub struct PortView {
    pub name: String,
    pub port: String,
    pub target_port: String,
    pub protocol: String,
    pub node_port: String,
    pub app_protocol: String,
}

/// One endpoint (address × port) of Details.
#[derive(Debug, Clone)]
pub struct EndpointView {
    pub pod: String,
    pub ip: String,
    pub port: String,
    pub node: String,
    pub ready: &'static str,
}

/// One Event of Details.
#[derive(Debug, Clone)]
pub struct EventView {
    pub event_type: String,
    pub reason: String,
    pub age: String,
    pub count: String,
    pub message: String,
}

/// A kubectl command with its copy button.
#[derive(Debug, Clone)]
pub struct KubectlCommand {
    pub id: String,
    pub label: String,
    pub command: String,
}

/// Characters of a label or annotation value Details shows before "Show all".
pub const VALUE_PREVIEW_CHARS: usize = 200;

/// A key/value row (labels, annotations, selector).
#[derive(Debug, Clone)]
pub struct Pair {
    pub key: String,
    pub value: String,
    /// The first [`VALUE_PREVIEW_CHARS`] characters of a longer value, else empty.
    pub preview: String,
    /// The value's length in characters, for "Show all (N characters)".
    pub chars: usize,
}

fn pairs(map: BTreeMap<String, String>) -> Vec<Pair> {
    map.into_iter()
        .map(|(key, value)| {
            let chars = value.chars().count();
            let preview = if chars > VALUE_PREVIEW_CHARS {
                value.chars().take(VALUE_PREVIEW_CHARS).collect()
            } else {
                String::new()
            };
            Pair {
                key,
                value,
                preview,
                chars,
            }
        })
        .collect()
}

/// The one name of a Service type the console uses everywhere: the ACK console's words
/// with the Kubernetes value, e.g. "Server Load Balancer (LoadBalancer)".
pub fn type_label(service_type: &str) -> String {
    let words = match service_type {
        TYPE_CLUSTER_IP => "Cluster IP",
        TYPE_NODE_PORT => "Node Port",
        TYPE_LOAD_BALANCER => "Server Load Balancer",
        "ExternalName" => "External Name",
        other => return other.to_string(),
    };
    format!("{words} ({service_type})")
}

/// `GET /services/{namespace}/{name}`.
#[derive(Template, WebTemplate)]
#[template(path = "services/show.html")]
pub struct ServiceShowPage {
    pub layout: Layout,
    pub name: String,
    pub namespace: String,
    pub service_type: String,
    pub cluster_ip: String,
    pub created_at: String,
    pub age: String,
    pub selector: String,
    pub session_affinity: String,
    pub external_traffic_policy: String,
    pub internal_traffic_policy: String,
    pub internal: Vec<String>,
    pub external: Vec<EndpointLink>,
    pub ports: Vec<PortView>,
    pub endpoints: Vec<EndpointView>,
    pub labels: Vec<Pair>,
    pub annotations: Vec<Pair>,
    pub events: Vec<EventView>,
    pub yaml: String,
    pub kubectl: Vec<KubectlCommand>,
    pub edit_url: String,
    pub delete_url: String,
    /// The History tab.
    pub history_url: String,
    /// The SLB listeners and backends of a LoadBalancer Service (see `plan::enrich_details`).
    pub slb: Option<crate::plan_view::PlanView>,
    /// "Why no traffic?": empty when the Service has ready endpoints.
    pub no_traffic: Vec<String>,
    /// The live-update stream of this page (see `services::watch`).
    pub watch_url: String,
    /// Ports whose targetPort the selected pods do not expose, for the Endpoints card.
    pub endpoint_notes: Vec<String>,
}

/// What Details reads besides the Service.
pub struct Related<'a> {
    pub endpoint_slices: &'a [Value],
    pub endpoints: Option<&'a Value>,
    pub events: &'a [Value],
    pub node: Option<&'a str>,
    pub now: i64,
}

impl ServiceShowPage {
    /// Details of `svc`.
    pub fn new(layout: Layout, svc: &Value, related: Related<'_>) -> ServiceShowPage {
        let namespace = str_at(svc, "/metadata/namespace").to_string();
        let name = str_at(svc, "/metadata/name").to_string();
        let details = details_url(&namespace, &name);
        let or_dash = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "-".into(),
        };
        ServiceShowPage {
            service_type: type_label(str_at(svc, "/spec/type")),
            cluster_ip: cluster_ip(svc),
            created_at: created_at(svc),
            age: age(svc, related.now),
            selector: or_dash(&selector_text(&string_map(svc.at("/spec/selector")))),
            session_affinity: or_dash(str_at(svc, "/spec/sessionAffinity")),
            external_traffic_policy: or_dash(str_at(svc, "/spec/externalTrafficPolicy")),
            internal_traffic_policy: or_dash(str_at(svc, "/spec/internalTrafficPolicy")),
            internal: internal_endpoints(svc),
            external: external_endpoints(svc, related.node),
            ports: array_at(svc, "/spec/ports")
                .iter()
                .map(|p| PortView {
                    name: or_dash(str_at(p, "/name")),
                    port: text(p.get("port")),
                    target_port: text(p.get("targetPort")),
                    protocol: or_dash(str_at(p, "/protocol")),
                    node_port: text(p.get("nodePort")),
                    app_protocol: or_dash(str_at(p, "/appProtocol")),
                })
                .collect(),
            endpoints: endpoint_views(related.endpoint_slices, related.endpoints),
            labels: pairs(string_map(svc.at("/metadata/labels"))),
            annotations: pairs(string_map(svc.at("/metadata/annotations"))),
            events: related
                .events
                .iter()
                .map(|e| event_view(e, related.now))
                .collect(),
            yaml: to_yaml(svc),
            kubectl: kubectl_commands(&namespace, &name),
            edit_url: format!("{details}/edit"),
            history_url: format!("{details}/history"),
            delete_url: format!("{details}/delete"),
            slb: None,
            no_traffic: Vec::new(),
            watch_url: String::new(),
            endpoint_notes: Vec::new(),
            layout,
            name,
            namespace,
        }
    }
}

fn kubectl_commands(namespace: &str, name: &str) -> Vec<KubectlCommand> {
    let ns = format!("-n {namespace}");
    [
        (
            "get",
            "View",
            format!("kubectl get service {name} {ns} -o wide"),
        ),
        (
            "yaml",
            "View in YAML",
            format!("kubectl get service {name} {ns} -o yaml"),
        ),
        (
            "describe",
            "Describe",
            format!("kubectl describe service {name} {ns}"),
        ),
        (
            "edit",
            "Update",
            format!("kubectl edit service {name} {ns}"),
        ),
        (
            "delete",
            "Delete",
            format!("kubectl delete service {name} {ns}"),
        ),
    ]
    .into_iter()
    .map(|(id, label, command)| KubectlCommand {
        id: format!("kubectl-{id}"),
        label: label.into(),
        command,
    })
    .collect()
}

fn endpoint_views(slices: &[Value], endpoints: Option<&Value>) -> Vec<EndpointView> {
    let mut out = Vec::new();
    for slice in slices {
        for ep in array_at(slice, "/endpoints") {
            let ready = ep
                .at("/conditions/ready")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            for ip in array_at(ep, "/addresses").iter().filter_map(Value::as_str) {
                for port in array_at(slice, "/ports") {
                    out.push(EndpointView {
                        pod: str_at(ep, "/targetRef/name").to_string(),
                        ip: ip.to_string(),
                        port: format!(
                            "{}/{}",
                            port.get("port").and_then(Value::as_i64).unwrap_or(0),
                            str_at(port, "/protocol")
                        ),
                        node: str_at(ep, "/nodeName").to_string(),
                        ready: if ready { "Yes" } else { "No" },
                    });
                }
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    for subset in endpoints
        .map(|e| array_at(e, "/subsets"))
        .unwrap_or_default()
    {
        for (list, ready) in [("/addresses", "Yes"), ("/notReadyAddresses", "No")] {
            for address in array_at(subset, list) {
                for port in array_at(subset, "/ports") {
                    out.push(EndpointView {
                        pod: str_at(address, "/targetRef/name").to_string(),
                        ip: str_at(address, "/ip").to_string(),
                        port: format!(
                            "{}/{}",
                            port.get("port").and_then(Value::as_i64).unwrap_or(0),
                            str_at(port, "/protocol")
                        ),
                        node: str_at(address, "/nodeName").to_string(),
                        ready,
                    });
                }
            }
        }
    }
    out
}

fn event_view(event: &Value, now: i64) -> EventView {
    let last = [
        "/lastTimestamp",
        "/eventTime",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .map(|p| str_at(event, p))
    .find(|s| !s.is_empty());
    EventView {
        event_type: str_at(event, "/type").to_string(),
        reason: str_at(event, "/reason").to_string(),
        age: table::translate_timestamp_since(last, now),
        count: event
            .get("count")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            .to_string(),
        message: str_at(event, "/message").to_string(),
    }
}

// ---------------------------------------------------------------- form

/// One input: its name (the field path), id, value and the errors next to it.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub id: String,
    pub name: String,
    pub value: String,
    pub errors: Vec<super::wording::ErrorText>,
    pub autofocus: bool,
}

/// One Port Mapping row of the form.
#[derive(Debug, Clone)]
pub struct PortRowView {
    pub index: usize,
    pub name: FieldView,
    pub port: FieldView,
    pub target_port: FieldView,
    pub protocol: FieldView,
    pub protocol_options: Vec<SelectOption>,
    pub node_port: FieldView,
    pub row_errors: Vec<super::wording::ErrorText>,
}

/// One Annotations row of the form.
#[derive(Debug, Clone)]
pub struct AnnotationRowView {
    pub index: usize,
    pub catalog: bool,
    pub type_options: Vec<SelectOption>,
    pub key: FieldView,
    pub key_options: Vec<SelectOption>,
    pub value: FieldView,
    pub hint: String,
}

/// One Label row of the form.
#[derive(Debug, Clone)]
pub struct LabelRowView {
    pub index: usize,
    pub key: FieldView,
    pub value: FieldView,
}

/// A line of the YAML diff shown before an update is saved.
#[derive(Debug, Clone)]
pub struct DiffLine {
    pub sign: &'static str,
    pub class: &'static str,
    pub text: String,
}

/// The Create/Update form page.
#[derive(Template, WebTemplate)]
#[template(path = "services/form.html")]
pub struct ServiceFormPage {
    pub layout: Layout,
    pub editing: bool,
    pub action: String,
    pub cancel_url: String,
    pub reload_url: String,
    pub namespace: String,
    pub namespace_options: Vec<SelectOption>,
    pub name: FieldView,
    pub type_options: Vec<SelectOption>,
    pub type_errors: Vec<String>,
    pub is_cluster_ip: bool,
    pub has_node_ports: bool,
    pub is_lb: bool,
    pub headless: bool,
    pub headless_errors: Vec<String>,
    pub traffic_options: Vec<SelectOption>,
    pub traffic_errors: Vec<String>,
    pub backend_options: Vec<SelectOption>,
    pub backend_errors: Vec<String>,
    pub slb_internal: bool,
    pub slb_existing: bool,
    pub slb_spec_options: Vec<SelectOption>,
    pub slb_id: FieldView,
    /// The picker of instances to reuse (the chosen one selected); `None`: a text field.
    pub slb_id_options: Option<Vec<SelectOption>>,
    pub slb_override: bool,
    /// Errors of the SLB controls: an annotation row contradicts them.
    pub slb_access_errors: Vec<String>,
    pub slb_source_errors: Vec<String>,
    pub slb_spec_errors: Vec<String>,
    pub slb_override_errors: Vec<String>,
    /// The annotation key Access Method writes, for its hint.
    pub ann_address_type: &'static str,
    pub ports: Vec<PortRowView>,
    pub ports_errors: Vec<String>,
    pub annotations: Vec<AnnotationRowView>,
    pub annotations_errors: Vec<String>,
    pub labels: Vec<LabelRowView>,
    pub labels_errors: Vec<String>,
    pub resource_version: String,
    pub summary: Vec<String>,
    pub conflict: bool,
    pub yaml: String,
    pub manifest_text: String,
    pub diff: Option<Vec<DiffLine>>,
    /// The plan preview, after "Preview plan".
    pub plan: Option<crate::plan_view::PlanView>,
    /// Where "Preview plan" posts the form.
    pub plan_url: String,
}

/// What the form page shows besides the form itself.
pub struct FormContext<'a> {
    pub editing: bool,
    pub backends: &'a [Backend],
    pub errors: FormErrors,
    pub manifest_text: String,
    pub diff: Option<Vec<DiffLine>>,
    pub plan: Option<crate::plan_view::PlanView>,
    /// The field to focus when no error claims the focus (the row a button just added).
    pub focus: Option<String>,
    /// The instances "Use Existing SLB Instance" offers; `None` when the user may not list
    /// instances (the field is then typed).
    pub reuse_choices: Option<Vec<service_plan::slb::reuse::ReuseChoice>>,
}

struct Fields {
    errors: FormErrors,
    focused: bool,
    focus: Option<String>,
}

impl Fields {
    fn field(&mut self, name: &str, value: &str) -> FieldView {
        let errors = self.errors.take(name);
        let wanted =
            !errors.is_empty() || (self.errors.is_empty() && self.focus.as_deref() == Some(name));
        let autofocus = wanted && !self.focused;
        self.focused |= autofocus;
        let id = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        FieldView {
            id,
            name: name.to_string(),
            value: value.to_string(),
            errors: errors
                .into_iter()
                .map(super::wording::ErrorText::new)
                .collect(),
            autofocus,
        }
    }
}

const TYPE_LABELS: [(&str, &str); 3] = [
    (TYPE_CLUSTER_IP, "Cluster IP (ClusterIP)"),
    (TYPE_NODE_PORT, "Node Port (NodePort)"),
    (TYPE_LOAD_BALANCER, "Server Load Balancer (LoadBalancer)"),
];

/// The CLB specifications of the Create SLB Instance picker.
const SLB_SPECS: [(&str, &str); 7] = [
    ("", "Default (pay-by-CLCU, no specification)"),
    ("slb.s1.small", "Small I (slb.s1.small)"),
    ("slb.s2.small", "Medium I (slb.s2.small)"),
    ("slb.s2.medium", "Medium II (slb.s2.medium)"),
    ("slb.s3.small", "Large I (slb.s3.small)"),
    ("slb.s3.medium", "Large II (slb.s3.medium)"),
    ("slb.s3.large", "Super Large I (slb.s3.large)"),
];

impl ServiceFormPage {
    /// The form page for `form`, with `cx.errors` placed next to their fields.
    pub fn new(
        layout: Layout,
        form: &ServiceForm,
        namespaces: &[String],
        cx: FormContext<'_>,
    ) -> ServiceFormPage {
        let mut errors = cx.errors;
        errors.place_on_rows(form);
        let mut f = Fields {
            errors,
            focused: false,
            focus: cx.focus,
        };
        let name = f.field("metadata.name", &form.name);
        let type_errors = f.errors.take("spec.type");
        let headless_errors = f.errors.take_under("spec.clusterIP");
        let traffic_errors = f.errors.take("spec.externalTrafficPolicy");
        if form.service_type == TYPE_LOAD_BALANCER && form.slb.existing {
            // The registry names the annotation the SLB section writes; its errors (a taken
            // port, an instance refused for reuse) belong next to the ID the user typed there.
            let annotation = format!("metadata.annotations[{ANN_LB_ID}]");
            for (path, _) in f.errors.fields.iter_mut().filter(|(p, _)| *p == annotation) {
                *path = "slb.id".to_string();
            }
        }
        let slb_id = f.field("slb.id", &form.slb.id);
        let slb_access_errors = f.errors.take("slb.access");
        let slb_source_errors = f.errors.take("slb.source");
        let slb_spec_errors = f.errors.take("slb.spec");
        let slb_override_errors = f.errors.take("slb.overrideListeners");
        let backend_errors = [
            f.errors.take("backend"),
            f.errors.take_under("spec.selector"),
        ]
        .concat();
        let ports = form
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| port_row(&mut f, i, p))
            .collect();
        let ports_errors = f.errors.take_under("spec.ports");
        let annotations = form
            .annotations
            .iter()
            .enumerate()
            .map(|(i, a)| annotation_row(&mut f, i, a))
            .collect();
        let annotations_errors = f.errors.take_under("metadata.annotations");
        let labels = form
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| label_row(&mut f, i, l))
            .collect();
        let labels_errors = f.errors.take_under("metadata.labels");
        let mut summary = f.errors.summary.clone();
        summary.extend(
            f.errors
                .fields
                .iter()
                .map(|(path, m)| format!("{path}: {m}")),
        );
        let (ns, nm) = (&form.namespace, &form.name);
        let yaml = form
            .manifest(cx.backends)
            .map(|m| to_yaml(&m))
            .unwrap_or_default();
        ServiceFormPage {
            editing: cx.editing,
            action: if cx.editing {
                details_url(ns, nm)
            } else {
                "/services".into()
            },
            cancel_url: if cx.editing {
                details_url(ns, nm)
            } else {
                list_url(ns)
            },
            reload_url: format!("{}/edit", details_url(ns, nm)),
            namespace: form.namespace.clone(),
            namespace_options: namespaces
                .iter()
                .map(|n| SelectOption::new(n, n, n == ns))
                .collect(),
            name,
            type_options: options(&TYPE_LABELS, &form.service_type),
            type_errors,
            is_cluster_ip: form.service_type == TYPE_CLUSTER_IP,
            has_node_ports: form.service_type == TYPE_NODE_PORT
                || form.service_type == TYPE_LOAD_BALANCER,
            is_lb: form.service_type == TYPE_LOAD_BALANCER,
            headless: form.headless,
            headless_errors,
            traffic_options: options(
                &[
                    (TRAFFIC_POLICY_LOCAL, TRAFFIC_POLICY_LOCAL),
                    (TRAFFIC_POLICY_CLUSTER, TRAFFIC_POLICY_CLUSTER),
                ],
                &form.external_traffic_policy,
            ),
            traffic_errors,
            backend_options: backend_options(form, cx.backends),
            backend_errors,
            slb_internal: form.slb.internal,
            slb_existing: form.slb.existing,
            slb_spec_options: options(&SLB_SPECS, &form.slb.spec),
            slb_id_options: cx.reuse_choices.map(|choices| {
                let mut options = vec![SelectOption::new(
                    "",
                    if choices.is_empty() {
                        "No instance to reuse: create one on the Load Balancers page"
                    } else {
                        "Choose an instance…"
                    },
                    form.slb.id.is_empty(),
                )];
                options.extend(
                    choices
                        .iter()
                        .map(|c| SelectOption::new(&c.id, &c.label(), c.id == form.slb.id)),
                );
                // An ID from elsewhere (an annotation, kubectl) stays shown, as not offered.
                if !form.slb.id.is_empty() && !choices.iter().any(|c| c.id == form.slb.id) {
                    options.push(SelectOption::new(
                        &form.slb.id,
                        &format!(
                            "{} (not offered: not a manually created instance of this cluster)",
                            form.slb.id
                        ),
                        true,
                    ));
                }
                options
            }),
            slb_id,
            slb_override: form.slb.override_listeners,
            slb_access_errors,
            slb_source_errors,
            slb_spec_errors,
            slb_override_errors,
            ann_address_type: super::forms::ANN_ADDRESS_TYPE,
            ports,
            ports_errors,
            annotations,
            annotations_errors,
            labels,
            labels_errors,
            resource_version: form.resource_version.clone(),
            conflict: f.errors.conflict,
            summary,
            yaml,
            manifest_text: cx.manifest_text,
            diff: cx.diff,
            plan: cx.plan,
            plan_url: if cx.editing {
                format!("{}/plan", details_url(ns, nm))
            } else {
                "/services/plan".into()
            },
            layout,
        }
    }
}

fn backend_options(form: &ServiceForm, backends: &[Backend]) -> Vec<SelectOption> {
    let mut out = vec![SelectOption::new(
        "",
        "None (no selector, no Endpoints)",
        form.backend.is_empty(),
    )];
    out.extend(backends.iter().map(|b| {
        let label = format!("{} ({})", b.name, selector_text(&b.match_labels));
        SelectOption::new(&b.name, &label, b.name == form.backend)
    }));
    if let Some(text) = form.backend.strip_prefix(BACKEND_SELECTOR_PREFIX) {
        out.push(SelectOption::new(
            &form.backend,
            &format!("Current selector ({text})"),
            true,
        ));
    } else if !form.backend.is_empty() && !backends.iter().any(|b| b.name == form.backend) {
        out.push(SelectOption::new(&form.backend, &form.backend, true));
    }
    out
}

fn port_row(f: &mut Fields, i: usize, p: &super::forms::PortRow) -> PortRowView {
    let path = |field: &str| format!("spec.ports[{i}].{field}");
    let protocol_values: Vec<(&str, &str)> = PROTOCOLS.iter().map(|p| (*p, *p)).collect();
    PortRowView {
        index: i,
        name: f.field(&path("name"), &p.name),
        port: f.field(&path("port"), &p.port),
        target_port: f.field(&path("targetPort"), &p.target_port),
        protocol: f.field(&path("protocol"), &p.protocol),
        protocol_options: options(&protocol_values, &p.protocol),
        node_port: f.field(&path("nodePort"), &p.node_port),
        row_errors: f
            .errors
            .take(&format!("spec.ports[{i}]"))
            .into_iter()
            .map(super::wording::ErrorText::new)
            .collect(),
    }
}

fn annotation_row(f: &mut Fields, i: usize, a: &super::forms::AnnotationRow) -> AnnotationRowView {
    let type_value = if a.catalog { "alibaba" } else { "custom" };
    let mut key_options: Vec<SelectOption> = catalog::entries()
        .iter()
        .map(|e| SelectOption::new(&e.name, &e.label, e.name == a.key))
        .collect();
    if a.catalog && !a.key.is_empty() && !catalog::names().contains(&a.key.as_str()) {
        key_options.insert(0, SelectOption::new(&a.key, &a.key, true));
    }
    AnnotationRowView {
        index: i,
        catalog: a.catalog,
        type_options: options(
            &[
                ("custom", "Custom Annotation"),
                ("alibaba", "Alibaba Cloud Annotation"),
            ],
            type_value,
        ),
        key: f.field(&format!("annotations[{i}].key"), &a.key),
        key_options,
        value: f.field(&format!("annotations[{i}].value"), &a.value),
        hint: catalog::hint(&a.key).to_string(),
    }
}

fn label_row(f: &mut Fields, i: usize, l: &super::forms::LabelRow) -> LabelRowView {
    LabelRowView {
        index: i,
        key: f.field(&format!("labels[{i}].key"), &l.key),
        value: f.field(&format!("labels[{i}].value"), &l.value),
    }
}

/// The compact line diff of two YAML texts for the update review: what changes, three
/// unchanged lines around it, the rest folded.
pub fn yaml_diff(before: &str, after: &str) -> Vec<DiffLine> {
    use service_plan::diff::lines::{CONTEXT_LINES, Line, compact};
    compact(before, after, CONTEXT_LINES)
        .into_iter()
        .map(|line| {
            let (sign, class, text) = match line {
                Line::Same(text) => (" ", "same", text),
                Line::Removed(text) => ("-", "removed", text),
                Line::Added(text) => ("+", "added", text),
                Line::Folded(1) => ("", "folded", "⋯ 1 unchanged line".to_string()),
                Line::Folded(n) => ("", "folded", format!("⋯ {n} unchanged lines")),
            };
            DiffLine { sign, class, text }
        })
        .collect()
}

// ---------------------------------------------------------------- delete

/// What deleting a Service releases, and what it keeps.
pub fn released(svc: &Value) -> (Vec<String>, Vec<String>) {
    let mut released = Vec::new();
    let mut kept = Vec::new();
    let ips: Vec<&str> = array_at(svc, "/spec/clusterIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let ips = if ips.is_empty() {
        vec![str_at(svc, "/spec/clusterIP")]
    } else {
        ips
    };
    for ip in ips.into_iter().filter(|ip| !ip.is_empty() && *ip != "None") {
        released.push(format!("Cluster IP {ip}"));
    }
    for p in array_at(svc, "/spec/ports") {
        if let Some(node_port) = p.get("nodePort").and_then(Value::as_i64) {
            released.push(format!("Node port {node_port}/{}", str_at(p, "/protocol")));
        }
    }
    if let Some(port) = svc.at("/spec/healthCheckNodePort").and_then(Value::as_i64) {
        released.push(format!("Health check node port {port}"));
    }
    if str_at(svc, "/spec/type") == TYPE_LOAD_BALANCER {
        let annotations = string_map(svc.at("/metadata/annotations"));
        match annotations.get(ANN_LB_ID) {
            Some(id) => kept.push(format!("The existing SLB instance {id} is kept; only this Service's listeners and vServer groups are removed")),
            None => released.push("The SLB instance created for this Service".into()),
        }
    }
    (released, kept)
}

/// `GET /services/{namespace}/{name}/delete`.
#[derive(Template, WebTemplate)]
#[template(path = "services/delete.html")]
pub struct ServiceDeletePage {
    pub layout: Layout,
    pub namespace: String,
    pub name: String,
    pub released: Vec<String>,
    pub kept: Vec<String>,
    pub action: String,
    pub cancel_url: String,
    pub kubectl: String,
    /// The SLB side of the delete (see `plan::delete_plan`).
    pub plan: Option<crate::plan_view::PlanView>,
    /// Why deleting this particular Service is dangerous (the API server's own).
    pub warning: Option<&'static str>,
    /// The filtered list the page was opened from, where the delete returns; may be empty.
    pub return_to: String,
}

/// The warning for deleting `default/kubernetes`, the API server's own Service.
pub fn delete_warning(namespace: &str, name: &str) -> Option<&'static str> {
    (namespace == "default" && name == "kubernetes").then_some(
        "This is the Service of the Kubernetes API server itself. Pods in every namespace reach the API through it (KUBERNETES_SERVICE_HOST), so deleting it cuts them off until it is recreated.",
    )
}

impl ServiceDeletePage {
    /// The confirmation for deleting `svc`.
    pub fn new(layout: Layout, svc: &Value) -> ServiceDeletePage {
        let namespace = str_at(svc, "/metadata/namespace").to_string();
        let name = str_at(svc, "/metadata/name").to_string();
        let (released, kept) = released(svc);
        let details = details_url(&namespace, &name);
        ServiceDeletePage {
            layout,
            action: format!("{details}/delete"),
            cancel_url: details,
            kubectl: format!("kubectl delete service {name} -n {namespace}"),
            plan: None,
            warning: delete_warning(&namespace, &name),
            return_to: String::new(),
            released,
            kept,
            namespace,
            name,
        }
    }
}

/// One Service of a bulk delete.
#[derive(Debug, Clone)]
pub struct BulkItem {
    pub value: String,
    pub released: String,
    pub warning: Option<&'static str>,
}

/// `POST /services/delete` before confirmation.
#[derive(Template, WebTemplate)]
#[template(path = "services/bulk_delete.html")]
pub struct BulkDeletePage {
    pub layout: Layout,
    pub items: Vec<BulkItem>,
    pub cancel_url: String,
}

impl BulkItem {
    /// The line of `svc`.
    pub fn new(svc: &Value) -> BulkItem {
        let (released, _) = released(svc);
        let value = format!(
            "{}/{}",
            str_at(svc, "/metadata/namespace"),
            str_at(svc, "/metadata/name")
        );
        let released = if released.is_empty() {
            "nothing allocated".into()
        } else {
            released.join(", ")
        };
        let warning = delete_warning(
            str_at(svc, "/metadata/namespace"),
            str_at(svc, "/metadata/name"),
        );
        BulkItem {
            value,
            released,
            warning,
        }
    }
}

// ---------------------------------------------------------------- errors

/// An error page (403, 400, 413) with the request id.
#[derive(Template, WebTemplate)]
#[template(path = "errors/error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub reason: String,
    pub message: String,
}

impl ErrorPage {
    /// The page for `status`.
    pub fn new(ctx: &Ctx, status: StatusCode, message: &str) -> ErrorPage {
        let reason = status.canonical_reason().unwrap_or("Error").to_string();
        let layout = Layout::new(ctx, &reason, "", &[], vec![Crumb::here(&reason)]);
        ErrorPage {
            layout,
            status: status.as_u16(),
            reason,
            message: message.to_string(),
        }
    }
}

/// The 404 page.
#[derive(Template)]
#[template(path = "errors/404.html")]
pub struct NotFoundPage {
    pub layout: Layout,
    pub message: String,
}

/// The 500 page.
#[derive(Template)]
#[template(path = "errors/500.html")]
pub struct ServerErrorPage {
    pub layout: Layout,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn internal_endpoints_list_service_ports_then_node_ports() {
        let svc = json!({"metadata": {"name": "web"}, "spec": {"ports": [
            {"port": 80, "protocol": "TCP", "nodePort": 31800},
            {"port": 53, "protocol": "UDP"}
        ]}});
        assert_eq!(
            internal_endpoints(&svc),
            vec!["web:80 TCP", "web:53 UDP", "web:31800 TCP"]
        );
    }

    #[test]
    fn yaml_diff_lists_removed_lines_before_added_ones_between_unchanged_lines() {
        let diff = yaml_diff("a\nb\nc\n", "a\nx\nc\nd\n");
        let lines: Vec<String> = diff
            .iter()
            .map(|l| format!("{}{} {}", l.sign, l.class, l.text))
            .collect();
        assert_eq!(
            lines,
            [" same a", "-removed b", "+added x", " same c", "+added d"]
        );
    }

    #[test]
    fn encode_keeps_only_unreserved_characters() {
        assert_eq!(encode("a-b_c.d~e f/ü"), "a-b_c.d~e%20f%2F%C3%BC");
    }
}

/// One revision on the History tab.
#[derive(Debug, Clone)]
pub struct HistoryEntryView {
    pub revision: i64,
    pub time: String,
    pub user: String,
    pub through: String,
    /// `update`, `patch status`, …
    pub verb: String,
    /// `created`, `deleted`, or empty.
    pub event: String,
    /// The readable changes against the revision before (spec-class changes).
    pub changes: Vec<String>,
    /// Status and bookkeeping changes, shown folded.
    pub folded_changes: Vec<String>,
    /// The whole revision is status or bookkeeping only.
    pub folded: bool,
    /// Compare this revision with the one before it.
    pub compare_url: String,
    /// Restore this revision (its plan first); empty for the current one.
    pub restore_url: String,
}

impl HistoryEntryView {
    /// The view of one history entry of `namespace/name`.
    pub fn new(namespace: &str, name: &str, entry: &service_plan::history::Entry) -> Self {
        use service_plan::diff::ChangeClass;
        let verb = match entry.subresource.as_str() {
            "" => entry.verb.clone(),
            sub => format!("{} {sub}", entry.verb),
        };
        let event = match (entry.verb.as_str(), entry.previous) {
            ("delete", _) => "deleted",
            (_, None) => "created",
            _ => "",
        };
        // A folded entry (status, bookkeeping or a controller's) shows all its lines folded.
        let (spec, other): (Vec<_>, Vec<_>) = entry
            .changes
            .iter()
            .partition(|c| c.class == ChangeClass::Spec && !entry.folded);
        HistoryEntryView {
            revision: entry.revision,
            time: entry.time.clone(),
            user: entry.user.clone(),
            through: entry.through.clone(),
            verb,
            event: event.into(),
            changes: spec.iter().map(|c| c.text.clone()).collect(),
            folded_changes: other.iter().map(|c| c.text.clone()).collect(),
            folded: entry.folded,
            restore_url: format!(
                "{}/history/{}/restore",
                details_url(namespace, name),
                entry.revision
            ),
            compare_url: entry.previous.map_or_else(String::new, |p| {
                format!(
                    "{}/history?from={p}&to={}#compare",
                    details_url(namespace, name),
                    entry.revision
                )
            }),
        }
    }
}

/// Two revisions compared on the History tab.
#[derive(Debug, Clone)]
pub struct CompareView {
    pub from: i64,
    pub to: i64,
    pub changes: Vec<String>,
    pub folded_changes: Vec<String>,
}

/// `GET /services/{namespace}/{name}/history`: the History tab.
#[derive(Template, WebTemplate)]
#[template(path = "services/history.html")]
pub struct ServiceHistoryPage {
    pub layout: Layout,
    pub name: String,
    pub namespace: String,
    pub details_url: String,
    pub history_url: String,
    /// Whether the Service exists now (its history outlives it).
    pub exists: bool,
    pub entries: Vec<HistoryEntryView>,
    /// Revisions to pick from when comparing, newest first.
    pub revisions: Vec<i64>,
    /// The revisions the compare form starts with: the compared ones, else the newest two.
    pub compare_from: i64,
    pub compare_to: i64,
    pub compare: Option<CompareView>,
}

/// A deleted Service on the Recently deleted page.
#[derive(Debug, Clone)]
pub struct DeletedServiceView {
    pub name: String,
    pub time: String,
    pub user: String,
    pub through: String,
    pub history_url: String,
    /// Re-create it as it was when deleted (its plan first).
    pub restore_url: String,
}

/// `GET /services/deleted?namespace=NS`: the namespace's recently deleted Services.
#[derive(Template, WebTemplate)]
#[template(path = "services/deleted.html")]
pub struct DeletedServicesPage {
    pub layout: Layout,
    pub namespace: String,
    pub items: Vec<DeletedServiceView>,
    pub list_url: String,
}

/// `GET|POST /services/{namespace}/{name}/history/{revision}/restore`: the plan of a
/// restore, its refusal, or its conflict.
#[derive(Template, WebTemplate)]
#[template(path = "services/restore.html")]
pub struct ServiceRestorePage {
    pub layout: Layout,
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    /// Who wrote the revision, when and how.
    pub summary: String,
    /// The Service is re-created (it was deleted).
    pub recreate: bool,
    /// What restoring changes in fields a user sets.
    pub changes: Vec<String>,
    /// The addresses and node ports the restored Service holds.
    pub allocations: Vec<String>,
    /// Why the revision cannot be restored; no Restore button then.
    pub refusal: Option<String>,
    /// The Service changed since the plan was shown.
    pub conflict: Option<String>,
    /// The version the plan is for, sent back with Restore.
    pub resource_version: String,
    pub action: String,
    pub history_url: String,
}
