//! The API Gateway emulator: a REST API stage driven by the compiled definition.
//!
//! For each request, in API Gateway's order: the stage and route (else
//! `MISSING_AUTHENTICATION_TOKEN`), the TOKEN or REQUEST authorizer (identity sources,
//! validation expression, decision cache, policy evaluation), the request template, the
//! Lambda or mock integration (within `timeoutInMillis`), the integration response
//! (selection pattern, status, headers, template). Every refusal is a gateway response rendered from the definition, so CORS
//! headers and bodies are exactly what AWS would send.
//!
//! Hand-written because no library emulates API Gateway's semantics; the pieces that
//! exist as libraries are used: the `mapping` crate renders every template, `regex`
//! matches patterns, axum serves HTTP.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerRequestTypeRequestContext,
    ApiGatewayCustomAuthorizerRequestTypeRequestIdentity,
};
use axum::Router;
use axum::body::to_bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mapping::{Overrides, RenderContext, Rendered, Template};
use serde_json::{Value, json};

use crate::Clock;
use crate::definition::{
    ApiDefinition, AuthorizerDef, AuthorizerKind, IdentitySource, Integration, IntegrationKind,
    IntegrationResponse, Passthrough, RouteMatch, ValueSource,
};
use crate::header_names::ClientHeaderNames;
use crate::lambda::{AuthorizerRequest, FunctionError, LambdaFunction, with_log};
use crate::policy::{AuthorizerResult, Verdict};
use crate::trace::{AuthorizerOutcome, Counters, Recorded, Recorder, TraceStore, shown_event};

use authorizer_contract::MethodArn;
use authorizer_contract::method_arn::Parts as MethodArnParts;
use authorizer_contract::token_fingerprint as fingerprint;
use loopback_guard::log_text::escape;
use request_trace::{Hop, Invocations, RequestTrace};

/// The region, account and API ID in method ARNs: realistic, and obviously local.
pub const REGION: &str = "us-east-1";
/// See [`REGION`].
pub const ACCOUNT_ID: &str = "123456789012";
/// See [`REGION`].
pub const API_ID: &str = "greetlocal";

/// API Gateway's payload limit for a REST API: 10 MB, that is 10,485,760 bytes
/// ("API Gateway quotas", limits.html: "Payload size 10 MB, can't be increased").
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// What API Gateway answers to a larger body, before any of the API's settings apply:
/// 413, `Content-Type: text; charset=utf-8`, this text, no CORS or request-ID header
/// (the response recorded from AWS in github.com/koki-develop/lgtm-generator issue 10,
/// `content-length: 44`; the same text is reported for a regional API elsewhere). The
/// REQUEST_TOO_LARGE gateway response cannot be customised: the developer guide says
/// so (quoted in zenn.dev/august/articles/67c76de854cb6d) and customising it had no
/// effect in that issue and in reapit/foundations issue 4338. So the definition's
/// gateway responses don't apply to it here either.
pub const PAYLOAD_TOO_LARGE_BODY: &str = "HTTP content length exceeded 10485760 bytes.";

/// How long an authorizer function may take. API Gateway has no setting for it (the
/// function's own timeout applies); the emulator stops waiting at the integration
/// ceiling, 29 s, and answers as for a function that timed out (500).
pub const AUTHORIZER_TIMEOUT: Duration = Duration::from_secs(29);

/// At most this many cached decisions; beyond it the expired ones go, then all.
const MAX_CACHED_DECISIONS: usize = 10_000;

/// At most this many method ARNs' verdicts remembered per cached decision (a stage has
/// few methods; past it a verdict is evaluated each time).
const MAX_VERDICTS_PER_DECISION: usize = 16;

/// The template API Gateway uses for a gateway response the definition does not customise.
const DEFAULT_GATEWAY_TEMPLATE: &str = "{\"message\":$context.error.messageString}";

/// The emulated stage: the definition, the functions and the authorizer's decision cache.
pub struct Gateway {
    definition: Arc<ApiDefinition>,
    stage: String,
    /// Shared with every request's template context.
    stage_variables: Arc<BTreeMap<String, String>>,
    site_origin: String,
    /// [`Gateway::site_origin`] as a header value, made once.
    site_origin_header: Option<HeaderValue>,
    functions: BTreeMap<String, Arc<dyn LambdaFunction>>,
    ttl_override: Option<u32>,
    /// By authorizer name, then by token (looked up without copying the token).
    cache: Mutex<HashMap<String, DecisionsByKey>>,
    clock: Clock,
    verbose: bool,
    /// `$context.deploymentId`: one per stage, stable across restarts (a local stack
    /// deploys its definition once per start, unchanged).
    deployment_id: String,
    /// Every request's trace, the most recent ones ([`crate::trace`]).
    traces: TraceStore,
    /// By function of the definition.
    invocations: Counters,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("stage", &self.stage)
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// One authorizer's cached decisions, by token (or REQUEST identity values). foldhash
/// rather than SipHash: a token is ~1 KB, and SipHash over it was half the cost of a
/// cache hit (perf, load bench); its per-process seed still keeps keys unpredictable.
type DecisionsByKey = HashMap<String, CachedDecision, foldhash::fast::RandomState>;

#[derive(Debug, Clone)]
struct CachedDecision {
    result: Arc<AuthorizerResult>,
    expires: Instant,
    /// The policy's verdict for each method ARN it was asked about: matching its
    /// wildcards on every hit was a tenth of the gateway's own work (callgrind, load
    /// bench).
    verdicts: Vec<(String, Verdict)>,
}

/// The settings of one emulated stage.
pub struct GatewaySettings {
    pub definition: Arc<ApiDefinition>,
    pub stage: String,
    pub stage_variables: BTreeMap<String, String>,
    /// What the definition's `Fn::Sub` of the deployed site's origin stands for here.
    pub site_origin: String,
    /// By the logical names the definition uses (`HelloFunction`, ...).
    pub functions: BTreeMap<String, Arc<dyn LambdaFunction>>,
    /// Replaces every authorizer's `authorizerResultTtlInSeconds`.
    pub ttl_override: Option<u32>,
    pub clock: Clock,
    pub verbose: bool,
}

impl std::fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A stage ready to serve.
    pub fn new(settings: GatewaySettings) -> Self {
        Gateway {
            stage: settings.stage.clone(),
            stage_variables: Arc::new(settings.stage_variables),
            site_origin_header: HeaderValue::from_str(&settings.site_origin).ok(),
            site_origin: settings.site_origin,
            functions: settings.functions,
            ttl_override: settings.ttl_override,
            cache: Mutex::new(HashMap::new()),
            clock: settings.clock,
            verbose: settings.verbose,
            deployment_id: crate::definition::resource_id(&format!(
                "deployment of stage {}",
                settings.stage
            )),
            traces: TraceStore::default(),
            invocations: Counters::new(settings.definition.functions().iter().map(String::as_str)),
            definition: settings.definition,
        }
    }

