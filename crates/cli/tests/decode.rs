//! `--decode`: every seed answer, raw HTTP responses, and answers that are errors.

mod common;

use std::path::PathBuf;

use common::{json_output, text_output};
use serde_json::{Value, json};

/// The path of a seed fixture, as a string argument.
fn seed(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", "doc-examples", name].iter().collect();
    assert!(path.is_file(), "missing fixture {}", path.display());
    path.to_string_lossy().into_owned()
}

fn seed_bytes(name: &str) -> Vec<u8> {
    std::fs::read(seed(name)).unwrap()
}

#[test]
fn seed_000_cloudpay_return_query() {
    let path = seed("000-cloudpay-return-query.json");
    let out = json_output(&["cloudpay", "return-query", "--json", "--decode", &path], None, 0);
    assert_eq!(out["result"], "SUCCESS");
    assert_eq!(out["order_id"], "4208450740201411110007820472");
    assert_eq!(out["out_order_no"], "P20150806125346");
    assert_eq!(out["out_return_no"], "R20150806125346");
    assert_eq!(out["return_no"], "3008450740201411110007820472");
    assert_eq!(out["return_account_type"], "MERCHANT_ID");
    assert_eq!(out["return_account"], "86693852");
    assert_eq!(out["return_amount"], 888);
    assert_eq!(out["description"], "用户退款");
    assert_eq!(out["finish_time"], "20180608170132");
    assert_eq!(out["sub_mch_id"], "1900000109");

    let (stdout, _) = text_output(&["cloudpay", "return-query", "--decode", &path], None, 0);
    assert!(stdout.starts_with("result               SUCCESS\n"), "{stdout}");
    assert!(stdout.contains("return_amount        888 (8.88 yuan)\n"), "{stdout}");
    assert!(stdout.contains("finish_time          20180608170132\n"), "{stdout}");
}

#[test]
fn seed_001_v3_return_query() {
    let path = seed("001-v3-return-query.json");
    let out = json_output(&["ecommerce", "return-query", "--json", "--decode", &path], None, 0);
    assert_eq!(
        out,
        json!({
            "sub_mchid": "1900000109",
            "order_id": "3008450740201411110007820472",
            "out_order_no": "P20150806125346",
            "out_return_no": "R20190516001",
            "return_mchid": "86693852",
            "amount": 10,
            "return_no": "3008450740201411110007820472",
            "result": "SUCCESS",
            "fail_reason": "TIME_OUT_CLOSED",
            "finish_time": "2015-05-20T13:29:35.120+08:00",
            "finish_time_rfc3339": "2015-05-20T13:29:35.120+08:00",
        })
    );
    let (stdout, stderr) = text_output(&["ecommerce", "return-query", "--decode", &path], None, 0);
    assert!(stdout.contains("amount         10 (0.10 yuan)\n"), "{stdout}");
    assert!(stderr.contains("not verified"), "v3 answers are flagged as unverified: {stderr}");
}

#[test]
fn seed_002_cloudpay_finish() {
    let path = seed("002-cloudpay-finish.json");
    let out = json_output(&["cloudpay", "finish", "--json", "--decode", &path], None, 0);
    assert_eq!(out["transaction_id"], "4208450740201411110007820472");
    assert_eq!(out["out_order_no"], "P20150806125346");
    assert_eq!(out["order_id"], "3008450740201411110007820472");
    assert_eq!(out["receiver"]["type"], "MERCHANT_ID");
    assert_eq!(out["receiver"]["account"], "190001001");
    assert_eq!(out["sub_appid"], "wx8888888888888888");

    let (stdout, _) = text_output(&["cloudpay", "finish", "--decode", &path], None, 0);
    assert!(stdout.contains("receiver        MERCHANT_ID 190001001\n"), "{stdout}");
}

