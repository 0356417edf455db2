//! Console handlers for Services: index, show, new, create, edit, update, confirm_delete,
//! delete, plus the bulk delete, the YAML create and preview, and the live-update stream.
//! Each extracts, calls the registry, and shapes a page or a redirect.

use service_plan::json::Pointer as _;
use std::convert::Infallible;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use service_plan::selector::{FieldSelector, LabelSelector, escape_value};

use super::forms::{Backend, FormErrors, FormOp, ServiceForm};
use super::pages::{backends, form_context, layout, render_form, render_with_errors};
use super::views::{
    self, BulkDeletePage, BulkItem, Crumb, Layout, ListFilters, Related, SORT_CREATED,
    SORT_CREATED_ASC, ServiceDeletePage, ServiceIndexPage, ServiceResults, ServiceResultsPartial,
    ServiceRow, ServiceShowPage, details_url, encode, list_url, services_crumb,
};
use super::{Access, ConsoleError, Ctx, Oversized, redirect_with_flash};
use crate::AppState;
use crate::registry::pages::{ListOrder, MAX_SCANNED_PER_PAGE, PageCursor, PageQuery};
use crate::registry::{
    Applied, DeletePreconditions, ListOptions, Registry, RegistryError, WriteOptions,
    kind_by_plural,
};

/// Services per list page unless the user chooses another of [`PAGE_SIZES`].
pub const PAGE_SIZE: usize = 20;
/// The page sizes the list offers.
pub const PAGE_SIZES: [usize; 3] = [20, 50, 100];
/// Matches a filtered list counts at most; past them the total says "more than".
const MAX_COUNTED: usize = 5_000;
/// Services a page of a filtered count holds.
const COUNT_PAGE: usize = 500;
/// Services a count with a label selector reads at most. No index serves a label selector, so
/// its pages scan (at most [`MAX_SCANNED_PER_PAGE`] each): a rare match is counted over this
/// many and the total says "at least", rather than every view of the page reading the whole
/// namespace (1.8 s with 100,000 Services).
const MAX_LABEL_COUNT_SCANNED: usize = 10_000;
/// The namespace the console opens in.
pub const DEFAULT_NAMESPACE: &str = "default";
/// First-page marker in the `prev` stack of the list's pagination.
const FIRST_PAGE: &str = "~";
/// The resource (plural) of Services, as RBAC names it.
pub const SERVICES: &str = "services";

type Pairs = Form<Vec<(String, String)>>;

/// Query of `GET /services`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IndexQuery {
    /// Absent: `default`; empty: All Namespaces.
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default, rename = "type")]
    pub service_type: String,
    #[serde(default)]
    pub sort: String,
    #[serde(rename = "continue")]
    pub continue_token: Option<String>,
    #[serde(default)]
    pub prev: String,
    /// Services per page, one of [`PAGE_SIZES`].
    #[serde(default)]
    pub limit: String,
}

impl IndexQuery {
    fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE)
    }

    fn filtered(&self) -> bool {
        !(self.name.trim().is_empty()
            && self.label.trim().is_empty()
            && self.service_type.is_empty())
    }

    fn order(&self) -> ListOrder {
        match self.sort.as_str() {
            SORT_CREATED => ListOrder::CreatedDesc,
            SORT_CREATED_ASC => ListOrder::CreatedAsc,
            _ => ListOrder::Name,
        }
    }

    fn page_size(&self) -> usize {
        self.limit
            .parse()
            .ok()
            .filter(|n| PAGE_SIZES.contains(n))
            .unwrap_or(PAGE_SIZE)
    }

    /// The list URL with these filters and `extra` paging parameters.
    fn url(&self, extra: &str) -> String {
        let mut url = format!(
            "/services?namespace={}&name={}&label={}&type={}&sort={}",
            encode(self.namespace()),
            encode(&self.name),
            encode(&self.label),
            encode(&self.service_type),
            encode(&self.sort)
        );
        if self.page_size() != PAGE_SIZE {
            url.push_str(&format!("&limit={}", self.page_size()));
        }
        if !extra.is_empty() {
            url.push('&');
            url.push_str(extra);
        }
        url
    }
}

