//! Real headless Chromium for the end-to-end tests: ChromeDriver as a child process on a free
//! port, the app on `127.0.0.1:0`, and helpers that fill, click and wait by polling with a
//! deadline. Every step can save a screenshot under `target/browser-screenshots/<test>/`.
//!
//! The WebDriver client is the W3C wire protocol over `reqwest`: fantoccini 0.22 with
//! `default-features = false` has no public plain-HTTP connector (it needs `hyper-util`'s
//! `HttpConnector`, which this package cannot name without a dev-dependency).

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::TestCluster;

/// Where Debian's `chromium-driver` installs ChromeDriver.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian's `chromium` installs the browser.
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a wait polls before it fails; generous for 2-core CI machines.
const WAIT_TIMEOUT: Duration = Duration::from_secs(20);
/// The pause between two polls of a wait.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How long one WebDriver command may take (a page load included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// The W3C key of an element reference in WebDriver JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The WebDriver code point of the Tab key.
pub const TAB: &str = "\u{E004}";
/// The WebDriver code point of the Enter key.
pub const ENTER: &str = "\u{E007}";

/// At most this many browsers run at once: each Chromium takes most of a core while it
/// renders, and the machines have two.
static BROWSERS: Semaphore = Semaphore::const_new(2);

/// Chromium's flags: headless, and quiet on this machine's closed network.
const CHROMIUM_ARGS: [&str; 11] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
    "--lang=en-US",
];

/// One end-to-end test's world: a cluster, the app serving it, and a browser.
pub struct BrowserTest {
    pub cluster: TestCluster,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    pub browser: Browser,
    shots: PathBuf,
    step: std::cell::Cell<u32>,
    server: tokio::task::JoinHandle<()>,
    // Dropped in this order: the driver (and its Chromium) before the profile it uses.
    _driver: ChromeDriver,
    _profile: tempfile::TempDir,
    _permit: SemaphorePermit<'static>,
}

impl BrowserTest {
    /// Starts everything for the test `name`, or returns `None` with a printed reason when
    /// ChromeDriver is not installed. Under `CI=true` a missing ChromeDriver fails the test.
    pub async fn start(name: &str) -> Option<BrowserTest> {
        BrowserTest::start_serving(name, |cluster| service_console::app(cluster.state.clone()))
            .await
    }

