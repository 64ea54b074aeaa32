//! Evaluates a parsed template against a [`RenderContext`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::rc::Rc;

use crate::ast::{Arithmetic, Comparison, Expr, ExprKind, Node, Reference, Step};
use crate::context::RenderContext;
use crate::error::{Pending, PendingKind};
use crate::functions;
use crate::java_regex::{self, ReplaceAll, ReplaceError};
use crate::value::{self, Builtin, Value};

/// The `$context` properties this renderer emulates.
const CONTEXT_PROPERTIES: &str = "accountId, apiId, authorizer, awsEndpointRequestId, \
     deploymentId, domainName, domainPrefix, error, extendedRequestId, httpMethod, identity, \
     isCanaryRequest, path, protocol, requestId, requestOverride, requestTime, \
     requestTimeEpoch, resourceId, resourcePath, responseOverride, stage, wafResponseCode, \
     webaclArn";

/// `$context.apiId` when the emulator gives none.
const DEFAULT_API_ID: &str = "localapi00";

pub(crate) struct Renderer<'a> {
    context: &'a RenderContext<'a>,
    /// Stock Velocity 1.7 where API Gateway differs (for the differential test).
    stock: bool,
    variables: HashMap<&'a str, Value<'a>>,
    /// Loop variables whose current element is null (they read as null).
    null_held: Vec<&'a str>,
    /// How many `#define` blocks are being rendered inside each other.
    block_depth: usize,
    /// `$context.requestOverride` and `$context.responseOverride`: maps the template
    /// assigns into, read back after rendering.
    /// Created on first use: most templates never touch them.
    request_override: Option<Value<'a>>,
    response_override: Option<Value<'a>>,
    /// When rendering started: `$context.requestTime` and `requestTimeEpoch`.
    epoch_ms: std::cell::OnceCell<u64>,
    /// The request body parsed as JSON, once, on first use.
    body: Option<std::result::Result<Rc<Value<'a>>, String>>,
}

type Result<T> = std::result::Result<T, Pending>;

/// How rendering a block ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Normal,
    /// `#break`: the innermost `#foreach` ends (at the top, the template does).
    Break,
    /// `#stop`: the whole template ends.
    Stop,
}

/// The most elements a range may have: `[1..$n]` with a number from the request must not
/// exhaust memory.
const MAX_RANGE: i64 = 100_000;

impl<'a> Renderer<'a> {
    pub(crate) fn new(context: &'a RenderContext<'a>) -> Self {
        Renderer {
            context,
            stock: false,
            variables: HashMap::new(),
            null_held: Vec::new(),
            block_depth: 0,
            request_override: None,
            response_override: None,
            epoch_ms: std::cell::OnceCell::new(),
            body: None,
        }
    }

    /// Renders as stock Velocity 1.7 where API Gateway differs from it.
    pub(crate) fn stock(mut self) -> Self {
        self.stock = true;
        self
    }