/// `GET /services`: the list page, or only its results for a live update (`HX-Request`).
pub async fn index(
    State(app): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(mut query): Query<IndexQuery>,
) -> Result<Response, ConsoleError> {
    query.namespace = Some(ctx.namespace_or_sticky(query.namespace.take()));
    ctx.access.check_services("list", query.namespace(), "")?;
    let found = find_services(&app.registry, &query).await?;
    let node = node_address_for(&app.registry, &found.items).await?;
    let total = count_services(&app.registry, &query, &found).await?;
    let mut results = results_view(&ctx, &query, found.clone(), node.as_deref());
    results.total = total;
    let namespace = query.namespace();
    if !namespace.is_empty()
        && get_optional(&app.registry, "namespaces", "", namespace)
            .await?
            .is_none()
    {
        results.missing_namespace = Some(namespace.to_string());
    }
    if headers.get("hx-request").is_some() {
        return Ok(ServiceResultsPartial { results }.into_response());
    }
    let namespace = query.namespace();
    let layout = layout(
        &app.registry,
        &ctx,
        "Services",
        namespace,
        vec![Crumb::here("Services")],
    )
    .await?;
    let watch_url = format!(
        "/services/watch?namespace={}&from={}",
        encode(namespace),
        found.revision
    );
    let mut filters = ListFilters::new(&query.name, &query.label, &query.service_type, &query.sort);
    filters.page_size_options = PAGE_SIZES
        .iter()
        .map(|n| {
            let n = n.to_string();
            views::SelectOption::new(&n, &n, n == query.page_size().to_string())
        })
        .collect();
    Ok(ServiceIndexPage {
        layout,
        filters,
        results,
        watch_url,
    }
    .into_response())
}

