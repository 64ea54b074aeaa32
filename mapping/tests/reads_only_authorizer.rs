//! `Template::reads_only_authorizer`: whether a template's output is a function of the
//! authorizer's context alone, so that `render_with_overrides` renders it once per
//! (shared) context. It must never say yes wrongly: a memoised rendering would then
//! hand one request another's values.

use std::sync::Arc;

use mapping::{Overrides, RenderContext, Template};

fn reads_only_authorizer(source: &str) -> bool {
    Template::parse(source)
        .expect("parses")
        .reads_only_authorizer()
}

#[test]
fn the_authorizer_the_util_functions_and_text_alone_do() {
    for source in [
        mapping::REQUEST_TEMPLATE,
        "plain text",
        "$context.authorizer.name",
        "$context.authorizer.principalId $context.authorizer.keySet()",
        "$util.escapeJavaScript($context.authorizer.name).replaceAll(\"a\", 'b')",
        "#if($context.authorizer.role == 'admin')yes#{else}no#end",
        "$util.urlEncode(\"x $context.authorizer.name\")",
        "$context.authorizer.get('name').length() #stop after",
    ] {
        assert!(reads_only_authorizer(source), "{source}");
    }
}

#[test]
fn anything_else_read_or_assigned_counts() {
    for source in [
        "$context.requestId",
        "$context.authorizer.name $context.requestTimeEpoch",
        "$context",
        "$context.identity.sourceIp",
        "$input.body",
        "$input.params('x')",
        "$stageVariables.x",
        "$util.escapeJavaScript($input.body)",
        "#if($context.stage == 'prod')p#end",
        "#set($n = $context.authorizer.name)$n",
        "#set($context.responseOverride.status = 400)",
        "#foreach($k in $context.authorizer.keySet())$k#end",
        "#define($m)x#end$m",
        "$context.authorizer.get($context.requestId)",
        "$undefined",
    ] {
        assert!(!reads_only_authorizer(source), "{source}");
    }
}

fn authorizer(name: &str) -> Arc<std::collections::BTreeMap<String, String>> {
    Arc::new([("name".to_owned(), name.to_owned())].into())
}

/// A request `request_id` with (a shared handle on) `authorizer`.
fn request<'a>(
    authorizer: &Arc<std::collections::BTreeMap<String, String>>,
    request_id: &'a str,
) -> RenderContext<'a> {
    RenderContext {
        authorizer: Arc::clone(authorizer),
        request_id: request_id.into(),
        ..RenderContext::default()
    }
}

/// The memo answers only for the very context it rendered: each context its own
/// output, whichever came last.
#[test]
fn each_authorizer_context_gets_its_own_rendering() {
    let template = Template::parse(mapping::REQUEST_TEMPLATE).unwrap();
    let (jane, john) = (authorizer("Jane"), authorizer("John O'Hara"));
    let render = |authorizer: &Arc<_>, request_id: &str| {
        template
            .render_with_overrides(&request(authorizer, request_id))
            .unwrap()
            .body
    };
    for (authorizer, request_id, expected) in [
        (&jane, "r1", r#"{"name": "Jane"}"#),
        (&jane, "r2", r#"{"name": "Jane"}"#),
        (&john, "r3", r#"{"name": "John O'Hara"}"#),
        (&jane, "r4", r#"{"name": "Jane"}"#),
        // Equal content, another context: rendered for it.
        (&authorizer("Jane"), "r5", r#"{"name": "Jane"}"#),
    ] {
        assert_eq!(render(authorizer, request_id).trim_end(), expected);
    }
}

/// A template reading more than the authorizer is rendered for every request, even
/// with the same shared context.
#[test]
fn a_template_reading_the_request_renders_for_each_request() {
    let template = Template::parse("$context.authorizer.name $context.requestId").unwrap();
    let jane = authorizer("Jane");
    for request_id in ["r1", "r2"] {
        assert_eq!(
            template
                .render_with_overrides(&request(&jane, request_id))
                .unwrap()
                .body,
            format!("Jane {request_id}")
        );
    }
}

/// Overrides carried in from the request template (a response template's context) are
/// part of the result: such a rendering is not taken from the memo.
#[test]
fn carried_overrides_are_kept_whatever_rendered_before() {
    let template = Template::parse("$context.authorizer.name").unwrap();
    let jane = authorizer("Jane");
    let plain = request(&jane, "r1");
    // Before and after the carried ones: none of them.
    let plain_has_none = || {
        template
            .render_with_overrides(&plain)
            .unwrap()
            .overrides
            .is_empty()
    };
    assert!(plain_has_none());
    let carried = RenderContext {
        overrides: Overrides {
            response_status: Some(202),
            ..Overrides::default()
        },
        ..plain.clone()
    };
    let rendered = template.render_with_overrides(&carried).unwrap();
    assert_eq!(
        (rendered.body.as_str(), rendered.overrides.response_status),
        ("Jane", Some(202))
    );
    assert!(plain_has_none());
}
