//! # local — the whole stack on one machine
//!
//! One command runs, on 127.0.0.1, everything the deployed stack runs in AWS:
//!
//! ```text
//!  site (4100) ──POST /sign-in──► identity provider (4102): Google-shaped ID tokens, JWKS
//!       │
//!       └──GET /prod/hello, Authorization: <token>──► API Gateway emulator (4101)
//!             openapi.yaml: route, TOKEN or REQUEST authorizer (cache, policy), request template,
//!             integration responses, CORS, gateway responses
//!               ├─► authorizer (production code; JWKS from the identity provider)
//!               └─► hello
//! ```
//!
//! This crate is the wiring: the API Gateway emulator is the `apigw` crate (re-exported
//! here as [`definition`], [`gateway`], [`policy`], [`lambda`], [`template`]), run with
//! the `authorizer` and `hello` Lambdas ([`functions`]), the identity provider ([`idp`])
//! and the site server ([`site`]).
//!
//! The emulator is driven by `openapi.yaml`, the very file `template.yaml` deploys: no
//! route, TTL, template or CORS header is written in Rust. The Lambdas run in process
//! through their library handlers, as the real `bootstrap` binaries behind a Lambda
//! Runtime API ([`LambdaMode::Binaries`]), or as those binaries under AWS's own Lambda
//! Runtime Interface Emulator when it is installed ([`LambdaMode::Rie`]).
//!
//! Another API runs the same way ([`StackConfig::definition`], `--definition`): each
//! function its URIs name (`${XFunction.Arn}`) runs in process when a handler is
//! registered under that name ([`StackConfig::functions`]; `AuthorizerFunction` and
//! `HelloFunction` are built in), else as its binary from the SAM template
//! ([`StackConfig::template`], by default the `template.yaml` beside the definition):
//! built with cargo as `sam build` would choose it (`CodeUri`, `Metadata.BuildMethod:
//! rust-cargolambda`, `BuildProperties.Binary`), run behind a Runtime API (under RIE with
//! `--lambdas rie`) with the template's `Environment.Variables`, `Timeout` and
//! `MemorySize`, `Globals.Function` merged in; `--env-vars` (sam local's file) and
//! `--parameter-overrides` override them ([`template_functions`]). The banner lists how
//! each function runs.
//!
//! ## Run it
//! ```text
//! cargo xtask demo                                  # builds the site, then this
//! cargo run -p local --bin local-stack -- --help    # the stack alone
//! cargo run -p local --bin local-stack -- --no-site \
//!   --definition examples/allow-deny-authorizer/openapi.yaml   # another API, its template's functions built
//! cargo test -p local                               # through real HTTP
//! cargo test -p apigw                               # the emulator alone, no ports
//! cargo bench -p local --bench load                 # 10,000 requests at 64 concurrent
//! ```
//!
//! ## From a test
//! ```no_run
//! # async fn demo() -> Result<(), local::Error> {
//! let stack = local::start(local::StackConfig {
//!     api_port: 0, idp_port: 0, site_port: 0,
//!     ..local::StackConfig::default()
//! }).await?;
//! println!("{} {}", stack.api_url(), stack.idp_url()); // http://127.0.0.1:P/prod ...
//! stack.shutdown().await;
//! # Ok(()) }
//! ```

pub mod cli;
mod error;
pub mod function_logs;
pub mod functions;
pub mod idp;
mod reload;
mod server;
pub mod site;
pub mod template_functions;

// The API Gateway emulator is its own crate; re-exported so that `local::definition`,
// `local::gateway`, `local::lambda`, `local::policy`, `local::template` and
// `local::Clock` stay.
pub use apigw::{Clock, definition, gateway, lambda, policy, template};

// In crates of their own (the runners are `testkit`'s too); re-exported so that
// `local::rie`, `local::runtime_api`, `local::host_check` and `local::log_text` stay.
pub use lambda_runners::{rie, runtime_api};
pub use loopback_guard::{host_check, log_text};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tower_http::limit::RequestBodyLimitLayer;

pub use apigw::ApiDefinition;
pub use apigw::FunctionRegistry;
pub use error::Error;
pub use functions::{FunctionError, LambdaFunction};
pub use server::Limits;

