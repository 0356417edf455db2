//! Server-side apply and `metadata.managedFields`, as structured-merge-diff and kube-apiserver's
//! fieldmanager compute them: field sets and their FieldsV1 encoding, merging an applied
//! configuration into the live object with pruning, per-field ownership conflicts, and the
//! `Update` entries every other write records. Pure functions over JSON; no I/O.

use crate::json::Pointer as _;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, btree_map};
use std::fmt;
use std::sync::LazyLock;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Map, Value};

use crate::field::{FieldError, FieldErrors, go_quote};
use crate::status::{Status, StatusCause, StatusDetails};

/// `metav1.ManagedFieldsOperationApply`.
pub const OPERATION_APPLY: &str = "Apply";
/// `metav1.ManagedFieldsOperationUpdate`.
pub const OPERATION_UPDATE: &str = "Update";
/// The only `fieldsType` kube-apiserver writes.
pub const FIELDS_TYPE_V1: &str = "FieldsV1";
/// The manager kube-apiserver records for what an object held before its first apply.
pub const BEFORE_FIRST_APPLY_MANAGER: &str = "before-first-apply";
/// The manager whose applies keep `kubectl.kubernetes.io/last-applied-configuration` in sync.
pub const KUBECTL_APPLY_MANAGER: &str = "kubectl";
/// kubectl's client-side apply annotation.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// `metav1.CauseTypeFieldManagerConflict`.
pub const CAUSE_FIELD_MANAGER_CONFLICT: &str = "FieldManagerConflict";
/// The `status` subresource, whose writers are recorded with `"subresource":"status"`.
pub const SUBRESOURCE_STATUS: &str = "status";

/// What `stripMetaManager` never lets a manager own.
const STRIPPED_PATHS: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "creationTimestamp"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "clusterName"],
    &["metadata", "generation"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
];

/// Kinds whose main resource resets `status` and whose `status` subresource resets `spec`
/// (`GetResetFields` of their strategies).
const KINDS_WITH_STATUS: &[&str] = &[
    "Service",
    "Pod",
    "Node",
    "Namespace",
    "Deployment",
    "ReplicaSet",
];

// ---------------------------------------------------------------------------------------------
// Schema

/// How a list is merged and owned (`x-kubernetes-list-type`).
#[derive(Debug, Clone, PartialEq)]
pub enum ListType {
    /// Replaced and owned whole.
    Atomic,
    /// A set of scalars; each value is owned (`v:"x"`).
    Set,
    /// Items are identified by these key fields (`k:{"port":80,"protocol":"TCP"}`); a missing
    /// key takes its default.
    Map {
        keys: Vec<&'static str>,
        defaults: Vec<(&'static str, Value)>,
    },
}

/// The schema knowledge apply needs for one kind: which lists are sets or maps, which maps
/// are atomic, and which maps are plain string maps rather than structs. Paths are dotted
/// field names; list items add no segment (`spec.ports.targetPort`).
#[derive(Debug, Clone, Default)]
pub struct ApplySchema {
    lists: BTreeMap<String, ListType>,
    atomic_maps: BTreeSet<String>,
    element_maps: BTreeSet<String>,
    reset_main: bool,
}

impl ApplySchema {
    /// The schema of `kind` in kube-apiserver v1.32's OpenAPI (`x-kubernetes-list-type`,
    /// `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`); other lists are atomic. Built
    /// once per kind: every write records its managed fields through it.
    pub fn for_kind(kind: &str) -> &'static ApplySchema {
        static WITH_STATUS: LazyLock<Vec<(&str, ApplySchema)>> = LazyLock::new(|| {
            KINDS_WITH_STATUS
                .iter()
                .map(|kind| (*kind, ApplySchema::build(kind)))
                .collect()
        });
        // Every kind with a schema of its own has a status; the others share one.
        static OTHERS: LazyLock<ApplySchema> = LazyLock::new(|| ApplySchema::build(""));
        WITH_STATUS
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&*OTHERS, |(_, schema)| schema)
    }

    fn build(kind: &str) -> Self {
        let mut s = Self {
            reset_main: KINDS_WITH_STATUS.contains(&kind),
            ..Self::default()
        }
        .list_map("metadata.ownerReferences", &["uid"])
        .list("metadata.finalizers", ListType::Set)
        .element_map("metadata.labels")
        .element_map("metadata.annotations");
        match kind {
            "Service" => {
                s = s
                    .list(
                        "spec.ports",
                        ListType::Map {
                            keys: vec!["port", "protocol"],
                            defaults: vec![("protocol", Value::String("TCP".into()))],
                        },
                    )
                    .atomic_map("spec.selector")
                    .list_map("status.conditions", &["type"]);
            }
            "Pod" => {
                s = s
                    .pod_spec("spec")
                    .list_map("status.conditions", &["type"])
                    .list_map("status.podIPs", &["ip"])
            }
            "Deployment" | "ReplicaSet" => {
                s = s
                    .pod_spec("spec.template.spec")
                    .element_map("spec.template.metadata.labels")
                    .element_map("spec.template.metadata.annotations")
                    .atomic_map("spec.selector")
                    .list_map("status.conditions", &["type"]);
            }
            "Node" => {
                s = s
                    .list("spec.podCIDRs", ListType::Set)
                    .list_map("status.addresses", &["type"])
                    .list_map("status.conditions", &["type"])
                    .element_map("status.capacity")
                    .element_map("status.allocatable");
            }
            "Namespace" => s = s.list_map("status.conditions", &["type"]),
            _ => {}
        }
        s
    }

    fn list(mut self, path: &str, list: ListType) -> Self {
        self.lists.insert(path.to_string(), list);
        self
    }

    fn list_map(self, path: &str, keys: &[&'static str]) -> Self {
        self.list(
            path,
            ListType::Map {
                keys: keys.to_vec(),
                defaults: Vec::new(),
            },
        )
    }

    fn atomic_map(mut self, path: &str) -> Self {
        self.atomic_maps.insert(path.to_string());
        self.element_maps.insert(path.to_string());
        self
    }

    fn element_map(mut self, path: &str) -> Self {
        self.element_maps.insert(path.to_string());
        self
    }

    fn pod_spec(mut self, prefix: &str) -> Self {
        let tcp = || vec![("protocol", Value::String("TCP".into()))];
        for containers in ["containers", "initContainers", "ephemeralContainers"] {
            let list = format!("{prefix}.{containers}");
            self = self
                .list_map(&list, &["name"])
                .list(
                    &format!("{list}.ports"),
                    ListType::Map {
                        keys: vec!["containerPort", "protocol"],
                        defaults: tcp(),
                    },
                )
                .list_map(&format!("{list}.env"), &["name"])
                .list_map(&format!("{list}.volumeMounts"), &["mountPath"])
                .list_map(&format!("{list}.volumeDevices"), &["devicePath"])
                .element_map(&format!("{list}.resources.limits"))
                .element_map(&format!("{list}.resources.requests"));
        }
        self.list_map(&format!("{prefix}.volumes"), &["name"])
            .list_map(&format!("{prefix}.imagePullSecrets"), &["name"])
            .list_map(&format!("{prefix}.hostAliases"), &["ip"])
            .list_map(
                &format!("{prefix}.topologySpreadConstraints"),
                &["topologyKey", "whenUnsatisfiable"],
            )
            .list_map(&format!("{prefix}.resourceClaims"), &["name"])
            .list_map(&format!("{prefix}.schedulingGates"), &["name"])
            .element_map(&format!("{prefix}.nodeSelector"))
    }

    fn list_type(&self, path: &str) -> &ListType {
        static ATOMIC: ListType = ListType::Atomic;
        self.lists.get(path).unwrap_or(&ATOMIC)
    }

    fn is_atomic_map(&self, path: &str) -> bool {
        self.atomic_maps.contains(path)
    }

    /// A map whose keys are data (labels), not declared struct fields.
    fn is_element_map(&self, path: &str) -> bool {
        self.element_maps.contains(path)
    }

    /// The fields a write to the main resource (`status`) or a subresource (`spec`) never owns.
    fn reset_fields(&self, subresource: Option<&str>) -> FieldSet {
        let mut set = FieldSet::default();
        if self.reset_main {
            let field = if subresource == Some(SUBRESOURCE_STATUS) {
                "spec"
            } else {
                "status"
            };
            set.insert(&[PathElement::Field(field.into())]);
        }
        set
    }
}

/// A schema path one field deeper: `spec` and `ports` make `spec.ports`.
fn join(path: &str, field: &str) -> String {
    let mut joined = path.to_owned();
    push_field(&mut joined, field);
    joined
}

