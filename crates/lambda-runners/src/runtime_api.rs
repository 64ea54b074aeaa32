//! A minimal AWS Lambda Runtime API (the `2018-06-01` endpoints a runtime calls) on
//! 127.0.0.1, and a child process running a `bootstrap` binary against it.
//!
//! The local stack uses it to run the real `authorizer` and `hello` binaries
//! (`local`'s `LambdaMode::Binaries`); the workspace's tests use it (through `testkit`)
//! to drive each built binary the way Lambda does. Written here because AWS's Runtime
//! Interface Emulator needs a download and owns a fixed port; this is the same protocol,
//! small enough to read in one sitting.
//!
//! Like one Lambda execution environment, a process handles one invocation at a time:
//! concurrent [`LambdaProcess::invoke`] calls queue and are answered in turn.
//!
//! Invocation IDs are random (UUID v4), and a response or error is taken only once, for
//! an invocation the runtime was handed by `next`: anything else gets what AWS's Runtime
//! Interface Emulator answers, 400 `{"errorMessage":"Invalid request ID","errorType":
//! "InvalidRequestID"}` (its `rapi/rendering/render_error.go`, `RenderInvalidRequestID`,
//! used for an unknown ID and for one already answered, `interop.ErrResponseSent`).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use loopback_guard::serve::Server;
use serde_json::Value;
use tokio::sync::{Notify, oneshot, watch};

use crate::process::{collect_output, isolated_command, lock};

/// How an invocation (or the start-up) ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function returned this JSON.
    Response(Value),
    /// The function reported an error.
    Error {
        error_type: String,
        error_message: String,
    },
    /// The process exited before answering.
    Exited {
        status: Option<i32>,
        init_error: Option<Value>,
    },
    /// No answer within the time limit.
    TimedOut,
}

/// The largest response or error a function may post: Lambda's 6 MB limit for a
/// synchronous invocation's response.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// How long the Runtime API waits for a request head before it drops the connection:
/// the same 10 s as every local server (`loopback_guard::serve::Limits`). A runtime
/// sends its heads at once; a client that never finishes one is dropped.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The Runtime Interface Emulator's answer to a response or error for an invocation that
/// is not the one in progress (JSON from Go's encoder, hence the newline).
pub const INVALID_REQUEST_ID: &str =
    "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n";

/// An invocation waiting for its answer.
struct Pending {
    answer: oneshot::Sender<Outcome>,
    /// Whether `next` has handed it to the runtime (only then may it be answered).
    delivered: bool,
}

#[derive(Default)]
struct Shared {
    /// Invocations not yet handed out: ID, event, and the deadline announced to the
    /// function (`Lambda-Runtime-Deadline-Ms`: when [`LambdaProcess::invoke`] stops
    /// waiting, i.e. the function's timeout).
    queue: Mutex<VecDeque<(String, Value, SystemTime)>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, Pending>>,
    init_error: Mutex<Option<Value>>,
    next_polls: Mutex<Vec<Instant>>,
    function_name: String,
}

/// A `bootstrap` process with its own Runtime API; killed when dropped.
pub struct LambdaProcess {
    shared: Arc<Shared>,
    /// `Some(exit code)` once the process has exited.
    exited: watch::Receiver<Option<Option<i32>>>,
    /// Dropping it kills the process.
    _kill: oneshot::Sender<()>,
    output: Arc<Mutex<Vec<u8>>>,
    server: Server,
    runtime_api: SocketAddr,
    started: Instant,
}

impl std::fmt::Debug for LambdaProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaProcess")
            .field("function", &self.shared.function_name)
            .finish_non_exhaustive()
    }
}

impl LambdaProcess {
    /// Starts the Runtime API and the binary with the variables Lambda sets plus `env`.
    /// The process sees no other variable of ours but `PATH`. Each line it prints is
    /// kept (see [`LambdaProcess::output`]) and logged at debug level under the target
    /// `local::lambda`.
    pub async fn start(
        binary: &Path,
        function_name: &str,
        env: &[(&str, &str)],
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            function_name: function_name.to_owned(),
            ..Shared::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .layer(DefaultBodyLimit::max(MAX_RESPONSE_BYTES))
            .with_state(shared.clone());
        // The Host allowlist and a deadline for request heads, as every local server;
        // no request deadline: `next` waits for the next event as long as it takes.
        let server = Server::spawn_long_polling(listener, app, HEADER_READ_TIMEOUT);

        let mut command = isolated_command(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local-stream")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            )
            .env("AWS_REGION", "us-east-1");
        for (k, v) in env {
            command.env(k, v);
        }
        let started = Instant::now();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                server.abort();
                return Err(error);
            }
        };
        let output = collect_output(&mut child, function_name);

