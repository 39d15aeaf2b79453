//! WeChat Pay's published test vectors, reproduced byte for byte. Each folder under `vectors/`
//! holds one case's inputs and every intermediate artefact, with a SOURCE.md saying where they
//! come from.

// RSA keys, signing and AES-256-GCM here are the aws-lc-rs defaults; tests/embedder.rs covers
// the crate without them.
#![cfg(feature = "aws-lc-rs")]

use std::path::{Path, PathBuf};
use wxpay_protocol::security::danger;

use base64::Engine as _;
use wxpay_protocol::NonceStr;
use wxpay_protocol::Operation;
use wxpay_protocol::security::CertificateError;
use wxpay_protocol::security::{
    Apiv3Key, CertificatesRequest, KeyKind, KeySet, MerchantCredentials, PublicKeyId, RsaPrivateKey, Signer,
    SigningParams, Verification, VerificationError, VerifyingKey, decrypt_aes_256_gcm, request_message,
    response_message, sign_request, verify_response,
};

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

fn doc_credentials() -> MerchantCredentials {
    let key = RsaPrivateKey::from_pkcs8_pem(&text("doc-request-signature", "private_key.pem")).unwrap();
    MerchantCredentials::new(&text("doc-request-signature", "mchid"), &text("doc-request-signature", "serial_no"), key)
        .unwrap()
}

/// Signs the case's request with the documentation's test key and checks the signed message and
/// the signature.
fn check_doc_request(case: &str) -> wxpay_protocol::security::SignedHeaders {
    let credentials = doc_credentials();
    let uri = format!("https://api.mch.weixin.qq.com{}", text(case, "path_and_query"));
    let request =
        http::Request::builder().method(text(case, "method").as_str()).uri(uri).body(read(case, "body")).unwrap();
    let nonce = NonceStr::new(text(case, "nonce")).unwrap();
    let timestamp: i64 = text(case, "timestamp").parse().unwrap();
    let signed = sign_request(&request, &SigningParams::new(&credentials, timestamp, &nonce)).unwrap();
    assert_eq!(signed.message(), read(case, "message").as_slice(), "{case}: message");
    let signature = text(case, "signature");
    assert!(signed.authorization().contains(&format!("signature=\"{signature}\"")), "{case}: signature");
    signed
}

#[test]
fn doc_request_signature_with_body() {
    let signed = check_doc_request("doc-request-signature");
    assert_eq!(signed.authorization(), text("doc-request-signature", "authorization"));
}

#[test]
fn doc_request_signature_empty_body() {
    check_doc_request("doc-request-signature-empty-body");
}

#[test]
fn doc_request_signature_percent_encoded_query_is_signed_as_sent() {
    check_doc_request("doc-request-signature-query");
}

#[test]
fn go_sdk_signer() {
    let key = RsaPrivateKey::from_pkcs8_pem(&text("go-sdk-signer", "private_key.pem")).unwrap();
    let signature = key.sign(&read("go-sdk-signer", "message")).unwrap();
    assert_eq!(base64::engine::general_purpose::STANDARD.encode(signature), text("go-sdk-signer", "signature"));
}

#[test]
fn go_sdk_credential_message_layout() {
    let timestamp: i64 = text("go-sdk-credential", "timestamp").parse().unwrap();
    let nonce = text("go-sdk-credential", "nonce");
    for case in ["go-sdk-credential/get_empty_body", "go-sdk-credential/post_body_trailing_newline"] {
        let message = request_message(
            &text(case, "method"),
            &text(case, "path_and_query"),
            timestamp,
            &nonce,
            &read(case, "body"),
        );
        assert_eq!(message, read(case, "message"), "{case}");
    }
}

#[test]
fn aes_256_gcm_vector() {
    let case = "aes-gcm-certificate";
    let key = Apiv3Key::new(&read(case, "apiv3_key")).unwrap();
    let (nonce, aad, ciphertext) = (read(case, "nonce"), read(case, "associated_data"), text(case, "ciphertext"));
    assert_eq!(decrypt_aes_256_gcm(&key, &nonce, &aad, &ciphertext).unwrap(), read(case, "plaintext"));
    for (nonce, aad) in
        [(nonce.clone(), read(case, "reject_associated_data")), (read(case, "reject_nonce"), aad.clone())]
    {
        assert!(matches!(decrypt_aes_256_gcm(&key, &nonce, &aad, &ciphertext), Err(CertificateError::Decrypt)));
    }
    let zeros = base64::engine::general_purpose::STANDARD.encode([0u8; 128]);
    assert!(matches!(decrypt_aes_256_gcm(&key, &nonce, &aad, &zeros), Err(CertificateError::Decrypt)));
    assert!(format!("{key:?}").contains("redacted") && !format!("{key:?}").contains("a7cde1"));
}

