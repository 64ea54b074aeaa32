//! # testkit — test-only support shared by the workspace's test suites
//!
//! - [`keys`]: committed **test-only** RSA keys (see `fixtures/README.md`).
//! - [`tokens`]: Google-shaped ID tokens signed with those keys, and hand-assembled
//!   malformed ones for attack tests.
//! - [`jwks_server`]: a JWKS endpoint on 127.0.0.1 that can rotate keys, fail, answer
//!   garbage, and counts how often it is asked.
//! - [`runtime_api`]: a minimal AWS Lambda Runtime API on 127.0.0.1 that drives a built
//!   `bootstrap` binary, so tests exercise the real process the way Lambda does.
//! - [`rie`]: the same binary under AWS's own Lambda Runtime Interface Emulator (arm64
//!   under qemu).
//!
//! Both wrap `lambda-runners` (the local stack runs the binaries with it too) with a
//! test's panics on setup failures; testkit depends on no crate it tests.
//!
//! Nothing here is used outside tests and benchmarks.

pub mod jwks_server;
pub mod keys;
pub mod rie;
pub mod runtime_api;
pub mod tokens;
