//! What the sandbox remembers: orders settling from PROCESSING (per fixture, after N queries,
//! after N seconds of a pinned clock), idempotent finish, reset, and paging through the order
//! with 36 refunds.

mod common;

use common::{ORDER_QUERY, RETURN_QUERY, Raw, Req, SUB, TestClock, cloudpay, https};
use serde_json::{Value, json};
use wxpay_protocol::cloudpay::{
    FinishResponse, RefundQueryRequest, RefundQueryResponse, ReturnQueryResponse, ReturnResult,
};
use wxpay_protocol::{ErrorCode, NonceStr, RefundPager, v3};
use wxpay_sandbox::{Sandbox, Settle};

fn return_query(by_order_id: bool) -> Value {
    let mut body = json!({"sub_mch_id": SUB, "nonce_str": "N1", "out_return_no": "R20150806125346"});
    if by_order_id {
        body["order_id"] = json!("4208450740201411110007820472");
    } else {
        body["out_order_no"] = json!("P20150806125346");
    }
    body
}

fn failed_return() -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "out_order_no": "P20150806125346", "out_return_no": "R20150806125347"})
}

async fn cloudpay_return(sandbox: &Sandbox, body: &Value) -> ReturnQueryResponse {
    ReturnQueryResponse::parse(&cloudpay(sandbox, "profitsharingreturnquery", body).await.http()).unwrap()
}

async fn v3_return(sandbox: &Sandbox, clock: &TestClock) -> v3::ReturnQueryResponse {
    let raw = https(sandbox, &Req::v3(RETURN_QUERY, clock.now())).await;
    assert!(raw.verify(sandbox, clock.now()).is_ok());
    raw.parse_verified(sandbox, clock.now(), v3::ReturnQueryResponse::parse).unwrap()
}

async fn v3_order(sandbox: &Sandbox, clock: &TestClock) -> v3::OrderQueryResponse {
    let raw = https(sandbox, &Req::v3(ORDER_QUERY, clock.now())).await;
    assert!(raw.verify(sandbox, clock.now()).is_ok());
    raw.parse_verified(sandbox, clock.now(), v3::OrderQueryResponse::parse).unwrap()
}

fn assert_processing_order(order: &v3::OrderQueryResponse) {
    assert_eq!(order.status, v3::OrderStatus::Processing);
    assert_eq!(order.close_reason, None);
    for receiver in order.receivers.as_ref().unwrap() {
        assert_eq!(receiver.result, v3::ReceiverResult::Pending);
        assert_eq!(receiver.finish_time, None);
        assert_eq!(receiver.fail_reason, None);
    }
}

fn assert_finished_order(order: &v3::OrderQueryResponse) {
    assert_eq!(order.status, v3::OrderStatus::Finished);
    assert_eq!(order.receivers.as_ref().unwrap()[0].result, v3::ReceiverResult::Success);
    assert!(order.receivers.as_ref().unwrap()[0].finish_time.is_some());
}

#[tokio::test]
async fn each_fixture_settles_after_its_own_count() {
    let (sandbox, clock) = common::start().await;
    // CloudPay return query: one PROCESSING answer, whichever order number is used.
    let first = cloudpay_return(&sandbox, &return_query(true)).await;
    assert_eq!(first.result, ReturnResult::Processing);
    assert_eq!((first.finish_time, first.fail_reason), (None, None));
    for by_order_id in [false, true, false] {
        let settled = cloudpay_return(&sandbox, &return_query(by_order_id)).await;
        assert_eq!(settled.result, ReturnResult::Success);
        assert_eq!(settled.finish_time.unwrap().original(), "20180608170132");
    }
    // A fixture with processing_queries 0 is final at once.
    let failed = cloudpay_return(&sandbox, &failed_return()).await;
    assert_eq!(failed.result, ReturnResult::Failed);
    assert_eq!(failed.fail_reason.unwrap().as_str(), "ACCOUNT_ABNORMAL");

    // v3 return query.
    let first = v3_return(&sandbox, &clock).await;
    assert_eq!(first.result, v3::ReturnResult::Processing);
    assert_eq!((first.finish_time, first.fail_reason), (None, None));
    let settled = v3_return(&sandbox, &clock).await;
    assert_eq!(settled.result, v3::ReturnResult::Success);
    assert_eq!(settled.finish_time.unwrap().original(), "2015-05-20T13:29:35.120+08:00");

    // v3 order query.
    assert_processing_order(&v3_order(&sandbox, &clock).await);
    let settled = v3_order(&sandbox, &clock).await;
    assert_finished_order(&settled);
    assert_eq!(settled.close_reason.unwrap().as_str(), "NO_AUTH");
}

