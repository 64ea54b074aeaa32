//! `cargo xtask site`: builds the page into `site/dist/` with Trunk (release: the
//! `wasm-release` profile, opt-level "z", LTO, then `wasm-opt -Oz`), offline, moves
//! Trunk's inline loader into a file of its own (the site's Content-Security-Policy allows
//! no inline script), and reports the gzipped size of its WASM and JavaScript against the
//! budget.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use lol_html::html_content::ContentType;
use lol_html::{RewriteStrSettings, element, rewrite_str, text};
use sha2::{Digest, Sha256, Sha384};

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

/// Trunk's page with its inline loader moved into a file of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalLoader {
    /// The new `index.html`: the loader is a `<script type="module" src=...>`.
    pub html: String,
    /// The loader's file name in `dist/`, hashed like Trunk's own files (so the deploy's
    /// year-long caching of everything but index.html and config.json stays right).
    pub file_name: String,
    /// The loader, byte for byte the inline script's text.
    pub script: String,
}

/// What an HTML page holds that a policy without `'unsafe-inline'` refuses.
#[derive(Debug, Default)]
struct InlineCode {
    /// Each inline `<script>`: its `type` and its text.
    scripts: Vec<(Option<String>, String)>,
    /// Descriptions of everything else: `<style>` elements, `style` and `on*` attributes.
    other: Vec<String>,
}

/// Finds the inline code in `html`, with an HTML parser (Trunk's own, lol_html), not by
/// searching text: a `<script` inside a comment or an attribute is not a script.
fn inline_code(html: &str) -> Result<InlineCode, String> {
    let found = RefCell::new(InlineCode::default());
    let settings = RewriteStrSettings::new()
        .append_element_content_handler(element!("script:not([src])", |el| {
            found
                .borrow_mut()
                .scripts
                .push((el.get_attribute("type"), String::new()));
            Ok(())
        }))
        .append_element_content_handler(text!("script:not([src])", |chunk| {
            if let Some((_, body)) = found.borrow_mut().scripts.last_mut() {
                body.push_str(chunk.as_str());
            }
            Ok(())
        }))
        .append_element_content_handler(element!("style", |_| {
            found
                .borrow_mut()
                .other
                .push("a <style> element".to_owned());
            Ok(())
        }))
        .append_element_content_handler(element!("*", |el| {
            for attribute in el.attributes() {
                let name = attribute.name();
                if name == "style" || name.starts_with("on") {
                    found
                        .borrow_mut()
                        .other
                        .push(format!("a `{name}` attribute on <{}>", el.tag_name()));
                }
            }
            Ok(())
        }));
    rewrite_str(html, settings).map_err(|e| format!("cannot parse the page: {e}"))?;
    Ok(found.into_inner())
}

