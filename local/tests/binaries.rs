//! The real `bootstrap` binaries of `authorizer` and `hello`, each behind a Lambda
//! Runtime API, answering through the emulator exactly as the in-process handlers do.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use local::{LambdaMode, StackConfig};
use reqwest::StatusCode;

/// Builds (or finds up to date) the two binaries in this test's own target directory and
/// profile. `cargo build` is a no-op when they are current, so a stale binary is never
/// tested, whether this runs under `cargo test --workspace` or `cargo test -p local`.
fn built_binaries() -> (PathBuf, PathBuf) {
    // target/<profile>/deps/binaries-<hash>
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let target_dir = profile_dir.parent().expect("target");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--quiet",
            "-p",
            "authorizer",
            "-p",
            "hello",
            "--bins",
            "--target-dir",
        ])
        .arg(target_dir);
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        command.arg("--release");
    }
    let status = command.status().expect("cargo runs");
    assert!(
        status.success(),
        "building the Lambda binaries failed: {status}"
    );
    (profile_dir.join("authorizer"), profile_dir.join("hello"))
}

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
