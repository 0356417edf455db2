//! The revisioned store against real SQLite files and a real PostgreSQL database (every test
//! body runs on both backends): objects, revisions, preconditions,
//! allocations, restarts, watches, compaction and group commit.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use futures::future::join_all;
use serde_json::{Value, json};
use service_console::store::{
    Allocation, Committed, Event, EventStream, EventType, HistoryNote, HistoryRetention, ListOrder,
    ListQuery, ObjectKey, PageCursor, Precondition, Revision, Store, StoreError, StoredObject,
    Write, WriteOp,
};
use tempfile::TempDir;

use crate::support::postgres::{TestDatabase, test_database};

const WATCH_WAIT: Duration = Duration::from_secs(30);

/// Where one test's store lives: both backends run the same test bodies.
enum Db {
    Sqlite(TempDir),
    Postgres(TestDatabase),
}

impl Db {
    fn sqlite() -> Db {
        Db::Sqlite(TempDir::new().expect("temporary directory"))
    }

    /// `None` skips the test (no PostgreSQL cluster outside CI).
    fn postgres() -> Option<Db> {
        test_database().map(Db::Postgres)
    }

    /// Opens a store on the test's database: a new one the first time, the same data after.
    async fn open(&self) -> Store {
        match self {
            Db::Sqlite(dir) => Store::open_sqlite(&dir.path().join("store.db"))
                .await
                .expect("a fresh temporary directory holds a new database"),
            Db::Postgres(database) => Store::open_postgres(&database.url, 4)
                .await
                .expect("the test database opens"),
        }
    }
}

/// Runs each named test body against SQLite and against PostgreSQL: `sqlite::NAME` and
/// `postgres::NAME`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(&super::Db::sqlite()).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = super::Db::postgres() {
                        super::$name(&db).await;
                    }
                }
            )*
        }
    };
}

fn service_key(namespace: &str, name: &str) -> ObjectKey {
    ObjectKey::new("services", namespace, name)
}

fn service(namespace: &str, name: &str, port: u16) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"ports": [{"port": port}]},
    })
}

fn put(key: ObjectKey, object: Value, precondition: Precondition) -> Write {
    let uid = format!("uid-{}-{}", key.namespace, key.name);
    Write::new(WriteOp::Put {
        key,
        uid,
        object,
        precondition,
    })
}

fn create(namespace: &str, name: &str) -> Write {
    put(
        service_key(namespace, name),
        service(namespace, name, 80),
        Precondition::MustNotExist,
    )
}

fn delete(key: ObjectKey) -> Write {
    Write::new(WriteOp::Delete {
        key,
        precondition: Precondition::None,
    })
}

fn resource_version(object: &Value) -> Option<&str> {
    object["metadata"]["resourceVersion"].as_str()
}

async fn next_event(stream: &mut EventStream) -> Event {
    tokio::time::timeout(WATCH_WAIT, stream.next())
        .await
        .expect("the event arrives before the deadline")
        .expect("the watch stream is still open")
        .expect("the watch yields an event, not an error")
}

fn summary(event: &Event) -> (Revision, EventType, String) {
    (event.revision, event.event_type, event.key.name.clone())
}

fn committed(event: &Committed) -> (Revision, EventType, String) {
    (event.revision, event.event_type, event.key.name.clone())
}

async fn put_then_get_returns_object_with_resource_version(db: &Db) {
    let store = db.open().await;

    let event = store
        .commit(create("default", "web"))
        .await
        .expect("commit");

    let stored = store
        .get(&service_key("default", "web"))
        .await
        .expect("get")
        .expect("the object exists");
    assert_eq!(event.revision, 1);
    assert_eq!(event.event_type, EventType::Added);
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.uid, "uid-default-web");
    assert_eq!(stored.object["spec"], json!({"ports": [{"port": 80}]}));
    assert_eq!(resource_version(&stored.object), Some("1"));
    assert_eq!(stored.object, event.object);
}

