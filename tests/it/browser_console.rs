//! End-to-end tests of how the console behaves over a working day in real headless Chromium:
//! many list navigations with the live-update stream, the SLB controls that are also
//! annotations, keyboard flow in the form, and the list's paging and counts.
//! Screenshots land in `target/browser-screenshots/<test>/`.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use serde_json::json;
use service_console::registry::{WriteOptions, kind_by_plural};

use crate::support::browser::BrowserTest;

/// How long one navigation may take before the test calls it a hang (a healthy page loads
/// in well under a second; a page queued behind six open streams never does).
const NAVIGATION_DEADLINE: Duration = Duration::from_secs(20);

async fn create_namespace(t: &BrowserTest, name: &str) {
    let kind = kind_by_plural("namespaces").expect("namespaces are served");
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let _ = t
        .cluster
        .registry()
        .create(kind, "", &body, &WriteOptions::default())
        .await;
}

async fn create_services(t: &BrowserTest, namespace: &str, prefix: &str, count: usize) {
    create_namespace(t, namespace).await;
    for i in 0..count {
        let body = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": format!("{prefix}-{i:03}")},
            "spec": {"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]}
        });
        t.cluster
            .registry()
            .create_service(namespace, &body, &WriteOptions::default())
            .await
            .expect("create a Service");
    }
}

/// Runs `navigate` and waits until the page shows `expect` (an XPath), failing when that
/// takes longer than [`NAVIGATION_DEADLINE`].
async fn navigation(t: &BrowserTest, step: &str, expect: &str, navigate: impl AsyncFnOnce()) {
    let started = Instant::now();
    let load = async {
        navigate().await;
        t.wait_xpath(expect).await;
    };
    if tokio::time::timeout(NAVIGATION_DEADLINE, load)
        .await
        .is_err()
    {
        t.screenshot(&format!("{step}-hang")).await;
        panic!("{step}: the page did not load within {NAVIGATION_DEADLINE:?}");
    }
    println!("{step}: {:?}", started.elapsed());
    t.screenshot(step).await;
}

