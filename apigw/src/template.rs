//! The functions of a SAM/CloudFormation template (`template.yaml`), read as `sam build`
//! and `sam local` read them: what an integration or authorizer URI's `${XFunction.Arn}`
//! names, how it is built (CodeUri, `Metadata.BuildMethod: rust-cargolambda`,
//! `BuildProperties.Binary`), and how it runs (Runtime, Handler, Architectures, Timeout,
//! MemorySize, `Environment.Variables`), with `Globals.Function` merged in.
//!
//! Everything here is pure: no file is built or run (`local` does that, with
//! `lambda-runners`). What the local stack cannot run is refused with one sentence naming
//! the function and the property, never run differently.
//!
//! Intrinsic functions are resolved only where their value is local and known: `Ref` to a
//! template parameter (its override, else its `Default`) or to a pseudo parameter (the
//! emulator's region, account, partition and URL suffix: the values in the gateway's ARNs),
//! and `Fn::Sub` over those. Anything naming a resource (`Fn::GetAtt`, `${Bucket.Arn}`) is
//! refused: there is no deployed resource to take the value from. Both the long form
//! (`Ref:`, `Fn::Sub:`) and the short form (`!Ref`, `!Sub`) are read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use serde_json::{Map, Value};

use crate::Error;
use crate::gateway::{ACCOUNT_ID, REGION};

/// `AWS::Partition` in the emulator (the gateway's method ARNs start `arn:aws:`).
pub const PARTITION: &str = "aws";
/// `AWS::URLSuffix` in the emulator: the commercial regions' (`us-east-1`).
pub const URL_SUFFIX: &str = "amazonaws.com";

/// Lambda's default timeout, when neither the function nor `Globals` sets one
/// ("Timeout ... Default: 3", AWS::Serverless::Function in the SAM specification).
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 3;
/// Lambda's default memory ("MemorySize ... Default: 128").
pub const DEFAULT_MEMORY_SIZE_MB: u64 = 128;
/// Lambda's timeout ceiling: 900 seconds (15 minutes).
pub const MAX_TIMEOUT_SECONDS: u64 = 900;
/// Lambda's memory range: 128 to 10,240 MB.
pub const MEMORY_SIZE_RANGE_MB: std::ops::RangeInclusive<u64> = 128..=10_240;

/// The runtimes a Rust `bootstrap` runs on (the custom runtimes of Amazon Linux 2023 and 2,
/// what cargo-lambda builds for).
pub const RUST_RUNTIMES: [&str; 2] = ["provided.al2023", "provided.al2"];

/// The variables Lambda sets itself and refuses in a function's configuration ("Defined
/// runtime environment variables", configuration-envvars.html: "Lambda ... reserved
/// keys").
pub const RESERVED_VARIABLES: [&str; 18] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// The SAM build method whose binaries the local stack builds with cargo.
pub const RUST_BUILD_METHOD: &str = "rust-cargolambda";

/// A template, parsed once.
#[derive(Debug, Clone)]
pub struct Template {
    path: PathBuf,
    parameters: BTreeMap<String, Parameter>,
    globals_function: Option<Value>,
    resources: BTreeMap<String, Value>,
}

/// A template parameter (`Parameters:`).
#[derive(Debug, Clone, PartialEq)]
struct Parameter {
    kind: String,
    default: Option<Value>,
    allowed_values: Option<Vec<String>>,
    allowed_pattern: Option<String>,
}

/// The CPU architecture a function is declared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    X86_64,
    Arm64,
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        })
    }
}

/// A function of the template as the local stack runs it: `Globals.Function` merged,
/// every property checked. Its environment is resolved separately
/// ([`Template::environment`]), against the overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateFunction {
    /// The logical ID (`AllowDenyAuthorizerFunction`).
    pub name: String,
    /// `CodeUri`, relative to the template's directory, as `sam build` resolves it: the
    /// directory whose `Cargo.toml` cargo-lambda builds in.
    pub code_dir: PathBuf,
    /// `Metadata.BuildProperties.Binary`: which `[[bin]]` to build.
    pub binary: Option<String>,
    pub runtime: String,
    /// Lambda hands it to a custom runtime as `_HANDLER`.
    pub handler: String,
    pub architecture: Architecture,
    pub timeout: Duration,
    pub memory_size_mb: u64,
    /// `Environment.Variables`, unresolved (intrinsics kept).
    pub variables: BTreeMap<String, Value>,
}

/// Values the user supplies in place of the template's, in SAM CLI's own forms:
/// `--parameter-overrides Key=Value` and the `--env-vars` file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Template parameters by name (`--parameter-overrides`).
    pub parameters: BTreeMap<String, String>,
    /// Environment variables (`--env-vars`).
    pub env_vars: EnvVars,
}

/// An `--env-vars` file, in the format of `sam local invoke/start-api --env-vars`
/// ("Environment variables file", serverless-sam-cli-using-invoke.html):
/// `{"Parameters": {"VAR": "value"}, "MyFunction": {"VAR": "value"}}`. The `Parameters`
/// object applies to every function (it holds *environment variables*, not template
/// parameters, despite its name); a function's own object wins over it. As in SAM CLI,
/// only variables the template declares for the function are overridden: the file
/// cannot add one (aws/aws-sam-cli issue 1553: "Env Vars must be defined in the
/// template.yaml's function configuration, otherwise there is nothing to override").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvVars {
    /// The `Parameters` object: for every function.
    pub all: BTreeMap<String, String>,
    /// The other objects, by function logical ID.
    pub functions: BTreeMap<String, BTreeMap<String, String>>,
}

