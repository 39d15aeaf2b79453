//! QPS limits per operation and sub-merchant. The limiter reads tokio's clock, so these tests
//! pause it: every request of a test arrives "in the same instant" however slow the machine,
//! and a second passes only when the test says so. The sockets are real (paused time only stops
//! timers, and the sandbox sets none).

mod common;

use std::time::Duration;

use common::{ORDER_QUERY, Req, SUB, T0, cloudpay, https};
use serde_json::{Value, json};
use wxpay_sandbox::Sandbox;

fn return_query(sub_mch_id: &str) -> Value {
    json!({"sub_mch_id": sub_mch_id, "nonce_str": "N1", "out_order_no": "P20150806125346", "out_return_no": "R20150806125347"})
}

fn finish(sub_mch_id: &str) -> Value {
    json!({"sub_mch_id": sub_mch_id, "nonce_str": "N1", "transaction_id": "4208450740201411110007820472", "out_order_no": "P1", "description": "分账完结"})
}

fn refund_query(sub_mch_id: &str) -> Value {
    json!({"sub_mch_id": sub_mch_id, "nonce_str": "N1", "refund_id": "5030000000000000000000000001"})
}

/// The business error code of a CloudPay answer (`error_code` or `err_code`), if any.
async fn code(sandbox: &Sandbox, op: &str, body: &Value) -> Option<String> {
    let body = cloudpay(sandbox, op, body).await.json();
    let code = body.get("error_code").or(body.get("err_code"))?;
    Some(code.as_str().unwrap().to_owned())
}

/// Sends `n` requests one after the other and returns how many were limited, and the index of
/// the first that was.
async fn burst(sandbox: &Sandbox, op: &str, body: &Value, n: usize) -> (usize, Option<usize>) {
    let mut limited = 0;
    let mut first = None;
    for i in 0..n {
        if code(sandbox, op, body).await.as_deref() == Some("FREQUENCY_LIMITED") {
            limited += 1;
            first.get_or_insert(i);
        }
    }
    (limited, first)
}

#[tokio::test(start_paused = true)]
async fn return_query_is_limited_to_30_per_second_per_merchant() {
    let (sandbox, _) = common::start().await;
    let op = "profitsharingreturnquery";
    assert_eq!(burst(&sandbox, op, &return_query(SUB), 30).await, (0, None));
    // The 31st in the same second.
    let body = cloudpay(&sandbox, op, &return_query(SUB)).await.json();
    assert_eq!(body["return_code"], "FAIL", "{body}");
    assert_eq!(body["error_code"], "FREQUENCY_LIMITED", "{body}");
    assert!(body["error_msg"].is_string());
    // The limit counts the calling merchant (docs/protocol.md §7): another sub-merchant's query is
    // limited as well.
    assert_eq!(code(&sandbox, op, &return_query("1900000110")).await.as_deref(), Some("FREQUENCY_LIMITED"));
    // Other operations are not counted against it.
    assert_eq!(code(&sandbox, "queryrefund", &refund_query(SUB)).await, None);
    // A 30th of a second refills one request; a second refills all 30.
    tokio::time::advance(Duration::from_millis(34)).await;
    assert_eq!(burst(&sandbox, op, &return_query(SUB), 2).await, (1, Some(1)));
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(burst(&sandbox, op, &return_query(SUB), 31).await, (1, Some(30)));
}

#[tokio::test(start_paused = true)]
async fn finish_is_limited_to_60_per_second() {
    let (sandbox, _) = common::start().await;
    assert_eq!(burst(&sandbox, "profitsharingfinish", &finish(SUB), 60).await, (0, None));
    // The 61st, for the payment that is still being shared.
    let mut still_sharing = finish(SUB);
    still_sharing["transaction_id"] = json!("4208450740201411110007820473");
    let body = cloudpay(&sandbox, "profitsharingfinish", &still_sharing).await.json();
    assert_eq!((body["return_code"].clone(), body["result_code"].clone()), (json!("SUCCESS"), json!("FAIL")));
    assert_eq!(body["err_code"], "FREQUENCY_LIMITED");
    // A limited finish is not processed: the payment's two ORDER_NOT_READY answers are still
    // to come.
    tokio::time::advance(Duration::from_secs(1)).await;
    for expected in [Some("ORDER_NOT_READY"), Some("ORDER_NOT_READY"), None] {
        assert_eq!(code(&sandbox, "profitsharingfinish", &still_sharing).await.as_deref(), expected);
    }
}

