//! The Lambda handler, called directly with API Gateway TOKEN and REQUEST events; keys
//! from a JWKS server on 127.0.0.1 through the production HTTP fetcher.

use authorizer_contract::UNAUTHORIZED;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authorizer::{
    Authorizer, AuthorizerEvent, CachePolicy, Config, Error, FetchedKeys, HttpKeyFetcher,
    KeyFetcher, KeySet, LambdaFailure, function_handler,
};
use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use testkit::jwks_server::{JwksServer, closed_url};
use testkit::keys::{ATTACKER, PRIMARY, jwks};
use testkit::tokens::{
    CLIENT_ID, SERVICE_ACCOUNT_ID, assemble, google_claims, now, service_account_claims, sign,
};

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
    assert_eq!(diagnostic.error_type, UNAUTHORIZED);
    assert_eq!(diagnostic.error_message, UNAUTHORIZED);
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

// --- with a counting fake fetcher and the production log format captured ---

/// Serves the primary test key and counts how often it is asked.
#[derive(Clone, Default)]
struct CountingFetcher(Arc<AtomicUsize>);

impl KeyFetcher for CountingFetcher {
    async fn fetch(&self) -> Result<FetchedKeys, Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(FetchedKeys {
            keys: KeySet::from_json(jwks(&[PRIMARY]).to_string().as_bytes())?,
            max_age: None,
        })
    }
}

/// What the production subscriber (`authorizer::lambda::subscriber`) writes for one test.
///
/// One subscriber, installed globally at TRACE, serves every test of this binary and
/// writes to the capture of the thread it runs on (each `#[tokio::test]` runs its
/// handler on its own thread). Scoped subscribers (`set_default`) in parallel tests
/// raced over tracing's global callsite cache and now and then captured nothing.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Logs>> = const { std::cell::RefCell::new(None) };
}

/// Stops this thread's capture when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

/// The writer of the global subscriber: this thread's capture, or nowhere.
struct ThreadCapture;

impl std::io::Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(logs) = capture.borrow().as_ref() {
                logs.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures what this thread logs until the guard drops.
    fn capture() -> (Logs, Capturing) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            tracing::subscriber::set_global_default(authorizer::lambda::subscriber(
                "trace",
                || ThreadCapture,
            ))
            .expect("no other global subscriber in this test binary");
        });
        let logs = Logs::default();
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(logs.clone()));
        (logs, Capturing)
    }
}

impl Logs {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The `fields` of the one decision line.
    fn decision(&self) -> Value {
        let decisions: Vec<Value> = self
            .lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["fields"]["decision"].is_string())
            .map(|l| l["fields"].clone())
            .collect();
        assert_eq!(decisions.len(), 1, "{:?}", self.lines());
        decisions[0].clone()
    }
}

/// Runs the handler once on `token` with a counting fetcher, at TRACE, logs captured.
async fn decide_logged(token: &str) -> (Result<Value, LambdaFailure>, Logs, usize) {
    let (logs, _capturing) = Logs::capture();
    let fetches = Arc::new(AtomicUsize::new(0));
    let mut config = config("http://127.0.0.1:9/unused".into(), None);
    config
        .client_ids
        .push("second-client.apps.googleusercontent.com".into());
    let authorizer = Authorizer::with_fetcher(
        config,
        CountingFetcher(fetches.clone()),
        CachePolicy::default(),
    );
    let result = function_handler(&authorizer, event(token))
        .await
        .map(|r| serde_json::to_value(r).unwrap());
    let fetched = fetches.load(Ordering::SeqCst);
    (result, logs, fetched)
}

#[tokio::test]
async fn refuses_a_service_account_token_with_its_own_reason() {
    let token = sign(&PRIMARY, &service_account_claims(CLIENT_ID, now()));
    let (result, logs, _) = decide_logged(&token).await;
    assert_eq!(result, Err(LambdaFailure::Unauthorized));
    let decision = logs.decision();
    assert_eq!(decision["decision"], "unauthorized");
    assert_eq!(decision["reason"], "wrong_authorized_party");
    assert_eq!(
        decision["detail"],
        format!(
            "the authorized party (azp) \"{SERVICE_ACCOUNT_ID}\" is not one of the configured client IDs"
        )
    );
}