/// `GET /services/{namespace}/{name}`.
pub async fn show(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<ServiceShowPage, ConsoleError> {
    ctx.access.check_services("get", &namespace, &name)?;
    // Read before the page's objects, so the stream reports every write the page missed.
    let revision = current_revision(&app.registry).await?;
    let svc = app.registry.get_service(&namespace, &name).await?;
    let crumbs = vec![services_crumb(&namespace), Crumb::here(&name)];
    let layout = layout(&app.registry, &ctx, &name, &namespace, crumbs).await?;
    let mut page = details_page(&app.registry, layout, &svc).await?;
    page.watch_url = format!(
        "/services/watch?namespace={}&name={}&from={revision}",
        encode(&namespace),
        encode(&name)
    );
    Ok(page)
}

/// The store's revision now.
async fn current_revision(registry: &Registry) -> Result<i64, ConsoleError> {
    let first = ListOptions {
        limit: Some(1),
        ..Default::default()
    };
    Ok(registry.list(SERVICES, None, &first).await?.revision)
}

/// Details of `svc`: its endpoints, events and node address, and its SLB side.
async fn details_page(
    registry: &Registry,
    layout: Layout,
    svc: &Value,
) -> Result<ServiceShowPage, ConsoleError> {
    let namespace = svc["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = svc["metadata"]["name"].as_str().unwrap_or_default();
    let by_service = service_name_selector(name);
    let slices = list_objects(registry, "endpointslices", namespace, by_service, None).await?;
    let endpoints = get_optional(registry, "endpoints", namespace, name).await?;
    let involved = Some(involved_selector(name));
    let events = list_objects(registry, "events", namespace, None, involved).await?;
    let node = node_address_for(registry, std::slice::from_ref(svc)).await?;
    let related = Related {
        endpoint_slices: &slices,
        endpoints: endpoints.as_ref(),
        events: &events,
        node: node.as_deref(),
        now: now(),
    };
    let mut page = ServiceShowPage::new(layout, svc, related);
    super::plan::enrich_details(registry, svc, &events, &mut page).await?;
    Ok(page)
}

/// Query of `GET /services/new`.
#[derive(Debug, Deserialize)]
pub struct NewQuery {
    pub namespace: Option<String>,
}

/// `GET /services/new`: the empty Create Service form.
pub async fn new(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewQuery>,
) -> Result<Response, ConsoleError> {
    // All Namespaces is no place to create in: then the form starts in `default`.
    let namespace = Some(ctx.namespace_or_sticky(q.namespace))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    ctx.access.check_services("create", &namespace, "")?;
    let form = ServiceForm::new(&namespace);
    let backends = backends(&app.registry, &namespace).await?;
    render_form(
        &app,
        &ctx,
        &form,
        form_context(false, &backends, FormErrors::default()),
        StatusCode::OK,
    )
    .await
}

/// `POST /services`: create from the form, or re-render it after a row button.
pub async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    oversized: Option<Extension<Oversized>>,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    let (mut form, op) = ServiceForm::parse(&pairs);
    // Asked before anything is read for the form, as kube-apiserver authorizes first.
    ctx.access.check_services("create", &form.namespace, "")?;
    let backends = backends(&app.registry, &form.namespace).await?;
    if let Some(Extension(oversized)) = oversized {
        let errors = FormErrors::oversized(&oversized);
        return render_with_errors(&app, &ctx, &form, false, &backends, errors).await;
    }
    if op.edits_form() {
        form.apply(op);
        let mut cx = form_context(false, &backends, FormErrors::default());
        cx.focus = op.focus_after(&form);
        return render_form(&app, &ctx, &form, cx, StatusCode::OK).await;
    }
    let created = match form.manifest(&backends) {
        Ok(body) => match super::plan::refusal(&app.registry, &form, &body, false).await {
            Some(errors) => Err(errors),
            None => app
                .registry
                .create_service(&form.namespace, &body, &ctx.access.write_options())
                .await
                .map_err(|e| FormErrors::from_registry(&e, &form)),
        },
        Err(errors) => Err(errors),
    };
    match created {
        Ok(applied) => Ok(created_redirect(&applied.object)),
        Err(errors) => render_with_errors(&app, &ctx, &form, false, &backends, errors).await,
    }
}

/// `POST /services/yaml`: "Create from YAML" with a pasted manifest.
pub async fn create_from_yaml(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (text, page_namespace) = (field("manifest"), field("metadata.namespace"));
    match create_from_manifest(&app.registry, &ctx.access, &text, &page_namespace).await {
        Ok(applied) => Ok(created_redirect(&applied.object)),
        Err(YamlCreateError::Console(e)) => Err(e),
        Err(YamlCreateError::Form(errors)) => {
            let form = ServiceForm::new(&page_namespace);
            let mut cx = form_context(false, &[], errors);
            cx.manifest_text = text;
            let status = cx.errors.status();
            render_form(&app, &ctx, &form, cx, status).await
        }
    }
}

/// Why a pasted manifest created nothing: errors for the form, or a refusal (403).
enum YamlCreateError {
    Form(FormErrors),
    Console(ConsoleError),
}

/// Creates the Service of a pasted manifest, in its own namespace or else the page's; every
/// error goes to the summary, as the YAML form has no fields to put them next to.
async fn create_from_manifest(
    registry: &Registry,
    access: &Access,
    text: &str,
    page_namespace: &str,
) -> Result<Applied, YamlCreateError> {
    let body = crate::manifest::parse_yaml_body(text)
        .map_err(|e| YamlCreateError::Form(FormErrors::message(e)))?;
    let namespace = body
        .at("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or(page_namespace)
        .to_string();
    access
        .check_services("create", &namespace, "")
        .map_err(YamlCreateError::Console)?;
    registry
        .create_service(&namespace, &body, &access.write_options())
        .await
        .map_err(|e| {
            YamlCreateError::Form(
                FormErrors::from_registry(&e, &ServiceForm::new(&namespace)).into_summary(),
            )
        })
}

/// `POST /services/preview`: the YAML the form would send, for the YAML tab as one types.
pub async fn preview(
    State(app): State<AppState>,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    let (form, _) = ServiceForm::parse(&pairs);
    let backends = backends(&app.registry, &form.namespace).await?;
    let text = match form.manifest(&backends) {
        Ok(manifest) => views::to_yaml(&manifest),
        Err(errors) => errors
            .fields
            .iter()
            .map(|(f, m)| format!("# {f}: {m}\n"))
            .collect(),
    };
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// `GET /services/{namespace}/{name}/edit`: the Update form, prefilled.
pub async fn edit(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    ctx.access.check_services("update", &namespace, &name)?;
    let svc = app.registry.get_service(&namespace, &name).await?;
    let backends = backends(&app.registry, &namespace).await?;
    let form = ServiceForm::from_service(&svc, &backends);
    render_form(
        &app,
        &ctx,
        &form,
        form_context(true, &backends, FormErrors::default()),
        StatusCode::OK,
    )
    .await
}

/// `POST /services/{namespace}/{name}`: review the changes (a dry run and a YAML diff), or
/// save them with the resourceVersion the form was opened at.
pub async fn update(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name)): Path<(String, String)>,
    oversized: Option<Extension<Oversized>>,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    ctx.access.check_services("update", &namespace, &name)?;
    let (mut form, op) = ServiceForm::parse(&pairs);
    (form.namespace, form.name) = (namespace.clone(), name.clone());
    let backends = backends(&app.registry, &namespace).await?;
    if let Some(Extension(oversized)) = oversized {
        let errors = FormErrors::oversized(&oversized);
        return render_with_errors(&app, &ctx, &form, true, &backends, errors).await;
    }
    let current = app.registry.get_service(&namespace, &name).await?;
    let outcome = submit_update(&app.registry, &ctx.access, &form, op, &current, &backends).await;
    form.apply(op);
    match outcome {
        Ok(Some(_)) if op == FormOp::Submit => {
            let message = format!("Service \"{name}\" updated.");
            Ok(redirect_with_flash(
                &details_url(&namespace, &name),
                "success",
                &message,
            ))
        }
        Ok(applied) => {
            let mut cx = form_context(true, &backends, FormErrors::default());
            cx.diff = applied.map(|a| review_diff(&current, &a.object));
            cx.focus = op.focus_after(&form);
            render_form(&app, &ctx, &form, cx, StatusCode::OK).await
        }
        Err(errors) => render_with_errors(&app, &ctx, &form, true, &backends, errors).await,
    }
}

/// Sends the form's change of `current` to the registry: a dry run to review, or the write.
/// Nothing is sent for a button that only edits the form.
async fn submit_update(
    registry: &Registry,
    access: &Access,
    form: &ServiceForm,
    op: FormOp,
    current: &Value,
    backends: &[Backend],
) -> Result<Option<Applied>, FormErrors> {
    if op.edits_form() {
        return Ok(None);
    }
    let body = form.apply_to(current, backends)?;
    if op == FormOp::Submit
        && let Some(errors) = super::plan::refusal(registry, form, &body, true).await
    {
        return Err(errors);
    }
    let opts = WriteOptions {
        dry_run: op != FormOp::Submit,
        ..access.write_options()
    };
    registry
        .update_service(&form.namespace, &form.name, &body, &opts)
        .await
        .map(Some)
        .map_err(|e| FormErrors::from_registry(&e, form))
}

/// The YAML diff of an update under review, without what changes on every write.
fn review_diff(current: &Value, updated: &Value) -> Vec<views::DiffLine> {
    let (current, updated) = (comparable(current), comparable(updated));
    let updated = service_plan::diff::lines::in_order_of(&current, &updated);
    views::yaml_diff(&views::to_yaml(&current), &views::to_yaml(&updated))
}

/// Query of the Delete page: the filtered list it was opened from.
#[derive(Debug, Default, Deserialize)]
pub struct ReturnQuery {
    #[serde(default, rename = "return")]
    pub return_to: String,
}

/// `return_to` when it is a Services list of this console (never another site), else
/// `fallback`.
fn list_return(return_to: &str, fallback: String) -> String {
    let ours = return_to.starts_with("/services?") && !return_to.contains(['\\', '\r', '\n']);
    if ours {
        return_to.to_string()
    } else {
        fallback
    }
}

/// `GET /services/{namespace}/{name}/delete`: what deleting releases, and a confirm button.
pub async fn confirm_delete(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name)): Path<(String, String)>,
    Query(back): Query<ReturnQuery>,
) -> Result<ServiceDeletePage, ConsoleError> {
    ctx.access.check_services("delete", &namespace, &name)?;
    let svc = app.registry.get_service(&namespace, &name).await?;
    let crumbs = vec![
        services_crumb(&namespace),
        Crumb::link(&name, details_url(&namespace, &name)),
        Crumb::here("Delete"),
    ];
    let layout = layout(
        &app.registry,
        &ctx,
        &format!("Delete {name}"),
        &namespace,
        crumbs,
    )
    .await?;
    let mut page = ServiceDeletePage::new(layout, &svc);
    page.plan = super::plan::delete_plan(&app.registry, &svc).await;
    if !back.return_to.is_empty() {
        page.return_to = list_return(&back.return_to, list_url(&namespace));
        page.cancel_url = page.return_to.clone();
    }
    Ok(page)
}

