//! The authorizer Lambda's `bootstrap`: configuration and keys at init, then the handler.

use authorizer::{Authorizer, AuthorizerEvent, Config, function_handler, lambda};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let authorizer = match Config::from_env().and_then(Authorizer::from_config) {
        Ok(authorizer) => authorizer,
        Err(error) => {
            lambda::report_init_error(&error).await;
            return Err(error.into());
        }
    };
    authorizer.warm_up().await;
    // TOKEN or REQUEST, read from the event's `type`.
    run(service_fn(|event: LambdaEvent<AuthorizerEvent>| {
        function_handler(&authorizer, event)
    }))
    .await
}
