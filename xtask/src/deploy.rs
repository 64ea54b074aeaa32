//! `cargo xtask deploy` and `cargo xtask teardown`: the stack in `template.yaml` into an
//! AWS account, and out again.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use site_config::SiteConfig;

use crate::aws::{install_step, sam, tool};
use crate::step::{Step, run_all};

const SITE_DIST: &str = "site/dist";
/// Hashed assets (file names change with content) may be cached for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Options of `cargo xtask deploy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// Print every command instead of running it.
    #[arg(long)]
    pub dry_run: bool,
    /// The CloudFormation stack's name.
    #[arg(long, default_value = "greeting-stack")]
    pub stack_name: String,
    /// Google OAuth client IDs, comma-separated (the first is the site's). Asked for by
    /// the guided first deploy when omitted; kept in samconfig.toml afterwards.
    #[arg(long, env = "GOOGLE_CLIENT_IDS")]
    pub google_client_ids: Option<String>,
    /// AWS region (default: your AWS configuration's).
    #[arg(long)]
    pub region: Option<String>,
    /// Ask every question again (`sam deploy --guided`), even with a samconfig.toml.
    #[arg(long)]
    pub guided: bool,
}

/// Options of `cargo xtask teardown`.
#[derive(Debug, Clone, clap::Args)]
pub struct TeardownArgs {
    /// Print every command instead of running it.
    #[arg(long)]
    pub dry_run: bool,
    /// The CloudFormation stack's name.
    #[arg(long, default_value = "greeting-stack")]
    pub stack_name: String,
    /// AWS region (default: your AWS configuration's).
    #[arg(long)]
    pub region: Option<String>,
}

/// What the deploy needs from the stack's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOutputs {
    pub api_url: String,
    pub site_url: String,
    pub bucket: String,
    pub distribution_id: String,
    pub google_client_id: String,
}

impl StackOutputs {
    /// Stand-ins printed by `--dry-run`, where no stack is asked.
    fn placeholders() -> Self {
        StackOutputs {
            api_url: "<ApiUrl>".into(),
            site_url: "<SiteUrl>".into(),
            bucket: "<SiteBucketName>".into(),
            distribution_id: "<DistributionId>".into(),
            google_client_id: "<GoogleClientId>".into(),
        }
    }
}

/// Reads `aws cloudformation describe-stacks --query Stacks[0].Outputs` output.
pub fn parse_outputs(json: &str) -> Result<StackOutputs, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Output {
        output_key: String,
        output_value: String,
    }
    let outputs: Vec<Output> = serde_json::from_str(json)
        .map_err(|e| format!("unexpected stack outputs ({e}): {json}"))?;
    let get = |key: &str| {
        outputs
            .iter()
            .find(|o| o.output_key == key)
            .map(|o| o.output_value.clone())
            .ok_or_else(|| {
                format!("the stack has no output {key}; was it deployed from this template.yaml?")
            })
    };
    Ok(StackOutputs {
        api_url: get("ApiUrl")?,
        site_url: get("SiteUrl")?,
        bucket: get("SiteBucketName")?,
        distribution_id: get("DistributionId")?,
        google_client_id: get("GoogleClientId")?,
    })
}

/// The site's runtime configuration for this deployment (the shape `site-config` defines);
/// the stack's name is for the `sam logs` commands the page's "How it works" view prints.
pub fn site_config(outputs: &StackOutputs, stack_name: &str) -> SiteConfig {
    SiteConfig::deployed(&outputs.api_url, &outputs.google_client_id, stack_name)
}

/// `config.json` for this deployment, checked as the page will check it, so a stack
/// output the page would refuse stops the deploy before anything is uploaded.
pub fn checked_config_json(outputs: &StackOutputs, stack_name: &str) -> Result<String, String> {
    site_config(outputs, stack_name)
        .checked()
        .map(|config| config.to_json())
        .map_err(|e| format!("the stack's outputs make a config.json the page refuses: {e}"))
}

