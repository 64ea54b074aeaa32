//! The crate's one error type: why the Runtime Interface Emulator could not be found,
//! started or asked, or a template function's binary built. (A Runtime API process fails
//! only to bind or spawn: `std::io`.)

use std::path::PathBuf;

use crate::rie::{AARCH64_SYSROOT, QEMU_AARCH64};

/// Why a [`crate::rie`] step failed. Each message says what to do next where there is
/// something to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An executable could not be read.
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not an ELF executable.
    #[error("{} is not an ELF executable", .0.display())]
    NotElf(PathBuf),
    /// The executable is built for a machine Lambda does not run.
    #[error("{} is built for ELF machine {machine:#x}, neither x86_64 nor arm64", .path.display())]
    UnknownMachine { path: PathBuf, machine: u16 },
    /// No variable says where the installed tools are (`tool_cache`'s variables).
    #[error(
        "no variable says where the AWS tools are: set GREETING_STACK_AWS_TOOLS (the virtualenv), GREETING_STACK_CACHE, XDG_CACHE_HOME or HOME, as when `cargo xtask test` installed them"
    )]
    NoToolCache,
    /// The aws-sam-cli virtualenv is not there.
    #[error("{}: {source} (`cargo xtask test` installs aws-sam-cli there)", .lib.display())]
    NoVirtualenv {
        lib: PathBuf,
        source: std::io::Error,
    },
    /// The virtualenv has no emulator for the machine.
    #[error("no {name} under {}: is aws-sam-cli installed there?", .lib.display())]
    NoEmulator { name: &'static str, lib: PathBuf },
    /// An arm64 binary is to run on x86_64 without qemu.
    #[error(
        "running arm64 binaries here needs {QEMU_AARCH64} on PATH and the arm64 libc in \
         {AARCH64_SYSROOT}: apt-get install qemu-user-static libc6-arm64-cross \
         (`cargo xtask test` installs them)"
    )]
    NoQemu,
    /// A port, the qemu script or the process could not be made.
    #[error("{0}")]
    Start(#[from] std::io::Error),
    /// The emulator started but did not listen.
    #[error("the emulator did not listen on 127.0.0.1:{port}:\n{output}")]
    NotListening { port: u16, output: String },
    /// A template function's binary cannot be planned or built: the phrase that follows
    /// "cannot run X of template.yaml: " (it names the property or the cargo command).
    #[error("{0}")]
    Build(String),
    /// The invocation request failed (refused, reset, timed out).
    #[error("invoking through the emulator failed: {0}")]
    Invoke(#[source] reqwest::Error),
    /// The emulator's answer could not be read.
    #[error("reading the emulator's answer failed: {0}")]
    Answer(#[source] reqwest::Error),
}
