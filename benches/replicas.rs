//! Creates per second through the registry with one and with three replicas on one PostgreSQL
//! database (each replica a full store: writer, tailer, cache), 16 writers per replica.
//!
//! Run with `SERVICE_CONSOLE_TEST_DATABASE_URL=postgres://…/postgres cargo bench --bench
//! replicas` (an admin URL: a fresh database is created per run, as `.ci/postgres start`
//! allows). Prints one line per figure.

use std::time::Instant;

use serde_json::json;
use service_console::config::DatabaseArgs;
use service_console::registry::WriteOptions;
use service_console::server::open_state_with;
use service_console::store::DatabaseUrl;
use service_plan::alloc::{Pools, PortRange, ServiceCidr};
use sqlx::Connection;

const CREATES_PER_RUN: usize = 1_920;
const WRITERS_PER_REPLICA: usize = 16;

/// A new database on the cluster `admin` names, and its URL.
async fn fresh_database(admin: &str, name: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to the cluster");
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
            .expect("create the bench database");
    }
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    format!("{base}/{name}")
}

async fn bench_creates(admin: &str, replicas: usize, pools: Pools) {
    let url = fresh_database(admin, &format!("bench_replicas_{replicas}")).await;
    let database = DatabaseArgs {
        database_url: Some(DatabaseUrl::parse(&url).expect("a postgres URL")),
        database_pool_size: 8,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut states = Vec::new();
    for _ in 0..replicas {
        states.push(
            open_state_with(dir.path(), &database, pools)
                .await
                .expect("open a replica"),
        );
    }
    let writers = replicas * WRITERS_PER_REPLICA;
    let per_writer = CREATES_PER_RUN / writers;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let registry = states[w % replicas].registry.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let body = json!({"metadata": {"name": format!("w{w}-s{i}")},
                    "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
                registry
                    .create_service("default", &body, &WriteOptions::default())
                    .await
                    .expect("create");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer task");
    }
    let elapsed = start.elapsed();
    println!(
        "registry create on PostgreSQL, {replicas} replica(s) × {WRITERS_PER_REPLICA} writers: {} creates in {:.2} s = {:.0} creates/s",
        per_writer * writers,
        elapsed.as_secs_f64(),
        (per_writer * writers) as f64 / elapsed.as_secs_f64(),
    );
}

fn main() {
    let Ok(admin) = std::env::var("SERVICE_CONSOLE_TEST_DATABASE_URL") else {
        println!("replicas: skipped, SERVICE_CONSOLE_TEST_DATABASE_URL is not set");
        return;
    };
    let pools = Pools {
        service_cidr: ServiceCidr::parse("10.96.0.0/12").expect("cidr"),
        node_ports: PortRange::DEFAULT,
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    for replicas in [1, 3] {
        runtime.block_on(bench_creates(&admin, replicas, pools));
    }
}
