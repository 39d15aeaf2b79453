//! CloudPay over raw HTTP: every reply shape reads back to the same typed value, every failure
//! code comes in its operation's fields, and bad requests are FAIL answers.

mod common;

use common::{Raw, Req, SUB, cloudpay, http};
use serde_json::{Value, json};
use wxpay_protocol::ErrorCode;
use wxpay_protocol::cloudpay::{
    FinishResponse, KeyCase, ListStyle, NumberStyle, RefundQueryResponse, ReplyShape, ReturnQueryResponse, ReturnResult,
};
use wxpay_sandbox::Sandbox;

/// The return of the example (docs/protocol.md §8.1) that fails (final from the first query).
fn failed_return() -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "out_order_no": "P20150806125346", "out_return_no": "R20150806125347"})
}

/// The return of the example (docs/protocol.md §8.1) that succeeds after one PROCESSING answer.
fn settling_return() -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "order_id": "4208450740201411110007820472", "out_return_no": "R20150806125346"})
}

fn finish(transaction_id: &str, out_order_no: &str) -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": transaction_id, "out_order_no": out_order_no, "description": "分账完结"})
}

/// The order of the refund-query example (docs/protocol.md §8.5): one refund with a coupon.
fn seed_refunds() -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": "1217752501201407033233368018"})
}

/// A page of the order with 36 refunds.
fn page(offset: u32) -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": "4200000000000000000000000036", "offset": offset})
}

async fn start_with(shape: ReplyShape) -> Sandbox {
    let (config, _) = common::config();
    Sandbox::start(config.https(None).reply_shape(shape)).await.unwrap()
}

/// The business object of an answer: `respdata` when wrapped.
fn inner(raw: &Raw) -> Value {
    let body = raw.json();
    match body.get("respdata") {
        Some(inner) => inner.clone(),
        None => body,
    }
}

/// The typed answers of one sandbox in one shape, with the raw refund-query answers.
struct Answers {
    processing: ReturnQueryResponse,
    settled: ReturnQueryResponse,
    failed: ReturnQueryResponse,
    finish: FinishResponse,
    refunds: RefundQueryResponse,
    last_page: RefundQueryResponse,
    raw_refunds: Raw,
    raw_return: Raw,
}

async fn answers(sandbox: &Sandbox) -> Answers {
    let processing = cloudpay(sandbox, "profitsharingreturnquery", &settling_return()).await;
    let settled = cloudpay(sandbox, "profitsharingreturnquery", &settling_return()).await;
    let failed = cloudpay(sandbox, "profitsharingreturnquery", &failed_return()).await;
    let finish = cloudpay(sandbox, "profitsharingfinish", &finish("4208450740201411110007820472", "P1")).await;
    let refunds = cloudpay(sandbox, "queryrefund", &seed_refunds()).await;
    let last_page = cloudpay(sandbox, "queryrefund", &page(30)).await;
    for raw in [&processing, &settled, &failed, &finish, &refunds, &last_page] {
        assert_eq!(raw.status, 200);
        assert_eq!(raw.header("Content-Type"), Some("application/json"));
        assert!(!raw.has_signature_headers(), "CloudPay answers are not signed");
    }
    Answers {
        processing: ReturnQueryResponse::parse(&processing.http()).unwrap(),
        settled: ReturnQueryResponse::parse(&settled.http()).unwrap(),
        failed: ReturnQueryResponse::parse(&failed.http()).unwrap(),
        finish: FinishResponse::parse(&finish.http()).unwrap(),
        refunds: RefundQueryResponse::parse(&refunds.http()).unwrap(),
        last_page: RefundQueryResponse::parse(&last_page.http()).unwrap(),
        raw_refunds: refunds,
        raw_return: failed,
    }
}

