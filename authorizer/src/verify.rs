//! The pure core: turn an `Authorization` header value into verified Google claims.
//!
//! Nothing here does I/O or reads the clock: the keys and `now` are arguments, so
//! every rule is tested directly and the `check-token` command can replay a decision.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use crate::error::shown;
use crate::{Config, Error, KeySet};

/// The two spellings of Google's issuer, as Google documents them.
pub const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];

/// Google ID tokens are about 1 KB; anything past this is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The longest `kid` accepted. Google's are 40 hex digits; anything past this is
/// refused before any key lookup, so it is never looked up, refetched for or logged.
pub const MAX_KID_BYTES: usize = 128;

/// The longest lifetime accepted, from `now` or from `iat` to `exp`. Google's ID
/// tokens live one hour; google-auth-library refuses a token whose `exp` is 24 h or
/// more past now ("Expiration time too far in future", `OAuth2Client.
/// verifySignedJwtWithCertsAsync`, `MAX_TOKEN_LIFETIME_SECS_`). We refuse *more* than
/// 24 h (exactly 24 h passes), and also a token minted with a longer lifetime.
pub const MAX_TOKEN_LIFETIME_SECONDS: u64 = 24 * 3600;

/// A token whose shape and header have been checked but whose signature has not:
/// only `kid` is read from it, to pick the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedToken<'a> {
    /// The compact JWT, without any `Bearer ` prefix.
    pub compact: &'a str,
    /// The key ID from the header: at most [`MAX_KID_BYTES`] of `[A-Za-z0-9._-]`.
    pub kid: String,
}

/// The claims of a verified Google ID token that the policy and the context use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleClaims {
    /// Google's stable user ID.
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Google Workspace (hosted) domain, absent for consumer accounts.
    pub hd: Option<String>,
    pub iat: u64,
    pub exp: u64,
}

impl GoogleClaims {
    /// The email address, only when Google says it is verified (`email_verified` is
    /// true). An unverified address is whatever the account holder typed: nothing
    /// downstream may read it as this user's address.
    pub fn verified_email(&self) -> Option<&str> {
        match self.email_verified {
            Some(true) => self.email.as_deref(),
            _ => None,
        }
    }

    /// The name to greet: `name`, else given and family name, else the verified email,
    /// else `sub` (every verified token has one), so the greeting is never empty.
    /// An unverified email is not used: the name travels to the backend, which must
    /// not find an address there that Google never checked belongs to this user.
    pub fn display_name(&self) -> String {
        let non_empty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(name) = non_empty(&self.name) {
            return name;
        }
        let parts: Vec<String> = [non_empty(&self.given_name), non_empty(&self.family_name)]
            .into_iter()
            .flatten()
            .collect();
        if !parts.is_empty() {
            return parts.join(" ");
        }
        self.verified_email()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map_or_else(|| self.sub.clone(), str::to_owned)
    }
}

/// Strips an optional `Bearer ` scheme and checks the token's shape and header.
/// Nothing read here is trusted: the algorithm is only compared with RS256, the `kid`
/// only picks a key.
pub fn parse_token(authorization: &str) -> Result<UnverifiedToken<'_>, Error> {
    let compact = strip_bearer(authorization.trim());
    if compact.is_empty() {
        return Err(Error::MissingToken);
    }
    if compact.len() > MAX_TOKEN_BYTES {
        return Err(Error::TokenTooLarge(compact.len()));
    }
    if !compact
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(Error::Malformed("characters outside base64url"));
    }
    let segments: Vec<&str> = compact.split('.').collect();
    if segments.len() != 3 {
        return Err(Error::Malformed("expected three dot-separated segments"));
    }

    let kid = match jsonwebtoken::decode_header(compact) {
        // The usual case: a header jsonwebtoken can represent.
        Ok(header) if header.alg == Algorithm::RS256 => header.kid,
        Ok(header) => return Err(Error::DisallowedAlgorithm(format!("{:?}", header.alg))),
        Err(_) => return Err(explain_header(segments[0])),
    };
    let kid = kid
        .filter(|kid| !kid.is_empty())
        .ok_or(Error::MissingKeyId)?;
    check_kid(&kid)?;
    // Checked after the header so that `alg: none` tokens (empty signature) are
    // reported as the algorithm attack they are.
    if segments[1].is_empty() || segments[2].is_empty() {
        return Err(Error::Malformed("empty segment"));
    }
    Ok(UnverifiedToken { compact, kid })
}

/// A `kid` must look like a key ID before it is looked up, refetched for or logged:
/// at most [`MAX_KID_BYTES`] bytes of `[A-Za-z0-9._-]`.
pub(crate) fn check_kid(kid: &str) -> Result<(), Error> {
    let shaped = kid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if kid.len() > MAX_KID_BYTES || !shaped {
        return Err(Error::InvalidKeyId(kid.len()));
    }
    Ok(())
}

