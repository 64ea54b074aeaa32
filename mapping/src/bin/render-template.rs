//! `render-template`: render a request mapping template the way API Gateway would, and
//! show what the Lambda behind it receives.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mapping::{REQUEST_TEMPLATE, REQUEST_TEMPLATE_SOURCE, RenderContext, Template};

/// Render an API Gateway request mapping template (VTL) for the values you give, the way
/// API Gateway would after the authorizer allowed the call, and show what the Lambda
/// behind it (hello) receives.
///
/// Without a TEMPLATE argument the deployed template (openapi.yaml's, for GET /hello) is
/// rendered.
#[derive(Debug, Parser)]
#[command(
    name = "render-template",
    version,
    after_help = "Examples (from the workspace, prefix with `cargo run -p mapping --bin render-template --`):\n  \
        render-template --authorizer name='Jane Doe' --authorizer email=jane@example.com\n  \
        render-template --authorizer name='O'\\''Brien \"the \\\\ one\"'\n  \
        render-template my-template.vtl --stage dev --body '{\"a\": 1}' --query page=2"
)]
struct Args {
    /// The template file to render [default: the deployed one, GET /hello's in openapi.yaml].
    template: Option<PathBuf>,

    /// A value of the authorizer's context, as KEY=VALUE: $context.authorizer.KEY.
    /// Repeat for several (e.g. name=..., email=..., principalId=...).
    #[arg(short, long = "authorizer", value_name = "KEY=VALUE", value_parser = key_value)]
    authorizer: Vec<(String, String)>,

    /// The stage: $context.stage.
    #[arg(long, default_value = "prod")]
    stage: String,

    /// The HTTP method: $context.httpMethod.
    #[arg(long, default_value = "GET")]
    http_method: String,

    /// The resource path: $context.resourcePath.
    #[arg(long, default_value = "/hello")]
    resource_path: String,

    /// The request path: $context.path [default: /STAGE/RESOURCE_PATH].
    #[arg(long)]
    path: Option<String>,

    /// The request ID: $context.requestId.
    #[arg(long, default_value = "00000000-0000-0000-0000-000000000000")]
    request_id: String,

    /// The caller's IP address: $context.identity.sourceIp.
    #[arg(long, default_value = "127.0.0.1")]
    source_ip: String,

    /// The caller's User-Agent: $context.identity.userAgent.
    #[arg(long, default_value = "render-template")]
    user_agent: String,

    /// A stage variable, as KEY=VALUE: $stageVariables.KEY. Repeatable.
    #[arg(long = "stage-variable", value_name = "KEY=VALUE", value_parser = key_value)]
    stage_variables: Vec<(String, String)>,

    /// The request body: $input.body, $input.json(...), $input.path(...).
    #[arg(long, default_value = "")]
    body: String,

    /// A request header, as NAME=VALUE: $input.params('NAME'). Repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE", value_parser = key_value)]
    headers: Vec<(String, String)>,

    /// A query string parameter, as NAME=VALUE: $input.params('NAME'). Repeatable.
    #[arg(long = "query", value_name = "NAME=VALUE", value_parser = key_value)]
    query: Vec<(String, String)>,

    /// A path parameter, as NAME=VALUE: $input.params('NAME'). Repeatable.
    #[arg(long = "path-param", value_name = "NAME=VALUE", value_parser = key_value)]
    path_params: Vec<(String, String)>,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (label, source) = match &args.template {
        None => (
            REQUEST_TEMPLATE_SOURCE.to_owned(),
            REQUEST_TEMPLATE.to_owned(),
        ),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(source) => (path.display().to_string(), source),
            Err(error) => {
                eprintln!("render-template: cannot read {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
        },
    };
    let template = match Template::parse(&source) {
        Ok(template) => template,
        Err(error) => {
            eprintln!("render-template: {label}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let context = RenderContext {
        authorizer: std::sync::Arc::new(args.authorizer.into_iter().collect()),
        path: args
            .path
            .unwrap_or_else(|| format!("/{}{}", args.stage, args.resource_path))
            .into(),
        stage: args.stage.into(),
        request_id: args.request_id.into(),
        http_method: args.http_method.into(),
        resource_path: args.resource_path.into(),
        source_ip: args.source_ip.into(),
        user_agent: args.user_agent.into(),
        stage_variables: std::sync::Arc::new(args.stage_variables.into_iter().collect()),
        body: args.body.into(),
        path_params: args.path_params.into_iter().collect(),
        query: args.query.into_iter().collect(),
        headers: args.headers.into_iter().collect(),
        // Request templates have no $context.error; gateway responses do.
        error: Default::default(),
        overrides: Default::default(),
        // The derived local values (RenderContext's docs).
        facts: None,
    };
    if !context.authorizer.contains_key("name") {
        eprintln!(
            "note: no --authorizer name=...; $context.authorizer.name is null, as when the \
             authorizer returns no name"
        );
    }
    let rendered = match template.render(&context) {
        Ok(rendered) => rendered,
        Err(error) => {
            eprintln!("render-template: {label}: {error}");
            return ExitCode::FAILURE;
        }
    };

    println!("── {label} rendered (between the lines) ──");
    println!("{}", rendered.trim_end_matches('\n'));
    println!("──");
    match serde_json::from_str::<serde_json::Value>(&rendered) {
        Ok(event) => {
            println!("valid JSON: yes");
            println!(
                "the Lambda (hello) receives this event:\n{}",
                serde_json::to_string_pretty(&event).expect("a parsed value serializes")
            );
            match event.get("name") {
                Some(serde_json::Value::String(name)) => {
                    let same = context.authorizer.get("name") == Some(name);
                    println!(
                        "name: {name:?} ({} characters) — {}",
                        name.chars().count(),
                        if same {
                            "exactly the authorizer's name"
                        } else {
                            "NOT the authorizer's name"
                        }
                    );
                }
                Some(other) => println!("name is not a string: {other}"),
                None => println!("the event has no \"name\""),
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!("valid JSON: NO ({error})");
            println!(
                "API Gateway would still send this text; a Lambda non-proxy integration \
                 would fail to parse it."
            );
            ExitCode::FAILURE
        }
    }
}
