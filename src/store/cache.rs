//! The store's in-memory mirror of every object, as kube-apiserver's watch cache: reads are
//! served from memory at a known revision, never from SQLite.
//!
//! Each object is kept once, as the JSON text the writer stored (shared, never copied per
//! reader), in a persistent ordered map per kind: a reader's snapshot is an O(1) clone taken
//! with the revision under one lock, so a list never blocks the writer and sees exactly the
//! objects of one revision.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use super::page_orders::{Orders, PAGED_KIND, PageOrders};
use super::{ObjectKey, Revision, StoreError, StoredObject};

/// Typical stored objects (an Event, a Node, a Namespace, a Deployment, a Pod, an
/// EndpointSlice, Endpoints and a Service, as this server writes them), one per line: the keys
/// and common values that nearly every stored object repeats. LZ4 finds them as matches, so a
/// 1.4 KB Service is kept in a few hundred bytes without a per-object table of its own.
///
/// Part of SQLite's stored format since [`STORED_LZ4_V1`]: the stored bytes decompress only
/// against this exact dictionary, so it never changes. A better one needs a format byte of
/// its own, with this one kept to read the rows written before it.
static DICTIONARY: &[u8] = include_bytes!("dictionary.jsonl");

/// The first byte of an object stored compressed against [`DICTIONARY`]. Rows written before
/// it hold the JSON text itself, which starts with `{`, so each row says which it is.
const STORED_LZ4_V1: u8 = 1;

/// The JSON text of an object as SQLite stores it: compressed, or the text itself in rows
/// written before compression.
pub(super) fn stored_json(stored: &[u8]) -> Result<std::borrow::Cow<'_, str>, String> {
    match stored.split_first() {
        Some((&STORED_LZ4_V1, compressed)) => {
            let text = lz4_flex::block::decompress_size_prepended_with_dict(compressed, DICTIONARY)
                .map_err(|e| e.to_string())?;
            String::from_utf8(text)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| e.to_string())
        }
        _ => std::str::from_utf8(stored)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| e.to_string()),
    }
}

/// One object as stored: its encoded JSON, kept once and shared by the cache, every event
/// that carries it and every reader (kube-apiserver's `cachingObject`). A reader that needs the
/// tree decodes it; one that only forwards it writes the text as it is.
///
/// The text is held LZ4-compressed against [`DICTIONARY`]: objects are kept far longer than
/// they are read, and well under a microsecond per read buys most of the memory back. SQLite
/// stores these same bytes ([`Encoded::stored`]), so a write compresses once for both.
#[derive(Debug)]
pub struct Encoded {
    uid: Box<str>,
    revision: Revision,
    /// [`STORED_LZ4_V1`], then the JSON text compressed, its length prepended.
    stored: Box<[u8]>,
    /// Whether the text is exactly what a reader gets, as the registry found on first read:
    /// decided once per stored version, so later reads forward the text without decoding.
    read_as_is: std::sync::OnceLock<bool>,
}

impl Encoded {
    /// An object encoded as `json` at `revision` by a write with `uid`.
    pub fn new(uid: &str, revision: Revision, json: &str) -> Encoded {
        let compressed =
            lz4_flex::block::compress_prepend_size_with_dict(json.as_bytes(), DICTIONARY);
        let mut stored = Vec::with_capacity(1 + compressed.len());
        stored.push(STORED_LZ4_V1);
        stored.extend_from_slice(&compressed);
        Encoded::from_parts(uid, revision, stored)
    }

    fn from_parts(uid: &str, revision: Revision, stored: Vec<u8>) -> Encoded {
        Encoded {
            uid: uid.into(),
            revision,
            stored: stored.into_boxed_slice(),
            read_as_is: std::sync::OnceLock::new(),
        }
    }

    /// An object as SQLite stored it (see [`Encoded::stored`]), kept as it is when compressed.
    pub(super) fn from_stored(
        uid: &str,
        revision: Revision,
        stored: Vec<u8>,
    ) -> Result<Encoded, StoreError> {
        if stored.first() == Some(&STORED_LZ4_V1) {
            let encoded = Encoded::from_parts(uid, revision, stored);
            // Reads only the length: a row cut short fails here, not in a later reader.
            lz4_flex::block::uncompressed_size(encoded.compressed())
                .map_err(|e| encoded.corrupt(&e))?;
            return Ok(encoded);
        }
        let json = String::from_utf8(stored).map_err(|e| {
            StoreError::Corrupt(format!("stored object at revision {revision}: {e}"))
        })?;
        Ok(Encoded::new(uid, revision, &json))
    }

