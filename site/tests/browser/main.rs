//! Browser tests: the built page (`site/dist`) in headless Chromium, against the local
//! stack with the site and the API on different origins, so CORS is the real thing.
//!
//! They need the release build and Chromium, so they are `#[ignore]`d in a plain
//! `cargo test`; `cargo xtask test` builds the site and runs them:
//!
//! ```sh
//! cargo xtask site
//! cargo test -p site --test browser -- --ignored --test-threads=1
//! ```
//!
//! The site is served with the deployed site's headers (template.yaml's
//! `SiteResponseHeadersPolicy`, read by `local::site`), and every test fails on any
//! Content-Security-Policy violation, so each one also shows that the page works under
//! the policy that ships.
//!
//! Each test saves a screenshot of every state it reaches, and the browser's console,
//! under `target/browser-tests/<test>/`.

mod webdriver;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use local::{RunningStack, StackConfig};
use webdriver::{ChromeDriver, LogEntry, Session};

/// How long a state may take to appear (the first WASM compile is the slowest).
const WAIT: Duration = Duration::from_secs(20);

/// The name with every character that HTML, JSON or VTL might mangle.
const TRICKY_NAME: &str = r#"O'Brien "Bob" <b>x</b>"#;

/// A stand-in for Google Identity Services, put in the page before its own scripts run
/// (so the page does not load Google's): it records what the page asks of
/// `google.accounts.id`, and its button hands `window.testCredential` to the page's
/// callback as Google's does after a sign-in.
const GIS_STAND_IN: &str = r#"
window.gisCalls = { initialize: [], rendered: [], autoSelectDisabled: 0 };
window.google = { accounts: { id: {
  initialize(config) { window.gisCalls.initialize.push(config); },
  renderButton(parent, options) {
    window.gisCalls.rendered.push({ parentId: parent.id, options });
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Sign in with Google (stand-in)";
    button.onclick = () => window.gisCalls.initialize[0].callback(
      { credential: window.testCredential, select_by: "btn" });
    parent.appendChild(button);
  },
  disableAutoSelect() { window.gisCalls.autoSelectDisabled += 1; },
} } };
"#;

