//! The site's tools, installed once into a cache outside the repository and found again in
//! well under a second:
//!
//! | tool | version | from |
//! |---|---|---|
//! | wasm32-unknown-unknown | the active toolchain's | `rustup target add` |
//! | trunk | 0.21.14 | `cargo install --locked` (0.22 needs a newer rustc) |
//! | wasm-bindgen | `wasm-bindgen` in Cargo.lock (= `site/Trunk.toml`) | `cargo install wasm-bindgen-cli` |
//! | wasm-opt | binaryen 132 (`site/Trunk.toml`) | npm package `binaryen` |
//! | chromium, chromedriver | Debian's | `apt-get install` (browser tests only) |
//!
//! A binary of the right version already on `PATH` or in `~/.cargo/bin` is used as it is;
//! otherwise the tool goes into `~/.cache/greeting-stack/<tool>-<version>/` (override the
//! place with `GREETING_STACK_CACHE`). Trunk runs offline with these on its `PATH`.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Deserialize;

/// Trunk's version: 0.21.14 is the last one that builds with Rust 1.95.
pub const TRUNK_VERSION: &str = "0.21.14";

/// The Rust target the site compiles to.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The workspace root (the xtask crate's parent).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where tools are cached (see `tool_cache` for the variables that move it); inside the
/// workspace's `target/` when no variable says where.
pub fn cache_dir() -> PathBuf {
    tool_cache::cache_dir()
        .unwrap_or_else(|| workspace_root().join("target").join(tool_cache::CACHE_NAME))
}

/// The versions the site's build needs, read from the files that pin them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versions {
    /// `wasm-bindgen` in Cargo.lock; `site/Trunk.toml` must say the same.
    pub wasm_bindgen: String,
    /// binaryen's version number, from `wasm_opt = "version_N"` in `site/Trunk.toml`.
    pub binaryen: String,
}

impl Versions {
    /// Reads Cargo.lock and site/Trunk.toml; `Err` says which file to fix.
    pub fn read(root: &Path) -> Result<Self, String> {
        let lock = read(&root.join("Cargo.lock"))?;
        let trunk_toml = read(&root.join("site/Trunk.toml"))?;
        Self::from_files(&lock, &trunk_toml)
    }

    fn from_files(lock: &str, trunk_toml: &str) -> Result<Self, String> {
        let lock: CargoLock =
            toml::from_str(lock).map_err(|e| format!("Cargo.lock is not valid TOML: {e}"))?;
        let trunk: TrunkToml = toml::from_str(trunk_toml)
            .map_err(|e| format!("site/Trunk.toml is not valid TOML: {e}"))?;
        let locked = lock.version_of("wasm-bindgen")?.ok_or(
            "Cargo.lock has no wasm-bindgen: run `cargo fetch` (the site crate depends on it)",
        )?;
        let pinned = trunk
            .tools
            .wasm_bindgen
            .ok_or("site/Trunk.toml: [tools] needs wasm_bindgen = \"<version in Cargo.lock>\"")?;
        if pinned != locked {
            return Err(format!(
                "site/Trunk.toml pins wasm_bindgen = \"{pinned}\" but Cargo.lock has wasm-bindgen \
                 {locked}: set wasm_bindgen = \"{locked}\" in site/Trunk.toml"
            ));
        }
        let binaryen = trunk
            .tools
            .wasm_opt
            .and_then(|v| v.strip_prefix("version_").map(str::to_owned))
            .ok_or("site/Trunk.toml: [tools] needs wasm_opt = \"version_<binaryen version>\"")?;
        Ok(Self {
            wasm_bindgen: locked,
            binaryen,
        })
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The part of Cargo.lock the pins are checked against.
#[derive(Debug, Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<LockedPackage>,
}

#[derive(Debug, Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
}

impl CargoLock {
    /// The locked version of package `name`; two versions at once is an error (the
    /// site's tools can match only one).
    fn version_of(&self, name: &str) -> Result<Option<String>, String> {
        let versions: Vec<&str> = self
            .package
            .iter()
            .filter(|p| p.name == name)
            .map(|p| p.version.as_str())
            .collect();
        match versions.as_slice() {
            [] => Ok(None),
            [version] => Ok(Some((*version).to_owned())),
            [first, second, ..] => Err(format!(
                "Cargo.lock has {name} {first} and {second}: keep one (`cargo tree -i {name}` \
                 shows who wants each)"
            )),
        }
    }
}

