//! Events as kube-apiserver v1.32 serves them through two APIs over one storage: core/v1
//! (`/api/v1/.../events`, the stored form) and events.k8s.io/v1, a converted view of the same
//! objects. Conversion mirrors `pkg/apis/events/v1/conversion.go` (`Convert_v1_Event_To_core_Event`
//! and back, the rest generated in `zz_generated.conversion.go`); validation mirrors
//! `pkg/apis/core/validation/events.go` (`ValidateEventCreate`, `ValidateEventUpdate`), which
//! is strict only for requests through events.k8s.io/v1.

use crate::json::Pointer as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Map, Value};

use crate::field::{FieldError, FieldErrors, Raw, go_quote};
use crate::format;
use crate::meta::{FIELD_IMMUTABLE_MSG, go_time_string};

/// The events.k8s.io API group.
pub const GROUP_NAME: &str = "events.k8s.io";
/// The apiVersion of the events.k8s.io view.
pub const API_VERSION: &str = "events.k8s.io/v1";
/// The apiVersion Events are stored in.
pub const STORED_API_VERSION: &str = "v1";

/// The fields whose names differ: (events.k8s.io/v1, core/v1). Every other field of an Event
/// (metadata, eventTime, series, reportingInstance, action, reason, related, type) has the same
/// name and shape in both.
const RENAMED: [(&str, &str); 7] = [
    ("regarding", "involvedObject"),
    ("note", "message"),
    // The internal field is ReportingController; core/v1 spells it reportingComponent.
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// `ReportingInstanceLengthLimit`, `ActionLengthLimit`, `ReasonLengthLimit`, `NoteLengthLimit`.
const REPORTING_INSTANCE_LENGTH_LIMIT: usize = 128;
const ACTION_LENGTH_LIMIT: usize = 128;
const REASON_LENGTH_LIMIT: usize = 128;
const NOTE_LENGTH_LIMIT: usize = 1024;

/// The two event types `ValidateEventCreate` accepts through events.k8s.io/v1.
const EVENT_TYPE_NORMAL: &str = "Normal";
const EVENT_TYPE_WARNING: &str = "Warning";

/// Renames the top-level fields of `event` as [`RENAMED`] says (events.k8s.io/v1 names to
/// core/v1 ones when `to_core`, else back) and sets its apiVersion and kind.
fn renamed(event: &Value, to_core: bool, api_version: &str) -> Value {
    let Some(fields) = event.as_object() else {
        return event.clone();
    };
    let mut out = Map::with_capacity(fields.len() + 1);
    for (key, value) in fields {
        let name = RENAMED
            .iter()
            .find_map(|(events, core)| match to_core {
                true if key == events => Some(*core),
                false if key == core => Some(*events),
                _ => None,
            })
            .unwrap_or(key);
        out.insert(name.to_owned(), value.clone());
    }
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    out.insert("kind".into(), Value::String("Event".into()));
    Value::Object(out)
}

/// An events.k8s.io/v1 Event as core/v1 stores it (`Convert_v1_Event_To_core_Event`).
///
/// `regarding` becomes `involvedObject`, which core/v1 always has (internally a struct, not a
/// pointer), so an Event that regards nothing gets an empty one.
pub fn to_core(event: &Value) -> Value {
    let mut core = renamed(event, true, STORED_API_VERSION);
    if let Some(fields) = core.as_object_mut() {
        fields
            .entry("involvedObject")
            .or_insert_with(|| Value::Object(Map::new()));
    }
    core
}

/// A stored core/v1 Event as events.k8s.io/v1 serves it (`Convert_core_Event_To_v1_Event`).
pub fn from_core(event: &Value) -> Value {
    renamed(event, false, API_VERSION)
}

/// The API a write came through, which decides how strictly its Event is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestApi {
    /// core/v1 (or events.k8s.io/v1beta1): legacy validation only, for old clients.
    Legacy,
    /// events.k8s.io/v1: the strict rules of the new Events API.
    EventsV1,
}

impl RequestApi {
    /// The request API of a write to `group` (the Event's group in the request's URL).
    pub fn of_group(group: &str) -> RequestApi {
        if group == GROUP_NAME {
            RequestApi::EventsV1
        } else {
            RequestApi::Legacy
        }
    }
}

