//! The registry: kube-apiserver's create/update/patch/delete/get/list/watch pipeline over the
//! store. Front doors (the Kubernetes API and the console) call it and map its one error
//! type to their responses; the rules themselves live in `service-plan`.

mod apply;
mod error;
pub mod history;
mod list;
mod loadbalancers;
mod namespaces;
mod objects;
pub mod pages;
mod plan;
pub mod rbac;
mod services;
mod write;

use service_plan::json::Pointer as _;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;
use service_plan::alloc::{Allocated, AllocationPlan, POOL_NODE_PORTS, POOL_SERVICE_IPS, Pools};
use service_plan::codec::FieldValidation;
use service_plan::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use service_plan::k8s_openapi::jiff::Timestamp;
use service_plan::service::pipeline::{GENERATE_NAME_ALPHABET, NewObjectMeta};

pub use error::RegistryError;
pub use loadbalancers::{
    ClusterSettings, DEFAULT_CLUSTER_ID, DEFAULT_POD_CIDR, DEFAULT_SLB_INTRANET_IP_POOL,
    DEFAULT_SLB_IP_POOL, GroupBackends, InstanceRequest, LOAD_BALANCER_API_VERSION, LOAD_BALANCERS,
    NewLoadBalancer, POOL_SLB_INTERNET, POOL_SLB_INTRANET, VPC_ID, new_vserver_group_id,
    stored_backends,
};
pub use namespaces::NAMESPACES;
pub use objects::{
    FLOW_SCHEMAS, KINDS, Kind, LEASES, PRIORITY_LEVEL_CONFIGURATIONS, REPLICA_SETS, kind_by_plural,
    kind_for,
};
pub use plan::{AllocationView, ServicePlan, cluster_node};
pub use services::SERVICES;

use crate::store::{Allocation, Committed, Store};
/// What front doors and controllers see of the store, through the registry: a revision, a
/// watch event, its type and its shared encoded object, an object's key and a storage failure.
pub use crate::store::{
    Encoded, Event, EventStream, EventType, HistoryNote, HistoryRow, ListSnapshot, ObjectKey,
    Revision, StoreError, StoredObject,
};

/// How often a create whose generated name is taken tries another (kube-apiserver's
/// `RetryGenerateName`: the first attempt and 7 more).
const GENERATE_NAME_RETRIES: usize = 7;

/// Options every write accepts (`dryRun`, `fieldValidation`, `fieldManager`).
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub field_validation: FieldValidation,
    pub field_manager: Option<String>,
    /// Who a write without `fieldManager` is recorded as: the client's User-Agent prefix, as
    /// kube-apiserver takes it (server-side apply still needs `fieldManager` itself).
    pub agent_manager: Option<String>,
    /// Who asks for the write (None: the server itself, e.g. at bootstrap).
    pub user: Option<std::sync::Arc<service_plan::user::UserInfo>>,
    /// The client's whole User-Agent, for the write's history.
    pub user_agent: Option<String>,
    /// A delete's `propagationPolicy` (or the deprecated `orphanDependents`).
    pub propagation: Propagation,
    /// The body is a typed object that this process serialized (a controller's desired
    /// object), so it is in its kind's canonical form already and has no unknown fields: it is
    /// taken as it is instead of through the typed round trip every client body takes. Never
    /// set for a body from a client. A create with it also hands its object to the informers
    /// ([`crate::store::Write::hand_over`]), which a controller reads it from next, and
    /// answers with its `metadata.resourceVersion` alone.
    pub canonical_body: bool,
}

/// What becomes of a deleted object's dependents (`DeletionPropagation`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Propagation {
    /// They are deleted after it, by the garbage collector.
    #[default]
    Background,
    /// They are deleted before it, which stays (being deleted) until they are gone.
    Foreground,
    /// They stay, without their owner reference to it.
    Orphan,
}

impl Propagation {
    /// The policy a `propagationPolicy` value or an `orphanDependents` flag names, if any.
    pub fn named(policy: Option<&str>, orphan_dependents: Option<bool>) -> Option<Propagation> {
        match (policy, orphan_dependents) {
            (Some("Orphan"), _) | (None, Some(true)) => Some(Propagation::Orphan),
            (Some("Foreground"), _) => Some(Propagation::Foreground),
            (Some("Background"), _) | (None, Some(false)) => Some(Propagation::Background),
            _ => None,
        }
    }
}

impl WriteOptions {
    /// The manager a write without server-side apply is recorded under: `fieldManager`, else
    /// the User-Agent's prefix, else the console's.
    pub fn manager(&self) -> &str {
        self.field_manager
            .as_deref()
            .or(self.agent_manager.as_deref())
            .filter(|m| !m.is_empty())
            .unwrap_or(apply::DEFAULT_FIELD_MANAGER)
    }

