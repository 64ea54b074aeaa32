//! The request a template is rendered for.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Overrides;

/// Everything a request mapping template can see of one request: the values behind
/// `$context`, `$stageVariables` and `$input`.
///
/// Built by whoever plays API Gateway (the local emulator, the `render-template` command,
/// the tests). Fields map to template variables as follows:
///
/// | field             | template                                                |
/// |-------------------|---------------------------------------------------------|
/// | `authorizer`      | `$context.authorizer.<key>` (include `principalId`)     |
/// | `stage`           | `$context.stage`                                        |
/// | `request_id`      | `$context.requestId`                                    |
/// | `http_method`     | `$context.httpMethod`                                   |
/// | `resource_path`   | `$context.resourcePath` (the resource, e.g. `/hello`)   |
/// | `path`            | `$context.path` (the request path, e.g. `/prod/hello`)  |
/// | `source_ip`       | `$context.identity.sourceIp`                            |
/// | `user_agent`      | `$context.identity.userAgent`                           |
/// | `stage_variables` | `$stageVariables.<name>`                                |
/// | `body`            | `$input.body`, `$input.json(..)`, `$input.path(..)`     |
/// | `path_params`     | `$input.params('x')`, `$input.params().path`            |
/// | `query`           | `$input.params('x')`, `$input.params().querystring`     |
/// | `headers`         | `$input.params('x')`, `$input.params().header`          |
/// | `error`           | `$context.error.<key>` (gateway response templates)     |
///
/// The other `$context` variables of REST APIs come from [`RenderContext::facts`]
/// when whoever plays API Gateway gives them (the emulator does); otherwise they are
/// derived, as a render without a stage has no account or deployment: `accountId` `000000000000`; `apiId` and `domainPrefix`
/// `localapi00`; `domainName` the `Host` header (else `localapi00.execute-api.localhost`,
/// and then `domainPrefix` is its first label); `resourceId` and `deploymentId` six
/// characters derived from the resource path and the stage; `extendedRequestId` derived
/// from the request ID; `requestTime` (`01/Dec/2026:19:14:11 +0000`) and
/// `requestTimeEpoch` the time of rendering; `protocol` `HTTP/1.1`; `isCanaryRequest`,
/// `wafResponseCode`, `webaclArn`, `awsEndpointRequestId` null. `$context.identity.*`
/// other than `sourceIp` and `userAgent` are null, as AWS gives them for a caller
/// without an IAM identity (LocalStack's aws-validated
/// `test_apigateway_lambda.snapshot.json`: `accessKey`, `accountId`, `caller`, ...
/// `userArn` all null).
///
/// The authorizer's context values are strings here: API Gateway hands numbers and
/// booleans to templates in their string form (`42`, `true`) too. It and the stage
/// variables are shared (`Arc`): the same for many requests (a cached decision, one
/// stage), they were the most allocations of building a context per request. The
/// text values may borrow from whoever builds the context (`Cow`: `"prod".into()` or a
/// `String` both do), for the same reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderContext<'a> {
    /// The Lambda authorizer's `context` map, plus `principalId`.
    pub authorizer: Arc<BTreeMap<String, String>>,
    /// The stage name, e.g. `prod`.
    pub stage: Cow<'a, str>,
    /// The request ID API Gateway assigned.
    pub request_id: Cow<'a, str>,
    /// The HTTP method, e.g. `GET`.
    pub http_method: Cow<'a, str>,
    /// The resource path, e.g. `/hello`.
    pub resource_path: Cow<'a, str>,
    /// The full request path including the stage, e.g. `/prod/hello`.
    pub path: Cow<'a, str>,
    /// The caller's IP address.
    pub source_ip: Cow<'a, str>,
    /// The caller's `User-Agent`.
    pub user_agent: Cow<'a, str>,
    /// The stage variables.
    pub stage_variables: Arc<BTreeMap<String, String>>,
    /// The raw request body (empty when there is none).
    pub body: Cow<'a, str>,
    /// Path parameters, e.g. `id` for `/pets/{id}`.
    pub path_params: BTreeMap<String, String>,
    /// Query string parameters (the last value of a repeated one, as API Gateway does).
    pub query: BTreeMap<String, String>,
    /// Request headers. `$input.params('x')` looks names up case-insensitively;
    /// `$input.params().header.get('x')` is an exact map lookup, as in Java.
    pub headers: BTreeMap<String, String>,
    /// What gateway response templates read as `$context.error`: `message`,
    /// `messageString` (the message as a JSON string, or `null`), `responseType` and
    /// `validationErrorString`. Empty for request templates.
    pub error: BTreeMap<String, String>,
    /// What `$context.requestOverride` and `$context.responseOverride` hold before the
    /// template assigns anything: API Gateway carries what the request template
    /// assigned on to the integration response's template (LocalStack's aws-validated
    /// `test_integration_mock_with_response_override_in_request_template` and
    /// `test_integration_mock_with_vtl_map_assignation`). Empty for a request template.
    pub overrides: Overrides,
    /// The deployment's and the request's `$context` values as the emulator knows
    /// them; `None`: the derived local values described above.
    pub facts: Option<RequestFacts<'a>>,
}

/// `$context` values only whoever plays API Gateway knows (see
/// [`RenderContext::facts`]). `domainName` and `domainPrefix` come from the `Host`
/// header either way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    /// `$context.accountId`.
    pub account_id: Cow<'a, str>,
    /// `$context.apiId` (also in `domainName` when there is no `Host` header).
    pub api_id: Cow<'a, str>,
    /// `$context.resourceId`.
    pub resource_id: Cow<'a, str>,
    /// `$context.deploymentId`.
    pub deployment_id: Cow<'a, str>,
    /// `$context.extendedRequestId` (API Gateway's `x-amz-apigw-id`).
    pub extended_request_id: Cow<'a, str>,
    /// `$context.requestTimeEpoch` in milliseconds; `$context.requestTime` is the same
    /// instant in Common Log Format.
    pub request_time_epoch_ms: u64,
    /// `$context.protocol`, e.g. `HTTP/1.1`.
    pub protocol: Cow<'a, str>,
}

impl RenderContext<'_> {
    /// A context with only the authorizer's `name` set: what the deployed template reads.
    pub fn with_name(name: impl Into<String>) -> Self {
        let mut context = RenderContext::default();
        Arc::make_mut(&mut context.authorizer).insert("name".to_owned(), name.into());
        context
    }
}