#[test]
fn seed_003_v3_order_query() {
    let path = seed("003-v3-order-query.json");
    let out = json_output(&["ecommerce", "order-query", "--json", "--decode", &path], None, 0);
    assert_eq!(out["status"], "FINISHED");
    assert_eq!(out["order_id"], "3008450740201411110007820472");
    assert_eq!(out["close_reason"], "NO_AUTH");
    assert_eq!(out["finish_amount"], 100);
    assert_eq!(out["finish_description"], "分账完结");
    let receivers = out["receivers"].as_array().unwrap();
    assert_eq!(receivers.len(), 1);
    assert_eq!(receivers[0]["receiver_mchid"], "1900000110");
    assert_eq!(receivers[0]["amount"], 100);
    assert_eq!(receivers[0]["result"], "SUCCESS");
    assert_eq!(receivers[0]["fail_reason"], "ACCOUNT_ABNORMAL");
    assert_eq!(receivers[0]["finish_time"], "2015-05-20T13:29:35.120+08:00");

    let (stdout, _) = text_output(&["ecommerce", "order-query", "--decode", &path], None, 0);
    let receiver_row = stdout.lines().find(|l| l.trim_start().starts_with("1900000110")).expect("a receiver row");
    let cells: Vec<&str> = receiver_row.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(
        cells,
        [
            "1900000110",
            "-",
            "100 (1.00 yuan)",
            "SUCCESS",
            "2015-05-20T13:29:35.120+08:00",
            "ACCOUNT_ABNORMAL",
            "-",
            "分给商户1900000110"
        ]
    );
}

#[test]
fn seed_004_cloudpay_refund_query_from_stdin() {
    let body = seed_bytes("004-cloudpay-refund-query.json");
    let out = json_output(&["cloudpay", "refund-query", "--json", "--decode", "-"], Some(&body), 0);
    assert_eq!(out["transaction_id"], "1217752501201407033233368018");
    assert_eq!(out["total_fee"], 100);
    assert_eq!(out["cash_fee"], 100);
    assert_eq!(out["refund_count"], 1);
    assert_eq!(out["total_refund_count"], 35);
    assert_eq!(out["refunds"]["kind"], "listed");
    let refund = &out["refunds"]["refunds"][0];
    assert_eq!(refund["refund_id"], "1217752501201407033233368018");
    assert_eq!(refund["refund_fee"], 100);
    assert_eq!(refund["refund_status"], "SUCCESS");
    assert_eq!(refund["refund_recv_accout"], "招商银行信用卡0403");
    assert_eq!(refund["refund_success_time"], "2016-07-25 15:26:26");
    assert_eq!(refund["coupons"][0]["coupon_refund_id"], "10000");

    let (stdout, _) = text_output(&["cloudpay", "refund-query", "--decode", "-"], Some(&body), 0);
    assert!(stdout.contains("total_refund_count    35\n"), "{stdout}");
    let row = stdout.lines().find(|l| l.contains("2016-07-25 15:26:26")).expect("a refund row");
    let cells: Vec<&str> = row.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(
        cells,
        [
            "1217752501201407033233368018",
            "1217752501201407033233368018",
            "100 (1.00 yuan)",
            "SUCCESS",
            "2016-07-25 15:26:26"
        ]
    );
}

#[test]
fn refund_details_not_returned_and_no_refunds_are_told_apart() {
    let answer = |count: u32| {
        format!(
            r#"{{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":"300",
                "cash_fee":300,"refund_count":{count}}}"#
        )
    };
    let not_returned = answer(3);
    let (stdout, _) = text_output(&["cloudpay", "refund-query", "--decode", "-"], Some(not_returned.as_bytes()), 0);
    assert!(stdout.contains("details not returned (refund_count 3)"), "{stdout}");
    assert!(stdout.contains("total_fee       300 (3.00 yuan)\n"), "{stdout}");
    let out = json_output(&["cloudpay", "refund-query", "--decode", "-", "--json"], Some(not_returned.as_bytes()), 0);
    assert_eq!(out["refunds"], json!({"kind": "not_returned"}));

    let none = answer(0);
    let (stdout, _) = text_output(&["cloudpay", "refund-query", "--decode", "-"], Some(none.as_bytes()), 0);
    assert!(stdout.contains("refunds         no refunds\n"), "{stdout}");
    assert!(!stdout.contains("not returned"), "{stdout}");
}

