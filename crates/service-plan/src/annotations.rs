//! The Alibaba Cloud CLB annotation catalog (`data/ack-annotations.json`), the value checks
//! ACK's cloud controller manager (CCM) applies to a Service's annotations, and the typed view
//! of them that the SLB plan ([`crate::slb`]) reads. Texts are CCM's where CCM has one.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::field::go_quote;
use crate::format::{is_dns1123_subdomain, parse_ip_sloppy};

/// The prefix of every CLB annotation key.
pub const PREFIX: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-";
/// The prefix before the 2019-09-11 rename; still read, the new prefix wins when both are set.
pub const LEGACY_PREFIX: &str = "service.beta.kubernetes.io/alicloud-loadbalancer-";

/// `…-address-type`: `internet` or `intranet`.
pub const ADDRESS_TYPE: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type";
/// `…-id`: reuse an existing, manually created CLB.
pub const LOAD_BALANCER_ID: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id";
/// `…-force-override-listeners`: manage this Service's listeners on a reused CLB.
pub const FORCE_OVERRIDE_LISTENERS: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners";
/// `…-spec`: pay-by-spec specification, e.g. `slb.s1.small`.
pub const SPEC: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec";
/// `…-instance-charge-type`: `PayBySpec` or `PayByCLCU`.
pub const INSTANCE_CHARGE_TYPE: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-instance-charge-type";
/// `…-charge-type`: internet charge type, `paybytraffic` or `paybybandwidth`.
pub const CHARGE_TYPE: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-charge-type";
/// `…-bandwidth`: Mbit/s for pay-by-bandwidth internet CLBs.
pub const BANDWIDTH: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-bandwidth";
/// `…-name`: the CLB name.
pub const NAME: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-name";
/// `…-ip`: a pinned internal address.
pub const IP: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-ip";
/// `…-ip-version`: `ipv4` or `ipv6`.
pub const IP_VERSION: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-ip-version";
/// `…-delete-protection`: `on` or `off`.
pub const DELETE_PROTECTION: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-delete-protection";
/// `…-modification-protection`: `ConsoleProtection` or `NonProtection`.
pub const MODIFICATION_PROTECTION: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-modification-protection";
/// `…-additional-resource-tags`: `k1=v1,k2=v2`.
pub const ADDITIONAL_RESOURCE_TAGS: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-additional-resource-tags";
/// `…-preserve-lb-on-delete`: any non-empty value keeps a CCM-created CLB on delete.
pub const PRESERVE_LB_ON_DELETE: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-preserve-lb-on-delete";
/// `…-hostname`: written to `status.loadBalancer.ingress[0].hostname`.
pub const HOSTNAME: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-hostname";
/// `…-external-ip-type`: `eip` shows the EIPs bound to the CLB instead of its address.
pub const EXTERNAL_IP_TYPE: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-external-ip-type";
/// `…-protocol-port`: `https:443,http:80` overrides listener protocols.
pub const PROTOCOL_PORT: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-protocol-port";
/// `…-forward-port`: `80:443` redirects an HTTP listener to an HTTPS one.
pub const FORWARD_PORT: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-forward-port";
/// `…-domain-extensions`: `domain:certId,…`.
pub const DOMAIN_EXTENSIONS: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-domain-extensions";
/// `…-scheduler`: `rr` (listener default), `wrr`, `sch` or `tch`.
pub const SCHEDULER: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-scheduler";
/// `…-sticky-session`: `on` or `off` (layer-7 listeners).
pub const STICKY_SESSION: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-sticky-session";
/// `…-persistence-timeout`: TCP session persistence in seconds, 0 disables it.
pub const PERSISTENCE_TIMEOUT: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-persistence-timeout";
/// `…-backend-label`: only nodes carrying all these `k=v` labels are backends.
pub const BACKEND_LABEL: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-backend-label";
/// `service.beta.kubernetes.io/backend-type`: `eni` (pods) or `ecs` (nodes).
pub const BACKEND_TYPE: &str = "service.beta.kubernetes.io/backend-type";
/// `…-remove-unscheduled-backend`: `on` drops cordoned nodes from the backends.
pub const REMOVE_UNSCHEDULED_BACKEND: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-remove-unscheduled-backend";
/// `…-vgroup-port`: `rsp-xxx:80,…` binds user-managed vServer groups on a reused CLB.
pub const VGROUP_PORT: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-vgroup-port";
/// `…-weight`: total weight of this Service's backends in a user-managed vServer group.
pub const WEIGHT: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-weight";
/// `…-default-weight`: weight of each backend in Cluster and ENI mode.
pub const DEFAULT_WEIGHT: &str =
    "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-default-weight";
