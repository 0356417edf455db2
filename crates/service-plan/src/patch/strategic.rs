//! Strategic merge patch (`application/strategic-merge-patch+json`), ported from
//! `StrategicMergeMapPatch` in k8s.io/apimachinery/pkg/util/strategicpatch: lists named in a
//! [`PatchSchema`] merge element by element, every other list is replaced whole, and the
//! `$patch`, `$setElementOrder`, `$deleteFromPrimitiveList` and `$retainKeys` directives are
//! applied and never stored.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::{PatchError, go_fmt, go_type_name, json_type_name};

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

/// `mergepatch.ErrBadPatchFormatForPrimitiveList`.
const ERR_BAD_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
/// `mergepatch.ErrBadPatchFormatForRetainKeys`.
const ERR_BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
/// `mergepatch.ErrBadPatchFormatForSetElementOrderList`.
const ERR_BAD_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";
/// `mergepatch.ErrNoListOfLists`.
const ERR_NO_LIST_OF_LISTS: &str = "lists of lists are not supported";

/// How a list field is patched; mirrors the `patchStrategy`/`patchMergeKey` struct tags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ListStrategy {
    /// No merge strategy: the patch's list replaces the live one.
    #[default]
    Replace,
    /// `patchStrategy=merge` on a list of objects, matched by this merge key.
    MergeByKey(String),
    /// `patchStrategy=merge` on a list of scalars: a set union (e.g. `metadata.finalizers`).
    MergeSet,
}

impl ListStrategy {
    fn merge_key(&self) -> &str {
        match self {
            Self::MergeByKey(key) => key,
            Self::Replace | Self::MergeSet => "",
        }
    }
}

/// Which lists of a kind merge, keyed by their dotted field path (`spec.ports`,
/// `spec.template.spec.containers.env`); list elements do not add a path segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchSchema {
    lists: BTreeMap<String, ListStrategy>,
}

impl PatchSchema {
    /// A schema in which every list is replaced whole (plain merge semantics).
    pub fn empty() -> Self {
        Self::default()
    }

    /// The schema kube-apiserver's Go struct tags give `kind` (core/v1, apps/v1,
    /// discovery.k8s.io/v1); unknown kinds get [`PatchSchema::empty`].
    pub fn for_kind(kind: &str) -> Self {
        let base = Self::empty()
            .with_merge_key("metadata.ownerReferences", "uid")
            .with_set_merge("metadata.finalizers");
        match kind {
            "Service" => base
                .with_merge_key("spec.ports", "port")
                .with_merge_key("status.conditions", "type"),
            "Pod" => base
                .with_pod_spec("spec")
                .with_merge_key("status.conditions", "type")
                .with_merge_key("status.podIPs", "ip")
                .with_merge_key("status.hostIPs", "ip"),
            "Deployment" | "ReplicaSet" => base
                .with_pod_spec("spec.template.spec")
                .with_merge_key("status.conditions", "type"),
            "Node" => base
                .with_set_merge("spec.podCIDRs")
                .with_merge_key("status.addresses", "type")
                .with_merge_key("status.conditions", "type"),
            "Namespace" => base.with_merge_key("status.conditions", "type"),
            "Endpoints" | "EndpointSlice" | "Event" => base,
            _ => Self::empty(),
        }
    }

    /// Declares that the list at `path` merges its objects by `key`.
    pub fn with_merge_key(mut self, path: &str, key: &str) -> Self {
        self.lists
            .insert(path.to_owned(), ListStrategy::MergeByKey(key.to_owned()));
        self
    }

    /// Declares that the scalar list at `path` merges as a set.
    pub fn with_set_merge(mut self, path: &str) -> Self {
        self.lists.insert(path.to_owned(), ListStrategy::MergeSet);
        self
    }

    /// Every list that does not replace, with its dotted path.
    pub fn lists(&self) -> impl Iterator<Item = (&str, &ListStrategy)> {
        self.lists
            .iter()
            .map(|(path, strategy)| (path.as_str(), strategy))
    }

    /// How the list at the dotted `path` is patched.
    pub fn list_strategy(&self, path: &str) -> &ListStrategy {
        static REPLACE: ListStrategy = ListStrategy::Replace;
        self.lists.get(path).unwrap_or(&REPLACE)
    }

    fn with_pod_spec(mut self, prefix: &str) -> Self {
        for containers in ["containers", "initContainers", "ephemeralContainers"] {
            let list = format!("{prefix}.{containers}");
            self = self
                .with_merge_key(&list, "name")
                .with_merge_key(&format!("{list}.ports"), "containerPort")
                .with_merge_key(&format!("{list}.env"), "name")
                .with_merge_key(&format!("{list}.volumeMounts"), "mountPath")
                .with_merge_key(&format!("{list}.volumeDevices"), "devicePath");
        }
        self.with_merge_key(&format!("{prefix}.volumes"), "name")
            .with_merge_key(&format!("{prefix}.imagePullSecrets"), "name")
            .with_merge_key(&format!("{prefix}.hostAliases"), "ip")
            .with_merge_key(
                &format!("{prefix}.topologySpreadConstraints"),
                "topologyKey",
            )
            .with_merge_key(&format!("{prefix}.resourceClaims"), "name")
            .with_merge_key(&format!("{prefix}.schedulingGates"), "name")
    }
}

