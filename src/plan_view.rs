//! The plan of a Service change as people read it: the console's plan panel renders this
//! view and `service-console plan` prints it, both from the `ServicePlan` JSON the registry
//! computes (the CLI receives it over the plan API). Every value here is preformatted.

use serde_json::Value;
use service_plan::json::Pointer as _;

/// The path prefix of the plan API (`POST {PLAN_PREFIX}/namespaces/{namespace}/services`).
pub const PLAN_PREFIX: &str = "/plan/v1";

/// The plan of one Service, every value preformatted.
#[derive(Debug, Clone, Default)]
pub struct PlanView {
    /// `namespace/name`.
    pub service: String,
    /// Why no plan could be computed (the Service is invalid).
    pub errors: Vec<String>,
    /// Reasons the change cannot be applied.
    pub conflicts: Vec<String>,
    /// `Warning` texts.
    pub warnings: Vec<String>,
    /// Cluster IPs and node ports allocated or released.
    pub allocations: Vec<String>,
    /// What happens to the SLB instance; `None` when no CLB is involved.
    pub instance: Option<InstanceView>,
    pub listeners: Vec<ListenerRow>,
    pub groups: Vec<GroupRow>,
    /// Existing configuration the change replaces or removes.
    pub overwritten: Vec<String>,
    pub notes: Vec<String>,
    /// Key consequences as label/value pairs (source IP, session persistence, …).
    pub facts: Vec<Fact>,
    /// The consequences as sentences.
    pub consequences: Vec<String>,
    /// The External Endpoint once known, or why it is not known yet.
    pub external: Vec<String>,
    /// The events the controller will record.
    pub events: Vec<String>,
    /// Ports whose targetPort the backend's pods do not expose, with the ports they do.
    pub unexposed: Vec<UnexposedView>,
    /// Frontend ports of a reused instance that get no listener (Overwrite Existing
    /// Listeners off), with what that means.
    pub unserved_ports: Vec<i64>,
    pub no_listener: Vec<String>,
    /// The chosen backend application: "matches N of M pods".
    pub backend: Option<BackendMatch>,
    /// Shows the Cluster IP and node port section (not on Details and Delete, which list them).
    pub show_allocations: bool,
    /// The form is not complete enough to plan, and none of its errors is in a field the
    /// user has reached yet: the plan waits instead of showing red errors.
    pub pending: bool,
}

/// A Service port whose targetPort the backend's pods do not expose.
#[derive(Debug, Clone, Default)]
pub struct UnexposedView {
    /// The form field to fill with a choice: `spec.ports[i].targetPort`.
    pub field: String,
    pub message: String,
    /// `(port number, label)` of each port the pods do expose.
    pub choices: Vec<(String, String)>,
}

/// What happens to the SLB instance.
#[derive(Debug, Clone, Default)]
pub struct InstanceView {
    /// Create, Keep, Reuse, Delete, Preserve, Release or None.
    pub action: String,
    pub summary: String,
    pub details: Vec<String>,
}

/// One listener of the plan.
#[derive(Debug, Clone, Default)]
pub struct ListenerRow {
    pub port: String,
    pub protocol: String,
    pub name: String,
    pub vserver_group: String,
    pub scheduler: String,
    pub action: String,
}

/// One vServer group of the plan, with its backend servers.
#[derive(Debug, Clone, Default)]
pub struct GroupRow {
    pub name: String,
    pub service_port: String,
    pub action: String,
    /// The group is deleted: it has no backends to show.
    pub deleted: bool,
    pub backends: Vec<BackendRow>,
}

/// One backend server.
#[derive(Debug, Clone, Default)]
pub struct BackendRow {
    /// `Node` or `Pod`.
    pub kind: String,
    pub name: String,
    /// `ip:port`.
    pub address: String,
    pub weight: String,
    /// Local mode: the Service's pods on the node.
    pub pods: String,
}

/// A label and its value.
#[derive(Debug, Clone, Default)]
pub struct Fact {
    pub label: String,
    pub value: String,
    /// Styles a "No" that users should notice.
    pub negative: bool,
}

/// How many pods the chosen application's selector matches, and its container ports.
#[derive(Debug, Clone, Default)]
pub struct BackendMatch {
    pub name: String,
    pub selector: String,
    pub matched: usize,
    pub total: usize,
    /// `80/TCP (nginx)`, for the Container Port field.
    pub ports: Vec<String>,
}

