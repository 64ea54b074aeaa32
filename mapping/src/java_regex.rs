//! Java's `String.replaceAll(regex, replacement)` on top of the `regex` crate.
//!
//! The pattern is translated from Java syntax to `regex` syntax, construct by construct,
//! so that the compiled expression matches exactly what `java.util.regex.Pattern` would.
//! Constructs whose Java meaning `regex` cannot express (back-references, look-around,
//! possessive quantifiers, `$` which in Java also matches before a final line terminator,
//! `\b`, flags, ...) are refused with an explanation instead of approximated. The
//! replacement string follows `Matcher.appendReplacement`: `$n`, `${name}`, `\x`.

use std::borrow::Cow;

use regex::{Captures, Regex};

/// A compiled `replaceAll(regex, replacement)`.
#[derive(Debug, Clone)]
pub(crate) struct ReplaceAll {
    regex: Regex,
    /// Java validates the replacement only when a match is found: an invalid replacement
    /// on a string without a match is no error, so the outcome is kept until then.
    replacement: Result<Replacement, String>,
    replacement_source: String,
}

/// Why `replace_all` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplaceError {
    /// The replacement string is invalid (Java throws when the first match is found).
    Replacement {
        replacement: String,
        message: String,
    },
    /// Java would cut a surrogate pair in two here; a Rust string cannot hold the result.
    SplitsSurrogatePair,
}

#[derive(Debug, Clone)]
struct Replacement {
    pieces: Vec<Piece>,
    needs_groups: bool,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(String),
    Group(usize),
}

impl ReplaceAll {
    /// Compiles a Java pattern and replacement. Errors with a message on a pattern Java
    /// rejects or that this translation does not support.
    pub(crate) fn new(pattern: &str, replacement: &str) -> Result<Self, String> {
        let translated = translate(pattern)?;
        let regex = Regex::new(&translated).map_err(|error| {
            // Java would reject most of what `regex` rejects; say so in `regex`'s words.
            format!("invalid pattern: {error}")
        })?;
        let replacement_parsed = parse_replacement(replacement, &regex);
        Ok(ReplaceAll {
            regex,
            replacement: replacement_parsed,
            replacement_source: replacement.to_owned(),
        })
    }

    /// `input.replaceAll(pattern, replacement)` with Java's iteration rules: after an
    /// empty match the search resumes one character further; after a non-empty match it
    /// resumes at its end, where an empty match is allowed (`"baaac"` with `a*` and `-`
    /// gives `-b--c-`).
    pub(crate) fn replace_all<'h>(&self, input: &'h str) -> Result<Cow<'h, str>, ReplaceError> {
        self.replace(input, false)
    }

    /// `input.replaceFirst(pattern, replacement)`.
    pub(crate) fn replace_first<'h>(&self, input: &'h str) -> Result<Cow<'h, str>, ReplaceError> {
        self.replace(input, true)
    }

    fn replace<'h>(&self, input: &'h str, first_only: bool) -> Result<Cow<'h, str>, ReplaceError> {
        let Some(first) = self.regex.find(input) else {
            return Ok(Cow::Borrowed(input));
        };
        let replacement =
            self.replacement
                .as_ref()
                .map_err(|message| ReplaceError::Replacement {
                    replacement: self.replacement_source.clone(),
                    message: message.clone(),
                })?;
        let mut out = String::with_capacity(input.len());
        let mut copied = 0;
        let mut search = first.start();
        loop {
            let (start, end) = if replacement.needs_groups {
                let Some(captures) = self.regex.captures_at(input, search) else {
                    break;
                };
                let whole = captures.get(0).expect("group 0 always participates");
                out.push_str(&input[copied..whole.start()]);
                replacement.append(&captures, &mut out);
                (whole.start(), whole.end())
            } else {
                let Some(found) = self.regex.find_at(input, search) else {
                    break;
                };
                out.push_str(&input[copied..found.start()]);
                replacement.append_literal(&mut out);
                (found.start(), found.end())
            };
            copied = end;
            if first_only {
                break;
            }
            if start == end {
                let Some(next) = input[end..].chars().next() else {
                    break;
                };
                if next.len_utf16() == 2 {
                    return Err(ReplaceError::SplitsSurrogatePair);
                }
                search = end + next.len_utf8();
            } else {
                search = end;
            }
            if search > input.len() {
                break;
            }
        }
        out.push_str(&input[copied..]);
        Ok(Cow::Owned(out))
    }
}

/// A Java pattern compiled for `split` and `matches`.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&translated).map_err(|error| format!("invalid pattern: {error}"))
}

