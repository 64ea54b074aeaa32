//! `cargo xtask site`: builds the page into `site/dist/` with Trunk (release: the
//! `wasm-release` profile, opt-level "z", LTO, then `wasm-opt -Oz`), offline, and reports
//! the gzipped size of its WASM and JavaScript against the budget.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::step::{Step, run_all};
use crate::tools::{self, workspace_root};

/// The most the page's WASM and JS may weigh together, gzipped.
pub const SIZE_BUDGET_BYTES: u64 = 150 * 1024;

/// The built page's directory.
pub fn dist_dir() -> PathBuf {
    workspace_root().join("site/dist")
}

/// What a built file weighs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSize {
    /// The file's name in `dist/`.
    pub name: String,
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes after `gzip -9`.
    pub gzipped: u64,
}

/// The WASM and JS files of the built page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSize {
    /// One entry per `.wasm` and `.js` file.
    pub files: Vec<FileSize>,
}

impl SiteSize {
    /// Gzipped bytes of all the files together.
    pub fn gzipped_total(&self) -> u64 {
        self.files.iter().map(|f| f.gzipped).sum()
    }

    /// A few lines for the terminal.
    pub fn report(&self) -> String {
        let mut lines: Vec<String> = self
            .files
            .iter()
            .map(|f| {
                format!(
                    "    {:<40} {:>8} raw {:>8} gzipped",
                    f.name,
                    kib(f.raw),
                    kib(f.gzipped)
                )
            })
            .collect();
        lines.push(format!(
            "    WASM + JS gzipped: {} of the {} budget",
            kib(self.gzipped_total()),
            kib(SIZE_BUDGET_BYTES)
        ));
        lines.join("\n")
    }

