//! Anything outside the subset, or invalid, is an error naming its line and column (never
//! silently different output).

use mapping::{Error, RenderContext, Template};

fn parse_error(source: &str) -> Error {
    match Template::parse(source) {
        Ok(_) => panic!("{source:?} should not parse"),
        Err(error) => error,
    }
}

fn render_error(source: &str, context: &RenderContext) -> Error {
    let template =
        Template::parse(source).unwrap_or_else(|e| panic!("{source:?} should parse: {e}"));
    match template.render(context) {
        Ok(out) => panic!("{source:?} should not render, got {out:?}"),
        Err(error) => error,
    }
}

#[test]
fn syntax_errors_point_at_the_construct() {
    let cases: &[(&str, (usize, usize))] = &[
        ("ok\n  #if($a)\nnever closed", (2, 3)),
        ("x\n#end", (2, 1)),
        ("#else", (1, 1)),
        ("#if(true)a#else b#else c#end", (1, 18)),
        ("#foreach($a in $b)#else#end", (1, 19)),
        ("#set($a 1)", (1, 9)),
        ("#set $a = 1", (1, 1)),
        ("#if $a", (1, 1)),
        ("#if($a b)", (1, 8)),
        ("${context.stage", (1, 1)),
        ("$a.b('unclosed)", (1, 6)),
        ("#set($a = \"\\user\")", (1, 11)),
        ("#set($a = \"\\uD83D\")", (1, 11)),
        ("#* never closed", (1, 1)),
        ("#foreach($a on $b)#end", (1, 13)),
        ("#set($a = )", (1, 11)),
        ("$s.contains(($x))", (1, 13)),
    ];
    for (source, position) in cases {
        let error = parse_error(source);
        assert!(matches!(error, Error::Syntax { .. }), "{source:?}: {error}");
        assert_eq!(error.position(), *position, "{source:?}: {error}");
    }
}

#[test]
fn unsupported_velocity_is_refused_at_parse_time() {
    let cases: &[(&str, (usize, usize))] = &[
        ("#macro(greet)hi#end", (1, 1)),
        ("#parse('other.vtl')", (1, 1)),
        ("#include('x')", (1, 1)),
        ("#greet('x')", (1, 1)),
        ("price: \\$5", (1, 8)),
        ("\\#if", (1, 1)),
        ("#if('literal')x#end", (1, 5)),
        ("#if(1 + 1)x#end", (1, 7)),
        ("#set($x = 'a' + $undefined)", (1, 15)),
        ("#set($x = 9223372036854775807 + 1)", (1, 31)),
        ("#set($m = {1: 'one'})", (1, 12)),
        ("#foreach($i in [$u])#foreach($i in [2])#end#end", (1, 36)),
        ("#set($a = 's')#set($a.b = 1)", (1, 23)),
    ];
    for (source, position) in cases {
        let error = match Template::parse(source) {
            Err(error) => error,
            // A literal condition is refused when evaluated.
            Ok(template) => template.render(&RenderContext::default()).unwrap_err(),
        };
        assert!(
            matches!(error, Error::Unsupported { .. }),
            "{source:?}: {error}"
        );
        assert_eq!(error.position(), *position, "{source:?}: {error}");
    }
}

#[test]
fn java_regex_constructs_without_an_exact_equivalent_are_refused_at_parse_time() {
    let cases: &[&str] = &[
        "$s.replaceAll('a$', '')",
        "$s.replaceAll('\\bx', '')",
        "$s.replaceAll('(a)\\1', '')",
        "$s.replaceAll('(?i)a', '')",
        "$s.replaceAll('(?=a)', '')",
        "$s.replaceAll('a++', '')",
        "$s.replaceAll('[a[b]]', '')",
        "$s.replaceAll('\\p{L}', '')",
        "$s.replaceAll('(unclosed', '')",
        "$s.replaceAll('a{x}', '')",
    ];
    for source in cases {
        let error = parse_error(&format!("\n  {source}"));
        let Error::Regex { line, column, .. } = &error else {
            panic!("{source:?}: expected a regex error, got {error}");
        };
        assert_eq!((*line, *column), (2, 6), "{source:?}: {error}");
    }
}

