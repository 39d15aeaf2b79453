//! `wxpay cloudpay ... --wire v2`: the CloudPay operations on WeChat Pay's v2 API. The signed XML
//! of `--dry-run` is the protocol's (built again here with `v2::Merchant`), `--decode` verifies
//! an answer's `sign` with the API v2 key (or says it did not), missing settings are named, the
//! API v2 key never reaches any output, and send and `--batch` go through a small v2 server on
//! loopback that verifies every request as WeChat Pay does.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::{json_output, text_output, wxpay};
use serde_json::{Value, json};
use wxpay_protocol::cloudpay::{FinishRequest, RefundQueryRequest, ReturnQueryRequest};
use wxpay_protocol::security::Mchid;
use wxpay_protocol::v2::{self, ApiV2Key, AppId, Fields, Merchant, SignType, SubAppId};
use wxpay_protocol::{
    Description, NonceStr, Operation, OrderRef, OutOrderNo, OutReturnNo, RefundLookup, SubMchId, TransactionId,
};

/// WeChat Pay's published API v2 key (docs/protocol.md §5).
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
const MCH_ID: &str = "1900000100";
const APPID: &str = "wx8888888888888888";
const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
const SUB_MCH: &str = "1900000109";
const TRANSACTION: &str = "4208450740201411110007820472";

/// The API v2 key, in a file of a temporary directory.
struct KeyFile {
    dir: tempfile::TempDir,
    path: String,
}

fn key_file() -> KeyFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apiv2_key");
    std::fs::write(&path, format!("{KEY}\n")).unwrap();
    KeyFile { path: path.to_str().unwrap().to_owned(), dir }
}

fn key() -> ApiV2Key {
    ApiV2Key::new(KEY.as_bytes()).unwrap()
}

fn merchant() -> Merchant {
    Merchant::new(Mchid::new(MCH_ID).unwrap(), AppId::new(APPID).unwrap(), key())
}

/// `--wire v2` and the merchant's flags, the key in `key`.
fn v2_flags(key: &str) -> Vec<String> {
    ["--wire", "v2", "--mchid", MCH_ID, "--appid", APPID, "--apiv2-key-file", key].map(str::to_owned).to_vec()
}

/// The finish fields of the examples.
const FINISH: &[&str] = &[
    "cloudpay",
    "finish",
    "--sub-mch-id",
    SUB_MCH,
    "--transaction-id",
    TRANSACTION,
    "--out-order-no",
    "P20150806125346",
    "--description",
    "分账已完成",
];

/// The refund query fields of the examples.
const REFUND_QUERY: &[&str] = &["cloudpay", "refund-query", "--sub-mch-id", SUB_MCH, "--transaction-id", TRANSACTION];

