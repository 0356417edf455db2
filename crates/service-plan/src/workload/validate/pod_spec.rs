//! `ValidatePodSpec` (pkg/apis/core/validation/validation.go), limited to the grace period,
//! volumes, containers, init containers, restart policy and active deadline, in upstream's
//! order. The same rules serve a Pod (`spec`) and a workload's template
//! (`spec.template.spec`).

use serde_json::Value;

use super::containers::{validate_containers, validate_init_containers};
use super::json::{child, items, opt_num, text};
use super::volumes::validate_volumes;
use crate::field::{FieldError, FieldErrors};
use crate::format;

/// Validates the pod spec `spec` whose field path is `path`; `pod_name` is the Pod's name
/// (a template has none), which names the claims of its ephemeral volumes.
pub fn validate_pod_spec(errs: &mut FieldErrors, spec: &Value, pod_name: Option<&str>, path: &str) {
    if child(spec, "terminationGracePeriodSeconds").is_none() {
        errs.push(FieldError::required(
            format!("{path}.terminationGracePeriodSeconds"),
            "",
        ));
    }
    let grace = opt_num(spec, "terminationGracePeriodSeconds");
    let volumes = validate_volumes(
        errs,
        items(spec, "volumes"),
        pod_name,
        &format!("{path}.volumes"),
    );
    validate_containers(errs, spec, &volumes, grace, &format!("{path}.containers"));
    validate_init_containers(
        errs,
        spec,
        &volumes,
        grace,
        &format!("{path}.initContainers"),
    );
    let restart_path = format!("{path}.restartPolicy");
    match text(spec, "restartPolicy") {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(restart_path, "")),
        other => errs.push(FieldError::not_supported_in_order(
            restart_path,
            other,
            &["Always", "OnFailure", "Never"],
        )),
    }
    if let Some(deadline) = opt_num(spec, "activeDeadlineSeconds")
        && !(1..=i64::from(i32::MAX)).contains(&deadline)
    {
        errs.push(FieldError::invalid(
            format!("{path}.activeDeadlineSeconds"),
            deadline,
            format::inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
}

/// `validateContainersOnlyForPod`: what a Pod checks beyond its spec (a template does not,
/// for backward compatibility).
pub fn validate_containers_only_for_pod(errs: &mut FieldErrors, spec: &Value, path: &str) {
    for key in ["containers", "initContainers"] {
        for (i, container) in items(spec, key).iter().enumerate() {
            let image = text(container, "image");
            if image.trim() != image {
                errs.push(FieldError::invalid(
                    format!("{path}.{key}[{i}].image"),
                    image,
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{pod_errors, template_errors};

    #[test]
    fn a_valid_pod_has_no_errors() {
        let spec = json!({"containers": [{"name": "web", "image": "nginx",
            "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "envFrom": [{"configMapRef": {"name": "cfg"}}],
            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg", "readOnly": true}],
            "livenessProbe": {"httpGet": {"port": "http"}},
            "readinessProbe": {"tcpSocket": {"port": 80}},
            "ports": [{"name": "http", "containerPort": 80}]}],
            "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}]});
        assert_eq!(pod_errors(spec), Vec::<String>::new());
    }

    #[test]
    fn volumes_come_before_containers_then_the_restart_policy() {
        let errs = pod_errors(
            json!({"restartPolicy": "Sometimes", "activeDeadlineSeconds": 0,
            "containers": [], "volumes": [{"name": "x", "hostPath": {"path": ""}}]}),
        );
        assert_eq!(
            errs,
            vec![
                "spec.volumes[0].hostPath.path: Required value",
                "spec.containers: Required value",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
            ]
        );
    }

    #[test]
    fn a_pod_image_has_no_surrounding_whitespace_but_a_templates_may() {
        let spec = json!({"containers": [{"name": "c", "image": " nginx"}],
            "initContainers": [{"name": "i", "image": "busybox\n"}]});
        assert_eq!(
            pod_errors(spec.clone()),
            vec![
                "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace",
                "spec.initContainers[0].image: Invalid value: \"busybox\\n\": must not have leading or trailing whitespace",
            ]
        );
        assert_eq!(template_errors(spec), Vec::<String>::new());
    }

    #[test]
    fn a_replica_sets_template_is_validated_alike() {
        let mut rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx",
                        "startupProbe": {"httpGet": {"port": 80}, "successThreshold": 2}}]}}}});
        crate::workload::defaults::set_replica_set_defaults(&mut rs);
        let errs: Vec<String> = super::super::validate_replica_set_spec(&rs)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errs,
            vec![
                "spec.template.spec.containers[0].startupProbe.successThreshold: Invalid value: 2: must be 1"
            ]
        );
    }

    #[test]
    fn a_template_has_no_ephemeral_containers() {
        let errs = template_errors(json!({"containers": [{"name": "c", "image": "x"}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}]}));
        assert_eq!(
            errs,
            vec![
                "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"
            ]
        );
    }

    #[test]
    fn a_workload_template_gets_the_same_rules_under_its_path() {
        let errs = template_errors(json!({"restartPolicy": "OnFailure",
            "containers": [{"name": "web", "image": "nginx", "env": [{"name": "A=B"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "readinessProbe": {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}}],
            "volumes": [{"name": "cache"}, {"name": "cache"}]}));
        assert_eq!(
            errs,
            vec![
                "spec.template.spec.volumes[1].name: Duplicate value: \"cache\"",
                "spec.template.spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                "spec.template.spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
                "spec.template.spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
                "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"",
            ]
        );
    }
}
