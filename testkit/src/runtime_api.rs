//! A minimal AWS Lambda Runtime API (the `2018-06-01` endpoints a runtime calls) on
//! 127.0.0.1, and a child process running a `bootstrap` binary against it.
//!
//! Written for the tests because AWS's own emulator needs a Python install and owns a
//! fixed port; this is the same protocol, small enough to read in one sitting.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::sync::{Notify, oneshot};

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

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<(String, Value)>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Value>>,
    next_polls: Mutex<Vec<Instant>>,
}

/// A `bootstrap` process with its own Runtime API; killed when dropped.
pub struct LambdaProcess {
    shared: Arc<Shared>,
    child: tokio::process::Child,
    output: Arc<Mutex<Vec<u8>>>,
    server: tokio::task::JoinHandle<()>,
    counter: std::sync::atomic::AtomicU64,
    started: Instant,
}

impl std::fmt::Debug for LambdaProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaProcess").finish_non_exhaustive()
    }
}

impl LambdaProcess {
    /// Starts the Runtime API and the binary with the variables Lambda sets plus `env`.
    pub async fn spawn(binary: impl AsRef<Path>, env: &[(&str, &str)]) -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        let mut command = tokio::process::Command::new(binary.as_ref());
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "test-function")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test-function")
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.as_ref().display()));
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            tokio::spawn(async move {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    output.lock().expect("lock").extend_from_slice(&buf[..n]);
                }
            });
        }
        LambdaProcess {
            shared,
            child,
            output,
            server,
            counter: std::sync::atomic::AtomicU64::new(0),
            started,
        }
    }

    /// Sends one event and waits up to `timeout` for the answer.
    pub async fn invoke(&mut self, event: Value, timeout: Duration) -> Outcome {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let (tx, mut rx) = oneshot::channel();
        self.shared
            .waiting
            .lock()
            .expect("lock")
            .insert(id.clone(), tx);
        self.shared
            .queue
            .lock()
            .expect("lock")
            .push_back((id, event));
        self.shared.queued.notify_one();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        tokio::select! {
            outcome = &mut rx => outcome.unwrap_or(Outcome::TimedOut),
            status = self.child.wait() => {
                // The process may have answered just before exiting.
                if let Ok(outcome) = rx.try_recv() {
                    return outcome;
                }
                Outcome::Exited {
                    status: status.ok().and_then(|s: ExitStatus| s.code()),
                    init_error: self.shared.init_error.lock().expect("lock").clone(),
                }
            }
            _ = &mut deadline => Outcome::TimedOut,
        }
    }

    /// Waits for the process to exit (e.g. after a failed init).
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Outcome {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Outcome::Exited {
                status: status.ok().and_then(|s| s.code()),
                init_error: self.shared.init_error.lock().expect("lock").clone(),
            },
            Err(_) => Outcome::TimedOut,
        }
    }

    /// Time from spawning to the runtime's first `next` poll (init finished), if any.
    pub fn init_duration(&self) -> Option<Duration> {
        self.shared
            .next_polls
            .lock()
            .expect("lock")
            .first()
            .map(|t| t.duration_since(self.started))
    }

    /// When the process was spawned.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().expect("lock")).into_owned()
    }
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.next_polls.lock().expect("lock").push(Instant::now());
    loop {
        let notified = shared.queued.notified();
        if let Some((id, event)) = shared.queue.lock().expect("lock").pop_front() {
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() + 30_000)
                .unwrap_or(0);
            let mut headers = HeaderMap::new();
            let set = |headers: &mut HeaderMap, name: &'static str, value: String| {
                headers.insert(name, HeaderValue::from_str(&value).expect("header value"));
            };
            set(&mut headers, "lambda-runtime-aws-request-id", id);
            set(
                &mut headers,
                "lambda-runtime-deadline-ms",
                deadline.to_string(),
            );
            set(
                &mut headers,
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:test-function".into(),
            );
            set(
                &mut headers,
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
            );
            return (StatusCode::OK, headers, event.to_string()).into_response();
        }
        notified.await;
    }
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    finish(&shared, &id, Outcome::Response(value))
}

async fn fail(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
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
    *shared.init_error.lock().expect("lock") = Some(value);
    StatusCode::ACCEPTED
}

fn finish(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match shared.waiting.lock().expect("lock").remove(id) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}
