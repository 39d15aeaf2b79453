//! Nothing lost: fields no response type knows are kept in `extra` at the level they belong to
//! (answer, receiver, refund, coupon), spelled as sent, and written back; wire scaffolding is
//! never extra (docs/design.md §2, docs/protocol.md §1.2). And `detail_id` of v3 order-query
//! receivers is a field.

use serde_json::{Value, json};
use wxpay_protocol::cloudpay::{self, KeyCase, ListStyle, ReplyShape};
use wxpay_protocol::security::danger;
use wxpay_protocol::{Extra, v3};

fn ok(body: &[u8]) -> http::Response<Vec<u8>> {
    http::Response::new(body.to_vec())
}

fn ok_json(value: &Value) -> http::Response<Vec<u8>> {
    ok(value.to_string().as_bytes())
}

const SEED_000: &[u8] = include_bytes!("fixtures/doc-examples/000-cloudpay-return-query.json");
const SEED_001: &[u8] = include_bytes!("fixtures/doc-examples/001-v3-return-query.json");
const SEED_002: &[u8] = include_bytes!("fixtures/doc-examples/002-cloudpay-finish.json");
const SEED_003: &[u8] = include_bytes!("fixtures/doc-examples/003-v3-order-query.json");
const SEED_004: &[u8] = include_bytes!("fixtures/doc-examples/004-cloudpay-refund-query.json");

/// The keys of an `extra`, in order.
fn keys(extra: &Extra) -> Vec<&str> {
    extra.keys().collect()
}

/// A refund query answer with one refund of one coupon, in the documented (indexed) shape.
fn refund_answer() -> serde_json::Map<String, Value> {
    let value = json!({
        "return_code": "SUCCESS", "result_code": "SUCCESS", "transaction_id": "42", "total_fee": 300,
        "cash_fee": 300, "refund_count": 1, "refund_id_0": "5001", "out_refund_no_0": "R1",
        "refund_fee_0": 100, "refund_status_0": "SUCCESS", "coupon_refund_count_0": 1,
        "coupon_refund_id_0_0": "C1", "coupon_refund_fee_0_0": 10,
    });
    let Value::Object(map) = value else { unreachable!() };
    map
}

#[test]
fn the_seeds_examples_have_no_extra_fields() {
    // Every field the documents show is read; the refund-query example's err_code next to
    // SUCCESS (docs/protocol.md §8.5) is a status field, not an extra one.
    let r = cloudpay::ReturnQueryResponse::parse(&ok(SEED_000)).unwrap();
    assert!(r.extra.is_empty(), "{:?}", r.extra);
    let r = v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok(SEED_001))).unwrap();
    assert!(r.extra.is_empty(), "{:?}", r.extra);
    let r = cloudpay::FinishResponse::parse(&ok(SEED_002)).unwrap();
    assert!(r.extra.is_empty() && r.receiver.unwrap().extra.is_empty());
    let r = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok(SEED_003))).unwrap();
    assert!(r.extra.is_empty() && r.receivers.unwrap()[0].extra.is_empty());
    let r = cloudpay::RefundQueryResponse::parse(&ok(SEED_004)).unwrap();
    assert!(r.extra.is_empty(), "{:?}", r.extra);
    let refund = &r.listed_refunds()[0];
    assert!(refund.extra.is_empty() && refund.coupons[0].extra.is_empty(), "{refund:?}");
}

#[test]
fn an_unknown_top_level_key_is_kept_by_every_answer_type() {
    let future = json!({"level": 2, "tags": ["a"]});
    let mut v: Value = serde_json::from_slice(SEED_000).unwrap();
    v["future_field"] = future.clone();
    let r = cloudpay::ReturnQueryResponse::parse(&ok_json(&v)).unwrap();
    assert_eq!(r.extra.get("future_field"), Some(&future));
    assert_eq!(keys(&r.extra), ["future_field"]);

    let mut v: Value = serde_json::from_slice(SEED_002).unwrap();
    v["future_field"] = future.clone();
    let r = cloudpay::FinishResponse::parse(&ok_json(&v)).unwrap();
    assert_eq!(keys(&r.extra), ["future_field"]);

    let mut v: Value = serde_json::from_slice(SEED_004).unwrap();
    v["cash_refund_fee"] = json!(90);
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&v)).unwrap();
    assert_eq!(r.extra.get("cash_refund_fee"), Some(&json!(90)));

    let mut v: Value = serde_json::from_slice(SEED_001).unwrap();
    v["transaction_id"] = "4208450740201411110007820472".into();
    let r = v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok_json(&v))).unwrap();
    assert_eq!(r.extra.get("transaction_id"), Some(&json!("4208450740201411110007820472")));
    // Written back next to the known fields.
    assert_eq!(serde_json::to_value(&r).unwrap(), v);

    let mut v: Value = serde_json::from_slice(SEED_003).unwrap();
    v["future_field"] = future.clone();
    let r = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok_json(&v))).unwrap();
    assert_eq!(keys(&r.extra), ["future_field"]);
    assert_eq!(serde_json::to_value(&r).unwrap(), v);
}

