//! The FlowSchema and PriorityLevelConfiguration strategies of kube-apiserver v1.32: defaulting
//! (pkg/apis/flowcontrol/v1/defaults.go), what the strategies reset
//! (pkg/registry/flowcontrol/{flowschema,prioritylevelconfiguration}/strategy.go) and validation
//! (pkg/apis/flowcontrol/validation/validation.go), with upstream's texts. Metadata is validated
//! by the registry's generic rules; objects are the decoded JSON.

use crate::json::Pointer as _;
use k8s_openapi::api::flowcontrol::v1::{
    FlowSchemaSpec, LimitResponse, LimitedPriorityLevelConfiguration, NonResourcePolicyRule,
    PolicyRulesWithSubjects, PriorityLevelConfigurationSpec, QueuingConfiguration,
    ResourcePolicyRule, Subject,
};
use serde_json::{Value, json};

use super::NAME_EXEMPT;
use super::bootstrap::{self, FLOW_SCHEMAS, PRIORITY_LEVELS};
use crate::field::{FieldError, FieldErrors, Raw, go_string_slice};
use crate::format;

/// `flowcontrol.FlowSchemaDefaultMatchingPrecedence`.
const DEFAULT_MATCHING_PRECEDENCE: i64 = 1000;
/// `flowcontrol.FlowSchemaMaxMatchingPrecedence`.
const MAX_MATCHING_PRECEDENCE: i32 = 10000;
/// `PriorityLevelConfigurationDefaultNominalConcurrencyShares`.
const DEFAULT_NOMINAL_CONCURRENCY_SHARES: i64 = 30;
/// `PriorityLevelConfigurationDefaultHandSize`, `…Queues`, `…QueueLengthLimit`.
const DEFAULT_QUEUING: [(&str, i64); 3] =
    [("handSize", 8), ("queues", 64), ("queueLengthLimit", 50)];
/// `priorityLevelConfigurationQueuingMaxQueues`.
const MAX_QUEUES: i32 = 10_000_000;
/// `shufflesharding.MaxHashBits`.
const MAX_HASH_BITS: f64 = 60.0;

const SUPPORTED_DISTINGUISHER_METHODS: [&str; 2] = ["ByNamespace", "ByUser"];
const SUPPORTED_VERBS: [&str; 9] = [
    "get",
    "list",
    "create",
    "update",
    "delete",
    "deletecollection",
    "patch",
    "watch",
    "proxy",
];
const SUPPORTED_SUBJECT_KINDS: [&str; 3] = ["ServiceAccount", "Group", "User"];
const SUPPORTED_ENABLEMENT: [&str; 2] = ["Exempt", "Limited"];
const SUPPORTED_LIMIT_RESPONSE: [&str; 2] = ["Queue", "Reject"];

/// `nsErrIntro`.
const NS_ERR_INTRO: &str = "each member of this list must be '*' or a DNS-1123 label; ";

/// The resource of an object, from its kind.
fn resource_of(object: &Value) -> &'static str {
    match object.get("kind").and_then(Value::as_str) {
        Some("FlowSchema") => FLOW_SCHEMAS,
        _ => PRIORITY_LEVELS,
    }
}

/// The v1 defaults of a FlowSchema or PriorityLevelConfiguration.
pub fn set_defaults(object: &mut Value) {
    let is_flow_schema = resource_of(object) == FLOW_SCHEMAS;
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if is_flow_schema {
        // `MatchingPrecedence` is a plain int32: absent and 0 are the same.
        if spec
            .get("matchingPrecedence")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 0
        {
            spec.insert(
                "matchingPrecedence".into(),
                json!(DEFAULT_MATCHING_PRECEDENCE),
            );
        }
        return;
    }
    if let Some(exempt) = spec.get_mut("exempt").and_then(Value::as_object_mut) {
        exempt.entry("nominalConcurrencyShares").or_insert(json!(0));
        exempt.entry("lendablePercent").or_insert(json!(0));
    }
    if let Some(limited) = spec.get_mut("limited").and_then(Value::as_object_mut) {
        limited
            .entry("nominalConcurrencyShares")
            .or_insert(json!(DEFAULT_NOMINAL_CONCURRENCY_SHARES));
        limited.entry("lendablePercent").or_insert(json!(0));
        let queuing = limited
            .get_mut("limitResponse")
            .and_then(|r| r.get_mut("queuing"))
            .and_then(Value::as_object_mut);
        if let Some(queuing) = queuing {
            for (field, default) in DEFAULT_QUEUING {
                if queuing.get(field).and_then(Value::as_i64).unwrap_or(0) == 0 {
                    queuing.insert(field.into(), json!(default));
                }
            }
        }
    }
}

