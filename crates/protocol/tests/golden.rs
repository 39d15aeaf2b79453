//! Golden tests: every example answer of the seeds parses with its values asserted, and every
//! documented error code parses into the right typed error and retry class.

use wxpay_protocol::cloudpay::{
    self, CouponType, ReceiverType, RefundAccount, RefundChannel, RefundDetails, RefundStatus, ReturnAccountType,
    ReturnFailReason, ReturnResult,
};
use wxpay_protocol::security::danger;
use wxpay_protocol::v3::{self, CloseReason, OrderStatus, ReceiverFailReason, ReceiverResult};
use wxpay_protocol::{ApiErrorOrigin, CHINA, Error, ErrorCode, Fen, MalformedKind, RetryClass, TimeFormat};

fn ok(body: &[u8]) -> http::Response<Vec<u8>> {
    http::Response::new(body.to_vec())
}

const SEED_000: &[u8] = include_bytes!("fixtures/doc-examples/000-cloudpay-return-query.json");
const SEED_001: &[u8] = include_bytes!("fixtures/doc-examples/001-v3-return-query.json");
const SEED_002: &[u8] = include_bytes!("fixtures/doc-examples/002-cloudpay-finish.json");
const SEED_003: &[u8] = include_bytes!("fixtures/doc-examples/003-v3-order-query.json");
const SEED_004: &[u8] = include_bytes!("fixtures/doc-examples/004-cloudpay-refund-query.json");

#[test]
fn seed_000_cloudpay_return_query() {
    let r = cloudpay::ReturnQueryResponse::parse(&ok(SEED_000)).unwrap();
    assert_eq!(r.mch_id.as_deref(), Some("1900000100"));
    assert_eq!(r.sub_mch_id.as_deref(), Some("1900000109"));
    assert_eq!(r.appid.as_deref(), Some("wx8888888888888888"));
    assert_eq!(r.nonce_str.as_deref(), Some("5K8264ILTKCH16CQ2502SI8ZNMTM67VS"));
    assert_eq!(r.sign.as_deref(), Some("C380BEC2BFD727A4B6845133519F3AD6"));
    assert_eq!(r.order_id, "4208450740201411110007820472");
    assert_eq!(r.out_order_no, "P20150806125346");
    assert_eq!(r.out_return_no, "R20150806125346");
    assert_eq!(r.return_no, "3008450740201411110007820472");
    assert_eq!(r.return_account_type, Some(ReturnAccountType::MerchantId));
    assert_eq!(r.return_account.as_deref(), Some("86693852"));
    assert_eq!(r.return_amount, Fen::new(888));
    assert_eq!(r.description.as_deref(), Some("用户退款"));
    assert_eq!(r.result, ReturnResult::Success);
    assert_eq!(r.fail_reason, None);
    let t = r.finish_time.unwrap();
    assert_eq!(t.original(), "20180608170132");
    assert_eq!(t.format(), TimeFormat::CompactChina);
    // 2018-06-08 17:01:32 in China is 09:01:32 UTC.
    assert_eq!(t.unix_timestamp(), 1_528_448_492);
    assert_eq!(t.instant().offset(), CHINA);
}

#[test]
fn seed_001_v3_return_query() {
    let r = v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok(SEED_001))).unwrap();
    assert_eq!(r.sub_mchid, "1900000109");
    assert_eq!(r.order_id, "3008450740201411110007820472");
    assert_eq!(r.out_order_no, "P20150806125346");
    assert_eq!(r.out_return_no, "R20190516001");
    assert_eq!(r.return_mchid, "86693852");
    assert_eq!(r.amount, Fen::new(10));
    assert_eq!(r.return_no, "3008450740201411110007820472");
    assert_eq!(r.result, v3::ReturnResult::Success);
    // The seed's artefact: a fail_reason next to SUCCESS. Kept as sent, not "corrected".
    assert_eq!(r.fail_reason, Some(v3::ReturnFailReason::TimeOutClosed));
    let t = r.finish_time.unwrap();
    assert_eq!(t.original(), "2015-05-20T13:29:35.120+08:00");
    assert_eq!(t.unix_timestamp(), 1_432_099_775);
    assert_eq!(t.instant().millisecond(), 120);
}

