//! `validateLivenessProbe`, `validateReadinessProbe`, `validateStartupProbe`, `validateProbe`,
//! `validateHandler` and `validateLifecycle` (pkg/apis/core/validation/validation.go):
//! exactly one handler, valid ports and schemes, non-negative timings.

use serde_json::Value;

use super::json::{child, items, num, opt_num, text};
use super::nonnegative;
use crate::field::{FieldError, FieldErrors};
use crate::format;

/// Which probe is validated: liveness and startup probes must succeed once; a readiness
/// probe may not carry its own grace period.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeKind {
    /// The container field holding this probe.
    pub fn key(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "livenessProbe",
            ProbeKind::Readiness => "readinessProbe",
            ProbeKind::Startup => "startupProbe",
        }
    }
}

/// The three probes of a container, in upstream's order.
pub fn validate_probes(errs: &mut FieldErrors, container: &Value, grace: Option<i64>, path: &str) {
    for kind in [
        ProbeKind::Liveness,
        ProbeKind::Readiness,
        ProbeKind::Startup,
    ] {
        if let Some(probe) = child(container, kind.key()) {
            validate_probe(errs, probe, kind, grace, &format!("{path}.{}", kind.key()));
        }
    }
}

/// `validateProbe` and the rule its kind adds.
fn validate_probe(
    errs: &mut FieldErrors,
    probe: &Value,
    kind: ProbeKind,
    grace: Option<i64>,
    path: &str,
) {
    validate_handler(errs, probe, &PROBE_HANDLERS, grace, path);
    for key in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        nonnegative(errs, &format!("{path}.{key}"), num(probe, key));
    }
    let probe_grace = opt_num(probe, "terminationGracePeriodSeconds");
    if let Some(g) = probe_grace.filter(|g| *g <= 0) {
        errs.push(FieldError::invalid(
            format!("{path}.terminationGracePeriodSeconds"),
            g,
            "must be greater than 0",
        ));
    }
    match kind {
        ProbeKind::Liveness | ProbeKind::Startup => {
            let success = num(probe, "successThreshold");
            if success != 1 {
                errs.push(FieldError::invalid(
                    format!("{path}.successThreshold"),
                    success,
                    "must be 1",
                ));
            }
        }
        ProbeKind::Readiness => {
            if let Some(g) = probe_grace {
                errs.push(FieldError::invalid(
                    format!("{path}.terminationGracePeriodSeconds"),
                    g,
                    "must not be set for readinessProbes",
                ));
            }
        }
    }
}

/// `handlerFromProbe`: the handlers a probe may use, in `validateHandler`'s order.
const PROBE_HANDLERS: [&str; 4] = ["exec", "httpGet", "tcpSocket", "grpc"];
/// `handlerFromLifecycle`.
const LIFECYCLE_HANDLERS: [&str; 4] = ["exec", "httpGet", "tcpSocket", "sleep"];

/// `validateLifecycle`: each hook set is a handler.
pub fn validate_lifecycle(
    errs: &mut FieldErrors,
    container: &Value,
    grace: Option<i64>,
    path: &str,
) {
    let Some(lifecycle) = child(container, "lifecycle") else {
        return;
    };
    for hook in ["postStart", "preStop"] {
        if let Some(handler) = child(lifecycle, hook) {
            validate_handler(
                errs,
                handler,
                &LIFECYCLE_HANDLERS,
                grace,
                &format!("{path}.lifecycle.{hook}"),
            );
        }
    }
}

