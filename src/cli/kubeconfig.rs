//! `service-console kubeconfig [--server URL] [--data-dir DIR]`: prints a kubeconfig that
//! points kubectl at this server.
//!
//! - For an `https://` server (team mode) it is an admin kubeconfig as kubeadm writes one: the
//!   CA as `certificate-authority-data` and a client certificate for `kubernetes-admin` in
//!   `system:masters`, signed by the CA under `DATA_DIR/pki`.
//! - For an `http://` server (local mode) it carries no credentials (client-go would drop them,
//!   kubernetes-api.md §2.3) and says `insecure-skip-tls-verify: true`: some official client
//!   libraries refuse to load an `http://` cluster entry without it, and kubectl accepts it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::auth::pki::Pki;
use crate::config::KubeconfigArgs;

/// The name of the cluster, user and context in the printed kubeconfig.
pub const CONTEXT_NAME: &str = "service-console";
/// The namespace kubectl uses when none is given.
pub const DEFAULT_NAMESPACE: &str = "default";
/// The user of the admin kubeconfig, as kubeadm names it.
pub const ADMIN_USER: &str = "kubernetes-admin";

/// The kubeconfig for `args.server`, as a YAML document.
pub fn render(args: &KubeconfigArgs) -> anyhow::Result<String> {
    let document = if args.server.starts_with("https://") {
        let pki = Pki::load(&args.data_dir)?;
        let (cert, key) = pki.issue_client(ADMIN_USER, Some(service_plan::user::MASTERS))?;
        let cluster = json!({
            "server": args.server,
            "certificate-authority-data": STANDARD.encode(&pki.ca_cert_pem),
        });
        let user = json!({
            "client-certificate-data": STANDARD.encode(cert),
            "client-key-data": STANDARD.encode(key),
        });
        document(cluster, ADMIN_USER, user)
    } else {
        let cluster = json!({"server": args.server, "insecure-skip-tls-verify": true});
        document(cluster, CONTEXT_NAME, json!({}))
    };
    Ok(serde_saphyr::to_string(&document)?)
}

/// Runs the command: prints the kubeconfig on standard output.
pub fn run(args: &KubeconfigArgs) -> anyhow::Result<()> {
    print!("{}", render(args)?);
    Ok(())
}

fn document(cluster: Value, user_name: &str, user: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT_NAME, "cluster": cluster}],
        "users": [{"name": user_name, "user": user}],
        "contexts": [{
            "name": CONTEXT_NAME,
            "context": {"cluster": CONTEXT_NAME, "user": user_name, "namespace": DEFAULT_NAMESPACE}
        }],
        "current-context": CONTEXT_NAME,
        "preferences": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(server: &str, data_dir: &std::path::Path) -> KubeconfigArgs {
        KubeconfigArgs {
            server: server.into(),
            data_dir: data_dir.into(),
        }
    }

    #[test]
    fn a_local_kubeconfig_names_everything_service_console() {
        let text = render(&args("http://127.0.0.1:8080", "unused".as_ref())).unwrap();
        let parsed: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(
            parsed["clusters"][0]["cluster"]["insecure-skip-tls-verify"],
            true
        );
        assert_eq!(
            parsed["users"][0],
            json!({"name": "service-console", "user": {}})
        );
        assert!(text.contains("current-context: service-console"), "{text}");
    }

    #[test]
    fn a_team_kubeconfig_carries_the_ca_and_an_admin_certificate() {
        let dir = tempfile::tempdir().unwrap();
        assert!(render(&args("https://127.0.0.1:8443", dir.path())).is_err());
        let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
        let text = render(&args("https://127.0.0.1:8443", dir.path())).unwrap();
        let parsed: Value = serde_saphyr::from_str(&text).unwrap();
        let ca = parsed["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .unwrap();
        assert_eq!(STANDARD.decode(ca).unwrap(), pki.ca_cert_pem.as_bytes());
        assert_eq!(parsed["contexts"][0]["context"]["user"], ADMIN_USER);
        assert!(parsed["users"][0]["user"]["client-key-data"].is_string());
    }
}
