//! PostgreSQL specifics: several replicas over one database.
//!
//! # One order of revisions across replicas
//!
//! Each replica has one writer connection that commits its batches, like SQLite's, but every
//! decision a write depends on is taken by the database inside the write's transaction, never
//! from a replica's memory: the batch's first statement locks the one `meta` row
//! (`SELECT … FOR UPDATE`), and each write then reads its object's current revision and uid
//! (the preconditions: `AlreadyExists`, `Conflict`), inserts its allocations into the
//! `allocations` table, whose primary key refuses a value already taken (`AllocationTaken`),
//! and takes the next revision from that row. A stale `resourceVersion` is a conflict on
//! every replica, and no two replicas hand out one revision, IP or port.
//!
//! # Why a reader can never skip a transaction that commits late
//!
//! The `meta` row lock is held from the batch's first statement to its `COMMIT`, so batches
//! commit one at a time, in the order they took the lock, and a batch reads the counter (and
//! numbers its writes) only after the batch before it has committed: PostgreSQL records a
//! transaction as committed before it releases its row locks, so under READ COMMITTED the
//! lock's next holder reads the committed counter and assigns strictly greater revisions.
//! Revisions therefore become visible in increasing order with no gaps: whenever any snapshot
//! shows revision R, it shows every revision below R. No transaction can hold revision R-1
//! uncommitted while R is visible — which is exactly the case in which a reader that has moved
//! past R-1 would never see it (a sequence, by contrast, hands out numbers that commit in any
//! order). So the tailer and the watches may read `events WHERE revision > last` and move
//! `last` to the highest revision they read, and the event log has one row per revision (a
//! failed write rolls back its savepoint and takes no revision; a failed batch rolls back the
//! counter too), which the tailer checks.
//!
//! # Watches across replicas
//!
//! Each replica runs a tailer ([`tail`]) that follows the event log: woken by `LISTEN`
//! (every batch `pg_notify`s in its transaction, so the notification is delivered only if it
//! commits), by its own writer after a commit, and every second regardless (a lost
//! notification or a reconnect costs at most that). The tailer alone applies events to the
//! replica's cache, allocation mirror and broadcast, so local and remote writes reach
//! watchers in one order; a local writer waits (bounded) until the tailer has applied its
//! revision before answering, so it reads its own write.

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, QueryBuilder};
use tokio::sync::{Notify, oneshot};

use super::rows::{
    CurrentRow, HistoryClock, HistorySqlRow, NewHistoryRow, ObjectRow, PageStatements, StartState,
    page_statement, parse_json, to_json,
};
use super::{
    Allocation, Applied, BatchOp, Encoded, Event, EventType, HistoryRow, ListQuery, ObjectKey,
    Revision, Shared, StoreError, StoredObject, Write, WriteOp, created_at, spec_type,
    with_resource_version,
};

mod tail;

pub(super) use tail::start_tailer;

/// The channel every batch notifies and every replica's tailer listens on.
const NOTIFY_CHANNEL: &str = "service_console_events";
/// How long a read waits for a pooled connection (or a new one) before failing: an unreachable
/// database fails reads and `/readyz` quickly instead of hanging them.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the writer waits to open its connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows per multi-row insert: well under PostgreSQL's 65,535 bound parameters.
const ROWS_PER_STATEMENT: usize = 400;
/// Locks the revision counter for the rest of the batch's transaction (see the module notes).
const LOCK_REVISION: &str = "SELECT revision, compacted_revision FROM meta WHERE id = 1 FOR UPDATE";

