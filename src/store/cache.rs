//! The store's in-memory mirror of every object, as kube-apiserver's watch cache: reads are
//! served from memory at a known revision, never from SQLite.
//!
//! Each object is kept once, as the JSON text the writer stored (shared, never copied per
//! reader), in a persistent ordered map per kind: a reader's snapshot is an O(1) clone taken
//! with the revision under one lock, so a list never blocks the writer and sees exactly the
//! objects of one revision.

use std::collections::HashMap;
use std::sync::Arc;

use super::{ObjectKey, Revision, StoreError, StoredObject};

/// One cached object: what a [`StoredObject`] holds, with the object still encoded.
#[derive(Debug)]
pub(super) struct Cached {
    pub(super) uid: String,
    pub(super) revision: Revision,
    pub(super) json: Box<str>,
}

impl Cached {
    /// Decodes the object for a reader.
    pub(super) fn to_stored(&self, key: ObjectKey) -> Result<StoredObject, StoreError> {
        let object = serde_json::from_str(&self.json).map_err(|e| {
            StoreError::Corrupt(format!("cached object at revision {}: {e}", self.revision))
        })?;
        Ok(StoredObject {
            key,
            uid: self.uid.clone(),
            revision: self.revision,
            object,
        })
    }
}

/// Objects of one kind by (namespace, name).
pub(super) type Objects = imbl::OrdMap<(String, String), Arc<Cached>>;

/// Every object at one revision.
#[derive(Default)]
pub(super) struct ObjectCache {
    kinds: HashMap<String, Objects>,
}

impl ObjectCache {
    /// Records a write: the object as stored, `None` for a delete.
    pub(super) fn apply(&mut self, key: &ObjectKey, write: Option<Arc<Cached>>) {
        let objects = self.kinds.entry(key.kind.clone()).or_default();
        let at = (key.namespace.clone(), key.name.clone());
        match write {
            Some(cached) => {
                objects.insert(at, cached);
            }
            None => {
                objects.remove(&at);
            }
        }
    }

    /// One object.
    pub(super) fn get(&self, key: &ObjectKey) -> Option<Arc<Cached>> {
        self.kinds
            .get(&key.kind)?
            .get(&(key.namespace.clone(), key.name.clone()))
            .cloned()
    }

    /// A snapshot of one kind's objects (O(1)).
    pub(super) fn objects(&self, kind: &str) -> Objects {
        self.kinds.get(kind).cloned().unwrap_or_default()
    }
}

/// How many snapshots of paged lists are kept for their continue tokens.
const KEPT_SNAPSHOTS: usize = 16;
/// How long a paged list's snapshot is kept: a client pages through in seconds.
const SNAPSHOT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30);

/// The snapshots that paged lists continue from, so that every page of a list shows the
/// objects of its first page's revision (as etcd's MVCC gives kube-apiserver). Bounded in
/// number and age: a list continued later is served from the current state.
#[derive(Default)]
pub(super) struct Snapshots {
    kept: std::collections::VecDeque<Snapshot>,
}

struct Snapshot {
    kind: String,
    revision: Revision,
    objects: Objects,
    taken: std::time::Instant,
}

impl Snapshots {
    /// Keeps `objects` of `kind` at `revision` for the pages after the first.
    pub(super) fn keep(&mut self, kind: &str, revision: Revision, objects: &Objects) {
        self.expire();
        if self.find(kind, revision).is_some() {
            return;
        }
        if self.kept.len() >= KEPT_SNAPSHOTS {
            self.kept.pop_front();
        }
        self.kept.push_back(Snapshot {
            kind: kind.to_owned(),
            revision,
            objects: objects.clone(),
            taken: std::time::Instant::now(),
        });
    }

    /// The kept snapshot of `kind` at `revision`.
    pub(super) fn find(&self, kind: &str, revision: Revision) -> Option<Objects> {
        self.kept
            .iter()
            .find(|s| s.kind == kind && s.revision == revision)
            .map(|s| s.objects.clone())
    }

    fn expire(&mut self) {
        while self
            .kept
            .front()
            .is_some_and(|s| s.taken.elapsed() > SNAPSHOT_LIFETIME)
        {
            self.kept.pop_front();
        }
    }
}

/// How many objects of `objects` in `namespace` (`None`: all) come after `after`.
pub(super) fn count_after(
    objects: &Objects,
    namespace: Option<&str>,
    after: (&str, &str),
) -> usize {
    use std::ops::Bound;
    let start = (after.0.to_owned(), after.1.to_owned());
    objects
        .range((Bound::Excluded(start), Bound::Unbounded))
        .take_while(|((ns, _), _)| namespace.is_none_or(|wanted| wanted == ns))
        .count()
}

/// Up to `limit` objects of `objects` in `namespace` (`None`: all), after the exclusive
/// (namespace, name) `after`, in (namespace, name) order.
pub(super) fn page(
    objects: &Objects,
    kind: &str,
    namespace: Option<&str>,
    after: Option<(&str, &str)>,
    limit: Option<usize>,
) -> Result<Vec<StoredObject>, StoreError> {
    use std::ops::Bound;
    // Names are never empty, so ("", "") sorts before every key: "from the start".
    let (after_namespace, after_name) = after.unwrap_or(("", ""));
    let start = match namespace {
        Some(ns) if ns > after_namespace => (ns.to_owned(), String::new()),
        _ => (after_namespace.to_owned(), after_name.to_owned()),
    };
    let range = objects.range((Bound::Excluded(start), Bound::Unbounded));
    let mut out = Vec::new();
    for ((ns, name), cached) in range {
        if namespace.is_some_and(|wanted| wanted != ns) {
            break;
        }
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        out.push(cached.to_stored(ObjectKey::new(kind, ns.as_str(), name.as_str()))?);
    }
    Ok(out)
}