#[tokio::test]
async fn the_documented_shape_carries_the_fixtures() {
    let sandbox = start_with(ReplyShape::new()).await;
    let a = answers(&sandbox).await;
    assert_eq!(a.processing.result, ReturnResult::Processing);
    assert_eq!(a.processing.finish_time, None);
    assert_eq!(a.settled.result, ReturnResult::Success);
    assert_eq!(a.settled.return_amount.get(), 888);
    assert_eq!(a.settled.finish_time.as_ref().map(|t| t.original()), Some("20180608170132"));
    assert_eq!(a.failed.result, ReturnResult::Failed);
    assert_eq!(a.failed.fail_reason.as_ref().map(|r| r.as_str()), Some("ACCOUNT_ABNORMAL"));
    assert_eq!(a.finish.order_id, "3008450740201411110007820472");
    assert_eq!(a.finish.out_order_no, "P1");
    let receiver = a.finish.receiver.as_ref().unwrap();
    assert_eq!((receiver.receiver_type.as_str(), receiver.account.as_str()), ("MERCHANT_ID", "190001001"));
    assert_eq!(a.refunds.refund_count, 1);
    assert_eq!(a.refunds.total_refund_count, None, "one page and no offset: no total");
    let refund = &a.refunds.listed_refunds()[0];
    assert_eq!(refund.refund_fee.get(), 100);
    assert_eq!(refund.coupons.len(), 1);
    assert_eq!(refund.coupons[0].coupon_refund_id, "10000");
    assert_eq!(refund.refund_recv_accout.as_deref(), Some("招商银行信用卡0403"));
    assert_eq!(a.last_page.refund_count, 6);
    assert_eq!(a.last_page.total_refund_count, Some(36));

    // The raw JSON: bare, snake_case, indexed, numbers.
    let body = a.raw_refunds.json();
    assert_eq!(body["return_code"], "SUCCESS");
    assert_eq!(body["result_code"], "SUCCESS");
    assert_eq!(body["refund_count"], 1);
    assert_eq!(body["refund_id_0"], "1217752501201407033233368018");
    assert_eq!(body["coupon_refund_id_0_0"], "10000");
    assert!(body.get("errcode").is_none() && body.get("errCode").is_none());
    // The return query has no result_code (docs/protocol.md §8.1).
    assert!(a.raw_return.json().get("result_code").is_none());
}

#[tokio::test]
async fn every_reply_shape_reads_back_to_the_same_values() {
    let reference = answers(&start_with(ReplyShape::new()).await).await;
    for shape in ReplyShape::all() {
        let sandbox = start_with(shape).await;
        let a = answers(&sandbox).await;
        assert_eq!(a.processing, reference.processing, "{shape:?}");
        assert_eq!(a.settled, reference.settled, "{shape:?}");
        assert_eq!(a.failed, reference.failed, "{shape:?}");
        assert_eq!(a.finish, reference.finish, "{shape:?}");
        assert_eq!(a.refunds, reference.refunds, "{shape:?}");
        assert_eq!(a.last_page, reference.last_page, "{shape:?}");

        // And the JSON really is in that shape.
        let outer = a.raw_refunds.json();
        assert_eq!(outer.get("errcode").is_some(), shape.wrapped, "{shape:?}: {outer}");
        if shape.wrapped {
            assert_eq!(outer["errcode"], 0);
            assert_eq!(outer["errmsg"], "ok");
            assert!(outer["respdata"].is_object());
        }
        let body = inner(&a.raw_refunds);
        let key =
            |snake: &str, camel: &str| if shape.keys == KeyCase::Camel { camel.to_owned() } else { snake.to_owned() };
        assert_eq!(body[key("return_code", "returnCode")], "SUCCESS", "{shape:?}: {body}");
        if shape.keys == KeyCase::Camel {
            assert!(body.get("return_code").is_none());
            assert_eq!(body["errCode"], 0);
            assert_eq!(body["errMsg"], "cloudPay.queryRefund:ok");
            assert_eq!(inner(&a.raw_return)["errMsg"], "cloudPay.profitSharingReturnQuery:ok");
        }
        let count = &body[key("refund_count", "refundCount")];
        match shape.numbers {
            NumberStyle::Numbers => assert_eq!(count, &json!(1), "{shape:?}"),
            _ => assert_eq!(count, &json!("1"), "{shape:?}"),
        }
        match shape.lists {
            ListStyle::Indexed => {
                assert_eq!(body[key("refund_id_0", "refundId_0")], "1217752501201407033233368018", "{shape:?}");
                assert_eq!(body[key("coupon_refund_id_0_0", "couponRefundId_0_0")], "10000", "{shape:?}");
            }
            _ => {
                assert_eq!(body[key("refund_id_list", "refundIdList")], json!(["1217752501201407033233368018"]));
                assert_eq!(body[key("coupon_refund_id_array", "couponRefundIdArray")], json!([["10000"]]));
                assert!(body.get(key("refund_id_0", "refundId_0")).is_none());
            }
        }
        sandbox.shutdown().await;
    }
}