    /// How many times an authorizer function has been invoked (cache misses).
    pub fn authorizer_invocations(&self) -> u64 {
        let functions: std::collections::BTreeSet<&str> = self
            .definition
            .authorizers
            .values()
            .map(|a| a.function.as_str())
            .collect();
        functions.into_iter().map(|f| self.invocations.get(f)).sum()
    }

    /// How many times each function the definition names has been invoked (a cached
    /// decision invokes nothing).
    pub fn invocations(&self) -> Invocations {
        self.invocations.snapshot()
    }

    /// The trace of a recent request (its `x-amzn-RequestId`), if still kept.
    pub fn trace(&self, request_id: &str) -> Option<RequestTrace> {
        self.traces.get(request_id, &self.definition)
    }

    /// Whether its requests need their header names as the client spelled them
    /// ([`crate::ApiDefinition::reads_header_names`]).
    pub fn reads_header_names(&self) -> bool {
        self.definition.reads_header_names()
    }

    /// The site's origin: what the definition's CORS headers allow.
    pub fn site_origin(&self) -> &str {
        &self.site_origin
    }

    /// The stage variables in force.
    pub fn stage_variables(&self) -> &BTreeMap<String, String> {
        &self.stage_variables
    }
}

/// The emulator's HTTP service: every path goes through [`Gateway`].
pub fn app(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .fallback(|State(gateway): State<Arc<Gateway>>, request: Request| handle(gateway, request))
        .with_state(gateway)
}

/// API Gateway's own refusals and failures (gateway responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GatewayError {
    Unauthorized,
    AccessDenied {
        explicit: bool,
    },
    AuthorizerConfiguration,
    MissingAuthenticationToken,
    UnsupportedMediaType,
    ApiConfiguration,
    /// The integration did not answer within `timeoutInMillis`.
    IntegrationTimeout,
}

impl GatewayError {
    /// The gateway response type (the key in `x-amazon-apigateway-gateway-responses`).
    fn response_type(self) -> &'static str {
        match self {
            GatewayError::Unauthorized => "UNAUTHORIZED",
            GatewayError::AccessDenied { .. } => "ACCESS_DENIED",
            GatewayError::AuthorizerConfiguration => "AUTHORIZER_CONFIGURATION_ERROR",
            GatewayError::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            GatewayError::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            GatewayError::ApiConfiguration => "API_CONFIGURATION_ERROR",
            GatewayError::IntegrationTimeout => "INTEGRATION_TIMEOUT",
        }
    }

    fn default_status(self) -> StatusCode {
        match self {
            GatewayError::Unauthorized => StatusCode::UNAUTHORIZED,
            GatewayError::AccessDenied { .. } | GatewayError::MissingAuthenticationToken => {
                StatusCode::FORBIDDEN
            }
            GatewayError::AuthorizerConfiguration | GatewayError::ApiConfiguration => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            GatewayError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            GatewayError::IntegrationTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// `$context.error.message`, as API Gateway words it (`None` renders `null`).
    fn message(self) -> Option<&'static str> {
        match self {
            // API Gateway words its 401 with the authorizer's refusal word itself.
            GatewayError::Unauthorized => Some(authorizer_contract::UNAUTHORIZED),
            GatewayError::AccessDenied { explicit: true } => {
                Some("User is not authorized to access this resource with an explicit deny")
            }
            GatewayError::AccessDenied { explicit: false } => {
                Some("User is not authorized to access this resource")
            }
            GatewayError::AuthorizerConfiguration => None,
            GatewayError::MissingAuthenticationToken => Some("Missing Authentication Token"),
            GatewayError::UnsupportedMediaType => Some("Unsupported Media Type"),
            GatewayError::ApiConfiguration => Some("Internal server error"),
            // AWS answers a timed-out integration with {"message": "Endpoint request
            // timed out"} (AWS Knowledge Center, "api-gateway-504-errors", and the
            // many reports of that body).
            GatewayError::IntegrationTimeout => Some("Endpoint request timed out"),
        }
    }

    /// The `x-amzn-ErrorType` header API Gateway adds.
    fn error_type(self) -> &'static str {
        match self {
            GatewayError::Unauthorized => "UnauthorizedException",
            GatewayError::AccessDenied { .. } => "AccessDeniedException",
            GatewayError::AuthorizerConfiguration => "AuthorizerConfigurationException",
            GatewayError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            GatewayError::UnsupportedMediaType => "UnsupportedMediaTypeException",
            GatewayError::ApiConfiguration => "InternalServerErrorException",
            // As LocalStack answers it (gateway_response.py, IntegrationTimeoutError;
            // not in its AWS-validated snapshots).
            GatewayError::IntegrationTimeout => "InternalServerErrorException",
        }
    }
}

/// How an authorizer's decision was reached, for the hop log (worded only if logged).
#[derive(Debug, Clone, Copy)]
enum Reached {
    /// With the cached policy's verdict for this method.
    CacheHit {
        ttl: u32,
        verdict: Verdict,
    },
    Invoked {
        cached_for: Option<u32>,
    },
}

impl std::fmt::Display for Reached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reached::CacheHit { ttl, .. } => write!(f, "cache hit (TTL {ttl} s)"),
            Reached::Invoked {
                cached_for: Some(ttl),
            } => write!(f, "invoked, cached for {ttl} s"),
            Reached::Invoked { cached_for: None } => f.write_str("invoked (cache off)"),
        }
    }
}

/// One request as the stage sees it.
struct Call {
    request_id: String,
    method: String,
    /// The full path, with the stage (`/prod/hello`).
    path: String,
    headers: HeaderMap,
    query: BTreeMap<String, String>,
    /// Every `name=value` of the query string, in order (multi-value sources, events).
    query_all: Vec<(String, String)>,
    body: String,
    source_ip: String,
    /// The header names as the client spelled them, when the server recorded them.
    header_names: Option<ClientHeaderNames>,
    /// `x-amz-apigw-id`, also `$context.extendedRequestId`.
    extended_request_id: String,
    /// When the request arrived (the gateway's clock), ms since the epoch.
    request_time_ms: u64,
    /// The request's HTTP version, for `$context.protocol`.
    version: axum::http::Version,
    /// The matched resource's ID, once routed (for gateway responses' templates).
    resource_id: OnceLock<String>,
    started: Instant,
    /// Whether hop-by-hop logging is on (checked once per request).
    logging: bool,
    /// What the request's trace will show.
    trace: Recorder,
}