#[test]
fn detail_id_is_a_receiver_field_and_an_unknown_receiver_key_is_kept() {
    let mut v: Value = serde_json::from_slice(SEED_003).unwrap();
    v["receivers"][0]["detail_id"] = "3601111111111111111111".into();
    v["receivers"][0]["create_time"] = "2015-05-20T13:29:35.120+08:00".into();
    let r = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok_json(&v))).unwrap();
    let receiver = &r.receivers.as_ref().unwrap()[0];
    assert_eq!(receiver.detail_id.as_deref(), Some("3601111111111111111111"));
    // create_time is documented for the service-provider API, not this one: kept, as sent.
    assert_eq!(keys(&receiver.extra), ["create_time"]);
    assert!(r.extra.is_empty());
    assert_eq!(serde_json::to_value(&r).unwrap(), v);

    // CloudPay finish: the receiver object inside the string.
    let mut v: Value = serde_json::from_slice(SEED_002).unwrap();
    v["receiver"] = r#"{"type":"MERCHANT_ID","account":"190001001","name":"示例商户","amount":5}"#.into();
    let r = cloudpay::FinishResponse::parse(&ok_json(&v)).unwrap();
    let receiver = r.receiver.as_ref().unwrap();
    assert_eq!(receiver.amount.map(|a| a.get()), Some(5));
    assert_eq!(receiver.extra.get("name"), Some(&json!("示例商户")));
    assert!(r.extra.is_empty(), "{:?}", r.extra);
    for shape in ReplyShape::all() {
        assert_eq!(cloudpay::FinishResponse::parse(&ok(&r.encode(shape))).unwrap(), r, "{shape:?}");
    }
}

#[test]
fn unknown_indexed_refund_keys_go_to_their_refund_or_coupon() {
    let mut m = refund_answer();
    m.insert("refund_fee_type_0".into(), "CNY".into());
    m.insert("coupon_batch_id_0_0".into(), "B1".into());
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&Value::Object(m))).unwrap();
    assert!(r.extra.is_empty(), "{:?}", r.extra);
    let refund = &r.listed_refunds()[0];
    assert_eq!(keys(&refund.extra), ["refund_fee_type"]);
    assert_eq!(refund.extra.get("refund_fee_type"), Some(&json!("CNY")));
    assert_eq!(keys(&refund.coupons[0].extra), ["coupon_batch_id"]);
    for shape in ReplyShape::all() {
        assert_eq!(cloudpay::RefundQueryResponse::parse(&ok(&r.encode(shape))).unwrap(), r, "{shape:?}");
    }
}

#[test]
fn an_index_no_listed_refund_has_is_kept_on_the_answer() {
    let mut m = refund_answer();
    // refund_count is 1: there is no refund 5 and no coupon 3 of refund 0. Fields no type knows
    // stay on the answer; a documented per-refund or per-coupon field there would be a refund
    // or coupon the answer does not list (issue 11): malformed.
    m.insert("refund_fee_type_5".into(), "CNY".into());
    m.insert("coupon_batch_id_0_3".into(), "B9".into());
    for documented in ["refund_channel_2", "coupon_type_0_4", "refund_id_1", "coupon_refund_id_3_0"] {
        let mut m = m.clone();
        m.insert(documented.into(), "X".into());
        let err = cloudpay::RefundQueryResponse::parse(&ok_json(&Value::Object(m))).unwrap_err();
        let kind = err.as_malformed().unwrap().kind().to_string();
        assert!(kind.contains(documented) || kind.contains("more refunds are listed"), "{documented}: {err}");
    }
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&Value::Object(m))).unwrap();
    assert_eq!(keys(&r.extra), ["coupon_batch_id_0_3", "refund_fee_type_5"]);
    let refund = &r.listed_refunds()[0];
    assert!(refund.extra.is_empty() && refund.coupons[0].extra.is_empty(), "{refund:?}");
    for shape in ReplyShape::all() {
        assert_eq!(cloudpay::RefundQueryResponse::parse(&ok(&r.encode(shape))).unwrap(), r, "{shape:?}");
    }

    // Details not returned: every field stays on the answer.
    let body = json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "transaction_id": "42",
        "total_fee": 1, "cash_fee": 1, "refund_count": 3, "refund_id_list": [], "refund_fee_type_0": "CNY"});
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&body)).unwrap();
    assert_eq!(r.refunds, cloudpay::RefundDetails::NotReturned);
    assert_eq!(keys(&r.extra), ["refund_fee_type_0"], "the empty documented list is not extra");
}