/// `POST /services/{namespace}/{name}/delete`.
pub async fn delete(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((namespace, name)): Path<(String, String)>,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    ctx.access.check_services("delete", &namespace, &name)?;
    let opts = ctx.access.write_options();
    app.registry
        .delete_service(&namespace, &name, &DeletePreconditions::default(), &opts)
        .await?;
    let back = list_return(&field_of(&pairs, "return"), list_url(&namespace));
    Ok(redirect_with_flash(
        &back,
        "success",
        &format!("Service \"{name}\" deleted."),
    ))
}

/// `POST /services/delete`: the selected rows; asks for confirmation, then deletes them.
pub async fn bulk_delete(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    let selected = selected_services(&pairs);
    let fallback = list_url(
        selected
            .first()
            .map_or(DEFAULT_NAMESPACE, |(ns, _)| ns.as_str()),
    );
    // The list with the filters it was filtered by, whatever happens.
    let back = list_return(&field_of(&pairs, "return"), fallback);
    if selected.is_empty() {
        let message = "Select at least one Service to delete.";
        return Ok(redirect_with_flash(&back, "error", message));
    }
    for (namespace, name) in &selected {
        ctx.access.check_services("delete", namespace, name)?;
    }
    if !pairs.iter().any(|(k, v)| k == "confirm" && v == "yes") {
        let page = bulk_delete_page(&app.registry, &ctx, &selected, back).await?;
        return Ok(page.into_response());
    }
    let deleted = delete_services(&app.registry, &ctx.access, &selected).await?;
    let message = format!("{deleted} Services deleted.");
    Ok(redirect_with_flash(&back, "success", &message))
}

