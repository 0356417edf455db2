//! Revisioned object store, like etcd: objects under one global revision counter, an event log
//! that watches resume from, and allocations committed in the same transaction as their owner.
//! It stores what it is given; whether an object is valid is for the registry to decide.
//!
//! Two backends behind one [`Store`], chosen at start-up (`backend.rs`): SQLite in the data
//! directory (one process, whose writer decides and publishes each batch itself), or a
//! PostgreSQL database shared by several replicas (`postgres.rs`: the database decides every
//! write, and each replica's tailer publishes every replica's writes in revision order).

mod backend;
mod cache;
mod database_url;
mod handoff;
mod page_orders;
mod postgres;
mod rows;
mod sqlite;
mod stripped;

pub use cache::Encoded;
pub use database_url::DatabaseUrl;

use service_plan::json::Pointer as _;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use serde_json::Value;

/// The values taken in one allocation pool: a persistent set, so a snapshot is an O(1) clone.
pub type Taken = imbl::OrdSet<String>;
use tokio::sync::{broadcast, mpsc, oneshot};

/// A point in the store's history: the global counter that every committed write advances by one.
pub type Revision = i64;

/// How many of the newest events [`Store::compact_keeping`] keeps by default.
pub const DEFAULT_KEEP_EVENTS: i64 = 100_000;

/// Most writes committed together in one transaction (one fsync).
const MAX_BATCH_WRITES: usize = 256;
/// Writes that may wait for the writer before `commit` callers wait for room.
const WRITE_QUEUE_LEN: usize = 1024;
/// Committed events kept for live watchers; a watcher further behind re-reads the event log.
const EVENT_BROADCAST_LEN: usize = 4096;
/// How often a writer whose last commit failed tries again while no write arrives.
const WRITE_PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// Events a watch reads from the log per query while catching up.
const WATCH_PAGE_EVENTS: i64 = 1000;

/// Identifies one object: its resource, namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// The resource's plural name, e.g. `"services"`.
    pub kind: String,
    /// The namespace, or `""` for a cluster-scoped object.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl ObjectKey {
    /// Builds a key from its three parts.
    pub fn new(
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// An object as stored, with the revision of its last write.
#[derive(Clone, Debug)]
pub struct StoredObject {
    /// Where the object is stored.
    pub key: ObjectKey,
    /// The uid given by the last write.
    pub uid: String,
    /// The revision of the last write to this object.
    pub revision: Revision,
    /// The object, with `metadata.resourceVersion` set to `revision` as a decimal string.
    pub object: Value,
}

/// A condition on the object's current state that a write needs, checked inside the transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// No condition: a put creates or replaces, a delete needs only the object to exist.
    None,
    /// The key must be free, else [`StoreError::AlreadyExists`].
    MustNotExist,
    /// The object must exist, else [`StoreError::NotFound`].
    MustExist,
    /// The object must exist with exactly this revision, else [`StoreError::Conflict`].
    Revision(Revision),
    /// The object must exist with exactly this uid, else [`StoreError::Conflict`].
    Uid(String),
}

impl Precondition {
    /// Checks the condition against the current (uid, revision) of the object, if any.
    fn check(&self, current: Option<(&str, Revision)>) -> Result<(), StoreError> {
        match (self, current) {
            (Precondition::None, _) => Ok(()),
            (Precondition::MustNotExist, None) => Ok(()),
            (Precondition::MustNotExist, Some(_)) => Err(StoreError::AlreadyExists),
            (_, None) => Err(StoreError::NotFound),
            (Precondition::MustExist, Some(_)) => Ok(()),
            (Precondition::Revision(wanted), Some((_, current))) => {
                if *wanted == current {
                    Ok(())
                } else {
                    Err(StoreError::Conflict { current })
                }
            }
            (Precondition::Uid(wanted), Some((uid, current))) => {
                if wanted == uid {
                    Ok(())
                } else {
                    Err(StoreError::Conflict { current })
                }
            }
        }
    }
}

/// One value taken from a pool, e.g. pool `"node-ports"`, value `"30080"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Allocation {
    /// The pool the value comes from.
    pub pool: String,
    /// The value, unique within its pool.
    pub value: String,
}

impl Allocation {
    /// Builds an allocation from its pool and value.
    pub fn new(pool: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            pool: pool.into(),
            value: value.into(),
        }
    }
}

/// What a write does to its object.
#[derive(Clone, Debug)]
pub enum WriteOp {
    /// Creates or replaces the object.
    Put {
        /// Where to store it.
        key: ObjectKey,
        /// The object's uid, stored beside it.
        uid: String,
        /// The object; it must be a JSON object (its `metadata.resourceVersion` is overwritten).
        object: Value,
        /// What the current state must be.
        precondition: Precondition,
    },
    /// Removes the object and releases every allocation it owns.
    Delete {
        /// The object to delete.
        key: ObjectKey,
        /// What the current state must be.
        precondition: Precondition,
    },
}

impl WriteOp {
    /// The key the operation writes.
    pub fn key(&self) -> &ObjectKey {
        match self {
            WriteOp::Put { key, .. } | WriteOp::Delete { key, .. } => key,
        }
    }

