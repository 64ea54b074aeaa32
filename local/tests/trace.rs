//! Each request's trace through real HTTP, with the production authorizer and hello in
//! process: `GET /.local/trace/{requestId}` and `GET /.local/invocations` on the API's
//! origin, CORS for the site only, the functions' own log lines in the hops. Every test
//! shares the one global subscriber `local::start` installs; lines are routed per
//! invocation, so the tests run in parallel.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use local::functions::{InProcessHello, from_fn};
use local::{LambdaFunction, LambdaMode, RunningStack, StackConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use apigw::request_trace::{Decision, Hop, Invocations, RequestTrace, trace_path};

const HOSTILE: &str = "O'Brien \"Bob\" <b>&";
const STAGE_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/*/*";

/// `http://127.0.0.1:P`, where the local endpoints are (the stage's URL without it).
fn api_origin(stack: &RunningStack) -> String {
    stack
        .api_url()
        .strip_suffix("/prod")
        .expect("the stage prod")
        .to_owned()
}

async fn local_get(stack: &RunningStack, path: &str) -> Answer {
    let response = client()
        .get(format!("{}{path}", api_origin(stack)))
        .header("Origin", ORIGIN)
        .send()
        .await
        .expect("the API answers");
    read(response).await
}

/// The trace of the request that got `answer`.
async fn trace_of(stack: &RunningStack, answer: &Answer) -> RequestTrace {
    let id = answer.header("x-amzn-requestid").expect("a request ID");
    let found = local_get(stack, &trace_path(id)).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.header("access-control-allow-origin"), Some(ORIGIN));
    serde_json::from_str(&found.body).expect("a RequestTrace")
}

async fn invocations(stack: &RunningStack) -> Invocations {
    let answer = local_get(stack, "/.local/invocations").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    serde_json::from_str(&answer.body).expect("Invocations")
}

fn counts(authorizer: u64, hello: u64) -> Invocations {
    Invocations(
        [
            ("AuthorizerFunction".to_owned(), authorizer),
            ("HelloFunction".to_owned(), hello),
        ]
        .into(),
    )
}

/// The `fields` of each of a hop's log lines (JSON, as the Lambdas write them).
fn fields(logs: &[String]) -> Vec<Value> {
    logs.iter()
        .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line")["fields"].clone())
        .collect()
}

/// The real hello, in process, keeping every event it received.
fn recording_hello() -> (Arc<dyn LambdaFunction>, Arc<Mutex<Vec<Value>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let kept = events.clone();
    let function = from_fn(move |event: Value| {
        kept.lock().unwrap().push(event.clone());
        async move { InProcessHello.invoke(event, "test").await }
    });
    (function, events)
}

#[tokio::test]
async fn a_hostile_names_template_output_is_byte_for_byte_what_hello_received() {
    let (hello_fn, received) = recording_hello();
    let stack = start(StackConfig {
        lambdas: LambdaMode::Custom {
            authorizer: None,
            hello: Some(hello_fn),
        },
        ..config()
    })
    .await;
    let token = sign_in(&stack, HOSTILE, "bob@example.com").await;
    let answer = hello(&stack, Some(&format!("Bearer {token}"))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"message": format!("Hello {HOSTILE}!")})
    );
    let trace = trace_of(&stack, &answer).await;

    let template = trace.template.as_ref().expect("the template hop");
    // escapeJavaScript escapes the quotes, the replaceAll undoes the \' JSON forbids.
    assert_eq!(
        template.output,
        "{\"name\": \"O'Brien \\\"Bob\\\" <b>&\"}\n"
    );
    let received = received.lock().unwrap().clone();
    assert_eq!(
        received,
        vec![serde_json::from_str::<Value>(&template.output).unwrap()]
    );

    let authorizer = trace.authorizer.as_ref().expect("the authorizer hop");
    assert_eq!(authorizer.decision, Decision::Allow);
    assert_eq!(authorizer.context["name"], HOSTILE);
    let logged = fields(&authorizer.logs);
    assert_eq!(logged.len(), 1, "{:?}", authorizer.logs);
    assert_eq!(logged[0]["message"], "token accepted");
    assert_eq!(logged[0]["decision"], "allow");
    let integration = trace.integration.as_ref().expect("the integration hop");
    assert_eq!(
        integration.answer,
        json!({"message": format!("Hello {HOSTILE}!")})
    );
    assert_eq!(
        integration.logs,
        Vec::<String>::new(),
        "hello logs nothing on success"
    );
    assert_eq!(trace.response.body, answer.body);
    assert_eq!(trace.stopped, None);
    let whole = serde_json::to_string(&trace).unwrap();
    assert!(!whole.contains(&token), "the whole token is in the trace");
    stack.shutdown().await;
}

#[tokio::test]
async fn a_request_without_a_token_stops_at_the_authorizer_which_is_not_invoked() {
    let stack = stack().await;
    let answer = hello(&stack, None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let trace = trace_of(&stack, &answer).await;
    let authorizer = trace.authorizer.as_ref().unwrap();
    assert_eq!(authorizer.decision, Decision::Unauthorized);
    assert_eq!((&authorizer.event, &authorizer.logs), (&None, &vec![]));
    let stopped = trace.stopped.as_ref().unwrap();
    assert_eq!(stopped.hop, Hop::Authorizer);
    assert_eq!(
        stopped.reason,
        "401: no Authorization header (or an empty one): API Gateway answers 401 without invoking the authorizer"
    );
    assert_eq!((&trace.template, &trace.integration), (&None, &None));
    assert_eq!(invocations(&stack).await, counts(0, 0));
    stack.shutdown().await;
}

#[tokio::test]
async fn an_expired_tokens_401_gives_the_reason_the_authorizer_logged() {
    let stack = stack().await;
    stack.set_token_lifetime_seconds(-3600);
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    let answer = hello(&stack, Some(&format!("Bearer {token}"))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    let trace = trace_of(&stack, &answer).await;
    let authorizer = trace.authorizer.as_ref().unwrap();
    assert_eq!(authorizer.decision, Decision::Unauthorized);
    let event = authorizer.event.as_ref().expect("invoked: the event sent");
    assert_eq!(event["type"], "TOKEN");
    assert!(
        event["authorizationToken"]
            .as_str()
            .unwrap()
            .starts_with("<token "),
        "{event}"
    );
    let logged = fields(&authorizer.logs);
    assert_eq!(logged.len(), 1, "{:?}", authorizer.logs);
    assert_eq!(
        (&logged[0]["decision"], &logged[0]["reason"]),
        (&json!("unauthorized"), &json!("expired"))
    );
    let detail = logged[0]["detail"].as_str().unwrap();
    assert_eq!(
        authorizer.reason,
        format!(
            "AuthorizerFunction answered the error \"Unauthorized\"; its log says: expired ({detail})"
        )
    );
    assert_eq!(
        trace.stopped.as_ref().map(|s| (s.hop, s.reason.clone())),
        Some((Hop::Authorizer, format!("401: {}", authorizer.reason)))
    );
    assert_eq!(invocations(&stack).await, counts(1, 0));
    stack.shutdown().await;
}

#[tokio::test]
async fn a_hosted_domain_deny_names_the_statement_that_denied() {
    let stack = start(StackConfig {
        allowed_hosted_domains: vec!["example.com".into()],
        ..config()
    })
    .await;
    let token = sign_in_with(
        &stack,
        json!({"name": "Jane", "email": "jane@elsewhere.org", "hd": "elsewhere.org"}),
    )
    .await;
    let answer = hello(&stack, Some(&format!("Bearer {token}"))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    let trace = trace_of(&stack, &answer).await;
    let authorizer = trace.authorizer.as_ref().unwrap();
    assert_eq!(authorizer.decision, Decision::Deny);
    assert_eq!(
        authorizer.reason,
        format!(
            "the function's policy: Statement[0] denies execute-api:Invoke on {STAGE_ARN}, which covers {HELLO_ARN} (an explicit Deny wins over any Allow)"
        )
    );
    assert_eq!(
        authorizer
            .policy
            .as_ref()
            .map(|p| p["Statement"][0]["Effect"].clone()),
        Some(json!("Deny"))
    );
    assert_eq!(fields(&authorizer.logs)[0]["decision"], "deny");
    assert_eq!(trace.stopped.as_ref().map(|s| s.hop), Some(Hop::Authorizer));
    stack.shutdown().await;
}

#[tokio::test]
async fn a_second_request_is_a_cache_hit_that_invokes_no_authorizer() {
    let stack = stack().await;
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    let bearer = format!("Bearer {token}");
    let first = hello(&stack, Some(&bearer)).await;
    let second = hello(&stack, Some(&bearer)).await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK)
    );
    let missed = trace_of(&stack, &first).await.authorizer.unwrap();
    assert_eq!((missed.cache.hit, missed.cache.ttl_seconds), (false, 300));
    assert!(missed.event.is_some());
    let hit = trace_of(&stack, &second).await.authorizer.unwrap();
    assert_eq!((hit.cache.hit, hit.cache.ttl_seconds), (true, 300));
    assert_eq!((hit.event, hit.logs), (None, vec![]));
    assert_eq!(hit.decision, Decision::Allow);
    assert_eq!(hit.principal_id, missed.principal_id);
    assert_eq!(invocations(&stack).await, counts(1, 2));
    assert_eq!(stack.invocations(), counts(1, 2));
    assert_eq!(stack.authorizer_invocations(), 1);
    stack.shutdown().await;
}

#[tokio::test]
async fn an_unknown_request_id_is_a_404_with_a_message() {
    let stack = stack().await;
    let answer = local_get(&stack, &trace_path("00000000-0000-0000-0000-000000000000")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        json!({"message": "no trace of request 00000000-0000-0000-0000-000000000000: unknown, or older than the last 256 requests"})
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn the_trace_endpoints_allow_the_site_origin_and_refuse_any_other() {
    let stack = stack().await;
    let preflight = |origin: &'static str| {
        client()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/.local/invocations", api_origin(&stack)),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .send()
    };
    let allowed = read(preflight(ORIGIN).await.unwrap()).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(allowed.header("access-control-allow-methods"), Some("GET"));
    let refused = read(preflight("http://127.0.0.1:9999").await.unwrap()).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert_eq!(refused.header("access-control-allow-methods"), Some("GET"));
    stack.shutdown().await;
}

#[tokio::test]
async fn the_page_may_read_the_request_id_of_every_answer() {
    let stack = stack().await;
    let token = sign_in(&stack, "Jane Doe", "jane@example.com").await;
    for answer in [
        hello(&stack, Some(&format!("Bearer {token}"))).await,
        hello(&stack, None).await,
    ] {
        assert_eq!(
            answer.header("access-control-expose-headers"),
            Some("x-amzn-RequestId"),
            "{}",
            answer.status
        );
        assert!(answer.header("x-amzn-requestid").is_some());
    }
    stack.shutdown().await;
}

/// The one global subscriber routes each line to the invocation that wrote it.
#[tokio::test]
async fn a_functions_events_become_json_lines_in_its_own_invocations_log() {
    local::function_logs::install();
    let (_, lines) = apigw::lambda::with_log(async {
        tracing::info!(decision = "unauthorized", reason = "expired", kid = %"k1", n = 3, "token refused");
        tracing::debug!("below Lambda's default level");
        tracing::info!(target: "local::hop", "the emulator's own line");
    })
    .await;
    tracing::info!("outside any invocation");
    assert_eq!(
        lines,
        vec![
            r#"{"fields":{"decision":"unauthorized","kid":"k1","message":"token refused","n":3,"reason":"expired"},"level":"INFO"}"#
        ]
    );
}
