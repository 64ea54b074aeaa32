//! The Lambda functions API Gateway invokes: JSON in, JSON or a Lambda error out.
//!
//! In process, the handlers of the `authorizer` and `hello` crates are called directly
//! and their results serialised exactly as `lambda_runtime` would; with
//! [`crate::LambdaMode::Binaries`] the real `bootstrap` binaries answer through a Lambda
//! Runtime API ([`lambda_runners::runtime_api`]), or with [`crate::LambdaMode::Rie`]
//! under AWS's emulator ([`lambda_runners::rie`]). Tests can put any [`LambdaFunction`] in place.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use authorizer::{Authorizer, AuthorizerEvent, HttpKeyFetcher};
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

pub use apigw::lambda::{
    AuthorizerAnswer, AuthorizerRequest, BoxFuture, FunctionError, LambdaFunction, from_fn,
};

use lambda_runners::rie::{self, Rie};
use lambda_runners::runtime_api::{LambdaProcess, Outcome};

/// The logical names `openapi.yaml` gives the functions (`${HelloFunction.Arn}`): the
/// resources of `template.yaml`.
pub const HELLO_FUNCTION: &str = "HelloFunction";
/// See [`HELLO_FUNCTION`].
pub const AUTHORIZER_FUNCTION: &str = "AuthorizerFunction";

/// A REQUEST authorizer's library handler, in process (a learner's, e.g.
/// `allow_deny_authorizer::function_handler`), to register under its template name.
/// Its event and answer are handed over typed; a TOKEN event (the definition says
/// `type: token`) is converted through JSON, as `lambda_runtime` would deserialise it.
pub fn request_authorizer<F, Fut, E>(handler: F) -> Arc<dyn LambdaFunction>
where
    F: Fn(LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ApiGatewayCustomAuthorizerResponse, E>> + Send + 'static,
    E: Into<Diagnostic> + 'static,
{
    Arc::new(RequestAuthorizerHandler(handler))
}

struct RequestAuthorizerHandler<F>(F);

impl<F, Fut, E> RequestAuthorizerHandler<F>
where
    F: Fn(LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<ApiGatewayCustomAuthorizerResponse, E>> + Send + 'static,
    E: Into<Diagnostic> + 'static,
{
    fn call(
        &self,
        event: ApiGatewayCustomAuthorizerRequestTypeRequest,
        request_id: &str,
    ) -> impl Future<Output = Result<ApiGatewayCustomAuthorizerResponse, FunctionError>> + use<F, Fut, E>
    {
        let future = (self.0)(LambdaEvent::new(event, context(request_id)));
        async move { future.await.map_err(|e| FunctionError::from(e.into())) }
    }
}

impl<F, Fut, E> LambdaFunction for RequestAuthorizerHandler<F>
where
    F: Fn(LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<ApiGatewayCustomAuthorizerResponse, E>> + Send + 'static,
    E: Into<Diagnostic> + 'static,
{
    fn invoke(
        &self,
        event: Value,
        request_id: &str,
    ) -> BoxFuture<'_, Result<Value, FunctionError>> {
        let request = match serde_json::from_value(event) {
            Ok(request) => request,
            Err(e) => return Box::pin(std::future::ready(Err(unmarshal_error(e)))),
        };
        let answer = self.call(request, request_id);
        Box::pin(async move {
            respond(answer.await.map_err(|e| Diagnostic {
                error_type: e.error_type,
                error_message: e.error_message,
            }))
        })
    }

    fn invoke_authorizer(
        &self,
        event: AuthorizerRequest,
        request_id: &str,
    ) -> BoxFuture<'_, Result<AuthorizerAnswer, FunctionError>> {
        let request = match event {
            AuthorizerRequest::Request(request, _) => *request,
            token @ AuthorizerRequest::Token(_) => {
                match token.to_json().and_then(serde_json::from_value) {
                    Ok(request) => request,
                    Err(e) => return Box::pin(std::future::ready(Err(unmarshal_error(e)))),
                }
            }
        };
        let answer = self.call(request, request_id);
        Box::pin(async move { answer.await.map(|a| AuthorizerAnswer::Typed(Box::new(a))) })
    }
}

/// The production authorizer, in process: [`authorizer::function_handler`].
#[derive(Debug)]
pub struct InProcessAuthorizer(Authorizer<HttpKeyFetcher>);

impl InProcessAuthorizer {
    /// Builds the authorizer from environment-style variables (as the Lambda reads
    /// them) and fetches its keys.
    pub async fn new(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, authorizer::Error> {
        let config = authorizer::Config::from_lookup(lookup)?;
        let authorizer = Authorizer::from_config(config)?;
        authorizer.warm_up().await;
        Ok(InProcessAuthorizer(authorizer))
    }
}

impl LambdaFunction for InProcessAuthorizer {
    fn invoke(
        &self,
        event: Value,
        request_id: &str,
    ) -> BoxFuture<'_, Result<Value, FunctionError>> {
        let context = context(request_id);
        Box::pin(async move {
            // Either shape, as the binary reads it (`authorizer::AuthorizerEvent`).
            let request: AuthorizerEvent =
                serde_json::from_value(event).map_err(unmarshal_error)?;
            let result =
                authorizer::function_handler(&self.0, LambdaEvent::new(request, context)).await;
            respond(result.map_err(Diagnostic::from))
        })
    }

    /// The event as the gateway built it and the answer as the handler returns it,
    /// typed all the way (no JSON in between).
    fn invoke_authorizer(
        &self,
        event: AuthorizerRequest,
        request_id: &str,
    ) -> BoxFuture<'_, Result<AuthorizerAnswer, FunctionError>> {
        let context = context(request_id);
        let request = match event {
            AuthorizerRequest::Token(token) => AuthorizerEvent::from(token),
            AuthorizerRequest::Request(request, _) => AuthorizerEvent::Request(request),
        };
        Box::pin(async move {
            authorizer::function_handler(&self.0, LambdaEvent::new(request, context))
                .await
                .map(|answer| AuthorizerAnswer::Typed(Box::new(answer)))
                .map_err(|e| Diagnostic::from(e).into())
        })
    }
}

