//! Watches: a chunked stream of newline-delimited `{"type","object"}` events, filtered by
//! namespace and selectors, Table-wrapped on request, with bookmarks and a deadline. An
//! expired resourceVersion is an ERROR event carrying the 410 Status, as upstream sends it.

use service_plan::json::Pointer as _;
use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use service_plan::status::Status;
use service_plan::table::TableListMeta;

use super::error::ApiError;
use super::negotiate::Output;
use super::params::Params;
use super::response::{Negotiated, resource_version, with_type_meta};
use super::target::Target;
use crate::registry::{Event, EventStream, EventType, Revision, StoreError};
use crate::registry::{Kind, ListOptions, ReadObject, Registry, RegistryError};

/// How often a watch that allows bookmarks gets one.
const BOOKMARK_INTERVAL_SECS: u64 = 60;
/// Shortest life of a watch without `timeoutSeconds` (upstream: 30 to 60 minutes).
const MIN_WATCH_TIMEOUT_SECS: u64 = 1800;
/// The annotation on the bookmark that ends `sendInitialEvents`.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// What a watch request asked for.
struct WatchRequest {
    selectors: ListOptions,
    from: Option<Revision>,
    timeout: Duration,
    bookmarks: bool,
    send_initial_events: bool,
}

impl WatchRequest {
    fn from_params(target: &Target, params: &Params) -> Result<WatchRequest, ApiError> {
        let from =
            match params.get("resourceVersion") {
                None | Some("") | Some("0") => None,
                Some(rv) => Some(rv.parse::<Revision>().ok().filter(|n| *n >= 0).ok_or_else(
                    || ApiError::bad_request(format!("invalid resource version: {rv}")),
                )?),
            };
        let timeout = match params.integer("timeoutSeconds")? {
            Some(secs) if secs > 0 => Duration::from_secs(secs.unsigned_abs()),
            // Upstream's timer fires at once for a negative timeout: the watch ends empty.
            Some(secs) if secs < 0 => Duration::ZERO,
            _ => Duration::from_secs(
                MIN_WATCH_TIMEOUT_SECS + rand::random_range(0..MIN_WATCH_TIMEOUT_SECS),
            ),
        };
        Ok(WatchRequest {
            selectors: params.selectors(target.kind)?,
            from,
            timeout,
            bookmarks: params.flag("allowWatchBookmarks")?,
            send_initial_events: params.flag("sendInitialEvents")?,
        })
    }

    fn filters(&self) -> bool {
        self.selectors.label_selector.is_some() || self.selectors.field_selector.is_some()
    }
}