/// Extends a schema path by one field in place, as [`join`] does.
fn push_field(path: &mut String, field: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(field);
}

// ---------------------------------------------------------------------------------------------
// Paths and field sets

/// One step of a field path (`fieldpath.PathElement`).
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// A struct field or map key: `.name`, `f:name`.
    Field(String),
    /// A list-map item by its sorted key fields: `[port=80,protocol="TCP"]`.
    Key(Vec<(String, Value)>),
    /// A set item: `[="x"]`, `v:"x"`.
    Value(Value),
    /// A positional item: `[0]`, `i:0`.
    Index(usize),
}

impl Eq for PathElement {}

impl Ord for PathElement {
    /// `PathElement.Compare`: fields, then keys, then values, then indexes.
    fn cmp(&self, other: &Self) -> Ordering {
        use PathElement::*;
        match (self, other) {
            (Field(a), Field(b)) => a.cmp(b),
            (Field(_), _) => Ordering::Less,
            (_, Field(_)) => Ordering::Greater,
            (Key(a), Key(b)) => {
                for ((an, av), (bn, bv)) in a.iter().zip(b) {
                    let c = an.cmp(bn).then_with(|| compare_values(av, bv));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Key(_), _) => Ordering::Less,
            (_, Key(_)) => Ordering::Greater,
            (Value(a), Value(b)) => compare_values(a, b),
            (Value(_), _) => Ordering::Less,
            (_, Value(_)) => Ordering::Greater,
            (Index(a), Index(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PathElement {
    /// `PathElement.String`, as conflict messages print paths.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_to_string(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", value_to_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

impl PathElement {
    /// The FieldsV1 key: `f:name`, `k:{"port":80}`, `v:"x"`, `i:0`.
    fn fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => ["f:", name].concat(),
            PathElement::Key(fields) => {
                let map: Map<String, Value> = fields.iter().cloned().collect();
                format!("k:{}", Value::Object(map))
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    fn parse_fields_v1_key(key: &str) -> Result<PathElement, String> {
        let bad = || format!("unexpected key in FieldsV1: {key:?}");
        let (kind, rest) = key.split_once(':').ok_or_else(bad)?;
        match kind {
            "f" => Ok(PathElement::Field(rest.to_string())),
            "k" => match serde_json::from_str::<Value>(rest) {
                Ok(Value::Object(map)) => {
                    let mut fields: Vec<(String, Value)> = map.into_iter().collect();
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    Ok(PathElement::Key(fields))
                }
                _ => Err(bad()),
            },
            "v" => serde_json::from_str(rest)
                .map(PathElement::Value)
                .map_err(|_| bad()),
            "i" => rest.parse().map(PathElement::Index).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

/// `value.ToString`: strings quoted Go's way, numbers and booleans bare.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => go_quote(s),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(value_to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", value_to_string(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// `value.Compare`: numbers, then strings, booleans, lists, maps, and null last.
fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&y.as_f64().unwrap_or(0.0)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .map(|(p, q)| compare_values(p, q))
            .find(|c| c.is_ne())
            .unwrap_or(x.len().cmp(&y.len())),
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            xs.iter()
                .zip(&ys)
                .map(|((xk, xv), (yk, yv))| xk.cmp(yk).then_with(|| compare_values(xv, yv)))
                .find(|c| c.is_ne())
                .unwrap_or(xs.len().cmp(&ys.len()))
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A full field path, printed as conflict messages print it (`.spec.ports[port=80,protocol="TCP"].targetPort`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(pub Vec<PathElement>);

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|pe| write!(f, "{pe}"))
    }
}

/// A set of field paths (`fieldpath.Set`): a tree whose nodes may themselves be members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    nodes: BTreeMap<PathElement, Node>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    member: bool,
    children: FieldSet,
}

impl FieldSet {
    /// True when the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds one path (non-empty).
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        // Most inserts pass through nodes that exist: the element is copied only for a new one.
        let node = match self.nodes.get_mut(first) {
            Some(node) => node,
            None => self.nodes.entry(first.clone()).or_default(),
        };
        if rest.is_empty() {
            node.member = true;
        } else {
            node.children.insert(rest);
        }
    }

    /// Whether the exact path is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path.split_first() {
            None => false,
            Some((first, [])) => self.nodes.get(first).is_some_and(|n| n.member),
            Some((first, rest)) => self.nodes.get(first).is_some_and(|n| n.children.has(rest)),
        }
    }

    fn member(&self, pe: &PathElement) -> bool {
        self.nodes.get(pe).is_some_and(|n| n.member)
    }

    fn children(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.nodes
            .get(pe)
            .map(|n| &n.children)
            .filter(|c| !c.is_empty())
    }

    fn combine(
        &self,
        other: &FieldSet,
        op: &dyn Fn(bool, bool) -> bool,
        keep_one_sided: (bool, bool),
    ) -> FieldSet {
        let mut out = BTreeMap::new();
        let keys: BTreeSet<&PathElement> = self.nodes.keys().chain(other.nodes.keys()).collect();
        for key in keys {
            let node = match (self.nodes.get(key), other.nodes.get(key)) {
                (Some(a), Some(b)) => Node {
                    member: op(a.member, b.member),
                    children: a.children.combine(&b.children, op, keep_one_sided),
                },
                (Some(a), None) if keep_one_sided.0 => a.clone(),
                (None, Some(b)) if keep_one_sided.1 => b.clone(),
                _ => continue,
            };
            if node.member || !node.children.is_empty() {
                out.insert(key.clone(), node);
            }
        }
        FieldSet { nodes: out }
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        self.combine(other, &|a, b| a || b, (true, true))
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        self.combine(other, &|a, b| a && b, (false, false))
    }

    /// Paths of `self` that are not members of `other` (children of removed paths stay).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        self.combine(other, &|a, b| a && !b, (true, false))
    }

    /// Paths of `self` that are neither members of `other` nor below one of its members.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = BTreeMap::new();
        for (key, node) in &self.nodes {
            let node = match other.nodes.get(key) {
                Some(o) if o.member => continue,
                Some(o) => Node {
                    member: node.member,
                    children: node.children.recursive_difference(&o.children),
                },
                None => node.clone(),
            };
            if node.member || !node.children.is_empty() {
                out.insert(key.clone(), node);
            }
        }
        FieldSet { nodes: out }
    }

    /// `self ∪ other`, in place: `other`'s nodes are moved, not copied.
    fn union_with(&mut self, other: FieldSet) {
        // Into an empty set (every create's), the other set moves whole instead of being
        // taken apart and inserted again node by node.
        if self.nodes.is_empty() {
            *self = other;
            return;
        }
        for (key, node) in other.nodes {
            match self.nodes.entry(key) {
                btree_map::Entry::Vacant(slot) => {
                    slot.insert(node);
                }
                btree_map::Entry::Occupied(mut slot) => {
                    let mine = slot.get_mut();
                    mine.member |= node.member;
                    mine.children.union_with(node.children);
                }
            }
        }
    }

    /// [`FieldSet::difference`] in place: what a write's sets lose costs no copy of them.
    fn remove_members(&mut self, other: &FieldSet) {
        for (key, theirs) in &other.nodes {
            let Some(mine) = self.nodes.get_mut(key) else {
                continue;
            };
            mine.member &= !theirs.member;
            mine.children.remove_members(&theirs.children);
            if !mine.member && mine.children.is_empty() {
                self.nodes.remove(key);
            }
        }
    }

    /// [`FieldSet::recursive_difference`] in place.
    fn remove_recursive(&mut self, other: &FieldSet) {
        for (key, theirs) in &other.nodes {
            if theirs.member {
                self.nodes.remove(key);
                continue;
            }
            let Some(mine) = self.nodes.get_mut(key) else {
                continue;
            };
            mine.children.remove_recursive(&theirs.children);
            if !mine.member && mine.children.is_empty() {
                self.nodes.remove(key);
            }
        }
    }

    /// Every path, in `Set.Iterate` order: a level's members first, then each child's paths.
    pub fn paths(&self) -> Vec<FieldPath> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<FieldPath>) {
        for (pe, node) in &self.nodes {
            if node.member {
                let mut path = prefix.clone();
                path.push(pe.clone());
                out.push(FieldPath(path));
            }
        }
        for (pe, node) in &self.nodes {
            if !node.children.is_empty() {
                prefix.push(pe.clone());
                node.children.collect_paths(prefix, out);
                prefix.pop();
            }
        }
    }

    /// `EnsureNamedFieldsAreMembers`: struct fields with owned children are owned too.
    fn ensure_named_fields(&self, schema: &ApplySchema, path: &str) -> FieldSet {
        let mut out = BTreeMap::new();
        for (pe, node) in &self.nodes {
            let child_path = match pe {
                PathElement::Field(name) => join(path, name),
                _ => path.to_string(),
            };
            let named = matches!(pe, PathElement::Field(_)) && !schema.is_element_map(path);
            let children = node.children.ensure_named_fields(schema, &child_path);
            let member = node.member || (named && !children.is_empty());
            out.insert(pe.clone(), Node { member, children });
        }
        FieldSet { nodes: out }
    }

    /// The server-owned metadata no manager owns (built once).
    fn stripped() -> &'static FieldSet {
        static STRIPPED: LazyLock<FieldSet> = LazyLock::new(|| {
            let mut set = FieldSet::default();
            for path in STRIPPED_PATHS {
                let path: Vec<PathElement> = path
                    .iter()
                    .map(|f| PathElement::Field((*f).to_string()))
                    .collect();
                set.insert(&path);
            }
            set
        });
        &STRIPPED
    }

    /// The FieldsV1 JSON of the set: `{"f:spec":{"f:ports":{"k:{…}":{".":{},"f:port":{}}}}}`.
    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        self.fields_v1_into(&mut map);
        Value::Object(map)
    }

