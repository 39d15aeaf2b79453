//! Nothing lost, as the operator sees it: `--json` prints `detail_id` and every field of the
//! answer that no type knows, at its level; the table shows `detail_id` and names the rest.

mod common;

use common::sandbox::{OUT_ORDER_NO, SUB_MCH, SandboxProcess, TRANSACTION};
use common::{json_output, text_output};
use serde_json::{Value, json};

const ORDER_QUERY: &[&str] = &[
    "ecommerce",
    "order-query",
    "--sub-mchid",
    SUB_MCH,
    "--transaction-id",
    TRANSACTION,
    "--out-order-no",
    OUT_ORDER_NO,
];

/// The sandbox fixture's receiver `detail_id` (crates/sandbox/fixtures/default.json).
const DETAIL_ID: &str = "3601111111111111111111";

/// What the sandbox's v3 order carries beyond the documented fields, at both levels.
fn assert_carries_the_fixture_extras(answer: &Value) {
    let receiver = &answer["receivers"][0];
    assert_eq!(receiver["detail_id"], DETAIL_ID, "{answer}");
    assert_eq!(receiver["x_future_field"], "a receiver field no type knows", "{answer}");
    assert_eq!(
        answer["x_future_field"],
        json!({"note": "an order field no type knows", "since": "sandbox"}),
        "{answer}"
    );
    // Printed where they were sent, not in a wrapper object.
    assert!(answer.get("extra").is_none() && receiver.get("extra").is_none(), "{answer}");
}

#[test]
fn order_query_json_against_the_embedded_sandbox_shows_detail_id_and_unknown_fields() {
    let args = [ORDER_QUERY, &["--sandbox", "--json"]].concat();
    let answer = json_output(&args, None, 0);
    // A fresh sandbox answers PROCESSING first; the detail number and the extras are there anyway.
    assert_eq!(answer["status"], "PROCESSING");
    assert_carries_the_fixture_extras(&answer);

    let (table, _) = text_output(&[ORDER_QUERY, &["--sandbox"]].concat(), None, 0);
    assert!(table.lines().any(|l| l.contains("detail_id") && l.trim_start().starts_with("account")), "{table}");
    assert!(table.contains(DETAIL_ID), "{table}");
    let extra = table.lines().find_map(|l| l.strip_prefix("extra fields")).map(str::trim);
    assert_eq!(extra, Some("receivers[].x_future_field, x_future_field (values: --json)"), "{table}");
}

#[test]
fn order_query_json_against_a_started_sandbox_keeps_them_once_settled() {
    let sandbox = SandboxProcess::start();
    let args: Vec<String> =
        ORDER_QUERY.iter().map(|s| (*s).to_owned()).chain(sandbox.v3_flags()).chain(["--json".to_owned()]).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(json_output(&args, None, 0)["status"], "PROCESSING");
    let answer = json_output(&args, None, 0);
    assert_eq!(answer["status"], "FINISHED");
    assert_eq!(answer["receivers"][0]["result"], "SUCCESS");
    assert_carries_the_fixture_extras(&answer);
}

#[test]
fn cloudpay_json_prints_extra_fields_spelled_as_sent() {
    let body = json!({"errCode": 0, "errMsg": "cloudPay.queryRefund:ok", "returnCode": "SUCCESS",
        "resultCode": "SUCCESS", "transactionId": "42", "totalFee": 300, "cashFee": 300, "refundCount": 1,
        "refundId_0": "5001", "outRefundNo_0": "R1", "refundFee_0": 100, "refundStatus_0": "SUCCESS",
        "cashRefundFee": 90, "refundFeeType_0": "CNY"})
    .to_string();
    let args = ["cloudpay", "refund-query", "--json", "--decode", "-"];
    let out = json_output(&args, Some(body.as_bytes()), 0);
    assert_eq!(out["extra"], json!({"cashRefundFee": 90}));
    assert_eq!(out["refunds"]["refunds"][0]["extra"], json!({"refundFeeType": "CNY"}));
    assert!(out.get("errCode").is_none() && !out.to_string().contains("errMsg"), "scaffolding is not kept: {out}");

    let (table, _) = text_output(&["cloudpay", "refund-query", "--decode", "-"], Some(body.as_bytes()), 0);
    assert!(table.contains("extra fields"), "{table}");
    assert!(table.contains("cashRefundFee, refunds[].refundFeeType (values: --json)"), "{table}");
}
