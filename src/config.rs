//! Command-line flags (each also read from an environment variable), validated once at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ipnet::Ipv4Net;
use service_plan::alloc::{Pools, PortRange, ServiceCidr};
use service_plan::lease::election::{Timing, parse_duration};
use service_plan::slb::NetworkPlugin;

use crate::store::DatabaseUrl;

use crate::registry::{
    ClusterSettings, DEFAULT_CLUSTER_ID, DEFAULT_POD_CIDR, DEFAULT_SLB_INTRANET_IP_POOL,
    DEFAULT_SLB_IP_POOL,
};

/// service-console: a web console and Kubernetes-compatible API for Services.
#[derive(Debug, Parser)]
#[command(name = "service-console", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of `serve`, which runs when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console and the Kubernetes API (the default).
    Serve(Box<ServeArgs>),
    /// Default and validate Service manifests as kube-apiserver would, without a server.
    Validate(ValidateArgs),
    /// Print a kubeconfig that points kubectl at this server.
    Kubeconfig(KubeconfigArgs),
    /// Show what applying Service manifests would do (allocations, SLB, conflicts) against a server.
    Plan(PlanArgs),
    /// Show who changed a Service, when and how, with readable diffs, from a running server.
    History(HistoryCliArgs),
}

/// Flags of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SERVICE_CONSOLE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder of the embedded SQLite database; created if missing.
    #[arg(long, env = "SERVICE_CONSOLE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Start without the demo cluster (nodes and an nginx Deployment).
    #[arg(long, env = "SERVICE_CONSOLE_NO_DEMO")]
    pub no_demo: bool,
    #[command(flatten)]
    pub load_balancing: LoadBalancingArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub history: HistoryArgs,
    #[command(flatten)]
    pub leader_election: LeaderElectionArgs,
}

/// Leader election of the controllers, with kube-controller-manager's flags and defaults.
#[derive(Debug, Clone, Args)]
pub struct LeaderElectionArgs {
    /// Run the controllers only while this replica holds the Lease
    /// kube-system/kube-controller-manager, so that one of several replicas over one database
    /// runs them. A lone replica acquires it at start.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_LEADER_ELECT",
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub leader_elect: bool,
    /// How long other replicas wait, after they last saw the lease renewed, before taking it.
    #[arg(long, env = "SERVICE_CONSOLE_LEADER_ELECT_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub leader_elect_lease_duration: Duration,
    /// How long the leader retries renewing before it stops its controllers.
    #[arg(long, env = "SERVICE_CONSOLE_LEADER_ELECT_RENEW_DEADLINE", default_value = "10s", value_parser = parse_duration)]
    pub leader_elect_renew_deadline: Duration,
    /// How long replicas wait between attempts to acquire or renew the lease.
    #[arg(long, env = "SERVICE_CONSOLE_LEADER_ELECT_RETRY_PERIOD", default_value = "2s", value_parser = parse_duration)]
    pub leader_elect_retry_period: Duration,
}

impl LeaderElectionArgs {
    /// The election's timing, checked as client-go checks it; `None` without election.
    pub fn timing(&self) -> Result<Option<Timing>, String> {
        if !self.leader_elect {
            return Ok(None);
        }
        let timing = Timing {
            lease_duration: self.leader_elect_lease_duration,
            renew_deadline: self.leader_elect_renew_deadline,
            retry_period: self.leader_elect_retry_period,
        };
        timing.check().map(|()| Some(timing))
    }
}

/// Where the store lives: SQLite in the data directory, or a PostgreSQL database that several
/// replicas share.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// A PostgreSQL database (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`) instead of SQLite
    /// in --data-dir: every replica started with the same URL serves the same objects, with
    /// one revision order and watches that see every replica's writes. The URL is never logged.
    #[arg(
        long = "database",
        env = "SERVICE_CONSOLE_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<DatabaseUrl>,
    /// Read connections to the PostgreSQL database (the writer and the change listener have
    /// one each besides).
    #[arg(
        long,
        env = "SERVICE_CONSOLE_DATABASE_POOL_SIZE",
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    pub database_pool_size: u32,
}

impl Default for DatabaseArgs {
    fn default() -> Self {
        DatabaseArgs {
            database_url: None,
            database_pool_size: 8,
        }
    }
}

