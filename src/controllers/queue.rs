//! A de-duplicating work queue, as client-go's `workqueue`: a key waits at most once, a key
//! being processed is never handed to a second worker (re-added meanwhile, it is processed
//! again after), failures come back after an exponential back-off, and the number of waiting
//! keys is bounded (adders wait for room).

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;

/// The first retry delay of a failed key (client-go's item exponential failure limiter).
pub const BASE_RETRY_DELAY_MS: u64 = 5;
/// The longest retry delay.
pub const MAX_RETRY_DELAY_MS: u64 = 30_000;
/// The default bound on waiting keys: more than any cluster this console simulates holds, so
/// it only bites when workers are stuck.
pub const DEFAULT_CAPACITY: usize = 1 << 18;

/// A de-duplicating, bounded work queue of keys; share it behind an `Arc`.
pub struct WorkQueue<K> {
    state: Mutex<State<K>>,
    /// Woken when a key becomes ready or the queue shuts down.
    ready: Notify,
    /// Woken when a waiting key leaves the queue.
    room: Notify,
    capacity: usize,
    base_delay: Duration,
    max_delay: Duration,
}

struct State<K> {
    /// Keys ready to hand out, in arrival order.
    queue: VecDeque<K>,
    /// Keys that wait: in `queue`, or re-added while processed.
    dirty: HashSet<K>,
    /// Keys a worker holds.
    processing: HashSet<K>,
    /// Consecutive failures per key, for the back-off.
    failures: HashMap<K, u32>,
    shut_down: bool,
}

impl<K> WorkQueue<K>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
{
    /// A queue holding at most `capacity` waiting keys, with the default back-off.
    pub fn new(capacity: usize) -> Arc<Self> {
        Self::with_backoff(
            capacity,
            Duration::from_millis(BASE_RETRY_DELAY_MS),
            Duration::from_millis(MAX_RETRY_DELAY_MS),
        )
    }