fn text<'a>(event: &'a Value, pointer: &str) -> &'a str {
    event.at(pointer).and_then(Value::as_str).unwrap_or("")
}

/// Whether a timestamp field is unset (Go's zero `time.Time`): absent or null.
fn time_is_zero(event: &Value, pointer: &str) -> bool {
    event.at(pointer).is_none_or(Value::is_null)
}

fn count_of(event: &Value) -> i64 {
    event.get("count").and_then(Value::as_i64).unwrap_or(0)
}

/// `ValidateEventCreate(event, requestVersion)` over a stored-form (core/v1) Event.
pub fn validate_event_create(event: &Value, api: RequestApi) -> FieldErrors {
    let mut errs = legacy_validate_event(event);
    if api == RequestApi::Legacy {
        // No further validation for backwards compatibility.
        return errs;
    }
    // ValidateObjectMeta's name rule is NameIsDNSSubdomain here; the rest of the metadata
    // is validated as every kind's is.
    let name = text(event, "/metadata/name");
    for msg in format::name_is_dns1123_subdomain(name, false) {
        errs.push(FieldError::invalid("metadata.name", name, msg));
    }
    errs.extend(validate_v1_event_series(event));
    if time_is_zero(event, "/eventTime") {
        errs.push(FieldError::required("eventTime", ""));
    }
    let event_type = text(event, "/type");
    if event_type != EVENT_TYPE_NORMAL && event_type != EVENT_TYPE_WARNING {
        errs.push(FieldError::invalid(
            "type",
            "",
            format!("has invalid value: {event_type}"),
        ));
    }
    if !time_is_zero(event, "/firstTimestamp") {
        errs.push(FieldError::invalid(
            "firstTimestamp",
            "",
            "needs to be unset",
        ));
    }
    if !time_is_zero(event, "/lastTimestamp") {
        errs.push(FieldError::invalid(
            "lastTimestamp",
            "",
            "needs to be unset",
        ));
    }
    if count_of(event) != 0 {
        errs.push(FieldError::invalid("count", "", "needs to be unset"));
    }
    if !text(event, "/source/component").is_empty() || !text(event, "/source/host").is_empty() {
        errs.push(FieldError::invalid("source", "", "needs to be unset"));
    }
    errs
}

/// `ValidateEventUpdate(new, old, requestVersion)` over stored-form Events; the metadata
/// update rules are every kind's.
pub fn validate_event_update(new: &Value, old: &Value, api: RequestApi) -> FieldErrors {
    let mut errs = legacy_validate_event(new);
    if api == RequestApi::Legacy {
        return errs;
    }
    if normalized(new.get("series")) != normalized(old.get("series")) {
        errs.extend(validate_v1_event_series(new));
    }
    // Upstream's list, in its order (reason is checked twice there, so it is here).
    let immutable: [(&str, GoPrinter); 14] = [
        ("involvedObject", go_reference),
        ("reason", go_string),
        ("message", go_string),
        ("source", go_event_source),
        ("firstTimestamp", go_time),
        ("lastTimestamp", go_time),
        ("count", go_int),
        ("reason", go_string),
        ("type", go_string),
        ("eventTime", go_time),
        ("action", go_string),
        ("related", go_reference_pointer),
        ("reportingComponent", go_string),
        ("reportingInstance", go_string),
    ];
    for (field, print) in immutable {
        let (now, before) = (new.get(field), old.get(field));
        if normalized(now) != normalized(before) {
            // The internal field is reportingController; core/v1 calls it reportingComponent.
            let path = if field == "reportingComponent" {
                "reportingController"
            } else {
                field
            };
            errs.push(FieldError::invalid(path, print(now), FIELD_IMMUTABLE_MSG));
        }
    }
    errs
}

/// A field's value as upstream compares it: absent, null, `""`, `0` and `{}` are the zero
/// value of the Go field.
fn normalized(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_i64() != Some(0),
        Value::Object(m) => m.values().any(|v| normalized(Some(v)).is_some()),
        _ => true,
    })
}

/// Prints a field's value as a field error does (Go's `%v`, `%q`, `String()` or `%#v`).
type GoPrinter = fn(Option<&Value>) -> Raw;