/// Serves one request on `gateway`'s stage: what [`app`] does for every path, for a
/// server that routes to the stage itself (without a router in between, which costs
/// a lookup and a clone per request).
pub async fn handle(gateway: Arc<Gateway>, request: Request) -> Response {
    let source_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| ip_text(addr.ip()))
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let (mut parts, body) = request.into_parts();
    let header_names = parts
        .extensions
        .remove::<ClientHeaderNames>()
        .filter(|names| names.fits(&parts.headers));
    // Encoded into a buffer: `to_string` goes through the formatting machinery.
    let request_id = uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned();
    let query_all = parse_query(parts.uri.query());
    let mut call = Call {
        request_id,
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: query_all.iter().cloned().collect(),
        query_all,
        headers: parts.headers,
        body: String::new(),
        source_ip,
        header_names,
        extended_request_id: apigw_id(),
        request_time_ms: gateway.clock.epoch_ms(),
        version: parts.version,
        resource_id: OnceLock::new(),
        started: Instant::now(),
        logging: tracing::enabled!(target: "local::hop", tracing::Level::INFO),
        trace: Recorder::default(),
    };
    gateway.hop(&call, || {
        let token = call
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        format!(
            "--> {} {} (token {})",
            call.method,
            call.path,
            fingerprint(token)
        )
    });
    // A declared length over the limit is refused before reading; a chunked body as
    // soon as it passes the limit.
    let declared_too_large = header_text(&call.headers, header::CONTENT_LENGTH)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES as u64);
    let bytes = if declared_too_large {
        None
    } else {
        to_bytes(body, MAX_BODY_BYTES).await.ok()
    };
    let Some(bytes) = bytes else {
        gateway.hop(&call, || {
            format!("<-- 413: the body is over API Gateway's {MAX_BODY_BYTES} bytes")
        });
        return payload_too_large();
    };
    call.body = String::from_utf8_lossy(&bytes).into_owned();
    let response = gateway.serve(&call).await;
    gateway.hop(&call, || {
        format!(
            "<-- {} ({:.1} ms)",
            response.status().as_u16(),
            call.started.elapsed().as_secs_f64() * 1000.0
        )
    });
    if gateway.verbose {
        gateway.hop(&call, || {
            let headers: BTreeMap<&str, &str> = response
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or("<binary>")))
                .collect();
            format!("    response headers {}", json!(headers))
        });
    }
    let mut response = response;
    if let Ok(value) = HeaderValue::from_str(&call.request_id) {
        response.headers_mut().insert(X_AMZN_REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&call.extended_request_id) {
        response.headers_mut().insert(X_AMZ_APIGW_ID, value);
    }
    gateway.record(call, response)
}

impl Gateway {
    /// Keeps the request's trace with the response as sent; returns the response.
    /// The body is the text each answer was built from (`Recorder::body`): taking the
    /// response apart to read it back cost a third of the stage's throughput (load bench).
    fn record(&self, call: Call, response: Response) -> Response {
        call.trace
            .request(&call.request_id, &call.method, &call.path);
        call.trace.response_headers(response.headers());
        self.traces.insert(Recorded {
            draft: call.trace.into_draft(),
            status: response.status(),
        });
        response
    }

