//! `service-console plan -f FILE [--server URL]`: asks a running server what applying (or,
//! with `--delete`, deleting) each Service of the manifests would do — allocations, the SLB
//! instance, listeners, vServer groups and backends, conflicts and consequences — and prints
//! it readably (the plan view the console renders, as text) or as the server's JSON. It
//! speaks plain http (the console's default, usually on localhost) through reqwest.

use service_plan::json::Pointer as _;
use std::io::Read;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use service_plan::status::Status;

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
    let server = server_base(&args.server)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS))
        .user_agent("service-console-plan")
        .no_proxy()
        .build()
        .context("building the HTTP client")?;
    let mut failed = false;
    for doc in &docs {
        let namespace = doc
            .at("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(&args.namespace);
        let mut url = format!("{server}{PLAN_PREFIX}/namespaces/{namespace}/services");
        if args.delete {
            url.push_str("?change=delete");
        }
        let (status, body) = post_json(&client, &url, serde_json::to_vec(doc)?)
            .await
            .with_context(|| format!("asking {} for a plan", args.server))?;
        let answer = json_answer(status, &body)?;
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

/// The JSON a server answered with `status`, or an error that shows what it sent instead.
pub fn json_answer(status: u16, body: &[u8]) -> anyhow::Result<Value> {
    serde_json::from_slice(body).map_err(|e| {
        anyhow!(
            "the server answered {status} with a body that is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    })
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
    for u in &plan.unexposed {
        line(format!("  Warning: {}", u.message));
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

/// The server's base URL, `http://host[:port][/base]` without a trailing `/`; a URL without a
/// scheme is plain http.
pub fn server_base(url: &str) -> anyhow::Result<String> {
    let rest = match url.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => bail!(
            "unsupported scheme {scheme:?} in --server {url:?}: the plan command speaks plain http"
        ),
        None => url,
    };
    if rest.split('/').next().is_none_or(str::is_empty) {
        bail!("--server {url:?} names no host");
    }
    Ok(format!("http://{}", rest.trim_end_matches('/')))
}

/// POSTs a JSON body; returns the status code and the body.
async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let response = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                anyhow!("no answer within {REQUEST_TIMEOUT_SECS} seconds")
            } else if e.is_connect() {
                let authority = e
                    .url()
                    .map(|u| {
                        format!(
                            "{}:{}",
                            u.host_str().unwrap_or(""),
                            u.port_or_known_default().unwrap_or(80)
                        )
                    })
                    .unwrap_or_default();
                anyhow::Error::new(e).context(format!("connecting to {authority}"))
            } else {
                anyhow::Error::new(e)
            }
        })?;
    let status = response.status().as_u16();
    Ok((status, response.bytes().await?.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_base_is_plain_http_and_keeps_a_base_path() {
        assert_eq!(
            server_base("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(server_base("console/sc/").unwrap(), "http://console/sc");
        assert!(server_base("https://x").is_err());
        assert!(server_base("http:///x").is_err());
    }
}