use functions::{
    AUTHORIZER_FUNCTION, HELLO_FUNCTION, InProcessAuthorizer, InProcessHello, ProcessFunction,
    RieFunction,
};
use gateway::{Gateway, GatewaySettings};
use idp::IdentityProvider;
pub use reload::DEBOUNCE as RELOAD_DEBOUNCE;
use reload::{LiveGateway, Watcher};
use server::{Server, local_addr};
pub use template_functions::FunctionRun;

/// The client ID the local identity provider issues tokens for, and the authorizer accepts.
pub const DEFAULT_CLIENT_ID: &str = "local-demo.apps.googleusercontent.com";

/// How long a Lambda binary may take to answer (its configured timeout).
const BINARY_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request body the site accepts: it serves files and reads no body.
const SITE_MAX_BODY_BYTES: usize = 16 * 1024;

/// How the stack runs the Lambda functions.
#[derive(Clone, Default)]
pub enum LambdaMode {
    /// The `authorizer` and `hello` library handlers, called in process.
    #[default]
    InProcess,
    /// The built `bootstrap` binaries, each behind its own Lambda Runtime API.
    Binaries { authorizer: PathBuf, hello: PathBuf },
    /// The built `bootstrap` binaries, each under AWS's own Lambda Runtime Interface
    /// Emulator (`rie`, from the aws-sam-cli wheel; see [`rie::locate`]).
    Rie {
        rie: PathBuf,
        authorizer: PathBuf,
        hello: PathBuf,
    },
    /// Any function in place of either handler (`None` keeps the in-process one): for
    /// tests of what API Gateway does with odd answers.
    Custom {
        authorizer: Option<Arc<dyn LambdaFunction>>,
        hello: Option<Arc<dyn LambdaFunction>>,
    },
}

impl std::fmt::Debug for LambdaMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LambdaMode::InProcess => f.write_str("InProcess"),
            LambdaMode::Binaries { authorizer, hello } => f
                .debug_struct("Binaries")
                .field("authorizer", authorizer)
                .field("hello", hello)
                .finish(),
            LambdaMode::Rie {
                rie,
                authorizer,
                hello,
            } => f
                .debug_struct("Rie")
                .field("rie", rie)
                .field("authorizer", authorizer)
                .field("hello", hello)
                .finish(),
            LambdaMode::Custom { authorizer, hello } => f
                .debug_struct("Custom")
                .field("authorizer", &authorizer.as_ref().map(|_| "custom"))
                .field("hello", &hello.as_ref().map(|_| "custom"))
                .finish(),
        }
    }
}

