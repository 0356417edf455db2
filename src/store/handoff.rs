//! Objects the writer hands to the process's informers with their events, so that the
//! informers take the tree a write already had instead of decoding the event's text again.
//!
//! Only writes that ask for it ([`super::Write::hand_over`]: the controllers' creates of the
//! Endpoints and EndpointSlices of each new Service, two of every three writes of a create
//! storm) are handed over. Decoding their events was about 4% of the server's CPU in such a
//! storm. The writer moves the tree it serialized (a copy cost it more than half of what the
//! decode saved) and answers the write with a receipt instead: the controller needs only the
//! revision.
//!
//! The writer files each object before it publishes the write's event, so the informers always
//! find it; they take it by the event's revision, which names one write. An object nobody takes
//! (no informer runs, or it re-listed past it) is dropped when newer ones push it out, so
//! memory stays bounded by [`HANDOFF_LEN`] small objects.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde_json::{Value, json};

use super::cache::ObjectCache;
use super::{Applied, BatchOp, Revision, StoreError};

/// Objects kept for the informers; they take each within an event or two of its commit.
pub const HANDOFF_LEN: usize = 256;

/// The objects waiting for the informers, oldest first.
#[derive(Default)]
pub(super) struct Handoff {
    trees: Mutex<VecDeque<(Revision, Value)>>,
}

impl Handoff {
    fn trees(&self) -> std::sync::MutexGuard<'_, VecDeque<(Revision, Value)>> {
        self.trees.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the objects of a committed batch's handed-over writes out of their outcomes,
    /// leaving each a [`receipt`], and files them. The store's cache reads the written objects
    /// of some kinds itself: those stay.
    pub(super) fn take_over(&self, ops: &[BatchOp], outcomes: &mut [Result<Applied, StoreError>]) {
        for (op, outcome) in ops.iter().zip(outcomes) {
            if let (BatchOp::Write(write), Ok(Applied::Write { event, object, .. })) = (op, outcome)
                && write.hand_over
                && !ObjectCache::reads_written_object(&event.key.kind)
            {
                let written = std::mem::replace(object, receipt(event.revision));
                self.push(event.revision, written);
            }
        }
    }

    /// Files the object written at `revision`.
    fn push(&self, revision: Revision, object: Value) {
        let mut trees = self.trees();
        if trees.len() >= HANDOFF_LEN {
            trees.pop_front();
        }
        trees.push_back((revision, object));
    }

    /// The object written at `revision`, if it was handed over, as the informers keep objects:
    /// without `metadata.managedFields`, which no controller reads. Objects of older revisions
    /// are dropped: events come in revision order, so theirs have passed.
    pub(super) fn take(&self, revision: Revision) -> Option<Value> {
        let mut object = {
            let mut trees = self.trees();
            while trees.front().is_some_and(|(r, _)| *r < revision) {
                trees.pop_front();
            }
            match trees.front() {
                Some((r, _)) if *r == revision => trees.pop_front().map(|(_, tree)| tree)?,
                _ => return None,
            }
        };
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.shift_remove("managedFields");
        }
        Some(object)
    }
}

/// What the writer answers a handed-over write with: the revision it committed at, where a
/// reader of an object looks for it.
fn receipt(revision: Revision) -> Value {
    json!({"metadata": {"resourceVersion": revision.to_string()}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_taken_once_by_its_revision() {
        let handoff = Handoff::default();
        handoff.push(3, json!({"metadata": {"name": "a"}}));
        handoff.push(5, json!({"metadata": {"name": "b"}}));
        assert_eq!(handoff.take(4), None, "revision 4 was not handed over");
        assert_eq!(handoff.take(5), Some(json!({"metadata": {"name": "b"}})));
        assert_eq!(handoff.take(5), None, "taken already");
        assert_eq!(handoff.take(3), None, "dropped when revision 4 passed");
    }

    #[test]
    fn the_oldest_objects_make_room() {
        let handoff = Handoff::default();
        for revision in 1..=i64::try_from(HANDOFF_LEN).expect("small") + 1 {
            handoff.push(revision, json!({}));
        }
        assert_eq!(handoff.trees().len(), HANDOFF_LEN);
        assert_eq!(handoff.take(1), None);
        assert_eq!(handoff.take(2), Some(json!({})));
    }

    #[test]
    fn an_object_is_taken_as_the_informers_decode_it() {
        let object = json!({
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "a", "managedFields": [{"manager": "m"}],
                         "labels": {"managedFields": "x"}, "resourceVersion": "7"},
            "subsets": [{"managedFields": 1}],
        });
        let text = object.to_string();
        let decoded =
            super::super::stripped::decode(&mut serde_json::Deserializer::from_str(&text))
                .expect("decodes");
        let handoff = Handoff::default();
        handoff.push(7, object);
        let taken = handoff.take(7).expect("handed over");
        assert_eq!(taken.to_string(), decoded.to_string(), "the same, in order");
    }
}