/// PostgreSQL's page queries: SQLite's, with `strpos` for `instr` and no index hints (the
/// planner has statistics).
const PAGE_STATEMENTS: PageStatements = PageStatements {
    name_in_namespace: "SELECT namespace, name, uid, revision, object \
        FROM objects WHERE kind = $1 AND namespace = $2 AND name > $3 AND strpos(name, $4) > 0 \
        ORDER BY name LIMIT $5",
    name_in_namespace_of_type: "SELECT namespace, name, uid, revision, object FROM objects \
        WHERE kind = $1 AND spec_type = $2 AND namespace = $3 AND name > $4 \
        AND strpos(name, $5) > 0 ORDER BY name LIMIT $6",
    name_all: "SELECT namespace, name, uid, revision, object \
        FROM objects WHERE kind = $1 AND (namespace, name) > ($2, $3) AND strpos(name, $4) > 0 \
        ORDER BY namespace, name LIMIT $5",
    name_all_of_type: "SELECT namespace, name, uid, revision, object FROM objects \
        WHERE kind = $1 AND spec_type = $2 AND (namespace, name) > ($3, $4) \
        AND strpos(name, $5) > 0 ORDER BY namespace, name LIMIT $6",
    created_asc_in_namespace: "SELECT namespace, name, uid, revision, object FROM objects \
        WHERE kind = $1 AND namespace = $2 AND (created_at, name) > ($3, $4) \
        AND strpos(name, $5) > 0 AND ($6 = '' OR spec_type = $6) \
        ORDER BY created_at, name LIMIT $7",
    created_desc_in_namespace: "SELECT namespace, name, uid, revision, object FROM objects \
        WHERE kind = $1 AND namespace = $2 AND (created_at, name) < ($3, $4) \
        AND strpos(name, $5) > 0 AND ($6 = '' OR spec_type = $6) \
        ORDER BY created_at DESC, name DESC LIMIT $7",
    created_asc_all: "SELECT namespace, name, uid, revision, object FROM objects \
        WHERE kind = $1 AND (created_at, namespace, name) > ($2, $3, $4) \
        AND strpos(name, $5) > 0 AND ($6 = '' OR spec_type = $6) \
        ORDER BY created_at, namespace, name LIMIT $7",
    created_desc_all: "SELECT namespace, name, uid, revision, object FROM objects \
        WHERE kind = $1 AND (created_at, namespace, name) < ($2, $3, $4) \
        AND strpos(name, $5) > 0 AND ($6 = '' OR spec_type = $6) \
        ORDER BY created_at DESC, namespace DESC, name DESC LIMIT $7",
};

/// The history statements; parameters as SQLite's.
mod history_sql {
    pub(super) const PRUNE_OBJECT: &str = "DELETE FROM history \
        WHERE kind = $1 AND namespace = $2 AND name = $3 \
        AND (written_at < $5 OR revision <= (SELECT revision FROM history \
        WHERE kind = $1 AND namespace = $2 AND name = $3 \
        ORDER BY revision DESC LIMIT 1 OFFSET $4))";
    pub(super) const PRUNE_BY_AGE: &str = "DELETE FROM history WHERE written_at < $1";
    pub(super) const OBJECT: &str = "SELECT name, revision, uid, verb, subresource, username, \
        user_agent, manager, written_at, object FROM history \
        WHERE kind = $1 AND namespace = $2 AND name = $3 AND revision < $4 \
        ORDER BY revision DESC LIMIT $5";
    pub(super) const DELETES: &str = "SELECT name, revision, uid, verb, subresource, username, \
        user_agent, manager, written_at, object FROM history \
        WHERE kind = $1 AND namespace = $2 AND verb = 'delete' \
        ORDER BY revision DESC LIMIT $3";
}

/// Whether a database error means PostgreSQL ran out of disk (SQLSTATE class 53: 53100
/// disk_full, 53400 configuration_limit_exceeded is not one).
pub(super) fn is_full(error: &sqlx::Error) -> bool {
    const DISK_FULL: &str = "53100";
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some(DISK_FULL))
}

/// Parses a `postgres://` URL without ever echoing it: parse errors can quote the text.
pub(super) fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    url.parse::<PgConnectOptions>().map_err(|_| {
        StoreError::Database(sqlx::Error::Configuration(
            "the database URL is not a valid postgres:// URL".into(),
        ))
    })
}