/// Put in every page before its own scripts: records each Content-Security-Policy
/// violation the browser reports to the page (the `securitypolicyviolation` event, which
/// the browser fires for every blocked load, inline script or style, and eval).
const CSP_RECORDER: &str = r#"
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} ${e.sample || ""}`.trim()));
"#;

/// One test's world: the local stack, a browser on the page, an output directory.
struct Harness {
    stack: RunningStack,
    /// The site's server when the test serves it itself (with its own config.json).
    site: Option<(String, tokio::task::JoinHandle<()>)>,
    // Dropped last: kills chromedriver (and so the browser) even when a test fails.
    _driver: ChromeDriver,
    browser: Session,
    out: PathBuf,
    shots: usize,
}

/// The built page; the tests refuse to run without it.
fn dist() -> PathBuf {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} has no index.html: build the site first with `cargo xtask site`",
        dist.display()
    );
    dist
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

impl Harness {
    /// Starts the stack on free ports with the built site, and a browser on its page.
    async fn start(test: &str) -> Self {
        Self::start_with(test, StackConfig::default()).await
    }

    /// Like [`Harness::start`], with `config`'s other settings.
    async fn start_with(test: &str, config: StackConfig) -> Self {
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

    /// Like [`Harness::start`], but configured for Google sign-in only, with
    /// [`GIS_STAND_IN`] in place of Google's library. The test serves the site itself
    /// (its config.json names a client ID) and tells the stack its origin for CORS.
    async fn start_with_google(test: &str) -> Self {
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
        let config_json = serde_json::json!({
            "apiUrl": stack.api_url(),
            "googleClientId": local::DEFAULT_CLIENT_ID,
            "localSignInUrl": null,
        });
        // The deployed site's headers, as the stack's own site server sends them.
        let api_origin = reqwest::Url::parse(&stack.api_url())
            .expect("the API's URL")
            .origin()
            .ascii_serialization();
        let headers = local::site::SecurityHeaders::local(&api_origin, &stack.idp_url())
            .expect("the site's headers from template.yaml");
        let app = local::site::app(&dist(), config_json.to_string(), headers);
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
        let driver = ChromeDriver::start().await.expect("start chromedriver");
        let browser = driver
            .new_session(&out.join("profile"))
            .await
            .expect("start headless chromium");
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
        let harness = Self {
            stack,
            site,
            _driver: driver,
            browser,
            out,
            shots: 0,
        };
        let url = harness.site_url();
        harness.browser.goto(&url).await.expect("open the page");
        harness.wait_for_state("signed-out").await;
        harness
    }

    fn site_url(&self) -> String {
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
        self.browser
            .attribute(&status, "data-state")
            .await
            .expect("data-state")
            .unwrap_or_default()
    }

    /// What the status region says.
    async fn message(&self) -> String {
        match self.browser.by_id("message").await {
            Ok(message) => self.browser.text(&message).await.expect("text of #message"),
            Err(error) => error,
        }
    }

    /// Waits for `state`, then saves a screenshot named after it.
    async fn wait_for_state(&self, state: &str) {
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
    async fn screenshot(&mut self, state: &str) {
        self.shots += 1;
        let path = self.out.join(format!("{:02}-{state}.png", self.shots));
        self.browser.screenshot(&path).await.expect("screenshot");
    }

    /// The console lines so far, also appended to `console.log`.
    async fn save_console(&self) -> Vec<LogEntry> {
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

    /// Signs in with the local form as `name`.
    async fn sign_in_locally(&self, name: &str, email: &str) {
        let b = &self.browser;
        let name_field = b.by_name("input", "Name").await.expect("the Name field");
        b.type_into(&name_field, name).await.expect("type the name");
        let email_field = b.by_name("input", "Email").await.expect("the Email field");
        b.type_into(&email_field, email)
            .await
            .expect("type the email");
        let button = b
            .by_name("button", "Sign in")
            .await
            .expect("the Sign in button");
        b.click(&button).await.expect("click Sign in");
    }

    /// Every CSP violation so far: those the page saw (`securitypolicyviolation`) and
    /// the console's "Refused to ... Content Security Policy" lines (also saved).
    async fn csp_violations(&self) -> Vec<String> {
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
    async fn finish(self) {
        let violations = self.csp_violations().await;
        assert!(
            violations.is_empty(),
            "the page broke its Content-Security-Policy (template.yaml's \
             SiteResponseHeadersPolicy): {violations:#?}"
        );
        self.close().await;
    }

    async fn close(self) {
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

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn page_loads_without_console_errors() {
    let mut page = Harness::start("page_loads_without_console_errors").await;
    page.screenshot("signed-out").await;

    assert_eq!(
        page.message().await,
        "You're signed out. Sign in to get your greeting."
    );
    // Only the local form: no Google client ID is configured locally, so Google's
    // script is not loaded at all.
    let scripts = page
        .browser
        .execute("return [...document.scripts].map(s => s.src).filter(s => s.includes('google'))")
        .await
        .unwrap();
    assert_eq!(scripts, serde_json::json!([]));
    let status = page.browser.by_id("status").await.unwrap();
    assert_eq!(
        page.browser
            .attribute(&status, "aria-live")
            .await
            .unwrap()
            .as_deref(),
        Some("polite")
    );
    let errors: Vec<LogEntry> = page
        .save_console()
        .await
        .into_iter()
        .filter(|e| e.level == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors on load: {errors:#?}");

    // On a small phone the card fits the width: nothing scrolls sideways.
    page.browser.set_window_size(360, 740).await.unwrap();
    page.screenshot("signed-out-phone").await;
    let overflow = page
        .browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        )
        .await
        .unwrap();
    assert_eq!(
        overflow,
        serde_json::json!(0),
        "the page scrolls sideways at 360 px"
    );
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn local_sign_in_shows_the_greeting_as_text() {
    let mut page = Harness::start("local_sign_in_shows_the_greeting_as_text").await;
    page.sign_in_locally(TRICKY_NAME, "bob@example.com").await;
    page.wait_for_state("greeting").await;
    page.screenshot("greeting").await;

    assert_eq!(page.message().await, r#"Hello O'Brien "Bob" <b>x</b>!"#);
    // Text, not HTML: no <b> element was made from the name.
    let bold = page.browser.find_all("#status b").await.unwrap();
    assert!(bold.is_empty(), "the greeting was rendered as HTML");
    // The sign-in form is gone; signing out is offered.
    let form = page.browser.by_id("sign-in").await.unwrap();
    assert!(!page.browser.displayed(&form).await.unwrap());
    page.browser.by_name("button", "Sign out").await.unwrap();
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn sign_out_returns_to_signed_out() {
    let mut page = Harness::start("sign_out_returns_to_signed_out").await;
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("greeting").await;
    assert_eq!(page.message().await, "Hello Jane Doe!");
    page.screenshot("greeting").await;

    let sign_out = page.browser.by_name("button", "Sign out").await.unwrap();
    page.browser.click(&sign_out).await.unwrap();
    page.wait_for_state("signed-out").await;
    page.screenshot("signed-out").await;

    assert_eq!(
        page.message().await,
        "You're signed out. Sign in to get your greeting."
    );
    let sign_out = page.browser.by_id("sign-out").await.unwrap();
    assert!(!page.browser.displayed(&sign_out).await.unwrap());
    // Focus moved to the sign-in heading, not lost to <body>.
    let focused = page
        .browser
        .execute("return document.activeElement.id")
        .await
        .unwrap();
    assert_eq!(focused, serde_json::json!("sign-in-heading"));
    page.browser.by_name("button", "Sign in").await.unwrap();
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn expired_token_asks_to_sign_in_again() {
    let mut page = Harness::start("expired_token_asks_to_sign_in_again").await;
    // The identity provider now issues tokens that expired an hour ago.
    page.stack.set_token_lifetime_seconds(-3600);
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("expired").await;
    page.screenshot("expired").await;

    assert_eq!(
        page.message().await,
        "Your sign-in has expired or was not accepted. Please sign in again."
    );
    // The page read the 401 (CORS headers on API Gateway's own answer), so the browser
    // reported no CORS failure.
    let console = page.save_console().await;
    let cors: Vec<&LogEntry> = console
        .iter()
        .filter(|e| e.message.contains("CORS") || e.message.contains("Access-Control"))
        .collect();
    assert!(cors.is_empty(), "CORS errors: {cors:#?}");
    // Signing in again is offered.
    page.browser.by_name("button", "Sign in").await.unwrap();
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn account_outside_the_allowed_domains_is_forbidden() {
    // Only example.org's Workspace accounts may be greeted; the local sign-in's token has
    // no such domain, so the authorizer denies it: a 403, not a 401.
    let config = StackConfig {
        allowed_hosted_domains: vec!["example.org".to_owned()],
        ..StackConfig::default()
    };
    let mut page =
        Harness::start_with("account_outside_the_allowed_domains_is_forbidden", config).await;
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("forbidden").await;
    page.screenshot("forbidden").await;

    assert_eq!(
        page.message().await,
        "You're signed in, but this account isn't allowed to use this service. Sign out and \
         try another account."
    );
    page.browser.by_name("button", "Sign out").await.unwrap();
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn stopped_api_shows_unreachable() {
    let mut page = Harness::start("stopped_api_shows_unreachable").await;
    page.stack.stop_api().await;
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("unreachable").await;
    page.screenshot("unreachable").await;

    assert_eq!(
        page.message().await,
        "We can't reach the greeting service right now. Check your connection, then try again."
    );
    // Still signed in: retrying and signing out are offered.
    page.browser.by_name("button", "Try again").await.unwrap();
    page.browser.by_name("button", "Sign out").await.unwrap();
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn google_sign_in_goes_through_google_identity_services() {
    let mut page =
        Harness::start_with_google("google_sign_in_goes_through_google_identity_services").await;
    page.screenshot("signed-out").await;

    // The page initialised Google's library with the client ID and a callback, drew the
    // button in its place, and offers no local form.
    let calls = page
        .browser
        .execute(
            "const c = window.gisCalls; return { clientIds: c.initialize.map(i => i.client_id), \
             callback: typeof c.initialize[0].callback, parents: c.rendered.map(r => r.parentId) }",
        )
        .await
        .unwrap();
    assert_eq!(
        calls,
        serde_json::json!({
            "clientIds": [local::DEFAULT_CLIENT_ID],
            "callback": "function",
            "parents": ["google-sign-in"],
        })
    );
    assert!(
        page.browser
            .find_all("#local-sign-in")
            .await
            .unwrap()
            .is_empty()
    );

    // Google hands the page an ID token (here: one from the local identity provider,
    // signed for the same client ID); the page takes the same path as after local sign-in.
    let credential = reqwest::Client::new()
        .post(format!("{}/sign-in", page.stack.idp_url()))
        .json(&serde_json::json!({ "name": "Grace Hopper", "email": "grace@example.com" }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    page.browser
        .execute_with(
            "window.testCredential = arguments[0];",
            serde_json::json!([credential]),
        )
        .await
        .unwrap();
    let google_button = page
        .browser
        .by_name("button", "Sign in with Google (stand-in)")
        .await
        .unwrap();
    page.browser.click(&google_button).await.unwrap();
    page.wait_for_state("greeting").await;
    page.screenshot("greeting").await;
    assert_eq!(page.message().await, "Hello Grace Hopper!");

    // Signing out also tells Google not to sign the same account in by itself.
    let sign_out = page.browser.by_name("button", "Sign out").await.unwrap();
    page.browser.click(&sign_out).await.unwrap();
    page.wait_for_state("signed-out").await;
    page.screenshot("signed-out-again").await;
    let disabled = page
        .browser
        .execute("return window.gisCalls.autoSelectDisabled")
        .await
        .unwrap();
    assert_eq!(disabled, serde_json::json!(1));
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn page_runs_under_the_deployed_policy_and_a_violation_would_be_caught() {
    let page =
        Harness::start("page_runs_under_the_deployed_policy_and_a_violation_would_be_caught").await;
    // The page is served with template.yaml's policy (local origins substituted) ...
    let response = reqwest::get(page.site_url()).await.unwrap();
    let policy = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        policy.starts_with("default-src 'none'; script-src 'self' 'wasm-unsafe-eval' "),
        "{policy}"
    );
    // ... and it loaded, rendered and started the WASM under it without a violation.
    assert_eq!(page.csp_violations().await, Vec::<String>::new());

    // What the policy forbids is caught: an inline script, an inline style attribute,
    // a request to a host the policy does not name.
    page.browser
        .execute(
            "const s = document.createElement('script'); s.textContent = 'window.ran = 1'; \
             document.head.append(s); \
             document.body.setAttribute('style', 'color: red'); \
             fetch('http://127.0.0.1:9/exfiltrate').catch(() => {}); \
             return true",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ran = page
        .browser
        .execute("return window.ran === 1")
        .await
        .unwrap();
    assert_eq!(ran, serde_json::json!(false), "the inline script ran");
    let violations = page.csp_violations().await;
    let events: Vec<&str> = violations
        .iter()
        .filter_map(|v| v.strip_prefix("event: "))
        .collect();
    assert_eq!(
        events,
        [
            "script-src-elem blocked inline",
            "style-src-attr blocked inline",
            "connect-src blocked http://127.0.0.1:9/exfiltrate",
        ]
    );
    // Chrome's console says the same (and fetch adds a line of its own).
    let console: Vec<&str> = violations
        .iter()
        .filter_map(|v| v.strip_prefix("console: "))
        .collect();
    assert_eq!(console.len(), 4, "{violations:#?}");
    for refused in [
        "Executing inline script violates the following Content Security Policy directive \
         'script-src 'self' 'wasm-unsafe-eval' ",
        "Applying inline style violates the following Content Security Policy directive \
         'style-src 'self' ",
        "Connecting to 'http://127.0.0.1:9/exfiltrate' violates the following Content \
         Security Policy directive: \"connect-src 'self' ",
    ] {
        assert_eq!(
            console.iter().filter(|line| line.contains(refused)).count(),
            1,
            "{refused}: {console:#?}"
        );
    }
    page.close().await;
}