/// A function's environment, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// What the function sees.
    pub variables: BTreeMap<String, String>,
    /// Variables the `--env-vars` file sets for this function that its template
    /// declares not: ignored, as SAM CLI ignores them (for a warning).
    pub ignored: Vec<String>,
}

impl Template {
    /// Reads and parses `path`.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Template {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses `text`, read from `path` (messages name it; `CodeUri` is relative to its
    /// directory).
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let fail = |detail: String| Error::Template {
            path: path.to_owned(),
            detail,
        };
        let yaml: serde_norway::Value =
            serde_norway::from_str(text).map_err(|e| fail(e.to_string()))?;
        let Value::Object(mut root) = to_json(yaml) else {
            return Err(fail("the template is not a mapping".into()));
        };
        let resources = match root.remove("Resources") {
            Some(Value::Object(resources)) => resources.into_iter().collect(),
            None => BTreeMap::new(),
            Some(_) => return Err(fail("Resources is not a mapping".into())),
        };
        let parameters = match root.remove("Parameters") {
            Some(Value::Object(parameters)) => parameters
                .into_iter()
                .map(|(name, p)| Ok((name.clone(), parameter(&name, &p).map_err(&fail)?)))
                .collect::<Result<_, Error>>()?,
            None => BTreeMap::new(),
            Some(_) => return Err(fail("Parameters is not a mapping".into())),
        };
        let globals_function = root.get("Globals").and_then(|g| g.get("Function")).cloned();
        Ok(Template {
            path: path.to_owned(),
            parameters,
            globals_function,
            resources,
        })
    }

    /// The file the template was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The logical IDs of the Lambda functions (`AWS::Serverless::Function`,
    /// `AWS::Lambda::Function`) the template declares.
    pub fn function_names(&self) -> BTreeSet<String> {
        self.resources
            .iter()
            .filter(|(_, r)| {
                matches!(
                    r.get("Type").and_then(Value::as_str),
                    Some("AWS::Serverless::Function" | "AWS::Lambda::Function")
                )
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The function `name` as the local stack runs it, or why it cannot.
    pub fn function(&self, name: &str) -> Result<TemplateFunction, Error> {
        let refuse = |detail: String| Error::TemplateFunction {
            path: self.path.clone(),
            function: name.to_owned(),
            detail,
        };
        let resource = self
            .resources
            .get(name)
            .ok_or_else(|| refuse("the template declares no resource of that name".into()))?;
        match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::Serverless::Function") => {}
            Some("AWS::Lambda::Function") => {
                return Err(refuse(
                    "it is an AWS::Lambda::Function, whose Code the local stack does not build; declare it as an AWS::Serverless::Function with CodeUri and Metadata BuildMethod: rust-cargolambda".into(),
                ));
            }
            other => {
                return Err(refuse(format!(
                    "its Type is {}, not a Lambda function",
                    other.unwrap_or("missing")
                )));
            }
        }
        let properties = merge_globals(
            self.globals_function.as_ref(),
            resource.get("Properties").unwrap_or(&Value::Null),
        );
        function_from(
            name,
            &properties,
            resource.get("Metadata"),
            self.path.parent().unwrap_or(Path::new("")),
        )
        .map_err(refuse)
    }

    /// `function`'s environment: each variable of its template, unless the `--env-vars`
    /// file sets it (the function's object over `Parameters`), resolved against the
    /// parameter overrides and defaults.
    pub fn environment(
        &self,
        function: &TemplateFunction,
        overrides: &Overrides,
    ) -> Result<Environment, Error> {
        let refuse = |detail: String| Error::TemplateFunction {
            path: self.path.clone(),
            function: function.name.clone(),
            detail,
        };
        let own = overrides.env_vars.functions.get(&function.name);
        let mut variables = BTreeMap::new();
        for (name, value) in &function.variables {
            let overridden = own
                .and_then(|o| o.get(name))
                .or_else(|| overrides.env_vars.all.get(name));
            let value = match overridden {
                Some(value) => value.clone(),
                None => self
                    .resolve(value, &overrides.parameters)
                    .map_err(|detail| {
                        refuse(format!("its Environment variable {name} {detail}"))
                    })?,
            };
            variables.insert(name.clone(), value);
        }
        let ignored = own
            .into_iter()
            .flat_map(|o| o.keys())
            .filter(|name| !function.variables.contains_key(*name))
            .cloned()
            .collect();
        Ok(Environment { variables, ignored })
    }

    /// Every `--parameter-overrides` name must be a parameter of the template, and every
    /// value one it allows (CloudFormation refuses the stack otherwise).
    pub fn check_parameter_overrides(
        &self,
        overrides: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        for (name, value) in overrides {
            let fail = |detail: String| Error::Overrides {
                source_name: "--parameter-overrides".into(),
                detail,
            };
            let parameter = self.parameters.get(name).ok_or_else(|| {
                fail(format!(
                    "{name} is not a parameter of {} (its parameters: {})",
                    self.path.display(),
                    list(self.parameters.keys())
                ))
            })?;
            check_allowed(name, parameter, value).map_err(fail)?;
        }
        Ok(())
    }

    /// A variable's template value as a string, or why it has none here (a phrase that
    /// follows "its Environment variable X").
    fn resolve(
        &self,
        value: &Value,
        parameters: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            // As SAM CLI writes them into the environment.
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Null => Err("has no value".into()),
            Value::Array(_) => Err("is a list, which an environment variable cannot hold".into()),
            Value::Object(map) => {
                let Some((function, argument)) = single_intrinsic(map) else {
                    return Err("is a mapping, which an environment variable cannot hold".into());
                };
                match function {
                    "Ref" => match argument {
                        Value::String(name) => self.reference(name, parameters),
                        _ => Err("has a Ref whose argument is not a name".into()),
                    },
                    "Fn::Sub" => self.substitute(argument, parameters),
                    other => Err(format!(
                        "uses {other}, which the local stack does not resolve (it resolves Ref and Fn::Sub over parameters and pseudo parameters)"
                    )),
                }
            }
        }
    }

    /// The value of `Ref: name`: a parameter or a pseudo parameter.
    fn reference(
        &self,
        name: &str,
        parameters: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        if let Some(value) = pseudo_parameter(name) {
            return value;
        }
        let Some(parameter) = self.parameters.get(name) else {
            return Err(if self.resources.contains_key(name) {
                format!("refers to the resource {name}, which is not deployed locally")
            } else {
                format!(
                    "refers to {name}, which is neither a parameter of the template nor a pseudo parameter"
                )
            });
        };
        if parameter.kind.starts_with("List<") || parameter.kind == "CommaDelimitedList" {
            return Err(format!(
                "refers to the parameter {name}, a {}, which an environment variable cannot hold",
                parameter.kind
            ));
        }
        if let Some(value) = parameters.get(name) {
            return Ok(value.clone());
        }
        match &parameter.default {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(_) => Err(format!(
                "refers to the parameter {name}, whose Default is not a single value"
            )),
            None => Err(format!(
                "refers to the parameter {name}, which has no Default: give it a value with --parameter-overrides {name}=VALUE"
            )),
        }
    }

    /// `Fn::Sub`: a string, or `[string, {name: value}]`.
    fn substitute(
        &self,
        argument: &Value,
        parameters: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        let (text, own) = match argument {
            Value::String(text) => (text.as_str(), None),
            Value::Array(items) => match items.as_slice() {
                [Value::String(text), Value::Object(vars)] => (text.as_str(), Some(vars)),
                _ => {
                    return Err(
                        "has an Fn::Sub that is neither a string nor [string, mapping]".into(),
                    );
                }
            },
            _ => {
                return Err("has an Fn::Sub that is neither a string nor [string, mapping]".into());
            }
        };
        sub(text, |name| match own.and_then(|vars| vars.get(name)) {
            Some(value) => self.resolve(value, parameters),
            None if name.contains('.') => Err(format!(
                "has an Fn::Sub naming ${{{name}}}, an attribute of a resource that is not deployed locally"
            )),
            None => self.reference(name, parameters),
        })
    }
}

