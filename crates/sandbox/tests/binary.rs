//! The `wxpay-sandbox` binary: the JSON line it prints, the files it writes, a raw request to
//! it with nothing but those files, a second run given the first run's keys, and refused
//! invocations.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Raw, Req, exchange_at};
use serde_json::{Value, json};
use wxpay_protocol::security::{KeySet, MerchantCredentials, PublicKeyId, RsaPrivateKey, Verification, VerifyingKey};

const ORDER_QUERY: &str = common::ORDER_QUERY;

/// A running binary, killed when dropped (also when a test fails).
struct Running {
    child: Child,
    line: Value,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `args` and reads the one JSON line it prints.
fn run(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxpay-sandbox"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut running = Running { child, line: Value::Null };
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("the sandbox prints a line at start");
    running.line = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON line ({e}): {line:?}"));
    running
}

fn addr(url: &Value) -> SocketAddr {
    url.as_str().unwrap().split_once("://").unwrap().1.parse().unwrap()
}

fn now() -> i64 {
    // The binary runs on the system clock; a signature is good for 300 s either side.
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn path(line: &Value, file: &str) -> PathBuf {
    PathBuf::from(line["files"][file].as_str().unwrap_or_else(|| panic!("no {file} in {line}")))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// A signed order query, sent raw to `url` (over TLS when `ca` is given), verified with the
/// public key in `dir`.
async fn order_query(line: &Value, url: &Value, ca: Option<&str>, key_line: &Value) -> Raw {
    let key = RsaPrivateKey::from_pkcs8_pem(&read(&path(key_line, "merchant_private_key"))).unwrap();
    let credentials = MerchantCredentials::new(
        key_line["mchid"].as_str().unwrap(),
        key_line["merchant_serial"].as_str().unwrap(),
        key,
    )
    .unwrap();
    let public_key_id = line["public_key_id"].as_str().unwrap();
    let mut req = Req::get(ORDER_QUERY);
    for (name, value) in common::signed_headers(&credentials, "GET", ORDER_QUERY, now(), Some(public_key_id)) {
        req = req.header(&name, &value);
    }
    let addr = addr(url);
    let raw = Raw::parse(exchange_at(addr, ca, &req.to_bytes(addr)).await);
    // Verified with nothing but the files and the ids of the line.
    let mut keys = KeySet::new();
    let id = PublicKeyId::new(public_key_id).unwrap();
    keys.insert(VerifyingKey::from_public_key_pem(id, &read(&path(key_line, "wechatpay_public_key"))).unwrap());
    let http = raw.http();
    let verified = wxpay_protocol::security::verify_response(&http, now(), &keys).map(|v| v.verification().clone());
    assert_eq!(verified, Ok(Verification::Signed { serial: public_key_id.to_owned() }));
    raw
}

#[tokio::test]
async fn the_binary_prints_its_line_writes_its_files_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let running = run(&["--key-dir", dir.path().to_str().unwrap()]);
    let line = &running.line;

    assert_eq!(line["sandbox"], concat!("wxpay-sandbox/", env!("CARGO_PKG_VERSION")));
    assert_eq!(line["mchid"], "1900007291");
    assert!(line["http_url"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{line}");
    assert_eq!(line["cloudpay_url"], line["http_url"]);
    assert!(line["https_url"].as_str().unwrap().starts_with("https://127.0.0.1:"), "{line}");
    let serial = line["merchant_serial"].as_str().unwrap();
    assert!(serial.len() == 40 && serial.bytes().all(|b| b.is_ascii_hexdigit()), "{serial}");
    assert!(line["public_key_id"].as_str().unwrap().starts_with("PUB_KEY_ID_"));
    assert!(line["platform_serial"].as_str().unwrap().bytes().all(|b| b.is_ascii_hexdigit()));
    // The documented limits of every operation (docs/protocol.md §7), from the protocol's specs.
    assert_eq!(
        line["qps"],
        json!({
            "profitsharingreturnquery": 30,
            "profitsharingfinish": 60,
            "certificates": 1000,
            "pay/profitsharingreturnquery": 30,
            "secapi/pay/profitsharingfinish": 60,
        })
    );
    assert_eq!(line["key_dir"], dir.path().to_str().unwrap());

    // Every file is there; private keys open with the TEST ONLY line, public material does not.
    let files = line["files"].as_object().unwrap();
    assert_eq!(files.len(), 14, "{line}");
    for (name, file) in files {
        if name == "dir" {
            continue;
        }
        let file = PathBuf::from(file.as_str().unwrap_or_else(|| panic!("{name} was not written")));
        assert!(file.starts_with(dir.path()) && file.is_file(), "{name}: {}", file.display());
        let text = read(&file);
        let test_only =
            text.starts_with("# TEST ONLY: generated by wxpay-sandbox. Never use these keys with WeChat Pay.\n");
        assert_eq!(test_only, name.ends_with("private_key"), "{name}");
        if name.ends_with("private_key") {
            assert!(text.contains("-----BEGIN PRIVATE KEY-----"), "{name}");
        }
    }
    assert!(read(&dir.path().join("README.txt")).starts_with("TEST ONLY."));
    assert_eq!(read(&path(line, "apiv3_key")).len(), 32);
    assert!(read(&path(line, "platform_cert")).starts_with("-----BEGIN CERTIFICATE-----"));

    // v3 over HTTPS, trusting tls_ca_cert.pem, signed with merchant_private_key.pem.
    let ca = read(&path(line, "tls_ca_cert"));
    let raw = order_query(line, &line["https_url"], Some(&ca), line).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json()["status"], "PROCESSING");

    // CloudPay over HTTP.
    let body = json!({"sub_mch_id": common::SUB, "nonce_str": "N1", "transaction_id": "4200000000000000000000000036", "offset": 30});
    let cloudpay = addr(&line["cloudpay_url"]);
    let raw = Raw::parse(exchange_at(cloudpay, None, &Req::cloudpay("queryrefund", &body).to_bytes(cloudpay)).await);
    assert_eq!((raw.json()["refund_count"].clone(), raw.json()["total_refund_count"].clone()), (json!(6), json!(36)));

    // A second run with the first run's keys, and most other flags.
    let first = dir.path();
    let second = tempfile::tempdir().unwrap();
    let f = |name: &str| first.join(name).to_str().unwrap().to_owned();
    let again = run(&[
        "--key-dir",
        second.path().to_str().unwrap(),
        "--tls",
        "off",
        "--listen",
        "127.0.0.1:0",
        "--mchid",
        "1900007291",
        "--merchant-serial",
        serial,
        "--merchant-public-key",
        &f("merchant_public_key.pem"),
        "--platform-private-key",
        &f("wechatpay_private_key.pem"),
        "--public-key-id",
        line["public_key_id"].as_str().unwrap(),
        "--platform-cert",
        &f("platform_cert.pem"),
        "--platform-cert-key",
        &f("platform_private_key.pem"),
        "--apiv3-key-file",
        &f("apiv3_key"),
        "--settle-after-queries",
        "0",
        "--qps",
        "profitsharingreturnquery=0",
        "--cloudpay-wrapped",
        "--cloudpay-keys",
        "camel",
        "--cloudpay-lists",
        "arrays",
        "--cloudpay-numbers-as-strings",
    ]);
    let line2 = &again.line;
    for key in ["mchid", "merchant_serial", "public_key_id", "platform_serial"] {
        assert_eq!(line2[key], line[key], "{key}");
    }
    assert_eq!(line2["https_url"], Value::Null);
    assert_eq!(line2["qps"]["profitsharingreturnquery"], 0);
    // Private keys given as files are not copied; public material and the CA are written.
    assert_eq!(line2["files"]["merchant_private_key"], Value::Null);
    assert_eq!(line2["files"]["apiv3_key"], Value::Null);
    assert!(path(line2, "wechatpay_public_key").is_file());
    assert!(path(line2, "tls_ca_cert").is_file());
    // v3 over plain HTTP, signed with the first run's merchant key: settled at once.
    let raw = order_query(line2, &line2["http_url"], None, line).await;
    assert_eq!(raw.json()["status"], "FINISHED");
    // CloudPay in the cloud SDK's shape, and the return query refused by its limit of 0.
    let cloudpay = addr(&line2["cloudpay_url"]);
    let raw = Raw::parse(exchange_at(cloudpay, None, &Req::cloudpay("queryrefund", &body).to_bytes(cloudpay)).await);
    let inner = &raw.json()["respdata"];
    assert_eq!(
        (inner["refundCount"].clone(), inner["refundIdList"][0].clone()),
        (json!("6"), json!("5030000000000000000000000030"))
    );
    let rq = json!({"sub_mch_id": common::SUB, "nonce_str": "N1", "out_order_no": "P20150806125346", "out_return_no": "R20150806125346"});
    let raw = Raw::parse(
        exchange_at(cloudpay, None, &Req::cloudpay("profitsharingreturnquery", &rq).to_bytes(cloudpay)).await,
    );
    assert_eq!(raw.json()["respdata"]["errorCode"], "FREQUENCY_LIMITED");
}

/// Runs the binary expecting it to exit with `code`, and returns its stderr.
fn refused(args: &[&str], code: i32) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxpay-sandbox"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(code), "{args:?}: {stderr}");
    stderr
}

#[test]
fn bad_invocations_exit_2() {
    let missing = "/nonexistent/wxpay-sandbox-test";
    let stderr = refused(&["--fixtures", missing], 2);
    assert!(stderr.contains("error: cannot read /nonexistent/wxpay-sandbox-test"), "{stderr}");
    let stderr = refused(&["--listen", "localhost"], 2);
    assert!(stderr.contains("--listen and --tls take ADDR:PORT or off"), "{stderr}");
    let stderr = refused(&["--platform-cert", missing], 2);
    assert!(stderr.contains("--platform-cert-key"), "{stderr}");
    let stderr = refused(&["--qps", "refund=3"], 2);
    assert!(stderr.contains("unknown operation"), "{stderr}");
    let stderr = refused(&["--settle-after-queries", "1", "--settle-after-secs", "5"], 2);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[tokio::test]
async fn the_binary_takes_the_v2_flags_and_names_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("my_apiv2_key");
    let key_text = "0123456789abcdefghijABCDEFGHIJ01";
    std::fs::write(&key_file, format!("{key_text}\n")).unwrap();
    let keys = dir.path().join("keys");
    let running = run(&[
        "--key-dir",
        keys.to_str().unwrap(),
        "--apiv2-key-file",
        key_file.to_str().unwrap(),
        "--appid",
        "wx2421b1c4370ec43b",
        "--qps",
        "pay/refundquery=7",
    ]);
    let line = &running.line;
    assert_eq!(line["appid"], "wx2421b1c4370ec43b");
    assert_eq!(line["mchid"], "1900007291");
    assert_eq!(line["apiv2_key"], key_file.to_str().unwrap(), "the given file, not copied");
    assert!(!keys.join("apiv2_key").exists());
    assert_eq!(line["merchant_cert"], keys.join("merchant_cert.pem").to_str().unwrap());
    assert_eq!(line["merchant_key"], line["files"]["merchant_private_key"]);
    assert_eq!(line["client_ca"], Value::Null);
    assert_eq!(line["qps"]["pay/refundquery"], 7);
    assert!(!line.to_string().contains(key_text), "no key in the line");

    // A v2 refund query signed with the given key and the line's ids, over plain HTTP.
    let merchant = wxpay_protocol::v2::Merchant::new(
        wxpay_protocol::security::Mchid::new(line["mchid"].as_str().unwrap()).unwrap(),
        wxpay_protocol::v2::AppId::new(line["appid"].as_str().unwrap()).unwrap(),
        wxpay_protocol::v2::ApiV2Key::new(key_text.as_bytes()).unwrap(),
    );
    let request = wxpay_protocol::cloudpay::RefundQueryRequest::new(
        wxpay_protocol::SubMchId::new(common::SUB).unwrap(),
        wxpay_protocol::RefundLookup::TransactionId(
            wxpay_protocol::TransactionId::new("1217752501201407033233368018").unwrap(),
        ),
    )
    .with_nonce(wxpay_protocol::NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS").unwrap());
    let call = merchant.call(request);
    let built = wxpay_protocol::Operation::build(&call, &wxpay_protocol::BaseUrl::v2_default()).unwrap();
    let req = Req::post(built.uri().path()).body(built.body().clone());
    let addr = addr(&line["http_url"]);
    let raw = Raw::parse(exchange_at(addr, None, &req.to_bytes(addr)).await);
    let answer = wxpay_protocol::Operation::parse(&call, &raw.http()).unwrap();
    assert_eq!(answer.refund_count, 1);

    let stderr = refused(&["--appid", "not an app id"], 2);
    assert!(stderr.contains("--appid is not a valid app id"), "{stderr}");
    let stderr = refused(&["--apiv2-key-file", key_file.parent().unwrap().join("nope").to_str().unwrap()], 2);
    assert!(stderr.contains("cannot read"), "{stderr}");
    let short = dir.path().join("short");
    std::fs::write(&short, "secret-but-short").unwrap();
    let stderr = refused(&["--apiv2-key-file", short.to_str().unwrap()], 2);
    assert!(!stderr.contains("secret-but-short"), "{stderr}");
    let stderr = refused(&["--client-ca", short.to_str().unwrap()], 2);
    assert!(stderr.contains("--client-ca holds no readable PEM certificate"), "{stderr}");
}
