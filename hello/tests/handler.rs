//! The handler, called directly as the runtime would.

use hello::{Greeting, HelloError, MAX_NAME_CHARS, function_handler};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{Value, json};

async fn handle(payload: Value) -> Result<Greeting, HelloError> {
    function_handler(LambdaEvent::new(payload, Context::default())).await
}

#[tokio::test]
async fn greets_the_name_it_is_given() {
    let greeting = handle(json!({"name": "Jane Doe"})).await.unwrap();
    assert_eq!(
        serde_json::to_value(&greeting).unwrap(),
        json!({"message": "Hello Jane Doe!"})
    );
}

#[tokio::test]
async fn keeps_the_name_exactly_as_received() {
    for name in [
        " padded ",
        "O'Brien",
        "<b>bold</b>",
        "\\\"",
        "日本語",
        "😀",
        "a\nb",
        "x",
    ] {
        let greeting = handle(json!({ "name": name })).await.unwrap();
        assert_eq!(greeting.message, format!("Hello {name}!"));
    }
}

#[tokio::test]
async fn ignores_fields_other_than_name() {
    let greeting = handle(json!({"name": "Jane", "admin": true}))
        .await
        .unwrap();
    assert_eq!(greeting.message, "Hello Jane!");
}

#[tokio::test]
async fn accepts_a_name_of_the_maximum_length() {
    let name = "é".repeat(MAX_NAME_CHARS);
    let greeting = handle(json!({ "name": name })).await.unwrap();
    assert_eq!(
        greeting.message.chars().count(),
        MAX_NAME_CHARS + "Hello !".len()
    );
}

#[tokio::test]
async fn accepts_the_two_thousand_character_names_the_stack_tests_send() {
    let name = "x".repeat(2000);
    assert_eq!(
        handle(json!({ "name": name })).await.unwrap().message,
        format!("Hello {name}!")
    );
}

#[tokio::test]
async fn rejects_each_kind_of_bad_name_with_a_specific_error() {
    let cases = [
        (json!({}), HelloError::MissingName),
        (json!({"nom": "Jane"}), HelloError::MissingName),
        (json!({"name": null}), HelloError::NullName),
        (json!({"name": 42}), HelloError::NotAString("a number")),
        (json!({"name": true}), HelloError::NotAString("a boolean")),
        (
            json!({"name": ["Jane"]}),
            HelloError::NotAString("an array"),
        ),
        (
            json!({"name": {"first": "Jane"}}),
            HelloError::NotAString("an object"),
        ),
        (json!({"name": ""}), HelloError::EmptyName),
        (
            json!({"name": "x".repeat(MAX_NAME_CHARS + 1)}),
            HelloError::TooLong {
                chars: MAX_NAME_CHARS + 1,
            },
        ),
        (json!("Jane"), HelloError::NotAnObject("a string")),
        (json!(["Jane"]), HelloError::NotAnObject("an array")),
        (Value::Null, HelloError::NotAnObject("null")),
    ];
    for (payload, expected) in cases {
        assert_eq!(
            handle(payload.clone()).await.unwrap_err(),
            expected,
            "payload {payload}"
        );
    }
}

#[test]
fn errors_become_lambda_diagnostics_with_a_stable_type_and_a_readable_message() {
    let diagnostic = Diagnostic::from(HelloError::NullName);
    assert_eq!(diagnostic.error_type, "InvalidName");
    assert_eq!(
        diagnostic.error_message,
        "\"name\" is null; it must be a non-empty string"
    );

    let diagnostic = Diagnostic::from(HelloError::TooLong { chars: 5000 });
    assert_eq!(diagnostic.error_type, "InvalidName");
    assert_eq!(
        diagnostic.error_message,
        "\"name\" is 5000 characters long; at most 4096 are accepted"
    );

    let diagnostic = Diagnostic::from(HelloError::NotAnObject("an array"));
    assert_eq!(diagnostic.error_type, "InvalidEvent");
}
