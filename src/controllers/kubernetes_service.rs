//! The `kubernetes` Service's endpoints, as kube-apiserver keeps them for itself
//! (pkg/controlplane/controller/kubernetesservice and pkg/controlplane/reconcilers): at
//! start-up the Service's target port becomes the server's listen port, and its Endpoints and
//! EndpointSlice point at the listen address, whatever an earlier run left there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde_json::Value;
use service_plan::endpoints::{MASTER_PORT_NAME, MASTER_SERVICE_NAME, master_endpoints};

use super::{is_current, str_at, writer};
use crate::registry::{Registry, RegistryError, kind_by_plural};

/// The field manager of these writes: the API server's own.
pub const MANAGER: &str = "kube-apiserver";
/// The namespace of the `kubernetes` Service.
const NAMESPACE: &str = "default";

/// The address clients reach the server at: the listen address, or loopback for a wildcard
/// listen (an endpoint cannot be `0.0.0.0`).
pub fn advertised_ip(listen: SocketAddr) -> IpAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    }
}

/// Brings the `kubernetes` Service's target port and its Endpoints and EndpointSlice in step
/// with `listen`; writes nothing when they already are.
pub async fn reconcile(registry: &Registry, listen: SocketAddr) -> Result<(), RegistryError> {
    let port = i32::from(listen.port());
    let services = kind("services")?;
    // CreateOrUpdateMasterServiceIfNeeded: the `https` port targets the secure port.
    let target_port = Value::from(port);
    registry
        .patch(
            services,
            NAMESPACE,
            MASTER_SERVICE_NAME,
            &writer(MANAGER),
            |current| {
                let mut next = current.clone();
                if let Some(ports) = next
                    .pointer_mut("/spec/ports")
                    .and_then(Value::as_array_mut)
                {
                    for p in ports
                        .iter_mut()
                        .filter(|p| str_at(p, "/name") == MASTER_PORT_NAME)
                    {
                        p["targetPort"] = target_port.clone();
                    }
                }
                Ok(next)
            },
        )
        .await?;
    let (endpoints, slice) = master_endpoints(&advertised_ip(listen).to_string(), port);
    for (plural, api_version, kind_name, object) in [
        ("endpoints", "v1", "Endpoints", encode(&endpoints)?),
        (
            "endpointslices",
            "discovery.k8s.io/v1",
            "EndpointSlice",
            encode(&slice)?,
        ),
    ] {
        let mut desired = object;
        desired["apiVersion"] = Value::from(api_version);
        desired["kind"] = Value::from(kind_name);
        write(registry, plural, &desired).await?;
    }
    Ok(())
}

fn kind(plural: &str) -> Result<&'static crate::registry::Kind, RegistryError> {
    kind_by_plural(plural)
        .ok_or_else(|| RegistryError::Internal(format!("resource {plural} is not served")))
}

fn encode<T: serde::Serialize>(object: &T) -> Result<Value, RegistryError> {
    serde_json::to_value(object)
        .map_err(|e| RegistryError::Internal(format!("encoding the kubernetes endpoints: {e}")))
}

/// Creates `desired`, or replaces the stored object when what the API server owns differs.
async fn write(registry: &Registry, plural: &str, desired: &Value) -> Result<(), RegistryError> {
    let kind = kind(plural)?;
    let opts = writer(MANAGER);
    match registry
        .get_raw(plural, NAMESPACE, MASTER_SERVICE_NAME)
        .await?
    {
        None => match registry.create(kind, NAMESPACE, desired, &opts).await {
            Ok(_) | Err(RegistryError::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e),
        },
        Some(stored) if is_current(plural, &stored.object, desired)? => Ok(()),
        // An EndpointSlice's address type is immutable: a new one replaces it.
        Some(stored)
            if str_at(&stored.object, "/addressType") != str_at(desired, "/addressType") =>
        {
            super::delete_if_present(registry, MANAGER, plural, NAMESPACE, MASTER_SERVICE_NAME)
                .await?;
            registry.create(kind, NAMESPACE, desired, &opts).await?;
            Ok(())
        }
        Some(_) => {
            registry
                .update(kind, NAMESPACE, MASTER_SERVICE_NAME, desired, &opts)
                .await?;
            Ok(())
        }
    }
}
