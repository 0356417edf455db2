//! The real kubectl against the real server on a free port: a fresh HOME, cache dir and
//! kubeconfig (printed by `service-console kubeconfig`) per test, so discovery is never stale.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::TestCluster;

/// How long a watch line or a kubectl run may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A server on 127.0.0.1 and a kubectl configured for it.
pub struct Kubectl {
    /// Owns the database directory; kept alive with the server (`None`: a server process
    /// the test started, see [`Kubectl::for_server`]).
    _cluster: Option<TestCluster>,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Holds HOME, the cache dir, the kubeconfig and manifests.
    pub dir: tempfile::TempDir,
    kubectl: PathBuf,
    /// The in-process server; `None` for a server process the test runs.
    server: Option<JoinHandle<()>>,
}

/// What one kubectl run printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with everything kubectl printed unless it exited 0 with `stdout` and nothing on stderr.
    #[track_caller]
    pub fn assert_ok(&self, stdout: &str) {
        assert_eq!(
            (self.code, self.stdout.as_str(), self.stderr.as_str()),
            (0, stdout, ""),
            "{self:#?}"
        );
    }

    /// Panics unless kubectl exited 1 with nothing on stdout and `stderr`.
    #[track_caller]
    pub fn assert_err(&self, stderr: &str) {
        assert_eq!(
            (self.code, self.stdout.as_str(), self.stderr.as_str()),
            (1, "", stderr),
            "{self:#?}"
        );
    }
}

/// Where kubectl is, or `None` (after saying why) when it is missing outside CI.
pub fn find_kubectl() -> Option<PathBuf> {
    let found = match std::env::var_os("KUBECTL") {
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()),
        None => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("kubectl"))
            .find(|p| p.is_file()),
    };
    if found.is_none() {
        let why = "kubectl is not installed (looked at $KUBECTL, else kubectl on $PATH)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{why}, and CI=true"
        );
        eprintln!("skipping: {why}");
    }
    found
}

impl Kubectl {
    /// Starts a server on a fresh cluster and writes a kubeconfig for it; `None` means skip.
    pub async fn start() -> Option<Kubectl> {
        let kubectl = find_kubectl()?;
        Some(Kubectl::start_on(kubectl, TestCluster::new().await).await)
    }

    /// Like [`Kubectl::start`], on a cluster the test prepared (e.g. with controllers).
    #[allow(dead_code)]
    pub async fn start_with(cluster: TestCluster) -> Option<Kubectl> {
        let kubectl = find_kubectl()?;
        Some(Kubectl::start_on(kubectl, cluster).await)
    }

    /// A kubectl configured for a server already running at `base_url` (a
    /// [`super::process::ServerProcess`]); `None` means skip.
    #[allow(dead_code)]
    pub fn for_server(base_url: &str) -> Option<Kubectl> {
        let kubectl = find_kubectl()?;
        Some(Kubectl::configured(
            kubectl,
            base_url.to_owned(),
            None,
            None,
        ))
    }

