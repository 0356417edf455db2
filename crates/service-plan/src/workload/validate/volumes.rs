//! `ValidateVolumes` and `validateVolumeSource` (pkg/apis/core/validation/validation.go): each
//! volume's one source, its name, and the paths and modes of the common sources, in
//! upstream's order. Field paths keep upstream's quirks (`downwarAPI`, `cephFS`,
//! `persistentDisk`, unindexed downward API items).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::env::{VOLUME_FIELD_PATHS, object_field_selector, resource_field_selector};
use super::json::{child, items, num, text};
use super::plugins::{self, required_fields};
use crate::field::{FieldError, FieldErrors, go_quote};
use crate::format;
use crate::workload::qos::quantity_nanos;

/// `fileModeErrorMsg`.
const FILE_MODE_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";
const MORE_THAN_ONE_SOURCE: &str = "may not specify more than 1 volume type";
/// `supportedHostPathTypes`.
const HOST_PATH_TYPES: [&str; 8] = [
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
];

/// The volumes that passed validation, by name; mounts and devices may only name these.
pub type Volumes<'a> = BTreeMap<&'a str, &'a Value>;

type SourceCheck = fn(&mut FieldErrors, &Value, &str);

/// The sources in `validateVolumeSource`'s order: the JSON key, the child its "more than 1"
/// error names, the child its own errors sit under and the rules of its own fields.
const SOURCES: [(&str, &str, &str, SourceCheck); 29] = [
    ("hostPath", "hostPath", "hostPath", host_path),
    ("gitRepo", "gitRepo", "gitRepo", git_repo),
    (
        "gcePersistentDisk",
        "gcePersistentDisk",
        "persistentDisk",
        plugins::gce_persistent_disk,
    ),
    (
        "awsElasticBlockStore",
        "awsElasticBlockStore",
        "awsElasticBlockStore",
        plugins::aws_elastic_block_store,
    ),
    ("secret", "secret", "secret", secret),
    ("nfs", "nfs", "nfs", nfs),
    ("iscsi", "iscsi", "iscsi", plugins::iscsi),
    ("glusterfs", "glusterfs", "glusterfs", |e, s, p| {
        required_fields(e, s, p, &["endpoints", "path"])
    }),
    ("flocker", "flocker", "flocker", plugins::flocker),
    (
        "persistentVolumeClaim",
        "persistentVolumeClaim",
        "persistentVolumeClaim",
        |e, s, p| required_fields(e, s, p, &["claimName"]),
    ),
    ("rbd", "rbd", "rbd", |e, s, p| {
        required_fields(e, s, p, &["monitors", "image"])
    }),
    ("cinder", "cinder", "cinder", plugins::cinder),
    ("cephfs", "cephFS", "cephfs", |e, s, p| {
        required_fields(e, s, p, &["monitors"])
    }),
    ("quobyte", "quobyte", "quobyte", plugins::quobyte),
    ("downwardAPI", "downwarAPI", "downwardAPI", downward_api),
    ("fc", "fc", "fc", plugins::fc),
    (
        "flexVolume",
        "flexVolume",
        "flexVolume",
        plugins::flex_volume,
    ),
    ("configMap", "configMap", "configMap", config_map),
    ("azureFile", "azureFile", "azureFile", |e, s, p| {
        required_fields(e, s, p, &["secretName", "shareName"])
    }),
    (
        "vsphereVolume",
        "vsphereVolume",
        "vsphereVolume",
        |e, s, p| required_fields(e, s, p, &["volumePath"]),
    ),
    (
        "photonPersistentDisk",
        "photonPersistentDisk",
        "photonPersistentDisk",
        |e, s, p| required_fields(e, s, p, &["pdID"]),
    ),
    (
        "portworxVolume",
        "portworxVolume",
        "portworxVolume",
        |e, s, p| required_fields(e, s, p, &["volumeID"]),
    ),
    ("azureDisk", "azureDisk", "azureDisk", plugins::azure_disk),
    ("storageos", "storageos", "storageos", plugins::storage_os),
    ("projected", "projected", "projected", projected),
    ("scaleIO", "scaleIO", "scaleIO", |e, s, p| {
        required_fields(e, s, p, &["gateway", "system", "volumeName"])
    }),
    ("csi", "csi", "csi", csi),
    ("ephemeral", "ephemeral", "ephemeral", |e, s, p| {
        if child(s, "volumeClaimTemplate").is_none() {
            e.push(FieldError::required(format!("{p}.volumeClaimTemplate"), ""));
        }
    }),
    // ImageVolume is alpha and off in v1.32: only its "more than 1" rule applies.
    ("image", "image", "image", |_, _, _| {}),
];