    fn precondition(&self) -> &Precondition {
        match self {
            WriteOp::Put { precondition, .. } | WriteOp::Delete { precondition, .. } => {
                precondition
            }
        }
    }
}

/// One atomic write: an object operation plus the allocations it takes and gives back.
#[derive(Clone, Debug)]
pub struct Write {
    /// The object operation.
    pub op: WriteOp,
    /// Values to take, owned by the written object; any already taken fails the whole write.
    pub allocate: Vec<Allocation>,
    /// Values to give back; only those owned by the written object are released.
    pub release: Vec<Allocation>,
    /// Who wrote and how, when the write is kept in the object's history.
    pub history: Option<HistoryNote>,
    /// Whether readers get the object exactly as stored, when the writer knows: saves decoding
    /// it on its first read ([`Encoded::read_as_is`]).
    pub read_as_is: Option<bool>,
    /// Whether the writer hands the written object to the informers with its event (see
    /// [`handoff`]) instead of back to the caller, whose [`Committed::object`] then holds only
    /// `metadata.resourceVersion`: for a controller's own objects, which it reads next from its
    /// informer. Ignored for the kinds the store indexes (Services), which it reads itself.
    pub hand_over: bool,
}

impl Write {
    /// A write with no allocation changes.
    pub fn new(op: WriteOp) -> Self {
        Self {
            op,
            allocate: Vec::new(),
            release: Vec::new(),
            history: None,
            read_as_is: None,
            hand_over: false,
        }
    }

    /// The same write, kept in its object's history with `note`.
    pub fn with_history(mut self, note: HistoryNote) -> Self {
        self.history = Some(note);
        self
    }
}

/// Who made a write and how, as its history row keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryNote {
    /// create, update, patch, apply or delete.
    pub verb: String,
    /// `status` for a status write, else `""`.
    pub subresource: String,
    /// The user's name; `""` for the server itself (its controllers).
    pub user: String,
    /// The client's User-Agent, `""` when it sent none.
    pub user_agent: String,
    /// The field manager the write was recorded under.
    pub manager: String,
}

/// One kept revision of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    /// The revision the write committed at.
    pub revision: Revision,
    /// The object's uid (a re-created object has a new one).
    pub uid: String,
    /// Who wrote and how.
    pub note: HistoryNote,
    /// When, RFC 3339 in UTC.
    pub written_at: String,
    /// The object as written; for a delete, its last state.
    pub object: String,
}

/// How much history is kept per object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryRetention {
    /// Newest revisions kept.
    pub max_revisions: u32,
    /// Seconds a revision is kept.
    pub max_age_secs: u64,
}

/// Revisions kept per object by default (`--history-max-revisions`).
pub const DEFAULT_HISTORY_REVISIONS: u32 = 50;
/// Days a revision is kept by default (`--history-max-age`).
pub const DEFAULT_HISTORY_DAYS: u32 = 30;
const SECS_PER_DAY: u64 = 24 * 60 * 60;

impl Default for HistoryRetention {
    fn default() -> Self {
        HistoryRetention {
            max_revisions: DEFAULT_HISTORY_REVISIONS,
            max_age_secs: u64::from(DEFAULT_HISTORY_DAYS) * SECS_PER_DAY,
        }
    }
}

impl HistoryRetention {
    /// Keeps `max_revisions` per object for `max_age_days`.
    pub fn new(max_revisions: u32, max_age_days: u32) -> Self {
        HistoryRetention {
            max_revisions: max_revisions.max(1),
            max_age_secs: u64::from(max_age_days) * SECS_PER_DAY,
        }
    }

    /// The oldest `written_at` kept at `now`.
    fn cutoff(&self, now: jiff::Timestamp) -> String {
        let secs = i64::try_from(self.max_age_secs).unwrap_or(i64::MAX);
        let cutoff = now
            .checked_sub(jiff::SignedDuration::from_secs(secs))
            .unwrap_or(jiff::Timestamp::MIN);
        history_time(cutoff)
    }
}

/// A history time: RFC 3339 in UTC at the second.
fn history_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What happened to an object, in the words of a Kubernetes watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// The object was created.
    Added,
    /// The object was replaced.
    Modified,
    /// The object was deleted.
    Deleted,
}

impl EventType {
    /// The watch event type as Kubernetes writes it: `ADDED`, `MODIFIED` or `DELETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "ADDED" => Some(EventType::Added),
            "MODIFIED" => Some(EventType::Modified),
            "DELETED" => Some(EventType::Deleted),
            _ => None,
        }
    }
}

/// One committed write, as the event log and watches carry it.
#[derive(Clone, Debug)]
pub struct Event {
    /// The revision the write committed at.
    pub revision: Revision,
    /// Whether the object was added, modified or deleted.
    pub event_type: EventType,
    /// The written object's key.
    pub key: ObjectKey,
    /// The object after the write; for a delete, its last state. Its
    /// `metadata.resourceVersion` is `revision`. Encoded once and shared: a put's is the
    /// cache's own copy, so events waiting for watchers cost no second copy of the object.
    pub object: Arc<Encoded>,
}

