//! SQLite specifics: opening and migrating the database, the read pool and the checkpointer on
//! sqlx, and the one write connection (`write`: rusqlite, on a thread of its own) committing
//! batches with `BEGIN IMMEDIATE` and a savepoint per write. Its SQL is SQLite's own
//! (`INDEXED BY`, `instr`); PostgreSQL gets its own module.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use super::rows::{HistorySqlRow, ObjectColumn, StartState};
use super::{Allocation, Encoded, Event, EventType, HistoryRow, ObjectKey, Revision, StoreError};

mod bulk;
mod write;

pub(super) use write::{Writer, spawn};

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT_SECS: u64 = 5;
/// How often the [`Checkpointer`] copies committed WAL frames into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);
/// Connections in the read pool.
const READ_CONNECTIONS: u32 = 8;

/// Opens the database: the write connection (which also migrates it) and the read pool.
///
/// `max_page_count` caps the database's size in pages (SQLite's `max_page_count`), so that
/// tests can run out of room without a small filesystem.
pub(super) async fn open(
    path: &Path,
    max_page_count: Option<u64>,
) -> Result<(Writer, Reader, StartState), StoreError> {
    // This connection migrates and reads the start state; the writer's own (see `write`) sets
    // what committing needs besides.
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS));
    let mut conn = options.clone().connect().await?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut conn)
        .await
        .map_err(sqlx::Error::from)?;

    let (revision, compacted): (i64, i64) =
        sqlx::query_as("SELECT revision, compacted_revision FROM meta WHERE id = 1")
            .fetch_one(&mut conn)
            .await?;
    let allocations: Vec<(String, String)> = sqlx::query_as("SELECT pool, value FROM allocations")
        .fetch_all(&mut conn)
        .await?;

    // Readers never write; query_only turns a stray write into an error instead of a lock fight.
    let pool = SqlitePoolOptions::new()
        .max_connections(READ_CONNECTIONS)
        .connect_with(options.clone().pragma("query_only", "ON"))
        .await?;

    // Every object, once, for the in-memory cache that serves reads.
    let mut objects = super::cache::ObjectCache::default();
    let mut rows = sqlx::query_as::<_, (String, String, String, String, i64, Vec<u8>)>(
        "SELECT kind, namespace, name, uid, revision, object FROM objects",
    )
    .fetch(&mut conn);
    while let Some((kind, namespace, name, uid, revision, stored)) = rows.try_next().await? {
        objects.apply(
            &ObjectKey::new(kind, namespace, name),
            Some(Arc::new(Encoded::from_stored(&uid, revision, stored)?)),
            None,
        );
    }
    drop(rows);
    let start = StartState {
        objects,
        revision,
        compacted,
        allocations: allocations
            .into_iter()
            .map(|(pool, value)| Allocation { pool, value })
            .collect(),
    };
    // The writer's own connection (rusqlite, see `write`) replaces this one.
    conn.close().await?;
    let checkpointer = Checkpointer::start(options).await?;
    let writer = Writer::open(path, max_page_count, (revision, compacted), checkpointer)?;
    Ok((writer, Reader { pool }, start))
}

#[derive(sqlx::FromRow)]
struct EventRow {
    revision: i64,
    kind: String,
    namespace: String,
    name: String,
    event_type: String,
    object: Vec<u8>,
}

impl EventRow {
    fn into_event(self) -> Result<Event, StoreError> {
        let Some(event_type) = EventType::parse(&self.event_type) else {
            return Err(StoreError::Corrupt(format!(
                "event {} has unknown type {:?}",
                self.revision, self.event_type
            )));
        };
        let uid = uid_in(&self.object.json(self.revision)?, self.revision)?;
        Ok(Event {
            object: Arc::new(Encoded::from_stored(&uid, self.revision, self.object)?),
            revision: self.revision,
            event_type,
            key: ObjectKey {
                kind: self.kind,
                namespace: self.namespace,
                name: self.name,
            },
        })
    }
}

/// `metadata.uid` of an encoded object, which the event log does not keep apart; reading it
/// also checks that the text is JSON, as decoding the whole object would.
fn uid_in(text: &str, revision: Revision) -> Result<String, StoreError> {
    #[derive(serde::Deserialize)]
    struct Object {
        #[serde(default)]
        metadata: Metadata,
    }
    #[derive(serde::Deserialize, Default)]
    struct Metadata {
        #[serde(default)]
        uid: String,
    }
    serde_json::from_str::<Object>(text)
        .map(|o| o.metadata.uid)
        .map_err(|error| StoreError::Corrupt(format!("object at revision {revision}: {error}")))
}

