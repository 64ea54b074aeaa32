//! Load test of the running stack: `cargo bench -p local --bench load`.
//!
//! Starts, each in its own process, a bare axum "hello" server (the ceiling: the same
//! request, token included, and the same answer, with no gateway) and the release `local-stack` with the authorizer cache on
//! (openapi.yaml's TTL) and off (`--authorizer-ttl 0`). Against each: 500 warm-up
//! requests, then 10,000 `GET /prod/hello` with a valid token over 64 concurrent
//! keep-alive connections. Every answer must be 200 with the exact greeting; requests/s,
//! p50 and p99 latency, the server's CPU time per request (its threads' on-CPU time from
//! /proc, which the load generator's share of the cores does not blur), the load
//! generator's own (on the same cores: it costs more per request against a slower
//! server, so it moves the ratios too) and the server's RSS before and after are printed, and the run is repeated (3 rounds, median reported). Exits
//! non-zero on any error.
//!
//! Options after `--`: `--requests N`, `--concurrency N`, `--rounds N`; the environment
//! variable `LOCAL_STACK_BIN` runs another `local-stack` build.
//! The load generator is written here (hyper's client, one connection per worker) so
//! nothing needs installing; it shares the machine's cores with the server, as `wrk`
//! on the same host would.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

const STACK: &str = env!("CARGO_BIN_EXE_local-stack");
/// Set in the child that plays the bare server.
const BARE_SERVER_VAR: &str = "LOCAL_LOAD_BARE_SERVER";
const GREETING: &str = r#"{"message":"Hello Jane Doe!"}"#;
const WARM_UP: usize = 500;

struct Options {
    requests: usize,
    concurrency: usize,
    rounds: usize,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Options {
        requests: value("--requests", 10_000),
        concurrency: value("--concurrency", 64),
        rounds: value("--rounds", 3).max(1),
    }
}

fn main() {
    if std::env::var_os(BARE_SERVER_VAR).is_some() {
        return bare_server();
    }
    // `cargo test --all-targets` runs benches without `--bench`: nothing to do there.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("load: run it with `cargo bench -p local --bench load`");
        return;
    }
    let options = options();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let failed = runtime.block_on(run(&options));
    if failed {
        std::process::exit(1);
    }
}

/// The ceiling: axum answering the same greeting with nothing in between.
fn bare_server() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let app = axum::Router::new().route(
            "/prod/hello",
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    GREETING,
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("API http://{}/prod/hello", listener.local_addr().unwrap());
        axum::serve(listener, app).await.unwrap();
    });
}

/// A server under test, in its own process.
struct Target {
    name: &'static str,
    child: Child,
    url: String,
    token: String,
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the child's stdout until its `API` line (the stack's banner or the bare
/// server's single line), then keeps draining it in the background.
fn spawn_target(name: &'static str, mut command: Command) -> (Child, String, Option<String>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut api, mut idp) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["API", url, ..] => api = Some(url.to_string()),
            ["identity", "provider", url, ..] => idp = Some(url.to_string()),
            _ => {}
        }
        if api.is_some() && (idp.is_some() || name == "bare axum") {
            break;
        }
    }
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, api.expect("the API URL"), idp)
}

fn start_bare(token: String) -> Target {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.env(BARE_SERVER_VAR, "1");
    let (child, url, _) = spawn_target("bare axum", command);
    Target {
        name: "bare axum",
        child,
        url,
        token,
    }
}

async fn start_stack(name: &'static str, ttl: Option<&str>) -> Target {
    // LOCAL_STACK_BIN measures another build (e.g. one with symbols, for a profiler).
    let binary = std::env::var("LOCAL_STACK_BIN").unwrap_or_else(|_| STACK.to_owned());
    let mut command = Command::new(binary);
    command
        .args(["--no-site", "--api-port", "0", "--idp-port", "0"])
        // One log line per hop would measure the terminal: warnings only.
        .env("RUST_LOG", "warn");
    if let Some(ttl) = ttl {
        command.args(["--authorizer-ttl", ttl]);
    }
    let (child, url, idp) = spawn_target(name, command);
    let token = sign_in(&idp.expect("the identity provider URL")).await;
    Target {
        name,
        child,
        url,
        token,
    }
}

/// Signs in over plain HTTP/1.1 with hyper, as the site would.
async fn sign_in(idp: &str) -> String {
    let authority = idp.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&authority).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::post("/sign-in")
        .header("host", &authority)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from_static(
            br#"{"name": "Jane Doe", "email": "jane@example.com"}"#,
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    json["credential"].as_str().unwrap().to_owned()
}

/// One measured run.
struct Measure {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Measure {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }
}

