//! The `render-template` command a workshop attendee runs.

use std::process::Command;

fn run(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_render-template"))
        .args(args)
        .output()
        .expect("render-template runs");
    (
        output.status.success(),
        String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    )
}

#[test]
fn renders_the_deployed_template_and_shows_what_hello_receives() {
    let (ok, stdout, _) = run(&[
        "--authorizer",
        "name=Jane \"JD\" O'Brien",
        "--authorizer",
        "email=j@x.io",
    ]);
    assert!(ok, "{stdout}");
    assert!(
        stdout.contains(r#"{"name": "Jane \"JD\" O'Brien"}"#),
        "{stdout}"
    );
    assert!(stdout.contains("valid JSON: yes"), "{stdout}");
    assert!(stdout.contains("exactly the authorizer's name"), "{stdout}");
}

#[test]
fn reports_invalid_json_from_another_template_with_a_failing_status() {
    let dir = std::env::temp_dir().join(format!("render-template-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tutorial.vtl");
    std::fs::write(&path, r#"{"name": "$context.authorizer.name"}"#).unwrap();
    let (ok, stdout, _) = run(&[path.to_str().unwrap(), "--authorizer", "name=a\"b"]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!ok);
    assert!(stdout.contains("valid JSON: NO"), "{stdout}");
}

#[test]
fn explains_a_template_error_with_its_position() {
    let dir = std::env::temp_dir().join(format!("render-template-error-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.vtl");
    std::fs::write(&path, "{\n  #if($x)\n}").unwrap();
    let (ok, _, stderr) = run(&[path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!ok);
    assert!(
        stderr.contains("line 2, column 3: syntax error: #if has no matching #end"),
        "{stderr}"
    );
}