#[tokio::test]
async fn allows_azp_of_another_configured_client_and_no_azp() {
    let mut other = google_claims(CLIENT_ID, now());
    other["azp"] = json!("second-client.apps.googleusercontent.com");
    let mut none = google_claims(CLIENT_ID, now());
    none.as_object_mut().unwrap().remove("azp");
    for claims in [other, none] {
        let (result, logs, _) = decide_logged(&sign(&PRIMARY, &claims)).await;
        assert_eq!(
            result.unwrap()["policyDocument"]["Statement"][0]["Effect"],
            "Allow"
        );
        assert_eq!(logs.decision()["decision"], "allow");
    }
}

#[tokio::test]
async fn a_6_kb_kid_is_refused_without_a_key_fetch_or_a_long_log_line() {
    let kid = "A".repeat(6000);
    let token = assemble(&json!({"alg": "RS256", "kid": kid}), &json!({}), b"s");
    assert!(token.len() <= authorizer::MAX_TOKEN_BYTES);
    let (result, logs, fetches) = decide_logged(&token).await;
    assert_eq!(result, Err(LambdaFailure::Unauthorized));
    assert_eq!(fetches, 0, "a junk kid must not cause a JWKS fetch");
    let decision = logs.decision();
    assert_eq!(decision["reason"], "invalid_kid");
    assert_eq!(decision["kid"], "");
    for line in logs.lines() {
        assert!(line.len() < 1024, "{} bytes: {line:.200}", line.len());
        assert!(!line.contains("AAAAAAAAAAAAAAAA"), "{line:.200}");
    }
}

#[tokio::test]
async fn a_huge_alg_or_method_arn_makes_no_long_log_line() {
    let alg = "\u{1b}[2J".to_owned() + &"x".repeat(5000);
    let token = assemble(&json!({"alg": alg, "kid": PRIMARY.kid}), &json!({}), b"s");
    let (result, logs, fetches) = decide_logged(&token).await;
    assert_eq!(result, Err(LambdaFailure::Unauthorized));
    assert_eq!(fetches, 0);
    assert_eq!(logs.decision()["reason"], "disallowed_algorithm");
    for line in logs.lines() {
        assert!(line.len() < 1024, "{} bytes: {line:.200}", line.len());
        assert!(!line.contains('\u{1b}'), "{line:.200}");
    }

    let (logs, _capturing) = Logs::capture();
    let authorizer = Authorizer::with_fetcher(
        config("http://127.0.0.1:9/unused".into(), None),
        CountingFetcher::default(),
        CachePolicy::default(),
    );
    let arn = format!(
        "arn:aws:execute-api:eu-west-1:123456789012:x\r\n{}",
        "/".repeat(8000)
    );
    let request: AuthorizerEvent = serde_json::from_value(
        json!({"type": "TOKEN", "authorizationToken": "x", "methodArn": arn}),
    )
    .unwrap();
    let result = function_handler(&authorizer, LambdaEvent::new(request, Context::default())).await;
    assert_eq!(
        result.unwrap_err(),
        LambdaFailure::Internal("invalid_method_arn")
    );
    assert_eq!(logs.decision()["reason"], "invalid_method_arn");
    for line in logs.lines() {
        assert!(line.len() < 1024, "{} bytes: {line:.200}", line.len());
    }
}

#[tokio::test]
async fn the_context_carries_the_email_only_when_it_is_verified() {
    for (verified, email) in [
        (Some(json!(true)), Some("jane.doe@example.com")),
        (Some(json!(false)), None),
        (None, None),
    ] {
        let mut claims = google_claims(CLIENT_ID, now());
        match &verified {
            Some(v) => claims["email_verified"] = v.clone(),
            None => {
                claims.as_object_mut().unwrap().remove("email_verified");
            }
        }
        let (result, _, _) = decide_logged(&sign(&PRIMARY, &claims)).await;
        let context = result.unwrap()["context"].clone();
        assert_eq!(
            context.get("email").and_then(Value::as_str),
            email,
            "{verified:?}: {context}"
        );
        assert_eq!(context["name"], "Jane Doe");
    }
}

// --- REQUEST events: the token from the Authorization header ---

