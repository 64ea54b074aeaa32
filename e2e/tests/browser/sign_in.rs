//! Signing in with the local form shows the greeting as text; signing out returns.

use crate::page::Page;

/// The name with every character that HTML, JSON or VTL might mangle.
const TRICKY_NAME: &str = r#"O'Brien "Bob" <b>x</b>"#;

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn local_sign_in_shows_the_greeting_as_text() {
    let mut page = Page::start("local_sign_in_shows_the_greeting_as_text").await;
    page.sign_in_locally(TRICKY_NAME, "bob@example.com").await;
    page.wait_for_state("greeting").await;
    page.screenshot("greeting").await;

    assert_eq!(page.message().await, r#"Hello O'Brien "Bob" <b>x</b>!"#);
    // Text, not HTML: no <b> element was made from the name.
    let bold = page.browser.find_all("#status b").await.unwrap();
    assert!(bold.is_empty(), "the greeting was rendered as HTML");
    // The sign-in form is gone; signing out is offered.
    let form = page.browser.by_id("sign-in").await.unwrap();
    assert!(!form.is_displayed().await.unwrap());
    page.browser.by_label("button", "Sign out").await.unwrap();
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn sign_out_returns_to_signed_out() {
    let mut page = Page::start("sign_out_returns_to_signed_out").await;
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("greeting").await;
    assert_eq!(page.message().await, "Hello Jane Doe!");
    page.screenshot("greeting").await;

    let sign_out = page.browser.by_label("button", "Sign out").await.unwrap();
    sign_out.click().await.unwrap();
    page.wait_for_state("signed-out").await;
    page.screenshot("signed-out").await;

    assert_eq!(
        page.message().await,
        "You're signed out. Sign in to get your greeting."
    );
    let sign_out = page.browser.by_id("sign-out").await.unwrap();
    assert!(!sign_out.is_displayed().await.unwrap());
    // Focus moved to the sign-in heading, not lost to <body>.
    let focused = page
        .browser
        .execute("return document.activeElement.id")
        .await
        .unwrap();
    assert_eq!(focused, serde_json::json!("sign-in-heading"));
    page.browser.by_label("button", "Sign in").await.unwrap();
    page.finish().await;
}