/// The part of site/Trunk.toml that pins the tools.
#[derive(Debug, Deserialize)]
struct TrunkToml {
    #[serde(default)]
    tools: TrunkTools,
}

#[derive(Debug, Default, Deserialize)]
struct TrunkTools {
    wasm_bindgen: Option<String>,
    wasm_opt: Option<String>,
}

/// A tool the site needs, where it is looked for and how it is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// The program's name.
    pub program: &'static str,
    /// The version wanted, as the program's `--version` prints it.
    pub version: String,
    /// Where our own install of this version puts the program.
    pub cached: PathBuf,
    /// How to install it there.
    pub install: Install,
}

/// How a missing tool is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// `cargo install [--locked] <crate> --version =V --root DIR`.
    Cargo {
        krate: &'static str,
        locked: bool,
        root: PathBuf,
    },
    /// `npm install --prefix DIR <package>@V`.
    Npm {
        package: &'static str,
        prefix: PathBuf,
    },
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.program, self.version)
    }
}

impl Tool {
    /// Trunk, pinned.
    pub fn trunk(cache: &Path) -> Self {
        let root = cache.join(format!("trunk-{TRUNK_VERSION}"));
        Tool {
            program: "trunk",
            version: TRUNK_VERSION.to_owned(),
            cached: root.join("bin/trunk"),
            install: Install::Cargo {
                krate: "trunk",
                locked: true,
                root,
            },
        }
    }

    /// wasm-bindgen's CLI, the version in Cargo.lock. Installed without `--locked`: its
    /// own lock file's dependencies do not all build with our toolchain.
    pub fn wasm_bindgen(cache: &Path, version: &str) -> Self {
        let root = cache.join(format!("wasm-bindgen-{version}"));
        Tool {
            program: "wasm-bindgen",
            version: version.to_owned(),
            cached: root.join("bin/wasm-bindgen"),
            install: Install::Cargo {
                krate: "wasm-bindgen-cli",
                locked: false,
                root,
            },
        }
    }

    /// binaryen's wasm-opt from npm (Debian's binaryen 108 emits WASM browsers reject).
    pub fn wasm_opt(cache: &Path, binaryen: &str) -> Self {
        let prefix = cache.join(format!("binaryen-{binaryen}"));
        Tool {
            program: "wasm-opt",
            version: binaryen.to_owned(),
            cached: prefix.join("node_modules/.bin/wasm-opt"),
            install: Install::Npm {
                package: "binaryen",
                prefix,
            },
        }
    }

    /// The version `program --version` reports, as Trunk reads it.
    pub fn parse_version(&self, output: &str) -> Option<String> {
        let mut words = output.split_whitespace();
        match self.program {
            // "trunk 0.21.14", "wasm-bindgen 0.2.130 (abc123)"
            "trunk" | "wasm-bindgen" => words.nth(1).map(str::to_owned),
            // "wasm-opt version 132 (version_132)"
            "wasm-opt" => words.nth(2).map(str::to_owned),
            _ => None,
        }
    }

