//! The real `bootstrap` binaries under AWS's own Lambda Runtime Interface Emulator,
//! answering through the emulated API Gateway. Needs the emulator: `cargo xtask test`
//! installs it and runs this with `--ignored`.

mod common;

use common::*;
use local::functions::{AUTHORIZER_FUNCTION, HELLO_FUNCTION};
use local::{LambdaMode, StackConfig};
use reqwest::StatusCode;

#[tokio::test]
#[ignore = "needs AWS's Runtime Interface Emulator: run through `cargo xtask test`"]
async fn binaries_under_the_runtime_interface_emulator_greet_and_refuse() {
    // Cargo's build, or `sam build`'s arm64 bootstraps (what deploys, run under qemu) when
    // `cargo xtask test` points GREETING_STACK_SAM_BUILD at them.
    let (authorizer, hello_bin) = built_binaries();
    let authorizer = local::rie::bootstrap_for(AUTHORIZER_FUNCTION, &authorizer);
    let hello_bin = local::rie::bootstrap_for(HELLO_FUNCTION, &hello_bin);
    let machine = local::rie::Machine::of(&authorizer).unwrap();
    let rie = local::rie::locate_for(None, machine).unwrap();
    let stack = start(StackConfig {
        lambdas: LambdaMode::Rie {
            rie,
            authorizer,
            hello: hello_bin,
        },
        ..config()
    })
    .await;
    assert_eq!(
        stack.lambdas(),
        "binaries under AWS's Runtime Interface Emulator"
    );

    let token = sign_in(&stack, "O'Brien \"Bob\" <b>x</b>", "bob@example.com").await;
    let answer = hello(&stack, Some(&token)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.json(),
        serde_json::json!({"message": "Hello O'Brien \"Bob\" <b>x</b>!"})
    );

    let refused = hello(&stack, Some(&tamper(&token))).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(
        refused.json(),
        serde_json::json!({"message": "Unauthorized"})
    );
    stack.shutdown().await;
}

/// A template function with no handler, built from examples/allow-deny-authorizer's
/// template and run under AWS's emulator (`--lambdas rie`): the same answers.
#[tokio::test]
#[ignore = "needs AWS's Runtime Interface Emulator: run through `cargo xtask test`"]
async fn a_template_function_runs_under_the_runtime_interface_emulator() {
    let (authorizer, hello_bin) = built_binaries();
    let rie = local::rie::locate_for(None, local::rie::Machine::host()).unwrap();
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/allow-deny-authorizer");
    let stack = start(StackConfig {
        lambdas: LambdaMode::Rie {
            rie,
            authorizer,
            hello: hello_bin,
        },
        definition: Some(example.join("openapi.yaml")),
        template: Some(example.join("template.yaml")),
        ..config()
    })
    .await;
    let run = &stack.functions()[0];
    assert!(
        run.how.contains("under AWS's Runtime Interface Emulator"),
        "{}",
        run.how
    );
    let client = client();
    let url = format!("{}/hello", stack.api_url());
    for (token, status, body) in [
        (
            "allow",
            StatusCode::OK,
            r#"{"principalId": "user", "stringKey": "value", "numberKey": "1", "booleanKey": "true"}"#,
        ),
        (
            "deny",
            StatusCode::FORBIDDEN,
            r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#,
        ),
        (
            "maybe",
            StatusCode::UNAUTHORIZED,
            r#"{"message":"Unauthorized"}"#,
        ),
    ] {
        let answer = read(
            client
                .get(&url)
                .header("AuthorizationToken", token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (status, body),
            "{token}"
        );
    }
    stack.shutdown().await;
}
