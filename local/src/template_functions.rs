//! Which function answers each `${XFunction.Arn}` of the definition, and the template's
//! functions started as built binaries.
//!
//! A function runs in process when a handler is registered under its name (the built-in
//! `AuthorizerFunction` and `HelloFunction`, or [`crate::StackConfig::functions`]): fast,
//! nothing to build. Any other function must be one of the template's
//! ([`crate::StackConfig::template`]): it is read from the template
//! ([`apigw::template`]: Globals merged, environment resolved against
//! `--parameter-overrides` and the `--env-vars` file), built with cargo as `sam build`
//! would choose its binary ([`lambda_runners::cargo_build`]), and run behind a Lambda
//! Runtime API, or under AWS's Runtime Interface Emulator with `--lambdas rie`, with the
//! template's environment, timeout and memory size.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use apigw::ApiDefinition;
use apigw::template::{Architecture, EnvVars, Overrides, Template, TemplateFunction};
use lambda_runners::cargo_build::{self, BuildPlan};

use crate::functions::{
    AUTHORIZER_FUNCTION, HELLO_FUNCTION, LambdaFunction, ProcessFunction, RieFunction,
};
use crate::{Error, LambdaMode, StackConfig};

/// How one function of the definition runs, for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRun {
    /// The logical name (`AllowDenyAuthorizerFunction`).
    pub name: String,
    /// "in process", or the binary, its runner and its settings.
    pub how: String,
}

/// A template function ready to build and start.
#[derive(Debug)]
pub(crate) struct Planned {
    function: TemplateFunction,
    variables: BTreeMap<String, String>,
    build: BuildPlan,
}

/// What [`plan`] decided: the template functions to build, and how every function runs.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// The template the binaries come from (for messages).
    template: PathBuf,
    pub(crate) binaries: Vec<Planned>,
    /// The definition's functions, in process or not (in name order).
    pub(crate) runs: Vec<FunctionRun>,
}

/// Decides, for every function the definition invokes, what runs it; reads and checks
/// each template function (everything that can be refused is refused here, before
/// anything is built or bound).
pub(crate) async fn plan(config: &StackConfig, definition: &ApiDefinition) -> Result<Plan, Error> {
    let template = config
        .template
        .as_deref()
        .map(Template::from_file)
        .transpose()?;
    let overrides = overrides(config, template.as_ref())?;
    let built_in = |name: &str| name == AUTHORIZER_FUNCTION || name == HELLO_FUNCTION;
    let mut plan = Plan::default();
    for name in definition.functions() {
        if config.functions.get(&name).is_some() {
            plan.runs.push(FunctionRun {
                name,
                how: "in process (registered handler)".into(),
            });
            continue;
        }
        if built_in(&name) {
            let how = built_in_run(&config.lambdas, &name);
            plan.runs.push(FunctionRun { name, how });
            continue;
        }
        let template = match &template {
            Some(template) if template.function_names().contains(&name) => template,
            _ => return Err(unknown_function(config, &name)),
        };
        let function = template.function(&name)?;
        let environment = template.environment(&function, &overrides)?;
        if !environment.ignored.is_empty() {
            tracing::warn!(
                target: "local::template",
                "the --env-vars file sets {} for {name}, which its Environment in {} does not declare: ignored, as sam local ignores them",
                environment.ignored.join(", "),
                template.path().display()
            );
        }
        let cannot_run = |error: lambda_runners::Error| {
            Error::Api(apigw::Error::TemplateFunction {
                path: template.path().to_owned(),
                function: name.clone(),
                detail: error.to_string(),
            })
        };
        let build = BuildPlan::for_code_dir(
            &cargo_build::cargo(),
            &function.code_dir,
            function.binary.as_deref(),
        )
        .await
        .map_err(cannot_run)?;
        plan.runs.push(FunctionRun {
            name: name.clone(),
            how: binary_run(&config.lambdas, &function, &build, template.path()),
        });
        plan.binaries.push(Planned {
            function,
            variables: environment.variables,
            build,
        });
    }
    plan.runs.sort_by(|a, b| a.name.cmp(&b.name));
    plan.template = config.template.clone().unwrap_or_default();
    Ok(plan)
}

/// Builds every planned binary, in turn (cargo builds one thing at a time in a target
/// directory anyway), saying so first: the first build of a crate takes a while.
pub(crate) async fn build(plan: &Plan) -> Result<Vec<PathBuf>, Error> {
    let cargo = cargo_build::cargo();
    let mut built = Vec::with_capacity(plan.binaries.len());
    for planned in &plan.binaries {
        tracing::info!(
            target: "local::template",
            "building {} (cargo {})",
            planned.function.name,
            planned.build.args().join(" ")
        );
        let binary = planned.build.build(&cargo).await.map_err(|error| {
            Error::Api(apigw::Error::TemplateFunction {
                path: plan.template.clone(),
                function: planned.function.name.clone(),
                detail: error.to_string(),
            })
        })?;
        built.push(binary);
    }
    Ok(built)
}