fn go_string(value: Option<&Value>) -> Raw {
    Raw(go_quote(value.and_then(Value::as_str).unwrap_or("")))
}

fn go_int(value: Option<&Value>) -> Raw {
    Raw(value.and_then(Value::as_i64).unwrap_or(0).to_string())
}

/// `metav1.Time` and `MicroTime` print through their `String()`.
fn go_time(value: Option<&Value>) -> Raw {
    let time: Option<Time> = value
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    Raw(go_time_string(time.as_ref()))
}

/// A struct as `%#v` prints it: `core.Type{Field:"value", ...}`.
fn go_struct(type_name: &str, value: Option<&Value>, fields: &[(&str, &str)]) -> Raw {
    let printed: Vec<String> = fields
        .iter()
        .map(|(go, json)| {
            let v = value.and_then(|v| v.get(*json)).and_then(Value::as_str);
            format!("{go}:{}", go_quote(v.unwrap_or("")))
        })
        .collect();
    Raw(format!("core.{type_name}{{{}}}", printed.join(", ")))
}

const OBJECT_REFERENCE_FIELDS: [(&str, &str); 7] = [
    ("Kind", "kind"),
    ("Namespace", "namespace"),
    ("Name", "name"),
    ("UID", "uid"),
    ("APIVersion", "apiVersion"),
    ("ResourceVersion", "resourceVersion"),
    ("FieldPath", "fieldPath"),
];

fn go_reference(value: Option<&Value>) -> Raw {
    go_struct("ObjectReference", value, &OBJECT_REFERENCE_FIELDS)
}

/// `related` is a pointer: nil prints as `"null"`, else as the struct it points to.
fn go_reference_pointer(value: Option<&Value>) -> Raw {
    match value.filter(|v| !v.is_null()) {
        None => Raw(go_quote("null")),
        some => go_reference(some),
    }
}

fn go_event_source(value: Option<&Value>) -> Raw {
    go_struct(
        "EventSource",
        value,
        &[("Component", "component"), ("Host", "host")],
    )
}

/// `validateV1EventSeries`.
fn validate_v1_event_series(event: &Value) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if let Some(series) = event.get("series").filter(|s| !s.is_null()) {
        if series.get("count").and_then(Value::as_i64).unwrap_or(0) < 2 {
            errs.push(FieldError::invalid(
                "series.count",
                "",
                "should be at least 2",
            ));
        }
        if time_is_zero(series, "/lastObservedTime") {
            errs.push(FieldError::required("series.lastObservedTime", ""));
        }
    }
    errs
}

