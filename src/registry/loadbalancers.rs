//! The simulated SLB (CLB) inventory: instances stored under `loadbalancers` (cluster-scoped,
//! keyed by `lb-…`, not served through Kubernetes discovery), their addresses taken from the
//! configured pools, and the sharing rules checked when a Service is written.

use service_plan::json::Pointer as _;
use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use ipnet::Ipv4Net;
use k8s_openapi::api::core::v1::Service;
use serde_json::{Value, json};
use service_plan::annotations::{self, AddressType};
use service_plan::field::{FieldError, FieldErrors};
use service_plan::slb::manual::{ManualInstance, PAY_BY_TRAFFIC, validate_manual_instance};
use service_plan::slb::{
    self, ConflictKind, NetworkPlugin, PAY_BY_CLCU, PAY_BY_SPEC, SlbChange, SlbContext,
    SlbInstance, events,
};
use service_plan::status::Resource;

use super::services::SERVICES;
use super::write::{Attempt, Commit, replace_at};
use super::{Registry, RegistryError};
use crate::store::{Allocation, ObjectKey, Precondition, StoredObject, Write, WriteOp};

/// The SLB instance inventory; not a Kubernetes resource, so never in discovery.
pub const LOAD_BALANCERS: Resource = Resource {
    group: "slb.service-console.io",
    plural: "loadbalancers",
    kind: "LoadBalancer",
};

/// `apiVersion` of stored instances.
pub const LOAD_BALANCER_API_VERSION: &str = "slb.service-console.io/v1";

/// Store pool of internet SLB addresses.
pub const POOL_SLB_INTERNET: &str = "slb-internet-ip";
/// Store pool of intranet SLB addresses.
pub const POOL_SLB_INTRANET: &str = "slb-intranet-ip";

/// The VPC every simulated instance and node lives in, quoted in CCM's ENI error.
pub const VPC_ID: &str = "vpc-service-console";

/// Characters of generated instance and vServer-group ids.
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Length of the random part of an id, as Alibaba Cloud ids look (`lb-bp1…`).
const ID_RANDOM_CHARS: usize = 20;

/// The cloud around the cluster: its id, network plug-in and address pools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// `--cluster-id`.
    pub cluster_id: String,
    /// `--network-plugin`.
    pub network_plugin: NetworkPlugin,
    /// `--pod-cidr`.
    pub pod_cidr: Ipv4Net,
    /// `--slb-ip-pool` (internet instances).
    pub slb_ip_pool: Ipv4Net,
    /// `--slb-intranet-ip-pool` (intranet instances).
    pub slb_intranet_ip_pool: Ipv4Net,
}

/// The default `--cluster-id`.
pub const DEFAULT_CLUSTER_ID: &str = "c-service-console";
/// The default `--pod-cidr`.
pub const DEFAULT_POD_CIDR: &str = "172.20.0.0/16";
/// The default `--slb-ip-pool`.
pub const DEFAULT_SLB_IP_POOL: &str = "47.100.0.0/24";
/// The default `--slb-intranet-ip-pool`.
pub const DEFAULT_SLB_INTRANET_IP_POOL: &str = "192.168.0.0/24";

impl Default for ClusterSettings {
    /// The settings of the flags' defaults.
    fn default() -> Self {
        let net = |text: &str| -> Ipv4Net {
            text.parse()
                .expect("the default address ranges are valid CIDRs; the settings test parses them")
        };
        ClusterSettings {
            cluster_id: DEFAULT_CLUSTER_ID.to_string(),
            network_plugin: NetworkPlugin::Flannel,
            pod_cidr: net(DEFAULT_POD_CIDR),
            slb_ip_pool: net(DEFAULT_SLB_IP_POOL),
            slb_intranet_ip_pool: net(DEFAULT_SLB_INTRANET_IP_POOL),
        }
    }
}

/// The settings of a registry, replaced once at start-up.
pub(super) type SharedSettings = RwLock<ClusterSettings>;

