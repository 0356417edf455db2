//! The plan preview: what creating, updating or deleting a Service will allocate, create,
//! reuse, overwrite and release, with every conflict and the consequences of the chosen
//! policy and plug-in. The registry computes the plan (`plan_service`); this module puts
//! its [`PlanView`] on the form, Details and the Delete page.

use service_plan::json::Pointer as _;
use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde_json::Value;
use service_plan::selector::matches_service_selector;
use service_plan::slb::{ConflictKind, SlbChange};
use service_plan::traffic::string_map;

use super::forms::{BACKEND_SELECTOR_PREFIX, Backend, FormErrors, ServiceForm, selector_text};
use super::pages::{backends, form_context, render_form};
use super::{ConsoleError, Ctx, Oversized};
use crate::AppState;
use crate::plan_view::{BackendMatch, PlanView, list, s, text};
use crate::registry::{ListOptions, Registry, RegistryError, kind_by_plural};

type Pairs = Form<Vec<(String, String)>>;

/// The texts of a registry error, for a plan that could not be computed.
pub fn error_texts(e: &RegistryError) -> Vec<String> {
    match e {
        RegistryError::Store(_) | RegistryError::Internal(_) => {
            tracing::error!(error = %e, "planning a service failed");
            vec!["The plan could not be computed because of an error on our side.".into()]
        }
        _ => vec![e.status().kubectl_text()],
    }
}

/// Plans `proposed` in `namespace`; a failed plan becomes a view of its errors.
pub async fn plan_view(
    registry: &Registry,
    namespace: &str,
    proposed: &Value,
    change: SlbChange,
) -> PlanView {
    match registry.plan_service(namespace, proposed, change).await {
        Ok(plan) => match serde_json::to_value(&plan) {
            Ok(json) => PlanView::from_json(&json),
            Err(e) => PlanView::failed(vec![format!("cannot encode the plan: {e}")]),
        },
        Err(e) => PlanView::failed(error_texts(&e)),
    }
}

// ---------------------------------------------------------------- backend picker

/// Whether a selector picks a pod with these labels (an empty selector picks none).
pub fn selects(selector: &BTreeMap<String, String>, labels: Option<&Value>) -> bool {
    matches_service_selector(Some(selector), &string_map(labels))
}

/// The container ports of a pod template (or pod) spec: `80/TCP (nginx)`.
pub fn container_ports(spec: Option<&Value>) -> Vec<String> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in list(spec, "/containers") {
        for p in list(c, "/ports") {
            let protocol = match s(p, "/protocol") {
                "" => "TCP",
                other => other,
            };
            let name = match s(p, "/name") {
                "" => s(c, "/name").to_string(),
                port_name => format!("{port_name}, {}", s(c, "/name")),
            };
            out.push(format!(
                "{}/{protocol} ({name})",
                text(p.get("containerPort"))
            ));
        }
    }
    out
}

/// The backend the form selects: how many of the namespace's pods it matches, and the
/// container ports of its pod template.
pub async fn backend_match(
    registry: &Registry,
    form: &ServiceForm,
    backends: &[Backend],
) -> Result<Option<BackendMatch>, RegistryError> {
    let Some(backend) = backends.iter().find(|b| b.name == form.backend) else {
        return Ok(None);
    };
    if form.backend.starts_with(BACKEND_SELECTOR_PREFIX) {
        return Ok(None);
    }
    let pods = registry
        .list("pods", Some(&form.namespace), &ListOptions::default())
        .await?
        .items;
    let matched = pods
        .iter()
        .filter(|p| selects(&backend.match_labels, p.at("/metadata/labels")))
        .count();
    let ports = match kind_by_plural("deployments") {
        Some(kind) => match registry.get(kind, &form.namespace, &backend.name).await {
            Ok(d) => container_ports(d.at("/spec/template/spec")),
            Err(RegistryError::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e),
        },
        None => Vec::new(),
    };
    Ok(Some(BackendMatch {
        name: backend.name.clone(),
        selector: selector_text(&backend.match_labels),
        matched,
        total: pods.len(),
        ports,
    }))
}

// ---------------------------------------------------------------- handlers

/// The plan partial alone, for the live preview.
#[derive(Template, WebTemplate)]
#[template(path = "partials/plan.html")]
pub struct PlanPartial {
    pub plan: PlanView,
}

