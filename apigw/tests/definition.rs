//! The API definition: openapi.yaml is what the emulator runs, and a definition the
//! emulator cannot reproduce faithfully is refused at start-up with the place named.

use apigw::ApiDefinition;

#[test]
fn openapi_yaml_defines_the_greeting_api() {
    let definition = ApiDefinition::embedded().unwrap();
    assert_eq!(definition.title, "greeting-api");
    assert_eq!(
        definition.routes(),
        [(
            "/hello".to_owned(),
            vec!["GET".to_owned(), "OPTIONS".to_owned()]
        )]
    );
    assert_eq!(
        definition.authorizer_ttl_seconds("GoogleIdToken"),
        Some(300)
    );
    assert_eq!(
        definition.functions().into_iter().collect::<Vec<_>>(),
        ["AuthorizerFunction", "HelloFunction"]
    );
}

#[test]
fn the_emulator_renders_the_template_mapping_tests_byte_for_byte() {
    let definition = ApiDefinition::embedded().unwrap();
    assert_eq!(
        definition.request_template("GET", "/hello", "application/json"),
        Some(mapping::REQUEST_TEMPLATE),
        "the emulator and mapping::REQUEST_TEMPLATE both read openapi.yaml"
    );
}

fn refusal(yaml: &str) -> String {
    ApiDefinition::parse(yaml, "test.yaml")
        .unwrap_err()
        .to_string()
}

const MOCK: &str = "x-amazon-apigateway-integration: {type: mock, requestTemplates: {application/json: '{\"statusCode\": 200}'}, responses: {default: {statusCode: '200'}}}";

#[test]
fn integrations_the_emulator_does_not_reproduce_are_refused() {
    let yaml = "paths:\n  /a:\n    get:\n      x-amazon-apigateway-integration: {type: http_proxy, uri: 'https://example.com'}\n";
    assert_eq!(
        refusal(yaml),
        "the API definition uses an integration of type http_proxy (paths./a.get.x-amazon-apigateway-integration), which the local stack does not emulate (it emulates aws (Lambda, non-proxy) and mock integrations); see local/README.md"
    );
}

#[test]
fn a_mapped_header_the_method_response_does_not_declare_is_refused() {
    let yaml = "paths:\n  /a:\n    get:\n      responses: {'200': {description: ok}}\n      x-amazon-apigateway-integration: {type: mock, responses: {default: {statusCode: '200', responseParameters: {method.response.header.X-Y: \"'z'\"}}}}\n";
    assert_eq!(
        refusal(yaml),
        "the API definition test.yaml: paths./a.get.x-amazon-apigateway-integration.responses.\"default\": method.response.header.X-Y is not declared in the 200 method response's headers"
    );
}

#[test]
fn a_template_outside_the_emulated_vtl_subset_is_refused_with_its_place() {
    let yaml = format!(
        "paths:\n  /a:\n    get:\n      responses: {{'200': {{description: ok}}}}\n      {MOCK}\nx-amazon-apigateway-gateway-responses:\n  DEFAULT_4XX:\n    responseTemplates:\n      application/json: '#macro(x)#end'\n"
    );
    let message = refusal(&yaml);
    assert!(
        message.starts_with("the API definition test.yaml: x-amazon-apigateway-gateway-responses.DEFAULT_4XX.responseTemplates.application/json: "),
        "{message}"
    );
}

#[test]
fn an_authorizer_ttl_above_3600_is_refused() {
    let yaml = "paths: {}\ncomponents:\n  securitySchemes:\n    A:\n      type: apiKey\n      name: Authorization\n      in: header\n      x-amazon-apigateway-authorizer: {type: token, authorizerUri: {'Fn::Sub': 'arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${AuthorizerFunction.Arn}/invocations'}, authorizerResultTtlInSeconds: 3601}\n";
    assert_eq!(
        refusal(yaml),
        "the API definition test.yaml: components.securitySchemes.A: authorizerResultTtlInSeconds must be 0 to 3600, not 3601"
    );
}

const URI: &str = "{'Fn::Sub': 'arn:aws:apigateway:r:lambda:path/2015-03-31/functions/${AuthorizerFunction.Arn}/invocations'}";

