//! The `$context` values only the emulator knows, as templates see them: the account
//! and API ID of the method ARN, the resource and deployment IDs, `x-amz-apigw-id` as
//! `extendedRequestId`, the request's time from the gateway's clock (pinned here) in
//! API Gateway's format, the HTTP version. Called in process (oneshot).

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use apigw::gateway::{Gateway, GatewaySettings, app};
use apigw::{ApiDefinition, Clock};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, Version};
use tower::ServiceExt;

mod common;
use common::settings;

const TEMPLATE: &str = "$context.accountId $context.apiId $context.resourceId $context.deploymentId $context.requestTimeEpoch $context.requestTime $context.protocol $context.domainName $context.domainPrefix $context.extendedRequestId";

fn router(clock: Clock) -> axum::Router {
    let yaml = format!(
        "paths:
  /ctx:
    get:
      responses: {{'200': {{description: ok}}}}
      x-amazon-apigateway-integration: {{type: mock, requestTemplates: {{application/json: '{{\"statusCode\": 200}}'}}, responses: {{default: {{statusCode: '200', responseTemplates: {{application/json: '{TEMPLATE}'}}}}}}}}
x-amazon-apigateway-gateway-responses:
  MISSING_AUTHENTICATION_TOKEN:
    responseTemplates:
      application/json: '{TEMPLATE}'
"
    );
    let gateway = Gateway::new(GatewaySettings {
        clock,
        ..settings(ApiDefinition::parse(&yaml, "test.yaml").unwrap(), [])
    });
    app(Arc::new(gateway))
}

/// 2026-12-01T22:03:29.123Z.
fn pinned() -> Clock {
    Clock::starting_at(UNIX_EPOCH + Duration::from_millis(1_796_162_609_123))
}

async fn get(router: axum::Router, path: &str, version: Version) -> (StatusCode, String, String) {
    let request = Request::get(path)
        .version(version)
        .header("Host", "127.0.0.1:4101")
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let apigw_id = response.headers()["x-amz-apigw-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap(), apigw_id)
}

#[tokio::test]
async fn templates_see_the_emulators_account_api_resource_deployment_time_and_protocol() {
    let (status, body, apigw_id) = get(router(pinned()), "/prod/ctx", Version::HTTP_11).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        format!(
            "123456789012 greetlocal xk80ag stmm9q 1796162609123 01/Dec/2026:22:03:29 +0000 HTTP/1.1 127.0.0.1:4101 127 {apigw_id}"
        )
    );
}

#[tokio::test]
async fn the_request_time_follows_the_gateways_clock_and_the_protocol_the_request() {
    let clock = pinned();
    let router = router(clock.clone());
    clock.advance(Duration::from_secs(3600));
    let (_, body, _) = get(router, "/prod/ctx", Version::HTTP_10).await;
    let fields: Vec<&str> = body.split(' ').collect();
    assert_eq!(
        fields[4..8],
        ["1796166209123", "01/Dec/2026:23:03:29", "+0000", "HTTP/1.0"]
    );
}

#[tokio::test]
async fn a_gateway_response_before_routing_has_no_resource_id() {
    let (status, body, apigw_id) = get(router(pinned()), "/prod/none", Version::HTTP_11).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Gateway response templates get no request headers (so no `Host`): the domain is
    // the API's own name.
    assert_eq!(
        body,
        format!(
            "123456789012 greetlocal  stmm9q 1796162609123 01/Dec/2026:22:03:29 +0000 HTTP/1.1 greetlocal.execute-api.localhost greetlocal {apigw_id}"
        )
    );
}
