//! Console sign-in in team mode, end to end: a real `service-console serve --tls` process,
//! the real kubectl (admin kubeconfig) to make a ServiceAccount and its token, and headless
//! Chromium signing in with that token. Screenshots land in
//! `target/browser-screenshots/<test>/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::support::browser::BrowserTest;
use crate::support::kubectl::find_kubectl;

/// How long the server may take to answer its first request over HTTPS.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// The ServiceAccount of the tests and its user.
const ALICE: &str = "system:serviceaccount:default:alice";

/// A `serve --tls` process with its data directory and an admin kubeconfig; killed on drop.
struct TeamServer {
    child: Child,
    url: String,
    kubectl: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for TeamServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TeamServer {
    /// Starts the server and waits until `kubectl get --raw /readyz` succeeds over HTTPS with
    /// the admin kubeconfig; `None` (skip) when kubectl is missing outside CI.
    fn start() -> Option<TeamServer> {
        let kubectl = find_kubectl()?;
        let dir = tempfile::tempdir().expect("data directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("address")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_service-console"))
            .args(["serve", "--tls", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let server = TeamServer {
            child,
            url: format!("https://127.0.0.1:{port}"),
            kubectl,
            dir,
        };
        let deadline = Instant::now() + START_DEADLINE;
        // The PKI exists once the port accepts; then the kubeconfig can be printed.
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let kubeconfig = Command::new(env!("CARGO_BIN_EXE_service-console"))
            .args(["kubeconfig", "--server", &server.url, "--data-dir"])
            .arg(server.dir.path().join("data"))
            .output()
            .expect("run service-console kubeconfig");
        assert!(kubeconfig.status.success(), "{kubeconfig:?}");
        std::fs::write(server.kubeconfig(), kubeconfig.stdout).expect("write the kubeconfig");
        while server.kubectl(&["get", "--raw", "/readyz"]).is_err() {
            assert!(Instant::now() < deadline, "the server did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Runs kubectl as the cluster admin; its stdout, or everything it printed.
    fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .args(args)
            .env("HOME", self.dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!("kubectl {args:?}: {out:?}"))
        }
    }

    /// Runs kubectl as the admin, failing the test when it fails.
    fn admin(&self, args: &[&str]) -> String {
        self.kubectl(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Creates the objects of a JSON or YAML manifest as the admin.
    fn create(&self, manifest: &str) {
        let path = self.dir.path().join("manifest.yaml");
        std::fs::write(&path, manifest).expect("write the manifest");
        self.admin(&["create", "-f", &path.to_string_lossy()]);
    }

    /// A token of ServiceAccount `default/alice`, who may view `default` (`view` role).
    fn viewer_token(&self) -> String {
        // `kubectl create -f` sends JSON; `kubectl create serviceaccount` would send protobuf.
        self.create(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: alice\n  namespace: default\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n\
             metadata:\n  name: alice-view\n  namespace: default\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\n\
             subjects:\n- kind: ServiceAccount\n  name: alice\n  namespace: default\n",
        );
        self.admin(&["create", "token", "alice"]).trim().to_string()
    }
}

/// Chromium and a team-mode server, or `None` when a tool is missing outside CI.
async fn start(name: &str) -> Option<(BrowserTest, TeamServer)> {
    let server = TeamServer::start()?;
    // The server's certificate is signed by the CA it generated under DATA_DIR/pki, which this
    // throwaway Chromium profile does not trust: the team-mode tests accept it this way.
    let mut t =
        BrowserTest::start_with_chromium_args(name, &["--ignore-certificate-errors"], |c| {
            service_console::app(c.state.clone())
        })
        .await?;
    // The support module also serves an in-process local-mode app; these tests use the real
    // team-mode process instead.
    t.base_url = server.url.clone();
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

    server.admin(&["delete", "serviceaccount", "alice"]);
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
        server.kubectl(&["get", "service", "forged"]).is_err(),
        "the forged Service was created"
    );
    t.finish().await;
}