/// A committed write as its writer gets it back: the event, and the object decoded (the
/// writer had the tree in hand, so it costs no decode).
#[derive(Debug)]
pub struct Committed {
    /// The revision the write committed at.
    pub revision: Revision,
    /// Whether the object was added, modified or deleted.
    pub event_type: EventType,
    /// The written object's key.
    pub key: ObjectKey,
    /// The object after the write; for a delete, its last state.
    pub object: Value,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A `MustNotExist` write found the key taken.
    #[error("object already exists")]
    AlreadyExists,
    /// The object a write or precondition needs does not exist.
    #[error("object not found")]
    NotFound,
    /// A `Revision` or `Uid` precondition did not match the object's current state.
    #[error("object has changed: its current revision is {current}")]
    Conflict {
        /// The object's current revision.
        current: Revision,
    },
    /// A value the write allocates is already taken; nothing of the write was stored.
    #[error("value {} of pool {} is already allocated", .0.value, .0.pool)]
    AllocationTaken(Allocation),
    /// A watch asked for events that compaction has removed.
    ///
    /// The text is kube-apiserver's, for the 410 Gone a client then receives.
    #[error("too old resource version: {requested} ({oldest})")]
    Expired {
        /// The revision the watch asked to start after.
        requested: Revision,
        /// The compaction revision: the oldest revision a watch may still start after.
        oldest: Revision,
    },
    /// The store's writer has stopped.
    #[error("store is closed")]
    Closed,
    /// The disk (or the database's size limit) is full: nothing of the write was committed.
    #[error("storage is full")]
    Full,
    /// The database failed; the message is for logs, never for users.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Data the store cannot interpret: a stored row, or an object that is not a JSON object.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

/// The order of a [`Store::list_page`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListOrder {
    /// By (namespace, name), as [`Store::list`] orders.
    #[default]
    Name,
    /// Oldest first by `metadata.creationTimestamp`, then by (namespace, name).
    CreatedAsc,
    /// Newest first: exactly the reverse of [`ListOrder::CreatedAsc`], so that equal creation
    /// times (timestamps have one-second resolution) come in reverse name order.
    CreatedDesc,
}

/// The sort key of one listed object; a page continues after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageCursor {
    /// `metadata.creationTimestamp` as stored (RFC 3339, `""` when missing); ignored when
    /// listing by name.
    pub created_at: String,
    /// The object's namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl PageCursor {
    /// The cursor of a listed object: a page after it starts with the object that follows it.
    pub fn of(object: &StoredObject) -> PageCursor {
        PageCursor {
            created_at: created_at(&object.object).to_owned(),
            namespace: object.key.namespace.clone(),
            name: object.key.name.clone(),
        }
    }
}

/// What a [`Store::list_page`] selects and in which order.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// `None` lists all namespaces.
    pub namespace: Option<String>,
    /// Only names containing this text; `""` selects every name.
    pub name_contains: String,
    /// Only objects whose `spec.type` is this.
    pub spec_type: Option<String>,
    /// The order of the rows.
    pub order: ListOrder,
    /// Continue after this object (exclusive); `None` starts at the beginning.
    pub after: Option<PageCursor>,
    /// At most this many rows.
    pub limit: usize,
}

/// A stream of committed events, in revision order, as [`Store::watch`] returns it.
pub type EventStream = BoxStream<'static, Result<Event, StoreError>>;

/// The revisioned object store; cheap to clone, all clones share one database.
#[derive(Clone)]
pub struct Store {
    reader: backend::Reader,
    requests: mpsc::Sender<Request>,
    shared: Arc<Shared>,
}

/// State the writer task maintains and every clone of the store reads.
struct Shared {
    /// Whether the last commit (or probe) succeeded; false while writes cannot commit.
    writable: AtomicBool,
    /// Whether the database answered the last time it was asked; always true for SQLite, whose
    /// file cannot go away. PostgreSQL's tailer keeps it.
    reachable: AtomicBool,
    /// The revision the cache shows, for writers waiting to read their own write (PostgreSQL,
    /// where the tailer, not the writer, applies writes to the cache).
    applied: tokio::sync::watch::Sender<Revision>,
    /// Bumped when the cache is reloaded from the database instead of advanced by events (a
    /// replica that fell behind the compaction point): a watch that started before ends with
    /// [`StoreError::Expired`], as it cannot be continued without a gap.
    generation: AtomicU64,
    /// Every object, as of `revision`: both change together under this lock.
    objects: RwLock<cache::ObjectCache>,
    /// Snapshots that paged lists continue from.
    snapshots: std::sync::Mutex<cache::Snapshots>,
    /// Set once at shutdown: every watch ends, as kube-apiserver ends them when it stops.
    closing: tokio::sync::watch::Sender<bool>,
    revision: AtomicI64,
    compacted: AtomicI64,
    allocations: RwLock<HashMap<String, Taken>>,
    events: broadcast::Sender<Event>,
    /// How much history the writer keeps per object.
    history: RwLock<HistoryRetention>,
    /// Written objects waiting for the informers.
    handoff: handoff::Handoff,
}

/// The objects of one kind at one revision, as a list reads them.
pub struct ListSnapshot {
    kind: String,
    revision: Revision,
    objects: cache::Objects,
}

