//! `Template::reads_params`: whether a template may read `$input.params` (path, query
//! string, headers), which the emulator then builds; it must never say no wrongly.

use mapping::{RenderContext, Template};

fn reads(source: &str) -> bool {
    Template::parse(source).expect("parses").reads_params()
}

#[test]
fn every_way_of_reaching_the_params_counts() {
    for source in [
        "$input.params('x')",
        "$input.params()",
        "$input.params().header.get('Host')",
        "$!input.params('x')",
        "${input.params('x')}",
        // An alias: whatever it is used for later.
        "#set($i = $input)$i.params('x')",
        "#set($i = $input)",
        "#if($input.params('x') == 'y')yes#end",
        "#foreach($name in $input.params().header.keySet())$name #end",
        "#define($m)$input.params('x')#end",
        "{\"v\": \"$input.params('x')\"}",
        "$util.escapeJavaScript($input.params('x'))",
        "$input.json('$').get($input.params('x'))",
        "#set($m = {'a': $input.params('x')})",
        "#set($l = [$input.params('x')])",
        "#set($s = \"in $input.params('x')\")",
        // Not a method the renderer knows, but not body-only either.
        "$input.params",
    ] {
        assert!(reads(source), "{source}");
    }
}

#[test]
fn the_body_the_context_and_the_util_functions_do_not() {
    for source in [
        mapping::REQUEST_TEMPLATE,
        "$input.body",
        "$input.json('$.errorMessage')",
        "$input.path('$').name",
        "$context.authorizer.name $context.requestId $context.domainName",
        "$stageVariables.x $util.urlEncode('a')",
        "#set($input2 = 1)$input2",
        "plain text",
    ] {
        assert!(!reads(source), "{source}");
    }
}

/// What the emulator relies on: a template that does not read the params renders the
/// same without them, `$context.domainName` (the `Host` header) aside.
#[test]
fn a_template_that_does_not_read_the_params_renders_the_same_without_them() {
    let source = "{\"name\": \"$context.authorizer.name\", \"host\": \"$context.domainName\", \"body\": $input.json('$')}";
    let template = Template::parse(source).unwrap();
    assert!(!template.reads_params());
    let mut full = RenderContext::with_name("Jane");
    full.body = "{\"a\": 1}".into();
    full.headers = [
        ("Host".to_owned(), "api.example.com".to_owned()),
        ("Authorization".to_owned(), "Bearer t".to_owned()),
    ]
    .into();
    full.query = [("q".to_owned(), "1".to_owned())].into();
    let mut lean = full.clone();
    lean.headers = [("Host".to_owned(), "api.example.com".to_owned())].into();
    lean.query.clear();
    assert_eq!(
        template.render(&lean).unwrap(),
        "{\"name\": \"Jane\", \"host\": \"api.example.com\", \"body\": {\"a\":1}}"
    );
    assert_eq!(
        template.render(&lean).unwrap(),
        template.render(&full).unwrap()
    );
}
