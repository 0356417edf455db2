//! Static defaulting of apps/v1 Deployments and core/v1 Pods, as kube-apiserver v1.32 applies
//! it to every create and update body: `SetObjectDefaults_Deployment` and
//! `SetObjectDefaults_Pod` (the generated zz_generated.defaults.go of pkg/apis/apps/v1 and
//! pkg/apis/core/v1) with the hand-written `SetDefaults_*` functions they call.
//!
//! The rules work on the JSON the registry stores. A Go field that is the empty string or
//! zero reads as unset whether the JSON leaves it out, gives `null` or gives `""`/`0`; a Go
//! pointer reads as unset only when left out or `null`.

use serde_json::{Map, Value, json};

use super::image;
use super::{KIND_DEPLOYMENT, KIND_POD, KIND_REPLICA_SET};

type Object = Map<String, Value>;

/// `RollingUpdate`, the default `spec.strategy.type` of a Deployment.
pub const STRATEGY_ROLLING_UPDATE: &str = "RollingUpdate";
/// `Recreate`, the other Deployment strategy.
pub const STRATEGY_RECREATE: &str = "Recreate";
/// `25%`, the default `maxUnavailable` and `maxSurge` of a rolling update.
pub const DEFAULT_ROLLING_UPDATE_PERCENT: &str = "25%";
/// The default `spec.revisionHistoryLimit` of a Deployment.
pub const DEFAULT_REVISION_HISTORY_LIMIT: i64 = 10;
/// The default `spec.progressDeadlineSeconds` of a Deployment.
pub const DEFAULT_PROGRESS_DEADLINE_SECS: i64 = 600;
/// `ClusterFirst`, the default `dnsPolicy`.
pub const DNS_CLUSTER_FIRST: &str = "ClusterFirst";
/// `Always`, the default `restartPolicy`.
pub const RESTART_ALWAYS: &str = "Always";
/// `v1.DefaultTerminationGracePeriodSeconds`.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECS: i64 = 30;
/// `v1.DefaultSchedulerName`.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// `v1.TerminationMessagePathDefault`.
pub const TERMINATION_MESSAGE_PATH_DEFAULT: &str = "/dev/termination-log";
/// `v1.TerminationMessageReadFile`, the default `terminationMessagePolicy`.
pub const TERMINATION_MESSAGE_READ_FILE: &str = "File";
/// `TCP`, the default protocol of a container port.
pub const PROTOCOL_TCP: &str = "TCP";
/// `0644`, the default `defaultMode` of secret, configMap, downwardAPI and projected volumes.
pub const DEFAULT_VOLUME_MODE: i64 = 0o644;
/// One hour, the default `expirationSeconds` of a projected service account token.
pub const DEFAULT_TOKEN_EXPIRATION_SECS: i64 = 3600;

/// The sources of `v1.VolumeSource`: a volume naming none of them becomes an `emptyDir`.
const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// Applies the defaults of `kind` to `object` (Deployments, Pods, ReplicaSets, the
/// flowcontrol kinds and HorizontalPodAutoscalers); other kinds are left alone. Idempotent, so the update path may run it on every body.
pub fn set_object_defaults(kind: &str, object: &mut Value) {
    match kind {
        KIND_DEPLOYMENT => set_deployment_defaults(object),
        KIND_POD => set_pod_defaults(object),
        KIND_REPLICA_SET => set_replica_set_defaults(object),
        "FlowSchema" | "PriorityLevelConfiguration" => {
            crate::flowcontrol::validate::set_defaults(object)
        }
        crate::autoscaling::KIND => crate::autoscaling::on_decode(object),
        _ => {}
    }
}

