//! REQUEST authorizers through the emulator (real HTTP): the event, the identity
//! sources (each missing -> 401 without invoking when cached), the cache keyed by every
//! source, the TOKEN type beside it, context values as strings, a trailing slash.

mod common;

use std::path::PathBuf;

use common::{FakeAuthorizer, client, policy, read};
use local::{RunningStack, StackConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/request-authorizer.yaml")
}

/// An Allow for the stage with a number and a boolean in the context.
fn fake() -> FakeAuthorizer {
    FakeAuthorizer::answering(Ok(policy(
        "Allow",
        "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/*/*",
        json!({"n": 42, "b": true}),
    )))
}

async fn start(fake: &FakeAuthorizer, ttl: Option<u32>) -> RunningStack {
    let mut config: StackConfig = fake.config();
    config.definition = Some(fixture());
    config.authorizer_ttl_seconds = ttl;
    config
        .stage_variables
        .insert("colour".into(), "blue".into());
    common::start(config).await
}

async fn get(stack: &RunningStack, path: &str, key: Option<&str>) -> common::Answer {
    let mut request = client().get(format!("{}{path}", stack.api_url()));
    if let Some(key) = key {
        request = request.header("X-Key", key);
    }
    read(request.send().await.expect("the API answers")).await
}

const PASSED: &str = r#"{"principalId": "user-1", "n": "42", "b": "true", "path": "/prod/hello", "resource": "/hello"}"#;

#[tokio::test]
async fn the_request_event_is_the_one_api_gateway_sends() {
    let fake = fake();
    let stack = start(&fake, None).await;
    let answer = read(
        client()
            .get(format!("{}/hello?tenant=t1&tenant=t2&x=1", stack.api_url()))
            .header("X-Key", "k1")
            .header("X-Multi", "a")
            .header("X-Multi", "b")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let events = fake.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(
        event["methodArn"],
        "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/hello"
    );
    assert_eq!(event["resource"], "/hello");
    assert_eq!(event["path"], "/hello");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["headers"]["x-key"], "k1");
    assert_eq!(event["headers"]["x-multi"], "b", "headers: the last value");
    assert_eq!(event["multiValueHeaders"]["x-multi"], json!(["a", "b"]));
    assert_eq!(
        event["queryStringParameters"],
        json!({"tenant": "t2", "x": "1"})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"tenant": ["t1", "t2"], "x": ["1"]})
    );
    assert_eq!(event["pathParameters"], json!({}));
    assert_eq!(event["stageVariables"]["colour"], "blue");
    let context = &event["requestContext"];
    assert_eq!(context["path"], "/prod/hello");
    assert_eq!(context["stage"], "prod");
    assert_eq!(context["resourcePath"], "/hello");
    assert_eq!(context["httpMethod"], "GET");
    assert_eq!(context["accountId"], "123456789012");
    assert_eq!(context["apiId"], "greetlocal");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(
        Some(context["requestId"].as_str().unwrap()),
        answer.header("x-amzn-requestid")
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn when_cached_each_missing_or_empty_identity_source_is_401_without_invoking() {
    let fake = fake();
    let stack = start(&fake, None).await;
    let unauthorized = r#"{"message":"Unauthorized"}"#;
    for (path, key) in [
        ("/hello", Some("k1")),     // no tenant
        ("/hello?tenant=t1", None), // no X-Key
        ("/hello?tenant=t1", Some("")),
        ("/hello?tenant=&x=1", Some("k1")),
    ] {
        let answer = get(&stack, path, key).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (StatusCode::UNAUTHORIZED, unauthorized),
            "{path} {key:?}"
        );
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("UnauthorizedException")
        );
    }
    assert_eq!(fake.calls(), 0, "API Gateway does not invoke the function");
    // Both present: invoked, and the identityValidationExpression (^never$) is
    // ignored, as API Gateway ignores it for REQUEST authorizers.
    let answer = get(&stack, "/hello?tenant=t1", Some("k1")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, PASSED)
    );
    assert_eq!(fake.calls(), 1);
    stack.shutdown().await;
}

