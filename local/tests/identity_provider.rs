//! The local identity provider: Google-shaped ID tokens, its JWKS with Cache-Control,
//! clear 400s, CORS for the site on the sign-in endpoint only, JSON bodies only (415).

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn segment(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn tokens_are_google_shaped_and_signed_by_the_served_key() {
    let stack = stack().await;
    let token = sign_in(&stack, "Jane Doe", "Jane@Example.com").await;
    let header = segment(&token, 0);
    let claims = segment(&token, 1);

    let certs = read(
        client()
            .get(format!("{}/oauth2/v3/certs", stack.idp_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(certs.status, StatusCode::OK);
    assert_eq!(
        certs.header("cache-control"),
        Some("public, max-age=3600, must-revalidate, no-transform")
    );
    let jwks = certs.json();
    let key = &jwks["keys"][0];
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            key["kty"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert_eq!(key["kid"].as_str().map(str::len), Some(40));

    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(claims["iss"], "https://accounts.google.com");
    assert_eq!(claims["aud"], local::DEFAULT_CLIENT_ID);
    assert_eq!(claims["azp"], local::DEFAULT_CLIENT_ID);
    assert_eq!(claims["sub"], local::idp::subject("jane@example.com"));
    assert_eq!(claims["email"], "Jane@Example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Jane Doe");
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims.get("hd").is_none());

    // The production verifier accepts it with this JWKS and nothing else changed.
    let keys = authorizer::KeySet::from_json(certs.body.as_bytes()).unwrap();
    let config = authorizer::Config::from_lookup(|name| {
        (name == "GOOGLE_CLIENT_IDS").then(|| local::DEFAULT_CLIENT_ID.to_owned())
    })
    .unwrap();
    let verified = authorizer::Verifier::new(&config)
        .verify_with_keys(&token, &keys, claims["iat"].as_u64().unwrap())
        .unwrap();
    assert_eq!(verified.name.as_deref(), Some("Jane Doe"));
    stack.shutdown().await;
}

#[tokio::test]
async fn the_same_email_keeps_its_subject_and_another_gets_another() {
    let stack = stack().await;
    let a = segment(&sign_in(&stack, "Jane", "jane@example.com").await, 1);
    let b = segment(&sign_in(&stack, "Janet", "JANE@example.com").await, 1);
    let c = segment(&sign_in(&stack, "John", "john@example.com").await, 1);
    assert_eq!(a["sub"], b["sub"]);
    assert_ne!(a["sub"], c["sub"]);
    stack.shutdown().await;
}

#[tokio::test]
async fn negative_lifetime_issues_tokens_that_have_already_expired() {
    let stack = stack().await;
    stack.set_token_lifetime_seconds(-120);
    let claims = segment(&sign_in(&stack, "Jane", "jane@example.com").await, 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let exp = claims["exp"].as_i64().unwrap();
    assert!(
        (now - 125..=now - 115).contains(&exp),
        "exp {exp}, now {now}"
    );
    assert_eq!(claims["iat"].as_i64().unwrap(), exp - 3600);
    stack.shutdown().await;
}

#[tokio::test]
async fn sign_in_with_expired_true_mints_a_token_that_expired_an_hour_ago_and_the_api_answers_401()
{
    let stack = stack().await;
    let token = sign_in_with(
        &stack,
        json!({"name": "Jane", "email": "jane@example.com", "expired": true}),
    )
    .await;
    let claims = segment(&token, 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let exp = claims["exp"].as_i64().unwrap();
    assert!(
        (now - 3605..=now - 3595).contains(&exp),
        "exp {exp}, now {now}"
    );
    assert_eq!(claims["iat"].as_i64().unwrap(), exp - 3600);
    assert_eq!(claims["name"], "Jane");

    let answer = hello(&stack, Some(&format!("Bearer {token}"))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), json!({"message": "Unauthorized"}));
    assert_eq!(stack.authorizer_invocations(), 1);

    // `false` is the default: a live token, greeted.
    let live = sign_in_with(
        &stack,
        json!({"name": "Jane", "email": "jane@example.com", "expired": false}),
    )
    .await;
    let answer = hello(&stack, Some(&format!("Bearer {live}"))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json(), json!({"message": "Hello Jane!"}));
    stack.shutdown().await;
}

#[tokio::test]
async fn bad_sign_in_requests_get_a_400_that_says_what_to_send() {
    let stack = stack().await;
    let long_name = "x".repeat(2049);
    let long_email = format!("{}@example.com", "a".repeat(250));
    let cases = [
        (
            "not json".to_owned(),
            "send a JSON object {\"name\": \"Jane Doe\", \"email\": \"jane@example.com\"} (optional \"hd\", \"expired\"): expected ident at line 1 column 2",
        ),
        (
            r#"{"name":"Jane"}"#.to_owned(),
            "send a JSON object {\"name\": \"Jane Doe\", \"email\": \"jane@example.com\"} (optional \"hd\", \"expired\"): missing field `email` at line 1 column 15",
        ),
        (
            json!({"name": "  ", "email": "jane@example.com"}).to_string(),
            "name is empty; type the name to greet",
        ),
        (
            json!({"name": long_name, "email": "jane@example.com"}).to_string(),
            "name is 2049 characters long; at most 2048 are accepted",
        ),
        (
            json!({"name": "Jane", "email": "jane"}).to_string(),
            "email \"jane\" is not an address like jane@example.com",
        ),
        (
            json!({"name": "Jane", "email": "jane@localhost"}).to_string(),
            "email \"jane@localhost\" is not an address like jane@example.com",
        ),
        (
            json!({"name": "Jane", "email": long_email}).to_string(),
            "email is 262 characters long; at most 254 are accepted",
        ),
        (
            json!({"name": "Jane", "email": "jane@example.com", "hd": "not a domain"}).to_string(),
            "hd \"not a domain\" is not a domain like example.com",
        ),
        (
            r#"{"name": "Jane", "email": "jane@example.com", "role": "admin"}"#.to_owned(),
            "send a JSON object {\"name\": \"Jane Doe\", \"email\": \"jane@example.com\"} (optional \"hd\", \"expired\"): unknown field `role`, expected one of `name`, `email`, `hd`, `expired` at line 1 column 52",
        ),
    ];
    for (body, error) in cases {
        let answer = post_sign_in(&stack, &body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.json(), json!({"error": error}), "{body}");
        assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    }
    // 2,000 emoji would make a token past the authorizer's 8 KB limit.
    let emoji = "😀".repeat(2000);
    let answer = post_sign_in(
        &stack,
        &json!({"name": emoji, "email": "jane@example.com"}).to_string(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let error = answer.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.starts_with("the token would be ")
            && error
                .ends_with(" bytes, more than the 8192 the authorizer accepts; use a shorter name"),
        "{error}"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn sign_in_allows_the_site_origin_only() {
    let stack = stack().await;
    let preflight = |origin: &'static str| {
        client()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/sign-in", stack.idp_url()),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = read(preflight(ORIGIN).await.unwrap()).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(allowed.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(
        allowed.header("access-control-allow-headers"),
        Some("content-type")
    );
    let other = read(preflight("http://evil.example").await.unwrap()).await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    stack.shutdown().await;
}

#[tokio::test]
async fn sign_in_that_is_not_declared_json_is_415_and_mints_nothing() {
    // What another site can send without a CORS preflight: text/plain, a form, multipart;
    // and no Content-Type at all.
    let stack = stack().await;
    let body = r#"{"name": "Jane Doe", "email": "jane@example.com"}"#;
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = client()
            .post(format!("{}/sign-in", stack.idp_url()))
            .header("Origin", "http://evil.example")
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let answer = read(request.send().await.unwrap()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(
            answer.body,
            json!({"error": local::idp::NOT_JSON}).to_string(),
            "{content_type:?}"
        );
        assert!(!answer.body.contains("credential"));
        assert_eq!(answer.header("access-control-allow-origin"), None);
    }
    // The same body declared as JSON (with its charset) is a sign-in.
    let answer = read(
        client()
            .post(format!("{}/sign-in", stack.idp_url()))
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.json()["credential"].is_string());
    stack.shutdown().await;
}

#[tokio::test]
async fn a_sign_in_body_over_64_kib_is_413() {
    let stack = stack().await;
    let name = "a".repeat(local::idp::MAX_SIGN_IN_BYTES);
    let answer = post_sign_in(
        &stack,
        &json!({"name": name, "email": "jane@example.com"}).to_string(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    // axum's own refusal (DefaultBodyLimit).
    assert_eq!(
        answer.body,
        "Failed to buffer the request body: length limit exceeded"
    );
    stack.shutdown().await;
}
