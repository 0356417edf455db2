//! How the Create page looks in real headless Chromium, held against ACK's Create Service
//! dialog (shared/docs/ack-load-balancing.md, section a): its groups in the dialog's order,
//! a help text under each field, and the plan beside the form on a wide screen and below it
//! on a narrow one. Screenshots land in `target/browser-screenshots/<test>/`.

use serde_json::{Value, json};

use crate::browser_lb::start;
use crate::support::browser::BrowserTest;

/// The groups of ACK's dialog, in its order, by the heading the form shows for each.
const GROUPS: [&str; 8] = [
    "Name",
    "Service Type",
    "Server Load Balancer",
    "External Traffic Policy",
    "Backend",
    "Port Mapping",
    "Annotations",
    "Label",
];

/// Each field whose help text must sit under it: the element that names the help text in
/// `aria-describedby`, the element the text must be under, and words the text must hold.
const HELP: [(&str, &str, &str); 8] = [
    ("#metadata-name", "#metadata-name", "at most 63 characters"),
    ("#spec-type", "#spec-type", "Server Load Balancer"),
    (
        "[aria-labelledby='slb-access-label']",
        "[aria-labelledby='slb-access-label']",
        "Internal Access",
    ),
    (
        "[aria-labelledby='slb-source-label']",
        "[aria-labelledby='slb-source-label']",
        "existing instance is kept",
    ),
    ("#slb-spec", "#slb-spec", "PayByCLCU"),
    (
        "#spec-externalTrafficPolicy",
        "#spec-externalTrafficPolicy",
        "source IP",
    ),
    ("#backend", "#backend", "selector"),
    (
        "fieldset[aria-describedby='ports-hint']",
        "table.ports",
        "1-65535",
    ),
];

/// A narrow window: a small laptop split in two, or a tablet held upright.
const NARROW_PX: u32 = 760;

/// The top of each heading of [`GROUPS`] in the Service form, in page pixels; `None` for a
/// heading that is missing or hidden.
const HEADING_TOPS: &str = "const form = document.getElementById('service-form');
    return arguments[0].map(text => {
        const el = Array.from(form.querySelectorAll('label, legend, span.label'))
            .find(e => e.textContent.trim() === text && e.getClientRects().length > 0);
        return el ? el.getBoundingClientRect().top + window.scrollY : null;
    });";

/// For one row of [`HELP`]: the help text named by the first selector's `aria-describedby`,
/// whether it is shown, its top, and the bottom of the element it belongs under.
const HELP_UNDER: &str = "const [owner, field] = [document.querySelector(arguments[0]), document.querySelector(arguments[1])];
    if (!owner || !field) { return null; }
    const ids = (owner.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
    const hint = ids.map(id => document.getElementById(id)).find(e => e && e.classList.contains('hint'));
    if (!hint) { return {text: '', shown: false, top: 0, under: 0}; }
    return {
        text: hint.textContent.replace(/\\s+/g, ' '),
        shown: hint.getClientRects().length > 0,
        top: hint.getBoundingClientRect().top,
        under: field.getBoundingClientRect().bottom,
    };";

/// The page rectangles of the form and of the plan, and whether the page scrolls sideways.
/// The page is scrolled to its top first: the plan sticks to the top of a scrolled window.
const LAYOUT: &str = "window.scrollTo(0, 0);
    const box = id => { const r = document.getElementById(id).getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top + window.scrollY, bottom: r.bottom + window.scrollY}; };
    const root = document.documentElement;
    return {form: box('service-form'), plan: box('plan-preview'),
        sideways: root.scrollWidth > root.clientWidth, width: root.clientWidth};";

async fn script(t: &BrowserTest, js: &str, args: Vec<Value>) -> Value {
    t.browser
        .execute(js, args)
        .await
        .unwrap_or_else(|e| panic!("run a script: {e}"))
}

fn num(v: &Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{path} in {v}"))
}