/// `ValidateVolumes`: a volume with any error is left out of the returned map, so a mount
/// naming it is "Not found" as upstream. A Pod's name (`pod_name`) names the claims its
/// ephemeral volumes create, which a `persistentVolumeClaim` may not name.
pub fn validate_volumes<'a>(
    errs: &mut FieldErrors,
    volumes: &'a [Value],
    pod_name: Option<&str>,
    path: &str,
) -> Volumes<'a> {
    let created_claims: BTreeSet<String> = match pod_name {
        Some(pod) => volumes
            .iter()
            .filter(|v| child(v, "ephemeral").is_some())
            .map(|v| format!("{pod}-{}", text(v, "name")))
            .collect(),
        None => BTreeSet::new(),
    };
    let mut valid = Volumes::new();
    for (i, volume) in volumes.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = text(volume, "name");
        let mut el = FieldErrors::new();
        validate_volume_source(&mut el, volume, pod_name, &idx);
        let name_path = format!("{idx}.name");
        if name.is_empty() {
            el.push(FieldError::required(&name_path, ""));
        } else {
            for msg in format::is_dns1123_label(name) {
                el.push(FieldError::invalid(&name_path, name, msg));
            }
        }
        if valid.contains_key(name) {
            el.push(FieldError::duplicate(&name_path, name));
        }
        if el.is_empty() {
            valid.insert(name, volume);
        } else {
            errs.extend(el);
        }
        if let Some(claim) = child(volume, "persistentVolumeClaim").map(|c| text(c, "claimName"))
            && created_claims.contains(claim)
        {
            errs.push(FieldError::invalid(
                format!("{idx}.persistentVolumeClaim.claimName"),
                claim,
                "must not reference a PVC that gets created for an ephemeral volume",
            ));
        }
    }
    valid
}

/// Whether a volume's source is a claim (`persistentVolumeClaim` or `ephemeral`), the only
/// sources a block device may use.
pub fn is_claim(volume: &Value) -> bool {
    child(volume, "persistentVolumeClaim").is_some() || child(volume, "ephemeral").is_some()
}

