//! Helpers shared by the `wxpay` integration tests.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

/// A `redis-server` for the fleet tests: `tests/src/redis.rs` of wxpay-tests, linked here so that
/// the packaged crate carries it.
#[allow(unreachable_pub)]
pub(crate) mod redis;
pub(crate) mod sandbox;
/// A sandbox as a child process: `tests/src/sandbox_process.rs` of wxpay-tests, linked here so
/// that the packaged crate carries it.
#[allow(unreachable_pub)]
pub(crate) mod sandbox_process;

use std::path::PathBuf;

use serde_json::Value;

/// The environment variables that stand in for flags. They are removed for every run, so that the
/// environment the tests run in never changes what they see.
pub(crate) const CREDENTIAL_ENV: [&str; 20] = [
    "WXPAY_MCHID",
    "WXPAY_MERCHANT_SERIAL",
    "WXPAY_PRIVATE_KEY",
    "WXPAY_PRIVATE_KEY_PEM",
    "WXPAY_APIV3_KEY",
    "RUST_LOG",
    "WXPAY_PUBLIC_KEY",
    "WXPAY_PUBLIC_KEY_ID",
    "WXPAY_APIV3_KEY_FILE",
    "WXPAY_BASE_URL",
    "WXPAY_CLOUDPAY_URL",
    "WXPAY_CA_CERT",
    "WXPAY_CONFIG",
    "WXPAY_V2_URL",
    "WXPAY_APPID",
    "WXPAY_APIV2_KEY_FILE",
    "WXPAY_APIV2_KEY",
    "WXPAY_CLIENT_CERT",
    "WXPAY_CLIENT_KEY",
    "WXPAY_CLIENT_KEY_PEM",
];

/// The merchant id of WeChat Pay's published request-signing example.
pub(crate) const MCHID: &str = "1900007291";

/// The merchant certificate serial of WeChat Pay's published request-signing example.
pub(crate) const MERCHANT_SERIAL: &str = "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB";

/// The built `wxpay` binary with `args`, and without the credential variables.
pub(crate) fn wxpay(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("wxpay");
    for name in CREDENTIAL_ENV {
        cmd.env_remove(name);
    }
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

/// A file of the protocol crate's test vectors, `tests/vectors/CASE/FILE` (links to
/// `crates/protocol/tests/vectors/CASE`, so that the packaged crate carries the files).
pub(crate) fn vector(case: &str, file: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "vectors", case, file].iter().collect();
    assert!(path.is_file(), "missing vector {}", path.display());
    path.to_string_lossy().into_owned()
}

/// The text of a vector file.
pub(crate) fn vector_text(case: &str, file: &str) -> String {
    std::fs::read_to_string(vector(case, file)).expect("a readable vector")
}

/// WeChat Pay's published test private key (the request-signing example's).
pub(crate) fn private_key_path() -> String {
    vector("doc-request-signature", "private_key.pem")
}

/// The flags that sign as the published test merchant, `key` being [`private_key_path`].
pub(crate) fn signing_flags(key: &str) -> [&str; 6] {
    ["--mchid", MCHID, "--merchant-serial", MERCHANT_SERIAL, "--private-key", key]
}

/// The test merchant's credentials, loaded by the protocol crate.
pub(crate) fn test_merchant() -> wxpay_protocol::security::MerchantCredentials {
    let pem = std::fs::read_to_string(private_key_path()).expect("a readable key");
    let key = wxpay_protocol::security::RsaPrivateKey::from_pkcs8_pem(&pem).expect("the test key loads");
    wxpay_protocol::security::MerchantCredentials::new(MCHID, MERCHANT_SERIAL, key).expect("valid ids")
}

/// What the protocol crate signs for `request` as the test merchant at `timestamp` with `nonce`.
pub(crate) fn protocol_signature<B: AsRef<[u8]>>(
    request: &http::Request<B>,
    timestamp: i64,
    nonce: &str,
) -> wxpay_protocol::security::SignedHeaders {
    let credentials = test_merchant();
    let nonce = wxpay_protocol::NonceStr::new(nonce).expect("a valid nonce");
    let params = wxpay_protocol::security::SigningParams::new(&credentials, timestamp, &nonce);
    wxpay_protocol::security::sign_request(request, &params).expect("signing works")
}

/// A signed message as the human dry run shows it: each `\n` as the two characters `\n`.
pub(crate) fn one_line(message: &[u8]) -> String {
    String::from_utf8(message.to_vec()).expect("an ASCII message").replace('\n', "\\n")
}
