//! Service validation exactly as kube-apiserver v1.32 applies it: `ValidateService`,
//! `ValidateServiceUpdate` and `ValidateServiceStatusUpdate` in `pkg/apis/core/validation`.
//!
//! The input has already been defaulted and had allocation applied; every rule is still
//! implemented, including those that defaulting makes unreachable, so the texts stay exact.

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec, SessionAffinityConfig};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::types::*;
use crate::field::{FieldError, FieldErrors, Raw, go_quote, go_string_slice, go_typed_slice};
use crate::format;
use crate::meta;

const METADATA: &str = "metadata";

fn s(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

fn spec_of(svc: &Service) -> std::borrow::Cow<'_, ServiceSpec> {
    match &svc.spec {
        Some(spec) => std::borrow::Cow::Borrowed(spec),
        None => std::borrow::Cow::Owned(ServiceSpec::default()),
    }
}

fn cluster_ips(spec: &ServiceSpec) -> &[String] {
    spec.cluster_ips.as_deref().unwrap_or_default()
}

fn ports(spec: &ServiceSpec) -> &[ServicePort] {
    spec.ports.as_deref().unwrap_or_default()
}

/// A `[]string` field as Go prints it: `[]string(nil)` when absent, `[]string{}` when empty.
fn go_list(v: &Option<Vec<String>>) -> Raw {
    match v {
        Some(list) if list.is_empty() => Raw("[]string{}".to_string()),
        Some(list) => go_string_slice(list),
        None => go_string_slice(&[]),
    }
}

/// A `[]core.IPFamily` field as Go prints it.
fn go_families(v: &Option<Vec<String>>) -> Raw {
    match v {
        Some(list) if list.is_empty() => Raw("[]core.IPFamily{}".to_string()),
        Some(list) => go_typed_slice("core.IPFamily", list),
        None => go_typed_slice("core.IPFamily", &[]),
    }
}

/// Mirrors `isHeadlessService`: exactly one cluster IP and it is `None`.
fn is_headless(spec: &ServiceSpec) -> bool {
    matches!(cluster_ips(spec), [only] if only == CLUSTER_IP_NONE)
}

/// Mirrors `ExternallyAccessible` in `pkg/api/service`.
fn externally_accessible(spec: &ServiceSpec) -> bool {
    let t = s(&spec.type_);
    t == TYPE_LOAD_BALANCER
        || t == TYPE_NODE_PORT
        || (t == TYPE_CLUSTER_IP && !spec.external_ips.as_deref().unwrap_or_default().is_empty())
}

/// Mirrors `NeedsHealthCheck` in `pkg/api/service`: LoadBalancer with externalTrafficPolicy Local.
fn needs_health_check(spec: &ServiceSpec) -> bool {
    s(&spec.type_) == TYPE_LOAD_BALANCER && s(&spec.external_traffic_policy) == TRAFFIC_POLICY_LOCAL
}

/// The key of the duplicate-port check printed as Go's `%#v` of a `core.ServicePort`.
fn go_service_port_key(protocol: &str, port: i32) -> Raw {
    Raw(format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        go_quote(protocol)
    ))
}

