//! How the emulator invokes a Lambda function: the [`LambdaFunction`] trait, the error a
//! function answers with, and the authorizer event kept typed (aws_lambda_events' own
//! structs) up to the function.
//!
//! This module knows nothing of the functions themselves (no `authorizer` or `hello`):
//! runners (in process, Runtime API, RIE) implement the trait in `local::functions`.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use lambda_runtime::Diagnostic;
use serde::Serialize;
use serde_json::{Value, json};

use crate::header_names::ClientHeaderNames;

/// A boxed, sendable future (what [`LambdaFunction::invoke`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The event API Gateway sends a Lambda authorizer, typed. Serialised
/// ([`AuthorizerRequest::to_json`]), it is exactly the JSON API Gateway posts: each
/// struct carries its own `"type"` (`TOKEN` or `REQUEST`), so the enum adds no tag.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizerRequest {
    /// `{"type": "TOKEN", "authorizationToken", "methodArn"}`.
    Token(ApiGatewayCustomAuthorizerRequest),
    /// The REQUEST event: headers, query strings, path parameters, stage variables,
    /// request context. Boxed: many times the size of the TOKEN event. With it, the
    /// header names as the client spelled them: the typed event's `HeaderMap` keeps
    /// them in lower case (as a Rust handler in AWS sees them too, after
    /// aws_lambda_events parses the event), the JSON posted to a function spells them
    /// as API Gateway does (see [`crate::header_names`]).
    Request(
        Box<ApiGatewayCustomAuthorizerRequestTypeRequest>,
        ClientHeaderNames,
    ),
}

impl Serialize for AuthorizerRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json()
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

/// An authorizer's answer: typed from a function run in process, JSON from one that
/// posts it (a binary, a test's closure). The gateway checks either the same way
/// ([`crate::policy::AuthorizerResult::from_answer`]).
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizerAnswer {
    /// As the handler returned it.
    Typed(Box<ApiGatewayCustomAuthorizerResponse>),
    /// As the function posted it.
    Json(Value),
}

impl AuthorizerAnswer {
    /// The answer as JSON, for logs.
    pub fn to_json(&self) -> Value {
        match self {
            AuthorizerAnswer::Typed(answer) => serde_json::to_value(answer).unwrap_or_default(),
            AuthorizerAnswer::Json(value) => value.clone(),
        }
    }
}

/// A Lambda function as API Gateway sees it.
pub trait LambdaFunction: Send + Sync {
    /// Invokes the function with `event`; `request_id` is the invocation's ID.
    fn invoke(&self, event: Value, request_id: &str)
    -> BoxFuture<'_, Result<Value, FunctionError>>;

    /// Invokes the function and gives its answer as the JSON text the integration reads.
    /// The default writes [`LambdaFunction::invoke`]'s value; a function run in process
    /// overrides it to write its typed answer at once, as the Lambda runtime does (no
    /// `Value` built and written in between).
    fn invoke_for_text(
        &self,
        event: Value,
        request_id: &str,
    ) -> BoxFuture<'_, Result<String, FunctionError>> {
        let answer = self.invoke(event, request_id);
        Box::pin(async move { answer.await.map(|value| value.to_string()) })
    }

    /// Invokes the function as an authorizer. A function run in process overrides this
    /// to take the event as it is, typed; the default serialises it as API Gateway
    /// posts it (what a binary behind a Runtime API receives).
    fn invoke_authorizer(
        &self,
        event: AuthorizerRequest,
        request_id: &str,
    ) -> BoxFuture<'_, Result<AuthorizerAnswer, FunctionError>> {
        match event.to_json() {
            Ok(value) => {
                let answer = self.invoke(value, request_id);
                Box::pin(async move { answer.await.map(AuthorizerAnswer::Json) })
            }
            Err(e) => Box::pin(std::future::ready(Err(FunctionError {
                error_type: "Runtime.SerializationError".into(),
                error_message: e.to_string(),
            }))),
        }
    }
}

