//! API v3 `--decode` with verifying keys: the answer's signature is checked (at `--now`, for an
//! answer copied from a log) before it is parsed, and an unverifiable answer exits 4.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{json_output, text_output, vector, vector_text, wxpay};
use serde_json::Value;
use wxpay_protocol::security::{RsaPrivateKey, Signer, response_message};

/// WeChat Pay's documented answer (public-key mode).
const DOC: &str = "doc-response-verification";

/// The documented answer's signed time.
const DOC_TIMESTAMP: &str = "1722850421";

/// A raw HTTP/1.1 answer with the signature headers of WeChat Pay's documented example, and
/// `body` (the documented body, unless tampered with).
fn doc_answer(body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "HTTP/1.1 200 OK\r\n\
         Request-ID: {}\r\n\
         Wechatpay-Nonce: {}\r\n\
         Wechatpay-Signature: {}\r\n\
         Wechatpay-Timestamp: {}\r\n\
         Wechatpay-Serial: {}\r\n\
         Wechatpay-Signature-Type: {}\r\n\
         Content-Length: {}\r\n\r\n",
        vector_text(DOC, "request_id"),
        vector_text(DOC, "nonce"),
        vector_text(DOC, "signature"),
        vector_text(DOC, "timestamp"),
        vector_text(DOC, "serial"),
        vector_text(DOC, "signature_type"),
        body.len(),
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// The documented body.
fn doc_body() -> Vec<u8> {
    std::fs::read(vector(DOC, "body")).unwrap()
}

/// `ecommerce order-query --decode -` with the documented public key, and `extra` flags.
fn decode_args<'a>(public_key: &'a str, serial: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    [&["ecommerce", "order-query", "--decode", "-", "--public-key", public_key, "--public-key-id", serial], extra]
        .concat()
}

#[test]
fn documented_answer_verifies_at_its_own_time_and_is_then_parsed() {
    let (public_key, serial) = (vector(DOC, "public_key.pem"), vector_text(DOC, "serial"));
    let raw = doc_answer(&doc_body());
    // Verified, then parsed: it is a Native-payment answer, not a profit-sharing order.
    let out = json_output(&decode_args(&public_key, &serial, &["--now", DOC_TIMESTAMP, "--json"]), Some(&raw), 4);
    assert_eq!(out["error"]["kind"], "malformed", "{out}");
    assert_eq!(out["error"]["status"], 200);
    let (_, stderr) = text_output(&decode_args(&public_key, &serial, &["--now", DOC_TIMESTAMP]), Some(&raw), 4);
    assert!(stderr.starts_with("error: malformed response: "), "{stderr}");
    assert!(!stderr.contains("unverifiable"), "{stderr}");
    // Within the 300 s the protocol allows, either way.
    for now in ["1722850721", "1722850121"] {
        let out = json_output(&decode_args(&public_key, &serial, &["--now", now, "--json"]), Some(&raw), 4);
        assert_eq!(out["error"]["kind"], "malformed", "--now {now}: {out}");
    }
}

#[test]
fn documented_answer_is_stale_later() {
    let (public_key, serial) = (vector(DOC, "public_key.pem"), vector_text(DOC, "serial"));
    let raw = doc_answer(&doc_body());
    let args = decode_args(&public_key, &serial, &["--now", "1722860000"]);
    let (stdout, stderr) = text_output(&args, Some(&raw), 4);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: unverifiable response (HTTP 200)\ncaused by: timestamp 1722850421 is 9579 s old (limit 300 s)\n"
    );
    let out = json_output(&[&args[..], &["--json"]].concat(), Some(&raw), 4);
    assert_eq!(
        out["error"],
        serde_json::json!({
            "kind": "unverifiable",
            "summary": "unverifiable response (HTTP 200)",
            "unverifiable": "timestamp 1722850421 is 9579 s old (limit 300 s)",
            "status": 200,
            "request_id": vector_text(DOC, "request_id"),
            "caused_by": ["timestamp 1722850421 is 9579 s old (limit 300 s)"],
        })
    );
    // Without --now the clock of today is used, and the 2024 answer is stale too.
    let out = json_output(&decode_args(&public_key, &serial, &["--json"]), Some(&raw), 4);
    assert_eq!(out["error"]["kind"], "unverifiable");
    assert!(out["error"]["unverifiable"].as_str().unwrap().contains(" s old "), "{out}");
}

