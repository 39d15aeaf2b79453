//! The v2 wire: WeChat Pay's published signing vector, requests built byte for byte, answers
//! verified before they are read, and the properties of the signature and the XML reader.

// MD5 is always there; HMAC-SHA256 is the aws-lc-rs default (tests/embedder.rs has the rest).
#![cfg(feature = "aws-lc-rs")]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::json;
use wxpay_protocol::cloudpay::{FinishRequest, RefundQueryRequest, ReturnQueryRequest};
use wxpay_protocol::security::{Mchid, VerificationError};
use wxpay_protocol::v2::{
    self, ApiV2Key, AppId, Fields, Merchant, SignType, V2Operation, XmlError, encode_answer, read_request,
    string_to_sign, to_cloudpay,
};
use wxpay_protocol::{
    BaseUrl, Description, Error, MalformedKind, NonceStr, Offset, Operation, OrderRef, OutOrderNo, OutReturnNo,
    RefundLookup, Rule, SubMchId, TransactionId,
};

fn vector(file: &str) -> String {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/v2-sign-official").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn official_fields() -> Fields {
    vector("fields")
        .lines()
        .map(|line| {
            let (k, v) = line.split_once('=').expect("name=value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn official_key() -> ApiV2Key {
    ApiV2Key::new(vector("apiv2_key").as_bytes()).unwrap()
}

#[test]
fn official_vector_md5_and_hmac_sha256() {
    let fields = official_fields();
    assert_eq!(fields.len(), 5);
    assert_eq!(string_to_sign(&fields), vector("string_to_sign"));
    assert_eq!(v2::sign(&fields, SignType::Md5, &official_key()), vector("md5"));
    assert_eq!(v2::sign(&fields, SignType::HmacSha256, &official_key()), vector("hmac_sha256"));

    let mut signed = fields.clone();
    signed.insert("sign", vector("hmac_sha256"));
    assert!(v2::verify(&signed, SignType::HmacSha256, &official_key()));
    assert!(!v2::verify(&signed, SignType::Md5, &official_key()), "the algorithm is part of the check");
    signed.insert("sign", vector("hmac_sha256").to_lowercase());
    assert!(!v2::verify(&signed, SignType::HmacSha256, &official_key()), "only the exact signature");
}

const KEY: &[u8] = b"0123456789abcdefghijABCDEFGHIJ01";

fn merchant() -> Merchant {
    Merchant::new(Mchid::new("1900000100").unwrap(), AppId::new("wx8888888888888888").unwrap(), key())
}

fn key() -> ApiV2Key {
    ApiV2Key::new(KEY).unwrap()
}

fn nonce() -> NonceStr {
    NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS").unwrap()
}

fn finish() -> FinishRequest {
    FinishRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("4208450740201411110007820472").unwrap(),
        OutOrderNo::new("P20150806125346").unwrap(),
        Description::new("分账已完成").unwrap(),
    )
    .with_nonce(nonce())
}

fn refund_query() -> RefundQueryRequest {
    RefundQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        RefundLookup::TransactionId(TransactionId::new("4200000000000000000000000036").unwrap()),
    )
    .with_nonce(nonce())
    .offset(Offset::new(10))
}

#[test]
fn finish_builds_the_signed_xml_byte_for_byte() {
    let call = merchant().call(finish());
    let request = call.build(&BaseUrl::v2_default()).unwrap();
    assert_eq!(request.method(), "POST");
    assert_eq!(request.uri(), "https://api.mch.weixin.qq.com/secapi/pay/profitsharingfinish");
    assert_eq!(request.headers()["content-type"], "text/xml; charset=utf-8");
    // Written out by hand: the sorted fields and the signature over them.
    let unsigned = "appid=wx8888888888888888&description=分账已完成&mch_id=1900000100\
                    &nonce_str=5K8264ILTKCH16CQ2502SI8ZNMTM67VS&out_order_no=P20150806125346\
                    &sign_type=HMAC-SHA256&sub_mch_id=1900000109&transaction_id=4208450740201411110007820472";
    let fields = call.fields().unwrap();
    assert_eq!(string_to_sign(&fields), unsigned);
    let sign = v2::sign(&fields, SignType::HmacSha256, &key());
    assert_eq!(fields.get("sign"), Some(sign.as_str()));
    let expected = format!(
        "<xml><appid><![CDATA[wx8888888888888888]]></appid><description><![CDATA[分账已完成]]></description>\
         <mch_id>1900000100</mch_id><nonce_str><![CDATA[5K8264ILTKCH16CQ2502SI8ZNMTM67VS]]></nonce_str>\
         <out_order_no><![CDATA[P20150806125346]]></out_order_no><sign><![CDATA[{sign}]]></sign>\
         <sign_type><![CDATA[HMAC-SHA256]]></sign_type><sub_mch_id>1900000109</sub_mch_id>\
         <transaction_id>4208450740201411110007820472</transaction_id></xml>"
    );
    assert_eq!(std::str::from_utf8(request.body()).unwrap(), expected);
}

#[test]
fn sign_types_follow_the_documented_restrictions() {
    for err in [
        merchant().call(finish()).with_sign_type(SignType::Md5).unwrap_err(),
        merchant()
            .call(ReturnQueryRequest::new(
                SubMchId::new("1900000109").unwrap(),
                OrderRef::OutOrderNo(OutOrderNo::new("P1").unwrap()),
                OutReturnNo::new("R1").unwrap(),
            ))
            .with_sign_type(SignType::Md5)
            .unwrap_err(),
    ] {
        assert_eq!((err.field(), err.rule()), ("sign_type", &Rule::OneOf(&["HMAC-SHA256"])));
    }
    let md5 = merchant().call(refund_query()).with_sign_type(SignType::Md5).unwrap();
    let fields = md5.fields().unwrap();
    assert_eq!(fields.get("sign_type"), Some("MD5"));
    assert_eq!(fields.get("offset"), Some("10"));
    assert!(v2::verify(&fields, SignType::Md5, &key()));
}

#[test]
fn a_request_without_a_nonce_is_refused_by_name() {
    let request = FinishRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("4208450740201411110007820472").unwrap(),
        OutOrderNo::new("P1").unwrap(),
        Description::new("d").unwrap(),
    );
    let err = merchant().call(request).build(&BaseUrl::v2_default()).unwrap_err();
    assert_eq!((err.field(), err.rule()), ("nonce_str", &Rule::Missing));
}

