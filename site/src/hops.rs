//! "How it works": the hops of the page's own last request, as plain data the view
//! renders (headings, fields, labelled text blocks), built from what the page knows
//! ([`Call`]) and, on the local stack, the emulator's trace of that request
//! ([`request_trace::RequestTrace`]). Deployed there is no trace: the view shows what the
//! page has and the `sam logs` commands for the rest ([`crate::logs`]).
//!
//! Every text here is shown as text (never HTML), and every block has an id and a label
//! so a person with a screen reader, and a test, can find it.

use std::collections::BTreeMap;

use request_trace::{AuthorizerHop, Decision, Hop, IntegrationHop, RequestTrace, TemplateHop};
use serde_json::Value;

use crate::config::SiteConfig;
use crate::error::Error;
use crate::logs;
use crate::state::HelloOutcome;
use crate::token::{self, DecodedToken};

/// The response header API Gateway names each request by.
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

/// What the page knows about its own call of `GET /hello`. Holds no token: only what
/// was decoded from it and its fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The token's header and claims, or why they could not be read.
    pub token: Result<DecodedToken, Error>,
    /// How the authorizer's logs name the token.
    pub fingerprint: String,
    /// When the page sent it, seconds since the Unix epoch (the browser's clock).
    pub sent_at: i64,
    /// What came back; `None` when `fetch` got no readable answer.
    pub answer: Option<Answer>,
}

impl Call {
    /// Records a call made with `token` at `sent_at`.
    pub fn new(token: &str, sent_at: i64, answer: Option<Answer>) -> Self {
        Call {
            token: token::decode(token),
            fingerprint: token::fingerprint(token),
            sent_at,
            answer,
        }
    }
}

/// The answer as the browser let the page read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The headers the page can read (CORS-safelisted, or exposed by the API), names in
    /// lower case as `fetch` gives them.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// What the page's state machine makes of it.
    pub fn outcome(&self) -> HelloOutcome {
        HelloOutcome::Answered {
            status: self.status,
            body: self.body.clone(),
        }
    }

    /// API Gateway's request ID, checked to be one (letters, digits, hyphens: it goes into
    /// the trace endpoint's path and a command line).
    pub fn request_id(&self) -> Result<&str, Error> {
        let id = self
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(REQUEST_ID_HEADER))
            .map(|(_, value)| value.as_str())
            .ok_or(Error::NoRequestId)?;
        let plausible = !id.is_empty()
            && id.len() <= 128
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if plausible {
            Ok(id)
        } else {
            Err(Error::BadRequestId(id.to_owned()))
        }
    }
}

/// The trace endpoint's answer, read: `Err` says why there is no trace.
pub fn trace_from(request_id: &str, status: u16, body: &str) -> Result<RequestTrace, Error> {
    match status {
        200 => serde_json::from_str(body).map_err(|e| Error::TraceMalformed(e.to_string())),
        404 => Err(Error::TraceNotFound(request_id.to_owned())),
        other => Err(Error::TraceStatus(other)),
    }
}

/// A trace to fetch: the request's ID and the URL of its trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRequest {
    pub request_id: String,
    pub url: String,
}

/// Where hops 2 to 4 of `call` will come from under `config`, and the trace to fetch when
/// there is one: locally the emulator's trace of the answer's request ID; deployed (no
/// `traceUrl`) the logs of `stackName`.
pub fn source_for(config: &SiteConfig, call: &Call) -> (Source, Option<TraceRequest>) {
    if config.trace_url.is_none() {
        let stack = config
            .stack_name
            .as_deref()
            .and_then(|name| logs::Stack::new(name, &config.api_url));
        return (Source::Logs(stack), None);
    }
    let Some(answer) = &call.answer else {
        return (Source::Failed(Error::NoAnswer), None);
    };
    match answer.request_id() {
        Err(error) => (Source::Failed(error), None),
        Ok(id) => match config.trace_endpoint(id) {
            Some(url) => (
                Source::Loading,
                Some(TraceRequest {
                    request_id: id.to_owned(),
                    url,
                }),
            ),
            None => (Source::Logs(None), None),
        },
    }
}

/// Where the hops after the token come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Deployed: no trace endpoint. The stack's logs, when config.json names the stack.
    Logs(Option<logs::Stack>),
    /// Local: the trace is being fetched.
    Loading,
    /// Local: the emulator's trace of this request.
    Trace(Box<RequestTrace>),
    /// Local, but the trace could not be read.
    Failed(Error),
}

/// The view: the hops in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HowItWorks {
    pub hops: Vec<HopView>,
}

/// One hop: a heading, whether the request got through it, what it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HopView {
    /// The element id of its section (`hop-token`, `hop-authorizer`, ...).
    pub id: &'static str,
    /// The heading, numbered: "2. API Gateway → authorizer".
    pub title: &'static str,
    pub reach: Reach,
    pub parts: Vec<Part>,
}

/// Whether the request got through a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// It went on.
    Passed,
    /// It stopped here, for this reason.
    Stopped(String),
    /// It stopped before (the reason says where).
    NotReached(String),
    /// The page cannot see this hop (deployed, or no trace).
    Unseen,
}

