//! The differential test: thousands of generated templates rendered by this crate and by
//! real Apache Velocity 1.7 (Debian's `velocity` package, with `$util`, `$input` and
//! `$context` given as API Gateway gives them by `velocity/VelocityDriver.java`), with
//! zero differences allowed.
//!
//! Ignored in a plain `cargo test` (it needs a JDK and Velocity); `cargo xtask test`
//! installs them and runs it:
//!
//! ```sh
//! apt-get install -y velocity libcommons-lang-java libcommons-collections3-java default-jdk-headless
//! cargo test -p mapping --test velocity -- --ignored --nocapture
//! VELOCITY_SEED=42 VELOCITY_TEMPLATES=20000 cargo test -p mapping --test velocity -- --ignored
//! VELOCITY_SEED=random cargo test -p mapping --test velocity -- --ignored --nocapture  # explore
//! ```
//!
//! A template the crate refuses (an `Unsupported` or evaluation error: refusing loudly is
//! allowed) is counted, not compared; the test fails when refusals are no longer rare, so
//! that it keeps testing something. On a difference it prints the seed and the smallest
//! template (nodes deleted while it still differs) with both renderings.

/// The seed CI runs (any seed is fine; this one is fixed so that runs compare alike).
const DEFAULT_SEED: u64 = 20_261_201;

#[path = "velocity/generator.rs"]
mod generator;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use generator::{Gen, Generator, Rng};
use mapping::{Error, RenderContext, Template};

/// Debian's jars (packages velocity, libcommons-lang-java, libcommons-collections3-java).
const CLASSPATH: &str = "/usr/share/java/velocity.jar:/usr/share/java/commons-lang.jar:/usr/share/java/commons-collections3.jar";

/// At most this share of templates may be refused by the crate (per mille).
const MAX_REFUSED_PER_MILLE: usize = 50;

/// The request every template is rendered for: every kind of value a template can meet.
fn request() -> RenderContext<'static> {
    let mut context = RenderContext::with_name("Jane O'Doe");
    std::sync::Arc::make_mut(&mut context.authorizer).insert("principalId".into(), "user-1".into());
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
    context.body = r#"{"a":{"b":"x y"},"items":[{"id":1},{"id":2,"tags":["t"]}],"price":249.99,"n":null,"s":"q\"uote"}"#.into();
    context.path_params.insert("id".into(), "from-path".into());
    context.query.insert("page".into(), "2".into());
    context.headers.insert("X-Trace".into(), "abc".into());
    context
}

fn derived(context: &RenderContext, template: &str) -> String {
    Template::parse(template)
        .and_then(|t| t.render(context))
        .expect("a $context variable renders")
}

/// The request as the Java driver reads it.
fn request_json(context: &RenderContext) -> String {
    let strings = |map: &BTreeMap<String, String>| serde_json::to_value(map).expect("strings");
    serde_json::json!({
        "body": context.body,
        "path": strings(&context.path_params),
        "querystring": strings(&context.query),
        "header": strings(&context.headers),
        "stageVariables": strings(&context.stage_variables),
        "context": {
            // The values the crate derives for a local request (the driver plays the
            // same API Gateway).
            "apiId": derived(context, "$context.apiId"),
            "accountId": derived(context, "$context.accountId"),
            "resourceId": derived(context, "$context.resourceId"),
            "authorizer": strings(&context.authorizer),
            "identity": {"sourceIp": context.source_ip, "userAgent": context.user_agent},
            "stage": context.stage,
            "requestId": context.request_id,
            "httpMethod": context.http_method,
            "resourcePath": context.resource_path,
            "path": context.path,
        },
    })
    .to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Rendered(String),
    /// Velocity threw (parse error, method exception).
    Failed(String),
}

/// What this crate does with a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ours {
    Rendered(String),
    /// Deliberately not emulated: allowed, counted.
    Refused(String),
    /// A syntax, JSON or regex error: Velocity must fail too.
    Failed(String),
}