/// Everything [`open`] starts a store with.
pub(super) struct Opened {
    pub(super) writer: Writer,
    pub(super) reader: Reader,
    pub(super) listener: PgListener,
    pub(super) stopped: oneshot::Receiver<()>,
    pub(super) state: StartState,
}

/// Connects, migrates (sqlx's migrator takes an advisory lock, so replicas starting together
/// migrate once), listens, and loads the state the cache starts from.
pub(super) async fn open(url: &str, pool_size: u32) -> Result<Opened, StoreError> {
    let options = connect_options(url)?.application_name("service-console");
    let mut conn = connect(&options).await?;
    sqlx::migrate!("./migrations/postgres")
        .run(&mut conn)
        .await
        .map_err(sqlx::Error::from)?;
    let pool = PgPoolOptions::new()
        .max_connections(pool_size.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.clone())
        .await?;
    // The listener's connection is its own: a LISTEN lasts as long as its session.
    let listen_pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&listen_pool).await?;
    // Listening before the state is read: a write committed after the read is notified.
    listener.listen(NOTIFY_CHANNEL).await?;
    let state = load_state(&mut conn).await?;
    let (stop, stopped) = oneshot::channel();
    let wake = Arc::new(Notify::new());
    let writer = Writer {
        conn: Some(conn),
        options,
        wake: Arc::clone(&wake),
        _stop: stop,
        last_used: std::time::Instant::now(),
    };
    Ok(Opened {
        writer,
        reader: Reader { pool, wake },
        listener,
        stopped,
        state,
    })
}

