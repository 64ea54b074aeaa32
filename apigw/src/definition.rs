//! The API definition (`openapi.yaml`), read once and compiled into what the emulator
//! runs: routes, the TOKEN authorizer's settings, integrations with their parsed mapping
//! templates and selection patterns, and the gateway responses.
//!
//! Only what API Gateway would accept and the emulator reproduces is accepted: anything
//! else is an error at start-up naming the place in the document, never a silent
//! difference from AWS.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use authorizer_contract::MethodArn;
use authorizer_contract::method_arn::Parts as MethodArnParts;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use mapping::Template;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use crate::Error;

/// The deployed API definition, embedded at build time so the stack always runs the file
/// in this checkout (`cargo run` rebuilds when it changes).
pub const EMBEDDED_OPENAPI: &str = include_str!("../../openapi.yaml");

/// The name used in messages for [`EMBEDDED_OPENAPI`].
pub const EMBEDDED_NAME: &str = "openapi.yaml (embedded)";

/// API Gateway's limit on `authorizerResultTtlInSeconds`.
pub const MAX_AUTHORIZER_TTL_SECONDS: u32 = 3600;

/// The deployed site's origin as openapi.yaml writes it for CloudFormation, inside a
/// `Fn::Sub` of a static header value (`'https://${SiteDistribution.DomainName}'`).
/// The emulator puts the local site's origin in its place; any other `Fn::Sub` in a
/// header value is refused.
pub const SITE_ORIGIN_SUB: &str = "https://${SiteDistribution.DomainName}";

/// API Gateway's default (and, without a quota increase, largest) `timeoutInMillis`.
pub const DEFAULT_INTEGRATION_TIMEOUT_MS: u64 = 29_000;

/// API Gateway's default `authorizerResultTtlInSeconds` when the definition sets none.
const DEFAULT_AUTHORIZER_TTL_SECONDS: u32 = 300;

/// A compiled API definition.
#[derive(Debug)]
pub struct ApiDefinition {
    /// `info.title`.
    pub title: String,
    pub(crate) routes: Vec<Route>,
    pub(crate) authorizers: BTreeMap<String, AuthorizerDef>,
    pub(crate) gateway_responses: BTreeMap<String, GatewayResponseDef>,
}

/// One resource path and its methods.
#[derive(Debug)]
pub(crate) struct Route {
    /// The resource path as written, e.g. `/hello` or `/pets/{id}`.
    pub path: String,
    /// Its `$context.resourceId` ([`resource_id`]), made once.
    pub resource_id: String,
    segments: Vec<Segment>,
    /// By upper-case method, or `ANY` for `x-amazon-apigateway-any-method`.
    pub methods: BTreeMap<String, Operation>,
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: the rest of the path.
    Greedy(String),
}

/// One method of a resource.
#[derive(Debug)]
pub(crate) struct Operation {
    /// The name of the custom authorizer that protects it, if any.
    pub authorizer: Option<String>,
    pub integration: Integration,
    /// Its method ARN, made by the first request ([`RouteMatch::method_arn`]).
    method_arn: OnceLock<MethodArn>,
}

/// `x-amazon-apigateway-integration`.
#[derive(Debug)]
pub(crate) struct Integration {
    pub kind: IntegrationKind,
    pub passthrough: Passthrough,
    /// By content type.
    pub request_templates: BTreeMap<String, Template>,
    /// Responses with a selection pattern, in document order of their keys.
    pub responses: Vec<IntegrationResponse>,
    /// The `default` response.
    pub default_response: Option<IntegrationResponse>,
    /// `timeoutInMillis`: past it API Gateway answers 504 (INTEGRATION_TIMEOUT).
    pub timeout: Duration,
    /// What its templates read ([`TemplatesRead`]), worked out at load.
    pub reads: TemplatesRead,
}

/// What an integration's templates (request, and responses', which render with the
/// same request) may read, so the gateway builds no more of a request's context than
/// that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TemplatesRead {
    /// Any may read `$input.params` ([`Template::reads_params`]).
    pub params: bool,
    /// Every one reads only the authorizer's context ([`Template::reads_only_authorizer`]):
    /// not even the `Host` header (`$context.domainName`).
    pub only_authorizer: bool,
}

impl TemplatesRead {
    /// What `templates` (all of an integration's) read.
    fn of<'a>(templates: impl Iterator<Item = &'a Template> + Clone) -> Self {
        TemplatesRead {
            params: templates.clone().any(Template::reads_params),
            only_authorizer: templates.clone().all(Template::reads_only_authorizer),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IntegrationKind {
    /// `type: aws` with a Lambda `uri`: the function's logical name (e.g. `HelloFunction`).
    Lambda { function: String },
    /// `type: mock`.
    Mock,
}

/// `passthroughBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Passthrough {
    WhenNoMatch,
    WhenNoTemplates,
    Never,
}

/// One entry of an integration's `responses`.
#[derive(Debug)]
pub(crate) struct IntegrationResponse {
    /// The key in the document (`default` or the pattern), for logs.
    pub key: String,
    /// The selection pattern, anchored at both ends (API Gateway matches the whole
    /// `errorMessage`, as Java's `Pattern.matches` does).
    pub pattern: Option<Regex>,
    pub status: StatusCode,
    pub parameters: Vec<(HeaderName, ValueSource)>,
    /// By content type.
    pub templates: BTreeMap<String, Template>,
}

/// Where a mapped header value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueSource {
    /// `'text'`, checked once as a header value.
    Static(HeaderValue),
    /// `stageVariables.name`.
    StageVariable(String),
    /// `method.request.header.name`.
    RequestHeader(String),
    /// `context.requestId` and friends.
    Context(String),
    /// `{Fn::Sub: "'https://${SiteDistribution.DomainName}'"}`: the site's origin.
    SiteOrigin,
}