/// Team mode: HTTPS with authentication and RBAC always on.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsArgs {
    /// Serve HTTPS for a team: client certificates, ServiceAccount tokens and console sign-in
    /// authenticate; RBAC authorises. Without it the server is local: plain HTTP on loopback.
    #[arg(long, env = "SERVICE_CONSOLE_TLS")]
    pub tls: bool,
    /// Serving certificate (PEM, chain first). Without it one is generated under DATA_DIR/pki,
    /// signed by a CA generated there.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_TLS_CERT_FILE",
        requires = "tls_private_key_file"
    )]
    pub tls_cert_file: Option<PathBuf>,
    /// The private key of --tls-cert-file (PEM).
    #[arg(
        long,
        env = "SERVICE_CONSOLE_TLS_PRIVATE_KEY_FILE",
        requires = "tls_cert_file"
    )]
    pub tls_private_key_file: Option<PathBuf>,
    /// Another name or address for the generated serving certificate (repeatable).
    #[arg(
        long = "tls-san",
        env = "SERVICE_CONSOLE_TLS_SAN",
        value_delimiter = ','
    )]
    pub tls_sans: Vec<String>,
}

/// The audit log, with kube-apiserver's flag names and rotation.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Write an audit.k8s.io/v1 Event per request to this file, as JSON lines; `-` is
    /// standard output. No audit log when absent.
    #[arg(long, env = "SERVICE_CONSOLE_AUDIT_LOG_PATH")]
    pub audit_log_path: Option<PathBuf>,
    /// Megabytes of audit log before the file is rotated (0: 100).
    #[arg(long, env = "SERVICE_CONSOLE_AUDIT_LOG_MAXSIZE", default_value_t = 0)]
    pub audit_log_maxsize: u64,
    /// Rotated audit log files kept (0: all).
    #[arg(long, env = "SERVICE_CONSOLE_AUDIT_LOG_MAXBACKUP", default_value_t = 0)]
    pub audit_log_maxbackup: usize,
}

impl AuditArgs {
    /// The audit log these flags ask for, if any.
    pub fn options(&self) -> Option<crate::api::audit::AuditLogOptions> {
        self.audit_log_path
            .as_ref()
            .map(|path| crate::api::audit::AuditLogOptions {
                path: path.clone(),
                max_size_mb: self.audit_log_maxsize,
                max_backups: self.audit_log_maxbackup,
            })
    }
}

/// How much of each Service's revision history is kept.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Revisions kept per Service; older ones are pruned on its next write.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_HISTORY_MAX_REVISIONS",
        default_value_t = 50
    )]
    pub history_max_revisions: u32,
    /// Days a revision is kept.
    #[arg(long, env = "SERVICE_CONSOLE_HISTORY_MAX_AGE", default_value_t = 30)]
    pub history_max_age: u32,
}

/// What one server accepts at once, and how it stops; the defaults are kube-apiserver's.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Reads (not watches) served at once; more are answered 429 with Retry-After.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_MAX_REQUESTS_INFLIGHT",
        default_value_t = crate::inflight::DEFAULT_READS
    )]
    pub max_requests_inflight: usize,
    /// Writes served at once; more are answered 429 with Retry-After.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_MAX_MUTATING_REQUESTS_INFLIGHT",
        default_value_t = crate::inflight::DEFAULT_WRITES
    )]
    pub max_mutating_requests_inflight: usize,
    /// Connections open at once (default: what the open-file limit allows, raised to its
    /// hard limit at start).
    #[arg(long, env = "SERVICE_CONSOLE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Seconds a client may take to send a request's headers, and to start its next request
    /// on a kept-alive connection.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_HEADER_READ_TIMEOUT",
        default_value_t = 32
    )]
    pub header_read_timeout: u64,
    /// Seconds a request (not a watch) may take before it is answered 504.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_REQUEST_TIMEOUT",
        default_value_t = crate::inflight::DEFAULT_DEADLINE_SECS
    )]
    pub request_timeout: u64,
    /// Seconds in-flight requests may finish in after SIGTERM or SIGINT.
    #[arg(long, env = "SERVICE_CONSOLE_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace: u64,
}

