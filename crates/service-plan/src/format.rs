//! String formats in kube-apiserver's words: apimachinery `pkg/util/validation`, Go's legacy
//! ("sloppy") IP parser of `k8s.io/utils/net`, and the strict `net/netip` parser whose
//! verdicts become warnings.
//!
//! Every check returns the messages in Go's order; lengths are counted in bytes, and no check
//! slices a string anywhere but at an ASCII byte, so no input can make one panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::field::go_quote;

/// Maximum length of a DNS-1123 or DNS-1035 label, in bytes.
pub const DNS1123_LABEL_MAX_BYTES: usize = 63;
/// Maximum length of a DNS-1123 subdomain, in bytes.
pub const DNS1123_SUBDOMAIN_MAX_BYTES: usize = 253;
/// Maximum length of the name part of a qualified name, in bytes.
pub const QUALIFIED_NAME_MAX_BYTES: usize = 63;
/// Maximum length of a label value, in bytes.
pub const LABEL_VALUE_MAX_BYTES: usize = 63;
/// Maximum length of an IANA service name (a named port), in bytes.
pub const PORT_NAME_MAX_BYTES: usize = 15;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// The detail of an unparsable IP; mirrors `IsValidIP` in apimachinery `pkg/util/validation`.
pub const INVALID_IP_MSG: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
/// The detail of an unparsable CIDR; mirrors `IsValidCIDR` in apimachinery `pkg/util/validation`.
pub const INVALID_CIDR_MSG: &str =
    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/// `RegexError`: the message, the examples and the regex, with Go's odd double space before `or`.
pub fn regex_error(msg: &str, regex: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{regex}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, ex) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push('\'');
        s.push_str(ex);
        s.push_str("', ");
    }
    s.push_str("regex used for validation is '");
    s.push_str(regex);
    s.push_str("')");
    s
}

/// `MaxLenError`: `must be no more than <n> characters` (the limit is in bytes all the same).
pub fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `EmptyError`: `must be non-empty`.
pub fn empty_error() -> String {
    "must be non-empty".to_string()
}

