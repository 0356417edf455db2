//! The Create/Update Service form: parses the posted field paths, builds the Service JSON a
//! manifest would give (no empty fields), and keys the registry's errors by field path so
//! each sits next to its input. No Service rule lives here; the registry decides validity.

use service_plan::json::Pointer as _;
pub use service_plan::traffic::string_map;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use service_plan::service::types::{
    CLUSTER_IP_NONE, PROTOCOL_TCP, TRAFFIC_POLICY_CLUSTER, TYPE_CLUSTER_IP, TYPE_LOAD_BALANCER,
    TYPE_NODE_PORT,
};

use crate::registry::RegistryError;

/// Most rows of one kind a form keeps; a larger index in a posted name is ignored.
pub const MAX_ROWS: usize = 64;

/// `...-address-type`: `intranet` for Internal Access (no annotation means internet).
pub const ANN_ADDRESS_TYPE: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type";
/// `...-spec`: the pay-by-spec CLB specification.
pub const ANN_SPEC: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec";
/// `...-instance-charge-type`: `PayBySpec` when a specification is chosen.
pub const ANN_CHARGE_TYPE: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-instance-charge-type";
/// `...-id`: use an existing CLB instance.
pub const ANN_LB_ID: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id";
/// `...-force-override-listeners`: overwrite the listeners of a reused CLB.
pub const ANN_FORCE_OVERRIDE: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners";
/// The address type value of Internal Access.
pub const ADDRESS_INTRANET: &str = "intranet";
/// The charge type that goes with an explicit specification.
pub const CHARGE_PAY_BY_SPEC: &str = "PayBySpec";
/// Prefix of a `backend` value that keeps a selector no Deployment matches.
pub const BACKEND_SELECTOR_PREFIX: &str = "selector:";

/// The SLB annotations the SLB section owns.
const SLB_ANNOTATIONS: [&str; 5] = [
    ANN_ADDRESS_TYPE,
    ANN_SPEC,
    ANN_CHARGE_TYPE,
    ANN_LB_ID,
    ANN_FORCE_OVERRIDE,
];

/// One Port Mapping row, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRow {
    pub name: String,
    pub port: String,
    pub target_port: String,
    pub protocol: String,
    pub node_port: String,
}

impl Default for PortRow {
    fn default() -> Self {
        PortRow {
            name: String::new(),
            port: String::new(),
            target_port: String::new(),
            protocol: PROTOCOL_TCP.into(),
            node_port: String::new(),
        }
    }
}

impl PortRow {
    fn is_blank(&self) -> bool {
        [&self.name, &self.port, &self.target_port, &self.node_port]
            .iter()
            .all(|s| s.trim().is_empty())
    }
}

/// One Annotations row: `catalog` is the "Alibaba Cloud Annotation" type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnotationRow {
    pub catalog: bool,
    pub key: String,
    pub value: String,
}

/// One Label row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelRow {
    pub key: String,
    pub value: String,
}

/// The SLB section of a Server Load Balancer Service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlbForm {
    /// Internal Access (`intranet`) rather than Public Access.
    pub internal: bool,
    /// Use Existing SLB Instance rather than Create SLB Instance.
    pub existing: bool,
    /// The chosen specification, empty for the default (pay-by-CLCU).
    pub spec: String,
    /// The existing instance's ID.
    pub id: String,
    /// Overwrite Existing Listeners.
    pub override_listeners: bool,
}

/// The SLB control that writes an annotation, as the form names it.
struct SlbControl {
    /// The form field the control posts, where its error is shown.
    field: &'static str,
    label: &'static str,
    choice: String,
}

impl SlbControl {
    /// The control that owns `key`, with what it is set to; `None` for other annotations.
    fn of(key: &str, slb: &SlbForm) -> Option<SlbControl> {
        let on_off = |on: bool| if on { "on" } else { "off" }.to_string();
        let (field, label, choice) = match key {
            ANN_ADDRESS_TYPE => (
                "slb.access",
                "Access Method",
                if slb.internal {
                    "Internal Access"
                } else {
                    "Public Access"
                }
                .to_string(),
            ),
            ANN_SPEC | ANN_CHARGE_TYPE if !slb.existing => (
                "slb.spec",
                "Specification",
                if slb.spec.is_empty() {
                    "Default (pay-by-CLCU, no specification)".to_string()
                } else {
                    slb.spec.clone()
                },
            ),
            ANN_SPEC | ANN_CHARGE_TYPE => (
                "slb.source",
                "SLB Instance",
                "Use Existing SLB Instance".to_string(),
            ),
            ANN_LB_ID if slb.existing => ("slb.id", "Existing SLB instance ID", slb.id.clone()),
            ANN_LB_ID => (
                "slb.source",
                "SLB Instance",
                "Create SLB Instance".to_string(),
            ),
            ANN_FORCE_OVERRIDE => (
                "slb.overrideListeners",
                "Overwrite Existing Listeners",
                on_off(slb.existing && slb.override_listeners),
            ),
            _ => return None,
        };
        Some(SlbControl {
            field,
            label,
            choice,
        })
    }
}

