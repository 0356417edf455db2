//! ObjectMeta rules for any kind: names, generateName, namespace, labels, annotations, owner
//! references, finalizers and managed fields, as apimachinery `pkg/api/validation/objectmeta.go`
//! and `ValidateObjectMeta` in `pkg/apis/core/validation` apply them.
//!
//! Go iterates maps in random order; we iterate `BTreeMap`s in key order.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ManagedFieldsEntry, ObjectMeta, OwnerReference, Time,
};

use crate::field::{FieldError, FieldErrors, Raw, go_quote, go_string_slice};
use crate::format;

/// A name check: the name and whether it is a generateName prefix → messages (`ValidateNameFunc`).
pub type NameCheck = fn(&str, bool) -> Vec<String>;

/// `FieldImmutableErrorMsg`.
pub const FIELD_IMMUTABLE_MSG: &str = "field is immutable";
/// `IsNegativeErrorMsg`.
pub const IS_NEGATIVE_MSG: &str = "must be greater than or equal to 0";
/// Largest total size of all annotation keys and values, in bytes (`TotalAnnotationSizeLimitB`).
pub const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES: usize = 256 * 1024;
/// Largest `managedFields[i].manager`, in bytes (`FieldManagerMaxLength`).
pub const FIELD_MANAGER_MAX_BYTES: usize = 128;

/// The field manager kube-apiserver records a write without `fieldManager` under: the
/// User-Agent up to its first `/` (`kubectl-edit/v1.32.4 (linux/amd64) …` → `kubectl-edit`),
/// unprintable characters left out, cut to [`FIELD_MANAGER_MAX_BYTES`] on a character
/// boundary (upstream's `prefixFromUserAgent`).
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or_default();
    let mut manager = String::new();
    for c in prefix.chars().filter(|c| !c.is_control()) {
        if manager.len() + c.len_utf8() > FIELD_MANAGER_MAX_BYTES {
            break;
        }
        manager.push(c);
    }
    manager
}
/// Largest `managedFields[i].subresource`, in bytes (`MaxSubresourceNameLength`).
pub const MAX_SUBRESOURCE_NAME_BYTES: usize = 256;
/// Finalizer names that need no domain prefix (`IsStandardFinalizerName`).
pub const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];
const FINALIZER_ORPHAN: &str = "orphan";
const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn s(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// Mirrors `ValidateLabels` in apimachinery `pkg/apis/meta/v1/validation`: keys as qualified
/// names, values as label values, every error on the unkeyed `path`.
pub fn validate_labels(labels: &BTreeMap<String, String>, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    for (k, v) in labels {
        for msg in format::is_qualified_name(k) {
            errs.push(FieldError::invalid(path, k, msg));
        }
        for msg in format::is_valid_label_value(v) {
            errs.push(FieldError::invalid(path, v, msg));
        }
    }
    errs
}

/// Mirrors `ValidateAnnotations` in apimachinery `pkg/api/validation`: keys are lower-cased
/// before the qualified-name check, and all keys and values together may not exceed 256 KiB.
pub fn validate_annotations(annotations: &BTreeMap<String, String>, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let mut total: usize = 0;
    for (k, v) in annotations {
        // Go's strings.ToLower maps Unicode too; the regex rejects non-ASCII either way.
        for msg in format::is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, k, msg));
        }
        total = total.saturating_add(k.len()).saturating_add(v.len());
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES {
        errs.push(FieldError::too_long(
            path,
            TOTAL_ANNOTATION_SIZE_LIMIT_BYTES,
        ));
    }
    errs
}

/// `schema.FromAPIVersionAndKind` followed by `GroupVersionKind.String()`'s parts.
fn parse_group_version(api_version: &str) -> (String, String) {
    if api_version.is_empty() || api_version == "/" {
        return (String::new(), String::new());
    }
    match api_version.matches('/').count() {
        0 => (String::new(), api_version.to_string()),
        1 => match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), String::new()),
        },
        _ => (String::new(), String::new()),
    }
}

