//! Every way API Gateway refuses or fails, with its exact status, body and CORS header:
//! the bodies are what openapi.yaml's gateway responses render, with API Gateway's own
//! messages.

mod common;

use common::*;
use local::functions::from_fn;
use local::{FunctionError, LambdaMode, StackConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const UNAUTHORIZED: &str = "Unauthorized";
const EXPLICIT_DENY: &str = "User is not authorized to access this resource with an explicit deny";
const IMPLICIT_DENY: &str = "User is not authorized to access this resource";

fn assert_gateway_response(answer: &Answer, status: StatusCode, message: Option<&str>) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body, gateway_body(message));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
}

#[tokio::test]
async fn missing_or_empty_authorization_is_401_without_calling_the_authorizer() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(fake.config()).await;
    for header in [None, Some(""), Some("   ")] {
        let answer = hello(&stack, header).await;
        assert_gateway_response(&answer, StatusCode::UNAUTHORIZED, Some(UNAUTHORIZED));
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("UnauthorizedException")
        );
    }
    assert_eq!(fake.calls(), 0);
    stack.shutdown().await;
}

#[tokio::test]
async fn header_failing_the_validation_expression_is_401_without_calling_the_authorizer() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(fake.config()).await;
    for header in [
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "a.b",
        "a.b.c.d",
        "Bearer a.b.c extra",
        "a+b.c.d",
    ] {
        let answer = hello(&stack, Some(header)).await;
        assert_gateway_response(&answer, StatusCode::UNAUTHORIZED, Some(UNAUTHORIZED));
    }
    assert_eq!(fake.calls(), 0);
    // The same shape with a JWT does reach it.
    assert_eq!(
        hello(&stack, Some("Bearer a.b.c")).await.status,
        StatusCode::OK
    );
    assert_eq!(fake.calls(), 1);
    stack.shutdown().await;
}

#[tokio::test]
async fn forged_or_expired_token_is_401_from_the_authorizer() {
    let stack = stack().await;
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    let answer = hello(&stack, Some(&tamper(&token))).await;
    assert_gateway_response(&answer, StatusCode::UNAUTHORIZED, Some(UNAUTHORIZED));
    assert_eq!(stack.authorizer_invocations(), 1);

    stack.set_token_lifetime_seconds(-600);
    let expired = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    let answer = hello(&stack, Some(&expired)).await;
    assert_gateway_response(&answer, StatusCode::UNAUTHORIZED, Some(UNAUTHORIZED));
    assert_eq!(stack.authorizer_invocations(), 2);
    stack.shutdown().await;
}

#[tokio::test]
async fn genuine_token_outside_the_allowed_domains_is_403_explicit_deny() {
    let stack = start(StackConfig {
        allowed_hosted_domains: vec!["example.com".into()],
        ..config()
    })
    .await;
    let consumer = sign_in(&stack, "Jane Doe", "jane@gmail.com").await;
    let answer = hello(&stack, Some(&consumer)).await;
    assert_gateway_response(&answer, StatusCode::FORBIDDEN, Some(EXPLICIT_DENY));
    assert_eq!(
        answer.header("x-amzn-errortype"),
        Some("AccessDeniedException")
    );

    let other = sign_in_with(
        &stack,
        json!({"name": "Eve", "email": "eve@evil.com", "hd": "evil.com"}),
    )
    .await;
    let answer = hello(&stack, Some(&other)).await;
    assert_gateway_response(&answer, StatusCode::FORBIDDEN, Some(EXPLICIT_DENY));

    let member = sign_in_with(
        &stack,
        json!({"name": "Jane Doe", "email": "jane@example.com", "hd": "example.com"}),
    )
    .await;
    let answer = hello(&stack, Some(&member)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body, r#"{"message":"Hello Jane Doe!"}"#);
    stack.shutdown().await;
}

#[tokio::test]
async fn policy_without_a_matching_allow_is_403_implicit_deny() {
    let other_route = HELLO_ARN.replace("/GET/hello", "/GET/other");
    for resource in [
        other_route.as_str(),
        "arn:aws:execute-api:us-east-1:123456789012:greetlocal/dev/*/*",
        "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/P?ST/*",
    ] {
        let fake =
            FakeAuthorizer::answering(Ok(policy("Allow", resource, json!({"name": "Jane"}))));
        let stack = start(fake.config()).await;
        let answer = hello(&stack, Some("a.b.c")).await;
        assert_gateway_response(&answer, StatusCode::FORBIDDEN, Some(IMPLICIT_DENY));
        stack.shutdown().await;
    }
}

#[tokio::test]
async fn explicit_deny_wins_over_allow() {
    let mut answer = allow("Jane");
    answer["policyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Action": "execute-api:*", "Effect": "Deny", "Resource": "arn:aws:execute-api:*:*:greetlocal/prod/GE?/hel*"}));
    let fake = FakeAuthorizer::answering(Ok(answer));
    let stack = start(fake.config()).await;
    let answer = hello(&stack, Some("a.b.c")).await;
    assert_gateway_response(&answer, StatusCode::FORBIDDEN, Some(EXPLICIT_DENY));
    stack.shutdown().await;
}