/// Applies the strategic merge patch `patch` to `doc` using `schema`.
///
/// Mirrors `strategicpatch.StrategicMergeMapPatch` with kube-apiserver's error mapping
/// (`interpretStrategicMergePatchError`): malformed directive lists are
/// [`PatchError::BadRequest`], lists of lists [`PatchError::Unprocessable`], and the
/// library's other errors (missing merge key, unknown `$patch` value) [`PatchError::Internal`].
pub fn apply(doc: &Value, patch: &Value, schema: &PatchSchema) -> Result<Value, PatchError> {
    let patch = match patch {
        Value::Object(map) => map.clone(),
        // Go decodes `null` into an empty patch map.
        Value::Null => Map::new(),
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_type_name(other)
            )));
        }
    };
    let original = match doc {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    match merge_map(original, patch, "", schema)? {
        Merged::Map(map) => Ok(Value::Object(map)),
        Merged::Delete => Ok(Value::Object(Map::new())),
    }
}

/// The outcome of merging into a map: a map, or `$patch: delete` removing it.
enum Merged {
    Map(Map<String, Value>),
    Delete,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn internal(message: String) -> PatchError {
    PatchError::Internal(message)
}

/// `mergepatch.ErrNoMergeKey`.
fn err_no_merge_key(map: &Map<String, Value>, key: &str) -> PatchError {
    internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_fmt(&Value::Object(map.clone()))
    ))
}

/// `mergepatch.ErrBadArgType` for an expected Go type name.
fn err_bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    internal(format!(
        "expected a {expected}, but received a {}",
        go_type_name(actual)
    ))
}

/// `mergepatch.ErrBadPatchType`, whose `%s` verb prints non-strings Go's way.
fn err_bad_patch_type(directive: &Value, map: &Map<String, Value>) -> PatchError {
    let shown = match directive {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => format!("%!s(float64={n})"),
        Value::Number(n) => format!("%!s(int64={n})"),
        Value::Bool(b) => format!("%!s(bool={b})"),
        other => go_fmt(other),
    };
    internal(format!(
        "unknown patch type: {shown} in map: {}",
        go_fmt(&Value::Object(map.clone()))
    ))
}

/// Splits `$prefix/field` into `field`, like `extractKey`.
fn extract_key<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Some(field),
        _ => None,
    }
}

/// `mergeMap`: directives first, then every remaining patch key in order.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    path: &str,
    schema: &PatchSchema,
) -> Result<Merged, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
        return match directive.as_str() {
            Some(REPLACE_DIRECTIVE) => {
                patch.shift_remove(DIRECTIVE_MARKER);
                // The rest of the patch is the new map; its own directives still apply.
                merge_map(Map::new(), patch, path, schema)
            }
            Some(DELETE_DIRECTIVE) => Ok(Merged::Delete),
            _ => Err(err_bad_patch_type(directive, &patch)),
        };
    }

    apply_retain_keys(&mut original, &mut patch)?;
    apply_set_element_order(&mut original, &mut patch, path, schema)?;

    for (key, patch_value) in patch {
        let (field, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            let field = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
                .ok_or_else(|| PatchError::BadRequest(ERR_BAD_PRIMITIVE_LIST.to_owned()))?;
            (field.to_owned(), true)
        } else if key.starts_with('$') {
            // Unknown directives are dropped: keys starting with `$` never reach storage.
            continue;
        } else {
            (key, false)
        };

        if patch_value.is_null() {
            original.shift_remove(&field);
            continue;
        }
        let field_path = join(path, &field);
        let Some(current) = original.get_mut(&field) else {
            if is_delete_list {
                continue;
            }
            if let Some(value) = fresh(patch_value, &field_path, schema)? {
                original.insert(field, value);
            }
            continue;
        };
        match (current, patch_value) {
            (Value::Object(current_map), Value::Object(patch_map)) => {
                let taken = std::mem::take(current_map);
                match merge_map(taken, patch_map, &field_path, schema)? {
                    Merged::Map(merged) => *current_map = merged,
                    Merged::Delete => {
                        original.shift_remove(&field);
                    }
                }
            }
            (Value::Array(current_list), Value::Array(patch_list)) => {
                let taken = std::mem::take(current_list);
                let strategy = schema.list_strategy(&field_path);
                *current_list = merge_list(
                    taken,
                    patch_list,
                    &field_path,
                    strategy,
                    is_delete_list,
                    schema,
                )?;
            }
            // A deletion list for a field of another type has nothing to delete from.
            (_, _) if is_delete_list => {}
            (current, patch_value) => match fresh(patch_value, &field_path, schema)? {
                Some(value) => *current = value,
                None => {
                    original.shift_remove(&field);
                }
            },
        }
    }
    Ok(Merged::Map(original))
}

