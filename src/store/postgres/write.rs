//! The write side on PostgreSQL: the replica's one write connection, committing each batch in
//! one transaction that holds the revision lock (see the parent module), a savepoint per write.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, QueryBuilder};
use tokio::sync::{Notify, oneshot};

use super::{NOTIFY_CHANNEL, allocations_json, connect, history_sql};
use crate::store::rows::{CurrentRow, HistoryClock, NewHistoryRow, parse_json, to_json};
use crate::store::{
    Allocation, Applied, BatchOp, Encoded, Event, EventType, ObjectKey, Revision, Shared,
    StoreError, Write, WriteOp, with_resource_version,
};

/// Rows per multi-row insert: well under PostgreSQL's 65,535 bound parameters.
const ROWS_PER_STATEMENT: usize = 400;
/// Locks the revision counter for the rest of the batch's transaction (see the module notes).
const LOCK_REVISION: &str = "SELECT revision, compacted_revision FROM meta WHERE id = 1 FOR UPDATE";

/// The replica's one write connection, owned by the writer task.
pub(in crate::store) struct Writer {
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
    pub(super) fn new(
        conn: PgConnection,
        options: PgConnectOptions,
        wake: Arc<Notify>,
        stop: oneshot::Sender<()>,
    ) -> Writer {
        Writer {
            conn: Some(conn),
            options,
            wake,
            _stop: stop,
            last_used: std::time::Instant::now(),
        }
    }

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

impl crate::store::backend::BatchWriter for Writer {
    async fn commit_batch(
        &mut self,
        ops: &mut [BatchOp],
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

/// The start of a write: read the key's current row and check the precondition, give back
/// what the write releases, take what it allocates. Returns `(key, current, allocated,
/// released)`.
async fn check_and_allocate<'w>(
    conn: &mut PgConnection,
    write: &'w Write,
) -> Result<
    (
        &'w ObjectKey,
        Option<CurrentRow>,
        Vec<Allocation>,
        Vec<Allocation>,
    ),
    StoreError,
> {
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
        let release = "DELETE FROM allocations WHERE pool = $1 AND value = $2 \
             AND owner_kind = $3 AND owner_namespace = $4 AND owner_name = $5";
        if execute_for_allocation(conn, release, allocation, key).await? > 0 {
            released.push(allocation.clone());
        }
    }

    let mut allocated = Vec::new();
    for allocation in &write.allocate {
        let take = "INSERT INTO allocations (pool, value, owner_kind, owner_namespace, owner_name) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pool, value) DO NOTHING";
        if execute_for_allocation(conn, take, allocation, key).await? == 0 {
            return Err(StoreError::AllocationTaken(allocation.clone()));
        }
        released.retain(|released| released != allocation);
        allocated.push(allocation.clone());
    }
    Ok((key, current, allocated, released))
}

/// Runs an allocation statement (pool, value, owner kind, namespace, name) and returns the rows
/// it changed.
async fn execute_for_allocation(
    conn: &mut PgConnection,
    sql: &'static str,
    allocation: &Allocation,
    owner: &ObjectKey,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(sql)
        .bind(&allocation.pool)
        .bind(&allocation.value)
        .bind(&owner.kind)
        .bind(&owner.namespace)
        .bind(&owner.name)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

async fn apply_write(
    conn: &mut PgConnection,
    write: &Write,
    revision: Revision,
    clock: &HistoryClock,
) -> Result<Applied, StoreError> {
    let (key, current, mut allocated, mut released) = check_and_allocate(conn, write).await?;

    let (event_type, object, text, uid) = match (&write.op, current) {
        (WriteOp::Put { uid, object, .. }, current) => {
            let object = with_resource_version(object.clone(), revision)?;
            let text = to_json(&object)?;
            sqlx::query(
                "INSERT INTO objects (kind, namespace, name, uid, revision, object) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (kind, namespace, name) DO UPDATE SET uid = excluded.uid, \
                 revision = excluded.revision, object = excluded.object",
            )
            .bind(&key.kind)
            .bind(&key.namespace)
            .bind(&key.name)
            .bind(uid)
            .bind(revision)
            .bind(&text)
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
            object: text.as_str(),
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
                .push_bind(row.object);
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
