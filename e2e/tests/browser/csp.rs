//! The page runs under the Content-Security-Policy that ships, and the recorder every test
//! ends with ([`Page::finish`]) does catch a violation: without this test, a recorder that
//! saw nothing would pass every other one.

use std::time::Duration;

use crate::page::Page;

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn page_runs_under_the_deployed_policy_and_a_violation_would_be_caught() {
    let page =
        Page::start("page_runs_under_the_deployed_policy_and_a_violation_would_be_caught").await;
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