impl EnvVars {
    /// Parses an `--env-vars` file's text (`source_name` names it in messages). Values
    /// may be strings, numbers or booleans (written as SAM CLI writes them: `1`, `true`).
    pub fn parse(text: &str, source_name: &str) -> Result<Self, Error> {
        let fail = |detail: String| Error::Overrides {
            source_name: source_name.to_owned(),
            detail,
        };
        let root: Value = serde_json::from_str(text).map_err(|e| fail(e.to_string()))?;
        let Value::Object(root) = root else {
            return Err(fail(r#"expected an object such as {"Parameters": {"VAR": "value"}, "MyFunction": {"VAR": "value"}}"#.into()));
        };
        let mut env_vars = EnvVars::default();
        for (key, object) in root {
            let Value::Object(object) = object else {
                return Err(fail(format!(
                    "{key} must be an object of variable names and values"
                )));
            };
            let mut variables = BTreeMap::new();
            for (name, value) in object {
                let value = match value {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(fail(format!(
                            "{key}.{name} must be a string, a number or a boolean"
                        )));
                    }
                };
                variables.insert(name, value);
            }
            if key == "Parameters" {
                env_vars.all = variables;
            } else {
                env_vars.functions.insert(key, variables);
            }
        }
        Ok(env_vars)
    }

    /// Reads and parses the file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Overrides {
            source_name: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

/// One `--parameter-overrides` item, `Key=Value` (SAM CLI's shorthand; the value may be
/// empty, and may itself contain `=`).
pub fn parse_parameter_override(item: &str) -> Result<(String, String), String> {
    match item.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("{item:?} is not Key=Value")),
    }
}

