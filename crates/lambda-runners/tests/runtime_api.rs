//! The Lambda Runtime API the built binaries run against: random invocation IDs, and an
//! answer taken once, for the invocation handed out, with the Runtime Interface
//! Emulator's refusal otherwise. The test plays the runtime itself, over real HTTP,
//! next to a process that only sleeps.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use lambda_runners::runtime_api::{INVALID_REQUEST_ID, LambdaProcess, Outcome};
use reqwest::StatusCode;
use serde_json::json;

/// A "bootstrap" that never calls the Runtime API (so the test can). Written once for
/// the whole binary: rewritten by each test, one test's write could be open while
/// another forks, and exec then fails with "Text file busy" (ETXTBSY).
fn sleeper() -> std::path::PathBuf {
    static SLEEPER: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    SLEEPER
        .get_or_init(|| {
            let path =
                std::env::temp_dir().join(format!("lambda-runners-sleeper-{}", std::process::id()));
            std::fs::write(&path, "#!/bin/sh\nexec sleep 60\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        })
        .clone()
}

#[tokio::test]
async fn invocation_ids_are_random_and_an_answer_is_taken_once_for_the_invocation_in_progress() {
    let process = Arc::new(
        LambdaProcess::start(&sleeper(), "probe", &[])
            .await
            .unwrap(),
    );
    let api = format!("http://{}/2018-06-01/runtime", process.runtime_api_addr());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let post = |url: String, body: &'static str| {
        let client = client.clone();
        async move {
            let response = client.post(url).body(body).send().await.unwrap();
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, content_type, response.text().await.unwrap())
        }
    };

    let mut ids = Vec::new();
    for n in 0..2 {
        let invoking = {
            let process = process.clone();
            tokio::spawn(async move {
                process
                    .invoke(json!({"n": n}), Duration::from_secs(10))
                    .await
            })
        };
        let next = client
            .get(format!("{api}/invocation/next"))
            .send()
            .await
            .unwrap();
        assert_eq!(next.status(), StatusCode::OK);
        let id = next.headers()["lambda-runtime-aws-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(next.text().await.unwrap(), json!({"n": n}).to_string());
        let uuid = uuid::Uuid::parse_str(&id).expect("a UUID");
        assert_eq!(uuid.get_version_num(), 4, "{id}");

        // Another ID (unknown) is refused, and does not end the invocation.
        let unknown = uuid::Uuid::new_v4();
        for kind in ["response", "error"] {
            let refused = post(format!("{api}/invocation/{unknown}/{kind}"), "{}").await;
            assert_eq!(
                refused,
                (
                    StatusCode::BAD_REQUEST,
                    Some("application/json".to_owned()),
                    INVALID_REQUEST_ID.to_owned()
                )
            );
        }
        let answered = post(format!("{api}/invocation/{id}/response"), r#"{"ok": true}"#).await;
        assert_eq!(answered.0, StatusCode::ACCEPTED);
        assert_eq!(
            invoking.await.unwrap(),
            Outcome::Response(json!({"ok": true}))
        );

        // Answered already: a second response or error is refused the same way.
        for kind in ["response", "error"] {
            let again = post(format!("{api}/invocation/{id}/{kind}"), r#"{"ok": false}"#).await;
            assert_eq!(again.0, StatusCode::BAD_REQUEST);
            assert_eq!(again.2, INVALID_REQUEST_ID);
        }
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    assert_eq!(
        INVALID_REQUEST_ID,
        "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n"
    );
}

/// The Runtime API serves through loopback-guard's accept loop: a head that never
/// ends is dropped after `HEADER_READ_TIMEOUT` (10 s), while a complete `next` long
/// poll waits past it for its event.
#[tokio::test]
async fn a_client_that_never_finishes_its_head_is_dropped_while_a_long_poll_waits_on() {
    use lambda_runners::runtime_api::HEADER_READ_TIMEOUT;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let process = Arc::new(
        LambdaProcess::start(&sleeper(), "probe", &[])
            .await
            .unwrap(),
    );
    let addr = process.runtime_api_addr();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let polling = tokio::spawn(
        client
            .get(format!("http://{addr}/2018-06-01/runtime/invocation/next"))
            .send(),
    );

    let started = std::time::Instant::now();
    let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    stalled
        .write_all(
            format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {addr}\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(HEADER_READ_TIMEOUT * 2, stalled.read(&mut buffer))
        .await
        .expect("dropped within twice the deadline");
    let elapsed = started.elapsed();
    assert_eq!(read.ok(), Some(0), "closed without an answer");
    assert!(
        elapsed >= HEADER_READ_TIMEOUT - Duration::from_millis(500),
        "dropped after {elapsed:?}, before the deadline"
    );

    // The long poll outlived the head deadline and still gets its event.
    let invoking = {
        let process = process.clone();
        tokio::spawn(async move {
            process
                .invoke(json!({"late": true}), Duration::from_secs(5))
                .await
        })
    };
    let next = polling.await.unwrap().expect("the long poll is answered");
    assert_eq!(next.status(), StatusCode::OK);
    assert_eq!(next.text().await.unwrap(), r#"{"late":true}"#);
    invoking.abort();
}

/// `Lambda-Runtime-Deadline-Ms` is when the invocation's time limit (the function's
/// timeout) runs out, as Lambda announces it, not a fixed allowance.
#[tokio::test]
async fn the_deadline_announced_is_the_invocations_own_time_limit() {
    let process = Arc::new(
        LambdaProcess::start(&sleeper(), "probe", &[])
            .await
            .unwrap(),
    );
    let api = format!("http://{}/2018-06-01/runtime", process.runtime_api_addr());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let millis = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    };
    let before = millis();
    let invoking = {
        let process = process.clone();
        tokio::spawn(async move { process.invoke(json!({}), Duration::from_secs(3)).await })
    };
    let next = client
        .get(format!("{api}/invocation/next"))
        .send()
        .await
        .unwrap();
    let after = millis();
    let deadline: u128 = next.headers()["lambda-runtime-deadline-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (before + 3000..=after + 3000).contains(&deadline),
        "{before} {deadline} {after}"
    );
    assert_eq!(invoking.await.unwrap(), Outcome::TimedOut);
}
