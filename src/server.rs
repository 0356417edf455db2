//! Start-up of `serve`: open the store, the registry, bind, serve until Ctrl-C.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use std::time::Duration;

use crate::api::audit::AuditLog;
use crate::auth::AuthMode;
use crate::config::{DatabaseArgs, LimitArgs, ServeArgs};
use crate::connections::{self, ConnectionLimits};
use crate::controllers::ControllerOptions;
use crate::controllers::leader::ControllerManager;
use crate::front::{Exposure, Front};
use crate::inflight::Inflight;
use crate::registry::Registry;
use crate::store::{Store, StoreError};
use crate::{AppState, routes};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "service-console.db";

/// How often the event log is compacted; watches older than the kept events get 410 Gone.
const COMPACTION_INTERVAL_SECS: u64 = 300;

/// Opens the store in `data_dir` (created if missing) and the registry over it.
pub async fn open_state(
    data_dir: &Path,
    pools: service_plan::alloc::Pools,
) -> anyhow::Result<AppState> {
    open_state_with(data_dir, &DatabaseArgs::default(), pools).await
}

/// Opens the store `database` names (SQLite in `data_dir`, created if missing, when it names
/// none) and the registry over it.
pub async fn open_state_with(
    data_dir: &Path,
    database: &DatabaseArgs,
    pools: service_plan::alloc::Pools,
) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let store = Store::open(
        database.database_url.as_ref(),
        database.database_pool_size,
        &data_dir.join(DATABASE_FILE),
    )
    .await
    .map_err(|e| match &e {
        // The text of a database error is for the log, and never names the URL.
        StoreError::Database(detail) => anyhow::anyhow!("opening the store: {e}: {detail}"),
        _ => anyhow::anyhow!("opening the store: {e}"),
    })?;
    let registry = Registry::open(store, pools)
        .await
        .map_err(|e| anyhow::anyhow!("bootstrapping the cluster: {e}"))?;
    Ok(AppState::new(registry))
}

/// Keeps the event log bounded, as kube-apiserver's etcd compaction does.
fn spawn_compaction(state: &AppState) {
    let store = state.registry.store().clone();
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval(std::time::Duration::from_secs(COMPACTION_INTERVAL_SECS));
        loop {
            tick.tick().await;
            if let Err(e) = store
                .compact_keeping(crate::store::DEFAULT_KEEP_EVENTS)
                .await
            {
                tracing::warn!(error = %e, "event log compaction failed");
            }
            // Writes prune their own object's history; this ages out the rest (deleted
            // Services' rows, objects no longer written).
            if let Err(e) = store.prune_history().await {
                tracing::warn!(error = %e, "history pruning failed");
            }
        }
    });
}

/// Runs the server on an already-bound listener until SIGTERM or SIGINT, then shuts down
/// gracefully (a second signal exits at once).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: &LimitArgs,
) {
    spawn_compaction(&state);
    let store = state.registry.store().clone();
    let inflight = Inflight::new(
        limits.max_requests_inflight,
        limits.max_mutating_requests_inflight,
    );
    let deadline = Duration::from_secs(limits.request_timeout.max(1));
    let exposure = match state.auth {
        AuthMode::Local => Exposure::Local,
        AuthMode::Team(_) => Exposure::Team,
    };
    let app = Front::new(routes(state), inflight, deadline, exposure);
    let connections = ConnectionLimits {
        max_connections: limits
            .max_connections
            .unwrap_or_else(connections::connections_within_file_limit),
        header_read_timeout: Duration::from_secs(limits.header_read_timeout),
        shutdown_grace: Duration::from_secs(limits.shutdown_grace),
    };
    tracing::info!(
        max_connections = connections.max_connections,
        "accepting connections"
    );
    connections::serve(
        listener,
        app,
        tls,
        connections,
        connections::signal(),
        move || store.close_watches(),
        connections::signal(),
    )
    .await;
}

/// The controllers' own runtime, as kube-controller-manager is a process of its own: a create
/// storm's reconciles queue on its threads, never in the run queues of API requests. Measured
/// with a create storm (`wrk`, 16 clients, until the endpoints caught up): about 10% less CPU
/// per create and 5% more creates per second than on one shared runtime. As many threads as
/// the API's: with one, the controllers got too small a share of the CPU during a storm, and
/// the endpoints caught up 7.6 s after 30,000 creates instead of 3 s. It lives as long as the
/// process.
fn controller_runtime() -> anyhow::Result<&'static tokio::runtime::Runtime> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("controllers")
        .enable_all()
        .build()
        .context("starting the controllers' runtime")?;
    Ok(Box::leak(Box::new(runtime)))
}

/// `service-console serve`.
pub async fn run(args: &ServeArgs) -> anyhow::Result<()> {
    if !args.tls.tls
        && let Some(refusal) = crate::auth::local::refuse_listen(args.listen)
    {
        anyhow::bail!(refusal);
    }
    let mut state = open_state_with(&args.data_dir, &args.database, args.cluster.pools()).await?;
    let tls = if args.tls.tls {
        let (team, config) = crate::auth::team_mode(&args.data_dir, args.listen, &args.tls)?;
        state = state.with_auth(AuthMode::Team(team));
        state.registry.authorize_controllers();
        Some(config)
    } else {
        None
    };
    state
        .registry
        .set_history_retention(crate::store::HistoryRetention::new(
            args.history.history_max_revisions,
            args.history.history_max_age,
        ));
    if let Some(options) = args.audit.options() {
        let audit = AuditLog::start(&options)
            .with_context(|| format!("opening the audit log {}", options.path.display()))?;
        state = state.with_audit(audit);
    }
    state.registry.configure(args.load_balancing.settings());
    let options = ControllerOptions {
        demo: !args.no_demo,
    };
    let election = args
        .leader_election
        .timing()
        .map_err(|e| anyhow::anyhow!("leader election: {e}"))?;
    // kube-apiserver's priority-and-fairness post-start hooks: the bootstrap configuration,
    // then the snapshot requests are classified by, kept current from the store.
    crate::flowcontrol::config::start(&state)
        .await
        .map_err(|e| {
            anyhow::anyhow!("ensuring the API Priority and Fairness configuration: {e}")
        })?;
    let controllers = {
        let state = state.clone();
        controller_runtime()?
            .spawn(async move { ControllerManager::start(&state, options, election).await })
            .await
            .context("starting the controllers")?
            .map_err(|e| anyhow::anyhow!("starting the controllers: {e}"))?
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let address = listener
        .local_addr()
        .with_context(|| format!("reading the address of {}", args.listen))?;
    crate::controllers::kubernetes_service::reconcile(&state.registry, address)
        .await
        .map_err(|e| anyhow::anyhow!("updating the kubernetes Service's endpoints: {e}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    match &args.database.database_url {
        Some(url) => {
            tracing::info!(address = %args.listen, database = %url, scheme, "service-console listening")
        }
        None => {
            tracing::info!(address = %args.listen, data_dir = %args.data_dir.display(), scheme, "service-console listening")
        }
    }
    println!("service-console listening on {scheme}://{}", args.listen);
    serve(listener, state, tls, &args.limits).await;
    // After the last request: the controllers stop and the lease is released for another
    // replica to take over at once.
    controllers.stop().await;
    tracing::info!("service-console stopped");
    Ok(())
}