    /// How a write with these options is noted in its object's history.
    fn history_note(&self, verb: &str, subresource: &str) -> HistoryNote {
        HistoryNote {
            verb: verb.to_owned(),
            subresource: subresource.to_owned(),
            user: self
                .user
                .as_ref()
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            user_agent: self.user_agent.clone().unwrap_or_default(),
            manager: self.manager().to_owned(),
        }
    }
}

/// Preconditions of a delete (`DeleteOptions.preconditions`).
#[derive(Debug, Clone, Default)]
pub struct DeletePreconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// The result of a write: the object as stored (or as it would be, for a dry run) and the
/// `Warning`s to return.
#[derive(Debug, Clone)]
pub struct Applied {
    pub object: Value,
    pub warnings: Vec<String>,
    /// False when the write changed nothing and so stored nothing.
    pub changed: bool,
}

/// One page of a list, with the revision it was read at.
#[derive(Debug, Clone)]
pub struct ListPage<T = Value> {
    pub items: Vec<T>,
    pub revision: Revision,
    /// Where the next page starts, when there is one.
    pub continue_after: Option<(String, String)>,
    /// How many objects come after this page: kube-apiserver's `remainingItemCount`, known
    /// for a limited list without selectors.
    pub remaining: Option<usize>,
}

/// An object as a reader gets it.
#[derive(Debug, Clone)]
pub enum ReadObject {
    /// The stored text is exactly what a reader gets, so it is forwarded as it is: encoded
    /// once, shared by every reader (kube-apiserver's `cachingObject`).
    AsIs(Arc<Encoded>),
    /// The object after read-time decoration.
    Decorated(Value),
}

impl ReadObject {
    /// The object as a tree.
    pub fn into_value(self) -> Result<Value, RegistryError> {
        match self {
            ReadObject::AsIs(encoded) => Ok(encoded.decode()?),
            ReadObject::Decorated(object) => Ok(object),
        }
    }

    /// The object as a tree, for a reader that never looks at `metadata.managedFields`: a
    /// stored text is decoded without them; a decorated object keeps them.
    pub fn into_value_without_managed_fields(self) -> Result<Value, RegistryError> {
        match self {
            ReadObject::AsIs(encoded) => Ok(encoded.decode_without_managed_fields()?),
            ReadObject::Decorated(object) => Ok(object),
        }
    }
}

/// Filters and paging of a list or watch.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub label_selector: Option<service_plan::selector::LabelSelector>,
    pub field_selector: Option<service_plan::selector::FieldSelector>,
    pub limit: Option<usize>,
    pub continue_after: Option<(String, String)>,
    /// The revision of a paged list's first page, which later pages are served at.
    pub at_revision: Option<Revision>,
}

/// The registry; cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    pools: Pools,
    settings: loadbalancers::SharedSettings,
    /// Team mode: controller writes are authorised against their own roles.
    controllers_authorized: std::sync::atomic::AtomicBool,
    /// The RBAC policy, decoded.
    policy: rbac::PolicyCache,
}

impl Registry {
    /// Opens the registry over a store and makes sure a new cluster has its `default`
    /// namespace and its `kubernetes` Service.
    pub async fn open(store: Store, pools: Pools) -> Result<Registry, RegistryError> {
        let registry = Registry {
            inner: Arc::new(Inner {
                store,
                pools,
                settings: Default::default(),
                controllers_authorized: Default::default(),
                policy: Default::default(),
            }),
        };
        registry.bootstrap().await?;
        Ok(registry)
    }

    /// The store underneath, for controllers and health checks.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The store's latest committed revision.
    pub fn current_revision(&self) -> Revision {
        self.inner.store.current_revision()
    }

    /// The oldest revision a watch or a continued list may still start after.
    pub fn compacted_revision(&self) -> Revision {
        self.inner.store.compacted_revision()
    }