    /// The set's FieldsV1 entries, added to `map` in order. A member with children marks
    /// itself with `"."` before them.
    fn fields_v1_into(&self, map: &mut Map<String, Value>) {
        for (pe, node) in &self.nodes {
            let mut inner = Map::new();
            if node.member && !node.children.is_empty() {
                inner.insert(".".into(), Value::Object(Map::new()));
            }
            node.children.fields_v1_into(&mut inner);
            map.insert(pe.fields_v1_key(), Value::Object(inner));
        }
    }

    /// Parses FieldsV1 JSON.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let Value::Object(map) = value else {
            return Err("FieldsV1 must be an object".into());
        };
        let mut set = FieldSet::default();
        for (key, child) in map {
            if key == "." {
                continue;
            }
            let pe = PathElement::parse_fields_v1_key(key)?;
            let children = FieldSet::from_fields_v1(child)?;
            let member = children.is_empty() || child.get(".").is_some();
            set.nodes.insert(pe, Node { member, children });
        }
        Ok(set)
    }
}

// ---------------------------------------------------------------------------------------------
// Walks over objects

/// The path element of a list item, or why it has none.
fn item_element(item: &Value, list: &ListType, index: usize) -> Result<PathElement, String> {
    match list {
        ListType::Atomic => Ok(PathElement::Index(index)),
        ListType::Set => Ok(PathElement::Value(item.clone())),
        ListType::Map { keys, defaults } => {
            let Value::Object(map) = item else {
                return Err(format!(
                    "element {index}: associative list with keys may not have non-map elements"
                ));
            };
            let mut fields = Vec::with_capacity(keys.len());
            for key in keys {
                match map.get(*key).filter(|v| !v.is_null()) {
                    Some(v) => fields.push(((*key).to_string(), v.clone())),
                    None => match defaults.iter().find(|(k, _)| k == key) {
                        Some((_, d)) => fields.push(((*key).to_string(), d.clone())),
                        None => {
                            return Err(format!(
                                "element {index}: associative list with keys has an element that omits key field {} (and doesn't have default value)",
                                go_quote(key)
                            ));
                        }
                    },
                }
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(fields))
        }
    }
}

/// List items by path element, in order, first occurrence winning (`indexListPathElements`).
fn index_items<'a>(items: &'a [Value], list: &ListType) -> Vec<(PathElement, &'a Value)> {
    let mut out: Vec<(PathElement, &Value)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Ok(pe) = item_element(item, list, i)
            && !out.iter().any(|(seen, _)| *seen == pe)
        {
            out.push((pe, item));
        }
    }
    out
}

