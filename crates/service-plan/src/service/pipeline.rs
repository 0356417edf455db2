//! The create, update and delete pipelines for Services, in kube-apiserver's order
//! (service-rules.md §1): defaulting, request checks, normalisation, allocation (with its
//! pre-validation), preparation, validation. Allocation runs before validation, and each
//! step returns on its first failure.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Service, ServiceStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::defaults::{default_on_read, externally_accessible, ip_family_of, set_defaults};
use super::types;
use super::validate::{validate_cluster_ips_related, validate_service, validate_service_update};
use super::warnings::warnings_for_service;
use crate::alloc::{AllocError, Allocated, AllocationPlan, Operation, Pools};
use crate::field::{FieldError, FieldErrors, go_string_slice};
use crate::format::parse_ip_sloppy;

/// Why a request fails, in terms each front door maps to one status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// 400 BadRequest with this message.
    #[error("{0}")]
    BadRequest(String),
    /// 409 Conflict: the resourceVersion in the body is not the stored one.
    #[error("conflict")]
    Conflict,
    /// 422 Invalid for the Service with this name.
    #[error("invalid: {}", .errors.aggregate())]
    Invalid { name: String, errors: FieldErrors },
    /// 500 InternalError with this detail (after `Internal error occurred: `).
    #[error("{0}")]
    Internal(String),
    /// A bare 500 without a reason: a plain error from storage, answered as its text.
    #[error("{0}")]
    Unknown(String),
}

/// What the cluster looks like to one request.
#[derive(Debug, Clone, Copy)]
pub struct ClusterView<'a> {
    pub pools: &'a Pools,
    pub allocated: &'a Allocated,
    /// Drives the random picks of the allocators.
    pub seed: u64,
}

/// Server-chosen values for a new object.
#[derive(Debug, Clone)]
pub struct NewObjectMeta {
    pub uid: String,
    pub now: Time,
    /// Five characters from `GENERATE_NAME_ALPHABET`, used when the body has only `generateName`.
    pub name_suffix: String,
}

/// The alphabet of `generateName` suffixes (apiserver `names.SimpleNameGenerator`).
pub const GENERATE_NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// generateName prefixes are cut to this length before the suffix is added.
const MAX_GENERATED_PREFIX_BYTES: usize = 58;

/// A Service ready to store, with what to allocate and release and the `Warning`s to send.
#[derive(Debug, Clone)]
pub struct Planned {
    pub service: Service,
    pub allocations: AllocationPlan,
    pub warnings: Vec<String>,
}

fn invalid(svc: &Service, errors: Vec<FieldError>) -> PlanError {
    PlanError::Invalid {
        name: svc.metadata.name.clone().unwrap_or_default(),
        errors: FieldErrors(errors),
    }
}

fn spec_type(svc: &Service) -> &str {
    svc.spec
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("")
}

fn cluster_ips(svc: &Service) -> Vec<String> {
    svc.spec
        .as_ref()
        .and_then(|s| s.cluster_ips.clone())
        .unwrap_or_default()
}

fn is_headless(svc: &Service) -> bool {
    cluster_ips(svc)
        .first()
        .is_some_and(|ip| ip == types::CLUSTER_IP_NONE)
}

fn needs_cluster_ip(svc: &Service) -> bool {
    spec_type(svc) != types::TYPE_EXTERNAL_NAME
}

fn needs_node_port(svc: &Service) -> bool {
    matches!(
        spec_type(svc),
        types::TYPE_NODE_PORT | types::TYPE_LOAD_BALANCER
    )
}

/// `service.NeedsHealthCheck`: LoadBalancer with externalTrafficPolicy Local.
pub fn needs_health_check(svc: &Service) -> bool {
    spec_type(svc) == types::TYPE_LOAD_BALANCER
        && svc
            .spec
            .as_ref()
            .and_then(|s| s.external_traffic_policy.as_deref())
            == Some(types::TRAFFIC_POLICY_LOCAL)
}

fn should_allocate_node_ports(svc: &Service) -> bool {
    match spec_type(svc) {
        types::TYPE_NODE_PORT => true,
        types::TYPE_LOAD_BALANCER => svc
            .spec
            .as_ref()
            .and_then(|s| s.allocate_load_balancer_node_ports)
            .unwrap_or(true),
        _ => false,
    }
}

fn node_ports(svc: &Service) -> Vec<i32> {
    let ports = svc.spec.as_ref().and_then(|s| s.ports.as_ref());
    ports
        .into_iter()
        .flatten()
        .filter_map(|p| p.node_port)
        .filter(|n| *n != 0)
        .collect()
}

fn health_check_node_port(svc: &Service) -> i32 {
    svc.spec
        .as_ref()
        .and_then(|s| s.health_check_node_port)
        .unwrap_or(0)
}

/// Builds the name for a `generateName` request (`names.SimpleNameGenerator`).
pub fn generate_name(base: &str, suffix: &str) -> String {
    let mut cut = base.len().min(MAX_GENERATED_PREFIX_BYTES);
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &base[..cut])
}

