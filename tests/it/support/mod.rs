//! Test fixtures: a registry on a fresh SQLite file, and a server on a free port.

use std::path::PathBuf;

use service_console::AppState;
use service_console::registry::Registry;
use service_console::server::open_state;
use service_plan::alloc::{Pools, PortRange, ServiceCidr};

/// A registry over a SQLite file in its own temporary directory.
pub struct TestCluster {
    pub state: AppState,
    pub dir: tempfile::TempDir,
    /// The running controllers, when started with [`TestCluster::with_controllers`].
    pub controllers: Option<service_console::controllers::Controllers>,
}

impl TestCluster {
    /// A new cluster with the ACK defaults (172.21.0.0/20, 30000-32767).
    pub async fn new() -> TestCluster {
        let dir = tempfile::tempdir().expect("temporary directory");
        let state = open_state(dir.path(), pools()).await.expect("open state");
        TestCluster {
            state,
            dir,
            controllers: None,
        }
    }

    /// A new cluster with `settings` whose workloads, endpoints and load-balancer controllers
    /// run (as under `serve`), seeded with the demo cluster when `demo` is true.
    #[allow(dead_code)]
    pub async fn with_controllers(
        settings: service_console::registry::ClusterSettings,
        demo: bool,
    ) -> TestCluster {
        let mut cluster = TestCluster::new().await;
        cluster.state.registry.configure(settings);
        let options = service_console::controllers::ControllerOptions { demo };
        let controllers = service_console::controllers::start_controllers(&cluster.state, options)
            .await
            .expect("start controllers");
        cluster.controllers = Some(controllers);
        cluster
    }

    /// Reopens the same data directory, as a restarted server would.
    pub async fn reopen(self) -> TestCluster {
        let TestCluster {
            state,
            dir,
            controllers,
        } = self;
        drop(controllers);
        drop(state);
        let state = open_state(dir.path(), pools()).await.expect("reopen state");
        TestCluster {
            state,
            dir,
            controllers: None,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.state.registry
    }

    #[allow(dead_code)]
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

/// The pools every test cluster uses.
pub fn pools() -> Pools {
    Pools {
        service_cidr: ServiceCidr::parse("172.21.0.0/20").expect("cidr"),
        node_ports: PortRange::DEFAULT,
    }
}

pub mod browser;

pub mod kubectl;

pub mod postgres;

pub mod process;

pub mod proxy;

pub mod team;

/// A console response read in full, for the HTML tests.
#[allow(dead_code)]
pub struct ConsoleResponse {
    pub status: axum::http::StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

#[allow(dead_code)]
impl ConsoleResponse {
    /// Reads the whole body of `response`.
    pub async fn read(response: axum::response::Response) -> ConsoleResponse {
        use http_body_util::BodyExt;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        ConsoleResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A header's value, empty when absent.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// The redirect target.
    pub fn location(&self) -> String {
        self.header("location")
    }

    /// The value of a cookie this response sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let (k, rest) = v.split_once('=')?;
                (k == name).then(|| rest.split(';').next().unwrap_or("").to_string())
            })
    }

    /// The body from `start` up to the next `end` (empty when `start` is missing).
    pub fn section(&self, start: &str, end: &str) -> String {
        let Some(from) = self.body.find(start) else {
            return String::new();
        };
        let rest = &self.body[from..];
        rest[..rest.find(end).unwrap_or(rest.len())].to_string()
    }

    /// The `value` of the input named `name`.
    pub fn input_value(&self, name: &str) -> String {
        let tag = self.section(&format!("name=\"{name}\""), ">");
        html_unescape(
            tag.split("value=\"")
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or(""),
        )
    }

    /// The `href` of the link whose tag contains `marker` after its `href`.
    pub fn link_before(&self, marker: &str) -> Option<String> {
        let at = self.body.find(marker)?;
        let href = self.body[..at].rfind("href=\"")? + 6;
        let end = self.body[href..].find('"')? + href;
        Some(html_unescape(&self.body[href..end]))
    }
}

/// An `application/x-www-form-urlencoded` body.
#[allow(dead_code)]
pub fn form_body(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Undoes askama's HTML escaping.
#[allow(dead_code)]
pub fn html_unescape(s: &str) -> String {
    s.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}