async fn put_of_present_key_is_modified_with_new_revision(db: &Db) {
    let store = db.open().await;
    store
        .commit(create("default", "web"))
        .await
        .expect("create");

    let event = store
        .commit(put(
            service_key("default", "web"),
            service("default", "web", 8080),
            Precondition::MustExist,
        ))
        .await
        .expect("update");

    let stored = store
        .get(&service_key("default", "web"))
        .await
        .expect("get")
        .expect("the object exists");
    assert_eq!(
        committed(&event),
        (2, EventType::Modified, "web".to_owned())
    );
    assert_eq!(stored.revision, 2);
    assert_eq!(stored.object["spec"]["ports"][0]["port"], 8080);
    assert_eq!(resource_version(&stored.object), Some("2"));
}

async fn delete_removes_object_and_carries_last_state_at_new_revision(db: &Db) {
    let store = db.open().await;
    store
        .commit(create("default", "web"))
        .await
        .expect("create");

    let event = store
        .commit(delete(service_key("default", "web")))
        .await
        .expect("delete");

    assert_eq!(committed(&event), (2, EventType::Deleted, "web".to_owned()));
    assert_eq!(event.object["spec"]["ports"][0]["port"], 80);
    assert_eq!(resource_version(&event.object), Some("2"));
    let gone = store
        .get(&service_key("default", "web"))
        .await
        .expect("get");
    assert!(gone.is_none(), "deleted object is still stored: {gone:?}");
}

async fn list_orders_by_namespace_and_name_and_continues_after_a_key(db: &Db) {
    let store = db.open().await;
    for (namespace, name) in [("b", "x"), ("a", "z"), ("a", "y"), ("c", "w")] {
        store.commit(create(namespace, name)).await.expect("create");
    }
    let names = |objects: &[service_console::store::StoredObject]| {
        objects
            .iter()
            .map(|o| format!("{}/{}", o.key.namespace, o.key.name))
            .collect::<Vec<_>>()
    };

    let (all, revision) = store
        .list("services", None, None, None)
        .await
        .expect("list");
    let (first_page, _) = store
        .list("services", None, None, Some(2))
        .await
        .expect("first page");
    let (second_page, _) = store
        .list("services", None, Some(("a", "z")), Some(2))
        .await
        .expect("second page");
    let (in_a, _) = store
        .list("services", Some("a"), Some(("a", "y")), None)
        .await
        .expect("namespace a after a/y");

    assert_eq!(names(&all), ["a/y", "a/z", "b/x", "c/w"]);
    assert_eq!(revision, 4);
    assert_eq!(names(&first_page), ["a/y", "a/z"]);
    assert_eq!(names(&second_page), ["b/x", "c/w"]);
    assert_eq!(names(&in_a), ["a/z"]);
}

async fn count_counts_one_kind_in_one_or_all_namespaces(db: &Db) {
    let store = db.open().await;
    for (namespace, name) in [("a", "one"), ("a", "two"), ("b", "three")] {
        store.commit(create(namespace, name)).await.expect("create");
    }
    store
        .commit(put(
            ObjectKey::new("endpoints", "a", "one"),
            json!({"kind": "Endpoints"}),
            Precondition::None,
        ))
        .await
        .expect("endpoints");

    assert_eq!(store.count("services", Some("a")).await.expect("count"), 2);
    assert_eq!(store.count("services", None).await.expect("count"), 3);
    assert_eq!(store.count("endpoints", None).await.expect("count"), 1);
}

async fn revisions_are_global_across_kinds_and_strictly_increasing(db: &Db) {
    let store = db.open().await;

    let mut revisions = Vec::new();
    for kind in ["services", "endpoints", "services", "pods"] {
        let key = ObjectKey::new(kind, "default", format!("obj-{}", revisions.len()));
        let event = store
            .commit(put(key, json!({}), Precondition::None))
            .await
            .expect("commit");
        revisions.push(event.revision);
    }

    assert_eq!(revisions, [1, 2, 3, 4]);
    assert_eq!(store.current_revision(), 4);
}

async fn revision_precondition_on_changed_object_is_conflict(db: &Db) {
    let store = db.open().await;
    store
        .commit(create("default", "web"))
        .await
        .expect("create");
    store
        .commit(put(
            service_key("default", "web"),
            service("default", "web", 81),
            Precondition::Revision(1),
        ))
        .await
        .expect("update at the current revision");

    let stale = store
        .commit(put(
            service_key("default", "web"),
            service("default", "web", 82),
            Precondition::Revision(1),
        ))
        .await;

    assert!(
        matches!(stale, Err(StoreError::Conflict { current: 2 })),
        "{stale:?}"
    );
    assert_eq!(store.current_revision(), 2);
}

