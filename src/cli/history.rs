//! `service-console history NAMESPACE/NAME [--server URL] [-o text|json|yaml] [--diff REV]`:
//! reads a Service's revision history from a running server's history endpoint and prints
//! it newest first (who, when, through what, what changed), or one diff.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context;
use reqwest::header::ACCEPT;
use serde_json::Value;

use super::plan::{error_text, json_answer, server_base};
use crate::api::history::HISTORY_PREFIX;
use crate::config::{HistoryCliArgs, HistoryOutput};

/// How long the request may take.
const REQUEST_TIMEOUT_SECS: u64 = 30;

/// Runs the command; the exit code is 1 when the server answers with an error.
pub async fn run(args: &HistoryCliArgs) -> anyhow::Result<i32> {
    let (namespace, name) = args
        .service
        .split_once('/')
        .unwrap_or(("default", args.service.as_str()));
    let mut url = format!(
        "{}{HISTORY_PREFIX}/namespaces/{namespace}/services/{name}",
        server_base(&args.server)?
    );
    if let Some(rev) = args.diff {
        url.push_str(&format!("?diff={rev}"));
        if let Some(against) = args.against {
            url.push_str(&format!("&against={against}"));
        }
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS))
        .user_agent("service-console-history")
        .no_proxy()
        .build()
        .context("building the HTTP client")?;
    let response = client
        .get(&url)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .with_context(|| format!("asking {} for the history", args.server))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.context("reading the answer")?;
    let answer = json_answer(status, &body)?;
    if status != 200 {
        eprintln!("{}", error_text(&answer));
        return Ok(1);
    }
    match args.output {
        HistoryOutput::Json => println!("{}", serde_json::to_string_pretty(&answer)?),
        HistoryOutput::Yaml => print!("{}", serde_saphyr::to_string(&answer)?),
        HistoryOutput::Text if args.diff.is_some() => print!("{}", format_diff(&answer)),
        HistoryOutput::Text => print!("{}", format_history(&answer, args.all)),
    }
    Ok(0)
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or("")
}

fn changes(value: &Value) -> Vec<&str> {
    value
        .get("changes")
        .and_then(Value::as_array)
        .map(|c| c.iter().map(|c| text(c, "text")).collect())
        .unwrap_or_default()
}

/// The history as text: one block per revision, newest first; folded revisions as one line
/// unless `all`.
pub fn format_history(answer: &Value, all: bool) -> String {
    let mut out = String::new();
    let items = answer
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for item in &items {
        let revision = item.get("revision").and_then(Value::as_i64).unwrap_or(0);
        let verb = match text(item, "subresource") {
            "" => text(item, "verb").to_owned(),
            sub => format!("{} {sub}", text(item, "verb")),
        };
        let _ = writeln!(
            out,
            "revision {revision}  {}  {} via {} ({verb})",
            text(item, "time"),
            text(item, "user"),
            text(item, "through"),
        );
        let folded = item.get("folded").and_then(Value::as_bool) == Some(true);
        let lines = changes(item);
        if folded && !all {
            let _ = writeln!(
                out,
                "  ({} status or bookkeeping changes folded)",
                lines.len()
            );
        } else if text(item, "verb") == "delete" {
            let _ = writeln!(out, "  deleted");
        } else if item.get("previous").is_none_or(Value::is_null) {
            let _ = writeln!(out, "  created");
        } else if lines.is_empty() {
            let _ = writeln!(out, "  (no field changed)");
        }
        for line in lines.iter().filter(|_| !folded || all) {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

/// One diff as text: a heading and one line per change.
pub fn format_diff(answer: &Value) -> String {
    let mut out = String::new();
    let to = answer.get("to").and_then(Value::as_i64).unwrap_or(0);
    let _ = match answer.get("from").and_then(Value::as_i64) {
        Some(from) => writeln!(out, "revision {from} → {to}"),
        None => writeln!(out, "revision {to} (nothing before it to compare with)"),
    };
    for line in changes(answer) {
        let _ = writeln!(out, "  {line}");
    }
    out
}
