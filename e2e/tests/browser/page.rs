//! One test's world: the local stack, a browser on the page, an output directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::chrome::{Browser, ChromeDriver, LogEntry};
use e2e::scripts::{CSP_RECORDER, GIS_STAND_IN};
use local::{RunningStack, StackConfig};
use site_config::SiteConfig;

/// The stack name [`Page::start_with_google`]'s config.json names, as a deploy writes it.
pub const DEPLOYED_STACK: &str = "greeting-stack";

/// How long a state may take to appear (the first WASM compile is the slowest).
const WAIT: Duration = Duration::from_secs(20);

pub struct Page {
    pub stack: RunningStack,
    /// The site's server when the test serves it itself (with its own config.json).
    site: Option<(String, tokio::task::JoinHandle<()>)>,
    // Dropped last: kills chromedriver (and so the browser) even when a test fails.
    _driver: ChromeDriver,
    pub browser: Browser,
    out: PathBuf,
    shots: usize,
}

/// The built page; the tests refuse to run without it.
fn dist() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ is in the workspace");
    let dist = workspace.join("site").join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} has no index.html: build the site first with `cargo xtask site`",
        dist.display()
    );
    dist
}

/// `target/screenshots/`: the screenshots a person is meant to look at (the issue's
/// closing note names them), apart from every test's own.
fn screenshots_dir() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp")
        .to_path_buf();
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

/// `target/browser-tests/<test>/`, emptied.
fn output_dir(test: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp")
        .to_path_buf();
    let dir = target.join("browser-tests").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the output directory");
    dir
}

impl Page {
    /// Starts the stack on free ports with the built site, and a browser on its page.
    pub async fn start(test: &str) -> Self {
        Self::start_with(test, StackConfig::default()).await
    }

    /// Like [`Page::start`], with `config`'s other settings.
    pub async fn start_with(test: &str, config: StackConfig) -> Self {
        let out = output_dir(test);
        let config = StackConfig {
            api_port: 0,
            idp_port: 0,
            site_port: 0,
            site_dir: Some(dist()),
            ..config
        };
        let stack = local::start(config).await.expect("start the local stack");
        Self::open(out, stack, None, None).await
    }

    /// Like [`Page::start`], but configured for Google sign-in only, with [`GIS_STAND_IN`]
    /// in place of Google's library. The test serves the site itself (its config.json
    /// names a client ID) and tells the stack its origin for CORS.
    pub async fn start_with_google(test: &str) -> Self {
        let out = output_dir(test);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the site");
        let site_url = format!("http://{}", listener.local_addr().expect("its address"));
        let config = StackConfig {
            api_port: 0,
            idp_port: 0,
            stage_variables: [("siteOrigin".to_owned(), site_url.clone())].into(),
            ..StackConfig::default()
        };
        let stack = local::start(config).await.expect("start the local stack");
        // As deployed: the Google button (the stand-in answers it), no local sign-in, no
        // trace endpoint (the "How it works" view points at the stack's logs instead).
        let config_json =
            SiteConfig::deployed(&stack.api_url(), local::DEFAULT_CLIENT_ID, DEPLOYED_STACK);
        // The deployed site's headers, as the stack's own site server sends them.
        let api_origin = reqwest::Url::parse(&stack.api_url())
            .expect("the API's URL")
            .origin()
            .ascii_serialization();
        let headers = local::site::SecurityHeaders::local(&api_origin, &stack.idp_url())
            .expect("the site's headers from template.yaml");
        let app = local::site::app(&dist(), config_json.to_json(), headers);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self::open(out, stack, Some((site_url, server)), Some(GIS_STAND_IN)).await
    }

    /// A browser on the page, signed out.
    async fn open(
        out: PathBuf,
        stack: RunningStack,
        site: Option<(String, tokio::task::JoinHandle<()>)>,
        before_load: Option<&str>,
    ) -> Self {
        // Display, not Debug: the error says how to install what is missing.
        let driver = ChromeDriver::start()
            .await
            .unwrap_or_else(|e| panic!("start chromedriver: {e}"));
        let browser = driver
            .new_session(&out.join("profile"))
            .await
            .unwrap_or_else(|e| panic!("start headless chromium: {e}"));
        browser
            .before_each_page(CSP_RECORDER)
            .await
            .expect("add the CSP recorder");
        if let Some(script) = before_load {
            browser
                .before_each_page(script)
                .await
                .expect("add the script");
        }
        let page = Self {
            stack,
            site,
            _driver: driver,
            browser,
            out,
            shots: 0,
        };
        let url = page.site_url();
        page.browser.goto(&url).await.expect("open the page");
        page.wait_for_state("signed-out").await;
        page
    }

    pub fn site_url(&self) -> String {
        match &self.site {
            Some((url, _)) => url.clone(),
            None => self
                .stack
                .site_url()
                .expect("the stack serves the site when given site_dir"),
        }
    }

    /// The page's state (`data-state` of `#status`; "not rendered" before the app mounts).
    async fn state(&self) -> String {
        let status = match self.browser.by_id("status").await {
            Ok(status) => status,
            Err(error) => return format!("not rendered ({error})"),
        };
        status
            .attr("data-state")
            .await
            .expect("data-state")
            .unwrap_or_default()
    }

    /// What the status region says.
    pub async fn message(&self) -> String {
        match self.browser.by_id("message").await {
            Ok(message) => message.text().await.expect("text of #message"),
            Err(error) => error.to_string(),
        }
    }

