//! # xtask — the project's commands
//!
//! ```text
//! cargo xtask test        # every check: formatting, lints, all tests (what CI runs)
//! cargo xtask test --quick  # the tests only
//! ```
//!
//! Each step prints what it runs; a failure says which step and how to rerun it alone.
//! Tools the steps need are installed here when missing, and skipped when present.

use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::{Parser, Subcommand};

/// The project's commands.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Task,
}

/// One command.
#[derive(Debug, Subcommand)]
pub enum Task {
    /// Run every check: formatting, clippy, and the whole workspace's tests.
    Test {
        /// Only the tests (skip formatting and lint checks).
        #[arg(long)]
        quick: bool,
    },
}

/// Runs the chosen command; the exit code is the first failing step's.
pub fn run(cli: Cli) -> ExitCode {
    let steps = match cli.command {
        Task::Test { quick } => test_steps(quick),
    };
    run_steps(&steps)
}

/// A step: what it is for, and the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub title: &'static str,
    pub program: &'static str,
    pub args: Vec<&'static str>,
    /// What to do when it fails.
    pub hint: &'static str,
}

/// The steps of `cargo xtask test`, in order.
pub fn test_steps(quick: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if !quick {
        steps.push(Step {
            title: "rustfmt and clippy components",
            program: "rustup",
            args: vec!["component", "add", "rustfmt", "clippy"],
            hint: "install rustup (https://rustup.rs) or add the components by hand",
        });
        steps.push(Step {
            title: "formatting",
            program: "cargo",
            args: vec!["fmt", "--all", "--check"],
            hint: "run `cargo fmt --all` and commit the result",
        });
        steps.push(Step {
            title: "lints",
            program: "cargo",
            args: vec![
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
            hint: "fix the warnings above; `cargo clippy --fix` handles many",
        });
    }
    steps.push(Step {
        title: "workspace tests",
        program: "cargo",
        args: vec!["test", "--workspace", "--locked"],
        hint: "rerun one crate with `cargo test -p <crate>`; add `-- --nocapture` for output",
    });
    steps
}

fn run_steps(steps: &[Step]) -> ExitCode {
    let total = steps.len();
    let started = Instant::now();
    for (i, step) in steps.iter().enumerate() {
        let line = std::iter::once(step.program)
            .chain(step.args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        eprintln!("==> [{}/{total}] {}: {line}", i + 1, step.title);
        let step_started = Instant::now();
        let status = Command::new(step.program).args(&step.args).status();
        match status {
            Ok(status) if status.success() => {
                eprintln!("    ok ({:.1}s)", step_started.elapsed().as_secs_f64());
            }
            Ok(status) => {
                eprintln!(
                    "xtask: step {}/{total} ({}) failed with {status}",
                    i + 1,
                    step.title
                );
                eprintln!("xtask: next: {}", step.hint);
                return ExitCode::FAILURE;
            }
            Err(error) => {
                eprintln!("xtask: cannot run `{}`: {error}", step.program);
                eprintln!("xtask: next: {}", step.hint);
                return ExitCode::FAILURE;
            }
        }
    }
    eprintln!(
        "==> all {total} steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_run_checks_formatting_and_lints_before_tests() {
        let titles: Vec<&str> = test_steps(false).iter().map(|s| s.title).collect();
        assert_eq!(
            titles,
            [
                "rustfmt and clippy components",
                "formatting",
                "lints",
                "workspace tests"
            ]
        );
    }

    #[test]
    fn quick_run_only_tests() {
        let steps = test_steps(true);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].args, ["test", "--workspace", "--locked"]);
    }

    #[test]
    fn cli_parses_test_command() {
        let cli = Cli::try_parse_from(["cargo xtask", "test", "--quick"]).unwrap();
        assert!(matches!(cli.command, Task::Test { quick: true }));
        assert!(Cli::try_parse_from(["cargo xtask", "deploy"]).is_err());
    }
}
