//! `ValidateVolumeMounts` and `ValidateVolumeDevices` (pkg/apis/core/validation/validation.go):
//! a container's mounts and block devices name valid volumes, at unique paths that do not
//! collide with each other. The subPath, mountPropagation and recursiveReadOnly errors name
//! the list rather than the item, as upstream's do.

use crate::json::Pointer as _;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::json::{child, items, text};
use super::volumes::{Volumes, has_backsteps, is_claim, local_descending_path};
use crate::field::{FieldError, FieldErrors};

/// `GetVolumeMountMap` / `GetVolumeDeviceMap`: name to path, the last one winning.
fn name_to_path<'a>(list: &'a [Value], path_key: &str) -> BTreeMap<&'a str, &'a str> {
    list.iter()
        .map(|m| (text(m, "name"), text(m, path_key)))
        .collect()
}

/// `ValidateVolumeMounts`.
pub fn validate_volume_mounts(
    errs: &mut FieldErrors,
    container: &Value,
    volumes: &Volumes<'_>,
    path: &str,
) {
    let devices = name_to_path(items(container, "volumeDevices"), "devicePath");
    let mut mount_points = BTreeSet::new();
    for (i, mount) in items(container, "volumeMounts").iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = text(mount, "name");
        let mount_path = text(mount, "mountPath");
        if name.is_empty() {
            errs.push(FieldError::required(format!("{idx}.name"), ""));
        }
        if !volumes.contains_key(name) {
            errs.push(FieldError::not_found(format!("{idx}.name"), name));
        }
        if mount_path.is_empty() {
            errs.push(FieldError::required(format!("{idx}.mountPath"), ""));
        }
        if !mount_points.insert(mount_path) {
            errs.push(FieldError::invalid(
                format!("{idx}.mountPath"),
                mount_path,
                "must be unique",
            ));
        }
        if devices.contains_key(name) {
            errs.push(FieldError::invalid(
                format!("{idx}.name"),
                name,
                "must not already exist in volumeDevices",
            ));
        }
        if devices.values().any(|p| *p == mount_path) {
            errs.push(FieldError::invalid(
                format!("{idx}.mountPath"),
                mount_path,
                "must not already exist as a path in volumeDevices",
            ));
        }
        let sub_path = text(mount, "subPath");
        if !sub_path.is_empty() {
            local_descending_path(errs, sub_path, &format!("{path}.subPath"));
        }
        let sub_path_expr = text(mount, "subPathExpr");
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errs.push(FieldError::invalid(
                    format!("{idx}.subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            local_descending_path(errs, sub_path_expr, &format!("{path}.subPathExpr"));
        }
        let propagation = child(mount, "mountPropagation").map(|p| p.as_str().unwrap_or(""));
        if let Some(propagation) = propagation {
            mount_propagation(
                errs,
                propagation,
                container,
                &format!("{path}.mountPropagation"),
            );
        }
        recursive_read_only(
            errs,
            mount,
            propagation,
            &format!("{path}.recursiveReadOnly"),
        );
    }
}

/// `validateMountPropagation` for a container of a pod or template.
fn mount_propagation(errs: &mut FieldErrors, propagation: &str, container: &Value, path: &str) {
    const SUPPORTED: [&str; 3] = ["Bidirectional", "HostToContainer", "None"];
    if !SUPPORTED.contains(&propagation) {
        errs.push(FieldError::not_supported(path, propagation, &SUPPORTED));
    }
    let privileged = container
        .at("/securityContext/privileged")
        .and_then(Value::as_bool)
        == Some(true);
    if propagation == "Bidirectional" && !privileged {
        errs.push(FieldError::forbidden(
            path,
            "Bidirectional mount propagation is available only to privileged containers",
        ));
    }
}

/// `validateMountRecursiveReadOnly` (RecursiveReadOnlyMounts is beta and on in v1.32).
fn recursive_read_only(
    errs: &mut FieldErrors,
    mount: &Value,
    propagation: Option<&str>,
    path: &str,
) {
    let Some(mode) = child(mount, "recursiveReadOnly") else {
        return;
    };
    match mode.as_str().unwrap_or("") {
        "Disabled" => {}
        "Enabled" | "IfPossible" => {
            if mount.get("readOnly").and_then(Value::as_bool) != Some(true) {
                errs.push(FieldError::forbidden(
                    path,
                    "may only be specified when readOnly is true",
                ));
            }
            if propagation.is_some_and(|p| p != "None") {
                errs.push(FieldError::forbidden(
                    path,
                    "may only be specified when mountPropagation is None or not specified",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            path,
            other,
            &["Disabled", "IfPossible", "Enabled"],
        )),
    }
}

/// `ValidateVolumeDevices`: block devices come only from claims.
pub fn validate_volume_devices(
    errs: &mut FieldErrors,
    container: &Value,
    volumes: &Volumes<'_>,
    path: &str,
) {
    let mounts = name_to_path(items(container, "volumeMounts"), "mountPath");
    let mut device_paths = BTreeSet::new();
    let mut device_names = BTreeSet::new();
    for (i, device) in items(container, "volumeDevices").iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = text(device, "name");
        let device_path = text(device, "devicePath");
        let volume = volumes.get(name);
        if name.is_empty() {
            errs.push(FieldError::required(format!("{idx}.name"), ""));
        }
        if device_names.contains(name) {
            errs.push(FieldError::invalid(
                format!("{idx}.name"),
                name,
                "must be unique",
            ));
        }
        match volume {
            Some(v) if !is_claim(v) => errs.push(FieldError::invalid(
                format!("{idx}.name"),
                name,
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            )),
            Some(_) => {}
            None => errs.push(FieldError::not_found(format!("{idx}.name"), name)),
        }
        if device_path.is_empty() {
            errs.push(FieldError::required(format!("{idx}.devicePath"), ""));
        }
        if device_paths.contains(device_path) {
            errs.push(FieldError::invalid(
                format!("{idx}.devicePath"),
                device_path,
                "must be unique",
            ));
        }
        if !device_path.is_empty() && has_backsteps(device_path) {
            errs.push(FieldError::invalid(
                format!("{idx}.devicePath"),
                device_path,
                "can not contain backsteps ('..')",
            ));
        } else {
            device_paths.insert(device_path);
        }
        if mounts.contains_key(name) {
            errs.push(FieldError::invalid(
                format!("{idx}.name"),
                name,
                "must not already exist in volumeMounts",
            ));
        }
        if mounts.values().any(|p| *p == device_path) {
            errs.push(FieldError::invalid(
                format!("{idx}.devicePath"),
                device_path,
                "must not already exist as a path in volumeMounts",
            ));
        }
        if !name.is_empty() {
            device_names.insert(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::container_errors;

    const C: &str = "spec.containers[0]";

    #[test]
    fn mounts_name_valid_volumes_at_unique_paths() {
        let errs = container_errors(
            json!({"volumeMounts": [
                {"name": "nope", "mountPath": "/a"},
                {"name": "data", "mountPath": "/a"},
                {"name": "", "mountPath": ""},
                {"name": "Broken", "mountPath": "/b"}]}),
            json!({"volumes": [{"name": "data"}, {"name": "Broken"}]}),
        );
        assert_eq!(
            errs[1..],
            [
                format!("{C}.volumeMounts[0].name: Not found: \"nope\""),
                format!("{C}.volumeMounts[1].mountPath: Invalid value: \"/a\": must be unique"),
                format!("{C}.volumeMounts[2].name: Required value"),
                format!("{C}.volumeMounts[2].name: Not found: \"\""),
                format!("{C}.volumeMounts[2].mountPath: Required value"),
                format!("{C}.volumeMounts[3].name: Not found: \"Broken\""),
            ]
        );
        assert!(
            errs[0].starts_with("spec.volumes[1].name: Invalid value: \"Broken\""),
            "{errs:?}"
        );
    }

    #[test]
    fn sub_paths_propagation_and_recursive_read_only() {
        let errs = container_errors(
            json!({"volumeMounts": [
                {"name": "data", "mountPath": "/a", "subPath": "/abs", "subPathExpr": "x/../y"},
                {"name": "data", "mountPath": "/b", "mountPropagation": "Bidirectional"},
                {"name": "data", "mountPath": "/c", "mountPropagation": "Sideways"},
                {"name": "data", "mountPath": "/d", "recursiveReadOnly": "Enabled", "mountPropagation": "HostToContainer"},
                {"name": "data", "mountPath": "/e", "recursiveReadOnly": "Always", "readOnly": true}]}),
            json!({"volumes": [{"name": "data"}]}),
        );
        assert_eq!(
            errs,
            vec![
                format!(
                    "{C}.volumeMounts.subPath: Invalid value: \"/abs\": must be a relative path"
                ),
                format!(
                    "{C}.volumeMounts[0].subPathExpr: Invalid value: \"x/../y\": subPathExpr and subPath are mutually exclusive"
                ),
                format!(
                    "{C}.volumeMounts.subPathExpr: Invalid value: \"x/../y\": must not contain '..'"
                ),
                format!(
                    "{C}.volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers"
                ),
                format!(
                    "{C}.volumeMounts.mountPropagation: Unsupported value: \"Sideways\": supported values: \"Bidirectional\", \"HostToContainer\", \"None\""
                ),
                format!(
                    "{C}.volumeMounts.recursiveReadOnly: Forbidden: may only be specified when readOnly is true"
                ),
                format!(
                    "{C}.volumeMounts.recursiveReadOnly: Forbidden: may only be specified when mountPropagation is None or not specified"
                ),
                format!(
                    "{C}.volumeMounts.recursiveReadOnly: Unsupported value: \"Always\": supported values: \"Disabled\", \"Enabled\", \"IfPossible\""
                ),
            ]
        );
    }

    #[test]
    fn a_privileged_container_may_propagate_both_ways() {
        let errs = container_errors(
            json!({"securityContext": {"privileged": true},
                "volumeMounts": [{"name": "data", "mountPath": "/b", "mountPropagation": "Bidirectional"}]}),
            json!({"volumes": [{"name": "data"}]}),
        );
        assert_eq!(errs, Vec::<String>::new());
    }

    #[test]
    fn devices_come_from_claims_and_do_not_collide_with_mounts() {
        let errs = container_errors(
            json!({"volumeMounts": [{"name": "claim", "mountPath": "/dev/x"}],
                "volumeDevices": [
                    {"name": "data", "devicePath": "/dev/a"},
                    {"name": "claim", "devicePath": "/dev/x"},
                    {"name": "gone", "devicePath": "/dev/../b"},
                    {"name": "data", "devicePath": "/dev/a"}]}),
            json!({"volumes": [{"name": "data"}, {"name": "claim", "persistentVolumeClaim": {"claimName": "c"}}]}),
        );
        assert_eq!(
            errs,
            vec![
                format!(
                    "{C}.volumeMounts[0].name: Invalid value: \"claim\": must not already exist in volumeDevices"
                ),
                format!(
                    "{C}.volumeMounts[0].mountPath: Invalid value: \"/dev/x\": must not already exist as a path in volumeDevices"
                ),
                format!(
                    "{C}.volumeDevices[0].name: Invalid value: \"data\": can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"
                ),
                format!(
                    "{C}.volumeDevices[1].name: Invalid value: \"claim\": must not already exist in volumeMounts"
                ),
                format!(
                    "{C}.volumeDevices[1].devicePath: Invalid value: \"/dev/x\": must not already exist as a path in volumeMounts"
                ),
                format!("{C}.volumeDevices[2].name: Not found: \"gone\""),
                format!(
                    "{C}.volumeDevices[2].devicePath: Invalid value: \"/dev/../b\": can not contain backsteps ('..')"
                ),
                format!("{C}.volumeDevices[3].name: Invalid value: \"data\": must be unique"),
                format!(
                    "{C}.volumeDevices[3].name: Invalid value: \"data\": can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"
                ),
                format!(
                    "{C}.volumeDevices[3].devicePath: Invalid value: \"/dev/a\": must be unique"
                ),
            ]
        );
    }
}
