//! Rendering the deployed request template, against serializing the same object with
//! serde_json as a yardstick (target: under 5 µs per render).
//!
//! ```sh
//! cargo bench -p mapping -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mapping::{REQUEST_TEMPLATE, RenderContext, Template};

fn render(c: &mut Criterion) {
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

criterion_group!(benches, render);
criterion_main!(benches);
