//! The writer's fast path. A batch of puts that release nothing (creates and plain updates,
//! the bulk of any storm and of every controller's writes) is decided in memory, against the
//! store's object cache and allocation mirror, which hold exactly what is committed, and then
//! written with the same prepared statements row by row, without a savepoint or a lookup per
//! write. Any other batch takes the general path, which decides in SQL.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rusqlite::Connection;

use crate::store::HistoryNote;

use super::super::rows::{HistoryClock, NewHistoryRow, to_json};
use super::super::{
    Allocation, Applied, BatchOp, Encoded, Event, EventType, ObjectKey, Revision, Shared,
    StoreError, Write, WriteOp, with_resource_version,
};
use super::write::{insert_allocation, insert_event, insert_history, put_object, write_sql};

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
    /// The object as the rows store it, and as the outcome's event carries it.
    stored: Arc<Encoded>,
    allocate: Vec<Allocation>,
    history: Option<HistoryNote>,
}

/// Decides `ops` in memory, or `None` when the batch needs the general path (a delete, a
/// release, whose owners only the allocations table knows, or a compaction). A planned put's
/// object is moved out of its op into the outcome, not copied: this runs on the writer, where
/// every microsecond holds up the whole batch.
pub(in crate::store) fn plan(
    ops: &mut [BatchOp],
    shared: &Shared,
    revision: Revision,
) -> Option<Plan> {
    let puts_only = ops.iter().all(|op| {
        matches!(op, BatchOp::Write(write)
            if write.release.is_empty() && matches!(write.op, WriteOp::Put { .. }))
    });
    if !puts_only {
        return None;
    }
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
    for op in ops.iter_mut() {
        let BatchOp::Write(Write {
            op:
                WriteOp::Put {
                    key,
                    uid,
                    object,
                    precondition,
                },
            allocate,
            history,
            read_as_is,
            ..
        }) = op
        else {
            // Not reached (every op is a put, as checked above); an outcome keeps the replies
            // in step all the same.
            plan.outcomes.push(Err(StoreError::Corrupt(
                "a planned batch holds only puts".to_owned(),
            )));
            continue;
        };
        let read_as_is = *read_as_is;
        let cached = cache.get(key);
        let current = written
            .get(key)
            .copied()
            .or_else(|| cached.as_ref().map(|c| (c.uid(), c.revision())));
        if let Err(e) = precondition.check(current) {
            plan.outcomes.push(Err(e));
            continue;
        }
        let conflict = allocate.iter().enumerate().find(|(i, a)| {
            let pair = (a.pool.as_str(), a.value.as_str());
            taken
                .get(&a.pool)
                .is_some_and(|values| values.contains(&a.value))
                || taken_here.contains(&pair)
                || allocate[..*i].contains(a)
        });
        if let Some((_, allocation)) = conflict {
            plan.outcomes
                .push(Err(StoreError::AllocationTaken(allocation.clone())));
            continue;
        }
        let next = plan.revision_after + 1;
        let stored = match with_resource_version(std::mem::take(object), next)
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
        taken_here.extend(allocate.iter().map(|a| (a.pool.as_str(), a.value.as_str())));
        let event_type = if current.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        let stored = Arc::new(Encoded::new(uid, next, &text).with_read_as_is(read_as_is));
        plan.rows.push(Row {
            key: key.clone(),
            event_type,
            uid: uid.clone(),
            revision: next,
            stored: Arc::clone(&stored),
            allocate: allocate.to_vec(),
            history: history.clone(),
        });
        plan.outcomes.push(Ok(Applied::Write {
            event: Event {
                revision: next,
                event_type,
                key: key.clone(),
                object: stored,
            },
            object,
            allocated: allocate.to_vec(),
            released: Vec::new(),
            stored: true,
        }));
    }
    Some(plan)
}

impl Plan {
    /// Writes the committed rows: allocations, objects, events, history and the revision.
    pub(in crate::store) fn execute(
        &self,
        conn: &Connection,
        clock: &HistoryClock,
    ) -> rusqlite::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        for row in &self.rows {
            for allocation in &row.allocate {
                insert_allocation(conn, allocation, &row.key)?;
            }
            put_object(conn, &row.key, &row.uid, row.revision, row.stored.stored())?;
            insert_event(
                conn,
                row.revision,
                &row.key,
                row.event_type,
                row.stored.stored(),
            )?;
        }
        let history: Vec<NewHistoryRow<'_, [u8]>> = self
            .rows
            .iter()
            .filter_map(|row| {
                Some(NewHistoryRow {
                    key: &row.key,
                    revision: row.revision,
                    uid: &row.uid,
                    note: row.history.as_ref()?,
                    object: row.stored.stored(),
                })
            })
            .collect();
        if !history.is_empty() {
            insert_history(conn, &history, clock)?;
        }
        conn.prepare_cached(write_sql::SET_REVISION)?
            .execute([self.revision_after])?;
        Ok(())
    }
}
