//! The tailer: the one task that applies the event log to this replica's cache, allocation
//! mirror and broadcast, for its own writes and every other replica's alike, in revision order.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, oneshot};

use super::{Reader, TailEvent};
use crate::store::{Applied, Shared, StoreError, Taken};

/// How often the log is read even without a notification: what a lost notification (a
/// listener reconnecting) can cost at most.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Events read per query.
const TAIL_PAGE_EVENTS: i64 = 1000;

/// Starts the tailer and its listener; both stop when `stopped` resolves (the writer, and
/// with it the last clone of the store, is gone).
pub(in crate::store) fn start_tailer(
    reader: Reader,
    listener: PgListener,
    stopped: oneshot::Receiver<()>,
    shared: Arc<Shared>,
) {
    let wake = Arc::clone(&reader.wake);
    let listening = tokio::spawn(listen(listener, Arc::clone(&wake)));
    tokio::spawn(async move {
        let mut stopped = stopped;
        loop {
            match catch_up(&reader, &shared).await {
                Ok(()) => {
                    if !shared.reachable.swap(true, Ordering::AcqRel) {
                        tracing::info!("the database is reachable again");
                    }
                }
                Err(error) => {
                    if shared.reachable.swap(false, Ordering::AcqRel) {
                        // sqlx's errors name neither the URL nor the password.
                        tracing::error!(error = %error, detail = ?error_detail(&error), "reading the event log failed");
                    }
                }
            }
            tokio::select! {
                _ = &mut stopped => break,
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
        listening.abort();
    });
}

/// What a store error says beyond its user-facing text, for the log.
fn error_detail(error: &StoreError) -> String {
    match error {
        StoreError::Database(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// Turns notifications into wake-ups. Runs on its own task: `PgListener::try_recv` is not
/// safe to cancel halfway through a message, so it is never raced against anything.
async fn listen(mut listener: PgListener, wake: Arc<Notify>) {
    loop {
        match listener.try_recv().await {
            // A notification, or `None`: the connection was lost (and listens again), so
            // notifications may have been missed. Either way the log says what happened.
            Ok(_) => wake.notify_one(),
            Err(error) => {
                tracing::debug!(error = %error, "listening for store notifications failed");
                tokio::time::sleep(POLL_INTERVAL).await;
                wake.notify_one();
            }
        }
    }
}

/// Applies every event after the cache's revision, a page at a time; reloads the whole state
/// when the events the cache needs next have been compacted away.
async fn catch_up(reader: &Reader, shared: &Shared) -> Result<(), StoreError> {
    loop {
        let last = shared.revision.load(Ordering::Acquire);
        let (compacted, page) = reader.log_after(None, last, TAIL_PAGE_EVENTS).await?;
        if last < compacted {
            reload(reader, shared).await?;
            continue;
        }
        let Some(newest) = page.last().map(|e| e.event.revision) else {
            shared.compacted.fetch_max(compacted, Ordering::AcqRel);
            return Ok(());
        };
        // One event per revision, committed in order (see the module notes): a gap would
        // mean the log was damaged, and applying past it would lose a write for good.
        for (expected, tail) in (last + 1..).zip(&page) {
            if tail.event.revision != expected {
                return Err(StoreError::Corrupt(format!(
                    "the event log skips from {} to {}",
                    expected - 1,
                    tail.event.revision
                )));
            }
        }
        let full = page.len() as i64 >= TAIL_PAGE_EVENTS;
        let outcomes: Vec<Result<Applied, StoreError>> = page
            .into_iter()
            .map(
                |TailEvent {
                     event,
                     allocated,
                     released,
                 }| {
                    let stored = event.event_type != crate::store::EventType::Deleted;
                    Ok(Applied::Write {
                        event,
                        // Only the writer's caller reads the decoded object.
                        object: serde_json::Value::Null,
                        allocated,
                        released,
                        stored,
                    })
                },
            )
            .collect();
        let compacted = compacted.max(shared.compacted.load(Ordering::Acquire));
        shared.publish(&outcomes, newest, compacted);
        shared.applied.send_replace(newest);
        if !full {
            return Ok(());
        }
    }
}

/// Replaces the cache with the database's current state: this replica fell behind the
/// compaction point, so the events it missed are gone. Watches that started before end with
/// 410 Gone (their clients list again), as kube-apiserver's do when its cache re-lists.
async fn reload(reader: &Reader, shared: &Shared) -> Result<(), StoreError> {
    let state = reader.load_state().await?;
    tracing::warn!(
        revision = state.revision,
        compacted = state.compacted,
        "this replica fell behind the event log's compaction point; reloading the store"
    );
    let mut allocations: std::collections::HashMap<String, Taken> = Default::default();
    for allocation in state.allocations {
        allocations
            .entry(allocation.pool)
            .or_default()
            .insert(allocation.value);
    }
    *shared
        .allocations
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = allocations;
    shared
        .compacted
        .fetch_max(state.compacted, Ordering::AcqRel);
    {
        let mut cache = shared
            .objects
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *cache = state.objects;
        shared.generation.fetch_add(1, Ordering::AcqRel);
        shared.revision.store(state.revision, Ordering::Release);
    }
    shared.applied.send_replace(state.revision);
    Ok(())
}