    /// Like [`BrowserTest::start`], serving the router `app` builds over the cluster.
    pub async fn start_serving(
        name: &str,
        app: impl FnOnce(&TestCluster) -> axum::Router,
    ) -> Option<BrowserTest> {
        let driver_path = chromedriver_path()?;
        let permit = BROWSERS
            .acquire()
            .await
            .expect("the browser semaphore is never closed");
        let shots = screenshot_dir(name);
        let driver = ChromeDriver::spawn(&driver_path, &shots).await;
        let profile = tempfile::tempdir().expect("temporary Chromium profile");
        let browser = Browser::open(&driver.url, profile.path()).await;

        let cluster = TestCluster::new().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the app's listener");
        let addr: SocketAddr = listener.local_addr().expect("listener address");
        let app = app(&cluster);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve the app");
        });
        Some(BrowserTest {
            cluster,
            base_url: format!("http://{addr}"),
            browser,
            shots,
            step: std::cell::Cell::new(0),
            server,
            _driver: driver,
            _profile: profile,
            _permit: permit,
        })
    }

    /// Ends the browser session cleanly; dropping without it still kills ChromeDriver and
    /// its Chromium.
    pub async fn finish(self) {
        self.browser.quit().await;
        self.server.abort();
    }

    /// Opens a path of the app (`/`, `/services?…`).
    pub async fn open(&self, path: &str) {
        self.browser.goto(&format!("{}{path}", self.base_url)).await;
    }

    /// Saves a screenshot of the page as `NN-<step>.png` and prints where.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let n = self.step.get() + 1;
        self.step.set(n);
        let path = self.shots.join(format!("{n:02}-{step}.png"));
        match self.browser.screenshot_png().await {
            Ok(png) => {
                std::fs::write(&path, png).expect("write the screenshot");
                println!("screenshot: {}", path.display());
            }
            Err(e) => println!("screenshot {step} failed: {e}"),
        }
        path
    }

    /// Polls `probe` until it returns `Some`, failing with `what`, the page's address and a
    /// screenshot when the deadline passes.
    pub async fn wait_for<T>(&self, what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            if let Some(found) = probe().await {
                return found;
            }
            if Instant::now() > deadline {
                let shot = self.screenshot("timeout").await;
                let url = self.browser.current_url().await.unwrap_or_default();
                let text = self.browser.page_text().await.unwrap_or_default();
                panic!(
                    "timed out after {WAIT_TIMEOUT:?} waiting for {what}\n  page: {url}\n  screenshot: {}\n  text:\n{text}",
                    shot.display()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits for the first displayed element matching the CSS selector.
    pub async fn wait_css(&self, css: &str) -> Element {
        self.wait_for(&format!("an element matching `{css}`"), async || {
            self.browser.displayed(Using::Css, css).await
        })
        .await
    }

    /// Waits for the first displayed element matching the XPath expression.
    pub async fn wait_xpath(&self, xpath: &str) -> Element {
        self.wait_for(&format!("an element matching `{xpath}`"), async || {
            self.browser.displayed(Using::XPath, xpath).await
        })
        .await
    }

    /// Waits until no element matches the XPath expression.
    pub async fn wait_gone(&self, what: &str, xpath: &str) {
        self.wait_for(what, async || {
            let found = self.browser.find_all(Using::XPath, xpath).await.ok()?;
            found.is_empty().then_some(())
        })
        .await
    }

    /// Waits until the page's visible text contains `text` (whitespace-insensitive).
    pub async fn wait_text(&self, text: &str) {
        let wanted = squash(text);
        self.wait_for(&format!("the text {text:?}"), async || {
            let page = self.browser.page_text().await.ok()?;
            squash(&page).contains(&wanted).then_some(())
        })
        .await
    }

    /// The input, select or textarea whose `name` attribute is `name`.
    pub async fn field(&self, name: &str) -> Element {
        self.wait_css(&format!("[name=\"{name}\"]")).await
    }

    /// Replaces the value of the text input named `name` by typing `value`.
    pub async fn fill(&self, name: &str, value: &str) {
        let input = self.field(name).await;
        self.browser
            .clear(&input)
            .await
            .unwrap_or_else(|e| panic!("clear {name}: {e}"));
        self.browser
            .send_keys(&input, value)
            .await
            .unwrap_or_else(|e| panic!("type into {name}: {e}"));
    }

    /// The current value of the field named `name`.
    pub async fn value(&self, name: &str) -> String {
        let input = self.field(name).await;
        self.browser
            .property(&input, "value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Chooses `choice` for the select or radio group named `name`; `choice` is an option's
    /// value or its visible label.
    pub async fn choose(&self, name: &str, choice: &str) {
        let option = format!(
            "//select[@name='{name}']/option[@value='{choice}' or normalize-space()='{choice}'] \
             | //input[@type='radio' and @name='{name}' and @value='{choice}'] \
             | //label[normalize-space()='{choice}']/input[@type='radio' and @name='{name}'] \
             | //input[@type='radio' and @name='{name}' and @id=//label[normalize-space()='{choice}']/@for]"
        );
        let el = self.wait_xpath(&option).await;
        self.browser
            .click(&el)
            .await
            .unwrap_or_else(|e| panic!("choose {choice} for {name}: {e}"));
        // A script may re-render the form on change; wait until the choice is what shows.
        self.wait_for(&format!("{name} to be {choice}"), async || {
            let el = self.browser.displayed(Using::XPath, &option).await?;
            self.browser.selected(&el).await.ok()?.then_some(())
        })
        .await
    }

    /// Ticks the checkbox named `name` (and leaves it ticked if it already is).
    pub async fn check(&self, name: &str) {
        let css = format!("input[type=checkbox][name=\"{name}\"]");
        let el = self.wait_css(&css).await;
        if !self.browser.selected(&el).await.unwrap_or(false) {
            self.browser
                .click(&el)
                .await
                .unwrap_or_else(|e| panic!("tick {name}: {e}"));
        }
        self.wait_for(&format!("{name} to be ticked"), async || {
            let el = self.browser.displayed(Using::Css, &css).await?;
            self.browser.selected(&el).await.ok()?.then_some(())
        })
        .await
    }

    /// Clicks the first displayed button or link whose visible text is `text`.
    pub async fn click_button(&self, text: &str) {
        let el = self.wait_xpath(&clickable(text, "")).await;
        self.browser
            .click(&el)
            .await
            .unwrap_or_else(|e| panic!("click {text:?}: {e}"));
    }

    /// Clicks the button or link `action` in the table row that links to `name`.
    pub async fn click_in_row(&self, name: &str, action: &str) {
        let el = self.wait_xpath(&clickable(action, &row_of(name))).await;
        self.browser
            .click(&el)
            .await
            .unwrap_or_else(|e| panic!("click {action:?} for {name}: {e}"));
    }

    /// Answers a `confirm()` dialog with OK when one is open; reports whether one was.
    pub async fn accept_dialog(&self) -> bool {
        self.browser.accept_alert().await.is_ok()
    }

    /// Types `keys` (WebDriver key code points allowed) into the focused element.
    pub async fn type_keys(&self, keys: &str) {
        let focused = self
            .browser
            .active_element()
            .await
            .expect("a focused element");
        self.browser
            .send_keys(&focused, keys)
            .await
            .unwrap_or_else(|e| panic!("type {keys:?}: {e}"));
    }

    /// The `name` attribute (or, lacking one, the id) of the focused element.
    pub async fn focused_name(&self) -> Option<String> {
        let focused = self.browser.active_element().await.ok()?;
        match self
            .browser
            .attribute(&focused, "name")
            .await
            .ok()
            .flatten()
        {
            Some(name) => Some(name),
            None => self.browser.attribute(&focused, "id").await.ok().flatten(),
        }
    }
}

/// ChromeDriver's path, or `None` (with the reason printed) when it is missing locally.
fn chromedriver_path() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CHROMEDRIVER));
    if path.is_file() {
        return Some(path);
    }
    let reason = format!(
        "{} not found: install Debian's chromium and chromium-driver (as .ci/run does) to run the browser tests",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{reason}");
    }
    eprintln!("skipped: {reason}");
    None
}

/// A fresh `target/browser-screenshots/<test>/` folder.
fn screenshot_dir(test: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target folder");
    let dir = target.join("browser-screenshots").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the screenshot folder");
    dir
}

/// XPath of the displayed button or link reading `text`, inside `scope` (an XPath prefix).
fn clickable(text: &str, scope: &str) -> String {
    format!(
        "{scope}//button[normalize-space()='{text}'] \
         | {scope}//a[normalize-space()='{text}'] \
         | {scope}//input[(@type='submit' or @type='button') and @value='{text}']"
    )
}

/// XPath of the table row whose Name column links to `name`.
pub fn row_of(name: &str) -> String {
    format!("//tr[.//a[normalize-space()='{name}']]")
}

/// Collapses runs of whitespace, as a browser renders text.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ChromeDriver on a free port, in its own process group so that dropping it also ends the
/// Chromium it started (ChromeDriver's own exit leaves Chromium running).
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    async fn spawn(path: &Path, logs: &Path) -> ChromeDriver {
        let port = free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                logs.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", path.display()));
        let driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let ready = match http.get(format!("{}/status", driver.url)).send().await {
                Ok(resp) => {
                    resp.json::<Value>()
                        .await
                        .ok()
                        .and_then(|v| v["value"]["ready"].as_bool())
                        == Some(true)
                }
                Err(_) => false,
            };
            if ready {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {} within {WAIT_TIMEOUT:?}",
                driver.url
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group id is ChromeDriver's pid (process_group(0)); Chromium inherits it.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// How a WebDriver command locates elements.
#[derive(Debug, Clone, Copy)]
pub enum Using {
    Css,
    XPath,
}

impl Using {
    fn strategy(self) -> &'static str {
        match self {
            Using::Css => "css selector",
            Using::XPath => "xpath",
        }
    }
}

/// A reference to an element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// An error answered by the WebDriver server (`no such element`, `no such alert`, …).
#[derive(Debug, thiserror::Error)]
#[error("{error}: {message}")]
pub struct WebDriverError {
    pub error: String,
    pub message: String,
}

/// One WebDriver session with a headless Chromium.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    session: String,
}

impl Browser {
    async fn open(driver: &str, profile: &Path) -> Browser {
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_string());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {"binary": binary, "args": args},
        }}});
        let http = reqwest::Client::builder()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .expect("HTTP client");
        let resp = http
            .post(format!("{driver}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new WebDriver session");
        let body: Value = resp.json().await.expect("new session JSON");
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused the session: {body}"))
            .to_string();
        Browser {
            http,
            session: format!("{driver}/session/{id}"),
        }
    }

    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        // Chromedriver wants a JSON body on every POST, even an empty one.
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.map_err(|e| WebDriverError {
            error: "transport".into(),
            message: e.to_string(),
        })?;
        let json: Value = resp.json().await.map_err(|e| WebDriverError {
            error: "decode".into(),
            message: e.to_string(),
        })?;
        let value = json.get("value").cloned().unwrap_or(Value::Null);
        match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(WebDriverError {
                error: error.to_string(),
                message: value["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            }),
            None => Ok(value),
        }
    }

    async fn get(&self, path: &str) -> Result<Value, WebDriverError> {
        self.command(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, WebDriverError> {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    /// Loads `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url}))
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The address of the current page.
    pub async fn current_url(&self) -> Result<String, WebDriverError> {
        Ok(self
            .get("/url")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The rendered text of the whole page.
    pub async fn page_text(&self) -> Result<String, WebDriverError> {
        let body = self.find(Using::Css, "body").await?;
        self.text(&body).await
    }

    /// The first element matching, displayed or not.
    pub async fn find(&self, using: Using, query: &str) -> Result<Element, WebDriverError> {
        let v = self
            .post(
                "/element",
                json!({"using": using.strategy(), "value": query}),
            )
            .await?;
        Ok(element(&v))
    }

    /// Every element matching, in document order.
    pub async fn find_all(
        &self,
        using: Using,
        query: &str,
    ) -> Result<Vec<Element>, WebDriverError> {
        let v = self
            .post(
                "/elements",
                json!({"using": using.strategy(), "value": query}),
            )
            .await?;
        Ok(v.as_array()
            .map(|a| a.iter().map(element).collect())
            .unwrap_or_default())
    }

    /// The first displayed element matching, if any.
    pub async fn displayed(&self, using: Using, query: &str) -> Option<Element> {
        for el in self.find_all(using, query).await.ok()? {
            if self.is_displayed(&el).await.unwrap_or(false) {
                return Some(el);
            }
        }
        None
    }

    /// Whether the element is rendered visibly.
    pub async fn is_displayed(&self, el: &Element) -> Result<bool, WebDriverError> {
        Ok(self
            .get(&format!("/element/{}/displayed", el.0))
            .await?
            .as_bool()
            .unwrap_or(false))
    }

    /// Whether a checkbox, radio button or option is selected.
    pub async fn selected(&self, el: &Element) -> Result<bool, WebDriverError> {
        Ok(self
            .get(&format!("/element/{}/selected", el.0))
            .await?
            .as_bool()
            .unwrap_or(false))
    }

    /// Clicks the element as a user would (scrolled into view, at its centre).
    pub async fn click(&self, el: &Element) -> Result<(), WebDriverError> {
        self.post(&format!("/element/{}/click", el.0), json!({}))
            .await
            .map(drop)
    }

    /// Empties a text field.
    pub async fn clear(&self, el: &Element) -> Result<(), WebDriverError> {
        self.post(&format!("/element/{}/clear", el.0), json!({}))
            .await
            .map(drop)
    }

    /// Types into the element.
    pub async fn send_keys(&self, el: &Element, text: &str) -> Result<(), WebDriverError> {
        self.post(&format!("/element/{}/value", el.0), json!({"text": text}))
            .await
            .map(drop)
    }

    /// The element's rendered text.
    pub async fn text(&self, el: &Element) -> Result<String, WebDriverError> {
        Ok(self
            .get(&format!("/element/{}/text", el.0))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// An attribute of the element as written in the HTML.
    pub async fn attribute(
        &self,
        el: &Element,
        name: &str,
    ) -> Result<Option<String>, WebDriverError> {
        Ok(self
            .get(&format!("/element/{}/attribute/{name}", el.0))
            .await?
            .as_str()
            .map(str::to_string))
    }

    /// A DOM property of the element (`value`, `href` resolved, …).
    pub async fn property(
        &self,
        el: &Element,
        name: &str,
    ) -> Result<Option<String>, WebDriverError> {
        let v = self
            .get(&format!("/element/{}/property/{name}", el.0))
            .await?;
        Ok(match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }

    /// The element that has the keyboard focus.
    pub async fn active_element(&self) -> Result<Element, WebDriverError> {
        Ok(element(&self.get("/element/active").await?))
    }

    /// Answers the open user prompt with OK.
    pub async fn accept_alert(&self) -> Result<(), WebDriverError> {
        self.post("/alert/accept", json!({})).await.map(drop)
    }

    /// Runs a script in the page and returns its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, WebDriverError> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Presses and releases one key (a WebDriver key code point) on the keyboard, wherever
    /// the focus is.
    pub async fn press(&self, key: &str) -> Result<(), WebDriverError> {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key},
        ]}]});
        self.post("/actions", actions).await.map(drop)
    }

    /// The text of the open user prompt (`confirm()`), if one is open.
    pub async fn alert_text(&self) -> Option<String> {
        self.get("/alert/text")
            .await
            .ok()?
            .as_str()
            .map(str::to_string)
    }

    /// The whole page as PNG bytes: the window grows to the page's height first.
    pub async fn screenshot_png(&self) -> Result<Vec<u8>, WebDriverError> {
        // The window is taller than its viewport by the (headless) browser frame.
        let script = "window.scrollTo(0, 0); \
            return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight";
        let height = self.execute(script, vec![]).await?.as_u64().unwrap_or(0);
        let height = height.clamp(1000, 8000);
        self.post("/window/rect", json!({"width": 1280, "height": height}))
            .await?;
        let b64 = self.get("/screenshot").await?;
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .map_err(|e| WebDriverError {
                error: "decode".into(),
                message: e.to_string(),
            })
    }

    /// Ends the session, which closes Chromium.
    async fn quit(&self) {
        let _ = self.command(reqwest::Method::DELETE, "", None).await;
    }
}

/// The element reference inside a WebDriver answer.
fn element(v: &Value) -> Element {
    Element(v[ELEMENT_KEY].as_str().unwrap_or_default().to_string())
}

impl Element {
    /// A JSON argument that a script receives as this DOM element.
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}
