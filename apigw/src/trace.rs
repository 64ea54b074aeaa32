//! The trace of every request the stage serves ([`request_trace::RequestTrace`]), kept in
//! a bounded store and served, with the invocation counts, on the local-only endpoints
//! ([`local_app`]).
//!
//! Recording is cheap by design: while a request runs, the gateway notes what it has
//! anyway (the shared cached decision, the rendered template, the answer's text, the
//! function's log lines) in a `Recorder`, the text appended to one string per
//! request; the sentences and the JSON of a [`RequestTrace`] are only built when
//! someone asks for that trace.
//! Credentials are the exception: they are shortened to fingerprints before anything is
//! stored, so no whole token is ever kept.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use request_trace::{
    AuthorizerHop, CacheUse, Decision, Hop, IntegrationHop, RequestTrace, ResponseHop,
    SelectedResponse, Stop, TemplateHop,
};
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::definition::ApiDefinition;
use crate::gateway::Gateway;
use crate::lambda::{AuthorizerRequest, FunctionError};
use crate::policy::{AuthorizerResult, Verdict};
use authorizer_contract::{MethodArn, token_fingerprint};

/// How many requests the store keeps at most (the oldest go first).
pub const MAX_TRACES: usize = 256;

/// How many bytes (about: the text the traces hold) the store keeps at most. One trace
/// larger than this is still kept, alone, until the next request.
pub const MAX_TRACE_BYTES: usize = 8 * 1024 * 1024;

/// What the gateway notes while one request runs. Every method takes `&self` (the
/// request's hops borrow the call), hence the lock; nothing else ever holds it.
///
/// The draft is boxed: at ~500 bytes, moving it into the store by value (and the store's
/// queue moving it again) was a visible share of a request's CPU in the load bench.
#[derive(Debug, Default)]
pub(crate) struct Recorder(Mutex<Box<Draft>>);

/// What a draft's text starts with room for.
const TYPICAL_TRACE_BYTES: usize = 768;

/// Where a piece of a draft's text lies in [`Draft::text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

/// One request's trace as noted. Its text (names, the template's output, the answer,
/// the body, the response's headers) is one string, each piece a [`Span`] of it: a
/// trace is a couple of allocations rather than one per piece, which a store of 256
/// traces also frees as a couple of cold blocks: 2% of a cached request's
/// instructions and a quarter of its data cache misses (callgrind's cache simulation,
/// load bench).
#[derive(Debug, Default)]
pub(crate) struct Draft {
    text: String,
    request_id: Span,
    method: Span,
    path: Span,
    resource: Option<Span>,
    authorizer: Option<AuthorizerDraft>,
    /// Content type and output; the source is the definition's, looked up when read.
    template: Option<(Span, Span)>,
    answer: Option<AnswerDraft>,
    selected: Option<SelectedDraft>,
    stopped: Option<StopDraft>,
    /// The response's body, as the answer was built from it.
    body: Span,
    /// The response's headers as `name: value` lines ([`Recorder::response_headers`]).
    response_headers: Span,
}

impl Draft {
    /// Appends `piece` to the text. A draft's text stays far below 4 GiB (the gateway's
    /// bodies are at most 10 MB); past it the span would be empty.
    fn push(&mut self, piece: &str) -> Span {
        if self.text.capacity() == 0 {
            // Room for a cached greeting's whole trace (~500 bytes, headers included): one
            // allocation, where growing by doubling took seven.
            self.text.reserve(TYPICAL_TRACE_BYTES.max(piece.len()));
        }
        let start = self.text.len();
        self.text.push_str(piece);
        self.span_from(start)
    }

    /// The text from `start` to its end.
    fn span_from(&self, start: usize) -> Span {
        match (u32::try_from(start), u32::try_from(self.text.len())) {
            (Ok(start), Ok(end)) => Span { start, end },
            _ => Span::default(),
        }
    }