#[tokio::test]
async fn settle_after_queries() {
    let (config, clock) = common::config();
    let sandbox = Sandbox::start(config.settle(Settle::AfterQueries(3))).await.unwrap();
    for _ in 0..3 {
        assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Processing);
        assert_eq!(v3_return(&sandbox, &clock).await.result, v3::ReturnResult::Processing);
        assert_processing_order(&v3_order(&sandbox, &clock).await);
    }
    assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Success);
    assert_eq!(v3_return(&sandbox, &clock).await.result, v3::ReturnResult::Success);
    assert_finished_order(&v3_order(&sandbox, &clock).await);
    // Only orders that start PROCESSING do: the failed return is final at once.
    assert_eq!(cloudpay_return(&sandbox, &failed_return()).await.result, ReturnResult::Failed);
}

#[tokio::test]
async fn settle_after_zero_queries_is_final_at_once() {
    let (config, clock) = common::config();
    let sandbox = Sandbox::start(config.settle(Settle::AfterQueries(0))).await.unwrap();
    assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Success);
    assert_eq!(v3_return(&sandbox, &clock).await.result, v3::ReturnResult::Success);
    assert_finished_order(&v3_order(&sandbox, &clock).await);
}

#[tokio::test]
async fn settle_after_seconds_of_the_sandbox_clock() {
    let (config, clock) = common::config();
    let sandbox = Sandbox::start(config.settle(Settle::AfterSeconds(60))).await.unwrap();
    // The first query starts each order's countdown.
    assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Processing);
    assert_eq!(v3_return(&sandbox, &clock).await.result, v3::ReturnResult::Processing);
    assert_processing_order(&v3_order(&sandbox, &clock).await);
    // However many queries come in the meantime.
    clock.advance(59);
    for _ in 0..5 {
        assert_eq!(cloudpay_return(&sandbox, &return_query(true)).await.result, ReturnResult::Processing);
    }
    assert_eq!(v3_return(&sandbox, &clock).await.result, v3::ReturnResult::Processing);
    assert_processing_order(&v3_order(&sandbox, &clock).await);
    clock.advance(1);
    assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Success);
    assert_eq!(v3_return(&sandbox, &clock).await.result, v3::ReturnResult::Success);
    assert_finished_order(&v3_order(&sandbox, &clock).await);
    assert_eq!(cloudpay_return(&sandbox, &failed_return()).await.result, ReturnResult::Failed);
}

#[tokio::test]
async fn reset_starts_over() {
    let (sandbox, clock) = common::start().await;
    for _ in 0..2 {
        cloudpay_return(&sandbox, &return_query(false)).await;
        v3_order(&sandbox, &clock).await;
    }
    assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Success);
    sandbox.reset();
    assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Processing);
    assert_processing_order(&v3_order(&sandbox, &clock).await);
    assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Success);
    // The admin endpoint does the same.
    let raw = common::http(&sandbox, &Req::post("/_sandbox/reset")).await;
    assert_eq!((raw.status, raw.json()), (200, json!({"reset": true})));
    assert_eq!(cloudpay_return(&sandbox, &return_query(false)).await.result, ReturnResult::Processing);
    assert_processing_order(&v3_order(&sandbox, &clock).await);
}

fn finish(transaction_id: &str, out_order_no: &str) -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": transaction_id, "out_order_no": out_order_no, "description": "分账完结"})
}

const PAID: &str = "4208450740201411110007820472";
const STILL_SHARING: &str = "4208450740201411110007820473";