/// `validateVolumeSource`: exactly one source, then that source's own rules; an ephemeral
/// volume of a Pod also needs a valid name for the claim it creates.
fn validate_volume_source(
    errs: &mut FieldErrors,
    volume: &Value,
    pod_name: Option<&str>,
    path: &str,
) {
    let mut count = 0;
    if let Some(empty_dir) = child(volume, "emptyDir") {
        count += 1;
        let size = empty_dir.get("sizeLimit").and_then(quantity_text);
        if size
            .as_deref()
            .and_then(quantity_nanos)
            .is_some_and(|n| n < 0)
        {
            errs.push(FieldError::forbidden(
                format!("{path}.emptyDir.sizeLimit"),
                "SizeLimit field must be a valid resource quantity",
            ));
        }
    }
    for (key, forbidden_as, checked_as, check) in SOURCES {
        let Some(source) = child(volume, key) else {
            continue;
        };
        if count > 0 {
            errs.push(FieldError::forbidden(
                format!("{path}.{forbidden_as}"),
                MORE_THAN_ONE_SOURCE,
            ));
        } else {
            count += 1;
            check(errs, source, &format!("{path}.{checked_as}"));
            let name = text(volume, "name");
            if key == "ephemeral"
                && let Some(pod) = pod_name
                && !name.is_empty()
            {
                let claim = format!("{pod}-{name}");
                for msg in format::name_is_dns1123_subdomain(&claim, false) {
                    errs.push(FieldError::invalid(
                        format!("{path}.name"),
                        name,
                        format!("PVC name {}: {msg}", go_quote(&claim)),
                    ));
                }
            }
        }
        if key == "iscsi" {
            plugins::iscsi_name_length(errs, volume, path);
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
}

/// A quantity as JSON carries it: a string or a number.
fn quantity_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `validateHostPathVolumeSource` and `validateHostPathType`.
fn host_path(errs: &mut FieldErrors, source: &Value, path: &str) {
    let host = text(source, "path");
    if host.is_empty() {
        errs.push(FieldError::required(format!("{path}.path"), ""));
        return;
    }
    no_backsteps(errs, host, &format!("{path}.path"));
    if let Some(kind) = child(source, "type") {
        let kind = kind.as_str().unwrap_or("");
        if !HOST_PATH_TYPES.contains(&kind) {
            errs.push(FieldError::not_supported(
                format!("{path}.type"),
                kind,
                &HOST_PATH_TYPES,
            ));
        }
    }
}

/// `validateGitRepoVolumeSource`.
fn git_repo(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["repository"]);
    local_descending_path(
        errs,
        text(source, "directory"),
        &format!("{path}.directory"),
    );
}

/// `validateNFSVolumeSource`.
fn nfs(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["server", "path"]);
    let target = text(source, "path");
    if !target.starts_with('/') {
        errs.push(FieldError::invalid(
            format!("{path}.path"),
            target,
            "must be an absolute path",
        ));
    }
}

/// `validateSecretVolumeSource`.
fn secret(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["secretName"]);
    file_mode(errs, source, "defaultMode", path);
    for (i, item) in items(source, "items").iter().enumerate() {
        key_to_path(errs, item, &format!("{path}.items[{i}]"));
    }
}

/// `validateConfigMapVolumeSource`.
fn config_map(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["name"]);
    file_mode(errs, source, "defaultMode", path);
    for (i, item) in items(source, "items").iter().enumerate() {
        key_to_path(errs, item, &format!("{path}.items[{i}]"));
    }
}

/// `validateDownwardAPIVolumeSource`: the items' errors sit under the source's path, not
/// under their index, as upstream.
fn downward_api(errs: &mut FieldErrors, source: &Value, path: &str) {
    file_mode(errs, source, "defaultMode", path);
    for file in items(source, "items") {
        downward_api_file(errs, file, path);
    }
}

/// `validateDownwardAPIVolumeFile`.
fn downward_api_file(errs: &mut FieldErrors, file: &Value, path: &str) {
    let target = text(file, "path");
    if target.is_empty() {
        errs.push(FieldError::required(format!("{path}.path"), ""));
    }
    local_non_reserved_path(errs, target, &format!("{path}.path"));
    let resource_ref = child(file, "resourceFieldRef");
    if let Some(field_ref) = child(file, "fieldRef") {
        object_field_selector(
            errs,
            field_ref,
            &VOLUME_FIELD_PATHS,
            &format!("{path}.fieldRef"),
        );
        if resource_ref.is_some() {
            errs.push(FieldError::invalid(
                path,
                "resource",
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ));
        }
    } else if let Some(resource_ref) = resource_ref {
        resource_field_selector(
            errs,
            resource_ref,
            &format!("{path}.resourceFieldRef"),
            true,
        );
    } else {
        errs.push(FieldError::required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        ));
    }
    file_mode(errs, file, "mode", path);
}

