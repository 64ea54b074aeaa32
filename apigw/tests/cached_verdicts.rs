//! A cached decision is one policy, evaluated for each method it is used on: the gateway
//! remembers each method's verdict, and a policy that allows one method and not another
//! keeps doing so from the cache (one invocation), per method. Called in process.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use apigw::gateway::{Gateway, app};
use apigw::lambda::from_fn;
use apigw::{ApiDefinition, LambdaFunction};
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;

mod common;
use common::settings;

const URI: &str = "{'Fn::Sub': 'arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${AuthorizerFunction.Arn}/invocations'}";
const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod";

fn definition() -> String {
    let route = |path: &str| {
        format!(
            "  {path}:\n    get:\n      security: [{{A: []}}]\n      responses: {{'200': {{description: ok}}}}\n      x-amazon-apigateway-integration: {{type: mock, requestTemplates: {{application/json: '{{\"statusCode\": 200}}'}}, responses: {{default: {{statusCode: '200', responseTemplates: {{application/json: '{path}'}}}}}}}}\n"
        )
    };
    format!(
        "paths:\n{}{}{}components:\n  securitySchemes:\n    A:\n      type: apiKey\n      name: Authorization\n      in: header\n      x-amazon-apigateway-authorizer: {{type: token, authorizerUri: {URI}, authorizerResultTtlInSeconds: 300}}\n",
        route("/allowed"),
        route("/denied"),
        route("/open/{id}"),
    )
}

#[tokio::test]
async fn one_cached_policy_keeps_allowing_one_method_and_denying_another() {
    let invoked = Arc::new(AtomicUsize::new(0));
    let count = invoked.clone();
    // Allows GET /allowed and GET /open/*, says nothing of GET /denied.
    let authorizer: Arc<dyn LambdaFunction> = from_fn(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(json!({
            "principalId": "user-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [
                    format!("{ARN}/GET/allowed"), format!("{ARN}/GET/open/*")
                ]}
            ]}
        })))
    });
    let gateway = Arc::new(Gateway::new(settings(
        ApiDefinition::parse(&definition(), "test.yaml").unwrap(),
        [("AuthorizerFunction", authorizer)],
    )));
    let router = app(gateway.clone());
    let mut seen = Vec::new();
    for path in [
        "/prod/allowed",
        "/prod/denied",
        "/prod/open/1",
        "/prod/allowed",
        "/prod/denied",
        "/prod/open/2",
    ] {
        let request = Request::get(path)
            .header("authorization", "Bearer t")
            .body(Body::empty())
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        seen.push((path, status, String::from_utf8(body.to_vec()).unwrap()));
    }
    let denied = r#"{"message":"User is not authorized to access this resource"}"#;
    assert_eq!(
        seen,
        [
            ("/prod/allowed", StatusCode::OK, "/allowed".to_owned()),
            ("/prod/denied", StatusCode::FORBIDDEN, denied.to_owned()),
            ("/prod/open/1", StatusCode::OK, "/open/{id}".to_owned()),
            ("/prod/allowed", StatusCode::OK, "/allowed".to_owned()),
            ("/prod/denied", StatusCode::FORBIDDEN, denied.to_owned()),
            ("/prod/open/2", StatusCode::OK, "/open/{id}".to_owned()),
        ]
    );
    assert_eq!(invoked.load(Ordering::SeqCst), 1, "one decision, cached");
}
