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
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Notify, oneshot};

use super::rows::{HistorySqlRow, StartState};
use super::{
    Allocation, Encoded, Event, EventType, HistoryRow, ObjectKey, Revision, Shared, StoreError,
};

mod tail;
mod write;

pub(super) use tail::start_tailer;
pub(super) use write::Writer;

/// The channel every batch notifies and every replica's tailer listens on.
const NOTIFY_CHANNEL: &str = "service_console_events";
/// How long a read waits for a pooled connection (or a new one) before failing: an unreachable
/// database fails reads and `/readyz` quickly instead of hanging them.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the writer waits to open its connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
    let writer = Writer::new(conn, options, Arc::clone(&wake), stop);
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
                None,
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
        let rows: Vec<HistorySqlRow<String>> = sqlx::query_as(history_sql::OBJECT)
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
        let rows: Vec<HistorySqlRow<String>> = sqlx::query_as(history_sql::DELETES)
            .bind(kind)
            .bind(namespace)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(HistorySqlRow::into_row).collect()
    }
}
