//! RBAC in the registry: the escalation checks on role and binding writes (upstream's
//! `policybased` storage), the bootstrap policy written at start, and the decoded policy the
//! authorizer reads, kept until a role or binding changes. The kinds' validation and
//! defaulting are `service_plan::rbac::objects`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::de::DeserializeOwned;
use serde_json::Value;
use service_plan::rbac::escalation::{
    BindingResource, BindingWrite, RoleResource, RoleWrite, check_binding_write, check_role_write,
    has_aggregation_rule, only_gc_fields_changed,
};
use service_plan::rbac::message::forbidden_status;
use service_plan::rbac::objects::typed_pair;
use service_plan::rbac::{
    Attributes, Decision, StaticPolicy, authorize_with_privileged_groups, bootstrap,
};
use service_plan::status::{Resource, Status};

use super::{ListOptions, Registry, RegistryError, WriteOptions};
use crate::store::ObjectKey;

/// `roles.rbac.authorization.k8s.io`.
pub const ROLES: Resource = rbac_resource("roles", "Role");
/// `clusterroles.rbac.authorization.k8s.io`.
pub const CLUSTER_ROLES: Resource = rbac_resource("clusterroles", "ClusterRole");
/// `rolebindings.rbac.authorization.k8s.io`.
pub const ROLE_BINDINGS: Resource = rbac_resource("rolebindings", "RoleBinding");
/// `clusterrolebindings.rbac.authorization.k8s.io`.
pub const CLUSTER_ROLE_BINDINGS: Resource =
    rbac_resource("clusterrolebindings", "ClusterRoleBinding");

const fn rbac_resource(plural: &'static str, kind: &'static str) -> Resource {
    Resource {
        group: service_plan::rbac::GROUP_NAME,
        plural,
        kind,
    }
}

impl Registry {
    /// RBAC's escalation check of a role or binding write by `opts.user`: nobody grants what
    /// they do not hold. Writes without a user (the server's own) and other kinds pass.
    pub fn check_rbac_write(
        &self,
        resource: &Resource,
        opts: &WriteOptions,
        new: &Value,
        old: Option<&Value>,
    ) -> Result<(), RegistryError> {
        let Some(user) = opts.user.as_deref() else {
            return Ok(());
        };
        let namespace = super::str_at(new, "/metadata/namespace");
        let name = super::str_at(new, "/metadata/name");
        let path_name = if old.is_some() { name } else { "" };
        let resolver = self.policy();
        let resolver = resolver.as_ref();
        let checked = match resource.plural {
            "roles" => {
                let (role, prior) = typed_pair::<Role>(new, old);
                let rules = role.rules.clone().unwrap_or_default();
                let write = RoleWrite {
                    resource: RoleResource::Roles,
                    namespace,
                    path_name,
                    name,
                    rules: &rules,
                    only_gc_fields_changed: prior
                        .is_some_and(|p| only_gc_fields_changed(&role, &p)),
                    aggregation_rule: false,
                };
                check_role_write(user, &write, resolver)
            }
            "clusterroles" => {
                let (role, prior) = typed_pair::<ClusterRole>(new, old);
                let rules = role.rules.clone().unwrap_or_default();
                let write = RoleWrite {
                    resource: RoleResource::ClusterRoles,
                    namespace: "",
                    path_name,
                    name,
                    rules: &rules,
                    only_gc_fields_changed: prior
                        .as_ref()
                        .is_some_and(|p| only_gc_fields_changed(&role, p)),
                    aggregation_rule: has_aggregation_rule(&role)
                        || prior.as_ref().is_some_and(has_aggregation_rule),
                };
                check_role_write(user, &write, resolver)
            }
            "rolebindings" => {
                let (binding, prior) = typed_pair::<RoleBinding>(new, old);
                let write = BindingWrite {
                    resource: BindingResource::RoleBindings,
                    namespace,
                    name,
                    role_ref: &binding.role_ref,
                    only_gc_fields_changed: prior
                        .is_some_and(|p| only_gc_fields_changed(&binding, &p)),
                };
                check_binding_write(user, &write, resolver)
            }
            "clusterrolebindings" => {
                let (binding, prior) = typed_pair::<ClusterRoleBinding>(new, old);
                let write = BindingWrite {
                    resource: BindingResource::ClusterRoleBindings,
                    namespace: "",
                    name,
                    role_ref: &binding.role_ref,
                    only_gc_fields_changed: prior
                        .is_some_and(|p| only_gc_fields_changed(&binding, &p)),
                };
                check_binding_write(user, &write, resolver)
            }
            _ => Ok(()),
        };
        checked.map_err(RegistryError::Status)
    }

