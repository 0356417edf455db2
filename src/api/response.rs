//! Shaping successful responses: the object or list as JSON, or a Table when the client's
//! `Accept` asked for one, plus one `Warning` header per warning.

use axum::extract::FromRequestParts;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};
use service_plan::json::Pointer as _;
use service_plan::k8s_openapi::jiff::Timestamp;
use service_plan::table::{IncludeObject, Table, TableKind, TableListMeta};

use super::error::ApiError;
use super::list::Listed;
use super::negotiate::{self, Output};
use super::params::Params;
use crate::registry::{Kind, ReadObject, RegistryError};

/// The `Warning` header.
const WARNING_HEADER: &str = "warning";
/// Bytes of a streamed list body gathered before they are sent as one chunk.
const LIST_CHUNK_BYTES: usize = 64 * 1024;
/// Objects decoded at a time while printing a Table of a long list: its rows are kept, the
/// objects are not.
const TABLE_DECODE_BATCH: usize = 500;

/// How the client wants resources back: JSON or a Table, and what Table rows carry.
#[derive(Debug, Clone, Copy)]
pub struct Negotiated {
    pub output: Output,
    pub include: IncludeObject,
}

impl<S: Send + Sync> FromRequestParts<S> for Negotiated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = Params::from_request_parts(parts, state).await?;
        if !negotiate::acceptable(&parts.headers) {
            return Err(ApiError::new(service_plan::status::Status::failure(
                406,
                "NotAcceptable",
                format!(
                    "only the following media types are accepted: {}",
                    negotiate::ACCEPTED_MEDIA_TYPES.join(", ")
                ),
                None,
            )));
        }
        Ok(Negotiated {
            output: negotiate::output(&parts.headers),
            include: params.include_object()?,
        })
    }
}

impl Negotiated {
    /// The output for `kind`: a Table only when the kind has a printer.
    pub fn output_for(&self, kind: &Kind) -> Output {
        match self.output {
            Output::Table(_) if printer(kind).is_some() => self.output,
            _ => Output::Json,
        }
    }

    /// A Table of `objects` (with column definitions), as JSON.
    pub fn table(&self, kind: &Kind, objects: Vec<Value>, metadata: TableListMeta) -> Value {
        self.printed(kind, objects, metadata)
            .and_then(|table| serde_json::to_value(&table).ok())
            .unwrap_or(Value::Null)
    }

    /// A Table of `objects` in the apiVersion the client asked for; `None` for a kind
    /// without a printer.
    fn printed(&self, kind: &Kind, objects: Vec<Value>, metadata: TableListMeta) -> Option<Table> {
        let mut table = printer(kind)?.table(objects, now(), metadata, self.include);
        if let Some(api_version) = self.output.table_api_version() {
            api_version.clone_into(&mut table.api_version);
        }
        Some(table)
    }

    /// One object, or its one-row Table.
    pub fn object(
        &self,
        kind: &Kind,
        code: StatusCode,
        object: Value,
        warnings: &[String],
    ) -> Response {
        let output = self.output_for(kind);
        let body = match output {
            Output::Json => object,
            Output::Table(_) => {
                let metadata = TableListMeta {
                    resource_version: resource_version(&object),
                    ..Default::default()
                };
                self.table(kind, vec![object], metadata)
            }
        };
        respond(code, output.content_type(), &body, warnings)
    }

    /// One object as read: its stored bytes forwarded as they are when the client wants the
    /// object itself and the text reads as stored, else [`Negotiated::object`].
    pub fn read(&self, kind: &Kind, object: ReadObject) -> Result<Response, ApiError> {
        let output = self.output_for(kind);
        Ok(match (output, object) {
            (Output::Json, ReadObject::AsIs(text)) => (
                StatusCode::OK,
                [(
                    CONTENT_TYPE,
                    HeaderValue::from_static(output.content_type()),
                )],
                text.body().map_err(RegistryError::Store)?,
            )
                .into_response(),
            (_, object) => self.object(kind, StatusCode::OK, object.into_value()?, &[]),
        })
    }

