//! A template function's binary, built with cargo the way `sam build` builds a
//! `BuildMethod: rust-cargolambda` function.
//!
//! `sam build` (aws-lambda-builders' rust_cargo workflow) runs `cargo lambda build
//! --release [--arm64] [--bin Binary]` in the function's `CodeUri` directory and takes
//! `target/lambda/<Binary>/bootstrap`; without `Binary` the build must have made exactly
//! one binary. Cargo picks the packages from that directory: the package whose manifest
//! it is, or the workspace's default members at a workspace root. `cargo metadata`
//! reports exactly that choice (`workspace_default_members` for the manifest given), so
//! the package and binary are chosen here from its answer, then built with plain
//! `cargo build -p PACKAGE --bin BINARY` for this machine: a debug build, as the local
//! stack's other binaries are (the workspace's release profile is thin LTO with one
//! codegen unit, minutes per build), and no cross-compiler is needed.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::Error;

/// What to build: one binary of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPlan {
    /// The `Cargo.toml` of the `CodeUri` directory.
    pub manifest: PathBuf,
    /// The package (`-p`).
    pub package: String,
    /// The binary (`--bin`).
    pub binary: String,
    /// Where cargo puts it: `<target directory>/debug/<binary>`.
    pub output: PathBuf,
}

impl BuildPlan {
    /// The plan for `code_dir` (a `CodeUri`) and `binary` (`BuildProperties.Binary`),
    /// asking `cargo metadata`.
    pub async fn for_code_dir(
        cargo: &Path,
        code_dir: &Path,
        binary: Option<&str>,
    ) -> Result<Self, Error> {
        let manifest = code_dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(Error::Build(format!(
                "its CodeUri {} has no Cargo.toml",
                code_dir.display()
            )));
        }
        let output = tokio::process::Command::new(cargo)
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(&manifest)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| {
                Error::Build(format!("`{} metadata` cannot start: {e}", cargo.display()))
            })?;
        if !output.status.success() {
            return Err(Error::Build(format!(
                "`cargo metadata` cannot read {}: {}",
                manifest.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let metadata: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
            Error::Build(format!(
                "`cargo metadata` answered something else than JSON: {e}"
            ))
        })?;
        Self::from_metadata(&manifest, &metadata, binary)
    }

    /// The plan from `cargo metadata --no-deps --format-version 1`'s answer for
    /// `manifest`. Pure: the choice `cargo lambda build [--bin binary]` makes there.
    pub fn from_metadata(
        manifest: &Path,
        metadata: &Value,
        binary: Option<&str>,
    ) -> Result<Self, Error> {
        let malformed = || Error::Build("`cargo metadata`'s answer lacks its packages".into());
        let packages = metadata["packages"].as_array().ok_or_else(malformed)?;
        let target_dir = metadata["target_directory"]
            .as_str()
            .ok_or_else(malformed)?;
        let selected: Vec<&str> = metadata["workspace_default_members"]
            .as_array()
            .or_else(|| metadata["workspace_members"].as_array())
            .ok_or_else(malformed)?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // (package, binary) for every [[bin]] of the packages cargo builds there.
        let bins: Vec<(&str, &str)> = packages
            .iter()
            .filter(|p| p["id"].as_str().is_some_and(|id| selected.contains(&id)))
            .flat_map(|p| {
                let package = p["name"].as_str().unwrap_or_default();
                p["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|t| {
                        t["kind"]
                            .as_array()
                            .is_some_and(|k| k.iter().any(|k| k == "bin"))
                    })
                    .filter_map(move |t| t["name"].as_str().map(|bin| (package, bin)))
            })
            .collect();
        let names = || {
            let mut names: Vec<&str> = bins.iter().map(|(_, bin)| *bin).collect();
            names.sort_unstable();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        };
        let dir = manifest.parent().unwrap_or(Path::new(""));
        let (package, bin) = match binary {
            Some(wanted) => *bins.iter().find(|(_, bin)| *bin == wanted).ok_or_else(|| {
                Error::Build(format!(
                    "its Metadata BuildProperties.Binary is {wanted}, which cargo does not build in its CodeUri {} (the binaries there: {})",
                    dir.display(),
                    names()
                ))
            })?,
            None => match bins.as_slice() {
                [only] => *only,
                _ => {
                    return Err(Error::Build(format!(
                        "it has no Metadata BuildProperties.Binary, and cargo builds {} binaries in its CodeUri {} ({}): name one in Binary",
                        bins.len(),
                        dir.display(),
                        names()
                    )));
                }
            },
        };
        Ok(BuildPlan {
            manifest: manifest.to_owned(),
            package: package.to_owned(),
            binary: bin.to_owned(),
            output: Path::new(target_dir).join("debug").join(bin),
        })
    }

    /// The arguments after `cargo`, as the progress line shows them.
    pub fn args(&self) -> Vec<String> {
        vec![
            "build".into(),
            "-p".into(),
            self.package.clone(),
            "--bin".into(),
            self.binary.clone(),
        ]
    }

    /// Runs the build; cargo's own output (progress, compiler errors) goes to our
    /// stderr, where the learner looks. Returns the binary's path.
    pub async fn build(&self, cargo: &Path) -> Result<PathBuf, Error> {
        let status = tokio::process::Command::new(cargo)
            .args(self.args())
            .arg("--manifest-path")
            .arg(&self.manifest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .await
            .map_err(|e| Error::Build(format!("`{} build` cannot start: {e}", cargo.display())))?;
        if !status.success() {
            return Err(Error::Build(format!(
                "`cargo {}` failed ({status}); cargo's errors are above",
                self.args().join(" ")
            )));
        }
        if !self.output.is_file() {
            return Err(Error::Build(format!(
                "`cargo {}` succeeded but left no {}",
                self.args().join(" "),
                self.output.display()
            )));
        }
        Ok(self.output.clone())
    }
}