/// Mirrors `SetObjectDefaults_Deployment`: `SetDefaults_Deployment`, then the PodSpec,
/// volume and container defaults of the template. A template gets no `SetDefaults_Pod`
/// (no `enableServiceLinks`, no requests from limits, no host ports).
pub fn set_deployment_defaults(object: &mut Value) {
    let Some(spec) = object
        .as_object_mut()
        .and_then(|o| child_or_insert(o, "spec"))
    else {
        return;
    };
    // SetDefaults_Deployment in pkg/apis/apps/v1/defaults.go.
    default_nil(spec, "replicas", json!(1));
    if let Some(strategy) = child_or_insert(spec, "strategy") {
        default_str(strategy, "type", STRATEGY_ROLLING_UPDATE);
        if str_of(strategy, "type") == STRATEGY_ROLLING_UPDATE
            && let Some(rolling) = child_or_insert(strategy, "rollingUpdate")
        {
            default_nil(
                rolling,
                "maxUnavailable",
                json!(DEFAULT_ROLLING_UPDATE_PERCENT),
            );
            default_nil(rolling, "maxSurge", json!(DEFAULT_ROLLING_UPDATE_PERCENT));
        }
    }
    default_nil(
        spec,
        "revisionHistoryLimit",
        json!(DEFAULT_REVISION_HISTORY_LIMIT),
    );
    default_nil(
        spec,
        "progressDeadlineSeconds",
        json!(DEFAULT_PROGRESS_DEADLINE_SECS),
    );
    if let Some(pod_spec) =
        child_or_insert(spec, "template").and_then(|t| child_or_insert(t, "spec"))
    {
        set_pod_spec_defaults(pod_spec);
    }
}

/// Mirrors `SetObjectDefaults_ReplicaSet`: `SetDefaults_ReplicaSet` (one replica), then the
/// template's PodSpec, volume and container defaults.
pub fn set_replica_set_defaults(object: &mut Value) {
    let Some(spec) = object
        .as_object_mut()
        .and_then(|o| child_or_insert(o, "spec"))
    else {
        return;
    };
    default_nil(spec, "replicas", json!(1));
    if let Some(pod_spec) =
        child_or_insert(spec, "template").and_then(|t| child_or_insert(t, "spec"))
    {
        set_pod_spec_defaults(pod_spec);
    }
}

/// Mirrors `SetObjectDefaults_Pod`: `SetDefaults_Pod` (requests from limits,
/// `enableServiceLinks`, host ports under `hostNetwork`), then the PodSpec, volume and
/// container defaults.
pub fn set_pod_defaults(object: &mut Value) {
    let Some(spec) = object
        .as_object_mut()
        .and_then(|o| child_or_insert(o, "spec"))
    else {
        return;
    };
    // SetDefaults_Pod in pkg/apis/core/v1/defaults.go. Pod-level resources are alpha and off
    // in v1.32, so their defaulting does not run.
    for key in ["containers", "initContainers"] {
        for container in items(spec, key) {
            requests_from_limits(container);
        }
    }
    default_nil(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for key in ["containers", "initContainers"] {
            for container in items(spec, key) {
                for port in items(container, "ports") {
                    if is_zero(port.get("hostPort")) {
                        let container_port = port.get("containerPort").cloned();
                        port.insert("hostPort".into(), container_port.unwrap_or(json!(0)));
                    }
                }
            }
        }
    }
    set_pod_spec_defaults(spec);
}

/// Requests default to limits for every resource with a limit but no request.
fn requests_from_limits(container: &mut Object) {
    let Some(limits) = container
        .get("resources")
        .and_then(|r| r.get("limits"))
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    let Some(resources) = child_or_insert(container, "resources") else {
        return;
    };
    let Some(requests) = child_or_insert(resources, "requests") else {
        return;
    };
    for (name, quantity) in limits {
        requests.entry(name).or_insert(quantity);
    }
}

