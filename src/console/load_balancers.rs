//! The Load Balancers page: the SLB instance inventory with each instance's listeners and the
//! Services using it, a form to create an instance by hand, and the delete of unused ones.
//! The registry decides what may be created or deleted; these handlers only ask it.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use service_plan::slb::manual::{PAY_BY_TRAFFIC, SPECS};
use service_plan::slb::{PAY_BY_BANDWIDTH, events, parse_listener_name};

use super::pages::layout;
use super::views::{Crumb, Layout, SelectOption, encode};
use super::{ConsoleError, Ctx, redirect_with_flash};
use crate::AppState;
use crate::plan_view::{list, s, text};
use crate::registry::{NewLoadBalancer, Registry, RegistryError};

/// The navigation section of these pages.
pub const SECTION: &str = "/load-balancers";

type Pairs = Form<Vec<(String, String)>>;

/// One listener of an instance.
#[derive(Debug, Clone)]
pub struct LbListenerRow {
    pub port: String,
    pub protocol: String,
    pub description: String,
    /// `namespace/name` of the owning Service, or "user-managed".
    pub service: String,
}

/// One instance of the inventory.
#[derive(Debug, Clone)]
pub struct LoadBalancerRow {
    pub id: String,
    pub name: String,
    pub spec: String,
    pub address_type: String,
    pub address: String,
    pub bandwidth: String,
    pub billing: String,
    pub tags: Vec<String>,
    /// "Created for a Service", "Manual", …
    pub origin: String,
    pub created_at: String,
    pub listeners: Vec<LbListenerRow>,
    /// The Services using it; a used instance cannot be deleted.
    pub users: Vec<String>,
    pub delete_url: String,
}

/// The values of the create form, as typed, with errors next to their fields.
#[derive(Debug, Clone, Default)]
pub struct LoadBalancerForm {
    pub name: String,
    pub address_type: String,
    pub spec: String,
    pub charge_type: String,
    pub bandwidth: String,
    pub tags: String,
    /// Field → messages.
    pub errors: BTreeMap<String, Vec<String>>,
    pub summary: Vec<String>,
}

impl LoadBalancerForm {
    fn new() -> LoadBalancerForm {
        LoadBalancerForm {
            address_type: "internet".into(),
            ..Default::default()
        }
    }

    /// The messages of `field`.
    pub fn errors_of(&self, field: &str) -> Vec<String> {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn error(&mut self, field: &str, message: String) {
        self.errors.entry(field.into()).or_default().push(message);
    }

    /// The form of posted pairs.
    pub fn parse(pairs: &[(String, String)]) -> LoadBalancerForm {
        let mut form = LoadBalancerForm::new();
        for (k, v) in pairs {
            let v = v.trim().to_string();
            match k.as_str() {
                "name" => form.name = v,
                "addressType" => form.address_type = v,
                "spec" => form.spec = v,
                "chargeType" => form.charge_type = v,
                "bandwidth" => form.bandwidth = v,
                "tags" => form.tags = v,
                _ => {}
            }
        }
        form
    }

    /// The request, or the form with its input errors.
    pub fn request(&mut self) -> Option<NewLoadBalancer> {
        let bandwidth = match self.bandwidth.as_str() {
            "" => None,
            b => match b.parse::<i64>() {
                Ok(n) => Some(n),
                // CCM's text for a bandwidth annotation that is not a number (doc §d row 20).
                Err(_) => {
                    self.error("bandwidth", format!("bandwidth must be integer, got [{b}]"));
                    None
                }
            },
        };
        let mut tags = BTreeMap::new();
        let typed = self.tags.clone();
        for pair in typed.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    tags.insert(k.trim().to_string(), v.trim().to_string());
                }
                _ => self.error(
                    "tags",
                    format!("tag {pair:?} must be key=value; separate tags with commas"),
                ),
            }
        }
        if !self.errors.is_empty() {
            return None;
        }
        Some(NewLoadBalancer {
            name: self.name.clone(),
            spec: self.spec.clone(),
            address_type: self.address_type.clone(),
            bandwidth,
            charge_type: Some(self.charge_type.clone()).filter(|c| !c.is_empty()),
            tags,
        })
    }

    /// Places a registry error next to its field (or in the summary).
    fn registry_error(&mut self, e: &RegistryError) {
        let status = e.status();
        let causes: Vec<(String, String)> = match (e, status.details.as_ref()) {
            (RegistryError::Invalid { .. }, Some(d)) => d
                .causes
                .iter()
                .map(|c| (c.field.clone(), c.message.clone()))
                .collect(),
            _ => Vec::new(),
        };
        if causes.is_empty() {
            self.summary.push(match e {
                RegistryError::Store(_) | RegistryError::Internal(_) => {
                    tracing::error!(error = %e, "creating a load balancer failed");
                    "Something went wrong on our side.".to_string()
                }
                _ => status.message,
            });
        }
        for (field, message) in causes {
            let key = match field.as_str() {
                "spec.addressType" => "addressType",
                "spec.spec" => "spec",
                "spec.internetChargeType" => "chargeType",
                "spec.bandwidth" => "bandwidth",
                "spec.name" => "name",
                _ => "",
            };
            if key.is_empty() {
                self.summary.push(format!("{field}: {message}"));
            } else {
                self.error(key, format!("{field}: {message}"));
            }
        }
    }
}

