//! Header names in templates and the REQUEST event when the request carries no record
//! of the client's spelling (built in process, as here): lower case, as the `http`
//! crate keeps them; with a [`ClientHeaderNames`] record, the client's spelling.
//! (The record taken off the wire is tested in local/tests/header_case.rs.)

use std::sync::{Arc, Mutex};

use apigw::gateway::{Gateway, app};
use apigw::lambda::from_fn;
use apigw::{ApiDefinition, ClientHeaderNames};
use axum::body::{Body, to_bytes};
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;
use common::settings;

const DEFINITION: &str = "paths:
  /echo:
    get:
      security: [{A: []}]
      responses: {'200': {description: ok}}
      x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{\"statusCode\": 200}'}, responses: {default: {statusCode: '200', responseTemplates: {application/json: '$input.params().header.keySet() $input.params(''x-custom-header'')'}}}}
components:
  securitySchemes:
    A:
      type: apiKey
      name: X-Custom-Header
      in: header
      x-amazon-apigateway-authorizer: {type: request, identitySource: method.request.header.X-Custom-Header, authorizerUri: {'Fn::Sub': 'arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${AuthorizerFunction.Arn}/invocations'}, authorizerResultTtlInSeconds: 0}
";

/// The body, and the `headers` of the event the authorizer received.
async fn call(names: Option<ClientHeaderNames>) -> (String, Value) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let authorizer = from_fn(move |event: Value| {
        seen.lock().unwrap().push(event);
        async {
            Ok(json!({"principalId": "u", "policyDocument": {"Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}}))
        }
    });
    let gateway = Gateway::new(settings(
        ApiDefinition::parse(DEFINITION, "test.yaml").unwrap(),
        [("AuthorizerFunction", authorizer)],
    ));
    let mut request = Request::get("/prod/echo")
        .header("X-Custom-Header", "Value")
        .header("Accept", "*/*")
        .body(Body::empty())
        .unwrap();
    if let Some(names) = names {
        request.extensions_mut().insert(names);
    }
    let response = app(Arc::new(gateway)).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let event = events.lock().unwrap()[0]["headers"].clone();
    (String::from_utf8(body.to_vec()).unwrap(), event)
}

#[tokio::test]
async fn without_a_record_of_the_clients_spelling_names_are_lower_case() {
    assert_eq!(
        call(None).await,
        (
            "[accept, x-custom-header] Value".to_owned(),
            json!({"accept": "*/*", "x-custom-header": "Value"})
        )
    );
}

#[tokio::test]
async fn with_a_record_names_are_spelled_as_recorded() {
    let names = ClientHeaderNames::new(["X-Custom-Header", "ACCEPT"]);
    assert_eq!(
        call(Some(names)).await,
        (
            "[ACCEPT, X-Custom-Header] Value".to_owned(),
            json!({"ACCEPT": "*/*", "X-Custom-Header": "Value"})
        )
    );
}

#[tokio::test]
async fn a_record_that_does_not_fit_the_request_is_not_used() {
    let names = ClientHeaderNames::new(["X-Other", "ACCEPT"]);
    assert_eq!(
        call(Some(names)).await,
        (
            "[accept, x-custom-header] Value".to_owned(),
            json!({"accept": "*/*", "x-custom-header": "Value"})
        )
    );
}
