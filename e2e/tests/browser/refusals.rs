//! What the page says when the API refuses the token: expired (401) or not allowed (403).

use local::StackConfig;

use crate::page::Page;

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn expired_token_asks_to_sign_in_again() {
    let mut page = Page::start("expired_token_asks_to_sign_in_again").await;
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
    let cors: Vec<_> = console
        .iter()
        .filter(|e| e.message.contains("CORS") || e.message.contains("Access-Control"))
        .collect();
    assert!(cors.is_empty(), "CORS errors: {cors:#?}");
    // Signing in again is offered.
    page.browser.by_label("button", "Sign in").await.unwrap();
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
        Page::start_with("account_outside_the_allowed_domains_is_forbidden", config).await;
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("forbidden").await;
    page.screenshot("forbidden").await;

    assert_eq!(
        page.message().await,
        "You're signed in, but this account isn't allowed to use this service. Sign out and \
         try another account."
    );
    page.browser.by_label("button", "Sign out").await.unwrap();
    page.finish().await;
}
