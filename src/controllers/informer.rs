//! Shared informers, as client-go's: one in-memory cache per resource with named indexes,
//! fed by one list of each resource and then one watch of the store from that revision
//! (re-listing when the watch expires), and telling subscribers what changed. Controllers read
//! only these caches.
//!
//! Lean by design: each object is the store's own encoded copy (an `Arc` of the text the
//! store caches and its events carry), so an informer adds only its keys and index values, not
//! a second copy of every object. A `serde_json::Value` tree (an `IndexMap` per object with
//! `preserve_order`) costs 8–12 KB for a 1.5 KB Service; the shared text costs nothing more.
//! Readers get `Arc<Value>`s decoded on access (an event's own decode is kept for a while in a
//! small bounded table, for the reconcile it starts), without `metadata.managedFields` (no
//! controller reads them, as client-go's informers with a stripping transform), so a
//! reconcile reads what it needs and hot paths that only need keys ([`Informer::keys`],
//! [`Informer::index_keys`], [`Informer::keys_covered_by`]) decode nothing.
//! An informer may also keep a small typed projection of each object, built once per stored
//! version (the pods' [`endpoints::endpoints_view`]), for readers that would otherwise decode
//! the same objects on every reconcile.

use service_plan::json::Pointer as _;
use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde::Deserialize;
use serde_json::Value;
use service_plan::endpoints::{
    self, ENDPOINTSLICE_CONTROLLER, LABEL_MANAGED_BY, LABEL_SERVICE_NAME,
};
use service_plan::slb::events::TAG_KEY_SERVICE;
use service_plan::slb::{self, ClusterNode};
use service_plan::traffic::string_map;
use tokio::sync::{mpsc, watch};

use super::{labels_of, str_at};
use crate::registry::{Encoded, Event, EventType, Revision, StoreError};
use crate::registry::{
    LOAD_BALANCERS, REPLICA_SETS, ReadObject, Registry, RegistryError, cluster_node,
};

/// How many notifications wait for a slow subscriber before the informer waits for it. Each
/// holds decoded objects (shared by the subscribers), so this bounds their memory too; the
/// subscribers only turn notifications into queue keys, so a short buffer rarely fills.
pub const NOTIFICATION_BUFFER_LEN: usize = 256;
/// How long a reconcile waits for the caches to show its own writes.
pub const CATCH_UP_TIMEOUT_MS: u64 = 10_000;
/// Objects decoded at a time while (re-)listing: a list never holds a whole resource as
/// `Value` trees, only one page of them.
pub const LIST_PAGE_LEN: usize = 500;
/// Slots of an informer's [`Recent`] decodes.
const RECENT_SLOTS: usize = 256;
/// How long the informers wait before listing again after a storage failure.
const RETRY_AFTER_FAILURE_MS: u64 = 500;

/// Every informer's index of objects by namespace.
pub const BY_NAMESPACE: &str = "namespace";
/// Pods by each `namespace/key=value` of their labels.
pub const PODS_BY_LABEL: &str = "label";
/// Pods by `spec.nodeName` (`""`: unscheduled).
pub const PODS_BY_NODE: &str = "node";
/// Pods by their controller, as [`owner_value`] names it (a ReplicaSet, or a Deployment that
/// controlled pods directly before ReplicaSets were served).
pub const PODS_BY_OWNER: &str = "owner";
/// ReplicaSets by their controller, as [`owner_value`] names it.
pub const REPLICA_SETS_BY_OWNER: &str = "owner";
/// ReplicaSets (or Pods) no controller owns, by namespace: what a Deployment (a ReplicaSet)
/// may adopt.
pub const ORPHANS: &str = "orphans";
/// Pods by `status.podIP`.
pub const PODS_BY_IP: &str = "ip";
/// Services by each `namespace/key=value` of their selector.
pub const SERVICES_BY_SELECTOR: &str = "selector";
/// Services by the SLB instance id they name (annotation or CCM's label).
pub const SERVICES_BY_LOAD_BALANCER: &str = "load-balancer";
/// Services by `spec.type`.
pub const SERVICES_BY_TYPE: &str = "type";
/// The EndpointSlices the endpointslice controller manages, by the `namespace/name` of their
/// Service.
pub const MANAGED_SLICES_BY_SERVICE: &str = "service";
/// SLB instances by the Service name CCM tagged them with.
pub const INSTANCES_BY_OWNER: &str = "owner";
/// SLB instances by instance name.
pub const INSTANCES_BY_NAME: &str = "name";

/// Computes the values an object is indexed under.
pub type IndexFn = fn(&Value) -> Vec<String>;

/// A typed part of an object an informer keeps next to its text, built once per stored
/// version, so that a hot reader takes it without decoding (a Service's reconcile reads its
/// pods' [`endpoints::endpoints_view`]).
pub type Projection = Arc<dyn Any + Send + Sync>;

/// Builds an object's [`Projection`]; `None` when the object has none.
pub type ProjectFn = fn(&Value) -> Option<Projection>;

/// Where an object lives: its namespace (`""` when cluster-scoped) and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The namespace, `""` for a cluster-scoped object.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

