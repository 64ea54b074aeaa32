//! The deployed template: valid JSON whose `name` is exactly the authorizer's name, for
//! every name.

use mapping::{REQUEST_TEMPLATE, REQUEST_TEMPLATE_SOURCE, RenderContext, Template};
use proptest::prelude::*;

/// Renders the deployed template for `name` and returns the `name` of the JSON it
/// produces, failing if the output is not a JSON object with a string `name` only.
fn round_trip(name: &str) -> Result<String, String> {
    let rendered = mapping::request_template()
        .render(&RenderContext::with_name(name))
        .map_err(|e| e.to_string())?;
    let event: serde_json::Value =
        serde_json::from_str(&rendered).map_err(|e| format!("not JSON ({e}): {rendered:?}"))?;
    let object = event.as_object().ok_or("not an object")?;
    if object.len() != 1 {
        return Err(format!("expected only \"name\", got {rendered}"));
    }
    match object.get("name") {
        Some(serde_json::Value::String(got)) => Ok(got.clone()),
        other => Err(format!("name is {other:?}")),
    }
}

#[test]
fn the_deployed_template_is_read_from_openapi_yaml_and_parses() {
    assert_eq!(
        REQUEST_TEMPLATE_SOURCE,
        "openapi.yaml: paths > /hello > get > x-amazon-apigateway-integration > \
         requestTemplates > application/json"
    );
    assert!(
        REQUEST_TEMPLATE.starts_with("## Request mapping template of GET /hello"),
        "{REQUEST_TEMPLATE}"
    );
    Template::parse(REQUEST_TEMPLATE).expect("the deployed template parses");
}

#[test]
fn renders_a_plain_name_as_a_one_field_object() {
    let rendered = mapping::request_template()
        .render(&RenderContext::with_name("Jane Doe"))
        .unwrap();
    assert_eq!(rendered, "{\"name\": \"Jane Doe\"}\n");
}

#[test]
fn unescapes_only_the_apostrophe_escape() {
    let cases: &[(&str, &str)] = &[
        ("O'Brien", r#"{"name": "O'Brien"}"#),
        // escapeJavaScript gives \\\' ; the regex matches the final \' only.
        (r"\'", r#"{"name": "\\'"}"#),
        (r"\\'", r#"{"name": "\\\\'"}"#),
        (r"'\", r#"{"name": "'\\"}"#),
        (r#""/\"#, r#"{"name": "\"\/\\"}"#),
        ("é\u{2028}😀", r#"{"name": "\u00E9\u2028\uD83D\uDE00"}"#),
    ];
    for (name, expected) in cases {
        let rendered = mapping::request_template()
            .render(&RenderContext::with_name(*name))
            .unwrap();
        assert_eq!(rendered.trim_end(), *expected, "name {name:?}");
    }
}

#[test]
fn returns_hostile_and_unusual_names_unchanged() {
    let long = "é".repeat(2000);
    let names = [
        "Jane Doe",
        "O'Brien",
        "''",
        r"\",
        r"\'",
        r"\\'",
        r"'\",
        r"\\\\",
        r"\\\'\'",
        "\"",
        "</script><script>alert(1)</script>",
        r#"x", "admin": true, "y": "z"#,
        "$context.stage #set($x = 1) ## not a comment",
        r"\u0041 \n \t",
        "\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f}",
        "a\r\nb\n",
        "\u{2028}\u{2029}\u{feff}",
        "日本語 한국어 العربية",
        "😀👩‍💻🏳️‍🌈",
        "\u{10ffff}",
        "",
        long.as_str(),
    ];
    for name in names {
        assert_eq!(round_trip(name).as_deref(), Ok(name), "name {name:?}");
    }
}

#[test]
fn missing_name_still_renders_valid_json() {
    let rendered = mapping::request_template()
        .render(&RenderContext::default())
        .unwrap();
    assert_eq!(rendered.trim_end(), r#"{"name": ""}"#);
}

/// Why the template is written the way it is: the tutorial template breaks on a quote and
/// lets a crafted name add fields, and getting the regex escaping wrong leaves `\'`.
#[test]
fn the_obvious_alternatives_fail_where_the_deployed_template_does_not() {
    let render = |source: &str, name: &str| {
        Template::parse(source)
            .unwrap()
            .render(&RenderContext::with_name(name))
            .unwrap()
    };
    let is_json = |text: &str| serde_json::from_str::<serde_json::Value>(text).is_ok();

    let tutorial = r#"{"name": "$context.authorizer.name"}"#;
    assert!(!is_json(&render(tutorial, r#"a"b"#)));
    let injected: serde_json::Value =
        serde_json::from_str(&render(tutorial, r#"x", "admin": "true"#)).unwrap();
    assert_eq!(injected["admin"], "true");

    // Without the replaceAll, an apostrophe yields \' : not JSON.
    let escape_only = r#"{"name": "$util.escapeJavaScript($context.authorizer.name)"}"#;
    assert!(!is_json(&render(escape_only, "O'Brien")));

    // "\'" is the two characters \' (Velocity keeps backslashes), which as a Java regex
    // is an escaped apostrophe: it matches ' alone and replaces it with itself.
    let regex_too_short =
        r#"{"name": "$util.escapeJavaScript($context.authorizer.name).replaceAll("\'", "'")"}"#;
    assert!(!is_json(&render(regex_too_short, "O'Brien")));

    // Doubling the backslashes as one would in Java source: the regex then wants two
    // backslashes before the apostrophe, so a plain apostrophe stays escaped, and a
    // backslash-apostrophe name loses the backslash that protected the JSON.
    let java_style =
        r#"{"name": "$util.escapeJavaScript($context.authorizer.name).replaceAll("\\\\'", "'")"}"#;
    assert!(!is_json(&render(java_style, "O'Brien")));
    assert!(!is_json(&render(java_style, r"\'")));

    // The literal replace of the two characters \' is equivalent to the deployed form.
    let literal =
        r#"{"name": "$util.escapeJavaScript($context.authorizer.name).replace("\'", "'")"}"#;
    for name in ["O'Brien", r"\'", r"\\'"] {
        assert_eq!(
            render(literal, name),
            mapping::request_template()
                .render(&RenderContext::with_name(name))
                .unwrap()
                .trim_end()
        );
    }
}

#[test]
fn templates_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Template>();
}

/// Characters that matter to JSON, JavaScript escaping and regexes, mixed with anything.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec!['\\', '\'', '"', '/', '$', '#', '\n', '\u{0}', '\u{2028}', 'é', '😀']),
        1 => any::<char>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_unicode_name_comes_back_byte_for_byte(name in any::<String>()) {
        prop_assert_eq!(round_trip(&name), Ok(name.clone()));
    }

    #[test]
    fn names_dense_in_escapable_characters_come_back_byte_for_byte(
        name in prop::collection::vec(tricky_char(), 0..48).prop_map(|cs| cs.into_iter().collect::<String>())
    ) {
        prop_assert_eq!(round_trip(&name), Ok(name.clone()));
    }
}