    async fn serve(&self, call: &Call) -> Response {
        let Some(resource) = call
            .path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(self.stage.as_str()))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        else {
            // Another stage: API Gateway has none of this API's settings for it.
            self.hop(call, || format!("    no stage {:?} here", call.path));
            call.trace.stop(
                Hop::Route,
                format!(
                    "{} is not under the stage /{}: API Gateway answers 403 Forbidden",
                    call.path, self.stage
                ),
            );
            const FORBIDDEN: &str = "{\"message\":\"Forbidden\"}";
            call.trace.body(FORBIDDEN);
            return (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "application/json")],
                FORBIDDEN,
            )
                .into_response();
        };
        let resource = if resource.is_empty() { "/" } else { resource };
        let Some(found) = self.definition.find(&call.method, resource) else {
            self.hop(call, || {
                format!("    no route for {} {resource}", call.method)
            });
            call.trace.stop(
                Hop::Route,
                format!(
                    "the definition has no {} method on {resource}: API Gateway answers 403 Missing Authentication Token",
                    call.method
                ),
            );
            return self.gateway_response(call, GatewayError::MissingAuthenticationToken);
        };
        call.trace.resource(&found.route.path);

        let mut authorizer_context = Arc::default();
        if let Some(name) = &found.operation.authorizer {
            // The resource part without a trailing slash (`/hello/` is `/hello`, see
            // `ApiDefinition::find`), so a policy for `.../GET/hello` covers both. Not
            // checked against AWS: no recorded methodArn for a trailing slash found.
            let method_arn = found.method_arn(MethodArnParts {
                partition: "aws",
                region: REGION,
                account: ACCOUNT_ID,
                api: API_ID,
                stage: &self.stage,
                method: &call.method,
                resource: resource.trim_start_matches('/').trim_end_matches('/'),
            });
            match self.authorize(call, &found, name, &method_arn).await {
                Ok(context) => authorizer_context = context,
                Err(error) => {
                    call.trace.stop_at_authorizer();
                    return self.gateway_response(call, error);
                }
            }
        }

        let reads = found.operation.integration.reads;
        let context = RenderContext {
            authorizer: authorizer_context,
            // Borrowed from the stage and the call: copying them was a tenth of a
            // request's allocations (uprobes on the allocator, load bench).
            stage: self.stage.as_str().into(),
            request_id: call.request_id.as_str().into(),
            http_method: call.method.as_str().into(),
            resource_path: found.route.path.as_str().into(),
            path: call.path.as_str().into(),
            source_ip: call.source_ip.as_str().into(),
            user_agent: header_text(&call.headers, header::USER_AGENT)
                .unwrap_or_default()
                .into(),
            stage_variables: self.stage_variables.clone(),
            body: call.body.as_str().into(),
            path_params: found.path_params,
            // Built only for templates that may read them: copying the header map
            // (a ~1 KB token in it) was the biggest part of building this context
            // (perf, load bench). `Host` unless they read only the authorizer:
            // `$context.domainName` reads it.
            query: if reads.params {
                call.query.clone()
            } else {
                BTreeMap::new()
            },
            headers: if reads.params {
                call.headers
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((call.spell(k).to_owned(), v.to_str().ok()?.to_owned()))
                    })
                    .collect()
            } else if reads.only_authorizer {
                // Not even `$context.domainName`: building and dropping the map of one
                // was ~2% of a cached request (callgrind, load bench).
                BTreeMap::new()
            } else {
                // Host alone (the last one, as collecting would keep), put in directly:
                // collecting a map of one walked every header and bulk-built the map.
                let mut host = BTreeMap::new();
                if let Some(value) = call.headers.get_all(header::HOST).iter().next_back()
                    && let Ok(value) = value.to_str()
                {
                    host.insert(call.spell(&header::HOST).to_owned(), value.to_owned());
                }
                host
            },
            // Request templates have no $context.error (gateway responses set it).
            error: Default::default(),
            overrides: Overrides::default(),
            facts: Some(
                self.facts(
                    call,
                    call.resource_id
                        .get_or_init(|| found.route.resource_id.clone()),
                ),
            ),
        };
        match self
            .integrate(call, &found.operation.integration, context)
            .await
        {
            Ok(response) => response,
            Err(error) => self.gateway_response(call, error),
        }
    }

    /// The Lambda authorizer: the authorizer's context (with `principalId`) on Allow.
    async fn authorize(
        &self,
        call: &Call,
        found: &RouteMatch<'_>,
        name: &str,
        method_arn: &MethodArn,
    ) -> Result<Arc<BTreeMap<String, String>>, GatewayError> {
        let Some(def) = self.definition.authorizers.get(name) else {
            call.trace.stop(
                Hop::Authorizer,
                format!("the authorizer {name} is not defined"),
            );
            return Err(GatewayError::AuthorizerConfiguration);
        };
        let ttl = self.ttl_override.unwrap_or(def.ttl_seconds);
        let kind = match def.kind {
            AuthorizerKind::Token { .. } => "TOKEN",
            AuthorizerKind::Request { .. } => "REQUEST",
        };
        call.trace
            .authorizer(name, &def.function, kind, method_arn, ttl);
        let (result, source) = match &def.kind {
            AuthorizerKind::Token {
                header,
                header_name,
                validation,
            } => {
                self.authorize_token(
                    call,
                    name,
                    def,
                    ttl,
                    (header, header_name),
                    validation.as_ref(),
                    method_arn,
                )
                .await?
            }
            AuthorizerKind::Request { sources } => {
                self.authorize_request(call, found, name, def, ttl, sources, method_arn)
                    .await?
            }
        };
        let verdict = match source {
            Reached::CacheHit { verdict, .. } => verdict,
            Reached::Invoked { .. } => result.evaluate(method_arn),
        };
        call.trace
            .with_authorizer(|a| a.outcome = AuthorizerOutcome::Decided(result.clone()));
        self.hop(call, || {
            format!(
                "    authorizer {name}: {source}; principal {} -> {verdict:?} for {method_arn}",
                result.principal_id
            )
        });
        match verdict {
            Verdict::Allow => Ok(result.template_context()),
            Verdict::ExplicitDeny => Err(GatewayError::AccessDenied { explicit: true }),
            Verdict::ImplicitDeny => Err(GatewayError::AccessDenied { explicit: false }),
        }
    }

    /// A TOKEN authorizer: the decision, and how it was reached (for the log).
    #[allow(clippy::too_many_arguments)]
    async fn authorize_token(
        &self,
        call: &Call,
        name: &str,
        def: &AuthorizerDef,
        ttl: u32,
        (header, header_name): (&str, &HeaderName),
        validation: Option<&regex::Regex>,
        method_arn: &MethodArn,
    ) -> Result<(Arc<AuthorizerResult>, Reached), GatewayError> {
        // A missing, empty or non-text header never reaches the authorizer.
        let token = match header_text(&call.headers, header_name) {
            Some(token) if !token.trim().is_empty() => token,
            _ => {
                self.hop(call, || {
                    format!("    authorizer {name}: no {header} header -> 401, not invoked")
                });
                not_invoked(
                    call,
                    format!(
                        "no {header} header (or an empty one): API Gateway answers 401 without invoking the authorizer"
                    ),
                );
                return Err(GatewayError::Unauthorized);
            }
        };
        let now = self.clock.now();
        // Only tokens that matched the validation expression are ever cached, so a hit
        // needs no second match (the same outcome, without scanning a 1 KB token).
        if let Some((result, verdict)) = self.cached(ttl, name, token, now, method_arn) {
            call.trace.with_authorizer(|a| a.hit = true);
            return Ok((result, Reached::CacheHit { ttl, verdict }));
        }
        if let Some(pattern) = validation
            && !pattern.is_match(token)
        {
            self.hop(call, || {
                format!(
                    "    authorizer {name}: {header} does not match identityValidationExpression -> 401, not invoked"
                )
            });
            not_invoked(
                call,
                format!(
                    "the {header} header does not match the identityValidationExpression {}: API Gateway answers 401 without invoking the authorizer",
                    pattern.as_str()
                ),
            );
            return Err(GatewayError::Unauthorized);
        }
        let mut event = ApiGatewayCustomAuthorizerRequest::default();
        event.type_ = Some("TOKEN".to_owned());
        event.authorization_token = Some(token.to_owned());
        event.method_arn = Some(method_arn.as_str().to_owned());
        let event = AuthorizerRequest::Token(event);
        if self.verbose {
            // Never log a whole credential: the trace's fingerprints.
            self.hop(call, || {
                format!("    authorizer {name} event {}", shown_event(&event))
            });
        }
        let result = Arc::new(
            self.invoke_authorizer(call, name, &def.function, event)
                .await?,
        );
        Ok((result.clone(), self.store(ttl, name, token, result, now)))
    }

    /// A REQUEST authorizer: identity sources, cache keyed by all their values, the
    /// event as API Gateway builds it.
    #[allow(clippy::too_many_arguments)]
    async fn authorize_request(
        &self,
        call: &Call,
        found: &RouteMatch<'_>,
        name: &str,
        def: &AuthorizerDef,
        ttl: u32,
        sources: &[IdentitySource],
        method_arn: &MethodArn,
    ) -> Result<(Arc<AuthorizerResult>, Reached), GatewayError> {
        let values: Vec<Option<String>> = sources
            .iter()
            .map(|source| self.identity_value(call, found, source))
            .collect();
        // AWS (API_Authorizer.html, identitySource): with caching on, API Gateway checks
        // that every identity source is "present, not null and non-empty", and otherwise
        // "returns a 401 Unauthorized response without calling the Lambda function".
        // With caching off the property is optional and the function is invoked.
        let now = self.clock.now();
        let key = if ttl > 0 {
            if let Some(i) = values
                .iter()
                .position(|v| v.as_deref().is_none_or(|v| v.trim().is_empty()))
            {
                self.hop(call, || {
                    format!(
                        "    authorizer {name}: identity source {} is missing or empty -> 401, not invoked",
                        sources[i].expression()
                    )
                });
                not_invoked(
                    call,
                    format!(
                        "the identity source {} is missing or empty: with caching on, API Gateway answers 401 without invoking the authorizer",
                        sources[i].expression()
                    ),
                );
                return Err(GatewayError::Unauthorized);
            }
            // An unambiguous key: the values as a JSON array of strings.
            let key = Value::from(values.iter().flatten().cloned().collect::<Vec<_>>()).to_string();
            if let Some((result, verdict)) = self.cached(ttl, name, &key, now, method_arn) {
                call.trace.with_authorizer(|a| a.hit = true);
                return Ok((result, Reached::CacheHit { ttl, verdict }));
            }
            Some(key)
        } else {
            None
        };
        let event = AuthorizerRequest::Request(
            Box::new(self.request_event(call, found, method_arn)),
            call.header_names.clone().unwrap_or_default(),
        );
        if self.verbose {
            // Never log a whole credential: the trace's fingerprints.
            self.hop(call, || {
                format!("    authorizer {name} event {}", shown_event(&event))
            });
        }
        let result = Arc::new(
            self.invoke_authorizer(call, name, &def.function, event)
                .await?,
        );
        let source = match key {
            Some(key) => self.store(ttl, name, &key, result.clone(), now),
            None => Reached::Invoked { cached_for: None },
        };
        Ok((result, source))
    }

    /// The value one identity source names in this request (`None`: absent). A
    /// multi-value source is its values joined with `,`.
    fn identity_value(
        &self,
        call: &Call,
        found: &RouteMatch<'_>,
        source: &IdentitySource,
    ) -> Option<String> {
        let headers = |name: &str| -> Vec<&str> {
            call.headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect()
        };
        let query = |name: &str| -> Vec<&str> {
            call.query_all
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        match source {
            IdentitySource::Header(name) => headers(name).last().map(|v| (*v).to_owned()),
            IdentitySource::MultiValueHeader(name) => {
                Some(headers(name).join(",")).filter(|v| !v.is_empty())
            }
            IdentitySource::QueryString(name) => query(name).last().map(|v| (*v).to_owned()),
            IdentitySource::MultiValueQueryString(name) => {
                Some(query(name).join(",")).filter(|v| !v.is_empty())
            }
            IdentitySource::StageVariable(name) => self.stage_variables.get(name).cloned(),
            IdentitySource::Context(name) => match name.as_str() {
                "requestId" => Some(call.request_id.clone()),
                "stage" => Some(self.stage.clone()),
                "httpMethod" => Some(call.method.clone()),
                "resourcePath" => Some(found.route.path.clone()),
                "path" => Some(call.path.clone()),
                "identity.sourceIp" => Some(call.source_ip.clone()),
                "identity.userAgent" => {
                    header_text(&call.headers, header::USER_AGENT).map(str::to_owned)
                }
                _ => None,
            },
        }
    }

    /// The REQUEST event (AWS, "Input to an API Gateway Lambda authorizer", REQUEST
    /// type): `headers` and `queryStringParameters` hold the last value of each name,
    /// the multi-value maps every value; `path` is the resource part of the request
    /// path and `requestContext.path` the full path, as in a proxy event.
    fn request_event(
        &self,
        call: &Call,
        found: &RouteMatch<'_>,
        method_arn: &MethodArn,
    ) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
        let mut headers = HeaderMap::new();
        for (name, value) in &call.headers {
            // `insert` replaces: the last value wins, as in API Gateway's `headers`.
            headers.insert(name.clone(), value.clone());
        }
        let mut single: HashMap<String, String> = HashMap::new();
        let mut multi: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in &call.query_all {
            single.insert(name.clone(), value.clone());
            multi.entry(name.clone()).or_default().push(value.clone());
        }
        let method = axum::http::Method::from_bytes(call.method.as_bytes()).ok();

        let mut identity = ApiGatewayCustomAuthorizerRequestTypeRequestIdentity::default();
        identity.source_ip = Some(call.source_ip.clone());
        let mut context = ApiGatewayCustomAuthorizerRequestTypeRequestContext::default();
        context.path = Some(call.path.clone());
        context.account_id = Some(ACCOUNT_ID.to_owned());
        context.resource_id = Some(found.route.resource_id.clone());
        context.stage = Some(self.stage.clone());
        context.request_id = Some(call.request_id.clone());
        context.identity = Some(identity);
        context.resource_path = Some(found.route.path.clone());
        context.http_method = method.clone();
        context.apiid = Some(API_ID.to_owned());

        let mut event = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
        event.type_ = Some("REQUEST".to_owned());
        event.method_arn = Some(method_arn.as_str().to_owned());
        event.resource = Some(found.route.path.clone());
        event.path = Some(
            call.path
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(self.stage.as_str()))
                .filter(|p| !p.is_empty())
                .unwrap_or("/")
                .to_owned(),
        );
        event.http_method = method;
        event.headers = headers;
        event.multi_value_headers = call.headers.clone();
        event.query_string_parameters = single.into();
        event.multi_value_query_string_parameters = multi.into();
        event.path_parameters = found.path_params.clone().into_iter().collect();
        event.stage_variables = self
            .stage_variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        event.request_context = context;
        event
    }

    /// A cached decision of authorizer `name` for `key`, when the cache is on, and its
    /// policy's verdict for `method_arn` (evaluated once per method and decision).
    fn cached(
        &self,
        ttl: u32,
        name: &str,
        key: &str,
        now: Instant,
        method_arn: &MethodArn,
    ) -> Option<(Arc<AuthorizerResult>, Verdict)> {
        if ttl == 0 {
            return None;
        }
        let mut cache = lock(&self.cache);
        let cached = cache
            .get_mut(name)?
            .get_mut(key)
            .filter(|c| c.expires > now)?;
        let verdict = match cached
            .verdicts
            .iter()
            .find(|(arn, _)| arn == method_arn.as_str())
        {
            Some((_, verdict)) => *verdict,
            None => {
                let verdict = cached.result.evaluate(method_arn);
                if cached.verdicts.len() < MAX_VERDICTS_PER_DECISION {
                    cached
                        .verdicts
                        .push((method_arn.as_str().to_owned(), verdict));
                }
                verdict
            }
        };
        Some((cached.result.clone(), verdict))
    }

    /// Caches a fresh decision when the cache is on; says what happened, for the log.
    fn store(
        &self,
        ttl: u32,
        name: &str,
        key: &str,
        result: Arc<AuthorizerResult>,
        now: Instant,
    ) -> Reached {
        if ttl == 0 {
            return Reached::Invoked { cached_for: None };
        }
        self.remember(name, key, result, now + Duration::from_secs(ttl.into()));
        Reached::Invoked {
            cached_for: Some(ttl),
        }
    }

    async fn invoke_authorizer(
        &self,
        call: &Call,
        name: &str,
        function: &str,
        event: AuthorizerRequest,
    ) -> Result<AuthorizerResult, GatewayError> {
        let Some(lambda) = self.functions.get(function) else {
            failed(call, format!("no function {function} is registered"));
            return Err(GatewayError::AuthorizerConfiguration);
        };
        let shown = shown_event(&event);
        call.trace.with_authorizer(|a| a.event = Some(shown));
        self.invocations.count(function);
        let started = Instant::now();
        let (answer, logs) = with_log(tokio::time::timeout(
            AUTHORIZER_TIMEOUT,
            lambda.invoke_authorizer(event, &call.request_id),
        ))
        .await;
        call.trace.with_authorizer(|a| a.logs = logs);
        let answer = match answer {
            Ok(answer) => answer,
            // What Lambda reports for a function past its timeout.
            Err(_) => Err(FunctionError {
                error_type: "Sandbox.Timedout".into(),
                error_message: format!(
                    "RequestId: {} Error: Task timed out after {:.2} seconds",
                    call.request_id,
                    AUTHORIZER_TIMEOUT.as_secs_f64()
                ),
            }),
        };
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        if self.verbose {
            self.hop(call, || match &answer {
                Ok(answer) => format!("    authorizer {name} answered {}", answer.to_json()),
                Err(error) => format!("    authorizer {name} failed {}", error.to_json()),
            });
        }
        match answer {
            // API Gateway turns exactly this error message into 401.
            Err(error) if error.error_message == authorizer_contract::UNAUTHORIZED => {
                self.hop(call, || {
                    format!("    authorizer {name}: Unauthorized ({elapsed:.1} ms) -> 401")
                });
                call.trace
                    .with_authorizer(|a| a.outcome = AuthorizerOutcome::Unauthorized);
                Err(GatewayError::Unauthorized)
            }
            Err(error) => {
                self.hop(call, || {
                    format!(
                        "    authorizer {name}: failed with {}: {} ({elapsed:.1} ms) -> 500",
                        error.error_type, error.error_message
                    )
                });
                failed(
                    call,
                    format!(
                        "{function} failed with {}: {}",
                        error.error_type, error.error_message
                    ),
                );
                Err(GatewayError::AuthorizerConfiguration)
            }
            Ok(answer) => AuthorizerResult::from_answer(&answer).map_err(|reason| {
                self.hop(call, || {
                    format!("    authorizer {name}: malformed answer: {reason} -> 500")
                });
                failed(
                    call,
                    format!("{function} answered what API Gateway cannot use: {reason}"),
                );
                GatewayError::AuthorizerConfiguration
            }),
        }
    }

    fn remember(&self, name: &str, token: &str, result: Arc<AuthorizerResult>, expires: Instant) {
        let mut cache = lock(&self.cache);
        let tokens = cache.entry(name.to_owned()).or_default();
        if tokens.len() >= MAX_CACHED_DECISIONS {
            let now = self.clock.now();
            tokens.retain(|_, c| c.expires > now);
            if tokens.len() >= MAX_CACHED_DECISIONS {
                tokens.clear();
            }
        }
        tokens.insert(
            token.to_owned(),
            CachedDecision {
                result,
                expires,
                verdicts: Vec::new(),
            },
        );
    }

    async fn integrate(
        &self,
        call: &Call,
        integration: &Integration,
        context: RenderContext<'_>,
    ) -> Result<Response, GatewayError> {
        // No Content-Type counts as application/json, as in API Gateway.
        let content_type: Cow<'static, str> = match header_text(&call.headers, header::CONTENT_TYPE)
            .map(|v| v.split(';').next().unwrap_or("").trim())
            .filter(|v| !v.is_empty())
        {
            Some(given) => given.to_ascii_lowercase().into(),
            None => "application/json".into(),
        };
        let mut overrides = Overrides::default();
        let payload = match integration.request_templates.get(content_type.as_ref()) {
            Some(template) => {
                let rendered =
                    self.render_with_overrides(call, "request template", template, &context)?;
                self.hop(call, || {
                    format!("    request template -> {}", rendered.body.trim_end())
                });
                overrides = rendered.overrides;
                call.trace.template(&content_type, &rendered.body);
                self.check_request_overrides(call, &integration.kind, &overrides)?;
                rendered.body
            }
            None => match integration.passthrough {
                Passthrough::WhenNoMatch => call.body.clone(),
                Passthrough::WhenNoTemplates if integration.request_templates.is_empty() => {
                    call.body.clone()
                }
                Passthrough::WhenNoTemplates | Passthrough::Never => {
                    self.hop(call, || {
                        format!("    no request template for {content_type} (passthroughBehavior) -> 415")
                    });
                    call.trace.stop(
                        Hop::Template,
                        format!(
                            "no request template for {content_type} and passthroughBehavior refuses the body: API Gateway answers 415"
                        ),
                    );
                    return Err(GatewayError::UnsupportedMediaType);
                }
            },
        };

        let (outcome, selector) = match &integration.kind {
            IntegrationKind::Mock => {
                // The mock answers with the status code the request template names.
                let status = serde_json::from_str::<Value>(&payload)
                    .ok()
                    .and_then(|v| v.get("statusCode").map(|s| s.to_string()))
                    .unwrap_or_else(|| "200".to_owned());
                call.trace.answer(None, Ok("null"), Vec::new());
                (Ok(String::new()), Some(status))
            }
            IntegrationKind::Lambda { function } => {
                let Some(lambda) = self.functions.get(function) else {
                    call.trace.stop(
                        Hop::Integration,
                        format!("no function {function} is registered"),
                    );
                    return Err(GatewayError::ApiConfiguration);
                };
                // Lambda refuses an event that is not JSON.
                let event: Value = serde_json::from_str(&payload).map_err(|e| {
                    self.hop(call, || {
                        format!("    the request template's output is not JSON ({e}) -> 500")
                    });
                    call.trace.stop(
                        Hop::Integration,
                        format!(
                            "the request template's output is not JSON ({e}): Lambda refuses it, {function} is not invoked, API Gateway answers 500"
                        ),
                    );
                    GatewayError::ApiConfiguration
                })?;
                if self.verbose {
                    self.hop(call, || format!("    {function} event {event}"));
                }
                let started = Instant::now();
                self.invocations.count(function);
                let (answer, logs) = with_log(tokio::time::timeout(
                    integration.timeout,
                    lambda.invoke_for_text(event, &call.request_id),
                ))
                .await;
                let Ok(answer) = answer else {
                    self.hop(call, || {
                        format!(
                            "    {function} did not answer within timeoutInMillis {} -> 504",
                            integration.timeout.as_millis()
                        )
                    });
                    call.trace.stop(
                        Hop::Integration,
                        format!(
                            "{function} did not answer within timeoutInMillis {}: API Gateway answers 504",
                            integration.timeout.as_millis()
                        ),
                    );
                    return Err(GatewayError::IntegrationTimeout);
                };
                let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                match answer {
                    Ok(body) => {
                        self.hop(call, || {
                            format!("    {function} -> {body} ({elapsed:.1} ms)")
                        });
                        call.trace.answer(Some(function), Ok(&body), logs);
                        (Ok(body), None)
                    }
                    Err(error) => {
                        self.hop(call, || {
                            format!(
                                "    {function} failed -> {} ({elapsed:.1} ms)",
                                error.to_json()
                            )
                        });
                        let message = error.error_message.clone();
                        call.trace.answer(Some(function), Err(error.clone()), logs);
                        (Err(error), Some(message))
                    }
                }
            }
        };

        // Lambda: patterns match a function error's errorMessage; success takes the
        // default. Mock: patterns match the status code.
        let response = selector
            .as_deref()
            .and_then(|s| {
                integration
                    .responses
                    .iter()
                    .find(|r| r.pattern.as_ref().is_some_and(|p| p.is_match(s)))
            })
            .or(integration.default_response.as_ref());
        let Some(response) = response else {
            self.hop(call, || {
                "    no integration response matches -> 500".to_owned()
            });
            call.trace.stop(
                Hop::Integration,
                "no integration response matches the answer (and there is no default): API Gateway answers 500",
            );
            return Err(GatewayError::ApiConfiguration);
        };
        let body = match outcome {
            Ok(body) => body,
            Err(error) => error_body(&error),
        };
        self.integration_response(call, response, body, context, overrides)
    }

    /// `$context.requestOverride.*` from a request template. A Lambda (non-proxy) or
    /// mock integration has no integration request whose headers, path or query string
    /// reach the function: the event is the template's output. So those overrides
    /// change nothing here but stay readable by the response template, as in AWS;
    /// except the headers that direct Lambda's Invoke call (`X-Amz-Invocation-Type`:
    /// `Event` makes it asynchronous, ...), which the emulator does not reproduce and
    /// so refuses.
    fn check_request_overrides(
        &self,
        call: &Call,
        kind: &IntegrationKind,
        overrides: &Overrides,
    ) -> Result<(), GatewayError> {
        if let IntegrationKind::Lambda { function } = kind
            && let Some(name) = overrides
                .request_headers
                .keys()
                .find(|name| name.to_ascii_lowercase().starts_with("x-amz-"))
        {
            tracing::warn!(target: "local::hop", "{} the request template sets $context.requestOverride.header.{}, which would change how API Gateway invokes {function}; the local stack does not emulate that -> 500", call.tag(), escape(name));
            return Err(GatewayError::ApiConfiguration);
        }
        let set = overrides.request_headers.len()
            + overrides.request_path.len()
            + overrides.request_querystring.len();
        if set > 0 {
            self.hop(call, || {
                format!("    {set} $context.requestOverride value(s): no integration request parameters to override for this integration")
            });
        }
        Ok(())
    }

    /// The method response: the integration response's status, headers and template,
    /// then `$context.responseOverride.status` and `.header.X` as the templates left
    /// them (the request template's carried into the response template), as AWS
    /// applies them ("Override your API's request and response parameters and status
    /// codes", apigateway-override-request-response-parameters; LocalStack's
    /// aws-validated test_integration_mock_with_response_override_in_request_template).
    fn integration_response(
        &self,
        call: &Call,
        response: &IntegrationResponse,
        body: String,
        mut context: RenderContext,
        overrides: Overrides,
    ) -> Result<Response, GatewayError> {
        let (content_type, body, overrides) = match pick_template(&response.templates) {
            Some((content_type, template)) => {
                // The request's context, moved on: `$input.body` is now the answer.
                context.body = body.into();
                context.overrides = overrides;
                let rendered =
                    self.render_with_overrides(call, "response template", template, &context)?;
                call.trace
                    .selected(&response.key, response.status, Some(&rendered.body));
                (content_type, rendered.body, rendered.overrides)
            }
            None => {
                call.trace.selected(&response.key, response.status, None);
                ("application/json", body, overrides)
            }
        };
        let status = match overrides.response_status {
            Some(code) => StatusCode::from_u16(code).map_err(|_| {
                tracing::warn!(target: "local::hop", "{} $context.responseOverride.status {code} is not a status -> 500", call.tag());
                GatewayError::ApiConfiguration
            })?,
            None => response.status,
        };
        self.hop(call, || {
            format!(
                "    integration response {:?} -> {}{}",
                response.key,
                status.as_u16(),
                if overrides.response_status.is_some() {
                    " ($context.responseOverride.status)"
                } else {
                    ""
                }
            )
        });
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(content_type) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        self.map_headers(call, &response.parameters, &mut headers);
        for (name, value) in &overrides.response_headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                tracing::warn!(target: "local::hop", "{} $context.responseOverride.header.{} is not a valid header name and value -> 500", call.tag(), escape(name));
                return Err(GatewayError::ApiConfiguration);
            };
            headers.insert(name, value);
        }
        call.trace.body(&body);
        Ok(response_of(status, headers, body))
    }

    fn render_with_overrides(
        &self,
        call: &Call,
        what: &str,
        template: &Template,
        context: &RenderContext,
    ) -> Result<Rendered, GatewayError> {
        template.render_with_overrides(context).map_err(|e| {
            // Always logged: a template that fails is a bug in openapi.yaml.
            tracing::warn!(target: "local::hop", "{} {what} failed: {} -> 500", call.tag(), escape(&e.to_string()));
            // The request template is its own hop; a response template is the integration's.
            let hop = if what == "request template" {
                Hop::Template
            } else {
                Hop::Integration
            };
            call.trace
                .stop(hop, format!("the {what} failed: {e}: API Gateway answers 500"));
            GatewayError::ApiConfiguration
        })
    }

    /// A gateway response, as the definition customises it (or API Gateway's default).
    fn gateway_response(&self, call: &Call, error: GatewayError) -> Response {
        let responses = &self.definition.gateway_responses;
        let default_status = error.default_status();
        let group = if default_status.is_client_error() {
            "DEFAULT_4XX"
        } else {
            "DEFAULT_5XX"
        };
        let specific = responses.get(error.response_type());
        let fallback = responses.get(group);
        // A customised type keeps its own status; otherwise DEFAULT_4XX/5XX may set one.
        let status = match specific {
            Some(def) => def.status.unwrap_or(default_status),
            None => fallback.and_then(|d| d.status).unwrap_or(default_status),
        };
        let def = specific.or(fallback);

        let message = error.message();
        let error_properties = [
            ("message", message.unwrap_or("").to_owned()),
            (
                "messageString",
                message.map_or("null".to_owned(), |m| Value::from(m).to_string()),
            ),
            ("responseType", error.response_type().to_owned()),
            ("validationErrorString", String::new()),
        ];
        let context = RenderContext {
            stage: self.stage.as_str().into(),
            request_id: call.request_id.as_str().into(),
            http_method: call.method.as_str().into(),
            path: call.path.as_str().into(),
            source_ip: call.source_ip.as_str().into(),
            stage_variables: self.stage_variables.clone(),
            error: error_properties
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            // Before routing there is no resource: its ID is empty then (what AWS
            // renders for it in that case is not recorded anywhere we found).
            facts: Some(self.facts(call, call.resource_id.get().map_or("", String::as_str))),
            ..RenderContext::default()
        };
        let template: &Template = match def.and_then(|d| pick_template(&d.templates)) {
            Some((_, template)) => template,
            None => default_gateway_template(),
        };
        let body = template.render(&context).unwrap_or_else(|e| {
            tracing::warn!(target: "local::hop", "{} gateway response template failed: {}", call.tag(), escape(&e.to_string()));
            String::new()
        });

        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(error.error_type()),
        );
        if let Some(def) = def {
            self.map_headers(call, &def.parameters, &mut headers);
        }
        self.hop(call, || {
            format!(
                "    gateway response {} -> {}",
                error.response_type(),
                status.as_u16()
            )
        });
        call.trace.body(&body);
        response_of(status, headers, body)
    }

    /// Sets the mapped headers; a source with no value (an unset stage variable, an
    /// absent request header) sets nothing, as in API Gateway.
    fn map_headers(
        &self,
        call: &Call,
        parameters: &[(HeaderName, ValueSource)],
        headers: &mut HeaderMap,
    ) {
        for (name, source) in parameters {
            let value = match source {
                ValueSource::Static(value) => {
                    headers.insert(name.clone(), value.clone());
                    continue;
                }
                ValueSource::SiteOrigin => {
                    if let Some(value) = &self.site_origin_header {
                        headers.insert(name.clone(), value.clone());
                    }
                    continue;
                }
                ValueSource::StageVariable(variable) => {
                    self.stage_variables.get(variable).map(String::as_str)
                }
                ValueSource::RequestHeader(header) => header_text(&call.headers, header.as_str()),
                ValueSource::Context(property) => match property.as_str() {
                    "requestId" => Some(call.request_id.as_str()),
                    "stage" => Some(self.stage.as_str()),
                    "httpMethod" => Some(call.method.as_str()),
                    "path" => Some(call.path.as_str()),
                    _ => None,
                },
            };
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(name.clone(), value);
            }
        }
    }

    /// Logs one hop of a request (target `local::hop`); `line` is only built when the
    /// target is enabled.
    fn hop(&self, call: &Call, line: impl FnOnce() -> String) {
        if call.logging {
            // Paths, principals, context values and Lambda answers come from clients.
            tracing::info!(target: "local::hop", "{} {}", call.tag(), escape(&line()));
        }
    }
}