#[test]
fn unknown_lists_in_the_array_style_go_to_refunds_and_coupons() {
    let body = json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "transaction_id": "42",
        "total_fee": 300, "cash_fee": 300, "refund_count": 2,
        "refund_id_list": ["5001", "5002"], "out_refund_no_list": ["R1", "R2"], "refund_fee_list": [100, 200],
        "refund_status_list": ["SUCCESS", "PROCESSING"],
        "coupon_refund_id_array": [["C1"], []], "coupon_refund_fee_array": [[10], []],
        "refund_fee_type_list": ["CNY", null], "coupon_batch_id_array": [["B1"], []],
        "short_list": ["only one"]});
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&body)).unwrap();
    let refunds = r.listed_refunds();
    assert_eq!(refunds[0].extra.get("refund_fee_type"), Some(&json!("CNY")));
    assert!(refunds[1].extra.is_empty(), "a null is a refund without the field");
    assert_eq!(refunds[0].coupons[0].extra.get("coupon_batch_id"), Some(&json!("B1")));
    // A list of another length than refund_count belongs to no refund.
    assert_eq!(keys(&r.extra), ["short_list"]);
    for shape in ReplyShape::all() {
        assert_eq!(cloudpay::RefundQueryResponse::parse(&ok(&r.encode(shape))).unwrap(), r, "{shape:?}");
    }
}

#[test]
fn camel_case_unknown_keys_are_kept_as_spelled() {
    let body = json!({"errCode": 0, "errMsg": "cloudPay.queryRefund:ok", "returnCode": "SUCCESS",
        "returnMsg": "OK", "resultCode": "SUCCESS", "transactionId": "42", "totalFee": 300, "cashFee": 300,
        "refundCount": 1, "refundId_0": "5001", "outRefundNo_0": "R1", "refundFee_0": 100,
        "refundStatus_0": "SUCCESS", "couponRefundId_0_0": "C1", "couponRefundFee_0_0": 10,
        "newField": true, "refundFeeType_0": "CNY", "couponBatchId_0_0": "B1", "refundFeeType7": "USD"});
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&body)).unwrap();
    assert_eq!(keys(&r.extra), ["newField", "refundFeeType7"]);
    let refund = &r.listed_refunds()[0];
    assert_eq!(keys(&refund.extra), ["refundFeeType"]);
    assert_eq!(keys(&refund.coupons[0].extra), ["couponBatchId"]);
    // Every shape writes them back with the same spelling.
    for shape in ReplyShape::all() {
        let again = cloudpay::RefundQueryResponse::parse(&ok(&r.encode(shape))).unwrap();
        assert_eq!(again, r, "{shape:?}");
    }
    let snake_arrays = ReplyShape::new().list_style(ListStyle::Arrays);
    let written: Value = serde_json::from_slice(&r.encode(snake_arrays)).unwrap();
    assert_eq!(written["refundFeeType_list"], json!(["CNY"]));
    assert_eq!(written["couponBatchId_array"], json!([["B1"]]));
    let camel: Value = serde_json::from_slice(&r.encode(ReplyShape::new().key_case(KeyCase::Camel))).unwrap();
    assert_eq!((&camel["refundFeeType_0"], &camel["newField"]), (&json!("CNY"), &json!(true)));
}