fn args<'a>(parts: &'a [&'a [String]]) -> Vec<&'a str> {
    parts.iter().flat_map(|p| p.iter().map(String::as_str)).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Splits human dry-run output into the request line, the header lines and the body.
fn split_request(text: &str) -> (&str, Vec<&str>, &str) {
    let (head, rest) = text.split_once("\n\n").expect("a blank line after the headers");
    let mut lines = head.lines();
    (lines.next().expect("a request line"), lines.collect(), rest.strip_suffix('\n').expect("a final newline"))
}

/// Asserts that the `sign` of `xml` is the v2 signature of its other fields.
fn assert_signed(xml: &str, sign_type: SignType) -> Fields {
    let mut fields = Fields::from_xml(xml.as_bytes()).unwrap();
    let sign = fields.remove("sign").expect("a sign field");
    assert_eq!(fields.get("sign_type"), Some(sign_type.as_str()));
    assert_eq!(sign, v2::sign(&fields, sign_type, &key()), "{xml}");
    fields
}

#[test]
fn finish_dry_run_prints_the_exact_signed_xml() {
    let key = key_file();
    let (stdout, stderr) = text_output(
        &args(&[&strings(FINISH), &v2_flags(&key.path), &strings(&["--dry-run", "--nonce-str", NONCE])]),
        None,
        0,
    );
    assert_eq!(stderr, "");
    let (request_line, headers, body) = split_request(&stdout);
    assert_eq!(request_line, "POST https://api.mch.weixin.qq.com/secapi/pay/profitsharingfinish");
    assert_eq!(headers, ["content-type: text/xml; charset=utf-8"]);
    // The XML built independently, with the protocol's merchant.
    let request = FinishRequest::new(
        SubMchId::new(SUB_MCH).unwrap(),
        TransactionId::new(TRANSACTION).unwrap(),
        OutOrderNo::new("P20150806125346").unwrap(),
        Description::new("分账已完成").unwrap(),
    )
    .with_nonce(NonceStr::new(NONCE).unwrap());
    let expected = merchant().call(request).fields().unwrap();
    assert_eq!(body, expected.to_xml());
    let fields = assert_signed(body, SignType::HmacSha256);
    assert_eq!(fields.get("mch_id"), Some(MCH_ID));
    assert_eq!(fields.get("appid"), Some(APPID));
    assert!(!stdout.contains(KEY), "the key is never printed");

    // The same in JSON, and reproducible; the base URL from WXPAY_V2_URL.
    let run = || {
        let mut cmd = wxpay(&args(&[
            &strings(FINISH),
            &v2_flags(&key.path),
            &strings(&["--dry-run", "--json", "--nonce-str", NONCE]),
        ]));
        cmd.env("WXPAY_V2_URL", "http://127.0.0.1:9");
        let out = cmd.assert().code(0).get_output().stdout.clone();
        serde_json::from_slice::<Value>(&out).unwrap()
    };
    let out = run();
    assert_eq!(out, run());
    assert_eq!(out["url"], "http://127.0.0.1:9/secapi/pay/profitsharingfinish");
    assert_eq!(out["method"], "POST");
    assert_eq!(out["body"], expected.to_xml());
    assert_eq!(out.get("signed_message"), None);
}

#[test]
fn return_query_dry_run_is_signed_and_refund_query_takes_md5_and_sub_appid() {
    let key = key_file();
    let return_query = strings(&[
        "cloudpay",
        "return-query",
        "--dry-run",
        "--nonce-str",
        NONCE,
        "--sub-mch-id",
        SUB_MCH,
        "--out-order-no",
        "P20150806125346",
        "--out-return-no",
        "R20150806125346",
    ]);
    let (stdout, _) = text_output(&args(&[&return_query, &v2_flags(&key.path)]), None, 0);
    let (request_line, _, body) = split_request(&stdout);
    assert_eq!(request_line, "POST https://api.mch.weixin.qq.com/pay/profitsharingreturnquery");
    let request = ReturnQueryRequest::new(
        SubMchId::new(SUB_MCH).unwrap(),
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346").unwrap()),
        OutReturnNo::new("R20150806125346").unwrap(),
    )
    .with_nonce(NonceStr::new(NONCE).unwrap());
    assert_eq!(body, merchant().call(request).fields().unwrap().to_xml());

    let md5 = strings(&["--dry-run", "--nonce-str", NONCE, "--sign-type", "MD5", "--sub-appid", "wx1111111111111111"]);
    let (stdout, _) = text_output(&args(&[&strings(REFUND_QUERY), &v2_flags(&key.path), &md5]), None, 0);
    let (request_line, _, body) = split_request(&stdout);
    assert_eq!(request_line, "POST https://api.mch.weixin.qq.com/pay/refundquery");
    let request = RefundQueryRequest::new(
        SubMchId::new(SUB_MCH).unwrap(),
        RefundLookup::TransactionId(TransactionId::new(TRANSACTION).unwrap()),
    )
    .with_nonce(NonceStr::new(NONCE).unwrap());
    let call = merchant()
        .call(request)
        .with_sign_type(SignType::Md5)
        .unwrap()
        .with_sub_appid(SubAppId::new("wx1111111111111111").unwrap());
    assert_eq!(body, call.fields().unwrap().to_xml());
    let fields = assert_signed(body, SignType::Md5);
    assert_eq!(fields.get("sub_appid"), Some("wx1111111111111111"));
}

#[test]
fn finish_with_md5_is_invalid_input_naming_sign_type() {
    let key = key_file();
    let flags = strings(&["--dry-run", "--sign-type", "MD5"]);
    let (stdout, stderr) = text_output(&args(&[&strings(FINISH), &v2_flags(&key.path), &flags]), None, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("invalid `sign_type`: must be one of HMAC-SHA256 for this operation"), "{stderr}");
    let json = strings(&["--dry-run", "--sign-type", "MD5", "--json"]);
    let out = json_output(&args(&[&strings(FINISH), &v2_flags(&key.path), &json]), None, 2);
    assert_eq!(out["error"]["kind"], "invalid_input");
    assert_eq!(out["error"]["field"], "sign_type");
    // The v2 wire's own flags are refused on the CloudPay wire rather than ignored.
    let (_, stderr) =
        text_output(&args(&[&strings(REFUND_QUERY), &strings(&["--dry-run", "--sign-type", "MD5"])]), None, 2);
    assert!(stderr.contains("--sign-type applies to --wire v2 only"), "{stderr}");
    let (_, stderr) =
        text_output(&args(&[&strings(REFUND_QUERY), &strings(&["--dry-run", "--sub-appid", "wx1"])]), None, 2);
    assert!(stderr.contains("--sub-appid applies to --wire v2 only"), "{stderr}");
    let (_, stderr) = text_output(&args(&[&strings(FINISH), &strings(&["--wire", "v3"])]), None, 2);
    assert!(stderr.contains("invalid value 'v3'"), "{stderr}");
}

#[test]
fn missing_v2_settings_are_named_in_order() {
    let key = key_file();
    let full = v2_flags(&key.path);
    let cases: [(&[usize], &str); 3] = [
        (&[2, 3], "missing --mchid (env WXPAY_MCHID)"),
        (&[4, 5], "missing --appid (env WXPAY_APPID)"),
        (&[6, 7], "missing --apiv2-key-file (env WXPAY_APIV2_KEY_FILE)"),
    ];
    for (leave_out, message) in cases {
        let flags: Vec<String> =
            full.iter().enumerate().filter(|(i, _)| !leave_out.contains(i)).map(|(_, f)| f.clone()).collect();
        for mode in [&["--dry-run"][..], &["--v2-url", "http://127.0.0.1:9"][..]] {
            let (stdout, stderr) = text_output(&args(&[&strings(FINISH), &flags, &strings(mode)]), None, 2);
            assert_eq!(stdout, "");
            assert_eq!(stderr.lines().next(), Some(format!("error: {message}").as_str()), "{stderr}");
        }
        let json = json_output(&args(&[&strings(FINISH), &flags, &strings(&["--dry-run", "--json"])]), None, 2);
        assert_eq!(json["error"]["rule"], "required", "{json}");
    }
    // An appid that breaks the protocol's rule is named by its field.
    let mut flags = full.clone();
    flags[5] = "wx-1".to_owned();
    let (_, stderr) = text_output(&args(&[&strings(FINISH), &flags, &strings(&["--dry-run"])]), None, 2);
    assert!(stderr.starts_with("error: invalid `appid`"), "{stderr}");
}

#[test]
fn the_apiv2_key_comes_from_a_variable_or_the_config_file_and_is_never_shown() {
    let key = key_file();
    let dry_run = |extra: &[&str], env: &[(&str, &str)], code: i32| {
        let mut cmd = wxpay(&args(&[
            &strings(FINISH),
            &strings(&["--wire", "v2", "--mchid", MCH_ID, "--dry-run", "--nonce-str", NONCE, "-vv"]),
            &strings(extra),
        ]));
        for (name, value) in env {
            cmd.env(name, value);
        }
        let output = cmd.assert().code(code).get_output().clone();
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            for window in 0..KEY.len() - 8 {
                assert!(!text.contains(&KEY[window..window + 8]), "{:?} shown in:\n{text}", &KEY[window..window + 8]);
            }
        }
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (with_file, _) = dry_run(&["--appid", APPID, "--apiv2-key-file", &key.path], &[], 0);
    // WXPAY_APIV2_KEY holds the key itself; the same signature.
    let (with_contents, _) = dry_run(&["--appid", APPID], &[("WXPAY_APIV2_KEY", KEY)], 0);
    assert_eq!(with_file, with_contents);
    // The config file names the key's file (relative to its directory) and the appid.
    let config = key.dir.path().join("wxpay.toml");
    std::fs::write(&config, format!("appid = \"{APPID}\"\napiv2_key_file = \"apiv2_key\"\n")).unwrap();
    let (with_config, _) = dry_run(&["--config", config.to_str().unwrap()], &[], 0);
    assert_eq!(with_file, with_config);
    // The key itself where a path is expected: a flag, its variable, the config file.
    let wrong_config = key.dir.path().join("wrong.toml");
    std::fs::write(&wrong_config, format!("appid = \"{APPID}\"\napiv2_key_file = \"{KEY}\"\n")).unwrap();
    /// Extra flags, and variables.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case<'_>; 3] = [
        (&["--appid", APPID, "--apiv2-key-file", KEY], &[]),
        (&["--appid", APPID], &[("WXPAY_APIV2_KEY_FILE", KEY)]),
        (&["--config", wrong_config.to_str().unwrap()], &[]),
    ];
    for (extra, env) in cases {
        let (stdout, stderr) = dry_run(extra, env, 2);
        assert_eq!(stdout, "");
        assert!(stderr.starts_with("error: invalid --apiv2-key-file (env WXPAY_APIV2_KEY_FILE)"), "{stderr}");
        assert!(stderr.contains("looks like key content, not a path"), "{stderr}");
        assert!(stderr.contains("or the contents in WXPAY_APIV2_KEY"), "{stderr}");
        let mut json_extra = extra.to_vec();
        json_extra.push("--json");
        let (stdout, _) = dry_run(&json_extra, env, 2);
        let out: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(out["error"]["flag"], "--apiv2-key-file");
        assert_eq!(out["error"].get("file"), None);
    }
    // Contents and a path together are refused, whichever way the path comes.
    let (_, stderr) = dry_run(&["--appid", APPID, "--apiv2-key-file", &key.path], &[("WXPAY_APIV2_KEY", KEY)], 2);
    assert!(stderr.contains("error: invalid WXPAY_APIV2_KEY"), "{stderr}");
    assert!(stderr.contains("--apiv2-key-file (env WXPAY_APIV2_KEY_FILE) is given too"), "{stderr}");
    // A key of the wrong length, from the variable: named, not shown.
    let (_, stderr) = dry_run(&["--appid", APPID], &[("WXPAY_APIV2_KEY", &KEY[..20])], 2);
    assert!(stderr.starts_with("error: invalid WXPAY_APIV2_KEY"), "{stderr}");
    assert!(stderr.contains("must be exactly 32 bytes"), "{stderr}");
}

/// A finish answer (docs/protocol.md §8.3) on the v2 wire, signed with HMAC-SHA256.
fn finish_answer() -> String {
    let seed = json!({
        "return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS",
        "mch_id": MCH_ID, "sub_mch_id": SUB_MCH, "appid": APPID, "nonce_str": NONCE,
        "receiver": "{\"type\":\"MERCHANT_ID\",\"account\":\"190001001\"}",
        "transaction_id": TRANSACTION, "out_order_no": "P20150806125346",
        "order_id": "3008450740201411110007820472",
    });
    let xml = v2::encode_answer(seed.to_string().as_bytes(), &[], &key(), SignType::HmacSha256).unwrap();
    String::from_utf8(xml).unwrap()
}

#[test]
fn decode_verifies_the_sign_with_the_key_or_says_it_did_not() {
    let key = key_file();
    let answer = finish_answer();
    let decode = |extra: &[String], input: &str, code: i32| {
        let mut cmd = wxpay(&args(&[&strings(&["cloudpay", "finish", "--decode", "-", "--json"]), extra]));
        cmd.write_stdin(input.as_bytes().to_vec());
        let output = cmd.assert().code(code).get_output().clone();
        let stdout: Value = serde_json::from_slice(&output.stdout).unwrap();
        (stdout, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let with_key = strings(&["--wire", "v2", "--apiv2-key-file", &key.path]);
    let (out, stderr) = decode(&with_key, &answer, 0);
    assert_eq!(stderr, "");
    assert_eq!(out["out_order_no"], "P20150806125346");
    assert_eq!(out["mch_id"], MCH_ID);
    assert_eq!(out["appid"], APPID);
    assert_eq!(out["receiver"]["account"], "190001001");
    let fields = Fields::from_xml(answer.as_bytes()).unwrap();
    let shown = out.to_string();
    assert!(shown.contains(fields.get("sign").unwrap()) && shown.contains(NONCE), "extra fields kept: {out}");
    // The key from its content variable, and the answer as a raw HTTP response.
    let mut cmd = wxpay(&["cloudpay", "finish", "--wire", "v2", "--decode", "-", "--json"]);
    cmd.env("WXPAY_APIV2_KEY", KEY).write_stdin(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{answer}",
        answer.len()
    ));
    cmd.assert().code(0);

    // One byte changed: refused, exit 4.
    let tampered = answer.replace("P20150806125346", "P20150806125347");
    let (out, _) = decode(&with_key, &tampered, 4);
    assert_eq!(out["error"]["kind"], "unverifiable", "{out}");
    // Verified with the wrong algorithm: refused too.
    let md5 = strings(&["--wire", "v2", "--apiv2-key-file", &key.path, "--sign-type", "MD5"]);
    decode(&md5, &answer, 4);
    // Not XML.
    let (out, _) = decode(&with_key, "{\"return_code\":\"SUCCESS\"}", 4);
    assert_eq!(out["error"]["kind"], "malformed", "{out}");

    // Without a key: read unchecked, and said so on standard error.
    let (out, stderr) = decode(&strings(&["--wire", "v2"]), &tampered, 0);
    assert_eq!(out["out_order_no"], "P20150806125347");
    assert!(stderr.contains("note: v2 answer signature not verified"), "{stderr}");
    // A FAIL answer (unsigned, as WeChat Pay sends them) is the API error it reports.
    let fail = "<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>";
    let (out, _) = decode(&with_key, fail, 3);
    assert_eq!(out["error"]["kind"], "api", "{out}");
}

/// A v2 server on loopback (plain http, which the client sends to loopback only): it verifies
/// each request as WeChat Pay does (`v2::read_request`) and answers signed XML.
struct V2Server {
    url: String,
    /// `path sign_type` of each request verified.
    seen: Arc<Mutex<Vec<String>>>,
}

impl V2Server {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        Self { url, seen }
    }
}

/// Answers the requests of one connection.
fn serve(stream: TcpStream, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let answer = answer(&path, &body, log);
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n", answer.len());
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&answer).unwrap();
    }
}

