//! `local-stack`: the whole greeting stack on 127.0.0.1 (see `local-stack --help`).

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    match local::cli::run(local::cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-stack: {error}");
            ExitCode::FAILURE
        }
    }
}