/// Checks an applied configuration as `ObjectToTyped` does: list-map items carry their keys
/// and appear once.
fn validate_config(
    value: &Value,
    schema: &ApplySchema,
    path: &str,
    printed: &mut String,
) -> Result<(), String> {
    match value {
        Value::Object(map) if !schema.is_atomic_map(path) => {
            for (k, v) in map {
                let len = printed.len();
                printed.push('.');
                printed.push_str(k);
                validate_config(v, schema, &join(path, k), printed)?;
                printed.truncate(len);
            }
            Ok(())
        }
        Value::Array(items) => {
            let list = schema.list_type(path);
            if *list == ListType::Atomic {
                return Ok(());
            }
            let mut seen: Vec<PathElement> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let pe = item_element(item, list, i).map_err(|e| format!("{printed}: {e}"))?;
                if seen.contains(&pe) {
                    return Err(format!("{printed}: duplicate entries for key {pe}"));
                }
                let len = printed.len();
                printed.push_str(&pe.to_string());
                validate_config(item, schema, path, printed)?;
                printed.truncate(len);
                seen.push(pe);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `TypedValue.ToFieldSet`: every leaf and list item the value mentions.
pub fn field_set(value: &Value, schema: &ApplySchema) -> FieldSet {
    let mut set = FieldSet::default();
    to_set(value, schema, "", &mut Vec::new(), &mut set);
    set
}

fn to_set(
    value: &Value,
    schema: &ApplySchema,
    path: &str,
    prefix: &mut Vec<PathElement>,
    out: &mut FieldSet,
) {
    match value {
        Value::Object(_) if schema.is_atomic_map(path) => out.insert(prefix),
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(PathElement::Field(k.clone()));
                to_set(v, schema, &join(path, k), prefix, out);
                let empty_map = v.as_object().is_some_and(Map::is_empty);
                if v.is_null() || empty_map || schema.is_element_map(path) {
                    out.insert(prefix);
                }
                prefix.pop();
            }
        }
        Value::Array(items) => {
            let list = schema.list_type(path);
            if *list == ListType::Atomic {
                out.insert(prefix);
                return;
            }
            for (i, item) in items.iter().enumerate() {
                let Ok(pe) = item_element(item, list, i) else {
                    continue;
                };
                prefix.push(pe);
                to_set(item, schema, path, prefix, out);
                out.insert(prefix);
                prefix.pop();
            }
        }
        Value::Null => {}
        _ => out.insert(prefix),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Leaf,
    Map,
    List,
}

/// The shape both sides are walked as; `null` takes the other side's (`deduceAtom`).
fn shape(lhs: Option<&Value>, rhs: Option<&Value>) -> Shape {
    let of = |v: Option<&Value>| match v {
        Some(Value::Object(_)) => Some(Shape::Map),
        Some(Value::Array(_)) => Some(Shape::List),
        Some(Value::Null) | None => None,
        Some(_) => Some(Shape::Leaf),
    };
    match (of(lhs), of(rhs)) {
        (Some(a), Some(b)) if a == b => a,
        (Some(_), Some(_)) | (None, None) => Shape::Leaf,
        (Some(a), None) | (None, Some(a)) => a,
    }
}

fn as_map(v: Option<&Value>) -> Option<&Map<String, Value>> {
    v.and_then(Value::as_object)
}

fn as_list(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The removed, modified and added paths between two objects (`TypedValue.Compare`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    pub removed: FieldSet,
    pub modified: FieldSet,
    pub added: FieldSet,
}

impl Comparison {
    /// Adds a child's comparison under `pe`, in each set where it holds anything. Items and
    /// keys are unique within their parent, so no node is attached twice.
    fn attach(
        &mut self,
        pe: impl Fn() -> PathElement,
        (child, here): (Comparison, Option<Change>),
    ) {
        let sets = [
            (&mut self.removed, child.removed, Change::Removed),
            (&mut self.modified, child.modified, Change::Modified),
            (&mut self.added, child.added, Change::Added),
        ];
        for (set, children, change) in sets {
            let member = here == Some(change);
            if member || !children.is_empty() {
                set.nodes.insert(pe(), Node { member, children });
            }
        }
    }

    fn exclude(&mut self, fields: &FieldSet) {
        self.removed.remove_recursive(fields);
        self.modified.remove_recursive(fields);
        self.added.remove_recursive(fields);
    }

    /// True when nothing differs.
    pub fn is_same(&self) -> bool {
        self.removed.is_empty() && self.modified.is_empty() && self.added.is_empty()
    }
}

/// Compares `lhs` (live) with `rhs` (new).
pub fn compare(lhs: &Value, rhs: &Value, schema: &ApplySchema) -> Comparison {
    compare_walk(Some(lhs), Some(rhs), schema, &mut String::new()).0
}

/// Which of a [`Comparison`]'s sets a value itself belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Removed,
    Modified,
    Added,
}

/// Compares two values at one schema path: the paths beneath them that differ, relative to
/// them, and how the values themselves differ. Each set is built bottom-up, a node attached
/// once to its parent, rather than every path inserted again from the root: a create's
/// comparison (every field added) was a third of recording its managed fields.
///
/// `path` is the schema path of the values, extended ([`push_field`]) and restored in place
/// rather than copied per field.
fn compare_walk(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    schema: &ApplySchema,
    path: &mut String,
) -> (Comparison, Option<Change>) {
    let leaf = || match (lhs, rhs) {
        (None, Some(_)) => Some(Change::Added),
        (Some(_), None) => Some(Change::Removed),
        (Some(l), Some(r)) if l != r => Some(Change::Modified),
        _ => None,
    };
    let mut c = Comparison::default();
    match shape(lhs, rhs) {
        Shape::Leaf => return (c, leaf()),
        Shape::Map => {
            let (l, r) = (as_map(lhs), as_map(rhs));
            let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
            if schema.is_atomic_map(path) || empty {
                return (c, leaf());
            }
            let parent = path.len();
            let live_keys = l.into_iter().flat_map(|m| m.keys());
            let new_keys = r
                .into_iter()
                .flat_map(|m| m.keys())
                .filter(|k| l.is_none_or(|l| !l.contains_key(*k)));
            for k in live_keys.chain(new_keys) {
                // Managed fields describe the object; they are never part of what it holds.
                if path == "metadata" && k == "managedFields" {
                    continue;
                }
                push_field(path, k);
                let child = compare_walk(
                    l.and_then(|m| m.get(k)),
                    r.and_then(|m| m.get(k)),
                    schema,
                    path,
                );
                path.truncate(parent);
                c.attach(|| PathElement::Field(k.clone()), child);
            }
        }
        Shape::List => {
            let list = schema.list_type(path);
            let (l, r) = (as_list(lhs), as_list(rhs));
            if *list == ListType::Atomic || (l.is_empty() && r.is_empty()) {
                return (c, leaf());
            }
            let (li, ri) = (index_items(l, list), index_items(r, list));
            for (pe, item) in &ri {
                let live = li.iter().find(|(p, _)| p == pe).map(|(_, v)| *v);
                let child = compare_walk(live, Some(item), schema, path);
                c.attach(|| pe.clone(), child);
            }
            for (pe, item) in li.iter().filter(|(pe, _)| !ri.iter().any(|(p, _)| p == pe)) {
                let child = compare_walk(Some(item), None, schema, path);
                c.attach(|| pe.clone(), child);
            }
        }
    }
    // The post-item hook: a whole map, list or item that appears or disappears.
    let here = match (lhs, rhs) {
        (None, Some(_)) => Some(Change::Added),
        (Some(_), None) => Some(Change::Removed),
        _ => None,
    };
    (c, here)
}

/// `TypedValue.Merge`: the config's values win; maps and associative lists merge by key.
pub fn merge(lhs: &Value, rhs: &Value, schema: &ApplySchema) -> Value {
    merge_walk(Some(lhs), Some(rhs), schema, "").unwrap_or(Value::Null)
}

fn merge_walk(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    schema: &ApplySchema,
    path: &str,
) -> Option<Value> {
    let leaf = || rhs.or(lhs).cloned();
    match shape(lhs, rhs) {
        Shape::Leaf => leaf(),
        Shape::Map => {
            let (l, r) = (as_map(lhs), as_map(rhs));
            let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
            if schema.is_atomic_map(path) || empty {
                return leaf();
            }
            let mut out = Map::new();
            for (k, lv) in l.into_iter().flatten() {
                if let Some(v) =
                    merge_walk(Some(lv), r.and_then(|m| m.get(k)), schema, &join(path, k))
                {
                    out.insert(k.clone(), v);
                }
            }
            for (k, rv) in r
                .into_iter()
                .flatten()
                .filter(|(k, _)| l.is_none_or(|l| !l.contains_key(*k)))
            {
                if let Some(v) = merge_walk(None, Some(rv), schema, &join(path, k)) {
                    out.insert(k.clone(), v);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Shape::List => {
            let list = schema.list_type(path);
            let (l, r) = (as_list(lhs), as_list(rhs));
            if *list == ListType::Atomic || (l.is_empty() && r.is_empty()) {
                return leaf();
            }
            let out = merge_list(&index_items(l, list), &index_items(r, list), schema, path);
            (!out.is_empty()).then_some(Value::Array(out))
        }
    }
}

/// The item order of a merged associative list (`visitListItems` of the merging walker):
/// the config's order, with live-only items kept where they were.
fn merge_list(
    lhs: &[(PathElement, &Value)],
    rhs: &[(PathElement, &Value)],
    schema: &ApplySchema,
    path: &str,
) -> Vec<Value> {
    fn find<'v>(items: &[(PathElement, &'v Value)], pe: &PathElement) -> Option<&'v Value> {
        items.iter().find(|(p, _)| p == pe).map(|(_, v)| *v)
    }
    let mut shared: std::collections::VecDeque<&PathElement> = rhs
        .iter()
        .map(|(pe, _)| pe)
        .filter(|pe| find(lhs, pe).is_some())
        .collect();
    let mut next_shared = shared.pop_front();
    let mut out = Vec::new();
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if li < lhs.len() && ri < rhs.len() {
            let pe = &lhs[li].0;
            if *pe == rhs[ri].0 {
                out.extend(merge_walk(Some(lhs[li].1), Some(rhs[ri].1), schema, path));
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if find(rhs, pe).is_some() && next_shared.is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < lhs.len() && find(rhs, &lhs[li].0).is_none() {
            out.extend(merge_walk(Some(lhs[li].1), None, schema, path));
            li += 1;
            continue;
        }
        if ri < rhs.len() {
            let pe = &rhs[ri].0;
            out.extend(merge_walk(find(lhs, pe), Some(rhs[ri].1), schema, path));
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.pop_front();
            }
        }
    }
    out
}

/// `TypedValue.RemoveItems`: drops every member of `set` (with its subtree) from the value.
pub fn remove_items(value: &Value, set: &FieldSet, schema: &ApplySchema) -> Value {
    remove_walk(value, set, schema, "")
}

fn remove_walk(value: &Value, set: &FieldSet, schema: &ApplySchema, path: &str) -> Value {
    match value {
        Value::Object(map) => {
            if map.is_empty() || schema.is_atomic_map(path) {
                return Value::Null;
            }
            let mut out = Map::new();
            for (k, v) in map {
                let pe = PathElement::Field(k.clone());
                if set.member(&pe) {
                    continue;
                }
                let v = match set.children(&pe) {
                    Some(sub) => remove_walk(v, sub, schema, &join(path, k)),
                    None => v.clone(),
                };
                out.insert(k.clone(), v);
            }
            if out.is_empty() {
                Value::Null
            } else {
                Value::Object(out)
            }
        }
        Value::Array(items) => {
            let list = schema.list_type(path);
            if items.is_empty() || *list == ListType::Atomic {
                return Value::Null;
            }
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let Ok(pe) = item_element(item, list, i) else {
                    out.push(item.clone());
                    continue;
                };
                if set.member(&pe) {
                    continue;
                }
                out.push(match set.children(&pe) {
                    Some(sub) => remove_walk(item, sub, schema, path),
                    None => item.clone(),
                });
            }
            if out.is_empty() {
                Value::Null
            } else {
                Value::Array(out)
            }
        }
        other => other.clone(),
    }
}

/// Drops `null` map values, as decoding into the Go types does.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn without_managed_fields(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    object
}

// ---------------------------------------------------------------------------------------------
// managedFields

/// Who owns a set of fields: the identity kube-apiserver builds with `BuildManagerIdentifier`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ManagerId {
    pub manager: String,
    pub operation: String,
    /// Empty for `Apply`, whose identity does not include the version.
    pub api_version: String,
    pub subresource: String,
}

impl ManagerId {
    fn apply(manager: &str) -> Self {
        Self {
            manager: manager.into(),
            operation: OPERATION_APPLY.into(),
            api_version: String::new(),
            subresource: String::new(),
        }
    }

    fn update(manager: &str, api_version: &str, subresource: Option<&str>) -> Self {
        Self {
            manager: manager.into(),
            operation: OPERATION_UPDATE.into(),
            api_version: api_version.into(),
            subresource: subresource.unwrap_or("").into(),
        }
    }