/// The value that means the same as no annotation for `key`, where there is one.
fn unset_equivalent(key: &str) -> Option<&'static str> {
    match key {
        ANN_ADDRESS_TYPE => Some("internet"),
        ANN_FORCE_OVERRIDE => Some("false"),
        _ => None,
    }
}

/// A backend application: a Deployment and the labels its Pods carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub name: String,
    pub match_labels: BTreeMap<String, String>,
}

impl Backend {
    /// The backend of a Deployment object; `None` without `spec.selector.matchLabels`.
    pub fn from_deployment(object: &Value) -> Option<Backend> {
        let name = object.at("/metadata/name")?.as_str()?.to_string();
        let labels = object.at("/spec/selector/matchLabels")?.as_object()?;
        let match_labels: BTreeMap<String, String> = labels
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        (!match_labels.is_empty()).then_some(Backend { name, match_labels })
    }
}

/// What the submit button asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormOp {
    /// Create, or (on Update) save after the review.
    #[default]
    Submit,
    /// Show the changes an update would make before saving.
    Review,
    /// Re-render with what was typed (type or namespace changed without JavaScript).
    Refresh,
    AddPort,
    RemovePort(usize),
    AddAnnotation,
    RemoveAnnotation(usize),
    AddLabel,
    RemoveLabel(usize),
}

impl FormOp {
    fn parse(value: &str) -> FormOp {
        let indexed = |prefix: &str| {
            value
                .strip_prefix(prefix)
                .and_then(|i| i.parse::<usize>().ok())
        };
        match value {
            "review" => FormOp::Review,
            "refresh" => FormOp::Refresh,
            "add-port" => FormOp::AddPort,
            "add-annotation" => FormOp::AddAnnotation,
            "add-label" => FormOp::AddLabel,
            _ => {
                if let Some(i) = indexed("remove-port:") {
                    FormOp::RemovePort(i)
                } else if let Some(i) = indexed("remove-annotation:") {
                    FormOp::RemoveAnnotation(i)
                } else if let Some(i) = indexed("remove-label:") {
                    FormOp::RemoveLabel(i)
                } else {
                    FormOp::Submit
                }
            }
        }
    }

    /// The field to focus after this button edited `form`: the first input of the row it
    /// added, so that a keyboard user goes on typing there.
    pub fn focus_after(self, form: &ServiceForm) -> Option<String> {
        match self {
            FormOp::AddPort => Some(format!(
                "spec.ports[{}].name",
                form.ports.len().checked_sub(1)?
            )),
            FormOp::AddAnnotation => Some(format!(
                "annotations[{}].key",
                form.annotations.len().checked_sub(1)?
            )),
            FormOp::AddLabel => Some(format!("labels[{}].key", form.labels.len().checked_sub(1)?)),
            _ => None,
        }
    }

    /// True for the buttons that only edit the form.
    pub fn edits_form(self) -> bool {
        !matches!(self, FormOp::Submit | FormOp::Review)
    }
}

/// Everything the Create/Update form holds, exactly as the user typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceForm {
    pub namespace: String,
    pub name: String,
    pub service_type: String,
    pub headless: bool,
    pub external_traffic_policy: String,
    pub backend: String,
    pub ports: Vec<PortRow>,
    pub annotations: Vec<AnnotationRow>,
    pub labels: Vec<LabelRow>,
    pub slb: SlbForm,
    /// The resourceVersion the Update form was opened at (optimistic concurrency).
    pub resource_version: String,
}

impl ServiceForm {
    /// The empty Create form in `namespace`: Cluster IP, one port row.
    pub fn new(namespace: &str) -> ServiceForm {
        ServiceForm {
            namespace: namespace.to_string(),
            name: String::new(),
            service_type: TYPE_CLUSTER_IP.into(),
            headless: false,
            external_traffic_policy: TRAFFIC_POLICY_CLUSTER.into(),
            backend: String::new(),
            ports: vec![PortRow::default()],
            annotations: Vec::new(),
            labels: Vec::new(),
            slb: SlbForm::default(),
            resource_version: String::new(),
        }
    }