#[test]
fn wire_scaffolding_is_never_extra() {
    // The gateway wrapper, wx-server-sdk's numeric errCode / errMsg, and the status fields.
    let inner = json!({"errCode": 0, "errMsg": "cloudPay.profitSharingReturnQuery:ok", "returnCode": "SUCCESS",
        "returnMsg": "OK", "resultCode": "SUCCESS", "errCodeDes": "", "errorCode": "", "errorMsg": "",
        "orderId": "1", "outOrderNo": "P", "outReturnNo": "R", "returnNo": "3", "returnAmount": 5,
        "result": "SUCCESS"});
    let wrapped = json!({"errcode": 0, "errmsg": "ok", "respdata": inner});
    for body in [&inner, &wrapped] {
        let r = cloudpay::ReturnQueryResponse::parse(&ok_json(body)).unwrap();
        assert!(r.extra.is_empty(), "{body}: {:?}", r.extra);
    }
    let finish = json!({"errcode": 0, "errmsg": "ok", "respdata": {"return_code": "SUCCESS",
        "return_msg": "OK", "result_code": "SUCCESS", "err_code": "", "err_code_des": "",
        "transaction_id": "4", "out_order_no": "P", "order_id": "3"}});
    assert!(cloudpay::FinishResponse::parse(&ok_json(&finish)).unwrap().extra.is_empty());
    let mut refund = refund_answer();
    refund.insert("return_msg".into(), "OK".into());
    refund.insert("err_code".into(), "SYSTEMERROR".into());
    refund.insert("err_code_des".into(), "系统错误".into());
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&Value::Object(refund))).unwrap();
    assert!(r.extra.is_empty(), "{:?}", r.extra);

    // A key of the wrapper that is not scaffolding is kept.
    let traced = json!({"errcode": 0, "errmsg": "ok", "trace_id": "T1", "respdata": finish["respdata"]});
    let r = cloudpay::FinishResponse::parse(&ok_json(&traced)).unwrap();
    assert_eq!(keys(&r.extra), ["trace_id"]);
}

#[test]
fn extra_serializes_as_an_object_on_cloudpay_answers_and_flat_on_v3_ones() {
    let mut m = refund_answer();
    m.insert("newField".into(), 1.into());
    m.insert("refund_fee_type_0".into(), "CNY".into());
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&Value::Object(m))).unwrap();
    let out = serde_json::to_value(&r).unwrap();
    assert_eq!(out["extra"], json!({"newField": 1}));
    assert_eq!(out["refunds"]["refunds"][0]["extra"], json!({"refund_fee_type": "CNY"}));
    assert!(out["refunds"]["refunds"][0]["coupons"][0].get("extra").is_none(), "left out when empty");

    let mut v: Value = serde_json::from_slice(SEED_003).unwrap();
    v["receivers"][0]["newField"] = 1.into();
    let r = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok_json(&v))).unwrap();
    let out = serde_json::to_value(&r).unwrap();
    assert_eq!(out["receivers"][0]["newField"], 1);
    assert!(out.get("extra").is_none() && out["receivers"][0].get("extra").is_none());
}

#[test]
fn keys_of_one_name_are_placed_together_or_kept_on_the_answer() {
    // A name given both as a list and as indexed keys, and a null: placing any of them would
    // write them back elsewhere, so they stay on the answer; `xFee_0` alone goes to its refund.
    let mut m = refund_answer();
    m.insert("xFee_0".into(), 1.into());
    m.insert("other_list".into(), json!(["a"]));
    m.insert("other_0".into(), "b".into());
    m.insert("gap_0".into(), Value::Null);
    let r = cloudpay::RefundQueryResponse::parse(&ok_json(&Value::Object(m))).unwrap();
    assert_eq!(keys(&r.extra), ["gap_0", "other_0", "other_list"]);
    assert_eq!(keys(&r.listed_refunds()[0].extra), ["xFee"]);
    for shape in ReplyShape::all() {
        assert_eq!(cloudpay::RefundQueryResponse::parse(&ok(&r.encode(shape))).unwrap(), r, "{shape:?}");
    }
}

#[test]
fn both_list_styles_in_one_answer_are_malformed() {
    // Lists and indexed keys at once (no documented shape does this): one style's values would
    // be dropped (refund 9999 here), so the answer is malformed (issue 11).
    let body = json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "transaction_id": "42",
        "total_fee": 300, "cash_fee": 300, "refund_count": 1, "refund_id_list": ["5001"],
        "out_refund_no_list": ["R1"], "refund_fee_list": [100], "refund_status_list": ["SUCCESS"],
        "refund_id_0": "9999", "refund_fee_0": 1});
    let err = cloudpay::RefundQueryResponse::parse(&ok_json(&body)).unwrap_err();
    assert!(err.as_malformed().is_some(), "{err}");
    let mut indexed = refund_answer();
    indexed.insert("refund_fee_list".into(), json!([7]));
    let err = cloudpay::RefundQueryResponse::parse(&ok_json(&Value::Object(indexed))).unwrap_err();
    assert!(err.as_malformed().unwrap().kind().to_string().contains("refund_fee_list"), "{err}");
}