/// Moves the one inline `<script type="module">` Trunk 0.21 writes into `index.html` (it
/// imports the wasm-bindgen JS and starts the WASM) into `loader-<hash>.js`, and drops the
/// `nonce` attributes Trunk adds (a nonce fixed at build time is no secret, so the policy
/// names none). Anything else inline is an error: the policy would block it.
///
/// Trunk has no option for this (trunk-rs/trunk issue 288). The script's relative imports
/// resolve the same from a module beside `index.html`, so its text moves unchanged.
pub fn externalize_loader(html: &str) -> Result<ExternalLoader, String> {
    const NEXT: &str = "xtask: next: Trunk's output changed (see trunk-rs/trunk \
                        src/pipelines/rust/output.rs); update externalize_loader in \
                        xtask/src/site.rs";
    let found = inline_code(html)?;
    if !found.other.is_empty() {
        return Err(format!(
            "site/dist/index.html has inline code the Content-Security-Policy blocks: {}\n\
             xtask: next: move it into site/style.css or the Rust code",
            found.other.join(", ")
        ));
    }
    let script = match found.scripts.as_slice() {
        [(Some(kind), script)] if kind == "module" => script.clone(),
        [] => return Err(format!("index.html has no inline loader to move\n{NEXT}")),
        scripts => {
            return Err(format!(
                "index.html has {} inline scripts, expected Trunk's one <script \
                 type=\"module\">\n{NEXT}",
                scripts.len()
            ));
        }
    };
    // Where Trunk put its files (`public_url`): the loader goes beside its JS.
    let base = script
        .split_once(" from '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .and_then(|(js, _)| js.rsplit_once('/'))
        .map(|(dir, _)| format!("{dir}/"))
        .ok_or_else(|| format!("the inline loader imports nothing\n{NEXT}"))?;
    let digest = Sha256::digest(script.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let file_name = format!("loader-{hash}.js");
    let integrity =
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(script.as_bytes()));
    let tag = format!(
        r#"<script type="module" src="{base}{file_name}" integrity="sha384-{integrity}"></script>"#
    );
    let settings = RewriteStrSettings::new()
        .append_element_content_handler(element!("script:not([src])", |el| {
            el.replace(&tag, ContentType::Html);
            Ok(())
        }))
        .append_element_content_handler(element!("[nonce]", |el| {
            el.remove_attribute("nonce");
            Ok(())
        }));
    let html = rewrite_str(html, settings).map_err(|e| format!("cannot rewrite the page: {e}"))?;
    Ok(ExternalLoader {
        html,
        file_name,
        script,
    })
}

/// Applies [`externalize_loader`] to `dist/index.html`.
pub fn externalize_loader_in(dist: &Path) -> Result<ExternalLoader, String> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .map_err(|e| format!("cannot read {}: {e}", index.display()))?;
    let moved = externalize_loader(&html)?;
    let loader = dist.join(&moved.file_name);
    std::fs::write(&loader, &moved.script)
        .map_err(|e| format!("cannot write {}: {e}", loader.display()))?;
    std::fs::write(&index, &moved.html)
        .map_err(|e| format!("cannot write {}: {e}", index.display()))?;
    Ok(moved)
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
            // `#[ignore]`d in a plain `cargo test` (they need site/dist and Chromium), so
            // `--ignored`, where a missing build or browser fails them; one at a time (each
            // starts a Chromium).
            &[
                "test",
                "--locked",
                "--package",
                "e2e",
                "--",
                "--ignored",
                "--test-threads=1",
            ],
        )
        .dir(workspace_root())
        .hint(
            "screenshots and browser logs are in target/browser-tests/; rerun one with \
             `cargo test -p e2e -- --ignored --nocapture <name>`",
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
    let moved = externalize_loader_in(&dist_dir())?;
    eprintln!("    moved Trunk's inline loader into {}", moved.file_name);
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

    /// An `index.html` as Trunk 0.21.14 writes it (src/pipelines/rust/output.rs), with
    /// the `nonce` attributes it adds when asked to (`create_nonce`), and an HTML comment
    /// that only looks like a script.
    const TRUNK_INDEX: &str = r#"<!DOCTYPE html><html lang="en"><head>
  <meta charset="utf-8">
  <link rel="icon" href="data:,">
  <!-- <script>not a script</script> -->
<link rel="stylesheet" href="./style-0a1b2c3d4e5f6789.css" integrity="sha384-AAAA" nonce="hDq0Xb1e">
<link rel="modulepreload" href="./site-9f8e7d6c5b4a3210.js" crossorigin="anonymous" integrity="sha384-BBBB" nonce="hDq0Xb1e"><link rel="preload" href="./site-9f8e7d6c5b4a3210_bg.wasm" crossorigin="anonymous" integrity="sha384-CCCC" as="fetch" type="application/wasm" nonce="hDq0Xb1e"></head>
<body>
  <noscript>This page needs JavaScript.</noscript>
<script type="module" nonce="hDq0Xb1e">
import init, * as bindings from './site-9f8e7d6c5b4a3210.js';
const wasm = await init({ module_or_path: './site-9f8e7d6c5b4a3210_bg.wasm' });


window.wasmBindings = bindings;


dispatchEvent(new CustomEvent("TrunkApplicationStarted", {detail: {wasm}}));

</script></body></html>
"#;

    const LOADER: &str = r#"
import init, * as bindings from './site-9f8e7d6c5b4a3210.js';
const wasm = await init({ module_or_path: './site-9f8e7d6c5b4a3210_bg.wasm' });


window.wasmBindings = bindings;


dispatchEvent(new CustomEvent("TrunkApplicationStarted", {detail: {wasm}}));

"#;

    #[test]
    fn trunks_inline_loader_moves_into_a_hashed_file_and_the_nonces_go() {
        let moved = externalize_loader(TRUNK_INDEX).unwrap();
        // sha256 of the script, first 16 hex digits; its sha384 for the integrity (both
        // computed apart from this code, with Python's hashlib).
        assert_eq!(moved.file_name, "loader-e509cde3367afc83.js");
        assert_eq!(moved.script, LOADER);
        assert_eq!(
            moved.html,
            r#"<!DOCTYPE html><html lang="en"><head>
  <meta charset="utf-8">
  <link rel="icon" href="data:,">
  <!-- <script>not a script</script> -->
<link rel="stylesheet" href="./style-0a1b2c3d4e5f6789.css" integrity="sha384-AAAA">
<link rel="modulepreload" href="./site-9f8e7d6c5b4a3210.js" crossorigin="anonymous" integrity="sha384-BBBB"><link rel="preload" href="./site-9f8e7d6c5b4a3210_bg.wasm" crossorigin="anonymous" integrity="sha384-CCCC" as="fetch" type="application/wasm"></head>
<body>
  <noscript>This page needs JavaScript.</noscript>
<script type="module" src="./loader-e509cde3367afc83.js" integrity="sha384-2WHpYlR1q9F0+0GhDfiJSYtdv0SHJCQ5h1+OXVktjlI5Avtr9EEk/9du438F9zYN"></script></body></html>
"#
        );
        // Nothing inline is left for the policy to block.
        let left = inline_code(&moved.html).unwrap();
        assert!(left.scripts.is_empty() && left.other.is_empty(), "{left:?}");
    }

    #[test]
    fn the_loader_goes_beside_trunks_files_under_its_public_url() {
        let html = TRUNK_INDEX.replace("'./site-", "'/app/site-");
        let moved = externalize_loader(&html).unwrap();
        assert!(
            moved
                .html
                .contains(r#"<script type="module" src="/app/loader-"#),
            "{}",
            moved.html
        );
    }

    #[test]
    fn a_page_without_the_inline_loader_is_refused() {
        let moved = externalize_loader(TRUNK_INDEX).unwrap();
        let error = externalize_loader(&moved.html).unwrap_err();
        assert!(
            error.starts_with("index.html has no inline loader to move\nxtask: next:"),
            "{error}"
        );
    }

    #[test]
    fn a_second_inline_script_is_refused() {
        let html = TRUNK_INDEX.replace("<body>", "<body><script>alert(1)</script>");
        let error = externalize_loader(&html).unwrap_err();
        assert!(
            error.starts_with(
                "index.html has 2 inline scripts, expected Trunk's one <script type=\"module\">"
            ),
            "{error}"
        );
    }

    #[test]
    fn inline_styles_and_event_handlers_are_refused() {
        let html = TRUNK_INDEX.replace(
            "<noscript>",
            r#"<style>p{}</style><p style="color: red" onclick="go()">x</p><noscript>"#,
        );
        let error = externalize_loader(&html).unwrap_err();
        assert_eq!(
            error,
            "site/dist/index.html has inline code the Content-Security-Policy blocks: a \
             <style> element, a `style` attribute on <p>, a `onclick` attribute on <p>\n\
             xtask: next: move it into site/style.css or the Rust code"
        );
    }

    #[test]
    fn externalizing_writes_the_loader_beside_index_html() {
        let dir = std::env::temp_dir().join(format!("xtask-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), TRUNK_INDEX).unwrap();
        let moved = externalize_loader_in(&dir).unwrap();
        let loader = std::fs::read_to_string(dir.join("loader-e509cde3367afc83.js")).unwrap();
        let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(loader, LOADER);
        assert_eq!(index, moved.html);
    }
}