    /// Parses posted `name=value` pairs (field paths as names) and the button pressed.
    pub fn parse(pairs: &[(String, String)]) -> (ServiceForm, FormOp) {
        let mut form = ServiceForm::new("");
        form.ports.clear();
        let mut op = FormOp::Submit;
        let mut ports: BTreeMap<usize, PortRow> = BTreeMap::new();
        let mut annotations: BTreeMap<usize, AnnotationRow> = BTreeMap::new();
        let mut labels: BTreeMap<usize, LabelRow> = BTreeMap::new();
        for (key, value) in pairs {
            let v = value.clone();
            match key.as_str() {
                "metadata.namespace" => form.namespace = v,
                "metadata.name" => form.name = v,
                "metadata.resourceVersion" => form.resource_version = v,
                "spec.type" => form.service_type = v,
                "headless" => form.headless = is_on(&v),
                "spec.externalTrafficPolicy" => form.external_traffic_policy = v,
                "backend" => form.backend = v,
                "slb.access" => form.slb.internal = v == ADDRESS_INTRANET,
                "slb.source" => form.slb.existing = v == "existing",
                "slb.spec" => form.slb.spec = v,
                "slb.id" => form.slb.id = v,
                "slb.overrideListeners" => form.slb.override_listeners = is_on(&v),
                "op" => op = FormOp::parse(&v),
                _ => match indexed(key) {
                    Some(("spec.ports", i, field)) => {
                        let row = ports.entry(i).or_default();
                        match field {
                            "name" => row.name = v,
                            "port" => row.port = v,
                            "targetPort" => row.target_port = v,
                            "protocol" => row.protocol = v,
                            "nodePort" => row.node_port = v,
                            _ => {}
                        }
                    }
                    Some(("annotations", i, field)) => {
                        let row = annotations.entry(i).or_default();
                        match field {
                            "type" => row.catalog = v == "alibaba",
                            "key" => row.key = v,
                            "value" => row.value = v,
                            _ => {}
                        }
                    }
                    Some(("labels", i, field)) => {
                        let row = labels.entry(i).or_default();
                        match field {
                            "key" => row.key = v,
                            "value" => row.value = v,
                            _ => {}
                        }
                    }
                    _ => {}
                },
            }
        }
        form.ports = ports.into_values().collect();
        form.annotations = annotations.into_values().collect();
        form.labels = labels.into_values().collect();
        if form.ports.is_empty() {
            form.ports.push(PortRow::default());
        }
        (form, op)
    }

