//! End-to-end tests of the console's live pages and its namespace in real headless Chromium:
//! Details updates itself (status, endpoints, events) without a reload, the chosen namespace
//! sticks across navigation, a namespace created elsewhere appears in the picker, and one
//! that does not exist says so. Screenshots land in `target/browser-screenshots/<test>/`.

use serde_json::{Value, json};
use service_console::registry::{WriteOptions, kind_by_plural};

use crate::support::browser::BrowserTest;

async fn create(t: &BrowserTest, plural: &str, namespace: &str, body: Value) {
    let kind = kind_by_plural(plural).expect("a served kind");
    t.cluster
        .registry()
        .create(kind, namespace, &body, &WriteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("create {plural}: {e}"));
}

async fn create_service(t: &BrowserTest, namespace: &str, name: &str, type_: &str) {
    let body = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": type_, "selector": {"app": name},
                 "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}
    });
    t.cluster
        .registry()
        .create_service(namespace, &body, &WriteOptions::default())
        .await
        .expect("create a Service");
}

/// Marks the page so a test can tell it was not loaded again.
async fn mark_page(t: &BrowserTest) {
    t.browser
        .execute("window.__notReloaded = true;", vec![])
        .await
        .expect("mark the page");
}

async fn still_marked(t: &BrowserTest) -> bool {
    t.browser
        .execute("return window.__notReloaded === true;", vec![])
        .await
        .expect("read the mark")
        == Value::Bool(true)
}

/// The text of the element `css`, or "" while it is missing.
async fn text_of(t: &BrowserTest, css: &str) -> String {
    match t.browser.find(fantoccini::Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_update_status_endpoints_and_events_without_a_reload() {
    let Some(t) =
        BrowserTest::start("details_update_status_endpoints_and_events_without_a_reload").await
    else {
        return;
    };
    create_service(&t, "default", "web", "LoadBalancer").await;
    t.open("/services/default/web").await;
    t.wait_xpath("//h1[normalize-space()='web']").await;
    assert!(
        text_of(&t, "#live-endpoints")
            .await
            .contains("No endpoints")
    );
    mark_page(&t).await;
    t.screenshot("before").await;

    // What the controllers would write: the SLB's address, the endpoints, an event.
    t.cluster
        .registry()
        .patch_service_status("default", "web", &WriteOptions::default(), |stored| {
            let mut svc = stored.clone();
            svc["status"] = json!({"loadBalancer": {"ingress": [{"ip": "47.100.1.2"}]}});
            Ok(svc)
        })
        .await
        .expect("set the ingress IP");
    create(
        &t,
        "endpointslices",
        "default",
        json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-x7k2p", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.16.0.42"], "conditions": {"ready": true},
                           "targetRef": {"kind": "Pod", "name": "web-pod-1", "namespace": "default"}}],
            "ports": [{"name": "", "port": 8080, "protocol": "TCP"}]
        }),
    )
    .await;
    create(
        &t,
        "events",
        "default",
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.17e2c0ffee"},
            "involvedObject": {"kind": "Service", "name": "web", "namespace": "default", "apiVersion": "v1"},
            "reason": "EnsuredLoadBalancer", "message": "Ensured load balancer for the live test",
            "type": "Normal", "source": {"component": "service-controller"}, "count": 1
        }),
    )
    .await;

    t.wait_for("the ingress IP on Details", async || {
        text_of(&t, "#external-endpoint")
            .await
            .contains("47.100.1.2")
            .then_some(())
    })
    .await;
    t.wait_for("the endpoint on Details", async || {
        text_of(&t, "#live-endpoints")
            .await
            .contains("10.16.0.42")
            .then_some(())
    })
    .await;
    t.wait_for("the event on Details", async || {
        text_of(&t, "#live-events")
            .await
            .contains("Ensured load balancer for the live test")
            .then_some(())
    })
    .await;
    t.screenshot("after").await;
    assert!(still_marked(&t).await, "Details was loaded again");
    t.finish().await;
}

/// The namespace the picker shows.
async fn picked(t: &BrowserTest) -> String {
    let select = t.wait_css("#ns-select").await;
    select
        .prop("value")
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chosen_namespace_sticks_and_new_and_missing_namespaces_show() {
    let Some(t) =
        BrowserTest::start("the_chosen_namespace_sticks_and_new_and_missing_namespaces_show").await
    else {
        return;
    };
    let namespace =
        |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    create(&t, "namespaces", "", namespace("team-a")).await;
    create_service(&t, "team-a", "api", "ClusterIP").await;
    create_service(&t, "default", "home", "ClusterIP").await;

    t.open("/services").await;
    t.wait_xpath("//a[normalize-space()='home']").await;
    t.choose("namespace", "team-a").await;
    t.wait_xpath("//a[normalize-space()='api']").await;
    // Details, then the left navigation's Services: still team-a.
    t.click_button("api").await;
    t.wait_xpath("//h1[normalize-space()='api']").await;
    let services = t
        .wait_xpath("//nav[@class='sidenav']//a[normalize-space()='Services']")
        .await;
    services.click().await.expect("click Services");
    t.wait_xpath("//a[normalize-space()='api']").await;
    assert_eq!(picked(&t).await, "team-a");
    // Create, then Cancel: still team-a, and the form opened in it.
    t.click_button("Create").await;
    t.wait_xpath("//h1[normalize-space()='Create Service']")
        .await;
    assert_eq!(t.value("metadata.namespace").await, "team-a");
    t.click_button("Cancel").await;
    t.wait_xpath("//a[normalize-space()='api']").await;
    // A fresh visit of the console's root opens where the user was.
    t.open("/").await;
    t.wait_xpath("//a[normalize-space()='api']").await;
    t.screenshot("sticky").await;

    // A namespace created elsewhere appears in the picker without a reload.
    mark_page(&t).await;
    create(&t, "namespaces", "", namespace("team-b")).await;
    t.wait_for("team-b in the namespace picker", async || {
        t.browser
            .find(fantoccini::Locator::Css(
                "#ns-select option[value='team-b']",
            ))
            .await
            .ok()
    })
    .await;
    assert!(still_marked(&t).await, "the list was loaded again");
    assert_eq!(picked(&t).await, "team-a");
    t.screenshot("new-namespace").await;

    // A namespace that does not exist says so, instead of an empty list.
    t.open("/services?namespace=no-such-team").await;
    let missing = t.wait_css("#missing-namespace").await;
    let text = missing.text().await.expect("text");
    assert!(
        text.contains("Namespace \"no-such-team\" does not exist"),
        "{text}"
    );
    let page = t.page_text().await.expect("page text");
    assert!(!page.contains("There are no Services here yet"), "{page}");
    t.screenshot("missing").await;
    t.finish().await;
}