impl ListSnapshot {
    /// The revision the snapshot shows.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// Up to `limit` objects in `namespace` (`None`: all) after the exclusive
    /// (namespace, name) `after`, in (namespace, name) order.
    pub fn page(
        &self,
        namespace: Option<&str>,
        after: Option<(&str, &str)>,
        limit: Option<usize>,
    ) -> Result<Vec<StoredObject>, StoreError> {
        self.page_encoded(namespace, after, limit)
            .into_iter()
            .map(|(key, encoded)| encoded.to_stored(key))
            .collect()
    }

    /// [`ListSnapshot::page`], with the objects still encoded: what a reader that forwards
    /// them, or decodes one at a time, takes.
    pub fn page_encoded(
        &self,
        namespace: Option<&str>,
        after: Option<(&str, &str)>,
        limit: Option<usize>,
    ) -> Vec<(ObjectKey, Arc<Encoded>)> {
        cache::page(&self.objects, &self.kind, namespace, after, limit)
    }

    /// How many objects in `namespace` come after `after`: a `remainingItemCount`.
    pub fn count_after(&self, namespace: Option<&str>, after: (&str, &str)) -> usize {
        cache::count_after(&self.objects, namespace, after)
    }
}

/// A request for the writer task.
struct Request {
    op: BatchOp,
    reply: oneshot::Sender<Result<Applied, StoreError>>,
}

/// One item of a group-committed batch.
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every item is a write; boxing it would only add an allocation"
)]
enum BatchOp {
    Write(Write),
    Compact(Revision),
    PruneHistory,
}

/// What one batch item changed, once its savepoint is released.
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every item is a write; boxing it would only add an allocation"
)]
enum Applied {
    Write {
        event: Event,
        /// The object as stored, decoded, for the writer's caller.
        object: Value,
        allocated: Vec<Allocation>,
        released: Vec<Allocation>,
        /// Whether the object is stored after the write (`false`: deleted).
        stored: bool,
    },
    Compacted(Revision),
}

