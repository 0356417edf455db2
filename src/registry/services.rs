//! Service hooks of the registry: decode, plan with `service-plan`, commit with allocations.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;
use serde_json::Value;
use service_plan::codec::{self, Decoded, FieldValidation};
use service_plan::service::defaults::default_on_read;
use service_plan::service::pipeline::{self, ClusterView, PlanError, Planned};
use service_plan::service::validate::validate_service_status_update;
use service_plan::status::Resource;

use super::apply::{Tracking, service_request};
use super::write::{Attempt, Commit, replace_at};
use super::{Applied, DeletePreconditions, Registry, RegistryError, WriteOptions};
use crate::store::{Committed, ObjectKey, Precondition, Write, WriteOp};

/// The `services` resource.
pub const SERVICES: Resource = Resource::SERVICES;

/// The namespace of the `kubernetes` Service.
const DEFAULT_NAMESPACE: &str = "default";

/// Applies read-time defaults to a stored Service's JSON.
///
/// Lists decorate every Service they return, so this decodes only `spec` (the one part the
/// defaults touch), borrowing it, and re-encodes it only when a default changed it.
pub fn decorate(mut object: Value) -> Value {
    if !object
        .get("spec")
        .is_some_and(service_plan::service::defaults::default_on_read_applies)
    {
        return object;
    }
    let Some(Ok(spec)) = object.get("spec").map(ServiceSpec::deserialize) else {
        return object;
    };
    let mut svc = Service {
        spec: Some(spec.clone()),
        ..Service::default()
    };
    default_on_read(&mut svc);
    if svc.spec.as_ref() != Some(&spec)
        && let Ok(defaulted) = serde_json::to_value(&svc.spec)
    {
        object["spec"] = defaulted;
    }
    object
}

fn to_value(svc: &Service) -> Result<Value, RegistryError> {
    let mut v = serde_json::to_value(svc)
        .map_err(|e| RegistryError::Internal(format!("encoding service: {e}")))?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("apiVersion".into(), Value::String("v1".into()));
        obj.insert("kind".into(), Value::String("Service".into()));
    }
    Ok(v)
}

/// The answer of a committed Service write: the object as stored, with read-time defaults.
fn written(event: Committed, warnings: Vec<String>) -> Applied {
    Applied {
        object: decorate(event.object),
        warnings,
        changed: true,
    }
}

fn from_stored(object: &Value) -> Result<Service, RegistryError> {
    Service::deserialize(object)
        .map_err(|e| RegistryError::Internal(format!("decoding stored service: {e}")))
}

/// A Service plan's failure as the registry reports it.
pub(super) fn plan_error(e: PlanError, name: &str) -> RegistryError {
    match e {
        PlanError::BadRequest(m) => RegistryError::BadRequest(m),
        PlanError::Conflict => RegistryError::Conflict {
            resource: SERVICES,
            name: name.to_string(),
        },
        PlanError::Invalid { name, errors } => RegistryError::Invalid {
            resource: SERVICES,
            name,
            errors,
        },
        PlanError::Internal(detail) => RegistryError::Internal(detail),
        PlanError::Unknown(message) => RegistryError::Unknown(message),
    }
}

/// Decodes a Service body and applies `fieldValidation` to its unknown/duplicated fields.
fn decode(body: &Value, validation: FieldValidation) -> Result<Decoded<Service>, RegistryError> {
    codec::decode_service_validated(body, validation)
        .map_err(|e| RegistryError::BadRequest(e.message))
}

fn warnings_with(
    decoded: &Decoded<Service>,
    validation: FieldValidation,
    planned: &Planned,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if validation == FieldValidation::Warn {
        warnings.extend(decoded.strict_errors.iter().cloned());
    }
    warnings.extend(planned.warnings.iter().cloned());
    warnings
}