/// `SetDefaults_PodSpec` and everything the generated defaulters run inside a PodSpec.
fn set_pod_spec_defaults(spec: &mut Object) {
    default_str(spec, "dnsPolicy", DNS_CLUSTER_FIRST);
    default_str(spec, "restartPolicy", RESTART_ALWAYS);
    default_nil(spec, "securityContext", json!({}));
    default_nil(
        spec,
        "terminationGracePeriodSeconds",
        json!(DEFAULT_TERMINATION_GRACE_PERIOD_SECS),
    );
    default_str(spec, "schedulerName", DEFAULT_SCHEDULER_NAME);
    for volume in items(spec, "volumes") {
        set_volume_defaults(volume);
    }
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        for container in items(spec, key) {
            set_container_defaults(container);
        }
    }
}

/// `SetDefaults_Volume` and the defaults of the volume sources inside it.
fn set_volume_defaults(volume: &mut Object) {
    if VOLUME_SOURCES.iter().all(|s| is_nil(volume.get(*s))) {
        volume.insert("emptyDir".into(), json!({}));
    }
    if let Some(host_path) = child(volume, "hostPath") {
        default_nil(host_path, "type", json!(""));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = child(volume, source) {
            default_nil(s, "defaultMode", json!(DEFAULT_VOLUME_MODE));
        }
    }
    if let Some(downward) = child(volume, "downwardAPI") {
        for item in items(downward, "items") {
            set_field_ref_defaults(item);
        }
    }
    if let Some(projected) = child(volume, "projected") {
        for source in items(projected, "sources") {
            if let Some(downward) = child(source, "downwardAPI") {
                for item in items(downward, "items") {
                    set_field_ref_defaults(item);
                }
            }
            if let Some(token) = child(source, "serviceAccountToken") {
                default_nil(
                    token,
                    "expirationSeconds",
                    json!(DEFAULT_TOKEN_EXPIRATION_SECS),
                );
            }
        }
    }
    // The `+default=` markers of the in-tree volume plugins (staging/src/k8s.io/api/core/v1/types.go).
    if let Some(iscsi) = child(volume, "iscsi") {
        default_str(iscsi, "iscsiInterface", "default");
    }
    if let Some(rbd) = child(volume, "rbd") {
        default_str(rbd, "pool", "rbd");
        default_str(rbd, "user", "admin");
        default_str(rbd, "keyring", "/etc/ceph/keyring");
    }
    if let Some(azure) = child(volume, "azureDisk") {
        default_nil(azure, "cachingMode", json!("ReadWrite"));
        default_nil(azure, "fsType", json!("ext4"));
        default_nil(azure, "readOnly", json!(false));
        default_nil(azure, "kind", json!("Shared"));
    }
    if let Some(scale_io) = child(volume, "scaleIO") {
        default_str(scale_io, "storageMode", "ThinProvisioned");
        default_str(scale_io, "fsType", "xfs");
    }
    if let Some(claim_spec) = child(volume, "ephemeral")
        .and_then(|e| child(e, "volumeClaimTemplate"))
        .and_then(|t| child(t, "spec"))
    {
        // SetDefaults_PersistentVolumeClaimSpec.
        default_nil(claim_spec, "volumeMode", json!("Filesystem"));
    }
}

/// `SetDefaults_Container` (or `SetDefaults_EphemeralContainer`) and the defaults of the
/// ports, env, probes and lifecycle handlers inside it.
fn set_container_defaults(container: &mut Object) {
    if is_empty_str(container.get("imagePullPolicy")) {
        let policy = image::default_pull_policy(str_of(container, "image"));
        container.insert("imagePullPolicy".into(), json!(policy));
    }
    default_str(
        container,
        "terminationMessagePath",
        TERMINATION_MESSAGE_PATH_DEFAULT,
    );
    default_str(
        container,
        "terminationMessagePolicy",
        TERMINATION_MESSAGE_READ_FILE,
    );
    for port in items(container, "ports") {
        default_str(port, "protocol", PROTOCOL_TCP);
    }
    for env in items(container, "env") {
        if let Some(value_from) = child(env, "valueFrom") {
            set_field_ref_defaults(value_from);
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = child(container, probe) {
            set_probe_defaults(p);
        }
    }
    if let Some(lifecycle) = child(container, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(get) = child(lifecycle, hook).and_then(|h| child(h, "httpGet")) {
                set_http_get_defaults(get);
            }
        }
    }
}

