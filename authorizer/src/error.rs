//! The crate's one error type: why a token was refused, why the keys are unusable,
//! or why the configuration is wrong.

use std::fmt;

use authorizer_contract::UNAUTHORIZED;

use crate::verify::{MAX_KID_BYTES, MAX_TOKEN_LIFETIME_SECONDS};

/// Everything that can go wrong in the authorizer.
///
/// Token variants carry enough detail for logs and the `check-token` command; the
/// client only ever sees API Gateway's `Unauthorized` (see [`Error::is_token_rejection`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    // --- configuration (start-up) ---
    /// A required environment variable is not set or is empty.
    #[error("{name} is not set: {expected}")]
    MissingVariable {
        name: &'static str,
        expected: &'static str,
    },
    /// An environment variable is set to something unusable.
    #[error("{name}={value:?} is invalid: {expected}")]
    InvalidVariable {
        name: &'static str,
        value: String,
        expected: &'static str,
    },

    // --- the event API Gateway sent ---
    /// The `methodArn` is not an API Gateway method ARN.
    #[error("methodArn {0:?} is not arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH")]
    InvalidMethodArn(String),

    // --- keys ---
    /// The JWKS endpoint could not be reached or answered with an error status.
    #[error("fetching the JWKS failed: {0}")]
    KeyFetch(String),
    /// The JWKS endpoint answered, but not with a usable RSA key set.
    #[error("the JWKS is unusable: {0}")]
    InvalidKeySet(String),
    /// No keys have ever been fetched successfully (or the last good ones are too old):
    /// nothing can be verified, so every token is refused.
    #[error("no signing keys are available")]
    NoKeys,

    // --- the token ---
    /// No token at all (empty header, or only `Bearer`, or a REQUEST event without
    /// an `Authorization` header).
    #[error("no token")]
    MissingToken,
    /// A REQUEST event with two different `Authorization` values (see
    /// [`crate::AuthorizerEvent::token`] for why neither is chosen).
    #[error("the request carries two different Authorization headers")]
    ConflictingAuthorizationHeaders,
    /// Longer than any Google ID token; refused before any parsing.
    #[error("token is {0} bytes long, longer than any Google ID token")]
    TokenTooLarge(usize),
    /// Not three base64url segments of JSON.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than RS256.
    #[error("algorithm {0:?} is not allowed; Google signs ID tokens with RS256")]
    DisallowedAlgorithm(String),
    /// The header has no `kid`.
    #[error("the token header has no kid")]
    MissingKeyId,
    /// The `kid` is not shaped like a key ID (longer than [`MAX_KID_BYTES`] or a byte
    /// outside `[A-Za-z0-9._-]`). Refused before any key lookup, and only its length
    /// is kept: a client must not be able to put kilobytes of its text in our logs.
    #[error(
        "the kid is not a key ID ({0} bytes; a key ID is at most {MAX_KID_BYTES} bytes of A-Z a-z 0-9 . _ -)"
    )]
    InvalidKeyId(usize),
    /// The `kid` names no key in Google's JWKS, even after a refetch.
    #[error("kid {0:?} names no key in the JWKS")]
    UnknownKeyId(String),
    /// The signature does not verify with the key named by `kid`.
    #[error("the signature does not verify")]
    BadSignature,
    /// A claim that must be present is missing.
    #[error("the {0} claim is missing")]
    MissingClaim(&'static str),
    /// A claim is present but has the wrong type.
    #[error("the {0} claim has the wrong type")]
    InvalidClaim(&'static str),
    /// `iss` is not one of Google's two spellings.
    #[error("the issuer is not Google (accounts.google.com)")]
    WrongIssuer,
    /// `aud` names none of the configured client IDs.
    #[error("the audience is not one of the configured client IDs")]
    WrongAudience,
    /// `azp` is present but names none of the configured client IDs: the token was
    /// issued to another party, typically a Google Cloud service account asking for an
    /// ID token with our (public) client ID as its audience (OpenID Connect Core
    /// 3.1.3.7, steps 4-5). The value is a Google-signed claim, kept short for logs.
    #[error("the authorized party (azp) {0:?} is not one of the configured client IDs")]
    WrongAuthorizedParty(String),
    /// `exp` is more than [`MAX_TOKEN_LIFETIME_SECONDS`] after `now` or after `iat`.
    #[error(
        "the token lives too long: exp {exp} is more than {} h after now ({now}) or after iat ({iat}); Google's ID tokens live one hour",
        MAX_TOKEN_LIFETIME_SECONDS / 3600
    )]
    LifetimeTooLong { exp: u64, iat: u64, now: u64 },
    /// `exp` is in the past (beyond the clock-skew leeway).
    #[error("the token expired at {exp} (now {now})")]
    Expired { exp: u64, now: u64 },
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid before {nbf} (now {now})")]
    NotYetValid { nbf: u64, now: u64 },
    /// `iat` is in the future (beyond the leeway).
    #[error("the token claims to be issued at {iat}, in the future (now {now})")]
    IssuedInFuture { iat: u64, now: u64 },
}