/// `POST /services/plan`: the Create form again with the plan of what it would create, or
/// only the plan partial for the live preview (`HX-Request`).
pub async fn preview_create(
    State(app): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    oversized: Option<Extension<Oversized>>,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    let (mut form, op) = ServiceForm::parse(&pairs);
    // A plan is a dry-run create, as the plan API authorizes it.
    ctx.access.check_services("create", &form.namespace, "")?;
    form.apply(op);
    let backends = backends(&app.registry, &form.namespace).await?;
    if let Some(Extension(oversized)) = oversized {
        let errors = FormErrors::oversized(&oversized);
        let plan = PlanView::failed(summary_of(&errors));
        return respond(&app, &ctx, &headers, form, &backends, false, plan, errors).await;
    }
    let (mut plan, errors) = match form.manifest(&backends) {
        Ok(body) => plan_with_errors(&app.registry, &form, &body).await,
        Err(errors) => (PlanView::failed(summary_of(&errors)), errors),
    };
    if headers.get("hx-request").is_some() {
        plan = only_reached(plan, &errors, &pairs);
    }
    respond(&app, &ctx, &headers, form, &backends, false, plan, errors).await
}

/// `POST /services/{namespace}/{name}/plan`: the Update form with the plan of the change.
pub async fn preview_update(
    State(app): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
    oversized: Option<Extension<Oversized>>,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    ctx.access.check_services("update", &namespace, &name)?;
    let (mut form, op) = ServiceForm::parse(&pairs);
    form.apply(op);
    (form.namespace, form.name) = (namespace.clone(), name.clone());
    let backends = backends(&app.registry, &namespace).await?;
    if let Some(Extension(oversized)) = oversized {
        let errors = FormErrors::oversized(&oversized);
        let plan = PlanView::failed(summary_of(&errors));
        return respond(&app, &ctx, &headers, form, &backends, true, plan, errors).await;
    }
    let current = app.registry.get_service(&namespace, &name).await?;
    let (plan, errors) = match form.apply_to(&current, &backends) {
        Ok(body) => plan_with_errors(&app.registry, &form, &body).await,
        Err(errors) => (PlanView::failed(summary_of(&errors)), errors),
    };
    respond(&app, &ctx, &headers, form, &backends, true, plan, errors).await
}

async fn plan_with_errors(
    registry: &Registry,
    form: &ServiceForm,
    body: &Value,
) -> (PlanView, FormErrors) {
    match registry
        .plan_service(&form.namespace, body, SlbChange::Apply)
        .await
    {
        Ok(plan) => match serde_json::to_value(&plan) {
            Ok(json) => (PlanView::from_json(&json), FormErrors::default()),
            Err(e) => (
                PlanView::failed(vec![format!("cannot encode the plan: {e}")]),
                FormErrors::default(),
            ),
        },
        Err(e) => (
            PlanView::failed(error_texts(&e)),
            FormErrors::from_registry(&e, form),
        ),
    }
}

/// The live plan of a Create form that is still being filled in: the script names the
/// fields the user has `reached`; errors of the others wait until the user gets there.
fn only_reached(plan: PlanView, errors: &FormErrors, pairs: &[(String, String)]) -> PlanView {
    let reached: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "reached")
        .map(|(_, v)| v.clone())
        .collect();
    if reached.is_empty() || errors.fields.is_empty() {
        return plan;
    }
    let shown = errors.reached_only(&reached);
    if shown.fields.is_empty() {
        PlanView::pending()
    } else {
        PlanView::failed(summary_of(&shown))
    }
}

fn summary_of(errors: &FormErrors) -> Vec<String> {
    let mut out = errors.summary.clone();
    out.extend(errors.fields.iter().map(|(f, m)| format!("{f}: {m}")));
    out
}

#[expect(
    clippy::too_many_arguments,
    reason = "two call sites that differ only in these values"
)]
async fn respond(
    app: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    form: ServiceForm,
    backends: &[Backend],
    editing: bool,
    mut plan: PlanView,
    errors: FormErrors,
) -> Result<Response, ConsoleError> {
    plan.backend = backend_match(&app.registry, &form, backends).await?;
    if headers.get("hx-request").is_some() {
        return Ok(PlanPartial { plan }.into_response());
    }
    // A preview is not a submission: the errors sit next to their fields, but the page
    // answers 200 unless the plan itself could not be computed.
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        errors.status()
    };
    let mut cx = form_context(editing, backends, errors);
    cx.plan = Some(plan);
    render_form(app, ctx, &form, cx, status).await
}