#[test]
fn seed_002_cloudpay_finish() {
    let r = cloudpay::FinishResponse::parse(&ok(SEED_002)).unwrap();
    assert_eq!(r.mch_id.as_deref(), Some("1900000100"));
    assert_eq!(r.sub_mch_id.as_deref(), Some("1900000109"));
    assert_eq!(r.appid.as_deref(), Some("wx8888888888888888"));
    assert_eq!(r.sub_appid.as_deref(), Some("wx8888888888888888"));
    let receiver = r.receiver.unwrap();
    assert_eq!(receiver.receiver_type, ReceiverType::MerchantId);
    assert_eq!(receiver.account, "190001001");
    assert_eq!(receiver.amount, None);
    assert_eq!(r.nonce_str.as_deref(), Some("5K8264ILTKCH16CQ2502SI8ZNMTM67VS"));
    assert_eq!(r.sign.as_deref(), Some("ABC6DD4AA85C0EECA82C35595A69EFGH"));
    assert_eq!(r.transaction_id, "4208450740201411110007820472");
    assert_eq!(r.out_order_no, "P20150806125346");
    assert_eq!(r.order_id, "3008450740201411110007820472");
}

#[test]
fn seed_003_v3_order_query() {
    let r = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok(SEED_003))).unwrap();
    assert_eq!(r.sub_mchid, "1900000109");
    assert_eq!(r.transaction_id, "4208450740201411110007820472");
    assert_eq!(r.out_order_no, "P20150806125346");
    assert_eq!(r.order_id, "3008450740201411110007820472");
    assert_eq!(r.status, OrderStatus::Finished);
    let receivers = r.receivers.unwrap();
    assert_eq!(receivers.len(), 1);
    let rc = &receivers[0];
    assert_eq!(rc.receiver_mchid.as_deref(), Some("1900000110"));
    assert_eq!(rc.amount, Fen::new(100));
    assert_eq!(rc.description, "分给商户1900000110");
    assert_eq!(rc.result, ReceiverResult::Success);
    assert_eq!(rc.finish_time.as_ref().unwrap().original(), "2015-05-20T13:29:35.120+08:00");
    assert_eq!(rc.fail_reason, Some(ReceiverFailReason::AccountAbnormal));
    assert_eq!(rc.receiver_type, None);
    assert_eq!(r.close_reason, Some(CloseReason::NoAuth));
    assert_eq!(r.finish_amount, Some(Fen::new(100)));
    assert_eq!(r.finish_description.as_deref(), Some("分账完结"));
}

#[test]
fn seed_004_cloudpay_refund_query() {
    let r = cloudpay::RefundQueryResponse::parse(&ok(SEED_004)).unwrap();
    assert_eq!(r.appid.as_deref(), Some("wxd678efh567hg6787"));
    assert_eq!(r.mch_id.as_deref(), Some("1230000109"));
    assert_eq!(r.sub_appid.as_deref(), Some("wx8888888888888888"));
    assert_eq!(r.sub_mch_id.as_deref(), Some("1900000109"));
    assert_eq!(r.transaction_id, "1217752501201407033233368018");
    assert_eq!(r.out_trade_no.as_deref(), Some("1217752501201407033233368018"));
    assert_eq!(r.total_fee, Fen::new(100));
    assert_eq!(r.settlement_total_fee, Some(Fen::new(100)));
    assert_eq!(r.fee_type.as_deref(), Some("CNY"));
    assert_eq!(r.cash_fee, Fen::new(100));
    assert_eq!(r.refund_count, 1);
    assert_eq!(r.total_refund_count, Some(35));
    let RefundDetails::Listed(refunds) = &r.refunds else { panic!("details expected: {:?}", r.refunds) };
    assert_eq!(refunds.len(), 1);
    let f = &refunds[0];
    assert_eq!(f.out_refund_no, "1217752501201407033233368018");
    assert_eq!(f.refund_id, "1217752501201407033233368018");
    assert_eq!(f.refund_channel, Some(RefundChannel::Original));
    assert_eq!(f.refund_fee, Fen::new(100));
    assert_eq!(f.settlement_refund_fee, Some(Fen::new(100)));
    assert_eq!(f.coupon_refund_fee, Some(Fen::new(100)));
    assert_eq!(f.coupon_refund_count, Some(1));
    assert_eq!(f.coupons.len(), 1);
    assert_eq!(f.coupons[0].coupon_type, Some(CouponType::Cash));
    assert_eq!(f.coupons[0].coupon_refund_id, "10000");
    assert_eq!(f.coupons[0].coupon_refund_fee, Fen::new(100));
    assert_eq!(f.refund_status, RefundStatus::Success);
    assert_eq!(f.refund_account, Some(RefundAccount::RechargeFunds));
    assert_eq!(f.refund_recv_accout.as_deref(), Some("招商银行信用卡0403"));
    let t = f.refund_success_time.as_ref().unwrap();
    assert_eq!(t.format(), TimeFormat::SpacedChina);
    assert_eq!(t.unix_timestamp(), 1_469_431_586);
}

