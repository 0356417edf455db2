//! Server-side apply (`application/apply-patch+yaml`) over the registry, and the
//! `metadata.managedFields` bookkeeping every write does. The merge, ownership and conflict
//! rules live in `service_plan::apply`; this module only runs them inside the ordinary
//! create and update pipelines, so applied objects are defaulted, allocated and validated.

use k8s_openapi::api::core::v1::Service;
use serde_json::Value;
use service_plan::apply::{self as plan, ApplyError, UpdateWrite};
use service_plan::codec::{self, Gvk};
use service_plan::field::go_quote;
use service_plan::json::Pointer as _;
use service_plan::status::Resource;

use super::str_at;
use super::write::Attempt;
use super::{Applied, Kind, Registry, RegistryError, WriteOptions};

/// The manager recorded for writes whose request names none (the console, controllers).
pub const DEFAULT_FIELD_MANAGER: &str = "service-console";

/// The options type a missing `fieldManager` is reported against.
const PATCH_OPTIONS: Resource = Resource {
    group: "meta.k8s.io",
    plural: "patchoptions",
    kind: "PatchOptions",
};

/// How a write records `metadata.managedFields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tracking {
    /// An ordinary create, update or patch: an `Update` entry for the request's manager.
    Update,
    /// A server-side apply: the body already carries the entries the merge computed.
    Apply,
}

impl Tracking {
    /// The history verb of a write that is `verb` unless it is a server-side apply.
    pub(super) fn verb(self, verb: &'static str) -> &'static str {
        match self {
            Tracking::Update => verb,
            Tracking::Apply => "apply",
        }
    }

    /// Sets `new`'s `metadata.managedFields`. `request` is the object as the request made it
    /// (decoded and defaulted, before allocation); `None` means `new` itself.
    pub(super) fn record(
        self,
        opts: &WriteOptions,
        live: Option<&Value>,
        request: Option<&Value>,
        new: &mut Value,
        subresource: Option<&str>,
    ) {
        // `new` is written below, so only a write without a separate request copies it.
        let copied;
        let request = match request {
            Some(request) => request,
            None => {
                copied = new.clone();
                &copied
            }
        };
        match self {
            Tracking::Apply => {
                let entries = request.at("/metadata/managedFields").cloned();
                if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                    match entries {
                        Some(entries) => meta.insert("managedFields".into(), entries),
                        None => meta.remove("managedFields"),
                    };
                }
            }
            Tracking::Update => {
                let manager = opts.manager();
                let now = super::now();
                let write = UpdateWrite {
                    live,
                    request,
                    manager,
                    subresource,
                    now: &now,
                };
                plan::record_update(&write, new);
            }
        }
    }
}

/// A decoded Service as the request made it: statically defaulted, not yet allocated.
pub(super) fn service_request(svc: &Service) -> Value {
    let mut svc = svc.clone();
    service_plan::service::defaults::set_defaults(&mut svc);
    let mut value = serde_json::to_value(&svc).unwrap_or(Value::Null);
    if let Some(o) = value.as_object_mut() {
        o.insert("apiVersion".into(), Value::String("v1".into()));
        o.insert("kind".into(), Value::String("Service".into()));
    }
    value
}

fn apply_error(e: ApplyError) -> RegistryError {
    match e {
        ApplyError::Conflicts(conflicts) => RegistryError::ApplyConflict { conflicts },
        ApplyError::BadRequest(message) => RegistryError::BadRequest(message),
        ApplyError::Internal(detail) => RegistryError::Internal(detail),
    }
}

/// `checkName` of the patch handler, for the applied configuration.
fn check_name(kind: &Kind, body: &Value, namespace: &str, name: &str) -> Result<(), RegistryError> {
    let body_name = str_at(body, "/metadata/name");
    if body_name != name {
        return Err(RegistryError::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let body_ns = str_at(body, "/metadata/namespace");
    if kind.namespaced && !body_ns.is_empty() && body_ns != namespace {
        return Err(RegistryError::BadRequest(format!(
            "the namespace of the object ({body_ns}) does not match the namespace on the request ({namespace})"
        )));
    }
    Ok(())
}

impl Registry {
    /// Server-side apply: creates the object when missing (returns created = true), otherwise
    /// merges `body` into it as `field_manager` and sends the result through the update path.
    /// Fields other managers own with a different value are a 409 unless `force`. Applied to
    /// the `status` subresource (`status` true), it changes only the status of an object that
    /// must exist, as kube-apiserver's status strategies do.
    #[expect(
        clippy::too_many_arguments,
        reason = "the API handler passes the request's parts as they are"
    )]
    pub async fn apply(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        body: &Value,
        field_manager: &str,
        force: bool,
        status: bool,
        opts: &WriteOptions,
    ) -> Result<(Applied, bool), RegistryError> {
        if field_manager.is_empty() {
            return Err(RegistryError::Invalid {
                resource: PATCH_OPTIONS,
                name: String::new(),
                errors: plan::field_manager_required(),
            });
        }
        let gvk = Gvk {
            group: kind.resource.group,
            version: kind.version,
            kind: kind.resource.kind,
        };
        codec::check_type_meta(body, gvk).map_err(|e| RegistryError::BadRequest(e.message))?;
        if !body.is_object() {
            return Err(RegistryError::BadRequest(format!(
                "error decoding YAML: the object provided is unrecognized (must be of type {}): {}",
                kind.resource.kind,
                go_quote(&body.to_string())
            )));
        }
        check_name(kind, body, namespace, name)?;
        let opts = WriteOptions {
            field_manager: Some(field_manager.to_string()),
            ..opts.clone()
        };
        let ns = if kind.namespaced { namespace } else { "" };
        let subresource = status.then_some(plan::SUBRESOURCE_STATUS);
        let merge = |current: &Value| {
            plan::apply(
                Some(current),
                body,
                field_manager,
                subresource,
                force,
                &super::now(),
            )
            .map(|o| o.object)
            .map_err(apply_error)
        };
        if status {
            // A subresource is never created by a write to it: a missing object is a 404.
            let applied = if kind.is_services() {
                self.patch_service_status_tracked(namespace, name, &opts, Tracking::Apply, merge)
                    .await
            } else {
                self.update_with_tracked(kind, namespace, name, &opts, true, Tracking::Apply, merge)
                    .await
            };
            return applied.map(|applied| (applied, false));
        }
        // A create racing with a delete (or another create) is retried as the other verb.
        let (opts, merge) = (&opts, &merge);
        self.guaranteed_write(kind.resource, name, || async move {
            if self
                .get_raw(kind.resource.plural, ns, name)
                .await?
                .is_none()
            {
                let created = plan::apply(None, body, field_manager, None, force, &super::now())
                    .map_err(apply_error)?;
                let result = if kind.is_services() {
                    self.create_service_tracked(namespace, &created.object, opts, Tracking::Apply)
                        .await
                } else {
                    self.create_tracked(kind, namespace, &created.object, opts, Tracking::Apply)
                        .await
                };
                return match result {
                    Err(RegistryError::AlreadyExists { .. }) => Ok(Attempt::Again),
                    other => other.map(|applied| Attempt::Done((applied, true))),
                };
            }
            let result = if kind.is_services() {
                self.patch_service_tracked(namespace, name, opts, Tracking::Apply, merge)
                    .await
            } else {
                self.update_with_tracked(kind, namespace, name, opts, false, Tracking::Apply, merge)
                    .await
            };
            match result {
                Err(RegistryError::NotFound { .. }) => Ok(Attempt::Again),
                other => other.map(|applied| Attempt::Done((applied, false))),
            }
        })
        .await
    }
}