/// `GET /load-balancers`.
#[derive(Template, WebTemplate)]
#[template(path = "load_balancers/index.html")]
pub struct LoadBalancerIndexPage {
    pub layout: Layout,
    pub rows: Vec<LoadBalancerRow>,
    pub form: LoadBalancerForm,
    pub spec_options: Vec<SelectOption>,
    pub charge_options: Vec<SelectOption>,
}

/// `GET /load-balancers/{id}/delete`.
#[derive(Template, WebTemplate)]
#[template(path = "load_balancers/delete.html")]
pub struct LoadBalancerDeletePage {
    pub layout: Layout,
    pub row: LoadBalancerRow,
}

fn option(value: &str, label: &str, selected: &str) -> SelectOption {
    SelectOption {
        value: value.into(),
        label: label.into(),
        selected: value == selected,
    }
}

/// Where an instance came from, read from ACK's tags (doc §c).
pub fn origin(tags: &BTreeMap<String, String>) -> String {
    match (
        tags.get(events::TAG_KEY_SERVICE),
        tags.get(events::TAG_KEY_CLUSTER),
    ) {
        (Some(_), Some(cluster)) => format!("Created for a Service (cluster {cluster})"),
        (Some(_), None) => "Created for a Service".into(),
        (None, Some(cluster)) => format!("Cluster resource (cluster {cluster})"),
        (None, None) if tags.contains_key(events::TAG_KEY_REUSED) => {
            "Manual, reused by a Service".into()
        }
        (None, None) => "Manual".into(),
    }
}

/// The row of a stored instance object (`spec` holds the instance).
pub fn load_balancer_row(object: &Value, users: Vec<String>) -> LoadBalancerRow {
    let spec = object.get("spec").unwrap_or(&Value::Null);
    let id = s(spec, "/id").to_string();
    let tags: BTreeMap<String, String> = spec
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), text(Some(v)))).collect())
        .unwrap_or_default();
    let internet = s(spec, "/addressType") != "intranet";
    let billing = match (
        s(spec, "/instanceChargeType"),
        s(spec, "/internetChargeType"),
    ) {
        (instance, "") => instance.to_string(),
        (instance, internet) => format!("{instance}, {internet}"),
    };
    LoadBalancerRow {
        name: s(spec, "/name").to_string(),
        spec: match s(spec, "/spec") {
            "" => "- (pay-by-CLCU)".to_string(),
            other => other.to_string(),
        },
        address_type: if internet { "Internet" } else { "Intranet" }.into(),
        address: s(spec, "/address").to_string(),
        bandwidth: match text(spec.get("bandwidth")).as_str() {
            "" => "-".to_string(),
            b => format!("{b} Mbit/s"),
        },
        billing,
        origin: origin(&tags),
        tags: tags.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        created_at: s(object, "/metadata/creationTimestamp")
            .replacen('T', " ", 1)
            .trim_end_matches('Z')
            .to_string(),
        listeners: list(spec, "/listeners")
            .iter()
            .map(|l| {
                let description = s(l, "/description").to_string();
                LbListenerRow {
                    port: text(l.get("port")),
                    protocol: s(l, "/protocol").to_uppercase(),
                    service: match parse_listener_name(&description) {
                        Ok(key) => format!("{}/{}", key.namespace, key.service),
                        Err(_) => "user-managed".to_string(),
                    },
                    description,
                }
            })
            .collect(),
        users,
        delete_url: format!("{SECTION}/{}/delete", encode(&id)),
        id,
    }
}

