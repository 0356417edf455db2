//! Validation of apps/v1 Deployments and ReplicaSets and of core/v1 Pods in kube-apiserver
//! v1.32's words: the essential rules of `ValidateDeploymentSpec` and
//! `ValidateReplicaSetSpec` (pkg/apis/apps/validation/validation.go) and of the pod spec
//! (pkg/apis/core/validation/validation.go: volumes, containers, env, mounts, probes), in
//! upstream's order. The object is the defaulted JSON; metadata is validated by the
//! registry's generic rules.

mod containers;
mod env;
mod json;
mod mounts;
mod plugins;
mod pod_spec;
mod probes;
mod volumes;

use crate::json::Pointer as _;
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
use serde_json::{Map, Value};

use super::defaults::{RESTART_ALWAYS, STRATEGY_RECREATE, STRATEGY_ROLLING_UPDATE};
use crate::field::{FieldError, FieldErrors, Raw, go_quote};
use crate::format;
use crate::meta;
use crate::selector::LabelSelector;

/// `isNegativeErrorMsg` of `ValidateNonnegativeField`.
const NEGATIVE_MSG: &str = "must be greater than or equal to 0";
/// `validSelectorOperators`, in upstream's order.
const SELECTOR_OPERATORS: [&str; 4] = ["In", "NotIn", "Exists", "DoesNotExist"];
const PERCENT_FMT: &str = "[0-9]+%";
const PERCENT_ERR: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";

