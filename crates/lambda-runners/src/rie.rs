//! AWS's own Lambda Runtime Interface Emulator (RIE) running a built `bootstrap`, bound
//! to 127.0.0.1 on free ports (`local`'s `LambdaMode::Rie`, and the workspace's RIE tests
//! through `testkit`). The RIE binary ships in the aws-sam-cli wheel that
//! `cargo xtask test` installs into `~/.cache/greeting-stack/aws-venv`.
//!
//! Both emulators of the wheel run here: `aws-lambda-rie-x86_64` natively and
//! `aws-lambda-rie-arm64`, with the arm64 bootstraps `sam build` deploys, under Debian's
//! `qemu-aarch64-static` (packages `qemu-user-static` and `libc6-arm64-cross`), so the
//! artifact that deploys is the one tested. [`Rie::start`] reads each binary's ELF header
//! and puts qemu in front of whatever is not built for this machine.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::Error;
use crate::process::{collect_output, isolated_command, lock};

/// Set to `sam build`'s output directory (`.aws-sam/build`), the RIE tests run the
/// bootstraps found there, under the emulator for their architecture, instead of cargo's.
pub const SAM_BUILD_DIR_VAR: &str = "GREETING_STACK_SAM_BUILD";

/// qemu's user-mode emulator for arm64 binaries, and the arm64 loader and libc it reads
/// them with (Debian's `qemu-user-static` and `libc6-arm64-cross`).
pub const QEMU_AARCH64: &str = "qemu-aarch64-static";
/// See [`QEMU_AARCH64`].
pub const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// The machines a Lambda runs on (template.yaml's `Architectures`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    X86_64,
    Aarch64,
}

impl Machine {
    /// The machine this process runs on.
    pub fn host() -> Machine {
        if cfg!(target_arch = "aarch64") {
            Machine::Aarch64
        } else {
            Machine::X86_64
        }
    }

    /// The machine an ELF executable is built for. Read by hand: two fields of a fixed
    /// header, where an object-file crate would be a large dependency for 20 bytes.
    pub fn of(executable: &Path) -> Result<Machine, Error> {
        let mut header = [0u8; 20];
        std::fs::File::open(executable)
            .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut header))
            .map_err(|source| Error::Read {
                path: executable.to_owned(),
                source,
            })?;
        if header[..4] != *b"\x7fELF" {
            return Err(Error::NotElf(executable.to_owned()));
        }
        // e_machine (offset 18), in the byte order EI_DATA (offset 5) names: 1 = little.
        let machine = if header[5] == 1 {
            u16::from_le_bytes([header[18], header[19]])
        } else {
            u16::from_be_bytes([header[18], header[19]])
        };
        match machine {
            0x3e => Ok(Machine::X86_64),
            0xb7 => Ok(Machine::Aarch64),
            machine => Err(Error::UnknownMachine {
                path: executable.to_owned(),
                machine,
            }),
        }
    }

    /// The emulator's file name in the aws-sam-cli wheel.
    pub fn rie_file_name(self) -> &'static str {
        match self {
            Machine::X86_64 => "aws-lambda-rie-x86_64",
            Machine::Aarch64 => "aws-lambda-rie-arm64",
        }
    }
}

/// The bootstrap the RIE tests run for `function` (a logical ID of template.yaml, e.g.
/// `AuthorizerFunction`): `sam build`'s when [`SAM_BUILD_DIR_VAR`] is set, else
/// `host_build` (cargo's).
pub fn bootstrap_for(function: &str, host_build: &Path) -> PathBuf {
    match std::env::var_os(SAM_BUILD_DIR_VAR) {
        Some(dir) => PathBuf::from(dir).join(function).join("bootstrap"),
        None => host_build.to_owned(),
    }
}

/// Finds the emulator for this machine in an aws-sam-cli virtualenv: `venv` if given,
/// else `GREETING_STACK_AWS_TOOLS`, else `~/.cache/greeting-stack/aws-venv`.
pub fn locate(venv: Option<&Path>) -> Result<PathBuf, Error> {
    locate_for(venv, Machine::host())
}