fn authorizer_yaml(settings: &str) -> String {
    format!(
        "paths: {{}}\ncomponents:\n  securitySchemes:\n    A:\n      type: apiKey\n      name: Authorization\n      in: header\n      x-amazon-apigateway-authorizer: {{authorizerUri: {URI}, {settings}}}\n"
    )
}

#[test]
fn a_cognito_authorizer_is_refused_in_one_sentence() {
    assert_eq!(
        refusal(&authorizer_yaml("type: cognito_user_pools")),
        "the API definition uses a cognito_user_pools authorizer (components.securitySchemes.A), which the local stack does not emulate (it emulates TOKEN and REQUEST Lambda authorizers); see local/README.md"
    );
}

#[test]
fn a_request_authorizer_with_every_kind_of_identity_source_is_accepted() {
    let yaml = authorizer_yaml(
        "type: request, identitySource: 'method.request.header.A, method.request.multivalueheader.B, method.request.querystring.c, method.request.multivaluequerystring.d, stageVariables.e, context.identity.sourceIp', authorizerResultTtlInSeconds: 60",
    );
    let definition = ApiDefinition::parse(&yaml, "test.yaml").expect("accepted");
    assert_eq!(definition.authorizer_ttl_seconds("A"), Some(60));
    assert!(definition.uncacheable_authorizers().is_empty());
}

#[test]
fn a_cached_request_authorizer_without_an_identity_source_is_refused_as_api_gateway_requires_one() {
    assert_eq!(
        refusal(&authorizer_yaml(
            "type: request, authorizerResultTtlInSeconds: 300"
        )),
        "the API definition test.yaml: components.securitySchemes.A: a REQUEST authorizer with caching on (authorizerResultTtlInSeconds 300) needs an identitySource, as API Gateway requires; set one, or set the TTL to 0"
    );
    // Caching off: the identity source is optional (AWS, API_Authorizer.html).
    let definition = ApiDefinition::parse(
        &authorizer_yaml("type: request, authorizerResultTtlInSeconds: 0"),
        "test.yaml",
    )
    .expect("accepted");
    assert_eq!(definition.uncacheable_authorizers(), vec!["A".to_owned()]);
}

#[test]
fn an_identity_source_of_another_kind_is_refused_naming_the_kinds() {
    assert_eq!(
        refusal(&authorizer_yaml(
            "type: request, identitySource: 'method.request.path.id'"
        )),
        "the API definition test.yaml: components.securitySchemes.A.identitySource: \"method.request.path.id\" is not method.request.header.X, method.request.multivalueheader.X, method.request.querystring.X, method.request.multivaluequerystring.X, stageVariables.X or context.X"
    );
    assert_eq!(
        refusal(&authorizer_yaml(
            "type: request, identitySource: 'context.authorizer.x'"
        )),
        "the API definition uses the identity source \"context.authorizer.x\" (components.securitySchemes.A.identitySource), which the local stack does not emulate (it emulates context.requestId, context.stage, context.httpMethod, context.resourcePath, context.path, context.identity.sourceIp, context.identity.userAgent); see local/README.md"
    );
}

#[test]
fn an_integration_timeout_outside_50_to_29000_ms_is_refused() {
    let yaml = "paths:\n  /a:\n    get:\n      responses: {'200': {description: ok}}\n      x-amazon-apigateway-integration: {type: mock, timeoutInMillis: 30000, responses: {default: {statusCode: '200'}}}\n";
    assert_eq!(
        refusal(yaml),
        "the API definition test.yaml: paths./a.get.x-amazon-apigateway-integration: timeoutInMillis must be 50 to 29000, not 30000"
    );
}

#[test]
fn invalid_yaml_names_the_line() {
    let message = refusal("paths:\n  /a: [unclosed\n");
    assert!(
        message.starts_with("the API definition test.yaml: "),
        "{message}"
    );
    assert!(message.contains("line"), "{message}");
}

