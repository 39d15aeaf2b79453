//! Notifications (docs/protocol.md §6): the published wechatpay-go vector, a signed and encrypted
//! round trip, every tamper refused with its typed error, unknown event types kept, and a parser
//! that never panics on arbitrary headers and bodies.

#![cfg(feature = "aws-lc-rs")]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};
use wxpay_protocol::notify::{
    self, Event, EventType, NotificationDraft, NotificationError, parse_notification, sign_notification,
    verify_notification,
};
use wxpay_protocol::security::{
    Apiv3Key, CertificateError, KeyKind, KeySet, RsaPrivateKey, VerificationError, VerifyingKey,
};
use wxpay_protocol::{ReceiverType, UnknownValue};

fn dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(case)
}

fn read(case: &str, file: &str) -> Vec<u8> {
    let path = dir(case).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(case: &str, file: &str) -> String {
    String::from_utf8(read(case, file)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The published vector

const GO: &str = "go-sdk-notification";

fn go_request() -> http::Request<Vec<u8>> {
    http::Request::post("http://127.0.0.1/notify")
        .header("Content-Type", "application/json")
        .header("Wechatpay-Nonce", text(GO, "nonce"))
        .header("Wechatpay-Timestamp", text(GO, "timestamp"))
        .header("Wechatpay-Serial", text(GO, "serial"))
        .header("Wechatpay-Signature", text(GO, "signature"))
        .body(read(GO, "body.json"))
        .unwrap()
}

fn go_keys() -> KeySet {
    let mut keys = KeySet::new();
    keys.insert(VerifyingKey::from_certificate_pem(&text(GO, "certificate.pem")).unwrap());
    keys
}

#[test]
fn go_sdk_notification_verifies_and_keeps_its_unknown_event_type() {
    let now: i64 = text(GO, "timestamp").parse().unwrap();
    let verified = verify_notification(&go_request(), now, &go_keys()).unwrap();
    assert_eq!(verified.serial, "D7CE59D1F522D701");
    assert_eq!(verified.id, "3119dfba-e649-5eec-ab1e-3412bc4d2e17");
    assert_eq!(verified.create_time.original(), "2021-06-24T16:37:26+08:00");
    assert_eq!(verified.resource_type, "encrypt-resource");
    assert_eq!(verified.event_type.as_str(), "PAYSCORE.USER_OPEN_SERVICE");
    assert!(verified.event_type.is_unknown());
    assert_eq!(verified.summary, "签约成功");
    assert_eq!(verified.resource.algorithm, "AEAD_AES_256_GCM");
    assert_eq!(verified.resource.associated_data, "payscore");
    assert_eq!(verified.resource.original_type, "payscore");
    assert_eq!(verified.resource.nonce, "Kj7QIyUiYx1q");

    // The published key is 16 bytes (AES-128 in Go); an APIv3 key is 32.
    assert!(Apiv3Key::new(&read(GO, "apiv3_key")).is_err());
    // The plaintext, with AES-128-GCM straight from aws-lc-rs: the vector's data is intact.
    use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use base64::Engine as _;
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &read(GO, "apiv3_key")).unwrap());
    let mut data = base64::engine::general_purpose::STANDARD.decode(&verified.resource.ciphertext).unwrap();
    let nonce: [u8; 12] = verified.resource.nonce.as_bytes().try_into().unwrap();
    let plain = key.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(b"payscore"), &mut data).unwrap();
    assert_eq!(plain, read(GO, "plaintext.json").as_slice());

    // A 32-byte key that is not the sender's does not decrypt it.
    let wrong = Apiv3Key::new(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").unwrap();
    assert!(matches!(verified.clone().decrypt(&wrong), Err(NotificationError::Decryption(CertificateError::Decrypt))));

    // The same vector tampered, or checked at another time, is refused.
    let mut tampered = go_request();
    tampered.body_mut()[10] ^= 1;
    assert!(matches!(
        verify_notification(&tampered, now, &go_keys()),
        Err(NotificationError::Verification(VerificationError::BadSignature(_)))
    ));
    assert!(matches!(
        verify_notification(&go_request(), now + 301, &go_keys()),
        Err(NotificationError::Verification(VerificationError::Stale { age: 301, .. }))
    ));
}

// ---------------------------------------------------------------------------------------------
// A round trip with WeChat Pay's published test key as the platform key

const SERIAL: &str = "PUB_KEY_ID_0112233445566778899AABBCCDDEEFF";
const NOW: i64 = 1_700_000_000;
const APIV3: &[u8] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

fn platform_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(&text("doc-request-signature", "private_key.pem")).unwrap()
}

