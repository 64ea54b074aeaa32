//! Header names keep the client's case (issue 10, Fidelity), through real HTTP: in
//! `$input.params().header` and in the REQUEST authorizer event's `headers` and
//! `multiValueHeaders`, as API Gateway hands them on (AWS's REQUEST input example has
//! `HeaderAuth1`; LocalStack's aws-validated test_apigateway_lambda.snapshot.json
//! records `tEsT-HEADeR` as sent). Lookups stay case-insensitive. The requests are
//! written byte for byte (HTTP clients normalise the case of names).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{FakeAuthorizer, policy};
use local::RunningStack;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/header-case.yaml")
}

fn fake() -> FakeAuthorizer {
    FakeAuthorizer::answering(Ok(policy(
        "Allow",
        "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/*/*",
        json!({}),
    )))
}

async fn start(fake: &FakeAuthorizer) -> RunningStack {
    let mut config = fake.config();
    config.definition = Some(fixture());
    common::start(config).await
}

fn host(stack: &RunningStack) -> String {
    stack
        .api_url()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host:port")
        .to_owned()
}

/// Reads one response (status and body; the body framed by Content-Length).
async fn response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> (u16, String) {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut parsed = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head) = parsed.parse(pending).expect("a response") {
            let status = parsed.code.expect("a status");
            let length: usize = parsed
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .map(|h| std::str::from_utf8(h.value).unwrap().parse().unwrap())
                .expect("a Content-Length");
            while pending.len() < head + length {
                read_more(stream, pending).await;
            }
            let body = String::from_utf8(pending[head..head + length].to_vec()).unwrap();
            pending.drain(..head + length);
            return (status, body);
        }
        read_more(stream, pending).await;
    }
}

async fn read_more(stream: &mut TcpStream, pending: &mut Vec<u8>) {
    let mut buffer = [0u8; 4096];
    let n = stream.read(&mut buffer).await.expect("the stack answers");
    assert!(n > 0, "the connection closed early");
    pending.extend_from_slice(&buffer[..n]);
}

fn get(host: &str, custom: &str, value: &str) -> String {
    format!("GET /prod/echo HTTP/1.1\r\nHost: {host}\r\n{custom}: {value}\r\n\r\n")
}

/// Opens a connection, sends `get(host, "X-Custom-Header", "Value")` on it and reads the
/// answer; the connection stays open.
async fn send_custom_header(host: &str) -> (TcpStream, (u16, String)) {
    let mut stream = TcpStream::connect(host).await.unwrap();
    stream
        .write_all(get(host, "X-Custom-Header", "Value").as_bytes())
        .await
        .unwrap();
    let answer = response(&mut stream, &mut Vec::new()).await;
    (stream, answer)
}

/// A chunked POST whose body looks like a request head (it must be skipped as data).
fn chunked_post(host: &str, custom: &str, value: &str) -> String {
    let fake_head = "GET /prod/echo HTTP/1.1\r\nX-SMUGGLED: 1\r\n\r\n";
    format!(
        "POST /prod/echo HTTP/1.1\r\nHost: {host}\r\n{custom}: {value}\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x};ext=1\r\n{fake_head}\r\n3\r\nabc\r\n0\r\nTrailer-Field: t\r\n\r\n",
        fake_head.len()
    )
}