/// `PrepareForCreate` of both strategies: no status, generation 1.
pub fn prepare_for_create(object: &mut Value) {
    object["status"] = json!({});
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("generation".into(), json!(1));
    }
}

/// Validation of a create or update (`ValidateFlowSchema`, `ValidatePriorityLevelConfiguration`;
/// an update validates the new object alone).
pub fn validate(object: &Value) -> FieldErrors {
    let name = object
        .at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let spec = object.get("spec").cloned().unwrap_or(json!({}));
    let mut errs = if resource_of(object) == FLOW_SCHEMAS {
        match serde_json::from_value::<FlowSchemaSpec>(spec.clone()) {
            Ok(typed) => validate_flow_schema_spec(name, &typed, "spec"),
            Err(e) => FieldErrors::from(vec![FieldError::invalid(
                "spec",
                Raw(e.to_string()),
                "does not decode",
            )]),
        }
    } else {
        match serde_json::from_value::<PriorityLevelConfigurationSpec>(spec.clone()) {
            Ok(typed) => validate_priority_level_spec(name, &typed, "spec"),
            Err(e) => FieldErrors::from(vec![FieldError::invalid(
                "spec",
                Raw(e.to_string()),
                "does not decode",
            )]),
        }
    };
    errs.extend(validate_mandatory(resource_of(object), name, &spec));
    errs.extend(validate_status(object));
    errs
}

/// The Go zero values dropped, so that JSON specs compare as `apiequality.Semantic.DeepEqual`
/// compares the internal structs (`false`, `0`, `""`, empty lists and nil are all zero).
fn without_zero_values(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), without_zero_values(v)))
                .filter(|(_, v)| !is_zero(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_zero_values).collect()),
        other => other.clone(),
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// A mandatory object's spec must equal the bootstrap one (`exempt`'s priority level may
/// change only its `spec.exempt`). The value is printed as the JSON spec, not Go's `%#v`.
fn validate_mandatory(resource: &str, name: &str, spec: &Value) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let Some(mandatory) = bootstrap::mandatory(resource, name) else {
        return errs;
    };
    let mut wanted = mandatory.object();
    set_defaults(&mut wanted);
    let mut have = spec.clone();
    let exempt_level = resource == PRIORITY_LEVELS && name == NAME_EXEMPT;
    if exempt_level {
        match wanted["spec"].get("exempt") {
            Some(e) if have.get("exempt").is_some() => have["exempt"] = e.clone(),
            _ => {}
        }
        if let Some(o) = wanted["spec"].as_object_mut()
            && have.get("exempt").is_none()
        {
            o.remove("exempt");
        }
    }
    if without_zero_values(&have) != without_zero_values(&wanted["spec"]) {
        let detail = if exempt_level {
            format!("spec of '{name}' except the 'spec.exempt' field must equal the fixed value")
        } else {
            format!("spec of '{name}' must equal the fixed value")
        };
        errs.push(FieldError::invalid("spec", Raw(spec.to_string()), detail));
    }
    errs
}

