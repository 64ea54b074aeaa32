//! Headless Chromium under Debian's `chromedriver`, driven with fantoccini.
//!
//! fantoccini speaks W3C WebDriver; a few things the tests need are chromedriver's own
//! endpoints, which it has no method for, so they go through its
//! [`Client::issue_cmd`](fantoccini::Client::issue_cmd) as a [`SessionCommand`]:
//! the browser's console (`/se/log`, enabled by `goog:loggingPrefs`), DevTools commands
//! through `/goog/cdp/execute` (a script run before each page's own, a phone-sized
//! viewport, a screenshot of the whole page), and an element's accessible name (W3C
//! `computedlabel`).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::{Error, Result};

/// Where Debian puts Chromium; `$CHROMIUM` overrides it.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How long chromedriver may take to listen.
const DRIVER_READY: Duration = Duration::from_secs(20);

/// Chromium's flags: headless, nothing running in the background, nothing resolved but
/// this machine (nothing reaches Google), a fresh profile in `profile`.
pub fn chromium_args(profile: &Path) -> Vec<String> {
    [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1000,800",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

/// The session's capabilities: Chromium at `binary` with [`chromium_args`], and every
/// console line kept for [`Browser::console`].
pub fn capabilities(binary: &str, profile: &Path) -> Capabilities {
    Capabilities::from_iter([
        ("browserName".to_owned(), json!("chrome")),
        (
            "goog:chromeOptions".to_owned(),
            json!({ "binary": binary, "args": chromium_args(profile) }),
        ),
        ("goog:loggingPrefs".to_owned(), json!({ "browser": "ALL" })),
    ])
}

/// A `chromedriver` process on a free port of 127.0.0.1, killed on drop (and the browsers
/// it started with it).
#[derive(Debug)]
pub struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    /// Starts `$CHROMEDRIVER` (default `chromedriver`) and waits until it is ready.
    pub async fn start() -> Result<Self> {
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(Error::NoPort)?
            .port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::StartDriver {
                program: program.clone(),
                source,
            })?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + DRIVER_READY;
        loop {
            let status = match client.get(format!("{}/status", driver.url)).send().await {
                Ok(response) => response.json::<Value>().await.ok(),
                Err(_) => None,
            };
            if status.is_some_and(|s| s["value"]["ready"] == json!(true)) {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                return Err(Error::DriverNotReady {
                    program,
                    port,
                    seconds: DRIVER_READY.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens a fresh headless Chromium (`$CHROMIUM`, default [`DEFAULT_CHROMIUM`]) with its
    /// profile in `profile`.
    pub async fn new_session(&self, profile: &Path) -> Result<Browser> {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| DEFAULT_CHROMIUM.into());
        // Plain HTTP: chromedriver is on 127.0.0.1, so no TLS stack at all.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(&binary, profile))
            .connect(&self.url)
            .await
            .map_err(|source| Error::NewSession { binary, source })?;
        Ok(Browser { client })
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chromedriver endpoint of the current session that fantoccini has no method for:
/// `method` on `/session/{id}/{path}`.
#[derive(Debug)]
pub struct SessionCommand {
    method: http::Method,
    path: String,
    body: Option<Value>,
}

impl SessionCommand {
    /// `GET /session/{id}/{path}`.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: http::Method::GET,
            path: path.into(),
            body: None,
        }
    }

    /// `POST /session/{id}/{path}` with `body`.
    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self {
            method: http::Method::POST,
            path: path.into(),
            body: Some(body),
        }
    }
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        // Only sent on an open session; without one, chromedriver answers "invalid session
        // id", which says what happened.
        let session = session_id.unwrap_or("none");
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

/// One line of the browser's console log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, ...
    pub level: String,
    /// The text, with its source.
    pub message: String,
}

/// chromedriver's answer to `/se/log`: `[{"level", "message", "timestamp", "source"}]`.
pub fn log_entries(value: &Value) -> Result<Vec<LogEntry>> {
    let unexpected = || Error::UnexpectedAnswer {
        command: "POST se/log".into(),
        value: value.clone(),
    };
    value
        .as_array()
        .ok_or_else(unexpected)?
        .iter()
        .map(|entry| {
            Ok(LogEntry {
                level: entry["level"].as_str().ok_or_else(unexpected)?.to_owned(),
                message: entry["message"].as_str().ok_or_else(unexpected)?.to_owned(),
            })
        })
        .collect()
}

/// A browser session.
#[derive(Debug)]
pub struct Browser {
    client: Client,
}

/// Names a failed command.
fn failed(command: impl Into<String>) -> impl FnOnce(fantoccini::error::CmdError) -> Error {
    let command = command.into();
    move |source| Error::Command { command, source }
}

impl Browser {
    /// Loads `url` (and waits for it to load).
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .map_err(failed(format!("goto {url}")))
    }

    /// All elements matching a CSS selector.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map_err(failed(format!("find all {css:?}")))
    }

    /// The element with this `id`.
    pub async fn by_id(&self, id: &str) -> Result<Element> {
        self.client
            .find(Locator::Id(id))
            .await
            .map_err(failed(format!("find #{id}")))
    }

    /// The visible `<tag>` whose accessible name is `name`, as the browser computes it for
    /// assistive technology.
    pub async fn by_label(&self, tag: &str, name: &str) -> Result<Element> {
        let mut seen = Vec::new();
        for element in self.find_all(tag).await? {
            let label = self.label(&element).await?;
            let displayed = element
                .is_displayed()
                .await
                .map_err(failed(format!("is <{tag}> {label:?} displayed")))?;
            if label == name && displayed {
                return Ok(element);
            }
            seen.push(label);
        }
        Err(Error::NoSuchLabel {
            tag: tag.into(),
            name: name.into(),
            seen,
        })
    }

    /// The element's accessible name (W3C WebDriver's Get Computed Label).
    pub async fn label(&self, element: &Element) -> Result<String> {
        let command = format!("element/{}/computedlabel", element.element_id());
        let value = self
            .client
            .issue_cmd(SessionCommand::get(command.clone()))
            .await
            .map_err(failed(format!("GET {command}")))?;
        match value {
            Value::String(label) => Ok(label),
            value => Err(Error::UnexpectedAnswer { command, value }),
        }
    }

    /// Runs JavaScript in the page and returns its result.
    pub async fn execute(&self, script: &str) -> Result<Value> {
        self.execute_with(script, Vec::new()).await
    }

    /// Runs JavaScript with `arguments` and returns its result.
    pub async fn execute_with(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.client
            .execute(script, args)
            .await
            .map_err(failed(format!("execute {script:?}")))
    }

    /// Runs `script` in every page loaded from now on, before the page's own scripts
    /// (DevTools' `Page.addScriptToEvaluateOnNewDocument`).
    pub async fn before_each_page(&self, script: &str) -> Result<()> {
        self.devtools(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": script }),
        )
        .await
        .map(drop)
    }

    /// A DevTools command through chromedriver; its result.
    async fn devtools(&self, cmd: &str, params: Value) -> Result<Value> {
        let command = json!({ "cmd": cmd, "params": params });
        self.client
            .issue_cmd(SessionCommand::post("goog/cdp/execute", command))
            .await
            .map_err(failed(format!("POST goog/cdp/execute {cmd}")))
    }

    /// Lays the page out as a phone of `width` x `height` CSS pixels would (DevTools'
    /// `Emulation.setDeviceMetricsOverride`, mobile: the viewport meta tag applies).
    /// A window resize would not do: Chromium keeps windows wider than small phones.
    pub async fn emulate_phone(&self, width: u32, height: u32) -> Result<()> {
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 2, "mobile": true }),
        )
        .await
        .map(drop)
    }

    /// Presses and releases `key` (a character or a [`fantoccini::key::Key`]) wherever the
    /// focus is, as a keyboard does: no element is targeted.
    pub async fn press(&self, key: impl Into<char>) -> Result<()> {
        let key = key.into();
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client
            .perform_actions(keys)
            .await
            .map_err(failed(format!("press {key:?}")))
    }

    /// Saves a PNG of the whole page, beyond the viewport (DevTools'
    /// `Page.captureScreenshot` clipped to the content's size, as Puppeteer's full-page
    /// screenshots do).
    pub async fn full_page_screenshot(&self, path: &Path) -> Result<()> {
        let metrics = self.devtools("Page.getLayoutMetrics", json!({})).await?;
        let size = &metrics["cssContentSize"];
        let (Some(width), Some(height)) = (size["width"].as_f64(), size["height"].as_f64()) else {
            return Err(Error::UnexpectedAnswer {
                command: "Page.getLayoutMetrics".into(),
                value: metrics,
            });
        };
        let shot = self
            .devtools(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
                }),
            )
            .await?;
        let png = shot["data"]
            .as_str()
            .and_then(|data| base64::engine::general_purpose::STANDARD.decode(data).ok())
            .ok_or_else(|| Error::UnexpectedAnswer {
                command: "Page.captureScreenshot".into(),
                value: json!({ "keys": shot.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()) }),
            })?;
        std::fs::write(path, png).map_err(|source| Error::Save {
            path: path.to_owned(),
            source,
        })
    }

    /// Resizes the browser window (CSS pixels).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.client
            .set_window_size(width, height)
            .await
            .map_err(failed(format!("set window size {width}x{height}")))
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self
            .client
            .screenshot()
            .await
            .map_err(failed("screenshot"))?;
        std::fs::write(path, png).map_err(|source| Error::Save {
            path: path.to_owned(),
            source,
        })
    }

    /// The console lines since the last call (chromedriver's log endpoint).
    pub async fn console(&self) -> Result<Vec<LogEntry>> {
        let value = self
            .client
            .issue_cmd(SessionCommand::post("se/log", json!({ "type": "browser" })))
            .await
            .map_err(failed("POST se/log"))?;
        log_entries(&value)
    }

    /// Closes the browser.
    pub async fn quit(self) -> Result<()> {
        self.client.close().await.map_err(failed("close"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_runs_headless_hermetic_with_a_fresh_profile() {
        let args = chromium_args(Path::new("/tmp/t/profile"));
        for flag in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ] {
            assert!(args.iter().any(|a| a == flag), "{flag} missing: {args:?}");
        }
        assert_eq!(
            args.last().map(String::as_str),
            Some("--user-data-dir=/tmp/t/profile")
        );
    }

    #[test]
    fn capabilities_keep_every_console_line() {
        let capabilities = capabilities("/usr/bin/chromium", Path::new("/p"));
        assert_eq!(
            capabilities["goog:loggingPrefs"],
            json!({ "browser": "ALL" })
        );
        assert_eq!(
            capabilities["goog:chromeOptions"]["binary"],
            json!("/usr/bin/chromium")
        );
        assert_eq!(capabilities["browserName"], json!("chrome"));
    }

    #[test]
    fn log_entries_read_level_and_message() {
        let answer = json!([
            { "level": "SEVERE", "message": "http://x/ - Refused", "source": "security", "timestamp": 1 },
            { "level": "INFO", "message": "hi", "source": "console-api", "timestamp": 2 },
        ]);
        assert_eq!(
            log_entries(&answer).unwrap(),
            [
                LogEntry {
                    level: "SEVERE".into(),
                    message: "http://x/ - Refused".into()
                },
                LogEntry {
                    level: "INFO".into(),
                    message: "hi".into()
                },
            ]
        );
    }

    #[test]
    fn log_entries_refuse_an_answer_of_another_shape() {
        let answer = json!({ "error": "unknown command" });
        let error = log_entries(&answer).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"chromedriver answered POST se/log with {"error":"unknown command"}, not what it documents"#
        );
    }

    #[test]
    fn session_commands_go_to_the_session() {
        let base = url::Url::parse("http://127.0.0.1:9515/").unwrap();
        let command = SessionCommand::post("se/log", json!({ "type": "browser" }));
        assert_eq!(
            command.endpoint(&base, Some("abc")).unwrap().as_str(),
            "http://127.0.0.1:9515/session/abc/se/log"
        );
        assert_eq!(
            command.method_and_body(&base),
            (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
        );
        let label = SessionCommand::get("element/e1/computedlabel");
        assert_eq!(label.method_and_body(&base), (http::Method::GET, None));
    }
}
