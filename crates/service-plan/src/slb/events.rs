//! CCM's Service event reasons and texts (`pkg/controller/helper/event.go`,
//! `clbv1/service_controller.go`, `clbv1/vgroups.go`), the ACK tags, labels and finalizer it
//! writes, and the conflict texts the plan reports.

use serde::Serialize;

/// Normal: a sync succeeded.
pub const REASON_ENSURED: &str = "EnsuredLoadBalancer";
/// Warning: a sync failed.
pub const REASON_SYNC_FAILED: &str = "SyncLoadBalancerFailed";
/// Normal: the CLB resources of a Service were cleaned up.
pub const REASON_CLEAN: &str = "CleanLoadBalancer";
/// Warning: cleaning up failed.
pub const REASON_CLEAN_FAILED: &str = "CleanLoadBalancerFailed";
/// Normal: a vServer group has no backends.
pub const REASON_UNAVAILABLE: &str = "UnAvailableLoadBalancer";
/// Normal or Warning: some pods were not added as backends.
pub const REASON_SKIP_SYNC_BACKENDS: &str = "SkipSyncBackends";
/// Warning: `preserve-lb-on-delete` is set.
pub const REASON_PRESERVED_ON_DELETE: &str = "PreservedOnDelete";
/// Warning: the finalizer could not be added.
pub const REASON_FAILED_ADD_FINALIZER: &str = "FailedAddFinalizer";
/// Warning: the finalizer could not be removed.
pub const REASON_FAILED_REMOVE_FINALIZER: &str = "FailedRemoveFinalizer";
/// Warning: the hash label could not be added.
pub const REASON_FAILED_ADD_HASH: &str = "FailedAddHash";
/// Warning: the hash label could not be removed.
pub const REASON_FAILED_REMOVE_HASH: &str = "FailedRemoveHash";
/// Warning: `status.loadBalancer` could not be written.
pub const REASON_FAILED_UPDATE_STATUS: &str = "FailedUpdateStatus";
/// Warning: `external-ip-type: eip` but the EIPs could not be read.
pub const REASON_FAILED_SET_EIP_ADDRESS: &str = "FailedSetEIPAddress";

/// Event type `Normal`.
pub const EVENT_NORMAL: &str = "Normal";
/// Event type `Warning`.
pub const EVENT_WARNING: &str = "Warning";

/// The `UnAvailableLoadBalancer` text.
pub const NO_AVAILABLE_NODES: &str = "There are no available nodes for LoadBalancer";
/// The `CleanLoadBalancer` text.
pub const CLEAN_TEXT: &str = "Clean load balancer";

/// Tag CCM puts on a CLB it creates; the value is the default CLB name (`a` + UID).
pub const TAG_KEY_SERVICE: &str = "kubernetes.do.not.delete";
/// Tag with the cluster id, on CCM-created CLBs and on the cluster's API-server CLB.
pub const TAG_KEY_CLUSTER: &str = "ack.aliyun.com";
/// Tag CCM adds (value `true`) to a manually created CLB it reuses.
pub const TAG_KEY_REUSED: &str = "kubernetes.reused.by.user";
/// CCM adds no tag once a CLB has this many.
pub const MAX_TAGS_PER_CLB: usize = 10;
/// Label with the CLB id that CCM puts on the Service.
pub const LABEL_LOAD_BALANCER_ID: &str = "service.k8s.alibaba/loadbalancer-id";
/// Label with the hash CCM uses to detect Service changes.
pub const LABEL_SERVICE_HASH: &str = "service.beta.kubernetes.io/hash";
/// Finalizer CCM adds to LoadBalancer Services.
pub const FINALIZER: &str = "service.k8s.alibaba/resources";
/// Reason CCM gives when it turns console modification protection on.
pub const MODIFICATION_PROTECTION_REASON: &str = "managed.by.ack";

/// Default quota: listeners per CLB.
pub const MAX_LISTENERS_PER_CLB: usize = 50;
/// Default quota: backend servers per CLB.
pub const MAX_BACKENDS_PER_CLB: usize = 200;
/// Default quota: vServer groups one ECS instance may join.
pub const MAX_VSERVER_GROUPS_PER_ECS: usize = 50;

/// The `EnsuredLoadBalancer` text.
pub fn ensured_text(lb_id: &str) -> String {
    format!("Ensured load balancer [{lb_id}]")
}

/// The `SyncLoadBalancerFailed` text; `lb_id` is empty when no CLB was found or created.
pub fn sync_failed_text(lb_id: &str, message: &str) -> String {
    format!("Error syncing load balancer [{lb_id}]: {message}")
}

/// The `CleanLoadBalancerFailed` text.
pub fn clean_failed_text(lb_id: &str, message: &str) -> String {
    format!("Error deleting load balancer [{lb_id}]: {message}")
}

