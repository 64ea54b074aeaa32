//! # site — the sign-in page
//!
//! A Leptos client-side app (WASM), built with Trunk into `site/dist/` and served as static
//! files. Someone signs in (Google Identity Services, or the local identity provider's form
//! when `config.json` turns it on), the page calls `GET {apiUrl}/hello` with the ID token in
//! `Authorization`, and shows the greeting as text.
//!
//! ```sh
//! cargo xtask demo            # builds this site, starts the local stack, prints the URL
//! cargo xtask site            # only builds site/dist (release profile `wasm-release`)
//! cargo test -p site          # the page's logic, on the host
//! ```
//!
//! The logic is plain Rust and tested on the host: [`config`] reads `config.json`,
//! [`state`] is the page's state machine and its messages; [`hops`] turns the page's last
//! call (and, locally, the emulator's trace of it) into the "How it works" view, with
//! [`token`] decoding the ID token and [`logs`] writing the `sam logs` commands a deployed
//! page offers instead; [`error`] says what that view could not read. The view and the
//! browser bindings (fetch, Google Identity Services) exist only on wasm32.

pub mod config;
pub mod error;
pub mod hops;
pub mod logs;
pub mod state;
pub mod token;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod gis;

#[cfg(target_arch = "wasm32")]
pub use app::start;