    /// The form of an existing Service, for Update.
    pub fn from_service(svc: &Value, backends: &[Backend]) -> ServiceForm {
        let s = |p: &str| svc.at(p).and_then(Value::as_str).unwrap_or("").to_string();
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let mut annotations = string_map(svc.at("/metadata/annotations"));
        let slb = SlbForm {
            internal: annotations
                .get(ANN_ADDRESS_TYPE)
                .is_some_and(|v| v == ADDRESS_INTRANET),
            existing: annotations.contains_key(ANN_LB_ID),
            spec: annotations.get(ANN_SPEC).cloned().unwrap_or_default(),
            id: annotations.get(ANN_LB_ID).cloned().unwrap_or_default(),
            override_listeners: annotations
                .get(ANN_FORCE_OVERRIDE)
                .is_some_and(|v| v == "true"),
        };
        let service_type = s("/spec/type");
        if service_type == TYPE_LOAD_BALANCER {
            annotations.retain(|k, _| !SLB_ANNOTATIONS.contains(&k.as_str()));
        }
        let ports: Vec<PortRow> = svc
            .at("/spec/ports")
            .and_then(Value::as_array)
            .map(|ports| {
                ports
                    .iter()
                    .map(|p| PortRow {
                        name: text(p.get("name")),
                        port: text(p.get("port")),
                        target_port: text(p.get("targetPort")),
                        protocol: text(p.get("protocol")),
                        node_port: text(p.get("nodePort")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let catalog = crate::console::catalog::names();
        ServiceForm {
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
            headless: s("/spec/clusterIP") == CLUSTER_IP_NONE,
            external_traffic_policy: Some(s("/spec/externalTrafficPolicy"))
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| TRAFFIC_POLICY_CLUSTER.into()),
            backend: backend_of(&string_map(svc.at("/spec/selector")), backends),
            ports: if ports.is_empty() {
                vec![PortRow::default()]
            } else {
                ports
            },
            annotations: annotations
                .into_iter()
                .map(|(key, value)| AnnotationRow {
                    catalog: catalog.contains(&key.as_str()),
                    key,
                    value,
                })
                .collect(),
            labels: string_map(svc.at("/metadata/labels"))
                .into_iter()
                .map(|(key, value)| LabelRow { key, value })
                .collect(),
            slb,
            resource_version: s("/metadata/resourceVersion"),
            service_type,
        }
    }

    /// Applies a row button.
    pub fn apply(&mut self, op: FormOp) {
        match op {
            FormOp::AddPort if self.ports.len() < MAX_ROWS => self.ports.push(PortRow::default()),
            FormOp::RemovePort(i) if i < self.ports.len() => {
                self.ports.remove(i);
                if self.ports.is_empty() {
                    self.ports.push(PortRow::default());
                }
            }
            FormOp::AddAnnotation if self.annotations.len() < MAX_ROWS => {
                self.annotations.push(AnnotationRow::default())
            }
            FormOp::RemoveAnnotation(i) if i < self.annotations.len() => {
                self.annotations.remove(i);
            }
            FormOp::AddLabel if self.labels.len() < MAX_ROWS => {
                self.labels.push(LabelRow::default())
            }
            FormOp::RemoveLabel(i) if i < self.labels.len() => {
                self.labels.remove(i);
            }
            _ => {}
        }
    }

    fn has_node_ports(&self) -> bool {
        self.service_type == TYPE_NODE_PORT || self.service_type == TYPE_LOAD_BALANCER
    }

    /// The selector of the chosen backend; an unknown Deployment is a `backend` error.
    pub fn selector(
        &self,
        backends: &[Backend],
    ) -> Result<Option<BTreeMap<String, String>>, FormErrors> {
        if self.backend.is_empty() {
            return Ok(None);
        }
        if let Some(text) = self.backend.strip_prefix(BACKEND_SELECTOR_PREFIX) {
            let pairs = text
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()));
            return Ok(Some(pairs.collect()));
        }
        match backends.iter().find(|b| b.name == self.backend) {
            Some(b) => Ok(Some(b.match_labels.clone())),
            None => Err(FormErrors::field(
                "backend",
                format!(
                    "no backend application {:?} in namespace {:?}",
                    self.backend, self.namespace
                ),
            )),
        }
    }

    /// The annotations the SLB controls write: the one source of truth for these keys.
    fn slb_annotation_map(&self) -> Map<String, Value> {
        let mut map = Map::new();
        if self.service_type == TYPE_LOAD_BALANCER {
            if self.slb.internal {
                map.insert(ANN_ADDRESS_TYPE.into(), ADDRESS_INTRANET.into());
            }
            if self.slb.existing {
                map.insert(ANN_LB_ID.into(), self.slb.id.clone().into());
                if self.slb.override_listeners {
                    map.insert(ANN_FORCE_OVERRIDE.into(), "true".into());
                }
            } else if !self.slb.spec.is_empty() {
                map.insert(ANN_SPEC.into(), self.slb.spec.clone().into());
                map.insert(ANN_CHARGE_TYPE.into(), CHARGE_PAY_BY_SPEC.into());
            }
        }
        map
    }

    fn annotation_map(&self) -> Map<String, Value> {
        let mut map = self.slb_annotation_map();
        for row in self
            .annotations
            .iter()
            .filter(|r| !(r.key.is_empty() && r.value.is_empty()))
        {
            map.insert(row.key.clone(), row.value.clone().into());
        }
        map
    }

    /// Annotation rows that say something else than the SLB control that writes the same
    /// annotation: each is refused with a message on the row's value and on the control, so
    /// that "Internal Access" can never create an internet-facing instance (issue 12).
    pub fn slb_contradictions(&self) -> FormErrors {
        let mut errors = FormErrors::default();
        if self.service_type != TYPE_LOAD_BALANCER {
            return errors;
        }
        let written = self.slb_annotation_map();
        for (i, row) in self.annotations.iter().enumerate() {
            let key = row.key.trim();
            let Some(control) = SlbControl::of(key, &self.slb) else {
                continue;
            };
            let expected = written.get(key).and_then(Value::as_str);
            let agrees = match expected {
                Some(v) => row.value.trim() == v,
                None => {
                    let value = row.value.trim();
                    value.is_empty() || unset_equivalent(key).is_some_and(|u| u == value)
                }
            };
            if agrees {
                continue;
            }
            let writes = match expected {
                Some(v) => format!("sets this annotation to \"{v}\""),
                None => "leaves this annotation unset".to_string(),
            };
            errors.fields.push((
                format!("annotations[{i}].value"),
                format!(
                    "Contradicts {} \"{}\", which {writes}. Remove this row or change {} above.",
                    control.label, control.choice, control.label
                ),
            ));
            errors.fields.push((
                control.field.to_string(),
                format!(
                    "Contradicts annotation row {} ({key}: \"{}\"). This setting writes that annotation; remove the row or choose here.",
                    i + 1,
                    row.value
                ),
            ));
        }
        errors
    }

    fn label_map(&self) -> Map<String, Value> {
        let rows = self
            .labels
            .iter()
            .filter(|r| !(r.key.is_empty() && r.value.is_empty()));
        rows.map(|r| (r.key.clone(), Value::String(r.value.clone())))
            .collect()
    }

    /// The form rows that become `spec.ports`, in order (blank rows are skipped).
    fn port_rows(&self) -> impl Iterator<Item = (usize, &PortRow)> {
        self.ports.iter().enumerate().filter(|(_, p)| !p.is_blank())
    }

    fn ports_json(&self) -> Vec<Value> {
        self.port_rows()
            .map(|(_, row)| {
                let mut p = Map::new();
                if !row.name.is_empty() {
                    p.insert("name".into(), row.name.clone().into());
                }
                p.insert("protocol".into(), row.protocol.clone().into());
                p.insert("port".into(), number_or_text(&row.port));
                if !row.target_port.trim().is_empty() {
                    p.insert("targetPort".into(), number_or_text(&row.target_port));
                }
                if self.has_node_ports() && !row.node_port.trim().is_empty() {
                    p.insert("nodePort".into(), number_or_text(&row.node_port));
                }
                Value::Object(p)
            })
            .collect()
    }

    /// The Service a manifest with these values would describe, as `kubectl apply` sends it.
    pub fn manifest(&self, backends: &[Backend]) -> Result<Value, FormErrors> {
        let selector = self.selector(backends)?;
        self.check_slb_annotations()?;
        let mut meta = Map::new();
        if !self.name.is_empty() {
            meta.insert("name".into(), self.name.clone().into());
        }
        meta.insert("namespace".into(), self.namespace.clone().into());
        insert_non_empty(&mut meta, "labels", self.label_map());
        insert_non_empty(&mut meta, "annotations", self.annotation_map());
        let mut spec = Map::new();
        spec.insert("type".into(), self.service_type.clone().into());
        if self.headless && self.service_type == TYPE_CLUSTER_IP {
            spec.insert("clusterIP".into(), CLUSTER_IP_NONE.into());
        }
        if self.has_node_ports() {
            spec.insert(
                "externalTrafficPolicy".into(),
                self.external_traffic_policy.clone().into(),
            );
        }
        if let Some(selector) = selector.filter(|s| !s.is_empty()) {
            spec.insert("selector".into(), json!(selector));
        }
        spec.insert("ports".into(), Value::Array(self.ports_json()));
        Ok(json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}))
    }

