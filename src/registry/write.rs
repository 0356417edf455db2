//! The registry's one read-modify-write loop, kube-apiserver's `GuaranteedUpdate`: read the
//! current object, decide, commit at the revision that was read, and decide again when a
//! concurrent write got in first. Every registry write goes through it, so the retry count
//! and the mapping of a lost race to Conflict or NotFound are written once.

use std::future::Future;

use serde_json::Value;
use service_plan::status::Resource;

use super::{Registry, RegistryError};
use crate::store::{Committed, ObjectKey, Precondition, StoreError, StoredObject, Write, WriteOp};

/// How many times a write is planned again when a concurrent write got in first.
const MAX_WRITE_ATTEMPTS: usize = 16;

/// What one attempt of a guaranteed write decided.
pub(super) enum Attempt<T> {
    /// Answer without writing: nothing changed, a dry run, or a write made by another call.
    Done(T),
    /// Read and decide again: a concurrent change got in first (a create racing a delete).
    Again,
    /// Commit a write; the store's event becomes the answer. Boxed: a write is large.
    Commit(Box<Commit<T>>),
}

/// A write to commit, how its event becomes the answer, and which lost races end it.
pub(super) struct Commit<T> {
    write: Write,
    answer: Box<dyn FnOnce(Committed) -> T + Send>,
    /// A changed object ends the write instead of retrying (the client named the version).
    conflict_is_final: bool,
    /// What a taken allocation means when it is not a race (an address the user asked for).
    taken: Option<RegistryError>,
    /// A taken key means a generated name collided: try another.
    retry_taken_key: bool,
}

impl<T> Commit<T> {
    /// Commits `write`; `answer` shapes the committed event.
    pub(super) fn new(write: Write, answer: impl FnOnce(Committed) -> T + Send + 'static) -> Self {
        Commit {
            write,
            answer: Box::new(answer),
            conflict_is_final: false,
            taken: None,
            retry_taken_key: false,
        }
    }

    /// A Conflict is answered, not retried, when `explicit` (a resourceVersion the client set).
    pub(super) fn conflict_is_final(mut self, explicit: bool) -> Self {
        self.conflict_is_final = explicit;
        self
    }

    /// A taken allocation is answered with `error` instead of being planned again.
    pub(super) fn taken_means(mut self, error: Option<RegistryError>) -> Self {
        self.taken = error;
        self
    }

    /// A taken key is tried again under a new generated name.
    pub(super) fn retry_taken_key(mut self) -> Self {
        self.retry_taken_key = true;
        self
    }
}

/// The write that replaces `stored` at `key` with `object`, at the revision that was read.
pub(super) fn replace_at(key: &ObjectKey, stored: &StoredObject, object: Value) -> Write {
    Write::new(WriteOp::Put {
        key: key.clone(),
        uid: stored.uid.clone(),
        object,
        precondition: Precondition::Revision(stored.revision),
    })
}

impl<T> From<Commit<T>> for Attempt<T> {
    fn from(commit: Commit<T>) -> Self {
        Attempt::Commit(Box::new(commit))
    }
}

impl Registry {
    /// Reads the object at `key` and passes it to `attempt`, commits what it decides at the
    /// revision read, and starts again on the latest object when a concurrent write got in
    /// first. A missing object is NotFound.
    pub(super) async fn guaranteed_update<T, F, Fut>(
        &self,
        resource: Resource,
        key: &ObjectKey,
        attempt: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn(StoredObject) -> Fut,
        Fut: Future<Output = Result<Attempt<T>, RegistryError>>,
    {
        self.guaranteed_write(resource, &key.name, || async {
            match self.inner.store.get(key).await? {
                Some(current) => attempt(current).await,
                None => Err(RegistryError::NotFound {
                    resource,
                    name: key.name.clone(),
                }),
            }
        })
        .await
    }

    /// The loop under [`Registry::guaranteed_update`], for writes that read for themselves
    /// (creates, and apply, which creates or updates).
    pub(super) async fn guaranteed_write<T, F, Fut>(
        &self,
        resource: Resource,
        name: &str,
        attempt: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Attempt<T>, RegistryError>>,
    {
        let mut exhausted = RegistryError::Conflict {
            resource,
            name: name.to_string(),
        };
        for _ in 0..MAX_WRITE_ATTEMPTS {
            // Another replica may have written since this one's cache last caught up.
            self.inner.store.sync().await?;
            let commit = match attempt().await? {
                Attempt::Done(answer) => return Ok(answer),
                Attempt::Again => continue,
                Attempt::Commit(commit) => *commit,
            };
            let (key_name, creates) = match &commit.write.op {
                WriteOp::Put {
                    key, precondition, ..
                } => (
                    key.name.clone(),
                    matches!(precondition, Precondition::MustNotExist),
                ),
                WriteOp::Delete { key, .. } => (key.name.clone(), false),
            };
            match self.commit(commit.write).await {
                Ok(event) => return Ok((commit.answer)(event)),
                // Retry on the latest object, as GuaranteedUpdate does: the next round's
                // resourceVersion check answers a stale explicit version with a Conflict,
                // and a patch is applied again to the latest object.
                Err(StoreError::Conflict { .. }) if !commit.conflict_is_final => {}
                Err(StoreError::Conflict { .. }) => {
                    return Err(RegistryError::Conflict {
                        resource,
                        name: key_name,
                    });
                }
                // Another write took an allocation after our snapshot: plan again.
                Err(StoreError::AllocationTaken(_)) => {
                    if let Some(error) = commit.taken {
                        return Err(error);
                    }
                }
                Err(StoreError::AlreadyExists) if commit.retry_taken_key => {}
                Err(StoreError::AlreadyExists) => {
                    return Err(RegistryError::AlreadyExists {
                        resource,
                        name: key_name,
                    });
                }
                Err(StoreError::NotFound) => {
                    return Err(RegistryError::NotFound {
                        resource,
                        name: key_name,
                    });
                }
                Err(e) => return Err(e.into()),
            }
            if creates {
                exhausted =
                    RegistryError::Internal("too many concurrent allocations; please retry".into());
            }
        }
        Err(exhausted)
    }
}