async fn uid_precondition_on_recreated_object_is_conflict(db: &Db) {
    let store = db.open().await;
    store
        .commit(create("default", "web"))
        .await
        .expect("create");

    let result = store
        .commit(Write::new(WriteOp::Delete {
            key: service_key("default", "web"),
            precondition: Precondition::Uid("another-uid".to_owned()),
        }))
        .await;

    assert!(
        matches!(result, Err(StoreError::Conflict { current: 1 })),
        "{result:?}"
    );
}

async fn must_not_exist_on_present_key_is_already_exists(db: &Db) {
    let store = db.open().await;
    store
        .commit(create("default", "web"))
        .await
        .expect("create");

    let again = store.commit(create("default", "web")).await;

    assert!(matches!(again, Err(StoreError::AlreadyExists)), "{again:?}");
    assert_eq!(store.current_revision(), 1);
}

async fn must_exist_on_missing_key_is_not_found(db: &Db) {
    let store = db.open().await;

    let result = store
        .commit(put(
            service_key("default", "web"),
            service("default", "web", 80),
            Precondition::MustExist,
        ))
        .await;

    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

async fn delete_of_missing_key_is_not_found(db: &Db) {
    let store = db.open().await;

    let result = store.commit(delete(service_key("default", "web"))).await;

    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(store.current_revision(), 0);
}

async fn allocations_are_committed_with_their_object(db: &Db) {
    let store = db.open().await;
    let mut write = create("default", "web");
    write.allocate = vec![
        Allocation::new("cluster-ips", "10.96.0.10"),
        Allocation::new("node-ports", "30080"),
    ];

    store.commit(write).await.expect("create with allocations");

    assert_eq!(
        store
            .allocated("cluster-ips")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["10.96.0.10".to_owned()])
    );
    assert_eq!(
        store
            .allocated("node-ports")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["30080".to_owned()])
    );
}

async fn taken_allocation_fails_the_whole_write_and_stores_nothing(db: &Db) {
    let store = db.open().await;
    let mut first = create("default", "first");
    first.allocate = vec![Allocation::new("node-ports", "30080")];
    store.commit(first).await.expect("first takes 30080");
    let mut second = create("default", "second");
    second.allocate = vec![
        Allocation::new("cluster-ips", "10.96.0.11"),
        Allocation::new("node-ports", "30080"),
    ];

    let result = store.commit(second).await;

    assert!(
        matches!(&result, Err(StoreError::AllocationTaken(a)) if *a == Allocation::new("node-ports", "30080")),
        "{result:?}"
    );
    assert_eq!(
        result.err().map(|e| e.to_string()).as_deref(),
        Some("value 30080 of pool node-ports is already allocated")
    );
    let second = store
        .get(&service_key("default", "second"))
        .await
        .expect("get");
    assert!(second.is_none(), "the failed write stored its object");
    assert!(store.allocated("cluster-ips").is_empty());
    assert_eq!(store.current_revision(), 1);
    let reopened = db.open().await;
    assert!(reopened.allocated("cluster-ips").is_empty());
}

async fn release_frees_a_value_for_another_object(db: &Db) {
    let store = db.open().await;
    let mut first = create("default", "first");
    first.allocate = vec![Allocation::new("node-ports", "30080")];
    store.commit(first).await.expect("first takes 30080");
    let mut update = put(
        service_key("default", "first"),
        service("default", "first", 80),
        Precondition::MustExist,
    );
    update.release = vec![Allocation::new("node-ports", "30080")];
    store.commit(update).await.expect("first releases 30080");
    let mut second = create("default", "second");
    second.allocate = vec![Allocation::new("node-ports", "30080")];

    store.commit(second).await.expect("second takes 30080");

    assert_eq!(
        store
            .allocated("node-ports")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["30080".to_owned()])
    );
}