/// A Lambda authorizer from `components.securitySchemes`.
#[derive(Debug)]
pub(crate) struct AuthorizerDef {
    /// The function's logical name (e.g. `AuthorizerFunction`).
    pub function: String,
    /// `authorizerResultTtlInSeconds`.
    pub ttl_seconds: u32,
    pub kind: AuthorizerKind,
}

/// What the authorizer is sent, and what its decision is cached by.
#[derive(Debug)]
pub(crate) enum AuthorizerKind {
    /// `type: token`: one header, copied into `authorizationToken`.
    Token {
        /// The request header that holds the token (`method.request.header.X`), as
        /// written (for messages).
        header: String,
        /// [`AuthorizerKind::Token::header`], parsed once.
        header_name: HeaderName,
        /// `identityValidationExpression`, anchored at both ends.
        validation: Option<Regex>,
    },
    /// `type: request`: the whole request; `identitySource` is the cache key.
    Request { sources: Vec<IdentitySource> },
}

/// One mapping expression of a REQUEST authorizer's `identitySource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdentitySource {
    /// `method.request.header.X`.
    Header(String),
    /// `method.request.multivalueheader.X`.
    MultiValueHeader(String),
    /// `method.request.querystring.X`.
    QueryString(String),
    /// `method.request.multivaluequerystring.X`.
    MultiValueQueryString(String),
    /// `stageVariables.X`.
    StageVariable(String),
    /// `context.X`, one of [`CONTEXT_IDENTITY_SOURCES`].
    Context(String),
}

/// One entry of `x-amazon-apigateway-gateway-responses`.
#[derive(Debug)]
pub(crate) struct GatewayResponseDef {
    pub status: Option<StatusCode>,
    pub parameters: Vec<(HeaderName, ValueSource)>,
    pub templates: BTreeMap<String, Template>,
}

/// A route lookup: the operation and the path parameters.
#[derive(Debug)]
pub(crate) struct RouteMatch<'a> {
    pub route: &'a Route,
    pub operation: &'a Operation,
    pub path_params: BTreeMap<String, String>,
}

impl RouteMatch<'_> {
    /// The request's method ARN, as `parts` make it. Most requests for an operation have
    /// the same one (any request for a route without parameters): the operation keeps the
    /// first request's and clones it while the parts are the same, which saves a
    /// request's formatting (load bench).
    pub fn method_arn(&self, parts: MethodArnParts<'_>) -> MethodArn {
        let first = self
            .operation
            .method_arn
            .get_or_init(|| MethodArn::new(parts));
        if first.parts() == parts {
            first.clone()
        } else {
            MethodArn::new(parts)
        }
    }
}

impl ApiDefinition {
    /// The definition this checkout deploys ([`EMBEDDED_OPENAPI`]).
    pub fn embedded() -> Result<Self, Error> {
        Self::parse(EMBEDDED_OPENAPI, EMBEDDED_NAME)
    }

    /// Reads and compiles a definition file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadDefinition {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Compiles a definition from its YAML (or JSON) text; `source_name` is for messages.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, Error> {
        let fail = |detail: String| Error::Definition {
            source_name: source_name.to_owned(),
            detail,
        };
        let document: Value = serde_norway::from_str(text).map_err(|e| fail(e.to_string()))?;
        compile(&document).map_err(|e| match e {
            Problem::Invalid(detail) => fail(detail),
            Problem::NotEmulated { what, emulated } => Error::NotEmulated { what, emulated },
        })
    }

    /// The TTL the definition gives the authorizer `name`.
    pub fn authorizer_ttl_seconds(&self, name: &str) -> Option<u32> {
        self.authorizers.get(name).map(|a| a.ttl_seconds)
    }

    /// The REQUEST authorizers with no identity source: they cannot be cached (API
    /// Gateway requires an identity source when caching is on).
    pub fn uncacheable_authorizers(&self) -> Vec<String> {
        self.authorizers
            .iter()
            .filter(|(_, a)| matches!(&a.kind, AuthorizerKind::Request { sources } if sources.is_empty()))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether anything it serves hands on request header names as the client spelled
    /// them ([`crate::header_names`]): a template that may read `$input.params`, or a
    /// REQUEST authorizer's event. Only then need the server record them.
    pub fn reads_header_names(&self) -> bool {
        let templates = self
            .routes
            .iter()
            .flat_map(|r| r.methods.values())
            .any(|op| op.integration.reads.params);
        let events = self
            .authorizers
            .values()
            .any(|a| matches!(a.kind, AuthorizerKind::Request { .. }));
        templates || events
    }

    /// Every Lambda function the definition invokes, by logical name.
    pub fn functions(&self) -> BTreeSet<String> {
        let integrations = self
            .routes
            .iter()
            .flat_map(|r| r.methods.values())
            .filter_map(|op| match &op.integration.kind {
                IntegrationKind::Lambda { function } => Some(function.clone()),
                IntegrationKind::Mock => None,
            });
        let authorizers = self.authorizers.values().map(|a| a.function.clone());
        integrations.chain(authorizers).collect()
    }

    /// The resource paths and their methods, e.g. `("/hello", ["GET", "OPTIONS"])`.
    pub fn routes(&self) -> Vec<(String, Vec<String>)> {
        self.routes
            .iter()
            .map(|r| (r.path.clone(), r.methods.keys().cloned().collect()))
            .collect()
    }

    /// The request template of `method path` for `content_type`, as written.
    pub fn request_template(&self, method: &str, path: &str, content_type: &str) -> Option<&str> {
        let route = self.routes.iter().find(|r| r.path == path)?;
        let operation = route.methods.get(method)?;
        operation
            .integration
            .request_templates
            .get(content_type)
            .map(Template::source)
    }

    /// Finds the operation for a resource path (without the stage) and method. API
    /// Gateway prefers literal segments over parameters, and parameters over `{x+}`.
    ///
    /// One trailing slash is ignored: `/prod/hello/` reaches `/hello`, as AWS answered
    /// in LocalStack's AWS-validated snapshot `invocation-payload-with-trailing-slash`
    /// (tests/aws/services/apigateway/test_apigateway_lambda.snapshot.json: the request
    /// `/proxy-value/` matched with `pathParameters.proxy` `proxy-value`, while `path`
    /// kept the slash).
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => trimmed,
            _ => path,
        };
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(u32, RouteMatch<'_>)> = None;
        for route in &self.routes {
            let Some((score, path_params)) = route.matches(&parts) else {
                continue;
            };
            let Some(operation) = route
                .methods
                .get(method)
                .or_else(|| route.methods.get("ANY"))
            else {
                continue;
            };
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((
                    score,
                    RouteMatch {
                        route,
                        operation,
                        path_params,
                    },
                ));
            }
        }
        best.map(|(_, m)| m)
    }
}