/// A REQUEST event shaped as API Gateway sends one for `GET /hello` (AWS, "Input to an
/// API Gateway Lambda authorizer", REQUEST input format), with the given `headers` and
/// `multiValueHeaders`.
fn request_event(headers: Value, multi_value_headers: Value) -> AuthorizerEvent {
    serde_json::from_value(json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/hello",
        "path": "/hello",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {"siteOrigin": "https://example.com"},
        "requestContext": {
            "path": "/prod/hello",
            "accountId": "123456789012",
            "resourceId": "abc123",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
            "resourcePath": "/hello",
            "httpMethod": "GET",
            "apiId": "abcdef1234"
        }
    }))
    .unwrap()
}

/// The header as API Gateway puts it in both maps.
fn request_with(name: &str, value: &str) -> AuthorizerEvent {
    request_event(
        json!({ name: value, "Accept": "*/*" }),
        json!({ name: [value], "Accept": ["*/*"] }),
    )
}

/// Runs the handler once on `event` with a counting fetcher, logs captured.
async fn decide_event_logged(
    event: AuthorizerEvent,
) -> (Result<Value, LambdaFailure>, Logs, usize) {
    let (logs, _capturing) = Logs::capture();
    let fetches = Arc::new(AtomicUsize::new(0));
    let authorizer = Authorizer::with_fetcher(
        config("http://127.0.0.1:9/unused".into(), None),
        CountingFetcher(fetches.clone()),
        CachePolicy::default(),
    );
    let result = function_handler(&authorizer, LambdaEvent::new(event, Context::default()))
        .await
        .map(|r| serde_json::to_value(r).unwrap());
    let fetched = fetches.load(Ordering::SeqCst);
    (result, logs, fetched)
}

/// What the TOKEN event gets for the same valid token: a REQUEST event must get the same.
async fn token_event_answer(token: &str) -> Value {
    decide_logged(token).await.0.unwrap()
}

#[tokio::test]
async fn request_event_is_allowed_with_the_header_in_any_case() {
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let expected = token_event_answer(&token).await;
    assert_eq!(
        expected["policyDocument"]["Statement"][0]["Effect"],
        "Allow"
    );
    for name in ["Authorization", "authorization", "AUTHORIZATION"] {
        let (result, logs, _) = decide_event_logged(request_with(name, &token)).await;
        assert_eq!(result.as_ref(), Ok(&expected), "{name}");
        let decision = logs.decision();
        assert_eq!(decision["decision"], "allow", "{name}");
        assert_eq!(decision["event"], "REQUEST", "{name}");
        assert_eq!(decision["token"], authorizer::token_fingerprint(&token));
    }
}

#[tokio::test]
async fn request_event_is_allowed_with_a_bearer_header_in_multi_value_headers_only() {
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let expected = token_event_answer(&token).await;
    let bearer = format!("Bearer {token}");
    let event = request_event(json!({}), json!({ "authorization": [bearer] }));
    let (result, _, _) = decide_event_logged(event).await;
    assert_eq!(result, Ok(expected));
}

#[tokio::test]
async fn request_event_is_allowed_when_the_same_value_comes_twice() {
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let event = request_event(
        json!({ "Authorization": token }),
        json!({ "Authorization": [token, token] }),
    );
    let (result, _, _) = decide_event_logged(event).await;
    assert_eq!(
        result.unwrap()["policyDocument"]["Statement"][0]["Effect"],
        "Allow"
    );
}

#[tokio::test]
async fn request_event_without_an_authorization_header_is_unauthorized_without_a_fetch() {
    for event in [
        request_event(json!({"Accept": "*/*"}), json!({"Accept": ["*/*"]})),
        request_event(json!(null), json!(null)),
        request_with("Authorization", ""),
        // The token under another header is not the token.
        request_with(
            "AuthorizationToken",
            &sign(&PRIMARY, &google_claims(CLIENT_ID, now())),
        ),
    ] {
        let (result, logs, fetches) = decide_event_logged(event).await;
        assert_eq!(result, Err(LambdaFailure::Unauthorized));
        assert_eq!(fetches, 0);
        let decision = logs.decision();
        assert_eq!(decision["reason"], "missing_token");
        assert_eq!(decision["event"], "REQUEST");
        assert_eq!(decision["token"], "none");
    }
}

#[tokio::test]
async fn request_event_with_an_attackers_token_is_unauthorized() {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(PRIMARY.kid.into());
    let forged =
        testkit::tokens::sign_with_header(&ATTACKER, &header, &google_claims(CLIENT_ID, now()));
    let (result, logs, _) = decide_event_logged(request_with("Authorization", &forged)).await;
    assert_eq!(result, Err(LambdaFailure::Unauthorized));
    assert_eq!(logs.decision()["reason"], "bad_signature");
}

