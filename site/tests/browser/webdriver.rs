//! Just enough W3C WebDriver to drive headless Chromium through Debian's `chromedriver`:
//! sessions, navigation, elements by CSS id and by accessible name, typing, clicking,
//! screenshots and the browser's console log.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The W3C key naming an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What went wrong, with enough context to read a failure in CI.
pub type Result<T> = std::result::Result<T, String>;

/// A `chromedriver` process on a free local port, killed on drop.
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
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {program}: {e} (install chromium and chromium-driver: \
                     `cargo xtask tools`)"
                )
            })?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = match client.get(format!("{}/status", driver.url)).send().await {
                Ok(response) => response.json::<Value>().await.ok(),
                Err(_) => None,
            };
            if status.is_some_and(|s| s["value"]["ready"] == json!(true)) {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                return Err(format!("{program} did not become ready on port {port}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens a fresh headless Chromium (new profile directory each time).
    pub async fn new_session(&self, profile: &Path) -> Result<Session> {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let args = [
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
            // Hermetic: no host but this machine resolves (nothing reaches Google).
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": binary, "args": args },
                    "goog:loggingPrefs": { "browser": "ALL" },
                }
            }
        });
        let client = reqwest::Client::new();
        let value = call(
            &client,
            reqwest::Method::POST,
            &format!("{}/session", self.url),
            Some(capabilities),
        )
        .await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no sessionId in {value}"))?;
        Ok(Session {
            client,
            base: format!("{}/session/{id}", self.url),
        })
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver command; returns the response's `value`.
async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value> {
    let mut request = client.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("{method} {url}: unreadable answer: {e}"))?;
    if !status.is_success() {
        return Err(format!("{method} {url}: {status}: {}", body["value"]));
    }
    Ok(body["value"].clone())
}

/// A browser session.
pub struct Session {
    client: reqwest::Client,
    base: String,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// One line of the browser's console log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, ...
    pub level: String,
    /// The text, with its source.
    pub message: String,
}

impl Session {
    async fn get(&self, path: &str) -> Result<Value> {
        call(
            &self.client,
            reqwest::Method::GET,
            &format!("{}{path}", self.base),
            None,
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        call(
            &self.client,
            reqwest::Method::POST,
            &format!("{}{path}", self.base),
            Some(body),
        )
        .await
    }

    /// Loads `url`.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    /// All elements matching a CSS selector.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let value = self
            .post(
                "/elements",
                json!({ "using": "css selector", "value": css }),
            )
            .await?;
        Ok(value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned())))
            .collect())
    }

    /// The element with this `id`.
    pub async fn by_id(&self, id: &str) -> Result<Element> {
        self.find_all(&format!("#{id}"))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| format!("no element with id {id:?}"))
    }

    /// The visible `role`-less element (`tag`) whose accessible name is `name`, as the
    /// browser computes it for assistive technology.
    pub async fn by_name(&self, tag: &str, name: &str) -> Result<Element> {
        let mut seen = Vec::new();
        for element in self.find_all(tag).await? {
            let label = self.label(&element).await?;
            if label == name && self.displayed(&element).await? {
                return Ok(element);
            }
            seen.push(label);
        }
        Err(format!(
            "no visible <{tag}> named {name:?} (visible or not: {seen:?})"
        ))
    }

    /// The element's accessible name.
    pub async fn label(&self, element: &Element) -> Result<String> {
        let value = self
            .get(&format!("/element/{}/computedlabel", element.0))
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The element's rendered text.
    pub async fn text(&self, element: &Element) -> Result<String> {
        let value = self.get(&format!("/element/{}/text", element.0)).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// An attribute's value, `None` when absent.
    pub async fn attribute(&self, element: &Element, name: &str) -> Result<Option<String>> {
        let value = self
            .get(&format!("/element/{}/attribute/{name}", element.0))
            .await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// Whether it is shown.
    pub async fn displayed(&self, element: &Element) -> Result<bool> {
        let value = self
            .get(&format!("/element/{}/displayed", element.0))
            .await?;
        Ok(value.as_bool().unwrap_or(false))
    }

    /// Clicks it.
    pub async fn click(&self, element: &Element) -> Result<()> {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .await
            .map(drop)
    }

    /// Replaces a field's text by typing `text`.
    pub async fn type_into(&self, element: &Element, text: &str) -> Result<()> {
        self.post(&format!("/element/{}/clear", element.0), json!({}))
            .await?;
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await
        .map(drop)
    }

    /// Runs JavaScript in the page and returns its result.
    pub async fn execute(&self, script: &str) -> Result<Value> {
        self.execute_with(script, json!([])).await
    }

    /// Runs JavaScript with `arguments` and returns its result.
    pub async fn execute_with(&self, script: &str, args: Value) -> Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs `script` in every page loaded from now on, before the page's own scripts
    /// (Chrome DevTools' `Page.addScriptToEvaluateOnNewDocument`).
    pub async fn before_each_page(&self, script: &str) -> Result<()> {
        let command = json!({
            "cmd": "Page.addScriptToEvaluateOnNewDocument",
            "params": { "source": script },
        });
        self.post("/goog/cdp/execute", command).await.map(drop)
    }

    /// Resizes the browser window (CSS pixels).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .await
            .map(drop)
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let value = self.get("/screenshot").await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .map_err(|e| format!("screenshot is not base64: {e}"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The console lines since the last call (ChromeDriver's log endpoint).
    pub async fn console(&self) -> Result<Vec<LogEntry>> {
        let value = self.post("/se/log", json!({ "type": "browser" })).await?;
        Ok(value
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| LogEntry {
                level: entry["level"].as_str().unwrap_or_default().to_owned(),
                message: entry["message"].as_str().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// Closes the browser.
    pub async fn quit(self) -> Result<()> {
        call(&self.client, reqwest::Method::DELETE, &self.base, None)
            .await
            .map(drop)
    }
}