    fn get(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }
}

/// The authorizer hop as noted; its decision and reason are worded when read.
#[derive(Debug)]
pub(crate) struct AuthorizerDraft {
    name: Span,
    function: Span,
    kind: &'static str,
    /// Parsed again when read: a request keeps its text only.
    method_arn: Span,
    ttl_seconds: u32,
    pub hit: bool,
    /// Fingerprinted ([`shown_event`]).
    pub event: Option<Value>,
    pub logs: Vec<String>,
    pub outcome: AuthorizerOutcome,
}

/// How the authorizer hop ended.
#[derive(Debug)]
pub(crate) enum AuthorizerOutcome {
    /// Not decided yet (the request is still running, or the function never answered).
    Pending,
    /// A well-formed answer, from the function or the cache: its policy decides.
    Decided(Arc<AuthorizerResult>),
    /// API Gateway answered 401 without invoking the function; why.
    NotInvoked(String),
    /// The function answered the error `Unauthorized`.
    Unauthorized,
    /// The function failed, timed out, answered nonsense, or is missing; why.
    Failed(String),
}

#[derive(Debug)]
struct AnswerDraft {
    kind: &'static str,
    function: Option<Span>,
    /// The answer's JSON text (what the integration response reads anyway), parsed
    /// only when the trace is read.
    answer: Result<Span, FunctionError>,
    logs: Vec<String>,
}

#[derive(Debug)]
struct SelectedDraft {
    key: Span,
    status_code: u16,
    template_output: Option<Span>,
}

#[derive(Debug)]
struct StopDraft {
    hop: Hop,
    /// `None`: the authorizer hop's reason says it.
    reason: Option<String>,
}

