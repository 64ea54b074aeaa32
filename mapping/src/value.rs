//! Values a template computes with, JSON in and out, and the JSONPath subset.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A value during rendering. Borrows from the [`RenderContext`](crate::RenderContext) and the
/// template where it can, so that the common path (read a string, escape it) allocates once.
#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    /// Java `null`: a missing variable, key or JSON field.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    /// A Java `char` (from `charAt`): renders as the character, but has none of
    /// String's methods.
    Char(char),
    /// A `java.util.List`: shared and mutable, as in Java (`#set($b = $a)` aliases).
    List(Rc<RefCell<ListData<'a>>>),
    /// A `String[]` (from `split`): Velocity indexes and iterates it, but renders it as
    /// `[Ljava.lang.String;@hash`, so rendering it is refused.
    Array(Rc<Vec<Value<'a>>>),
    /// An ordered map (JSON objects keep their document order, as Java's `LinkedHashMap`
    /// and Velocity's map literals do); shared and mutable.
    Map(Rc<RefCell<Vec<(String, Value<'a>)>>>),
    /// A map of strings straight from the request context.
    StrMap(&'a BTreeMap<String, String>),
    Builtin(Builtin),
    /// `$foreach` inside a loop.
    Foreach {
        index: usize,
        has_next: bool,
    },
    /// A `#define` block: rendered where referenced.
    Block(&'a [crate::ast::Node]),
}

/// A list's elements, and whether it came from JSON.
#[derive(Debug, Clone)]
pub(crate) struct ListData<'a> {
    pub(crate) items: Vec<Value<'a>>,
    /// A JSON array (`$input.path`, `$util.parseJson`): AWS renders it as JSON
    /// (`[{"foo":"bar"}]`), where a Velocity list renders as `[a, b]` (LocalStack's
    /// aws-validated test_input_path_template_formatting).
    pub(crate) json: bool,
    /// A map's `keySet()` or `values()`: a Java Set or Collection, not a List. It
    /// iterates and renders as a list does, but has none of a List's positional
    /// methods (`get`, `indexOf`, ...), for which Velocity finds no method.
    pub(crate) view: bool,
}

impl<'a> std::ops::Deref for ListData<'a> {
    type Target = Vec<Value<'a>>;
    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

impl std::ops::DerefMut for ListData<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.items
    }
}

/// The objects API Gateway puts in a template's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Context,
    Identity,
    Error,
    Input,
    Util,
    StageVariables,
}

impl Builtin {
    pub(crate) fn by_name(name: &str) -> Option<Builtin> {
        match name {
            "context" => Some(Builtin::Context),
            "input" => Some(Builtin::Input),
            "util" => Some(Builtin::Util),
            "stageVariables" => Some(Builtin::StageVariables),
            _ => None,
        }
    }
}

impl<'a> Value<'a> {
    pub(crate) fn list(items: Vec<Value<'a>>) -> Self {
        Value::List(Rc::new(RefCell::new(ListData {
            items,
            json: false,
            view: false,
        })))
    }

    /// A map's `keySet()` or `values()` (see [`ListData::view`]).
    pub(crate) fn collection_view(items: Vec<Value<'a>>) -> Self {
        Value::List(Rc::new(RefCell::new(ListData {
            items,
            json: false,
            view: true,
        })))
    }

    pub(crate) fn json_list(items: Vec<Value<'a>>) -> Self {
        Value::List(Rc::new(RefCell::new(ListData {
            items,
            json: true,
            view: false,
        })))
    }

    pub(crate) fn map(entries: Vec<(String, Value<'a>)>) -> Self {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    /// A copy that shares nothing mutable with `self` (each `$input.path` call hands out
    /// a fresh object, as API Gateway parses the body per call).
    pub(crate) fn deep_copy(&self) -> Self {
        match self {
            Value::List(items) => {
                let items = items.borrow();
                let copied = items.iter().map(Value::deep_copy).collect();
                if items.json {
                    Value::json_list(copied)
                } else {
                    Value::list(copied)
                }
            }
            Value::Map(entries) => Value::map(
                entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Java's `toString()` as Velocity renders it: collections as `[a, b]` and `{k=v}`
    /// (`AbstractCollection` and `AbstractMap`), null inside them as `null`. `Err` names
    /// a value whose Java form is not emulated.
    pub(crate) fn write_java(&self, out: &mut String) -> Result<(), &'static str> {
        self.write_java_nested(out, 0)
    }

    fn write_java_nested(&self, out: &mut String, depth: usize) -> Result<(), &'static str> {
        // A collection can contain itself (`#set($m.k = $m)`); Java prints
        // `(this Map)` for the direct case only, so deep nesting is refused.
        if depth > 64 {
            return Err("a collection nested more than 64 deep (or containing itself)");
        }
        match self {
            Value::Null => out.push_str("null"),
            Value::List(items) if items.borrow().json => {
                write_json(self, out).map_err(|_| "a JSON list holding a non-JSON value")?;
            }
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_java_nested(out, depth + 1)?;
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (i, (key, item)) in entries.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key);
                    out.push('=');
                    item.write_java_nested(out, depth + 1)?;
                }
                out.push('}');
            }
            Value::StrMap(map) => {
                out.push('{');
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key);
                    out.push('=');
                    out.push_str(item);
                }
                out.push('}');
            }
            other => match other.scalar_string() {
                Some(text) => out.push_str(&text),
                None => return Err(other.type_name()),
            },
        }
        Ok(())
    }

    /// What the value is, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Char(_) => "a char",
            Value::List(_) => "a list",
            Value::Array(_) => "an array (String[])",
            Value::Block(_) => "a #define block",
            Value::Map(_) | Value::StrMap(_) => "a map",
            Value::Builtin(Builtin::Context) => "$context",
            Value::Builtin(Builtin::Identity) => "$context.identity",
            Value::Builtin(Builtin::Error) => "$context.error",
            Value::Builtin(Builtin::Input) => "$input",
            Value::Builtin(Builtin::Util) => "$util",
            Value::Builtin(Builtin::StageVariables) => "$stageVariables",
            Value::Foreach { .. } => "$foreach",
        }
    }

    /// Java's `toString()` for the scalar values; `None` for the others, whose Java form
    /// (a `HashMap`'s `{a=1}`, an object's class name) is not emulated.
    pub(crate) fn scalar_string(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Char(c) => Some(Cow::Owned(c.to_string())),
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::Int(i) => Some(Cow::Owned(i.to_string())),
            Value::Float(f) => Some(Cow::Owned(java_double(*f))),
            _ => None,
        }
    }
}

