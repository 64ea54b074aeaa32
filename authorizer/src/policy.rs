//! From verified claims to API Gateway's answer: Allow or Deny, for the whole stage.

use authorizer_contract::MethodArn;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde_json::{Map, Value};

use crate::{Config, Error, GoogleClaims};

/// The policy's verdict on a genuine token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Genuine, but refused: API Gateway answers 403.
    Deny(DenyReason),
}

/// Why a genuine token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyReason {
    /// The account has no hosted domain (`hd`) or one not in `ALLOWED_HOSTED_DOMAINS`.
    HostedDomainNotAllowed(Option<String>),
}

impl DenyReason {
    /// A stable name for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            DenyReason::HostedDomainNotAllowed(_) => "hosted_domain_not_allowed",
        }
    }
}

impl std::fmt::Display for DenyReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DenyReason::HostedDomainNotAllowed(None) => {
                f.write_str("the account belongs to no Google Workspace domain, and only allowed domains may call")
            }
            DenyReason::HostedDomainNotAllowed(Some(hd)) => {
                write!(f, "the Google Workspace domain {hd:?} is not in ALLOWED_HOSTED_DOMAINS")
            }
        }
    }
}

/// Applies the configured policy to verified claims.
pub fn decide(claims: &GoogleClaims, config: &Config) -> Decision {
    match &config.allowed_hosted_domains {
        None => Decision::Allow,
        Some(allowed) => match &claims.hd {
            Some(hd) if allowed.iter().any(|a| a == hd) => Decision::Allow,
            hd => Decision::Deny(DenyReason::HostedDomainNotAllowed(hd.clone())),
        },
    }
}

/// `arn:aws:execute-api:R:A:API/STAGE/METHOD/PATH` -> `arn:aws:execute-api:R:A:API/STAGE/*/*`
/// ([`MethodArn::stage_wildcard`]).
///
/// API Gateway caches the policy per token and re-evaluates it for every method and
/// path, so a policy naming only the method that was called would refuse the next
/// call to any other route within the cache TTL.
pub fn stage_resource(method_arn: &str) -> Result<String, Error> {
    // API Gateway builds the ARN from the request path, which the client chooses.
    MethodArn::parse(method_arn)
        .map(|arn| arn.stage_wildcard())
        .map_err(|_| Error::InvalidMethodArn(crate::error::shown(method_arn)))
}

/// The authorizer's response: `principalId` = `sub`, one statement for the stage,
/// and (on Allow) a context of strings and booleans for the mapping template.
pub fn response(
    claims: &GoogleClaims,
    decision: &Decision,
    resource: String,
) -> ApiGatewayCustomAuthorizerResponse {
    let effect = match decision {
        Decision::Allow => IamPolicyEffect::Allow,
        Decision::Deny(_) => IamPolicyEffect::Deny,
    };
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = vec![resource];

    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".to_owned());
    policy.statement = vec![statement];

    let mut out = ApiGatewayCustomAuthorizerResponse::default();
    out.principal_id = Some(claims.sub.clone());
    out.policy_document = policy;
    out.context = match decision {
        Decision::Allow => Value::Object(context(claims)),
        Decision::Deny(_) => Value::Object(Map::new()),
    };
    out
}

