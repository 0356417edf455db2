-- Only Services are paged in SQL (the console's Services page: by creation time, by type);
-- every other kind is listed from the in-memory cache. Indexing the other kinds cost every
-- controller write (an Endpoints and an EndpointSlice per Service) three more index pages,
-- one of them at a random place, for queries that never ran. The page statements name the
-- kind as a literal, so that SQLite may use these partial indexes.

DROP INDEX objects_by_created;
DROP INDEX objects_by_created_all;
DROP INDEX objects_by_type;

CREATE INDEX objects_by_created ON objects (kind, namespace, created_at, name, spec_type)
    WHERE kind = 'services';
CREATE INDEX objects_by_created_all ON objects (kind, created_at, namespace, name, spec_type)
    WHERE kind = 'services';
CREATE INDEX objects_by_type ON objects (kind, spec_type, namespace, name)
    WHERE kind = 'services';