impl Recorder {
    fn with<T>(&self, f: impl FnOnce(&mut Draft) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The request, as it arrived.
    pub fn request(&self, request_id: &str, method: &str, path: &str) {
        self.with(|d| {
            d.request_id = d.push(request_id);
            d.method = d.push(method);
            d.path = d.push(path);
        });
    }

    pub fn resource(&self, resource: &str) {
        self.with(|d| d.resource = Some(d.push(resource)));
    }

    /// The authorizer hop begins: authorizer `name` (of `kind`, TOKEN or REQUEST),
    /// its function, the method ARN it decides on and the cache TTL that applies.
    pub fn authorizer(
        &self,
        name: &str,
        function: &str,
        kind: &'static str,
        method_arn: &MethodArn,
        ttl_seconds: u32,
    ) {
        self.with(|d| {
            let hop = AuthorizerDraft {
                name: d.push(name),
                function: d.push(function),
                kind,
                method_arn: d.push(method_arn.as_str()),
                ttl_seconds,
                hit: false,
                event: None,
                logs: Vec::new(),
                outcome: AuthorizerOutcome::Pending,
            };
            d.authorizer = Some(hop);
        });
    }

    /// Updates the authorizer hop (nothing when none began).
    pub fn with_authorizer(&self, f: impl FnOnce(&mut AuthorizerDraft)) {
        self.with(|d| d.authorizer.as_mut().map(f));
    }

    pub fn template(&self, content_type: &str, output: &str) {
        self.with(|d| d.template = Some((d.push(content_type), d.push(output))));
    }

    /// The integration answered: a mock (`function` `None`, answer `null`) or a
    /// function (its answer as JSON text).
    pub fn answer(
        &self,
        function: Option<&str>,
        answer: Result<&str, FunctionError>,
        logs: Vec<String>,
    ) {
        self.with(|d| {
            let answer = AnswerDraft {
                kind: if function.is_some() { "lambda" } else { "mock" },
                function: function.map(|f| d.push(f)),
                answer: answer.map(|text| d.push(text)),
                logs,
            };
            d.answer = Some(answer);
        });
    }

    pub fn selected(&self, key: &str, status: StatusCode, template_output: Option<&str>) {
        self.with(|d| {
            let selected = SelectedDraft {
                key: d.push(key),
                status_code: status.as_u16(),
                template_output: template_output.map(|t| d.push(t)),
            };
            d.selected = Some(selected);
        });
    }

    /// The body of the answer being sent.
    pub fn body(&self, body: &str) {
        self.with(|d| d.body = d.push(body));
    }

    /// The headers of the answer being sent, as `name: value` lines (a value that is
    /// not UTF-8, lossily): one more piece of the text rather than a map of shared
    /// buffers (cloning the response's `HeaderMap` and freeing the evicted one was ~3%
    /// of the server's CPU in the load bench).
    pub fn response_headers(&self, headers: &HeaderMap) {
        self.with(|d| {
            let start = d.text.len();
            for (name, value) in headers {
                d.text.push_str(name.as_str());
                d.text.push_str(": ");
                // Lossy only for a value that is not UTF-8 (none the gateway sets):
                // `from_utf8` checks a word at a time, `from_utf8_lossy` walks chunk by
                // chunk (~2% of a cached request, callgrind).
                match std::str::from_utf8(value.as_bytes()) {
                    Ok(text) => d.text.push_str(text),
                    Err(_) => d.text.push_str(&String::from_utf8_lossy(value.as_bytes())),
                }
                d.text.push('\n');
            }
            d.response_headers = d.span_from(start);
        });
    }

    /// The request stops at `hop`: the first stop noted is the one kept.
    pub fn stop(&self, hop: Hop, reason: impl Into<String>) {
        self.stop_as(hop, Some(reason.into()));
    }

    /// The request stops at the authorizer, for the reason its hop gives.
    pub fn stop_at_authorizer(&self) {
        self.stop_as(Hop::Authorizer, None);
    }

    fn stop_as(&self, hop: Hop, reason: Option<String>) {
        self.with(|d| {
            d.stopped.get_or_insert(StopDraft { hop, reason });
        });
    }

    pub fn into_draft(self) -> Box<Draft> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// One served request, as stored.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub draft: Box<Draft>,
    pub status: StatusCode,
}

/// The `(name, value)` pairs of [`Recorder::response_headers`]' lines (a header value
/// has no line break, so each line is one header).
fn header_pairs(lines: &str) -> impl Iterator<Item = (&str, &str)> {
    lines
        .lines()
        .map(|line| line.split_once(": ").unwrap_or((line, "")))
}

impl Recorded {
    /// The request it traces.
    fn request_id(&self) -> &str {
        self.draft.get(self.draft.request_id)
    }

    /// About how many bytes the trace holds: its text, which dominates.
    fn weight(&self) -> usize {
        let d = &self.draft;
        let authorizer = d.authorizer.as_ref().map_or(0, |a| {
            a.event.as_ref().map_or(0, value_weight) + lines_weight(&a.logs)
        });
        let answer = d.answer.as_ref().map_or(0, |a| {
            lines_weight(&a.logs)
                + match &a.answer {
                    Ok(_) => 0,
                    Err(e) => e.error_message.len() + e.error_type.len(),
                }
        });
        d.text.len() + authorizer + answer
    }