/// `input.matches(pattern)`: the whole string must match.
pub(crate) fn matches_whole(pattern: &str, input: &str) -> Result<bool, String> {
    let translated = translate(pattern)?;
    let anchored = Regex::new(&format!(r"\A(?:{translated})\z"))
        .map_err(|error| format!("invalid pattern: {error}"))?;
    Ok(anchored.is_match(input))
}

/// `input.split(pattern, limit)` as Java 8+ does it: a zero-width match at the start
/// yields no leading empty string; with `limit` 0 trailing empty strings are dropped;
/// with a positive `limit` at most `limit` pieces; the search resumes one character on
/// after an empty match, as `Matcher.find` does.
pub(crate) fn split(regex: &Regex, input: &str, limit: i64) -> Result<Vec<String>, ReplaceError> {
    let mut pieces: Vec<String> = Vec::new();
    let mut index = 0;
    let mut search = 0;
    while search <= input.len() {
        if limit > 0 && pieces.len() as i64 >= limit - 1 {
            break;
        }
        let Some(found) = regex.find_at(input, search) else {
            break;
        };
        let (start, end) = (found.start(), found.end());
        if !(index == 0 && start == 0 && end == 0) {
            pieces.push(input[index..start].to_owned());
            index = end;
        }
        if start == end {
            let Some(next) = input[end..].chars().next() else {
                break;
            };
            if next.len_utf16() == 2 {
                return Err(ReplaceError::SplitsSurrogatePair);
            }
            search = end + next.len_utf8();
        } else {
            search = end;
        }
    }
    if pieces.is_empty() && index == 0 {
        return Ok(vec![input.to_owned()]);
    }
    pieces.push(input[index..].to_owned());
    if limit == 0 {
        while pieces.last().is_some_and(String::is_empty) {
            pieces.pop();
        }
    }
    Ok(pieces)
}

impl Replacement {
    fn append(&self, captures: &Captures<'_>, out: &mut String) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Group(index) => {
                    // A group that did not participate appends nothing, as in Java.
                    if let Some(group) = captures.get(*index) {
                        out.push_str(group.as_str());
                    }
                }
            }
        }
    }

    fn append_literal(&self, out: &mut String) {
        for piece in &self.pieces {
            if let Piece::Literal(text) = piece {
                out.push_str(text);
            }
        }
    }
}

/// `Matcher.appendReplacement`'s reading of a replacement string.
fn parse_replacement(replacement: &str, regex: &Regex) -> Result<Replacement, String> {
    let group_count = regex.captures_len() - 1;
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => literal.push(escaped),
                None => return Err("character to be escaped is missing".to_owned()),
            },
            '$' => {
                let index = match chars.next() {
                    None => return Err("illegal group reference: group index is missing".into()),
                    Some('{') => {
                        let mut name = String::new();
                        loop {
                            match chars.next() {
                                Some('}') => break,
                                Some(c) if c.is_ascii_alphanumeric() => name.push(c),
                                _ => {
                                    return Err(
                                        "named capturing group is missing trailing '}'".into()
                                    );
                                }
                            }
                        }
                        if name.is_empty() {
                            return Err("named capturing group has 0 length name".into());
                        }
                        regex
                            .capture_names()
                            .position(|n| n == Some(name.as_str()))
                            .ok_or_else(|| format!("no group with name {{{name}}}"))?
                    }
                    Some(digit @ '0'..='9') => {
                        // The first digit is always taken; further digits while the number
                        // still names an existing group.
                        let mut index = digit as usize - '0' as usize;
                        while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                            let longer = index * 10 + next as usize;
                            if longer > group_count {
                                break;
                            }
                            index = longer;
                            chars.next();
                        }
                        if index > group_count {
                            return Err(format!("no group {index}"));
                        }
                        index
                    }
                    Some(_) => return Err("illegal group reference".into()),
                };
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Group(index));
            }
            _ => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    let needs_groups = pieces.iter().any(|p| matches!(p, Piece::Group(_)));
    Ok(Replacement {
        pieces,
        needs_groups,
    })
}

/// Java's `.`: any character but the line terminators `\n \r \u0085 \u2028 \u2029`.
const JAVA_DOT: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";
/// Java's `\d`, `\s`, `\w` are ASCII-only (without `UNICODE_CHARACTER_CLASS`).
const DIGIT: &str = "0-9";
const SPACE: &str = r" \t\n\x0B\f\r";
const WORD: &str = "a-zA-Z0-9_";

