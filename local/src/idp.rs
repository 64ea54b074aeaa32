//! The local identity provider: signs Google-shaped ID tokens with an RSA key of its own
//! and serves the public half as a JWKS, so the production authorizer verifies them with
//! nothing changed but `GOOGLE_JWKS_URL`.
//!
//! ```text
//! GET  /oauth2/v3/certs                   the JWKS (Cache-Control: public, max-age=3600)
//! POST /sign-in {"name", "email", "hd"?, "expired"?}  {"credential": "<ID token>"}   (CORS: the site)
//! GET  /.well-known/openid-configuration  issuer and jwks_uri
//! ```
//!
//! The key is generated at start-up with aws-lc-rs (already the workspace's crypto
//! provider: no new crypto crate, no shipped private key). RSA-2048 generation measured
//! 0.4 to 1.3 s in a debug build here (the prime search varies), so it happens once per
//! process.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use google_tokens::{CERTS_PATH, GoogleClaims, Signer, jwks_response};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::Error;

/// The issuer Google puts in ID tokens (the authorizer accepts only Google's).
pub use google_tokens::ISSUER;

/// How long the JWKS may be cached (the authorizer honours it).
pub const JWKS_MAX_AGE_SECONDS: u64 = 3600;

/// The longest name the sign-in accepts, in characters: a ceiling on absurd input well
/// above any real name (and the 2,000-character names of the tests).
pub const MAX_NAME_CHARS: usize = 2048;

/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// The largest `/sign-in` body read: a name of [`MAX_NAME_CHARS`] characters, each
/// written as a JSON surrogate pair escape (12 bytes), fits with room to spare.
pub const MAX_SIGN_IN_BYTES: usize = 64 * 1024;

/// What `/sign-in` answers (415) to a body that is not declared as JSON.
pub const NOT_JSON: &str = "send the sign-in with Content-Type: application/json;      other types are refused so that no other site can post one without the CORS preflight";

/// Token lifetime unless changed: one hour, as Google's.
pub const DEFAULT_TOKEN_LIFETIME_SECONDS: i64 = 3600;

/// The identity provider's state: its key, the JWKS and the settings tests can change.
pub struct IdentityProvider {
    signer: Signer,
    jwks: Value,
    client_id: String,
    jwks_url: String,
    token_lifetime: AtomicI64,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("kid", &self.signer.kid())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// What `POST /sign-in` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The display name (`name` claim).
    pub name: String,
    /// The email address (`email`; `sub` is derived from it).
    pub email: String,
    /// A Google Workspace domain (`hd` claim), for trying `ALLOWED_HOSTED_DOMAINS`.
    #[serde(default)]
    pub hd: Option<String>,
    /// `true`: a token that expired [`EXPIRED_AGO_SECONDS`] ago (issued an hour before
    /// that), so a workshop can show the 401 for expiry without waiting an hour.
    #[serde(default)]
    pub expired: bool,
}

/// How long ago an `"expired": true` token expired: far past the authorizer's clock skew
/// (at most 300 s), so every configuration refuses it as expired.
pub const EXPIRED_AGO_SECONDS: i64 = 3600;

/// Why a sign-in was refused (400 with `{"error": message}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error(
        "send a JSON object {{\"name\": \"Jane Doe\", \"email\": \"jane@example.com\"}} (optional \"hd\", \"expired\"): {0}"
    )]
    Malformed(String),
    #[error("name is empty; type the name to greet")]
    EmptyName,
    #[error("name is {0} characters long; at most {MAX_NAME_CHARS} are accepted")]
    NameTooLong(usize),
    #[error("email {0:?} is not an address like jane@example.com")]
    BadEmail(String),
    #[error("email is {0} characters long; at most {MAX_EMAIL_CHARS} are accepted")]
    EmailTooLong(usize),
    #[error("hd {0:?} is not a domain like example.com")]
    BadDomain(String),
    #[error(
        "the token would be {0} bytes, more than the {max} the authorizer accepts; use a shorter name",
        max = authorizer::MAX_TOKEN_BYTES
    )]
    TokenTooLarge(usize),
}

