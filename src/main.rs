//! The `service-console` binary: parse flags, set up logging, run the chosen command.

use clap::Parser;
use service_console::cli;
use service_console::config::{Cli, Command};
use service_console::server;
use tracing_subscriber::EnvFilter;

/// jemalloc rather than glibc's malloc: the request path allocates many small JSON values, and
/// glibc's per-thread arenas kept them as fragmented, never-returned memory (RSS at the peak
/// for good, and a fifth of a list's time in `malloc_consolidate`). Rather than mimalloc, used
/// before: in a create storm 16% of the CPU was mimalloc's, much of it collecting frees made
/// on other threads (a request's object is freed on the writer, the writer's text in an
/// informer). Against it in six alternated storms jemalloc did 4% more creates per second with
/// 3% less CPU each, and in three `scale.sh` runs each it left 148–164 MiB resident at 30,000
/// Services instead of 174–179 MiB. GETs of one Service were the same (nine runs).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match &cli.command {
        None => server::run(&cli.serve).await,
        Some(Command::Serve(args)) => server::run(args).await,
        Some(Command::Validate(args)) => {
            let code = cli::validate::run(args)?;
            std::process::exit(code);
        }
        Some(Command::Kubeconfig(args)) => cli::kubeconfig::run(args),
        Some(Command::Plan(args)) => {
            let code = cli::plan::run(args).await?;
            std::process::exit(code);
        }
        Some(Command::History(args)) => {
            let code = cli::history::run(args).await?;
            std::process::exit(code);
        }
    }
}
