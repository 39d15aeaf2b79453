//! API v3 `--dry-run` signs the request: credentials from flags or the environment, reproducible
//! with `--timestamp` and `--nonce`, checked against the protocol crate; invalid credentials exit
//! 2; key material is never printed.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{MCHID, MERCHANT_SERIAL, json_output, private_key_path, signing_flags, text_output, vector, wxpay};
use serde_json::{Value, json};
use wxpay_protocol::security::{KeyKind, KeySet, RsaPrivateKey, VerifyingKey, request_message, verify_request};
use wxpay_protocol::{BaseUrl, Operation, OutOrderNo, SubMchId, TransactionId, v3};

const TIMESTAMP: i64 = 1554208460;
const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";
const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0000000000000024101100397200000006";

/// `ecommerce order-query --dry-run` with valid fields and fixed signing inputs, but no
/// credentials.
const ORDER_QUERY: &[&str] = &[
    "ecommerce",
    "order-query",
    "--dry-run",
    "--sub-mchid",
    "1900000109",
    "--transaction-id",
    "4208450740201411110007820472",
    "--out-order-no",
    "P20150806125346",
    "--timestamp",
    "1554208460",
    "--nonce",
    NONCE,
];

/// The same request, built by the protocol crate.
fn order_query() -> http::Request<Vec<u8>> {
    v3::OrderQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("4208450740201411110007820472").unwrap(),
        OutOrderNo::new("P20150806125346").unwrap(),
    )
    .build(&BaseUrl::v3_default())
    .unwrap()
}

/// [`ORDER_QUERY`] signed as the test merchant, with `extra` flags.
fn signed_args<'a>(key: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    [ORDER_QUERY, &signing_flags(key), extra].concat()
}

/// The value of the header line `name: value` of a human dry run.
fn header<'a>(stdout: &'a str, name: &str) -> Option<&'a str> {
    stdout.lines().take_while(|l| !l.is_empty()).find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

/// A key set holding the test merchant key's public half, as WeChat Pay would verify with it.
fn merchant_keys() -> KeySet {
    let pem = std::fs::read_to_string(private_key_path()).unwrap();
    let public = RsaPrivateKey::from_pkcs8_pem(&pem).unwrap().public_key_der();
    let mut keys = KeySet::new();
    keys.insert(VerifyingKey::from_der(MERCHANT_SERIAL, KeyKind::Merchant, &public).unwrap());
    keys
}

/// The request a JSON dry run describes, rebuilt as an `http::Request`.
fn request_from_json(out: &Value) -> http::Request<Vec<u8>> {
    let mut request = http::Request::builder()
        .method(out["method"].as_str().unwrap())
        .uri(out["url"].as_str().unwrap())
        .body(Vec::new())
        .unwrap();
    for (name, value) in out["headers"].as_object().unwrap() {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.as_str().unwrap().parse().unwrap());
    }
    request
}

/// The seconds since 1970 on this machine's clock.
fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().try_into().unwrap()
}

#[test]
fn fixed_inputs_give_the_protocol_signature_twice() {
    let key = private_key_path();
    let args = signed_args(&key, &[]);
    let (first, stderr) = text_output(&args, None, 0);
    let (second, _) = text_output(&args, None, 0);
    assert_eq!(stderr, "");
    assert_eq!(first, second, "a dry run with --timestamp and --nonce is reproducible");

    let expected = common::protocol_signature(&order_query(), TIMESTAMP, NONCE);
    assert_eq!(header(&first, "authorization"), Some(expected.authorization()));
    assert!(
        expected
            .authorization()
            .starts_with(&format!("WECHATPAY2-SHA256-RSA2048 mchid=\"{MCHID}\",nonce_str=\"{NONCE}\",signature=\"")),
        "{}",
        expected.authorization()
    );
    assert_eq!(header(&first, "accept"), Some("application/json"));
    assert_eq!(header(&first, "user-agent"), Some(wxpay_protocol::security::default_user_agent().as_str()));
    assert_eq!(header(&first, "wechatpay-serial"), None, "no verifying key was given");
    let last = first.lines().last().unwrap();
    assert_eq!(last, format!("signed message: {}", common::one_line(expected.message())));
}