/// One thing a hop shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A short labelled value.
    Field { label: &'static str, value: String },
    /// A labelled block of text (JSON, a template, log lines), shown preformatted.
    Block {
        id: &'static str,
        label: &'static str,
        text: String,
    },
    /// A sentence.
    Note(String),
    /// A command to copy.
    Command {
        id: &'static str,
        label: &'static str,
        text: String,
    },
}

pub const TOKEN_TITLE: &str = "1. The ID token";
pub const AUTHORIZER_TITLE: &str = "2. API Gateway → authorizer";
pub const TEMPLATE_TITLE: &str = "3. The request template";
pub const INTEGRATION_TITLE: &str = "4. hello's answer and the integration response";
pub const RESPONSE_TITLE: &str = "5. What the browser got";

/// The hops of `call`, with the rest from `source`, the token's expiry relative to `now`
/// (seconds since the Unix epoch).
pub fn how_it_works(call: &Call, source: &Source, now: i64) -> HowItWorks {
    let mut hops = vec![token_hop(call, now)];
    hops.extend(match source {
        Source::Trace(trace) => traced_hops(trace),
        Source::Logs(stack) => logged_hops(call, stack.as_ref()),
        Source::Loading => unseen_hops("Reading this request's trace from the local stack…"),
        Source::Failed(error) => unseen_hops(&format!(
            "This request's trace could not be read: {error}. The local stack's terminal \
             shows every hop of every request."
        )),
    });
    hops.push(response_hop(call, source));
    HowItWorks { hops }
}

fn token_hop(call: &Call, now: i64) -> HopView {
    let mut parts = vec![Part::Note(
        "Decoded by this page from the token it sent: not verified by the page. Anyone can \
         write a token that reads like this; only the authorizer checks its signature."
            .to_owned(),
    )];
    match &call.token {
        Ok(decoded) => {
            parts.push(Part::Block {
                id: "token-header",
                label: "Header",
                text: pretty(&decoded.header),
            });
            parts.push(Part::Block {
                id: "token-claims",
                label: "Claims",
                text: pretty(&decoded.claims),
            });
            parts.push(Part::Field {
                label: "Expires",
                value: token::expiry(decoded, now),
            });
        }
        Err(error) => parts.push(Part::Note(format!(
            "The page could not decode it: {error}."
        ))),
    }
    parts.push(Part::Field {
        label: "Fingerprint",
        value: format!(
            "{} (how the authorizer's logs name this token)",
            call.fingerprint
        ),
    });
    HopView {
        id: "hop-token",
        title: TOKEN_TITLE,
        reach: Reach::Passed,
        parts,
    }
}

/// The hop numbers of the contract's hops (the route is before hop 2).
fn number(hop: Hop) -> u8 {
    match hop {
        Hop::Route => 1,
        Hop::Authorizer => 2,
        Hop::Template => 3,
        Hop::Integration => 4,
    }
}

/// Hops 2 to 4 from the emulator's trace.
fn traced_hops(trace: &RequestTrace) -> Vec<HopView> {
    let reach = |n: u8| match &trace.stopped {
        None => Reach::Passed,
        Some(stop) if number(stop.hop) == n => Reach::Stopped(stop.reason.clone()),
        Some(stop) if number(stop.hop) > n => Reach::Passed,
        Some(stop) if stop.hop == Hop::Route => Reach::NotReached(format!(
            "API Gateway stopped the request before the authorizer: {}",
            stop.reason
        )),
        Some(stop) => {
            Reach::NotReached(format!("The request stopped at hop {}.", number(stop.hop)))
        }
    };
    let hop = |id, title, n, parts: Vec<Part>| {
        let reach = reach(n);
        let parts = if matches!(reach, Reach::NotReached(_)) {
            Vec::new()
        } else {
            parts
        };
        HopView {
            id,
            title,
            reach,
            parts,
        }
    };
    vec![
        hop(
            "hop-authorizer",
            AUTHORIZER_TITLE,
            2,
            trace.authorizer.as_ref().map_or_else(
                || {
                    vec![Part::Note(
                        "This route has no authorizer: API Gateway goes straight on.".to_owned(),
                    )]
                },
                authorizer_parts,
            ),
        ),
        hop(
            "hop-template",
            TEMPLATE_TITLE,
            3,
            trace.template.as_ref().map_or_else(
                || {
                    vec![Part::Note(
                        "No request template was rendered for this request.".to_owned(),
                    )]
                },
                template_parts,
            ),
        ),
        hop(
            "hop-integration",
            INTEGRATION_TITLE,
            4,
            trace.integration.as_ref().map_or_else(
                || {
                    vec![Part::Note(
                        "The integration gave no answer for this request.".to_owned(),
                    )]
                },
                integration_parts,
            ),
        ),
    ]
}