/// The signed answer to a request to `path`, or a FAIL answer saying why it was refused.
fn answer(path: &str, body: &[u8], log: &Mutex<Vec<String>>) -> Vec<u8> {
    let fail = |why: String| format!("<xml><return_code>FAIL</return_code><return_msg>{why}</return_msg></xml>");
    let (json, sign_type) = match path {
        "/pay/profitsharingreturnquery" => match v2::read_request::<ReturnQueryRequest>(body, &key()) {
            Ok(received) => {
                let order = Fields::from_xml(body).unwrap();
                assert_eq!(received.request.sub_merchant(), Some(SUB_MCH));
                let json = json!({
                    "return_code": "SUCCESS", "mch_id": received.mch_id, "sub_mch_id": SUB_MCH, "appid": APPID,
                    "nonce_str": NONCE, "order_id": "3008450740201411110007820472",
                    "out_order_no": order.get("out_order_no"), "out_return_no": order.get("out_return_no"),
                    "return_no": "3008450740201411110007820472", "return_account_type": "MERCHANT_ID",
                    "return_account": "86693852", "return_amount": 888, "description": "用户退款",
                    "result": "SUCCESS", "finish_time": "20180608170132",
                });
                (json, received.sign_type)
            }
            Err(e) => return fail(e.to_string()).into_bytes(),
        },
        "/pay/refundquery" => match v2::read_request::<RefundQueryRequest>(body, &key()) {
            Ok(received) => {
                let json = json!({
                    "return_code": "SUCCESS", "result_code": "SUCCESS", "mch_id": received.mch_id,
                    "appid": APPID, "sub_mch_id": SUB_MCH, "nonce_str": NONCE,
                    "sub_appid": received.sub_appid.map(|s| s.as_str().to_owned()),
                    "transaction_id": TRANSACTION, "out_trade_no": "T1", "total_fee": 100, "cash_fee": 100,
                    "refund_count": 1, "refund_id_0": "50000000382019052709732678859",
                    "out_refund_no_0": "R1", "refund_fee_0": 100, "refund_status_0": "SUCCESS",
                    "refund_success_time_0": "2016-07-25 15:26:26",
                });
                (json, received.sign_type)
            }
            Err(e) => return fail(e.to_string()).into_bytes(),
        },
        other => return fail(format!("no such path {other}")).into_bytes(),
    };
    log.lock().unwrap().push(format!("{path} {sign_type}"));
    v2::encode_answer(json.to_string().as_bytes(), &[], &key(), sign_type).unwrap()
}