#[test]
fn json_dry_run_verifies_with_the_merchant_public_key() {
    let key = private_key_path();
    let args = signed_args(&key, &["--json"]);
    let out = json_output(&args, None, 0);
    assert_eq!(out, json_output(&args, None, 0), "reproducible");
    let request = request_from_json(&out);

    let auth = verify_request(&request, TIMESTAMP, MCHID, &merchant_keys()).expect("the signed request verifies");
    assert_eq!((auth.nonce_str.as_str(), auth.timestamp), (NONCE, TIMESTAMP));
    assert_eq!(auth.serial_no, MERCHANT_SERIAL);

    let target = request.uri().path_and_query().unwrap().as_str();
    let message = request_message("GET", target, TIMESTAMP, NONCE, b"");
    assert_eq!(out["signed_message"], String::from_utf8(message).unwrap());
    assert_eq!(
        out["headers"]["authorization"],
        common::protocol_signature(&order_query(), TIMESTAMP, NONCE).authorization()
    );

    // What is signed is what is sent: another query string does not verify.
    let mut tampered = request_from_json(&out);
    *tampered.uri_mut() = out["url"].as_str().unwrap().replace("P20150806125346", "P20150806125347").parse().unwrap();
    assert!(verify_request(&tampered, TIMESTAMP, MCHID, &merchant_keys()).is_err());
}

#[test]
fn environment_variables_stand_in_for_the_flags() {
    let key = private_key_path();
    let public_key = vector("doc-response-verification", "public_key.pem");
    let with_flags = signed_args(&key, &["--json", "--public-key", &public_key, "--public-key-id", PUBLIC_KEY_ID]);
    let expected = json_output(&with_flags, None, 0);
    assert_eq!(expected["headers"]["wechatpay-serial"], PUBLIC_KEY_ID);

    let output = wxpay(&[ORDER_QUERY, &["--json"]].concat())
        .env("WXPAY_MCHID", MCHID)
        .env("WXPAY_MERCHANT_SERIAL", MERCHANT_SERIAL)
        .env("WXPAY_PRIVATE_KEY", &key)
        .env("WXPAY_PUBLIC_KEY", &public_key)
        .env("WXPAY_PUBLIC_KEY_ID", PUBLIC_KEY_ID)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert_eq!(serde_json::from_slice::<Value>(&output).unwrap(), expected);

    // A flag wins over its variable.
    let output = wxpay(&with_flags).env("WXPAY_MCHID", "not-a-mchid").assert().code(0).get_output().stdout.clone();
    assert_eq!(serde_json::from_slice::<Value>(&output).unwrap(), expected);
}

#[test]
fn default_timestamp_is_the_clock_and_default_nonce_is_fresh() {
    let key = private_key_path();
    let args = [
        &["ecommerce", "order-query", "--dry-run", "--json", "--sub-mchid", "1", "--transaction-id", "2"][..],
        &["--out-order-no", "P1"],
        &signing_flags(&key),
    ]
    .concat();
    let before = unix_now();
    let first = json_output(&args, None, 0);
    let second = json_output(&args, None, 0);
    let after = unix_now();
    let mut nonces = Vec::new();
    for out in [&first, &second] {
        let auth = verify_request(&request_from_json(out), after, MCHID, &merchant_keys()).expect("verifies now");
        assert!((before..=after).contains(&auth.timestamp), "{} not in {before}..={after}", auth.timestamp);
        assert_eq!(auth.nonce_str.len(), 32, "{}", auth.nonce_str);
        assert!(auth.nonce_str.bytes().all(|b| b.is_ascii_alphanumeric()), "{}", auth.nonce_str);
        nonces.push(auth.nonce_str);
    }
    assert_ne!(nonces[0], nonces[1]);
}

