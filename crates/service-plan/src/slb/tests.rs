//! Table-driven tests: both tables of §f, the sharing and conflict rows of §d, naming (§e).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    LoadBalancerIngress, LoadBalancerStatus, Service, ServicePort, ServiceSpec, ServiceStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;
use crate::annotations as ann;

const CID: &str = "c123";

fn node(name: &str, ip: &str) -> ClusterNode {
    ClusterNode {
        name: name.into(),
        internal_ip: ip.into(),
        zone: "cn-hangzhou-k".into(),
        ready: true,
        ..ClusterNode::default()
    }
}

fn nodes() -> Vec<ClusterNode> {
    vec![
        node("n1", "192.168.0.1"),
        node("n2", "192.168.0.2"),
        node("n3", "192.168.0.3"),
    ]
}

fn pod(name: &str, ip: &str, node: &str, ready: bool) -> BackendPod {
    BackendPod {
        name: name.into(),
        ip: ip.into(),
        node_name: Some(node.into()),
        ready,
        terminating: false,
        ports: [(String::new(), 80)].into(),
    }
}

/// One pod on n1, two on n2, none on n3, plus a not-ready pod on n3.
fn pods() -> Vec<BackendPod> {
    vec![
        pod("nginx-a", "10.0.1.1", "n1", true),
        pod("nginx-b", "10.0.2.1", "n2", true),
        pod("nginx-c", "10.0.2.2", "n2", true),
        pod("nginx-d", "10.0.3.1", "n3", false),
    ]
}

