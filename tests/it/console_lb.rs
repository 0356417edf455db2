//! The load-balancing pages of the console over HTTP, in process: Applications, Nodes, Load
//! Balancers (manual create, delete, refusal when in use), the plan preview on the Service
//! form, Details' "Why no traffic?", the plan JSON endpoint, and the `plan` CLI against a
//! live server. The cluster (nodes, a Deployment, its pods) is written through the registry,
//! so the tests do not depend on the controllers' timing.

use std::io::Write;
use std::process::{Command, Stdio};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use service_console::registry::{NewLoadBalancer, WriteOptions, kind_by_plural};
use tower::ServiceExt;

use crate::support::process::ServerProcess;
use crate::support::{ConsoleResponse, TestCluster, form_body};

const LB_ID: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id";

/// A browser without JavaScript that keeps the CSRF cookie.
struct Browser {
    app: service_console::front::Front,
    csrf: String,
}

impl Browser {
    async fn open(cluster: &TestCluster) -> Browser {
        let mut browser = Browser {
            app: service_console::app(cluster.state.clone()),
            csrf: String::new(),
        };
        browser.csrf = browser
            .get("/services")
            .await
            .cookie("sc_csrf")
            .expect("the first page sets the CSRF cookie");
        browser
    }

    async fn send(&self, request: Request<Body>) -> ConsoleResponse {
        ConsoleResponse::read(self.app.clone().oneshot(request).await.expect("response")).await
    }

