//! "How it works": after a call, the page shows that request's hops. Locally they come
//! from the emulator's trace (`GET {api origin}/.local/trace/{x-amzn-RequestId}`), which
//! each test also reads itself to check the page shows exactly what the trace holds;
//! with a deployed config.json (no trace endpoint), the view gives the `sam logs`
//! commands instead.
//!
//! The hop-by-hop tests (hostile name, 401, 403) need the emulator's trace endpoint and
//! its `Access-Control-Expose-Headers: x-amzn-RequestId`; the keyboard, phone and deployed
//! tests pass on the page alone.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e::scripts::GIS_STAND_IN_BUTTON;
use fantoccini::key::Key;
use request_trace::RequestTrace;
use serde_json::{Value, json};

use crate::page::{DEPLOYED_STACK, Page};

/// Every character HTML, JSON or VTL might mangle.
const HOSTILE: &str = r#"O'Brien "Bob" <b>&"#;

/// The request template's output for [`HOSTILE`], byte for byte: `escapeJavaScript`
/// escapes the quotes, the template's `replaceAll` undoes `\'`, `<`, `>` and `&` stay.
const HOSTILE_TEMPLATE_OUTPUT: &str = "{\"name\": \"O'Brien \\\"Bob\\\" <b>&\"}\n";

const HEADINGS: [&str; 5] = [
    "1. The ID token",
    "2. API Gateway → authorizer",
    "3. The request template",
    "4. hello's answer and the integration response",
    "5. What the browser got",
];

/// The hop headings, in document order.
async fn headings(page: &Page) -> Value {
    page.browser
        .execute(
            "return [...document.querySelectorAll('#how-it-works h3')].map(h => h.textContent)",
        )
        .await
        .unwrap()
}

/// The request ID the view shows in hop 5.
async fn shown_request_id(page: &Page) -> String {
    let response = page.text_of("hop-response").await;
    let id = response
        .split("Request ID: ")
        .nth(1)
        .and_then(|rest| rest.split("The headers").next())
        .unwrap_or_else(|| panic!("no request ID in {response:?}"));
    assert!(
        id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'),
        "{id:?}"
    );
    id.to_owned()
}

/// The emulator's trace of `request_id`, read as the page reads it.
async fn trace_of(page: &Page, request_id: &str) -> RequestTrace {
    let api_url = page.stack.api_url();
    let (origin, _stage) = api_url.rsplit_once('/').unwrap();
    let url = format!("{origin}{}", request_trace::trace_path(request_id));
    let answer = reqwest::get(&url).await.unwrap();
    assert_eq!(answer.status(), 200, "{url}");
    answer.json().await.unwrap()
}

/// The claims of a JWT, decoded as anyone can.
fn claims_of(jwt: &str) -> Value {
    let claims = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
}

