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
    /// Another API definition instead of the openapi.yaml built in; reloaded when it
    /// changes.
    #[arg(long, value_name = "FILE")]
    pub definition: Option<PathBuf>,
    /// The SAM template whose functions the definition's URIs name (`${XFunction.Arn}`);
    /// each one without a handler in process is built with cargo from its CodeUri and
    /// Metadata and run as a binary. Default: the template.yaml beside --definition. Reloaded,
    /// with the definition, when either changes.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Environment variables for the template's functions, in sam local's --env-vars
    /// format: {"Parameters": {"VAR": "value"}, "MyFunction": {"VAR": "value"}}
    /// (only variables the template declares are overridden, as with sam local).
    #[arg(long, value_name = "FILE")]
    pub env_vars: Option<PathBuf>,
    /// Template parameters in place of their Default, as sam's --parameter-overrides:
    /// Key=Value, several separated by spaces.
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., value_delimiter = ' ',
          value_parser = crate::template::parse_parameter_override)]
    pub parameter_overrides: Vec<(String, String)>,
    /// The key server the authorizer fetches Google's keys from instead of the identity
    /// provider's (`GOOGLE_JWKS_URL`; `http` only on 127.0.0.1). Point it where nothing
    /// listens to see the authorizer fail closed: every token gets 500.
    #[arg(long, value_name = "URL")]
    pub jwks_url: Option<String>,
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
  cargo run -p local --bin local-stack -- --no-site \
    --definition examples/allow-deny-authorizer/openapi.yaml
                                                     another API; its template.yaml's functions are
                                                     built with cargo and run as binaries
  cargo run -p local --bin local-stack -- --definition my/openapi.yaml
                                                     reloads it and my/template.yaml when they change

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
            template: self.template(),
            env_vars: self.env_vars.clone(),
            parameter_overrides: self.parameter_overrides.iter().cloned().collect(),
            jwks_url: self.jwks_url.clone(),
            // Edit and retry without restarting (the workshop's lessons do).
            watch: true,
            ..StackConfig::default()
        }
    }
}

impl Cli {
    /// `--template`, else the `template.yaml` beside `--definition` when there is one
    /// (a definition and its template live side by side, as `sam` expects them).
    fn template(&self) -> Option<PathBuf> {
        self.template.clone().or_else(|| {
            let beside = self.definition.as_ref()?.with_file_name("template.yaml");
            beside.is_file().then_some(beside)
        })
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
    let watched = match stack.watched_files() {
        [] => "nothing (the built-in openapi.yaml; --definition FILE to edit one)".to_owned(),
        files => files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let width = stack
        .functions()
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    let functions: String = stack
        .functions()
        .iter()
        .map(|f| format!("\n    {:width$}  {}", f.name, f.how))
        .collect();
    // The sign-in session is the greeting API's; another definition has its own routes.
    let try_it = match &cli.definition {
        None => format!(
            "\
Try it from a shell:
  TOKEN=$(curl -s -X POST {idp}/sign-in -H 'content-type: application/json' \\
    -d '{{\"name\": \"Jane Doe\", \"email\": \"jane@example.com\"}}' | sed 's/.*\"credential\":\"\\([^\"]*\\)\".*/\\1/')
  curl -i -H \"Authorization: Bearer $TOKEN\" {api}/hello"
        ),
        Some(definition) => format!(
            "Try it from a shell: curl -i {api}/PATH, PATH one of {}'s paths",
            definition.display()
        ),
    };
    format!(
        "\
local stack is up
  site                {site}
  API                 {api}/hello
  identity provider   {idp}  (POST /sign-in, keys at /oauth2/v3/certs)
  Lambdas             {lambdas}
  functions{functions}
  authorizer cache    {ttl}
  CORS origin         {origin}
  reloads on change   {watched}

{try_it}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> StackConfig {
        Cli::try_parse_from(std::iter::once("local-stack").chain(args.iter().copied()))
            .expect("the flags parse")
            .config()
    }

    #[test]
    fn the_template_beside_the_definition_is_found_unless_one_is_named() {
        let example = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/allow-deny-authorizer/openapi.yaml"
        );
        let beside = std::path::Path::new(example).with_file_name("template.yaml");
        assert_eq!(config(&["--definition", example]).template, Some(beside));
        assert_eq!(
            config(&["--definition", example, "--template", "other.yaml"]).template,
            Some(PathBuf::from("other.yaml"))
        );
        // The embedded definition's functions are built in: no template.
        assert_eq!(config(&[]).template, None);
        // A definition with no template.yaml beside it.
        assert_eq!(
            config(&["--definition", "/nonexistent/openapi.yaml"]).template,
            None
        );
    }

    #[test]
    fn parameter_overrides_take_sams_space_separated_key_value_pairs() {
        let config = config(&[
            "--parameter-overrides",
            "GoogleClientIds=a.apps.googleusercontent.com JwksPort=9000",
            "Empty=",
            "--env-vars",
            "env.json",
        ]);
        assert_eq!(
            config.parameter_overrides,
            std::collections::BTreeMap::from([
                ("Empty".to_owned(), String::new()),
                (
                    "GoogleClientIds".to_owned(),
                    "a.apps.googleusercontent.com".to_owned()
                ),
                ("JwksPort".to_owned(), "9000".to_owned()),
            ])
        );
        assert_eq!(config.env_vars, Some(PathBuf::from("env.json")));
        let error = Cli::try_parse_from(["local-stack", "--parameter-overrides", "NoEquals"])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(r#"invalid value 'NoEquals' for '--parameter-overrides <KEY=VALUE>...': "NoEquals" is not Key=Value"#),
            "{error}"
        );
    }
}
