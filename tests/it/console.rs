//! The HTML console over HTTP, in process: status codes, redirects after POST, CSRF,
//! kube-apiserver's exact error texts next to their fields, escaping, pagination, SSE.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use service_console::registry::{WriteOptions, kind_by_plural};
use tower::ServiceExt;

use crate::support::{ConsoleResponse, TestCluster, form_body, html_unescape};

const DNS1035: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/// A browser without JavaScript: keeps the CSRF cookie and posts forms with its token.
struct Browser {
    app: service_console::front::Front,
    csrf: String,
}

impl Browser {
    async fn open(cluster: &TestCluster) -> Browser {
        let app = service_console::app(cluster.state.clone());
        let mut browser = Browser {
            app,
            csrf: String::new(),
        };
        let first = browser.get("/services").await;
        browser.csrf = first
            .cookie("sc_csrf")
            .expect("the first page sets the CSRF cookie");
        browser
    }

    async fn send(&self, request: Request<Body>) -> ConsoleResponse {
        let response = self.app.clone().oneshot(request).await.expect("response");
        ConsoleResponse::read(response).await
    }

    async fn get(&self, path: &str) -> ConsoleResponse {
        self.get_with(path, &[]).await
    }

    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> ConsoleResponse {
        let mut request = Request::get(path).header(header::ACCEPT, "text/html");
        if !self.csrf.is_empty() {
            request = request.header(header::COOKIE, format!("sc_csrf={}", self.csrf));
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    /// Posts a form with the session's CSRF token.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> ConsoleResponse {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, Some(&self.csrf)).await
    }

    async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> ConsoleResponse {
        let mut request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            request = request.header(header::COOKIE, format!("sc_csrf={c}"));
        }
        self.send(
            request
                .body(Body::from(form_body(fields)))
                .expect("request"),
        )
        .await
    }

    /// Follows a redirect carrying the flash cookie it set.
    async fn follow(&self, redirect: &ConsoleResponse) -> ConsoleResponse {
        let location = redirect.location();
        let flash = redirect.cookie("sc_flash").unwrap_or_default();
        let cookie = format!("sc_csrf={}; sc_flash={flash}", self.csrf);
        let request = Request::get(location)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }
}

fn service(name: &str, namespace: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec})
}

async fn create(cluster: &TestCluster, body: Value) -> Value {
    let ns = body["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    cluster
        .registry()
        .create_service(&ns, &body, &WriteOptions::default())
        .await
        .expect("create")
        .object
}

fn web_form<'a>(name: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("metadata.namespace", "default"),
        ("metadata.name", name),
        ("spec.type", "ClusterIP"),
        ("backend", ""),
        ("spec.ports[0].name", ""),
        ("spec.ports[0].port", "80"),
        ("spec.ports[0].targetPort", "8080"),
        ("spec.ports[0].protocol", "TCP"),
        ("op", "submit"),
    ];
    for (k, v) in extra {
        match fields.iter_mut().find(|(fk, _)| fk == k) {
            Some(f) => f.1 = v,
            None => fields.push((k, v)),
        }
    }
    fields
}

#[tokio::test]
async fn root_redirects_to_the_services_list() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let response = browser.get("/").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), "/services");
}

#[tokio::test]
async fn list_shows_columns_actions_and_security_headers() {
    let cluster = TestCluster::new().await;
    create(
        &cluster,
        service(
            "my-nginx-svc",
            "default",
            json!({"ports": [{"port": 80, "targetPort": 80}]}),
        ),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let page = browser.get("/services?namespace=default").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "<h1>Services</h1>",
        ">Create</a>",
        "Name</th>",
        "Type</th>",
        "Created At</th>",
        "Cluster IP</th>",
        "Internal Endpoint</th>",
        "External Endpoint</th>",
        "Actions</th>",
        ">Details</a>",
        ">Update</a>",
        ">Delete</a>",
        "my-nginx-svc:80 TCP",
        "href=\"/services/default/my-nginx-svc\"",
        "All Namespaces",
    ] {
        assert!(page.body.contains(text), "missing {text:?}");
    }
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("x-frame-options"), "DENY");
    assert!(!page.header("x-request-id").is_empty());
    assert!(
        !page.body.contains("<script>") && !page.body.contains(" style="),
        "no inline script or style"
    );
}

