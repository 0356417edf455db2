//! SQLite specifics: connection options (WAL, `synchronous=FULL`, busy timeout), the one write
//! connection committing batches with `BEGIN IMMEDIATE` and a savepoint per write, and the
//! read pool. Its SQL is SQLite's own (`INDEXED BY`, `instr`); PostgreSQL gets its own module.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use super::rows::{
    HistoryClock, HistorySqlRow, NewHistoryRow, ObjectRow, PageStatements, StartState,
    page_statement, parse_json, to_json,
};
use super::{
    Allocation, Applied, BatchOp, Encoded, Event, EventType, HistoryRow, ListQuery, ObjectKey,
    Revision, Shared, StoreError, StoredObject, Write, WriteOp, created_at, spec_type,
    with_resource_version,
};

mod bulk;

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT_SECS: u64 = 5;
/// The write connection's page cache, in SQLite's negative-KiB form (32 MiB).
const WRITER_CACHE_KIB: i64 = -32 * 1024;
/// WAL pages at which the writer checkpoints by itself (SQLite's default is 1,000): only the
/// frames the [`Checkpointer`] has not copied yet, so a backstop rather than the rule.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 8_000;
/// How often the [`Checkpointer`] copies committed WAL frames into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);
/// Connections in the read pool.
const READ_CONNECTIONS: u32 = 8;

/// The page queries of [`Reader::list_page`], one per (order, namespace or all, type filter or
/// not). Each takes its text parameters in order and the limit last; `INDEXED BY` pins the index
/// each is written for, so a planner without statistics cannot pick one that needs a sort.
mod page_sql {
    /// By name in one namespace: kind, namespace, after name, name contains.
    pub(super) const NAME_IN_NAMESPACE: &str = "SELECT namespace, name, uid, revision, object \
        FROM objects WHERE kind = $1 AND namespace = $2 AND name > $3 AND instr(name, $4) > 0 \
        ORDER BY name LIMIT $5";
    /// By name in one namespace, one type: kind, type, namespace, after name, name contains.
    pub(super) const NAME_IN_NAMESPACE_OF_TYPE: &str = "SELECT namespace, name, uid, revision, \
        object FROM objects INDEXED BY objects_by_type \
        WHERE kind = $1 AND spec_type = $2 AND namespace = $3 AND name > $4 \
        AND instr(name, $5) > 0 ORDER BY name LIMIT $6";
    /// By (namespace, name): kind, after namespace, after name, name contains.
    pub(super) const NAME_ALL: &str = "SELECT namespace, name, uid, revision, object \
        FROM objects WHERE kind = $1 AND (namespace, name) > ($2, $3) AND instr(name, $4) > 0 \
        ORDER BY namespace, name LIMIT $5";
    /// By (namespace, name), one type: kind, type, after namespace, after name, name contains.
    pub(super) const NAME_ALL_OF_TYPE: &str = "SELECT namespace, name, uid, revision, object \
        FROM objects INDEXED BY objects_by_type \
        WHERE kind = $1 AND spec_type = $2 AND (namespace, name) > ($3, $4) \
        AND instr(name, $5) > 0 ORDER BY namespace, name LIMIT $6";
    /// Oldest first in one namespace: kind, namespace, after created_at, after name, name
    /// contains, type (`''`: any).
    pub(super) const CREATED_ASC_IN_NAMESPACE: &str = "SELECT namespace, name, uid, revision, \
        object FROM objects INDEXED BY objects_by_created \
        WHERE kind = $1 AND namespace = $2 AND (created_at, name) > ($3, $4) \
        AND instr(name, $5) > 0 AND ($6 = '' OR spec_type = $6) \
        ORDER BY created_at, name LIMIT $7";
    /// Newest first in one namespace; parameters as [`CREATED_ASC_IN_NAMESPACE`].
    pub(super) const CREATED_DESC_IN_NAMESPACE: &str = "SELECT namespace, name, uid, revision, \
        object FROM objects INDEXED BY objects_by_created \
        WHERE kind = $1 AND namespace = $2 AND (created_at, name) < ($3, $4) \
        AND instr(name, $5) > 0 AND ($6 = '' OR spec_type = $6) \
        ORDER BY created_at DESC, name DESC LIMIT $7";
    /// Oldest first across namespaces: kind, after created_at, after namespace, after name,
    /// name contains, type (`''`: any).
    pub(super) const CREATED_ASC_ALL: &str = "SELECT namespace, name, uid, revision, object \
        FROM objects INDEXED BY objects_by_created_all \
        WHERE kind = $1 AND (created_at, namespace, name) > ($2, $3, $4) \
        AND instr(name, $5) > 0 AND ($6 = '' OR spec_type = $6) \
        ORDER BY created_at, namespace, name LIMIT $7";
    /// Newest first across namespaces; parameters as [`CREATED_ASC_ALL`].
    pub(super) const CREATED_DESC_ALL: &str = "SELECT namespace, name, uid, revision, object \
        FROM objects INDEXED BY objects_by_created_all \
        WHERE kind = $1 AND (created_at, namespace, name) < ($2, $3, $4) \
        AND instr(name, $5) > 0 AND ($6 = '' OR spec_type = $6) \
        ORDER BY created_at DESC, namespace DESC, name DESC LIMIT $7";
}

