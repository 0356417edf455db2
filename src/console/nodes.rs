//! The Nodes page: every node with its internal IP, zone, readiness and pod count.

use service_plan::json::Pointer as _;
use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde_json::Value;

use super::pages::layout;
use super::views::{Crumb, Layout};
use super::{ConsoleError, Ctx};
use crate::AppState;
use crate::plan_view::{list, s};
use crate::registry::ListOptions;

/// The navigation section of the page.
pub const SECTION: &str = "/nodes";
/// The zone label, as the endpoints controller reads it.
const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// One node.
#[derive(Debug, Clone)]
pub struct NodeRow {
    pub name: String,
    pub internal_ip: String,
    pub zone: String,
    pub ready: &'static str,
    pub schedulable: &'static str,
    pub pods: usize,
}

/// `GET /nodes`.
#[derive(Template, WebTemplate)]
#[template(path = "nodes/index.html")]
pub struct NodeIndexPage {
    pub layout: Layout,
    pub rows: Vec<NodeRow>,
}

/// The row of `node`, which runs `pods` pods.
pub fn node_row(node: &Value, pods: usize) -> NodeRow {
    let address = list(node, "/status/addresses")
        .iter()
        .find(|a| s(a, "/type") == "InternalIP")
        .map(|a| s(a, "/address").to_string())
        .unwrap_or_else(|| "-".into());
    let ready = list(node, "/status/conditions")
        .iter()
        .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True");
    let unschedulable = node
        .at("/spec/unschedulable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    NodeRow {
        name: s(node, "/metadata/name").to_string(),
        internal_ip: address,
        zone: node
            .at("/metadata/labels")
            .and_then(|l| l.get(LABEL_ZONE))
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string(),
        ready: if ready { "Ready" } else { "NotReady" },
        schedulable: if unschedulable {
            "No (cordoned)"
        } else {
            "Yes"
        },
        pods,
    }
}

/// `GET /nodes`.
pub async fn index(State(app): State<AppState>, ctx: Ctx) -> Result<NodeIndexPage, ConsoleError> {
    ctx.access.check("list", "", "nodes", "", "")?;
    let opts = ListOptions::default();
    let nodes = app.registry.list("nodes", None, &opts).await?.items;
    let pods = app.registry.list("pods", None, &opts).await?.items;
    let mut per_node: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &pods {
        *per_node.entry(s(p, "/spec/nodeName")).or_default() += 1;
    }
    let layout = layout(&app.registry, &ctx, "Nodes", "", vec![Crumb::here("Nodes")])
        .await?
        .in_section(SECTION);
    Ok(NodeIndexPage {
        layout,
        rows: nodes
            .iter()
            .map(|n| {
                node_row(
                    n,
                    per_node.get(s(n, "/metadata/name")).copied().unwrap_or(0),
                )
            })
            .collect(),
    })
}
