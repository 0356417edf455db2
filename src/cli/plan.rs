//! `service-console plan -f FILE [--server URL]`: asks a running server what applying (or,
//! with `--delete`, deleting) each Service of the manifests would do — allocations, the SLB
//! instance, listeners, vServer groups and backends, conflicts and consequences — and prints
//! it readably (the console's plan view as text) or as the server's JSON.
//!
//! The HTTP client is a few lines over `tokio::net::TcpStream` speaking HTTP/1.1 with
//! `Connection: close`: reqwest is only a dev-dependency, axum's hyper is built without its
//! client, and Cargo.toml is not ours to change. One POST per document to a plain-http
//! server (the console's default, usually on localhost) needs no more than this.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde_json::Value;
use service_plan::status::Status;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{PlanArgs, PlanOutput};
use crate::manifest::parse_documents;
use crate::plan_view::{PLAN_PREFIX, PlanView};

/// How long one request to the server may take.
const REQUEST_TIMEOUT_SECS: u64 = 30;

/// Runs the command; the exit code is 1 when any document fails or has a conflict.
pub async fn run(args: &PlanArgs) -> anyhow::Result<i32> {
    let text = if args.file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&args.file).map_err(|e| {
            anyhow!(
                "the path {:?} does not exist or cannot be read: {e}",
                args.file
            )
        })?
    };
    let docs = match parse_documents(&text) {
        Ok(docs) => docs,
        Err(e) => {
            eprintln!("error: error parsing {}: {e}", args.file.display());
            return Ok(1);
        }
    };
    let server = ServerUrl::parse(&args.server)?;
    let mut failed = false;
    for doc in &docs {
        let namespace = doc
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(&args.namespace);
        let mut path = format!(
            "{}{}/namespaces/{namespace}/services",
            server.base_path, PLAN_PREFIX
        );
        if args.delete {
            path.push_str("?change=delete");
        }
        let (status, body) = post_json(&server, &path, &serde_json::to_vec(doc)?)
            .await
            .with_context(|| format!("asking {} for a plan", args.server))?;
        let answer: Value = serde_json::from_slice(&body).map_err(|e| {
            anyhow!(
                "the server answered {status} with a body that is not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        })?;
        if status != 200 {
            failed = true;
            eprintln!("{}", error_text(&answer));
            continue;
        }
        let view = PlanView::from_json(&answer);
        failed |= view.blocked();
        match args.output {
            PlanOutput::Json => println!("{}", serde_json::to_string_pretty(&answer)?),
            PlanOutput::Text => print!("{}", format_plan(&view)),
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// kubectl's text for a `Status` answer.
pub fn error_text(answer: &Value) -> String {
    match serde_json::from_value::<Status>(answer.clone()) {
        Ok(status) => status.kubectl_text(),
        Err(_) => format!("error: unexpected answer from the server: {answer}"),
    }
}

/// The plan as text, the same sections as the console's plan panel.
pub fn format_plan(plan: &PlanView) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("Service {}", plan.service));
    if !plan.conflicts.is_empty() {
        line(format!(
            "  CONFLICTS ({}): this change will be refused",
            plan.conflicts.len()
        ));
        for c in &plan.conflicts {
            line(format!("    ✗ {c}"));
        }
    }
    for w in &plan.warnings {
        line(format!("  Warning: {w}"));
    }
    line("  Cluster IP and node ports:".into());
    if plan.allocations.is_empty() {
        line("    (no change)".into());
    }
    for a in &plan.allocations {
        line(format!("    {a}"));
    }
    if let Some(i) = &plan.instance {
        line(format!("  SLB instance: [{}] {}", i.action, i.summary));
        for d in &i.details {
            line(format!("    {d}"));
        }
    }
    if !plan.listeners.is_empty() {
        line("  Listeners:".into());
        for l in &plan.listeners {
            line(format!(
                "    {}:{}  {}  -> {}  scheduler {}  [{}]",
                l.protocol,
                l.port,
                l.name,
                if l.vserver_group.is_empty() {
                    "-"
                } else {
                    &l.vserver_group
                },
                if l.scheduler.is_empty() {
                    "-"
                } else {
                    &l.scheduler
                },
                l.action
            ));
        }
    }
    if !plan.groups.is_empty() {
        line("  vServer groups:".into());
        for g in &plan.groups {
            line(format!(
                "    {} (Service port {}) [{}]",
                g.name, g.service_port, g.action
            ));
            if g.backends.is_empty() && !g.deleted {
                line("      (no backend servers)".into());
            }
            for b in &g.backends {
                let pods = if b.pods.is_empty() {
                    String::new()
                } else {
                    format!(", {} pod(s)", b.pods)
                };
                line(format!(
                    "      {} {}  {}  weight {}{pods}",
                    b.kind, b.name, b.address, b.weight
                ));
            }
        }
    }
    if !plan.overwritten.is_empty() {
        line("  Overwritten:".into());
        for o in &plan.overwritten {
            line(format!("    {o}"));
        }
    }
    if !plan.facts.is_empty() {
        line("  Consequences:".into());
        for f in &plan.facts {
            line(format!("    {}: {}", f.label, f.value));
        }
        for c in &plan.consequences {
            line(format!("    - {c}"));
        }
    }
    for e in &plan.external {
        line(format!("  External Endpoint: {e}"));
    }
    for n in &plan.notes {
        line(format!("  Note: {n}"));
    }
    for e in &plan.events {
        line(format!("  Event: {e}"));
    }
    out
}

/// `http://host:port/base`, split for the hand-written client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `host:port`, as written in `Host` and dialled.
    pub authority: String,
    /// The path prefix, without a trailing `/`.
    pub base_path: String,
}

impl ServerUrl {
    /// Parses a plain-http URL; the port defaults to 80.
    pub fn parse(url: &str) -> anyhow::Result<ServerUrl> {
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some((scheme, _)) => bail!(
                "unsupported scheme {scheme:?} in --server {url:?}: the plan command speaks plain http"
            ),
            None => url,
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            bail!("--server {url:?} names no host");
        }
        let authority = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(ServerUrl {
            authority,
            base_path: path.trim_end_matches('/').to_string(),
        })
    }
}

/// POSTs a JSON body; returns the status code and the (de-chunked) body.
pub async fn post_json(
    server: &ServerUrl,
    path: &str,
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    let exchange = async {
        let mut stream = TcpStream::connect(&server.authority)
            .await
            .with_context(|| format!("connecting to {}", server.authority))?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: service-console-plan\r\n\r\n",
            server.authority,
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        parse_response(&response)
    };
    tokio::time::timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS), exchange)
        .await
        .map_err(|_| anyhow!("no answer within {REQUEST_TIMEOUT_SECS} seconds"))?
}

