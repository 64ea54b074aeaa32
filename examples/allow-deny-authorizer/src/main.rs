//! The authorizer's `bootstrap`: logs, then the handler, as Lambda runs it.

use lambda_runtime::{Error, run, service_fn, tracing};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Level from AWS_LAMBDA_LOG_LEVEL or RUST_LOG, default INFO. At TRACE,
    // lambda_runtime logs every raw event, headers included: keep it off where the
    // header holds a real secret.
    tracing::init_default_subscriber();
    run(service_fn(allow_deny_authorizer::function_handler)).await
}