/// API Gateway only accepts strings, numbers and booleans as context values.
fn context(claims: &GoogleClaims) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("name".into(), Value::String(claims.display_name()));
    context.insert("sub".into(), Value::String(claims.sub.clone()));
    // Only an address Google verified: a downstream reads `email` as the user's.
    if let Some(email) = claims.verified_email() {
        context.insert("email".into(), Value::String(email.to_owned()));
    }
    if let Some(verified) = claims.email_verified {
        context.insert("emailVerified".into(), Value::Bool(verified));
    }
    if let Some(hd) = &claims.hd {
        context.insert("hostedDomain".into(), Value::String(hd.clone()));
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn claims(hd: Option<&str>) -> GoogleClaims {
        GoogleClaims {
            sub: "110169484474386276334".into(),
            email: Some("jane@example.com".into()),
            email_verified: Some(true),
            name: Some("Jane Doe".into()),
            given_name: None,
            family_name: None,
            hd: hd.map(str::to_owned),
            iat: 1,
            exp: 2,
        }
    }

    fn config(domains: Option<&[&str]>) -> Config {
        Config {
            client_ids: vec!["client".into()],
            jwks_url: "http://127.0.0.1:1/certs".into(),
            allowed_hosted_domains: domains.map(|d| d.iter().map(|s| s.to_string()).collect()),
            clock_skew: Duration::from_secs(60),
        }
    }

    #[test]
    fn stage_resource_covers_every_method_and_path() {
        assert_eq!(
            stage_resource("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/hello")
                .unwrap(),
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*"
        );
        assert_eq!(
            stage_resource("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/dev/POST/a/b/c")
                .unwrap(),
            "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/dev/*/*"
        );
    }

    #[test]
    fn stage_resource_rejects_what_is_not_a_method_arn() {
        for bad in [
            "",
            "arn:aws:lambda:eu-west-1:123456789012:function:f",
            "arn:aws:execute-api:eu-west-1:123456789012:abc",
            "arn:aws:execute-api:eu-west-1:123456789012:abc/prod",
            "arn:aws:execute-api:eu-west-1:notanumber:abc/prod/GET/hello",
            "arn:aws:execute-api::123456789012:abc/prod/GET/",
        ] {
            assert_eq!(
                stage_resource(bad),
                Err(Error::InvalidMethodArn(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn allows_everyone_without_a_domain_allowlist() {
        assert_eq!(decide(&claims(None), &config(None)), Decision::Allow);
    }

    #[test]
    fn allows_a_listed_hosted_domain() {
        let config = config(Some(&["example.com", "school.edu"]));
        assert_eq!(
            decide(&claims(Some("school.edu")), &config),
            Decision::Allow
        );
    }

    #[test]
    fn denies_an_unlisted_or_missing_hosted_domain() {
        let config = config(Some(&["example.com"]));
        assert_eq!(
            decide(&claims(Some("evil.com")), &config),
            Decision::Deny(DenyReason::HostedDomainNotAllowed(Some("evil.com".into())))
        );
        assert_eq!(
            decide(&claims(None), &config),
            Decision::Deny(DenyReason::HostedDomainNotAllowed(None))
        );
    }

    #[test]
    fn allow_response_has_the_exact_shape_api_gateway_expects() {
        let resource = "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/*/*".to_owned();
        let json = serde_json::to_value(response(
            &claims(Some("example.com")),
            &Decision::Allow,
            resource,
        ))
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "principalId": "110169484474386276334",
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": ["execute-api:Invoke"],
                        "Effect": "Allow",
                        "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:abc/prod/*/*"]
                    }]
                },
                "context": {
                    "name": "Jane Doe",
                    "sub": "110169484474386276334",
                    "email": "jane@example.com",
                    "emailVerified": true,
                    "hostedDomain": "example.com"
                },
                "usageIdentifierKey": null
            })
        );
    }

    #[test]
    fn deny_response_carries_no_context() {
        let decision = Decision::Deny(DenyReason::HostedDomainNotAllowed(None));
        let json = serde_json::to_value(response(&claims(None), &decision, "r".into())).unwrap();
        assert_eq!(json["policyDocument"]["Statement"][0]["Effect"], "Deny");
        assert_eq!(json["context"], serde_json::json!({}));
        assert_eq!(json["principalId"], "110169484474386276334");
    }

    #[test]
    fn name_falls_back_to_given_and_family_name_then_verified_email_then_sub() {
        let mut c = claims(None);
        c.name = Some("  ".into());
        c.given_name = Some("Jane".into());
        c.family_name = Some("Doe".into());
        assert_eq!(c.display_name(), "Jane Doe");
        c.given_name = None;
        c.family_name = None;
        assert_eq!(c.display_name(), "jane@example.com");
        c.email = None;
        assert_eq!(c.display_name(), "110169484474386276334");
    }

    #[test]
    fn name_never_falls_back_to_an_unverified_email() {
        let mut c = claims(None);
        c.name = None;
        for verified in [Some(false), None] {
            c.email_verified = verified;
            assert_eq!(c.display_name(), "110169484474386276334", "{verified:?}");
        }
    }

    #[test]
    fn context_carries_the_email_only_when_it_is_verified() {
        let resource = "r".to_owned();
        let mut c = claims(None);
        for (verified, email) in [
            (Some(true), Some("jane@example.com")),
            (Some(false), None),
            (None, None),
        ] {
            c.email_verified = verified;
            let json =
                serde_json::to_value(response(&c, &Decision::Allow, resource.clone())).unwrap();
            assert_eq!(
                json["context"].get("email").and_then(Value::as_str),
                email,
                "{verified:?}"
            );
            assert_eq!(
                json["context"]
                    .get("emailVerified")
                    .and_then(Value::as_bool),
                verified,
                "{verified:?}"
            );
            assert_eq!(json["context"]["name"], "Jane Doe");
        }
    }
}