#[test]
fn java_sdk_certificate_download() {
    let case = "java-sdk-certificates";
    let response = http::Response::new(read(case, "certificates_response.json"));
    // The published answer carries no signature headers: only its decryption is checked here.
    let answer = CertificatesRequest.parse(danger::inspect_unverified(&response)).unwrap();
    let key = Apiv3Key::new(&read(case, "apiv3_key")).unwrap();
    let certs = answer.decrypt(&key).unwrap();
    assert_eq!(certs.len(), 1);
    let cert = &certs[0];
    assert_eq!(cert.serial, text(case, "serial_no"));
    assert_eq!(cert.pem, text(case, "certificate.pem"));
    assert_eq!(cert.effective_time.original(), "2023-09-19T23:15:58+08:00");
    assert_eq!(cert.key.kind(), KeyKind::PlatformCertificate);
    assert_eq!(cert.key.not_after(), Some(cert.expire_time.unix_timestamp()));

    // The certificate read from its PEM gives the same serial.
    let from_pem = VerifyingKey::from_certificate_pem(&text(case, "certificate.pem")).unwrap();
    assert_eq!(from_pem.serial(), text(case, "serial_no"));

    // A wrong APIv3 key is refused.
    let wrong = Apiv3Key::new(&[b'x'; 32]).unwrap();
    assert!(matches!(answer.decrypt(&wrong), Err(CertificateError::Decrypt)));
}

#[test]
fn java_sdk_legacy_certificate_decrypts() {
    // The 2018 answer spells its time keys with a trailing space, so only the decryption is
    // checked here.
    let case = "java-sdk-certificates";
    let legacy = "java-sdk-certificates/legacy-2018";
    let json: serde_json::Value = serde_json::from_slice(&read(legacy, "certificates_response.json")).unwrap();
    let enc = &json["data"][0]["encrypt_certificate"];
    let key = Apiv3Key::new(&read(case, "apiv3_key")).unwrap();
    let plain = decrypt_aes_256_gcm(
        &key,
        enc["nonce"].as_str().unwrap().as_bytes(),
        enc["associated_data"].as_str().unwrap().as_bytes(),
        enc["ciphertext"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(plain, read(legacy, "certificate.pem"));
    let key = VerifyingKey::from_certificate_pem(&text(legacy, "certificate.pem")).unwrap();
    assert_eq!(key.serial(), text(legacy, "serial_no"));
}

fn doc_response(case: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(200)
        .header("Wechatpay-Timestamp", text(case, "timestamp"))
        .header("Wechatpay-Nonce", text(case, "nonce"))
        .header("Wechatpay-Signature", text(case, "signature"))
        .header("Wechatpay-Serial", text(case, "serial"))
        .header("Wechatpay-Signature-Type", text(case, "signature_type"))
        .header("Request-ID", text(case, "request_id"))
        .body(read(case, "body"))
        .unwrap()
}

#[test]
fn doc_response_verification_public_key_mode() {
    let case = "doc-response-verification";
    let mut keys = KeySet::new();
    let id = PublicKeyId::new(text(case, "serial")).unwrap();
    keys.insert(VerifyingKey::from_public_key_pem(id, &text(case, "public_key.pem")).unwrap());
    let now: i64 = text(case, "timestamp").parse().unwrap();
    assert_eq!(
        response_message(&text(case, "timestamp"), &text(case, "nonce"), &read(case, "body")),
        read(case, "message")
    );
    let response = doc_response(case);
    assert_eq!(
        verify_response(&response, now, &keys).map(|v| v.verification().clone()),
        Ok(Verification::Signed { serial: text(case, "serial") })
    );
    assert!(matches!(verify_response(&response, now + 301, &keys), Err(VerificationError::Stale { .. })));

    let mut tampered = response.clone();
    tampered.body_mut()[5] ^= 1;
    assert!(matches!(verify_response(&tampered, now, &keys), Err(VerificationError::BadSignature(_))));
    assert!(matches!(verify_response(&response, now, &KeySet::new()), Err(VerificationError::UnknownSerial(_))));
}