/// `2026-12-01 22:09:00 UTC`, as `sam logs --start-time` reads it.
fn utc(seconds: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(seconds).unwrap();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn every_hop_of_a_hostile_names_request_is_shown_exactly() {
    let page = Page::start("every_hop_of_a_hostile_names_request_is_shown_exactly").await;
    page.sign_in_locally(HOSTILE, "bob@example.com").await;
    page.wait_for_state("greeting").await;
    assert!(!page.how_it_works_is_open().await, "closed until asked");
    page.open_how_it_works().await;
    page.wait_for_trace().await;
    assert_eq!(headings(&page).await, json!(HEADINGS));
    let request_id = shown_request_id(&page).await;
    let trace = trace_of(&page, &request_id).await;
    assert_eq!(trace.stopped, None);

    // 1. The token, as the page decoded it.
    let token = page.text_of("hop-token").await;
    assert!(token.contains("not verified by the page"), "{token}");
    let header: Value = serde_json::from_str(&page.text_of("token-header").await).unwrap();
    assert_eq!(header["alg"], "RS256");
    let claims: Value = serde_json::from_str(&page.text_of("token-claims").await).unwrap();
    assert_eq!(claims["name"], HOSTILE);
    assert_eq!(claims["email"], "bob@example.com");
    let sub = local::idp::subject("bob@example.com");
    assert_eq!(claims["sub"], json!(sub));
    assert!(token.contains(" UTC (in 60 min)"), "{token}");

    // 2. The authorizer: what the trace says, as the page says it.
    let hop = trace.authorizer.as_ref().unwrap();
    let authorizer = page.text_of("hop-authorizer").await;
    for line in [
        format!(
            "Authorizer: {} ({}), function {}",
            hop.name, hop.kind, hop.function
        ),
        "Cache: miss: the function ran, and API Gateway caches its decision for 300 s".into(),
        "Decision: Allow: the policy allows this method, the request goes on".into(),
        format!("Reason: {}", hop.reason),
        format!("Principal: {sub}"),
    ] {
        assert!(authorizer.contains(&line), "{line:?} not in {authorizer:?}");
    }
    let event: Value = serde_json::from_str(&page.text_of("authorizer-event").await).unwrap();
    assert_eq!(Some(&event), hop.event.as_ref());
    assert!(
        event["authorizationToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("<token ")),
        "{event}"
    );
    let policy: Value = serde_json::from_str(&page.text_of("authorizer-policy").await).unwrap();
    assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    let context: Value = serde_json::from_str(&page.text_of("authorizer-context").await).unwrap();
    assert_eq!(context["name"], HOSTILE);
    assert_eq!(context["sub"], json!(sub));

    // 3. The template: its source, and its output byte for byte.
    assert_eq!(
        page.text_of("template-source").await,
        mapping::REQUEST_TEMPLATE
    );
    assert_eq!(
        page.text_of("template-output").await,
        HOSTILE_TEMPLATE_OUTPUT
    );
    assert_eq!(
        trace.template.as_ref().unwrap().output,
        HOSTILE_TEMPLATE_OUTPUT
    );

    // 4. hello's answer and the integration response.
    let answer: Value = serde_json::from_str(&page.text_of("integration-answer").await).unwrap();
    assert_eq!(answer, json!({ "message": format!("Hello {HOSTILE}!") }));
    let integration = page.text_of("hop-integration").await;
    assert!(
        integration.contains("Integration response: default matched → status 200"),
        "{integration}"
    );

    // 5. What the browser got: the request ID exposed through CORS, the body as sent.
    let response = page.text_of("hop-response").await;
    assert!(response.contains("Status: 200"), "{response}");
    let readable = page.text_of("response-headers").await;
    assert!(
        readable.contains(&format!("x-amzn-requestid: {request_id}")),
        "{readable}"
    );
    let sent = page.text_of("response-headers-sent").await;
    assert!(
        sent.to_ascii_lowercase().contains(&format!(
            "access-control-allow-origin: {}",
            page.stack.site_origin()
        )),
        "{sent}"
    );
    assert_eq!(page.text_of("response-body").await, trace.response.body);

    // Text, never HTML: no <b> made from the name, and no token on the page.
    assert!(
        page.browser
            .find_all("#how-it-works b")
            .await
            .unwrap()
            .is_empty()
    );
    let body = page.text_of("how-it-works").await;
    assert!(!body.contains("eyJ"), "a raw JWT is on the page");
    page.save_screenshot("how-it-works-greeting").await;
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn a_401_shows_the_hops_up_to_the_authorizer_and_why_it_stopped() {
    let page = Page::start("a_401_shows_the_hops_up_to_the_authorizer_and_why_it_stopped").await;
    page.stack.set_token_lifetime_seconds(-3600);
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("expired").await;
    page.open_how_it_works().await;
    page.wait_for_trace().await;
    assert_eq!(headings(&page).await, json!(HEADINGS));
    let trace = trace_of(&page, &shown_request_id(&page).await).await;
    let stop = trace
        .stopped
        .as_ref()
        .expect("the trace says where it stopped");
    assert_eq!(stop.hop, request_trace::Hop::Authorizer);

    let token = page.text_of("hop-token").await;
    assert!(token.contains(" UTC (expired 60 min ago)"), "{token}");
    let authorizer = page.text_of("hop-authorizer").await;
    assert!(
        authorizer.contains(&format!("Stopped here: {}", stop.reason)),
        "{authorizer}"
    );
    assert!(
        authorizer.contains("Decision: Unauthorized: no token, or the authorizer refused it (401)"),
        "{authorizer}"
    );
    for (id, title) in [
        ("hop-template", HEADINGS[2]),
        ("hop-integration", HEADINGS[3]),
    ] {
        assert_eq!(
            page.text_of(id).await,
            format!("{title}Not reached. The request stopped at hop 2."),
            "{id}"
        );
    }
    let response = page.text_of("hop-response").await;
    assert!(response.contains("Status: 401"), "{response}");
    assert_eq!(page.text_of("response-body").await, trace.response.body);
    page.save_screenshot("how-it-works-401").await;
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn a_403_shows_the_deny_policy_that_stopped_it() {
    // Only example.org's Workspace accounts may be greeted: the authorizer denies this one.
    let config = local::StackConfig {
        allowed_hosted_domains: vec!["example.org".to_owned()],
        ..local::StackConfig::default()
    };
    let page = Page::start_with("a_403_shows_the_deny_policy_that_stopped_it", config).await;
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("forbidden").await;
    page.open_how_it_works().await;
    page.wait_for_trace().await;
    let trace = trace_of(&page, &shown_request_id(&page).await).await;
    let stop = trace
        .stopped
        .as_ref()
        .expect("the trace says where it stopped");
    let authorizer = page.text_of("hop-authorizer").await;
    assert!(
        authorizer.contains(&format!("Stopped here: {}", stop.reason)),
        "{authorizer}"
    );
    assert!(
        authorizer.contains("Decision: Deny: the policy does not allow this method (403)"),
        "{authorizer}"
    );
    let policy: Value = serde_json::from_str(&page.text_of("authorizer-policy").await).unwrap();
    assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        page.text_of("hop-template").await,
        format!("{}Not reached. The request stopped at hop 2.", HEADINGS[2])
    );
    assert!(page.text_of("hop-response").await.contains("Status: 403"));
    page.finish().await;
}

/// Works without a trace too: the control and the token hop are the page's own.
#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn how_it_works_opens_and_closes_from_the_keyboard() {
    let page = Page::start("how_it_works_opens_and_closes_from_the_keyboard").await;
    page.sign_in_locally("Jane Doe", "jane@example.com").await;
    page.wait_for_state("greeting").await;
    let focused = page
        .browser
        .execute(
            "document.querySelector('#how-it-works > summary').focus(); \
             return document.activeElement.textContent",
        )
        .await
        .unwrap();
    assert_eq!(focused, json!("How it works"));
    let claims = page.browser.by_id("token-claims").await.unwrap();
    assert!(!claims.is_displayed().await.unwrap());

    page.browser.press(Key::Enter).await.unwrap();
    assert!(page.how_it_works_is_open().await, "Enter did not open it");
    assert!(claims.is_displayed().await.unwrap());
    // Each block is named by its caption (a figure), each hop by its heading.
    let figure = page.browser.find_all("#hop-token figure").await.unwrap();
    let mut names = Vec::new();
    for figure in &figure {
        names.push(page.browser.label(figure).await.unwrap());
    }
    assert_eq!(names, ["Header", "Claims"]);
    let section = page.browser.by_id("hop-token").await.unwrap();
    assert_eq!(page.browser.label(&section).await.unwrap(), HEADINGS[0]);

    page.browser.press(Key::Enter).await.unwrap();
    assert!(!page.how_it_works_is_open().await, "Enter did not close it");
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn how_it_works_fits_a_360px_phone_without_sideways_scrolling() {
    let mut page = Page::start("how_it_works_fits_a_360px_phone_without_sideways_scrolling").await;
    page.browser.emulate_phone(360, 740).await.unwrap();
    // One unbroken 120-letter word besides the hostile characters: it must wrap too.
    let name = format!("{HOSTILE} {}", "W".repeat(120));
    page.sign_in_locally(&name, "bob@example.com").await;
    page.wait_for_state("greeting").await;
    page.open_how_it_works().await;
    page.wait_for_trace().await;
    page.screenshot("phone").await;
    let widths = page
        .browser
        .execute(
            "const d = document.documentElement; \
             const wide = [...document.querySelectorAll('#how-it-works pre')] \
               .filter(p => p.scrollWidth > p.clientWidth).map(p => p.id); \
             return { inner: window.innerWidth, scroll: d.scrollWidth, client: d.clientWidth, wide }",
        )
        .await
        .unwrap();
    assert_eq!(widths["inner"], json!(360), "{widths}");
    assert!(
        widths["scroll"].as_u64() <= widths["client"].as_u64(),
        "the page scrolls sideways: {widths}"
    );
    assert_eq!(widths["wide"], json!([]), "blocks that scroll: {widths}");
    page.finish().await;
}

#[tokio::test]
#[ignore = "needs site/dist and Chromium: run by `cargo xtask test`"]
async fn deployed_the_view_gives_the_sam_logs_commands_for_the_rest() {
    let page =
        Page::start_with_google("deployed_the_view_gives_the_sam_logs_commands_for_the_rest").await;
    let credential = reqwest::Client::new()
        .post(format!("{}/sign-in", page.stack.idp_url()))
        .json(&json!({ "name": "Grace Hopper", "email": "grace@example.com" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    page.browser
        .execute_with(
            "window.testCredential = arguments[0];",
            vec![json!(credential)],
        )
        .await
        .unwrap();
    page.browser
        .by_label("button", GIS_STAND_IN_BUTTON)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    page.wait_for_state("greeting").await;
    page.open_how_it_works().await;
    assert_eq!(headings(&page).await, json!(HEADINGS));

    // The authorizer's decisions about this token, from a minute before it was issued.
    // The API is on 127.0.0.1, not execute-api.{region}: no --region.
    let fingerprint = authorizer_contract::token_fingerprint(&credential);
    let iat = claims_of(&credential)["iat"].as_i64().unwrap();
    let command = page.text_of("logs-authorizer").await;
    let expected = format!(
        "sam logs --stack-name {DEPLOYED_STACK} --name AuthorizerFunction --filter \
         '{fingerprint}' --start-time '{}' --end-time '",
        utc(iat - 60)
    );
    assert!(command.starts_with(&expected), "{command:?}");
    let hello = page.text_of("logs-hello").await;
    assert!(
        hello.starts_with(&format!(
            "sam logs --stack-name {DEPLOYED_STACK} --name HelloFunction --start-time '"
        )),
        "{hello:?}"
    );
    // Two minutes after the call, by the browser's clock (this machine's).
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let end = command
        .rsplit("--end-time '")
        .next()
        .unwrap()
        .trim_end_matches('\'');
    assert!(
        (now + 60..=now + 180).any(|t| utc(t) == end),
        "{end} is not about two minutes from now"
    );

    // What the page has itself: the hops it cannot see say so.
    let template = page.text_of("hop-template").await;
    assert!(
        template.contains("API Gateway renders the request template in AWS and does not log it"),
        "{template}"
    );
    let response = page.text_of("hop-response").await;
    assert!(response.contains("Status: 200"), "{response}");
    let body: Value = serde_json::from_str(&page.text_of("response-body").await).unwrap();
    assert_eq!(body, json!({ "message": "Hello Grace Hopper!" }));
    page.finish().await;
}