/// The failure fields of a raw CloudPay answer.
fn assert_failure(raw: &Raw, op: &str, code: &str, needle: &str) {
    assert_eq!(raw.status, 200, "CloudPay failures are HTTP 200");
    let body = raw.json();
    if op == "profitsharingreturnquery" {
        // docs/protocol.md §8.1: return_code FAIL with error_code / error_msg, nothing else.
        assert_eq!(body["return_code"], "FAIL", "{body}");
        assert_eq!(body["error_code"], code, "{body}");
        assert!(body["error_msg"].as_str().unwrap().contains(needle), "{body}");
        assert!(body.get("err_code").is_none() && body.get("result_code").is_none(), "{body}");
    } else {
        // docs/protocol.md §8.3 and §8.5: return_code SUCCESS, result_code FAIL, err_code /
        // err_code_des.
        assert_eq!(body["return_code"], "SUCCESS", "{body}");
        assert_eq!(body["result_code"], "FAIL", "{body}");
        assert_eq!(body["err_code"], code, "{body}");
        assert!(body["err_code_des"].as_str().unwrap().contains(needle), "{body}");
        assert!(body.get("error_code").is_none(), "{body}");
    }
    // The protocol reads it as the API error it is.
    let err = match op {
        "profitsharingreturnquery" => ReturnQueryResponse::parse(&raw.http()).unwrap_err(),
        "profitsharingfinish" => FinishResponse::parse(&raw.http()).unwrap_err(),
        _ => RefundQueryResponse::parse(&raw.http()).unwrap_err(),
    };
    let api = err.as_api().expect("an API error");
    assert_eq!(api.code(), Some(&ErrorCode::from(code)));
    assert!(api.message().unwrap().contains(needle), "{:?}", api.message());
}

#[tokio::test]
async fn unknown_ids_have_their_operation_s_code() {
    let (sandbox, _) = common::start().await;
    let mut unknown_return = settling_return();
    unknown_return["out_return_no"] = json!("R0");
    let raw = cloudpay(&sandbox, "profitsharingreturnquery", &unknown_return).await;
    assert_failure(&raw, "profitsharingreturnquery", "ORDERNOTEXIST", "回退单不存在");
    let mut other_sub = settling_return();
    other_sub["sub_mch_id"] = json!("1900000199");
    let raw = cloudpay(&sandbox, "profitsharingreturnquery", &other_sub).await;
    assert_failure(&raw, "profitsharingreturnquery", "ORDERNOTEXIST", "回退单不存在");

    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish("4208450740201411110007820499", "P1")).await;
    assert_failure(&raw, "profitsharingfinish", "INVALID_TRANSACTIONID", "无效的微信支付订单号");

    for lookup in [
        json!({"refund_id": "5030000000000000000000000099"}),
        json!({"out_refund_no": "R0"}),
        json!({"transaction_id": "4200000000000000000000000099"}),
        json!({"out_trade_no": "T0"}),
    ] {
        let mut body = json!({"sub_mch_id": SUB, "nonce_str": "N1"});
        body.as_object_mut().unwrap().extend(lookup.as_object().unwrap().clone());
        let raw = cloudpay(&sandbox, "queryrefund", &body).await;
        assert_failure(&raw, "queryrefund", "REFUNDNOTEXIST", "退款订单查询失败");
    }
}