/// A server's answer to `call`: the CloudPay JSON `answer` written as v2 XML, signed.
fn answer_to<R: V2Operation>(call: &v2::Call<R>, answer: serde_json::Value) -> http::Response<Vec<u8>> {
    let add = [("mch_id", "1900000100"), ("appid", "wx8888888888888888"), ("nonce_str", "SERVERNONCE")];
    let xml = encode_answer(answer.to_string().as_bytes(), &add, &key(), call.sign_type()).unwrap();
    http::Response::new(xml)
}

fn finish_answer() -> serde_json::Value {
    json!({"return_code": "SUCCESS", "result_code": "SUCCESS", "sub_mch_id": "1900000109",
           "transaction_id": "4208450740201411110007820472", "out_order_no": "P20150806125346",
           "order_id": "3008450740201411110007820472", "x_new_field": "kept"})
}

#[test]
fn a_signed_answer_parses_into_the_cloudpay_type_and_keeps_every_field() {
    let call = merchant().call(finish());
    let done = call.parse(&answer_to(&call, finish_answer())).unwrap();
    assert_eq!(done.order_id, "3008450740201411110007820472");
    assert_eq!(done.mch_id.as_deref(), Some("1900000100"));
    assert_eq!(done.appid.as_deref(), Some("wx8888888888888888"));
    assert_eq!(done.nonce_str.as_deref(), Some("SERVERNONCE"));
    assert!(done.sign.as_deref().is_some_and(|s| s.len() == 64));
    assert_eq!(done.extra.get("x_new_field"), Some(&json!("kept")));
}

