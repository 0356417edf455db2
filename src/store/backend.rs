//! The two backends behind one [`Store`](super::Store), chosen at start-up: what the store's
//! readers and its writer task ask of either. Static dispatch for the writer (the writer task
//! is generic over it) and one `match` per read, so the SQLite path costs what it did.

use std::future::Future;

use super::{
    Applied, BatchOp, Event, HistoryRow, ObjectKey, Revision, Shared, StoreError, postgres, sqlite,
};

/// The read side of the chosen backend.
#[derive(Clone)]
pub(super) enum Reader {
    Sqlite(sqlite::Reader),
    Postgres(postgres::Reader),
}

impl Reader {
    pub(super) async fn count(
        &self,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<u64, StoreError> {
        match self {
            Reader::Sqlite(reader) => reader.count(kind, namespace).await,
            Reader::Postgres(reader) => reader.count(kind, namespace).await,
        }
    }

    pub(super) async fn events_after(
        &self,
        kind: Option<&str>,
        after: Revision,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        match self {
            Reader::Sqlite(reader) => reader.events_after(kind, after, limit).await,
            Reader::Postgres(reader) => reader.events_after(kind, after, limit).await,
        }
    }

    pub(super) async fn history(
        &self,
        key: &ObjectKey,
        before: Option<Revision>,
        limit: usize,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        match self {
            Reader::Sqlite(reader) => reader.history(key, before, limit).await,
            Reader::Postgres(reader) => reader.history(key, before, limit).await,
        }
    }

    pub(super) async fn deletes(
        &self,
        kind: &str,
        namespace: &str,
        limit: usize,
    ) -> Result<Vec<(String, HistoryRow)>, StoreError> {
        match self {
            Reader::Sqlite(reader) => reader.deletes(kind, namespace, limit).await,
            Reader::Postgres(reader) => reader.deletes(kind, namespace, limit).await,
        }
    }

    /// Waits until this replica's cache shows every write committed (by any replica) before
    /// the call. SQLite's cache always does.
    pub(super) async fn sync(&self, shared: &Shared) -> Result<(), StoreError> {
        if let Reader::Postgres(reader) = self {
            let revision = reader.committed_revision().await?;
            reader.wait_applied(shared, revision).await;
        }
        Ok(())
    }

    /// Waits until this replica's cache shows `revision`: what makes a write readable by its
    /// writer as soon as `commit` returns. SQLite's writer updates the cache itself before it
    /// answers; PostgreSQL's tailer applies every write, local or not, in revision order.
    pub(super) async fn applied(&self, shared: &Shared, revision: Revision) {
        if let Reader::Postgres(reader) = self {
            reader.wait_applied(shared, revision).await;
        }
    }
}

/// What the writer task needs of a backend's write side.
pub(super) trait BatchWriter: Send + 'static {
    /// Commits `ops` in one transaction, each in its own savepoint, and returns each outcome;
    /// `Err` means nothing was committed. The ops are the writer's to take from (they are not
    /// used again): an outcome may own what its op held.
    fn commit_batch(
        &mut self,
        ops: &mut [BatchOp],
        shared: &Shared,
    ) -> impl Future<Output = Result<Vec<Result<Applied, StoreError>>, sqlx::Error>> + Send;

    /// Whether writes can commit now (after a failure).
    fn probe(&mut self) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Makes a committed batch visible to this replica's readers and watchers.
    fn publish(&mut self, outcomes: &[Result<Applied, StoreError>], shared: &Shared);

    /// Closes the write connection.
    fn close(self) -> impl Future<Output = ()> + Send;

    /// Starts the writer task: on the runtime, unless the backend needs a thread of its own.
    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(task);
    }
}

/// SQLite's writer works synchronously, on the writer thread ([`sqlite::spawn`]).
impl BatchWriter for sqlite::Writer {
    fn commit_batch(
        &mut self,
        ops: &mut [BatchOp],
        shared: &Shared,
    ) -> impl Future<Output = Result<Vec<Result<Applied, StoreError>>, sqlx::Error>> + Send {
        std::future::ready(sqlite::Writer::commit_batch(self, ops, shared))
    }

    fn probe(&mut self) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        std::future::ready(sqlite::Writer::probe(self))
    }

    fn publish(&mut self, outcomes: &[Result<Applied, StoreError>], shared: &Shared) {
        shared.publish(outcomes, self.revision(), self.compacted());
    }

    fn close(self) -> impl Future<Output = ()> + Send {
        sqlite::Writer::close(self);
        std::future::ready(())
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        sqlite::spawn(task);
    }
}

/// Whether a database error means the disk (or the database's size limit) is full.
pub(super) fn is_full(error: &sqlx::Error) -> bool {
    sqlite::is_full(error) || postgres::is_full(error)
}
