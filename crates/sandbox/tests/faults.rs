//! Fault injection, through `Sandbox::inject` and `POST /_sandbox/faults`: each kind as a raw
//! client sees it, counts, order, and what the admin endpoint refuses.

mod common;

use std::time::{Duration, Instant};

use common::{ORDER_QUERY, Raw, Req, SUB, T0, Via, cloudpay, exchange, http, https};
use serde_json::{Value, json};
use wxpay_protocol::cloudpay::{RefundQueryResponse, ReturnQueryResponse, ReturnResult};
use wxpay_protocol::security::{VerificationError, verify_and_parse};
use wxpay_protocol::{Error, ErrorCode, MalformedKind, Operation, v3};
use wxpay_sandbox::{Fault, Sandbox, SandboxError};

const ORDERS: &str = v3::OrderQueryRequest::SPEC.name;

fn return_query() -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "out_order_no": "P20150806125346", "out_return_no": "R20150806125346"})
}

fn refund_query() -> Value {
    json!({"sub_mch_id": SUB, "nonce_str": "N1", "refund_id": "5030000000000000000000000001"})
}

/// The business error code of a CloudPay answer, if any.
fn code(raw: &Raw) -> Option<String> {
    let body = raw.json();
    let code = body.get("error_code").or(body.get("err_code"))?;
    Some(code.as_str().unwrap().to_owned())
}

async fn order_query(sandbox: &Sandbox) -> Raw {
    https(sandbox, &Req::v3(ORDER_QUERY, T0)).await
}

async fn admin(sandbox: &Sandbox, body: &str) -> Raw {
    http(sandbox, &Req::post("/_sandbox/faults").header("Content-Type", "application/json").body(body)).await
}

#[tokio::test]
async fn server_error() {
    let (sandbox, _) = common::start().await;
    sandbox.inject("queryrefund", Fault::ServerError, 2).unwrap();
    sandbox.inject("profitsharingreturnquery", Fault::ServerError, 1).unwrap();
    sandbox.inject(ORDERS, Fault::ServerError, 1).unwrap();
    for _ in 0..2 {
        let raw = cloudpay(&sandbox, "queryrefund", &refund_query()).await;
        assert_eq!(raw.status, 200);
        assert_eq!(raw.json()["result_code"], "FAIL");
        assert_eq!(code(&raw).as_deref(), Some("SYSTEMERROR"));
        assert!(RefundQueryResponse::parse(&raw.http()).unwrap_err().is_retryable());
    }
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None, "back to normal");

    let raw = cloudpay(&sandbox, "profitsharingreturnquery", &return_query()).await;
    assert_eq!((raw.json()["return_code"].clone(), code(&raw)), (json!("FAIL"), Some("SYSTEMERROR".into())));
    // Not processed: the order's one PROCESSING answer is still to come.
    let raw = cloudpay(&sandbox, "profitsharingreturnquery", &return_query()).await;
    assert_eq!(ReturnQueryResponse::parse(&raw.http()).unwrap().result, ReturnResult::Processing);

    let raw = order_query(&sandbox).await;
    raw.assert_v3_error(500, "SYSTEM_ERROR", "系统错误");
    assert!(raw.verify(&sandbox, T0).is_ok(), "signed like any answer to an authenticated request");
    let err = raw.parse_verified(&sandbox, T0, v3::OrderQueryResponse::parse).unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(order_query(&sandbox).await.status, 200);
}

#[tokio::test]
async fn too_many_requests() {
    let (sandbox, _) = common::start().await;
    sandbox.inject("profitsharingfinish", Fault::TooManyRequests, 1).unwrap();
    sandbox.inject(ORDERS, Fault::TooManyRequests, 1).unwrap();
    let finish = json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": "4208450740201411110007820473", "out_order_no": "P7", "description": "d"});
    let raw = cloudpay(&sandbox, "profitsharingfinish", &finish).await;
    assert_eq!(code(&raw).as_deref(), Some("FREQUENCY_LIMITED"));
    // Not processed: the payment's first ORDER_NOT_READY is still to come.
    assert_eq!(code(&cloudpay(&sandbox, "profitsharingfinish", &finish).await).as_deref(), Some("ORDER_NOT_READY"));

    let raw = order_query(&sandbox).await;
    raw.assert_v3_error(429, "FREQUENCY_LIMITED", "频率限制");
    assert!(raw.verify(&sandbox, T0).is_ok());
    let err = raw.parse_verified(&sandbox, T0, v3::OrderQueryResponse::parse).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::FrequencyLimited));
    assert_eq!(order_query(&sandbox).await.status, 200);
}