async fn delete_releases_every_allocation_the_object_owns(db: &Db) {
    let store = db.open().await;
    let mut web = create("default", "web");
    web.allocate = vec![
        Allocation::new("cluster-ips", "10.96.0.10"),
        Allocation::new("node-ports", "30080"),
    ];
    store.commit(web).await.expect("create");
    let mut database = create("default", "db");
    database.allocate = vec![Allocation::new("node-ports", "30081")];
    store.commit(database).await.expect("create");

    store
        .commit(delete(service_key("default", "web")))
        .await
        .expect("delete");

    assert!(store.allocated("cluster-ips").is_empty());
    assert_eq!(
        store.allocated("node-ports"),
        BTreeSet::from(["30081".to_owned()]).into()
    );
    let reopened = db.open().await;
    assert_eq!(
        reopened.allocated("node-ports"),
        BTreeSet::from(["30081".to_owned()]).into()
    );
}

async fn reopening_keeps_objects_allocations_and_the_revision(db: &Db) {
    let store = db.open().await;
    let mut web = create("default", "web");
    web.allocate = vec![Allocation::new("node-ports", "30080")];
    store.commit(web).await.expect("create");
    store.commit(create("default", "db")).await.expect("create");
    drop(store);

    let store = db.open().await;

    let web = store
        .get(&service_key("default", "web"))
        .await
        .expect("get")
        .expect("web survives the restart");
    assert_eq!(resource_version(&web.object), Some("1"));
    assert_eq!(store.count("services", None).await.expect("count"), 2);
    assert_eq!(
        store
            .allocated("node-ports")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["30080".to_owned()])
    );
    assert_eq!(store.current_revision(), 2);
    let next = store
        .commit(create("default", "cache"))
        .await
        .expect("create");
    assert_eq!(next.revision, 3);
}

async fn revisions_are_never_reused_after_delete_compaction_and_restart(db: &Db) {
    let store = db.open().await;
    store
        .commit(create("default", "web"))
        .await
        .expect("create");
    store
        .commit(delete(service_key("default", "web")))
        .await
        .expect("delete");
    store.compact(2).await.expect("compact");
    drop(store);

    let store = db.open().await;
    let event = store
        .commit(create("default", "web"))
        .await
        .expect("create");

    assert_eq!(event.revision, 3);
    assert_eq!(store.compacted_revision(), 2);
}

async fn committed_write_is_visible_to_a_fresh_connection(db: &Db) {
    let store = db.open().await;

    let event = store
        .commit(create("default", "web"))
        .await
        .expect("create");
    // A second store on the same file has its own connections; the first stays open, so the
    // write cannot have reached the second through a close-time checkpoint.
    let fresh = db.open().await;

    let seen = fresh
        .get(&service_key("default", "web"))
        .await
        .expect("get")
        .expect("the committed write is on disk");
    assert_eq!(seen.revision, event.revision);
    assert_eq!(fresh.current_revision(), event.revision);
}

async fn watch_from_a_revision_yields_later_events_then_live_ones_in_order(db: &Db) {
    let store = db.open().await;
    store.commit(create("default", "a")).await.expect("rev 1");
    store.commit(create("default", "b")).await.expect("rev 2");
    store
        .commit(delete(service_key("default", "a")))
        .await
        .expect("rev 3");

    let mut watch = store.watch(Some("services"), 1).await.expect("watch");
    let replayed = [next_event(&mut watch).await, next_event(&mut watch).await];
    store.commit(create("default", "c")).await.expect("rev 4");
    let live = next_event(&mut watch).await;

    assert_eq!(
        replayed.iter().map(summary).collect::<Vec<_>>(),
        [
            (2, EventType::Added, "b".to_owned()),
            (3, EventType::Deleted, "a".to_owned()),
        ]
    );
    assert_eq!(summary(&live), (4, EventType::Added, "c".to_owned()));
    assert_eq!(
        resource_version(&live.object.decode().expect("JSON")),
        Some("4")
    );
}

async fn watch_of_one_kind_skips_other_kinds(db: &Db) {
    let store = db.open().await;
    let mut watch = store.watch(Some("services"), 0).await.expect("watch");
    store
        .commit(put(
            ObjectKey::new("endpoints", "default", "web"),
            json!({"kind": "Endpoints"}),
            Precondition::None,
        ))
        .await
        .expect("rev 1");
    store.commit(create("default", "web")).await.expect("rev 2");

    let event = next_event(&mut watch).await;

    assert_eq!(summary(&event), (2, EventType::Added, "web".to_owned()));
    assert_eq!(event.key.kind, "services");
}