/// Checks of the create handler that precede everything else: namespace match, server-owned
/// metadata wiped, generateName applied.
fn prepare_create_meta(
    svc: &mut Service,
    namespace: &str,
    meta: &NewObjectMeta,
) -> Result<(), PlanError> {
    match svc.metadata.namespace.as_deref() {
        None | Some("") => svc.metadata.namespace = Some(namespace.to_string()),
        Some(ns) if ns == namespace => {}
        Some(_) => {
            return Err(PlanError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
    }
    let m = &mut svc.metadata;
    m.uid = Some(meta.uid.clone());
    m.creation_timestamp = Some(meta.now.clone());
    m.deletion_timestamp = None;
    m.deletion_grace_period_seconds = None;
    m.self_link = None;
    m.managed_fields = None;
    if m.name.as_deref().unwrap_or("").is_empty()
        && let Some(base) = m.generate_name.as_deref().filter(|g| !g.is_empty())
    {
        m.name = Some(generate_name(base, &meta.name_suffix));
    }
    Ok(())
}

/// Mirrors the create path of kube-apiserver for a Service that was decoded (not yet
/// defaulted) from a request to `namespace`.
pub fn plan_create(
    mut svc: Service,
    namespace: &str,
    meta: &NewObjectMeta,
    cluster: ClusterView<'_>,
) -> Result<Planned, PlanError> {
    set_defaults(&mut svc);
    prepare_create_meta(&mut svc, namespace, meta)?;
    normalize_cluster_ips(&mut svc, None);
    let mut op = Operation::new(cluster.pools, cluster.allocated, cluster.seed);
    init_ip_family_fields(&mut svc, None, cluster.pools)?;
    alloc_cluster_ips(&mut svc, &mut op)?;
    if needs_node_port(&svc) {
        init_node_ports(&mut svc, &mut op)?;
    }
    if needs_health_check(&svc) {
        alloc_health_check_node_port(&mut svc, &mut op)?;
    }
    // PrepareForCreate: any status in the body is discarded.
    svc.status = Some(empty_status());
    let errors = validate_service(&svc);
    if !errors.is_empty() {
        return Err(PlanError::Invalid {
            name: svc.metadata.name.clone().unwrap_or_default(),
            errors,
        });
    }
    // The storage layer only refuses a resourceVersion that parses as a non-zero uint64
    // (`APIObjectVersioner.ObjectResourceVersion`); anything else is dropped and replaced.
    match svc
        .metadata
        .resource_version
        .as_deref()
        .map(parse_resource_version)
    {
        Some(Ok(rv)) if rv != 0 => {
            // etcd3's store refuses it with a plain error, which reaches the client as a 500.
            return Err(PlanError::Unknown(
                "resourceVersion should not be set on objects to be created".into(),
            ));
        }
        Some(_) => svc.metadata.resource_version = None,
        None => {}
    }
    let warnings = warnings_for_service(&svc);
    crate::codec::canonicalize(&mut svc);
    Ok(Planned {
        service: svc,
        allocations: op.finish(),
        warnings,
    })
}

/// Mirrors the update path for a decoded (not yet defaulted) body replacing `stored`,
/// requested at `namespace`/`name`.
pub fn plan_update(
    mut svc: Service,
    stored: &Service,
    namespace: &str,
    name: &str,
    cluster: ClusterView<'_>,
) -> Result<Planned, PlanError> {
    set_defaults(&mut svc);
    check_update_target(&mut svc, namespace, name)?;
    let stored_rv = stored.metadata.resource_version.clone().unwrap_or_default();
    // `Store.Update` compares the parsed numbers; 0 (or none) is an unconditional update.
    match svc
        .metadata
        .resource_version
        .as_deref()
        .map(parse_resource_version)
    {
        None | Some(Ok(0)) => svc.metadata.resource_version = Some(stored_rv),
        Some(Ok(rv)) if parse_resource_version(&stored_rv) == Ok(rv) => {}
        Some(_) => return Err(PlanError::Conflict),
    }
    let mut old = stored.clone();
    default_on_read(&mut old);
    patch_allocated_values(&mut svc, &old);
    normalize_cluster_ips(&mut svc, Some(&old));
    let mut op = Operation::new(cluster.pools, cluster.allocated, cluster.seed);
    init_ip_family_fields(&mut svc, Some(&old), cluster.pools)?;
    update_cluster_ips(&mut svc, &old, &mut op)?;
    update_node_ports(&mut svc, &old, &mut op)?;
    update_health_check_node_port(&mut svc, &old, &mut op)?;
    prepare_for_update(&mut svc, &old);
    let errors = validate_service_update(&svc, &old);
    if !errors.is_empty() {
        return Err(PlanError::Invalid {
            name: svc.metadata.name.clone().unwrap_or_default(),
            errors,
        });
    }
    let warnings = warnings_for_service(&svc);
    crate::codec::canonicalize(&mut svc);
    Ok(Planned {
        service: svc,
        allocations: op.finish(),
        warnings,
    })
}

/// The update handlers' checks of the body against the URL, in apiserver's order
/// (`EnsureObjectNamespaceMatchesRequestNamespace`, then `checkName`): a body namespace
/// other than the URL's is refused with the create path's text, an empty one is filled in.
pub fn check_update_target(
    svc: &mut Service,
    namespace: &str,
    name: &str,
) -> Result<(), PlanError> {
    match svc.metadata.namespace.as_deref() {
        None | Some("") => svc.metadata.namespace = Some(namespace.to_string()),
        Some(ns) if ns == namespace => {}
        Some(_) => {
            return Err(PlanError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
    }
    let body_name = svc.metadata.name.clone().unwrap_or_default();
    if body_name != name {
        return Err(PlanError::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    Ok(())
}

/// Parses a resourceVersion as the storage versioner does (`strconv.ParseUint(rv, 10, 64)`);
/// the error is Go's text. An empty string is 0.
pub fn parse_resource_version(rv: &str) -> Result<u64, String> {
    if rv.is_empty() {
        return Ok(0);
    }
    let quoted = crate::field::go_quote(rv);
    if !rv.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.ParseUint: parsing {quoted}: invalid syntax"
        ));
    }
    rv.parse::<u64>()
        .map_err(|_| format!("strconv.ParseUint: parsing {quoted}: value out of range"))
}

/// What deleting a stored Service releases (`releaseAllocatedResources`).
pub fn plan_delete(stored: &Service, pools: &Pools, allocated: &Allocated) -> AllocationPlan {
    let mut op = Operation::new(pools, allocated, 0);
    if needs_cluster_ip(stored) && !is_headless(stored) {
        for ip in cluster_ips(stored)
            .iter()
            .filter_map(|ip| parse_ip_sloppy(ip))
        {
            op.release_ip(ip);
        }
    }
    for port in node_ports(stored) {
        op.release_port(port);
    }
    if needs_health_check(stored) && health_check_node_port(stored) > 0 {
        op.release_port(health_check_node_port(stored));
    }
    op.finish()
}

/// What a stored Service holds in the pools; used to rebuild or check the allocation table.
pub fn held_allocations(stored: &Service) -> (Vec<IpAddr>, Vec<i32>) {
    let mut ips = Vec::new();
    if needs_cluster_ip(stored) && !is_headless(stored) {
        ips = cluster_ips(stored)
            .iter()
            .filter_map(|ip| parse_ip_sloppy(ip))
            .collect();
    }
    let mut ports = node_ports(stored);
    if needs_health_check(stored) && health_check_node_port(stored) > 0 {
        ports.push(health_check_node_port(stored));
    }
    (ips, ports)
}

fn empty_status() -> ServiceStatus {
    ServiceStatus {
        load_balancer: Some(Default::default()),
        conditions: None,
    }
}

/// Mirrors `normalizeClusterIPs` (service-rules.md §9.1).
fn normalize_cluster_ips(svc: &mut Service, old: Option<&Service>) {
    let spec = svc.spec.get_or_insert_with(Default::default);
    let new_ip = spec.cluster_ip.clone().unwrap_or_default();
    let new_ips = spec.cluster_ips.clone().unwrap_or_default();
    let Some(old) = old else {
        if !new_ip.is_empty() && new_ips.is_empty() {
            spec.cluster_ips = Some(vec![new_ip]);
        }
        return;
    };
    let old_spec = old.spec.clone().unwrap_or_default();
    let old_ip = old_spec.cluster_ip.unwrap_or_default();
    let old_ips = old_spec.cluster_ips.unwrap_or_default();
    if new_ip == old_ip {
        if new_ips.is_empty() && !old_ips.is_empty() {
            spec.cluster_ips = Some(old_ips);
        }
        return;
    }
    // Otherwise (clusterIPs changed as well, or left out while clusterIP changed) the
    // fields stay as given, for validation to judge.
    if new_ips == old_ips {
        if new_ip.is_empty() {
            spec.cluster_ips = None;
        } else {
            spec.cluster_ips = Some(vec![new_ip]);
        }
    }
}

/// Mirrors `patchAllocatedValues` (service-rules.md §9.2).
fn patch_allocated_values(svc: &mut Service, old: &Service) {
    let old_spec = old.spec.clone().unwrap_or_default();
    if needs_cluster_ip(old) && needs_cluster_ip(svc) {
        let spec = svc.spec.get_or_insert_with(Default::default);
        if spec.cluster_ip.as_deref().unwrap_or("").is_empty() {
            spec.cluster_ip = old_spec.cluster_ip.clone();
        }
        if spec.cluster_ips.as_ref().is_none_or(Vec::is_empty)
            && old_spec.cluster_ips.as_ref().is_some_and(|v| !v.is_empty())
        {
            spec.cluster_ips = old_spec.cluster_ips.clone();
        }
    }
    // storage.go's needsNodePort, unlike the strategy's, leaves out a LoadBalancer with
    // allocateLoadBalancerNodePorts false: its nodePorts are not carried over (so they can be
    // removed).
    if should_allocate_node_ports(old) && should_allocate_node_ports(svc) {
        let old_used = node_ports(old);
        let new_used = node_ports(svc);
        let used: Vec<i32> = old_used
            .into_iter()
            .filter(|p| new_used.contains(p))
            .collect();
        let by_name: Vec<(String, i32)> = old_spec
            .ports
            .iter()
            .flatten()
            .map(|p| (p.name.clone().unwrap_or_default(), p.node_port.unwrap_or(0)))
            .collect();
        let spec = svc.spec.get_or_insert_with(Default::default);
        for port in spec.ports.iter_mut().flatten() {
            if port.node_port.unwrap_or(0) == 0 {
                let name = port.name.clone().unwrap_or_default();
                // A Go map keeps the last port of a name.
                let old_val = by_name
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == name)
                    .map_or(0, |(_, v)| *v);
                if !used.contains(&old_val) && old_val != 0 {
                    port.node_port = Some(old_val);
                }
            }
        }
    }
    if needs_health_check(old) && needs_health_check(svc) && health_check_node_port(svc) == 0 {
        let spec = svc.spec.get_or_insert_with(Default::default);
        spec.health_check_node_port = old_spec.health_check_node_port;
    }
}

/// Mirrors `initIPFamilyFields` for a single-stack cluster (service-rules.md §6.1).
fn init_ip_family_fields(
    svc: &mut Service,
    old: Option<&Service>,
    pools: &Pools,
) -> Result<(), PlanError> {
    if spec_type(svc) == types::TYPE_EXTERNAL_NAME {
        return Ok(());
    }
    let cluster_family = pools.service_cidr.family();
    if let Some(old) = old
        && matching_prefer_dual_stack(svc, old)
    {
        return Ok(());
    }
    {
        let selectorless = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .is_none_or(|s| s.is_empty());
        let headless =
            svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some(types::CLUSTER_IP_NONE);
        let old_policy = old
            .and_then(|o| o.spec.as_ref())
            .and_then(|s| s.ip_family_policy.clone());
        let spec = svc.spec.get_or_insert_with(Default::default);
        if spec.ip_family_policy.is_none() {
            spec.ip_family_policy = Some(match old_policy {
                Some(p) => p,
                None if headless && selectorless => {
                    types::IP_FAMILY_POLICY_REQUIRE_DUAL_STACK.into()
                }
                None => types::IP_FAMILY_POLICY_SINGLE_STACK.into(),
            });
        }
    }
    let pre = validate_cluster_ips_related(svc);
    if !pre.is_empty() {
        return Err(PlanError::Invalid {
            name: svc.metadata.name.clone().unwrap_or_default(),
            errors: pre,
        });
    }
    let mut errors = Vec::new();
    let policy = svc
        .spec
        .as_ref()
        .and_then(|s| s.ip_family_policy.clone())
        .unwrap_or_default();
    let policy_value = Some(policy.clone());
    if let Some(old) = old {
        let old_spec = old.spec.clone().unwrap_or_default();
        let spec = svc.spec.get_or_insert_with(Default::default);
        let new_ips = spec.cluster_ips.clone().unwrap_or_default();
        let new_fams = spec.ip_families.clone().unwrap_or_default();
        let old_ips = old_spec.cluster_ips.clone().unwrap_or_default();
        let old_fams = old_spec.ip_families.clone().unwrap_or_default();
        if policy == types::IP_FAMILY_POLICY_SINGLE_STACK {
            if new_ips == old_ips && new_ips.len() > 1 {
                spec.cluster_ips = Some(new_ips[..1].to_vec());
            }
            if new_fams == old_fams && new_fams.len() > 1 {
                spec.ip_families = Some(new_fams[..1].to_vec());
            }
        } else {
            if !new_ips.is_empty() && new_ips.len() < old_ips.len() {
                errors.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    policy_value.clone(),
                    "must be 'SingleStack' to release the secondary cluster IP",
                ));
            }
            if !new_fams.is_empty() && new_fams.len() < old_fams.len() {
                errors.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    policy_value.clone(),
                    "must be 'SingleStack' to release the secondary IP family",
                ));
            }
        }
    }
    let ips = cluster_ips(svc);
    let families_len = svc
        .spec
        .as_ref()
        .and_then(|s| s.ip_families.as_ref())
        .map_or(0, Vec::len);
    if policy == types::IP_FAMILY_POLICY_SINGLE_STACK {
        if ips.len() == 2 {
            errors.push(FieldError::invalid(
                "spec.ipFamilyPolicy",
                policy_value.clone(),
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
            ));
        }
        if families_len == 2 {
            errors.push(FieldError::invalid(
                "spec.ipFamilyPolicy",
                policy_value.clone(),
                "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
            ));
        }
    }
    for (i, ip) in ips.iter().enumerate() {
        if ip == types::CLUSTER_IP_NONE {
            break;
        }
        let family = ip_family_of(ip);
        let spec = svc.spec.get_or_insert_with(Default::default);
        let families = spec.ip_families.get_or_insert_with(Vec::new);
        if i >= families.len() {
            if family != cluster_family {
                errors.push(FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    go_string_slice(&ips),
                    format!("{family} is not configured on this cluster"),
                ));
            } else {
                families.push(family.to_string());
            }
        }
    }
    if !errors.is_empty() {
        return Err(invalid(svc, errors));
    }
    let selectorless = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_none_or(|s| s.is_empty());
    let headless =
        svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some(types::CLUSTER_IP_NONE);
    let spec = svc.spec.get_or_insert_with(Default::default);
    if headless && selectorless {
        let families = spec.ip_families.get_or_insert_with(Vec::new);
        if families.is_empty() {
            families.push(cluster_family.to_string());
        }
        if families.len() < 2 && policy != types::IP_FAMILY_POLICY_SINGLE_STACK {
            let other = if families[0] == types::IP_FAMILY_IPV4 {
                types::IP_FAMILY_IPV6
            } else {
                types::IP_FAMILY_IPV4
            };
            families.push(other.to_string());
        }
        if spec.ip_families.as_ref().is_some_and(Vec::is_empty) {
            spec.ip_families = None;
        }
        return Ok(());
    }
    if policy == types::IP_FAMILY_POLICY_REQUIRE_DUAL_STACK {
        errors.push(FieldError::invalid(
            "spec.ipFamilyPolicy",
            policy_value.clone(),
            "this cluster is not configured for dual-stack services",
        ));
    }
    for (i, family) in spec.ip_families.iter().flatten().enumerate() {
        if family != cluster_family {
            errors.push(FieldError::invalid(
                format!("spec.ipFamilies[{i}]"),
                family.clone(),
                "not configured on this cluster",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(invalid(svc, errors));
    }
    let spec = svc.spec.get_or_insert_with(Default::default);
    if spec.ip_families.as_ref().is_none_or(Vec::is_empty) {
        spec.ip_families = Some(vec![cluster_family.to_string()]);
    }
    Ok(())
}

fn matching_prefer_dual_stack(svc: &Service, old: &Service) -> bool {
    let spec = svc.spec.clone().unwrap_or_default();
    let old_spec = old.spec.clone().unwrap_or_default();
    let Some(policy) = spec.ip_family_policy.as_deref() else {
        return false;
    };
    spec.type_ == old_spec.type_
        && matches!(
            spec.type_.as_deref(),
            Some(types::TYPE_CLUSTER_IP)
                | Some(types::TYPE_NODE_PORT)
                | Some(types::TYPE_LOAD_BALANCER)
        )
        && policy == types::IP_FAMILY_POLICY_PREFER_DUAL_STACK
        && old_spec
            .ip_family_policy
            .as_deref()
            .is_none_or(|p| p == types::IP_FAMILY_POLICY_PREFER_DUAL_STACK)
        && spec.cluster_ips.clone().unwrap_or_default()
            == old_spec.cluster_ips.clone().unwrap_or_default()
        && spec.ip_families.clone().unwrap_or_default()
            == old_spec.ip_families.clone().unwrap_or_default()
}

/// Mirrors `allocClusterIPs`: headless and ExternalName get nothing.
fn alloc_cluster_ips(svc: &mut Service, op: &mut Operation<'_>) -> Result<(), PlanError> {
    if !needs_cluster_ip(svc) || is_headless(svc) {
        return Ok(());
    }
    let spec = svc.spec.get_or_insert_with(Default::default);
    let families = spec.ip_families.clone().unwrap_or_default();
    let mut ips = spec.cluster_ips.clone().unwrap_or_default();
    while ips.len() < families.len() {
        ips.push(String::new());
    }
    let submitted = spec.cluster_ips.clone().unwrap_or_default();
    for slot in ips.iter_mut().take(families.len()) {
        let requested = slot.clone();
        if requested.is_empty() {
            let ip = op
                .allocate_next_ip()
                .map_err(|e| PlanError::Internal(format!("failed to allocate a serviceIP: {e}")))?;
            *slot = ip.to_string();
        } else {
            let Some(parsed) = parse_ip_sloppy(&requested) else {
                return Err(PlanError::Internal(format!(
                    "failed to parse service IP {}",
                    crate::field::go_quote(&requested)
                )));
            };
            if let Err(e) = op.allocate_ip(canonical_ip(parsed)) {
                let name = svc.metadata.name.clone().unwrap_or_default();
                return Err(PlanError::Invalid {
                    name,
                    errors: FieldErrors(vec![FieldError::invalid(
                        "spec.clusterIPs",
                        go_string_slice(&submitted),
                        format!("failed to allocate IP {requested}: {e}"),
                    )]),
                });
            }
        }
    }
    let spec = svc.spec.get_or_insert_with(Default::default);
    spec.cluster_ip = ips.first().cloned();
    spec.cluster_ips = Some(ips);
    Ok(())
}

/// IPv4-mapped IPv6 addresses are IPv4 to the allocator, as Go's `To4` makes them.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn node_port_error(svc: &Service, index: usize, port: i32, e: AllocError) -> PlanError {
    invalid(
        svc,
        vec![FieldError::invalid(
            format!("spec.ports[{index}].nodePort"),
            port,
            e.to_string(),
        )],
    )
}

/// Mirrors `initNodePorts`: ports sharing a port number share a node port.
fn init_node_ports(svc: &mut Service, op: &mut Operation<'_>) -> Result<(), PlanError> {
    let allocate = should_allocate_node_ports(svc);
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let mut by_port: Vec<(i32, i32)> = Vec::new();
    let mut assigned: Vec<Option<i32>> = ports.iter().map(|p| p.node_port).collect();
    for (i, port) in ports.iter().enumerate() {
        let node_port = assigned[i].unwrap_or(0);
        if node_port == 0 && !allocate {
            continue;
        }
        let known = by_port
            .iter()
            .find(|(p, _)| *p == port.port)
            .map(|(_, np)| *np);
        match known {
            None => {
                let requested = ports
                    .iter()
                    .find(|p| p.port == port.port && p.node_port.unwrap_or(0) != 0)
                    .and_then(|p| p.node_port);
                let np = match requested {
                    Some(np) => {
                        op.allocate_port(np)
                            .map_err(|e| node_port_error(svc, i, np, e))?;
                        np
                    }
                    None => op.allocate_next_port().map_err(|e| {
                        PlanError::Internal(format!("failed to allocate a nodePort: {e}"))
                    })?,
                };
                assigned[i] = Some(np);
                by_port.push((port.port, np));
            }
            Some(np) if node_port != np => {
                if node_port == 0 {
                    assigned[i] = Some(np);
                } else {
                    op.allocate_port(node_port)
                        .map_err(|e| node_port_error(svc, i, node_port, e))?;
                }
            }
            Some(_) => {}
        }
    }
    set_node_ports(svc, &assigned);
    Ok(())
}

fn set_node_ports(svc: &mut Service, assigned: &[Option<i32>]) {
    let spec = svc.spec.get_or_insert_with(Default::default);
    for (port, np) in spec.ports.iter_mut().flatten().zip(assigned) {
        port.node_port = *np;
    }
}

/// Mirrors `allocHealthCheckNodePort`; failures are internal errors (500), as upstream.
fn alloc_health_check_node_port(
    svc: &mut Service,
    op: &mut Operation<'_>,
) -> Result<(), PlanError> {
    let requested = health_check_node_port(svc);
    if requested != 0 {
        op.allocate_port(requested).map_err(|e| {
            PlanError::Internal(format!(
                "failed to allocate requested HealthCheck NodePort {requested}: {e}"
            ))
        })?;
    } else {
        let port = op.allocate_next_port().map_err(|e| {
            PlanError::Internal(format!("failed to allocate a HealthCheck NodePort 0: {e}"))
        })?;
        svc.spec
            .get_or_insert_with(Default::default)
            .health_check_node_port = Some(port);
    }
    Ok(())
}

/// Mirrors `updateClusterIPs` for a single-stack cluster.
fn update_cluster_ips(
    svc: &mut Service,
    old: &Service,
    op: &mut Operation<'_>,
) -> Result<(), PlanError> {
    if matching_prefer_dual_stack(svc, old) {
        return Ok(());
    }
    if !needs_cluster_ip(old) && needs_cluster_ip(svc) {
        return alloc_cluster_ips(svc, op);
    }
    if is_headless(old) {
        return Ok(());
    }
    if needs_cluster_ip(old) && !needs_cluster_ip(svc) {
        for ip in cluster_ips(old).iter().filter_map(|ip| parse_ip_sloppy(ip)) {
            op.release_ip(canonical_ip(ip));
        }
    }
    Ok(())
}

/// Mirrors `txnUpdateNodePorts` / `updateNodePorts`.
fn update_node_ports(
    svc: &mut Service,
    old: &Service,
    op: &mut Operation<'_>,
) -> Result<(), PlanError> {
    if needs_node_port(old)
        && matches!(
            spec_type(svc),
            types::TYPE_EXTERNAL_NAME | types::TYPE_CLUSTER_IP
        )
    {
        for port in node_ports(old) {
            op.release_port(port);
        }
    }
    if !needs_node_port(svc) {
        return Ok(());
    }
    let old_ports = node_ports(old);
    let allocate = should_allocate_node_ports(svc);
    let ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.clone())
        .unwrap_or_default();
    let mut assigned: Vec<Option<i32>> = ports.iter().map(|p| p.node_port).collect();
    let mut taken_here: Vec<i32> = Vec::new();
    let mut seen: Vec<(String, i32)> = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let np = assigned[i].unwrap_or(0);
        if np == 0 && !allocate {
            continue;
        }
        let np = if np != 0 {
            if !old_ports.contains(&np) && !taken_here.contains(&np) {
                op.allocate_port(np)
                    .map_err(|e| node_port_error(svc, i, np, e))?;
                taken_here.push(np);
            }
            np
        } else {
            let np = op
                .allocate_next_port()
                .map_err(|e| PlanError::Internal(format!("failed to allocate a nodePort: {e}")))?;
            assigned[i] = Some(np);
            np
        };
        let protocol = port.protocol.clone().unwrap_or_default();
        if seen.contains(&(protocol.clone(), np)) {
            return Err(PlanError::Internal(format!(
                "duplicate nodePort: {{{protocol} {np}}}"
            )));
        }
        seen.push((protocol, np));
    }
    set_node_ports(svc, &assigned);
    let new_ports = node_ports(svc);
    for port in old_ports {
        if !new_ports.contains(&port) {
            op.release_port(port);
        }
    }
    Ok(())
}