/// `service.beta.kubernetes.io/class`: any non-empty value hands the Service to another controller.
pub const CLASS: &str = "service.beta.kubernetes.io/class";
/// `…-tunnel-type`: its presence hands the Service to another controller.
pub const TUNNEL_TYPE: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-tunnel-type";

/// CLB keys CCM reads that the catalog does not list; they are not "unknown".
///
/// The catalog calls the network-type key `…-network-type`, while CCM's `annotations.go` reads
/// `…-slb-network-type`; both are accepted so neither draws a warning.
const EXTRA_KNOWN_SUFFIXES: [&str; 1] = ["slb-network-type"];

/// The catalog as shipped, embedded so the rules need no file system.
const CATALOG_JSON: &str = include_str!("../data/ack-annotations.json");

/// One annotation of the catalog, as `data/ack-annotations.json` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The full annotation key.
    pub name: String,
    /// `string`, `int`, `bool`, `enum` or `list:<item format>`.
    pub value_type: String,
    /// The allowed values: a list for enums, a range (`min..max`) or format text, or nothing.
    pub allowed: Option<Allowed>,
    /// The value CCM or the docs assume when the annotation is unset.
    pub default: Option<String>,
    /// Which Services and CLBs it applies to.
    pub applies_to: String,
    /// One or two sentences on what it does.
    pub summary: String,
    /// Where the facts come from.
    pub source: String,
}

/// The `allowed` member of a catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Allowed {
    /// The values of an enum (or `true`/`false`).
    Values(Vec<String>),
    /// A range `min..max` (with free text after it) or a description of the format.
    Text(String),
}

/// The catalog, parsed once.
pub fn catalog() -> &'static [CatalogEntry] {
    static CATALOG: OnceLock<Vec<CatalogEntry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(CATALOG_JSON)
            .expect("the embedded catalog is valid: the catalog_parses test reads it at build time")
    })
}

/// The catalog entry for a key, accepting the legacy `alicloud-` prefix too.
pub fn find(key: &str) -> Option<&'static CatalogEntry> {
    let key = canonical_key(key);
    catalog().iter().find(|e| e.name == key)
}

/// The current spelling of a key: the legacy `alicloud-loadbalancer-` prefix becomes
/// `alibaba-cloud-loadbalancer-`.
pub fn canonical_key(key: &str) -> String {
    match key.strip_prefix(LEGACY_PREFIX) {
        Some(suffix) => format!("{PREFIX}{suffix}"),
        None => key.to_string(),
    }
}

/// Mirrors `AnnotationRequest.Get`: the current key wins, the legacy key is the fallback, and
/// an empty value counts as unset.
pub fn get<'a>(annotations: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    let value = annotations.get(key).or_else(|| {
        key.strip_prefix(PREFIX)
            .filter(|_| any_legacy(annotations))
            .and_then(|suffix| annotations.get(&format!("{LEGACY_PREFIX}{suffix}")))
    })?;
    (!value.is_empty()).then_some(value.as_str())
}

/// Whether any key has the legacy prefix. Most Services carry none: one ordered lookup saves
/// building the legacy spelling of each of the dozens of keys a Service's view reads.
fn any_legacy(annotations: &BTreeMap<String, String>) -> bool {
    annotations
        .range::<str, _>((Bound::Included(LEGACY_PREFIX), Bound::Unbounded))
        .next()
        .is_some_and(|(k, _)| k.starts_with(LEGACY_PREFIX))
}

/// A CLB address type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressType {
    /// A public address.
    Internet,
    /// An address inside the cluster's VPC.
    Intranet,
}

impl AddressType {
    /// The annotation and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressType::Internet => "internet",
            AddressType::Intranet => "intranet",
        }
    }

    /// Parses the annotation value.
    pub fn parse(value: &str) -> Option<AddressType> {
        match value {
            "internet" => Some(AddressType::Internet),
            "intranet" => Some(AddressType::Intranet),
            _ => None,
        }
    }
}

