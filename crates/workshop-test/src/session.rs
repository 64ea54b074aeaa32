//! Runs the lessons as a learner would: one bash for the commands (variables carry over
//! from block to block), and the stack in "another terminal", started by the test.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Kind, Substitutions, find_in_order, parse, stack_arguments};

/// The longest a block of commands may run (a few requests, a reload).
const BLOCK_DEADLINE: Duration = Duration::from_secs(180);
/// The longest the stack may take to say it is up (an RSA key, the functions).
const STACK_DEADLINE: Duration = Duration::from_secs(120);
/// The longest a log line may take to appear after its block (a reload is debounced).
const LOG_DEADLINE: Duration = Duration::from_secs(30);

/// Where things are.
#[derive(Debug, Clone)]
pub struct Options {
    /// The repository root: the commands' working directory.
    pub root: PathBuf,
    /// The built `local-stack` binary the stack blocks run.
    pub local_stack: PathBuf,
    /// Run the lessons up to and including the one whose heading starts with this.
    pub last_lesson: Option<String>,
}

/// What a successful run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Each lesson's heading and how long its blocks took.
    pub lessons: Vec<(String, Duration)>,
    /// Blocks run, expectations checked.
    pub blocks: usize,
    pub expectations: usize,
    /// Blocks not run: lesson, line, what they wait for.
    pub pending: Vec<(String, usize, String)>,
}

/// Runs every checked block of `markdown` in order; the first failure stops the run and
/// says where, what was expected and what came out.
pub fn run(markdown: &str, options: &Options) -> Result<Report, String> {
    let blocks = parse(markdown)?;
    let lab = tempdir()?;
    let ports = [free_port()?, free_port()?, free_port()?];
    let subs = Substitutions::new(ports[0], ports[1], ports[2], &lab.display().to_string());
    let mut shell = Shell::start(&options.root, &lab)?;
    let mut stack: Option<Stack> = None;
    let mut report = Report::default();
    let mut lesson_started = Instant::now();
    let outcome = (|| {
        for block in &blocks {
            if let Some(last) = &options.last_lesson
                && report
                    .lessons
                    .last()
                    .is_some_and(|(l, _)| l.starts_with(last.as_str()))
                && report
                    .lessons
                    .last()
                    .is_some_and(|(l, _)| *l != block.lesson)
            {
                break;
            }
            if report
                .lessons
                .last()
                .is_none_or(|(l, _)| *l != block.lesson)
            {
                lesson_started = Instant::now();
                report.lessons.push((block.lesson.clone(), Duration::ZERO));
            }
            let fail = |what: String, output: &str, stack: &Option<Stack>| {
                format!(
                    "{}, WORKSHOP.md line {}: {what}\n--- the block ---\n{}\n--- its output ---\n{output}\n--- the stack's log (last 40 lines) ---\n{}",
                    block.lesson,
                    block.line,
                    block.text,
                    stack
                        .as_ref()
                        .map_or("(no stack)".to_owned(), |s| s.tail(40)),
                )
            };
            match &block.kind {
                Kind::Pending(what) => {
                    report
                        .pending
                        .push((block.lesson.clone(), block.line, what.clone()));
                    continue;
                }
                Kind::Stack => {
                    if let Some(old) = stack.take() {
                        old.stop();
                    }
                    let argv = shell
                        .expand(&subs.apply(&block.text))
                        .map_err(|e| fail(e, "", &None))?;
                    let mut args = stack_arguments(&argv).map_err(|e| fail(e, "", &None))?;
                    for (flag, port) in ["--site-port", "--api-port", "--idp-port"]
                        .iter()
                        .zip(ports)
                    {
                        args.extend([flag.to_string(), port.to_string()]);
                    }
                    let started = Stack::start(&options.local_stack, &options.root, &args)
                        .map_err(|e| fail(e, "", &None))?;
                    stack = Some(started);
                }
                Kind::Shell => {}
            }
            // A stack block's expectations read its log from the start (the banner).
            let log_mark = match block.kind {
                Kind::Stack => 0,
                _ => stack.as_ref().map_or(0, Stack::len),
            };
            let output = match block.kind {
                Kind::Shell => {
                    let ran = shell.run(&subs.apply(&block.text))?;
                    if let Some(failed) = ran.failed {
                        return Err(fail(
                            format!("a command failed: {failed}"),
                            &ran.output,
                            &stack,
                        ));
                    }
                    ran.output
                }
                _ => String::new(),
            };
            report.blocks += 1;
            for expectation in &block.expect {
                let lines: Vec<String> = expectation.lines.iter().map(|l| subs.apply(l)).collect();
                let checked = if expectation.in_log {
                    let Some(stack) = &stack else {
                        return Err(fail(
                            "expect-log, but no stack runs".into(),
                            &output,
                            &stack,
                        ));
                    };
                    stack.wait_for(&lines, log_mark)
                } else {
                    find_in_order(&lines, &output)
                };
                checked.map_err(|e| {
                    fail(
                        format!(
                            "{e}, in {} (expectation at line {})",
                            if expectation.in_log {
                                "the stack's log"
                            } else {
                                "the output"
                            },
                            expectation.line
                        ),
                        &output,
                        &stack,
                    )
                })?;
                report.expectations += 1;
            }
            if let Some((_, took)) = report.lessons.last_mut() {
                *took = lesson_started.elapsed();
            }
        }
        Ok(())
    })();
    if let Some(stack) = stack {
        stack.stop();
    }
    shell.stop();
    let _ = std::fs::remove_dir_all(&lab);
    outcome.map(|()| report)
}

/// One block's combined output (stdout, then stderr) and the first command that failed.
struct Ran {
    output: String,
    failed: Option<String>,
}