/// Translates a Java pattern into `regex` syntax with the same meaning, or says why not.
pub(crate) fn translate(java: &str) -> Result<String, String> {
    let chars: Vec<char> = java.chars().collect();
    let mut out = String::with_capacity(java.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => i = translate_escape(&chars, i, &mut out)?,
            '[' => i = translate_class(&chars, i, &mut out)?,
            '.' => out.push_str(JAVA_DOT),
            '^' => out.push('^'),
            '$' => {
                return Err(
                    "`$` is not supported: in Java it also matches before a final line \
                     terminator, which the regex crate cannot express; use `\\z` for the end \
                     of input"
                        .into(),
                );
            }
            '|' | ')' => out.push(c),
            '(' => {
                if chars.get(i) == Some(&'?') {
                    match chars.get(i + 1) {
                        Some(':') => {
                            out.push_str("(?:");
                            i += 2;
                        }
                        Some('<') if chars.get(i + 2).is_some_and(char::is_ascii_alphabetic) => {
                            let mut j = i + 2;
                            let mut name = String::new();
                            while let Some(&n) = chars.get(j).filter(|n| n.is_ascii_alphanumeric())
                            {
                                name.push(n);
                                j += 1;
                            }
                            if chars.get(j) != Some(&'>') {
                                return Err("named capturing group is missing trailing '>'".into());
                            }
                            out.push_str("(?<");
                            out.push_str(&name);
                            out.push('>');
                            i = j + 1;
                        }
                        Some('=' | '!') | Some('<') => {
                            return Err("look-ahead and look-behind are not supported".into());
                        }
                        Some('>') => return Err("atomic groups are not supported".into()),
                        _ => {
                            return Err("inline flags such as (?i) are not supported".into());
                        }
                    }
                } else {
                    out.push('(');
                }
            }
            '*' | '+' | '?' => {
                out.push(c);
                i = quantifier_suffix(&chars, i, &mut out)?;
            }
            '{' => {
                let mut j = i;
                while chars
                    .get(j)
                    .is_some_and(|c| c.is_ascii_digit() || *c == ',')
                {
                    j += 1;
                }
                let body: String = chars[i..j].iter().collect();
                let valid = chars.get(j) == Some(&'}')
                    && !body.is_empty()
                    && body.chars().next().is_some_and(|c| c.is_ascii_digit())
                    && body.matches(',').count() <= 1;
                if !valid {
                    return Err(format!("illegal repetition near index {}", i - 1));
                }
                out.push('{');
                out.push_str(&body);
                out.push('}');
                i = quantifier_suffix(&chars, j + 1, &mut out)?;
            }
            _ => push_literal(&mut out, c),
        }
    }
    Ok(out)
}

/// After a quantifier: `?` (reluctant) is kept; `+` (possessive) has no `regex` equivalent.
fn quantifier_suffix(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    match chars.get(i) {
        Some('?') => {
            out.push('?');
            Ok(i + 1)
        }
        Some('+') => Err("possessive quantifiers (`*+`, `++`, ...) are not supported".into()),
        _ => Ok(i),
    }
}