    /// The identity as Go's `json.Marshal` writes it, which is how upstream sorts managers.
    fn encoded(&self) -> String {
        let mut map = Map::new();
        for (k, v) in [
            ("manager", &self.manager),
            ("operation", &self.operation),
            ("apiVersion", &self.api_version),
        ] {
            if !v.is_empty() {
                map.insert(k.into(), Value::String(v.clone()));
            }
        }
        if !self.subresource.is_empty() {
            map.insert(
                "subresource".into(),
                Value::String(self.subresource.clone()),
            );
        }
        Value::Object(map).to_string()
    }

    /// `printManager`: `"kubectl"`, `"x" using v1`, `"x" with subresource "status" using v1`.
    pub fn printed(&self) -> String {
        let mut out = go_quote(&self.manager);
        if !self.subresource.is_empty() {
            out = format!("{out} with subresource {}", go_quote(&self.subresource));
        }
        if self.operation == OPERATION_UPDATE {
            out = format!("{out} using {}", self.api_version);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    api_version: String,
    time: Option<String>,
    set: FieldSet,
}

/// The decoded `metadata.managedFields` of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed {
    entries: BTreeMap<ManagerId, Entry>,
}

impl Managed {
    /// Decodes `metadata.managedFields` of `object`; anything malformed yields an error.
    pub fn of(object: &Value) -> Result<Managed, String> {
        match object.at("/metadata/managedFields") {
            None | Some(Value::Null) => Ok(Managed::default()),
            Some(list) => Managed::decode(list),
        }
    }

    /// Decodes a `managedFields` list (`DecodeManagedFields`).
    pub fn decode(list: &Value) -> Result<Managed, String> {
        let Value::Array(items) = list else {
            return Err("managedFields must be a list".into());
        };
        let mut managed = Managed::default();
        for item in items {
            let text = |k: &str| {
                item.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            if text("fieldsType") != FIELDS_TYPE_V1 {
                return Err(format!("invalid fieldsType {:?}", text("fieldsType")));
            }
            let operation = text("operation");
            let api_version = text("apiVersion");
            let id = match operation.as_str() {
                OPERATION_APPLY => ManagerId {
                    subresource: text("subresource"),
                    ..ManagerId::apply(&text("manager"))
                },
                OPERATION_UPDATE => {
                    let sub = text("subresource");
                    ManagerId::update(
                        &text("manager"),
                        &api_version,
                        Some(sub.as_str()).filter(|s| !s.is_empty()),
                    )
                }
                other => return Err(format!("invalid operation {other:?}")),
            };
            let set = match item.get("fieldsV1") {
                Some(v) => FieldSet::from_fields_v1(v)?,
                None => FieldSet::default(),
            };
            let time = item.get("time").and_then(Value::as_str).map(str::to_string);
            if managed
                .entries
                .insert(
                    id.clone(),
                    Entry {
                        api_version,
                        time,
                        set,
                    },
                )
                .is_some()
            {
                return Err(format!("duplicate entry for manager {}", id.encoded()));
            }
        }
        Ok(managed)
    }

    /// True when no manager owns anything.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The fields `manager` owns through an `Apply` entry.
    pub fn applied_by(&self, manager: &str) -> Option<&FieldSet> {
        self.entries.get(&ManagerId::apply(manager)).map(|e| &e.set)
    }

    /// The fields owned by the `Update` entry of `manager` at `api_version`.
    pub fn updated_by(&self, manager: &str, api_version: &str) -> Option<&FieldSet> {
        self.entries
            .get(&ManagerId::update(manager, api_version, None))
            .map(|e| &e.set)
    }

    /// The managers, encoded and sorted as kube-apiserver stores them: Apply before Update,
    /// then by time, manager, apiVersion and subresource.
    pub fn encode(&self) -> Value {
        let mut entries: Vec<(&ManagerId, &Entry)> = self.entries.iter().collect();
        entries.sort_by(|(a, ea), (b, eb)| {
            a.operation
                .cmp(&b.operation)
                .then_with(|| {
                    ea.time
                        .as_deref()
                        .unwrap_or("")
                        .cmp(eb.time.as_deref().unwrap_or(""))
                })
                .then_with(|| a.manager.cmp(&b.manager))
                .then_with(|| ea.api_version.cmp(&eb.api_version))
                .then_with(|| a.subresource.cmp(&b.subresource))
        });
        let list = entries
            .into_iter()
            .map(|(id, e)| {
                // k8s-openapi's field order, so a stored object survives a round trip unchanged.
                let mut m = Map::new();
                m.insert("apiVersion".into(), Value::String(e.api_version.clone()));
                m.insert("fieldsType".into(), Value::String(FIELDS_TYPE_V1.into()));
                m.insert("fieldsV1".into(), e.set.to_fields_v1());
                m.insert("manager".into(), Value::String(id.manager.clone()));
                m.insert("operation".into(), Value::String(id.operation.clone()));
                if !id.subresource.is_empty() {
                    m.insert("subresource".into(), Value::String(id.subresource.clone()));
                }
                if let Some(t) = &e.time {
                    m.insert("time".into(), Value::String(t.clone()));
                }
                Value::Object(m)
            })
            .collect();
        Value::Array(list)
    }

    fn sets(&self) -> impl Iterator<Item = (&ManagerId, &FieldSet)> {
        self.entries.iter().map(|(id, e)| (id, &e.set))
    }

    /// Strips server-owned metadata from every set (`stripMetaManager`).
    fn strip(&mut self) {
        for e in self.entries.values_mut() {
            e.set.remove_members(FieldSet::stripped());
        }
    }

    /// `Updater.update`: other managers lose what `live → new` removed, and what it modified
    /// or added unless that is a conflict and `force` is false.
    fn take_from_others(
        &mut self,
        cmp: &Comparison,
        except: Option<&ManagerId>,
        force: bool,
    ) -> Result<(), Conflicts> {
        // A create, or an object nobody manages yet: there is nobody to take from.
        if self.entries.keys().all(|id| Some(id) == except) {
            return Ok(());
        }
        let changed = cmp.modified.union(&cmp.added);
        let mut conflicts = Vec::new();
        for (id, e) in &self.entries {
            if Some(id) == except {
                continue;
            }
            let lost = e.set.intersection(&changed);
            if !lost.is_empty() {
                conflicts.push((id.clone(), lost));
            }
        }
        if !force && !conflicts.is_empty() {
            return Err(Conflicts::from_sets(conflicts));
        }
        for (id, lost) in conflicts {
            if let Some(e) = self.entries.get_mut(&id) {
                e.set.remove_members(&lost);
            }
        }
        if !cmp.removed.is_empty() {
            for (id, e) in self.entries.iter_mut() {
                if Some(id) != except {
                    e.set.remove_members(&cmp.removed);
                }
            }
        }
        self.entries
            .retain(|id, e| Some(id) == except || !e.set.is_empty());
        Ok(())
    }
}

fn time_string(now: &Time) -> Option<String> {
    serde_json::to_value(now)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

fn kind_and_version(object: &Value) -> (String, String) {
    let s = |k: &str| {
        object
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (s("kind"), s("apiVersion"))
}

fn set_managed_fields(object: &mut Value, managed: &Managed) {
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        if managed.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), managed.encode());
        }
    }
}