fn echo(names: &str, value: &str) -> String {
    format!(r#"{{"names": "[{names}]", "exact": "{value}", "any": "{value}"}}"#)
}

fn header_keys(event: &Value, field: &str) -> Vec<String> {
    event[field]
        .as_object()
        .expect("a map")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_custom_header_reaches_the_template_and_the_request_event_as_the_client_spelled_it() {
    let fake = fake();
    let stack = start(&fake).await;
    let host = host(&stack);
    let (_, (status, body)) = send_custom_header(&host).await;
    assert_eq!(
        (status, body.as_str()),
        (200, echo("Host, X-Custom-Header", "Value").as_str())
    );
    let events = fake.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["headers"],
        json!({"Host": host, "X-Custom-Header": "Value"})
    );
    assert_eq!(
        events[0]["multiValueHeaders"],
        json!({"Host": [host], "X-Custom-Header": ["Value"]})
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn keep_alive_requests_each_keep_their_own_spelling_across_a_chunked_body() {
    let fake = fake();
    let stack = start(&fake).await;
    let host = host(&stack);
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let mut pending = Vec::new();
    let requests = [
        get(&host, "X-Custom-Header", "one"),
        chunked_post(&host, "x-CUSTOM-header", "two"),
        get(&host, "X-CUSTOM-HEADER", "three"),
    ];
    // One after the other on one connection...
    for request in &requests {
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, _) = response(&mut stream, &mut pending).await;
        assert_eq!(status, 200);
    }
    // ...then the three again, pipelined in one write.
    stream
        .write_all(requests.concat().as_bytes())
        .await
        .unwrap();
    let mut bodies = Vec::new();
    for _ in 0..3 {
        bodies.push(response(&mut stream, &mut pending).await);
    }
    assert_eq!(
        bodies,
        [
            (200, echo("Host, X-Custom-Header", "one")),
            // A name the template looks up exactly is absent in another case; the
            // case-insensitive `$input.params('x')` still finds it.
            (
                200,
                r#"{"names": "[Host, Transfer-Encoding, x-CUSTOM-header]", "exact": "", "any": "two"}"#
                    .to_owned()
            ),
            (
                200,
                r#"{"names": "[Host, X-CUSTOM-HEADER]", "exact": "", "any": "three"}"#.to_owned()
            ),
        ]
    );
    let events = fake.events.lock().unwrap().clone();
    assert_eq!(events.len(), 6);
    let keys: Vec<Vec<String>> = events.iter().map(|e| header_keys(e, "headers")).collect();
    let expected = [
        vec!["Host", "X-Custom-Header"],
        vec!["Host", "Transfer-Encoding", "x-CUSTOM-header"],
        vec!["Host", "X-CUSTOM-HEADER"],
    ];
    for (i, keys) in keys.iter().enumerate() {
        assert_eq!(keys, &expected[i % 3], "request {i}");
        assert_eq!(
            header_keys(&events[i], "multiValueHeaders"),
            expected[i % 3],
            "request {i}"
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_repeated_name_is_spelled_as_it_first_came() {
    let fake = fake();
    let stack = start(&fake).await;
    let host = host(&stack);
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let request = format!(
        "GET /prod/echo HTTP/1.1\r\nHost: {host}\r\nX-Custom-Header: a\r\nx-custom-HEADER: b\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let (status, _) = response(&mut stream, &mut Vec::new()).await;
    assert_eq!(status, 200);
    let events = fake.events.lock().unwrap().clone();
    assert_eq!(
        events[0]["multiValueHeaders"],
        json!({"Host": [host], "X-Custom-Header": ["a", "b"]})
    );
    stack.shutdown().await;
}

/// GET /echo with nothing that reads header names (no authorizer, a fixed template):
/// the server does not record them on connections accepted while it is served.
const UNREAD_DEFINITION: &str = r#"openapi: "3.0.1"
info: {title: header-names-unread, version: "1"}
paths:
  /echo:
    get:
      responses:
        "200": {description: nothing about headers}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: "200"
            responseTemplates: {application/json: '{"names": "unread"}'}
"#;

#[tokio::test]
async fn a_reload_that_starts_reading_header_names_closes_the_connections_not_recording_them() {
    let dir = std::env::temp_dir().join(format!("local-header-case-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("openapi.yaml");
    std::fs::write(&path, UNREAD_DEFINITION).unwrap();
    let fake = fake();
    let mut config = fake.config();
    config.definition = Some(path.clone());
    config.watch = true;
    // Far above the 10 s the test waits for the close: an idle connection past its head
    // deadline would close anyway.
    config.limits.header_read_timeout = Duration::from_secs(300);
    let stack = common::start(config).await;
    let host = host(&stack);

    let (mut unrecorded, answer) = send_custom_header(&host).await;
    assert_eq!(answer, (200, r#"{"names": "unread"}"#.to_owned()));

    // The definition now reads them: each new connection is recorded from its first
    // request on.
    std::fs::copy(fixture(), &path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, answer) = send_custom_header(&host).await;
        if answer == (200, echo("Host, X-Custom-Header", "Value")) {
            break;
        }
        assert_eq!(answer, (200, r#"{"names": "unread"}"#.to_owned()));
        assert!(Instant::now() < deadline, "no reload within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The idle connection accepted before is closed (its next request would have
    // lower-case names): the client reconnects.
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), unrecorded.read(&mut buffer))
        .await
        .expect("closed within 10 s")
        .expect("a clean close");
    assert_eq!(read, 0);
    stack.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
