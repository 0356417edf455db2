//! The Applications pages: the Deployments of a namespace (the backend applications of the
//! Service form) and the pods of each. Read-only; the workloads controller keeps the pods.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::Value;
use service_plan::json::Pointer as _;

use service_plan::traffic::{pod_ready, string_map};

use super::forms::selector_text;
use super::pages::layout;
use super::plan::{container_ports, selects};
use super::views::{Crumb, Layout, age, encode};
use super::{ConsoleError, Ctx};
use crate::AppState;
use crate::plan_view::{list, s};
use crate::registry::{ListOptions, kind_by_plural};

/// The navigation section of these pages.
pub const SECTION: &str = "/applications";

/// Query of `GET /applications`.
#[derive(Debug, Deserialize)]
pub struct IndexQuery {
    /// Absent: `default`; empty: All Namespaces.
    pub namespace: Option<String>,
}

/// One Deployment of the list.
#[derive(Debug, Clone)]
pub struct ApplicationRow {
    pub namespace: String,
    pub name: String,
    /// `ready/desired`.
    pub ready: String,
    pub all_ready: bool,
    pub selector: String,
    pub images: Vec<String>,
    pub age: String,
    pub pods_url: String,
}

/// `GET /applications`.
#[derive(Template, WebTemplate)]
#[template(path = "applications/index.html")]
pub struct ApplicationIndexPage {
    pub layout: Layout,
    pub rows: Vec<ApplicationRow>,
    pub all_namespaces: bool,
}

/// One pod of an application.
#[derive(Debug, Clone)]
pub struct PodRow {
    pub name: String,
    pub ip: String,
    pub node: String,
    pub phase: String,
    pub ready: &'static str,
    pub ports: Vec<String>,
    pub age: String,
}

/// `GET /applications/{namespace}/{name}`.
#[derive(Template, WebTemplate)]
#[template(path = "applications/show.html")]
pub struct ApplicationShowPage {
    pub layout: Layout,
    pub row: ApplicationRow,
    pub ports: Vec<String>,
    pub pods: Vec<PodRow>,
    pub create_service_url: String,
}

fn now() -> i64 {
    service_plan::k8s_openapi::jiff::Timestamp::now().as_second()
}

/// The list row of a Deployment.
pub fn application_row(d: &Value, now: i64) -> ApplicationRow {
    let namespace = s(d, "/metadata/namespace").to_string();
    let name = s(d, "/metadata/name").to_string();
    let desired = d.at("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let ready = d
        .at("/status/readyReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    ApplicationRow {
        pods_url: format!("{SECTION}/{}/{}", encode(&namespace), encode(&name)),
        ready: format!("{ready}/{desired}"),
        all_ready: ready >= desired,
        selector: selector_text(&string_map(d.at("/spec/selector/matchLabels"))),
        images: list(d, "/spec/template/spec/containers")
            .iter()
            .map(|c| s(c, "/image").to_string())
            .collect(),
        age: age(d, now),
        namespace,
        name,
    }
}

/// The row of a pod.
pub fn pod_row(p: &Value, now: i64) -> PodRow {
    PodRow {
        name: s(p, "/metadata/name").to_string(),
        ip: match s(p, "/status/podIP") {
            "" => "-".to_string(),
            ip => ip.to_string(),
        },
        node: match s(p, "/spec/nodeName") {
            "" => "-".to_string(),
            n => n.to_string(),
        },
        phase: match s(p, "/status/phase") {
            "" => "Unknown".to_string(),
            phase => phase.to_string(),
        },
        ready: if pod_ready(p) { "Yes" } else { "No" },
        ports: container_ports(p.get("spec")),
        age: age(p, now),
    }
}

/// `GET /applications`: the Deployments of the namespace.
pub async fn index(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(q): Query<IndexQuery>,
) -> Result<ApplicationIndexPage, ConsoleError> {
    let namespace = ctx.namespace_or_sticky(q.namespace);
    ctx.access
        .check("list", "apps", "deployments", &namespace, "")?;
    let scope = Some(namespace.as_str()).filter(|n| !n.is_empty());
    let items = app
        .registry
        .list("deployments", scope, &ListOptions::default())
        .await?
        .items;
    let now = now();
    let layout = layout(
        &app.registry,
        &ctx,
        "Applications",
        &namespace,
        vec![Crumb::here("Applications")],
    )
    .await?
    .in_section(SECTION);
    Ok(ApplicationIndexPage {
        layout,
        rows: items.iter().map(|d| application_row(d, now)).collect(),
        all_namespaces: namespace.is_empty(),
    })
}

/// `GET /applications/{namespace}/{name}`: one Deployment and the pods its selector matches.
pub async fn show(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<ApplicationShowPage, ConsoleError> {
    ctx.access
        .check("get", "apps", "deployments", &namespace, &name)?;
    let kind = kind_by_plural("deployments")
        .ok_or_else(|| ConsoleError::Internal("deployments are not served".into()))?;
    let deployment = app.registry.get(kind, &namespace, &name).await?;
    let pods = app
        .registry
        .list("pods", Some(&namespace), &ListOptions::default())
        .await?
        .items;
    let crumbs = vec![
        Crumb::link(
            "Applications",
            format!("{SECTION}?namespace={}", encode(&namespace)),
        ),
        Crumb::here(&name),
    ];
    let layout = layout(&app.registry, &ctx, &name, &namespace, crumbs)
        .await?
        .in_section(SECTION);
    Ok(ApplicationShowPage::new(layout, &deployment, &pods))
}

impl ApplicationShowPage {
    /// The page of `deployment` with the `pods` of its namespace that its selector matches.
    pub fn new(layout: Layout, deployment: &Value, pods: &[Value]) -> ApplicationShowPage {
        let now = now();
        let selector = string_map(deployment.at("/spec/selector/matchLabels"));
        let namespace = deployment
            .at("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        ApplicationShowPage {
            layout,
            ports: container_ports(deployment.at("/spec/template/spec")),
            pods: pods
                .iter()
                .filter(|p| selects(&selector, p.at("/metadata/labels")))
                .map(|p| pod_row(p, now))
                .collect(),
            create_service_url: format!("/services/new?namespace={}", encode(namespace)),
            row: application_row(deployment, now),
        }
    }
}
