//! The writer's fast path. A batch of puts that release nothing (creates and plain updates,
//! the bulk of any storm and of every controller's writes) is decided in memory, against the
//! store's object cache and allocation mirror, which hold exactly what is committed, and then
//! written with one statement per table, instead of a savepoint and five statements for
//! every write. Any other batch takes the general path, which decides in SQL.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::store::HistoryNote;

use super::{
    Allocation, Applied, BatchOp, Encoded, Event, EventType, HistoryClock, NewHistoryRow,
    ObjectKey, Revision, Shared, StoreError, WriteOp, created_at, insert_history, spec_type,
    to_json, with_resource_version,
};

/// Rows per multi-row statement, well under SQLite's 32,766 bound parameters.
pub(super) const ROWS_PER_STATEMENT: usize = 400;

/// A batch decided in memory: each write's outcome, and the rows of those that commit.
pub(in crate::store) struct Plan {
    pub(in crate::store) revision_before: Revision,
    pub(in crate::store) revision_after: Revision,
    pub(in crate::store) outcomes: Vec<Result<Applied, StoreError>>,
    rows: Vec<Row>,
}

/// One committed put.
struct Row {
    key: ObjectKey,
    event_type: EventType,
    uid: String,
    revision: Revision,
    /// The object's JSON text, as the rows store it.
    text: String,
    created_at: String,
    spec_type: String,
    allocate: Vec<Allocation>,
    history: Option<HistoryNote>,
}

/// Decides `ops` in memory, or `None` when the batch needs the general path (a delete, a
/// release, whose owners only the allocations table knows, or a compaction).
pub(in crate::store) fn plan(ops: &[BatchOp], shared: &Shared, revision: Revision) -> Option<Plan> {
    let cache = shared.read_objects();
    let taken = shared
        .allocations
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut written: HashMap<&ObjectKey, (&str, Revision)> = HashMap::new();
    let mut taken_here: HashSet<(&str, &str)> = HashSet::new();
    let mut plan = Plan {
        revision_before: revision,
        revision_after: revision,
        outcomes: Vec::with_capacity(ops.len()),
        rows: Vec::with_capacity(ops.len()),
    };
    for op in ops {
        let BatchOp::Write(write) = op else {
            return None;
        };
        let WriteOp::Put {
            key,
            uid,
            object,
            precondition,
        } = &write.op
        else {
            return None;
        };
        if !write.release.is_empty() {
            return None;
        }
        let cached = cache.get(key);
        let current = written
            .get(key)
            .copied()
            .or_else(|| cached.as_ref().map(|c| (c.uid(), c.revision())));
        if let Err(e) = precondition.check(current) {
            plan.outcomes.push(Err(e));
            continue;
        }
        let conflict = write.allocate.iter().enumerate().find(|(i, a)| {
            let pair = (a.pool.as_str(), a.value.as_str());
            taken
                .get(&a.pool)
                .is_some_and(|values| values.contains(&a.value))
                || taken_here.contains(&pair)
                || write.allocate[..*i].contains(a)
        });
        if let Some((_, allocation)) = conflict {
            plan.outcomes
                .push(Err(StoreError::AllocationTaken(allocation.clone())));
            continue;
        }
        let next = plan.revision_after + 1;
        let stored = match with_resource_version(object.clone(), next)
            .and_then(|object| Ok((to_json(&object)?, object)))
        {
            Ok(stored) => stored,
            Err(e) => {
                plan.outcomes.push(Err(e));
                continue;
            }
        };
        let (text, object) = stored;
        plan.revision_after = next;
        written.insert(key, (uid.as_str(), next));
        taken_here.extend(
            write
                .allocate
                .iter()
                .map(|a| (a.pool.as_str(), a.value.as_str())),
        );
        let event_type = if current.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        let stored = Arc::new(Encoded::new(uid, next, &text).with_read_as_is(write.read_as_is));
        plan.rows.push(Row {
            key: key.clone(),
            event_type,
            uid: uid.clone(),
            revision: next,
            text,
            created_at: created_at(&object).to_owned(),
            spec_type: spec_type(&object).to_owned(),
            allocate: write.allocate.clone(),
            history: write.history.clone(),
        });
        plan.outcomes.push(Ok(Applied::Write {
            event: Event {
                revision: next,
                event_type,
                key: key.clone(),
                object: stored,
            },
            object,
            allocated: write.allocate.clone(),
            released: Vec::new(),
            stored: true,
        }));
    }
    Some(plan)
}

impl Plan {
    /// Writes the committed rows: allocations, objects, events and the revision.
    pub(in crate::store) async fn execute(
        &self,
        conn: &mut SqliteConnection,
        clock: &HistoryClock,
    ) -> Result<(), sqlx::Error> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let allocations: Vec<(&Allocation, &ObjectKey)> = self
            .rows
            .iter()
            .flat_map(|row| row.allocate.iter().map(move |a| (a, &row.key)))
            .collect();
        for chunk in allocations.chunks(ROWS_PER_STATEMENT) {
            let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO allocations (pool, value, owner_kind, owner_namespace, owner_name) ",
            );
            insert.push_values(chunk, |mut row, (allocation, key)| {
                row.push_bind(allocation.pool.as_str())
                    .push_bind(allocation.value.as_str())
                    .push_bind(key.kind.as_str())
                    .push_bind(key.namespace.as_str())
                    .push_bind(key.name.as_str());
            });
            insert.build().execute(&mut *conn).await?;
        }
        for chunk in self.rows.chunks(ROWS_PER_STATEMENT) {
            let mut upsert: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO objects \
                 (kind, namespace, name, uid, revision, object, created_at, spec_type) ",
            );
            upsert.push_values(chunk, |mut row, put| {
                row.push_bind(put.key.kind.as_str())
                    .push_bind(put.key.namespace.as_str())
                    .push_bind(put.key.name.as_str())
                    .push_bind(put.uid.as_str())
                    .push_bind(put.revision)
                    .push_bind(put.text.as_str())
                    .push_bind(put.created_at.as_str())
                    .push_bind(put.spec_type.as_str());
            });
            upsert.push(
                " ON CONFLICT (kind, namespace, name) DO UPDATE SET uid = excluded.uid, \
                 revision = excluded.revision, object = excluded.object, \
                 created_at = excluded.created_at, spec_type = excluded.spec_type",
            );
            upsert.build().execute(&mut *conn).await?;

            let mut events: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO events (revision, kind, namespace, name, event_type, object) ",
            );
            events.push_values(chunk, |mut row, put| {
                row.push_bind(put.revision)
                    .push_bind(put.key.kind.as_str())
                    .push_bind(put.key.namespace.as_str())
                    .push_bind(put.key.name.as_str())
                    .push_bind(put.event_type.as_str())
                    .push_bind(put.text.as_str());
            });
            events.build().execute(&mut *conn).await?;
        }
        let history: Vec<NewHistoryRow<'_>> = self
            .rows
            .iter()
            .filter_map(|row| {
                Some(NewHistoryRow {
                    key: &row.key,
                    revision: row.revision,
                    uid: &row.uid,
                    note: row.history.as_ref()?,
                    text: &row.text,
                })
            })
            .collect();
        if !history.is_empty() {
            insert_history(&mut *conn, &history, clock).await?;
        }
        sqlx::query("UPDATE meta SET revision = $1 WHERE id = 1")
            .bind(self.revision_after)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