impl Gateway {
    /// The `$context` values of this stage and request that only the emulator knows:
    /// the account and API ID of the method ARN, the resource's ID (as in the REQUEST
    /// authorizer event), a deployment ID stable per stage, the response's
    /// `x-amz-apigw-id`, the request's arrival time and HTTP version.
    fn facts<'a>(&'a self, call: &'a Call, resource: &'a str) -> mapping::RequestFacts<'a> {
        use axum::http::Version;
        mapping::RequestFacts {
            account_id: ACCOUNT_ID.into(),
            api_id: API_ID.into(),
            resource_id: resource.into(),
            deployment_id: self.deployment_id.as_str().into(),
            extended_request_id: call.extended_request_id.as_str().into(),
            request_time_epoch_ms: call.request_time_ms,
            // `HTTP/1.1`, as API Gateway writes it (and as `Version`'s Debug does).
            protocol: match call.version {
                Version::HTTP_10 => "HTTP/1.0".into(),
                Version::HTTP_11 => "HTTP/1.1".into(),
                Version::HTTP_2 => "HTTP/2.0".into(),
                other => format!("{other:?}").into(),
            },
        }
    }
}

impl Call {
    /// The first 8 characters of the request ID, to tie log lines together.
    fn tag(&self) -> &str {
        &self.request_id[..8]
    }

