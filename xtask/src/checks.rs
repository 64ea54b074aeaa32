//! `cargo xtask test`: every check the project has, in the order that fails fastest.

use crate::aws;
use crate::step::Step;

/// The steps of `cargo xtask test`.
pub fn test_steps(quick: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if !quick {
        steps.push(
            Step::new(
                "rustfmt and clippy components",
                "rustup",
                &["component", "add", "rustfmt", "clippy"],
            )
            .hint("install rustup (https://rustup.rs) or add the components by hand"),
        );
        steps.push(
            Step::new("formatting", "cargo", &["fmt", "--all", "--check"])
                .hint("run `cargo fmt --all` and commit the result"),
        );
        steps.push(
            Step::new(
                "lints",
                "cargo",
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--locked",
                    "--",
                    "-D",
                    "warnings",
                ],
            )
            .hint("fix the warnings above; `cargo clippy --fix` handles many"),
        );
    }
    steps.push(
        Step::new(
            "workspace tests",
            "cargo",
            &["test", "--workspace", "--locked"],
        )
        .hint("rerun one crate with `cargo test -p <crate>`; add `-- --nocapture` for output"),
    );
    if !quick {
        steps.extend(velocity_steps());
        steps.extend(crate::site::test_steps());
        steps.push(workshop_step());
        steps.extend(aws::offline_check_steps());
    }
    steps
}

/// WORKSHOP.md's lessons, run against the local stack. After the site build (lesson 1
/// serves the page) and the workspace tests (which built `local-stack`, `check-token` and
/// the example authorizer, so nothing is compiled again here).
fn workshop_step() -> Step {
    Step::new(
        "workshop lessons (WORKSHOP.md, against the local stack)",
        "cargo",
        &[
            "test",
            "--locked",
            "--package",
            "workshop-test",
            "--test",
            "lessons",
            "--",
            "--ignored",
            "--test-threads=1",
        ],
    )
    .hint(
        "the failure names the lesson, the line of WORKSHOP.md, what was expected and what came \
         out; rerun with `cargo test -p workshop-test --test lessons -- --ignored --nocapture`",
    )
}

/// Installs Velocity 1.7 and a JDK when missing (a `dpkg-query` when present), then runs
/// the differential test of the mapping crate against it.
fn velocity_steps() -> Vec<Step> {
    vec![
        Step::new(
            "Velocity 1.7 and a JDK (Debian packages)",
            "cargo",
            &["xtask", "tools", "--debian", "velocity"],
        )
        .hint("the lines above say what apt-get could not do"),
        Step::new(
            "mapping templates against Velocity 1.7 (differential)",
            "cargo",
            &[
                "test",
                "--locked",
                "-p",
                "mapping",
                "--test",
                "velocity",
                "--",
                "--ignored",
            ],
        )
        .hint(
            "the failure prints the seed and the smallest differing template; rerun with \
             VELOCITY_SEED=<seed> cargo test -p mapping --test velocity -- --ignored --nocapture",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_run_checks_formatting_and_lints_before_tests_then_aws() {
        let titles: Vec<String> = test_steps(false).into_iter().map(|s| s.title).collect();
        assert_eq!(
            titles,
            [
                "rustfmt and clippy components",
                "formatting",
                "lints",
                "workspace tests",
                "Velocity 1.7 and a JDK (Debian packages)",
                "mapping templates against Velocity 1.7 (differential)",
                "site tools (wasm32 target, trunk, wasm-bindgen, wasm-opt, chromium)",
                "site lints (wasm32)",
                "site build (release, size budget)",
                "browser tests (headless Chromium, local stack)",
                "workshop lessons (WORKSHOP.md, against the local stack)",
                "AWS tools (SAM CLI, cfn-lint, cargo-lambda)",
                "cfn-lint",
                "sam validate",
                "sam build (cargo-lambda, arm64)",
                "bootstraps under AWS's Runtime Interface Emulator",
                "arm64 emulation (qemu-user-static, libc6-arm64-cross)",
                "sam build's arm64 bootstraps under AWS's arm64 emulator (qemu)",
            ]
        );
    }

    #[test]
    fn browser_tests_run_the_e2e_crate_with_its_ignored_tests() {
        let steps = test_steps(false);
        let browser = steps
            .iter()
            .find(|s| s.title == "browser tests (headless Chromium, local stack)")
            .expect("the browser tests step");
        assert_eq!(
            browser.args,
            [
                "test",
                "--locked",
                "--package",
                "e2e",
                "--",
                "--ignored",
                "--test-threads=1"
            ]
        );
    }

    #[test]
    fn quick_run_only_tests() {
        let steps = test_steps(true);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].args, ["test", "--workspace", "--locked"]);
    }
}
