//! The built `authorizer` binary, driven through the Lambda Runtime API exactly as
//! Lambda drives a `provided.al2023` bootstrap.

use authorizer_contract::UNAUTHORIZED;
use std::time::Duration;

use serde_json::json;
use testkit::jwks_server::JwksServer;
use testkit::keys::{ATTACKER, PRIMARY, jwks};
use testkit::runtime_api::{LambdaProcess, Outcome};
use testkit::tokens::{
    CLIENT_ID, SERVICE_ACCOUNT_ID, assemble, google_claims, now, service_account_claims, sign,
};

const BINARY: &str = env!("CARGO_BIN_EXE_authorizer");
const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/hello";
const WAIT: Duration = Duration::from_secs(20);

/// The built authorizer, configured for the test client ID and the keys at `jwks_url`.
async fn authorizer_with_keys_at(jwks_url: &str) -> LambdaProcess {
    LambdaProcess::spawn(
        BINARY,
        &[
            ("GOOGLE_CLIENT_IDS", CLIENT_ID),
            ("GOOGLE_JWKS_URL", jwks_url),
        ],
    )
    .await
}

fn event(token: &str) -> serde_json::Value {
    json!({"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN})
}

#[tokio::test]
async fn allows_a_valid_token_and_refuses_a_bad_one() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let url = server.url();
    let mut lambda = authorizer_with_keys_at(&url).await;
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));

    let Outcome::Response(allowed) = lambda.invoke(event(&token), WAIT).await else {
        panic!("no response; output:\n{}", lambda.output());
    };
    assert_eq!(allowed["principalId"], "110169484474386276334");
    assert_eq!(allowed["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(
        allowed["policyDocument"]["Statement"][0]["Resource"][0],
        "arn:aws:execute-api:us-east-1:123456789012:api/prod/*/*"
    );
    assert_eq!(allowed["context"]["name"], "Jane Doe");

    // Change one character in the middle of the signature.
    let mut tampered = token.clone().into_bytes();
    let i = tampered.len() - 20;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        lambda.invoke(event(&tampered), WAIT).await,
        Outcome::Error {
            error_type: UNAUTHORIZED.into(),
            error_message: UNAUTHORIZED.into()
        }
    );
    assert_eq!(
        lambda.invoke(event("garbage"), WAIT).await,
        Outcome::Error {
            error_type: UNAUTHORIZED.into(),
            error_message: UNAUTHORIZED.into()
        }
    );
    // Keys were fetched once, at init.
    assert_eq!(server.fetches(), 1);

    let logs = lambda.output();
    assert!(!logs.contains(&token[..]), "a whole token was logged");
    assert!(
        !logs.contains(token.split('.').nth(2).unwrap()),
        "a token signature was logged"
    );
    let decisions: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["fields"]["decision"].is_string())
        .collect();
    assert_eq!(
        decisions.len(),
        3,
        "one JSON log line per decision:\n{logs}"
    );
    assert_eq!(decisions[0]["fields"]["decision"], "allow");
    assert_eq!(decisions[0]["fields"]["kid"], PRIMARY.kid);
    assert_eq!(
        decisions[0]["fields"]["token"],
        authorizer::token_fingerprint(&token)
    );
    assert_eq!(decisions[1]["fields"]["reason"], "bad_signature");
    assert_eq!(decisions[2]["fields"]["reason"], "malformed");
}

/// The `fields` of every JSON decision line in `logs`.
fn decisions(logs: &str) -> Vec<serde_json::Value> {
    logs.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["fields"]["decision"].is_string())
        .map(|l| l["fields"].clone())
        .collect()
}

/// What API Gateway turns into a 401.
fn unauthorized() -> Outcome {
    Outcome::Error {
        error_type: UNAUTHORIZED.into(),
        error_message: UNAUTHORIZED.into(),
    }
}