/// Finds the emulator for `machine` (see [`locate`] for where it looks).
pub fn locate_for(venv: Option<&Path>, machine: Machine) -> Result<PathBuf, Error> {
    let venv = match venv {
        Some(venv) => venv.to_path_buf(),
        None => tool_cache::aws_tools_dir().ok_or(Error::NoToolCache)?,
    };
    let lib = venv.join("lib");
    let entries = std::fs::read_dir(&lib).map_err(|source| Error::NoVirtualenv {
        lib: lib.clone(),
        source,
    })?;
    let name = machine.rie_file_name();
    for entry in entries.flatten() {
        let candidate = entry
            .path()
            .join("site-packages/samcli/local/rapid")
            .join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::NoEmulator { name, lib })
}

/// How a foreign (arm64 on x86_64) binary is started: through qemu, found on `PATH`.
fn qemu() -> Result<PathBuf, Error> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(QEMU_AARCH64))
        .find(|candidate| candidate.is_file());
    let sysroot_present = Path::new(AARCH64_SYSROOT).join("lib").is_dir();
    match on_path {
        Some(qemu) if sysroot_present => Ok(qemu),
        _ => Err(Error::NoQemu),
    }
}

/// A directory of this process's own, removed when dropped: holds the script that
/// starts an arm64 bootstrap through qemu.
#[derive(Debug)]
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> std::io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "greeting-stack-rie-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The script the emulator starts in place of a foreign `bootstrap`. The emulator itself
/// may run under qemu, which hands `execve` to the kernel: without binfmt_misc (absent
/// in containers) the kernel cannot run an arm64 file, but it runs a shell script, which
/// starts qemu with the arm64 loader and libc.
fn qemu_wrapper_script(qemu: &Path, bootstrap: &Path) -> String {
    let quote = |path: &Path| format!("'{}'", path.display().to_string().replace('\'', r"'\''"));
    format!(
        "#!/bin/sh\nexec {} -L {} {} \"$@\"\n",
        quote(qemu),
        quote(Path::new(AARCH64_SYSROOT)),
        quote(bootstrap)
    )
}