/// `Globals.Function` merged into a function's `Properties`, as the SAM translator merges
/// them ("Overridable properties" in the Globals section of the SAM specification,
/// sam-specification-template-anatomy-globals.html): a value the resource sets replaces a
/// primitive of Globals; mappings merge key by key (the resource's keys win); lists are
/// concatenated, Globals' items first. An intrinsic function (`{"Ref": ...}`,
/// `{"Fn::Sub": ...}`) counts as a primitive, and where the two differ in kind the
/// resource's value wins.
pub fn merge_globals(globals: Option<&Value>, properties: &Value) -> Value {
    match globals {
        None | Some(Value::Null) => properties.clone(),
        Some(globals) => merge(globals, properties),
    }
}

fn merge(global: &Value, local: &Value) -> Value {
    match (global, local) {
        (_, Value::Null) => global.clone(),
        (Value::Object(g), Value::Object(l))
            if single_intrinsic(g).is_none() && single_intrinsic(l).is_none() =>
        {
            let mut merged = g.clone();
            for (key, value) in l {
                let value = match g.get(key) {
                    Some(global) => merge(global, value),
                    None => value.clone(),
                };
                merged.insert(key.clone(), value);
            }
            Value::Object(merged)
        }
        (Value::Array(g), Value::Array(l)) => Value::Array(g.iter().chain(l).cloned().collect()),
        _ => local.clone(),
    }
}

/// `Some((name, argument))` when `map` is one intrinsic function call: a single key, `Ref`
/// or `Fn::*` (how the SAM translator tells an intrinsic from a mapping).
fn single_intrinsic(map: &Map<String, Value>) -> Option<(&str, &Value)> {
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some((key, value)), None) if key == "Ref" || key.starts_with("Fn::") => {
            Some((key.as_str(), value))
        }
        _ => None,
    }
}

/// The pseudo parameters with a local value: the ones the gateway's ARNs use.
fn pseudo_parameter(name: &str) -> Option<Result<String, String>> {
    let value = match name {
        "AWS::Region" => REGION,
        "AWS::AccountId" => ACCOUNT_ID,
        "AWS::Partition" => PARTITION,
        "AWS::URLSuffix" => URL_SUFFIX,
        other if other.starts_with("AWS::") => {
            return Some(Err(format!(
                "refers to the pseudo parameter {other}, which has no local value (the local stack has AWS::Region, AWS::AccountId, AWS::Partition and AWS::URLSuffix)"
            )));
        }
        _ => return None,
    };
    Some(Ok(value.to_owned()))
}