    /// RBAC's decision on `attrs`, after `system:masters` (kube-apiserver's privileged-group
    /// authorizer): the 403 Status kube-apiserver writes when it does not allow.
    pub fn authorize(&self, attrs: &Attributes<'_>) -> Result<(), Box<Status>> {
        match authorize_with_privileged_groups(attrs, self.policy().as_ref()) {
            Decision::Allow(_) => Ok(()),
            Decision::NoOpinion(reason) => Err(Box::new(forbidden_status(attrs, &reason))),
        }
    }

    /// The authorizer's view of the roles and bindings stored now: decoded once per change
    /// of any of them, not once per request.
    pub fn policy(&self) -> Arc<StaticPolicy> {
        let cache = &self.inner.policy;
        // Read before listing: a write that lands meanwhile makes the next call list again.
        let generation = cache.generation.load(Ordering::Acquire);
        let mut cached = cache.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((built, policy)) = cached.as_ref()
            && *built == generation
        {
            return Arc::clone(policy);
        }
        let policy = Arc::new(StaticPolicy {
            cluster_roles: self.stored_all_logged(&CLUSTER_ROLES),
            roles: self.stored_all_logged(&ROLES),
            cluster_role_bindings: self.stored_all_logged(&CLUSTER_ROLE_BINDINGS),
            role_bindings: self.stored_all_logged(&ROLE_BINDINGS),
        });
        *cached = Some((generation, Arc::clone(&policy)));
        policy
    }

    /// Every stored object of an RBAC resource; one that does not decode is left out (and
    /// logged): RBAC only grants, so a missing rule can only refuse.
    fn stored_all_logged<T: DeserializeOwned>(&self, resource: &Resource) -> Vec<T> {
        let page = match self.list_read(resource.plural, None, &ListOptions::default()) {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(resource = resource.plural, error = %e, "reading the RBAC policy");
                return Vec::new();
            }
        };
        page.items
            .into_iter()
            .filter_map(|item| {
                let decoded = item
                    .into_value()
                    .map_err(|e| e.to_string())
                    .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()));
                decoded
                    .map_err(|e| tracing::error!(resource = resource.plural, error = %e, "an RBAC object does not decode"))
                    .ok()
            })
            .collect()
    }

    /// Called after every commit: a write of a role or binding makes the policy be read again.
    pub(super) fn note_commit(&self, key: &ObjectKey) {
        if matches!(
            key.kind.as_str(),
            "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings"
        ) {
            self.inner.policy.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Writes the bootstrap ClusterRoles and ClusterRoleBindings that are missing, as
    /// kube-apiserver's `rbac/bootstrap-roles` post-start hook does.
    pub(super) async fn ensure_bootstrap_policy(&self) -> Result<(), RegistryError> {
        let roles = bootstrap::cluster_roles()
            .into_iter()
            .chain(bootstrap::controller_roles())
            .map(|r| (CLUSTER_ROLES, serde_json::to_value(r)));
        let bindings = bootstrap::cluster_role_bindings()
            .into_iter()
            .chain(bootstrap::controller_role_bindings())
            .map(|b| (CLUSTER_ROLE_BINDINGS, serde_json::to_value(b)));
        for (resource, object) in roles.chain(bindings) {
            let object = object.map_err(|e| RegistryError::Internal(e.to_string()))?;
            let name = super::str_at(&object, "/metadata/name").to_string();
            let key = ObjectKey::new(resource.plural, "", &name);
            self.create_if_missing(key, |meta| {
                let mut object = object;
                if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.insert("uid".into(), Value::String(meta.uid.clone()));
                    m.insert(
                        "creationTimestamp".into(),
                        serde_json::to_value(&meta.now).unwrap_or(Value::Null),
                    );
                }
                object
            })
            .await?;
        }
        Ok(())
    }
}

/// The decoded policy and the generation of RBAC writes it was read at.
#[derive(Default)]
pub(super) struct PolicyCache {
    generation: AtomicU64,
    cached: Mutex<Option<(u64, Arc<StaticPolicy>)>>,
}
