//! A minimal AWS Lambda Runtime API on 127.0.0.1 driving a built `bootstrap` binary.
//!
//! The implementation is `lambda_runners::runtime_api`, with which the local stack runs
//! the binaries the same way; this is the tests' handle on it, with the call shapes the
//! suites use (one test, one process, one invocation at a time).

use std::path::Path;
use std::time::{Duration, Instant};

pub use lambda_runners::runtime_api::Outcome;

/// A `bootstrap` process with its own Runtime API; killed when dropped.
#[derive(Debug)]
pub struct LambdaProcess(lambda_runners::runtime_api::LambdaProcess);

impl LambdaProcess {
    /// Starts the Runtime API and the binary with the variables Lambda sets plus `env`.
    /// Panics when the binary cannot be started: the test cannot go on.
    pub async fn spawn(binary: impl AsRef<Path>, env: &[(&str, &str)]) -> Self {
        let binary = binary.as_ref();
        let process =
            lambda_runners::runtime_api::LambdaProcess::start(binary, "test-function", env)
                .await
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        LambdaProcess(process)
    }

    /// Sends one event and waits up to `timeout` for the answer.
    pub async fn invoke(&mut self, event: serde_json::Value, timeout: Duration) -> Outcome {
        self.0.invoke(event, timeout).await
    }

    /// Waits for the process to exit (e.g. after a failed init).
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Outcome {
        self.0.wait_for_exit(timeout).await
    }

    /// Time from spawning to the runtime's first `next` poll (init finished), if any.
    pub fn init_duration(&self) -> Option<Duration> {
        self.0.init_duration()
    }

    /// When the process was spawned.
    pub fn started(&self) -> Instant {
        self.0.started()
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        self.0.output()
    }
}
