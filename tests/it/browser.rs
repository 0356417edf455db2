//! End-to-end tests of the Services console in a real headless Chromium: the Create form for
//! each type, the list, Details and its External Endpoint link, Update with optimistic
//! concurrency, Delete from the Actions column, and field errors in kube-apiserver's words.
//! Screenshots of every page land in `target/browser-screenshots/<test>/`.

use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};
use service_console::registry::{RegistryError, WriteOptions, kind_by_plural};

use crate::support::browser::{BrowserTest, row_of, squash};

const NAMESPACE: &str = "default";

/// kube-apiserver's message for `MyService` as a Service name.
const INVALID_NAME_MESSAGE: &str = "Invalid value: \"MyService\": a DNS-1035 label must consist of lower case \
     alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character \
     (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/// One row of the form's Port Mapping.
struct PortRow {
    name: &'static str,
    port: u16,
    target_port: u16,
    protocol: &'static str,
    node_port: Option<u16>,
}

/// What a test types into the Create Service form.
struct ServiceInput {
    name: &'static str,
    /// The `spec.type` value: ClusterIP, NodePort or LoadBalancer.
    type_: &'static str,
    headless: bool,
    external_traffic_policy: Option<&'static str>,
    ports: Vec<PortRow>,
    annotations: Vec<(&'static str, &'static str)>,
    labels: Vec<(&'static str, &'static str)>,
}

impl ServiceInput {
    /// A Service of `type_` with two ports, an annotation and a label.
    fn two_ports(name: &'static str, type_: &'static str) -> ServiceInput {
        ServiceInput {
            name,
            type_,
            headless: false,
            external_traffic_policy: None,
            ports: vec![
                PortRow {
                    name: "http",
                    port: 80,
                    target_port: 8080,
                    protocol: "TCP",
                    node_port: None,
                },
                PortRow {
                    name: "metrics",
                    port: 9090,
                    target_port: 9091,
                    protocol: "TCP",
                    node_port: None,
                },
            ],
            annotations: vec![("example.com/owner", "team-a")],
            labels: vec![("app", "nginx")],
        }
    }
}

/// The Service a registry fixture creates: ClusterIP, two ports.
fn fixture(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": {"app": "nginx"}},
        "spec": {"type": "ClusterIP", "ports": [
            {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
            {"name": "metrics", "port": 9090, "targetPort": 9091, "protocol": "TCP"},
        ]}
    })
}

async fn create_fixture(t: &BrowserTest, name: &str) -> Value {
    t.cluster
        .registry()
        .create_service(NAMESPACE, &fixture(name), &WriteOptions::default())
        .await
        .expect("create fixture")
        .object
}

async fn stored(t: &BrowserTest, name: &str) -> Value {
    t.cluster
        .registry()
        .get_service(NAMESPACE, name)
        .await
        .unwrap_or_else(|e| panic!("get {name}: {e}"))
}

