//! examples/allow-deny-authorizer run by the emulator: its own openapi.yaml (a REQUEST
//! authorizer on the header AuthorizationToken, TTL 0, a MOCK integration) and its
//! function `AllowDenyAuthorizerFunction` (template.yaml) registered in process, or,
//! with no handler registered, built from the template and run as a binary.

mod common;

use std::path::PathBuf;

use common::{client, read};
use local::{Error, FunctionRegistry, RunningStack, StackConfig};
use reqwest::StatusCode;

const FUNCTION: &str = "AllowDenyAuthorizerFunction";

fn example(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/allow-deny-authorizer")
        .join(file)
}

fn example_config() -> StackConfig {
    StackConfig {
        definition: Some(example("openapi.yaml")),
        template: Some(example("template.yaml")),
        functions: FunctionRegistry::default().with(
            FUNCTION,
            local::functions::request_authorizer(allow_deny_authorizer::function_handler),
        ),
        ..common::config()
    }
}

async fn hello(stack: &RunningStack, token: Option<&str>) -> common::Answer {
    let mut request = client().get(format!("{}/hello", stack.api_url()));
    if let Some(token) = token {
        request = request.header("AuthorizationToken", token);
    }
    read(request.send().await.expect("the API answers")).await
}

#[tokio::test]
async fn allow_is_200_with_what_the_authorizer_passed_on_as_strings() {
    let stack = common::start(example_config()).await;
    let answer = hello(&stack, Some("allow")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            StatusCode::OK,
            r#"{"principalId": "user", "stringKey": "value", "numberKey": "1", "booleanKey": "true"}"#
        )
    );
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(stack.authorizer_invocations(), 1);
    stack.shutdown().await;
}

#[tokio::test]
async fn deny_is_403_with_api_gateways_explicit_deny_body() {
    let stack = common::start(example_config()).await;
    let answer = hello(&stack, Some("deny")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            StatusCode::FORBIDDEN,
            r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#
        )
    );
    assert_eq!(
        answer.header("x-amzn-errortype"),
        Some("AccessDeniedException")
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn any_other_value_is_401() {
    let stack = common::start(example_config()).await;
    for token in ["maybe", "Allow", "allowed"] {
        let answer = hello(&stack, Some(token)).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#),
            "{token:?}"
        );
    }
    stack.shutdown().await;
}

/// TTL 0: API Gateway does not require the identity source, so the function is invoked
/// without the header and answers Unauthorized (API_Authorizer.html, identitySource).
#[tokio::test]
async fn a_missing_header_invokes_the_function_with_caching_off_and_is_401() {
    let stack = common::start(example_config()).await;
    let answer = hello(&stack, None).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(stack.authorizer_invocations(), 1, "invoked, not refused");
    stack.shutdown().await;
}

/// No handler registered: the function is built from its template (`CodeUri: ../..`,
/// `Binary: allow-deny-authorizer`) and its binary answers through a Lambda Runtime API,
/// exactly as the handler does in process.
#[tokio::test]
async fn with_no_handler_registered_the_templates_built_binary_allows_denies_and_refuses() {
    let stack = common::start(StackConfig {
        functions: FunctionRegistry::default(),
        ..example_config()
    })
    .await;
    let run = stack
        .functions()
        .iter()
        .find(|f| f.name == FUNCTION)
        .expect("listed");
    assert!(
        run.how.starts_with("binary ")
            && run.how.contains("/debug/allow-deny-authorizer behind a Lambda Runtime API (from ")
            && run.how.contains(
                "cargo build -p allow-deny-authorizer --bin allow-deny-authorizer; timeout 3 s, 128 MB"
            ),
        "{}",
        run.how
    );

    let answer = hello(&stack, Some("allow")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            StatusCode::OK,
            r#"{"principalId": "user", "stringKey": "value", "numberKey": "1", "booleanKey": "true"}"#
        )
    );
    let answer = hello(&stack, Some("deny")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            StatusCode::FORBIDDEN,
            r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#
        )
    );
    for token in [Some("maybe"), None] {
        let answer = hello(&stack, token).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#),
            "{token:?}"
        );
    }
    assert_eq!(stack.authorizer_invocations(), 4);
    stack.shutdown().await;
}

#[tokio::test]
async fn a_function_neither_registered_nor_in_the_template_stops_the_start_naming_it() {
    let root_template = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let config = StackConfig {
        functions: FunctionRegistry::default(),
        template: Some(root_template.clone()),
        ..example_config()
    };
    let Err(Error::UnknownFunction(message)) = local::start(config).await else {
        panic!("started");
    };
    assert_eq!(
        message,
        format!(
            "the API definition invokes {FUNCTION}, which is neither a registered handler (AuthorizerFunction, HelloFunction) nor a function of {}",
            root_template.display()
        )
    );
}