#[tokio::test]
async fn delay() {
    let (sandbox, _) = common::start().await;
    sandbox.inject("queryrefund", Fault::Delay { ms: 300 }, 1).unwrap();
    sandbox.inject(ORDERS, Fault::Delay { ms: 200 }, 1).unwrap();
    let started = Instant::now();
    let raw = cloudpay(&sandbox, "queryrefund", &refund_query()).await;
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    assert_eq!(code(&raw), None, "a delayed answer is a normal answer");
    let started = Instant::now();
    let raw = order_query(&sandbox).await;
    assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
    assert_eq!(raw.status, 200);
    assert!(raw.verify(&sandbox, T0).is_ok());
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    let (sandbox, _) = common::start().await;
    sandbox.inject("profitsharingreturnquery", Fault::Drop, 1).unwrap();
    sandbox.inject(ORDERS, Fault::Drop, 1).unwrap();
    let received = exchange(&sandbox, Via::Http, &Req::cloudpay("profitsharingreturnquery", &return_query())).await;
    assert!(received.bytes.is_empty(), "{:?}", String::from_utf8_lossy(&received.bytes));
    // Not processed.
    let raw = cloudpay(&sandbox, "profitsharingreturnquery", &return_query()).await;
    assert_eq!(ReturnQueryResponse::parse(&raw.http()).unwrap().result, ReturnResult::Processing);

    let received = exchange(&sandbox, Via::Https, &Req::v3(ORDER_QUERY, T0)).await;
    assert!(received.bytes.is_empty(), "{:?}", String::from_utf8_lossy(&received.bytes));
    assert_eq!(order_query(&sandbox).await.status, 200);
}

#[tokio::test]
async fn truncate_cuts_the_body_short_of_its_length() {
    let (sandbox, _) = common::start().await;
    sandbox.inject("profitsharingreturnquery", Fault::Truncate, 1).unwrap();
    sandbox.inject(ORDERS, Fault::Truncate, 1).unwrap();
    let raw = cloudpay(&sandbox, "profitsharingreturnquery", &return_query()).await;
    assert_eq!(raw.status, 200);
    let announced = raw.content_length.expect("a Content-Length");
    assert!(announced > 0);
    assert_eq!(raw.body.len(), announced / 2, "half of the announced length");
    assert!(serde_json::from_slice::<Value>(&raw.body).is_err());
    // Processed: that was the order's PROCESSING answer, so the next one is final.
    let next = cloudpay(&sandbox, "profitsharingreturnquery", &return_query()).await;
    assert_eq!(ReturnQueryResponse::parse(&next.http()).unwrap().result, ReturnResult::Success);

    let raw = order_query(&sandbox).await;
    let announced = raw.content_length.expect("a Content-Length");
    assert_eq!(raw.body.len(), announced / 2);
    assert!(raw.has_signature_headers(), "signed over the whole body, then cut");
    assert!(matches!(raw.verify(&sandbox, T0), Err(VerificationError::BadSignature(_))));
    assert_eq!(order_query(&sandbox).await.status, 200);
}

#[tokio::test]
async fn not_json() {
    let (sandbox, _) = common::start().await;
    sandbox.inject("queryrefund", Fault::NotJson, 1).unwrap();
    sandbox.inject(ORDERS, Fault::NotJson, 1).unwrap();
    let raw = cloudpay(&sandbox, "queryrefund", &refund_query()).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("Content-Type"), Some("text/html"));
    assert!(raw.text().starts_with("<html>"));
    match RefundQueryResponse::parse(&raw.http()) {
        Err(Error::Malformed(m)) => assert_eq!(m.kind(), &MalformedKind::NotJson),
        other => panic!("{other:?}"),
    }
    let raw = order_query(&sandbox).await;
    assert_eq!((raw.status, raw.header("Content-Type")), (200, Some("text/html")));
    // Signed: the signature is fine, the body is not.
    assert!(raw.verify(&sandbox, T0).is_ok());
    assert!(matches!(raw.parse_verified(&sandbox, T0, v3::OrderQueryResponse::parse), Err(Error::Malformed(_))));
}

