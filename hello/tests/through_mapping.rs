//! The whole hop: API Gateway renders the deployed mapping template with the authorizer's
//! name, and hello greets whatever that produced.

use hello::{HelloError, MAX_NAME_CHARS, greet};
use mapping::RenderContext;
use proptest::prelude::*;

fn through_the_gateway(name: &str) -> Result<String, HelloError> {
    let event = mapping::request_template()
        .render(&RenderContext::with_name(name))
        .expect("the deployed template renders");
    let event: serde_json::Value =
        serde_json::from_str(&event).expect("the deployed template renders JSON");
    greet(&event).map(|greeting| greeting.message)
}

#[test]
fn greets_names_that_break_naive_templates() {
    for name in [
        "O'Brien",
        "\"Bob\"",
        "\\'",
        "back\\slash",
        "</script>",
        "\u{2028}",
    ] {
        assert_eq!(through_the_gateway(name), Ok(format!("Hello {name}!")));
    }
}

#[test]
fn a_missing_authorizer_name_becomes_a_clear_empty_name_error() {
    let event = mapping::request_template()
        .render(&RenderContext::default())
        .unwrap();
    let event: serde_json::Value = serde_json::from_str(&event).unwrap();
    assert_eq!(greet(&event), Err(HelloError::EmptyName));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_greeting_contains_any_name_unchanged(name in any::<String>()) {
        let chars = name.chars().count();
        let result = through_the_gateway(&name);
        if name.is_empty() {
            prop_assert_eq!(result, Err(HelloError::EmptyName));
        } else if chars > MAX_NAME_CHARS {
            prop_assert_eq!(result, Err(HelloError::TooLong { chars }));
        } else {
            prop_assert_eq!(result, Ok(format!("Hello {name}!")));
        }
    }
}
