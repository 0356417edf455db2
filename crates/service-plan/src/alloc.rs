//! Cluster IP and node port allocation, as kube-apiserver's bitmap allocators
//! (`pkg/registry/core/service/{ipallocator,portallocator}`) decide it, over a snapshot of
//! what the cluster has allocated. The result is a plan the store commits atomically.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// The node port range, e.g. `30000-32767` (`--service-node-port-range`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub base: i32,
    pub size: i32,
}

impl PortRange {
    /// The Kubernetes default, `30000-32767`.
    pub const DEFAULT: PortRange = PortRange {
        base: 30000,
        size: 2768,
    };

    /// Parses `LOW-HIGH` (inclusive) or a single port.
    pub fn parse(text: &str) -> Result<PortRange, String> {
        let bad = || format!("invalid port range {text:?}: expected LOW-HIGH, e.g. 30000-32767");
        let (lo, hi) = match text.split_once('-') {
            Some((lo, hi)) => (lo.trim(), hi.trim()),
            None => (text.trim(), text.trim()),
        };
        let lo: i32 = lo.parse().map_err(|_| bad())?;
        let hi: i32 = hi.parse().map_err(|_| bad())?;
        if lo < 1 || hi > 65535 || hi < lo {
            return Err(bad());
        }
        Ok(PortRange {
            base: lo,
            size: hi - lo + 1,
        })
    }

    /// True when `port` lies in the range.
    pub fn contains(&self, port: i32) -> bool {
        port >= self.base && port < self.base + self.size
    }

    /// Ports below `base + static_band()` are handed out dynamically only when the rest is
    /// full (`calculateRangeOffset` of the port allocator: min(max(16, size/32), 128)).
    pub fn static_band(&self) -> i32 {
        (self.size / 32).clamp(16, 128).min(self.size)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.base, self.base + self.size - 1)
    }
}

/// The service IP range (`--service-cluster-ip-range`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCidr {
    pub net: IpNet,
}

impl ServiceCidr {
    /// Parses a CIDR such as `172.21.0.0/20`; host bits are cleared.
    pub fn parse(text: &str) -> Result<ServiceCidr, String> {
        let net: IpNet = text
            .trim()
            .parse()
            .map_err(|e| format!("invalid service CIDR {text:?}: {e}"))?;
        let cidr = ServiceCidr { net: net.trunc() };
        if cidr.pool_size() < 2 {
            return Err(format!("service CIDR {text:?} is too small"));
        }
        Ok(cidr)
    }

    fn base(&self) -> u128 {
        to_u128(self.net.network()) + 1
    }

    /// Usable addresses: the range minus its network address and, for IPv4, its broadcast.
    /// IPv6 ranges are capped at 2^20 addresses, as kube-apiserver limits them.
    pub fn pool_size(&self) -> u128 {
        let bits = u32::from(self.net.max_prefix_len() - self.net.prefix_len());
        let total: u128 = if bits >= 127 {
            u128::MAX
        } else {
            1u128 << bits
        };

        match self.net {
            IpNet::V4(_) => total.saturating_sub(2),
            IpNet::V6(_) => total.saturating_sub(1).min(1 << 20),
        }
    }

    /// The pool's first address: the `kubernetes` Service's ClusterIP.
    pub fn first(&self) -> IpAddr {
        self.nth(0)
    }

    fn nth(&self, index: u128) -> IpAddr {
        from_u128(self.base() + index, self.net.network().is_ipv6())
    }

    fn index_of(&self, ip: IpAddr) -> Option<u128> {
        if ip.is_ipv6() != self.net.network().is_ipv6() || !self.net.contains(&ip) {
            return None;
        }
        let offset = to_u128(ip).checked_sub(self.base())?;
        (offset < self.pool_size()).then_some(offset)
    }