/// The backend type chosen by `service.beta.kubernetes.io/backend-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendType {
    /// Nodes (ECS instances) behind NodePorts.
    Ecs,
    /// Pods, through their elastic network interfaces.
    Eni,
}

/// The annotations the SLB plan needs, parsed leniently: a value that fails its check is
/// reported by [`check`] and reads here as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClbAnnotations {
    /// `…-address-type`; `None` means unset (CCM then creates an internet CLB).
    pub address_type: Option<AddressType>,
    /// `…-spec`.
    pub spec: Option<String>,
    /// `…-instance-charge-type`.
    pub instance_charge_type: Option<String>,
    /// `…-charge-type` (internet charge type).
    pub charge_type: Option<String>,
    /// `…-bandwidth` in Mbit/s.
    pub bandwidth: Option<i32>,
    /// `…-id`: the CLB to reuse.
    pub load_balancer_id: Option<String>,
    /// `…-force-override-listeners` is `"true"`.
    pub force_override_listeners: bool,
    /// `…-name`.
    pub name: Option<String>,
    /// `…-ip`.
    pub ip: Option<String>,
    /// `…-ip-version`.
    pub ip_version: Option<String>,
    /// `…-delete-protection`.
    pub delete_protection: Option<String>,
    /// `…-modification-protection`.
    pub modification_protection: Option<String>,
    /// `…-additional-resource-tags`, parsed as CCM's `GetLoadBalancerAdditionalTags` does.
    pub additional_tags: BTreeMap<String, String>,
    /// `…-preserve-lb-on-delete` is set to a non-empty value.
    pub preserve_on_delete: bool,
    /// `…-hostname`.
    pub hostname: Option<String>,
    /// `…-external-ip-type: eip`.
    pub external_ip_type_eip: bool,
    /// `…-protocol-port` as `(protocol, service port)` pairs.
    pub protocol_port: Vec<(String, i32)>,
    /// `…-scheduler`; `None` means the listener default `rr`.
    pub scheduler: Option<String>,
    /// `…-sticky-session` is `on`.
    pub sticky_session: bool,
    /// `…-persistence-timeout` in seconds.
    pub persistence_timeout: Option<i32>,
    /// `…-backend-label` pairs; every pair must match a node's labels.
    pub backend_label: Vec<(String, String)>,
    /// `service.beta.kubernetes.io/backend-type`.
    pub backend_type: Option<BackendType>,
    /// `…-remove-unscheduled-backend` is `on`.
    pub remove_unscheduled_backend: bool,
    /// `…-vgroup-port` as `(vServer group id, service port)` pairs.
    pub vgroup_port: Vec<(String, i32)>,
    /// `…-weight`.
    pub weight: Option<i32>,
    /// `…-default-weight`.
    pub default_weight: Option<i32>,
    /// `service.beta.kubernetes.io/class` or `…-tunnel-type` hands the Service to another
    /// controller; the CLB controller ignores it.
    pub other_controller: bool,
}

impl ClbAnnotations {
    /// The listener scheduler CCM sets: the annotation, else `rr`.
    pub fn effective_scheduler(&self) -> &str {
        self.scheduler.as_deref().unwrap_or(SCHEDULER_RR)
    }
}

/// The listener default scheduler (`setDefaultValueForListener`).
pub const SCHEDULER_RR: &str = "rr";
/// The weighted round-robin scheduler, which honours backend weights.
pub const SCHEDULER_WRR: &str = "wrr";

/// One annotation value that fails its check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnotationError {
    /// The key as written on the Service.
    pub key: String,
    /// The offending value.
    pub value: String,
    /// The message, CCM's words where CCM has them.
    pub message: String,
}

/// The result of checking a Service's annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnnotationCheck {
    /// The typed view of the valid values.
    pub annotations: ClbAnnotations,
    /// One entry per invalid value, in key order.
    pub errors: Vec<AnnotationError>,
    /// `Warning` texts, e.g. for unknown `alibaba-cloud-loadbalancer-*` keys.
    pub warnings: Vec<String>,
}