#[tokio::test]
async fn the_cache_is_keyed_by_every_identity_source() {
    let fake = fake();
    let stack = start(&fake, None).await;
    let cases = [
        ("k1", "t1", 1), // first: invoked
        ("k1", "t1", 1), // the same values: cached
        ("k2", "t1", 2), // another header value
        ("k1", "t2", 3), // another query string value
        ("k2", "t1", 3), // each pair stays cached
        ("k1", "t2", 3),
    ];
    for (key, tenant, calls) in cases {
        let answer = get(&stack, &format!("/hello?tenant={tenant}"), Some(key)).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (StatusCode::OK, PASSED)
        );
        assert_eq!(fake.calls(), calls, "{key} {tenant}");
    }
    assert_eq!(stack.authorizer_invocations(), 3);
    stack.shutdown().await;
}

#[tokio::test]
async fn with_caching_off_a_missing_identity_source_still_invokes_the_function() {
    let fake = fake();
    let stack = start(&fake, Some(0)).await;
    let answer = get(&stack, "/hello", None).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, PASSED)
    );
    let answer = get(&stack, "/hello", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(fake.calls(), 2, "every request invokes it");
    let event: Value = fake.events.lock().unwrap()[0].clone();
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(event["headers"].get("x-key"), None);
    stack.shutdown().await;
}

#[tokio::test]
async fn a_token_authorizer_beside_it_gets_the_token_event_and_strings_in_templates() {
    let fake = fake();
    let stack = start(&fake, None).await;
    let answer = read(
        client()
            .get(format!("{}/token", stack.api_url()))
            .header("Authorization", "tok")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            StatusCode::OK,
            r#"{"principalId": "user-1", "n": "42", "b": "true"}"#
        )
    );
    assert_eq!(
        fake.events.lock().unwrap()[0],
        json!({"type": "TOKEN", "authorizationToken": "tok", "methodArn": "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/token"})
    );
    stack.shutdown().await;
}

/// AWS: `/proxy-value/` reached `/{proxy+}` with `path` keeping the slash (LocalStack's
/// AWS-validated snapshot `invocation-payload-with-trailing-slash`).
#[tokio::test]
async fn a_trailing_slash_reaches_the_resource_and_stays_in_the_path() {
    let fake = fake();
    let stack = start(&fake, None).await;
    let answer = get(&stack, "/hello/?tenant=t1", Some("k1")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            StatusCode::OK,
            r#"{"principalId": "user-1", "n": "42", "b": "true", "path": "/prod/hello/", "resource": "/hello"}"#
        )
    );
    assert_eq!(
        fake.events.lock().unwrap()[0]["methodArn"],
        "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/hello"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn every_response_carries_an_x_amz_apigw_id() {
    let fake = fake();
    let stack = start(&fake, None).await;
    let ok = get(&stack, "/hello?tenant=t1", Some("k1")).await;
    let refused = get(&stack, "/hello", None).await;
    let missing = get(&stack, "/nowhere", None).await;
    let mut ids = Vec::new();
    for answer in [&ok, &refused, &missing] {
        let id = answer.header("x-amz-apigw-id").expect("x-amz-apigw-id");
        assert_eq!(id.len(), 16, "{id}");
        assert!(id.ends_with('='), "{id}");
        assert!(id[..15].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        ids.push(id.to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "one per response");
    stack.shutdown().await;
}

/// API Gateway requires an identity source when caching is on, so `--authorizer-ttl`
/// cannot turn the cache on for a REQUEST authorizer that has none.
#[tokio::test]
async fn a_ttl_override_cannot_cache_a_request_authorizer_without_identity_sources() {
    let yaml = std::fs::read_to_string(fixture())
        .unwrap()
        .replace(
            "identitySource: method.request.header.X-Key, method.request.querystring.tenant",
            "",
        )
        .replace(
            "authorizerResultTtlInSeconds: 300\n        # API",
            "authorizerResultTtlInSeconds: 0\n        # API",
        );
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("request-authorizer-no-source.yaml");
    std::fs::write(&path, yaml).unwrap();
    let fake = fake();
    let mut config = fake.config();
    config.definition = Some(path);
    config.authorizer_ttl_seconds = Some(60);
    let error = local::start(config).await.expect_err("refused");
    assert_eq!(
        error.to_string(),
        "invalid setting authorizer TTL: the REQUEST authorizer ByHeaderAndQuery has no identitySource, which API Gateway requires when caching is on"
    );
}