/// A bash that keeps its variables and functions from block to block.
struct Shell {
    child: Child,
    stdin: ChildStdin,
    done: Receiver<String>,
    dir: PathBuf,
    count: usize,
}

impl Shell {
    fn start(root: &Path, lab: &Path) -> Result<Self, String> {
        let dir = lab.join(".blocks");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut command = Command::new("bash");
        in_own_group(&mut command);
        let mut child = command
            .args(["--noprofile", "--norc"])
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start bash: {e}"))?;
        let stdin = child.stdin.take().ok_or("bash has no stdin")?;
        let stdout = child.stdout.take().ok_or("bash has no stdout")?;
        let (lines, done) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Shell {
            child,
            stdin,
            done,
            dir,
            count: 0,
        })
    }

    /// Runs `text` as if typed: in this shell, any failing command (`set -E` and an ERR
    /// trap, pipelines included) recorded as the block's failure.
    fn run(&mut self, text: &str) -> Result<Ran, String> {
        self.count += 1;
        let script = self.dir.join(format!("{}.sh", self.count));
        let out = self.dir.join(format!("{}.out", self.count));
        let err = self.dir.join(format!("{}.err", self.count));
        std::fs::write(&script, text).map_err(|e| format!("cannot write the block: {e}"))?;
        let command = format!(
            "__failed=; set -E -o pipefail; trap '[ -n \"$__failed\" ] || __failed=\"its line $LINENO: $BASH_COMMAND\"' ERR; \
             source '{}' < /dev/null > '{}' 2> '{}'; trap - ERR; set +E; printf '__DONE__ %s\\n' \"$__failed\"\n",
            script.display(),
            out.display(),
            err.display()
        );
        self.stdin
            .write_all(command.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("bash is gone: {e}"))?;
        let deadline = Instant::now() + BLOCK_DEADLINE;
        let failed = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.done.recv_timeout(left) {
                Ok(line) => {
                    if let Some(failed) = line.strip_prefix("__DONE__ ") {
                        break failed.trim().to_owned();
                    }
                }
                Err(_) => {
                    return Err(format!(
                        "the block did not finish within {BLOCK_DEADLINE:?}:\n{text}"
                    ));
                }
            }
        };
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        Ok(Ran {
            output: format!("{}{}", read(&out), read(&err)),
            failed: (!failed.is_empty()).then_some(failed),
        })
    }

    /// The words of a command line as this shell expands them (variables, quotes).
    fn expand(&mut self, command: &str) -> Result<Vec<String>, String> {
        let ran = self.run(&format!("printf '%s\\n' {command}"))?;
        if let Some(failed) = ran.failed {
            return Err(format!(
                "cannot expand the command: {failed}: {}",
                ran.output
            ));
        }
        Ok(ran.output.lines().map(str::to_owned).collect())
    }

    fn stop(self) {
        stop_group(self.child);
    }
}

/// The stack, as started by a stack block, and everything it printed.
struct Stack {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Stack {
    fn start(binary: &Path, root: &Path, args: &[String]) -> Result<Self, String> {
        if !binary.is_file() {
            return Err(format!(
                "{} is not built; build it with `cargo build -p local --bin local-stack`",
                binary.display()
            ));
        }
        let mut command = Command::new(binary);
        in_own_group(&mut command);
        let mut child = command
            .args(args)
            .current_dir(root)
            .env("RUST_LOG", "local=info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (up, is_up) = mpsc::channel();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let out_log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let ready = line.starts_with("Ctrl-C stops everything.");
                lock(&out_log).push(line);
                if ready {
                    let _ = up.send(());
                }
            }
        });
        let err_log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lock(&err_log).push(without_colours(&line));
            }
        });
        let mut stack = Stack { child, log };
        let deadline = Instant::now() + STACK_DEADLINE;
        loop {
            if is_up.recv_timeout(Duration::from_millis(200)).is_ok() {
                return Ok(stack);
            }
            if let Ok(Some(status)) = stack.child.try_wait() {
                // Let the readers catch up with its last words.
                std::thread::sleep(Duration::from_millis(200));
                return Err(format!(
                    "`local-stack {}` stopped ({status}):\n{}",
                    args.join(" "),
                    stack.tail(40)
                ));
            }
            if Instant::now() > deadline {
                let tail = stack.tail(40);
                stack.stop();
                return Err(format!(
                    "the stack was not up within {STACK_DEADLINE:?}:\n{tail}"
                ));
            }
        }
    }

    fn len(&self) -> usize {
        lock(&self.log).len()
    }

    fn tail(&self, lines: usize) -> String {
        let log = lock(&self.log);
        log[log.len().saturating_sub(lines)..].join("\n")
    }

    /// Waits until the log since `mark` shows `lines` in order.
    fn wait_for(&self, lines: &[String], mark: usize) -> Result<(), String> {
        let deadline = Instant::now() + LOG_DEADLINE;
        loop {
            let text = lock(&self.log)[mark..].join("\n");
            match find_in_order(lines, &text) {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn stop(self) {
        stop_group(self.child);
    }
}

/// Starts the process in a process group of its own, so that stopping it stops what it
/// started too (a command a block left running, the stack's function binaries), as
/// closing a terminal would.
fn in_own_group(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(not(unix))]
    let _ = command;
}

/// Stops the process and its group: SIGTERM to the group (the stack stops its children),
/// then SIGKILL to what is left.
fn stop_group(mut child: Child) {
    #[cfg(unix)]
    {
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The line without terminal colour sequences (`ESC [ ... m`), should a logger send them.
fn without_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A port nothing listens on now (the stack binds it a moment later).
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A fresh directory for the lab (the lessons' `target/workshop`).
fn tempdir() -> Result<PathBuf, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("workshop-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