/// A manually created instance (the console's "Create Load Balancer").
#[derive(Debug, Clone, Default)]
pub struct NewLoadBalancer {
    /// Instance name; empty means the id.
    pub name: String,
    /// Spec (`slb.s1.small`, …); empty means pay-by-CLCU.
    pub spec: String,
    /// `internet` or `intranet`.
    pub address_type: String,
    /// Mbit/s, for pay-by-bandwidth.
    pub bandwidth: Option<i64>,
    /// `paybytraffic` or `paybybandwidth` (internet only).
    pub charge_type: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// The attributes of an instance to create; the registry adds its id and address.
#[derive(Debug, Clone)]
pub struct InstanceRequest {
    /// The instance without id and address.
    pub instance: SlbInstance,
    /// A pinned address (`…-ip`), else one from the pool.
    pub ip: Option<String>,
}

/// vServer group id → its backend servers (JSON `BackendServer`s), stored beside the instance.
pub type GroupBackends = BTreeMap<String, Value>;

fn random_id(prefix: &str) -> String {
    let tail: String = (0..ID_RANDOM_CHARS)
        .map(|_| char::from(ID_ALPHABET[rand::random_range(0..ID_ALPHABET.len())]))
        .collect();
    format!("{prefix}{tail}")
}

/// A new vServer-group id (`rsp-…`).
pub fn new_vserver_group_id() -> String {
    random_id("rsp-")
}

fn pool_of(address_type: AddressType) -> &'static str {
    match address_type {
        AddressType::Internet => POOL_SLB_INTERNET,
        AddressType::Intranet => POOL_SLB_INTRANET,
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Internal(format!("{what}: {e}"))
}

/// The instance inside a stored object.
fn instance_of(stored: &StoredObject) -> Result<SlbInstance, RegistryError> {
    let spec = stored.object.get("spec").cloned().unwrap_or(Value::Null);
    serde_json::from_value(spec).map_err(|e| internal("decoding stored load balancer", e))
}

/// The stored object of an instance and its backends.
fn object_for(
    instance: &SlbInstance,
    backends: &GroupBackends,
    uid: &str,
    created: &Value,
) -> Result<Value, RegistryError> {
    let mut spec =
        serde_json::to_value(instance).map_err(|e| internal("encoding load balancer", e))?;
    if let Some(groups) = spec.get_mut("vserverGroups").and_then(Value::as_array_mut) {
        for group in groups {
            let id = group
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            group["backendServers"] = backends.get(&id).cloned().unwrap_or_else(|| json!([]));
        }
    }
    Ok(json!({
        "apiVersion": LOAD_BALANCER_API_VERSION,
        "kind": LOAD_BALANCERS.kind,
        "metadata": {"name": instance.id, "uid": uid, "creationTimestamp": created},
        "spec": spec,
    }))
}

/// The backends stored beside an instance, as JSON, by vServer-group id.
pub fn stored_backends(object: &Value) -> BTreeMap<String, Value> {
    object
        .at("/spec/vserverGroups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|g| {
            let id = g
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            (
                id,
                g.get("backendServers")
                    .cloned()
                    .unwrap_or_else(|| json!([])),
            )
        })
        .collect()
}

/// Whether `svc` is a LoadBalancer Service that uses instance `id` by annotation.
fn uses_by_annotation(svc: &Service, id: &str) -> bool {
    let is_lb = svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
    let annotated = svc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| annotations::get(a, annotations::LOAD_BALANCER_ID))
        == Some(id);
    is_lb && annotated
}