#[test]
fn send_and_batch_go_out_over_v2_verified_both_ways() {
    let key = key_file();
    let server = V2Server::start();
    let url = strings(&["--v2-url", &server.url]);
    let return_query = strings(&[
        "cloudpay",
        "return-query",
        "--sub-mch-id",
        SUB_MCH,
        "--out-order-no",
        "P20150806125346",
        "--out-return-no",
        "R20150806125346",
    ]);
    let out = json_output(&args(&[&return_query, &v2_flags(&key.path), &url, &strings(&["--json"])]), None, 0);
    assert_eq!(out["result"], "SUCCESS");
    assert_eq!(out["return_amount"], 888);
    assert_eq!(out["mch_id"], MCH_ID);
    let (table, _) = text_output(&args(&[&return_query, &v2_flags(&key.path), &url]), None, 0);
    assert!(table.contains("R20150806125346") && table.contains("appid"), "{table}");

    // The refund query, MD5-signed, every page.
    let md5 = strings(&["--sign-type", "MD5", "--all-pages", "--json", "--sub-appid", "wx1111111111111111"]);
    let out = json_output(&args(&[&strings(REFUND_QUERY), &v2_flags(&key.path), &url, &md5]), None, 0);
    assert_eq!(out["refund_count"], 1, "{out}");
    assert_eq!(out["refunds"][0]["out_refund_no"], "R1");

    // A batch: every row goes out over v2 with the same flags.
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.csv");
    std::fs::write(&rows, "out_order_no,out_return_no\nP1,R1\nP2,R2\nP3,\n").unwrap();
    let batch = strings(&["cloudpay", "return-query", "--sub-mch-id", SUB_MCH, "--batch", rows.to_str().unwrap()]);
    let (stdout, stderr) = text_output(&args(&[&batch, &v2_flags(&key.path), &url]), None, 2);
    let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{stdout}\n{stderr}");
    for line in &lines {
        match line["row"].as_u64() {
            Some(3) => assert_eq!(line["error"]["field"], "out_return_no", "{line}"),
            _ => assert_eq!(line["result"]["out_return_no"], line["input"]["out_return_no"], "{line}"),
        }
    }
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.iter().filter(|s| *s == "/pay/profitsharingreturnquery HMAC-SHA256").count(), 4, "{seen:?}");
    assert!(seen.contains(&"/pay/refundquery MD5".to_owned()), "{seen:?}");
    // A batch without the merchant's key fails once, before any row is sent.
    let (stdout, stderr) =
        text_output(&args(&[&batch, &url, &strings(&["--wire", "v2", "--mchid", MCH_ID, "--appid", APPID])]), None, 2);
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: missing --apiv2-key-file"), "{stderr}");
}