/// Go's `%#v` of a `*bool`: the address of a set pointer cannot be reproduced, so a fixed one stands in.
fn go_bool_ptr(v: Option<bool>) -> &'static str {
    match v {
        None => "(*bool)(nil)",
        Some(_) => "(*bool)(0xc000000000)",
    }
}

/// Go's `%#v` of a `metav1.OwnerReference`.
fn go_owner_reference(r: &OwnerReference) -> String {
    format!(
        "v1.OwnerReference{{APIVersion:{}, Kind:{}, Name:{}, UID:{}, Controller:{}, BlockOwnerDeletion:{}}}",
        go_quote(&r.api_version),
        go_quote(&r.kind),
        go_quote(&r.name),
        go_quote(&r.uid),
        go_bool_ptr(r.controller),
        go_bool_ptr(r.block_owner_deletion)
    )
}

/// Mirrors `ValidateOwnerReferences` in apimachinery `pkg/api/validation` (unindexed paths, as in Go).
pub fn validate_owner_references(refs: &[OwnerReference], path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let mut first_controller = String::new();
    for r in refs {
        let (group, version) = parse_group_version(&r.api_version);
        if version.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "apiVersion"),
                &r.api_version,
                "version must not be empty",
            ));
        }
        if r.kind.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "kind"),
                &r.kind,
                "must not be empty",
            ));
        }
        if r.name.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "name"),
                &r.name,
                "must not be empty",
            ));
        }
        if r.uid.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "uid"),
                &r.uid,
                "must not be empty",
            ));
        }
        // BannedOwners holds only core/v1 Event.
        if group.is_empty() && version == "v1" && r.kind == "Event" {
            errs.push(FieldError::invalid(
                path,
                Raw(go_owner_reference(r)),
                format!(
                    "{group}/{version}, Kind={} is disallowed from being an owner",
                    r.kind
                ),
            ));
        }
        if r.controller == Some(true) {
            let current = format!("{}/{}", r.kind, r.name);
            if first_controller.is_empty() {
                first_controller = current;
            } else {
                let all: Vec<String> = refs.iter().map(go_owner_reference).collect();
                errs.push(FieldError::invalid(
                    path,
                    Raw(format!("[]v1.OwnerReference{{{}}}", all.join(", "))),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first_controller} and {current}"
                    ),
                ));
            }
        }
    }
    errs
}

/// Mirrors `ValidateFinalizers` in apimachinery `pkg/api/validation` (unindexed path, as in Go).
pub fn validate_finalizers(finalizers: &[String], path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    for f in finalizers {
        for msg in format::is_qualified_name(f) {
            errs.push(FieldError::invalid(path, f, msg));
        }
    }
    let has = |name: &str| finalizers.iter().any(|f| f == name);
    if has(FINALIZER_ORPHAN) && has(FINALIZER_FOREGROUND) {
        errs.push(FieldError::invalid(
            path,
            go_string_slice(finalizers),
            format!("finalizer {FINALIZER_ORPHAN} and {FINALIZER_FOREGROUND} cannot be both set"),
        ));
    }
    errs
}