    /// The bytes SQLite stores for the object: a format byte, then the compressed text.
    pub(super) fn stored(&self) -> &[u8] {
        &self.stored
    }

    /// The compressed text, its length prepended.
    fn compressed(&self) -> &[u8] {
        self.stored.get(1..).unwrap_or_default()
    }

    /// The same object, with whether readers get it as stored already decided (`None`: left
    /// to the first read).
    pub fn with_read_as_is(self, read_as_is: Option<bool>) -> Encoded {
        if let Some(as_is) = read_as_is {
            let _ = self.read_as_is.set(as_is);
        }
        self
    }

    /// The uid given by the write.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The revision of the write; `metadata.resourceVersion` in the text says the same.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    fn corrupt(&self, error: &dyn std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!(
            "stored object at revision {}: {error}",
            self.revision
        ))
    }

    /// Appends the object's JSON text to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<(), StoreError> {
        let (len, compressed) =
            lz4_flex::block::uncompressed_size(self.compressed()).map_err(|e| self.corrupt(&e))?;
        let start = out.len();
        out.resize(start + len, 0);
        let written =
            lz4_flex::block::decompress_into_with_dict(compressed, &mut out[start..], DICTIONARY)
                .map_err(|e| self.corrupt(&e))?;
        out.truncate(start + written);
        Ok(())
    }

    /// The object's JSON text, as a response body.
    pub fn body(&self) -> Result<bytes::Bytes, StoreError> {
        let mut out = Vec::new();
        self.write_json(&mut out)?;
        Ok(out.into())
    }

    /// Decodes the object.
    pub fn decode(&self) -> Result<Value, StoreError> {
        self.decode_as()
    }

    /// Decodes the object straight into `T` (skipping the `Value` tree).
    pub fn decode_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        self.decode_with(|de| T::deserialize(de))
    }

    /// Decodes the object without `metadata.managedFields`, for a reader that never looks at
    /// them (see [`super::stripped`]).
    pub fn decode_without_managed_fields(&self) -> Result<Value, StoreError> {
        self.decode_with(|de| super::stripped::decode(de))
    }

    /// Decodes the object with `decode`, which may leave out what its reader never looks at.
    fn decode_with<T>(
        &self,
        decode: impl FnOnce(
            &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
        ) -> Result<T, serde_json::Error>,
    ) -> Result<T, StoreError> {
        let mut json = Vec::new();
        self.write_json(&mut json)?;
        let mut de = serde_json::Deserializer::from_slice(&json);
        decode(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| self.corrupt(&e))
    }

    /// Whether the stored text is what a reader gets, as `check` decides on the decoded
    /// object the first time it is asked (an object that does not decode is never as-is).
    pub fn read_as_is(&self, check: impl FnOnce(&Value) -> bool) -> bool {
        *self
            .read_as_is
            .get_or_init(|| self.decode().is_ok_and(|object| check(&object)))
    }

    /// Decodes the object for a reader.
    pub(super) fn to_stored(&self, key: ObjectKey) -> Result<StoredObject, StoreError> {
        Ok(StoredObject {
            key,
            uid: self.uid.to_string(),
            revision: self.revision,
            object: self.decode()?,
        })
    }
}

/// Objects of one kind by (namespace, name).
pub(super) type Objects = imbl::OrdMap<(String, String), Arc<Encoded>>;

/// The kinds whose objects the cache also finds by derived values, and how it derives them:
/// Services by the SLB instances they use, which each write of a Service reusing an instance
/// checks (the sharing rules) and which would otherwise mean decoding every Service.
const INDEXES: &[(&str, IndexValues)] = &[("services", service_plan::slb::instance_index_values)];

/// The values an index files an object under.
type IndexValues = fn(&Value) -> Vec<String>;

/// One kind's objects by each value [`INDEXES`] derives from them.
struct Index {
    values_of: IndexValues,
    keys: HashMap<String, BTreeSet<(String, String)>>,
    /// Each object's values, to take it out of their sets when it changes.
    held: HashMap<(String, String), Vec<String>>,
}