/// Validates a Service on create; mirrors `ValidateService` (= `ValidateServiceCreate`).
///
/// Errors come in kube-apiserver's order (service-rules.md §6).
pub fn validate_service(svc: &Service) -> FieldErrors {
    let spec = spec_of(svc);
    let spec = spec.as_ref();
    let svc_type = s(&spec.type_);
    let headless = is_headless(spec);
    let ports = ports(spec);
    let annotations = svc.metadata.annotations.clone().unwrap_or_default();

    let mut errs =
        meta::validate_object_meta(&svc.metadata, true, format::name_is_dns1035_label, METADATA);

    if let (Some(mode), Some(hints)) = (
        annotations.get(ANNOTATION_TOPOLOGY_MODE),
        annotations.get(ANNOTATION_TOPOLOGY_AWARE_HINTS),
    ) && mode != hints
    {
        errs.push(FieldError::invalid(
            format!("metadata.annotations[{ANNOTATION_TOPOLOGY_MODE}]"),
            mode,
            format!(
                "must match annotations[{ANNOTATION_TOPOLOGY_AWARE_HINTS}] when both are specified"
            ),
        ));
    }

    if ports.is_empty() && !headless && svc_type != TYPE_EXTERNAL_NAME {
        errs.push(FieldError::required("spec.ports", ""));
    }

    match svc_type {
        TYPE_LOAD_BALANCER => {
            for (i, p) in ports.iter().enumerate() {
                // A workaround for clouds that over-open firewalls; removed in v1.33.
                if p.port == KUBELET_PORT {
                    errs.push(FieldError::invalid(
                        format!("spec.ports[{i}]"),
                        p.port,
                        format!("may not expose port {KUBELET_PORT} externally since it is used by kubelet"),
                    ));
                }
            }
            if headless {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    CLUSTER_IP_NONE,
                    "may not be set to 'None' for LoadBalancer services",
                ));
            }
        }
        TYPE_NODE_PORT if headless => {
            errs.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                CLUSTER_IP_NONE,
                "may not be set to 'None' for NodePort services",
            ));
        }
        TYPE_EXTERNAL_NAME => {
            if !cluster_ips(spec).is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.clusterIPs",
                    "may not be set for ExternalName services",
                ));
            }
            if !spec.ip_families.as_deref().unwrap_or_default().is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.ipFamilies",
                    "may not be set for ExternalName services",
                ));
            }
            if spec.ip_family_policy.is_some() {
                errs.push(FieldError::forbidden(
                    "spec.ipFamilyPolicy",
                    "may not be set for ExternalName services",
                ));
            }
            // A CNAME may end in one dot to mark it fully qualified.
            let external_name = s(&spec.external_name);
            let cname = external_name.strip_suffix('.').unwrap_or(external_name);
            if cname.is_empty() {
                errs.push(FieldError::required("spec.externalName", ""));
            } else {
                for msg in format::is_dns1123_subdomain(cname) {
                    errs.push(FieldError::invalid("spec.externalName", cname, msg));
                }
            }
        }
        _ => {}
    }

    let mut port_names: HashSet<&str> = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        errs.extend(validate_service_port(
            p,
            ports.len() > 1,
            &mut port_names,
            &format!("spec.ports[{i}]"),
        ));
    }

    if let Some(selector) = &spec.selector {
        errs.extend(meta::validate_labels(selector, "spec.selector"));
    }

    let affinity = s(&spec.session_affinity);
    if affinity.is_empty() {
        errs.push(FieldError::required("spec.sessionAffinity", ""));
    } else if !SESSION_AFFINITIES.contains(&affinity) {
        errs.push(FieldError::not_supported(
            "spec.sessionAffinity",
            affinity,
            &SESSION_AFFINITIES,
        ));
    }
    if affinity == AFFINITY_CLIENT_IP {
        errs.extend(validate_client_ip_affinity_config(
            spec.session_affinity_config.as_ref(),
            "spec.sessionAffinityConfig",
        ));
    } else if affinity == AFFINITY_NONE && spec.session_affinity_config.is_some() {
        errs.push(FieldError::forbidden(
            "spec.sessionAffinityConfig",
            format!("must not be set when session affinity is {AFFINITY_NONE}"),
        ));
    }

    errs.extend(validate_cluster_ips_related(svc));

    for (i, ip) in spec.external_ips.iter().flatten().enumerate() {
        let path = format!("spec.externalIPs[{i}]");
        let msgs = format::is_valid_ip(ip);
        if msgs.is_empty() {
            errs.extend(validate_non_special_ip(ip, &path));
        } else {
            for msg in msgs {
                errs.push(FieldError::invalid(&path, ip, msg));
            }
        }
    }

    if svc_type.is_empty() {
        errs.push(FieldError::required("spec.type", ""));
    } else if !SERVICE_TYPES.contains(&svc_type) {
        errs.push(FieldError::not_supported(
            "spec.type",
            svc_type,
            &SERVICE_TYPES,
        ));
    }

    if svc_type == TYPE_CLUSTER_IP {
        for (i, p) in ports.iter().enumerate() {
            if p.node_port.unwrap_or(0) != 0 {
                errs.push(FieldError::forbidden(
                    format!("spec.ports[{i}].nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }

    let mut node_ports: HashSet<(&str, i32)> = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let node_port = p.node_port.unwrap_or(0);
        if node_port == 0 {
            continue;
        }
        if !node_ports.insert((s(&p.protocol), node_port)) {
            errs.push(FieldError::duplicate(
                format!("spec.ports[{i}].nodePort"),
                node_port,
            ));
        }
    }

    let mut port_keys: HashSet<(&str, i32)> = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let protocol = s(&p.protocol);
        if !port_keys.insert((protocol, p.port)) {
            errs.push(FieldError::duplicate(
                format!("spec.ports[{i}]"),
                go_service_port_key(protocol, p.port),
            ));
        }
    }

    errs.extend(validate_source_ranges(spec, &annotations));

    if spec.allocate_load_balancer_node_ports.is_some() && svc_type != TYPE_LOAD_BALANCER {
        errs.push(FieldError::forbidden(
            "spec.allocateLoadBalancerNodePorts",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if svc_type == TYPE_LOAD_BALANCER && spec.allocate_load_balancer_node_ports.is_none() {
        // The path really lacks `spec.` in the Go source.
        errs.push(FieldError::required("allocateLoadBalancerNodePorts", ""));
    }

    errs.extend(validate_load_balancer_class_field(None, spec));
    errs.extend(validate_external_traffic_policy(spec));
    errs.extend(validate_internal_traffic_policy(spec));

    if let Some(td) = &spec.traffic_distribution
        && td != TRAFFIC_DISTRIBUTION_PREFER_CLOSE
    {
        errs.push(FieldError::not_supported(
            "spec.trafficDistribution",
            td,
            &[TRAFFIC_DISTRIBUTION_PREFER_CLOSE],
        ));
    }

    errs
}

/// Mirrors `validateServicePort` in `pkg/apis/core/validation`.
fn validate_service_port<'a>(
    p: &'a ServicePort,
    require_name: bool,
    names: &mut HashSet<&'a str>,
    path: &str,
) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let name = s(&p.name);
    let name_path = format!("{path}.name");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else if !name.is_empty() {
        for msg in format::is_dns1123_label(name) {
            errs.push(FieldError::invalid(&name_path, name, msg));
        }
        if !names.insert(name) {
            errs.push(FieldError::duplicate(&name_path, name));
        }
    }

    for msg in format::is_valid_port_num(i64::from(p.port)) {
        errs.push(FieldError::invalid(format!("{path}.port"), p.port, msg));
    }

    let protocol = s(&p.protocol);
    if protocol.is_empty() {
        errs.push(FieldError::required(format!("{path}.protocol"), ""));
    } else if !PROTOCOLS.contains(&protocol) {
        errs.push(FieldError::not_supported(
            format!("{path}.protocol"),
            protocol,
            &PROTOCOLS,
        ));
    }

    let target_path = format!("{path}.targetPort");
    match &p.target_port {
        Some(IntOrString::String(name)) => {
            for msg in format::is_valid_port_name(name) {
                errs.push(FieldError::invalid(&target_path, name, msg));
            }
        }
        // An absent targetPort is Go's zero IntOrString: the integer 0.
        Some(IntOrString::Int(n)) => errs.extend(port_num_errors(*n, &target_path)),
        None => errs.extend(port_num_errors(0, &target_path)),
    }

    if let Some(app_protocol) = &p.app_protocol {
        for msg in format::is_qualified_name(app_protocol) {
            errs.push(FieldError::invalid(
                format!("{path}.appProtocol"),
                app_protocol,
                msg,
            ));
        }
    }
    errs
}

fn port_num_errors(port: i32, path: &str) -> FieldErrors {
    format::is_valid_port_num(i64::from(port))
        .into_iter()
        .map(|msg| FieldError::invalid(path, port, msg))
        .collect::<Vec<_>>()
        .into()
}

/// Mirrors `validateClientIPAffinityConfig` in `pkg/apis/core/validation`.
fn validate_client_ip_affinity_config(
    config: Option<&SessionAffinityConfig>,
    path: &str,
) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let detail = format!("when session affinity type is {AFFINITY_CLIENT_IP}");
    let Some(config) = config else {
        errs.push(FieldError::required(path, detail));
        return errs;
    };
    let Some(client_ip) = &config.client_ip else {
        errs.push(FieldError::required(format!("{path}.clientIP"), detail));
        return errs;
    };
    let timeout_path = format!("{path}.clientIP.timeoutSeconds");
    let Some(timeout) = client_ip.timeout_seconds else {
        errs.push(FieldError::required(timeout_path, detail));
        return errs;
    };
    if timeout <= 0 || timeout > MAX_CLIENT_IP_TIMEOUT_SECS {
        errs.push(FieldError::invalid(
            timeout_path,
            timeout,
            format!("must be greater than 0 and less than {MAX_CLIENT_IP_TIMEOUT_SECS}"),
        ));
    }
    errs
}

/// Mirrors `ValidateNonSpecialIP` in `pkg/apis/core/validation`, with Go's `net.IP` predicates
/// (IPv4-mapped IPv6 addresses count as IPv4).
fn validate_non_special_ip(value: &str, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let Some(ip) = format::parse_ip_sloppy(value) else {
        errs.push(FieldError::invalid(
            path,
            value,
            "must be a valid IP address",
        ));
        return errs;
    };
    let (unspecified, loopback, link_local, link_local_multicast) = match format::go_to4(ip) {
        Some(v4) => {
            let o = v4.octets();
            (
                v4.is_unspecified(),
                o[0] == 127,
                o[0] == 169 && o[1] == 254,
                o[0] == 224 && o[1] == 0 && o[2] == 0,
            )
        }
        None => match ip {
            std::net::IpAddr::V6(v6) => {
                let o = v6.octets();
                (
                    v6.is_unspecified(),
                    v6.is_loopback(),
                    o[0] == 0xfe && (o[1] & 0xc0) == 0x80,
                    o[0] == 0xff && (o[1] & 0x0f) == 0x02,
                )
            }
            std::net::IpAddr::V4(_) => (false, false, false, false),
        },
    };
    if unspecified {
        errs.push(FieldError::invalid(
            path,
            value,
            format!("may not be unspecified ({value})"),
        ));
    }
    if loopback {
        errs.push(FieldError::invalid(
            path,
            value,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    if link_local {
        errs.push(FieldError::invalid(
            path,
            value,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if link_local_multicast {
        errs.push(FieldError::invalid(
            path,
            value,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errs
}

/// The loadBalancerSourceRanges field, or else its annotation (`ValidateService`).
fn validate_source_ranges(
    spec: &ServiceSpec,
    annotations: &BTreeMap<String, String>,
) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let is_lb = s(&spec.type_) == TYPE_LOAD_BALANCER;
    let ranges = spec
        .load_balancer_source_ranges
        .as_deref()
        .unwrap_or_default();
    if !ranges.is_empty() {
        // The capital L is in the Go source.
        let path = "spec.LoadBalancerSourceRanges";
        if !is_lb {
            errs.push(FieldError::forbidden(
                path,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (i, value) in ranges.iter().enumerate() {
            // Space padding is tolerated for historical reasons (values came from the annotation).
            let value = value.trim_matches(is_go_space);
            for msg in format::is_valid_cidr(value) {
                errs.push(FieldError::invalid(format!("{path}[{i}]"), value, msg));
            }
        }
    } else if let Some(val) = annotations.get(ANNOTATION_LB_SOURCE_RANGES) {
        let path = format!("metadata.annotations[{ANNOTATION_LB_SOURCE_RANGES}]");
        if !is_lb {
            errs.push(FieldError::forbidden(
                &path,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        let val = val.trim_matches(is_go_space);
        if !val.is_empty() {
            for item in val.split(',') {
                let item = item.trim_matches(is_go_space);
                for msg in format::is_valid_cidr(item) {
                    errs.push(FieldError::invalid(&path, item, msg));
                }
            }
        }
    }
    errs
}

/// Go's `strings.TrimSpace` set: Unicode White_Space, which Rust's `char::is_whitespace` matches.
fn is_go_space(c: char) -> bool {
    c.is_whitespace()
}

/// Mirrors `validateLoadBalancerClassField`: the change rule on update, then format or Forbidden.
fn validate_load_balancer_class_field(
    old: Option<&ServiceSpec>,
    spec: &ServiceSpec,
) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let is_lb = |sp: &ServiceSpec| s(&sp.type_) == TYPE_LOAD_BALANCER;
    if let Some(old) = old
        && is_lb(old)
        && is_lb(spec)
        && old.load_balancer_class != spec.load_balancer_class
    {
        errs.push(FieldError::invalid(
            "spec.loadBalancerClass",
            spec.load_balancer_class.clone(),
            "may not change once set",
        ));
    }
    if let Some(class) = &spec.load_balancer_class {
        if is_lb(spec) {
            for msg in format::is_qualified_name(class) {
                errs.push(FieldError::invalid("spec.loadBalancerClass", class, msg));
            }
        } else {
            errs.push(FieldError::forbidden(
                "spec.loadBalancerClass",
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
    }
    errs
}

/// Mirrors `validateServiceExternalTrafficPolicy` in `pkg/apis/core/validation`.
fn validate_external_traffic_policy(spec: &ServiceSpec) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let etp = s(&spec.external_traffic_policy);
    if !externally_accessible(spec) {
        if !etp.is_empty() {
            errs.push(FieldError::invalid(
                "spec.externalTrafficPolicy",
                etp,
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        errs.push(FieldError::required("spec.externalTrafficPolicy", ""));
    } else if !TRAFFIC_POLICIES.contains(&etp) {
        errs.push(FieldError::not_supported(
            "spec.externalTrafficPolicy",
            etp,
            &TRAFFIC_POLICIES,
        ));
    }

    let hcnp = spec.health_check_node_port.unwrap_or(0);
    if !needs_health_check(spec) {
        if hcnp != 0 {
            errs.push(FieldError::invalid(
                "spec.healthCheckNodePort",
                hcnp,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hcnp == 0 {
        errs.push(FieldError::required("spec.healthCheckNodePort", ""));
    } else {
        errs.extend(port_num_errors(hcnp, "spec.healthCheckNodePort"));
    }
    errs
}

/// Mirrors `validateServiceInternalTrafficFieldsValue` in `pkg/apis/core/validation`.
fn validate_internal_traffic_policy(spec: &ServiceSpec) -> FieldErrors {
    let mut errs = FieldErrors::new();
    match &spec.internal_traffic_policy {
        // Not required on ExternalName for historical reasons: stored objects must stay valid.
        None => {
            if [TYPE_NODE_PORT, TYPE_LOAD_BALANCER, TYPE_CLUSTER_IP].contains(&s(&spec.type_)) {
                errs.push(FieldError::required("spec.internalTrafficPolicy", ""));
            }
        }
        Some(itp) if !TRAFFIC_POLICIES.contains(&itp.as_str()) => {
            errs.push(FieldError::not_supported(
                "spec.internalTrafficPolicy",
                itp,
                &TRAFFIC_POLICIES,
            ));
        }
        Some(_) => {}
    }
    errs
}

/// Validates clusterIP, clusterIPs, ipFamilies and ipFamilyPolicy together; skipped for
/// ExternalName. Mirrors `ValidateServiceClusterIPsRelatedFields`, which the allocator also
/// runs as its pre-validation.
pub fn validate_cluster_ips_related(svc: &Service) -> FieldErrors {
    let spec = spec_of(svc);
    let spec = spec.as_ref();
    let mut errs = FieldErrors::new();
    if s(&spec.type_) == TYPE_EXTERNAL_NAME {
        return errs;
    }
    let ips = cluster_ips(spec);
    let families = spec.ip_families.as_deref().unwrap_or_default();
    let list = || go_list(&spec.cluster_ips);

    if !s(&spec.cluster_ip).is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required("spec.clusterIPs", ""));
        } else if ips[0] != s(&spec.cluster_ip) {
            errs.push(FieldError::invalid(
                "spec.clusterIPs",
                list(),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(FieldError::invalid(
            "spec.clusterIPs",
            list(),
            "must be empty when `clusterIP` is not specified",
        ));
    }

    let mut seen: HashSet<&str> = HashSet::new();
    for (i, family) in families.iter().enumerate() {
        if !IP_FAMILIES.contains(&family.as_str()) {
            errs.push(FieldError::not_supported(
                format!("spec.ipFamilies[{i}]"),
                family,
                &IP_FAMILIES,
            ));
        }
        if !seen.insert(family) {
            errs.push(FieldError::duplicate(
                format!("spec.ipFamilies[{i}]"),
                family,
            ));
        }
    }

    if let Some(policy) = &spec.ip_family_policy
        && !IP_FAMILY_POLICIES.contains(&policy.as_str())
    {
        errs.push(FieldError::not_supported(
            "spec.ipFamilyPolicy",
            policy,
            &IP_FAMILY_POLICIES,
        ));
    }

    let mut has_invalid_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == CLUSTER_IP_NONE {
            if ips.len() > 1 {
                has_invalid_ips = true;
                errs.push(FieldError::invalid(
                    "spec.clusterIPs",
                    list(),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        for msg in format::is_valid_ip(ip) {
            has_invalid_ips = true;
            errs.push(FieldError::invalid(
                format!("spec.clusterIPs[{i}]"),
                ip,
                msg,
            ));
        }
    }

    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            "spec.clusterIPs",
            list(),
            "may only hold up to 2 values",
        ));
    }

    // Bad IPs would skew the family checks below, so Go stops here.
    if has_invalid_ips {
        return errs;
    }

    if ips.len() > 1 {
        // IsDualStackIPStrings only asks for at least one of each family, so three IPs of
        // mixed families pass here (the "up to 2 values" error above already fired).
        let v6 = ips.iter().filter(|ip| format::is_ipv6_string(ip)).count();
        let dual_stack = v6 > 0 && v6 < ips.len();
        if !dual_stack {
            errs.push(FieldError::invalid(
                "spec.clusterIPs",
                list(),
                "may specify no more than one IP for each IP family",
            ));
        }
    }

    if !is_headless(spec) && !ips.is_empty() && !families.is_empty() {
        for (i, ip) in ips.iter().enumerate() {
            let Some(family) = families.get(i) else {
                break;
            };
            let v6 = format::is_ipv6_string(ip);
            if family == IP_FAMILY_IPV4 && v6 {
                errs.push(FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    ip,
                    format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if family == IP_FAMILY_IPV6 && !v6 {
                errs.push(FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    ip,
                    format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    errs
}

/// Mirrors `validateUpgradeDowngradeClusterIPs` in `pkg/apis/core/validation`.
fn validate_upgrade_downgrade_cluster_ips(old: &ServiceSpec, new: &ServiceSpec) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if s(&new.type_) == TYPE_EXTERNAL_NAME || s(&old.type_) == TYPE_EXTERNAL_NAME {
        return errs;
    }
    if is_headless(old) && is_headless(new) {
        return errs;
    }
    let (old_ips, new_ips) = (cluster_ips(old), cluster_ips(new));
    let list = || go_list(&new.cluster_ips);
    match old_ips.len().cmp(&new_ips.len()) {
        std::cmp::Ordering::Equal => {
            for (i, ip) in old_ips.iter().enumerate() {
                if new_ips.get(i) != Some(ip) {
                    errs.push(FieldError::invalid(
                        format!("spec.clusterIPs[{i}]"),
                        list(),
                        "may not change once set",
                    ));
                }
            }
        }
        std::cmp::Ordering::Greater => {
            if new_ips.is_empty() {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    list(),
                    "primary clusterIP can not be unset",
                ));
            }
            if let (Some(o), Some(n)) = (old_ips.first(), new_ips.first())
                && o != n
            {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    list(),
                    "may not change once set",
                ));
            }
            if new_ips.len() == 1 && s(&new.ip_family_policy) != IP_FAMILY_POLICY_SINGLE_STACK {
                errs.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    new.ip_family_policy.clone(),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        }
        std::cmp::Ordering::Less => {
            if let (Some(o), Some(n)) = (old_ips.first(), new_ips.first())
                && o != n
            {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    list(),
                    "may not change once set",
                ));
            }
        }
    }
    errs
}

/// Mirrors `validateUpgradeDowngradeIPFamilies` in `pkg/apis/core/validation`.
fn validate_upgrade_downgrade_ip_families(old: &ServiceSpec, new: &ServiceSpec) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if s(&new.type_) == TYPE_EXTERNAL_NAME || s(&old.type_) == TYPE_EXTERNAL_NAME {
        return errs;
    }
    // Headless Services may change families, and so may a change to or from headless.
    if is_headless(old) || is_headless(new) {
        return errs;
    }
    let old_f = old.ip_families.as_deref().unwrap_or_default();
    let new_f = new.ip_families.as_deref().unwrap_or_default();
    match old_f.len().cmp(&new_f.len()) {
        std::cmp::Ordering::Equal => {
            for (i, f) in old_f.iter().enumerate() {
                if new_f.get(i) != Some(f) {
                    // Go reports index 0 whatever position changed.
                    errs.push(FieldError::invalid(
                        "spec.ipFamilies[0]",
                        go_families(&new.ip_families),
                        "may not change once set",
                    ));
                }
            }
        }
        std::cmp::Ordering::Greater => {
            if cluster_ips(new).is_empty() {
                errs.push(FieldError::invalid(
                    "spec.ipFamilies[0]",
                    go_families(&new.ip_families),
                    "primary ipFamily can not be unset",
                ));
            }
            if let (Some(n), Some(o)) = (new_f.first(), old_f.first())
                && n != o
            {
                errs.push(FieldError::invalid(
                    "spec.ipFamilies[0]",
                    go_list(&new.cluster_ips),
                    "may not change once set",
                ));
            }
            if new_f.len() == 1 && s(&new.ip_family_policy) != IP_FAMILY_POLICY_SINGLE_STACK {
                errs.push(FieldError::invalid(
                    "spec.ipFamilyPolicy",
                    new.ip_family_policy.clone(),
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                ));
            }
        }
        std::cmp::Ordering::Less => {
            if let (Some(n), Some(o)) = (new_f.first(), old_f.first())
                && n != o
            {
                errs.push(FieldError::invalid(
                    "spec.ipFamilies[0]",
                    go_list(&new.cluster_ips),
                    "may not change once set",
                ));
            }
        }
    }
    errs
}

/// Mirrors `validateServiceExternalTrafficFieldsUpdate`: the health-check port of an LB+Local
/// Service may not change while it stays LB+Local.
fn validate_external_traffic_fields_update(old: &ServiceSpec, new: &ServiceSpec) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if needs_health_check(old)
        && needs_health_check(new)
        && old.health_check_node_port.unwrap_or(0) != new.health_check_node_port.unwrap_or(0)
    {
        errs.push(FieldError::forbidden(
            "spec.healthCheckNodePort",
            meta::FIELD_IMMUTABLE_MSG,
        ));
    }
    errs
}

/// Validates a Service update in the registry's complete order: the generic object-meta checks
/// (create form, then update form) that every kind gets, then `ValidateServiceUpdate`
/// (metadata-update rules, clusterIPs, ipFamilies, loadBalancerClass, healthCheckNodePort), then
/// all of `ValidateService` — so one bad label yields four identical causes.
pub fn validate_service_update(new: &Service, old: &Service) -> FieldErrors {
    let mut errs = generic_update_checks(new, old);
    let (new_spec, old_spec) = (spec_of(new), spec_of(old));
    let (new_spec, old_spec) = (new_spec.as_ref(), old_spec.as_ref());
    errs.extend(meta::validate_object_meta_update(
        &new.metadata,
        &old.metadata,
        METADATA,
    ));
    errs.extend(validate_upgrade_downgrade_cluster_ips(old_spec, new_spec));
    errs.extend(validate_upgrade_downgrade_ip_families(old_spec, new_spec));
    errs.extend(validate_load_balancer_class_field(Some(old_spec), new_spec));
    errs.extend(validate_external_traffic_fields_update(old_spec, new_spec));
    errs.extend(validate_service(new));
    errs
}

/// `validateCommonFields` of the generic registry's `BeforeUpdate`.
fn generic_update_checks(new: &Service, old: &Service) -> FieldErrors {
    let mut errs = meta::validate_object_meta_generic(
        &new.metadata,
        true,
        format::validate_path_segment_name,
        METADATA,
    );
    errs.extend(meta::validate_object_meta_update_generic(
        &new.metadata,
        &old.metadata,
        METADATA,
    ));
    errs
}

/// Validates a write to `services/status`: the registry's generic object-meta checks, then
/// `ValidateServiceStatusUpdate` (metadata-update rules and `ValidateLoadBalancerStatus`).
pub fn validate_service_status_update(new: &Service, old: &Service) -> FieldErrors {
    let mut errs = generic_update_checks(new, old);
    errs.extend(meta::validate_object_meta_update(
        &new.metadata,
        &old.metadata,
        METADATA,
    ));
    errs.extend(validate_load_balancer_status(new));
    errs
}

/// Mirrors `ValidateLoadBalancerStatus` in `pkg/apis/core/validation` (v1.32 gates:
/// `LoadBalancerIPMode` on, `AllowServiceLBStatusOnNonLB` off).
fn validate_load_balancer_status(svc: &Service) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let spec = spec_of(svc);
    let ingress = svc
        .status
        .as_ref()
        .and_then(|st| st.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or_default();
    let path = "status.loadBalancer.ingress";
    if s(&spec.type_) != TYPE_LOAD_BALANCER && !ingress.is_empty() {
        errs.push(FieldError::forbidden(
            path,
            "may only be used when `spec.type` is 'LoadBalancer'",
        ));
        return errs;
    }
    for (i, ing) in ingress.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let ip = s(&ing.ip);
        if !ip.is_empty() {
            for msg in format::is_valid_ip(ip) {
                errs.push(FieldError::invalid(format!("{idx}.ip"), ip, msg));
            }
        }
        match &ing.ip_mode {
            None => {
                if !ip.is_empty() {
                    errs.push(FieldError::required(
                        format!("{idx}.ipMode"),
                        "must be specified when `ip` is set",
                    ));
                }
            }
            Some(_) if ip.is_empty() => {
                errs.push(FieldError::forbidden(
                    format!("{idx}.ipMode"),
                    "may not be specified when `ip` is not set",
                ));
            }
            Some(mode) if !IP_MODES.contains(&mode.as_str()) => {
                errs.push(FieldError::not_supported(
                    format!("{idx}.ipMode"),
                    mode,
                    &IP_MODES,
                ));
            }
            Some(_) => {}
        }
        let hostname = s(&ing.hostname);
        if !hostname.is_empty() {
            for msg in format::is_dns1123_subdomain(hostname) {
                errs.push(FieldError::invalid(
                    format!("{idx}.hostname"),
                    hostname,
                    msg,
                ));
            }
            if format::parse_ip_sloppy(hostname).is_some() {
                errs.push(FieldError::invalid(
                    format!("{idx}.hostname"),
                    hostname,
                    "must be a DNS name, not an IP address",
                ));
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ClientIPConfig, LoadBalancerIngress, LoadBalancerStatus, ServiceStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    fn port(name: Option<&str>, port: i32) -> ServicePort {
        ServicePort {
            name: name.map(Into::into),
            port,
            protocol: Some(PROTOCOL_TCP.into()),
            target_port: Some(IntOrString::Int(port)),
            ..Default::default()
        }
    }

    /// A valid ClusterIP Service as the validator sees it: defaulted and allocated.
    fn base() -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                resource_version: Some("1".into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                type_: Some(TYPE_CLUSTER_IP.into()),
                ports: Some(vec![port(None, 80)]),
                selector: Some([("app".to_string(), "web".to_string())].into()),
                session_affinity: Some(AFFINITY_NONE.into()),
                cluster_ip: Some("10.96.0.10".into()),
                cluster_ips: Some(vec!["10.96.0.10".into()]),
                ip_families: Some(vec![IP_FAMILY_IPV4.into()]),
                ip_family_policy: Some(IP_FAMILY_POLICY_SINGLE_STACK.into()),
                internal_traffic_policy: Some(TRAFFIC_POLICY_CLUSTER.into()),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn spec(svc: &mut Service) -> &mut ServiceSpec {
        svc.spec.get_or_insert_with(Default::default)
    }

    fn node_port(svc: &mut Service) {
        let sp = spec(svc);
        sp.type_ = Some(TYPE_NODE_PORT.into());
        sp.external_traffic_policy = Some(TRAFFIC_POLICY_CLUSTER.into());
        for (i, p) in sp.ports.iter_mut().flatten().enumerate() {
            p.node_port = Some(30080 + i as i32);
        }
    }

    fn load_balancer(svc: &mut Service) {
        node_port(svc);
        let sp = spec(svc);
        sp.type_ = Some(TYPE_LOAD_BALANCER.into());
        sp.allocate_load_balancer_node_ports = Some(true);
    }

    fn external_name(svc: &mut Service) {
        let sp = spec(svc);
        sp.type_ = Some(TYPE_EXTERNAL_NAME.into());
        sp.external_name = Some("db.example.com".into());
        sp.cluster_ip = None;
        sp.cluster_ips = None;
        sp.ip_families = None;
        sp.ip_family_policy = None;
        sp.internal_traffic_policy = None;
    }

    fn headless(svc: &mut Service) {
        let sp = spec(svc);
        sp.cluster_ip = Some(CLUSTER_IP_NONE.into());
        sp.cluster_ips = Some(vec![CLUSTER_IP_NONE.into()]);
    }

    fn texts(errs: &FieldErrors) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    type Case = (&'static str, fn(&mut Service), Vec<String>);

    fn run(cases: Vec<Case>) {
        for (name, change, want) in cases {
            let mut svc = base();
            change(&mut svc);
            assert_eq!(texts(&validate_service(&svc)), want, "case {name}");
        }
    }

    fn one(s: &str) -> Vec<String> {
        vec![s.to_string()]
    }

    #[test]
    fn base_and_typed_variants_are_valid() {
        run(vec![
            ("cluster ip", |_| {}, vec![]),
            ("node port", node_port, vec![]),
            ("load balancer", load_balancer, vec![]),
            ("external name", external_name, vec![]),
            (
                "external name with trailing dot",
                |s| {
                    external_name(s);
                    spec(s).external_name = Some("db.example.com.".into());
                },
                vec![],
            ),
            (
                "headless without ports",
                |s| {
                    headless(s);
                    spec(s).ports = None;
                },
                vec![],
            ),
            (
                "external name without ports",
                |s| {
                    external_name(s);
                    spec(s).ports = None;
                },
                vec![],
            ),
            ("no selector", |s| spec(s).selector = None, vec![]),
            (
                "mixed protocols on one port number",
                |s| {
                    load_balancer(s);
                    let mut udp = port(Some("dns-udp"), 53);
                    udp.protocol = Some(PROTOCOL_UDP.into());
                    udp.node_port = Some(30053);
                    let mut tcp = port(Some("dns-tcp"), 53);
                    tcp.node_port = Some(30053);
                    spec(s).ports = Some(vec![tcp, udp]);
                },
                vec![],
            ),
            (
                "all-digit port name",
                |s| spec(s).ports = Some(vec![port(Some("8080"), 80)]),
                vec![],
            ),
            (
                "dual stack",
                |s| {
                    let sp = spec(s);
                    sp.cluster_ips = Some(vec!["10.96.0.10".into(), "fd00::10".into()]);
                    sp.ip_families = Some(vec![IP_FAMILY_IPV4.into(), IP_FAMILY_IPV6.into()]);
                    sp.ip_family_policy = Some(IP_FAMILY_POLICY_REQUIRE_DUAL_STACK.into());
                },
                vec![],
            ),
            (
                "leading-zero cluster IP is accepted",
                |s| {
                    let sp = spec(s);
                    sp.cluster_ip = Some("010.96.0.10".into());
                    sp.cluster_ips = Some(vec!["010.96.0.10".into()]);
                },
                vec![],
            ),
            (
                "affinity timeout 86400 accepted",
                |s| {
                    let sp = spec(s);
                    sp.session_affinity = Some(AFFINITY_CLIENT_IP.into());
                    sp.session_affinity_config = Some(SessionAffinityConfig {
                        client_ip: Some(ClientIPConfig {
                            timeout_seconds: Some(86400),
                        }),
                    });
                },
                vec![],
            ),
            (
                "LB + Local with health check port",
                |s| {
                    load_balancer(s);
                    let sp = spec(s);
                    sp.external_traffic_policy = Some(TRAFFIC_POLICY_LOCAL.into());
                    sp.health_check_node_port = Some(31000);
                },
                vec![],
            ),
            (
                "loadBalancerIP is not validated",
                |s| {
                    load_balancer(s);
                    spec(s).load_balancer_ip = Some("garbage".into());
                },
                vec![],
            ),
            (
                "headless tolerates any targetPort",
                |s| {
                    headless(s);
                    spec(s).ports = Some(vec![ServicePort {
                        target_port: Some(IntOrString::Int(9999)),
                        ..port(None, 80)
                    }]);
                },
                vec![],
            ),
        ]);
    }

    #[test]
    fn worked_examples_of_section_12() {
        run(vec![
            ("1 port 0 with targetPort", |s| {
                spec(s).ports = Some(vec![ServicePort { target_port: Some(IntOrString::Int(8080)), ..port(None, 0) }]);
            }, one("spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive")),
            ("2 port 0 defaulted targetPort", |s| spec(s).ports = Some(vec![port(None, 0)]), vec![
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive".into(),
                "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive".into(),
            ]),
            ("3 upper-case name", |s| s.metadata.name = Some("MyService".into()),
                one(&format!("metadata.name: Invalid value: \"MyService\": {DNS1035_MSG}"))),
            ("6 duplicate protocol/port", |s| spec(s).ports = Some(vec![port(Some("a"), 80), port(Some("b"), 80)]),
                one("spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}")),
            ("7 second port unnamed", |s| spec(s).ports = Some(vec![port(Some("http"), 80), port(None, 443)]),
                one("spec.ports[1].name: Required value")),
            ("8 lower-case protocol", |s| {
                spec(s).ports = Some(vec![ServicePort { protocol: Some("tcp".into()), ..port(None, 80) }]);
            }, one("spec.ports[0].protocol: Unsupported value: \"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\"")),
            ("9 numeric string targetPort", |s| {
                spec(s).ports = Some(vec![ServicePort { target_port: Some(IntOrString::String("8080".into())), ..port(None, 80) }]);
            }, one("spec.ports[0].targetPort: Invalid value: \"8080\": must contain at least one letter (a-z)")),
            ("10 ClusterIP with ETP Local", |s| spec(s).external_traffic_policy = Some(TRAFFIC_POLICY_LOCAL.into()),
                one("spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services")),
            ("14 affinity timeout 0", |s| {
                let sp = spec(s);
                sp.session_affinity = Some(AFFINITY_CLIENT_IP.into());
                sp.session_affinity_config = Some(SessionAffinityConfig { client_ip: Some(ClientIPConfig { timeout_seconds: Some(0) }) });
            }, one("spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400")),
            ("15 bad source range", |s| {
                load_balancer(s);
                spec(s).load_balancer_source_ranges = Some(vec!["10.0.0.0/33".into()]);
            }, one("spec.LoadBalancerSourceRanges[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")),
            ("16 ClusterIP with nodePort", |s| {
                spec(s).ports = Some(vec![ServicePort { node_port: Some(30080), ..port(None, 80) }]);
            }, one("spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'")),
            ("17 headless NodePort", |s| {
                node_port(s);
                headless(s);
            }, one("spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services")),
            ("18 bad label key", |s| s.metadata.labels = Some([("my label".to_string(), "x".to_string())].into()),
                one(&format!("metadata.labels: Invalid value: \"my label\": {NAME_PART_MSG}"))),
            ("19 annotations too large", |s| {
                s.metadata.annotations = Some([("a".to_string(), "x".repeat(262_144))].into());
            }, one("metadata.annotations: Too long: may not be more than 262144 bytes")),
            ("20 upper-case external name", |s| {
                external_name(s);
                spec(s).external_name = Some("DB.Example.com".into());
            }, one(&format!("spec.externalName: Invalid value: \"DB.Example.com\": {SUBDOMAIN_MSG}"))),
            ("22 LB exposing kubelet port", |s| {
                load_balancer(s);
                let sp = spec(s);
                if let Some(p) = sp.ports.iter_mut().flatten().next() {
                    p.port = 10250;
                    p.target_port = Some(IntOrString::Int(10250));
                }
            }, one("spec.ports[0]: Invalid value: 10250: may not expose port 10250 externally since it is used by kubelet")),
        ]);
    }

    #[test]
    fn worked_example_messages_aggregate_like_the_status() {
        let mut svc = base();
        spec(&mut svc).ports = Some(vec![port(None, 0)]);
        assert_eq!(
            validate_service(&svc).aggregate(),
            "[spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]"
        );
    }

    #[test]
    fn metadata_rules() {
        run(vec![
            (
                "name required",
                |s| s.metadata.name = None,
                one("metadata.name: Required value: name or generateName is required"),
            ),
            (
                "namespace required",
                |s| s.metadata.namespace = None,
                one("metadata.namespace: Required value"),
            ),
            (
                "negative generation",
                |s| s.metadata.generation = Some(-1),
                one("metadata.generation: Invalid value: -1: must be greater than or equal to 0"),
            ),
            (
                "annotation key lower-cased",
                |s| {
                    s.metadata.annotations =
                        Some([("Example.COM/Owner".to_string(), "x".to_string())].into());
                },
                vec![],
            ),
            (
                "annotation exactly at the limit",
                |s| {
                    s.metadata.annotations = Some([("a".to_string(), "x".repeat(262_143))].into());
                },
                vec![],
            ),
            (
                "topology annotations disagree",
                |s| {
                    s.metadata.annotations = Some(
                        [
                            (ANNOTATION_TOPOLOGY_MODE.to_string(), "Auto".to_string()),
                            (
                                ANNOTATION_TOPOLOGY_AWARE_HINTS.to_string(),
                                "auto".to_string(),
                            ),
                        ]
                        .into(),
                    );
                },
                one(
                    "metadata.annotations[service.kubernetes.io/topology-mode]: Invalid value: \"Auto\": must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified",
                ),
            ),
            (
                "finalizer",
                |s| s.metadata.finalizers = Some(vec!["foo".into()]),
                one(
                    "metadata.finalizers[0]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified",
                ),
            ),
            (
                "generateName and generated name",
                |s| {
                    s.metadata.generate_name = Some("Web-".into());
                    s.metadata.name = Some("Web-x7k2q".into());
                },
                vec![
                    format!("metadata.generateName: Invalid value: \"Web-\": {DNS1035_MSG}"),
                    format!("metadata.name: Invalid value: \"Web-x7k2q\": {DNS1035_MSG}"),
                ],
            ),
        ]);
    }

    #[test]
    fn port_rules() {
        run(vec![
            ("ports required", |s| spec(s).ports = None, one("spec.ports: Required value")),
            ("empty ports required", |s| spec(s).ports = Some(vec![]), one("spec.ports: Required value")),
            ("bad port name", |s| spec(s).ports = Some(vec![port(Some("HTTP"), 80)]),
                one(&format!("spec.ports[0].name: Invalid value: \"HTTP\": {DNS1123_LABEL_MSG}"))),
            ("dotted port name", |s| spec(s).ports = Some(vec![port(Some("a.b"), 80)]),
                one("spec.ports[0].name: Invalid value: \"a.b\": must not contain dots")),
            ("duplicate name", |s| spec(s).ports = Some(vec![port(Some("http"), 80), port(Some("http"), 81)]),
                one("spec.ports[1].name: Duplicate value: \"http\"")),
            ("protocol required (unreachable)", |s| {
                spec(s).ports = Some(vec![ServicePort { protocol: None, ..port(None, 80) }]);
            }, one("spec.ports[0].protocol: Required value")),
            ("targetPort out of range", |s| {
                spec(s).ports = Some(vec![ServicePort { target_port: Some(IntOrString::Int(70000)), ..port(None, 80) }]);
            }, one("spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive")),
            ("targetPort bad name", |s| {
                spec(s).ports = Some(vec![ServicePort { target_port: Some(IntOrString::String("-Web--".into())), ..port(None, 80) }]);
            }, vec![
                "spec.ports[0].targetPort: Invalid value: \"-Web--\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into(),
                "spec.ports[0].targetPort: Invalid value: \"-Web--\": must not contain consecutive hyphens".into(),
                "spec.ports[0].targetPort: Invalid value: \"-Web--\": must not begin or end with a hyphen".into(),
            ]),
            ("targetPort absent (unreachable)", |s| {
                spec(s).ports = Some(vec![ServicePort { target_port: None, ..port(None, 80) }]);
            }, one("spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive")),
            ("empty appProtocol", |s| {
                spec(s).ports = Some(vec![ServicePort { app_protocol: Some(String::new()), ..port(None, 80) }]);
            }, vec![
                "spec.ports[0].appProtocol: Invalid value: \"\": name part must be non-empty".into(),
                format!("spec.ports[0].appProtocol: Invalid value: \"\": {NAME_PART_MSG}"),
            ]),
            ("valid appProtocol", |s| {
                spec(s).ports = Some(vec![ServicePort { app_protocol: Some("kubernetes.io/h2c".into()), ..port(None, 80) }]);
            }, vec![]),
            ("per-port order: name, port, protocol, targetPort, appProtocol", |s| {
                spec(s).ports = Some(vec![ServicePort {
                    name: Some("A".into()),
                    port: 0,
                    protocol: Some("ICMP".into()),
                    target_port: Some(IntOrString::Int(0)),
                    app_protocol: Some("a/b/c".into()),
                    node_port: None,
                }]);
            }, vec![
                format!("spec.ports[0].name: Invalid value: \"A\": {DNS1123_LABEL_MSG}"),
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive".into(),
                "spec.ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"".into(),
                "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive".into(),
                "spec.ports[0].appProtocol: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into(),
            ]),
            ("duplicate UDP port prints its protocol", |s| {
                let mut a = port(Some("a"), 53);
                a.protocol = Some(PROTOCOL_UDP.into());
                let mut b = port(Some("b"), 53);
                b.protocol = Some(PROTOCOL_UDP.into());
                spec(s).ports = Some(vec![a, b]);
            }, one("spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"UDP\", AppProtocol:(*string)(nil), Port:53, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}")),
            ("LB kubelet port on two ports, before headless", |s| {
                load_balancer(s);
                headless(s);
                spec(s).ports = Some(vec![
                    ServicePort { node_port: Some(30001), ..port(Some("a"), 10250) },
                    ServicePort { node_port: Some(30002), ..port(Some("b"), 10250) },
                ]);
                if let Some(ps) = &mut spec(s).ports {
                    ps[1].protocol = Some(PROTOCOL_UDP.into());
                }
            }, vec![
                "spec.ports[0]: Invalid value: 10250: may not expose port 10250 externally since it is used by kubelet".into(),
                "spec.ports[1]: Invalid value: 10250: may not expose port 10250 externally since it is used by kubelet".into(),
                "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services".into(),
            ]),
        ]);
    }

    #[test]
    fn node_port_rules() {
        run(vec![
            (
                "duplicate nodePort same protocol",
                |s| {
                    node_port(s);
                    spec(s).ports = Some(vec![
                        ServicePort {
                            node_port: Some(30080),
                            ..port(Some("a"), 80)
                        },
                        ServicePort {
                            node_port: Some(30080),
                            ..port(Some("b"), 81)
                        },
                    ]);
                },
                one("spec.ports[1].nodePort: Duplicate value: 30080"),
            ),
            (
                "same nodePort different protocol is fine here",
                |s| {
                    node_port(s);
                    let mut b = ServicePort {
                        node_port: Some(30080),
                        ..port(Some("b"), 80)
                    };
                    b.protocol = Some(PROTOCOL_UDP.into());
                    spec(s).ports = Some(vec![
                        ServicePort {
                            node_port: Some(30080),
                            ..port(Some("a"), 80)
                        },
                        b,
                    ]);
                },
                vec![],
            ),
            (
                "ExternalName may carry nodePorts",
                |s| {
                    external_name(s);
                    spec(s).ports = Some(vec![ServicePort {
                        node_port: Some(1),
                        ..port(None, 80)
                    }]);
                },
                vec![],
            ),
        ]);
    }

    #[test]
    fn selector_and_affinity_rules() {
        run(vec![
            (
                "bad selector value",
                |s| spec(s).selector = Some([("app".to_string(), "my app".to_string())].into()),
                one(
                    "spec.selector: Invalid value: \"my app\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                ),
            ),
            (
                "unsupported affinity",
                |s| spec(s).session_affinity = Some("Sticky".into()),
                one(
                    "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"",
                ),
            ),
            (
                "affinity required (unreachable)",
                |s| spec(s).session_affinity = None,
                one("spec.sessionAffinity: Required value"),
            ),
            (
                "config with None (unreachable)",
                |s| {
                    spec(s).session_affinity_config = Some(SessionAffinityConfig::default());
                },
                one(
                    "spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None",
                ),
            ),
            (
                "ClientIP without config (unreachable)",
                |s| spec(s).session_affinity = Some(AFFINITY_CLIENT_IP.into()),
                one(
                    "spec.sessionAffinityConfig: Required value: when session affinity type is ClientIP",
                ),
            ),
            (
                "ClientIP without clientIP (unreachable)",
                |s| {
                    let sp = spec(s);
                    sp.session_affinity = Some(AFFINITY_CLIENT_IP.into());
                    sp.session_affinity_config = Some(SessionAffinityConfig::default());
                },
                one(
                    "spec.sessionAffinityConfig.clientIP: Required value: when session affinity type is ClientIP",
                ),
            ),
            (
                "ClientIP without timeout (unreachable)",
                |s| {
                    let sp = spec(s);
                    sp.session_affinity = Some(AFFINITY_CLIENT_IP.into());
                    sp.session_affinity_config = Some(SessionAffinityConfig {
                        client_ip: Some(ClientIPConfig::default()),
                    });
                },
                one(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Required value: when session affinity type is ClientIP",
                ),
            ),
            (
                "timeout above 86400",
                |s| {
                    let sp = spec(s);
                    sp.session_affinity = Some(AFFINITY_CLIENT_IP.into());
                    sp.session_affinity_config = Some(SessionAffinityConfig {
                        client_ip: Some(ClientIPConfig {
                            timeout_seconds: Some(86401),
                        }),
                    });
                },
                one(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400",
                ),
            ),
        ]);
    }

    #[test]
    fn cluster_ip_rules() {
        run(vec![
            ("clusterIPs required", |s| spec(s).cluster_ips = None, one("spec.clusterIPs: Required value")),
            ("first must match", |s| spec(s).cluster_ips = Some(vec!["10.96.0.11".into()]),
                one("spec.clusterIPs: Invalid value: []string{\"10.96.0.11\"}: first value must match `clusterIP`")),
            ("must be empty without clusterIP", |s| spec(s).cluster_ip = None,
                one("spec.clusterIPs: Invalid value: []string{\"10.96.0.10\"}: must be empty when `clusterIP` is not specified")),
            ("bad family and duplicate", |s| {
                let sp = spec(s);
                sp.cluster_ips = Some(vec!["10.96.0.10".into(), "fd00::10".into()]);
                sp.ip_families = Some(vec!["IPv5".into(), "IPv5".into()]);
                sp.ip_family_policy = Some(IP_FAMILY_POLICY_REQUIRE_DUAL_STACK.into());
            }, vec![
                "spec.ipFamilies[0]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\"".into(),
                "spec.ipFamilies[1]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\"".into(),
                "spec.ipFamilies[1]: Duplicate value: \"IPv5\"".into(),
            ]),
            ("bad policy", |s| spec(s).ip_family_policy = Some("DualStack".into()),
                one("spec.ipFamilyPolicy: Unsupported value: \"DualStack\": supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\"")),
            ("None not alone", |s| {
                let sp = spec(s);
                sp.cluster_ip = Some(CLUSTER_IP_NONE.into());
                sp.cluster_ips = Some(vec![CLUSTER_IP_NONE.into(), "fd00::1".into()]);
            }, one("spec.clusterIPs: Invalid value: []string{\"None\", \"fd00::1\"}: 'None' must be the first and only value")),
            ("None at index 1 and empty are bad IPs", |s| {
                spec(s).cluster_ips = Some(vec!["10.96.0.10".into(), CLUSTER_IP_NONE.into(), String::new()]);
            }, vec![
                "spec.clusterIPs[1]: Invalid value: \"None\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".into(),
                "spec.clusterIPs[2]: Invalid value: \"\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".into(),
                "spec.clusterIPs: Invalid value: []string{\"10.96.0.10\", \"None\", \"\"}: may only hold up to 2 values".into(),
            ]),
            ("three valid IPs of both families", |s| {
                spec(s).cluster_ips = Some(vec!["10.96.0.10".into(), "fd00::10".into(), "10.96.0.11".into()]);
            }, one("spec.clusterIPs: Invalid value: []string{\"10.96.0.10\", \"fd00::10\", \"10.96.0.11\"}: may only hold up to 2 values")),
            ("three IPv4", |s| {
                spec(s).cluster_ips = Some(vec!["10.96.0.10".into(), "10.96.0.11".into(), "10.96.0.12".into()]);
            }, vec![
                "spec.clusterIPs: Invalid value: []string{\"10.96.0.10\", \"10.96.0.11\", \"10.96.0.12\"}: may only hold up to 2 values".into(),
                "spec.clusterIPs: Invalid value: []string{\"10.96.0.10\", \"10.96.0.11\", \"10.96.0.12\"}: may specify no more than one IP for each IP family".into(),
            ]),
            ("two IPv4", |s| {
                let sp = spec(s);
                sp.cluster_ips = Some(vec!["10.96.0.10".into(), "10.96.0.11".into()]);
                sp.ip_family_policy = Some(IP_FAMILY_POLICY_REQUIRE_DUAL_STACK.into());
            }, one("spec.clusterIPs: Invalid value: []string{\"10.96.0.10\", \"10.96.0.11\"}: may specify no more than one IP for each IP family")),
            ("family mismatch", |s| spec(s).ip_families = Some(vec![IP_FAMILY_IPV6.into()]),
                one("spec.clusterIPs[0]: Invalid value: \"10.96.0.10\": expected an IPv6 value as indicated by `ipFamilies[0]`")),
            ("family mismatch v6 as v4", |s| {
                let sp = spec(s);
                sp.cluster_ip = Some("fd00::10".into());
                sp.cluster_ips = Some(vec!["fd00::10".into()]);
            }, one("spec.clusterIPs[0]: Invalid value: \"fd00::10\": expected an IPv4 value as indicated by `ipFamilies[0]`")),
            ("headless skips family match", |s| {
                headless(s);
                spec(s).ip_families = Some(vec![IP_FAMILY_IPV6.into()]);
            }, vec![]),
        ]);
    }

    #[test]
    fn cluster_ips_related_is_skipped_for_external_name() {
        let mut svc = base();
        external_name(&mut svc);
        spec(&mut svc).cluster_ips = Some(vec!["bogus".into()]);
        assert!(validate_cluster_ips_related(&svc).is_empty());
        assert_eq!(
            texts(&validate_service(&svc)),
            one("spec.clusterIPs: Forbidden: may not be set for ExternalName services")
        );
        let mut svc = base();
        spec(&mut svc).cluster_ips = Some(vec!["bogus".into()]);
        spec(&mut svc).cluster_ip = Some("bogus".into());
        assert_eq!(
            validate_cluster_ips_related(&svc).aggregate(),
            "spec.clusterIPs[0]: Invalid value: \"bogus\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
        );
    }

    #[test]
    fn external_name_rules() {
        run(vec![
            (
                "everything forbidden then externalName",
                |s| {
                    external_name(s);
                    let sp = spec(s);
                    sp.cluster_ips = Some(vec!["10.96.0.10".into()]);
                    sp.ip_families = Some(vec![IP_FAMILY_IPV4.into()]);
                    sp.ip_family_policy = Some(IP_FAMILY_POLICY_SINGLE_STACK.into());
                    sp.external_name = Some(".".into());
                },
                vec![
                    "spec.clusterIPs: Forbidden: may not be set for ExternalName services".into(),
                    "spec.ipFamilies: Forbidden: may not be set for ExternalName services".into(),
                    "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services"
                        .into(),
                    "spec.externalName: Required value".into(),
                ],
            ),
            (
                "missing externalName",
                |s| {
                    external_name(s);
                    spec(s).external_name = None;
                },
                one("spec.externalName: Required value"),
            ),
            (
                "only one trailing dot is stripped",
                |s| {
                    external_name(s);
                    spec(s).external_name = Some("a..".into());
                },
                one(&format!(
                    "spec.externalName: Invalid value: \"a.\": {SUBDOMAIN_MSG}"
                )),
            ),
            (
                "ETP on ExternalName",
                |s| {
                    external_name(s);
                    spec(s).external_traffic_policy = Some(TRAFFIC_POLICY_CLUSTER.into());
                },
                one(
                    "spec.externalTrafficPolicy: Invalid value: \"Cluster\": may only be set for externally-accessible services",
                ),
            ),
            (
                "ExternalName keeps externalIP checks",
                |s| {
                    external_name(s);
                    spec(s).external_ips = Some(vec!["127.0.0.1".into()]);
                },
                one(
                    "spec.externalIPs[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                ),
            ),
        ]);
    }

    #[test]
    fn external_ip_rules() {
        run(vec![
            ("not an IP", |s| {
                spec(s).external_ips = Some(vec!["1.2.3".into()]);
                spec(s).external_traffic_policy = Some(TRAFFIC_POLICY_CLUSTER.into());
            }, one("spec.externalIPs[0]: Invalid value: \"1.2.3\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")),
            ("special ranges", |s| {
                spec(s).external_ips = Some(vec![
                    "0.0.0.0".into(), "::".into(), "::1".into(), "169.254.1.1".into(), "fe80::1".into(),
                    "224.0.0.5".into(), "ff02::1".into(), "::ffff:127.0.0.1".into(), "2001:db8::1".into(),
                ]);
                spec(s).external_traffic_policy = Some(TRAFFIC_POLICY_CLUSTER.into());
            }, vec![
                "spec.externalIPs[0]: Invalid value: \"0.0.0.0\": may not be unspecified (0.0.0.0)".into(),
                "spec.externalIPs[1]: Invalid value: \"::\": may not be unspecified (::)".into(),
                "spec.externalIPs[2]: Invalid value: \"::1\": may not be in the loopback range (127.0.0.0/8, ::1/128)".into(),
                "spec.externalIPs[3]: Invalid value: \"169.254.1.1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)".into(),
                "spec.externalIPs[4]: Invalid value: \"fe80::1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)".into(),
                "spec.externalIPs[5]: Invalid value: \"224.0.0.5\": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)".into(),
                "spec.externalIPs[6]: Invalid value: \"ff02::1\": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)".into(),
                "spec.externalIPs[7]: Invalid value: \"::ffff:127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)".into(),
            ]),
            ("external IPs make ClusterIP externally accessible", |s| {
                spec(s).external_ips = Some(vec!["203.0.113.9".into()]);
            }, one("spec.externalTrafficPolicy: Required value")),
        ]);
    }

    #[test]
    fn type_rules() {
        run(vec![
            ("unsupported type", |s| spec(s).type_ = Some("Ingress".into()), vec![
                "spec.type: Unsupported value: \"Ingress\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"".into(),
            ]),
            ("type required (unreachable)", |s| spec(s).type_ = None, one("spec.type: Required value")),
        ]);
    }

    #[test]
    fn load_balancer_only_fields() {
        run(vec![
            ("source ranges on ClusterIP, forbidden and invalid", |s| {
                spec(s).load_balancer_source_ranges = Some(vec![" 10.0.0.0/8 ".into(), " bad ".into()]);
            }, vec![
                "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'".into(),
                "spec.LoadBalancerSourceRanges[1]: Invalid value: \"bad\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)".into(),
            ]),
            ("host bits allowed, bare IP not", |s| {
                load_balancer(s);
                spec(s).load_balancer_source_ranges = Some(vec!["10.0.0.1/8".into(), "10.0.0.1".into()]);
            }, one("spec.LoadBalancerSourceRanges[1]: Invalid value: \"10.0.0.1\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")),
            ("annotation on ClusterIP", |s| {
                s.metadata.annotations = Some([(ANNOTATION_LB_SOURCE_RANGES.to_string(), "10.0.0.0/8, x ,".to_string())].into());
            }, vec![
                "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Forbidden: may only be used when `type` is 'LoadBalancer'".into(),
                "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Invalid value: \"x\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)".into(),
                "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Invalid value: \"\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)".into(),
            ]),
            ("annotation ignored when field set", |s| {
                load_balancer(s);
                spec(s).load_balancer_source_ranges = Some(vec!["10.0.0.0/8".into()]);
                s.metadata.annotations = Some([(ANNOTATION_LB_SOURCE_RANGES.to_string(), "x".to_string())].into());
            }, vec![]),
            ("allocateLoadBalancerNodePorts on ClusterIP", |s| spec(s).allocate_load_balancer_node_ports = Some(false),
                one("spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'")),
            ("allocateLoadBalancerNodePorts required (unreachable)", |s| {
                load_balancer(s);
                spec(s).allocate_load_balancer_node_ports = None;
            }, one("allocateLoadBalancerNodePorts: Required value")),
            ("class on ClusterIP", |s| spec(s).load_balancer_class = Some("example.com/lb".into()),
                one("spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'")),
            ("bad class on LB", |s| {
                load_balancer(s);
                spec(s).load_balancer_class = Some("my class".into());
            }, one(&format!("spec.loadBalancerClass: Invalid value: \"my class\": {NAME_PART_MSG}"))),
        ]);
    }

    #[test]
    fn traffic_policy_rules() {
        run(vec![
            (
                "ETP Global",
                |s| {
                    node_port(s);
                    spec(s).external_traffic_policy = Some("Global".into());
                },
                one(
                    "spec.externalTrafficPolicy: Unsupported value: \"Global\": supported values: \"Cluster\", \"Local\"",
                ),
            ),
            (
                "ETP required (unreachable)",
                |s| {
                    node_port(s);
                    spec(s).external_traffic_policy = None;
                },
                one("spec.externalTrafficPolicy: Required value"),
            ),
            (
                "health check port without LB+Local",
                |s| {
                    node_port(s);
                    spec(s).health_check_node_port = Some(31000);
                },
                one(
                    "spec.healthCheckNodePort: Invalid value: 31000: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
                ),
            ),
            (
                "health check port required (unreachable)",
                |s| {
                    load_balancer(s);
                    spec(s).external_traffic_policy = Some(TRAFFIC_POLICY_LOCAL.into());
                },
                one("spec.healthCheckNodePort: Required value"),
            ),
            (
                "health check port out of range",
                |s| {
                    load_balancer(s);
                    spec(s).external_traffic_policy = Some(TRAFFIC_POLICY_LOCAL.into());
                    spec(s).health_check_node_port = Some(70000);
                },
                one(
                    "spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                ),
            ),
            (
                "ITP unsupported",
                |s| spec(s).internal_traffic_policy = Some("Node".into()),
                one(
                    "spec.internalTrafficPolicy: Unsupported value: \"Node\": supported values: \"Cluster\", \"Local\"",
                ),
            ),
            (
                "ITP required (unreachable)",
                |s| spec(s).internal_traffic_policy = None,
                one("spec.internalTrafficPolicy: Required value"),
            ),
            ("ITP may be absent on ExternalName", external_name, vec![]),
            (
                "trafficDistribution",
                |s| spec(s).traffic_distribution = Some("PreferSameZone".into()),
                one(
                    "spec.trafficDistribution: Unsupported value: \"PreferSameZone\": supported values: \"PreferClose\"",
                ),
            ),
            (
                "trafficDistribution PreferClose",
                |s| spec(s).traffic_distribution = Some(TRAFFIC_DISTRIBUTION_PREFER_CLOSE.into()),
                vec![],
            ),
        ]);
    }

    #[test]
    fn errors_follow_section_6_order() {
        let mut svc = base();
        svc.metadata.labels = Some([("bad key".to_string(), "v".to_string())].into());
        let sp = spec(&mut svc);
        sp.type_ = Some(TYPE_CLUSTER_IP.into());
        sp.ports = Some(vec![
            ServicePort {
                node_port: Some(30080),
                ..port(Some("a"), 0)
            },
            ServicePort {
                node_port: Some(30080),
                ..port(Some("a"), 0)
            },
        ]);
        sp.selector = Some([("app".to_string(), "-".to_string())].into());
        sp.session_affinity = Some("x".into());
        sp.ip_family_policy = Some("x".into());
        sp.external_ips = Some(vec!["bad".into()]);
        sp.load_balancer_source_ranges = Some(vec!["10.0.0.0/8".into()]);
        sp.allocate_load_balancer_node_ports = Some(true);
        sp.load_balancer_class = Some("c".into());
        // The external IP makes a ClusterIP externally accessible, so the ETP is checked by value.
        sp.external_traffic_policy = Some("Global".into());
        sp.health_check_node_port = Some(1);
        sp.internal_traffic_policy = Some("x".into());
        sp.traffic_distribution = Some("x".into());
        let paths: Vec<String> = validate_service(&svc)
            .iter()
            .map(|e| e.field.clone())
            .collect();
        assert_eq!(
            paths,
            vec![
                "metadata.labels",
                "spec.ports[0].port",
                "spec.ports[0].targetPort",
                "spec.ports[1].name",
                "spec.ports[1].port",
                "spec.ports[1].targetPort",
                "spec.selector",
                "spec.sessionAffinity",
                "spec.ipFamilyPolicy",
                "spec.externalIPs[0]",
                "spec.ports[0].nodePort",
                "spec.ports[1].nodePort",
                "spec.ports[1].nodePort",
                "spec.ports[1]",
                "spec.LoadBalancerSourceRanges",
                "spec.allocateLoadBalancerNodePorts",
                "spec.loadBalancerClass",
                "spec.externalTrafficPolicy",
                "spec.healthCheckNodePort",
                "spec.internalTrafficPolicy",
                "spec.trafficDistribution",
            ]
        );
    }

    fn update_case(change: fn(&mut Service), old_change: fn(&mut Service)) -> Vec<String> {
        let mut old = base();
        old_change(&mut old);
        let mut new = old.clone();
        change(&mut new);
        texts(&validate_service_update(&new, &old))
    }

    #[test]
    fn update_of_unchanged_service_is_valid() {
        assert!(update_case(|_| {}, |_| {}).is_empty());
        assert!(update_case(|_| {}, load_balancer).is_empty());
        assert!(update_case(|_| {}, external_name).is_empty());
    }

    #[test]
    fn update_worked_example_13_cluster_ip_change() {
        let got = update_case(
            |s| {
                spec(s).cluster_ip = Some("10.96.0.99".into());
                spec(s).cluster_ips = Some(vec!["10.96.0.99".into()]);
            },
            |_| {},
        );
        assert_eq!(
            got,
            one(
                "spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.99\"}: may not change once set"
            )
        );
    }

    #[test]
    fn update_bad_label_gives_four_identical_causes() {
        let mut old = base();
        old.metadata.uid = Some("u".into());
        let mut new = old.clone();
        new.metadata.labels = Some([("my label".to_string(), "x".to_string())].into());
        let errs = validate_service_update(&new, &old);
        let want = format!("metadata.labels: Invalid value: \"my label\": {NAME_PART_MSG}");
        assert_eq!(
            texts(&errs),
            vec![want.clone(), want.clone(), want.clone(), want.clone()]
        );
        assert_eq!(errs.aggregate(), want);
    }

    #[test]
    fn update_immutability_rules() {
        type UpdateCase = (
            &'static str,
            fn(&mut Service),
            fn(&mut Service),
            Vec<String>,
        );
        let cases: Vec<UpdateCase> = vec![
            ("name immutable (generic update, then core update)", |s| s.metadata.name = Some("web2".into()), |_| {}, vec![
                "metadata.name: Invalid value: \"web2\": field is immutable".into(),
                "metadata.name: Invalid value: \"web2\": field is immutable".into(),
            ]),
            ("to headless is a clusterIP change", headless, |_| {}, one("spec.clusterIPs[0]: Invalid value: []string{\"None\"}: may not change once set")),
            ("headless to headless is fine", |_| {}, headless, vec![]),
            ("release secondary without SingleStack", |s| {
                spec(s).cluster_ips = Some(vec!["10.96.0.10".into()]);
                spec(s).ip_families = Some(vec![IP_FAMILY_IPV4.into()]);
            }, |s| {
                let sp = spec(s);
                sp.cluster_ips = Some(vec!["10.96.0.10".into(), "fd00::10".into()]);
                sp.ip_families = Some(vec![IP_FAMILY_IPV4.into(), IP_FAMILY_IPV6.into()]);
                sp.ip_family_policy = Some(IP_FAMILY_POLICY_PREFER_DUAL_STACK.into());
            }, vec![
                "spec.ipFamilyPolicy: Invalid value: \"PreferDualStack\": must be set to 'SingleStack' when releasing the secondary clusterIP".into(),
                "spec.ipFamilyPolicy: Invalid value: \"PreferDualStack\": must be set to 'SingleStack' when releasing the secondary ipFamily".into(),
            ]),
            ("release secondary with SingleStack", |s| {
                let sp = spec(s);
                sp.cluster_ips = Some(vec!["10.96.0.10".into()]);
                sp.ip_families = Some(vec![IP_FAMILY_IPV4.into()]);
                sp.ip_family_policy = Some(IP_FAMILY_POLICY_SINGLE_STACK.into());
            }, |s| {
                let sp = spec(s);
                sp.cluster_ips = Some(vec!["10.96.0.10".into(), "fd00::10".into()]);
                sp.ip_families = Some(vec![IP_FAMILY_IPV4.into(), IP_FAMILY_IPV6.into()]);
                sp.ip_family_policy = Some(IP_FAMILY_POLICY_PREFER_DUAL_STACK.into());
            }, vec![]),
            ("upgrade with changed primary", |s| {
                let sp = spec(s);
                sp.cluster_ip = Some("10.96.0.11".into());
                sp.cluster_ips = Some(vec!["10.96.0.11".into(), "fd00::10".into()]);
                sp.ip_families = Some(vec![IP_FAMILY_IPV4.into(), IP_FAMILY_IPV6.into()]);
                sp.ip_family_policy = Some(IP_FAMILY_POLICY_PREFER_DUAL_STACK.into());
            }, |_| {}, one("spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\", \"fd00::10\"}: may not change once set")),
            ("primary clusterIP unset", |s| {
                let sp = spec(s);
                sp.cluster_ip = None;
                sp.cluster_ips = None;
            }, |_| {}, one("spec.clusterIPs[0]: Invalid value: []string(nil): primary clusterIP can not be unset")),
            ("family change", |s| {
                let sp = spec(s);
                sp.cluster_ip = Some("fd00::10".into());
                sp.cluster_ips = Some(vec!["fd00::10".into()]);
                sp.ip_families = Some(vec![IP_FAMILY_IPV6.into()]);
            }, |_| {}, vec![
                "spec.clusterIPs[0]: Invalid value: []string{\"fd00::10\"}: may not change once set".into(),
                "spec.ipFamilies[0]: Invalid value: []core.IPFamily{\"IPv6\"}: may not change once set".into(),
            ]),
            ("loadBalancerClass change nil to set", |s| spec(s).load_balancer_class = Some("example.com/lb".into()), load_balancer,
                one("spec.loadBalancerClass: Invalid value: \"example.com/lb\": may not change once set")),
            ("loadBalancerClass removal prints null", |s| spec(s).load_balancer_class = None, |s| {
                load_balancer(s);
                spec(s).load_balancer_class = Some("example.com/lb".into());
            }, one("spec.loadBalancerClass: Invalid value: \"null\": may not change once set")),
            ("bad class change reported by the update rule and by ValidateService", |s| spec(s).load_balancer_class = Some("a b".into()), load_balancer, vec![
                "spec.loadBalancerClass: Invalid value: \"a b\": may not change once set".into(),
                format!("spec.loadBalancerClass: Invalid value: \"a b\": {NAME_PART_MSG}"),
                format!("spec.loadBalancerClass: Invalid value: \"a b\": {NAME_PART_MSG}"),
            ]),
            ("health check port immutable, range checked too", |s| spec(s).health_check_node_port = Some(70000), |s| {
                load_balancer(s);
                spec(s).external_traffic_policy = Some(TRAFFIC_POLICY_LOCAL.into());
                spec(s).health_check_node_port = Some(31000);
            }, vec![
                "spec.healthCheckNodePort: Forbidden: field is immutable".into(),
                "spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive".into(),
            ]),
            ("NodePort to ClusterIP keeping a changed nodePort", |s| {
                let sp = spec(s);
                sp.type_ = Some(TYPE_CLUSTER_IP.into());
                sp.external_traffic_policy = None;
                if let Some(p) = sp.ports.iter_mut().flatten().next() {
                    p.node_port = Some(30999);
                }
            }, node_port, one("spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'")),
            ("to ExternalName skips clusterIP immutability", external_name, |_| {}, vec![]),
        ];
        for (name, change, old_change, want) in cases {
            assert_eq!(update_case(change, old_change), want, "case {name}");
        }
    }

    fn status_case(svc_type: fn(&mut Service), ingress: Vec<LoadBalancerIngress>) -> Vec<String> {
        let mut old = base();
        svc_type(&mut old);
        let mut new = old.clone();
        new.status = Some(ServiceStatus {
            load_balancer: Some(LoadBalancerStatus {
                ingress: Some(ingress),
            }),
            ..Default::default()
        });
        texts(&validate_service_status_update(&new, &old))
    }

    fn ingress(
        ip: Option<&str>,
        mode: Option<&str>,
        hostname: Option<&str>,
    ) -> LoadBalancerIngress {
        LoadBalancerIngress {
            ip: ip.map(Into::into),
            ip_mode: mode.map(Into::into),
            hostname: hostname.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn status_update_rules() {
        assert!(
            status_case(
                load_balancer,
                vec![ingress(Some("203.0.113.5"), Some(IP_MODE_VIP), None)]
            )
            .is_empty()
        );
        assert!(
            status_case(
                load_balancer,
                vec![ingress(None, None, Some("lb.example.com"))]
            )
            .is_empty()
        );
        assert!(status_case(|_| {}, vec![]).is_empty());
        assert_eq!(
            status_case(
                |_| {},
                vec![ingress(Some("203.0.113.5"), Some(IP_MODE_VIP), None)]
            ),
            one(
                "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"
            )
        );
        assert_eq!(
            status_case(load_balancer, vec![
                ingress(Some("bad"), None, None),
                ingress(None, Some(IP_MODE_PROXY), None),
                ingress(Some("1.2.3.4"), Some("Direct"), None),
                ingress(None, None, Some("1.2.3.4")),
                ingress(None, None, Some("LB.example.com")),
            ]),
            vec![
                "status.loadBalancer.ingress[0].ip: Invalid value: \"bad\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".to_string(),
                "status.loadBalancer.ingress[0].ipMode: Required value: must be specified when `ip` is set".into(),
                "status.loadBalancer.ingress[1].ipMode: Forbidden: may not be specified when `ip` is not set".into(),
                "status.loadBalancer.ingress[2].ipMode: Unsupported value: \"Direct\": supported values: \"Proxy\", \"VIP\"".into(),
                "status.loadBalancer.ingress[3].hostname: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address".into(),
                format!("status.loadBalancer.ingress[4].hostname: Invalid value: \"LB.example.com\": {SUBDOMAIN_MSG}"),
            ]
        );
    }

    #[test]
    fn status_update_checks_metadata_update_rules() {
        let old = base();
        let mut new = old.clone();
        new.metadata.namespace = Some("other".into());
        assert_eq!(
            texts(&validate_service_status_update(&new, &old)),
            vec![
                "metadata.namespace: Invalid value: \"other\": field is immutable".to_string(),
                "metadata.namespace: Invalid value: \"other\": field is immutable".into(),
            ]
        );
    }

    #[test]
    fn missing_spec_does_not_panic() {
        let svc = Service {
            metadata: base().metadata,
            spec: None,
            status: None,
        };
        assert_eq!(
            texts(&validate_service(&svc)),
            vec![
                "spec.ports: Required value".to_string(),
                "spec.sessionAffinity: Required value".into(),
                "spec.type: Required value".into(),
            ]
        );
        assert!(!validate_service_update(&svc, &svc).is_empty());
    }
}