    /// The update body: the stored Service with the fields this form owns replaced, and the
    /// resourceVersion the form was opened at, so a change made meanwhile is a Conflict.
    pub fn apply_to(&self, current: &Value, backends: &[Backend]) -> Result<Value, FormErrors> {
        let selector = self.selector(backends)?;
        self.check_slb_annotations()?;
        let mut body = current.clone();
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            set_or_remove(meta, "labels", self.label_map());
            let mut annotations = self.annotation_map();
            if self.service_type != TYPE_LOAD_BALANCER {
                // Annotations the SLB section does not show are kept as they are.
                for (k, v) in string_map(current.at("/metadata/annotations")) {
                    if SLB_ANNOTATIONS.contains(&k.as_str()) && !annotations.contains_key(&k) {
                        annotations.insert(k, v.into());
                    }
                }
            }
            set_or_remove(meta, "annotations", annotations);
            meta.insert(
                "resourceVersion".into(),
                self.resource_version.clone().into(),
            );
            meta.remove("managedFields");
        }
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("type".into(), self.service_type.clone().into());
            let ports = keep_unshown_port_fields(self.ports_json(), current.at("/spec/ports"));
            spec.insert("ports".into(), Value::Array(ports));
            match selector.filter(|s| !s.is_empty()) {
                Some(s) => spec.insert("selector".into(), json!(s)),
                None => spec.remove("selector"),
            };
            if self.has_node_ports() {
                spec.insert(
                    "externalTrafficPolicy".into(),
                    self.external_traffic_policy.clone().into(),
                );
            } else {
                spec.remove("externalTrafficPolicy");
            }
        }
        if let Some(o) = body.as_object_mut() {
            o.remove("status");
        }
        Ok(body)
    }

    fn check_slb_annotations(&self) -> Result<(), FormErrors> {
        let mut errors = self.slb_contradictions();
        if errors.is_empty() {
            Ok(())
        } else {
            errors.summary.push(
                "The Server Load Balancer settings and the annotation rows disagree; each contradiction is marked below."
                    .into(),
            );
            Err(errors)
        }
    }

    /// The form's own path for a registry field path: `spec.ports[i]` counts only the rows
    /// that were sent, so it is mapped back to the row on screen.
    pub fn form_path(&self, field: &str) -> String {
        let Some(rest) = field.strip_prefix("spec.ports[") else {
            return field.to_string();
        };
        let Some((index, tail)) = rest.split_once(']') else {
            return field.to_string();
        };
        match index
            .parse::<usize>()
            .ok()
            .and_then(|i| self.port_rows().nth(i))
        {
            Some((row, _)) => format!("spec.ports[{row}]{tail}"),
            None => field.to_string(),
        }
    }
}