/// Splits an HTTP/1.1 response into its status code and body (chunked or not).
pub fn parse_response(response: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("the server closed the connection before a complete answer"))?;
    let head = std::str::from_utf8(&response[..end]).context("response headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| anyhow!("malformed status line in {head:?}"))?;
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding")
                && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = &response[end + 4..];
    Ok((
        status,
        if chunked {
            dechunk(body)?
        } else {
            body.to_vec()
        },
    ))
}

fn dechunk(mut body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("truncated chunked body"))?;
        let size_text = std::str::from_utf8(&body[..line_end])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size + 2 {
            bail!("truncated chunked body");
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_url_defaults_the_port_and_keeps_a_base_path() {
        assert_eq!(
            ServerUrl::parse("http://127.0.0.1:8080").unwrap(),
            ServerUrl {
                authority: "127.0.0.1:8080".into(),
                base_path: String::new()
            }
        );
        assert_eq!(
            ServerUrl::parse("http://console/sc/").unwrap(),
            ServerUrl {
                authority: "console:80".into(),
                base_path: "/sc".into()
            }
        );
        assert!(ServerUrl::parse("https://x").is_err());
    }

    #[test]
    fn chunked_and_plain_bodies_are_read() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain).unwrap(), (200, b"{}".to_vec()));
        let chunked =
            b"HTTP/1.1 422 Unprocessable Entity\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(chunked).unwrap(),
            (422, b"{\"a\":1}".to_vec())
        );
    }
}