fn err_code(raw: &Raw) -> Option<String> {
    let body = raw.json();
    assert_eq!(body["return_code"], "SUCCESS");
    (body["result_code"] == "FAIL").then(|| body["err_code"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn finish_is_idempotent_on_out_order_no() {
    let (sandbox, _) = common::start().await;
    let first = cloudpay(&sandbox, "profitsharingfinish", &finish(PAID, "P1")).await;
    assert_eq!(err_code(&first), None);
    let answer = FinishResponse::parse(&first.http()).unwrap();
    assert_eq!((answer.transaction_id.as_str(), answer.out_order_no.as_str()), (PAID, "P1"));
    assert_eq!(answer.order_id, "3008450740201411110007820472");
    // The same out_order_no is the same request: the same answer, byte for byte.
    for _ in 0..3 {
        let again = cloudpay(&sandbox, "profitsharingfinish", &finish(PAID, "P1")).await;
        assert_eq!(again.body, first.body);
    }
    // A new number for a finished payment: nothing is left to share.
    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish(PAID, "P2")).await;
    assert_eq!(err_code(&raw).as_deref(), Some("AMOUNT_OVERDUE"));
    let err = FinishResponse::parse(&raw.http()).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::AmountOverdue));
    assert!(!err.is_retryable());
    // ...and the first number still answers as before.
    assert_eq!(cloudpay(&sandbox, "profitsharingfinish", &finish(PAID, "P1")).await.body, first.body);
    // Another sub-merchant cannot finish this payment.
    let mut other = finish(PAID, "P1");
    other["sub_mch_id"] = json!("1900000199");
    let raw = cloudpay(&sandbox, "profitsharingfinish", &other).await;
    assert_eq!(err_code(&raw).as_deref(), Some("INVALID_TRANSACTIONID"));

    // Reset forgets the finish.
    sandbox.reset();
    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish(PAID, "P2")).await;
    assert_eq!(err_code(&raw), None);
    assert_eq!(FinishResponse::parse(&raw.http()).unwrap().out_order_no, "P2");
    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish(PAID, "P1")).await;
    assert_eq!(err_code(&raw).as_deref(), Some("AMOUNT_OVERDUE"));
}

#[tokio::test]
async fn finish_is_not_ready_while_the_payment_is_being_shared() {
    let (sandbox, _) = common::start().await;
    for _ in 0..2 {
        let raw = cloudpay(&sandbox, "profitsharingfinish", &finish(STILL_SHARING, "P7")).await;
        assert_eq!(err_code(&raw).as_deref(), Some("ORDER_NOT_READY"));
        let err = FinishResponse::parse(&raw.http()).unwrap_err();
        assert!(err.is_retryable(), "ORDER_NOT_READY is retried with the same number");
    }
    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish(STILL_SHARING, "P7")).await;
    assert_eq!(err_code(&raw), None);
    assert_eq!(FinishResponse::parse(&raw.http()).unwrap().order_id, "3008450740201411110007820473");
    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish(STILL_SHARING, "P8")).await;
    assert_eq!(err_code(&raw).as_deref(), Some("AMOUNT_OVERDUE"));
    // After a reset it is not ready again.
    sandbox.reset();
    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish(STILL_SHARING, "P8")).await;
    assert_eq!(err_code(&raw).as_deref(), Some("ORDER_NOT_READY"));
}

const PAGED: &str = "4200000000000000000000000036";

async fn refunds(sandbox: &Sandbox, body: Value) -> Raw {
    cloudpay(sandbox, "queryrefund", &body).await
}

fn page_body(offset: Option<u32>) -> Value {
    let mut body = json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": PAGED});
    if let Some(offset) = offset {
        body["offset"] = json!(offset);
    }
    body
}

