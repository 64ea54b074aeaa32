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

/// Whether rendering `nodes` may read the request's parameters (`$input.params`: path,
/// query string and headers), so a caller that knows it cannot skips building them.
/// Conservative: any use of `$input` other than `$input.body`, `$input.json(..)` and
/// `$input.path(..)` counts (an alias, `#set($i = $input)`, included).
pub(crate) fn reads_params(nodes: &[Node]) -> bool {
    nodes.iter().any(|node| match node {
        Node::Text(_) | Node::Break | Node::Stop => false,
        Node::Reference(reference) => reference.reads_params(),
        Node::Set { steps, value, .. } => {
            steps.iter().any(Step::reads_params) || value.reads_params()
        }
        Node::If {
            branches,
            otherwise,
        } => {
            branches
                .iter()
                .any(|(condition, body)| condition.reads_params() || reads_params(body))
                || reads_params(otherwise)
        }
        Node::Foreach { iterable, body, .. } => iterable.reads_params() || reads_params(body),
        Node::Define { body, .. } => reads_params(body),
    })
}

impl Reference {
    fn reads_params(&self) -> bool {
        let body_only = match self.steps.first() {
            Some(Step::Property { name, .. }) => name == "body",
            Some(Step::Method { name, .. }) => name == "json" || name == "path",
            _ => false,
        };
        (self.root == "input" && !body_only) || self.steps.iter().any(Step::reads_params)
    }
}

impl Step {
    fn reads_params(&self) -> bool {
        match self {
            Step::Property { .. } => false,
            Step::Method { args, .. } => args.iter().any(Expr::reads_params),
            Step::Index { index, .. } => index.reads_params(),
        }
    }
}

impl Expr {
    fn reads_params(&self) -> bool {
        match &self.kind {
            ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) => false,
            ExprKind::Interpolated(nodes) => reads_params(nodes),
            ExprKind::Reference(reference) => reference.reads_params(),
            ExprKind::Not(e) => e.reads_params(),
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::Arithmetic(_, a, b)
            | ExprKind::Range(a, b) => a.reads_params() || b.reads_params(),
            ExprKind::List(items) => items.iter().any(Expr::reads_params),
            ExprKind::Map(entries) => entries
                .iter()
                .any(|(k, v)| k.reads_params() || v.reads_params()),
        }
    }
}

/// Whether rendering `nodes` reads nothing but `$context.authorizer` and `$util` (whose
/// functions are pure) and assigns nothing: its output is then a function of the
/// authorizer's context alone. Conservative: any other variable (a `#set` or `#foreach`
/// one included), and `#set`, `#foreach` and `#define` themselves, count as more.
pub(crate) fn reads_only_authorizer(nodes: &[Node]) -> bool {
    nodes.iter().all(|node| match node {
        Node::Text(_) | Node::Break | Node::Stop => true,
        Node::Reference(reference) => reference.reads_only_authorizer(),
        Node::If {
            branches,
            otherwise,
        } => {
            branches.iter().all(|(condition, body)| {
                condition.reads_only_authorizer() && reads_only_authorizer(body)
            }) && reads_only_authorizer(otherwise)
        }
        Node::Set { .. } | Node::Foreach { .. } | Node::Define { .. } => false,
    })
}

impl Reference {
    fn reads_only_authorizer(&self) -> bool {
        let rest = match (self.builtin, self.steps.split_first()) {
            (Some(Builtin::Util), _) => self.steps.as_slice(),
            (Some(Builtin::Context), Some((Step::Property { name, .. }, rest)))
                if name == "authorizer" =>
            {
                rest
            }
            _ => return false,
        };
        rest.iter().all(Step::reads_only_authorizer)
    }
}

impl Step {
    fn reads_only_authorizer(&self) -> bool {
        match self {
            Step::Property { .. } => true,
            Step::Method { args, .. } => args.iter().all(Expr::reads_only_authorizer),
            Step::Index { index, .. } => index.reads_only_authorizer(),
        }
    }
}

impl Expr {
    fn reads_only_authorizer(&self) -> bool {
        match &self.kind {
            ExprKind::Str(_) | ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) => true,
            ExprKind::Interpolated(nodes) => reads_only_authorizer(nodes),
            ExprKind::Reference(reference) => reference.reads_only_authorizer(),
            ExprKind::Not(e) => e.reads_only_authorizer(),
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::Arithmetic(_, a, b)
            | ExprKind::Range(a, b) => a.reads_only_authorizer() && b.reads_only_authorizer(),
            ExprKind::List(items) => items.iter().all(Expr::reads_only_authorizer),
            ExprKind::Map(entries) => entries
                .iter()
                .all(|(k, v)| k.reads_only_authorizer() && v.reads_only_authorizer()),
        }
    }
}