    pub(crate) fn render(&mut self, nodes: &'a [Node], out: &mut String) -> Result<Flow> {
        for node in nodes {
            let flow = match node {
                Node::Text(text) => {
                    out.push_str(text);
                    Flow::Normal
                }
                Node::Reference(reference) => {
                    let value = self.reference(reference)?;
                    self.write_value(&value, reference.offset, out)?;
                    Flow::Normal
                }
                Node::Set {
                    name,
                    steps,
                    value,
                    offset,
                } => {
                    let value = self.value(value)?;
                    // Velocity 1.7 (`directive.set.null.allowed=false`): a null right-hand
                    // side leaves the target unchanged.
                    if !matches!(value, Value::Null) {
                        self.assign(name, steps, value, *offset)?;
                    }
                    Flow::Normal
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = None;
                    for (condition, body) in branches {
                        if self.condition(condition)? {
                            taken = Some(body);
                            break;
                        }
                    }
                    self.render(taken.unwrap_or(otherwise), out)?
                }
                Node::Foreach {
                    variable,
                    iterable,
                    body,
                } => self.foreach(variable, iterable, body, out)?,
                Node::Define { name, body } => {
                    self.variables.insert(name, Value::Block(body));
                    Flow::Normal
                }
                Node::Break => Flow::Break,
                Node::Stop => Flow::Stop,
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    /// When rendering started (read once, so both time variables agree).
    fn epoch_ms(&self) -> u64 {
        if let Some(facts) = &self.context.facts {
            return facts.request_time_epoch_ms;
        }
        *self.epoch_ms.get_or_init(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        })
    }

    /// What `$context.requestOverride` and `$context.responseOverride` hold after the
    /// template: what it assigned, over what an earlier template of the request had
    /// (the context's `overrides`, kept as they were when it touched neither).
    pub(crate) fn overrides(&self) -> Result<crate::Overrides> {
        let seed = &self.context.overrides;
        let strings = |value: &Option<Value<'_>>, part: &str| -> Result<BTreeMap<String, String>> {
            let Some(Value::Map(root)) = value else {
                return Ok(BTreeMap::new());
            };
            let root = root.borrow();
            let Some((_, Value::Map(entries))) = root.iter().find(|(k, _)| k == part) else {
                return Ok(BTreeMap::new());
            };
            let mut out = BTreeMap::new();
            for (key, value) in entries.borrow().iter() {
                let mut text = String::new();
                value.write_java(&mut text).map_err(|what| {
                    Pending::evaluation(0, format!("an override value that is {what}"))
                })?;
                out.insert(key.clone(), text);
            }
            Ok(out)
        };
        let status = if self.response_override.is_none() {
            seed.response_status
        } else if let Some(Value::Map(root)) = &self.response_override {
            let root = root.borrow();
            match root.iter().find(|(k, _)| k == "status").map(|(_, v)| v) {
                None | Some(Value::Null) => None,
                Some(value) => {
                    let text = value.scalar_string().map(|t| t.into_owned());
                    let status = text
                        .as_deref()
                        .and_then(|t| t.parse::<u16>().ok())
                        .filter(|s| (100..=599).contains(s));
                    Some(status.ok_or_else(|| {
                        Pending::evaluation(
                            0,
                            format!(
                                "$context.responseOverride.status must be an HTTP status \
                                 (100-599), not {}",
                                text.unwrap_or_else(|| value.type_name().to_owned())
                            ),
                        )
                    })?)
                }
            }
        } else {
            None
        };
        let (request_headers, request_path, request_querystring) = match &self.request_override {
            None => (
                seed.request_headers.clone(),
                seed.request_path.clone(),
                seed.request_querystring.clone(),
            ),
            touched => (
                strings(touched, "header")?,
                strings(touched, "path")?,
                strings(touched, "querystring")?,
            ),
        };
        let response_headers = match &self.response_override {
            None => seed.response_headers.clone(),
            touched => strings(touched, "header")?,
        };
        Ok(crate::Overrides {
            request_headers,
            request_path,
            request_querystring,
            response_headers,
            response_status: status,
        })
    }

    /// `#set` with a target: a variable, or the last property or index of a reference.
    fn assign(
        &mut self,
        name: &'a str,
        steps: &'a [Step],
        value: Value<'a>,
        offset: usize,
    ) -> Result<()> {
        let Some((last, path)) = steps.split_last() else {
            self.variables.insert(name, value);
            return Ok(());
        };
        let mut target = self.root_named(name, Builtin::by_name(name));
        for step in path {
            if matches!(target, Value::Null) {
                break;
            }
            target = self.step(target, step)?;
        }
        match last {
            Step::Property { name, offset } => {
                self.assign_entry(target, Value::Str(Cow::Borrowed(name)), value, *offset)
            }
            Step::Index { index, offset } => {
                let index = self.value(index)?;
                self.assign_entry(target, index, value, *offset)
            }
            Step::Method { .. } => Err(Pending::syntax(offset, "#set cannot assign to a method")),
        }
    }

    fn assign_entry(
        &mut self,
        target: Value<'a>,
        key: Value<'a>,
        value: Value<'a>,
        offset: usize,
    ) -> Result<()> {
        match (&target, &key) {
            (Value::Map(entries), _) => {
                let key = map_key(&key, offset)?;
                put(&mut entries.borrow_mut(), key, value);
                Ok(())
            }
            (Value::List(items), Value::Int(i)) => {
                let mut items = items.borrow_mut();
                let len = items.len();
                match usize::try_from(*i).ok().filter(|i| *i < len) {
                    Some(i) => {
                        items[i] = value;
                        Ok(())
                    }
                    None => Err(Pending::evaluation(
                        offset,
                        format!("index [{i}] is out of range for a list of {len}"),
                    )),
                }
            }
            _ => Err(Pending::unsupported(
                offset,
                format!(
                    "assigning an entry of {} (only maps and lists are assignable)",
                    target.type_name()
                ),
            )),
        }
    }

    /// Writes a value where a reference stands in the text.
    fn write_value(&mut self, value: &Value<'a>, offset: usize, out: &mut String) -> Result<()> {
        match value {
            // API Gateway renders a null reference as nothing (stock Velocity would print
            // the reference's source text unless written `$!x`).
            Value::Null => {}
            Value::Str(s) => out.push_str(s),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Block(body) => {
                // A block that references itself would recurse forever.
                if self.block_depth >= 20 {
                    return Err(Pending::evaluation(
                        offset,
                        "#define blocks nested more than 20 deep (a block rendering itself?)",
                    ));
                }
                self.block_depth += 1;
                let rendered = self.render(body, out);
                self.block_depth -= 1;
                rendered?;
            }
            other => other.write_java(out).map_err(|what| {
                Pending::unsupported(
                    offset,
                    format!("rendering {what} as text (its Java toString() form is not emulated)"),
                )
            })?,
        }
        Ok(())
    }

    fn foreach(
        &mut self,
        variable: &'a str,
        iterable: &'a Expr,
        body: &'a [Node],
        out: &mut String,
    ) -> Result<Flow> {
        // Java iterates lists and maps live: a value replaced during the loop is seen
        // by later iterations; a change of size is a ConcurrentModificationException.
        enum Source<'a> {
            Snapshot(Vec<Value<'a>>),
            List(Rc<std::cell::RefCell<crate::value::ListData<'a>>>),
            MapValues(Rc<std::cell::RefCell<Vec<(String, Value<'a>)>>>),
        }
        let source = match self.value(iterable)? {
            // Velocity skips a loop over null.
            Value::Null => return Ok(Flow::Normal),
            Value::List(items) => Source::List(items),
            Value::Array(items) => Source::Snapshot(items.as_ref().clone()),
            // Iterating a map iterates its values, as Velocity does.
            Value::Map(entries) => Source::MapValues(entries),
            Value::StrMap(map) => {
                Source::Snapshot(map.values().map(|v| Value::Str(Cow::Borrowed(v))).collect())
            }
            other => {
                return Err(Pending::evaluation(
                    iterable.offset,
                    format!("#foreach cannot iterate over {}", other.type_name()),
                ));
            }
        };
        let len = |source: &Source<'a>| match source {
            Source::Snapshot(items) => items.len(),
            Source::List(items) => items.borrow().len(),
            Source::MapValues(entries) => entries.borrow().len(),
        };
        let item_at = |source: &Source<'a>, index: usize| match source {
            Source::Snapshot(items) => items[index].clone(),
            Source::List(items) => items.borrow()[index].clone(),
            Source::MapValues(entries) => entries.borrow()[index].1.clone(),
        };
        if self.null_held.contains(&variable) {
            // Velocity 1.7 then deactivates its null holder when this loop ends: not
            // emulated.
            return Err(Pending::unsupported(
                iterable.offset,
                format!(
                    "a #foreach over ${variable} inside a #foreach whose current element \
                     ${variable} is null"
                ),
            ));
        }
        // The loop variable and the loop helpers are restored afterwards.
        const HELPERS: [&str; 3] = ["foreach", "velocityCount", "velocityHasNext"];
        let saved_variable = self.variables.remove(variable);
        let saved_helpers = HELPERS.map(|name| self.variables.remove(name));
        let count = len(&source);
        let mut flow = Flow::Normal;
        for index in 0..count {
            if len(&source) != count {
                return Err(Pending::evaluation(
                    iterable.offset,
                    "the #foreach collection changed size during the loop (Java throws \
                     ConcurrentModificationException)",
                ));
            }
            let item = item_at(&source, index);
            let has_next = index + 1 < count;
            self.variables.insert(variable, item);
            self.variables
                .insert("foreach", Value::Foreach { index, has_next });
            self.variables
                .insert("velocityCount", Value::Int(index as i64 + 1));
            self.variables
                .insert("velocityHasNext", Value::Bool(has_next));
            // Velocity 1.7 renders the body of a null element through a
            // `NullHolderContext`: the loop variable reads as null all along, whatever
            // `#set` does to it.
            let null = matches!(self.variables.get(variable), Some(Value::Null));
            if null {
                self.null_held.push(variable);
            }
            let rendered = self.render(body, out);
            if null {
                self.null_held.pop();
            }
            match rendered? {
                Flow::Normal => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        restore(&mut self.variables, variable, saved_variable);
        for (name, saved) in HELPERS.into_iter().zip(saved_helpers) {
            restore(&mut self.variables, name, saved);
        }
        Ok(flow)
    }

    /// An `#if` condition: Velocity's `evaluate`.
    fn condition(&mut self, expr: &'a Expr) -> Result<bool> {
        match &expr.kind {
            ExprKind::Bool(b) => Ok(*b),
            ExprKind::Reference(reference) => Ok(match self.reference(reference)? {
                Value::Null => false,
                Value::Bool(b) => b,
                // Velocity 1.7 (`directive.if.tostring.nullcheck`) calls toString(),
                // which overflows Java's stack on a collection that contains itself.
                value @ (Value::List(_) | Value::Map(_)) => {
                    value.write_java(&mut String::new()).map_err(|what| {
                        Pending::evaluation(
                            expr.offset,
                            format!("the condition's toString() fails on {what}"),
                        )
                    })?;
                    true
                }
                _ => true,
            }),
            ExprKind::Not(inner) => Ok(!self.condition(inner)?),
            ExprKind::And(left, right) => Ok(self.condition(left)? && self.condition(right)?),
            ExprKind::Or(left, right) => Ok(self.condition(left)? || self.condition(right)?),
            ExprKind::Compare(comparison, left, right) => {
                let left = self.value(left)?;
                let right = self.value(right)?;
                if !self.stock && matches!(comparison, Comparison::Eq | Comparison::Ne) {
                    // API Gateway: null equals the empty string (LocalStack's
                    // aws-validated test_input_path_template_formatting: a missing
                    // $input.path is both `== $null` and `== ""`).
                    let empty = |v: &Value<'_>| matches!(v, Value::Str(s) if s.is_empty());
                    if (matches!(left, Value::Null) && empty(&right))
                        || (empty(&left) && matches!(right, Value::Null))
                    {
                        return Ok(*comparison == Comparison::Eq);
                    }
                }
                compare(*comparison, &left, &right, expr.offset)
            }
            ExprKind::Str(_)
            | ExprKind::Interpolated(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Arithmetic(..)
            | ExprKind::List(_)
            | ExprKind::Map(_)
            | ExprKind::Range(..) => Err(Pending::unsupported(
                expr.offset,
                "a literal as a condition (Velocity 1.7 treats it as false); compare it \
                     explicitly, e.g. #if(\"$!x\" != \"\")",
            )),
        }
    }

    /// An expression's value (a `#set` right-hand side, a method argument, an operand).
    fn value(&mut self, expr: &'a Expr) -> Result<Value<'a>> {
        Ok(match &expr.kind {
            ExprKind::Str(s) => Value::Str(Cow::Borrowed(s)),
            ExprKind::Interpolated(nodes) => {
                let mut text = String::new();
                self.render(nodes, &mut text)?;
                Value::Str(Cow::Owned(text))
            }
            ExprKind::Int(i) => Value::Int(*i),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Reference(reference) => self.reference(reference)?,
            ExprKind::Not(_) | ExprKind::And(..) | ExprKind::Or(..) | ExprKind::Compare(..) => {
                Value::Bool(self.condition(expr)?)
            }
            ExprKind::Arithmetic(op, left, right) => {
                let left = self.value(left)?;
                let right = self.value(right)?;
                arithmetic(*op, left, right, expr.offset)?
            }
            ExprKind::List(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.value(item)?);
                }
                Value::list(values)
            }
            ExprKind::Map(entries) => {
                let mut values = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let key_value = self.value(key)?;
                    let key = map_key(&key_value, key.offset)?;
                    let value = self.value(value)?;
                    put(&mut values, key, value);
                }
                Value::map(values)
            }
            ExprKind::Range(from, to) => {
                let from = self.value(from)?;
                let to = self.value(to)?;
                range(&from, &to, expr.offset)?
            }
        })
    }

    pub(crate) fn reference(&mut self, reference: &'a Reference) -> Result<Value<'a>> {
        let mut current = self.root_named(&reference.root, reference.builtin);
        for step in &reference.steps {
            // Velocity stops at the first null in a chain (and the result is null).
            if matches!(current, Value::Null) {
                return Ok(Value::Null);
            }
            current = self.step(current, step)?;
        }
        Ok(current)
    }

    fn step(&mut self, current: Value<'a>, step: &'a Step) -> Result<Value<'a>> {
        Ok({
            match step {
                Step::Property { name, offset } => self.property(current, name, *offset)?,
                Step::Method {
                    name,
                    args,
                    offset,
                    compiled,
                } => {
                    let mut values = Vec::with_capacity(args.len());
                    for arg in args {
                        values.push(self.value(arg)?);
                    }
                    self.method(current, name, values, compiled.as_deref(), *offset)?
                }
                Step::Index { index, offset } => {
                    let index = self.value(index)?;
                    self.index(current, index, *offset)?
                }
            }
        })
    }

    fn root_named(&self, name: &str, builtin: Option<Builtin>) -> Value<'a> {
        if !self.null_held.is_empty() && self.null_held.contains(&name) {
            return Value::Null;
        }
        if !self.variables.is_empty()
            && let Some(value) = self.variables.get(name)
        {
            return value.clone();
        }
        match builtin {
            Some(Builtin::StageVariables) => Value::StrMap(&self.context.stage_variables),
            Some(builtin) => Value::Builtin(builtin),
            None => Value::Null,
        }
    }

    fn property(&mut self, target: Value<'a>, name: &str, offset: usize) -> Result<Value<'a>> {
        let context = self.context;
        let text = |s: &'a str| Value::Str(Cow::Borrowed(s));
        Ok(match target {
            Value::Builtin(Builtin::Context) => match name {
                "authorizer" => Value::StrMap(&context.authorizer),
                "identity" => Value::Builtin(Builtin::Identity),
                "error" => Value::Builtin(Builtin::Error),
                "stage" => text(&context.stage),
                "requestId" => text(&context.request_id),
                "httpMethod" => text(&context.http_method),
                "resourcePath" => text(&context.resource_path),
                "path" => text(&context.path),
                // Seeded with what an earlier template of the request assigned.
                "requestOverride" => {
                    let seed = &context.overrides;
                    self.request_override
                        .get_or_insert_with(|| {
                            Value::map(vec![
                                ("header".to_owned(), seeded(&seed.request_headers)),
                                ("path".to_owned(), seeded(&seed.request_path)),
                                ("querystring".to_owned(), seeded(&seed.request_querystring)),
                            ])
                        })
                        .clone()
                }
                "responseOverride" => {
                    let seed = &context.overrides;
                    self.response_override
                        .get_or_insert_with(|| {
                            Value::map(vec![
                                ("header".to_owned(), seeded(&seed.response_headers)),
                                (
                                    "status".to_owned(),
                                    seed.response_status
                                        .map_or(Value::Null, |s| Value::Int(i64::from(s))),
                                ),
                            ])
                        })
                        .clone()
                }
                "accountId" => match &context.facts {
                    Some(facts) => text(&facts.account_id),
                    None => Value::Str(Cow::Borrowed("000000000000")),
                },
                "apiId" => Value::Str(Cow::Borrowed(api_id(context))),
                "domainName" => Value::Str(Cow::Owned(domain_name(context))),
                "domainPrefix" => {
                    let domain = domain_name(context);
                    Value::Str(Cow::Owned(
                        domain.split('.').next().unwrap_or_default().to_owned(),
                    ))
                }
                "resourceId" => match &context.facts {
                    Some(facts) => text(&facts.resource_id),
                    None => Value::Str(Cow::Owned(short_id(&context.resource_path, 6))),
                },
                "deploymentId" => match &context.facts {
                    Some(facts) => text(&facts.deployment_id),
                    None => Value::Str(Cow::Owned(short_id(&context.stage, 6))),
                },
                "extendedRequestId" => match &context.facts {
                    Some(facts) => text(&facts.extended_request_id),
                    None => Value::Str(Cow::Owned(format!(
                        "{}=",
                        short_id(&context.request_id, 15)
                    ))),
                },
                "protocol" => match &context.facts {
                    Some(facts) => text(&facts.protocol),
                    None => Value::Str(Cow::Borrowed("HTTP/1.1")),
                },
                "requestTimeEpoch" => Value::Int(self.epoch_ms() as i64),
                "requestTime" => Value::Str(Cow::Owned(clf_time(self.epoch_ms()))),
                // Not applicable to a local request: null, as AWS gives them outside
                // canary deployments, WAF and integrations.
                "isCanaryRequest" | "wafResponseCode" | "webaclArn" | "awsEndpointRequestId" => {
                    Value::Null
                }
                _ => {
                    return Err(Pending::unsupported(
                        offset,
                        format!(
                            "$context.{name} is not a $context variable of REST APIs (supported: {CONTEXT_PROPERTIES})"
                        ),
                    ));
                }
            },
            Value::Builtin(Builtin::Identity) => match name {
                "sourceIp" => text(&context.source_ip),
                "userAgent" => text(&context.user_agent),
                // A caller without an IAM identity: AWS gives null (LocalStack's
                // aws-validated test_apigateway_lambda.snapshot.json).
                "accessKey"
                | "accountId"
                | "apiKey"
                | "apiKeyId"
                | "caller"
                | "cognitoAuthenticationProvider"
                | "cognitoAuthenticationType"
                | "cognitoIdentityId"
                | "cognitoIdentityPoolId"
                | "principalOrgId"
                | "user"
                | "userArn"
                | "clientCert"
                | "vpcId"
                | "vpceId" => Value::Null,
                _ => {
                    return Err(Pending::unsupported(
                        offset,
                        format!("$context.identity.{name} is not a $context.identity variable"),
                    ));
                }
            },
            Value::Builtin(Builtin::Error) => match name {
                "message" | "messageString" | "responseType" | "validationErrorString" => {
                    context.error.get(name).map_or(Value::Null, |v| text(v))
                }
                _ => {
                    return Err(Pending::unsupported(
                        offset,
                        format!(
                            "$context.error.{name} is not a property of $context.error (message, messageString, responseType, validationErrorString)"
                        ),
                    ));
                }
            },
            // AWS renders the body of a request without one as `{}`
            // (LocalStack's aws-validated test_input_body_formatting).
            Value::Builtin(Builtin::Input) if name == "body" && context.body.is_empty() => {
                Value::Str(Cow::Borrowed("{}"))
            }
            Value::Builtin(Builtin::Input) if name == "body" => text(&context.body),
            // Velocity finds no getter on a String, number, boolean or list: null (AWS
            // too: LocalStack's aws-validated test_input_body_formatting and
            // test_input_path_template_formatting).
            Value::Str(_)
            | Value::Char(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Bool(_)
            | Value::List(_)
            | Value::Array(_) => Value::Null,
            Value::StrMap(map) => map.get(name).map_or(Value::Null, |v| text(v)),
            Value::Map(entries) => entries
                .borrow()
                .iter()
                .find(|(key, _)| key == name)
                .map_or(Value::Null, |(_, v)| v.clone()),
            Value::Foreach { index, has_next } => match name {
                "hasNext" => Value::Bool(has_next),
                "index" => Value::Int(index as i64),
                "count" => Value::Int(index as i64 + 1),
                "first" => Value::Bool(index == 0),
                "last" => Value::Bool(!has_next),
                _ => {
                    return Err(Pending::unsupported(
                        offset,
                        format!("$foreach.{name} (supported: hasNext, index, count, first, last)"),
                    ));
                }
            },
            other => {
                return Err(Pending::unsupported(
                    offset,
                    format!(
                        "the property .{name} of {}; call a method, e.g. .{name}()",
                        other.type_name()
                    ),
                ));
            }
        })
    }

    fn method(
        &mut self,
        target: Value<'a>,
        name: &str,
        args: Vec<Value<'a>>,
        compiled: Option<&ReplaceAll>,
        offset: usize,
    ) -> Result<Value<'a>> {
        let arity = |expected: usize| -> Result<()> {
            if args.len() == expected {
                Ok(())
            } else {
                Err(Pending::evaluation(
                    offset,
                    format!(
                        "{name}(...) takes {expected} argument{}, not {}",
                        if expected == 1 { "" } else { "s" },
                        args.len()
                    ),
                ))
            }
        };
        match target {
            Value::Builtin(Builtin::Util) => {
                arity(1)?;
                let Some(input) = string_argument(&args[0], name, offset)? else {
                    // The Java functions return null for a null argument.
                    return Ok(Value::Null);
                };
                let owned = |s: String| Ok(Value::Str(Cow::Owned(s)));
                match name {
                    "escapeJavaScript" => owned(functions::escape_javascript(input)),
                    "urlEncode" => owned(functions::url_encode(input)),
                    "urlDecode" => functions::url_decode(input)
                        .map(|s| Value::Str(Cow::Owned(s)))
                        .map_err(|m| Pending::evaluation(offset, format!("urlDecode: {m}"))),
                    "base64Encode" => owned(functions::base64_encode(input)),
                    "base64Decode" => functions::base64_decode(input)
                        .map(|s| Value::Str(Cow::Owned(s)))
                        .map_err(|m| Pending::evaluation(offset, format!("base64Decode: {m}"))),
                    "parseJson" => value::parse_json(input)
                        .map_err(|m| Pending::invalid_json(offset, format!("parseJson: {m}"))),
                    _ => Err(Pending::unsupported(
                        offset,
                        format!(
                            "$util.{name} (supported: escapeJavaScript, urlEncode, urlDecode, \
                             base64Encode, base64Decode, parseJson)"
                        ),
                    )),
                }
            }
            Value::Builtin(Builtin::Input) => self.input_method(name, &args, offset),
            Value::Str(ref s) => {
                let result = string_method(s, name, &args, compiled, offset)?;
                Ok(match result {
                    StrResult::Unchanged => target,
                    StrResult::Value(value) => value,
                })
            }
            Value::StrMap(_) | Value::Map(_) => map_method(&target, name, &args, offset),
            Value::List(ref items) => list_method(items, name, args, offset),
            Value::Array(ref items) => match (name, args.as_slice()) {
                // Velocity 1.7 wraps arrays in a List for method calls.
                ("size", []) => Ok(Value::Int(items.len() as i64)),
                ("isEmpty", []) => Ok(Value::Bool(items.is_empty())),
                ("get", [index]) => list_get(items, index, offset),
                _ => Err(Pending::unsupported(
                    offset,
                    format!("the array method {name}() (supported: size, isEmpty, get)"),
                )),
            },
            other => Err(Pending::unsupported(
                offset,
                format!("the method {name}() on {}", other.type_name()),
            )),
        }
    }

    fn input_method(&mut self, name: &str, args: &[Value<'a>], offset: usize) -> Result<Value<'a>> {
        let context = self.context;
        match (name, args) {
            ("params", []) => Ok(Value::map(vec![
                ("path".to_owned(), Value::StrMap(&context.path_params)),
                ("querystring".to_owned(), Value::StrMap(&context.query)),
                ("header".to_owned(), Value::StrMap(&context.headers)),
            ])),
            ("params", [arg]) => {
                let Some(wanted) = string_argument(arg, name, offset)? else {
                    return Ok(Value::Str(Cow::Borrowed("")));
                };
                // Path, then query string, then header (case-insensitively); "" if absent.
                let found = context
                    .path_params
                    .get(wanted)
                    .or_else(|| context.query.get(wanted))
                    .or_else(|| {
                        context
                            .headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(wanted))
                            .map(|(_, v)| v)
                    });
                Ok(Value::Str(Cow::Borrowed(found.map_or("", String::as_str))))
            }
            ("json" | "path", [arg]) => {
                let Some(path) = string_argument(arg, name, offset)? else {
                    return Ok(Value::Null);
                };
                let steps =
                    value::parse_json_path(path).map_err(|m| Pending::unsupported(offset, m))?;
                let body = self.body(offset)?;
                let selected = value::select(&body, &steps);
                if name == "path" {
                    return Ok(selected.map_or(Value::Null, |v| v.deep_copy()));
                }
                let Some(selected) = selected else {
                    // A path that does not exist renders as nothing.
                    return Ok(Value::Str(Cow::Borrowed("")));
                };
                let mut json = String::new();
                value::write_json(&selected, &mut json)
                    .map_err(|m| Pending::evaluation(offset, m))?;
                Ok(Value::Str(Cow::Owned(json)))
            }
            ("params" | "json" | "path", _) => Err(Pending::evaluation(
                offset,
                format!("$input.{name}(...) takes a single string argument"),
            )),
            ("body", _) => Err(Pending::unsupported(
                offset,
                "$input.body() as a method; write $input.body",
            )),
            _ => Err(Pending::unsupported(
                offset,
                format!("$input.{name} (supported: body, json, path, params)"),
            )),
        }
    }

    /// The body as JSON, parsed on first use. An empty body is an empty object.
    fn body(&mut self, offset: usize) -> Result<Rc<Value<'a>>> {
        let context = self.context;
        let parsed = self.body.get_or_insert_with(|| {
            if context.body.trim().is_empty() {
                Ok(Rc::new(Value::map(Vec::new())))
            } else {
                value::parse_json(&context.body).map(Rc::new)
            }
        });
        parsed
            .clone()
            .map_err(|m| Pending::invalid_json(offset, format!("the request body: {m}")))
    }

    fn index(&mut self, target: Value<'a>, index: Value<'a>, offset: usize) -> Result<Value<'a>> {
        match (&target, &index) {
            (Value::List(items), Value::Int(_)) if items.borrow().view => {
                Err(Pending::unsupported(
                    offset,
                    "an index into a map's keySet() or values(), a Java Set or Collection \
                     without positions"
                        .to_owned(),
                ))
            }
            (Value::List(items), Value::Int(_)) => list_get(&items.borrow(), &index, offset),
            (Value::Array(items), Value::Int(_)) => list_get(items, &index, offset),
            (Value::StrMap(_) | Value::Map(_), _) => map_method(&target, "get", &[index], offset),
            // `$context["requestOverride"]`: a map in Java, so an index reads a property.
            (Value::Builtin(Builtin::Context | Builtin::Identity), Value::Str(name)) => {
                let name = name.clone().into_owned();
                self.property(target, &name, offset)
            }
            _ => Err(Pending::evaluation(
                offset,
                format!(
                    "cannot index {} with {}",
                    target.type_name(),
                    index.type_name()
                ),
            )),
        }
    }
}

/// `$context.domainName`: the `Host` header, as on AWS, else the default API's host.
fn domain_name(context: &RenderContext) -> String {
    context
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| format!("{}.execute-api.localhost", api_id(context)))
}

/// `$context.apiId`: the emulator's, else [`DEFAULT_API_ID`].
fn api_id<'a>(context: &'a RenderContext<'_>) -> &'a str {
    context
        .facts
        .as_ref()
        .map_or(DEFAULT_API_ID, |facts| &*facts.api_id)
}

/// An override map as a template sees it, holding what an earlier template assigned.
fn seeded<'a>(entries: &'a BTreeMap<String, String>) -> Value<'a> {
    Value::map(
        entries
            .iter()
            .map(|(k, v)| (k.clone(), Value::Str(Cow::Borrowed(v.as_str()))))
            .collect(),
    )
}