#[tokio::test]
async fn paging_through_36_refunds() {
    let (sandbox, _) = common::start().await;
    let mut seen = Vec::new();
    for (offset, count) in [(0, 10), (10, 10), (20, 10), (30, 6)] {
        let raw = refunds(&sandbox, page_body(Some(offset))).await;
        let body = raw.json();
        assert_eq!(body["refund_count"], count, "offset {offset}");
        assert_eq!(body["total_refund_count"], 36, "offset {offset}");
        let page = RefundQueryResponse::parse(&raw.http()).unwrap();
        assert_eq!(page.listed_refunds().len(), count as usize);
        for (i, refund) in page.listed_refunds().iter().enumerate() {
            let n = offset as usize + i;
            assert_eq!(refund.refund_id, format!("50300000000000000000000000{n:02}"));
            assert_eq!(refund.out_refund_no, format!("R202611210000{n:02}"));
        }
        seen.extend(page.listed_refunds().iter().map(|r| r.refund_id.clone()));
    }
    seen.dedup();
    assert_eq!(seen.len(), 36);
    // The last two are still processing (no success time).
    let last = RefundQueryResponse::parse(&refunds(&sandbox, page_body(Some(34))).await.http()).unwrap();
    assert_eq!(last.refund_count, 2);
    assert!(last.listed_refunds().iter().all(|r| r.refund_status.as_str() == "PROCESSING"));
    assert!(last.listed_refunds().iter().all(|r| r.refund_success_time.is_none()));
    // Without an offset: the first 10 and the total (more than one page).
    let body = refunds(&sandbox, page_body(None)).await.json();
    assert_eq!((body["refund_count"].clone(), body["total_refund_count"].clone()), (json!(10), json!(36)));
    assert_eq!(body["refund_id_0"], "5030000000000000000000000000");
    assert!(body.get("refund_id_10").is_none());
    // Offset 35 is the last refund; 36 and beyond are PARAM_ERROR.
    let body = refunds(&sandbox, page_body(Some(35))).await.json();
    assert_eq!(body["refund_count"], 1);
    assert_eq!(body["refund_id_0"], "5030000000000000000000000035");
    for offset in [36, 37, 1000] {
        let body = refunds(&sandbox, page_body(Some(offset))).await.json();
        assert_eq!((body["result_code"].clone(), body["err_code"].clone()), (json!("FAIL"), json!("PARAM_ERROR")));
        assert!(body["err_code_des"].as_str().unwrap().contains("offset"), "{body}");
    }
    // By out_trade_no, the same pages.
    let body = json!({"sub_mch_id": SUB, "nonce_str": "N1", "out_trade_no": "T20261121000036", "offset": 20});
    let body = refunds(&sandbox, body).await.json();
    assert_eq!(body["refund_id_0"], "5030000000000000000000000020");
    assert_eq!(body["total_refund_count"], 36);
    // The one-refund order: with an offset the total comes back; past it is PARAM_ERROR.
    let one = |offset: u32| json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": "1217752501201407033233368018", "offset": offset});
    let body = refunds(&sandbox, one(0)).await.json();
    assert_eq!((body["refund_count"].clone(), body["total_refund_count"].clone()), (json!(1), json!(1)));
    assert_eq!(refunds(&sandbox, one(1)).await.json()["err_code"], "PARAM_ERROR");
}

#[tokio::test]
async fn one_refund_by_its_id() {
    let (sandbox, _) = common::start().await;
    for lookup in [json!({"refund_id": "5030000000000000000000000017"}), json!({"out_refund_no": "R20261121000017"})] {
        let mut body = json!({"sub_mch_id": SUB, "nonce_str": "N1"});
        body.as_object_mut().unwrap().extend(lookup.as_object().unwrap().clone());
        let answer = RefundQueryResponse::parse(&refunds(&sandbox, body).await.http()).unwrap();
        assert_eq!(answer.refund_count, 1);
        assert_eq!(answer.total_refund_count, None);
        assert_eq!(answer.transaction_id, PAGED);
        assert_eq!(answer.listed_refunds()[0].refund_id, "5030000000000000000000000017");
        assert_eq!(answer.listed_refunds()[0].out_refund_no, "R20261121000017");
    }
    for lookup in [json!({"refund_id": "5030000000000000000000000036"}), json!({"out_refund_no": "R20261121000036"})] {
        let mut body = json!({"sub_mch_id": SUB, "nonce_str": "N1"});
        body.as_object_mut().unwrap().extend(lookup.as_object().unwrap().clone());
        let body = refunds(&sandbox, body).await.json();
        assert_eq!(body["err_code"], "REFUNDNOTEXIST", "{body}");
    }
    // Refunds belong to their sub-merchant.
    let body = json!({"sub_mch_id": "1900000199", "nonce_str": "N1", "refund_id": "5030000000000000000000000017"});
    assert_eq!(refunds(&sandbox, body).await.json()["err_code"], "REFUNDNOTEXIST");
}

#[tokio::test]
async fn the_protocol_pager_walks_the_raw_pages() {
    let (sandbox, _) = common::start().await;
    let request = RefundQueryRequest::from_body(page_body(None).to_string().as_bytes()).unwrap();
    let mut pager = RefundPager::new(request);
    let mut all = Vec::new();
    let mut requests = 0;
    while let Some(next) = pager.next_request(NonceStr::new(common::nonce()).unwrap()) {
        requests += 1;
        let raw = refunds(&sandbox, serde_json::Value::Object(next.body())).await;
        all.extend(pager.push(RefundQueryResponse::parse(&raw.http()).unwrap()).unwrap());
        assert!(requests <= 4);
    }
    assert_eq!((requests, all.len(), pager.total()), (4, 36, Some(36)));
}