/// `ValidateFlowSchemaSpec`.
fn validate_flow_schema_spec(name: &str, spec: &FlowSchemaSpec, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let precedence = spec.matching_precedence.unwrap_or(0);
    let at = format!("{path}.matchingPrecedence");
    if precedence <= 0 {
        errs.push(FieldError::invalid(
            &at,
            precedence,
            "must be a positive value",
        ));
    }
    if precedence > MAX_MATCHING_PRECEDENCE {
        errs.push(FieldError::invalid(
            &at,
            precedence,
            format!("must not be greater than {MAX_MATCHING_PRECEDENCE}"),
        ));
    }
    if precedence == 1 && name != NAME_EXEMPT {
        errs.push(FieldError::invalid(
            &at,
            precedence,
            "only the schema named 'exempt' may have matchingPrecedence 1",
        ));
    }
    if let Some(method) = &spec.distinguisher_method
        && !SUPPORTED_DISTINGUISHER_METHODS.contains(&method.type_.as_str())
    {
        errs.push(FieldError::not_supported(
            format!("{path}.distinguisherMethod.type"),
            Raw(format!(
                "flowcontrol.FlowDistinguisherMethod{{Type:{}}}",
                crate::field::go_quote(&method.type_)
            )),
            &SUPPORTED_DISTINGUISHER_METHODS,
        ));
    }
    let pl = &spec.priority_level_configuration.name;
    let pl_path = format!("{path}.priorityLevelConfiguration.name");
    if pl.is_empty() {
        errs.push(FieldError::required(
            pl_path,
            "must reference a priority level",
        ));
    } else {
        for msg in format::name_is_dns1123_subdomain(pl, false) {
            errs.push(FieldError::invalid(&pl_path, pl, msg));
        }
    }
    for (i, rule) in spec.rules.iter().flatten().enumerate() {
        errs.extend(validate_policy_rules_with_subjects(
            rule,
            &format!("{path}.rules[{i}]"),
        ));
    }
    errs
}

/// `ValidateFlowSchemaPolicyRulesWithSubjects`.
fn validate_policy_rules_with_subjects(rule: &PolicyRulesWithSubjects, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if rule.subjects.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.subjects"),
            "subjects must contain at least one value",
        ));
    }
    for (i, subject) in rule.subjects.iter().enumerate() {
        errs.extend(validate_subject(subject, &format!("{path}.subjects[{i}]")));
    }
    let resource_rules = rule.resource_rules.as_deref().unwrap_or_default();
    let non_resource_rules = rule.non_resource_rules.as_deref().unwrap_or_default();
    if resource_rules.is_empty() && non_resource_rules.is_empty() {
        errs.push(FieldError::required(
            path,
            "at least one of resourceRules and nonResourceRules has to be non-empty",
        ));
    }
    for (i, r) in resource_rules.iter().enumerate() {
        errs.extend(validate_resource_rule(
            r,
            &format!("{path}.resourceRules[{i}]"),
        ));
    }
    for (i, r) in non_resource_rules.iter().enumerate() {
        errs.extend(validate_non_resource_rule(
            r,
            &format!("{path}.nonResourceRules[{i}]"),
        ));
    }
    errs
}