/// A stable lower-case alphanumeric ID of `len` characters derived from `seed` (FNV-1a),
/// in the shape of API Gateway's resource and deployment IDs.
fn short_id(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|i| {
            let mixed =
                hash.rotate_left((i as u32 * 7) % 64) ^ (i as u64).wrapping_mul(0x9E37_79B9);
            ALPHABET[(mixed % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

/// `$context.requestTime`: the Common Log Format time AWS uses, `01/Dec/2026:19:14:11 +0000`.
/// Hand-written (days to civil date, Howard Hinnant's algorithm) to avoid a date crate
/// for one format.
pub(crate) fn clf_time(epoch_ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = epoch_ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn restore<'a>(
    variables: &mut HashMap<&'a str, Value<'a>>,
    name: &'a str,
    saved: Option<Value<'a>>,
) {
    match saved {
        Some(value) => {
            variables.insert(name, value);
        }
        None => {
            variables.remove(name);
        }
    }
}

/// A string argument, `None` for null; an error for other types (Java has no such method).
fn string_argument<'v>(
    value: &'v Value<'_>,
    method: &str,
    offset: usize,
) -> Result<Option<&'v str>> {
    match value {
        Value::Null => Ok(None),
        Value::Str(s) => Ok(Some(s)),
        other => Err(Pending::evaluation(
            offset,
            format!("{method}(...) needs a string, not {}", other.type_name()),
        )),
    }
}

enum StrResult<'a> {
    Unchanged,
    Value(Value<'a>),
}

/// `java.lang.String` methods.
fn string_method<'a>(
    s: &str,
    name: &str,
    args: &[Value<'a>],
    compiled: Option<&ReplaceAll>,
    offset: usize,
) -> Result<StrResult<'a>> {
    let strings = |count: usize| -> Result<Vec<&str>> {
        if args.len() != count {
            return Err(Pending::evaluation(
                offset,
                format!("{name}(...) takes {count} argument(s), not {}", args.len()),
            ));
        }
        args.iter()
            .map(|arg| match arg {
                Value::Str(s) => Ok(s.as_ref()),
                // Java throws a NullPointerException.
                Value::Null => Err(Pending::evaluation(
                    offset,
                    format!("{name}(...) was given null"),
                )),
                other => Err(Pending::evaluation(
                    offset,
                    format!("{name}(...) needs strings, not {}", other.type_name()),
                )),
            })
            .collect()
    };
    let owned = |text: String| Ok(StrResult::Value(Value::Str(Cow::Owned(text))));
    let from_cow = |text: Cow<'_, str>| match text {
        Cow::Borrowed(_) => Ok(StrResult::Unchanged),
        Cow::Owned(text) => owned(text),
    };
    match name {
        "replaceAll" => {
            let replaced = match compiled {
                Some(compiled) => {
                    strings(2)?;
                    compiled.replace_all(s)
                }
                None => {
                    let a = strings(2)?;
                    let runtime = ReplaceAll::new(a[0], a[1]).map_err(|message| Pending {
                        offset,
                        kind: PendingKind::Regex {
                            pattern: a[0].to_owned(),
                            message,
                        },
                    })?;
                    return match runtime.replace_all(s) {
                        Ok(text) => from_cow(text),
                        Err(error) => Err(replace_error(error, offset)),
                    };
                }
            };
            match replaced {
                Ok(text) => from_cow(text),
                Err(error) => Err(replace_error(error, offset)),
            }
        }
        "replace" => {
            let a = strings(2)?;
            if a[0].is_empty() && s.chars().any(|c| c.len_utf16() == 2) {
                return Err(replace_error(ReplaceError::SplitsSurrogatePair, offset));
            }
            if s.contains(a[0]) {
                owned(s.replace(a[0], a[1]))
            } else {
                Ok(StrResult::Unchanged)
            }
        }
        "toLowerCase" => {
            strings(0)?;
            owned(s.to_lowercase())
        }
        "toUpperCase" => {
            strings(0)?;
            owned(s.to_uppercase())
        }
        "trim" => {
            strings(0)?;
            // Java's trim() removes every character up to U+0020, and only those.
            let trimmed = s.trim_matches(|c| c <= ' ');
            if trimmed.len() == s.len() {
                Ok(StrResult::Unchanged)
            } else {
                owned(trimmed.to_owned())
            }
        }
        // Java lengths count UTF-16 units: an emoji is 2.
        "length" => {
            strings(0).map(|_| StrResult::Value(Value::Int(s.encode_utf16().count() as i64)))
        }
        "isEmpty" => strings(0).map(|_| StrResult::Value(Value::Bool(s.is_empty()))),
        "contains" => strings(1).map(|a| StrResult::Value(Value::Bool(s.contains(a[0])))),
        "startsWith" => strings(1).map(|a| StrResult::Value(Value::Bool(s.starts_with(a[0])))),
        "endsWith" => strings(1).map(|a| StrResult::Value(Value::Bool(s.ends_with(a[0])))),
        "equals" => {
            if args.len() != 1 {
                return Err(Pending::evaluation(offset, "equals(...) takes 1 argument"));
            }
            let equal = matches!(&args[0], Value::Str(other) if other.as_ref() == s);
            Ok(StrResult::Value(Value::Bool(equal)))
        }
        "replaceFirst" => {
            let a = strings(2)?;
            let compiled = ReplaceAll::new(a[0], a[1]).map_err(|message| Pending {
                offset,
                kind: PendingKind::Regex {
                    pattern: a[0].to_owned(),
                    message,
                },
            })?;
            match compiled.replace_first(s) {
                Ok(text) => from_cow(text),
                Err(error) => Err(replace_error(error, offset)),
            }
        }
        "matches" => {
            let a = strings(1)?;
            let matched = java_regex::matches_whole(a[0], s).map_err(|message| Pending {
                offset,
                kind: PendingKind::Regex {
                    pattern: a[0].to_owned(),
                    message,
                },
            })?;
            Ok(StrResult::Value(Value::Bool(matched)))
        }
        "split" => {
            let (pattern, limit) = match args {
                [Value::Str(p)] => (p.as_ref(), 0),
                [Value::Str(p), Value::Int(limit)] => (p.as_ref(), *limit),
                _ => {
                    return Err(Pending::evaluation(
                        offset,
                        "split(...) takes a pattern string and an optional integer limit",
                    ));
                }
            };
            let regex = java_regex::compile(pattern).map_err(|message| Pending {
                offset,
                kind: PendingKind::Regex {
                    pattern: pattern.to_owned(),
                    message,
                },
            })?;
            let pieces =
                java_regex::split(&regex, s, limit).map_err(|e| replace_error(e, offset))?;
            Ok(StrResult::Value(Value::Array(Rc::new(
                pieces
                    .into_iter()
                    .map(|p| Value::Str(Cow::Owned(p)))
                    .collect(),
            ))))
        }
        "equalsIgnoreCase" => {
            if args.len() != 1 {
                return Err(Pending::evaluation(
                    offset,
                    "equalsIgnoreCase(...) takes 1 argument",
                ));
            }
            let equal = matches!(&args[0], Value::Str(other) if equals_ignore_case(s, other));
            Ok(StrResult::Value(Value::Bool(equal)))
        }
        "concat" => {
            let a = strings(1)?;
            owned(format!("{s}{}", a[0]))
        }
        "toString" => strings(0).map(|_| StrResult::Unchanged),
        "substring" => {
            let units: Vec<u16> = s.encode_utf16().collect();
            let (begin, end) = match args {
                [Value::Int(b)] => (*b, units.len() as i64),
                [Value::Int(b), Value::Int(e)] => (*b, *e),
                _ => {
                    return Err(Pending::evaluation(
                        offset,
                        "substring(...) takes one or two integer indexes",
                    ));
                }
            };
            if begin < 0 || end > units.len() as i64 || begin > end {
                // Java throws StringIndexOutOfBoundsException.
                return Err(Pending::evaluation(
                    offset,
                    format!(
                        "substring({begin}, {end}) is out of range for a string of length {}",
                        units.len()
                    ),
                ));
            }
            owned(from_utf16(&units[begin as usize..end as usize], offset)?)
        }
        "charAt" => {
            let units: Vec<u16> = s.encode_utf16().collect();
            match args {
                [Value::Int(i)] if *i >= 0 && (*i as usize) < units.len() => {
                    let text = from_utf16(&units[*i as usize..*i as usize + 1], offset)?;
                    let c = text.chars().next().expect("one unit, one char");
                    Ok(StrResult::Value(Value::Char(c)))
                }
                [Value::Int(i)] => Err(Pending::evaluation(
                    offset,
                    format!(
                        "charAt({i}) is out of range for a string of length {}",
                        units.len()
                    ),
                )),
                _ => Err(Pending::evaluation(
                    offset,
                    "charAt(...) takes an integer index",
                )),
            }
        }
        "indexOf" | "lastIndexOf" => {
            let (needle, from): (Vec<u16>, Option<i64>) = match args {
                [Value::Str(n)] => (n.encode_utf16().collect(), None),
                [Value::Str(n), Value::Int(f)] => (n.encode_utf16().collect(), Some(*f)),
                _ => {
                    return Err(Pending::evaluation(
                        offset,
                        format!("{name}(...) takes a string and an optional integer index"),
                    ));
                }
            };
            let hay: Vec<u16> = s.encode_utf16().collect();
            let found = if name == "indexOf" {
                index_of(&hay, &needle, from.unwrap_or(0))
            } else {
                last_index_of(&hay, &needle, from.unwrap_or(i64::MAX))
            };
            Ok(StrResult::Value(Value::Int(found)))
        }
        _ => Err(Pending::unsupported(
            offset,
            format!(
                "the string method {name}() (supported: replaceAll, replaceFirst, replace, \
                 split, matches, toLowerCase, toUpperCase, trim, length, isEmpty, contains, \
                 startsWith, endsWith, equals, equalsIgnoreCase, substring, charAt, indexOf, \
                 lastIndexOf, concat, toString)"
            ),
        )),
    }
}

