//! The authorizer's decision cache: per token, for the TTL (openapi.yaml's 300 s unless
//! overridden), 0 disables it, and a cached policy is evaluated again for each request.
//! Time moves with the injectable clock, never by sleeping.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use local::{Clock, StackConfig};
use reqwest::StatusCode;
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[tokio::test]
async fn authorizer_runs_once_per_token_within_the_ttl_and_again_after_it() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let clock = Clock::default();
    let stack = start(StackConfig {
        clock: clock.clone(),
        ..fake.config()
    })
    .await;

    for _ in 0..20 {
        assert_eq!(hello(&stack, Some("a.b.c")).await.status, StatusCode::OK);
    }
    assert_eq!(fake.calls(), 1);

    // Real time passes too: leave a few seconds' margin on the near side of the TTL.
    clock.advance(Duration::from_secs(295));
    assert_eq!(hello(&stack, Some("a.b.c")).await.status, StatusCode::OK);
    assert_eq!(fake.calls(), 1, "still inside openapi.yaml's 300 s");

    clock.advance(Duration::from_secs(6));
    assert_eq!(hello(&stack, Some("a.b.c")).await.status, StatusCode::OK);
    assert_eq!(fake.calls(), 2, "the TTL has passed");
    assert_eq!(hello(&stack, Some("a.b.c")).await.status, StatusCode::OK);
    assert_eq!(fake.calls(), 2, "cached again");
    stack.shutdown().await;
}

#[tokio::test]
async fn each_token_has_its_own_cache_entry() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(fake.config()).await;
    for token in ["a.b.c", "Bearer a.b.c", "d.e.f", "a.b.c", "d.e.f"] {
        assert_eq!(hello(&stack, Some(token)).await.status, StatusCode::OK);
    }
    assert_eq!(fake.calls(), 3);
    stack.shutdown().await;
}

#[tokio::test]
async fn ttl_zero_calls_the_authorizer_for_every_request() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(StackConfig {
        authorizer_ttl_seconds: Some(0),
        ..fake.config()
    })
    .await;
    for _ in 0..5 {
        assert_eq!(hello(&stack, Some("a.b.c")).await.status, StatusCode::OK);
    }
    assert_eq!(fake.calls(), 5);
    stack.shutdown().await;
}

#[tokio::test]
async fn ttl_override_replaces_the_definitions() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let clock = Clock::default();
    let stack = start(StackConfig {
        authorizer_ttl_seconds: Some(5),
        clock: clock.clone(),
        ..fake.config()
    })
    .await;
    hello(&stack, Some("a.b.c")).await;
    clock.advance(Duration::from_secs(6));
    hello(&stack, Some("a.b.c")).await;
    assert_eq!(fake.calls(), 2);
    stack.shutdown().await;
}

#[tokio::test]
async fn ttl_above_api_gateways_maximum_is_refused() {
    let error = local::start(StackConfig {
        authorizer_ttl_seconds: Some(3601),
        ..config()
    })
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid setting authorizer TTL: 3601 s is more than API Gateway's maximum of 3600 s"
    );
}

#[tokio::test]
async fn refusals_are_not_cached() {
    let stack = stack().await;
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    let forged = tamper(&token);
    for _ in 0..3 {
        assert_eq!(
            hello(&stack, Some(&forged)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(stack.authorizer_invocations(), 3);
    stack.shutdown().await;
}

#[tokio::test]
async fn cached_policy_is_evaluated_again_for_another_resource() {
    // The policy allows GET /hello only; /admin is refused from the cache.
    let fake = FakeAuthorizer::answering(Ok(policy("Allow", HELLO_ARN, json!({"name": "Jane"}))));
    let stack = start(StackConfig {
        definition: Some(fixture("two-routes.yaml")),
        ..fake.config()
    })
    .await;
    let client = client();
    let admin = || async {
        read(
            client
                .get(format!("{}/admin", stack.api_url()))
                .header("Authorization", "a.b.c")
                .send()
                .await
                .unwrap(),
        )
        .await
    };

    let greeting = hello(&stack, Some("a.b.c")).await;
    assert_eq!(greeting.status, StatusCode::OK);
    // The fixture's template also forwards principalId, which hello ignores.
    assert_eq!(greeting.body, r#"{"message":"Hello Jane!"}"#);
    let refused = admin().await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.body,
        r#"{"message":"User is not authorized to access this resource"}"#
    );
    assert_eq!(
        fake.calls(),
        1,
        "the second resource was decided from the cache"
    );

    // With a stage-wide policy the same cached decision admits /admin.
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(StackConfig {
        definition: Some(fixture("two-routes.yaml")),
        ..fake.config()
    })
    .await;
    hello(&stack, Some("a.b.c")).await;
    let admitted = read(
        client
            .get(format!("{}/admin", stack.api_url()))
            .header("Authorization", "a.b.c")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(admitted.status, StatusCode::OK);
    assert_eq!(admitted.body, r#"{"admin": "user-1"}"#);
    assert_eq!(fake.calls(), 1);
    stack.shutdown().await;
}

#[tokio::test]
async fn definitions_ttl_applies_when_not_overridden() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let clock = Clock::default();
    let stack = start(StackConfig {
        definition: Some(fixture("two-routes.yaml")),
        clock: clock.clone(),
        ..fake.config()
    })
    .await;
    hello(&stack, Some("a.b.c")).await;
    clock.advance(Duration::from_secs(55));
    hello(&stack, Some("a.b.c")).await;
    assert_eq!(fake.calls(), 1);
    clock.advance(Duration::from_secs(6));
    hello(&stack, Some("a.b.c")).await;
    assert_eq!(fake.calls(), 2, "the fixture's TTL is 60 s");
    stack.shutdown().await;
}
