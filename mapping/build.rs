//! Reads the deployed request template out of openapi.yaml, the one file that deploy
//! (template.yaml includes it) and the local stack read, so that this crate, its tests
//! and its tools render the very text that is deployed: no copy to keep in step.

use std::path::Path;

/// Where the template is in openapi.yaml: GET /hello's integration, for JSON requests.
const KEYS: [&str; 6] = [
    "paths",
    "/hello",
    "get",
    "x-amazon-apigateway-integration",
    "requestTemplates",
    "application/json",
];

fn main() {
    let definition = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    println!("cargo:rerun-if-changed={}", definition.display());
    let place = format!("openapi.yaml: {}", KEYS.join(" > "));
    let text = std::fs::read_to_string(&definition)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", definition.display()));
    let yaml: serde_norway::Value = serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", definition.display()));
    let template = KEYS
        .iter()
        .try_fold(&yaml, |value, key| value.get(*key))
        .and_then(serde_norway::Value::as_str)
        .unwrap_or_else(|| panic!("{place}: no request template (a string) there"));
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("request.vtl");
    std::fs::write(&out, template)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    println!("cargo:rustc-env=REQUEST_TEMPLATE_SOURCE={place}");
}
