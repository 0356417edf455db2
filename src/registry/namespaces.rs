//! Namespaces: the system namespaces of a new cluster, and the existence check of creates.

use serde_json::json;
use service_plan::status::Resource;

use super::objects::SERVICE_ACCOUNTS;
use super::{Registry, RegistryError};
use crate::store::{ObjectKey, Precondition, StoreError, Write, WriteOp};

/// The `namespaces` resource.
pub const NAMESPACES: Resource = Resource {
    group: "",
    plural: "namespaces",
    kind: "Namespace",
};

/// The ServiceAccount every namespace has.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

/// Namespaces every cluster starts with.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Namespaces kube-apiserver refuses to delete.
pub const PROTECTED_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// The label kube-apiserver puts on every namespace.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

impl Registry {
    /// A create in a namespace that does not exist is a 404 for the namespace.
    pub async fn require_namespace(&self, namespace: &str) -> Result<(), RegistryError> {
        // Whether it exists is all this asks: the stored object is not decoded (every create
        // of a namespaced object comes here).
        let key = ObjectKey::new(NAMESPACES.plural, "", namespace);
        match self.store().get_encoded(&key) {
            Some(_) => Ok(()),
            None => Err(RegistryError::NotFound {
                resource: NAMESPACES,
                name: namespace.to_string(),
            }),
        }
    }

    /// Creates an Active namespace if it is missing, and its `default` ServiceAccount.
    pub async fn ensure_namespace(&self, name: &str) -> Result<(), RegistryError> {
        let key = ObjectKey::new(NAMESPACES.plural, "", name);
        self.create_if_missing(key, |meta| {
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "uid": meta.uid,
                    "creationTimestamp": meta.now,
                    "labels": {NAME_LABEL: name},
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            })
        })
        .await?;
        self.ensure_default_service_account(name).await
    }

    /// Creates the namespace's `default` ServiceAccount if it is missing, as the
    /// serviceaccounts controller of kube-controller-manager does for every namespace.
    pub async fn ensure_default_service_account(
        &self,
        namespace: &str,
    ) -> Result<(), RegistryError> {
        let key = ObjectKey::new(SERVICE_ACCOUNTS.plural, namespace, DEFAULT_SERVICE_ACCOUNT);
        self.create_if_missing(key, |meta| {
            json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    "name": DEFAULT_SERVICE_ACCOUNT,
                    "namespace": namespace,
                    "uid": meta.uid,
                    "creationTimestamp": meta.now,
                },
            })
        })
        .await
    }

    /// Stores the object `build` makes (with a new uid and creation time) at `key` unless
    /// something is there: the server's own objects, made at start or with their namespace.
    pub(super) async fn create_if_missing(
        &self,
        key: ObjectKey,
        build: impl FnOnce(&super::NewObjectMeta) -> serde_json::Value,
    ) -> Result<(), RegistryError> {
        if self.inner.store.get(&key).await?.is_some() {
            return Ok(());
        }
        let meta = super::new_object_meta();
        let object = build(&meta);
        let write = Write::new(WriteOp::Put {
            key,
            uid: meta.uid,
            object,
            precondition: Precondition::MustNotExist,
        });
        match self.commit(write).await {
            Ok(_) | Err(StoreError::AlreadyExists) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
