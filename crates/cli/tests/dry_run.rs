//! `--dry-run`: the request each operation would send, in human and JSON form.

mod common;

use common::{json_output, text_output};
use serde_json::{Value, json};

const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";

/// Splits human dry-run output into the request line, the header lines, and what follows the
/// blank line.
fn split_request(text: &str) -> (&str, Vec<&str>, &str) {
    let (head, rest) = text.split_once("\n\n").expect("a blank line after the headers");
    let mut lines = head.lines();
    let request_line = lines.next().expect("a request line");
    (request_line, lines.collect(), rest)
}

#[test]
fn cloudpay_return_query_human() {
    let (stdout, stderr) = text_output(
        &[
            "cloudpay",
            "return-query",
            "--dry-run",
            "--sub-mch-id",
            "1900000109",
            "--nonce-str",
            NONCE,
            "--out-order-no",
            "P20150806125346",
            "--out-return-no",
            "R20150806125346",
        ],
        None,
        0,
    );
    assert_eq!(stderr, "");
    let (request_line, headers, body) = split_request(&stdout);
    assert_eq!(request_line, "POST http://api.weixin.qq.com/_/pay/profitsharingreturnquery");
    assert_eq!(headers, ["content-type: application/json"]);
    assert!(body.starts_with("{\n  \""), "pretty JSON expected: {body:?}");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        body,
        json!({
            "sub_mch_id": "1900000109",
            "nonce_str": NONCE,
            "out_order_no": "P20150806125346",
            "out_return_no": "R20150806125346",
        })
    );
    assert!(!stdout.contains("signed message"), "CloudPay is unsigned");
}

#[test]
fn cloudpay_return_query_json_by_order_id() {
    let out = json_output(
        &[
            "cloudpay",
            "return-query",
            "--dry-run",
            "--json",
            "--sub-mch-id",
            "1900000109",
            "--nonce-str",
            NONCE,
            "--order-id",
            "3008450740201411110007820472",
            "--out-return-no",
            "R1",
        ],
        None,
        0,
    );
    assert_eq!(
        out,
        json!({
            "method": "POST",
            "url": "http://api.weixin.qq.com/_/pay/profitsharingreturnquery",
            "headers": {"content-type": "application/json"},
            "body": {
                "sub_mch_id": "1900000109",
                "nonce_str": NONCE,
                "order_id": "3008450740201411110007820472",
                "out_return_no": "R1",
            },
        })
    );
}

const FINISH: &[&str] = &[
    "cloudpay",
    "finish",
    "--dry-run",
    "--sub-mch-id",
    "1900000109",
    "--nonce-str",
    NONCE,
    "--transaction-id",
    "4208450740201411110007820472",
    "--out-order-no",
    "P2015|08*06@1",
    "--description",
    "分账已完成",
];

#[test]
fn cloudpay_finish_human_and_json() {
    let (stdout, _) = text_output(FINISH, None, 0);
    let (request_line, headers, body) = split_request(&stdout);
    assert_eq!(request_line, "POST http://api.weixin.qq.com/_/pay/profitsharingfinish");
    assert_eq!(headers, ["content-type: application/json"]);
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["description"], "分账已完成");
    assert_eq!(body["out_order_no"], "P2015|08*06@1", "CloudPay bodies are JSON, not percent-encoded");

    let args = [FINISH, &["--json", "--cloudpay-url", "http://127.0.0.1:8080/sandbox/"]].concat();
    let out = json_output(&args, None, 0);
    assert_eq!(out["method"], "POST");
    assert_eq!(out["url"], "http://127.0.0.1:8080/sandbox/_/pay/profitsharingfinish");
    assert_eq!(out["headers"], json!({"content-type": "application/json"}));
    assert!(out.get("signed_message").is_none(), "CloudPay is unsigned");
    assert_eq!(
        out["body"],
        json!({
            "sub_mch_id": "1900000109",
            "nonce_str": NONCE,
            "transaction_id": "4208450740201411110007820472",
            "out_order_no": "P2015|08*06@1",
            "description": "分账已完成",
        })
    );
}

#[test]
fn cloudpay_refund_query_sends_only_the_winning_id() {
    let base = ["cloudpay", "refund-query", "--dry-run", "--json", "--sub-mch-id", "1900000109", "--nonce-str", NONCE];
    let all_four = [
        &base[..],
        &[
            "--out-trade-no",
            "T1",
            "--transaction-id",
            "1217752501201407033233368018",
            "--out-refund-no",
            "R1",
            "--refund-id",
            "50000000382019052709732678859",
        ],
    ]
    .concat();
    let out = json_output(&all_four, None, 0);
    assert_eq!(out["url"], "http://api.weixin.qq.com/_/pay/queryrefund");
    assert_eq!(
        out["body"],
        json!({"sub_mch_id": "1900000109", "nonce_str": NONCE, "refund_id": "50000000382019052709732678859"})
    );

    let two = [&base[..], &["--out-trade-no", "T1", "--transaction-id", "4200", "--offset", "10"]].concat();
    let out = json_output(&two, None, 0);
    assert_eq!(
        out["body"],
        json!({"sub_mch_id": "1900000109", "nonce_str": NONCE, "transaction_id": "4200", "offset": 10})
    );

    let one = [&base[..], &["--out-trade-no", "T1|2"]].concat();
    assert_eq!(json_output(&one, None, 0)["body"]["out_trade_no"], "T1|2");
}

