//! The Lambda handler: event in, policy or `Unauthorized` out, one log line per decision.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerResponse;
use lambda_runtime::LambdaEvent;

use crate::keys::{CachePolicy, HttpKeyFetcher, KeyCache, KeyFetcher};
use crate::policy::{self, Decision};
use crate::verify::{UnverifiedToken, Verifier, parse_token};
use crate::{AuthorizerEvent, Config, Error, LambdaFailure};

/// Everything a warm Lambda keeps between invocations: configuration, the prepared
/// verifier and the key cache. Built once at init.
#[derive(Debug)]
pub struct Authorizer<F> {
    config: Config,
    verifier: Verifier,
    keys: KeyCache<F>,
}

impl Authorizer<HttpKeyFetcher> {
    /// The production authorizer: keys from `config.jwks_url` over HTTPS.
    pub fn from_config(config: Config) -> Result<Self, Error> {
        let fetcher = HttpKeyFetcher::new(config.jwks_url.clone())?;
        Ok(Self::with_fetcher(config, fetcher, CachePolicy::default()))
    }
}

/// What the authorizer concluded, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    pub response: ApiGatewayCustomAuthorizerResponse,
}

impl<F: KeyFetcher> Authorizer<F> {
    /// An authorizer with any key source (tests use counting fakes).
    pub fn with_fetcher(config: Config, fetcher: F, policy: CachePolicy) -> Self {
        Authorizer {
            verifier: Verifier::new(&config),
            keys: KeyCache::new(fetcher, policy),
            config,
        }
    }

    /// Fetches the keys ahead of the first request. A failure is logged, not fatal:
    /// the first request tries again, and without keys every token is refused.
    pub async fn warm_up(&self) {
        match self.keys.refresh().await {
            Ok(()) => tracing::info!(kids = ?self.keys.kids(), "signing keys ready"),
            Err(error) => {
                tracing::warn!(%error, "no signing keys at start-up; will retry on the first request")
            }
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Decides on one `Authorization` value for one method ARN, at `now` (Unix seconds).
    pub async fn authorize(
        &self,
        authorization: &str,
        method_arn: &str,
        now: u64,
    ) -> Result<Outcome, Error> {
        self.decide(parse_token(authorization), method_arn, now)
            .await
    }

    /// [`Authorizer::authorize`] for a header already parsed: the handler reads the
    /// `kid` for its log line and must not parse the token a second time.
    async fn decide(
        &self,
        token: Result<UnverifiedToken<'_>, Error>,
        method_arn: &str,
        now: u64,
    ) -> Result<Outcome, Error> {
        // A broken event is reported before anything about the token.
        let resource = policy::stage_resource(method_arn)?;
        let token = token?;
        let key = self.keys.key(&token.kid).await?;
        let claims = self.verifier.verify(&token, &key, now)?;
        let decision = policy::decide(&claims, &self.config);
        let response = policy::response(&claims, &decision, resource);
        Ok(Outcome { decision, response })
    }
}

/// The Lambda entry point: verifies the event's token and answers API Gateway.
/// A refused token is the error `Unauthorized` (401); a genuine token the policy
/// refuses gets a Deny policy (403); key trouble is an error of another name (500).
///
/// Takes a TOKEN or a REQUEST event ([`AuthorizerEvent`]); generic over `Into` so a
/// caller holding one of `aws_lambda_events`' two structs passes it as it is.
pub async fn function_handler<F: KeyFetcher, E: Into<AuthorizerEvent>>(
    authorizer: &Authorizer<F>,
    event: LambdaEvent<E>,
) -> Result<ApiGatewayCustomAuthorizerResponse, LambdaFailure> {
    let request: AuthorizerEvent = event.payload.into();
    let method_arn = request.method_arn();
    let token = request.token();
    let fingerprint = token_fingerprint(token.as_deref().unwrap_or(""));
    let parsed = token.and_then(parse_token);
    let kid = parsed.as_ref().ok().map(|t| t.kid.clone());
    let event_type = request.kind();
    match authorizer.decide(parsed, method_arn, unix_now()).await {
        Ok(outcome) => {
            match &outcome.decision {
                Decision::Allow => tracing::info!(
                    decision = "allow",
                    event = event_type,
                    principal = outcome.response.principal_id.as_deref().unwrap_or(""),
                    kid = kid.as_deref().unwrap_or(""),
                    token = %fingerprint,
                    "token accepted"
                ),
                Decision::Deny(reason) => tracing::info!(
                    decision = "deny",
                    event = event_type,
                    reason = reason.reason(),
                    detail = %reason,
                    principal = outcome.response.principal_id.as_deref().unwrap_or(""),
                    kid = kid.as_deref().unwrap_or(""),
                    token = %fingerprint,
                    "token genuine but refused by policy"
                ),
            }
            Ok(outcome.response)
        }
        Err(error) => {
            let failure = LambdaFailure::from(&error);
            if error.is_token_rejection() {
                tracing::info!(
                    decision = "unauthorized",
                    event = event_type,
                    reason = error.reason(),
                    detail = %error,
                    kid = kid.as_deref().unwrap_or(""),
                    token = %fingerprint,
                    "token refused"
                );
            } else {
                tracing::error!(
                    decision = "error",
                    event = event_type,
                    reason = error.reason(),
                    detail = %error,
                    kid = kid.as_deref().unwrap_or(""),
                    token = %fingerprint,
                    "cannot decide; refusing"
                );
            }
            Err(failure)
        }
    }
}

pub use authorizer_contract::token_fingerprint;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
