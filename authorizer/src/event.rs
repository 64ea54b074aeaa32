//! The two events API Gateway sends a Lambda authorizer, and where each keeps the token.
//!
//! - `TOKEN`: `{"type": "TOKEN", "authorizationToken": "...", "methodArn": "..."}`; API
//!   Gateway copies the identity source header into `authorizationToken`.
//! - `REQUEST`: `{"type": "REQUEST", "methodArn": "...", "headers": {..},
//!   "multiValueHeaders": {..}, ...}`; the token is the `Authorization` header.
//!
//! (AWS, "Input to an API Gateway Lambda authorizer",
//! docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html.)
//! Accepting both means openapi.yaml switches the authorizer's `type` with one edit.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
};
use aws_lambda_events::http::header::AUTHORIZATION;
use serde::Deserialize;

use crate::Error;

/// An authorizer event of either type, typed with `aws_lambda_events`' own structs.
///
/// aws_lambda_events 1.2 (the version in Cargo.lock) has a struct per type but no type
/// that holds either, so this enum is *internally tagged* on `type`: serde reads
/// `type` first and then the rest of the event into that type's struct, with no
/// `serde_json::Value` in between. An untagged enum would not do: every field of
/// [`ApiGatewayCustomAuthorizerRequest`] is optional, so it matches any object and the
/// shape chosen would depend on the order of the variants rather than on what API
/// Gateway says the event is. A `type` other than `TOKEN` or `REQUEST` (or none) fails
/// to deserialize, so the runtime answers with an error (500): fail closed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum AuthorizerEvent {
    /// The TOKEN event: the token in `authorizationToken`.
    #[serde(rename = "TOKEN")]
    Token(ApiGatewayCustomAuthorizerRequest),
    /// The REQUEST event: the token in the `Authorization` header. Boxed: it is many
    /// times the size of the TOKEN event.
    #[serde(rename = "REQUEST")]
    Request(Box<ApiGatewayCustomAuthorizerRequestTypeRequest>),
}

impl From<ApiGatewayCustomAuthorizerRequest> for AuthorizerEvent {
    fn from(event: ApiGatewayCustomAuthorizerRequest) -> Self {
        AuthorizerEvent::Token(event)
    }
}

impl From<ApiGatewayCustomAuthorizerRequestTypeRequest> for AuthorizerEvent {
    fn from(event: ApiGatewayCustomAuthorizerRequestTypeRequest) -> Self {
        AuthorizerEvent::Request(Box::new(event))
    }
}

impl AuthorizerEvent {
    /// `"TOKEN"` or `"REQUEST"`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthorizerEvent::Token(_) => "TOKEN",
            AuthorizerEvent::Request(_) => "REQUEST",
        }
    }

    /// The `methodArn`, empty when absent (then refused as an invalid ARN).
    pub fn method_arn(&self) -> &str {
        match self {
            AuthorizerEvent::Token(event) => event.method_arn.as_deref(),
            AuthorizerEvent::Request(event) => event.method_arn.as_deref(),
        }
        .unwrap_or("")
    }

    /// The credential to verify: `authorizationToken`, or the one `Authorization`
    /// header of a REQUEST event (any case: `HeaderMap` names are case-insensitive).
    ///
    /// An absent token is `""` (refused as [`Error::MissingToken`]). API Gateway answers
    /// 401 itself for a missing or empty identity source only when caching is on (AWS,
    /// "Use API Gateway Lambda authorizers", REQUEST authorizers); with caching off,
    /// or an `identitySource` naming other values, the function is invoked without
    /// the header and must refuse.
    ///
    /// A REQUEST event carries the header in `headers` (the last value) and in
    /// `multiValueHeaders` (every value). Two different values are refused
    /// ([`Error::ConflictingAuthorizationHeaders`]) rather than one chosen: HTTP does not
    /// allow `Authorization` twice (it is not a list field, RFC 9110 section 5.3), and
    /// whichever one we verified, the integration, a proxy or API Gateway's cache
    /// (keyed on the identity source) might read the other: an attacker's token
    /// riding on a victim's verification. The same value twice is one credential.
    /// Limit: aws_lambda_events keeps only the last of `headers` keys that differ
    /// only in case (`Authorization` and `authorization`); API Gateway sends every
    /// such value in `multiValueHeaders` too, where all are seen.
    pub fn token(&self) -> Result<&str, Error> {
        let event = match self {
            AuthorizerEvent::Token(event) => {
                return Ok(event.authorization_token.as_deref().unwrap_or(""));
            }
            AuthorizerEvent::Request(event) => event,
        };
        let mut found: Option<&str> = None;
        let values = event
            .headers
            .get_all(AUTHORIZATION)
            .iter()
            .chain(event.multi_value_headers.get_all(AUTHORIZATION).iter());
        for value in values {
            // Tokens are ASCII; a header that is not visible ASCII is no token of ours.
            let value = value
                .to_str()
                .map_err(|_| Error::Malformed("the Authorization header is not visible ASCII"))?;
            match found {
                Some(earlier) if earlier != value => {
                    return Err(Error::ConflictingAuthorizationHeaders);
                }
                _ => found = Some(value),
            }
        }
        Ok(found.unwrap_or(""))
    }
}
