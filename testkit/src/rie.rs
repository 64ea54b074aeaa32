//! AWS's Lambda Runtime Interface Emulator (RIE) running a built `bootstrap`, bound to
//! 127.0.0.1 on free ports. The RIE binary comes with the aws-sam-cli wheel that
//! `cargo xtask test` installs into its tools directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncReadExt;

/// Finds `aws-lambda-rie-x86_64` in the tools virtualenv named by
/// `GREETING_STACK_AWS_TOOLS` (set by `cargo xtask test`).
pub fn locate() -> Result<PathBuf, String> {
    let venv = std::env::var_os("GREETING_STACK_AWS_TOOLS")
        .map(PathBuf::from)
        .ok_or("GREETING_STACK_AWS_TOOLS is not set: run these tests through `cargo xtask test`")?;
    let lib = venv.join("lib");
    let entries = std::fs::read_dir(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    for entry in entries.flatten() {
        let candidate = entry
            .path()
            .join("site-packages/samcli/local/rapid/aws-lambda-rie-x86_64");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "no aws-lambda-rie-x86_64 under {}: is aws-sam-cli installed there?",
        lib.display()
    ))
}

/// A running emulator; killed when dropped.
pub struct Rie {
    child: tokio::process::Child,
    invoke_url: String,
    output: Arc<Mutex<Vec<u8>>>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Rie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rie")
            .field("invoke_url", &self.invoke_url)
            .finish_non_exhaustive()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl Rie {
    /// Starts `rie` running `bootstrap` with `env` (the emulator passes its environment on).
    pub async fn start(rie: &Path, bootstrap: &Path, env: &[(&str, &str)]) -> Self {
        let (invoke_port, api_port) = (free_port(), free_port());
        let mut command = tokio::process::Command::new(rie);
        command
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{invoke_port}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{api_port}"))
            .arg(bootstrap)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", rie.display()));
        let output = Arc::new(Mutex::new(Vec::new()));
        for mut stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    output.lock().expect("lock").extend_from_slice(&buf[..n]);
                }
            });
        }
        let rie = Rie {
            child,
            invoke_url: format!(
                "http://127.0.0.1:{invoke_port}/2015-03-31/functions/function/invocations"
            ),
            output,
            client: reqwest::Client::new(),
        };
        // The emulator listens within milliseconds; wait for it, boundedly.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", invoke_port))
                .await
                .is_ok()
            {
                return rie;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the emulator did not listen on 127.0.0.1:{invoke_port}:\n{}",
            rie.output()
        );
    }

    /// Invokes the function with `event`; the body is the function's result or its
    /// error object (`errorType`, `errorMessage`).
    pub async fn invoke(&self, event: &Value) -> Value {
        let response = self
            .client
            .post(&self.invoke_url)
            .json(event)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap_or_else(|e| panic!("invoke failed: {e}\n{}", self.output()));
        let text = response.text().await.expect("response body");
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    /// What the emulator and the function printed so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().expect("lock")).into_owned()
    }
}

impl Drop for Rie {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
