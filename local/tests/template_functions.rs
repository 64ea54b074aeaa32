//! A template's functions run as built binaries with the template's environment: the
//! production authorizer from tests/fixtures/template-authorizer/template.yaml, its
//! client IDs from an `--env-vars` file (SAM CLI's format) and its JWKS URL from
//! `Fn::Sub` over a `--parameter-overrides` value; and what cannot run, refused at start
//! with one sentence.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{client, read};
use local::{Error, RunningStack, StackConfig};
use reqwest::StatusCode;
use testkit::jwks_server::JwksServer;
use testkit::keys::{PRIMARY, jwks};
use testkit::tokens::{google_claims, now, sign};

const FUNCTION: &str = "TemplateAuthorizerFunction";
const LEARNER_CLIENT: &str = "learner.apps.googleusercontent.com";
const TEMPLATE_DEFAULT_CLIENT: &str = "template-default.apps.googleusercontent.com";

fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/template-authorizer")
        .join(file)
}

/// A file of its own in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("template-functions-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("temp file written");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fixture_config(jwks: &JwksServer, env_vars: Option<&Path>) -> StackConfig {
    StackConfig {
        definition: Some(fixture("openapi.yaml")),
        template: Some(fixture("template.yaml")),
        env_vars: env_vars.map(Path::to_owned),
        parameter_overrides: BTreeMap::from([(
            "JwksPort".to_owned(),
            jwks.addr().port().to_string(),
        )]),
        ..common::config()
    }
}

async fn hello(stack: &RunningStack, token: &str) -> common::Answer {
    let request = client()
        .get(format!("{}/hello", stack.api_url()))
        .header("Authorization", format!("Bearer {token}"));
    read(request.send().await.expect("the API answers")).await
}

fn token_for(client_id: &str) -> String {
    sign(&PRIMARY, &google_claims(client_id, now()))
}

#[tokio::test]
async fn the_env_vars_files_client_id_reaches_the_binary_and_the_templates_default_is_refused() {
    let jwks = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let env_vars = TempFile::new(
        "env.json",
        &format!(r#"{{"{FUNCTION}": {{"GOOGLE_CLIENT_IDS": "{LEARNER_CLIENT}"}}}}"#),
    );
    let stack = common::start(fixture_config(&jwks, Some(&env_vars.0))).await;
    let run = &stack.functions()[0];
    assert_eq!(run.name, FUNCTION);
    assert!(
        run.how
            .contains("/debug/authorizer behind a Lambda Runtime API")
            && run
                .how
                .contains("cargo build -p authorizer --bin authorizer; timeout 5 s, 256 MB"),
        "{}",
        run.how
    );

    let answer = hello(&stack, &token_for(LEARNER_CLIENT)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            StatusCode::OK,
            r#"{"principalId": "110169484474386276334"}"#
        )
    );
    let answer = hello(&stack, &token_for(TEMPLATE_DEFAULT_CLIENT)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::UNAUTHORIZED, r#"{"message":"Unauthorized"}"#)
    );
    // The JWKS URL came from Fn::Sub over the --parameter-overrides port.
    assert!(jwks.fetches() >= 1, "the binary fetched the fixture's keys");
    stack.shutdown().await;
}

