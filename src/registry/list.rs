//! Collection-wide writes: `deletecollection` deletes every object a list selects, one
//! registry delete each, so Services release what they hold as a single delete would.

use serde_json::Value;
use service_plan::json::Pointer as _;

use super::namespaces::NAMESPACES;
use super::{DeletePreconditions, Kind, ListOptions, Registry, RegistryError, WriteOptions};

impl Registry {
    /// DELETE on a collection: deletes the objects of `kind` in `namespace` that `opts`
    /// selects and returns their last states. Objects deleted concurrently are skipped.
    pub async fn delete_collection(
        &self,
        kind: &'static Kind,
        namespace: Option<&str>,
        opts: &ListOptions,
        write: &WriteOptions,
    ) -> Result<Vec<Value>, RegistryError> {
        // kube-apiserver serves no deletecollection for namespaces.
        if kind.resource == NAMESPACES {
            return Err(RegistryError::BadRequest(
                "deletecollection is not supported for namespaces".into(),
            ));
        }
        let unpaged = ListOptions {
            limit: None,
            continue_after: None,
            ..opts.clone()
        };
        let page = self.list(kind.resource.plural, namespace, &unpaged).await?;
        let mut deleted = Vec::with_capacity(page.items.len());
        for item in page.items {
            let text = |p: &str| item.at(p).and_then(Value::as_str).unwrap_or("").to_owned();
            let (ns, name) = (text("/metadata/namespace"), text("/metadata/name"));
            match self
                .delete(kind, &ns, &name, &DeletePreconditions::default(), write)
                .await
            {
                Ok(object) => deleted.push(object),
                Err(RegistryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(deleted)
    }
}
