//! What every local server does against hostile browsers and clients: the Host allowlist
//! (DNS rebinding), the header-read and whole-request deadlines, and API Gateway's 10 MB
//! payload limit with API Gateway's own answer. Raw TCP where a client must misbehave.

mod common;

use std::time::{Duration, Instant};

use common::*;
use local::{Limits, StackConfig};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `host:port` of a server URL (`http://127.0.0.1:P/...`).
fn authority(url: &str) -> String {
    url.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

fn port(url: &str) -> u16 {
    authority(url).rsplit(':').next().unwrap().parse().unwrap()
}

/// The 403 body a server on `port` answers to another host name.
fn refusal(port: u16) -> String {
    format!(
        "Forbidden: this local server answers only to the host names 127.0.0.1:{port}, \
         localhost:{port} and [::1]:{port}; other names are refused (DNS rebinding protection).\n"
    )
}

/// A site directory with an index.html.
fn site_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("local-stack-hosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    dir
}

/// Everything a server sends on `stream` until it closes (at most `within`).
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection in time")
        .expect("a clean close");
    received
}

#[tokio::test]
async fn a_dns_rebinding_host_is_403_on_the_site_the_api_and_the_identity_provider() {
    let stack = start(StackConfig {
        site_dir: Some(site_dir()),
        ..config()
    })
    .await;
    let site = stack.site_url().unwrap();
    let servers = [
        (format!("{site}/"), port(&site)),
        (format!("{}/hello", stack.api_url()), port(&stack.api_url())),
        (
            format!("{}/.well-known/openid-configuration", stack.idp_url()),
            port(&stack.idp_url()),
        ),
    ];
    for (url, port) in &servers {
        for host in [
            format!("evil.example:{port}"),
            format!("127.0.0.1:{}", port + 1),
            "localhost".to_owned(),
        ] {
            let answer = read(
                client()
                    .get(url)
                    .header("Host", &host)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{url} Host {host}");
            assert_eq!(answer.body, refusal(*port), "{url} Host {host}");
            assert_eq!(
                answer.header("content-type"),
                Some("text/plain; charset=utf-8")
            );
            assert_eq!(answer.header("access-control-allow-origin"), None);
        }
        // The loopback names with the right port are served.
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ] {
            let answer = read(
                client()
                    .get(url)
                    .header("Host", &host)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_ne!(answer.status, StatusCode::FORBIDDEN, "{url} Host {host}");
        }
    }
    // A sign-in through a rebound name mints nothing.
    let answer = read(
        client()
            .post(format!("{}/sign-in", stack.idp_url()))
            .header("Host", format!("evil.example:{}", port(&stack.idp_url())))
            .header("Content-Type", "application/json")
            .body(r#"{"name": "Jane", "email": "jane@example.com"}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(!answer.body.contains("credential"));
    stack.shutdown().await;
}

#[tokio::test]
async fn a_request_with_no_host_or_another_absolute_target_is_403() {
    let stack = stack().await;
    let api = authority(&stack.api_url());
    for request in [
        // HTTP/1.0 needs no Host header.
        "GET /prod/hello HTTP/1.0\r\n\r\n".to_owned(),
        format!(
            "GET http://evil.example/prod/hello HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n"
        ),
    ] {
        let mut stream = TcpStream::connect(&api).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let received =
            String::from_utf8(read_to_close(&mut stream, Duration::from_secs(5)).await).unwrap();
        assert!(
            received.starts_with("HTTP/1.1 403 Forbidden\r\n")
                || received.starts_with("HTTP/1.0 403 Forbidden\r\n"),
            "{received}"
        );
        assert!(
            received.ends_with(&refusal(port(&stack.api_url()))),
            "{received}"
        );
    }
    stack.shutdown().await;
}

fn quick_limits() -> StackConfig {
    StackConfig {
        limits: Limits {
            header_read_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_millis(1500),
        },
        ..config()
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected_without_an_answer() {
    let stack = start(quick_limits()).await;
    for url in [stack.api_url(), stack.idp_url()] {
        let address = authority(&url);
        let mut stream = TcpStream::connect(&address).await.unwrap();
        // Slow loris: a request line and one header, then nothing more.
        stream
            .write_all(format!("GET /prod/hello HTTP/1.1\r\nHost: {address}\r\nX-A: b").as_bytes())
            .await
            .unwrap();
        let started = Instant::now();
        let received = read_to_close(&mut stream, Duration::from_secs(5)).await;
        let waited = started.elapsed();
        assert_eq!(String::from_utf8_lossy(&received), "", "{url}");
        // Closed by the server (read_to_close fails past 5 s), and not before the
        // header deadline: a lower bound, which a loaded machine cannot break.
        assert!(
            waited >= Duration::from_millis(400),
            "{url}: closed after {waited:?}"
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_body_that_never_arrives_is_408_after_the_request_deadline() {
    let stack = start(quick_limits()).await;
    for (url, path) in [
        (stack.api_url(), "/prod/hello"),
        (stack.idp_url(), "/sign-in"),
    ] {
        let address = authority(&url);
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(
                format!(
                    "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"na"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let started = Instant::now();
        let received =
            String::from_utf8(read_to_close(&mut stream, Duration::from_secs(6)).await).unwrap();
        let (head, body) = split(&received);
        assert!(
            head.starts_with("http/1.1 408 request timeout\r\n"),
            "{url}: {head}"
        );
        assert!(head.contains("\r\ncontent-length: 0"), "{head}");
        assert_eq!(body, "");
        assert!(
            started.elapsed() >= Duration::from_millis(1400),
            "{:?}",
            started.elapsed()
        );
    }
    stack.shutdown().await;
}

/// API Gateway's answer to a body over 10,485,760 bytes.
const TOO_LARGE: &str = "HTTP content length exceeded 10485760 bytes.";

/// Splits a raw HTTP/1.1 response into its head (lower-cased) and body.
fn split(response: &str) -> (String, String) {
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a complete response");
    (head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn a_declared_body_of_10_mb_plus_one_byte_is_api_gateways_413() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(fake.config()).await;
    let address = authority(&stack.api_url());
    let mut stream = TcpStream::connect(&address).await.unwrap();
    // Refused on the declared length, before any byte of the body is sent.
    stream
        .write_all(
            format!(
                "POST /prod/hello HTTP/1.1\r\nHost: {address}\r\nOrigin: {ORIGIN}\r\nAuthorization: Bearer a.b.c\r\nContent-Type: application/json\r\nContent-Length: 10485761\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut received = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut received))
        .await
        .unwrap()
        .unwrap();
    let (head, body) = split(std::str::from_utf8(&received[..n]).unwrap());
    assert!(
        head.starts_with("http/1.1 413 payload too large\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\ncontent-type: text; charset=utf-8"),
        "{head}"
    );
    assert!(head.contains("\r\ncontent-length: 44"), "{head}");
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    assert!(!head.contains("x-amzn-requestid"), "{head}");
    assert_eq!(body, TOO_LARGE);
    assert_eq!(fake.calls(), 0, "refused before the authorizer");
    stack.shutdown().await;
}

#[tokio::test]
async fn a_chunked_body_is_cut_at_10_mb_and_answered_413_and_10_mb_exactly_passes() {
    let fake = FakeAuthorizer::answering(Ok(allow("Jane")));
    let stack = start(fake.config()).await;
    let address = authority(&stack.api_url());
    for (size, expect_413) in [(10_485_761usize, true), (10_485_760, false)] {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        let (mut reader, mut writer) = stream.split();
        let head = format!(
            "GET /prod/hello HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer a.b.c\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{size:x}\r\n"
        );
        let body = vec![b' '; size];
        let send = async {
            writer.write_all(head.as_bytes()).await?;
            writer.write_all(&body).await?;
            writer.write_all(b"\r\n0\r\n\r\n").await
        };
        let mut received = Vec::new();
        let receive =
            tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut received));
        let (sent, got) = tokio::join!(send, receive);
        got.expect("an answer in time").expect("read");
        let _ = sent; // the server may close before reading the last bytes
        let (head, body) = split(std::str::from_utf8(&received).unwrap());
        if expect_413 {
            assert!(
                head.starts_with("http/1.1 413 payload too large\r\n"),
                "{head}"
            );
            assert_eq!(body, TOO_LARGE);
        } else {
            assert!(head.starts_with("http/1.1 200 ok\r\n"), "{size}: {head}");
        }
    }
    assert_eq!(
        fake.calls(),
        1,
        "only the accepted request reached the authorizer"
    );
    stack.shutdown().await;
}
