//! The key cache against a JWKS server on 127.0.0.1: caching, refetch on unknown
//! `kid` behind a cool-down, rotation, outages, garbage, single-flight.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authorizer::{CachePolicy, Error, HttpKeyFetcher, KeyCache, KeyFetcher, parse_max_age};
use testkit::jwks_server::{Behaviour, JwksServer, closed_url};
use testkit::keys::{PRIMARY, ROTATED, jwks};

fn policy() -> CachePolicy {
    CachePolicy {
        default_max_age: Duration::from_secs(3600),
        min_max_age: Duration::ZERO,
        max_max_age: Duration::from_secs(24 * 3600),
        refetch_cooldown: Duration::from_secs(30),
        stale_grace: Duration::from_secs(600),
    }
}

fn cache(url: String) -> KeyCache<HttpKeyFetcher> {
    KeyCache::new(HttpKeyFetcher::new(url).unwrap(), policy())
}

#[tokio::test]
async fn serves_from_cache_within_max_age() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(100)).await;
    let cache = cache(server.url());
    let t0 = Instant::now();
    for seconds in [0, 1, 50, 99] {
        cache
            .key_at(PRIMARY.kid, t0 + Duration::from_secs(seconds))
            .await
            .unwrap();
    }
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn refetches_when_max_age_has_passed() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(100)).await;
    let cache = cache(server.url());
    let t0 = Instant::now();
    cache.key_at(PRIMARY.kid, t0).await.unwrap();
    cache
        .key_at(PRIMARY.kid, t0 + Duration::from_secs(101))
        .await
        .unwrap();
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn unknown_kid_refetches_once_then_cools_down() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let cache = cache(server.url());
    let t0 = Instant::now();
    cache.key_at(PRIMARY.kid, t0).await.unwrap();
    assert_eq!(server.fetches(), 1);

    // Past the cool-down since the first fetch: one refetch, then the verdict.
    let t1 = t0 + Duration::from_secs(31);
    assert_eq!(
        cache.key_at("attacker-1", t1).await.unwrap_err(),
        Error::UnknownKeyId("attacker-1".into())
    );
    assert_eq!(server.fetches(), 2);

    // An attacker's stream of random kids inside the cool-down costs nothing.
    for i in 0..200 {
        let kid = format!("random-{i}");
        assert_eq!(
            cache
                .key_at(&kid, t1 + Duration::from_secs(i % 29))
                .await
                .unwrap_err(),
            Error::UnknownKeyId(kid)
        );
    }
    assert_eq!(server.fetches(), 2);
    // Known keys keep working meanwhile.
    cache
        .key_at(PRIMARY.kid, t1 + Duration::from_secs(5))
        .await
        .unwrap();

    // After the cool-down, one more refetch is allowed.
    assert_eq!(
        cache
            .key_at("random-x", t1 + Duration::from_secs(30))
            .await
            .unwrap_err(),
        Error::UnknownKeyId("random-x".into())
    );
    assert_eq!(server.fetches(), 3);
}

#[tokio::test]
async fn picks_up_a_rotated_key_after_refetch() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let cache = cache(server.url());
    let t0 = Instant::now();
    cache.key_at(PRIMARY.kid, t0).await.unwrap();
    server.set(Behaviour::Serve {
        jwks: jwks(&[PRIMARY, ROTATED]),
        max_age: Some(3600),
    });

    let after_cooldown = t0 + Duration::from_secs(30);
    assert!(cache.key_at(ROTATED.kid, after_cooldown).await.is_ok());
    assert_eq!(server.fetches(), 2);
    assert_eq!(
        cache.kids(),
        vec![PRIMARY.kid.to_owned(), ROTATED.kid.to_owned()]
    );
}

#[tokio::test]
async fn fails_closed_when_the_server_is_down_at_cold_start() {
    let url = closed_url().await;
    let cache = cache(url.clone());
    let error = cache.refresh().await.unwrap_err();
    // The rest of the message is the operating system's "connection refused".
    assert!(
        matches!(&error, Error::KeyFetch(m) if m.starts_with(&format!("{url}: error sending request"))),
        "{error:?}"
    );
    assert_eq!(cache.key(PRIMARY.kid).await.unwrap_err(), Error::NoKeys);
}

