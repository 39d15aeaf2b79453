//! Helpers shared by the `wxpay` integration tests.

use serde_json::Value;

/// The built `wxpay` binary with `args`.
pub(crate) fn wxpay(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("wxpay");
    cmd.args(args);
    cmd
}

/// Runs `wxpay args`, asserts the exit code, and parses standard output as exactly one JSON value.
pub(crate) fn json_output(args: &[&str], stdin: Option<&[u8]>, code: i32) -> Value {
    let mut cmd = wxpay(args);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin.to_vec());
    }
    let output = cmd.assert().code(code).get_output().stdout.clone();
    let text = String::from_utf8(output).expect("stdout is UTF-8");
    assert_eq!(text.lines().count(), 1, "one line of JSON expected, got {text:?}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {text:?}"))
}

/// Runs `wxpay args`, asserts the exit code, and returns standard output and standard error.
pub(crate) fn text_output(args: &[&str], stdin: Option<&[u8]>, code: i32) -> (String, String) {
    let mut cmd = wxpay(args);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin.to_vec());
    }
    let assert = cmd.assert().code(code);
    let output = assert.get_output();
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}
