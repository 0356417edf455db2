//! Adoption, as client-go's `ControllerRefManager` claims: an object no controller owns whose
//! labels a workload's `spec.selector` matches becomes that workload's (a Deployment takes its
//! orphaned ReplicaSets back, a ReplicaSet its orphaned Pods). Orphans are found through an
//! index of orphans by namespace, so nothing else in the namespace is looked at.

use serde_json::{Value, json};
use service_plan::json::Pointer as _;
use service_plan::selector::LabelSelector;

use super::informer::Informer;
use super::{authorized, kind, labels_of, str_at, writer};
use crate::registry::{Registry, RegistryError};

/// Makes the orphans of `informer` (by its `index` of orphans by namespace) that `owner`'s
/// selector matches owned by `owner_ref`; returns them as written. An owner being deleted
/// adopts nothing.
pub async fn adopt(
    registry: &Registry,
    manager: &str,
    informer: &Informer,
    index: &str,
    owner: &Value,
    owner_ref: Value,
) -> Result<Vec<Value>, RegistryError> {
    let namespace = str_at(owner, "/metadata/namespace");
    let orphans = informer.index_keys(index, namespace);
    if orphans.is_empty() || owner.at("/metadata/deletionTimestamp").is_some() {
        return Ok(Vec::new());
    }
    // A selector that does not parse was refused when the owner was written; an empty one
    // would claim everything, which validation refuses too.
    let Some(selector) = owner
        .at("/spec/selector")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .and_then(|s| LabelSelector::from_label_selector(&s).ok())
        .filter(|s| !s.is_empty())
    else {
        return Ok(Vec::new());
    };
    let kind = kind(informer.resource())?;
    let mut adopted = Vec::new();
    for key in orphans {
        let Some(orphan) = informer.get(&key) else {
            continue;
        };
        if orphan.at("/metadata/deletionTimestamp").is_some()
            || !selector.matches(&labels_of(&orphan))
        {
            continue;
        }
        authorized(registry, manager, "update", kind, "", namespace, &key.name)?;
        let written = registry
            .patch(kind, namespace, &key.name, &writer(manager), |current| {
                let mut next = current.clone();
                let refs = &mut next["metadata"]["ownerReferences"];
                match refs.as_array_mut() {
                    Some(list) => list.push(owner_ref.clone()),
                    None => *refs = json!([owner_ref.clone()]),
                }
                Ok(next)
            })
            .await;
        match written {
            Ok(applied) => adopted.push(applied.object),
            // Gone meanwhile: nothing to adopt.
            Err(RegistryError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(adopted)
}

/// The orphans index of an informer: objects no controller owns, by namespace.
pub fn orphans_by_namespace(object: &Value) -> Vec<String> {
    match super::informer::controller_of(object) {
        Some(_) => Vec::new(),
        None => vec![str_at(object, "/metadata/namespace").to_string()],
    }
}