/// Java's `Double.toString`: plain decimal between 10^-3 and 10^7 (always with a
/// fractional part), computerized scientific notation (`1.0E10`) outside it.
pub(crate) fn java_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let magnitude = f.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = format!("{f}");
        return if text.contains('.') {
            text
        } else {
            text + ".0"
        };
    }
    let text = format!("{f:e}");
    let (mantissa, exponent) = text.split_once('e').expect("`{:e}` has an exponent");
    if mantissa.contains('.') {
        format!("{mantissa}E{exponent}")
    } else {
        format!("{mantissa}.0E{exponent}")
    }
}

/// A JSON document parsed into a [`Value`], keeping object keys in document order (a
/// repeated key keeps its first position and its last value, like Java's `LinkedHashMap`).
pub(crate) struct Json<'a>(pub(crate) Value<'a>);

impl<'de, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(JsonVisitor(std::marker::PhantomData))
            .map(Json)
    }
}

struct JsonVisitor<'a>(std::marker::PhantomData<Value<'a>>);

impl<'de, 'a> Visitor<'de> for JsonVisitor<'a> {
    type Value = Value<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Json(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::json_list(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(String, Value<'a>)> = Vec::new();
        while let Some((key, Json(value))) = map.next_entry::<String, Json>()? {
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
        }
        Ok(Value::map(entries))
    }
}

/// Parses JSON text into a [`Value`].
pub(crate) fn parse_json<'a>(text: &str) -> Result<Value<'a>, String> {
    serde_json::from_str::<Json<'a>>(text)
        .map(|Json(value)| value)
        .map_err(|error| error.to_string())
}

/// Writes a value as compact JSON. Errors on values that have no JSON form.
pub(crate) fn write_json(value: &Value<'_>, out: &mut String) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str("null"),
        },
        Value::Str(s) => out.push_str(&serde_json::to_string(s.as_ref()).expect("a str")),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out)?;
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("a str"));
                out.push(':');
                write_json(item, out)?;
            }
            out.push('}');
        }
        Value::StrMap(map) => out.push_str(&serde_json::to_string(map).expect("strings")),
        other => return Err(format!("{} has no JSON form", other.type_name())),
    }
    Ok(())
}

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathStep {
    Key(String),
    Index(usize),
}