/// A CloudPay failure answer written the way each document describes it.
fn cloudpay_failure(op: &str, code: &str) -> Vec<u8> {
    match op {
        "000" => format!(r#"{{"return_code":"FAIL","error_code":"{code}","error_msg":"msg {code}"}}"#),
        _ => format!(
            r#"{{"return_code":"SUCCESS","return_msg":"OK","result_code":"FAIL","err_code":"{code}","err_code_des":"msg {code}"}}"#
        ),
    }
    .into_bytes()
}

fn parse_cloudpay(op: &str, body: &[u8]) -> Error {
    let response = ok(body);
    match op {
        "000" => cloudpay::ReturnQueryResponse::parse(&response).unwrap_err(),
        "002" => cloudpay::FinishResponse::parse(&response).unwrap_err(),
        "004" => cloudpay::RefundQueryResponse::parse(&response).unwrap_err(),
        _ => unreachable!(),
    }
}

#[test]
fn every_documented_cloudpay_error_code() {
    use ErrorCode::*;
    use RetryClass::{Final, Retryable};
    let table: &[(&str, &str, ErrorCode, RetryClass)] = &[
        ("000", "SYSTEMERROR", SystemError, Retryable),
        ("000", "PARAM_ERROR", ParamError, Final),
        ("000", "INVALID_REQUEST", InvalidRequest, Final),
        ("000", "FREQUENCY_LIMITED", FrequencyLimited, Retryable),
        ("000", "ORDERNOTEXIST", OrderNotExist, Final),
        ("002", "SYSTEMERROR", SystemError, Retryable),
        ("002", "INVALID_TRANSACTIONID", InvalidTransactionId, Final),
        ("002", "PARAM_ERROR", ParamError, Final),
        ("002", "INVALID_REQUEST", InvalidRequest, Final),
        ("002", "FREQUENCY_LIMITED", FrequencyLimited, Retryable),
        ("002", "ORDER_NOT_READY", OrderNotReady, Retryable),
        ("002", "OPENID_MISMATCH", OpenidMismatch, Final),
        ("002", "NOT_SHARE_ORDER", NotShareOrder, Final),
        ("002", "AMOUNT_OVERDUE", AmountOverdue, Final),
        ("004", "SYSTEMERROR", SystemError, Retryable),
        ("004", "REFUNDNOTEXIST", RefundNotExist, Final),
        ("004", "INVALID_TRANSACTIONID", InvalidTransactionId, Final),
        ("004", "PARAM_ERROR", ParamError, Final),
        ("004", "APPID_NOT_EXIST", AppidNotExist, Final),
        ("004", "MCHID_NOT_EXIST", MchidNotExist, Final),
        ("004", "REQUIRE_POST_METHOD", RequirePostMethod, Final),
        ("004", "SIGNERROR", SignError, Final),
        ("004", "XML_FORMAT_ERROR", XmlFormatError, Final),
    ];
    for (op, code, expected, class) in table {
        let err = parse_cloudpay(op, &cloudpay_failure(op, code));
        let api = err.as_api().unwrap_or_else(|| panic!("{op} {code}: not an API error: {err:?}"));
        assert_eq!(api.code(), Some(expected), "{op} {code}");
        assert!(!expected.is_unknown(), "{code} must be a known code");
        assert_eq!(api.message(), Some(format!("msg {code}").as_str()));
        let origin = if *op == "000" { ApiErrorOrigin::CloudPayReturn } else { ApiErrorOrigin::CloudPayResult };
        assert_eq!(api.origin(), origin, "{op} {code}");
        assert_eq!(err.retry_class(), *class, "{op} {code}");
    }
}

#[test]
fn every_documented_v3_error_code() {
    use ErrorCode::*;
    use RetryClass::{Final, Retryable};
    let table: &[(u16, &str, ErrorCode, RetryClass)] = &[
        (500, "SYSTEM_ERROR", SystemErrorV3, Retryable),
        (400, "PARAM_ERROR", ParamError, Final),
        (400, "INVALID_REQUEST", InvalidRequest, Final),
        (429, "FREQUENCY_LIMITED", FrequencyLimited, Retryable),
        (403, "NO_AUTH", NoAuth, Final),
        (404, "RESOURCE_NOT_EXISTS", ResourceNotExists, Final),
        (401, "SIGN_ERROR", SignErrorV3, Final),
    ];
    for (status, code, expected, class) in table {
        let body = format!(r#"{{"code":"{code}","message":"m","detail":{{"field":"out_order_no"}}}}"#);
        let response =
            http::Response::builder().status(*status).header("Request-ID", "0A1B2C3D").body(body.into_bytes()).unwrap();
        for err in [
            v3::OrderQueryResponse::parse(&danger::inspect_unverified(&response)).unwrap_err(),
            v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&response)).unwrap_err(),
        ] {
            let api = err.as_api().unwrap();
            assert_eq!(api.origin(), ApiErrorOrigin::V3);
            assert_eq!(api.status().as_u16(), *status);
            assert_eq!(api.code(), Some(expected));
            assert_eq!(api.message(), Some("m"));
            assert_eq!(api.request_id(), Some("0A1B2C3D"));
            assert_eq!(api.detail().unwrap()["field"], "out_order_no");
            assert_eq!(err.retry_class(), *class, "{code}");
        }
    }
}