/// Errors to show on the form: messages keyed by form field path, and the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    /// (field path, message) in the registry's order.
    pub fields: Vec<(String, String)>,
    /// Messages that belong to no field, e.g. kubectl's whole-object text.
    pub summary: Vec<String>,
    /// The Service changed since the form was opened.
    pub conflict: bool,
    /// The form was too large to send (413): some values were left out.
    pub too_large: bool,
}

impl FormErrors {
    /// One error next to one field.
    pub fn field(path: &str, message: String) -> FormErrors {
        FormErrors {
            fields: vec![(path.to_string(), message)],
            ..Default::default()
        }
    }

    /// The errors of a form that arrived without the values `oversized` names: each on its
    /// field, with how large it was, and why nothing was saved.
    pub fn oversized(oversized: &super::Oversized) -> FormErrors {
        let kib = |bytes: usize| bytes.div_ceil(1024);
        let mut errors = FormErrors::message(format!(
            "The form is larger than the {} KiB the console accepts, so nothing was saved. The largest values were left out; they are marked below.",
            kib(super::MAX_BODY_BYTES)
        ));
        errors.too_large = true;
        for (field, bytes) in &oversized.0 {
            errors.fields.push((
                field.clone(),
                format!(
                    "This value was {} KiB ({bytes} bytes), too large to send: it was left out. A Service's annotations may hold at most 256 KiB (262144 bytes) in all.",
                    kib(*bytes)
                ),
            ));
        }
        errors
    }

    /// One error in the summary.
    pub fn message(message: String) -> FormErrors {
        FormErrors {
            summary: vec![message],
            ..Default::default()
        }
    }

    /// The registry's error as kube-apiserver states it: the kubectl text in the summary
    /// and each cause next to its field.
    pub fn from_registry(err: &RegistryError, form: &ServiceForm) -> FormErrors {
        let status = err.status();
        let mut errors = FormErrors::message(status.kubectl_text());
        errors.conflict = matches!(
            err,
            RegistryError::Conflict { .. } | RegistryError::Precondition { .. }
        );
        if let (RegistryError::Invalid { .. }, Some(details)) = (err, status.details.as_ref()) {
            for cause in details.causes.iter().filter(|c| !c.field.is_empty()) {
                errors
                    .fields
                    .push((form.form_path(&cause.field), cause.message.clone()));
            }
        }
        errors
    }

    /// Only the field errors of fields the user has `reached` (form field names), for a live
    /// plan that must not show errors in fields further down the form. Registry paths are
    /// matched to the form's rows: `metadata.annotations` to `annotations[i].…`,
    /// `metadata.labels` to `labels[i].…`, `spec.selector` to `backend`.
    pub fn reached_only(&self, reached: &[String]) -> FormErrors {
        let form_prefix = |path: &str| -> String {
            if path.starts_with("metadata.annotations") {
                "annotations[".into()
            } else if path.starts_with("metadata.labels") {
                "labels[".into()
            } else if path.starts_with("spec.selector") {
                "backend".into()
            } else {
                path.to_string()
            }
        };
        let fields = self
            .fields
            .iter()
            .filter(|(path, _)| {
                let prefix = form_prefix(path);
                reached
                    .iter()
                    .any(|r| r.starts_with(&prefix) || prefix.starts_with(r.as_str()))
            })
            .cloned()
            .collect();
        FormErrors {
            fields,
            ..Default::default()
        }
    }