impl Route {
    /// Whether the request path's segments fit this route; the score ranks literal
    /// matches above parameters.
    fn matches(&self, parts: &[&str]) -> Option<(u32, BTreeMap<String, String>)> {
        let mut params = BTreeMap::new();
        let mut score = 0;
        // The root resource `/` has no segments; a request for `/` splits into [""].
        let parts: &[&str] = if parts == [""] { &[] } else { parts };
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Greedy(name) => {
                    let rest = parts.get(i..).filter(|r| !r.is_empty())?;
                    params.insert(name.clone(), rest.join("/"));
                    return Some((score, params));
                }
                Segment::Literal(literal) => {
                    if parts.get(i) != Some(&literal.as_str()) {
                        return None;
                    }
                    score += 2;
                }
                Segment::Param(name) => {
                    let part = parts.get(i).filter(|p| !p.is_empty())?;
                    params.insert(name.clone(), (*part).to_owned());
                    score += 1;
                }
            }
        }
        (parts.len() == self.segments.len()).then_some((score, params))
    }
}

/// Why a document was refused.
#[derive(Debug)]
enum Problem {
    Invalid(String),
    NotEmulated { what: String, emulated: String },
}

fn not_emulated(what: impl Into<String>, emulated: impl Into<String>) -> Problem {
    Problem::NotEmulated {
        what: what.into(),
        emulated: emulated.into(),
    }
}

fn invalid(at: &str, detail: impl std::fmt::Display) -> Problem {
    Problem::Invalid(format!("{at}: {detail}"))
}

// The raw shapes, as API Gateway's OpenAPI import reads them. Unknown fields (summary,
// schemas, ...) are ignored, as API Gateway ignores what it does not use.

#[derive(Deserialize)]
struct RawDocument {
    #[serde(default)]
    info: Option<RawInfo>,
    #[serde(default)]
    paths: BTreeMap<String, BTreeMap<String, Value>>,
    #[serde(default)]
    security: Option<Value>,
    #[serde(default)]
    components: Option<RawComponents>,
    #[serde(rename = "x-amazon-apigateway-gateway-responses", default)]
    gateway_responses: BTreeMap<String, RawGatewayResponse>,
}

#[derive(Deserialize)]
struct RawInfo {
    #[serde(default)]
    title: String,
}

#[derive(Deserialize)]
struct RawComponents {
    #[serde(rename = "securitySchemes", default)]
    security_schemes: BTreeMap<String, RawSecurityScheme>,
}

#[derive(Deserialize)]
struct RawSecurityScheme {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "in", default)]
    location: Option<String>,
    #[serde(rename = "x-amazon-apigateway-authorizer", default)]
    authorizer: Option<RawAuthorizer>,
}

#[derive(Deserialize)]
struct RawAuthorizer {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "authorizerUri")]
    uri: Value,
    #[serde(rename = "authorizerResultTtlInSeconds", default)]
    ttl: Option<Value>,
    #[serde(rename = "identitySource", default)]
    identity_source: Option<String>,
    #[serde(rename = "identityValidationExpression", default)]
    validation: Option<String>,
}

#[derive(Deserialize)]
struct RawOperation {
    #[serde(default)]
    security: Option<Vec<BTreeMap<String, Value>>>,
    #[serde(default)]
    responses: BTreeMap<String, RawMethodResponse>,
    #[serde(rename = "x-amazon-apigateway-integration")]
    integration: Option<RawIntegration>,
}