impl AuthorizerRequest {
    /// The JSON API Gateway posts. aws_lambda_events 1.2 writes a REQUEST event's
    /// `queryStringParameters` as lists (its `QueryMap` has no single-value serialiser on
    /// that struct); API Gateway sends one string per name (the last), so that one
    /// field is written here from the typed map. `headers` and `multiValueHeaders` get
    /// the client's spellings.
    pub fn to_json(&self) -> Result<Value, serde_json::Error> {
        let (request, names) = match self {
            AuthorizerRequest::Token(token) => return serde_json::to_value(token),
            AuthorizerRequest::Request(request, names) => (request, names),
        };
        let mut value = serde_json::to_value(request)?;
        if let Some(object) = value.as_object_mut() {
            let single: serde_json::Map<String, Value> = request
                .query_string_parameters
                .iter()
                .map(|(name, value)| (name.to_owned(), Value::from(value)))
                .collect();
            object.insert("queryStringParameters".into(), Value::Object(single));
            for field in ["headers", "multiValueHeaders"] {
                if let Some(Value::Object(headers)) = object.get_mut(field) {
                    *headers = std::mem::take(headers)
                        .into_iter()
                        .map(|(name, value)| (names.spell(&name).to_owned(), value))
                        .collect();
                }
            }
        }
        Ok(value)
    }
}

/// A Lambda function error: what the runtime posts, and what API Gateway matches
/// integration responses against (`errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionError {
    #[serde(rename = "errorType")]
    pub error_type: String,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

impl FunctionError {
    /// The error as the JSON body Lambda returns (`{"errorMessage", "errorType"}`).
    pub fn to_json(&self) -> Value {
        json!({"errorMessage": self.error_message, "errorType": self.error_type})
    }
}

impl From<Diagnostic> for FunctionError {
    fn from(diagnostic: Diagnostic) -> Self {
        FunctionError {
            error_type: diagnostic.error_type,
            error_message: diagnostic.error_message,
        }
    }
}

/// A function from an async closure: for tests that need an authorizer or a `hello`
/// that answers something particular.
pub fn from_fn<F, Fut>(f: F) -> Arc<dyn LambdaFunction>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    Arc::new(FnFunction(f))
}

struct FnFunction<F>(F);

impl<F, Fut> LambdaFunction for FnFunction<F>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    fn invoke(&self, event: Value, _: &str) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin((self.0)(event))
    }
}

tokio::task_local! {
    /// The log of the invocation this task is running, if any ([`with_log`]).
    static INVOCATION_LOG: Arc<Mutex<Vec<String>>>;
}

/// Runs `invocation` and returns, with its outcome, the log lines its function wrote
/// meanwhile ([`log_line`]): what CloudWatch would hold for that invocation.
///
/// Keyed by the task rather than a span or a global map: an in-process function runs in
/// the gateway's own task, so the lines of one invocation cannot land in another's log
/// even when many run at once (one global subscriber, routed per task).
pub async fn with_log<T>(invocation: impl Future<Output = T>) -> (T, Vec<String>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let outcome = INVOCATION_LOG.scope(log.clone(), invocation).await;
    let lines = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
    (outcome, lines)
}

/// Whether this task is running an invocation whose log is kept: a log layer checks it
/// before formatting anything.
pub fn capturing() -> bool {
    INVOCATION_LOG.try_with(|_| ()).is_ok()
}

/// Adds one line to the log of the invocation this task is running; `false` (and the
/// line dropped) when it runs none. Lines are kept as written: never put a whole token
/// in one.
pub fn log_line(line: String) -> bool {
    INVOCATION_LOG
        .try_with(|log| log.lock().unwrap_or_else(|e| e.into_inner()).push(line))
        .is_ok()
}

/// Functions registered by the logical name the definition's URIs use
/// (`${AllowDenyAuthorizerFunction.Arn}` is `AllowDenyAuthorizerFunction`).
#[derive(Clone, Default)]
pub struct FunctionRegistry(BTreeMap<String, Arc<dyn LambdaFunction>>);

impl FunctionRegistry {
    /// Registers `function` under `name` (replacing any earlier one); chainable.
    pub fn with(mut self, name: impl Into<String>, function: Arc<dyn LambdaFunction>) -> Self {
        self.0.insert(name.into(), function);
        self
    }

    /// The function registered under `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn LambdaFunction>> {
        self.0.get(name)
    }

    /// The registered names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every function by name.
    pub fn into_map(self) -> BTreeMap<String, Arc<dyn LambdaFunction>> {
        self.0
    }
}

impl std::fmt::Debug for FunctionRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_invocation_keeps_the_lines_written_while_it_runs_and_no_others() {
        assert!(!log_line("before".into()), "no invocation: dropped");
        let first = with_log(async {
            assert!(capturing());
            log_line("one".into());
            tokio::task::yield_now().await;
            log_line("two".into());
            1
        });
        let second = with_log(async {
            log_line("other".into());
            2
        });
        let ((a, a_lines), (b, b_lines)) = tokio::join!(first, second);
        assert_eq!((a, a_lines), (1, vec!["one".to_owned(), "two".to_owned()]));
        assert_eq!((b, b_lines), (2, vec!["other".to_owned()]));
        assert!(!capturing());
    }
}