#[test]
fn unknown_codes_and_enum_values_are_kept() {
    let err = parse_cloudpay("002", &cloudpay_failure("002", "BRAND_NEW_CODE"));
    let code = err.as_api().unwrap().code().unwrap();
    assert!(code.is_unknown());
    assert_eq!(code.as_str(), "BRAND_NEW_CODE");
    assert!(!err.is_retryable());

    // docs/protocol.md §8.4: RETURNED and CLOSED appear in real answers though the enums omit them.
    let body = br#"{"sub_mchid":"1","transaction_id":"2","out_order_no":"3","order_id":"4","status":"CLOSED",
        "receivers":[{"amount":1,"description":"d","result":"RETURNED","type":"PERSONAL_OPENID"}]}"#;
    let r = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok(body))).unwrap();
    assert_eq!(r.status.as_str(), "CLOSED");
    assert!(r.status.is_unknown());
    let receiver = &r.receivers.unwrap()[0];
    assert_eq!(receiver.result.as_str(), "RETURNED");
    assert_eq!(receiver.receiver_type, Some(ReceiverType::PersonalOpenid));
}

#[test]
fn wrapped_answer_is_unwrapped_and_errcode_zero_says_nothing_about_success() {
    let body = br#"{"errcode":0,"errmsg":"ok","respdata":{"return_code":"FAIL","error_code":"ORDERNOTEXIST","error_msg":"none"}}"#;
    let err = cloudpay::ReturnQueryResponse::parse(&ok(body)).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::OrderNotExist));

    let inner = String::from_utf8(SEED_000.to_vec()).unwrap();
    let wrapped = format!(r#"{{"errcode":0,"errmsg":"ok","respdata":{inner}}}"#);
    let unwrapped = cloudpay::ReturnQueryResponse::parse(&ok(SEED_000)).unwrap();
    assert_eq!(cloudpay::ReturnQueryResponse::parse(&ok(wrapped.as_bytes())).unwrap(), unwrapped);

    // respdata as a string holding the JSON.
    let as_string = serde_json::json!({"errcode": 0, "errmsg": "ok", "respdata": inner}).to_string();
    assert_eq!(cloudpay::ReturnQueryResponse::parse(&ok(as_string.as_bytes())).unwrap(), unwrapped);
}

