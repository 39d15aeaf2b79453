//! The runnable examples of `wxpay-examples` run, as users run them, and exit 0: each one checks
//! its own outcome against the embedded sandbox and exits non-zero when it is wrong.

use std::process::Command;

/// `cargo run -p wxpay-examples --example NAME` (built by the same cargo, in the same target
/// directory); its standard output.
fn run_example(name: &str) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "-p", "wxpay-examples", "--example", name])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn notify_axum_receives_verifies_decrypts_and_acknowledges_a_notification() {
    let out = run_example("notify_axum");
    assert!(out.contains("PROFITSHARING.SUCCESS"), "{out}");
    assert!(out.contains("100 fen to MERCHANT_ID 1900000110"), "{out}");
    assert!(out.contains("acknowledged: 200"), "{out}");
}