/// `legacyValidateEvent`: what every Event must satisfy, whichever API wrote it.
fn legacy_validate_event(event: &Value) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let namespace = text(event, "/metadata/namespace");
    let involved_namespace = text(event, "/involvedObject/namespace");
    let mismatch = || {
        FieldError::invalid(
            "involvedObject.namespace",
            involved_namespace,
            "does not match event.namespace",
        )
    };
    if time_is_zero(event, "/eventTime") {
        // An old-style Event: its namespace must be its object's (or, for an object without
        // one, empty or "default", for old clients).
        let agrees = if involved_namespace.is_empty() {
            namespace.is_empty() || namespace == "default"
        } else {
            namespace == involved_namespace
        };
        if !agrees {
            errs.push(mismatch());
        }
    } else {
        if involved_namespace.is_empty() && namespace != "default" && namespace != "kube-system" {
            errs.push(mismatch());
        }
        let controller = text(event, "/reportingComponent");
        if controller.is_empty() {
            errs.push(FieldError::required("reportingController", ""));
        }
        for msg in format::is_qualified_name(controller) {
            errs.push(FieldError::invalid("reportingController", controller, msg));
        }
        let limited = [
            ("reportingInstance", REPORTING_INSTANCE_LENGTH_LIMIT, true),
            ("action", ACTION_LENGTH_LIMIT, true),
            ("reason", REASON_LENGTH_LIMIT, true),
            ("message", NOTE_LENGTH_LIMIT, false),
        ];
        for (field, limit, required) in limited {
            let value = text(event, &format!("/{field}"));
            if required && value.is_empty() {
                errs.push(FieldError::required(field, ""));
            }
            if value.len() > limit {
                errs.push(FieldError::invalid(
                    field,
                    "",
                    format!("can have at most {limit} characters"),
                ));
            }
        }
    }
    for msg in format::is_dns1123_subdomain(namespace) {
        errs.push(FieldError::invalid("namespace", namespace, msg));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errs: &FieldErrors) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    /// An events.k8s.io/v1 Event with every field set.
    fn events_v1() -> Value {
        json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "eventTime": "2024-05-01T10:00:00.123456Z",
            "series": {"count": 3, "lastObservedTime": "2024-05-01T10:05:00.000000Z"},
            "reportingController": "example.com/scaler",
            "reportingInstance": "scaler-1",
            "action": "Scaling",
            "reason": "ScaledUp",
            "regarding": {"kind": "Deployment", "namespace": "default", "name": "web", "apiVersion": "apps/v1"},
            "related": {"kind": "ReplicaSet", "namespace": "default", "name": "web-1"},
            "note": "scaled up to 3",
            "type": "Normal",
            "deprecatedSource": {"component": "old", "host": "node-1"},
            "deprecatedFirstTimestamp": "2024-05-01T09:00:00Z",
            "deprecatedLastTimestamp": "2024-05-01T09:30:00Z",
            "deprecatedCount": 4,
        })
    }

    #[test]
    fn events_v1_converts_to_core_field_by_field() {
        let core = to_core(&events_v1());
        assert_eq!(
            core,
            json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "web.1", "namespace": "default"},
                "eventTime": "2024-05-01T10:00:00.123456Z",
                "series": {"count": 3, "lastObservedTime": "2024-05-01T10:05:00.000000Z"},
                "reportingComponent": "example.com/scaler",
                "reportingInstance": "scaler-1",
                "action": "Scaling",
                "reason": "ScaledUp",
                "involvedObject": {"kind": "Deployment", "namespace": "default", "name": "web", "apiVersion": "apps/v1"},
                "related": {"kind": "ReplicaSet", "namespace": "default", "name": "web-1"},
                "message": "scaled up to 3",
                "type": "Normal",
                "source": {"component": "old", "host": "node-1"},
                "firstTimestamp": "2024-05-01T09:00:00Z",
                "lastTimestamp": "2024-05-01T09:30:00Z",
                "count": 4,
            })
        );
        assert_eq!(from_core(&core), events_v1());
    }

    #[test]
    fn core_converts_to_events_v1_and_back() {
        // What a controller records through core/v1.
        let core = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "web.2", "namespace": "default"},
            "involvedObject": {"kind": "Service", "namespace": "default", "name": "web"},
            "reason": "EnsuredLoadBalancer",
            "message": "Ensured load balancer",
            "source": {"component": "service-controller"},
            "firstTimestamp": "2024-05-01T09:00:00Z",
            "lastTimestamp": "2024-05-01T09:10:00Z",
            "count": 2,
            "type": "Normal",
            "reportingComponent": "service-controller",
            "reportingInstance": "",
        });
        let served = from_core(&core);
        assert_eq!(served["apiVersion"], "events.k8s.io/v1");
        assert_eq!(served["regarding"], core["involvedObject"]);
        assert_eq!(served["note"], "Ensured load balancer");
        assert_eq!(served["deprecatedSource"], core["source"]);
        assert_eq!(served["deprecatedFirstTimestamp"], "2024-05-01T09:00:00Z");
        assert_eq!(served["deprecatedLastTimestamp"], "2024-05-01T09:10:00Z");
        assert_eq!(served["deprecatedCount"], 2);
        assert_eq!(served["reportingController"], "service-controller");
        for core_only in [
            "involvedObject",
            "message",
            "source",
            "count",
            "reportingComponent",
        ] {
            assert!(served.get(core_only).is_none(), "{core_only}");
        }
        assert_eq!(to_core(&served), core);
    }

    #[test]
    fn an_event_regarding_nothing_has_an_empty_involved_object() {
        let core = to_core(&json!({"metadata": {"name": "a"}, "note": "n"}));
        assert_eq!(core["involvedObject"], json!({}));
        assert_eq!(core["message"], "n");
    }

    #[test]
    fn events_v1_create_requires_what_upstream_requires() {
        let core = to_core(&json!({
            "metadata": {"name": "e", "namespace": "default"},
            "regarding": {"kind": "Pod", "namespace": "default", "name": "p"},
        }));
        assert_eq!(
            messages(&validate_event_create(&core, RequestApi::EventsV1)),
            [
                "eventTime: Required value",
                "type: Invalid value: \"\": has invalid value: ",
            ]
        );
        // Legacy validation alone accepts it, as core/v1 does.
        assert!(validate_event_create(&core, RequestApi::Legacy).is_empty());
        let mut with_time = core.clone();
        with_time["eventTime"] = json!("2024-05-01T10:00:00.000000Z");
        with_time["type"] = json!("Normal");
        assert_eq!(
            messages(&validate_event_create(&with_time, RequestApi::EventsV1)),
            [
                "reportingController: Required value",
                "reportingController: Invalid value: \"\": name part must be non-empty",
                "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                "reportingInstance: Required value",
                "action: Required value",
                "reason: Required value",
            ]
        );
    }

    #[test]
    fn events_v1_create_refuses_the_deprecated_fields() {
        let mut core = to_core(&events_v1());
        core["series"] = json!({"count": 1});
        core["type"] = json!("Odd");
        assert_eq!(
            messages(&validate_event_create(&core, RequestApi::EventsV1)),
            [
                "series.count: Invalid value: \"\": should be at least 2",
                "series.lastObservedTime: Required value",
                "type: Invalid value: \"\": has invalid value: Odd",
                "firstTimestamp: Invalid value: \"\": needs to be unset",
                "lastTimestamp: Invalid value: \"\": needs to be unset",
                "count: Invalid value: \"\": needs to be unset",
                "source: Invalid value: \"\": needs to be unset",
            ]
        );
    }

    #[test]
    fn legacy_validation_matches_namespaces_and_limits() {
        let old_style = json!({
            "metadata": {"name": "e", "namespace": "team"},
            "involvedObject": {"kind": "Pod", "namespace": "other", "name": "p"},
        });
        assert_eq!(
            messages(&validate_event_create(&old_style, RequestApi::Legacy)),
            ["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"]
        );
        // A cluster-scoped object's old-style events may live in "default".
        let node = json!({"metadata": {"name": "e", "namespace": "default"}, "involvedObject": {"kind": "Node", "name": "n"}});
        assert!(validate_event_create(&node, RequestApi::Legacy).is_empty());
        let mut long = to_core(&events_v1());
        long["reason"] = json!("r".repeat(129));
        long["message"] = json!("m".repeat(1025));
        assert_eq!(
            messages(&validate_event_create(&long, RequestApi::Legacy)),
            [
                "reason: Invalid value: \"\": can have at most 128 characters",
                "message: Invalid value: \"\": can have at most 1024 characters",
            ]
        );
    }

    #[test]
    fn events_v1_updates_keep_the_event_as_it_was() {
        let mut old = to_core(&events_v1());
        for deprecated in ["source", "firstTimestamp", "lastTimestamp", "count"] {
            old.as_object_mut().unwrap().remove(deprecated);
        }
        let mut new = old.clone();
        new["message"] = json!("changed");
        new["involvedObject"]["name"] = json!("api");
        new["related"] = Value::Null;
        assert_eq!(
            messages(&validate_event_update(&new, &old, RequestApi::EventsV1)),
            [
                "involvedObject: Invalid value: core.ObjectReference{Kind:\"Deployment\", Namespace:\"default\", Name:\"api\", UID:\"\", APIVersion:\"apps/v1\", ResourceVersion:\"\", FieldPath:\"\"}: field is immutable",
                "message: Invalid value: \"changed\": field is immutable",
                "related: Invalid value: \"null\": field is immutable",
            ]
        );
        assert!(validate_event_update(&new, &old, RequestApi::Legacy).is_empty());
        let mut later = old.clone();
        later["eventTime"] = json!("2024-05-02T00:00:00.5Z");
        assert_eq!(
            messages(&validate_event_update(&later, &old, RequestApi::EventsV1)),
            ["eventTime: Invalid value: 2024-05-02 00:00:00.5 +0000 UTC: field is immutable"]
        );
    }
}