#[derive(Deserialize)]
struct RawMethodResponse {
    #[serde(default)]
    headers: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RawIntegration {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    uri: Option<Value>,
    #[serde(rename = "passthroughBehavior", default)]
    passthrough: Option<String>,
    #[serde(rename = "requestTemplates", default)]
    request_templates: BTreeMap<String, String>,
    #[serde(default)]
    responses: BTreeMap<String, RawIntegrationResponse>,
    #[serde(rename = "timeoutInMillis", default)]
    timeout_ms: Option<Value>,
}

#[derive(Deserialize)]
struct RawIntegrationResponse {
    #[serde(rename = "statusCode")]
    status: Value,
    #[serde(rename = "responseParameters", default)]
    parameters: BTreeMap<String, Value>,
    #[serde(rename = "responseTemplates", default)]
    templates: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawGatewayResponse {
    #[serde(rename = "statusCode", default)]
    status: Option<Value>,
    #[serde(rename = "responseParameters", default)]
    parameters: BTreeMap<String, Value>,
    #[serde(rename = "responseTemplates", default)]
    templates: BTreeMap<String, String>,
}

/// The HTTP methods an OpenAPI path item may hold, and API Gateway's "any".
const METHODS: [&str; 8] = [
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "x-amazon-apigateway-any-method",
];

fn compile(document: &Value) -> Result<ApiDefinition, Problem> {
    let raw: RawDocument =
        serde_json::from_value(document.clone()).map_err(|e| invalid("the document", e))?;
    // AWS: "API Gateway doesn't support the API level security field. You have to apply
    // it per method." (amazon-archives/aws-apigateway-importer issue 204). Emulating it
    // would protect routes locally that are open in AWS.
    if raw.security.is_some() {
        return Err(invalid(
            "security",
            "API Gateway ignores a root-level security (it applies only each operation's own), so these routes would be open in AWS; put `security` on each operation instead",
        ));
    }

    let mut authorizers = BTreeMap::new();
    if let Some(components) = &raw.components {
        for (name, scheme) in &components.security_schemes {
            let at = format!("components.securitySchemes.{name}");
            if let Some(def) = compile_authorizer(&at, scheme)? {
                authorizers.insert(name.clone(), def);
            }
        }
    }

    let mut routes = Vec::new();
    for (path, item) in &raw.paths {
        let at = format!("paths.{path}");
        let segments = compile_path(&at, path)?;
        let mut methods = BTreeMap::new();
        for (key, value) in item {
            let key_lower = key.to_ascii_lowercase();
            if !METHODS.contains(&key_lower.as_str()) {
                continue; // summary, parameters, ...
            }
            let at = format!("{at}.{key}");
            let method = if key_lower == "x-amazon-apigateway-any-method" {
                "ANY".to_owned()
            } else {
                key_lower.to_ascii_uppercase()
            };
            let raw_op: RawOperation =
                serde_json::from_value(value.clone()).map_err(|e| invalid(&at, e))?;
            let operation = compile_operation(&at, raw_op, &authorizers)?;
            methods.insert(method, operation);
        }
        routes.push(Route {
            path: path.clone(),
            resource_id: resource_id(path),
            segments,
            methods,
        });
    }

    let mut gateway_responses = BTreeMap::new();
    for (kind, response) in raw.gateway_responses {
        let at = format!("x-amazon-apigateway-gateway-responses.{kind}");
        let status = response
            .status
            .as_ref()
            .map(|s| status_code(&at, s))
            .transpose()?;
        let mut parameters = Vec::new();
        for (target, source) in &response.parameters {
            let header = target
                .strip_prefix("gatewayresponse.header.")
                .ok_or_else(|| {
                    invalid(
                        &at,
                        format!("{target} is not gatewayresponse.header.<name>"),
                    )
                })?;
            let value = value_source(&at, source)?;
            // "x-amazon-apigateway-gateway-responses.responseParameters object": values
            // come "from the incoming request parameters or using literal strings".
            if matches!(
                value,
                ValueSource::StageVariable(_) | ValueSource::Context(_)
            ) {
                return Err(invalid(
                    &at,
                    format!(
                        "{target}: a gateway response header takes a request parameter or a literal ('...' or the site-origin Fn::Sub), not {source}"
                    ),
                ));
            }
            parameters.push((header_name(&at, header)?, value));
        }
        let mut templates = BTreeMap::new();
        for (content_type, source) in &response.templates {
            let at = format!("{at}.responseTemplates.{content_type}");
            templates.insert(content_type.clone(), parse_gateway_template(&at, source)?);
        }
        gateway_responses.insert(
            kind,
            GatewayResponseDef {
                status,
                parameters,
                templates,
            },
        );
    }

    Ok(ApiDefinition {
        title: raw.info.map(|i| i.title).unwrap_or_default(),
        routes,
        authorizers,
        gateway_responses,
    })
}

fn compile_path(at: &str, path: &str) -> Result<Vec<Segment>, Problem> {
    if !path.starts_with('/') {
        return Err(invalid(at, "a path must start with /"));
    }
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = trimmed.split('/').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                match name.strip_suffix('+') {
                    Some(greedy) if i == last => Ok(Segment::Greedy(greedy.to_owned())),
                    Some(_) => Err(invalid(at, "{name+} must be the last segment")),
                    None => Ok(Segment::Param(name.to_owned())),
                }
            } else if part.is_empty() {
                Err(invalid(at, "empty path segment"))
            } else {
                Ok(Segment::Literal((*part).to_owned()))
            }
        })
        .collect()
}