/// `validateHandler`: the first handler set is validated, each further one is forbidden.
fn validate_handler(
    errs: &mut FieldErrors,
    handler: &Value,
    kinds: &[&str],
    grace: Option<i64>,
    path: &str,
) {
    let mut count = 0;
    for kind in kinds {
        let Some(action) = child(handler, kind) else {
            continue;
        };
        let action_path = format!("{path}.{kind}");
        if count > 0 {
            errs.push(FieldError::forbidden(
                action_path,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        count += 1;
        match *kind {
            "exec" => {
                if items(action, "command").is_empty() {
                    errs.push(FieldError::required(format!("{action_path}.command"), ""));
                }
            }
            "httpGet" => http_get(errs, action, &action_path),
            "tcpSocket" | "grpc" => {
                port_num_or_name(errs, action.get("port"), &format!("{action_path}.port"))
            }
            _ => sleep(errs, action, grace, &action_path),
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
}

/// `validateHTTPGetAction`: the header errors name the list, not the header.
fn http_get(errs: &mut FieldErrors, action: &Value, path: &str) {
    if text(action, "path").is_empty() {
        errs.push(FieldError::required(format!("{path}.path"), ""));
    }
    port_num_or_name(errs, action.get("port"), &format!("{path}.port"));
    let scheme = text(action, "scheme");
    if !["HTTP", "HTTPS"].contains(&scheme) {
        errs.push(FieldError::not_supported(
            format!("{path}.scheme"),
            scheme,
            &["HTTP", "HTTPS"],
        ));
    }
    for header in items(action, "httpHeaders") {
        let name = text(header, "name");
        for msg in format::is_http_header_name(name) {
            errs.push(FieldError::invalid(
                format!("{path}.httpHeaders"),
                name,
                msg,
            ));
        }
    }
}

/// `ValidatePortNumOrName`: a number is a port, a string an IANA service name.
fn port_num_or_name(errs: &mut FieldErrors, port: Option<&Value>, path: &str) {
    match port {
        Some(Value::String(name)) => {
            for msg in format::is_valid_port_name(name) {
                errs.push(FieldError::invalid(path, name.as_str(), msg));
            }
        }
        other => {
            let n = other.and_then(Value::as_i64).unwrap_or(0);
            for msg in format::is_valid_port_num(n) {
                errs.push(FieldError::invalid(path, n, msg));
            }
        }
    }
}

/// `validateSleepAction` without the zero-sleep gate (PodLifecycleSleepActionAllowZero is
/// alpha and off in v1.32); a pod without a grace period gets no error here.
fn sleep(errs: &mut FieldErrors, action: &Value, grace: Option<i64>, path: &str) {
    let seconds = num(action, "seconds");
    if let Some(grace) = grace
        && (seconds <= 0 || seconds > grace)
    {
        errs.push(FieldError::invalid(
            path,
            seconds,
            format!(
                "must be greater than 0 and less than terminationGracePeriodSeconds ({grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::container_errors;

    const C: &str = "spec.containers[0]";

    #[test]
    fn a_probe_has_exactly_one_handler() {
        let errs = container_errors(
            json!({"livenessProbe": {"exec": {"command": ["true"]}, "httpGet": {"port": 80}, "grpc": {"port": 9000}},
                "readinessProbe": {}}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!(
                    "{C}.livenessProbe.httpGet: Forbidden: may not specify more than 1 handler type"
                ),
                format!(
                    "{C}.livenessProbe.grpc: Forbidden: may not specify more than 1 handler type"
                ),
                format!("{C}.readinessProbe: Required value: must specify a handler type"),
            ]
        );
    }

    #[test]
    fn handlers_need_commands_ports_and_schemes() {
        let errs = container_errors(
            json!({"livenessProbe": {"exec": {}},
                "readinessProbe": {"httpGet": {"port": 0, "scheme": "FTP", "httpHeaders": [{"name": "Bad Header", "value": "x"}]}},
                "startupProbe": {"tcpSocket": {"port": "Http_1"}}}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!("{C}.livenessProbe.exec.command: Required value"),
                format!(
                    "{C}.readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"
                ),
                format!(
                    "{C}.readinessProbe.httpGet.scheme: Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\""
                ),
                format!(
                    "{C}.readinessProbe.httpGet.httpHeaders: Invalid value: \"Bad Header\": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"
                ),
                format!(
                    "{C}.startupProbe.tcpSocket.port: Invalid value: \"Http_1\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
                ),
            ]
        );
    }

    #[test]
    fn timings_are_non_negative_and_liveness_and_startup_succeed_once() {
        let errs = container_errors(
            json!({"livenessProbe": {"grpc": {"port": 70000}, "successThreshold": 2, "initialDelaySeconds": -1},
                "readinessProbe": {"tcpSocket": {"port": 80}, "timeoutSeconds": -5, "terminationGracePeriodSeconds": 0},
                "startupProbe": {"tcpSocket": {"port": "http"}, "successThreshold": 3, "failureThreshold": -1}}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!(
                    "{C}.livenessProbe.grpc.port: Invalid value: 70000: must be between 1 and 65535, inclusive"
                ),
                format!(
                    "{C}.livenessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0"
                ),
                format!("{C}.livenessProbe.successThreshold: Invalid value: 2: must be 1"),
                format!(
                    "{C}.readinessProbe.timeoutSeconds: Invalid value: -5: must be greater than or equal to 0"
                ),
                format!(
                    "{C}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0"
                ),
                format!(
                    "{C}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 0: must not be set for readinessProbes"
                ),
                format!(
                    "{C}.startupProbe.failureThreshold: Invalid value: -1: must be greater than or equal to 0"
                ),
                format!("{C}.startupProbe.successThreshold: Invalid value: 3: must be 1"),
            ]
        );
    }

    #[test]
    fn lifecycle_hooks_are_handlers_and_sleep_fits_the_grace_period() {
        let errs = container_errors(
            json!({"lifecycle": {"postStart": {}, "preStop": {"sleep": {"seconds": 100}, "exec": {"command": ["x"]}}}}),
            json!({}),
        );
        assert_eq!(
            errs,
            vec![
                format!("{C}.lifecycle.postStart: Required value: must specify a handler type"),
                format!(
                    "{C}.lifecycle.preStop.sleep: Forbidden: may not specify more than 1 handler type"
                ),
            ]
        );
        let errs = container_errors(
            json!({"lifecycle": {"preStop": {"sleep": {"seconds": 100}}}}),
            json!({"terminationGracePeriodSeconds": 60}),
        );
        assert_eq!(
            errs,
            vec![format!(
                "{C}.lifecycle.preStop.sleep: Invalid value: 100: must be greater than 0 and less than terminationGracePeriodSeconds (60). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."
            )]
        );
    }

    #[test]
    fn init_containers_get_probes_only_as_sidecars() {
        let probe = json!({"exec": {"command": ["true"]}});
        let errs = container_errors(
            json!({}),
            json!({"initContainers": [
                {"name": "init", "image": "x", "livenessProbe": probe, "lifecycle": {"preStop": probe}},
                {"name": "side", "image": "x", "restartPolicy": "Always", "livenessProbe": {"exec": {}}},
                {"name": "c", "image": "x", "restartPolicy": "Never"}]}),
        );
        assert_eq!(
            errs,
            vec![
                "spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always",
                "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
                "spec.initContainers[1].livenessProbe.exec.command: Required value",
                "spec.initContainers[2].restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
                "spec.initContainers[2].name: Duplicate value: \"c\"",
            ]
        );
    }
}