#[tokio::test]
async fn new_form_has_the_exact_labels_and_field_names() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let page = browser.get("/services/new?namespace=default").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "name=\"metadata.name\"",
        "name=\"spec.type\"",
        ">Cluster IP (ClusterIP)</option>",
        ">Node Port (NodePort)</option>",
        ">Server Load Balancer (LoadBalancer)</option>",
        "value=\"ClusterIP\"",
        "value=\"NodePort\"",
        "value=\"LoadBalancer\"",
        "name=\"headless\"",
        ">Headless Service</label>",
        "name=\"backend\"",
        "name=\"spec.ports[0].name\"",
        "name=\"spec.ports[0].port\"",
        "name=\"spec.ports[0].targetPort\"",
        "name=\"spec.ports[0].protocol\"",
        ">Service Port</th>",
        ">Container Port</th>",
        ">Protocol</th>",
        "<legend>Port Mapping</legend>",
        "<legend>Annotations</legend>",
        "<legend>Label</legend>",
        ">Create</button>",
        ">Cancel</a>",
        "name=\"csrf_token\"",
        ">Create from YAML</button>",
        ">TCP</option>",
        ">UDP</option>",
        ">SCTP</option>",
    ] {
        assert!(page.body.contains(text), "missing {text:?}");
    }
    let lb = browser
        .post(
            "/services",
            &web_form("x", &[("spec.type", "LoadBalancer"), ("op", "refresh")]),
        )
        .await;
    assert_eq!(lb.status, StatusCode::OK);
    for text in [
        "name=\"spec.externalTrafficPolicy\"",
        ">Local</option>",
        ">Cluster</option>",
        "name=\"spec.ports[0].nodePort\"",
        ">Public Access</label>",
        ">Internal Access</label>",
        ">Create SLB Instance</label>",
        ">Use Existing SLB Instance</label>",
        ">Overwrite Existing Listeners</label>",
    ] {
        assert!(lb.body.contains(text), "missing {text:?}");
    }
    // Every type's fields are on the page so that a script can switch types in place;
    // those of other types are hidden (and ignored when posted).
    assert!(
        lb.body
            .contains("<div class=\"field field-check\" data-types=\"ClusterIP\" hidden>"),
        "Headless Service is only for Cluster IP"
    );
}

#[tokio::test]
async fn create_redirects_to_details_with_a_flash() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let response = browser.post("/services", &web_form("web", &[])).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.location(), "/services/default/web");
    let details = browser.follow(&response).await;
    assert_eq!(details.status, StatusCode::OK);
    assert!(html_unescape(&details.body).contains("Service \"web\" created."));
    assert!(details.body.contains("Basic Information") && details.body.contains("Port Mapping"));
    let svc = cluster
        .registry()
        .get_service("default", "web")
        .await
        .unwrap();
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
}

#[tokio::test]
async fn post_without_a_matching_csrf_token_is_forbidden() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let form = web_form("web", &[]);
    let missing = browser
        .post_raw("/services", &form, Some(&browser.csrf))
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("security token"), "{}", missing.body);
    let mut wrong = vec![("csrf_token", "0000")];
    wrong.extend_from_slice(&form);
    let no_cookie = browser.post_raw("/services", &wrong, None).await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    let delete = browser
        .post_raw(
            "/services/default/kubernetes/delete",
            &[],
            Some(&browser.csrf),
        )
        .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    assert!(
        cluster
            .registry()
            .get_service("default", "kubernetes")
            .await
            .is_ok()
    );
    assert!(
        cluster
            .registry()
            .get_service("default", "web")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn invalid_name_rerenders_the_form_with_kube_apiserver_text() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let page = browser
        .post(
            "/services",
            &web_form(
                "My_Svc",
                &[("labels[0].key", "app"), ("labels[0].value", "web")],
            ),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = page.section("id=\"metadata-name-errors\"", "</ul>");
    assert!(html_unescape(&errors).contains(DNS1035), "{errors}");
    assert!(
        page.body.contains("value=\"My_Svc\""),
        "the typed name is kept"
    );
    assert!(
        page.body.contains("value=\"8080\"") && page.body.contains("value=\"web\""),
        "the typed values are kept"
    );
    assert!(
        page.body.contains("autofocus"),
        "focus goes to the first error"
    );
    assert!(
        html_unescape(&page.body).contains("The Service \"My_Svc\" is invalid"),
        "kubectl's text in the summary"
    );
}

#[tokio::test]
async fn node_port_out_of_range_is_shown_next_to_its_field() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let form = web_form(
        "np",
        &[
            ("spec.type", "NodePort"),
            ("spec.externalTrafficPolicy", "Cluster"),
            ("spec.ports[0].nodePort", "80"),
        ],
    );
    let page = browser.post("/services", &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = html_unescape(&page.section("id=\"spec-ports-0--nodePort-errors\"", "</ul>"));
    assert!(errors.contains("Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"), "{errors}");
}

#[tokio::test]
async fn hostile_text_is_escaped_in_form_list_and_details() {
    let cluster = TestCluster::new().await;
    let mut body = service("hostile", "default", json!({"ports": [{"port": 80}]}));
    body["metadata"]["annotations"] = json!({"note": "<script>alert(1)</script>"});
    body["metadata"]["labels"] = json!({"app": "x"});
    create(&cluster, body).await;
    let browser = Browser::open(&cluster).await;
    let details = browser.get("/services/default/hostile").await;
    assert_eq!(details.status, StatusCode::OK);
    assert!(
        !details.body.contains("<script>alert(1)"),
        "raw script on details"
    );
    assert!(
        details
            .body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{}",
        details.section("id=\"annotations\"", "</section>")
    );
    let list = browser
        .get("/services?namespace=default&name=%3Cscript%3Ealert(2)%3C/script%3E")
        .await;
    assert!(
        !list.body.contains("<script>alert(2)") && list.body.contains("&#60;script&#62;alert(2)")
    );
    let form = web_form(
        "web",
        &[
            ("labels[0].key", "app"),
            ("labels[0].value", "<script>alert(3)</script>"),
            ("annotations[0].key", "a"),
            ("annotations[0].value", "<script>alert(4)</script>"),
        ],
    );
    let page = browser.post("/services", &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !page.body.contains("<script>alert(3)") && !page.body.contains("<script>alert(4)"),
        "raw script in the form"
    );
    assert!(
        page.body.contains("&#60;script&#62;alert(3)"),
        "the label error names the escaped value"
    );
    let list = browser.get("/services?namespace=default").await;
    assert!(
        !list.body.contains("<script>alert"),
        "raw script on the list"
    );
}

#[tokio::test]
async fn a_service_from_the_form_equals_one_from_the_equivalent_manifest() {
    let cluster = TestCluster::new().await;
    let deployments = kind_by_plural("deployments").unwrap();
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "nginx"}}, "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}});
    cluster
        .registry()
        .create(
            deployments,
            "default",
            &deployment,
            &WriteOptions::default(),
        )
        .await
        .unwrap();
    let browser = Browser::open(&cluster).await;
    let form = web_form(
        "from-form",
        &[
            ("spec.type", "LoadBalancer"),
            ("spec.externalTrafficPolicy", "Local"),
            ("backend", "nginx"),
            ("slb.access", "intranet"),
            ("slb.source", "create"),
            ("slb.spec", "slb.s1.small"),
            ("spec.ports[0].name", "http"),
            ("spec.ports[1].name", "https"),
            ("spec.ports[1].port", "443"),
            ("spec.ports[1].targetPort", "8443"),
            ("spec.ports[1].protocol", "TCP"),
            ("annotations[0].type", "alibaba"),
            (
                "annotations[0].key",
                "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-bandwidth",
            ),
            ("annotations[0].value", "2"),
            ("labels[0].key", "app"),
            ("labels[0].value", "nginx"),
        ],
    );
    let response = browser.post("/services", &form).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let manifest = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "from-manifest", "namespace": "default",
        "labels": {"app": "nginx"}, "annotations": {
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet",
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-spec": "slb.s1.small",
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-instance-charge-type": "PayBySpec",
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-bandwidth": "2"}},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "selector": {"app": "nginx"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}, {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}]}});
    let from_manifest = create(&cluster, manifest).await;
    let from_form = cluster
        .registry()
        .get_service("default", "from-form")
        .await
        .unwrap();
    let comparable = |svc: &Value| {
        let mut spec = svc["spec"].clone();
        for allocated in ["clusterIP", "clusterIPs", "healthCheckNodePort"] {
            spec.as_object_mut().unwrap().remove(allocated);
        }
        for port in spec["ports"].as_array_mut().unwrap() {
            port.as_object_mut().unwrap().remove("nodePort");
        }
        (
            spec,
            svc["metadata"]["labels"].clone(),
            svc["metadata"]["annotations"].clone(),
        )
    };
    assert_eq!(comparable(&from_form), comparable(&from_manifest));
}