/// A patch value inserted where the live object has nothing to merge with: nested
/// directives are applied against nothing and nulls dropped (`discardNullValuesFromPatch`).
/// `None` means the value deletes itself (`$patch: delete`).
fn fresh(value: Value, path: &str, schema: &PatchSchema) -> Result<Option<Value>, PatchError> {
    match value {
        Value::Object(map) => Ok(match merge_map(Map::new(), map, path, schema)? {
            Merged::Map(merged) => Some(Value::Object(merged)),
            Merged::Delete => None,
        }),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                // Directive elements have nothing to act on in a new list.
                if item
                    .as_object()
                    .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
                {
                    continue;
                }
                if let Some(value) = fresh(item, path, schema)? {
                    out.push(value);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        other => Ok(Some(other)),
    }
}

/// `applyRetainKeysDirective`: clears live keys missing from `$retainKeys`.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(PatchError::BadRequest(ERR_BAD_RETAIN_KEYS.to_owned()));
    };
    let retained = |key: &str| retain.iter().any(|v| v.as_str() == Some(key));
    for (key, value) in patch.iter() {
        if value.is_null()
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !retained(key) {
            return Err(PatchError::BadRequest(ERR_BAD_RETAIN_KEYS.to_owned()));
        }
    }
    original.retain(|key, _| retained(key));
    Ok(())
}

/// `mergePatchIntoOriginal`: merges each list named by a `$setElementOrder/<list>` directive
/// and puts the result in the directive's order, interleaving server-only elements by
/// their live position.
fn apply_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    path: &str,
    schema: &PatchSchema,
) -> Result<(), PatchError> {
    let directive_keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    for directive_key in directive_keys {
        let Some(order) = patch.shift_remove(&directive_key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(err_bad_arg_type("[]interface {}", &order));
        };
        let field = extract_key(&directive_key, SET_ELEMENT_ORDER_PREFIX)
            .ok_or_else(|| PatchError::BadRequest(ERR_BAD_SET_ELEMENT_ORDER.to_owned()))?
            .to_owned();
        let original_list = match original.get(&field) {
            None => None,
            Some(Value::Array(items)) => Some(items.clone()),
            Some(other) => return Err(err_bad_arg_type("[]interface {}", other)),
        };
        let patch_list = match patch.get(&field) {
            None => None,
            Some(Value::Array(items)) => Some(items.clone()),
            Some(other) => return Err(err_bad_arg_type("[]interface {}", other)),
        };
        let field_path = join(path, &field);
        let strategy = schema.list_strategy(&field_path);
        let merge_key = strategy.merge_key();
        validate_patch_with_set_order_list(
            patch_list.as_deref().unwrap_or_default(),
            &order,
            merge_key,
        )?;

        let server_order = original_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list) {
            (Some(live), None) => live,
            (None, Some(patched)) => match fresh(Value::Array(patched), &field_path, schema)? {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            (Some(live), Some(patched)) => {
                merge_list(live, patched, &field_path, strategy, false, schema)?
            }
            (None, None) => continue,
        };
        let is_map = merged.first().is_some_and(Value::is_object);
        let ordered = if *strategy == ListStrategy::Replace {
            // A replaced list is exactly the patch's list; there is nothing to interleave.
            merged
        } else {
            let (patch_items, server_only) = if merge_key.is_empty() {
                partition_primitives(merged, &order)
            } else {
                partition_maps(merged, &order, merge_key)?
            };
            normalize_element_order(
                patch_items,
                server_only,
                &order,
                &server_order,
                merge_key,
                is_map,
            )?
        };
        original.insert(field.clone(), Value::Array(ordered));
        patch.shift_remove(&field);
    }
    Ok(())
}

/// `validatePatchWithSetOrderList`: the patch's elements must appear in the directive's order.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<(), PatchError> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = if merge_key.is_empty() {
        patch_list.iter().collect()
    } else {
        let (keep, _) = split_delete_items(patch_list.iter())?;
        keep
    };
    let (mut p, mut s) = (0, 0);
    while p < non_delete.len() && s < order.len() {
        if non_delete[p]
            .as_object()
            .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
        {
            p += 1;
            continue;
        }
        if merge_key_value_equal(non_delete[p], &order[s], merge_key)? {
            p += 1;
        }
        s += 1;
    }
    if p < non_delete.len() && s >= order.len() {
        return Err(internal(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}\n",
            go_fmt(&Value::Array(patch_list.to_vec())),
            go_fmt(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

/// `extractToDeleteItems`: elements carrying `$patch: delete` versus the rest.
fn split_delete_items<'a>(
    items: impl Iterator<Item = &'a Value>,
) -> Result<(Vec<&'a Value>, Vec<&'a Value>), PatchError> {
    let (mut keep, mut delete) = (Vec::new(), Vec::new());
    for item in items {
        let Some(map) = item.as_object() else {
            return Err(err_bad_arg_type("map[string]interface {}", item));
        };
        if map.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(item);
        } else {
            keep.push(item);
        }
    }
    Ok((keep, delete))
}

/// `mergeKeyValueEqual`.
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool, PatchError> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let left = left
        .as_object()
        .ok_or_else(|| err_bad_arg_type("map[string]interface {}", left))?;
    let right = right
        .as_object()
        .ok_or_else(|| err_bad_arg_type("map[string]interface {}", right))?;
    let l = left
        .get(merge_key)
        .ok_or_else(|| err_no_merge_key(left, merge_key))?;
    let r = right
        .get(merge_key)
        .ok_or_else(|| err_no_merge_key(right, merge_key))?;
    Ok(l == r)
}

