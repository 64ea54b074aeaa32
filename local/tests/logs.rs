//! What clients send reaches the log escaped: no CR or LF to forge a line, no escape
//! sequence for the terminal. One test in its own binary: it installs the global
//! log subscriber and reads what the stack logs.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn client_text_in_the_log_has_no_line_breaks_or_terminal_escapes() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("local=info")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    // A sign-in whose unknown field name the refusal quotes, and an authorizer whose
    // principal (a token's `sub`, in real life) the hop log shows.
    let hostile = "x\u{1b}[2J\r\nINFO forged line\u{9b}31m";
    let mut answer = allow("Jane");
    answer["principalId"] = json!(hostile);
    let fake = FakeAuthorizer::answering(Ok(answer));
    let stack = start(fake.config()).await;
    let refused = post_sign_in(
        &stack,
        &json!({"name": "Jane", "email": "jane@example.com", hostile: 1}).to_string(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        hello(&stack, Some("Bearer a.b.c")).await.status,
        StatusCode::OK
    );
    stack.shutdown().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let escaped = "x\\u{1b}[2J\\r\\nINFO forged line\\u{9b}31m";
    assert!(
        log.contains(&format!("unknown field `{escaped}`")),
        "the sign-in refusal: {log}"
    );
    assert!(
        log.contains(&format!("principal {escaped} -> Allow")),
        "the hop: {log}"
    );
    for raw in ['\u{1b}', '\r', '\u{9b}'] {
        assert!(!log.contains(raw), "{raw:?} in {log}");
    }
    assert!(
        log.lines().all(|line| !line.starts_with("INFO forged")),
        "{log}"
    );
}