/// Checks every CLB annotation of a Service and builds the typed view.
///
/// Known keys get their catalog check (enum, integer range, format) with CCM's texts where
/// CCM has one; unknown keys under the CLB prefix get a warning. Keys outside the CLB
/// namespace are not ours and are left alone.
pub fn check(annotations: &BTreeMap<String, String>) -> AnnotationCheck {
    let mut out = AnnotationCheck::default();
    for (key, value) in annotations {
        let canonical = canonical_key(key);
        let legacy = key.starts_with(LEGACY_PREFIX);
        // The current key wins over its legacy twin, so the legacy value is not checked.
        if legacy && annotations.contains_key(&canonical) {
            continue;
        }
        match catalog().iter().find(|e| e.name == canonical) {
            Some(entry) => {
                if !value.is_empty()
                    && let Some(message) = check_value(entry, value)
                {
                    out.errors.push(AnnotationError {
                        key: key.clone(),
                        value: value.clone(),
                        message,
                    });
                }
            }
            None => {
                let suffix = canonical.strip_prefix(PREFIX);
                let extra = suffix.is_some_and(|s| EXTRA_KNOWN_SUFFIXES.contains(&s));
                if suffix.is_some() && !extra {
                    out.warnings.push(unknown_key_warning(key));
                }
            }
        }
    }
    out.annotations = view(annotations, &out.errors);
    out
}

/// The `Warning` text for an unknown `alibaba-cloud-loadbalancer-*` key.
pub fn unknown_key_warning(key: &str) -> String {
    format!(
        "metadata.annotations[{key}]: unknown Alibaba Cloud load balancer annotation; the cloud controller ignores it"
    )
}

fn view(annotations: &BTreeMap<String, String>, errors: &[AnnotationError]) -> ClbAnnotations {
    let bad = |key: &str| errors.iter().any(|e| canonical_key(&e.key) == key);
    let get_ok = |key: &str| {
        if bad(key) {
            None
        } else {
            get(annotations, key)
        }
    };
    let string = |key: &str| get_ok(key).map(str::to_string);
    let int = |key: &str| get_ok(key).and_then(|v| v.parse::<i32>().ok());
    ClbAnnotations {
        address_type: get_ok(ADDRESS_TYPE).and_then(AddressType::parse),
        spec: string(SPEC),
        instance_charge_type: string(INSTANCE_CHARGE_TYPE),
        charge_type: string(CHARGE_TYPE),
        bandwidth: int(BANDWIDTH),
        load_balancer_id: string(LOAD_BALANCER_ID),
        // IsForceOverride compares with "true" exactly.
        force_override_listeners: get(annotations, FORCE_OVERRIDE_LISTENERS) == Some("true"),
        name: string(NAME),
        ip: string(IP),
        ip_version: string(IP_VERSION),
        delete_protection: string(DELETE_PROTECTION),
        modification_protection: string(MODIFICATION_PROTECTION),
        additional_tags: get(annotations, ADDITIONAL_RESOURCE_TAGS)
            .map(parse_additional_tags)
            .unwrap_or_default(),
        preserve_on_delete: get(annotations, PRESERVE_LB_ON_DELETE).is_some(),
        hostname: string(HOSTNAME),
        external_ip_type_eip: get_ok(EXTERNAL_IP_TYPE) == Some("eip"),
        protocol_port: get_ok(PROTOCOL_PORT)
            .map(|v| {
                pairs(v)
                    .filter_map(|(p, port)| Some((p, port.parse().ok()?)))
                    .collect()
            })
            .unwrap_or_default(),
        scheduler: string(SCHEDULER),
        sticky_session: get_ok(STICKY_SESSION) == Some("on"),
        persistence_timeout: int(PERSISTENCE_TIMEOUT),
        backend_label: get_ok(BACKEND_LABEL)
            .map(|v| {
                v.split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        backend_type: match annotations.get(BACKEND_TYPE).map(String::as_str) {
            Some("eni") => Some(BackendType::Eni),
            Some("ecs") => Some(BackendType::Ecs),
            _ => None,
        },
        remove_unscheduled_backend: get_ok(REMOVE_UNSCHEDULED_BACKEND) == Some("on"),
        vgroup_port: get_ok(VGROUP_PORT)
            .map(|v| {
                pairs(v)
                    .filter_map(|(id, port)| Some((id, port.parse().ok()?)))
                    .collect()
            })
            .unwrap_or_default(),
        weight: int(WEIGHT),
        default_weight: int(DEFAULT_WEIGHT),
        other_controller: annotations.get(CLASS).is_some_and(|v| !v.is_empty())
            || annotations.contains_key(TUNNEL_TYPE),
    }
}

/// `a:b,c:d` as pairs, the way CCM splits `protocol-port` and `vgroup-port`.
fn pairs(value: &str) -> impl Iterator<Item = (String, String)> + '_ {
    value.split(',').filter_map(|item| {
        let mut parts = item.split(':');
        Some((parts.next()?.to_string(), parts.next()?.to_string()))
    })
}

/// Mirrors `GetLoadBalancerAdditionalTags`: `Key=Val`, `Key=` or `Key`, comma-separated.
fn parse_additional_tags(value: &str) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for item in value.trim().split(',') {
        let parts: Vec<&str> = item.trim().split('=').collect();
        match parts.as_slice() {
            [key, value, ..] if !key.is_empty() => {
                tags.insert(key.to_string(), value.to_string());
            }
            [key] if !key.is_empty() => {
                tags.insert(key.to_string(), String::new());
            }
            _ => {}
        }
    }
    tags
}