    async fn get(&self, path: &str) -> ConsoleResponse {
        let mut request = Request::get(path).header(header::ACCEPT, "text/html");
        if !self.csrf.is_empty() {
            request = request.header(header::COOKIE, format!("sc_csrf={}", self.csrf));
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    async fn post_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> ConsoleResponse {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let mut request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, format!("sc_csrf={}", self.csrf));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.send(request.body(Body::from(form_body(&all))).expect("request"))
            .await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> ConsoleResponse {
        self.post_with(path, fields, &[]).await
    }

    /// Follows a redirect with the flash cookie it set.
    async fn follow(&self, redirect: &ConsoleResponse) -> ConsoleResponse {
        let flash = redirect.cookie("sc_flash").unwrap_or_default();
        let request = Request::get(redirect.location())
            .header(
                header::COOKIE,
                format!("sc_csrf={}; sc_flash={flash}", self.csrf),
            )
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }
}

fn assert_contains(page: &ConsoleResponse, texts: &[&str]) {
    for text in texts {
        assert!(
            page.body.contains(text),
            "missing {text:?} in:\n{}",
            page.body
        );
    }
}

/// Creates an object of `plural` and makes sure its status is the one given.
async fn put(cluster: &TestCluster, plural: &str, namespace: &str, body: Value) {
    let kind = kind_by_plural(plural).expect("kind");
    let registry = cluster.registry();
    let created = registry
        .create(kind, namespace, &body, &WriteOptions::default())
        .await
        .expect("create")
        .object;
    if body.get("status").is_some() && created.get("status") != body.get("status") {
        let mut with_status = created.clone();
        with_status["status"] = body["status"].clone();
        registry
            .update_status(
                kind,
                namespace,
                body["metadata"]["name"].as_str().unwrap_or_default(),
                &with_status,
                &WriteOptions::default(),
            )
            .await
            .expect("status");
    }
}

fn node(name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"topology.kubernetes.io/zone": "cn-hangzhou-h", "kubernetes.io/hostname": name}},
        "status": {"addresses": [{"type": "InternalIP", "address": ip}], "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

fn pod(name: &str, ip: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {"nodeName": node, "containers": [{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

/// Three ready nodes, an `nginx` Deployment and its two ready pods on node-a and node-b.
async fn cluster_with_nginx() -> TestCluster {
    let cluster = TestCluster::new().await;
    for (name, ip) in [
        ("node-a", "10.0.0.1"),
        ("node-b", "10.0.0.2"),
        ("node-c", "10.0.0.3"),
    ] {
        put(&cluster, "nodes", "", node(name, ip)).await;
    }
    put(
        &cluster,
        "deployments",
        "default",
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
                     "template": {"metadata": {"labels": {"app": "nginx"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}}}
        }),
    )
    .await;
    put(
        &cluster,
        "pods",
        "default",
        pod("nginx-1", "172.20.0.5", "node-a"),
    )
    .await;
    put(
        &cluster,
        "pods",
        "default",
        pod("nginx-2", "172.20.0.6", "node-b"),
    )
    .await;
    cluster
}

async fn manual_instance(cluster: &TestCluster, name: &str) -> String {
    cluster
        .registry()
        .create_load_balancer(NewLoadBalancer {
            name: name.into(),
            address_type: "internet".into(),
            ..Default::default()
        })
        .await
        .expect("create instance")
        .id
}

async fn create_service(cluster: &TestCluster, body: Value) -> Value {
    cluster
        .registry()
        .create_service("default", &body, &WriteOptions::default())
        .await
        .expect("create service")
        .object
}

/// The Create form of a Server Load Balancer Service named `name` for the nginx app.
fn lb_form<'a>(name: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("metadata.namespace", "default"),
        ("metadata.name", name),
        ("spec.type", "LoadBalancer"),
        ("spec.externalTrafficPolicy", "Cluster"),
        ("slb.access", "internet"),
        ("slb.source", "create"),
        ("slb.spec", ""),
        ("slb.id", ""),
        ("backend", "nginx"),
        ("spec.ports[0].name", ""),
        ("spec.ports[0].port", "80"),
        ("spec.ports[0].targetPort", "80"),
        ("spec.ports[0].protocol", "TCP"),
        ("spec.ports[0].nodePort", ""),
        ("op", "refresh"),
    ];
    for (k, v) in extra {
        match fields.iter_mut().find(|(fk, _)| fk == k) {
            Some(f) => f.1 = v,
            None => fields.push((k, v)),
        }
    }
    fields
}

// ---------------------------------------------------------------- pages

#[tokio::test]
async fn navigation_links_every_section() {
    let cluster = TestCluster::new().await;
    let page = Browser::open(&cluster).await.get("/services").await;
    assert_contains(
        &page,
        &[
            ">Applications</a>",
            ">Services</a>",
            ">Load Balancers</a>",
            ">Nodes</a>",
        ],
    );
}

#[tokio::test]
async fn applications_page_lists_deployments_and_links_their_pods() {
    let cluster = cluster_with_nginx().await;
    let browser = Browser::open(&cluster).await;
    let page = browser.get("/applications?namespace=default").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_contains(
        &page,
        &[
            "<h1>Applications</h1>",
            "Ready</th>",
            "Selector</th>",
            "app=nginx",
            "nginx:1.25",
            "href=\"/applications/default/nginx\"",
        ],
    );
    let pods = browser.get("/applications/default/nginx").await;
    assert_eq!(pods.status, StatusCode::OK);
    assert_contains(
        &pods,
        &[
            "<h1>nginx</h1>",
            "nginx-1",
            "172.20.0.5",
            "node-a",
            "80/TCP (nginx)",
        ],
    );
}

#[tokio::test]
async fn nodes_page_lists_ip_zone_readiness_and_pod_count() {
    let cluster = cluster_with_nginx().await;
    let page = Browser::open(&cluster).await.get("/nodes").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_contains(
        &page,
        &[
            "<h1>Nodes</h1>",
            "Internal IP</th>",
            "Zone</th>",
            "Pods</th>",
            "node-a",
            "10.0.0.1",
            "cn-hangzhou-h",
            ">Ready<",
        ],
    );
    let row = page.section("<td>node-c</td>", "</tr>");
    assert!(row.ends_with("<td>0</td>"), "node-c runs no pod: {row}");
}

#[tokio::test]
async fn manual_instance_is_created_listed_and_deleted() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let created = browser
        .post(
            "/load-balancers",
            &[
                ("name", "shared-lb"),
                ("addressType", "internet"),
                ("spec", "slb.s1.small"),
                ("chargeType", "paybybandwidth"),
                ("bandwidth", "10"),
                ("tags", "team=web"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location(), "/load-balancers");
    let page = browser.follow(&created).await;
    assert_contains(
        &page,
        &[
            "<h1>Load Balancers</h1>",
            "shared-lb",
            "slb.s1.small",
            "team=web",
            "Manual",
            "10 Mbit/s",
            "PayBySpec, paybybandwidth",
            "Unused",
            "created.",
        ],
    );
    let id = cluster.registry().load_balancers().await.expect("list")[0]
        .id
        .clone();
    let confirm = browser.get(&format!("/load-balancers/{id}/delete")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert_contains(
        &confirm,
        &[
            "Are you sure you want to delete the SLB instance",
            "name=\"csrf_token\"",
        ],
    );
    let deleted = browser
        .post(&format!("/load-balancers/{id}/delete"), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_contains(
        &browser.follow(&deleted).await,
        &[&format!("SLB instance {id} deleted.")],
    );
    assert!(
        cluster
            .registry()
            .load_balancers()
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn instance_in_use_says_why_and_is_not_deleted() {
    let cluster = TestCluster::new().await;
    let id = manual_instance(&cluster, "shared").await;
    create_service(
        &cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "annotations": {LB_ID: id}}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let list = browser.get("/load-balancers").await;
    assert_contains(&list, &["default/web", "In use"]);
    let confirm = browser.get(&format!("/load-balancers/{id}/delete")).await;
    assert_contains(
        &confirm,
        &[
            "This instance cannot be deleted",
            "It is used by Service default/web.",
        ],
    );
    assert!(
        !confirm.body.contains("btn-danger"),
        "no Delete button for an instance in use"
    );
    let refused = browser
        .post(&format!("/load-balancers/{id}/delete"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let page = browser.follow(&refused).await;
    assert_contains(
        &page,
        &[
            "flash-error",
            "the load balancer is used by Service default/web",
        ],
    );
    assert_eq!(
        cluster
            .registry()
            .load_balancers()
            .await
            .expect("list")
            .len(),
        1
    );
}

#[tokio::test]
async fn create_form_errors_sit_next_to_their_fields() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let page = browser
        .post(
            "/load-balancers",
            &[
                ("name", "x"),
                ("addressType", "internet"),
                ("bandwidth", "ten"),
                ("tags", "oops"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_contains(
        &page,
        &[
            "id=\"lb-bandwidth-errors\"",
            "bandwidth must be integer, got [ten]",
            "tag &#34;oops&#34; must be key=value",
        ],
    );
    assert!(
        cluster
            .registry()
            .load_balancers()
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn load_balancer_post_without_csrf_token_is_forbidden() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let request = Request::post("/load-balancers")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("sc_csrf={}", browser.csrf))
        .body(Body::from("name=x&addressType=internet"))
        .expect("request");
    assert_eq!(browser.send(request).await.status, StatusCode::FORBIDDEN);
}

// ---------------------------------------------------------------- plan preview

#[tokio::test]
async fn preview_plan_shows_instance_listeners_backends_and_consequences() {
    let cluster = cluster_with_nginx().await;
    let browser = Browser::open(&cluster).await;
    let page = browser.post("/services/plan", &lb_form("web", &[])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_contains(
        &page,
        &[
            "<h1>Create Service</h1>",
            "id=\"plan-preview\"",
            "Allocate Cluster IP 172.21.",
            "Allocate node port 3",
            "Create a new public (internet) SLB instance",
            "Listeners</h3>",
            "k8s/80/web/default/",
            "vServer groups and backend servers",
            "node-a",
            "node-b",
            "node-c",
            "Client source IP preserved</dt><dd class=\"fact-negative\">No",
            "Session persistence</dt><dd class=\"fact-negative\">No",
            "matches <strong>2 of 2</strong> pods",
            "<code>80/TCP (nginx)</code>",
        ],
    );
    assert!(
        !page.body.contains("plan-conflicts"),
        "no conflict expected"
    );
    assert!(
        cluster
            .registry()
            .get_service("default", "web")
            .await
            .is_err(),
        "a preview creates nothing"
    );
}

#[tokio::test]
async fn preview_with_local_policy_keeps_source_ip_and_weights_nodes_by_pods() {
    let cluster = cluster_with_nginx().await;
    let browser = Browser::open(&cluster).await;
    let page = browser
        .post(
            "/services/plan",
            &lb_form("web", &[("spec.externalTrafficPolicy", "Local")]),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_contains(
        &page,
        &[
            "Client source IP preserved</dt><dd>Yes",
            "Only node-a, node-b",
            " for port 80/TCP</li>",
            " (health check of externalTrafficPolicy Local: the SLB probes each node on it)</li>",
        ],
    );
    let groups = page.section("vServer groups and backend servers", "Consequences");
    assert!(
        !groups.contains("node-c"),
        "Local: only nodes running a pod: {groups}"
    );
}

#[tokio::test]
async fn live_preview_answers_the_partial_only() {
    let cluster = cluster_with_nginx().await;
    let browser = Browser::open(&cluster).await;
    let partial = browser
        .post_with(
            "/services/plan",
            &lb_form("web", &[]),
            &[("HX-Request", "true")],
        )
        .await;
    assert_eq!(partial.status, StatusCode::OK);
    assert!(
        !partial.body.contains("<html"),
        "only the fragment: {}",
        partial.body
    );
    assert_contains(&partial, &["data-plan", "k8s/80/web/default/"]);
}

#[tokio::test]
async fn preview_shows_the_port_conflict_on_a_shared_instance() {
    let cluster = cluster_with_nginx().await;
    let id = manual_instance(&cluster, "shared").await;
    create_service(
        &cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "first", "annotations": {LB_ID: id.clone()}}, "spec": {"type": "LoadBalancer", "selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]}}),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let page = browser
        .post(
            "/services/plan",
            &lb_form("second", &[("slb.source", "existing"), ("slb.id", &id)]),
        )
        .await;
    let conflicts = page.section("class=\"plan-conflicts\"", "</div>");
    assert!(
        conflicts.contains("this change will be refused"),
        "{}",
        page.body
    );
    assert!(
        conflicts.contains("first") && conflicts.contains("80"),
        "names the other Service and the port: {conflicts}"
    );
    let ok = browser
        .post(
            "/services/plan",
            &lb_form(
                "second",
                &[
                    ("slb.source", "existing"),
                    ("slb.id", &id),
                    ("spec.ports[0].port", "8080"),
                ],
            ),
        )
        .await;
    assert!(
        !ok.body.contains("plan-conflicts"),
        "another port does not conflict: {}",
        ok.section("id=\"plan-preview\"", "</section>")
    );
    assert_contains(&ok, &["Use the existing instance"]);
}

#[tokio::test]
async fn invalid_form_preview_explains_instead_of_planning() {
    let cluster = cluster_with_nginx().await;
    let browser = Browser::open(&cluster).await;
    let page = browser
        .post("/services/plan", &lb_form("Bad_Name", &[]))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_contains(
        &page,
        &[
            "The plan cannot be computed",
            "a DNS-1035 label must consist of lower case alphanumeric characters",
        ],
    );
}

#[tokio::test]
async fn update_form_previews_the_change() {
    let cluster = cluster_with_nginx().await;
    create_service(
        &cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"type": "ClusterIP", "selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]}}),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let edit = browser.get("/services/default/web/edit").await;
    assert_contains(
        &edit,
        &[
            "formaction=\"/services/default/web/plan\"",
            ">Preview plan</button>",
        ],
    );
    let page = browser
        .post("/services/default/web/plan", &lb_form("web", &[]))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_contains(
        &page,
        &[
            "Update Service web",
            "Allocate node port",
            "Create a new public (internet) SLB instance",
        ],
    );
    assert!(
        !page.body.contains("Allocate Cluster IP"),
        "the Cluster IP is kept"
    );
}

#[tokio::test]
async fn delete_page_shows_what_the_slb_keeps_and_releases() {
    let cluster = cluster_with_nginx().await;
    let id = manual_instance(&cluster, "shared").await;
    create_service(
        &cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "annotations": {LB_ID: id.clone()}}, "spec": {"type": "LoadBalancer", "selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]}}),
    )
    .await;
    let page = Browser::open(&cluster)
        .await
        .get("/services/default/web/delete")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_contains(
        &page,
        &[
            "Server Load Balancer</h3>",
            &format!("Keep the reused instance {id}"),
        ],
    );
}

#[tokio::test]
async fn details_explain_why_there_is_no_traffic() {
    let cluster = cluster_with_nginx().await;
    create_service(
        &cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lost"}, "spec": {"selector": {"app": "missing"}, "ports": [{"port": 80}]}}),
    )
    .await;
    create_service(
        &cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "wrong-port"}, "spec": {"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 8080}]}}),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let lost = browser.get("/services/default/lost").await;
    assert_contains(
        &lost,
        &[
            "Why no traffic?",
            "The selector app=missing matches no pod in namespace default.",
        ],
    );
    let wrong = browser.get("/services/default/wrong-port").await;
    let card = wrong.section("<h2 id=\"endpoints\">", "</section>");
    assert!(
        card.contains("do not expose TCP port 8080") && card.contains("They expose 80/TCP"),
        "{card}"
    );
}

#[tokio::test]
async fn details_of_a_load_balancer_service_show_its_listeners_and_backends() {
    let cluster = cluster_with_nginx().await;
    let id = manual_instance(&cluster, "shared").await;
    create_service(
        &cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "annotations": {LB_ID: id.clone(), "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-force-override-listeners": "true"}}, "spec": {"type": "LoadBalancer", "selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80}]}}),
    )
    .await;
    let page = Browser::open(&cluster)
        .await
        .get("/services/default/web")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let slb = page.section("<h2 id=\"slb\">", "</section>");
    assert!(
        slb.contains(&id) && slb.contains("k8s/80/web/default/") && slb.contains("node-a"),
        "{slb}"
    );
}

// ---------------------------------------------------------------- plan API and CLI

fn manifest(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
           "spec": {"type": "LoadBalancer", "selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}})
}

#[tokio::test]
async fn plan_endpoint_answers_json_without_a_csrf_token() {
    let cluster = cluster_with_nginx().await;
    let app = service_console::app(cluster.state.clone());
    let request = Request::post("/plan/v1/namespaces/default/services")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(manifest("my-nginx-svc").to_string()))
        .expect("request");
    let response =
        ConsoleResponse::read(app.clone().oneshot(request).await.expect("response")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let plan: Value = serde_json::from_str(&response.body).expect("JSON");
    assert_eq!(plan["service"]["metadata"]["name"], "my-nginx-svc");
    assert_eq!(
        plan["allocations"]["allocateIps"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(plan["slb"]["instance"]["action"], "create");
    assert_eq!(plan["slb"]["listeners"][0]["port"], 80);
    assert_eq!(
        plan["slb"]["vserverGroups"][0]["backends"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert!(
        cluster
            .registry()
            .get_service("default", "my-nginx-svc")
            .await
            .is_err(),
        "nothing stored"
    );

    let bad = Request::post("/plan/v1/namespaces/default/services")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": [{"port": 0, "targetPort": 80}]}}).to_string()))
        .expect("request");
    let bad = ConsoleResponse::read(app.oneshot(bad).await.expect("response")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let status: Value = serde_json::from_str(&bad.body).expect("Status JSON");
    assert_eq!(status["reason"], "Invalid");
    assert!(
        status["message"].as_str().unwrap_or("").contains(
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
        )
    );
}

fn serve() -> ServerProcess {
    ServerProcess::start(&[])
}

fn plan_cli(server: &str, input: &str, extra: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_service-console"))
        .args(["plan", "-f", "-", "--server", server])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run plan");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write manifest");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn plan_cli_prints_the_plan_of_each_document_against_a_live_server() {
    let server = serve();
    let yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: my-nginx-svc\nspec:\n  type: LoadBalancer\n  selector:\n    app: nginx\n  ports:\n  - port: 80\n    targetPort: 80\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: internal\nspec:\n  ports:\n  - port: 53\n    protocol: UDP\n";
    let (code, out, err) = plan_cli(&server.url, yaml, &[]);
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    for text in [
        "Service default/my-nginx-svc",
        "  Cluster IP and node ports:\n    Allocate Cluster IP 172.21.",
        "  SLB instance: [Create] Create a new public (internet) SLB instance",
        "  Listeners:\n    TCP:80  k8s/80/my-nginx-svc/default/",
        "  vServer groups:",
        "  Consequences:",
        "Service default/internal",
    ] {
        assert!(out.contains(text), "missing {text:?} in:\n{out}");
    }

    let (code, out, _) = plan_cli(&server.url, &manifest("web").to_string(), &["-o", "json"]);
    assert_eq!(code, 0);
    let plan: Value = serde_json::from_str(&out).expect("JSON output");
    assert_eq!(plan["slb"]["listeners"][0]["protocol"], "tcp");

    let (code, _, err) = plan_cli(
        &server.url,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports:\n  - port: 0\n    targetPort: 80\n",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err.trim_end(),
        "The Service \"x\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
    );
}

#[test]
fn plan_cli_reports_an_unreachable_server() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("address")
        .port();
    let (code, _, err) = plan_cli(
        &format!("http://127.0.0.1:{port}"),
        &manifest("web").to_string(),
        &[],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("asking http://127.0.0.1:") && err.contains("connecting to"),
        "{err}"
    );
}

#[tokio::test]
async fn hostile_instance_names_and_tags_are_escaped() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let created = browser
        .post(
            "/load-balancers",
            &[
                ("name", "<script>alert(1)</script>"),
                ("addressType", "intranet"),
                ("tags", "x=<img src=y>"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = browser.follow(&created).await;
    assert!(
        !page.body.contains("<script>alert") && !page.body.contains("<img src"),
        "unescaped hostile text"
    );
    assert_contains(
        &page,
        &[
            "&#60;script&#62;alert(1)&#60;/script&#62;",
            "x=&#60;img src=y&#62;",
            "Intranet",
        ],
    );
}

#[tokio::test]
async fn internal_access_with_an_internet_annotation_row_is_refused_without_javascript() {
    let cluster = cluster_with_nginx().await;
    let browser = Browser::open(&cluster).await;
    let fields = lb_form(
        "contradiction",
        &[
            ("slb.access", "intranet"),
            (
                "annotations[0].key",
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type",
            ),
            ("annotations[0].value", "internet"),
            ("op", "submit"),
        ],
    );
    let page = browser.post("/services", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_contains(
        &page,
        &[
            "id=\"slb-access-errors\"",
            "id=\"annotations-0--value-errors\"",
            "Contradicts Access Method &#34;Internal Access&#34;, which sets this annotation to &#34;intranet&#34;.",
            "Contradicts annotation row 1",
        ],
    );
    let stored = cluster
        .registry()
        .get_service("default", "contradiction")
        .await;
    assert!(stored.is_err(), "nothing is created: {stored:?}");
}