fn keys() -> KeySet {
    let key = platform_key();
    let mut keys = KeySet::new();
    keys.insert(VerifyingKey::from_spki_pem(SERIAL, KeyKind::PublicKey, &key.public_key_pem().unwrap()).unwrap());
    keys
}

fn apiv3() -> Apiv3Key {
    Apiv3Key::new(APIV3).unwrap()
}

fn resource() -> Value {
    json!({
        "sp_mchid": "1900000100",
        "sub_mchid": "1900000109",
        "transaction_id": "4208450740201411110007820472",
        "order_id": "3008450740201411110007820472",
        "out_order_no": "P20150806125346",
        "receiver": {"type": "MERCHANT_ID", "account": "1900000110", "amount": 100, "description": "分给商户1900000110"},
        "success_time": "2018-06-08T10:34:56+08:00",
        "x_new_field": {"kept": true}
    })
}

fn draft(event_type: EventType, resource: Value) -> NotificationDraft {
    NotificationDraft::new("EV-2018022511223320873", "2018-06-08T10:34:56+08:00", event_type, "分账", resource)
}

fn signed_with(draft: &NotificationDraft, key: &Apiv3Key, timestamp: i64) -> http::Request<Vec<u8>> {
    let body = draft.encrypt(key, "uluk4a9R25RW").unwrap();
    sign_notification(
        "http://127.0.0.1/notify",
        body,
        timestamp,
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        SERIAL,
        &platform_key(),
    )
    .unwrap()
}

fn signed(event_type: EventType) -> http::Request<Vec<u8>> {
    signed_with(&draft(event_type, resource()), &apiv3(), NOW)
}

fn refusal(request: &http::Request<Vec<u8>>) -> NotificationError {
    parse_notification(request, NOW, &keys(), &apiv3()).unwrap_err()
}

#[test]
fn round_trip_profit_sharing_success_and_return() {
    for event_type in [EventType::ProfitSharingSuccess, EventType::ProfitSharingReturn] {
        let request = signed(event_type.clone());
        assert_eq!(request.method(), "POST");
        assert_eq!(request.headers()["Wechatpay-Signature-Type"], "WECHATPAY2-SHA256-RSA2048");
        let n = parse_notification(&request, NOW, &keys(), &apiv3()).unwrap();
        assert_eq!(n.event_type, event_type);
        assert_eq!(n.id, "EV-2018022511223320873");
        assert_eq!(n.serial, SERIAL);
        assert_eq!(n.original_type, "profitsharing");
        assert_eq!(n.resource_type, "encrypt-resource");
        let Event::ProfitSharing(e) = &n.event else { panic!("not a profit-sharing event: {:?}", n.event) };
        assert_eq!(e.sp_mchid.as_deref(), Some("1900000100"));
        assert_eq!(e.sub_mchid.as_deref(), Some("1900000109"));
        assert_eq!(e.mchid, None);
        assert_eq!(e.out_order_no, "P20150806125346");
        assert_eq!(e.receiver.receiver_type, ReceiverType::MerchantId);
        assert_eq!(e.receiver.account, "1900000110");
        assert_eq!(e.receiver.amount.get(), 100);
        assert_eq!(e.success_time.as_ref().map(|t| t.unix_timestamp()), Some(1_528_425_296));
        assert_eq!(e.extra.get("x_new_field"), Some(&json!({"kept": true})));
        // Serialised back, nothing is lost.
        let back = serde_json::to_value(&n).unwrap();
        assert_eq!(back["event"], resource());
    }
}

#[test]
fn unknown_event_types_are_verified_envelopes_with_their_json() {
    let other = json!({"mchid": "1230000109", "anything": [1, 2, 3]});
    let request = signed_with(&draft(EventType::from("REFUND.SUCCESS"), other.clone()), &apiv3(), NOW);
    let n = parse_notification(&request, NOW, &keys(), &apiv3()).unwrap();
    assert_eq!(n.event_type.as_str(), "REFUND.SUCCESS");
    assert!(matches!(&n.event_type, EventType::Unknown(v) if v == &unknown("REFUND.SUCCESS")));
    assert_eq!(n.event, Event::Other(other));
}

fn unknown(s: &str) -> UnknownValue {
    match EventType::from(s) {
        EventType::Unknown(v) => v,
        known => panic!("{known} is known"),
    }
}

#[test]
fn tampered_body_is_refused() {
    let mut request = signed(EventType::ProfitSharingSuccess);
    let at = request.body().len() / 2;
    request.body_mut()[at] ^= 0x01;
    assert!(
        matches!(refusal(&request), NotificationError::Verification(VerificationError::BadSignature(s)) if s == SERIAL)
    );
    // One more byte (a trailing newline a framework might add) breaks it too: the body is verified as received.
    let mut request = signed(EventType::ProfitSharingSuccess);
    request.body_mut().push(b'\n');
    assert!(matches!(refusal(&request), NotificationError::Verification(VerificationError::BadSignature(_))));
}