    /// `calculateRangeOffset` of the IP allocator: min(max(16, size/16), 256).
    fn static_band(&self) -> u128 {
        let size = self.pool_size() + if self.net.network().is_ipv4() { 2 } else { 1 };
        if size < 16 {
            return 0;
        }
        (size / 16).clamp(16, 256).min(self.pool_size())
    }

    /// The IP family served, `IPv4` or `IPv6`.
    pub fn family(&self) -> &'static str {
        if self.net.network().is_ipv6() {
            "IPv6"
        } else {
            "IPv4"
        }
    }
}

impl fmt::Display for ServiceCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.net)
    }
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_u128(v: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(v.into())
    } else {
        IpAddr::V4(u32::try_from(v).unwrap_or(u32::MAX).into())
    }
}

/// The cluster's pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pools {
    pub service_cidr: ServiceCidr,
    pub node_ports: PortRange,
}

/// The values taken in one pool, as the store keeps them (decimal ports, canonical IPs).
///
/// A persistent set: a snapshot is an O(1) clone sharing the store's tree, so planning a
/// write never copies (or re-parses) every allocation in the cluster.
pub type Taken = imbl::OrdSet<String>;

/// What the cluster has allocated, read in the same store snapshot as the object.
#[derive(Debug, Clone, Default)]
pub struct Allocated {
    ips: Taken,
    node_ports: Taken,
}

impl Allocated {
    /// A snapshot of the two pools.
    pub fn new(ips: Taken, node_ports: Taken) -> Allocated {
        Allocated { ips, node_ports }
    }

    /// Whether `ip` is taken.
    pub fn has_ip(&self, ip: IpAddr) -> bool {
        self.ips.contains(&ip.to_string())
    }

    /// Whether node port `port` is taken.
    pub fn has_port(&self, port: i32) -> bool {
        self.node_ports.contains(&port.to_string())
    }

    /// Marks `ip` taken (for callers that plan without a store, and tests).
    pub fn insert_ip(&mut self, ip: IpAddr) {
        self.ips.insert(ip.to_string());
    }

    /// Marks node port `port` taken.
    pub fn insert_port(&mut self, port: i32) {
        self.node_ports.insert(port.to_string());
    }
}

/// The store pool name of service IPs.
pub const POOL_SERVICE_IPS: &str = "service-ip";
/// The store pool name of node ports (node ports and health-check node ports share it).
pub const POOL_NODE_PORTS: &str = "node-port";

/// What one request allocates and releases; committed with the object or not at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocationPlan {
    pub allocate_ips: Vec<IpAddr>,
    pub release_ips: Vec<IpAddr>,
    pub allocate_node_ports: Vec<i32>,
    pub release_node_ports: Vec<i32>,
}

impl AllocationPlan {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.allocate_ips.is_empty()
            && self.release_ips.is_empty()
            && self.allocate_node_ports.is_empty()
            && self.release_node_ports.is_empty()
    }
}

/// Why a requested value cannot be allocated; the texts are the allocators' errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    #[error("provided port is not in the valid range. The range of valid ports is {0}")]
    PortNotInRange(PortRange),
    #[error("provided port is already allocated")]
    PortAllocated,
    #[error("the provided IP ({ip}) is not in the valid range. The range of valid IPs is {cidr}")]
    IpNotInRange { ip: IpAddr, cidr: ServiceCidr },
    #[error("provided IP is already allocated")]
    IpAllocated,
    #[error("range is full")]
    RangeFull,
}

/// One allocation operation over a snapshot, like `portallocator.PortAllocationOperation`:
/// values taken here count as taken for the rest of the request.
#[derive(Debug)]
pub struct Operation<'a> {
    pools: &'a Pools,
    allocated: &'a Allocated,
    rng: u64,
    plan: AllocationPlan,
}

impl<'a> Operation<'a> {
    /// Starts an operation; `seed` drives the random picks, as the allocators pick randomly.
    pub fn new(pools: &'a Pools, allocated: &'a Allocated, seed: u64) -> Self {
        Operation {
            pools,
            allocated,
            rng: seed | 1,
            plan: AllocationPlan::default(),
        }
    }

