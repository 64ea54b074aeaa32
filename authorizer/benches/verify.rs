//! The authorizer's speed, measured against floors in the same run:
//!
//! - `decision/full` — `Authorizer::authorize` for a Google-shaped token with the keys
//!   cached: header parse, key lookup, RS256 signature, every claim, policy, response.
//! - `decision/rsa_floor` — the bare RSA-2048 PKCS#1 v1.5 SHA-256 check of the same
//!   token with aws-lc-rs (what jsonwebtoken calls). Target: full <= 1.3 x floor.
//! - `cold_start/authorizer` — process start to first decision of the release
//!   `bootstrap` through the Lambda Runtime API, keys from a JWKS server on 127.0.0.1.
//!   Target: under 15 ms. `cold_start/process_floor` spawns `true` for reference.
//!
//! Run: `cargo bench -p authorizer` (add `-- decision` or `-- cold_start` to pick).

use std::time::{Duration, Instant};

use authorizer::{Authorizer, CachePolicy, Config, Error, FetchedKeys, KeyFetcher, KeySet};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use testkit::jwks_server::JwksServer;
use testkit::keys::{PRIMARY, ROTATED, jwks};
use testkit::runtime_api::{LambdaProcess, Outcome};
use testkit::tokens::{CLIENT_ID, google_claims, now, sign};

const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/hello";

/// Keys from memory: the benchmark measures verification, not the network.
#[derive(Debug)]
struct InMemoryKeys(KeySet);

impl KeyFetcher for InMemoryKeys {
    async fn fetch(&self) -> Result<FetchedKeys, Error> {
        Ok(FetchedKeys {
            keys: self.0.clone(),
            max_age: Some(Duration::from_secs(3600)),
        })
    }
}

fn decision(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config =
        Config::from_lookup(|name| (name == "GOOGLE_CLIENT_IDS").then(|| CLIENT_ID.to_owned()))
            .unwrap();
    // Google publishes two or three keys at a time.
    let keys = KeySet::from_json(jwks(&[PRIMARY, ROTATED]).to_string().as_bytes()).unwrap();
    let authorizer = Authorizer::with_fetcher(config, InMemoryKeys(keys), CachePolicy::default());
    runtime.block_on(authorizer.warm_up());
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let at = now();
    assert!(
        runtime
            .block_on(authorizer.authorize(&token, METHOD_ARN, at))
            .is_ok()
    );

    let jwk = PRIMARY.jwk();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let (message, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let public_key = RsaPublicKeyComponents {
        n: &n[..],
        e: &e[..],
    };
    assert!(
        public_key
            .verify(&RSA_PKCS1_2048_8192_SHA256, message.as_bytes(), &signature)
            .is_ok()
    );

    let mut group = c.benchmark_group("decision");
    group.bench_function("rsa_floor", |b| {
        b.iter(|| {
            public_key.verify(
                &RSA_PKCS1_2048_8192_SHA256,
                std::hint::black_box(message.as_bytes()),
                &signature,
            )
        })
    });
    group.bench_function("full", |b| {
        b.iter(|| {
            runtime.block_on(authorizer.authorize(std::hint::black_box(&token), METHOD_ARN, at))
        })
    });
    group.finish();
}

fn cold_start(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(JwksServer::start(jwks(&[PRIMARY, ROTATED]), Some(21_600)));
    let url = server.url();
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, now()));
    let event =
        serde_json::json!({"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN});

    let mut group = c.benchmark_group("cold_start");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("authorizer", |b| {
        b.iter_custom(|iterations| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let start = Instant::now();
                    let mut lambda = LambdaProcess::spawn(
                        env!("CARGO_BIN_EXE_authorizer"),
                        &[("GOOGLE_CLIENT_IDS", CLIENT_ID), ("GOOGLE_JWKS_URL", &url)],
                    )
                    .await;
                    let outcome = lambda.invoke(event.clone(), Duration::from_secs(10)).await;
                    total += start.elapsed();
                    assert!(
                        matches!(outcome, Outcome::Response(_)),
                        "{outcome:?}\n{}",
                        lambda.output()
                    );
                }
                total
            })
        })
    });
    group.bench_function("process_floor", |b| {
        b.iter_custom(|iterations| {
            let start = Instant::now();
            for _ in 0..iterations {
                std::process::Command::new("true").status().unwrap();
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, decision, cold_start);
criterion_main!(benches);
