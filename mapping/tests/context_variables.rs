//! Every `$context` variable API Gateway documents for REST API mapping templates
//! ("Variables for data transformations for API Gateway"), and the overrides.

use mapping::{Error, RenderContext, Template};

fn context() -> RenderContext<'static> {
    let mut context = RenderContext::with_name("Jane");
    context.stage = "prod".into();
    context.request_id = "c0ffee00-0000-4000-8000-000000000001".into();
    context.http_method = "GET".into();
    context.resource_path = "/hello".into();
    context.path = "/prod/hello".into();
    context.source_ip = "192.0.2.1".into();
    context.user_agent = "curl/8".into();
    context.headers.insert(
        "Host".into(),
        "abc123defg.execute-api.localhost:3000".into(),
    );
    context
}

fn render(source: &str) -> String {
    Template::parse(source)
        .unwrap_or_else(|e| panic!("{source:?} should parse: {e}"))
        .render(&context())
        .unwrap_or_else(|e| panic!("{source:?} should render: {e}"))
}

#[test]
fn documented_context_variables_have_local_values() {
    for (variable, expected) in [
        ("accountId", "000000000000"),
        ("apiId", "localapi00"),
        ("authorizer.principalId", ""),
        ("authorizer.name", "Jane"),
        ("domainName", "abc123defg.execute-api.localhost:3000"),
        ("domainPrefix", "abc123defg"),
        ("httpMethod", "GET"),
        ("path", "/prod/hello"),
        ("protocol", "HTTP/1.1"),
        ("requestId", "c0ffee00-0000-4000-8000-000000000001"),
        ("resourcePath", "/hello"),
        ("stage", "prod"),
        ("identity.sourceIp", "192.0.2.1"),
        ("identity.userAgent", "curl/8"),
    ] {
        assert_eq!(
            render(&format!("$context.{variable}")),
            expected,
            "{variable}"
        );
    }
    // Derived IDs have AWS's shapes and are stable.
    let resource_id = render("$context.resourceId");
    assert_eq!(resource_id.len(), 6, "{resource_id}");
    assert!(
        resource_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert_eq!(render("$context.resourceId"), resource_id);
    assert_eq!(render("$context.deploymentId").len(), 6);
    let extended = render("$context.extendedRequestId");
    assert_eq!(
        (extended.len(), extended.ends_with('=')),
        (16, true),
        "{extended}"
    );
}

#[test]
fn request_time_is_in_common_log_format_and_matches_the_epoch() {
    let out = render("$context.requestTime|$context.requestTimeEpoch");
    let (time, epoch) = out.split_once('|').expect("two parts");
    // e.g. 01/Dec/2026:19:14:11 +0000
    let bytes = time.as_bytes();
    assert_eq!(time.len(), 26, "{time}");
    assert_eq!(
        (bytes[2], bytes[6], bytes[11], &time[20..]),
        (b'/', b'/', b':', " +0000")
    );
    let epoch: u64 = epoch.parse().expect("milliseconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(now.abs_diff(epoch) < 60_000, "{epoch} vs {now}");
}

#[test]
fn identity_of_a_caller_without_iam_is_null() {
    // LocalStack's aws-validated test_apigateway_lambda.snapshot.json: null for a
    // caller without an IAM identity.
    for variable in [
        "accessKey",
        "accountId",
        "apiKey",
        "apiKeyId",
        "caller",
        "cognitoAuthenticationProvider",
        "cognitoAuthenticationType",
        "cognitoIdentityId",
        "cognitoIdentityPoolId",
        "principalOrgId",
        "user",
        "userArn",
    ] {
        assert_eq!(
            render(&format!(
                "[$context.identity.{variable}]#if($context.identity.{variable} == $null)null#end"
            )),
            "[]null",
            "{variable}"
        );
    }
    for variable in [
        "isCanaryRequest",
        "wafResponseCode",
        "webaclArn",
        "awsEndpointRequestId",
    ] {
        assert_eq!(
            render(&format!("[$context.{variable}]")),
            "[]",
            "{variable}"
        );
    }
}

#[test]
fn response_override_status_and_headers_are_returned() {
    let template = Template::parse(
        "#set($context.responseOverride.status = 201)\
         #set($context.responseOverride.header.Location = \"/items/$context.stage\")\
         #set($context.requestOverride.header['X-Trace'] = 'abc')\
         #set($context.requestOverride.path.id = 7)ok",
    )
    .expect("parses");
    let rendered = template.render_with_overrides(&context()).expect("renders");
    assert_eq!(rendered.body, "ok");
    assert_eq!(rendered.overrides.response_status, Some(201));
    assert_eq!(
        rendered.overrides.response_headers["Location"],
        "/items/prod"
    );
    assert_eq!(rendered.overrides.request_headers["X-Trace"], "abc");
    assert_eq!(rendered.overrides.request_path["id"], "7");
    // Overrides are readable in the same template.
    assert_eq!(
        render("#set($context.responseOverride.status = 404)$context.responseOverride.status"),
        "404"
    );
}

#[test]
fn invalid_response_override_status_is_an_error() {
    let template =
        Template::parse("#set($context.responseOverride.status = 'teapot')").expect("parses");
    let error = template.render_with_overrides(&context()).unwrap_err();
    assert_eq!(
        error,
        Error::Evaluation {
            line: 1,
            column: 1,
            message:
                "$context.responseOverride.status must be an HTTP status (100-599), not teapot"
                    .into()
        }
    );
}

#[test]
fn undocumented_context_variables_are_refused() {
    let template = Template::parse("$context.nope").expect("parses");
    let error = template.render(&context()).unwrap_err();
    assert!(
        matches!(&error, Error::Unsupported { line: 1, column: 10, what } if what.starts_with("$context.nope is not a $context variable of REST APIs")),
        "{error}"
    );
}

/// As LocalStack's aws-validated `test_integration_mock_with_vtl_map_assignation` and
/// `test_integration_mock_with_response_override_in_request_template` record: what the
/// request template assigned is what the response template's overrides start with.
#[test]
fn overrides_start_with_what_an_earlier_template_assigned() {
    let request = Template::parse(
        "#set($context.requestOverride.querystring.foo = 'bar')\
         #set($context.responseOverride.status = 444)\
         #set($context.responseOverride.header.foo = 'bar')",
    )
    .expect("parses")
    .render_with_overrides(&context())
    .expect("renders");
    let mut later = context();
    later.overrides = request.overrides;
    let response = Template::parse(
        "$context.requestOverride.querystring.foo $context.responseOverride.status \
         $context.responseOverride.header.foo\
         #set($context.responseOverride.header.other = 'x')",
    )
    .expect("parses")
    .render_with_overrides(&later)
    .expect("renders");
    assert_eq!(response.body, "bar 444 bar");
    assert_eq!(response.overrides.response_status, Some(444));
    assert_eq!(
        response.overrides.response_headers,
        [
            ("foo".to_owned(), "bar".to_owned()),
            ("other".to_owned(), "x".to_owned())
        ]
        .into_iter()
        .collect()
    );
}

#[test]
fn the_emulators_facts_replace_the_derived_values() {
    let mut context = context();
    context.facts = Some(mapping::RequestFacts {
        account_id: "123456789012".into(),
        api_id: "greetlocal".into(),
        resource_id: "abc123".into(),
        deployment_id: "dep456".into(),
        extended_request_id: "Ab1CdEfGhIjKlMn=".into(),
        // 2026-12-01T22:03:29.123Z
        request_time_epoch_ms: 1_796_162_609_123,
        protocol: "HTTP/1.0".into(),
    });
    let rendered = Template::parse(
        "$context.accountId $context.apiId $context.resourceId $context.deploymentId \
         $context.extendedRequestId $context.requestTimeEpoch $context.requestTime \
         $context.protocol $context.domainName",
    )
    .expect("parses")
    .render(&context)
    .expect("renders");
    assert_eq!(
        rendered,
        "123456789012 greetlocal abc123 dep456 Ab1CdEfGhIjKlMn= 1796162609123 \
         01/Dec/2026:22:03:29 +0000 HTTP/1.0 abc123defg.execute-api.localhost:3000"
    );
    context.headers.clear();
    assert_eq!(
        Template::parse("$context.domainName $context.domainPrefix")
            .unwrap()
            .render(&context)
            .unwrap(),
        "greetlocal.execute-api.localhost greetlocal"
    );
}