/// UTF-16 units back to a string; a cut surrogate pair cannot be a Rust string.
fn from_utf16(units: &[u16], offset: usize) -> Result<String> {
    String::from_utf16(units).map_err(|_| {
        Pending::evaluation(
            offset,
            "the index cuts a surrogate pair (a character outside the Basic Multilingual Plane)",
        )
    })
}

/// Java's `String.indexOf(str, fromIndex)` over UTF-16 units.
fn index_of(hay: &[u16], needle: &[u16], from: i64) -> i64 {
    let from = from.max(0);
    if from as usize > hay.len() {
        return if needle.is_empty() {
            hay.len() as i64
        } else {
            -1
        };
    }
    let from = from as usize;
    if needle.is_empty() {
        return from as i64;
    }
    (from..=hay.len().saturating_sub(needle.len()))
        .find(|&i| hay.len() >= needle.len() && hay[i..i + needle.len()] == *needle)
        .map_or(-1, |i| i as i64)
}

/// Java's `String.lastIndexOf(str, fromIndex)` over UTF-16 units.
fn last_index_of(hay: &[u16], needle: &[u16], from: i64) -> i64 {
    if from < 0 || needle.len() > hay.len() {
        return -1;
    }
    let last_start = (hay.len() - needle.len()).min(from.min(hay.len() as i64) as usize);
    (0..=last_start)
        .rev()
        .find(|&i| hay[i..i + needle.len()] == *needle)
        .map_or(-1, |i| i as i64)
}