async fn watch_that_falls_behind_the_broadcast_rereads_the_log(db: &Db) {
    let store = db.open().await;
    let mut watch = store.watch(None, 0).await.expect("watch");
    store
        .commit(create("default", "first"))
        .await
        .expect("rev 1");
    // Reading the first event drains the log, so the watch now follows the broadcast.
    let mut revisions = vec![next_event(&mut watch).await.revision];
    // More events than the broadcast buffers, committed while nobody reads the watch.
    let total: Revision = 5000;
    let results =
        join_all((2..=total).map(|i| store.commit(create("default", &format!("s{i}"))))).await;
    assert!(results.iter().all(Result::is_ok), "every commit succeeds");

    while revisions.len() < total as usize {
        revisions.push(next_event(&mut watch).await.revision);
    }

    assert_eq!(revisions, (1..=total).collect::<Vec<_>>());
}

async fn watch_below_the_compaction_point_is_expired(db: &Db) {
    let store = db.open().await;
    for name in ["a", "b", "c", "d"] {
        store.commit(create("default", name)).await.expect("create");
    }
    store.compact(3).await.expect("compact");

    let expired = store.watch(None, 2).await.err();
    let mut from_compaction_point = store.watch(None, 3).await.expect("watch from 3");

    assert!(
        matches!(
            expired,
            Some(StoreError::Expired {
                requested: 2,
                oldest: 3
            })
        ),
        "{expired:?}"
    );
    assert_eq!(
        expired.map(|e| e.to_string()).as_deref(),
        Some("too old resource version: 2 (3)")
    );
    assert_eq!(next_event(&mut from_compaction_point).await.revision, 4);
}

async fn compact_keeping_keeps_the_newest_events(db: &Db) {
    let store = db.open().await;
    for name in ["a", "b", "c", "d", "e"] {
        store.commit(create("default", name)).await.expect("create");
    }

    store.compact_keeping(2).await.expect("compact");

    assert_eq!(store.compacted_revision(), 3);
    let mut watch = store.watch(None, 3).await.expect("watch from 3");
    assert_eq!(next_event(&mut watch).await.revision, 4);
    assert_eq!(store.count("services", None).await.expect("count"), 5);
}

async fn concurrent_commits_all_succeed_with_distinct_revisions(db: &Db) {
    let store = db.open().await;

    let handles = (0..32).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.commit(create("default", &format!("s{i}"))).await })
    });
    let results = join_all(handles).await;

    let revisions: BTreeSet<Revision> = results
        .into_iter()
        .map(|joined| joined.expect("task completes").expect("commit").revision)
        .collect();
    assert_eq!(revisions, (1..=32).collect::<BTreeSet<_>>());
    assert_eq!(store.count("services", None).await.expect("count"), 32);
}

async fn a_failing_write_in_a_batch_fails_alone(db: &Db) {
    let store = db.open().await;

    let handles = (0..16).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.commit(create("default", "same")).await })
    });
    let results: Vec<_> = join_all(handles)
        .await
        .into_iter()
        .map(|joined| joined.expect("task completes"))
        .collect();

    let created = results.iter().filter(|r| r.is_ok()).count();
    let already_exists = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::AlreadyExists)))
        .count();
    assert_eq!((created, already_exists), (1, 15));
    assert_eq!(store.current_revision(), 1);
}

