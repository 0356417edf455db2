//! Shaping successful responses: the object or list as JSON, or a Table when the client's
//! `Accept` asked for one, plus one `Warning` header per warning.

use axum::extract::FromRequestParts;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use service_plan::k8s_openapi::jiff::Timestamp;
use service_plan::table::{IncludeObject, Table, TableKind, TableListMeta};

use super::error::ApiError;
use super::list::Listed;
use super::negotiate::{self, Output};
use super::params::Params;
use crate::registry::Kind;

/// The `Warning` header.
const WARNING_HEADER: &str = "warning";

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
            Output::Table(_) if TableKind::from_kind(kind.resource.kind).is_some() => self.output,
            _ => Output::Json,
        }
    }

    /// A Table of `objects` (with column definitions), as JSON.
    pub fn table(&self, kind: &Kind, objects: &[Value], metadata: TableListMeta) -> Value {
        self.printed(kind, objects, metadata)
            .and_then(|table| serde_json::to_value(&table).ok())
            .unwrap_or(Value::Null)
    }

    /// A Table of `objects` in the apiVersion the client asked for; `None` for a kind
    /// without a printer.
    fn printed(&self, kind: &Kind, objects: &[Value], metadata: TableListMeta) -> Option<Table> {
        let printer = TableKind::from_kind(kind.resource.kind)?;
        let mut table = printer.table(objects, now(), metadata, self.include);
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
                self.table(kind, std::slice::from_ref(&object), metadata)
            }
        };
        respond(code, output.content_type(), &body, warnings)
    }

    /// A list of `items` read at `revision`, as `<Kind>List` or a Table.
    pub fn list(&self, kind: &Kind, listed: Listed) -> Response {
        let output = self.output_for(kind);
        let content_type = output.content_type();
        let revision = listed.revision.to_string();
        match output {
            Output::Json => respond(
                StatusCode::OK,
                content_type,
                &list_body(
                    kind,
                    listed.items,
                    revision,
                    listed.continue_token,
                    listed.remaining,
                ),
                &[],
            ),
            Output::Table(_) => {
                let metadata = TableListMeta {
                    resource_version: Some(revision),
                    continue_: listed.continue_token,
                    remaining_item_count: listed.remaining.and_then(|n| i64::try_from(n).ok()),
                };
                // Encoded straight from the Table: a `Value` copy of a long list first
                // would cost as much again as the encoding.
                let table = self.printed(kind, &listed.items, metadata);
                respond(StatusCode::OK, content_type, &table, &[])
            }
        }
    }
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
        .pointer("/metadata/resourceVersion")
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