/// `ValidateFlowSchemaSubject` and the per-kind subject checks.
fn validate_subject(subject: &Subject, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let forbid_user = |errs: &mut FieldErrors| {
        if subject.user.is_some() {
            errs.push(FieldError::forbidden(
                format!("{path}.user"),
                "user is forbidden when subject kind is not 'User'",
            ));
        }
    };
    let forbid_group = |errs: &mut FieldErrors| {
        if subject.group.is_some() {
            errs.push(FieldError::forbidden(
                format!("{path}.group"),
                "group is forbidden when subject kind is not 'Group'",
            ));
        }
    };
    let forbid_service_account = |errs: &mut FieldErrors| {
        if subject.service_account.is_some() {
            errs.push(FieldError::forbidden(
                format!("{path}.serviceAccount"),
                "serviceAccount is forbidden when subject kind is not 'ServiceAccount'",
            ));
        }
    };
    match subject.kind.as_str() {
        "ServiceAccount" => {
            let at = format!("{path}.serviceAccount");
            match &subject.service_account {
                None => errs.push(FieldError::required(
                    at,
                    "serviceAccount is required when subject kind is 'ServiceAccount'",
                )),
                Some(sa) => {
                    if sa.name.is_empty() {
                        errs.push(FieldError::required(format!("{at}.name"), ""));
                    } else if sa.name != "*" {
                        for msg in format::name_is_dns1123_subdomain(&sa.name, false) {
                            errs.push(FieldError::invalid(format!("{at}.name"), &sa.name, msg));
                        }
                    }
                    if sa.namespace.is_empty() {
                        errs.push(FieldError::required(
                            format!("{at}.namespace"),
                            "must specify namespace for service account",
                        ));
                    } else {
                        for msg in format::name_is_dns1123_label(&sa.namespace, false) {
                            errs.push(FieldError::invalid(
                                format!("{at}.namespace"),
                                &sa.namespace,
                                msg,
                            ));
                        }
                    }
                }
            }
            forbid_user(&mut errs);
            forbid_group(&mut errs);
        }
        "User" => {
            forbid_service_account(&mut errs);
            match &subject.user {
                None => errs.push(FieldError::required(
                    format!("{path}.user"),
                    "user is required when subject kind is 'User'",
                )),
                Some(u) if u.name.is_empty() => {
                    errs.push(FieldError::required(format!("{path}.user.name"), ""))
                }
                Some(_) => {}
            }
            forbid_group(&mut errs);
        }
        "Group" => {
            forbid_service_account(&mut errs);
            forbid_user(&mut errs);
            match &subject.group {
                None => errs.push(FieldError::required(
                    format!("{path}.group"),
                    "group is required when subject kind is 'Group'",
                )),
                Some(g) if g.name.is_empty() => {
                    errs.push(FieldError::required(format!("{path}.group.name"), ""))
                }
                Some(_) => {}
            }
        }
        other => errs.push(FieldError::not_supported(
            format!("{path}.kind"),
            other,
            &SUPPORTED_SUBJECT_KINDS,
        )),
    }
    errs
}

fn has_wildcard(values: &[String]) -> bool {
    values.iter().any(|v| v == "*")
}

/// The verbs of a rule: one or more supported verbs, or `*` alone.
fn validate_verbs(verbs: &[String], path: &str, errs: &mut FieldErrors) {
    let at = format!("{path}.verbs");
    if verbs.is_empty() {
        errs.push(FieldError::required(
            at,
            "verbs must contain at least one value",
        ));
    } else if has_wildcard(verbs) {
        if verbs.len() > 1 {
            errs.push(FieldError::invalid(
                at,
                go_string_slice(verbs),
                "if '*' is present, must not specify other verbs",
            ));
        }
    } else if !verbs.iter().all(|v| SUPPORTED_VERBS.contains(&v.as_str())) {
        errs.push(FieldError::not_supported(
            at,
            go_string_slice(verbs),
            &SUPPORTED_VERBS,
        ));
    }
}

/// `ValidateFlowSchemaResourcePolicyRule`.
fn validate_resource_rule(rule: &ResourcePolicyRule, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    validate_verbs(&rule.verbs, path, &mut errs);
    for (field, values, noun) in [
        ("apiGroups", &rule.api_groups, "api group"),
        ("resources", &rule.resources, "resource"),
    ] {
        let at = format!("{path}.{field}");
        if values.is_empty() {
            errs.push(FieldError::required(
                at,
                format!("resource rules must supply at least one {noun}"),
            ));
        } else if values.len() > 1 && has_wildcard(values) {
            errs.push(FieldError::invalid(
                at,
                go_string_slice(values),
                format!("if '*' is present, must not specify other {noun}s"),
            ));
        }
    }
    let namespaces = rule.namespaces.as_deref().unwrap_or_default();
    let at = format!("{path}.namespaces");
    if namespaces.is_empty() && !rule.cluster_scope.unwrap_or(false) {
        errs.push(FieldError::required(
            at,
            "resource rules that are not cluster scoped must supply at least one namespace",
        ));
    } else if has_wildcard(namespaces) {
        if namespaces.len() > 1 {
            errs.push(FieldError::invalid(
                at,
                go_string_slice(namespaces),
                "if '*' is present, must not specify other namespaces",
            ));
        }
    } else {
        for (i, ns) in namespaces.iter().enumerate() {
            for msg in format::name_is_dns1123_label(ns, false) {
                errs.push(FieldError::invalid(
                    format!("{at}[{i}]"),
                    ns,
                    format!("{NS_ERR_INTRO}{msg}"),
                ));
            }
        }
    }
    errs
}