impl Registry {
    /// POST a Service to `namespace`.
    pub async fn create_service(
        &self,
        namespace: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<Applied, RegistryError> {
        let kind = super::kind_by_plural(SERVICES.plural)
            .ok_or_else(|| RegistryError::Internal("services are not served".into()))?;
        self.create_tracked(kind, namespace, body, opts, Tracking::Update)
            .await
    }

    /// POST a Service, recording `metadata.managedFields` as `tracking` says.
    pub(super) async fn create_service_tracked(
        &self,
        namespace: &str,
        body: &Value,
        opts: &WriteOptions,
        tracking: Tracking,
    ) -> Result<Applied, RegistryError> {
        let decoded = decode(body, opts.field_validation)?;
        self.require_namespace(namespace).await?;
        let meta = super::new_object_meta();
        let seed_name = match decoded
            .object
            .metadata
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
        {
            Some(name) => name.to_string(),
            None => pipeline::generate_name(
                decoded
                    .object
                    .metadata
                    .generate_name
                    .as_deref()
                    .unwrap_or(""),
                &meta.name_suffix,
            ),
        };
        let seed = super::allocation_seed(namespace, &seed_name);
        let (decoded, meta, tracking) = (&decoded, &meta, &tracking);
        self.guaranteed_write(SERVICES, &seed_name, || async move {
            let allocated = self.allocated();
            let cluster = ClusterView {
                pools: self.pools(),
                allocated: &allocated,
                seed,
            };
            let planned = pipeline::plan_create(decoded.object.clone(), namespace, meta, cluster)
                .map_err(|e| {
                plan_error(e, decoded.object.metadata.name.as_deref().unwrap_or(""))
            })?;
            let name = planned.service.metadata.name.clone().unwrap_or_default();
            let warnings = warnings_with(decoded, opts.field_validation, &planned);
            let warnings = self.admit_load_balancer(&planned.service, warnings).await?;
            let mut object = to_value(&planned.service)?;
            tracking.record(
                opts,
                None,
                Some(&service_request(&decoded.object)),
                &mut object,
                None,
            );
            if opts.dry_run {
                return Ok(Attempt::Done(Applied {
                    object,
                    warnings,
                    changed: true,
                }));
            }
            let (allocate, release) = super::store_allocations(&planned.allocations);
            let write = Write {
                allocate,
                release,
                history: Some(opts.history_note(tracking.verb("create"), "")),
                ..Write::new(WriteOp::Put {
                    key: ObjectKey::new(SERVICES.plural, namespace, &name),
                    uid: meta.uid.clone(),
                    object,
                    precondition: Precondition::MustNotExist,
                })
            };
            Ok(Commit::new(write, move |event| written(event, warnings)).into())
        })
        .await
    }

    /// Reads one Service as the API returns it, with every write committed before the call
    /// (on any replica).
    pub async fn get_service(&self, namespace: &str, name: &str) -> Result<Value, RegistryError> {
        self.sync().await?;
        match self.get_raw(SERVICES.plural, namespace, name).await? {
            Some(stored) => Ok(decorate(stored.object)),
            None => Err(RegistryError::NotFound {
                resource: SERVICES,
                name: name.to_string(),
            }),
        }
    }

    /// PUT a Service: `body` replaces the stored object through the update pipeline.
    pub async fn update_service(
        &self,
        namespace: &str,
        name: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<Applied, RegistryError> {
        let decoded = decode(body, opts.field_validation)?;
        let uid = uid_precondition(&decoded.object);
        self.update_service_with(
            namespace,
            name,
            opts,
            Tracking::Update,
            uid,
            "update",
            |_| Ok(decoded.clone()),
        )
        .await
    }

    /// PATCH a Service: `patch` turns the stored JSON into the new body, which then takes
    /// the update path. The patch is applied again to the latest object on a conflict.
    pub async fn patch_service(
        &self,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        patch: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        self.patch_service_tracked(namespace, name, opts, Tracking::Update, patch)
            .await
    }

    /// PATCH a Service, recording `metadata.managedFields` as `tracking` says.
    pub(super) async fn patch_service_tracked(
        &self,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        tracking: Tracking,
        patch: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        let verb = tracking.verb("patch");
        self.update_service_with(namespace, name, opts, tracking, None, verb, |stored| {
            decode(&patch(stored)?, opts.field_validation)
        })
        .await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the update and patch front doors differ in each of these"
    )]
    async fn update_service_with(
        &self,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        tracking: Tracking,
        uid_precondition: Option<String>,
        verb: &'static str,
        body_for: impl Fn(&Value) -> Result<Decoded<Service>, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        let key = &ObjectKey::new(SERVICES.plural, namespace, name);
        let (body_for, uid_precondition, tracking) = (&body_for, &uid_precondition, &tracking);
        self.guaranteed_update(SERVICES, key, |stored| async move {
            let current = decorate(stored.object.clone());
            let decoded = body_for(&current)?;
            check_update_request(
                &decoded.object,
                namespace,
                name,
                &stored,
                uid_precondition.as_deref(),
            )?;
            let old = from_stored(&stored.object)?;
            let allocated = self.allocated();
            let seed = super::allocation_seed(namespace, name);
            let cluster = ClusterView {
                pools: self.pools(),
                allocated: &allocated,
                seed,
            };
            let planned =
                pipeline::plan_update(decoded.object.clone(), &old, namespace, name, cluster)
                    .map_err(|e| plan_error(e, name))?;
            let warnings = warnings_with(&decoded, opts.field_validation, &planned);
            let warnings = self.admit_load_balancer(&planned.service, warnings).await?;
            let mut object = to_value(&planned.service)?;
            tracking.record(
                opts,
                Some(&current),
                Some(&service_request(&decoded.object)),
                &mut object,
                None,
            );
            if object == current || object == stored.object {
                return Ok(Attempt::Done(Applied {
                    object: current,
                    warnings,
                    changed: false,
                }));
            }
            if opts.dry_run {
                return Ok(Attempt::Done(Applied {
                    object: decorate(object),
                    warnings,
                    changed: true,
                }));
            }
            let (allocate, release) = super::store_allocations(&planned.allocations);
            let write = Write {
                allocate,
                release,
                history: Some(opts.history_note(verb, "")),
                ..Write::new(WriteOp::Put {
                    key: key.clone(),
                    uid: stored.uid.clone(),
                    object,
                    precondition: Precondition::Revision(stored.revision),
                })
            };
            Ok(Commit::new(write, move |event| written(event, warnings)).into())
        })
        .await
    }

    /// PUT `services/{name}/status`: only the status changes.
    pub async fn update_service_status(
        &self,
        namespace: &str,
        name: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<Applied, RegistryError> {
        let decoded = decode(body, opts.field_validation)?;
        let uid = uid_precondition(&decoded.object);
        self.update_service_status_with(
            namespace,
            name,
            opts,
            Tracking::Update,
            uid,
            "update",
            |_| Ok(decoded.clone()),
        )
        .await
    }

    /// PATCH `services/{name}/status`.
    pub async fn patch_service_status(
        &self,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        patch: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        self.patch_service_status_tracked(namespace, name, opts, Tracking::Update, patch)
            .await
    }

    /// PATCH `services/{name}/status`, recording `metadata.managedFields` as `tracking` says.
    pub(super) async fn patch_service_status_tracked(
        &self,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        tracking: Tracking,
        patch: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        let verb = tracking.verb("patch");
        self.update_service_status_with(namespace, name, opts, tracking, None, verb, |stored| {
            decode(&patch(stored)?, opts.field_validation)
        })
        .await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the status write's inputs, passed through unchanged"
    )]
    async fn update_service_status_with(
        &self,
        namespace: &str,
        name: &str,
        opts: &WriteOptions,
        tracking: Tracking,
        uid_precondition: Option<String>,
        verb: &'static str,
        body_for: impl Fn(&Value) -> Result<Decoded<Service>, RegistryError>,
    ) -> Result<Applied, RegistryError> {
        let key = &ObjectKey::new(SERVICES.plural, namespace, name);
        let (body_for, uid_precondition) = (&body_for, &uid_precondition);
        self.guaranteed_update(SERVICES, key, |stored| async move {
            let current = decorate(stored.object.clone());
            let mut decoded = body_for(&current)?;
            service_plan::service::defaults::set_defaults(&mut decoded.object);
            let explicit_rv = check_update_request(
                &decoded.object,
                namespace,
                name,
                &stored,
                uid_precondition.as_deref(),
            )?;
            if explicit_rv
                && decoded
                    .object
                    .metadata
                    .resource_version
                    .as_deref()
                    .map(pipeline::parse_resource_version)
                    != Some(pipeline::parse_resource_version(
                        &stored.revision.to_string(),
                    ))
            {
                return Err(RegistryError::Conflict {
                    resource: SERVICES,
                    name: name.to_string(),
                });
            }
            let old = from_stored(&current)?;
            // An apply's merge computed the managed fields, which the status strategy resets.
            let request = match tracking {
                Tracking::Apply => Some(to_value(&decoded.object)?),
                Tracking::Update => None,
            };
            let mut new =
                pipeline::prepare_for_status_update(decoded.object.clone(), &old, namespace);
            let errors = validate_service_status_update(&new, &old);
            if !errors.is_empty() {
                return Err(RegistryError::Invalid {
                    resource: SERVICES,
                    name: name.to_string(),
                    errors,
                });
            }
            codec::canonicalize(&mut new);
            let mut object = to_value(&new)?;
            tracking.record(
                opts,
                Some(&current),
                request.as_ref(),
                &mut object,
                Some("status"),
            );
            if object == current {
                return Ok(Attempt::Done(Applied {
                    object: current,
                    warnings: Vec::new(),
                    changed: false,
                }));
            }
            if opts.dry_run {
                return Ok(Attempt::Done(Applied {
                    object,
                    warnings: Vec::new(),
                    changed: true,
                }));
            }
            let write =
                replace_at(key, &stored, object).with_history(opts.history_note(verb, "status"));
            Ok(Commit::new(write, |event| written(event, Vec::new())).into())
        })
        .await
    }

    /// DELETE a Service, releasing what it holds; returns its last state.
    pub async fn delete_service(
        &self,
        namespace: &str,
        name: &str,
        preconditions: &DeletePreconditions,
        opts: &WriteOptions,
    ) -> Result<Value, RegistryError> {
        let key = &ObjectKey::new(SERVICES.plural, namespace, name);
        self.guaranteed_update(SERVICES, key, |stored| async move {
            check_delete_preconditions(SERVICES, name, &stored, preconditions)?;
            // afterDelete applies the read-time defaults before releasing (e.g. clusterIPs of
            // an object stored with only clusterIP).
            let old = from_stored(&decorate(stored.object.clone()))?;
            let plan = pipeline::plan_delete(&old, self.pools(), &self.allocated());
            if opts.dry_run {
                return Ok(Attempt::Done(decorate(stored.object)));
            }
            let (_, release) = super::store_allocations(&plan);
            let write = Write {
                release,
                history: Some(opts.history_note("delete", "")),
                ..Write::new(WriteOp::Delete {
                    key: key.clone(),
                    precondition: Precondition::Revision(stored.revision),
                })
            };
            Ok(Commit::new(write, |event| decorate(event.object)).into())
        })
        .await
    }

    /// The Services of `keys` (`(namespace, name)`) that exist, in that order.
    pub async fn existing_services(
        &self,
        keys: &[(String, String)],
    ) -> Result<Vec<Value>, RegistryError> {
        let mut found = Vec::new();
        for (namespace, name) in keys {
            match self.get_service(namespace, name).await {
                Ok(svc) => found.push(svc),
                Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    /// Deletes the Services of `keys` (`(namespace, name)`); those already gone are skipped.
    /// Returns how many it deleted.
    pub async fn delete_services(
        &self,
        keys: &[(String, String)],
        opts: &WriteOptions,
    ) -> Result<usize, RegistryError> {
        let pre = DeletePreconditions::default();
        let mut deleted = 0;
        for (namespace, name) in keys {
            match self.delete_service(namespace, name, &pre, opts).await {
                Ok(_) => deleted += 1,
                Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(deleted)
    }

    /// Creates the `kubernetes` Service on the CIDR's first address if it is missing.
    pub(super) async fn ensure_kubernetes_service(&self) -> Result<(), RegistryError> {
        if self
            .get_raw(SERVICES.plural, DEFAULT_NAMESPACE, "kubernetes")
            .await?
            .is_some()
        {
            return Ok(());
        }
        let first = self.pools().service_cidr.first().to_string();
        let svc = Service {
            metadata: ObjectMeta {
                name: Some("kubernetes".into()),
                namespace: Some(DEFAULT_NAMESPACE.into()),
                labels: Some(
                    [
                        ("component".to_string(), "apiserver".to_string()),
                        ("provider".to_string(), "kubernetes".to_string()),
                    ]
                    .into(),
                ),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                cluster_ip: Some(first),
                ports: Some(vec![ServicePort {
                    name: Some("https".into()),
                    port: 443,
                    protocol: Some("TCP".into()),
                    target_port: Some(IntOrString::Int(6443)),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            status: None,
        };
        match self
            .create_service(
                DEFAULT_NAMESPACE,
                &to_value(&svc)?,
                &WriteOptions::default(),
            )
            .await
        {
            Ok(_) | Err(RegistryError::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The uid of a PUT body: `rest.DefaultUpdatedObjectInfo` turns it into a storage precondition.
fn uid_precondition(body: &Service) -> Option<String> {
    body.metadata.uid.clone().filter(|uid| !uid.is_empty())
}

/// The checks an update makes before its own pipeline, in apiserver's order: the handler's
/// namespace and name checks, the storage's uid precondition (PUT only), and the parse of the
/// body's resourceVersion in `Store.Update`. Returns whether the body asks for a conditional
/// update (a resourceVersion other than empty or 0).
fn check_update_request(
    body: &Service,
    namespace: &str,
    name: &str,
    stored: &crate::store::StoredObject,
    uid_precondition: Option<&str>,
) -> Result<bool, RegistryError> {
    pipeline::check_update_target(&mut body.clone(), namespace, name)
        .map_err(|e| plan_error(e, name))?;
    if let Some(uid) = uid_precondition.filter(|uid| *uid != stored.uid) {
        // storage.Preconditions.Check fails with an InvalidObj StorageError, which
        // InterpretUpdateError turns into a Conflict quoting the whole StorageError.
        return Err(RegistryError::Precondition {
            resource: SERVICES,
            name: name.to_string(),
            detail: format!(
                "StorageError: invalid object, Code: 4, Key: /registry/services/specs/{namespace}/{name}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                stored.uid
            ),
        });
    }
    let rv = body.metadata.resource_version.as_deref().unwrap_or("");
    let parsed = pipeline::parse_resource_version(rv).map_err(RegistryError::Unknown)?;
    Ok(parsed != 0)
}

/// `DeleteOptions.preconditions`, checked early by `rest.BeforeDelete`: a mismatch is a
/// Conflict naming the object by its Kind, with upstream's text.
pub(super) fn check_delete_preconditions(
    resource: Resource,
    name: &str,
    stored: &crate::store::StoredObject,
    pre: &DeletePreconditions,
) -> Result<(), RegistryError> {
    if let Some(uid) = pre.uid.as_deref().filter(|u| *u != stored.uid) {
        return Err(RegistryError::DeletePrecondition {
            resource,
            name: name.to_string(),
            detail: format!(
                "the UID in the precondition ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                stored.uid
            ),
        });
    }
    if let Some(rv) = pre
        .resource_version
        .as_deref()
        .filter(|rv| *rv != stored.revision.to_string())
    {
        return Err(RegistryError::DeletePrecondition {
            resource,
            name: name.to_string(),
            detail: format!(
                "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                stored.revision
            ),
        });
    }
    Ok(())
}
