//! # workshop-test — WORKSHOP.md, run as a test
//!
//! The workshop's lessons are Markdown; the commands a learner types are fenced blocks,
//! and what they should see follows each one. This crate reads them ([`parse`]) and runs
//! them ([`session::run`]) the way a learner would: one bash for the commands, and the
//! stack in "another terminal", started by the test on free ports.
//!
//! The marks, in the fence's info string (a plain ```` ```sh ```` block is shown, not run):
//!
//! | fence | what the test does |
//! |---|---|
//! | ```` ```sh workshop ```` | runs it in the lesson's bash (variables and functions carry over, as in one terminal); any failing command fails it |
//! | ```` ```sh workshop stack ```` | a command that serves until Ctrl-C (`cargo xtask demo ...`, `cargo run -p local --bin local-stack -- ...`): stops the stack it started before, if any, and starts the built `local-stack` with these arguments |
//! | ```` ```sh workshop pending=WHAT ```` | not run yet: needs WHAT, which the stack does not have yet (the test lists these) |
//! | ```` ```text expect ```` | after a `workshop` block: each line must appear in its output (stdout, then stderr), in this order, `…` matching any text; `...` alone skips lines |
//! | ```` ```text expect-log ```` | the same, in what the stack logged since that block started (waited for: the log comes a moment later) |
//!
//! The lessons write the default ports (`127.0.0.1:4100` site, `:4101` API, `:4102`
//! identity provider) and the lab directory `target/workshop`; the test puts its own
//! free ports and a temporary directory in their place (see [`Substitutions`]).
//!
//! Hand-written because no Markdown or doc-test crate runs shell blocks against a service
//! and checks their output: the parsing is fences and info strings only.

pub mod session;

/// What a fenced block asks the test to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Commands for the lesson's bash.
    Shell,
    /// A command that starts the stack and serves until stopped.
    Stack,
    /// Commands not run yet, and what they wait for.
    Pending(String),
}

/// The lines a block's output (or the stack's log) must show, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// In the stack's log rather than the block's own output.
    pub in_log: bool,
    pub lines: Vec<String>,
    /// Line number of the fence in the Markdown file (1-based).
    pub line: usize,
}

/// One checked block and the expectations that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The heading of the lesson it is in (the last `## ` heading above it).
    pub lesson: String,
    pub kind: Kind,
    pub text: String,
    /// Line number of the fence (1-based).
    pub line: usize,
    pub expect: Vec<Expectation>,
}

/// The checked blocks of `markdown`, in order. Refuses an expectation that follows no
/// checked command, an unknown mark, or an unclosed fence: a typo must not silently turn
/// a check off.
pub fn parse(markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut lesson = String::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        if let Some(heading) = line.strip_prefix("## ") {
            lesson = heading.trim().to_owned();
            continue;
        }
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let fence_line = index + 1;
        let mut body = Vec::new();
        let mut closed = false;
        for (_, inner) in lines.by_ref() {
            if inner.trim_start().starts_with("```") {
                closed = true;
                break;
            }
            body.push(inner);
        }
        if !closed {
            return Err(format!("line {fence_line}: the fence is never closed"));
        }
        let words: Vec<&str> = info.split_whitespace().collect();
        let text = body.join("\n");
        match words.as_slice() {
            ["sh", "workshop", ..] => {
                let rest =
                    info.trim().trim_start_matches("sh").trim_start()["workshop".len()..].trim();
                let kind = match rest {
                    "" => Kind::Shell,
                    "stack" => Kind::Stack,
                    pending if pending.starts_with("pending=") => {
                        Kind::Pending(pending["pending=".len()..].to_owned())
                    }
                    _ => {
                        return Err(format!(
                            "line {fence_line}: unknown mark {rest:?} (workshop, workshop stack, workshop pending=WHAT)"
                        ));
                    }
                };
                blocks.push(Block {
                    lesson: lesson.clone(),
                    kind,
                    text,
                    line: fence_line,
                    expect: Vec::new(),
                });
            }
            ["text", mark @ ("expect" | "expect-log")] => {
                let Some(block) = blocks.last_mut().filter(|b| b.lesson == lesson) else {
                    return Err(format!(
                        "line {fence_line}: an expectation must follow a checked command of its lesson"
                    ));
                };
                if block.kind == Kind::Stack && *mark == "expect" {
                    return Err(format!(
                        "line {fence_line}: a stack block has no output of its own to expect; use expect-log"
                    ));
                }
                block.expect.push(Expectation {
                    in_log: *mark == "expect-log",
                    lines: body
                        .iter()
                        .map(|l| l.trim().to_owned())
                        .filter(|l| !l.is_empty())
                        .collect(),
                    line: fence_line,
                });
            }
            [_, "workshop", ..] => {
                return Err(format!("line {fence_line}: unknown fence {info:?}"));
            }
            ["text", mark, ..] if mark.starts_with("expect") => {
                return Err(format!("line {fence_line}: unknown fence {info:?}"));
            }
            _ => {}
        }
    }
    Ok(blocks)
}