/// Parses the JSONPath subset: `$`, `.name`, `['name']`, `["name"]`, `[n]`.
pub(crate) fn parse_json_path(path: &str) -> Result<Vec<PathStep>, String> {
    let unsupported = |what: &str| {
        Err(format!(
            "JSONPath {path:?}: {what} is not supported (only $, .name, ['name'] and [n])"
        ))
    };
    let Some(mut rest) = path.strip_prefix('$') else {
        return Err(format!("JSONPath {path:?} must start with `$`"));
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            if after.starts_with('.') {
                return unsupported("deep scan (`..`)");
            }
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            if name.is_empty() {
                return Err(format!("JSONPath {path:?}: empty name after `.`"));
            }
            if name == "*" {
                return unsupported("the wildcard `*`");
            }
            steps.push(PathStep::Key(name.to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else {
                return Err(format!("JSONPath {path:?}: unclosed `[`"));
            };
            let inner = after[..end].trim();
            let quoted = |q: char| inner.strip_prefix(q).and_then(|s| s.strip_suffix(q));
            if let Some(name) = quoted('\'').or_else(|| quoted('"')) {
                if name.contains(['\'', '"', '\\']) {
                    return unsupported("a quoted name with quotes or escapes");
                }
                steps.push(PathStep::Key(name.to_owned()));
            } else if let Ok(index) = inner.parse::<usize>() {
                steps.push(PathStep::Index(index));
            } else {
                return unsupported(&format!("`[{inner}]`"));
            }
            rest = &after[end + 1..];
        } else {
            return Err(format!("JSONPath {path:?}: unexpected {rest:?}"));
        }
    }
    Ok(steps)
}

/// Follows a parsed JSONPath; `None` when a step does not exist.
pub(crate) fn select<'a>(root: &Value<'a>, steps: &[PathStep]) -> Option<Value<'a>> {
    let mut current = root.clone();
    for step in steps {
        current = match (step, &current) {
            (PathStep::Key(key), Value::Map(entries)) => {
                entries.borrow().iter().find(|(k, _)| k == key)?.1.clone()
            }
            (PathStep::Index(index), Value::List(items)) => items.borrow().get(*index)?.clone(),
            _ => return None,
        };
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_doubles_like_java() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(249.99), "249.99");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(-1.5e10), "-1.5E10");
        assert_eq!(java_double(0.0), "0.0");
    }

    #[test]
    fn keeps_json_object_keys_in_document_order() {
        let value = parse_json(r#"{"b":1,"a":{"z":true,"y":null},"b":2}"#).unwrap();
        let mut out = String::new();
        write_json(&value, &mut out).unwrap();
        assert_eq!(out, r#"{"b":2,"a":{"z":true,"y":null}}"#);
    }

    #[test]
    fn parses_the_json_path_subset() {
        assert_eq!(parse_json_path("$").unwrap(), vec![]);
        assert_eq!(
            parse_json_path("$.a['b c'][2]").unwrap(),
            vec![
                PathStep::Key("a".into()),
                PathStep::Key("b c".into()),
                PathStep::Index(2)
            ]
        );
        let only = "is not supported (only $, .name, ['name'] and [n])";
        for (path, error) in [
            ("a", "JSONPath \"a\" must start with `$`".to_owned()),
            (
                "$..a",
                format!("JSONPath \"$..a\": deep scan (`..`) {only}"),
            ),
            ("$.*", format!("JSONPath \"$.*\": the wildcard `*` {only}")),
            (
                "$[?(@.a)]",
                format!("JSONPath \"$[?(@.a)]\": `[?(@.a)]` {only}"),
            ),
            ("$[0:2]", format!("JSONPath \"$[0:2]\": `[0:2]` {only}")),
        ] {
            assert_eq!(parse_json_path(path), Err(error), "{path}");
        }
    }
}