#[test]
fn gateway_errors() {
    let body = br#"{"errcode":-501001,"errmsg":"resource not found"}"#;
    let err = cloudpay::FinishResponse::parse(&ok(body)).unwrap_err();
    let api = err.as_api().unwrap();
    assert_eq!(api.origin(), ApiErrorOrigin::Gateway);
    assert_eq!(api.gateway_code(), Some(-501001));
    assert_eq!(api.message(), Some("resource not found"));
    assert!(!err.is_retryable());

    let busy = br#"{"errcode":-1,"errmsg":"system busy"}"#;
    assert!(cloudpay::FinishResponse::parse(&ok(busy)).unwrap_err().is_retryable());

    // wx-server-sdk's numeric errCode is its own status.
    let sdk = br#"{"errCode":-404011,"errMsg":"cloudPay.queryRefund:fail cloud function execution error"}"#;
    let err = cloudpay::RefundQueryResponse::parse(&ok(sdk)).unwrap_err();
    assert_eq!(err.as_api().unwrap().gateway_code(), Some(-404011));

    let status = http::Response::builder().status(503).body(Vec::new()).unwrap();
    let err = cloudpay::RefundQueryResponse::parse(&status).unwrap_err();
    assert_eq!(err.as_api().unwrap().status().as_u16(), 503);
    assert!(err.is_retryable());
}

#[test]
fn camel_case_answer_from_the_cloud_sdk() {
    // errCode 0 (number) is the SDK's status; a string errCode is the business err_code.
    let ok_answer = br#"{"errCode":0,"errMsg":"cloudPay.profitSharingFinish:ok","returnCode":"SUCCESS",
        "resultCode":"SUCCESS","transactionId":"4208450740201411110007820472","outOrderNo":"P1","orderId":"300"}"#;
    let r = cloudpay::FinishResponse::parse(&ok(ok_answer)).unwrap();
    assert_eq!(
        (r.transaction_id.as_str(), r.out_order_no.as_str(), r.order_id.as_str()),
        ("4208450740201411110007820472", "P1", "300")
    );

    let business =
        br#"{"returnCode":"SUCCESS","resultCode":"FAIL","errCode":"AMOUNT_OVERDUE","errCodeDes":"nothing left"}"#;
    let err = cloudpay::FinishResponse::parse(&ok(business)).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::AmountOverdue));
    assert_eq!(err.as_api().unwrap().message(), Some("nothing left"));
}

#[test]
fn numbers_may_be_strings_and_lists_may_be_arrays() {
    let body = br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":"300",
        "cash_fee":"300","refund_count":"2","total_refund_count":"2",
        "refund_id_list":["5001","5002"],"out_refund_no_list":["R1","R2"],"refund_fee_list":["100",200],
        "refund_status_list":["SUCCESS","PROCESSING"],"refund_success_time_list":["2016-07-25 15:26:26",null],
        "coupon_refund_id_array":[["C1","C2"],[]],"coupon_refund_fee_array":[[10,"20"],[]]}"#;
    let r = cloudpay::RefundQueryResponse::parse(&ok(body)).unwrap();
    assert_eq!(r.total_fee, Fen::new(300));
    let refunds = r.listed_refunds();
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[1].refund_id, "5002");
    assert_eq!(refunds[1].refund_fee, Fen::new(200));
    assert_eq!(refunds[1].refund_status, RefundStatus::Processing);
    assert_eq!(refunds[1].refund_success_time, None);
    assert_eq!(refunds[0].coupons.iter().map(|c| c.coupon_refund_fee.get()).collect::<Vec<_>>(), [10, 20]);
    assert!(refunds[1].coupons.is_empty());
}

#[test]
fn details_not_returned_is_not_no_refunds() {
    let counted = br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":1,"cash_fee":1,"refund_count":3}"#;
    let r = cloudpay::RefundQueryResponse::parse(&ok(counted)).unwrap();
    assert_eq!(r.refunds, RefundDetails::NotReturned);
    assert_eq!(r.refund_count, 3);

    let empty_lists = br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":1,"cash_fee":1,"refund_count":2,"refund_id_list":[],"out_refund_no_list":[]}"#;
    let r = cloudpay::RefundQueryResponse::parse(&ok(empty_lists)).unwrap();
    assert_eq!(r.refunds, RefundDetails::NotReturned);

    let none = br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":1,"cash_fee":1,"refund_count":0}"#;
    let r = cloudpay::RefundQueryResponse::parse(&ok(none)).unwrap();
    assert_eq!(r.refunds, RefundDetails::Listed(vec![]));
}

