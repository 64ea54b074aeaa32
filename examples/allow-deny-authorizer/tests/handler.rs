//! The handler, called directly with REQUEST events shaped as API Gateway sends them.

use allow_deny_authorizer::{AuthorizerError, function_handler};
use authorizer_contract::UNAUTHORIZED;
use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{Value, json};

const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/GET/hello";

/// A REQUEST event for `GET /hello` with these header maps (AWS, "Input to an API
/// Gateway Lambda authorizer", REQUEST input format).
fn event(
    headers: Value,
    multi_value_headers: Value,
) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    serde_json::from_value(json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/hello",
        "path": "/hello",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {
            "path": "/prod/hello",
            "accountId": "123456789012",
            "resourceId": "a1b2c3",
            "stage": "prod",
            "requestId": "0f6d2a3e-6c9e-4a4b-9d55-0123456789ab",
            "identity": {"sourceIp": "203.0.113.7"},
            "resourcePath": "/hello",
            "httpMethod": "GET",
            "apiId": "abcdef123"
        }
    }))
    .unwrap()
}

/// The header as API Gateway puts it in both maps.
fn with_header(name: &str, value: &str) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    event(
        json!({ name: value, "Accept": "*/*" }),
        json!({ name: [value], "Accept": ["*/*"] }),
    )
}

async fn authorize(
    request: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<Value, AuthorizerError> {
    function_handler(LambdaEvent::new(request, Context::default()))
        .await
        .map(|response| serde_json::to_value(response).unwrap())
}

fn answer(effect: &str) -> Value {
    json!({
        "principalId": "user",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": ["execute-api:Invoke"], "Effect": effect, "Resource": [METHOD_ARN]}]
        },
        "context": {"stringKey": "value", "numberKey": 1, "booleanKey": true},
        "usageIdentifierKey": null
    })
}

#[tokio::test]
async fn allow_gets_an_allow_policy_for_the_method() {
    assert_eq!(
        authorize(with_header("AuthorizationToken", "allow")).await,
        Ok(answer("Allow"))
    );
}

#[tokio::test]
async fn deny_gets_a_deny_policy_for_the_method() {
    assert_eq!(
        authorize(with_header("AuthorizationToken", "deny")).await,
        Ok(answer("Deny"))
    );
}

#[tokio::test]
async fn any_other_value_is_unauthorized() {
    for value in [
        "",
        "unauthorized",
        "Allow",
        "DENY",
        "allow ",
        "allowed",
        "é",
    ] {
        assert_eq!(
            authorize(with_header("AuthorizationToken", value)).await,
            Err(AuthorizerError::Unauthorized),
            "{value:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_header_is_unauthorized() {
    for request in [
        event(json!({"Accept": "*/*"}), json!({"Accept": ["*/*"]})),
        event(json!(null), json!(null)),
        // The token under another header, or in the query string, is not the token.
        with_header("Authorization", "allow"),
        {
            let mut request = event(json!({}), json!({}));
            request.query_string_parameters =
                serde_json::from_value(json!({"AuthorizationToken": "allow"})).unwrap();
            request
        },
    ] {
        assert_eq!(authorize(request).await, Err(AuthorizerError::Unauthorized));
    }
}

#[tokio::test]
async fn the_header_name_is_read_in_any_case_from_either_map() {
    for name in [
        "AuthorizationToken",
        "authorizationtoken",
        "AUTHORIZATIONTOKEN",
    ] {
        assert_eq!(
            authorize(with_header(name, "allow")).await,
            Ok(answer("Allow")),
            "{name}"
        );
    }
    assert_eq!(
        authorize(event(json!({}), json!({"authorizationtoken": ["deny"]}))).await,
        Ok(answer("Deny"))
    );
    assert_eq!(
        authorize(event(json!({"AuthorizationToken": "allow"}), json!({}))).await,
        Ok(answer("Allow"))
    );
}

#[tokio::test]
async fn two_different_values_are_unauthorized() {
    for request in [
        event(
            json!({"AuthorizationToken": "allow"}),
            json!({"AuthorizationToken": ["deny", "allow"]}),
        ),
        event(
            json!({"AuthorizationToken": "allow"}),
            json!({"AuthorizationToken": ["deny"]}),
        ),
    ] {
        assert_eq!(authorize(request).await, Err(AuthorizerError::Unauthorized));
    }
    // The same value twice is one token.
    assert_eq!(
        authorize(event(
            json!({"AuthorizationToken": "allow"}),
            json!({"AuthorizationToken": ["allow", "allow"]}),
        ))
        .await,
        Ok(answer("Allow"))
    );
}

#[tokio::test]
async fn an_event_without_a_method_arn_is_a_server_error() {
    let mut request = with_header("AuthorizationToken", "allow");
    request.method_arn = None;
    assert_eq!(
        authorize(request).await,
        Err(AuthorizerError::MissingMethodArn)
    );
}

#[test]
fn errors_reach_api_gateway_with_the_names_it_maps() {
    assert_eq!(
        Diagnostic::from(AuthorizerError::Unauthorized),
        Diagnostic {
            error_type: UNAUTHORIZED.into(),
            error_message: UNAUTHORIZED.into()
        }
    );
    assert_eq!(
        Diagnostic::from(AuthorizerError::MissingMethodArn),
        Diagnostic {
            error_type: "InvalidEvent".into(),
            error_message: "the event has no methodArn, so there is nothing to write a policy for"
                .into()
        }
    );
}
