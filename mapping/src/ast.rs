//! The parsed form of a template. Offsets are byte offsets into the template source.

use crate::java_regex::ReplaceAll;
use crate::value::Builtin;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Reference(Reference),
    Set {
        name: String,
        value: Expr,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Foreach {
        variable: String,
        iterable: Reference,
        body: Vec<Node>,
    },
}

/// `$root.step.step(...)[...]`, in any of its notations.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub(crate) root: String,
    /// The API Gateway object `root` names, if any (a `#set` variable of the same name
    /// takes precedence at render time).
    pub(crate) builtin: Option<Builtin>,
    pub(crate) steps: Vec<Step>,
    pub(crate) offset: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum Step {
    Property {
        name: String,
        offset: usize,
    },
    Method {
        name: String,
        args: Vec<Expr>,
        offset: usize,
        /// `replaceAll` with literal arguments, compiled once at parse time.
        compiled: Option<Box<ReplaceAll>>,
    },
    Index {
        index: Expr,
        offset: usize,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub(crate) kind: ExprKind,
    pub(crate) offset: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum ExprKind {
    /// A string literal without interpolation (single-quoted, or double-quoted without
    /// `$` or `#`), after Velocity 1.7's processing.
    Str(String),
    /// A double-quoted literal containing `$` or `#`: rendered as a template.
    Interpolated(Vec<Node>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Reference(Box<Reference>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Comparison, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}