/// `ValidateFlowSchemaNonResourcePolicyRule`.
fn validate_non_resource_rule(rule: &NonResourcePolicyRule, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    validate_verbs(&rule.verbs, path, &mut errs);
    let urls = &rule.non_resource_urls;
    let at = format!("{path}.nonResourceURLs");
    if urls.is_empty() {
        errs.push(FieldError::required(
            at,
            "nonResourceURLs must contain at least one value",
        ));
    } else if has_wildcard(urls) {
        if urls.len() > 1 {
            errs.push(FieldError::invalid(
                at,
                go_string_slice(urls),
                "if '*' is present, must not specify other non-resource URLs",
            ));
        }
    } else {
        for (i, url) in urls.iter().enumerate() {
            if let Some(msg) = non_resource_url_problem(url) {
                errs.push(FieldError::invalid(format!("{at}[{i}]"), url, msg));
            }
        }
    }
    errs
}

/// `ValidateNonResourceURLPath`.
fn non_resource_url_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("must not be empty");
    }
    if path == "/" {
        return None;
    }
    if !path.starts_with('/') {
        return Some("must start with slash");
    }
    if path.contains(' ') {
        return Some("must not contain white-space");
    }
    if path.contains("//") {
        return Some("must not contain double slash");
    }
    let wildcards = path.matches('*').count();
    if wildcards > 1 || (wildcards == 1 && !path.ends_with("/*")) {
        return Some("wildcard can only do suffix matching");
    }
    None
}

/// `ValidatePriorityLevelConfigurationSpec`, as v1.32 validates it for v1 (zero nominal
/// concurrency shares allowed).
fn validate_priority_level_spec(
    name: &str,
    spec: &PriorityLevelConfigurationSpec,
    path: &str,
) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if (name == NAME_EXEMPT) != (spec.type_ == "Exempt") {
        errs.push(FieldError::invalid(
            format!("{path}.type"),
            &spec.type_,
            "type must be 'Exempt' if and only if name is 'exempt'",
        ));
    }
    match spec.type_.as_str() {
        "Exempt" => {
            if spec.limited.is_some() {
                errs.push(FieldError::forbidden(
                    format!("{path}.limited"),
                    "must be nil if the type is not Limited",
                ));
            }
            if let Some(exempt) = &spec.exempt {
                let at = format!("{path}.exempt");
                if let Some(ncs) = exempt.nominal_concurrency_shares
                    && ncs < 0
                {
                    errs.push(FieldError::invalid(
                        format!("{at}.nominalConcurrencyShares"),
                        ncs,
                        "must be a non-negative number",
                    ));
                }
                validate_lendable(exempt.lendable_percent, &at, &mut errs);
            }
        }
        "Limited" => {
            if spec.exempt.is_some() {
                errs.push(FieldError::forbidden(
                    format!("{path}.exempt"),
                    "must be nil if the type is Limited",
                ));
            }
            match &spec.limited {
                None => errs.push(FieldError::required(
                    format!("{path}.limited"),
                    "must not be empty when type is Limited",
                )),
                Some(limited) => errs.extend(validate_limited(limited, &format!("{path}.limited"))),
            }
        }
        other => errs.push(FieldError::not_supported(
            format!("{path}.type"),
            other,
            &SUPPORTED_ENABLEMENT,
        )),
    }
    errs
}