/// `Fn::Sub`'s template language: `${Name}` is replaced by `lookup(Name)`, `${!Text}` is
/// the literal `${Text}`; everything else is kept. Hand-written: no crate implements
/// CloudFormation's substitution, and it is this small.
fn sub(text: &str, lookup: impl Fn(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("has an Fn::Sub with an unclosed ${{ in {text:?}"));
        };
        let name = &after[..end];
        match name.strip_prefix('!') {
            Some(literal) => {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            }
            None => out.push_str(&lookup(name.trim())?),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn parameter(name: &str, value: &Value) -> Result<Parameter, String> {
    let Value::Object(map) = value else {
        return Err(format!("the parameter {name} is not a mapping"));
    };
    let kind = match map.get("Type") {
        Some(Value::String(kind)) => kind.clone(),
        _ => return Err(format!("the parameter {name} has no Type")),
    };
    let allowed_values = match map.get("AllowedValues") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| {
                    scalar(v).ok_or_else(|| {
                        format!("the parameter {name}'s AllowedValues are not all single values")
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => {
            return Err(format!(
                "the parameter {name}'s AllowedValues is not a list"
            ));
        }
    };
    Ok(Parameter {
        kind,
        default: map.get("Default").cloned(),
        allowed_values,
        allowed_pattern: map
            .get("AllowedPattern")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// CloudFormation's checks of a value given for a parameter.
fn check_allowed(name: &str, parameter: &Parameter, value: &str) -> Result<(), String> {
    if let Some(allowed) = &parameter.allowed_values
        && !allowed.iter().any(|a| a == value)
    {
        return Err(format!(
            "{name}={value} is not one of the parameter's AllowedValues ({})",
            allowed.join(", ")
        ));
    }
    if let Some(pattern) = &parameter.allowed_pattern {
        // AllowedPattern must match the whole value.
        let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            format!("the parameter {name}'s AllowedPattern {pattern:?} is not a regular expression the local stack reads: {e}")
        })?;
        if !regex.is_match(value) {
            return Err(format!(
                "{name}={value} does not match the parameter's AllowedPattern {pattern}"
            ));
        }
    }
    Ok(())
}

/// The checked properties of a function, or why it cannot run (the phrase after
/// "cannot run X of template.yaml: ").
fn function_from(
    name: &str,
    properties: &Value,
    metadata: Option<&Value>,
    template_dir: &Path,
) -> Result<TemplateFunction, String> {
    let get = |property: &str| properties.get(property).filter(|v| !v.is_null());
    if get("PackageType").and_then(Value::as_str) == Some("Image") || get("ImageUri").is_some() {
        return Err(
            "its PackageType is Image, and the local stack runs Zip functions built from Rust only"
                .into(),
        );
    }
    if get("InlineCode").is_some() {
        return Err(
            "it has InlineCode, and the local stack runs functions built from Rust only".into(),
        );
    }
    let text = |property: &str| -> Result<Option<String>, String> {
        match get(property) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Object(map)) if single_intrinsic(map).is_some() => Err(format!(
                "its {property} uses an intrinsic function, which the local stack does not resolve there"
            )),
            Some(_) => Err(format!("its {property} is not a string")),
        }
    };
    let runtime = text("Runtime")?.ok_or("it has no Runtime")?;
    if !RUST_RUNTIMES.contains(&runtime.as_str()) {
        return Err(format!(
            "its Runtime is {runtime}, and the local stack runs only Rust functions on {}",
            RUST_RUNTIMES.join(" or ")
        ));
    }
    let handler = text("Handler")?.ok_or("it has no Handler (bootstrap for a Rust function)")?;
    let build_method = metadata
        .and_then(|m| m.get("BuildMethod"))
        .and_then(Value::as_str);
    if build_method != Some(RUST_BUILD_METHOD) {
        return Err(match build_method {
            Some(other) => format!(
                "its Metadata BuildMethod is {other}, and the local stack builds only {RUST_BUILD_METHOD} functions"
            ),
            None => format!(
                "it has no Metadata BuildMethod, so the local stack cannot tell how to build it (it builds {RUST_BUILD_METHOD} functions)"
            ),
        });
    }
    let binary = match metadata
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|p| p.get("Binary"))
    {
        None | Some(Value::Null) => None,
        Some(Value::String(binary)) if !binary.is_empty() => Some(binary.clone()),
        Some(_) => return Err("its Metadata BuildProperties.Binary is not a binary's name".into()),
    };
    let code_uri = match get("CodeUri") {
        None => return Err("it has no CodeUri (the directory of its Cargo.toml)".into()),
        Some(Value::String(uri)) if uri.starts_with("s3://") => {
            return Err(format!(
                "its CodeUri is {uri}, an S3 object, and the local stack builds from a local directory only"
            ));
        }
        Some(Value::String(uri)) => uri.clone(),
        Some(_) => {
            return Err("its CodeUri is not a local directory (an S3 location or an intrinsic function), and the local stack builds from a local directory only".into());
        }
    };
    let architecture = match get("Architectures") {
        None => Architecture::X86_64,
        Some(Value::Array(items)) => match items.as_slice() {
            [Value::String(a)] if a == "x86_64" => Architecture::X86_64,
            [Value::String(a)] if a == "arm64" => Architecture::Arm64,
            [other] => {
                return Err(format!(
                    "its Architectures is {other}, neither x86_64 nor arm64"
                ));
            }
            items => {
                return Err(format!(
                    "its Architectures lists {} entries once Globals are merged (SAM appends a function's list to the Globals list), and Lambda takes exactly one",
                    items.len()
                ));
            }
        },
        Some(_) => return Err("its Architectures is not a list".into()),
    };
    let timeout = integer(get("Timeout"), "Timeout", DEFAULT_TIMEOUT_SECONDS)?;
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&timeout) {
        return Err(format!(
            "its Timeout is {timeout} s, and Lambda's is 1 to {MAX_TIMEOUT_SECONDS} s"
        ));
    }
    let memory_size_mb = integer(get("MemorySize"), "MemorySize", DEFAULT_MEMORY_SIZE_MB)?;
    if !MEMORY_SIZE_RANGE_MB.contains(&memory_size_mb) {
        return Err(format!(
            "its MemorySize is {memory_size_mb} MB, and Lambda's is {} to {} MB",
            MEMORY_SIZE_RANGE_MB.start(),
            MEMORY_SIZE_RANGE_MB.end()
        ));
    }
    let variables = match get("Environment") {
        None => BTreeMap::new(),
        Some(environment) => match environment.get("Variables") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(variables)) => variables.clone().into_iter().collect(),
            Some(_) => return Err("its Environment Variables is not a mapping".into()),
        },
    };
    if let Some(reserved) = variables
        .keys()
        .find(|name| RESERVED_VARIABLES.contains(&name.as_str()))
    {
        return Err(format!(
            "its Environment variable {reserved} is one Lambda reserves and refuses to set"
        ));
    }
    Ok(TemplateFunction {
        name: name.to_owned(),
        code_dir: template_dir.join(code_uri),
        binary,
        runtime,
        handler,
        architecture,
        timeout: Duration::from_secs(timeout),
        memory_size_mb,
        variables,
    })
}

/// A whole number of seconds or megabytes (CloudFormation also takes it as a string).
fn integer(value: Option<&Value>, property: &str, default: u64) -> Result<u64, String> {
    match value {
        None => Ok(default),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("its {property} is {n}, not a whole number")),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| format!("its {property} is {s:?}, not a whole number")),
        Some(Value::Object(map)) if single_intrinsic(map).is_some() => Err(format!(
            "its {property} uses an intrinsic function, which the local stack does not resolve there"
        )),
        Some(other) => Err(format!("its {property} is {other}, not a whole number")),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// YAML as JSON, with CloudFormation's short-form tags in their long form: `!Ref X` is