/// The `hello` handler, in process: [`hello::function_handler`].
#[derive(Debug, Default)]
pub struct InProcessHello;

impl InProcessHello {
    /// hello's typed answer, or its error as the runtime reports it.
    fn call(
        event: Value,
        request_id: &str,
    ) -> impl Future<Output = Result<hello::Greeting, Diagnostic>> + use<> {
        let event = LambdaEvent::new(event, context(request_id));
        async move {
            hello::function_handler(event)
                .await
                .map_err(Diagnostic::from)
        }
    }
}

impl LambdaFunction for InProcessHello {
    fn invoke(
        &self,
        event: Value,
        request_id: &str,
    ) -> BoxFuture<'_, Result<Value, FunctionError>> {
        let answer = Self::call(event, request_id);
        Box::pin(async move { respond(answer.await) })
    }

    /// The answer written straight from hello's typed response, as `lambda_runtime`
    /// writes it (its field order, no `Value` in between).
    fn invoke_for_text(
        &self,
        event: Value,
        request_id: &str,
    ) -> BoxFuture<'_, Result<String, FunctionError>> {
        let answer = Self::call(event, request_id);
        Box::pin(async move {
            match answer.await {
                Ok(greeting) => serde_json::to_string(&greeting).map_err(serialization_error),
                Err(diagnostic) => Err(diagnostic.into()),
            }
        })
    }
}

/// A built `bootstrap` binary behind a Lambda Runtime API.
///
/// Its log lines are not in the request's trace (the hop's `logs` stay empty): the
/// process writes them to a pipe that a reader task drains on its own schedule, so a
/// line written just before the answer may be read after it, and nothing in the line
/// says which invocation wrote it (the Lambdas' JSON lines carry no request ID). Split
/// by arrival time they would sometimes land in the next request's trace; they are in
/// the terminal log instead (`RUST_LOG=local::lambda=debug`).
#[derive(Debug)]
pub struct ProcessFunction {
    process: LambdaProcess,
    timeout: Duration,
}

