//! The plan preview: what a proposed Service change would allocate, release and do to Server
//! Load Balancer instances, computed against the current cluster without storing anything.

use service_plan::json::Pointer as _;
use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod, PodSpec, Service};
use serde::Serialize;
use serde_json::Value;
use service_plan::codec;
use service_plan::endpoints;
use service_plan::service::pipeline::{self, ClusterView};
use service_plan::slb::{
    self, BackendPod, ClusterNode, SlbChange, SlbContext, SlbInstance, SlbPlan,
};
use service_plan::target_ports::{UnexposedTarget, exposed_ports, unexposed_targets};

use super::loadbalancers::VPC_ID;
use super::services::{SERVICES, plan_error};
use super::{Registry, RegistryError};

/// What a change allocates and releases, as the console and `plan` print it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationView {
    pub allocate_ips: Vec<String>,
    pub release_ips: Vec<String>,
    pub allocate_node_ports: Vec<i32>,
    pub release_node_ports: Vec<i32>,
}

/// The preview of one Service change.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    /// The object as it would be stored (for a delete, as it is stored).
    pub service: Value,
    /// Cluster IPs and node ports taken or given back.
    pub allocations: AllocationView,
    /// The SLB side, for a Service that is or was of type LoadBalancer.
    pub slb: Option<SlbPlan>,
    /// `Warning`s the write would return.
    pub warnings: Vec<String>,
    /// Ports whose targetPort the backend's pods do not expose: said before the write.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unexposed_targets: Vec<UnexposedTarget>,
}

/// Everything the SLB planner reads about the cluster, owned.
#[derive(Debug, Clone, Default)]
pub struct SlbInputs {
    pub nodes: Vec<ClusterNode>,
    pub backends: Vec<BackendPod>,
    pub instances: Vec<SlbInstance>,
    pub services: Vec<Service>,
}

/// A Node as the SLB planner sees it.
pub fn cluster_node(node: &Node) -> ClusterNode {
    let status = node.status.as_ref();
    ClusterNode {
        name: node.metadata.name.clone().unwrap_or_default(),
        internal_ip: status
            .and_then(|s| s.addresses.as_ref())
            .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
            .map(|a| a.address.clone())
            .unwrap_or_default(),
        zone: node
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(endpoints::LABEL_ZONE))
            .cloned()
            .unwrap_or_default(),
        ready: status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
        unschedulable: node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false),
        labels: node.metadata.labels.clone().unwrap_or_default(),
    }
}

fn held(svc: &Service) -> (BTreeSet<String>, BTreeSet<i32>) {
    let (ips, ports) = pipeline::held_allocations(svc);
    (
        ips.iter().map(ToString::to_string).collect(),
        ports.into_iter().collect(),
    )
}

fn allocation_view(old: Option<&Service>, new: Option<&Service>) -> AllocationView {
    let (old_ips, old_ports) = old.map(held).unwrap_or_default();
    let (new_ips, new_ports) = new.map(held).unwrap_or_default();
    AllocationView {
        allocate_ips: new_ips.difference(&old_ips).cloned().collect(),
        release_ips: old_ips.difference(&new_ips).cloned().collect(),
        allocate_node_ports: new_ports.difference(&old_ports).copied().collect(),
        release_node_ports: old_ports.difference(&new_ports).copied().collect(),
    }
}

