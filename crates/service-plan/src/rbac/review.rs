//! SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE`): the authorizer's decision for
//! attributes a user asks about. Mirrors `pkg/registry/authorization/selfsubjectaccessreview/
//! rest.go`, `pkg/registry/authorization/util` and the spec checks of
//! `pkg/apis/authorization/validation`.

use k8s_openapi::api::authorization::v1::{SelfSubjectAccessReviewSpec, SubjectAccessReviewStatus};

use super::authorizer::{Attributes, Decision, RuleResolver, authorize_with_privileged_groups};
use crate::field::{FieldError, FieldErrors, Raw, go_quote};
use crate::status::{Resource, Status};
use crate::user::UserInfo;

/// `authorization.k8s.io` `selfsubjectaccessreviews`, as errors name it.
pub const SELF_SUBJECT_ACCESS_REVIEWS: Resource = Resource {
    group: "authorization.k8s.io",
    plural: "selfsubjectaccessreviews",
    kind: "SelfSubjectAccessReview",
};

/// Mirrors `ValidateSelfSubjectAccessReviewSpec`: exactly one of resource and non-resource
/// attributes.
pub fn validate_access_review_spec(spec: &SelfSubjectAccessReviewSpec) -> FieldErrors {
    let mut errs = FieldErrors::new();
    match (&spec.resource_attributes, &spec.non_resource_attributes) {
        (Some(_), Some(non_resource)) => {
            // Go prints the dereferenced internal struct with %#v.
            let printed = format!(
                "authorization.NonResourceAttributes{{Path:{}, Verb:{}}}",
                go_quote(non_resource.path.as_deref().unwrap_or_default()),
                go_quote(non_resource.verb.as_deref().unwrap_or_default())
            );
            errs.push(FieldError::invalid(
                "spec.nonResourceAttributes",
                Raw(printed),
                "cannot be specified in combination with resourceAttributes",
            ));
        }
        (None, None) => errs.push(FieldError::invalid(
            "spec.resourceAttributes",
            None::<String>,
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )),
        _ => {}
    }
    errs
}

fn s(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or_default()
}

/// The status of a SelfSubjectAccessReview, or the 422 for a spec that asks about both or
/// neither kind of attributes. The decision is kube-apiserver's authorizer chain's
/// ([`authorize_with_privileged_groups`]); an empty `version` means every version (`*`).
/// Field and label selector attributes are not consulted: RBAC ignores them.
pub fn access_review<R: RuleResolver + ?Sized>(
    user: &UserInfo,
    spec: &SelfSubjectAccessReviewSpec,
    resolver: &R,
) -> Result<SubjectAccessReviewStatus, Box<Status>> {
    let errs = validate_access_review_spec(spec);
    if !errs.is_empty() {
        return Err(Box::new(Status::invalid(
            SELF_SUBJECT_ACCESS_REVIEWS,
            "",
            &errs,
        )));
    }
    let attrs = match (&spec.resource_attributes, &spec.non_resource_attributes) {
        (Some(r), _) => Attributes {
            user,
            verb: s(&r.verb),
            is_resource_request: true,
            path: "",
            namespace: s(&r.namespace),
            api_group: s(&r.group),
            // `matchAllVersionIfEmpty`.
            api_version: Some(s(&r.version)).filter(|v| !v.is_empty()).unwrap_or("*"),
            resource: s(&r.resource),
            subresource: s(&r.subresource),
            name: s(&r.name),
        },
        (None, Some(n)) => Attributes::non_resource(user, s(&n.verb), s(&n.path)),
        (None, None) => {
            return Err(Box::new(Status::invalid(
                SELF_SUBJECT_ACCESS_REVIEWS,
                "",
                &errs,
            )));
        }
    };
    let decision = authorize_with_privileged_groups(&attrs, resolver);
    let reason = decision.reason().to_string();
    Ok(SubjectAccessReviewStatus {
        allowed: matches!(decision, Decision::Allow(_)),
        // RBAC never denies outright; `denied` is omitted when false.
        denied: None,
        reason: (!reason.is_empty()).then_some(reason),
        evaluation_error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::bootstrap;
    use k8s_openapi::api::authorization::v1::{NonResourceAttributes, ResourceAttributes};

    fn resource(verb: &str, resource: &str, namespace: &str) -> SelfSubjectAccessReviewSpec {
        SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                resource: Some(resource.into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            }),
            non_resource_attributes: None,
        }
    }

    #[test]
    fn can_i_answers_with_the_authorizers_reason() {
        let policy = bootstrap::policy();
        let bob = UserInfo::authenticated("bob", []);
        let status =
            access_review(&bob, &resource("create", "services", "default"), &policy).unwrap();
        assert_eq!(
            status,
            SubjectAccessReviewStatus {
                allowed: false,
                ..Default::default()
            }
        );
        let status = access_review(
            &bob,
            &SelfSubjectAccessReviewSpec {
                non_resource_attributes: Some(NonResourceAttributes {
                    path: Some("/healthz".into()),
                    verb: Some("get".into()),
                }),
                resource_attributes: None,
            },
            &policy,
        )
        .unwrap();
        assert!(status.allowed);
        assert_eq!(
            status.reason.as_deref(),
            Some(
                "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole \"system:discovery\" to Group \"system:authenticated\""
            )
        );
        let root = UserInfo::authenticated("root", [crate::user::MASTERS.to_string()]);
        let status = access_review(&root, &resource("delete", "nodes", ""), &policy).unwrap();
        assert_eq!(
            status,
            SubjectAccessReviewStatus {
                allowed: true,
                ..Default::default()
            }
        );
    }

    #[test]
    fn a_spec_needs_exactly_one_kind_of_attributes() {
        let bob = UserInfo::authenticated("bob", []);
        let none = SelfSubjectAccessReviewSpec::default();
        let status = access_review(&bob, &none, &bootstrap::policy()).unwrap_err();
        assert_eq!(
            status.message,
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified"
        );
        let mut both = resource("get", "services", "");
        both.non_resource_attributes = Some(NonResourceAttributes {
            path: Some("/x".into()),
            verb: Some("get".into()),
        });
        assert_eq!(
            validate_access_review_spec(&both).aggregate(),
            "spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:\"/x\", Verb:\"get\"}: cannot be specified in combination with resourceAttributes"
        );
    }
}