impl Store {
    /// Opens (creating if missing) the SQLite database at `path`, migrates it and starts the writer.
    ///
    /// Must be called inside a tokio runtime; the writer task stops when the last clone is dropped.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Store::open_sqlite_limited(path, None).await
    }

    /// Like [`Store::open_sqlite`], with the database capped at `max_page_count` pages, so that
    /// tests can fill it the way a full disk would.
    pub async fn open_sqlite_limited(
        path: &Path,
        max_page_count: Option<u64>,
    ) -> Result<Store, StoreError> {
        let (writer, reader, state) = sqlite::open(path, max_page_count).await?;
        Ok(Store::start(writer, backend::Reader::Sqlite(reader), state))
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://…`), migrates it, loads its
    /// state and starts the writer and the tailer that follows every replica's writes.
    ///
    /// `pool_size` is the number of read connections; the writer and the notification
    /// listener have one each of their own. Errors never carry the URL or its password.
    pub async fn open_postgres(url: &str, pool_size: u32) -> Result<Store, StoreError> {
        let opened = postgres::open(url, pool_size).await?;
        let store = Store::start(
            opened.writer,
            backend::Reader::Postgres(opened.reader.clone()),
            opened.state,
        );
        postgres::start_tailer(
            opened.reader,
            opened.listener,
            opened.stopped,
            Arc::clone(&store.shared),
        );
        Ok(store)
    }

    /// Opens the store `database` names: PostgreSQL for a `postgres://` URL, else SQLite at
    /// `sqlite_path`.
    pub async fn open(
        database: Option<&DatabaseUrl>,
        pool_size: u32,
        sqlite_path: &Path,
    ) -> Result<Store, StoreError> {
        match database {
            Some(url) => Store::open_postgres(url.expose(), pool_size).await,
            None => Store::open_sqlite(sqlite_path).await,
        }
    }

    /// Whether writes commit: false after a failed commit until one succeeds again (the writer
    /// retries on its own every [`WRITE_PROBE_INTERVAL`]).
    pub fn is_writable(&self) -> bool {
        self.shared.writable.load(Ordering::Acquire)
    }

    /// Whether the database answered this replica's last read of the event log (checked every
    /// second on PostgreSQL; always true on SQLite, whose file cannot go away).
    pub fn is_reachable(&self) -> bool {
        self.shared.reachable.load(Ordering::Acquire)
    }

    fn start<W: backend::BatchWriter>(
        writer: W,
        reader: backend::Reader,
        state: rows::StartState,
    ) -> Store {
        let mut allocations: HashMap<String, Taken> = HashMap::new();
        for allocation in state.allocations {
            allocations
                .entry(allocation.pool)
                .or_default()
                .insert(allocation.value);
        }
        let (events, _) = broadcast::channel(EVENT_BROADCAST_LEN);
        let shared = Arc::new(Shared {
            writable: AtomicBool::new(true),
            reachable: AtomicBool::new(true),
            applied: tokio::sync::watch::Sender::new(state.revision),
            generation: AtomicU64::new(0),
            closing: tokio::sync::watch::Sender::new(false),
            objects: RwLock::new(state.objects),
            snapshots: std::sync::Mutex::default(),
            revision: AtomicI64::new(state.revision),
            compacted: AtomicI64::new(state.compacted),
            allocations: RwLock::new(allocations),
            events,
            history: RwLock::new(HistoryRetention::default()),
            handoff: handoff::Handoff::default(),
        });
        let (requests, queue) = mpsc::channel(WRITE_QUEUE_LEN);
        W::spawn(run_writer(writer, queue, Arc::clone(&shared)));
        Store {
            reader,
            requests,
            shared,
        }
    }

    /// Reads one object, from memory.
    pub async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
        let cached = self.get_encoded(key);
        cached.map(|c| c.to_stored(key.clone())).transpose()
    }

    /// Reads one object, from memory, still encoded.
    pub fn get_encoded(&self, key: &ObjectKey) -> Option<Arc<Encoded>> {
        self.shared.read_objects().get(key)
    }

    /// The objects of `kind` that the cache indexes under `value` (Services by the SLB
    /// instances they use: [`service_plan::slb::instance_index_values`]), from memory, in
    /// (namespace, name) order; an undecodable object is left out.
    pub fn indexed(&self, kind: &str, value: &str) -> Vec<StoredObject> {
        let found = self.shared.read_objects().indexed(kind, value);
        found
            .into_iter()
            .filter_map(|(key, object)| object.to_stored(key).ok())
            .collect()
    }

    /// Lists objects of `kind` ordered by (namespace, name), with the store's revision at the
    /// time, from memory.
    ///
    /// `namespace` `None` lists all namespaces; `after` is an exclusive (namespace, name) to
    /// continue from; `limit` `None` returns all. The revision and the objects are one
    /// snapshot, so a watch from it misses nothing and repeats nothing.
    pub async fn list(
        &self,
        kind: &str,
        namespace: Option<&str>,
        after: Option<(&str, &str)>,
        limit: Option<usize>,
    ) -> Result<(Vec<StoredObject>, Revision), StoreError> {
        let snapshot = self.list_snapshot(kind, None);
        Ok((snapshot.page(namespace, after, limit)?, snapshot.revision))
    }

    /// The objects of `kind` at one revision, for a list that pages through them: the
    /// snapshot a continued list kept at revision `at` when there is one, else the current
    /// state. Taking it costs O(1).
    pub fn list_snapshot(&self, kind: &str, at: Option<Revision>) -> ListSnapshot {
        if let Some(at) = at {
            let kept = self
                .shared
                .snapshots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .find(kind, at);
            if let Some(objects) = kept {
                return ListSnapshot {
                    kind: kind.to_owned(),
                    revision: at,
                    objects,
                };
            }
        }
        let cache = self.shared.read_objects();
        ListSnapshot {
            kind: kind.to_owned(),
            revision: self.current_revision(),
            objects: cache.objects(kind),
        }
    }

    /// Keeps `snapshot` (a bounded number, for a short while) for the pages after the first,
    /// so that they neither show objects written since nor miss objects deleted since, as
    /// etcd's MVCC gives kube-apiserver. Past that, a continued list reads the current state.
    pub fn keep_for_continue(&self, snapshot: &ListSnapshot) {
        self.shared
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keep(&snapshot.kind, snapshot.revision, &snapshot.objects);
    }

    /// Lists up to `query.limit` objects of `kind` that `query` selects, in its order, with the
    /// store's revision at the time. Only Services are paged this way (the console's Services
    /// page); other kinds are an error.
    ///
    /// Each call costs about one page of entries of an in-memory order, however many objects
    /// there are ([`page_orders`]), and paging is by key (continue after a [`PageCursor`]),
    /// never by offset. A name filter is checked while walking the order, so a rare name costs
    /// a walk of the order, not a decode of the objects.
    pub async fn list_page(
        &self,
        kind: &str,
        query: &ListQuery,
    ) -> Result<(Vec<StoredObject>, Revision), StoreError> {
        let (orders, objects, revision) = self.paged(kind).await?;
        let rows = page_orders::page(&orders, &objects, query)
            .into_iter()
            .map(|(key, encoded)| encoded.to_stored(key))
            .collect::<Result<_, _>>()?;
        Ok((rows, revision))
    }

    /// How many objects of `kind` `query` selects after its cursor (its limit aside), counting
    /// no further than `cap` and reading no object: a filtered list's total.
    pub async fn count_page(
        &self,
        kind: &str,
        query: &ListQuery,
        cap: usize,
    ) -> Result<usize, StoreError> {
        let (orders, objects, _) = self.paged(kind).await?;
        Ok(page_orders::count(&orders, &objects, query, cap))
    }

    /// The Services and the orders they are paged in, as this replica's cache holds every
    /// committed write, and the revision they show.
    async fn paged(
        &self,
        kind: &str,
    ) -> Result<(page_orders::Orders, cache::Objects, Revision), StoreError> {
        if kind != page_orders::PAGED_KIND {
            return Err(StoreError::Corrupt(format!(
                "only {} are paged, not {kind}",
                page_orders::PAGED_KIND
            )));
        }
        self.sync().await?;
        let cache = self.shared.read_objects();
        let (orders, objects) = cache.paged();
        // Under the cache's lock, as the writer stores it: the two agree.
        Ok((orders, objects, self.current_revision()))
    }

    /// Counts objects of `kind` in `namespace` (`None`: in all namespaces).
    pub async fn count(&self, kind: &str, namespace: Option<&str>) -> Result<u64, StoreError> {
        let (reader, kind, namespace) = (
            self.reader.clone(),
            kind.to_owned(),
            namespace.map(str::to_owned),
        );
        detached(async move { reader.count(&kind, namespace.as_deref()).await }).await
    }

    /// Waits until this replica's cache shows every write committed before the call, by any
    /// replica: what a consistent read (a GET or list without `resourceVersion`) and a write's
    /// read of the current object need, as kube-apiserver's consistent reads from its watch
    /// cache wait for it to reach etcd's current revision. On SQLite the cache always does.
    pub async fn sync(&self) -> Result<(), StoreError> {
        self.reader.sync(&self.shared).await
    }

    /// Commits one write, group-committed with concurrent ones, and returns its event.
    ///
    /// The write is durable on disk when this returns. A put sets `metadata.resourceVersion` to
    /// the new revision and is `ADDED` for an absent key, `MODIFIED` for a present one. A delete
    /// stores a `DELETED` event whose object is the last state with `metadata.resourceVersion`
    /// set to the new revision, and releases every allocation the object owns. Each of
    /// `allocate` is inserted (a taken one fails the whole write with
    /// [`StoreError::AllocationTaken`]); each of `release` owned by the object is deleted.
    /// Dropping the returned future does not withdraw a write already queued.
    pub async fn commit(&self, write: Write) -> Result<Committed, StoreError> {
        match self.request(BatchOp::Write(write)).await? {
            Applied::Write { event, object, .. } => {
                self.reader.applied(&self.shared, event.revision).await;
                Ok(Committed {
                    revision: event.revision,
                    event_type: event.event_type,
                    key: event.key,
                    object,
                })
            }
            Applied::Compacted(_) => Err(StoreError::Corrupt(
                "writer answered a write with a compaction".to_owned(),
            )),
        }
    }

    /// The object written at `revision` without `metadata.managedFields`, when its write was
    /// handed over (see [`handoff`]). For the informers alone: it is taken once.
    pub fn handed_over(&self, revision: Revision) -> Option<Value> {
        self.shared.handoff.take(revision)
    }

    /// Sets how much history is kept per object, from the next write on.
    pub fn set_history_retention(&self, retention: HistoryRetention) {
        *self
            .shared
            .history
            .write()
            .unwrap_or_else(PoisonError::into_inner) = retention;
    }

    /// The kept revisions of the object at `key`, newest first, at most `limit`, starting
    /// below revision `before` when given.
    pub async fn history(
        &self,
        key: &ObjectKey,
        before: Option<Revision>,
        limit: usize,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let (reader, key) = (self.reader.clone(), key.clone());
        detached(async move { reader.history(&key, before, limit).await }).await
    }

    /// The newest delete rows of `kind` in `namespace`, newest first, at most `limit` (an
    /// object deleted and re-created since is still listed; callers check).
    pub async fn deletes(
        &self,
        kind: &str,
        namespace: &str,
        limit: usize,
    ) -> Result<Vec<(String, HistoryRow)>, StoreError> {
        let (reader, kind, namespace) =
            (self.reader.clone(), kind.to_owned(), namespace.to_owned());
        detached(async move { reader.deletes(&kind, &namespace, limit).await }).await
    }

    /// Removes history rows older than the retention's age, through the time index.
    pub async fn prune_history(&self) -> Result<(), StoreError> {
        self.request(BatchOp::PruneHistory).await.map(|_| ())
    }

    /// The values taken in `pool`, from an in-memory mirror of the allocations table: a
    /// persistent set, so the snapshot costs O(1) however many values are taken.
    pub fn allocated(&self, pool: &str) -> Taken {
        let allocations = self
            .shared
            .allocations
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        allocations.get(pool).cloned().unwrap_or_default()
    }

    /// The revision of the newest committed write (0 for an empty store).
    pub fn current_revision(&self) -> Revision {
        self.shared.revision.load(Ordering::Acquire)
    }

    /// The compaction revision: events at or below it are gone from the log.
    pub fn compacted_revision(&self) -> Revision {
        self.shared.compacted.load(Ordering::Acquire)
    }

    /// Streams the events of `kind` (`None`: all kinds) with revision greater than `from`.
    ///
    /// Events come first from the log, then live as they commit, in revision order without gaps
    /// or repeats. `from` below the compaction revision fails with [`StoreError::Expired`]; so
    /// does a stream whose catching up is overtaken by compaction (as its last item). The stream
    /// ends after a [`StoreError::Closed`] item when the store shuts down.
    pub async fn watch(
        &self,
        kind: Option<&str>,
        from: Revision,
    ) -> Result<EventStream, StoreError> {
        // Subscribing before the first log read is what makes the hand-over gap-free: an event
        // missing from the log read was committed later, so it is published to this receiver.
        let live = self.shared.events.subscribe();
        let oldest = self.compacted_revision();
        if from < oldest {
            return Err(StoreError::Expired {
                requested: from,
                oldest,
            });
        }
        let watch = Watch {
            generation: self.shared.generation.load(Ordering::Acquire),
            shared: Arc::clone(&self.shared),
            reader: self.reader.clone(),
            live,
            kind: kind.map(str::to_owned),
            last: from,
            pending: VecDeque::new(),
            catching_up: true,
            done: false,
        };
        let mut closing = self.shared.closing.subscribe();
        Ok(stream::unfold(watch, |mut watch| async move {
            let item = watch.next().await?;
            Some((item, watch))
        })
        .take_until(async move {
            let _ = closing.wait_for(|closing| *closing).await;
        })
        .boxed())
    }

    /// Ends every watch, now and from now on: the server is shutting down.
    pub fn close_watches(&self) {
        self.shared.closing.send_replace(true);
    }

    /// Deletes the events with revision at most `below` (objects stay) and records the
    /// compaction revision; `below` is capped at the current revision, and compaction never
    /// moves back.
    pub async fn compact(&self, below: Revision) -> Result<(), StoreError> {
        self.request(BatchOp::Compact(below)).await.map(|_| ())
    }

    /// Compacts so that the newest `keep_events` events remain, e.g. [`DEFAULT_KEEP_EVENTS`].
    ///
    /// Every revision has exactly one event, so this compacts below `current - keep_events`.
    pub async fn compact_keeping(&self, keep_events: i64) -> Result<(), StoreError> {
        let below = self.current_revision().saturating_sub(keep_events.max(0));
        if below <= self.compacted_revision() {
            return Ok(());
        }
        self.compact(below).await
    }

    async fn request(&self, op: BatchOp) -> Result<Applied, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { op, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// The writer task: drains queued requests, commits them as one batch, then publishes.
///
/// After a failed commit it marks the store unwritable and, while nothing else arrives,
/// probes every [`WRITE_PROBE_INTERVAL`], so readiness recovers once space is free again.
async fn run_writer(
    mut writer: impl backend::BatchWriter,
    mut queue: mpsc::Receiver<Request>,
    shared: Arc<Shared>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH_WRITES);
    loop {
        let received = if shared.writable.load(Ordering::Acquire) {
            queue.recv_many(&mut batch, MAX_BATCH_WRITES).await
        } else {
            match tokio::time::timeout(
                WRITE_PROBE_INTERVAL,
                queue.recv_many(&mut batch, MAX_BATCH_WRITES),
            )
            .await
            {
                Ok(received) => received,
                Err(_) => {
                    let probed = writer.probe().await;
                    shared.writable.store(probed.is_ok(), Ordering::Release);
                    if probed.is_ok() {
                        tracing::info!("the store accepts writes again");
                    }
                    continue;
                }
            }
        };
        if received == 0 {
            break;
        }
        let (mut ops, replies): (Vec<BatchOp>, Vec<_>) = batch
            .drain(..)
            .map(|request| (request.op, request.reply))
            .unzip();
        match writer.commit_batch(&mut ops, &shared).await {
            Ok(mut outcomes) => {
                shared.writable.store(true, Ordering::Release);
                // Before the events go out, so that the informers find every object.
                shared.handoff.take_over(&ops, &mut outcomes);
                writer.publish(&outcomes, &shared);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The caller may have gone away; its write is committed regardless.
                    let _ = reply.send(outcome.map_err(StoreError::classified));
                }
            }
            Err(error) => {
                shared.writable.store(false, Ordering::Release);
                tracing::error!(error = %error, writes = replies.len(), "group commit failed");
                let full = backend::is_full(&error);
                for reply in replies {
                    let failed = if full {
                        StoreError::Full
                    } else {
                        let failed = format!("group commit failed: {error}");
                        StoreError::Database(sqlx::Error::Protocol(failed))
                    };
                    let _ = reply.send(Err(failed));
                }
            }
        }
    }
    writer.close().await;
}