    /// The trace, worded; the template's source is `definition`'s.
    fn to_trace(&self, definition: &ApiDefinition) -> RequestTrace {
        let d = &self.draft;
        let authorizer = d.authorizer.as_ref().map(|a| authorizer_hop(a, d));
        let integration = match (&d.answer, &d.selected) {
            (Some(answer), Some(selected)) => Some(IntegrationHop {
                kind: answer.kind.to_owned(),
                function: answer.function.map(|f| d.get(f).to_owned()),
                answer: match &answer.answer {
                    // The answer as serde_json wrote it (a Value or a typed answer):
                    // it parses back.
                    Ok(text) => {
                        let text = d.get(*text);
                        serde_json::from_str(text).unwrap_or_else(|_| json!(text))
                    }
                    Err(error) => error.to_json(),
                },
                logs: answer.logs.clone(),
                selected: SelectedResponse {
                    key: d.get(selected.key).to_owned(),
                    status_code: selected.status_code,
                    template_output: selected.template_output.map(|t| d.get(t).to_owned()),
                },
            }),
            _ => None,
        };
        let stopped = match &d.stopped {
            Some(StopDraft {
                hop,
                reason: Some(reason),
            }) => Some(Stop {
                hop: *hop,
                reason: reason.clone(),
            }),
            Some(StopDraft { hop, reason: None }) => Some(Stop {
                hop: *hop,
                reason: authorizer.as_ref().map_or_else(
                    || "the authorizer refused the request".to_owned(),
                    |a| format!("{}: {}", decision_words(a.decision), a.reason),
                ),
            }),
            // The integration answered, with a server error (a function error selected
            // a 5xx integration response, or a mock said so).
            None if self.status.is_server_error() => Some(Stop {
                hop: Hop::Integration,
                reason: integration_failure(d, self.status),
            }),
            None => None,
        };
        let method = d.get(d.method);
        let resource = d.resource.map(|r| d.get(r));
        RequestTrace {
            request_id: self.request_id().to_owned(),
            method: method.to_owned(),
            path: d.get(d.path).to_owned(),
            resource: resource.map(str::to_owned),
            authorizer,
            template: d.template.map(|(content_type, output)| {
                let content_type = d.get(content_type);
                TemplateHop {
                    content_type: content_type.to_owned(),
                    source: resource
                        .and_then(|resource| {
                            [method, "ANY"].into_iter().find_map(|method| {
                                definition.request_template(method, resource, content_type)
                            })
                        })
                        .unwrap_or_default()
                        .to_owned(),
                    output: d.get(output).to_owned(),
                }
            }),
            integration,
            response: ResponseHop {
                status: self.status.as_u16(),
                headers: self.headers_sent(),
                body: d.get(d.body).to_owned(),
            },
            stopped,
        }
    }

    /// The response's headers, and the `content-length` the server adds to them (every
    /// answer here is one buffer of known length).
    fn headers_sent(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> =
            header_pairs(self.draft.get(self.draft.response_headers))
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect();
        let bodiless = self.status.is_informational()
            || self.status == StatusCode::NO_CONTENT
            || self.status == StatusCode::NOT_MODIFIED;
        if !bodiless
            && !headers
                .iter()
                .any(|(name, _)| name == axum::http::header::CONTENT_LENGTH.as_str())
        {
            headers.push((
                "content-length".into(),
                self.draft.get(self.draft.body).len().to_string(),
            ));
        }
        headers
    }
}

fn decision_words(decision: Decision) -> &'static str {
    match decision {
        Decision::Allow => "allowed",
        Decision::Deny => "403, the policy denies this method",
        Decision::Unauthorized => "401",
        Decision::Error => "500, the authorizer failed",
    }
}

fn integration_failure(draft: &Draft, status: StatusCode) -> String {
    let selected = draft
        .selected
        .as_ref()
        .map(|s| {
            format!(
                "; integration response {:?} answered {}",
                draft.get(s.key),
                status.as_u16()
            )
        })
        .unwrap_or_default();
    match &draft.answer {
        Some(AnswerDraft {
            function: Some(function),
            answer: Err(error),
            ..
        }) => format!(
            "{} failed with {}: {}{selected}",
            draft.get(*function),
            error.error_type,
            error.error_message
        ),
        _ => format!("the integration answered {}{selected}", status.as_u16()),
    }
}

