//! `$util` functions: literal expected outputs, computed by hand from the Java sources'
//! rules (commons-lang 2 `escapeJavaScript`, `URLEncoder`, `URLDecoder`, `Base64`).

use mapping::{
    RenderContext, Template, base64_decode, base64_encode, escape_javascript, url_decode,
    url_encode,
};

#[test]
fn escape_javascript_matches_commons_lang_character_by_character() {
    let table: &[(&str, &str)] = &[
        ("", ""),
        (
            "Jane Doe 123 ~!@#$%^&*()_+-=[]{}|;:,.<>?`",
            "Jane Doe 123 ~!@#$%^&*()_+-=[]{}|;:,.<>?`",
        ),
        // Quotes, backslash and slash.
        ("'", r"\'"),
        ("\"", r#"\""#),
        ("\\", r"\\"),
        ("/", r"\/"),
        ("</script>", r"<\/script>"),
        (r#"Jane "JD" O'Brien"#, r#"Jane \"JD\" O\'Brien"#),
        (r"\'", r"\\\'"),
        (r"\\'", r"\\\\\'"),
        // The short escapes.
        ("\u{8}\u{c}\n\r\t", r"\b\f\n\r\t"),
        // Other control characters: \u00XX, upper-case hex.
        ("\u{0}", r"\u0000"),
        ("\u{1}", r"\u0001"),
        ("\u{b}", r"\u000B"),
        ("\u{1b}", r"\u001B"),
        ("\u{1f}", r"\u001F"),
        // DEL is below 0x80 and passes through.
        ("\u{7f}", "\u{7f}"),
        // Everything above 0x7F: \uXXXX per UTF-16 unit, upper-case hex.
        ("\u{80}", r"\u0080"),
        ("é", r"\u00E9"),
        ("Zoë", r"Zo\u00EB"),
        ("ÿ", r"\u00FF"),
        ("Ā", r"\u0100"),
        ("\u{2028}\u{2029}", r"\u2028\u2029"),
        ("日本語", r"\u65E5\u672C\u8A9E"),
        ("\u{feff}", r"\uFEFF"),
        ("\u{ffff}", r"\uFFFF"),
        // Outside the BMP: a surrogate pair.
        ("😀", r"\uD83D\uDE00"),
        ("𝄞", r"\uD834\uDD1E"),
        ("\u{10ffff}", r"\uDBFF\uDFFF"),
        ("👩‍💻", r"\uD83D\uDC69\u200D\uD83D\uDCBB"),
    ];
    for (input, expected) in table {
        assert_eq!(escape_javascript(input), *expected, "input {input:?}");
    }
}

#[test]
fn url_encode_is_javas_form_encoding() {
    let table: &[(&str, &str)] = &[
        ("", ""),
        ("azAZ09.-*_", "azAZ09.-*_"),
        ("a b", "a+b"),
        ("a+b&c=d/e?f#g~h'i", "a%2Bb%26c%3Dd%2Fe%3Ff%23g%7Eh%27i"),
        ("é😀", "%C3%A9%F0%9F%98%80"),
        ("\n", "%0A"),
    ];
    for (input, expected) in table {
        assert_eq!(url_encode(input), *expected, "input {input:?}");
    }
}

#[test]
fn url_decode_is_javas_strict_form_decoding() {
    let table: &[(&str, &str)] = &[
        ("a+b", "a b"),
        ("%41%2b%2B", "A++"),
        ("%C3%A9%F0%9F%98%80", "é😀"),
        ("100%25", "100%"),
        // Bytes that are not UTF-8 become U+FFFD.
        ("%FF", "\u{fffd}"),
        // Java's Integer.parseInt accepts a sign: %+1 is byte 1.
        ("%+1", "\u{1}"),
    ];
    for (input, expected) in table {
        assert_eq!(
            url_decode(input).as_deref(),
            Ok(*expected),
            "input {input:?}"
        );
    }
    for (invalid, error) in [
        ("%", "incomplete trailing escape (%) pattern"),
        ("%4", "incomplete trailing escape (%) pattern"),
        (
            "%zz",
            "illegal hex characters in escape (%) pattern: \"zz\"",
        ),
        (
            "%-1",
            "illegal hex characters in escape (%) pattern - negative value",
        ),
        (
            "a%g0",
            "illegal hex characters in escape (%) pattern: \"g0\"",
        ),
    ] {
        assert_eq!(url_decode(invalid).unwrap_err(), error, "{invalid:?}");
    }
}

#[test]
fn base64_round_trips_utf8_and_decodes_like_javas_basic_decoder() {
    assert_eq!(base64_encode(""), "");
    assert_eq!(base64_encode("hello wörld"), "aGVsbG8gd8O2cmxk");
    assert_eq!(base64_encode("a"), "YQ==");
    assert_eq!(
        base64_decode("aGVsbG8gd8O2cmxk").as_deref(),
        Ok("hello wörld")
    );
    // Padding is optional but must be right when present.
    assert_eq!(base64_decode("YQ").as_deref(), Ok("a"));
    assert_eq!(base64_decode("YQ==").as_deref(), Ok("a"));
    for (invalid, error) in [
        ("YQ=", "invalid base64: incomplete padding"),
        ("Y", "invalid base64: Invalid input length: 1"),
        ("a b=", "invalid base64: Invalid symbol 32, offset 1."),
        ("YQ==\n", "invalid base64: Invalid symbol 10, offset 4."),
        ("*", "invalid base64: Invalid symbol 42, offset 0."),
    ] {
        assert_eq!(base64_decode(invalid).unwrap_err(), error, "{invalid:?}");
    }
}

#[test]
fn util_functions_are_reachable_from_templates() {
    let template = Template::parse(concat!(
        "$util.escapeJavaScript($context.authorizer.name)|",
        "$util.urlEncode('a b')|",
        "$util.urlDecode('a+b')|",
        "$util.base64Encode('hi')|",
        "$util.base64Decode('aGk=')|",
        "$util.parseJson('{\"a\":[1,\"x\"]}').a[1]",
    ))
    .unwrap();
    let rendered = template
        .render(&RenderContext::with_name("O'Brien/é"))
        .unwrap();
    assert_eq!(rendered, r"O\'Brien\/\u00E9|a+b|a b|aGk=|hi|x");
}

#[test]
fn util_functions_return_null_for_null_which_renders_as_nothing() {
    let template = Template::parse("[$util.escapeJavaScript($context.authorizer.nobody)]").unwrap();
    assert_eq!(template.render(&RenderContext::default()).unwrap(), "[]");
}
