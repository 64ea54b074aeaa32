//! The request's parameters (`$input.params`: path, query string, headers) reach every
//! template that may read them, the response template included, though the gateway
//! builds them only when one of the integration's templates may
//! (`mapping::Template::reads_params`). `$context.domainName` reads the `Host` header
//! either way. Called in process (oneshot).

use std::sync::{Arc, Mutex};

use apigw::gateway::{Gateway, app};
use apigw::lambda::from_fn;
use apigw::{ApiDefinition, LambdaFunction};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;
use common::settings;

const URI: &str = "{'Fn::Sub': 'arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${HelloFunction.Arn}/invocations'}";

fn route(path: &str, request: &str, response: Option<&str>) -> String {
    let templates = response
        .map(|t| format!(", responseTemplates: {{application/json: '{t}'}}"))
        .unwrap_or_default();
    format!(
        "  {path}:\n    get:\n      responses: {{'200': {{description: ok}}}}\n      x-amazon-apigateway-integration: {{type: aws, uri: {URI}, requestTemplates: {{application/json: '{request}'}}, responses: {{default: {{statusCode: '200'{templates}}}}}}}\n"
    )
}

/// GETs `path` with a `Host`, an `X-Custom` header and `?q=1`; the status, the body and
/// the events the function got.
async fn get(yaml: &str, path: &str) -> (StatusCode, String, Vec<Value>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let hello: Arc<dyn LambdaFunction> = from_fn(move |event| {
        seen.lock().unwrap().push(event);
        async { Ok(json!({"ok": true})) }
    });
    let gateway = Gateway::new(settings(
        ApiDefinition::parse(yaml, "test.yaml").expect("the definition"),
        [("HelloFunction", hello)],
    ));
    let request = Request::get(format!("{path}?q=1"))
        .header("host", "api.test:3000")
        .header("x-custom", "v1")
        .body(Body::empty())
        .unwrap();
    let response = app(Arc::new(gateway)).oneshot(request).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let events = events.lock().unwrap().clone();
    (status, String::from_utf8(body.to_vec()).unwrap(), events)
}

#[tokio::test]
async fn a_request_template_reading_the_params_gets_them() {
    let yaml = format!(
        "paths:\n{}",
        route(
            "/both",
            r#"{"h": "$input.params(''x-custom'')", "q": "$input.params(''q'')", "n": $input.params().header.size()}"#,
            None
        )
    );
    let (status, body, events) = get(&yaml, "/prod/both").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"ok":true}"#));
    assert_eq!(events, vec![json!({"h": "v1", "q": "1", "n": 2})]);
}

#[tokio::test]
async fn a_response_template_reading_them_gets_them_when_the_request_template_does_not() {
    let yaml = format!(
        "paths:\n{}",
        route(
            "/late",
            r#"{"host": "$context.domainName"}"#,
            Some(
                r#"{"h": "$input.params(''x-custom'')", "q": "$input.params(''q'')", "ok": $input.json(''$.ok'')}"#
            )
        )
    );
    let (status, body, events) = get(&yaml, "/prod/late").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"h": "v1", "q": "1", "ok": true}"#);
    assert_eq!(events, vec![json!({"host": "api.test:3000"})]);
}

#[tokio::test]
async fn templates_that_read_no_params_still_see_the_host_as_the_domain_name() {
    let yaml = format!(
        "paths:\n{}",
        route(
            "/host",
            r#"{"host": "$context.domainName", "prefix": "$context.domainPrefix"}"#,
            Some(r#"{"body": $input.body}"#)
        )
    );
    let (status, body, events) = get(&yaml, "/prod/host").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"body": {"ok":true}}"#)
    );
    assert_eq!(
        events,
        vec![json!({"host": "api.test:3000", "prefix": "api"})]
    );
}
