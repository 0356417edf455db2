//! The writes a controller has in flight, so that the watch event of its own write does not
//! queue the same work again: kube-controller-manager's endpointslice controller skips the
//! slice events its tracker says it caused (`endpointSliceTracker.ShouldSync`). Without this
//! every Service create is reconciled three times: once for the Service, once more for each of
//! the two objects the first reconcile wrote.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::informer::{Key, Notification};
use super::{is_current, upsert};
use crate::registry::{Registry, RegistryError};

/// More expectations than this are dropped together: one is left behind only when its event
/// never came (a write whose outcome is unknown, a re-list), and dropping one costs one
/// reconcile, never a missed one.
const MAX_PENDING: usize = 4096;

/// The objects of one resource a controller is writing, by key: what it asked for.
pub struct OwnWrites {
    plural: &'static str,
    pending: Mutex<HashMap<Key, Arc<Value>>>,
}

impl OwnWrites {
    /// No writes of `plural` in flight yet.
    pub fn new(plural: &'static str) -> OwnWrites {
        OwnWrites {
            plural,
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Value>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`upsert`], skipped when the cached copy already holds `desired` (the informer brings
    /// any later change back as a notification, so a stale cache only delays the write), and
    /// expecting its write's event: the expectation is in place before the write, so its
    /// event always finds it. `desired` is a typed object serialized as it is (its create
    /// skips the typed round trip: [`upsert`]'s `canonical`).
    pub async fn upsert(
        &self,
        registry: &Registry,
        namespace: &str,
        desired: Value,
        manager: &str,
        cached: Option<&Value>,
    ) -> Result<(), RegistryError> {
        if let Some(cached) = cached
            && is_current(self.plural, cached, &desired)?
        {
            return Ok(());
        }
        let key = Key::of(&desired);
        let desired = Arc::new(desired);
        {
            let mut pending = self.pending();
            if pending.len() >= MAX_PENDING {
                pending.clear();
            }
            pending.insert(key.clone(), Arc::clone(&desired));
        }
        let wrote = upsert(registry, self.plural, namespace, &desired, manager, true).await;
        if !matches!(wrote, Ok(Some(_))) {
            // No write, so no event of it: forget it unless its event came meanwhile.
            let mut pending = self.pending();
            if pending.get(&key).is_some_and(|p| Arc::ptr_eq(p, &desired)) {
                pending.remove(&key);
            }
        }
        wrote.map(|_| ())
    }

    /// Whether `notification` only shows a write this controller asked for (the expectation
    /// is used up either way). Deletes and re-lists are never its own.
    pub fn echoes(&self, notification: &Notification) -> bool {
        let object = match notification {
            Notification::Added(object) | Notification::Updated { new: object, .. } => object,
            Notification::Deleted(_) | Notification::Resynced => return false,
        };
        let Some(desired) = self.pending().remove(&Key::of(object)) else {
            return false;
        };
        is_current(self.plural, object, &desired).unwrap_or(false)
    }

    /// Forgets every expectation: after a re-list, their events may never come.
    pub fn clear(&self) {
        self.pending().clear();
    }
}
