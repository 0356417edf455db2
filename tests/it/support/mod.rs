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
}

impl TestCluster {
    /// A new cluster with the ACK defaults (172.21.0.0/20, 30000-32767).
    pub async fn new() -> TestCluster {
        let dir = tempfile::tempdir().expect("temporary directory");
        let state = open_state(dir.path(), pools()).await.expect("open state");
        TestCluster { state, dir }
    }

    /// Reopens the same data directory, as a restarted server would.
    pub async fn reopen(self) -> TestCluster {
        let TestCluster { state, dir } = self;
        drop(state);
        let state = open_state(dir.path(), pools()).await.expect("reopen state");
        TestCluster { state, dir }
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
    Pools { service_cidr: ServiceCidr::parse("172.21.0.0/20").expect("cidr"), node_ports: PortRange::DEFAULT }
}
