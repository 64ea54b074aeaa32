//! The `local-stack` command: flags, logging, the banner, Ctrl-C.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::{Error, LambdaMode, RunningStack, StackConfig};

/// Runs the whole greeting stack on 127.0.0.1: the site, an API Gateway emulator driven
/// by openapi.yaml, the authorizer and hello Lambdas, and a local identity provider.
///
/// Every request to the API is logged hop by hop: token fingerprint, the authorizer's
/// decision (and whether it came from the cache), the rendered request template, hello's
/// answer and the status. Stop with Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "local-stack", version, about, long_about, after_help = AFTER_HELP)]
pub struct Cli {
    /// The built site to serve (with a generated config.json).
    #[arg(long, value_name = "DIR", default_value = "site/dist")]
    pub site_dir: PathBuf,
    /// Don't serve the site (API and identity provider only).
    #[arg(long, conflicts_with = "site_dir")]
    pub no_site: bool,
    /// Port of the site (0: any free port).
    #[arg(long, default_value_t = 4100, value_name = "PORT")]
    pub site_port: u16,
    /// Port of the API Gateway emulator (0: any free port).
    #[arg(long, default_value_t = 4101, value_name = "PORT")]
    pub api_port: u16,
    /// Port of the identity provider (0: any free port).
    #[arg(long, default_value_t = 4102, value_name = "PORT")]
    pub idp_port: u16,
    /// The API stage (first path segment).
    #[arg(long, default_value = "prod")]
    pub stage: String,
    /// The OAuth client ID tokens are issued for and accepted with.
    #[arg(long, default_value = crate::DEFAULT_CLIENT_ID, value_name = "ID")]
    pub client_id: String,
    /// Authorizer cache TTL in seconds, replacing openapi.yaml's (0 turns the cache off).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(0..=3600))]
    pub authorizer_ttl: Option<u32>,
    /// Google Workspace domains the authorizer allows (comma-separated); others get 403.
    #[arg(long, value_delimiter = ',', value_name = "DOMAINS")]
    pub allowed_hosted_domains: Vec<String>,
    /// How the Lambdas run.
    #[arg(long, value_enum, default_value_t = Lambdas::InProcess)]
    pub lambdas: Lambdas,
    /// AWS's Lambda Runtime Interface Emulator for --lambdas rie (default: the one in
    /// the aws-sam-cli that `cargo xtask test` installs in ~/.cache/greeting-stack).
    #[arg(long, value_name = "PATH")]
    pub rie: Option<PathBuf>,
    /// The authorizer binary for --lambdas binaries.
    #[arg(long, default_value = "target/debug/authorizer", value_name = "PATH")]
    pub authorizer_bin: PathBuf,
    /// The hello binary for --lambdas binaries.
    #[arg(long, default_value = "target/debug/hello", value_name = "PATH")]
    pub hello_bin: PathBuf,
    /// Another API definition instead of the openapi.yaml built in.
    #[arg(long, value_name = "FILE")]
    pub definition: Option<PathBuf>,
    /// Print each hop's full JSON (events, answers, headers), not only a summary.
    #[arg(long, short)]
    pub verbose: bool,
}

/// How the Lambdas run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lambdas {
    /// The library handlers, called in process (fast start, no build of the binaries).
    InProcess,
    /// The real bootstrap binaries behind a Lambda Runtime API, as in AWS.
    Binaries,
    /// The real bootstrap binaries under AWS's Lambda Runtime Interface Emulator.
    Rie,
}