fn push_literal(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// Translates the escape after a `\` outside a character class; returns the next index.
fn translate_escape(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let Some(&c) = chars.get(i) else {
        return Err("unexpected end of pattern after `\\`".into());
    };
    let next = i + 1;
    if !c.is_ascii_alphanumeric() {
        push_literal(out, c);
        return Ok(next);
    }
    match c {
        'd' => out.push_str(&format!("[{DIGIT}]")),
        'D' => out.push_str(&format!("[^{DIGIT}]")),
        's' => out.push_str(&format!("[{SPACE}]")),
        'S' => out.push_str(&format!("[^{SPACE}]")),
        'w' => out.push_str(&format!("[{WORD}]")),
        'W' => out.push_str(&format!("[^{WORD}]")),
        'A' => out.push_str(r"\A"),
        'z' => out.push_str(r"\z"),
        'Q' => {
            let mut j = next;
            while j < chars.len() && !(chars[j] == '\\' && chars.get(j + 1) == Some(&'E')) {
                push_literal(out, chars[j]);
                j += 1;
            }
            return Ok((j + 2).min(chars.len()));
        }
        'E' => {} // a stray \E is ignored by Java
        't' | 'n' | 'r' | 'f' | 'a' | 'e' | '0' | 'x' | 'u' => {
            let (ch, after) = escaped_char(chars, i)?;
            push_literal(out, ch);
            return Ok(after);
        }
        'b' | 'B' => {
            return Err(
                "`\\b` and `\\B` are not supported: Java's word boundary is not the regex crate's"
                    .into(),
            );
        }
        '1'..='9' | 'k' => return Err("back-references are not supported".into()),
        'Z' | 'G' => {
            return Err(format!(
                "`\\{c}` is not supported; use `\\z` for end of input"
            ));
        }
        'p' | 'P' => {
            return Err(
                "Unicode property classes (`\\p{..}`) are not supported: their names differ".into(),
            );
        }
        _ => return Err(format!("`\\{c}` is not supported")),
    }
    Ok(next)
}

/// A character escape (`\t \n \r \f \a \e \0ooo \xhh \x{h..} \uhhhh`) starting at the
/// letter; returns the character and the index after the escape.
fn escaped_char(chars: &[char], i: usize) -> Result<(char, usize), String> {
    let hex = |from: usize, len: usize| -> Option<u32> {
        let text: String = chars.get(from..from + len)?.iter().collect();
        u32::from_str_radix(&text, 16)
            .ok()
            .filter(|_| text.len() == len)
    };
    let simple = |ch: char| Ok((ch, i + 1));
    match chars[i] {
        't' => simple('\t'),
        'n' => simple('\n'),
        'r' => simple('\r'),
        'f' => simple('\u{c}'),
        'a' => simple('\u{7}'),
        'e' => simple('\u{1b}'),
        '0' => {
            // \0n, \0nn, \0mnn (m <= 3): up to three octal digits.
            let mut value = 0u32;
            let mut j = i + 1;
            while j < chars.len() && j < i + 4 {
                let Some(d) = chars[j].to_digit(8) else { break };
                if value * 8 + d > 0o377 {
                    break;
                }
                value = value * 8 + d;
                j += 1;
            }
            if j == i + 1 {
                return Err("illegal octal escape sequence".into());
            }
            Ok((
                char::from_u32(value).expect("octal escapes are below 0x100"),
                j,
            ))
        }
        'x' if chars.get(i + 1) == Some(&'{') => {
            let end = (i + 2..chars.len())
                .find(|&j| chars[j] == '}')
                .ok_or("unclosed hexadecimal escape sequence")?;
            let value = hex(i + 2, end - i - 2).ok_or("illegal hexadecimal escape sequence")?;
            let ch = char::from_u32(value).ok_or("hexadecimal code point is not a character")?;
            Ok((ch, end + 1))
        }
        'x' => {
            let value = hex(i + 1, 2).ok_or("illegal hexadecimal escape sequence")?;
            Ok((char::from_u32(value).expect("two hex digits"), i + 3))
        }
        'u' => {
            let value = hex(i + 1, 4).ok_or("illegal Unicode escape sequence")?;
            if (0xD800..0xDC00).contains(&value) {
                // A surrogate pair written as two escapes.
                if chars.get(i + 5) == Some(&'\\')
                    && chars.get(i + 6) == Some(&'u')
                    && let Some(low) = hex(i + 7, 4).filter(|v| (0xDC00..0xE000).contains(v))
                {
                    let ch = char::from_u32(0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00))
                        .expect("valid surrogate pair");
                    return Ok((ch, i + 11));
                }
                return Err("a lone surrogate escape is not supported".into());
            }
            let ch = char::from_u32(value).ok_or("a lone surrogate escape is not supported")?;
            Ok((ch, i + 5))
        }
        other => Err(format!("`\\{other}` is not supported")),
    }
}

/// Translates a character class; `i` is just after `[`. Items are re-emitted escaped, so
/// `regex`'s own class operators (`&&`, `--`, `~~`, nested `[`) can never be triggered by
/// accident. Java's nested classes and intersections are refused.
fn translate_class(chars: &[char], mut i: usize, out: &mut String) -> Result<usize, String> {
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        return Err("a `]` first in a character class is not supported; escape it as `\\]`".into());
    }
    let mut items = 0;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("unclosed character class".into());
        };
        i += 1;
        let single = match c {
            ']' => break,
            '[' => return Err("nested character classes are not supported".into()),
            '&' if chars.get(i) == Some(&'&') => {
                return Err("character class intersection (`&&`) is not supported".into());
            }
            '\\' => {
                let Some(&e) = chars.get(i) else {
                    return Err("unclosed character class".into());
                };
                match e {
                    'd' | 's' | 'w' => {
                        out.push_str(match e {
                            'd' => DIGIT,
                            's' => SPACE,
                            _ => WORD,
                        });
                        i += 1;
                        items += 1;
                        continue;
                    }
                    _ if !e.is_ascii_alphanumeric() => {
                        i += 1;
                        e
                    }
                    't' | 'n' | 'r' | 'f' | 'a' | 'e' | '0' | 'x' | 'u' => {
                        let (ch, after) = escaped_char(chars, i)?;
                        i = after;
                        ch
                    }
                    _ => return Err(format!("`\\{e}` inside a character class is not supported")),
                }
            }
            _ => c,
        };
        items += 1;
        push_class_char(out, single);
        // A range `a-z`; a `-` before `]` is a literal.
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|n| *n != ']') {
            let end = match chars[i + 1] {
                '[' => return Err("nested character classes are not supported".into()),
                '\\' => {
                    let Some(&e) = chars.get(i + 2) else {
                        return Err("unclosed character class".into());
                    };
                    if !e.is_ascii_alphanumeric() {
                        i += 3;
                        e
                    } else {
                        let (ch, after) = escaped_char(chars, i + 2)
                            .map_err(|_| "illegal character range".to_owned())?;
                        i = after;
                        ch
                    }
                }
                other => {
                    i += 2;
                    other
                }
            };
            if end < single {
                return Err("illegal character range".into());
            }
            out.push('-');
            push_class_char(out, end);
        }
    }
    if items == 0 {
        return Err("empty character class".into());
    }
    out.push(']');
    Ok(i)
}