#[test]
fn unsupported_api_gateway_variables_are_refused_when_rendered() {
    let context = RenderContext::with_name("x");
    let cases: &[(&str, (usize, usize))] = &[
        ("{\"id\": \"$context.apiKey\"}", (1, 18)),
        ("$context.identity.callerName", (1, 19)),
        ("$context.error.reason", (1, 16)),
        ("$util.escapeJson('x')", (1, 7)),
        ("$input.headers", (1, 8)),
        ("$input.body()", (1, 8)),
        ("$input.params().split(',')", (1, 17)),
        ("#set($a = 'a,b')$a.split(',')", (1, 17)),
        (
            "#foreach($i in $input.path('$')) #end$input.path('$..a')",
            (1, 45),
        ),
        (
            "#foreach($v in $context.authorizer)$foreach.parent#end",
            (1, 45),
        ),
    ];
    for (source, position) in cases {
        let error = render_error(source, &context);
        assert!(
            matches!(error, Error::Unsupported { .. }),
            "{source:?}: {error}"
        );
        assert_eq!(error.position(), *position, "{source:?}: {error}");
    }
}

/// A map's keySet() and values() are a Java Set and Collection: no List methods, for
/// which Velocity finds no method (found by the differential test, seed
/// 1796157801714825059: `$m.keySet().indexOf('a') == $null` is true in Velocity).
#[test]
fn positional_methods_on_a_maps_key_set_or_values_are_refused() {
    let context = RenderContext::with_name("x");
    let prefix = "#set($m = {'k': 'v'})";
    for (source, message) in [
        (
            "$m.keySet().indexOf('k')",
            "indexOf() on a map's keySet() or values(), a Java Set or Collection without a \
             List's methods (supported: size, isEmpty, contains, toString)",
        ),
        (
            "$m.values().get(0)",
            "get() on a map's keySet() or values(), a Java Set or Collection without a \
             List's methods (supported: size, isEmpty, contains, toString)",
        ),
        (
            "#set($k = $m.keySet())$k[0]",
            "an index into a map's keySet() or values(), a Java Set or Collection without \
             positions",
        ),
    ] {
        let error = render_error(&format!("{prefix}{source}"), &context);
        match error {
            Error::Unsupported { ref what, .. } => assert_eq!(what, message, "{source}"),
            other => panic!("{source}: {other:?}"),
        }
    }
    let template = Template::parse(&format!(
        "{prefix}$m.keySet().size() $m.values().contains('v') $m.keySet()"
    ))
    .unwrap();
    assert_eq!(template.render(&context).unwrap(), "1 true [k]");
}

#[test]
fn invalid_replacements_fail_only_when_something_matches_as_in_java() {
    let template =
        Template::parse("#set($s = $context.authorizer.name)\n$s.replaceAll('a', '$2')").unwrap();
    assert_eq!(
        template.render(&RenderContext::with_name("xyz")).unwrap(),
        "xyz"
    );
    let error = template
        .render(&RenderContext::with_name("abc"))
        .unwrap_err();
    assert!(
        matches!(&error, Error::Replacement { line: 2, column: 4, replacement, .. } if replacement == "$2"),
        "{error}"
    );
    for replacement in ["$", "\\", "$x", "${nope}"] {
        let template = Template::parse(&format!(
            "$context.authorizer.name.replaceAll('a', '{replacement}')"
        ))
        .unwrap();
        let error = template.render(&RenderContext::with_name("a")).unwrap_err();
        assert!(
            matches!(error, Error::Replacement { .. }),
            "{replacement}: {error}"
        );
    }
}

#[test]
fn request_dependent_failures_are_render_errors() {
    let mut context = RenderContext::with_name("x");
    context.body = "not json".into();
    let error = render_error("line one\n  $input.json('$.a')", &context);
    assert!(
        matches!(
            error,
            Error::InvalidJson {
                line: 2,
                column: 10,
                ..
            }
        ),
        "{error}"
    );

    let error = render_error("$util.parseJson('{')", &context);
    assert!(
        matches!(
            error,
            Error::InvalidJson {
                line: 1,
                column: 7,
                ..
            }
        ),
        "{error}"
    );

    for source in [
        "$util.base64Decode('***')",
        "$util.urlDecode('%zz')",
        "$util.escapeJavaScript(1)",
        "$context.authorizer.name.replace($nothing, 'x')",
        "$context.authorizer.name.contains()",
        "#foreach($c in $context.authorizer.name)#end",
        "#set($l = [1])$l.get(5)",
        "$context.authorizer.name.substring(9)",
    ] {
        let error = render_error(source, &context);
        assert!(
            matches!(error, Error::Evaluation { .. }),
            "{source:?}: {error}"
        );
    }
}

#[test]
fn error_messages_name_line_and_column() {
    let error = parse_error("a\nb #end");
    assert_eq!(
        error.to_string(),
        "line 2, column 3: syntax error: #end without a matching #if or #foreach"
    );
}
