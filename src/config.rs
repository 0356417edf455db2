//! Command-line flags (each also read from an environment variable), validated once at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use service_plan::alloc::{Pools, PortRange, ServiceCidr};

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
    Serve(ServeArgs),
    /// Default and validate Service manifests as kube-apiserver would, without a server.
    Validate(ValidateArgs),
    /// Print a kubeconfig that points kubectl at this server.
    Kubeconfig(KubeconfigArgs),
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
    pub cluster: ClusterArgs,
    /// Start without the demo cluster (nodes and an nginx Deployment).
    #[arg(long, env = "SERVICE_CONSOLE_NO_DEMO")]
    pub no_demo: bool,
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
        Pools { service_cidr: self.service_cidr, node_ports: self.node_port_range }
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
    #[arg(long, env = "SERVICE_CONSOLE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
}