#[test]
fn finish_over_v2_without_a_client_certificate_is_refused_before_sending() {
    let key = key_file();
    let server = V2Server::start();
    let url = strings(&["--v2-url", &server.url]);
    let (stdout, stderr) = text_output(&args(&[&strings(FINISH), &v2_flags(&key.path), &url]), None, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("needs the merchant API certificate as a TLS client certificate"), "{stderr}");
    assert!(stderr.contains("hint: give --client-cert and --client-key"), "{stderr}");
    let out = json_output(&args(&[&strings(FINISH), &v2_flags(&key.path), &url, &strings(&["--json"])]), None, 2);
    assert_eq!(out["error"]["kind"], "invalid_input");
    assert_eq!(out["error"]["flags"], json!(["--client-cert", "--client-key"]));
    assert!(server.seen.lock().unwrap().is_empty(), "nothing was sent");
    // Half a pair is named.
    let cert = strings(&["--client-cert", &key.path]);
    let (_, stderr) = text_output(&args(&[&strings(FINISH), &v2_flags(&key.path), &url, &cert]), None, 2);
    assert!(stderr.starts_with("error: missing --client-key (env WXPAY_CLIENT_KEY)"), "{stderr}");
}

#[test]
fn the_embedded_sandbox_serves_the_v2_wire_with_its_own_merchant_and_certificate() {
    // No merchant flags: with --sandbox the calls are the embedded sandbox's merchant's, and the
    // finish presents its merchant certificate (mutual TLS on /secapi/).
    let finish = json_output(&args(&[&strings(FINISH), &strings(&["--wire", "v2", "--sandbox", "--json"])]), None, 0);
    assert_eq!(finish["order_id"], "3008450740201411110007820472");
    assert_eq!(finish["appid"], APPID);
    assert_eq!(finish["sign"].as_str().map(str::len), Some(64));
    let refunds = json_output(
        &[
            "cloudpay",
            "refund-query",
            "--sub-mch-id",
            SUB_MCH,
            "--transaction-id",
            "4200000000000000000000000036",
            "--wire",
            "v2",
            "--sign-type",
            "MD5",
            "--sandbox",
            "--all-pages",
            "--json",
        ],
        None,
        0,
    );
    assert_eq!(refunds["refunds"].as_array().map(Vec::len), Some(36), "{refunds}");
}

