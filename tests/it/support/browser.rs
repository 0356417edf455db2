//! Real headless Chromium for the end-to-end tests: ChromeDriver as a child process on a free
//! port, the app on `127.0.0.1:0`, a `fantoccini` session, and helpers that fill, click and
//! wait by polling with a deadline. Every step can save a screenshot under
//! `target/browser-screenshots/<test>/`.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::key::Key;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::TestCluster;

/// Where Debian's `chromium-driver` installs ChromeDriver.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Where Debian's `chromium` installs the browser.
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a wait polls before it fails; generous for 2-core CI machines.
const WAIT_TIMEOUT: Duration = Duration::from_secs(45);
/// The pause between two polls of a wait.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How long a page load or a script may take before ChromeDriver gives up on it.
const COMMAND_TIMEOUT_MS: u64 = 60_000;
/// The browser window's width unless a test resizes it; a screenshot keeps the window's
/// width and grows only in height.
const WINDOW_WIDTH_PX: u32 = 1280;
/// The smallest and largest height a full-page screenshot resizes the window to.
const SCREENSHOT_HEIGHT_PX: (u32, u32) = (1000, 8000);

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
    /// The WebDriver session; its last clone ending also ends the session.
    pub browser: Client,
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
        app: impl FnOnce(&TestCluster) -> service_console::front::Front,
    ) -> Option<BrowserTest> {
        BrowserTest::start_with_chromium_args(name, &[], app).await
    }

    /// Like [`BrowserTest::start_serving`], with `extra` Chromium flags.
    pub async fn start_with_chromium_args(
        name: &str,
        extra: &[&str],
        app: impl FnOnce(&TestCluster) -> service_console::front::Front,
    ) -> Option<BrowserTest> {
        let driver_path = chromedriver_path()?;
        let permit = BROWSERS
            .acquire()
            .await
            .expect("the browser semaphore is never closed");
        let shots = screenshot_dir(name);
        let driver = ChromeDriver::spawn(&driver_path, &shots).await;
        let profile = tempfile::tempdir().expect("temporary Chromium profile");
        let browser = open_session(&driver.url, profile.path(), extra).await;

        let cluster = TestCluster::new().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the app's listener");
        let addr: SocketAddr = listener.local_addr().expect("listener address");
        let app = app(&cluster);
        let server = tokio::spawn(async move {
            axum::serve(listener, tower::make::Shared::new(app))
                .await
                .expect("serve the app");
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
        let _ = self.browser.clone().close().await;
        self.server.abort();
    }

    /// Opens a path of the app (`/`, `/services?…`).
    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base_url);
        self.browser
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Saves a screenshot of the page as `NN-<step>.png` and prints where.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let n = self.step.get() + 1;
        self.step.set(n);
        let path = self.shots.join(format!("{n:02}-{step}.png"));
        match self.full_page_png().await {
            Ok(png) => {
                std::fs::write(&path, png).expect("write the screenshot");
                println!("screenshot: {}", path.display());
            }
            Err(e) => println!("screenshot {step} failed: {e}"),
        }
        path
    }

    /// The whole page as PNG bytes: WebDriver captures only the viewport, so the window
    /// grows to the page's height first.
    async fn full_page_png(&self) -> Result<Vec<u8>, CmdError> {
        // The window is taller than its viewport by the (headless) browser frame.
        let script = "window.scrollTo(0, 0); \
            return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight";
        let height = self.browser.execute(script, vec![]).await?.as_u64();
        let (min, max) = SCREENSHOT_HEIGHT_PX;
        let height = height.map_or(min, |h| u32::try_from(h).unwrap_or(max));
        // A test that narrowed the window (to see a narrow layout) keeps its width.
        let width = match self.browser.get_window_size().await {
            Ok((width, _)) => u32::try_from(width).unwrap_or(WINDOW_WIDTH_PX),
            Err(_) => WINDOW_WIDTH_PX,
        };
        self.browser
            .set_window_size(width, height.clamp(min, max))
            .await?;
        self.browser.screenshot().await
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
                let url = match self.browser.current_url().await {
                    Ok(url) => url.to_string(),
                    Err(e) => format!("unknown ({e})"),
                };
                let text = self.page_text().await.unwrap_or_default();
                panic!(
                    "timed out after {WAIT_TIMEOUT:?} waiting for {what}\n  page: {url}\n  screenshot: {}\n  text:\n{text}",
                    shot.display()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The first displayed element `locator` matches, if any.
    pub async fn displayed(&self, locator: Locator<'_>) -> Option<Element> {
        for el in self.browser.find_all(locator).await.ok()? {
            if el.is_displayed().await.unwrap_or(false) {
                return Some(el);
            }
        }
        None
    }

    /// The rendered text of the whole page.
    pub async fn page_text(&self) -> Result<String, CmdError> {
        self.browser.find(Locator::Css("body")).await?.text().await
    }

    /// Waits for the first displayed element matching the CSS selector.
    pub async fn wait_css(&self, css: &str) -> Element {
        self.wait_for(&format!("an element matching `{css}`"), async || {
            self.displayed(Locator::Css(css)).await
        })
        .await
    }

    /// Waits for the first displayed element matching the XPath expression.
    pub async fn wait_xpath(&self, xpath: &str) -> Element {
        self.wait_for(&format!("an element matching `{xpath}`"), async || {
            self.displayed(Locator::XPath(xpath)).await
        })
        .await
    }

    /// Waits until no element matches the XPath expression.
    pub async fn wait_gone(&self, what: &str, xpath: &str) {
        self.wait_for(what, async || {
            let found = self.browser.find_all(Locator::XPath(xpath)).await.ok()?;
            found.is_empty().then_some(())
        })
        .await
    }

    /// Waits until the page's visible text contains `text` (whitespace-insensitive).
    pub async fn wait_text(&self, text: &str) {
        let wanted = squash(text);
        self.wait_for(&format!("the text {text:?}"), async || {
            let page = self.page_text().await.ok()?;
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
        input
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {name}: {e}"));
        input
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {name}: {e}"));
    }

    /// The current value of the field named `name`.
    pub async fn value(&self, name: &str) -> String {
        let input = self.field(name).await;
        input.prop("value").await.ok().flatten().unwrap_or_default()
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
        el.click()
            .await
            .unwrap_or_else(|e| panic!("choose {choice} for {name}: {e}"));
        // A script may re-render the form on change; wait until the choice is what shows.
        self.wait_for(&format!("{name} to be {choice}"), async || {
            let el = self.displayed(Locator::XPath(&option)).await?;
            el.is_selected().await.ok()?.then_some(())
        })
        .await
    }

    /// Ticks the checkbox named `name` (and leaves it ticked if it already is).
    pub async fn check(&self, name: &str) {
        let css = format!("input[type=checkbox][name=\"{name}\"]");
        let el = self.wait_css(&css).await;
        if !el.is_selected().await.unwrap_or(false) {
            el.click()
                .await
                .unwrap_or_else(|e| panic!("tick {name}: {e}"));
        }
        self.wait_for(&format!("{name} to be ticked"), async || {
            let el = self.displayed(Locator::Css(&css)).await?;
            el.is_selected().await.ok()?.then_some(())
        })
        .await
    }

    /// Clicks the first displayed button or link whose visible text is `text`.
    pub async fn click_button(&self, text: &str) {
        let el = self.wait_xpath(&clickable(text, "")).await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {text:?}: {e}"));
    }

    /// Clicks the button or link `action` in the table row that links to `name`.
    pub async fn click_in_row(&self, name: &str, action: &str) {
        let el = self.wait_xpath(&clickable(action, &row_of(name))).await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {action:?} for {name}: {e}"));
    }

    /// Answers a `confirm()` dialog with OK when one is open; reports whether one was.
    pub async fn accept_dialog(&self) -> bool {
        self.browser.accept_alert().await.is_ok()
    }

    /// The text of the open user prompt (`confirm()`), if one is open.
    pub async fn dialog_text(&self) -> Option<String> {
        self.browser.get_alert_text().await.ok()
    }

    /// Presses and releases `key` on the keyboard, wherever the focus is. Unlike typing
    /// into an element, this is what a keyboard user does: nothing is focused first.
    pub async fn press(&self, key: Key) -> Result<(), CmdError> {
        let keyboard = KeyActions::new("keyboard".to_string())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.browser.perform_actions(keyboard).await
    }

    /// Types `keys` into the focused element.
    pub async fn type_keys(&self, keys: &str) {
        let focused = self
            .browser
            .active_element()
            .await
            .expect("a focused element");
        focused
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("type {keys:?}: {e}"));
    }

    /// The `name` attribute (or, lacking one, the id) of the focused element.
    pub async fn focused_name(&self) -> Option<String> {
        let focused = self.browser.active_element().await.ok()?;
        match focused.attr("name").await.ok().flatten() {
            Some(name) => Some(name),
            None => focused.attr("id").await.ok().flatten(),
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

/// A new session with a headless Chromium that uses `profile` as its user data folder.
async fn open_session(driver: &str, profile: &Path, extra: &[&str]) -> Client {
    let mut args: Vec<String> = CHROMIUM_ARGS
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_string());
    let caps: Capabilities = serde_json::from_value(json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        // Tests read and answer confirm() themselves; the default would dismiss it.
        "unhandledPromptBehavior": "ignore",
        // fantoccini has no per-command deadline, so ChromeDriver enforces one.
        "timeouts": {"pageLoad": COMMAND_TIMEOUT_MS, "script": COMMAND_TIMEOUT_MS},
        "goog:chromeOptions": {"binary": binary, "args": args},
    }))
    .expect("the capabilities are a JSON object");
    // fantoccini without its TLS features has no ready-made builder; ChromeDriver is plain
    // HTTP on loopback anyway.
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .unwrap_or_else(|e| panic!("chromedriver refused the session: {e}"))
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
        // ChromeDriver listens only once it is ready, so an accepted connection is the signal;
        // asking for a session any earlier fails with "connection refused".
        let deadline = Instant::now() + WAIT_TIMEOUT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {} within {WAIT_TIMEOUT:?}",
                driver.url
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        driver
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