fn ours(source: &str, context: &RenderContext) -> Ours {
    // Stock Velocity where API Gateway differs from it (`$null == ""`); the driver plays
    // API Gateway's $input (JSON lists render as JSON) like the crate does.
    let result = Template::parse(source).and_then(|t| t.render_as_stock_velocity(context));
    match result {
        Ok(text) => Ours::Rendered(text),
        Err(error @ (Error::Unsupported { .. } | Error::Evaluation { .. })) => {
            Ours::Refused(error.to_string())
        }
        Err(error) => Ours::Failed(error.to_string()),
    }
}

fn agree(ours: &Ours, velocity: &Outcome) -> bool {
    match (ours, velocity) {
        (Ours::Refused(_), _) => true,
        (Ours::Rendered(a), Outcome::Rendered(b)) => a == b,
        (Ours::Failed(_), Outcome::Failed(_)) => true,
        _ => false,
    }
}

/// Compiles the driver into the test's scratch directory (once per change of the source).
fn driver_dir() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/velocity/VelocityDriver.java");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("velocity-driver");
    let class = out.join("VelocityDriver.class");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&class).is_none() || modified(&class) < modified(&source) {
        let status = Command::new("javac")
            .args(["-nowarn", "-cp", CLASSPATH, "-d"])
            .arg(&out)
            .arg(&source)
            .status()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run javac ({e}): install a JDK and Velocity 1.7 \
                     (apt-get install -y velocity libcommons-lang-java \
                     libcommons-collections3-java default-jdk-headless), or run `cargo xtask test`"
                )
            });
        assert!(status.success(), "javac failed on {}", source.display());
    }
    out
}

