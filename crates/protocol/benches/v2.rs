//! The v2 wire's costs: signing a request, reading and verifying an answer, and the whole typed
//! parse beside the same answer read on the CloudPay wire, so that docs/performance.md can say
//! what the XML and the signature add.
//!
//! Run: `cargo bench -p wxpay-protocol --bench v2`.

use divan::{Bencher, black_box};
use serde_json::{Map, Value};
use wxpay_protocol::cloudpay::{FinishRequest, RefundQueryRequest};
use wxpay_protocol::security::Mchid;
use wxpay_protocol::v2::{ApiV2Key, AppId, Fields, Merchant, SignType, encode_answer, to_cloudpay};
use wxpay_protocol::{BaseUrl, Description, NonceStr, Operation, OutOrderNo, RefundLookup, SubMchId, TransactionId};

fn main() {
    divan::main();
}

fn merchant() -> Merchant {
    Merchant::new(
        Mchid::new("1900000100").unwrap(),
        AppId::new("wx8888888888888888").unwrap(),
        ApiV2Key::new(b"192006250b4c09247ec02edce69f6a2d").unwrap(),
    )
}

fn nonce() -> NonceStr {
    NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS").unwrap()
}

fn refund_query() -> RefundQueryRequest {
    RefundQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        RefundLookup::TransactionId(TransactionId::new("4200000000000000000000000036").unwrap()),
    )
    .with_nonce(nonce())
}

/// A refund query answer listing a full page: 10 refunds with one coupon each, as the CloudPay
/// JSON (indexed keys, digit strings).
fn page_json() -> Vec<u8> {
    let mut m = Map::new();
    let mut put = |k: String, v: &str| {
        m.insert(k, Value::String(v.to_owned()));
    };
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("sub_mch_id", "1900000109"),
        ("transaction_id", "4200000000000000000000000036"),
        ("out_trade_no", "T20261121000036"),
        ("total_fee", "3600"),
        ("cash_fee", "3600"),
        ("refund_count", "10"),
        ("total_refund_count", "36"),
    ] {
        put(k.to_owned(), v);
    }
    for n in 0..10 {
        put(format!("out_refund_no_{n}"), &format!("R2026112100000{n}"));
        put(format!("refund_id_{n}"), &format!("503000000000000000000000000{n}"));
        put(format!("refund_fee_{n}"), "100");
        put(format!("refund_status_{n}"), "SUCCESS");
        put(format!("refund_success_time_{n}"), "2026-11-21 10:00:00");
        put(format!("refund_recv_accout_{n}"), "招商银行信用卡0403");
        put(format!("coupon_refund_count_{n}"), "1");
        put(format!("coupon_refund_id_{n}_0"), &format!("1000000{n}"));
        put(format!("coupon_refund_fee_{n}_0"), "10");
        put(format!("coupon_type_{n}_0"), "CASH");
    }
    Value::Object(m).to_string().into_bytes()
}

fn page_xml() -> Vec<u8> {
    let add = [("mch_id", "1900000100"), ("appid", "wx8888888888888888"), ("nonce_str", "SERVERNONCE")];
    encode_answer(&page_json(), &add, merchant().key(), SignType::HmacSha256).unwrap()
}

/// Signs and writes a finish request (the fields, HMAC-SHA256, the `<xml>` body).
#[divan::bench]
fn build_finish_hmac_sha256(bencher: Bencher<'_, '_>) {
    let call = merchant().call(
        FinishRequest::new(
            SubMchId::new("1900000109").unwrap(),
            TransactionId::new("4208450740201411110007820472").unwrap(),
            OutOrderNo::new("P20150806125346").unwrap(),
            Description::new("分账已完成").unwrap(),
        )
        .with_nonce(nonce()),
    );
    let base = BaseUrl::v2_default();
    bencher.bench_local(|| black_box(&call).build(&base).unwrap());
}

/// The same for a refund query signed with MD5.
#[divan::bench]
fn build_refund_query_md5(bencher: Bencher<'_, '_>) {
    let call = merchant().call(refund_query()).with_sign_type(SignType::Md5).unwrap();
    let base = BaseUrl::v2_default();
    bencher.bench_local(|| black_box(&call).build(&base).unwrap());
}

/// Reads the `<xml>` of a full refund page (113 fields) into fields.
#[divan::bench]
fn read_xml_refund_page(bencher: Bencher<'_, '_>) {
    let xml = page_xml();
    bencher.bench_local(|| Fields::from_xml(black_box(&xml)).unwrap());
}

/// Reads and verifies a full refund page, and rewrites it as CloudPay JSON.
#[divan::bench]
fn verify_refund_page(bencher: Bencher<'_, '_>) {
    let answer = http::Response::new(page_xml());
    let key = merchant().key().clone();
    bencher.bench_local(|| to_cloudpay(black_box(&answer), &key, SignType::HmacSha256).unwrap());
}

/// The whole typed parse of a full refund page on the v2 wire.
#[divan::bench]
fn parse_refund_page_v2(bencher: Bencher<'_, '_>) {
    let answer = http::Response::new(page_xml());
    let call = merchant().call(refund_query());
    bencher.bench_local(|| call.parse(black_box(&answer)).unwrap());
}

/// The same page read on the CloudPay wire (JSON, no signature), for comparison.
#[divan::bench]
fn parse_refund_page_cloudpay(bencher: Bencher<'_, '_>) {
    let answer = http::Response::new(page_json());
    let query = refund_query();
    bencher.bench_local(|| query.parse(black_box(&answer)).unwrap());
}