async fn concurrent_writes_taking_one_value_leave_exactly_one_owner_after_restart(db: &Db) {
    let store = db.open().await;
    let handles = (0..16).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut write = create("default", &format!("s{i}"));
            write.allocate = vec![
                Allocation::new("node-ports", format!("{}", 31000 + i)),
                Allocation::new("cluster-ips", "10.96.0.10"),
            ];
            store.commit(write).await
        })
    });
    let results: Vec<_> = join_all(handles)
        .await
        .into_iter()
        .map(|joined| joined.expect("task completes"))
        .collect();
    let winners: Vec<usize> = (0..16).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(
        r,
        Err(StoreError::AllocationTaken(a)) if *a == Allocation::new("cluster-ips", "10.96.0.10")
    )));
    let winner = winners[0];
    let ports: BTreeSet<String> = store.allocated("node-ports").into_iter().collect();
    assert_eq!(ports, BTreeSet::from([format!("{}", 31000 + winner)]));
    drop(store);
    let reopened = db.open().await;
    assert_eq!(reopened.current_revision(), 1);
    let ports: BTreeSet<String> = reopened.allocated("node-ports").into_iter().collect();
    assert_eq!(ports, BTreeSet::from([format!("{}", 31000 + winner)]));
    assert_eq!(reopened.count("services", None).await.expect("count"), 1);
    let (listed, _) = reopened
        .list("services", None, None, None)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key.name, format!("s{winner}"));
}

/// A Service with a creation time and a type, as the registry stores them.
fn endpoints(name: &str) -> (ObjectKey, Value) {
    let object = json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {"app": "web"},
            "managedFields": [{"manager": "endpoint-controller", "operation": "Update"}],
        },
        "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}],
    });
    (ObjectKey::new("endpoints", "default", name), object)
}

fn handed_over(key: ObjectKey, object: Value) -> Write {
    Write {
        hand_over: true,
        ..put(key, object, Precondition::MustNotExist)
    }
}

async fn a_handed_over_write_waits_for_the_informers_without_its_managed_fields(db: &Db) {
    let store = db.open().await;
    let (key, object) = endpoints("own");
    let own = store
        .commit(handed_over(key.clone(), object))
        .await
        .expect("commit");
    assert_eq!(
        own.object,
        json!({"metadata": {"resourceVersion": own.revision.to_string()}}),
        "the writer answers with a receipt"
    );

    let stored = store
        .get(&key)
        .await
        .expect("get")
        .expect("the object exists");
    let mut expected = stored.object;
    expected["metadata"]
        .as_object_mut()
        .expect("metadata")
        .shift_remove("managedFields")
        .expect("stored with its managed fields");
    let handed = store.handed_over(own.revision).expect("handed over");
    assert_eq!(
        handed.to_string(),
        expected.to_string(),
        "as stored, in order"
    );
    assert_eq!(store.handed_over(own.revision), None, "taken once");

    let (key, object) = endpoints("passed");
    let passed = store
        .commit(handed_over(key, object))
        .await
        .expect("commit");
    let (key, object) = endpoints("kept");
    let kept = store
        .commit(put(key, object, Precondition::MustNotExist))
        .await
        .expect("commit");
    assert_eq!(kept.object["metadata"]["name"], "kept", "answered whole");
    assert_eq!(store.handed_over(kept.revision), None, "not handed over");
    assert_eq!(
        store.handed_over(passed.revision),
        None,
        "dropped once a newer revision was asked for"
    );

    let service = store
        .commit(Write {
            hand_over: true,
            ..create("default", "web")
        })
        .await
        .expect("commit");
    assert_eq!(
        service.object["metadata"]["name"], "web",
        "the store reads Services itself"
    );
    assert_eq!(store.handed_over(service.revision), None);
}

fn typed_service(namespace: &str, name: &str, created: &str, service_type: &str) -> Write {
    let mut object = service(namespace, name, 80);
    object["metadata"]["creationTimestamp"] = json!(created);
    object["spec"]["type"] = json!(service_type);
    put(
        service_key(namespace, name),
        object,
        Precondition::MustNotExist,
    )
}

/// Three Services in `a` and one in `b`; `a/old` and `a/web-2` share a creation second.
async fn paged_store(db: &Db) -> Store {
    let store = db.open().await;
    for write in [
        typed_service("a", "web-1", "2025-01-03T00:00:00Z", "NodePort"),
        typed_service("a", "old", "2025-01-01T00:00:00Z", "ClusterIP"),
        typed_service("a", "web-2", "2025-01-01T00:00:00Z", "ClusterIP"),
        typed_service("b", "web-3", "2025-01-02T00:00:00Z", "NodePort"),
    ] {
        store.commit(write).await.expect("commit");
    }
    store
}

fn keys(objects: &[StoredObject]) -> Vec<String> {
    objects
        .iter()
        .map(|o| format!("{}/{}", o.key.namespace, o.key.name))
        .collect()
}