/// Serves a watch on the target collection.
pub async fn watch(
    registry: &Registry,
    target: &Target,
    params: &Params,
    negotiated: Negotiated,
) -> Result<Response, ApiError> {
    let request = WatchRequest::from_params(target, params)?;
    let (initial, from, events) = start(registry, target, &request).await?;
    let encoder = Encoder {
        kind: target.kind,
        negotiated,
        output: negotiated.output_for(target.kind),
        columns_sent: false,
    };
    let content_type = encoder.output.content_type();
    let filter = Filter {
        registry: registry.clone(),
        kind: target.kind,
        namespace: target.namespace.clone(),
        // Without the starting state a first match cannot be told from a change.
        knows_start: initial.is_some(),
        known: HashSet::new(),
        request,
    };
    let body = Body::from_stream(
        lines(encoder, filter, initial, from, events).map(Ok::<Bytes, Infallible>),
    );
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// Where a watch starts: the initial objects it lists first (when it asked for them, or named
/// no revision), the revision it follows from, and its events, or the 410 Status a too-old
/// revision gets as its one ERROR event.
async fn start(
    registry: &Registry,
    target: &Target,
    request: &WatchRequest,
) -> Result<(Option<Vec<Value>>, Revision, Result<EventStream, Status>), ApiError> {
    let plural = target.kind.resource.plural;
    let (initial, from) = match request.from {
        Some(from) if !request.send_initial_events => (None, from),
        _ => {
            let page = registry.list_served(
                target.kind,
                target.namespace.as_deref(),
                &request.selectors,
            )?;
            let items = page.items.into_iter().map(ReadObject::into_value);
            (Some(items.collect::<Result<_, _>>()?), page.revision)
        }
    };
    let events = match registry.watch(plural, from).await {
        Ok(events) => Ok(events),
        Err(e @ RegistryError::Store(StoreError::Expired { .. })) => Err(e.status()),
        Err(e) => return Err(e.into()),
    };
    Ok((initial, from, events))
}

/// The events a watcher is sent, as lines: the initial objects, then each store event that
/// passes its filter, with bookmarks, until its deadline or the store's end.
fn lines(
    mut encoder: Encoder,
    mut filter: Filter,
    initial: Option<Vec<Value>>,
    from: Revision,
    events: Result<EventStream, Status>,
) -> impl futures::Stream<Item = Bytes> {
    async_stream::stream! {
        let mut last = from;
        let deadline = tokio::time::sleep(filter.request.timeout);
        tokio::pin!(deadline);
        let period = Duration::from_secs(BOOKMARK_INTERVAL_SECS);
        let mut bookmark_timer = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        let sent_initial = initial.is_some();
        for object in initial.into_iter().flatten() {
            filter.known.insert(key_of(&object));
            yield encoder.event(EventType::Added.as_str(), ReadObject::Decorated(object));
        }
        if sent_initial && filter.request.send_initial_events && filter.request.bookmarks {
            yield encoder.bookmark(last, true);
        }
        let mut events = match events {
            Ok(events) => events,
            Err(status) => {
                yield encoder.error(&status);
                return;
            }
        };
        loop {
            let step = tokio::select! {
                _ = &mut deadline => Step::End,
                _ = bookmark_timer.tick(), if filter.request.bookmarks => Step::Bookmark,
                next = events.next() => match next {
                    None => Step::End,
                    Some(Err(e)) => Step::Failed(e),
                    Some(Ok(event)) => Step::Event(event),
                },
            };
            match step {
                Step::End => break,
                Step::Bookmark => yield encoder.bookmark(last, false),
                Step::Failed(e) => {
                    if !matches!(e, StoreError::Expired { .. } | StoreError::Closed) {
                        tracing::error!(error = %e, "watch failed");
                    }
                    yield encoder.error(&RegistryError::Store(e).status());
                    break;
                }
                Step::Event(event) => {
                    last = event.revision;
                    if let Some((event_type, object)) = filter.pass(event) {
                        yield encoder.event(event_type, object);
                    }
                }
            }
        }
    }
}

/// What the watch loop does next.
enum Step {
    End,
    Bookmark,
    Failed(StoreError),
    Event(Event),
}

fn key_of(object: &Value) -> (String, String) {
    let text = |p: &str| {
        object
            .at(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (text("/metadata/namespace"), text("/metadata/name"))
}

/// Decides which store events a watcher sees, and as what.
struct Filter {
    registry: Registry,
    /// The kind watched: a view's events are converted as they are sent.
    kind: &'static Kind,
    namespace: Option<String>,
    knows_start: bool,
    /// Objects the watcher currently sees as matching its selectors.
    known: HashSet<(String, String)>,
    request: WatchRequest,
}

impl Filter {
    /// The event to send for a store event, if any. With selectors, an object that stops
    /// matching is DELETED for this watcher and one that starts matching is ADDED.
    fn pass(&mut self, event: Event) -> Option<(&'static str, ReadObject)> {
        let (event_type, object) = self.select(event)?;
        let served = self.registry.serve(self.kind, object);
        Some((event_type, decoded(served, self.kind.resource.plural)?))
    }

    /// The event to send for a store event, if any, with its object as stored.
    fn select(&mut self, event: Event) -> Option<(&'static str, ReadObject)> {
        if self
            .namespace
            .as_deref()
            .is_some_and(|ns| ns != event.key.namespace)
        {
            return None;
        }
        let plural = event.key.kind.clone();
        let object = decoded(self.registry.read(&plural, event.object), &plural)?;
        if !self.request.filters() {
            return Some((event.event_type.as_str(), object));
        }
        let object = decoded(object.into_value(), &plural)?;
        let key = (event.key.namespace, event.key.name);
        let matches = self
            .registry
            .matches(&plural, &object, &self.request.selectors);
        let event_type = match (event.event_type, matches) {
            (EventType::Deleted, true) => {
                self.known.remove(&key);
                EventType::Deleted
            }
            (EventType::Added, true) => {
                self.known.insert(key);
                EventType::Added
            }
            (EventType::Modified, true) => {
                let newly = !self.known.contains(&key) && self.knows_start;
                self.known.insert(key);
                if newly {
                    EventType::Added
                } else {
                    EventType::Modified
                }
            }
            (EventType::Modified, false) if self.known.remove(&key) => EventType::Deleted,
            _ => return None,
        };
        Some((event_type.as_str(), ReadObject::Decorated(object)))
    }
}

/// The object of an event, or `None` (logged) when it does not decode.
fn decoded<T>(read: Result<T, RegistryError>, resource: &str) -> Option<T> {
    read.map_err(|e| tracing::error!(error = %e, resource, "watch: an event does not decode"))
        .ok()
}

/// Writes events as lines of JSON.
struct Encoder {
    kind: &'static Kind,
    negotiated: Negotiated,
    output: Output,
    /// Upstream sends a Table's column definitions with the first event only.
    columns_sent: bool,
}

impl Encoder {
    fn line(value: &Value) -> Bytes {
        let mut bytes = serde_json::to_vec(value).unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }

    fn event(&mut self, event_type: &str, object: ReadObject) -> Bytes {
        let object = match (self.output, object) {
            // The stored text is the object as sent: framed, not decoded and encoded again.
            (Output::Json, ReadObject::AsIs(text)) => {
                let mut line = Vec::with_capacity(4096);
                line.extend_from_slice(b"{\"type\":\"");
                line.extend_from_slice(event_type.as_bytes());
                line.extend_from_slice(b"\",\"object\":");
                if let Err(e) = text.write_json(&mut line) {
                    return self.error(&RegistryError::Store(e).status());
                }
                line.extend_from_slice(b"}\n");
                return Bytes::from(line);
            }
            (_, object) => match object.into_value() {
                Ok(object) => object,
                Err(e) => return self.error(&e.status()),
            },
        };
        let object = with_type_meta(self.kind, object);
        let object = match self.output {
            Output::Json => object,
            Output::Table(_) => {
                let metadata = TableListMeta {
                    resource_version: resource_version(&object),
                    ..Default::default()
                };
                let mut table = self.negotiated.table(self.kind, vec![object], metadata);
                if let Some(fields) = table.as_object_mut().filter(|_| self.columns_sent) {
                    fields.shift_remove("columnDefinitions");
                }
                self.columns_sent = true;
                table
            }
        };
        Self::line(&json!({"type": event_type, "object": object}))
    }

    fn bookmark(&self, revision: Revision, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({INITIAL_EVENTS_END: "true"});
        }
        let object = json!({"kind": self.kind.resource.kind, "apiVersion": self.kind.api_version(), "metadata": metadata});
        Self::line(&json!({"type": "BOOKMARK", "object": object}))
    }

    fn error(&self, status: &Status) -> Bytes {
        Self::line(&json!({"type": "ERROR", "object": status}))
    }
}