#[tokio::test]
async fn bad_parameters_are_param_error_naming_the_field() {
    let (sandbox, _) = common::start().await;
    let with = |base: Value, key: &str, value: Value| {
        let mut body = base;
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value;
        }
        body
    };
    let rq = "profitsharingreturnquery";
    let fin = "profitsharingfinish";
    let rf = "queryrefund";
    let cases = [
        (rq, with(failed_return(), "sub_mch_id", Value::Null), "`sub_mch_id`"),
        (rq, with(failed_return(), "sub_mch_id", json!("1".repeat(33))), "`sub_mch_id`: must be at most 32 bytes"),
        (rq, with(failed_return(), "sub_mch_id", json!({"id": 1})), "`sub_mch_id`"),
        (rq, with(failed_return(), "nonce_str", Value::Null), "`nonce_str`"),
        (rq, with(failed_return(), "nonce_str", json!("N".repeat(33))), "`nonce_str`"),
        (
            rq,
            with(failed_return(), "out_return_no", json!("R".repeat(65))),
            "`out_return_no`: must be at most 64 bytes",
        ),
        (rq, with(failed_return(), "out_return_no", json!("R 1")), "`out_return_no`"),
        (rq, with(failed_return(), "out_return_no", Value::Null), "`out_return_no`"),
        (rq, with(failed_return(), "order_id", json!("4208450740201411110007820472")), "`order_id|out_order_no`"),
        (rq, with(failed_return(), "out_order_no", Value::Null), "`order_id|out_order_no`"),
        (rq, with(failed_return(), "out_order_no", json!("P#1")), "`out_order_no`"),
        (fin, with(finish("4208450740201411110007820472", "P1"), "description", Value::Null), "`description`"),
        (
            fin,
            with(finish("4208450740201411110007820472", "P1"), "description", json!("分".repeat(27))),
            "`description`: must be at most 80 bytes",
        ),
        (
            fin,
            with(finish("4208450740201411110007820472", "P1"), "transaction_id", json!("4".repeat(33))),
            "`transaction_id`",
        ),
        (fin, with(finish("4208450740201411110007820472", "P1"), "out_order_no", json!("P 1")), "`out_order_no`"),
        (fin, with(finish("4208450740201411110007820472", "P1"), "out_order_no", json!("")), "`out_order_no`"),
        (
            rf,
            with(seed_refunds(), "transaction_id", Value::Null),
            "`refund_id|out_refund_no|transaction_id|out_trade_no`",
        ),
        (rf, with(seed_refunds(), "out_trade_no", json!("T".repeat(33))), "`out_trade_no`"),
        (rf, with(seed_refunds(), "offset", json!(-1)), "`offset`"),
        (rf, with(seed_refunds(), "offset", json!(1.5)), "`offset`"),
        (rf, with(seed_refunds(), "offset", json!("ten")), "`offset`"),
        (rf, with(seed_refunds(), "offset", json!(true)), "`offset`"),
    ];
    for (op, body, needle) in cases {
        let raw = cloudpay(&sandbox, op, &body).await;
        assert_failure(&raw, op, "PARAM_ERROR", needle);
    }
    // Bodies that are not a JSON object.
    for op in [rq, fin, rf] {
        for body in ["not json", "[1,2]", "", "\"sub_mch_id\""] {
            let req = Req::post(&format!("/_/pay/{op}")).header("Content-Type", "application/json").body(body);
            assert_failure(&http(&sandbox, &req).await, op, "PARAM_ERROR", "`body`");
        }
    }
}

#[tokio::test]
async fn lenient_where_the_v2_api_is() {
    let (sandbox, _) = common::start().await;
    // Ids as JSON numbers (XML-era clients), offsets as strings, charset in Content-Type.
    let body = json!({"sub_mch_id": 1900000109u64, "nonce_str": "N1", "transaction_id": "4200000000000000000000000036", "offset": "10"});
    let raw =
        http(&sandbox, &Req::cloudpay("queryrefund", &body).set("Content-Type", "application/json; charset=utf-8"))
            .await;
    let page = RefundQueryResponse::parse(&raw.http()).unwrap();
    assert_eq!((page.refund_count, page.total_refund_count), (10, Some(36)));
    assert_eq!(page.listed_refunds()[0].refund_id, "5030000000000000000000000010");
    let raw =
        http(&sandbox, &Req::cloudpay("queryrefund", &seed_refunds()).set("Content-Type", "Application/JSON")).await;
    assert_eq!(raw.json()["return_code"], "SUCCESS");
    // Lookup priority: refund_id > out_refund_no > transaction_id > out_trade_no.
    let body = json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": "1217752501201407033233368018",
        "out_refund_no": "R20261121000007", "refund_id": "5030000000000000000000000003"});
    let answer = RefundQueryResponse::parse(&common::cloudpay(&sandbox, "queryrefund", &body).await.http()).unwrap();
    assert_eq!(answer.listed_refunds().len(), 1);
    assert_eq!(answer.listed_refunds()[0].refund_id, "5030000000000000000000000003");
    assert_eq!(answer.transaction_id, "4200000000000000000000000036");
}

