//! `validateContainers`, `validateInitContainers` and `validateContainerCommon`
//! (pkg/apis/core/validation/validation.go): names, images, ports, env, mounts, pull
//! policies, then lifecycle and probes, in upstream's order.

use std::collections::BTreeSet;

use serde_json::Value;

use super::env::{validate_env, validate_env_from};
use super::json::{child, items, text};
use super::mounts::{validate_volume_devices, validate_volume_mounts};
use super::probes::{ProbeKind, validate_lifecycle, validate_probes};
use super::volumes::Volumes;
use crate::field::{FieldError, FieldErrors};
use crate::format;

/// The regular containers: at least one, unique names, each with the common rules, then its
/// lifecycle and probes; host ports unique across them.
pub fn validate_containers(
    errs: &mut FieldErrors,
    spec: &Value,
    volumes: &Volumes<'_>,
    grace: Option<i64>,
    path: &str,
) {
    let containers = items(spec, "containers");
    if containers.is_empty() {
        errs.push(FieldError::required(path, ""));
        return;
    }
    let mut names = BTreeSet::new();
    for (i, container) in containers.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        container_common(errs, container, volumes, &idx);
        let name = text(container, "name");
        if !names.insert(name) {
            errs.push(FieldError::duplicate(format!("{idx}.name"), name));
        }
        validate_lifecycle(errs, container, grace, &idx);
        validate_probes(errs, container, grace, &idx);
        if child(container, "restartPolicy").is_some() {
            errs.push(FieldError::forbidden(
                format!("{idx}.restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    host_port_conflicts(errs, containers, path);
}

/// `validateInitContainers`: the common rules, a restart policy of `Always` (a sidecar) or
/// none, names unique across both lists, and lifecycle and probes only for sidecars.
pub fn validate_init_containers(
    errs: &mut FieldErrors,
    spec: &Value,
    volumes: &Volumes<'_>,
    grace: Option<i64>,
    path: &str,
) {
    let mut names: BTreeSet<&str> = items(spec, "containers")
        .iter()
        .map(|c| text(c, "name"))
        .collect();
    for (i, container) in items(spec, "initContainers").iter().enumerate() {
        let idx = format!("{path}[{i}]");
        container_common(errs, container, volumes, &idx);
        let mut sidecar = false;
        if let Some(policy) = child(container, "restartPolicy") {
            let policy = policy.as_str().unwrap_or("");
            if policy == "Always" {
                sidecar = true;
            } else {
                errs.push(FieldError::not_supported_in_order(
                    format!("{idx}.restartPolicy"),
                    policy,
                    &["Always"],
                ));
            }
        }
        let name = text(container, "name");
        if names.contains(name) {
            errs.push(FieldError::duplicate(format!("{idx}.name"), name));
        } else if !name.is_empty() {
            names.insert(name);
        }
        // Upstream checks each init container alone, so its paths always say `[0]`.
        host_port_conflicts(errs, std::slice::from_ref(container), path);
        if sidecar {
            validate_lifecycle(errs, container, grace, &idx);
            validate_probes(errs, container, grace, &idx);
        } else {
            let probes = [
                ProbeKind::Liveness,
                ProbeKind::Readiness,
                ProbeKind::Startup,
            ];
            let keys = std::iter::once("lifecycle").chain(probes.map(ProbeKind::key));
            for key in keys {
                if child(container, key).is_some() {
                    errs.push(FieldError::forbidden(
                        format!("{idx}.{key}"),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
}

/// `validateContainerCommon`, without resources, resize policy and security context.
fn container_common(errs: &mut FieldErrors, container: &Value, volumes: &Volumes<'_>, path: &str) {
    let name = text(container, "name");
    let name_path = format!("{path}.name");
    if name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        for msg in format::is_dns1123_label(name) {
            errs.push(FieldError::invalid(&name_path, name, msg));
        }
    }
    if text(container, "image").is_empty() {
        errs.push(FieldError::required(format!("{path}.image"), ""));
    }
    match text(container, "terminationMessagePolicy") {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.push(FieldError::required(
            format!("{path}.terminationMessagePolicy"),
            "",
        )),
        other => errs.push(FieldError::not_supported_in_order(
            format!("{path}.terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }
    validate_container_ports(errs, container, &format!("{path}.ports"));
    validate_env(errs, container, &format!("{path}.env"));
    validate_env_from(errs, container, &format!("{path}.envFrom"));
    validate_volume_mounts(errs, container, volumes, &format!("{path}.volumeMounts"));
    validate_volume_devices(errs, container, volumes, &format!("{path}.volumeDevices"));
    match text(container, "imagePullPolicy") {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(FieldError::required(format!("{path}.imagePullPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            format!("{path}.imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
}

/// `validateContainerPorts`: names as IANA service names, unique; port numbers in range; a
/// supported protocol.
fn validate_container_ports(errs: &mut FieldErrors, container: &Value, path: &str) {
    let mut names = BTreeSet::new();
    for (i, port) in items(container, "ports").iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = text(port, "name");
        if !name.is_empty() {
            let msgs = format::is_valid_port_name(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(FieldError::invalid(format!("{idx}.name"), name, msg));
                }
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(format!("{idx}.name"), name));
            }
        }
        let container_port = port
            .get("containerPort")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if container_port == 0 {
            errs.push(FieldError::required(format!("{idx}.containerPort"), ""));
        } else {
            for msg in format::is_valid_port_num(container_port) {
                errs.push(FieldError::invalid(
                    format!("{idx}.containerPort"),
                    container_port,
                    msg,
                ));
            }
        }
        let host_port = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
        if host_port != 0 {
            for msg in format::is_valid_port_num(host_port) {
                errs.push(FieldError::invalid(
                    format!("{idx}.hostPort"),
                    host_port,
                    msg,
                ));
            }
        }
        match text(port, "protocol") {
            "TCP" | "UDP" | "SCTP" => {}
            "" => errs.push(FieldError::required(format!("{idx}.protocol"), "")),
            other => errs.push(FieldError::not_supported(
                format!("{idx}.protocol"),
                other,
                &["SCTP", "TCP", "UDP"],
            )),
        }
    }
}

/// `checkHostPortConflicts`: a protocol, host IP and host port used twice.
fn host_port_conflicts(errs: &mut FieldErrors, containers: &[Value], path: &str) {
    let mut seen = BTreeSet::new();
    for (i, container) in containers.iter().enumerate() {
        for (j, port) in items(container, "ports").iter().enumerate() {
            let host_port = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{host_port}",
                text(port, "protocol"),
                text(port, "hostIP")
            );
            if seen.contains(&key) {
                errs.push(FieldError::duplicate(
                    format!("{path}[{i}].ports[{j}].hostPort"),
                    key,
                ));
            } else {
                seen.insert(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::container_errors;

    #[test]
    fn errors_come_in_upstreams_order_for_each_container() {
        let errs = container_errors(
            json!({"imagePullPolicy": "Sometimes", "restartPolicy": "Always",
                "ports": [{"containerPort": 0}],
                "env": [{"name": "A=1"}],
                "envFrom": [{}],
                "volumeMounts": [{"name": "missing", "mountPath": "/m"}],
                "volumeDevices": [{"name": "missing", "devicePath": "/d"}],
                "livenessProbe": {}, "lifecycle": {"preStop": {}}}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                "spec.containers[0].ports[0].containerPort: Required value",
                "spec.containers[0].env[0].name: Invalid value: \"A=1\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                "spec.containers[0].envFrom: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`",
                "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"",
                "spec.containers[0].volumeMounts[0].name: Invalid value: \"missing\": must not already exist in volumeDevices",
                "spec.containers[0].volumeDevices[0].name: Not found: \"missing\"",
                "spec.containers[0].volumeDevices[0].name: Invalid value: \"missing\": must not already exist in volumeMounts",
                "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                "spec.containers[0].lifecycle.preStop: Required value: must specify a handler type",
                "spec.containers[0].livenessProbe: Required value: must specify a handler type",
                "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
            ]
        );
    }

    #[test]
    fn host_ports_are_unique_across_containers() {
        let errs = container_errors(
            json!({"ports": [{"containerPort": 80, "hostPort": 8080}]}),
            json!({"initContainers": [{"name": "i", "image": "x",
                "ports": [{"containerPort": 1, "hostPort": 9}, {"containerPort": 2, "hostPort": 9}]}]}),
        );
        assert_eq!(
            errs,
            vec!["spec.initContainers[0].ports[1].hostPort: Duplicate value: \"TCP//9\""]
        );
        let mut spec = json!({"containers": [
            {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]},
            {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 8080, "hostIP": "10.0.0.1"},
                                                  {"containerPort": 82, "hostPort": 8080}]}]});
        spec["restartPolicy"] = json!("Always");
        assert_eq!(
            super::super::test_support::pod_errors(spec),
            vec!["spec.containers[1].ports[1].hostPort: Duplicate value: \"TCP//8080\""]
        );
    }
}
