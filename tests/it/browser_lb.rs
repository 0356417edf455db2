//! End-to-end tests of Server Load Balancer Services in a real headless Chromium, with the
//! workloads, endpoints and load-balancer controllers running over the demo cluster: the
//! Create form's plan before creating, the External Endpoint once the controller assigned an
//! address, and reusing a manually created SLB instance, on another port and on a taken one.
//! Screenshots of every page land in `target/browser-screenshots/<test>/`.

use fantoccini::Locator;
use serde_json::Value;
use service_console::controllers::{ControllerOptions, start_controllers};
use service_console::registry::ClusterSettings;

use crate::support::browser::{BrowserTest, row_of, squash};

const NAMESPACE: &str = "default";

/// The annotation that names an existing SLB instance to reuse.
const LB_ID: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-id";

/// The cluster id of [`ClusterSettings::default`], in ACK's listener names.
const CLUSTER_ID: &str = "c-service-console";

/// XPath of the form that holds the Service fields.
const SERVICE_FORM: &str = "//form[@id='service-form']";

/// XPath of the plan partial inside the form page's Plan panel.
const PLAN: &str = "//section[@id='plan-preview']//*[@data-plan]";

/// What a test types into the Create Service form for a Server Load Balancer Service.
struct SlbInput<'a> {
    name: &'a str,
    port: u16,
    target_port: u16,
    /// An SLB instance to reuse ("Use Existing SLB Instance"), else one is created.
    existing: Option<&'a str>,
    /// "Overwrite Existing Listeners" for a reused instance: without it no listener is made.
    overwrite: bool,
}

/// Starts Chromium and the app over a cluster whose controllers run over the demo cluster,
/// and waits for the two `nginx` pods; `None` when ChromeDriver is missing.
pub(crate) async fn start(name: &str) -> Option<BrowserTest> {
    let mut t = BrowserTest::start(name).await?;
    t.cluster.registry().configure(ClusterSettings::default());
    let controllers = start_controllers(&t.cluster.state, ControllerOptions { demo: true })
        .await
        .expect("start the controllers");
    t.cluster.controllers = Some(controllers);
    t.wait_for("two running nginx pods", async || {
        (nginx_pod_ips(&t).await.len() == 2).then_some(())
    })
    .await;
    Some(t)
}