    /// A header name as the client spelled it (lower case when not recorded).
    fn spell<'a>(&'a self, name: &'a HeaderName) -> &'a str {
        crate::header_names::spell(self.header_names.as_ref(), name.as_str())
    }
}

/// The authorizer hop ends in a 401 from API Gateway itself.
fn not_invoked(call: &Call, reason: String) {
    call.trace
        .with_authorizer(|a| a.outcome = AuthorizerOutcome::NotInvoked(reason));
}

/// The authorizer hop ends in a 500.
fn failed(call: &Call, reason: String) {
    call.trace
        .with_authorizer(|a| a.outcome = AuthorizerOutcome::Failed(reason));
}

/// API Gateway's answer to a body over [`MAX_BODY_BYTES`] (see [`PAYLOAD_TOO_LARGE_BODY`]).
fn payload_too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONTENT_TYPE, "text; charset=utf-8")],
        PAYLOAD_TOO_LARGE_BODY,
    )
        .into_response()
}

/// The body API Gateway gives response templates for a Lambda error.
fn error_body(error: &FunctionError) -> String {
    error.to_json().to_string()
}

/// The response template for `application/json` (what API Gateway uses for a client
/// that accepts anything), else the first one.
fn pick_template(templates: &BTreeMap<String, Template>) -> Option<(&str, &Template)> {
    templates
        .get_key_value("application/json")
        .or_else(|| templates.iter().next())
        .map(|(k, t)| (k.as_str(), t))
}

