//! "Use Existing SLB Instance": the instances a Service may reuse, for a picker. Doc §d:
//! CCM refuses a CLB created by Kubernetes or the API server's (row 1, `isLoadBalancerReusable`
//! in CCM's `clbv1/model_applier.go`), and the console refuses one another cluster uses
//! (rule 5); each frontend port belongs to one Service (rule 3), so the picker shows the
//! ports already taken and by whom.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use serde::Serialize;

use super::naming::parse_named_key;
use super::{Ownership, SlbInstance, shares_instance};
use crate::annotations::AddressType;

/// A frontend port of an instance that is already taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TakenPort {
    pub port: i32,
    /// `namespace/name` of the Service that holds it, or `a listener you manage` for a
    /// hand-made listener.
    pub by: String,
}

/// An instance the Service may reuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReuseChoice {
    pub id: String,
    pub name: String,
    pub address_type: AddressType,
    pub address: String,
    /// Frontend ports other Services or hand-made listeners hold, by port.
    pub taken: Vec<TakenPort>,
}

impl ReuseChoice {
    /// One line for a picker: `lb-… (shared-web) · internet 47.100.0.7 · ports in use: 80
    /// (default/web)`, or `· every port free`.
    pub fn label(&self) -> String {
        let name = if self.name.is_empty() || self.name == self.id {
            String::new()
        } else {
            format!(" ({})", self.name)
        };
        let ports = if self.taken.is_empty() {
            "every port free".to_string()
        } else {
            let taken: Vec<String> = self
                .taken
                .iter()
                .map(|t| format!("{} ({})", t.port, t.by))
                .collect();
            format!("ports in use: {}", taken.join(", "))
        };
        format!(
            "{}{name} · {} {} · {ports}",
            self.id,
            self.address_type.as_str(),
            self.address
        )
    }
}

/// The instances of `instances` that the Service `namespace/name` of cluster `cluster_id`
/// may reuse: created by hand, used by no other cluster; with the frontend ports that the
/// other Services naming them and their hand-made listeners hold.
pub fn reuse_choices(
    instances: &[SlbInstance],
    services: &[Service],
    cluster_id: &str,
    namespace: &str,
    name: &str,
) -> Vec<ReuseChoice> {
    instances
        .iter()
        .filter(|i| matches!(i.ownership(), Ownership::Manual { .. }))
        .filter(|i| {
            // Rule 5: a listener or group named for another cluster means it uses the CLB.
            i.listeners
                .iter()
                .map(|l| l.description.as_str())
                .chain(i.vserver_groups.iter().map(|g| g.name.as_str()))
                .filter_map(|n| parse_named_key(n).ok())
                .all(|key| key.cluster_id == cluster_id)
        })
        .map(|i| {
            let mut taken: BTreeMap<(i32, String), ()> = BTreeMap::new();
            for other in services.iter().filter(|o| shares_instance(o, &i.id)) {
                let (ons, oname) = (
                    other.metadata.namespace.as_deref().unwrap_or_default(),
                    other.metadata.name.as_deref().unwrap_or_default(),
                );
                if (ons, oname) == (namespace, name) {
                    continue;
                }
                for p in other.spec.iter().flat_map(|s| s.ports.iter().flatten()) {
                    taken.insert((p.port, format!("{ons}/{oname}")), ());
                }
            }
            for l in &i.listeners {
                let by = match l.owner() {
                    Some(owner) if owner.is_owned_by(namespace, name, cluster_id) => continue,
                    Some(owner) => format!("{}/{}", owner.namespace, owner.service),
                    None => "a listener you manage".to_string(),
                };
                taken.insert((l.port, by), ());
            }
            ReuseChoice {
                id: i.id.clone(),
                name: i.name.clone(),
                address_type: i.address_type,
                address: i.address.clone(),
                taken: taken
                    .into_keys()
                    .map(|(port, by)| TakenPort { port, by })
                    .collect(),
            }
        })
        .collect()
}