impl Key {
    /// A key from its parts.
    pub fn new(namespace: &str, name: &str) -> Key {
        Key {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The key of an object, from its metadata.
    pub fn of(object: &Value) -> Key {
        Key::new(
            str_at(object, "/metadata/namespace"),
            str_at(object, "/metadata/name"),
        )
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// What an informer tells its subscribers.
#[derive(Debug, Clone)]
pub enum Notification {
    Added(Arc<Value>),
    Updated {
        old: Arc<Value>,
        new: Arc<Value>,
    },
    Deleted(Arc<Value>),
    /// The cache was (re)listed: whatever a subscriber derives from it may be stale.
    Resynced,
}

impl Notification {
    /// The objects the notification is about: the old and the new state, as present.
    pub fn objects(&self) -> impl Iterator<Item = &Arc<Value>> {
        let (a, b) = match self {
            Notification::Added(o) | Notification::Deleted(o) => (Some(o), None),
            Notification::Updated { old, new } => (Some(old), Some(new)),
            Notification::Resynced => (None, None),
        };
        a.into_iter().chain(b)
    }
}

/// One resource's cache and its indexes.
pub struct Informer {
    resource: &'static str,
    indexers: &'static [(&'static str, IndexFn)],
    cache: RwLock<Cache>,
    /// Events at or below this revision are already in the last list.
    listed: AtomicI64,
    subscribers: Mutex<Vec<mpsc::Sender<Notification>>>,
    recent: Recent,
    project: Option<ProjectFn>,
}

/// The objects this informer decoded last, so that the reconcile an event starts reads the
/// object the event decoded instead of decoding it again. A direct-mapped table of a few
/// hundred slots (by key hash): bounded memory, and a slot serves only while it holds the
/// cached text itself (the same `Arc`), so it can never answer with another revision.
struct Recent {
    slots: Box<[Mutex<Option<Decoded>>]>,
}

/// A cached text and its decode.
type Decoded = (Arc<Encoded>, Arc<Value>);

impl Recent {
    fn new() -> Recent {
        Recent {
            slots: (0..RECENT_SLOTS).map(|_| Mutex::new(None)).collect(),
        }
    }

    fn slot(&self, key: &Key) -> std::sync::MutexGuard<'_, Option<Decoded>> {
        use std::hash::{Hash as _, Hasher as _};
        let mut hasher = std::hash::DefaultHasher::new();
        key.hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % self.slots.len() as u64).unwrap_or(0);
        self.slots[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The decoded object of `text`, if it is the one held for `key`.
    fn get(&self, key: &Key, text: &Arc<Encoded>) -> Option<Arc<Value>> {
        match &*self.slot(key) {
            Some((held, object)) if Arc::ptr_eq(held, text) => Some(Arc::clone(object)),
            _ => None,
        }
    }

    fn put(&self, key: &Key, text: Arc<Encoded>, object: Arc<Value>) {
        *self.slot(key) = Some((text, object));
    }
}

/// One cached object.
struct Entry {
    /// The object as the store encoded it (shared with the store's cache and its events).
    text: Arc<Encoded>,
    /// How many values the object has in each of the informer's indexers, in their order
    /// (what [`Informer::keys_covered_by`] compares with).
    counts: Box<[u32]>,
    /// What the informer's [`ProjectFn`] made of this version.
    projection: Option<Projection>,
}

/// The objects by key and the indexes; every index shares the object's `Arc<Key>`.
#[derive(Default)]
struct Cache {
    objects: HashMap<Arc<Key>, Entry>,
    indices: HashMap<&'static str, HashMap<String, HashSet<Arc<Key>>>>,
}

/// An object ready to cache: its text and its index values, computed before the cache is locked.
struct Prepared {
    key: Key,
    text: Arc<Encoded>,
    values: Vec<(&'static str, Vec<String>)>,
    projection: Option<Projection>,
}

/// Decodes a cached object, without its managedFields. The text is `serde_json`'s own output,
/// so this does not fail; if it ever did, the object would read as absent rather than as
/// something else.
fn decode(text: &Encoded) -> Option<Value> {
    match text.decode_without_managed_fields() {
        Ok(object) => Some(object),
        Err(e) => {
            tracing::error!(error = %e, "informer: a cached object does not decode");
            None
        }
    }
}

fn decode_all(texts: Vec<Arc<Encoded>>) -> Vec<Arc<Value>> {
    texts
        .iter()
        .filter_map(|t| decode(t).map(Arc::new))
        .collect()
}

impl Entry {
    fn text(&self) -> Option<Arc<Encoded>> {
        Some(Arc::clone(&self.text))
    }

    fn projection<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(self.projection.as_ref()?).downcast::<T>().ok()
    }
}

impl Cache {
    fn take<R>(&self, keys: Vec<&Arc<Key>>, part: impl Fn(&Entry) -> Option<R>) -> Vec<R> {
        keys.into_iter()
            .filter_map(|k| self.objects.get(k).and_then(&part))
            .collect()
    }
}

fn by_namespace(object: &Value) -> Vec<String> {
    vec![str_at(object, "/metadata/namespace").to_string()]
}

impl Informer {
    /// An empty informer of `resource` with `indexers` (plus [`BY_NAMESPACE`]).
    pub fn new(resource: &'static str, indexers: &'static [(&'static str, IndexFn)]) -> Informer {
        Informer {
            resource,
            indexers,
            cache: RwLock::new(Cache::default()),
            listed: AtomicI64::new(0),
            subscribers: Mutex::new(Vec::new()),
            recent: Recent::new(),
            project: None,
        }
    }

    /// The same informer, keeping each object's [`Projection`] by `project`.
    pub fn projecting(self, project: ProjectFn) -> Informer {
        Informer {
            project: Some(project),
            ..self
        }
    }

    /// The resource it caches.
    pub fn resource(&self) -> &'static str {
        self.resource
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.cache.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver of every later notification; subscribe before the informers run to get
    /// the first [`Notification::Resynced`].
    pub fn subscribe(&self) -> mpsc::Receiver<Notification> {
        let (tx, rx) = mpsc::channel(NOTIFICATION_BUFFER_LEN);
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }

    /// Notifications handed to subscribers and not yet received.
    pub fn backlog(&self) -> usize {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|tx| tx.max_capacity() - tx.capacity())
            .sum()
    }

    /// One cached object, decoded.
    pub fn get(&self, key: &Key) -> Option<Arc<Value>> {
        let text = Arc::clone(&self.read().objects.get(key)?.text);
        if let Some(object) = self.recent.get(key, &text) {
            return Some(object);
        }
        let object = Arc::new(decode(&text)?);
        self.recent.put(key, text, Arc::clone(&object));
        Some(object)
    }

    /// Whether an object is cached at `key` (decodes nothing).
    pub fn contains(&self, key: &Key) -> bool {
        self.read().objects.contains_key(key)
    }

    /// Every cached object, ordered by key (for resyncs only: it decodes the whole cache).
    pub fn list(&self) -> Vec<Arc<Value>> {
        decode_all(self.texts_by_key())
    }

    fn texts_by_key(&self) -> Vec<Arc<Encoded>> {
        self.take_by_key(Entry::text)
    }

    /// Every cached object's [`Projection`] as `T`, ordered by key (decodes nothing); objects
    /// without one of type `T` are left out.
    pub fn list_projected<T: Any + Send + Sync>(&self) -> Vec<Arc<T>> {
        self.take_by_key(Entry::projection::<T>)
    }

    fn take_by_key<R>(&self, part: impl Fn(&Entry) -> Option<R>) -> Vec<R> {
        let cache = self.read();
        let mut keys: Vec<&Arc<Key>> = cache.objects.keys().collect();
        keys.sort();
        cache.take(keys, part)
    }

    /// Every cached object's key, ordered (decodes nothing).
    pub fn keys(&self) -> Vec<Key> {
        let mut keys: Vec<Key> = self.read().objects.keys().map(|k| Key::clone(k)).collect();
        keys.sort();
        keys
    }

    /// How many objects are cached.
    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys indexed under `value` of index `index`, ordered.
    pub fn index_keys(&self, index: &str, value: &str) -> Vec<Key> {
        let cache = self.read();
        let mut keys: Vec<Key> = cache
            .indices
            .get(index)
            .and_then(|i| i.get(value))
            .map(|set| set.iter().map(|k| Key::clone(k)).collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    /// The objects indexed under `value` of index `index`, ordered by key, decoded.
    pub fn by_index(&self, index: &str, value: &str) -> Vec<Arc<Value>> {
        let texts = {
            let cache = self.read();
            let Some(set) = cache.indices.get(index).and_then(|i| i.get(value)) else {
                return Vec::new();
            };
            let mut keys: Vec<&Arc<Key>> = set.iter().collect();
            keys.sort();
            cache.take(keys, Entry::text)
        };
        decode_all(texts)
    }

    /// Whether the object at `key` is indexed under `value` of index `index`.
    pub fn in_index(&self, index: &str, value: &str, key: &Key) -> bool {
        self.read()
            .indices
            .get(index)
            .and_then(|i| i.get(value))
            .is_some_and(|set| set.contains(key))
    }

    /// The keys of the objects that have at least one value in index `index` and all of them
    /// among `values`, ordered: the Services whose selector a pod's labels satisfy, read from
    /// the index alone (nothing is decoded, however many Services share a label).
    pub fn keys_covered_by(&self, index: &str, values: &[String]) -> Vec<Key> {
        let Some(slot) = self.indexers.iter().position(|(name, _)| *name == index) else {
            return Vec::new();
        };
        let mut values: Vec<&String> = values.iter().collect();
        values.sort();
        values.dedup();
        let cache = self.read();
        let Some(idx) = cache.indices.get(index) else {
            return Vec::new();
        };
        let mut hits: HashMap<&Arc<Key>, u32> = HashMap::new();
        for set in values.into_iter().filter_map(|v| idx.get(v)) {
            for key in set {
                *hits.entry(key).or_default() += 1;
            }
        }
        let mut keys: Vec<Key> = hits
            .into_iter()
            .filter(|(key, n)| {
                cache
                    .objects
                    .get(*key)
                    .is_some_and(|e| e.counts.get(slot) == Some(n))
            })
            .map(|(key, _)| Key::clone(key))
            .collect();
        keys.sort();
        keys
    }

    /// How many objects are indexed under `value` of index `index`.
    pub fn index_len(&self, index: &str, value: &str) -> usize {
        self.read()
            .indices
            .get(index)
            .and_then(|i| i.get(value))
            .map_or(0, HashSet::len)
    }

    /// Whether some object indexed under `value` of index `index` passes `keep`.
    pub fn index_any(&self, index: &str, value: &str, keep: impl Fn(&Key) -> bool) -> bool {
        self.read()
            .indices
            .get(index)
            .and_then(|i| i.get(value))
            .is_some_and(|set| set.iter().any(|k| keep(k)))
    }

    /// The objects of `namespace` whose `multi`-valued index holds every one of `values`:
    /// reads the smallest of the sets, so a selector costs what it selects, not the namespace.
    pub fn by_all(&self, index: &str, values: &[String]) -> Vec<Arc<Value>> {
        decode_all(self.all_texts(index, values))
    }

    /// The [`Projection`]s of [`Informer::by_all`]'s objects, as `T` (decodes nothing);
    /// objects without one of type `T` are left out.
    pub fn by_all_projected<T: Any + Send + Sync>(
        &self,
        index: &str,
        values: &[String],
    ) -> Vec<Arc<T>> {
        self.all_entries(index, values, Entry::projection::<T>)
    }

    fn all_texts(&self, index: &str, values: &[String]) -> Vec<Arc<Encoded>> {
        self.all_entries(index, values, Entry::text)
    }

    fn all_entries<R>(
        &self,
        index: &str,
        values: &[String],
        part: impl Fn(&Entry) -> Option<R>,
    ) -> Vec<R> {
        let cache = self.read();
        let Some(idx) = cache.indices.get(index) else {
            return Vec::new();
        };
        let mut sets = Vec::with_capacity(values.len());
        for v in values {
            match idx.get(v) {
                Some(set) => sets.push(set),
                None => return Vec::new(),
            }
        }
        sets.sort_by_key(|s| s.len());
        let Some((first, rest)) = sets.split_first() else {
            return Vec::new();
        };
        let mut keys: Vec<&Arc<Key>> = first
            .iter()
            .filter(|k| rest.iter().all(|s| s.contains(*k)))
            .collect();
        keys.sort();
        cache.take(keys, part)
    }

    /// The values `object` is indexed under, per index, each list sorted and without repeats.
    fn index_values(&self, object: &Value) -> Vec<(&'static str, Vec<String>)> {
        std::iter::once((BY_NAMESPACE, by_namespace(object)))
            .chain(self.indexers.iter().map(|(name, f)| (*name, f(object))))
            .map(|(name, mut vs)| {
                vs.sort();
                vs.dedup();
                (name, vs)
            })
            .collect()
    }

    /// Readies an object to cache: its stored text, and its index values and projection,
    /// computed from the decoded tree.
    fn prepare(&self, text: Arc<Encoded>, object: &Value) -> Prepared {
        Prepared {
            key: Key::of(object),
            text,
            values: self.index_values(object),
            projection: self.project.and_then(|project| project(object)),
        }
    }

    fn unindex(cache: &mut Cache, values: Vec<(&'static str, Vec<String>)>, key: &Key) {
        for (name, vs) in values {
            let Some(index) = cache.indices.get_mut(name) else {
                continue;
            };
            for v in vs {
                if let Some(set) = index.get_mut(&v) {
                    set.remove(key);
                    if set.is_empty() {
                        index.remove(&v);
                    }
                }
            }
        }
    }

    /// Caches a prepared object; returns the state it replaced, decoded.
    fn put(&self, cache: &mut Cache, prepared: Prepared) -> Option<Value> {
        let Prepared {
            key,
            text,
            values,
            projection,
        } = prepared;
        let old = self.remove(cache, &key);
        let key = Arc::new(key);
        let counts = values
            .iter()
            .skip(1)
            .map(|(_, vs)| u32::try_from(vs.len()).unwrap_or(u32::MAX))
            .collect();
        for (name, vs) in values {
            let index = cache.indices.entry(name).or_default();
            for v in vs {
                index.entry(v).or_default().insert(Arc::clone(&key));
            }
        }
        cache.objects.insert(
            key,
            Entry {
                text,
                counts,
                projection,
            },
        );
        old
    }

    /// Drops an object and its index entries; returns its last state, decoded.
    fn remove(&self, cache: &mut Cache, key: &Key) -> Option<Value> {
        let (key, entry) = cache.objects.remove_entry(key)?;
        let Some(old) = decode(&entry.text) else {
            // Without the old values, find the key wherever it is indexed.
            for index in cache.indices.values_mut() {
                index.retain(|_, set| {
                    set.remove(&*key);
                    !set.is_empty()
                });
            }
            return None;
        };
        Self::unindex(cache, self.index_values(&old), &key);
        Some(old)
    }

    /// Replaces the cache with a list read at `revision`; returns a `Deleted` for every object
    /// that is gone, then [`Notification::Resynced`].
    #[cfg(test)]
    fn replace(&self, items: Vec<Value>, revision: Revision) -> Vec<Notification> {
        let mut fresh = Cache::default();
        for item in items {
            let text = Arc::new(Encoded::new("", revision, &item.to_string()));
            let prepared = self.prepare(text, &item);
            self.put(&mut fresh, prepared);
        }
        self.swap_in(fresh, revision)
    }

    /// Lists the resource from one store snapshot, a page at a time, into a fresh cache.
    fn list_into(&self, registry: &Registry) -> Result<(Cache, Revision), RegistryError> {
        let snapshot = registry.snapshot(self.resource);
        let mut fresh = Cache::default();
        let mut after: Option<(String, String)> = None;
        loop {
            let rows = snapshot.page_encoded(
                None,
                after
                    .as_ref()
                    .map(|(ns, name)| (ns.as_str(), name.as_str())),
                Some(LIST_PAGE_LEN),
            );
            let full = rows.len() >= LIST_PAGE_LEN;
            for (key, text) in rows {
                after = Some((key.namespace, key.name));
                let text = as_read(registry, self.resource, text)?;
                let Some(object) = decode(&text) else {
                    continue;
                };
                let prepared = self.prepare(text, &object);
                self.put(&mut fresh, prepared);
            }
            if !full {
                return Ok((fresh, snapshot.revision()));
            }
        }
    }

    /// Replaces the cache with `fresh`, listed at `revision`; returns a `Deleted` for every
    /// object that is gone, then [`Notification::Resynced`].
    fn swap_in(&self, fresh: Cache, revision: Revision) -> Vec<Notification> {
        let mut cache = self.write();
        let mut out: Vec<Notification> = cache
            .objects
            .iter()
            .filter(|(k, _)| !fresh.objects.contains_key(*k))
            .filter_map(|(_, e)| decode(&e.text))
            .map(|o| Notification::Deleted(Arc::new(o)))
            .collect();
        *cache = fresh;
        self.listed.store(revision, Ordering::Release);
        out.push(Notification::Resynced);
        out
    }

    /// Applies one watch event (decorated); `None` when the list already held it. In the
    /// server only [`Informers::run`] calls it; benches and tests feed events directly.
    pub fn apply(&self, event: Event) -> Option<Notification> {
        self.apply_decoded(event, None)
    }

    /// [`Informer::apply`], with the event's object already decoded when the caller has it
    /// (a controller's own write, as the writer handed it over: [`Registry::handed_over`]).
    fn apply_decoded(&self, event: Event, decoded: Option<Value>) -> Option<Notification> {
        if event.revision <= self.listed.load(Ordering::Acquire) {
            return None;
        }
        match event.event_type {
            EventType::Deleted => {
                let key = Key::new(&event.key.namespace, &event.key.name);
                let old = self.remove(&mut self.write(), &key);
                let old = old.or_else(|| decode(&event.object))?;
                Some(Notification::Deleted(Arc::new(old)))
            }
            EventType::Added | EventType::Modified => {
                let object = decoded.or_else(|| decode(&event.object))?;
                let prepared = self.prepare(Arc::clone(&event.object), &object);
                let new = Arc::new(object);
                self.recent
                    .put(&prepared.key, event.object, Arc::clone(&new));
                Some(match self.put(&mut self.write(), prepared) {
                    Some(old) => Notification::Updated {
                        old: Arc::new(old),
                        new,
                    },
                    None => Notification::Added(new),
                })
            }
        }
    }

    /// Hands a notification to every subscriber, waiting for room (never dropping one).
    async fn notify(&self, notification: Notification) {
        let subscribers: Vec<mpsc::Sender<Notification>> = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut closed = false;
        for tx in subscribers {
            closed |= tx.send(notification.clone()).await.is_err();
        }
        if closed {
            self.subscribers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|tx| !tx.is_closed());
        }
    }
}

/// Pods by each label, namespaced: `namespace/key=value`.
pub fn pods_by_label(pod: &Value) -> Vec<String> {
    let ns = str_at(pod, "/metadata/namespace");
    labels_of(pod)
        .iter()
        .map(|(k, v)| label_term(ns, k, v))
        .collect()
}

/// The index value of one label (or selector) term in a namespace.
pub fn label_term(namespace: &str, key: &str, value: &str) -> String {
    format!("{namespace}/{key}={value}")
}

fn pods_by_node(pod: &Value) -> Vec<String> {
    vec![str_at(pod, "/spec/nodeName").to_string()]
}

fn pods_by_ip(pod: &Value) -> Vec<String> {
    let ip = str_at(pod, "/status/podIP");
    if ip.is_empty() {
        Vec::new()
    } else {
        vec![ip.to_string()]
    }
}

/// The controller of an object (its owner reference with `controller: true`), as its kind
/// and key in the object's namespace.
pub fn controller_of(object: &Value) -> Option<(&str, Key)> {
    let owner = object
        .at("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller") == Some(&Value::Bool(true)))?;
    Some((
        owner.get("kind").and_then(Value::as_str).unwrap_or(""),
        Key::new(
            str_at(object, "/metadata/namespace"),
            str_at(owner, "/name"),
        ),
    ))
}

/// The key of the `kind` controlling an object, if one does.
pub fn controlled_by(object: &Value, kind: &str) -> Option<Key> {
    controller_of(object).and_then(|(k, key)| (k == kind).then_some(key))
}

/// The value an owner index holds for objects controlled by `kind` at `key`.
pub fn owner_value(kind: &str, key: &Key) -> String {
    format!("{kind}/{key}")
}

fn by_owner(object: &Value) -> Vec<String> {
    controller_of(object)
        .map(|(kind, key)| owner_value(kind, &key))
        .into_iter()
        .collect()
}

/// A Service's `spec.selector` as a map.
pub fn selector_of(svc: &Value) -> BTreeMap<String, String> {
    string_map(svc.at("/spec/selector"))
}

fn services_by_selector(svc: &Value) -> Vec<String> {
    let ns = str_at(svc, "/metadata/namespace");
    selector_of(svc)
        .iter()
        .map(|(k, v)| label_term(ns, k, v))
        .collect()
}

/// A node as the controllers read it, the nodes informer's projection: the SLB planner's
/// [`ClusterNode`] and the pod subnet the node was given (`spec.podCIDR`), so that a
/// reconcile that reads every node (an SLB plan, a ReplicaSet's placement) decodes none.
#[derive(Debug)]
pub struct NodeView {
    pub node: ClusterNode,
    pub pod_cidr: String,
}

impl NodeView {
    /// The view of a node; `None` when it does not decode as one.
    pub fn of(node: &Value) -> Option<NodeView> {
        let typed = Node::deserialize(node).ok()?;
        let pod_cidr = typed
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidr.clone())
            .unwrap_or_default();
        Some(NodeView {
            node: cluster_node(&typed),
            pod_cidr,
        })
    }
}

fn node_view(node: &Value) -> Option<Projection> {
    Some(Arc::new(NodeView::of(node)?))
}

/// A pod's [`endpoints::endpoints_view`], the pods informer's projection.
fn pod_endpoints_view(pod: &Value) -> Option<Projection> {
    let view = endpoints::endpoints_view(pod).ok()?;
    Some(Arc::new(view))
}

fn services_by_type(svc: &Value) -> Vec<String> {
    vec![str_at(svc, "/spec/type").to_string()]
}

fn managed_slices_by_service(slice: &Value) -> Vec<String> {
    let labels = labels_of(slice);
    if labels.get(LABEL_MANAGED_BY).map(String::as_str) != Some(ENDPOINTSLICE_CONTROLLER) {
        return Vec::new();
    }
    labels
        .get(LABEL_SERVICE_NAME)
        .map(|name| Key::new(str_at(slice, "/metadata/namespace"), name).to_string())
        .into_iter()
        .collect()
}

fn instances_by_owner(instance: &Value) -> Vec<String> {
    instance
        .at("/spec/tags")
        .and_then(|t| t.get(TAG_KEY_SERVICE))
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect()
}

fn instances_by_name(instance: &Value) -> Vec<String> {
    vec![str_at(instance, "/spec/name").to_string()]
}

/// The informers the controllers share, fed by one watch of the store.
pub struct Informers {
    /// Services, decorated with their read-time defaults.
    pub services: Informer,
    /// Pods.
    pub pods: Informer,
    /// Nodes.
    pub nodes: Informer,
    /// Endpoints.
    pub endpoints: Informer,
    /// EndpointSlices.
    pub endpoint_slices: Informer,
    /// Deployments.
    pub deployments: Informer,
    /// ReplicaSets.
    pub replica_sets: Informer,
    /// Simulated SLB instances.
    pub load_balancers: Informer,
    /// The newest store revision every cache reflects.
    revision: watch::Sender<Revision>,
    /// Whether a watch keeps the caches current (else they are a one-shot snapshot).
    live: AtomicBool,
}

impl Informers {
    /// The Services of the pod's namespace whose selector matches its labels, from the
    /// selector index alone (every term of the selector is one of the pod's labels): nothing
    /// is decoded, however many Services share the pod's labels.
    pub fn services_selecting(&self, pod: &Value) -> Vec<Key> {
        let ns = str_at(pod, "/metadata/namespace");
        let terms: Vec<String> = labels_of(pod)
            .iter()
            .map(|(k, v)| label_term(ns, k, v))
            .collect();
        self.services.keys_covered_by(SERVICES_BY_SELECTOR, &terms)
    }

    /// The pods in `namespace` that a Service selector picks out, by the label index (the
    /// smallest matching set, never the namespace); ordered by name, each as its
    /// [`endpoints::endpoints_view`] (nothing is decoded). An empty selector picks nothing, as
    /// for a Service without one.
    pub fn pods_selected_by<'a>(
        &self,
        namespace: &str,
        selector: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Vec<Arc<Pod>> {
        let terms: Vec<String> = selector
            .into_iter()
            .map(|(k, v)| label_term(namespace, k, v))
            .collect();
        if terms.is_empty() {
            return Vec::new();
        }
        self.pods.by_all_projected(PODS_BY_LABEL, &terms)
    }

    /// Empty informers; [`Informers::run`] fills and follows them.
    pub fn new() -> Arc<Informers> {
        Arc::new(Informers {
            services: Informer::new(
                "services",
                &[
                    (SERVICES_BY_SELECTOR, services_by_selector),
                    (SERVICES_BY_LOAD_BALANCER, slb::instance_ids),
                    (SERVICES_BY_TYPE, services_by_type),
                ],
            ),
            pods: Informer::new(
                "pods",
                &[
                    (PODS_BY_LABEL, pods_by_label),
                    (PODS_BY_NODE, pods_by_node),
                    (PODS_BY_OWNER, by_owner),
                    (ORPHANS, super::adoption::orphans_by_namespace),
                    (PODS_BY_IP, pods_by_ip),
                ],
            )
            .projecting(pod_endpoints_view),
            nodes: Informer::new("nodes", &[]).projecting(node_view),
            endpoints: Informer::new("endpoints", &[]),
            endpoint_slices: Informer::new(
                "endpointslices",
                &[(MANAGED_SLICES_BY_SERVICE, managed_slices_by_service)],
            ),
            deployments: Informer::new("deployments", &[]),
            replica_sets: Informer::new(
                REPLICA_SETS.plural,
                &[
                    (REPLICA_SETS_BY_OWNER, by_owner),
                    (ORPHANS, super::adoption::orphans_by_namespace),
                ],
            ),
            load_balancers: Informer::new(
                LOAD_BALANCERS.plural,
                &[
                    (INSTANCES_BY_OWNER, instances_by_owner),
                    (INSTANCES_BY_NAME, instances_by_name),
                ],
            ),
            revision: watch::channel(0).0,
            live: AtomicBool::new(false),
        })
    }

    /// Informers filled once from a list, not followed: for one-shot full resyncs.
    pub async fn snapshot(registry: &Registry) -> Result<Arc<Informers>, RegistryError> {
        let informers = Informers::new();
        informers.list_all(registry).await?;
        Ok(informers)
    }

    fn all(&self) -> [&Informer; 8] {
        [
            &self.services,
            &self.pods,
            &self.nodes,
            &self.endpoints,
            &self.endpoint_slices,
            &self.deployments,
            &self.replica_sets,
            &self.load_balancers,
        ]
    }

    /// The informer of a resource.
    pub fn of(&self, resource: &str) -> Option<&Informer> {
        self.all().into_iter().find(|i| i.resource == resource)
    }

    /// The newest store revision every cache reflects.
    pub fn revision(&self) -> Revision {
        *self.revision.borrow()
    }

    /// Notifications not yet received by any subscriber, over every informer.
    pub fn backlog(&self) -> usize {
        self.all().iter().map(|i| i.backlog()).sum()
    }

    /// Lists every resource into its cache, then notifies; returns the revision to watch from.
    async fn list_all(&self, registry: &Registry) -> Result<Revision, RegistryError> {
        let mut from = Revision::MAX;
        let mut pending = Vec::new();
        for informer in self.all() {
            // What `Registry::list` reads (one snapshot, decorated), a page at a time.
            let (fresh, revision) = informer.list_into(registry)?;
            from = from.min(revision);
            pending.push(informer.swap_in(fresh, revision));
        }
        self.revision.send_replace(from);
        for (informer, notifications) in self.all().into_iter().zip(pending) {
            for n in notifications {
                informer.notify(n).await;
            }
        }
        Ok(from)
    }

    /// Keeps the caches current for ever: list, watch from the list's revision, re-list when
    /// the watch expires or fails.
    pub async fn run(self: Arc<Self>, registry: Registry) {
        self.live.store(true, Ordering::Release);
        loop {
            match self.list_all(&registry).await {
                Ok(from) => self.follow(&registry, from).await,
                Err(e) => tracing::warn!(error = %e, "informers: list failed"),
            }
            tokio::time::sleep(Duration::from_millis(RETRY_AFTER_FAILURE_MS)).await;
        }
    }

    async fn follow(&self, registry: &Registry, from: Revision) {
        // One watch of every kind: one copy of each event, and a revision that tells when
        // the caches show a given write.
        let mut events = match registry.watch_all(from).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "informers: watch failed");
                return;
            }
        };
        while let Some(item) = events.next().await {
            match item {
                Ok(mut event) => {
                    let revision = event.revision;
                    let handed = registry.handed_over(revision);
                    if let Some(informer) = self.of(&event.key.kind) {
                        let stored = Arc::clone(&event.object);
                        match as_read(registry, informer.resource, Arc::clone(&stored)) {
                            Ok(text) => event.object = text,
                            Err(e) => {
                                tracing::warn!(error = %e, "informers: an event does not decode");
                                return;
                            }
                        }
                        // The writer's object is the object as stored: it stands for the text
                        // only when that is read as stored.
                        let decoded = handed.filter(|_| Arc::ptr_eq(&event.object, &stored));
                        if let Some(n) = informer.apply_decoded(event, decoded) {
                            informer.notify(n).await;
                        }
                    }
                    self.revision.send_replace(revision);
                }
                Err(StoreError::Expired { .. }) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "informers: watch stream failed");
                    return;
                }
            }
        }
    }

    /// Waits until the caches show every write up to `revision` (a reconcile's own writes);
    /// a snapshot is listed again instead. Gives up after [`CATCH_UP_TIMEOUT_MS`].
    pub async fn catch_up(
        &self,
        registry: &Registry,
        revision: Revision,
    ) -> Result<(), RegistryError> {
        if !self.live.load(Ordering::Acquire) {
            self.list_all(registry).await?;
            return Ok(());
        }
        let mut rx = self.revision.subscribe();
        let wait = rx.wait_for(|r| *r >= revision);
        if tokio::time::timeout(Duration::from_millis(CATCH_UP_TIMEOUT_MS), wait)
            .await
            .is_err()
        {
            tracing::warn!(revision, "informers: caches did not catch up in time");
        }
        Ok(())
    }
}