/// The errors of a Deployment's `spec`; mirrors `ValidateDeploymentSpec` (create and update
/// validate the spec alike).
pub fn validate_deployment_spec(deployment: &Value) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let empty = Map::new();
    let spec = deployment
        .get("spec")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    nonnegative(&mut errs, "spec.replicas", int(spec, "replicas"));
    validate_selector_and_template(&mut errs, spec);

    validate_strategy(&mut errs, spec.get("strategy"));
    let min_ready = int(spec, "minReadySeconds");
    nonnegative(&mut errs, "spec.minReadySeconds", min_ready);
    if let Some(limit) = spec.get("revisionHistoryLimit").and_then(Value::as_i64) {
        nonnegative(&mut errs, "spec.revisionHistoryLimit", limit);
    }
    if let Some(deadline) = spec.get("progressDeadlineSeconds").and_then(Value::as_i64) {
        nonnegative(&mut errs, "spec.progressDeadlineSeconds", deadline);
        if deadline <= min_ready {
            errs.push(FieldError::invalid(
                "spec.progressDeadlineSeconds",
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

/// The errors of a ReplicaSet's `spec`; mirrors `ValidateReplicaSetSpec`.
pub fn validate_replica_set_spec(replica_set: &Value) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let empty = Map::new();
    let spec = replica_set
        .get("spec")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    nonnegative(&mut errs, "spec.replicas", int(spec, "replicas"));
    nonnegative(
        &mut errs,
        "spec.minReadySeconds",
        int(spec, "minReadySeconds"),
    );
    validate_selector_and_template(&mut errs, spec);
    errs
}

/// The errors of a Pod's `spec`; mirrors the `ValidatePodSpec` part of `ValidatePodCreate`
/// (create and update validate the spec alike).
pub fn validate_pod(pod: &Value) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let name = pod
        .at("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    pod_spec::validate_pod_spec(&mut errs, spec, name, "spec");
    pod_spec::validate_containers_only_for_pod(&mut errs, spec, "spec");
    errs
}

/// The update rule both kinds add in apps/v1 (`ValidateImmutableField` of `spec.selector` in
/// the strategies' `ValidateUpdate`).
pub fn validate_selector_unchanged(object: &Value, old: &Value) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let (new, old) = (object.at("/spec/selector"), old.at("/spec/selector"));
    if new != old {
        errs.push(FieldError::invalid(
            "spec.selector",
            Raw(new
                .map(label_selector_string)
                .unwrap_or_else(|| "nil".into())),
            "field is immutable",
        ));
    }
    errs
}

/// The selector rules shared by Deployments and ReplicaSets, then the template's.
fn validate_selector_and_template(errs: &mut FieldErrors, spec: &Map<String, Value>) {
    let selector_json = spec.get("selector").filter(|s| !s.is_null());
    match selector_json {
        None => errs.push(FieldError::required("spec.selector", "")),
        Some(s) => {
            validate_label_selector(errs, s);
            let labels = s.get("matchLabels").and_then(Value::as_object);
            let expressions = s.get("matchExpressions").and_then(Value::as_array);
            if labels.is_none_or(Map::is_empty) && expressions.is_none_or(Vec::is_empty) {
                errs.push(FieldError::invalid(
                    "spec.selector",
                    Raw(label_selector_string(s)),
                    "empty selector is invalid for deployment",
                ));
            }
        }
    }
    // metav1.LabelSelectorAsSelector: a missing selector selects nothing, so no template matches.
    let selector = match selector_json {
        None => Ok(LabelSelector::nothing()),
        Some(s) => serde_json::from_value::<metav1::LabelSelector>(s.clone())
            .map_err(|e| e.to_string())
            .and_then(|s| LabelSelector::from_label_selector(&s)),
    };
    match selector {
        Ok(selector) => validate_template(errs, spec.get("template"), &selector),
        Err(_) => errs.push(FieldError::invalid(
            "spec.selector",
            Raw(selector_json.map(label_selector_string).unwrap_or_default()),
            "invalid label selector",
        )),
    }
}

/// `ValidatePodTemplateSpecForReplicaSet`: the selector must match the labels, the template
/// must be a valid pod template, and its pods must restart `Always` without a deadline.
fn validate_template(errs: &mut FieldErrors, template: Option<&Value>, selector: &LabelSelector) {
    let empty = Map::new();
    let template = template.and_then(Value::as_object).unwrap_or(&empty);
    let labels_json = template
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object);
    if !selector.is_empty() {
        let labels = labels_json
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        if !selector.matches(&labels) {
            errs.push(FieldError::invalid(
                "spec.template.metadata.labels",
                Raw(go_string_map(labels_json)),
                "`selector` does not match template `labels`",
            ));
        }
    }
    // ValidatePodTemplateSpec: the labels and annotations sit under the template's path,
    // not under its metadata.
    let metadata = template.get("metadata");
    errs.extend(meta::validate_labels(
        &string_map(metadata.and_then(|m| m.get("labels"))),
        "spec.template.labels",
    ));
    errs.extend(meta::validate_annotations(
        &string_map(metadata.and_then(|m| m.get("annotations"))),
        "spec.template.annotations",
    ));
    let null = Value::Null;
    let pod_spec_json = template.get("spec").unwrap_or(&null);
    pod_spec::validate_pod_spec(errs, pod_spec_json, None, "spec.template.spec");
    if !json::items(pod_spec_json, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            "spec.template.spec.ephemeralContainers",
            "ephemeral containers not allowed in pod template",
        ));
    }
    let pod_spec = pod_spec_json.as_object().unwrap_or(&empty);
    let restart = pod_spec
        .get("restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("");
    if restart != RESTART_ALWAYS {
        errs.push(FieldError::not_supported_in_order(
            "spec.template.spec.restartPolicy",
            restart,
            &[RESTART_ALWAYS],
        ));
    }
    if pod_spec
        .get("activeDeadlineSeconds")
        .is_some_and(|v| !v.is_null())
    {
        errs.push(FieldError::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ));
    }
}

/// `ValidateDeploymentStrategy` and `ValidateRollingUpdateDeployment`.
fn validate_strategy(errs: &mut FieldErrors, strategy: Option<&Value>) {
    let type_ = strategy
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let rolling = strategy
        .and_then(|s| s.get("rollingUpdate"))
        .filter(|r| !r.is_null());
    match type_ {
        STRATEGY_RECREATE if rolling.is_some() => errs.push(FieldError::forbidden(
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        )),
        STRATEGY_RECREATE => {}
        STRATEGY_ROLLING_UPDATE => match rolling {
            None => errs.push(FieldError::required(
                "spec.strategy.rollingUpdate",
                "this should be defaulted and never be nil",
            )),
            Some(r) => validate_rolling_update(errs, r),
        },
        // The internal struct is printed with %#v, which shows the rollingUpdate pointer's
        // address; only the nil pointer prints reproducibly.
        other if rolling.is_none() => errs.push(FieldError::not_supported_in_order(
            "spec.strategy",
            Raw(format!(
                "apps.DeploymentStrategy{{Type:{}, RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}}",
                go_quote(other)
            )),
            &[STRATEGY_RECREATE, STRATEGY_ROLLING_UPDATE],
        )),
        _ => {}
    }
}

