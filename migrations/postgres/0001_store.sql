-- The store on PostgreSQL: the same tables as on SQLite (objects, the event log, allocations,
-- the revision counters, history), created at once. Text keys use the "C" collation so that
-- rows sort by bytes, exactly as the in-memory cache and SQLite order them, whatever the
-- database's locale.

-- The current state of every object; `revision` is the global revision of its last write.
CREATE TABLE objects (
    kind       TEXT COLLATE "C" NOT NULL,
    namespace  TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    uid        TEXT   NOT NULL,
    revision   BIGINT NOT NULL,
    object     TEXT   NOT NULL,
    -- Derived from the object by the writer, for lists that filter and sort in SQL.
    created_at TEXT COLLATE "C" NOT NULL DEFAULT '',
    spec_type  TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (kind, namespace, name)
);

CREATE INDEX objects_by_created ON objects (kind, namespace, created_at, name, spec_type);
CREATE INDEX objects_by_created_all ON objects (kind, created_at, namespace, name, spec_type);
CREATE INDEX objects_by_type ON objects (kind, spec_type, namespace, name);

-- One row per committed write, one per revision without gaps; rows at or below
-- meta.compacted_revision are gone. Beside what a watch needs, each row carries what a
-- replica's tailer needs to apply the write to its cache: the uid and the allocations the
-- write took and gave back (JSON arrays of [pool, value]).
CREATE TABLE events (
    revision   BIGINT PRIMARY KEY,
    kind       TEXT COLLATE "C" NOT NULL,
    namespace  TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    event_type TEXT NOT NULL CHECK (event_type IN ('ADDED', 'MODIFIED', 'DELETED')),
    uid        TEXT NOT NULL,
    object     TEXT NOT NULL,
    allocated  TEXT NOT NULL DEFAULT '[]',
    released   TEXT NOT NULL DEFAULT '[]'
);

CREATE INDEX events_by_kind ON events (kind, revision);

-- Values taken from a pool (a ClusterIP, a node port), each owned by one object: the primary
-- key is what makes two replicas unable to hand out the same value.
CREATE TABLE allocations (
    pool            TEXT COLLATE "C" NOT NULL,
    value           TEXT COLLATE "C" NOT NULL,
    owner_kind      TEXT COLLATE "C" NOT NULL,
    owner_namespace TEXT COLLATE "C" NOT NULL,
    owner_name      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool, value)
);

CREATE INDEX allocations_by_owner ON allocations (owner_kind, owner_namespace, owner_name);

-- The one global revision counter and the compaction point. Every write transaction of every
-- replica locks this row first and holds it until it commits: that lock is the single order
-- of revisions (see the postgres module).
CREATE TABLE meta (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    revision           BIGINT NOT NULL,
    compacted_revision BIGINT NOT NULL
);

INSERT INTO meta (id, revision, compacted_revision) VALUES (1, 0, 0);

-- The revision history of objects that keep one (Services), as on SQLite.
CREATE TABLE history (
    kind        TEXT COLLATE "C" NOT NULL,
    namespace   TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    revision    BIGINT NOT NULL,
    uid         TEXT   NOT NULL,
    verb        TEXT   NOT NULL,
    subresource TEXT   NOT NULL,
    username    TEXT   NOT NULL,
    user_agent  TEXT   NOT NULL,
    manager     TEXT   NOT NULL,
    written_at  TEXT COLLATE "C" NOT NULL,
    object      TEXT   NOT NULL,
    PRIMARY KEY (kind, namespace, name, revision)
);

CREATE INDEX history_deletes ON history (kind, namespace, revision) WHERE verb = 'delete';
CREATE INDEX history_by_time ON history (written_at);