fn service(
    name: &str,
    port: i32,
    node_port: i32,
    policy: &str,
    annotations: &[(&str, &str)],
) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(format!("0000-{name}")),
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            type_: Some("LoadBalancer".into()),
            external_traffic_policy: Some(policy.into()),
            selector: Some([("app".to_string(), "nginx".to_string())].into()),
            ports: Some(vec![ServicePort {
                port,
                node_port: Some(node_port),
                target_port: Some(IntOrString::Int(80)),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

fn manual(id: &str, address: &str) -> SlbInstance {
    SlbInstance {
        id: id.into(),
        name: "manual".into(),
        address_type: AddressType::Internet,
        address: address.into(),
        instance_charge_type: PAY_BY_CLCU.into(),
        spec: None,
        internet_charge_type: Some("paybytraffic".into()),
        bandwidth: None,
        tags: BTreeMap::new(),
        listeners: Vec::new(),
        vserver_groups: Vec::new(),
    }
}

fn listener(port: i32, protocol: &str, description: &str) -> SlbListener {
    SlbListener {
        port,
        protocol: protocol.into(),
        description: description.into(),
        vserver_group_id: None,
    }
}

struct Cluster {
    plugin: NetworkPlugin,
    nodes: Vec<ClusterNode>,
    pods: Vec<BackendPod>,
    instances: Vec<SlbInstance>,
    services: Vec<Service>,
}

impl Cluster {
    fn new(plugin: NetworkPlugin) -> Self {
        Cluster {
            plugin,
            nodes: nodes(),
            pods: pods(),
            instances: Vec::new(),
            services: Vec::new(),
        }
    }

    fn plan(&self, svc: &Service, change: SlbChange) -> SlbPlan {
        let ctx = SlbContext {
            cluster_id: CID,
            network_plugin: self.plugin,
            vpc_id: "vpc-test",
            nodes: &self.nodes,
            backends: &self.pods,
            instances: &self.instances,
            services: &self.services,
        };
        plan_load_balancer(svc, change, &ctx)
    }
}

fn messages(plan: &SlbPlan) -> Vec<&str> {
    plan.conflicts.iter().map(|c| c.message.as_str()).collect()
}

fn backends(plan: &SlbPlan) -> Vec<(BackendKind, &str, i32, i32)> {
    plan.vserver_groups[0]
        .backends
        .iter()
        .map(|b| (b.kind, b.name.as_str(), b.port, b.weight))
        .collect()
}

#[test]
fn every_row_of_both_tables() {
    use BackendKind::{Ecs, Eni};
    struct Row {
        name: &'static str,
        plugin: NetworkPlugin,
        policy: &'static str,
        scheduler: Option<&'static str>,
        backends: Vec<(BackendKind, &'static str, i32, i32)>,
        servers: BackendServers,
        quota: QuotaUse,
        reachable_all: bool,
        reachable: Vec<&'static str>,
        pod_balancing: bool,
        source_ip: bool,
        session: bool,
    }
    let rows = vec![
        Row {
            name: "Flannel, Local, rr: nodes with pods, weight = pod count, no pod-level balancing",
            plugin: NetworkPlugin::Flannel,
            policy: "Local",
            scheduler: None,
            backends: vec![(Ecs, "n1", 31234, 1), (Ecs, "n2", 31234, 2)],
            servers: BackendServers::NodesWithPods,
            quota: QuotaUse::Low,
            reachable_all: false,
            reachable: vec!["n1", "n2"],
            pod_balancing: false,
            source_ip: true,
            session: true,
        },
        Row {
            name: "Flannel, Local, wrr: pod-count weights balance pods",
            plugin: NetworkPlugin::Flannel,
            policy: "Local",
            scheduler: Some("wrr"),
            backends: vec![(Ecs, "n1", 31234, 1), (Ecs, "n2", 31234, 2)],
            servers: BackendServers::NodesWithPods,
            quota: QuotaUse::Low,
            reachable_all: false,
            reachable: vec!["n1", "n2"],
            pod_balancing: true,
            source_ip: true,
            session: true,
        },
        Row {
            name: "Flannel, Cluster: all nodes, equal weights, SNAT",
            plugin: NetworkPlugin::Flannel,
            policy: "Cluster",
            scheduler: None,
            backends: vec![
                (Ecs, "n1", 31234, 100),
                (Ecs, "n2", 31234, 100),
                (Ecs, "n3", 31234, 100),
            ],
            servers: BackendServers::AllNodes,
            quota: QuotaUse::High,
            reachable_all: true,
            reachable: vec!["n1", "n2", "n3"],
            pod_balancing: true,
            source_ip: false,
            session: false,
        },
        Row {
            name: "Terway-Eniip, Local: the pods, only pod nodes reach the IP",
            plugin: NetworkPlugin::TerwayEniip,
            policy: "Local",
            scheduler: None,
            backends: vec![
                (Eni, "nginx-a", 80, 100),
                (Eni, "nginx-b", 80, 100),
                (Eni, "nginx-c", 80, 100),
            ],
            servers: BackendServers::Pods,
            quota: QuotaUse::PerPod,
            reachable_all: false,
            reachable: vec!["n1", "n2"],
            pod_balancing: true,
            source_ip: true,
            session: true,
        },
        Row {
            name: "Terway-Eniip, Cluster: the pods, every node reaches the IP",
            plugin: NetworkPlugin::TerwayEniip,
            policy: "Cluster",
            scheduler: None,
            backends: vec![
                (Eni, "nginx-a", 80, 100),
                (Eni, "nginx-b", 80, 100),
                (Eni, "nginx-c", 80, 100),
            ],
            servers: BackendServers::Pods,
            quota: QuotaUse::PerPod,
            reachable_all: true,
            reachable: vec!["n1", "n2", "n3"],
            pod_balancing: true,
            source_ip: true,
            session: true,
        },
    ];
    for row in rows {
        let cluster = Cluster::new(row.plugin);
        let annotations: Vec<(&str, &str)> = row
            .scheduler
            .map(|s| (ann::SCHEDULER, s))
            .into_iter()
            .collect();
        let svc = service("my-nginx-svc", 80, 31234, row.policy, &annotations);
        let plan = cluster.plan(&svc, SlbChange::Apply);
        assert_eq!(messages(&plan), Vec::<&str>::new(), "{}", row.name);
        assert_eq!(backends(&plan), row.backends, "{}", row.name);
        let c = plan.consequences.clone().unwrap();
        assert_eq!(c.backend_servers, row.servers, "{}", row.name);
        assert_eq!(c.quota_use, row.quota, "{}", row.name);
        assert_eq!(
            c.slb_ip_reachable_from_all_nodes, row.reachable_all,
            "{}",
            row.name
        );
        assert_eq!(c.slb_ip_reachable_from, row.reachable, "{}", row.name);
        assert_eq!(c.pod_level_balancing, row.pod_balancing, "{}", row.name);
        assert_eq!(c.source_ip_preserved, row.source_ip, "{}", row.name);
        assert_eq!(c.session_persistence, row.session, "{}", row.name);
        assert_eq!(c.sentences.len(), 6, "{}", row.name);
    }
}

#[test]
fn stated_consequences_read_as_sentences() {
    let plan = Cluster::new(NetworkPlugin::Flannel)
        .plan(&service("web", 80, 31234, "Cluster", &[]), SlbChange::Apply);
    assert_eq!(
        plan.consequences.unwrap().sentences,
        vec![
            "Backend servers: all 3 candidate node(s), on the NodePort.",
            "SLB quota use is high: every node joins every Service's vServer groups.",
            "All nodes can reach the SLB IP from inside the cluster.",
            "Traffic is spread over pods through a second hop via kube-proxy.",
            "The client source IP is not preserved: kube-proxy SNATs traffic it forwards to another node.",
            "Session persistence does not work: the second hop through kube-proxy may pick another pod.",
        ]
    );
    let plan = Cluster::new(NetworkPlugin::Flannel)
        .plan(&service("web", 80, 31234, "Local", &[]), SlbChange::Apply);
    let sentences = plan.consequences.unwrap().sentences;
    assert_eq!(
        sentences[2],
        "Only nodes running a backend pod can reach the SLB IP from inside the cluster (n1, n2): kube-proxy short-circuits it to local pods."
    );
    assert_eq!(
        sentences[3],
        "Traffic is spread over nodes, not pods: the rr scheduler ignores the pod-count weights; set the scheduler annotation to wrr."
    );
}

#[test]
fn backend_type_annotation_overrides_the_plugin_default() {
    let cluster = Cluster::new(NetworkPlugin::TerwayEniip);
    let svc = service("web", 80, 31234, "Local", &[(ann::BACKEND_TYPE, "ecs")]);
    let plan = cluster.plan(&svc, SlbChange::Apply);
    assert_eq!(
        backends(&plan),
        vec![
            (BackendKind::Ecs, "n1", 31234, 1),
            (BackendKind::Ecs, "n2", 31234, 2)
        ]
    );
}

#[test]
fn eni_backends_on_flannel_fail_like_ccm() {
    let cluster = Cluster::new(NetworkPlugin::Flannel);
    let svc = service("web", 80, 31234, "Cluster", &[(ann::BACKEND_TYPE, "eni")]);
    let plan = cluster.plan(&svc, SlbChange::Apply);
    assert_eq!(
        messages(&plan),
        vec!["can not find eniid for ip 10.0.1.1 in vpc vpc-test"]
    );
}

#[test]
fn excluded_unready_and_master_nodes_are_not_backends() {
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.nodes[0]
        .labels
        .insert("node-role.kubernetes.io/master".into(), String::new());
    cluster.nodes[1].ready = false;
    cluster.nodes.push(ClusterNode {
        labels: [(
            "node.kubernetes.io/exclude-from-external-load-balancers".to_string(),
            String::new(),
        )]
        .into(),
        ..node("n4", "192.168.0.4")
    });
    let plan = cluster.plan(&service("web", 80, 31234, "Cluster", &[]), SlbChange::Apply);
    assert_eq!(backends(&plan), vec![(BackendKind::Ecs, "n3", 31234, 100)]);
}

#[test]
fn names_of_listeners_and_vserver_groups() {
    let plan = Cluster::new(NetworkPlugin::Flannel).plan(
        &service("nginx", 80, 31234, "Cluster", &[]),
        SlbChange::Apply,
    );
    assert_eq!(plan.listeners[0].name, "k8s/80/nginx/default/c123");
    assert_eq!(plan.listeners[0].protocol, "tcp");
    assert_eq!(plan.listeners[0].scheduler, "rr");
    assert_eq!(
        plan.listeners[0].vserver_group,
        "k8s/31234/nginx/default/c123"
    );
    assert_eq!(plan.vserver_groups[0].name, "k8s/31234/nginx/default/c123");
    assert!(
        plan.vserver_groups[0]
            .backends
            .iter()
            .all(|b| b.description == "k8s/31234/nginx/default/c123")
    );

    let mut svc = service(
        "nginx",
        443,
        31443,
        "Cluster",
        &[(ann::PROTOCOL_PORT, "https:443")],
    );
    svc.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].target_port =
        Some(IntOrString::String("web".into()));
    svc.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].name = Some("https".into());
    let mut cluster = Cluster::new(NetworkPlugin::TerwayEniip);
    for p in &mut cluster.pods {
        p.ports = [("https".to_string(), 8443)].into();
    }
    let plan = cluster.plan(&svc, SlbChange::Apply);
    assert_eq!(plan.listeners[0].name, "k8s/443/nginx/default/c123");
    assert_eq!(plan.listeners[0].protocol, "https");
    assert_eq!(plan.vserver_groups[0].name, "k8s/web/nginx/default/c123");
    assert_eq!(plan.vserver_groups[0].backends[0].port, 8443);
}

#[test]
fn create_from_annotations() {
    let svc = service(
        "web",
        80,
        31234,
        "Cluster",
        &[
            (ann::ADDRESS_TYPE, "intranet"),
            (ann::INSTANCE_CHARGE_TYPE, "PayBySpec"),
            (ann::SPEC, "slb.s2.small"),
            (ann::ADDITIONAL_RESOURCE_TAGS, "team=web"),
        ],
    );
    let plan = Cluster::new(NetworkPlugin::Flannel).plan(&svc, SlbChange::Apply);
    assert_eq!(messages(&plan), Vec::<&str>::new());
    assert_eq!(
        plan.instance,
        InstancePlan::Create {
            name: "a0000web".into(),
            address_type: AddressType::Intranet,
            instance_charge_type: "PayBySpec".into(),
            spec: Some("slb.s2.small".into()),
            internet_charge_type: None,
            bandwidth: None,
            ip: None,
            delete_protection: "on".into(),
            modification_protection: "ConsoleProtection".into(),
            tags: [
                ("ack.aliyun.com".to_string(), "c123".to_string()),
                (
                    "kubernetes.do.not.delete".to_string(),
                    "a0000web".to_string()
                ),
                ("team".to_string(), "web".to_string()),
            ]
            .into(),
        }
    );
    assert_eq!(plan.ingress, IngressPlan::Pending);
    assert_eq!(plan.listeners[0].action, ListenerAction::Create);
    assert_eq!(plan.vserver_groups[0].action, VServerGroupAction::Create);
    assert!(plan.events.is_empty());
}

fn own_instance(svc: &Service) -> SlbInstance {
    let name = default_load_balancer_name(svc.metadata.uid.as_deref().unwrap());
    SlbInstance {
        id: "lb-own".into(),
        name: name.clone(),
        tags: [
            (events::TAG_KEY_SERVICE.to_string(), name),
            (events::TAG_KEY_CLUSTER.to_string(), CID.to_string()),
        ]
        .into(),
        listeners: vec![listener(80, "tcp", "k8s/80/web/default/c123")],
        vserver_groups: vec![SlbVServerGroup {
            id: "rsp-own".into(),
            name: "k8s/31234/web/default/c123".into(),
        }],
        ..manual("lb-own", "47.1.1.1")
    }
}

#[test]
fn keep_own_instance_and_ensure() {
    let svc = service("web", 80, 31234, "Cluster", &[]);
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.instances.push(own_instance(&svc));
    let plan = cluster.plan(&svc, SlbChange::Apply);
    assert_eq!(messages(&plan), Vec::<&str>::new());
    assert_eq!(
        plan.instance,
        InstancePlan::Keep {
            id: "lb-own".into(),
            address: "47.1.1.1".into(),
            changes: vec![]
        }
    );
    assert_eq!(plan.listeners[0].action, ListenerAction::Keep);
    assert_eq!(
        plan.vserver_groups[0].action,
        VServerGroupAction::Keep {
            id: "rsp-own".into()
        }
    );
    assert_eq!(plan.ingress, IngressPlan::Ip("47.1.1.1".into()));
    assert_eq!(plan.external_endpoints, vec!["47.1.1.1:80"]);
    assert_eq!(
        plan.events,
        vec![PlannedEvent::normal(
            "EnsuredLoadBalancer",
            "Ensured load balancer [lb-own]"
        )]
    );
}

#[test]
fn changed_port_deletes_the_old_listener_and_group() {
    let svc = service("web", 8080, 30080, "Cluster", &[]);
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster
        .instances
        .push(own_instance(&service("web", 80, 31234, "Cluster", &[])));
    let plan = cluster.plan(&svc, SlbChange::Apply);
    let listeners: Vec<(i32, ListenerAction)> =
        plan.listeners.iter().map(|l| (l.port, l.action)).collect();
    assert_eq!(
        listeners,
        vec![(8080, ListenerAction::Create), (80, ListenerAction::Delete)]
    );
    assert_eq!(
        plan.vserver_groups[1].action,
        VServerGroupAction::Delete {
            id: "rsp-own".into()
        }
    );
    assert_eq!(
        plan.overwritten,
        vec!["Listener TCP:80 (k8s/80/web/default/c123) is deleted."]
    );
}

#[test]
fn sharing_rules_and_conflicts() {
    struct Case {
        name: &'static str,
        instance: SlbInstance,
        annotations: Vec<(&'static str, &'static str)>,
        others: Vec<Service>,
        ingress_ip: Option<&'static str>,
        want: Vec<&'static str>,
    }
    let reuse = |id: &'static str| (ann::LOAD_BALANCER_ID, id);
    let cases = vec![
        Case {
            name: "row 1: a CLB created by CCM for a Service",
            instance: SlbInstance {
                tags: [(events::TAG_KEY_SERVICE.to_string(), "aother".to_string())].into(),
                ..manual("lb-1", "47.0.0.1")
            },
            annotations: vec![reuse("lb-1")],
            others: vec![],
            ingress_ip: None,
            want: vec![
                "alicloud: the loadbalancer lb-1 can not be reused, can not reuse loadbalancer created by kubernetes.",
            ],
        },
        Case {
            name: "row 1: the API-server CLB (ack.aliyun.com only)",
            instance: SlbInstance {
                tags: [(events::TAG_KEY_CLUSTER.to_string(), CID.to_string())].into(),
                ..manual("lb-api", "47.0.0.2")
            },
            annotations: vec![reuse("lb-api")],
            others: vec![],
            ingress_ip: None,
            want: vec![
                "alicloud: the loadbalancer lb-api can not be reused, can not reuse loadbalancer created by kubernetes.",
            ],
        },
        Case {
            name: "row 2: the Service already has another address",
            instance: manual("lb-2", "47.0.0.3"),
            annotations: vec![reuse("lb-2")],
            others: vec![],
            ingress_ip: Some("47.9.9.9"),
            want: vec![
                "alicloud: the loadbalancer lb-2 can not be reused, service has been associated with ip [47.9.9.9], cannot be bound to ip [47.0.0.3]",
            ],
        },
        Case {
            name: "row 4: address type differs",
            instance: manual("lb-3", "47.0.0.4"),
            annotations: vec![reuse("lb-3"), (ann::ADDRESS_TYPE, "intranet")],
            others: vec![],
            ingress_ip: None,
            want: vec![
                "alicloud: can not change LoadBalancer AddressType once created. delete and retry",
            ],
        },
        Case {
            name: "rule 3 / row 6: another Service reusing the CLB declares the port (override off)",
            instance: manual("lb-4", "47.0.0.5"),
            annotations: vec![reuse("lb-4")],
            others: vec![service(
                "first",
                80,
                30001,
                "Cluster",
                &[(ann::LOAD_BALANCER_ID, "lb-4")],
            )],
            ingress_ip: None,
            want: vec![
                "port 80 of load balancer lb-4 is already used by Service default/first; Services sharing a load balancer must use different frontend ports",
            ],
        },
        Case {
            name: "rule 3 / row 7: the port's listener belongs to another Service (override on)",
            instance: SlbInstance {
                listeners: vec![listener(80, "tcp", "k8s/80/first/prod/c123")],
                ..manual("lb-5", "47.0.0.6")
            },
            annotations: vec![reuse("lb-5"), (ann::FORCE_OVERRIDE_LISTENERS, "true")],
            others: vec![],
            ingress_ip: None,
            want: vec![
                "port 80 of load balancer lb-5 is already used by Service prod/first; Services sharing a load balancer must use different frontend ports",
            ],
        },
        Case {
            name: "row 8: a hand-made listener holds the port with another protocol (override on)",
            instance: SlbInstance {
                listeners: vec![listener(80, "udp", "my-udp")],
                ..manual("lb-6", "47.0.0.7")
            },
            annotations: vec![reuse("lb-6"), (ann::FORCE_OVERRIDE_LISTENERS, "true")],
            others: vec![],
            ingress_ip: None,
            want: vec![
                "port 80 of load balancer lb-6 already has a UDP listener that was not created for a Service; a TCP listener cannot be added on the same port (ListenerAlreadyExists)",
            ],
        },
        Case {
            name: "rule 5: the CLB is used by another cluster",
            instance: SlbInstance {
                listeners: vec![listener(443, "tcp", "k8s/443/api/default/c999")],
                ..manual("lb-7", "47.0.0.8")
            },
            annotations: vec![reuse("lb-7")],
            others: vec![],
            ingress_ip: None,
            want: vec![
                "load balancer lb-7 is already used by cluster c999 (k8s/443/api/default/c999); a load balancer cannot be shared across clusters",
            ],
        },
        Case {
            name: "row 11: vgroup-port names a CCM group",
            instance: SlbInstance {
                vserver_groups: vec![SlbVServerGroup {
                    id: "rsp-ccm".into(),
                    name: "k8s/30001/first/default/c123".into(),
                }],
                ..manual("lb-8", "47.0.0.9")
            },
            annotations: vec![reuse("lb-8"), (ann::VGROUP_PORT, "rsp-ccm:80")],
            others: vec![],
            ingress_ip: None,
            want: vec!["cannot reuse a ccm created vgroup rsp-ccm for slb lb-8"],
        },
        Case {
            name: "row 11: vgroup-port names an unknown group",
            instance: manual("lb-9", "47.0.0.10"),
            annotations: vec![reuse("lb-9"), (ann::VGROUP_PORT, "rsp-x:80")],
            others: vec![],
            ingress_ip: None,
            want: vec!["can not find vgroupId rsp-x in lb lb-9"],
        },
    ];
    for case in cases {
        let mut cluster = Cluster::new(NetworkPlugin::Flannel);
        cluster.instances.push(case.instance);
        cluster.services = case.others;
        let mut svc = service("second", 80, 30002, "Cluster", &case.annotations);
        if let Some(ip) = case.ingress_ip {
            svc.status = Some(ServiceStatus {
                load_balancer: Some(LoadBalancerStatus {
                    ingress: Some(vec![LoadBalancerIngress {
                        ip: Some(ip.into()),
                        ..LoadBalancerIngress::default()
                    }]),
                }),
                ..ServiceStatus::default()
            });
        }
        let plan = cluster.plan(&svc, SlbChange::Apply);
        assert_eq!(messages(&plan), case.want, "{}", case.name);
        let id = plan.instance.id().unwrap_or_default().to_string();
        assert_eq!(
            plan.events.last(),
            Some(&PlannedEvent::warning(
                "SyncLoadBalancerFailed",
                format!("Error syncing load balancer [{id}]: {}", case.want[0])
            )),
            "{}",
            case.name
        );
    }
}

#[test]
fn second_service_on_another_port_shares_a_manual_instance() {
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.instances.push(SlbInstance {
        listeners: vec![listener(80, "tcp", "k8s/80/first/default/c123")],
        ..manual("lb-m", "47.0.0.20")
    });
    cluster.services = vec![service(
        "first",
        80,
        30001,
        "Cluster",
        &[(ann::LOAD_BALANCER_ID, "lb-m")],
    )];
    let svc = service(
        "second",
        8080,
        30002,
        "Cluster",
        &[
            (ann::LOAD_BALANCER_ID, "lb-m"),
            (ann::FORCE_OVERRIDE_LISTENERS, "true"),
        ],
    );
    let plan = cluster.plan(&svc, SlbChange::Apply);
    assert_eq!(messages(&plan), Vec::<&str>::new());
    assert_eq!(
        plan.instance,
        InstancePlan::Reuse {
            id: "lb-m".into(),
            address: "47.0.0.20".into(),
            force_override_listeners: true
        }
    );
    assert_eq!(
        plan.listeners.len(),
        1,
        "the first Service's listener is not touched"
    );
    assert_eq!(plan.listeners[0].action, ListenerAction::Create);
    assert_eq!(plan.external_endpoints, vec!["47.0.0.20:8080"]);

    // The third Service asks for the first one's port and is refused.
    let third = service(
        "third",
        80,
        30003,
        "Cluster",
        &[(ann::LOAD_BALANCER_ID, "lb-m")],
    );
    let plan = cluster.plan(&third, SlbChange::Apply);
    assert_eq!(
        messages(&plan),
        vec![
            "port 80 of load balancer lb-m is already used by Service default/first; Services sharing a load balancer must use different frontend ports"
        ]
    );
}

#[test]
fn reused_listeners_are_kept_unless_force_override() {
    let instance = SlbInstance {
        listeners: vec![listener(80, "tcp", "hand-made")],
        ..manual("lb-h", "47.0.0.30")
    };
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.instances.push(instance);

    let plan = cluster.plan(
        &service(
            "web",
            80,
            31234,
            "Cluster",
            &[(ann::LOAD_BALANCER_ID, "lb-h")],
        ),
        SlbChange::Apply,
    );
    assert_eq!(messages(&plan), Vec::<&str>::new());
    assert_eq!(plan.listeners[0].action, ListenerAction::LeaveExisting);
    assert_eq!(plan.listeners[0].name, "hand-made");
    assert!(plan.overwritten.is_empty());
    assert_eq!(
        plan.notes,
        vec![
            "Listener TCP:80 on lb-h is not managed by this Service (force-override-listeners is off): point it at vServer group k8s/31234/web/default/c123 yourself."
        ]
    );

    let svc = service(
        "web",
        80,
        31234,
        "Cluster",
        &[
            (ann::LOAD_BALANCER_ID, "lb-h"),
            (ann::FORCE_OVERRIDE_LISTENERS, "true"),
        ],
    );
    let plan = cluster.plan(&svc, SlbChange::Apply);
    assert_eq!(plan.listeners[0].action, ListenerAction::TakeOver);
    assert_eq!(
        plan.overwritten,
        vec![
            "Listener TCP:80 on lb-h (\"hand-made\") is taken over by this Service: it will forward to vServer group k8s/31234/web/default/c123."
        ]
    );

    let plan = cluster.plan(
        &service(
            "web",
            9000,
            31234,
            "Cluster",
            &[(ann::LOAD_BALANCER_ID, "lb-h")],
        ),
        SlbChange::Apply,
    );
    assert_eq!(plan.listeners[0].action, ListenerAction::NotCreated);
}

#[test]
fn missing_instance_and_not_found_ids() {
    let mut svc = service("web", 80, 31234, "Cluster", &[]);
    svc.status = Some(ServiceStatus {
        load_balancer: Some(LoadBalancerStatus {
            ingress: Some(vec![LoadBalancerIngress {
                ip: Some("47.1.2.3".into()),
                ..LoadBalancerIngress::default()
            }]),
        }),
        ..ServiceStatus::default()
    });
    let cluster = Cluster::new(NetworkPlugin::Flannel);
    let plan = cluster.plan(&svc, SlbChange::Apply);
    assert_eq!(
        messages(&plan),
        vec![
            "alicloud: can not find loadbalancer, but it's defined in service [47.1.2.3] this may happen when you delete the loadbalancer"
        ]
    );
    let plan = cluster.plan(
        &service(
            "web",
            80,
            31234,
            "Cluster",
            &[(ann::LOAD_BALANCER_ID, "lb-nope")],
        ),
        SlbChange::Apply,
    );
    assert_eq!(
        messages(&plan),
        vec![
            "InvalidLoadBalancerId.NotFound: The specified LoadBalancerId does not exist: lb-nope"
        ]
    );
}

#[test]
fn multiple_instances_with_the_service_tag() {
    let svc = service("web", 80, 31234, "Cluster", &[]);
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.instances.push(own_instance(&svc));
    cluster.instances.push(SlbInstance {
        id: "lb-dup".into(),
        ..own_instance(&svc)
    });
    let plan = cluster.plan(&svc, SlbChange::Apply);
    assert_eq!(
        messages(&plan),
        vec!["[default/web] find multiple loadbalances by tag, lbIds[lb-own,lb-dup]"]
    );
}

#[test]
fn spec_with_pay_by_clcu() {
    let cluster = Cluster::new(NetworkPlugin::Flannel);
    let plan = cluster.plan(
        &service("web", 80, 31234, "Cluster", &[(ann::SPEC, "slb.s1.small")]),
        SlbChange::Apply,
    );
    assert_eq!(
        messages(&plan),
        vec![
            "The operation is not allowed because the instanceChargeType of loadbalancer is PayByCLCU."
        ]
    );
    assert_eq!(
        plan.events,
        vec![PlannedEvent::warning(
            "SyncLoadBalancerFailed",
            "Error syncing load balancer []: The operation is not allowed because the instanceChargeType of loadbalancer is PayByCLCU."
        )]
    );
}

#[test]
fn invalid_annotation_blocks_with_ccm_text() {
    let cluster = Cluster::new(NetworkPlugin::Flannel);
    let plan = cluster.plan(
        &service("web", 80, 31234, "Cluster", &[(ann::BANDWIDTH, "fast")]),
        SlbChange::Apply,
    );
    assert_eq!(
        messages(&plan),
        vec![
            r#"bandwidth must be integer, got [fast], error: strconv.Atoi: parsing "fast": invalid syntax"#
        ]
    );
}

#[test]
fn no_ready_backend_is_unavailable() {
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.pods.clear();
    let plan = cluster.plan(&service("web", 80, 31234, "Local", &[]), SlbChange::Apply);
    assert!(plan.vserver_groups[0].backends.is_empty());
    assert_eq!(
        plan.events,
        vec![PlannedEvent::normal(
            "UnAvailableLoadBalancer",
            "There are no available nodes for LoadBalancer"
        )]
    );
}

#[test]
fn weight_annotation_on_a_user_vgroup() {
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.instances.push(SlbInstance {
        vserver_groups: vec![SlbVServerGroup {
            id: "rsp-user".into(),
            name: "shared".into(),
        }],
        ..manual("lb-w", "47.0.0.40")
    });
    let anns = [
        (ann::LOAD_BALANCER_ID, "lb-w"),
        (ann::VGROUP_PORT, "rsp-user:80"),
        (ann::WEIGHT, "60"),
    ];
    let plan = cluster.plan(&service("web", 80, 31234, "Local", &anns), SlbChange::Apply);
    assert_eq!(messages(&plan), Vec::<&str>::new());
    assert_eq!(
        plan.vserver_groups[0].action,
        VServerGroupAction::UseExisting {
            id: "rsp-user".into()
        }
    );
    // 60 * 1/3 and 60 * 2/3.
    assert_eq!(
        backends(&plan),
        vec![
            (BackendKind::Ecs, "n1", 31234, 20),
            (BackendKind::Ecs, "n2", 31234, 40)
        ]
    );
    let plan = cluster.plan(
        &service("web", 80, 31234, "Cluster", &anns),
        SlbChange::Apply,
    );
    assert_eq!(
        backends(&plan).iter().map(|b| b.3).collect::<Vec<_>>(),
        vec![20, 20, 20]
    );
}

#[test]
fn delete_removes_or_keeps_the_instance() {
    let svc = service("web", 80, 31234, "Cluster", &[]);
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.instances.push(own_instance(&svc));
    let plan = cluster.plan(&svc, SlbChange::Delete);
    assert_eq!(
        plan.instance,
        InstancePlan::Delete {
            id: "lb-own".into(),
            address: "47.1.1.1".into()
        }
    );
    assert_eq!(
        plan.events,
        vec![PlannedEvent::normal(
            "CleanLoadBalancer",
            "Clean load balancer"
        )]
    );

    let preserved = service(
        "web",
        80,
        31234,
        "Cluster",
        &[(ann::PRESERVE_LB_ON_DELETE, "true")],
    );
    let plan = cluster.plan(&preserved, SlbChange::Delete);
    assert_eq!(
        plan.instance,
        InstancePlan::Preserve {
            id: "lb-own".into(),
            address: "47.1.1.1".into(),
            removed_tags: vec!["kubernetes.do.not.delete".into(), "ack.aliyun.com".into()],
        }
    );
    assert_eq!(
        plan.events[0],
        PlannedEvent::warning(
            "PreservedOnDelete",
            "The lb [lb-own] will be preserved after the service is deleted."
        )
    );

    // Switching the type away from LoadBalancer releases it the same way.
    let mut cluster_ip = svc.clone();
    cluster_ip.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
    assert_eq!(
        cluster.plan(&cluster_ip, SlbChange::Apply).instance,
        plan_delete_instance()
    );
}

fn plan_delete_instance() -> InstancePlan {
    InstancePlan::Delete {
        id: "lb-own".into(),
        address: "47.1.1.1".into(),
    }
}

#[test]
fn delete_of_a_reused_instance_releases_only_its_own_parts() {
    let mut cluster = Cluster::new(NetworkPlugin::Flannel);
    cluster.instances.push(SlbInstance {
        listeners: vec![
            listener(80, "tcp", "k8s/80/web/default/c123"),
            listener(81, "tcp", "k8s/81/other/default/c123"),
        ],
        vserver_groups: vec![
            SlbVServerGroup {
                id: "rsp-1".into(),
                name: "k8s/31234/web/default/c123".into(),
            },
            SlbVServerGroup {
                id: "rsp-2".into(),
                name: "k8s/30081/other/default/c123".into(),
            },
        ],
        tags: [(events::TAG_KEY_REUSED.to_string(), "true".to_string())].into(),
        ..manual("lb-r", "47.0.0.50")
    });
    let svc = service(
        "web",
        80,
        31234,
        "Cluster",
        &[(ann::LOAD_BALANCER_ID, "lb-r")],
    );
    let plan = cluster.plan(&svc, SlbChange::Delete);
    assert_eq!(
        plan.instance,
        InstancePlan::Release {
            id: "lb-r".into(),
            address: "47.0.0.50".into()
        }
    );
    assert!(
        plan.listeners.is_empty(),
        "listeners stay without force-override"
    );
    let groups: Vec<&str> = plan
        .vserver_groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(groups, vec!["k8s/31234/web/default/c123"]);
}

#[test]
fn not_a_load_balancer_plans_nothing() {
    let mut svc = service("web", 80, 31234, "Cluster", &[]);
    svc.spec.as_mut().unwrap().type_ = Some("NodePort".into());
    let plan = Cluster::new(NetworkPlugin::Flannel).plan(&svc, SlbChange::Apply);
    assert_eq!(
        plan.instance,
        InstancePlan::None {
            reason: "no Server Load Balancer instance belongs to this Service".into()
        }
    );
    assert!(plan.conflicts.is_empty() && plan.listeners.is_empty());
}

#[test]
fn hostname_annotation_sets_ingress_and_endpoints() {
    let svc = service(
        "web",
        80,
        31234,
        "Cluster",
        &[(ann::HOSTNAME, "web.example.com")],
    );
    let plan = Cluster::new(NetworkPlugin::Flannel).plan(&svc, SlbChange::Apply);
    assert_eq!(
        plan.ingress,
        IngressPlan::Hostname("web.example.com".into())
    );
    assert_eq!(plan.external_endpoints, vec!["web.example.com:80"]);
}

#[test]
fn plan_serializes_for_pages_and_cli() {
    let plan = Cluster::new(NetworkPlugin::Flannel)
        .plan(&service("web", 80, 31234, "Local", &[]), SlbChange::Apply);
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["instance"]["action"], "create");
    assert_eq!(json["consequences"]["backendMode"], "local");
    assert_eq!(json["consequences"]["networkPlugin"], "flannel");
    assert_eq!(json["vserverGroups"][0]["backends"][1]["pods"], 2);
    assert_eq!(json["ingress"]["kind"], "pending");
}

#[test]
fn backend_pods_come_from_slices() {
    use k8s_openapi::api::core::v1::ObjectReference;
    use k8s_openapi::api::discovery::v1::{
        Endpoint, EndpointConditions, EndpointPort, EndpointSlice,
    };
    let slice = EndpointSlice {
        address_type: "IPv4".into(),
        endpoints: vec![Endpoint {
            addresses: vec!["10.0.1.1".into()],
            conditions: Some(EndpointConditions {
                ready: Some(true),
                serving: Some(true),
                terminating: Some(false),
            }),
            node_name: Some("n1".into()),
            target_ref: Some(ObjectReference {
                name: Some("nginx-a".into()),
                ..ObjectReference::default()
            }),
            ..Endpoint::default()
        }],
        metadata: ObjectMeta::default(),
        ports: Some(vec![EndpointPort {
            name: Some(String::new()),
            port: Some(80),
            ..EndpointPort::default()
        }]),
    };
    assert_eq!(
        backend_pods(&[slice]),
        vec![pod("nginx-a", "10.0.1.1", "n1", true)]
    );
}

#[test]
fn reuse_choices_are_manual_instances_of_this_cluster_with_their_taken_ports() {
    use super::reuse::{TakenPort, reuse_choices};
    let free = manual("lb-free", "47.0.0.1");
    let mut shared = manual("lb-shared", "47.0.0.2");
    shared
        .listeners
        .push(listener(8080, "tcp", "hand-made listener"));
    let mut created = manual("lb-ccm", "47.0.0.3");
    created
        .tags
        .insert(events::TAG_KEY_SERVICE.into(), "a0000".into());
    let mut foreign = manual("lb-foreign", "47.0.0.4");
    foreign
        .listeners
        .push(listener(80, "tcp", "k8s/80/web/default/c-other"));
    let user = service(
        "web",
        80,
        30080,
        "Cluster",
        &[(annotations::LOAD_BALANCER_ID, "lb-shared")],
    );
    let choices = reuse_choices(
        &[free, shared, created, foreign],
        &[user],
        CID,
        "default",
        "new",
    );
    let ids: Vec<&str> = choices.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["lb-free", "lb-shared"]);
    assert!(choices[0].taken.is_empty());
    assert_eq!(
        choices[1].taken,
        [
            TakenPort {
                port: 80,
                by: "default/web".into()
            },
            TakenPort {
                port: 8080,
                by: "a listener you manage".into()
            },
        ]
    );
    assert_eq!(
        choices[1].label(),
        "lb-shared (manual) · internet 47.0.0.2 · ports in use: 80 (default/web), 8080 (a listener you manage)"
    );
    // The Service's own ports are not taken from it.
    let again = reuse_choices(&[manual("lb-x", "47.0.0.9")], &[], CID, "default", "web");
    assert_eq!(
        again[0].label(),
        "lb-x (manual) · internet 47.0.0.9 · every port free"
    );
}