    /// A list of `items` read at `revision`, as `<Kind>List` or a Table.
    pub fn list(&self, kind: &'static Kind, listed: Listed) -> Result<Response, ApiError> {
        let output = self.output_for(kind);
        let content_type = output.content_type();
        let revision = listed.revision.to_string();
        match output {
            Output::Json => {
                let head = list_head(kind, revision, listed.continue_token, listed.remaining);
                let body = axum::body::Body::from_stream(futures::stream::iter(
                    ListChunks::new(kind, head, listed.items)
                        .map(Ok::<_, std::convert::Infallible>),
                ));
                Ok((
                    [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
                    body,
                )
                    .into_response())
            }
            Output::Table(_) => {
                let metadata = TableListMeta {
                    resource_version: Some(revision),
                    continue_: listed.continue_token,
                    remaining_item_count: listed.remaining.and_then(|n| i64::try_from(n).ok()),
                };
                // Printed a batch at a time: rows are small, the decoded objects are not. A
                // row shows no managedFields, and they are often most of an object, so they
                // are not decoded unless the row carries the whole object.
                let decode = match self.include {
                    IncludeObject::Object => ReadObject::into_value,
                    IncludeObject::None | IncludeObject::Metadata => {
                        ReadObject::into_value_without_managed_fields
                    }
                };
                let mut items = listed.items.into_iter();
                let mut next_batch = || {
                    items
                        .by_ref()
                        .take(TABLE_DECODE_BATCH)
                        .map(decode)
                        .collect::<Result<Vec<Value>, _>>()
                };
                let mut table = self.printed(kind, next_batch()?, metadata);
                if let Some(table) = table.as_mut() {
                    loop {
                        let batch = next_batch()?;
                        if batch.is_empty() {
                            break;
                        }
                        let more = self.printed(kind, batch, TableListMeta::default());
                        table.rows.extend(more.into_iter().flat_map(|t| t.rows));
                    }
                }
                Ok(respond(StatusCode::OK, content_type, &table, &[]))
            }
        }
    }
}

/// A `<Kind>List` body as chunks: the list's head, then each item (a stored text as it is,
/// any other object encoded when its turn comes), so a long list never exists whole, as text
/// or as trees.
struct ListChunks {
    kind: &'static Kind,
    items: std::vec::IntoIter<ReadObject>,
    buffer: Vec<u8>,
    first: bool,
    done: bool,
}

impl ListChunks {
    fn new(kind: &'static Kind, head: Vec<u8>, items: Vec<ReadObject>) -> ListChunks {
        ListChunks {
            kind,
            items: items.into_iter(),
            buffer: head,
            first: true,
            done: false,
        }
    }

    fn push(&mut self, item: ReadObject) {
        if !std::mem::take(&mut self.first) {
            self.buffer.push(b',');
        }
        match item {
            ReadObject::AsIs(text) => {
                if let Err(e) = text.write_json(&mut self.buffer) {
                    // Held in memory since it was written; say so loudly if it ever reads wrong.
                    tracing::error!(error = %e, "list: a stored item does not read back");
                    self.buffer.extend_from_slice(b"null");
                }
            }
            ReadObject::Decorated(object) => {
                let object = with_type_meta(self.kind, object);
                if let Err(e) = serde_json::to_writer(&mut self.buffer, &object) {
                    // A tree of JSON values always encodes; say so loudly if it ever does not.
                    tracing::error!(error = %e, "list: an item does not encode");
                    self.buffer.extend_from_slice(b"null");
                }
            }
        }
    }
}

impl Iterator for ListChunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        while self.buffer.len() < LIST_CHUNK_BYTES {
            match self.items.next() {
                Some(item) => self.push(item),
                None => {
                    self.buffer.extend_from_slice(b"]}");
                    self.done = true;
                    break;
                }
            }
        }
        Some(Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(LIST_CHUNK_BYTES + 4096),
        )))
    }
}