impl StoreError {
    /// A database error that means the disk is full becomes [`StoreError::Full`].
    fn classified(self) -> StoreError {
        match self {
            StoreError::Database(e) if backend::is_full(&e) => StoreError::Full,
            other => other,
        }
    }
}

impl Shared {
    fn read_objects(&self) -> std::sync::RwLockReadGuard<'_, cache::ObjectCache> {
        self.objects.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Mirrors a committed batch: counters and allocations first, so that a caller that has its
    /// answer sees them, then the events, in revision order.
    fn publish(
        &self,
        outcomes: &[Result<Applied, StoreError>],
        revision: Revision,
        compacted: Revision,
    ) {
        {
            let mut allocations = self
                .allocations
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            for outcome in outcomes {
                if let Ok(Applied::Write {
                    allocated,
                    released,
                    ..
                }) = outcome
                {
                    for allocation in released {
                        if let Some(values) = allocations.get_mut(&allocation.pool) {
                            values.remove(&allocation.value);
                        }
                    }
                    for allocation in allocated {
                        allocations
                            .entry(allocation.pool.clone())
                            .or_default()
                            .insert(allocation.value.clone());
                    }
                }
            }
            allocations.retain(|_, values| !values.is_empty());
        }
        self.compacted.store(compacted, Ordering::Release);
        {
            let mut cache = self.objects.write().unwrap_or_else(PoisonError::into_inner);
            for outcome in outcomes {
                if let Ok(Applied::Write {
                    event,
                    stored,
                    object,
                    ..
                }) = outcome
                {
                    // The tailer's writes come without the decoded object (`Null`).
                    let decoded = Some(object).filter(|o| !o.is_null());
                    cache.apply(
                        &event.key,
                        stored.then(|| Arc::clone(&event.object)),
                        decoded,
                    );
                }
            }
            // Under the cache's lock: a reader's snapshot and revision always agree.
            self.revision.store(revision, Ordering::Release);
        }
        for outcome in outcomes {
            if let Ok(Applied::Write { event, .. }) = outcome {
                // No receivers is fine: nobody is watching.
                let _ = self.events.send(event.clone());
            }
        }
    }
}

