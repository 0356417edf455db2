//! flowcontrol.apiserver.k8s.io/v1: FlowSchemas and PriorityLevelConfigurations, the
//! configuration of API Priority and Fairness. What is here: the registry strategies' rules
//! (defaulting and validation as kube-apiserver v1.32 applies them), the bootstrap
//! configuration kube-apiserver ensures at start-up, and the classification of a request to
//! the FlowSchema and priority level that would serve it. Queuing and concurrency limits are
//! not modelled: classification only names the objects (the response headers say which).

pub mod bootstrap;
pub mod classify;
pub mod validate;

/// The API group.
pub const GROUP_NAME: &str = "flowcontrol.apiserver.k8s.io";

/// `flowcontrolv1.AutoUpdateAnnotationKey`: whether the server keeps the object's spec equal
/// to its bootstrap configuration.
pub const AUTO_UPDATE_ANNOTATION: &str = "apf.kubernetes.io/autoupdate-spec";

/// The FlowSchema and the priority level named `exempt`.
pub const NAME_EXEMPT: &str = "exempt";
/// The FlowSchema and the priority level named `catch-all`.
pub const NAME_CATCH_ALL: &str = "catch-all";

/// Response header naming the uid of the FlowSchema that classified the request.
pub const HEADER_FLOW_SCHEMA_UID: &str = "X-Kubernetes-PF-FlowSchema-UID";
/// Response header naming the uid of the priority level the request was assigned to.
pub const HEADER_PRIORITY_LEVEL_UID: &str = "X-Kubernetes-PF-PriorityLevel-UID";