/// Go's `strconv.Atoi` error text for a value that is not a decimal `int`.
fn atoi_error(value: &str) -> String {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    let syntax_ok = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let reason = if syntax_ok {
        "value out of range"
    } else {
        "invalid syntax"
    };
    format!("strconv.Atoi: parsing {}: {reason}", go_quote(value))
}

/// Parses like Go's `strconv.Atoi` on a 64-bit platform: an optional sign, then digits.
fn atoi(value: &str) -> Result<i64, String> {
    value.parse::<i64>().map_err(|_| atoi_error(value))
}

/// CCM's names for listener integers in `Annotation <Name> must be integer, but got [...]`.
fn ccm_integer_name(suffix: &str) -> Option<&'static str> {
    Some(match suffix {
        "persistence-timeout" => "persistence timeout",
        "established-timeout" => "EstablishedTimeout",
        "idle-timeout" => "IdleTimeout",
        "request-timeout" => "RequestTimeout",
        "connection-drain-timeout" => "ConnectionDrainTimeout",
        "cookie-timeout" => "CookieTimeout",
        "healthy-threshold" => "HealthyThreshold",
        "unhealthy-threshold" => "UnhealthyThreshold",
        "health-check-connect-timeout" => "HealthCheckConnectTimeout",
        "health-check-connect-port" => "HealthCheckConnectPort",
        "health-check-interval" => "HealthCheckInterval",
        "health-check-timeout" => "HealthCheckTimeout",
        _ => return None,
    })
}

