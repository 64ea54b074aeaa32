//! Rendering the deployed request template (target: under 1 µs) and the console's
//! "Method Request passthrough" template (target: under 20 µs), each against
//! serializing the same object with serde_json in the same run as a yardstick.
//!
//! ```sh
//! cargo bench -p mapping -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mapping::{REQUEST_TEMPLATE, RenderContext, Template};
use serde_json::json;

const PASSTHROUGH: &str = include_str!("../tests/fixtures/method-request-passthrough.vtl");

fn request_template(c: &mut Criterion) {
    let template = Template::parse(REQUEST_TEMPLATE).expect("the deployed template parses");
    let typical = RenderContext::with_name("Jane O'Brien");
    let accented = RenderContext::with_name("Zoë Ångström-Łukasiewicz 😀");

    let mut group = c.benchmark_group("request_template");
    group.bench_function("render typical name", |b| {
        b.iter(|| template.render(black_box(&typical)).expect("renders"))
    });
    group.bench_function("render non-ASCII name", |b| {
        b.iter(|| template.render(black_box(&accented)).expect("renders"))
    });
    group.bench_function("reference: serde_json::to_string of {name}", |b| {
        let name = &typical.authorizer["name"];
        b.iter(|| {
            serde_json::to_string(&serde_json::json!({ "name": black_box(name) }))
                .expect("serializes")
        })
    });
    group.bench_function("parse the template", |b| {
        b.iter(|| Template::parse(black_box(REQUEST_TEMPLATE)).expect("parses"))
    });
    group.finish();
}

/// A request with a path parameter, query string, headers, stage variables, an
/// authorizer context and a JSON body.
fn passthrough_request() -> RenderContext<'static> {
    let mut context = RenderContext::with_name("Jane O'Brien");
    std::sync::Arc::make_mut(&mut context.authorizer)
        .insert("principalId".into(), "user-123".into());
    context.stage = "prod".into();
    context.request_id = "c0ffee00-0000-4000-8000-000000000001".into();
    context.http_method = "POST".into();
    context.resource_path = "/pets/{id}".into();
    context.path = "/prod/pets/42".into();
    context.source_ip = "192.0.2.1".into();
    context.user_agent = "Mozilla/5.0 (X11; Linux x86_64)".into();
    context.body = r#"{"pet": {"name": "Rex", "tags": ["a", "b"]}, "n": 1.5}"#.into();
    context.path_params.insert("id".into(), "42".into());
    context.query.insert("page".into(), "2".into());
    context.query.insert("sort".into(), "name".into());
    for (name, value) in [
        ("Accept", "application/json"),
        (
            "Authorization",
            "Bearer eyJhbGciOiJSUzI1NiJ9.payload.signature",
        ),
        ("Content-Type", "application/json"),
        ("Host", "abc123defg.execute-api.eu-west-1.amazonaws.com"),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"),
        ("X-Forwarded-For", "192.0.2.1"),
    ] {
        context.headers.insert(name.into(), value.into());
    }
    let stage_variables = std::sync::Arc::make_mut(&mut context.stage_variables);
    stage_variables.insert("env".into(), "production".into());
    stage_variables.insert("allowedOrigin".into(), "http://localhost:8080".into());
    context
}

fn passthrough(c: &mut Criterion) {
    let template = Template::parse(PASSTHROUGH).expect("the console's template parses");
    let context = passthrough_request();
    // The same object the template builds, for serde_json.
    let body: serde_json::Value = serde_json::from_str(&context.body).expect("JSON");
    let object = json!({
        "body-json": body,
        "params": {
            "path": context.path_params,
            "querystring": context.query,
            "header": context.headers,
        },
        "stage-variables": *context.stage_variables,
        "context": {
            "account-id": "", "api-id": "localapi00", "api-key": "",
            "authorizer-principal-id": context.authorizer["principalId"], "caller": "",
            "cognito-authentication-provider": "", "cognito-authentication-type": "",
            "cognito-identity-id": "", "cognito-identity-pool-id": "",
            "http-method": context.http_method, "stage": context.stage,
            "source-ip": context.source_ip, "user": "", "user-agent": context.user_agent,
            "user-arn": "", "request-id": context.request_id, "resource-id": "abcdef",
            "resource-path": context.resource_path,
        },
    });

    let mut group = c.benchmark_group("passthrough_template");
    group.bench_function("render", |b| {
        b.iter(|| template.render(black_box(&context)).expect("renders"))
    });
    group.bench_function("reference: serde_json::to_string of the same object", |b| {
        b.iter(|| serde_json::to_string(black_box(&object)).expect("serializes"))
    });
    group.finish();
}

criterion_group!(benches, request_template, passthrough);
criterion_main!(benches);
