//! The page's entry point: mounts the app (see `lib.rs`). Trunk builds it for wasm32.

#[cfg(target_arch = "wasm32")]
fn main() {
    site::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "site: this is a web page; `cargo xtask demo` builds it (Trunk, wasm32) and serves it"
    );
    std::process::ExitCode::FAILURE
}