#[test]
fn forged_tampered_or_unsigned_success_is_refused() {
    let call = merchant().call(finish());
    let good = answer_to(&call, finish_answer());
    let tampered = http::Response::new(
        String::from_utf8(good.body().clone())
            .unwrap()
            .replace("3008450740201411110007820472", "3008450740201411110007820473")
            .into_bytes(),
    );
    let mut fields = Fields::from_xml(good.body()).unwrap();
    fields.remove("sign");
    let unsigned = http::Response::new(fields.to_xml().into_bytes());
    let other_key = {
        let other = Merchant::new(
            Mchid::new("1900000100").unwrap(),
            AppId::new("wx8888888888888888").unwrap(),
            ApiV2Key::new(b"ffffffffffffffffffffffffffffffff").unwrap(),
        );
        other.call(finish())
    };
    let cases = [
        (&call, &tampered, VerificationError::BadSign),
        (&call, &unsigned, VerificationError::MissingSign),
        (&other_key, &good, VerificationError::BadSign),
    ];
    for (call, answer, expected) in cases {
        match call.parse(answer) {
            Err(Error::Verification(e)) => {
                assert_eq!(e.verification_error(), &expected);
                assert_eq!(e.body(), answer.body().as_slice(), "the XML as received is kept");
                assert!(!Error::Verification(e).is_retryable());
            }
            other => panic!("expected a verification error, got {other:?}"),
        }
    }
}

