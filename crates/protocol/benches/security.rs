//! The SDK's signing and verification paths beside the raw RSA operations of aws-lc-rs, in one
//! run, so that docs/performance.md can report what the SDK adds.
//!
//! Run: `cargo bench -p wxpay-protocol --bench security`.

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use divan::{Bencher, black_box};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivatePkcs8KeyDer, SubjectPublicKeyInfoDer};

use wxpay_protocol::security::{
    KeySet, MerchantCredentials, PublicKeyId, RsaPrivateKey, Signer, SigningError, SigningParams, VerificationError,
    Verifier, VerifyingKey, sign_request, verify_response,
};
use wxpay_protocol::{BaseUrl, NonceStr, Operation, OutOrderNo, SubMchId, TransactionId, v3};

const KEY_PEM: &str = include_str!("../tests/vectors/doc-request-signature/private_key.pem");
const VERIFY: &str = "tests/vectors/doc-response-verification";

fn main() {
    divan::main();
}

fn vector(file: &str) -> String {
    std::fs::read_to_string(format!("{}/{VERIFY}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn request() -> http::Request<Vec<u8>> {
    v3::OrderQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("4208450740201411110007820472").unwrap(),
        OutOrderNo::new("P20150806125346").unwrap(),
    )
    .build(&BaseUrl::v3_default())
    .unwrap()
}

/// aws-lc-rs alone: RSA-2048 PKCS#1 v1.5 SHA-256 over the same message the SDK signs.
#[divan::bench]
fn raw_rsa_sign(bencher: Bencher<'_, '_>) {
    let der = PrivatePkcs8KeyDer::from_pem_slice(KEY_PEM.as_bytes()).unwrap();
    let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let message = wxpay_protocol::security::request_message(
        "GET",
        request().uri().path_and_query().unwrap().as_str(),
        1_554_208_460,
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        b"",
    );
    let mut signature = vec![0; key.public_modulus_len()];
    bencher.bench_local(|| key.sign(&RSA_PKCS1_SHA256, &rng, black_box(&message), &mut signature).unwrap());
}

/// The SDK: message, signature, base64, `Authorization` and the other headers of a built query.
#[divan::bench]
fn sdk_sign_request(bencher: Bencher<'_, '_>) {
    let credentials = MerchantCredentials::new(
        "1900007291",
        "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
        RsaPrivateKey::from_pkcs8_pem(KEY_PEM).unwrap(),
    )
    .unwrap();
    let request = request();
    let nonce = NonceStr::new("593BEC0C930BF1AFEB40B4A08C8FB242").unwrap();
    let params = SigningParams::new(&credentials, 1_554_208_460, &nonce)
        .wechatpay_serial("PUB_KEY_ID_0000000000000024101100397200000006");
    bencher.bench_local(|| sign_request(black_box(&request), &params).unwrap());
}

fn doc_response() -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(200)
        .header("Wechatpay-Timestamp", vector("timestamp"))
        .header("Wechatpay-Nonce", vector("nonce"))
        .header("Wechatpay-Signature", vector("signature"))
        .header("Wechatpay-Serial", vector("serial"))
        .header("Wechatpay-Signature-Type", vector("signature_type"))
        .body(vector("body").into_bytes())
        .unwrap()
}

/// aws-lc-rs alone: RSA-2048 verification of the documentation's signed answer, key pre-parsed.
#[divan::bench]
fn raw_rsa_verify(bencher: Bencher<'_, '_>) {
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(vector("public_key.pem").as_bytes()).unwrap();
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.as_ref()).unwrap();
    let message = vector("message").into_bytes();
    let signature = base64::engine::general_purpose::STANDARD.decode(vector("signature")).unwrap();
    bencher.bench_local(|| key.verify_sig(black_box(&message), black_box(&signature)).unwrap());
}

/// The SDK: header checks, timestamp window, base64, message, key lookup by serial, verify.
#[divan::bench]
fn sdk_verify_response(bencher: Bencher<'_, '_>) {
    let mut keys = KeySet::new();
    let id = PublicKeyId::new(vector("serial")).unwrap();
    keys.insert(VerifyingKey::from_public_key_pem(id, &vector("public_key.pem")).unwrap());
    let response = doc_response();
    let now: i64 = vector("timestamp").parse().unwrap();
    bencher.bench_local(|| verify_response(black_box(&response), now, &keys).unwrap());
}

/// A signer that returns a fixed 256-byte "signature": what `sign_request` costs besides RSA.
#[derive(Debug)]
struct NoCrypto;

impl Signer for NoCrypto {
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, SigningError> {
        Ok(vec![0x5a; 256])
    }
}

impl Verifier for NoCrypto {
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerificationError> {
        black_box((serial, message, signature));
        Ok(())
    }
}

/// The SDK's own work when signing: everything but the RSA operation.
#[divan::bench]
fn sdk_sign_overhead(bencher: Bencher<'_, '_>) {
    let credentials =
        MerchantCredentials::new("1900007291", "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB", NoCrypto).unwrap();
    let request = request();
    let nonce = NonceStr::new("593BEC0C930BF1AFEB40B4A08C8FB242").unwrap();
    let params = SigningParams::new(&credentials, 1_554_208_460, &nonce)
        .wechatpay_serial("PUB_KEY_ID_0000000000000024101100397200000006");
    bencher.bench_local(|| sign_request(black_box(&request), &params).unwrap());
}

/// The SDK's own work when verifying: everything but the RSA operation.
#[divan::bench]
fn sdk_verify_overhead(bencher: Bencher<'_, '_>) {
    let response = doc_response();
    let now: i64 = vector("timestamp").parse().unwrap();
    bencher.bench_local(|| verify_response(black_box(&response), now, &NoCrypto).unwrap());
}