fn compile_authorizer(
    at: &str,
    scheme: &RawSecurityScheme,
) -> Result<Option<AuthorizerDef>, Problem> {
    let Some(raw) = &scheme.authorizer else {
        return Ok(None);
    };
    if !raw.kind.eq_ignore_ascii_case("token") && !raw.kind.eq_ignore_ascii_case("request") {
        return Err(not_emulated(
            format!("a {} authorizer ({at})", raw.kind),
            "TOKEN and REQUEST Lambda authorizers",
        ));
    }
    let function = lambda_function(&format!("{at}.authorizerUri"), &raw.uri)?;
    let ttl_seconds = authorizer_ttl(at, raw.ttl.as_ref())?;
    if raw.kind.eq_ignore_ascii_case("request") {
        return compile_request_authorizer(at, raw, function, ttl_seconds).map(Some);
    }
    let header = match &raw.identity_source {
        Some(source) => source
            .strip_prefix("method.request.header.")
            .map(str::to_owned)
            .ok_or_else(|| {
                invalid(
                    at,
                    "a TOKEN authorizer's identitySource must be method.request.header.<name>",
                )
            })?,
        None => match (
            scheme.kind.as_str(),
            scheme.location.as_deref(),
            &scheme.name,
        ) {
            ("apiKey", Some("header"), Some(name)) => name.clone(),
            _ => {
                return Err(invalid(
                    at,
                    "a TOKEN authorizer needs `type: apiKey`, `in: header` and the header's `name`",
                ));
            }
        },
    };
    let validation = raw
        .validation
        .as_deref()
        .map(|pattern| anchored_regex(&format!("{at}.identityValidationExpression"), pattern))
        .transpose()?;
    let header_name = header_name(at, &header)?;
    Ok(Some(AuthorizerDef {
        function,
        ttl_seconds,
        kind: AuthorizerKind::Token {
            header,
            header_name,
            validation,
        },
    }))
}

fn authorizer_ttl(at: &str, ttl: Option<&Value>) -> Result<u32, Problem> {
    match ttl {
        None => Ok(DEFAULT_AUTHORIZER_TTL_SECONDS),
        Some(value) => value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= MAX_AUTHORIZER_TTL_SECONDS)
            .ok_or_else(|| {
                invalid(
                    at,
                    format!("authorizerResultTtlInSeconds must be 0 to {MAX_AUTHORIZER_TTL_SECONDS}, not {value}"),
                )
            }),
    }
}

/// A REQUEST authorizer. AWS (API reference, `Authorizer.identitySource`,
/// docs.aws.amazon.com/apigateway/latest/api/API_Authorizer.html): for REQUEST it is "a
/// comma-separated string of one or more mapping expressions"; "required when
/// authorization caching is enabled" and "optional" when it is not. The same page says
/// "The validation expression does not apply to the REQUEST authorizer", so an
/// `identityValidationExpression` here is ignored, as API Gateway ignores it.
fn compile_request_authorizer(
    at: &str,
    raw: &RawAuthorizer,
    function: String,
    ttl_seconds: u32,
) -> Result<AuthorizerDef, Problem> {
    let sources = raw
        .identity_source
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| identity_source(&format!("{at}.identitySource"), s))
        .collect::<Result<Vec<_>, _>>()?;
    if sources.is_empty() && ttl_seconds > 0 {
        return Err(invalid(
            at,
            format!(
                "a REQUEST authorizer with caching on (authorizerResultTtlInSeconds {ttl_seconds}) needs an identitySource, as API Gateway requires; set one, or set the TTL to 0"
            ),
        ));
    }
    Ok(AuthorizerDef {
        function,
        ttl_seconds,
        kind: AuthorizerKind::Request { sources },
    })
}

/// One mapping expression of a REQUEST authorizer's `identitySource`.
fn identity_source(at: &str, expression: &str) -> Result<IdentitySource, Problem> {
    type Make = fn(String) -> IdentitySource;
    let prefixes: [(&str, Make); 5] = [
        ("method.request.header.", IdentitySource::Header),
        (
            "method.request.multivalueheader.",
            IdentitySource::MultiValueHeader,
        ),
        ("method.request.querystring.", IdentitySource::QueryString),
        (
            "method.request.multivaluequerystring.",
            IdentitySource::MultiValueQueryString,
        ),
        ("stageVariables.", IdentitySource::StageVariable),
    ];
    for (prefix, make) in prefixes {
        if let Some(name) = expression.strip_prefix(prefix) {
            if name.is_empty() {
                return Err(invalid(at, format!("{expression:?} names nothing")));
            }
            return Ok(make(name.to_owned()));
        }
    }
    if let Some(name) = expression.strip_prefix("context.") {
        if CONTEXT_IDENTITY_SOURCES.contains(&name) {
            return Ok(IdentitySource::Context(name.to_owned()));
        }
        return Err(not_emulated(
            format!("the identity source {expression:?} ({at})"),
            format!("context.{}", CONTEXT_IDENTITY_SOURCES.join(", context.")),
        ));
    }
    Err(invalid(
        at,
        format!(
            "{expression:?} is not method.request.header.X, method.request.multivalueheader.X, method.request.querystring.X, method.request.multivaluequerystring.X, stageVariables.X or context.X"
        ),
    ))
}

