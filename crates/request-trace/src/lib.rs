//! # request-trace — how one request travelled, hop by hop
//!
//! The contract between the API Gateway emulator, which records every request it serves,
//! and the page's "How it works" view, which shows the hops of its own last request.
//! Local only: API Gateway has no such endpoint, so a deployed page shows what it has and
//! points at the logs instead.
//!
//! The emulator serves, on the API's own origin and outside every stage:
//!
//! - `GET` [`trace_path`]`(request_id)` → a [`RequestTrace`] as JSON (404 when the ID is
//!   unknown or has left the bounded store), for the `x-amzn-RequestId` the page received;
//! - `GET` [`INVOCATIONS_PATH`] → [`Invocations`]: how many times each function ran.
//!
//! Why `/.local`: API Gateway stage names are letters, digits, `-` and `_` only (AWS API
//! reference, `CreateStage`, `stageName`), so no stage of any definition can shadow it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The prefix of every local-only endpoint. A `.` cannot start a stage name.
pub const LOCAL_PREFIX: &str = "/.local";

/// Where the trace of one request is served: `/.local/trace/{requestId}`.
pub fn trace_path(request_id: &str) -> String {
    format!("{LOCAL_PREFIX}/trace/{request_id}")
}

/// Where the invocation counts are served.
pub const INVOCATIONS_PATH: &str = "/.local/invocations";

/// One request, from the route to the answer the client got. A hop that the request never
/// reached is `None`; [`RequestTrace::stopped`] says where it stopped and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestTrace {
    /// API Gateway's request ID, the `x-amzn-RequestId` response header.
    pub request_id: String,
    pub method: String,
    /// The full path, stage included (`/prod/hello`).
    pub path: String,
    /// The route's resource (`/hello`), when one matched.
    pub resource: Option<String>,
    /// Absent when the route has no authorizer or the request stopped before it.
    pub authorizer: Option<AuthorizerHop>,
    /// The request template, when the request got that far.
    pub template: Option<TemplateHop>,
    /// The integration (the function's answer and the integration response chosen).
    pub integration: Option<IntegrationHop>,
    /// What the client received. Always present.
    pub response: ResponseHop,
    /// Where and why the request stopped before the integration answered; `None` when it
    /// went all the way.
    pub stopped: Option<Stop>,
}

/// The hops, named the same in [`Stop::hop`] and in the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Hop {
    /// Before any hop: no such stage or route, a body too large.
    Route,
    Authorizer,
    Template,
    Integration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stop {
    pub hop: Hop,
    /// One sentence, e.g. "the authorizer answered Unauthorized: the token expired".
    pub reason: String,
}

/// API Gateway → the Lambda authorizer → its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerHop {
    /// The authorizer's name in the definition (`securitySchemes`).
    pub name: String,
    /// The function of template.yaml that ran (or would have run) it.
    pub function: String,
    /// `TOKEN` or `REQUEST`.
    pub kind: String,
    /// The event as sent, every credential shortened to a fingerprint (`<token 1a2b…>`).
    /// `None` when the function was not invoked (a cache hit, a missing identity source).
    pub event: Option<Value>,
    pub cache: CacheUse,
    pub decision: Decision,
    /// Why, in one sentence: the policy statement that matched, the function's error, the
    /// identity source that was missing.
    pub reason: String,
    pub principal_id: Option<String>,
    /// The policy document the function returned (or the cached one).
    pub policy: Option<Value>,
    /// The context the function returned, as templates see it (`$context.authorizer.*`).
    pub context: BTreeMap<String, String>,
    /// The function's log lines during this invocation, as CloudWatch would hold them.
    pub logs: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheUse {
    /// The decision came from the cache; the function did not run.
    pub hit: bool,
    /// The TTL in force (0: caching off).
    pub ttl_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// The policy allows this method: the request goes on.
    Allow,
    /// The policy denies it, explicitly or by not allowing it: 403.
    Deny,
    /// No or a rejected credential: 401.
    Unauthorized,
    /// The authorizer failed, timed out or answered nonsense: 500.
    Error,
}

/// The request template as rendered: exactly what the integration received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateHop {
    /// The content type whose template was chosen (`application/json`).
    pub content_type: String,
    pub source: String,
    /// The rendered text, byte for byte.
    pub output: String,
}

/// The integration: the function's answer and the integration response selected for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationHop {
    /// `lambda` or `mock`.
    pub kind: String,
    /// The function of template.yaml, for a Lambda integration.
    pub function: Option<String>,
    /// The function's result, or its error object (`errorMessage`, `errorType`).
    pub answer: Value,
    /// The function's log lines during this invocation.
    pub logs: Vec<String>,
    /// Which integration response answered, and with what.
    pub selected: SelectedResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectedResponse {
    /// The key in `responses` that matched (`default`, or a `selectionPattern`).
    pub key: String,
    pub status_code: u16,
    /// The response template's output, when it had one.
    pub template_output: Option<String>,
}

/// The answer the client received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseHop {
    pub status: u16,
    /// Every header, in order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// How many times each function of template.yaml was invoked since the stack started or
/// last reloaded its files (a cache hit invokes nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocations(pub BTreeMap<String, u64>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoints_sit_outside_every_possible_stage() {
        assert_eq!(trace_path("abc"), "/.local/trace/abc");
        assert!(INVOCATIONS_PATH.starts_with(LOCAL_PREFIX));
        // A stage path starts with a letter, digit, '-' or '_' after the slash.
        assert!(
            !LOCAL_PREFIX[1..]
                .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn a_trace_reads_back_as_written_with_camel_case_keys() {
        let trace = RequestTrace {
            request_id: "id".into(),
            method: "GET".into(),
            path: "/prod/hello".into(),
            resource: Some("/hello".into()),
            authorizer: None,
            template: None,
            integration: None,
            response: ResponseHop {
                status: 401,
                headers: vec![],
                body: "{}".into(),
            },
            stopped: Some(Stop {
                hop: Hop::Authorizer,
                reason: "no token".into(),
            }),
        };
        let text = serde_json::to_string(&trace).unwrap();
        assert!(text.contains("\"requestId\":\"id\""), "{text}");
        assert!(
            text.contains("\"stopped\":{\"hop\":\"authorizer\""),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<RequestTrace>(&text).unwrap(), trace);
    }
}
