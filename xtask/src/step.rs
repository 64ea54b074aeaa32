//! A step of a command: a program with arguments, run with progress output, or only
//! printed under `--dry-run`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// One external command the xtask runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it is for, shown in the progress line.
    pub title: String,
    pub program: String,
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Working directory (default: the workspace root).
    pub dir: Option<PathBuf>,
    /// What to do when it fails.
    pub hint: String,
}

impl Step {
    /// A step running `program args...`.
    pub fn new(title: impl Into<String>, program: impl Into<String>, args: &[&str]) -> Self {
        Step {
            title: title.into(),
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            dir: None,
            hint: String::new(),
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs in `dir`.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// What to tell the user when the step fails.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// The command as a person would type it (for progress lines and `--dry-run`).
    pub fn command_line(&self) -> String {
        let current_path = std::env::var("PATH").unwrap_or_default();
        let mut parts: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| match v.strip_suffix(&format!(":{current_path}")) {
                // Show a prepended PATH as a person would write it.
                Some(prefix) if k == "PATH" && !current_path.is_empty() => {
                    format!("PATH={}:$PATH", quote(prefix))
                }
                _ => format!("{k}={}", quote(v)),
            })
            .collect();
        if let Some(dir) = &self.dir {
            parts.insert(0, format!("(cd {} &&", dir.display()));
        }
        parts.push(quote(&self.program));
        parts.extend(self.args.iter().map(|a| quote(a)));
        let mut line = parts.join(" ");
        if self.dir.is_some() {
            line.push(')');
        }
        line
    }

    /// The process this step runs, ready to start.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }

    /// Runs the step, printing progress; `Err` carries a message that says what next.
    pub fn run(&self, position: (usize, usize)) -> Result<(), String> {
        eprintln!(
            "==> [{}/{}] {}: {}",
            position.0,
            position.1,
            self.title,
            self.command_line()
        );
        let started = Instant::now();
        match self.command().status() {
            Ok(status) if status.success() => {
                eprintln!("    ok ({:.1}s)", started.elapsed().as_secs_f64());
                Ok(())
            }
            Ok(status) => Err(format!(
                "step {}/{} ({}) failed with {status}\nxtask: next: {}",
                position.0, position.1, self.title, self.hint
            )),
            Err(error) => Err(format!(
                "cannot run `{}`: {error}\nxtask: next: {}",
                self.program, self.hint
            )),
        }
    }
}

/// Runs steps in order, stopping at the first failure; with `dry_run`, only prints them.
pub fn run_all(steps: &[Step], dry_run: bool) -> Result<(), String> {
    let total = steps.len();
    let started = Instant::now();
    for (i, step) in steps.iter().enumerate() {
        if dry_run {
            println!("{}", step.command_line());
        } else {
            step.run((i + 1, total))?;
        }
    }
    if !dry_run {
        eprintln!(
            "==> all {total} steps passed in {:.0}s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_quotes_what_a_shell_would_split() {
        let step = Step::new("t", "aws", &["s3", "cp", "a b", "it's"]).env("X", "1 2");
        assert_eq!(step.command_line(), r"X='1 2' aws s3 cp 'a b' 'it'\''s'");
    }

    #[test]
    fn command_line_shows_the_directory() {
        let step = Step::new("t", "trunk", &["build"]).dir("site");
        assert_eq!(step.command_line(), "(cd site && trunk build)");
    }

    #[test]
    fn failing_step_says_what_to_do_next() {
        let step = Step::new("always fails", "false", &[]).hint("do the thing");
        let error = step.run((1, 1)).unwrap_err();
        assert_eq!(
            error,
            "step 1/1 (always fails) failed with exit status: 1\nxtask: next: do the thing"
        );
    }

    #[test]
    fn missing_program_says_what_to_do_next() {
        let step = Step::new("t", "definitely-not-a-program-xyz", &[]).hint("install it");
        let error = step.run((1, 1)).unwrap_err();
        assert!(
            error.starts_with("cannot run `definitely-not-a-program-xyz`:"),
            "{error}"
        );
        assert!(error.ends_with("xtask: next: install it"), "{error}");
    }
}
