//! What both backends share around their SQL: the rows they read, the state a store starts
//! from, and the history clock. No SQL text lives here; each backend's module holds its own
//! dialect.

use std::borrow::Cow;

use super::{
    Allocation, HistoryNote, HistoryRetention, HistoryRow, ObjectKey, Revision, StoreError,
    history_time,
};

/// What a store starts from: every object, the counters and the allocations, as one snapshot
/// of the database.
pub(super) struct StartState {
    pub(super) objects: super::cache::ObjectCache,
    pub(super) revision: Revision,
    pub(super) compacted: Revision,
    pub(super) allocations: Vec<Allocation>,
}

/// An object column as a backend reads it: PostgreSQL's JSON text, or SQLite's stored bytes
/// (see [`super::cache::stored_json`]).
pub(super) trait ObjectColumn {
    /// The object's JSON text.
    fn json(&self, revision: Revision) -> Result<Cow<'_, str>, StoreError>;
}

impl ObjectColumn for String {
    fn json(&self, _revision: Revision) -> Result<Cow<'_, str>, StoreError> {
        Ok(Cow::Borrowed(self))
    }
}

impl ObjectColumn for Vec<u8> {
    fn json(&self, revision: Revision) -> Result<Cow<'_, str>, StoreError> {
        super::cache::stored_json(self)
            .map_err(|error| StoreError::Corrupt(format!("object at revision {revision}: {error}")))
    }
}

pub(super) fn parse_json(text: &str, revision: Revision) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("object at revision {revision}: {error}")))
}

pub(super) fn to_json(object: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(object)
        .map_err(|error| StoreError::Corrupt(format!("object cannot be serialized: {error}")))
}

/// The current (uid, revision, object JSON) of a key.
#[derive(sqlx::FromRow)]
pub(super) struct CurrentRow {
    pub(super) uid: String,
    pub(super) revision: i64,
    pub(super) object: String,
}

/// The time of a batch's history rows and the retention they are pruned by.
pub(super) struct HistoryClock {
    pub(super) retention: HistoryRetention,
    /// `written_at` of the batch's rows.
    pub(super) now: String,
    /// Rows written before this are older than the retention's age.
    pub(super) cutoff: String,
}

impl HistoryClock {
    pub(super) fn now(retention: HistoryRetention) -> HistoryClock {
        let now = jiff::Timestamp::now();
        HistoryClock {
            retention,
            now: history_time(now),
            cutoff: retention.cutoff(now),
        }
    }
}

/// One history row to insert, its object as the backend stores it (JSON text, or SQLite's
/// stored bytes).
pub(super) struct NewHistoryRow<'a, O: ?Sized = str> {
    pub(super) key: &'a ObjectKey,
    pub(super) revision: Revision,
    pub(super) uid: &'a str,
    pub(super) note: &'a HistoryNote,
    pub(super) object: &'a O,
}

#[derive(sqlx::FromRow)]
pub(super) struct HistorySqlRow<O> {
    name: String,
    revision: i64,
    uid: String,
    verb: String,
    subresource: String,
    username: String,
    user_agent: String,
    manager: String,
    written_at: String,
    object: O,
}

impl<O: ObjectColumn> HistorySqlRow<O> {
    pub(super) fn into_row(self) -> Result<(String, HistoryRow), StoreError> {
        let object = self.object.json(self.revision)?.into_owned();
        Ok((
            self.name,
            HistoryRow {
                revision: self.revision,
                uid: self.uid,
                note: HistoryNote {
                    verb: self.verb,
                    subresource: self.subresource,
                    user: self.username,
                    user_agent: self.user_agent,
                    manager: self.manager,
                },
                written_at: self.written_at,
                object,
            },
        ))
    }
}
