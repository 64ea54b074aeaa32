//! The Lambda handler, called directly with API Gateway TOKEN events; keys from a
//! JWKS server on 127.0.0.1 through the production HTTP fetcher.

use std::time::Duration;

use authorizer::{Authorizer, Config, HttpKeyFetcher, LambdaFailure, function_handler};
use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use testkit::jwks_server::{JwksServer, closed_url};
use testkit::keys::{ATTACKER, PRIMARY, jwks};
use testkit::tokens::{CLIENT_ID, google_claims, now, sign};

const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/hello";
const STAGE_RESOURCE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*/*";

fn config(jwks_url: String, domains: Option<&str>) -> Config {
    Config {
        client_ids: vec![CLIENT_ID.into()],
        jwks_url,
        allowed_hosted_domains: domains.map(|d| d.split(',').map(str::to_owned).collect()),
        clock_skew: Duration::from_secs(60),
    }
}

fn event(token: &str) -> LambdaEvent<ApiGatewayCustomAuthorizerRequest> {
    let request = serde_json::from_value(json!({
        "type": "TOKEN",
        "authorizationToken": token,
        "methodArn": METHOD_ARN,
    }))
    .unwrap();
    LambdaEvent::new(request, Context::default())
}

async fn authorize(
    authorizer: &Authorizer<HttpKeyFetcher>,
    token: &str,
) -> Result<Value, LambdaFailure> {
    function_handler(authorizer, event(token))
        .await
        .map(|r| serde_json::to_value(r).unwrap())
}

#[tokio::test]
async fn allows_valid_token_for_the_whole_stage() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer = Authorizer::from_config(config(server.url(), None)).unwrap();
    let response = authorize(
        &authorizer,
        &sign(&PRIMARY, &google_claims(CLIENT_ID, now())),
    )
    .await;
    assert_eq!(
        response,
        Ok(json!({
            "principalId": "110169484474386276334",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [STAGE_RESOURCE]}]
            },
            "context": {
                "name": "Jane Doe",
                "sub": "110169484474386276334",
                "email": "jane.doe@example.com",
                "emailVerified": true
            },
            "usageIdentifierKey": null
        }))
    );
}

#[tokio::test]
async fn allows_bearer_token() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer = Authorizer::from_config(config(server.url(), None)).unwrap();
    let token = format!(
        "Bearer {}",
        sign(&PRIMARY, &google_claims(CLIENT_ID, now()))
    );
    let response = authorize(&authorizer, &token).await.unwrap();
    assert_eq!(
        response["policyDocument"]["Statement"][0]["Effect"],
        "Allow"
    );
}

#[tokio::test]
async fn answers_unauthorized_for_a_forged_token() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer = Authorizer::from_config(config(server.url(), None)).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(PRIMARY.kid.into());
    let forged =
        testkit::tokens::sign_with_header(&ATTACKER, &header, &google_claims(CLIENT_ID, now()));
    assert_eq!(
        authorize(&authorizer, &forged).await,
        Err(LambdaFailure::Unauthorized)
    );
}

#[tokio::test]
async fn answers_unauthorized_for_an_expired_token() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer = Authorizer::from_config(config(server.url(), None)).unwrap();
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now() - 7200));
    assert_eq!(
        authorize(&authorizer, &token).await,
        Err(LambdaFailure::Unauthorized)
    );
}

#[tokio::test]
async fn unauthorized_is_the_exact_error_api_gateway_maps_to_401() {
    let diagnostic = Diagnostic::from(LambdaFailure::Unauthorized);
    assert_eq!(diagnostic.error_type, "Unauthorized");
    assert_eq!(diagnostic.error_message, "Unauthorized");
}

#[tokio::test]
async fn allows_a_listed_hosted_domain() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer =
        Authorizer::from_config(config(server.url(), Some("example.com,school.edu"))).unwrap();
    let mut claims = google_claims(CLIENT_ID, now());
    claims["hd"] = json!("school.edu");
    let response = authorize(&authorizer, &sign(&PRIMARY, &claims))
        .await
        .unwrap();
    assert_eq!(
        response["policyDocument"]["Statement"][0]["Effect"],
        "Allow"
    );
    assert_eq!(response["context"]["hostedDomain"], "school.edu");
}

#[tokio::test]
async fn denies_a_genuine_token_from_another_hosted_domain() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer = Authorizer::from_config(config(server.url(), Some("example.com"))).unwrap();
    let mut claims = google_claims(CLIENT_ID, now());
    claims["hd"] = json!("other.org");
    let response = authorize(&authorizer, &sign(&PRIMARY, &claims))
        .await
        .unwrap();
    assert_eq!(
        response["policyDocument"]["Statement"],
        json!([{"Action": ["execute-api:Invoke"], "Effect": "Deny", "Resource": [STAGE_RESOURCE]}])
    );
    assert_eq!(response["context"], json!({}));
}

#[tokio::test]
async fn denies_a_consumer_account_when_domains_are_required() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer = Authorizer::from_config(config(server.url(), Some("example.com"))).unwrap();
    let response = authorize(
        &authorizer,
        &sign(&PRIMARY, &google_claims(CLIENT_ID, now())),
    )
    .await
    .unwrap();
    assert_eq!(response["policyDocument"]["Statement"][0]["Effect"], "Deny");
}

#[tokio::test]
async fn fails_closed_with_a_server_error_when_no_keys_can_be_had() {
    let authorizer = Authorizer::from_config(config(closed_url().await, None)).unwrap();
    authorizer.warm_up().await;
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let failure = authorize(&authorizer, &token).await.unwrap_err();
    assert_eq!(failure, LambdaFailure::Internal("no_keys"));
    let diagnostic = Diagnostic::from(failure);
    assert_eq!(diagnostic.error_type, "AuthorizerFailure");
    assert_eq!(diagnostic.error_message, "authorizer failure: no_keys");
}

#[tokio::test]
async fn refuses_an_event_without_a_method_arn() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer = Authorizer::from_config(config(server.url(), None)).unwrap();
    let request: ApiGatewayCustomAuthorizerRequest =
        serde_json::from_value(json!({"type": "TOKEN", "authorizationToken": "x"})).unwrap();
    let result = function_handler(&authorizer, LambdaEvent::new(request, Context::default())).await;
    assert_eq!(
        result.unwrap_err(),
        LambdaFailure::Internal("invalid_method_arn")
    );
}

#[tokio::test]
async fn answers_unauthorized_for_an_event_without_a_token() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let authorizer = Authorizer::from_config(config(server.url(), None)).unwrap();
    let request: ApiGatewayCustomAuthorizerRequest =
        serde_json::from_value(json!({"type": "TOKEN", "methodArn": METHOD_ARN})).unwrap();
    let result = function_handler(&authorizer, LambdaEvent::new(request, Context::default())).await;
    assert_eq!(result.unwrap_err(), LambdaFailure::Unauthorized);
    assert_eq!(
        server.fetches(),
        0,
        "no key fetch for a request that has no token"
    );
}

#[test]
fn fingerprint_is_short_and_never_the_token() {
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, 1_770_000_000));
    let fingerprint = authorizer::token_fingerprint(&token);
    assert_eq!(fingerprint.len(), 12);
    assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!token.contains(&fingerprint));
    assert_eq!(authorizer::token_fingerprint(""), "none");
}