/// `SetDefaults_Probe`, `SetDefaults_HTTPGetAction` and the `grpc.service` marker.
fn set_probe_defaults(probe: &mut Object) {
    default_zero(probe, "timeoutSeconds", 1);
    default_zero(probe, "periodSeconds", 10);
    default_zero(probe, "successThreshold", 1);
    default_zero(probe, "failureThreshold", 3);
    if let Some(get) = child(probe, "httpGet") {
        set_http_get_defaults(get);
    }
    if let Some(grpc) = child(probe, "grpc") {
        default_nil(grpc, "service", json!(""));
    }
}

/// `SetDefaults_HTTPGetAction`: path `/`, scheme `HTTP`.
fn set_http_get_defaults(get: &mut Object) {
    default_str(get, "path", "/");
    default_str(get, "scheme", "HTTP");
}

/// `SetDefaults_ObjectFieldSelector` on the `fieldRef` inside `holder`: apiVersion `v1`.
fn set_field_ref_defaults(holder: &mut Object) {
    if let Some(field_ref) = child(holder, "fieldRef") {
        default_str(field_ref, "apiVersion", "v1");
    }
}

fn is_nil(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

fn is_empty_str(v: Option<&Value>) -> bool {
    is_nil(v) || v.and_then(Value::as_str) == Some("")
}

fn is_zero(v: Option<&Value>) -> bool {
    is_nil(v) || v.and_then(Value::as_f64) == Some(0.0)
}

fn str_of<'a>(o: &'a Object, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Sets a Go pointer field left unset.
fn default_nil(o: &mut Object, key: &str, value: Value) {
    if is_nil(o.get(key)) {
        o.insert(key.into(), value);
    }
}

/// Sets a Go string field left empty.
fn default_str(o: &mut Object, key: &str, value: &str) {
    if is_empty_str(o.get(key)) {
        o.insert(key.into(), json!(value));
    }
}

/// Sets a Go integer field left zero.
fn default_zero(o: &mut Object, key: &str, value: i64) {
    if is_zero(o.get(key)) {
        o.insert(key.into(), json!(value));
    }
}

/// The object at `key`, if there is one.
fn child<'a>(o: &'a mut Object, key: &str) -> Option<&'a mut Object> {
    o.get_mut(key).and_then(Value::as_object_mut)
}

/// The object at `key`, made empty first when unset (a Go struct field is never nil).
fn child_or_insert<'a>(o: &'a mut Object, key: &str) -> Option<&'a mut Object> {
    if is_nil(o.get(key)) {
        o.insert(key.into(), json!({}));
    }
    child(o, key)
}