fn with_header(mut request: http::Request<Vec<u8>>, name: &'static str, value: &str) -> http::Request<Vec<u8>> {
    request.headers_mut().insert(name, http::HeaderValue::from_str(value).unwrap());
    request
}

#[test]
fn tampered_signature_is_refused() {
    let request = signed(EventType::ProfitSharingSuccess);
    let signature = request.headers()["Wechatpay-Signature"].to_str().unwrap().to_owned();
    let flipped = format!("{}{}", if signature.starts_with('A') { "B" } else { "A" }, &signature[1..]);
    let tampered = with_header(request, "Wechatpay-Signature", &flipped);
    assert!(matches!(refusal(&tampered), NotificationError::Verification(VerificationError::BadSignature(_))));
    let not_base64 = with_header(signed(EventType::ProfitSharingSuccess), "Wechatpay-Signature", "%%%");
    assert!(matches!(refusal(&not_base64), NotificationError::Verification(VerificationError::MalformedBase64)));
}

#[test]
fn unknown_serial_is_refused() {
    let request = with_header(signed(EventType::ProfitSharingSuccess), "Wechatpay-Serial", "PUB_KEY_ID_99");
    assert!(matches!(
        refusal(&request),
        NotificationError::Verification(VerificationError::UnknownSerial(s)) if s == "PUB_KEY_ID_99"
    ));
}

#[test]
fn stale_and_future_timestamps_are_refused() {
    let stale = signed_with(&draft(EventType::ProfitSharingSuccess, resource()), &apiv3(), NOW - 301);
    assert!(matches!(
        refusal(&stale),
        NotificationError::Verification(VerificationError::Stale { age: 301, limit: 300, .. })
    ));
    let future = signed_with(&draft(EventType::ProfitSharingSuccess, resource()), &apiv3(), NOW + 301);
    assert!(matches!(
        refusal(&future),
        NotificationError::Verification(VerificationError::Future { ahead: 301, limit: 300, .. })
    ));
    // At the limit it is accepted.
    let edge = signed_with(&draft(EventType::ProfitSharingSuccess, resource()), &apiv3(), NOW - 300);
    assert!(parse_notification(&edge, NOW, &keys(), &apiv3()).is_ok());
}

#[test]
fn sign_test_probes_are_refused() {
    let request =
        with_header(signed(EventType::ProfitSharingSuccess), "Wechatpay-Signature", "WECHATPAY/SIGNTEST/abcdef==");
    assert!(matches!(refusal(&request), NotificationError::Verification(VerificationError::SignTestProbe)));
}

#[test]
fn missing_and_malformed_headers_are_refused() {
    for name in ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"] {
        let mut request = signed(EventType::ProfitSharingSuccess);
        request.headers_mut().remove(name);
        assert!(
            matches!(refusal(&request), NotificationError::Verification(VerificationError::MissingHeader(h)) if h == name),
            "{name}"
        );
    }
    let request = with_header(signed(EventType::ProfitSharingSuccess), "Wechatpay-Timestamp", "17e8");
    assert!(matches!(
        refusal(&request),
        NotificationError::Verification(VerificationError::MalformedHeader("Wechatpay-Timestamp"))
    ));
    let request = with_header(signed(EventType::ProfitSharingSuccess), "Wechatpay-Signature-Type", "HMAC-SHA256");
    assert!(matches!(
        refusal(&request),
        NotificationError::Verification(VerificationError::UnsupportedSignatureType(t)) if t == "HMAC-SHA256"
    ));
}

#[test]
fn wrong_apiv3_key_is_refused() {
    let request = signed(EventType::ProfitSharingSuccess);
    let other = Apiv3Key::new(b"0123456789abcdef0123456789abcdef").unwrap();
    assert!(matches!(
        parse_notification(&request, NOW, &keys(), &other),
        Err(NotificationError::Decryption(CertificateError::Decrypt))
    ));
}