/// An `intstr.IntOrString` as the validation reads it.
enum IntOrPercent {
    Int(i64),
    Str(String),
}

impl IntOrPercent {
    fn from(v: Option<&Value>) -> IntOrPercent {
        match v {
            Some(Value::String(s)) => IntOrPercent::Str(s.clone()),
            Some(v) => IntOrPercent::Int(v.as_i64().unwrap_or(0)),
            None => IntOrPercent::Int(0),
        }
    }

    /// `IntOrString.String()`: the text or the number, unquoted.
    fn text(&self) -> Raw {
        match self {
            IntOrPercent::Int(n) => Raw(n.to_string()),
            IntOrPercent::Str(s) => Raw(s.clone()),
        }
    }

    /// `getPercentValue`: the number of a valid percent string.
    fn percent(&self) -> Option<i64> {
        match self {
            IntOrPercent::Str(s) if is_valid_percent(s) => s[..s.len() - 1].parse().ok(),
            _ => None,
        }
    }

    /// `getIntOrPercentValue`: a percent's number, an int, or `Atoi` of other text (0 on error).
    fn value(&self) -> i64 {
        match (self.percent(), self) {
            (Some(p), _) => p,
            (None, IntOrPercent::Int(n)) => *n,
            (None, IntOrPercent::Str(s)) => s.parse().unwrap_or(0),
        }
    }
}