/// `validateProjectedVolumeSource` and `validateProjectionSources`.
fn projected(errs: &mut FieldErrors, source: &Value, path: &str) {
    file_mode(errs, source, "defaultMode", path);
    let mut all_paths = BTreeSet::new();
    for (i, projection) in items(source, "sources").iter().enumerate() {
        let mut count = 0;
        let src = format!("{path}.sources[{i}]");
        for key in ["secret", "configMap"] {
            let Some(object) = child(projection, key) else {
                continue;
            };
            count += 1;
            let object_path = format!("{src}.{key}");
            required_fields(errs, object, &object_path, &["name"]);
            for (j, item) in items(object, "items").iter().enumerate() {
                key_to_path(errs, item, &format!("{object_path}.items[{j}]"));
                let target = text(item, "path");
                if !target.is_empty() && !all_paths.insert(target) {
                    errs.push(FieldError::invalid(
                        path,
                        text(object, "name"),
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(downward) = child(projection, "downwardAPI") {
            count += 1;
            for file in items(downward, "items") {
                downward_api_file(errs, file, &format!("{src}.downwardAPI"));
                let target = text(file, "path");
                if !target.is_empty() && !all_paths.insert(target) {
                    errs.push(FieldError::invalid(
                        path,
                        target,
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(token) = child(projection, "serviceAccountToken") {
            count += 1;
            let expiration = num(token, "expirationSeconds");
            let expiration_path = format!("{src}.serviceAccountToken.expirationSeconds");
            if expiration < 10 * 60 {
                errs.push(FieldError::invalid(
                    &expiration_path,
                    expiration,
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if expiration > 1 << 32 {
                errs.push(FieldError::invalid(
                    &expiration_path,
                    expiration,
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
            // Upstream names the projected volume's `path`, not the token's.
            let target = text(token, "path");
            if target.is_empty() {
                errs.push(FieldError::required(format!("{path}.path"), ""));
            } else {
                local_non_reserved_path(errs, target, &format!("{path}.path"));
            }
        }
        // ClusterTrustBundleProjection is alpha and off in v1.32: the pod strategy drops a
        // `clusterTrustBundle` source before validation, so it neither counts nor is checked.
        if count > 1 {
            errs.push(FieldError::forbidden(
                src,
                "may not specify more than 1 volume type per source",
            ));
        }
    }
}

/// `validateCSIVolumeSource` with `ValidateCSIDriverName`.
fn csi(errs: &mut FieldErrors, source: &Value, path: &str) {
    let driver = text(source, "driver");
    let driver_path = format!("{path}.driver");
    if driver.is_empty() {
        errs.push(FieldError::required(&driver_path, ""));
    }
    if driver.len() > 63 {
        errs.push(FieldError::too_long(&driver_path, 63));
    }
    for msg in format::is_dns1123_subdomain(&driver.to_lowercase()) {
        errs.push(FieldError::invalid(&driver_path, driver, msg));
    }
    if let Some(secret_ref) = child(source, "nodePublishSecretRef") {
        let name = text(secret_ref, "name");
        if name.is_empty() {
            errs.push(FieldError::required(
                format!("{path}.nodePublishSecretRef.name"),
                "",
            ));
        } else {
            for msg in format::name_is_dns1123_subdomain(name, false) {
                errs.push(FieldError::invalid(format!("{path}.name"), name, msg));
            }
        }
    }
}

/// `validateKeyToPath`.
fn key_to_path(errs: &mut FieldErrors, item: &Value, path: &str) {
    required_fields(errs, item, path, &["key", "path"]);
    local_non_reserved_path(errs, text(item, "path"), &format!("{path}.path"));
    file_mode(errs, item, "mode", path);
}

/// A file mode in 0..=0777, printed in decimal as upstream's int32.
fn file_mode(errs: &mut FieldErrors, object: &Value, key: &str, path: &str) {
    if let Some(mode) = child(object, key).and_then(Value::as_i64)
        && !(0..=0o777).contains(&mode)
    {
        errs.push(FieldError::invalid(
            format!("{path}.{key}"),
            mode,
            FILE_MODE_MSG,
        ));
    }
}

/// `validateLocalDescendingPath`: relative, without `..` elements.
pub fn local_descending_path(errs: &mut FieldErrors, target: &str, path: &str) {
    if target.starts_with('/') {
        errs.push(FieldError::invalid(path, target, "must be a relative path"));
    }
    no_backsteps(errs, target, path);
}

/// `validatePathNoBacksteps`: one error however many `..` elements there are.
pub fn no_backsteps(errs: &mut FieldErrors, target: &str, path: &str) {
    if has_backsteps(target) {
        errs.push(FieldError::invalid(path, target, "must not contain '..'"));
    }
}

/// Whether a `/`-separated path has a `..` element.
pub fn has_backsteps(target: &str) -> bool {
    target.split('/').any(|part| part == "..")
}

/// `ValidateLocalNonReservedPath`: a local descending path that does not start with `..`.
fn local_non_reserved_path(errs: &mut FieldErrors, target: &str, path: &str) {
    local_descending_path(errs, target, path);
    if target.starts_with("..") && !target.starts_with("../") {
        errs.push(FieldError::invalid(
            path,
            target,
            "must not start with '..'",
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::pod_errors;

    fn volume_errors(volumes: serde_json::Value) -> Vec<String> {
        pod_errors(json!({"containers": [{"name": "c", "image": "nginx"}], "volumes": volumes}))
    }

    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const MODE_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";

    #[test]
    fn a_volume_without_a_source_is_an_empty_dir() {
        assert_eq!(
            volume_errors(json!([{"name": "scratch"}])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn names_are_unique_dns_labels() {
        assert_eq!(
            volume_errors(
                json!([{"name": "data"}, {"name": "data"}, {"name": "Bad"}, {"name": ""}])
            ),
            vec![
                "spec.volumes[1].name: Duplicate value: \"data\"".to_string(),
                format!("spec.volumes[2].name: Invalid value: \"Bad\": {LABEL_MSG}"),
                "spec.volumes[3].name: Required value".to_string(),
            ]
        );
    }

    #[test]
    fn a_volume_has_one_source() {
        assert_eq!(
            volume_errors(json!([
                {"name": "a", "hostPath": {"path": "/a"}, "secret": {"secretName": "s"}},
                {"name": "b", "emptyDir": {}, "downwardAPI": {}, "cephfs": {"monitors": ["m"]}}])),
            vec![
                "spec.volumes[0].secret: Forbidden: may not specify more than 1 volume type",
                "spec.volumes[1].cephFS: Forbidden: may not specify more than 1 volume type",
                "spec.volumes[1].downwarAPI: Forbidden: may not specify more than 1 volume type",
            ]
        );
    }

    #[test]
    fn host_paths_empty_dirs_claims_and_nfs() {
        assert_eq!(
            volume_errors(json!([
                {"name": "a", "hostPath": {"path": ""}},
                {"name": "b", "hostPath": {"path": "/a/../b", "type": "Bogus"}},
                {"name": "c", "emptyDir": {"sizeLimit": "-1Gi"}},
                {"name": "d", "persistentVolumeClaim": {"claimName": ""}},
                {"name": "e", "nfs": {"server": "s", "path": "rel"}},
                {"name": "f", "ephemeral": {}}])),
            vec![
                "spec.volumes[0].hostPath.path: Required value",
                "spec.volumes[1].hostPath.path: Invalid value: \"/a/../b\": must not contain '..'",
                "spec.volumes[1].hostPath.type: Unsupported value: \"Bogus\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\"",
                "spec.volumes[2].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity",
                "spec.volumes[3].persistentVolumeClaim.claimName: Required value",
                "spec.volumes[4].nfs.path: Invalid value: \"rel\": must be an absolute path",
                "spec.volumes[5].ephemeral.volumeClaimTemplate: Required value",
            ]
        );
    }

    #[test]
    fn config_maps_and_secrets_with_items() {
        assert_eq!(
            volume_errors(json!([
                {"name": "a", "configMap": {"name": "", "defaultMode": 512, "items": [
                    {"key": "", "path": "/abs"}, {"key": "k", "path": "..x", "mode": -1}, {"key": "k", "path": "a/../b"}]}},
                {"name": "b", "secret": {"secretName": ""}}])),
            vec![
                "spec.volumes[0].configMap.name: Required value".to_string(),
                format!("spec.volumes[0].configMap.defaultMode: Invalid value: 512: {MODE_MSG}"),
                "spec.volumes[0].configMap.items[0].key: Required value".to_string(),
                "spec.volumes[0].configMap.items[0].path: Invalid value: \"/abs\": must be a relative path".to_string(),
                "spec.volumes[0].configMap.items[1].path: Invalid value: \"..x\": must not start with '..'".to_string(),
                format!("spec.volumes[0].configMap.items[1].mode: Invalid value: -1: {MODE_MSG}"),
                "spec.volumes[0].configMap.items[2].path: Invalid value: \"a/../b\": must not contain '..'".to_string(),
                "spec.volumes[1].secret.secretName: Required value".to_string(),
            ]
        );
    }

    #[test]
    fn downward_api_items_are_checked_under_the_source() {
        assert_eq!(
            volume_errors(json!([{"name": "a", "downwardAPI": {"items": [
                {"path": "", "fieldRef": {"fieldPath": "spec.nodeName"}},
                {"path": "x"},
                {"path": "y", "resourceFieldRef": {"resource": "limits.cpu"}},
                {"path": "z", "fieldRef": {"fieldPath": "metadata.labels"}, "resourceFieldRef": {"containerName": "c", "resource": "limits.cpu"}}]}}])),
            vec![
                "spec.volumes[0].downwardAPI.path: Required value",
                "spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: \"spec.nodeName\": supported values: \"metadata.annotations\", \"metadata.labels\", \"metadata.name\", \"metadata.namespace\", \"metadata.uid\"",
                "spec.volumes[0].downwardAPI: Required value: one of fieldRef and resourceFieldRef is required",
                "spec.volumes[0].downwardAPI.resourceFieldRef.containerName: Required value",
                "spec.volumes[0].downwardAPI: Invalid value: \"resource\": fieldRef and resourceFieldRef can not be specified simultaneously",
            ]
        );
    }

    #[test]
    fn projected_sources_are_single_with_unique_paths() {
        assert_eq!(
            volume_errors(json!([{"name": "a", "projected": {"sources": [
                {"secret": {"name": "s", "items": [{"key": "a", "path": "p"}]}, "configMap": {"name": "c"}},
                {"configMap": {"name": "c", "items": [{"key": "b", "path": "p"}]}},
                {"serviceAccountToken": {"path": "t", "expirationSeconds": 60}},
                {"serviceAccountToken": {"path": "/t"}}]}}])),
            vec![
                "spec.volumes[0].projected.sources[0]: Forbidden: may not specify more than 1 volume type per source",
                "spec.volumes[0].projected: Invalid value: \"c\": conflicting duplicate paths",
                "spec.volumes[0].projected.sources[2].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes",
                "spec.volumes[0].projected.path: Invalid value: \"/t\": must be a relative path",
            ]
        );
    }

    #[test]
    fn a_pods_ephemeral_claims_are_named_after_it_and_not_claimed_again() {
        let template = json!({"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}});
        assert_eq!(
            volume_errors(json!([
                {"name": "scratch", "ephemeral": template},
                {"name": "claim", "persistentVolumeClaim": {"claimName": "p-scratch"}},
                {"name": "x-", "ephemeral": template}])),
            vec![
                "spec.volumes[1].persistentVolumeClaim.claimName: Invalid value: \"p-scratch\": must not reference a PVC that gets created for an ephemeral volume",
                "spec.volumes[2].name: Invalid value: \"x-\": PVC name \"p-x-\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                "spec.volumes[2].name: Invalid value: \"x-\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ]
        );
    }

    #[test]
    fn csi_drivers_and_plain_required_fields() {
        assert_eq!(
            volume_errors(json!([
                {"name": "a", "csi": {"driver": "Bad_Driver", "nodePublishSecretRef": {"name": ""}}},
                {"name": "b", "rbd": {"monitors": []}},
                {"name": "c", "gcePersistentDisk": {}}])),
            vec![
                "spec.volumes[0].csi.driver: Invalid value: \"Bad_Driver\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                "spec.volumes[0].csi.nodePublishSecretRef.name: Required value",
                "spec.volumes[1].rbd.monitors: Required value",
                "spec.volumes[1].rbd.image: Required value",
                "spec.volumes[2].persistentDisk.pdName: Required value",
            ]
        );
    }
}