impl IdentitySource {
    /// The mapping expression, as written in `identitySource`.
    pub(crate) fn expression(&self) -> String {
        match self {
            IdentitySource::Header(n) => format!("method.request.header.{n}"),
            IdentitySource::MultiValueHeader(n) => format!("method.request.multivalueheader.{n}"),
            IdentitySource::QueryString(n) => format!("method.request.querystring.{n}"),
            IdentitySource::MultiValueQueryString(n) => {
                format!("method.request.multivaluequerystring.{n}")
            }
            IdentitySource::StageVariable(n) => format!("stageVariables.{n}"),
            IdentitySource::Context(n) => format!("context.{n}"),
        }
    }
}

/// The `$context` variables an identity source may name here.
const CONTEXT_IDENTITY_SOURCES: [&str; 7] = [
    "requestId",
    "stage",
    "httpMethod",
    "resourcePath",
    "path",
    "identity.sourceIp",
    "identity.userAgent",
];

fn compile_operation(
    at: &str,
    raw: RawOperation,
    authorizers: &BTreeMap<String, AuthorizerDef>,
) -> Result<Operation, Problem> {
    let mut authorizer = None;
    for requirement in raw.security.iter().flatten() {
        for name in requirement.keys() {
            if !authorizers.contains_key(name) {
                return Err(not_emulated(
                    format!("the security scheme {name} at {at}, which is not a Lambda authorizer"),
                    "Lambda authorizers (x-amazon-apigateway-authorizer)",
                ));
            }
            if authorizer.replace(name.clone()).is_some() {
                return Err(not_emulated(
                    format!("more than one authorizer on one method ({at})"),
                    "one authorizer per method",
                ));
            }
        }
    }

    let integration_at = format!("{at}.x-amazon-apigateway-integration");
    let raw_integration = raw
        .integration
        .ok_or_else(|| invalid(at, "the method has no x-amazon-apigateway-integration"))?;
    let kind = match raw_integration.kind.to_ascii_lowercase().as_str() {
        "aws" => {
            let uri = raw_integration
                .uri
                .as_ref()
                .ok_or_else(|| invalid(&integration_at, "an aws integration needs a uri"))?;
            IntegrationKind::Lambda {
                function: lambda_function(&format!("{integration_at}.uri"), uri)?,
            }
        }
        "mock" => IntegrationKind::Mock,
        other => {
            return Err(not_emulated(
                format!("an integration of type {other} ({integration_at})"),
                "aws (Lambda, non-proxy) and mock integrations",
            ));
        }
    };
    let passthrough = match raw_integration
        .passthrough
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("when_no_match") => Passthrough::WhenNoMatch,
        Some("when_no_templates") => Passthrough::WhenNoTemplates,
        Some("never") => Passthrough::Never,
        Some(other) => {
            return Err(invalid(
                &integration_at,
                format!(
                    "passthroughBehavior {other:?} is not when_no_match, when_no_templates or never"
                ),
            ));
        }
    };
    let timeout = integration_timeout(&integration_at, raw_integration.timeout_ms.as_ref())?;
    let mut request_templates = BTreeMap::new();
    for (content_type, source) in &raw_integration.request_templates {
        let at = format!("{integration_at}.requestTemplates.{content_type}");
        request_templates.insert(content_type.clone(), parse_template(&at, source)?);
    }

    // Headers each method response declares: an integration response may only map those
    // (API Gateway refuses the import otherwise).
    let declared: BTreeMap<String, BTreeSet<String>> = raw
        .responses
        .iter()
        .map(|(status, r)| {
            let headers = r.headers.keys().map(|h| h.to_ascii_lowercase()).collect();
            (status.clone(), headers)
        })
        .collect();

    let mut responses = Vec::new();
    let mut default_response = None;
    for (key, raw_response) in &raw_integration.responses {
        let at = format!("{integration_at}.responses.{key:?}");
        let status = status_code(&at, &raw_response.status)?;
        let Some(headers) = declared.get(status.as_str()) else {
            return Err(invalid(
                &at,
                format!(
                    "statusCode {} has no method response under `responses`",
                    status.as_u16()
                ),
            ));
        };
        let mut parameters = Vec::new();
        for (target, source) in &raw_response.parameters {
            let header = target
                .strip_prefix("method.response.header.")
                .ok_or_else(|| {
                    invalid(
                        &at,
                        format!("{target} is not method.response.header.<name>"),
                    )
                })?;
            if !headers.contains(&header.to_ascii_lowercase()) {
                return Err(invalid(
                    &at,
                    format!(
                        "{target} is not declared in the {} method response's headers",
                        status.as_u16()
                    ),
                ));
            }
            parameters.push((header_name(&at, header)?, value_source(&at, source)?));
        }
        let mut templates = BTreeMap::new();
        for (content_type, source) in &raw_response.templates {
            let at = format!("{at}.responseTemplates.{content_type}");
            templates.insert(content_type.clone(), parse_template(&at, source)?);
        }
        let pattern = if key == "default" {
            None
        } else {
            Some(anchored_regex(&at, key)?)
        };
        let response = IntegrationResponse {
            key: key.clone(),
            pattern,
            status,
            parameters,
            templates,
        };
        if response.pattern.is_none() {
            default_response = Some(response);
        } else {
            responses.push(response);
        }
    }

    Ok(Operation {
        authorizer,
        integration: Integration {
            reads: TemplatesRead::of(
                request_templates.values().chain(
                    responses
                        .iter()
                        .chain(&default_response)
                        .flat_map(|r| r.templates.values()),
                ),
            ),
            kind,
            passthrough,
            request_templates,
            responses,
            default_response,
            timeout,
        },
        method_arn: OnceLock::new(),
    })
}

