//! TokenRequest (authentication.k8s.io/v1), the ServiceAccount subresource `kubectl create
//! token` posts: the spec's defaults and validation, as kube-apiserver's token REST storage
//! applies them.

use serde_json::Value;

use crate::field::{FieldError, FieldErrors};
use crate::status::{Resource, Status};

/// The issuer and the API audience, as a kubeadm cluster's apiserver names them.
pub const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";
/// The expiry of a TokenRequest without `expirationSeconds` (1 hour).
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// The shortest expiry a TokenRequest may ask for (10 minutes).
pub const MIN_EXPIRATION_SECONDS: i64 = 600;
/// The longest a TokenRequest may ask for (2^32 seconds).
pub const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;

/// The resource a TokenRequest's errors name.
pub const TOKEN_REQUESTS: Resource = Resource {
    group: "authentication.k8s.io",
    plural: "tokenrequests",
    kind: "TokenRequest",
};

/// What a TokenRequest asks for, defaulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    pub audiences: Vec<String>,
    pub expiration_seconds: i64,
}

/// The defaulted spec of `request` for ServiceAccount `name`, or the 422 kube-apiserver
/// answers: audiences default to the API audience, the expiry to an hour, which must lie
/// between 10 minutes and 2^32 seconds.
pub fn spec_of(request: &Value, name: &str) -> Result<TokenSpec, Box<Status>> {
    let spec = request.get("spec");
    let seconds = spec
        .and_then(|s| s.get("expirationSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    let audiences: Vec<String> = spec
        .and_then(|s| s.get("audiences"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect()
        })
        .filter(|list: &Vec<String>| !list.is_empty())
        .unwrap_or_else(|| vec![API_AUDIENCE.to_string()]);
    let detail = if seconds < MIN_EXPIRATION_SECONDS {
        Some("may not specify a duration less than 10 minutes")
    } else if seconds > MAX_EXPIRATION_SECONDS {
        Some("may not specify a duration larger than 2^32 seconds")
    } else {
        None
    };
    if let Some(detail) = detail {
        let mut errors = FieldErrors::new();
        errors.push(FieldError::invalid(
            "spec.expirationSeconds",
            seconds,
            detail,
        ));
        return Err(Box::new(Status::invalid(TOKEN_REQUESTS, name, &errors)));
    }
    Ok(TokenSpec {
        audiences,
        expiration_seconds: seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_spec_asks_for_an_hour_for_the_api() {
        assert_eq!(
            spec_of(&json!({}), "alice").unwrap(),
            TokenSpec {
                audiences: vec![API_AUDIENCE.into()],
                expiration_seconds: 3600
            }
        );
        let spec = json!({"spec": {"audiences": ["vault"], "expirationSeconds": 600}});
        assert_eq!(spec_of(&spec, "alice").unwrap().audiences, ["vault"]);
    }

    #[test]
    fn expiries_outside_ten_minutes_and_two_to_the_32_seconds_are_invalid() {
        let short = spec_of(&json!({"spec": {"expirationSeconds": 300}}), "alice").unwrap_err();
        assert_eq!(
            short.message,
            "TokenRequest.authentication.k8s.io \"alice\" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes"
        );
        let long = json!({"spec": {"expirationSeconds": (1_i64 << 32) + 1}});
        assert!(
            spec_of(&long, "alice")
                .unwrap_err()
                .message
                .contains("larger than 2^32")
        );
    }
}
