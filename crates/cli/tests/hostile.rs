//! Hostile answers and files (issue 11), through the built binary: terminal injection, bounded
//! readers, silent loss and ambiguity as exit 4, files that are not this tool's refused.

mod common;

use common::text_output;

fn refund_answer(extra: &str) -> String {
    format!(
        r#"{{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":300,"cash_fee":300{extra}}}"#
    )
}

#[test]
fn values_from_an_answer_are_escaped_in_tables_and_errors() {
    // A refund id with a newline that would forge a `result SUCCESS` line, and ESC / BEL / CR /
    // C1 / NUL that would drive the terminal.
    let body = refund_answer(
        r#","refund_count":1,"refund_id_0":"5001\nresult  SUCCESS\u001b[2J\u0007\r\u0000\u009b","out_refund_no_0":"R1","refund_fee_0":1,"refund_status_0":"SUCCESS""#,
    );
    let (stdout, _) = text_output(&["cloudpay", "refund-query", "--decode", "-"], Some(body.as_bytes()), 0);
    assert!(!stdout.chars().any(|c| c.is_control() && c != '\n'), "{stdout:?}");
    assert!(!stdout.lines().any(|l| l.starts_with("result")), "{stdout}");
    assert!(stdout.contains(r"5001\nresult  SUCCESS\x1B[2J\x07\r\x00\xC2\x9B"), "{stdout}");

    // An error line whose text comes from the answer (the key of a duplicated field).
    let body = r#"{"return_code":"SUCCESS","x\u001b]0;pwned\u0007\n":1,"x\u001b]0;pwned\u0007\n":2}"#;
    let (_, stderr) = text_output(&["cloudpay", "refund-query", "--decode", "-"], Some(body.as_bytes()), 4);
    assert!(!stderr.chars().any(|c| c.is_control() && c != '\n'), "{stderr:?}");
    assert!(stderr.contains(r"x\x1B]0;pwned\x07\n"), "{stderr}");
}

#[test]
fn unaccounted_refunds_and_duplicated_keys_exit_4() {
    for body in [
        refund_answer(r#","refund_count":6,"refund_id_5":"5005","out_refund_no_5":"R5","refund_fee_5":1,"refund_status_5":"SUCCESS""#),
        refund_answer(r#","refund_count":0,"return_code":"FAIL""#).replacen(r#""return_code":"SUCCESS""#, r#""return_code":"FAIL""#, 0),
        r#"{"return_code":"FAIL","return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":1,"cash_fee":1,"refund_count":0}"#.to_owned(),
        refund_answer(r#","refund_count":1,"refund_id_list":["1"],"out_refund_no_list":["R"],"refund_fee_list":[1],"refund_status_list":["SUCCESS"],"coupon_refund_id_array":["C"]"#),
    ] {
        let (_, stderr) = text_output(&["cloudpay", "refund-query", "--decode", "-"], Some(body.as_bytes()), 4);
        assert!(stderr.starts_with("error: malformed"), "{body}: {stderr}");
    }
}

#[test]
fn decode_input_is_bounded() {
    if std::path::Path::new("/dev/zero").exists() {
        let (_, stderr) = text_output(&["cloudpay", "refund-query", "--decode", "/dev/zero"], None, 2);
        assert!(stderr.contains("longer than"), "{stderr}");
    }
    let big = vec![b' '; 2 * 1024 * 1024];
    let (_, stderr) = text_output(&["cloudpay", "refund-query", "--decode", "-"], Some(&big), 2);
    assert!(stderr.contains("longer than"), "{stderr}");
}

#[test]
fn output_files_that_are_not_batch_output_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, "transaction_id\n4208450740201411110007820472\n").unwrap();
    let csv = csv.to_string_lossy().into_owned();
    for (name, content) in [
        ("apiv3.key", &b"0123456789abcdef0123456789abcdef"[..]),
        ("key.pem", b"-----BEGIN PRIVATE KEY-----\nMIIEvQ==\n-----END PRIVATE KEY-----\n"),
        ("other.jsonl", b"{\"a\":1}\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = path.to_string_lossy().into_owned();
        let args =
            ["cloudpay", "refund-query", "--sub-mch-id", "1900000109", "--sandbox", "--batch", &csv, "--output", &out];
        let (_, stderr) = text_output(&args, None, 2);
        assert!(stderr.contains("--output takes"), "{name}: {stderr}");
        assert_eq!(std::fs::read(&path).unwrap(), content, "{name} is untouched");
    }
}

#[test]
fn batch_input_that_is_not_the_operations_rows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("key.pem");
    std::fs::write(&pem, "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n")
        .unwrap();
    let pem = pem.to_string_lossy().into_owned();
    let (stdout, stderr) =
        text_output(&["cloudpay", "refund-query", "--sub-mch-id", "1900000109", "--sandbox", "--batch", &pem], None, 2);
    assert!(!stdout.contains("MIIEvQ") && !stderr.contains("MIIEvQ"), "{stdout}{stderr}");
    assert!(stderr.contains("not a CSV or JSON-lines file"), "{stderr}");
}

#[test]
fn errors_name_the_flag_or_column_not_the_value() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"P\xFF1");
    let assert =
        common::wxpay(&["ecommerce", "order-query", "--sub-mchid", "1900000109", "--dry-run", "--out-order-no"])
            .arg(bad)
            .assert()
            .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("--out-order-no") && stderr.contains("not UTF-8"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, b"sub_mch_id,transaction_id\n1900000109,42\xFF\n1900000109,4208450740201411110007820472\n")
        .unwrap();
    let csv = csv.to_string_lossy().into_owned();
    let (stdout, _) = text_output(&["cloudpay", "refund-query", "--sandbox", "--batch", &csv], None, 3);
    assert!(stdout.contains("column `transaction_id` is not UTF-8"), "{stdout}");
}