    /// `Err` when over the budget, saying by how much.
    pub fn check_budget(&self) -> Result<(), String> {
        let total = self.gzipped_total();
        if total <= SIZE_BUDGET_BYTES {
            return Ok(());
        }
        Err(format!(
            "the site's WASM + JS is {} gzipped, over the {} budget by {}\nxtask: next: look \
             for a heavy dependency (`cargo tree -p site --target wasm32-unknown-unknown`) or \
             formatting machinery pulled into the page",
            kib(total),
            kib(SIZE_BUDGET_BYTES),
            kib(total - SIZE_BUDGET_BYTES)
        ))
    }
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// Measures the `.wasm` and `.js` files in `dist` (gzip -9, as a server would send them).
pub fn measure(dist: &Path) -> Result<SiteSize, String> {
    let entries = std::fs::read_dir(dist).map_err(|e| {
        format!(
            "cannot read {}: {e}\nxtask: next: run `cargo xtask site`",
            dist.display()
        )
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_code = path
            .extension()
            .is_some_and(|ext| ext == "wasm" || ext == "js");
        if !is_code {
            continue;
        }
        let raw = entry.metadata().map(|m| m.len()).unwrap_or(0);
        let output = Command::new("gzip")
            .args(["-9", "-c"])
            .arg(&path)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run gzip: {e}"))?;
        if !output.status.success() {
            return Err(format!("gzip {} failed", path.display()));
        }
        files.push(FileSize {
            name: entry.file_name().to_string_lossy().into_owned(),
            raw,
            gzipped: output.stdout.len() as u64,
        });
    }
    if files.is_empty() {
        return Err(format!(
            "no .wasm or .js in {}\nxtask: next: run `cargo xtask site`",
            dist.display()
        ));
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(SiteSize { files })
}

/// The build's steps, given the tools' `PATH` and the trunk program.
pub fn build_steps(trunk: &Path, path: &str) -> Vec<Step> {
    let site = workspace_root().join("site");
    vec![
        Step::new(
            "crates for the site (Trunk builds offline)",
            "cargo",
            &["fetch", "--locked"],
        )
        .dir(workspace_root())
        .hint("needs crates.io once; then everything is in ~/.cargo/registry"),
        Step::new(
            "site build (trunk, wasm-release, wasm-opt)",
            trunk.display().to_string(),
            &["build", "--release"],
        )
        .dir(site)
        .env("PATH", path)
        .hint(
            "the errors above are the site's (fix site/src) or a missing tool (rerun \
             `cargo xtask tools`); `cargo check -p site --target wasm32-unknown-unknown` is quicker",
        ),
    ]
}

/// The site's part of `cargo xtask test`: its tools, its wasm32 lints (the view code exists
/// only there), the release build within the size budget, then the browser tests.
pub fn test_steps() -> Vec<Step> {
    vec![
        Step::new(
            "site tools (wasm32 target, trunk, wasm-bindgen, wasm-opt, chromium)",
            "cargo",
            &["xtask", "tools"],
        )
        .dir(workspace_root())
        .hint("the lines above say which tool failed and how to install it by hand"),
        Step::new(
            "site lints (wasm32)",
            "cargo",
            &[
                "clippy",
                "--locked",
                "--package",
                "site",
                "--target",
                tools::WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ],
        )
        .dir(workspace_root())
        .hint("fix the warnings above (site/src/app.rs, browser.rs, gis.rs build only for wasm32)"),
        Step::new(
            "site build (release, size budget)",
            "cargo",
            &["xtask", "site"],
        )
        .dir(workspace_root())
        .hint("rerun `cargo xtask site` alone; it says what failed"),
        Step::new(
            "browser tests (headless Chromium, local stack)",
            "cargo",
            &[
                "test",
                "--locked",
                "--package",
                "site",
                "--test",
                "browser",
                "--",
                "--ignored",
                "--test-threads=1",
            ],
        )
        .dir(workspace_root())
        .hint(
            "screenshots and browser logs are in target/browser-tests/; rerun one with \
             `cargo test -p site --test browser -- --ignored --nocapture <name>`",
        ),
    ]
}

/// Installs what is missing, builds `site/dist`, prints its size. With `enforce_budget`,
/// a page over the size budget is an error.
pub fn build(enforce_budget: bool) -> Result<SiteSize, String> {
    eprintln!("==> site tools");
    let tools = tools::ensure_site_tools()?;
    let path = tools.path.to_string_lossy().into_owned();
    run_all(&build_steps(&tools.trunk, &path), false)?;
    let size = measure(&dist_dir())?;
    eprintln!("==> site/dist\n{}", size.report());
    match size.check_budget() {
        Err(message) if enforce_budget => Err(message),
        Err(message) => {
            eprintln!("xtask: warning: {message}");
            Ok(size)
        }
        Ok(()) => Ok(size),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(gzipped: &[u64]) -> SiteSize {
        SiteSize {
            files: gzipped
                .iter()
                .enumerate()
                .map(|(i, &g)| FileSize {
                    name: format!("f{i}"),
                    raw: g * 3,
                    gzipped: g,
                })
                .collect(),
        }
    }

    #[test]
    fn budget_counts_wasm_and_js_together() {
        assert_eq!(size(&[100 * 1024, 50 * 1024]).check_budget(), Ok(()));
        let error = size(&[100 * 1024, 51 * 1024]).check_budget().unwrap_err();
        assert!(
            error.contains("over the 150.0 KB budget by 1.0 KB"),
            "{error}"
        );
    }

    #[test]
    fn report_shows_the_total_against_the_budget() {
        let report = size(&[2048, 1024]).report();
        assert!(
            report.ends_with("WASM + JS gzipped: 3.0 KB of the 150.0 KB budget"),
            "{report}"
        );
    }

    #[test]
    fn measures_only_wasm_and_js() {
        let dir = std::env::temp_dir().join(format!("xtask-measure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("site-abc_bg.wasm"), vec![0u8; 4096]).unwrap();
        std::fs::write(dir.join("site-abc.js"), "export {};\n".repeat(100)).unwrap();
        std::fs::write(dir.join("index.html"), "<html>").unwrap();
        let measured = measure(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let names: Vec<&str> = measured.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["site-abc.js", "site-abc_bg.wasm"]);
        assert!(measured.files.iter().all(|f| f.gzipped < f.raw));
    }

    #[test]
    fn trunk_builds_in_the_site_directory_with_the_tools_on_path() {
        let steps = build_steps(Path::new("/t/bin/trunk"), "/t/bin:/usr/bin");
        assert_eq!(steps[0].args, ["fetch", "--locked"]);
        assert_eq!(steps[1].program, "/t/bin/trunk");
        assert_eq!(steps[1].args, ["build", "--release"]);
        assert_eq!(steps[1].dir, Some(workspace_root().join("site")));
        assert!(
            steps[1]
                .env
                .contains(&("PATH".into(), "/t/bin:/usr/bin".into()))
        );
    }
}
