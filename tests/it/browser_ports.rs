//! End-to-end tests of container ports in real headless Chromium: a container port the
//! chosen backend's pods do not expose is a warning in the live plan before Create, with the
//! ports they do expose as choices that fill the field; Details' Endpoints card names a port
//! that matches nothing. Screenshots land in `target/browser-screenshots/<test>/`.

use fantoccini::Locator;
use serde_json::json;
use service_console::registry::WriteOptions;

use crate::browser_lb::start;

const UNEXPOSED: &str = "[data-unexposed='spec.ports[0].targetPort']";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_port_the_backend_does_not_expose_is_warned_before_create() {
    let Some(t) =
        start("a_container_port_the_backend_does_not_expose_is_warned_before_create").await
    else {
        return;
    };
    t.open("/services/new").await;
    t.fill("metadata.name", "web").await;
    t.choose("backend", "nginx").await;
    t.fill("spec.ports[0].port", "80").await;
    t.fill("spec.ports[0].targetPort", "8080").await;

    let warning = t.wait_css(UNEXPOSED).await;
    let text = warning.text().await.expect("text");
    assert!(
        text.contains("the backend's pods do not expose TCP port 8080")
            && text.contains("They expose 80/TCP (nginx)"),
        "{text}"
    );
    t.screenshot("warned").await;
    // The port they expose is offered: a click fills the field and the warning goes.
    let choice = t
        .wait_css(&format!("{UNEXPOSED} button[data-fill-value='80']"))
        .await;
    choice.click().await.expect("choose port 80");
    assert_eq!(t.value("spec.ports[0].targetPort").await, "80");
    t.wait_for("the warning to go", async || {
        t.displayed(Locator::Css(UNEXPOSED))
            .await
            .is_none()
            .then_some(())
    })
    .await;
    t.screenshot("chosen").await;
    t.click_button("Create").await;
    t.wait_xpath("//h1[normalize-space()='web']").await;
    let stored = t
        .cluster
        .registry()
        .get_service("default", "web")
        .await
        .expect("created");
    assert_eq!(stored["spec"]["ports"][0]["targetPort"], 80);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoints_card_names_a_port_that_matches_nothing() {
    let Some(t) = start("the_endpoints_card_names_a_port_that_matches_nothing").await else {
        return;
    };
    let body = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "named"},
        "spec": {"selector": {"app": "nginx"}, "ports": [{"port": 80, "targetPort": "web"}]}
    });
    t.cluster
        .registry()
        .create_service("default", &body, &WriteOptions::default())
        .await
        .expect("create");
    t.open("/services/default/named").await;
    let card = t.wait_css("#live-endpoints").await;
    let text = card.text().await.expect("text");
    assert!(
        text.contains("no container of the backend's pods has a TCP port named \"web\"")
            && text.contains("no endpoints are created for this port")
            && !text.contains("No ready pod matches the selector yet"),
        "{text}"
    );
    t.screenshot("endpoints-card").await;
    t.finish().await;
}
