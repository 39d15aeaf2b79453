//! The crate as an embedder uses it without the `aws-lc-rs` feature (docs/design.md §2): signing,
//! verification and AES-256-GCM supplied through `Signer`, `SignatureVerifier` and `Aead`. The
//! "host" crypto here is aws-lc-rs called directly (a dev-dependency), and every test runs with
//! and without the feature: supplied crypto is used in both, and counted to prove it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey};
use rustls_pki_types::SubjectPublicKeyInfoDer;
use rustls_pki_types::pem::PemObject;

use wxpay_protocol::client::{ClientConfig, ClientCore, Exchange, KeyMode, RateLimiter, Step};
use wxpay_protocol::security::{
    Aead, Apiv3Key, CertificateError, CertificatesResponse, EncryptedCertificate, KeyKind, KeySet, MerchantCredentials,
    PublicKeyId, SignatureVerifier, Signer, SigningError, SigningParams, Verification, VerificationError, Verifier,
    VerifyingKey, decrypt_aes_256_gcm, sign_request, sign_response, verify_request, verify_response,
};
use wxpay_protocol::{BaseUrl, NonceStr, Operation, OutOrderNo, SubMchId, TransactionId, v3};

const MCHID: &str = "1900007291";
const MERCHANT_SERIAL: &str = "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB";
const UNIX: i64 = 1_700_000_000;

/// The host's RSA signer.
#[derive(Debug)]
struct HostSigner(RsaKeyPair);

impl HostSigner {
    fn generate() -> (Self, Vec<u8>) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        (
            Self(RsaKeyPair::from_pkcs8(&key.serialize_der()).unwrap()),
            rcgen::PublicKeyData::subject_public_key_info(&key),
        )
    }
}

impl Signer for HostSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let mut signature = vec![0; self.0.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.0.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature).map_err(|e| SigningError::Signer(Box::new(e)))?;
        Ok(signature)
    }
}

/// The host's RSA verification, counting its calls.
#[derive(Debug, Default)]
struct HostRsa(AtomicUsize);

impl SignatureVerifier for HostRsa {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        self.0.fetch_add(1, Ordering::Relaxed);
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key).verify(message, signature).is_ok()
    }
}

/// The host's AES-256-GCM, counting its calls.
#[derive(Debug, Default)]
struct HostAesGcm(AtomicUsize);

impl HostAesGcm {
    fn key(&self, key: &[u8; 32]) -> Result<LessSafeKey, CertificateError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| CertificateError::Decrypt)?))
    }
}