    /// The pools this operation allocates from.
    pub fn pools(&self) -> &Pools {
        self.pools
    }

    fn next_random(&mut self) -> u64 {
        // splitmix64: small, fast and good enough to spread picks over a range.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn port_taken(&self, port: i32) -> bool {
        (self.allocated.has_port(port) && !self.plan.release_node_ports.contains(&port))
            || self.plan.allocate_node_ports.contains(&port)
    }

    /// Reserves a requested node port.
    pub fn allocate_port(&mut self, port: i32) -> Result<(), AllocError> {
        if !self.pools.node_ports.contains(port) {
            return Err(AllocError::PortNotInRange(self.pools.node_ports));
        }
        // A deferred release frees nothing until commit: the port is still taken.
        if self.allocated.has_port(port) || self.plan.allocate_node_ports.contains(&port) {
            return Err(AllocError::PortAllocated);
        }
        self.plan.allocate_node_ports.push(port);
        Ok(())
    }

    /// Picks a free node port, outside the static band while any is free there.
    pub fn allocate_next_port(&mut self) -> Result<i32, AllocError> {
        let range = self.pools.node_ports;
        let band = range.static_band();
        let upper = (band, range.size);
        let lower = (0, band);
        for (lo, hi) in [upper, lower] {
            let span = hi - lo;
            if span <= 0 {
                continue;
            }
            let start = (self.next_random() % span as u64) as i32;
            for i in 0..span {
                let port = range.base + lo + (start + i) % span;
                if !self.port_taken(port) && !self.allocated.has_port(port) {
                    self.plan.allocate_node_ports.push(port);
                    return Ok(port);
                }
            }
        }
        Err(AllocError::RangeFull)
    }

    /// Releases a node port when the plan commits.
    pub fn release_port(&mut self, port: i32) {
        if let Some(pos) = self
            .plan
            .allocate_node_ports
            .iter()
            .position(|p| *p == port)
        {
            self.plan.allocate_node_ports.remove(pos);
        } else if !self.plan.release_node_ports.contains(&port) && self.allocated.has_port(port) {
            self.plan.release_node_ports.push(port);
        }
    }

    /// Reserves a requested service IP.
    pub fn allocate_ip(&mut self, ip: IpAddr) -> Result<(), AllocError> {
        let cidr = self.pools.service_cidr;
        if cidr.index_of(ip).is_none() {
            return Err(AllocError::IpNotInRange { ip, cidr });
        }
        if self.allocated.has_ip(ip) || self.plan.allocate_ips.contains(&ip) {
            return Err(AllocError::IpAllocated);
        }
        self.plan.allocate_ips.push(ip);
        Ok(())
    }

    /// Picks a free service IP, preferring the upper part of the range.
    pub fn allocate_next_ip(&mut self) -> Result<IpAddr, AllocError> {
        let cidr = self.pools.service_cidr;
        let size = cidr.pool_size();
        let band = cidr.static_band();
        for (lo, hi) in [(band, size), (0, band)] {
            let span = hi.saturating_sub(lo);
            if span == 0 {
                continue;
            }
            let start = u128::from(self.next_random()) % span;
            for i in 0..span {
                let ip = cidr.nth(lo + (start + i) % span);
                if !self.allocated.has_ip(ip) && !self.plan.allocate_ips.contains(&ip) {
                    self.plan.allocate_ips.push(ip);
                    return Ok(ip);
                }
            }
        }
        Err(AllocError::RangeFull)
    }

    /// Releases a service IP when the plan commits.
    pub fn release_ip(&mut self, ip: IpAddr) {
        if let Some(pos) = self.plan.allocate_ips.iter().position(|p| *p == ip) {
            self.plan.allocate_ips.remove(pos);
        } else if !self.plan.release_ips.contains(&ip) && self.allocated.has_ip(ip) {
            self.plan.release_ips.push(ip);
        }
    }