#[tokio::test]
async fn without_a_json_content_type_the_request_fails() {
    let (sandbox, _) = common::start().await;
    for (op, body) in [
        ("profitsharingreturnquery", failed_return()),
        ("profitsharingfinish", finish("4208450740201411110007820472", "P1")),
        ("queryrefund", seed_refunds()),
    ] {
        for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
            let mut req = Req::cloudpay(op, &body).without("Content-Type");
            if let Some(value) = content_type {
                req = req.header("Content-Type", value);
            }
            let raw = http(&sandbox, &req).await;
            assert_eq!(raw.status, 200);
            let json = raw.json();
            // return_code FAIL with only a message: the request itself could not be read.
            assert_eq!(json["return_code"], "FAIL", "{json}");
            let message = if op == "profitsharingreturnquery" { &json["error_msg"] } else { &json["return_msg"] };
            assert_eq!(message, "Content-Type must be application/json", "{json}");
            assert!(json.get("err_code").is_none() && json.get("error_code").is_none(), "{json}");
            let err = match op {
                "profitsharingreturnquery" => ReturnQueryResponse::parse(&raw.http()).unwrap_err(),
                "profitsharingfinish" => FinishResponse::parse(&raw.http()).unwrap_err(),
                _ => RefundQueryResponse::parse(&raw.http()).unwrap_err(),
            };
            let api = err.as_api().unwrap();
            assert_eq!(api.code(), None);
            assert_eq!(api.message(), Some("Content-Type must be application/json"));
        }
    }
    // The finish was never processed: a new out_order_no still succeeds.
    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish("4208450740201411110007820472", "P2")).await;
    assert_eq!(raw.json()["result_code"], "SUCCESS");
}

#[tokio::test]
async fn failures_in_the_cloud_sdk_shape() {
    // camelCase answers carry wx-server-sdk's numeric errCode 0, which shadows the business
    // err_code of finish and refund query (docs/protocol.md §1.2); the return query's errorCode
    // stays.
    let sandbox = start_with(ReplyShape::new().key_case(KeyCase::Camel).wrapped(true)).await;
    let mut unknown = failed_return();
    unknown["out_return_no"] = json!("R0");
    let raw = cloudpay(&sandbox, "profitsharingreturnquery", &unknown).await;
    let body = inner(&raw);
    assert_eq!(body["returnCode"], "FAIL");
    assert_eq!(body["errorCode"], "ORDERNOTEXIST");
    assert_eq!(body["errorMsg"], "回退单不存在");
    let err = ReturnQueryResponse::parse(&raw.http()).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::OrderNotExist));

    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish("4208450740201411110007820499", "P1")).await;
    let body = inner(&raw);
    assert_eq!(body["resultCode"], "FAIL");
    assert_eq!(body["errCode"], 0);
    assert_eq!(body["errMsg"], "cloudPay.profitSharingFinish:ok");
    assert_eq!(body["errCodeDes"], "无效的微信支付订单号");
    let err = FinishResponse::parse(&raw.http()).unwrap_err();
    let api = err.as_api().unwrap();
    assert_eq!(api.code(), None, "the code is shadowed, as in wx-server-sdk");
    assert_eq!(api.message(), Some("无效的微信支付订单号"));
}

#[tokio::test]
async fn fields_outside_the_request_are_ignored() {
    // The v2 fields CloudPay leaves out (mch_id, appid, sign, sign_type) and unknown ones are
    // not read, not checked, and not refused.
    let (sandbox, _) = common::start().await;
    let mut body = seed_refunds();
    for (key, value) in
        [("mch_id", "1230000109"), ("appid", "wx1"), ("sign", "WRONG"), ("sign_type", "MD5"), ("x", "y")]
    {
        body[key] = json!(value);
    }
    let raw = cloudpay(&sandbox, "queryrefund", &body).await;
    assert_eq!(RefundQueryResponse::parse(&raw.http()).unwrap().refund_count, 1);
}

#[tokio::test]
async fn a_body_over_64_kib_is_dropped_unanswered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (sandbox, _) = common::start().await;
    let mut body = seed_refunds();
    body["padding"] = json!("x".repeat(70 * 1024));
    let addr = common::listener(&sandbox, common::Via::Http);
    let bytes = Req::cloudpay("queryrefund", &body).to_bytes(addr);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server stops reading after 64 KiB and closes: writing or reading may be reset.
    let _ = stream.write_all(&bytes).await;
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received).await;
    assert!(received.is_empty(), "{:?}", String::from_utf8_lossy(&received));
    // Just under the limit is served.
    body["padding"] = json!("x".repeat(60 * 1024));
    let raw = cloudpay(&sandbox, "queryrefund", &body).await;
    assert_eq!(raw.json()["return_code"], "SUCCESS");
}
