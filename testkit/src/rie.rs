//! AWS's Lambda Runtime Interface Emulator running a built `bootstrap`, for tests: the
//! driver is `local::rie`; this wraps it with a test's panics on setup failures.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// Finds the emulator in the tools `cargo xtask test` installs (`GREETING_STACK_AWS_TOOLS`).
pub fn locate() -> Result<PathBuf, String> {
    local::rie::locate(None)
}

/// A running emulator; killed when dropped.
#[derive(Debug)]
pub struct Rie(local::rie::Rie);

impl Rie {
    /// Starts `rie` running `bootstrap` with `env`.
    pub async fn start(rie: &Path, bootstrap: &Path, env: &[(&str, &str)]) -> Self {
        Rie(local::rie::Rie::start(rie, bootstrap, env)
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
