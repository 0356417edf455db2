//! The write side: one rusqlite connection, driven by the writer task on a thread of its own
//! ([`spawn`]), committing each batch without leaving that thread.
//!
//! Why not sqlx here, as everywhere else: sqlx runs each statement on its connection's worker
//! thread and wakes the caller with the answer. A batch is a dozen statements, and on a busy
//! 2-core machine every wake-up waited about 0.4 ms for a core: of 4.9 ms per batch of 23
//! writes, `BEGIN` alone took 0.4 ms and the commit 1.8 ms, against an fsync of 0.2 ms. The
//! hops, not SQLite, bounded the write rate.

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::super::rows::{HistoryClock, NewHistoryRow, ObjectColumn, parse_json, to_json};
use super::super::{
    Allocation, Applied, BatchOp, Encoded, Event, EventType, ObjectKey, Revision, Shared,
    StoreError, Write, WriteOp, with_resource_version,
};
use super::{BUSY_TIMEOUT_SECS, Checkpointer, bulk, history_sql, is_full};

/// The write connection's page cache, in SQLite's negative-KiB form (8 MiB).
///
/// Not larger: when a B-tree page splits, SQLite swaps page numbers through the lock page's
/// number (`balance_nonroot`), and the commit after it then walks the whole cache to drop
/// pages past the end of the file (`pcache1TruncateUnsafe`). In a create storm that is about
/// one commit in four, so the cost of every such commit grows with the cache: at 32 MiB the
/// walk took 2.1% of the server's CPU, at 8 MiB 0.5%, and creates/s at 30,000 and 60,000
/// Services were no lower (`scale.sh`), the indexes' hot pages still fitting.
const WRITER_CACHE_KIB: i64 = -8 * 1024;
/// WAL pages at which the writer checkpoints by itself (SQLite's default is 1,000): only the
/// frames the [`Checkpointer`] has not copied yet, so a backstop rather than the rule.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 8_000;

/// The statements both commit paths share. Parameters are numbered (`?N`): rusqlite binds by
/// position, and a name used twice or out of order would shift the others.
pub(super) mod write_sql {
    /// Takes a pool value for an owner: pool, value, owner kind, namespace, name.
    pub(in crate::store) const INSERT_ALLOCATION: &str = "INSERT INTO allocations \
        (pool, value, owner_kind, owner_namespace, owner_name) VALUES (?1, ?2, ?3, ?4, ?5)";
    /// As [`INSERT_ALLOCATION`], changing nothing when the value is taken already.
    pub(in crate::store) const TAKE_ALLOCATION: &str = "INSERT INTO allocations \
        (pool, value, owner_kind, owner_namespace, owner_name) VALUES (?1, ?2, ?3, ?4, ?5) \
        ON CONFLICT (pool, value) DO NOTHING";
    /// Gives a value back, if the owner holds it; parameters as [`INSERT_ALLOCATION`].
    pub(in crate::store) const RELEASE_ALLOCATION: &str = "DELETE FROM allocations \
        WHERE pool = ?1 AND value = ?2 \
        AND owner_kind = ?3 AND owner_namespace = ?4 AND owner_name = ?5";
    /// Writes an object: kind, namespace, name, uid, revision, object.
    pub(in crate::store) const PUT_OBJECT: &str = "INSERT INTO objects \
        (kind, namespace, name, uid, revision, object) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
        ON CONFLICT (kind, namespace, name) DO UPDATE SET uid = excluded.uid, \
        revision = excluded.revision, object = excluded.object";
    /// Appends to the event log: revision, kind, namespace, name, event type, object.
    pub(in crate::store) const INSERT_EVENT: &str = "INSERT INTO events \
        (revision, kind, namespace, name, event_type, object) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    /// Records a history row: kind, namespace, name, revision, uid, verb, subresource,
    /// username, user agent, manager, written_at, object.
    pub(in crate::store) const INSERT_HISTORY: &str = "INSERT INTO history \
        (kind, namespace, name, revision, uid, verb, subresource, username, user_agent, \
        manager, written_at, object) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
    /// The revision counter alone.
    pub(in crate::store) const SET_REVISION: &str = "UPDATE meta SET revision = ?1 WHERE id = 1";
}