/// The string at `pointer`, empty when absent.
pub fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.at(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The array at `pointer`, empty when absent.
pub fn list<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.at(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn strings(v: &Value, pointer: &str) -> Vec<String> {
    list(v, pointer)
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// A scalar as text: strings as they are, numbers printed, anything else empty.
pub fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The first of several spellings of a key (the registry's allocation summary may use
/// either serde naming).
fn first<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| v.get(*k))
}

fn yes_no(v: Option<&Value>) -> (&'static str, bool) {
    if v.and_then(Value::as_bool).unwrap_or(false) {
        ("Yes", false)
    } else {
        ("No", true)
    }
}

impl PlanView {
    /// The view of a `ServicePlan` as the registry serializes it.
    pub fn from_json(plan: &Value) -> PlanView {
        let svc = plan.get("service").unwrap_or(&Value::Null);
        let mut view = PlanView {
            service: format!(
                "{}/{}",
                s(svc, "/metadata/namespace"),
                s(svc, "/metadata/name")
            ),
            warnings: strings(plan, "/warnings"),
            unexposed: list(plan, "/unexposedTargets")
                .iter()
                .map(|u| UnexposedView {
                    field: s(u, "/field").to_string(),
                    message: s(u, "/message").to_string(),
                    choices: list(u, "/choices")
                        .iter()
                        .map(|c| {
                            let number = text(c.get("number"));
                            let label = match s(c, "/name") {
                                "" => format!("{number}/{}", s(c, "/protocol")),
                                name => format!("{number}/{} ({name})", s(c, "/protocol")),
                            };
                            (number, label)
                        })
                        .collect(),
                })
                .collect(),
            allocations: allocations(plan.get("allocations").unwrap_or(&Value::Null), svc),
            show_allocations: true,
            ..Default::default()
        };
        if let Some(slb) = plan.get("slb").filter(|v| !v.is_null()) {
            view.add_slb(slb);
        }
        view
    }

    /// A plan that could not be computed.
    /// The plan of a form still being filled in, whose errors are all further down.
    pub fn pending() -> PlanView {
        PlanView {
            pending: true,
            ..Default::default()
        }
    }

    /// A plan that could not be computed, with why.
    pub fn failed(errors: Vec<String>) -> PlanView {
        PlanView {
            errors,
            ..Default::default()
        }
    }

    /// True when the change would be refused.
    pub fn blocked(&self) -> bool {
        !self.conflicts.is_empty() || !self.errors.is_empty()
    }

    fn add_slb(&mut self, slb: &Value) {
        self.conflicts = list(slb, "/conflicts")
            .iter()
            .map(|c| s(c, "/message").to_string())
            .collect();
        for w in strings(slb, "/warnings") {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        self.instance = slb.get("instance").map(instance_view);
        self.listeners = list(slb, "/listeners")
            .iter()
            .map(|l| ListenerRow {
                port: text(l.get("port")),
                protocol: s(l, "/protocol").to_uppercase(),
                name: s(l, "/name").to_string(),
                vserver_group: s(l, "/vserverGroup").to_string(),
                scheduler: s(l, "/scheduler").to_string(),
                action: listener_action(s(l, "/action")).to_string(),
            })
            .collect();
        let instance_id = s(slb, "/instance/id").to_string();
        for l in list(slb, "/listeners")
            .iter()
            .filter(|l| s(l, "/action") == "notCreated")
        {
            let port = l.get("port").and_then(Value::as_i64).unwrap_or(0);
            self.unserved_ports.push(port);
            self.no_listener.push(format!(
                "No listener is created for port {port}: Overwrite Existing Listeners is off, so {instance_id} has no listener on {port} and the port receives no traffic. Add a listener on {port} in the SLB console that forwards to vServer group {}, or turn on Overwrite Existing Listeners.",
                s(l, "/vserverGroup")
            ));
        }
        self.groups = list(slb, "/vserverGroups").iter().map(group_row).collect();
        self.overwritten = strings(slb, "/overwritten");
        self.notes = strings(slb, "/notes");
        // The planner's note on a port without a listener is said above, plainly, once.
        let unserved = self.unserved_ports.clone();
        self.notes.retain(|n| {
            !unserved
                .iter()
                .any(|p| n.starts_with(&format!("No listener is created on port {p} of")))
        });
        if let Some(c) = slb.get("consequences").filter(|c| !c.is_null()) {
            self.consequences = strings(c, "/sentences");
            self.facts = facts(c);
        }
        self.external = strings(slb, "/externalEndpoints");
        if self.external.is_empty() {
            match s(slb, "/ingress/kind") {
                "pending" => self
                    .external
                    .push("Pending: the address is known once the new instance exists.".into()),
                "ip" | "hostname" | "eip" if self.unserved_ports.is_empty() => {
                    self.external.push(s(slb, "/ingress/value").to_string())
                }
                "ip" | "hostname" | "eip" => self.external.push(format!(
                    "None: no port of {} has a listener.",
                    s(slb, "/ingress/value")
                )),
                _ => {}
            }
        }
        self.events = list(slb, "/events")
            .iter()
            .map(|e| {
                format!(
                    "{} {}: {}",
                    s(e, "/type"),
                    s(e, "/reason"),
                    s(e, "/message")
                )
            })
            .collect();
    }
}

/// What a node port of `svc` is for: "for port 80/TCP", or the health check of
/// `externalTrafficPolicy: Local`; empty when the Service does not hold it.
fn node_port_use(svc: &Value, port: &str) -> String {
    if text(svc.at("/spec/healthCheckNodePort")) == port {
        return " (health check of externalTrafficPolicy Local: the SLB probes each node on it)"
            .into();
    }
    let ports = svc.at("/spec/ports").and_then(Value::as_array);
    ports
        .into_iter()
        .flatten()
        .find(|p| text(p.get("nodePort")) == port)
        .map(|p| format!(" for port {}/{}", text(p.get("port")), s(p, "/protocol")))
        .unwrap_or_default()
}

fn allocations(a: &Value, svc: &Value) -> Vec<String> {
    let values = |keys: &[&str]| -> Vec<String> {
        first(a, keys)
            .and_then(Value::as_array)
            .map(|v| v.iter().map(|x| text(Some(x))).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for ip in values(&["allocateIps", "allocate_ips"]) {
        out.push(format!("Allocate Cluster IP {ip}"));
    }
    for port in values(&["allocateNodePorts", "allocate_node_ports"]) {
        let used_for = node_port_use(svc, &port);
        out.push(format!("Allocate node port {port}{used_for}"));
    }
    for ip in values(&["releaseIps", "release_ips"]) {
        out.push(format!("Release Cluster IP {ip}"));
    }
    for port in values(&["releaseNodePorts", "release_node_ports"]) {
        out.push(format!("Release node port {port}"));
    }
    out
}

fn instance_view(i: &Value) -> InstanceView {
    let id = s(i, "/id");
    let address = match s(i, "/address") {
        "" => String::new(),
        a => format!(" ({a})"),
    };
    let mut details = Vec::new();
    let (action, summary) = match s(i, "/action") {
        "create" => {
            let kind = match s(i, "/addressType") {
                "intranet" => "internal (intranet)",
                _ => "public (internet)",
            };
            details.push(format!("Billing method: {}", s(i, "/instanceChargeType")));
            if let Some(spec) = i.get("spec").and_then(Value::as_str) {
                details.push(format!("Specification: {spec}"));
            }
            if let Some(c) = i.get("internetChargeType").and_then(Value::as_str) {
                details.push(format!("Internet charge type: {c}"));
            }
            if let Some(b) = i.get("bandwidth").filter(|b| !b.is_null()) {
                details.push(format!("Bandwidth: {} Mbit/s", text(Some(b))));
            }
            if let Some(ip) = i.get("ip").and_then(Value::as_str) {
                details.push(format!("Pinned IP: {ip}"));
            }
            details.push(format!(
                "Delete protection: {}; modification protection: {}",
                s(i, "/deleteProtection"),
                s(i, "/modificationProtection")
            ));
            let tags: Vec<String> = i
                .get("tags")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", text(Some(v))))
                        .collect()
                })
                .unwrap_or_default();
            if !tags.is_empty() {
                details.push(format!("Tags: {}", tags.join(", ")));
            }
            // Before the create the UID is unknown and CCM's default name is only "a".
            let summary = match s(i, "/name") {
                "" | "a" => format!(
                    "Create a new {kind} SLB instance for this Service, named \"a\" + its UID."
                ),
                name => format!("Create a new {kind} SLB instance named {name} for this Service."),
            };
            ("Create", summary)
        }
        "keep" => {
            details = strings(i, "/changes");
            (
                "Keep",
                format!("Keep the instance {id}{address} created for this Service."),
            )
        }
        "reuse" => {
            let forced = i
                .get("forceOverrideListeners")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            details.push(if forced {
                "Overwrite Existing Listeners is on: this Service manages the listeners of its ports.".into()
            } else {
                "Overwrite Existing Listeners is off: existing listeners are left as they are and none is created.".into()
            });
            ("Reuse", format!("Use the existing instance {id}{address}."))
        }
        "delete" => (
            "Delete",
            format!(
                "Delete the instance {id}{address} created for this Service, with its listeners and vServer groups."
            ),
        ),
        "preserve" => {
            let removed = strings(i, "/removedTags");
            if !removed.is_empty() {
                details.push(format!("Tags removed: {}", removed.join(", ")));
            }
            (
                "Preserve",
                format!(
                    "Keep the instance {id}{address} (preserve-lb-on-delete): its protections are turned off and it no longer belongs to the Service."
                ),
            )
        }
        "release" => (
            "Release",
            format!(
                "Keep the reused instance {id}{address}; only this Service's vServer groups (and listeners it manages) are removed."
            ),
        ),
        _ => {
            let reason = s(i, "/reason");
            (
                "None",
                if reason.is_empty() {
                    "No SLB instance is involved.".to_string()
                } else {
                    reason.to_string()
                },
            )
        }
    };
    InstanceView {
        action: action.into(),
        summary,
        details,
    }
}

fn listener_action(action: &str) -> &'static str {
    match action {
        "create" => "Create",
        "keep" => "Keep",
        "delete" => "Delete",
        "takeOver" => "Take over",
        "leaveExisting" => "Leave as is",
        "notCreated" => "Not created",
        _ => "-",
    }
}

fn group_row(g: &Value) -> GroupRow {
    let id = s(g, "/action/id");
    let action = match s(g, "/action/action") {
        "create" => "Create".to_string(),
        "keep" => format!("Keep ({id})"),
        "useExisting" => format!("Use existing ({id})"),
        "delete" => format!("Delete ({id})"),
        other => other.to_string(),
    };
    GroupRow {
        deleted: s(g, "/action/action") == "delete",
        name: s(g, "/name").to_string(),
        service_port: match text(g.get("servicePort")).as_str() {
            "0" | "" => "-".into(),
            p => p.to_string(),
        },
        action,
        backends: list(g, "/backends")
            .iter()
            .map(|b| BackendRow {
                kind: match s(b, "/kind") {
                    "eni" => "Pod (ENI)".into(),
                    _ => "Node (ECS)".into(),
                },
                name: s(b, "/name").to_string(),
                address: format!("{}:{}", s(b, "/ip"), text(b.get("port"))),
                weight: text(b.get("weight")),
                pods: text(b.get("pods")),
            })
            .collect(),
    }
}

fn facts(c: &Value) -> Vec<Fact> {
    let fact = |label: &str, value: String, negative: bool| Fact {
        label: label.into(),
        value,
        negative,
    };
    let (source_ip, source_neg) = yes_no(c.get("sourceIpPreserved"));
    let (session, session_neg) = yes_no(c.get("sessionPersistence"));
    let (pods, pods_neg) = yes_no(c.get("podLevelBalancing"));
    let reachable = if c
        .get("slbIpReachableFromAllNodes")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        "All nodes".to_string()
    } else {
        match strings(c, "/slbIpReachableFrom").join(", ") {
            n if n.is_empty() => "No node".to_string(),
            n => format!("Only {n}"),
        }
    };
    let servers = match s(c, "/backendServers") {
        "allNodes" => "All nodes",
        "nodesWithPods" => "Nodes running a backend pod",
        "pods" => "The pods themselves",
        _ => "-",
    };
    let quota = match s(c, "/quotaUse") {
        "low" => "Low",
        "high" => "High",
        "perPod" => "One backend per pod",
        _ => "-",
    };
    vec![
        fact(
            "Network plug-in / policy",
            format!(
                "{} / {}",
                s(c, "/networkPlugin"),
                s(c, "/externalTrafficPolicy")
            ),
            false,
        ),
        fact(
            "Backend servers",
            format!("{servers} ({})", text(c.get("backendServerCount"))),
            false,
        ),
        fact("SLB quota use", quota.into(), quota == "High"),
        fact("Nodes that can reach the SLB IP", reachable, false),
        fact("Load balancing among pods", pods.into(), pods_neg),
        fact("Client source IP preserved", source_ip.into(), source_neg),
        fact("Session persistence", session.into(), session_neg),
    ]
}