/// The Lambda function a `uri`/`authorizerUri` invokes: the logical name in
/// `${Name.Arn}` of a `Fn::Sub`, or the function name of a literal ARN.
fn lambda_function(at: &str, uri: &Value) -> Result<String, Problem> {
    let text = match uri {
        Value::String(s) => s.as_str(),
        Value::Object(map) => match map.get("Fn::Sub") {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Array(items)) => items
                .first()
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(at, "Fn::Sub's first item must be a string"))?,
            _ => return Err(invalid(at, "expected a string or {Fn::Sub: ...}")),
        },
        _ => return Err(invalid(at, "expected a string or {Fn::Sub: ...}")),
    };
    let function = text
        .split_once("/functions/")
        .and_then(|(_, rest)| rest.strip_suffix("/invocations"))
        .ok_or_else(|| {
            invalid(
                at,
                format!("{text:?} is not a Lambda invocation URI (…/functions/<arn>/invocations)"),
            )
        })?;
    if let Some(name) = function
        .strip_prefix("${")
        .and_then(|f| f.strip_suffix(".Arn}"))
    {
        return Ok(name.to_owned());
    }
    function
        .rsplit_once(":function:")
        .map(|(_, name)| name.split(':').next().unwrap_or(name).to_owned())
        .ok_or_else(|| invalid(at, format!("cannot tell which function {function:?} names")))
}

/// `timeoutInMillis`: "between 50 and 29,000 milliseconds", default 29 s (API reference,
/// `Integration.timeoutInMillis`, docs.aws.amazon.com/apigateway/latest/api/API_Integration.html;
/// LocalStack's AWS-recorded snapshots show the default as `"timeoutInMillis": 29000`).
/// Regional APIs may ask AWS for a higher quota; the emulator keeps the default ceiling.
fn integration_timeout(at: &str, value: Option<&Value>) -> Result<Duration, Problem> {
    let Some(value) = value else {
        return Ok(Duration::from_millis(DEFAULT_INTEGRATION_TIMEOUT_MS));
    };
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .filter(|ms| (50..=DEFAULT_INTEGRATION_TIMEOUT_MS).contains(ms))
        .map(Duration::from_millis)
        .ok_or_else(|| {
            invalid(
                at,
                format!(
                    "timeoutInMillis must be 50 to {DEFAULT_INTEGRATION_TIMEOUT_MS}, not {value}"
                ),
            )
        })
}

fn parse_template(at: &str, source: &str) -> Result<Template, Problem> {
    Template::parse(source).map_err(|e| invalid(at, e))
}

/// A gateway response template, rendered once here with a sample `$context.error` so that
/// a misspelt property (`$context.error.mesage`) stops the stack at start-up instead of
/// turning a 401 into a 500 later.
fn parse_gateway_template(at: &str, source: &str) -> Result<Template, Problem> {
    let template = parse_template(at, source)?;
    let mut sample = mapping::RenderContext::default();
    let unauthorized = authorizer_contract::UNAUTHORIZED;
    for (key, value) in [
        ("message", unauthorized.to_owned()),
        ("messageString", format!("\"{unauthorized}\"")),
        ("responseType", "UNAUTHORIZED".to_owned()),
        ("validationErrorString", String::new()),
    ] {
        sample.error.insert(key.to_owned(), value);
    }
    template.render(&sample).map_err(|e| invalid(at, e))?;
    Ok(template)
}

/// A Java-style whole-string match. The `regex` crate differs from Java in corners these
/// patterns don't reach (e.g. Java's `.` also excludes `\r`, U+0085, U+2028, U+2029).
fn anchored_regex(at: &str, pattern: &str) -> Result<Regex, Problem> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| invalid(at, e))
}

fn status_code(at: &str, value: &Value) -> Result<StatusCode, Problem> {
    let code = value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .and_then(|n| u16::try_from(n).ok())
        .and_then(|n| StatusCode::from_u16(n).ok())
        .filter(|s| (100..600).contains(&s.as_u16()))
        .ok_or_else(|| invalid(at, format!("statusCode {value} is not an HTTP status")))?;
    Ok(code)
}

fn header_name(at: &str, name: &str) -> Result<HeaderName, Problem> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| invalid(at, format!("{name:?} is not a header name")))
}

fn value_source(at: &str, source: &Value) -> Result<ValueSource, Problem> {
    let source = match source {
        Value::String(source) => source.as_str(),
        Value::Object(map) if map.len() == 1 && map.contains_key("Fn::Sub") => {
            let site_origin = format!("'{SITE_ORIGIN_SUB}'");
            return match map.get("Fn::Sub") {
                Some(Value::String(text)) if *text == site_origin => Ok(ValueSource::SiteOrigin),
                other => Err(not_emulated(
                    format!(
                        "the header value {{Fn::Sub: {}}} ({at})",
                        other.map_or_else(String::new, Value::to_string)
                    ),
                    format!("one Fn::Sub in a header value, {site_origin:?}, the site's origin"),
                )),
            };
        }
        other => {
            return Err(invalid(
                at,
                format!("{other} is not a mapping expression or {{Fn::Sub: ...}}"),
            ));
        }
    };
    if let Some(text) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return HeaderValue::from_str(text)
            .map(ValueSource::Static)
            .map_err(|_| {
                invalid(
                    at,
                    format!("the literal '{text}' is not a valid HTTP header value"),
                )
            });
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return Ok(ValueSource::StageVariable(name.to_owned()));
    }
    if let Some(name) = source.strip_prefix("method.request.header.") {
        return Ok(ValueSource::RequestHeader(name.to_owned()));
    }
    if let Some(name) = source.strip_prefix("context.")
        && matches!(
            name,
            "requestId" | "stage" | "httpMethod" | "resourcePath" | "path"
        )
    {
        return Ok(ValueSource::Context(name.to_owned()));
    }
    Err(not_emulated(
        format!("the mapping expression {source:?} ({at})"),
        "'static', stageVariables.x, method.request.header.x, context.requestId/stage/httpMethod/resourcePath/path",
    ))
}

