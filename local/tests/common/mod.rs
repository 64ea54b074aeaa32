//! Shared by the test suites: a stack on ephemeral ports, an HTTP client, sign-in, and
//! fake Lambda functions.
#![allow(dead_code)] // each suite uses a part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use local::functions::from_fn;
use local::{FunctionError, LambdaFunction, LambdaMode, RunningStack, StackConfig};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The site origin the tests configure (stage variable `siteOrigin`).
pub const ORIGIN: &str = "http://127.0.0.1:4100";

/// The method ARN the emulator builds for `GET /prod/hello`.
pub const HELLO_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/hello";

/// Settings for a test: every port ephemeral, a fixed site origin.
pub fn config() -> StackConfig {
    let mut config = StackConfig {
        api_port: 0,
        idp_port: 0,
        site_port: 0,
        ..StackConfig::default()
    };
    config
        .stage_variables
        .insert("siteOrigin".into(), ORIGIN.into());
    config
}

/// A stack with [`config`].
pub async fn stack() -> RunningStack {
    start(config()).await
}

pub async fn start(config: StackConfig) -> RunningStack {
    local::start(config).await.expect("the stack starts")
}

/// A client that never goes through a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

/// One answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub async fn read(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.expect("a body"),
    }
}

/// `GET {api}/hello` with `authorization` as the header, if any.
pub async fn hello(stack: &RunningStack, authorization: Option<&str>) -> Answer {
    let mut request = client()
        .get(format!("{}/hello", stack.api_url()))
        .header("Origin", ORIGIN);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    read(request.send().await.expect("the API answers")).await
}

/// Signs in at the identity provider; panics unless it answers 200 with a credential.
pub async fn sign_in(stack: &RunningStack, name: &str, email: &str) -> String {
    sign_in_with(stack, json!({"name": name, "email": email})).await
}

pub async fn sign_in_with(stack: &RunningStack, body: Value) -> String {
    let answer = post_sign_in(stack, &body.to_string()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["credential"]
        .as_str()
        .expect("a credential")
        .to_owned()
}

pub async fn post_sign_in(stack: &RunningStack, body: &str) -> Answer {
    let response = client()
        .post(format!("{}/sign-in", stack.idp_url()))
        .header("Content-Type", "application/json")
        .header("Origin", ORIGIN)
        .body(body.to_owned())
        .send()
        .await
        .expect("the identity provider answers");
    read(response).await
}

/// An authorizer that always gives `answer` and counts its invocations; the events it
/// received are kept.
pub struct FakeAuthorizer {
    pub calls: Arc<AtomicUsize>,
    pub events: Arc<std::sync::Mutex<Vec<Value>>>,
    pub function: Arc<dyn LambdaFunction>,
}

impl FakeAuthorizer {
    pub fn answering(answer: Result<Value, FunctionError>) -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let events = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, e) = (calls.clone(), events.clone());
        let function = from_fn(move |event| {
            c.fetch_add(1, Ordering::SeqCst);
            e.lock().unwrap().push(event);
            let answer = answer.clone();
            async move { answer }
        });
        FakeAuthorizer {
            calls,
            events,
            function,
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// A stack config whose authorizer is this fake.
    pub fn config(&self) -> StackConfig {
        StackConfig {
            lambdas: LambdaMode::Custom {
                authorizer: Some(self.function.clone()),
                hello: None,
            },
            ..config()
        }
    }
}

/// An authorizer answer: one statement, and a context.
pub fn policy(effect: &str, resource: &str, context: Value) -> Value {
    json!({
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]
        },
        "context": context
    })
}

/// Allow for the whole stage, greeting `name`.
pub fn allow(name: &str) -> Value {
    policy(
        "Allow",
        "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/*/*",
        json!({"name": name}),
    )
}

/// The gateway response body the definition renders for `message` (`None`: null).
pub fn gateway_body(message: Option<&str>) -> String {
    format!(
        "{{\"message\": {}}}",
        message.map_or("null".to_owned(), |m| json!(m).to_string())
    )
}

/// Flips one character in the middle of a token's signature.
pub fn tamper(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = bytes.len() - 20;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII")
}

/// Builds (or finds up to date) the two Lambda binaries in this test's own target directory and
/// profile. `cargo build` is a no-op when they are current, so a stale binary is never
/// tested, whether this runs under `cargo test --workspace` or `cargo test -p local`.
pub fn built_binaries() -> (PathBuf, PathBuf) {
    // target/<profile>/deps/binaries-<hash>
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let target_dir = profile_dir.parent().expect("target");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--quiet",
            "-p",
            "authorizer",
            "-p",
            "hello",
            "--bins",
            "--target-dir",
        ])
        .arg(target_dir);
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        command.arg("--release");
    }
    let status = command.status().expect("cargo runs");
    assert!(
        status.success(),
        "building the Lambda binaries failed: {status}"
    );
    (profile_dir.join("authorizer"), profile_dir.join("hello"))
}