/// Every page of `query`, `limit` at a time, as one list of keys.
async fn walk(store: &Store, mut query: ListQuery) -> Vec<String> {
    let mut all = Vec::new();
    loop {
        let (page, _) = store.list_page("services", &query).await.expect("page");
        all.extend(keys(&page));
        match page.last() {
            Some(last) if page.len() == query.limit => query.after = Some(PageCursor::of(last)),
            _ => return all,
        }
    }
}

async fn list_page_orders_by_creation_time_both_ways_across_pages(db: &Db) {
    let store = paged_store(db).await;
    let query = |order, namespace: Option<&str>| ListQuery {
        namespace: namespace.map(str::to_owned),
        order,
        limit: 1,
        ..Default::default()
    };

    let oldest_first = walk(&store, query(ListOrder::CreatedAsc, None)).await;
    let newest_first = walk(&store, query(ListOrder::CreatedDesc, None)).await;
    let newest_in_a = walk(&store, query(ListOrder::CreatedDesc, Some("a"))).await;

    assert_eq!(oldest_first, ["a/old", "a/web-2", "b/web-3", "a/web-1"]);
    assert_eq!(newest_first, ["a/web-1", "b/web-3", "a/web-2", "a/old"]);
    assert_eq!(newest_in_a, ["a/web-1", "a/web-2", "a/old"]);
}

async fn list_page_filters_by_name_and_type_in_every_order(db: &Db) {
    let store = paged_store(db).await;
    let query = |order, namespace: Option<&str>| ListQuery {
        namespace: namespace.map(str::to_owned),
        name_contains: "web".to_owned(),
        spec_type: Some("NodePort".to_owned()),
        order,
        limit: 1,
        ..Default::default()
    };

    let by_name = walk(&store, query(ListOrder::Name, None)).await;
    let by_name_in_a = walk(&store, query(ListOrder::Name, Some("a"))).await;
    let newest_first = walk(&store, query(ListOrder::CreatedDesc, None)).await;
    let web_by_name = walk(
        &store,
        ListQuery {
            spec_type: None,
            ..query(ListOrder::Name, None)
        },
    )
    .await;

    assert_eq!(by_name, ["a/web-1", "b/web-3"]);
    assert_eq!(by_name_in_a, ["a/web-1"]);
    assert_eq!(newest_first, ["a/web-1", "b/web-3"]);
    assert_eq!(web_by_name, ["a/web-1", "a/web-2", "b/web-3"]);
}

async fn list_page_follows_an_update_of_the_type(db: &Db) {
    let store = paged_store(db).await;
    let mut object = store
        .get(&service_key("a", "old"))
        .await
        .expect("get")
        .expect("present")
        .object;
    object["spec"]["type"] = json!("NodePort");
    let update = put(service_key("a", "old"), object, Precondition::MustExist);
    store.commit(update).await.expect("update");

    let query = ListQuery {
        namespace: Some("a".to_owned()),
        spec_type: Some("NodePort".to_owned()),
        limit: 10,
        ..Default::default()
    };
    let (page, _) = store.list_page("services", &query).await.expect("page");

    assert_eq!(keys(&page), ["a/old", "a/web-1"]);
}

/// The orders are rebuilt from the database when a store opens, and a deleted Service leaves
/// every one of them.
async fn list_page_orders_survive_a_restart_and_forget_a_delete(db: &Db) {
    let store = paged_store(db).await;
    store
        .commit(delete(service_key("a", "web-2")))
        .await
        .expect("delete");
    drop(store);
    let store = db.open().await;
    let query = |order, namespace: Option<&str>, spec_type: Option<&str>| ListQuery {
        namespace: namespace.map(str::to_owned),
        spec_type: spec_type.map(str::to_owned),
        order,
        limit: 1,
        ..Default::default()
    };

    let oldest_in_a = walk(&store, query(ListOrder::CreatedAsc, Some("a"), None)).await;
    let newest_first = walk(&store, query(ListOrder::CreatedDesc, None, None)).await;
    let cluster_ips = walk(&store, query(ListOrder::Name, None, Some("ClusterIP"))).await;
    let by_name_in_a = walk(&store, query(ListOrder::Name, Some("a"), None)).await;

    assert_eq!(oldest_in_a, ["a/old", "a/web-1"]);
    assert_eq!(newest_first, ["a/web-1", "b/web-3", "a/old"]);
    assert_eq!(cluster_ips, ["a/old"]);
    assert_eq!(by_name_in_a, ["a/old", "a/web-1"]);
}