/// Mirrors `validateKubeFinalizerName` in `pkg/apis/core/validation`, on `finalizers[i]`.
fn validate_kube_finalizer_names(finalizers: &[String], path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    for (i, f) in finalizers.iter().enumerate() {
        if !f.contains('/') && !STANDARD_FINALIZERS.contains(&f.as_str()) {
            errs.push(FieldError::invalid(
                format!("{path}.finalizers[{i}]"),
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errs
}

/// Mirrors `ValidateFieldManager` in apimachinery `pkg/apis/meta/v1/validation`.
fn validate_field_manager(manager: &str, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if manager.len() > FIELD_MANAGER_MAX_BYTES {
        errs.push(FieldError::too_long(path, FIELD_MANAGER_MAX_BYTES));
    }
    for (i, c) in manager.char_indices() {
        if !is_unicode_print(c) {
            errs.push(FieldError::invalid(
                path,
                manager,
                format!("invalid character U+{:04X} (at position {i})", c as u32),
            ));
        }
    }
    errs
}

/// Approximates Go's `unicode.IsPrint`: graphic characters and the ASCII space.
fn is_unicode_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
            | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF
            | 0xF0000..=0x10FFFF))
}

/// Mirrors `ValidateManagedFields` in apimachinery `pkg/apis/meta/v1/validation`.
pub fn validate_managed_fields(entries: &[ManagedFieldsEntry], path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    for (i, e) in entries.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let op = s(&e.operation);
        if op != "Apply" && op != "Update" {
            errs.push(FieldError::invalid(
                child(&p, "operation"),
                op,
                "must be `Apply` or `Update`",
            ));
        }
        let ft = s(&e.fields_type);
        if !ft.is_empty() && ft != "FieldsV1" {
            errs.push(FieldError::invalid(
                child(&p, "fieldsType"),
                ft,
                "must be `FieldsV1`",
            ));
        }
        errs.extend(validate_field_manager(s(&e.manager), &child(&p, "manager")));
        if s(&e.subresource).len() > MAX_SUBRESOURCE_NAME_BYTES {
            errs.push(FieldError::too_long(
                child(&p, "subresource"),
                MAX_SUBRESOURCE_NAME_BYTES,
            ));
        }
    }
    errs
}

fn labels_of(meta: &ObjectMeta) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

fn annotations_of(meta: &ObjectMeta) -> BTreeMap<String, String> {
    meta.annotations.clone().unwrap_or_default()
}

/// Mirrors apimachinery's `ValidateObjectMetaAccessor`: the generic create-time checks the
/// registry runs for every kind (with `format::validate_path_segment_name` as `name_check`).
pub fn validate_object_meta_generic(
    meta: &ObjectMeta,
    namespaced: bool,
    name_check: NameCheck,
    path: &str,
) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let generate_name = s(&meta.generate_name);
    if !generate_name.is_empty() {
        for msg in name_check(generate_name, true) {
            errs.push(FieldError::invalid(
                child(path, "generateName"),
                generate_name,
                msg,
            ));
        }
    }
    let name = s(&meta.name);
    if name.is_empty() {
        errs.push(FieldError::required(
            child(path, "name"),
            "name or generateName is required",
        ));
    } else {
        for msg in name_check(name, false) {
            errs.push(FieldError::invalid(child(path, "name"), name, msg));
        }
    }
    let namespace = s(&meta.namespace);
    if namespaced {
        if namespace.is_empty() {
            errs.push(FieldError::required(child(path, "namespace"), ""));
        } else {
            for msg in format::name_is_dns1123_label(namespace, false) {
                errs.push(FieldError::invalid(
                    child(path, "namespace"),
                    namespace,
                    msg,
                ));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            child(path, "namespace"),
            "not allowed on this type",
        ));
    }
    let generation = meta.generation.unwrap_or(0);
    if generation < 0 {
        errs.push(FieldError::invalid(
            child(path, "generation"),
            generation,
            IS_NEGATIVE_MSG,
        ));
    }
    errs.extend(validate_labels(&labels_of(meta), &child(path, "labels")));
    errs.extend(validate_annotations(
        &annotations_of(meta),
        &child(path, "annotations"),
    ));
    errs.extend(validate_owner_references(
        meta.owner_references.as_deref().unwrap_or_default(),
        &child(path, "ownerReferences"),
    ));
    errs.extend(validate_finalizers(
        meta.finalizers.as_deref().unwrap_or_default(),
        &child(path, "finalizers"),
    ));
    errs.extend(validate_managed_fields(
        meta.managed_fields.as_deref().unwrap_or_default(),
        &child(path, "managedFields"),
    ));
    errs
}

