//! A fresh PostgreSQL database per test, on the throwaway cluster whose admin URL
//! `SERVICE_CONSOLE_TEST_DATABASE_URL` names (`.ci/postgres start` starts one). Each test gets
//! its own database, so tests run in parallel; it is dropped with the value.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

/// The variable that names the admin URL of the test cluster.
pub const ADMIN_URL_VAR: &str = "SERVICE_CONSOLE_TEST_DATABASE_URL";

/// One test's database.
pub struct TestDatabase {
    admin: String,
    name: String,
    /// Its URL, for `Store::open_postgres` or `--database`.
    pub url: String,
}

/// A new empty database, or `None` (after saying why) when no test cluster is configured
/// outside CI; under `CI=true` a missing cluster fails the test.
pub fn test_database() -> Option<TestDatabase> {
    let Ok(admin) = std::env::var(ADMIN_URL_VAR) else {
        let why = format!(
            "{ADMIN_URL_VAR} is not set (eval \"$(.ci/postgres start DIR)\" starts a cluster)"
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{why}, and CI=true: the PostgreSQL tests must run"
        );
        eprintln!("skipping the PostgreSQL variant: {why}");
        return None;
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "sc_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        rand_suffix()
    );
    admin_statement(&admin, &format!("CREATE DATABASE {name}"));
    let url = with_database(&admin, &name);
    Some(TestDatabase { admin, name, url })
}

impl TestDatabase {
    /// `host:port` of the database.
    #[allow(dead_code)]
    pub fn authority(&self) -> String {
        let rest = self.url.split_once("://").map_or("", |(_, rest)| rest);
        let authority = rest.split('/').next().unwrap_or("");
        authority.rsplit('@').next().unwrap_or("").to_owned()
    }

    /// The database's URL through a proxy on 127.0.0.1:`port`, with `password` (which the
    /// test cluster's trust authentication ignores).
    #[allow(dead_code)]
    pub fn url_through(&self, port: u16, password: &str) -> String {
        format!(
            "postgres://postgres:{password}@127.0.0.1:{port}/{}",
            self.name
        )
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE ends the sessions of stores still shutting down.
        admin_statement(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A suffix that keeps names apart across test runs of the same process id.
fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos().into())
        .unwrap_or(0)
}

/// `admin` with its database replaced by `database`.
fn with_database(admin: &str, database: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| i + scheme_end);
    format!("{}/{database}{query}", &base[..host_end])
}

/// Runs one statement as the cluster's admin, on its own thread and runtime, so that it works
/// from synchronous tests, async tests and `Drop` alike.
fn admin_statement(admin: &str, statement: &str) {
    let (admin, statement) = (admin.to_owned(), statement.to_owned());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the admin connection");
        runtime.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to the test cluster");
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&mut conn)
                .await
                .expect("admin statement");
            let _ = conn.close().await;
        });
    })
    .join()
    .expect("the admin thread finishes");
}