#[test]
fn wechatpay_serial_names_the_public_key_else_a_platform_certificate() {
    let key = private_key_path();
    let public_key = vector("doc-response-verification", "public_key.pem");
    let cert = vector("java-sdk-certificates", "certificate.pem");
    let cert_serial = common::vector_text("java-sdk-certificates", "serial_no");
    let serial = |extra: &[&str]| {
        let out = json_output(&signed_args(&key, &[&["--json"], extra].concat()), None, 0);
        out["headers"].get("wechatpay-serial").map(|v| v.as_str().unwrap().to_owned())
    };
    assert_eq!(serial(&[]), None);
    assert_eq!(serial(&["--platform-cert", &cert]).as_deref(), Some(cert_serial.trim()));
    let both = ["--platform-cert", &cert, "--public-key", &public_key, "--public-key-id", PUBLIC_KEY_ID];
    assert_eq!(serial(&both).as_deref(), Some(PUBLIC_KEY_ID));

    let (stdout, _) = text_output(&signed_args(&key, &["--platform-cert", &cert]), None, 0);
    assert_eq!(header(&stdout, "wechatpay-serial"), Some(cert_serial.trim()));
}

#[test]
fn cloudpay_takes_no_credentials() {
    let args = ["cloudpay", "finish", "--dry-run", "--sub-mch-id", "1", "--transaction-id", "2"];
    let args = [&args[..], &["--out-order-no", "P1", "--description", "d"]].concat();
    let (_, stderr) = text_output(&[&args[..], &["--merchant-serial", MERCHANT_SERIAL]].concat(), None, 2);
    assert!(stderr.contains("unexpected argument '--merchant-serial'"), "{stderr}");
    // --mchid is the v2 wire's `mch_id` (`--wire v2`); the CloudPay wire sends no credential.
    let (stdout, _) = text_output(&[&args[..], &["--mchid", MCHID]].concat(), None, 0);
    assert!(stdout.starts_with("POST http://api.weixin.qq.com/_/pay/profitsharingfinish"), "{stdout}");
    assert!(!stdout.contains(MCHID), "{stdout}");
}

#[test]
fn missing_credentials_exit_2_naming_the_flag_and_the_variable() {
    let key = private_key_path();
    let cases = [
        (vec!["--merchant-serial", MERCHANT_SERIAL, "--private-key", &key], "mchid", "WXPAY_MCHID"),
        (vec!["--mchid", MCHID, "--private-key", &key], "merchant_serial", "WXPAY_MERCHANT_SERIAL"),
        (vec!["--mchid", MCHID, "--merchant-serial", MERCHANT_SERIAL], "private_key", "WXPAY_PRIVATE_KEY"),
    ];
    for (flags, field, env) in cases {
        let flag = format!("--{}", field.replace('_', "-"));
        let args = [ORDER_QUERY, &flags].concat();
        let (stdout, stderr) = text_output(&args, None, 2);
        assert_eq!(stdout, "");
        assert_eq!(stderr, format!("error: missing {flag} (env {env})\n"));
        let out = json_output(&[&args[..], &["--json"]].concat(), None, 2);
        assert_eq!(
            out,
            json!({"error": {
                "kind": "invalid_input",
                "field": field,
                "flag": flag,
                "env": env,
                "rule": "required",
                "summary": format!("missing {flag} (env {env})"),
            }})
        );
    }

    let public_key = vector("doc-response-verification", "public_key.pem");
    let (_, stderr) = text_output(&signed_args(&key, &["--public-key", &public_key]), None, 2);
    assert_eq!(stderr, "error: missing --public-key-id (env WXPAY_PUBLIC_KEY_ID)\n");
    let (_, stderr) = text_output(&signed_args(&key, &["--public-key-id", PUBLIC_KEY_ID]), None, 2);
    assert_eq!(stderr, "error: missing --public-key (env WXPAY_PUBLIC_KEY)\n");
}

/// Asserts that `args` exit 2 with `expected` on standard error and nothing on standard output,
/// and returns the `--json` error.
fn assert_invalid_credential(args: &[&str], expected: &str) -> Value {
    let (stdout, stderr) = text_output(args, None, 2);
    assert_eq!(stdout, "");
    assert_eq!(stderr, expected);
    let out = json_output(&[args, &["--json"]].concat(), None, 2);
    assert_eq!(out["error"]["kind"], "invalid_input");
    out["error"].clone()
}

