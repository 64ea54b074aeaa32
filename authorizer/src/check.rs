//! The `check-token` command's logic: replay the authorizer's decision for one token
//! with a given key set and instant, and explain it to a person.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::policy::{self, Decision};
use crate::verify::{Verifier, parse_token, strip_bearer};
use crate::{Config, Error, KeySet};

/// The method ARN used when none is given: a GET /hello on a local `prod` stage.
pub const EXAMPLE_METHOD_ARN: &str =
    "arn:aws:execute-api:us-east-1:123456789012:local/prod/GET/hello";

/// What the authorizer would do with one token.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Allow, with the response API Gateway would receive.
    Allow(Value),
    /// Genuine, refused by policy (403), with the reason.
    Deny { reason: String, response: Value },
    /// Refused (401) or undecidable (500), with the error.
    Refused(Error),
}

impl Verdict {
    /// The process exit code: 0 allow, 1 refused in any way.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Allow(_) => 0,
            _ => 1,
        }
    }
}

/// Decides exactly as the Lambda does, minus the network.
pub fn check(token: &str, config: &Config, keys: &KeySet, method_arn: &str, now: u64) -> Verdict {
    let outcome = policy::stage_resource(method_arn).and_then(|resource| {
        let claims = Verifier::new(config).verify_with_keys(token, keys, now)?;
        let decision = policy::decide(&claims, config);
        Ok((
            decision.clone(),
            policy::response(&claims, &decision, resource),
        ))
    });
    match outcome {
        Ok((decision, response)) => {
            let response = serde_json::to_value(response).unwrap_or(Value::Null);
            match decision {
                Decision::Allow => Verdict::Allow(response),
                Decision::Deny(reason) => Verdict::Deny {
                    reason: reason.to_string(),
                    response,
                },
            }
        }
        Err(error) => Verdict::Refused(error),
    }
}

/// A human explanation: the token's (unverified) header and claims, then the verdict.
pub fn explain(token: &str, config: &Config, keys: &KeySet, verdict: &Verdict, now: u64) -> String {
    let mut out = String::new();
    let compact = strip_bearer(token.trim());
    let segments: Vec<&str> = compact.splitn(3, '.').collect();
    let _ = writeln!(
        out,
        "token      {} bytes, fingerprint {}",
        compact.len(),
        crate::token_fingerprint(token)
    );
    // Shown to help a person compare with the configuration; never used to decide.
    for (label, segment) in [("header", segments.first()), ("claims", segments.get(1))] {
        let decoded = segment
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        match decoded {
            Some(value) => {
                let _ = writeln!(out, "{label:<10} {value} (unverified)");
            }
            None => {
                let _ = writeln!(out, "{label:<10} (not decodable)");
            }
        }
    }
    let _ = writeln!(
        out,
        "expecting  aud in {:?}, azp absent or one of them, iss in {:?}, at most {} h to exp",
        config.client_ids,
        crate::GOOGLE_ISSUERS,
        crate::MAX_TOKEN_LIFETIME_SECONDS / 3600
    );
    let _ = writeln!(out, "keys       {:?}", keys.kids());
    let _ = writeln!(
        out,
        "now        {now} (leeway {}s)",
        config.clock_skew.as_secs()
    );
    if let Ok(parsed) = parse_token(token)
        && keys.get(&parsed.kid).is_none()
    {
        let _ = writeln!(out, "note       kid {:?} is not among the keys", parsed.kid);
    }
    match verdict {
        Verdict::Allow(response) => {
            let _ = writeln!(out, "decision   ALLOW (API Gateway calls the backend)");
            let _ = writeln!(out, "response   {response}");
        }
        Verdict::Deny { reason, response } => {
            let _ = writeln!(out, "decision   DENY (403): {reason}");
            let _ = writeln!(out, "response   {response}");
        }
        Verdict::Refused(error) if error.is_token_rejection() => {
            let _ = writeln!(
                out,
                "decision   UNAUTHORIZED (401): {error} [{}]",
                error.reason()
            );
        }
        Verdict::Refused(error) => {
            let _ = writeln!(
                out,
                "decision   ERROR (500, fail closed): {error} [{}]",
                error.reason()
            );
        }
    }
    out
}
