//! What API Gateway answers when a function takes too long: the integration's
//! `timeoutInMillis` (default 29 s) -> 504 `{"message":"Endpoint request timed out"}`;
//! an authorizer that crashes or never answers -> 500 `{"message":null}`
//! (AuthorizerConfigurationException). The router is called in process with paused
//! time, so the 29 s pass without waiting.

use std::sync::Arc;
use std::time::Duration;

use apigw::gateway::{AUTHORIZER_TIMEOUT, Gateway, app};
use apigw::lambda::from_fn;
use apigw::{ApiDefinition, FunctionError, LambdaFunction};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;
use common::settings;

const URI: &str = "{'Fn::Sub': 'arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${HelloFunction.Arn}/invocations'}";
const AUTHORIZER_URI: &str = "{'Fn::Sub': 'arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${AuthorizerFunction.Arn}/invocations'}";

fn definition(timeout: &str) -> String {
    format!(
        "paths:
  /slow:
    get:
      responses: {{'200': {{description: ok}}}}
      x-amazon-apigateway-integration: {{type: aws, uri: {URI}, {timeout} requestTemplates: {{application/json: '{{}}'}}, responses: {{default: {{statusCode: '200'}}}}}}
  /guarded:
    get:
      security: [{{A: []}}]
      responses: {{'200': {{description: ok}}}}
      x-amazon-apigateway-integration: {{type: mock, requestTemplates: {{application/json: '{{\"statusCode\": 200}}'}}, responses: {{default: {{statusCode: '200'}}}}}}
components:
  securitySchemes:
    A:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authorizer: {{type: token, authorizerUri: {AUTHORIZER_URI}, authorizerResultTtlInSeconds: 0}}
"
    )
}

fn never() -> Arc<dyn LambdaFunction> {
    from_fn(|_| std::future::pending::<Result<Value, FunctionError>>())
}

fn answering_after(delay: Duration) -> Arc<dyn LambdaFunction> {
    from_fn(move |_| async move {
        tokio::time::sleep(delay).await;
        Ok(json!({"ok": true}))
    })
}

fn router(
    yaml: &str,
    hello: Arc<dyn LambdaFunction>,
    authorizer: Arc<dyn LambdaFunction>,
) -> axum::Router {
    let definition = ApiDefinition::parse(yaml, "test.yaml").expect("the definition");
    let gateway = Gateway::new(settings(
        definition,
        [("HelloFunction", hello), ("AuthorizerFunction", authorizer)],
    ));
    app(Arc::new(gateway))
}

/// Status, `x-amzn-ErrorType`, body, and how long (paused) time it took.
async fn get(router: axum::Router, path: &str) -> (StatusCode, Option<String>, String, Duration) {
    let started = tokio::time::Instant::now();
    let request = Request::get(path)
        .header("Authorization", "t")
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.expect("an answer");
    let elapsed = started.elapsed();
    let status = response.status();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        error_type,
        String::from_utf8(body.to_vec()).unwrap(),
        elapsed,
    )
}

fn allow() -> Arc<dyn LambdaFunction> {
    from_fn(|_| async {
        Ok(json!({"principalId": "u", "policyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}}))
    })
}

#[tokio::test(start_paused = true)]
async fn an_integration_past_the_default_29_s_is_504_endpoint_request_timed_out() {
    let (status, error_type, body, elapsed) =
        get(router(&definition(""), never(), allow()), "/prod/slow").await;
    assert_eq!(
        (status, error_type.as_deref(), body.as_str()),
        (
            StatusCode::GATEWAY_TIMEOUT,
            Some("InternalServerErrorException"),
            r#"{"message":"Endpoint request timed out"}"#
        )
    );
    assert_eq!(elapsed.as_secs(), 29);
}

#[tokio::test(start_paused = true)]
async fn timeout_in_millis_sets_the_integration_timeout() {
    let yaml = definition("timeoutInMillis: 1000,");
    let (status, _, body, elapsed) = get(
        router(&yaml, answering_after(Duration::from_millis(1500)), allow()),
        "/prod/slow",
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::GATEWAY_TIMEOUT,
            r#"{"message":"Endpoint request timed out"}"#
        )
    );
    assert_eq!(elapsed, Duration::from_millis(1000));
    // Within it: the function's answer.
    let (status, _, body, _) = get(
        router(&yaml, answering_after(Duration::from_millis(900)), allow()),
        "/prod/slow",
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"ok":true}"#));
}

#[tokio::test(start_paused = true)]
async fn an_authorizer_that_never_answers_is_500_with_a_null_message() {
    let (status, error_type, body, elapsed) =
        get(router(&definition(""), never(), never()), "/prod/guarded").await;
    assert_eq!(
        (status, error_type.as_deref(), body.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("AuthorizerConfigurationException"),
            r#"{"message":null}"#
        )
    );
    assert_eq!(elapsed, AUTHORIZER_TIMEOUT);
}

#[tokio::test]
async fn an_authorizer_that_crashes_is_500_with_a_null_message() {
    let crash = from_fn(|_| async {
        Err(FunctionError {
            error_type: "Runtime.ExitError".into(),
            error_message: "RequestId: x Error: Runtime exited with error: exit status 101".into(),
        })
    });
    let (status, error_type, body, _) =
        get(router(&definition(""), never(), crash), "/prod/guarded").await;
    assert_eq!(
        (status, error_type.as_deref(), body.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("AuthorizerConfigurationException"),
            r#"{"message":null}"#
        )
    );
}
