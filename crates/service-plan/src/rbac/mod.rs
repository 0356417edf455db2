//! Kubernetes RBAC authorization exactly as kube-apiserver v1.32 applies it: what a request
//! asks for ([`request_info`]), whether a user's roles allow it ([`authorizer`], [`rules`]), the
//! 403 text when they do not ([`message`]), what a user may do ([`authorizer::rules_for`]), the
//! escalation checks on role and binding writes ([`escalation`]), the bootstrap policy
//! ([`bootstrap`]) and the validation of the four RBAC kinds ([`validation`]).
//!
//! The server implements [`authorizer::RuleResolver`] over its store; nothing here does I/O.

pub mod authorizer;
pub mod bootstrap;
pub mod escalation;
pub mod message;
pub mod request_info;
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
