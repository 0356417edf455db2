-- The console's Services pages walk orders kept in memory beside each replica's object cache,
-- as every other read does, instead of these indexes, which every Service write updated.
-- The created_at and spec_type columns stay, no longer written.

DROP INDEX objects_by_created;
DROP INDEX objects_by_created_all;
DROP INDEX objects_by_type;
