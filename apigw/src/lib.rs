//! # apigw — the API Gateway emulator
//!
//! A REST API stage as API Gateway runs it, driven by the very files AWS deploys:
//!
//! - [`definition`]: `openapi.yaml` with its `x-amazon-apigateway-*` extensions, read once
//!   and compiled (routes, TOKEN and REQUEST authorizers, request templates, integrations
//!   and their responses, gateway responses). What the emulator does not reproduce is
//!   refused at start-up with the place named, never run differently from AWS.
//! - [`template`]: the function names of a SAM `template.yaml`.
//! - [`gateway`]: the stage as an axum [`axum::Router`] ([`gateway::app`]): route,
//!   authorizer (identity sources, decision cache, [`policy`] evaluation), request
//!   template (the `mapping` crate), Lambda or mock integration within its timeout,
//!   integration response.
//! - [`lambda`]: how functions are invoked — the [`LambdaFunction`] trait and its
//!   events, errors and registry. This crate runs no function itself and knows none
//!   (never `authorizer` or `hello`): `local` implements the trait for them, in process
//!   or as built binaries (`lambda-runners`).
//!
//! The hop-by-hop log is written under the target `local::hop`, the one the
//! `local-stack` command's `RUST_LOG=local=info` (its default) shows.
//!
//! ## Test it
//! ```text
//! cargo test -p apigw     # definition refusals, policy evaluation, timeouts: no ports
//! cargo test -p local     # the whole stack, through real HTTP
//! ```
//!
//! ## Serve a definition
//! ```
//! # fn demo() -> Result<(), apigw::Error> {
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//!
//! let definition = Arc::new(apigw::ApiDefinition::embedded()?);
//! let gateway = Arc::new(apigw::gateway::Gateway::new(apigw::gateway::GatewaySettings {
//!     definition,
//!     stage: "prod".into(),
//!     stage_variables: BTreeMap::new(),
//!     site_origin: "http://127.0.0.1:4100".into(),
//!     functions: apigw::FunctionRegistry::default().into_map(),
//!     ttl_override: None,
//!     clock: apigw::Clock::default(),
//!     verbose: false,
//! }));
//! let _router: axum::Router = apigw::gateway::app(gateway);
//! # Ok(()) }
//! ```

mod clock;
pub mod definition;
mod error;
pub mod gateway;
pub mod lambda;
pub mod policy;
pub mod template;
pub mod trace;

pub use clock::Clock;
pub use definition::ApiDefinition;
pub use error::Error;
pub use lambda::{FunctionError, FunctionRegistry, LambdaFunction};
/// The trace contract ([`trace`] writes it), re-exported for the stack's users.
pub use request_trace;