/// What Go's `sliceElementType` learns about two lists: whether their elements are maps.
fn element_kind_is_map(lists: [&[Value]; 2]) -> Result<bool, PatchError> {
    let mut first: Option<&Value> = None;
    for item in lists.iter().flat_map(|l| l.iter()) {
        match first {
            None => {
                if item.is_array() {
                    return Err(PatchError::Unprocessable(ERR_NO_LIST_OF_LISTS.to_owned()));
                }
                first = Some(item);
            }
            Some(f) if go_type_name(f) != go_type_name(item) => {
                let both = Value::Array(vec![
                    Value::Array(lists[0].to_vec()),
                    Value::Array(lists[1].to_vec()),
                ]);
                return Err(internal(format!(
                    "list element types are not identical: {}",
                    go_fmt(&both)
                )));
            }
            Some(_) => {}
        }
    }
    Ok(first.is_some_and(Value::is_object))
}

/// `mergeSliceHandler` + `mergeSlice`.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    path: &str,
    strategy: &ListStrategy,
    is_delete_list: bool,
    schema: &PatchSchema,
) -> Result<Vec<Value>, PatchError> {
    if *strategy == ListStrategy::Replace {
        // Upstream also replaces with a `$deleteFromPrimitiveList` list here.
        return match fresh(Value::Array(patch), path, schema)? {
            Some(Value::Array(items)) => Ok(items),
            _ => Ok(Vec::new()),
        };
    }
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let is_map = element_kind_is_map([&original, &patch])?;
    if !is_map {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        let merged = uniqify_scalars(both);
        let (patch_items, server_only) = partition_primitives(merged, &patch);
        return normalize_element_order(patch_items, server_only, &patch, &original, "", false);
    }
    let merge_key = strategy.merge_key();
    if merge_key.is_empty() {
        return Err(internal(
            "cannot merge lists without merge key for type string".to_owned(),
        ));
    }
    let (original, patch) = merge_special_elements(original, patch, merge_key, path, schema)?;
    let merged = merge_keyed_elements(original.clone(), &patch, merge_key, path, schema)?;
    let (patch_items, server_only) = partition_maps(merged, &patch, merge_key)?;
    normalize_element_order(patch_items, server_only, &patch, &original, merge_key, true)
}

/// `mergeSliceWithSpecialElements`: applies `$patch` elements of a keyed list and returns
/// the live list after deletions and the patch without directive elements.
fn merge_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
    path: &str,
    schema: &PatchSchema,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(map) = &item else {
            plain.push(item);
            continue;
        };
        let Some(directive) = map.get(DIRECTIVE_MARKER) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let Some(value) = map.get(merge_key) else {
                    return Err(err_no_merge_key(map, merge_key));
                };
                for (i, live) in original.iter().enumerate() {
                    if !live.is_object() {
                        return Err(internal(format!("value for key {i} is not a map.")));
                    }
                }
                original.retain(|live| live.get(merge_key) != Some(value));
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(internal(
                    "merging lists cannot yet be specified in the patch".to_owned(),
                ));
            }
            _ => return Err(err_bad_patch_type(directive, map)),
        }
    }
    if replace {
        let replaced = match fresh(Value::Array(plain), path, schema)? {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        return Ok((replaced, Vec::new()));
    }
    Ok((original, plain))
}