fn default_gateway_template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        Template::parse(DEFAULT_GATEWAY_TEMPLATE).expect("the default gateway template parses")
    })
}

/// A header's value as text. Known names are passed as `HeaderName`s: a `&str` is parsed
/// into one on every lookup.
fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The query string's pairs, decoded, in order. Collected into a map, the last value
/// of a name wins, as API Gateway hands them to templates.
fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                mapping::url_decode(name).unwrap_or_else(|_| name.to_owned()),
                mapping::url_decode(value).unwrap_or_else(|_| value.to_owned()),
            )
        })
        .collect()
}

/// The request ID header on every response (`x-amzn-RequestId`; `http` keeps names in
/// lower case). Names made once: inserting by `&str` parses the name each time.
const X_AMZN_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
/// API Gateway's extended request ID header ([`apigw_id`]).
const X_AMZ_APIGW_ID: HeaderName = HeaderName::from_static("x-amz-apigw-id");

/// A client address as `$context.identity.sourceIp` spells it. IPv4 (every local
/// client) is written octet by octet with `itoa`: `Ipv4Addr`'s `Display` goes through
/// the formatting machinery, ~1.3k instructions a request (callgrind).
fn ip_text(ip: std::net::IpAddr) -> String {
    let std::net::IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut text = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        text.push_str(itoa::Buffer::new().format(octet));
    }
    text
}

