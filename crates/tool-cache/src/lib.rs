//! Where the project's installed tools live, computed once for everyone who installs or
//! looks for them: xtask installs the site's tools and the AWS tools there, and the local
//! stack finds AWS's Lambda Runtime Interface Emulator in the AWS tools.
//!
//! | what | where |
//! |---|---|
//! | the cache | `$GREETING_STACK_CACHE`, else `$XDG_CACHE_HOME/greeting-stack`, else `$HOME/.cache/greeting-stack` |
//! | the AWS tools' virtualenv | `$GREETING_STACK_AWS_TOOLS`, else `aws-venv` in the cache |

use std::ffi::OsString;
use std::path::PathBuf;

/// Overrides the whole cache directory.
pub const CACHE_VAR: &str = "GREETING_STACK_CACHE";

/// Overrides the AWS tools' virtualenv (aws-sam-cli, cfn-lint, cargo-lambda, the AWS CLI).
pub const AWS_TOOLS_VAR: &str = "GREETING_STACK_AWS_TOOLS";

/// The cache's directory name under the user's cache directory.
pub const CACHE_NAME: &str = "greeting-stack";

/// The AWS tools' virtualenv's name in the cache.
pub const AWS_TOOLS_NAME: &str = "aws-venv";

/// The tools cache from the process's environment; `None` when no variable says where
/// (no override, no `XDG_CACHE_HOME`, no `HOME`).
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_in(&process_env)
}

/// The AWS tools' virtualenv from the process's environment; `None` as for [`cache_dir`].
pub fn aws_tools_dir() -> Option<PathBuf> {
    aws_tools_dir_in(&process_env)
}

/// [`cache_dir`] with the variables read through `env`.
///
/// An empty variable counts as unset, and a relative `XDG_CACHE_HOME` is ignored, as the
/// XDG Base Directory Specification says ("If $XDG_CACHE_HOME is either not set or empty,
/// a default equal to $HOME/.cache should be used"; "all paths ... must be absolute").
pub fn cache_dir_in(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(dir) = set(CACHE_VAR) {
        return Some(PathBuf::from(dir));
    }
    set("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|dir| dir.join(CACHE_NAME))
}

/// [`aws_tools_dir`] with the variables read through `env`.
pub fn aws_tools_dir_in(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    match env(AWS_TOOLS_VAR).filter(|value| !value.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => cache_dir_in(env).map(|cache| cache.join(AWS_TOOLS_NAME)),
    }
}

fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn cache(vars: &[(&str, &str)]) -> Option<PathBuf> {
        cache_dir_in(&env(vars))
    }

    fn aws(vars: &[(&str, &str)]) -> Option<PathBuf> {
        aws_tools_dir_in(&env(vars))
    }

    #[test]
    fn the_cache_is_under_home_by_default() {
        let home = [("HOME", "/home/jane")];
        assert_eq!(
            cache(&home),
            Some("/home/jane/.cache/greeting-stack".into())
        );
        assert_eq!(
            aws(&home),
            Some("/home/jane/.cache/greeting-stack/aws-venv".into())
        );
    }

    #[test]
    fn xdg_cache_home_moves_the_cache_when_absolute() {
        let vars = [
            ("HOME", "/home/jane"),
            ("XDG_CACHE_HOME", "/var/cache/jane"),
        ];
        assert_eq!(cache(&vars), Some("/var/cache/jane/greeting-stack".into()));
        for ignored in ["", "relative/cache"] {
            let vars = [("HOME", "/home/jane"), ("XDG_CACHE_HOME", ignored)];
            assert_eq!(
                cache(&vars),
                Some("/home/jane/.cache/greeting-stack".into()),
                "{ignored:?}"
            );
        }
    }

    #[test]
    fn greeting_stack_cache_overrides_everything_else() {
        let vars = [
            ("HOME", "/home/jane"),
            ("XDG_CACHE_HOME", "/var/cache/jane"),
            ("GREETING_STACK_CACHE", "/opt/tools"),
        ];
        assert_eq!(cache(&vars), Some("/opt/tools".into()));
        assert_eq!(aws(&vars), Some("/opt/tools/aws-venv".into()));
    }

    #[test]
    fn greeting_stack_aws_tools_overrides_only_the_aws_tools() {
        let vars = [
            ("HOME", "/home/jane"),
            ("GREETING_STACK_AWS_TOOLS", "/ci/venv"),
        ];
        assert_eq!(aws(&vars), Some("/ci/venv".into()));
        assert_eq!(
            cache(&vars),
            Some("/home/jane/.cache/greeting-stack".into())
        );
        // Set but empty is unset, not the current directory.
        let vars = [("HOME", "/home/jane"), ("GREETING_STACK_AWS_TOOLS", "")];
        assert_eq!(
            aws(&vars),
            Some("/home/jane/.cache/greeting-stack/aws-venv".into())
        );
    }

    #[test]
    fn no_variable_means_no_answer() {
        assert_eq!(cache(&[]), None);
        assert_eq!(aws(&[("HOME", "")]), None);
    }
}