/// Java's `equalsIgnoreCase`: same UTF-16 length, and each pair of units equal after
/// upper-casing or lower-casing both.
fn equals_ignore_case(a: &str, b: &str) -> bool {
    if a.encode_utf16().count() != b.encode_utf16().count() {
        return false;
    }
    let upper = |c: char| {
        let mut u = c.to_uppercase();
        match (u.next(), u.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    };
    let lower = |c: char| {
        let mut l = c.to_lowercase();
        match (l.next(), l.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    };
    a.chars()
        .zip(b.chars())
        .all(|(x, y)| x == y || upper(x) == upper(y) || lower(upper(x)) == lower(upper(y)))
}

fn replace_error(error: ReplaceError, offset: usize) -> Pending {
    match error {
        ReplaceError::Replacement {
            replacement,
            message,
        } => Pending {
            offset,
            kind: PendingKind::Replacement {
                replacement,
                message,
            },
        },
        ReplaceError::SplitsSurrogatePair => Pending::evaluation(
            offset,
            "an empty match before a character outside the Basic Multilingual Plane: Java \
             would split its surrogate pair",
        ),
    }
}

/// `java.util.Map` methods.
fn map_method<'a>(
    target: &Value<'a>,
    name: &str,
    args: &[Value<'a>],
    offset: usize,
) -> Result<Value<'a>> {
    // Lookups without copying the map (the passthrough template calls get per entry).
    match (target, name, args) {
        (Value::StrMap(map), "get", [Value::Str(key)]) => {
            return Ok(map
                .get(key.as_ref())
                .map_or(Value::Null, |v| Value::Str(Cow::Borrowed(v.as_str()))));
        }
        (Value::StrMap(map), "containsKey", [Value::Str(key)]) => {
            return Ok(Value::Bool(map.contains_key(key.as_ref())));
        }
        (Value::StrMap(map), "size", []) => return Ok(Value::Int(map.len() as i64)),
        (Value::StrMap(map), "isEmpty", []) => return Ok(Value::Bool(map.is_empty())),
        (Value::Map(entries), "get", [Value::Str(key)]) => {
            return Ok(entries
                .borrow()
                .iter()
                .find(|(k, _)| k == key.as_ref())
                .map_or(Value::Null, |(_, v)| v.clone()));
        }
        (Value::Map(entries), "containsKey", [Value::Str(key)]) => {
            return Ok(Value::Bool(
                entries.borrow().iter().any(|(k, _)| k == key.as_ref()),
            ));
        }
        (Value::Map(entries), "size", []) => return Ok(Value::Int(entries.borrow().len() as i64)),
        (Value::Map(entries), "isEmpty", []) => {
            return Ok(Value::Bool(entries.borrow().is_empty()));
        }
        _ => {}
    }
    let entries: Vec<(String, Value<'a>)> = match target {
        Value::StrMap(map) => {
            if matches!(name, "put" | "remove" | "putAll") {
                return Err(Pending::unsupported(
                    offset,
                    format!("{name}(...) on a map of the request (read-only here)"),
                ));
            }
            map.iter()
                .map(|(k, v)| (k.clone(), Value::Str(Cow::Borrowed(v.as_str()))))
                .collect()
        }
        Value::Map(entries) => match (name, args) {
            ("put", [key, value]) => {
                let key = map_key(key, offset)?;
                return Ok(put(&mut entries.borrow_mut(), key, value.clone()));
            }
            ("remove", [key]) => {
                let key = map_key(key, offset)?;
                let mut entries = entries.borrow_mut();
                return Ok(match entries.iter().position(|(k, _)| *k == key) {
                    Some(at) => entries.remove(at).1,
                    None => Value::Null,
                });
            }
            ("putAll", [Value::Map(other)]) => {
                let other = other.borrow().clone();
                let mut entries = entries.borrow_mut();
                for (key, value) in other {
                    put(&mut entries, key, value);
                }
                return Ok(Value::Null);
            }
            _ => entries.borrow().clone(),
        },
        _ => unreachable!("map_method is called on maps"),
    };
    let key = |args: &[Value<'a>]| -> Result<Option<String>> {
        match args {
            [Value::Str(s)] => Ok(Some(s.clone().into_owned())),
            [Value::Null] => Ok(None),
            [other] => Err(Pending::unsupported(
                offset,
                format!(
                    "{name}(...) with a key that is {} (only string keys)",
                    other.type_name()
                ),
            )),
            _ => Err(Pending::evaluation(
                offset,
                format!("{name}(...) takes 1 argument"),
            )),
        }
    };
    let no_args = || -> Result<()> {
        if args.is_empty() {
            Ok(())
        } else {
            Err(Pending::evaluation(
                offset,
                format!("{name}() takes no arguments"),
            ))
        }
    };
    match name {
        "keySet" => {
            no_args()?;
            Ok(Value::collection_view(
                entries
                    .into_iter()
                    .map(|(k, _)| Value::Str(Cow::Owned(k)))
                    .collect(),
            ))
        }
        "values" => {
            no_args()?;
            Ok(Value::collection_view(
                entries.into_iter().map(|(_, v)| v).collect(),
            ))
        }
        "size" => no_args().map(|()| Value::Int(entries.len() as i64)),
        "isEmpty" => no_args().map(|()| Value::Bool(entries.is_empty())),
        "get" => {
            let key = key(args)?;
            Ok(entries
                .into_iter()
                .find(|(k, _)| Some(k) == key.as_ref())
                .map_or(Value::Null, |(_, v)| v))
        }
        "containsKey" => {
            let key = key(args)?;
            Ok(Value::Bool(
                entries.iter().any(|(k, _)| Some(k) == key.as_ref()),
            ))
        }
        "toString" => {
            no_args()?;
            java_string(target, offset)
        }
        _ => Err(Pending::unsupported(
            offset,
            format!(
                "the map method {name}() (supported: keySet, values, get, put, putAll, remove, \
                 containsKey, size, isEmpty, toString)"
            ),
        )),
    }
}

/// `==`, `!=` (Velocity's `ASTEQNode`) and the numeric comparisons.
fn compare(
    comparison: Comparison,
    left: &Value<'_>,
    right: &Value<'_>,
    offset: usize,
) -> Result<bool> {
    let number = |v: &Value<'_>| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    if let (Comparison::Eq | Comparison::Ne, Some(equal)) = (comparison, java_equals(left, right)) {
        return Ok(equal == (comparison == Comparison::Eq));
    }
    match comparison {
        Comparison::Eq | Comparison::Ne => Err(Pending::unsupported(
            offset,
            format!(
                "comparing {} with {} (Java would compare their toString() forms)",
                left.type_name(),
                right.type_name()
            ),
        )),
        _ => {
            if matches!(left, Value::Null) || matches!(right, Value::Null) {
                // Velocity logs and yields false.
                return Ok(false);
            }
            // Velocity 1.7 (`ASTLTNode` and friends) logs and yields false unless both
            // sides are numbers.
            let (Some(l), Some(r)) = (number(left), number(right)) else {
                return Ok(false);
            };
            Ok(match comparison {
                Comparison::Lt => l < r,
                Comparison::Le => l <= r,
                Comparison::Gt => l > r,
                _ => l >= r,
            })
        }
    }
}