    /// How many objects of `resource` are stored (in `namespace`, when given).
    pub async fn count(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<u64, RegistryError> {
        Ok(self.inner.store.count(resource, namespace).await?)
    }

    /// From now on, controller writes are authorised by RBAC as their own ServiceAccounts
    /// (team mode), so a controller bug cannot write what its role does not allow.
    pub fn authorize_controllers(&self) {
        self.inner
            .controllers_authorized
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether controller writes are authorised (see [`Registry::authorize_controllers`]).
    pub fn controllers_authorized(&self) -> bool {
        self.inner
            .controllers_authorized
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The cluster's allocation pools.
    pub fn pools(&self) -> &Pools {
        &self.inner.pools
    }

    async fn bootstrap(&self) -> Result<(), RegistryError> {
        for ns in namespaces::SYSTEM_NAMESPACES {
            self.ensure_namespace(ns).await?;
        }
        self.ensure_bootstrap_policy().await?;
        self.ensure_kubernetes_service().await
    }

    /// The allocations currently held in the cluster: an O(1) snapshot of the store's mirror.
    fn allocated(&self) -> Allocated {
        let store = &self.inner.store;
        Allocated::new(
            store.allocated(POOL_SERVICE_IPS),
            store.allocated(POOL_NODE_PORTS),
        )
    }

    /// Waits until this replica shows every write committed before the call (see
    /// [`crate::store::Store::sync`]).
    pub async fn sync(&self) -> Result<(), RegistryError> {
        Ok(self.inner.store.sync().await?)
    }

    /// Reads one object.
    pub async fn get_raw(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<StoredObject>, RegistryError> {
        Ok(self
            .inner
            .store
            .get(&ObjectKey::new(resource, namespace, name))
            .await?)
    }

    /// Lists objects of one resource, filtered by selectors, ordered by namespace and name.
    pub async fn list(
        &self,
        resource: &str,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListPage, RegistryError> {
        let page = self.list_read(resource, namespace, opts)?;
        Ok(ListPage {
            items: page
                .items
                .into_iter()
                .map(ReadObject::into_value)
                .collect::<Result<_, _>>()?,
            revision: page.revision,
            continue_after: page.continue_after,
            remaining: page.remaining,
        })
    }

    /// [`Registry::list`], with each object as a reader gets it: a list that forwards stored
    /// text holds no decoded object, however long it is.
    pub fn list_read(
        &self,
        resource: &str,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListPage<ReadObject>, RegistryError> {
        let mut items: Vec<ReadObject> = Vec::new();
        let mut last: Option<(String, String)> = None;
        let mut after = opts.continue_after.clone();
        let snapshot = self.inner.store.list_snapshot(resource, opts.at_revision);
        // A continued list reports its first page's revision even when its snapshot is gone.
        let revision = opts.at_revision.unwrap_or(snapshot.revision());
        let unfiltered = opts.label_selector.is_none() && opts.field_selector.is_none();
        // Selectors filter after reading, so read in batches until the page is full.
        loop {
            let batch = opts.limit.map(|l| l.max(64) + 1);
            let rows = snapshot.page_encoded(
                namespace,
                after.as_ref().map(|(n, m)| (n.as_str(), m.as_str())),
                batch,
            );
            let exhausted = batch.is_none_or(|b| rows.len() < b);
            for (key, encoded) in rows {
                let at = (key.namespace, key.name);
                after = Some(at.clone());
                let object = self.read(resource, encoded)?;
                let selected = unfiltered
                    || match &object {
                        ReadObject::AsIs(encoded) => {
                            self.matches(resource, &encoded.decode()?, opts)
                        }
                        ReadObject::Decorated(object) => self.matches(resource, object, opts),
                    };
                if selected {
                    if opts.limit.is_some_and(|l| items.len() >= l) {
                        self.inner.store.keep_for_continue(&snapshot);
                        let remaining = match (&last, unfiltered) {
                            (Some((ns, name)), true) => {
                                Some(snapshot.count_after(namespace, (ns, name)))
                            }
                            _ => None,
                        };
                        return Ok(ListPage {
                            items,
                            revision,
                            continue_after: last,
                            remaining,
                        });
                    }
                    items.push(object);
                    last = Some(at);
                }
            }
            if exhausted {
                return Ok(ListPage {
                    items,
                    revision,
                    continue_after: None,
                    remaining: None,
                });
            }
        }
    }

    /// Whether an object passes the list options' selectors.
    pub fn matches(&self, resource: &str, object: &Value, opts: &ListOptions) -> bool {
        if let Some(sel) = &opts.label_selector {
            let labels = object
                .at("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            if !sel.matches(&labels) {
                return false;
            }
        }
        if let Some(sel) = &opts.field_selector
            && !sel.matches(object, kind_of(resource))
        {
            return false;
        }
        true
    }

    /// A stored object as a reader of `resource` gets it: the stored text itself when it names
    /// its apiVersion and kind and read-time decoration leaves it alone (decided once per
    /// stored version), else the decorated tree.
    pub fn read(&self, resource: &str, encoded: Arc<Encoded>) -> Result<ReadObject, RegistryError> {
        if encoded.read_as_is(|object| reads_as_stored(resource, object)) {
            return Ok(ReadObject::AsIs(encoded));
        }
        Ok(ReadObject::Decorated(
            self.decorate(resource, encoded.decode()?),
        ))
    }

    /// One stored object as a reader gets it; `None` when there is none.
    pub fn read_one(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ReadObject>, RegistryError> {
        let key = ObjectKey::new(resource, namespace, name);
        self.inner
            .store
            .get_encoded(&key)
            .map(|encoded| self.read(resource, encoded))
            .transpose()
    }

    /// Read-time decoration of stored objects (Services get their read-time defaults).
    pub fn decorate(&self, resource: &str, object: Value) -> Value {
        if resource == SERVICES.plural {
            services::decorate(object)
        } else {
            object
        }
    }

    /// Events of one resource after `from`, for watches.
    pub async fn watch(
        &self,
        resource: &str,
        from: Revision,
    ) -> Result<EventStream, RegistryError> {
        Ok(self.inner.store.watch(Some(resource), from).await?)
    }

    /// Events of every resource after `from`, for the controllers' informers: one watch, so
    /// each event is read once and the informers know which revision they show.
    pub async fn watch_all(&self, from: Revision) -> Result<EventStream, RegistryError> {
        Ok(self.inner.store.watch(None, from).await?)
    }

    /// The object written at `revision`, as the writer handed it to the informers (see
    /// [`crate::store::Write::hand_over`]); `None` when it was not, or was taken already.
    pub fn handed_over(&self, revision: Revision) -> Option<Value> {
        self.inner.store.handed_over(revision)
    }

    /// Every stored object of `resource` at the current revision, still encoded, for an
    /// informer's list: an O(1) snapshot it pages through.
    pub fn snapshot(&self, resource: &str) -> ListSnapshot {
        self.inner.store.list_snapshot(resource, None)
    }

    /// Commits one write, retrying planning when a concurrent write took an allocation first.
    async fn commit(&self, mut write: crate::store::Write) -> Result<Committed, StoreError> {
        let key = write.op.key().clone();
        if let crate::store::WriteOp::Put { object, .. } = &write.op {
            write.read_as_is = Some(reads_as_stored(&key.kind, object));
        }
        let committed = self.inner.store.commit(write).await?;
        self.note_commit(&key);
        Ok(committed)
    }
}

/// Whether a reader of `resource` gets `object` exactly as stored: it names its apiVersion
/// and kind, and [`Registry::decorate`] would leave it alone.
fn reads_as_stored(resource: &str, object: &Value) -> bool {
    let named = |field: &str| object.get(field).is_some_and(Value::is_string);
    named("apiVersion")
        && named("kind")
        && (resource != SERVICES.plural
            || !object
                .get("spec")
                .is_some_and(service_plan::service::defaults::default_on_read_applies))
}

/// A string field of a JSON object, `""` when absent.
pub fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.at(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The Kind of a served resource, for field selectors (`""` for anything else).
pub fn kind_of(resource: &str) -> &'static str {
    kind_by_plural(resource).map_or("", |k| k.resource.kind)
}

/// Server-chosen metadata for a new object: uid, creation time, a generateName suffix.
fn new_object_meta() -> NewObjectMeta {
    let suffix: String = (0..5)
        .map(|_| {
            let i = rand::random_range(0..GENERATE_NAME_ALPHABET.len());
            char::from(GENERATE_NAME_ALPHABET[i])
        })
        .collect();
    NewObjectMeta {
        uid: uuid::Uuid::new_v4().to_string(),
        now: now(),
        name_suffix: suffix,
    }
}

/// The seed of the allocators' random picks for one Service. Derived from its name rather
/// than drawn, so that the plan preview of a Service shows the Cluster IP and node ports its
/// create will really take when the cluster does not change in between; distinct names
/// still spread over the ranges as kube-apiserver's random picks do.
pub fn allocation_seed(namespace: &str, name: &str) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike std's randomly keyed hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in namespace.bytes().chain([b'/']).chain(name.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The current time at the second, as Kubernetes timestamps are stored.
pub fn now() -> Time {
    let ts = Timestamp::now();
    Time(Timestamp::from_second(ts.as_second()).unwrap_or(ts))
}

/// The store allocations of a plan, as (allocate, release).
fn store_allocations(plan: &AllocationPlan) -> (Vec<Allocation>, Vec<Allocation>) {
    let ips = |v: &[IpAddr]| {
        v.iter()
            .map(|ip| Allocation::new(POOL_SERVICE_IPS, ip.to_string()))
            .collect::<Vec<_>>()
    };
    let ports = |v: &[i32]| {
        v.iter()
            .map(|p| Allocation::new(POOL_NODE_PORTS, p.to_string()))
            .collect::<Vec<_>>()
    };
    let mut allocate = ips(&plan.allocate_ips);
    allocate.extend(ports(&plan.allocate_node_ports));
    let mut release = ips(&plan.release_ips);
    release.extend(ports(&plan.release_node_ports));
    (allocate, release)
}