#[test]
fn help_shows_the_v2_flags_under_their_heading_on_cloudpay_operations_only() {
    for op in ["return-query", "finish", "refund-query"] {
        let output = wxpay(&["cloudpay", op, "--help"]).env("COLUMNS", "120").assert().code(0).get_output().clone();
        let help = String::from_utf8(output.stdout).unwrap();
        let heading = help.find("\nv2 wire:\n").unwrap_or_else(|| panic!("no v2 wire heading:\n{help}"));
        for flag in [
            "--wire",
            "--v2-url",
            "--mchid",
            "--appid",
            "--apiv2-key-file",
            "--client-cert",
            "--client-key",
            "--sign-type",
        ] {
            let at = help.find(&format!("      {flag} ")).unwrap_or_else(|| panic!("no {flag} in:\n{help}"));
            assert!(at > heading, "{flag} is not under the v2 wire heading:\n{help}");
        }
        assert_eq!(help.contains("--sub-appid"), op == "refund-query", "{help}");
    }
    for op in ["order-query", "return-query"] {
        let output = wxpay(&["ecommerce", op, "--help"]).assert().code(0).get_output().clone();
        let help = String::from_utf8(output.stdout).unwrap();
        for flag in ["v2 wire:", "--wire <", "--appid", "--apiv2-key-file <", "--client-cert", "--sign-type"] {
            assert!(!help.contains(flag), "{flag} in ecommerce {op}:\n{help}");
        }
    }
}