async fn click_link(t: &BrowserTest, text: &str) {
    t.click_button(text).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seven_list_navigations_and_back_forward_never_hang() {
    let Some(t) = BrowserTest::start("seven_list_navigations_and_back_forward_never_hang").await
    else {
        return;
    };
    create_services(&t, "default", "web", 45).await;
    create_services(&t, "team-a", "api", 3).await;

    let page = |n: usize| format!("//span[@class='page-number' and normalize-space()='Page {n}']");
    navigation(&t, "list", &page(1), async || t.open("/services").await).await;
    navigation(&t, "next", &page(2), async || click_link(&t, "Next").await).await;
    navigation(&t, "next", &page(3), async || click_link(&t, "Next").await).await;
    navigation(
        &t,
        "search",
        "//a[normalize-space()='web-007']",
        async || {
            t.fill("name", "web-00").await;
            t.click_button("Search").await;
        },
    )
    .await;
    navigation(
        &t,
        "namespace",
        "//a[normalize-space()='api-001']",
        async || {
            t.choose("namespace", "team-a").await;
        },
    )
    .await;
    navigation(
        &t,
        "details",
        "//h1[normalize-space()='api-001']",
        async || {
            click_link(&t, "api-001").await;
        },
    )
    .await;
    navigation(&t, "list", &page(1), async || {
        t.open("/services?namespace=default").await;
    })
    .await;
    navigation(&t, "next", &page(2), async || click_link(&t, "Next").await).await;
    navigation(&t, "back", &page(1), async || {
        t.browser.back().await.expect("back");
    })
    .await;
    navigation(
        &t,
        "back",
        "//h1[normalize-space()='api-001']",
        async || {
            t.browser.back().await.expect("back");
        },
    )
    .await;
    navigation(&t, "forward", &page(1), async || {
        t.browser.forward().await.expect("forward");
    })
    .await;
    navigation(&t, "forward", &page(2), async || {
        t.browser.forward().await.expect("forward");
    })
    .await;
    navigation(&t, "back-again", &page(1), async || {
        t.browser.back().await.expect("back");
    })
    .await;
    // The page that came back from the back/forward cache reopened its stream: a Service
    // created now appears without a reload.
    let body = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "aaa-live"},
        "spec": {"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]}});
    t.cluster
        .registry()
        .create_service("default", &body, &WriteOptions::default())
        .await
        .expect("create a Service");
    navigation(
        &t,
        "live-row",
        "//a[normalize-space()='aaa-live']",
        async || {},
    )
    .await;
    t.finish().await;
}

const ADDRESS_TYPE: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type";

/// Opens the Create form and chooses Server Load Balancer, waiting for its section.
async fn open_load_balancer_form(t: &BrowserTest, name: &str) {
    t.open("/services/new").await;
    t.fill("metadata.name", name).await;
    t.choose("spec.type", "LoadBalancer").await;
    t.wait_css("[name=\"slb.access\"]").await;
}

async fn click_form_button(t: &BrowserTest, text: &str) {
    let button = t
        .wait_xpath(&format!(
            "//form[@id='service-form']//button[normalize-space()='{text}']"
        ))
        .await;
    button
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {text:?}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_access_and_an_internet_annotation_are_refused_on_both_fields() {
    let Some(t) =
        BrowserTest::start("internal_access_and_an_internet_annotation_are_refused_on_both_fields")
            .await
    else {
        return;
    };
    open_load_balancer_form(&t, "private-web").await;
    t.choose("slb.access", "intranet").await;
    t.fill("spec.ports[0].port", "80").await;
    click_form_button(&t, "Add Annotation").await;
    t.fill("annotations[0].key", ADDRESS_TYPE).await;
    t.fill("annotations[0].value", "internet").await;
    t.screenshot("contradiction-typed").await;
    click_form_button(&t, "Create").await;

    let access = t.wait_css("#slb-access-errors").await;
    let access = access.text().await.expect("text");
    assert!(
        access.contains("Contradicts annotation row 1"),
        "next to Access Method: {access}"
    );
    let row = t.wait_css("#annotations-0--value-errors").await;
    assert_eq!(
        row.text().await.expect("text"),
        "Contradicts Access Method \"Internal Access\", which sets this annotation to \"intranet\". Remove this row or change Access Method above."
    );
    t.screenshot("contradiction-refused").await;
    assert!(
        t.cluster
            .registry()
            .get_service("default", "private-web")
            .await
            .is_err(),
        "no Service was created"
    );
    // Removing the row lets the radio decide: the Service is internal.
    t.wait_xpath("//button[@aria-label='Remove annotation 1']")
        .await
        .click()
        .await
        .expect("remove the row");
    t.wait_gone("the annotation row", "//*[@name='annotations[0].key']")
        .await;
    click_form_button(&t, "Create").await;
    t.wait_xpath("//h1[normalize-space()='private-web']").await;
    t.screenshot("created-internal").await;
    let svc = t
        .cluster
        .registry()
        .get_service("default", "private-web")
        .await
        .expect("created");
    assert_eq!(svc["metadata"]["annotations"][ADDRESS_TYPE], "intranet");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrow_keys_on_type_switch_fields_in_place_and_keep_focus() {
    let Some(t) =
        BrowserTest::start("arrow_keys_on_type_switch_fields_in_place_and_keep_focus").await
    else {
        return;
    };
    t.open("/services/new").await;
    t.fill("metadata.name", "keyboard").await;
    // A marker that a reload would wipe out.
    t.browser
        .execute(
            "window.stillHere = true; document.getElementById('spec-type').focus();",
            vec![],
        )
        .await
        .expect("focus the type");
    t.press(fantoccini::key::Key::Down)
        .await
        .expect("arrow down");
    t.wait_css("[name=\"spec.externalTrafficPolicy\"]").await;
    assert_eq!(t.value("spec.type").await, "NodePort");
    assert_eq!(t.focused_name().await.as_deref(), Some("spec.type"));
    t.press(fantoccini::key::Key::Down)
        .await
        .expect("arrow down");
    t.wait_css("[name=\"slb.access\"]").await;
    assert_eq!(t.value("spec.type").await, "LoadBalancer");
    assert_eq!(t.focused_name().await.as_deref(), Some("spec.type"));
    assert_eq!(t.value("metadata.name").await, "keyboard");
    let still_here = t
        .browser
        .execute("return window.stillHere === true;", vec![])
        .await
        .expect("read the marker");
    assert_eq!(still_here, json!(true), "the page was not reloaded");
    t.screenshot("load-balancer-by-keyboard").await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_buttons_move_the_focus_to_the_new_row() {
    let Some(t) = BrowserTest::start("add_buttons_move_the_focus_to_the_new_row").await else {
        return;
    };
    t.open("/services/new").await;
    t.fill("metadata.name", "rows").await;
    for (button, field) in [
        ("Add Port Mapping", "spec.ports[1].name"),
        ("Add Annotation", "annotations[0].key"),
        ("Add Label", "labels[0].key"),
    ] {
        click_form_button(&t, button).await;
        t.wait_for(&format!("the focus on {field}"), async || {
            (t.focused_name().await.as_deref() == Some(field)).then_some(())
        })
        .await;
        t.screenshot(&format!(
            "after-{}",
            button.to_lowercase().replace(' ', "-")
        ))
        .await;
    }
    assert_eq!(t.value("metadata.name").await, "rows");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_plan_shows_no_errors_for_fields_not_reached_yet() {
    let Some(t) =
        BrowserTest::start("the_live_plan_shows_no_errors_for_fields_not_reached_yet").await
    else {
        return;
    };
    t.open("/services/new").await;
    t.fill("metadata.name", "web").await;
    t.wait_css("#plan-body .plan-pending").await;
    assert!(
        t.displayed(Locator::Css("#plan-body .plan-errors"))
            .await
            .is_none(),
        "no red errors while only the name is filled in"
    );
    t.screenshot("name-only").await;
    t.fill("spec.ports[0].port", "0").await;
    let errors = t.wait_css("#plan-body .plan-errors").await;
    let text = errors.text().await.expect("text");
    assert!(
        text.contains(
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
        ),
        "{text}"
    );
    t.screenshot("port-reached").await;
    t.fill("spec.ports[0].port", "80").await;
    t.wait_xpath("//div[@id='plan-body']//h3[normalize-space()='Cluster IP and node ports']")
        .await;
    t.screenshot("complete").await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_counts_pages_by_choice_keeps_filters_and_warns_before_deleting_kubernetes() {
    let Some(t) = BrowserTest::start(
        "list_counts_pages_by_choice_keeps_filters_and_warns_before_deleting_kubernetes",
    )
    .await
    else {
        return;
    };
    create_services(&t, "default", "web", 45).await;
    t.open("/services?namespace=default").await;
    let total = t.wait_css("#list-total").await;
    assert_eq!(total.text().await.expect("text"), "46 Services");
    t.choose("limit", "50").await;
    t.wait_for("50 rows per page", async || {
        let rows = t
            .browser
            .find_all(Locator::Css("input[name=selected]"))
            .await
            .ok()?;
        (rows.len() == 46).then_some(())
    })
    .await;
    t.screenshot("fifty-per-page").await;

    t.fill("name", "web-01").await;
    t.click_button("Search").await;
    t.wait_text("10 of 46 Services match").await;
    t.click_button("Delete selected").await;
    t.wait_text("Select at least one Service to delete.").await;
    let url = t.browser.current_url().await.expect("url").to_string();
    assert!(
        url.contains("name=web-01") && url.contains("limit=50"),
        "the filters are kept: {url}"
    );
    assert_eq!(t.value("name").await, "web-01");
    t.screenshot("nothing-selected-keeps-filters").await;

    t.open("/services?namespace=default&name=kubernetes").await;
    t.click_in_row("kubernetes", "Delete").await;
    let warning = t.wait_css("#delete-warning").await;
    assert!(
        warning
            .text()
            .await
            .expect("text")
            .contains("Service of the Kubernetes API server itself")
    );
    t.screenshot("kubernetes-delete-warning").await;
    t.click_button("Cancel").await;
    t.wait_css("#list-total").await;
    let url = t.browser.current_url().await.expect("url").to_string();
    assert!(
        url.contains("name=kubernetes"),
        "Cancel returns to the filtered list: {url}"
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_names_many_ports_and_huge_values_never_scroll_sideways() {
    let Some(t) =
        BrowserTest::start("long_names_many_ports_and_huge_values_never_scroll_sideways").await
    else {
        return;
    };
    let name = format!("a{}", "-very-long-name".repeat(4))
        .chars()
        .take(63)
        .collect::<String>();
    let ports: Vec<_> = (0..12)
        .map(|i| json!({"name": format!("port-with-a-long-name-{i}"), "port": 8000 + i, "protocol": "TCP"}))
        .collect();
    let huge = "x".repeat(200 * 1024);
    let body = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "annotations": {
            "example.com/huge": huge,
            "example.com/long-unbroken": "y".repeat(400),
        }, "labels": {"app.kubernetes.io/a-rather-long-label-name": "z".repeat(63)}},
        "spec": {"type": "NodePort", "ports": ports}});
    t.cluster
        .registry()
        .create_service("default", &body, &WriteOptions::default())
        .await
        .expect("create the Service");
    let sideways =
        "return document.documentElement.scrollWidth > document.documentElement.clientWidth;";
    t.open("/services?namespace=default").await;
    t.wait_css("#list-total").await;
    t.screenshot("list").await;
    let actions = t.wait_css("tbody td.actions").await;
    let (x, _, w, _) = actions.rectangle().await.expect("rectangle");
    let viewport = t
        .browser
        .execute("return document.documentElement.clientWidth;", vec![])
        .await
        .expect("width")
        .as_f64()
        .unwrap_or(0.0);
    assert!(
        x + w <= viewport + 1.0,
        "Actions are in view: {x}+{w} > {viewport}"
    );
    assert_eq!(
        t.browser.execute(sideways, vec![]).await.expect("js"),
        json!(false)
    );

    t.click_in_row(&name, "Details").await;
    t.wait_text("Show all (204800 characters)").await;
    assert_eq!(
        t.browser.execute(sideways, vec![]).await.expect("js"),
        json!(false),
        "Details never scrolls sideways"
    );
    let ty = t
        .wait_xpath("//dt[normalize-space()='Type']/following-sibling::dd[1]")
        .await;
    assert_eq!(ty.text().await.expect("text"), "Node Port (NodePort)");
    t.screenshot("details").await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_port_is_explained_once_on_its_row() {
    let Some(t) = BrowserTest::start("a_duplicate_port_is_explained_once_on_its_row").await else {
        return;
    };
    t.open("/services/new").await;
    t.fill("metadata.name", "twice").await;
    t.fill("spec.ports[0].name", "web").await;
    t.fill("spec.ports[0].port", "80").await;
    click_form_button(&t, "Add Port Mapping").await;
    t.fill("spec.ports[1].name", "web-again").await;
    t.fill("spec.ports[1].port", "80").await;
    click_form_button(&t, "Create").await;
    let sentence = "Port 80/TCP is listed twice: each port and protocol may appear once.";
    t.wait_text(sentence).await;
    let plain = t
        .browser
        .find_all(Locator::Css("#service-form .field-errors .plain"))
        .await
        .expect("find");
    let mut texts = Vec::new();
    for p in plain {
        texts.push(p.text().await.expect("text"));
    }
    assert_eq!(texts, [sentence], "once, on the second row");
    // kubectl's exact words stay next to it.
    t.wait_text("spec.ports[1]: Duplicate value: core.ServicePort{")
        .await;
    t.wait_text("Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\"")
        .await;
    t.screenshot("duplicate-port").await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_300_kb_annotation_keeps_the_form_and_names_the_field() {
    let Some(t) =
        BrowserTest::start("a_300_kb_annotation_keeps_the_form_and_names_the_field").await
    else {
        return;
    };
    t.open("/services/new").await;
    t.fill("metadata.name", "huge").await;
    t.fill("spec.ports[0].port", "80").await;
    click_form_button(&t, "Add Annotation").await;
    t.fill("annotations[0].key", "example.com/blob").await;
    // 300 KB typed key by key would take minutes; the value is set as a paste would.
    t.browser
        .execute(
            "document.querySelector('[name=\"annotations[0].value\"]').value = 'v'.repeat(300 * 1024);",
            vec![],
        )
        .await
        .expect("paste 300 KB");
    click_form_button(&t, "Create").await;
    let errors = t.wait_css("#annotations-0--value-errors").await;
    let text = errors.text().await.expect("text");
    assert!(
        text.contains("This value was 300 KiB (307200 bytes), too large to send"),
        "{text}"
    );
    assert_eq!(t.value("metadata.name").await, "huge", "the form is kept");
    assert_eq!(t.value("annotations[0].key").await, "example.com/blob");
    assert_eq!(t.value("spec.ports[0].port").await, "80");
    let summary = t.wait_css("#error-summary").await;
    assert!(
        summary
            .text()
            .await
            .expect("text")
            .contains("nothing was saved"),
        "the summary says why"
    );
    t.screenshot("too-large").await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_plan_says_when_it_cannot_be_updated() {
    let Some(t) = BrowserTest::start("the_live_plan_says_when_it_cannot_be_updated").await else {
        return;
    };
    t.open("/services/new").await;
    t.fill("metadata.name", "web").await;
    t.fill("spec.ports[0].port", "80").await;
    t.wait_css("#plan-body [data-plan]").await;
    // The security token expires (the cookie is gone): the next plan is refused.
    t.browser
        .delete_cookie("sc_csrf")
        .await
        .expect("delete the CSRF cookie");
    t.fill("spec.ports[0].port", "81").await;
    let failed = t.wait_css("#plan-failed").await;
    let text = failed.text().await.expect("text");
    assert!(
        text.starts_with("The plan could not be updated: the server refused it (403)"),
        "{text}"
    );
    t.screenshot("plan-failed").await;
    t.finish().await;
}
