//! The four RBAC kinds as the registry stores them (JSON): their defaulting and validation on
//! create and update, through the typed rules of [`super::validation`].

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::validation;
use crate::field::FieldErrors;

/// The typed form of a stored object; a malformed one reads as the type's default (the
/// decoder already refused what does not fit the type).
pub fn typed<T: DeserializeOwned + Default>(object: &Value) -> T {
    serde_json::from_value(object.clone()).unwrap_or_default()
}

/// The typed forms of a written object and of the one it replaces.
pub fn typed_pair<T: DeserializeOwned + Default>(
    new: &Value,
    old: Option<&Value>,
) -> (T, Option<T>) {
    (typed(new), old.map(typed))
}

/// Defaults a binding's `roleRef.apiGroup` and User/Group subjects' `apiGroup`, as the RBAC
/// group's defaulting does; other kinds are left alone.
pub fn default_object(plural: &str, object: &mut Value) {
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
    match plural {
        "rolebindings" => through(object, validation::set_defaults_role_binding),
        "clusterrolebindings" => through(object, validation::set_defaults_cluster_role_binding),
        _ => {}
    }
}

/// The RBAC kind's own validation of a create (`old` None) or an update.
pub fn validate_object(plural: &str, new: &Value, old: Option<&Value>) -> FieldErrors {
    match plural {
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