    /// Puts the registry's errors of `metadata.annotations` and `metadata.labels` on the row
    /// and input they are about. kube-apiserver names only the map (`ValidateAnnotations`,
    /// `ValidateLabels` in apimachinery's `pkg/api/validation/objectmeta.go` and
    /// `pkg/apis/meta/v1/validation/validation.go`): the offending key (as written; an
    /// annotation key is checked lowercased) or label value is the error's `Invalid value`,
    /// and the total size is a `Too long` without one, which belongs to the longest value.
    pub fn place_on_rows(&mut self, form: &ServiceForm) {
        for (path, message) in &mut self.fields {
            let quoted = message
                .strip_prefix("Invalid value: \"")
                .and_then(|rest| rest.split_once("\": "))
                .map(|(value, _)| value.to_string());
            let row = match path.as_str() {
                "metadata.annotations" => match &quoted {
                    Some(key) => form
                        .annotations
                        .iter()
                        .position(|a| a.key.trim().eq_ignore_ascii_case(key))
                        .map(|i| format!("annotations[{i}].key")),
                    None if message.starts_with("Too long") => form
                        .annotations
                        .iter()
                        .enumerate()
                        .max_by_key(|(_, a)| a.key.len() + a.value.len())
                        .map(|(i, _)| format!("annotations[{i}].value")),
                    None => None,
                },
                "metadata.labels" => quoted.and_then(|text| {
                    let by_key = form.labels.iter().position(|l| l.key.trim() == text);
                    let by_value = form.labels.iter().position(|l| l.value.trim() == text);
                    match (by_key, by_value) {
                        (Some(i), _) => Some(format!("labels[{i}].key")),
                        (None, Some(i)) => Some(format!("labels[{i}].value")),
                        (None, None) => None,
                    }
                }),
                _ => None,
            };
            if let Some(row) = row {
                *path = row;
            }
        }
    }

    /// True when there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.summary.is_empty()
    }

    /// Removes and returns the messages of exactly `path`.
    pub fn take(&mut self, path: &str) -> Vec<String> {
        self.take_where(|f| f == path)
    }

    /// Removes and returns the messages of `path` and every path under it.
    pub fn take_under(&mut self, path: &str) -> Vec<String> {
        self.take_where(|f| {
            f == path
                || f.strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
    }

    fn take_where(&mut self, matches: impl Fn(&str) -> bool) -> Vec<String> {
        let (taken, kept): (Vec<_>, Vec<_>) = self.fields.drain(..).partition(|(f, _)| matches(f));
        self.fields = kept;
        taken.into_iter().map(|(_, m)| m).collect()
    }
}

/// The `backend` value that selects `selector`: the Deployment with the same labels, or
/// the selector itself when no Deployment has them.
pub fn backend_of(selector: &BTreeMap<String, String>, backends: &[Backend]) -> String {
    if selector.is_empty() {
        return String::new();
    }
    match backends.iter().find(|b| &b.match_labels == selector) {
        Some(b) => b.name.clone(),
        None => format!("{BACKEND_SELECTOR_PREFIX}{}", selector_text(selector)),
    }
}

/// `k=v,k2=v2`.
pub fn selector_text(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn is_on(value: &str) -> bool {
    matches!(value, "on" | "true" | "1")
}

/// `spec.ports[3].port` → (`spec.ports`, 3, `port`); indexes past [`MAX_ROWS`] are dropped.
fn indexed(key: &str) -> Option<(&str, usize, &str)> {
    let (list, rest) = key.split_once('[')?;
    let (index, field) = rest.split_once("].")?;
    let index = index.parse::<usize>().ok().filter(|i| *i < MAX_ROWS)?;
    Some((list, index, field))
}

/// A typed number stays a number; anything else is sent as text, as YAML would, so the
/// registry answers with kube-apiserver's own decoding or validation error.
fn number_or_text(text: &str) -> Value {
    let trimmed = text.trim();
    match trimmed.parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) if trimmed.is_empty() => Value::from(0),
        Err(_) => Value::String(trimmed.to_string()),
    }
}

fn insert_non_empty(map: &mut Map<String, Value>, key: &str, value: Map<String, Value>) {
    if !value.is_empty() {
        map.insert(key.into(), Value::Object(value));
    }
}

fn set_or_remove(map: &mut Map<String, Value>, key: &str, value: Map<String, Value>) {
    if value.is_empty() {
        map.remove(key);
    } else {
        map.insert(key.into(), Value::Object(value));
    }
}