/// The authorizer hop of `draft`, worded.
fn authorizer_hop(a: &AuthorizerDraft, draft: &Draft) -> AuthorizerHop {
    let function = draft.get(a.function);
    // Written by `MethodArn::new`, it parses back (authorizer-contract's round trip).
    let method_arn = MethodArn::parse(draft.get(a.method_arn)).ok();
    let (decision, reason, result) = match (&a.outcome, &method_arn) {
        (AuthorizerOutcome::Decided(result), Some(method_arn)) => {
            let decision = match result.evaluate(method_arn) {
                Verdict::Allow => Decision::Allow,
                Verdict::ExplicitDeny | Verdict::ImplicitDeny => Decision::Deny,
            };
            let source = if a.hit {
                "the cached decision"
            } else {
                "the function's policy"
            };
            (
                decision,
                format!("{source}: {}", result.explain(method_arn)),
                Some(result),
            )
        }
        (AuthorizerOutcome::Decided(result), None) => (
            Decision::Error,
            format!(
                "the method ARN {:?} does not parse back",
                draft.get(a.method_arn)
            ),
            Some(result),
        ),
        (AuthorizerOutcome::NotInvoked(reason), _) => {
            (Decision::Unauthorized, reason.clone(), None)
        }
        (AuthorizerOutcome::Unauthorized, _) => (
            Decision::Unauthorized,
            unauthorized_reason(function, &a.logs),
            None,
        ),
        (AuthorizerOutcome::Failed(reason), _) => (Decision::Error, reason.clone(), None),
        (AuthorizerOutcome::Pending, _) => (
            Decision::Error,
            "the authorizer did not decide".to_owned(),
            None,
        ),
    };
    AuthorizerHop {
        name: draft.get(a.name).to_owned(),
        function: function.to_owned(),
        kind: a.kind.to_owned(),
        event: a.event.clone(),
        cache: CacheUse {
            hit: a.hit,
            ttl_seconds: a.ttl_seconds,
        },
        decision,
        reason,
        principal_id: result.map(|r| r.principal_id.clone()),
        policy: result.map(|r| r.policy.clone()),
        context: result.map(|r| r.context.clone()).unwrap_or_default(),
        logs: a.logs.clone(),
    }
}

/// API Gateway knows only that the function answered `Unauthorized`; the function's own
/// log says why. A log line is JSON with `fields` (what the Lambdas' subscribers write,
/// e.g. `{"level":"INFO","fields":{"message":"token refused","reason":"token_expired",
/// "detail":"..."}}`): the last one with a `reason` gives it.
fn unauthorized_reason(function: &str, logs: &[String]) -> String {
    let said = logs.iter().rev().find_map(|line| {
        let value: Value = serde_json::from_str(line).ok()?;
        let fields = value.get("fields")?;
        let reason = fields.get("reason")?.as_str()?.to_owned();
        Some(match fields.get("detail").and_then(Value::as_str) {
            Some(detail) => format!("{reason} ({detail})"),
            None => reason,
        })
    });
    match said {
        Some(said) => {
            format!("{function} answered the error \"Unauthorized\"; its log says: {said}")
        }
        None => format!("{function} answered the error \"Unauthorized\" (its log gives no reason)"),
    }
}

fn lines_weight(lines: &[String]) -> usize {
    lines.iter().map(String::len).sum()
}

/// About the length of `value` as JSON, without writing it.
fn value_weight(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len() + 2,
        Value::Array(items) => items.iter().map(value_weight).sum::<usize>() + 2,
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| k.len() + 4 + value_weight(v))
            .sum::<usize>()
            .saturating_add(2),
        _ => 8,
    }
}

/// The recent requests, newest last, within [`MAX_TRACES`] and [`MAX_TRACE_BYTES`].
#[derive(Debug)]
pub(crate) struct TraceStore {
    max_traces: usize,
    max_bytes: usize,
    inner: Mutex<StoreInner>,
}

#[derive(Debug, Default)]
struct StoreInner {
    traces: VecDeque<(Recorded, usize)>,
    bytes: usize,
}

impl Default for TraceStore {
    fn default() -> Self {
        TraceStore::new(MAX_TRACES, MAX_TRACE_BYTES)
    }
}