/// The one write connection, owned by the writer task, with the committed counters.
pub(in crate::store) struct Writer {
    /// `None` after a failed batch until a new connection opens.
    conn: Option<Connection>,
    path: PathBuf,
    max_page_count: Option<u64>,
    revision: Revision,
    compacted: Revision,
    /// Stops when the writer goes.
    _checkpointer: Checkpointer,
}

/// Runs the writer task on a thread of its own, whose runtime runs nothing else: the task
/// blocks in SQLite for a whole batch, and a request's wake-up never waits behind other work.
pub(in crate::store) fn spawn(task: impl Future<Output = ()> + Send + 'static) {
    let started = std::thread::Builder::new()
        .name("sqlite-writer".to_owned())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
            {
                Ok(runtime) => runtime.block_on(task),
                Err(error) => tracing::error!(error = %error, "the writer's runtime failed"),
            }
        });
    if let Err(error) = started {
        tracing::error!(error = %error, "the writer thread did not start");
    }
}

/// Opens a write connection with the pragmas every commit relies on.
fn connect(path: &Path, max_page_count: Option<u64>) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(BUSY_TIMEOUT_SECS))?;
    // synchronous=FULL in WAL mode fsyncs the WAL on every COMMIT: an acknowledged write
    // survives power loss, and group commit keeps that to one fsync per batch. The writer
    // inserts at random places in every index (generated names): a page cache four times
    // SQLite's default keeps the indexes' upper levels and hot leaves between commits (see
    // WRITER_CACHE_KIB for why not more), and fewer, larger checkpoints copy each hot page once.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA cache_size = {WRITER_CACHE_KIB}; \
         PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
    ))?;
    if let Some(pages) = max_page_count {
        conn.execute_batch(&format!("PRAGMA max_page_count = {pages};"))?;
    }
    Ok(conn)
}

impl Writer {
    /// Opens the write connection of a migrated database at the committed counters.
    pub(super) fn open(
        path: &Path,
        max_page_count: Option<u64>,
        (revision, compacted): (Revision, Revision),
        checkpointer: Checkpointer,
    ) -> Result<Writer, sqlx::Error> {
        Ok(Writer {
            conn: Some(connect(path, max_page_count).map_err(database_error)?),
            path: path.to_owned(),
            max_page_count,
            revision,
            compacted,
            _checkpointer: checkpointer,
        })
    }

    /// The revision of the last committed write.
    pub(in crate::store) fn revision(&self) -> Revision {
        self.revision
    }

    /// The committed compaction revision.
    pub(in crate::store) fn compacted(&self) -> Revision {
        self.compacted
    }

    /// Commits `ops` in one transaction, each in its own savepoint, and returns each outcome.
    ///
    /// A failing op rolls back only its savepoint. `Err` means nothing was committed.
    ///
    /// After a failure the connection is dropped, whatever state its transaction was left in
    /// (SQLite rolls some failures back by itself), and the next batch opens a fresh one: a
    /// full disk fails writes only while it is full.
    pub(in crate::store) fn commit_batch(
        &mut self,
        ops: &mut [BatchOp],
        shared: &Shared,
    ) -> Result<Vec<Result<Applied, StoreError>>, sqlx::Error> {
        let retention = *shared
            .history
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let clock = HistoryClock::now(retention);
        let result = match bulk::plan(ops, shared, self.revision) {
            Some(plan) => self.try_commit_bulk(plan, &clock),
            None => self.try_commit_batch(ops, &clock),
        };
        if result.is_err() {
            // Dropping the connection closes it, and closing rolls back anything left open.
            self.conn = None;
        }
        result
    }

