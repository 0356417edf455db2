-- The revision history of objects that keep one (Services): each write's object as written,
-- with who wrote it, when and how, committed in the write's own transaction. Rows outlive
-- their object (a delete adds one), and are pruned per object on its writes (by count and
-- age) and by age in the background, each through an index, never by scanning the table.
CREATE TABLE history (
    kind        TEXT   NOT NULL,
    namespace   TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    revision    BIGINT NOT NULL,
    uid         TEXT   NOT NULL,
    -- create, update, patch, apply or delete; subresource is 'status' or ''.
    verb        TEXT   NOT NULL,
    subresource TEXT   NOT NULL,
    username    TEXT   NOT NULL,
    user_agent  TEXT   NOT NULL,
    manager     TEXT   NOT NULL,
    -- RFC 3339 in UTC at the second, as Kubernetes writes timestamps.
    written_at  TEXT   NOT NULL,
    object      TEXT   NOT NULL,
    PRIMARY KEY (kind, namespace, name, revision)
);

-- Recently deleted objects of a namespace, newest first.
CREATE INDEX history_deletes ON history (kind, namespace, revision) WHERE verb = 'delete';
-- The background age pruning.
CREATE INDEX history_by_time ON history (written_at);