impl TraceStore {
    pub fn new(max_traces: usize, max_bytes: usize) -> Self {
        TraceStore {
            max_traces: max_traces.max(1),
            max_bytes,
            inner: Mutex::new(StoreInner::default()),
        }
    }

    /// Keeps `recorded`, dropping the oldest traces beyond the bounds. The lock is held
    /// for a push and a pop only: the dropped trace is freed after it is released (with
    /// more busy threads than cores, a thread preempted while freeing under the lock
    /// stalled every other request: a quarter of the throughput in the load bench).
    pub fn insert(&self, recorded: Recorded) {
        let mut pending = Some((recorded.weight(), recorded));
        loop {
            let dropped = {
                let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((weight, recorded)) = pending.take() {
                    inner.bytes += weight;
                    inner.traces.push_back((recorded, weight));
                }
                let over = inner.traces.len() > self.max_traces
                    || (inner.bytes > self.max_bytes && inner.traces.len() > 1);
                if over {
                    inner.traces.pop_front().map(|(recorded, weight)| {
                        inner.bytes -= weight;
                        recorded
                    })
                } else {
                    None
                }
            };
            if dropped.is_none() {
                break;
            }
        }
    }

    /// The trace of `request_id`, if it is still kept.
    pub fn get(&self, request_id: &str, definition: &ApiDefinition) -> Option<RequestTrace> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .traces
            .iter()
            .rev()
            .find(|(r, _)| r.request_id() == request_id)
            .map(|(r, _)| r.to_trace(definition))
    }
}

/// The authorizer event as the trace shows it: as sent, but every credential shortened
/// to `<token {fingerprint}>`. For a TOKEN event that is `authorizationToken`; for a
/// REQUEST event any header or query string value may be one (an authorizer may read its
/// credential from any of them), so each is shortened except the values of
/// [`PLAIN_HEADERS`], which carry none.
pub fn shown_event(event: &AuthorizerRequest) -> Value {
    match event {
        AuthorizerRequest::Token(token) => json!({
            "type": token.type_,
            "authorizationToken": shortened(token.authorization_token.as_deref().unwrap_or("")),
            "methodArn": token.method_arn,
        }),
        AuthorizerRequest::Request(..) => {
            let mut shown = event.to_json().unwrap_or_default();
            for (field, is_header) in [
                ("headers", true),
                ("multiValueHeaders", true),
                ("queryStringParameters", false),
                ("multiValueQueryStringParameters", false),
            ] {
                let Some(Value::Object(map)) = shown.get_mut(field) else {
                    continue;
                };
                for (name, value) in map.iter_mut() {
                    if is_header && PLAIN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                        continue;
                    }
                    match value {
                        Value::Array(values) => values
                            .iter_mut()
                            .for_each(|v| *v = json!(shortened(v.as_str().unwrap_or("")))),
                        other => *other = json!(shortened(other.as_str().unwrap_or(""))),
                    }
                }
            }
            shown
        }
    }
}

/// Request headers no authorizer reads a credential from (fetch metadata, content
/// negotiation, the client's address), shown as sent in a REQUEST event.
pub const PLAIN_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "connection",
    "content-length",
    "content-type",
    "host",
    "origin",
    "pragma",
    "referer",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "user-agent",
    "via",
    "x-forwarded-for",
    "x-forwarded-port",
    "x-forwarded-proto",
];

fn shortened(credential: &str) -> String {
    format!("<token {}>", token_fingerprint(credential))
}