/// `{"Ref": "X"}`, `!Sub s` is `{"Fn::Sub": s}`, `!GetAtt A.B` is `{"Fn::GetAtt": "A.B"}`.
fn to_json(yaml: serde_norway::Value) -> Value {
    use serde_norway::Value as Yaml;
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                n.as_f64().map_or(Value::Null, Value::from)
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let key = if tag == "Ref" {
                "Ref".to_owned()
            } else {
                format!("Fn::{tag}")
            };
            Value::Object(Map::from_iter([(key, to_json(tagged.value))]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(text: &str) -> Template {
        Template::parse(text, Path::new("dir/template.yaml")).expect("parses")
    }

    fn refusal(text: &str, function: &str) -> String {
        template(text).function(function).unwrap_err().to_string()
    }

    const RUST_FUNCTION: &str = "
Resources:
  F:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      BuildProperties:
        Binary: f
    Properties:
      CodeUri: ../crate
      Handler: bootstrap
      Runtime: provided.al2023
";

    #[test]
    fn globals_primitives_are_replaced_by_the_functions_own() {
        let merged = merge_globals(
            Some(&json!({"Timeout": 5, "Runtime": "provided.al2023"})),
            &json!({"Timeout": 10}),
        );
        assert_eq!(merged, json!({"Timeout": 10, "Runtime": "provided.al2023"}));
    }

    #[test]
    fn globals_mappings_merge_key_by_key_with_the_functions_keys_winning() {
        // The SAM specification's own example: TABLE_NAME from Globals, MESSAGE added.
        let merged = merge_globals(
            Some(
                &json!({"Environment": {"Variables": {"TABLE_NAME": "data-table", "STAGE": "prod"}}}),
            ),
            &json!({"Environment": {"Variables": {"MESSAGE": "Hello From SAM", "STAGE": "dev"}}}),
        );
        assert_eq!(
            merged,
            json!({"Environment": {"Variables": {"TABLE_NAME": "data-table", "STAGE": "dev", "MESSAGE": "Hello From SAM"}}})
        );
    }

    #[test]
    fn globals_lists_are_concatenated_globals_first() {
        // The specification's example: SecurityGroupIds [sg-123, sg-456] in Globals and
        // [sg-first] in the function give [sg-123, sg-456, sg-first].
        let merged = merge_globals(
            Some(&json!({"VpcConfig": {"SecurityGroupIds": ["sg-123", "sg-456"]}})),
            &json!({"VpcConfig": {"SecurityGroupIds": ["sg-first"]}}),
        );
        assert_eq!(
            merged,
            json!({"VpcConfig": {"SecurityGroupIds": ["sg-123", "sg-456", "sg-first"]}})
        );
    }

    #[test]
    fn an_intrinsic_is_a_primitive_not_a_mapping_to_merge_into() {
        let merged = merge_globals(
            Some(&json!({"Environment": {"Variables": {"ID": {"Ref": "A"}}}})),
            &json!({"Environment": {"Variables": {"ID": {"Fn::Sub": "${B}"}}}}),
        );
        assert_eq!(
            merged,
            json!({"Environment": {"Variables": {"ID": {"Fn::Sub": "${B}"}}}})
        );
    }

    #[test]
    fn a_value_of_another_kind_replaces_the_globals_one() {
        let merged = merge_globals(Some(&json!({"Layers": ["a"]})), &json!({"Layers": "b"}));
        assert_eq!(merged, json!({"Layers": "b"}));
    }

    #[test]
    fn the_root_templates_functions_take_their_settings_from_globals() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let template = Template::from_file(&path).unwrap();
        let authorizer = template.function("AuthorizerFunction").unwrap();
        assert_eq!(
            (
                authorizer.runtime.as_str(),
                authorizer.handler.as_str(),
                authorizer.architecture,
                authorizer.timeout,
                authorizer.memory_size_mb,
                authorizer.binary.as_deref(),
            ),
            (
                "provided.al2023",
                "bootstrap",
                Architecture::Arm64,
                Duration::from_secs(5),
                128,
                Some("authorizer")
            )
        );
        assert_eq!(authorizer.code_dir, path.parent().unwrap().join("."));
        assert_eq!(
            template.function_names(),
            BTreeSet::from(["AuthorizerFunction".to_owned(), "HelloFunction".to_owned()])
        );
    }

    #[test]
    fn a_function_without_timeout_or_memory_gets_lambdas_defaults() {
        let f = template(RUST_FUNCTION).function("F").unwrap();
        assert_eq!(
            (f.timeout, f.memory_size_mb, f.architecture, f.code_dir),
            (
                Duration::from_secs(3),
                128,
                Architecture::X86_64,
                PathBuf::from("dir/../crate")
            )
        );
    }

    #[test]
    fn architectures_appended_by_globals_are_refused() {
        let text = format!(
            "Globals:\n  Function:\n    Architectures: [arm64]\n{}      Architectures: [arm64]\n",
            RUST_FUNCTION
        );
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: its Architectures lists 2 entries once Globals are merged (SAM appends a function's list to the Globals list), and Lambda takes exactly one"
        );
    }

    #[test]
    fn another_runtime_is_refused_naming_it() {
        let text = RUST_FUNCTION.replace("provided.al2023", "python3.12");
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: its Runtime is python3.12, and the local stack runs only Rust functions on provided.al2023 or provided.al2"
        );
    }

    #[test]
    fn an_image_function_is_refused() {
        let text = format!("{RUST_FUNCTION}      PackageType: Image\n");
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: its PackageType is Image, and the local stack runs Zip functions built from Rust only"
        );
    }

    #[test]
    fn another_build_method_or_none_is_refused() {
        let text = RUST_FUNCTION.replace("rust-cargolambda", "makefile");
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: its Metadata BuildMethod is makefile, and the local stack builds only rust-cargolambda functions"
        );
        let text = RUST_FUNCTION.replace("    Metadata:\n      BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: f\n", "");
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: it has no Metadata BuildMethod, so the local stack cannot tell how to build it (it builds rust-cargolambda functions)"
        );
    }

    #[test]
    fn a_code_uri_in_s3_or_an_intrinsic_is_refused() {
        let text = RUST_FUNCTION.replace("../crate", "s3://bucket/code.zip");
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: its CodeUri is s3://bucket/code.zip, an S3 object, and the local stack builds from a local directory only"
        );
        let text = RUST_FUNCTION.replace("CodeUri: ../crate", "CodeUri: !Ref Code");
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: its CodeUri is not a local directory (an S3 location or an intrinsic function), and the local stack builds from a local directory only"
        );
    }

    #[test]
    fn a_timeout_past_lambdas_ceiling_is_refused() {
        let text = format!("{RUST_FUNCTION}      Timeout: 901\n");
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: its Timeout is 901 s, and Lambda's is 1 to 900 s"
        );
    }

    #[test]
    fn a_variable_lambda_reserves_is_refused() {
        let text = format!(
            "{RUST_FUNCTION}      Environment:\n        Variables:\n          AWS_REGION: eu-west-1\n"
        );
        assert_eq!(
            refusal(&text, "F"),
            "cannot run F of dir/template.yaml: its Environment variable AWS_REGION is one Lambda reserves and refuses to set"
        );
    }

    #[test]
    fn a_plain_lambda_function_is_refused_saying_what_to_declare() {
        let text = "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties: {}\n";
        assert_eq!(
            refusal(text, "F"),
            "cannot run F of dir/template.yaml: it is an AWS::Lambda::Function, whose Code the local stack does not build; declare it as an AWS::Serverless::Function with CodeUri and Metadata BuildMethod: rust-cargolambda"
        );
    }

    const WITH_ENVIRONMENT: &str = "
