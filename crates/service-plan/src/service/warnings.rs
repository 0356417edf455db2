//! `Warning` texts for accepted Services (service-rules.md §11).

use k8s_openapi::api::core::v1::Service;

use super::types::{self, ANNOTATION_TOPOLOGY_AWARE_HINTS, ANNOTATION_TOPOLOGY_MODE};
use crate::field::go_quote;
use crate::format::{cidr_warning, ip_warning};

/// Mirrors `GetWarningsForService` in pkg/api/service/warnings.go.
pub fn warnings_for_service(svc: &Service) -> Vec<String> {
    let mut warnings = Vec::new();
    if svc
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(ANNOTATION_TOPOLOGY_AWARE_HINTS))
    {
        warnings.push(format!(
            "annotation {ANNOTATION_TOPOLOGY_AWARE_HINTS} is deprecated, please use {ANNOTATION_TOPOLOGY_MODE} instead"
        ));
    }
    let Some(spec) = svc.spec.as_ref() else {
        return warnings;
    };
    let cluster_ips = spec.cluster_ips.clone().unwrap_or_default();
    // IsServiceIPSet: a real IP, not "None" and not empty.
    let ip_set = cluster_ips
        .first()
        .is_some_and(|ip| !ip.is_empty() && ip != types::CLUSTER_IP_NONE);
    if ip_set {
        for (i, ip) in cluster_ips.iter().enumerate() {
            warnings.extend(ip_warning(&format!("spec.clusterIPs[{i}]"), ip));
        }
    }
    for (i, ip) in spec.external_ips.iter().flatten().enumerate() {
        warnings.extend(ip_warning(&format!("spec.externalIPs[{i}]"), ip));
    }
    if let Some(ip) = spec.load_balancer_ip.as_deref().filter(|ip| !ip.is_empty()) {
        warnings.extend(ip_warning("spec.loadBalancerIP", ip));
    }
    for (i, cidr) in spec
        .load_balancer_source_ranges
        .iter()
        .flatten()
        .enumerate()
    {
        warnings.extend(cidr_warning(
            &format!("spec.loadBalancerSourceRanges[{i}]"),
            cidr,
        ));
    }
    let type_ = spec.type_.as_deref().unwrap_or("");
    if type_ == types::TYPE_EXTERNAL_NAME
        && spec.external_ips.as_ref().is_some_and(|v| !v.is_empty())
    {
        warnings.push(format!(
            "spec.externalIPs is ignored when spec.type is {}",
            go_quote(types::TYPE_EXTERNAL_NAME)
        ));
    }
    if type_ != types::TYPE_EXTERNAL_NAME
        && spec.external_name.as_deref().is_some_and(|n| !n.is_empty())
    {
        warnings.push(format!(
            "spec.externalName is ignored when spec.type is not {}",
            go_quote(types::TYPE_EXTERNAL_NAME)
        ));
    }
    warnings
}