#[tokio::test(start_paused = true)]
async fn limits_are_configurable() {
    let (config, _) = common::config();
    let sandbox = Sandbox::start(
        config.https(None).qps("queryrefund", 5).qps("profitsharingreturnquery", 0).qps("profitsharingfinish", 100),
    )
    .await
    .unwrap();
    assert_eq!(burst(&sandbox, "queryrefund", &refund_query(SUB), 6).await, (1, Some(5)));
    // No limit is documented for it, so a configured one counts per merchant (docs/protocol.md §7).
    assert_eq!(burst(&sandbox, "queryrefund", &refund_query("1900000110"), 5).await, (5, Some(0)));
    // 0 refuses every request.
    assert_eq!(burst(&sandbox, "profitsharingreturnquery", &return_query(SUB), 3).await, (3, Some(0)));
    assert_eq!(burst(&sandbox, "profitsharingfinish", &finish(SUB), 101).await, (1, Some(100)));
    let info = sandbox.info();
    assert_eq!(
        info["qps"],
        json!({"queryrefund": 5, "profitsharingreturnquery": 0, "profitsharingfinish": 100, "certificates": 1000,
               "pay/profitsharingreturnquery": 30, "secapi/pay/profitsharingfinish": 60})
    );
}

#[tokio::test(start_paused = true)]
async fn no_limits() {
    let (config, _) = common::config();
    let sandbox = Sandbox::start(config.https(None).no_qps_limits()).await.unwrap();
    assert_eq!(burst(&sandbox, "profitsharingreturnquery", &return_query(SUB), 100).await, (0, None));
    assert_eq!(sandbox.info()["qps"], json!({}));
}

#[tokio::test(start_paused = true)]
async fn v3_limits_answer_429() {
    let (config, _) = common::config();
    let sandbox = Sandbox::start(config.qps("ecommerce/profitsharing/orders", 2)).await.unwrap();
    for _ in 0..2 {
        assert_eq!(https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await.status, 200);
    }
    let raw = https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await;
    raw.assert_v3_error(429, "FREQUENCY_LIMITED", "频率限制");
    // Signed like every answer to an authenticated request.
    assert!(raw.verify(&sandbox, T0).is_ok());
    let query = wxpay_protocol::v3::OrderQueryRequest::from_query(ORDER_QUERY.split_once('?').unwrap().1).unwrap();
    let err = raw.parse_v3(&query, &sandbox, T0).unwrap_err();
    assert!(err.is_retryable());
    // No limit is documented for it, so a configured one counts per merchant (docs/protocol.md §7):
    // another sub-merchant does not get through either.
    let other = ORDER_QUERY.replace("sub_mchid=1900000109", "sub_mchid=1900000110");
    assert_eq!(https(&sandbox, &Req::v3(&other, T0)).await.status, 429);
    // The return query has no limit of its own.
    for _ in 0..5 {
        assert_eq!(https(&sandbox, &Req::v3(common::RETURN_QUERY, T0)).await.status, 200);
    }
    // Unauthenticated requests are refused before they count: after a second, the budget of 2
    // is whole again whatever came unsigned.
    tokio::time::advance(Duration::from_secs(1)).await;
    for _ in 0..3 {
        assert_eq!(https(&sandbox, &Req::get(&other)).await.status, 401);
    }
    assert_eq!(https(&sandbox, &Req::v3(&other, T0)).await.status, 404);
    assert_eq!(https(&sandbox, &Req::v3(&other, T0)).await.status, 404);
    assert_eq!(https(&sandbox, &Req::v3(&other, T0)).await.status, 429);
}

#[tokio::test(start_paused = true)]
async fn a_limit_on_the_certificate_download_counts_per_merchant() {
    let (config, _) = common::config();
    let sandbox = Sandbox::start(config.http(None).qps("certificates", 1)).await.unwrap();
    assert_eq!(https(&sandbox, &Req::v3("/v3/certificates", T0)).await.status, 200);
    let raw = https(&sandbox, &Req::v3("/v3/certificates", T0)).await;
    raw.assert_v3_error(429, "FREQUENCY_LIMITED", "频率限制");
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(https(&sandbox, &Req::v3("/v3/certificates", T0)).await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn invalid_requests_do_not_count_and_unknown_ids_do() {
    let (config, _) = common::config();
    let sandbox = Sandbox::start(config.https(None).qps("queryrefund", 2)).await.unwrap();
    let mut invalid = refund_query(SUB);
    invalid["refund_id"] = json!("5".repeat(33));
    for _ in 0..5 {
        assert_eq!(code(&sandbox, "queryrefund", &invalid).await.as_deref(), Some("PARAM_ERROR"));
    }
    let mut unknown = refund_query(SUB);
    unknown["refund_id"] = json!("5030000000000000000000000099");
    assert_eq!(code(&sandbox, "queryrefund", &unknown).await.as_deref(), Some("REFUNDNOTEXIST"));
    assert_eq!(code(&sandbox, "queryrefund", &refund_query(SUB)).await, None);
    assert_eq!(code(&sandbox, "queryrefund", &refund_query(SUB)).await.as_deref(), Some("FREQUENCY_LIMITED"));
}
