//! Google's signing keys: fetched over HTTPS, cached for as long as Google says,
//! refetched on an unknown `kid` at most once per cool-down, kept through outages
//! for a bounded grace period, and never absent without failing closed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use serde::Deserialize;

use crate::Error;
use crate::error::shown;

/// The usable RSA verification keys of one JWKS, by `kid`.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, Arc<DecodingKey>>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.keys.keys().collect();
        kids.sort();
        f.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`), keeping the RSA signature keys
    /// that have a `kid` shaped like a key ID. Keys of other types or uses are skipped
    /// (a JWKS may legitimately carry them); a document with no usable key is an error.
    pub fn from_json(body: &[u8]) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(body)
            .map_err(|e| Error::InvalidKeySet(format!("not a JWK set: {e}")))?;
        let mut keys = HashMap::new();
        for value in document.keys {
            // One odd key must not cost us the others: parse them one by one.
            let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
                continue;
            };
            if let Some((kid, key)) = usable_rsa_key(&jwk) {
                keys.insert(kid, Arc::new(key));
            }
        }
        if keys.is_empty() {
            return Err(Error::InvalidKeySet("no RSA signing key with a kid".into()));
        }
        Ok(KeySet { keys })
    }

    /// The key named `kid`.
    pub fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid).map(Arc::as_ref)
    }

    /// The key IDs present, sorted.
    pub fn kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.keys.keys().cloned().collect();
        kids.sort();
        kids
    }

    fn get_shared(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.keys.get(kid).cloned()
    }
}

fn usable_rsa_key(jwk: &Jwk) -> Option<(String, DecodingKey)> {
    // A kid no token may name (see `check_kid`) could never be used, and it is logged.
    let kid = jwk
        .common
        .key_id
        .clone()
        .filter(|kid| !kid.is_empty() && crate::verify::check_kid(kid).is_ok())?;
    if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
        return None;
    }
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    if matches!(jwk.common.key_algorithm, Some(alg) if alg != KeyAlgorithm::RS256) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, key))
}

/// One successful fetch: the keys and how long the server says to keep them.
#[derive(Debug, Clone)]
pub struct FetchedKeys {
    pub keys: KeySet,
    /// From `Cache-Control: max-age`, when the server sent one.
    pub max_age: Option<Duration>,
}

/// Where keys come from. Production uses [`HttpKeyFetcher`]; tests count calls.
pub trait KeyFetcher: Send + Sync {
    /// Fetches the current key set.
    fn fetch(&self) -> impl Future<Output = Result<FetchedKeys, Error>> + Send;
}

/// Fetches a JWKS over HTTPS (plain HTTP to loopback only) with `reqwest` (rustls).
///
/// Redirects are not followed: the keys' URL is configuration, and a key server that
/// sends us elsewhere (perhaps to plain HTTP, perhaps to someone else's keys) is a
/// fault to report, not an instruction. The body is read chunk by chunk and cut at
/// [`MAX_JWKS_BYTES`], whatever `Content-Length` says or whether it is sent at all.
#[derive(Debug, Clone)]
pub struct HttpKeyFetcher {
    client: reqwest::Client,
    url: reqwest::Url,
    timeout: Duration,
}

/// A JWKS is a few KB (Google's: about 2); refuse to buffer more than this.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// The whole fetch (connect, headers, body) in production: a slow key server must not
/// eat the authorizer's own time budget.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(4);

/// Connecting alone, at most (a smaller total timeout wins).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

impl HttpKeyFetcher {
    /// A fetcher for `url` with [`DEFAULT_FETCH_TIMEOUT`]. The URL must satisfy the
    /// same rule as `GOOGLE_JWKS_URL` (https, or http to a loopback host).
    pub fn new(url: impl AsRef<str>) -> Result<Self, Error> {
        Self::with_timeout(url, DEFAULT_FETCH_TIMEOUT)
    }

    /// A fetcher whose whole fetch, body included, must finish within `timeout`.
    pub fn with_timeout(url: impl AsRef<str>, timeout: Duration) -> Result<Self, Error> {
        let url = crate::config::parse_jwks_url(url.as_ref())?;
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("greeting-authorizer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::KeyFetch(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpKeyFetcher {
            client,
            url,
            timeout,
        })
    }

    fn failed(&self, error: reqwest::Error) -> Error {
        if error.is_timeout() {
            Error::KeyFetch(format!(
                "{}: no complete answer within {} ms",
                self.url,
                self.timeout.as_millis()
            ))
        } else {
            Error::KeyFetch(format!("{}: {error}", self.url))
        }
    }
}

impl KeyFetcher for HttpKeyFetcher {
    async fn fetch(&self) -> Result<FetchedKeys, Error> {
        let too_large = || Error::InvalidKeySet(format!("larger than {MAX_JWKS_BYTES} bytes"));
        let mut response = self
            .client
            .get(self.url.clone())
            .send()
            .await
            .map_err(|e| self.failed(e))?;
        let status = response.status();
        if status.is_redirection() {
            // The server chose this text: bounded and escaped.
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|l| format!(" to {:?}", shown(&String::from_utf8_lossy(l.as_bytes()))))
                .unwrap_or_default();
            return Err(Error::KeyFetch(format!(
                "{} answered {status}, a redirect{to}; redirects are not followed: set GOOGLE_JWKS_URL to the keys' own URL",
                self.url
            )));
        }
        if !status.is_success() {
            return Err(Error::KeyFetch(format!("{} answered {status}", self.url)));
        }
        let max_age = response
            .headers()
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_max_age);
        let declared = response.content_length();
        if declared.is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
            return Err(too_large());
        }
        // Chunk by chunk: a chunked body has no Content-Length to refuse up front, and
        // `bytes()` would buffer all of it. Dropping `response` on the error closes the
        // connection, so the server's remaining bytes are never read.
        let mut body = Vec::with_capacity(declared.map_or(16 * 1024, |len| len as usize));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(e))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchedKeys {
            keys: KeySet::from_json(&body)?,
            max_age,
        })
    }
}

/// Reads `max-age=N` from one `Cache-Control` value. Hand-written: it is the one
/// directive we need, and `no-store`/`no-cache` mean "don't keep it" (age zero).
pub fn parse_max_age(cache_control: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in cache_control.split(',').map(str::trim) {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "no-store" | "no-cache" => return Some(Duration::ZERO),
            "max-age" => {
                max_age = value
                    .trim()
                    .trim_matches('"')
                    .parse::<u64>()
                    .ok()
                    .map(Duration::from_secs);
            }
            _ => {}
        }
    }
    max_age
}

/// How long keys are kept and how hard the key server may be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachePolicy {
    /// Kept this long when the server sends no `max-age`.
    pub default_max_age: Duration,
    /// `max-age` is clamped into `[min_max_age, max_max_age]`, so a server saying
    /// `no-store` cannot make us fetch on every request.
    pub min_max_age: Duration,
    pub max_max_age: Duration,
    /// At most one fetch per cool-down is caused by unknown `kid`s or retried after a
    /// failure, so an attacker's random `kid`s cannot hammer Google.
    pub refetch_cooldown: Duration,
    /// After keys expire and refreshing fails, they are still used for this long.
    pub stale_grace: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            default_max_age: Duration::from_secs(3600),
            min_max_age: Duration::from_secs(60),
            max_max_age: Duration::from_secs(24 * 3600),
            refetch_cooldown: Duration::from_secs(30),
            stale_grace: Duration::from_secs(6 * 3600),
        }
    }
}

#[derive(Debug, Default)]
struct CacheState {
    keys: Option<Arc<KeySet>>,
    /// Keys are fresh until here; past it, a refetch is due.
    fresh_until: Option<Instant>,
    /// Past here, stale keys are no longer used at all (fail closed).
    usable_until: Option<Instant>,
    /// The start of the latest fetch attempt, successful or not.
    last_attempt: Option<Instant>,
    /// Bumped by every finished attempt, so waiters see that someone else fetched.
    generation: u64,
}

enum Plan {
    Use(Arc<DecodingKey>),
    Fetch,
    Fail(Error),
}

/// Caches the key set from a [`KeyFetcher`]; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct KeyCache<F> {
    fetcher: F,
    policy: CachePolicy,
    state: RwLock<CacheState>,
    /// Held for the duration of a fetch: concurrent callers share one fetch.
    fetch_lock: tokio::sync::Mutex<()>,
}

impl<F: KeyFetcher> KeyCache<F> {
    /// An empty cache: the first lookup (or [`KeyCache::refresh`]) fetches.
    pub fn new(fetcher: F, policy: CachePolicy) -> Self {
        KeyCache {
            fetcher,
            policy,
            state: RwLock::new(CacheState::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The key named `kid`, fetching when needed.
    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, Error> {
        self.key_at(kid, Instant::now()).await
    }

    /// [`KeyCache::key`] at a chosen instant (tests move time forward this way).
    pub async fn key_at(&self, kid: &str, now: Instant) -> Result<Arc<DecodingKey>, Error> {
        // Before any lookup or refetch: a client's junk `kid` costs nothing.
        crate::verify::check_kid(kid)?;
        let generation = match self.plan(kid, now) {
            (Plan::Use(key), _) => return Ok(key),
            (Plan::Fail(error), _) => return Err(error),
            (Plan::Fetch, generation) => generation,
        };
        // A failed fetch is logged inside; the answer comes from whatever keys remain.
        let _ = self.refresh_from(generation, now).await;
        self.answer_without_fetching(kid, now)
    }

    /// Fetches now regardless of freshness (used at Lambda init). Returns the error
    /// of a failed fetch; the previous keys, if any, stay.
    pub async fn refresh(&self) -> Result<(), Error> {
        let generation = self.read_state().generation;
        self.refresh_from(generation, Instant::now()).await
    }

    /// The key IDs currently held, sorted (for logs and the `check-token` command).
    pub fn kids(&self) -> Vec<String> {
        self.read_state()
            .keys
            .as_ref()
            .map(|k| k.kids())
            .unwrap_or_default()
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, CacheState> {
        // A poisoned lock only means a panic elsewhere mid-write of plain data.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn cooled_down(&self, state: &CacheState, now: Instant) -> bool {
        state
            .last_attempt
            .is_none_or(|last| now.saturating_duration_since(last) >= self.policy.refetch_cooldown)
    }

    fn plan(&self, kid: &str, now: Instant) -> (Plan, u64) {
        let state = self.read_state();
        let fresh = state.fresh_until.is_some_and(|t| now < t);
        let usable = state.usable_until.is_some_and(|t| now < t);
        let key = state.keys.as_ref().and_then(|k| k.get_shared(kid));
        let may_fetch = self.cooled_down(&state, now);
        let plan = match (key, fresh, usable, may_fetch) {
            (Some(key), true, _, _) => Plan::Use(key),
            // Due for a refresh, or an unknown kid (perhaps a rotation): fetch.
            (_, _, _, true) => Plan::Fetch,
            // Inside the cool-down: answer from what we have.
            (Some(key), false, true, false) => Plan::Use(key),
            (None, _, true, false) => Plan::Fail(Error::UnknownKeyId(kid.to_owned())),
            (_, _, false, false) => Plan::Fail(Error::NoKeys),
        };
        (plan, state.generation)
    }

    fn answer_without_fetching(&self, kid: &str, now: Instant) -> Result<Arc<DecodingKey>, Error> {
        let state = self.read_state();
        if state.usable_until.is_none_or(|t| now >= t) {
            return Err(Error::NoKeys);
        }
        state
            .keys
            .as_ref()
            .and_then(|k| k.get_shared(kid))
            .ok_or_else(|| Error::UnknownKeyId(kid.to_owned()))
    }

    /// Fetches unless another caller finished a fetch since `generation` was read.
    async fn refresh_from(&self, generation: u64, now: Instant) -> Result<(), Error> {
        let _single_flight = self.fetch_lock.lock().await;
        if self.read_state().generation != generation {
            return Ok(());
        }
        let result = self.fetcher.fetch().await;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.last_attempt = Some(now);
        match result {
            Ok(fetched) => {
                let max_age = fetched
                    .max_age
                    .unwrap_or(self.policy.default_max_age)
                    .clamp(self.policy.min_max_age, self.policy.max_max_age);
                let fresh_until = now + max_age;
                tracing::info!(
                    kids = ?fetched.keys.kids(),
                    max_age_seconds = max_age.as_secs(),
                    "fetched signing keys"
                );
                state.keys = Some(Arc::new(fetched.keys));
                state.fresh_until = Some(fresh_until);
                state.usable_until = Some(fresh_until + self.policy.stale_grace);
                Ok(())
            }
            Err(error) => {
                tracing::warn!(
                    error = %error,
                    have_keys = state.keys.is_some(),
                    "fetching signing keys failed; keeping the previous keys"
                );
                Err(error)
            }
        }
    }
}
