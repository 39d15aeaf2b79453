//! Signing and verification: round trips, tampering, key modes, probes and redaction, with
//! RSA keys and certificates generated at run time.

// RSA keys, signing and AES-256-GCM here are the aws-lc-rs defaults; tests/embedder.rs covers
// the crate without them.
#![cfg(feature = "aws-lc-rs")]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;

use wxpay_protocol::security::{
    self, KeyKind, KeySet, MerchantCredentials, PublicKeyId, RsaPrivateKey, Signer, SigningParams, Verification,
    VerificationError, VerifyingKey, parse_authorization, response_message, sign_request, verify_request,
    verify_response,
};
use wxpay_protocol::{BaseUrl, Error, NonceStr, Operation, OutOrderNo, SubMchId, TransactionId, v3};

/// What `verify_response` established, for comparisons.
fn verification<B: AsRef<[u8]>>(
    response: &http::Response<B>,
    now: i64,
    keys: &KeySet,
) -> Result<Verification, VerificationError> {
    verify_response(response, now, keys).map(|v| v.verification().clone())
}

const MCHID: &str = "1900007291";
const MERCHANT_SERIAL: &str = "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB";
const PUB_KEY_ID: &str = "PUB_KEY_ID_0000000000000024101100397200000006";
const CERT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";

struct Keys {
    merchant: rcgen::KeyPair,
    platform: rcgen::KeyPair,
    certificate_pem: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let merchant = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let platform = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["Tenpay.com Root CA".into()]).unwrap();
        let serial: Vec<u8> = (0..CERT_SERIAL.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&CERT_SERIAL[i..i + 2], 16).unwrap())
            .collect();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let certificate_pem = params.self_signed(&platform).unwrap().pem();
        Keys { merchant, platform, certificate_pem }
    })
}

fn private(key: &rcgen::KeyPair) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_der(&key.serialize_der()).unwrap()
}

fn credentials() -> MerchantCredentials {
    MerchantCredentials::new(MCHID, MERCHANT_SERIAL, private(&keys().merchant)).unwrap()
}

/// The merchant's public key, as WeChat Pay (or the sandbox) holds it.
fn merchant_keys() -> KeySet {
    let mut set = KeySet::new();
    set.insert(
        VerifyingKey::from_der(MERCHANT_SERIAL, KeyKind::Merchant, &private(&keys().merchant).public_key_der())
            .unwrap(),
    );
    set
}

/// Both WeChat Pay key kinds in one set: the public key and the platform certificate share the
/// platform key pair here, under different serials.
fn wechat_keys() -> KeySet {
    let mut set = KeySet::new();
    let spki_pem = keys().platform.public_key_pem();
    set.insert(VerifyingKey::from_public_key_pem(PublicKeyId::new(PUB_KEY_ID).unwrap(), &spki_pem).unwrap());
    set.insert(VerifyingKey::from_certificate_pem(&keys().certificate_pem).unwrap());
    set
}

/// An answer signed as WeChat Pay signs it.
fn signed_response(status: u16, serial: &str, timestamp: &str, nonce: &str, body: &[u8]) -> http::Response<Vec<u8>> {
    let signature = private(&keys().platform).sign(&response_message(timestamp, nonce, body)).unwrap();
    http::Response::builder()
        .status(status)
        .header("Wechatpay-Timestamp", timestamp)
        .header("Wechatpay-Nonce", nonce)
        .header("Wechatpay-Signature", BASE64.encode(signature))
        .header("Wechatpay-Serial", serial)
        .header("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
        .body(body.to_vec())
        .unwrap()
}

#[test]
fn both_key_kinds_coexist_and_each_verifies_by_its_serial() {
    let keys = wechat_keys();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.get(CERT_SERIAL).unwrap().kind(), KeyKind::PlatformCertificate);
    assert_eq!(keys.get(&CERT_SERIAL.to_lowercase()).unwrap().serial(), CERT_SERIAL, "hex serials ignore case");
    assert_eq!(keys.preferred_serial(), Some(PUB_KEY_ID));
    for serial in [PUB_KEY_ID, CERT_SERIAL] {
        let response = signed_response(200, serial, "1700000000", "abc", b"{}");
        assert_eq!(verification(&response, 1_700_000_000, &keys), Ok(Verification::Signed { serial: serial.into() }));
    }
    let unknown = signed_response(200, "PUB_KEY_ID_OTHER", "1700000000", "abc", b"{}");
    assert_eq!(
        verification(&unknown, 1_700_000_000, &keys),
        Err(VerificationError::UnknownSerial("PUB_KEY_ID_OTHER".into()))
    );
}