/// An object's text as readers get it: the store's own copy, or, for the rare object that
/// read-time decoration changes, the decorated object encoded for this cache alone.
fn as_read(
    registry: &Registry,
    resource: &str,
    text: Arc<Encoded>,
) -> Result<Arc<Encoded>, RegistryError> {
    let (uid, revision) = (text.uid().to_owned(), text.revision());
    Ok(match registry.read(resource, text)? {
        ReadObject::AsIs(text) => text,
        ReadObject::Decorated(object) => {
            Arc::new(Encoded::new(&uid, revision, &object.to_string()))
        }
    })
}

/// Decodes a cached object as `T` without copying it first.
pub fn typed<T: serde::de::DeserializeOwned>(object: &Value) -> Option<T> {
    T::deserialize(object).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry::ObjectKey;
    use service_plan::endpoints::LABEL_ZONE;

    fn pod(name: &str, labels: Value) -> Value {
        json!({"metadata": {"namespace": "default", "name": name, "labels": labels}})
    }

    fn event(revision: Revision, event_type: EventType, object: Value) -> Event {
        Event {
            revision,
            event_type,
            key: ObjectKey::new("pods", "default", str_at(&object, "/metadata/name")),
            object: Arc::new(Encoded::new("", revision, &object.to_string())),
        }
    }

    /// The nodes informer's views hold what the SLB planner and the ReplicaSet controller
    /// read from the whole node, in key order, and follow each new version of a node.
    #[test]
    fn node_views_follow_the_nodes_in_key_order() {
        let informers = Informers::new();
        let node = |name: &str, ready: &str| {
            json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {LABEL_ZONE: "cn-hangzhou-k", "pool": "a"}},
                "spec": {"podCIDR": "172.20.3.0/24", "unschedulable": true},
                "status": {
                    "addresses": [{"type": "Hostname", "address": name},
                                  {"type": "InternalIP", "address": "192.168.0.7"}],
                    "conditions": [{"type": "Ready", "status": ready}],
                    "images": [{"names": ["nginx"], "sizeBytes": 1}],
                },
            })
        };
        let event = |revision, event_type, object: &Value| Event {
            revision,
            event_type,
            key: ObjectKey::new("nodes", "", str_at(object, "/metadata/name")),
            object: Arc::new(Encoded::new("", revision, &object.to_string())),
        };
        for (revision, name) in [(1, "node-b"), (2, "node-a")] {
            informers
                .nodes
                .apply(event(revision, EventType::Added, &node(name, "True")));
        }
        let views: Vec<Arc<NodeView>> = informers.nodes.list_projected();
        let whole: Node = serde_json::from_value(node("node-a", "True")).expect("a node");
        assert_eq!(views.len(), 2);
        assert_eq!(views[0].node, cluster_node(&whole));
        assert_eq!(views[0].pod_cidr, "172.20.3.0/24");
        assert_eq!(views[1].node.name, "node-b");

        informers
            .nodes
            .apply(event(3, EventType::Modified, &node("node-a", "False")));
        let views: Vec<Arc<NodeView>> = informers.nodes.list_projected();
        assert!(!views[0].node.ready);
        assert!(views[1].node.ready);
    }

    #[test]
    fn label_index_follows_updates_and_deletes() {
        let pods = Informer::new("pods", &[(PODS_BY_LABEL, pods_by_label)]);
        pods.apply(event(1, EventType::Added, pod("a", json!({"app": "x"}))));
        pods.apply(event(
            2,
            EventType::Added,
            pod("b", json!({"app": "x", "t": "1"})),
        ));
        let x = label_term("default", "app", "x");
        let t = label_term("default", "t", "1");
        assert_eq!(pods.index_len(PODS_BY_LABEL, &x), 2);
        assert_eq!(pods.by_all(PODS_BY_LABEL, &[x.clone(), t.clone()]).len(), 1);
        let typed: Vec<Arc<Pod>> = pods.by_all_projected(PODS_BY_LABEL, std::slice::from_ref(&x));
        assert!(
            typed.is_empty(),
            "an informer without a projection has none"
        );
        let pods =
            Informer::new("pods", &[(PODS_BY_LABEL, pods_by_label)]).projecting(pod_endpoints_view);
        pods.apply(event(1, EventType::Added, pod("a", json!({"app": "x"}))));
        pods.apply(event(
            2,
            EventType::Added,
            pod("b", json!({"app": "x", "t": "1"})),
        ));
        let typed: Vec<Arc<Pod>> = pods.by_all_projected(PODS_BY_LABEL, std::slice::from_ref(&x));
        let names: Vec<_> = typed
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        assert_eq!(names, ["a", "b"]);
        let n = pods.apply(event(3, EventType::Modified, pod("b", json!({"app": "y"}))));
        assert!(matches!(n, Some(Notification::Updated { .. })));
        assert_eq!(
            pods.index_keys(PODS_BY_LABEL, &x),
            vec![Key::new("default", "a")]
        );
        assert_eq!(pods.index_len(PODS_BY_LABEL, &t), 0);
        pods.apply(event(4, EventType::Deleted, pod("a", json!({"app": "x"}))));
        assert_eq!(pods.index_len(PODS_BY_LABEL, &x), 0);
        assert_eq!(pods.len(), 1);
    }

    fn service(name: &str, selector: Value, type_: &str) -> Value {
        json!({"metadata": {"namespace": "default", "name": name,
                            "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
               "spec": {"selector": selector, "type": type_}})
    }

    fn service_event(revision: Revision, object: Value) -> Event {
        Event {
            revision,
            event_type: EventType::Added,
            key: ObjectKey::new("services", "default", str_at(&object, "/metadata/name")),
            object: Arc::new(Encoded::new("", revision, &object.to_string())),
        }
    }

    #[test]
    fn objects_are_cached_without_managed_fields() {
        let services = Informer::new("services", &[]);
        let n = services.apply(service_event(1, service("a", json!({}), "ClusterIP")));
        let Some(Notification::Added(added)) = n else {
            panic!("expected Added, got {n:?}");
        };
        assert!(added.at("/metadata/managedFields").is_none());
        let cached = services.get(&Key::new("default", "a")).expect("cached");
        assert_eq!(*cached, *added);
        assert_eq!(str_at(&cached, "/spec/type"), "ClusterIP");
        assert_eq!(services.keys(), vec![Key::new("default", "a")]);
    }

    /// A get after an event reads the event's own decode, and after the next event the new
    /// object: never a decode of another revision, however the slots are shared.
    #[test]
    fn a_get_reads_the_events_decode_and_never_an_older_revision() {
        let services = Informer::new("services", &[]);
        let key = Key::new("default", "a");
        let Some(Notification::Added(added)) =
            services.apply(service_event(1, service("a", json!({}), "ClusterIP")))
        else {
            panic!("expected Added");
        };
        let read = services.get(&key).expect("cached");
        assert!(Arc::ptr_eq(&read, &added), "decoded again");

        let mut modified = service_event(2, service("a", json!({}), "NodePort"));
        modified.event_type = EventType::Modified;
        services.apply(modified);
        assert_eq!(
            str_at(&services.get(&key).expect("cached"), "/spec/type"),
            "NodePort"
        );

        // More keys than slots: every read is still the object's own, decoded or held.
        for i in 0..(RECENT_SLOTS as Revision * 2) {
            let name = format!("s{i}");
            services.apply(service_event(3 + i, service(&name, json!({}), "ClusterIP")));
        }
        for i in 0..(RECENT_SLOTS * 2) {
            let name = format!("s{i}");
            let read = services.get(&Key::new("default", &name)).expect("cached");
            assert_eq!(str_at(&read, "/metadata/name"), name);
        }
        assert_eq!(
            str_at(&services.get(&key).expect("cached"), "/spec/type"),
            "NodePort"
        );
    }

    #[test]
    fn keys_covered_by_needs_every_selector_term() {
        let services = Informer::new(
            "services",
            &[
                (SERVICES_BY_SELECTOR, services_by_selector),
                (SERVICES_BY_TYPE, services_by_type),
            ],
        );
        let objects = [
            service("one", json!({"app": "x"}), "ClusterIP"),
            service("two", json!({"app": "x", "tier": "web"}), "LoadBalancer"),
            service("other", json!({"app": "y"}), "ClusterIP"),
            service("none", json!({}), "ClusterIP"),
        ];
        for (i, o) in objects.into_iter().enumerate() {
            services.apply(service_event(i as Revision + 1, o));
        }
        let terms = |labels: &[(&str, &str)]| -> Vec<String> {
            labels
                .iter()
                .map(|(k, v)| label_term("default", k, v))
                .collect()
        };
        assert_eq!(
            services.keys_covered_by(SERVICES_BY_SELECTOR, &terms(&[("app", "x")])),
            vec![Key::new("default", "one")]
        );
        assert_eq!(
            services.keys_covered_by(
                SERVICES_BY_SELECTOR,
                &terms(&[("app", "x"), ("tier", "web"), ("z", "1")])
            ),
            vec![Key::new("default", "one"), Key::new("default", "two")]
        );
        assert!(
            services
                .keys_covered_by(SERVICES_BY_SELECTOR, &terms(&[("tier", "web")]))
                .is_empty()
        );
        assert!(services.in_index(
            SERVICES_BY_TYPE,
            "LoadBalancer",
            &Key::new("default", "two")
        ));
        assert!(!services.in_index(
            SERVICES_BY_TYPE,
            "LoadBalancer",
            &Key::new("default", "one")
        ));
        // An update moves the object in the index and its count with it.
        services.apply(service_event(
            9,
            service("two", json!({"app": "x"}), "ClusterIP"),
        ));
        assert_eq!(
            services.keys_covered_by(SERVICES_BY_SELECTOR, &terms(&[("app", "x")])),
            vec![Key::new("default", "one"), Key::new("default", "two")]
        );
        assert_eq!(services.index_len(SERVICES_BY_TYPE, "LoadBalancer"), 0);
    }

    #[test]
    fn replace_reports_vanished_objects_and_skips_listed_events() {
        let pods = Informer::new("pods", &[]);
        pods.apply(event(1, EventType::Added, pod("a", json!({}))));
        let out = pods.replace(vec![pod("b", json!({}))], 5);
        assert!(matches!(&out[0], Notification::Deleted(o) if str_at(o, "/metadata/name") == "a"));
        assert!(matches!(out[1], Notification::Resynced));
        assert!(
            pods.apply(event(5, EventType::Added, pod("c", json!({}))))
                .is_none()
        );
        assert!(
            pods.apply(event(6, EventType::Added, pod("c", json!({}))))
                .is_some()
        );
        assert_eq!(pods.len(), 2);
    }
}
