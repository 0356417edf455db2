//! The Lease strategy of kube-apiserver v1.32 (pkg/registry/coordination/lease/strategy.go)
//! and `ValidateLeaseSpec` (pkg/apis/coordination/validation/validation.go). The object is
//! the decoded JSON; metadata is validated by the registry's generic rules.

use crate::json::Pointer as _;
use k8s_openapi::api::coordination::v1::LeaseSpec;
use serde_json::Value;

use crate::field::{FieldError, FieldErrors};
use crate::format;

/// `validLeaseStrategies`.
const LEASE_STRATEGIES: [&str; 1] = ["OldestEmulationVersion"];

/// The fields of the alpha `CoordinatedLeaderElection` gate, off in v1.32.
const GATED_FIELDS: [&str; 2] = ["strategy", "preferredHolder"];

/// `PrepareForCreate`: with `CoordinatedLeaderElection` off, `strategy` and `preferredHolder`
/// are dropped.
pub fn prepare_for_create(lease: &mut Value) {
    if let Some(spec) = lease.get_mut("spec").and_then(Value::as_object_mut) {
        for field in GATED_FIELDS {
            spec.remove(field);
        }
    }
}

/// `PrepareForUpdate`: a gated field is kept only when the stored Lease already has it.
pub fn prepare_for_update(lease: &mut Value, old: &Value) {
    let kept: Vec<bool> = GATED_FIELDS
        .iter()
        .map(|f| old.at(&format!("/spec/{f}")).is_some_and(|v| !v.is_null()))
        .collect();
    if let Some(spec) = lease.get_mut("spec").and_then(Value::as_object_mut) {
        for (field, keep) in GATED_FIELDS.iter().zip(kept) {
            if !keep {
                spec.remove(*field);
            }
        }
    }
}

/// `ValidateLeaseSpec` of a Lease's `spec` (create and update validate it alike).
pub fn validate_lease(lease: &Value) -> FieldErrors {
    let spec: LeaseSpec = lease
        .get("spec")
        .cloned()
        .and_then(|s| serde_json::from_value(s).ok())
        .unwrap_or_default();
    validate_lease_spec(&spec, "spec")
}

fn validate_lease_spec(spec: &LeaseSpec, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    if let Some(seconds) = spec.lease_duration_seconds
        && seconds <= 0
    {
        errs.push(FieldError::invalid(
            format!("{path}.leaseDurationSeconds"),
            seconds,
            "must be greater than 0",
        ));
    }
    if let Some(transitions) = spec.lease_transitions
        && transitions < 0
    {
        errs.push(FieldError::invalid(
            format!("{path}.leaseTransitions"),
            transitions,
            "must be greater than or equal to 0",
        ));
    }
    if let Some(strategy) = &spec.strategy {
        errs.extend(validate_coordinated_lease_strategy(
            strategy,
            &format!("{path}.strategy"),
        ));
    }
    let strategy_unset = spec.strategy.as_deref().is_none_or(str::is_empty);
    if spec
        .preferred_holder
        .as_deref()
        .is_some_and(|h| !h.is_empty())
        && strategy_unset
    {
        errs.push(FieldError::forbidden(
            format!("{path}.preferredHolder"),
            "may only be specified if `strategy` is defined",
        ));
    }
    errs
}

/// `ValidateCoordinatedLeaseStrategy`; upstream appends `.strategy` to a path that already
/// ends in it, so the errors name `spec.strategy.strategy`.
fn validate_coordinated_lease_strategy(strategy: &str, path: &str) -> FieldErrors {
    let mut errs = FieldErrors::new();
    let field = format!("{path}.strategy");
    if strategy.split('/').count() == 1 {
        if !LEASE_STRATEGIES.contains(&strategy) {
            errs.push(FieldError::not_supported_in_order(
                field,
                strategy,
                &LEASE_STRATEGIES,
            ));
        }
    } else {
        for msg in format::is_qualified_name(strategy) {
            errs.push(FieldError::invalid(field.clone(), strategy, msg));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(lease: &Value) -> Vec<String> {
        validate_lease(lease)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn durations_and_transitions_in_upstreams_words() {
        let lease = json!({"spec": {"leaseDurationSeconds": -1, "leaseTransitions": -2}});
        assert_eq!(
            messages(&lease),
            vec![
                "spec.leaseDurationSeconds: Invalid value: -1: must be greater than 0",
                "spec.leaseTransitions: Invalid value: -2: must be greater than or equal to 0",
            ]
        );
        let zero = json!({"spec": {"leaseDurationSeconds": 0}});
        assert_eq!(
            messages(&zero),
            vec!["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]
        );
        let fine = json!({"spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "leaseTransitions": 0}});
        assert!(messages(&fine).is_empty());
        assert!(messages(&json!({})).is_empty());
    }

    #[test]
    fn strategies_and_preferred_holders() {
        let unknown = json!({"spec": {"strategy": "Newest"}});
        assert_eq!(
            messages(&unknown),
            vec![
                "spec.strategy.strategy: Unsupported value: \"Newest\": supported values: \"OldestEmulationVersion\""
            ]
        );
        let custom = json!({"spec": {"strategy": "example.com/mine"}});
        assert!(messages(&custom).is_empty());
        let bad_custom = json!({"spec": {"strategy": "a/b/c"}});
        assert_eq!(validate_lease(&bad_custom).len(), 1);
        let preferred = json!({"spec": {"preferredHolder": "x"}});
        assert_eq!(
            messages(&preferred),
            vec!["spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"]
        );
    }

    #[test]
    fn gated_fields_are_dropped_unless_already_stored() {
        let mut lease = json!({"spec": {"holderIdentity": "a", "strategy": "OldestEmulationVersion", "preferredHolder": "b"}});
        prepare_for_create(&mut lease);
        assert_eq!(lease, json!({"spec": {"holderIdentity": "a"}}));
        let old = json!({"spec": {"strategy": "OldestEmulationVersion"}});
        let mut update =
            json!({"spec": {"strategy": "OldestEmulationVersion", "preferredHolder": "b"}});
        prepare_for_update(&mut update, &old);
        assert_eq!(
            update,
            json!({"spec": {"strategy": "OldestEmulationVersion"}})
        );
    }
}