/// `mergeSliceWithoutSpecialElements`: merges each patch element into the live element with
/// the same merge key, or appends it.
fn merge_keyed_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    path: &str,
    schema: &PatchSchema,
) -> Result<Vec<Value>, PatchError> {
    for item in patch {
        let Some(map) = item.as_object() else {
            return Err(err_bad_arg_type("map[string]interface {}", item));
        };
        let Some(value) = map.get(merge_key) else {
            return Err(err_no_merge_key(map, merge_key));
        };
        let mut found = None;
        for (i, live) in original.iter().enumerate() {
            let Some(live_map) = live.as_object() else {
                return Err(internal(format!("value for key {i} is not a map.")));
            };
            if live_map.get(merge_key) == Some(value) {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => {
                let live = match std::mem::take(&mut original[i]) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                match merge_map(live, map.clone(), path, schema)? {
                    Merged::Map(merged) => original[i] = Value::Object(merged),
                    Merged::Delete => {
                        original.remove(i);
                    }
                }
            }
            None => {
                if let Some(value) = fresh(item.clone(), path, schema)? {
                    original.push(value);
                }
            }
        }
    }
    Ok(original)
}

/// Go's `uniqifyScalars`, including the way it moves the last element into a duplicate's slot.
fn uniqify_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut length = s.len().saturating_sub(1);
    let mut i = 0;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if s[i] == s[j] {
                s.swap(j, length);
                s.truncate(length);
                length -= 1;
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// `partitionPrimitivesByPresentInList`.
fn partition_primitives(merged: Vec<Value>, by: &[Value]) -> (Vec<Value>, Vec<Value>) {
    merged.into_iter().partition(|v| by.contains(v))
}

/// `partitionMapsByPresentInList`.
fn partition_maps(
    merged: Vec<Value>,
    by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for item in merged {
        let Some(map) = item.as_object() else {
            return Err(err_bad_arg_type("map[string]interface {}", &item));
        };
        let Some(value) = map.get(merge_key) else {
            return Err(err_no_merge_key(map, merge_key));
        };
        let mut found = false;
        for (i, candidate) in by.iter().enumerate() {
            let Some(candidate) = candidate.as_object() else {
                return Err(internal(format!("value for key {i} is not a map.")));
            };
            if candidate.get(merge_key) == Some(value) {
                found = true;
                break;
            }
        }
        if found {
            inside.push(item);
        } else {
            outside.push(item);
        }
    }
    Ok((inside, outside))
}

/// The value `index()` compares: the merge key's value for maps, the item for scalars.
fn order_key(item: &Value, merge_key: &str, is_map: bool) -> String {
    let value = if is_map {
        item.get(merge_key).unwrap_or(&Value::Null)
    } else {
        item
    };
    value.to_string()
}

/// First position of every element of `order`, for `index()` lookups.
fn positions(order: &[Value], merge_key: &str, is_map: bool) -> HashMap<String, usize> {
    let mut out = HashMap::with_capacity(order.len());
    for (i, item) in order.iter().enumerate() {
        out.entry(order_key(item, merge_key, is_map)).or_insert(i);
    }
    out
}

/// `normalizeElementOrder`: sorts patch items by the patch order and server-only items by
/// the live order, then interleaves them.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    is_map: bool,
) -> Result<Vec<Value>, PatchError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, merge_key, is_map)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, is_map)?;
    Ok(merge_sorted(
        server_only,
        patch_items,
        server_order,
        merge_key,
        is_map,
    ))
}

/// `normalizeSliceOrder`: a stable sort by position in `order`; delete directives go last.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    is_map: bool,
) -> Result<Vec<Value>, PatchError> {
    let mut to_sort = to_sort;
    let mut to_delete = Vec::new();
    if is_map {
        for item in to_sort.iter().chain(order.iter()) {
            let Some(map) = item.as_object() else {
                return Err(err_bad_arg_type("map[string]interface {}", item));
            };
            if !map.contains_key(merge_key) {
                return Err(err_no_merge_key(map, merge_key));
            }
        }
        let (keep, delete): (Vec<Value>, Vec<Value>) = to_sort.into_iter().partition(|v| {
            v.get(DIRECTIVE_MARKER).and_then(Value::as_str) != Some(DELETE_DIRECTIVE)
        });
        to_sort = keep;
        to_delete = delete;
    }
    let index = positions(order, merge_key, is_map);
    let mut keyed: Vec<(Option<usize>, Value)> = to_sort
        .into_iter()
        .map(|v| (index.get(&order_key(&v, merge_key, is_map)).copied(), v))
        .collect();
    if keyed.iter().all(|(p, _)| p.is_some()) {
        keyed.sort_by_key(|(p, _)| *p);
    } else {
        // Go's comparator says "less" whenever either side is unknown, which is no total
        // order; replay sort.SliceStable's insertion sort so the result matches Go's.
        for i in 1..keyed.len() {
            let mut j = i;
            while j > 0 {
                let less = match (keyed[j].0, keyed[j - 1].0) {
                    (Some(a), Some(b)) => a < b,
                    _ => true,
                };
                if !less {
                    break;
                }
                keyed.swap(j, j - 1);
                j -= 1;
            }
        }
    }
    let mut out: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    out.extend(to_delete);
    Ok(out)
}

