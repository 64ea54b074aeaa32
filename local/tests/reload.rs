//! Hot reload: the stack rebuilds its gateway when the definition it was started with
//! changes; the next request uses the new one, with an empty authorizer cache; a file
//! that does not build is logged in one line and the previous gateway keeps serving.
//!
//! The watcher debounces, so these tests poll with a generous deadline rather than
//! assuming how soon a change is seen.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use local::StackConfig;
use reqwest::StatusCode;
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_local-stack");

/// Long enough for any loaded machine; a passing test never waits for it.
const DEADLINE: Duration = Duration::from_secs(60);

/// The request template's first characters in openapi.yaml.
const TEMPLATE_START: &str = r#"{"name": "$!util.escapeJavaScript"#;

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// A fresh directory holding a copy of the repository's openapi.yaml.
fn definition_copy(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-reload-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("openapi.yaml");
    std::fs::copy(repo_file("openapi.yaml"), &path).unwrap();
    path
}

/// openapi.yaml with the greeting's name prefixed by `prefix` in the request template.
fn with_prefixed_name(prefix: &str) -> String {
    let text = std::fs::read_to_string(repo_file("openapi.yaml")).unwrap();
    assert_eq!(text.matches(TEMPLATE_START).count(), 1);
    text.replace(
        TEMPLATE_START,
        &format!(r#"{{"name": "{prefix}$!util.escapeJavaScript"#),
    )
}

/// Writes the file in place, as an editor that truncates and writes does.
fn edit(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

async fn greet(api_url: &str, token: &str) -> (StatusCode, String) {
    let answer = read(
        client()
            .get(format!("{api_url}/hello"))
            .header("Authorization", token)
            .send()
            .await
            .expect("the API answers"),
    )
    .await;
    (answer.status, answer.body)
}

/// Asks until the greeting is `expected`; panics at the deadline with the last answer.
async fn greeting_becomes(api_url: &str, token: &str, expected: &str) {
    let start = Instant::now();
    loop {
        let (status, body) = greet(api_url, token).await;
        if status == StatusCode::OK
            && serde_json::from_str::<serde_json::Value>(&body).ok()
                == Some(json!({"message": expected}))
        {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "still {status} {body} after {DEADLINE:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_edited_request_template_serves_the_next_request_with_an_empty_authorizer_cache() {
    let path = definition_copy("template");
    let stack = start(StackConfig {
        definition: Some(path.clone()),
        watch: true,
        ..config()
    })
    .await;
    assert_eq!(stack.watched_files(), [path.canonicalize().unwrap()]);
    let token = sign_in(&stack, "Jane", "jane@example.com").await;
    greeting_becomes(&stack.api_url(), &token, "Hello Jane!").await;
    greeting_becomes(&stack.api_url(), &token, "Hello Jane!").await;
    // The second call was a cache hit (TTL 300).
    assert_eq!(stack.authorizer_invocations(), 1);

    edit(&path, &with_prefixed_name("v2 "));
    greeting_becomes(&stack.api_url(), &token, "Hello v2 Jane!").await;
    // Every call before the reload was a cache hit; the first after it is not: the
    // cache started empty.
    assert_eq!(stack.authorizer_invocations(), 2);
    stack.shutdown().await;
}

#[tokio::test]
async fn without_watch_an_edit_changes_nothing() {
    let path = definition_copy("nowatch");
    let stack = start(StackConfig {
        definition: Some(path.clone()),
        ..config()
    })
    .await;
    assert!(stack.watched_files().is_empty());
    let token = sign_in(&stack, "Jane", "jane@example.com").await;
    edit(&path, &with_prefixed_name("v2 "));
    // Longer than the debounce plus a reload, several times over.
    tokio::time::sleep(local_reload_debounce() * 10).await;
    assert_eq!(
        greet(&stack.api_url(), &token).await,
        (
            StatusCode::OK,
            json!({"message": "Hello Jane!"}).to_string()
        )
    );
    stack.shutdown().await;
}

fn local_reload_debounce() -> Duration {
    local::RELOAD_DEBOUNCE
}

/// The command, its banner's API and identity provider URLs, and its stderr lines.
struct Stack {
    child: Child,
    api: String,
    idp: String,
    log: mpsc::Receiver<String>,
}

impl Stack {
    fn start(definition: &Path) -> Self {
        let mut child = Command::new(BINARY)
            .args(["--no-site", "--api-port", "0", "--idp-port", "0"])
            .arg("--definition")
            .arg(definition)
            .env("RUST_LOG", "local=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut api = None;
        let mut idp = None;
        for line in stdout.lines() {
            let line = line.unwrap();
            let word = |label: &str| {
                line.trim_start()
                    .strip_prefix(label)
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_owned)
            };
            api = api.or_else(|| word("API"));
            idp = idp.or_else(|| word("identity provider"));
            if line.starts_with("Ctrl-C stops everything.") {
                break;
            }
        }
        let (lines, log) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let api = api
            .expect("an API line")
            .trim_end_matches("/hello")
            .to_owned();
        Stack {
            child,
            api,
            idp: idp.expect("an identity provider line"),
            log,
        }
    }

    /// The next log line containing `needle` (earlier ones are skipped).
    fn log_line(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needle:?} within {DEADLINE:?}"),
            }
        }
    }

    async fn token(&self) -> String {
        let body: serde_json::Value = client()
            .post(format!("{}/sign-in", self.idp))
            .header("Content-Type", "application/json")
            .body(r#"{"name": "Jane", "email": "jane@example.com"}"#)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["credential"].as_str().unwrap().to_owned()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_refused_edit_is_logged_in_one_line_and_the_previous_definition_keeps_serving() {
    let path = definition_copy("refused");
    let stack = Stack::start(&path);
    let token = stack.token().await;
    greeting_becomes(&stack.api, &token, "Hello Jane!").await;

    // Not YAML at all.
    edit(&path, "openapi: \"3.0.1\"\npaths: [unclosed\n");
    let line = stack.log_line("changed but was refused");
    let shown = path.canonicalize().unwrap().display().to_string();
    assert!(
        line.contains(&format!(
            "{shown} changed but was refused, so the previous definition keeps serving: the API definition {}",
            path.display()
        )),
        "{line}"
    );
    assert_eq!(
        greet(&stack.api, &token).await,
        (
            StatusCode::OK,
            json!({"message": "Hello Jane!"}).to_string()
        )
    );

    // YAML, but naming a function the stack does not run.
    edit(
        &path,
        &with_prefixed_name("v2 ").replace("${HelloFunction.Arn}", "${NoSuchFunction.Arn}"),
    );
    let line = stack.log_line("changed but was refused");
    assert!(
        line.contains("the API definition invokes NoSuchFunction, which is not a registered handler (AuthorizerFunction, HelloFunction)"),
        "{line}"
    );
    assert_eq!(
        greet(&stack.api, &token).await.1,
        json!({"message": "Hello Jane!"}).to_string()
    );

    // Fixed: served, and said so.
    edit(&path, &with_prefixed_name("v3 "));
    let line = stack.log_line("reloaded");
    assert!(
        line.contains(&format!(
            "reloaded {shown}: the new definition serves from the next request, with an empty authorizer cache"
        )),
        "{line}"
    );
    greeting_becomes(&stack.api, &token, "Hello v3 Jane!").await;

    // Reading the files is no change: one edit, one reload (not one after another).
    std::thread::sleep(local::RELOAD_DEBOUNCE * 10);
    let later: Vec<String> = stack
        .log
        .try_iter()
        .filter(|l| l.contains("reloaded"))
        .collect();
    assert!(
        later.is_empty(),
        "reloaded again without an edit: {later:#?}"
    );
}