/// Says precisely what is wrong with a header jsonwebtoken refused. Read by hand
/// because `jsonwebtoken::Header` cannot represent algorithms it does not know, so
/// `alg: none` would otherwise read as "invalid JSON" instead of the attack it is.
fn explain_header(segment: &str) -> Error {
    let Ok(json) = URL_SAFE_NO_PAD.decode(segment) else {
        return Error::Malformed("header is not base64url");
    };
    let Ok(mut header) = serde_json::from_slice::<serde_json::Map<String, Value>>(&json) else {
        return Error::Malformed("header is not a JSON object");
    };
    match header.remove("alg") {
        Some(Value::String(alg)) if alg == "RS256" => {}
        // The client chose this text: keep a bounded piece of it.
        Some(Value::String(alg)) => return Error::DisallowedAlgorithm(shown(&alg)),
        Some(other) => return Error::DisallowedAlgorithm(shown(&other.to_string())),
        None => return Error::Malformed("header has no alg"),
    }
    match header.remove("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => {
            Error::Malformed("header has fields of the wrong type")
        }
        _ => Error::MissingKeyId,
    }
}

/// Accepts `Bearer <jwt>` with the scheme in any case (RFC 9110) or the bare JWT.
pub(crate) fn strip_bearer(value: &str) -> &str {
    match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ if value.eq_ignore_ascii_case("bearer") => "",
        _ => value,
    }
}

/// Verifies Google ID tokens for one configuration. Build once, reuse for every
/// request.
///
/// The signature is checked with jsonwebtoken's own primitive
/// (`jsonwebtoken::crypto::verify`, RS256 only); the claims are then read once and
/// checked here rather than through `jsonwebtoken::decode` + `Validation`, because the
/// rules go beyond what `Validation` does — `now` is the caller's (testable,
/// replayable), `iat` is checked, `iss` must be a string, every `aud` must be trusted
/// and `azp` must be ours (OpenID Connect Core 3.1.3.7), the lifetime is bounded,
/// `aud`/`iss` are always required — and because
/// `decode` parses header and claims twice each, which the benchmark showed to cost
/// more than all of our own checks together.
#[derive(Debug, Clone)]
pub struct Verifier {
    client_ids: HashSet<String>,
    leeway: u64,
}

impl Verifier {
    /// Prepares the rules from the configuration.
    pub fn new(config: &Config) -> Self {
        Verifier {
            client_ids: config.client_ids.iter().cloned().collect(),
            leeway: config.clock_skew.as_secs(),
        }
    }