/// A stable, API-Gateway-shaped resource ID (6 lower-case letters and digits) for a
/// resource path.
pub(crate) fn resource_id(path: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in path.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..6)
        .map(|i| char::from(ALPHABET[((hash >> (i * 8)) % 36) as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_error_property_in_a_gateway_response_is_refused_at_load() {
        let Err(Problem::Invalid(detail)) =
            parse_gateway_template("t", r#"{"message": $context.error.mesage}"#)
        else {
            panic!("accepted");
        };
        assert!(detail.contains("$context.error.mesage"), "{detail}");
        assert!(
            parse_gateway_template("t", r#"{"message": $context.error.messageString}"#).is_ok()
        );
    }

    #[test]
    fn function_names_come_from_fn_sub_or_a_literal_arn() {
        let sub = serde_json::json!({"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${HelloFunction.Arn}/invocations"});
        assert_eq!(
            lambda_function("t", &sub).ok(),
            Some("HelloFunction".into())
        );
        let literal = serde_json::json!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello:live/invocations"
        );
        assert_eq!(lambda_function("t", &literal).ok(), Some("hello".into()));
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let definition = ApiDefinition::parse(
            r#"
paths:
  /pets/{id}:
    get:
      x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{"statusCode": 200}'}}
  /pets/mine:
    get:
      x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{"statusCode": 200}'}}
  /files/{path+}:
    get:
      x-amazon-apigateway-integration: {type: mock}
"#,
            "test",
        )
        .unwrap();
        let found = definition.find("GET", "/pets/mine").unwrap();
        assert_eq!(found.route.path, "/pets/mine");
        let found = definition.find("GET", "/pets/7").unwrap();
        assert_eq!(found.route.path, "/pets/{id}");
        assert_eq!(found.path_params["id"], "7");
        let found = definition.find("GET", "/files/a/b.txt").unwrap();
        assert_eq!(found.path_params["path"], "a/b.txt");
        assert!(definition.find("GET", "/pets").is_none());
        assert!(definition.find("POST", "/pets/7").is_none());
    }

    #[test]
    fn an_operation_reuses_its_first_method_arn_only_for_the_same_parts() {
        let definition = ApiDefinition::parse(
            r#"
paths:
  /pets/{id}:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{"statusCode": 200}'}}
"#,
            "test",
        )
        .unwrap();
        let arn = |method: &str, path: &str, stage: &str| {
            let found = definition.find(method, path).unwrap();
            let resource = path.trim_start_matches('/');
            let parts = MethodArnParts {
                partition: "aws",
                region: "us-east-1",
                account: "123456789012",
                api: "api",
                stage,
                method,
                resource,
            };
            let arn = found.method_arn(parts);
            assert_eq!(arn, MethodArn::new(parts), "{method} {path} on {stage}");
            arn.to_string()
        };
        let first = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/pets/7";
        assert_eq!(arn("GET", "/pets/7", "prod"), first);
        assert_eq!(arn("GET", "/pets/7", "prod"), first);
        // Another parameter, method (ANY) or stage: that request's own.
        assert_eq!(
            arn("GET", "/pets/8", "prod"),
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/pets/8"
        );
        assert_eq!(
            arn("POST", "/pets/7", "prod"),
            "arn:aws:execute-api:us-east-1:123456789012:api/prod/POST/pets/7"
        );
        assert_eq!(
            arn("GET", "/pets/7", "beta"),
            "arn:aws:execute-api:us-east-1:123456789012:api/beta/GET/pets/7"
        );
        assert_eq!(arn("GET", "/pets/7", "prod"), first);
    }

    #[test]
    fn an_integration_knows_what_its_templates_read() {
        let reads = |request: &str, response: &str| {
            let yaml = format!(
                "paths:\n  /r:\n    get:\n      responses:\n        '200': {{description: r}}\n      x-amazon-apigateway-integration:\n        type: mock\n        requestTemplates: {{application/json: '{request}'}}\n        responses:\n          default:\n            statusCode: '200'\n            responseTemplates: {{application/json: '{response}'}}\n"
            );
            let definition = ApiDefinition::parse(&yaml, "test").unwrap();
            definition
                .find("GET", "/r")
                .unwrap()
                .operation
                .integration
                .reads
        };
        let read = |params, only_authorizer| TemplatesRead {
            params,
            only_authorizer,
        };
        assert_eq!(
            reads("$context.authorizer.name", "fixed"),
            read(false, true)
        );
        // The response template renders with the same request: it counts too.
        assert_eq!(
            reads("$context.authorizer.name", "$context.domainName"),
            read(false, false)
        );
        assert_eq!(
            reads("$context.requestId", "$input.params(''x'')"),
            read(true, false)
        );
    }
}