/// What the function's log lines are labelled with: the file name, or for `sam build`'s
/// `<LogicalId>/bootstrap` the logical ID.
fn function_label(bootstrap: &Path) -> String {
    let name = |path: Option<&Path>| {
        path.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match name(Some(bootstrap)) {
        file if file == "bootstrap" => name(bootstrap.parent()),
        file => file,
    }
}

fn write_executable(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// A running emulator; killed when dropped.
#[derive(Debug)]
pub struct Rie {
    child: tokio::process::Child,
    invoke_url: String,
    output: Arc<Mutex<Vec<u8>>>,
    client: reqwest::Client,
    _scratch: Option<ScratchDir>,
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Rie {
    /// Starts `rie` running `bootstrap` with `env` (the emulator passes its environment
    /// on to the function) and waits until it listens. Either binary built for arm64
    /// runs under qemu on an x86_64 machine (see the module doc).
    pub async fn start(rie: &Path, bootstrap: &Path, env: &[(&str, &str)]) -> Result<Self, Error> {
        let host = Machine::host();
        let foreign = |binary: &Path| Machine::of(binary).map(|machine| machine != host);
        let (rie_foreign, bootstrap_foreign) = (foreign(rie)?, foreign(bootstrap)?);
        let qemu = if rie_foreign || bootstrap_foreign {
            Some(qemu()?)
        } else {
            None
        };
        let function = function_label(bootstrap);
        let (bootstrap, scratch) = match &qemu {
            Some(qemu) if bootstrap_foreign => {
                let scratch = ScratchDir::new()?;
                let script = scratch.0.join("bootstrap");
                write_executable(&script, &qemu_wrapper_script(qemu, bootstrap))?;
                (script, Some(scratch))
            }
            _ => (bootstrap.to_owned(), None),
        };
        let (invoke_port, api_port) = (free_port()?, free_port()?);
        let mut command = match &qemu {
            Some(qemu) if rie_foreign => {
                let mut command = isolated_command(qemu);
                command.arg(rie);
                command
            }
            _ => isolated_command(rie),
        };
        command
            .arg("--runtime-interface-emulator-address")
            .arg(format!("127.0.0.1:{invoke_port}"))
            .arg("--runtime-api-address")
            .arg(format!("127.0.0.1:{api_port}"))
            .arg(&bootstrap);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn()?;
        let output = collect_output(&mut child, &function);
        let rie = Rie {
            child,
            invoke_url: format!(
                "http://127.0.0.1:{invoke_port}/2015-03-31/functions/function/invocations"
            ),
            output,
            client: reqwest::Client::new(),
            _scratch: scratch,
        };
        // The emulator listens within milliseconds (a second or two under qemu); wait for
        // it, boundedly.
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(("127.0.0.1", invoke_port))
                .await
                .is_ok()
            {
                return Ok(rie);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(Error::NotListening {
            port: invoke_port,
            output: rie.output(),
        })
    }

    /// Invokes the function with `event`; the body is the function's result or, for a
    /// failed invocation, its error object (`errorType`, `errorMessage`).
    pub async fn invoke(&self, event: &Value, timeout: Duration) -> Result<Value, Error> {
        let response = self
            .client
            .post(&self.invoke_url)
            .json(event)
            .timeout(timeout)
            .send()
            .await
            .map_err(Error::Invoke)?;
        let text = response.text().await.map_err(Error::Answer)?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// What the emulator and the function printed so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&lock(&self.output)).into_owned()
    }
}

impl Drop for Rie {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The emulator answers 200 for both outcomes; a failed invocation's body is exactly
/// `{"errorType": .., "errorMessage": ..}`.
pub fn as_error(body: &Value) -> Option<(String, String)> {
    let object = body.as_object()?;
    if object.len() != 2 {
        return None;
    }
    Some((
        object.get("errorType")?.as_str()?.to_owned(),
        object.get("errorMessage")?.as_str()?.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_machine_of_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(Machine::of(&exe).unwrap(), Machine::host());
    }

    #[test]
    fn refuses_a_file_that_is_not_elf() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let refused = Machine::of(&manifest).unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!("{} is not an ELF executable", manifest.display())
        );
        assert!(matches!(refused, Error::NotElf(path) if path == manifest));
    }

    #[test]
    fn the_qemu_script_quotes_every_path() {
        assert_eq!(
            qemu_wrapper_script(
                Path::new("/usr/bin/qemu-aarch64-static"),
                Path::new("/work/it's/AuthorizerFunction/bootstrap")
            ),
            "#!/bin/sh\nexec '/usr/bin/qemu-aarch64-static' -L '/usr/aarch64-linux-gnu' \
             '/work/it'\\''s/AuthorizerFunction/bootstrap' \"$@\"\n"
        );
    }

    /// A fresh directory standing in for the aws-sam-cli virtualenv.
    fn scratch_venv(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("lambda-runners-venv-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn finds_the_emulator_for_each_machine_in_the_wheel_layout() {
        let venv = scratch_venv("found");
        let rapid = venv.join("lib/python3.12/site-packages/samcli/local/rapid");
        std::fs::create_dir_all(&rapid).unwrap();
        std::fs::write(rapid.join("aws-lambda-rie-arm64"), "").unwrap();
        assert_eq!(
            locate_for(Some(&venv), Machine::Aarch64).unwrap(),
            rapid.join("aws-lambda-rie-arm64")
        );
        let missing = locate_for(Some(&venv), Machine::X86_64).unwrap_err();
        assert_eq!(
            missing.to_string(),
            format!(
                "no aws-lambda-rie-x86_64 under {}: is aws-sam-cli installed there?",
                venv.join("lib").display()
            )
        );
        assert!(matches!(
            missing,
            Error::NoEmulator {
                name: "aws-lambda-rie-x86_64",
                ..
            }
        ));
        std::fs::remove_dir_all(&venv).unwrap();
    }

    #[test]
    fn a_missing_virtualenv_says_who_installs_it() {
        let venv = scratch_venv("empty");
        let refused = locate_for(Some(&venv), Machine::X86_64).unwrap_err();
        assert!(matches!(&refused, Error::NoVirtualenv { lib, .. } if *lib == venv.join("lib")));
        assert!(
            refused
                .to_string()
                .ends_with("(`cargo xtask test` installs aws-sam-cli there)"),
            "{refused}"
        );
        std::fs::remove_dir_all(&venv).unwrap();
    }

    #[test]
    fn labels_sam_build_bootstraps_with_their_logical_id() {
        assert_eq!(
            function_label(Path::new(".aws-sam/build/HelloFunction/bootstrap")),
            "HelloFunction"
        );
        assert_eq!(function_label(Path::new("target/debug/hello")), "hello");
    }
}