fn note(verb: &str) -> HistoryNote {
    HistoryNote {
        verb: verb.to_owned(),
        user: "alice".to_owned(),
        manager: "kubectl".to_owned(),
        ..HistoryNote::default()
    }
}

async fn history_keeps_the_newest_revisions_and_the_delete(db: &Db) {
    let store = db.open().await;
    store.set_history_retention(HistoryRetention::new(2, 30));
    let key = service_key("default", "web");
    store
        .commit(create("default", "web").with_history(note("create")))
        .await
        .expect("create");
    for port in [81, 82] {
        let update = put(
            key.clone(),
            service("default", "web", port),
            Precondition::MustExist,
        );
        store
            .commit(update.with_history(note("update")))
            .await
            .expect("update");
    }
    store
        .commit(delete(key.clone()).with_history(note("delete")))
        .await
        .expect("delete");
    store.prune_history().await.expect("prune by age");

    let rows = store.history(&key, None, 10).await.expect("history");
    let older = store.history(&key, Some(4), 10).await.expect("history");
    let deletes = store
        .deletes("services", "default", 10)
        .await
        .expect("deletes");

    let summary = |rows: &[service_console::store::HistoryRow]| {
        rows.iter()
            .map(|r| (r.revision, r.note.verb.clone(), r.note.user.clone()))
            .collect::<Vec<_>>()
    };
    // Two revisions kept per object: the delete and the update before it.
    assert_eq!(
        summary(&rows),
        [
            (4, "delete".to_owned(), "alice".to_owned()),
            (3, "update".to_owned(), "alice".to_owned())
        ]
    );
    assert_eq!(
        summary(&older),
        [(3, "update".to_owned(), "alice".to_owned())]
    );
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].0, "web");
    assert_eq!(deletes[0].1.uid, "uid-default-web");
    let last: Value = serde_json::from_str(&deletes[0].1.object).expect("JSON");
    assert_eq!(last["spec"]["ports"][0]["port"], 82);
}

on_both_backends!(
    history_keeps_the_newest_revisions_and_the_delete,
    put_then_get_returns_object_with_resource_version,
    put_of_present_key_is_modified_with_new_revision,
    delete_removes_object_and_carries_last_state_at_new_revision,
    list_orders_by_namespace_and_name_and_continues_after_a_key,
    count_counts_one_kind_in_one_or_all_namespaces,
    revisions_are_global_across_kinds_and_strictly_increasing,
    revision_precondition_on_changed_object_is_conflict,
    uid_precondition_on_recreated_object_is_conflict,
    must_not_exist_on_present_key_is_already_exists,
    must_exist_on_missing_key_is_not_found,
    delete_of_missing_key_is_not_found,
    allocations_are_committed_with_their_object,
    taken_allocation_fails_the_whole_write_and_stores_nothing,
    release_frees_a_value_for_another_object,
    delete_releases_every_allocation_the_object_owns,
    reopening_keeps_objects_allocations_and_the_revision,
    revisions_are_never_reused_after_delete_compaction_and_restart,
    committed_write_is_visible_to_a_fresh_connection,
    watch_from_a_revision_yields_later_events_then_live_ones_in_order,
    watch_of_one_kind_skips_other_kinds,
    watch_that_falls_behind_the_broadcast_rereads_the_log,
    watch_below_the_compaction_point_is_expired,
    compact_keeping_keeps_the_newest_events,
    concurrent_commits_all_succeed_with_distinct_revisions,
    a_failing_write_in_a_batch_fails_alone,
    concurrent_writes_taking_one_value_leave_exactly_one_owner_after_restart,
    list_page_orders_by_creation_time_both_ways_across_pages,
    list_page_filters_by_name_and_type_in_every_order,
    list_page_follows_an_update_of_the_type,
    list_page_orders_survive_a_restart_and_forget_a_delete,
    a_handed_over_write_waits_for_the_informers_without_its_managed_fields,
);