/// `InclusiveRangeError`: `must be between <lo> and <hi>, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` on bytes.
fn matches_dns1123_label(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            is_lower_alnum(f)
                && is_lower_alnum(l)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// The subdomain regex is a dot-separated sequence of DNS-1123 labels.
fn matches_dns1123_subdomain(b: &[u8]) -> bool {
    b.split(|&c| c == b'.').all(matches_dns1123_label)
}

/// `^[a-z]([-a-z0-9]*[a-z0-9])?$` on bytes.
fn matches_dns1035_label(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            f.is_ascii_lowercase()
                && is_lower_alnum(l)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$` on bytes.
fn matches_qualified_name_part(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
        }
        _ => false,
    }
}

fn dns1123_label_bytes(b: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if b.len() > DNS1123_LABEL_MAX_BYTES {
        errs.push(max_len_error(DNS1123_LABEL_MAX_BYTES));
    }
    if !matches_dns1123_label(b) {
        if matches_dns1123_subdomain(b) {
            // A valid subdomain that is not a valid label can only be failing on its dots.
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

fn dns1123_subdomain_bytes(b: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if b.len() > DNS1123_SUBDOMAIN_MAX_BYTES {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_BYTES));
    }
    if !matches_dns1123_subdomain(b) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

fn dns1035_label_bytes(b: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if b.len() > DNS1123_LABEL_MAX_BYTES {
        errs.push(max_len_error(DNS1123_LABEL_MAX_BYTES));
    }
    if !matches_dns1035_label(b) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// Mirrors `IsDNS1123Label` in apimachinery `pkg/util/validation`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    dns1123_label_bytes(value.as_bytes())
}

/// Mirrors `IsDNS1123Subdomain` in apimachinery `pkg/util/validation`.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    dns1123_subdomain_bytes(value.as_bytes())
}

/// Mirrors `IsDNS1035Label` in apimachinery `pkg/util/validation`.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    dns1035_label_bytes(value.as_bytes())
}

/// Mirrors `IsQualifiedName` in apimachinery `pkg/util/validation`.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > QUALIFIED_NAME_MAX_BYTES {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_BYTES)
        ));
    }
    if !matches_qualified_name_part(name.as_bytes()) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Mirrors `IsValidLabelValue` in apimachinery `pkg/util/validation`.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_BYTES {
        errs.push(max_len_error(LABEL_VALUE_MAX_BYTES));
    }
    if !value.is_empty() && !matches_qualified_name_part(value.as_bytes()) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Mirrors `IsValidPortName` (an IANA service name) in apimachinery `pkg/util/validation`.
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let b = port.as_bytes();
    let mut errs = Vec::new();
    if b.len() > PORT_NAME_MAX_BYTES {
        errs.push(max_len_error(PORT_NAME_MAX_BYTES));
    }
    if b.is_empty() || !b.iter().all(|&c| is_lower_alnum(c) || c == b'-') {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !b.iter().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if b.first() == Some(&b'-') || b.last() == Some(&b'-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const RELAXED_ENV_VAR_NAME_ERR: &str = "a valid environment variable name must consist only of printable ASCII characters other than '='";
const HTTP_HEADER_NAME_FMT: &str = "[-A-Za-z0-9]+";
const HTTP_HEADER_NAME_ERR: &str =
    "a valid HTTP header must consist of alphanumeric characters or '-'";

/// Mirrors `hasChDirPrefix`: `.`, `..` and names starting with `..`.
fn has_ch_dir_prefix(value: &str) -> Option<String> {
    match value {
        "." => Some("must not be '.'".to_string()),
        ".." => Some("must not be '..'".to_string()),
        v if v.starts_with("..") => Some("must not start with '..'".to_string()),
        _ => None,
    }
}

/// Mirrors `IsConfigMapKey` (keys of ConfigMaps and Secrets) in apimachinery `pkg/util/validation`.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_BYTES {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_BYTES));
    }
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !valid {
        errs.push(regex_error(
            CONFIG_MAP_KEY_ERR,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    errs.extend(has_ch_dir_prefix(value));
    errs
}

/// Mirrors `IsRelaxedEnvVarName`, the env name rule of the `RelaxedEnvironmentVariableValidation`
/// gate (beta and on by default in v1.32): printable ASCII other than `=`.
pub fn is_relaxed_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push(format!("environment variable name {}", empty_error()));
    }
    if value.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push(RELAXED_ENV_VAR_NAME_ERR.to_string());
    }
    errs
}

/// Mirrors `IsHTTPHeaderName` in apimachinery `pkg/util/validation`.
pub fn is_http_header_name(value: &str) -> Vec<String> {
    if !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Vec::new()
    } else {
        vec![regex_error(
            HTTP_HEADER_NAME_ERR,
            HTTP_HEADER_NAME_FMT,
            &["X-Header-Name"],
        )]
    }
}

/// Mirrors `IsValidPortNum`: 1..65535.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// Go's `maskTrailingDash`: `name[:len(name)-2] + "a"` when the name ends in `-`, on bytes.
fn mask_trailing_dash(name: &[u8]) -> Vec<u8> {
    if name.len() > 1 && name.ends_with(b"-") {
        let mut v = name[..name.len() - 2].to_vec();
        v.push(b'a');
        v
    } else {
        name.to_vec()
    }
}

/// Mirrors `NameIsDNS1035Label` (Service names); `prefix` is the generateName mode.
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        dns1035_label_bytes(&mask_trailing_dash(name.as_bytes()))
    } else {
        is_dns1035_label(name)
    }
}

/// Mirrors `NameIsDNSLabel` (namespace names); `prefix` is the generateName mode.
pub fn name_is_dns1123_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        dns1123_label_bytes(&mask_trailing_dash(name.as_bytes()))
    } else {
        is_dns1123_label(name)
    }
}

/// Mirrors `NameIsDNSSubdomain` (Pods, Deployments, Nodes, ...); `prefix` is the generateName mode.
pub fn name_is_dns1123_subdomain(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        dns1123_subdomain_bytes(&mask_trailing_dash(name.as_bytes()))
    } else {
        is_dns1123_subdomain(name)
    }
}

/// Mirrors `path.ValidatePathSegmentName`, the name check of the registry's generic meta checks.
pub fn validate_path_segment_name(name: &str, prefix: bool) -> Vec<String> {
    if !prefix {
        for illegal in [".", ".."] {
            if name == illegal {
                return vec![format!("may not be '{illegal}'")];
            }
        }
    }
    ["/", "%"]
        .iter()
        .filter(|c| name.contains(**c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

// ---- Go's legacy IP parser (k8s.io/utils/net ParseIPSloppy / ParseCIDRSloppy) ----

/// Go's `big`: parsers give up once a number reaches it.
const GO_PARSE_BIG: u32 = 0xFF_FFFF;

/// Go's `dtoi`: decimal digits at the start of `s`, as (value, bytes used).
fn dtoi(s: &[u8]) -> Option<(u32, usize)> {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n * 10 + u32::from(s[i] - b'0');
        if n >= GO_PARSE_BIG {
            return None;
        }
        i += 1;
    }
    if i == 0 { None } else { Some((n, i)) }
}

/// Go's `xtoi`: hex digits at the start of `s`, as (value, bytes used).
fn xtoi(s: &[u8]) -> Option<(u32, usize)> {
    let mut n: u32 = 0;
    let mut i = 0;
    while i < s.len() {
        let d = match s[i] {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        n = n * 16 + u32::from(d);
        if n >= GO_PARSE_BIG {
            return None;
        }
        i += 1;
    }
    if i == 0 { None } else { Some((n, i)) }
}

/// Go 1.16 `parseIPv4`, which accepts leading zeros (`010` is ten, not octal).
fn parse_ipv4_sloppy(mut s: &[u8]) -> Option<[u8; 4]> {
    let mut p = [0u8; 4];
    for (i, octet) in p.iter_mut().enumerate() {
        if s.is_empty() {
            return None;
        }
        if i > 0 {
            if s[0] != b'.' {
                return None;
            }
            s = &s[1..];
        }
        let (n, c) = dtoi(s)?;
        *octet = u8::try_from(n).ok()?;
        s = &s[c..];
    }
    if s.is_empty() { Some(p) } else { None }
}

/// Go 1.16 `parseIPv6` (no zones).
fn parse_ipv6_sloppy(mut s: &[u8]) -> Option<[u8; 16]> {
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.len() >= 2 && s[0] == b':' && s[1] == b':' {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Some(ip);
        }
    }
    let mut i = 0;
    while i < 16 {
        let (n, c) = xtoi(s)?;
        if n > 0xFFFF {
            return None;
        }
        if c < s.len() && s[c] == b'.' {
            if ellipsis.is_none() && i != 12 {
                return None;
            }
            if i + 4 > 16 {
                return None;
            }
            let ip4 = parse_ipv4_sloppy(s)?;
            ip[i..i + 4].copy_from_slice(&ip4);
            s = &[];
            i += 4;
            break;
        }
        ip[i] = (n >> 8) as u8;
        ip[i + 1] = n as u8;
        i += 2;
        s = &s[c..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return None;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return None;
    }
    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        for j in (e..i).rev() {
            ip[j + n] = ip[j];
        }
        for b in ip.iter_mut().skip(e).take(n) {
            *b = 0;
        }
    } else if ellipsis.is_some() {
        // An ellipsis must stand for at least one group of zeros.
        return None;
    }
    Some(ip)
}

/// Go's legacy `ParseIPSloppy`: IPv4 with leading zeros is accepted (`010.0.0.1` is 10.0.0.1).
///
/// IPv4 text gives [`IpAddr::V4`]; IPv6 text (including `::ffff:1.2.3.4`) gives [`IpAddr::V6`].
pub fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    let b = s.as_bytes();
    for &c in b {
        match c {
            b'.' => return parse_ipv4_sloppy(b).map(|p| IpAddr::V4(Ipv4Addr::from(p))),
            b':' => return parse_ipv6_sloppy(b).map(|p| IpAddr::V6(Ipv6Addr::from(p))),
            _ => {}
        }
    }
    None
}

/// Go's `net.IP.To4`: IPv4 addresses, including IPv4-mapped IPv6 ones, as IPv4.
pub fn go_to4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    }
}

/// Mirrors `netutils.IsIPv6String`: parses sloppily and is not IPv4 (an IPv4-mapped address is IPv4).
pub fn is_ipv6_string(s: &str) -> bool {
    parse_ip_sloppy(s).is_some_and(|ip| go_to4(ip).is_none())
}

/// Go's legacy `ParseCIDRSloppy`: host bits may be set, leading zeros are accepted, a bare IP fails.
pub fn parse_cidr_sloppy(s: &str) -> Option<IpNet> {
    let b = s.as_bytes();
    let slash = b.iter().position(|&c| c == b'/')?;
    let (addr, mask) = (&b[..slash], &b[slash + 1..]);
    let (n, used) = dtoi(mask)?;
    if used != mask.len() {
        return None;
    }
    let bits = u8::try_from(n).ok()?;
    if let Some(v4) = parse_ipv4_sloppy(addr) {
        return Ipv4Net::new(Ipv4Addr::from(v4), bits).ok().map(IpNet::V4);
    }
    let v6 = parse_ipv6_sloppy(addr)?;
    Ipv6Net::new(Ipv6Addr::from(v6), bits).ok().map(IpNet::V6)
}

/// Mirrors `IsValidIP`'s check: the messages for a value that is not an IP.
pub fn is_valid_ip(value: &str) -> Vec<String> {
    if parse_ip_sloppy(value).is_some() {
        Vec::new()
    } else {
        vec![INVALID_IP_MSG.to_string()]
    }
}

/// Mirrors `IsValidCIDR`'s check: the messages for a value that is not a CIDR.
pub fn is_valid_cidr(value: &str) -> Vec<String> {
    if parse_cidr_sloppy(value).is_some() {
        Vec::new()
    } else {
        vec![INVALID_CIDR_MSG.to_string()]
    }
}

// ---- Go's strict parser (net/netip), used only for warnings ----

/// An address the strict `netip.ParseAddr` accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrictAddr {
    /// `Addr.String()`: dotted IPv4, or RFC 5952 IPv6 (`::ffff:1.2.3.4` for mapped), with `%zone`.
    pub canonical: String,
    /// `Addr.Is6()`: true for every IPv6 address, including IPv4-mapped ones.
    pub is6: bool,
}

fn addr_error(input: &[u8], msg: &str, at: Option<&[u8]>) -> String {
    let mut s = format!(
        "ParseAddr({}): {msg}",
        go_quote(&String::from_utf8_lossy(input))
    );
    if let Some(at) = at {
        s.push_str(&format!(" (at {})", go_quote(&String::from_utf8_lossy(at))));
    }
    s
}

/// netip's `parseIPv4Fields` over `input[off..end]`.
fn strict_ipv4_fields(input: &[u8], off: usize, end: usize) -> Result<[u8; 4], String> {
    let s = input.get(off..end).unwrap_or_default();
    let mut fields = [0u8; 4];
    let (mut val, mut pos, mut dig_len) = (0u32, 0usize, 0usize);
    for (i, &c) in s.iter().enumerate() {
        if c.is_ascii_digit() {
            if dig_len == 1 && val == 0 {
                return Err(addr_error(
                    input,
                    "IPv4 field has octet with leading zero",
                    None,
                ));
            }
            val = val * 10 + u32::from(c - b'0');
            dig_len += 1;
            if val > 255 {
                return Err(addr_error(input, "IPv4 field has value >255", None));
            }
        } else if c == b'.' {
            if i == 0 || i == s.len() - 1 || s[i - 1] == b'.' {
                return Err(addr_error(
                    input,
                    "IPv4 field must have at least one digit",
                    Some(&s[i..]),
                ));
            }
            if pos == 3 {
                return Err(addr_error(input, "IPv4 address too long", None));
            }
            fields[pos] = val as u8;
            pos += 1;
            val = 0;
            dig_len = 0;
        } else {
            return Err(addr_error(input, "unexpected character", Some(&s[i..])));
        }
    }
    if pos < 3 {
        return Err(addr_error(input, "IPv4 address too short", None));
    }
    fields[3] = val as u8;
    Ok(fields)
}

/// netip's `parseIPv6`, returning the 16 bytes and the zone.
fn strict_ipv6(input: &[u8]) -> Result<([u8; 16], Vec<u8>), String> {
    let (mut s, zone): (&[u8], &[u8]) = match input.iter().position(|&c| c == b'%') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &[]),
    };
    if input.contains(&b'%') && zone.is_empty() {
        return Err(addr_error(input, "zone must be a non-empty string", None));
    }
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.starts_with(b"::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Ok((ip, zone.to_vec()));
        }
    }
    let mut i = 0;
    while i < 16 {
        let mut off = 0;
        let mut acc: u32 = 0;
        while off < s.len() {
            let d = match s[off] {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                c @ b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            acc = (acc << 4) + u32::from(d);
            if off > 3 {
                return Err(addr_error(
                    input,
                    "each group must have 4 or less digits",
                    Some(s),
                ));
            }
            if acc > 0xFFFF {
                return Err(addr_error(input, "IPv6 field has value >=2^16", Some(s)));
            }
            off += 1;
        }
        if off == 0 {
            return Err(addr_error(
                input,
                "each colon-separated field must have at least one digit",
                Some(s),
            ));
        }
        if off < s.len() && s[off] == b'.' {
            if ellipsis.is_none() && i != 12 {
                return Err(addr_error(
                    input,
                    "embedded IPv4 address must replace the final 2 fields of the address",
                    Some(s),
                ));
            }
            if i + 4 > 16 {
                return Err(addr_error(
                    input,
                    "too many hex fields to fit an embedded IPv4 at the end of the address",
                    Some(s),
                ));
            }
            let mut end = input.len();
            if !zone.is_empty() {
                end -= zone.len() + 1;
            }
            let v4 = strict_ipv4_fields(input, end - s.len(), end)?;
            ip[i..i + 4].copy_from_slice(&v4);
            s = &[];
            i += 4;
            break;
        }
        ip[i] = (acc >> 8) as u8;
        ip[i + 1] = acc as u8;
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' {
            return Err(addr_error(
                input,
                "unexpected character, want colon",
                Some(s),
            ));
        } else if s.len() == 1 {
            return Err(addr_error(
                input,
                "colon must be followed by more characters",
                Some(s),
            ));
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return Err(addr_error(input, "multiple :: in address", Some(s)));
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return Err(addr_error(input, "trailing garbage after address", Some(s)));
    }
    if i < 16 {
        let Some(e) = ellipsis else {
            return Err(addr_error(input, "address string too short", None));
        };
        let n = 16 - i;
        for j in (e..i).rev() {
            ip[j + n] = ip[j];
        }
        for b in ip.iter_mut().skip(e).take(n) {
            *b = 0;
        }
    } else if ellipsis.is_some() {
        return Err(addr_error(
            input,
            "the :: must expand to at least one field of zeros",
            None,
        ));
    }
    Ok((ip, zone.to_vec()))
}

/// netip's `Addr.String` for IPv6: RFC 5952, with IPv4-mapped addresses as `::ffff:a.b.c.d`.
fn ipv6_canonical(ip: [u8; 16], zone: &[u8]) -> String {
    let v6 = Ipv6Addr::from(ip);
    let mut out = if let Some(v4) = v6.to_ipv4_mapped() {
        format!("::ffff:{v4}")
    } else {
        let seg = v6.segments();
        // The first longest run of at least two zero groups becomes `::`.
        let (mut zs, mut ze) = (usize::MAX, usize::MAX);
        let mut i = 0;
        while i < 8 {
            let mut j = i;
            while j < 8 && seg[j] == 0 {
                j += 1;
            }
            let best = if zs == usize::MAX { 0 } else { ze - zs };
            if j - i >= 2 && j - i > best {
                zs = i;
                ze = j;
            }
            i = j.max(i + 1);
        }
        let mut s = String::new();
        let mut i = 0;
        while i < 8 {
            if i == zs {
                s.push_str("::");
                i = ze;
                if i >= 8 {
                    break;
                }
            } else if i > 0 {
                s.push(':');
            }
            s.push_str(&format!("{:x}", seg[i]));
            i += 1;
        }
        s
    };
    if !zone.is_empty() {
        out.push('%');
        out.push_str(&String::from_utf8_lossy(zone));
    }
    out
}

/// Go's strict `netip.ParseAddr`: the canonical form, or Go's error text
/// (e.g. `ParseAddr("010.0.0.1"): IPv4 field has octet with leading zero`).
pub fn parse_addr_strict(s: &str) -> Result<StrictAddr, String> {
    let b = s.as_bytes();
    for &c in b {
        match c {
            b'.' => {
                let f = strict_ipv4_fields(b, 0, b.len())?;
                return Ok(StrictAddr {
                    canonical: Ipv4Addr::from(f).to_string(),
                    is6: false,
                });
            }
            b':' => {
                let (ip, zone) = strict_ipv6(b)?;
                return Ok(StrictAddr {
                    canonical: ipv6_canonical(ip, &zone),
                    is6: true,
                });
            }
            b'%' => return Err(addr_error(b, "missing IPv6 address", None)),
            _ => {}
        }
    }
    Err(addr_error(b, "unable to parse IP", None))
}

/// Go's strict `netip.ParsePrefix`: the canonical `addr/bits` (host bits kept), or Go's error text.
pub fn parse_prefix_strict(s: &str) -> Result<StrictAddr, String> {
    let err = |msg: &str| format!("netip.ParsePrefix({}): {msg}", go_quote(s));
    let Some(i) = s.rfind('/') else {
        return Err(err("no '/'"));
    };
    let addr = parse_addr_strict(&s[..i]).map_err(|e| err(&e))?;
    if addr.is6 && addr.canonical.contains('%') {
        return Err(err("IPv6 zones cannot be present in a prefix"));
    }
    let bits_str = &s[i + 1..];
    let bb = bits_str.as_bytes();
    let bad_bits = || err(&format!("bad bits after slash: {}", go_quote(bits_str)));
    // Go's Atoi takes a sign and leading zeros; netip refuses both before calling it.
    if bb.len() > 1 && !(b'1'..=b'9').contains(&bb[0]) {
        return Err(bad_bits());
    }
    if bb.is_empty() || !bb.iter().all(u8::is_ascii_digit) {
        return Err(bad_bits());
    }
    let max_bits = if addr.is6 { 128 } else { 32 };
    // Atoi's overflow is still a number, just out of range.
    let bits = bits_str.parse::<u64>().unwrap_or(u64::MAX);
    if bits > max_bits {
        return Err(err("prefix length out of range"));
    }
    Ok(StrictAddr {
        canonical: format!("{}/{bits}", addr.canonical),
        is6: addr.is6,
    })
}

/// The Service warning for an IP the strict parser rejects or that is not canonical IPv6.
///
/// Mirrors `getWarningsForIP` in `pkg/api/service/warnings.go`.
pub fn ip_warning(path: &str, value: &str) -> Option<String> {
    match parse_addr_strict(value) {
        Err(e) => Some(format!(
            "{path}: IP address was accepted, but will be invalid in a future Kubernetes release: {e}"
        )),
        Ok(a) if a.is6 && a.canonical != value => Some(format!(
            "{path}: IPv6 address {} is not in RFC 5952 canonical format ({}), which may cause controller apply-loops",
            go_quote(value),
            go_quote(&a.canonical)
        )),
        Ok(_) => None,
    }
}

/// The Service warning for a CIDR the strict parser rejects or that is not canonical IPv6.
///
/// Mirrors `getWarningsForCIDR` in `pkg/api/service/warnings.go`.
pub fn cidr_warning(path: &str, value: &str) -> Option<String> {
    match parse_prefix_strict(value) {
        Err(e) => Some(format!(
            "{path}: IP prefix was accepted, but will be invalid in a future Kubernetes release: {e}"
        )),
        Ok(p) if p.is6 && p.canonical != value => Some(format!(
            "{path}: IPv6 prefix {} is not in RFC 5952 canonical format ({}), which may cause controller apply-loops",
            go_quote(value),
            go_quote(&p.canonical)
        )),
        Ok(_) => None,
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    #[test]
    fn dns1035_label() {
        let long = "a".repeat(64);
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("web", vec![]),
            ("a", vec![]),
            ("my-svc-1", vec![]),
            ("MyService", vec![DNS1035_MSG]),
            ("1abc", vec![DNS1035_MSG]),
            ("abc-", vec![DNS1035_MSG]),
            ("", vec![DNS1035_MSG]),
            ("a.b", vec![DNS1035_MSG]),
            (&long, vec!["must be no more than 63 characters"]),
        ];
        for (input, want) in cases {
            assert_eq!(is_dns1035_label(input), want, "input {input:?}");
        }
        assert_eq!(is_dns1035_label(&"a".repeat(63)), Vec::<String>::new());
    }

    #[test]
    fn dns1035_counts_bytes_not_characters() {
        let name = "é".repeat(32);
        assert_eq!(
            is_dns1035_label(&name),
            vec![
                "must be no more than 63 characters".to_string(),
                DNS1035_MSG.to_string()
            ]
        );
    }

    #[test]
    fn generate_name_prefix_tolerates_a_trailing_dash() {
        assert!(name_is_dns1035_label("web-", true).is_empty());
        assert_eq!(name_is_dns1035_label("web-", false), vec![DNS1035_MSG]);
        assert_eq!(name_is_dns1035_label("Web-", true), vec![DNS1035_MSG]);
        // Go drops two bytes and adds one: a 65-byte prefix ending in '-' is checked as 64 bytes.
        let long = format!("{}-", "a".repeat(64));
        assert_eq!(
            name_is_dns1035_label(&long, true),
            vec!["must be no more than 63 characters"]
        );
        let fits = format!("{}-", "a".repeat(63));
        assert!(name_is_dns1035_label(&fits, true).is_empty());
        // A multi-byte character before the dash must not panic.
        assert_eq!(name_is_dns1035_label("aé-", true), vec![DNS1035_MSG]);
        assert!(name_is_dns1123_subdomain("pod-", true).is_empty());
        assert!(name_is_dns1123_label("ns-", true).is_empty());
    }

    #[test]
    fn dns1123_label() {
        assert!(is_dns1123_label("8080").is_empty());
        assert!(is_dns1123_label("http").is_empty());
        assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots"]);
        assert_eq!(is_dns1123_label("HTTP"), vec![DNS1123_LABEL_MSG]);
        assert_eq!(is_dns1123_label("-a"), vec![DNS1123_LABEL_MSG]);
        assert_eq!(
            is_dns1123_label(&"a".repeat(64)),
            vec!["must be no more than 63 characters"]
        );
    }

    #[test]
    fn dns1123_subdomain() {
        assert!(is_dns1123_subdomain("db.example.com").is_empty());
        assert_eq!(is_dns1123_subdomain("DB.Example.com"), vec![SUBDOMAIN_MSG]);
        assert_eq!(is_dns1123_subdomain("a..b"), vec![SUBDOMAIN_MSG]);
        assert_eq!(is_dns1123_subdomain("a."), vec![SUBDOMAIN_MSG]);
        let long = vec!["a".repeat(63); 4].join(".");
        assert_eq!(long.len(), 255);
        assert_eq!(
            is_dns1123_subdomain(&long),
            vec!["must be no more than 253 characters"]
        );
    }

    #[test]
    fn qualified_name() {
        let prefix_msg = format!("prefix part {SUBDOMAIN_MSG}");
        let too_many = "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("app", vec![]),
            ("example.com/MyName", vec![]),
            ("kubernetes.io/h2c", vec![]),
            ("my label", vec![NAME_PART_MSG]),
            ("", vec!["name part must be non-empty", NAME_PART_MSG]),
            ("/a", vec!["prefix part must be non-empty"]),
            ("a/", vec!["name part must be non-empty", NAME_PART_MSG]),
            ("Example.com/a", vec![&prefix_msg]),
            ("a/b/c", vec![too_many]),
        ];
        for (input, want) in cases {
            assert_eq!(is_qualified_name(input), want, "input {input:?}");
        }
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            vec!["name part must be no more than 63 characters"]
        );
    }

    #[test]
    fn label_value() {
        assert!(is_valid_label_value("").is_empty());
        assert!(is_valid_label_value("my_value.1").is_empty());
        assert_eq!(is_valid_label_value("-x"), vec![LABEL_VALUE_MSG]);
        assert_eq!(
            is_valid_label_value(&"a".repeat(64)),
            vec!["must be no more than 63 characters"]
        );
    }

    #[test]
    fn port_name() {
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("http", vec![]),
            ("web-8080", vec![]),
            ("8080", vec!["must contain at least one letter (a-z)"]),
            (
                "HTTP",
                vec![
                    "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                    "must contain at least one letter (a-z)",
                ],
            ),
            ("a--b", vec!["must not contain consecutive hyphens"]),
            ("-ab", vec!["must not begin or end with a hyphen"]),
            (
                "abcdefghijklmnop",
                vec!["must be no more than 15 characters"],
            ),
            (
                "",
                vec![
                    "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                    "must contain at least one letter (a-z)",
                ],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(is_valid_port_name(input), want, "input {input:?}");
        }
    }

    #[test]
    fn port_num() {
        assert!(is_valid_port_num(1).is_empty());
        assert!(is_valid_port_num(65535).is_empty());
        assert_eq!(
            is_valid_port_num(0),
            vec!["must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            is_valid_port_num(65536),
            vec!["must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            is_valid_port_num(-1),
            vec!["must be between 1 and 65535, inclusive"]
        );
    }

    #[test]
    fn path_segment_name() {
        assert!(validate_path_segment_name("web", false).is_empty());
        assert_eq!(
            validate_path_segment_name("..", false),
            vec!["may not be '..'"]
        );
        assert_eq!(
            validate_path_segment_name("a/b%", false),
            vec!["may not contain '/'", "may not contain '%'"]
        );
        assert!(validate_path_segment_name(".", true).is_empty());
    }

    #[test]
    fn sloppy_ip_parsing() {
        let ok = [
            ("10.96.0.10", "10.96.0.10"),
            ("010.0.0.1", "10.0.0.1"),
            ("0000001.2.3.4", "1.2.3.4"),
            ("2001:db8::1", "2001:db8::1"),
            ("::", "::"),
            ("::1", "::1"),
            ("2001:0db8:0000::00001", "2001:db8::1"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ];
        for (input, want) in ok {
            let ip = parse_ip_sloppy(input).unwrap_or_else(|| panic!("{input} must parse"));
            assert_eq!(ip.to_string(), want, "input {input}");
        }
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.0.0.1",
            "1.2.3.4 ",
            " 1.2.3.4",
            "fe80::1%eth0",
            "1::2::3",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "12345::",
            "abc",
            "None",
            "1.2.3.-4",
            "1:2:3:4:5:6:7",
            "é.1.2.3",
        ] {
            assert_eq!(parse_ip_sloppy(bad), None, "input {bad:?}");
        }
        assert_eq!(is_valid_ip("x"), vec![INVALID_IP_MSG]);
        assert!(is_ipv6_string("fd00::1"));
        assert!(!is_ipv6_string("::ffff:1.2.3.4"));
        assert!(!is_ipv6_string("10.0.0.1"));
    }

    #[test]
    fn sloppy_cidr_parsing() {
        for (input, want) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.0.0.1/8", "10.0.0.1/8"),
            ("010.0.0.0/024", "10.0.0.0/24"),
            ("2001:db8::/64", "2001:db8::/64"),
            ("::ffff:1.2.3.4/120", "::ffff:1.2.3.4/120"),
        ] {
            assert_eq!(
                parse_cidr_sloppy(input).map(|n| n.to_string()).as_deref(),
                Some(want),
                "input {input}"
            );
        }
        for bad in [
            "10.0.0.1",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/8 ",
            "/8",
            "a/8",
        ] {
            assert_eq!(parse_cidr_sloppy(bad), None, "input {bad:?}");
        }
        assert_eq!(is_valid_cidr("10.0.0.0/33"), vec![INVALID_CIDR_MSG]);
    }

    #[test]
    fn strict_parser_errors_match_go() {
        let cases = [
            (
                "192.012.2.2",
                "ParseAddr(\"192.012.2.2\"): IPv4 field has octet with leading zero",
            ),
            ("abc", "ParseAddr(\"abc\"): unable to parse IP"),
            ("", "ParseAddr(\"\"): unable to parse IP"),
            ("%eth0", "ParseAddr(\"%eth0\"): missing IPv6 address"),
            ("1.2.3", "ParseAddr(\"1.2.3\"): IPv4 address too short"),
            (
                "1..2.3",
                "ParseAddr(\"1..2.3\"): IPv4 field must have at least one digit (at \".2.3\")",
            ),
            (
                "12345::",
                "ParseAddr(\"12345::\"): each group must have 4 or less digits (at \"12345::\")",
            ),
            (
                "1::2::3",
                "ParseAddr(\"1::2::3\"): multiple :: in address (at \":3\")",
            ),
            (
                "1.2.3.4x",
                "ParseAddr(\"1.2.3.4x\"): unexpected character (at \"x\")",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_addr_strict(input),
                Err(want.to_string()),
                "input {input}"
            );
        }
        assert_eq!(
            parse_addr_strict("2001:DB8:0:0::1").map(|a| a.canonical),
            Ok("2001:db8::1".to_string())
        );
        assert_eq!(
            parse_addr_strict("1:0:0:2:0:0:0:3").map(|a| a.canonical),
            Ok("1:0:0:2::3".to_string())
        );
        assert_eq!(
            parse_addr_strict("1:0:0:2:3:0:0:4").map(|a| a.canonical),
            Ok("1::2:3:0:0:4".to_string())
        );
        assert_eq!(
            parse_addr_strict("1:0:2:3:4:5:6:7").map(|a| a.canonical),
            Ok("1:0:2:3:4:5:6:7".to_string())
        );
        assert_eq!(
            parse_addr_strict("::ffff:1.2.3.4").map(|a| a.canonical),
            Ok("::ffff:1.2.3.4".to_string())
        );
        assert_eq!(parse_prefix_strict("01.2.3.4/24"), Err("netip.ParsePrefix(\"01.2.3.4/24\"): ParseAddr(\"01.2.3.4\"): IPv4 field has octet with leading zero".to_string()));
        assert_eq!(
            parse_prefix_strict("1.2.3.4/024"),
            Err("netip.ParsePrefix(\"1.2.3.4/024\"): bad bits after slash: \"024\"".to_string())
        );
        assert_eq!(
            parse_prefix_strict("::/129"),
            Err("netip.ParsePrefix(\"::/129\"): prefix length out of range".to_string())
        );
        assert_eq!(
            parse_prefix_strict("10.0.0.1/8").map(|p| p.canonical),
            Ok("10.0.0.1/8".to_string())
        );
    }

    #[test]
    fn warnings_use_service_wording() {
        assert_eq!(
            ip_warning("spec.clusterIPs[0]", "192.012.2.2").as_deref(),
            Some(
                "spec.clusterIPs[0]: IP address was accepted, but will be invalid in a future Kubernetes release: ParseAddr(\"192.012.2.2\"): IPv4 field has octet with leading zero"
            )
        );
        assert_eq!(
            ip_warning("spec.externalIPs[0]", "2001:db8:0:0::1").as_deref(),
            Some(
                "spec.externalIPs[0]: IPv6 address \"2001:db8:0:0::1\" is not in RFC 5952 canonical format (\"2001:db8::1\"), which may cause controller apply-loops"
            )
        );
        assert_eq!(ip_warning("spec.clusterIPs[0]", "10.0.0.1"), None);
        assert_eq!(
            cidr_warning("spec.loadBalancerSourceRanges[0]", "2001:db8:0::/64").as_deref(),
            Some(
                "spec.loadBalancerSourceRanges[0]: IPv6 prefix \"2001:db8:0::/64\" is not in RFC 5952 canonical format (\"2001:db8::/64\"), which may cause controller apply-loops"
            )
        );
    }
}
