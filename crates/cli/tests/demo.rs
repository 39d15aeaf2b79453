//! `wxpay demo` and `wxpay sandbox`, run as the built binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{json_output, wxpay};

#[test]
fn demo_runs_the_five_operations_against_the_embedded_sandbox() {
    let out = json_output(&["demo", "--json"], None, 0);
    let operations: Vec<&str> =
        out["operations"].as_array().unwrap().iter().map(|o| o["operation"].as_str().unwrap()).collect();
    assert_eq!(
        operations,
        [
            "cloudpay return-query",
            "cloudpay return-query",
            "cloudpay finish",
            "ecommerce order-query",
            "ecommerce return-query",
            "cloudpay refund-query",
            "refund paging",
            "v2 wire",
            "notification"
        ]
    );
    let ops = &out["operations"];
    assert_eq!(ops[0]["answer"]["result"], "PROCESSING");
    assert_eq!(ops[1]["answer"]["result"], "SUCCESS");
    assert_eq!(ops[2]["answer"]["order_id"], "3008450740201411110007820472");
    assert_eq!(ops[3]["answer"]["status"], "FINISHED");
    assert_eq!(ops[4]["answer"]["result"], "SUCCESS");
    assert_eq!(ops[5]["answer"]["refund_count"], 1);
    assert_eq!((ops[6]["refunds"].as_u64(), ops[6]["pages"].as_u64()), (Some(36), Some(4)));
    // The CloudPay operations again on the v2 wire: the same state (the return settled, the
    // finish the same one under the same number), answers signed and verified.
    let v2 = &ops[7];
    assert_eq!(v2["return_query"]["answer"]["result"], "SUCCESS");
    assert_eq!(v2["finish"]["answer"]["order_id"], ops[2]["answer"]["order_id"]);
    assert_eq!(v2["finish"]["answer"]["mch_id"], out["sandbox"]["mchid"]);
    assert_eq!(v2["refund_query"]["answer"]["refund_count"], 1);
    // The notification the sandbox sent when the order settled, verified and decrypted.
    let n = &ops[8]["notification"];
    assert_eq!(n["event_type"], "PROFITSHARING.SUCCESS");
    assert_eq!(n["event"]["out_order_no"], "P20150806125346");
    assert_eq!(n["event"]["receiver"]["account"], "1900000110");
    assert_eq!(n["event"]["receiver"]["amount"], 100);
    assert!(out["sandbox"]["https_url"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    // Eight HTTPS requests (the certificate download, two order queries, two v3 return queries,
    // three v2 calls presenting the client certificate) share pooled connections; the pool may
    // open another one when a request starts before the previous connection is back.
    let handshakes = out["sandbox_stats"]["tls_handshakes"].as_u64().unwrap();
    assert!((1..=3).contains(&handshakes), "{handshakes} TLS handshakes for 8 HTTPS requests");
}

#[test]
fn demo_prints_a_table_per_operation() {
    let output = wxpay(&["demo"]).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(output).unwrap();
    for heading in [
        "== CloudPay profit-sharing return query (first query: PROCESSING)",
        "== CloudPay profit-sharing finish",
        "== API v3 e-commerce profit-sharing order query",
        "== API v3 e-commerce profit-sharing return query",
        "== CloudPay refund query (an injected SYSTEMERROR, retried: 2 requests)",
        "== Paging through the refunds of 4200000000000000000000000036",
        "== The same CloudPay operations on WeChat Pay's v2 API (signed XML)",
        "== A profit-sharing notification, sent by the sandbox and received",
    ] {
        assert!(text.contains(heading), "missing {heading:?} in:\n{text}");
    }
    assert!(text.contains("refunds       36"));
    assert!(text.contains("return_amount        888 (8.88 yuan)"));
}

#[test]
fn sandbox_subcommand_serves_in_the_foreground() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("wxpay"))
        .args(["sandbox", "--key-dir", dir.path().to_str().unwrap(), "--tls", "off"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(info["http_url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(info["https_url"].is_null(), "--tls off");
    assert!(dir.path().join("merchant_private_key.pem").exists());
}

#[test]
fn sandbox_subcommand_rejects_bad_flags() {
    wxpay(&["sandbox", "--listen", "not-an-address"]).assert().code(2);
}