impl Registry {
    /// The cluster's id, network plug-in and address pools.
    pub fn settings(&self) -> ClusterSettings {
        self.inner
            .settings
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the cluster settings (start-up, or a test choosing its network plug-in).
    pub fn configure(&self, settings: ClusterSettings) {
        *self
            .inner
            .settings
            .write()
            .unwrap_or_else(PoisonError::into_inner) = settings;
    }

    /// The instances a Service `namespace/name` may reuse, with the ports taken on each
    /// (see [`slb::reuse::reuse_choices`]); the Services are read only when one exists.
    pub async fn reuse_choices(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<slb::reuse::ReuseChoice>, RegistryError> {
        let instances: Vec<SlbInstance> = self
            .load_balancers()
            .await?
            .into_iter()
            .filter(|i| matches!(i.ownership(), slb::Ownership::Manual { .. }))
            .collect();
        if instances.is_empty() {
            return Ok(Vec::new());
        }
        let services = self.services_naming(instances.iter().map(|i| i.id.as_str()));
        let cluster_id = self.settings().cluster_id;
        Ok(slb::reuse::reuse_choices(
            &instances,
            &services,
            &cluster_id,
            namespace,
            name,
        ))
    }

    /// Every SLB instance, ordered by id.
    pub async fn load_balancers(&self) -> Result<Vec<SlbInstance>, RegistryError> {
        let (rows, _) = self
            .inner
            .store
            .list(LOAD_BALANCERS.plural, Some(""), None, None)
            .await?;
        rows.iter().map(instance_of).collect()
    }

    /// Every stored instance object (spec plus `backendServers` per vServer group).
    pub async fn load_balancer_objects(&self) -> Result<Vec<Value>, RegistryError> {
        let (rows, _) = self
            .inner
            .store
            .list(LOAD_BALANCERS.plural, Some(""), None, None)
            .await?;
        Ok(rows.into_iter().map(|r| r.object).collect())
    }

    /// One SLB instance.
    pub async fn load_balancer(&self, id: &str) -> Result<SlbInstance, RegistryError> {
        instance_of(&self.stored_load_balancer(id).await?)
    }

    /// One stored instance object, with the backend servers of each vServer group.
    pub async fn load_balancer_object(&self, id: &str) -> Result<Value, RegistryError> {
        Ok(self.stored_load_balancer(id).await?.object)
    }

    async fn stored_load_balancer(&self, id: &str) -> Result<StoredObject, RegistryError> {
        self.get_raw(LOAD_BALANCERS.plural, "", id)
            .await?
            .ok_or_else(|| RegistryError::NotFound {
                resource: LOAD_BALANCERS,
                name: id.to_string(),
            })
    }

    /// The Services (`namespace/name`) using instance `id`: those naming it in `…-id` and the
    /// one it was created for.
    pub async fn load_balancer_users(&self, id: &str) -> Result<Vec<String>, RegistryError> {
        let instance = self.load_balancer(id).await?;
        let owner = instance.tags.get(events::TAG_KEY_SERVICE).cloned();
        let mut users = Vec::new();
        let candidates = self.services_indexed(
            std::iter::once(slb::instance_index_by_id(id))
                .chain(owner.as_deref().map(slb::instance_index_by_owner)),
        );
        for svc in candidates {
            let own = owner.as_deref().is_some_and(|o| {
                svc.metadata
                    .uid
                    .as_deref()
                    .is_some_and(|uid| slb::default_load_balancer_name(uid) == o)
            });
            if own || uses_by_annotation(&svc, id) {
                users.push(format!(
                    "{}/{}",
                    svc.metadata.namespace.as_deref().unwrap_or_default(),
                    svc.metadata.name.as_deref().unwrap_or_default()
                ));
            }
        }
        Ok(users)
    }

    /// Creates an instance by hand, with an address from the pool of its address type.
    pub async fn create_load_balancer(
        &self,
        req: NewLoadBalancer,
    ) -> Result<SlbInstance, RegistryError> {
        let charge = req.charge_type.clone().filter(|c| !c.is_empty());
        let address_type = validate_manual_instance(&ManualInstance {
            name: &req.name,
            address_type: &req.address_type,
            spec: &req.spec,
            charge_type: charge.as_deref().unwrap_or(""),
            bandwidth: req.bandwidth,
        })
        .map_err(|error| RegistryError::Invalid {
            resource: LOAD_BALANCERS,
            name: req.name.clone(),
            errors: FieldErrors(vec![error]),
        })?;
        let internet = address_type == AddressType::Internet;
        let instance = SlbInstance {
            id: String::new(),
            name: req.name.clone(),
            address_type,
            address: String::new(),
            instance_charge_type: if req.spec.is_empty() {
                PAY_BY_CLCU
            } else {
                PAY_BY_SPEC
            }
            .to_string(),
            spec: (!req.spec.is_empty()).then(|| req.spec.clone()),
            internet_charge_type: if internet {
                Some(charge.unwrap_or_else(|| PAY_BY_TRAFFIC.to_string()))
            } else {
                None
            },
            bandwidth: if internet {
                req.bandwidth.and_then(|b| i32::try_from(b).ok())
            } else {
                None
            },
            tags: req.tags.clone(),
            listeners: Vec::new(),
            vserver_groups: Vec::new(),
        };
        self.insert_load_balancer(InstanceRequest { instance, ip: None })
            .await
    }

    /// Stores a new instance with a fresh id and an address from its pool.
    pub async fn insert_load_balancer(
        &self,
        req: InstanceRequest,
    ) -> Result<SlbInstance, RegistryError> {
        let pool = pool_of(req.instance.address_type);
        let node_ips = self.node_internal_ips().await?;
        let (req, node_ips) = (&req, &node_ips);
        self.guaranteed_write(LOAD_BALANCERS, "", || async move {
            let mut instance = req.instance.clone();
            instance.id = random_id("lb-");
            if instance.name.is_empty() {
                instance.name = instance.id.clone();
            }
            instance.address = match &req.ip {
                Some(ip) => ip.clone(),
                None => self.free_address(req.instance.address_type, node_ips)?,
            };
            let meta = super::new_object_meta();
            let created = serde_json::to_value(&meta.now).unwrap_or(Value::Null);
            let object = object_for(&instance, &GroupBackends::new(), &meta.uid, &created)?;
            let write = Write {
                allocate: vec![Allocation::new(pool, instance.address.clone())],
                ..Write::new(WriteOp::Put {
                    key: ObjectKey::new(LOAD_BALANCERS.plural, "", &instance.id),
                    uid: meta.uid,
                    object,
                    precondition: Precondition::MustNotExist,
                })
            };
            let address_taken = req.ip.is_some().then(|| {
                RegistryError::BadRequest(format!(
                    "the address {} is already used by another load balancer",
                    instance.address
                ))
            });
            Ok(Commit::new(write, move |_| instance)
                .taken_means(address_taken)
                .retry_taken_key()
                .into())
        })
        .await
    }

    /// Replaces an instance (listeners, vServer groups, tags, attributes) and the backends of
    /// the groups in `backends` (other groups keep theirs); stores nothing when nothing
    /// changed. Returns whether it wrote.
    pub async fn save_load_balancer(
        &self,
        instance: &SlbInstance,
        backends: &GroupBackends,
    ) -> Result<bool, RegistryError> {
        let key = &ObjectKey::new(LOAD_BALANCERS.plural, "", &instance.id);
        self.guaranteed_update(LOAD_BALANCERS, key, |stored| async move {
            let created = stored
                .object
                .at("/metadata/creationTimestamp")
                .cloned()
                .unwrap_or(Value::Null);
            let mut merged = stored_backends(&stored.object);
            merged.extend(backends.iter().map(|(k, v)| (k.clone(), v.clone())));
            let mut object = object_for(instance, &merged, &stored.uid, &created)?;
            object["metadata"]["resourceVersion"] = stored
                .object
                .at("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(Value::Null);
            if object == stored.object {
                return Ok(Attempt::Done(false));
            }
            let write = replace_at(key, &stored, object);
            Ok(Commit::new(write, |_| true).into())
        })
        .await
    }

    /// Deletes an instance a user no longer needs; refused while a Service uses it.
    pub async fn delete_load_balancer(&self, id: &str) -> Result<(), RegistryError> {
        let users = self.load_balancer_users(id).await?;
        if !users.is_empty() {
            return Err(RegistryError::Precondition {
                resource: LOAD_BALANCERS,
                name: id.to_string(),
                detail: format!(
                    "the load balancer is used by Service {}; delete the Service or stop it from using the load balancer first",
                    users.join(", ")
                ),
            });
        }
        self.remove_load_balancer(id).await
    }

    /// Deletes an instance and gives its address back, whoever uses it (the controller's
    /// release of an instance it created).
    pub async fn remove_load_balancer(&self, id: &str) -> Result<(), RegistryError> {
        let key = &ObjectKey::new(LOAD_BALANCERS.plural, "", id);
        self.guaranteed_update(LOAD_BALANCERS, key, |stored| async move {
            let instance = instance_of(&stored)?;
            let write = Write {
                release: vec![Allocation::new(
                    pool_of(instance.address_type),
                    instance.address.clone(),
                )],
                ..Write::new(WriteOp::Delete {
                    key: key.clone(),
                    precondition: Precondition::Revision(stored.revision),
                })
            };
            Ok(Commit::new(write, |_| ()).into())
        })
        .await
    }

    /// The first free address of the pool, skipping node addresses that share its range.
    fn free_address(
        &self,
        address_type: AddressType,
        node_ips: &[String],
    ) -> Result<String, RegistryError> {
        let settings = self.settings();
        let net = match address_type {
            AddressType::Internet => settings.slb_ip_pool,
            AddressType::Intranet => settings.slb_intranet_ip_pool,
        };
        let taken = self.inner.store.allocated(pool_of(address_type));
        net.hosts()
            .map(|ip| ip.to_string())
            .find(|ip| !taken.contains(ip) && !node_ips.contains(ip))
            .ok_or_else(|| {
                RegistryError::BadRequest(format!(
                    "no address is left in the load balancer pool {net}"
                ))
            })
    }

    async fn node_internal_ips(&self) -> Result<Vec<String>, RegistryError> {
        let (rows, _) = self.inner.store.list("nodes", Some(""), None, None).await?;
        Ok(rows
            .iter()
            .flat_map(|r| {
                r.object
                    .at("/status/addresses")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|a| a.get("address").and_then(Value::as_str).map(str::to_string))
            .collect())
    }

    /// The Services that name one of the instances `ids`, typed, as stored (with read-time
    /// defaults), in (namespace, name) order: what the SLB rules read to find an instance's
    /// other users, found through the store's index instead of decoding every Service. The
    /// index may hold a few more (another type); the rules decide about each as before.
    pub(super) fn services_naming<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Vec<Service> {
        self.services_indexed(ids.into_iter().map(slb::instance_index_by_id))
    }

    /// The Services the store indexes under any of `values` (see
    /// [`slb::instance_index_values`]), typed, once each, in (namespace, name) order.
    fn services_indexed(&self, values: impl IntoIterator<Item = String>) -> Vec<Service> {
        let mut found = BTreeMap::new();
        for value in values {
            for row in self.inner.store.indexed(SERVICES.plural, &value) {
                found.entry(row.key).or_insert(row.object);
            }
        }
        found
            .into_values()
            .filter_map(|o| serde_json::from_value(super::services::decorate(o)).ok())
            .collect()
    }

    /// The write-time check of a planned Service: CLB annotation values (422 on the
    /// annotation's path), the sharing rules for a reused instance (422 on the `…-id`
    /// annotation), and a `Warning` for each unknown `alibaba-cloud-loadbalancer-*` key.
    pub(super) async fn admit_load_balancer(
        &self,
        svc: &Service,
        mut warnings: Vec<String>,
    ) -> Result<Vec<String>, RegistryError> {
        let name = svc.metadata.name.clone().unwrap_or_default();
        let empty = BTreeMap::new();
        let anns = svc.metadata.annotations.as_ref().unwrap_or(&empty);
        let check = annotations::check(anns);
        warnings.extend(check.warnings.iter().cloned());
        let is_lb = svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
        if !is_lb {
            return Ok(warnings);
        }
        let invalid = |errors: Vec<FieldError>| RegistryError::Invalid {
            resource: SERVICES,
            name: name.clone(),
            errors: FieldErrors(errors),
        };
        if !check.errors.is_empty() {
            let errors = check
                .errors
                .iter()
                .map(|e| {
                    FieldError::invalid(
                        format!("metadata.annotations[{}]", e.key),
                        e.value.as_str(),
                        e.message.clone(),
                    )
                })
                .collect();
            return Err(invalid(errors));
        }
        let Some(id) = check.annotations.load_balancer_id.clone() else {
            return Ok(warnings);
        };
        let Some(stored) = self.get_raw(LOAD_BALANCERS.plural, "", &id).await? else {
            // CCM reports a missing instance as a sync failure; the controller does the same.
            return Ok(warnings);
        };
        let instance = instance_of(&stored)?;
        // A Service may name the instance created for itself.
        let own = svc.metadata.uid.as_deref().is_some_and(|uid| {
            instance.tags.get(events::TAG_KEY_SERVICE)
                == Some(&slb::default_load_balancer_name(uid))
        });
        let services = self.services_naming([id.as_str()]);
        let settings = self.settings();
        let instances = [instance];
        let ctx = SlbContext {
            cluster_id: &settings.cluster_id,
            network_plugin: settings.network_plugin,
            vpc_id: VPC_ID,
            nodes: &[],
            backends: &[],
            instances: &instances,
            services: &services,
        };
        let plan = slb::plan_load_balancer(svc, SlbChange::Apply, &ctx);
        let key = format!("metadata.annotations[{}]", annotations::LOAD_BALANCER_ID);
        let errors: Vec<FieldError> = plan
            .conflicts
            .iter()
            .filter(|c| c.kind.refused_on_write())
            .filter(|c| !(own && c.kind == ConflictKind::CreatedByKubernetes))
            .map(|c| FieldError::invalid(key.clone(), id.as_str(), c.message.clone()))
            .collect();
        if errors.is_empty() {
            Ok(warnings)
        } else {
            Err(invalid(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_are_the_flags_defaults() {
        let settings = ClusterSettings::default();
        assert_eq!(settings.pod_cidr.to_string(), DEFAULT_POD_CIDR);
        assert_eq!(settings.slb_ip_pool.to_string(), DEFAULT_SLB_IP_POOL);
        assert_eq!(
            settings.slb_intranet_ip_pool.to_string(),
            DEFAULT_SLB_INTRANET_IP_POOL
        );
    }
}