fn validate_lendable(lendable: Option<i32>, path: &str, errs: &mut FieldErrors) {
    if let Some(p) = lendable
        && !(0..=100).contains(&p)
    {
        errs.push(FieldError::invalid(
            format!("{path}.lendablePercent"),
            p,
            "must be between 0 and 100, inclusive",
        ));
    }
}

/// `ValidateLimitedPriorityLevelConfiguration`.
fn validate_limited(limited: &LimitedPriorityLevelConfiguration, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let ncs = limited.nominal_concurrency_shares.unwrap_or(0);
    if ncs < 0 {
        errs.push(FieldError::invalid(
            format!("{path}.nominalConcurrencyShares"),
            ncs,
            "must be a non-negative integer",
        ));
    }
    let response = limited.limit_response.clone().unwrap_or_default();
    errs.extend(validate_limit_response(
        &response,
        &format!("{path}.limitResponse"),
    ));
    validate_lendable(limited.lendable_percent, path, &mut errs);
    if let Some(b) = limited.borrowing_limit_percent
        && b < 0
    {
        errs.push(FieldError::invalid(
            format!("{path}.borrowingLimitPercent"),
            b,
            "if specified, must be a non-negative integer",
        ));
    }
    errs
}

/// `ValidateLimitResponse`.
fn validate_limit_response(response: &LimitResponse, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    match response.type_.as_str() {
        "Reject" => {
            if response.queuing.is_some() {
                errs.push(FieldError::forbidden(
                    format!("{path}.queuing"),
                    "must be nil if limited.limitResponse.type is not Limited",
                ));
            }
        }
        "Queue" => match &response.queuing {
            None => errs.push(FieldError::required(
                format!("{path}.queuing"),
                "must not be empty if limited.limitResponse.type is Limited",
            )),
            Some(q) => errs.extend(validate_queuing(q, &format!("{path}.queuing"))),
        },
        other => errs.push(FieldError::not_supported(
            format!("{path}.type"),
            other,
            &SUPPORTED_LIMIT_RESPONSE,
        )),
    }
    errs
}

/// `ValidatePriorityLevelQueuingConfiguration`.
fn validate_queuing(queuing: &QueuingConfiguration, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let limit = queuing.queue_length_limit.unwrap_or(0);
    if limit <= 0 {
        errs.push(FieldError::invalid(
            format!("{path}.queueLengthLimit"),
            limit,
            "must be positive",
        ));
    }
    let queues = queuing.queues.unwrap_or(0);
    if queues <= 0 {
        errs.push(FieldError::invalid(
            format!("{path}.queues"),
            queues,
            "must be positive",
        ));
    } else if queues > MAX_QUEUES {
        errs.push(FieldError::invalid(
            format!("{path}.queues"),
            queues,
            format!("must not be greater than {MAX_QUEUES}"),
        ));
    }
    let hand = queuing.hand_size.unwrap_or(0);
    let at = format!("{path}.handSize");
    if hand <= 0 {
        errs.push(FieldError::invalid(at, hand, "must be positive"));
    } else if hand > queues {
        errs.push(FieldError::invalid(
            at,
            hand,
            format!("should not be greater than queues ({queues})"),
        ));
    } else if (f64::from(queues).log2() * f64::from(hand)).ceil() > MAX_HASH_BITS {
        // `shufflesharding.RequiredEntropyBits`.
        errs.push(FieldError::invalid(
            at,
            hand,
            format!(
                "required entropy bits of deckSize {queues} and handSize {hand} should not be greater than {MAX_HASH_BITS}"
            ),
        ));
    }
    errs
}

