//! What the console's pages share: the layout with its namespace list, and the Service form
//! page with the backend applications it offers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_plan::json::Pointer as _;

use super::forms::{Backend, FormErrors, ServiceForm};
use super::views::{Crumb, FormContext, Layout, ServiceFormPage, details_url, services_crumb};
use super::{ConsoleError, Ctx};
use crate::AppState;
use crate::registry::{ListOptions, Registry};

/// The form page's context with no diff, plan or pasted manifest yet.
pub(super) fn form_context(
    editing: bool,
    backends: &[Backend],
    errors: FormErrors,
) -> FormContext<'_> {
    FormContext {
        editing,
        backends,
        errors,
        manifest_text: String::new(),
        diff: None,
        plan: None,
        focus: None,
        reuse_choices: None,
    }
}

/// The Create or Update form page, answered with `status`.
pub(super) async fn render_form(
    app: &AppState,
    ctx: &Ctx,
    form: &ServiceForm,
    mut cx: FormContext<'_>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let namespaces = namespaces(&app.registry).await?;
    let slb = crate::registry::LOAD_BALANCERS;
    if ctx.access.can("list", slb.group, slb.plural, "", "") {
        cx.reuse_choices = Some(
            app.registry
                .reuse_choices(&form.namespace, &form.name)
                .await?,
        );
    }
    let (title, crumbs) = if cx.editing {
        let details = Crumb::link(&form.name, details_url(&form.namespace, &form.name));
        (
            "Update Service",
            vec![
                services_crumb(&form.namespace),
                details,
                Crumb::here("Update"),
            ],
        )
    } else {
        (
            "Create Service",
            vec![services_crumb(&form.namespace), Crumb::here("Create")],
        )
    };
    let layout = Layout::new(ctx, title, &form.namespace, &namespaces, crumbs);
    Ok((status, ServiceFormPage::new(layout, form, &namespaces, cx)).into_response())
}

/// The Create or Update form page again with `errors` next to their fields, answered with
/// their status.
pub(super) async fn render_with_errors(
    app: &AppState,
    ctx: &Ctx,
    form: &ServiceForm,
    editing: bool,
    backends: &[Backend],
    errors: FormErrors,
) -> Result<Response, ConsoleError> {
    let status = errors.status();
    render_form(
        app,
        ctx,
        form,
        form_context(editing, backends, errors),
        status,
    )
    .await
}

/// The page layout: title, namespace picker and breadcrumbs.
pub(super) async fn layout(
    registry: &Registry,
    ctx: &Ctx,
    title: &str,
    namespace: &str,
    crumbs: Vec<Crumb>,
) -> Result<Layout, ConsoleError> {
    let namespaces = namespaces(registry).await?;
    Ok(Layout::new(ctx, title, namespace, &namespaces, crumbs))
}

async fn namespaces(registry: &Registry) -> Result<Vec<String>, ConsoleError> {
    let page = registry
        .list("namespaces", None, &ListOptions::default())
        .await?;
    Ok(page
        .items
        .iter()
        .filter_map(|n| n.at("/metadata/name")?.as_str().map(str::to_string))
        .collect())
}

/// The backend applications of a namespace: its Deployments.
pub(super) async fn backends(
    registry: &Registry,
    namespace: &str,
) -> Result<Vec<Backend>, ConsoleError> {
    if namespace.is_empty() {
        return Ok(Vec::new());
    }
    let page = registry
        .list("deployments", Some(namespace), &ListOptions::default())
        .await?;
    Ok(page
        .items
        .iter()
        .filter_map(Backend::from_deployment)
        .collect())
}