/// The start of a `<Kind>List` body, up to and including `"items":[`: the fields of
/// [`list_body`], in its order.
fn list_head(
    kind: &Kind,
    revision: String,
    continue_token: Option<String>,
    remaining: Option<usize>,
) -> Vec<u8> {
    let mut head = serde_json::to_vec(&list_body(
        kind,
        Vec::new(),
        revision,
        continue_token,
        remaining,
    ))
    .unwrap_or_default();
    // `{…,"items":[]}` → `{…,"items":[`
    head.truncate(head.len().saturating_sub(2));
    head
}

/// The `<Kind>List` body; every item carries its apiVersion and kind.
pub fn list_body(
    kind: &Kind,
    items: Vec<Value>,
    revision: String,
    continue_token: Option<String>,
    remaining: Option<usize>,
) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|item| with_type_meta(kind, item))
        .collect();
    let mut metadata = json!({"resourceVersion": revision});
    if let Some(token) = continue_token {
        metadata["continue"] = Value::String(token);
    }
    if let Some(remaining) = remaining {
        metadata["remainingItemCount"] = json!(remaining);
    }
    let mut body = json!({
        "kind": format!("{}List", kind.resource.kind),
        "apiVersion": kind.api_version(),
        "metadata": metadata,
    });
    // Moved in, not through `json!`, which would copy every item with `to_value`.
    body["items"] = Value::Array(items);
    body
}

/// The Table printer of `kind`, if it has one.
fn printer(kind: &Kind) -> Option<TableKind> {
    TableKind::for_resource(kind.resource.group, kind.version, kind.resource.kind)
}

/// Sets `apiVersion` and `kind` on an object that lacks them.
pub fn with_type_meta(kind: &Kind, mut object: Value) -> Value {
    if let Some(fields) = object.as_object_mut() {
        fields
            .entry("apiVersion")
            .or_insert_with(|| Value::String(kind.api_version()));
        fields
            .entry("kind")
            .or_insert_with(|| Value::String(kind.resource.kind.to_owned()));
    }
    object
}

/// `metadata.resourceVersion` of an object.
pub fn resource_version(object: &Value) -> Option<String> {
    object
        .at("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The current time in Unix seconds, for Table ages.
pub fn now() -> i64 {
    Timestamp::now().as_second()
}

/// A JSON body with its code, Content-Type and warnings; a 500 when the body cannot be encoded.
pub fn respond(
    code: StatusCode,
    content_type: &'static str,
    body: &impl Serialize,
    warnings: &[String],
) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(bytes) => bytes,
        Err(e) => return ApiError::internal(format!("encoding the response: {e}")).into_response(),
    };
    let mut response = (
        code,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response();
    add_warnings(response.headers_mut(), warnings);
    response
}

/// Adds one `Warning: 299 - "<text>"` header per distinct warning.
pub fn add_warnings(headers: &mut HeaderMap, warnings: &[String]) {
    let mut seen: Vec<&String> = Vec::new();
    for warning in warnings {
        if seen.contains(&warning) {
            continue;
        }
        seen.push(warning);
        if let Ok(value) = HeaderValue::from_bytes(warning_value(warning).as_bytes()) {
            headers.append(WARNING_HEADER, value);
        }
    }
}

/// The header value apimachinery's `NewWarningHeader` writes: code 299, agent `-`, the text
/// quoted with `"` and `\` escaped. Control characters cannot travel in a header, so they
/// become spaces.
pub fn warning_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("299 - \"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_quotes_are_escaped() {
        assert_eq!(
            warning_value("unknown field \"spec.foo\""),
            "299 - \"unknown field \\\"spec.foo\\\"\""
        );
    }
}