/// The read side: a pool of query-only connections, each read in its own snapshot.
#[derive(Clone)]
pub(super) struct Reader {
    pool: SqlitePool,
}

impl Reader {
    pub(super) async fn count(
        &self,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<u64, StoreError> {
        let (count,): (i64,) = match namespace {
            Some(namespace) => {
                sqlx::query_as("SELECT COUNT(*) FROM objects WHERE kind = $1 AND namespace = $2")
                    .bind(kind)
                    .bind(namespace)
                    .fetch_one(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as("SELECT COUNT(*) FROM objects WHERE kind = $1")
                    .bind(kind)
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("negative count {count}")))
    }

    /// Up to `limit` events of `kind` after revision `after`, oldest first; `Expired` if
    /// compaction has removed any of them.
    pub(super) async fn events_after(
        &self,
        kind: Option<&str>,
        after: Revision,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (oldest,): (i64,) = sqlx::query_as("SELECT compacted_revision FROM meta WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        if after < oldest {
            return Err(StoreError::Expired {
                requested: after,
                oldest,
            });
        }
        let rows: Vec<EventRow> = match kind {
            Some(kind) => {
                sqlx::query_as(
                    "SELECT revision, kind, namespace, name, event_type, object FROM events \
                     WHERE kind = $1 AND revision > $2 ORDER BY revision LIMIT $3",
                )
                .bind(kind)
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT revision, kind, namespace, name, event_type, object FROM events \
                     WHERE revision > $1 ORDER BY revision LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        rows.into_iter().map(EventRow::into_event).collect()
    }
}

/// Copies committed WAL frames back into the database file on a connection of its own, beside
/// the writer (a PASSIVE checkpoint never blocks it). Left to the writer, SQLite runs each
/// checkpoint inside the commit that crosses the threshold, and every write waiting in that
/// batch waits for it too: at 1,500 creates/s that was the p99 (37 ms against 15 ms without).
struct Checkpointer {
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    async fn start(options: SqliteConnectOptions) -> Result<Checkpointer, sqlx::Error> {
        let mut conn = options.connect().await?;
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut conn)
                    .await
                {
                    // The writer's own checkpoints still bound the WAL meanwhile.
                    tracing::debug!(error = %error, "background checkpoint failed");
                }
            }
        });
        Ok(Checkpointer { task })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a database error means the disk (or the database's page limit) is full.
pub(super) fn is_full(error: &sqlx::Error) -> bool {
    const SQLITE_FULL: &str = "13";
    match error {
        sqlx::Error::Database(e) => e.code().as_deref() == Some(SQLITE_FULL),
        sqlx::Error::Io(e) => e.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    }
}

/// The history statements; each reaches its rows through an index (see the tests). The
/// writer's are numbered `?N`, as rusqlite binds by position.
mod history_sql {
    /// One object's rows beyond the count or older than the cutoff: kind, namespace, name,
    /// revisions kept, cutoff.
    pub(super) const PRUNE_OBJECT: &str = "DELETE FROM history \
        WHERE kind = ?1 AND namespace = ?2 AND name = ?3 \
        AND (written_at < ?5 OR revision <= (SELECT revision FROM history \
        WHERE kind = ?1 AND namespace = ?2 AND name = ?3 \
        ORDER BY revision DESC LIMIT 1 OFFSET ?4))";
    /// Every row older than the cutoff.
    pub(super) const PRUNE_BY_AGE: &str = "DELETE FROM history WHERE written_at < ?1";
    /// One object's rows below a revision, newest first: kind, namespace, name, before, limit.
    pub(super) const OBJECT: &str = "SELECT name, revision, uid, verb, subresource, username, \
        user_agent, manager, written_at, object FROM history \
        WHERE kind = $1 AND namespace = $2 AND name = $3 AND revision < $4 \
        ORDER BY revision DESC LIMIT $5";
    /// A namespace's delete rows, newest first: kind, namespace, limit.
    pub(super) const DELETES: &str = "SELECT name, revision, uid, verb, subresource, username, \
        user_agent, manager, written_at, object FROM history INDEXED BY history_deletes \
        WHERE kind = $1 AND namespace = $2 AND verb = 'delete' \
        ORDER BY revision DESC LIMIT $3";
}

impl Reader {
    pub(super) async fn history(
        &self,
        key: &ObjectKey,
        before: Option<Revision>,
        limit: usize,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let rows: Vec<HistorySqlRow<Vec<u8>>> = sqlx::query_as(history_sql::OBJECT)
            .bind(&key.kind)
            .bind(&key.namespace)
            .bind(&key.name)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| r.into_row().map(|(_, row)| row))
            .collect()
    }

    pub(super) async fn deletes(
        &self,
        kind: &str,
        namespace: &str,
        limit: usize,
    ) -> Result<Vec<(String, HistoryRow)>, StoreError> {
        let rows: Vec<HistorySqlRow<Vec<u8>>> = sqlx::query_as(history_sql::DELETES)
            .bind(kind)
            .bind(namespace)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(HistorySqlRow::into_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_DB: &str = "store.db";

    /// The writer of a new database in a temporary directory, which lives as long as it.
    async fn fresh_writer() -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (writer, _reader, _start) = open(&dir.path().join(TEST_DB), None)
            .await
            .expect("a fresh temporary directory holds a new database");
        (dir, writer)
    }

    #[tokio::test]
    async fn write_connection_uses_wal_and_full_sync() {
        let (_dir, writer) = fresh_writer().await;
        let pragma = |name: &str| {
            writer
                .connection()
                .query_row(&format!("PRAGMA {name}"), [], |row| {
                    row.get::<_, rusqlite::types::Value>(0)
                })
                .expect(name)
        };

        let (journal_mode, synchronous) = (pragma("journal_mode"), pragma("synchronous"));

        assert_eq!(journal_mode, rusqlite::types::Value::Text("wal".to_owned()));
        assert_eq!(synchronous, rusqlite::types::Value::Integer(2), "2 is FULL");
    }

    /// Committed pages reach the database file while the WAL is far below the writer's own
    /// checkpoint threshold: the checkpointer copied them, not a commit.
    #[tokio::test]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let (dir, writer) = fresh_writer().await;
        let path = dir.path().join(TEST_DB);
        tokio::time::sleep(CHECKPOINT_INTERVAL * 3).await;
        let before = std::fs::metadata(&path).expect("database file").len();
        writer
            .connection()
            .execute_batch(
                // Twice what the file must grow by: the new pages may first fill pages the
                // migrations freed.
                "CREATE TABLE filler (x BLOB); INSERT INTO filler VALUES (zeroblob(800000));",
            )
            .expect("insert");
        let mut after = before;
        for _ in 0..50 {
            tokio::time::sleep(CHECKPOINT_INTERVAL).await;
            after = std::fs::metadata(&path).expect("database file").len();
            if after > before + 400_000 {
                break;
            }
        }
        assert!(
            after > before + 400_000,
            "the database file stayed at {after} bytes (was {before})"
        );
    }

    /// Every history statement reaches its rows through an index: none scans the table.
    #[tokio::test]
    async fn history_statements_use_an_index() {
        let (_dir, writer) = fresh_writer().await;
        for sql in [
            history_sql::PRUNE_OBJECT,
            history_sql::PRUNE_BY_AGE,
            history_sql::OBJECT,
            history_sql::DELETES,
        ] {
            let details = query_plan(&writer, sql);
            assert!(
                details.iter().all(|d| !d.starts_with("SCAN")),
                "{sql}: {details:?}"
            );
            assert!(
                details.iter().any(|d| d.contains("USING")),
                "{sql}: {details:?}"
            );
        }
    }

    /// No statement of a write builds a temporary b-tree (as a CHECK with `IN (...)` did for
    /// every event): each would be built and dropped on every row the writer writes.
    #[tokio::test]
    async fn write_statements_build_no_temporary_btree() {
        let (_dir, writer) = fresh_writer().await;
        for sql in [
            write::write_sql::INSERT_ALLOCATION,
            write::write_sql::TAKE_ALLOCATION,
            write::write_sql::RELEASE_ALLOCATION,
            write::write_sql::PUT_OBJECT,
            write::write_sql::INSERT_EVENT,
            write::write_sql::INSERT_HISTORY,
            write::write_sql::SET_REVISION,
            history_sql::PRUNE_OBJECT,
        ] {
            let opcodes = explain(&writer, "EXPLAIN", sql, 1);
            assert!(
                opcodes.iter().all(|op| op != "OpenEphemeral"),
                "{sql}: {opcodes:?}"
            );
        }
    }

    /// The detail lines of SQLite's `EXPLAIN QUERY PLAN` for `sql`.
    fn query_plan(writer: &Writer, sql: &str) -> Vec<String> {
        explain(writer, "EXPLAIN QUERY PLAN", sql, 3)
    }

    /// One text column of what `how` (`EXPLAIN`, `EXPLAIN QUERY PLAN`) answers for `sql`.
    fn explain(writer: &Writer, how: &str, sql: &str, column: usize) -> Vec<String> {
        let mut explain = writer
            .connection()
            .prepare(&format!("{how} {sql}"))
            .expect("explain");
        // The plan does not depend on the values: every parameter is NULL.
        let nulls = vec![rusqlite::types::Null; explain.parameter_count()];
        explain
            .query_map(rusqlite::params_from_iter(nulls), |row| {
                row.get::<_, String>(column)
            })
            .expect("explain")
            .collect::<Result<_, _>>()
            .expect("explain")
    }

    /// Rows written before objects were stored compressed hold the JSON text itself: a store
    /// opened on them reads them beside compressed rows, in every read that reaches SQL.
    #[tokio::test]
    async fn rows_of_json_text_read_beside_compressed_rows() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join(TEST_DB);
        let (writer, _reader, _start) = open(&path, None).await.expect("a new database");
        let service = |name: &str, revision: i64| {
            serde_json::json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                             "resourceVersion": revision.to_string(),
                             "creationTimestamp": "2026-12-06T00:00:00Z"},
                "spec": {"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]},
            })
            .to_string()
        };
        let (old, new) = (service("old", 1), service("new", 2));
        let key = |name: &str| ObjectKey::new("services", "default", name);
        let conn = writer.connection();
        let row = |revision: i64, name: &str, object: &dyn rusqlite::ToSql| {
            let params = rusqlite::params![revision, name, format!("uid-{name}"), object];
            conn.execute(
                "INSERT INTO objects (kind, namespace, name, uid, revision, object, created_at, \
                 spec_type) VALUES ('services', 'default', ?2, ?3, ?1, ?4, \
                 '2026-12-06T00:00:00Z', 'ClusterIP')",
                params,
            )
            .expect("object row");
            conn.execute(
                "INSERT INTO events (revision, kind, namespace, name, event_type, object) \
                 VALUES (?1, 'services', 'default', ?2, 'ADDED', ?4)",
                params,
            )
            .expect("event row");
            conn.execute(
                "INSERT INTO history (kind, namespace, name, revision, uid, verb, subresource, \
                 username, user_agent, manager, written_at, object) VALUES ('services', \
                 'default', ?2, ?1, ?3, 'create', '', 'u', 'a', 'm', '2026-12-06T00:00:00Z', ?4)",
                params,
            )
            .expect("history row");
        };
        row(1, "old", &old);
        row(2, "new", &Encoded::new("uid-new", 2, &new).stored());
        conn.execute("UPDATE meta SET revision = 2", [])
            .expect("revision");
        let stored: Vec<(String, i64)> = conn
            .prepare("SELECT typeof(object), length(object) FROM objects ORDER BY revision")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("stored types");
        assert_eq!(stored[0], ("text".to_owned(), old.len() as i64));
        assert_eq!(stored[1].0, "blob");
        assert!(stored[1].1 * 2 < new.len() as i64, "{stored:?}");
        writer.close();

        let (_writer, reader, start) = open(&path, None).await.expect("reopens");
        let events = reader.events_after(None, 0, 10).await.expect("events");
        for (i, (name, text)) in [("new", &new), ("old", &old)].into_iter().enumerate() {
            let cached = start.objects.get(&key(name)).expect("loaded");
            assert_eq!(cached.body().expect("cached"), text.as_bytes());
            let event = &events[1 - i];
            assert_eq!(event.object.uid(), format!("uid-{name}"));
            assert_eq!(event.object.body().expect("event"), text.as_bytes());
            let history = reader.history(&key(name), None, 10).await.expect("history");
            assert_eq!(history[0].object, *text);
        }
    }
}