/// The local-only endpoints, on the API's origin and outside every stage:
/// `GET /.local/trace/{requestId}` and `GET /.local/invocations`. CORS lets the site's
/// origin (and only it) read them. API Gateway has no such thing: never deploy it.
pub fn local_app(gateway: Arc<Gateway>) -> Router {
    let cors = CorsLayer::new()
        .allow_methods([Method::GET])
        // Answered to the site's origin only; any other gets no CORS header at all. An
        // origin that is no header value matches nothing a browser sends.
        .allow_origin(AllowOrigin::list(
            HeaderValue::from_str(gateway.site_origin()).ok(),
        ));
    Router::new()
        .route(
            &format!("{}/trace/{{id}}", request_trace::LOCAL_PREFIX),
            get(trace),
        )
        .route(request_trace::INVOCATIONS_PATH, get(invocations))
        .layer(cors)
        .with_state(gateway)
}

async fn trace(State(gateway): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    match gateway.trace(&id) {
        Some(trace) => Json(trace).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": format!(
                "no trace of request {id}: unknown, or older than the last {MAX_TRACES} requests"
            )})),
        )
            .into_response(),
    }
}

async fn invocations(State(gateway): State<Arc<Gateway>>) -> Json<request_trace::Invocations> {
    Json(gateway.invocations())
}

/// The invocation count of each function the definition invokes.
#[derive(Debug)]
pub(crate) struct Counters(BTreeMap<String, std::sync::atomic::AtomicU64>);