impl Aead for HostAesGcm {
    fn decrypt_aes_256_gcm(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Vec<u8>, CertificateError> {
        let mut data = ciphertext_and_tag.to_vec();
        let nonce = Nonce::assume_unique_for_key(*nonce);
        let len = self
            .key(key)?
            .open_in_place(nonce, Aad::from(aad), &mut data)
            .map_err(|_| CertificateError::Decrypt)?
            .len();
        data.truncate(len);
        Ok(data)
    }

    fn encrypt_aes_256_gcm(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CertificateError> {
        let mut data = plaintext.to_vec();
        let nonce = Nonce::assume_unique_for_key(*nonce);
        self.key(key)?
            .seal_in_place_append_tag(nonce, Aad::from(aad), &mut data)
            .map_err(|_| CertificateError::Decrypt)?;
        Ok(data)
    }
}

fn vector(case: &str, file: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/{case}/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(case: &str, file: &str) -> String {
    String::from_utf8(vector(case, file)).unwrap()
}

fn order_query() -> v3::OrderQueryRequest {
    v3::OrderQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("42").unwrap(),
        OutOrderNo::new("P1").unwrap(),
    )
}

fn signed(body: &[u8], serial: &str, signer: &HostSigner) -> http::Response<Vec<u8>> {
    let signature = sign_response(body, UNIX, "n0nce", serial, signer).unwrap();
    let mut response = http::Response::builder().status(200);
    for (name, value) in signature.headers() {
        response = response.header(name, value);
    }
    response.body(body.to_vec()).unwrap()
}

#[test]
fn a_custom_signer_and_a_supplied_verifier_sign_and_check_requests_and_answers() {
    let (signer, public_der) = HostSigner::generate();
    let rsa = Arc::new(HostRsa::default());
    let mut keys = KeySet::new().with_signature_verifier(Arc::clone(&rsa));
    keys.insert(VerifyingKey::from_der(MERCHANT_SERIAL, KeyKind::Merchant, &public_der).unwrap());
    assert_eq!(keys.get(MERCHANT_SERIAL).unwrap().public_key_der(), public_der.as_slice());

    // A request signed by the custom signer verifies with the supplied verifier.
    let credentials = MerchantCredentials::new(MCHID, MERCHANT_SERIAL, signer).unwrap();
    let mut request = order_query().build(&BaseUrl::v3_default()).unwrap();
    let nonce = NonceStr::new("593BEC0C930BF1AFEB40B4A08C8FB242").unwrap();
    sign_request(&request, &SigningParams::new(&credentials, UNIX, &nonce)).unwrap().apply_to(&mut request);
    assert_eq!(verify_request(&request, UNIX, MCHID, &keys).unwrap().serial_no, MERCHANT_SERIAL);
    assert_eq!(rsa.0.load(Ordering::Relaxed), 1, "the supplied verifier checked the signature");

    // A tampered request does not.
    *request.uri_mut() = "https://api.mch.weixin.qq.com/v3/ecommerce/profitsharing/orders?x=1".parse().unwrap();
    assert_eq!(
        verify_request(&request, UNIX, MCHID, &keys).unwrap_err(),
        VerificationError::BadSignature(MERCHANT_SERIAL.to_owned())
    );
}

#[test]
fn the_documented_answer_verifies_with_a_supplied_verifier() {
    let case = "doc-response-verification";
    let rsa = Arc::new(HostRsa::default());
    let mut keys = KeySet::new().with_signature_verifier(Arc::clone(&rsa));
    let id = PublicKeyId::new(text(case, "serial")).unwrap();
    let pem = text(case, "public_key.pem");
    keys.insert(VerifyingKey::from_public_key_pem(id, &pem).unwrap());
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()).unwrap();
    assert_eq!(keys.get(&text(case, "serial")).unwrap().public_key_der(), spki.as_ref(), "the verifier gets the SPKI");

    let mut response = http::Response::builder().status(200);
    for (header, file) in [
        ("Wechatpay-Timestamp", "timestamp"),
        ("Wechatpay-Nonce", "nonce"),
        ("Wechatpay-Signature", "signature"),
        ("Wechatpay-Serial", "serial"),
        ("Wechatpay-Signature-Type", "signature_type"),
    ] {
        response = response.header(header, text(case, file));
    }
    let mut response = response.body(vector(case, "body")).unwrap();
    let now: i64 = text(case, "timestamp").parse().unwrap();
    assert_eq!(
        verify_response(&response, now, &keys).map(|v| v.verification().clone()),
        Ok(Verification::Signed { serial: text(case, "serial") })
    );
    response.body_mut()[5] ^= 1;
    assert!(matches!(verify_response(&response, now, &keys), Err(VerificationError::BadSignature(_))));
    assert_eq!(rsa.0.load(Ordering::Relaxed), 2);
}

#[test]
fn a_key_set_without_a_verifier_uses_aws_lc_rs_or_fails_closed() {
    let (signer, public_der) = HostSigner::generate();
    let mut keys = KeySet::new();
    keys.insert(VerifyingKey::from_der("S1", KeyKind::Merchant, &public_der).unwrap());
    let signature = signer.sign(b"m").unwrap();
    let result = keys.verify("S1", b"m", &signature);
    #[cfg(feature = "aws-lc-rs")]
    assert_eq!(result, Ok(()));
    #[cfg(not(feature = "aws-lc-rs"))]
    assert_eq!(result, Err(VerificationError::NoSignatureVerifier));
    assert_eq!(keys.verify("S2", b"m", &signature), Err(VerificationError::UnknownSerial("S2".to_owned())));
}

#[test]
fn the_documented_ciphertext_decrypts_with_a_supplied_aead() {
    let case = "aes-gcm-certificate";
    let aes = Arc::new(HostAesGcm::default());
    let key = Apiv3Key::with_aead(&vector(case, "apiv3_key"), Arc::clone(&aes)).unwrap();
    let (nonce, aad, ciphertext) = (vector(case, "nonce"), vector(case, "associated_data"), text(case, "ciphertext"));
    assert_eq!(decrypt_aes_256_gcm(&key, &nonce, &aad, &ciphertext).unwrap(), vector(case, "plaintext"));
    assert_eq!(aes.0.load(Ordering::Relaxed), 1);
    let tampered = decrypt_aes_256_gcm(&key, &nonce, &vector(case, "reject_associated_data"), &ciphertext);
    assert!(matches!(tampered, Err(CertificateError::Decrypt)));

    // Lengths are checked before the Aead is called.
    assert!(matches!(decrypt_aes_256_gcm(&key, b"short", &aad, &ciphertext), Err(CertificateError::NonceLength(5))));
    assert!(matches!(decrypt_aes_256_gcm(&key, &nonce, &aad, "AAAA"), Err(CertificateError::Decrypt)));
    assert_eq!(aes.0.load(Ordering::Relaxed), 2);
    assert!(format!("{key:?}").contains("redacted") && !format!("{key:?}").contains("a7cde1"));
}

/// Drives `exchange` against `server` with a fixed clock and entropy.
fn drive<O: Operation>(
    mut exchange: Exchange<O>,
    mut server: impl FnMut(&http::Request<Vec<u8>>) -> http::Response<Vec<u8>>,
) -> (Result<O::Output, wxpay_protocol::Error>, Vec<String>) {
    let now = Duration::from_secs(1);
    let mut entropy = || 4u64;
    let mut paths = Vec::new();
    for _ in 0..10 {
        match exchange.poll(now, UNIX, &mut entropy) {
            Step::Send(request) => {
                paths.push(request.uri().path().to_owned());
                exchange.on_response(server(&request), UNIX);
            }
            Step::Done(result) => return (result, paths),
            _ => panic!("no sleep expected"),
        }
    }
    panic!("the exchange did not finish in 10 steps");
}

#[test]
fn the_client_downloads_certificates_and_verifies_answers_with_supplied_crypto() {
    let (merchant, _) = HostSigner::generate();
    let platform = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let platform_signer = HostSigner(RsaKeyPair::from_pkcs8(&platform.serialize_der()).unwrap());
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x1A; 16]));
    let certificate_pem = params.self_signed(&platform).unwrap().pem();
    let serial = VerifyingKey::from_certificate_pem(&certificate_pem).unwrap().serial().to_owned();

    let (rsa, aes) = (Arc::new(HostRsa::default()), Arc::new(HostAesGcm::default()));
    let apiv3 = Apiv3Key::with_aead(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb", Arc::clone(&aes)).unwrap();
    let config = ClientConfig::new()
        .credentials(MerchantCredentials::new(MCHID, MERCHANT_SERIAL, merchant).unwrap())
        .keys(KeyMode::Certificates {
            apiv3_key: apiv3.clone(),
            keys: KeySet::new().with_signature_verifier(Arc::clone(&rsa)),
        })
        .rate_limits(RateLimiter::off());
    let core = Arc::new(ClientCore::new(config));

    let entry = EncryptedCertificate::encrypt(
        &certificate_pem,
        &serial,
        "2023-01-01T00:00:00+08:00",
        "2030-01-01T00:00:00+08:00",
        &apiv3,
        "0123456789ab",
    )
    .unwrap();
    let download = serde_json::to_vec(&CertificatesResponse::new(vec![entry])).unwrap();
    let order =
        br#"{"sub_mchid":"1900000109","transaction_id":"42","out_order_no":"P1","order_id":"3","status":"FINISHED"}"#;
    let (result, paths) = drive(Exchange::new(core.clone(), order_query()), |request| match request.uri().path() {
        "/v3/certificates" => signed(&download, &serial, &platform_signer),
        _ => signed(order, &serial, &platform_signer),
    });
    assert_eq!(result.unwrap().order_id, "3");
    assert_eq!(paths, ["/v3/certificates", "/v3/ecommerce/profitsharing/orders"]);
    assert!(core.keys().contains(&serial));
    assert_eq!(rsa.0.load(Ordering::Relaxed), 2, "the download and the answer");
    assert_eq!(aes.0.load(Ordering::Relaxed), 2, "encrypted once, decrypted once");
}