/// Everything [`start`] needs. `Default` gives the command's defaults.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// The API Gateway emulator's port (0 = any free port).
    pub api_port: u16,
    /// The identity provider's port (0 = any free port).
    pub idp_port: u16,
    /// The site's port (0 = any free port); used only with `site_dir`.
    pub site_port: u16,
    /// Serve this built site (e.g. `site/dist`) with a generated `config.json`.
    pub site_dir: Option<PathBuf>,
    /// The stage name, first segment of every API path.
    pub stage: String,
    /// The OAuth client ID tokens are issued for and accepted with.
    pub client_id: String,
    /// How the Lambdas run.
    pub lambdas: LambdaMode,
    /// Log each hop's full JSON, not only a summary.
    pub verbose: bool,
    /// Replaces the definition's `authorizerResultTtlInSeconds` (0 disables the cache).
    pub authorizer_ttl_seconds: Option<u32>,
    /// `ALLOWED_HOSTED_DOMAINS` for the authorizer (empty: everyone).
    pub allowed_hosted_domains: Vec<String>,
    /// Another API definition file instead of the embedded `openapi.yaml`.
    pub definition: Option<PathBuf>,
    /// Stage variables. `siteOrigin` is also the local site's origin: what openapi.yaml's
    /// CORS headers (`'https://${SiteDistribution.DomainName}'`) and the identity
    /// provider allow; it defaults to the site's URL (or `http://127.0.0.1:{site_port}`
    /// when no site is served).
    pub stage_variables: BTreeMap<String, String>,
    /// The clock of the authorizer cache.
    pub clock: Clock,
    /// The header-read and whole-request deadlines of every server.
    pub limits: Limits,
    /// Handlers by the logical names the definition's URIs use (`${XFunction.Arn}`),
    /// in process; they take the place of the built-in `AuthorizerFunction` and
    /// `HelloFunction` when named alike.
    pub functions: FunctionRegistry,
    /// The SAM template whose functions the definition's URIs name (e.g.
    /// `examples/allow-deny-authorizer/template.yaml`). A function it declares that has
    /// no handler in process is built with cargo from its `CodeUri` and `Metadata` and
    /// run as a binary, with the template's environment and timeout.
    pub template: Option<PathBuf>,
    /// SAM CLI's `--env-vars` file for the template's functions:
    /// `{"Parameters": {"VAR": "value"}, "MyFunction": {"VAR": "value"}}`.
    pub env_vars: Option<PathBuf>,
    /// The template's parameters by name, in place of their `Default`
    /// (`--parameter-overrides Key=Value`).
    pub parameter_overrides: BTreeMap<String, String>,
    /// Watch `definition` and `template` and rebuild the gateway when either changes
    /// (hot reload; a file that does not build is logged and the previous gateway keeps
    /// serving). The embedded definition is never watched.
    pub watch: bool,
    /// The key server the authorizer fetches from (`GOOGLE_JWKS_URL`) instead of the
    /// identity provider's, e.g. one where nothing listens, to see it fail closed (500).
    pub jwks_url: Option<String>,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            api_port: 4101,
            idp_port: 4102,
            site_port: 4100,
            site_dir: None,
            stage: "prod".to_owned(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            lambdas: LambdaMode::InProcess,
            verbose: false,
            authorizer_ttl_seconds: None,
            allowed_hosted_domains: Vec::new(),
            definition: None,
            stage_variables: BTreeMap::new(),
            clock: Clock::default(),
            limits: Limits::default(),
            functions: FunctionRegistry::default(),
            template: None,
            env_vars: None,
            parameter_overrides: BTreeMap::new(),
            watch: false,
            jwks_url: None,
        }
    }
}

/// The running stack. Dropping it starts a graceful stop of every server without
/// waiting for it; [`RunningStack::shutdown`] waits.
pub struct RunningStack {
    api: Mutex<Option<Server>>,
    api_addr: SocketAddr,
    idp: Server,
    site: Option<Server>,
    stage: String,
    site_origin: String,
    identity: Arc<IdentityProvider>,
    live: Arc<LiveGateway>,
    watcher: Option<Watcher>,
    lambdas: &'static str,
    functions: Vec<FunctionRun>,
}

impl std::fmt::Debug for RunningStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningStack")
            .field("api", &self.api_url())
            .field("idp", &self.idp_url())
            .field("site", &self.site_url())
            .finish_non_exhaustive()
    }
}

impl RunningStack {
    /// The stage's base URL, e.g. `http://127.0.0.1:4101/prod` (the site's `apiUrl`).
    pub fn api_url(&self) -> String {
        format!("http://{}/{}", self.api_addr, self.stage)
    }

    /// The identity provider's base URL, e.g. `http://127.0.0.1:4102`.
    pub fn idp_url(&self) -> String {
        format!("http://{}", self.idp.addr)
    }

    /// The site's URL, e.g. `http://127.0.0.1:4100`, when a site is served.
    pub fn site_url(&self) -> Option<String> {
        self.site.as_ref().map(|s| format!("http://{}", s.addr))
    }

    /// The origin the API and the identity provider allow (`siteOrigin` in
    /// [`StackConfig::stage_variables`], else the site's URL).
    pub fn site_origin(&self) -> &str {
        &self.site_origin
    }

    /// How long tokens issued from now on live; negative issues already-expired tokens.
    pub fn set_token_lifetime_seconds(&self, seconds: i64) {
        self.identity.set_token_lifetime_seconds(seconds);
    }

