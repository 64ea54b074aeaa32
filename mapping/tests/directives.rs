//! Each supported construct, with a literal expected output (Velocity 1.7 as API Gateway
//! runs it).

use mapping::{RenderContext, Template};

fn context() -> RenderContext<'static> {
    let mut context = RenderContext::with_name("Jane");
    std::sync::Arc::make_mut(&mut context.authorizer)
        .insert("principalId".into(), "sub-123".into());
    std::sync::Arc::make_mut(&mut context.authorizer)
        .insert("email".into(), "jane@example.com".into());
    context.stage = "prod".into();
    context.request_id = "req-1".into();
    context.http_method = "GET".into();
    context.resource_path = "/hello".into();
    context.path = "/prod/hello".into();
    context.source_ip = "192.0.2.1".into();
    context.user_agent = "curl/8".into();
    std::sync::Arc::make_mut(&mut context.stage_variables)
        .insert("env".into(), "production".into());
    context.body = r#"{"a":{"b":"x"},"items":[{"id":1},{"id":2},{"id":3}],"price":249.99,"big":1e20,"n":null}"#.into();
    context.path_params.insert("id".into(), "from-path".into());
    context.query.insert("id".into(), "from-query".into());
    context.query.insert("page".into(), "2".into());
    context.headers.insert("X-Trace".into(), "abc".into());
    context.headers.insert("id".into(), "from-header".into());
    context
}

fn render(source: &str) -> String {
    render_with(source, &context())
}

fn render_with(source: &str, context: &RenderContext) -> String {
    Template::parse(source)
        .unwrap_or_else(|e| panic!("{source:?} should parse: {e}"))
        .render(context)
        .unwrap_or_else(|e| panic!("{source:?} should render: {e}"))
}

fn check(table: &[(&str, &str)]) {
    for (source, expected) in table {
        assert_eq!(render(source), *expected, "template {source:?}");
    }
}

#[test]
fn text_passes_through_unchanged() {
    check(&[
        ("", ""),
        ("{\"a\": [1, 2]}\n", "{\"a\": [1, 2]}\n"),
        ("héllo 😀 \\n \\ back\\slash", "héllo 😀 \\n \\ back\\slash"),
        ("100% #fff $ $5 # ", "100% #fff $ $5 # "),
    ]);
}

#[test]
fn context_variables_render_their_values() {
    check(&[
        ("$context.authorizer.name", "Jane"),
        ("$context.authorizer.principalId", "sub-123"),
        ("$context.authorizer.email", "jane@example.com"),
        ("$context.stage", "prod"),
        ("$context.requestId", "req-1"),
        ("$context.httpMethod", "GET"),
        ("$context.resourcePath", "/hello"),
        ("$context.path", "/prod/hello"),
        ("$context.identity.sourceIp", "192.0.2.1"),
        ("$context.identity.userAgent", "curl/8"),
        ("$stageVariables.env", "production"),
        (
            "#foreach($k in $stageVariables.keySet())$k=$stageVariables.get($k)#end",
            "env=production",
        ),
    ]);
}

#[test]
fn null_references_render_as_nothing_in_every_notation() {
    check(&[
        ("[$nothing]", "[]"),
        ("[$!nothing]", "[]"),
        ("[${nothing}]", "[]"),
        ("[$!{nothing}]", "[]"),
        ("[$context.authorizer.missing]", "[]"),
        ("[$stageVariables.missing]", "[]"),
        // Methods on null are not called; the chain is null.
        ("[$context.authorizer.missing.toUpperCase()]", "[]"),
    ]);
}

#[test]
fn references_end_where_velocity_1_7_ends_them() {
    check(&[
        ("${context.stage}x", "prodx"),
        ("$context.stage.", "prod."),
        ("$context.stage.5", "prod.5"),
        ("$context.stage._x", "prod._x"),
        ("$context.stage (x)", "prod (x)"),
        ("$context.stage$context.stage", "prodprod"),
        // `-` continues a name in 1.7: this is the variable `a-b`, which is null.
        ("#set($a = 'x')[$a-b][$a -b][${a}-b]", "[][x -b][x-b]"),
    ]);
}

#[test]
fn input_body_json_path_and_params() {
    assert_eq!(render("$input.body"), context().body);
    check(&[
        ("$input.json('$.a.b')", "\"x\""),
        ("$input.json('$.a')", "{\"b\":\"x\"}"),
        ("$input.json(\"$['items'][1]\")", "{\"id\":2}"),
        ("$input.json('$.n')", "null"),
        ("[$input.json('$.missing')]", "[]"),
        ("$input.path('$.a.b')", "x"),
        ("$input.path('$.items').size()", "3"),
        ("$input.path('$.price')", "249.99"),
        ("$input.path('$.big')", "1.0E20"),
        ("$input.path('$.items[0].id')", "1"),
        ("$input.params('id')", "from-path"),
        ("$input.params('page')", "2"),
        ("$input.params('x-trace')", "abc"),
        ("[$input.params('absent')]", "[]"),
        ("$input.params().querystring.page", "2"),
        ("$input.params().header.get('X-Trace')", "abc"),
        ("[$input.params().header.get('x-trace')]", "[]"),
        (
            "#foreach($type in $input.params().keySet())$type=$input.params().get($type).size() #end",
            "path=1 querystring=2 header=2 ",
        ),
    ]);
}