    /// A queue with an explicit back-off (tests use short ones).
    pub fn with_backoff(capacity: usize, base_delay: Duration, max_delay: Duration) -> Arc<Self> {
        Arc::new(WorkQueue {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                failures: HashMap::new(),
                shut_down: false,
            }),
            ready: Notify::new(),
            room: Notify::new(),
            capacity: capacity.max(1),
            base_delay,
            max_delay,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `key` unless it already waits; waits for room when the queue is full. A key being
    /// processed is handed out again once its worker calls [`WorkQueue::done`].
    pub async fn add(&self, key: K) {
        loop {
            let room = self.room.notified();
            {
                let mut state = self.lock();
                if state.shut_down || state.dirty.contains(&key) {
                    return;
                }
                if state.dirty.len() < self.capacity {
                    state.dirty.insert(key.clone());
                    if !state.processing.contains(&key) {
                        state.queue.push_back(key);
                        drop(state);
                        self.ready.notify_one();
                    }
                    return;
                }
            }
            room.await;
        }
    }

    /// The next key, held by the caller until [`WorkQueue::done`]; `None` once shut down.
    pub async fn get(&self) -> Option<K> {
        loop {
            let ready = self.ready.notified();
            {
                let mut state = self.lock();
                if state.shut_down {
                    return None;
                }
                if let Some(key) = state.queue.pop_front() {
                    state.dirty.remove(&key);
                    state.processing.insert(key.clone());
                    let more = !state.queue.is_empty();
                    drop(state);
                    self.room.notify_waiters();
                    // Pass the wake-up on: `notify_one` wakes one waiter per added key.
                    if more {
                        self.ready.notify_one();
                    }
                    return Some(key);
                }
            }
            ready.await;
        }
    }

    /// Releases a key the caller got from [`WorkQueue::get`]; a key re-added meanwhile is
    /// queued again now.
    pub fn done(&self, key: &K) {
        let mut state = self.lock();
        state.processing.remove(key);
        if state.dirty.contains(key) {
            state.queue.push_back(key.clone());
            drop(state);
            self.ready.notify_one();
        }
    }

    /// Adds `key` again after its back-off: the delay doubles with each consecutive failure.
    pub fn add_rate_limited(self: &Arc<Self>, key: K) {
        let delay = {
            let mut state = self.lock();
            if state.shut_down {
                return;
            }
            let failures = state.failures.entry(key.clone()).or_insert(0);
            *failures = failures.saturating_add(1);
            self.delay_for(*failures)
        };
        // A weak handle: a queue dropped meanwhile is not kept alive by its timers.
        let queue: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(queue) = queue.upgrade() {
                queue.add(key).await;
            }
        });
    }

    fn delay_for(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        self.base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay)
    }

    /// Forgets a key's failures (after a success).
    pub fn forget(&self, key: &K) {
        self.lock().failures.remove(key);
    }

    /// Consecutive failures of a key.
    pub fn failures(&self, key: &K) -> u32 {
        self.lock().failures.get(key).copied().unwrap_or(0)
    }

    /// Keys waiting to be handed out (re-added keys being processed included).
    pub fn len(&self) -> usize {
        self.lock().dirty.len()
    }

    /// Whether no key waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether no key waits and no worker holds one.
    pub fn is_idle(&self) -> bool {
        let state = self.lock();
        state.dirty.is_empty() && state.processing.is_empty()
    }

    /// Stops handing out keys: every [`WorkQueue::get`] answers `None`.
    pub fn shut_down(&self) {
        self.lock().shut_down = true;
        self.ready.notify_waiters();
        self.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> Arc<WorkQueue<&'static str>> {
        WorkQueue::with_backoff(16, Duration::from_millis(1), Duration::from_millis(8))
    }

    #[tokio::test]
    async fn a_key_added_twice_waits_once() {
        let q = queue();
        q.add("a").await;
        q.add("b").await;
        q.add("a").await;
        assert_eq!(q.len(), 2);
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(q.get().await, Some("b"));
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn a_key_readded_while_processed_comes_back_after_done() {
        let q = queue();
        q.add("a").await;
        let held = q.get().await;
        assert_eq!(held, Some("a"));
        q.add("a").await;
        q.add("b").await;
        // "a" is held: the next key is "b", never a second "a".
        assert_eq!(q.get().await, Some("b"));
        q.done(&"b");
        let waiting = tokio::time::timeout(Duration::from_millis(20), q.get()).await;
        assert!(waiting.is_err(), "a held key must not be handed out twice");
        q.done(&"a");
        assert_eq!(q.get().await, Some("a"));
    }

    #[tokio::test]
    async fn a_failed_key_returns_after_a_growing_backoff() {
        let q = queue();
        q.add("a").await;
        let key = q.get().await.expect("key");
        q.add_rate_limited(key);
        q.done(&key);
        assert_eq!(q.failures(&"a"), 1);
        let again = tokio::time::timeout(Duration::from_secs(1), q.get()).await;
        assert_eq!(again.expect("retried"), Some("a"));
        q.add_rate_limited("a");
        q.done(&"a");
        assert_eq!(q.failures(&"a"), 2);
        assert_eq!(q.delay_for(1), Duration::from_millis(1));
        assert_eq!(q.delay_for(3), Duration::from_millis(4));
        assert_eq!(q.delay_for(30), Duration::from_millis(8));
        q.forget(&"a");
        assert_eq!(q.failures(&"a"), 0);
    }

    #[tokio::test]
    async fn a_full_queue_makes_adders_wait_for_room() {
        let q: Arc<WorkQueue<u32>> = WorkQueue::new(2);
        q.add(1).await;
        q.add(2).await;
        let blocked = tokio::time::timeout(Duration::from_millis(20), q.add(3)).await;
        assert!(blocked.is_err(), "a third key must wait");
        let adder = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.add(3).await }
        });
        assert_eq!(q.get().await, Some(1));
        adder.await.expect("adder");
        assert_eq!(q.len(), 2);
        // A key already waiting is never refused, even when full.
        tokio::time::timeout(Duration::from_millis(20), q.add(2))
            .await
            .expect("a waiting key is a no-op");
    }

    #[tokio::test]
    async fn workers_never_hold_one_key_twice() {
        let q: Arc<WorkQueue<u32>> = WorkQueue::new(64);
        let held = Arc::new(Mutex::new(HashSet::new()));
        let processed = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut workers = Vec::new();
        for _ in 0..4 {
            let (q, held, processed) = (Arc::clone(&q), Arc::clone(&held), Arc::clone(&processed));
            workers.push(tokio::spawn(async move {
                while let Some(key) = q.get().await {
                    assert!(
                        held.lock().expect("lock").insert(key),
                        "key {key} held twice"
                    );
                    tokio::task::yield_now().await;
                    held.lock().expect("lock").remove(&key);
                    processed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    q.done(&key);
                }
            }));
        }
        for round in 0..50u32 {
            q.add(round % 5).await;
            tokio::task::yield_now().await;
        }
        while !q.is_empty() || !q.lock().processing.is_empty() {
            tokio::task::yield_now().await;
        }
        q.shut_down();
        for w in workers {
            w.await.expect("worker");
        }
        let n = processed.load(std::sync::atomic::Ordering::Relaxed);
        assert!((5..=50).contains(&n), "processed {n}");
    }

    #[tokio::test]
    async fn shut_down_wakes_waiting_workers() {
        let q = queue();
        let worker = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.get().await }
        });
        tokio::task::yield_now().await;
        q.shut_down();
        assert_eq!(worker.await.expect("worker"), None);
    }
}
