//! Deployments and ReplicaSets (apps/v1) and Pods (core/v1): static defaulting and validation, exactly as
//! kube-apiserver v1.32 applies them, on the objects' JSON as the registry stores them.

pub mod defaults;
pub mod image;
pub mod qos;
pub mod rollout;
pub mod validate;

/// `Deployment`, the kind whose defaults are `SetObjectDefaults_Deployment`.
pub const KIND_DEPLOYMENT: &str = "Deployment";
/// `ReplicaSet`, the kind whose defaults are `SetObjectDefaults_ReplicaSet`.
pub const KIND_REPLICA_SET: &str = "ReplicaSet";
/// `Pod`, the kind whose defaults are `SetObjectDefaults_Pod`.
pub const KIND_POD: &str = "Pod";