/// Mirrors `updateHealthCheckNodePort`.
fn update_health_check_node_port(
    svc: &mut Service,
    old: &Service,
    op: &mut Operation<'_>,
) -> Result<(), PlanError> {
    match (needs_health_check(old), needs_health_check(svc)) {
        (false, true) => alloc_health_check_node_port(svc, op),
        (true, false) => {
            op.release_port(health_check_node_port(old));
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Mirrors `PrepareForUpdate` and the generic `BeforeUpdate`: status and server-owned
/// metadata come from storage, fields of the old type are dropped (§9.3).
fn prepare_for_update(svc: &mut Service, old: &Service) {
    svc.status = old.status.clone().or_else(|| Some(empty_status()));
    keep_server_metadata(&mut svc.metadata, &old.metadata);
    drop_type_dependent_fields(svc, old);
}

/// Mirrors the status strategy's `PrepareForUpdate` with the generic `BeforeUpdate`: the
/// spec and server-owned metadata come from storage, so only the status changes.
pub fn prepare_for_status_update(mut new: Service, old: &Service, namespace: &str) -> Service {
    new.spec = old.spec.clone();
    let m = &mut new.metadata;
    if m.namespace.as_deref().unwrap_or("").is_empty() {
        m.namespace = Some(namespace.to_string());
    }
    m.resource_version = old.metadata.resource_version.clone();
    m.self_link = old.metadata.self_link.clone();
    keep_server_metadata(m, &old.metadata);
    new
}

/// The metadata an update never sets: generation, uid (unless given), creation and deletion
/// times, and managedFields (which the registry records itself).
fn keep_server_metadata(m: &mut ObjectMeta, old: &ObjectMeta) {
    m.generation = old.generation;
    if m.uid.as_deref().unwrap_or("").is_empty() {
        m.uid = old.uid.clone();
    }
    if old.creation_timestamp.is_some() {
        m.creation_timestamp = old.creation_timestamp.clone();
    }
    if old.deletion_timestamp.is_some() {
        m.deletion_timestamp = old.deletion_timestamp.clone();
    }
    if old.deletion_grace_period_seconds.is_some() && m.deletion_grace_period_seconds.is_none() {
        m.deletion_grace_period_seconds = old.deletion_grace_period_seconds;
    }
    m.managed_fields = old.managed_fields.clone();
}

/// Mirrors `dropTypeDependentFields` in pkg/registry/core/service/strategy.go.
fn drop_type_dependent_fields(svc: &mut Service, old: &Service) {
    let old_spec = old.spec.clone().unwrap_or_default();
    let was_accessible = externally_accessible(old);
    let now_accessible = externally_accessible(svc);
    let old_needs_np = needs_node_port(old);
    let new_needs_np = needs_node_port(svc);
    let same_node_ports = node_ports(svc).iter().all(|p| node_ports(old).contains(p));
    let old_hc = needs_health_check(old);
    let new_hc = needs_health_check(svc);
    let old_needs_ip = needs_cluster_ip(old);
    let new_needs_ip = needs_cluster_ip(svc);
    let old_is_lb = spec_type(old) == types::TYPE_LOAD_BALANCER;
    let new_is_lb = spec_type(svc) == types::TYPE_LOAD_BALANCER;
    let spec = svc.spec.get_or_insert_with(Default::default);
    if old_needs_ip && !new_needs_ip {
        if spec.cluster_ips.clone().unwrap_or_default()
            == old_spec.cluster_ips.clone().unwrap_or_default()
        {
            spec.cluster_ip = None;
            spec.cluster_ips = None;
        }
        if spec.ip_families.clone().unwrap_or_default()
            == old_spec.ip_families.clone().unwrap_or_default()
        {
            spec.ip_families = None;
        }
        if spec.ip_family_policy == old_spec.ip_family_policy {
            spec.ip_family_policy = None;
        }
    }
    if old_needs_np && !new_needs_np && same_node_ports {
        for port in spec.ports.iter_mut().flatten() {
            port.node_port = None;
        }
    }
    if old_hc
        && !new_hc
        && spec.health_check_node_port.unwrap_or(0) == old_spec.health_check_node_port.unwrap_or(0)
    {
        spec.health_check_node_port = None;
    }
    if old_is_lb && !new_is_lb {
        if let (Some(a), Some(b)) = (
            spec.allocate_load_balancer_node_ports,
            old_spec.allocate_load_balancer_node_ports,
        ) && a == b
        {
            spec.allocate_load_balancer_node_ports = None;
        }
        if spec.load_balancer_class == old_spec.load_balancer_class {
            spec.load_balancer_class = None;
        }
    }
    if was_accessible
        && !now_accessible
        && spec.external_traffic_policy == old_spec.external_traffic_policy
    {
        spec.external_traffic_policy = None;
    }
    if !new_is_lb && let Some(status) = svc.status.as_mut() {
        status.load_balancer = Some(Default::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::{PortRange, ServiceCidr};
    use crate::status::{Resource, Status};
    use k8s_openapi::jiff::Timestamp;
    use serde_json::{Value, json};

    fn pools() -> Pools {
        Pools {
            service_cidr: ServiceCidr::parse("10.96.0.0/12").unwrap(),
            node_ports: PortRange::DEFAULT,
        }
    }

    fn kube_allocated() -> Allocated {
        let mut a = Allocated::default();
        a.insert_ip("10.96.0.1".parse().unwrap());
        a
    }

    fn meta() -> NewObjectMeta {
        NewObjectMeta {
            uid: "uid-1".into(),
            now: Time(Timestamp::UNIX_EPOCH),
            name_suffix: "bcdfg".into(),
        }
    }

    fn svc(v: Value) -> Service {
        crate::codec::decode_service(&v).unwrap().object
    }

    fn web(spec: Value) -> Service {
        svc(json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":spec}))
    }

    fn create(s: Service, allocated: &Allocated) -> Result<Planned, PlanError> {
        plan_create(
            s,
            "default",
            &meta(),
            ClusterView {
                pools: &pools(),
                allocated,
                seed: 9,
            },
        )
    }

    /// The Status message kube-apiserver would answer with.
    fn message(e: PlanError) -> String {
        match e {
            PlanError::Invalid { name, errors } => {
                Status::invalid(Resource::SERVICES, &name, &errors).message
            }
            PlanError::Internal(d) => Status::internal(d).message,
            PlanError::Unknown(m) => m,
            PlanError::BadRequest(m) => m,
            PlanError::Conflict => "conflict".into(),
        }
    }

    fn create_err(spec: Value) -> String {
        message(create(web(spec), &kube_allocated()).unwrap_err())
    }

    fn create_meta_err(metadata: Value) -> Result<Planned, PlanError> {
        let body = json!({"apiVersion":"v1","kind":"Service","metadata":metadata,"spec":{"ports":[{"port":80}]}});
        create(svc(body), &kube_allocated())
    }

    #[test]
    fn create_keeps_the_generation_so_a_negative_one_is_invalid() {
        // Neither the generic store nor the Service strategy touch generation on create.
        let e = create_meta_err(json!({"name":"web","generation":-3})).unwrap_err();
        assert_eq!(
            message(e),
            "Service \"web\" is invalid: metadata.generation: Invalid value: -3: must be greater than or equal to 0"
        );
        let planned = create_meta_err(json!({"name":"web","generation":4})).unwrap();
        assert_eq!(planned.service.metadata.generation, Some(4));
    }

    #[test]
    fn create_refuses_only_a_resource_version_that_parses_as_non_zero() {
        for rv in ["5", "007", "18446744073709551615"] {
            let e = create_meta_err(json!({"name":"web","resourceVersion":rv})).unwrap_err();
            assert_eq!(
                message(e),
                "resourceVersion should not be set on objects to be created",
                "{rv}"
            );
        }
        for rv in ["0", "abc", "-1", "+5", "18446744073709551616"] {
            let planned = create_meta_err(json!({"name":"web","resourceVersion":rv})).unwrap();
            assert_eq!(planned.service.metadata.resource_version, None, "{rv}");
        }
    }

    #[test]
    fn example_4_node_port_out_of_range() {
        assert_eq!(
            create_err(json!({"type":"NodePort","ports":[{"port":80,"nodePort":80}]})),
            "Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
        );
    }

    #[test]
    fn example_5_node_port_taken() {
        let mut used = kube_allocated();
        used.insert_port(30080);
        let e = create(
            web(json!({"type":"NodePort","ports":[{"port":80,"nodePort":30080}]})),
            &used,
        )
        .unwrap_err();
        assert_eq!(
            message(e),
            "Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
        );
    }

    #[test]
    fn example_11_cluster_ip_out_of_range() {
        assert_eq!(
            create_err(json!({"clusterIP":"192.168.1.10","ports":[{"port":80}]})),
            "Service \"web\" is invalid: spec.clusterIPs: Invalid value: []string{\"192.168.1.10\"}: failed to allocate IP 192.168.1.10: the provided IP (192.168.1.10) is not in the valid range. The range of valid IPs is 10.96.0.0/12"
        );
    }

    #[test]
    fn example_12_cluster_ip_of_the_kubernetes_service() {
        assert_eq!(
            create_err(json!({"clusterIP":"10.96.0.1","ports":[{"port":80}]})),
            "Service \"web\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.1\"}: failed to allocate IP 10.96.0.1: provided IP is already allocated"
        );
    }

    #[test]
    fn example_21_health_check_port_out_of_range_is_internal() {
        assert_eq!(
            create_err(
                json!({"type":"LoadBalancer","externalTrafficPolicy":"Local","healthCheckNodePort":80,"ports":[{"port":80}]})
            ),
            "Internal error occurred: failed to allocate requested HealthCheck NodePort 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
        );
    }

    #[test]
    fn allocation_errors_come_before_validation_errors() {
        // A bad port name would be a validation error; the taken IP wins.
        assert_eq!(
            create_err(json!({"clusterIP":"10.96.0.1","ports":[{"name":"Bad","port":80}]})),
            "Service \"web\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.1\"}: failed to allocate IP 10.96.0.1: provided IP is already allocated"
        );
    }

    #[test]
    fn two_port_numbers_asking_for_one_node_port_fail_on_the_second() {
        assert_eq!(
            create_err(
                json!({"type":"NodePort","ports":[{"name":"a","port":80,"nodePort":30080},{"name":"b","port":81,"protocol":"UDP","nodePort":30080}]})
            ),
            "Service \"web\" is invalid: spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated"
        );
    }

    #[test]
    fn tcp_and_udp_of_one_port_share_a_node_port() {
        let p = create(
            web(json!({"type":"NodePort","ports":[{"name":"a","port":53},{"name":"b","port":53,"protocol":"UDP"}]})),
            &kube_allocated(),
        )
        .unwrap();
        let ports = p.service.spec.unwrap().ports.unwrap();
        assert_eq!(ports[0].node_port, ports[1].node_port);
        assert_eq!(p.allocations.allocate_node_ports.len(), 1);
    }

    #[test]
    fn created_load_balancer_is_fully_allocated_and_defaulted() {
        let p = create(
            web(json!({"type":"LoadBalancer","externalTrafficPolicy":"Local","selector":{"app":"nginx"},"ports":[{"port":80}],"status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}}})),
            &kube_allocated(),
        )
        .unwrap();
        let spec = p.service.spec.clone().unwrap();
        let ip = spec.cluster_ip.clone().unwrap();
        assert_eq!(spec.cluster_ips.clone().unwrap(), vec![ip.clone()]);
        assert_eq!(spec.ip_families.clone().unwrap(), vec!["IPv4".to_string()]);
        assert_eq!(spec.ip_family_policy.as_deref(), Some("SingleStack"));
        let np = spec.ports.clone().unwrap()[0].node_port.unwrap();
        let hc = spec.health_check_node_port.unwrap();
        assert!(PortRange::DEFAULT.contains(np) && PortRange::DEFAULT.contains(hc) && np != hc);
        assert_eq!(
            p.allocations.allocate_ips,
            vec![ip.parse::<IpAddr>().unwrap()]
        );
        assert_eq!(p.allocations.allocate_node_ports.len(), 2);
        // Status in a create body is discarded.
        assert_eq!(
            serde_json::to_value(&p.service.status).unwrap(),
            json!({"loadBalancer":{}})
        );
        assert_eq!(p.service.metadata.uid.as_deref(), Some("uid-1"));
        assert_eq!(p.service.metadata.namespace.as_deref(), Some("default"));
    }

    #[test]
    fn headless_selectorless_gets_dual_stack_families_and_no_ip() {
        let p = create(web(json!({"clusterIP":"None"})), &kube_allocated()).unwrap();
        let spec = p.service.spec.unwrap();
        assert_eq!(spec.ip_family_policy.as_deref(), Some("RequireDualStack"));
        assert_eq!(
            spec.ip_families.unwrap(),
            vec!["IPv4".to_string(), "IPv6".to_string()]
        );
        assert_eq!(spec.cluster_ips.unwrap(), vec!["None".to_string()]);
        assert!(p.allocations.is_empty());
    }

    #[test]
    fn require_dual_stack_on_single_stack_cluster_is_invalid() {
        assert_eq!(
            create_err(json!({"ipFamilyPolicy":"RequireDualStack","ports":[{"port":80}]})),
            "Service \"web\" is invalid: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"
        );
    }

    #[test]
    fn ipv6_cluster_ip_on_ipv4_cluster_is_not_configured() {
        assert_eq!(
            create_err(json!({"clusterIP":"fd00::10","ports":[{"port":80}]})),
            "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"fd00::10\"}: IPv6 is not configured on this cluster"
        );
    }

    #[test]
    fn generate_name_appends_the_suffix_before_validation() {
        let s = svc(json!({"metadata":{"generateName":"web-"},"spec":{"ports":[{"port":80}]}}));
        let p = create(s, &kube_allocated()).unwrap();
        assert_eq!(p.service.metadata.name.as_deref(), Some("web-bcdfg"));
    }

    #[test]
    fn namespace_mismatch_is_a_bad_request() {
        let s = svc(
            json!({"metadata":{"name":"web","namespace":"other"},"spec":{"ports":[{"port":80}]}}),
        );
        assert_eq!(
            message(create(s, &kube_allocated()).unwrap_err()),
            "the namespace of the provided object does not match the namespace sent on the request"
        );
    }

    fn stored(spec: Value) -> (Service, Allocated) {
        let mut used = kube_allocated();
        let p = create(web(spec), &used).unwrap();
        for ip in &p.allocations.allocate_ips {
            used.insert_ip(*ip);
        }
        for port in &p.allocations.allocate_node_ports {
            used.insert_port(*port);
        }
        let mut s = p.service;
        s.metadata.resource_version = Some("7".into());
        (s, used)
    }

    fn update(new: Service, old: &Service, used: &Allocated) -> Result<Planned, PlanError> {
        plan_update(
            new,
            old,
            "default",
            "web",
            ClusterView {
                pools: &pools(),
                allocated: used,
                seed: 3,
            },
        )
    }

    #[test]
    fn reapplying_the_original_manifest_keeps_allocations() {
        let manifest = json!({"type":"NodePort","ports":[{"name":"http","port":80}]});
        let (old, used) = stored(manifest.clone());
        let p = update(web(manifest), &old, &used).unwrap();
        assert_eq!(p.service, old);
        assert!(p.allocations.is_empty());
    }

    #[test]
    fn example_13_changing_the_cluster_ip_is_invalid() {
        let (old, used) = stored(json!({"clusterIP":"10.96.0.10","ports":[{"port":80}]}));
        let e = update(
            web(json!({"clusterIP":"10.96.0.99","ports":[{"port":80}]})),
            &old,
            &used,
        )
        .unwrap_err();
        assert_eq!(
            message(e),
            "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.99\"}: may not change once set"
        );
    }

    #[test]
    fn node_port_to_cluster_ip_releases_and_drops_node_ports() {
        let (old, used) = stored(json!({"type":"NodePort","ports":[{"port":80}]}));
        let mut body = serde_json::to_value(&old).unwrap();
        body["spec"]["type"] = json!("ClusterIP");
        let p = update(svc(body), &old, &used).unwrap();
        let spec = p.service.spec.clone().unwrap();
        assert_eq!(spec.ports.unwrap()[0].node_port, None);
        assert_eq!(spec.external_traffic_policy, None);
        assert_eq!(p.allocations.release_node_ports, node_ports(&old));
    }

    #[test]
    fn node_port_to_cluster_ip_with_a_new_node_port_is_forbidden() {
        let (old, used) = stored(json!({"type":"NodePort","ports":[{"port":80}]}));
        let mut body = serde_json::to_value(&old).unwrap();
        body["spec"]["type"] = json!("ClusterIP");
        body["spec"]["ports"][0]["nodePort"] = json!(30999);
        body["spec"]["externalTrafficPolicy"] = Value::Null;
        let e = update(svc(body), &old, &used).unwrap_err();
        assert_eq!(
            message(e),
            "Service \"web\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
        );
    }

    #[test]
    fn stale_resource_version_is_a_conflict() {
        let (old, used) = stored(json!({"ports":[{"port":80}]}));
        let mut body = serde_json::to_value(&old).unwrap();
        body["metadata"]["resourceVersion"] = json!("6");
        assert_eq!(
            update(svc(body), &old, &used).unwrap_err(),
            PlanError::Conflict
        );
    }

    #[test]
    fn load_balancer_without_node_port_allocation_does_not_keep_omitted_node_ports() {
        // storage.go's needsNodePort: with allocateLoadBalancerNodePorts false an omitted
        // nodePort is not carried over, so it is dropped and released.
        let manifest = json!({"type":"LoadBalancer","allocateLoadBalancerNodePorts":false,
            "ports":[{"name":"http","port":80}]});
        let mut with_port = manifest.clone();
        with_port["ports"][0]["nodePort"] = json!(30100);
        let (old, used) = stored(with_port);
        assert_eq!(node_ports(&old), vec![30100]);
        let p = update(web(manifest), &old, &used).unwrap();
        assert_eq!(p.service.spec.unwrap().ports.unwrap()[0].node_port, None);
        assert_eq!(p.allocations.release_node_ports, vec![30100]);
    }

    #[test]
    fn node_port_service_keeps_omitted_node_ports_by_name() {
        let (old, used) = stored(
            json!({"type":"NodePort","ports":[{"name":"a","port":80},{"name":"b","port":81}]}),
        );
        let old_ports = old.spec.clone().unwrap().ports.unwrap();
        // Renamed ports swap order: each keeps the nodePort of its name.
        let body = web(
            json!({"type":"NodePort","ports":[{"name":"b","port":8081},{"name":"a","port":8080}]}),
        );
        let p = update(body, &old, &used).unwrap();
        let ports = p.service.spec.unwrap().ports.unwrap();
        assert_eq!(ports[0].node_port, old_ports[1].node_port);
        assert_eq!(ports[1].node_port, old_ports[0].node_port);
        assert!(p.allocations.is_empty());
    }

    #[test]
    fn update_body_namespace_mismatch_is_checked_before_the_name() {
        let (old, used) = stored(json!({"ports":[{"port":80}]}));
        let body = svc(
            json!({"metadata":{"name":"other","namespace":"kube-system"},"spec":{"ports":[{"port":80}]}}),
        );
        assert_eq!(
            message(update(body, &old, &used).unwrap_err()),
            "the namespace of the provided object does not match the namespace sent on the request"
        );
        let body = svc(
            json!({"metadata":{"name":"other","namespace":"default"},"spec":{"ports":[{"port":80}]}}),
        );
        assert_eq!(
            message(update(body, &old, &used).unwrap_err()),
            "the name of the object (other) does not match the name on the URL (web)"
        );
    }

    #[test]
    fn resource_versions_compare_as_numbers_and_zero_is_unconditional() {
        let (old, used) = stored(json!({"ports":[{"port":80}]}));
        let mut body = serde_json::to_value(&old).unwrap();
        for rv in ["0", "007"] {
            body["metadata"]["resourceVersion"] = json!(rv);
            let p = update(svc(body.clone()), &old, &used).unwrap();
            assert_eq!(
                p.service.metadata.resource_version.as_deref(),
                Some(if rv == "0" { "7" } else { "007" })
            );
        }
        body["metadata"]["resourceVersion"] = json!("8");
        assert_eq!(
            update(svc(body), &old, &used).unwrap_err(),
            PlanError::Conflict
        );
        assert_eq!(
            parse_resource_version("abc"),
            Err("strconv.ParseUint: parsing \"abc\": invalid syntax".to_string())
        );
        assert_eq!(
            parse_resource_version("+7"),
            Err("strconv.ParseUint: parsing \"+7\": invalid syntax".to_string())
        );
        assert_eq!(
            parse_resource_version("18446744073709551616"),
            Err(
                "strconv.ParseUint: parsing \"18446744073709551616\": value out of range"
                    .to_string()
            )
        );
    }

    #[test]
    fn to_external_name_with_a_changed_cluster_ip_and_no_cluster_ips_keeps_the_cluster_ip() {
        // normalizeClusterIPs leaves clusterIPs empty here (they are not the stored ones), so
        // ExternalName's "clusterIPs may not be set" does not fire and the IP is kept as given.
        let (old, used) = stored(json!({"clusterIP":"10.96.0.10","ports":[{"port":80}]}));
        let body = web(
            json!({"type":"ExternalName","externalName":"db.example.com","clusterIP":"10.96.0.5","ports":[{"port":80}]}),
        );
        let p = update(body, &old, &used).unwrap();
        let spec = p.service.spec.unwrap();
        assert_eq!(spec.cluster_ip.as_deref(), Some("10.96.0.5"));
        assert_eq!(spec.cluster_ips, None);
        assert_eq!(spec.ip_families, None);
        assert_eq!(spec.ip_family_policy, None);
        assert_eq!(
            p.allocations.release_ips,
            vec!["10.96.0.10".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn switching_to_or_from_headless_may_not_change_the_cluster_ip() {
        let (old, used) =
            stored(json!({"clusterIP":"10.96.0.10","selector":{"app":"a"},"ports":[{"port":80}]}));
        let e = update(
            web(json!({"clusterIP":"None","selector":{"app":"a"},"ports":[{"port":80}]})),
            &old,
            &used,
        );
        assert_eq!(
            message(e.unwrap_err()),
            "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"None\"}: may not change once set"
        );
        let (old, used) =
            stored(json!({"clusterIP":"None","selector":{"app":"a"},"ports":[{"port":80}]}));
        let e = update(
            web(json!({"clusterIP":"10.96.0.10","selector":{"app":"a"},"ports":[{"port":80}]})),
            &old,
            &used,
        );
        assert_eq!(
            message(e.unwrap_err()),
            "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.10\"}: may not change once set"
        );
    }

    #[test]
    fn health_check_node_port_follows_the_traffic_policy() {
        let lb =
            json!({"type":"LoadBalancer","externalTrafficPolicy":"Local","ports":[{"port":80}]});
        let (old, used) = stored(lb);
        let hc = health_check_node_port(&old);
        // LB+Local -> LB+Cluster with the stored value: released and wiped.
        let mut body = serde_json::to_value(&old).unwrap();
        body["spec"]["externalTrafficPolicy"] = json!("Cluster");
        let p = update(svc(body.clone()), &old, &used).unwrap();
        assert_eq!(
            p.service.spec.as_ref().unwrap().health_check_node_port,
            None
        );
        assert_eq!(p.allocations.release_node_ports, vec![hc]);
        // LB+Local with another value: immutable.
        body["spec"]["externalTrafficPolicy"] = json!("Local");
        body["spec"]["healthCheckNodePort"] = json!(80);
        assert_eq!(
            message(update(svc(body), &old, &used).unwrap_err()),
            "Service \"web\" is invalid: spec.healthCheckNodePort: Forbidden: field is immutable"
        );
        // LB+Cluster -> LB+Local: allocated; an out-of-range request is a 500.
        let (old, used) = stored(json!({"type":"LoadBalancer","ports":[{"port":80}]}));
        let mut body = serde_json::to_value(&old).unwrap();
        body["spec"]["externalTrafficPolicy"] = json!("Local");
        let p = update(svc(body.clone()), &old, &used).unwrap();
        assert!(PortRange::DEFAULT.contains(health_check_node_port(&p.service)));
        body["spec"]["healthCheckNodePort"] = json!(80);
        assert_eq!(
            message(update(svc(body), &old, &used).unwrap_err()),
            "Internal error occurred: failed to allocate requested HealthCheck NodePort 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
        );
    }

    #[test]
    fn load_balancer_to_cluster_ip_with_a_flipped_allocate_flag_is_forbidden() {
        let (old, used) =
            stored(json!({"type":"LoadBalancer","loadBalancerClass":"x/y","ports":[{"port":80}]}));
        let mut body = serde_json::to_value(&old).unwrap();
        body["spec"]["type"] = json!("ClusterIP");
        let p = update(svc(body.clone()), &old, &used).unwrap();
        let spec = p.service.spec.clone().unwrap();
        assert_eq!(
            (
                spec.allocate_load_balancer_node_ports,
                spec.load_balancer_class
            ),
            (None, None)
        );
        assert_eq!(p.allocations.release_node_ports, node_ports(&old));
        body["spec"]["allocateLoadBalancerNodePorts"] = json!(false);
        assert_eq!(
            message(update(svc(body), &old, &used).unwrap_err()),
            "Service \"web\" is invalid: spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"
        );
    }

    #[test]
    fn external_name_and_back_releases_and_allocates_ips() {
        let (old, used) = stored(json!({"clusterIP":"10.96.0.10","ports":[{"port":80}]}));
        let mut body = serde_json::to_value(&old).unwrap();
        body["spec"]["type"] = json!("ExternalName");
        body["spec"]["externalName"] = json!("db.example.com");
        let p = update(svc(body), &old, &used).unwrap();
        let spec = p.service.spec.clone().unwrap();
        assert_eq!(
            (spec.cluster_ip, spec.cluster_ips, spec.ip_families),
            (None, None, None)
        );
        assert_eq!(
            p.allocations.release_ips,
            vec!["10.96.0.10".parse::<IpAddr>().unwrap()]
        );
        let mut ext = p.service;
        ext.metadata.resource_version = Some("8".into());
        let p = update(web(json!({"ports":[{"port":80}]})), &ext, &used).unwrap();
        assert_eq!(p.allocations.allocate_ips.len(), 1);
        assert_eq!(
            p.service.spec.unwrap().ip_family_policy.as_deref(),
            Some("SingleStack")
        );
    }

    #[test]
    fn delete_releases_ip_node_ports_and_health_check_port() {
        let (old, used) = stored(
            json!({"type":"LoadBalancer","externalTrafficPolicy":"Local","ports":[{"port":80}]}),
        );
        let plan = plan_delete(&old, &pools(), &used);
        assert_eq!(plan.release_ips.len(), 1);
        assert_eq!(plan.release_node_ports.len(), 2);
    }
}