/// Starts the built binaries, each with its template's environment and timeout.
pub(crate) async fn start(
    plan: &Plan,
    built: &[PathBuf],
    lambdas: &LambdaMode,
) -> Result<BTreeMap<String, Arc<dyn LambdaFunction>>, Error> {
    let mut started = BTreeMap::new();
    for (planned, binary) in plan.binaries.iter().zip(built) {
        let function = &planned.function;
        let memory = function.memory_size_mb.to_string();
        let timeout_seconds = function.timeout.as_secs().to_string();
        let mut env: Vec<(&str, &str)> = planned
            .variables
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // What Lambda sets from the function's configuration.
        env.extend([
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.as_str()),
            ("_HANDLER", function.handler.as_str()),
            ("AWS_DEFAULT_REGION", apigw::gateway::REGION),
        ]);
        let runner: Arc<dyn LambdaFunction> = match lambdas {
            LambdaMode::Rie { rie, .. } => {
                // The emulator enforces the timeout it is given this way (as sam local
                // gives it), and names the function.
                env.extend([
                    ("AWS_LAMBDA_FUNCTION_TIMEOUT", timeout_seconds.as_str()),
                    ("AWS_LAMBDA_FUNCTION_NAME", function.name.as_str()),
                ]);
                Arc::new(
                    RieFunction::start(rie, binary, &env, function.timeout)
                        .await
                        .map_err(|source| Error::Spawn {
                            path: rie.clone(),
                            source,
                        })?,
                )
            }
            _ => Arc::new(
                ProcessFunction::start(binary, &function.name, &env, function.timeout)
                    .await
                    .map_err(|source| Error::Spawn {
                        path: binary.clone(),
                        source,
                    })?,
            ),
        };
        started.insert(function.name.clone(), runner);
    }
    Ok(started)
}

/// `--parameter-overrides` checked against the template, and the `--env-vars` file read.
fn overrides(config: &StackConfig, template: Option<&Template>) -> Result<Overrides, Error> {
    let needs_template = |what: &str| Error::InvalidSetting {
        name: "template",
        detail: format!(
            "{what} applies to a template's functions: name the template with --template"
        ),
    };
    if let Some(template) = template {
        template.check_parameter_overrides(&config.parameter_overrides)?;
    } else if !config.parameter_overrides.is_empty() {
        return Err(needs_template("--parameter-overrides"));
    }
    let env_vars = match &config.env_vars {
        Some(_) if template.is_none() => return Err(needs_template("--env-vars")),
        Some(path) => EnvVars::from_file(path)?,
        None => EnvVars::default(),
    };
    Ok(Overrides {
        parameters: config.parameter_overrides.clone(),
        env_vars,
    })
}

fn built_in_run(lambdas: &LambdaMode, name: &str) -> String {
    let binary = |authorizer: &Path, hello: &Path| {
        if name == AUTHORIZER_FUNCTION {
            authorizer.display().to_string()
        } else {
            hello.display().to_string()
        }
    };
    match lambdas {
        LambdaMode::InProcess => "in process".into(),
        LambdaMode::Custom { .. } => "in process (custom)".into(),
        LambdaMode::Binaries { authorizer, hello } => format!(
            "binary {} behind a Lambda Runtime API",
            binary(authorizer, hello)
        ),
        LambdaMode::Rie {
            authorizer, hello, ..
        } => format!(
            "binary {} under AWS's Runtime Interface Emulator",
            binary(authorizer, hello)
        ),
    }
}

fn binary_run(
    lambdas: &LambdaMode,
    function: &TemplateFunction,
    build: &BuildPlan,
    template: &Path,
) -> String {
    let runner = match lambdas {
        LambdaMode::Rie { .. } => "under AWS's Runtime Interface Emulator",
        _ => "behind a Lambda Runtime API",
    };
    let host = match std::env::consts::ARCH {
        "aarch64" => Architecture::Arm64,
        _ => Architecture::X86_64,
    };
    let architecture = if function.architecture == host {
        String::new()
    } else {
        format!(
            "; {} in the template, built for this {host} machine",
            function.architecture
        )
    };
    format!(
        "binary {} {runner} (from {}: cargo {}; timeout {} s, {} MB{architecture})",
        build.output.display(),
        template.display(),
        build.args().join(" "),
        function.timeout.as_secs(),
        function.memory_size_mb,
    )
}

/// A function the definition invokes that nothing runs: one sentence naming it.
fn unknown_function(config: &StackConfig, name: &str) -> Error {
    let registered: Vec<&str> = [AUTHORIZER_FUNCTION, HELLO_FUNCTION]
        .into_iter()
        .chain(config.functions.names())
        .collect();
    Error::UnknownFunction(match &config.template {
        Some(path) => format!(
            "the API definition invokes {name}, which is neither a registered handler ({}) nor a function of {}",
            registered.join(", "),
            path.display()
        ),
        None => format!(
            "the API definition invokes {name}, which is not a registered handler ({}) and no template is named to build it from; name the template that declares it (--template, StackConfig::template)",
            registered.join(", ")
        ),
    })
}