fn is_load_balancer(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

impl Registry {
    /// What the cluster looks like to the SLB planner for `svc`: nodes, its pod endpoints
    /// (computed from the current Pods as the endpoints controller would), every instance and
    /// every Service.
    pub async fn slb_inputs(&self, svc: &Service) -> Result<SlbInputs, RegistryError> {
        let namespace = svc.metadata.namespace.clone().unwrap_or_default();
        let nodes: Vec<Node> = self.typed("nodes", None).await?;
        let pods: Vec<Pod> = self.typed("pods", Some(&namespace)).await?;
        let zones = endpoints::node_zones(&nodes);
        let slices =
            endpoints::compute_endpoint_slices(svc, &pods, Some(&zones)).unwrap_or_default();
        let instances = self.load_balancers().await?;
        Ok(SlbInputs {
            nodes: nodes.iter().map(cluster_node).collect(),
            backends: slb::backend_pods(&slices),
            services: self.services_naming(instances.iter().map(|i| i.id.as_str())),
            instances,
        })
    }

    /// Objects of a resource decoded as `T`; undecodable ones are skipped.
    pub async fn typed<T: serde::de::DeserializeOwned>(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<Vec<T>, RegistryError> {
        let (rows, _) = self
            .inner
            .store
            .list(resource, namespace, None, None)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| serde_json::from_value(self.decorate(resource, r.object)).ok())
            .collect())
    }

    /// The SLB plan of `svc` against the current cluster.
    pub async fn plan_slb(
        &self,
        svc: &Service,
        change: SlbChange,
    ) -> Result<SlbPlan, RegistryError> {
        let inputs = self.slb_inputs(svc).await?;
        let settings = self.settings();
        let ctx = SlbContext {
            cluster_id: &settings.cluster_id,
            network_plugin: settings.network_plugin,
            vpc_id: VPC_ID,
            nodes: &inputs.nodes,
            backends: &inputs.backends,
            instances: &inputs.instances,
            services: &inputs.services,
        };
        Ok(slb::plan_load_balancer(svc, change, &ctx))
    }

    /// Plan for a proposed Service: allocations (as a dry-run create or update would decide)
    /// and the SLB plan against the current cluster. With [`SlbChange::Delete`] the stored
    /// Service named by `proposed` is planned for deletion.
    pub async fn plan_service(
        &self,
        namespace: &str,
        proposed: &Value,
        change: SlbChange,
    ) -> Result<ServicePlan, RegistryError> {
        let name = proposed
            .at("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let stored = if name.is_empty() {
            None
        } else {
            self.get_raw(SERVICES.plural, namespace, &name).await?
        };
        let old: Option<Service> = match &stored {
            Some(s) => Some(
                serde_json::from_value(super::services::decorate(s.object.clone())).map_err(
                    |e| RegistryError::Internal(format!("decoding stored service: {e}")),
                )?,
            ),
            None => None,
        };
        if change == SlbChange::Delete {
            let (Some(stored), Some(old)) = (stored, old) else {
                return Err(RegistryError::NotFound {
                    resource: SERVICES,
                    name,
                });
            };
            let slb = if is_load_balancer(&old) {
                Some(self.plan_slb(&old, SlbChange::Delete).await?)
            } else {
                None
            };
            return Ok(ServicePlan {
                service: super::services::decorate(stored.object),
                allocations: allocation_view(Some(&old), None),
                slb,
                warnings: Vec::new(),
                unexposed_targets: Vec::new(),
            });
        }
        let decoded =
            codec::decode_service(proposed).map_err(|e| RegistryError::BadRequest(e.message))?;
        self.require_namespace(namespace).await?;
        let allocated = self.allocated();
        let cluster = ClusterView {
            pools: self.pools(),
            allocated: &allocated,
            seed: super::allocation_seed(namespace, &name),
        };
        let planned = match &old {
            Some(old) => {
                pipeline::plan_update(decoded.object.clone(), old, namespace, &name, cluster)
            }
            None => pipeline::plan_create(
                decoded.object.clone(),
                namespace,
                &super::new_object_meta(),
                cluster,
            ),
        }
        .map_err(|e| plan_error(e, &name))?;
        let mut warnings = planned.warnings.clone();
        let mut subject = planned.service.clone();
        if old.is_none() {
            // The instance name derives from a UID that only the real create assigns.
            subject.metadata.uid = None;
        }
        let was_lb = old.as_ref().is_some_and(is_load_balancer);
        let slb = if is_load_balancer(&subject) || was_lb {
            let plan = self.plan_slb(&subject, SlbChange::Apply).await?;
            warnings.extend(plan.warnings.iter().cloned());
            Some(plan)
        } else {
            let empty = BTreeMap::new();
            let check = service_plan::annotations::check(
                subject.metadata.annotations.as_ref().unwrap_or(&empty),
            );
            warnings.extend(check.warnings);
            None
        };
        let mut service = serde_json::to_value(&planned.service)
            .map_err(|e| RegistryError::Internal(format!("encoding service: {e}")))?;
        if let Some(o) = service.as_object_mut() {
            o.insert("apiVersion".into(), Value::String("v1".into()));
            o.insert("kind".into(), Value::String("Service".into()));
        }
        let unexposed_targets = self.unexposed_targets(&planned.service).await?;
        Ok(ServicePlan {
            service,
            allocations: allocation_view(old.as_ref(), Some(&planned.service)),
            slb,
            warnings,
            unexposed_targets,
        })
    }

    /// The ports of `svc` whose targetPort its backend does not expose: judged by the pods
    /// its selector matches, or before any runs by the pod templates of the Deployments
    /// whose pods it would match.
    async fn unexposed_targets(
        &self,
        svc: &Service,
    ) -> Result<Vec<UnexposedTarget>, RegistryError> {
        let Some(spec) = svc.spec.as_ref() else {
            return Ok(Vec::new());
        };
        let (Some(selector), Some(ports)) = (&spec.selector, &spec.ports) else {
            return Ok(Vec::new());
        };
        if selector.is_empty() {
            return Ok(Vec::new());
        }
        let namespace = svc.metadata.namespace.as_deref();
        let selects = |labels: Option<&BTreeMap<String, String>>| {
            service_plan::selector::matches_service_selector(
                Some(selector),
                labels.unwrap_or(&BTreeMap::new()),
            )
        };
        let pods: Vec<Pod> = self.typed("pods", namespace).await?;
        let mut specs: Vec<PodSpec> = pods
            .into_iter()
            .filter(|p| selects(p.metadata.labels.as_ref()))
            .filter_map(|p| p.spec)
            .collect();
        if specs.is_empty() {
            let deployments: Vec<Deployment> = self.typed("deployments", namespace).await?;
            specs = deployments
                .into_iter()
                .filter_map(|d| d.spec.map(|s| s.template))
                .filter(|t| selects(t.metadata.as_ref().and_then(|m| m.labels.as_ref())))
                .filter_map(|t| t.spec)
                .collect();
        }
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        Ok(unexposed_targets(ports, &exposed_ports(&specs)))
    }
}
