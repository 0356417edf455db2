//! Query parameters, read as kube-apiserver reads them: the first value of each name, Go's
//! `strconv.ParseBool` for booleans, and a 400 BadRequest in upstream's words otherwise.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use service_plan::codec::FieldValidation;
use service_plan::field::{FieldError, FieldErrors, go_string_slice};
use service_plan::selector::{FieldSelector, LabelSelector};
use service_plan::status::{Resource, Status};
use service_plan::table::IncludeObject;
use service_plan::user::UserInfo;

use super::error::ApiError;
use crate::registry::{Kind, ListOptions, WriteOptions};

/// The only `dryRun` value kube-apiserver accepts.
const DRY_RUN_ALL: &str = "All";

/// The query string of a request, as name/value pairs in order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// The request's `User-Agent`, which names the field manager of a write without one.
    user_agent: Option<String>,
    /// Who the request was authenticated as.
    user: Option<Arc<UserInfo>>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let user = parts.extensions.get::<Arc<UserInfo>>().cloned();
        Ok(Params {
            pairs,
            user_agent,
            user,
        })
    }
}

impl Params {
    /// Builds parameters from pairs (tests and internal calls).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params {
            pairs,
            user_agent: None,
            user: None,
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A boolean parameter; absent or empty is false.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "strconv.ParseBool: parsing {}: invalid syntax",
                    service_plan::field::go_quote(v)
                ))
            }),
        }
    }

    /// An integer parameter; absent or empty is `None`.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "strconv.ParseInt: parsing {}: invalid syntax",
                    service_plan::field::go_quote(v)
                ))
            }),
        }
    }

    /// `?watch=true` (or `1`, `t`, `True`, as Go parses booleans).
    pub fn watch(&self) -> Result<bool, ApiError> {
        self.flag("watch")
    }

    /// `labelSelector` and `fieldSelector` (checked against the kind's supported fields),
    /// without paging.
    pub fn selectors(&self, kind: &Kind) -> Result<ListOptions, ApiError> {
        let label_selector = match self.get("labelSelector").filter(|s| !s.is_empty()) {
            Some(s) => Some(LabelSelector::parse(s).map_err(ApiError::bad_request)?),
            None => None,
        };
        let field_selector = match self.get("fieldSelector").filter(|s| !s.is_empty()) {
            Some(s) => {
                let selector = FieldSelector::parse(s).map_err(ApiError::bad_request)?;
                // Named as the stored objects' fields, which every selector filters.
                let selector = selector
                    .for_request(kind.resource.group, kind.resource.kind)
                    .map_err(ApiError::bad_request)?;
                Some(selector)
            }
            None => None,
        };
        Ok(ListOptions {
            label_selector,
            field_selector,
            ..Default::default()
        })
    }

    /// `includeObject` for Table rows (default `Metadata`).
    pub fn include_object(&self) -> Result<IncludeObject, ApiError> {
        match self.get("includeObject") {
            None | Some("") => Ok(IncludeObject::default()),
            Some(v) => IncludeObject::parse(v).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "includeObject: Unsupported value: {}: supported values: \"Metadata\", \"None\", \"Object\"",
                    service_plan::field::go_quote(v)
                ))
            }),
        }
    }

    /// `dryRun`, `fieldValidation` and `fieldManager` of a write; `options_kind` names the
    /// options type in errors (`CreateOptions`, `UpdateOptions`, `PatchOptions`, `DeleteOptions`).
    pub fn write_options(&self, options_kind: &'static str) -> Result<WriteOptions, ApiError> {
        let dry_run = dry_run(&self.all("dryRun"), options_kind)?;
        let field_validation = FieldValidation::parse(self.get("fieldValidation"))
            .map_err(|e| ApiError::bad_request(e.message))?;
        let field_manager = self
            .get("fieldManager")
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        Ok(WriteOptions {
            dry_run,
            field_validation,
            field_manager,
            agent_manager: self
                .user_agent
                .as_deref()
                .map(service_plan::meta::manager_from_user_agent),
            user: self.user.clone(),
            user_agent: self.user_agent.clone(),
            // DeleteOptions may come as query parameters too.
            propagation: crate::registry::Propagation::named(
                self.get("propagationPolicy"),
                self.get("orphanDependents").map(|v| v == "true"),
            )
            .unwrap_or_default(),
            // A client's body always takes the typed round trip.
            canonical_body: false,
        })
    }

    /// Checks the options of a list or watch as `ValidateListOptions` does (with the WatchList
    /// feature on, as in v1.32), answering a 422 on `ListOptions.meta.k8s.io` in upstream's words.
    pub fn validate_list_options(&self, watch: bool) -> Result<(), ApiError> {
        let present = |name| self.get(name).filter(|v| !v.is_empty());
        let rv_match = present("resourceVersionMatch");
        let send_initial = present("sendInitialEvents").is_some();
        let continues = present("continue").is_some();
        let mut errors = FieldErrors::new();
        const MATCH: &str = "resourceVersionMatch";
        if watch {
            if send_initial && rv_match != Some("NotOlderThan") {
                errors.push(FieldError::forbidden(
                    MATCH,
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if let Some(m) = rv_match {
                if !send_initial {
                    errors.push(FieldError::forbidden(
                        MATCH,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                if m != "NotOlderThan" {
                    errors.push(FieldError::not_supported_in_order(
                        MATCH,
                        m,
                        &["NotOlderThan"],
                    ));
                }
                if continues {
                    errors.push(FieldError::forbidden(
                        MATCH,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
            }
        } else {
            if let Some(m) = rv_match {
                if present("resourceVersion").is_none() {
                    errors.push(FieldError::forbidden(
                        MATCH,
                        "resourceVersionMatch is forbidden unless resourceVersion is provided",
                    ));
                }
                if continues {
                    errors.push(FieldError::forbidden(
                        MATCH,
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
                if m != "Exact" && m != "NotOlderThan" {
                    errors.push(FieldError::not_supported_in_order(
                        MATCH,
                        m,
                        &["Exact", "NotOlderThan", ""],
                    ));
                }
                if m == "Exact" && self.get("resourceVersion") == Some("0") {
                    errors.push(FieldError::forbidden(
                        MATCH,
                        "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                    ));
                }
            }
            if send_initial {
                errors.push(FieldError::forbidden(
                    "sendInitialEvents",
                    "sendInitialEvents is forbidden for list",
                ));
            }
        }
        if errors.is_empty() {
            return Ok(());
        }
        let resource = Resource {
            group: "meta.k8s.io",
            plural: "",
            kind: "ListOptions",
        };
        Err(ApiError::new(Status::invalid(resource, "", &errors)))
    }

    /// `force` of a server-side apply.
    pub fn force(&self) -> Result<bool, ApiError> {
        self.flag("force")
    }
}

/// Go's `strconv.ParseBool`.
pub use service_plan::format::parse_go_bool as parse_bool;

/// Validates `dryRun` values as `ValidateDryRun` does: only `All`, answered with a 422 on the
/// options kind otherwise.
pub fn dry_run(values: &[String], options_kind: &'static str) -> Result<bool, ApiError> {
    let values: Vec<String> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
    if values.is_empty() {
        return Ok(false);
    }
    if values.len() == 1 && values[0] == DRY_RUN_ALL {
        return Ok(true);
    }
    let errors = FieldErrors(vec![FieldError::not_supported(
        "dryRun",
        go_string_slice(&values),
        &[DRY_RUN_ALL],
    )]);
    let resource = Resource {
        group: "meta.k8s.io",
        plural: "",
        kind: options_kind,
    };
    Err(ApiError::new(Status::invalid(resource, "", &errors)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn watch_accepts_go_booleans() {
        assert!(params(&[("watch", "true")]).watch().unwrap());
        assert!(params(&[("watch", "1")]).watch().unwrap());
        assert!(params(&[("watch", "True")]).watch().unwrap());
        assert!(!params(&[]).watch().unwrap());
        assert_eq!(
            params(&[("watch", "yes")])
                .watch()
                .unwrap_err()
                .status()
                .message,
            "strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
    }

    #[test]
    fn dry_run_only_all() {
        assert!(
            params(&[("dryRun", "All")])
                .write_options("CreateOptions")
                .unwrap()
                .dry_run
        );
        let err = params(&[("dryRun", "Some")])
            .write_options("CreateOptions")
            .unwrap_err();
        assert_eq!(err.status().code, 422);
        assert_eq!(
            err.status().message,
            "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Some\"}: supported values: \"All\""
        );
    }

    #[test]
    fn list_options_as_upstream_validates_them() {
        let message = |pairs: &[(&str, &str)], watch| {
            let err = params(pairs).validate_list_options(watch).unwrap_err();
            assert_eq!(err.status().code, 422);
            err.status().message.clone()
        };
        assert_eq!(
            message(
                &[
                    ("resourceVersionMatch", "garbage"),
                    ("resourceVersion", "5")
                ],
                false
            ),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"garbage\": supported values: \"Exact\", \"NotOlderThan\", \"\""
        );
        assert_eq!(
            message(&[("resourceVersionMatch", "Exact")], false),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
        );
        assert_eq!(
            message(&[("resourceVersionMatch", "NotOlderThan")], true),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
        );
        assert!(
            params(&[
                ("resourceVersionMatch", "NotOlderThan"),
                ("resourceVersion", "0")
            ])
            .validate_list_options(false)
            .is_ok()
        );
        assert!(
            params(&[
                ("sendInitialEvents", "true"),
                ("resourceVersionMatch", "NotOlderThan")
            ])
            .validate_list_options(true)
            .is_ok()
        );
    }

    #[test]
    fn invalid_field_validation_is_bad_request() {
        let err = params(&[("fieldValidation", "Loud")])
            .write_options("CreateOptions")
            .unwrap_err();
        assert_eq!(err.status().code, 400);
        assert_eq!(
            err.status().message,
            "fieldValidation parameter unsupported: Loud. Valid values are: Ignore, Warn, Strict"
        );
    }
}