#[test]
fn invalid_credentials_exit_2_naming_the_flag_and_the_cause() {
    let key = private_key_path();
    let public_key = vector("doc-response-verification", "public_key.pem");
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();

    let args = signed_args(missing, &[]);
    let (stdout, stderr) = text_output(&args, None, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(&format!(
            "error: invalid --private-key (env WXPAY_PRIVATE_KEY): {missing}\ncaused by: cannot read the file\n\
             caused by: "
        )),
        "{stderr}"
    );
    let error = &json_output(&[&args[..], &["--json"]].concat(), None, 2)["error"];
    assert_eq!(error["kind"], "invalid_input");
    assert_eq!(error["flag"], "--private-key");
    assert_eq!(error["env"], "WXPAY_PRIVATE_KEY");
    assert_eq!(error["file"], missing);
    assert_eq!(error["caused_by"][0], "cannot read the file");

    // A public key is not a private key.
    assert_invalid_credential(
        &signed_args(&public_key, &[]),
        &format!(
            "error: invalid --private-key (env WXPAY_PRIVATE_KEY): {public_key}\n\
             caused by: not a PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`, apiclient_key.pem): \
             no usable PRIVATE KEY in the PEM text: no section of this kind\n"
        ),
    );

    let error = assert_invalid_credential(
        &[ORDER_QUERY, &["--mchid", "19000-7291", "--merchant-serial", MERCHANT_SERIAL, "--private-key", &key]]
            .concat(),
        "error: invalid --mchid (env WXPAY_MCHID)\ncaused by: invalid `mchid`: must be 1 to 32 ASCII digits\n",
    );
    assert_eq!(error["flag"], "--mchid");
    assert_eq!(error["field"], "mchid");
    assert_eq!(error["rule"], "must be 1 to 32 ASCII digits");

    assert_invalid_credential(
        &[ORDER_QUERY, &["--mchid", MCHID, "--merchant-serial", "408B-07", "--private-key", &key]].concat(),
        "error: invalid --merchant-serial (env WXPAY_MERCHANT_SERIAL)\n\
         caused by: invalid `merchant_serial`: must be 1 to 64 hexadecimal digits\n",
    );

    assert_invalid_credential(
        &signed_args(&key, &["--public-key", &public_key, "--public-key-id", "KEY_1"]),
        "error: invalid --public-key-id (env WXPAY_PUBLIC_KEY_ID)\ncaused by: invalid `public_key_id`: \
         must be PUB_KEY_ID_ followed by letters, digits or _ (at most 64 bytes)\n",
    );

    // A private key is not a public key, nor a certificate.
    assert_invalid_credential(
        &signed_args(&key, &["--public-key", &key, "--public-key-id", PUBLIC_KEY_ID]),
        &format!(
            "error: invalid --public-key (env WXPAY_PUBLIC_KEY): {key}\ncaused by: no usable PUBLIC KEY in the PEM text: no section of this kind\n"
        ),
    );
    assert_invalid_credential(
        &signed_args(&key, &["--platform-cert", &key]),
        &format!(
            "error: invalid --platform-cert: {key}\ncaused by: no usable CERTIFICATE in the PEM text: no section of this kind\n"
        ),
    );

    // A CERTIFICATE section that is not a certificate: the cause is the X.509 parser's.
    let not_a_cert = dir.path().join("not-a-cert.pem");
    std::fs::write(&not_a_cert, "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n").unwrap();
    let not_a_cert = not_a_cert.to_str().unwrap();
    let (_, stderr) = text_output(&signed_args(&key, &["--platform-cert", not_a_cert]), None, 2);
    assert!(
        stderr.starts_with(&format!(
            "error: invalid --platform-cert: {not_a_cert}\ncaused by: not a usable X.509 certificate\ncaused by: "
        )),
        "{stderr}"
    );

    let short = dir.path().join("apiv3.key");
    std::fs::write(&short, "0123456789abcdef").unwrap();
    let short = short.to_str().unwrap();
    assert_invalid_credential(
        &signed_args(&key, &["--apiv3-key-file", short]),
        &format!(
            "error: invalid --apiv3-key-file (env WXPAY_APIV3_KEY_FILE): {short}\n\
             caused by: invalid `apiv3_key`: must be exactly 32 bytes\n"
        ),
    );
}

