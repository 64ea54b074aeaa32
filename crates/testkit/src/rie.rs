//! AWS's Lambda Runtime Interface Emulator running a built `bootstrap`, for tests: the
//! driver is `lambda_runners::rie`; this wraps it with a test's panics on setup failures.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// The bootstrap to test for `function` (template.yaml's logical ID): the one `sam build`
/// wrote when `cargo xtask test` points `GREETING_STACK_SAM_BUILD` at it, else
/// `host_build` (cargo's, e.g. `env!("CARGO_BIN_EXE_hello")`).
pub fn bootstrap(function: &str, host_build: &str) -> PathBuf {
    lambda_runners::rie::bootstrap_for(function, Path::new(host_build))
}

/// Finds the emulator for `bootstrap`'s architecture in the tools `cargo xtask test`
/// installs (`GREETING_STACK_AWS_TOOLS`).
pub fn locate(bootstrap: &Path) -> Result<PathBuf, lambda_runners::Error> {
    let machine = lambda_runners::rie::Machine::of(bootstrap)?;
    lambda_runners::rie::locate_for(None, machine)
}

/// A running emulator; killed when dropped.
#[derive(Debug)]
pub struct Rie(lambda_runners::rie::Rie);

impl Rie {
    /// Starts `rie` running `bootstrap` with `env`.
    pub async fn start(rie: &Path, bootstrap: &Path, env: &[(&str, &str)]) -> Self {
        Rie(lambda_runners::rie::Rie::start(rie, bootstrap, env)
            .await
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", rie.display())))
    }

    /// Invokes the function: its result, or its error object.
    pub async fn invoke(&self, event: &Value) -> Value {
        self.0
            .invoke(event, Duration::from_secs(20))
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", self.0.output()))
    }

    /// What the emulator and the function printed so far.
    pub fn output(&self) -> String {
        self.0.output()
    }
}