fn with_region(step: Step, region: &Option<String>) -> Step {
    match region {
        Some(region) => step.args(["--region", region.as_str()]),
        None => step,
    }
}

fn aws_cli(title: &str, args: &[&str]) -> Step {
    Step::new(title, tool("aws"), args)
}

/// Build and deploy the stack.
pub fn stack_steps(args: &DeployArgs, have_samconfig: bool) -> Vec<Step> {
    let build = sam("build the functions (cargo-lambda, arm64)", &["build"])
        .hint("run `cargo xtask test` to see which check fails");
    let mut deploy = sam("deploy the stack", &["deploy", "--stack-name", &args.stack_name])
        .args(["--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        .args(["--no-fail-on-empty-changeset"])
        .hint("check your AWS credentials (`aws sts get-caller-identity`) and the CloudFormation events in the console");
    if args.guided || !have_samconfig {
        deploy = deploy.args(["--guided"]);
    } else {
        deploy = deploy.args(["--resolve-s3"]);
    }
    if let Some(ids) = &args.google_client_ids {
        deploy = deploy.args([
            "--parameter-overrides".to_owned(),
            format!("GoogleClientIds={ids}"),
        ]);
    }
    vec![install_step(), build, with_region(deploy, &args.region)]
}

/// Upload the built site with the right types and cache headers, then invalidate.
pub fn site_steps(outputs: &StackOutputs, region: &Option<String>) -> Vec<Step> {
    let bucket = format!("s3://{}", outputs.bucket);
    vec![
        with_region(
            aws_cli(
                "upload hashed assets",
                &["s3", "sync", SITE_DIST, &bucket, "--delete"],
            )
            .args([
                "--exclude",
                "index.html",
                "--exclude",
                "config.json",
                "--exclude",
                "*.wasm",
            ])
            .args(["--cache-control", IMMUTABLE]),
            region,
        ),
        with_region(
            aws_cli(
                "upload WebAssembly as application/wasm",
                &["s3", "cp", SITE_DIST, &bucket, "--recursive"],
            )
            .args(["--exclude", "*", "--include", "*.wasm"])
            .args([
                "--content-type",
                "application/wasm",
                "--cache-control",
                IMMUTABLE,
            ]),
            region,
        ),
        with_region(
            aws_cli(
                "upload config.json",
                &[
                    "s3",
                    "cp",
                    &format!("{SITE_DIST}/config.json"),
                    &format!("{bucket}/config.json"),
                ],
            )
            .args([
                "--content-type",
                "application/json",
                "--cache-control",
                "public, max-age=60",
            ]),
            region,
        ),
        // Last, so it never points at assets that are not there yet.
        with_region(
            aws_cli(
                "upload index.html",
                &[
                    "s3",
                    "cp",
                    &format!("{SITE_DIST}/index.html"),
                    &format!("{bucket}/index.html"),
                ],
            )
            .args([
                "--content-type",
                "text/html; charset=utf-8",
                "--cache-control",
                "no-cache",
            ]),
            region,
        ),
        with_region(
            aws_cli(
                "invalidate CloudFront's copies of the unhashed files",
                &[
                    "cloudfront",
                    "create-invalidation",
                    "--distribution-id",
                    &outputs.distribution_id,
                ],
            )
            .args(["--paths", "/", "/index.html", "/config.json"]),
            region,
        ),
    ]
}

fn describe_outputs(stack: &str, region: &Option<String>) -> Result<StackOutputs, String> {
    let mut command = Command::new(tool("aws"));
    command.args(["cloudformation", "describe-stacks", "--stack-name", stack]);
    command.args(["--query", "Stacks[0].Outputs", "--output", "json"]);
    if let Some(region) = region {
        command.args(["--region", region]);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run the AWS CLI: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cannot read the outputs of stack {stack}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse_outputs(&String::from_utf8_lossy(&output.stdout))
}

/// `cargo xtask deploy`.
pub fn deploy(args: &DeployArgs) -> Result<(), String> {
    let have_samconfig = Path::new("samconfig.toml").exists();
    run_all(&stack_steps(args, have_samconfig), args.dry_run)?;
    let outputs = if args.dry_run {
        StackOutputs::placeholders()
    } else {
        describe_outputs(&args.stack_name, &args.region)?
    };
    // The site is built first (tools installed as needed), then its config.json is
    // written into the build.
    if args.dry_run {
        println!("cargo xtask site");
    } else {
        crate::site::build(true)?;
    }
    if args.dry_run {
        // The placeholders are not URLs, so this one is shown unchecked.
        let config = site_config(&outputs, &args.stack_name).to_json();
        println!("# write {SITE_DIST}/config.json:\n{config}");
    } else {
        let config = checked_config_json(&outputs, &args.stack_name)?;
        std::fs::write(format!("{SITE_DIST}/config.json"), &config)
            .map_err(|e| format!("cannot write {SITE_DIST}/config.json: {e}"))?;
    }
    run_all(&site_steps(&outputs, &args.region), args.dry_run)?;
    println!();
    println!("The sign-in page: {}", outputs.site_url);
    println!("The API:          {}", outputs.api_url);
    println!();
    println!("One step left, in Google Cloud Console > APIs & Services > Credentials:");
    println!(
        "add {} to the OAuth client's Authorized JavaScript origins.",
        outputs.site_url
    );
    Ok(())
}

/// The steps of `cargo xtask teardown`, given the site bucket.
pub fn teardown_steps(args: &TeardownArgs, bucket: &str) -> Vec<Step> {
    vec![
        with_region(
            aws_cli(
                "empty the site bucket",
                &["s3", "rm", &format!("s3://{bucket}"), "--recursive"],
            ),
            &args.region,
        ),
        with_region(
            sam(
                "delete the stack",
                &["delete", "--stack-name", &args.stack_name, "--no-prompts"],
            ),
            &args.region,
        ),
    ]
}

/// `cargo xtask teardown`.
pub fn teardown(args: &TeardownArgs) -> Result<(), String> {
    let bucket = if args.dry_run {
        StackOutputs::placeholders().bucket
    } else {
        run_all(&[install_step()], false)?;
        describe_outputs(&args.stack_name, &args.region)?.bucket
    };
    run_all(&teardown_steps(args, &bucket), args.dry_run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> StackOutputs {
        StackOutputs {
            api_url: "https://abc.execute-api.eu-west-1.amazonaws.com/prod".into(),
            site_url: "https://d111.cloudfront.net".into(),
            bucket: "greeting-stack-sitebucket-1".into(),
            distribution_id: "E2EXAMPLE".into(),
            google_client_id: "1234-abc.apps.googleusercontent.com".into(),
        }
    }

    fn deploy_args() -> DeployArgs {
        DeployArgs {
            dry_run: true,
            stack_name: "greeting-stack".into(),
            google_client_ids: None,
            region: None,
            guided: false,
        }
    }

    #[test]
    fn parses_stack_outputs() {
        let json = r#"[
            {"OutputKey": "ApiUrl", "OutputValue": "https://abc.execute-api.eu-west-1.amazonaws.com/prod"},
            {"OutputKey": "SiteUrl", "OutputValue": "https://d111.cloudfront.net"},
            {"OutputKey": "SiteBucketName", "OutputValue": "greeting-stack-sitebucket-1"},
            {"OutputKey": "DistributionId", "OutputValue": "E2EXAMPLE", "Description": "x"},
            {"OutputKey": "GoogleClientId", "OutputValue": "1234-abc.apps.googleusercontent.com"}
        ]"#;
        assert_eq!(parse_outputs(json), Ok(outputs()));
    }

    #[test]
    fn missing_output_says_which() {
        let error = parse_outputs(r#"[{"OutputKey": "ApiUrl", "OutputValue": "x"}]"#).unwrap_err();
        assert_eq!(
            error,
            "the stack has no output SiteUrl; was it deployed from this template.yaml?"
        );
    }

    #[test]
    fn site_config_points_at_the_deployed_api_without_local_sign_in() {
        let written = checked_config_json(&outputs(), "greeting-stack").unwrap();
        let config: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(
            config,
            serde_json::json!({
                "apiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
                "googleClientId": "1234-abc.apps.googleusercontent.com",
                "localSignInUrl": null,
                "traceUrl": null,
                "stackName": "greeting-stack"
            })
        );
    }

    #[test]
    fn an_output_the_page_would_refuse_stops_the_deploy() {
        let outputs = StackOutputs {
            google_client_id: "1234".into(),
            ..outputs()
        };
        assert_eq!(
            checked_config_json(&outputs, "greeting-stack"),
            Err("the stack's outputs make a config.json the page refuses: config.json: \"googleClientId\" must look like \"1234-abc.apps.googleusercontent.com\" or be null, not \"1234\"".to_owned())
        );
    }

    #[test]
    fn first_deploy_is_guided_later_ones_use_samconfig() {
        let first = stack_steps(&deploy_args(), false);
        assert!(first[2].args.contains(&"--guided".to_owned()));
        let later = stack_steps(&deploy_args(), true);
        assert!(!later[2].args.contains(&"--guided".to_owned()));
        assert!(
            later[2]
                .command_line()
                .contains("--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND")
        );
    }

    #[test]
    fn client_ids_become_a_parameter_override() {
        let args = DeployArgs {
            google_client_ids: Some("a,b".into()),
            ..deploy_args()
        };
        let steps = stack_steps(&args, true);
        assert!(
            steps[2]
                .command_line()
                .ends_with("--parameter-overrides GoogleClientIds=a,b"),
            "{}",
            steps[2].command_line()
        );
    }

    #[test]
    fn wasm_is_uploaded_as_application_wasm_and_index_is_not_cached() {
        let lines: Vec<String> = site_steps(&outputs(), &None)
            .iter()
            .map(Step::command_line)
            .collect();
        let wasm = lines
            .iter()
            .find(|l| l.contains("'*.wasm'") && l.contains("--include"))
            .unwrap();
        assert!(wasm.contains("--content-type application/wasm"), "{wasm}");
        assert!(
            wasm.contains("--cache-control 'public, max-age=31536000, immutable'"),
            "{wasm}"
        );
        let index = lines
            .iter()
            .find(|l| l.contains("s3://greeting-stack-sitebucket-1/index.html"))
            .unwrap();
        assert!(index.contains("--cache-control no-cache"), "{index}");
        assert!(
            index.contains("--content-type 'text/html; charset=utf-8'"),
            "{index}"
        );
        let config = lines
            .iter()
            .find(|l| l.contains("/config.json --content-type"))
            .unwrap();
        assert!(
            config.contains("--cache-control 'public, max-age=60'"),
            "{config}"
        );
        assert!(
            lines
                .last()
                .unwrap()
                .contains("create-invalidation --distribution-id E2EXAMPLE")
        );
        // index.html goes up after every asset it may reference.
        let index_at = lines.iter().position(|l| l == index).unwrap();
        assert!(index_at > lines.iter().position(|l| l == wasm).unwrap());
    }

    #[test]
    fn region_is_passed_to_every_aws_command() {
        let region = Some("eu-west-1".to_owned());
        for step in site_steps(&outputs(), &region) {
            assert!(
                step.command_line().ends_with("--region eu-west-1"),
                "{}",
                step.command_line()
            );
        }
    }

    #[test]
    fn teardown_empties_the_bucket_before_deleting_the_stack() {
        let args = TeardownArgs {
            dry_run: true,
            stack_name: "s".into(),
            region: None,
        };
        let lines: Vec<String> = teardown_steps(&args, "b")
            .iter()
            .map(Step::command_line)
            .collect();
        assert!(
            lines[0].ends_with("s3 rm s3://b --recursive"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].ends_with("delete --stack-name s --no-prompts"),
            "{}",
            lines[1]
        );
    }
}