#[test]
fn a_valid_apiv3_key_file_is_accepted() {
    let key = private_key_path();
    let dir = tempfile::tempdir().unwrap();
    let apiv3 = dir.path().join("apiv3.key");
    std::fs::write(&apiv3, format!("{}\n", common::vector_text("java-sdk-certificates", "apiv3_key").trim())).unwrap();
    text_output(&signed_args(&key, &["--apiv3-key-file", apiv3.to_str().unwrap()]), None, 0);
}

#[test]
fn invalid_signing_inputs_exit_2() {
    let key = private_key_path();
    let without_inputs = &ORDER_QUERY[..ORDER_QUERY.len() - 4];
    let args = [without_inputs, &signing_flags(&key), &["--nonce", "abc_def"]].concat();
    let (_, stderr) = text_output(&args, None, 2);
    assert_eq!(
        stderr,
        "error: invalid `nonce`: character '_' at byte 3 is not allowed (allowed: ASCII letters and digits)\n"
    );
    for timestamp in ["--timestamp=yesterday", "--timestamp=-1"] {
        let args = [without_inputs, &signing_flags(&key), &[timestamp]].concat();
        let (_, stderr) = text_output(&args, None, 2);
        assert!(stderr.contains("--timestamp"), "{stderr}");
        assert!(!stderr.contains("cannot be used multiple times"), "{stderr}");
    }
}

/// The base64 body of a PEM file, and pieces of it: none may appear in any output.
fn secret_fragments(pem: &str) -> Vec<String> {
    let lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----") && !l.is_empty()).collect();
    let joined = lines.concat();
    let mut fragments: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    // 24-character pieces of the key, so that a key printed re-wrapped or in part is caught too.
    fragments.extend(joined.as_bytes().chunks(24).filter(|c| c.len() == 24).map(|c| String::from_utf8_lossy(c).into()));
    fragments
}

#[test]
fn key_material_never_appears_in_any_output() {
    let key = private_key_path();
    let pem = std::fs::read_to_string(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The same key squeezed onto the BEGIN line: the PEM reader's own error would quote that line.
    let one_line = dir.path().join("one-line.pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    std::fs::write(&one_line, format!("-----BEGIN PRIVATE KEY-----{body}\n-----END PRIVATE KEY-----\n")).unwrap();
    let one_line = one_line.to_str().unwrap();
    // The same key with one base64 character changed: valid PEM, refused by the RSA parser.
    let corrupt = dir.path().join("corrupt.pem");
    let at = pem.find("\n").unwrap() + 200;
    let mut bytes = pem.clone().into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&corrupt, bytes).unwrap();
    let corrupt = corrupt.to_str().unwrap();

    let runs: Vec<(Vec<&str>, i32)> = vec![
        (signed_args(&key, &[]), 0),
        (signed_args(&key, &["--json"]), 0),
        (signed_args(one_line, &[]), 2),
        (signed_args(one_line, &["--json"]), 2),
        (signed_args(corrupt, &[]), 2),
        (signed_args(&key, &["--public-key", one_line, "--public-key-id", PUBLIC_KEY_ID]), 2),
        (signed_args(&key, &["--public-key", &key, "--public-key-id", PUBLIC_KEY_ID, "--json"]), 2),
        (signed_args(&key, &["--platform-cert", one_line]), 2),
        (signed_args(&key, &["--platform-cert", &key]), 2),
        (signed_args(&key, &["--apiv3-key-file", &key]), 2),
        (signed_args(&key, &["--apiv3-key-file", one_line, "--json"]), 2),
        (
            vec![
                "ecommerce",
                "order-query",
                "--decode",
                &key,
                "--public-key",
                one_line,
                "--public-key-id",
                PUBLIC_KEY_ID,
            ],
            2,
        ),
        (vec!["ecommerce", "order-query", "--help"], 0),
    ];
    let fragments = secret_fragments(&pem);
    for (args, code) in runs {
        let output = wxpay(&args).env("WXPAY_PRIVATE_KEY", &key).assert().code(code).get_output().clone();
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            for fragment in &fragments {
                assert!(!text.contains(fragment.as_str()), "key material in the output of {args:?}:\n{text}");
            }
        }
    }
}
