//! AWS tooling, installed from PyPI into a virtual environment cached outside the
//! repository, and the offline checks of `template.yaml` that `cargo xtask test` runs.

use std::path::PathBuf;

use crate::step::Step;

/// Pinned tools: SAM CLI (build, validate, deploy; ships AWS's Runtime Interface
/// Emulator), cfn-lint, cargo-lambda (prebuilt wheel, with zig for cross-compiling),
/// and the AWS CLI (uploads, invalidations).
pub const AWS_TOOLS: [&str; 4] = [
    "aws-sam-cli==1.170.0",
    "cfn-lint==1.58.0",
    "cargo-lambda==1.9.2",
    "awscli==1.46.3",
];

/// The region the offline checks pretend to be in (`sam validate` needs one).
const CHECK_REGION: &str = "us-east-1";

/// Where the tools live: `$GREETING_STACK_AWS_TOOLS`, else `aws-venv` in the tools cache
/// (both from `tool_cache`, where the local stack looks for them too).
pub fn tools_dir() -> PathBuf {
    tool_cache::aws_tools_dir()
        .unwrap_or_else(|| crate::tools::cache_dir().join(tool_cache::AWS_TOOLS_NAME))
}

/// A program from the tools' virtual environment.
pub fn tool(name: &str) -> String {
    tools_dir().join("bin").join(name).display().to_string()
}

/// `PATH` with the tools first (cargo-lambda and zig must be found by `sam build`).
pub fn tools_path() -> String {
    let bin = tools_dir().join("bin");
    match std::env::var("PATH") {
        Ok(path) if !path.is_empty() => format!("{}:{path}", bin.display()),
        _ => bin.display().to_string(),
    }
}

/// Creates the virtual environment if needed and installs the pinned tools; when they
/// are already there, pip only confirms it (a few seconds, no download).
pub fn install_step() -> Step {
    let venv = tools_dir().display().to_string();
    let script = format!(
        "set -e; test -x {venv}/bin/pip || python3 -m venv {venv}; \
         {venv}/bin/pip install --quiet --disable-pip-version-check {}",
        AWS_TOOLS.join(" ")
    );
    Step::new(
        "AWS tools (SAM CLI, cfn-lint, cargo-lambda)",
        "sh",
        &["-c", &script],
    )
    .hint("needs python3 with venv (Debian: apt-get install python3-venv) and access to PyPI")
}

/// A SAM CLI step: no telemetry, the tools on PATH (cargo-lambda, zig).
pub fn sam(title: &str, args: &[&str]) -> Step {
    Step::new(title, tool("sam"), args)
        .env("SAM_CLI_TELEMETRY", "0")
        .env("PATH", tools_path())
}

/// Where `sam build` writes the deployable functions, one `<LogicalId>/bootstrap` each.
const SAM_BUILD_DIR: &str = ".aws-sam/build";

/// The RIE tests of the three crates that have them: `sam_build` set, they run `sam
/// build`'s bootstraps (`lambda_runners::rie::SAM_BUILD_DIR_VAR`), else cargo's.
fn rie_tests(title: &str, sam_build: Option<&str>) -> Step {
    let step = Step::new(
        title,
        "cargo",
        &[
            "test",
            "--locked",
            "-p",
            "authorizer",
            "-p",
            "hello",
            "-p",
            "local",
            "--test",
            "rie",
            "--",
            "--ignored",
        ],
    )
    .env(tool_cache::AWS_TOOLS_VAR, tools_dir().display().to_string())
    .hint("rerun with `-- --nocapture` to see the emulator's output");
    match sam_build {
        Some(dir) => step.env(
            "GREETING_STACK_SAM_BUILD",
            crate::tools::workspace_root()
                .join(dir)
                .display()
                .to_string(),
        ),
        None => step,
    }
}

/// The checks of the AWS side that need no AWS account.
pub fn offline_check_steps() -> Vec<Step> {
    vec![
        install_step(),
        Step::new("cfn-lint", tool("cfn-lint"), &["template.yaml"])
            .hint("fix template.yaml as cfn-lint says (rule IDs are explained at github.com/aws-cloudformation/cfn-lint)"),
        sam("sam validate", &["validate", "--lint"])
            .env("AWS_DEFAULT_REGION", CHECK_REGION)
            .hint("fix template.yaml as sam validate says"),
        sam("sam build (cargo-lambda, arm64)", &["build"])
            .env("AWS_DEFAULT_REGION", CHECK_REGION)
            .hint("run `sam build --debug` with the tools on PATH to see cargo-lambda's output"),
        rie_tests("bootstraps under AWS's Runtime Interface Emulator", None),
        Step::new(
            "arm64 emulation (qemu-user-static, libc6-arm64-cross)",
            "cargo",
            &["xtask", "tools", "--debian", "arm64"],
        )
        .hint("install them by hand: apt-get install qemu-user-static libc6-arm64-cross"),
        // The artifact that deploys is the one tested: the same checks on sam build's
        // arm64 bootstraps, under AWS's arm64 emulator, both through qemu.
        rie_tests(
            "sam build's arm64 bootstraps under AWS's arm64 emulator (qemu)",
            Some(SAM_BUILD_DIR),
        ),
    ]
}