#[test]
fn an_expired_platform_certificate_is_refused() {
    let mut set = KeySet::new();
    set.insert(VerifyingKey::from_certificate_pem(&keys().certificate_pem).unwrap().expiring_at(1_700_000_000));
    let response = signed_response(200, CERT_SERIAL, "1700000100", "abc", b"{}");
    assert_eq!(
        verification(&response, 1_700_000_100, &set),
        Err(VerificationError::ExpiredKey { serial: CERT_SERIAL.into(), not_after: 1_700_000_000 })
    );
    let fresh = signed_response(200, CERT_SERIAL, "1699999999", "abc", b"{}");
    assert!(verify_response(&fresh, 1_699_999_999, &set).is_ok(), "valid until not_after");
}

#[test]
fn a_key_of_the_wrong_pair_does_not_verify() {
    let mut set = KeySet::new();
    let other = keys().merchant.public_key_pem();
    set.insert(VerifyingKey::from_public_key_pem(PublicKeyId::new(PUB_KEY_ID).unwrap(), &other).unwrap());
    let response = signed_response(200, PUB_KEY_ID, "1700000000", "abc", b"{}");
    assert_eq!(verification(&response, 1_700_000_000, &set), Err(VerificationError::BadSignature(PUB_KEY_ID.into())));
}

#[test]
fn sign_test_probes_and_unsigned_answers() {
    let keys = wechat_keys();
    let mut probe = signed_response(200, PUB_KEY_ID, "1700000000", "abc", b"{}");
    probe.headers_mut().insert("Wechatpay-Signature", "WECHATPAY/SIGNTEST/abcdefg".parse().unwrap());
    assert_eq!(verification(&probe, 1_700_000_000, &keys), Err(VerificationError::SignTestProbe));

    let unsigned_error = http::Response::builder().status(500).body(b"{\"code\":\"SYSTEM_ERROR\"}".to_vec()).unwrap();
    assert_eq!(verification(&unsigned_error, 0, &keys), Ok(Verification::UnsignedError));

    let unsigned_ok = http::Response::builder().status(200).body(b"{}".to_vec()).unwrap();
    assert_eq!(verification(&unsigned_ok, 0, &keys), Err(VerificationError::MissingHeader("Wechatpay-Timestamp")));

    let mut wrong_type = signed_response(200, PUB_KEY_ID, "1700000000", "abc", b"{}");
    wrong_type.headers_mut().insert("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3".parse().unwrap());
    assert!(matches!(
        verification(&wrong_type, 1_700_000_000, &keys),
        Err(VerificationError::UnsupportedSignatureType(_))
    ));

    let mut bad_base64 = signed_response(200, PUB_KEY_ID, "1700000000", "abc", b"{}");
    bad_base64.headers_mut().insert("Wechatpay-Signature", "not*base64".parse().unwrap());
    assert_eq!(verification(&bad_base64, 1_700_000_000, &keys), Err(VerificationError::MalformedBase64));

    let future = signed_response(200, PUB_KEY_ID, "1700000301", "abc", b"{}");
    assert!(matches!(verification(&future, 1_700_000_000, &keys), Err(VerificationError::Future { ahead: 301, .. })));
}