    /// How many times the emulator has invoked the authorizer (decision cache misses):
    /// the authorizer functions' counts in [`RunningStack::invocations`].
    pub fn authorizer_invocations(&self) -> u64 {
        self.live.authorizer_invocations()
    }

    /// How many times each function has been invoked, as `GET /.local/invocations`
    /// answers.
    pub fn invocations(&self) -> apigw::request_trace::Invocations {
        self.live.invocations()
    }

    /// How the Lambdas run, for the banner: "in process" or "binaries".
    pub fn lambdas(&self) -> &'static str {
        self.lambdas
    }

    /// How each function the definition invokes runs: in process, or which binary
    /// (built from the template) under which runner; in name order.
    pub fn functions(&self) -> &[FunctionRun] {
        &self.functions
    }

    /// Stops the API: from now on connections to it are refused. The site and the
    /// identity provider keep running.
    pub async fn stop_api(&self) {
        let server = self.api.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(server) = server {
            server.stop().await;
        }
    }

    /// The files watched for changes (absolute), empty unless [`StackConfig::watch`].
    pub fn watched_files(&self) -> &[PathBuf] {
        self.watcher.as_ref().map_or(&[], |w| w.files())
    }

    /// Stops every server gracefully and the Lambda processes, if any.
    pub async fn shutdown(mut self) {
        // No reload while stopping.
        self.watcher = None;
        self.stop_api().await;
        if let Some(site) = self.site {
            site.stop().await;
        }
        self.idp.stop().await;
    }
}

/// Starts the identity provider, the Lambdas, the API Gateway emulator and, with
/// `site_dir`, the site.
pub async fn start(config: StackConfig) -> Result<RunningStack, Error> {
    check_config(&config)?;
    // The in-process functions' log lines go into each request's trace.
    function_logs::install();
    let (definition, plan) = load_definition(&config).await?;
    let site_dir = config
        .site_dir
        .as_deref()
        .map(site::check_site_dir)
        .transpose()?;
    // Everything is checked: build the template's binaries before anything listens.
    let built = template_functions::build(&plan).await?;

    // Bind everything first: the URLs go into config.json, CORS and the authorizer.
    let api_listener = server::bind("api", config.api_port).await?;
    let idp_listener = server::bind("idp", config.idp_port).await?;
    let site_listener = match site_dir {
        Some(_) => Some(server::bind("site", config.site_port).await?),
        None => None,
    };
    let api_addr = local_addr(&api_listener);
    let idp_url = format!("http://{}", local_addr(&idp_listener));
    let api_url = format!("http://{api_addr}/{}", config.stage);
    let site_port = site_listener
        .as_ref()
        .map_or(config.site_port, |l| local_addr(l).port());

    let mut stage_variables = config.stage_variables.clone();
    let site_origin = stage_variables
        .entry("siteOrigin".to_owned())
        .or_insert_with(|| format!("http://127.0.0.1:{site_port}"))
        .clone();

    // The deployed site's headers (template.yaml), with the local API and IdP in them.
    let site_headers = site::SecurityHeaders::local(&format!("http://{api_addr}"), &idp_url)?;

    let jwks_url = format!("{idp_url}/oauth2/v3/certs");
    let identity = Arc::new(IdentityProvider::generate(
        &config.client_id,
        jwks_url.clone(),
    )?);
    let idp = Server::spawn(
        idp_listener,
        idp::app(identity.clone(), &site_origin),
        config.limits,
    );

    // The authorizer's key server: the identity provider's, unless another is named.
    let authorizer_jwks_url = config.jwks_url.clone().unwrap_or_else(|| jwks_url.clone());
    let built_in = match functions(&config, &authorizer_jwks_url).await {
        Ok(functions) => functions,
        Err(error) => {
            idp.stop().await;
            return Err(error);
        }
    };
    let binaries = match template_functions::start(&plan, &built, &config.lambdas).await {
        Ok(binaries) => binaries,
        Err(error) => {
            idp.stop().await;
            return Err(error);
        }
    };
    let recipe = Arc::new(GatewayRecipe {
        config: config.clone(),
        stage_variables,
        site_origin: site_origin.clone(),
        built_in,
    });
    let live = Arc::new(LiveGateway::new(
        recipe.gateway(definition, recipe.functions(binaries)),
    ));
    let watched: Vec<PathBuf> = if config.watch {
        config
            .definition
            .iter()
            .chain(config.template.iter())
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let watcher = if watched.is_empty() {
        None
    } else {
        let rebuild: reload::Rebuild = Box::new(move || {
            let recipe = recipe.clone();
            Box::pin(async move { recipe.rebuild().await })
        });
        match reload::watch(&watched, live.clone(), rebuild) {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                idp.stop().await;
                return Err(error);
            }
        }
    };
    let api = server::spawn_api(
        api_listener,
        reload::Api(live.clone()),
        config.limits,
        live.reads_header_names(),
    );
    let site = match (site_listener, site_dir) {
        (Some(listener), Some(dir)) => Some(Server::spawn(
            listener,
            site::app(&dir, site::config_json(&api_url, &idp_url), site_headers)
                .layer(RequestBodyLimitLayer::new(SITE_MAX_BODY_BYTES)),
            config.limits,
        )),
        _ => None,
    };
    Ok(RunningStack {
        api: Mutex::new(Some(api)),
        api_addr,
        idp,
        site,
        stage: config.stage,
        site_origin,
        identity,
        live,
        watcher,
        lambdas: match config.lambdas {
            LambdaMode::Binaries { .. } => "binaries behind a Lambda Runtime API",
            LambdaMode::Rie { .. } => "binaries under AWS's Runtime Interface Emulator",
            LambdaMode::InProcess | LambdaMode::Custom { .. } => "in process",
        },
        functions: plan.runs,
    })
}