fn authorizer_parts(hop: &AuthorizerHop) -> Vec<Part> {
    let ttl = hop.cache.ttl_seconds;
    let cache = match (ttl, hop.cache.hit) {
        (0, _) => "off (TTL 0 s): the function runs for every request".to_owned(),
        (_, true) => format!(
            "hit: API Gateway reused the decision it cached for this token (TTL {ttl} s); \
             the function did not run"
        ),
        (_, false) => {
            format!("miss: the function ran, and API Gateway caches its decision for {ttl} s")
        }
    };
    let mut parts = vec![
        Part::Field {
            label: "Authorizer",
            value: format!("{} ({}), function {}", hop.name, hop.kind, hop.function),
        },
        Part::Field {
            label: "Cache",
            value: cache,
        },
    ];
    parts.push(match &hop.event {
        Some(event) => Part::Block {
            id: "authorizer-event",
            label: "The event API Gateway sent (credentials shortened)",
            text: pretty(event),
        },
        None => Part::Note("The function was not invoked, so no event was sent.".to_owned()),
    });
    parts.push(Part::Field {
        label: "Decision",
        value: match hop.decision {
            Decision::Allow => "Allow: the policy allows this method, the request goes on",
            Decision::Deny => "Deny: the policy does not allow this method (403)",
            Decision::Unauthorized => "Unauthorized: no token, or the authorizer refused it (401)",
            Decision::Error => "Error: the authorizer failed, so API Gateway refuses (500)",
        }
        .to_owned(),
    });
    parts.push(Part::Field {
        label: "Reason",
        value: hop.reason.clone(),
    });
    parts.push(Part::Field {
        label: "Principal",
        value: hop
            .principal_id
            .clone()
            .unwrap_or_else(|| "none".to_owned()),
    });
    if let Some(policy) = &hop.policy {
        parts.push(Part::Block {
            id: "authorizer-policy",
            label: "Policy",
            text: pretty(policy),
        });
    }
    parts.push(Part::Block {
        id: "authorizer-context",
        label: "Context ($context.authorizer.* in the template)",
        text: pretty_map(&hop.context),
    });
    if !hop.logs.is_empty() {
        parts.push(Part::Block {
            id: "authorizer-logs",
            label: "The authorizer's log lines",
            text: hop.logs.join("\n"),
        });
    }
    parts
}

fn template_parts(hop: &TemplateHop) -> Vec<Part> {
    vec![
        Part::Field {
            label: "Content type",
            value: hop.content_type.clone(),
        },
        Part::Block {
            id: "template-source",
            label: "Template source",
            text: hop.source.clone(),
        },
        Part::Block {
            id: "template-output",
            label: "Template output: what hello received, byte for byte",
            text: hop.output.clone(),
        },
    ]
}

fn integration_parts(hop: &IntegrationHop) -> Vec<Part> {
    let mut parts = vec![
        Part::Field {
            label: "Integration",
            value: match &hop.function {
                Some(function) => format!("{}, function {function}", hop.kind),
                None => hop.kind.clone(),
            },
        },
        Part::Block {
            id: "integration-answer",
            label: "The function's answer",
            text: pretty(&hop.answer),
        },
    ];
    if !hop.logs.is_empty() {
        parts.push(Part::Block {
            id: "integration-logs",
            label: "The function's log lines",
            text: hop.logs.join("\n"),
        });
    }
    parts.push(Part::Field {
        label: "Integration response",
        value: format!(
            "{} matched → status {}",
            hop.selected.key, hop.selected.status_code
        ),
    });
    if let Some(output) = &hop.selected.template_output {
        parts.push(Part::Block {
            id: "integration-response-output",
            label: "Response template output",
            text: output.clone(),
        });
    }
    parts
}

/// Hops 2 to 4 when the page cannot see them: one note each.
fn unseen_hops(note: &str) -> Vec<HopView> {
    [
        ("hop-authorizer", AUTHORIZER_TITLE),
        ("hop-template", TEMPLATE_TITLE),
        ("hop-integration", INTEGRATION_TITLE),
    ]
    .into_iter()
    .map(|(id, title)| HopView {
        id,
        title,
        reach: Reach::Unseen,
        parts: vec![Part::Note(note.to_owned())],
    })
    .collect()
}