#[tokio::test]
async fn update_reviews_a_diff_then_saves() {
    let cluster = TestCluster::new().await;
    create(
        &cluster,
        service(
            "web",
            "default",
            json!({"ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}),
        ),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let edit = browser.get("/services/default/web/edit").await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(
        edit.body.contains("readonly") && edit.body.contains("name=\"metadata.resourceVersion\"")
    );
    let rv = edit.input_value("metadata.resourceVersion");
    let mut form = web_form(
        "web",
        &[
            ("spec.ports[0].port", "81"),
            ("metadata.resourceVersion", &rv),
            ("op", "review"),
        ],
    );
    let review = browser.post("/services/default/web", &form).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    assert!(
        review.body.contains("Changes to save")
            && review.body.contains("-   - port: 80")
            && review.body.contains("+   - port: 81"),
        "{}",
        review.section("Changes to save", "</section>")
    );
    assert_eq!(
        cluster
            .registry()
            .get_service("default", "web")
            .await
            .unwrap()["spec"]["ports"][0]["port"],
        80,
        "review saves nothing"
    );
    form.retain(|(k, _)| *k != "op");
    form.push(("op", "submit"));
    let saved = browser.post("/services/default/web", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(html_unescape(&browser.follow(&saved).await.body).contains("Service \"web\" updated."));
    assert_eq!(
        cluster
            .registry()
            .get_service("default", "web")
            .await
            .unwrap()["spec"]["ports"][0]["port"],
        81
    );
}

#[tokio::test]
async fn an_update_review_shows_only_what_changes_with_three_lines_of_context() {
    let cluster = TestCluster::new().await;
    let ports: Vec<Value> = (0..8)
        .map(|i| json!({"name": format!("p{i}"), "port": 8000 + i, "targetPort": 9000 + i, "protocol": "TCP"}))
        .collect();
    let mut svc = service("wide", "default", json!({"ports": ports}));
    svc["metadata"]["labels"] = json!({"app": "wide", "tier": "web", "team": "a"});
    svc["metadata"]["annotations"] = json!({"example.com/far-away": "unchanged-value"});
    create(&cluster, svc).await;
    let browser = Browser::open(&cluster).await;
    let edit = browser.get("/services/default/wide/edit").await;
    let mut fields: Vec<(String, String)> = vec![(
        "metadata.resourceVersion".into(),
        edit.input_value("metadata.resourceVersion"),
    )];
    for (i, p) in (0..8).map(|i| (i, 8000 + i)) {
        let (port, target) = if i == 4 { (p, 9999) } else { (p, 9000 + i) };
        fields.push((format!("spec.ports[{i}].name"), format!("p{i}")));
        fields.push((format!("spec.ports[{i}].port"), port.to_string()));
        fields.push((format!("spec.ports[{i}].targetPort"), target.to_string()));
        fields.push((format!("spec.ports[{i}].protocol"), "TCP".into()));
    }
    let labels = [("app", "wide"), ("tier", "web"), ("team", "a")];
    for (i, (k, v)) in labels.iter().enumerate() {
        fields.push((format!("labels[{i}].key"), (*k).into()));
        fields.push((format!("labels[{i}].value"), (*v).into()));
    }
    fields.push(("annotations[0].key".into(), "example.com/far-away".into()));
    fields.push(("annotations[0].value".into(), "unchanged-value".into()));
    fields.push(("op".into(), "review".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let form = web_form("wide", &borrowed);
    let review = browser.post("/services/default/wide", &form).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    let section = review.section("Changes to save", "</section>");
    let count = |class: &str| section.matches(&format!("class=\"diff-{class}\"")).count();
    assert_eq!((count("removed"), count("added")), (1, 1), "{section}");
    assert!(
        section.contains("-     targetPort: 9004") && section.contains("+     targetPort: 9999"),
        "{section}"
    );
    assert!(
        count("same") <= 6,
        "at most three unchanged lines each side: {section}"
    );
    assert!(
        count("folded") >= 1 && section.contains("unchanged lines"),
        "{section}"
    );
    assert!(
        !section.contains("unchanged-value"),
        "far-away lines are folded: {section}"
    );
    // The first button after the changes is the one that saves them.
    let after = &review.body[review.body.find("id=\"diff-heading\"").expect("the diff")..];
    let after = &after[after.find("</section>").expect("its end")..];
    let button = &after[after.find("<button").expect("a button")..];
    assert!(
        button.starts_with("<button type=\"submit\" name=\"op\" value=\"submit\""),
        "{button}"
    );
}

#[tokio::test]
async fn a_form_too_large_to_send_comes_back_with_the_field_that_is_too_large() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let huge = "v".repeat(300 * 1024);
    let form = web_form(
        "big",
        &[
            ("annotations[0].type", "custom"),
            ("annotations[0].key", "example.com/huge"),
            ("annotations[0].value", &huge),
            ("labels[0].key", "app"),
            ("labels[0].value", "web"),
        ],
    );
    let response = browser.post("/services", &form).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The form is kept, with everything but the value that was too large.
    assert_eq!(response.input_value("metadata.name"), "big");
    assert_eq!(
        response.input_value("annotations[0].key"),
        "example.com/huge"
    );
    assert_eq!(response.input_value("labels[0].value"), "web");
    assert_eq!(response.input_value("annotations[0].value"), "");
    let at_field = response.section("id=\"annotations-0--value-errors\"", "</ul>");
    assert!(
        at_field.contains("This value was 300 KiB (307200 bytes), too large to send"),
        "{at_field}"
    );
    assert!(
        cluster
            .registry()
            .get_service("default", "big")
            .await
            .is_err(),
        "nothing is created"
    );
    // A body past what the console reads at all is still only refused.
    let larger = "v".repeat(1100 * 1024);
    let form = web_form(
        "bigger",
        &[
            ("annotations[0].key", "a"),
            ("annotations[0].value", &larger),
        ],
    );
    let response = browser.post("/services", &form).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!response.body.contains("name=\"metadata.name\""));
}

#[tokio::test]
async fn label_and_annotation_errors_sit_on_their_rows() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let form = web_form(
        "rows",
        &[
            ("annotations[0].type", "custom"),
            ("annotations[0].key", "example.com/fine"),
            ("annotations[0].value", "x"),
            ("annotations[1].type", "custom"),
            ("annotations[1].key", "Bad Key"),
            ("annotations[1].value", "y"),
            ("labels[0].key", "app"),
            ("labels[0].value", "web"),
            ("labels[1].key", "tier"),
            ("labels[1].value", "not valid!"),
        ],
    );
    let response = browser.post("/services", &form).await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.body
    );
    let annotation = response.section("id=\"annotations-1--key-errors\"", "</ul>");
    assert!(
        annotation.contains("Invalid value: &#34;Bad Key&#34;"),
        "{annotation}"
    );
    let label = response.section("id=\"labels-1--value-errors\"", "</ul>");
    assert!(
        label.contains("Invalid value: &#34;not valid!&#34;"),
        "{label}"
    );
    // Once each: not again under the section.
    let body = html_unescape(&response.body);
    assert_eq!(
        body.matches("Invalid value: \"not valid!\"").count(),
        2,
        "the row and the summary's kubectl text"
    );
}

#[tokio::test]
async fn update_keeps_port_fields_the_form_does_not_show() {
    let cluster = TestCluster::new().await;
    create(
        &cluster,
        service(
            "web",
            "default",
            json!({"ports": [{"name": "web", "port": 80, "targetPort": 80, "protocol": "TCP", "appProtocol": "https"}]}),
        ),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let edit = browser.get("/services/default/web/edit").await;
    let rv = edit.input_value("metadata.resourceVersion");
    let form = web_form(
        "web",
        &[
            ("spec.ports[0].name", "web"),
            ("spec.ports[0].port", "81"),
            ("metadata.resourceVersion", &rv),
            ("op", "submit"),
        ],
    );
    let saved = browser.post("/services/default/web", &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let port = &cluster
        .registry()
        .get_service("default", "web")
        .await
        .unwrap()["spec"]["ports"][0];
    assert_eq!(port["port"], 81);
    assert_eq!(port["appProtocol"], "https");
}

#[tokio::test]
async fn update_of_a_service_changed_meanwhile_is_a_conflict() {
    let cluster = TestCluster::new().await;
    create(
        &cluster,
        service("web", "default", json!({"ports": [{"port": 80}]})),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let rv = browser
        .get("/services/default/web/edit")
        .await
        .input_value("metadata.resourceVersion");
    let opts = WriteOptions::default();
    cluster
        .registry()
        .patch_service("default", "web", &opts, |current| {
            let mut next = current.clone();
            next["metadata"]["labels"] = json!({"changed": "elsewhere"});
            Ok(next)
        })
        .await
        .unwrap();
    let form = web_form(
        "web",
        &[
            ("spec.ports[0].port", "81"),
            ("metadata.resourceVersion", &rv),
        ],
    );
    let page = browser.post("/services/default/web", &form).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    let text = html_unescape(&page.body);
    assert!(text.contains("Operation cannot be fulfilled on services \"web\": the object has been modified; please apply your changes to the latest version and try again"), "{text}");
    assert!(
        text.contains("Reload the latest version")
            && text.contains("href=\"/services/default/web/edit\"")
    );
    assert!(
        page.body.contains("value=\"81\""),
        "what the user typed is kept"
    );
    let stored = cluster
        .registry()
        .get_service("default", "web")
        .await
        .unwrap();
    assert_eq!(
        stored["spec"]["ports"][0]["port"], 80,
        "never overwritten silently"
    );
}

#[tokio::test]
async fn delete_confirmation_names_what_is_released() {
    let cluster = TestCluster::new().await;
    let svc = create(&cluster, service("lb", "default", json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"port": 80}]}))).await;
    let browser = Browser::open(&cluster).await;
    let page = browser.get("/services/default/lb/delete").await;
    assert_eq!(page.status, StatusCode::OK);
    let ip = svc["spec"]["clusterIP"].as_str().unwrap();
    let node_port = svc["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    let health = svc["spec"]["healthCheckNodePort"].as_i64().unwrap();
    for text in [
        format!("Cluster IP {ip}"),
        format!("Node port {node_port}/TCP"),
        format!("Health check node port {health}"),
        "The SLB instance created for this Service".to_string(),
        "kubectl delete service lb -n default".to_string(),
    ] {
        assert!(page.body.contains(&text), "missing {text:?}");
    }
    let deleted = browser.post("/services/default/lb/delete", &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.location(), "/services?namespace=default");
    assert!(
        html_unescape(&browser.follow(&deleted).await.body).contains("Service \"lb\" deleted.")
    );
    assert!(
        cluster
            .registry()
            .get_service("default", "lb")
            .await
            .is_err()
    );
    assert_eq!(
        browser
            .post("/services/default/lb/delete", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bulk_delete_asks_then_deletes_the_selected_services() {
    let cluster = TestCluster::new().await;
    for name in ["a", "b"] {
        create(
            &cluster,
            service(name, "default", json!({"ports": [{"port": 80}]})),
        )
        .await;
    }
    let browser = Browser::open(&cluster).await;
    let confirm = browser
        .post(
            "/services/delete",
            &[("selected", "default/a"), ("selected", "default/b")],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("default/a") && confirm.body.contains("Cluster IP"));
    let done = browser
        .post(
            "/services/delete",
            &[
                ("confirm", "yes"),
                ("selected", "default/a"),
                ("selected", "default/b"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(
        cluster
            .registry()
            .get_service("default", "a")
            .await
            .is_err()
    );
    assert!(
        cluster
            .registry()
            .get_service("default", "b")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn list_pages_with_next_and_previous_links() {
    let cluster = TestCluster::new().await;
    cluster.registry().ensure_namespace("paging").await.unwrap();
    for i in 0..25 {
        create(
            &cluster,
            service(
                &format!("svc-{i:02}"),
                "paging",
                json!({"ports": [{"port": 80}]}),
            ),
        )
        .await;
    }
    let browser = Browser::open(&cluster).await;
    let first = browser.get("/services?namespace=paging").await;
    assert_eq!(first.body.matches("name=\"selected\"").count(), 20);
    assert!(first.body.contains("svc-19") && !first.body.contains("svc-20"));
    let next = first.link_before("rel=\"next\"").expect("next link");
    let second = browser.get(&next).await;
    assert_eq!(second.body.matches("name=\"selected\"").count(), 5);
    assert!(second.body.contains("svc-20") && second.body.contains("Page 2"));
    assert!(second.link_before("rel=\"next\"").is_none());
    let prev = second.link_before("rel=\"prev\"").expect("previous link");
    assert!(browser.get(&prev).await.body.contains("svc-00"));
    let newest = browser.get("/services?namespace=paging&sort=created").await;
    assert_eq!(newest.body.matches("name=\"selected\"").count(), 20);
}

#[tokio::test]
async fn list_sorted_by_creation_time_pages_through_every_service_once() {
    let cluster = TestCluster::new().await;
    cluster.registry().ensure_namespace("paging").await.unwrap();
    for i in 0..25 {
        create(
            &cluster,
            service(
                &format!("svc-{i:02}"),
                "paging",
                json!({"ports": [{"port": 80}]}),
            ),
        )
        .await;
    }
    let browser = Browser::open(&cluster).await;
    for sort in ["created", "created-asc"] {
        let first = browser
            .get(&format!("/services?namespace=paging&sort={sort}"))
            .await;
        let next = first.link_before("rel=\"next\"").expect("next link");
        let second = browser.get(&next).await;
        let seen: Vec<String> = (0..25)
            .map(|i| format!("paging/svc-{i:02}"))
            .filter(|key| {
                let row = format!("value=\"{key}\"");
                first.body.contains(&row) ^ second.body.contains(&row)
            })
            .collect();
        assert_eq!(seen.len(), 25, "{sort}: each Service on exactly one page");
        assert!(second.body.contains("Page 2") && second.link_before("rel=\"next\"").is_none());
    }
}

#[tokio::test]
async fn filters_by_name_label_and_type() {
    let cluster = TestCluster::new().await;
    let mut labelled = service(
        "alpha-web",
        "default",
        json!({"type": "NodePort", "ports": [{"port": 80}]}),
    );
    labelled["metadata"]["labels"] = json!({"tier": "front"});
    create(&cluster, labelled).await;
    create(
        &cluster,
        service("beta-db", "default", json!({"ports": [{"port": 5432}]})),
    )
    .await;
    let browser = Browser::open(&cluster).await;
    let by_name = browser.get("/services?namespace=default&name=web").await;
    assert!(by_name.body.contains("alpha-web") && !by_name.body.contains("beta-db"));
    let by_label = browser
        .get("/services?namespace=default&label=tier%3Dfront")
        .await;
    assert!(by_label.body.contains("alpha-web") && !by_label.body.contains("beta-db"));
    let by_type = browser
        .get("/services?namespace=default&type=ClusterIP")
        .await;
    assert!(!by_type.body.contains("alpha-web") && by_type.body.contains("beta-db"));
    let none = browser.get("/services?namespace=default&name=zzz").await;
    assert!(none.body.contains("No Services match these filters."));
    let bad = browser
        .get("/services?namespace=default&label=%3D%3D")
        .await;
    assert!(bad.body.contains("Invalid label selector"));
    let fragment = browser
        .get_with("/services?namespace=default", &[("HX-Request", "true")])
        .await;
    assert!(fragment.body.contains("id=\"results\"") && !fragment.body.contains("<html"));
}

#[tokio::test]
async fn empty_namespace_invites_to_create() {
    let cluster = TestCluster::new().await;
    cluster.registry().ensure_namespace("empty").await.unwrap();
    let browser = Browser::open(&cluster).await;
    let page = browser.get("/services?namespace=empty").await;
    assert!(
        page.body.contains("There are no Services here yet")
            && page.body.contains("Create a Service")
    );
}

#[tokio::test]
async fn row_buttons_add_and_remove_rows_without_javascript() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let added = browser
        .post("/services", &web_form("web", &[("op", "add-port")]))
        .await;
    assert_eq!(added.status, StatusCode::OK);
    assert!(
        added.body.contains("name=\"spec.ports[1].port\"") && added.body.contains("value=\"8080\"")
    );
    let label = browser
        .post("/services", &web_form("web", &[("op", "add-label")]))
        .await;
    assert!(label.body.contains("name=\"labels[0].key\""));
    let removed = browser
        .post(
            "/services",
            &web_form(
                "web",
                &[("spec.ports[1].port", "90"), ("op", "remove-port:0")],
            ),
        )
        .await;
    assert!(
        removed.body.contains("value=\"90\"")
            && !removed.body.contains("name=\"spec.ports[1].port\"")
    );
    assert!(
        cluster
            .registry()
            .get_service("default", "web")
            .await
            .is_err(),
        "row buttons create nothing"
    );
}

#[tokio::test]
async fn create_from_yaml_uses_the_registry() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let manifest = "apiVersion: v1\nkind: Service\nmetadata:\n  name: my-nginx-svc\nspec:\n  type: LoadBalancer\n  selector:\n    app: nginx\n  ports:\n  - port: 80\n    targetPort: 80\n    protocol: TCP\n";
    let created = browser
        .post(
            "/services/yaml",
            &[("metadata.namespace", "default"), ("manifest", manifest)],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location(), "/services/default/my-nginx-svc");
    let again = browser
        .post(
            "/services/yaml",
            &[("metadata.namespace", "default"), ("manifest", manifest)],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html_unescape(&again.body).contains("services \"my-nginx-svc\" already exists"));
    assert!(
        again.body.contains("name: my-nginx-svc"),
        "the pasted manifest is kept"
    );
}

#[tokio::test]
async fn details_show_the_external_endpoint_link_and_kubectl_commands() {
    let cluster = TestCluster::new().await;
    create(&cluster, service("lb", "default", json!({"type": "LoadBalancer", "ports": [{"name": "https", "port": 443}, {"name": "dns", "port": 53, "protocol": "UDP"}]}))).await;
    let opts = WriteOptions::default();
    cluster
        .registry()
        .patch_service_status("default", "lb", &opts, |current| {
            let mut next = current.clone();
            next["status"] = json!({"loadBalancer": {"ingress": [{"ip": "39.106.1.2"}]}});
            Ok(next)
        })
        .await
        .unwrap();
    let browser = Browser::open(&cluster).await;
    let page = browser.get("/services/default/lb").await;
    assert_eq!(page.status, StatusCode::OK);
    let external = page.section("id=\"external-endpoint\"", "</dd>");
    assert!(
        external.contains("href=\"https://39.106.1.2:443\""),
        "{external}"
    );
    assert!(
        external.contains("39.106.1.2:53 UDP")
            && !external.contains("href=\"http://39.106.1.2:53\""),
        "{external}"
    );
    for text in [
        "kubectl edit service lb -n default",
        "kubectl delete service lb -n default",
        "Endpoints",
        "Events",
        "YAML",
        "Labels",
        "Annotations",
    ] {
        assert!(page.body.contains(text), "missing {text:?}");
    }
    let list = browser.get("/services?namespace=default").await;
    assert!(list.body.contains("href=\"https://39.106.1.2:443\""));
}

#[tokio::test]
async fn unknown_pages_and_services_answer_404_with_a_request_id() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let missing = browser.get("/services/default/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let id = missing.header("x-request-id");
    assert!(
        missing.body.contains(&id)
            && html_unescape(&missing.body).contains("services \"nope\" not found")
    );
    let page = browser.get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found") && page.body.contains("Request ID"));
    assert_eq!(
        browser.get("/services/default/nope/edit").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser.get("/services/default/nope/delete").await.status,
        StatusCode::NOT_FOUND
    );
    let css = browser.get("/static/css/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("content-type").starts_with("text/css"));
    assert_eq!(
        browser.get("/static/js/app.js").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn oversized_bodies_are_rejected() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let huge = "x".repeat(300 * 1024);
    let response = browser.post("/services/yaml", &[("manifest", &huge)]).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_watch_stream_reports_a_create() {
    let cluster = TestCluster::new().await;
    let app = service_console::app(cluster.state.clone());
    let request = Request::get("/services/watch?namespace=default")
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = response.into_body();
    create(
        &cluster,
        service("live", "default", json!({"ports": [{"port": 80}]})),
    )
    .await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("\"name\":\"live\"") {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("an event within 5s")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(
        seen.contains("event: change") && seen.contains("\"type\":\"Added\""),
        "{seen}"
    );
}

#[tokio::test]
async fn a_reconnecting_watch_resumes_after_its_last_event_id() {
    let cluster = TestCluster::new().await;
    let first = create(
        &cluster,
        service("seen", "default", json!({"ports": [{"port": 80}]})),
    )
    .await;
    let seen_revision = first["metadata"]["resourceVersion"].as_str().unwrap();
    create(
        &cluster,
        service("missed", "default", json!({"ports": [{"port": 80}]})),
    )
    .await;
    let app = service_console::app(cluster.state.clone());
    // The browser reconnects to the page's original URL (from=0) with the id it saw last.
    let request = Request::get("/services/watch?namespace=default&from=0")
        .header("last-event-id", seen_revision)
        .body(Body::empty())
        .unwrap();
    let mut body = app.oneshot(request).await.unwrap().into_body();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("\"name\":\"missed\"") {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("the missed event within 5s")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(!seen.contains("\"name\":\"seen\""), "{seen}");
}

#[tokio::test]
async fn a_console_watch_stream_ends_after_its_lifetime() {
    use futures::StreamExt;
    let cluster = TestCluster::new().await;
    let before = create(
        &cluster,
        service("before", "default", json!({"ports": [{"port": 80}]})),
    )
    .await;
    let revision: i64 = before["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stream = service_console::console::services::service_changes(
        cluster.registry().clone(),
        service_console::console::services::WatchScope::List {
            namespace: Some("default".into()),
        },
        revision - 1,
        revision,
        Duration::from_millis(300),
    );
    let events = tokio::time::timeout(Duration::from_secs(10), stream.collect::<Vec<_>>())
        .await
        .expect("the stream ends by itself");
    assert_eq!(events.len(), 1);
}

async fn many_services(cluster: &TestCluster, count: usize) {
    for i in 0..count {
        create(
            cluster,
            service(
                &format!("web-{i:03}"),
                "default",
                json!({"ports": [{"port": 80}]}),
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn the_list_shows_its_total_and_offers_20_50_or_100_per_page() {
    let cluster = TestCluster::new().await;
    many_services(&cluster, 45).await;
    let browser = Browser::open(&cluster).await;
    let first = browser.get("/services?namespace=default").await;
    // The 45 and the API server's own `kubernetes`.
    assert!(first.body.contains(">46 Services</p>"), "{}", first.body);
    assert_eq!(first.body.matches("name=\"selected\"").count(), 20);
    assert!(first.body.contains("<option value=\"50\">50</option>"));
    let fifty = browser.get("/services?namespace=default&limit=50").await;
    assert_eq!(fifty.body.matches("name=\"selected\"").count(), 46);
    assert!(!fifty.body.contains("rel=\"next\""));
    assert!(
        fifty
            .body
            .contains("<option value=\"50\" selected>50</option>")
    );
    let filtered = browser
        .get("/services?namespace=default&name=web-01&limit=100")
        .await;
    assert!(
        filtered.body.contains(">10 of 46 Services match</p>"),
        "{}",
        filtered.body
    );
    // More matches than a page: counted past it.
    let web = browser.get("/services?namespace=default&name=web-").await;
    assert!(
        web.body.contains(">45 of 46 Services match</p>"),
        "{}",
        web.body
    );
    // A size the list does not offer falls back to 20.
    let odd = browser.get("/services?namespace=default&limit=7").await;
    assert_eq!(odd.body.matches("name=\"selected\"").count(), 20);
}

/// A label selector no index serves counts its matches over a bounded stretch of the
/// namespace, and says so: a page view never reads every Service to count a rare match.
#[tokio::test]
async fn a_label_count_reads_a_bounded_stretch_and_says_at_least() {
    use futures::StreamExt;
    use service_console::store::{ObjectKey, Precondition, Write, WriteOp};

    let cluster = TestCluster::new().await;
    let store = cluster.state.registry.store().clone();
    // Two in 10,500: the first by name, and one past the first 10,000 the count reads.
    let fillers = 10_500;
    let writes = futures::stream::iter(0..fillers)
        .map(|i| {
            let name = format!("svc-{i:05}");
            let mut object = service(
                &name,
                "default",
                json!({"type": "ClusterIP", "ports": [{"port": 80}]}),
            );
            object["metadata"]["creationTimestamp"] = json!("2026-12-06T00:00:00Z");
            if i == 0 || i == 10_400 {
                object["metadata"]["labels"] = json!({"rare": "yes"});
            }
            let write = Write::new(WriteOp::Put {
                key: ObjectKey::new("services", "default", name.as_str()),
                uid: format!("uid-{i}"),
                object,
                precondition: Precondition::MustNotExist,
            });
            let store = store.clone();
            async move { store.commit(write).await }
        })
        .buffer_unordered(256);
    futures::pin_mut!(writes);
    while let Some(committed) = writes.next().await {
        committed.expect("commit");
    }
    let browser = Browser::open(&cluster).await;
    let rare = browser
        .get("/services?namespace=default&label=rare%3Dyes")
        .await;
    // The 10,500 and the API server's own `kubernetes`.
    assert!(
        rare.body
            .contains(">At least 1 of 10501 Services match</p>"),
        "{}",
        rare.body
    );
    assert!(rare.body.contains("svc-00000"), "the first match is listed");
    let web = browser
        .get("/services?namespace=default&name=svc-1040")
        .await;
    assert!(
        web.body.contains(">10 of 10501 Services match</p>"),
        "an indexed filter still counts them all"
    );
    let all = browser.get("/services?namespace=default&name=svc-").await;
    assert!(
        all.body
            .contains(">More than 5000 of 10501 Services match</p>"),
        "{}",
        all.body
    );
}

#[tokio::test]
async fn bulk_delete_with_nothing_selected_returns_to_the_filtered_list() {
    let cluster = TestCluster::new().await;
    many_services(&cluster, 2).await;
    let browser = Browser::open(&cluster).await;
    let list = browser
        .get("/services?namespace=default&name=web&limit=50")
        .await;
    let back = "/services?namespace=default&name=web&label=&type=&sort=&limit=50";
    assert!(
        list.body.contains(&format!(
            "name=\"return\" value=\"{}\"",
            back.replace('&', "&#38;")
        )),
        "{}",
        list.body
    );
    let response = browser.post("/services/delete", &[("return", back)]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), back);
    // Only this console's list is a place to return to.
    let elsewhere = browser
        .post("/services/delete", &[("return", "https://example.com/")])
        .await;
    assert_eq!(elsewhere.location(), "/services?namespace=default");
    // A row's Delete returns to the same filtered list.
    let confirm = browser
        .get(&format!(
            "/services/default/web-000/delete?return={}",
            service_console::console::views::encode(back)
        ))
        .await;
    assert!(confirm.body.contains("name=\"return\""));
    let deleted = browser
        .post("/services/default/web-000/delete", &[("return", back)])
        .await;
    assert_eq!(deleted.location(), back);
}

#[tokio::test]
async fn deleting_the_kubernetes_service_warns_first() {
    let cluster = TestCluster::new().await;
    let _ = cluster
        .registry()
        .create_service(
            "default",
            &service("kubernetes", "default", json!({"ports": [{"port": 443}]})),
            &WriteOptions::default(),
        )
        .await;
    let browser = Browser::open(&cluster).await;
    let page = browser.get("/services/default/kubernetes/delete").await;
    assert!(
        page.body
            .contains("This is the Service of the Kubernetes API server itself."),
        "{}",
        page.body
    );
    let other = {
        many_services(&cluster, 1).await;
        browser.get("/services/default/web-000/delete").await
    };
    assert!(!other.body.contains("delete-warning"));
}

#[tokio::test]
async fn a_favicon_is_served() {
    let cluster = TestCluster::new().await;
    let browser = Browser::open(&cluster).await;
    let icon = browser.get("/favicon.ico").await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.header("content-type"), "image/svg+xml");
    let page = browser.get("/services").await;
    assert!(
        page.body
            .contains("<link rel=\"icon\" href=\"/static/favicon.svg\"")
    );
}
