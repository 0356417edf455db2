//! `metav1.Status` failure bodies, built as apimachinery `pkg/api/errors` builds them.

use serde::{Deserialize, Serialize};

use crate::field::{FieldErrors, go_quote};

/// The `Conflict` text after `Operation cannot be fulfilled on ...: `.
pub const CONFLICT_TEXT: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// A `metav1.Status` object as kube-apiserver writes it for a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub kind: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    pub code: u16,
}

/// `metav1.StatusDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetails {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    #[serde(
        rename = "retryAfterSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_seconds: Option<i32>,
}

/// `metav1.StatusCause`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// A resource as errors name it: `services`, or `deployments.apps` in another group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    pub group: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
}

impl Resource {
    /// v1 `services`.
    pub const SERVICES: Resource = Resource {
        group: "",
        plural: "services",
        kind: "Service",
    };

    /// `services` or `deployments.apps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Service` or `Deployment.apps`.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

impl Status {
    /// A failure with the given code, reason and message.
    pub fn failure(
        code: u16,
        reason: &str,
        message: impl Into<String>,
        details: Option<StatusDetails>,
    ) -> Status {
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: Default::default(),
            status: "Failure".into(),
            message: message.into(),
            reason: reason.into(),
            details,
            code,
        }
    }

    /// `{"status":"Success"}`, as a delete may answer.
    pub fn success(details: Option<StatusDetails>) -> Status {
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: Default::default(),
            status: "Success".into(),
            message: String::new(),
            reason: String::new(),
            details,
            code: 200,
        }
    }

    fn resource_details(resource: Resource, name: &str) -> Option<StatusDetails> {
        Some(StatusDetails {
            name: name.to_string(),
            group: resource.group.to_string(),
            kind: resource.plural.to_string(),
            ..Default::default()
        })
    }

    /// 404 `services "x" not found`.
    pub fn not_found(resource: Resource, name: &str) -> Status {
        Status::failure(
            404,
            "NotFound",
            format!("{} {} not found", resource.qualified(), go_quote(name)),
            Self::resource_details(resource, name),
        )
    }

    /// 409 `services "x" already exists`.
    pub fn already_exists(resource: Resource, name: &str) -> Status {
        Status::failure(
            409,
            "AlreadyExists",
            format!("{} {} already exists", resource.qualified(), go_quote(name)),
            Self::resource_details(resource, name),
        )
    }

    /// 409 Conflict for a stale resourceVersion.
    pub fn conflict(resource: Resource, name: &str) -> Status {
        Status::failure(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {}: {CONFLICT_TEXT}",
                resource.qualified(),
                go_quote(name)
            ),
            Self::resource_details(resource, name),
        )
    }

    /// 409 Conflict with a custom reason text (e.g. a failed delete precondition).
    pub fn conflict_with(resource: Resource, name: &str, detail: &str) -> Status {
        Status::failure(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {}: {detail}",
                resource.qualified(),
                go_quote(name)
            ),
            Self::resource_details(resource, name),
        )
    }

    /// 409 Conflict naming the object by its Kind, as `rest.BeforeDelete` builds it
    /// (`schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}`): `Service "x"`,
    /// `details.kind` = `Service`.
    pub fn conflict_on_kind(resource: Resource, name: &str, detail: &str) -> Status {
        Status::failure(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {}: {detail}",
                resource.qualified_kind(),
                go_quote(name)
            ),
            Some(StatusDetails {
                name: name.to_string(),
                group: resource.group.to_string(),
                kind: resource.kind.to_string(),
                ..Default::default()
            }),
        )
    }

    /// 422 Invalid with one cause per field error (`errors.NewInvalid`).
    pub fn invalid(resource: Resource, name: &str, errors: &FieldErrors) -> Status {
        let causes = errors
            .iter()
            .map(|e| StatusCause {
                reason: e.error_type.reason().into(),
                message: e.body(),
                field: e.field.clone(),
            })
            .collect();
        let prefix = format!(
            "{} {} is invalid",
            resource.qualified_kind(),
            go_quote(name)
        );
        let message = if errors.is_empty() {
            prefix
        } else {
            format!("{prefix}: {}", errors.aggregate())
        };
        Status::failure(
            422,
            "Invalid",
            message,
            Some(StatusDetails {
                name: name.to_string(),
                group: resource.group.to_string(),
                kind: resource.kind.to_string(),
                causes,
                ..Default::default()
            }),
        )
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Status {
        Status::failure(400, "BadRequest", message, None)
    }

    /// 500 InternalError: `Internal error occurred: <detail>`, one cause with the detail.
    pub fn internal(detail: impl Into<String>) -> Status {
        let detail = detail.into();
        Status::failure(
            500,
            "InternalError",
            format!("Internal error occurred: {detail}"),
            Some(StatusDetails {
                causes: vec![StatusCause {
                    message: detail,
                    ..Default::default()
                }],
                ..Default::default()
            }),
        )
    }

    /// 410 Expired for a watch or continue token older than the compaction point.
    pub fn expired(message: impl Into<String>) -> Status {
        Status::failure(410, "Expired", message, None)
    }

    /// 404 for a path that serves nothing.
    pub fn path_not_found() -> Status {
        Status::failure(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(StatusDetails::default()),
        )
    }

    /// `Error from server (Reason)`, or `Error from server` for a Status without a reason.
    pub fn server_error_prefix(&self) -> String {
        if self.reason.is_empty() {
            "Error from server".to_string()
        } else {
            format!("Error from server ({})", self.reason)
        }
    }

    /// What `kubectl` prints for this Status: `The Service "x" is invalid: ...` for a 422,
    /// `Error from server (Reason): message` otherwise.
    pub fn kubectl_text(&self) -> String {
        let Some(details) = self.details.as_ref().filter(|_| self.reason == "Invalid") else {
            return format!("{}: {}", self.server_error_prefix(), self.message);
        };
        let kind = if details.group.is_empty() {
            details.kind.clone()
        } else {
            format!("{}.{}", details.kind, details.group)
        };
        let head = format!("The {kind} {} is invalid: ", go_quote(&details.name));
        match details.causes.as_slice() {
            [] => format!("{head}{}", self.message),
            [one] => format!("{head}{}: {}", one.field, one.message),
            many => {
                let lines: Vec<String> = many
                    .iter()
                    .map(|c| format!("* {}: {}", c.field, c.message))
                    .collect();
                format!("{head}\n{}", lines.join("\n"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::FieldError;

    #[test]
    fn invalid_status_has_causes_and_aggregate_message() {
        let errs = FieldErrors(vec![FieldError::invalid(
            "spec.ports[0].port",
            0,
            "must be between 1 and 65535, inclusive",
        )]);
        let s = Status::invalid(Resource::SERVICES, "web", &errs);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Service \"web\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive","reason":"Invalid","details":{"name":"web","kind":"Service","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: 0: must be between 1 and 65535, inclusive","field":"spec.ports[0].port"}]},"code":422}"#
        );
        assert_eq!(
            s.kubectl_text(),
            "The Service \"web\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
        );
    }

    #[test]
    fn kubectl_lists_several_causes_with_a_trailing_space() {
        let errs = FieldErrors(vec![
            FieldError::invalid(
                "spec.ports[0].port",
                0,
                "must be between 1 and 65535, inclusive",
            ),
            FieldError::required("spec.ports[0].name", ""),
        ]);
        assert_eq!(
            Status::invalid(Resource::SERVICES, "bad-svc", &errs).kubectl_text(),
            "The Service \"bad-svc\" is invalid: \n* spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive\n* spec.ports[0].name: Required value"
        );
    }

    #[test]
    fn not_found_and_conflict_name_the_resource() {
        assert_eq!(
            Status::not_found(Resource::SERVICES, "nope").message,
            "services \"nope\" not found"
        );
        assert_eq!(
            Status::conflict(Resource::SERVICES, "foo").message,
            "Operation cannot be fulfilled on services \"foo\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let deployments = Resource {
            group: "apps",
            plural: "deployments",
            kind: "Deployment",
        };
        assert_eq!(
            Status::not_found(deployments, "x").message,
            "deployments.apps \"x\" not found"
        );
    }

    #[test]
    fn delete_precondition_conflict_names_the_kind() {
        let s = Status::conflict_on_kind(
            Resource::SERVICES,
            "web",
            "the UID in the precondition (a) does not match the UID in record (b). The object might have been deleted and then recreated",
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on Service \"web\": the UID in the precondition (a) does not match the UID in record (b). The object might have been deleted and then recreated","reason":"Conflict","details":{"name":"web","kind":"Service"},"code":409}"#
        );
        let deployments = Resource {
            group: "apps",
            plural: "deployments",
            kind: "Deployment",
        };
        let s = Status::conflict_on_kind(deployments, "x", "d");
        assert_eq!(
            s.message,
            "Operation cannot be fulfilled on Deployment.apps \"x\": d"
        );
        assert_eq!(s.details.unwrap().group, "apps");
    }

    #[test]
    fn internal_error_has_one_message_cause() {
        let s = Status::internal("failed to allocate a nodePort: range is full");
        assert_eq!(
            s.message,
            "Internal error occurred: failed to allocate a nodePort: range is full"
        );
        assert_eq!(
            s.details.unwrap().causes[0].message,
            "failed to allocate a nodePort: range is full"
        );
    }
}
