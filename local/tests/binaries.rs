//! The real `bootstrap` binaries of `authorizer` and `hello`, each behind a Lambda
//! Runtime API, answering through the emulator exactly as the in-process handlers do.

mod common;

use std::path::PathBuf;

use common::*;
use local::{LambdaMode, StackConfig};
use reqwest::StatusCode;

#[tokio::test]
async fn built_binaries_greet_and_refuse_like_the_in_process_handlers() {
    let (authorizer, hello_bin) = built_binaries();
    let stack = start(StackConfig {
        lambdas: LambdaMode::Binaries {
            authorizer,
            hello: hello_bin,
        },
        allowed_hosted_domains: vec!["example.com".into()],
        ..config()
    })
    .await;
    assert_eq!(stack.lambdas(), "binaries behind a Lambda Runtime API");

    let member = sign_in_with(
        &stack,
        serde_json::json!({"name": "Jane \"JD\" </script> 😀", "email": "jane@example.com", "hd": "example.com"}),
    )
    .await;
    let answer = hello(&stack, Some(&member)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body,
        r#"{"message":"Hello Jane \"JD\" </script> 😀!"}"#
    );
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));

    let answer = hello(&stack, Some(&tamper(&member))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.body, r#"{"message": "Unauthorized"}"#);

    let outsider = sign_in(&stack, "Eve", "eve@gmail.com").await;
    let answer = hello(&stack, Some(&outsider)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.body,
        r#"{"message": "User is not authorized to access this resource with an explicit deny"}"#
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn a_missing_binary_says_how_to_build_it() {
    let error = local::start(StackConfig {
        lambdas: LambdaMode::Binaries {
            authorizer: PathBuf::from("/nonexistent/authorizer"),
            hello: PathBuf::from("/nonexistent/hello"),
        },
        ..config()
    })
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the authorizer binary /nonexistent/authorizer does not exist; build it with `cargo build -p authorizer -p hello --bins`"
    );
}
