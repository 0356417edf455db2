//! The `validate` command, run as a real process.

use std::io::Write;
use std::process::{Command, Stdio};

fn validate(input: &str, extra: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_service-console"))
        .args(["validate", "-f", "-"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run service-console");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write manifest");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const NGINX: &str = "apiVersion: v1
kind: Service
metadata:
  annotations:
    service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type: intranet
  labels:
    app: nginx
  name: my-nginx-svc
  namespace: default
spec:
  ports:
  - port: 80
    protocol: TCP
    targetPort: 80
  selector:
    app: nginx
  type: LoadBalancer
";

#[test]
fn valid_manifest_prints_the_defaulted_service() {
    let (code, out, err) = validate(NGINX, &["-o", "json"]);
    assert_eq!(code, 0, "stderr: {err}");
    let svc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(svc["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(svc["spec"]["sessionAffinity"], "None");
    assert_eq!(svc["spec"]["allocateLoadBalancerNodePorts"], true);
    assert_eq!(svc["spec"]["internalTrafficPolicy"], "Cluster");
}

#[test]
fn yaml_output_is_the_default() {
    let (code, out, _) = validate(NGINX, &[]);
    assert_eq!(code, 0);
    assert!(out.contains("externalTrafficPolicy: Cluster"), "{out}");
}

#[test]
fn invalid_document_prints_kubectls_text_and_exits_1() {
    let bad = NGINX.replace("  - port: 80", "  - port: 0");
    let two = format!("{NGINX}---\n{bad}");
    let (code, out, err) = validate(&two, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim_end(),
        "The Service \"my-nginx-svc\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
    );
    assert!(
        out.contains("name: my-nginx-svc"),
        "the valid document is still printed: {out}"
    );
}

#[test]
fn bad_request_errors_name_the_file() {
    let (code, _, err) = validate("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim_end(),
        "Error from server (BadRequest): error when creating \"-\": Pod in version \"v1\" cannot be handled as a Service: converting (v1.Pod) to (core.Service): unknown conversion"
    );
}
