//! What both backends share around their SQL: the rows they read, the state a store starts
//! from, the choice of a page query, and the history clock. No SQL text lives here; each
//! backend's module holds its own dialect.

use std::borrow::Cow;

use super::{
    Allocation, HistoryNote, HistoryRetention, HistoryRow, ListOrder, ListQuery, ObjectKey,
    Revision, StoreError, StoredObject, history_time,
};

/// Sorts after every stored `created_at` (RFC 3339 text starts with a digit): where a newest
/// first walk starts.
const AFTER_EVERY_TIMESTAMP: &str = "\u{10FFFF}";

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

#[derive(sqlx::FromRow)]
pub(super) struct ObjectRow<O> {
    namespace: String,
    name: String,
    uid: String,
    revision: i64,
    object: O,
}

impl<O: ObjectColumn> ObjectRow<O> {
    pub(super) fn into_stored(self, kind: &str) -> Result<StoredObject, StoreError> {
        Ok(StoredObject {
            object: parse_json(&self.object.json(self.revision)?, self.revision)?,
            key: ObjectKey {
                kind: kind.to_owned(),
                namespace: self.namespace,
                name: self.name,
            },
            uid: self.uid,
            revision: self.revision,
        })
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

/// A backend's page queries, one per (order, namespace or all, type filter or not). Each takes
/// its text parameters in the order [`page_statement`] gives them and the limit last.
pub(super) struct PageStatements {
    /// By name in one namespace: kind, namespace, after name, name contains.
    pub(super) name_in_namespace: &'static str,
    /// By name in one namespace, one type: kind, type, namespace, after name, name contains.
    pub(super) name_in_namespace_of_type: &'static str,
    /// By (namespace, name): kind, after namespace, after name, name contains.
    pub(super) name_all: &'static str,
    /// By (namespace, name), one type: kind, type, after namespace, after name, name contains.
    pub(super) name_all_of_type: &'static str,
    /// Oldest first in one namespace: kind, namespace, after created_at, after name, name
    /// contains, type (`''`: any).
    pub(super) created_asc_in_namespace: &'static str,
    /// Newest first in one namespace; parameters as `created_asc_in_namespace`.
    pub(super) created_desc_in_namespace: &'static str,
    /// Oldest first across namespaces: kind, after created_at, after namespace, after name,
    /// name contains, type (`''`: any).
    pub(super) created_asc_all: &'static str,
    /// Newest first across namespaces; parameters as `created_asc_all`.
    pub(super) created_desc_all: &'static str,
}

/// The statement of a page query and its text parameters (the limit is bound after them).
pub(super) fn page_statement<'q>(
    sql: &PageStatements,
    kind: &'q str,
    query: &'q ListQuery,
) -> (&'static str, Vec<&'q str>) {
    let descending = query.order == ListOrder::CreatedDesc;
    let (after_created, after_namespace, after_name) = match &query.after {
        Some(after) => (
            after.created_at.as_str(),
            after.namespace.as_str(),
            after.name.as_str(),
        ),
        // Names are never empty, so ("", "", "") sorts before every key: "from the start".
        None if descending => (AFTER_EVERY_TIMESTAMP, "", ""),
        None => ("", "", ""),
    };
    let contains = query.name_contains.as_str();
    let spec_type = query.spec_type.as_deref().unwrap_or("");
    let namespace = query.namespace.as_deref();
    match (query.order, namespace, spec_type) {
        (ListOrder::Name, Some(ns), "") => {
            (sql.name_in_namespace, vec![kind, ns, after_name, contains])
        }
        (ListOrder::Name, Some(ns), ty) => (
            sql.name_in_namespace_of_type,
            vec![kind, ty, ns, after_name, contains],
        ),
        (ListOrder::Name, None, "") => (
            sql.name_all,
            vec![kind, after_namespace, after_name, contains],
        ),
        (ListOrder::Name, None, ty) => (
            sql.name_all_of_type,
            vec![kind, ty, after_namespace, after_name, contains],
        ),
        (ListOrder::CreatedAsc | ListOrder::CreatedDesc, Some(ns), ty) => {
            let sql = if descending {
                sql.created_desc_in_namespace
            } else {
                sql.created_asc_in_namespace
            };
            (sql, vec![kind, ns, after_created, after_name, contains, ty])
        }
        (ListOrder::CreatedAsc | ListOrder::CreatedDesc, None, ty) => {
            let sql = if descending {
                sql.created_desc_all
            } else {
                sql.created_asc_all
            };
            (
                sql,
                vec![
                    kind,
                    after_created,
                    after_namespace,
                    after_name,
                    contains,
                    ty,
                ],
            )
        }
    }
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
