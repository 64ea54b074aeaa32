//! # authorizer
//!
//! An API Gateway **Lambda authorizer** for Google ID tokens, of either type: a TOKEN
//! event's `authorizationToken`, or a REQUEST event's `Authorization` header (any case,
//! from `headers` or `multiValueHeaders`; two different values are refused), see
//! [`AuthorizerEvent`]. It answers with an IAM policy (Allow for the whole stage,
//! with the user's `name`, `sub` and verified `email` in the context), a Deny policy (403) for
//! genuine tokens the policy refuses, or the error `Unauthorized` (401).
//!
//! Verification follows Google's rules: RS256 only; `kid` names a key in Google's JWKS;
//! the signature; `iss` is `accounts.google.com` or `https://accounts.google.com`;
//! `aud` is one of `GOOGLE_CLIENT_IDS`; `exp`, `iat`, `nbf` within `CLOCK_SKEW_SECONDS`;
//! `sub` present. Beyond that: `azp`, when present, is one of `GOOGLE_CLIENT_IDS`
//! (Google signs service-account tokens for any audience); the lifetime is at most
//! 24 h; the `kid` is shaped like a key ID before any lookup; `email` reaches the
//! context only when `email_verified` is true. Nothing in the token is trusted before
//! the signature checks.
//!
//! The core is pure ([`Verifier::verify`], [`policy::decide`]); keys come through
//! [`KeyFetcher`] into a [`KeyCache`] that honours `Cache-Control`, shares one fetch
//! among concurrent callers and refetches on an unknown `kid` at most once per cool-down.
//!
//! ## Run it
//! ```text
//! # Why is this token refused? (offline, with a saved JWKS)
//! cargo run -p authorizer --bin check-token -- --client-id ID --jwks-file certs.json TOKEN
//! # The Lambda (under cargo lambda watch, SAM, or the local stack)
//! GOOGLE_CLIENT_IDS=ID cargo run -p authorizer --bin authorizer
//! # Tests and the benchmark
//! cargo test -p authorizer && cargo bench -p authorizer
//! ```
//!
//! ## Configuration (environment)
//! | variable | meaning |
//! |---|---|
//! | `GOOGLE_CLIENT_IDS` | required; comma-separated OAuth client IDs (`aud`) |
//! | `GOOGLE_JWKS_URL` | default `https://www.googleapis.com/oauth2/v3/certs`; https, or http to loopback |
//! | `ALLOWED_HOSTED_DOMAINS` | optional; comma-separated Workspace domains (`hd`) |
//! | `CLOCK_SKEW_SECONDS` | default 60, at most 300 |

pub mod check;
mod config;
mod error;
mod event;
mod handler;
mod keys;
pub mod lambda;
pub mod policy;
mod verify;

pub use config::{Config, DEFAULT_CLOCK_SKEW_SECONDS, GOOGLE_JWKS_URL};
pub use error::{Error, LambdaFailure};
pub use event::AuthorizerEvent;
pub use handler::{Authorizer, Outcome, function_handler, token_fingerprint};
pub use keys::{
    CachePolicy, DEFAULT_FETCH_TIMEOUT, FetchedKeys, HttpKeyFetcher, KeyCache, KeyFetcher, KeySet,
    MAX_JWKS_BYTES, parse_max_age,
};
pub use verify::{
    GOOGLE_ISSUERS, GoogleClaims, MAX_KID_BYTES, MAX_TOKEN_BYTES, MAX_TOKEN_LIFETIME_SECONDS,
    UnverifiedToken, Verifier, parse_token,
};