#[tokio::test]
async fn authorizer_failure_or_malformed_answer_is_500_with_null_message() {
    let failure = Err(FunctionError {
        error_type: "AuthorizerFailure".into(),
        error_message: "authorizer failure: no_keys".into(),
    });
    let nested = Ok(policy(
        "Allow",
        HELLO_ARN,
        json!({"name": "Jane", "user": {"id": 1}}),
    ));
    let list = Ok(policy("Allow", HELLO_ARN, json!({"roles": ["a"]})));
    let no_policy = Ok(json!({"principalId": "user-1", "context": {"name": "Jane"}}));
    let no_principal = Ok(json!({"policyDocument": allow("Jane")["policyDocument"]}));
    let not_json_object = Ok(json!("Allow"));
    for answer in [
        failure,
        nested,
        list,
        no_policy,
        no_principal,
        not_json_object,
    ] {
        let fake = FakeAuthorizer::answering(answer.clone());
        let stack = start(fake.config()).await;
        let response = hello(&stack, Some("a.b.c")).await;
        assert_gateway_response(&response, StatusCode::INTERNAL_SERVER_ERROR, None);
        assert_eq!(
            response.header("x-amzn-errortype"),
            Some("AuthorizerConfigurationException"),
            "{answer:?}"
        );
        stack.shutdown().await;
    }
}

