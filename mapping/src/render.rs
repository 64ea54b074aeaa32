//! Evaluates a parsed template against a [`RenderContext`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::ast::{Comparison, Expr, ExprKind, Node, Reference, Step};
use crate::context::RenderContext;
use crate::error::{Pending, PendingKind};
use crate::functions;
use crate::java_regex::{ReplaceAll, ReplaceError};
use crate::value::{self, Builtin, Value};

/// The `$context` properties this renderer emulates.
const CONTEXT_PROPERTIES: &str =
    "authorizer, identity, error, stage, requestId, httpMethod, resourcePath, path";

pub(crate) struct Renderer<'a> {
    context: &'a RenderContext,
    variables: HashMap<&'a str, Value<'a>>,
    /// The request body parsed as JSON, once, on first use.
    body: Option<std::result::Result<Rc<Value<'a>>, String>>,
}

type Result<T> = std::result::Result<T, Pending>;

impl<'a> Renderer<'a> {
    pub(crate) fn new(context: &'a RenderContext) -> Self {
        Renderer {
            context,
            variables: HashMap::new(),
            body: None,
        }
    }

    pub(crate) fn render(&mut self, nodes: &'a [Node], out: &mut String) -> Result<()> {
        for node in nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Reference(reference) => {
                    let value = self.reference(reference)?;
                    write_value(&value, reference.offset, out)?;
                }
                Node::Set { name, value } => {
                    let value = self.value(value)?;
                    // Velocity 1.7 (`directive.set.null.allowed=false`): a null right-hand
                    // side leaves the variable unchanged.
                    if !matches!(value, Value::Null) {
                        self.variables.insert(name, value);
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mut taken = false;
                    for (condition, body) in branches {
                        if self.condition(condition)? {
                            self.render(body, out)?;
                            taken = true;
                            break;
                        }
                    }
                    if !taken {
                        self.render(otherwise, out)?;
                    }
                }
                Node::Foreach {
                    variable,
                    iterable,
                    body,
                } => self.foreach(variable, iterable, body, out)?,
            }
        }
        Ok(())
    }

    fn foreach(
        &mut self,
        variable: &'a str,
        iterable: &'a Reference,
        body: &'a [Node],
        out: &mut String,
    ) -> Result<()> {
        let items: Vec<Value<'a>> = match self.reference(iterable)? {
            // Velocity skips a loop over null.
            Value::Null => return Ok(()),
            Value::List(items) => items.iter().cloned().collect(),
            // Iterating a map iterates its values, as Velocity does.
            Value::Map(entries) => entries.iter().map(|(_, v)| v.clone()).collect(),
            Value::StrMap(map) => map.values().map(|v| Value::Str(Cow::Borrowed(v))).collect(),
            other => {
                return Err(Pending::evaluation(
                    iterable.offset,
                    format!("#foreach cannot iterate over {}", other.type_name()),
                ));
            }
        };
        // The loop variable and the loop helpers are restored afterwards.
        const HELPERS: [&str; 3] = ["foreach", "velocityCount", "velocityHasNext"];
        let saved_variable = self.variables.remove(variable);
        let saved_helpers = HELPERS.map(|name| self.variables.remove(name));
        let count = items.len();
        for (index, item) in items.into_iter().enumerate() {
            let has_next = index + 1 < count;
            self.variables.insert(variable, item);
            self.variables
                .insert("foreach", Value::Foreach { index, has_next });
            self.variables
                .insert("velocityCount", Value::Int(index as i64 + 1));
            self.variables
                .insert("velocityHasNext", Value::Bool(has_next));
            self.render(body, out)?;
        }
        restore(&mut self.variables, variable, saved_variable);
        for (name, saved) in HELPERS.into_iter().zip(saved_helpers) {
            restore(&mut self.variables, name, saved);
        }
        Ok(())
    }

    /// An `#if` condition: Velocity's `evaluate`.
    fn condition(&mut self, expr: &'a Expr) -> Result<bool> {
        match &expr.kind {
            ExprKind::Bool(b) => Ok(*b),
            ExprKind::Reference(reference) => Ok(match self.reference(reference)? {
                Value::Null => false,
                Value::Bool(b) => b,
                _ => true,
            }),
            ExprKind::Not(inner) => Ok(!self.condition(inner)?),
            ExprKind::And(left, right) => Ok(self.condition(left)? && self.condition(right)?),
            ExprKind::Or(left, right) => Ok(self.condition(left)? || self.condition(right)?),
            ExprKind::Compare(comparison, left, right) => {
                let left = self.value(left)?;
                let right = self.value(right)?;
                compare(*comparison, &left, &right, expr.offset)
            }
            ExprKind::Str(_)
            | ExprKind::Interpolated(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_) => Err(Pending::unsupported(
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
        })
    }

    pub(crate) fn reference(&mut self, reference: &'a Reference) -> Result<Value<'a>> {
        let mut current = self.root(reference);
        for step in &reference.steps {
            // Velocity stops at the first null in a chain (and the result is null).
            if matches!(current, Value::Null) {
                return Ok(Value::Null);
            }
            current = match step {
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
            };
        }
        Ok(current)
    }

    fn root(&self, reference: &'a Reference) -> Value<'a> {
        if !self.variables.is_empty()
            && let Some(value) = self.variables.get(reference.root.as_str())
        {
            return value.clone();
        }
        match reference.builtin {
            Some(Builtin::StageVariables) => Value::StrMap(&self.context.stage_variables),
            Some(builtin) => Value::Builtin(builtin),
            None => Value::Null,
        }
    }

    fn property(&mut self, target: Value<'a>, name: &str, offset: usize) -> Result<Value<'a>> {
        let context = self.context;
        let text = |s: &'a String| Value::Str(Cow::Borrowed(s.as_str()));
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
                _ => {
                    return Err(Pending::unsupported(
                        offset,
                        format!(
                            "$context.{name} is not emulated (supported: {CONTEXT_PROPERTIES})"
                        ),
                    ));
                }
            },
            Value::Builtin(Builtin::Identity) => match name {
                "sourceIp" => text(&context.source_ip),
                "userAgent" => text(&context.user_agent),
                _ => {
                    return Err(Pending::unsupported(
                        offset,
                        format!(
                            "$context.identity.{name} is not emulated (supported: sourceIp, userAgent)"
                        ),
                    ));
                }
            },
            Value::Builtin(Builtin::Error) => match name {
                "message" | "messageString" | "responseType" | "validationErrorString" => {
                    context.error.get(name).map_or(Value::Null, text)
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
            Value::Builtin(Builtin::Input) if name == "body" => text(&context.body),
            Value::StrMap(map) => map.get(name).map_or(Value::Null, text),
            Value::Map(entries) => entries
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
            Value::List(ref items) => match name {
                "size" => arity(0).map(|()| Value::Int(items.len() as i64)),
                "isEmpty" => arity(0).map(|()| Value::Bool(items.is_empty())),
                "get" => {
                    arity(1)?;
                    match &args[0] {
                        Value::Int(i) if *i >= 0 && (*i as usize) < items.len() => {
                            Ok(items[*i as usize].clone())
                        }
                        Value::Int(i) => Err(Pending::evaluation(
                            offset,
                            format!("get({i}): index out of range for a list of {}", items.len()),
                        )),
                        other => Err(Pending::evaluation(
                            offset,
                            format!(
                                "get(...) on a list needs a number, not {}",
                                other.type_name()
                            ),
                        )),
                    }
                }
                _ => Err(Pending::unsupported(
                    offset,
                    format!("the list method {name}() (supported: size, isEmpty, get)"),
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
            ("params", []) => Ok(Value::Map(Rc::new(vec![
                ("path".to_owned(), Value::StrMap(&context.path_params)),
                ("querystring".to_owned(), Value::StrMap(&context.query)),
                ("header".to_owned(), Value::StrMap(&context.headers)),
            ]))),
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
                    return Ok(selected.cloned().unwrap_or(Value::Null));
                }
                let Some(selected) = selected else {
                    // A path that does not exist renders as nothing.
                    return Ok(Value::Str(Cow::Borrowed("")));
                };
                let mut json = String::new();
                value::write_json(selected, &mut json)
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
                Ok(Rc::new(Value::Map(Rc::new(Vec::new()))))
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
            (Value::List(items), Value::Int(i)) => {
                if *i >= 0 && (*i as usize) < items.len() {
                    Ok(items[*i as usize].clone())
                } else {
                    Err(Pending::evaluation(
                        offset,
                        format!("index [{i}] is out of range for a list of {}", items.len()),
                    ))
                }
            }
            (Value::StrMap(_) | Value::Map(_), _) => map_method(&target, "get", &[index], offset),
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

/// Writes a value where a reference stands in the text.
fn write_value(value: &Value<'_>, offset: usize, out: &mut String) -> Result<()> {
    match value {
        // API Gateway renders a null reference as nothing (stock Velocity would print the
        // reference's source text unless written `$!x`).
        Value::Null => {}
        Value::Str(s) => out.push_str(s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&value::java_double(*f)),
        other => {
            return Err(Pending::unsupported(
                offset,
                format!(
                    "rendering {} as text (its Java toString() form is not emulated); render \
                     its elements, or use $input.json(...) for JSON",
                    other.type_name()
                ),
            ));
        }
    }
    Ok(())
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
        _ => Err(Pending::unsupported(
            offset,
            format!(
                "the string method {name}() (supported: replaceAll, replace, toLowerCase, \
                 toUpperCase, trim, length, isEmpty, contains, startsWith, endsWith, equals)"
            ),
        )),
    }
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
    let entries: Vec<(&str, Value<'a>)> = match target {
        Value::StrMap(map) => map
            .iter()
            .map(|(k, v)| (k.as_str(), Value::Str(Cow::Borrowed(v.as_str()))))
            .collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect(),
        _ => unreachable!("map_method is called on maps"),
    };
    let key = |args: &[Value<'a>]| -> Result<Option<String>> {
        match args {
            [value] => Ok(value.scalar_string().map(|s| s.into_owned())),
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
            Ok(Value::List(Rc::new(
                entries
                    .iter()
                    .map(|(k, _)| Value::Str(Cow::Owned((*k).to_owned())))
                    .collect(),
            )))
        }
        "values" => {
            no_args()?;
            Ok(Value::List(Rc::new(
                entries.into_iter().map(|(_, v)| v).collect(),
            )))
        }
        "size" => no_args().map(|()| Value::Int(entries.len() as i64)),
        "isEmpty" => no_args().map(|()| Value::Bool(entries.is_empty())),
        "get" => {
            let key = key(args)?;
            Ok(entries
                .into_iter()
                .find(|(k, _)| Some(*k) == key.as_deref())
                .map_or(Value::Null, |(_, v)| v))
        }
        "containsKey" => {
            let key = key(args)?;
            Ok(Value::Bool(
                entries.iter().any(|(k, _)| Some(*k) == key.as_deref()),
            ))
        }
        _ => Err(Pending::unsupported(
            offset,
            format!(
                "the map method {name}() (supported: keySet, values, get, containsKey, size, isEmpty)"
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
            let (Some(l), Some(r)) = (number(left), number(right)) else {
                return Err(Pending::evaluation(
                    offset,
                    format!(
                        "<, <=, > and >= compare numbers, not {} and {}",
                        left.type_name(),
                        right.type_name()
                    ),
                ));
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

/// Velocity 1.7 equality: numbers by value, nulls equal each other only, same-type values
/// by `equals`, otherwise by their `toString()` forms. `None` when that would need the
/// `toString()` of a map, list or API Gateway object.
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
        (Value::Null, _) | (_, Value::Null) => Some(false),
        _ => Some(left.scalar_string()? == right.scalar_string()?),
    }
}