impl Counters {
    pub fn new<'a>(functions: impl IntoIterator<Item = &'a str>) -> Self {
        Counters(
            functions
                .into_iter()
                .map(|f| (f.to_owned(), Default::default()))
                .collect(),
        )
    }

    pub fn count(&self, function: &str) {
        if let Some(counter) = self.0.get(function) {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn get(&self, function: &str) -> u64 {
        self.0
            .get(function)
            .map_or(0, |c| c.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn snapshot(&self) -> request_trace::Invocations {
        request_trace::Invocations(
            self.0
                .iter()
                .map(|(name, c)| (name.clone(), c.load(std::sync::atomic::Ordering::Relaxed)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;

    fn recorded(id: &str, body: &str) -> Recorded {
        let recorder = Recorder::default();
        recorder.request(id, "GET", "/prod/hello");
        recorder.body(body);
        Recorded {
            draft: recorder.into_draft(),
            status: StatusCode::OK,
        }
    }

    fn header_lines(headers: &HeaderMap) -> String {
        let recorder = Recorder::default();
        recorder.body("before ");
        recorder.response_headers(headers);
        let draft = recorder.into_draft();
        assert_eq!(draft.get(draft.body), "before ");
        draft.get(draft.response_headers).to_owned()
    }

    #[test]
    fn header_lines_are_name_colon_value_and_a_value_that_is_not_utf8_is_lossy() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.append("x-two", HeaderValue::from_static("a"));
        headers.append("x-two", HeaderValue::from_static("b"));
        assert_eq!(
            header_lines(&headers),
            "content-type: application/json\nx-two: a\nx-two: b\n"
        );
        let lines = header_lines(&headers);
        let pairs: Vec<(&str, &str)> = header_pairs(&lines).collect();
        assert_eq!(
            pairs,
            [
                ("content-type", "application/json"),
                ("x-two", "a"),
                ("x-two", "b")
            ]
        );
        headers.insert("x-bytes", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        assert_eq!(
            header_lines(&headers),
            "content-type: application/json\nx-two: a\nx-two: b\nx-bytes: caf\u{fffd}\n"
        );
    }

    #[test]
    fn the_store_drops_the_oldest_beyond_its_count() {
        let definition = ApiDefinition::embedded().unwrap();
        let store = TraceStore::new(2, usize::MAX);
        for id in ["a", "b", "c"] {
            store.insert(recorded(id, "{}"));
        }
        assert_eq!(store.get("a", &definition), None);
        assert_eq!(store.get("b", &definition).unwrap().request_id, "b");
        assert_eq!(store.get("c", &definition).unwrap().response.body, "{}");
    }

    #[test]
    fn the_store_drops_the_oldest_beyond_its_bytes_but_keeps_the_newest() {
        let big = "x".repeat(600);
        let definition = ApiDefinition::embedded().unwrap();
        let store = TraceStore::new(100, 1000);
        store.insert(recorded("a", &big));
        store.insert(recorded("b", &big));
        assert_eq!(
            store.get("a", &definition),
            None,
            "two would exceed 1000 bytes"
        );
        assert!(store.get("b", &definition).is_some());
        // Alone and over the budget: still kept, until the next one.
        store.insert(recorded("c", &"y".repeat(5000)));
        assert_eq!(store.get("b", &definition), None);
        assert_eq!(
            store.get("c", &definition).unwrap().response.body.len(),
            5000
        );
    }

    #[test]
    fn a_token_event_shows_the_token_as_its_fingerprint() {
        let mut event = ApiGatewayCustomAuthorizerRequest::default();
        event.type_ = Some("TOKEN".into());
        event.authorization_token = Some("Bearer a.b.c".into());
        event.method_arn = Some("arn:x".into());
        let shown = shown_event(&AuthorizerRequest::Token(event));
        assert_eq!(
            shown,
            json!({"type": "TOKEN", "methodArn": "arn:x",
                "authorizationToken": format!("<token {}>", token_fingerprint("Bearer a.b.c"))})
        );
    }

    #[test]
    fn a_request_event_shortens_every_value_that_may_be_a_credential() {
        use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
        let mut event = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
        event.type_ = Some("REQUEST".into());
        for (name, value) in [
            ("authorization", "Bearer secret"),
            ("x-api-key", "k"),
            ("accept", "application/json"),
        ] {
            event.headers.insert(name, HeaderValue::from_static(value));
            event
                .multi_value_headers
                .insert(name, HeaderValue::from_static(value));
        }
        event.query_string_parameters =
            std::collections::HashMap::from([("token".to_owned(), "q".to_owned())]).into();
        let shown = shown_event(&AuthorizerRequest::Request(
            Box::new(event),
            Default::default(),
        ));
        let fp = |v: &str| format!("<token {}>", token_fingerprint(v));
        assert_eq!(
            shown["headers"]["authorization"],
            json!(fp("Bearer secret"))
        );
        assert_eq!(shown["headers"]["x-api-key"], json!(fp("k")));
        assert_eq!(shown["headers"]["accept"], json!("application/json"));
        assert_eq!(
            shown["multiValueHeaders"]["authorization"],
            json!([fp("Bearer secret")])
        );
        assert_eq!(shown["queryStringParameters"]["token"], json!(fp("q")));
        assert!(!shown.to_string().contains("secret"), "{shown}");
    }

    #[test]
    fn an_unauthorized_reason_quotes_the_functions_log() {
        let hop = |logs: Vec<String>| {
            let recorder = Recorder::default();
            let method_arn: MethodArn =
                "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/hello"
                    .parse()
                    .unwrap();
            recorder.authorizer("A", "AuthorizerFunction", "TOKEN", &method_arn, 0);
            recorder.with_authorizer(|a| {
                a.logs = logs;
                a.outcome = AuthorizerOutcome::Unauthorized;
            });
            let draft = recorder.into_draft();
            authorizer_hop(draft.authorizer.as_ref().unwrap(), &draft)
        };
        let line = json!({"level": "INFO", "fields": {"message": "token refused",
            "reason": "token_expired", "detail": "the token expired"}})
        .to_string();
        let refused = hop(vec!["not json".into(), line]);
        assert_eq!(
            (refused.name.as_str(), refused.decision),
            ("A", Decision::Unauthorized)
        );
        assert_eq!(
            refused.reason,
            "AuthorizerFunction answered the error \"Unauthorized\"; its log says: token_expired (the token expired)"
        );
        assert_eq!(
            hop(vec![]).reason,
            "AuthorizerFunction answered the error \"Unauthorized\" (its log gives no reason)"
        );
    }
}