impl Index {
    /// Files the object at `at` under `values` alone.
    fn put(&mut self, at: &(String, String), values: Vec<String>) {
        let old = if values.is_empty() {
            self.held.remove(at).unwrap_or_default()
        } else {
            self.held
                .insert(at.clone(), values.clone())
                .unwrap_or_default()
        };
        for value in old.iter().filter(|v| !values.contains(v)) {
            if let Some(keys) = self.keys.get_mut(value) {
                keys.remove(at);
                if keys.is_empty() {
                    self.keys.remove(value);
                }
            }
        }
        for value in values.into_iter().filter(|v| !old.contains(v)) {
            self.keys.entry(value).or_default().insert(at.clone());
        }
    }
}

/// Every object at one revision.
pub(super) struct ObjectCache {
    kinds: HashMap<String, Objects>,
    indexes: HashMap<&'static str, Index>,
    /// The orders the console pages Services in.
    pages: PageOrders,
}

impl Default for ObjectCache {
    fn default() -> ObjectCache {
        ObjectCache {
            kinds: HashMap::new(),
            indexes: INDEXES
                .iter()
                .map(|&(kind, values_of)| {
                    let index = Index {
                        values_of,
                        keys: HashMap::new(),
                        held: HashMap::new(),
                    };
                    (kind, index)
                })
                .collect(),
            pages: PageOrders::default(),
        }
    }
}

impl ObjectCache {
    /// Whether [`ObjectCache::apply`] reads the written object of `kind` (to index or order
    /// it), not only its text.
    pub(super) fn reads_written_object(kind: &str) -> bool {
        kind == PAGED_KIND || INDEXES.iter().any(|(indexed, _)| *indexed == kind)
    }

    /// Records a write: the object as stored, `None` for a delete. `decoded` is the stored
    /// object when the caller has it, so that an indexed kind's write is not decoded again.
    pub(super) fn apply(
        &mut self,
        key: &ObjectKey,
        write: Option<Arc<Encoded>>,
        decoded: Option<&Value>,
    ) {
        let at = (key.namespace.clone(), key.name.clone());
        if Self::reads_written_object(&key.kind) {
            // Decoded at most once, for both.
            let owned;
            let object = match (&write, decoded) {
                (None, _) => None,
                (Some(_), Some(object)) => Some(object),
                (Some(encoded), None) => {
                    owned = encoded.decode().ok();
                    owned.as_ref()
                }
            };
            if let Some(index) = self.indexes.get_mut(key.kind.as_str()) {
                index.put(&at, object.map(index.values_of).unwrap_or_default());
            }
            if key.kind == PAGED_KIND {
                let columns = object.map(|o| (super::created_at(o), super::spec_type(o)));
                self.pages.put(&at, columns);
            }
        }
        let objects = self.kinds.entry(key.kind.clone()).or_default();
        match write {
            Some(cached) => {
                objects.insert(at, cached);
            }
            None => {
                objects.remove(&at);
            }
        }
    }

    /// The objects of `kind` whose derived values (see [`INDEXES`]) include `value`, by
    /// (namespace, name).
    pub(super) fn indexed(&self, kind: &str, value: &str) -> Vec<(ObjectKey, Arc<Encoded>)> {
        let (Some(index), Some(objects)) = (self.indexes.get(kind), self.kinds.get(kind)) else {
            return Vec::new();
        };
        index
            .keys
            .get(value)
            .into_iter()
            .flatten()
            .filter_map(|at| {
                let object = objects.get(at)?;
                Some((
                    ObjectKey::new(kind, at.0.as_str(), at.1.as_str()),
                    Arc::clone(object),
                ))
            })
            .collect()
    }

    /// One object.
    pub(super) fn get(&self, key: &ObjectKey) -> Option<Arc<Encoded>> {
        self.kinds
            .get(&key.kind)?
            .get(&(key.namespace.clone(), key.name.clone()))
            .cloned()
    }

    /// A snapshot of one kind's objects (O(1)).
    pub(super) fn objects(&self, kind: &str) -> Objects {
        self.kinds.get(kind).cloned().unwrap_or_default()
    }

