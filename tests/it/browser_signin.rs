//! Console sign-in in team mode, end to end: a real `service-console serve --tls` process,
//! the real kubectl (admin kubeconfig) to make a ServiceAccount and its token, and headless
//! Chromium signing in with that token. Screenshots land in
//! `target/browser-screenshots/<test>/`.

use fantoccini::Locator;

use crate::support::browser::BrowserTest;
use crate::support::team::Team;

/// The ServiceAccount of the tests and its user.
const ALICE: &str = "system:serviceaccount:default:alice";

/// Chromium and a team-mode server, or `None` when a tool is missing outside CI.
async fn start(name: &str) -> Option<(BrowserTest, Team)> {
    let server = Team::start()?;
    // The server's certificate is signed by the CA it generated under DATA_DIR/pki, which this
    // throwaway Chromium profile does not trust: the team-mode tests accept it this way.
    let mut t =
        BrowserTest::start_with_chromium_args(name, &["--ignore-certificate-errors"], |c| {
            service_console::app(c.state.clone())
        })
        .await?;
    // The support module also serves an in-process local-mode app; these tests use the real
    // team-mode process instead.
    t.base_url = server.server.url.clone();
    Some((t, server))
}

/// The path and query of the page the browser shows.
async fn current_path(t: &BrowserTest) -> String {
    let url = t.browser.current_url().await.expect("current URL");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Waits until the browser shows `path` (with its query).
async fn wait_path(t: &BrowserTest, path: &str) {
    t.wait_for(&format!("the page {path}"), async || {
        (current_path(t).await == path).then_some(())
    })
    .await;
}

/// Signs in on the sign-in page the browser shows.
async fn sign_in(t: &BrowserTest, token: &str) {
    t.wait_xpath("//h1[normalize-space()='Sign in']").await;
    t.fill("token", token).await;
    t.click_button("Sign in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_a_token_lands_on_the_wanted_page_and_names_the_user() {
    let Some((t, server)) = start("signing_in_lands_on_the_wanted_page").await else {
        return;
    };
    let token = server.viewer_token();

    t.open("/services?namespace=default").await;
    wait_path(&t, "/login?then=%2Fservices%3Fnamespace%3Ddefault").await;
    t.screenshot("sign-in").await;

    // A token this server did not sign: the Dashboard's words, nothing about why.
    sign_in(&t, "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl").await;
    t.wait_text("Unauthorized (401): Invalid credentials provided")
        .await;
    t.screenshot("bad-token").await;
    assert!(t.browser.get_named_cookie("sc_session").await.is_err());

    sign_in(&t, &token).await;
    wait_path(&t, "/services?namespace=default").await;
    let user = t.wait_css("#signed-in-user").await;
    assert_eq!(user.text().await.expect("user name"), ALICE);
    t.wait_xpath("//a[normalize-space()='kubernetes']").await;
    t.screenshot("signed-in").await;

    let cookie = t
        .browser
        .get_named_cookie("sc_session")
        .await
        .expect("the session cookie");
    let flags = (
        cookie.http_only(),
        cookie.secure(),
        format!("{:?}", cookie.same_site()),
        cookie.path(),
    );
    assert_eq!(
        flags,
        (Some(true), Some(true), "Some(Strict)".into(), Some("/"))
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_returns_to_sign_in_and_the_old_cookie_stops_working() {
    let Some((t, server)) = start("signing_out_ends_the_session").await else {
        return;
    };
    let token = server.viewer_token();
    t.open("/services").await;
    sign_in(&t, &token).await;
    wait_path(&t, "/services").await;
    let old = t
        .browser
        .get_named_cookie("sc_session")
        .await
        .expect("the session cookie");

    t.click_button("Sign out").await;
    wait_path(&t, "/login").await;
    t.wait_text("You have signed out.").await;
    t.screenshot("signed-out").await;
    // Without a session the live-update stream answers 401 instead of a sign-in page.
    let status = t
        .browser
        .execute(
            "return fetch('/services/watch?namespace=default').then(r => r.status)",
            vec![],
        )
        .await
        .expect("fetch the stream");
    assert_eq!(status, serde_json::json!(401));

    // The cookie the browser had is revoked on the server, not only forgotten by the browser.
    t.browser
        .add_cookie(old)
        .await
        .expect("put the old cookie back");
    t.open("/services?namespace=default").await;
    wait_path(&t, "/login?then=%2Fservices%3Fnamespace%3Ddefault").await;
    t.screenshot("old-cookie-refused").await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_service_account_ends_its_session() {
    let Some((t, server)) = start("a_deleted_service_account_ends_its_session").await else {
        return;
    };
    let token = server.viewer_token();
    t.open("/services").await;
    sign_in(&t, &token).await;
    wait_path(&t, "/services").await;

    server.admin_ok(&["delete", "serviceaccount", "alice"]);
    t.open("/services").await;
    wait_path(&t, "/login?then=%2Fservices").await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_no_create_update_or_delete() {
    let Some((t, server)) = start("a_viewer_sees_no_create_update_or_delete").await else {
        return;
    };
    let token = server.viewer_token();
    server.create(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n\
         spec:\n  ports:\n  - port: 80\n---\napiVersion: v1\nkind: Namespace\n\
         metadata:\n  name: hidden\n",
    );
    t.open("/services?namespace=default").await;
    sign_in(&t, &token).await;
    t.wait_xpath("//a[normalize-space()='web']").await;
    t.screenshot("viewer-list").await;

    let offered = |text: &str| {
        format!(
            "//main//a[normalize-space()='{text}'] | //main//button[normalize-space()='{text}']"
        )
    };
    for action in ["Create", "Update", "Delete", "Delete selected"] {
        let found = t.browser.find_all(Locator::XPath(&offered(action))).await;
        assert_eq!(found.map(|f| f.len()).ok(), Some(0), "{action} is offered");
    }
    let boxes = t
        .browser
        .find_all(Locator::Css("input[type=checkbox]"))
        .await
        .expect("find checkboxes");
    assert!(boxes.is_empty(), "bulk-delete checkboxes are offered");
    // alice may list Services only in `default`.
    let namespaces: Vec<String> = {
        let mut names = Vec::new();
        for o in t
            .browser
            .find_all(Locator::Css("#ns-select option"))
            .await
            .expect("namespace options")
        {
            names.push(o.attr("value").await.ok().flatten().unwrap_or_default());
        }
        names
    };
    assert_eq!(namespaces, ["default"]);

    t.click_in_row("web", "Details").await;
    wait_path(&t, "/services/default/web").await;
    t.wait_xpath("//h1[normalize-space()='web']").await;
    for action in ["Update", "Delete"] {
        let found = t.browser.find_all(Locator::XPath(&offered(action))).await;
        assert_eq!(found.map(|f| f.len()).ok(), Some(0), "{action} is offered");
    }
    t.screenshot("viewer-details").await;

    t.open("/load-balancers").await;
    t.wait_text("is forbidden").await;
    let found = t
        .browser
        .find_all(Locator::XPath(&offered("Create SLB Instance")))
        .await;
    assert_eq!(found.map(|f| f.len()).ok(), Some(0));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_create_by_a_viewer_shows_kube_apiservers_403() {
    let Some((t, server)) = start("a_forged_create_by_a_viewer_shows_the_403").await else {
        return;
    };
    let token = server.viewer_token();
    t.open("/services").await;
    sign_in(&t, &token).await;
    wait_path(&t, "/services").await;

    // What a hand-made form would post: the page's own CSRF token, so only RBAC refuses it.
    let forge = r#"
        const form = document.createElement('form');
        form.method = 'post';
        form.action = '/services';
        const fields = {
            csrf_token: document.querySelector('input[name=csrf_token]').value,
            'metadata.namespace': 'default',
            'metadata.name': 'forged',
        };
        for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement('input');
            input.type = 'hidden';
            input.name = name;
            input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
    "#;
    t.browser
        .execute(forge, vec![])
        .await
        .expect("post the form");
    t.wait_text(
        r#"services is forbidden: User "system:serviceaccount:default:alice" cannot create resource "services" in API group "" in the namespace "default""#,
    )
    .await;
    t.wait_text("403 Forbidden").await;
    t.screenshot("forbidden").await;
    assert!(
        server
            .run(&server.admin, &["get", "service", "forged"])
            .code
            != 0,
        "the forged Service was created"
    );
    t.finish().await;
}