#[test]
fn cloudpay_refund_query_human() {
    let (stdout, _) = text_output(
        &[
            "cloudpay",
            "refund-query",
            "--dry-run",
            "--sub-mch-id",
            "1900000109",
            "--nonce-str",
            NONCE,
            "--out-refund-no",
            "R1",
            "--out-trade-no",
            "T1",
            "--offset",
            "0",
        ],
        None,
        0,
    );
    let (request_line, _, body) = split_request(&stdout);
    assert_eq!(request_line, "POST http://api.weixin.qq.com/_/pay/queryrefund");
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body, json!({"sub_mch_id": "1900000109", "nonce_str": NONCE, "out_refund_no": "R1", "offset": 0}));
}

/// The signing inputs the v3 dry runs below fix.
const TIMESTAMP: i64 = 1554208460;
const V3_NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

const ORDER_QUERY: &[&str] = &[
    "ecommerce",
    "order-query",
    "--dry-run",
    "--sub-mchid",
    "1900000109",
    "--transaction-id",
    "4208450740201411110007820472",
    "--out-order-no",
    "P1|2*3@4",
    "--timestamp",
    "1554208460",
    "--nonce",
    V3_NONCE,
];

const ORDER_QUERY_TARGET: &str = "/v3/ecommerce/profitsharing/orders?sub_mchid=1900000109\
                                  &transaction_id=4208450740201411110007820472&out_order_no=P1%7C2%2A3%404";

/// The `Authorization` the protocol computes for a GET of `target` with the inputs above.
fn authorization(target: &str) -> String {
    let request = http::Request::get(target).body(Vec::new()).unwrap();
    common::protocol_signature(&request, TIMESTAMP, V3_NONCE).authorization().to_owned()
}

#[test]
fn ecommerce_order_query_human_percent_encodes_and_shows_the_signed_message() {
    let key = common::private_key_path();
    let (stdout, stderr) = text_output(&[ORDER_QUERY, &common::signing_flags(&key)].concat(), None, 0);
    assert_eq!(stderr, "");
    let user_agent = wxpay_protocol::security::default_user_agent();
    assert_eq!(
        stdout,
        format!(
            "GET https://api.mch.weixin.qq.com{ORDER_QUERY_TARGET}\n\
             accept: application/json\n\
             authorization: {}\n\
             user-agent: {user_agent}\n\n\
             signed message: GET\\n{ORDER_QUERY_TARGET}\\n{TIMESTAMP}\\n{V3_NONCE}\\n\\n\n",
            authorization(ORDER_QUERY_TARGET),
        )
    );
}

#[test]
fn ecommerce_order_query_json() {
    let key = common::private_key_path();
    let out = json_output(&[ORDER_QUERY, &common::signing_flags(&key), &["--json"]].concat(), None, 0);
    assert_eq!(
        out,
        json!({
            "method": "GET",
            "url": format!("https://api.mch.weixin.qq.com{ORDER_QUERY_TARGET}"),
            "headers": {
                "accept": "application/json",
                "authorization": authorization(ORDER_QUERY_TARGET),
                "user-agent": wxpay_protocol::security::default_user_agent(),
            },
            "body": null,
            "signed_message": format!("GET\n{ORDER_QUERY_TARGET}\n{TIMESTAMP}\n{V3_NONCE}\n\n"),
        })
    );
}

#[test]
fn ecommerce_return_query_human_and_json_under_another_base() {
    let key = common::private_key_path();
    let args = [
        &[
            "ecommerce",
            "return-query",
            "--dry-run",
            "--base-url",
            "http://localhost:9000",
            "--sub-mchid",
            "1900000109",
            "--order-id",
            "3008450740201411110007820472",
            "--out-return-no",
            "R2019@05*16|001",
            "--timestamp",
            "1554208460",
            "--nonce",
            V3_NONCE,
        ][..],
        &common::signing_flags(&key),
    ]
    .concat();
    let target = "/v3/ecommerce/profitsharing/returnorders?sub_mchid=1900000109\
                  &order_id=3008450740201411110007820472&out_return_no=R2019%4005%2A16%7C001";
    let (stdout, _) = text_output(&args, None, 0);
    let (request_line, headers, rest) = split_request(&stdout);
    assert_eq!(request_line, format!("GET http://localhost:9000{target}"));
    let names: Vec<&str> = headers.iter().map(|h| h.split_once(": ").unwrap().0).collect();
    assert_eq!(names, ["accept", "authorization", "user-agent"]);
    assert!(headers.contains(&format!("authorization: {}", authorization(target)).as_str()), "{headers:?}");
    let message = format!("GET\n{target}\n{TIMESTAMP}\n{V3_NONCE}\n\n");
    assert_eq!(rest, format!("signed message: {}\n", message.replace('\n', "\\n")));

    let out = json_output(&[&args[..], &["--json"]].concat(), None, 0);
    assert_eq!(out["method"], "GET");
    assert_eq!(out["url"], format!("http://localhost:9000{target}"));
    assert_eq!(out["headers"]["authorization"], authorization(target));
    assert_eq!(out["body"], Value::Null);
    assert_eq!(out["signed_message"], message);
}

#[test]
fn generated_nonce_is_32_alphanumerics_and_fresh() {
    let args = ["cloudpay", "finish", "--dry-run", "--json", "--sub-mch-id", "1", "--transaction-id", "2"];
    let args = [&args[..], &["--out-order-no", "P1", "--description", "d"]].concat();
    let nonce = |out: Value| out["body"]["nonce_str"].as_str().expect("a nonce_str string").to_owned();
    let first = nonce(json_output(&args, None, 0));
    let second = nonce(json_output(&args, None, 0));
    for n in [&first, &second] {
        assert_eq!(n.len(), 32, "{n}");
        assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()), "{n}");
    }
    assert_ne!(first, second);
}
