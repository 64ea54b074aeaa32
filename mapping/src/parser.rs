//! A hand-written parser for the Velocity 1.7 subset (see the crate docs).
//!
//! Hand-written because no maintained Rust crate implements Velocity with API Gateway's
//! semantics, and the details are the point: which whitespace a directive swallows, what a
//! string literal's backslashes mean, where a reference ends. The lexical rules follow
//! Velocity 1.7's `Parser.jjt`; the comments say which rule each branch mirrors.

use crate::ast::{Arithmetic, Comparison, Expr, ExprKind, Node, Reference, Step};
use crate::error::{Pending, PendingKind};
use crate::java_regex::ReplaceAll;
use crate::value::Builtin;

/// Velocity directives this renderer knows but refuses (they would need macros, other
/// templates, or control flow API Gateway templates do not use).
const UNSUPPORTED_DIRECTIVES: &[&str] = &["macro", "parse", "include", "evaluate"];

/// Parses a whole template. `base` is added to every offset (non-zero for the body of an
/// interpolated string literal, so errors point into the enclosing template).
pub(crate) fn parse(source: &str, base: usize) -> Result<Vec<Node>, Pending> {
    let mut parser = Parser {
        src: source,
        b: source.as_bytes(),
        pos: 0,
        base,
        lex: Lex::Default,
        lex_stack: Vec::new(),
    };
    let (nodes, end, offset) = parser.block()?;
    match end {
        BlockEnd::Eof => Ok(nodes),
        BlockEnd::End => Err(Pending::syntax(
            offset,
            "#end without a matching #if or #foreach",
        )),
        BlockEnd::Else | BlockEnd::ElseIf(_) => Err(Pending::syntax(
            offset,
            "#else or #elseif without a matching #if",
        )),
    }
}

/// What ended a block of statements.
enum BlockEnd {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    base: usize,
    /// A model of Velocity 1.7's lexical state around references, as far as it changes
    /// what text means: after `$a.b` (REFMODIFIER) `##` is text, and `#set` or a nested
    /// reference returns to that state.
    lex: Lex,
    lex_stack: Vec<Lex>,
}

/// The lexical states of Velocity 1.7's `Parser.jjt` that text after a reference depends
/// on (the others are inside directives and references, which this parser reads itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Default,
    /// After `$a`, `$a.b()` or `$a[0]`.
    Reference,
    /// After `$a.b`.
    RefModifier,
}

fn reference_ends_with_property(reference: &Reference) -> bool {
    match reference
        .steps
        .iter()
        .rev()
        .find(|s| !matches!(s, Step::Index { .. }))
    {
        // `$a.b[0]` returns to REFMODIFIER after the index; `$a[0]` to REFERENCE.
        Some(Step::Property { .. }) => true,
        _ => false,
    }
}

fn push_text(nodes: &mut Vec<Node>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Node::Text(last)) = nodes.last_mut() {
        last.push_str(text);
    } else {
        nodes.push(Node::Text(text.to_owned()));
    }
}

fn is_identifier_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// Velocity 1.7's `IDENTIFIER_CHAR`: note the `-`, so `$a-b` is one name.
fn is_identifier_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Velocity 1.7's `DIRECTIVE_CHAR`.
fn is_directive_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'@'
}

