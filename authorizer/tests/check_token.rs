//! The `check-token` command, run as a workshop attendee would, offline.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use testkit::keys::{PRIMARY, jwks};
use testkit::tokens::{CLIENT_ID, assemble, google_claims, service_account_claims, sign};

const NOW: u64 = 1_770_000_000;

/// A JWKS file of the calling test's own: the tests run in parallel threads, and one
/// rewriting a shared file while another's `check-token` reads it made both flaky.
fn jwks_file() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("check-token-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "certs-{}.json",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, jwks(&[PRIMARY]).to_string()).unwrap();
    path
}

fn check_token(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_check-token"))
        .args(args)
        .env_remove("GOOGLE_CLIENT_IDS")
        .env_remove("GOOGLE_JWKS_URL")
        .env_remove("ALLOWED_HOSTED_DOMAINS")
        .env_remove("CLOCK_SKEW_SECONDS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// Runs `check-token` offline against the test JWKS at `at`, with `extra` arguments; the
/// token goes on the command line, or on standard input when `stdin` is set.
fn check_offline(token: &str, at: u64, extra: &[&str], stdin: bool) -> (Option<i32>, String) {
    let file = jwks_file();
    let at = at.to_string();
    let mut args = vec![
        "--client-id",
        CLIENT_ID,
        "--jwks-file",
        file.to_str().unwrap(),
        "--at",
        &at,
    ];
    args.extend_from_slice(extra);
    let output = if stdin {
        check_token(&args, Some(&format!("Bearer {token}\n")))
    } else {
        args.push(token);
        check_token(&args, None)
    };
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn explains_an_accepted_token() {
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, NOW));
    let (code, text) = check_offline(&token, NOW, &[], false);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("decision   ALLOW (API Gateway calls the backend)"),
        "{text}"
    );
    assert!(text.contains(r#""name":"Jane Doe""#), "{text}");
    assert!(text.contains("(unverified)"), "{text}");
}

#[test]
fn explains_an_expired_token_read_from_stdin() {
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, NOW));
    let at = NOW + 3600 + 61;
    let (code, text) = check_offline(&token, at, &[], true);
    assert_eq!(code, Some(1), "{text}");
    let expected = format!(
        "decision   UNAUTHORIZED (401): the token expired at {} (now {at}) [expired]",
        NOW + 3600
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn explains_a_wrong_audience() {
    let token = sign(&PRIMARY, &google_claims("someone-else", NOW));
    let (code, text) = check_offline(&token, NOW, &[], false);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("UNAUTHORIZED (401): the audience is not one of the configured client IDs [wrong_audience]"),
        "{text}"
    );
}

#[test]
fn explains_a_service_account_token_for_our_audience() {
    let token = sign(&PRIMARY, &service_account_claims(CLIENT_ID, NOW));
    let (code, text) = check_offline(&token, NOW, &[], false);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(r#"decision   UNAUTHORIZED (401): the authorized party (azp) "104523456789012345678" is not one of the configured client IDs [wrong_authorized_party]"#),
        "{text}"
    );
    assert!(
        text.contains(r#"expecting  aud in ["test-client.apps.googleusercontent.com"], azp absent or one of them, iss in ["accounts.google.com", "https://accounts.google.com"], at most 24 h to exp"#),
        "{text}"
    );
}

#[test]
fn explains_a_token_that_lives_too_long() {
    let mut claims = google_claims(CLIENT_ID, NOW);
    claims["exp"] = serde_json::json!(NOW + 30 * 24 * 3600);
    let token = sign(&PRIMARY, &claims);
    let (code, text) = check_offline(&token, NOW, &[], false);
    assert_eq!(code, Some(1), "{text}");
    let expected = format!(
        "decision   UNAUTHORIZED (401): the token lives too long: exp {} is more than 24 h after now ({NOW}) or after iat ({NOW}); Google's ID tokens live one hour [lifetime_too_long]",
        NOW + 30 * 24 * 3600
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn explains_a_kid_that_is_not_a_key_id_without_echoing_it() {
    let kid = "A".repeat(6000);
    let token = assemble(
        &serde_json::json!({"alg": "RS256", "kid": kid}),
        &serde_json::json!({}),
        b"s",
    );
    let (code, text) = check_offline(&token, NOW, &[], false);
    assert_eq!(code, Some(1), "{text:.300}");
    assert!(
        text.contains("decision   UNAUTHORIZED (401): the kid is not a key ID (6000 bytes; a key ID is at most 128 bytes of A-Z a-z 0-9 . _ -) [invalid_kid]"),
        "{text:.300}"
    );
}

#[test]
fn explains_a_hosted_domain_refusal() {
    let token = sign(&PRIMARY, &google_claims(CLIENT_ID, NOW));
    let (code, text) = check_offline(&token, NOW, &["--hosted-domain", "example.com"], false);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("decision   DENY (403): the account belongs to no Google Workspace domain"),
        "{text}"
    );
}

#[test]
fn usage_errors_exit_with_2_and_say_what_is_missing() {
    let output = check_token(&["some.token.here"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--client-id"));

    let output = check_token(
        &[
            "--client-id",
            CLIENT_ID,
            "--jwks-file",
            "/nonexistent/certs.json",
            "x.y.z",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .starts_with("check-token: cannot read /nonexistent/certs.json")
    );
}