#[test]
fn unsigned_fail_answers_are_api_errors() {
    let call = merchant().call(finish());
    let fail = http::Response::new(
        b"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[\xe7\xad\xbe\xe5\x90\x8d\xe9\x94\x99\xe8\xaf\xaf]]></return_msg></xml>"
            .to_vec(),
    );
    let err = call.parse(&fail).unwrap_err();
    let api = err.as_api().expect("an API error");
    assert_eq!(api.message(), Some("签名错误"));
    // A business failure is signed, and reads as the CloudPay one does.
    let business = answer_to(
        &call,
        json!({"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "SYSTEMERROR", "err_code_des": "busy"}),
    );
    let err = call.parse(&business).unwrap_err();
    assert_eq!(err.as_api().unwrap().code().unwrap().as_str(), "SYSTEMERROR");
    assert!(err.is_retryable());
}

#[test]
fn malformed_xml_keeps_the_bytes_received() {
    let call = merchant().call(finish());
    for body in [&b"<!DOCTYPE xml><xml></xml>"[..], b"{\"return_code\":\"SUCCESS\"}", b"<xml><a>&ent;</a></xml>"] {
        let err = call.parse(&http::Response::new(body.to_vec())).unwrap_err();
        let malformed = err.as_malformed().unwrap_or_else(|| panic!("{err:?}"));
        assert!(matches!(malformed.kind(), MalformedKind::NotXml(_)), "{:?}", malformed.kind());
        assert_eq!(malformed.body(), body);
    }
    // A verified answer that the CloudPay reader refuses keeps the XML too, not its JSON form.
    let incomplete = answer_to(&call, json!({"return_code": "SUCCESS", "result_code": "SUCCESS"}));
    let err = call.parse(&incomplete).unwrap_err();
    assert_eq!(err.as_malformed().unwrap().body(), incomplete.body().as_slice());
}

#[test]
fn the_server_side_reads_what_the_client_builds_and_refuses_the_rest() {
    let call = merchant().call(refund_query()).with_sign_type(SignType::Md5).unwrap();
    let body = call.build(&BaseUrl::v2_default()).unwrap().into_body();
    let received = read_request::<RefundQueryRequest>(&body, &key()).unwrap();
    assert_eq!(&received.request, call.request());
    assert_eq!((received.mch_id.as_str(), received.appid.as_str()), ("1900000100", "wx8888888888888888"));
    assert_eq!(received.sign_type, SignType::Md5);

    let other_key = ApiV2Key::new(b"ffffffffffffffffffffffffffffffff").unwrap();
    assert!(matches!(read_request::<RefundQueryRequest>(&body, &other_key), Err(v2::RequestError::BadSign)));
    let md5_finish = {
        let mut fields = merchant().call(finish()).fields().unwrap();
        fields.insert("sign_type", "MD5");
        let sign = v2::sign(&fields, SignType::Md5, &key());
        fields.insert("sign", sign);
        fields.to_xml()
    };
    assert!(matches!(
        read_request::<FinishRequest>(md5_finish.as_bytes(), &key()),
        Err(v2::RequestError::SignTypeNotAllowed(SignType::Md5))
    ));
}

#[test]
fn answers_and_debug_never_show_the_key() {
    let m = merchant();
    let shown = format!("{m:?} {:?}", m.call(finish()));
    assert!(!shown.contains(std::str::from_utf8(KEY).unwrap()), "{shown}");
    assert!(shown.contains("redacted"));
    let err = ApiV2Key::new(b"0123456789abcdefghijABCDEFGHIJ0").unwrap_err().to_string();
    assert!(!err.contains("0123456789"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Properties

fn field_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,20}"
}

/// Any text a v2 field can carry in XML: every Unicode scalar except the C0 controls XML 1.0
/// forbids (tab, line feed and carriage return are allowed).
fn field_value() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        any::<char>().prop_filter("XML 1.0 characters", |c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')),
        0..24,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn field_set() -> impl Strategy<Value = Fields> {
    proptest::collection::btree_map(field_name(), field_value(), 1..12)
        .prop_map(|map| map.into_iter().filter(|(k, _)| k != "sign").collect())
}

fn sign_type() -> impl Strategy<Value = SignType> {
    prop_oneof![Just(SignType::Md5), Just(SignType::HmacSha256)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Signing then verifying round-trips for arbitrary field sets, also through the XML.
    #[test]
    fn sign_then_verify_round_trips(mut fields in field_set(), sign_type in sign_type()) {
        let sign = v2::sign(&fields, sign_type, &key());
        fields.insert("sign", sign);
        prop_assert!(v2::verify(&fields, sign_type, &key()));
        let read = Fields::from_xml(fields.to_xml().as_bytes()).unwrap();
        prop_assert_eq!(&read, &fields);
        prop_assert!(v2::verify(&read, sign_type, &key()));
    }

    /// Any changed byte of a signed answer makes it fail: as XML, or its signature.
    #[test]
    fn any_changed_byte_fails_verification(
        fields in field_set(),
        sign_type in sign_type(),
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let mut fields = fields;
        fields.insert("return_code", "SUCCESS");
        let sign = v2::sign(&fields, sign_type, &key());
        fields.insert("sign", sign);
        let mut body = fields.to_xml().into_bytes();
        let i = at.index(body.len());
        body[i] ^= xor;
        let result = to_cloudpay(&http::Response::new(body), &key(), sign_type);
        prop_assert!(result.is_err(), "byte {} changed and still accepted", i);
    }

    /// The XML reader never panics, whatever the bytes.
    #[test]
    fn xml_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Fields::from_xml(&bytes);
    }

    /// A DOCTYPE anywhere before the root, or an entity reference in a value, is refused.
    #[test]
    fn doctype_and_entities_are_refused(fields in field_set(), entity in "[a-z]{1,8}") {
        let xml = fields.to_xml();
        let with_doctype = format!("<!DOCTYPE xml [<!ENTITY {entity} \"x\">]>{xml}");
        prop_assert_eq!(Fields::from_xml(with_doctype.as_bytes()), Err(XmlError::DocType));
        prop_assume!(!["lt", "gt", "amp", "apos", "quot"].contains(&entity.as_str()));
        let with_entity = xml.replacen("</xml>", &format!("<zz>&{entity};</zz></xml>"), 1);
        prop_assert_eq!(Fields::from_xml(with_entity.as_bytes()), Err(XmlError::Entity));
    }
}
