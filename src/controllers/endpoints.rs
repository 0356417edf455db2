//! The endpoints controller: Endpoints and EndpointSlices for every Service with a selector,
//! from `service_plan::endpoints`, kept in step on Service, Pod and Node changes; none for a
//! Service without a selector; removed with their Service.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::Value;
use service_plan::endpoints::{self, ENDPOINTSLICE_CONTROLLER, LABEL_MANAGED_BY};

use super::{Controller, Sync, delete_if_present, labels_of, str_at, upsert};
use crate::registry::{Registry, RegistryError};
use crate::store::EventType;

/// The field manager of Endpoints writes.
pub const MANAGER: &str = "endpoint-controller";
/// The field manager of EndpointSlice writes.
pub const SLICE_MANAGER: &str = "endpointslice-controller";

/// Keeps Endpoints and EndpointSlices.
#[derive(Debug, Default)]
pub struct EndpointsController;

impl Controller for EndpointsController {
    const NAME: &'static str = "endpoints";
    const RESOURCES: &'static [&'static str] = &["services", "pods", "nodes"];

    async fn sync(&mut self, registry: &Registry, sync: Sync<'_>) -> Result<(), RegistryError> {
        let namespaces: Option<BTreeSet<String>> = match sync {
            Sync::All => None,
            Sync::Events(events) => {
                let mut set = BTreeSet::new();
                for event in events {
                    match event.key.kind.as_str() {
                        "nodes" => return reconcile(registry, None).await,
                        "services" if event.event_type == EventType::Deleted => {
                            let name = &event.key.name;
                            let ns = &event.key.namespace;
                            delete_if_present(registry, "endpoints", ns, name).await?;
                            set.insert(ns.clone());
                        }
                        _ => {
                            set.insert(event.key.namespace.clone());
                        }
                    }
                }
                Some(set)
            }
        };
        reconcile(registry, namespaces.as_ref()).await
    }
}

fn to_value<T: serde::Serialize>(
    object: &T,
    api_version: &str,
    kind: &str,
) -> Result<Value, RegistryError> {
    let mut v = serde_json::to_value(object)
        .map_err(|e| RegistryError::Internal(format!("encoding {kind}: {e}")))?;
    v["apiVersion"] = Value::String(api_version.into());
    v["kind"] = Value::String(kind.into());
    Ok(v)
}

/// Reconciles the Services of `namespaces` (`None`: every namespace).
async fn reconcile(
    registry: &Registry,
    namespaces: Option<&BTreeSet<String>>,
) -> Result<(), RegistryError> {
    let nodes = registry
        .list("nodes", None, &Default::default())
        .await?
        .items;
    let zones: BTreeMap<String, String> = nodes
        .iter()
        .map(|n| {
            (
                str_at(n, "/metadata/name").to_string(),
                labels_of(n)
                    .get(endpoints::LABEL_ZONE)
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    let all: Vec<String>;
    let targets: Vec<&String> = match namespaces {
        Some(set) => set.iter().collect(),
        None => {
            all = registry
                .list("namespaces", None, &Default::default())
                .await?
                .items
                .iter()
                .map(|n| str_at(n, "/metadata/name").to_string())
                .collect();
            all.iter().collect()
        }
    };
    for namespace in targets {
        reconcile_namespace(registry, namespace, &zones).await?;
    }
    Ok(())
}

async fn reconcile_namespace(
    registry: &Registry,
    namespace: &str,
    zones: &BTreeMap<String, String>,
) -> Result<(), RegistryError> {
    let services: Vec<Service> = registry.typed("services", Some(namespace)).await?;
    let pods: Vec<Pod> = registry.typed("pods", Some(namespace)).await?;
    let slices = registry
        .list("endpointslices", Some(namespace), &Default::default())
        .await?
        .items;
    let mut wanted_slices: BTreeSet<String> = BTreeSet::new();
    for svc in &services {
        let Some(computed) = endpoints::compute(svc, &pods, Some(zones)) else {
            continue;
        };
        let ep = to_value(&computed.endpoints, "v1", "Endpoints")?;
        upsert(registry, "endpoints", namespace, &ep, MANAGER).await?;
        for slice in &computed.slices {
            let value = to_value(slice, "discovery.k8s.io/v1", "EndpointSlice")?;
            wanted_slices.insert(str_at(&value, "/metadata/name").to_string());
            upsert(registry, "endpointslices", namespace, &value, SLICE_MANAGER).await?;
        }
    }
    // Slices this controller manages whose Service is gone, lost its selector or changed shape.
    for slice in &slices {
        let labels = labels_of(slice);
        let name = str_at(slice, "/metadata/name");
        let managed =
            labels.get(LABEL_MANAGED_BY).map(String::as_str) == Some(ENDPOINTSLICE_CONTROLLER);
        if managed && !wanted_slices.contains(name) {
            delete_if_present(registry, "endpointslices", namespace, name).await?;
        }
    }
    Ok(())
}