/// The verification error of the next order query, whose body is the normal answer.
async fn verification_error(sandbox: &Sandbox) -> (Raw, VerificationError) {
    let raw = order_query(sandbox).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json()["out_order_no"], "P20150806125346");
    let keys = sandbox.keys().wechatpay_keys().unwrap();
    let request = v3::OrderQueryRequest::from_query(ORDER_QUERY.split_once('?').unwrap().1).unwrap();
    let err = match verify_and_parse(&request, &raw.http(), T0, &keys) {
        Err(Error::Verification(e)) => e.verification_error().clone(),
        other => panic!("{other:?}"),
    };
    (raw, err)
}

#[tokio::test]
async fn signature_faults() {
    let (sandbox, _) = common::start().await;
    let serial = sandbox.keys().platform.as_ref().unwrap().serial.clone();
    for fault in [Fault::MissingSignature, Fault::WrongSignature, Fault::StaleTimestamp, Fault::UnknownSerial] {
        sandbox.inject(ORDERS, fault, 1).unwrap();
    }
    let (raw, err) = verification_error(&sandbox).await;
    assert_eq!(err, VerificationError::MissingHeader("Wechatpay-Timestamp"));
    assert!(!raw.has_signature_headers());
    assert!(raw.header("Request-ID").is_some());

    let (raw, err) = verification_error(&sandbox).await;
    assert_eq!(err, VerificationError::BadSignature(serial.clone()));
    assert_eq!(raw.header("Wechatpay-Serial"), Some(serial.as_str()));

    let (raw, err) = verification_error(&sandbox).await;
    assert_eq!(err, VerificationError::Stale { timestamp: T0 - 600, age: 600, limit: 300 });
    assert_eq!(raw.header("Wechatpay-Timestamp"), Some((T0 - 600).to_string().as_str()));

    let (raw, err) = verification_error(&sandbox).await;
    let unknown = raw.header("Wechatpay-Serial").unwrap().to_owned();
    assert_eq!(err, VerificationError::UnknownSerial(unknown.clone()));
    assert!(unknown.starts_with("PUB_KEY_ID_"));

    // The queue is empty: the next answer verifies.
    assert!(order_query(&sandbox).await.verify(&sandbox, T0).is_ok());
}

#[tokio::test]
async fn faults_queue_per_operation_in_order() {
    let (sandbox, _) = common::start().await;
    sandbox.inject(ORDERS, Fault::ServerError, 2).unwrap();
    sandbox.inject(ORDERS, Fault::TooManyRequests, 1).unwrap();
    sandbox.inject(v3::ReturnQueryRequest::SPEC.name, Fault::WrongSignature, 1).unwrap();
    // Other operations are untouched.
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None);
    assert_eq!(https(&sandbox, &Req::v3("/v3/certificates", T0)).await.status, 200);
    let statuses = [
        order_query(&sandbox).await.status,
        order_query(&sandbox).await.status,
        order_query(&sandbox).await.status,
        order_query(&sandbox).await.status,
    ];
    assert_eq!(statuses, [500, 500, 429, 200]);
    let raw = https(&sandbox, &Req::v3(common::RETURN_QUERY, T0)).await;
    assert!(matches!(raw.verify(&sandbox, T0), Err(VerificationError::BadSignature(_))));
    // Certificates can be faulted too.
    sandbox.inject("certificates", Fault::UnknownSerial, 1).unwrap();
    let raw = https(&sandbox, &Req::v3("/v3/certificates", T0)).await;
    assert!(matches!(raw.verify(&sandbox, T0), Err(VerificationError::UnknownSerial(_))));
}

#[tokio::test]
async fn an_unauthenticated_request_does_not_use_up_a_fault() {
    let (sandbox, _) = common::start().await;
    sandbox.inject(ORDERS, Fault::ServerError, 1).unwrap();
    sandbox.inject(ORDERS, Fault::Drop, 1).unwrap();
    let unsigned = https(&sandbox, &Req::get(ORDER_QUERY)).await;
    unsigned.assert_v3_error(401, "SIGN_ERROR", "Authorization");
    assert_eq!(order_query(&sandbox).await.status, 500);
    let unsigned = https(&sandbox, &Req::get(ORDER_QUERY)).await;
    assert_eq!(unsigned.status, 401, "a 401 is answered, not dropped");
    assert!(exchange(&sandbox, Via::Https, &Req::v3(ORDER_QUERY, T0)).await.bytes.is_empty());
    assert_eq!(order_query(&sandbox).await.status, 200);
}