impl IdentityProvider {
    /// A provider with a fresh RSA-2048 key, issuing tokens for `client_id`; its JWKS
    /// is announced at `jwks_url`.
    ///
    /// The key is made once per process and shared by every provider in it (tests start
    /// dozens of stacks; a debug build takes about half a second per key).
    pub fn generate(client_id: &str, jwks_url: String) -> Result<Self, Error> {
        static PEM: OnceLock<Result<String, String>> = OnceLock::new();
        let pem = PEM.get_or_init(|| {
            let pair = KeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| "RSA key generation failed".to_owned())?;
            let der = pair
                .as_der()
                .map_err(|_| "cannot encode the key".to_owned())?;
            Ok(pem::encode(&pem::Pem::new(
                "PRIVATE KEY",
                der.as_ref().to_vec(),
            )))
        });
        let pem = pem.as_ref().map_err(|e| Error::Key(e.clone()))?;
        let signer =
            Signer::from_rsa_pem_derived_kid(pem).map_err(|e| Error::Key(e.to_string()))?;
        let jwks = signer.jwks();
        Ok(IdentityProvider {
            signer,
            jwks,
            client_id: client_id.to_owned(),
            jwks_url,
            token_lifetime: AtomicI64::new(DEFAULT_TOKEN_LIFETIME_SECONDS),
        })
    }

    /// The JWKS document.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// The signing key's `kid`.
    pub fn kid(&self) -> &str {
        self.signer.kid()
    }

    /// Sets how long new tokens live; negative issues tokens that have already expired.
    pub fn set_token_lifetime_seconds(&self, seconds: i64) {
        self.token_lifetime.store(seconds, Ordering::Relaxed);
    }

    /// Checks a sign-in and signs its ID token, issued at `now` (Unix seconds).
    pub fn sign_in(&self, request: &SignIn, now: i64) -> Result<String, SignInError> {
        if request.name.trim().is_empty() {
            return Err(SignInError::EmptyName);
        }
        let chars = request.name.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(SignInError::NameTooLong(chars));
        }
        let email = request.email.trim();
        let email_chars = email.chars().count();
        if email_chars > MAX_EMAIL_CHARS {
            return Err(SignInError::EmailTooLong(email_chars));
        }
        if !is_email(email) {
            return Err(SignInError::BadEmail(request.email.clone()));
        }
        let hd = match request.hd.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(hd) if is_domain(hd) => Some(hd.to_ascii_lowercase()),
            Some(hd) => return Err(SignInError::BadDomain(hd.to_owned())),
        };

        let lifetime = if request.expired {
            -EXPIRED_AGO_SECONDS
        } else {
            self.token_lifetime.load(Ordering::Relaxed)
        };
        let exp = now.saturating_add(lifetime);
        // An already-expired token was issued an hour before it expired.
        let iat = if lifetime > 0 {
            now
        } else {
            exp.saturating_sub(3600)
        };
        let claims = GoogleClaims {
            name: Some(request.name.clone()),
            hd,
            nbf: Some(iat),
            jti: Some(uuid::Uuid::new_v4().simple().to_string()),
            ..GoogleClaims::new(&self.client_id, &subject(email), email, iat, exp)
        };
        let token = self
            .signer
            .sign(&claims)
            .map_err(|e| SignInError::Malformed(e.to_string()))?;
        if token.len() > authorizer::MAX_TOKEN_BYTES {
            return Err(SignInError::TokenTooLarge(token.len()));
        }
        Ok(token)
    }
}

/// A Google-like `sub` (21 digits), the same for the same address in any case.
pub fn subject(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    format!("1{:020}", u64::from_be_bytes(first))
}