/// The objects of the list at `key`.
fn items<'a>(o: &'a mut Object, key: &str) -> impl Iterator<Item = &'a mut Object> {
    o.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(spec: Value) -> Value {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}, "spec": spec});
        set_object_defaults(KIND_DEPLOYMENT, &mut d);
        d
    }

    fn pod(spec: Value) -> Value {
        let mut p =
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec});
        set_object_defaults(KIND_POD, &mut p);
        p
    }

    fn minimal_template() -> Value {
        json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}})
    }

    #[test]
    fn minimal_deployment_is_defaulted_like_kube_apiserver() {
        let d = deployment(json!({"selector": {"matchLabels": {"app": "web"}},
            "template": minimal_template()}));
        assert_eq!(
            d["spec"],
            json!({
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{"name": "nginx", "image": "nginx",
                            "imagePullPolicy": "Always",
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File"}],
                        "restartPolicy": "Always",
                        "terminationGracePeriodSeconds": 30,
                        "dnsPolicy": "ClusterFirst",
                        "securityContext": {},
                        "schedulerName": "default-scheduler"
                    }
                }
            })
        );
    }

    #[test]
    fn deployment_template_gets_no_pod_only_defaults() {
        let d = deployment(
            json!({"template": {"spec": {"hostNetwork": true, "containers": [
            {"name": "c", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
             "resources": {"limits": {"cpu": "1"}}}]}}}),
        );
        let spec = &d["spec"]["template"]["spec"];
        assert!(spec.get("enableServiceLinks").is_none());
        let c = &spec["containers"][0];
        assert_eq!(
            c["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}])
        );
        assert_eq!(c["resources"], json!({"limits": {"cpu": "1"}}));
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    }

    #[test]
    fn recreate_strategy_gets_no_rolling_update() {
        let d = deployment(json!({"strategy": {"type": "Recreate"}}));
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn rolling_update_keeps_given_values_and_fills_the_other() {
        let d = deployment(json!({"strategy": {"rollingUpdate": {"maxSurge": 0}}}));
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "25%"}})
        );
    }

    #[test]
    fn given_deployment_values_are_kept_even_when_zero() {
        let d = deployment(json!({"replicas": 0, "revisionHistoryLimit": 0,
            "progressDeadlineSeconds": 30, "template": {"spec": {
                "terminationGracePeriodSeconds": 0, "dnsPolicy": "Default",
                "restartPolicy": "Never", "schedulerName": "mine",
                "securityContext": {"runAsUser": 1}}}}));
        let spec = &d["spec"];
        assert_eq!(spec["replicas"], 0);
        assert_eq!(spec["revisionHistoryLimit"], 0);
        assert_eq!(spec["progressDeadlineSeconds"], 30);
        let pod_spec = &spec["template"]["spec"];
        assert_eq!(pod_spec["terminationGracePeriodSeconds"], 0);
        assert_eq!(pod_spec["dnsPolicy"], "Default");
        assert_eq!(pod_spec["restartPolicy"], "Never");
        assert_eq!(pod_spec["schedulerName"], "mine");
        assert_eq!(pod_spec["securityContext"], json!({"runAsUser": 1}));
    }

    #[test]
    fn empty_strings_and_nulls_count_as_unset() {
        let d = deployment(json!({"replicas": null, "strategy": {"type": ""},
            "template": {"spec": {"dnsPolicy": "", "securityContext": null}}}));
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
        assert_eq!(d["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");
        assert_eq!(d["spec"]["template"]["spec"]["securityContext"], json!({}));
    }

    #[test]
    fn pod_gets_pod_spec_defaults_and_enable_service_links() {
        let p = pod(json!({"containers": [{"name": "c", "image": "busybox:1.36"}]}));
        assert_eq!(
            p["spec"],
            json!({
                "containers": [{"name": "c", "image": "busybox:1.36",
                    "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"}],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "securityContext": {},
                "schedulerName": "default-scheduler",
                "enableServiceLinks": true
            })
        );
    }

    #[test]
    fn pod_requests_default_to_limits() {
        let p = pod(json!({"containers": [{"name": "c", "image": "x",
            "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "100m"}}}],
            "initContainers": [{"name": "i", "image": "x", "resources": {"limits": {"cpu": "1"}}}]}));
        assert_eq!(
            p["spec"]["containers"][0]["resources"]["requests"],
            json!({"cpu": "100m", "memory": "1Gi"})
        );
        assert_eq!(
            p["spec"]["initContainers"][0]["resources"]["requests"],
            json!({"cpu": "1"})
        );
    }

    #[test]
    fn host_network_pod_ports_get_host_ports() {
        let p = pod(
            json!({"hostNetwork": true, "containers": [{"name": "c", "image": "x",
            "ports": [{"containerPort": 8080}, {"containerPort": 9090, "hostPort": 9091}]}]}),
        );
        assert_eq!(
            p["spec"]["containers"][0]["ports"],
            json!([{"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"},
                   {"containerPort": 9090, "hostPort": 9091, "protocol": "TCP"}])
        );
    }

    #[test]
    fn enable_service_links_false_is_kept() {
        let p = pod(json!({"enableServiceLinks": false, "containers": []}));
        assert_eq!(p["spec"]["enableServiceLinks"], false);
    }

    #[test]
    fn probes_and_handlers_are_defaulted() {
        let p = pod(json!({"containers": [{"name": "c", "image": "x",
            "livenessProbe": {"httpGet": {"port": 8080}},
            "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
            "startupProbe": {"tcpSocket": {"port": 1}, "failureThreshold": 30},
            "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/quit"}}}}]}));
        let c = &p["spec"]["containers"][0];
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
                "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(
            c["readinessProbe"],
            json!({"grpc": {"port": 9000, "service": ""},
                "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(c["startupProbe"]["failureThreshold"], 30);
        assert_eq!(
            c["lifecycle"]["preStop"]["httpGet"],
            json!({"port": 80, "path": "/quit", "scheme": "HTTP"})
        );
    }

    #[test]
    fn env_field_refs_get_api_version() {
        let p = pod(json!({"containers": [{"name": "c", "image": "x", "env": [
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "PLAIN", "value": "1"}]}]}));
        assert_eq!(
            p["spec"]["containers"][0]["env"],
            json!([{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName", "apiVersion": "v1"}}},
                   {"name": "PLAIN", "value": "1"}])
        );
    }

    #[test]
    fn volumes_are_defaulted() {
        let p = pod(json!({"containers": [], "volumes": [
            {"name": "scratch"},
            {"name": "s", "secret": {"secretName": "x"}},
            {"name": "cm", "configMap": {"name": "x", "defaultMode": 256}},
            {"name": "h", "hostPath": {"path": "/tmp"}},
            {"name": "d", "downwardAPI": {"items": [{"path": "l", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
            {"name": "pr", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
            {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}}
        ]}));
        assert_eq!(
            p["spec"]["volumes"],
            json!([
                {"name": "scratch", "emptyDir": {}},
                {"name": "s", "secret": {"secretName": "x", "defaultMode": 420}},
                {"name": "cm", "configMap": {"name": "x", "defaultMode": 256}},
                {"name": "h", "hostPath": {"path": "/tmp", "type": ""}},
                {"name": "d", "downwardAPI": {"defaultMode": 420, "items": [
                    {"path": "l", "fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v1"}}]}},
                {"name": "pr", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]}},
                {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {
                    "accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}}}}
            ])
        );
    }

    #[test]
    fn init_and_ephemeral_containers_get_container_defaults() {
        let p = pod(json!({"containers": [],
            "initContainers": [{"name": "i", "image": "x:latest"}],
            "ephemeralContainers": [{"name": "e", "image": "x:1", "terminationMessagePolicy": "FallbackToLogsOnError"}]}));
        assert_eq!(p["spec"]["initContainers"][0]["imagePullPolicy"], "Always");
        let e = &p["spec"]["ephemeralContainers"][0];
        assert_eq!(e["imagePullPolicy"], "IfNotPresent");
        assert_eq!(e["terminationMessagePolicy"], "FallbackToLogsOnError");
        assert_eq!(e["terminationMessagePath"], "/dev/termination-log");
    }

    #[test]
    fn defaulting_twice_changes_nothing() {
        let once = deployment(json!({"template": minimal_template()}));
        let mut twice = once.clone();
        set_object_defaults(KIND_DEPLOYMENT, &mut twice);
        assert_eq!(once, twice);
    }

    #[test]
    fn other_kinds_are_left_alone() {
        let mut cm = json!({"kind": "ConfigMap", "data": {}});
        set_object_defaults("ConfigMap", &mut cm);
        assert_eq!(cm, json!({"kind": "ConfigMap", "data": {}}));
    }
}
