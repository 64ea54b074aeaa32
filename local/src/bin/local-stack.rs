//! `local-stack`: the whole greeting stack on 127.0.0.1 (see `local-stack --help`).

use std::process::ExitCode;

use clap::Parser;

// mimalloc over glibc malloc: allocation was ~12% of a request's CPU in the load bench
// (`perf record` on `cargo bench -p local --bench load`), mostly glibc's consolidation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
