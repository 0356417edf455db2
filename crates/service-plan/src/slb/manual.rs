//! The rules of an SLB instance created by hand (the console's "Create Load Balancer"): its
//! address type, specification, internet charge type, bandwidth and name. The registry
//! enforces them; the console offers the same values in its form.

use std::ops::RangeInclusive;

use super::PAY_BY_BANDWIDTH;
use crate::annotations::AddressType;
use crate::field::FieldError;

/// The specifications a manually created instance may have (pay-by-spec).
pub const SPECS: [&str; 6] = [
    "slb.s1.small",
    "slb.s2.small",
    "slb.s2.medium",
    "slb.s3.small",
    "slb.s3.medium",
    "slb.s3.large",
];
/// `paybytraffic`, the internet charge type when none is chosen.
pub const PAY_BY_TRAFFIC: &str = "paybytraffic";
/// The internet charge types, in the order the form offers them.
pub const INTERNET_CHARGE_TYPES: [&str; 2] = [PAY_BY_TRAFFIC, PAY_BY_BANDWIDTH];
/// The bandwidth an internet instance may be given, in Mbit/s.
pub const BANDWIDTH_MBITS: RangeInclusive<i64> = 1..=5000;
/// The longest instance name, in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// What a user asks for when creating an instance by hand; empty text means "not chosen".
#[derive(Debug, Clone, Copy, Default)]
pub struct ManualInstance<'a> {
    pub name: &'a str,
    /// `internet` or `intranet`.
    pub address_type: &'a str,
    /// A pay-by-spec specification; empty means pay-by-CLCU.
    pub spec: &'a str,
    /// `paybytraffic` or `paybybandwidth`; empty means the default.
    pub charge_type: &'a str,
    /// Mbit/s.
    pub bandwidth: Option<i64>,
}

/// Checks a manually created instance in field order and answers with its address type, or
/// the first field that is wrong.
pub fn validate_manual_instance(req: &ManualInstance<'_>) -> Result<AddressType, FieldError> {
    let quoted = |values: &[&str]| {
        values
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let address_type = AddressType::parse(req.address_type).ok_or_else(|| {
        FieldError::invalid(
            "spec.addressType",
            req.address_type,
            "supported values: \"internet\", \"intranet\"",
        )
    })?;
    if !req.spec.is_empty() && !SPECS.contains(&req.spec) {
        return Err(FieldError::invalid(
            "spec.spec",
            req.spec,
            format!("supported values: {}", quoted(&SPECS)),
        ));
    }
    if !req.charge_type.is_empty() && !INTERNET_CHARGE_TYPES.contains(&req.charge_type) {
        return Err(FieldError::invalid(
            "spec.internetChargeType",
            req.charge_type,
            format!("supported values: {}", quoted(&INTERNET_CHARGE_TYPES)),
        ));
    }
    if let Some(b) = req.bandwidth.filter(|b| !BANDWIDTH_MBITS.contains(b)) {
        return Err(FieldError::invalid(
            "spec.bandwidth",
            b.to_string().as_str(),
            format!(
                "must be between {} and {}, inclusive",
                BANDWIDTH_MBITS.start(),
                BANDWIDTH_MBITS.end()
            ),
        ));
    }
    if req.name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::invalid(
            "spec.name",
            req.name,
            format!("must be no more than {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(address_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(req: ManualInstance<'_>) -> String {
        validate_manual_instance(&req)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn a_valid_request_gives_its_address_type() {
        let req = ManualInstance {
            address_type: "intranet",
            spec: "slb.s2.small",
            charge_type: PAY_BY_BANDWIDTH,
            bandwidth: Some(5000),
            ..Default::default()
        };
        assert_eq!(validate_manual_instance(&req), Ok(AddressType::Intranet));
    }

    #[test]
    fn each_rule_names_its_field() {
        let internet = ManualInstance {
            address_type: "internet",
            ..Default::default()
        };
        let cases = [
            (
                ManualInstance {
                    address_type: "public",
                    ..internet
                },
                "spec.addressType: Invalid value: \"public\": supported values: \"internet\", \"intranet\"",
            ),
            (
                ManualInstance {
                    spec: "slb.s9.huge",
                    ..internet
                },
                "spec.spec: Invalid value: \"slb.s9.huge\": supported values: \"slb.s1.small\", \"slb.s2.small\", \"slb.s2.medium\", \"slb.s3.small\", \"slb.s3.medium\", \"slb.s3.large\"",
            ),
            (
                ManualInstance {
                    charge_type: "free",
                    ..internet
                },
                "spec.internetChargeType: Invalid value: \"free\": supported values: \"paybytraffic\", \"paybybandwidth\"",
            ),
            (
                ManualInstance {
                    bandwidth: Some(0),
                    ..internet
                },
                "spec.bandwidth: Invalid value: \"0\": must be between 1 and 5000, inclusive",
            ),
        ];
        for (req, expected) in cases {
            assert_eq!(error(req), expected);
        }
        let long = "n".repeat(MAX_NAME_CHARS + 1);
        assert!(
            error(ManualInstance {
                name: &long,
                ..internet
            })
            .starts_with("spec.name: Invalid value: ")
        );
    }
}
