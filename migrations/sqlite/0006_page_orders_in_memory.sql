-- The console's Services pages walk orders kept in memory beside the object cache, as every
-- other read does, instead of these indexes: each Service write updated all three, at places
-- that move with each name, and they were a sixth of the pages a create storm's commits wrote.
-- The created_at and spec_type columns stay, no longer written: dropping a column rewrites the
-- whole table. They hold what earlier versions wrote; rows created since hold ''.

DROP INDEX objects_by_created;
DROP INDEX objects_by_created_all;
DROP INDEX objects_by_type;