    /// Verifies the signature with `key`, then every claim, at `now` (Unix seconds).
    /// The payload is not read before the signature has verified.
    pub fn verify(
        &self,
        token: &UnverifiedToken<'_>,
        key: &DecodingKey,
        now: u64,
    ) -> Result<GoogleClaims, Error> {
        let (message, signature) = token
            .compact
            .rsplit_once('.')
            .ok_or(Error::Malformed("expected three dot-separated segments"))?;
        match jsonwebtoken::crypto::verify(signature, message.as_bytes(), key, Algorithm::RS256) {
            Ok(true) => {}
            Ok(false) => return Err(Error::BadSignature),
            Err(e) if matches!(e.kind(), ErrorKind::Base64(_)) => {
                return Err(Error::Malformed("the signature is not base64url"));
            }
            // A key that cannot do RS256: nothing verifies with it.
            Err(_) => return Err(Error::BadSignature),
        }
        let payload = message
            .split_once('.')
            .map(|(_, payload)| payload)
            .ok_or(Error::Malformed("expected three dot-separated segments"))?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| Error::Malformed("the payload is not base64url"))?;
        let claims: RawClaims = serde_json::from_slice(&json)
            .map_err(|_| Error::Malformed("the payload is not a JSON object"))?;
        self.check_claims(claims, now)
    }

    /// Parses the header, picks the key by `kid` from `keys` and verifies.
    pub fn verify_with_keys(
        &self,
        authorization: &str,
        keys: &KeySet,
        now: u64,
    ) -> Result<GoogleClaims, Error> {
        let token = parse_token(authorization)?;
        let key = keys
            .get(&token.kid)
            .ok_or_else(|| Error::UnknownKeyId(token.kid.clone()))?;
        self.verify(&token, key, now)
    }

    /// Every claim rule: issuer, audience, subject, and the time claims with leeway.
    fn check_claims(&self, raw: RawClaims, now: u64) -> Result<GoogleClaims, Error> {
        // Google only ever sends `iss` as a string; an array is refused even when it
        // contains a good value.
        match &raw.iss {
            Some(Value::String(iss)) if GOOGLE_ISSUERS.contains(&iss.as_str()) => {}
            None | Some(Value::Null) => return Err(Error::MissingClaim("iss")),
            _ => return Err(Error::WrongIssuer),
        }
        // OpenID Connect Core 3.1.3.7: reject a token with audiences we don't trust,
        // even when one of them is ours.
        match &raw.aud {
            Some(Value::String(aud)) if self.client_ids.contains(aud) => {}
            Some(Value::Array(auds))
                if !auds.is_empty()
                    && auds
                        .iter()
                        .all(|a| a.as_str().is_some_and(|a| self.client_ids.contains(a))) => {}
            None | Some(Value::Null) => return Err(Error::MissingClaim("aud")),
            _ => return Err(Error::WrongAudience),
        }
        // OpenID Connect Core 3.1.3.7, steps 4-5: when `azp` is present it must be our
        // client. Google signs ID tokens for any audience a service account asks for
        // (IAM generateIdToken, the metadata server, Pub/Sub push, Cloud Scheduler):
        // `aud` is then ours but `azp` is the account's numeric ID. Google never sends
        // a non-string `azp`; one (even `null`) is refused rather than read as absent.
        match &raw.azp {
            None => {}
            Some(Value::String(azp)) if self.client_ids.contains(azp) => {}
            Some(Value::String(azp)) => return Err(Error::WrongAuthorizedParty(shown(azp))),
            Some(_) => return Err(Error::InvalidClaim("azp")),
        }
        let sub = match raw.sub {
            Some(Value::String(sub)) if !sub.trim().is_empty() => sub,
            Some(Value::String(_)) | None => return Err(Error::MissingClaim("sub")),
            Some(_) => return Err(Error::InvalidClaim("sub")),
        };

        let exp = time_claim(raw.exp.as_ref(), "exp")?.ok_or(Error::MissingClaim("exp"))?;
        let iat = time_claim(raw.iat.as_ref(), "iat")?.ok_or(Error::MissingClaim("iat"))?;
        let nbf = time_claim(raw.nbf.as_ref(), "nbf")?;
        if now > exp.saturating_add(self.leeway) {
            return Err(Error::Expired { exp, now });
        }
        if iat > now.saturating_add(self.leeway) {
            return Err(Error::IssuedInFuture { iat, now });
        }
        if let Some(nbf) = nbf
            && nbf > now.saturating_add(self.leeway)
        {
            return Err(Error::NotYetValid { nbf, now });
        }
        // No leeway here: the bound is already a day wide.
        if exp > now.saturating_add(MAX_TOKEN_LIFETIME_SECONDS)
            || exp.saturating_sub(iat) > MAX_TOKEN_LIFETIME_SECONDS
        {
            return Err(Error::LifetimeTooLong { exp, iat, now });
        }

        Ok(GoogleClaims {
            sub,
            email: string_claim(raw.email, "email")?,
            email_verified: bool_claim(raw.email_verified)?,
            name: string_claim(raw.name, "name")?,
            given_name: string_claim(raw.given_name, "given_name")?,
            family_name: string_claim(raw.family_name, "family_name")?,
            hd: string_claim(raw.hd, "hd")?.map(|hd| hd.to_ascii_lowercase()),
            iat,
            exp,
        })
    }
}

/// The payload as received: every field optional and untyped, so that a wrong type
/// becomes a precise [`Error::InvalidClaim`] rather than a JSON error.
#[derive(Debug, Deserialize)]
struct RawClaims {
    iss: Option<Value>,
    aud: Option<Value>,
    /// `null` is kept as `Some(Value::Null)`, not read as absent.
    #[serde(default, deserialize_with = "present")]
    azp: Option<Value>,
    sub: Option<Value>,
    exp: Option<Value>,
    iat: Option<Value>,
    nbf: Option<Value>,
    email: Option<Value>,
    email_verified: Option<Value>,
    name: Option<Value>,
    given_name: Option<Value>,
    family_name: Option<Value>,
    hd: Option<Value>,
}

/// Any JSON value, `null` included, as `Some`: for claims where `null` is not absence.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn time_claim(value: Option<&Value>, claim: &'static str) -> Result<Option<u64>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or(Error::InvalidClaim(claim)),
    }
}

fn string_claim(value: Option<Value>, claim: &'static str) -> Result<Option<String>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::InvalidClaim(claim)),
    }
}

/// Google has sent `email_verified` both as a boolean and as the string "true".
fn bool_claim(value: Option<Value>) -> Result<Option<bool>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(_) => Err(Error::InvalidClaim("email_verified")),
    }
}