/// Hops 2 to 4 deployed: what the status tells, and the logs that hold the rest.
fn logged_hops(call: &Call, stack: Option<&logs::Stack>) -> Vec<HopView> {
    let status = call.answer.as_ref().map(|a| a.status);
    // API Gateway's own answers for the authorizer's refusals (openapi.yaml's gateway
    // responses UNAUTHORIZED and ACCESS_DENIED): the request stopped at hop 2.
    let refused = match status {
        Some(401) => Some(
            "API Gateway answered 401: there was no token, or the authorizer refused it \
             (Unauthorized).",
        ),
        Some(403) => Some("API Gateway answered 403: the authorizer's policy denies this method."),
        _ => None,
    };
    let not_reached = || Reach::NotReached("The request stopped at hop 2.".to_owned());
    let issued = call.token.as_ref().ok().and_then(|t| t.issued);
    let no_stack = || {
        Part::Note(
            "config.json names no stackName, so the page cannot say which stack's logs to read."
                .to_owned(),
        )
    };

    let mut authorizer = vec![Part::Note(format!(
        "In AWS the page cannot see this hop. The authorizer logs one line per decision, \
         naming the token by its fingerprint {}; a decision API Gateway serves from its \
         cache logs nothing (the line is the earlier decision's). API Gateway's request ID \
         is not in the functions' logs, so the command filters by the fingerprint:",
        call.fingerprint
    ))];
    authorizer.push(
        match stack.and_then(|s| {
            s.authorizer_command(
                &call.fingerprint,
                issued.unwrap_or(call.sent_at),
                call.sent_at,
            )
        }) {
            Some(text) => Part::Command {
                id: "logs-authorizer",
                label: "The authorizer's decisions about this token",
                text,
            },
            None => no_stack(),
        },
    );

    let template = vec![Part::Note(
        "API Gateway renders the request template in AWS and does not log it (this stack \
         turns on no execution logging). Its source is openapi.yaml's requestTemplates; the \
         local stack shows what it rendered."
            .to_owned(),
    )];

    let mut integration = vec![Part::Note(
        "The page sees hello's answer only as the body API Gateway passed on (hop 5). hello \
         logs a line only when it refuses an event; Lambda adds its START, END and REPORT \
         lines. Everything hello logged around this call:"
            .to_owned(),
    )];
    integration.push(match stack.and_then(|s| s.hello_command(call.sent_at)) {
        Some(text) => Part::Command {
            id: "logs-hello",
            label: "hello's log lines around this call",
            text,
        },
        None => no_stack(),
    });

    let (authorizer_reach, later) = match refused {
        Some(reason) => (Reach::Stopped(reason.to_owned()), Some(not_reached())),
        None => (Reach::Unseen, None),
    };
    vec![
        HopView {
            id: "hop-authorizer",
            title: AUTHORIZER_TITLE,
            reach: authorizer_reach,
            parts: authorizer,
        },
        HopView {
            id: "hop-template",
            title: TEMPLATE_TITLE,
            reach: later.clone().unwrap_or(Reach::Unseen),
            parts: if later.is_some() {
                Vec::new()
            } else {
                template
            },
        },
        HopView {
            id: "hop-integration",
            title: INTEGRATION_TITLE,
            reach: later.clone().unwrap_or(Reach::Unseen),
            parts: if later.is_some() {
                Vec::new()
            } else {
                integration
            },
        },
    ]
}

fn response_hop(call: &Call, source: &Source) -> HopView {
    let Some(answer) = &call.answer else {
        return HopView {
            id: "hop-response",
            title: RESPONSE_TITLE,
            reach: Reach::Stopped(
                "The browser got no answer the page could read: the network failed, the API \
                 is not running, or CORS refused the answer (the browser does not tell the \
                 page which)."
                    .to_owned(),
            ),
            parts: Vec::new(),
        };
    };
    let mut parts = vec![
        Part::Field {
            label: "Status",
            value: answer.status.to_string(),
        },
        Part::Field {
            label: "Request ID",
            value: match answer.request_id() {
                Ok(id) => id.to_owned(),
                Err(error) => format!("unknown: {error}"),
            },
        },
        Part::Block {
            id: "response-headers",
            label: "The headers the page could read (CORS lets it see only these)",
            text: header_lines(&answer.headers),
        },
    ];
    if let Source::Trace(trace) = source {
        parts.push(Part::Block {
            id: "response-headers-sent",
            label: "Every header API Gateway sent (from the trace)",
            text: header_lines(&trace.response.headers),
        });
    }
    parts.push(Part::Block {
        id: "response-body",
        label: "Body",
        text: answer.body.clone(),
    });
    HopView {
        id: "hop-response",
        title: RESPONSE_TITLE,
        reach: Reach::Passed,
        parts,
    }
}

