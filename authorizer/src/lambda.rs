//! Process-level glue for the `bootstrap` binary: logging as CloudWatch expects and
//! reporting a failed start-up to the Lambda Runtime API.

/// JSON logs on stdout (CloudWatch parses them), level from `AWS_LAMBDA_LOG_LEVEL`
/// or `RUST_LOG`, default INFO. No timestamps: CloudWatch adds its own.
pub fn init_tracing() {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_current_span(false)
        .without_time()
        .try_init();
}

/// Logs a start-up error and posts it to the Runtime API's `/runtime/init/error`,
/// so the Lambda console shows "GOOGLE_CLIENT_IDS is not set: ..." instead of a bare
/// "Runtime exited with error". `lambda_runtime` has no public call for this.
pub async fn report_init_error(error: &crate::Error) {
    tracing::error!(error = %error, "configuration error; the function cannot start");
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = serde_json::json!({
        "errorType": "Runtime.ConfigError",
        "errorMessage": error.to_string(),
    });
    let result = reqwest::Client::new()
        .post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header("Lambda-Runtime-Function-Error-Type", "Runtime.ConfigError")
        .json(&body)
        .send()
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not report the init error to the Runtime API");
    }
}
