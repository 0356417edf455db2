-- Columns derived from the object on every write, so that lists filter and sort in SQL with an
-- index instead of reading and parsing every object: the creation time and `spec.type`.
-- '' when the object has none. The writer keeps them in step with `object`.

ALTER TABLE objects ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN spec_type  TEXT NOT NULL DEFAULT '';

UPDATE objects SET
    created_at = COALESCE(json_extract(object, '$.metadata.creationTimestamp'), ''),
    spec_type  = COALESCE(json_extract(object, '$.spec.type'), '');

-- Pages by creation time, in one namespace and across namespaces. `spec_type` rides along so a
-- type filter on these orders is checked in the index, without reading the object.
CREATE INDEX objects_by_created ON objects (kind, namespace, created_at, name, spec_type);
CREATE INDEX objects_by_created_all ON objects (kind, created_at, namespace, name, spec_type);

-- Pages of one type by name, in one namespace (namespace equal) or across namespaces.
CREATE INDEX objects_by_type ON objects (kind, spec_type, namespace, name);
