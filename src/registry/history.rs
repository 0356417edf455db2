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

/// What restoring a revision did (or, for a dry run, would do).
#[derive(Debug, Clone)]
pub struct Restored {
    /// The Service as written.
    pub applied: super::Applied,
    /// The Service as it was before (`None`: it was deleted and is re-created).
    pub before: Option<Value>,
    /// The revision restored.
    pub revision: Revision,
}

impl Registry {
    /// Restores revision `revision` of a Service through the ordinary update path (or, when
    /// the Service was deleted, the create path). `resource_version` is the version the
    /// caller saw: `Some` updates at exactly that version (a change since is a Conflict),
    /// `None` re-creates (an existing Service is AlreadyExists). With `opts.dry_run` nothing
    /// is written: the answer is the plan.
    pub async fn restore_service(
        &self,
        namespace: &str,
        name: &str,
        revision: i64,
        resource_version: Option<&str>,
        opts: &super::WriteOptions,
    ) -> Result<Restored, RegistryError> {
        let revisions = self.service_history(namespace, name).await?;
        let old = revisions
            .into_iter()
            .find(|r| r.revision == revision)
            .ok_or_else(|| RegistryError::NotFound {
                resource: SERVICES,
                name: format!("{name} (revision {revision})"),
            })?;
        let current = match self.get_service(namespace, name).await {
            Ok(current) => Some(current),
            Err(RegistryError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        if resource_version.is_none() && current.is_some() {
            // A re-create planned while the Service was gone: someone re-created it since.
            return Err(RegistryError::AlreadyExists {
                resource: SERVICES,
                name: name.to_owned(),
            });
        }
        let allocated = self.allocated();
        let free = |a: &service_plan::history::Allocation| match a {
            service_plan::history::Allocation::ClusterIp(ip) => ip.parse().is_ok_and(|ip| {
                !allocated.has_ip(ip) && self.pools().service_cidr.net.contains(&ip)
            }),
            service_plan::history::Allocation::NodePort(port) => i32::try_from(*port)
                .is_ok_and(|p| !allocated.has_port(p) && self.pools().node_ports.contains(p)),
        };
        let mut body = service_plan::history::restore_body(&old.object, current.as_ref(), &free);
        let applied = match resource_version {
            Some(rv) => {
                if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert("resourceVersion".into(), Value::String(rv.to_owned()));
                }
                self.update_service(namespace, name, &body, opts).await?
            }
            None => self.create_service(namespace, &body, opts).await?,
        };
        Ok(Restored {
            applied,
            before: current,
            revision: old,
        })
    }
}
