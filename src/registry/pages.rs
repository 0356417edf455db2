//! Pages of a list for people, not for `kubectl`: filtered and sorted by the store's indexes so
//! one page costs about one page of reads at any size, continued by an opaque token. Label
//! selectors, which no index serves, scan a bounded stretch per page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use service_plan::selector::LabelSelector;

use super::{ListOptions, Registry, RegistryError};
use crate::store::{ListQuery, StoredObject};

pub use crate::store::{ListOrder, PageCursor};

/// Objects a page with a label selector reads from the store at most; past them the page ends
/// early (perhaps empty) with a token to continue, as a Kubernetes list with `limit` may.
pub const MAX_SCANNED_PER_PAGE: usize = 2_000;
/// Objects read per store query while a label selector filters.
const SCAN_BATCH: usize = 250;

/// What one page selects and in which order.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    /// `None` lists all namespaces.
    pub namespace: Option<String>,
    /// Only names containing this text; `""` selects every name.
    pub name_contains: String,
    /// Only objects whose `spec.type` is this.
    pub spec_type: Option<String>,
    /// Only objects whose labels match.
    pub label_selector: Option<LabelSelector>,
    /// The order of the items.
    pub order: ListOrder,
    /// Continue after this object; `None` is the first page.
    pub after: Option<PageCursor>,
    /// At most this many items.
    pub limit: usize,
}

/// One page, decorated as a read returns objects.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The selected objects, in the query's order.
    pub items: Vec<Value>,
    /// The store's revision when the page was read: a watch from it misses nothing.
    pub revision: i64,
    /// Where the next page starts, when more objects may match.
    pub next: Option<PageCursor>,
}

impl Registry {
    /// One page of objects of `resource`, filtered and ordered by `query`.
    pub async fn list_page(
        &self,
        resource: &str,
        query: &PageQuery,
    ) -> Result<Page, RegistryError> {
        let mut store_query = ListQuery {
            order: query.order,
            after: query.after.clone(),
            // One more than a page tells whether there is a next one.
            limit: query.limit + 1,
            ..filters(query)
        };
        let Some(selector) = &query.label_selector else {
            let (mut rows, revision) = self.store().list_page(resource, &store_query).await?;
            let more = rows.len() > query.limit;
            rows.truncate(query.limit);
            let next = more.then(|| rows.last().map(PageCursor::of)).flatten();
            return Ok(Page {
                items: self.decorate_all(resource, rows),
                revision,
                next,
            });
        };
        let opts = ListOptions {
            label_selector: Some(selector.clone()),
            ..Default::default()
        };
        let mut matched: Vec<StoredObject> = Vec::new();
        let mut scanned = 0;
        let mut first_revision = None;
        store_query.limit = SCAN_BATCH;
        loop {
            let (rows, revision) = self.store().list_page(resource, &store_query).await?;
            let revision = *first_revision.get_or_insert(revision);
            let exhausted = rows.len() < SCAN_BATCH;
            scanned += rows.len();
            for row in rows {
                let cursor = PageCursor::of(&row);
                // Labels are not changed by decoration, so only the matches are decorated.
                if self.matches(resource, &row.object, &opts) {
                    if matched.len() == query.limit {
                        let next = matched.last().map(PageCursor::of);
                        return Ok(Page {
                            items: self.decorate_all(resource, matched),
                            revision,
                            next,
                        });
                    }
                    matched.push(row);
                }
                store_query.after = Some(cursor);
            }
            if exhausted || scanned >= MAX_SCANNED_PER_PAGE {
                let next = if exhausted { None } else { store_query.after };
                return Ok(Page {
                    items: self.decorate_all(resource, matched),
                    revision,
                    next,
                });
            }
        }
    }

    /// How many objects of `resource` the name, type and namespace of `query` select (its
    /// cursor, order and limit aside), counting no further than `cap` and decoding nothing.
    /// A label selector needs the objects: it is no part of this count.
    pub async fn count_page(
        &self,
        resource: &str,
        query: &PageQuery,
        cap: usize,
    ) -> Result<usize, RegistryError> {
        Ok(self
            .store()
            .count_page(resource, &filters(query), cap)
            .await?)
    }

    fn decorate_all(&self, resource: &str, rows: Vec<StoredObject>) -> Vec<Value> {
        rows.into_iter()
            .map(|row| self.decorate(resource, row.object))
            .collect()
    }
}

/// The store's query for the namespace, name and type filters of `query`.
fn filters(query: &PageQuery) -> ListQuery {
    ListQuery {
        namespace: query.namespace.clone(),
        name_contains: query.name_contains.clone(),
        spec_type: query.spec_type.clone().filter(|t| !t.is_empty()),
        ..ListQuery::default()
    }
}

impl PageCursor {
    /// The cursor as an opaque, URL-safe continue token.
    pub fn to_token(&self) -> String {
        // Namespaces, names and RFC 3339 times contain no '/', so the split is unambiguous.
        URL_SAFE_NO_PAD.encode(format!(
            "{}/{}/{}",
            self.created_at, self.namespace, self.name
        ))
    }

    /// Reads a token of [`PageCursor::to_token`]; `None` for anything else.
    pub fn from_token(token: &str) -> Option<PageCursor> {
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
        let (created_at, rest) = text.split_once('/')?;
        let (namespace, name) = rest.split_once('/')?;
        Some(PageCursor {
            created_at: created_at.into(),
            namespace: namespace.into(),
            name: name.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_a_cursor() {
        let cursor = PageCursor {
            created_at: "2025-01-02T03:04:05Z".into(),
            namespace: "default".into(),
            name: "web".into(),
        };
        assert_eq!(PageCursor::from_token(&cursor.to_token()), Some(cursor));
    }

    #[test]
    fn token_that_is_not_base64_is_ignored() {
        assert_eq!(PageCursor::from_token("not a token!"), None);
    }
}