fn header_lines(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn pretty(value: &Value) -> String {
    // A Value always serializes.
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn pretty_map(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string_pretty(map).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use request_trace::{CacheUse, ResponseHop, SelectedResponse, Stop};
    use serde_json::json;

    use super::*;

    const HOSTILE: &str = r#"O'Brien "Bob" <b>&"#;
    /// 2026-12-01 22:09:00 UTC.
    const NOW: i64 = 1_796_162_940;
    const REQUEST_ID: &str = "5f0c9c1e-7b61-41e6-9a41-93e8deadbeef";

    fn token(name: &str, exp: i64) -> String {
        let header = json!({"alg": "RS256", "kid": "local-1", "typ": "JWT"});
        let claims = json!({"iss": "https://accounts.google.com", "name": name,
            "iat": exp - 3600, "exp": exp});
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (REQUEST_ID_HEADER.into(), REQUEST_ID.into()),
            ],
            body: body.into(),
        }
    }

    fn call(status: u16, body: &str) -> Call {
        Call::new(&token(HOSTILE, NOW + 3600), NOW, Some(answer(status, body)))
    }

    /// The template output for the hostile name, as the deployed template renders it.
    const OUTPUT: &str = "{\"name\": \"O'Brien \\\"Bob\\\" <b>&\"}\n";

    fn greeting_trace() -> RequestTrace {
        RequestTrace {
            request_id: REQUEST_ID.into(),
            method: "GET".into(),
            path: "/prod/hello".into(),
            resource: Some("/hello".into()),
            authorizer: Some(AuthorizerHop {
                name: "GoogleIdToken".into(),
                function: "AuthorizerFunction".into(),
                kind: "TOKEN".into(),
                event: Some(
                    json!({"type": "TOKEN", "authorizationToken": "<token 1a2b3c4d5e6f>",
                    "methodArn": "arn:aws:execute-api:us-east-1:123456789012:local/prod/GET/hello"}),
                ),
                cache: CacheUse {
                    hit: false,
                    ttl_seconds: 300,
                },
                decision: Decision::Allow,
                reason: "the policy allows GET /hello".into(),
                principal_id: Some("1234567890".into()),
                policy: Some(
                    json!({"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke",
                    "Effect": "Allow", "Resource": "arn:aws:execute-api:us-east-1:123456789012:local/prod/*"}]}),
                ),
                context: BTreeMap::from([
                    ("name".to_owned(), HOSTILE.to_owned()),
                    ("sub".to_owned(), "1234567890".to_owned()),
                ]),
                logs: vec![r#"{"level":"INFO","fields":{"message":"token accepted"}}"#.into()],
            }),
            template: Some(TemplateHop {
                content_type: "application/json".into(),
                source: mapping::REQUEST_TEMPLATE.into(),
                output: OUTPUT.into(),
            }),
            integration: Some(IntegrationHop {
                kind: "lambda".into(),
                function: Some("HelloFunction".into()),
                answer: json!({"message": format!("Hello {HOSTILE}!")}),
                logs: vec![],
                selected: SelectedResponse {
                    key: "default".into(),
                    status_code: 200,
                    template_output: None,
                },
            }),
            response: ResponseHop {
                status: 200,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("x-amzn-RequestId".into(), REQUEST_ID.into()),
                    (
                        "access-control-allow-origin".into(),
                        "http://127.0.0.1:4100".into(),
                    ),
                ],
                body: json!({"message": format!("Hello {HOSTILE}!")}).to_string(),
            },
            stopped: None,
        }
    }

    fn unauthorized_trace() -> RequestTrace {
        let mut trace = greeting_trace();
        let authorizer = trace.authorizer.as_mut().unwrap();
        authorizer.decision = Decision::Unauthorized;
        authorizer.reason = "the function failed with Unauthorized: the token expired".into();
        authorizer.principal_id = None;
        authorizer.policy = None;
        authorizer.context = BTreeMap::new();
        trace.template = None;
        trace.integration = None;
        trace.response.status = 401;
        trace.response.body = r#"{"message": "Unauthorized"}"#.into();
        trace.stopped = Some(Stop {
            hop: Hop::Authorizer,
            reason: "the authorizer answered Unauthorized: the token expired".into(),
        });
        trace
    }

    fn hop<'a>(view: &'a HowItWorks, id: &str) -> &'a HopView {
        view.hops.iter().find(|h| h.id == id).unwrap()
    }

    fn block<'a>(view: &'a HowItWorks, id: &str) -> &'a str {
        view.hops
            .iter()
            .flat_map(|h| &h.parts)
            .find_map(|p| match p {
                Part::Block { id: i, text, .. } | Part::Command { id: i, text, .. } if *i == id => {
                    Some(text.as_str())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no block {id}"))
    }

    fn field<'a>(hop: &'a HopView, label: &str) -> &'a str {
        hop.parts
            .iter()
            .find_map(|p| match p {
                Part::Field { label: l, value } if *l == label => Some(value.as_str()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no field {label} in {}", hop.id))
    }

    fn notes(hop: &HopView) -> Vec<&str> {
        hop.parts
            .iter()
            .filter_map(|p| match p {
                Part::Note(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_hops_come_in_order_with_numbered_headings() {
        let view = how_it_works(
            &call(200, "{}"),
            &Source::Trace(Box::new(greeting_trace())),
            NOW,
        );
        let titles: Vec<&str> = view.hops.iter().map(|h| h.title).collect();
        assert_eq!(
            titles,
            [
                "1. The ID token",
                "2. API Gateway → authorizer",
                "3. The request template",
                "4. hello's answer and the integration response",
                "5. What the browser got",
            ]
        );
        let ids: Vec<&str> = view.hops.iter().map(|h| h.id).collect();
        assert_eq!(
            ids,
            [
                "hop-token",
                "hop-authorizer",
                "hop-template",
                "hop-integration",
                "hop-response"
            ]
        );
        assert!(view.hops.iter().all(|h| h.reach == Reach::Passed));
    }

    #[test]
    fn the_token_hop_shows_what_the_page_decoded_marked_unverified() {
        let view = how_it_works(&call(200, "{}"), &Source::Loading, NOW);
        let hop1 = hop(&view, "hop-token");
        assert!(notes(hop1)[0].contains("not verified by the page"));
        assert_eq!(
            block(&view, "token-header"),
            "{\n  \"alg\": \"RS256\",\n  \"kid\": \"local-1\",\n  \"typ\": \"JWT\"\n}"
        );
        let claims: Value = serde_json::from_str(block(&view, "token-claims")).unwrap();
        assert_eq!(claims["name"], HOSTILE);
        assert_eq!(
            field(hop1, "Expires"),
            "2026-12-01 23:09:00 UTC (in 60 min)"
        );
        assert_eq!(
            field(hop1, "Fingerprint"),
            format!(
                "{} (how the authorizer's logs name this token)",
                token::fingerprint(&token(HOSTILE, NOW + 3600))
            )
        );
    }

    #[test]
    fn an_expired_token_says_how_long_ago() {
        let expired = Call::new(&token("Jane", NOW - 3600), NOW, Some(answer(401, "")));
        let view = how_it_works(&expired, &Source::Loading, NOW);
        assert_eq!(
            field(hop(&view, "hop-token"), "Expires"),
            "2026-12-01 21:09:00 UTC (expired 60 min ago)"
        );
    }

    #[test]
    fn a_token_the_page_cannot_decode_still_has_its_hop() {
        let view = how_it_works(
            &Call::new("not-a-jwt", NOW, Some(answer(401, ""))),
            &Source::Loading,
            NOW,
        );
        let token = hop(&view, "hop-token");
        assert_eq!(
            notes(token)[1],
            "The page could not decode it: the token is not a JWT (three base64url parts \
             separated by dots)."
        );
        assert!(field(token, "Fingerprint").starts_with(&token::fingerprint("not-a-jwt")));
    }

    #[test]
    fn a_traced_greeting_shows_every_hop_of_the_hostile_name() {
        let view = how_it_works(
            &call(200, "{}"),
            &Source::Trace(Box::new(greeting_trace())),
            NOW,
        );
        let authorizer = hop(&view, "hop-authorizer");
        assert_eq!(
            field(authorizer, "Authorizer"),
            "GoogleIdToken (TOKEN), function AuthorizerFunction"
        );
        assert_eq!(
            field(authorizer, "Cache"),
            "miss: the function ran, and API Gateway caches its decision for 300 s"
        );
        assert_eq!(
            field(authorizer, "Decision"),
            "Allow: the policy allows this method, the request goes on"
        );
        assert_eq!(field(authorizer, "Reason"), "the policy allows GET /hello");
        assert_eq!(field(authorizer, "Principal"), "1234567890");
        assert!(block(&view, "authorizer-event").contains("\"<token 1a2b3c4d5e6f>\""));
        assert!(block(&view, "authorizer-policy").contains("\"Effect\": \"Allow\""));
        assert_eq!(
            block(&view, "authorizer-context"),
            "{\n  \"name\": \"O'Brien \\\"Bob\\\" <b>&\",\n  \"sub\": \"1234567890\"\n}"
        );
        assert_eq!(
            block(&view, "authorizer-logs"),
            r#"{"level":"INFO","fields":{"message":"token accepted"}}"#
        );
        // The template, source and output, exactly as the trace has them.
        assert_eq!(
            field(hop(&view, "hop-template"), "Content type"),
            "application/json"
        );
        assert_eq!(block(&view, "template-source"), mapping::REQUEST_TEMPLATE);
        assert_eq!(block(&view, "template-output"), OUTPUT);
        let integration = hop(&view, "hop-integration");
        assert_eq!(
            field(integration, "Integration"),
            "lambda, function HelloFunction"
        );
        assert_eq!(
            field(integration, "Integration response"),
            "default matched → status 200"
        );
        assert_eq!(
            block(&view, "integration-answer"),
            "{\n  \"message\": \"Hello O'Brien \\\"Bob\\\" <b>&!\"\n}"
        );
        assert_eq!(
            block(&view, "response-headers-sent"),
            format!(
                "content-type: application/json\nx-amzn-RequestId: {REQUEST_ID}\n\
                 access-control-allow-origin: http://127.0.0.1:4100"
            )
        );
    }

    #[test]
    fn a_cache_hit_says_the_function_did_not_run() {
        let mut trace = greeting_trace();
        let authorizer = trace.authorizer.as_mut().unwrap();
        authorizer.cache.hit = true;
        authorizer.event = None;
        let view = how_it_works(&call(200, "{}"), &Source::Trace(Box::new(trace)), NOW);
        let hop = hop(&view, "hop-authorizer");
        assert_eq!(
            field(hop, "Cache"),
            "hit: API Gateway reused the decision it cached for this token (TTL 300 s); the \
             function did not run"
        );
        assert_eq!(
            notes(hop),
            ["The function was not invoked, so no event was sent."]
        );
        let mut trace = greeting_trace();
        trace.authorizer.as_mut().unwrap().cache.ttl_seconds = 0;
        let view = how_it_works(&call(200, "{}"), &Source::Trace(Box::new(trace)), NOW);
        assert_eq!(
            field(super::tests::hop(&view, "hop-authorizer"), "Cache"),
            "off (TTL 0 s): the function runs for every request"
        );
    }

    #[test]
    fn a_401_stops_at_the_authorizer_with_its_reason() {
        let view = how_it_works(
            &call(401, r#"{"message": "Unauthorized"}"#),
            &Source::Trace(Box::new(unauthorized_trace())),
            NOW,
        );
        let authorizer = hop(&view, "hop-authorizer");
        assert_eq!(
            authorizer.reach,
            Reach::Stopped("the authorizer answered Unauthorized: the token expired".into())
        );
        assert_eq!(
            field(authorizer, "Decision"),
            "Unauthorized: no token, or the authorizer refused it (401)"
        );
        assert_eq!(
            field(authorizer, "Reason"),
            "the function failed with Unauthorized: the token expired"
        );
        assert_eq!(field(authorizer, "Principal"), "none");
        assert_eq!(block(&view, "authorizer-context"), "{}");
        for id in ["hop-template", "hop-integration"] {
            let later = hop(&view, id);
            assert_eq!(
                later.reach,
                Reach::NotReached("The request stopped at hop 2.".into())
            );
            assert!(later.parts.is_empty(), "{id}");
        }
        let response = hop(&view, "hop-response");
        assert_eq!(response.reach, Reach::Passed);
        assert_eq!(field(response, "Status"), "401");
        assert_eq!(
            block(&view, "response-body"),
            r#"{"message": "Unauthorized"}"#
        );
    }

    #[test]
    fn a_request_stopped_at_the_route_reaches_no_hop() {
        let mut trace = unauthorized_trace();
        trace.authorizer = None;
        trace.stopped = Some(Stop {
            hop: Hop::Route,
            reason: "no route matches GET /prod/nope".into(),
        });
        let view = how_it_works(&call(403, "{}"), &Source::Trace(Box::new(trace)), NOW);
        assert_eq!(
            hop(&view, "hop-authorizer").reach,
            Reach::NotReached(
                "API Gateway stopped the request before the authorizer: no route matches GET \
                 /prod/nope"
                    .into()
            )
        );
        assert_eq!(
            hop(&view, "hop-integration").reach,
            Reach::NotReached(
                "API Gateway stopped the request before the authorizer: no route matches GET \
                 /prod/nope"
                    .into()
            )
        );
    }

    #[test]
    fn a_failing_integration_stops_at_hop_4_after_the_template() {
        let mut trace = greeting_trace();
        trace.integration.as_mut().unwrap().answer =
            json!({"errorMessage": "Task timed out after 5.00 seconds"});
        trace.stopped = Some(Stop {
            hop: Hop::Integration,
            reason: "the function timed out".into(),
        });
        let view = how_it_works(&call(504, "{}"), &Source::Trace(Box::new(trace)), NOW);
        assert_eq!(hop(&view, "hop-template").reach, Reach::Passed);
        assert_eq!(
            hop(&view, "hop-integration").reach,
            Reach::Stopped("the function timed out".into())
        );
        assert!(block(&view, "integration-answer").contains("Task timed out"));
    }

    #[test]
    fn the_response_hop_shows_what_the_page_could_read() {
        let view = how_it_works(&call(200, r#"{"message":"hi"}"#), &Source::Loading, NOW);
        let response = hop(&view, "hop-response");
        assert_eq!(field(response, "Status"), "200");
        assert_eq!(field(response, "Request ID"), REQUEST_ID);
        assert_eq!(
            block(&view, "response-headers"),
            format!("content-type: application/json\nx-amzn-requestid: {REQUEST_ID}")
        );
        assert_eq!(block(&view, "response-body"), r#"{"message":"hi"}"#);
        // No trace: no "every header" block.
        assert!(!response.parts.iter().any(|p| matches!(
            p,
            Part::Block {
                id: "response-headers-sent",
                ..
            }
        )));
    }

    #[test]
    fn while_the_trace_loads_or_when_it_fails_the_middle_hops_say_so() {
        let view = how_it_works(&call(200, "{}"), &Source::Loading, NOW);
        for id in ["hop-authorizer", "hop-template", "hop-integration"] {
            assert_eq!(hop(&view, id).reach, Reach::Unseen);
            assert_eq!(
                notes(hop(&view, id)),
                ["Reading this request's trace from the local stack…"]
            );
        }
        let failed = Source::Failed(Error::TraceNotFound(REQUEST_ID.into()));
        let view = how_it_works(&call(200, "{}"), &failed, NOW);
        assert_eq!(
            notes(hop(&view, "hop-template")),
            [format!(
                "This request's trace could not be read: the local stack has no trace of \
                 request {REQUEST_ID} (it keeps only the most recent requests). The local \
                 stack's terminal shows every hop of every request."
            )]
        );
    }

    #[test]
    fn an_unreachable_api_stops_at_the_response() {
        let unreachable = Call::new(&token("Jane", NOW + 60), NOW, None);
        let view = how_it_works(&unreachable, &Source::Logs(None), NOW);
        let response = hop(&view, "hop-response");
        assert!(matches!(&response.reach, Reach::Stopped(r) if r.contains("CORS refused")));
        assert!(response.parts.is_empty());
    }

    fn deployed() -> Source {
        Source::Logs(logs::Stack::new(
            "greeting-stack",
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
        ))
    }

    #[test]
    fn deployed_the_page_gives_the_commands_that_find_the_hops_in_the_logs() {
        let call = call(200, r#"{"message":"hi"}"#);
        let view = how_it_works(&call, &deployed(), NOW);
        let authorizer = hop(&view, "hop-authorizer");
        assert_eq!(authorizer.reach, Reach::Unseen);
        assert!(notes(authorizer)[0].contains(&call.fingerprint));
        // Issued an hour before expiry, i.e. at NOW: the window opens a minute before.
        assert_eq!(
            block(&view, "logs-authorizer"),
            format!(
                "sam logs --stack-name greeting-stack --region eu-west-1 --name \
                 AuthorizerFunction --filter '{}' --start-time '2026-12-01 22:08:00 UTC' \
                 --end-time '2026-12-01 22:11:00 UTC'",
                call.fingerprint
            )
        );
        assert_eq!(
            block(&view, "logs-hello"),
            "sam logs --stack-name greeting-stack --region eu-west-1 --name HelloFunction \
             --start-time '2026-12-01 22:08:00 UTC' --end-time '2026-12-01 22:11:00 UTC'"
        );
        assert_eq!(hop(&view, "hop-template").reach, Reach::Unseen);
        assert_eq!(field(hop(&view, "hop-response"), "Request ID"), REQUEST_ID);
    }

    #[test]
    fn deployed_a_401_stops_at_the_authorizer() {
        let view = how_it_works(
            &call(401, r#"{"message":"Unauthorized"}"#),
            &deployed(),
            NOW,
        );
        assert_eq!(
            hop(&view, "hop-authorizer").reach,
            Reach::Stopped(
                "API Gateway answered 401: there was no token, or the authorizer refused it \
                 (Unauthorized)."
                    .into()
            )
        );
        // The authorizer's decision is still in the logs.
        assert!(block(&view, "logs-authorizer").starts_with("sam logs "));
        assert_eq!(
            hop(&view, "hop-integration").reach,
            Reach::NotReached("The request stopped at hop 2.".into())
        );
    }

    #[test]
    fn deployed_without_a_stack_name_says_why_there_is_no_command() {
        let view = how_it_works(&call(200, "{}"), &Source::Logs(None), NOW);
        assert_eq!(
            notes(hop(&view, "hop-authorizer"))[1],
            "config.json names no stackName, so the page cannot say which stack's logs to read."
        );
    }

    #[test]
    fn the_request_id_must_look_like_one() {
        assert_eq!(answer(200, "").request_id(), Ok(REQUEST_ID));
        let mut odd = answer(200, "");
        odd.headers[1].1 = "../../config.json".into();
        assert_eq!(
            odd.request_id(),
            Err(Error::BadRequestId("../../config.json".into()))
        );
        odd.headers.remove(1);
        assert_eq!(odd.request_id(), Err(Error::NoRequestId));
        let view = how_it_works(&Call::new("a.b.c", NOW, Some(odd)), &Source::Loading, NOW);
        assert!(
            field(hop(&view, "hop-response"), "Request ID").starts_with(
                "unknown: the answer had no x-amzn-RequestId header the page could read"
            )
        );
    }

    #[test]
    fn reads_the_trace_endpoints_answers() {
        let trace = greeting_trace();
        let body = serde_json::to_string(&trace).unwrap();
        assert_eq!(trace_from(REQUEST_ID, 200, &body), Ok(trace));
        assert_eq!(
            trace_from(REQUEST_ID, 404, "{}"),
            Err(Error::TraceNotFound(REQUEST_ID.into()))
        );
        assert_eq!(
            trace_from(REQUEST_ID, 500, ""),
            Err(Error::TraceStatus(500))
        );
        assert!(matches!(
            trace_from(REQUEST_ID, 200, r#"{"requestId": 1}"#),
            Err(Error::TraceMalformed(_))
        ));
    }

    fn local_config() -> SiteConfig {
        SiteConfig::local("http://127.0.0.1:4101/prod", "http://127.0.0.1:4102")
    }

    #[test]
    fn locally_the_trace_of_the_answers_request_id_is_fetched() {
        let (source, fetch) = source_for(&local_config(), &call(200, "{}"));
        assert_eq!(source, Source::Loading);
        assert_eq!(
            fetch,
            Some(TraceRequest {
                request_id: REQUEST_ID.into(),
                url: format!("http://127.0.0.1:4101/.local/trace/{REQUEST_ID}"),
            })
        );
    }

    #[test]
    fn locally_without_a_request_id_or_an_answer_nothing_is_fetched() {
        let mut hidden = call(200, "{}");
        hidden.answer.as_mut().unwrap().headers.remove(1);
        assert_eq!(
            source_for(&local_config(), &hidden),
            (Source::Failed(Error::NoRequestId), None)
        );
        let unreachable = Call::new("a.b.c", NOW, None);
        assert_eq!(
            source_for(&local_config(), &unreachable),
            (Source::Failed(Error::NoAnswer), None)
        );
    }

    #[test]
    fn deployed_the_source_is_the_stacks_logs() {
        let config = SiteConfig::deployed(
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
            "1234-abc.apps.googleusercontent.com",
            "greeting-stack",
        );
        assert_eq!(source_for(&config, &call(200, "{}")), (deployed(), None));
        let unnamed = SiteConfig {
            stack_name: None,
            ..config
        };
        assert_eq!(
            source_for(&unnamed, &call(200, "{}")),
            (Source::Logs(None), None)
        );
    }

    #[test]
    fn the_outcome_is_what_the_state_machine_reads() {
        assert_eq!(
            answer(403, "x").outcome(),
            HelloOutcome::Answered {
                status: 403,
                body: "x".into()
            }
        );
    }
}
