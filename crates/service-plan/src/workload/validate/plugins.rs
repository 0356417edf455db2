//! The rules of the in-tree volume plugins' sources (pkg/apis/core/validation/validation.go:
//! `validateGCEPersistentDiskVolumeSource`, `validateISCSIVolumeSource`, `validateFCVolumeSource`,
//! `validateFlockerVolumeSource`, `validateQuobyteVolumeSource`, `validateFlexVolumeSource`,
//! `validateAzureDisk`, `validateStorageOSVolumeSource` and the plain required fields of the
//! others), each called with the source and its field path.

use serde_json::Value;

use super::json::{child, is_empty, items, num, opt_num, text};
use crate::field::{FieldError, FieldErrors, go_string_slice};
use crate::format;

/// The plain `Required` checks of a source, in upstream's order.
pub fn required_fields(errs: &mut FieldErrors, source: &Value, path: &str, fields: &[&str]) {
    for field in fields {
        if is_empty(source, field) {
            errs.push(FieldError::required(format!("{path}.{field}"), ""));
        }
    }
}

/// `pdPartitionErrorMsg`.
fn partition(errs: &mut FieldErrors, source: &Value, path: &str) {
    let partition = num(source, "partition");
    if !(0..=255).contains(&partition) {
        errs.push(FieldError::invalid(
            format!("{path}.partition"),
            partition,
            format::inclusive_range_error(1, 255),
        ));
    }
}

/// `validateGCEPersistentDiskVolumeSource` (upstream calls it under `persistentDisk`).
pub fn gce_persistent_disk(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["pdName"]);
    partition(errs, source, path);
}

/// `validateAWSElasticBlockStoreVolumeSource`.
pub fn aws_elastic_block_store(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["volumeID"]);
    partition(errs, source, path);
}

/// `validateCinderVolumeSource`.
pub fn cinder(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["volumeID"]);
    if let Some(secret_ref) = child(source, "secretRef") {
        required_fields(errs, secret_ref, &format!("{path}.secretRef"), &["name"]);
    }
}

/// `iscsiInitiatorIqnRegex` (unanchored at the start, as upstream's):
/// `iqn\.\d{4}-\d{2}\.([[:alnum:]-.]+)(:[^,;*&$|\s]+)$`.
fn matches_iqn(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        let t = &b[i..];
        let digits =
            |r: std::ops::Range<usize>| t.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if !(t.starts_with(b"iqn.")
            && digits(4..8)
            && t.get(8) == Some(&b'-')
            && digits(9..11)
            && t.get(11) == Some(&b'.'))
        {
            return false;
        }
        let rest = &t[12..];
        let Some(colon) = rest.iter().position(|&c| c == b':') else {
            return false;
        };
        let (domain, tail) = (&rest[..colon], &rest[colon + 1..]);
        !domain.is_empty()
            && domain
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
            && !tail.is_empty()
            && tail.iter().all(|c| !b",;*&$| \t\n\x0c\r".contains(c))
    })
}

/// `iscsiInitiatorEuiRegex` / `iscsiInitiatorNaaRegex`: the prefix, any one character, then
/// `n` alphanumerics to the end.
fn matches_prefixed_alnum(s: &str, prefix: &str, n: usize) -> bool {
    let mut chars = s.chars();
    s.starts_with(prefix) && chars.by_ref().nth(prefix.len()).is_some() && {
        let rest: Vec<char> = chars.collect();
        rest.len() == n && rest.iter().all(char::is_ascii_alphanumeric)
    }
}

/// The iqn, eui or naa format check shared by the target and the initiator name;
/// `unknown_prefix` is the detail for a name that starts with none of them.
fn iscsi_name(errs: &mut FieldErrors, name: &str, path: &str, unknown_prefix: &str) {
    let known = ["iqn", "eui", "naa"].iter().any(|p| name.starts_with(p));
    if !known {
        errs.push(FieldError::invalid(path, name, unknown_prefix));
    }
    let valid = if name.starts_with("iqn") {
        matches_iqn(name)
    } else if name.starts_with("eui") {
        matches_prefixed_alnum(name, "eui", 16)
    } else if name.starts_with("naa") {
        matches_prefixed_alnum(name, "naa", 32)
    } else {
        true
    };
    if !valid {
        errs.push(FieldError::invalid(path, name, "must be valid format"));
    }
}