async fn rows(registry: &Registry) -> Result<Vec<LoadBalancerRow>, ConsoleError> {
    let mut rows = Vec::new();
    for object in registry.load_balancer_objects().await? {
        let users = registry.load_balancer_users(s(&object, "/spec/id")).await?;
        rows.push(load_balancer_row(&object, users));
    }
    Ok(rows)
}

async fn index_page(
    app: &AppState,
    ctx: &Ctx,
    form: LoadBalancerForm,
) -> Result<LoadBalancerIndexPage, ConsoleError> {
    let layout = layout(
        &app.registry,
        ctx,
        "Load Balancers",
        "",
        vec![Crumb::here("Load Balancers")],
    )
    .await?
    .in_section(SECTION);
    let mut spec_options = vec![option("", "Pay-by-CLCU (no specification)", &form.spec)];
    spec_options.extend(SPECS.iter().map(|spec| option(spec, spec, &form.spec)));
    let charge_options = vec![
        option("", "Default (pay-by-traffic)", &form.charge_type),
        option(PAY_BY_TRAFFIC, "Pay by traffic", &form.charge_type),
        option(PAY_BY_BANDWIDTH, "Pay by bandwidth", &form.charge_type),
    ];
    Ok(LoadBalancerIndexPage {
        layout,
        rows: rows(&app.registry).await?,
        spec_options,
        charge_options,
        form,
    })
}

/// Whether the user may `verb` SLB instances (named `id`, or any), as kube-apiserver would
/// answer for the `loadbalancers` of their API group.
fn check(ctx: &Ctx, verb: &str, id: &str) -> Result<(), ConsoleError> {
    let resource = crate::registry::LOAD_BALANCERS;
    ctx.access
        .check(verb, resource.group, resource.plural, "", id)
}

/// `GET /load-balancers`: the inventory and the create form.
pub async fn index(
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<LoadBalancerIndexPage, ConsoleError> {
    check(&ctx, "list", "")?;
    index_page(&app, &ctx, LoadBalancerForm::new()).await
}

/// `POST /load-balancers`: create an instance by hand.
pub async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(pairs): Pairs,
) -> Result<Response, ConsoleError> {
    check(&ctx, "create", "")?;
    let mut form = LoadBalancerForm::parse(&pairs);
    if let Some(req) = form.request() {
        match app.registry.create_load_balancer(req).await {
            Ok(created) => {
                return Ok(redirect_with_flash(
                    SECTION,
                    "success",
                    &format!("SLB instance {} ({}) created.", created.id, created.address),
                ));
            }
            Err(e) => form.registry_error(&e),
        }
    }
    let page = index_page(&app, &ctx, form).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// `GET /load-balancers/{id}/delete`: the confirmation, or why the instance cannot go.
pub async fn confirm_delete(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<LoadBalancerDeletePage, ConsoleError> {
    check(&ctx, "delete", &id)?;
    let object = app.registry.load_balancer_object(&id).await?;
    let users = app.registry.load_balancer_users(&id).await?;
    let crumbs = vec![
        Crumb::link("Load Balancers", SECTION.to_string()),
        Crumb::here(&format!("Delete {id}")),
    ];
    let layout = layout(&app.registry, &ctx, &format!("Delete {id}"), "", crumbs)
        .await?
        .in_section(SECTION);
    Ok(LoadBalancerDeletePage {
        layout,
        row: load_balancer_row(&object, users),
    })
}

/// `POST /load-balancers/{id}/delete`.
pub async fn delete(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    check(&ctx, "delete", &id)?;
    match app.registry.delete_load_balancer(&id).await {
        Ok(()) => Ok(redirect_with_flash(
            SECTION,
            "success",
            &format!("SLB instance {id} deleted."),
        )),
        Err(e @ RegistryError::Precondition { .. }) => {
            Ok(redirect_with_flash(SECTION, "error", &e.status().message))
        }
        Err(e) => Err(e.into()),
    }
}
