//! `check-token`: why is this token accepted or refused? Replays the authorizer's
//! decision for one token, offline with a saved JWKS or online with a URL.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use authorizer::check::{EXAMPLE_METHOD_ARN, check, explain};
use authorizer::{Config, KeyFetcher, KeySet};
use clap::Parser;

/// Check one Google ID token the way the authorizer Lambda does, and explain the decision.
///
/// Exit status: 0 allowed, 1 refused (401 or 403), 2 bad usage or keys unavailable.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Examples:\n  check-token --client-id 1234.apps.googleusercontent.com --jwks-file certs.json eyJhbGciOi...\n  pbpaste | check-token --client-id 1234.apps.googleusercontent.com --jwks-url https://www.googleapis.com/oauth2/v3/certs"
)]
struct Args {
    /// The ID token, or "Bearer <token>". Read from standard input when omitted or "-".
    token: Option<String>,
    /// Accepted OAuth client ID (the `aud`); repeat for several.
    #[arg(
        long = "client-id",
        env = "GOOGLE_CLIENT_IDS",
        value_delimiter = ',',
        required = true
    )]
    client_ids: Vec<String>,
    /// A saved JWKS document (offline). Save Google's with:
    /// curl -o certs.json https://www.googleapis.com/oauth2/v3/certs
    #[arg(long, conflicts_with = "jwks_url")]
    jwks_file: Option<PathBuf>,
    /// Fetch the JWKS from this URL instead.
    #[arg(long, env = "GOOGLE_JWKS_URL", default_value = authorizer::GOOGLE_JWKS_URL)]
    jwks_url: String,
    /// Allowed Google Workspace domain (`hd`); repeat for several. Default: any account.
    #[arg(
        long = "hosted-domain",
        env = "ALLOWED_HOSTED_DOMAINS",
        value_delimiter = ','
    )]
    hosted_domains: Vec<String>,
    /// Leeway for exp/iat/nbf, in seconds.
    #[arg(long, env = "CLOCK_SKEW_SECONDS", default_value_t = authorizer::DEFAULT_CLOCK_SKEW_SECONDS)]
    clock_skew: u64,
    /// Check as of this instant (Unix seconds) instead of now, e.g. to replay an old log.
    #[arg(long)]
    at: Option<u64>,
    /// The method ARN API Gateway would send.
    #[arg(long, default_value = EXAMPLE_METHOD_ARN)]
    method_arn: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("check-token: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<u8, String> {
    let token = match args.token.as_deref() {
        Some(token) if token != "-" => token.to_owned(),
        _ => {
            let mut token = String::new();
            std::io::stdin()
                .read_to_string(&mut token)
                .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
            token.trim().to_owned()
        }
    };
    let (client_ids, domains) = (args.client_ids.join(","), args.hosted_domains.join(","));
    let skew = args.clock_skew.to_string();
    let config = Config::from_lookup(|name| match name {
        "GOOGLE_CLIENT_IDS" => Some(client_ids.clone()),
        "GOOGLE_JWKS_URL" => Some(args.jwks_url.clone()),
        "ALLOWED_HOSTED_DOMAINS" => Some(domains.clone()),
        "CLOCK_SKEW_SECONDS" => Some(skew.clone()),
        _ => None,
    })
    .map_err(|e| e.to_string())?;
    let keys = match &args.jwks_file {
        Some(path) => {
            let body =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            KeySet::from_json(&body).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => {
            authorizer::HttpKeyFetcher::new(config.jwks_url.clone())
                .map_err(|e| e.to_string())?
                .fetch()
                .await
                .map_err(|e| format!("{e} (use --jwks-file to check offline)"))?
                .keys
        }
    };
    let now = args.at.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    });
    let verdict = check(&token, &config, &keys, &args.method_arn, now);
    print!("{}", explain(&token, &config, &keys, &verdict, now));
    Ok(verdict.exit_code())
}