#[tokio::test]
async fn no_log_level_prints_the_token_even_at_trace() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let url = server.url();
    // AWS_LAMBDA_LOG_LEVEL wins over RUST_LOG: each is tried on its own, and both.
    for levels in [
        &[("AWS_LAMBDA_LOG_LEVEL", "TRACE")][..],
        &[("RUST_LOG", "trace")][..],
        &[("AWS_LAMBDA_LOG_LEVEL", "TRACE"), ("RUST_LOG", "trace")][..],
    ] {
        let mut env = vec![("GOOGLE_CLIENT_IDS", CLIENT_ID), ("GOOGLE_JWKS_URL", &url)];
        env.extend_from_slice(levels);
        let mut lambda = LambdaProcess::spawn(BINARY, &env).await;
        let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
        let Outcome::Response(allowed) =
            lambda.invoke(event(&format!("Bearer {token}")), WAIT).await
        else {
            panic!("no response; output:\n{}", lambda.output());
        };
        assert_eq!(allowed["policyDocument"]["Statement"][0]["Effect"], "Allow");

        let logs = lambda.output();
        let payload = token.split('.').nth(1).unwrap();
        assert!(
            !logs.contains(&token[..]),
            "{levels:?}: the token was logged"
        );
        assert!(
            !logs.contains(payload),
            "{levels:?}: the token's payload was logged"
        );
        // TRACE is really on (the fetch of the keys logs below INFO) ...
        assert!(
            logs.lines()
                .any(|l| l.contains(r#""level":"TRACE""#) || l.contains(r#""level":"DEBUG""#)),
            "{levels:?}: nothing below INFO was logged:\n{logs}"
        );
        // ... and the decision is there.
        let decisions = decisions(&logs);
        assert_eq!(decisions.len(), 1, "{levels:?}:\n{logs}");
        assert_eq!(decisions[0]["decision"], "allow");
        assert_eq!(
            decisions[0]["token"],
            authorizer::token_fingerprint(&format!("Bearer {token}"))
        );
    }
}

#[tokio::test]
async fn refuses_a_service_account_token_and_a_6_kb_kid() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let url = server.url();
    let mut lambda = LambdaProcess::spawn(
        BINARY,
        &[
            ("GOOGLE_CLIENT_IDS", CLIENT_ID),
            ("GOOGLE_JWKS_URL", &url),
            ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
        ],
    )
    .await;
    let robot = sign(&PRIMARY, &service_account_claims(CLIENT_ID, now()));
    assert_eq!(lambda.invoke(event(&robot), WAIT).await, unauthorized());

    let kid = "A".repeat(6000);
    let junk = assemble(&json!({"alg": "RS256", "kid": kid}), &json!({}), b"s");
    assert_eq!(lambda.invoke(event(&junk), WAIT).await, unauthorized());
    // Keys were fetched once, at init: the junk kid caused no refetch.
    assert_eq!(server.fetches(), 1);

    let logs = lambda.output();
    let decisions = decisions(&logs);
    assert_eq!(decisions.len(), 2, "{logs:.2000}");
    assert_eq!(decisions[0]["reason"], "wrong_authorized_party");
    assert_eq!(
        decisions[0]["detail"],
        format!(
            "the authorized party (azp) \"{SERVICE_ACCOUNT_ID}\" is not one of the configured client IDs"
        )
    );
    assert_eq!(decisions[1]["reason"], "invalid_kid");
    for line in logs.lines() {
        assert!(line.len() < 1024, "{} bytes: {line:.300}", line.len());
    }
}

#[tokio::test]
async fn init_fails_with_a_clear_message_when_client_ids_are_missing() {
    let mut lambda = LambdaProcess::spawn(BINARY, &[]).await;
    let outcome = lambda.wait_for_exit(WAIT).await;
    let Outcome::Exited { status, init_error } = outcome else {
        panic!("expected the process to exit, got {outcome:?}");
    };
    assert_eq!(status, Some(1));
    assert_eq!(
        init_error,
        Some(json!({
            "errorType": "Runtime.ConfigError",
            "errorMessage": "GOOGLE_CLIENT_IDS is not set: a comma-separated list of Google OAuth client IDs, e.g. 1234-abc.apps.googleusercontent.com"
        }))
    );
    assert!(
        lambda.output().contains("GOOGLE_CLIENT_IDS is not set"),
        "{}",
        lambda.output()
    );
}

#[tokio::test]
async fn init_fails_with_a_clear_message_for_a_bad_clock_skew() {
    let mut lambda = LambdaProcess::spawn(
        BINARY,
        &[
            ("GOOGLE_CLIENT_IDS", CLIENT_ID),
            ("CLOCK_SKEW_SECONDS", "ten"),
        ],
    )
    .await;
    let Outcome::Exited { status, init_error } = lambda.wait_for_exit(WAIT).await else {
        panic!("expected the process to exit");
    };
    assert_eq!(status, Some(1));
    assert_eq!(
        init_error.unwrap()["errorMessage"],
        "CLOCK_SKEW_SECONDS=\"ten\" is invalid: a whole number of seconds from 0 to 300 (default 60)"
    );
}

#[tokio::test]
async fn starts_without_keys_and_fails_closed() {
    let url = testkit::jwks_server::closed_url().await;
    let mut lambda = authorizer_with_keys_at(&url).await;
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    assert_eq!(
        lambda.invoke(event(&token), WAIT).await,
        Outcome::Error {
            error_type: "AuthorizerFailure".into(),
            error_message: "authorizer failure: no_keys".into()
        }
    );
}

