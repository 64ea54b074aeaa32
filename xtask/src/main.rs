//! `cargo xtask`: see the crate docs in `lib.rs`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    xtask::run(xtask::Cli::parse())
}