/// `validateISCSIVolumeSource`.
pub fn iscsi(errs: &mut FieldErrors, source: &Value, path: &str) {
    const PREFIX_MSG: &str = "must be valid format starting with iqn, eui, or naa";
    required_fields(errs, source, path, &["targetPortal"]);
    let iqn = text(source, "iqn");
    if iqn.is_empty() {
        errs.push(FieldError::required(format!("{path}.iqn"), ""));
    } else if ["iqn", "eui", "naa"].iter().any(|p| iqn.starts_with(p)) {
        iscsi_name(errs, iqn, &format!("{path}.iqn"), PREFIX_MSG);
    } else {
        errs.push(FieldError::invalid(format!("{path}.iqn"), iqn, PREFIX_MSG));
    }
    let lun = num(source, "lun");
    if !(0..=255).contains(&lun) {
        errs.push(FieldError::invalid(
            format!("{path}.lun"),
            lun,
            format::inclusive_range_error(0, 255),
        ));
    }
    let chap = ["chapAuthDiscovery", "chapAuthSession"]
        .iter()
        .any(|k| source.get(*k).and_then(Value::as_bool) == Some(true));
    if chap && child(source, "secretRef").is_none() {
        errs.push(FieldError::required(format!("{path}.secretRef"), ""));
    }
    if let Some(initiator) = child(source, "initiatorName") {
        let initiator = initiator.as_str().unwrap_or("");
        iscsi_name(
            errs,
            initiator,
            &format!("{path}.initiatorname"),
            PREFIX_MSG,
        );
    }
}

/// The rule `validateVolumeSource` adds for an iSCSI volume with an initiator name, under
/// the volume's own `name`.
pub fn iscsi_name_length(errs: &mut FieldErrors, volume: &Value, path: &str) {
    let Some(source) = child(volume, "iscsi") else {
        return;
    };
    let name = text(volume, "name");
    if child(source, "initiatorName").is_some()
        && name.len() + 1 + text(source, "targetPortal").len() > 64
    {
        errs.push(FieldError::invalid(
            format!("{path}.name"),
            name,
            "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.",
        ));
    }
}

fn strings(source: &Value, key: &str) -> Vec<String> {
    items(source, key)
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect()
}

/// `validateFCVolumeSource`.
pub fn fc(errs: &mut FieldErrors, source: &Value, path: &str) {
    let wwns = strings(source, "targetWWNs");
    let wwids = strings(source, "wwids");
    let wwns_path = format!("{path}.targetWWNs");
    if wwns.is_empty() && wwids.is_empty() {
        errs.push(FieldError::required(
            &wwns_path,
            "must specify either targetWWNs or wwids, but not both",
        ));
    }
    if !wwns.is_empty() && !wwids.is_empty() {
        errs.push(FieldError::invalid(
            &wwns_path,
            go_string_slice(&wwns),
            "targetWWNs and wwids can not be specified simultaneously",
        ));
    }
    if !wwns.is_empty() {
        match opt_num(source, "lun") {
            None => errs.push(FieldError::required(
                format!("{path}.lun"),
                "lun is required if targetWWNs is specified",
            )),
            Some(lun) if !(0..=255).contains(&lun) => errs.push(FieldError::invalid(
                format!("{path}.lun"),
                lun,
                format::inclusive_range_error(0, 255),
            )),
            Some(_) => {}
        }
    }
}

/// `validateFlockerVolumeSource`.
pub fn flocker(errs: &mut FieldErrors, source: &Value, path: &str) {
    let name = text(source, "datasetName");
    let uuid = text(source, "datasetUUID");
    if name.is_empty() && uuid.is_empty() {
        errs.push(FieldError::required(
            path,
            "one of datasetName and datasetUUID is required",
        ));
    }
    if !name.is_empty() && !uuid.is_empty() {
        errs.push(FieldError::invalid(
            path,
            "resource",
            "datasetName and datasetUUID can not be specified simultaneously",
        ));
    }
    if name.contains('/') {
        errs.push(FieldError::invalid(
            format!("{path}.datasetName"),
            name,
            "must not contain '/'",
        ));
    }
}

/// Go's `net.SplitHostPort` succeeding: `host:port` or `[host]:port`, one colon outside
/// brackets, no stray brackets.
fn splits_host_port(pair: &str) -> bool {
    let Some(colon) = pair.rfind(':') else {
        return false;
    };
    let (host, port) = (&pair[..colon], &pair[colon + 1..]);
    if port.contains(['[', ']']) {
        return false;
    }
    match host.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .is_some_and(|h| !h.contains(['[', ']'])),
        None => !host.contains([':', '[', ']']),
    }
}

