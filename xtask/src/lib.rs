//! # xtask — the project's commands
//!
//! ```text
//! cargo xtask demo        # build the site, run the whole stack locally (Ctrl-C stops)
//! cargo xtask test        # every check: formatting, lints, all tests (what CI runs)
//! cargo xtask test --quick  # the tests only
//! cargo xtask site        # build site/dist and report its size
//! cargo xtask tools       # install the site's build tools and Chromium (skips what is there)
//! cargo xtask tools --debian arm64     # qemu, which runs the arm64 Lambda builds here
//! cargo xtask tools --debian velocity  # Velocity 1.7 and a JDK (templates' differential test)
//! ```
//!
//! Each step prints what it runs; a failure says which step and how to rerun it alone.
//! Tools the steps need are installed here when missing, and skipped when present.

mod aws;
mod checks;
mod demo;
mod deploy;
mod site;
mod step;
mod tools;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use step::Step;

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
    /// Deploy to AWS: build, `sam deploy`, upload the site, invalidate CloudFront.
    Deploy(deploy::DeployArgs),
    /// Delete the AWS stack (after emptying the site bucket).
    Teardown(deploy::TeardownArgs),
    /// Build the site and run the whole stack locally: prints the URL to open; Ctrl-C stops.
    Demo {
        /// Passed on to `local-stack` (see `cargo run -p local --bin local-stack -- --help`).
        #[arg(last = true)]
        stack_args: Vec<String>,
    },
    /// Build the site into site/dist (installing its tools when missing) and report its size.
    Site {
        /// Only warn when the gzipped WASM + JS is over the 150 KB budget.
        #[arg(long)]
        allow_oversize: bool,
    },
    /// Install what the site's build and browser tests need (skips what is there).
    Tools {
        /// Skip Chromium and chromedriver (only the build tools).
        #[arg(long)]
        no_browser: bool,
        /// Only these Debian packages: `arm64` (qemu, which runs the arm64 Lambda builds
        /// here) or `velocity` (Velocity 1.7 and a JDK, for the templates' differential test).
        #[arg(long, value_enum, conflicts_with = "no_browser")]
        debian: Option<tools::DebianTools>,
    },
}

/// Runs the chosen command; a failure prints what went wrong and what to do next.
pub fn run(cli: Cli) -> ExitCode {
    // Every path in the steps is relative to the workspace root, wherever cargo ran.
    let root = tools::workspace_root();
    if let Err(error) = std::env::set_current_dir(&root) {
        eprintln!(
            "xtask: cannot enter the workspace root {}: {error}",
            root.display()
        );
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Task::Test { quick } => step::run_all(&checks::test_steps(quick), false),
        Task::Deploy(args) => deploy::deploy(&args),
        Task::Teardown(args) => deploy::teardown(&args),
        Task::Demo { stack_args } => demo::demo(&stack_args),
        Task::Site { allow_oversize } => site::build(!allow_oversize).map(drop),
        Task::Tools {
            debian: Some(set), ..
        } => set.ensure(),
        Task::Tools { no_browser, .. } => tools::ensure_site_tools().and_then(|_| {
            if no_browser {
                Ok(())
            } else {
                tools::ensure_browser()
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_parses_commands() {
        let cli = Cli::try_parse_from(["cargo xtask", "test", "--quick"]).unwrap();
        assert!(matches!(cli.command, Task::Test { quick: true }));
        let cli = Cli::try_parse_from(["cargo xtask", "deploy", "--dry-run"]).unwrap();
        assert!(matches!(cli.command, Task::Deploy(ref a) if a.dry_run));
        assert_eq!(
            Cli::try_parse_from(["cargo xtask", "launch"])
                .unwrap_err()
                .kind(),
            clap::error::ErrorKind::InvalidSubcommand
        );
        let cli = Cli::try_parse_from(["cargo xtask", "demo", "--", "--verbose"]).unwrap();
        assert!(
            matches!(cli.command, Task::Demo { ref stack_args } if stack_args == &["--verbose"])
        );
        let cli = Cli::try_parse_from(["cargo xtask", "tools", "--no-browser"]).unwrap();
        assert!(matches!(
            cli.command,
            Task::Tools {
                no_browser: true,
                debian: None
            }
        ));
        let cli = Cli::try_parse_from(["cargo xtask", "tools", "--debian", "velocity"]).unwrap();
        assert!(matches!(
            cli.command,
            Task::Tools {
                debian: Some(tools::DebianTools::Velocity),
                ..
            }
        ));
        assert_eq!(
            Cli::try_parse_from(["cargo xtask", "tools", "--debian", "arm64", "--no-browser"])
                .unwrap_err()
                .kind(),
            clap::error::ErrorKind::ArgumentConflict
        );
    }
}
