//! The one error type of this crate.

/// Why a template could not be parsed or rendered.
///
/// Every variant names the 1-based `line` and `column` (counted in characters) of the
/// template construct at fault. Parse-time variants come from [`Template::parse`];
/// render-time ones from [`Template::render`], where they depend on the request (for
/// example a body that is not JSON).
///
/// [`Template::parse`]: crate::Template::parse
/// [`Template::render`]: crate::Template::render
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not valid Velocity (an unclosed `#if`, a `#set` without `=`, ...).
    #[error("line {line}, column {column}: syntax error: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What was expected or found.
        message: String,
    },
    /// Valid Velocity (or API Gateway) that this renderer deliberately does not emulate.
    /// Rendering it anyway could silently differ from AWS, so it is refused.
    #[error("line {line}, column {column}: not supported by this renderer: {what}")]
    Unsupported {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// The construct, and what to use instead where there is something.
        what: String,
    },
    /// A `replaceAll` pattern that Java rejects, or that uses Java regex syntax whose
    /// meaning this renderer cannot reproduce exactly (see the crate docs).
    #[error("line {line}, column {column}: regular expression {pattern:?}: {message}")]
    Regex {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// The pattern, as Java sees it (after Velocity's string-literal processing).
        pattern: String,
        /// Why it was refused.
        message: String,
    },
    /// A `replaceAll` replacement string that Java would reject when a match is found
    /// (`$` not followed by a group, a group that does not exist, a trailing `\`).
    #[error("line {line}, column {column}: replacement {replacement:?}: {message}")]
    Replacement {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// The replacement, as Java sees it.
        replacement: String,
        /// Why Java rejects it.
        message: String,
    },
    /// `$input.json`, `$input.path` or `$util.parseJson` met text that is not JSON.
    #[error("line {line}, column {column}: not valid JSON: {message}")]
    InvalidJson {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// The JSON parser's message.
        message: String,
    },
    /// A call or operation failed at render time: a wrong argument type, invalid base64
    /// or percent-encoding, a method on a value that lacks it, ...
    #[error("line {line}, column {column}: {message}")]
    Evaluation {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// The 1-based line and column (in characters) the error points at.
    pub fn position(&self) -> (usize, usize) {
        match self {
            Error::Syntax { line, column, .. }
            | Error::Unsupported { line, column, .. }
            | Error::Regex { line, column, .. }
            | Error::Replacement { line, column, .. }
            | Error::InvalidJson { line, column, .. }
            | Error::Evaluation { line, column, .. } => (*line, *column),
        }
    }
}

/// An error before its position is known: carries a byte offset into the template source,
/// turned into line and column by [`Pending::locate`].
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) offset: usize,
    pub(crate) kind: PendingKind,
}

#[derive(Debug, Clone)]
pub(crate) enum PendingKind {
    Syntax(String),
    Unsupported(String),
    Regex {
        pattern: String,
        message: String,
    },
    Replacement {
        replacement: String,
        message: String,
    },
    InvalidJson(String),
    Evaluation(String),
}

impl Pending {
    pub(crate) fn syntax(offset: usize, message: impl Into<String>) -> Self {
        Pending {
            offset,
            kind: PendingKind::Syntax(message.into()),
        }
    }

    pub(crate) fn unsupported(offset: usize, what: impl Into<String>) -> Self {
        Pending {
            offset,
            kind: PendingKind::Unsupported(what.into()),
        }
    }

    pub(crate) fn evaluation(offset: usize, message: impl Into<String>) -> Self {
        Pending {
            offset,
            kind: PendingKind::Evaluation(message.into()),
        }
    }

    pub(crate) fn invalid_json(offset: usize, message: impl Into<String>) -> Self {
        Pending {
            offset,
            kind: PendingKind::InvalidJson(message.into()),
        }
    }

    /// Resolves the byte offset against the template source.
    pub(crate) fn locate(self, source: &str) -> Error {
        let (line, column) = line_column(source, self.offset);
        match self.kind {
            PendingKind::Syntax(message) => Error::Syntax {
                line,
                column,
                message,
            },
            PendingKind::Unsupported(what) => Error::Unsupported { line, column, what },
            PendingKind::Regex { pattern, message } => Error::Regex {
                line,
                column,
                pattern,
                message,
            },
            PendingKind::Replacement {
                replacement,
                message,
            } => Error::Replacement {
                line,
                column,
                replacement,
                message,
            },
            PendingKind::InvalidJson(message) => Error::InvalidJson {
                line,
                column,
                message,
            },
            PendingKind::Evaluation(message) => Error::Evaluation {
                line,
                column,
                message,
            },
        }
    }
}

/// 1-based line and column (in characters) of a byte offset. `\n`, `\r\n` and a lone `\r`
/// each end a line, as in Velocity.
pub(crate) fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let mut line = 1;
    let mut column = 1;
    let mut chars = source[..offset].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                line += 1;
                column = 1;
            }
            _ => column += 1,
        }
    }
    (line, column)
}
