//! The `hello` Lambda: greets the signed-in user.
//!
//! API Gateway renders the request mapping template (openapi.yaml's, tested as
//! `mapping::REQUEST_TEMPLATE`) with the
//! authorizer's context and invokes this function with the result:
//!
//! ```text
//! {"name": "Jane Doe"}   ->   {"message": "Hello Jane Doe!"}
//! ```
//!
//! The name is used exactly as received: no trimming, no normalisation, no escaping (the
//! site renders the greeting as text, never as HTML). An event without a usable name is a
//! Lambda error with a stable `errorType` (see [`HelloError::error_type`]), never a panic:
//!
//! | event                           | `errorType`    |
//! |---------------------------------|----------------|
//! | not a JSON object               | `InvalidEvent` |
//! | no `name`, `null`, not a string | `InvalidName`  |
//! | empty, or over [`MAX_NAME_CHARS`] characters | `InvalidName` |
//!
//! The event is taken as a [`serde_json::Value`] rather than a typed struct so that a wrong
//! shape yields one of these errors, not serde's generic deserialisation message.
//!
//! # Run it
//!
//! ```sh
//! cargo test -p hello       # the handler, the hop through the mapping template, and the
//!                           # built binary driven through a local Lambda Runtime API
//! cargo lambda watch        # with cargo-lambda, from the workspace root; then:
//! cargo lambda invoke hello --data-ascii '{"name": "Jane"}'
//! ```

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

/// The longest name accepted, in Unicode characters (scalar values).
///
/// Google caps a profile name well below this; the limit only stops absurd payloads from
/// being echoed back. It is comfortably above the 2,000-character names the local stack
/// tests send.
pub const MAX_NAME_CHARS: usize = 4096;

/// What `hello` returns: `{"message": "Hello <name>!"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Greeting {
    /// `Hello <name>!`, with the name exactly as received.
    pub message: String,
}

/// Why an event could not be greeted. Each variant's message is safe to show a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelloError {
    /// The event is not a JSON object (e.g. an array, a string or `null`).
    #[error("the event must be a JSON object like {{\"name\": \"Jane\"}}, but it is {0}")]
    NotAnObject(&'static str),
    /// The object has no `name` field.
    #[error("the event has no \"name\" field; send {{\"name\": \"Jane\"}}")]
    MissingName,
    /// `name` is present but `null` (e.g. the authorizer supplied no name).
    #[error("\"name\" is null; it must be a non-empty string")]
    NullName,
    /// `name` is a number, boolean, array or object.
    #[error("\"name\" must be a string, but it is {0}")]
    NotAString(&'static str),
    /// `name` is the empty string.
    #[error("\"name\" is empty; it must be a non-empty string")]
    EmptyName,
    /// `name` is longer than [`MAX_NAME_CHARS`].
    #[error("\"name\" is {chars} characters long; at most {MAX_NAME_CHARS} are accepted")]
    TooLong {
        /// The length of the rejected name, in characters.
        chars: usize,
    },
}

impl HelloError {
    /// The Lambda `errorType` for this error: `InvalidEvent` when the event is not an
    /// object at all, `InvalidName` otherwise. Stable: integration responses may match it.
    pub fn error_type(&self) -> &'static str {
        match self {
            HelloError::NotAnObject(_) => "InvalidEvent",
            _ => "InvalidName",
        }
    }
}

impl From<HelloError> for Diagnostic {
    fn from(error: HelloError) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Builds the greeting for an event, or says why it cannot.
pub fn greet(event: &Value) -> Result<Greeting, HelloError> {
    let object = event
        .as_object()
        .ok_or_else(|| HelloError::NotAnObject(json_type(event)))?;
    let name = match object.get("name") {
        None => return Err(HelloError::MissingName),
        Some(Value::Null) => return Err(HelloError::NullName),
        Some(Value::String(name)) => name,
        Some(other) => return Err(HelloError::NotAString(json_type(other))),
    };
    if name.is_empty() {
        return Err(HelloError::EmptyName);
    }
    // Count characters only as far as needed to know the name is too long.
    if name.len() > MAX_NAME_CHARS && name.chars().nth(MAX_NAME_CHARS).is_some() {
        return Err(HelloError::TooLong {
            chars: name.chars().count(),
        });
    }
    Ok(Greeting {
        message: format!("Hello {name}!"),
    })
}

/// The Lambda handler: [`greet`] the event's payload.
///
/// Invalid events are logged (type and reason only; never the payload) and returned as
/// errors that the runtime reports with [`HelloError::error_type`].
pub async fn function_handler(event: LambdaEvent<Value>) -> Result<Greeting, HelloError> {
    greet(&event.payload).inspect_err(|error| {
        tracing::warn!(
            error_type = error.error_type(),
            reason = %error,
            request_id = %event.context.request_id,
            "rejected event"
        );
    })
}

/// The JSON type of a value, for error messages ("an array", "a number", ...).
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