impl Error {
    /// True when the error is about the token itself: API Gateway should answer 401.
    /// Key and configuration problems are not: they surface as a server error (500),
    /// still refusing access (fail closed).
    pub fn is_token_rejection(&self) -> bool {
        !matches!(
            self,
            Error::MissingVariable { .. }
                | Error::InvalidVariable { .. }
                | Error::InvalidMethodArn(_)
                | Error::KeyFetch(_)
                | Error::InvalidKeySet(_)
                | Error::NoKeys
        )
    }

    /// A short, stable name for logs and metrics (`reason` field).
    pub fn reason(&self) -> &'static str {
        match self {
            Error::MissingVariable { .. } => "missing_variable",
            Error::InvalidVariable { .. } => "invalid_variable",
            Error::InvalidMethodArn(_) => "invalid_method_arn",
            Error::KeyFetch(_) => "key_fetch_failed",
            Error::InvalidKeySet(_) => "invalid_key_set",
            Error::NoKeys => "no_keys",
            Error::MissingToken => "missing_token",
            Error::ConflictingAuthorizationHeaders => "conflicting_authorization_headers",
            Error::TokenTooLarge(_) => "token_too_large",
            Error::Malformed(_) => "malformed",
            Error::DisallowedAlgorithm(_) => "disallowed_algorithm",
            Error::MissingKeyId => "missing_kid",
            Error::InvalidKeyId(_) => "invalid_kid",
            Error::UnknownKeyId(_) => "unknown_kid",
            Error::BadSignature => "bad_signature",
            Error::MissingClaim(_) => "missing_claim",
            Error::InvalidClaim(_) => "invalid_claim",
            Error::WrongIssuer => "wrong_issuer",
            Error::WrongAudience => "wrong_audience",
            Error::WrongAuthorizedParty(_) => "wrong_authorized_party",
            Error::LifetimeTooLong { .. } => "lifetime_too_long",
            Error::Expired { .. } => "expired",
            Error::NotYetValid { .. } => "not_yet_valid",
            Error::IssuedInFuture { .. } => "issued_in_future",
        }
    }
}

/// The longest piece of client-chosen text (an `alg`, a `methodArn`, a `Location`)
/// an error keeps, in characters.
const MAX_SHOWN_CHARS: usize = 64;

/// Client-chosen text as an error keeps it for logs: at most [`MAX_SHOWN_CHARS`]
/// characters, then `…` and the full length. Errors display it with `{:?}`, which
/// escapes quotes, CR/LF and every non-printable character (terminal escapes
/// included), and the JSON log layer escapes again; the cut bounds the line.
pub(crate) fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…({} bytes)", &text[..end], text.len()),
    }
}

/// What the Lambda returns as its error. API Gateway turns the exact message
/// [`UNAUTHORIZED`] into a 401; any other error becomes a 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LambdaFailure {
    /// The token is not acceptable: API Gateway answers 401.
    Unauthorized,
    /// The authorizer cannot decide (no keys, bad event): API Gateway answers 500.
    Internal(&'static str),
}

impl From<&Error> for LambdaFailure {
    fn from(error: &Error) -> Self {
        if error.is_token_rejection() {
            LambdaFailure::Unauthorized
        } else {
            LambdaFailure::Internal(error.reason())
        }
    }
}

impl fmt::Display for LambdaFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LambdaFailure::Unauthorized => f.write_str(UNAUTHORIZED),
            LambdaFailure::Internal(reason) => write!(f, "authorizer failure: {reason}"),
        }
    }
}

impl From<LambdaFailure> for lambda_runtime::Diagnostic {
    fn from(failure: LambdaFailure) -> Self {
        let error_type = match failure {
            LambdaFailure::Unauthorized => UNAUTHORIZED,
            LambdaFailure::Internal(_) => "AuthorizerFailure",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: failure.to_string(),
        }
    }
}