fn push_class_char(out: &mut String, c: char) {
    if c.is_ascii_punctuation() || c == ' ' {
        out.push('\\');
        out.push(c);
    } else if c.is_control() {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(pattern: &str, replacement: &str, input: &str) -> String {
        ReplaceAll::new(pattern, replacement)
            .unwrap()
            .replace_all(input)
            .unwrap()
            .into_owned()
    }

    #[test]
    fn resumes_after_empty_and_non_empty_matches_like_java() {
        assert_eq!(replace("a*", "-", "baaac"), "-b--c-");
        assert_eq!(replace("x*", "-", "abc"), "-a-b-c-");
        assert_eq!(replace("", "-", "ab"), "-a-b-");
    }

    #[test]
    fn expands_group_references_greedily_while_the_group_exists() {
        assert_eq!(replace("(a)(b)", "$2$1", "ab"), "ba");
        // Only one group: `$10` is group 1 followed by a literal 0.
        assert_eq!(replace("(a)", "$10", "a"), "a0");
        assert_eq!(replace("(?<x>a)", "<${x}>", "a"), "<a>");
        assert_eq!(replace("a", "\\$1", "a"), "$1");
    }

    #[test]
    fn invalid_replacement_is_an_error_only_when_something_matches() {
        let r = ReplaceAll::new("a", "$").unwrap();
        assert_eq!(r.replace_all("bbb").unwrap(), "bbb");
        assert!(matches!(
            r.replace_all("a"),
            Err(ReplaceError::Replacement { .. })
        ));
        let r = ReplaceAll::new("a", "$2").unwrap();
        assert!(matches!(
            r.replace_all("a"),
            Err(ReplaceError::Replacement { .. })
        ));
    }

    #[test]
    fn translates_java_classes_to_ascii_and_dot_to_non_terminators() {
        assert_eq!(replace("\\d", "#", "1٣"), "#٣");
        assert_eq!(replace("\\w+", "w", "ab é"), "w é");
        assert_eq!(replace(".", "x", "a\u{2028}b\r"), "x\u{2028}x\r");
        assert_eq!(replace("[-a.]", "", "a-b.c"), "bc");
    }

    #[test]
    fn refuses_constructs_without_an_exact_equivalent() {
        for (pattern, error) in [
            (
                "a$",
                "`$` is not supported: in Java it also matches before a final line terminator, \
                 which the regex crate cannot express; use `\\z` for the end of input",
            ),
            (
                "\\b",
                "`\\b` and `\\B` are not supported: Java's word boundary is not the regex crate's",
            ),
            ("(?i)a", "inline flags such as (?i) are not supported"),
            (
                "a*+",
                "possessive quantifiers (`*+`, `++`, ...) are not supported",
            ),
            ("(?=a)", "look-ahead and look-behind are not supported"),
            ("\\1", "back-references are not supported"),
            ("[a[b]]", "nested character classes are not supported"),
            (
                "[a&&b]",
                "character class intersection (`&&`) is not supported",
            ),
        ] {
            assert_eq!(
                ReplaceAll::new(pattern, "").err().as_deref(),
                Some(error),
                "{pattern}"
            );
        }
    }

    #[test]
    fn an_escaped_backslash_then_apostrophe_matches_backslash_apostrophe() {
        assert_eq!(replace("\\\\'", "'", "a\\'b"), "a'b");
        assert_eq!(replace("\\\\'", "'", "\\\\\\'"), "\\\\'");
    }
}
