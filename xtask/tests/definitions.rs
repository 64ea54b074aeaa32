//! The deployed definitions agree with each other and with the code: template.yaml
//! (AWS) and openapi.yaml (AWS and the local stack). The request template needs no
//! check here: the mapping crate reads it out of openapi.yaml (mapping/build.rs).

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
    // The site's origin is written once, in openapi.yaml (no stage variable for it).
    assert!(
        api.get("Variables").is_none(),
        "GreetingApi must not set stage variables: openapi.yaml names the site origin itself"
    );
}

/// What every Access-Control-Allow-Origin header of openapi.yaml is: a literal CloudFormation
/// fills in (gateway responses can't read stage variables).
const SITE_ORIGIN: &str = "'https://${SiteDistribution.DomainName}'";

#[test]
fn every_cors_header_is_the_site_origin_literal() {
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
                        "Fn::Sub",
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
                    "Fn::Sub",
                ],
            )
            .to_owned(),
        );
    }
    assert_eq!(origins.len(), 3 + 4);
    assert!(origins.iter().all(|o| o == SITE_ORIGIN), "{origins:?}");

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

/// The page reads `x-amzn-RequestId` from every answer of GET /hello (to ask the local
/// stack for that request's trace, or to name it in `sam logs`); a browser hides it unless
/// the response exposes it, and API Gateway sends a method response header only when
/// the method response declares it.
#[test]
fn every_answer_the_page_reads_exposes_the_request_id() {
    let api = load("openapi.yaml");
    let get_hello = get(&api, &["paths", "/hello", "get"]);
    let mut exposed = Vec::new();
    let responses = get(get_hello, &["x-amazon-apigateway-integration", "responses"]);
    for (_, response) in responses.as_mapping().unwrap() {
        exposed.push(text(
            response,
            &[
                "responseParameters",
                "method.response.header.Access-Control-Expose-Headers",
            ],
        ));
        let status = text(response, &["statusCode"]);
        get(
            get_hello,
            &[
                "responses",
                status,
                "headers",
                "Access-Control-Expose-Headers",
            ],
        );
    }
    let gateway = get(&api, &["x-amazon-apigateway-gateway-responses"]);
    for (_, response) in gateway.as_mapping().unwrap() {
        exposed.push(text(
            response,
            &[
                "responseParameters",
                "gatewayresponse.header.Access-Control-Expose-Headers",
            ],
        ));
    }
    assert_eq!(exposed.len(), 2 + 4);
    assert!(
        exposed.iter().all(|e| *e == "'x-amzn-RequestId'"),
        "{exposed:?}"
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

/// Schema keywords API Gateway's OpenAPI import does not support ("Amazon API Gateway
/// important notes for REST APIs": the `example` tag, `readOnly`, `discriminator`; and
/// `examples` and `xml` with them).
const UNSUPPORTED_KEYWORDS: [&str; 5] = ["example", "examples", "readOnly", "discriminator", "xml"];

/// Every mapping key of `value` that is in `forbidden`, with its path.
fn forbidden_keys(value: &Value, path: &str, forbidden: &[&str], found: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let key = key.as_str().unwrap_or("?");
                let at = format!("{path}.{key}");
                if forbidden.contains(&key) {
                    found.push(at.clone());
                }
                forbidden_keys(child, &at, forbidden, found);
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                forbidden_keys(item, &format!("{path}[{i}]"), forbidden, found);
            }
        }
        Value::Tagged(tagged) => forbidden_keys(&tagged.value, path, forbidden, found),
        _ => {}
    }
}

#[test]
fn openapi_yaml_has_no_keyword_the_api_gateway_importer_does_not_support() {
    let mut found = Vec::new();
    forbidden_keys(&load("openapi.yaml"), "", &UNSUPPORTED_KEYWORDS, &mut found);
    assert_eq!(found, Vec::<String>::new());
    // The walk does find them.
    let sample: Value = serde_norway::from_str(
        "components: {schemas: {A: {properties: {m: {type: string, example: x, xml: {name: m}}}}}}",
    )
    .unwrap();
    let mut found = Vec::new();
    forbidden_keys(&sample, "", &UNSUPPORTED_KEYWORDS, &mut found);
    assert_eq!(
        found,
        [
            ".components.schemas.A.properties.m.example",
            ".components.schemas.A.properties.m.xml"
        ]
    );
}

