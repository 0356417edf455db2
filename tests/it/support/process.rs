//! A real `service-console serve` process on a free port with its own data directory,
//! killed when dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The running server.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    /// Starts `serve` with `extra` flags and waits until `/readyz` answers 200.
    pub fn start(extra: &[&str]) -> ServerProcess {
        let server = ServerProcess::spawn("http", extra);
        let deadline = Instant::now() + Duration::from_secs(30);
        while server
            .get("/readyz")
            .is_none_or(|r| !r.starts_with("HTTP/1.1 200"))
        {
            assert!(Instant::now() < deadline, "the server did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Starts `serve --tls --no-demo` with `extra` flags and waits until its CA exists and the
    /// port accepts connections; `url` is `https://127.0.0.1:PORT`.
    #[allow(dead_code)]
    pub fn start_tls(extra: &[&str]) -> ServerProcess {
        let flags: Vec<&str> = ["--tls", "--no-demo"]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        let server = ServerProcess::spawn("https", &flags);
        let ca = server.data_dir().join("pki").join("ca.crt");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ca.exists() || TcpStream::connect(("127.0.0.1", server.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Its data directory (the PKI of a team-mode server is under `pki/`).
    #[allow(dead_code)]
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Spawns `serve` on a free port with a new data directory.
    fn spawn(scheme: &str, extra: &[&str]) -> ServerProcess {
        let dir = tempfile::tempdir().expect("data directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("address")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_service-console"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("server.log")).expect("log file"))
            .spawn()
            .expect("start the server");
        ServerProcess {
            child,
            port,
            url: format!("{scheme}://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// What the server logged so far (its standard error).
    #[allow(dead_code)]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("server.log")).unwrap_or_default()
    }

    /// One GET on its own connection; the whole response, or `None` if it failed.
    pub fn get(&self, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        stream.read_to_string(&mut out).ok()?;
        Some(out)
    }
}