// ---------------------------------------------------------------- refusing what the plan refuses

/// The console does not write a Service whose plan says the change will be refused: the
/// conflicts the registry does not refuse itself (those CCM reports only after the write, as
/// a `SyncLoadBalancerFailed` event) become form errors, each next to the control it is
/// about; the registry's own refusals keep kube-apiserver's words. `None`: nothing to refuse.
pub async fn refusal(
    registry: &Registry,
    form: &ServiceForm,
    body: &Value,
    editing: bool,
) -> Option<FormErrors> {
    if form.service_type != service_plan::service::types::TYPE_LOAD_BALANCER {
        return None;
    }
    // A plan that cannot be computed is an invalid Service: the write says why.
    let plan = registry
        .plan_service(&form.namespace, body, SlbChange::Apply)
        .await
        .ok()?;
    let conflicts: Vec<_> = plan
        .slb?
        .conflicts
        .into_iter()
        .filter(|c| !c.kind.refused_on_write())
        .collect();
    if conflicts.is_empty() {
        return None;
    }
    let mut errors = FormErrors::message(format!(
        "The plan shows {} conflict{}: the Service would be {} but its load balancer would fail, so nothing was saved.",
        conflicts.len(),
        if conflicts.len() == 1 { "" } else { "s" },
        if editing { "updated" } else { "created" },
    ));
    for c in conflicts {
        // A reused instance is what every conflict of a reuse is about: its picker shows the
        // address type and the ports in use.
        let field = match c.kind {
            _ if form.slb.existing => "slb.id",
            ConflictKind::AddressTypeChange => "slb.access",
            ConflictKind::ChargeType => "slb.spec",
            _ => {
                errors.summary.push(c.message);
                continue;
            }
        };
        errors.fields.push((field.to_string(), c.message));
    }
    Some(errors)
}

// ---------------------------------------------------------------- details and delete

/// Details: the SLB listeners and backends of a LoadBalancer Service (its plan as it stands)
/// and, when it gets no traffic, why.
pub async fn enrich_details(
    registry: &Registry,
    svc: &Value,
    events: &[Value],
    page: &mut super::views::ServiceShowPage,
) -> Result<(), ConsoleError> {
    let namespace = s(svc, "/metadata/namespace").to_string();
    if s(svc, "/spec/type") == service_plan::service::types::TYPE_LOAD_BALANCER {
        let mut view = plan_view(registry, &namespace, svc, SlbChange::Apply).await;
        // Details shows the Service as it stands: no allocations, no events to come.
        view.show_allocations = false;
        view.events.clear();
        for link in page
            .external
            .iter_mut()
            .filter(|l| view.unserved_ports.contains(&l.port))
        {
            link.href = None;
            link.text = format!("{} (no listener)", link.text);
        }
        page.no_traffic.extend(view.no_listener.iter().cloned());
        page.slb = view.instance.is_some().then_some(view);
    }
    let ready = page.endpoints.iter().filter(|e| e.ready == "Yes").count();
    let pending = s(svc, "/spec/type") == service_plan::service::types::TYPE_LOAD_BALANCER
        && list(svc, "/status/loadBalancer/ingress").is_empty();
    let selected = svc
        .at("/spec/selector")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty());
    if ready == 0 || pending || selected {
        let pods = registry
            .list("pods", Some(&namespace), &ListOptions::default())
            .await?
            .items;
        // The Endpoints card names a port that matches nothing, with or without endpoints.
        page.endpoint_notes = service_plan::traffic::unexposed_in(svc, &pods)
            .into_iter()
            .map(|u| u.message)
            .collect();
        if ready == 0 || pending {
            let reasons = service_plan::traffic::why_no_traffic(svc, &pods, ready, events);
            page.no_traffic.splice(0..0, reasons);
        }
    }
    Ok(())
}

/// The Delete page: what deleting `svc` releases on the SLB side; `None` when no CLB is
/// involved. Cluster IPs and node ports are listed by the page itself.
pub async fn delete_plan(registry: &Registry, svc: &Value) -> Option<PlanView> {
    let namespace = s(svc, "/metadata/namespace");
    let mut view = plan_view(registry, namespace, svc, SlbChange::Delete).await;
    view.show_allocations = false;
    let involved = view.instance.as_ref().is_some_and(|i| i.action != "None");
    (involved || !view.errors.is_empty()).then_some(view)
}