fn is_valid_percent(s: &str) -> bool {
    s.strip_suffix('%')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn validate_rolling_update(errs: &mut FieldErrors, rolling: &Value) {
    let max_unavailable = IntOrPercent::from(rolling.get("maxUnavailable"));
    let max_surge = IntOrPercent::from(rolling.get("maxSurge"));
    let unavailable_path = "spec.strategy.rollingUpdate.maxUnavailable";
    positive_int_or_percent(errs, unavailable_path, &max_unavailable);
    positive_int_or_percent(errs, "spec.strategy.rollingUpdate.maxSurge", &max_surge);
    if max_unavailable.value() == 0 && max_surge.value() == 0 {
        errs.push(FieldError::invalid(
            unavailable_path,
            max_unavailable.text(),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    if max_unavailable.percent().is_some_and(|p| p > 100) {
        errs.push(FieldError::invalid(
            unavailable_path,
            max_unavailable.text(),
            "must not be greater than 100%",
        ));
    }
}

/// `ValidatePositiveIntOrPercent`.
fn positive_int_or_percent(errs: &mut FieldErrors, path: &str, v: &IntOrPercent) {
    match v {
        IntOrPercent::Str(s) if !is_valid_percent(s) => errs.push(FieldError::invalid(
            path,
            v.text(),
            format::regex_error(PERCENT_ERR, PERCENT_FMT, &["1%", "93%"]),
        )),
        IntOrPercent::Int(n) => nonnegative(errs, path, *n),
        IntOrPercent::Str(_) => {}
    }
}

/// `ValidateNonnegativeField`.
fn nonnegative(errs: &mut FieldErrors, path: &str, value: i64) {
    if value < 0 {
        errs.push(FieldError::invalid(path, value, NEGATIVE_MSG));
    }
}

fn int(o: &Map<String, Value>, key: &str) -> i64 {
    o.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// A `map[string]string` as `%#v` prints it: keys sorted, `map[string]string(nil)` for nil.
fn go_string_map(map: Option<&Map<String, Value>>) -> String {
    let Some(map) = map else {
        return "map[string]string(nil)".to_string();
    };
    let mut pairs: Vec<(&String, &str)> = map
        .iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
        .collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

/// `ValidateLabelSelector` with invalid label values refused: the `matchLabels` as labels,
/// then each requirement's operator, key and values.
fn validate_label_selector(errs: &mut FieldErrors, selector: &Value) {
    errs.extend(meta::validate_labels(
        &string_map(selector.get("matchLabels")),
        "spec.selector.matchLabels",
    ));
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, expr) in expressions.iter().enumerate() {
        let path = format!("spec.selector.matchExpressions[{i}]");
        let operator = expr.get("operator").and_then(Value::as_str).unwrap_or("");
        let values = string_list(expr.get("values"));
        match operator {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                format!("{path}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                format!("{path}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::not_supported_in_order(
                format!("{path}.operator"),
                other,
                &SELECTOR_OPERATORS,
            )),
        }
        let key = expr.get("key").and_then(Value::as_str).unwrap_or("");
        for msg in format::is_qualified_name(key) {
            errs.push(FieldError::invalid(format!("{path}.key"), key, msg));
        }
        for (j, value) in values.iter().enumerate() {
            for msg in format::is_valid_label_value(value) {
                errs.push(FieldError::invalid(
                    format!("{path}.values[{j}]"),
                    value,
                    msg,
                ));
            }
        }
    }
}

/// A `*metav1.LabelSelector` as its generated (gogo-protobuf) `String()` prints it.
fn label_selector_string(selector: &Value) -> String {
    let labels: String = string_map(selector.get("matchLabels"))
        .iter()
        .map(|(k, v)| format!("{k}: {v},"))
        .collect();
    let expressions: String = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let text = |key: &str| e.get(key).and_then(Value::as_str).unwrap_or("").to_string();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{}],}},",
                text("key"),
                text("operator"),
                string_list(e.get("values")).join(" ")
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

/// Builders shared by the pod spec rules' tests: a Pod or a Deployment around a pod spec,
/// defaulted as the registry stores it, and its errors as text.
#[cfg(test)]
mod test_support {
    use serde_json::{Value, json};

    use crate::workload::defaults::{set_deployment_defaults, set_pod_defaults};

    /// The errors of a Pod whose spec is `spec`.
    pub fn pod_errors(spec: Value) -> Vec<String> {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": spec});
        set_pod_defaults(&mut pod);
        super::validate_pod(&pod)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The errors of a Pod with one container `c` (image `nginx`) changed by `container`,
    /// and the pod spec changed by `spec`.
    pub fn container_errors(container: Value, spec: Value) -> Vec<String> {
        let mut c = json!({"name": "c", "image": "nginx"});
        merge(&mut c, container);
        let mut s = json!({"containers": [c]});
        merge(&mut s, spec);
        pod_errors(s)
    }

    /// The errors of a Deployment whose template's pod spec is `spec`.
    pub fn template_errors(spec: Value) -> Vec<String> {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}}});
        set_deployment_defaults(&mut d);
        super::validate_deployment_spec(&d)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn merge(into: &mut Value, from: Value) {
        if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
            into.extend(from);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::workload::defaults::set_deployment_defaults;

    fn valid() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}})
    }

    fn errors(change: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut d = valid();
        change(&mut d);
        set_deployment_defaults(&mut d);
        validate_deployment_spec(&d)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_valid_deployment_has_no_errors() {
        assert_eq!(errors(|_| {}), Vec::<String>::new());
    }

    #[test]
    fn recreate_without_rolling_update_is_valid() {
        assert_eq!(
            errors(|d| d["spec"]["strategy"] = json!({"type": "Recreate"})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn cases() {
        type Change = fn(&mut Value);
        let cases: Vec<(&str, Change, Vec<&str>)> = vec![
            (
                "negative replicas",
                |d| d["spec"]["replicas"] = json!(-1),
                vec!["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
            ),
            (
                "missing selector",
                |d| {
                    d["spec"]
                        .as_object_mut()
                        .unwrap()
                        .remove("selector")
                        .map(drop)
                        .unwrap_or(())
                },
                vec![
                    "spec.selector: Required value",
                    "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
                ],
            ),
            (
                "selector does not match",
                |d| d["spec"]["selector"] = json!({"matchLabels": {"app": "api", "tier": "x"}}),
                vec![
                    "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
                ],
            ),
            (
                "template without labels",
                |d| d["spec"]["template"]["metadata"] = json!({}),
                vec![
                    "spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`",
                ],
            ),
            (
                "empty selector",
                |d| d["spec"]["selector"] = json!({}),
                vec![
                    "spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{},}: empty selector is invalid for deployment",
                ],
            ),
            (
                "bad selector requirement",
                |d| {
                    d["spec"]["selector"] = json!({"matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "In"}]})
                },
                vec![
                    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                    "spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{app: web,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[],},},}: invalid label selector",
                ],
            ),
            (
                "unknown selector operator",
                |d| {
                    d["spec"]["selector"] = json!({"matchLabels": {"app": "web"},
                    "matchExpressions": [{"key": "tier", "operator": "Is", "values": ["a", "b"]}]})
                },
                vec![
                    "spec.selector.matchExpressions[0].operator: Unsupported value: \"Is\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
                    "spec.selector: Invalid value: &LabelSelector{MatchLabels:map[string]string{app: web,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:Is,Values:[a b],},},}: invalid label selector",
                ],
            ),
            (
                "selector expressions that match",
                |d| {
                    d["spec"]["selector"] = json!({"matchExpressions": [
                    {"key": "app", "operator": "In", "values": ["web", "api"]},
                    {"key": "tier", "operator": "DoesNotExist"}]})
                },
                vec![],
            ),
            (
                "bad template label",
                |d| {
                    d["spec"]["selector"] = json!({"matchLabels": {"app": "web"}});
                    d["spec"]["template"]["metadata"]["labels"]["x"] = json!("-bad-");
                },
                vec![
                    "spec.template.labels: Invalid value: \"-bad-\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                ],
            ),
            (
                "no containers",
                |d| d["spec"]["template"]["spec"]["containers"] = json!([]),
                vec!["spec.template.spec.containers: Required value"],
            ),
            (
                "container without name and image",
                |d| d["spec"]["template"]["spec"]["containers"] = json!([{}]),
                vec![
                    "spec.template.spec.containers[0].name: Required value",
                    "spec.template.spec.containers[0].image: Required value",
                ],
            ),
            (
                "bad and duplicate container names",
                |d| {
                    d["spec"]["template"]["spec"]["containers"] = json!([
                    {"name": "Web", "image": "a"}, {"name": "Web", "image": "b"}])
                },
                vec![
                    "spec.template.spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                    "spec.template.spec.containers[1].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                    "spec.template.spec.containers[1].name: Duplicate value: \"Web\"",
                ],
            ),
            (
                "bad container ports and policies",
                |d| {
                    d["spec"]["template"]["spec"]["containers"] = json!([{"name": "c", "image": "x",
                    "terminationMessagePolicy": "Stdout", "imagePullPolicy": "Sometimes",
                    "ports": [{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 70000, "protocol": "ICMP"},
                              {"name": "Bad_Name", "hostPort": -1}]}])
                },
                vec![
                    "spec.template.spec.containers[0].terminationMessagePolicy: Unsupported value: \"Stdout\": supported values: \"File\", \"FallbackToLogsOnError\"",
                    "spec.template.spec.containers[0].ports[1].name: Duplicate value: \"http\"",
                    "spec.template.spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                    "spec.template.spec.containers[0].ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                    "spec.template.spec.containers[0].ports[2].name: Invalid value: \"Bad_Name\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                    "spec.template.spec.containers[0].ports[2].containerPort: Required value",
                    "spec.template.spec.containers[0].ports[2].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive",
                    "spec.template.spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                ],
            ),
            (
                "restart policy other than Always",
                |d| d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never"),
                vec![
                    "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
                ],
            ),
            (
                "recreate with rolling update",
                |d| d["spec"]["strategy"] = json!({"type": "Recreate", "rollingUpdate": {}}),
                vec![
                    "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
                ],
            ),
            (
                "both zero",
                |d| {
                    d["spec"]["strategy"] =
                        json!({"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}})
                },
                vec![
                    "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
                ],
            ),
            (
                "bad percent",
                |d| {
                    d["spec"]["strategy"] =
                        json!({"rollingUpdate": {"maxUnavailable": "abc", "maxSurge": -1}})
                },
                vec![
                    "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: abc: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                    "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0",
                ],
            ),
            (
                "more than 100%",
                |d| d["spec"]["strategy"] = json!({"rollingUpdate": {"maxUnavailable": "150%"}}),
                vec![
                    "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater than 100%",
                ],
            ),
            (
                "unknown strategy",
                |d| d["spec"]["strategy"] = json!({"type": "randomType"}),
                vec![
                    "spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"randomType\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", \"RollingUpdate\"",
                ],
            ),
            (
                "negative counts",
                |d| {
                    d["spec"]["minReadySeconds"] = json!(-1);
                    d["spec"]["revisionHistoryLimit"] = json!(-2);
                },
                vec![
                    "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
                    "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0",
                ],
            ),
            (
                "progress deadline not above min ready",
                |d| {
                    d["spec"]["minReadySeconds"] = json!(10);
                    d["spec"]["progressDeadlineSeconds"] = json!(10);
                },
                vec![
                    "spec.progressDeadlineSeconds: Invalid value: 10: must be greater than minReadySeconds",
                ],
            ),
        ];
        for (name, change, expected) in cases {
            assert_eq!(errors(change), expected, "{name}");
        }
    }
}