/// Deletes the Services of `keys` as the user; those already gone are skipped. Returns how
/// many it deleted.
async fn delete_services(
    registry: &Registry,
    access: &Access,
    keys: &[(String, String)],
) -> Result<usize, RegistryError> {
    let (pre, opts) = (DeletePreconditions::default(), access.write_options());
    let mut deleted = 0;
    for (namespace, name) in keys {
        match registry.delete_service(namespace, name, &pre, &opts).await {
            Ok(_) => deleted += 1,
            Err(RegistryError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

/// The value of the posted field `name`, or `""`.
fn field_of(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The `namespace/name` pairs of the rows a bulk delete selected.
fn selected_services(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(k, _)| k == "selected")
        .filter_map(|(_, v)| {
            v.split_once('/')
                .map(|(ns, n)| (ns.to_string(), n.to_string()))
        })
        .collect()
}

/// The confirmation of a bulk delete: the selected Services that still exist.
async fn bulk_delete_page(
    registry: &Registry,
    ctx: &Ctx,
    selected: &[(String, String)],
    cancel_url: String,
) -> Result<BulkDeletePage, ConsoleError> {
    let items = registry
        .existing_services(selected)
        .await?
        .iter()
        .map(BulkItem::new)
        .collect();
    let crumbs = vec![services_crumb(""), Crumb::here("Delete")];
    let layout = layout(registry, ctx, "Delete Services", "", crumbs).await?;
    Ok(BulkDeletePage {
        layout,
        items,
        cancel_url,
    })
}

/// How long one live-update stream of a console page lasts. The server ends it then, and
/// the browser's `EventSource` reconnects with the last revision it saw (`Last-Event-ID`), so
/// a stream left behind by a page that never closed it costs a connection for at most this.
pub const CONSOLE_WATCH_LIFETIME: std::time::Duration = std::time::Duration::from_secs(120);

/// Query of `GET /services/watch`.
#[derive(Debug, Deserialize)]
pub struct WatchQuery {
    pub namespace: Option<String>,
    /// A Service's name: the stream of its Details page (the Service, its endpoints and
    /// events) instead of the list's.
    pub name: Option<String>,
    pub from: Option<i64>,
}

/// `GET /services/watch`: Server-Sent Events, one `change` per write after `from` (or after
/// the `Last-Event-ID` of a reconnecting browser) that the page shows, and a `namespaces`
/// event when a namespace is created or deleted (the picker follows), fed by the registry's
/// watch, for at most [`CONSOLE_WATCH_LIFETIME`].
pub async fn watch(
    State(app): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<WatchQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ConsoleError> {
    let scope_ns = q.namespace.as_deref().unwrap_or_default();
    let scope = match q.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => {
            ctx.access.check_services("watch", scope_ns, name)?;
            WatchScope::Details {
                namespace: scope_ns.to_string(),
                name: name.to_string(),
            }
        }
        None => {
            ctx.access.check_services("watch", scope_ns, "")?;
            WatchScope::List {
                namespace: Some(scope_ns.to_string()).filter(|n| !n.is_empty()),
            }
        }
    };
    let current = current_revision(&app.registry).await?;
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let from = last_seen
        .or(q.from)
        .filter(|f| *f <= current)
        .unwrap_or(current);
    let stream = service_changes(
        app.registry.clone(),
        scope,
        from,
        current,
        CONSOLE_WATCH_LIFETIME,
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Which writes a console page's live-update stream reports as `change`.
#[derive(Debug, Clone)]
pub enum WatchScope {
    /// The list: Services of the namespace, or of all namespaces.
    List { namespace: Option<String> },
    /// Details: the Service, and what its page shows beside it (its Endpoints, its
    /// EndpointSlices `<name>-…`, its Events `<name>.…`, as the controllers name them).
    Details { namespace: String, name: String },
}

impl WatchScope {
    /// Whether a write of `key` changes what the page shows.
    fn shows(&self, key: &crate::store::ObjectKey) -> bool {
        match self {
            WatchScope::List { namespace } => {
                key.kind == SERVICES && namespace.as_ref().is_none_or(|n| *n == key.namespace)
            }
            WatchScope::Details { namespace, name } => {
                *namespace == key.namespace
                    && match key.kind.as_str() {
                        SERVICES | "endpoints" => key.name == *name,
                        "endpointslices" => key
                            .name
                            .strip_prefix(name.as_str())
                            .is_some_and(|rest| rest.starts_with('-')),
                        "events" => key
                            .name
                            .strip_prefix(name.as_str())
                            .is_some_and(|rest| rest.starts_with('.')),
                        _ => false,
                    }
            }
        }
    }
}

/// The `change` events of the writes after `from` (or, when that is too old, after
/// `current`) that `scope` shows, and a `namespaces` event per namespace written; the stream
/// ends after `lifetime`.
pub fn service_changes(
    registry: Registry,
    scope: WatchScope,
    from: i64,
    current: i64,
    lifetime: std::time::Duration,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let deadline = tokio::time::sleep(lifetime);
    // The stream owns the registry: the watch borrows it for as long as the client listens.
    let changes = async_stream::stream! {
        let events = match registry.watch_all(from).await {
            Ok(events) => events,
            Err(_) => match registry.watch_all(current).await {
                Ok(events) => events,
                Err(_) => return,
            },
        };
        futures::pin_mut!(events);
        while let Some(Ok(e)) = events.next().await {
            let id = e.revision.to_string();
            if e.key.kind == "namespaces" {
                // Only that the list of namespaces changed: the picker asks which it may see.
                yield Ok(SseEvent::default().event("namespaces").id(id).data("{}"));
                continue;
            }
            if !scope.shows(&e.key) {
                continue;
            }
            let data = json!({"type": format!("{:?}", e.event_type), "kind": e.key.kind, "namespace": e.key.namespace, "name": e.key.name, "revision": e.revision});
            yield Ok(SseEvent::default().event("change").id(id).data(data.to_string()));
        }
    };
    changes.take_until(deadline)
}

// ---------------------------------------------------------------- helpers

impl FormErrors {
    /// The HTTP status of a form answered with these errors.
    pub fn status(&self) -> StatusCode {
        if self.too_large {
            StatusCode::PAYLOAD_TOO_LARGE
        } else if self.conflict {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// Every error in the summary (the YAML form has no fields to put them next to).
    fn into_summary(mut self) -> FormErrors {
        let fields = std::mem::take(&mut self.fields);
        self.summary
            .extend(fields.into_iter().map(|(f, m)| format!("{f}: {m}")));
        self
    }
}

fn created_redirect(object: &Value) -> Response {
    let ns = object
        .at("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = object
        .at("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    redirect_with_flash(
        &details_url(ns, name),
        "success",
        &format!("Service \"{name}\" created."),
    )
}

/// The object without what changes on every write, for the update diff.
fn comparable(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        meta.remove("managedFields");
    }
    if let Some(o) = object.as_object_mut() {
        o.remove("status");
    }
    object
}

async fn list_objects(
    registry: &Registry,
    resource: &str,
    namespace: &str,
    label_selector: Option<LabelSelector>,
    field_selector: Option<FieldSelector>,
) -> Result<Vec<Value>, ConsoleError> {
    let opts = ListOptions {
        label_selector,
        field_selector,
        ..Default::default()
    };
    Ok(registry.list(resource, Some(namespace), &opts).await?.items)
}

async fn get_optional(
    registry: &Registry,
    resource: &str,
    namespace: &str,
    name: &str,
) -> Result<Option<Value>, ConsoleError> {
    let Some(kind) = kind_by_plural(resource) else {
        return Ok(None);
    };
    match registry.get(kind, namespace, name).await {
        Ok(object) => Ok(Some(object)),
        Err(RegistryError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn service_name_selector(name: &str) -> Option<LabelSelector> {
    Some(LabelSelector::from_map(
        &[("kubernetes.io/service-name".to_string(), name.to_string())].into(),
    ))
}

fn involved_selector(name: &str) -> FieldSelector {
    let text = format!(
        "involvedObject.kind=Service,involvedObject.name={}",
        escape_value(name)
    );
    FieldSelector::parse(&text).unwrap_or_default()
}

/// A node address for NodePort links, read only when a NodePort Service is shown.
async fn node_address_for(
    registry: &Registry,
    services: &[Value],
) -> Result<Option<String>, ConsoleError> {
    let any_node_port = services
        .iter()
        .any(|s| s.at("/spec/type").and_then(Value::as_str) == Some("NodePort"));
    if !any_node_port {
        return Ok(None);
    }
    let page = registry
        .list(
            "nodes",
            None,
            &ListOptions {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await?;
    Ok(page.items.first().and_then(views::node_address))
}

fn now() -> i64 {
    service_plan::k8s_openapi::jiff::Timestamp::now().as_second()
}

/// One page of the list, with where the next starts.
#[derive(Debug, Clone, Default)]
struct Found {
    items: Vec<Value>,
    next: Option<String>,
    revision: i64,
    error: Option<String>,
}

/// Reads one page through the registry's indexed pages: its cost is one page, not the
/// namespace, for every filter and order but a label selector (a bounded scan).
async fn find_services(registry: &Registry, q: &IndexQuery) -> Result<Found, ConsoleError> {
    find_services_page(registry, q, q.page_size()).await
}

/// [`find_services`] with pages of `limit` Services.
async fn find_services_page(
    registry: &Registry,
    q: &IndexQuery,
    limit: usize,
) -> Result<Found, ConsoleError> {
    let label_selector = match q.label.trim() {
        "" => None,
        text => match LabelSelector::parse(text) {
            Ok(sel) => Some(sel),
            Err(e) => {
                return Ok(Found {
                    error: Some(format!("Invalid label selector: {e}")),
                    ..Default::default()
                });
            }
        },
    };
    let query = PageQuery {
        label_selector,
        order: q.order(),
        after: q.continue_token.as_deref().and_then(PageCursor::from_token),
        limit,
        ..page_filters(q)
    };
    let page = registry.list_page(SERVICES, &query).await?;
    Ok(Found {
        items: page.items,
        next: page.next.map(|cursor| cursor.to_token()),
        revision: page.revision,
        error: None,
    })
}

/// The namespace, name and type filters of the list, as a page query.
fn page_filters(q: &IndexQuery) -> PageQuery {
    PageQuery {
        namespace: Some(q.namespace().to_string()).filter(|n| !n.is_empty()),
        name_contains: q.name.trim().to_string(),
        spec_type: Some(q.service_type.clone()).filter(|t| !t.is_empty()),
        ..PageQuery::default()
    }
}

/// The list's total, "45 Services", or for a filtered list "12 of 45 Services match"; a
/// filtered count stops past [`MAX_COUNTED`]. Only a label filter reads the objects. `found`
/// is the page on screen (a filter it could not apply leaves the plain total).
async fn count_services(
    registry: &Registry,
    q: &IndexQuery,
    found: &Found,
) -> Result<String, ConsoleError> {
    let namespace = Some(q.namespace()).filter(|n| !n.is_empty());
    let all = usize::try_from(registry.count(SERVICES, namespace).await?).unwrap_or(usize::MAX);
    let plural = |n: usize| if n == 1 { "Service" } else { "Services" };
    if !q.filtered() || found.error.is_some() {
        return Ok(format!("{all} {}", plural(all)));
    }
    if q.continue_token.is_none() && found.next.is_none() {
        // A first page that holds every match is its own count: a rare name, which walks the
        // whole namespace, is not walked twice.
        let matched = found.items.len();
        return Ok(format!("{matched} of {all} {} match", plural(all)));
    }
    if q.label.trim().is_empty() {
        let matched = registry
            .count_page(SERVICES, &page_filters(q), MAX_COUNTED + 1)
            .await?;
        return Ok(if matched > MAX_COUNTED {
            format!("More than {MAX_COUNTED} of {all} {} match", plural(all))
        } else {
            format!("{matched} of {all} {} match", plural(all))
        });
    }
    let mut query = IndexQuery {
        continue_token: None,
        prev: String::new(),
        limit: "100".into(),
        ..q.clone()
    };
    // A label selector's scan stops after these pages.
    let mut matched = 0;
    for _ in 0..MAX_LABEL_COUNT_SCANNED / MAX_SCANNED_PER_PAGE {
        let page = find_services_page(registry, &query, COUNT_PAGE).await?;
        matched += page.items.len();
        match page.next {
            Some(_) if matched >= MAX_COUNTED => {
                return Ok(format!(
                    "More than {MAX_COUNTED} of {all} {} match",
                    plural(all)
                ));
            }
            Some(token) => query.continue_token = Some(token),
            None => return Ok(format!("{matched} of {all} {} match", plural(all))),
        }
    }
    Ok(format!("At least {matched} of {all} {} match", plural(all)))
}

fn results_view(ctx: &Ctx, q: &IndexQuery, found: Found, node: Option<&str>) -> ServiceResults {
    let now = now();
    let stack: Vec<&str> = q.prev.split('.').filter(|s| !s.is_empty()).collect();
    let current = q.continue_token.as_deref().unwrap_or(FIRST_PAGE);
    let prev_url = stack.last().map(|last| {
        let rest = stack[..stack.len() - 1].join(".");
        let cont = if *last == FIRST_PAGE {
            String::new()
        } else {
            format!("continue={}&", encode(last))
        };
        q.url(&format!("{cont}prev={}", encode(&rest)))
    });
    let next_url = found.next.as_ref().map(|token| {
        let mut new_stack = stack.clone();
        new_stack.push(current);
        q.url(&format!(
            "continue={}&prev={}",
            encode(token),
            encode(&new_stack.join("."))
        ))
    });
    let first_url = (stack.len() > 1).then(|| q.url(""));
    let page_number = stack.len() + 1;
    let self_url = match &q.continue_token {
        Some(token) => q.url(&format!(
            "continue={}&prev={}",
            encode(token),
            encode(&q.prev)
        )),
        None => q.url(""),
    };
    let rows: Vec<ServiceRow> = found
        .items
        .iter()
        .map(|s| {
            let mut row = ServiceRow::new(s, now, node);
            row.delete_url = format!("{}?return={}", row.delete_url, encode(&self_url));
            row.may_update = ctx.access.can_services("update", &row.namespace, &row.name);
            row.may_delete = ctx.access.can_services("delete", &row.namespace, &row.name);
            row
        })
        .collect();
    ServiceResults {
        may_create: ctx.access.can_services("create", q.namespace(), ""),
        may_delete: rows.iter().any(|r| r.may_delete),
        rows,
        total: String::new(),
        self_url,
        all_namespaces: q.namespace().is_empty(),
        filtered: q.filtered() || found.error.is_some(),
        error: found.error,
        page_number,
        prev_url,
        next_url,
        first_url,
        create_url: format!("/services/new?namespace={}", encode(q.namespace())),
        clear_url: list_url(q.namespace()),
        csrf_token: ctx.csrf_token.clone(),
        missing_namespace: None,
    }
}
