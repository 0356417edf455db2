//! `ValidateEnv`, `validateEnvVarValueFrom` and `ValidateEnvFrom`
//! (pkg/apis/core/validation/validation.go) with the downward API selectors they share with
//! volumes. Names follow `IsRelaxedEnvVarName`: the `RelaxedEnvironmentVariableValidation`
//! gate is beta and on by default in v1.32 (pkg/features/kube_features.go).

use serde_json::Value;

use super::json::{child, items, text};
use crate::field::{FieldError, FieldErrors};
use crate::format;
use crate::workload::qos::quantity_nanos;

/// `validEnvDownwardAPIFieldPathExpressions`.
pub const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// `validVolumeDownwardAPIFieldPathExpressions`.
pub const VOLUME_FIELD_PATHS: [&str; 5] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.labels",
    "metadata.annotations",
    "metadata.uid",
];

/// `validContainerResourceFieldPathExpressions`.
const RESOURCE_FIELD_PATHS: [&str; 6] = [
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
];

/// `validContainerResourceFieldPathPrefixesWithDownwardAPIHugePages`.
const HUGEPAGES_PREFIXES: [&str; 2] = ["requests.hugepages-", "limits.hugepages-"];

/// The labels `ConvertDownwardAPIFieldLabel` (pkg/apis/core/pods/helpers.go) accepts in v1.
const CONVERTIBLE_FIELD_LABELS: [&str; 15] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
    "spec.host",
];

const ONE_AT_A_TIME: &str = "may not have more than one field specified at a time";

/// `ValidateEnv`.
pub fn validate_env(errs: &mut FieldErrors, container: &Value, path: &str) {
    for (i, var) in items(container, "env").iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = text(var, "name");
        if name.is_empty() {
            errs.push(FieldError::required(format!("{idx}.name"), ""));
        } else {
            for msg in format::is_relaxed_env_var_name(name) {
                errs.push(FieldError::invalid(format!("{idx}.name"), name, msg));
            }
        }
        value_from(errs, var, &format!("{idx}.valueFrom"));
    }
}