/// `validateQuobyteVolumeSource`.
pub fn quobyte(errs: &mut FieldErrors, source: &Value, path: &str) {
    const REGISTRY_MSG: &str = "must be a host:port pair or multiple pairs separated by commas";
    let registry = text(source, "registry");
    if registry.is_empty() {
        errs.push(FieldError::required(
            format!("{path}.registry"),
            REGISTRY_MSG,
        ));
    } else if text(source, "tenant").len() >= 65 {
        errs.push(FieldError::required(
            format!("{path}.tenant"),
            "must be a UUID and may not exceed a length of 64 characters",
        ));
    } else {
        for pair in registry.split(',') {
            if !splits_host_port(pair) {
                errs.push(FieldError::invalid(
                    format!("{path}.registry"),
                    registry,
                    REGISTRY_MSG,
                ));
            }
        }
    }
    required_fields(errs, source, path, &["volume"]);
}

/// `validateFlexVolumeSource`: options may not use the kubernetes.io and k8s.io namespaces
/// (keys in sorted order; upstream walks a Go map).
pub fn flex_volume(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["driver"]);
    let keys = child(source, "options")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|o| o.keys());
    for key in keys {
        let namespace = key.split_once('/').map_or(key.as_str(), |(ns, _)| ns);
        let normalized = format!(".{}", namespace.to_lowercase());
        if normalized.ends_with(".kubernetes.io") || normalized.ends_with(".k8s.io") {
            errs.push(FieldError::invalid(
                format!("{path}.options[{key}]"),
                key.as_str(),
                "kubernetes.io and k8s.io namespaces are reserved",
            ));
        }
    }
}

/// `validateAzureDisk`.
pub fn azure_disk(errs: &mut FieldErrors, source: &Value, path: &str) {
    required_fields(errs, source, path, &["diskName", "diskURI"]);
    if let Some(mode) = child(source, "cachingMode") {
        let mode = mode.as_str().unwrap_or("");
        let supported = ["None", "ReadOnly", "ReadWrite"];
        if !supported.contains(&mode) {
            errs.push(FieldError::not_supported(
                format!("{path}.cachingMode"),
                mode,
                &supported,
            ));
        }
    }
    let kind = child(source, "kind").map(|k| k.as_str().unwrap_or(""));
    if let Some(kind) = kind {
        let supported = ["Shared", "Dedicated", "Managed"];
        if !supported.contains(&kind) {
            errs.push(FieldError::not_supported(
                format!("{path}.kind"),
                kind,
                &supported,
            ));
        }
    }
    let uri = text(source, "diskURI");
    let uri_path = format!("{path}.diskURI");
    match kind {
        Some("Managed") if !uri.starts_with("/subscriptions/") => {
            errs.push(FieldError::not_supported(
                uri_path,
                uri,
                &["/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}"],
            ));
        }
        Some(k) if k != "Managed" && !uri.starts_with("https://") => {
            errs.push(FieldError::not_supported(
                uri_path,
                uri,
                &["https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"],
            ));
        }
        _ => {}
    }
}