#[tokio::test]
async fn request_event_with_two_different_authorization_headers_is_unauthorized() {
    let good = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let bad = sign(&ATTACKER, &google_claims(CLIENT_ID, now()));
    for event in [
        // The client sent the header twice: headers keeps the last, multiValueHeaders both.
        request_event(
            json!({ "Authorization": good }),
            json!({ "Authorization": [bad, good] }),
        ),
        // Names that differ only in case are one header.
        request_event(
            json!({ "authorization": good }),
            json!({ "Authorization": [good], "authorization": [bad] }),
        ),
        // headers and multiValueHeaders disagree.
        request_event(
            json!({ "Authorization": good }),
            json!({ "Authorization": [bad] }),
        ),
    ] {
        let (result, logs, fetches) = decide_event_logged(event).await;
        assert_eq!(result, Err(LambdaFailure::Unauthorized));
        assert_eq!(fetches, 0, "no key is fetched for an ambiguous request");
        let decision = logs.decision();
        assert_eq!(decision["reason"], "conflicting_authorization_headers");
        assert_eq!(
            decision["detail"],
            "the request carries two different Authorization headers"
        );
    }
}

#[tokio::test]
async fn request_event_with_a_non_ascii_authorization_header_is_unauthorized() {
    let (result, logs, fetches) =
        decide_event_logged(request_with("Authorization", "jé.x.y")).await;
    assert_eq!(result, Err(LambdaFailure::Unauthorized));
    assert_eq!(fetches, 0);
    assert_eq!(
        logs.decision()["detail"],
        "malformed token: the Authorization header is not visible ASCII"
    );
}

#[tokio::test]
async fn request_event_without_a_method_arn_is_a_server_error() {
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let AuthorizerEvent::Request(mut event) = request_with("Authorization", &token) else {
        panic!("a REQUEST event");
    };
    event.method_arn = None;
    let (result, _, fetches) = decide_event_logged(AuthorizerEvent::Request(event)).await;
    assert_eq!(result, Err(LambdaFailure::Internal("invalid_method_arn")));
    assert_eq!(fetches, 0);
}

#[test]
fn events_are_read_by_their_type() {
    let token: AuthorizerEvent = serde_json::from_value(
        json!({"type": "TOKEN", "authorizationToken": "t", "methodArn": METHOD_ARN}),
    )
    .unwrap();
    assert_eq!(token.kind(), "TOKEN");
    assert_eq!(token.token(), Ok("t"));
    assert_eq!(token.method_arn(), METHOD_ARN);

    let request = request_with("Authorization", "r");
    assert_eq!(request.kind(), "REQUEST");
    assert_eq!(request.token(), Ok("r"));
    assert_eq!(request.method_arn(), METHOD_ARN);

    // A TOKEN-typed event is never read for headers, nor a REQUEST one for authorizationToken.
    let token_with_headers: AuthorizerEvent = serde_json::from_value(json!({
        "type": "TOKEN", "methodArn": METHOD_ARN, "headers": {"Authorization": "h"}
    }))
    .unwrap();
    assert_eq!(token_with_headers.token(), Ok(""));
    let request_with_token_field: AuthorizerEvent = serde_json::from_value(json!({
        "type": "REQUEST", "methodArn": METHOD_ARN, "authorizationToken": "t",
        "requestContext": {}
    }))
    .unwrap();
    assert_eq!(request_with_token_field.token(), Ok(""));
}

#[test]
fn an_event_of_another_type_or_none_does_not_deserialize() {
    let other = serde_json::from_value::<AuthorizerEvent>(
        json!({"type": "COGNITO_USER_POOLS", "authorizationToken": "t", "methodArn": METHOD_ARN}),
    )
    .unwrap_err();
    assert_eq!(
        other.to_string(),
        "unknown variant `COGNITO_USER_POOLS`, expected `TOKEN` or `REQUEST`"
    );
    let none = serde_json::from_value::<AuthorizerEvent>(
        json!({"authorizationToken": "t", "methodArn": METHOD_ARN}),
    )
    .unwrap_err();
    assert_eq!(none.to_string(), "missing field `type`");
}
