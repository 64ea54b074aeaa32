//! The site server with its generated config.json, the CORS preflight, and stopping the
//! API while the rest keeps running.

mod common;

use std::path::PathBuf;

use common::*;
use local::StackConfig;
use reqwest::StatusCode;

/// A built-site stand-in: index.html and a config.json the stack must override.
fn site_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-stack-site-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>greeting</title>",
    )
    .unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"apiUrl": "https://stale.example"}"#,
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn site_is_served_with_a_config_pointing_at_the_local_stack() {
    let dir = site_dir("config");
    let stack = start(StackConfig {
        site_dir: Some(dir.clone()),
        stage_variables: Default::default(),
        ..config()
    })
    .await;
    let site = stack.site_url().expect("a site URL");
    assert_eq!(
        stack.site_origin(),
        site,
        "siteOrigin defaults to the site's URL"
    );

    let config = read(
        client()
            .get(format!("{site}/config.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(config.status, StatusCode::OK);
    assert_eq!(config.header("content-type"), Some("application/json"));
    // Traces are served on the API's own origin (request-trace), outside the stage.
    let api_url = stack.api_url();
    let (api_origin, _stage) = api_url.rsplit_once('/').unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&config.body).unwrap(),
        serde_json::json!({
            "apiUrl": stack.api_url(),
            "googleClientId": null,
            "localSignInUrl": stack.idp_url(),
            "traceUrl": api_origin,
            "stackName": null,
        })
    );
    let index = read(client().get(format!("{site}/")).send().await.unwrap()).await;
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(index.body, "<!doctype html><title>greeting</title>");
    assert_eq!(index.header("cache-control"), Some("no-cache"));

    // The API's CORS header names the site it serves.
    let answer = hello(&stack, None).await;
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(site.as_str())
    );
    stack.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn every_site_answer_carries_the_deployed_security_headers_with_local_origins() {
    let dir = site_dir("headers");
    let stack = start(StackConfig {
        site_dir: Some(dir.clone()),
        ..config()
    })
    .await;
    let site = stack.site_url().expect("a site URL");
    let api_origin = stack.api_url().replace("/prod", "");
    let idp = stack.idp_url();
    let expected_csp = format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {idp}/client; \
         style-src 'self' {idp}/style; connect-src 'self' {api_origin} {idp}/; \
         frame-src {idp}/; img-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    );
    for (path, status) in [
        ("/", StatusCode::OK),
        ("/config.json", StatusCode::OK),
        ("/missing.js", StatusCode::NOT_FOUND),
    ] {
        let answer = read(client().get(format!("{site}{path}")).send().await.unwrap()).await;
        assert_eq!(answer.status, status, "{path}");
        assert_eq!(
            answer.header("content-security-policy"),
            Some(expected_csp.as_str()),
            "{path}"
        );
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
            (
                "strict-transport-security",
                "max-age=63072000; includeSubDomains",
            ),
            ("cross-origin-opener-policy", "same-origin-allow-popups"),
        ] {
            assert_eq!(answer.header(name), Some(value), "{path} {name}");
        }
    }
    stack.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_site_dir_without_index_html_says_how_to_build_it() {
    let dir = std::env::temp_dir().join(format!("local-stack-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let error = local::start(StackConfig {
        site_dir: Some(dir.clone()),
        ..config()
    })
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{} has no index.html: the site is not built; build it with `cargo xtask demo` (it builds site/dist, then starts this stack)",
            dir.display()
        )
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn preflight_allows_the_site_origin_and_the_authorization_header() {
    let stack = stack().await;
    let response = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/hello", stack.api_url()),
        )
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    let answer = read(response).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "");
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        answer.header("access-control-allow-methods"),
        Some("GET,OPTIONS")
    );
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("Authorization,Content-Type")
    );
    assert_eq!(answer.header("access-control-max-age"), Some("600"));
    assert_eq!(
        stack.authorizer_invocations(),
        0,
        "the preflight is not authorized"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn stopped_api_refuses_connections_while_site_and_identity_provider_keep_answering() {
    let dir = site_dir("stop");
    let stack = start(StackConfig {
        site_dir: Some(dir.clone()),
        ..config()
    })
    .await;
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    // One client throughout: its kept-alive connection must not outlive the stop.
    let client = client();
    let before = client
        .get(format!("{}/hello", stack.api_url()))
        .header("Authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), StatusCode::OK);
    before.text().await.unwrap();

    stack.stop_api().await;

    let error = client
        .get(format!("{}/hello", stack.api_url()))
        .header("Authorization", &token)
        .send()
        .await
        .expect_err("the API is down");
    assert!(error.is_connect(), "{error:?}");
    let site = stack.site_url().unwrap();
    let config = client
        .get(format!("{site}/config.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(config.status(), StatusCode::OK);
    sign_in(&stack, "Jane Doe", "jane@example.com").await;
    stack.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}
