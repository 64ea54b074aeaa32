//! # loopback-guard — what every server on 127.0.0.1 and its log share
//!
//! - [`host_check`]: the `Host`-header allowlist (DNS rebinding protection) every local
//!   server applies: the local stack's API, identity provider and site, and the Lambda
//!   Runtime API of `lambda-runners`.
//! - [`log_text`]: client-influenced text made safe for a log line.
//! - [`serve`]: the accept loop every one of them runs: the head and request
//!   deadlines, the Host allowlist, a graceful stop; and, for the API Gateway
//!   emulator, [`head_record`]: each request's header names as the client spelled them.
//!
//! Its own crate so that the Lambda runners and the local stack share these without one
//! depending on the other. Tests: `cargo test -p loopback-guard`.

pub mod head_record;
pub mod host_check;
pub mod log_text;
pub mod serve;
