//! With a Google client ID configured, sign-in goes through Google Identity Services (a
//! stand-in: nothing reaches Google).

use e2e::scripts::GIS_STAND_IN_BUTTON;

use crate::page::Page;

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn google_sign_in_goes_through_google_identity_services() {
    let mut page =
        Page::start_with_google("google_sign_in_goes_through_google_identity_services").await;
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
            vec![serde_json::json!(credential)],
        )
        .await
        .unwrap();
    let google_button = page
        .browser
        .by_label("button", GIS_STAND_IN_BUTTON)
        .await
        .unwrap();
    google_button.click().await.unwrap();
    page.wait_for_state("greeting").await;
    page.screenshot("greeting").await;
    assert_eq!(page.message().await, "Hello Grace Hopper!");

    // Signing out also tells Google not to sign the same account in by itself.
    let sign_out = page.browser.by_label("button", "Sign out").await.unwrap();
    sign_out.click().await.unwrap();
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