    /// Ends the operation with what it decided.
    pub fn finish(self) -> AllocationPlan {
        self.plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools() -> Pools {
        Pools {
            service_cidr: ServiceCidr::parse("10.96.0.0/12").unwrap(),
            node_ports: PortRange::DEFAULT,
        }
    }

    #[test]
    fn port_range_parses_and_prints() {
        let r = PortRange::parse("30000-32767").unwrap();
        assert_eq!(r, PortRange::DEFAULT);
        assert_eq!(r.to_string(), "30000-32767");
        assert_eq!(r.static_band(), 86);
        assert!(PortRange::parse("5-1").is_err());
    }

    #[test]
    fn first_address_is_the_kubernetes_service() {
        assert_eq!(pools().service_cidr.first().to_string(), "10.96.0.1");
        assert_eq!(
            ServiceCidr::parse("172.21.0.0/20").unwrap().pool_size(),
            4094
        );
    }

    #[test]
    fn requested_port_errors_have_the_allocator_texts() {
        let p = pools();
        let mut used = Allocated::default();
        used.insert_port(30080);
        let mut op = Operation::new(&p, &used, 1);
        assert_eq!(
            op.allocate_port(80).unwrap_err().to_string(),
            "provided port is not in the valid range. The range of valid ports is 30000-32767"
        );
        assert_eq!(
            op.allocate_port(30080).unwrap_err().to_string(),
            "provided port is already allocated"
        );
        op.allocate_port(30081).unwrap();
        assert_eq!(
            op.allocate_port(30081).unwrap_err(),
            AllocError::PortAllocated
        );
    }

    #[test]
    fn requested_ip_errors_have_the_allocator_texts() {
        let p = pools();
        let mut used = Allocated::default();
        used.insert_ip(p.service_cidr.first());
        let mut op = Operation::new(&p, &used, 1);
        assert_eq!(
            op.allocate_ip("192.168.1.10".parse().unwrap())
                .unwrap_err()
                .to_string(),
            "the provided IP (192.168.1.10) is not in the valid range. The range of valid IPs is 10.96.0.0/12"
        );
        assert_eq!(
            op.allocate_ip("10.96.0.1".parse().unwrap())
                .unwrap_err()
                .to_string(),
            "provided IP is already allocated"
        );
        assert!(
            op.allocate_ip("10.96.0.0".parse().unwrap())
                .unwrap_err()
                .to_string()
                .contains("not in the valid range")
        );
        assert!(op.allocate_ip("10.111.255.255".parse().unwrap()).is_err());
    }

    #[test]
    fn dynamic_picks_avoid_the_static_band_until_it_is_all_that_is_left() {
        let p = Pools {
            service_cidr: ServiceCidr::parse("10.0.0.0/24").unwrap(),
            node_ports: PortRange::parse("30000-30099").unwrap(),
        };
        let used = Allocated::default();
        let mut op = Operation::new(&p, &used, 42);
        let band = p.node_ports.static_band();
        let mut ports = Vec::new();
        for _ in 0..100 {
            ports.push(op.allocate_next_port().unwrap());
        }
        assert!(
            ports[..(100 - band as usize)]
                .iter()
                .all(|port| *port >= 30000 + band)
        );
        assert_eq!(op.allocate_next_port().unwrap_err(), AllocError::RangeFull);
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 100);
        let ip = op.allocate_next_ip().unwrap();
        assert!(p.service_cidr.index_of(ip).unwrap() >= 16);
    }

    #[test]
    fn release_of_a_port_taken_in_the_same_operation_undoes_it() {
        let p = pools();
        let mut used = Allocated::default();
        used.insert_port(30500);
        let mut op = Operation::new(&p, &used, 7);
        op.allocate_port(30600).unwrap();
        op.release_port(30600);
        op.release_port(30500);
        let plan = op.finish();
        assert!(plan.allocate_node_ports.is_empty());
        assert_eq!(plan.release_node_ports, vec![30500]);
    }
}
