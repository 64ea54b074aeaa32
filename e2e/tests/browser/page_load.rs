//! The page loads signed out, quietly, and fits a phone.

use crate::page::Page;

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn page_loads_without_console_errors() {
    let mut page = Page::start("page_loads_without_console_errors").await;
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
        status.attr("aria-live").await.unwrap().as_deref(),
        Some("polite")
    );
    let errors: Vec<_> = page
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