#[tokio::test]
async fn fails_closed_when_the_server_answers_503_at_cold_start() {
    let server = JwksServer::start_with(Behaviour::Unavailable).await;
    let cache = cache(server.url());
    assert_eq!(
        cache.refresh().await.unwrap_err(),
        Error::KeyFetch(format!("{} answered 503 Service Unavailable", server.url()))
    );
    assert_eq!(cache.key(PRIMARY.kid).await.unwrap_err(), Error::NoKeys);
    // Inside the cool-down, the failing server is not asked again.
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn fails_closed_when_the_server_answers_garbage() {
    let server =
        JwksServer::start_with(Behaviour::Garbage("<html>maintenance</html>".into())).await;
    let cache = cache(server.url());
    let error = cache.refresh().await.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidKeySet(m) if m.starts_with("not a JWK set")),
        "{error:?}"
    );
    assert_eq!(cache.key(PRIMARY.kid).await.unwrap_err(), Error::NoKeys);
}

#[tokio::test]
async fn keeps_stale_keys_through_an_outage_for_the_grace_period() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(100)).await;
    let cache = cache(server.url());
    let t0 = Instant::now();
    cache.key_at(PRIMARY.kid, t0).await.unwrap();
    server.set(Behaviour::Unavailable);

    // Expired, refetch fails: the last good key still verifies.
    cache
        .key_at(PRIMARY.kid, t0 + Duration::from_secs(101))
        .await
        .unwrap();
    assert_eq!(server.fetches(), 2);
    // Within the cool-down, no new attempt.
    cache
        .key_at(PRIMARY.kid, t0 + Duration::from_secs(110))
        .await
        .unwrap();
    assert_eq!(server.fetches(), 2);
    // Past max-age + grace (100 + 600): fail closed.
    assert_eq!(
        cache
            .key_at(PRIMARY.kid, t0 + Duration::from_secs(701))
            .await
            .unwrap_err(),
        Error::NoKeys
    );
}