/// The state of one watch stream.
struct Watch {
    reader: backend::Reader,
    shared: Arc<Shared>,
    /// The store's generation when the watch started (see [`Shared::generation`]).
    generation: u64,
    live: broadcast::Receiver<Event>,
    kind: Option<String>,
    /// The revision of the last event delivered (or the watch's start).
    last: Revision,
    pending: VecDeque<Event>,
    /// True while reading the log; false while following the broadcast.
    catching_up: bool,
    done: bool,
}

/// Runs a read on its own task. A caller dropped mid-read (a closed watch, an abandoned
/// request) would otherwise cancel a query halfway through and could strand its pooled
/// connection; on its own task the read finishes and gives the connection back.
async fn detached<T: Send + 'static>(
    read: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::spawn(read)
        .await
        .map_err(|e| StoreError::Corrupt(format!("read task failed: {e}")))?
}

impl Watch {
    async fn next(&mut self) -> Option<Result<Event, StoreError>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                self.last = event.revision;
                return Some(Ok(event));
            }
            if self.catching_up {
                let (reader, kind, after) = (self.reader.clone(), self.kind.clone(), self.last);
                match detached(async move {
                    reader
                        .events_after(kind.as_deref(), after, WATCH_PAGE_EVENTS)
                        .await
                })
                .await
                {
                    Ok(page) => {
                        let full = page.len() as i64 >= WATCH_PAGE_EVENTS;
                        self.pending.extend(page);
                        // A short page means the log is read up to some commit after the
                        // subscription; everything newer is in the broadcast.
                        self.catching_up = full;
                    }
                    Err(error) => {
                        self.done = true;
                        return Some(Err(error));
                    }
                }
                continue;
            }
            match self.live.recv().await {
                Ok(_) if self.shared.generation.load(Ordering::Acquire) != self.generation => {
                    self.done = true;
                    return Some(Err(StoreError::Expired {
                        requested: self.last,
                        oldest: self.shared.compacted.load(Ordering::Acquire),
                    }));
                }
                Ok(event) => {
                    let wanted = self
                        .kind
                        .as_deref()
                        .is_none_or(|kind| event.key.kind == kind);
                    if event.revision > self.last && wanted {
                        self.pending.push_back(event);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(
                        missed,
                        after = self.last,
                        "watch lagged; re-reading the event log"
                    );
                    self.catching_up = true;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    self.done = true;
                    return Some(Err(StoreError::Closed));
                }
            }
        }
    }
}

