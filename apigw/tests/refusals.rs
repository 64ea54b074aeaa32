//! Every way the greeting API refuses, called in process (`app` + `oneshot`, no port):
//! the exact status, body, error type and CORS header of each gateway response of
//! openapi.yaml, and whether the authorizer was asked at all. The same refusals over
//! real HTTP, with the real authorizer, are in local/tests/refusals.rs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use apigw::gateway::{Gateway, GatewaySettings, app};
use apigw::lambda::from_fn;
use apigw::{ApiDefinition, FunctionError, LambdaFunction};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;
use common::{ORIGIN, settings};

const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod";

/// What the authorizer answers, for every call.
type Answer = Result<Value, FunctionError>;

fn policy(effect: &str, resource: &str) -> Answer {
    Ok(json!({
        "principalId": "user-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
        ]},
        "context": {"name": "Jane"}
    }))
}

/// The greeting API (openapi.yaml) with an authorizer answering `answer` and a hello
/// that greets; also the authorizer's call count.
fn greeting_api(answer: Answer) -> (axum::Router, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let count = calls.clone();
    let authorizer: Arc<dyn LambdaFunction> = from_fn(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
        std::future::ready(answer.clone())
    });
    let hello: Arc<dyn LambdaFunction> = from_fn(|event: Value| {
        std::future::ready(Ok(
            json!({"message": format!("Hello {}!", event["name"].as_str().unwrap_or(""))}),
        ))
    });
    let gateway = Arc::new(Gateway::new(GatewaySettings {
        ttl_override: Some(0),
        ..settings(
            ApiDefinition::embedded().unwrap(),
            [("AuthorizerFunction", authorizer), ("HelloFunction", hello)],
        )
    }));
    (app(gateway), calls)
}

/// Status, body, `x-amzn-ErrorType`, CORS origin.
async fn call(
    router: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, String, Option<String>, Option<String>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (error_type, origin) = (
        header("x-amzn-errortype"),
        header("access-control-allow-origin"),
    );
    let status = response.status();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        String::from_utf8(body.to_vec()).unwrap(),
        error_type,
        origin,
    )
}

/// Each of `paths`, with a token, gets `expected`, and the authorizer is never asked.
async fn each_path_answers_unasked(
    paths: &[&str],
    expected: (StatusCode, String, Option<String>, Option<String>),
) {
    let (router, calls) = greeting_api(policy("Allow", &format!("{STAGE}/*/*")));
    for path in paths {
        assert_eq!(
            call(&router, get(path, Some("Bearer a.b.c"))).await,
            expected,
            "{path}"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

fn get(path: &str, authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.body(Body::empty()).unwrap()
}

fn refusal(
    status: StatusCode,
    message: Option<&str>,
    error_type: &str,
) -> (StatusCode, String, Option<String>, Option<String>) {
    let message = message.map_or("null".to_owned(), |m| json!(m).to_string());
    (
        status,
        format!("{{\"message\": {message}}}"),
        Some(error_type.to_owned()),
        Some(ORIGIN.to_owned()),
    )
}

#[tokio::test]
async fn each_refusal_has_its_status_body_and_error_type() {
    let unauthorized = refusal(
        StatusCode::UNAUTHORIZED,
        Some("Unauthorized"),
        "UnauthorizedException",
    );
    let explicit = refusal(
        StatusCode::FORBIDDEN,
        Some("User is not authorized to access this resource with an explicit deny"),
        "AccessDeniedException",
    );
    let implicit = refusal(
        StatusCode::FORBIDDEN,
        Some("User is not authorized to access this resource"),
        "AccessDeniedException",
    );
    let failure = refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "AuthorizerConfigurationException",
    );
    let refused = Err(FunctionError {
        error_type: "Unauthorized".into(),
        error_message: "Unauthorized".into(),
    });
    let crashed = Err(FunctionError {
        error_type: "Runtime.ExitError".into(),
        error_message: "exit status 101".into(),
    });
    let allow_stage = policy("Allow", &format!("{STAGE}/*/*"));
    // (what the authorizer answers, the Authorization header, the outcome, calls)
    let cases = [
        (allow_stage.clone(), None, unauthorized.clone(), 0),
        (allow_stage.clone(), Some(""), unauthorized.clone(), 0),
        // Fails openapi.yaml's identityValidationExpression: never reaches the function.
        (
            allow_stage.clone(),
            Some("Basic dXNlcjpwYXNz"),
            unauthorized.clone(),
            0,
        ),
        (refused, Some("Bearer a.b.c"), unauthorized, 1),
        (
            policy("Deny", &format!("{STAGE}/GET/hello")),
            Some("Bearer a.b.c"),
            explicit,
            1,
        ),
        (
            policy("Allow", &format!("{STAGE}/POST/hello")),
            Some("Bearer a.b.c"),
            implicit.clone(),
            1,
        ),
        (
            policy(
                "Allow",
                "arn:aws:execute-api:us-east-1:123456789012:greetlocal/dev/*/*",
            ),
            Some("Bearer a.b.c"),
            implicit,
            1,
        ),
        (crashed, Some("Bearer a.b.c"), failure.clone(), 1),
        (
            Ok(json!({"principalId": "user-1"})),
            Some("Bearer a.b.c"),
            failure,
            1,
        ),
    ];
    for (answer, authorization, expected, calls) in cases {
        let (router, count) = greeting_api(answer.clone());
        let got = call(&router, get("/prod/hello", authorization)).await;
        assert_eq!(got, expected, "{answer:?} with {authorization:?}");
        assert_eq!(
            count.load(Ordering::SeqCst),
            calls,
            "{answer:?} with {authorization:?}"
        );
    }
    // And the same API lets an allowed caller through.
    let (router, _) = greeting_api(allow_stage);
    let (status, body, ..) = call(&router, get("/prod/hello", Some("Bearer a.b.c"))).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"message":"Hello Jane!"}"#)
    );
}

#[tokio::test]
async fn a_path_the_api_lacks_is_403_missing_authentication_token_unasked() {
    each_path_answers_unasked(
        &["/prod/nothing", "/prod", "/prod/hello/more"],
        refusal(
            StatusCode::FORBIDDEN,
            Some("Missing Authentication Token"),
            "MissingAuthenticationTokenException",
        ),
    )
    .await;
}

#[tokio::test]
async fn another_stage_is_a_bare_403_forbidden_unasked() {
    // No stage, none of its gateway responses: API Gateway's own body, no CORS header.
    each_path_answers_unasked(
        &["/dev/hello", "/", "/production/hello"],
        (
            StatusCode::FORBIDDEN,
            r#"{"message":"Forbidden"}"#.to_owned(),
            None,
            None,
        ),
    )
    .await;
}