#[tokio::test]
async fn reset_forgets_queued_faults() {
    let (sandbox, _) = common::start().await;
    sandbox.inject("queryrefund", Fault::ServerError, 5).unwrap();
    sandbox.inject(ORDERS, Fault::ServerError, 5).unwrap();
    sandbox.reset();
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None);
    assert_eq!(order_query(&sandbox).await.status, 200);
    admin(&sandbox, r#"{"operation":"queryrefund","fault":{"kind":"server_error"},"count":5}"#).await;
    http(&sandbox, &Req::post("/_sandbox/reset")).await;
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None);
}

#[tokio::test]
async fn the_library_refuses_what_cannot_apply() {
    let (sandbox, _) = common::start().await;
    let err = sandbox.inject("refund", Fault::ServerError, 1).unwrap_err();
    assert!(matches!(err, SandboxError::Config(m) if m.contains("unknown operation")), "{err}");
    for fault in [Fault::MissingSignature, Fault::WrongSignature, Fault::StaleTimestamp, Fault::UnknownSerial] {
        for op in ["profitsharingreturnquery", "profitsharingfinish", "queryrefund"] {
            let err = sandbox.inject(op, fault, 1).unwrap_err();
            assert!(matches!(err, SandboxError::Config(m) if m.contains("not signed")), "{err}");
        }
    }
    // Nothing was queued.
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None);
    // count 0 queues nothing.
    sandbox.inject("queryrefund", Fault::ServerError, 0).unwrap();
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None);
}