#[test]
fn malformed_answers_are_typed_and_keep_the_body() {
    let cases: &[(&[u8], MalformedKind)] = &[
        (b"<xml>", MalformedKind::NotJson),
        (b"[1,2]", MalformedKind::NotAnObject),
        (br#"{"result_code":"SUCCESS"}"#, MalformedKind::MissingField("return_code".into())),
        (
            br#"{"return_code":"MAYBE"}"#,
            MalformedKind::InvalidField { field: "return_code".into(), expected: "SUCCESS or FAIL" },
        ),
        (
            br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"1","total_fee":-1,"cash_fee":1,"refund_count":0}"#,
            MalformedKind::InvalidField { field: "total_fee".into(), expected: "a non-negative integer" },
        ),
        (
            br#"{"return_code":"SUCCESS","returnCode":"FAIL"}"#,
            MalformedKind::ConflictingField("return_code".into()),
        ),
        (
            br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"1","total_fee":1,"cash_fee":1,"refund_count":1,"refund_id_0":"5","out_refund_no_0":"R","refund_fee_0":1,"refund_status_0":"SUCCESS","refund_id_1":"6"}"#,
            MalformedKind::Inconsistent("more refunds are listed than refund_count (1)".into()),
        ),
    ];
    for (body, kind) in cases {
        let Error::Malformed(m) = cloudpay::RefundQueryResponse::parse(&ok(body)).unwrap_err() else {
            panic!("{}: not malformed", String::from_utf8_lossy(body));
        };
        assert_eq!(m.kind(), kind, "{}", String::from_utf8_lossy(body));
        assert_eq!(m.body(), *body);
    }
}

#[test]
fn v3_missing_field_is_named() {
    let Error::Malformed(m) =
        v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok(br#"{"sub_mchid":"1"}"#))).unwrap_err()
    else {
        panic!("not malformed");
    };
    assert_eq!(m.kind(), &MalformedKind::MissingField("order_id".into()));
    assert!(std::error::Error::source(&m).is_some(), "serde's error is the source");
}

#[test]
fn v3_wrong_type_names_the_field_not_the_value() {
    // Issue 11: `{"return_no":7}` named field `7`; null, string and object values named ``.
    for (field, value) in [("return_no", "7"), ("return_no", "null"), ("amount", "\"x\""), ("order_id", "{}")] {
        let mut body = serde_json::json!({"sub_mchid":"1","order_id":"2","out_order_no":"P","out_return_no":"R",
            "return_mchid":"3","return_no":"4","amount":1,"result":"SUCCESS"});
        body[field] = serde_json::from_str(value).unwrap();
        let body = body.to_string();
        let kind = match v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok(body.as_bytes()))) {
            Err(Error::Malformed(m)) => m.kind().clone(),
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(
            kind,
            MalformedKind::InvalidField { field: field.into(), expected: "the documented type" },
            "{body}"
        );
    }
    // A key given twice with different values is ambiguous (issue 11), in v3 answers too.
    let twice = br#"{"sub_mchid":"1","order_id":"2","order_id":"3"}"#;
    let err = v3::ReturnQueryResponse::parse(&danger::inspect_unverified(&ok(twice))).unwrap_err();
    assert_eq!(err.as_malformed().unwrap().kind(), &MalformedKind::ConflictingField("order_id".into()));
    let err = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&ok(
        br#"{"sub_mchid":"1","transaction_id":"2","out_order_no":"P","order_id":"3","status":"FINISHED","receivers":[{"amount":null}]}"#,
    )))
    .unwrap_err();
    let kind = err.as_malformed().unwrap().kind().to_string();
    assert!(kind.contains("receivers[0]"), "{kind}");
}

#[test]
fn cloudpay_return_query_failed_result() {
    let body = br#"{"return_code":"SUCCESS","order_id":"1","out_order_no":"P","out_return_no":"R","return_no":"3",
        "return_amount":5,"result":"FAILED","fail_reason":"ACCOUNT_ABNORMAL","finish_time":""}"#;
    let r = cloudpay::ReturnQueryResponse::parse(&ok(body)).unwrap();
    assert_eq!(r.result, ReturnResult::Failed);
    assert_eq!(r.fail_reason, Some(ReturnFailReason::AccountAbnormal));
    assert_eq!(r.finish_time, None);
}