/// Mirrors `ValidateObjectMeta` in `pkg/apis/core/validation`: the generic checks plus the
/// standard-finalizer-name rule on `finalizers[i]`. Services pass `format::name_is_dns1035_label`.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_check: NameCheck,
    path: &str,
) -> FieldErrors {
    let mut errs = validate_object_meta_generic(meta, namespaced, name_check, path);
    errs.extend(validate_kube_finalizer_names(
        meta.finalizers.as_deref().unwrap_or_default(),
        path,
    ));
    errs
}

/// Go's `time.Time.String()` in UTC, e.g. `2024-01-02 03:04:05 +0000 UTC`.
pub fn go_time_string(t: Option<&Time>) -> String {
    let Some(t) = t else {
        return "0001-01-01 00:00:00 +0000 UTC".to_string();
    };
    let base = t.0.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.0.subsec_nanosecond();
    if nanos == 0 {
        format!("{base} +0000 UTC")
    } else {
        let frac = format!("{nanos:09}");
        format!("{base}.{} +0000 UTC", frac.trim_end_matches('0'))
    }
}

/// A `*metav1.Time` as a field error prints it: `"null"` when nil, else its `String()`.
fn go_time_ptr(t: Option<&Time>) -> Raw {
    match t {
        None => Raw(go_quote("null")),
        Some(t) => Raw(go_time_string(Some(t))),
    }
}

/// Mirrors apimachinery's `ValidateObjectMetaAccessorUpdate`: the generic update-time checks.
///
/// An empty `resourceVersion` is rejected as in Go; the registry fills it from storage before
/// validating an unconditional update.
pub fn validate_object_meta_update_generic(
    new: &ObjectMeta,
    old: &ObjectMeta,
    path: &str,
) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let new_finalizers = new.finalizers.as_deref().unwrap_or_default();
    if old.deletion_timestamp.is_some() {
        let old_set: BTreeSet<&str> = old
            .finalizers
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let extra: BTreeSet<String> = new_finalizers
            .iter()
            .filter(|f| !old_set.contains(f.as_str()))
            .cloned()
            .collect();
        if !extra.is_empty() {
            let list: Vec<String> = extra.into_iter().collect();
            errs.push(FieldError::forbidden(
                child(path, "finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers {}",
                    go_string_slice(&list).0
                ),
            ));
        }
    }
    if s(&new.resource_version).is_empty() {
        errs.push(FieldError::invalid(
            child(path, "resourceVersion"),
            "",
            "must be specified for an update",
        ));
    }
    let (new_gen, old_gen) = (new.generation.unwrap_or(0), old.generation.unwrap_or(0));
    if new_gen < old_gen {
        errs.push(FieldError::invalid(
            child(path, "generation"),
            new_gen,
            "must not be decremented",
        ));
    }
    for (field, n, o) in [
        ("name", &new.name, &old.name),
        ("namespace", &new.namespace, &old.namespace),
        ("uid", &new.uid, &old.uid),
    ] {
        if s(n) != s(o) {
            errs.push(FieldError::invalid(
                child(path, field),
                s(n),
                FIELD_IMMUTABLE_MSG,
            ));
        }
    }
    // A missing creationTimestamp is Go's zero time, which is a value, not a nil pointer.
    let created = |m: &ObjectMeta| m.creation_timestamp.as_ref().map(|t| t.0);
    if created(new) != created(old) {
        errs.push(FieldError::invalid(
            child(path, "creationTimestamp"),
            Raw(go_time_string(new.creation_timestamp.as_ref())),
            FIELD_IMMUTABLE_MSG,
        ));
    }
    if new.deletion_timestamp != old.deletion_timestamp {
        errs.push(FieldError::invalid(
            child(path, "deletionTimestamp"),
            go_time_ptr(new.deletion_timestamp.as_ref()),
            FIELD_IMMUTABLE_MSG,
        ));
    }
    if new.deletion_grace_period_seconds != old.deletion_grace_period_seconds {
        errs.push(FieldError::invalid(
            child(path, "deletionGracePeriodSeconds"),
            new.deletion_grace_period_seconds,
            FIELD_IMMUTABLE_MSG,
        ));
    }
    errs.extend(validate_labels(&labels_of(new), &child(path, "labels")));
    errs.extend(validate_annotations(
        &annotations_of(new),
        &child(path, "annotations"),
    ));
    errs.extend(validate_owner_references(
        new.owner_references.as_deref().unwrap_or_default(),
        &child(path, "ownerReferences"),
    ));
    errs.extend(validate_managed_fields(
        new.managed_fields.as_deref().unwrap_or_default(),
        &child(path, "managedFields"),
    ));
    errs
}