/// A CloudPay server on a loopback port of its own that answers every request with ten new
/// refunds and `total_refund_count` 1000000000 (issue 11's hang), counting the requests.
struct InventingServer {
    url: String,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InventingServer {
    fn start() -> Self {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (count, halt) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
                // One request per connection: read the head and the body it announces.
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).to_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                            .unwrap_or(0);
                        if data.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let n = count.fetch_add(1, Ordering::SeqCst);
                let mut body = serde_json::json!({"return_code": "SUCCESS", "result_code": "SUCCESS",
                    "transaction_id": "4208450740201411110007820472", "total_fee": 100000, "cash_fee": 100000,
                    "refund_count": 10, "total_refund_count": 1_000_000_000u64});
                for i in 0..10 {
                    let id = n * 10 + i;
                    body[format!("refund_id_{i}")] = format!("50{id:08}").into();
                    body[format!("out_refund_no_{i}")] = format!("R{id}").into();
                    body[format!("refund_fee_{i}")] = 1.into();
                    body[format!("refund_status_{i}")] = "SUCCESS".into();
                }
                let body = body.to_string();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Self { url, requests, stop, thread: Some(thread) }
    }
}

impl Drop for InventingServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn all_pages_stops_at_the_documented_bound_against_a_server_that_invents_refunds() {
    let server = InventingServer::start();
    let args = [
        "cloudpay",
        "refund-query",
        "--sub-mch-id",
        "1900000109",
        "--transaction-id",
        "4208450740201411110007820472",
        "--all-pages",
        "--cloudpay-url",
        &server.url,
    ];
    let (_, stderr) = text_output(&args, None, 4);
    assert!(stderr.contains("1000000000") && stderr.contains("50"), "{stderr}");
    let requests = server.requests.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(requests, 1, "the first page's total is past the bound: {requests} requests");
}

#[test]
fn signed_years_and_values_in_place_of_field_names_exit_4_naming_the_field() {
    // Class 5: `-20180608170132` read as the year -2018.
    let seed: serde_json::Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/doc-examples/000-cloudpay-return-query.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut answer = seed;
    answer["finish_time"] = "-20180608170132".into();
    let body = answer.to_string();
    let (_, stderr) = text_output(&["cloudpay", "return-query", "--decode", "-"], Some(body.as_bytes()), 4);
    assert!(stderr.contains("finish_time"), "{stderr}");

    // Class 8: a v3 answer whose field has the wrong type names the field, not the value.
    for value in ["7", "null", "{}"] {
        let body = format!(
            r#"{{"sub_mchid":"1900000109","order_id":"1","out_order_no":"P1","out_return_no":"R1","return_mchid":"86693852","amount":10,"result":"SUCCESS","return_no":{value}}}"#
        );
        let (_, stderr) = text_output(&["ecommerce", "return-query", "--decode", "-"], Some(body.as_bytes()), 4);
        assert!(stderr.contains("field `return_no`"), "{value}: {stderr}");
    }
}
