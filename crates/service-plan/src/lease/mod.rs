//! coordination.k8s.io/v1 Leases: the registry strategy's rules (what kube-apiserver v1.32
//! drops and validates) and the leader election kube-controller-manager runs over a Lease.

pub mod election;
pub mod validate;

/// The API group of Leases.
pub const GROUP_NAME: &str = "coordination.k8s.io";
