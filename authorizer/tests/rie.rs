//! The built `authorizer` bootstrap under AWS's own Lambda Runtime Interface Emulator.
//! Needs the emulator: `cargo xtask test` installs it and runs these with `--ignored`,
//! once with cargo's build and once with `sam build`'s arm64 bootstrap under qemu.

use authorizer_contract::UNAUTHORIZED;
use serde_json::json;
use testkit::jwks_server::JwksServer;
use testkit::keys::{PRIMARY, jwks};
use testkit::rie::{Rie, bootstrap, locate};
use testkit::tokens::{CLIENT_ID, google_claims, now, sign};

/// The function's logical ID in template.yaml (where `sam build` puts its bootstrap).
const FUNCTION: &str = "AuthorizerFunction";
const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/hello";

#[tokio::test]
#[ignore = "needs AWS's Runtime Interface Emulator: run through `cargo xtask test`"]
async fn decides_under_the_runtime_interface_emulator() {
    let bootstrap = bootstrap(FUNCTION, env!("CARGO_BIN_EXE_authorizer"));
    let rie = locate(&bootstrap).unwrap();
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let url = server.url();
    let lambda = Rie::start(
        &rie,
        &bootstrap,
        &[("GOOGLE_CLIENT_IDS", CLIENT_ID), ("GOOGLE_JWKS_URL", &url)],
    )
    .await;

    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let allowed = lambda
        .invoke(&json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": METHOD_ARN}))
        .await;
    assert_eq!(
        allowed["policyDocument"]["Statement"][0]["Effect"],
        "Allow",
        "{allowed}\n{}",
        lambda.output()
    );
    assert_eq!(allowed["context"]["name"], "Jane Doe");

    let refused = lambda
        .invoke(
            &json!({"type": "TOKEN", "authorizationToken": "not-a-token", "methodArn": METHOD_ARN}),
        )
        .await;
    assert_eq!(
        refused,
        json!({"errorType": UNAUTHORIZED, "errorMessage": UNAUTHORIZED})
    );
}

#[tokio::test]
#[ignore = "needs AWS's Runtime Interface Emulator: run through `cargo xtask test`"]
async fn reports_a_configuration_error_under_the_runtime_interface_emulator() {
    let bootstrap = bootstrap(FUNCTION, env!("CARGO_BIN_EXE_authorizer"));
    let rie = locate(&bootstrap).unwrap();
    let lambda = Rie::start(&rie, &bootstrap, &[]).await;
    let answer = lambda
        .invoke(&json!({"type": "TOKEN", "authorizationToken": "x", "methodArn": METHOD_ARN}))
        .await;
    assert_eq!(
        answer["errorType"],
        "Runtime.ConfigError",
        "{answer}\n{}",
        lambda.output()
    );
    assert!(
        answer["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("GOOGLE_CLIENT_IDS is not set"),
        "{answer}"
    );
}