/// `validateStorageOSVolumeSource`.
pub fn storage_os(errs: &mut FieldErrors, source: &Value, path: &str) {
    let name = text(source, "volumeName");
    if name.is_empty() {
        errs.push(FieldError::required(format!("{path}.volumeName"), ""));
    } else {
        for msg in format::is_dns1123_label(name) {
            errs.push(FieldError::invalid(format!("{path}.volumeName"), name, msg));
        }
    }
    let namespace = text(source, "volumeNamespace");
    if !namespace.is_empty() {
        for msg in format::is_dns1123_label(namespace) {
            errs.push(FieldError::invalid(
                format!("{path}.volumeNamespace"),
                namespace,
                msg,
            ));
        }
    }
    if let Some(secret_ref) = child(source, "secretRef") {
        required_fields(errs, secret_ref, &format!("{path}.secretRef"), &["name"]);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::pod_errors;

    fn volume_errors(volumes: serde_json::Value) -> Vec<String> {
        pod_errors(json!({"containers": [{"name": "c", "image": "nginx"}], "volumes": volumes}))
    }

    #[test]
    fn block_disks_need_ids_and_partitions_in_range() {
        assert_eq!(
            volume_errors(json!([
                {"name": "a", "gcePersistentDisk": {"partition": 300}},
                {"name": "b", "awsElasticBlockStore": {"volumeID": "v", "partition": -1}},
                {"name": "c", "cinder": {"volumeID": "v", "secretRef": {}}}])),
            vec![
                "spec.volumes[0].persistentDisk.pdName: Required value",
                "spec.volumes[0].persistentDisk.partition: Invalid value: 300: must be between 1 and 255, inclusive",
                "spec.volumes[1].awsElasticBlockStore.partition: Invalid value: -1: must be between 1 and 255, inclusive",
                "spec.volumes[2].cinder.secretRef.name: Required value",
            ]
        );
    }

    #[test]
    fn iscsi_names_luns_and_initiators() {
        let ok = "iqn.2001-04.com.example:storage.disk1";
        assert_eq!(
            volume_errors(json!([
                {"name": "a", "iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": ok, "lun": 0}},
                {"name": "b", "iscsi": {"iqn": "iqn.bad", "lun": 256, "chapAuthSession": true}},
                {"name": "c", "iscsi": {"targetPortal": "p", "iqn": "x", "initiatorName": "eui.0123456789ABCDEF"}},
                {"name": "d", "iscsi": {"targetPortal": "p", "iqn": "naa.123", "initiatorName": "bogus"}},
                {"name": "e", "iscsi": {"targetPortal": "t".repeat(63), "iqn": ok, "initiatorName": ok}}])),
            vec![
                "spec.volumes[1].iscsi.targetPortal: Required value",
                "spec.volumes[1].iscsi.iqn: Invalid value: \"iqn.bad\": must be valid format",
                "spec.volumes[1].iscsi.lun: Invalid value: 256: must be between 0 and 255, inclusive",
                "spec.volumes[1].iscsi.secretRef: Required value",
                "spec.volumes[2].iscsi.iqn: Invalid value: \"x\": must be valid format starting with iqn, eui, or naa",
                "spec.volumes[3].iscsi.iqn: Invalid value: \"naa.123\": must be valid format",
                "spec.volumes[3].iscsi.initiatorname: Invalid value: \"bogus\": must be valid format starting with iqn, eui, or naa",
                "spec.volumes[4].name: Invalid value: \"e\": Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.",
            ]
        );
    }

    #[test]
    fn fc_flocker_quobyte_flex_azure_and_storageos() {
        assert_eq!(
            volume_errors(json!([
                {"name": "a", "fc": {}},
                {"name": "b", "fc": {"targetWWNs": ["w"], "wwids": ["i"]}},
                {"name": "c", "flocker": {"datasetName": "a/b", "datasetUUID": "u"}},
                {"name": "d", "quobyte": {"registry": "reg:7861,nohost", "volume": "v"}},
                {"name": "e", "flexVolume": {"driver": "d", "options": {"kubernetes.io/x": "1", "mine": "2"}}},
                {"name": "f", "azureDisk": {"diskName": "d", "diskURI": "http://x", "cachingMode": "Always"}},
                {"name": "g", "storageos": {"volumeName": "Bad"}}])),
            vec![
                "spec.volumes[0].fc.targetWWNs: Required value: must specify either targetWWNs or wwids, but not both",
                "spec.volumes[1].fc.targetWWNs: Invalid value: []string{\"w\"}: targetWWNs and wwids can not be specified simultaneously",
                "spec.volumes[1].fc.lun: Required value: lun is required if targetWWNs is specified",
                "spec.volumes[2].flocker: Invalid value: \"resource\": datasetName and datasetUUID can not be specified simultaneously",
                "spec.volumes[2].flocker.datasetName: Invalid value: \"a/b\": must not contain '/'",
                "spec.volumes[3].quobyte.registry: Invalid value: \"reg:7861,nohost\": must be a host:port pair or multiple pairs separated by commas",
                "spec.volumes[4].flexVolume.options[kubernetes.io/x]: Invalid value: \"kubernetes.io/x\": kubernetes.io and k8s.io namespaces are reserved",
                "spec.volumes[5].azureDisk.cachingMode: Unsupported value: \"Always\": supported values: \"None\", \"ReadOnly\", \"ReadWrite\"",
                "spec.volumes[5].azureDisk.diskURI: Unsupported value: \"http://x\": supported values: \"https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd\"",
                "spec.volumes[6].storageos.volumeName: Invalid value: \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ]
        );
    }
}
