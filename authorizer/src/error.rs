//! The crate's one error type: why a token was refused, why the keys are unusable,
//! or why the configuration is wrong.

use std::fmt;

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
    /// No token at all (empty header, or only `Bearer`).
    #[error("no token")]
    MissingToken,
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
            Error::TokenTooLarge(_) => "token_too_large",
            Error::Malformed(_) => "malformed",
            Error::DisallowedAlgorithm(_) => "disallowed_algorithm",
            Error::MissingKeyId => "missing_kid",
            Error::UnknownKeyId(_) => "unknown_kid",
            Error::BadSignature => "bad_signature",
            Error::MissingClaim(_) => "missing_claim",
            Error::InvalidClaim(_) => "invalid_claim",
            Error::WrongIssuer => "wrong_issuer",
            Error::WrongAudience => "wrong_audience",
            Error::Expired { .. } => "expired",
            Error::NotYetValid { .. } => "not_yet_valid",
            Error::IssuedInFuture { .. } => "issued_in_future",
        }
    }
}

/// What the Lambda returns as its error. API Gateway turns the exact message
/// `Unauthorized` into a 401; any other error becomes a 500.
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
            LambdaFailure::Unauthorized => f.write_str("Unauthorized"),
            LambdaFailure::Internal(reason) => write!(f, "authorizer failure: {reason}"),
        }
    }
}

impl From<LambdaFailure> for lambda_runtime::Diagnostic {
    fn from(failure: LambdaFailure) -> Self {
        let error_type = match failure {
            LambdaFailure::Unauthorized => "Unauthorized",
            LambdaFailure::Internal(_) => "AuthorizerFailure",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: failure.to_string(),
        }
    }
}