/// An `x-amz-apigw-id` (API Gateway's extended request ID) for one response: 15
/// letters and digits and `=`, the shape AWS sends (e.g. `Ab1CdEfGhIjKlMn=`; LocalStack
/// makes it the same way, response_enricher.py).
fn apigw_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let random = uuid::Uuid::new_v4();
    let mut id = [b'='; 16];
    for (letter, byte) in id.iter_mut().zip(random.as_bytes().iter().take(15)) {
        *letter = ALPHABET[usize::from(*byte) % ALPHABET.len()];
    }
    String::from_utf8_lossy(&id).into_owned()
}

/// A response of exactly these parts. Built directly: `(status, headers, body)
/// .into_response()` makes a text/plain response and then merges the headers into its
/// map, rehashing each (~3% of a cached request in the load bench).
fn response_of(status: StatusCode, headers: HeaderMap, body: String) -> Response {
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_addresses_read_as_their_display_form() {
        for ip in [
            "127.0.0.1",
            "0.0.0.0",
            "10.200.3.255",
            "255.255.255.255",
            "::1",
            "fe80::1",
        ] {
            let parsed: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(parsed), ip);
            assert_eq!(ip_text(parsed), parsed.to_string());
        }
    }

    #[test]
    fn an_apigw_id_is_fifteen_letters_or_digits_and_an_equals_sign() {
        let ids: Vec<String> = (0..50).map(|_| apigw_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 16, "{id}");
            assert!(id[..15].bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
            assert!(id.ends_with('='), "{id}");
        }
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