#[test]
fn verify_and_parse_refuses_forged_success_and_keeps_unsigned_errors_as_errors() {
    let keys = wechat_keys();
    let query = v3::OrderQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("4208450740201411110007820472").unwrap(),
        OutOrderNo::new("P1").unwrap(),
    );
    let body =
        br#"{"sub_mchid":"1900000109","transaction_id":"42","out_order_no":"P1","order_id":"3","status":"FINISHED"}"#;
    let genuine = signed_response(200, CERT_SERIAL, "1700000000", "n", body);
    let answer = security::verify_and_parse(&query, &genuine, 1_700_000_100, &keys).unwrap();
    assert_eq!(answer.order_id, "3");

    let forged = http::Response::builder().status(200).header("Request-ID", "R1").body(body.to_vec()).unwrap();
    let err = security::verify_and_parse(&query, &forged, 1_700_000_100, &keys).unwrap_err();
    let Error::Verification(v) = &err else { panic!("{err:?}") };
    assert_eq!(v.verification_error(), &VerificationError::MissingHeader("Wechatpay-Timestamp"));
    assert_eq!(v.request_id(), Some("R1"));
    assert_eq!(v.body(), body);
    assert!(!err.is_retryable(), "a forged answer is refused, not retried");
    assert!(std::error::Error::source(&err).is_some());

    let unsigned = http::Response::builder()
        .status(429)
        .body(br#"{"code":"FREQUENCY_LIMITED","message":"slow"}"#.to_vec())
        .unwrap();
    let err = security::verify_and_parse(&query, &unsigned, 0, &keys).unwrap_err();
    assert!(err.as_api().is_some() && err.is_retryable());
}

#[test]
fn secrets_never_appear_in_debug() {
    let key = private(&keys().merchant);
    let shown = format!("{key:?} {:?}", credentials());
    assert!(shown.contains("redacted"), "{shown}");
    let der = keys().merchant.serialize_der();
    let b64 = BASE64.encode(&der);
    for window in b64.as_bytes().chunks(16).take(20) {
        assert!(!shown.contains(std::str::from_utf8(window).unwrap()), "key material in Debug");
    }
    assert!(shown.contains(MCHID) && shown.contains(MERCHANT_SERIAL));
}

#[test]
fn server_side_signing_and_encryption_round_trip() {
    let set = wechat_keys();
    let body = br#"{"data":[]}"#;
    let sig = security::sign_response(body, 1_700_000_000, "n0nce", CERT_SERIAL, &private(&keys().platform)).unwrap();
    let mut response = http::Response::new(body.to_vec());
    for (name, value) in sig.headers() {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    assert_eq!(verification(&response, 1_700_000_000, &set), Ok(Verification::Signed { serial: CERT_SERIAL.into() }));

    let apiv3 = security::Apiv3Key::new(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").unwrap();
    let entry = security::EncryptedCertificate::encrypt(
        &keys().certificate_pem,
        CERT_SERIAL,
        "2026-01-01T00:00:00+08:00",
        "2031-01-01T00:00:00+08:00",
        &apiv3,
        "0123456789ab",
    )
    .unwrap();
    let answer = serde_json::to_vec(&security::CertificatesResponse::new(vec![entry])).unwrap();
    // Unsigned here: this checks the encryption round trip, not the signature.
    let parsed = security::CertificatesRequest
        .parse(security::danger::inspect_unverified(&http::Response::new(answer)))
        .unwrap();
    let certs = parsed.decrypt(&apiv3).unwrap();
    assert_eq!(certs[0].serial, CERT_SERIAL);
    assert_eq!(certs[0].pem, keys().certificate_pem);
    assert_eq!(certs[0].expire_time.original(), "2031-01-01T00:00:00+08:00");
}

#[test]
fn public_key_pem_is_the_spki_of_the_private_key() {
    let pem = private(&keys().platform).public_key_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n") && pem.ends_with("-----END PUBLIC KEY-----\n"));
    assert_eq!(pem.replace('\n', ""), keys().platform.public_key_pem().replace('\n', ""));
    let key = VerifyingKey::from_spki_pem("S1", KeyKind::Merchant, &pem).unwrap();
    let signature = private(&keys().platform).sign(b"m").unwrap();
    assert!(key.verify(b"m", &signature).is_ok());
}

#[test]
fn key_errors_quote_nothing_of_the_key() {
    // A key squeezed onto its BEGIN line: the PEM reader's own error would quote that line.
    let b64 = BASE64.encode(keys().merchant.serialize_der());
    let one_line = format!("-----BEGIN PRIVATE KEY-----{b64}-----END PRIVATE KEY-----\n");
    let err = RsaPrivateKey::from_pkcs8_pem(&one_line).unwrap_err();
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        shown.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!shown.contains(&b64[40..72]), "key material in the error: {shown}");
    assert!(shown.contains("PRIVATE KEY"));
}

#[test]
fn signed_dry_run_is_reproducible_and_names_the_sdk() {
    let query = v3::OrderQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("4208450740201411110007820472").unwrap(),
        OutOrderNo::new("P|1*2@3").unwrap(),
    );
    let build = || {
        let mut request = query.build(&BaseUrl::v3_default()).unwrap();
        let nonce = NonceStr::new("593BEC0C930BF1AFEB40B4A08C8FB242").unwrap();
        let creds = credentials();
        let params = SigningParams::new(&creds, 1_554_208_460, &nonce).wechatpay_serial(PUB_KEY_ID);
        sign_request(&request, &params).unwrap().apply_to(&mut request);
        request
    };
    let (a, b) = (build(), build());
    assert_eq!(a.headers(), b.headers());
    assert_eq!(a.headers()["wechatpay-serial"], PUB_KEY_ID);
    assert_eq!(a.headers()["accept"], "application/json");
    assert!(a.headers()["user-agent"].to_str().unwrap().starts_with("wxpay-rs/"));
    let auth = parse_authorization(a.headers()["authorization"].to_str().unwrap()).unwrap();
    assert_eq!((auth.mchid.as_str(), auth.serial_no.as_str(), auth.timestamp), (MCHID, MERCHANT_SERIAL, 1_554_208_460));
    // The signed target is the percent-encoded one that is sent.
    assert!(a.uri().query().unwrap().contains("P%7C1%2A2%403"));
    assert!(verify_request(&a, 1_554_208_460, MCHID, &merchant_keys()).is_ok());
}