/// Asserts that every group heading is shown, each below the one before it.
async fn assert_group_order(t: &BrowserTest, width: &str) {
    let tops = script(t, HEADING_TOPS, vec![json!(GROUPS)]).await;
    let tops: Vec<Option<f64>> = tops
        .as_array()
        .expect("a list of tops")
        .iter()
        .map(Value::as_f64)
        .collect();
    for (group, top) in GROUPS.iter().zip(&tops) {
        assert!(top.is_some(), "{width}: the heading {group:?} is shown");
    }
    for (pair, tops) in GROUPS.windows(2).zip(tops.windows(2)) {
        assert!(
            tops[0] < tops[1],
            "{width}: {:?} (at {:?}) comes before {:?} (at {:?}), as in ACK's dialog",
            pair[0],
            tops[0],
            pair[1],
            tops[1]
        );
    }
}

/// Asserts that each field of [`HELP`] has its help text shown right under it.
async fn assert_help_under_fields(t: &BrowserTest, width: &str) {
    for (owner, field, words) in HELP {
        let help = script(t, HELP_UNDER, vec![json!(owner), json!(field)]).await;
        assert!(!help.is_null(), "{width}: {owner} is on the page");
        let text = help["text"].as_str().unwrap_or_default();
        assert!(
            text.contains(words),
            "{width}: the help text of {owner} says {words:?}: {text:?}"
        );
        assert_eq!(
            help["shown"],
            json!(true),
            "{width}: {owner}'s help is shown"
        );
        let (top, under) = (num(&help, "/top"), num(&help, "/under"));
        assert!(
            (under - 1.0..=under + 48.0).contains(&top),
            "{width}: {owner}'s help text (top {top}) sits right under the field (bottom {under})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_create_page_follows_the_ack_dialog_with_the_plan_beside_or_below() {
    let Some(t) =
        start("the_create_page_follows_the_ack_dialog_with_the_plan_beside_or_below").await
    else {
        return;
    };
    t.browser
        .set_window_size(1280, 900)
        .await
        .expect("a wide window");
    t.open("/services/new").await;
    t.field("metadata.name").await;
    t.screenshot("create-empty-1280").await;

    // ACK's walkthrough: an internal Server Load Balancer in front of nginx, port 80.
    t.fill("metadata.name", "my-nginx-svc").await;
    t.choose("spec.type", "LoadBalancer").await;
    t.wait_css("[name=\"slb.access\"]").await;
    t.choose("slb.access", "intranet").await;
    t.choose("spec.externalTrafficPolicy", "Local").await;
    t.choose("backend", "nginx").await;
    t.fill("spec.ports[0].name", "http").await;
    t.fill("spec.ports[0].port", "80").await;
    t.fill("spec.ports[0].targetPort", "80").await;
    t.wait_xpath("//div[@id='plan-body']//h3[normalize-space()='Listeners']")
        .await;

    assert_group_order(&t, "1280").await;
    assert_help_under_fields(&t, "1280").await;
    let wide = script(&t, LAYOUT, vec![]).await;
    assert!(
        num(&wide, "/plan/left") >= num(&wide, "/form/right"),
        "at 1280 the plan is beside the form: {wide}"
    );
    assert!(
        (num(&wide, "/plan/top") - num(&wide, "/form/top")).abs() < 2.0,
        "at 1280 the plan starts level with the form: {wide}"
    );
    assert_eq!(wide["sideways"], json!(false), "no sideways scroll: {wide}");
    t.screenshot("create-lb-1280").await;

    t.browser
        .set_window_size(NARROW_PX, 900)
        .await
        .expect("a narrow window");
    let narrow = t
        .wait_for("the plan to move below the form", async || {
            let layout = script(&t, LAYOUT, vec![]).await;
            (num(&layout, "/plan/top") >= num(&layout, "/form/bottom")).then_some(layout)
        })
        .await;
    assert!(
        (num(&narrow, "/plan/left") - num(&narrow, "/form/left")).abs() < 2.0,
        "at {NARROW_PX} the plan is below the form, aligned with it: {narrow}"
    );
    assert_eq!(
        narrow["sideways"],
        json!(false),
        "no sideways scroll at {NARROW_PX}: {narrow}"
    );
    assert_group_order(&t, "narrow").await;
    assert_help_under_fields(&t, "narrow").await;
    t.screenshot(&format!("create-lb-{NARROW_PX}")).await;
    t.finish().await;
}