#[tokio::test]
async fn without_the_env_vars_file_the_parameters_default_is_the_client_id() {
    let jwks = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    let stack = common::start(fixture_config(&jwks, None)).await;
    let answer = hello(&stack, &token_for(TEMPLATE_DEFAULT_CLIENT)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (
            StatusCode::OK,
            r#"{"principalId": "110169484474386276334"}"#
        )
    );
    let answer = hello(&stack, &token_for(LEARNER_CLIENT)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    stack.shutdown().await;
}

async fn refusal(config: StackConfig) -> String {
    match local::start(config).await {
        Ok(_) => panic!("started"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn a_parameter_without_default_or_override_is_refused_naming_the_variable() {
    let jwks = JwksServer::start(jwks(&[PRIMARY]), None).await;
    let config = StackConfig {
        parameter_overrides: BTreeMap::new(),
        ..fixture_config(&jwks, None)
    };
    assert_eq!(
        refusal(config).await,
        format!(
            "cannot run {FUNCTION} of {}: its Environment variable GOOGLE_JWKS_URL refers to the parameter JwksPort, which has no Default: give it a value with --parameter-overrides JwksPort=VALUE",
            fixture("template.yaml").display()
        )
    );
}

#[tokio::test]
async fn a_parameter_override_the_template_lacks_is_refused() {
    let jwks = JwksServer::start(jwks(&[PRIMARY]), None).await;
    let mut config = fixture_config(&jwks, None);
    config
        .parameter_overrides
        .insert("JwksPrt".into(), "1".into());
    assert_eq!(
        refusal(config).await,
        format!(
            "--parameter-overrides: JwksPrt is not a parameter of {} (its parameters: GoogleClientIds, JwksPort)",
            fixture("template.yaml").display()
        )
    );
}

#[tokio::test]
async fn an_env_vars_file_that_is_not_sams_format_is_refused() {
    let jwks = JwksServer::start(jwks(&[PRIMARY]), None).await;
    let env_vars = TempFile::new("bad-env.json", r#"{"TemplateAuthorizerFunction": ["x"]}"#);
    assert_eq!(
        refusal(fixture_config(&jwks, Some(&env_vars.0))).await,
        format!(
            "{}: TemplateAuthorizerFunction must be an object of variable names and values",
            env_vars.0.display()
        )
    );
}

#[tokio::test]
async fn a_code_uri_without_a_cargo_manifest_is_refused_naming_it() {
    let dir =
        std::env::temp_dir().join(format!("template-functions-{}-nocrate", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let template = dir.join("template.yaml");
    std::fs::write(
        &template,
        std::fs::read_to_string(fixture("template.yaml"))
            .unwrap()
            .replace("CodeUri: ../../../..", "CodeUri: ."),
    )
    .unwrap();
    let jwks = JwksServer::start(jwks(&[PRIMARY]), None).await;
    let message = refusal(StackConfig {
        template: Some(template.clone()),
        ..fixture_config(&jwks, None)
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        message,
        format!(
            "cannot run {FUNCTION} of {}: its CodeUri {} has no Cargo.toml",
            template.display(),
            dir.join(".").display()
        )
    );
}

#[tokio::test]
async fn a_function_no_template_is_named_for_is_refused_saying_how_to_name_one() {
    let config = StackConfig {
        definition: Some(fixture("openapi.yaml")),
        ..common::config()
    };
    let Err(Error::UnknownFunction(message)) = local::start(config).await else {
        panic!("started");
    };
    assert_eq!(
        message,
        format!(
            "the API definition invokes {FUNCTION}, which is not a registered handler (AuthorizerFunction, HelloFunction) and no template is named to build it from; name the template that declares it (--template, StackConfig::template)"
        )
    );
}

#[tokio::test]
async fn overrides_without_a_template_are_refused() {
    let config = StackConfig {
        parameter_overrides: BTreeMap::from([("A".to_owned(), "1".to_owned())]),
        ..common::config()
    };
    assert_eq!(
        refusal(config).await,
        "invalid setting template: --parameter-overrides applies to a template's functions: name the template with --template"
    );
}

#[tokio::test]
async fn a_binary_that_does_not_compile_stops_the_start_pointing_at_cargos_errors() {
    // A crate of its own, outside the workspace, with no dependencies: quick to fail.
    let dir =
        std::env::temp_dir().join(format!("template-functions-{}-broken", std::process::id()));
    std::fs::create_dir_all(dir.join("broken/src")).unwrap();
    std::fs::write(
        dir.join("broken/Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken/src/main.rs"), "fn main() { not rust }\n").unwrap();
    let template = dir.join("template.yaml");
    std::fs::write(
        &template,
        std::fs::read_to_string(fixture("template.yaml"))
            .unwrap()
            .replace("CodeUri: ../../../..", "CodeUri: broken")
            .replace("Binary: authorizer", "Binary: broken"),
    )
    .unwrap();
    let jwks = JwksServer::start(jwks(&[PRIMARY]), None).await;
    let message = refusal(StackConfig {
        template: Some(template.clone()),
        ..fixture_config(&jwks, None)
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        message,
        format!(
            "cannot run {FUNCTION} of {}: `cargo build -p broken --bin broken` failed (exit status: 101); cargo's errors are above",
            template.display()
        )
    );
}

#[tokio::test]
async fn an_edited_template_restarts_its_function_with_the_new_environment() {
    let jwks = JwksServer::start(jwks(&[PRIMARY]), Some(3600)).await;
    // Copies beside each other, with CodeUri naming the workspace from where they are.
    let dir = std::env::temp_dir().join(format!("template-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template = std::fs::read_to_string(fixture("template.yaml"))
        .unwrap()
        .replace(
            "CodeUri: ../../../..",
            &format!("CodeUri: {}", workspace.display()),
        );
    std::fs::write(dir.join("template.yaml"), &template).unwrap();
    std::fs::copy(fixture("openapi.yaml"), dir.join("openapi.yaml")).unwrap();
    let stack = common::start(StackConfig {
        definition: Some(dir.join("openapi.yaml")),
        template: Some(dir.join("template.yaml")),
        watch: true,
        ..fixture_config(&jwks, None)
    })
    .await;
    assert_eq!(
        hello(&stack, &token_for(LEARNER_CLIENT)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The parameter's Default becomes the learner's client ID.
    std::fs::write(
        dir.join("template.yaml"),
        template.replace(TEMPLATE_DEFAULT_CLIENT, LEARNER_CLIENT),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let answer = hello(&stack, &token_for(LEARNER_CLIENT)).await;
        if answer.status == StatusCode::OK {
            assert_eq!(answer.body, r#"{"principalId": "110169484474386276334"}"#);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the edited template did not take within 60 s: {answer:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        hello(&stack, &token_for(TEMPLATE_DEFAULT_CLIENT))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    stack.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