/// Whether `line` matches `pattern`, where `…` stands for any text (even none) and the
/// rest must appear as written, anywhere in the line.
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let mut rest = line;
    for part in pattern.split('…').filter(|p| !p.is_empty()) {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Checks that every expected line matches a line of `output`, in order (`...` lines
/// are notes for the reader and match nothing). Says which line was not found.
pub fn find_in_order(expected: &[String], output: &str) -> Result<(), String> {
    let mut lines = output.lines();
    for pattern in expected.iter().filter(|p| p.as_str() != "...") {
        if !lines.by_ref().any(|line| line_matches(pattern, line)) {
            return Err(format!(
                "expected a line matching {pattern:?} (after the ones before it)"
            ));
        }
    }
    Ok(())
}

/// The literal text the lessons use for what the test chooses: ports and the lab.
#[derive(Debug, Clone)]
pub struct Substitutions(pub Vec<(String, String)>);

impl Substitutions {
    /// The default ports (4100 site, 4101 API, 4102 identity provider) and the lab
    /// directory in place of the test's.
    pub fn new(site: u16, api: u16, idp: u16, lab: &str) -> Self {
        Substitutions(vec![
            ("127.0.0.1:4100".into(), format!("127.0.0.1:{site}")),
            ("127.0.0.1:4101".into(), format!("127.0.0.1:{api}")),
            ("127.0.0.1:4102".into(), format!("127.0.0.1:{idp}")),
            ("target/workshop".into(), lab.to_owned()),
        ])
    }

    pub fn apply(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
    }
}

/// The `local-stack` arguments of a stack block's command, already expanded by the shell:
/// `cargo xtask demo [-- ARGS]` serves the built site, `cargo run ... --bin local-stack
/// [-- ARGS]` what the arguments say.
pub fn stack_arguments(argv: &[String]) -> Result<Vec<String>, String> {
    let after_dashes = |argv: &[String]| -> Vec<String> {
        argv.iter()
            .skip_while(|a| a.as_str() != "--")
            .skip(1)
            .cloned()
            .collect()
    };
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["cargo", "xtask", "demo", ..] => {
            let mut args = vec!["--site-dir".to_owned(), "site/dist".to_owned()];
            args.extend(after_dashes(argv));
            Ok(args)
        }
        ["cargo", "run", rest @ ..] if rest.windows(2).any(|w| w == ["--bin", "local-stack"]) => {
            Ok(after_dashes(argv))
        }
        _ => Err(format!(
            "a stack block runs `cargo xtask demo` or `cargo run -p local --bin local-stack`, not {:?}",
            argv.join(" ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Workshop\n\n## Lesson 1: the flow\n\n```sh\nshown only\n```\n\n```sh workshop stack\ncargo xtask demo\n```\n\n```text expect-log\nlocal stack\n```\n\n```sh workshop\ncurl -s x\n```\n\n```text expect\nHTTP/1.1 200 OK\n\n...\n{\"message\":…}\n```\n\n## Lesson 2: later\n\n```sh workshop pending=the trace endpoint\ncurl y\n```\n";

    #[test]
    fn checked_blocks_are_read_with_their_lesson_and_expectations() {
        let blocks = parse(DOC).unwrap();
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0].kind, Kind::Stack);
        assert_eq!(blocks[0].lesson, "Lesson 1: the flow");
        assert_eq!(blocks[0].text, "cargo xtask demo");
        assert_eq!(blocks[0].line, 9);
        assert_eq!(
            blocks[0].expect,
            [Expectation {
                in_log: true,
                lines: vec!["local stack".into()],
                line: 13
            }]
        );
        assert_eq!(blocks[1].kind, Kind::Shell);
        assert_eq!(
            blocks[1].expect[0].lines,
            ["HTTP/1.1 200 OK", "...", "{\"message\":…}"]
        );
        assert!(!blocks[1].expect[0].in_log);
        assert_eq!(blocks[2].kind, Kind::Pending("the trace endpoint".into()));
        assert_eq!(blocks[2].lesson, "Lesson 2: later");
    }

    #[test]
    fn a_typo_in_a_mark_or_a_stray_expectation_is_refused_not_skipped() {
        assert_eq!(
            parse("```sh workshop stak\nx\n```\n").unwrap_err(),
            "line 1: unknown mark \"stak\" (workshop, workshop stack, workshop pending=WHAT)"
        );
        assert_eq!(
            parse("## L\n```text expect\nx\n```\n").unwrap_err(),
            "line 2: an expectation must follow a checked command of its lesson"
        );
        assert_eq!(
            parse("## L\n```sh workshop\nx\n```\n## M\n```text expect\nx\n```\n").unwrap_err(),
            "line 6: an expectation must follow a checked command of its lesson"
        );
        assert_eq!(
            parse("```sh workshop\nx\n").unwrap_err(),
            "line 1: the fence is never closed"
        );
        assert_eq!(
            parse("```text expect-logs\nx\n```\n").unwrap_err(),
            "line 1: unknown fence \"text expect-logs\""
        );
    }

    #[test]
    fn an_ellipsis_matches_any_text_and_the_rest_must_appear_in_order() {
        assert!(line_matches("HTTP/1.1 401", "HTTP/1.1 401 Unauthorized"));
        assert!(line_matches(
            "token …)",
            "--> GET /prod/hello (token 515e7fce9569)"
        ));
        assert!(line_matches("a…b…c", "xx a 1 b 2 c"));
        assert!(!line_matches("a…b…c", "c b a"));
        assert!(!line_matches("HTTP/1.1 200", "HTTP/1.1 401 Unauthorized"));
        assert!(line_matches("…", ""));
    }

    #[test]
    fn expected_lines_must_come_in_order_and_say_which_is_missing() {
        let output =
            "HTTP/1.1 401 Unauthorized\nx-amzn-requestid: 1\n\n{\"message\":\"Unauthorized\"}";
        let expect =
            |lines: &[&str]| -> Vec<String> { lines.iter().map(|l| l.to_string()).collect() };
        assert_eq!(
            find_in_order(
                &expect(&["HTTP/1.1 401", "...", "{\"message\":\"Unauthorized\"}"]),
                output
            ),
            Ok(())
        );
        assert_eq!(
            find_in_order(
                &expect(&["{\"message\":\"Unauthorized\"}", "HTTP/1.1 401"]),
                output
            ),
            Err("expected a line matching \"HTTP/1.1 401\" (after the ones before it)".into())
        );
        assert_eq!(
            find_in_order(&expect(&["HTTP/1.1 200"]), output),
            Err("expected a line matching \"HTTP/1.1 200\" (after the ones before it)".into())
        );
    }

    #[test]
    fn default_ports_and_the_lab_become_the_tests() {
        let subs = Substitutions::new(5100, 5101, 5102, "/tmp/lab");
        assert_eq!(
            subs.apply(
                "curl http://127.0.0.1:4101/prod/hello; cp x target/workshop/; :4102 127.0.0.1:4100"
            ),
            "curl http://127.0.0.1:5101/prod/hello; cp x /tmp/lab/; :4102 127.0.0.1:5100"
        );
    }

    #[test]
    fn stack_commands_become_local_stack_arguments() {
        let argv = |s: &str| -> Vec<String> { s.split(' ').map(str::to_owned).collect() };
        assert_eq!(
            stack_arguments(&argv("cargo xtask demo -- --definition /l/openapi.yaml")).unwrap(),
            ["--site-dir", "site/dist", "--definition", "/l/openapi.yaml"]
        );
        assert_eq!(
            stack_arguments(&argv("cargo xtask demo")).unwrap(),
            ["--site-dir", "site/dist"]
        );
        assert_eq!(
            stack_arguments(&argv(
                "cargo run -p local --bin local-stack -- --no-site --authorizer-ttl 0"
            ))
            .unwrap(),
            ["--no-site", "--authorizer-ttl", "0"]
        );
        assert_eq!(
            stack_arguments(&argv("python3 -m http.server")).unwrap_err(),
            "a stack block runs `cargo xtask demo` or `cargo run -p local --bin local-stack`, not \"python3 -m http.server\""
        );
    }
}
