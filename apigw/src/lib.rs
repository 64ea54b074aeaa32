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
//! - [`trace`]: the trace of every request it serves (a [`request_trace::RequestTrace`]:
//!   the authorizer's event with every credential as a fingerprint, its decision and why,
//!   the cache, the request template's source and output, the function's answer and log
//!   lines, the integration response, the response as sent, where it stopped), the last
//!   [`trace::MAX_TRACES`] of them, and the invocations of each function.
//!
//! The hop-by-hop log is written under the target `local::hop`, the one the
//! `local-stack` command's `RUST_LOG=local=info` (its default) shows.
//!
//! ## The local-only endpoints
//! [`trace::local_app`] serves, on the API's origin and outside every stage (a stage name
//! cannot start with `.`), for the page's "How it works" view:
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET /.local/trace/{requestId}` | the [`request_trace::RequestTrace`] of the request whose `x-amzn-RequestId` that is; 404 `{"message": ...}` when unknown or no longer kept |
//! | `GET /.local/invocations` | [`request_trace::Invocations`]: `{"AuthorizerFunction": 1, "HelloFunction": 2}`, each function of the definition (a cached decision invokes nothing) |
//!
//! CORS (tower-http's `CorsLayer`) answers the site's origin ([`gateway::GatewaySettings`]'
//! `site_origin`) and no other. API Gateway has nothing like them: they are not part of
//! [`gateway::app`], and the local stack merges them beside it
//! (`trace::local_app(gateway.clone()).merge(gateway::app(gateway))`). A function's log
//! lines reach its hop through [`lambda::with_log`]: whatever the runner (or a tracing
//! layer, `local::function_logs`) passes to [`lambda::log_line`] while the invocation runs.
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
//! // The stage; the local stack adds the trace endpoints beside it.
//! let _router: axum::Router =
//!     apigw::trace::local_app(gateway.clone()).merge(apigw::gateway::app(gateway));
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