/// A deliberately plain check: one `@`, a local part, a domain with a dot, no spaces.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && is_domain(domain)
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The identity provider's HTTP service. `site_origin` may call `/sign-in` from a page.
pub fn app(idp: Arc<IdentityProvider>, site_origin: &str) -> Router {
    let cors = CorsLayer::new()
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600));
    // Answered for the site's origin only; any other origin gets no CORS headers.
    let cors = match HeaderValue::from_str(site_origin) {
        Ok(origin) => cors.allow_origin(AllowOrigin::list([origin])),
        Err(_) => cors,
    };
    Router::new()
        .route(CERTS_PATH, get(certs))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/", get(discovery))
        .route("/sign-in", post(sign_in).layer(cors))
        .layer(DefaultBodyLimit::max(MAX_SIGN_IN_BYTES))
        .with_state(idp)
}

async fn certs(State(idp): State<Arc<IdentityProvider>>) -> Response {
    jwks_response(&idp.jwks, Some(JWKS_MAX_AGE_SECONDS))
}

async fn discovery(State(idp): State<Arc<IdentityProvider>>) -> Response {
    axum::Json(json!({
        "issuer": ISSUER,
        "jwks_uri": idp.jwks_url,
        "sign_in_endpoint": idp.jwks_url.replace(CERTS_PATH, "/sign-in"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "note": "local identity provider: demo only; POST /sign-in {\"name\", \"email\"} returns {\"credential\"}",
    }))
    .into_response()
}

async fn sign_in(
    State(idp): State<Arc<IdentityProvider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A cross-origin form or `fetch` with text/plain, form or multipart bodies is sent
    // without a preflight; application/json is not a CORS-safelisted type, so a page of
    // another origin can only send it after a preflight, which only the site passes.
    if !is_json(headers.get(header::CONTENT_TYPE)) {
        tracing::info!(target: "local::idp", "sign-in refused: not application/json -> 415");
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            axum::Json(json!({ "error": NOT_JSON })),
        )
            .into_response();
    }
    let outcome = serde_json::from_slice::<SignIn>(&body)
        .map_err(|e| SignInError::Malformed(e.to_string()))
        .and_then(|request| idp.sign_in(&request, unix_now()));
    match outcome {
        Ok(credential) => {
            tracing::info!(
                target: "local::idp",
                "signed in: token {}",
                authorizer::token_fingerprint(&credential)
            );
            axum::Json(json!({ "credential": credential })).into_response()
        }
        Err(error) => {
            // The message quotes what the client sent (a field name, an address).
            tracing::info!(
                target: "local::idp",
                "sign-in refused: {}",
                crate::log_text::escape(&error.to_string())
            );
            (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": error.to_string() })),
            )
                .into_response()
        }
    }
}

/// `application/json`, alone or with `charset=utf-8` (JSON is UTF-8: RFC 8259 section 8.1).
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    let media_type_ok = parts
        .next()
        .is_some_and(|t| t.eq_ignore_ascii_case("application/json"));
    media_type_ok
        && parts.all(|param| {
            param.split_once('=').is_some_and(|(name, v)| {
                name.trim().eq_ignore_ascii_case("charset")
                    && v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            })
        })
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_stable_and_google_shaped() {
        let a = subject("Jane@Example.com");
        assert_eq!(a, subject(" jane@example.com"));
        assert_ne!(a, subject("john@example.com"));
        assert_eq!(a.len(), 21);
        assert!(a.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn only_application_json_counts_as_json() {
        for good in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
        ] {
            assert!(is_json(Some(&HeaderValue::from_static(good))), "{good}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
            "application/jsonx",
            "application/json; x=y",
            "",
        ] {
            assert!(!is_json(Some(&HeaderValue::from_static(bad))), "{bad}");
        }
        assert!(!is_json(None));
    }

    #[test]
    fn emails_and_domains_are_checked_plainly() {
        for good in ["jane@example.com", "a.b+c@sub.example.co.uk"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@example",
            "ja ne@example.com",
            "jane@-x.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