/// An empty object of the same kind, as `New()` converts it: top-level structs present but
/// empty, so that a create does not own `spec` itself.
fn empty_like(object: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(map) = object {
        for (k, v) in map {
            if v.is_object() {
                out.insert(k.clone(), Value::Object(Map::new()));
            }
        }
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------------
// Update entries

/// One ordinary write (create, update, patch) to record in `metadata.managedFields`.
#[derive(Debug, Clone, Copy)]
pub struct UpdateWrite<'a> {
    /// The stored object, or `None` on create.
    pub live: Option<&'a Value>,
    /// The object as the request made it (decoded and defaulted, before the server's own
    /// allocation); its `metadata.managedFields`, if a client set them, replace the live ones.
    pub request: &'a Value,
    pub manager: &'a str,
    /// `Some("status")` for a write to the status subresource.
    pub subresource: Option<&'a str>,
    pub now: &'a Time,
}

/// Sets `metadata.managedFields` of `new` after an ordinary write, as kube-apiserver's
/// `FieldManager.Update` does: the manager's `Update` entry gains what the write added or
/// modified (with a new time), every manager loses what it removed, and other managers lose
/// what it changed. A write that changes nothing leaves the entries exactly as they were.
pub fn record_update(write: &UpdateWrite<'_>, new: &mut Value) {
    let (kind, api_version) = kind_and_version(write.request);
    let (kind, api_version) = if kind.is_empty() {
        kind_and_version(new)
    } else {
        (kind, api_version)
    };
    let schema = ApplySchema::for_kind(&kind);
    let live_managed = write
        .live
        .map(|l| Managed::of(l).unwrap_or_default())
        .unwrap_or_default();
    let body_managed = match write.subresource {
        None => Managed::of(write.request).ok().filter(|m| !m.is_empty()),
        Some(_) => None,
    };
    let mut managed = body_managed.unwrap_or(live_managed);
    // `skipNonAppliedManager`: an existing object nobody tracks stays untracked until applied.
    if write.live.is_some() && managed.is_empty() {
        set_managed_fields(new, &managed);
        return;
    }
    // The comparison skips `metadata.managedFields`, so neither side is copied without them.
    let created;
    let live = match write.live {
        Some(l) => l,
        None => {
            created = empty_like(write.request);
            &created
        }
    };
    let mut cmp = compare(live, write.request, schema);
    let ignored = schema.reset_fields(write.subresource);
    cmp.exclude(&ignored);
    // Forced: an ordinary write always wins.
    let _ = managed.take_from_others(&cmp, None, true);
    let Comparison {
        removed,
        modified: mut taken,
        added,
    } = cmp;
    taken.union_with(added);
    taken.remove_members(&removed);
    taken.remove_recursive(&ignored);
    taken.remove_members(FieldSet::stripped());
    if !taken.is_empty() {
        let id = ManagerId::update(write.manager, &api_version, write.subresource);
        let entry = managed.entries.entry(id).or_insert_with(|| Entry {
            api_version: api_version.clone(),
            time: None,
            set: FieldSet::default(),
        });
        entry.time = time_string(write.now);
        entry.set.union_with(taken);
    }
    managed.strip();
    managed.cap_update_managers();
    set_managed_fields(new, &managed);
}

/// Most `Update` entries an object keeps (`DefaultMaxUpdateManagers`); older ones are merged.
pub const MAX_UPDATE_MANAGERS: usize = 10;
/// The manager the merged old `Update` entries are recorded as.
pub const ANCIENT_CHANGES: &str = "ancient-changes";

impl Managed {
    /// `capManagersManager`: when more than [`MAX_UPDATE_MANAGERS`] managers updated the
    /// object, the oldest (by time in seconds, then identity) are merged, per API version,
    /// into an `ancient-changes` entry until no more than the cap remain.
    fn cap_update_managers(&mut self) {
        let mut updaters: Vec<ManagerId> = self
            .entries
            .keys()
            .filter(|id| id.operation == OPERATION_UPDATE)
            .cloned()
            .collect();
        if updaters.len() <= MAX_UPDATE_MANAGERS {
            return;
        }
        let seconds = |id: &ManagerId| {
            self.entries
                .get(id)
                .and_then(|e| e.time.as_deref())
                .and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok())
                .map_or(0, |t| t.as_second())
        };
        updaters.sort_by_cached_key(|id| (seconds(id), id.encoded()));
        let mut first_of_version: BTreeMap<String, ManagerId> = BTreeMap::new();
        let mut length = updaters.len();
        for id in updaters {
            if length <= MAX_UPDATE_MANAGERS {
                break;
            }
            let Some(entry) = self.entries.get(&id).cloned() else {
                continue;
            };
            let version = entry.api_version.clone();
            let Some(first) = first_of_version.get(&version) else {
                first_of_version.insert(version, id);
                continue;
            };
            let bucket = ManagerId::update(ANCIENT_CHANGES, &version, None);
            if !self.entries.contains_key(&bucket)
                && let Some(moved) = self.entries.remove(first)
            {
                self.entries.insert(bucket.clone(), moved);
            }
            if let Some(target) = self.entries.get_mut(&bucket) {
                target.set = entry.set.union(&target.set);
                // The bucket takes the time of the update merged last, the more recent one.
                target.time = entry.time.clone();
            }
            self.entries.remove(&id);
            length -= 1;
        }
    }
}

/// The manager kube-apiserver uses when a request names none: the user agent up to its
/// first `/` (`kubectl/v1.32.0 (linux/amd64) …` → `kubectl`).
pub fn manager_from_user_agent(user_agent: &str) -> String {
    user_agent
        .split('/')
        .next()
        .unwrap_or("")
        .chars()
        .take(128)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Apply

/// One conflicting field: its owner and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: ManagerId,
    pub path: FieldPath,
}

/// Apply conflicts, printed as kube-apiserver's `NewConflictError` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflicts(pub Vec<Conflict>);

impl Conflicts {
    fn from_sets(sets: Vec<(ManagerId, FieldSet)>) -> Conflicts {
        let mut sets = sets;
        sets.sort_by_key(|(id, _)| id.encoded());
        Conflicts(
            sets.into_iter()
                .flat_map(|(manager, set)| {
                    set.paths().into_iter().map(move |path| Conflict {
                        manager: manager.clone(),
                        path,
                    })
                })
                .collect(),
        )
    }