/// `metadata.creationTimestamp` of an object, as the `created_at` column stores it.
fn created_at(object: &Value) -> &str {
    object
        .at("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `spec.type` of an object, as the `spec_type` column stores it.
fn spec_type(object: &Value) -> &str {
    object
        .at("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Sets `metadata.resourceVersion` of a JSON object to `revision`.
fn with_resource_version(mut object: Value, revision: Revision) -> Result<Value, StoreError> {
    let Some(fields) = object.as_object_mut() else {
        return Err(StoreError::Corrupt(
            "object is not a JSON object".to_owned(),
        ));
    };
    let metadata = fields
        .entry("metadata")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return Err(StoreError::Corrupt(
            "metadata is not a JSON object".to_owned(),
        ));
    };
    metadata.insert(
        "resourceVersion".to_owned(),
        Value::String(revision.to_string()),
    );
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_precondition_on_other_revision_is_conflict() {
        let result = Precondition::Revision(3).check(Some(("u", 4)));
        assert!(matches!(result, Err(StoreError::Conflict { current: 4 })));
    }

    #[test]
    fn uid_precondition_on_missing_object_is_not_found() {
        let result = Precondition::Uid("u".to_owned()).check(None);
        assert!(matches!(result, Err(StoreError::NotFound)));
    }

    #[test]
    fn history_cutoff_is_the_retention_age_before_now() {
        let now: jiff::Timestamp = "2026-12-05T06:07:08.9Z".parse().expect("timestamp");
        assert_eq!(
            HistoryRetention::new(50, 30).cutoff(now),
            "2026-11-05T06:07:08Z"
        );
        assert_eq!(HistoryRetention::new(0, 1).max_revisions, 1);
    }

    #[test]
    fn resource_version_is_added_to_missing_metadata() {
        let object = with_resource_version(serde_json::json!({"kind": "Service"}), 7);
        assert_eq!(
            object.ok(),
            Some(serde_json::json!({"kind": "Service", "metadata": {"resourceVersion": "7"}}))
        );
    }
}
