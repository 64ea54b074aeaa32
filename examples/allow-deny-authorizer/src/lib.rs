//! # allow-deny-authorizer
//!
//! The simplest API Gateway Lambda authorizer, of the `REQUEST` type: API Gateway sends
//! it the whole request (headers, query string, stage variables, context) and it
//! answers with an IAM policy. This one reads one header, [`TOKEN_HEADER`]:
//!
//! | `AuthorizationToken` | answer | API Gateway |
//! |---|---|---|
//! | `allow` | Allow policy, `principalId` `user`, a small `context` | calls the integration |
//! | `deny` | Deny policy | 403 |
//! | anything else, or missing | the error `Unauthorized` | 401 |
//!
//! It is the AWS docs' example ("Use API Gateway Lambda authorizers",
//! docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html)
//! cut down to one identity source; that one also checks a query string and a stage
//! variable. Copy it to write your own: change [`decide`].
//!
//! ## Run it
//! ```text
//! cargo test -p allow-deny-authorizer     # the handler, and the built binary
//! ```

use authorizer_contract::UNAUTHORIZED;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::json;

/// The header that holds the token: openapi.yaml's identity source
/// `method.request.header.AuthorizationToken`. Header names are case-insensitive
/// (`authorizationtoken` is the same header).
pub const TOKEN_HEADER: &str = "AuthorizationToken";

/// Who the caller is, for API Gateway: `$context.authorizer.principalId`.
pub const PRINCIPAL_ID: &str = "user";

/// Why the authorizer gives no policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizerError {
    /// The token is missing or neither `allow` nor `deny`. API Gateway answers 401
    /// for exactly this message, [`UNAUTHORIZED`]; any other error is a 500.
    #[error("{}", UNAUTHORIZED)]
    Unauthorized,
    /// The event has no `methodArn` (API Gateway always sends one): a 500.
    #[error("the event has no methodArn, so there is nothing to write a policy for")]
    MissingMethodArn,
}

impl From<AuthorizerError> for Diagnostic {
    fn from(error: AuthorizerError) -> Self {
        let error_type = match error {
            AuthorizerError::Unauthorized => UNAUTHORIZED,
            AuthorizerError::MissingMethodArn => "InvalidEvent",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The Lambda handler: reads the token from the request, decides, answers.
pub async fn function_handler(
    event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>,
) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerError> {
    let request = event.payload;
    let method_arn = request
        .method_arn
        .as_deref()
        .filter(|arn| !arn.is_empty())
        .ok_or(AuthorizerError::MissingMethodArn)?;
    let effect = decide(token(&request))?;
    Ok(policy(effect, method_arn))
}

/// The whole authorization rule. Write yours here.
pub fn decide(token: Option<&str>) -> Result<IamPolicyEffect, AuthorizerError> {
    match token {
        Some("allow") => Ok(IamPolicyEffect::Allow),
        Some("deny") => Ok(IamPolicyEffect::Deny),
        _ => Err(AuthorizerError::Unauthorized),
    }
}

/// The value of [`TOKEN_HEADER`], from `headers` or `multiValueHeaders` (API Gateway
/// fills both). `None` when it is missing, or when the request carries it twice
/// with different values: then which one is "the" token is unclear, so neither is.
pub fn token(request: &ApiGatewayCustomAuthorizerRequestTypeRequest) -> Option<&str> {
    let mut values = request
        .headers
        .get_all(TOKEN_HEADER)
        .iter()
        .chain(request.multi_value_headers.get_all(TOKEN_HEADER).iter());
    let first = values.next()?;
    if values.any(|other| other != first) {
        return None;
    }
    first.to_str().ok()
}

/// API Gateway's answer: `effect` on the method that was called, with a context the
/// integration reads as `$context.authorizer.stringKey` and so on (strings, numbers
/// and booleans only). The policy names only this method, which is right because
/// openapi.yaml turns caching off (`authorizerResultTtlInSeconds: 0`); with caching
/// on, a cached policy must cover every method it will be reused for.
pub fn policy(effect: IamPolicyEffect, method_arn: &str) -> ApiGatewayCustomAuthorizerResponse {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = vec![method_arn.to_owned()];

    let mut policy_document = ApiGatewayCustomAuthorizerPolicy::default();
    policy_document.version = Some("2012-10-17".to_owned());
    policy_document.statement = vec![statement];

    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(PRINCIPAL_ID.to_owned());
    response.policy_document = policy_document;
    response.context = json!({"stringKey": "value", "numberKey": 1, "booleanKey": true});
    response
}
