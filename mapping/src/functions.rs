//! The string functions behind `$util`, with the exact semantics of the Java code API
//! Gateway runs.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

/// `$util.escapeJavaScript`: Apache commons-lang 2 `StringEscapeUtils.escapeJavaScript`.
///
/// * `'` → `\'`, `"` → `\"`, `\` → `\\`, `/` → `\/`;
/// * backspace, form feed, newline, carriage return, tab → `\b` `\f` `\n` `\r` `\t`;
/// * other characters below U+0020 → `\u00XX`;
/// * every character above U+007F → `\uXXXX` per UTF-16 code unit, upper-case hex, so
///   U+1F600 becomes `\uD83D\uDE00`;
/// * everything else (printable ASCII, and DEL) as is.
///
/// The output is valid inside a JSON string except for `\'`. Hand-written: no crate
/// reproduces this Java function, and its exact output is the point.
pub fn escape_javascript(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8 + 2);
    for c in input.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='\u{7f}' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{:04X}", unit);
                }
            }
        }
    }
    out
}

/// `$util.urlEncode`: Java's `URLEncoder.encode(s, "UTF-8")`
/// (`application/x-www-form-urlencoded`): ASCII letters, digits and `.-*_` as is, space as
/// `+`, every other UTF-8 byte as `%XX` (upper-case hex).
pub fn url_encode(input: &str) -> String {
    form_urlencoded::byte_serialize(input.as_bytes()).collect()
}

/// `$util.urlDecode`: Java's `URLDecoder.decode(s, "UTF-8")`: `+` is a space, `%XX` a byte,
/// bytes that are not UTF-8 become U+FFFD.
///
/// Hand-written rather than `percent_encoding::percent_decode` because Java is strict
/// where that crate is lenient: a `%` not followed by two hex digits is an error (an
/// `IllegalArgumentException` in Java), not literal text.
pub fn url_decode(input: &str) -> Result<String, String> {
    if !input.contains(['%', '+']) {
        return Ok(input.to_owned());
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let Some(pair) = bytes.get(i + 1..i + 3) else {
                    return Err("incomplete trailing escape (%) pattern".to_owned());
                };
                out.push(java_hex_byte(pair)?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Java parses the two characters after `%` with `Integer.parseInt(s, 16)`, which also
/// accepts a sign: `%+1` is byte 1, `%-1` is a negative value and an error.
fn java_hex_byte(pair: &[u8]) -> Result<u8, String> {
    let digit = |b: u8| (b as char).to_digit(16);
    match (pair[0], digit(pair[0]), digit(pair[1])) {
        (_, Some(high), Some(low)) => Ok((high * 16 + low) as u8),
        (b'+', None, Some(low)) => Ok(low as u8),
        (b'-', None, Some(0)) => Ok(0),
        (b'-', None, Some(_)) => {
            Err("illegal hex characters in escape (%) pattern - negative value".to_owned())
        }
        _ => Err(format!(
            "illegal hex characters in escape (%) pattern: {:?}",
            String::from_utf8_lossy(pair)
        )),
    }
}

/// `$util.base64Encode`: standard alphabet, with padding, of the UTF-8 bytes.
pub fn base64_encode(input: &str) -> String {
    STANDARD.encode(input)
}

/// Java's `Base64.getDecoder()`: the standard alphabet, padding optional but correct when
/// present, no whitespace, and unused trailing bits ignored.
const JAVA_DECODER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// `$util.base64Decode`: decodes standard base64 and reads the bytes as UTF-8 (invalid
/// sequences become U+FFFD).
pub fn base64_decode(input: &str) -> Result<String, String> {
    // Padding, when present, must complete the last 4-character unit (Java rejects `YQ=`).
    if input.ends_with('=') && !input.len().is_multiple_of(4) {
        return Err("invalid base64: incomplete padding".to_owned());
    }
    let bytes = JAVA_DECODER
        .decode(input)
        .map_err(|error| format!("invalid base64: {error}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
