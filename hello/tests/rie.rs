//! The built `hello` bootstrap under AWS's own Lambda Runtime Interface Emulator.
//! Needs the emulator: `cargo xtask test` installs it and runs these with `--ignored`,
//! once with cargo's build and once with `sam build`'s arm64 bootstrap under qemu.

use serde_json::json;
use testkit::rie::{Rie, bootstrap, locate};

#[tokio::test]
#[ignore = "needs AWS's Runtime Interface Emulator: run through `cargo xtask test`"]
async fn greets_under_the_runtime_interface_emulator() {
    let bootstrap = bootstrap("HelloFunction", env!("CARGO_BIN_EXE_hello"));
    let rie = locate(&bootstrap).unwrap();
    let lambda = Rie::start(&rie, &bootstrap, &[]).await;
    assert_eq!(
        lambda.invoke(&json!({"name": "O'Brien \"Bob\""})).await,
        json!({"message": "Hello O'Brien \"Bob\"!"})
    );
    let refused = lambda.invoke(&json!({"name": 42})).await;
    assert_eq!(
        refused["errorType"],
        "InvalidName",
        "{refused}\n{}",
        lambda.output()
    );
}
