//! What the page says when the API does not answer at all.

use crate::page::Page;

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn stopped_api_shows_unreachable() {
    let mut page = Page::start("stopped_api_shows_unreachable").await;
    page.stack.stop_api().await;
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("unreachable").await;
    page.screenshot("unreachable").await;

    assert_eq!(
        page.message().await,
        "We can't reach the greeting service right now. Check your connection, then try again."
    );
    // Still signed in: retrying and signing out are offered.
    page.browser.by_label("button", "Try again").await.unwrap();
    page.browser.by_label("button", "Sign out").await.unwrap();
    page.finish().await;
}