/// A REQUEST event as API Gateway sends it for `GET /hello`, with these header maps.
fn request_event(
    headers: serde_json::Value,
    multi_value_headers: serde_json::Value,
) -> serde_json::Value {
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
        "requestContext": {
            "path": "/prod/hello",
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": "prod",
            "requestId": "5f3a0c1e-0000-4000-8000-000000000001",
            "identity": {"sourceIp": "203.0.113.7"},
            "resourcePath": "/hello",
            "httpMethod": "GET",
            "apiId": "api"
        }
    })
}

#[tokio::test]
async fn the_binary_answers_request_events_from_the_authorization_header() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let url = server.url();
    let mut lambda = authorizer_with_keys_at(&url).await;
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let Outcome::Response(expected) = lambda.invoke(event(&token), WAIT).await else {
        panic!("no response; output:\n{}", lambda.output());
    };
    assert_eq!(
        expected["policyDocument"]["Statement"][0]["Effect"],
        "Allow"
    );

    // The same answer as the TOKEN event, whatever the header's case or map.
    for (what, request) in [
        (
            "authorization",
            request_event(
                json!({"authorization": token}),
                json!({"authorization": [token]}),
            ),
        ),
        (
            "AUTHORIZATION",
            request_event(
                json!({"AUTHORIZATION": token}),
                json!({"AUTHORIZATION": [token]}),
            ),
        ),
        (
            "multiValueHeaders only",
            request_event(
                json!(null),
                json!({"Authorization": [format!("Bearer {token}")]}),
            ),
        ),
    ] {
        assert_eq!(
            lambda.invoke(request, WAIT).await,
            Outcome::Response(expected.clone()),
            "{what}"
        );
    }

    let forged = sign(&ATTACKER, &google_claims(CLIENT_ID, now()));
    for (what, request) in [
        (
            "no header",
            request_event(json!({"Accept": "*/*"}), json!({"Accept": ["*/*"]})),
        ),
        (
            "an attacker's token",
            request_event(
                json!({"Authorization": forged}),
                json!({"Authorization": [forged]}),
            ),
        ),
        (
            "two different headers",
            request_event(
                json!({"Authorization": token}),
                json!({"Authorization": [forged, token]}),
            ),
        ),
    ] {
        assert_eq!(lambda.invoke(request, WAIT).await, unauthorized(), "{what}");
    }

    let logs = lambda.output();
    assert!(!logs.contains(&token[..]), "a whole token was logged");
    let decisions = decisions(&logs);
    let reasons: Vec<(&str, &str)> = decisions
        .iter()
        .map(|d| {
            (
                d["event"].as_str().unwrap_or(""),
                d["reason"]
                    .as_str()
                    .unwrap_or(d["decision"].as_str().unwrap_or("")),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("TOKEN", "allow"),
            ("REQUEST", "allow"),
            ("REQUEST", "allow"),
            ("REQUEST", "allow"),
            ("REQUEST", "missing_token"),
            // The attacker's key has its own kid: not Google's.
            ("REQUEST", "unknown_kid"),
            ("REQUEST", "conflicting_authorization_headers"),
        ],
        "{logs}"
    );
}

#[tokio::test]
async fn the_binary_refuses_an_event_of_another_type_with_a_server_error() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let url = server.url();
    let mut lambda = authorizer_with_keys_at(&url).await;
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let outcome = lambda
        .invoke(
            json!({"type": "COGNITO_USER_POOLS", "authorizationToken": token, "methodArn": METHOD_ARN}),
            WAIT,
        )
        .await;
    // lambda_runtime's own error for an event it cannot read: not `Unauthorized`,
    // so API Gateway answers 500 and nothing gets through.
    let Outcome::Error {
        error_type,
        error_message,
    } = outcome
    else {
        panic!("expected an error, got {outcome:?}");
    };
    assert_ne!(error_type, UNAUTHORIZED);
    // (The column after this depends on the token's length.)
    assert!(
        error_message.starts_with(
            "failed to deserialize the incoming data into the function's payload type: [type] type: unknown variant `COGNITO_USER_POOLS`, expected `TOKEN` or `REQUEST` at line 1 column "
        ),
        "{error_message}"
    );
    assert!(
        !lambda.output().contains(&token[..]),
        "the token was logged"
    );
    // The function is still there for the next event.
    assert_eq!(lambda.invoke(event("garbage"), WAIT).await, unauthorized());
}