async fn connect(options: &PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

/// Every object, the counters and the allocations, read in one snapshot.
async fn load_state(conn: &mut PgConnection) -> Result<StartState, StoreError> {
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await?;
    let (revision, compacted): (i64, i64) =
        sqlx::query_as("SELECT revision, compacted_revision FROM meta WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
    let allocations: Vec<(String, String)> = sqlx::query_as("SELECT pool, value FROM allocations")
        .fetch_all(&mut *tx)
        .await?;
    let mut objects = super::cache::ObjectCache::default();
    {
        let mut rows = sqlx::query_as::<_, (String, String, String, String, i64, String)>(
            "SELECT kind, namespace, name, uid, revision, object FROM objects",
        )
        .fetch(&mut *tx);
        while let Some((kind, namespace, name, uid, revision, json)) = rows.try_next().await? {
            objects.apply(
                &ObjectKey::new(kind, namespace, name),
                Some(Arc::new(Encoded::new(&uid, revision, &json))),
            );
        }
    }
    tx.commit().await?;
    Ok(StartState {
        objects,
        revision,
        compacted,
        allocations: allocations
            .into_iter()
            .map(|(pool, value)| Allocation { pool, value })
            .collect(),
    })
}

/// One row of the event log, with what the tailer needs besides the watch event.
#[derive(sqlx::FromRow)]
struct EventRow {
    revision: i64,
    kind: String,
    namespace: String,
    name: String,
    event_type: String,
    uid: String,
    object: String,
    allocated: String,
    released: String,
}

/// An event as the tailer applies it.
pub(super) struct TailEvent {
    pub(super) event: Event,
    pub(super) allocated: Vec<Allocation>,
    pub(super) released: Vec<Allocation>,
}

impl EventRow {
    fn into_event(self) -> Result<TailEvent, StoreError> {
        let Some(event_type) = EventType::parse(&self.event_type) else {
            return Err(StoreError::Corrupt(format!(
                "event {} has unknown type {:?}",
                self.revision, self.event_type
            )));
        };
        let allocations = |text: &str| -> Result<Vec<Allocation>, StoreError> {
            let pairs: Vec<(String, String)> = serde_json::from_str(text).map_err(|e| {
                StoreError::Corrupt(format!("allocations of event {}: {e}", self.revision))
            })?;
            Ok(pairs
                .into_iter()
                .map(|(pool, value)| Allocation { pool, value })
                .collect())
        };
        let allocated = allocations(&self.allocated)?;
        let released = allocations(&self.released)?;
        Ok(TailEvent {
            event: Event {
                object: Arc::new(Encoded::new(&self.uid, self.revision, &self.object)),
                revision: self.revision,
                event_type,
                key: ObjectKey {
                    kind: self.kind,
                    namespace: self.namespace,
                    name: self.name,
                },
            },
            allocated,
            released,
        })
    }
}

fn allocations_json(allocations: &[Allocation]) -> Result<String, StoreError> {
    let pairs: Vec<(&str, &str)> = allocations
        .iter()
        .map(|a| (a.pool.as_str(), a.value.as_str()))
        .collect();
    serde_json::to_string(&pairs)
        .map_err(|e| StoreError::Corrupt(format!("allocations cannot be serialized: {e}")))
}

/// The read side: a pool of connections, each read in its own snapshot, and the tailer's
/// wake-up.
#[derive(Clone)]
pub(super) struct Reader {
    pool: PgPool,
    /// Wakes the tailer (a local commit, or a writer waiting to read its write).
    wake: Arc<Notify>,
}

/// How long a writer waits for the tailer to apply its own write before answering anyway.
const READ_YOUR_WRITES_WAIT: Duration = Duration::from_secs(5);

impl Reader {
    /// Waits (bounded) until the cache shows `revision`.
    pub(super) async fn wait_applied(&self, shared: &Shared, revision: Revision) {
        let mut applied = shared.applied.subscribe();
        if *applied.borrow() >= revision {
            return;
        }
        self.wake.notify_one();
        let reached = tokio::time::timeout(
            READ_YOUR_WRITES_WAIT,
            applied.wait_for(|applied| *applied >= revision),
        )
        .await;
        if reached.is_err() {
            tracing::warn!(
                revision,
                "the cache has not caught up with a committed write yet"
            );
        }
    }

    /// The revision of the newest committed write, of any replica.
    pub(super) async fn committed_revision(&self) -> Result<Revision, StoreError> {
        let (revision,): (i64,) = sqlx::query_as("SELECT revision FROM meta WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(revision)
    }

    pub(super) async fn list_page(
        &self,
        kind: &str,
        query: &ListQuery,
    ) -> Result<(Vec<StoredObject>, Revision), StoreError> {
        let (sql, params) = page_statement(&PAGE_STATEMENTS, kind, query);
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
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
        let (oldest, events) = self.log_after(kind, after, limit).await?;
        if after < oldest {
            return Err(StoreError::Expired {
                requested: after,
                oldest,
            });
        }
        Ok(events.into_iter().map(|e| e.event).collect())
    }

    /// The compaction revision and up to `limit` events after `after`, in one snapshot.
    pub(super) async fn log_after(
        &self,
        kind: Option<&str>,
        after: Revision,
        limit: i64,
    ) -> Result<(Revision, Vec<TailEvent>), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let (oldest,): (i64,) = sqlx::query_as("SELECT compacted_revision FROM meta WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let rows: Vec<EventRow> = match kind {
            Some(kind) => {
                sqlx::query_as(
                    "SELECT revision, kind, namespace, name, event_type, uid, object, \
                     allocated, released FROM events \
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
                    "SELECT revision, kind, namespace, name, event_type, uid, object, \
                     allocated, released FROM events \
                     WHERE revision > $1 ORDER BY revision LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        let events = rows
            .into_iter()
            .map(EventRow::into_event)
            .collect::<Result<_, _>>()?;
        Ok((oldest, events))
    }

    /// Every object, the counters and the allocations, in one snapshot.
    pub(super) async fn load_state(&self) -> Result<StartState, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load_state(&mut conn).await
    }

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

/// The replica's one write connection, owned by the writer task.
pub(super) struct Writer {
    /// `None` after a failed batch until a new connection opens.
    conn: Option<PgConnection>,
    options: PgConnectOptions,
    /// Wakes the tailer after a commit, so the local writer's callers wait one read, not a
    /// poll interval.
    wake: Arc<Notify>,
    /// Dropped with the writer (the last clone of the store is gone): stops the tailer.
    _stop: oneshot::Sender<()>,
    /// When the connection last did anything: one idle longer than [`IDLE_PING`] is checked
    /// before a batch uses it.
    last_used: std::time::Instant,
}

/// How long the write connection may sit idle before a batch checks it first: a database
/// restarted meanwhile has closed it, and a batch failing on a dead connection would fail
/// writes that a fresh one commits.
const IDLE_PING: Duration = Duration::from_secs(1);

impl Writer {
    async fn open_connection(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        let idle = self.last_used.elapsed() > IDLE_PING;
        self.last_used = std::time::Instant::now();
        if idle
            && let Some(conn) = self.conn.as_mut()
            && conn.ping().await.is_err()
        {
            self.conn = None;
        }
        if self.conn.is_none() {
            self.conn = Some(connect(&self.options).await?);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| sqlx::Error::Protocol("no write connection".to_owned()))
    }

    /// Commits `ops` in one transaction that holds the revision lock (see the module notes),
    /// each in its own savepoint, and returns each outcome and the compaction revision.
    ///
    /// An error says whether it came before the transaction wrote anything (`true`): then
    /// the batch may be committed again on a fresh connection, as when the database closed
    /// the old one (a restart, a failover, a network cut) since the last batch.
    async fn try_commit_batch(
        &mut self,
        ops: &[BatchOp],
        clock: &HistoryClock,
    ) -> Result<(Vec<Result<Applied, StoreError>>, Revision), (sqlx::Error, bool)> {
        let conn = self.open_connection().await.map_err(|e| (e, false))?;
        let mut tx = conn.begin().await.map_err(|e| (e, true))?;
        let (revision, compacted): (i64, i64) = sqlx::query_as(LOCK_REVISION)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| (e, true))?;
        Self::write_batch(tx, ops, clock, revision, compacted)
            .await
            .map_err(|e| (e, false))
    }

    /// The rest of a batch, once its transaction holds the revision lock.
    async fn write_batch(
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        ops: &[BatchOp],
        clock: &HistoryClock,
        mut revision: Revision,
        mut compacted: Revision,
    ) -> Result<(Vec<Result<Applied, StoreError>>, Revision), sqlx::Error> {
        let before = (revision, compacted);
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
                BatchOp::PruneHistory => sqlx::query(history_sql::PRUNE_BY_AGE)
                    .bind(&clock.cutoff)
                    .execute(&mut *savepoint)
                    .await
                    .map(|_| Applied::Compacted(compacted))
                    .map_err(StoreError::from),
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
                Err(error) => {
                    savepoint.rollback().await?;
                    outcomes.push(Err(error));
                }
            }
        }
        if (revision, compacted) != before {
            sqlx::query("UPDATE meta SET revision = $1, compacted_revision = $2 WHERE id = 1")
                .bind(revision)
                .bind(compacted)
                .execute(&mut *tx)
                .await?;
            // Delivered to every listener when (and only if) the transaction commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(revision.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok((outcomes, compacted))
    }
}

impl super::backend::BatchWriter for Writer {
    async fn commit_batch(
        &mut self,
        ops: &[BatchOp],
        shared: &Shared,
    ) -> Result<Vec<Result<Applied, StoreError>>, sqlx::Error> {
        let retention = *shared
            .history
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let clock = HistoryClock::now(retention);
        let mut result = self.try_commit_batch(ops, &clock).await;
        if let Err((error, true)) = &result {
            tracing::info!(error = %error, "the write connection failed; committing on a new one");
            self.conn = None;
            result = self.try_commit_batch(ops, &clock).await;
        }
        match result.map_err(|(error, _)| error) {
            Ok((outcomes, compacted)) => {
                shared
                    .compacted
                    .fetch_max(compacted, std::sync::atomic::Ordering::AcqRel);
                Ok(outcomes)
            }
            Err(error) => {
                // Whatever state its transaction was left in, the connection is not reused.
                self.conn = None;
                Err(error)
            }
        }
    }

    async fn probe(&mut self) -> Result<(), sqlx::Error> {
        let result = async {
            let conn = self.open_connection().await?;
            let mut tx = conn.begin().await?;
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

    /// The tailer applies the batch, with every other replica's writes, in revision order.
    fn publish(&mut self, _outcomes: &[Result<Applied, StoreError>], _shared: &Shared) {
        self.wake.notify_one();
    }

    async fn close(self) {
        if let Some(conn) = self.conn
            && let Err(error) = conn.close().await
        {
            tracing::warn!(error = %error, "closing the store's write connection failed");
        }
    }
}

async fn apply_write(
    conn: &mut PgConnection,
    write: &Write,
    revision: Revision,
    clock: &HistoryClock,
) -> Result<Applied, StoreError> {
    let key = write.op.key();
    let current: Option<CurrentRow> = sqlx::query_as(
        "SELECT uid, revision, object FROM objects \
         WHERE kind = $1 AND namespace = $2 AND name = $3",
    )
    .bind(&key.kind)
    .bind(&key.namespace)
    .bind(&key.name)
    .fetch_optional(&mut *conn)
    .await?;
    write
        .op
        .precondition()
        .check(current.as_ref().map(|row| (row.uid.as_str(), row.revision)))?;

    let mut released = Vec::new();
    for allocation in &write.release {
        let deleted = sqlx::query(
            "DELETE FROM allocations WHERE pool = $1 AND value = $2 \
             AND owner_kind = $3 AND owner_namespace = $4 AND owner_name = $5",
        )
        .bind(&allocation.pool)
        .bind(&allocation.value)
        .bind(&key.kind)
        .bind(&key.namespace)
        .bind(&key.name)
        .execute(&mut *conn)
        .await?;
        if deleted.rows_affected() > 0 {
            released.push(allocation.clone());
        }
    }

    let mut allocated = Vec::new();
    for allocation in &write.allocate {
        let inserted = sqlx::query(
            "INSERT INTO allocations (pool, value, owner_kind, owner_namespace, owner_name) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pool, value) DO NOTHING",
        )
        .bind(&allocation.pool)
        .bind(&allocation.value)
        .bind(&key.kind)
        .bind(&key.namespace)
        .bind(&key.name)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::AllocationTaken(allocation.clone()));
        }
        released.retain(|released| released != allocation);
        allocated.push(allocation.clone());
    }

    let (event_type, object, text, uid) = match (&write.op, current) {
        (WriteOp::Put { uid, object, .. }, current) => {
            let object = with_resource_version(object.clone(), revision)?;
            let text = to_json(&object)?;
            sqlx::query(
                "INSERT INTO objects \
                 (kind, namespace, name, uid, revision, object, created_at, spec_type) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (kind, namespace, name) DO UPDATE SET uid = excluded.uid, \
                 revision = excluded.revision, object = excluded.object, \
                 created_at = excluded.created_at, spec_type = excluded.spec_type",
            )
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
        "INSERT INTO events \
         (revision, kind, namespace, name, event_type, uid, object, allocated, released) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(revision)
    .bind(&key.kind)
    .bind(&key.namespace)
    .bind(&key.name)
    .bind(event_type.as_str())
    .bind(&uid)
    .bind(&text)
    .bind(allocations_json(&allocated)?)
    .bind(allocations_json(&released)?)
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
            object: Arc::new(Encoded::new(&uid, revision, &text)),
        },
        object,
        allocated,
        released,
        stored: event_type != EventType::Deleted,
    })
}

/// Inserts history rows and prunes each written object's rows beyond the retention.
async fn insert_history(
    conn: &mut PgConnection,
    rows: &[NewHistoryRow<'_>],
    clock: &HistoryClock,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert: QueryBuilder<sqlx::Postgres> = QueryBuilder::new(
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

/// Deletes the events at or below `below` (capped at the current revision); compaction never
/// moves back, so any replica may run it, any number of times.
async fn apply_compact(
    conn: &mut PgConnection,
    below: Revision,
    revision: Revision,
    compacted: Revision,
) -> Result<Applied, StoreError> {
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
