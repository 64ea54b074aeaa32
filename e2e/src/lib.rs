//! # e2e — the browser tests
//!
//! The built page (`site/dist`) in headless Chromium, against the local stack with the site
//! and the API on different origins, so CORS is the real thing. The specs are in
//! `tests/browser/`, one file per behaviour; this library is what they drive the browser
//! with: [`chrome`] starts chromedriver and a fresh headless Chromium and speaks WebDriver
//! through [`fantoccini`], [`scripts`] holds what the tests put in every page.
//!
//! The specs need `site/dist` and Chromium, so they are `#[ignore]`d in a plain
//! `cargo test`; `cargo xtask test` builds the site and runs them, and they fail (never
//! skip) when either is missing:
//!
//! ```sh
//! cargo xtask site
//! cargo test -p e2e -- --ignored --test-threads=1
//! ```

pub mod chrome;
pub mod scripts;

/// What went wrong driving the browser, with enough context to read a failure in CI.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot start {program}: {source} (install chromium and chromium-driver: `cargo xtask tools`)"
    )]
    StartDriver {
        program: String,
        source: std::io::Error,
    },
    #[error("no free port for chromedriver: {0}")]
    NoPort(std::io::Error),
    #[error("{program} did not become ready on port {port} within {seconds} s")]
    DriverNotReady {
        program: String,
        port: u16,
        seconds: u64,
    },
    #[error("chromedriver refused a session for {binary}: {source}")]
    NewSession {
        binary: String,
        source: fantoccini::error::NewSessionError,
    },
    #[error("WebDriver command {command}: {source}")]
    Command {
        command: String,
        source: fantoccini::error::CmdError,
    },
    #[error("no visible <{tag}> named {name:?} (visible or not: {seen:?})")]
    NoSuchLabel {
        tag: String,
        name: String,
        seen: Vec<String>,
    },
    #[error("cannot save {}: {source}", path.display())]
    Save {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("chromedriver answered {command} with {value}, not what it documents")]
    UnexpectedAnswer {
        command: String,
        value: serde_json::Value,
    },
}

/// This crate's results.
pub type Result<T> = std::result::Result<T, Error>;
