//! The trace of each request and the local-only endpoints, against the embedded
//! openapi.yaml with fake functions; the router is called in process (no ports).

use std::collections::BTreeMap;
use std::sync::Arc;

use apigw::gateway::{Gateway, app};
use apigw::lambda::from_fn;
use apigw::request_trace::{Decision, Hop, Invocations, RequestTrace, trace_path};
use apigw::{ApiDefinition, FunctionError, LambdaFunction};
use authorizer_contract::token_fingerprint;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;
use common::{ORIGIN, settings};

const TOKEN: &str = "Bearer aaa.bbb.ccc";
const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/hello";
const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/*/*";

fn policy(effect: &str, name: &str) -> Value {
    json!({
        "principalId": "user-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": STAGE}
        ]},
        "context": {"name": name}
    })
}

fn authorizer(answer: Result<Value, FunctionError>) -> Arc<dyn LambdaFunction> {
    from_fn(move |_| std::future::ready(answer.clone()))
}

/// hello as a fake: greets the event's name.
fn hello() -> Arc<dyn LambdaFunction> {
    from_fn(|event: Value| async move {
        let name = event["name"].as_str().unwrap_or_default().to_owned();
        Ok(json!({"message": format!("Hello {name}!")}))
    })
}

/// The stage and the local endpoints, as the local stack serves them.
fn router(authorizer: Arc<dyn LambdaFunction>, hello: Arc<dyn LambdaFunction>) -> axum::Router {
    let gateway = Arc::new(Gateway::new(settings(
        ApiDefinition::embedded().expect("openapi.yaml"),
        [("HelloFunction", hello), ("AuthorizerFunction", authorizer)],
    )));
    apigw::trace::local_app(gateway.clone()).merge(app(gateway))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    fn request_id(&self) -> String {
        self.header("x-amzn-requestid")
            .expect("a request ID")
            .to_owned()
    }
}

async fn send(router: &axum::Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

async fn get(router: &axum::Router, path: &str, token: Option<&str>) -> Answer {
    let mut request = Request::get(path).header("Origin", ORIGIN);
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    send(router, request.body(Body::empty()).unwrap()).await
}

async fn trace_of(router: &axum::Router, answer: &Answer) -> RequestTrace {
    let found = get(router, &trace_path(&answer.request_id()), None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    serde_json::from_str(&found.body).expect("a RequestTrace")
}

#[tokio::test]
async fn a_greetings_trace_holds_every_hop_with_the_token_only_as_a_fingerprint() {
    let router = router(authorizer(Ok(policy("Allow", "Jane"))), hello());
    let answer = get(&router, "/prod/hello", Some(TOKEN)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let trace = trace_of(&router, &answer).await;

    assert_eq!(
        (
            trace.method.as_str(),
            trace.path.as_str(),
            trace.resource.as_deref()
        ),
        ("GET", "/prod/hello", Some("/hello"))
    );
    let authorizer = trace.authorizer.as_ref().expect("the authorizer hop");
    assert_eq!(
        (
            authorizer.name.as_str(),
            authorizer.function.as_str(),
            authorizer.kind.as_str()
        ),
        ("GoogleIdToken", "AuthorizerFunction", "TOKEN")
    );
    assert_eq!(
        authorizer.event,
        Some(json!({"type": "TOKEN", "methodArn": ARN,
            "authorizationToken": format!("<token {}>", token_fingerprint(TOKEN))}))
    );
    assert_eq!(
        (authorizer.cache.hit, authorizer.cache.ttl_seconds),
        (false, 300)
    );
    assert_eq!(authorizer.decision, Decision::Allow);
    assert_eq!(
        authorizer.reason,
        format!(
            "the function's policy: Statement[0] allows execute-api:Invoke on {STAGE}, which covers {ARN}"
        )
    );
    assert_eq!(authorizer.principal_id.as_deref(), Some("user-1"));
    assert_eq!(
        authorizer.policy.as_ref(),
        Some(&policy("Allow", "Jane")["policyDocument"])
    );
    assert_eq!(
        authorizer.context,
        BTreeMap::from([("name".to_owned(), "Jane".to_owned())])
    );

    let template = trace.template.as_ref().expect("the template hop");
    assert_eq!(template.content_type, "application/json");
    assert_eq!(
        Some(template.source.as_str()),
        ApiDefinition::embedded()
            .unwrap()
            .request_template("GET", "/hello", "application/json")
    );
    assert_eq!(template.output, "{\"name\": \"Jane\"}\n");

    let integration = trace.integration.as_ref().expect("the integration hop");
    assert_eq!(
        (integration.kind.as_str(), integration.function.as_deref()),
        ("lambda", Some("HelloFunction"))
    );
    assert_eq!(integration.answer, json!({"message": "Hello Jane!"}));
    assert_eq!(
        (
            integration.selected.key.as_str(),
            integration.selected.status_code
        ),
        ("default", 200)
    );
    assert_eq!(integration.selected.template_output, None);

    assert_eq!(trace.response.status, 200);
    assert_eq!(trace.response.body, answer.body);
    let headers: Vec<(String, String)> = answer
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    assert_eq!(trace.response.headers, headers);
    assert!(
        headers.contains(&("access-control-allow-origin".into(), ORIGIN.into())),
        "{headers:?}"
    );
    assert_eq!(trace.stopped, None);
    let whole = serde_json::to_string(&trace).unwrap();
    assert!(!whole.contains("aaa.bbb.ccc"), "a whole token in {whole}");
}

#[tokio::test]
async fn a_cached_decision_shows_no_event_and_invokes_nothing() {
    let router = router(authorizer(Ok(policy("Allow", "Jane"))), hello());
    get(&router, "/prod/hello", Some(TOKEN)).await;
    let second = get(&router, "/prod/hello", Some(TOKEN)).await;
    assert_eq!(second.status, StatusCode::OK);
    let authorizer = trace_of(&router, &second).await.authorizer.unwrap();
    assert_eq!(authorizer.event, None);
    assert_eq!(
        (authorizer.cache.hit, authorizer.cache.ttl_seconds),
        (true, 300)
    );
    assert_eq!(authorizer.decision, Decision::Allow);
    assert!(
        authorizer
            .reason
            .starts_with("the cached decision: Statement[0] allows"),
        "{}",
        authorizer.reason
    );
    assert_eq!(authorizer.principal_id.as_deref(), Some("user-1"));

    let counts = get(&router, apigw::request_trace::INVOCATIONS_PATH, None).await;
    assert_eq!(counts.status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Invocations>(&counts.body).unwrap(),
        Invocations(BTreeMap::from([
            ("AuthorizerFunction".to_owned(), 1),
            ("HelloFunction".to_owned(), 2)
        ]))
    );
}

#[tokio::test]
async fn a_deny_names_the_statement_and_stops_at_the_authorizer() {
    let router = router(authorizer(Ok(policy("Deny", "Jane"))), hello());
    let answer = get(&router, "/prod/hello", Some(TOKEN)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let trace = trace_of(&router, &answer).await;
    let authorizer = trace.authorizer.as_ref().unwrap();
    assert_eq!(authorizer.decision, Decision::Deny);
    let reason = format!(
        "the function's policy: Statement[0] denies execute-api:Invoke on {STAGE}, which covers {ARN} (an explicit Deny wins over any Allow)"
    );
    assert_eq!(authorizer.reason, reason);
    let stopped = trace.stopped.as_ref().unwrap();
    assert_eq!(stopped.hop, Hop::Authorizer);
    assert_eq!(
        stopped.reason,
        format!("403, the policy denies this method: {reason}")
    );
    assert_eq!((trace.template, trace.integration), (None, None));
    assert_eq!(trace.response.status, 403);
    assert_eq!(
        trace.response.body,
        "{\"message\": \"User is not authorized to access this resource with an explicit deny\"}"
    );
}

#[tokio::test]
async fn a_missing_token_stops_at_the_authorizer_without_invoking_it() {
    let router = router(authorizer(Ok(policy("Allow", "Jane"))), hello());
    let answer = get(&router, "/prod/hello", None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let trace = trace_of(&router, &answer).await;
    let authorizer = trace.authorizer.as_ref().unwrap();
    assert_eq!(authorizer.decision, Decision::Unauthorized);
    assert_eq!(authorizer.event, None);
    let reason = "no Authorization header (or an empty one): API Gateway answers 401 without invoking the authorizer";
    assert_eq!(authorizer.reason, reason);
    assert_eq!(
        trace.stopped.as_ref().map(|s| (s.hop, s.reason.as_str())),
        Some((Hop::Authorizer, format!("401: {reason}").as_str()))
    );
    let counts = get(&router, apigw::request_trace::INVOCATIONS_PATH, None).await;
    assert_eq!(counts.body, r#"{"AuthorizerFunction":0,"HelloFunction":0}"#);
}

#[tokio::test]
async fn a_function_error_shows_the_error_and_the_500_response_it_selected() {
    let failing = from_fn(|_| async {
        Err(FunctionError {
            error_type: "HelloError".into(),
            error_message: "name is empty".into(),
        })
    });
    let router = router(authorizer(Ok(policy("Allow", "Jane"))), failing);
    let answer = get(&router, "/prod/hello", Some(TOKEN)).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    let trace = trace_of(&router, &answer).await;
    let integration = trace.integration.as_ref().unwrap();
    assert_eq!(
        integration.answer,
        json!({"errorMessage": "name is empty", "errorType": "HelloError"})
    );
    assert_eq!(
        (
            integration.selected.key.as_str(),
            integration.selected.status_code
        ),
        (".+", 500)
    );
    let output =
        "{\"message\": \"The greeting could not be made.\", \"detail\": \"name is empty\"}";
    assert_eq!(
        integration.selected.template_output.as_deref(),
        Some(output)
    );
    assert_eq!(trace.response.body, output);
    assert_eq!(
        trace.stopped.as_ref().map(|s| (s.hop, s.reason.as_str())),
        Some((
            Hop::Integration,
            "HelloFunction failed with HelloError: name is empty; integration response \".+\" answered 500"
        ))
    );
}

#[tokio::test]
async fn no_route_stops_at_the_route() {
    let router = router(authorizer(Ok(policy("Allow", "Jane"))), hello());
    let answer = get(&router, "/prod/nowhere", Some(TOKEN)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let trace = trace_of(&router, &answer).await;
    assert_eq!((trace.resource, trace.authorizer), (None, None));
    assert_eq!(
        trace.stopped.map(|s| (s.hop, s.reason)),
        Some((
            Hop::Route,
            "the definition has no GET method on /nowhere: API Gateway answers 403 Missing Authentication Token".to_owned()
        ))
    );
}

#[tokio::test]
async fn the_store_keeps_the_last_256_requests() {
    let router = router(authorizer(Ok(policy("Allow", "Jane"))), hello());
    let preflight = || {
        Request::options("/prod/hello")
            .header("Origin", ORIGIN)
            .body(Body::empty())
            .unwrap()
    };
    let first = send(&router, preflight()).await;
    let second = send(&router, preflight()).await;
    for _ in 0..apigw::trace::MAX_TRACES - 1 {
        send(&router, preflight()).await;
    }
    let gone = get(&router, &trace_path(&first.request_id()), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let kept = trace_of(&router, &second).await;
    assert_eq!(kept.integration.unwrap().kind, "mock");
}

#[tokio::test]
async fn an_unknown_request_id_is_a_404_with_a_message() {
    let router = router(authorizer(Ok(policy("Allow", "Jane"))), hello());
    let answer = get(&router, &trace_path("no-such-id"), None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.body,
        r#"{"message":"no trace of request no-such-id: unknown, or older than the last 256 requests"}"#
    );
}

#[tokio::test]
async fn only_the_site_origin_may_read_the_traces() {
    let router = router(authorizer(Ok(policy("Allow", "Jane"))), hello());
    let preflight = |origin: &str| {
        Request::options(trace_path("x"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = send(&router, preflight(ORIGIN)).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(allowed.header("access-control-allow-methods"), Some("GET"));

    let refused = send(&router, preflight("http://evil.example")).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    let read = get(&router, &trace_path("x"), None).await;
    assert_eq!(read.header("access-control-allow-origin"), Some(ORIGIN));
}
