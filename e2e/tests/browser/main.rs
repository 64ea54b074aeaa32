//! The browser tests: one file per behaviour, each test a fresh local stack and a fresh
//! headless Chromium on `site/dist` ([`page::Page`]).
//!
//! The site is served with the deployed site's headers (template.yaml's
//! `SiteResponseHeadersPolicy`, read by `local::site`), and every test fails on any
//! Content-Security-Policy violation, so each one also shows that the page works under the
//! policy that ships.
//!
//! Each test saves a screenshot of every state it reaches, and the browser's console,
//! under `target/browser-tests/<test>/`. `#[ignore]`d in a plain `cargo test` (they need
//! `site/dist` and Chromium); `cargo xtask test` runs them with `--ignored`, and then a
//! missing build or browser fails them, never skips them.
//!
//! One test binary, not one per file: each would link the whole stack again.

mod page;

mod csp;
mod google_sign_in;
mod how_it_works;
mod page_load;
mod refusals;
mod sign_in;
mod unreachable;
