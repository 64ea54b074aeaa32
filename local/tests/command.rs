//! The `local-stack` command: it prints where everything is, serves, says how to build a
//! missing site, and stops cleanly on SIGTERM (as on Ctrl-C).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_local-stack");

#[test]
fn help_lists_the_ports_the_site_and_the_modes() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "--site-dir <DIR>",
        "[default: site/dist]",
        "--api-port <PORT>",
        "[default: 4101]",
        "--idp-port <PORT>",
        "[default: 4102]",
        "--site-port <PORT>",
        "[default: 4100]",
        "--authorizer-ttl <SECONDS>",
        "--lambdas <LAMBDAS>",
        "--verbose",
        "--template <FILE>",
        "--env-vars <FILE>",
        "--parameter-overrides <KEY=VALUE>...",
        "cargo xtask demo",
    ] {
        assert!(
            help.contains(expected),
            "{expected:?} missing from:\n{help}"
        );
    }
}

/// Sends the stack SIGTERM, as Ctrl-C or a service manager would, and waits for it to exit.
async fn stop_with_sigterm(child: std::process::Child) -> std::process::Output {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("stopped within 20 s of SIGTERM")
        .unwrap()
        .unwrap()
}

/// The word after `label` on the banner line that starts with it.
fn banner_url(banner: &[String], label: &str) -> String {
    let line = banner
        .iter()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} line in {banner:#?}"));
    line.trim_start()[label.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn prints_the_urls_serves_logs_hops_and_stops_cleanly_on_sigterm() {
    let missing_site = std::env::temp_dir().join("local-stack-no-such-site");
    let mut child = Command::new(BINARY)
        .args([
            "--api-port",
            "0",
            "--idp-port",
            "0",
            "--site-port",
            "0",
            "--verbose",
        ])
        .arg("--site-dir")
        .arg(&missing_site)
        .env("RUST_LOG", "local=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.starts_with("Ctrl-C stops everything.");
        banner.push(line);
        if done {
            break;
        }
    }
    let url = banner_url(&banner, "API");
    let idp = banner_url(&banner, "identity provider");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/prod/hello"),
        "{url}"
    );
    assert!(idp.starts_with("http://127.0.0.1:"), "{idp}");
    assert!(
        banner
            .iter()
            .any(|l| l.contains("(not served: build it with `cargo xtask demo`)")),
        "{banner:#?}"
    );

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = client.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::UNAUTHORIZED);
    let signed_in: serde_json::Value = client
        .post(format!("{idp}/sign-in"))
        .header("Content-Type", "application/json")
        .body(r#"{"name": "Jane Doe", "email": "jane@example.com"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_in["credential"].as_str().unwrap().to_owned();
    let answer = client
        .get(&url)
        .header("Authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);

    let output = stop_with_sigterm(child).await;
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{} has no index.html: the site is not built; build it with `cargo xtask demo`",
            missing_site.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("<-- 401"),
        "the refusal was logged:\n{stderr}"
    );
    assert!(
        stderr.contains("<-- 200"),
        "the greeting was logged:\n{stderr}"
    );
    assert!(stderr.contains("local-stack: stopped."), "{stderr}");
    // Verbose shows each hop's JSON; the token only as its fingerprint.
    let fingerprint = authorizer::token_fingerprint(&token);
    assert!(
        stderr.contains(&format!(r#""authorizationToken":"<token {fingerprint}>""#)),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"HelloFunction event {"name":"Jane Doe"}"#),
        "{stderr}"
    );
    assert!(!stderr.contains(&token), "a whole token was logged");
    assert!(
        !stderr.contains(token.split('.').nth(2).unwrap()),
        "a token signature was logged"
    );
}

/// What a learner runs for their own authorizer (workshop lesson 6): the definition
/// alone; its template.yaml beside it is found, the function built and run as a binary,
/// and the banner says so.
#[tokio::test]
async fn a_definition_beside_its_template_runs_the_templates_function_as_a_built_binary() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/allow-deny-authorizer/openapi.yaml");
    let mut child = Command::new(BINARY)
        .args([
            "--no-site",
            "--api-port",
            "0",
            "--idp-port",
            "0",
            "--definition",
        ])
        .arg(&example)
        .env("RUST_LOG", "local=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.starts_with("Ctrl-C stops everything.");
        banner.push(line);
        if done {
            break;
        }
    }
    let function = banner
        .iter()
        .find(|l| l.trim_start().starts_with("AllowDenyAuthorizerFunction"))
        .unwrap_or_else(|| panic!("no function line in {banner:#?}"));
    assert!(
        function.contains("binary ") && function.contains("behind a Lambda Runtime API"),
        "{function}"
    );
    let url = banner_url(&banner, "API");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = client
        .get(&url)
        .header("AuthorizationToken", "allow")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    let answer = client
        .get(&url)
        .header("AuthorizationToken", "deny")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::FORBIDDEN);

    let output = stop_with_sigterm(child).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "building AllowDenyAuthorizerFunction (cargo build -p allow-deny-authorizer --bin allow-deny-authorizer)"
        ),
        "{stderr}"
    );
}