/// The IPs of the demo `nginx` pods that have one.
async fn nginx_pod_ips(t: &BrowserTest) -> Vec<String> {
    let pods = t
        .cluster
        .registry()
        .list("pods", Some(NAMESPACE), &Default::default())
        .await
        .expect("list pods");
    let mut ips: Vec<String> = pods
        .items
        .iter()
        .filter(|p| p.pointer("/metadata/labels/app").and_then(Value::as_str) == Some("nginx"))
        .filter_map(|p| p.pointer("/status/podIP").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    ips.sort();
    ips
}

async fn stored(t: &BrowserTest, name: &str) -> Value {
    t.cluster
        .registry()
        .get_service(NAMESPACE, name)
        .await
        .unwrap_or_else(|e| panic!("get {name}: {e}"))
}

/// The ingress IP the controller set on `name`, once it is set.
async fn ingress_ip(t: &BrowserTest, name: &str) -> String {
    t.wait_for(&format!("the ingress IP of {name}"), async || {
        let svc = t
            .cluster
            .registry()
            .get_service(NAMESPACE, name)
            .await
            .ok()?;
        svc.pointer("/status/loadBalancer/ingress/0/ip")
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .await
}

/// Clicks a button of the Service form.
async fn click_form_button(t: &BrowserTest, text: &str) {
    let xpath = format!("{SERVICE_FORM}//button[normalize-space()='{text}']");
    let button = t.wait_xpath(&xpath).await;
    button
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {text:?} in the form: {e}"));
}

/// Chooses Server Load Balancer and waits for its fields: with JavaScript the form
/// re-renders on change, without it after "Apply type".
async fn choose_load_balancer(t: &BrowserTest) {
    t.choose("spec.type", "LoadBalancer").await;
    let apply = "//button[normalize-space()='Apply type']";
    t.wait_for("the Server Load Balancer fields", async || {
        if t.displayed(Locator::Css("[name=\"slb.source\"]"))
            .await
            .is_some()
        {
            return Some(());
        }
        if let Some(button) = t.displayed(Locator::XPath(apply)).await {
            let _ = button.click().await;
        }
        None
    })
    .await;
}

/// Opens the Create form from the Services list and fills it with `input`.
async fn fill_create_form(t: &BrowserTest, input: &SlbInput<'_>) {
    t.open("/").await;
    t.wait_xpath("//h1[normalize-space()='Services']").await;
    t.click_button("Create").await;
    t.field("metadata.name").await;
    t.fill("metadata.name", input.name).await;
    choose_load_balancer(t).await;
    t.choose("spec.externalTrafficPolicy", "Cluster").await;
    if let Some(id) = input.existing {
        t.choose("slb.source", "existing").await;
        t.choose("slb.id", id).await;
        if input.overwrite {
            t.check("slb.overrideListeners").await;
        }
    }
    t.choose("backend", "nginx").await;
    t.fill("spec.ports[0].port", &input.port.to_string()).await;
    t.fill("spec.ports[0].targetPort", &input.target_port.to_string())
        .await;
}

/// The rendered text of the plan partial once it contains every one of `texts`.
async fn plan_showing(t: &BrowserTest, texts: &[&str]) -> String {
    let wanted: Vec<String> = texts.iter().map(|s| squash(s)).collect();
    t.wait_for(&format!("the plan to show {texts:?}"), async || {
        let plan = t.displayed(Locator::XPath(PLAN)).await?;
        let text = squash(&plan.text().await.ok()?);
        wanted.iter().all(|w| text.contains(w)).then_some(text)
    })
    .await
}

/// The rows of the plan's table whose first header is `first_header`, as squashed texts.
async fn plan_table_rows(t: &BrowserTest, first_header: &str) -> Vec<String> {
    let rows = format!("{PLAN}//table[.//th[1][normalize-space()='{first_header}']]/tbody/tr");
    let mut texts = Vec::new();
    for row in t
        .browser
        .find_all(Locator::XPath(&rows))
        .await
        .expect("find the plan's rows")
    {
        texts.push(squash(&row.text().await.expect("row text")));
    }
    texts
}

/// Submits the form with Create and waits for the Service's list row or Details.
async fn submit_and_wait_for(t: &BrowserTest, name: &str) {
    click_form_button(t, "Create").await;
    let row = format!("//table{}", row_of(name));
    let details = format!("//h1[normalize-space()='{name}']");
    t.wait_for(
        &format!("the list row or the Details of {name}"),
        async || {
            if t.displayed(Locator::XPath(&row)).await.is_some() {
                return Some(());
            }
            t.displayed(Locator::XPath(&details)).await.map(|_| ())
        },
    )
    .await;
    t.screenshot("created").await;
}

/// The `href`s of the links in the Details page's External Endpoint field, as shown now.
async fn external_endpoint_links(t: &BrowserTest) -> Vec<String> {
    let links = t
        .browser
        .find_all(Locator::Css("#external-endpoint a"))
        .await
        .expect("find the External Endpoint links");
    let mut hrefs = Vec::new();
    for link in links {
        hrefs.push(link.attr("href").await.ok().flatten().unwrap_or_default());
    }
    hrefs
}

/// Opens Details of `name` until its External Endpoint links `expected` (the controller
/// assigns the address in the background; Details shows it from the next load).
async fn wait_for_external_endpoint(t: &BrowserTest, name: &str, expected: &str) {
    let path = format!("/services/{NAMESPACE}/{name}");
    t.wait_for(
        &format!("Details of {name} to link {expected}"),
        async || {
            t.open(&path).await;
            t.displayed(Locator::XPath(&format!("//h1[normalize-space()='{name}']")))
                .await?;
            let links = external_endpoint_links(t).await;
            (links == [expected.to_string()]).then_some(())
        },
    )
    .await;
    t.screenshot("details-external-endpoint").await;
}

/// Creates an SLB instance named `name` on the Load Balancers page; returns its id and address.
async fn create_instance_on_load_balancers_page(t: &BrowserTest, name: &str) -> (String, String) {
    t.open("/").await;
    let nav = t
        .wait_xpath("//nav//a[normalize-space()='Load Balancers']")
        .await;
    nav.click().await.expect("open Load Balancers");
    t.wait_xpath("//h1[normalize-space()='Load Balancers']")
        .await;
    t.screenshot("load-balancers").await;
    t.fill("name", name).await;
    t.choose("addressType", "internet").await;
    t.click_button("Create SLB Instance").await;
    let instance = t
        .wait_for(&format!("the instance {name} to be stored"), async || {
            let all = t.cluster.registry().load_balancers().await.ok()?;
            all.into_iter().find(|i| i.name == name)
        })
        .await;
    t.wait_text(&format!(
        "SLB instance {} ({}) created.",
        instance.id, instance.address
    ))
    .await;
    let row = format!(
        "//table[@id='load-balancers']//tr[.//td[contains(., '{}')]]",
        instance.id
    );
    let row = t.wait_xpath(&row).await;
    let text = squash(&row.text().await.expect("instance row text"));
    assert!(text.contains(name), "{text}");
    assert!(text.contains("Manual"), "{text}");
    assert!(text.contains("Unused"), "{text}");
    t.screenshot("load-balancers-created").await;
    (instance.id, instance.address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slb_service_for_nginx_shows_its_plan_and_then_links_the_assigned_address() {
    let Some(t) =
        start("slb_service_for_nginx_shows_its_plan_and_then_links_the_assigned_address").await
    else {
        return;
    };
    let input = SlbInput {
        name: "my-nginx-svc",
        port: 80,
        target_port: 80,
        existing: None,
        overwrite: false,
    };
    fill_create_form(&t, &input).await;
    let listener = format!("k8s/80/my-nginx-svc/{NAMESPACE}/{CLUSTER_ID}");
    let plan = plan_showing(&t, &["Listeners", &listener, "Backend server"]).await;
    t.screenshot("form-with-plan").await;
    let node_port = plan
        .split("Allocate node port ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("the plan allocates a node port: {plan}"))
        .to_string();
    assert!(
        plan.contains("Backend nginx (app=nginx) matches 2 of 2 pods in this namespace."),
        "{plan}"
    );
    assert!(
        plan.contains("Create Create a new public (internet) SLB instance for this Service"),
        "{plan}"
    );
    let group = format!("k8s/{node_port}/my-nginx-svc/{NAMESPACE}/{CLUSTER_ID}");
    assert_eq!(
        plan_table_rows(&t, "Port").await,
        [format!("80 TCP {listener} {group} rr Create")]
    );
    // Flannel with the Cluster policy: every node, on the node port, weight 100 (doc §f).
    let nodes = ["192.168.0.11", "192.168.0.12", "192.168.0.13"];
    assert_eq!(
        plan_table_rows(&t, "Backend server").await,
        nodes.map(|ip| format!("cn-hangzhou.{ip} Node (ECS) {ip}:{node_port} 100"))
    );
    assert!(
        t.cluster
            .registry()
            .get_service(NAMESPACE, "my-nginx-svc")
            .await
            .is_err(),
        "the plan is shown before anything is created"
    );

    submit_and_wait_for(&t, "my-nginx-svc").await;
    let svc = stored(&t, "my-nginx-svc").await;
    assert_eq!(svc["spec"]["type"], "LoadBalancer");
    assert_eq!(svc["spec"]["selector"]["app"], "nginx");
    let ip = ingress_ip(&t, "my-nginx-svc").await;
    assert!(ip.starts_with("47.100.0."), "{ip} from the SLB pool");
    wait_for_external_endpoint(&t, "my-nginx-svc", &format!("http://{ip}:80")).await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_instance_is_reused_on_another_port_and_a_taken_port_is_refused() {
    let Some(t) =
        start("manual_instance_is_reused_on_another_port_and_a_taken_port_is_refused").await
    else {
        return;
    };
    let (id, address) = create_instance_on_load_balancers_page(&t, "shared-web").await;

    let first = SlbInput {
        name: "web-8080",
        port: 8080,
        target_port: 80,
        existing: Some(&id),
        overwrite: true,
    };
    fill_create_form(&t, &first).await;
    let listener = format!("k8s/8080/web-8080/{NAMESPACE}/{CLUSTER_ID}");
    let plan = plan_showing(&t, &["Use the existing instance", &id, &listener]).await;
    t.screenshot("reuse-plan").await;
    assert!(!plan.contains("conflict"), "{plan}");
    let listeners = plan_table_rows(&t, "Port").await;
    assert_eq!(listeners.len(), 1, "{listeners:?}");
    assert!(
        listeners[0].starts_with(&format!("8080 TCP {listener} ")),
        "{listeners:?}"
    );
    submit_and_wait_for(&t, "web-8080").await;
    let svc = stored(&t, "web-8080").await;
    assert_eq!(svc["metadata"]["annotations"][LB_ID], id.as_str());
    assert_eq!(svc["spec"]["ports"][0]["port"], 8080);
    wait_for_external_endpoint(&t, "web-8080", &format!("http://{address}:8080")).await;

    let taken = SlbInput {
        name: "web-taken",
        port: 8080,
        target_port: 80,
        existing: Some(&id),
        overwrite: true,
    };
    fill_create_form(&t, &taken).await;
    let conflict = format!(
        "port 8080 of load balancer {id} is already used by Service {NAMESPACE}/web-8080; \
         Services sharing a load balancer must use different frontend ports"
    );
    plan_showing(&t, &["1 conflict: this change will be refused", &conflict]).await;
    t.screenshot("taken-port-plan").await;
    click_form_button(&t, "Create").await;
    let refused = format!(
        "Service \"web-taken\" is invalid: metadata.annotations[{LB_ID}]: Invalid value: \"{id}\": {conflict}"
    );
    t.wait_text(&refused).await;
    t.screenshot("taken-port-refused").await;
    let summary = t.wait_css("#error-summary").await;
    let summary = squash(&summary.text().await.expect("summary text"));
    assert!(summary.contains(&refused), "{summary}");
    let next_to_id = t.wait_css("#slb-id-errors").await;
    assert_eq!(
        squash(&next_to_id.text().await.expect("the ID's errors")),
        format!("Invalid value: \"{id}\": {conflict}"),
        "next to the existing SLB instance ID"
    );
    assert_eq!(
        t.value("slb.id").await,
        id,
        "the form keeps what the user chose"
    );
    let e = t
        .cluster
        .registry()
        .get_service(NAMESPACE, "web-taken")
        .await
        .expect_err("nothing stored");
    assert_eq!(e.status().code, 404);
    t.finish().await;
}

/// The options of the existing-instance picker, as shown.
async fn picker_options(t: &BrowserTest) -> Vec<String> {
    let mut texts = Vec::new();
    for option in t
        .browser
        .find_all(Locator::Css("select[name='slb.id'] option"))
        .await
        .expect("the picker's options")
    {
        texts.push(squash(&option.text().await.unwrap_or_default()));
    }
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_instance_picker_no_listener_without_overwrite_and_refused_plans() {
    let Some(t) =
        start("existing_instance_picker_no_listener_without_overwrite_and_refused_plans").await
    else {
        return;
    };
    let (id, address) = create_instance_on_load_balancers_page(&t, "shared-web").await;
    // An instance created for a Service is never offered.
    let auto = SlbInput {
        name: "auto",
        port: 80,
        target_port: 80,
        existing: None,
        overwrite: false,
    };
    fill_create_form(&t, &auto).await;
    submit_and_wait_for(&t, "auto").await;
    ingress_ip(&t, "auto").await;
    let created_for_auto = t
        .cluster
        .registry()
        .load_balancers()
        .await
        .expect("instances")
        .into_iter()
        .find(|i| i.id != id)
        .expect("the instance created for auto");

    let input = SlbInput {
        name: "no-listener",
        port: 80,
        target_port: 80,
        existing: Some(&id),
        overwrite: false,
    };
    fill_create_form(&t, &input).await;
    let options = picker_options(&t).await;
    assert!(
        options.iter().any(|o| o.starts_with(&format!(
            "{id} (shared-web) · internet {address} · every port free"
        ))),
        "{options:?}"
    );
    assert!(
        !options.iter().any(|o| o.contains(&created_for_auto.id)),
        "{options:?}"
    );
    // Overwrite Existing Listeners is off: the plan says plainly that no listener is made.
    let plan = plan_showing(&t, &["No listener is created for port 80"]).await;
    assert!(!plan.contains("conflict"), "{plan}");
    t.screenshot("no-listener-plan").await;
    submit_and_wait_for(&t, "no-listener").await;
    ingress_ip(&t, "no-listener").await;
    t.open(&format!("/services/{NAMESPACE}/no-listener")).await;
    let endpoint = t.wait_css("#external-endpoint").await;
    let endpoint = squash(&endpoint.text().await.expect("text"));
    assert_eq!(endpoint, format!("{address}:80 (no listener)"));
    assert!(
        external_endpoint_links(&t).await.is_empty(),
        "nothing to click"
    );
    let why = t.wait_css(".why-no-traffic").await;
    let why = squash(&why.text().await.expect("text"));
    assert!(why.contains("No listener is created for port 80"), "{why}");
    t.screenshot("no-listener-details").await;

    // A plan that says "will be refused" refuses the create, with the reason at the field:
    // Internal Access on an internet instance.
    let refused = SlbInput {
        name: "wrong-type",
        port: 9090,
        target_port: 80,
        existing: Some(&id),
        overwrite: false,
    };
    fill_create_form(&t, &refused).await;
    t.choose("slb.access", "intranet").await;
    plan_showing(&t, &["1 conflict: this change will be refused"]).await;
    click_form_button(&t, "Create").await;
    let next_to_id = t.wait_css("#slb-id-errors").await;
    let text = squash(&next_to_id.text().await.expect("text"));
    assert!(
        text.contains("can not change LoadBalancer AddressType once created"),
        "{text}"
    );
    t.screenshot("refused").await;
    let e = t
        .cluster
        .registry()
        .get_service(NAMESPACE, "wrong-type")
        .await
        .expect_err("nothing stored");
    assert_eq!(e.status().code, 404);
    t.finish().await;
}