/// What builds the gateway, at start-up and on every reload.
struct GatewayRecipe {
    config: StackConfig,
    stage_variables: BTreeMap<String, String>,
    site_origin: String,
    /// The built-in functions (`AuthorizerFunction`, `HelloFunction`), kept across reloads.
    built_in: BTreeMap<String, Arc<dyn LambdaFunction>>,
}

impl GatewayRecipe {
    /// Every function by name: the built-in ones, the template's started binaries, and the
    /// registered handlers, which take the place of either when named alike.
    fn functions(
        &self,
        binaries: BTreeMap<String, Arc<dyn LambdaFunction>>,
    ) -> BTreeMap<String, Arc<dyn LambdaFunction>> {
        let mut functions = self.built_in.clone();
        functions.extend(binaries);
        functions.extend(self.config.functions.clone().into_map());
        functions
    }

    /// A gateway for `definition` and `functions`, with an empty decision cache.
    fn gateway(
        &self,
        definition: Arc<ApiDefinition>,
        functions: BTreeMap<String, Arc<dyn LambdaFunction>>,
    ) -> Arc<Gateway> {
        Arc::new(Gateway::new(GatewaySettings {
            definition,
            stage: self.config.stage.clone(),
            stage_variables: self.stage_variables.clone(),
            site_origin: self.site_origin.clone(),
            functions,
            ttl_override: self.config.authorizer_ttl_seconds,
            clock: self.config.clock.clone(),
            verbose: self.config.verbose,
        }))
    }

    /// Reads, checks and builds everything from the files again, as [`start`] does: the
    /// template's functions are built and started anew (the old processes stop when the
    /// replaced gateway goes).
    async fn rebuild(&self) -> Result<Arc<Gateway>, Error> {
        let (definition, plan) = load_definition(&self.config).await?;
        let built = template_functions::build(&plan).await?;
        let binaries = template_functions::start(&plan, &built, &self.config.lambdas).await?;
        Ok(self.gateway(definition, self.functions(binaries)))
    }
}

/// The definition `config` names and the plan of its template functions, checked
/// against what the stack runs (every function it invokes, the TTL override).
async fn load_definition(
    config: &StackConfig,
) -> Result<(Arc<ApiDefinition>, template_functions::Plan), Error> {
    let definition = match &config.definition {
        Some(path) => ApiDefinition::from_file(path)?,
        None => ApiDefinition::embedded()?,
    };
    let plan = template_functions::plan(config, &definition).await?;
    if config.authorizer_ttl_seconds.is_some_and(|ttl| ttl > 0)
        && let Some(name) = definition.uncacheable_authorizers().first()
    {
        return Err(Error::InvalidSetting {
            name: "authorizer TTL",
            detail: format!(
                "the REQUEST authorizer {name} has no identitySource, which API Gateway requires when caching is on"
            ),
        });
    }
    Ok((Arc::new(definition), plan))
}