Parameters:
  ClientIds:
    Type: String
    Default: default.apps.googleusercontent.com
    AllowedPattern: '[^,]+(,[^,]+)*'
  Required:
    Type: String
  Size:
    Type: Number
    Default: 7
    AllowedValues: [7, 8]
  Names:
    Type: CommaDelimitedList
    Default: a,b
Globals:
  Function:
    Environment:
      Variables:
        FROM_GLOBALS: yes-it-is
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  F:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          CLIENT_IDS: !Ref ClientIds
          LONG_FORM:
            Ref: ClientIds
          SIZE: !Ref Size
          URL:
            Fn::Sub: https://${AWS::Region}.${AWS::URLSuffix}/${AWS::AccountId}/${ClientIds}/${!Literal}
          LISTED:
            Fn::Sub:
              - ${Scheme}://${AWS::Partition}
              - Scheme: !Ref Size
          NUMBER: 1
          FLAG: true
";

    fn environment(text: &str, overrides: &Overrides) -> Result<Environment, String> {
        let template = template(text);
        let function = template.function("F").map_err(|e| e.to_string())?;
        template
            .environment(&function, overrides)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn environment_resolves_parameters_pseudo_parameters_and_literals() {
        let env = environment(WITH_ENVIRONMENT, &Overrides::default()).unwrap();
        let expected: BTreeMap<String, String> = [
            ("CLIENT_IDS", "default.apps.googleusercontent.com"),
            ("LONG_FORM", "default.apps.googleusercontent.com"),
            ("SIZE", "7"),
            (
                "URL",
                "https://us-east-1.amazonaws.com/123456789012/default.apps.googleusercontent.com/${Literal}",
            ),
            ("LISTED", "7://aws"),
            ("NUMBER", "1"),
            ("FLAG", "true"),
            ("FROM_GLOBALS", "yes-it-is"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(env.variables, expected);
        assert!(env.ignored.is_empty());
    }

    #[test]
    fn parameter_overrides_replace_defaults_everywhere_they_are_used() {
        let overrides = Overrides {
            parameters: BTreeMap::from([("ClientIds".to_owned(), "mine".to_owned())]),
            ..Overrides::default()
        };
        let env = environment(WITH_ENVIRONMENT, &overrides).unwrap();
        assert_eq!(
            (
                env.variables["CLIENT_IDS"].as_str(),
                env.variables["URL"].as_str()
            ),
            (
                "mine",
                "https://us-east-1.amazonaws.com/123456789012/mine/${Literal}"
            )
        );
    }

    #[test]
    fn env_vars_override_declared_variables_the_functions_object_over_parameters() {
        let env_vars = EnvVars::parse(
            r#"{"Parameters": {"NUMBER": "2", "FLAG": false, "UNDECLARED": "x"},
                "F": {"NUMBER": 3, "ALSO_UNDECLARED": "y"},
                "Other": {"FLAG": "no"}}"#,
            "env.json",
        )
        .unwrap();
        let overrides = Overrides {
            env_vars,
            ..Overrides::default()
        };
        let env = environment(WITH_ENVIRONMENT, &overrides).unwrap();
        assert_eq!(
            (
                env.variables["NUMBER"].as_str(),
                env.variables["FLAG"].as_str(),
                env.variables.contains_key("UNDECLARED"),
                env.ignored.as_slice(),
            ),
            (
                "3",
                "false",
                false,
                ["ALSO_UNDECLARED".to_owned()].as_slice()
            )
        );
    }

    #[test]
    fn an_overridden_variable_needs_no_resolvable_template_value() {
        let text =
            WITH_ENVIRONMENT.replace("CLIENT_IDS: !Ref ClientIds", "CLIENT_IDS: !Ref Required");
        assert_eq!(
            environment(&text, &Overrides::default()).unwrap_err(),
            "cannot run F of dir/template.yaml: its Environment variable CLIENT_IDS refers to the parameter Required, which has no Default: give it a value with --parameter-overrides Required=VALUE"
        );
        let overrides = Overrides {
            env_vars: EnvVars::parse(r#"{"F": {"CLIENT_IDS": "set"}}"#, "env.json").unwrap(),
            ..Overrides::default()
        };
        assert_eq!(
            environment(&text, &overrides).unwrap().variables["CLIENT_IDS"],
            "set"
        );
    }

    #[test]
    fn unresolvable_values_are_refused_naming_the_variable() {
        let cases = [
            (
                "CLIENT_IDS: !GetAtt Bucket.Arn",
                "its Environment variable CLIENT_IDS uses Fn::GetAtt, which the local stack does not resolve (it resolves Ref and Fn::Sub over parameters and pseudo parameters)",
            ),
            (
                "CLIENT_IDS: !Ref Bucket",
                "its Environment variable CLIENT_IDS refers to the resource Bucket, which is not deployed locally",
            ),
            (
                "CLIENT_IDS: !Sub '${Bucket.Arn}/x'",
                "its Environment variable CLIENT_IDS has an Fn::Sub naming ${Bucket.Arn}, an attribute of a resource that is not deployed locally",
            ),
            (
                "CLIENT_IDS: !Ref AWS::StackName",
                "its Environment variable CLIENT_IDS refers to the pseudo parameter AWS::StackName, which has no local value (the local stack has AWS::Region, AWS::AccountId, AWS::Partition and AWS::URLSuffix)",
            ),
            (
                "CLIENT_IDS: !Ref Names",
                "its Environment variable CLIENT_IDS refers to the parameter Names, a CommaDelimitedList, which an environment variable cannot hold",
            ),
            (
                "CLIENT_IDS: !Ref Nothing",
                "its Environment variable CLIENT_IDS refers to Nothing, which is neither a parameter of the template nor a pseudo parameter",
            ),
        ];
        for (line, detail) in cases {
            let text = WITH_ENVIRONMENT.replace("CLIENT_IDS: !Ref ClientIds", line);
            assert_eq!(
                environment(&text, &Overrides::default()).unwrap_err(),
                format!("cannot run F of dir/template.yaml: {detail}"),
                "{line}"
            );
        }
    }

    #[test]
    fn parameter_overrides_must_name_a_parameter_and_an_allowed_value() {
        let template = template(WITH_ENVIRONMENT);
        let check = |name: &str, value: &str| {
            template
                .check_parameter_overrides(&BTreeMap::from([(name.to_owned(), value.to_owned())]))
                .map_err(|e| e.to_string())
        };
        assert_eq!(check("ClientIds", "a,b"), Ok(()));
        assert_eq!(
            check("ClientIds", "a,,b").unwrap_err(),
            "--parameter-overrides: ClientIds=a,,b does not match the parameter's AllowedPattern [^,]+(,[^,]+)*"
        );
        assert_eq!(
            check("Size", "9").unwrap_err(),
            "--parameter-overrides: Size=9 is not one of the parameter's AllowedValues (7, 8)"
        );
        assert_eq!(
            check("Missing", "x").unwrap_err(),
            "--parameter-overrides: Missing is not a parameter of dir/template.yaml (its parameters: ClientIds, Names, Required, Size)"
        );
    }

    #[test]
    fn env_vars_files_that_are_not_sams_format_are_refused() {
        assert_eq!(
            EnvVars::parse(r#"{"F": "x"}"#, "env.json")
                .unwrap_err()
                .to_string(),
            "env.json: F must be an object of variable names and values"
        );
        assert_eq!(
            EnvVars::parse(r#"{"F": {"A": ["x"]}}"#, "env.json")
                .unwrap_err()
                .to_string(),
            "env.json: F.A must be a string, a number or a boolean"
        );
    }

    #[test]
    fn parameter_overrides_are_key_equals_value() {
        assert_eq!(
            parse_parameter_override("Url=http://x/?a=b"),
            Ok(("Url".to_owned(), "http://x/?a=b".to_owned()))
        );
        assert_eq!(
            parse_parameter_override("Empty="),
            Ok(("Empty".to_owned(), String::new()))
        );
        assert_eq!(
            parse_parameter_override("=x"),
            Err(r#""=x" is not Key=Value"#.to_owned())
        );
    }
}