    /// `Apply failed with 1 conflict: conflict with "x" using v1: .spec.type`, or the
    /// several-conflicts form with one `conflicts with …:` block per manager.
    pub fn message(&self) -> String {
        if let [only] = self.0.as_slice() {
            return format!(
                "Apply failed with 1 conflict: conflict with {}: {}",
                only.manager.printed(),
                only.path
            );
        }
        let mut by_manager: BTreeMap<String, (&ManagerId, Vec<&FieldPath>)> = BTreeMap::new();
        for c in &self.0 {
            by_manager
                .entry(c.manager.encoded())
                .or_insert((&c.manager, Vec::new()))
                .1
                .push(&c.path);
        }
        let mut lines = Vec::new();
        for (manager, paths) in by_manager.values() {
            lines.push(format!("conflicts with {}:", manager.printed()));
            lines.extend(paths.iter().map(|p| format!("- {p}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            self.0.len(),
            lines.join("\n")
        )
    }

    /// The 409 `Conflict` Status with one `FieldManagerConflict` cause per field.
    pub fn status(&self) -> Status {
        let causes = self
            .0
            .iter()
            .map(|c| StatusCause {
                reason: CAUSE_FIELD_MANAGER_CONFLICT.into(),
                message: format!("conflict with {}", c.manager.printed()),
                field: c.path.to_string(),
            })
            .collect();
        Status::failure(
            409,
            "Conflict",
            self.message(),
            Some(StatusDetails {
                causes,
                ..Default::default()
            }),
        )
    }
}

impl fmt::Display for Conflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Why an apply cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// 409 with per-field causes.
    #[error("{0}")]
    Conflicts(Conflicts),
    /// 400 BadRequest with this message.
    #[error("{0}")]
    BadRequest(String),
    /// 500 InternalError with this detail (the config does not fit the schema).
    #[error("{0}")]
    Internal(String),
}

/// The result of merging an applied configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyOutcome {
    /// The merged object, with its new `metadata.managedFields`, ready for the update (or
    /// create) pipeline.
    pub object: Value,
    /// False when the merge changed no value (ownership may still have changed).
    pub changed: bool,
}

/// The 422 a server-side apply without `fieldManager` gets (`ValidatePatchOptions`).
pub fn field_manager_required() -> FieldErrors {
    let mut errors = FieldErrors::new();
    errors.push(FieldError::required(
        "fieldManager",
        "is required for apply patch",
    ));
    errors
}

/// Merges `config` (what `manager` applies) into `live` (the stored object, or `None` to
/// create), as `FieldManager.Apply` does: the config's fields are set; fields the manager
/// applied before and no longer applies are removed unless another manager owns them; other
/// managers' fields whose values change are conflicts unless `force`, which transfers them.
/// With `subresource` (`Some("status")`) the manager's entry is the subresource's and the
/// fields that subresource never writes (`spec`) are neither owned nor changed.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    subresource: Option<&str>,
    force: bool,
    now: &Time,
) -> Result<ApplyOutcome, ApplyError> {
    if config
        .at("/metadata/managedFields")
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApplyError::BadRequest(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let (kind, api_version) = kind_and_version(config);
    let schema = ApplySchema::for_kind(&kind);
    validate_config(config, schema, "", &mut String::new()).map_err(|e| {
        let (group, version) = api_version
            .rsplit_once('/')
            .unwrap_or(("", api_version.as_str()));
        ApplyError::Internal(format!(
            "failed to create typed patch object ({group}/{version}, Kind={kind}): {e}"
        ))
    })?;
    let mut managed = live
        .map(|l| Managed::of(l).unwrap_or_default())
        .unwrap_or_default();
    let live = match live {
        Some(l) => without_managed_fields(l),
        None => empty_like(config),
    };
    let ignored = schema.reset_fields(subresource);
    // `skipNonAppliedManager`: what an untracked object holds belongs to `before-first-apply`.
    if managed.is_empty() && live.at("/metadata/uid").is_some() {
        let record = UpdateWrite {
            live: None,
            request: &live,
            manager: BEFORE_FIRST_APPLY_MANAGER,
            subresource: None,
            now,
        };
        let mut scratch = live.clone();
        record_update(&record, &mut scratch);
        managed = Managed::of(&scratch).unwrap_or_default();
    }

    let applier = ManagerId {
        subresource: subresource.unwrap_or("").into(),
        ..ManagerId::apply(manager)
    };
    let merged = merge(&live, config, schema);
    let last = managed.entries.get(&applier).map(|e| e.set.clone());
    let previous_time = managed.entries.get(&applier).and_then(|e| e.time.clone());
    let applied = field_set(config, schema).recursive_difference(&ignored);
    managed.entries.insert(
        applier.clone(),
        Entry {
            api_version: api_version.clone(),
            time: None,
            set: applied,
        },
    );
    let mut result = match last {
        Some(last) if !last.is_empty() => prune(&merged, &managed, &last, schema),
        _ => merged,
    };

    let mut cmp = compare(&live, &result, schema);
    cmp.exclude(&ignored);
    managed
        .take_from_others(&cmp, Some(&applier), force)
        .map_err(ApplyError::Conflicts)?;

    strip_nulls(&mut result);
    let changed = result != live;
    if let Some(e) = managed.entries.get_mut(&applier) {
        e.time = if changed {
            time_string(now)
        } else {
            previous_time
        };
    }
    managed.strip();
    if manager == KUBECTL_APPLY_MANAGER && last_applied(&result).is_some() {
        set_last_applied(&mut result, config);
    }
    set_managed_fields(&mut result, &managed);
    Ok(ApplyOutcome {
        object: result,
        changed,
    })
}

/// `Updater.prune`: removes what the manager applied last time and no longer applies, unless
/// some manager (the applier's new config included) still owns it.
fn prune(merged: &Value, managed: &Managed, last: &FieldSet, schema: &ApplySchema) -> Value {
    let named = |s: &FieldSet| s.ensure_named_fields(schema, "");
    let last = named(last);
    let pruned = remove_items(merged, &last, schema);
    // addBackOwnedItems
    let owned = managed
        .sets()
        .fold(FieldSet::default(), |acc, (_, s)| acc.union(s));
    let merged_set = named(&field_set(merged, schema));
    let pruned_set = named(&field_set(&pruned, schema));
    let pruned = remove_items(
        merged,
        &merged_set.difference(&pruned_set.union(&named(&owned))),
        schema,
    );
    // addBackDanglingItems
    let pruned_set = named(&field_set(&pruned, schema));
    remove_items(
        merged,
        &merged_set.difference(&pruned_set).intersection(&last),
        schema,
    )
}

fn last_applied(object: &Value) -> Option<&str> {
    object
        .at("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED_ANNOTATION))
        .and_then(Value::as_str)
}

/// `lastAppliedUpdater`: kubectl's server-side apply keeps an existing client-side apply
/// annotation equal to what it applied, so a later client-side apply diffs correctly.
fn set_last_applied(object: &mut Value, config: &Value) {
    let mut copy = config.clone();
    if let Some(annotations) = copy
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    let text = format!("{}\n", sorted(&copy));
    if let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.insert(LAST_APPLIED_ANNOTATION.into(), Value::String(text));
    }
}

/// Go's `json.Marshal` of a map: keys sorted.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;
    use serde_json::json;

    use super::*;

    fn at(second: i64) -> Time {
        Time(Timestamp::from_second(1_700_000_000 + second).unwrap())
    }

    /// The body of `kubectl apply --server-side -f my-nginx-svc.yaml` (§8.14).
    fn nginx() -> Value {
        json!({"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":"nginx"},"name":"my-nginx-svc","namespace":"default"},
               "spec":{"ports":[{"port":80,"protocol":"TCP","targetPort":80}],"selector":{"app":"nginx"},"type":"LoadBalancer"}})
    }

    /// What the create pipeline adds to an applied Service: identity and allocations.
    fn stored(mut object: Value) -> Value {
        object["metadata"]["uid"] = json!("u-1");
        object["metadata"]["resourceVersion"] = json!("7");
        object["spec"]["clusterIP"] = json!("172.21.0.10");
        object["spec"]["ports"][0]["nodePort"] = json!(30080);
        object["status"] = json!({"loadBalancer":{}});
        object
    }

    fn managed(object: &Value) -> Managed {
        Managed::of(object).unwrap()
    }

    fn applied(
        live: Option<&Value>,
        config: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, ApplyError> {
        apply(live, config, manager, None, force, &at(10)).map(|o| o.object)
    }

    fn updated(live: &Value, request: &Value, manager: &str) -> Value {
        let mut new = request.clone();
        let write = UpdateWrite {
            live: Some(live),
            request,
            manager,
            subresource: None,
            now: &at(20),
        };
        record_update(&write, &mut new);
        new
    }

    #[test]
    fn applied_set_of_the_kubectl_body_encodes_as_upstream() {
        let created = applied(None, &nginx(), "kubectl", false).unwrap();
        assert_eq!(
            created["metadata"]["managedFields"],
            json!([{"apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{
                "f:metadata":{"f:labels":{"f:app":{}}},
                "f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}},
                          "f:selector":{},"f:type":{}}},
                "manager":"kubectl","operation":"Apply","time":"2023-11-14T22:13:30Z"}])
        );
        assert_eq!(created["spec"], nginx()["spec"]);
    }

    #[test]
    fn fields_v1_round_trips() {
        let set = field_set(&nginx(), ApplySchema::for_kind("Service"));
        let encoded = set.to_fields_v1();
        assert_eq!(FieldSet::from_fields_v1(&encoded).unwrap(), set);
    }

    #[test]
    fn missing_protocol_takes_the_tcp_default_in_the_key() {
        let mut config = nginx();
        config["spec"]["ports"] = json!([{"port":80,"targetPort":80}]);
        let paths: Vec<String> = field_set(&config, ApplySchema::for_kind("Service"))
            .paths()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            paths.contains(&".spec.ports[port=80,protocol=\"TCP\"].targetPort".to_string()),
            "{paths:?}"
        );
    }

    #[test]
    fn port_without_its_key_is_an_internal_error() {
        let mut config = nginx();
        config["spec"]["ports"] = json!([{"targetPort":80}]);
        assert_eq!(
            applied(None, &config, "kubectl", false).unwrap_err(),
            ApplyError::Internal(
                "failed to create typed patch object (/v1, Kind=Service): .spec.ports: element 0: associative list with keys has an element that omits key field \"port\" (and doesn't have default value)".into()
            )
        );
    }

    #[test]
    fn config_with_managed_fields_is_a_bad_request() {
        let mut config = nginx();
        config["metadata"]["managedFields"] = json!([]);
        assert_eq!(
            applied(None, &config, "kubectl", false).unwrap_err(),
            ApplyError::BadRequest("metadata.managedFields must be nil".into())
        );
    }

    #[test]
    fn removing_fields_from_the_config_drops_them_but_keeps_allocated_ones() {
        let mut first = nginx();
        first["metadata"]["labels"]["tier"] = json!("web");
        first["spec"]["ports"] = json!([{"port":80,"protocol":"TCP","targetPort":80},{"port":443,"protocol":"TCP","targetPort":443}]);
        let live = stored(applied(None, &first, "kubectl", false).unwrap());
        let again = applied(Some(&live), &nginx(), "kubectl", false).unwrap();
        assert_eq!(again["metadata"]["labels"], json!({"app":"nginx"}));
        assert_eq!(
            again["spec"]["ports"],
            json!([{"port":80,"protocol":"TCP","targetPort":80,"nodePort":30080}])
        );
        assert_eq!(again["spec"]["clusterIP"], json!("172.21.0.10"));
    }

    #[test]
    fn a_field_another_manager_also_owns_survives_its_removal_from_the_config() {
        let mut first = nginx();
        first["metadata"]["labels"]["team"] = json!("a");
        let live = stored(applied(None, &first, "kubectl", false).unwrap());
        let mut request = live.clone();
        request["metadata"]["labels"]["env"] = json!("prod");
        request["metadata"]["labels"]["team"] = json!("b");
        let labelled = updated(&live, &request, "kubectl-label");
        let again = applied(Some(&labelled), &nginx(), "kubectl", false).unwrap();
        assert_eq!(
            again["metadata"]["labels"],
            json!({"app":"nginx","team":"b","env":"prod"})
        );
    }

    #[test]
    fn reapplying_the_same_config_changes_nothing() {
        let live = stored(applied(None, &nginx(), "kubectl", false).unwrap());
        let outcome = apply(Some(&live), &nginx(), "kubectl", None, false, &at(99)).unwrap();
        assert!(!outcome.changed);
        assert_eq!(outcome.object, live);
    }

    fn changed_by_client_side_apply() -> Value {
        let live = stored(applied(None, &nginx(), "kubectl", false).unwrap());
        let mut request = live.clone();
        request["spec"]["ports"][0]["targetPort"] = json!(8080);
        request["spec"]["type"] = json!("NodePort");
        updated(&live, &request, "kubectl-client-side-apply")
    }

    #[test]
    fn an_update_takes_ownership_of_what_it_changed() {
        let live = changed_by_client_side_apply();
        let m = managed(&live);
        let owned: Vec<String> = m
            .updated_by("kubectl-client-side-apply", "v1")
            .unwrap()
            .paths()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            owned,
            [
                ".spec.type",
                ".spec.ports[port=80,protocol=\"TCP\"].targetPort"
            ]
        );
        let applier: Vec<String> = m
            .applied_by("kubectl")
            .unwrap()
            .paths()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            !applier
                .iter()
                .any(|p| p.ends_with("targetPort") || p == ".spec.type"),
            "{applier:?}"
        );
        assert_eq!(
            live["metadata"]["managedFields"][1]["time"],
            json!("2023-11-14T22:13:40Z")
        );
    }

    #[test]
    fn applying_over_another_managers_value_is_a_conflict() {
        let live = changed_by_client_side_apply();
        let mut config = nginx();
        config["spec"]["type"] = json!("NodePort");
        let Err(ApplyError::Conflicts(conflicts)) = applied(Some(&live), &config, "kubectl", false)
        else {
            panic!("expected a conflict")
        };
        assert_eq!(
            conflicts.message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .spec.ports[port=80,protocol=\"TCP\"].targetPort"
        );
        let status = serde_json::to_value(conflicts.status()).unwrap();
        assert_eq!(
            status["details"],
            json!({"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-client-side-apply\" using v1",
                              "field":".spec.ports[port=80,protocol=\"TCP\"].targetPort"}]})
        );
        assert_eq!(status["code"], json!(409));
        assert_eq!(status["reason"], json!("Conflict"));
    }

    #[test]
    fn several_conflicts_are_listed_per_manager() {
        let live = changed_by_client_side_apply();
        let Err(ApplyError::Conflicts(conflicts)) =
            applied(Some(&live), &nginx(), "kubectl", false)
        else {
            panic!("expected conflicts")
        };
        assert_eq!(
            conflicts.message(),
            "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using v1:\n- .spec.type\n- .spec.ports[port=80,protocol=\"TCP\"].targetPort"
        );
    }

    #[test]
    fn force_transfers_ownership_to_the_applier() {
        let live = changed_by_client_side_apply();
        let forced = applied(Some(&live), &nginx(), "kubectl", true).unwrap();
        assert_eq!(forced["spec"]["ports"][0]["targetPort"], json!(80));
        assert_eq!(forced["spec"]["type"], json!("LoadBalancer"));
        let m = managed(&forced);
        assert!(m.updated_by("kubectl-client-side-apply", "v1").is_none());
        assert_eq!(
            m.applied_by("kubectl"),
            Some(
                &field_set(&nginx(), ApplySchema::for_kind("Service"))
                    .difference(FieldSet::stripped())
            )
        );
    }

    #[test]
    fn same_value_from_another_manager_is_shared_not_a_conflict() {
        let live = changed_by_client_side_apply();
        let mut config = json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"my-nginx-svc"},"spec":{"type":"NodePort"}});
        let shared = applied(Some(&live), &config, "other", false).unwrap();
        let m = managed(&shared);
        let spec_type = [
            PathElement::Field("spec".into()),
            PathElement::Field("type".into()),
        ];
        assert!(m.applied_by("other").unwrap().has(&spec_type));
        assert!(
            m.updated_by("kubectl-client-side-apply", "v1")
                .unwrap()
                .has(&spec_type)
        );
        config["spec"]["type"] = json!("ClusterIP");
        assert!(matches!(
            applied(Some(&shared), &config, "other", false),
            Err(ApplyError::Conflicts(_))
        ));
    }

    #[test]
    fn create_records_one_update_entry_without_server_owned_metadata() {
        let request = json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"default","labels":{"app":"a"}},
                             "spec":{"ports":[{"port":80,"protocol":"TCP","targetPort":80}],"type":"ClusterIP"},"status":{"loadBalancer":{}}});
        let mut new = request.clone();
        new["metadata"]["uid"] = json!("u");
        let write = UpdateWrite {
            live: None,
            request: &request,
            manager: "kubectl-create",
            subresource: None,
            now: &at(0),
        };
        record_update(&write, &mut new);
        assert_eq!(
            new["metadata"]["managedFields"],
            json!([{"apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{
                "f:metadata":{"f:labels":{".":{},"f:app":{}}},
                "f:spec":{"f:ports":{".":{},"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}},"f:type":{}}},
                "manager":"kubectl-create","operation":"Update","time":"2023-11-14T22:13:20Z"}])
        );
    }

    #[test]
    fn a_write_that_changes_nothing_keeps_managed_fields_byte_for_byte() {
        let live = changed_by_client_side_apply();
        let again = updated(&live, &live, "kubectl-edit");
        assert_eq!(again, live);
    }

    #[test]
    fn more_than_ten_updaters_merge_the_oldest_into_ancient_changes() {
        let mut live = stored(applied(None, &nginx(), "kubectl", false).unwrap());
        // Twelve managers each set their own label, one second apart.
        for i in 0..12 {
            let mut request = live.clone();
            request["metadata"]["labels"][format!("l{i}")] = json!("x");
            let mut new = request.clone();
            let manager = format!("m{i:02}");
            let write = UpdateWrite {
                live: Some(&live),
                request: &request,
                manager: &manager,
                subresource: None,
                now: &at(10 + i),
            };
            record_update(&write, &mut new);
            live = new;
        }
        let entries = live["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .clone();
        let managers: Vec<&str> = entries
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        let updates = entries
            .iter()
            .filter(|e| e["operation"] == "Update")
            .count();
        assert_eq!(updates, MAX_UPDATE_MANAGERS, "{managers:?}");
        // m00..m02 went into the bucket (m00 moved, m01 and m02 merged): m03..m11 remain.
        assert!(managers.contains(&"kubectl"), "{managers:?}");
        for gone in ["m00", "m01", "m02"] {
            assert!(!managers.contains(&gone), "{managers:?}");
        }
        let bucket = entries
            .iter()
            .find(|e| e["manager"] == ANCIENT_CHANGES)
            .unwrap();
        assert_eq!(
            bucket["time"],
            json!("2023-11-14T22:13:32Z"),
            "the time of m02"
        );
        let labels = &bucket["fieldsV1"]["f:metadata"]["f:labels"];
        for label in ["f:l0", "f:l1", "f:l2"] {
            assert!(labels.get(label).is_some(), "{bucket}");
        }
    }

    #[test]
    fn status_writes_record_the_subresource() {
        let live = stored(applied(None, &nginx(), "kubectl", false).unwrap());
        let mut request = live.clone();
        request["status"] = json!({"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}});
        let mut new = request.clone();
        let write = UpdateWrite {
            live: Some(&live),
            request: &request,
            manager: "lb",
            subresource: Some("status"),
            now: &at(5),
        };
        record_update(&write, &mut new);
        let entry = &new["metadata"]["managedFields"][1];
        assert_eq!(entry["subresource"], json!("status"));
        assert_eq!(
            entry["fieldsV1"],
            json!({"f:status":{"f:loadBalancer":{"f:ingress":{}}}})
        );
    }

    #[test]
    fn untracked_objects_get_a_before_first_apply_entry() {
        let mut live = stored(nginx());
        live["metadata"]["labels"]["extra"] = json!("x");
        let outcome = applied(Some(&live), &nginx(), "kubectl", false).unwrap();
        let m = managed(&outcome);
        let extra = [
            PathElement::Field("metadata".into()),
            PathElement::Field("labels".into()),
            PathElement::Field("extra".into()),
        ];
        assert!(
            m.updated_by(BEFORE_FIRST_APPLY_MANAGER, "v1")
                .unwrap()
                .has(&extra)
        );
        assert_eq!(outcome["metadata"]["labels"]["extra"], json!("x"));
    }

    #[test]
    fn manager_defaults_to_the_user_agent_prefix() {
        assert_eq!(
            manager_from_user_agent("kubectl/v1.32.0 (linux/amd64) kubernetes/abc"),
            "kubectl"
        );
    }
}
