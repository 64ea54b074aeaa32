//! The hello Lambda's `bootstrap`: JSON logs, then the handler.

use lambda_runtime::{Error, run, service_fn};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        .without_time() // CloudWatch stamps each line
        .init();
    run(service_fn(hello::function_handler)).await
}
