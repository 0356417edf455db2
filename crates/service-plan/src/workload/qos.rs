//! A Pod's quality-of-service class, as the Pod strategy's `PrepareForCreate` records it in
//! `status.qosClass`: `ComputePodQOS` in pkg/apis/core/helper/qos/qos.go, over the defaulted
//! spec (requests already copied from limits).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// `Guaranteed`: every container limits cpu and memory, and requests equal limits.
pub const QOS_GUARANTEED: &str = "Guaranteed";
/// `Burstable`: some cpu or memory is requested or limited, but not as Guaranteed needs.
pub const QOS_BURSTABLE: &str = "Burstable";
/// `BestEffort`: no container requests or limits any cpu or memory.
pub const QOS_BEST_EFFORT: &str = "BestEffort";

/// The resources the QoS class looks at (`isSupportedQoSComputeResource`).
const QOS_RESOURCES: [&str; 2] = ["cpu", "memory"];

/// Mirrors `ComputePodQOS` with pod-level resources off (their gate is alpha in v1.32).
pub fn pod_qos_class(pod: &Value) -> &'static str {
    let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
    let mut guaranteed = true;
    let containers = ["containers", "initContainers"]
        .into_iter()
        .filter_map(|key| pod.get("spec")?.get(key)?.as_array())
        .flatten();
    for container in containers {
        let resources = container.get("resources");
        for (name, nanos) in positive_quantities(resources.and_then(|r| r.get("requests"))) {
            *requests.entry(name).or_default() += nanos;
        }
        let mut found = BTreeSet::new();
        for (name, nanos) in positive_quantities(resources.and_then(|r| r.get("limits"))) {
            found.insert(name);
            *limits.entry(name).or_default() += nanos;
        }
        if !QOS_RESOURCES.iter().all(|r| found.contains(r)) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return QOS_BEST_EFFORT;
    }
    if guaranteed
        && requests.len() == limits.len()
        && requests
            .iter()
            .all(|(name, req)| limits.get(name) == Some(req))
    {
        return QOS_GUARANTEED;
    }
    QOS_BURSTABLE
}

/// The cpu and memory quantities above zero in a resource list, in nano-units.
fn positive_quantities(list: Option<&Value>) -> Vec<(&'static str, i128)> {
    let Some(list) = list.and_then(Value::as_object) else {
        return Vec::new();
    };
    QOS_RESOURCES
        .iter()
        .filter_map(|name| {
            let text = list.get(*name)?.as_str()?;
            let nanos = quantity_nanos(text)?;
            (nanos > 0).then_some((*name, nanos))
        })
        .collect()
}

/// A `resource.Quantity` in units of 10⁻⁹, rounded up below that (as `Quantity` compares
/// exactly only to nano precision in practice); `None` when it does not parse.
pub fn quantity_nanos(text: &str) -> Option<i128> {
    let s = text.trim();
    let (negative, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let (base2, exp) = match suffix {
        "" => (false, 0),
        "n" => (false, -9),
        "u" => (false, -6),
        "m" => (false, -3),
        "k" => (false, 3),
        "M" => (false, 6),
        "G" => (false, 9),
        "T" => (false, 12),
        "P" => (false, 15),
        "E" => (false, 18),
        "Ki" => (true, 10),
        "Mi" => (true, 20),
        "Gi" => (true, 30),
        "Ti" => (true, 40),
        "Pi" => (true, 50),
        "Ei" => (true, 60),
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (false, exponent.parse::<i32>().ok()?)
        }
    };
    let mut mantissa: i128 = format!("{whole}{fraction}").parse().ok()?;
    let mut scale10 = 9 - i32::try_from(fraction.len()).ok()?;
    if base2 {
        mantissa = mantissa.checked_mul(1i128.checked_shl(u32::try_from(exp).ok()?)?)?;
    } else {
        scale10 += exp;
    }
    let value = if scale10 >= 0 {
        mantissa.checked_mul(10i128.checked_pow(u32::try_from(scale10).ok()?)?)?
    } else {
        let divisor = 10i128
            .checked_pow(scale10.unsigned_abs())
            .unwrap_or(i128::MAX);
        (mantissa + divisor - 1) / divisor
    };
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(containers: Value) -> Value {
        json!({"spec": {"containers": containers}})
    }

    #[test]
    fn quantities_parse_to_nano_units() {
        assert_eq!(quantity_nanos("1"), Some(1_000_000_000));
        assert_eq!(quantity_nanos("500m"), Some(500_000_000));
        assert_eq!(quantity_nanos("0.5"), Some(500_000_000));
        assert_eq!(quantity_nanos("1Ki"), Some(1024 * 1_000_000_000));
        assert_eq!(quantity_nanos("1e3"), quantity_nanos("1k"));
        assert_eq!(quantity_nanos("1Gi"), quantity_nanos("1073741824"));
        assert_eq!(quantity_nanos("1E"), quantity_nanos("1e18"));
        assert_eq!(quantity_nanos("0"), Some(0));
        assert_eq!(quantity_nanos("-1m"), Some(-1_000_000));
        assert_eq!(quantity_nanos("1n"), Some(1));
        assert_eq!(quantity_nanos("2u"), Some(2_000));
        assert_eq!(quantity_nanos("abc"), None);
        assert_eq!(quantity_nanos(""), None);
        assert_eq!(quantity_nanos("."), None);
    }

    #[test]
    fn no_cpu_or_memory_is_best_effort() {
        assert_eq!(pod_qos_class(&pod(json!([{"name": "c"}]))), QOS_BEST_EFFORT);
        let zero = pod(json!([{"name": "c", "resources": {"requests": {"cpu": "0"},
            "limits": {"ephemeral-storage": "1Gi"}}}]));
        assert_eq!(pod_qos_class(&zero), QOS_BEST_EFFORT);
    }

    #[test]
    fn equal_cpu_and_memory_requests_and_limits_are_guaranteed() {
        let p = pod(json!([{"name": "c", "resources": {
            "limits": {"cpu": "500m", "memory": "1Gi"},
            "requests": {"cpu": "0.5", "memory": "1073741824"}}}]));
        assert_eq!(pod_qos_class(&p), QOS_GUARANTEED);
    }

    #[test]
    fn anything_less_is_burstable() {
        let requests_only = pod(json!([{"name": "c", "resources": {"requests": {"cpu": "1"}}}]));
        assert_eq!(pod_qos_class(&requests_only), QOS_BURSTABLE);
        let unequal = pod(json!([{"name": "c", "resources": {
            "limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Mi"}}}]));
        assert_eq!(pod_qos_class(&unequal), QOS_BURSTABLE);
        let one_unlimited = pod(json!([
            {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                "requests": {"cpu": "1", "memory": "1Gi"}}},
            {"name": "b"}]));
        assert_eq!(pod_qos_class(&one_unlimited), QOS_BURSTABLE);
    }
}