    /// Commits one empty transaction that still writes a page: whether writes can commit now.
    pub(in crate::store) fn probe(&mut self) -> Result<(), sqlx::Error> {
        let result = self.try_probe();
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    fn try_probe(&mut self) -> Result<(), sqlx::Error> {
        self.reconnect_if_needed()?;
        let tx = Self::begin(&mut self.conn)?;
        tx.execute("UPDATE meta SET revision = revision WHERE id = 1", [])
            .map_err(database_error)?;
        tx.commit().map_err(database_error)
    }

    /// Opens a new write connection after a failure, re-reading the counters it commits
    /// against.
    fn reconnect_if_needed(&mut self) -> Result<(), sqlx::Error> {
        if self.conn.is_none() {
            let conn = connect(&self.path, self.max_page_count).map_err(database_error)?;
            (self.revision, self.compacted) = conn
                .query_row(
                    "SELECT revision, compacted_revision FROM meta WHERE id = 1",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(database_error)?;
            self.conn = Some(conn);
        }
        Ok(())
    }

    /// Begins an IMMEDIATE transaction on the open connection. IMMEDIATE takes the write lock
    /// up front, so no statement in the batch can hit SQLITE_BUSY halfway through.
    fn begin(conn: &mut Option<Connection>) -> Result<rusqlite::Transaction<'_>, sqlx::Error> {
        conn.as_mut()
            .ok_or_else(|| sqlx::Error::Protocol("no write connection".to_owned()))?
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database_error)
    }

    /// Commits a batch planned in memory.
    fn try_commit_bulk(
        &mut self,
        plan: bulk::Plan,
        clock: &HistoryClock,
    ) -> Result<Vec<Result<Applied, StoreError>>, sqlx::Error> {
        self.reconnect_if_needed()?;
        if plan.revision_before != self.revision {
            // The cache and this connection disagree (never expected): plan in SQL instead.
            return Err(sqlx::Error::Protocol("bulk plan is out of date".to_owned()));
        }
        let tx = Self::begin(&mut self.conn)?;
        plan.execute(&tx, clock).map_err(database_error)?;
        tx.commit().map_err(database_error)?;
        self.revision = plan.revision_after;
        Ok(plan.outcomes)
    }

    fn try_commit_batch(
        &mut self,
        ops: &[BatchOp],
        clock: &HistoryClock,
    ) -> Result<Vec<Result<Applied, StoreError>>, sqlx::Error> {
        self.reconnect_if_needed()?;
        let (mut revision, mut compacted) = (self.revision, self.compacted);
        let mut tx = Self::begin(&mut self.conn)?;
        let before = (revision, compacted);
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in ops {
            let savepoint = tx.savepoint().map_err(database_error)?;
            let outcome = match op {
                BatchOp::Write(write) => apply_write(&savepoint, write, revision + 1, clock),
                BatchOp::Compact(below) => apply_compact(&savepoint, *below, revision, compacted),
                BatchOp::PruneHistory => savepoint
                    .execute(history_sql::PRUNE_BY_AGE, [&clock.cutoff])
                    .map(|_| Applied::Compacted(compacted))
                    .map_err(StoreError::from),
            };
            match outcome {
                Ok(applied) => {
                    savepoint.commit().map_err(database_error)?;
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
                    // Rolls the savepoint back and releases it.
                    savepoint.finish().map_err(database_error)?;
                    outcomes.push(Err(error));
                }
            }
        }
        if (revision, compacted) != before {
            tx.execute(
                "UPDATE meta SET revision = ?1, compacted_revision = ?2 WHERE id = 1",
                params![revision, compacted],
            )
            .map_err(database_error)?;
        }
        tx.commit().map_err(database_error)?;
        self.revision = revision;
        self.compacted = compacted;
        Ok(outcomes)
    }

    /// Closes the write connection, checkpointing the WAL.
    pub(in crate::store) fn close(self) {
        let Some(conn) = self.conn else {
            return;
        };
        if let Err((_, error)) = conn.close() {
            tracing::warn!(error = %error, "closing the store's write connection failed");
        }
    }

    /// The open connection, for the tests' own statements.
    #[cfg(test)]
    pub(in crate::store) fn connection(&self) -> &Connection {
        self.conn.as_ref().expect("the write connection is open")
    }
}

