-- Revisioned objects, the watch event log, allocations and the revision counters.

-- The current state of every object; `revision` is the global revision of its last write.
CREATE TABLE objects (
    kind      TEXT   NOT NULL,
    namespace TEXT   NOT NULL,
    name      TEXT   NOT NULL,
    uid       TEXT   NOT NULL,
    revision  BIGINT NOT NULL,
    object    TEXT   NOT NULL,
    PRIMARY KEY (kind, namespace, name)
);

-- One row per committed write, newest last; rows at or below meta.compacted_revision are gone.
-- INTEGER PRIMARY KEY makes the revision SQLite's rowid (still 64-bit), so appends stay cheap.
CREATE TABLE events (
    revision   INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    event_type TEXT NOT NULL CHECK (event_type IN ('ADDED', 'MODIFIED', 'DELETED')),
    object     TEXT NOT NULL
);

CREATE INDEX events_by_kind ON events (kind, revision);

-- Values taken from a pool (a ClusterIP, a node port), each owned by one object.
CREATE TABLE allocations (
    pool            TEXT NOT NULL,
    value           TEXT NOT NULL,
    owner_kind      TEXT NOT NULL,
    owner_namespace TEXT NOT NULL,
    owner_name      TEXT NOT NULL,
    PRIMARY KEY (pool, value)
);

CREATE INDEX allocations_by_owner ON allocations (owner_kind, owner_namespace, owner_name);

-- The one global revision counter and the compaction point; a single row, so that the counter
-- survives restarts and never goes back, whatever is deleted or compacted.
CREATE TABLE meta (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    revision           BIGINT NOT NULL,
    compacted_revision BIGINT NOT NULL
);

INSERT INTO meta (id, revision, compacted_revision) VALUES (1, 0, 0);