/// A Service is indexed under each instance it names, in either annotation spelling or by
/// CCM's label, and under the instance created for it; an empty annotation names none.
#[test]
fn a_service_is_indexed_under_the_instances_it_uses() {
    let svc = |annotations: serde_json::Value, labels: serde_json::Value| {
        serde_json::json!({"metadata": {
            "uid": "3f1c2f4e-1d2b-4c3a-9e8f-0a1b2c3d4e5f",
            "annotations": annotations, "labels": labels},
            "spec": {"type": "LoadBalancer"}})
    };
    let owner = instance_index_by_owner("a3f1c2f4e1d2b4c3a9e8f0a1b2c3d4e5");
    let current = format!("{}id", ann::PREFIX);
    let legacy = format!("{}id", ann::LEGACY_PREFIX);
    assert_eq!(
        instance_index_values(&svc(
            serde_json::json!({current.as_str(): "lb-1"}),
            serde_json::json!({events::LABEL_LOAD_BALANCER_ID: "lb-2"})
        )),
        [
            instance_index_by_id("lb-1"),
            instance_index_by_id("lb-2"),
            owner.clone()
        ]
    );
    assert_eq!(
        instance_index_values(&svc(
            serde_json::json!({legacy.as_str(): "lb-3"}),
            serde_json::json!({})
        )),
        [instance_index_by_id("lb-3"), owner.clone()]
    );
    assert_eq!(
        instance_index_values(&svc(
            serde_json::json!({current.as_str(): ""}),
            serde_json::json!({events::LABEL_LOAD_BALANCER_ID: "lb-1"})
        )),
        [instance_index_by_id("lb-1"), owner]
    );
    let mut cluster_ip = svc(serde_json::json!({}), serde_json::json!({}));
    cluster_ip["spec"]["type"] = "ClusterIP".into();
    assert!(instance_index_values(&cluster_ip).is_empty());
}
