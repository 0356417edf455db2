//! Several stores on one PostgreSQL database, as several replicas run them: one revision
//! order, preconditions and allocations decided by the database, and every replica's writes
//! reaching every replica's watches and cache.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::join_all;
use serde_json::json;
use service_console::store::{
    Allocation, ObjectKey, Precondition, Revision, Store, StoreError, Write, WriteOp,
};

use crate::support::postgres::{TestDatabase, test_database};
use crate::support::proxy::CutOff;

/// Far above what a replica needs (one poll interval at worst); the tests check 1 s.
const WAIT: Duration = Duration::from_secs(10);

async fn replicas(database: &TestDatabase, count: usize) -> Vec<Store> {
    let mut stores = Vec::new();
    for _ in 0..count {
        stores.push(
            Store::open_postgres(&database.url, 4)
                .await
                .expect("the test database opens"),
        );
    }
    stores
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new("services", "default", name)
}

fn put(name: &str, port: u16, precondition: Precondition) -> Write {
    Write::new(WriteOp::Put {
        key: key(name),
        uid: format!("uid-{name}"),
        object: json!({"metadata": {"name": name, "namespace": "default"},
                       "spec": {"ports": [{"port": port}]}}),
        precondition,
    })
}

/// Waits until `store`'s cache shows `revision`.
async fn caught_up(store: &Store, revision: Revision) {
    let deadline = Instant::now() + WAIT;
    while store.current_revision() < revision {
        assert!(Instant::now() < deadline, "the replica did not catch up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_replica_reaches_a_watch_and_the_cache_of_another() {
    let Some(database) = test_database() else {
        return;
    };
    let stores = replicas(&database, 2).await;
    let (a, b) = (&stores[0], &stores[1]);
    let mut watch = b.watch(Some("services"), 0).await.expect("watch on b");

    let started = Instant::now();
    let committed = a
        .commit(put("web", 80, Precondition::MustNotExist))
        .await
        .expect("create on a");
    let event = tokio::time::timeout(WAIT, watch.next())
        .await
        .expect("the event reaches b")
        .expect("the stream is open")
        .expect("an event");

    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(event.revision, committed.revision);
    assert_eq!(event.key, key("web"));
    caught_up(b, committed.revision).await;
    let seen = b.get(&key("web")).await.expect("get").expect("b has it");
    assert_eq!(seen.revision, committed.revision);
    assert_eq!(seen.uid, "uid-web");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_revision_is_a_conflict_on_every_replica() {
    let Some(database) = test_database() else {
        return;
    };
    let stores = replicas(&database, 2).await;
    let (a, b) = (&stores[0], &stores[1]);
    let created = a
        .commit(put("web", 80, Precondition::MustNotExist))
        .await
        .expect("create");
    let updated = a
        .commit(put("web", 81, Precondition::Revision(created.revision)))
        .await
        .expect("update on a");

    // b may not have seen the update yet: the database, not b's cache, decides.
    let stale = b
        .commit(put("web", 82, Precondition::Revision(created.revision)))
        .await;
    let exists = b.commit(put("web", 83, Precondition::MustNotExist)).await;

    assert!(
        matches!(stale, Err(StoreError::Conflict { current }) if current == updated.revision),
        "{stale:?}"
    );
    assert!(
        matches!(exists, Err(StoreError::AlreadyExists)),
        "{exists:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_one_revision_order_and_never_hand_out_a_value_twice() {
    let Some(database) = test_database() else {
        return;
    };
    let stores = replicas(&database, 3).await;
    // 3 × 16 writers, each claiming one of 8 ports: exactly 8 win, one per port.
    let writes = stores.iter().enumerate().flat_map(|(replica, store)| {
        (0..16).map(move |i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut write = put(&format!("s{replica}-{i}"), 80, Precondition::MustNotExist);
                write.allocate = vec![Allocation::new("node-ports", format!("{}", 30000 + i % 8))];
                store.commit(write).await
            })
        })
    });
    let results: Vec<_> = join_all(writes)
        .await
        .into_iter()
        .map(|joined| joined.expect("task completes"))
        .collect();

    let revisions: Vec<Revision> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|c| c.revision))
        .collect();
    assert_eq!(revisions.len(), 8, "{results:?}");
    assert!(
        results.iter().all(|r| r.is_ok()
            || matches!(r, Err(StoreError::AllocationTaken(a)) if a.pool == "node-ports"))
    );
    assert_eq!(
        revisions.iter().copied().collect::<BTreeSet<_>>(),
        (1..=8).collect::<BTreeSet<_>>(),
        "one revision per committed write, across replicas"
    );
    let ports: BTreeSet<String> = (30000..30008).map(|p| p.to_string()).collect();
    for store in &stores {
        caught_up(store, 8).await;
        assert_eq!(
            store
                .allocated("node-ports")
                .into_iter()
                .collect::<BTreeSet<_>>(),
            ports
        );
        assert_eq!(store.count("services", None).await.expect("count"), 8);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_replica_sees_every_write_once_in_revision_order() {
    let Some(database) = test_database() else {
        return;
    };
    let stores = replicas(&database, 3).await;
    let mut watches = Vec::new();
    for store in &stores {
        watches.push(store.watch(None, 0).await.expect("watch"));
    }
    let writes = stores.iter().enumerate().flat_map(|(replica, store)| {
        (0..20).map(move |i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .commit(put(
                        &format!("s{replica}-{i}"),
                        80,
                        Precondition::MustNotExist,
                    ))
                    .await
            })
        })
    });
    for joined in join_all(writes).await {
        joined.expect("task completes").expect("commit");
    }

    for watch in &mut watches {
        let mut revisions = Vec::new();
        while revisions.len() < 60 {
            let event = tokio::time::timeout(WAIT, watch.next())
                .await
                .expect("the next event arrives")
                .expect("open")
                .expect("an event");
            revisions.push(event.revision);
        }
        assert_eq!(revisions, (1..=60).collect::<Vec<_>>());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compaction_by_any_replica_is_seen_by_all_and_may_be_repeated() {
    let Some(database) = test_database() else {
        return;
    };
    let stores = replicas(&database, 2).await;
    let (a, b) = (&stores[0], &stores[1]);
    for name in ["a", "b", "c", "d"] {
        a.commit(put(name, 80, Precondition::MustNotExist))
            .await
            .expect("create");
    }
    caught_up(b, 4).await;

    b.compact(3).await.expect("compact on b");
    a.compact(3).await.expect("compact again on a");
    a.compact(2).await.expect("compaction never moves back");

    let deadline = Instant::now() + WAIT;
    while a.compacted_revision() < 3 {
        assert!(Instant::now() < deadline, "a learns of b's compaction");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(a.compacted_revision(), 3);
    assert!(matches!(
        a.watch(None, 2).await.err(),
        Some(StoreError::Expired {
            requested: 2,
            oldest: 3
        })
    ));
    let mut watch = a.watch(None, 3).await.expect("watch from 3");
    let event = tokio::time::timeout(WAIT, watch.next())
        .await
        .expect("event")
        .expect("open")
        .expect("an event");
    assert_eq!(event.revision, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_behind_the_compaction_point_reloads_and_ends_its_watches() {
    let Some(database) = test_database() else {
        return;
    };
    let a = Store::open_postgres(&database.url, 4)
        .await
        .expect("a opens");
    // b reaches the database through a proxy the test cuts while a writes and compacts.
    let proxy = CutOff::start(database.authority()).await;
    let b = Store::open_postgres(&database.url_through(proxy.port, "unused"), 4)
        .await
        .expect("b opens");
    let mut old = put("old", 80, Precondition::MustNotExist);
    old.allocate = vec![Allocation::new("node-ports", "30001")];
    a.commit(old).await.expect("create old");
    caught_up(&b, 1).await;
    let mut watch = b.watch(None, 1).await.expect("watch on b");

    proxy.cut();
    a.commit(put("new", 80, Precondition::MustNotExist))
        .await
        .expect("create new");
    a.commit(Write::new(WriteOp::Delete {
        key: key("old"),
        precondition: Precondition::None,
    }))
    .await
    .expect("delete old");
    a.compact(3).await.expect("compact past what b has seen");
    proxy.restore();
    caught_up(&b, 3).await;

    assert!(b.get(&key("old")).await.expect("get").is_none());
    assert_eq!(
        b.get(&key("new")).await.expect("get").map(|o| o.revision),
        Some(2)
    );
    assert!(b.allocated("node-ports").is_empty());
    assert_eq!(b.compacted_revision(), 3);
    // b's watch cannot go on without the events it missed: it ends with 410 Gone, and its
    // client lists again.
    a.commit(put("later", 80, Precondition::MustNotExist))
        .await
        .expect("create later");
    let ended = tokio::time::timeout(WAIT, watch.next())
        .await
        .expect("the watch answers")
        .expect("an item");
    assert!(
        matches!(ended, Err(StoreError::Expired { .. })),
        "{ended:?}"
    );
}
