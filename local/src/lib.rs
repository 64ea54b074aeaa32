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
//! ## Run it
//! ```text
//! cargo xtask demo                                  # builds the site, then this
//! cargo run -p local --bin local-stack -- --help    # the stack alone
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
mod server;
pub mod site;

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
use server::{Server, local_addr};

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
    /// `examples/allow-deny-authorizer/template.yaml`), for the message when one has
    /// no handler.
    pub template: Option<PathBuf>,
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
    gateway: Arc<Gateway>,
    lambdas: &'static str,
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
        self.gateway.authorizer_invocations()
    }

    /// How many times each function has been invoked, as `GET /.local/invocations`
    /// answers.
    pub fn invocations(&self) -> apigw::request_trace::Invocations {
        self.gateway.invocations()
    }

    /// How the Lambdas run, for the banner: "in process" or "binaries".
    pub fn lambdas(&self) -> &'static str {
        self.lambdas
    }

    /// Stops the API: from now on connections to it are refused. The site and the
    /// identity provider keep running.
    pub async fn stop_api(&self) {
        let server = self.api.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(server) = server {
            server.stop().await;
        }
    }

    /// Stops every server gracefully and the Lambda processes, if any.
    pub async fn shutdown(self) {
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
    let definition = Arc::new(match &config.definition {
        Some(path) => ApiDefinition::from_file(path)?,
        None => ApiDefinition::embedded()?,
    });
    check_functions(&config, &definition)?;
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
    let site_dir = config
        .site_dir
        .as_deref()
        .map(site::check_site_dir)
        .transpose()?;

    // Bind everything first: the URLs go into config.json, CORS and the authorizer.
    let api_listener = Server::bind("api", config.api_port).await?;
    let idp_listener = Server::bind("idp", config.idp_port).await?;
    let site_listener = match site_dir {
        Some(_) => Some(Server::bind("site", config.site_port).await?),
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

    let functions = match functions(&config, &jwks_url).await {
        Ok(mut functions) => {
            functions.extend(config.functions.clone().into_map());
            functions
        }
        Err(error) => {
            idp.stop().await;
            return Err(error);
        }
    };
    let gateway = Arc::new(Gateway::new(GatewaySettings {
        definition,
        stage: config.stage.clone(),
        stage_variables,
        site_origin: site_origin.clone(),
        functions,
        ttl_override: config.authorizer_ttl_seconds,
        clock: config.clock.clone(),
        verbose: config.verbose,
    }));
    // The stage, and beside it the local-only trace endpoints (never deployed).
    let api_app = apigw::trace::local_app(gateway.clone()).merge(gateway::app(gateway.clone()));
    let api = Server::spawn(api_listener, api_app, config.limits);
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
        gateway,
        lambdas: match config.lambdas {
            LambdaMode::Binaries { .. } => "binaries behind a Lambda Runtime API",
            LambdaMode::Rie { .. } => "binaries under AWS's Runtime Interface Emulator",
            LambdaMode::InProcess | LambdaMode::Custom { .. } => "in process",
        },
    })
}

/// Every function the definition names must be one the stack runs: built in, or
/// registered; a name the template declares without a handler, or one it lacks, stops
/// the start with a message naming it.
fn check_functions(config: &StackConfig, definition: &ApiDefinition) -> Result<(), Error> {
    let known = |name: &str| {
        name == HELLO_FUNCTION
            || name == AUTHORIZER_FUNCTION
            || config.functions.get(name).is_some()
    };
    let Some(name) = definition.functions().into_iter().find(|f| !known(f)) else {
        return Ok(());
    };
    let registered: Vec<&str> = [AUTHORIZER_FUNCTION, HELLO_FUNCTION]
        .into_iter()
        .chain(config.functions.names())
        .collect();
    let message = match &config.template {
        Some(path) if template::function_names(path)?.contains(&name) => format!(
            "the API definition invokes {name}, a function of {}, but no handler is registered under that name (registered: {}); register one in StackConfig::functions (running a template's built binary is not emulated yet)",
            path.display(),
            registered.join(", ")
        ),
        Some(path) => format!(
            "the API definition invokes {name}, which is neither a registered handler ({}) nor a function of {}",
            registered.join(", "),
            path.display()
        ),
        None => format!(
            "the API definition invokes {name}, which is not a registered handler ({}); register one in StackConfig::functions",
            registered.join(", ")
        ),
    };
    Err(Error::UnknownFunction(message))
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