    /// A snapshot of the Services and of the orders they are paged in (O(1)).
    pub(super) fn paged(&self) -> (Orders, Objects) {
        (self.pages.orders(), self.objects(PAGED_KIND))
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
/// (namespace, name) `after`, in (namespace, name) order, still encoded.
pub(super) fn page(
    objects: &Objects,
    kind: &str,
    namespace: Option<&str>,
    after: Option<(&str, &str)>,
    limit: Option<usize>,
) -> Vec<(ObjectKey, Arc<Encoded>)> {
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
        out.push((
            ObjectKey::new(kind, ns.as_str(), name.as_str()),
            Arc::clone(cached),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_text_reads_back_exactly_and_smaller() {
        let service = serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}],
                     "selector": {"app": "web"}, "sessionAffinity": "None"},
            "status": {"loadBalancer": {}}
        })
        .to_string();
        let encoded = Encoded::new("u", 7, &service);
        let mut out = b"prefix".to_vec();
        encoded.write_json(&mut out).expect("decompresses");
        assert_eq!(&out[6..], service.as_bytes());
        assert!(encoded.stored.len() * 2 < service.len());
        assert_eq!(
            encoded.decode().expect("decodes")["metadata"]["name"],
            "web"
        );
        assert_eq!(Encoded::new("", 1, "").body().expect("empty").len(), 0);
    }

    /// The stored bytes are SQLite's format: they read back through `from_stored` unchanged,
    /// beside rows of JSON text written before it, and a cut row is refused.
    #[test]
    fn stored_bytes_read_back_beside_json_text() {
        let text = r#"{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web"}}"#;
        let stored = Encoded::new("u", 3, text).stored().to_vec();
        assert_eq!(stored[0], STORED_LZ4_V1);
        let read = Encoded::from_stored("u", 3, stored.clone()).expect("compressed");
        assert_eq!(read.stored(), &stored[..]);
        assert_eq!(read.body().expect("text"), text.as_bytes());
        assert_eq!(stored_json(&stored).expect("text"), text);
        let legacy = Encoded::from_stored("u", 3, text.as_bytes().to_vec()).expect("text");
        assert_eq!(legacy.stored(), &stored[..]);
        assert_eq!(stored_json(text.as_bytes()).expect("text"), text);
        assert!(Encoded::from_stored("u", 3, stored[..3].to_vec()).is_err());
        assert!(stored_json(&stored[..stored.len() - 2]).is_err());
    }

    /// Services are found by the instances they name through every change, whether the
    /// write brings the decoded object or only its text (a tailed write, a load at start).
    #[test]
    fn the_index_follows_each_services_instances() {
        let service = |name: &str, id: &str| {
            serde_json::json!({"metadata": {"namespace": "default", "name": name,
                "annotations": {"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id": id}}})
        };
        let key = |name: &str| ObjectKey::new("services", "default", name);
        let names = |cache: &ObjectCache, id: &str| -> Vec<String> {
            let value = service_plan::slb::instance_index_by_id(id);
            cache
                .indexed("services", &value)
                .into_iter()
                .map(|(k, _)| k.name)
                .collect()
        };
        let mut cache = ObjectCache::default();
        for (name, id, decoded) in [
            ("b", "lb-1", true),
            ("a", "lb-1", false),
            ("c", "lb-2", true),
        ] {
            let object = service(name, id);
            let text = Arc::new(Encoded::new("", 1, &object.to_string()));
            cache.apply(&key(name), Some(text), decoded.then_some(&object));
        }
        assert_eq!(names(&cache, "lb-1"), ["a", "b"]);
        assert_eq!(names(&cache, "lb-2"), ["c"]);

        let moved = service("a", "lb-2");
        let text = Arc::new(Encoded::new("", 2, &moved.to_string()));
        cache.apply(&key("a"), Some(text), None);
        cache.apply(&key("c"), None, None);
        assert_eq!(names(&cache, "lb-1"), ["b"]);
        assert_eq!(names(&cache, "lb-2"), ["a"]);
        assert!(cache.indexed("endpoints", "id:lb-1").is_empty());
    }

    /// A row stored by the first version that compressed: the dictionary is part of SQLite's
    /// format, and a change to it would make every stored row unreadable.
    #[test]
    fn the_dictionary_still_reads_rows_stored_with_it() {
        const STORED: &[u8] = &[
            1, 112, 0, 0, 0, 15, 28, 6, 30, 3, 19, 1, 0, 186, 0, 2, 113, 2, 12, 121, 9, 0, 213, 26,
            3, 195, 21, 2, 190, 3, 3, 177, 1, 96, 114, 73, 80, 34, 125, 125,
        ];
        let text = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"type":"ClusterIP"}}"#;
        assert_eq!(stored_json(STORED).expect("reads"), text);
    }
}