#[test]
fn a_root_level_security_is_refused_because_api_gateway_ignores_it() {
    let yaml = format!(
        "security:\n  - A: []\npaths:\n  /a:\n    get:\n      responses: {{'200': {{description: ok}}}}\n      {MOCK}\n"
    );
    assert_eq!(
        refusal(&yaml),
        "the API definition test.yaml: security: API Gateway ignores a root-level security (it applies only each operation's own), so these routes would be open in AWS; put `security` on each operation instead"
    );
}

#[test]
fn a_fn_sub_in_a_header_value_other_than_the_site_origin_is_refused() {
    let yaml = "paths:\n  /a:\n    get:\n      responses: {'200': {description: ok, headers: {X-Y: {schema: {type: string}}}}}\n      x-amazon-apigateway-integration: {type: mock, responses: {default: {statusCode: '200', responseParameters: {method.response.header.X-Y: {'Fn::Sub': \"'https://${Other.DomainName}'\"}}}}}\n";
    assert_eq!(
        refusal(yaml),
        "the API definition uses the header value {Fn::Sub: \"'https://${Other.DomainName}'\"} (paths./a.get.x-amazon-apigateway-integration.responses.\"default\"), which the local stack does not emulate (it emulates one Fn::Sub in a header value, \"'https://${SiteDistribution.DomainName}'\", the site's origin); see local/README.md"
    );
}

#[test]
fn a_stage_variable_in_a_gateway_response_header_is_refused_as_aws_documents_none() {
    let yaml = "paths: {}\nx-amazon-apigateway-gateway-responses:\n  DEFAULT_4XX:\n    responseParameters:\n      gatewayresponse.header.Access-Control-Allow-Origin: stageVariables.siteOrigin\n";
    assert_eq!(
        refusal(yaml),
        "the API definition test.yaml: x-amazon-apigateway-gateway-responses.DEFAULT_4XX: gatewayresponse.header.Access-Control-Allow-Origin: a gateway response header takes a request parameter or a literal ('...' or the site-origin Fn::Sub), not \"stageVariables.siteOrigin\""
    );
}

#[test]
fn a_literal_header_value_no_http_header_can_carry_is_refused_at_load() {
    // A tab is allowed in a header value, a control character is not (RFC 9110 field-value).
    let yaml = "paths:\n  /a:\n    get:\n      responses: {'200': {description: ok, headers: {X-Y: {schema: {type: string}}}}}\n      x-amazon-apigateway-integration: {type: mock, responses: {default: {statusCode: '200', responseParameters: {method.response.header.X-Y: \"'a\\x01b'\"}}}}\n";
    assert_eq!(
        refusal(yaml),
        "the API definition test.yaml: paths./a.get.x-amazon-apigateway-integration.responses.\"default\": the literal 'a\u{1}b' is not a valid HTTP header value"
    );
}

/// A mock GET /echo whose response template is `template`.
fn echo_yaml(template: &str) -> String {
    format!(
        "paths:\n  /echo:\n    get:\n      responses:\n        '200':\n          description: echo\n      x-amazon-apigateway-integration:\n        type: mock\n        requestTemplates:\n          application/json: '{{\"statusCode\": 200}}'\n        responses:\n          default:\n            statusCode: '200'\n            responseTemplates:\n              application/json: '{template}'\n"
    )
}

#[test]
fn header_names_are_read_only_by_a_template_reading_params_or_a_request_authorizer() {
    let reads = |yaml: &str| {
        ApiDefinition::parse(yaml, "test.yaml")
            .expect("accepted")
            .reads_header_names()
    };
    // The greeting API: a TOKEN authorizer and a template reading only its context.
    assert!(!ApiDefinition::embedded().unwrap().reads_header_names());
    assert!(!reads(&echo_yaml("{\"id\": \"$context.requestId\"}")));
    assert!(reads(&echo_yaml("$input.params().header.keySet()")));
    assert!(reads(&echo_yaml("$input.params(''x'')")));
    assert!(!reads(&authorizer_yaml(
        "type: token, identitySource: method.request.header.Authorization"
    )));
    assert!(reads(&authorizer_yaml(
        "type: request, identitySource: method.request.header.A"
    )));
}
