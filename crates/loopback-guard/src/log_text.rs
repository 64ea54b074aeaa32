//! Client-influenced text made safe for a log line: every request path, header value,
//! authorizer answer, Lambda output or sign-in error the stack logs goes through
//! [`escape`] first, so a client can neither start a fake log line (CR, LF, NEL, U+2028)
//! nor send escape sequences to the terminal that shows the log (ESC, CSI and the other
//! C0/C1 controls), nor reorder what is shown (bidirectional overrides).
//!
//! Hand-written because the libraries at hand do not cover it: `tracing`'s fmt layer
//! writes messages as they are, JSON escaping (serde_json) leaves DEL and the C1
//! controls (U+009B is a one-character CSI) raw, and `str::escape_debug` also escapes
//! quotes and backslashes, which would make every JSON line in the log unreadable.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character (C0, DEL, C1), the Unicode line and paragraph
/// separators and the bidirectional formatting characters written as `\u{..}` escapes
/// (`\r`, `\n` and `\t` as themselves). Text without them is returned as is.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\r' => escaped.push_str("\\r"),
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn line_breaks_and_terminal_escapes_are_written_out() {
        assert_eq!(
            escape("a\r\nINFO fake\u{1b}[2J\u{9b}31m\u{7f}\u{85}\u{2028}\u{202e}z\t"),
            "a\\r\\nINFO fake\\u{1b}[2J\\u{9b}31m\\u{7f}\\u{85}\\u{2028}\\u{202e}z\\t"
        );
    }

    #[test]
    fn ordinary_text_is_kept_as_is_without_copying() {
        let text = r#"GET /prod/hello {"name": "Jane \"O'Brien\" <\/script> 😀"}"#;
        assert!(matches!(escape(text), std::borrow::Cow::Borrowed(t) if t == text));
    }
}