#[tokio::test]
async fn a_policy_statement_with_anything_not_evaluated_is_500_even_a_null_condition() {
    // AWS answered `"Condition": null` with 500 AuthorizerConfigurationException
    // (aws/aws-lambda-rust-runtime issue 863); a Condition the emulator would not evaluate,
    // or any other unknown element, is refused the same way, never ignored.
    let allow_with = |key: &str, value: Value| {
        let mut answer = allow("Jane");
        answer["policyDocument"]["Statement"][0][key] = value;
        answer
    };
    for answer in [
        allow_with("Condition", Value::Null),
        allow_with(
            "Condition",
            json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
        ),
        allow_with("Principal", json!("*")),
        allow_with("NotResource", json!("*")),
    ] {
        let fake = FakeAuthorizer::answering(Ok(answer.clone()));
        let stack = start(fake.config()).await;
        let response = hello(&stack, Some("a.b.c")).await;
        assert_gateway_response(&response, StatusCode::INTERNAL_SERVER_ERROR, None);
        assert_eq!(response.body, r#"{"message": null}"#);
        assert_eq!(
            response.header("x-amzn-errortype"),
            Some("AuthorizerConfigurationException"),
            "{answer}"
        );
        assert_eq!(fake.calls(), 1);
        stack.shutdown().await;
    }
}

#[tokio::test]
async fn unknown_route_or_method_is_403_missing_authentication_token() {
    let stack = stack().await;
    let client = client();
    for (method, path) in [
        ("GET", "/nope"),
        ("GET", "/hello/extra"),
        ("POST", "/hello"),
        ("DELETE", "/hello"),
        ("GET", ""),
    ] {
        let url = format!("{}{path}", stack.api_url());
        let response = client
            .request(method.parse().unwrap(), &url)
            .header("Origin", ORIGIN)
            .send()
            .await
            .unwrap();
        let answer = read(response).await;
        assert_gateway_response(
            &answer,
            StatusCode::FORBIDDEN,
            Some("Missing Authentication Token"),
        );
        assert_eq!(
            answer.header("x-amzn-errortype"),
            Some("MissingAuthenticationTokenException"),
            "{method} {path}"
        );
    }
    assert_eq!(stack.authorizer_invocations(), 0);
    stack.shutdown().await;
}

#[tokio::test]
async fn another_stage_is_403_forbidden() {
    let stack = stack().await;
    let url = stack.api_url().replace("/prod", "/dev") + "/hello";
    let answer = read(client().get(url).send().await.unwrap()).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.body, r#"{"message":"Forbidden"}"#);
    stack.shutdown().await;
}

#[tokio::test]
async fn hello_error_becomes_the_mapped_500_with_its_message() {
    let hello_fails = from_fn(|_event: Value| async {
        Err(FunctionError {
            error_type: "InvalidName".into(),
            error_message: "\"name\" is empty; it must be a non-empty string".into(),
        })
    });
    let stack = start(StackConfig {
        lambdas: LambdaMode::Custom {
            authorizer: Some(FakeAuthorizer::answering(Ok(allow(""))).function),
            hello: Some(hello_fails),
        },
        ..config()
    })
    .await;
    let answer = hello(&stack, Some("a.b.c")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.body,
        r#"{"message": "The greeting could not be made.", "detail": "\"name\" is empty; it must be a non-empty string"}"#
    );
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    stack.shutdown().await;
}

#[tokio::test]
async fn real_hello_refuses_a_missing_name_through_the_integration_response() {
    // An authorizer that allows without a name: the template renders "" and hello says why.
    let fake = FakeAuthorizer::answering(Ok(policy("Allow", HELLO_ARN, json!({}))));
    let stack = start(fake.config()).await;
    let answer = hello(&stack, Some("a.b.c")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.json(),
        json!({"message": "The greeting could not be made.", "detail": "\"name\" is empty; it must be a non-empty string"})
    );
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    stack.shutdown().await;
}

#[tokio::test]
async fn a_body_type_without_a_request_template_is_415_as_passthrough_never_says() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(fake.config()).await;
    let get = |content_type: &'static str| {
        client()
            .get(format!("{}/hello", stack.api_url()))
            .header("Authorization", "a.b.c")
            .header("Content-Type", content_type)
            .send()
    };
    let answer = read(get("text/plain").await.unwrap()).await;
    assert_gateway_response(
        &answer,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("Unsupported Media Type"),
    );
    // Parameters don't change the media type.
    let answer = read(get("application/json; charset=utf-8").await.unwrap()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body, r#"{"message":"Hello Jane!"}"#);
    stack.shutdown().await;
}

#[tokio::test]
async fn an_authorizer_whose_key_server_is_down_fails_closed_with_500() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stack = start(StackConfig {
        jwks_url: Some(format!("http://127.0.0.1:{port}/oauth2/v3/certs")),
        ..config()
    })
    .await;
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    let answer = hello(&stack, Some(&format!("Bearer {token}"))).await;
    assert_gateway_response(&answer, StatusCode::INTERNAL_SERVER_ERROR, None);
    assert_eq!(stack.authorizer_invocations(), 1);
    stack.shutdown().await;
}