/// SQLite's page queries, for [`page_statement`].
const PAGE_STATEMENTS: PageStatements = PageStatements {
    name_in_namespace: page_sql::NAME_IN_NAMESPACE,
    name_in_namespace_of_type: page_sql::NAME_IN_NAMESPACE_OF_TYPE,
    name_all: page_sql::NAME_ALL,
    name_all_of_type: page_sql::NAME_ALL_OF_TYPE,
    created_asc_in_namespace: page_sql::CREATED_ASC_IN_NAMESPACE,
    created_desc_in_namespace: page_sql::CREATED_DESC_IN_NAMESPACE,
    created_asc_all: page_sql::CREATED_ASC_ALL,
    created_desc_all: page_sql::CREATED_DESC_ALL,
};

/// Opens the database: the write connection (which also migrates it) and the read pool.
///
/// `max_page_count` caps the database's size in pages (SQLite's `max_page_count`), so that
/// tests can run out of room without a small filesystem.
pub(super) async fn open(
    path: &Path,
    max_page_count: Option<u64>,
) -> Result<(Writer, Reader, StartState), StoreError> {
    // synchronous=FULL in WAL mode fsyncs the WAL on every COMMIT: an acknowledged write
    // survives power loss, and group commit keeps that to one fsync per batch.
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS));
    // The writer inserts at random places in every index (generated names), so its working
    // set is the whole index tree: a page cache that holds the indexes of a large store keeps
    // each commit from re-reading them, and fewer, larger checkpoints copy each hot page once.
    let write_options = options
        .clone()
        .pragma("cache_size", WRITER_CACHE_KIB.to_string())
        .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
    let write_options = match max_page_count {
        Some(pages) => write_options.pragma("max_page_count", pages.to_string()),
        None => write_options,
    };

    let mut conn = write_options.clone().connect().await?;
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
        .connect_with(options.pragma("query_only", "ON"))
        .await?;

    // Every object, once, for the in-memory cache that serves reads.
    let mut objects = super::cache::ObjectCache::default();
    let mut rows = sqlx::query_as::<_, (String, String, String, String, i64, String)>(
        "SELECT kind, namespace, name, uid, revision, object FROM objects",
    )
    .fetch(&mut conn);
    while let Some((kind, namespace, name, uid, revision, json)) = rows.try_next().await? {
        objects.apply(
            &ObjectKey::new(kind, namespace, name),
            Some(Arc::new(Encoded::new(&uid, revision, &json))),
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
    let checkpointer = Checkpointer::start(write_options.clone()).await?;
    let writer = Writer {
        conn: Some(conn),
        options: write_options,
        revision,
        compacted,
        _checkpointer: checkpointer,
    };
    Ok((writer, Reader { pool }, start))
}

#[derive(sqlx::FromRow)]
struct EventRow {
    revision: i64,
    kind: String,
    namespace: String,
    name: String,
    event_type: String,
    object: String,
}

impl EventRow {
    fn into_event(self) -> Result<Event, StoreError> {
        let Some(event_type) = EventType::parse(&self.event_type) else {
            return Err(StoreError::Corrupt(format!(
                "event {} has unknown type {:?}",
                self.revision, self.event_type
            )));
        };
        let uid = uid_in(&self.object, self.revision)?;
        Ok(Event {
            object: Arc::new(Encoded::new(&uid, self.revision, &self.object)),
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
    pub(super) async fn list_page(
        &self,
        kind: &str,
        query: &ListQuery,
    ) -> Result<(Vec<StoredObject>, Revision), StoreError> {
        let (sql, params) = page_statement(&PAGE_STATEMENTS, kind, query);
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        let (revision,): (i64,) = sqlx::query_as("SELECT revision FROM meta WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let mut statement = sqlx::query_as::<_, ObjectRow>(sql);
        for param in params {
            statement = statement.bind(param);
        }
        let rows = statement.bind(limit).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let objects = rows
            .into_iter()
            .map(|row| row.into_stored(kind))
            .collect::<Result<_, _>>()?;
        Ok((objects, revision))
    }

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

/// The one write connection, owned by the writer task, with the committed counters.
pub(super) struct Writer {
    /// `None` after a failed batch until a new connection opens.
    conn: Option<SqliteConnection>,
    /// How to open the connection again.
    options: SqliteConnectOptions,
    revision: Revision,
    compacted: Revision,
    /// Stops when the writer goes.
    _checkpointer: Checkpointer,
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

impl Writer {
    /// The revision of the last committed write.
    pub(super) fn revision(&self) -> Revision {
        self.revision
    }

    /// The committed compaction revision.
    pub(super) fn compacted(&self) -> Revision {
        self.compacted
    }

    /// Commits `ops` in one transaction, each in its own savepoint, and returns each outcome.
    ///
    /// A failing op rolls back only its savepoint. `Err` means nothing was committed.
    ///
    /// After a failure the connection is dropped, whatever state its transaction was left in
    /// (SQLite rolls some failures back by itself, sqlx's bookkeeping does not know that), and
    /// the next batch opens a fresh one: a full disk fails writes only while it is full.
    pub(super) async fn commit_batch(
        &mut self,
        ops: &[BatchOp],
        shared: &Shared,
    ) -> Result<Vec<Result<Applied, StoreError>>, sqlx::Error> {
        let retention = *shared
            .history
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let clock = HistoryClock::now(retention);
        let result = match bulk::plan(ops, shared, self.revision) {
            Some(plan) => self.try_commit_bulk(plan, &clock).await,
            None => self.try_commit_batch(ops, &clock).await,
        };
        if result.is_err() {
            // Dropping the connection closes it, and closing rolls back anything left open.
            self.conn = None;
        }
        result
    }

    /// Commits one empty transaction that still writes a page: whether writes can commit now.
    pub(super) async fn probe(&mut self) -> Result<(), sqlx::Error> {
        let result = async {
            self.reconnect_if_needed().await?;
            let conn = self.open_connection()?;
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query("UPDATE meta SET revision = revision WHERE id = 1")
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        .await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// Opens a new write connection after a failure, re-reading the counters it commits
    /// against.
    async fn reconnect_if_needed(&mut self) -> Result<(), sqlx::Error> {
        if self.conn.is_none() {
            let mut conn = self.options.clone().connect().await?;
            let (revision, compacted): (i64, i64) =
                sqlx::query_as("SELECT revision, compacted_revision FROM meta WHERE id = 1")
                    .fetch_one(&mut conn)
                    .await?;
            (self.revision, self.compacted) = (revision, compacted);
            self.conn = Some(conn);
        }
        Ok(())
    }

    fn open_connection(&mut self) -> Result<&mut SqliteConnection, sqlx::Error> {
        self.conn
            .as_mut()
            .ok_or_else(|| sqlx::Error::Protocol("no write connection".to_owned()))
    }

    /// Commits a batch planned in memory with one statement per table.
    async fn try_commit_bulk(
        &mut self,
        plan: bulk::Plan,
        clock: &HistoryClock,
    ) -> Result<Vec<Result<Applied, StoreError>>, sqlx::Error> {
        self.reconnect_if_needed().await?;
        if plan.revision_before != self.revision {
            // The cache and this connection disagree (never expected): plan in SQL instead.
            return Err(sqlx::Error::Protocol("bulk plan is out of date".to_owned()));
        }
        let conn = self.open_connection()?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        plan.execute(&mut tx, clock).await?;
        tx.commit().await?;
        self.revision = plan.revision_after;
        Ok(plan.outcomes)
    }

    async fn try_commit_batch(
        &mut self,
        ops: &[BatchOp],
        clock: &HistoryClock,
    ) -> Result<Vec<Result<Applied, StoreError>>, sqlx::Error> {
        self.reconnect_if_needed().await?;
        let (mut revision, mut compacted) = (self.revision, self.compacted);
        let conn = self.open_connection()?;
        // IMMEDIATE takes the write lock up front, so no statement in the batch can hit
        // SQLITE_BUSY halfway through (a deferred transaction cannot wait for an upgrade).
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let (before_revision, before_compacted) = (revision, compacted);
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in ops {
            let mut savepoint = Connection::begin(&mut *tx).await?;
            let outcome = match op {
                BatchOp::Write(write) => {
                    apply_write(&mut savepoint, write, revision + 1, clock).await
                }
                BatchOp::Compact(below) => {
                    apply_compact(&mut savepoint, *below, revision, compacted).await
                }
                BatchOp::PruneHistory => prune_history_by_age(&mut savepoint, clock)
                    .await
                    .map(|()| Applied::Compacted(compacted)),
            };
            match outcome {
                Ok(applied) => {
                    savepoint.commit().await?;
                    match &applied {
                        Applied::Write { event, .. } => revision = event.revision,
                        Applied::Compacted(below) => compacted = *below,
                    }
                    outcomes.push(Ok(applied));
                }
                // SQLite may have rolled back the whole transaction on a full disk, savepoints
                // and all: the batch fails as one, and every writer in it hears why.
                Err(StoreError::Database(error)) if is_full(&error) => return Err(error),
                Err(error) => {
                    savepoint.rollback().await?;
                    outcomes.push(Err(error));
                }
            }
        }
        if (revision, compacted) != (before_revision, before_compacted) {
            sqlx::query("UPDATE meta SET revision = $1, compacted_revision = $2 WHERE id = 1")
                .bind(revision)
                .bind(compacted)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.revision = revision;
        self.compacted = compacted;
        Ok(outcomes)
    }

    /// Closes the write connection, checkpointing the WAL.
    pub(super) async fn close(self) {
        let Some(conn) = self.conn else {
            return;
        };
        if let Err(error) = conn.close().await {
            tracing::warn!(error = %error, "closing the store's write connection failed");
        }
    }
}

async fn apply_write(
    conn: &mut SqliteConnection,
    write: &Write,
    revision: Revision,
    clock: &HistoryClock,
) -> Result<Applied, StoreError> {
    let (key, current, mut allocated, mut released) = check_and_allocate!(conn, write);

    let (event_type, object, text, uid) = match (&write.op, current) {
        (WriteOp::Put { uid, object, .. }, current) => {
            let object = with_resource_version(object.clone(), revision)?;
            let text = to_json(&object)?;
            // created_at and spec_type are derived here, in the same statement as the object,
            // so the list indexes can never disagree with what is stored.
            let statement = if current.is_some() {
                "UPDATE objects SET uid = $4, revision = $5, object = $6, created_at = $7, \
                 spec_type = $8 WHERE kind = $1 AND namespace = $2 AND name = $3"
            } else {
                "INSERT INTO objects \
                 (kind, namespace, name, uid, revision, object, created_at, spec_type) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            };
            sqlx::query(statement)
                .bind(&key.kind)
                .bind(&key.namespace)
                .bind(&key.name)
                .bind(uid)
                .bind(revision)
                .bind(&text)
                .bind(created_at(&object))
                .bind(spec_type(&object))
                .execute(&mut *conn)
                .await?;
            let event_type = match current {
                Some(_) => EventType::Modified,
                None => EventType::Added,
            };
            (event_type, object, text, uid.clone())
        }
        (WriteOp::Delete { .. }, None) => return Err(StoreError::NotFound),
        (WriteOp::Delete { .. }, Some(current)) => {
            let last = parse_json(&current.object, current.revision)?;
            let object = with_resource_version(last, revision)?;
            let text = to_json(&object)?;
            sqlx::query("DELETE FROM objects WHERE kind = $1 AND namespace = $2 AND name = $3")
                .bind(&key.kind)
                .bind(&key.namespace)
                .bind(&key.name)
                .execute(&mut *conn)
                .await?;
            let owned: Vec<(String, String)> = sqlx::query_as(
                "DELETE FROM allocations \
                 WHERE owner_kind = $1 AND owner_namespace = $2 AND owner_name = $3 \
                 RETURNING pool, value",
            )
            .bind(&key.kind)
            .bind(&key.namespace)
            .bind(&key.name)
            .fetch_all(&mut *conn)
            .await?;
            for (pool, value) in owned {
                let allocation = Allocation { pool, value };
                if let Some(index) = allocated.iter().position(|a| *a == allocation) {
                    allocated.swap_remove(index);
                } else if !released.contains(&allocation) {
                    released.push(allocation);
                }
            }
            (EventType::Deleted, object, text, current.uid)
        }
    };

    sqlx::query(
        "INSERT INTO events (revision, kind, namespace, name, event_type, object) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(revision)
    .bind(&key.kind)
    .bind(&key.namespace)
    .bind(&key.name)
    .bind(event_type.as_str())
    .bind(&text)
    .execute(&mut *conn)
    .await?;
    if let Some(note) = &write.history {
        let row = NewHistoryRow {
            key,
            revision,
            uid: &uid,
            note,
            text: &text,
        };
        insert_history(&mut *conn, &[row], clock).await?;
    }

    Ok(Applied::Write {
        event: Event {
            revision,
            event_type,
            key: key.clone(),
            object: Arc::new(Encoded::new(&uid, revision, &text).with_read_as_is(write.read_as_is)),
        },
        object,
        allocated,
        released,
        stored: event_type != EventType::Deleted,
    })
}

/// The history statements; each reaches its rows through an index (see the tests).
mod history_sql {
    /// One object's rows beyond the count or older than the cutoff: kind, namespace, name,
    /// revisions kept, cutoff.
    pub(super) const PRUNE_OBJECT: &str = "DELETE FROM history \
        WHERE kind = $1 AND namespace = $2 AND name = $3 \
        AND (written_at < $5 OR revision <= (SELECT revision FROM history \
        WHERE kind = $1 AND namespace = $2 AND name = $3 \
        ORDER BY revision DESC LIMIT 1 OFFSET $4))";
    /// Every row older than the cutoff.
    pub(super) const PRUNE_BY_AGE: &str = "DELETE FROM history WHERE written_at < $1";
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

/// Inserts history rows and prunes each written object's rows beyond the retention: only
/// that object's rows, through the primary key, however large the table is.
pub(super) async fn insert_history(
    conn: &mut SqliteConnection,
    rows: &[NewHistoryRow<'_>],
    clock: &HistoryClock,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(bulk::ROWS_PER_STATEMENT) {
        let mut insert: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
            "INSERT INTO history (kind, namespace, name, revision, uid, verb, subresource, \
             username, user_agent, manager, written_at, object) ",
        );
        insert.push_values(chunk, |mut b, row| {
            b.push_bind(row.key.kind.as_str())
                .push_bind(row.key.namespace.as_str())
                .push_bind(row.key.name.as_str())
                .push_bind(row.revision)
                .push_bind(row.uid)
                .push_bind(row.note.verb.as_str())
                .push_bind(row.note.subresource.as_str())
                .push_bind(row.note.user.as_str())
                .push_bind(row.note.user_agent.as_str())
                .push_bind(row.note.manager.as_str())
                .push_bind(clock.now.as_str())
                .push_bind(row.text);
        });
        insert.build().execute(&mut *conn).await?;
    }
    let mut pruned: Vec<&ObjectKey> = Vec::new();
    for row in rows {
        if pruned.contains(&row.key) {
            continue;
        }
        pruned.push(row.key);
        sqlx::query(history_sql::PRUNE_OBJECT)
            .bind(&row.key.kind)
            .bind(&row.key.namespace)
            .bind(&row.key.name)
            .bind(i64::from(clock.retention.max_revisions))
            .bind(&clock.cutoff)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Removes every history row older than the retention's age, through the time index.
async fn prune_history_by_age(
    conn: &mut SqliteConnection,
    clock: &HistoryClock,
) -> Result<(), StoreError> {
    sqlx::query(history_sql::PRUNE_BY_AGE)
        .bind(&clock.cutoff)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Reader {
    pub(super) async fn history(
        &self,
        key: &ObjectKey,
        before: Option<Revision>,
        limit: usize,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let rows: Vec<HistorySqlRow> = sqlx::query_as(history_sql::OBJECT)
            .bind(&key.kind)
            .bind(&key.namespace)
            .bind(&key.name)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.into_row().1).collect())
    }

    pub(super) async fn deletes(
        &self,
        kind: &str,
        namespace: &str,
        limit: usize,
    ) -> Result<Vec<(String, HistoryRow)>, StoreError> {
        let rows: Vec<HistorySqlRow> = sqlx::query_as(history_sql::DELETES)
            .bind(kind)
            .bind(namespace)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(HistorySqlRow::into_row).collect())
    }
}

async fn apply_compact(
    conn: &mut SqliteConnection,
    below: Revision,
    revision: Revision,
    compacted: Revision,
) -> Result<Applied, StoreError> {
    // Compacting past the newest write would let a watch "resume" from a future revision.
    let below = below.min(revision);
    if below <= compacted {
        return Ok(Applied::Compacted(compacted));
    }
    sqlx::query("DELETE FROM events WHERE revision <= $1")
        .bind(below)
        .execute(&mut *conn)
        .await?;
    Ok(Applied::Compacted(below))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn write_connection_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (mut writer, _reader, _start) = open(&dir.path().join("store.db"), None)
            .await
            .expect("a fresh temporary directory holds a new database");

        let (journal_mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(writer.open_connection().expect("open"))
            .await
            .expect("journal_mode");
        let (synchronous,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(writer.open_connection().expect("open"))
            .await
            .expect("synchronous");

        assert_eq!(journal_mode, "wal");
        assert_eq!(synchronous, 2, "2 is FULL");
    }

    /// Committed pages reach the database file while the WAL is far below the writer's own
    /// checkpoint threshold: the checkpointer copied them, not a commit.
    #[tokio::test]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("store.db");
        let (mut writer, _reader, _start) = open(&path, None)
            .await
            .expect("a fresh temporary directory holds a new database");
        tokio::time::sleep(CHECKPOINT_INTERVAL * 3).await;
        let before = std::fs::metadata(&path).expect("database file").len();
        let conn = writer.open_connection().expect("open");
        sqlx::query("CREATE TABLE filler (x BLOB)")
            .execute(&mut *conn)
            .await
            .expect("create");
        sqlx::query("INSERT INTO filler VALUES (zeroblob(400000))")
            .execute(&mut *conn)
            .await
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
        let dir = tempfile::tempdir().expect("temporary directory");
        let (mut writer, _reader, _start) = open(&dir.path().join("store.db"), None)
            .await
            .expect("a fresh temporary directory holds a new database");
        for sql in [
            history_sql::PRUNE_OBJECT,
            history_sql::PRUNE_BY_AGE,
            history_sql::OBJECT,
            history_sql::DELETES,
        ] {
            let details = query_plan(&mut writer, sql).await;
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

    /// The detail lines of SQLite's `EXPLAIN QUERY PLAN` for `sql`.
    async fn query_plan(writer: &mut Writer, sql: &str) -> Vec<String> {
        let explain = sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"));
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(explain)
            .fetch_all(writer.open_connection().expect("open"))
            .await
            .expect("explain");
        plan.into_iter().map(|row| row.3).collect()
    }

    /// Every page query walks an index in its order: no full scan, no sort of the matches.
    #[tokio::test]
    async fn page_queries_walk_an_index_without_sorting() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (mut writer, _reader, _start) = open(&dir.path().join("store.db"), None)
            .await
            .expect("a fresh temporary directory holds a new database");
        let statements = [
            page_sql::NAME_IN_NAMESPACE,
            page_sql::NAME_IN_NAMESPACE_OF_TYPE,
            page_sql::NAME_ALL,
            page_sql::NAME_ALL_OF_TYPE,
            page_sql::CREATED_ASC_IN_NAMESPACE,
            page_sql::CREATED_DESC_IN_NAMESPACE,
            page_sql::CREATED_ASC_ALL,
            page_sql::CREATED_DESC_ALL,
        ];
        for sql in statements {
            let details = query_plan(&mut writer, sql).await;
            assert!(
                details
                    .iter()
                    .all(|d| d.starts_with("SEARCH") && !d.contains("TEMP B-TREE")),
                "{sql}: {details:?}"
            );
        }
    }
}