fn record(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(format!("{}\n", text.len()).as_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// Renders a batch of templates in one JVM.
fn velocity(driver: &Path, request: &str, templates: &[String]) -> Vec<Outcome> {
    let mut input = Vec::new();
    record(&mut input, request);
    for template in templates {
        record(&mut input, template);
    }
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(format!("{}:{CLASSPATH}", driver.display()))
        .arg("VelocityDriver")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("java runs");
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut output)
        .expect("reads the driver's output");
    writer.join().expect("writer").expect("writes templates");
    assert!(
        child.wait().expect("java exits").success(),
        "the driver failed"
    );
    let mut outcomes = Vec::with_capacity(templates.len());
    let mut rest = &output[..];
    while !rest.is_empty() {
        let kind = rest[0];
        let newline = rest
            .iter()
            .position(|&b| b == b'\n')
            .expect("a record length");
        let length: usize = std::str::from_utf8(&rest[1..newline])
            .expect("ASCII")
            .parse()
            .expect("a length");
        let text =
            String::from_utf8(rest[newline + 1..newline + 1 + length].to_vec()).expect("UTF-8");
        rest = &rest[newline + 1 + length..];
        outcomes.push(if kind == b'O' {
            Outcome::Rendered(text)
        } else {
            Outcome::Failed(text)
        });
    }
    assert_eq!(outcomes.len(), templates.len(), "one answer per template");
    outcomes
}

/// Deletes nodes while the template still differs; one JVM run per round.
fn shrink(driver: &Path, request: &str, context: &RenderContext, nodes: Vec<Gen>) -> Vec<Gen> {
    let mut current = nodes;
    loop {
        let candidates = generator::shrink_candidates(&current);
        let texts: Vec<String> = candidates.iter().map(|c| generator::text(c)).collect();
        let answers = velocity(driver, request, &texts);
        let smaller = candidates
            .into_iter()
            .zip(texts.iter().zip(&answers))
            .find(|(_, (text, answer))| !agree(&ours(text, context), answer));
        match smaller {
            Some((candidate, _)) => current = candidate,
            None => return current,
        }
    }
}

#[test]
#[ignore = "needs a JDK and Velocity 1.7; `cargo xtask test` installs them and runs it"]
fn renders_the_deployed_and_the_consoles_passthrough_template_as_velocity_1_7_does() {
    let driver = driver_dir();
    let mut context = request();
    context
        .query
        .insert("q".into(), "a/b \\ c \"quoted\" é".into());
    let request = request_json(&context);
    let templates = [
        mapping::REQUEST_TEMPLATE.to_owned(),
        include_str!("fixtures/method-request-passthrough.vtl").to_owned(),
    ];
    let answers = velocity(&driver, &request, &templates);
    for (template, answer) in templates.iter().zip(answers) {
        let mine = Template::parse(template)
            .and_then(|t| t.render_as_stock_velocity(&context))
            .expect("renders");
        assert_eq!(Outcome::Rendered(mine), answer, "{template}");
    }
}

#[test]
#[ignore = "needs a JDK and Velocity 1.7; `cargo xtask test` installs them and runs it"]
fn renders_every_generated_template_as_velocity_1_7_does() {
    // A fixed seed by default, so that CI compares the same templates every run and a
    // failure is a change of ours, not the luck of the draw; `VELOCITY_SEED=random`
    // explores new ones (and prints the seed to replay).
    let seed: u64 = match std::env::var("VELOCITY_SEED").ok().as_deref() {
        None => DEFAULT_SEED,
        Some("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos() as u64,
        Some(number) => number
            .parse()
            .expect("VELOCITY_SEED is a number or `random`"),
    };
    let count: usize = std::env::var("VELOCITY_TEMPLATES")
        .ok()
        .map(|s| s.parse().expect("VELOCITY_TEMPLATES is a number"))
        .unwrap_or(10_000);
    let started = Instant::now();
    let driver = driver_dir();
    let context = request();
    let request = request_json(&context);
    let mut rng = Rng::new(seed);
    let trees: Vec<Vec<Gen>> = (0..count)
        .map(|_| Generator::new(&mut rng).template())
        .collect();
    let texts: Vec<String> = trees.iter().map(|t| generator::text(t)).collect();
    let answers = velocity(&driver, &request, &texts);

    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut differing = Vec::new();
    for (i, (text, answer)) in texts.iter().zip(&answers).enumerate() {
        let mine = ours(text, &context);
        if let Ours::Refused(why) = &mine {
            // Group by message without the position.
            let why = why.split_once(": ").map_or(why.as_str(), |(_, m)| m);
            *refused.entry(why.to_owned()).or_default() += 1;
        }
        if !agree(&mine, answer) {
            differing.push(i);
        }
    }
    let total_refused: usize = refused.values().sum();
    eprintln!(
        "velocity differential: seed {seed}, {count} templates, {} differ, {total_refused} refused, {:.1}s",
        differing.len(),
        started.elapsed().as_secs_f64()
    );
    let mut reasons: Vec<_> = refused.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1));
    for (why, n) in reasons.iter().take(12) {
        eprintln!("    refused {n:>5}: {why}");
    }
    if !differing.is_empty() {
        // VELOCITY_SHOW=n shrinks and prints n differences (default 1).
        let show: usize = std::env::var("VELOCITY_SHOW")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let mut report = String::new();
        let mut seen = std::collections::BTreeSet::new();
        for &index in &differing {
            if seen.len() >= show {
                break;
            }
            let smallest = shrink(&driver, &request, &context, trees[index].clone());
            let text = generator::text(&smallest);
            if !seen.insert(text.clone()) {
                continue;
            }
            let answer = velocity(&driver, &request, std::slice::from_ref(&text)).remove(0);
            report.push_str(&format!(
                "\n{text:?}\n  this crate:   {:?}\n  Velocity 1.7: {answer:?}",
                ours(&text, &context)
            ));
        }
        panic!(
            "{} of {count} templates render differently (seed {seed}; rerun with \
             VELOCITY_SEED={seed}). Smallest differing template(s):{report}",
            differing.len(),
        );
    }
    assert!(
        total_refused * 1000 <= count * MAX_REFUSED_PER_MILLE,
        "{total_refused} of {count} templates refused (seed {seed}): more than {MAX_REFUSED_PER_MILLE}‰, \
         so the comparison no longer covers the language"
    );
}