#[test]
fn tampered_body_is_unverifiable() {
    let (public_key, serial) = (vector(DOC, "public_key.pem"), vector_text(DOC, "serial"));
    let body = String::from_utf8(doc_body()).unwrap().replace("JyC91EIz1", "JyC91EIz2");
    let raw = doc_answer(body.as_bytes());
    let args = decode_args(&public_key, &serial, &["--now", DOC_TIMESTAMP]);
    let (_, stderr) = text_output(&args, Some(&raw), 4);
    assert_eq!(
        stderr,
        format!("error: unverifiable response (HTTP 200)\ncaused by: bad signature for serial {serial}\n")
    );
    let out = json_output(&[&args[..], &["--json"]].concat(), Some(&raw), 4);
    assert_eq!(out["error"]["kind"], "unverifiable");
}

#[test]
fn answers_without_a_usable_signature_are_unverifiable() {
    let (public_key, serial) = (vector(DOC, "public_key.pem"), vector_text(DOC, "serial"));
    let args = decode_args(&public_key, &serial, &["--now", DOC_TIMESTAMP, "--json"]);
    // A bare body has no signature headers.
    let out = json_output(&args, Some(&doc_body()), 4);
    assert_eq!(out["error"]["kind"], "unverifiable");
    assert_eq!(out["error"]["unverifiable"], "missing header Wechatpay-Timestamp");
    // WeChat Pay's deliberate probes.
    let signature = vector_text(DOC, "signature");
    let probe = String::from_utf8(doc_answer(&doc_body())).unwrap().replace(&signature, "WECHATPAY/SIGNTEST/abc");
    let out = json_output(&args, Some(probe.as_bytes()), 4);
    assert_eq!(out["error"]["kind"], "unverifiable");
    assert!(out["error"]["unverifiable"].as_str().unwrap().contains("SIGNTEST"), "{out}");
    // A platform certificate does not verify an answer signed with a public key.
    let cert = vector("java-sdk-certificates", "certificate.pem");
    let args =
        ["ecommerce", "order-query", "--decode", "-", "--platform-cert", &cert, "--now", DOC_TIMESTAMP, "--json"];
    let out = json_output(&args, Some(&doc_answer(&doc_body())), 4);
    assert_eq!(out["error"]["unverifiable"], format!("no key for serial {serial}"));
}

/// A key pair for answers the test signs itself: the published test merchant key, whose public
/// half is written as a `PUBLIC KEY` PEM (aws-lc-rs gives the PKCS#1 form, which the protocol
/// reads under that label too).
struct AnswerSigner {
    key: RsaPrivateKey,
    dir: tempfile::TempDir,
}

impl AnswerSigner {
    const SERIAL: &'static str = "PUB_KEY_ID_0114232134912410000000000000000001";

    fn new() -> Self {
        let pem = std::fs::read_to_string(common::private_key_path()).unwrap();
        Self { key: RsaPrivateKey::from_pkcs8_pem(&pem).unwrap(), dir: tempfile::tempdir().unwrap() }
    }

