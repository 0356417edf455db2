//! A team-mode server (`serve --tls`) with the real kubectl: the admin kubeconfig the
//! `kubeconfig` subcommand prints, kubeconfigs for tokens, and the server's token keys.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use service_console::auth::tokens::TokenKeys;

use super::kubectl::find_kubectl;
use super::process::ServerProcess;

/// A team-mode server and kubectl with a fresh HOME.
pub struct Team {
    pub server: ServerProcess,
    kubectl: PathBuf,
    home: tempfile::TempDir,
    pub admin: PathBuf,
}

/// What one kubectl run printed.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Team {
    /// Starts `serve --tls`, prints its admin kubeconfig, and waits until kubectl reaches it;
    /// `None` (skip) when kubectl is missing outside CI.
    pub fn start() -> Option<Team> {
        Team::start_with(&[])
    }

    /// [`Team::start`] with more `serve` flags.
    pub fn start_with(extra: &[&str]) -> Option<Team> {
        let kubectl = find_kubectl()?;
        let server = ServerProcess::start_tls(extra);
        let home = tempfile::tempdir().expect("home");
        let output = Command::new(env!("CARGO_BIN_EXE_service-console"))
            .args(["kubeconfig", "--server", &server.url, "--data-dir"])
            .arg(server.data_dir())
            .output()
            .expect("service-console kubeconfig");
        assert!(output.status.success(), "{output:?}");
        let admin = home.path().join("admin.kubeconfig");
        std::fs::write(&admin, &output.stdout).expect("write kubeconfig");
        let team = Team {
            server,
            kubectl,
            home,
            admin,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while team.run(&team.admin, &["get", "--raw", "/readyz"]).code != 0 {
            assert!(Instant::now() < deadline, "the server did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(team)
    }

    /// Runs kubectl with `kubeconfig`.
    pub fn run(&self, kubeconfig: &Path, args: &[&str]) -> Out {
        let output = Command::new(&self.kubectl)
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("HOME", self.home.path())
            .output()
            .expect("run kubectl");
        Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs kubectl as the cluster admin; its stdout, failing the test when it fails.
    #[track_caller]
    pub fn admin_ok(&self, args: &[&str]) -> String {
        let out = self.run(&self.admin, args);
        assert_eq!(out.code, 0, "kubectl {args:?}: {}", out.stderr);
        out.stdout
    }

    /// A kubeconfig that authenticates with `token` only.
    pub fn token_kubeconfig(&self, name: &str, token: &str) -> PathBuf {
        let ca = self.server.data_dir().join("pki").join("ca.crt");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: team\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: {name}\n  user:\n    token: {token}\ncontexts:\n- name: team\n  context:\n    cluster: team\n    user: {name}\n    namespace: default\ncurrent-context: team\n",
            self.server.url,
            ca.display()
        );
        let path = self.home.path().join(format!("{name}.kubeconfig"));
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    /// The token signing keys of the server.
    pub fn keys(&self) -> TokenKeys {
        let pki = self.server.data_dir().join("pki");
        let read = |f: &str| std::fs::read_to_string(pki.join(f)).expect("pki file");
        TokenKeys::from_pem(&read("sa.key"), &read("sa.pub")).expect("keys")
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Team {
    /// Creates the objects of a JSON or YAML manifest as the admin.
    pub fn create(&self, manifest: &str) {
        let path = self.home.path().join("manifest.yaml");
        std::fs::write(&path, manifest).expect("write the manifest");
        self.admin_ok(&["create", "-f", &path.to_string_lossy()]);
    }

    /// A token of ServiceAccount `default/alice`, who may view `default` (`view` role).
    pub fn viewer_token(&self) -> String {
        self.admin_ok(&["create", "serviceaccount", "alice"]);
        self.admin_ok(&[
            "create",
            "rolebinding",
            "alice-view",
            "--clusterrole=view",
            "--serviceaccount=default:alice",
        ]);
        self.admin_ok(&["create", "token", "alice"])
            .trim()
            .to_string()
    }
}