    async fn start_on(kubectl: PathBuf, cluster: TestCluster) -> Kubectl {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let app = service_console::app(cluster.state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, tower::make::Shared::new(app))
                .await
                .expect("serve");
        });
        Kubectl::configured(kubectl, base_url, Some(cluster), Some(server))
    }

    fn configured(
        kubectl: PathBuf,
        base_url: String,
        cluster: Option<TestCluster>,
        server: Option<JoinHandle<()>>,
    ) -> Kubectl {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir_all(dir.path().join("home")).expect("home directory");
        let kubeconfig = kubeconfig_for(&base_url);
        std::fs::write(dir.path().join("kubeconfig"), kubeconfig).expect("write kubeconfig");
        Kubectl {
            _cluster: cluster,
            base_url,
            dir,
            kubectl,
            server,
        }
    }

    /// A path inside the test's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file (a manifest, an editor script) into the test's directory.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// A kubectl command with this test's HOME, cache dir and kubeconfig, run in its directory.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg("--cache-dir").arg(self.path("cache")).args(args);
        cmd.current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env("KUBECONFIG", self.path("kubeconfig"))
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .env_remove("KUBE_EDITOR")
            .env("EDITOR", "false");
        cmd
    }

    /// Runs `kubectl ARGS` to completion.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_command(self.command(args), None).await
    }

    /// Runs `kubectl ARGS` with `stdin` as its standard input.
    pub async fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_command(self.command(args), Some(stdin.to_owned()))
            .await
    }

    /// Runs a prepared command (see [`Kubectl::command`]) to completion, off the runtime's threads.
    pub async fn run_command(&self, mut cmd: Command, stdin: Option<String>) -> Run {
        let task = tokio::task::spawn_blocking(move || {
            cmd.stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn kubectl");
            if let Some(text) = stdin {
                let mut pipe = child.stdin.take().expect("kubectl stdin");
                pipe.write_all(text.as_bytes())
                    .expect("write kubectl stdin");
            }
            child.wait_with_output().expect("wait for kubectl")
        });
        let output = tokio::time::timeout(DEADLINE, task)
            .await
            .expect("kubectl did not finish within the deadline")
            .expect("kubectl task");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts `kubectl ARGS` in the background (e.g. `get svc -w`), reading its stdout by line.
    pub fn spawn(&self, args: &[&str]) -> Background {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kubectl");
        let (tx, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("kubectl stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Background {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// `GET path` straight from the API as JSON: the object kubectl should have printed.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = reqwest::get(format!("{}{path}", self.base_url))
            .await
            .expect("GET");
        response.json().await.expect("JSON body")
    }
}

impl Drop for Kubectl {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// The kubeconfig the `service-console kubeconfig` subcommand prints for `server`.
pub fn kubeconfig_for(server: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_service-console"))
        .args(["kubeconfig", "--server", server])
        .output()
        .expect("run service-console kubeconfig");
    assert!(
        output.status.success(),
        "service-console kubeconfig failed: {output:?}"
    );
    String::from_utf8(output.stdout).expect("kubeconfig is UTF-8")
}

/// A kubectl running in the background; killed when dropped.
pub struct Background {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Background {
    /// Waits (up to [`DEADLINE`]) for the next stdout line that satisfies `wanted`.
    pub async fn wait_for(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Ok(None) => panic!(
                    "kubectl ended before printing {what}; printed {:#?}",
                    self.seen
                ),
                Err(_) => panic!(
                    "no line with {what} within {DEADLINE:?}; printed {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Stops kubectl and returns what it printed on stderr.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let mut stderr = String::new();
        if let Some(pipe) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut BufReader::new(pipe), &mut stderr);
        }
        let _ = self.child.wait();
        stderr
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lays `rows` out as kubectl does (Go tabwriter: min width 6, padding 3, last cell unpadded).
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count() + 3)
                .max()
                .unwrap_or(0)
                .max(6)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if c + 1 < row.len() {
                out.push_str(&" ".repeat(widths[c] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

/// Splits a printed table into its cells (kubectl separates columns by at least 3 spaces).
pub fn cells(line: &str) -> Vec<String> {
    line.split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The AGE cell of every data row of `output`, checked to look like a short age (`0s`…`9m59s`).
pub fn ages(output: &str) -> Vec<String> {
    let mut lines = output.lines();
    let header = lines.next().unwrap_or_default();
    let column = cells(header)
        .iter()
        .position(|c| c == "AGE")
        .expect("AGE column");
    lines
        .map(|line| {
            let age = cells(line).get(column).cloned().unwrap_or_default();
            assert!(is_age(&age), "{age:?} is not an age in {output}");
            age
        })
        .collect()
}

fn is_age(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('m') {
        Some((m, rest)) => {
            digits(m) && (rest.is_empty() || rest.strip_suffix('s').is_some_and(digits))
        }
        None => s.strip_suffix('s').is_some_and(digits),
    }
}