/// The resources `value` refers to (`Ref`, `Fn::GetAtt`, `${X}` and `${X.Attr}` in a
/// `Fn::Sub`), among `resources`.
fn references(value: &Value, resources: &[String], out: &mut Vec<String>) {
    fn add(name: &str, resources: &[String], out: &mut Vec<String>) {
        let name = name.split('.').next().unwrap_or(name);
        if resources.iter().any(|r| r == name) && !out.iter().any(|o| o == name) {
            out.push(name.to_owned());
        }
    }
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    (Some("Ref"), Value::String(name)) => add(name, resources, out),
                    (Some("Fn::GetAtt"), Value::String(name)) => add(name, resources, out),
                    (Some("Fn::GetAtt"), Value::Sequence(items)) => {
                        if let Some(name) = items.first().and_then(Value::as_str) {
                            add(name, resources, out);
                        }
                    }
                    (Some("Fn::Sub"), sub) => {
                        let text = match sub {
                            Value::Sequence(items) => items.first().and_then(Value::as_str),
                            other => other.as_str(),
                        };
                        let mut rest = text.unwrap_or("");
                        while let Some(start) = rest.find("${") {
                            let after = &rest[start + 2..];
                            let end = after.find('}').unwrap_or(after.len());
                            if !after.starts_with('!') {
                                add(&after[..end], resources, out);
                            }
                            rest = &after[end..];
                        }
                        if let Value::Sequence(items) = sub {
                            for item in items.iter().skip(1) {
                                references(item, resources, out);
                            }
                        }
                    }
                    _ => references(child, resources, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| references(i, resources, out)),
        Value::Tagged(tagged) => references(&tagged.value, resources, out),
        _ => {}
    }
}

#[test]
fn the_stack_has_no_circular_dependency_counting_the_included_openapi_yaml() {
    let template = load("template.yaml");
    let api = load("openapi.yaml");
    let resources = get(&template, &["Resources"]).as_mapping().unwrap();
    let names: Vec<String> = resources
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let mut edges: Vec<(String, Vec<String>)> = Vec::new();
    for (name, resource) in resources {
        let name = name.as_str().unwrap().to_owned();
        let mut out = Vec::new();
        let mut properties = resource.get("Properties").cloned().unwrap_or(Value::Null);
        if let Value::Mapping(map) = &mut properties {
            // AWS::Include puts the file in the definition: its references are the API's.
            if let Some(body) = map.get_mut("DefinitionBody")
                && body
                    .get("Fn::Transform")
                    .and_then(|t| t.get("Name"))
                    .and_then(Value::as_str)
                    == Some("AWS::Include")
            {
                *body = api.clone();
            }
            // SAM puts an Api's stage variables on its Stage, which nothing refers to.
            map.remove("Variables");
        }
        references(&properties, &names, &mut out);
        if let Some(depends_on) = resource.get("DependsOn") {
            match depends_on {
                Value::String(d) => out.push(d.clone()),
                Value::Sequence(items) => {
                    out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                }
                _ => {}
            }
        }
        out.retain(|o| *o != name);
        edges.push((name, out));
    }
    // The API does depend on the distribution (the CORS literal): the graph is read.
    let api_deps = &edges.iter().find(|(n, _)| n == "GreetingApi").unwrap().1;
    assert!(
        api_deps.contains(&"SiteDistribution".to_owned()),
        "{api_deps:?}"
    );

    // Depth-first search; a node met again while on the path closes a cycle.
    fn visit<'a>(
        node: &'a str,
        edges: &'a [(String, Vec<String>)],
        path: &mut Vec<&'a str>,
        done: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| *p == node) {
            let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(&node) {
            return None;
        }
        path.push(node);
        let deps = edges.iter().find(|(n, _)| n == node).map(|(_, d)| d);
        for dep in deps.into_iter().flatten() {
            if let Some(cycle) = visit(dep, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.push(node);
        None
    }
    let (mut path, mut done) = (Vec::new(), Vec::new());
    for (name, _) in &edges {
        if let Some(cycle) = visit(name, &edges, &mut path, &mut done) {
            panic!("circular dependency: {}", cycle.join(" -> "));
        }
    }
}
