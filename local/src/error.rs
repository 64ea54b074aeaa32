//! The crate's one error type: what stops the stack from starting.
//!
//! Requests never fail with these: the emulator answers every request the way API
//! Gateway would (gateway responses), and logs the detail.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the local stack could not start. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API definition (or the template its functions come from) cannot be run.
    #[error(transparent)]
    Api(#[from] apigw::Error),
    /// An integration or authorizer URI names a function the stack cannot run.
    #[error("{0}")]
    UnknownFunction(String),
    /// A setting of [`crate::StackConfig`] is out of range.
    #[error("invalid setting {name}: {detail}")]
    InvalidSetting { name: &'static str, detail: String },
    /// A port is taken (or not ours to bind).
    #[error(
        "cannot listen on {addr} for the {server}: {source}; choose another port with --{server}-port (0 picks a free one)"
    )]
    Bind {
        server: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// `site_dir` does not hold a built site.
    #[error(
        "{} has no index.html: the site is not built; build it with `cargo xtask demo` (it builds site/dist, then starts this stack)",
        .0.display()
    )]
    SiteNotBuilt(PathBuf),
    /// The site's headers policy in `template.yaml` is not one the site server reproduces.
    #[error("template.yaml's site headers policy (SiteResponseHeadersPolicy): {0}")]
    SiteHeaders(String),
    /// The identity provider could not make its signing key.
    #[error("the identity provider cannot create its RSA key: {0}")]
    Key(String),
    /// The in-process authorizer rejected its configuration.
    #[error("the authorizer's configuration is invalid: {0}")]
    Authorizer(#[from] authorizer::Error),
    /// A Lambda binary for [`crate::LambdaMode::Binaries`] is missing.
    #[error(
        "the {function} binary {} does not exist; build it with `cargo build -p authorizer -p hello --bins`",
        .path.display()
    )]
    MissingBinary {
        function: &'static str,
        path: PathBuf,
    },
    /// A Lambda binary could not be started.
    #[error("cannot start {}: {source}", .path.display())]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file to reload on change cannot be watched.
    #[error("cannot watch {} for changes: {detail}", .path.display())]
    Watch { path: PathBuf, detail: String },
}
