//! `service-console kubeconfig [--server URL]`: prints a kubeconfig that points kubectl at this
//! server. Plain HTTP carries no credentials (client-go drops them, kubernetes-api.md §2.3).

use serde_json::{Value, json};

use crate::config::KubeconfigArgs;

/// The name of the cluster, user and context in the printed kubeconfig.
pub const CONTEXT_NAME: &str = "service-console";
/// The namespace kubectl uses when none is given.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The kubeconfig for a server at `server`, as a YAML document.
pub fn render(server: &str) -> anyhow::Result<String> {
    Ok(serde_saphyr::to_string(&document(server))?)
}

/// Runs the command: prints the kubeconfig on standard output.
pub fn run(args: &KubeconfigArgs) -> anyhow::Result<()> {
    print!("{}", render(&args.server)?);
    Ok(())
}

fn document(server: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT_NAME, "cluster": {"server": server}}],
        "users": [{"name": CONTEXT_NAME, "user": {}}],
        "contexts": [{
            "name": CONTEXT_NAME,
            "context": {"cluster": CONTEXT_NAME, "user": CONTEXT_NAME, "namespace": DEFAULT_NAMESPACE}
        }],
        "current-context": CONTEXT_NAME,
        "preferences": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_names_everything_service_console() {
        let text = render("http://127.0.0.1:8080").unwrap();
        let parsed: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(parsed, document("http://127.0.0.1:8080"));
        assert!(text.contains("current-context: service-console"), "{text}");
    }
}
