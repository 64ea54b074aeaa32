//! The built `hello` binary, driven through the Lambda Runtime API as Lambda drives it.

use std::time::Duration;

use serde_json::json;
use testkit::runtime_api::{LambdaProcess, Outcome};

const TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_bootstrap_answers_good_and_bad_events_and_keeps_serving() {
    let mut lambda = LambdaProcess::spawn(env!("CARGO_BIN_EXE_hello"), &[]).await;

    let outcome = lambda
        .invoke(json!({"name": "Jane O'Brien"}), TIMEOUT)
        .await;
    assert_eq!(
        outcome,
        Outcome::Response(json!({"message": "Hello Jane O'Brien!"})),
        "output:\n{}",
        lambda.output()
    );

    let outcome = lambda.invoke(json!({"name": 42}), TIMEOUT).await;
    match outcome {
        Outcome::Error {
            error_type,
            error_message,
        } => {
            assert_eq!(error_type, "InvalidName");
            assert_eq!(
                error_message,
                "\"name\" must be a string, but it is a number"
            );
        }
        other => panic!(
            "expected an error, got {other:?}\noutput:\n{}",
            lambda.output()
        ),
    }

    let outcome = lambda.invoke(json!(["not", "an", "object"]), TIMEOUT).await;
    assert!(
        matches!(&outcome, Outcome::Error { error_type, .. } if error_type == "InvalidEvent"),
        "{outcome:?}"
    );

    // Still alive after errors: the next good event is answered.
    let outcome = lambda.invoke(json!({"name": "again"}), TIMEOUT).await;
    assert_eq!(
        outcome,
        Outcome::Response(json!({"message": "Hello again!"}))
    );

    // Logs are JSON lines, and say why an event was rejected without echoing it.
    let output = lambda.output();
    let rejected: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|log: &serde_json::Value| log["fields"]["message"] == "rejected event")
        .collect();
    assert_eq!(rejected.len(), 2, "output:\n{output}");
    assert_eq!(rejected[0]["fields"]["error_type"], "InvalidName");
    assert!(
        !output.contains("\"object\""),
        "the payload must not be logged:\n{output}"
    );
}