#[test]
fn empty_body_is_an_empty_object() {
    let empty = RenderContext::default();
    assert_eq!(render_with("$input.json('$')", &empty), "{}");
    assert_eq!(render_with("$input.path('$').size()", &empty), "0");
    // AWS: `$input.body` of a request without a body is `{}` (LocalStack's aws-validated
    // test_input_body_formatting, test_apigateway_common.snapshot.json).
    assert_eq!(render_with("[$input.body]", &empty), "[{}]");
}

#[test]
fn set_assigns_and_swallows_its_line() {
    check(&[
        ("#set($a = 'x')\n$a", "x"),
        ("#set( $a = \"x\" )   \n$a", "x"),
        ("  #set($a = 1)\n$a", "1"),
        ("text  #set($a = 1)$a", "text  1"),
        ("#set($a = 1) after $a", " after 1"),
        ("#{set}($a = true)$a", "true"),
        ("#set($a = $context.stage)$a", "prod"),
        ("#set($a = \"$context.stage!\")$a", "prod!"),
        ("#set($a = 1.50)$a", "1.5"),
        ("#set($a = -7)$a", "-7"),
        ("#set($a = ($context.stage == 'prod'))$a", "true"),
        // A null right-hand side leaves the variable as it was (Velocity 1.7).
        ("#set($a = 'x')#set($a = $nothing)$a", "x"),
        // A #set variable hides the API Gateway object of the same name.
        ("#set($context = 'mine')$context", "mine"),
    ]);
}

#[test]
fn if_elseif_else_choose_a_branch_and_swallow_their_lines() {
    let template = "#if($context.stage == 'dev')\ndev\n#elseif($context.stage == 'prod')\nprod\n#else\nother\n#end\nafter";
    assert_eq!(render(template), "prod\nafter");
    check(&[
        ("#if(false)a#else b#end", " b"),
        ("#if(false)a#elseif(true)b#end", "b"),
        ("#{if}(true)x#{else}y#{end}", "x"),
        ("#if (true) x #end", " x "),
        ("#if(true)\n  x\n#end\n", "  x\n"),
        ("#if(true)x#end   \ny", "xy"),
        ("#if(true)x#end  y", "x  y"),
    ]);
}

#[test]
fn conditions_follow_velocity_truthiness_and_operators() {
    check(&[
        // Null and false are false; anything else, even "", is true.
        ("#if($nothing)t#else f#end", " f"),
        ("#set($e = '')#if($e)t#else f#end", "t"),
        ("#set($z = 0)#if($z)t#else f#end", "t"),
        ("#if(!$nothing)t#end", "t"),
        ("#if(true && false)t#else f#end", " f"),
        ("#if(true and !false)t#end", "t"),
        ("#if(false || true)t#end", "t"),
        ("#if(false or not true)t#else f#end", " f"),
        ("#if($context.stage == \"prod\")t#end", "t"),
        ("#if($context.stage != 'prod')t#else f#end", " f"),
        (
            "#if($context.stage eq 'prod' && $context.httpMethod ne 'POST')t#end",
            "t",
        ),
        ("#if(\"$!nothing\" == \"\")empty#end", "empty"),
        ("#if($nothing == $alsoNothing)t#end", "t"),
        ("#if($nothing != 'x')t#end", "t"),
        // Numbers compare by value; a number and a string by their string forms.
        ("#if(1 == 1.0)t#end", "t"),
        ("#if($input.params('page') == 2)t#end", "t"),
        ("#if($context.authorizer.name.length() > 3)long#end", "long"),
        (
            "#if($context.authorizer.name.length() <= 3)short#else long#end",
            " long",
        ),
        ("#if(2 >= 2 && 1 lt 2)t#end", "t"),
        ("#if(($context.stage == 'prod') && !(false))t#end", "t"),
    ]);
}

#[test]
fn foreach_iterates_with_loop_helpers() {
    check(&[
        (
            "[#foreach($item in $input.path('$.items'))$item.id#if($foreach.hasNext),#end#end]",
            "[1,2,3]",
        ),
        (
            "#foreach($i in $input.path('$.items'))$foreach.index/$foreach.count/$velocityCount/$foreach.first/$foreach.last #end",
            "0/1/1/true/false 1/2/2/false/false 2/3/3/false/true ",
        ),
        ("#foreach($v in $input.path('$.a'))$v#end", "x"),
        (
            "#foreach($k in $context.authorizer.keySet())$k #end",
            "email name principalId ",
        ),
        ("[#foreach($x in $nothing)never#end]", "[]"),
        (
            "#foreach($a in $input.path('$.items'))#foreach($b in $input.path('$.items'))$a.id$b.id$foreach.hasNext #end| #end",
            "11true 12true 13false | 21true 22true 23false | 31true 32true 33false | ",
        ),
        // The loop variable is restored afterwards.
        (
            "#set($x = 'before')#foreach($x in $input.path('$.items'))#end$x",
            "before",
        ),
        (
            "#foreach($x in $input.path('$.items'))\n$x.id\n#end\n",
            "1\n2\n3\n",
        ),
    ]);
}

