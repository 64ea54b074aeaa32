//! Process-level glue for the `bootstrap` binary: logging as CloudWatch expects and
//! reporting a failed start-up to the Lambda Runtime API.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// JSON logs on stdout (CloudWatch parses them), level from `AWS_LAMBDA_LOG_LEVEL`
/// or `RUST_LOG`, default INFO, with `lambda_runtime` capped (see [`CAPPED_TARGETS`]).
/// No timestamps: CloudWatch adds its own.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let _ = subscriber(&level, std::io::stdout).try_init();
}

/// Targets held at or below a level whatever `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` say.
///
/// `lambda_runtime` 1.5.0 (the version in Cargo.lock) logs every invocation's raw
/// event at TRACE — `layers/api_response.rs`, `RuntimeApiResponseService::call`:
/// `trace!(body = ..., "raw JSON event received from Lambda")`, target
/// `lambda_runtime::layers::api_response` — and the event holds the caller's bearer
/// token: at TRACE, every credential would land in CloudWatch. Its only other
/// body-carrying line is `lambda_runtime::requests`' TRACE of a streamed response's
/// prelude. The whole crate is capped at DEBUG, so a later version's TRACE lines are
/// held back too; nothing of the event is logged at DEBUG or above.
pub const CAPPED_TARGETS: [(&str, LevelFilter); 1] = [("lambda_runtime", LevelFilter::DEBUG)];

/// The subscriber [`init_tracing`] installs, writing to `writer` (tests capture it).
/// `level` is an `EnvFilter` directive (`TRACE`, `debug`, `authorizer=trace,info`...);
/// an unusable one means INFO. The caps apply on top, as a second filter, because
/// an `EnvFilter` directive naming `lambda_runtime` itself could otherwise lift them.
pub fn subscriber<W>(level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let caps = CAPPED_TARGETS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |t, (target, level)| t.with_target(*target, *level),
    );
    tracing_subscriber::fmt()
        .json()
        .with_writer(writer)
        .with_env_filter(EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .with_current_span(false)
        .without_time()
        .finish()
        .with(caps)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged_at(level: &str) -> String {
        let capture = Capture::default();
        let writer = capture.clone();
        tracing::subscriber::with_default(subscriber(level, move || writer.clone()), || {
            // The exact call lambda_runtime 1.5.0 makes for every event.
            tracing::trace!(
                target: "lambda_runtime::layers::api_response",
                body = "{\"authorizationToken\":\"SECRET\"}",
                "raw JSON event received from Lambda"
            );
            tracing::debug!(target: "lambda_runtime::runtime", "runtime debug line");
            tracing::trace!(target: "authorizer::handler", "our own trace line");
        });
        let out = capture.0.lock().unwrap().clone();
        String::from_utf8(out).unwrap()
    }

    // One test: scoped subscribers in parallel tests race over tracing's global
    // callsite cache, and a line missed by that race would make the check pass.
    #[test]
    fn no_level_logs_lambda_runtimes_raw_event_and_other_lines_still_pass() {
        for level in [
            "TRACE",
            "trace",
            "lambda_runtime=trace",
            "lambda_runtime::layers::api_response=trace",
            "info,lambda_runtime::layers::api_response[{body}]=trace",
        ] {
            let logs = logged_at(level);
            assert!(!logs.contains("SECRET"), "{level}: {logs}");
            assert!(!logs.contains("raw JSON event"), "{level}: {logs}");
        }
        let logs = logged_at("TRACE");
        assert!(logs.contains("our own trace line"), "{logs}");
        assert!(logs.contains("runtime debug line"), "{logs}");
        let logs = logged_at("info");
        assert_eq!(logs, "");
    }
}
