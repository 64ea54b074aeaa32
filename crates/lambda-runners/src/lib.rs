//! # lambda-runners — a built Lambda `bootstrap` run on 127.0.0.1
//!
//! - [`runtime_api`]: a minimal AWS Lambda Runtime API (the `2018-06-01` endpoints a
//!   runtime calls) and the `bootstrap` process it serves: no download, any free port.
//! - [`rie`]: the same binary under AWS's own Lambda Runtime Interface Emulator, from the
//!   aws-sam-cli wheel `cargo xtask test` installs; arm64 binaries (what `sam build`
//!   deploys) run under qemu on an x86_64 machine.
//! - [`cargo_build`]: a template function's binary, chosen and built with cargo as `sam
//!   build` builds a `rust-cargolambda` function (`CodeUri`, `BuildProperties.Binary`).
//!
//! The local stack (`local`, `--lambdas binaries|rie`) runs the functions with these, and
//! the workspace's tests drive each built binary with them through `testkit`. It depends
//! on neither: no Lambda of ours is linked in, so a Lambda crate's tests compile only this.
//!
//! ## Tests
//! ```text
//! cargo test -p lambda-runners          # the Runtime API over real HTTP, ELF and qemu details
//! cargo xtask test                      # also the RIE tests (authorizer, hello, local), --ignored
//! ```

pub mod cargo_build;
mod error;
mod process;
pub mod rie;
pub mod runtime_api;

pub use error::Error;
