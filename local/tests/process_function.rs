//! A built binary behind the Runtime API, as the gateway sees it: a function that does not
//! answer within its template `Timeout`, and one whose process dies, fail the way Lambda
//! reports them (`Sandbox.Timedout` "Task timed out after N seconds"; `Runtime.ExitError`).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use local::functions::ProcessFunction;
use local::{FunctionError, LambdaFunction};
use serde_json::json;

/// The two `bootstrap` scripts, written together once for the whole test binary: a
/// write still open while the other test forks would make exec fail with "Text file
/// busy" (ETXTBSY).
fn bootstraps() -> &'static (PathBuf, PathBuf) {
    static SCRIPTS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    SCRIPTS.get_or_init(|| {
        let write = |name: &str, script: &str| {
            let path = std::env::temp_dir().join(format!("local-{name}-{}", std::process::id()));
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        };
        (
            // Never asks the Runtime API for its event: a handler stuck past its Timeout.
            write("sleeper", "#!/bin/sh\nexec sleep 60\n"),
            // Dies before polling, as a bootstrap that panics at start-up.
            write("crasher", "#!/bin/sh\nsleep 0.2\nexit 3\n"),
        )
    })
}

#[tokio::test]
async fn a_binary_past_its_timeout_is_sandbox_timedout() {
    let function = ProcessFunction::start(&bootstraps().0, "Slow", &[], Duration::from_millis(300))
        .await
        .unwrap();
    let started = Instant::now();
    let answer = function.invoke(json!({"name": "Jane"}), "req-1").await;
    assert_eq!(
        answer,
        Err(FunctionError {
            error_type: "Sandbox.Timedout".into(),
            error_message: "RequestId: req-1 Error: Task timed out after 0.30 seconds".into(),
        })
    );
    // It waited for the limit, not for the process.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(30), "{waited:?}");
}

#[tokio::test]
async fn a_binary_that_exits_is_runtime_exit_error() {
    let function = ProcessFunction::start(&bootstraps().1, "Crashy", &[], Duration::from_secs(20))
        .await
        .unwrap();
    let answer = function.invoke(json!({}), "req-2").await;
    assert_eq!(
        answer,
        Err(FunctionError {
            error_type: "Runtime.ExitError".into(),
            error_message: "RequestId: req-2 Error: Runtime exited with error: exit status 3"
                .into(),
        })
    );
}
