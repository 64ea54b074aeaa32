//! WORKSHOP.md's lessons, every checked command run and every outcome checked, against
//! the built `local-stack` (run by `cargo xtask test` after the site build, so lesson 1
//! serves the page). Alone:
//! `cargo build -p local --bin local-stack && cargo test -p workshop-test --test lessons -- --ignored --nocapture`.

use std::path::{Path, PathBuf};

use workshop_test::session::{Options, Report, run};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn workshop() -> String {
    std::fs::read_to_string(root().join("WORKSHOP.md")).expect("WORKSHOP.md at the root")
}

fn options(last_lesson: Option<&str>) -> Options {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    Options {
        root: root(),
        local_stack: target.join("debug/local-stack"),
        last_lesson: last_lesson.map(str::to_owned),
    }
}

fn print(report: &Report) {
    for (lesson, took) in &report.lessons {
        println!("{took:>8.1?}  {lesson}");
    }
    println!(
        "{} blocks, {} expectations checked",
        report.blocks, report.expectations
    );
    for (lesson, line, what) in &report.pending {
        println!("pending: {lesson}, line {line}: needs {what}");
    }
}

#[test]
fn the_workshop_has_seven_lessons_each_with_checked_commands_and_outcomes() {
    let blocks = workshop_test::parse(&workshop()).unwrap();
    for n in 1..=7 {
        let heading = format!("Lesson {n}:");
        let lesson: Vec<_> = blocks
            .iter()
            .filter(|b| b.lesson.starts_with(&heading))
            .collect();
        assert!(!lesson.is_empty(), "no checked block in {heading}");
        assert!(
            lesson.iter().any(|b| !b.expect.is_empty()),
            "nothing expected in {heading}"
        );
    }
}

#[test]
#[ignore = "runs the stack binary: cargo xtask test runs it after building everything"]
fn every_lesson_runs_as_written() {
    let report = run(&workshop(), &options(None)).unwrap_or_else(|e| panic!("{e}"));
    print(&report);
    assert_eq!(report.lessons.len(), 8, "the set-up and seven lessons");
}

#[test]
#[ignore = "runs the stack binary: cargo xtask test runs it after building everything"]
fn a_lesson_whose_outcome_changed_fails_and_says_where() {
    // Lesson 3 promises a 401 for the expired token; promise a 200 instead.
    let text = workshop();
    let promise = "{\"message\": \"Unauthorized\"}";
    assert!(text.contains(promise));
    let broken = text.replace(promise, "{\"message\": \"Hello Jane Doe!\"}");
    let error = run(&broken, &options(Some("Lesson 3:"))).unwrap_err();
    assert!(
        error.starts_with("Lesson 3: 401 vs 403 vs 500, WORKSHOP.md line "),
        "{error}"
    );
    assert!(
        error.contains(": expected a line matching \"{\\\"message\\\": \\\"Hello Jane Doe!\\\"}\""),
        "{error}"
    );
}

#[test]
fn a_failing_command_or_a_missing_line_fails_the_block() {
    let doc = "## Lesson 1: x\n```sh workshop\nGREETING=hello\necho \"$GREETING\"\n```\n```text expect\nhello\n```\n```sh workshop\necho \"$GREETING again\"\n```\n```text expect\nhello again\n```\n## Lesson 2: y\n```sh workshop\necho 401\n```\n```text expect\n200\n```\n";
    let error = run(doc, &options(None)).unwrap_err();
    assert!(
        error.starts_with("Lesson 2: y, WORKSHOP.md line 16: expected a line matching \"200\" (after the ones before it), in the output (expectation at line 19)"),
        "{error}"
    );
    let doc = "## Lesson 1: x\n```sh workshop\nfalse | cat\necho after\n```\n";
    let error = run(doc, &options(None)).unwrap_err();
    assert!(
        error.starts_with("Lesson 1: x, WORKSHOP.md line 2: a command failed: its line 1: cat\n"),
        "{error}"
    );
    let doc = "## Lesson 1: x\n```sh workshop\necho fine\n```\n```text expect\nfine\n```\n";
    let report = run(doc, &options(None)).unwrap();
    assert_eq!((report.blocks, report.expectations), (1, 1));
}
