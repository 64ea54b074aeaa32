//! Where API Gateway renders differently from stock Velocity, as recorded against AWS in
//! LocalStack's `aws.validated` tests (`tests/aws/services/apigateway/` of
//! localstack/localstack; each test names its test and snapshot file).

use mapping::{RenderContext, Template};

fn render(source: &str, body: &str) -> String {
    let context = RenderContext {
        body: body.into(),
        ..RenderContext::default()
    };
    Template::parse(source)
        .unwrap_or_else(|e| panic!("{source:?} should parse: {e}"))
        .render(&context)
        .unwrap_or_else(|e| panic!("{source:?} should render: {e}"))
}

/// `test_apigateway_common.py::TestApiGatewayCommon::test_input_path_template_formatting`,
/// `test_apigateway_common.snapshot.json`. The templates read `$.json` of an echo
/// server's answer, whose `json` is the body the test sent.
#[test]
fn input_path_renders_maps_as_java_and_lists_as_json() {
    let path = r#"#set($result = $input.path("$.json"))$result"#;
    let nested = r#"#set($result = $input.path("$.json"))$result.nested"#;
    let list = r#"#set($result = $input.path("$.json"))$result[0]"#;
    let to_string = r#"#set($result = $input.path("$.json"))$result.toString()"#;
    for (name, template, body, expected) in [
        (
            "dict-response",
            path,
            r#"{"json":{"foo":"bar"}}"#,
            "{foo=bar}",
        ),
        (
            "json-list",
            path,
            r#"{"json":[{"foo":"bar"}]}"#,
            r#"[{"foo":"bar"}]"#,
        ),
        (
            "nested-dict",
            nested,
            r#"{"json":{"nested":{"foo":"bar"}}}"#,
            "{foo=bar}",
        ),
        (
            "nested-list",
            nested,
            r#"{"json":{"nested":[{"foo":"bar"}]}}"#,
            r#"[{"foo":"bar"}]"#,
        ),
        (
            "dict-in-list",
            list,
            r#"{"json":[{"foo":"bar"}]}"#,
            "{foo=bar}",
        ),
        (
            "list-with-nested-list",
            list,
            r#"{"json":[[{"foo":"bar"}]]}"#,
            r#"[{"foo":"bar"}]"#,
        ),
        (
            "dict-with-nested-list",
            path,
            r#"{"json":{"foo":[{"nested":"bar"}]}}"#,
            r#"{foo=[{"nested":"bar"}]}"#,
        ),
        (
            "bigger-dict",
            path,
            r#"{"json":{"bigger":"dict","to":"test","with":"separators"}}"#,
            "{bigger=dict, to=test, with=separators}",
        ),
        (
            "to-string",
            to_string,
            r#"{"json":{"foo":"bar"}}"#,
            "{foo=bar}",
        ),
        (
            "list-to-string",
            to_string,
            r#"{"json":{"list":[{"foo":"bar"}]}}"#,
            r#"{list=[{"foo":"bar"}]}"#,
        ),
    ] {
        assert_eq!(render(template, body), expected, "{name}");
    }
}

/// Same test and snapshot: a missing path is null, and null equals `""` on AWS.
#[test]
fn missing_input_path_is_null_and_equals_the_empty_string() {
    let template = |path: &str| {
        format!(
            r##"#set($result = $input.path("{path}")){{"body": $result, "nested": $result.nested, "isNull": #if( $result == $null )"true"#else"false"#end, "isEmptyString": #if( $result == "" )"true"#else"false"#end}}"##
        )
    };
    assert_eq!(
        render(&template("$.nonExisting"), r#"{"json":null}"#),
        r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#,
        "empty-body"
    );
    assert_eq!(
        render(
            &template("$.json.listValue"),
            r#"{"json":{"listValue":[]}}"#
        ),
        r#"{"body": [], "nested": , "isNull": "false", "isEmptyString": "false"}"#,
        "nested-empty-list"
    );
    assert_eq!(
        render(
            &template("$.json.listValue"),
            r#"{"json":{"listValue":null}}"#
        ),
        r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#,
        "nested-null-list"
    );
}

/// `test_apigateway_common.py::TestApiGatewayCommon::test_input_body_formatting`,
/// `test_apigateway_common.snapshot.json` (the request-template side of each route).
#[test]
fn input_body_of_an_empty_request_is_an_empty_object() {
    let raw = "#set($result = $input.body)$result";
    let in_string = "Action=SendMessage&MessageBody=$input.body";
    let attribute = "#set($result = $input.body.testAccess)$result";
    let url_encode = "EncodedBody=$util.urlEncode($input.body)&EncodedBodyAccess=$util.urlEncode($input.body.testAccess)";
    let json = r#"{"some": "value"}"#;
    for (template, body, expected) in [
        (raw, "", "{}"),
        (raw, json, json),
        (raw, "some raw data", "some raw data"),
        (in_string, "", "Action=SendMessage&MessageBody={}"),
        (
            in_string,
            json,
            r#"Action=SendMessage&MessageBody={"some": "value"}"#,
        ),
        (attribute, "", ""),
        (attribute, json, ""),
        (url_encode, "", "EncodedBody=%7B%7D&EncodedBodyAccess="),
        (
            url_encode,
            json,
            "EncodedBody=%7B%22some%22%3A+%22value%22%7D&EncodedBodyAccess=",
        ),
        (
            url_encode,
            "some raw data",
            "EncodedBody=some+raw+data&EncodedBodyAccess=",
        ),
    ] {
        assert_eq!(render(template, body), expected, "{template:?} on {body:?}");
    }
}

/// `test_apigateway_integrations.py::test_integration_mock_with_vtl_map_assignation`,
/// `test_apigateway_integrations.snapshot.json`: the three ways of assigning into
/// `$context.requestOverride.querystring` all take effect (the response template read
/// back `bar`, `putBar`, `nestedFoo`).
#[test]
fn request_override_map_assignment_in_three_notations() {
    let template = Template::parse(
        r#"
#set($paramName = "foo")
#set($context.requestOverride.querystring[$paramName] = "bar")
#set($paramPutName = "putfoo")
$context.requestOverride.querystring.put($paramPutName, "putBar")
#set($context["requestOverride"].querystring["nestedfoo"] = "nestedFoo")
{
  "statusCode": 200
}
"#,
    )
    .expect("parses");
    let rendered = template
        .render_with_overrides(&RenderContext::default())
        .expect("renders");
    let body: serde_json::Value = serde_json::from_str(&rendered.body).expect("JSON");
    assert_eq!(body, serde_json::json!({"statusCode": 200}));
    let querystring: Vec<(&str, &str)> = rendered
        .overrides
        .request_querystring
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        querystring,
        [
            ("foo", "bar"),
            ("nestedfoo", "nestedFoo"),
            ("putfoo", "putBar")
        ]
    );
}