/// The cargo to run: the one running us (`CARGO`, set by `cargo run` and `cargo test`),
/// else `cargo` on PATH.
pub fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A virtual workspace with an authorizer (one bin), a tools package (two bins) and a
    /// library; `selected` are the default members for the manifest asked about.
    fn metadata(selected: &[&str]) -> Value {
        json!({
            "packages": [
                {"name": "auth", "id": "auth-id", "targets": [
                    {"name": "auth", "kind": ["lib"]},
                    {"name": "auth", "kind": ["bin"]},
                    {"name": "it", "kind": ["test"]}]},
                {"name": "tools", "id": "tools-id", "targets": [
                    {"name": "one", "kind": ["bin"]},
                    {"name": "two", "kind": ["bin"]}]},
                {"name": "lib-only", "id": "lib-id", "targets": [
                    {"name": "lib-only", "kind": ["lib"]}]}
            ],
            "workspace_members": ["auth-id", "tools-id", "lib-id"],
            "workspace_default_members": selected,
            "target_directory": "/ws/target"
        })
    }

    fn plan(selected: &[&str], binary: Option<&str>) -> Result<BuildPlan, String> {
        BuildPlan::from_metadata(Path::new("/ws/Cargo.toml"), &metadata(selected), binary)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn binary_at_a_workspace_root_is_found_in_the_member_that_has_it() {
        let plan = plan(&["auth-id", "tools-id", "lib-id"], Some("two")).unwrap();
        assert_eq!(
            (
                plan.package.as_str(),
                plan.binary.as_str(),
                plan.output.clone()
            ),
            ("tools", "two", PathBuf::from("/ws/target/debug/two"))
        );
        assert_eq!(plan.args(), ["build", "-p", "tools", "--bin", "two"]);
    }

    #[test]
    fn without_binary_the_crate_directory_must_build_exactly_one() {
        let plan = plan(&["auth-id"], None).unwrap();
        assert_eq!(
            (plan.package.as_str(), plan.binary.as_str()),
            ("auth", "auth")
        );
        assert_eq!(
            super::tests::plan(&["auth-id", "tools-id", "lib-id"], None).unwrap_err(),
            "it has no Metadata BuildProperties.Binary, and cargo builds 3 binaries in its CodeUri /ws (auth, one, two): name one in Binary"
        );
    }

    #[test]
    fn a_binary_outside_the_packages_cargo_builds_there_is_refused_naming_them() {
        // From the authorizer's own directory, cargo builds that package only.
        assert_eq!(
            plan(&["auth-id"], Some("one")).unwrap_err(),
            "its Metadata BuildProperties.Binary is one, which cargo does not build in its CodeUri /ws (the binaries there: auth)"
        );
    }

    #[tokio::test]
    async fn this_workspaces_example_is_planned_from_the_real_cargo_metadata() {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let plan = BuildPlan::for_code_dir(&cargo(), &workspace, Some("allow-deny-authorizer"))
            .await
            .unwrap();
        assert_eq!(
            (plan.package.as_str(), plan.binary.as_str()),
            ("allow-deny-authorizer", "allow-deny-authorizer")
        );
        assert!(
            plan.output.ends_with("debug/allow-deny-authorizer"),
            "{:?}",
            plan.output
        );
        let crate_dir = workspace.join("examples/allow-deny-authorizer");
        let plan = BuildPlan::for_code_dir(&cargo(), &crate_dir, None)
            .await
            .unwrap();
        assert_eq!(plan.binary, "allow-deny-authorizer");
        let error = BuildPlan::for_code_dir(&cargo(), &workspace.join("no-such-dir"), None)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "its CodeUri {} has no Cargo.toml",
                workspace.join("no-such-dir").display()
            )
        );
    }
}