/// Velocity 1.7 equality (`ASTEQNode`): numbers by value, values of the same class by
/// `equals`, otherwise by their `toString()` forms; null equals only null. `None` when
/// that would need the `toString()` of an API Gateway object.
fn java_equals(left: &Value<'_>, right: &Value<'_>) -> Option<bool> {
    match (left, right) {
        (Value::Int(a), Value::Int(b)) => Some(a == b),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let as_f64 = |v: &Value<'_>| match v {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                _ => unreachable!(),
            };
            Some(as_f64(left) == as_f64(right))
        }
        (Value::Null, Value::Null) => Some(true),
        // Velocity takes the other side's toString(), which fails on a collection that
        // contains itself (a StackOverflowError in Java).
        (Value::Null, Value::List(_) | Value::Map(_)) => java_text(right).map(|_| false),
        (Value::List(_) | Value::Map(_), Value::Null) => java_text(left).map(|_| false),
        (Value::Null, _) | (_, Value::Null) => Some(false),
        (Value::List(_), Value::List(_))
        | (Value::Map(_) | Value::StrMap(_), Value::Map(_) | Value::StrMap(_)) => {
            deep_equals(left, right)
        }
        _ => Some(java_text(left)? == java_text(right)?),
    }
}

fn java_text(value: &Value<'_>) -> Option<String> {
    let mut out = String::new();
    value.write_java(&mut out).ok().map(|()| out)
}