impl Parser<'_> {
    fn lex_pop(&mut self) {
        self.lex = self.lex_stack.pop().unwrap_or(Lex::Default);
    }

    /// A character no reference state has a token for pops them all.
    fn lex_reset(&mut self) {
        while matches!(self.lex, Lex::Reference | Lex::RefModifier) {
            self.lex_pop();
        }
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    fn peek(&self) -> Option<u8> {
        self.at(self.pos)
    }

    fn offset(&self, i: usize) -> usize {
        self.base + i
    }

    fn syntax(&self, at: usize, message: impl Into<String>) -> Pending {
        Pending::syntax(self.offset(at), message)
    }

    fn unsupported(&self, at: usize, what: impl Into<String>) -> Pending {
        Pending::unsupported(self.offset(at), what)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// After a directive's closing `)`, `#else` or `#end`: spaces and tabs up to and
    /// including one newline are swallowed, but only if the newline is there (the
    /// `RPAREN`, `ELSE_DIRECTIVE` and `END` tokens).
    fn eat_line_end(&mut self) {
        let mut i = self.pos;
        while matches!(self.at(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        match self.at(i) {
            Some(b'\n') => self.pos = i + 1,
            Some(b'\r') => {
                self.pos = if self.at(i + 1) == Some(b'\n') {
                    i + 2
                } else {
                    i + 1
                }
            }
            _ => {}
        }
    }

    fn word_at(&self, i: usize) -> usize {
        let mut end = i;
        while self.at(end).is_some_and(is_directive_char) {
            end += 1;
        }
        end
    }

    /// `[ \t]*(#set|#{set}) *(` at the current position (the `SET_DIRECTIVE` token, which
    /// swallows the spaces before it); returns the position after `(`.
    fn set_start(&self) -> Option<usize> {
        let mut i = self.pos;
        while matches!(self.at(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let rest = &self.b[i..];
        let after = if rest.starts_with(b"#set") {
            i + 4
        } else if rest.starts_with(b"#{set}") {
            i + 6
        } else {
            return None;
        };
        let mut j = after;
        while self.at(j) == Some(b' ') {
            j += 1;
        }
        (self.at(j) == Some(b'(')).then_some(j + 1)
    }

    fn block(&mut self) -> Result<(Vec<Node>, BlockEnd, usize), Pending> {
        let mut nodes = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Ok((nodes, BlockEnd::Eof, self.offset(self.pos)));
            };
            if let Some(after) = self.set_start() {
                self.pos = after;
                nodes.push(self.set_directive()?);
                continue;
            }
            match c {
                b'$' => {
                    // DOLLAR: a reference ends the one before it.
                    if self.lex == Lex::Reference {
                        self.lex_pop();
                    }
                    self.lex_stack.push(self.lex);
                    match self.reference()? {
                        Some(reference) => {
                            self.lex = if self.b[self.pos - 1] == b'}' {
                                // RCURLY pops back.
                                self.lex_stack.pop().unwrap_or(Lex::Default)
                            } else if reference_ends_with_property(&reference) {
                                Lex::RefModifier
                            } else {
                                Lex::Reference
                            };
                            nodes.push(Node::Reference(reference));
                        }
                        None => {
                            self.lex_pop();
                            if self.base == 0 && self.pos + 1 == self.b.len() {
                                return Err(self.syntax(
                                    self.pos,
                                    "a `$` as the last character of a template is a lexical \
                                     error in Velocity 1.7",
                                ));
                            }
                            push_text(&mut nodes, "$");
                            self.pos += 1;
                        }
                    }
                }
                // In the REFMODIFIER state (after `$a.b`) Velocity 1.7 has no `##` token:
                // the two `#` are text.
                b'#' if self.lex == Lex::RefModifier && self.b[self.pos..].starts_with(b"##") => {
                    self.lex_pop();
                    push_text(&mut nodes, "##");
                    self.pos += 2;
                }
                b'#' => {
                    let rest = &self.b[self.pos..];
                    // `#*` and `#[[` push and pop the state; `##` and other `#`s (HASH)
                    // end a reference first.
                    if !(rest.starts_with(b"#*") || rest.starts_with(b"#[["))
                        && matches!(self.lex, Lex::Reference | Lex::RefModifier)
                    {
                        self.lex_pop();
                    }
                    if let Some((end, at)) = self.hash(&mut nodes)? {
                        return Ok((nodes, end, self.offset(at)));
                    }
                }
                b'\\' => {
                    self.lex_reset();
                    let start = self.pos;
                    while self.peek() == Some(b'\\') {
                        self.pos += 1;
                    }
                    if matches!(self.peek(), Some(b'$' | b'#')) {
                        return Err(self.unsupported(
                            start,
                            "a backslash before `$` or `#` (Velocity escaping): its meaning \
                             depends on whether the reference is defined; build the text \
                             with #set instead",
                        ));
                    }
                    push_text(&mut nodes, &self.src[start..self.pos]);
                }
                // In a reference state `{` and `}` are tokens of their own (LCURLY,
                // RCURLY): whitespace after them starts a new token, where `#set` can
                // eat it.
                b'{' | b'}' if matches!(self.lex, Lex::Reference | Lex::RefModifier) => {
                    if c == b'}' {
                        self.lex_pop();
                    }
                    push_text(&mut nodes, if c == b'}' { "}" } else { "{" });
                    self.pos += 1;
                }
                // In REFERENCE state (after `$a.m()` or a `#set` that returned there) a
                // `.name` is a DOT and an IDENTIFIER: text here, and the state is
                // REFMODIFIER after it.
                b'.' if self.lex == Lex::Reference
                    && self
                        .at(self.pos + 1)
                        .is_some_and(|b| b.is_ascii_alphabetic()) =>
                {
                    let start = self.pos;
                    self.pos += 1;
                    while self.peek().is_some_and(is_identifier_char) {
                        self.pos += 1;
                    }
                    push_text(&mut nodes, &self.src[start..self.pos]);
                    self.lex = Lex::RefModifier;
                }
                // In a reference state letters are an IDENTIFIER token: whitespace after
                // them starts a new token (where `#set` can eat it), and a `.name` after
                // them is a DOT that Velocity 1.7 drops from the output.
                _ if is_identifier_start(c)
                    && matches!(self.lex, Lex::Reference | Lex::RefModifier) =>
                {
                    let start = self.pos;
                    while self.peek().is_some_and(is_identifier_char) {
                        self.pos += 1;
                    }
                    if self.peek() == Some(b'.')
                        && self
                            .at(self.pos + 1)
                            .is_some_and(|b| b.is_ascii_alphabetic())
                    {
                        return Err(self.unsupported(
                            start,
                            "text like `x.y` directly after a reference (Velocity 1.7 reads \
                             it as part of the reference and drops `.y`); put a space or \
                             ${...} around the reference",
                        ));
                    }
                    push_text(&mut nodes, &self.src[start..self.pos]);
                }
                _ => {
                    // Any other character ends the references open (REFERENCE_TERMINATOR).
                    self.lex_reset();
                    let start = self.pos;
                    while self
                        .peek()
                        .is_some_and(|b| !matches!(b, b'$' | b'#' | b'\\'))
                    {
                        self.pos += 1;
                    }
                    push_text(&mut nodes, &self.src[start..self.pos]);
                }
            }
        }
    }

    /// Handles a `#`: a comment, a text block, a directive, or plain text. Returns the
    /// block terminator if it is `#end`, `#else` or `#elseif`.
    fn hash(&mut self, nodes: &mut Vec<Node>) -> Result<Option<(BlockEnd, usize)>, Pending> {
        let start = self.pos;
        let rest = &self.b[start..];
        if rest.starts_with(b"##") {
            // A line comment ends after its newline, which it swallows.
            self.pos = match self.src[start..].find(['\n', '\r']) {
                Some(i) => {
                    let nl = start + i;
                    if self.b[nl] == b'\r' && self.at(nl + 1) == Some(b'\n') {
                        nl + 2
                    } else {
                        nl + 1
                    }
                }
                None => self.b.len(),
            };
            return Ok(None);
        }
        if rest.starts_with(b"#*") {
            let Some(end) = self.src[start + 2..].find("*#") else {
                return Err(self.syntax(start, "unclosed #* comment (no *#)"));
            };
            self.pos = start + 2 + end + 2;
            return Ok(None);
        }
        if rest.starts_with(b"#[[") {
            let Some(end) = self.src[start + 3..].find("]]#") else {
                return Err(self.syntax(start, "unclosed #[[ text block (no ]]#)"));
            };
            push_text(nodes, &self.src[start + 3..start + 3 + end]);
            self.pos = start + 3 + end + 3;
            return Ok(None);
        }
        // `#name` or `#{name}` (the WORD and BRACKETED_WORD tokens).
        let bracketed = self.at(start + 1) == Some(b'{');
        let name_start = if bracketed { start + 2 } else { start + 1 };
        let first_ok = self
            .at(name_start)
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || (b == b'@' && !bracketed));
        let name_end = self.word_at(name_start);
        if !first_ok || (bracketed && self.at(name_end) != Some(b'}')) {
            if self.base == 0 && start + 1 == self.b.len() {
                return Err(self.syntax(
                    start,
                    "a `#` as the last character of a template is a lexical error in Velocity 1.7",
                ));
            }
            // In PRE_DIRECTIVE a number is a token of its own (INTEGER_LITERAL), so
            // whitespace after `#1` starts a new token, where `#set` can eat it.
            let mut end = start + 1;
            if self.at(end) == Some(b'-') && self.at(end + 1).is_some_and(|b| b.is_ascii_digit()) {
                end += 1;
            }
            let digits_start = end;
            while self.at(end).is_some_and(|b| b.is_ascii_digit()) {
                end += 1;
            }
            // FLOATING_POINT_LITERAL: `1.` and `1.5` are one token too.
            if end > digits_start && self.at(end) == Some(b'.') && self.at(end + 1) != Some(b'.') {
                end += 1;
                while self.at(end).is_some_and(|b| b.is_ascii_digit()) {
                    end += 1;
                }
            }
            push_text(nodes, &self.src[start..end]);
            self.pos = end;
            return Ok(None);
        }
        let name = &self.src[name_start..name_end];
        self.pos = if bracketed { name_end + 1 } else { name_end };
        match name {
            "if" => {
                let node = self.if_directive(start)?;
                nodes.push(node);
                Ok(None)
            }
            "elseif" => {
                let condition = self.parenthesised_condition(start, "#elseif")?;
                Ok(Some((BlockEnd::ElseIf(condition), start)))
            }
            "else" => {
                self.eat_line_end();
                Ok(Some((BlockEnd::Else, start)))
            }
            "end" => {
                self.eat_line_end();
                Ok(Some((BlockEnd::End, start)))
            }
            "foreach" => {
                let node = self.foreach_directive(start)?;
                nodes.push(node);
                Ok(None)
            }
            "set" => Err(self.syntax(start, "#set must be followed by ($name = value)")),
            "break" => {
                nodes.push(Node::Break);
                Ok(None)
            }
            "stop" => {
                nodes.push(Node::Stop);
                Ok(None)
            }
            "define" => {
                let node = self.define_directive(start)?;
                nodes.push(node);
                Ok(None)
            }
            "macro" => Err(self.unsupported(
                start,
                "the #macro directive: API Gateway does not run Velocimacros (projects report \
                 AWS rejecting them, e.g. openedx/edx-enterprise pull request 154; AWS's \
                 documentation does not list them)",
            )),
            _ if UNSUPPORTED_DIRECTIVES.contains(&name) || name.starts_with('@') => Err(self
                .unsupported(
                    start,
                    format!(
                        "the #{name} directive: it loads or evaluates other templates, which \
                         API Gateway has no way to provide"
                    ),
                )),
            _ => {
                let mut i = self.pos;
                while matches!(self.at(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                    i += 1;
                }
                if self.at(i) == Some(b'(') {
                    return Err(self.unsupported(
                        start,
                        format!("#{name}(...): a Velocimacro call or unknown directive"),
                    ));
                }
                // Not a directive: Velocity outputs it as text.
                push_text(nodes, &self.src[start..self.pos]);
                Ok(None)
            }
        }
    }

    /// `[ws] ( expression )` after `#if` or `#elseif`, and the line end after it.
    fn parenthesised_condition(&mut self, start: usize, directive: &str) -> Result<Expr, Pending> {
        self.skip_whitespace();
        if self.peek() != Some(b'(') {
            return Err(self.syntax(
                start,
                format!("{directive} must be followed by (condition)"),
            ));
        }
        self.pos += 1;
        let condition = self.expression()?;
        self.skip_whitespace();
        if self.peek() != Some(b')') {
            return Err(self.syntax(self.pos, format!("expected `)` to close {directive}(...)")));
        }
        self.pos += 1;
        self.eat_line_end();
        Ok(condition)
    }

    fn if_directive(&mut self, start: usize) -> Result<Node, Pending> {
        let mut condition = self.parenthesised_condition(start, "#if")?;
        let mut branches = Vec::new();
        loop {
            let (body, end, _) = self.block()?;
            branches.push((condition, body));
            match end {
                BlockEnd::ElseIf(next) => condition = next,
                BlockEnd::End => {
                    return Ok(Node::If {
                        branches,
                        otherwise: Vec::new(),
                    });
                }
                BlockEnd::Else => {
                    let (otherwise, end, at) = self.block()?;
                    return match end {
                        BlockEnd::End => Ok(Node::If {
                            branches,
                            otherwise,
                        }),
                        BlockEnd::Eof => Err(self.syntax(start, "#if has no matching #end")),
                        BlockEnd::Else | BlockEnd::ElseIf(_) => {
                            Err(Pending::syntax(at, "#else or #elseif after #else"))
                        }
                    };
                }
                BlockEnd::Eof => return Err(self.syntax(start, "#if has no matching #end")),
            }
        }
    }

    fn foreach_directive(&mut self, start: usize) -> Result<Node, Pending> {
        self.skip_whitespace();
        if self.peek() != Some(b'(') {
            return Err(self.syntax(start, "#foreach must be followed by ($item in $list)"));
        }
        self.pos += 1;
        self.skip_whitespace();
        let variable = self.simple_variable("#foreach")?;
        self.skip_whitespace();
        let word_start = self.pos;
        let word_end = self.word_at(word_start);
        if &self.src[word_start..word_end] != "in" {
            return Err(self.syntax(word_start, "expected `in` in #foreach($item in $list)"));
        }
        self.pos = word_end;
        self.skip_whitespace();
        let iterable = match self.peek() {
            Some(b'$' | b'[' | b'{') => self.primary()?,
            _ => {
                return Err(self.syntax(
                    self.pos,
                    "#foreach iterates over a $reference, a [list] or a [range]",
                ));
            }
        };
        self.skip_whitespace();
        if self.peek() != Some(b')') {
            return Err(self.syntax(self.pos, "expected `)` to close #foreach(...)"));
        }
        self.pos += 1;
        self.eat_line_end();
        let (body, end, at) = self.block()?;
        match end {
            BlockEnd::End => Ok(Node::Foreach {
                variable,
                iterable,
                body,
            }),
            BlockEnd::Eof => Err(self.syntax(start, "#foreach has no matching #end")),
            BlockEnd::Else | BlockEnd::ElseIf(_) => {
                Err(Pending::syntax(at, "#else or #elseif inside #foreach"))
            }
        }
    }

    /// `#define($name) ... #end` after `#define`.
    fn define_directive(&mut self, start: usize) -> Result<Node, Pending> {
        self.skip_whitespace();
        if self.peek() != Some(b'(') {
            return Err(self.syntax(start, "#define must be followed by ($name)"));
        }
        self.pos += 1;
        self.skip_whitespace();
        let name = self.simple_variable("#define")?;
        self.skip_whitespace();
        if self.peek() != Some(b')') {
            return Err(self.syntax(self.pos, "expected `)` to close #define(...)"));
        }
        self.pos += 1;
        self.eat_line_end();
        let (body, end, at) = self.block()?;
        match end {
            BlockEnd::End => Ok(Node::Define { name, body }),
            BlockEnd::Eof => Err(self.syntax(start, "#define has no matching #end")),
            BlockEnd::Else | BlockEnd::ElseIf(_) => {
                Err(Pending::syntax(at, "#else or #elseif inside #define"))
            }
        }
    }

    /// A plain `$name` (no properties, methods or indexes), as #set and #foreach need.
    fn simple_variable(&mut self, directive: &str) -> Result<String, Pending> {
        let at = self.pos;
        if self.peek() != Some(b'$') {
            return Err(self.syntax(at, format!("expected a $variable in {directive}")));
        }
        match self.reference()? {
            Some(reference) if reference.steps.is_empty() => Ok(reference.root),
            Some(_) => Err(self.unsupported(
                at,
                format!("assigning to a property or index in {directive}; use a plain $variable"),
            )),
            None => Err(self.syntax(at, format!("expected a $variable in {directive}"))),
        }
    }

    /// After `#set(` (already consumed): `$name = expression )`.
    fn set_directive(&mut self) -> Result<Node, Pending> {
        self.skip_whitespace();
        let at = self.pos;
        if self.peek() != Some(b'$') {
            return Err(self.syntax(at, "expected a $variable in #set"));
        }
        let Some(target) = self.reference()? else {
            return Err(self.syntax(at, "expected a $variable in #set"));
        };
        if matches!(target.steps.last(), Some(Step::Method { .. })) {
            return Err(self.syntax(at, "#set cannot assign to a method call"));
        }
        self.skip_whitespace();
        if self.peek() != Some(b'=') || self.at(self.pos + 1) == Some(b'=') {
            return Err(self.syntax(self.pos, "expected `=` in #set($name = value)"));
        }
        self.pos += 1;
        let value = self.expression()?;
        self.skip_whitespace();
        if self.peek() != Some(b')') {
            return Err(self.syntax(self.pos, "expected `)` to close #set(...)"));
        }
        self.pos += 1;
        self.eat_line_end();
        Ok(Node::Set {
            name: target.root,
            steps: target.steps,
            value,
            offset: target.offset,
        })
    }

    /// A reference at `$`. Returns `None` (consuming nothing) when no identifier follows,
    /// in which case Velocity treats the `$` as text.
    fn reference(&mut self) -> Result<Option<Reference>, Pending> {
        let start = self.pos;
        let mut i = start + 1;
        if self.at(i) == Some(b'!') {
            i += 1; // `$!`: quiet. API Gateway renders null as empty either way.
        }
        let formal = self.at(i) == Some(b'{');
        if formal {
            i += 1;
        }
        if !self.at(i).is_some_and(is_identifier_start) {
            return Ok(None);
        }
        let root_start = i;
        while self.at(i).is_some_and(is_identifier_char) {
            i += 1;
        }
        let root = self.src[root_start..i].to_owned();
        self.pos = i;
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some(b'[') => steps.push(self.index_step()?),
                // `DOT` is a `.` followed by a letter; otherwise the reference ends there.
                Some(b'.')
                    if self
                        .at(self.pos + 1)
                        .is_some_and(|b| b.is_ascii_alphabetic()) =>
                {
                    let name_start = self.pos + 1;
                    let mut end = name_start;
                    while self.at(end).is_some_and(is_identifier_char) {
                        end += 1;
                    }
                    let name = self.src[name_start..end].to_owned();
                    self.pos = end;
                    if self.peek() == Some(b'(') {
                        steps.push(self.method_step(name, name_start)?);
                    } else {
                        steps.push(Step::Property {
                            name,
                            offset: self.offset(name_start),
                        });
                    }
                }
                _ => break,
            }
        }
        if formal {
            if self.peek() != Some(b'}') {
                return Err(self.syntax(start, "unclosed ${...} reference"));
            }
            self.pos += 1;
        }
        Ok(Some(Reference {
            builtin: Builtin::by_name(&root),
            root,
            steps,
            offset: self.offset(start),
        }))
    }

    fn index_step(&mut self) -> Result<Step, Pending> {
        let open = self.pos;
        self.pos += 1;
        self.skip_whitespace();
        let index = match self.peek() {
            Some(b'"' | b'\'' | b'$' | b'-' | b'0'..=b'9') => self.primary()?,
            _ if self.keyword("true") || self.keyword("false") => self.primary()?,
            _ => {
                return Err(self.syntax(
                    self.pos,
                    "expected an index: a number, string or $reference",
                ));
            }
        };
        self.skip_whitespace();
        if self.peek() != Some(b']') {
            return Err(self.syntax(self.pos, "expected `]`"));
        }
        self.pos += 1;
        Ok(Step::Index {
            index,
            offset: self.offset(open),
        })
    }

    /// `name(` seen (the `(` not consumed): the arguments, each a `Parameter` (a literal or
    /// reference; no operators).
    fn method_step(&mut self, name: String, name_start: usize) -> Result<Step, Pending> {
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek() == Some(b'(') {
                    // Velocity's `Parameter` has no parentheses and no operators.
                    return Err(self.syntax(
                        self.pos,
                        "expected a value: a $reference, string, number or boolean",
                    ));
                }
                let arg = self.primary()?;
                args.push(arg);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => {
                        return Err(self.syntax(
                            self.pos,
                            format!("expected `,` or `)` in the arguments of {name}(...)"),
                        ));
                    }
                }
            }
        }
        let offset = self.offset(name_start);
        let compiled = match (name.as_str(), args.as_slice()) {
            (
                "replaceAll",
                [
                    Expr {
                        kind: ExprKind::Str(pattern),
                        ..
                    },
                    Expr {
                        kind: ExprKind::Str(replacement),
                        ..
                    },
                ],
            ) => Some(Box::new(ReplaceAll::new(pattern, replacement).map_err(
                |message| Pending {
                    offset,
                    kind: PendingKind::Regex {
                        pattern: pattern.clone(),
                        message,
                    },
                },
            )?)),
            _ => None,
        };
        Ok(Step::Method {
            name,
            args,
            offset,
            compiled,
        })
    }

    /// Whether the word `word` (and not a longer word) starts at the current position.
    fn keyword(&self, word: &str) -> bool {
        self.b[self.pos..].starts_with(word.as_bytes())
            && !self
                .at(self.pos + word.len())
                .is_some_and(is_directive_char)
    }

    fn expression(&mut self) -> Result<Expr, Pending> {
        self.or()
    }

    fn or(&mut self) -> Result<Expr, Pending> {
        let mut left = self.and()?;
        loop {
            self.skip_whitespace();
            let at = self.pos;
            if self.b[self.pos..].starts_with(b"||") || self.keyword("or") {
                self.pos += 2;
            } else {
                return Ok(left);
            }
            let right = self.and()?;
            left = Expr {
                kind: ExprKind::Or(Box::new(left), Box::new(right)),
                offset: self.offset(at),
            };
        }
    }

    fn and(&mut self) -> Result<Expr, Pending> {
        let mut left = self.equality()?;
        loop {
            self.skip_whitespace();
            let at = self.pos;
            if self.b[self.pos..].starts_with(b"&&") {
                self.pos += 2;
            } else if self.keyword("and") {
                self.pos += 3;
            } else {
                return Ok(left);
            }
            let right = self.equality()?;
            left = Expr {
                kind: ExprKind::And(Box::new(left), Box::new(right)),
                offset: self.offset(at),
            };
        }
    }

    fn equality(&mut self) -> Result<Expr, Pending> {
        let mut left = self.relational()?;
        loop {
            self.skip_whitespace();
            let at = self.pos;
            let comparison = if self.b[self.pos..].starts_with(b"==") {
                self.pos += 2;
                Comparison::Eq
            } else if self.b[self.pos..].starts_with(b"!=") {
                self.pos += 2;
                Comparison::Ne
            } else if self.keyword("eq") {
                self.pos += 2;
                Comparison::Eq
            } else if self.keyword("ne") {
                self.pos += 2;
                Comparison::Ne
            } else {
                return Ok(left);
            };
            let right = self.relational()?;
            left = Expr {
                kind: ExprKind::Compare(comparison, Box::new(left), Box::new(right)),
                offset: self.offset(at),
            };
        }
    }

    fn relational(&mut self) -> Result<Expr, Pending> {
        let mut left = self.additive()?;
        loop {
            self.skip_whitespace();
            let at = self.pos;
            let rest = &self.b[self.pos..];
            let (comparison, len) = if rest.starts_with(b"<=") {
                (Comparison::Le, 2)
            } else if rest.starts_with(b">=") {
                (Comparison::Ge, 2)
            } else if rest.starts_with(b"<") {
                (Comparison::Lt, 1)
            } else if rest.starts_with(b">") {
                (Comparison::Gt, 1)
            } else if self.keyword("le") {
                (Comparison::Le, 2)
            } else if self.keyword("ge") {
                (Comparison::Ge, 2)
            } else if self.keyword("lt") {
                (Comparison::Lt, 2)
            } else if self.keyword("gt") {
                (Comparison::Gt, 2)
            } else {
                return Ok(left);
            };
            self.pos += len;
            let right = self.additive()?;
            left = Expr {
                kind: ExprKind::Compare(comparison, Box::new(left), Box::new(right)),
                offset: self.offset(at),
            };
        }
    }

    /// `+` and `-` (Velocity 1.7's `AdditiveExpression`).
    fn additive(&mut self) -> Result<Expr, Pending> {
        let mut left = self.multiplicative()?;
        loop {
            self.skip_whitespace();
            let at = self.pos;
            let op = match self.peek() {
                Some(b'+') => Arithmetic::Add,
                Some(b'-') => Arithmetic::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.multiplicative()?;
            left = Expr {
                kind: ExprKind::Arithmetic(op, Box::new(left), Box::new(right)),
                offset: self.offset(at),
            };
        }
    }

    /// `*`, `/`, `%` (`MultiplicativeExpression`).
    fn multiplicative(&mut self) -> Result<Expr, Pending> {
        let mut left = self.unary()?;
        loop {
            self.skip_whitespace();
            let at = self.pos;
            let op = match self.peek() {
                Some(b'*') => Arithmetic::Mul,
                Some(b'/') => Arithmetic::Div,
                Some(b'%') => Arithmetic::Mod,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.unary()?;
            left = Expr {
                kind: ExprKind::Arithmetic(op, Box::new(left), Box::new(right)),
                offset: self.offset(at),
            };
        }
    }

    fn unary(&mut self) -> Result<Expr, Pending> {
        self.skip_whitespace();
        let at = self.pos;
        let negated = if self.peek() == Some(b'!') && self.at(self.pos + 1) != Some(b'=') {
            self.pos += 1;
            true
        } else if self.keyword("not") {
            self.pos += 3;
            true
        } else {
            false
        };
        if negated {
            let operand = self.unary()?;
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(operand)),
                offset: self.offset(at),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, Pending> {
        self.skip_whitespace();
        let at = self.pos;
        let offset = self.offset(at);
        let kind = match self.peek() {
            Some(q @ (b'"' | b'\'')) => self.string_literal(q)?,
            Some(b'$') => match self.reference()? {
                Some(reference) => ExprKind::Reference(Box::new(reference)),
                None => return Err(self.syntax(at, "expected a reference after `$`")),
            },
            Some(b'0'..=b'9') => self.number()?,
            Some(b'-') if self.at(at + 1).is_some_and(|b| b.is_ascii_digit()) => self.number()?,
            Some(b'(') => {
                self.pos += 1;
                let inner = self.expression()?;
                self.skip_whitespace();
                if self.peek() != Some(b')') {
                    return Err(self.syntax(self.pos, "expected `)`"));
                }
                self.pos += 1;
                return Ok(inner);
            }
            Some(b'[') => return self.list_or_range(),
            Some(b'{') => return self.map_literal(),
            _ if self.keyword("true") => {
                self.pos += 4;
                ExprKind::Bool(true)
            }
            _ if self.keyword("false") => {
                self.pos += 5;
                ExprKind::Bool(false)
            }
            None => return Err(self.syntax(at, "unexpected end of template in an expression")),
            _ => {
                return Err(self.syntax(
                    at,
                    "expected a value: a $reference, string, number or boolean",
                ));
            }
        };
        Ok(Expr { kind, offset })
    }

    /// `[a, b]` or `[from..to]` at `[`.
    fn list_or_range(&mut self) -> Result<Expr, Pending> {
        let at = self.pos;
        let offset = self.offset(at);
        self.pos += 1;
        self.skip_whitespace();
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Expr {
                kind: ExprKind::List(items),
                offset,
            });
        }
        loop {
            let item = self.parameter()?;
            self.skip_whitespace();
            if items.is_empty() && self.b[self.pos..].starts_with(b"..") {
                self.pos += 2;
                let to = self.parameter()?;
                self.skip_whitespace();
                if self.peek() != Some(b']') {
                    return Err(self.syntax(self.pos, "expected `]` to close the range"));
                }
                self.pos += 1;
                return Ok(Expr {
                    kind: ExprKind::Range(Box::new(item), Box::new(to)),
                    offset,
                });
            }
            items.push(item);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Expr {
                        kind: ExprKind::List(items),
                        offset,
                    });
                }
                _ => return Err(self.syntax(self.pos, "expected `,` or `]` in a list")),
            }
        }
    }

    /// `{k: v, ...}` at `{`.
    fn map_literal(&mut self) -> Result<Expr, Pending> {
        let offset = self.offset(self.pos);
        self.pos += 1;
        self.skip_whitespace();
        let mut entries = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Expr {
                kind: ExprKind::Map(entries),
                offset,
            });
        }
        loop {
            let key = self.parameter()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.syntax(self.pos, "expected `:` in a map literal"));
            }
            self.pos += 1;
            let value = self.parameter()?;
            entries.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Expr {
                        kind: ExprKind::Map(entries),
                        offset,
                    });
                }
                _ => return Err(self.syntax(self.pos, "expected `,` or `}` in a map literal")),
            }
        }
    }

    /// Velocity's `Parameter`: a literal, list, map, range or reference; no operators.
    fn parameter(&mut self) -> Result<Expr, Pending> {
        self.skip_whitespace();
        if self.peek() == Some(b'(') {
            return Err(self.syntax(
                self.pos,
                "expected a value: a $reference, string, number, boolean, [list] or {map}",
            ));
        }
        self.primary()
    }

    fn number(&mut self) -> Result<ExprKind, Pending> {
        let start = self.pos;
        let mut i = start;
        if self.at(i) == Some(b'-') {
            i += 1;
        }
        while self.at(i).is_some_and(|b| b.is_ascii_digit()) {
            i += 1;
        }
        let mut float = false;
        // `1..3` is a range, not the float `1.`.
        if self.at(i) == Some(b'.') && self.at(i + 1) != Some(b'.') {
            float = true;
            i += 1;
            while self.at(i).is_some_and(|b| b.is_ascii_digit()) {
                i += 1;
            }
        }
        if matches!(self.at(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(self.at(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if self.at(j).is_some_and(|b| b.is_ascii_digit()) {
                float = true;
                i = j;
                while self.at(i).is_some_and(|b| b.is_ascii_digit()) {
                    i += 1;
                }
            }
        }
        let text = &self.src[start..i];
        self.pos = i;
        if float {
            text.parse()
                .map(ExprKind::Float)
                .map_err(|_| self.syntax(start, format!("invalid number {text}")))
        } else {
            text.parse().map(ExprKind::Int).map_err(|_| {
                self.unsupported(start, format!("integer {text} is outside the 64-bit range"))
            })
        }
    }

    /// A string literal (the `STRING_LITERAL` token and `ASTStringLiteral`): `""` inside
    /// `"..."` and `''` inside `'...'` stand for the quote; in `"..."` only `\uXXXX` is
    /// an escape (every other backslash is literal); a `"..."` containing `$` or `#` is
    /// rendered as a template. So `"\\'"` is the three characters `\\'`, which as a Java
    /// regex matches a backslash followed by an apostrophe.
    fn string_literal(&mut self, quote: u8) -> Result<ExprKind, Pending> {
        let start = self.pos;
        let content_start = start + 1;
        let mut i = content_start;
        loop {
            match self.at(i) {
                None => return Err(self.syntax(start, "unclosed string literal")),
                Some(b) if b == quote => {
                    if self.at(i + 1) == Some(quote) {
                        i += 2;
                    } else {
                        break;
                    }
                }
                Some(_) => i += 1,
            }
        }
        let raw = &self.src[content_start..i];
        self.pos = i + 1;
        if quote == b'\'' {
            return Ok(ExprKind::Str(raw.replace("''", "'")));
        }
        let unescaped = unescape_unicode(raw).map_err(|message| self.syntax(start, message))?;
        let value = collapse_doubled_quotes(&unescaped);
        if raw.contains(['$', '#']) {
            let nodes = parse(&value, self.offset(content_start))?;
            Ok(ExprKind::Interpolated(nodes))
        } else {
            Ok(ExprKind::Str(value))
        }
    }
}

/// Velocity 1.7 `ASTStringLiteral.unescape`: every `\u` followed by four hex digits is
/// replaced by that UTF-16 unit (pairs combine into one character). Any other backslash
/// stays. A `\u` without four hex digits makes Velocity throw; here it is an error.
fn unescape_unicode(raw: &str) -> Result<String, String> {
    if !raw.contains("\\u") {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut units: Vec<u16> = Vec::new();
    let flush = |units: &mut Vec<u16>, out: &mut String| -> Result<(), String> {
        if !units.is_empty() {
            let text = String::from_utf16(units)
                .map_err(|_| "a \\u escape leaves a lone surrogate".to_owned())?;
            out.push_str(&text);
            units.clear();
        }
        Ok(())
    };
    let mut rest = raw;
    while let Some(at) = rest.find("\\u") {
        let before = &rest[..at];
        if !before.is_empty() {
            flush(&mut units, &mut out)?;
            out.push_str(before);
        }
        let hex = rest
            .get(at + 2..at + 6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                "`\\u` in a string literal must be followed by four hex digits".to_owned()
            })?;
        units.push(u16::from_str_radix(hex, 16).expect("four hex digits"));
        rest = &rest[at + 6..];
    }
    if !rest.is_empty() {
        flush(&mut units, &mut out)?;
        out.push_str(rest);
    }
    flush(&mut units, &mut out)?;
    Ok(out)
}

/// Velocity 1.7 `ASTStringLiteral.replaceQuotes` for `"..."`: each `""` becomes `"`.
fn collapse_doubled_quotes(s: &str) -> String {
    s.replace("\"\"", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_only_unicode_escapes() {
        assert_eq!(unescape_unicode(r"\\'").unwrap(), r"\\'");
        assert_eq!(unescape_unicode(r"a\n\u0041").unwrap(), "a\\nA");
        assert_eq!(unescape_unicode(r"\uD83D\uDE00!").unwrap(), "😀!");
        assert_eq!(
            unescape_unicode(r"\uD83D").unwrap_err(),
            "a \\u escape leaves a lone surrogate"
        );
        assert_eq!(
            unescape_unicode(r"\user").unwrap_err(),
            "`\\u` in a string literal must be followed by four hex digits"
        );
    }
}
