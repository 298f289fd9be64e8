//! A real headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`).
//!
//! [`Browser::start`] runs its own `chromedriver` on a free port with a fresh profile; dropping
//! the [`Browser`] ends both. Set `RELAYDESK_TEST_CHROMEDRIVER` / `RELAYDESK_TEST_CHROMIUM` to
//! use other binaries. Browser tests start with [`Browser::available`]: without the binaries
//! they are skipped with one note on stderr, unless `RELAYDESK_TEST_BROWSER=required` (as CI
//! sets it), which makes a missing browser a failure.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// axe-core, vendored (see tests/vendor/README.md).
const AXE: &str = include_str!("../vendor/axe.min.js");

/// JavaScript reaching into the widget's shadow root.
pub const WIDGET_ROOT: &str = "document.getElementById('relaydesk-widget').shadowRoot";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn driver_bin() -> String {
    std::env::var("RELAYDESK_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

fn chromium_bin() -> String {
    std::env::var("RELAYDESK_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port for chromedriver")
}

impl Browser {
    /// Whether Chromium and ChromeDriver are installed. When they are not: with
    /// `RELAYDESK_TEST_BROWSER=required` this panics; otherwise it writes one note (once per
    /// test binary) and the caller skips its test.
    pub fn available() -> bool {
        let missing: Vec<String> = [driver_bin(), chromium_bin()]
            .into_iter()
            .filter(|bin| !std::path::Path::new(bin).exists())
            .collect();
        if missing.is_empty() {
            return true;
        }
        let install = "apt-get install -y chromium chromium-driver";
        if std::env::var("RELAYDESK_TEST_BROWSER").is_ok_and(|v| v == "required") {
            panic!("the browser tests are required but {missing:?} is missing: {install}");
        }
        static NOTE: std::sync::Once = std::sync::Once::new();
        NOTE.call_once(|| {
            use std::io::Write;
            // Past the harness's capture, so it shows in every run.
            let _ = writeln!(
                std::io::stderr(),
                "note: browser suite skipped: {} not found ({install})",
                missing.join(" and ")
            );
        });
        false
    }

    /// Starts chromedriver and a headless Chromium session. Panics with what to install when
    /// they are missing: browser tests never pass by skipping.
    pub async fn start() -> Browser {
        let driver_bin = driver_bin();
        let chromium_bin = chromium_bin();
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {driver_bin} ({e}): apt-get install -y chromium chromium-driver"
                )
            });
        let profile = tempfile::tempdir().expect("a Chromium profile directory");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium_bin,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("built as an object above"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, "chromedriver not ready yet");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no WebDriver session from {driver_bin} on port {port}: {e}"),
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Waits up to `timeout` for an element matching the CSS selector to exist.
    pub async fn wait_css(&self, css: &str, timeout: Duration) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}` within {timeout:?}: {e}"))
    }

    /// Polls `probe` (a JavaScript expression returning a boolean) until it is true.
    pub async fn wait_js(&self, probe: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let script = format!("return !!({probe});");
            match self.client.execute(&script, vec![]).await {
                Ok(serde_json::Value::Bool(true)) => return,
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(other) => panic!("`{probe}` still {other} after {timeout:?}"),
                Err(e) => panic!("`{probe}` failed: {e}"),
            }
        }
    }

    /// Waits for the widget's launcher on the current page.
    pub async fn wait_for_widget(&self, timeout: Duration) {
        self.wait_js(
            &format!(
                "document.getElementById('relaydesk-widget') && {WIDGET_ROOT}.querySelector('.launcher')"
            ),
            timeout,
        )
        .await;
    }

    /// Opens the widget, gives `name` and sends `text`.
    pub async fn widget_say(&self, name: &str, text: &str) {
        self.client
            .execute(
                &format!(
                    "const r = {WIDGET_ROOT};
                     r.querySelector('.launcher').click();
                     r.querySelector('input.name').value = arguments[0];
                     r.querySelector('form.intro').requestSubmit();
                     r.querySelector('textarea.text').value = arguments[1];
                     r.querySelector('form.compose').requestSubmit();"
                ),
                vec![json!(name), json!(text)],
            )
            .await
            .expect("open the widget and send");
    }

    /// The rules axe-core (vendored, see tests/vendor/README.md) reports as serious or
    /// critical on the open page, each with the elements it found.
    pub async fn serious_violations(&self) -> Vec<String> {
        self.client
            .execute(AXE, vec![])
            .await
            .expect("load axe-core");
        let found = self
            .client
            .execute_async(
                "var done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']}).then(function (r) {
                   done(r.violations
                     .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                     .map(function (v) { return v.id + ': ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', '); }));
                 }, function (e) { done(['axe failed: ' + e]); });",
                vec![],
            )
            .await
            .expect("run axe-core");
        serde_json::from_value(found)
            .unwrap_or_else(|e| vec![format!("unreadable axe result: {e}")])
    }

    /// With `RELAYDESK_SCREENSHOTS=<dir>`, saves the open page as `<dir>/<name>.png` (how the
    /// pictures in docs/console.md are made); otherwise does nothing.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("RELAYDESK_SCREENSHOTS") else {
            return;
        };
        let png = self.client.screenshot().await.expect("screenshot");
        let path = std::path::Path::new(&dir).join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
    }

    /// (the document's width, the window's width): the page scrolls sideways when the first
    /// is larger.
    pub async fn widths(&self) -> (i64, i64) {
        let widths = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .expect("measure");
        (
            widths[0].as_i64().unwrap_or(i64::MAX),
            widths[1].as_i64().unwrap_or(0),
        )
    }

    /// Signs in to the console at `base` (`http://127.0.0.1:port`) and waits for the first
    /// signed-in page.
    pub async fn console_sign_in(&self, base: &str, email: &str, password: &str) {
        let c = &self.client;
        c.goto(&format!("{base}/console"))
            .await
            .expect("open the console");
        self.wait_css("form.sign-in", Duration::from_secs(20)).await;
        for (field, value) in [
            ("input[name=email]", email),
            ("input[name=password]", password),
        ] {
            c.find(Locator::Css(field))
                .await
                .expect("a sign-in field")
                .send_keys(value)
                .await
                .expect("type into the sign-in form");
        }
        c.find(Locator::Css("form.sign-in button[type=submit]"))
            .await
            .expect("the sign-in button")
            .click()
            .await
            .expect("sign in");
        // Signed in once a page with the sign-out form is shown; navigating before that
        // would cancel the form's post and land on the sign-in page again.
        self.wait_css("form[action='/console/sign-out']", Duration::from_secs(20))
            .await;
    }

    /// Types `text` into the open console ticket's reply form and sends it.
    pub async fn console_reply(&self, text: &str) {
        let c = &self.client;
        c.find(Locator::Css("form[data-action=reply] textarea"))
            .await
            .expect("the reply box")
            .send_keys(text)
            .await
            .expect("type the reply");
        c.find(Locator::Css("form[data-action=reply] button[type=submit]"))
            .await
            .expect("the send button")
            .click()
            .await
            .expect("send the reply");
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