/// Java's `equals` on collections: lists element by element, maps by their entries in
/// any order; scalars must be of the same kind.
fn deep_equals(left: &Value<'_>, right: &Value<'_>) -> Option<bool> {
    fn entries(v: &Value<'_>) -> Option<Vec<(String, String)>> {
        let pairs: Vec<(String, Value<'_>)> = match v {
            Value::Map(m) => m
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Value::StrMap(m) => m
                .iter()
                .map(|(k, v)| (k.clone(), Value::Str(Cow::Borrowed(v.as_str()))))
                .collect(),
            _ => return None,
        };
        let mut out = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let mut text = String::new();
            // Compared by kind and text: Java's equals needs the same class.
            let _ = write!(text, "{}:", v.type_name());
            v.write_java(&mut text).ok()?;
            out.push((k, text));
        }
        out.sort();
        Some(out)
    }
    match (left, right) {
        (Value::List(a), Value::List(b)) => {
            let (a, b) = (a.borrow(), b.borrow());
            if a.len() != b.len() {
                return Some(false);
            }
            for (x, y) in a.iter().zip(b.iter()) {
                let equal = match (x, y) {
                    (Value::List(_) | Value::Map(_) | Value::StrMap(_), _) => deep_equals(x, y)?,
                    _ => same(x, y),
                };
                if !equal {
                    return Some(false);
                }
            }
            Some(true)
        }
        _ => Some(entries(left)? == entries(right)?),
    }
}