#[test]
fn authorization_must_have_the_documented_form() {
    let good = r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="c2ln",timestamp="1",serial_no="AB""#;
    assert!(parse_authorization(good).is_ok());
    for bad in [
        r#"WECHATPAY2-SHA256-RSA2048  mchid="1",nonce_str="n",signature="c2ln",timestamp="1",serial_no="AB""#,
        r#"Bearer mchid="1",nonce_str="n",signature="c2ln",timestamp="1",serial_no="AB""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="c2ln",timestamp="1""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="n",signature="c2ln",timestamp="1",serial_no="AB""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="n",signature="c2ln",timestamp="1",serial_no="AB""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="c2ln",timestamp="-1",serial_no="AB""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="c2ln",timestamp="1",serial_no="AB",extra="x""#,
    ] {
        assert!(parse_authorization(bad).is_err(), "{bad}");
    }
}

#[test]
fn request_verification_causes() {
    let query = v3::OrderQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("42").unwrap(),
        OutOrderNo::new("P1").unwrap(),
    );
    let mut request = query.build(&BaseUrl::v3_default()).unwrap();
    let nonce = NonceStr::new("N1").unwrap();
    let creds = credentials();
    sign_request(&request, &SigningParams::new(&creds, 1000, &nonce)).unwrap().apply_to(&mut request);
    let keys = merchant_keys();
    assert!(verify_request(&request, 1000, MCHID, &keys).is_ok());
    assert_eq!(verify_request(&request, 1000, "1900000000", &keys), Err(VerificationError::WrongMchid(MCHID.into())));
    assert!(matches!(verify_request(&request, 1301, MCHID, &keys), Err(VerificationError::Stale { .. })));
    assert_eq!(
        verify_request(&request, 1000, MCHID, &KeySet::new()),
        Err(VerificationError::UnknownSerial(MERCHANT_SERIAL.into()))
    );
    // Changing the target after signing breaks the signature.
    *request.uri_mut() = request.uri().to_string().replace("P1", "P2").parse().unwrap();
    assert_eq!(
        verify_request(&request, 1000, MCHID, &keys),
        Err(VerificationError::BadSignature(MERCHANT_SERIAL.into()))
    );
    request.headers_mut().remove("authorization");
    assert_eq!(verify_request(&request, 1000, MCHID, &keys), Err(VerificationError::MissingHeader("Authorization")));
}

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![".{0,12}", "[0-9A-Za-z|*@ _-]{1,20}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_then_verify_round_trips(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]),
        segments in prop::collection::vec("[0-9A-Za-z_.~-]{1,10}", 1..4),
        params in prop::collection::vec(("[a-z_]{1,8}", query_value()), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..200),
        timestamp in 0i64..4_000_000_000,
        nonce in "[0-9A-Za-z]{1,32}",
    ) {
        let mut target = format!("/{}", segments.join("/"));
        for (i, (k, v)) in params.iter().enumerate() {
            target.push(if i == 0 { '?' } else { '&' });
            target.push_str(&format!("{k}={}", v3::encode_query_value(v)));
        }
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("https://api.mch.weixin.qq.com{target}"))
            .body(body.clone())
            .unwrap();
        let creds = credentials();
        let nonce = NonceStr::new(nonce).unwrap();
        let signed = sign_request(&request, &SigningParams::new(&creds, timestamp, &nonce)).unwrap();
        let expected = security::request_message(method, &target, timestamp, nonce.as_str(), &body);
        prop_assert_eq!(signed.message(), expected.as_slice());
        signed.apply_to(&mut request);
        let auth = verify_request(&request, timestamp, MCHID, &merchant_keys()).unwrap();
        prop_assert_eq!(auth.nonce_str, nonce.as_str());
        prop_assert_eq!(auth.timestamp, timestamp);
    }

    #[test]
    fn flipping_any_byte_fails_verification(
        body in prop::collection::vec(any::<u8>(), 1..120),
        nonce in "[0-9A-Za-z]{1,32}",
        part in 0usize..4,
        index in any::<prop::sample::Index>(),
        bit in 0u8..7,
    ) {
        let timestamp = "1700000000";
        let keys = wechat_keys();
        let response = signed_response(200, CERT_SERIAL, timestamp, &nonce, &body);
        prop_assert!(verify_response(&response, 1_700_000_000, &keys).is_ok());

        let signature = response.headers()["Wechatpay-Signature"].to_str().unwrap().to_owned();
        let flip = |s: &[u8]| {
            let mut v = s.to_vec();
            let i = index.index(v.len());
            v[i] ^= 1 << bit;
            v
        };
        let mut tampered = response.clone();
        let header = |name: &'static str, value: Vec<u8>, r: &mut http::Response<Vec<u8>>| -> bool {
            match http::HeaderValue::from_bytes(&value) {
                Ok(v) => { r.headers_mut().insert(name, v); true }
                Err(_) => false, // not a header a peer could send
            }
        };
        let applied = match part {
            0 => { *tampered.body_mut() = flip(&body); true }
            1 => header("Wechatpay-Timestamp", flip(timestamp.as_bytes()), &mut tampered),
            2 => header("Wechatpay-Nonce", flip(nonce.as_bytes()), &mut tampered),
            _ => header("Wechatpay-Signature", flip(signature.as_bytes()), &mut tampered),
        };
        if applied {
            prop_assert!(verify_response(&tampered, 1_700_000_000, &keys).is_err());
        }
    }

    #[test]
    fn no_panic_on_arbitrary_headers(
        status in prop::sample::select(vec![200u16, 204, 401, 500]),
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 5),
        body in prop::collection::vec(any::<u8>(), 0..40),
        authorization in ".{0,80}",
    ) {
        let names = ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial", "Wechatpay-Signature-Type"];
        let mut response = http::Response::builder().status(status).body(body).unwrap();
        for (name, value) in names.iter().zip(&values) {
            if let Ok(v) = http::HeaderValue::from_bytes(value) {
                response.headers_mut().insert(*name, v);
            }
        }
        let result = verify_response(&response, 1_700_000_000, &wechat_keys());
        if status == 200 {
            prop_assert!(result.is_err(), "random headers never verify");
        }
        let _ = parse_authorization(&authorization);
        if let Ok(v) = http::HeaderValue::from_str(&authorization) {
            let mut request = http::Request::new(Vec::<u8>::new());
            request.headers_mut().insert("authorization", v);
            prop_assert!(verify_request(&request, 0, MCHID, &merchant_keys()).is_err());
        }
    }
}
