//! A Lambda process (or the emulator running one) as both runners start it: isolated
//! from our environment, its output kept and logged safely.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// The most output kept per process; older output is dropped.
const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// The log target of a function's output: the local stack's log filter names it
/// (`local::lambda=debug` shows the binaries' logs).
const OUTPUT_LOG_TARGET: &str = "local::lambda";

type BoxedRead = Box<dyn AsyncRead + Send + Unpin>;

/// A command for a Lambda process (or the emulator running one): it sees no variable of
/// ours but `PATH`, reads nothing, has its output piped for [`collect_output`], and is
/// killed when dropped.
pub(crate) fn isolated_command(program: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Keeps what a child process writes to stdout and stderr (the last
/// `MAX_OUTPUT_BYTES`), logging each line at debug level under `local::lambda`.
pub(crate) fn collect_output(
    child: &mut tokio::process::Child,
    function: &str,
) -> Arc<Mutex<Vec<u8>>> {
    let output = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().map(|s| Box::new(s) as BoxedRead);
    let stderr = child.stderr.take().map(|s| Box::new(s) as BoxedRead);
    for stream in [stdout, stderr].into_iter().flatten() {
        tokio::spawn(collect_lines(stream, output.clone(), function.to_owned()));
    }
    output
}

async fn collect_lines(stream: BoxedRead, output: Arc<Mutex<Vec<u8>>>, function: String) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        tracing::debug!(
            target: OUTPUT_LOG_TARGET,
            function = %function,
            "{}",
            loopback_guard::log_text::escape(String::from_utf8_lossy(&line).trim_end())
        );
        let mut kept = lock(&output);
        kept.extend_from_slice(&line);
        if kept.len() > MAX_OUTPUT_BYTES {
            let excess = kept.len() - MAX_OUTPUT_BYTES;
            kept.drain(..excess);
        }
    }
}

/// A poisoned lock only means a panic elsewhere mid-update of plain data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