const V3_429: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
    Server: nginx\r\n\
    Content-Type: application/json; charset=utf-8\r\n\
    Request-ID: 08F0A1B2C3D4E5F6-1234\r\n\
    \r\n\
    {\"code\":\"FREQUENCY_LIMITED\",\"message\":\"too many requests, slow down\"}";

#[test]
fn raw_v3_429_is_an_api_error_with_request_id_and_retryable() {
    let (stdout, stderr) = text_output(&["ecommerce", "order-query", "--decode", "-"], Some(V3_429), 3);
    assert_eq!(stdout, "");
    assert!(stderr.starts_with("error: API v3 error FREQUENCY_LIMITED: too many requests, slow down"), "{stderr}");
    assert!(stderr.contains("HTTP 429"), "{stderr}");
    assert!(stderr.contains("Request-ID 08F0A1B2C3D4E5F6-1234"), "{stderr}");
    assert!(stderr.contains("retry: retryable"), "{stderr}");

    let out = json_output(&["ecommerce", "order-query", "--decode", "-", "--json"], Some(V3_429), 3);
    let error = &out["error"];
    assert_eq!(error["kind"], "api");
    assert_eq!(error["status"], 429);
    assert_eq!(error["code"], "FREQUENCY_LIMITED");
    assert_eq!(error["message"], "too many requests, slow down");
    assert_eq!(error["request_id"], "08F0A1B2C3D4E5F6-1234");
    assert_eq!(error["retryable"], true);
}

#[test]
fn cloudpay_fail_answers_exit_3() {
    let fail = br#"{"return_code":"SUCCESS","return_msg":"OK","result_code":"FAIL","err_code":"AMOUNT_OVERDUE","err_code_des":"nothing left to share"}"#;
    let (_, stderr) = text_output(&["cloudpay", "finish", "--decode", "-"], Some(fail), 3);
    assert!(stderr.contains("AMOUNT_OVERDUE: nothing left to share"), "{stderr}");
    assert!(stderr.contains("retry: final"), "{stderr}");
    let out = json_output(&["cloudpay", "finish", "--decode", "-", "--json"], Some(fail), 3);
    assert_eq!(out["error"]["kind"], "api");
    assert_eq!(out["error"]["code"], "AMOUNT_OVERDUE");
    assert_eq!(out["error"]["status"], 200);
    assert_eq!(out["error"]["retryable"], false);

    let not_exist = br#"{"return_code":"FAIL","error_code":"ORDERNOTEXIST","error_msg":"no such return"}"#;
    let out = json_output(&["cloudpay", "return-query", "--decode", "-", "--json"], Some(not_exist), 3);
    assert_eq!(out["error"]["code"], "ORDERNOTEXIST");
    assert_eq!(out["error"]["message"], "no such return");

    let busy = br#"{"return_code":"SUCCESS","result_code":"FAIL","err_code":"SYSTEMERROR","err_code_des":"busy"}"#;
    let out = json_output(&["cloudpay", "refund-query", "--decode", "-", "--json"], Some(busy), 3);
    assert_eq!(out["error"]["retryable"], true);
}

#[test]
fn raw_chunked_response_decodes() {
    let body = seed_bytes("002-cloudpay-finish.json");
    let (first, second) = body.split_at(body.len() / 2);
    let mut raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for chunk in [first, second] {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let out = json_output(&["cloudpay", "finish", "--decode", "-", "--json"], Some(&raw), 0);
    assert_eq!(out["order_id"], "3008450740201411110007820472");
    assert_eq!(out["receiver"]["account"], "190001001");
}

#[test]
fn raw_response_with_bare_lf_from_a_file_honours_content_length() {
    let body = br#"{"code":"RESOURCE_NOT_EXISTS","message":"no such order"}"#;
    let raw = format!(
        "HTTP/1.1 404 Not Found\nRequest-ID: REQ-404\nContent-Length: {}\n\n{}\n-- end of log --\n",
        body.len(),
        String::from_utf8_lossy(body)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("answer.http");
    std::fs::write(&path, raw).unwrap();
    let out = json_output(&["ecommerce", "return-query", "--json", "--decode", path.to_str().unwrap()], None, 3);
    assert_eq!(out["error"]["status"], 404);
    assert_eq!(out["error"]["code"], "RESOURCE_NOT_EXISTS");
    assert_eq!(out["error"]["request_id"], "REQ-404");
    assert_eq!(out["error"]["retryable"], false);
}

#[test]
fn raw_200_v3_answer_decodes() {
    let body = seed_bytes("003-v3-order-query.json");
    let mut raw = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    raw.extend_from_slice(&body);
    let out = json_output(&["ecommerce", "order-query", "--decode", "-", "--json"], Some(&raw), 0);
    assert_eq!(out["transaction_id"], "4208450740201411110007820472");
}

#[test]
fn non_json_body_exits_4() {
    let (_, stderr) = text_output(&["cloudpay", "finish", "--decode", "-"], Some(b"<html>bad gateway</html>"), 4);
    assert!(stderr.starts_with("error: malformed response: body is not JSON\ncaused by: "), "{stderr}");
    let out = json_output(&["cloudpay", "finish", "--decode", "-", "--json"], Some(b"<html>"), 4);
    assert_eq!(out["error"]["kind"], "malformed");
    assert_eq!(out["error"]["malformed"], "body is not JSON");
    assert_eq!(out["error"]["status"], 200);

    let v3 = b"HTTP/1.1 200 OK\r\n\r\nnot json";
    let out = json_output(&["ecommerce", "order-query", "--decode", "-", "--json"], Some(v3), 4);
    assert_eq!(out["error"]["kind"], "malformed");
}

#[test]
fn missing_field_is_malformed() {
    let out = json_output(
        &["cloudpay", "finish", "--decode", "-", "--json"],
        Some(br#"{"return_code":"SUCCESS","result_code":"SUCCESS"}"#),
        4,
    );
    assert_eq!(out["error"]["malformed"], "required field `transaction_id` is missing");
}

#[test]
fn content_length_longer_than_the_body_exits_4() {
    let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"return_code\":\"SUCCESS\"}";
    let (_, stderr) = text_output(&["cloudpay", "finish", "--decode", "-"], Some(raw), 4);
    assert_eq!(stderr, "error: the body has 25 bytes but Content-Length is 500\n");
    let out = json_output(&["cloudpay", "finish", "--decode", "-", "--json"], Some(raw), 4);
    assert_eq!(out["error"]["kind"], "malformed");
    assert_eq!(out["error"]["malformed"], "the body has 25 bytes but Content-Length is 500");
}

#[test]
fn broken_raw_heads_exit_4() {
    for raw in [&b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"[..], b"HTTP/9 200 OK\r\n\r\n{}"] {
        let out = json_output(&["cloudpay", "finish", "--decode", "-", "--json"], Some(raw), 4);
        assert_eq!(out["error"]["kind"], "malformed", "{}", String::from_utf8_lossy(raw));
    }
}

#[test]
fn unreadable_decode_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    let (_, stderr) = text_output(&["cloudpay", "finish", "--decode", missing], None, 2);
    assert!(stderr.starts_with(&format!("error: cannot read {missing}\ncaused by: ")), "{stderr}");
    let out = json_output(&["cloudpay", "finish", "--decode", missing, "--json"], None, 2);
    assert_eq!(out["error"]["kind"], "invalid_input");
    assert_eq!(out["error"]["input"], Value::String(missing.to_owned()));
}
