//! The registry's view of the store's revision history: a Service's kept revisions and the
//! Services recently deleted from a namespace, as `service_plan::history` reads them.

use serde_json::Value;
use service_plan::history::Revision;

use super::{Registry, RegistryError, SERVICES};
use crate::store::{HistoryRetention, HistoryRow, ObjectKey};

/// Most revisions one history read returns.
pub const MAX_HISTORY_READ: usize = 1000;
/// Most deleted Services one namespace lists.
pub const MAX_DELETED_LISTED: usize = 100;

fn revision_of(row: HistoryRow) -> Result<Revision, RegistryError> {
    let object: Value = serde_json::from_str(&row.object).map_err(|e| {
        RegistryError::Internal(format!("history row {} is not JSON: {e}", row.revision))
    })?;
    Ok(Revision {
        revision: row.revision,
        uid: row.uid,
        verb: row.note.verb,
        subresource: row.note.subresource,
        user: row.note.user,
        user_agent: row.note.user_agent,
        manager: row.note.manager,
        time: row.written_at,
        object,
    })
}

impl Registry {
    /// Sets how much history is kept per Service.
    pub fn set_history_retention(&self, retention: HistoryRetention) {
        self.inner.store.set_history_retention(retention);
    }

    /// The kept revisions of a Service, newest first; NotFound when none is kept.
    pub async fn service_history(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<Revision>, RegistryError> {
        let key = ObjectKey::new(SERVICES.plural, namespace, name);
        let rows = self
            .inner
            .store
            .history(&key, None, MAX_HISTORY_READ)
            .await?;
        if rows.is_empty() {
            return Err(RegistryError::NotFound {
                resource: SERVICES,
                name: name.to_owned(),
            });
        }
        rows.into_iter().map(revision_of).collect()
    }

    /// The Services of `namespace` whose newest kept revision is a delete and that do not
    /// exist now, newest first, with that last revision.
    pub async fn deleted_services(&self, namespace: &str) -> Result<Vec<Revision>, RegistryError> {
        let rows = self
            .inner
            .store
            .deletes(SERVICES.plural, namespace, MAX_DELETED_LISTED)
            .await?;
        let mut deleted: Vec<Revision> = Vec::new();
        for (name, row) in rows {
            let listed = deleted
                .iter()
                .any(|r| super::str_at(&r.object, "/metadata/name") == name);
            if listed
                || self
                    .get_raw(SERVICES.plural, namespace, &name)
                    .await?
                    .is_some()
            {
                continue;
            }
            deleted.push(revision_of(row)?);
        }
        Ok(deleted)
    }
}