impl ProcessFunction {
    /// Starts `binary` as the function `name` with `env`; each invocation may take up
    /// to `timeout` (the function's configured timeout).
    pub async fn start(
        binary: &Path,
        name: &str,
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> std::io::Result<Self> {
        let process = LambdaProcess::start(binary, name, env).await?;
        Ok(ProcessFunction { process, timeout })
    }
}

impl LambdaFunction for ProcessFunction {
    fn invoke(
        &self,
        event: Value,
        request_id: &str,
    ) -> BoxFuture<'_, Result<Value, FunctionError>> {
        let request_id = request_id.to_owned();
        Box::pin(async move {
            // What Lambda itself reports when the function does not answer.
            match self.process.invoke(event, self.timeout).await {
                Outcome::Response(value) => Ok(value),
                Outcome::Error {
                    error_type,
                    error_message,
                } => Err(FunctionError {
                    error_type,
                    error_message,
                }),
                Outcome::Exited { status, .. } => Err(FunctionError {
                    error_type: "Runtime.ExitError".into(),
                    error_message: format!(
                        "RequestId: {request_id} Error: Runtime exited with error: {}",
                        status.map_or("signal".to_owned(), |s| format!("exit status {s}"))
                    ),
                }),
                Outcome::TimedOut => Err(FunctionError {
                    error_type: "Sandbox.Timedout".into(),
                    error_message: format!(
                        "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                        self.timeout.as_secs_f64()
                    ),
                }),
            }
        })
    }
}

/// A built `bootstrap` binary under AWS's Lambda Runtime Interface Emulator.
#[derive(Debug)]
pub struct RieFunction {
    rie: Rie,
    timeout: Duration,
}

impl RieFunction {
    /// Starts the emulator `rie` running `binary` with `env`.
    pub async fn start(
        rie: &Path,
        binary: &Path,
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> std::io::Result<Self> {
        Ok(RieFunction {
            rie: Rie::start(rie, binary, env)
                .await
                .map_err(std::io::Error::other)?,
            timeout,
        })
    }
}

impl LambdaFunction for RieFunction {
    fn invoke(&self, event: Value, _: &str) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            match self.rie.invoke(&event, self.timeout).await {
                Ok(body) => match rie::as_error(&body) {
                    Some((error_type, error_message)) => Err(FunctionError {
                        error_type,
                        error_message,
                    }),
                    None => Ok(body),
                },
                Err(error) => Err(FunctionError {
                    error_type: "Runtime.EmulatorError".into(),
                    error_message: error.to_string(),
                }),
            }
        })
    }
}

fn context(request_id: &str) -> Context {
    // Cloned from one default: `Context::default` allocates a fresh `Config` each time.
    static DEFAULT: std::sync::OnceLock<Context> = std::sync::OnceLock::new();
    let mut context = DEFAULT.get_or_init(Context::default).clone();
    context.request_id = request_id.to_owned();
    context
}

/// Serialises a handler's result as the runtime would post it.
fn respond<T: Serialize>(result: Result<T, Diagnostic>) -> Result<Value, FunctionError> {
    match result {
        Ok(response) => serde_json::to_value(response).map_err(serialization_error),
        Err(diagnostic) => Err(diagnostic.into()),
    }
}

/// What `lambda_runtime` reports when the answer does not serialise.
fn serialization_error(error: serde_json::Error) -> FunctionError {
    FunctionError {
        error_type: "Runtime.SerializationError".into(),
        error_message: error.to_string(),
    }
}

/// What `lambda_runtime` reports when the event does not deserialise.
fn unmarshal_error(error: serde_json::Error) -> FunctionError {
    FunctionError {
        error_type: "Runtime.UnmarshalError".into(),
        error_message: format!(
            "failed to deserialize the incoming data into the function's payload type: {error}"
        ),
    }
}
