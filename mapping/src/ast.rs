//! The parsed form of a template. Offsets are byte offsets into the template source.

use crate::java_regex::ReplaceAll;
use crate::value::Builtin;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Reference(Reference),
    /// `#set($name = value)`, or with `steps` `#set($name.a[0].b = value)`: the steps but
    /// the last are read, the last (a property or index) is assigned.
    Set {
        name: String,
        steps: Vec<Step>,
        value: Expr,
        offset: usize,
    },
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Foreach {
        variable: String,
        iterable: Expr,
        body: Vec<Node>,
    },
    /// `#define($name) body #end`: `$name` renders the body when referenced.
    Define {
        name: String,
        body: Vec<Node>,
    },
    /// `#break`: leaves the innermost `#foreach` (or the template).
    Break,
    /// `#stop`: ends rendering; what was rendered so far is the output.
    Stop,
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
    Arithmetic(Arithmetic, Box<Expr>, Box<Expr>),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{"k": v}`
    Map(Vec<(Expr, Expr)>),
    /// `[from..to]`
    Range(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arithmetic {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
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