#[test]
fn wrong_associated_data_is_refused() {
    // Signed correctly, but the associated data in the envelope is not what the resource was
    // encrypted with: the GCM tag fails.
    let body = draft(EventType::ProfitSharingSuccess, resource()).encrypt(&apiv3(), "uluk4a9R25RW").unwrap();
    let mut envelope: Value = serde_json::from_slice(&body).unwrap();
    envelope["resource"]["associated_data"] = json!("certificate");
    let body = serde_json::to_vec(&envelope).unwrap();
    let request = sign_notification("http://127.0.0.1/notify", body, NOW, "n", SERIAL, &platform_key()).unwrap();
    assert!(matches!(refusal(&request), NotificationError::Decryption(CertificateError::Decrypt)));
    // The same with a nonce of the wrong length, and a ciphertext that is not base64.
    for (field, value, check) in [
        ("nonce", "short", (|e| matches!(e, CertificateError::NonceLength(5))) as fn(&CertificateError) -> bool),
        ("ciphertext", "***", |e| matches!(e, CertificateError::Base64("ciphertext"))),
    ] {
        let mut envelope: Value = serde_json::from_slice(
            &draft(EventType::ProfitSharingSuccess, resource()).encrypt(&apiv3(), "uluk4a9R25RW").unwrap(),
        )
        .unwrap();
        envelope["resource"][field] = json!(value);
        let request = sign_notification(
            "http://127.0.0.1/notify",
            serde_json::to_vec(&envelope).unwrap(),
            NOW,
            "n",
            SERIAL,
            &platform_key(),
        )
        .unwrap();
        assert!(matches!(refusal(&request), NotificationError::Decryption(ref e) if check(e)), "{field}");
    }
}

#[test]
fn malformed_bodies_and_resources_are_refused_after_verification() {
    let sign = |body: &[u8]| {
        sign_notification("http://127.0.0.1/n", body.to_vec(), NOW, "n", SERIAL, &platform_key()).unwrap()
    };
    assert!(matches!(refusal(&sign(b"not json")), NotificationError::MalformedBody(_)));
    assert!(matches!(refusal(&sign(br#"{"id":"x"}"#)), NotificationError::MalformedBody(_)));
    let mut envelope: Value = serde_json::from_slice(
        &draft(EventType::ProfitSharingSuccess, resource()).encrypt(&apiv3(), "uluk4a9R25RW").unwrap(),
    )
    .unwrap();
    envelope["resource"]["algorithm"] = json!("AEAD_SM4_GCM");
    assert!(matches!(
        refusal(&sign(&serde_json::to_vec(&envelope).unwrap())),
        NotificationError::UnsupportedAlgorithm(a) if a == "AEAD_SM4_GCM"
    ));
    // A profit-sharing event whose resource lacks the receiver.
    let request = signed_with(&draft(EventType::ProfitSharingSuccess, json!({"transaction_id": "1"})), &apiv3(), NOW);
    assert!(matches!(
        refusal(&request),
        NotificationError::MalformedResource { ref event_type, .. } if event_type == "PROFITSHARING.SUCCESS"
    ));
}

#[test]
fn errors_and_debug_never_show_the_apiv3_key() {
    let request = signed(EventType::ProfitSharingSuccess);
    let other = Apiv3Key::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let error = parse_notification(&request, NOW, &keys(), &other).unwrap_err();
    let shown = format!("{error} {error:?} {other:?}");
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn answers_are_what_wechat_pay_accepts() {
    let ok = notify::answer_success();
    assert_eq!(ok.status(), 200);
    assert_eq!(serde_json::from_slice::<Value>(ok.body()).unwrap()["code"], "SUCCESS");
    let fail = notify::answer_failure(http::StatusCode::BAD_REQUEST, "签名错误");
    assert_eq!(fail.status(), 400);
    assert_eq!(serde_json::from_slice::<Value>(fail.body()).unwrap(), json!({"code": "FAIL", "message": "签名错误"}));
}

// ---------------------------------------------------------------------------------------------
// Never panics

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Wechatpay-Timestamp".to_owned()),
        Just("Wechatpay-Nonce".to_owned()),
        Just("Wechatpay-Signature".to_owned()),
        Just("Wechatpay-Serial".to_owned()),
        Just("Wechatpay-Signature-Type".to_owned()),
        Just("Request-ID".to_owned()),
        "[a-zA-Z-]{1,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_parser_never_panics(
        headers in prop::collection::vec((header_name(), prop::collection::vec(any::<u8>(), 0..40)), 0..8),
        body in prop::collection::vec(any::<u8>(), 0..400),
        now in any::<i64>(),
    ) {
        let mut request = http::Request::new(body);
        for (name, value) in &headers {
            if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_bytes(value)) {
                request.headers_mut().append(name, value);
            }
        }
        let _ = parse_notification(&request, now, &keys(), &apiv3());
    }

    #[test]
    fn signed_garbage_never_panics_and_is_refused(body in prop::collection::vec(any::<u8>(), 0..400)) {
        // Past the signature, only the envelope and the decryption stand between input and types.
        let request = sign_notification("http://127.0.0.1/n", body, NOW, "n", SERIAL, &platform_key()).unwrap();
        prop_assert!(parse_notification(&request, NOW, &keys(), &apiv3()).is_err());
    }
}