/// `Validate…Status`: condition types present and unique.
fn validate_status(object: &Value) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let conditions = object
        .at("/status/conditions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut seen: Vec<&str> = Vec::new();
    for (i, condition) in conditions.iter().enumerate() {
        let type_ = condition
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let at = format!("status.conditions[{i}].type");
        if seen.contains(&type_) {
            errs.push(FieldError::duplicate(&at, type_));
        }
        seen.push(type_);
        if type_.is_empty() {
            errs.push(FieldError::required(at, "must not be empty"));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow_schema(name: &str, spec: Value) -> Value {
        let mut fs = json!({"kind": "FlowSchema", "metadata": {"name": name}, "spec": spec});
        set_defaults(&mut fs);
        fs
    }

    fn details(errs: &FieldErrors) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.body()))
            .collect()
    }

    #[test]
    fn matching_precedence_defaults_to_1000() {
        let fs = flow_schema("a", json!({"priorityLevelConfiguration": {"name": "x"}}));
        assert_eq!(fs["spec"]["matchingPrecedence"], 1000);
    }

    #[test]
    fn flow_schema_rules_in_upstream_words() {
        let fs = flow_schema(
            "fred",
            json!({"matchingPrecedence": 1, "priorityLevelConfiguration": {"name": "exempt"},
                "rules": [{"subjects": [{"kind": "User"}],
                    "resourceRules": [{"verbs": ["*", "create"], "apiGroups": ["*", "tak"],
                        "resources": ["tok"], "namespaces": ["Bad"]}]},
                    {"subjects": [{"kind": "Group", "group": {"name": "g"}}]}]}),
        );
        assert_eq!(
            details(&validate(&fs)),
            [
                "spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1",
                "spec.rules[0].subjects[0].user: Required value: user is required when subject kind is 'User'",
                "spec.rules[0].resourceRules[0].verbs: Invalid value: []string{\"*\", \"create\"}: if '*' is present, must not specify other verbs",
                "spec.rules[0].resourceRules[0].apiGroups: Invalid value: []string{\"*\", \"tak\"}: if '*' is present, must not specify other api groups",
                "spec.rules[0].resourceRules[0].namespaces[0]: Invalid value: \"Bad\": each member of this list must be '*' or a DNS-1123 label; a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.rules[1]: Required value: at least one of resourceRules and nonResourceRules has to be non-empty",
            ]
        );
    }

    #[test]
    fn mandatory_specs_are_fixed() {
        let mut exempt = bootstrap::mandatory(FLOW_SCHEMAS, NAME_EXEMPT)
            .unwrap()
            .object();
        set_defaults(&mut exempt);
        assert!(validate(&exempt).is_empty());
        exempt["spec"]["matchingPrecedence"] = json!(2);
        let errs = details(&validate(&exempt));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].ends_with("spec of 'exempt' must equal the fixed value"),
            "{errs:?}"
        );

        // The exempt priority level may change its `exempt` numbers only.
        let mut level = bootstrap::mandatory(PRIORITY_LEVELS, NAME_EXEMPT)
            .unwrap()
            .object();
        level["spec"]["exempt"]["nominalConcurrencyShares"] = json!(10);
        assert!(
            validate(&level).is_empty(),
            "{:?}",
            details(&validate(&level))
        );
    }

    #[test]
    fn priority_levels_in_upstream_words() {
        let mut pl = json!({"kind": "PriorityLevelConfiguration", "metadata": {"name": "p"},
            "spec": {"type": "Limited", "limited": {"lendablePercent": 101,
                "limitResponse": {"type": "Queue", "queuing": {"queues": 4, "handSize": 5}}}}});
        set_defaults(&mut pl);
        assert_eq!(pl["spec"]["limited"]["nominalConcurrencyShares"], 30);
        assert_eq!(
            pl["spec"]["limited"]["limitResponse"]["queuing"]["queueLengthLimit"],
            50
        );
        assert_eq!(
            details(&validate(&pl)),
            [
                "spec.limited.limitResponse.queuing.handSize: Invalid value: 5: should not be greater than queues (4)",
                "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive",
            ]
        );
        let exempt_named = json!({"kind": "PriorityLevelConfiguration", "metadata": {"name": "q"},
            "spec": {"type": "Exempt"}});
        assert_eq!(
            details(&validate(&exempt_named)),
            [
                "spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only if name is 'exempt'"
            ]
        );
    }
}