    /// Waits for `state` (polling: the state is an attribute the app sets).
    pub async fn wait_for_state(&self, state: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.state().await;
            if now == state {
                break;
            }
            if Instant::now() > deadline {
                // Also saves the console.
                let violations = self.csp_violations().await;
                let _ = self
                    .browser
                    .screenshot(&self.out.join(format!("timeout-waiting-for-{state}.png")))
                    .await;
                panic!(
                    "the page stayed {now:?} (saying {:?}) instead of becoming {state:?}; CSP \
                     violations: {violations:#?}; see {}",
                    self.message().await,
                    self.out.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot `NN-<state>.png`.
    pub async fn screenshot(&mut self, state: &str) {
        self.shots += 1;
        let path = self.out.join(format!("{:02}-{state}.png", self.shots));
        self.browser.screenshot(&path).await.expect("screenshot");
    }

    /// Saves the whole page as `target/screenshots/<name>.png` and prints the path.
    pub async fn save_screenshot(&self, name: &str) -> PathBuf {
        let path = screenshots_dir().join(format!("{name}.png"));
        self.browser
            .full_page_screenshot(&path)
            .await
            .expect("full-page screenshot");
        println!("screenshot: {}", path.display());
        path
    }

    /// The exact text of the element `id` (`textContent`: every character, no layout).
    pub async fn text_of(&self, id: &str) -> String {
        let text = self
            .browser
            .execute_with(
                "const e = document.getElementById(arguments[0]); return e ? e.textContent : null",
                vec![serde_json::json!(id)],
            )
            .await
            .expect("read textContent");
        match text {
            serde_json::Value::String(text) => text,
            _ => panic!("no element #{id} on the page"),
        }
    }

    /// Opens "How it works" by clicking its summary (found by its accessible name).
    pub async fn open_how_it_works(&self) {
        let summary = self
            .browser
            .by_label("summary", "How it works")
            .await
            .expect("the How it works control");
        summary.click().await.expect("click How it works");
        assert!(
            self.how_it_works_is_open().await,
            "clicking did not open it"
        );
    }

    /// Whether the "How it works" `<details>` is open.
    pub async fn how_it_works_is_open(&self) -> bool {
        self.browser
            .execute("const d = document.getElementById('how-it-works'); return !!(d && d.open)")
            .await
            .expect("read details.open")
            == serde_json::json!(true)
    }

    /// Waits until the view has read the local stack's trace (or failed to).
    pub async fn wait_for_trace(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            let loading = self
                .browser
                .execute(
                    "const d = document.getElementById('how-it-works'); \
                     return !d || d.textContent.includes(\"Reading this request's trace\")",
                )
                .await
                .expect("read the view");
            if loading == serde_json::json!(false) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the page never read the request's trace; see {}",
                self.out.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The console lines since the last call, also appended to `console.log`.
    pub async fn save_console(&self) -> Vec<LogEntry> {
        let entries = self.browser.console().await.expect("read the console");
        let text: String = entries
            .iter()
            .map(|e| format!("{} {}\n", e.level, e.message))
            .collect();
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.out.join("console.log"))
            .expect("console.log");
        file.write_all(text.as_bytes()).expect("write console.log");
        entries
    }

    /// Signs in with the local form as `name`, finding each control by its label.
    pub async fn sign_in_locally(&self, name: &str, email: &str) {
        let b = &self.browser;
        let name_field = b.by_label("input", "Name").await.expect("the Name field");
        name_field.clear().await.expect("clear the name");
        name_field.send_keys(name).await.expect("type the name");
        let email_field = b.by_label("input", "Email").await.expect("the Email field");
        email_field.clear().await.expect("clear the email");
        email_field.send_keys(email).await.expect("type the email");
        let button = b
            .by_label("button", "Sign in")
            .await
            .expect("the Sign in button");
        button.click().await.expect("click Sign in");
    }

    /// The CSP violations: every one the page saw (`securitypolicyviolation`, as
    /// "event: ...") and the console's "... Content Security Policy ..." lines since the
    /// last read of the console ("console: ...", also saved).
    pub async fn csp_violations(&self) -> Vec<String> {
        let seen = self
            .browser
            .execute("return window.cspViolations")
            .await
            .expect("read the recorded violations");
        let mut violations: Vec<String> = seen
            .as_array()
            .expect("the CSP recorder ran before the page")
            .iter()
            .map(|v| format!("event: {}", v.as_str().unwrap_or_default()))
            .collect();
        violations.extend(
            self.save_console()
                .await
                .into_iter()
                .filter(|e| e.message.contains("Content Security Policy"))
                .map(|e| format!("console: {}", e.message)),
        );
        violations
    }

    /// Checks that the page ran without one CSP violation, then closes everything.
    pub async fn finish(self) {
        let violations = self.csp_violations().await;
        assert!(
            violations.is_empty(),
            "the page broke its Content-Security-Policy (template.yaml's \
             SiteResponseHeadersPolicy): {violations:#?}"
        );
        self.close().await;
    }

    pub async fn close(self) {
        self.save_console().await;
        self.browser.quit().await.expect("close the browser");
        // The browser profile is only worth keeping when a test failed.
        let _ = std::fs::remove_dir_all(self.out.join("profile"));
        self.stack.shutdown().await;
        if let Some((_, server)) = self.site {
            server.abort();
        }
    }
}