/// Port fields the form does not show (`appProtocol`) are carried over from the stored port
/// with the same name, or the same port and protocol, so that an update never drops them.
fn keep_unshown_port_fields(mut ports: Vec<Value>, current: Option<&Value>) -> Vec<Value> {
    let stored = current
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for port in &mut ports {
        let same = stored.iter().find(|old| {
            let named = port
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty());
            match named {
                Some(name) => old.get("name").and_then(Value::as_str) == Some(name),
                None => {
                    old.get("port") == port.get("port")
                        && old.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                            == port
                                .get("protocol")
                                .and_then(Value::as_str)
                                .unwrap_or("TCP")
                }
            }
        });
        if let (Some(app), Some(new)) = (
            same.and_then(|old| old.get("appProtocol")),
            port.as_object_mut(),
        ) {
            new.entry("appProtocol").or_insert_with(|| app.clone());
        }
    }
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn manifest_has_no_empty_fields() {
        let (form, op) = ServiceForm::parse(&pairs(&[
            ("metadata.namespace", "default"),
            ("metadata.name", "web"),
            ("spec.type", "ClusterIP"),
            ("spec.ports[0].port", "80"),
            ("spec.ports[0].targetPort", "http"),
            ("spec.ports[0].protocol", "TCP"),
            ("spec.ports[1].protocol", "TCP"),
            ("labels[0].key", "app"),
            ("labels[0].value", "web"),
        ]));
        assert_eq!(op, FormOp::Submit);
        let m = form.manifest(&[]).unwrap();
        assert_eq!(
            m,
            json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
                "spec": {"type": "ClusterIP", "ports": [{"protocol": "TCP", "port": 80, "targetPort": "http"}]}})
        );
    }

    #[test]
    fn port_errors_map_back_to_the_row_on_screen() {
        let (form, _) = ServiceForm::parse(&pairs(&[
            ("spec.ports[0].protocol", "TCP"),
            ("spec.ports[1].port", "80"),
            ("op", "remove-port:1"),
        ]));
        assert_eq!(
            form.form_path("spec.ports[0].nodePort"),
            "spec.ports[1].nodePort"
        );
        assert_eq!(form.form_path("metadata.name"), "metadata.name");
    }

    fn load_balancer(extra: &[(&str, &str)]) -> ServiceForm {
        let mut list = vec![
            ("metadata.namespace", "default"),
            ("metadata.name", "web"),
            ("spec.type", "LoadBalancer"),
            ("spec.ports[0].port", "80"),
        ];
        list.extend_from_slice(extra);
        ServiceForm::parse(&pairs(&list)).0
    }

    #[test]
    fn internal_access_with_an_internet_annotation_is_refused_on_both_fields() {
        let form = load_balancer(&[
            ("slb.access", "intranet"),
            ("annotations[0].key", ANN_ADDRESS_TYPE),
            ("annotations[0].value", "internet"),
        ]);
        let errors = form.manifest(&[]).unwrap_err();
        let paths: Vec<&str> = errors.fields.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["annotations[0].value", "slb.access"]);
        assert_eq!(
            errors.fields[0].1,
            "Contradicts Access Method \"Internal Access\", which sets this annotation to \"intranet\". Remove this row or change Access Method above."
        );
    }

    #[test]
    fn annotation_rows_that_agree_with_the_controls_are_accepted() {
        let form = load_balancer(&[
            ("slb.access", "internet"),
            ("annotations[0].key", ANN_ADDRESS_TYPE),
            ("annotations[0].value", "internet"),
            ("slb.spec", "slb.s1.small"),
            ("annotations[1].key", ANN_CHARGE_TYPE),
            ("annotations[1].value", "PayBySpec"),
        ]);
        assert!(form.manifest(&[]).is_ok());
    }

    #[test]
    fn every_slb_control_owns_its_annotation() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: [Case<'_>; 5] = [
            ("spec", &[], ANN_SPEC, "slb.spec"),
            ("charge type", &[], ANN_CHARGE_TYPE, "slb.spec"),
            ("id while creating", &[], ANN_LB_ID, "slb.source"),
            (
                "another id",
                &[("slb.source", "existing"), ("slb.id", "lb-1")],
                ANN_LB_ID,
                "slb.id",
            ),
            (
                "override",
                &[("slb.source", "existing"), ("slb.id", "lb-1")],
                ANN_FORCE_OVERRIDE,
                "slb.overrideListeners",
            ),
        ];
        for (name, controls, key, field) in cases {
            let mut extra = controls.to_vec();
            extra.push(("annotations[0].key", key));
            extra.push(("annotations[0].value", "true"));
            let errors = load_balancer(&extra).manifest(&[]).unwrap_err();
            assert!(
                errors.fields.iter().any(|(p, _)| p == field),
                "{name}: {errors:?}"
            );
        }
        // Other types do not write these annotations: nothing to contradict.
        let (form, _) = ServiceForm::parse(&pairs(&[
            ("spec.type", "NodePort"),
            ("slb.access", "intranet"),
            ("annotations[0].key", ANN_ADDRESS_TYPE),
            ("annotations[0].value", "internet"),
        ]));
        assert!(form.slb_contradictions().is_empty());
    }

    #[test]
    fn row_buttons_parse() {
        assert_eq!(FormOp::parse("remove-label:3"), FormOp::RemoveLabel(3));
        assert_eq!(FormOp::parse("whatever"), FormOp::Submit);
        assert_eq!(indexed("spec.ports[1000].port"), None);
    }
}