#[test]
fn comments_and_text_blocks() {
    check(&[
        ("a## comment\nb", "ab"),
        ("## whole line\nb", "b"),
        ("a #* block\n $x #if *# b", "a  b"),
        ("#** doc *#x", "x"),
        ("#[[$raw #if(]]#", "$raw #if("),
        ("a ## to the end", "a "),
    ]);
}

#[test]
fn string_literals_follow_velocity_1_7() {
    check(&[
        ("#set($s = 'it''s')$s", "it's"),
        ("#set($s = \"say \"\"hi\"\"\")$s", "say \"hi\""),
        // Backslashes are literal: no \n, \\ or \" escapes. Only \uXXXX is one.
        ("#set($s = \"a\\nb\")$s.length()", "4"),
        ("#set($s = \"\\\\'\")$s.length()", "3"),
        ("#set($s = \"\\u0041\\u00e9\")$s", "Aé"),
        ("#set($s = \"\\uD83D\\uDE00\")$s.length()", "2"),
        ("#set($s = '\\u0041')$s", "\\u0041"),
        // Double quotes interpolate; single quotes do not.
        ("#set($s = \"Hi $context.authorizer.name!\")$s", "Hi Jane!"),
        (
            "#set($s = 'Hi $context.authorizer.name!')$s",
            "Hi $context.authorizer.name!",
        ),
        ("#set($s = \"#if(true)yes#end\")$s", "yes"),
        (
            "$context.authorizer.name.replace('a', \"$context.stage\")",
            "Jprodne",
        ),
    ]);
}

#[test]
fn string_methods_have_java_semantics() {
    check(&[
        ("#set($s = 'a-b-c')$s.replaceAll('-', '+')", "a+b+c"),
        (
            "#set($s = 'John Smith')$s.replaceAll('(\\w+) (\\w+)', '$2, $1')",
            "Smith, John",
        ),
        ("#set($s = 'a.b')$s.replaceAll('.', 'x')", "xxx"),
        ("#set($s = 'a.b')$s.replaceAll('\\.', 'x')", "axb"),
        ("#set($s = 'cost')$s.replaceAll('cost', '\\$5')", "$5"),
        ("#set($s = 'baaac')$s.replaceAll('a*', '-')", "-b--c-"),
        ("#set($s = 'a.b')$s.replace('.', '$1')", "a$1b"),
        (
            "#set($s = 'MiXed ÉÀ')$s.toLowerCase()|$s.toUpperCase()",
            "mixed éà|MIXED ÉÀ",
        ),
        ("#set($s = 'straße')$s.toUpperCase()", "STRASSE"),
        (
            "#set($s = \"\\u0009 x \\u0001\\u00a0\")[$s.trim()]",
            "[x \u{1}\u{a0}]",
        ),
        ("#set($s = 'x😀')$s.length()", "3"),
        (
            "#set($s = 'hello')$s.contains('ell') $s.startsWith('he') $s.endsWith('x') $s.equals('hello') $s.isEmpty()",
            "true true false true false",
        ),
        (
            "$context.authorizer.name.toUpperCase().replace('J', 'j').length()",
            "4",
        ),
    ]);
}

#[test]
fn map_and_list_methods_and_indexes() {
    check(&[
        (
            "$context.authorizer.size() $context.authorizer.containsKey('email') $context.authorizer.isEmpty()",
            "3 true false",
        ),
        ("$context.authorizer.get('email')", "jane@example.com"),
        ("$context.authorizer['email']", "jane@example.com"),
        ("#set($k = 'name')$context.authorizer[$k]", "Jane"),
        ("$input.path('$.items')[2].id", "3"),
        ("$input.path('$.items').get(0).id", "1"),
        ("#foreach($v in $input.path('$.a').values())$v#end", "x"),
    ]);
}

#[test]
fn gateway_response_templates_read_context_error() {
    let mut context = RenderContext::default();
    for (key, value) in [
        ("message", "Unauthorized"),
        ("messageString", "\"Unauthorized\""),
        ("responseType", "UNAUTHORIZED"),
    ] {
        context.error.insert(key.to_owned(), value.to_owned());
    }
    assert_eq!(
        render_with(
            r#"{"message": $context.error.messageString, "type": "$context.error.responseType", "raw": "${context.error.message}", "v": "$!context.error.validationErrorString"}"#,
            &context
        ),
        r#"{"message": "Unauthorized", "type": "UNAUTHORIZED", "raw": "Unauthorized", "v": ""}"#
    );
}