/// The host's HMAC-SHA256, counted.
#[derive(Debug, Default)]
struct HostHmac(Arc<AtomicUsize>);

impl wxpay_protocol::v2::HmacSha256 for HostHmac {
    fn hmac_sha256(&self, key: &[u8], message: &[u8]) -> [u8; 32] {
        self.0.fetch_add(1, Ordering::Relaxed);
        let tag = aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key), message);
        tag.as_ref().try_into().unwrap()
    }
}

#[test]
fn the_v2_signing_vector_with_a_supplied_hmac() {
    use wxpay_protocol::v2::{ApiV2Key, Fields, SignType, sign};
    let fields: Fields = text("v2-sign-official", "fields")
        .lines()
        .map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).unwrap())
        .collect();
    let used = Arc::new(AtomicUsize::new(0));
    let key = ApiV2Key::with_hmac(&vector("v2-sign-official", "apiv2_key"), HostHmac(used.clone())).unwrap();
    assert_eq!(sign(&fields, SignType::HmacSha256, &key), text("v2-sign-official", "hmac_sha256"));
    assert_eq!(used.load(Ordering::Relaxed), 1, "the supplied HMAC signed");
    assert_eq!(sign(&fields, SignType::Md5, &key), text("v2-sign-official", "md5"));
    assert_eq!(used.load(Ordering::Relaxed), 1, "MD5 needs no supplied crypto");
}
