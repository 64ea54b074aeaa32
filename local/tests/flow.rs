//! The whole flow through real HTTP: sign in at the identity provider, call the API,
//! the production authorizer verifies the token, the request template forwards the
//! name, hello greets.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn signed_in_user_is_greeted_by_name() {
    let stack = stack().await;
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;

    let answer = hello(&stack, Some(&token)).await;

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, r#"{"message":"Hello Jane Doe!"}"#);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(answer.header("x-amzn-requestid").map(str::len), Some(36));
    assert_eq!(stack.authorizer_invocations(), 1);
    stack.shutdown().await;
}

#[tokio::test]
async fn bearer_scheme_in_any_case_and_bare_token_are_accepted() {
    let stack = stack().await;
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    for header in [
        token.clone(),
        format!("Bearer {token}"),
        format!("bearer {token}"),
    ] {
        let answer = hello(&stack, Some(&header)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{header:.20}: {}",
            answer.body
        );
        assert_eq!(answer.body, r#"{"message":"Hello Jane Doe!"}"#);
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn hostile_names_arrive_in_the_greeting_exactly() {
    let stack = stack().await;
    let long: String = "Ab\"\\'<>é😀".chars().cycle().take(2000).collect();
    let names = [
        r#"Jane "JD" O'Brien"#.to_owned(),
        r"back\slash \\ \n \u0041 \'".to_owned(),
        "</script><script>alert(1)</script>".to_owned(),
        "😀 Zoë 李 \u{202e}rtl".to_owned(),
        "line\nbreak\ttab\r\u{2028}\u{7f}".to_owned(),
        "$context.authorizer.name #set($x = 1) ${x} $!{y}".to_owned(),
        long,
    ];
    for name in names {
        let token = sign_in(&stack, &name, "jane@example.com").await;
        let answer = hello(&stack, Some(&token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{name:?}: {}", answer.body);
        assert_eq!(answer.json(), json!({"message": format!("Hello {name}!")}));
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn authorizer_gets_a_token_event_with_a_realistic_method_arn() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(fake.config()).await;

    let answer = hello(&stack, Some("Bearer a.b.c")).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        fake.events.lock().unwrap().as_slice(),
        [json!({"type": "TOKEN", "authorizationToken": "Bearer a.b.c", "methodArn": HELLO_ARN})]
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn context_values_reach_the_template_as_strings() {
    for (value, greeting) in [
        (json!(42), "Hello 42!"),
        (json!(true), "Hello true!"),
        (json!(1.5), "Hello 1.5!"),
        (json!("Jane"), "Hello Jane!"),
    ] {
        let fake =
            FakeAuthorizer::answering(Ok(policy("Allow", HELLO_ARN, json!({"name": value}))));
        let stack = start(fake.config()).await;
        let answer = hello(&stack, Some("a.b.c")).await;
        assert_eq!(answer.status, StatusCode::OK, "{value}: {}", answer.body);
        assert_eq!(answer.json(), json!({"message": greeting}));
        stack.shutdown().await;
    }
}