#[tokio::test]
async fn the_admin_endpoint_queues_faults() {
    let (sandbox, _) = common::start().await;
    let raw = admin(&sandbox, r#"{"operation":"queryrefund","fault":{"kind":"server_error"},"count":2}"#).await;
    assert_eq!((raw.status, raw.json()), (200, json!({"queued": 2})));
    for _ in 0..2 {
        assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await).as_deref(), Some("SYSTEMERROR"));
    }
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None);

    // count defaults to 1.
    let raw =
        admin(&sandbox, r#"{"operation":"ecommerce/profitsharing/orders","fault":{"kind":"stale_timestamp"}}"#).await;
    assert_eq!((raw.status, raw.json()), (200, json!({"queued": 1})));
    assert!(matches!(order_query(&sandbox).await.verify(&sandbox, T0), Err(VerificationError::Stale { .. })));
    assert!(order_query(&sandbox).await.verify(&sandbox, T0).is_ok());

    let raw =
        admin(&sandbox, r#"{"operation":"profitsharingfinish","fault":{"kind":"delay","ms":150},"count":1}"#).await;
    assert_eq!(raw.status, 200);
    let started = Instant::now();
    let finish = json!({"sub_mch_id": SUB, "nonce_str": "N1", "transaction_id": "4208450740201411110007820472", "out_order_no": "P1", "description": "d"});
    assert_eq!(code(&cloudpay(&sandbox, "profitsharingfinish", &finish).await), None);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let raw = admin(&sandbox, r#"{"operation":"queryrefund","fault":{"kind":"drop"},"count":1}"#).await;
    assert_eq!(raw.status, 200);
    assert!(exchange(&sandbox, Via::Http, &Req::cloudpay("queryrefund", &refund_query())).await.bytes.is_empty());
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None);
}

#[tokio::test]
async fn the_admin_endpoint_knows_every_kind() {
    let (sandbox, _) = common::start().await;
    let kinds = [
        r#"{"kind":"server_error"}"#,
        r#"{"kind":"too_many_requests"}"#,
        r#"{"kind":"delay","ms":1}"#,
        r#"{"kind":"drop"}"#,
        r#"{"kind":"truncate"}"#,
        r#"{"kind":"not_json"}"#,
        r#"{"kind":"missing_signature"}"#,
        r#"{"kind":"wrong_signature"}"#,
        r#"{"kind":"stale_timestamp"}"#,
        r#"{"kind":"unknown_serial"}"#,
    ];
    for kind in kinds {
        let raw = admin(&sandbox, &format!(r#"{{"operation":"certificates","fault":{kind},"count":1}}"#)).await;
        assert_eq!((raw.status, raw.json()), (200, json!({"queued": 1})), "{kind}");
    }
    // Each one in turn, on /v3/certificates.
    let cert = || Req::v3("/v3/certificates", T0);
    assert_eq!(https(&sandbox, &cert()).await.status, 500);
    assert_eq!(https(&sandbox, &cert()).await.status, 429);
    assert!(https(&sandbox, &cert()).await.verify(&sandbox, T0).is_ok()); // delay
    assert!(exchange(&sandbox, Via::Https, &cert()).await.bytes.is_empty()); // drop
    let raw = https(&sandbox, &cert()).await; // truncate
    assert_eq!(raw.body.len(), raw.content_length.unwrap() / 2);
    assert_eq!(https(&sandbox, &cert()).await.header("Content-Type"), Some("text/html"));
    let missing = https(&sandbox, &cert()).await.verify(&sandbox, T0).unwrap_err();
    let wrong = https(&sandbox, &cert()).await.verify(&sandbox, T0).unwrap_err();
    let stale = https(&sandbox, &cert()).await.verify(&sandbox, T0).unwrap_err();
    let unknown = https(&sandbox, &cert()).await.verify(&sandbox, T0).unwrap_err();
    assert!(matches!(missing, VerificationError::MissingHeader(_)), "{missing:?}");
    assert!(matches!(wrong, VerificationError::BadSignature(_)), "{wrong:?}");
    assert!(matches!(stale, VerificationError::Stale { .. }), "{stale:?}");
    assert!(matches!(unknown, VerificationError::UnknownSerial(_)), "{unknown:?}");
    assert!(https(&sandbox, &cert()).await.verify(&sandbox, T0).is_ok());
}

#[tokio::test]
async fn the_admin_endpoint_refuses_what_cannot_apply() {
    let (sandbox, _) = common::start().await;
    for (body, needle) in [
        (r#"{"operation":"refund","fault":{"kind":"server_error"}}"#, "unknown operation"),
        (r#"{"operation":"queryrefund","fault":{"kind":"wrong_signature"}}"#, "not signed"),
        (r#"{"operation":"profitsharingfinish","fault":{"kind":"missing_signature"}}"#, "not signed"),
        (r#"{"operation":"queryrefund","fault":{"kind":"explode"}}"#, "expected"),
        (r#"{"operation":"queryrefund","fault":{"kind":"delay"}}"#, "expected"),
        (r#"{"operation":"queryrefund","fault":"server_error"}"#, "expected"),
        (r#"{"operation":"queryrefund","fault":{"kind":"server_error"},"count":-1}"#, "expected"),
        (r#"{"fault":{"kind":"server_error"}}"#, "expected"),
        ("not json", "expected"),
    ] {
        let raw = admin(&sandbox, body).await;
        assert_eq!(raw.status, 400, "{body}");
        let message = raw.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains(needle), "{body}: {message}");
    }
    for req in [Req::get("/_sandbox/faults"), Req::post("/_sandbox/nothing"), Req::get("/_sandbox/reset")] {
        let raw = http(&sandbox, &req).await;
        assert_eq!(raw.status, 404);
        assert!(raw.json()["error"].as_str().unwrap().contains("POST /_sandbox/faults"));
    }
    // Nothing was queued.
    assert_eq!(code(&cloudpay(&sandbox, "queryrefund", &refund_query()).await), None);
    assert_eq!(code(&cloudpay(&sandbox, "profitsharingreturnquery", &return_query()).await), None);
}

#[tokio::test]
async fn info_describes_the_sandbox() {
    let (sandbox, _) = common::start().await;
    for via in [Via::Http, Via::Https] {
        let raw = common::send(&sandbox, via, &Req::get("/_sandbox/info")).await;
        assert_eq!(raw.status, 200);
        assert_eq!(&raw.json(), sandbox.info());
    }
    let info = sandbox.info();
    let keys = sandbox.keys();
    assert_eq!(info["sandbox"], concat!("wxpay-sandbox/", env!("CARGO_PKG_VERSION")));
    assert_eq!(info["cloudpay_url"], json!(sandbox.http_url()));
    assert_eq!(info["http_url"], json!(sandbox.http_url()));
    assert_eq!(info["https_url"], json!(sandbox.https_url()));
    assert_eq!(info["mchid"], "1900007291");
    assert_eq!(info["merchant_serial"], keys.merchant_serial);
    assert_eq!(info["public_key_id"], keys.public_key.as_ref().unwrap().id.as_str());
    assert_eq!(info["platform_serial"], keys.platform.as_ref().unwrap().serial);
    assert_eq!(
        info["qps"],
        json!({
            "profitsharingreturnquery": 30,
            "profitsharingfinish": 60,
            "certificates": 1000,
            "pay/profitsharingreturnquery": 30,
            "secapi/pay/profitsharingfinish": 60,
        })
    );
    assert!(sandbox.http_url().unwrap().starts_with("http://127.0.0.1:"));
    assert!(sandbox.https_url().unwrap().starts_with("https://127.0.0.1:"));
}