fn check_config(config: &StackConfig) -> Result<(), Error> {
    let stage_ok = !config.stage.is_empty()
        && config
            .stage
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !stage_ok {
        return Err(Error::InvalidSetting {
            name: "stage",
            detail: format!("{:?} must be letters, digits, - and _", config.stage),
        });
    }
    if let Some(ttl) = config.authorizer_ttl_seconds
        && ttl > definition::MAX_AUTHORIZER_TTL_SECONDS
    {
        return Err(Error::InvalidSetting {
            name: "authorizer TTL",
            detail: format!(
                "{ttl} s is more than API Gateway's maximum of {} s",
                definition::MAX_AUTHORIZER_TTL_SECONDS
            ),
        });
    }
    Ok(())
}

/// Both Lambda binaries must exist before anything is started.
fn require_binaries(authorizer: &Path, hello: &Path) -> Result<(), Error> {
    for (function, path) in [("authorizer", authorizer), ("hello", hello)] {
        if !path.is_file() {
            return Err(Error::MissingBinary {
                function,
                path: path.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Turns a failure to start `path` into the stack's error.
fn spawn_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::Spawn { path, source }
}

/// The functions by the logical names the definition uses.
async fn functions(
    config: &StackConfig,
    jwks_url: &str,
) -> Result<BTreeMap<String, Arc<dyn LambdaFunction>>, Error> {
    let domains = config.allowed_hosted_domains.join(",");
    let env = [
        ("GOOGLE_CLIENT_IDS", config.client_id.as_str()),
        ("GOOGLE_JWKS_URL", jwks_url),
        ("ALLOWED_HOSTED_DOMAINS", domains.as_str()),
    ];
    let in_process_authorizer = || async {
        let authorizer = InProcessAuthorizer::new(|name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .await?;
        Ok::<Arc<dyn LambdaFunction>, Error>(Arc::new(authorizer))
    };
    let (authorizer, hello): (Arc<dyn LambdaFunction>, Arc<dyn LambdaFunction>) =
        match &config.lambdas {
            LambdaMode::InProcess => (in_process_authorizer().await?, Arc::new(InProcessHello)),
            LambdaMode::Custom { authorizer, hello } => (
                match authorizer {
                    Some(f) => f.clone(),
                    None => in_process_authorizer().await?,
                },
                hello
                    .clone()
                    .unwrap_or_else(|| Arc::new(InProcessHello) as Arc<dyn LambdaFunction>),
            ),
            LambdaMode::Binaries { authorizer, hello } => {
                require_binaries(authorizer, hello)?;
                let authorizer_fn =
                    ProcessFunction::start(authorizer, "authorizer", &env, BINARY_TIMEOUT)
                        .await
                        .map_err(spawn_error(authorizer))?;
                let hello_fn = ProcessFunction::start(hello, "hello", &[], BINARY_TIMEOUT)
                    .await
                    .map_err(spawn_error(hello))?;
                (Arc::new(authorizer_fn), Arc::new(hello_fn))
            }
            LambdaMode::Rie {
                rie,
                authorizer,
                hello,
            } => {
                require_binaries(authorizer, hello)?;
                let authorizer_fn = RieFunction::start(rie, authorizer, &env, BINARY_TIMEOUT)
                    .await
                    .map_err(spawn_error(rie))?;
                let hello_fn = RieFunction::start(rie, hello, &[], BINARY_TIMEOUT)
                    .await
                    .map_err(spawn_error(rie))?;
                (Arc::new(authorizer_fn), Arc::new(hello_fn))
            }
        };
    Ok(BTreeMap::from([
        (AUTHORIZER_FUNCTION.to_owned(), authorizer),
        (HELLO_FUNCTION.to_owned(), hello),
    ]))
}