const AFTER_HELP: &str = "\
Examples:
  cargo xtask demo                                   build the site, then run this
  cargo run -p local --bin local-stack               the stack with its defaults
  cargo run -p local --bin local-stack -- --no-site --authorizer-ttl 0 --verbose
  cargo build -p authorizer -p hello --bins && \\
    cargo run -p local --bin local-stack -- --lambdas binaries
  cargo run -p local --bin local-stack -- --lambdas rie   (AWS's emulator, after `cargo xtask test`)

RUST_LOG filters the log (default: local=info; local::lambda=debug shows the binaries' logs).";

impl Cli {
    /// The stack's settings from the flags. A missing site is reported, not fatal.
    pub fn config(&self) -> StackConfig {
        StackConfig {
            api_port: self.api_port,
            idp_port: self.idp_port,
            site_port: self.site_port,
            site_dir: (!self.no_site).then(|| self.site_dir.clone()),
            stage: self.stage.clone(),
            client_id: self.client_id.clone(),
            lambdas: match self.lambdas {
                Lambdas::InProcess => LambdaMode::InProcess,
                Lambdas::Binaries => LambdaMode::Binaries {
                    authorizer: self.authorizer_bin.clone(),
                    hello: self.hello_bin.clone(),
                },
                Lambdas::Rie => LambdaMode::Rie {
                    // Not installed: the bare name is looked up on PATH, and a failed
                    // start names it (the --rie help says where it comes from).
                    rie: self.rie.clone().unwrap_or_else(|| {
                        crate::rie::locate(None)
                            .unwrap_or_else(|_| PathBuf::from("aws-lambda-rie-x86_64"))
                    }),
                    authorizer: self.authorizer_bin.clone(),
                    hello: self.hello_bin.clone(),
                },
            },
            verbose: self.verbose,
            authorizer_ttl_seconds: self.authorizer_ttl,
            allowed_hosted_domains: self.allowed_hosted_domains.clone(),
            definition: self.definition.clone(),
            ..StackConfig::default()
        }
    }
}

/// Logs to stderr: `RUST_LOG`, else `local=info` (the hop-by-hop lines).
pub fn init_logging(verbose: bool) {
    let default = if verbose {
        "local=info,local::lambda=debug"
    } else {
        "local=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // RUST_LOG filters the terminal only: the functions' lines for the traces are kept
    // at their own level (crate::function_logs).
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .with(crate::function_logs::layer())
        .try_init();
}

/// Starts the stack, prints where everything is, and runs until Ctrl-C (or SIGTERM).
pub async fn run(cli: Cli) -> Result<(), Error> {
    init_logging(cli.verbose);
    let mut config = cli.config();
    if let Some(dir) = &config.site_dir
        && let Err(error) = crate::site::check_site_dir(dir)
    {
        eprintln!("local-stack: {error}");
        eprintln!("local-stack: starting the API and the identity provider without the site.");
        config.site_dir = None;
    }
    let stack = crate::start(config).await?;
    println!("{}", banner(&stack, &cli));
    wait_for_stop().await;
    eprintln!("local-stack: stopping (waiting for requests in flight)...");
    stack.shutdown().await;
    eprintln!("local-stack: stopped.");
    Ok(())
}

/// What the command prints once everything listens.
pub fn banner(stack: &RunningStack, cli: &Cli) -> String {
    let site = match stack.site_url() {
        Some(url) => format!("{url}/"),
        None => "(not served: build it with `cargo xtask demo`)".to_owned(),
    };
    let ttl = match cli.authorizer_ttl {
        Some(0) => "off (--authorizer-ttl 0)".to_owned(),
        Some(ttl) => format!("{ttl} s (--authorizer-ttl)"),
        None => "as openapi.yaml says".to_owned(),
    };
    let idp = stack.idp_url();
    let api = stack.api_url();
    format!(
        "\
local stack is up
  site                {site}
  API                 {api}/hello
  identity provider   {idp}  (POST /sign-in, keys at /oauth2/v3/certs)
  Lambdas             {lambdas}
  authorizer cache    {ttl}
  CORS origin         {origin}

Try it from a shell:
  TOKEN=$(curl -s -X POST {idp}/sign-in -H 'content-type: application/json' \\
    -d '{{\"name\": \"Jane Doe\", \"email\": \"jane@example.com\"}}' | sed 's/.*\"credential\":\"\\([^\"]*\\)\".*/\\1/')
  curl -i -H \"Authorization: Bearer $TOKEN\" {api}/hello

Ctrl-C stops everything.",
        lambdas = stack.lambdas(),
        origin = stack.site_origin(),
    )
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