/// Adds a node with one InternalIP, as a kubelet would register it.
async fn create_node(t: &BrowserTest, name: &str, address: &str) {
    let kind = kind_by_plural("nodes").expect("nodes are served");
    let registry = t.cluster.registry();
    let status = json!({"addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}]});
    let body =
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": status});
    let created = registry
        .create(kind, "", &body, &WriteOptions::default())
        .await
        .expect("create node")
        .object;
    // Node creation may drop status as the API's strategy does; the status subresource sets it.
    if created.pointer("/status/addresses").is_none() {
        let mut body = created;
        body["status"] = status;
        registry
            .update_status(kind, "", name, &body, &WriteOptions::default())
            .await
            .expect("set node status");
    }
}

/// Opens the Services list through `/`.
async fn open_list(t: &BrowserTest) {
    t.open("/").await;
    t.wait_xpath("//h1[normalize-space()='Services']").await;
    t.screenshot("list").await;
}

/// XPath of the form that holds the Service fields.
const SERVICE_FORM: &str = "//form[.//*[@name='metadata.name' or @name='spec.ports[0].port']]";

/// Clicks a button of the Service form (not of the list a dialog may sit on).
async fn click_form_button(t: &BrowserTest, text: &str) {
    let xpath = format!(
        "{SERVICE_FORM}//button[normalize-space()='{text}'] | {SERVICE_FORM}//input[@type='submit' and @value='{text}']"
    );
    let button = t.wait_xpath(&xpath).await;
    button
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {text:?} in the form: {e}"));
}

/// Makes sure the form shows the field `field`, adding a row of `section` (the heading over
/// the rows, e.g. "Port Mapping") with its add button when it does not.
async fn ensure_row(t: &BrowserTest, field: &str, section: &str) {
    let css = format!("[name=\"{field}\"]");
    if t.displayed(Locator::Css(&css)).await.is_some() {
        return;
    }
    // The nearest ancestor of the section's heading that holds an add button.
    let add = format!(
        "(//*[normalize-space()='{section}']/ancestor::*[.//button[starts-with(normalize-space(), 'Add') \
         or starts-with(normalize-space(), '+')]][1]//button[starts-with(normalize-space(), 'Add') \
         or starts-with(normalize-space(), '+')])[1]"
    );
    let button = t.wait_xpath(&add).await;
    button
        .click()
        .await
        .unwrap_or_else(|e| panic!("add a {section} row: {e}"));
    t.wait_css(&css).await;
}

/// Chooses the Service type and waits for the fields that type shows. Without JavaScript the
/// form shows them after its "Apply type" button re-renders it; with JavaScript on change.
async fn choose_type(t: &BrowserTest, type_: &str) {
    t.choose("spec.type", type_).await;
    let marker = if type_ == "ClusterIP" {
        "[name=\"headless\"]"
    } else {
        "[name=\"spec.externalTrafficPolicy\"]"
    };
    let apply = "//button[normalize-space()='Apply type']";
    t.wait_for(&format!("the fields of type {type_}"), async || {
        if t.displayed(Locator::Css(marker)).await.is_some() {
            return Some(());
        }
        if let Some(button) = t.displayed(Locator::XPath(apply)).await {
            let _ = button.click().await;
        }
        None
    })
    .await;
}

/// Fills the Create form with `input`, adding rows with the form's own add buttons.
async fn fill_service_form(t: &BrowserTest, input: &ServiceInput) {
    t.fill("metadata.name", input.name).await;
    choose_type(t, input.type_).await;
    if input.headless {
        t.check("headless").await;
    }
    if let Some(policy) = input.external_traffic_policy {
        t.choose("spec.externalTrafficPolicy", policy).await;
    }
    for (i, row) in input.ports.iter().enumerate() {
        ensure_row(t, &format!("spec.ports[{i}].port"), "Port Mapping").await;
        t.fill(&format!("spec.ports[{i}].name"), row.name).await;
        t.fill(&format!("spec.ports[{i}].port"), &row.port.to_string())
            .await;
        t.fill(
            &format!("spec.ports[{i}].targetPort"),
            &row.target_port.to_string(),
        )
        .await;
        t.choose(&format!("spec.ports[{i}].protocol"), row.protocol)
            .await;
        if let Some(node_port) = row.node_port {
            t.fill(&format!("spec.ports[{i}].nodePort"), &node_port.to_string())
                .await;
        }
    }
    for (i, (key, value)) in input.annotations.iter().enumerate() {
        ensure_row(t, &format!("annotations[{i}].key"), "Annotations").await;
        t.fill(&format!("annotations[{i}].key"), key).await;
        t.fill(&format!("annotations[{i}].value"), value).await;
    }
    for (i, (key, value)) in input.labels.iter().enumerate() {
        ensure_row(t, &format!("labels[{i}].key"), "Label").await;
        t.fill(&format!("labels[{i}].key"), key).await;
        t.fill(&format!("labels[{i}].value"), value).await;
    }
}

/// From the list: Create, fill, screenshot, submit, and wait for the new row.
async fn create_through_form(t: &BrowserTest, input: &ServiceInput) -> Value {
    open_list(t).await;
    t.click_button("Create").await;
    t.field("metadata.name").await;
    t.screenshot("form").await;
    fill_service_form(t, input).await;
    t.screenshot("form-filled").await;
    click_form_button(t, "Create").await;
    wait_for_row(t, input.name).await;
    t.screenshot("list-with-service").await;
    stored(t, input.name).await
}

/// Waits for the list row of `name`, and for the form to be gone.
async fn wait_for_row(t: &BrowserTest, name: &str) {
    let row = format!("//table{}", row_of(name));
    let details = format!("//h1[normalize-space()='{name}']");
    // A successful POST redirects to the list or to the new Service's Details.
    let on_details = t
        .wait_for(
            &format!("the list row or the Details of {name}"),
            async || {
                if t.displayed(Locator::XPath(&row)).await.is_some() {
                    return Some(false);
                }
                t.displayed(Locator::XPath(&details)).await.map(|_| true)
            },
        )
        .await;
    if on_details {
        t.screenshot("details-after-save").await;
        let nav = t.wait_xpath("//nav//a[normalize-space()='Services']").await;
        nav.click()
            .await
            .expect("open the list from the navigation");
        t.wait_xpath(&row).await;
    }
}

/// The rendered text of the list row of `name`.
async fn row_text(t: &BrowserTest, name: &str) -> String {
    let row = t.wait_xpath(&row_of(name)).await;
    squash(&row.text().await.expect("row text"))
}

/// Opens Details from the list's Actions column and waits for Basic Information.
async fn open_details(t: &BrowserTest, name: &str) {
    t.click_in_row(name, "Details").await;
    t.wait_text("Basic Information").await;
    t.wait_xpath(&format!("//h1[normalize-space()='{name}']"))
        .await;
    t.screenshot("details").await;
}

/// The `href`s of the links in the Details page's External Endpoint field.
async fn external_endpoint_links(t: &BrowserTest) -> Vec<String> {
    let label = "//*[self::dt or self::th or self::span or self::div or self::label][normalize-space()='External Endpoint']";
    t.wait_xpath(label).await;
    let links = t
        .browser
        .find_all(Locator::XPath(&format!(
            "{label}/following-sibling::*[1]//a | {label}/following-sibling::*[1][self::a]"
        )))
        .await
        .expect("find the External Endpoint links");
    let mut hrefs = Vec::new();
    for link in links {
        hrefs.push(link.attr("href").await.ok().flatten().unwrap_or_default());
    }
    hrefs
}

/// The rendered text next to the field named `field`: its `aria-describedby` targets, or
/// else the nearest element around it that holds more than the input.
async fn text_next_to(t: &BrowserTest, field: &str) -> String {
    let input = t.field(field).await;
    let script = "const input = arguments[0];
        const ids = (input.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
        const described = ids.map(id => (document.getElementById(id) || {}).textContent || '').join(' ');
        if (described.trim()) { return described; }
        let box = input.parentElement;
        while (box && !box.textContent.trim()) { box = box.parentElement; }
        return box ? box.textContent : '';";
    let text = t
        .browser
        .execute(script, vec![json!(input)])
        .await
        .expect("read the field's message");
    squash(text.as_str().unwrap_or_default())
}

/// Deletes `name` through the row's Delete and its confirmation (a dialog or a page), and
/// returns the confirmation's text.
async fn delete_from_actions(t: &BrowserTest, name: &str) -> String {
    t.click_in_row(name, "Delete").await;
    let confirm_page = "//form[@method='post' or @method='POST']//button[normalize-space()='Delete'] \
        | //form[@method='post' or @method='POST']//input[@type='submit' and @value='Delete'] \
        | //dialog[@open]//button[normalize-space()='Delete']";
    let text = t
        .wait_for("a confirmation of the delete", async || {
            if let Some(text) = t.dialog_text().await {
                t.accept_dialog().await;
                return Some(text);
            }
            let button = t.displayed(Locator::XPath(confirm_page)).await?;
            // On the list itself every row's Delete matches: the confirmation is what names the Service.
            let page = t.page_text().await.ok()?;
            if t.displayed(Locator::XPath(&format!("//table{}", row_of(name))))
                .await
                .is_some()
                && t.displayed(Locator::XPath("//dialog[@open]"))
                    .await
                    .is_none()
            {
                return None;
            }
            t.screenshot("confirm-delete").await;
            button.click().await.ok()?;
            Some(page)
        })
        .await;
    t.wait_xpath("//h1[normalize-space()='Services']").await;
    t.wait_gone(
        &format!("the row of {name} to go"),
        &format!("//table{}", row_of(name)),
    )
    .await;
    t.screenshot("list-after-delete").await;
    squash(&text)
}

fn port_of(svc: &Value, i: usize) -> &Value {
    &svc["spec"]["ports"][i]
}

#[tokio::test]
async fn create_cluster_ip_service_with_two_ports_annotations_and_labels() {
    let Some(t) =
        BrowserTest::start("create_cluster_ip_service_with_two_ports_annotations_and_labels").await
    else {
        return;
    };
    let svc = create_through_form(&t, &ServiceInput::two_ports("web-cip", "ClusterIP")).await;

    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(port_of(&svc, 0)["name"], "http");
    assert_eq!(port_of(&svc, 0)["port"], 80);
    assert_eq!(port_of(&svc, 0)["targetPort"], 8080);
    assert_eq!(port_of(&svc, 0)["protocol"], "TCP");
    assert_eq!(port_of(&svc, 1)["name"], "metrics");
    assert_eq!(port_of(&svc, 1)["port"], 9090);
    assert_eq!(port_of(&svc, 1)["targetPort"], 9091);
    assert_eq!(
        svc["metadata"]["annotations"]["example.com/owner"],
        "team-a"
    );
    assert_eq!(svc["metadata"]["labels"]["app"], "nginx");
    let cluster_ip = svc["spec"]["clusterIP"]
        .as_str()
        .expect("a Cluster IP")
        .to_string();
    assert!(cluster_ip.starts_with("172.21."), "{cluster_ip}");

    let row = row_text(&t, "web-cip").await;
    assert!(row.contains("ClusterIP"), "{row}");
    assert!(row.contains(&cluster_ip), "{row}");

    open_details(&t, "web-cip").await;
    assert_eq!(external_endpoint_links(&t).await, Vec::<String>::new());
    t.finish().await;
}

#[tokio::test]
async fn create_headless_cluster_ip_service() {
    let Some(t) = BrowserTest::start("create_headless_cluster_ip_service").await else {
        return;
    };
    let input = ServiceInput {
        headless: true,
        ..ServiceInput::two_ports("web-headless", "ClusterIP")
    };
    let svc = create_through_form(&t, &input).await;

    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["clusterIP"], "None");
    assert_eq!(svc["spec"]["ports"].as_array().map(Vec::len), Some(2));
    assert_eq!(svc["metadata"]["labels"]["app"], "nginx");

    let row = row_text(&t, "web-headless").await;
    assert!(row.contains("None"), "{row}");
    open_details(&t, "web-headless").await;
    t.finish().await;
}

#[tokio::test]
async fn node_port_service_links_a_node_address_and_its_node_port() {
    let Some(t) =
        BrowserTest::start("node_port_service_links_a_node_address_and_its_node_port").await
    else {
        return;
    };
    create_node(&t, "node-1", "192.168.0.10").await;
    let mut input = ServiceInput::two_ports("web-np", "NodePort");
    input.external_traffic_policy = Some("Local");
    input.ports[0].node_port = Some(30080);
    let svc = create_through_form(&t, &input).await;

    assert_eq!(svc["spec"]["type"], "NodePort");
    assert_eq!(svc["spec"]["externalTrafficPolicy"], "Local");
    assert_eq!(port_of(&svc, 0)["nodePort"], 30080);
    let second = port_of(&svc, 1)["nodePort"]
        .as_i64()
        .expect("an allocated node port");
    assert!((30000..=32767).contains(&second), "{second}");

    open_details(&t, "web-np").await;
    let links = external_endpoint_links(&t).await;
    assert!(
        links.contains(&"http://192.168.0.10:30080".to_string()),
        "{links:?}"
    );
    assert!(
        links.contains(&format!("http://192.168.0.10:{second}")),
        "{links:?}"
    );
    t.finish().await;
}

#[tokio::test]
async fn node_port_service_without_nodes_has_no_external_link() {
    let Some(t) = BrowserTest::start("node_port_service_without_nodes_has_no_external_link").await
    else {
        return;
    };
    let nodes = kind_by_plural("nodes")
        .expect("nodes are served")
        .resource
        .plural;
    let existing = t
        .cluster
        .registry()
        .list(nodes, None, &Default::default())
        .await
        .expect("list nodes");
    assert!(existing.items.is_empty(), "a new test cluster has no nodes");
    let svc =
        create_through_form(&t, &ServiceInput::two_ports("web-np-nodeless", "NodePort")).await;
    assert_eq!(svc["spec"]["type"], "NodePort");

    open_details(&t, "web-np-nodeless").await;
    assert_eq!(external_endpoint_links(&t).await, Vec::<String>::new());
    t.finish().await;
}

#[tokio::test]
async fn load_balancer_service_has_no_link_while_pending() {
    let Some(t) = BrowserTest::start("load_balancer_service_has_no_link_while_pending").await
    else {
        return;
    };
    let mut input = ServiceInput::two_ports("web-slb", "LoadBalancer");
    input.external_traffic_policy = Some("Cluster");
    let svc = create_through_form(&t, &input).await;

    assert_eq!(svc["spec"]["type"], "LoadBalancer");
    assert_eq!(svc["spec"]["externalTrafficPolicy"], "Cluster");
    assert!(port_of(&svc, 0)["nodePort"].as_i64().is_some(), "{svc}");
    assert_eq!(
        svc["metadata"]["annotations"]["example.com/owner"],
        "team-a"
    );
    assert_eq!(svc["status"], json!({"loadBalancer": {}}));

    let row = row_text(&t, "web-slb").await;
    assert!(row.contains("LoadBalancer"), "{row}");
    open_details(&t, "web-slb").await;
    assert_eq!(external_endpoint_links(&t).await, Vec::<String>::new());
    t.finish().await;
}

#[tokio::test]
async fn load_balancer_service_links_its_ingress_address() {
    let Some(t) = BrowserTest::start("load_balancer_service_links_its_ingress_address").await
    else {
        return;
    };
    let mut body = fixture("web-slb-ready");
    body["spec"]["type"] = json!("LoadBalancer");
    let registry = t.cluster.registry();
    let mut svc = registry
        .create_service(NAMESPACE, &body, &WriteOptions::default())
        .await
        .expect("create")
        .object;
    svc["status"] = json!({"loadBalancer": {"ingress": [{"ip": "39.106.1.2"}]}});
    registry
        .update_service_status(NAMESPACE, "web-slb-ready", &svc, &WriteOptions::default())
        .await
        .expect("status");

    open_list(&t).await;
    open_details(&t, "web-slb-ready").await;
    let links = external_endpoint_links(&t).await;
    assert!(
        links.contains(&"http://39.106.1.2:80".to_string()),
        "{links:?}"
    );
    assert!(
        links.contains(&"http://39.106.1.2:9090".to_string()),
        "{links:?}"
    );
    t.finish().await;
}

#[tokio::test]
async fn update_changes_a_port() {
    let Some(t) = BrowserTest::start("update_changes_a_port").await else {
        return;
    };
    create_fixture(&t, "web-update").await;

    open_list(&t).await;
    t.click_in_row("web-update", "Update").await;
    t.wait_for("the form prefilled with port 80", async || {
        (t.value("spec.ports[0].port").await == "80").then_some(())
    })
    .await;
    assert_eq!(t.value("metadata.name").await, "web-update");
    t.screenshot("update-form").await;
    t.fill("spec.ports[0].port", "8000").await;
    click_form_button(&t, "Review changes").await;
    t.wait_text("Changes to save").await;
    t.screenshot("review-changes").await;
    // The review opens on the changes, and the button that saves them sits right under them.
    let layout = t
        .browser
        .execute(
            "var d = document.getElementById('diff').getBoundingClientRect();\
             var b = document.querySelector('#service-form button[name=op][value=submit]').getBoundingClientRect();\
             return [b.top - d.bottom, d.top, window.innerHeight];",
            vec![],
        )
        .await
        .expect("measure the review");
    let [gap, top, height] = [0, 1, 2].map(|i| layout[i].as_f64().unwrap_or(f64::NAN));
    assert!(
        (0.0..40.0).contains(&gap),
        "Update is {gap}px under the diff"
    );
    assert!(
        (0.0..height).contains(&top),
        "the diff is in view: {layout}"
    );
    click_form_button(&t, "Update").await;
    t.wait_for("the stored port to change", async || {
        let svc = t
            .cluster
            .registry()
            .get_service(NAMESPACE, "web-update")
            .await
            .ok()?;
        (port_of(&svc, 0)["port"] == 8000).then_some(())
    })
    .await;
    t.wait_gone("the form to close", "//*[@name='spec.ports[0].port']")
        .await;
    t.screenshot("after-update").await;

    let svc = stored(&t, "web-update").await;
    assert_eq!(port_of(&svc, 0)["targetPort"], 8080);
    assert_eq!(port_of(&svc, 1)["port"], 9090);
    assert_eq!(svc["metadata"]["labels"]["app"], "nginx");
    t.finish().await;
}

#[tokio::test]
async fn update_of_a_service_changed_meanwhile_shows_a_conflict() {
    let Some(t) =
        BrowserTest::start("update_of_a_service_changed_meanwhile_shows_a_conflict").await
    else {
        return;
    };
    create_fixture(&t, "web-conflict").await;

    open_list(&t).await;
    t.click_in_row("web-conflict", "Update").await;
    t.wait_for("the form prefilled with port 80", async || {
        (t.value("spec.ports[0].port").await == "80").then_some(())
    })
    .await;
    // Someone else (kubectl) changes the Service after the form was opened.
    t.cluster
        .registry()
        .patch_service(
            NAMESPACE,
            "web-conflict",
            &WriteOptions::default(),
            |stored: &Value| {
                let mut next = stored.clone();
                next["metadata"]["labels"]["changed"] = json!("elsewhere");
                Ok::<Value, RegistryError>(next)
            },
        )
        .await
        .expect("change the Service meanwhile");

    t.fill("spec.ports[0].port", "8000").await;
    click_form_button(&t, "Review changes").await;
    // The review may already see the conflict; otherwise saving does.
    let conflict = "the object has been modified";
    t.wait_for("the review or the conflict", async || {
        let page = t.page_text().await.ok()?;
        if page.contains(conflict) {
            return Some(());
        }
        let update = format!("{SERVICE_FORM}//button[normalize-space()='Update']");
        let button = t.displayed(Locator::XPath(&update)).await?;
        button.click().await.ok()?;
        None
    })
    .await;
    t.wait_text(
        "Operation cannot be fulfilled on services \"web-conflict\": the object has been modified",
    )
    .await;
    t.screenshot("conflict").await;

    let svc = stored(&t, "web-conflict").await;
    assert_eq!(
        port_of(&svc, 0)["port"],
        80,
        "the change made meanwhile is never overwritten silently"
    );
    assert_eq!(svc["metadata"]["labels"]["changed"], "elsewhere");
    assert_eq!(
        t.value("spec.ports[0].port").await,
        "8000",
        "the form keeps what the user typed"
    );
    t.finish().await;
}

#[tokio::test]
async fn delete_from_the_actions_column_removes_the_service() {
    let Some(t) = BrowserTest::start("delete_from_the_actions_column_removes_the_service").await
    else {
        return;
    };
    let svc = create_fixture(&t, "web-delete").await;
    create_fixture(&t, "web-keep").await;
    let cluster_ip = svc["spec"]["clusterIP"]
        .as_str()
        .expect("a Cluster IP")
        .to_string();

    open_list(&t).await;
    let confirmation = delete_from_actions(&t, "web-delete").await;
    assert!(confirmation.contains("web-delete"), "{confirmation}");
    assert!(
        confirmation.contains(&cluster_ip),
        "the confirmation names the released Cluster IP: {confirmation}"
    );

    let e = t
        .cluster
        .registry()
        .get_service(NAMESPACE, "web-delete")
        .await
        .expect_err("deleted");
    assert_eq!(e.status().message, "services \"web-delete\" not found");
    t.wait_xpath(&format!("//table{}", row_of("web-keep")))
        .await;
    t.finish().await;
}

#[tokio::test]
async fn invalid_name_is_rejected_next_to_the_name_field() {
    let Some(t) = BrowserTest::start("invalid_name_is_rejected_next_to_the_name_field").await
    else {
        return;
    };
    open_list(&t).await;
    t.click_button("Create").await;
    t.field("metadata.name").await;
    t.screenshot("form").await;
    let mut input = ServiceInput::two_ports("MyService", "ClusterIP");
    input.ports.truncate(1);
    fill_service_form(&t, &input).await;
    click_form_button(&t, "Create").await;
    t.wait_text(INVALID_NAME_MESSAGE).await;
    t.screenshot("invalid-name").await;

    let next_to_name = text_next_to(&t, "metadata.name").await;
    assert!(
        next_to_name.contains(&squash(INVALID_NAME_MESSAGE)),
        "next to the name field: {next_to_name}"
    );
    assert_eq!(
        t.value("metadata.name").await,
        "MyService",
        "the form keeps what the user typed"
    );
    assert_eq!(t.value("spec.ports[0].port").await, "80");
    assert_eq!(t.value("labels[0].key").await, "app");
    let e = t
        .cluster
        .registry()
        .get_service(NAMESPACE, "MyService")
        .await
        .expect_err("nothing stored");
    assert_eq!(e.status().code, 404);
    t.finish().await;
}

#[tokio::test]
async fn keyboard_only_create_with_an_invalid_name_focuses_the_name_field() {
    let Some(t) =
        BrowserTest::start("keyboard_only_create_with_an_invalid_name_focuses_the_name_field")
            .await
    else {
        return;
    };
    open_list(&t).await;
    // Tab to the Create button and press Enter, as a keyboard user would.
    t.wait_for("Tab to reach the Create button", async || {
        t.press(Key::Tab).await.ok()?;
        let focused = t.browser.active_element().await.ok()?;
        let text = focused.text().await.ok()?;
        let value = focused
            .attr("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        (squash(&text) == "Create" || value == "Create").then_some(())
    })
    .await;
    t.press(Key::Enter).await.expect("press Enter");
    t.field("metadata.name").await;
    t.screenshot("form-by-keyboard").await;

    // Tab to the Name field, type, and submit with Enter from inside it: Enter must create,
    // not trigger another submit button such as a row's add button.
    t.wait_for("Tab to reach the Name field", async || {
        if t.focused_name().await.as_deref() == Some("metadata.name") {
            return Some(());
        }
        t.press(Key::Tab).await.ok()?;
        None
    })
    .await;
    t.type_keys("MyService").await;
    t.type_keys(&Key::Enter).await;
    t.wait_text(INVALID_NAME_MESSAGE).await;
    t.screenshot("focus-on-first-error").await;

    // The first error is the name's: focus is on its input, or on the summary that lists it.
    let focused = t.focused_name().await;
    let summary = match focused.as_deref() {
        Some("error-summary") => {
            let el = t
                .browser
                .active_element()
                .await
                .expect("the focused summary");
            squash(&el.text().await.expect("summary text"))
        }
        _ => String::new(),
    };
    assert!(
        focused.as_deref() == Some("metadata.name")
            || summary.contains(&squash(INVALID_NAME_MESSAGE)),
        "focus moves to the first error, but is on {focused:?}"
    );
    t.finish().await;
}