    /// The version of the program at `path`, if it runs.
    fn version_at(&self, path: &Path) -> Option<String> {
        let output = Command::new(path)
            .arg("--version")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| self.parse_version(&String::from_utf8_lossy(&output.stdout)))
            .flatten()
    }

    /// Where this version already is: our cache, then `PATH`, then `~/.cargo/bin`.
    pub fn find(&self) -> Option<PathBuf> {
        let mut candidates = vec![self.cached.clone()];
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path).map(|dir| dir.join(self.program)));
        }
        if let Some(home) = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        {
            candidates.push(home.join("bin").join(self.program));
        }
        candidates
            .into_iter()
            .filter(|path| path.is_file())
            .find(|path| self.version_at(path).as_deref() == Some(self.version.as_str()))
    }

    /// The command that installs it into the cache.
    pub fn install_command(&self) -> Command {
        match &self.install {
            Install::Cargo {
                krate,
                locked,
                root,
            } => {
                let mut command = Command::new("cargo");
                command.arg("install");
                if *locked {
                    command.arg("--locked");
                }
                command
                    .arg(krate)
                    .arg("--version")
                    .arg(format!("={}", self.version))
                    .arg("--root")
                    .arg(root)
                    .arg("--bin")
                    .arg(self.program)
                    // A build tool, compiled once on two cores: skip fat LTO and use
                    // parallel codegen (these override the crate's own release profile).
                    .env("CARGO_PROFILE_RELEASE_LTO", "off")
                    .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
                command
            }
            Install::Npm { package, prefix } => {
                let mut command = Command::new("npm");
                command
                    .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                    .arg("--prefix")
                    .arg(prefix)
                    .arg(format!("{package}@{}.0.0", self.version));
                command
            }
        }
    }

    /// Finds the tool, installing it first when missing; returns the program's path.
    pub fn ensure(&self) -> Result<PathBuf, String> {
        if let Some(path) = self.find() {
            eprintln!("    {self}: {}", path.display());
            return Ok(path);
        }
        let (how_long, hint) = match self.install {
            Install::Cargo { .. } => (
                "compiles from crates.io, 5-15 minutes, once",
                "needs access to crates.io; the output above says what failed",
            ),
            Install::Npm { .. } => (
                "downloads from npm, seconds, once",
                "needs node and npm (Debian: apt-get install nodejs npm) and access to the npm registry",
            ),
        };
        let mut command = self.install_command();
        eprintln!("    {self}: not found; installing ({how_long}): {command:?}");
        if matches!(self.install, Install::Npm { .. }) {
            ensure_program("npm", &["nodejs", "npm"])?;
        }
        let started = Instant::now();
        run(&mut command)
            .map_err(|e| format!("installing {self} failed: {e}\nxtask: next: {hint}"))?;
        eprintln!(
            "    {self}: installed in {:.0}s",
            started.elapsed().as_secs_f64()
        );
        match self.version_at(&self.cached) {
            Some(v) if v == self.version => Ok(self.cached.clone()),
            found => Err(format!(
                "installed {self} but {} reports {found:?}\nxtask: next: delete {} and rerun",
                self.cached.display(),
                self.cached.parent().unwrap_or(&self.cached).display()
            )),
        }
    }
}

/// Runs a command with inherited output; `Err` describes a failure.
fn run(command: &mut Command) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{command:?} exited with {status}")),
        Err(error) => Err(format!("cannot run {command:?}: {error}")),
    }
}

/// Whether `program` runs at all (`program --version`).
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether this process runs as root (CI does; `apt-get` needs it).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs Debian packages: as root directly, otherwise through `sudo -n` when allowed.
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    let hint = format!(
        "install them by hand: sudo apt-get update && sudo apt-get install -y {}",
        packages.join(" ")
    );
    let sudo: &[&str] = if is_root() {
        &[]
    } else if Command::new("sudo")
        .args(["-n", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        &["sudo", "-n"]
    } else {
        return Err(format!(
            "{} missing and this is not root\nxtask: next: {hint}",
            packages.join(", ")
        ));
    };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut command = Command::new(all[0]);
        command
            .args(&all[1..])
            .env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    eprintln!(
        "    apt-get install {} (a minute or two, once)",
        packages.join(" ")
    );
    let started = Instant::now();
    run(apt(&["update", "-qq"]).stdout(Stdio::null()))
        .and_then(|()| {
            let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
            args.extend_from_slice(packages);
            run(apt(&args).stdout(Stdio::null()))
        })
        .map_err(|e| format!("{e}\nxtask: next: {hint}"))?;
    eprintln!("    installed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Makes sure `program` runs, installing Debian `packages` when it does not.
fn ensure_program(program: &str, packages: &[&str]) -> Result<(), String> {
    if runs(program) {
        return Ok(());
    }
    apt_install(packages)
}

/// Adds the wasm32 target through rustup when it is missing.
pub fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stderr(Stdio::null())
        .output();
    let Ok(installed) = installed else {
        return Err(format!(
            "rustup not found, so the {WASM_TARGET} target cannot be added\nxtask: next: install \
             Rust with rustup (https://rustup.rs); without rustup, Debian's rustc-web, cargo-web, \
             rust-web-src, rust-web-llvm and lld packages build it with RUSTC_BOOTSTRAP=1 \
             CARGO_UNSTABLE_BUILD_STD=std,panic_abort"
        ));
    };
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        eprintln!("    {WASM_TARGET}: installed");
        return Ok(());
    }
    eprintln!("    {WASM_TARGET}: adding (a minute, once)");
    run(Command::new("rustup").args(["target", "add", WASM_TARGET])).map_err(|e| {
        format!("{e}\nxtask: next: run `rustup target add {WASM_TARGET}` and read its error")
    })
}