    /// The public key as a PEM file.
    fn public_key_file(&self) -> String {
        let b64 = BASE64.encode(self.key.public_key_der());
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let path = self.dir.path().join("public_key.pem");
        std::fs::write(&path, format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n")))
            .unwrap();
        path.to_string_lossy().into_owned()
    }

    /// A raw 200 answer carrying `body`, signed at `timestamp`.
    fn answer(&self, body: &[u8], timestamp: i64) -> Vec<u8> {
        let nonce = "c5ac7061fccab6bf3e254dcf98995b8c";
        let signature = self.key.sign(&response_message(&timestamp.to_string(), nonce, body)).unwrap();
        let mut raw = format!(
            "HTTP/1.1 200 OK\r\nRequest-ID: R-1\r\nWechatpay-Nonce: {nonce}\r\nWechatpay-Signature: {}\r\n\
             Wechatpay-Timestamp: {timestamp}\r\nWechatpay-Serial: {}\r\n\
             Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048\r\nContent-Length: {}\r\n\r\n",
            BASE64.encode(signature),
            Self::SERIAL,
            body.len(),
        )
        .into_bytes();
        raw.extend_from_slice(body);
        raw
    }
}

/// The seed answer of `ecommerce order-query`.
fn order_query_seed() -> Vec<u8> {
    let path: std::path::PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", "doc-examples", "003-v3-order-query.json"].iter().collect();
    std::fs::read(path).unwrap()
}

#[test]
fn signed_answer_verifies_and_decodes() {
    let signer = AnswerSigner::new();
    let public_key = signer.public_key_file();
    let raw = signer.answer(&order_query_seed(), 1_700_000_000);
    let args = decode_args(&public_key, AnswerSigner::SERIAL, &["--now", "1700000100"]);
    let (stdout, stderr) = text_output(&args, Some(&raw), 0);
    assert!(stdout.starts_with("status "), "{stdout}");
    assert_eq!(stderr, format!("note: signature verified (Wechatpay-Serial {})\n", AnswerSigner::SERIAL));
    let out = json_output(&[&args[..], &["--json"]].concat(), Some(&raw), 0);
    assert_eq!(out["transaction_id"], "4208450740201411110007820472");

    // The keys from the environment, and today's clock for an answer signed now.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let raw = signer.answer(&order_query_seed(), now.try_into().unwrap());
    let output = wxpay(&["ecommerce", "order-query", "--decode", "-", "--json"])
        .env("WXPAY_PUBLIC_KEY", &public_key)
        .env("WXPAY_PUBLIC_KEY_ID", AnswerSigner::SERIAL)
        .write_stdin(raw)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(out["order_id"], "3008450740201411110007820472");
    assert!(String::from_utf8_lossy(&output.stderr).contains("signature verified"));
}

#[test]
fn unsigned_error_answer_with_keys_is_still_the_api_error() {
    let signer = AnswerSigner::new();
    let public_key = signer.public_key_file();
    let raw = b"HTTP/1.1 404 Not Found\r\nRequest-ID: REQ-404\r\n\r\n{\"code\":\"RESOURCE_NOT_EXISTS\",\"message\":\"no such order\"}";
    let out = json_output(&decode_args(&public_key, AnswerSigner::SERIAL, &["--json"]), Some(raw), 3);
    assert_eq!(out["error"]["kind"], "api");
    assert_eq!(out["error"]["code"], "RESOURCE_NOT_EXISTS");
}

#[test]
fn without_keys_the_answer_is_parsed_unverified() {
    let raw = doc_answer(&order_query_seed());
    let (stdout, stderr) = text_output(&["ecommerce", "order-query", "--decode", "-"], Some(&raw), 0);
    assert!(stdout.starts_with("status "), "{stdout}");
    assert_eq!(
        stderr,
        "note: API v3 answer signature not verified (give --public-key with --public-key-id, or --platform-cert)\n"
    );
}

#[test]
fn invalid_verifying_keys_exit_2() {
    let raw = doc_answer(&doc_body());
    let key = common::private_key_path();
    let args = ["ecommerce", "order-query", "--decode", "-", "--platform-cert", &key];
    let (_, stderr) = text_output(&args, Some(&raw), 2);
    assert_eq!(
        stderr,
        format!(
            "error: invalid --platform-cert: {key}\ncaused by: no usable CERTIFICATE in the PEM text: no section of this kind\n"
        )
    );
    let public_key = vector(DOC, "public_key.pem");
    let (_, stderr) =
        text_output(&["ecommerce", "return-query", "--decode", "-", "--public-key", &public_key], Some(&raw), 2);
    assert_eq!(stderr, "error: missing --public-key-id (env WXPAY_PUBLIC_KEY_ID)\n");
}