/// The check for one non-empty value of a known key; `None` when it is valid.
fn check_value(entry: &CatalogEntry, value: &str) -> Option<String> {
    let suffix = entry.name.strip_prefix(PREFIX).unwrap_or(&entry.name);
    match suffix {
        // These three have CCM texts that cover both syntax and range.
        "bandwidth" => {
            return match atoi(value) {
                Err(e) => Some(format!(
                    "bandwidth must be integer, got [{value}], error: {e}"
                )),
                Ok(n) if n < 1 => Some(format!(
                    "bandwidth must be a positive integer, got [{value}]"
                )),
                Ok(_) => None,
            };
        }
        "weight" => {
            return match atoi(value) {
                Ok(n) if (0..=100).contains(&n) => None,
                _ => Some(format!(
                    "weight must be integer in range [0,100] , got [{value}]"
                )),
            };
        }
        "default-weight" => {
            return match atoi(value) {
                Ok(n) if (0..=100).contains(&n) => None,
                _ => Some(format!(
                    "default weight must be integer in range [0,100], got [{value}]"
                )),
            };
        }
        "protocol-port" => return check_protocol_port(value),
        "forward-port" => return check_forward_port(value),
        "vgroup-port" => return check_vgroup_port(value),
        "backend-label" => return check_backend_label(value),
        "domain-extensions" => {
            return value
                .split(',')
                .map(str::trim)
                .find(|ext| ext.split(':').count() != 2)
                .map(|ext| format!("invalid domain extension {ext}"));
        }
        "id" => {
            return (!value.starts_with("lb-")).then(|| {
                format!("loadbalancer-id must be a CLB instance ID like lb-xxxxxxxx, got [{value}]")
            });
        }
        "ip" => {
            return match parse_ip_sloppy(value) {
                Some(std::net::IpAddr::V4(_)) => None,
                _ => Some(format!("ip must be an IPv4 address, got [{value}]")),
            };
        }
        "hostname" => {
            let errs = is_dns1123_subdomain(value);
            return (!errs.is_empty()).then(|| {
                format!(
                    "hostname must be a DNS name, got [{value}]: {}",
                    errs.join("; ")
                )
            });
        }
        "name" => return check_lb_name(value),
        _ => {}
    }
    match entry.value_type.as_str() {
        "enum" | "bool" => match &entry.allowed {
            Some(Allowed::Values(values)) if !values.iter().any(|v| v == value) => Some(format!(
                "{suffix} must be one of [{}], got [{value}]",
                values.join(",")
            )),
            _ => None,
        },
        "int" => check_int(suffix, entry, value),
        "list:enum" => {
            let Some(Allowed::Text(text)) = &entry.allowed else {
                return None;
            };
            // The catalog lists the members after "subset of".
            let members: Vec<&str> = text
                .split("subset of")
                .nth(1)
                .map(|s| s.split(',').map(str::trim).collect())
                .unwrap_or_default();
            value
                .split(',')
                .find(|item| !members.contains(item))
                .map(|item| {
                    format!(
                        "{suffix} must be a comma-separated subset of [{}], got [{item}]",
                        members.join(",")
                    )
                })
        }
        _ => None,
    }
}

/// Integer annotations: CCM's syntax text, then the catalog's `min..max` range.
fn check_int(suffix: &str, entry: &CatalogEntry, value: &str) -> Option<String> {
    let n = match atoi(value) {
        Ok(n) => n,
        Err(e) => {
            let name = ccm_integer_name(suffix).unwrap_or(suffix);
            return Some(format!(
                "Annotation {name} must be integer, but got [{value}]. message=[{e}] "
            ));
        }
    };
    let Some(Allowed::Text(text)) = &entry.allowed else {
        return None;
    };
    // `-520 (use backend port) or 1..65535` allows one extra value before the range.
    let special: Vec<i64> = text
        .split(" or ")
        .filter(|part| !part.contains(".."))
        .filter_map(|part| part.split_whitespace().next()?.parse().ok())
        .collect();
    let range = text.split_whitespace().find(|w| w.contains(".."))?;
    let (lo, hi) = range.split_once("..")?;
    let (lo, hi): (i64, i64) = (lo.parse().ok()?, hi.parse().ok()?);
    if (lo..=hi).contains(&n) || special.contains(&n) {
        return None;
    }
    Some(format!(
        "{suffix} must be in range [{lo},{hi}], got [{value}]"
    ))
}

/// Go's `%+v` of a `[]string`: `[a b]`.
fn go_slice(parts: &[&str]) -> String {
    format!("[{}]", parts.join(" "))
}

/// Mirrors `protocol` in `clbv1/listeners.go`.
fn check_protocol_port(value: &str) -> Option<String> {
    for item in value.split(',') {
        let pp: Vec<&str> = item.split(':').collect();
        if pp.len() < 2 {
            return Some(format!(
                "port and protocol format must be like 'https:443' with colon separated. got=[{}]",
                go_slice(&pp)
            ));
        }
        if !["http", "https", "tcp", "udp"].contains(&pp[0]) {
            // CCM's text ends in "\n", which a page or event cannot show; it is dropped.
            return Some(format!(
                "port protocol format must be either [http|https|tcp|udp], protocol not supported wit [{}]",
                pp[0]
            ));
        }
    }
    None
}

/// Mirrors `forwardPort` in `clbv1/listeners.go`, for every pair rather than the matching one.
fn check_forward_port(value: &str) -> Option<String> {
    for item in value.split(',') {
        let ports: Vec<&str> = item.split(':').collect();
        if ports.len() != 2 {
            return Some(format!(
                "forward port format error: {value}, expect 80:443,88:6443"
            ));
        }
        if atoi(ports[1]).is_err() {
            return Some(format!("forward port is not an integer, {}", ports[1]));
        }
    }
    None
}