/// Mirrors `ValidateObjectMetaUpdate` in `pkg/apis/core/validation`: the generic update checks
/// (immutable name/namespace/uid/timestamps → `field is immutable`) plus the standard-finalizer rule.
pub fn validate_object_meta_update(new: &ObjectMeta, old: &ObjectMeta, path: &str) -> FieldErrors {
    let mut errs = validate_object_meta_update_generic(new, old, path);
    errs.extend(validate_kube_finalizer_names(
        new.finalizers.as_deref().unwrap_or_default(),
        path,
    ));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{
        name_is_dns1035_label, name_is_dns1123_subdomain, validate_path_segment_name,
    };

    const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    fn base() -> ObjectMeta {
        ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            ..Default::default()
        }
    }

    fn texts(errs: &FieldErrors) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ts(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).expect("test timestamps are in range"))
    }

    #[test]
    fn object_meta_rules_in_order() {
        type Case = (&'static str, fn(&mut ObjectMeta), Vec<String>);
        let cases: Vec<Case> = vec![
            ("valid", |_| {}, vec![]),
            ("name required", |m| m.name = None, vec!["metadata.name: Required value: name or generateName is required".into()]),
            (
                "name not DNS-1035",
                |m| m.name = Some("MyService".into()),
                vec![format!("metadata.name: Invalid value: \"MyService\": {DNS1035_MSG}")],
            ),
            (
                "bad generateName reported with the generated name",
                |m| {
                    m.generate_name = Some("Web-".into());
                    m.name = Some("Web-abcde".into());
                },
                vec![
                    format!("metadata.generateName: Invalid value: \"Web-\": {DNS1035_MSG}"),
                    format!("metadata.name: Invalid value: \"Web-abcde\": {DNS1035_MSG}"),
                ],
            ),
            ("generateName with trailing dash", |m| m.generate_name = Some("web-".into()), vec![]),
            ("namespace required", |m| m.namespace = None, vec!["metadata.namespace: Required value".into()]),
            (
                "namespace not a DNS-1123 label",
                |m| m.namespace = Some("a.b".into()),
                vec!["metadata.namespace: Invalid value: \"a.b\": must not contain dots".into()],
            ),
            (
                "negative generation",
                |m| m.generation = Some(-1),
                vec!["metadata.generation: Invalid value: -1: must be greater than or equal to 0".into()],
            ),
            (
                "bad label key then bad value",
                |m| m.labels = Some(map(&[("my label", "x"), ("ok", "-bad")])),
                vec![
                    format!("metadata.labels: Invalid value: \"my label\": {NAME_PART_MSG}"),
                    format!("metadata.labels: Invalid value: \"-bad\": {LABEL_VALUE_MSG}"),
                ],
            ),
            ("annotation keys are lower-cased first", |m| m.annotations = Some(map(&[("Example.COM/Owner", "me")])), vec![]),
            (
                "bad annotation key keeps its original spelling",
                |m| m.annotations = Some(map(&[("Bad Key", "")])),
                vec![format!("metadata.annotations: Invalid value: \"Bad Key\": {NAME_PART_MSG}")],
            ),
            (
                "finalizer without domain",
                |m| m.finalizers = Some(vec!["foo".into()]),
                vec!["metadata.finalizers[0]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified".into()],
            ),
            ("standard finalizer", |m| m.finalizers = Some(vec!["kubernetes".into(), "example.com/x".into()]), vec![]),
            (
                "orphan and foreground together",
                |m| m.finalizers = Some(vec!["orphan".into(), "foregroundDeletion".into()]),
                vec!["metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: finalizer orphan and foregroundDeletion cannot be both set".into()],
            ),
            (
                "owner reference missing fields",
                |m| m.owner_references = Some(vec![OwnerReference::default()]),
                vec![
                    "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty".into(),
                    "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty".into(),
                    "metadata.ownerReferences.name: Invalid value: \"\": must not be empty".into(),
                    "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty".into(),
                ],
            ),
            (
                "managed fields operation and type",
                |m| {
                    m.managed_fields = Some(vec![ManagedFieldsEntry {
                        operation: Some("Patch".into()),
                        fields_type: Some("FieldsV2".into()),
                        manager: Some("kubectl".into()),
                        ..Default::default()
                    }])
                },
                vec![
                    "metadata.managedFields[0].operation: Invalid value: \"Patch\": must be `Apply` or `Update`".into(),
                    "metadata.managedFields[0].fieldsType: Invalid value: \"FieldsV2\": must be `FieldsV1`".into(),
                ],
            ),
        ];
        for (name, change, want) in cases {
            let mut m = base();
            change(&mut m);
            assert_eq!(
                texts(&validate_object_meta(
                    &m,
                    true,
                    name_is_dns1035_label,
                    "metadata"
                )),
                want,
                "case {name}"
            );
        }
    }

    #[test]
    fn banned_owner_event() {
        let mut m = base();
        m.owner_references = Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Event".into(),
            name: "e".into(),
            uid: "u".into(),
            ..Default::default()
        }]);
        assert_eq!(
            texts(&validate_object_meta(
                &m,
                true,
                name_is_dns1035_label,
                "metadata"
            )),
            vec![
                "metadata.ownerReferences: Invalid value: v1.OwnerReference{APIVersion:\"v1\", Kind:\"Event\", Name:\"e\", UID:\"u\", Controller:(*bool)(nil), BlockOwnerDeletion:(*bool)(nil)}: /v1, Kind=Event is disallowed from being an owner"
            ]
        );
    }

    #[test]
    fn cluster_scoped_kinds_forbid_a_namespace() {
        let m = base();
        assert_eq!(
            texts(&validate_object_meta(
                &m,
                false,
                name_is_dns1123_subdomain,
                "metadata"
            )),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
        let mut m = base();
        m.namespace = None;
        assert!(validate_object_meta(&m, false, name_is_dns1123_subdomain, "metadata").is_empty());
    }

    #[test]
    fn generic_checks_use_the_given_name_check_and_skip_kube_finalizer_rule() {
        let mut m = base();
        m.name = Some("a/b".into());
        m.finalizers = Some(vec!["foo".into()]);
        assert_eq!(
            texts(&validate_object_meta_generic(
                &m,
                true,
                validate_path_segment_name,
                "metadata"
            )),
            vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
        );
    }

    #[test]
    fn annotation_size_limit_is_inclusive() {
        let key = "a".to_string();
        let exact = map(&[(&key, &"x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES - 1))]);
        assert!(validate_annotations(&exact, "metadata.annotations").is_empty());
        let over = map(&[(&key, &"x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_BYTES))]);
        assert_eq!(
            validate_annotations(&over, "metadata.annotations").aggregate(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
    }

    #[test]
    fn selector_reuses_label_rules_with_its_own_path() {
        let sel = map(&[("app", "my app")]);
        assert_eq!(
            validate_labels(&sel, "spec.selector").aggregate(),
            format!("spec.selector: Invalid value: \"my app\": {LABEL_VALUE_MSG}")
        );
    }

    #[test]
    fn update_rules() {
        let old = || {
            let mut m = base();
            m.uid = Some("u1".into());
            m.resource_version = Some("5".into());
            m.generation = Some(2);
            m.creation_timestamp = Some(ts(1_704_067_200));
            m
        };
        type Case = (&'static str, fn(&mut ObjectMeta), Vec<String>);
        let cases: Vec<Case> = vec![
            ("unchanged", |_| {}, vec![]),
            (
                "resourceVersion required",
                |m| m.resource_version = None,
                vec!["metadata.resourceVersion: Invalid value: \"\": must be specified for an update".into()],
            ),
            (
                "generation decremented",
                |m| m.generation = Some(1),
                vec!["metadata.generation: Invalid value: 1: must not be decremented".into()],
            ),
            ("name immutable", |m| m.name = Some("other".into()), vec!["metadata.name: Invalid value: \"other\": field is immutable".into()]),
            (
                "namespace immutable",
                |m| m.namespace = Some("prod".into()),
                vec!["metadata.namespace: Invalid value: \"prod\": field is immutable".into()],
            ),
            ("uid immutable", |m| m.uid = Some("u2".into()), vec!["metadata.uid: Invalid value: \"u2\": field is immutable".into()]),
            (
                "creationTimestamp immutable",
                |m| m.creation_timestamp = Some(ts(1_704_067_201)),
                vec!["metadata.creationTimestamp: Invalid value: 2024-01-01 00:00:01 +0000 UTC: field is immutable".into()],
            ),
            (
                "deletionTimestamp immutable",
                |m| m.deletion_timestamp = Some(ts(1_704_067_200)),
                vec!["metadata.deletionTimestamp: Invalid value: 2024-01-01 00:00:00 +0000 UTC: field is immutable".into()],
            ),
            (
                "deletionGracePeriodSeconds immutable",
                |m| m.deletion_grace_period_seconds = Some(30),
                vec!["metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable".into()],
            ),
            (
                "labels rechecked",
                |m| m.labels = Some(map(&[("my label", "x")])),
                vec![format!("metadata.labels: Invalid value: \"my label\": {NAME_PART_MSG}")],
            ),
            (
                "kube finalizer rule applies on update",
                |m| m.finalizers = Some(vec!["foo".into()]),
                vec!["metadata.finalizers[0]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified".into()],
            ),
        ];
        for (name, change, want) in cases {
            let mut new = old();
            change(&mut new);
            assert_eq!(
                texts(&validate_object_meta_update(&new, &old(), "metadata")),
                want,
                "case {name}"
            );
        }
    }

    #[test]
    fn no_new_finalizers_while_deleting() {
        let mut old = base();
        old.resource_version = Some("1".into());
        old.deletion_timestamp = Some(ts(0));
        old.finalizers = Some(vec!["example.com/a".into()]);
        let mut new = old.clone();
        new.finalizers = Some(vec![
            "example.com/a".into(),
            "example.com/c".into(),
            "example.com/b".into(),
        ]);
        assert_eq!(
            texts(&validate_object_meta_update_generic(&new, &old, "metadata")),
            vec![
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/b\", \"example.com/c\"}"
            ]
        );
    }

    #[test]
    fn removed_deletion_timestamp_prints_null() {
        let mut old = base();
        old.resource_version = Some("1".into());
        old.deletion_timestamp = Some(ts(0));
        let mut new = old.clone();
        new.deletion_timestamp = None;
        assert_eq!(
            texts(&validate_object_meta_update_generic(&new, &old, "metadata")),
            vec!["metadata.deletionTimestamp: Invalid value: \"null\": field is immutable"]
        );
    }

    #[test]
    fn manager_is_the_user_agent_before_its_first_slash() {
        assert_eq!(
            manager_from_user_agent("kubectl-edit/v1.32.4 (linux/amd64) kubernetes/abc"),
            "kubectl-edit"
        );
        assert_eq!(
            manager_from_user_agent("python-requests/2.31"),
            "python-requests"
        );
        assert_eq!(manager_from_user_agent("curl"), "curl");
        assert_eq!(manager_from_user_agent("a\u{7}b/1"), "ab");
        assert_eq!(manager_from_user_agent(&"é".repeat(100)).len(), 128);
    }
}