/// `mergeSortedSlice`: inserts server-only items (`left`) among patch items (`right`) where
/// their live positions say they belong, keeping each side's relative order.
fn merge_sorted(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    is_map: bool,
) -> Vec<Value> {
    let index = positions(server_order, merge_key, is_map);
    let pos = |v: &Value| index.get(&order_key(v, merge_key, is_map)).copied();
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!((pos(l), pos(r)), (Some(li), Some(ri)) if li < ri),
        };
        let next = if take_left { left.next() } else { right.next() };
        if let Some(v) = next {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn svc_schema() -> PatchSchema {
        PatchSchema::for_kind("Service")
    }

    fn live_service() -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "my-nginx-svc",
                "namespace": "default",
                "labels": {"app": "nginx"},
                "finalizers": ["a", "b"],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{old}\n"}
            },
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app": "nginx"},
                "externalIPs": ["1.1.1.1", "2.2.2.2"],
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30080}]
            }
        })
    }

    fn apply_svc(patch: Value) -> Value {
        apply(&live_service(), &patch, &svc_schema()).unwrap()
    }

    fn apply_err(patch: Value) -> PatchError {
        apply(&live_service(), &patch, &svc_schema()).unwrap_err()
    }

    #[test]
    fn adding_a_port_keeps_port_80_and_its_node_port() {
        // §10.3: a strategic patch merges ports by `port`. Without `$setElementOrder`,
        // upstream's mergeSortedSlice cannot place the new element among the live ones and
        // puts patch elements first.
        let out = apply_svc(
            json!({"spec": {"ports": [{"name": "https", "port": 443, "targetPort": 443}]}}),
        );
        assert_eq!(
            out["spec"]["ports"],
            json!([
                {"name": "https", "port": 443, "targetPort": 443},
                {"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30080}
            ])
        );
    }

    #[test]
    fn kubectl_apply_capture_renames_port_and_adds_label() {
        // §8.2: setElementOrder plus a `$patch: delete` element.
        let patch = json!({
            "metadata": {
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{new}\n"},
                "labels": {"tier": "web"}
            },
            "spec": {
                "$setElementOrder/ports": [{"port": 8080}, {"port": 443}],
                "ports": [
                    {"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 80},
                    {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443},
                    {"$patch": "delete", "port": 80}
                ]
            }
        });
        let out = apply_svc(patch);
        assert_eq!(
            out["spec"]["ports"],
            json!([
                {"name": "http", "port": 8080, "protocol": "TCP", "targetPort": 80},
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}
            ])
        );
        assert_eq!(
            out["metadata"]["labels"],
            json!({"app": "nginx", "tier": "web"})
        );
        assert_eq!(
            out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
            json!("{new}\n")
        );
        assert!(!out.to_string().contains('$'));
    }

    #[test]
    fn null_deletes_a_key() {
        let out =
            apply_svc(json!({"metadata": {"labels": {"app": null}}, "spec": {"selector": null}}));
        assert_eq!(out["metadata"]["labels"], json!({}));
        assert!(out["spec"].get("selector").is_none());
    }

    #[test]
    fn null_for_a_missing_key_is_not_stored() {
        let out =
            apply_svc(json!({"spec": {"sessionAffinityConfig": null, "new": {"a": null, "b": 1}}}));
        assert!(out["spec"].get("sessionAffinityConfig").is_none());
        assert_eq!(out["spec"]["new"], json!({"b": 1}));
    }

    #[test]
    fn delete_element_by_merge_key() {
        let out = apply_svc(json!({"spec": {"ports": [{"$patch": "delete", "port": 80}]}}));
        assert_eq!(out["spec"]["ports"], json!([]));
    }

    #[test]
    fn delete_element_without_merge_key_is_an_error() {
        assert_eq!(
            apply_err(json!({"spec": {"ports": [{"$patch": "delete", "name": "x"}]}})),
            PatchError::Internal(
                "map: map[$patch:delete name:x] does not contain declared merge key: port".into()
            )
        );
    }

    #[test]
    fn element_without_merge_key_is_an_error() {
        assert_eq!(
            apply_err(json!({"spec": {"ports": [{"name": "x"}]}})),
            PatchError::Internal(
                "map: map[name:x] does not contain declared merge key: port".into()
            )
        );
    }

    #[test]
    fn replace_directive_in_a_list_replaces_the_list() {
        let out = apply_svc(json!({"spec": {"ports": [{"port": 443}, {"$patch": "replace"}]}}));
        assert_eq!(out["spec"]["ports"], json!([{"port": 443}]));
    }

    #[test]
    fn replace_directive_in_a_map_replaces_the_map() {
        let out = apply_svc(json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}}));
        assert_eq!(out["metadata"]["labels"], json!({"only": "this"}));
    }

    #[test]
    fn delete_directive_on_a_map_deletes_it() {
        let out = apply_svc(json!({"spec": {"selector": {"$patch": "delete"}}}));
        assert!(out["spec"].get("selector").is_none());
    }

    #[test]
    fn unknown_patch_directive_in_a_map() {
        assert_eq!(
            apply_err(json!({"spec": {"selector": {"$patch": "frob"}}})),
            PatchError::Internal("unknown patch type: frob in map: map[$patch:frob]".into())
        );
    }

    #[test]
    fn merge_directive_in_a_list_is_rejected() {
        assert_eq!(
            apply_err(json!({"spec": {"ports": [{"$patch": "merge"}]}})),
            PatchError::Internal("merging lists cannot yet be specified in the patch".into())
        );
    }

    #[test]
    fn unknown_list_directive() {
        assert_eq!(
            apply_err(json!({"spec": {"ports": [{"$patch": "x", "port": 1}]}})),
            PatchError::Internal("unknown patch type: x in map: map[$patch:x port:1]".into())
        );
    }

    #[test]
    fn finalizers_merge_as_a_set() {
        let out = apply_svc(json!({"metadata": {"finalizers": ["c", "a"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
    }

    #[test]
    fn delete_from_primitive_list() {
        let out = apply_svc(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn delete_from_missing_primitive_list_stores_nothing() {
        let out = apply_svc(json!({"spec": {"$deleteFromPrimitiveList/nothing": ["a"]}}));
        assert!(out["spec"].get("nothing").is_none());
    }

    #[test]
    fn malformed_delete_from_primitive_list_key() {
        assert_eq!(
            apply_err(json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}})),
            PatchError::BadRequest("invalid patch format of primitive list".into())
        );
    }

    #[test]
    fn set_element_order_for_primitive_list() {
        let out = apply_svc(json!({"metadata": {"$setElementOrder/finalizers": ["b", "a"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["b", "a"]));
    }

    #[test]
    fn set_element_order_interleaves_server_only_elements() {
        let doc = json!({"spec": {"ports": [{"port": 1}, {"port": 2}, {"port": 3}]}});
        let patch = json!({"spec": {"$setElementOrder/ports": [{"port": 3}, {"port": 1}], "ports": [{"port": 3, "name": "c"}]}});
        let out = apply(&doc, &patch, &svc_schema()).unwrap();
        // Port 2 is server-only; upstream's mergeSortedSlice places it before port 3 because
        // it came before port 3 in the live list.
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 2}, {"port": 3, "name": "c"}, {"port": 1}])
        );
    }

    #[test]
    fn set_element_order_not_a_list() {
        assert_eq!(
            apply_err(json!({"spec": {"$setElementOrder/ports": "x"}})),
            PatchError::Internal("expected a []interface {}, but received a string".into())
        );
    }

    #[test]
    fn set_element_order_mismatch() {
        let patch =
            json!({"spec": {"$setElementOrder/ports": [{"port": 443}], "ports": [{"port": 8080}]}});
        assert_eq!(
            apply_err(patch),
            PatchError::Internal(
                "The order in patch list:\n[map[port:8080]]\n doesn't match $setElementOrder list:\n[map[port:443]]\n"
                    .into()
            )
        );
    }

    #[test]
    fn malformed_set_element_order_key() {
        assert_eq!(
            apply_err(json!({"spec": {"$setElementOrder": []}})),
            PatchError::BadRequest("invalid patch format of setElementOrder list".into())
        );
    }

    #[test]
    fn retain_keys_clears_unlisted_fields() {
        let doc = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        let out = apply(&doc, &patch, &PatchSchema::for_kind("Deployment")).unwrap();
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn retain_keys_must_list_patched_fields() {
        let patch = json!({"spec": {"$retainKeys": ["type"], "selector": {"a": "b"}}});
        assert_eq!(
            apply_err(patch),
            PatchError::BadRequest("invalid patch format of retainKeys".into())
        );
        assert_eq!(
            apply_err(json!({"spec": {"$retainKeys": "type"}})),
            PatchError::BadRequest("invalid patch format of retainKeys".into())
        );
    }

    #[test]
    fn unlisted_lists_are_replaced() {
        let out = apply_svc(json!({"spec": {"externalIPs": ["3.3.3.3"]}}));
        assert_eq!(out["spec"]["externalIPs"], json!(["3.3.3.3"]));
    }

    #[test]
    fn unknown_directive_keys_never_reach_the_result() {
        let out = apply_svc(json!({"spec": {"$weird": 1, "type": "NodePort"}}));
        assert!(out["spec"].get("$weird").is_none());
        assert_eq!(out["spec"]["type"], json!("NodePort"));
    }

    #[test]
    fn directives_inside_new_values_are_applied_not_stored() {
        let doc = json!({"spec": {}});
        let patch = json!({"spec": {"ports": [{"port": 1}, {"$patch": "delete", "port": 2}]}});
        let out = apply(&doc, &patch, &svc_schema()).unwrap();
        assert_eq!(out["spec"]["ports"], json!([{"port": 1}]));
    }

    #[test]
    fn lists_of_lists_are_unprocessable() {
        let doc = json!({"metadata": {"finalizers": []}});
        let patch = json!({"metadata": {"finalizers": [["a"]]}});
        assert_eq!(
            apply(&doc, &patch, &svc_schema()).unwrap_err(),
            PatchError::Unprocessable("lists of lists are not supported".into())
        );
    }

    #[test]
    fn mixed_element_types_are_rejected() {
        assert_eq!(
            apply_err(json!({"metadata": {"finalizers": [1]}})),
            PatchError::Internal("list element types are not identical: [[a b] [1]]".into())
        );
    }

    #[test]
    fn owner_references_merge_by_uid() {
        let doc = json!({"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}});
        let patch = json!({"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}, {"uid": "1", "controller": true}]}});
        let out = apply(&doc, &patch, &PatchSchema::for_kind("Endpoints")).unwrap();
        assert_eq!(
            out["metadata"]["ownerReferences"],
            json!([{"uid": "2", "name": "b"}, {"uid": "1", "name": "a", "controller": true}])
        );
    }

    #[test]
    fn status_conditions_merge_by_type() {
        let doc = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Other", "status": "True"}]}});
        let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let out = apply(&doc, &patch, &PatchSchema::for_kind("Pod")).unwrap();
        assert_eq!(
            out["status"]["conditions"],
            json!([{"type": "Ready", "status": "True"}, {"type": "Other", "status": "True"}])
        );
    }

    #[test]
    fn deployment_containers_env_ports_and_mounts_merge() {
        let doc = json!({"spec": {"template": {"spec": {
            "containers": [{
                "name": "web", "image": "nginx:1",
                "env": [{"name": "A", "value": "1"}],
                "ports": [{"containerPort": 80}],
                "volumeMounts": [{"mountPath": "/a", "name": "v"}]
            }],
            "initContainers": [{"name": "init", "image": "busybox"}],
            "volumes": [{"name": "v", "emptyDir": {}}],
            "imagePullSecrets": [{"name": "s1"}],
            "tolerations": [{"key": "k"}]
        }}}});
        let patch = json!({"spec": {"template": {"spec": {
            "containers": [{
                "name": "web", "image": "nginx:2",
                "env": [{"name": "B", "value": "2"}],
                "ports": [{"containerPort": 443}],
                "volumeMounts": [{"mountPath": "/b", "name": "w"}]
            }],
            "initContainers": [{"name": "init2", "image": "busybox"}],
            "volumes": [{"name": "w", "emptyDir": {}}],
            "imagePullSecrets": [{"name": "s2"}],
            "tolerations": [{"key": "k2"}]
        }}}});
        let out = apply(&doc, &patch, &PatchSchema::for_kind("Deployment")).unwrap();
        let spec = &out["spec"]["template"]["spec"];
        let c = &spec["containers"][0];
        assert_eq!(c["image"], json!("nginx:2"));
        assert_eq!(
            c["env"],
            json!([{"name": "B", "value": "2"}, {"name": "A", "value": "1"}])
        );
        assert_eq!(
            c["ports"],
            json!([{"containerPort": 443}, {"containerPort": 80}])
        );
        assert_eq!(
            c["volumeMounts"],
            json!([{"mountPath": "/b", "name": "w"}, {"mountPath": "/a", "name": "v"}])
        );
        assert_eq!(spec["initContainers"].as_array().map(Vec::len), Some(2));
        assert_eq!(spec["volumes"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            spec["imagePullSecrets"],
            json!([{"name": "s2"}, {"name": "s1"}])
        );
        assert_eq!(spec["tolerations"], json!([{"key": "k2"}]));
    }

    #[test]
    fn pod_containers_merge_by_name() {
        let doc = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        let patch = json!({"spec": {"containers": [{"name": "b", "image": "z"}]}});
        let out = apply(&doc, &patch, &PatchSchema::for_kind("Pod")).unwrap();
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "a", "image": "x"}, {"name": "b", "image": "z"}])
        );
    }

    #[test]
    fn node_addresses_merge_by_type() {
        let doc = json!({"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": "n1"}]}});
        let patch =
            json!({"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}});
        let out = apply(&doc, &patch, &PatchSchema::for_kind("Node")).unwrap();
        assert_eq!(
            out["status"]["addresses"],
            json!([{"type": "InternalIP", "address": "10.0.0.2"}, {"type": "Hostname", "address": "n1"}])
        );
    }

    #[test]
    fn endpoints_subsets_are_replaced() {
        let doc = json!({"subsets": [{"addresses": [{"ip": "1.1.1.1"}]}]});
        let patch = json!({"subsets": [{"addresses": [{"ip": "2.2.2.2"}]}]});
        let out = apply(&doc, &patch, &PatchSchema::for_kind("Endpoints")).unwrap();
        assert_eq!(out["subsets"], json!([{"addresses": [{"ip": "2.2.2.2"}]}]));
    }

    #[test]
    fn unknown_kind_replaces_lists() {
        let doc = json!({"metadata": {"finalizers": ["a"]}});
        let out = apply(
            &doc,
            &json!({"metadata": {"finalizers": ["b"]}}),
            &PatchSchema::for_kind("Widget"),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn patch_body_must_be_an_object() {
        assert_eq!(
            apply(&live_service(), &json!([1]), &svc_schema()).unwrap_err(),
            PatchError::BadRequest(
                "json: cannot unmarshal array into Go value of type map[string]interface {}".into()
            )
        );
        assert_eq!(
            apply(&live_service(), &Value::Null, &svc_schema()).unwrap(),
            live_service()
        );
    }

    #[test]
    fn uniqify_matches_go() {
        let out = uniqify_scalars(vec![json!("a"), json!("b"), json!("a"), json!("c")]);
        assert_eq!(out, vec![json!("a"), json!("b"), json!("c")]);
    }
}
