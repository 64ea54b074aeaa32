//! `cargo xtask demo`: installs what is missing, builds the site, and runs the whole stack
//! on 127.0.0.1 (crate `local`, binary `local-stack`) until Ctrl-C.

use crate::site;
use crate::step::Step;
use crate::tools::workspace_root;

/// The address the local stack serves the site on by default.
pub const SITE_URL: &str = "http://127.0.0.1:4100/";

/// The step that runs the local stack on the built site; `extra` goes to `local-stack`.
pub fn stack_step(extra: &[String]) -> Step {
    let dist = site::dist_dir().display().to_string();
    Step::new(
        "local stack (Ctrl-C stops it)",
        "cargo",
        &[
            "run",
            "--locked",
            "--quiet",
            "--package",
            "local",
            "--bin",
            "local-stack",
            "--",
            "--site-dir",
            &dist,
        ],
    )
    .args(extra.iter().cloned())
    .dir(workspace_root())
    .hint(
        "if a port is taken, stop whatever uses it (or see `cargo run -p local --bin local-stack \
         -- --help` for other ports); the lines above say what failed",
    )
}

/// Builds the site, then runs the stack in the foreground.
pub fn demo(extra: &[String]) -> Result<(), String> {
    site::build(false)?;
    let step = stack_step(extra);
    eprintln!(
        "==> {}: {}\n    when it is up, open the site URL it prints (by default {SITE_URL}) and \
         sign in with any name; Ctrl-C stops it",
        step.title,
        step.command_line()
    );
    run_in_place(&step)
}

/// Becomes the step's process (Unix `exec`), so Ctrl-C reaches only the stack, which
/// stops gracefully and has the last word.
#[cfg(unix)]
fn run_in_place(step: &Step) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let error = step.command().exec();
    Err(format!(
        "cannot run `{}`: {error}\nxtask: next: {}",
        step.program, step.hint
    ))
}

#[cfg(not(unix))]
fn run_in_place(step: &Step) -> Result<(), String> {
    step.run((1, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_the_stack_on_the_built_site() {
        let step = stack_step(&["--verbose".to_owned()]);
        assert_eq!(step.program, "cargo");
        let args = step.args.join(" ");
        assert!(
            args.starts_with(
                "run --locked --quiet --package local --bin local-stack -- --site-dir "
            ),
            "{args}"
        );
        assert!(args.ends_with("site/dist --verbose"), "{args}");
    }
}
