//! The built binary, driven through the Lambda Runtime API (testkit's harness) exactly
//! as Lambda drives a `provided.al2023` bootstrap.

use authorizer_contract::UNAUTHORIZED;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::runtime_api::{LambdaProcess, Outcome};

const BINARY: &str = env!("CARGO_BIN_EXE_allow-deny-authorizer");
const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/hello";
const WAIT: Duration = Duration::from_secs(20);

fn event(headers: Value) -> Value {
    let multi_value_headers: serde_json::Map<String, Value> = headers
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), json!([value])))
        .collect();
    json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/hello",
        "path": "/hello",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {"stage": "prod", "requestId": "r-1", "apiId": "abcdef123", "accountId": "123456789012"}
    })
}

fn policy(effect: &str) -> Outcome {
    Outcome::Response(json!({
        "principalId": "user",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": ["execute-api:Invoke"], "Effect": effect, "Resource": [METHOD_ARN]}]
        },
        "context": {"stringKey": "value", "numberKey": 1, "booleanKey": true},
        "usageIdentifierKey": null
    }))
}

fn unauthorized() -> Outcome {
    Outcome::Error {
        error_type: UNAUTHORIZED.into(),
        error_message: UNAUTHORIZED.into(),
    }
}

#[tokio::test]
async fn the_binary_allows_denies_and_refuses() {
    let mut lambda = LambdaProcess::spawn(BINARY, &[]).await;
    let cases = [
        (json!({"AuthorizationToken": "allow"}), policy("Allow")),
        (json!({"authorizationtoken": "deny"}), policy("Deny")),
        (json!({"AuthorizationToken": "maybe"}), unauthorized()),
        (json!({"Accept": "*/*"}), unauthorized()),
    ];
    for (headers, expected) in cases {
        assert_eq!(
            lambda.invoke(event(headers.clone()), WAIT).await,
            expected,
            "{headers}; output:\n{}",
            lambda.output()
        );
    }
}

#[tokio::test]
async fn the_binary_answers_an_event_that_is_not_a_request_event_with_a_server_error() {
    let mut lambda = LambdaProcess::spawn(BINARY, &[]).await;
    // A TOKEN event has no requestContext: it does not deserialize, so the runtime
    // reports an error that is not `Unauthorized` (API Gateway: 500).
    let outcome = lambda
        .invoke(
            json!({"type": "TOKEN", "authorizationToken": "allow", "methodArn": METHOD_ARN}),
            WAIT,
        )
        .await;
    let Outcome::Error {
        error_type,
        error_message,
    } = outcome
    else {
        panic!("expected an error, got {outcome:?}");
    };
    assert_ne!(error_type, UNAUTHORIZED);
    assert_eq!(
        error_message.trim_end(),
        "failed to deserialize the incoming data into the function's payload type: missing field `requestContext` at line 1 column 127"
    );
    // Still serving.
    assert_eq!(
        lambda
            .invoke(event(json!({"AuthorizationToken": "allow"})), WAIT)
            .await,
        policy("Allow")
    );
}