/// The site's build tools, found or installed.
#[derive(Debug, Clone)]
pub struct SiteTools {
    /// The `trunk` program.
    pub trunk: PathBuf,
    /// `PATH` for Trunk: the tools' directories first.
    pub path: OsString,
}

/// Everything `trunk build` needs: the wasm32 target, trunk, wasm-bindgen, wasm-opt.
pub fn ensure_site_tools() -> Result<SiteTools, String> {
    let started = Instant::now();
    let root = workspace_root();
    let versions = Versions::read(&root)?;
    let cache = cache_dir();
    ensure_wasm_target()?;
    let trunk = Tool::trunk(&cache).ensure()?;
    let wasm_bindgen = Tool::wasm_bindgen(&cache, &versions.wasm_bindgen).ensure()?;
    let wasm_opt = Tool::wasm_opt(&cache, &versions.binaryen).ensure()?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in [&trunk, &wasm_bindgen, &wasm_opt]
        .into_iter()
        .filter_map(|p| p.parent())
    {
        if !dirs.iter().any(|d| d == dir) {
            dirs.push(dir.to_path_buf());
        }
    }
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(dirs.into_iter().chain(std::env::split_paths(&inherited)))
        .map_err(|e| format!("cannot build PATH for trunk: {e}"))?;
    eprintln!(
        "    site tools ready ({:.1}s)",
        started.elapsed().as_secs_f64()
    );
    Ok(SiteTools { trunk, path })
}

/// Chromium and chromedriver, for the browser tests (Debian packages).
pub fn ensure_browser() -> Result<(), String> {
    if runs("chromedriver") && Path::new(CHROMIUM).is_file() {
        eprintln!("    chromium, chromedriver: installed");
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// Sets of Debian packages a step of `cargo xtask test` needs beyond the site's tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DebianTools {
    /// qemu's user-mode emulator and the arm64 loader and libc (the paths are
    /// `lambda_runners::rie`'s business): they run the arm64 bootstraps `sam build`
    /// produces, and AWS's arm64 Runtime Interface Emulator, on this machine.
    Arm64,
    /// Apache Velocity 1.7 (the version API Gateway runs), the commons-lang 2 behind
    /// `$util.escapeJavaScript`, and a JDK to compile the mapping crate's differential
    /// test driver.
    Velocity,
}

impl DebianTools {
    /// The packages of the set.
    pub fn packages(self) -> &'static [&'static str] {
        match self {
            DebianTools::Arm64 => &["qemu-user-static", "libc6-arm64-cross"],
            DebianTools::Velocity => &[
                "velocity",
                "libcommons-lang-java",
                "libcommons-collections3-java",
                "default-jdk-headless",
            ],
        }
    }

    /// Installs the set's packages when `dpkg-query` says one is missing.
    pub fn ensure(self) -> Result<(), String> {
        let packages = self.packages();
        let installed = packages.iter().all(|package| {
            Command::new("dpkg-query")
                .args(["--show", "--showformat=${Status}", package])
                .output()
                .is_ok_and(|o| o.stdout == b"install ok installed")
        });
        if installed {
            eprintln!("    {}: installed", packages.join(", "));
            return Ok(());
        }
        apt_install(packages)
    }
}

/// Where Debian puts Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wasm-bindgen-futures"
version = "0.4.80"
"#;

    const TRUNK_TOML: &str = r#"