/// Mirrors `vgroup` in `clbv1/listeners.go`.
fn check_vgroup_port(value: &str) -> Option<String> {
    value.split(',').find_map(|item| {
        let pp: Vec<&str> = item.split(':').collect();
        (pp.len() < 2).then(|| {
            format!(
                "vgroupid and protocol format must be like 'vsp-xxx:443' with colon separated. got=[{}]",
                go_slice(&pp)
            )
        })
    })
}

/// Mirrors `filterOutByLabel` in CCM's node helpers.
fn check_backend_label(value: &str) -> Option<String> {
    value
        .split(',')
        .find(|item| item.split('=').count() < 2)
        .map(|item| format!("parse backend label: {item}, [k1=v1,k2=v2]"))
}

/// The CLB name rule from the catalog: 2-128 characters, starting with a letter or Chinese
/// character; letters, digits, `.`, `_` and `-`.
fn check_lb_name(value: &str) -> Option<String> {
    let count = value.chars().count();
    let first_ok = value.chars().next().is_some_and(|c| c.is_alphabetic());
    let rest_ok = value
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    (!(2..=128).contains(&count) || !first_ok || !rest_ok).then(|| {
        format!(
            "name must be 2 to 128 characters, start with a letter or Chinese character and contain only letters, digits, '.', '_' and '-', got [{value}]"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::is_qualified_name;

    fn annos(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn catalog_parses() {
        assert_eq!(catalog().len(), 70);
    }

    #[test]
    fn every_catalog_key_is_a_valid_annotation_key() {
        for entry in catalog() {
            let errs = is_qualified_name(&entry.name.to_lowercase());
            assert!(errs.is_empty(), "{}: {errs:?}", entry.name);
        }
    }

    #[test]
    fn catalog_keys_are_unique() {
        let mut names: Vec<&str> = catalog().iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), catalog().len());
    }

    #[test]
    fn value_checks_print_ccm_texts() {
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "bandwidth not an integer",
                BANDWIDTH,
                "abc",
                r#"bandwidth must be integer, got [abc], error: strconv.Atoi: parsing "abc": invalid syntax"#,
            ),
            (
                "bandwidth out of int range",
                BANDWIDTH,
                "99999999999999999999",
                r#"bandwidth must be integer, got [99999999999999999999], error: strconv.Atoi: parsing "99999999999999999999": value out of range"#,
            ),
            (
                "weight above 100",
                WEIGHT,
                "101",
                "weight must be integer in range [0,100] , got [101]",
            ),
            (
                "weight not an integer",
                WEIGHT,
                "x",
                "weight must be integer in range [0,100] , got [x]",
            ),
            (
                "default weight negative",
                DEFAULT_WEIGHT,
                "-1",
                "default weight must be integer in range [0,100], got [-1]",
            ),
            (
                "persistence timeout not an integer",
                PERSISTENCE_TIMEOUT,
                "10s",
                r#"Annotation persistence timeout must be integer, but got [10s]. message=[strconv.Atoi: parsing "10s": invalid syntax] "#,
            ),
            (
                "healthy threshold not an integer",
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-healthy-threshold",
                "three",
                r#"Annotation HealthyThreshold must be integer, but got [three]. message=[strconv.Atoi: parsing "three": invalid syntax] "#,
            ),
            (
                "healthy threshold out of range",
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-healthy-threshold",
                "11",
                "healthy-threshold must be in range [2,10], got [11]",
            ),
            (
                "persistence timeout out of range",
                PERSISTENCE_TIMEOUT,
                "3601",
                "persistence-timeout must be in range [0,3600], got [3601]",
            ),
            (
                "protocol-port without colon",
                PROTOCOL_PORT,
                "https",
                "port and protocol format must be like 'https:443' with colon separated. got=[[https]]",
            ),
            (
                "protocol-port with an unknown protocol",
                PROTOCOL_PORT,
                "ftp:21",
                "port protocol format must be either [http|https|tcp|udp], protocol not supported wit [ftp]",
            ),
            (
                "forward-port without colon",
                FORWARD_PORT,
                "80",
                "forward port format error: 80, expect 80:443,88:6443",
            ),
            (
                "vgroup-port without colon",
                VGROUP_PORT,
                "rsp-1",
                "vgroupid and protocol format must be like 'vsp-xxx:443' with colon separated. got=[[rsp-1]]",
            ),
            (
                "backend label without =",
                BACKEND_LABEL,
                "a=b,c",
                "parse backend label: c, [k1=v1,k2=v2]",
            ),
            (
                "address type not in the enum",
                ADDRESS_TYPE,
                "public",
                "address-type must be one of [internet,intranet], got [public]",
            ),
            (
                "scheduler not in the enum",
                SCHEDULER,
                "lc",
                "scheduler must be one of [rr,wrr,sch,tch], got [lc]",
            ),
            (
                "force override not a bool",
                FORCE_OVERRIDE_LISTENERS,
                "yes",
                "force-override-listeners must be one of [true,false], got [yes]",
            ),
            (
                "health check http code outside the set",
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-health-check-httpcode",
                "http_2xx,http_6xx",
                "health-check-httpcode must be a comma-separated subset of [http_2xx,http_3xx,http_4xx,http_5xx], got [http_6xx]",
            ),
            (
                "id without lb- prefix",
                LOAD_BALANCER_ID,
                "slb-1",
                "loadbalancer-id must be a CLB instance ID like lb-xxxxxxxx, got [slb-1]",
            ),
        ];
        for (name, key, value, want) in cases {
            let got = check(&annos(&[(key, value)]));
            let messages: Vec<&str> = got.errors.iter().map(|e| e.message.as_str()).collect();
            assert_eq!(messages, vec![*want], "{name}");
        }
    }

    #[test]
    fn valid_values_pass() {
        let got = check(&annos(&[
            (ADDRESS_TYPE, "intranet"),
            (BANDWIDTH, "100"),
            (SCHEDULER, "wrr"),
            (PROTOCOL_PORT, "https:443,http:80"),
            (
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-health-check-connect-port",
                "-520",
            ),
            (LOAD_BALANCER_ID, "lb-abc"),
            (FORCE_OVERRIDE_LISTENERS, "true"),
        ]));
        assert_eq!(got.errors, vec![]);
        assert_eq!(got.warnings, Vec::<String>::new());
        let view = got.annotations;
        assert_eq!(view.address_type, Some(AddressType::Intranet));
        assert_eq!(view.bandwidth, Some(100));
        assert_eq!(view.effective_scheduler(), "wrr");
        assert_eq!(
            view.protocol_port,
            vec![("https".into(), 443), ("http".into(), 80)]
        );
        assert_eq!(view.load_balancer_id.as_deref(), Some("lb-abc"));
        assert!(view.force_override_listeners);
    }

    #[test]
    fn unknown_clb_key_is_a_warning_and_foreign_keys_are_ignored() {
        let got = check(&annos(&[
            (
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-colour",
                "red",
            ),
            ("example.com/anything", "x"),
            (
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-slb-network-type",
                "vpc",
            ),
        ]));
        assert_eq!(
            got.warnings,
            vec![
                "metadata.annotations[service.beta.kubernetes.io/alibaba-cloud-loadbalancer-colour]: unknown Alibaba Cloud load balancer annotation; the cloud controller ignores it"
            ]
        );
    }

    #[test]
    fn legacy_prefix_is_read_and_loses_to_the_current_one() {
        let legacy = "service.beta.kubernetes.io/alicloud-loadbalancer-address-type";
        let got = check(&annos(&[(legacy, "intranet")]));
        assert_eq!(got.annotations.address_type, Some(AddressType::Intranet));
        let got = check(&annos(&[(legacy, "bogus"), (ADDRESS_TYPE, "internet")]));
        assert_eq!(got.errors, vec![]);
        assert_eq!(got.annotations.address_type, Some(AddressType::Internet));
    }

    #[test]
    fn invalid_value_reads_as_unset() {
        let got = check(&annos(&[(BANDWIDTH, "lots")]));
        assert_eq!(got.annotations.bandwidth, None);
    }

    #[test]
    fn additional_tags_parse_like_ccm() {
        let got = check(&annos(&[(ADDITIONAL_RESOURCE_TAGS, "a=1, b=, c")]));
        let want: BTreeMap<String, String> = [("a", "1"), ("b", ""), ("c", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got.annotations.additional_tags, want);
    }
}