/// `requests` GETs over `concurrency` keep-alive connections.
async fn load(target: &Target, requests: usize, concurrency: usize) -> Measure {
    let authority = target
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let path = target.url[target.url.find("/prod").unwrap()..].to_owned();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, authority, path, token) = (
            next.clone(),
            authority.clone(),
            path.clone(),
            target.token.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut sender = None;
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                if sender.is_none() {
                    sender = connect(&authority).await;
                }
                let Some(s) = sender.as_mut() else {
                    errors += 1;
                    continue;
                };
                let request = hyper::Request::get(path.as_str())
                    .header("host", &authority)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let begun = Instant::now();
                let ok = match s.send_request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        match response.into_body().collect().await {
                            Ok(body) => status == 200 && body.to_bytes() == GREETING.as_bytes(),
                            Err(_) => false,
                        }
                    }
                    Err(_) => {
                        sender = None;
                        false
                    }
                };
                latencies.push(begun.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Measure {
        requests,
        errors,
        elapsed,
        latencies,
    }
}

async fn connect(authority: &str) -> Option<hyper::client::conn::http1::SendRequest<Empty<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(authority).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(connection);
    Some(sender)
}

/// The on-CPU time of all the threads of process `pid` so far (the first field of each
/// thread's /proc schedstat, in ns): the server's and the generator's threads live as
/// long as their processes do.
fn cpu_time(pid: u32) -> Duration {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let nanos: u64 = threads
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}

/// The process's resident set size in MiB, from /proc.
fn rss_mib(child: &Child) -> f64 {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

struct Row {
    name: &'static str,
    rps: Vec<f64>,
    p50: Vec<Duration>,
    p99: Vec<Duration>,
    /// Server CPU time per request, µs.
    cpu_us: Vec<f64>,
    errors: usize,
    rss_before: f64,
    rss_after: f64,
}

async fn run(options: &Options) -> bool {
    eprintln!(
        "load: {} requests at {} concurrent, {} round(s), against bare axum and local-stack (cache on, off)",
        options.requests, options.concurrency, options.rounds
    );
    let cache_on = start_stack("local-stack, cache on", None).await;
    let cache_off = start_stack("local-stack, cache off", Some("0")).await;
    // The bare server gets the very same request, token included (it ignores it), so
    // the difference is the gateway's work and nothing else.
    let bare = start_bare(cache_on.token.clone());
    let targets = [bare, cache_on, cache_off];
    let mut rows: Vec<Row> = Vec::new();
    for target in &targets {
        let warm = load(target, WARM_UP, options.concurrency).await;
        assert_eq!(warm.errors, 0, "{}: errors while warming up", target.name);
        rows.push(Row {
            name: target.name,
            rps: Vec::new(),
            p50: Vec::new(),
            p99: Vec::new(),
            cpu_us: Vec::new(),
            errors: 0,
            rss_before: rss_mib(&target.child),
            rss_after: 0.0,
        });
    }
    // Rounds interleave the targets, so a slow moment of the machine hits all of them.
    for round in 1..=options.rounds {
        for (target, row) in targets.iter().zip(rows.iter_mut()) {
            let cpu_before = cpu_time(target.child.id());
            let client_before = cpu_time(std::process::id());
            let m = load(target, options.requests, options.concurrency).await;
            let cpu_us = (cpu_time(target.child.id()) - cpu_before).as_secs_f64() * 1e6
                / options.requests as f64;
            let client_us = (cpu_time(std::process::id()) - client_before).as_secs_f64() * 1e6
                / options.requests as f64;
            eprintln!(
                "  round {round}: {:<24} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  CPU {:>5.1} µs/req  load generator {client_us:>5.1} µs/req  errors {}",
                target.name,
                m.rps(),
                m.percentile(0.50).as_secs_f64() * 1000.0,
                m.percentile(0.99).as_secs_f64() * 1000.0,
                cpu_us,
                m.errors
            );
            row.cpu_us.push(cpu_us);
            row.rps.push(m.rps());
            row.p50.push(m.percentile(0.50));
            row.p99.push(m.percentile(0.99));
            row.errors += m.errors;
        }
    }
    for (target, row) in targets.iter().zip(rows.iter_mut()) {
        row.rss_after = rss_mib(&target.child);
    }

    let bare = median_f64(&rows[0].rps);
    println!(
        "\n| server | requests/s (median of {}) | vs bare | p50 ms | p99 ms | server CPU µs/request | errors | RSS before → after (MiB) |",
        options.rounds
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let rps = median_f64(&row.rps);
        println!(
            "| {} | {:.0} | {:.2}x | {:.2} | {:.2} | {:.1} | {} | {:.1} → {:.1} |",
            row.name,
            rps,
            rps / bare,
            median_duration(&row.p50).as_secs_f64() * 1000.0,
            median_duration(&row.p99).as_secs_f64() * 1000.0,
            median_f64(&row.cpu_us),
            row.errors,
            row.rss_before,
            row.rss_after
        );
    }
    let errors: usize = rows.iter().map(|r| r.errors).sum();
    if errors > 0 {
        eprintln!("load: {errors} requests failed");
    }
    errors > 0
}

fn median_f64(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn median_duration(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}