[tools]
wasm_bindgen = "0.2.130"
wasm_opt = "version_132"
"#;

    #[test]
    fn reads_the_pinned_versions() {
        let versions = Versions::from_files(LOCK, TRUNK_TOML).unwrap();
        assert_eq!(versions.wasm_bindgen, "0.2.130");
        assert_eq!(versions.binaryen, "132");
    }

    #[test]
    fn a_trunk_pin_that_differs_from_the_lock_says_what_to_write() {
        let error =
            Versions::from_files(LOCK, &TRUNK_TOML.replace("0.2.130", "0.2.100")).unwrap_err();
        assert!(
            error.contains("set wasm_bindgen = \"0.2.130\" in site/Trunk.toml"),
            "{error}"
        );
    }

    #[test]
    fn reads_pins_however_the_toml_is_laid_out() {
        // Inline tables, comments and a key under another table: line matching read the
        // first `wasm_opt =` it saw, here the one in [build].
        let trunk = r#"
[build]
wasm_opt = "version_1"   # not a pin: [build] has no such key for the tools
[tools]
wasm_bindgen = "0.2.130" # same as Cargo.lock
wasm_opt='version_132'
"#;
        let versions = Versions::from_files(LOCK, trunk).unwrap();
        assert_eq!(versions.binaryen, "132");
    }

    #[test]
    fn two_locked_versions_of_wasm_bindgen_are_refused() {
        let lock = format!("{LOCK}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.99\"\n");
        assert_eq!(
            Versions::from_files(&lock, TRUNK_TOML).unwrap_err(),
            "Cargo.lock has wasm-bindgen 0.2.130 and 0.2.99: keep one (`cargo tree -i \
             wasm-bindgen` shows who wants each)"
        );
    }

    #[test]
    fn a_missing_pin_says_what_to_add() {
        assert_eq!(
            Versions::from_files(LOCK, "[tools]\nwasm_opt = \"version_132\"\n").unwrap_err(),
            "site/Trunk.toml: [tools] needs wasm_bindgen = \"<version in Cargo.lock>\""
        );
        let invalid = Versions::from_files(LOCK, "[tools\n").unwrap_err();
        assert!(
            invalid.starts_with("site/Trunk.toml is not valid TOML: "),
            "{invalid}"
        );
    }

    #[test]
    fn the_repository_pins_agree() {
        let versions = Versions::read(&workspace_root()).unwrap();
        assert!(!versions.binaryen.is_empty());
    }

    #[test]
    fn parses_versions_as_trunk_does() {
        let cache = Path::new("/c");
        assert_eq!(
            Tool::trunk(cache)
                .parse_version("trunk 0.21.14\n")
                .as_deref(),
            Some("0.21.14")
        );
        assert_eq!(
            Tool::wasm_bindgen(cache, "0.2.130")
                .parse_version("wasm-bindgen 0.2.130 (9d4a2f8ee)\n")
                .as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            Tool::wasm_opt(cache, "132")
                .parse_version("wasm-opt version 132 (version_132)\n")
                .as_deref(),
            Some("132")
        );
        assert_eq!(Tool::trunk(cache).parse_version(""), None);
    }

    #[test]
    fn installs_into_versioned_cache_directories() {
        let cache = Path::new("/c");
        let trunk = Tool::trunk(cache);
        assert_eq!(trunk.cached, Path::new("/c/trunk-0.21.14/bin/trunk"));
        let args: Vec<String> = trunk
            .install_command()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "install",
                "--locked",
                "trunk",
                "--version",
                "=0.21.14",
                "--root",
                "/c/trunk-0.21.14",
                "--bin",
                "trunk"
            ]
        );
        let bindgen = Tool::wasm_bindgen(cache, "0.2.130");
        let args: Vec<String> = bindgen
            .install_command()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!args.contains(&"--locked".to_owned()), "{args:?}");
        assert!(args.contains(&"wasm-bindgen-cli".to_owned()));
        let opt = Tool::wasm_opt(cache, "132");
        assert_eq!(
            opt.cached,
            Path::new("/c/binaryen-132/node_modules/.bin/wasm-opt")
        );
        let args: Vec<String> = opt
            .install_command()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args.last().map(String::as_str), Some("binaryen@132.0.0"));
    }

    #[test]
    fn finds_nothing_for_a_version_nobody_has() {
        let tool = Tool::wasm_bindgen(Path::new("/nonexistent"), "0.0.0-none");
        assert_eq!(tool.find(), None);
    }
}