#[tokio::test]
async fn keeps_stale_keys_when_the_server_starts_answering_garbage() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(100)).await;
    let cache = cache(server.url());
    let t0 = Instant::now();
    cache.key_at(PRIMARY.kid, t0).await.unwrap();
    server.set(Behaviour::Garbage(r#"{"keys": "nope"}"#.into()));
    cache
        .key_at(PRIMARY.kid, t0 + Duration::from_secs(200))
        .await
        .unwrap();
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn recovers_when_the_server_comes_back() {
    let server = JwksServer::start_with(Behaviour::Unavailable).await;
    let cache = cache(server.url());
    let t0 = Instant::now();
    assert_eq!(
        cache.key_at(PRIMARY.kid, t0).await.unwrap_err(),
        Error::NoKeys
    );
    server.set(Behaviour::Serve {
        jwks: jwks(&[PRIMARY]),
        max_age: Some(100),
    });
    cache
        .key_at(PRIMARY.kid, t0 + Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(server.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_share_one_fetch() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let cache = Arc::new(cache(server.url()));
    let lookups: Vec<_> = (0..64)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.key(PRIMARY.kid).await.is_ok() })
        })
        .collect();
    for lookup in lookups {
        assert!(lookup.await.unwrap());
    }
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn no_store_is_clamped_to_the_minimum_age() {
    // A server saying "don't cache" must not turn every request into a fetch.
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(0)).await;
    let cache = KeyCache::new(
        HttpKeyFetcher::new(server.url()).unwrap(),
        CachePolicy::default(),
    );
    for _ in 0..10 {
        cache.key(PRIMARY.kid).await.unwrap();
    }
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn http_fetcher_reads_max_age() {
    let server = JwksServer::start(jwks(&[PRIMARY, ROTATED]), Some(21_600)).await;
    let fetched = HttpKeyFetcher::new(server.url())
        .unwrap()
        .fetch()
        .await
        .unwrap();
    assert_eq!(fetched.max_age, Some(Duration::from_secs(21_600)));
    assert_eq!(
        fetched.keys.kids(),
        vec![PRIMARY.kid.to_owned(), ROTATED.kid.to_owned()]
    );
}

#[test]
fn parses_cache_control_max_age() {
    let cases = [
        (
            "public, max-age=21600, must-revalidate, no-transform",
            Some(21_600),
        ),
        ("max-age=0", Some(0)),
        ("MAX-AGE = 60", Some(60)),
        ("max-age=\"30\"", Some(30)),
        ("no-store", Some(0)),
        ("public, no-cache", Some(0)),
        ("public", None),
        ("max-age=-1", None),
        ("max-age=abc", None),
        ("", None),
    ];
    for (header, expected) in cases {
        assert_eq!(
            parse_max_age(header),
            expected.map(Duration::from_secs),
            "{header}"
        );
    }
}

// --- the HTTP fetcher against a misbehaving key server ---

/// What the production fetcher says when it fetches from `server` and fails.
async fn fetch_error(server: &JwksServer) -> Error {
    HttpKeyFetcher::new(server.url())
        .unwrap()
        .fetch()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_redirect_is_a_fetch_error_and_its_target_is_never_requested() {
    let server = JwksServer::start_with(Behaviour::Redirect("/elsewhere/certs".into())).await;
    let error = fetch_error(&server).await;
    assert_eq!(
        error,
        Error::KeyFetch(format!(
            "{} answered 302 Found, a redirect to \"/elsewhere/certs\"; redirects are not followed: set GOOGLE_JWKS_URL to the keys' own URL",
            server.url()
        ))
    );
    assert_eq!(server.paths(), vec!["/oauth2/v3/certs".to_owned()]);
}

#[tokio::test]
async fn a_redirect_elsewhere_is_not_followed_and_its_location_is_kept_short() {
    let location = format!("http://203.0.113.1/certs?{}", "x".repeat(4000));
    let server = JwksServer::start_with(Behaviour::Redirect(location.clone())).await;
    let error = fetch_error(&server).await;
    assert_eq!(
        error,
        Error::KeyFetch(format!(
            "{} answered 302 Found, a redirect to \"{}…(4025 bytes)\"; redirects are not followed: set GOOGLE_JWKS_URL to the keys' own URL",
            server.url(),
            &location[..64]
        ))
    );
    assert_eq!(server.paths(), vec!["/oauth2/v3/certs".to_owned()]);
}

#[tokio::test]
async fn a_10_mb_chunked_body_is_cut_at_the_cap() {
    let server = JwksServer::start_with(Behaviour::Chunked {
        total: 10 * 1024 * 1024,
        chunk: 16 * 1024,
        pause: Duration::from_millis(1),
    })
    .await;
    let error = fetch_error(&server).await;
    assert_eq!(
        error,
        Error::InvalidKeySet(format!("larger than {} bytes", authorizer::MAX_JWKS_BYTES))
    );
    // The connection is dropped at the cap: the server is not made to produce the rest.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let streamed = server.streamed();
    assert!(!server.stream_finished());
    assert!(
        streamed < 2 * authorizer::MAX_JWKS_BYTES,
        "the server produced {streamed} bytes"
    );
    eprintln!("streamed {streamed} bytes of 10 MB");
}

#[tokio::test]
async fn a_chunked_body_under_the_cap_is_read_whole() {
    // The cap counts bytes, not chunks: 200 chunks of 1 KB of whitespace is no JWKS,
    // but it is read to its end and judged by its content.
    let server = JwksServer::start_with(Behaviour::Chunked {
        total: 200 * 1024,
        chunk: 1024,
        pause: Duration::ZERO,
    })
    .await;
    let error = fetch_error(&server).await;
    assert!(
        matches!(&error, Error::InvalidKeySet(m) if m.starts_with("not a JWK set")),
        "{error:?}"
    );
    assert!(server.stream_finished());
}

/// A server that stalls, before its headers or halfway through its body, meets the
/// fetcher's own timeout (without one, these tests would hang).
#[tokio::test]
async fn a_server_that_stalls_before_or_during_its_answer_times_out() {
    for behaviour in [Behaviour::StallBeforeHeaders, Behaviour::StallMidBody] {
        let server = JwksServer::start_with(behaviour.clone()).await;
        let error = HttpKeyFetcher::with_timeout(server.url(), Duration::from_millis(500))
            .unwrap()
            .fetch()
            .await
            .unwrap_err();
        assert_eq!(
            error,
            Error::KeyFetch(format!(
                "{}: no complete answer within 500 ms",
                server.url()
            )),
            "{behaviour:?}"
        );
    }
}

#[test]
fn the_fetcher_refuses_plain_http_off_loopback() {
    assert_eq!(
        HttpKeyFetcher::new("http://www.googleapis.com/oauth2/v3/certs").unwrap_err(),
        Error::InvalidVariable {
            name: "GOOGLE_JWKS_URL",
            value: "http://www.googleapis.com/oauth2/v3/certs".into(),
            expected: "an https URL serving a JWK set (plain http only to a loopback host: 127.0.0.1, [::1] or localhost)",
        }
    );
}

#[tokio::test]
async fn a_junk_kid_is_refused_before_any_fetch() {
    let server = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let cache = cache(server.url());
    let kid = "A".repeat(6000);
    assert_eq!(
        cache.key(&kid).await.unwrap_err(),
        Error::InvalidKeyId(6000)
    );
    assert_eq!(
        cache.key("has space").await.unwrap_err(),
        Error::InvalidKeyId(9)
    );
    assert_eq!(server.fetches(), 0);
}
