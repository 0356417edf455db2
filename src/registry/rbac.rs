//! RBAC in the registry: the four kinds' validation and defaulting, the escalation checks on
//! their writes (upstream's `policybased` storage), the bootstrap policy written at start, and
//! the [`RuleResolver`] that reads roles and bindings from the store for the authorizer.

use std::borrow::Cow;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use service_plan::field::FieldErrors;
use service_plan::rbac::escalation::{
    BindingResource, BindingWrite, RoleResource, RoleWrite, check_binding_write, check_role_write,
    has_aggregation_rule, only_gc_fields_changed,
};
use service_plan::rbac::{RuleResolver, bootstrap, validation};
use service_plan::status::Resource;
use service_plan::user::UserInfo;

use super::{ListOptions, Registry, RegistryError, WriteOptions};
use crate::store::{ObjectKey, Precondition, StoreError, Write, WriteOp};

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

fn typed<T: DeserializeOwned + Default>(object: &Value) -> T {
    serde_json::from_value(object.clone()).unwrap_or_default()
}

fn typed_pair<T: DeserializeOwned + Default>(new: &Value, old: Option<&Value>) -> (T, Option<T>) {
    (typed(new), old.map(typed))
}

/// Defaults a binding's `roleRef.apiGroup` and User/Group subjects' `apiGroup`, as the RBAC
/// group's defaulting does; other kinds are left alone.
pub fn default_rbac(resource: &Resource, object: &mut Value) {
    fn through<T: DeserializeOwned + Serialize + Default>(object: &mut Value, f: fn(&mut T)) {
        let mut value: T = typed(object);
        f(&mut value);
        if let (Ok(Value::Object(defaulted)), Some(target)) =
            (serde_json::to_value(&value), object.as_object_mut())
        {
            for key in ["roleRef", "subjects"] {
                if let Some(v) = defaulted.get(key) {
                    target.insert(key.into(), v.clone());
                }
            }
        }
    }
    match resource.plural {
        "rolebindings" => through(object, validation::set_defaults_role_binding),
        "clusterrolebindings" => through(object, validation::set_defaults_cluster_role_binding),
        _ => {}
    }
}

/// The RBAC kind's own validation of a create (`old` None) or an update.
pub fn validate_rbac(resource: &Resource, new: &Value, old: Option<&Value>) -> FieldErrors {
    match resource.plural {
        "roles" => match typed_pair::<Role>(new, old) {
            (new, None) => validation::validate_role(&new),
            (new, Some(old)) => validation::validate_role_update(&new, &old),
        },
        "clusterroles" => match typed_pair::<ClusterRole>(new, old) {
            (new, None) => validation::validate_cluster_role(&new),
            (new, Some(old)) => validation::validate_cluster_role_update(&new, &old),
        },
        "rolebindings" => match typed_pair::<RoleBinding>(new, old) {
            (new, None) => validation::validate_role_binding(&new),
            (new, Some(old)) => validation::validate_role_binding_update(&new, &old),
        },
        "clusterrolebindings" => match typed_pair::<ClusterRoleBinding>(new, old) {
            (new, None) => validation::validate_cluster_role_binding(&new),
            (new, Some(old)) => validation::validate_cluster_role_binding_update(&new, &old),
        },
        _ => FieldErrors::new(),
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
        let resolver = StoredPolicy(self);
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
                check_role_write(user, &write, &resolver)
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
                check_role_write(user, &write, &resolver)
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
                check_binding_write(user, &write, &resolver)
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
                check_binding_write(user, &write, &resolver)
            }
            _ => Ok(()),
        };
        checked.map_err(RegistryError::Status)
    }

    /// The authorizer's view of the roles and bindings stored now.
    pub fn policy(&self) -> StoredPolicy<'_> {
        StoredPolicy(self)
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
            let mut object = object.map_err(|e| RegistryError::Internal(e.to_string()))?;
            let name = super::str_at(&object, "/metadata/name").to_string();
            let key = ObjectKey::new(resource.plural, "", &name);
            if self.inner.store.get(&key).await?.is_some() {
                continue;
            }
            let meta = super::new_object_meta();
            if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("uid".into(), Value::String(meta.uid.clone()));
                m.insert(
                    "creationTimestamp".into(),
                    serde_json::to_value(&meta.now).unwrap_or(Value::Null),
                );
            }
            let write = Write::new(WriteOp::Put {
                key,
                uid: meta.uid,
                object,
                precondition: Precondition::MustNotExist,
            });
            match self.commit(write).await {
                Ok(_) | Err(StoreError::AlreadyExists) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn stored<T: DeserializeOwned + Clone>(
        &self,
        resource: &Resource,
        namespace: &str,
        name: &str,
    ) -> Result<Option<T>, String> {
        let key = ObjectKey::new(resource.plural, namespace, name);
        match self.inner.store.get_encoded(&key) {
            Some(encoded) => encoded
                .decode()
                .map_err(|e| e.to_string())
                .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
                .map(Some),
            None => Ok(None),
        }
    }

    fn stored_all<T: DeserializeOwned>(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
    ) -> Result<Vec<T>, String> {
        let page = self
            .list_read(resource.plural, namespace, &ListOptions::default())
            .map_err(|e| e.to_string())?;
        page.items
            .into_iter()
            .map(|item| {
                item.into_value()
                    .map_err(|e| e.to_string())
                    .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
            })
            .collect()
    }
}

/// Roles and bindings as stored, for the authorizer. Reading a binding list costs what the
/// bindings of one namespace (and the cluster) hold, never what the Services do.
pub struct StoredPolicy<'a>(&'a Registry);

impl RuleResolver for StoredPolicy<'_> {
    fn cluster_role(&self, name: &str) -> Result<Option<Cow<'_, ClusterRole>>, String> {
        Ok(self.0.stored(&CLUSTER_ROLES, "", name)?.map(Cow::Owned))
    }

    fn role(&self, namespace: &str, name: &str) -> Result<Option<Cow<'_, Role>>, String> {
        Ok(self.0.stored(&ROLES, namespace, name)?.map(Cow::Owned))
    }

    fn cluster_role_bindings(&self) -> Result<Cow<'_, [ClusterRoleBinding]>, String> {
        Ok(Cow::Owned(self.0.stored_all(&CLUSTER_ROLE_BINDINGS, None)?))
    }

    fn role_bindings(&self, namespace: &str) -> Result<Cow<'_, [RoleBinding]>, String> {
        Ok(Cow::Owned(
            self.0.stored_all(&ROLE_BINDINGS, Some(namespace))?,
        ))
    }
}

/// Whether `user` may do what `attrs` names; local mode's users are all in `system:masters`.
pub fn is_masters(user: &UserInfo) -> bool {
    service_plan::rbac::authorizer::is_privileged(user)
}