/// The simulated cloud around the cluster: its id, network plug-in and address pools.
#[derive(Debug, Clone, Args)]
pub struct LoadBalancingArgs {
    /// Cluster id, written into listener and vServer-group names and into ACK's tags.
    #[arg(long, env = "SERVICE_CONSOLE_CLUSTER_ID", default_value = DEFAULT_CLUSTER_ID)]
    pub cluster_id: String,
    /// Network plug-in: `flannel` (node backends) or `terway-eniip` (pod backends).
    #[arg(long, env = "SERVICE_CONSOLE_NETWORK_PLUGIN", default_value = "flannel", value_parser = parse_network_plugin)]
    pub network_plugin: NetworkPlugin,
    /// Range the workloads controller takes pod IPs from.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_POD_CIDR",
        default_value = DEFAULT_POD_CIDR
    )]
    pub pod_cidr: Ipv4Net,
    /// Addresses of internet-facing SLB instances.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_SLB_IP_POOL",
        default_value = DEFAULT_SLB_IP_POOL
    )]
    pub slb_ip_pool: Ipv4Net,
    /// Addresses of internal (intranet) SLB instances.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_SLB_INTRANET_IP_POOL",
        default_value = DEFAULT_SLB_INTRANET_IP_POOL
    )]
    pub slb_intranet_ip_pool: Ipv4Net,
}

fn parse_network_plugin(value: &str) -> Result<NetworkPlugin, String> {
    NetworkPlugin::parse(value).ok_or_else(|| {
        format!("unknown network plug-in {value:?}; expected flannel or terway-eniip")
    })
}

impl LoadBalancingArgs {
    /// The registry's view of these flags.
    pub fn settings(&self) -> ClusterSettings {
        ClusterSettings {
            cluster_id: self.cluster_id.clone(),
            network_plugin: self.network_plugin,
            pod_cidr: self.pod_cidr,
            slb_ip_pool: self.slb_ip_pool,
            slb_intranet_ip_pool: self.slb_intranet_ip_pool,
        }
    }
}

/// The cluster's address pools, shared by `serve` and `validate`.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Range of Service cluster IPs; its first address is the `kubernetes` Service's.
    #[arg(long, env = "SERVICE_CONSOLE_SERVICE_CIDR", default_value = "172.21.0.0/20", value_parser = ServiceCidr::parse)]
    pub service_cidr: ServiceCidr,
    /// Range of node ports, inclusive.
    #[arg(long, env = "SERVICE_CONSOLE_NODE_PORT_RANGE", default_value = "30000-32767", value_parser = PortRange::parse)]
    pub node_port_range: PortRange,
}

impl ClusterArgs {
    /// The allocation pools these flags describe.
    pub fn pools(&self) -> Pools {
        Pools {
            service_cidr: self.service_cidr,
            node_ports: self.node_port_range,
        }
    }
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

/// Flags of `validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Manifest file (YAML or JSON, one or many documents); `-` reads standard input.
    #[arg(short = 'f', long = "filename")]
    pub file: PathBuf,
    /// How to print the defaulted Services.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    pub output: OutputFormat,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Flags of `kubeconfig`.
#[derive(Debug, Clone, Args)]
pub struct KubeconfigArgs {
    /// URL of the server kubectl should talk to.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// Data directory of the server; for an `https://` server, its CA signs the printed
    /// admin certificate.
    #[arg(long, env = "SERVICE_CONSOLE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanOutput {
    /// Readable text.
    Text,
    /// The server's `ServicePlan` JSON, one object per document.
    Json,
}

/// Flags of `plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Manifest file (YAML or JSON, one or many documents); `-` reads standard input.
    #[arg(short = 'f', long = "filename")]
    pub file: PathBuf,
    /// URL of the server to plan against.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// Namespace of documents without metadata.namespace.
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// Plan deleting the Services the manifests name instead of applying them.
    #[arg(long)]
    pub delete: bool,
    /// How to print the plans.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: PlanOutput,
}

/// Output formats of `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryOutput {
    /// Readable text: one block per revision with its changes.
    Text,
    /// The server's JSON.
    Json,
    /// The server's JSON as YAML.
    Yaml,
}

/// Flags of `history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryCliArgs {
    /// The Service, as NAMESPACE/NAME (or NAME in `default`).
    pub service: String,
    /// URL of the server to ask.
    #[arg(
        long,
        env = "SERVICE_CONSOLE_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// How to print the history.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    pub output: HistoryOutput,
    /// Print only the changes of this revision (against the one before it).
    #[arg(long)]
    pub diff: Option<i64>,
    /// With --diff, compare against this revision instead of the one before.
    #[arg(long, requires = "diff")]
    pub against: Option<i64>,
    /// Show folded revisions (status and bookkeeping only) in full.
    #[arg(long)]
    pub all: bool,
}