/// `list.get(i)`, `list[i]`: Java throws on an index out of range.
fn list_get<'a>(items: &[Value<'a>], index: &Value<'a>, offset: usize) -> Result<Value<'a>> {
    match index {
        Value::Int(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| items.get(i))
            .cloned()
            .ok_or_else(|| {
                Pending::evaluation(
                    offset,
                    format!("index {i} is out of range for a list of {}", items.len()),
                )
            }),
        other => Err(Pending::evaluation(
            offset,
            format!("a list index must be a number, not {}", other.type_name()),
        )),
    }
}

/// `java.util.List` methods (an `ArrayList`).
fn list_method<'a>(
    items: &Rc<std::cell::RefCell<crate::value::ListData<'a>>>,
    name: &str,
    args: Vec<Value<'a>>,
    offset: usize,
) -> Result<Value<'a>> {
    let index = |value: &Value<'a>, len: usize| -> Result<usize> {
        match value {
            Value::Int(i) => usize::try_from(*i)
                .ok()
                .filter(|i| *i < len)
                .ok_or_else(|| {
                    Pending::evaluation(
                        offset,
                        format!("index {i} is out of range for a list of {len}"),
                    )
                }),
            other => Err(Pending::evaluation(
                offset,
                format!("{name}(...) needs a number, not {}", other.type_name()),
            )),
        }
    };
    let mut args = args;
    if items.borrow().view && !matches!(name, "size" | "isEmpty" | "contains" | "toString") {
        return Err(Pending::unsupported(
            offset,
            format!(
                "{name}() on a map's keySet() or values(), a Java Set or Collection without \
                 a List's methods (supported: size, isEmpty, contains, toString)"
            ),
        ));
    }
    match (name, args.as_mut_slice()) {
        ("size", []) => Ok(Value::Int(items.borrow().len() as i64)),
        ("isEmpty", []) => Ok(Value::Bool(items.borrow().is_empty())),
        ("get", [i]) => list_get(&items.borrow(), i, offset),
        ("add", [value]) => {
            items
                .borrow_mut()
                .push(std::mem::replace(value, Value::Null));
            Ok(Value::Bool(true))
        }
        ("set", [i, value]) => {
            let mut items = items.borrow_mut();
            let at = index(i, items.len())?;
            Ok(std::mem::replace(
                &mut items[at],
                std::mem::replace(value, Value::Null),
            ))
        }
        ("contains", [value]) => Ok(Value::Bool(
            items.borrow().iter().any(|item| same(item, value)),
        )),
        ("indexOf", [value]) => Ok(Value::Int(
            items
                .borrow()
                .iter()
                .position(|item| same(item, value))
                .map_or(-1, |i| i as i64),
        )),
        ("remove", [i @ Value::Int(_)]) => {
            let mut items = items.borrow_mut();
            let at = index(i, items.len())?;
            Ok(items.remove(at))
        }
        ("toString", []) => java_string(&Value::List(Rc::clone(items)), offset),
        _ => Err(Pending::unsupported(
            offset,
            format!(
                "the list method {name}() with {} argument(s) (supported: size, isEmpty, get, \
                 add, set, contains, indexOf, remove(index), toString)",
                args.len()
            ),
        )),
    }
}

/// Java `equals` between scalar values of the same kind (what `contains` and `indexOf`
/// need); values of different kinds are not equal.
fn same(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        _ => false,
    }
}

/// A value's Java `toString()` as a string value.
fn java_string<'a>(value: &Value<'a>, offset: usize) -> Result<Value<'a>> {
    let mut out = String::new();
    value.write_java(&mut out).map_err(|what| {
        Pending::unsupported(
            offset,
            format!("the toString() of {what} (its Java form is not emulated)"),
        )
    })?;
    Ok(Value::Str(Cow::Owned(out)))
}

/// A map key: this renderer's maps have string keys (JSON objects, map literals with
/// string keys); other keys would need Java's `equals` across types.
fn map_key(key: &Value<'_>, offset: usize) -> Result<String> {
    match key {
        Value::Str(s) => Ok(s.clone().into_owned()),
        other => Err(Pending::unsupported(
            offset,
            format!("a map key that is {} (only string keys)", other.type_name()),
        )),
    }
}

/// `LinkedHashMap.put`: a new key goes last, an existing one keeps its place.
fn put<'a>(entries: &mut Vec<(String, Value<'a>)>, key: String, value: Value<'a>) -> Value<'a> {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => std::mem::replace(&mut entry.1, value),
        None => {
            entries.push((key, value));
            Value::Null
        }
    }
}

/// Velocity 1.7's `ASTIntegerRange`: both ends are numbers (their `intValue()`), the
/// range counts up or down and includes both; anything else is null.
fn range<'a>(from: &Value<'a>, to: &Value<'a>, offset: usize) -> Result<Value<'a>> {
    let int = |v: &Value<'_>| match v {
        Value::Int(i) => Some(*i as i32 as i64),
        Value::Float(f) => Some(*f as i32 as i64),
        _ => None,
    };
    let (Some(from), Some(to)) = (int(from), int(to)) else {
        return Ok(Value::Null);
    };
    if (to - from).abs() >= MAX_RANGE {
        return Err(Pending::evaluation(
            offset,
            format!("the range [{from}..{to}] has more than {MAX_RANGE} elements"),
        ));
    }
    let items: Vec<Value<'a>> = if from <= to {
        (from..=to).map(Value::Int).collect()
    } else {
        (to..=from).rev().map(Value::Int).collect()
    };
    Ok(Value::list(items))
}

/// Velocity 1.7's `ASTMathNode` and `MathUtils`: `+` with a string operand concatenates;
/// integers stay integers (Java `long` semantics: `/` truncates, `%` takes the sign of
/// the dividend); a decimal operand makes a `double`; dividing by zero, or an operand
/// that is null or not a number, gives null.
fn arithmetic<'a>(
    op: Arithmetic,
    left: Value<'a>,
    right: Value<'a>,
    offset: usize,
) -> Result<Value<'a>> {
    if op == Arithmetic::Add && (matches!(left, Value::Str(_)) || matches!(right, Value::Str(_))) {
        if matches!(left, Value::Null) || matches!(right, Value::Null) {
            return Err(Pending::unsupported(
                offset,
                "adding null to a string (Velocity would insert the reference's source text)",
            ));
        }
        let mut out = String::new();
        for operand in [&left, &right] {
            operand.write_java(&mut out).map_err(|what| {
                Pending::unsupported(offset, format!("adding {what} to a string"))
            })?;
        }
        return Ok(Value::Str(Cow::Owned(out)));
    }
    match (&left, &right) {
        (Value::Int(a), Value::Int(b)) => {
            let (a, b) = (*a, *b);
            if matches!(op, Arithmetic::Div | Arithmetic::Mod) && b == 0 {
                return Ok(Value::Null);
            }
            let result = match op {
                Arithmetic::Add => a.checked_add(b),
                Arithmetic::Sub => a.checked_sub(b),
                Arithmetic::Mul => a.checked_mul(b),
                Arithmetic::Div => a.checked_div(b),
                Arithmetic::Mod => a.checked_rem(b),
            };
            result.map(Value::Int).ok_or_else(|| {
                Pending::unsupported(
                    offset,
                    "integer arithmetic beyond 64 bits (Velocity switches to BigInteger)",
                )
            })
        }
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let float = |v: &Value<'_>| match v {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                _ => unreachable!("numbers"),
            };
            let (a, b) = (float(&left), float(&right));
            if matches!(op, Arithmetic::Div | Arithmetic::Mod) && b == 0.0 {
                return Ok(Value::Null);
            }
            Ok(Value::Float(match op {
                Arithmetic::Add => a + b,
                Arithmetic::Sub => a - b,
                Arithmetic::Mul => a * b,
                Arithmetic::Div => a / b,
                Arithmetic::Mod => a % b,
            }))
        }
        _ => Ok(Value::Null),
    }
}