/// Decides one write in SQL: its precondition and allocations against the tables, then its
/// rows.
fn apply_write(
    conn: &Connection,
    write: &Write,
    revision: Revision,
    clock: &HistoryClock,
) -> Result<Applied, StoreError> {
    let key = write.op.key();
    let current = conn
        .prepare_cached(
            "SELECT uid, revision, object FROM objects \
             WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
        )?
        .query_row(params![key.kind, key.namespace, key.name], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                stored_bytes(row.get_ref(2)?)?,
            ))
        })
        .optional()?;
    write.op.precondition().check(
        current
            .as_ref()
            .map(|(uid, revision, _)| (uid.as_str(), *revision)),
    )?;

    let mut released = Vec::new();
    for allocation in &write.release {
        if execute_for_allocation(conn, write_sql::RELEASE_ALLOCATION, allocation, key)? > 0 {
            released.push(allocation.clone());
        }
    }
    let mut allocated = Vec::new();
    for allocation in &write.allocate {
        if execute_for_allocation(conn, write_sql::TAKE_ALLOCATION, allocation, key)? == 0 {
            return Err(StoreError::AllocationTaken(allocation.clone()));
        }
        released.retain(|released| released != allocation);
        allocated.push(allocation.clone());
    }

    let encode = |uid: &str, object: &Value| -> Result<Encoded, StoreError> {
        let encoded = Encoded::new(uid, revision, &to_json(object)?);
        Ok(encoded.with_read_as_is(write.read_as_is))
    };
    let (event_type, object, stored, uid) = match (&write.op, current) {
        (WriteOp::Put { uid, object, .. }, current) => {
            let object = with_resource_version(object.clone(), revision)?;
            let stored = encode(uid, &object)?;
            put_object(conn, key, uid, revision, stored.stored())?;
            let event_type = match current {
                Some(_) => EventType::Modified,
                None => EventType::Added,
            };
            (event_type, object, stored, uid.clone())
        }
        (WriteOp::Delete { .. }, None) => return Err(StoreError::NotFound),
        (WriteOp::Delete { .. }, Some((uid, current_revision, current))) => {
            let last = parse_json(&current.json(current_revision)?, current_revision)?;
            let object = with_resource_version(last, revision)?;
            let stored = encode(&uid, &object)?;
            conn.prepare_cached(
                "DELETE FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
            )?
            .execute(params![key.kind, key.namespace, key.name])?;
            let mut owned = conn.prepare_cached(
                "DELETE FROM allocations \
                 WHERE owner_kind = ?1 AND owner_namespace = ?2 AND owner_name = ?3 \
                 RETURNING pool, value",
            )?;
            let owned = owned
                .query_map(params![key.kind, key.namespace, key.name], |row| {
                    Ok(Allocation {
                        pool: row.get(0)?,
                        value: row.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for allocation in owned {
                if let Some(index) = allocated.iter().position(|a| *a == allocation) {
                    allocated.swap_remove(index);
                } else if !released.contains(&allocation) {
                    released.push(allocation);
                }
            }
            (EventType::Deleted, object, stored, uid)
        }
    };

    insert_event(conn, revision, key, event_type, stored.stored())?;
    if let Some(note) = &write.history {
        let row = NewHistoryRow {
            key,
            revision,
            uid: &uid,
            note,
            object: stored.stored(),
        };
        insert_history(conn, &[row], clock)?;
    }

    Ok(Applied::Write {
        event: Event {
            revision,
            event_type,
            key: key.clone(),
            object: Arc::new(stored),
        },
        object,
        allocated,
        released,
        stored: event_type != EventType::Deleted,
    })
}

/// Records that `owner` holds `allocation`.
pub(super) fn insert_allocation(
    conn: &Connection,
    allocation: &Allocation,
    owner: &ObjectKey,
) -> rusqlite::Result<()> {
    execute_for_allocation(conn, write_sql::INSERT_ALLOCATION, allocation, owner).map(drop)
}

/// Runs one of the allocation statements (pool, value, owner kind, namespace, name) and
/// returns the rows it changed.
fn execute_for_allocation(
    conn: &Connection,
    sql: &str,
    allocation: &Allocation,
    owner: &ObjectKey,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params![
        allocation.pool,
        allocation.value,
        owner.kind,
        owner.namespace,
        owner.name
    ])
}

/// An object column as read, whether it holds stored bytes or, written before them, text.
fn stored_bytes(value: ValueRef<'_>) -> rusqlite::Result<Vec<u8>> {
    match value {
        ValueRef::Blob(bytes) | ValueRef::Text(bytes) => Ok(bytes.to_vec()),
        _ => Err(rusqlite::types::FromSqlError::InvalidType.into()),
    }
}

/// Writes an object's row (see [`write_sql::PUT_OBJECT`]); `stored` is [`Encoded::stored`].
pub(super) fn put_object(
    conn: &Connection,
    key: &ObjectKey,
    uid: &str,
    revision: Revision,
    stored: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached(write_sql::PUT_OBJECT)?
        .execute(params![
            key.kind,
            key.namespace,
            key.name,
            uid,
            revision,
            stored
        ])?;
    Ok(())
}

/// Appends one event to the log; `stored` is [`Encoded::stored`].
pub(super) fn insert_event(
    conn: &Connection,
    revision: Revision,
    key: &ObjectKey,
    event_type: EventType,
    stored: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached(write_sql::INSERT_EVENT)?
        .execute(params![
            revision,
            key.kind,
            key.namespace,
            key.name,
            event_type.as_str(),
            stored
        ])?;
    Ok(())
}

/// Inserts history rows and prunes each written object's rows beyond the retention: only
/// that object's rows, through the primary key, however large the table is.
pub(super) fn insert_history(
    conn: &Connection,
    rows: &[NewHistoryRow<'_, [u8]>],
    clock: &HistoryClock,
) -> rusqlite::Result<()> {
    let mut insert = conn.prepare_cached(write_sql::INSERT_HISTORY)?;
    for row in rows {
        insert.execute(params![
            row.key.kind,
            row.key.namespace,
            row.key.name,
            row.revision,
            row.uid,
            row.note.verb,
            row.note.subresource,
            row.note.user,
            row.note.user_agent,
            row.note.manager,
            clock.now,
            row.object
        ])?;
    }
    let mut prune = conn.prepare_cached(history_sql::PRUNE_OBJECT)?;
    let mut pruned: Vec<&ObjectKey> = Vec::new();
    for row in rows {
        if pruned.contains(&row.key) {
            continue;
        }
        pruned.push(row.key);
        prune.execute(params![
            row.key.kind,
            row.key.namespace,
            row.key.name,
            i64::from(clock.retention.max_revisions),
            clock.cutoff
        ])?;
    }
    Ok(())
}

fn apply_compact(
    conn: &Connection,
    below: Revision,
    revision: Revision,
    compacted: Revision,
) -> Result<Applied, StoreError> {
    // Compacting past the newest write would let a watch "resume" from a future revision.
    let below = below.min(revision);
    if below <= compacted {
        return Ok(Applied::Compacted(compacted));
    }
    conn.prepare_cached("DELETE FROM events WHERE revision <= ?1")?
        .execute([below])?;
    Ok(Applied::Compacted(below))
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Database(database_error(error))
    }
}

/// A rusqlite error as sqlx reports SQLite's, so that both connections' errors read and
/// classify alike ([`is_full`] reads the code).
pub(super) fn database_error(error: rusqlite::Error) -> sqlx::Error {
    match error {
        rusqlite::Error::SqliteFailure(failure, message) => {
            sqlx::Error::Database(Box::new(WriteError {
                code: failure.extended_code,
                message: message.unwrap_or_else(|| failure.to_string()),
            }))
        }
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// SQLite's extended result code and message.
#[derive(Debug)]
struct WriteError {
    code: std::ffi::c_int,
    message: String,
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // As sqlx writes SQLite's errors: some messages are ambiguous without the code.
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for WriteError {}

impl sqlx::error::DatabaseError for WriteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                sqlx::error::ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => sqlx::error::ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => sqlx::error::ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}