        // One task owns the child: it reports the exit, and kills the process when the
        // `LambdaProcess` is dropped (the kill sender closes).
        let (exit_tx, exited) = watch::channel(None);
        let (kill, kill_rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                _ = kill_rx => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let _ = exit_tx.send(Some(status.ok().and_then(|s| s.code())));
        });

        Ok(LambdaProcess {
            shared,
            exited,
            _kill: kill,
            output,
            server,
            runtime_api: addr,
            started,
        })
    }

    /// Where the process's Runtime API listens (its `AWS_LAMBDA_RUNTIME_API`).
    pub fn runtime_api_addr(&self) -> SocketAddr {
        self.runtime_api
    }

    /// Sends one event and waits up to `timeout` for the answer.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Outcome {
        // Random, as Lambda's: a runtime cannot guess another invocation's ID.
        let id = uuid::Uuid::new_v4().to_string();
        let (tx, mut rx) = oneshot::channel();
        lock(&self.shared.waiting).insert(
            id.clone(),
            Pending {
                answer: tx,
                delivered: false,
            },
        );
        let deadline = SystemTime::now() + timeout;
        lock(&self.shared.queue).push_back((id.clone(), event, deadline));
        self.shared.queued.notify_one();
        let mut exited = self.exited.clone();
        let outcome = tokio::select! {
            outcome = &mut rx => outcome.unwrap_or(Outcome::TimedOut),
            status = exited.wait_for(Option::is_some) => {
                // The process may have answered just before exiting.
                match rx.try_recv() {
                    Ok(outcome) => outcome,
                    Err(_) => Outcome::Exited {
                        status: status.ok().and_then(|s| *s).flatten(),
                        init_error: lock(&self.shared.init_error).clone(),
                    },
                }
            }
            _ = tokio::time::sleep(timeout) => Outcome::TimedOut,
        };
        // An unanswered invocation must not be handed to the function later.
        lock(&self.shared.waiting).remove(&id);
        lock(&self.shared.queue).retain(|(queued, _, _)| *queued != id);
        outcome
    }

    /// Waits for the process to exit (e.g. after a failed init).
    pub async fn wait_for_exit(&self, timeout: Duration) -> Outcome {
        let mut exited = self.exited.clone();
        match tokio::time::timeout(timeout, exited.wait_for(Option::is_some)).await {
            Ok(status) => Outcome::Exited {
                status: status.ok().and_then(|s| *s).flatten(),
                init_error: lock(&self.shared.init_error).clone(),
            },
            Err(_) => Outcome::TimedOut,
        }
    }

    /// Whether the process has exited.
    pub fn has_exited(&self) -> bool {
        self.exited.borrow().is_some()
    }

    /// Time from spawning to the runtime's first `next` poll (init finished), if any.
    pub fn init_duration(&self) -> Option<Duration> {
        lock(&self.shared.next_polls)
            .first()
            .map(|t| t.duration_since(self.started))
    }

    /// When the process was spawned.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// What the process wrote to stdout and stderr (the last MiB).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&lock(&self.output)).into_owned()
    }
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.next_polls).push(Instant::now());
    loop {
        let notified = shared.queued.notified();
        let queued = lock(&shared.queue).pop_front();
        if let Some((id, event, deadline)) = queued {
            if let Some(pending) = lock(&shared.waiting).get_mut(&id) {
                pending.delivered = true;
            }
            let deadline = deadline
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            let arn = format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                shared.function_name
            );
            let mut headers = HeaderMap::new();
            for (name, value) in [
                ("lambda-runtime-aws-request-id", id),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                ("lambda-runtime-invoked-function-arn", arn),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
                ),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            }
            return (StatusCode::OK, headers, event.to_string()).into_response();
        }
        notified.await;
    }
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> Response {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    finish(&shared, &id, Outcome::Response(value))
}

async fn fail(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> Response {
    let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    finish(
        &shared,
        &id,
        Outcome::Error {
            error_type: field("errorType"),
            error_message: field("errorMessage"),
        },
    )
}

async fn init_error(State(shared): State<Arc<Shared>>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    *lock(&shared.init_error) = Some(value);
    StatusCode::ACCEPTED
}

/// Takes the answer of the invocation in progress `id`, once.
fn finish(shared: &Shared, id: &str, outcome: Outcome) -> Response {
    let mut waiting = lock(&shared.waiting);
    // Unknown, answered already, timed out or not yet handed out: all the same refusal
    // (an ID not yet handed out cannot be known to the runtime, IDs being random).
    if !waiting.get(id).is_some_and(|p| p.delivered) {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            INVALID_REQUEST_ID,
        )
            .into_response();
    }
    if let Some(pending) = waiting.remove(id) {
        let _ = pending.answer.send(outcome);
    }
    StatusCode::ACCEPTED.into_response()
}