/// The `PreservedOnDelete` text.
pub fn preserved_text(lb_id: &str) -> String {
    format!("The lb [{lb_id}] will be preserved after the service is deleted.")
}

/// Conflict row 1: reuse of a CLB created by CCM or used by the API server.
pub fn reuse_created_by_kubernetes(lb_id: &str) -> String {
    format!(
        "alicloud: the loadbalancer {lb_id} can not be reused, can not reuse loadbalancer created by kubernetes."
    )
}

/// Conflict row 2: the Service already shows another address.
pub fn reuse_ip_mismatch(lb_id: &str, old_ip: &str, new_ip: &str) -> String {
    format!(
        "alicloud: the loadbalancer {lb_id} can not be reused, service has been associated with ip [{old_ip}], cannot be bound to ip [{new_ip}]"
    )
}

/// Conflict row 4: the address type differs from the CLB's.
pub const ADDRESS_TYPE_CHANGE: &str =
    "alicloud: can not change LoadBalancer AddressType once created. delete and retry";

/// Conflict row 12: the Service's CLB is gone but its status still has the address.
pub fn load_balancer_missing(ip: &str) -> String {
    format!(
        "alicloud: can not find loadbalancer, but it's defined in service [{ip}] this may happen when you delete the loadbalancer"
    )
}

/// Conflict row 13: more than one CLB carries the Service's tag (or name).
pub fn multiple_found(service_key: &str, by: &str, ids: &[String]) -> String {
    format!(
        "[{service_key}] find multiple loadbalances by {by}, lbIds[{}]",
        ids.join(",")
    )
}

/// Conflict row 17: a spec on a pay-by-CLCU CLB.
pub const SPEC_ON_CLCU: &str =
    "The operation is not allowed because the instanceChargeType of loadbalancer is PayByCLCU.";
/// Conflict row 17: switching a pay-by-CLCU CLB back to pay-by-spec.
pub const CLCU_TO_SPEC: &str = "User does not have permission modify InstanceChargeType to spec.";

/// Conflict row 15: too many backend servers.
pub const BACKEND_QUOTA: &str =
    "The backend server number has reached to the quota limit of this load balancers";

/// Conflict row 19: ENI backends on a cluster whose pods have no ENI (Flannel).
pub fn eni_not_found(ip: &str, vpc_id: &str) -> String {
    format!("can not find eniid for ip {ip} in vpc {vpc_id}")
}

/// Conflict row 11: `vgroup-port` names a group CCM created.
pub fn vgroup_created_by_ccm(vgroup_id: &str, lb_id: &str) -> String {
    format!("cannot reuse a ccm created vgroup {vgroup_id} for slb {lb_id}")
}

/// Conflict row 11: `vgroup-port` names a group the CLB does not have.
pub fn vgroup_not_found(vgroup_id: &str, lb_id: &str) -> String {
    format!("can not find vgroupId {vgroup_id} in lb {lb_id}")
}

/// `…-id` names a CLB that does not exist (the CLB API's `InvalidLoadBalancerId.NotFound`).
pub fn load_balancer_not_found(lb_id: &str) -> String {
    format!("InvalidLoadBalancerId.NotFound: The specified LoadBalancerId does not exist: {lb_id}")
}

/// Sharing rule 3, which CCM does not enforce: one frontend port, one Service.
pub fn port_in_use(port: i32, lb_id: &str, namespace: &str, service: &str) -> String {
    format!(
        "port {port} of load balancer {lb_id} is already used by Service {namespace}/{service}; Services sharing a load balancer must use different frontend ports"
    )
}

/// Conflict row 8: a listener not created for a Service holds the port with another protocol.
pub fn listener_protocol_conflict(port: i32, lb_id: &str, existing: &str, wanted: &str) -> String {
    format!(
        "port {port} of load balancer {lb_id} already has a {} listener that was not created for a Service; a {} listener cannot be added on the same port (ListenerAlreadyExists)",
        existing.to_uppercase(),
        wanted.to_uppercase()
    )
}

/// Sharing rule 5: no sharing across clusters.
pub fn cross_cluster(lb_id: &str, other_cluster: &str, name: &str) -> String {
    format!(
        "load balancer {lb_id} is already used by cluster {other_cluster} ({name}); a load balancer cannot be shared across clusters"
    )
}

/// An event the controller records when it applies a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedEvent {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// CCM's reason.
    pub reason: &'static str,
    /// CCM's text.
    pub message: String,
}

impl PlannedEvent {
    /// A `Normal` event.
    pub fn normal(reason: &'static str, message: impl Into<String>) -> Self {
        PlannedEvent {
            type_: EVENT_NORMAL,
            reason,
            message: message.into(),
        }
    }

    /// A `Warning` event.
    pub fn warning(reason: &'static str, message: impl Into<String>) -> Self {
        PlannedEvent {
            type_: EVENT_WARNING,
            reason,
            message: message.into(),
        }
    }
}
