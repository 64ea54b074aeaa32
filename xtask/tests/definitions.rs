//! The deployed definitions agree with each other and with the code: template.yaml
//! (AWS), openapi.yaml (AWS and the local stack) and mapping/request.vtl.

use serde_norway::Value;

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn get<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |v, key| {
        v.get(*key)
            .unwrap_or_else(|| panic!("missing {key} in {:?}", path))
    })
}

fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    get(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string"))
}

#[test]
fn deployed_request_template_is_the_mapping_file_byte_for_byte() {
    let api = load("openapi.yaml");
    let template = text(
        &api,
        &[
            "paths",
            "/hello",
            "get",
            "x-amazon-apigateway-integration",
            "requestTemplates",
            "application/json",
        ],
    );
    assert_eq!(
        template,
        mapping::REQUEST_TEMPLATE,
        "copy mapping/request.vtl into openapi.yaml"
    );
}

#[test]
fn the_api_is_the_shared_definition_without_sam_rewrites() {
    let template = load("template.yaml");
    let api = get(&template, &["Resources", "GreetingApi", "Properties"]);
    assert_eq!(text(api, &["StageName"]), "prod");
    assert_eq!(
        text(api, &["DefinitionBody", "Fn::Transform", "Name"]),
        "AWS::Include"
    );
    assert_eq!(
        text(
            api,
            &["DefinitionBody", "Fn::Transform", "Parameters", "Location"]
        ),
        "openapi.yaml"
    );
    // SAM's Auth/Cors/GatewayResponses would rewrite the hand-written definition.
    for key in ["Auth", "Cors", "GatewayResponses", "DefinitionUri"] {
        assert!(api.get(key).is_none(), "GreetingApi must not set {key}");
    }
    assert_eq!(
        text(api, &["Variables", "siteOrigin", "Fn::Sub"]),
        "https://${SiteDistribution.DomainName}"
    );
}

#[test]
fn every_cors_header_is_the_site_origin_stage_variable() {
    let api = load("openapi.yaml");
    let hello = get(&api, &["paths", "/hello"]);
    let mut origins = Vec::new();
    for method in ["get", "options"] {
        let responses = get(
            hello,
            &[method, "x-amazon-apigateway-integration", "responses"],
        );
        for (_, response) in responses.as_mapping().unwrap() {
            origins.push(
                text(
                    response,
                    &[
                        "responseParameters",
                        "method.response.header.Access-Control-Allow-Origin",
                    ],
                )
                .to_owned(),
            );
        }
    }
    let gateway = get(&api, &["x-amazon-apigateway-gateway-responses"])
        .as_mapping()
        .unwrap();
    let types: Vec<&str> = gateway.keys().map(|k| k.as_str().unwrap()).collect();
    for required in [
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    ] {
        assert!(types.contains(&required), "no gateway response {required}");
    }
    for (_, response) in gateway {
        origins.push(
            text(
                response,
                &[
                    "responseParameters",
                    "gatewayresponse.header.Access-Control-Allow-Origin",
                ],
            )
            .to_owned(),
        );
    }
    assert_eq!(origins.len(), 3 + 4);
    assert!(
        origins.iter().all(|o| o == "stageVariables.siteOrigin"),
        "{origins:?}"
    );

    let preflight = get(
        hello,
        &[
            "options",
            "x-amazon-apigateway-integration",
            "responses",
            "default",
            "responseParameters",
        ],
    );
    assert_eq!(
        text(
            preflight,
            &["method.response.header.Access-Control-Allow-Headers"]
        ),
        "'Authorization,Content-Type'"
    );
    assert_eq!(
        text(
            preflight,
            &["method.response.header.Access-Control-Allow-Methods"]
        ),
        "'GET,OPTIONS'"
    );
}

#[test]
fn integrations_name_the_functions_the_template_defines() {
    let api = load("openapi.yaml");
    let template = load("template.yaml");
    let resources = get(&template, &["Resources"]);
    let hello_uri = text(
        &api,
        &[
            "paths",
            "/hello",
            "get",
            "x-amazon-apigateway-integration",
            "uri",
            "Fn::Sub",
        ],
    );
    let authorizer_uri = text(
        &api,
        &[
            "components",
            "securitySchemes",
            "GoogleIdToken",
            "x-amazon-apigateway-authorizer",
            "authorizerUri",
            "Fn::Sub",
        ],
    );
    for (uri, function, binary) in [
        (hello_uri, "HelloFunction", "hello"),
        (authorizer_uri, "AuthorizerFunction", "authorizer"),
    ] {
        assert!(uri.contains(&format!("${{{function}.Arn}}")), "{uri}");
        let resource = get(resources, &[function]);
        assert_eq!(text(resource, &["Type"]), "AWS::Serverless::Function");
        assert_eq!(
            text(resource, &["Metadata", "BuildMethod"]),
            "rust-cargolambda"
        );
        assert_eq!(
            text(resource, &["Metadata", "BuildProperties", "Binary"]),
            binary
        );
    }
    let globals = get(&template, &["Globals", "Function"]);
    assert_eq!(text(globals, &["Runtime"]), "provided.al2023");
    assert_eq!(text(globals, &["Handler"]), "bootstrap");
}

#[test]
fn the_authorizer_reads_the_token_from_the_authorization_header() {
    let api = load("openapi.yaml");
    let scheme = get(&api, &["components", "securitySchemes", "GoogleIdToken"]);
    assert_eq!(text(scheme, &["in"]), "header");
    assert_eq!(text(scheme, &["name"]), "Authorization");
    assert_eq!(
        text(scheme, &["x-amazon-apigateway-authorizer", "type"]),
        "token"
    );
    let ttl = get(
        scheme,
        &[
            "x-amazon-apigateway-authorizer",
            "authorizerResultTtlInSeconds",
        ],
    )
    .as_u64()
    .unwrap();
    assert!(ttl <= 3600);
    // The options route must not be behind the authorizer (browsers send no token there).
    assert!(
        get(&api, &["paths", "/hello", "options"])
            .get("security")
            .is_none()
    );
}

#[test]
fn outputs_give_the_deploy_command_what_it_needs() {
    let template = load("template.yaml");
    let outputs = get(&template, &["Outputs"]);
    for key in [
        "ApiUrl",
        "SiteUrl",
        "SiteBucketName",
        "DistributionId",
        "GoogleClientId",
    ] {
        assert!(outputs.get(key).is_some(), "output {key} missing");
    }
}
