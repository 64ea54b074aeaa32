//! AWS's own Lambda Runtime Interface Emulator (RIE) running a built `bootstrap`, bound
//! to 127.0.0.1 on free ports ([`crate::LambdaMode::Rie`], and the workspace's RIE tests
//! through `testkit`). The RIE binary ships in the aws-sam-cli wheel that
//! `cargo xtask test` installs into `~/.cache/greeting-stack/aws-venv`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::runtime_api::{collect_output, isolated_command};

/// Finds `aws-lambda-rie-x86_64` in an aws-sam-cli virtualenv: `venv` if given, else
/// `GREETING_STACK_AWS_TOOLS`, else `~/.cache/greeting-stack/aws-venv`.
pub fn locate(venv: Option<&Path>) -> Result<PathBuf, String> {
    let venv = match venv {
        Some(venv) => venv.to_path_buf(),
        None => match std::env::var_os("GREETING_STACK_AWS_TOOLS") {
            Some(dir) => PathBuf::from(dir),
            None => std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/greeting-stack/aws-venv"))
                .ok_or("neither GREETING_STACK_AWS_TOOLS nor HOME is set")?,
        },
    };
    let lib = venv.join("lib");
    let entries = std::fs::read_dir(&lib).map_err(|e| {
        format!(
            "{}: {e} (`cargo xtask test` installs aws-sam-cli there)",
            lib.display()
        )
    })?;
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
#[derive(Debug)]
pub struct Rie {
    child: tokio::process::Child,
    invoke_url: String,
    output: Arc<Mutex<Vec<u8>>>,
    client: reqwest::Client,
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Rie {
    /// Starts `rie` running `bootstrap` with `env` (the emulator passes its environment
    /// on to the function) and waits until it listens.
    pub async fn start(
        rie: &Path,
        bootstrap: &Path,
        env: &[(&str, &str)],
    ) -> std::io::Result<Self> {
        let (invoke_port, api_port) = (free_port()?, free_port()?);
        let mut command = isolated_command(rie);
        command
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{invoke_port}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{api_port}"))
            .arg(bootstrap);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn()?;
        let function = bootstrap
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let output = collect_output(&mut child, &function);
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
                return Ok(rie);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(std::io::Error::other(format!(
            "the emulator did not listen on 127.0.0.1:{invoke_port}:\n{}",
            rie.output()
        )))
    }

    /// Invokes the function with `event`; the body is the function's result or, for a
    /// failed invocation, its error object (`errorType`, `errorMessage`).
    pub async fn invoke(&self, event: &Value, timeout: Duration) -> Result<Value, String> {
        let response = self
            .client
            .post(&self.invoke_url)
            .json(event)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| format!("invoking through the emulator failed: {e}"))?;
        let text = response
            .text()
            .await
            .map_err(|e| format!("reading the emulator's answer failed: {e}"))?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// What the emulator and the function printed so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Drop for Rie {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The emulator answers 200 for both outcomes; a failed invocation's body is exactly
/// `{"errorType": .., "errorMessage": ..}`.
pub fn as_error(body: &Value) -> Option<(String, String)> {
    let object = body.as_object()?;
    if object.len() != 2 {
        return None;
    }
    Some((
        object.get("errorType")?.as_str()?.to_owned(),
        object.get("errorMessage")?.as_str()?.to_owned(),
    ))
}