/// `validateEnvVarValueFrom`.
fn value_from(errs: &mut FieldErrors, var: &Value, path: &str) {
    let Some(from) = child(var, "valueFrom") else {
        return;
    };
    let mut count = 0;
    if let Some(field_ref) = child(from, "fieldRef") {
        count += 1;
        object_field_selector(
            errs,
            field_ref,
            &ENV_FIELD_PATHS,
            &format!("{path}.fieldRef"),
        );
    }
    if let Some(resource_ref) = child(from, "resourceFieldRef") {
        count += 1;
        resource_field_selector(
            errs,
            resource_ref,
            &format!("{path}.resourceFieldRef"),
            false,
        );
    }
    for key in ["configMapKeyRef", "secretKeyRef"] {
        if let Some(selector) = child(from, key) {
            count += 1;
            key_selector(errs, selector, &format!("{path}.{key}"));
        }
    }
    if count == 0 {
        errs.push(FieldError::invalid(
            path,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if !text(var, "value").is_empty() {
        errs.push(FieldError::invalid(
            path,
            "",
            "may not be specified when `value` is not empty",
        ));
    } else if count > 1 {
        errs.push(FieldError::invalid(path, "", ONE_AT_A_TIME));
    }
}

/// `validateConfigMapKeySelector` and `validateSecretKeySelector` (both check the name as a
/// Secret name).
fn key_selector(errs: &mut FieldErrors, selector: &Value, path: &str) {
    let name = text(selector, "name");
    for msg in format::name_is_dns1123_subdomain(name, false) {
        errs.push(FieldError::invalid(format!("{path}.name"), name, msg));
    }
    let key = text(selector, "key");
    if key.is_empty() {
        errs.push(FieldError::required(format!("{path}.key"), ""));
    } else {
        for msg in format::is_config_map_key(key) {
            errs.push(FieldError::invalid(format!("{path}.key"), key, msg));
        }
    }
}

/// `ValidateEnvFrom`: the "one source" errors name the list, not the item, as upstream.
pub fn validate_env_from(errs: &mut FieldErrors, container: &Value, path: &str) {
    for (i, source) in items(container, "envFrom").iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let prefix = text(source, "prefix");
        if !prefix.is_empty() {
            for msg in format::is_relaxed_env_var_name(prefix) {
                errs.push(FieldError::invalid(format!("{idx}.prefix"), prefix, msg));
            }
        }
        let mut count = 0;
        for key in ["configMapRef", "secretRef"] {
            let Some(reference) = child(source, key) else {
                continue;
            };
            count += 1;
            let name = text(reference, "name");
            let name_path = format!("{idx}.{key}.name");
            if name.is_empty() {
                errs.push(FieldError::required(name_path, ""));
            } else {
                // ValidateConfigMapName and ValidateSecretName in prefix mode, as upstream.
                for msg in format::name_is_dns1123_subdomain(name, true) {
                    errs.push(FieldError::invalid(&name_path, name, msg));
                }
            }
        }
        if count == 0 {
            errs.push(FieldError::invalid(
                path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if count > 1 {
            errs.push(FieldError::invalid(path, "", ONE_AT_A_TIME));
        }
    }
}

/// `fieldpath.SplitMaybeSubscriptedPath`: `metadata.labels['key']` as (path, subscript).
fn split_subscript(field_path: &str) -> Option<(&str, &str)> {
    let s = field_path.strip_suffix("']")?;
    let (path, subscript) = s.split_once("['")?;
    (!path.is_empty()).then_some((path, subscript))
}

/// `validateObjectFieldSelector` with `ConvertDownwardAPIFieldLabel`.
pub fn object_field_selector(
    errs: &mut FieldErrors,
    selector: &Value,
    expressions: &[&str],
    path: &str,
) {
    let api_version = text(selector, "apiVersion");
    if api_version.is_empty() {
        errs.push(FieldError::required(format!("{path}.apiVersion"), ""));
        return;
    }
    let field_path = text(selector, "fieldPath");
    let field_path_path = format!("{path}.fieldPath");
    if field_path.is_empty() {
        errs.push(FieldError::required(field_path_path, ""));
        return;
    }
    let conversion = if api_version != "v1" {
        Err(format!("unsupported pod version: {api_version}"))
    } else if let Some((p, _)) = split_subscript(field_path) {
        match p {
            "metadata.annotations" | "metadata.labels" => Ok(field_path),
            _ => Err(format!(
                "field label does not support subscript: {field_path}"
            )),
        }
    } else if field_path == "spec.host" {
        Ok("spec.nodeName")
    } else if CONVERTIBLE_FIELD_LABELS.contains(&field_path) {
        Ok(field_path)
    } else {
        Err(format!("field label not supported: {field_path}"))
    };
    let internal = match conversion {
        Ok(internal) => internal,
        Err(e) => {
            errs.push(FieldError::invalid(
                field_path_path,
                field_path,
                format!("error converting fieldPath: {e}"),
            ));
            return;
        }
    };
    match split_subscript(internal) {
        Some(("metadata.annotations", subscript)) => {
            let key = subscript.to_lowercase();
            for msg in format::is_qualified_name(&key) {
                errs.push(FieldError::invalid(path, key.as_str(), msg));
            }
        }
        Some(("metadata.labels", subscript)) => {
            for msg in format::is_qualified_name(subscript) {
                errs.push(FieldError::invalid(path, subscript, msg));
            }
        }
        Some((p, _)) => errs.push(FieldError::invalid(path, p, "does not support subscript")),
        None if !expressions.contains(&internal) => errs.push(FieldError::not_supported(
            field_path_path,
            internal,
            expressions,
        )),
        None => {}
    }
}

/// `validateContainerResourceFieldSelector` and `validateContainerResourceDivisor`;
/// `volume` requires the container name, as a downward API volume must.
pub fn resource_field_selector(errs: &mut FieldErrors, selector: &Value, path: &str, volume: bool) {
    let resource = text(selector, "resource");
    if volume && text(selector, "containerName").is_empty() {
        errs.push(FieldError::required(format!("{path}.containerName"), ""));
    } else if resource.is_empty() {
        errs.push(FieldError::required(format!("{path}.resource"), ""));
    } else if !RESOURCE_FIELD_PATHS.contains(&resource)
        && !HUGEPAGES_PREFIXES.iter().any(|p| resource.starts_with(p))
    {
        errs.push(FieldError::not_supported(
            format!("{path}.resource"),
            resource,
            &RESOURCE_FIELD_PATHS,
        ));
    }
    let divisor = match child(selector, "divisor") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return,
    };
    let Some(nanos) = quantity_nanos(&divisor).filter(|n| *n != 0) else {
        return;
    };
    let kind = Divisor::of(&divisor);
    let (ok, what) = match resource {
        "limits.cpu" | "requests.cpu" => (
            kind.prints_as_listed(nanos, &[1_000_000, ONE]),
            "only divisor's values 1m and 1 are supported with the cpu resource",
        ),
        "limits.memory" | "requests.memory" => (
            kind.prints_as_listed(nanos, &BYTE_DIVISORS),
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource",
        ),
        "limits.ephemeral-storage" | "requests.ephemeral-storage" => (
            kind.prints_as_listed(nanos, &BYTE_DIVISORS),
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource",
        ),
        _ => (true, ""),
    };
    if !ok {
        errs.push(FieldError::invalid(
            format!("{path}.divisor"),
            resource,
            what,
        ));
    }
    if HUGEPAGES_PREFIXES.iter().any(|p| resource.starts_with(p))
        && !kind.prints_as_listed(nanos, &BYTE_DIVISORS)
    {
        errs.push(FieldError::invalid(
            format!("{path}.divisor"),
            resource,
            "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource",
        ));
    }
}

/// One, in the nano units of `quantity_nanos`.
const ONE: i128 = 1_000_000_000;
/// 1, 1k … 1E and 1Ki … 1Ei in nano units.
const BYTE_DIVISORS: [i128; 13] = [
    ONE,
    ONE * 1_000,
    ONE * 1_000_000,
    ONE * 1_000_000_000,
    ONE * 1_000_000_000_000,
    ONE * 1_000_000_000_000_000,
    ONE * 1_000_000_000_000_000_000,
    ONE << 10,
    ONE << 20,
    ONE << 30,
    ONE << 40,
    ONE << 50,
    ONE << 60,
];

/// The format a `resource.Quantity` keeps from its text, which decides how `String()`
/// prints it: `1024` stays `1024`, `1Ki` stays `1Ki`, `1e3` stays `1e3`.
enum Divisor {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

impl Divisor {
    fn of(text: &str) -> Divisor {
        let suffix = text.trim_start_matches(|c: char| c.is_ascii_digit() || "+-.".contains(c));
        if suffix.ends_with('i') {
            Divisor::BinarySi
        } else if suffix.len() > 1 && suffix.starts_with(['e', 'E']) {
            Divisor::DecimalExponent
        } else {
            Divisor::DecimalSi
        }
    }

    /// Whether the canonical text is one of upstream's listed divisors: a decimal suffix
    /// prints a power of 1000 as `1k`…, a binary one prints a power of 1024 as `1Ki`…, an
    /// exponent prints only one as `1`.
    fn prints_as_listed(&self, nanos: i128, listed: &[i128]) -> bool {
        let decimal = |n: i128| n == 1_000_000 || (0..=6).any(|k| n == ONE * 1000i128.pow(k));
        let binary = |n: i128| (1..=6).any(|k| n == ONE << (10 * k));
        listed.contains(&nanos)
            && match self {
                Divisor::DecimalSi => decimal(nanos),
                Divisor::BinarySi => binary(nanos),
                Divisor::DecimalExponent => nanos == ONE,
            }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::container_errors;

    const C: &str = "spec.containers[0]";
    const RELAXED: &str = "a valid environment variable name must consist only of printable ASCII characters other than '='";

    #[test]
    fn names_are_relaxed_printable_ascii_without_equals() {
        let errs = container_errors(
            json!({"env": [{"name": "A=B", "value": "x"}, {"name": ""}, {"name": "1st.var-name with space"},
                {"name": "caf\u{e9}"}]}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!("{C}.env[0].name: Invalid value: \"A=B\": {RELAXED}"),
                format!("{C}.env[1].name: Required value"),
                format!("{C}.env[3].name: Invalid value: \"caf\u{e9}\": {RELAXED}"),
            ]
        );
    }

    #[test]
    fn value_from_needs_exactly_one_source_and_no_value() {
        let errs = container_errors(
            json!({"env": [
                {"name": "A", "valueFrom": {}},
                {"name": "B", "value": "v", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"},
                                            "secretKeyRef": {"name": "s", "key": "k"}}}]}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!(
                    "{C}.env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
                ),
                format!(
                    "{C}.env[1].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty"
                ),
                format!(
                    "{C}.env[2].valueFrom: Invalid value: \"\": may not have more than one field specified at a time"
                ),
            ]
        );
    }

    #[test]
    fn field_refs_name_supported_pod_fields() {
        let errs = container_errors(
            json!({"env": [
                {"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}},
                {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "spec.nope"}}},
                {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['bad key']"}}},
                {"name": "D", "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}}},
                {"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName['x']"}}},
                {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "spec.host"}}},
                {"name": "G", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['Team.Example.com/Owner']"}}}]}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!(
                    "{C}.env[0].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\""
                ),
                format!(
                    "{C}.env[1].valueFrom.fieldRef.fieldPath: Invalid value: \"spec.nope\": error converting fieldPath: field label not supported: spec.nope"
                ),
                format!(
                    "{C}.env[2].valueFrom.fieldRef: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
                ),
                format!(
                    "{C}.env[3].valueFrom.fieldRef.fieldPath: Invalid value: \"metadata.name\": error converting fieldPath: unsupported pod version: v2"
                ),
                format!(
                    "{C}.env[4].valueFrom.fieldRef.fieldPath: Invalid value: \"spec.nodeName['x']\": error converting fieldPath: field label does not support subscript: spec.nodeName['x']"
                ),
            ]
        );
    }

    #[test]
    fn resource_field_refs_name_a_resource_and_a_supported_divisor() {
        let errs = container_errors(
            json!({"env": [
                {"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}},
                {"name": "B", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1Ki"}}},
                {"name": "C", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
                {"name": "D", "valueFrom": {"resourceFieldRef": {"resource": "requests.memory", "divisor": "1Mi"}}},
                {"name": "E", "valueFrom": {"resourceFieldRef": {"resource": "requests.memory", "divisor": "1024"}}},
                {"name": "F", "valueFrom": {"resourceFieldRef": {"resource": "limits.hugepages-2Mi", "divisor": "2"}}},
                {"name": "G", "valueFrom": {"resourceFieldRef": {}}}]}),
            json!({}),
        );
        let bytes = "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the";
        assert_eq!(
            errs,
            vec![
                format!(
                    "{C}.env[0].valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\": supported values: \"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", \"requests.ephemeral-storage\", \"requests.memory\""
                ),
                format!(
                    "{C}.env[1].valueFrom.resourceFieldRef.divisor: Invalid value: \"limits.cpu\": only divisor's values 1m and 1 are supported with the cpu resource"
                ),
                format!(
                    "{C}.env[4].valueFrom.resourceFieldRef.divisor: Invalid value: \"requests.memory\": {bytes} memory resource"
                ),
                format!(
                    "{C}.env[5].valueFrom.resourceFieldRef.divisor: Invalid value: \"limits.hugepages-2Mi\": {bytes} hugepages resource"
                ),
                format!("{C}.env[6].valueFrom.resourceFieldRef.resource: Required value"),
            ]
        );
    }

    #[test]
    fn key_refs_name_a_secret_name_and_a_config_key() {
        let errs = container_errors(
            json!({"env": [
                {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "Bad_Name", "key": "a/b"}}},
                {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s"}}},
                {"name": "C", "valueFrom": {"secretKeyRef": {"name": "s", "key": "..k"}}}]}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!(
                    "{C}.env[0].valueFrom.configMapKeyRef.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
                ),
                format!(
                    "{C}.env[0].valueFrom.configMapKeyRef.key: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
                ),
                format!("{C}.env[1].valueFrom.secretKeyRef.key: Required value"),
                format!(
                    "{C}.env[2].valueFrom.secretKeyRef.key: Invalid value: \"..k\": must not start with '..'"
                ),
            ]
        );
    }

    #[test]
    fn env_from_needs_one_named_source_and_a_relaxed_prefix() {
        let errs = container_errors(
            json!({"envFrom": [
                {"prefix": "A=", "configMapRef": {"name": "cfg"}},
                {"prefix": "OK_"},
                {"configMapRef": {"name": "c"}, "secretRef": {"name": ""}},
                {"secretRef": {"name": "trailing-"}}]}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!("{C}.envFrom[0].prefix: Invalid value: \"A=\": {RELAXED}"),
                format!(
                    "{C}.envFrom: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`"
                ),
                format!("{C}.envFrom[2].secretRef.name: Required value"),
                format!(
                    "{C}.envFrom: Invalid value: \"\": may not have more than one field specified at a time"
                ),
            ]
        );
    }
}
