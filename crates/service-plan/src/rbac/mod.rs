//! Kubernetes RBAC authorization exactly as kube-apiserver v1.32 applies it: what a request
//! asks for ([`request_info`]), whether a user's roles allow it ([`authorizer`], [`rules`]), the
//! 403 text when they do not ([`message`]), what a user may do ([`authorizer::rules_for`],
//! [`review`]), the escalation checks on role and binding writes ([`escalation`]), the bootstrap policy
//! ([`bootstrap`], kept current by [`reconcile`]) and the validation of the four RBAC kinds
//! ([`validation`]).
//!
//! The server implements [`authorizer::RuleResolver`] over its store; nothing here does I/O.

pub mod authorizer;
pub mod bootstrap;
pub mod escalation;
pub mod message;
pub mod objects;
pub mod reconcile;
pub mod request_info;
pub mod review;
pub mod rules;
pub mod validation;

pub use authorizer::{
    Attributes, Decision, RuleResolver, StaticPolicy, authorize, authorize_with_privileged_groups,
    rules_for, rules_review,
};
pub use request_info::{RequestInfo, new_request_info};

/// The RBAC API group, `rbac.authorization.k8s.io`.
pub const GROUP_NAME: &str = "rbac.authorization.k8s.io";
/// `roleRef.kind` and subject kinds, as `rbacv1` spells them.
pub const KIND_ROLE: &str = "Role";
/// `roleRef.kind` of a ClusterRole.
pub const KIND_CLUSTER_ROLE: &str = "ClusterRole";
/// The subject kind of a ServiceAccount.
pub const KIND_SERVICE_ACCOUNT: &str = "ServiceAccount";
/// The subject kind of a user.
pub const KIND_USER: &str = "User";
/// The subject kind of a group.
pub const KIND_GROUP: &str = "Group";
/// `rbacv1.VerbAll`, `APIGroupAll`, `ResourceAll` and `NonResourceAll`.
pub const ALL: &str = "*";

#[cfg(test)]
mod tests {
    use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::message::forbidden_status;
    use super::*;
    use crate::user::UserInfo;

    /// What the server does per request: read it, decide with the stored policy, and answer
    /// a denial with kube-apiserver's Status.
    fn answer(
        user: &UserInfo,
        method: &str,
        path: &str,
        query: &str,
        policy: &StaticPolicy,
    ) -> Result<String, String> {
        let info = new_request_info(method, path, query).map_err(|e| e.to_string())?;
        let attrs = Attributes::for_request(user, &info);
        match authorize(&attrs, policy) {
            Decision::Allow(reason) => Ok(reason),
            Decision::NoOpinion(reason) => Err(forbidden_status(&attrs, &reason).message),
        }
    }

    fn edit_binding(namespace: &str, sa: &str) -> RoleBinding {
        RoleBinding {
            metadata: ObjectMeta {
                name: Some("edit".into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            },
            role_ref: RoleRef {
                api_group: GROUP_NAME.into(),
                kind: KIND_CLUSTER_ROLE.into(),
                name: "edit".into(),
            },
            subjects: Some(vec![Subject {
                kind: KIND_SERVICE_ACCOUNT.into(),
                name: sa.into(),
                ..Default::default()
            }]),
        }
    }

    #[test]
    fn the_bootstrap_policy_answers_requests_end_to_end() {
        let mut policy = bootstrap::policy();
        let alice = UserInfo::service_account("default", "alice", "u1");
        assert_eq!(
            answer(&alice, "POST", "/api/v1/namespaces/default/services", "", &policy),
            Err("services is forbidden: User \"system:serviceaccount:default:alice\" cannot create resource \"services\" in API group \"\" in the namespace \"default\"".into())
        );
        policy.role_bindings.push(edit_binding("default", "alice"));
        assert_eq!(
            answer(&alice, "POST", "/api/v1/namespaces/default/services", "", &policy),
            Ok("RBAC: allowed by RoleBinding \"edit/default\" of ClusterRole \"edit\" to ServiceAccount \"alice/default\"".into())
        );
        // edit reads services/status but may not write it; the service controller may.
        assert!(
            answer(
                &alice,
                "GET",
                "/api/v1/namespaces/default/services/web/status",
                "",
                &policy
            )
            .is_ok()
        );
        assert_eq!(
            answer(&alice, "PUT", "/api/v1/namespaces/default/services/web/status", "", &policy),
            Err("services \"web\" is forbidden: User \"system:serviceaccount:default:alice\" cannot update resource \"services/status\" in API group \"\" in the namespace \"default\"".into())
        );
        assert!(
            answer(
                &alice,
                "GET",
                "/apis/apps/v1/namespaces/default/deployments",
                "watch=1",
                &policy
            )
            .is_ok()
        );
        assert!(
            answer(
                &alice,
                "POST",
                "/api/v1/namespaces/default/serviceaccounts/alice/token",
                "",
                &policy
            )
            .is_ok()
        );
        assert!(
            answer(
                &alice,
                "GET",
                "/api/v1/namespaces/other/services",
                "",
                &policy
            )
            .is_err()
        );
        assert_eq!(
            answer(&UserInfo::anonymous(), "GET", "/apis", "", &policy),
            Err("forbidden: User \"system:anonymous\" cannot get path \"/apis\"".into())
        );
        assert!(answer(&UserInfo::anonymous(), "GET", "/readyz", "", &policy).is_ok());
    }
}
