//! The client state machine, driven by a fake transport: retries, backoff bounds, write
//! outcomes, signing and verification, certificate download and refresh, rate limits.

// RSA keys, signing and AES-256-GCM here are the aws-lc-rs defaults; tests/embedder.rs covers
// the crate without them.
#![cfg(feature = "aws-lc-rs")]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wxpay_protocol::client::{ClientConfig, ClientCore, Exchange, KeyMode, RateLimiter, RetryPolicy, Step};
use wxpay_protocol::security::{
    self, Apiv3Key, CertificatesResponse, EncryptedCertificate, KeyKind, KeySet, MerchantCredentials, PublicKeyId,
    RefreshPolicy, RsaPrivateKey, VerificationError, VerifyingKey,
};
use wxpay_protocol::{
    BaseUrl, Description, Error, NonceStr, Operation, OutOrderNo, RefundId, RefundLookup, SubMchId, TransactionId,
    TransportError, TransportErrorKind, cloudpay, v3,
};

const MCHID: &str = "1900007291";
const MERCHANT_SERIAL: &str = "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB";
const UNIX: i64 = 1_700_000_000;

struct Keys {
    merchant: rcgen::KeyPair,
    platform: rcgen::KeyPair,
    cert_a: (String, String),
    cert_b: (String, String),
}

fn cert(key: &rcgen::KeyPair, serial: &[u8]) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(serial));
    let pem = params.self_signed(key).unwrap().pem();
    let serial = VerifyingKey::from_certificate_pem(&pem).unwrap().serial().to_owned();
    (serial, pem)
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let merchant = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let platform = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert_a = cert(&platform, &[0x1A; 16]);
        let cert_b = cert(&platform, &[0x2B; 16]);
        Keys { merchant, platform, cert_a, cert_b }
    })
}

fn private(k: &rcgen::KeyPair) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_der(&k.serialize_der()).unwrap()
}

fn credentials() -> MerchantCredentials {
    MerchantCredentials::new(MCHID, MERCHANT_SERIAL, private(&keys().merchant)).unwrap()
}

fn apiv3() -> Apiv3Key {
    Apiv3Key::new(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").unwrap()
}

/// A deterministic entropy source.
fn entropy() -> impl FnMut() -> u64 {
    let mut x = 7u64;
    move || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        x
    }
}

fn refund_query() -> cloudpay::RefundQueryRequest {
    cloudpay::RefundQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        RefundLookup::RefundId(RefundId::new("5001").unwrap()),
    )
    .with_nonce(NonceStr::new("N1").unwrap())
}

fn finish() -> cloudpay::FinishRequest {
    cloudpay::FinishRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("4208450740201411110007820472").unwrap(),
        OutOrderNo::new("P1").unwrap(),
        Description::new("done").unwrap(),
    )
    .with_nonce(NonceStr::new("N1").unwrap())
}

fn order_query() -> v3::OrderQueryRequest {
    v3::OrderQueryRequest::new(
        SubMchId::new("1900000109").unwrap(),
        TransactionId::new("42").unwrap(),
        OutOrderNo::new("P1").unwrap(),
    )
}

const REFUND_OK: &[u8] = br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"42","total_fee":1,"cash_fee":1,"refund_count":1,"refund_id_0":"5001","out_refund_no_0":"R1","refund_fee_0":1,"refund_status_0":"SUCCESS"}"#;
const SYSTEMERROR: &[u8] =
    br#"{"return_code":"SUCCESS","result_code":"FAIL","err_code":"SYSTEMERROR","err_code_des":"busy"}"#;
const FINISH_OK: &[u8] = br#"{"return_code":"SUCCESS","result_code":"SUCCESS","sub_mch_id":"1900000109","transaction_id":"4208450740201411110007820472","out_order_no":"P1","order_id":"3008450740201411110007820472"}"#;
const ORDER_OK: &[u8] =
    br#"{"sub_mchid":"1900000109","transaction_id":"42","out_order_no":"P1","order_id":"3","status":"FINISHED"}"#;

enum Reply {
    Answer(http::Response<Vec<u8>>),
    Fail(TransportErrorKind),
}

/// What a driven exchange returned, sent and slept.
type Driven<T> = (Result<T, Error>, Vec<http::Request<Vec<u8>>>, Vec<Duration>);

/// Drives `exchange` with `server`, advancing a fake clock on every sleep. Returns the result,
/// the requests sent and the sleeps.
fn drive<O: Operation>(
    mut exchange: Exchange<O>,
    mut server: impl FnMut(&http::Request<Vec<u8>>) -> Reply,
) -> Driven<O::Output> {
    let mut now = Duration::from_secs(1000);
    let mut rng = entropy();
    let (mut sent, mut sleeps) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        match exchange.poll(now, UNIX, &mut rng) {
            Step::Sleep(d) => {
                sleeps.push(d);
                now += d;
            }
            Step::Send(request) => {
                match server(&request) {
                    Reply::Answer(r) => exchange.on_response(r, UNIX),
                    Reply::Fail(kind) => {
                        exchange.on_transport_error(TransportError::new(kind, std::io::Error::other("x")), UNIX)
                    }
                }
                sent.push(request);
            }
            Step::Done(result) => return (result, sent, sleeps),
            _ => unreachable!("no other step"),
        }
    }
    panic!("the exchange did not finish in 100 steps");
}

fn ok(body: &[u8]) -> Reply {
    Reply::Answer(http::Response::new(body.to_vec()))
}

fn core(config: ClientConfig) -> Arc<ClientCore> {
    Arc::new(ClientCore::new(config.rate_limits(RateLimiter::off())))
}

#[test]
fn retryable_errors_are_retried_with_the_identical_request() {
    let core = core(ClientConfig::new());
    let mut answers = vec![ok(SYSTEMERROR), ok(SYSTEMERROR), ok(REFUND_OK)].into_iter();
    let (result, sent, sleeps) = drive(Exchange::new(core.clone(), refund_query()), |_| answers.next().unwrap());
    assert_eq!(result.unwrap().refund_count, 1);
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|r| r.body() == sent[0].body()), "same merchant numbers and nonce_str");
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0] >= Duration::from_millis(50) && sleeps[0] <= Duration::from_millis(100));
    assert!(sleeps[1] >= Duration::from_millis(100) && sleeps[1] <= Duration::from_millis(200));
}

#[test]
fn final_errors_are_not_retried_and_attempts_are_bounded() {
    let core = core(ClientConfig::new());
    let not_found =
        br#"{"return_code":"SUCCESS","result_code":"FAIL","err_code":"REFUNDNOTEXIST","err_code_des":"none"}"#;
    let (result, sent, _) = drive(Exchange::new(core.clone(), refund_query()), |_| ok(not_found));
    assert_eq!(result.unwrap_err().as_api().unwrap().code().unwrap().as_str(), "REFUNDNOTEXIST");
    assert_eq!(sent.len(), 1);

    let (result, sent, _) = drive(Exchange::new(core.clone(), refund_query()), |_| ok(SYSTEMERROR));
    assert!(result.unwrap_err().is_retryable());
    assert_eq!(sent.len() as u32, RetryPolicy::default().max_attempts);

    let never = core_with_retry(RetryPolicy::never());
    let (_, sent, _) = drive(Exchange::new(never.clone(), refund_query()), |_| ok(SYSTEMERROR));
    assert_eq!(sent.len(), 1);

    // The time budget stops retries before the attempt count does.
    let tight = core_with_retry(
        RetryPolicy::new()
            .max_attempts(100)
            .backoff(Duration::from_secs(1), Duration::from_secs(1))
            .max_elapsed(Duration::from_secs(3)),
    );
    let (_, sent, sleeps) = drive(Exchange::new(tight.clone(), refund_query()), |_| ok(SYSTEMERROR));
    assert!(sleeps.iter().sum::<Duration>() <= Duration::from_secs(3));
    assert!(sent.len() <= 7, "{} attempts", sent.len());
}

/// The `nonce_str` of a CloudPay request body.
fn body_nonce(request: &http::Request<Vec<u8>>) -> String {
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    body["nonce_str"].as_str().expect("a nonce_str in every CloudPay body").to_owned()
}

#[test]
fn a_request_without_a_nonce_gets_one_per_call_and_keeps_it_on_retries() {
    let core = core(ClientConfig::new());
    let bare = || {
        cloudpay::FinishRequest::new(
            SubMchId::new("1900000109").unwrap(),
            TransactionId::new("4208450740201411110007820472").unwrap(),
            OutOrderNo::new("P1").unwrap(),
            Description::new("done").unwrap(),
        )
    };
    // Built by hand, a request without a nonce is refused, naming the field.
    let err = bare().build(&BaseUrl::cloudpay_default()).unwrap_err();
    assert_eq!((err.field(), err.rule()), ("nonce_str", &wxpay_protocol::Rule::Missing));
    assert_eq!(bare().nonce_str(), None);

    let mut answers = vec![Reply::Fail(TransportErrorKind::Timeout), ok(SYSTEMERROR), ok(FINISH_OK)].into_iter();
    let exchange = Exchange::new(core.clone(), bare());
    let (result, sent, _) = drive(exchange, |_| answers.next().unwrap());
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(sent.len(), 3);
    let first = body_nonce(&sent[0]);
    assert_eq!(first.len(), 32);
    assert!(first.bytes().all(|b| b.is_ascii_alphanumeric()), "{first}");
    assert!(sent.iter().all(|r| body_nonce(r) == first && r.body() == sent[0].body()), "a retry resends it");

    // Another call draws another nonce.
    let mut rng = || 0x0123_4567_89AB_CDEFu64;
    let mut other = Exchange::new(core.clone(), bare());
    let Step::Send(request) = other.poll(Duration::from_secs(1), UNIX, &mut rng) else { panic!("a send") };
    assert_ne!(body_nonce(&request), first);
    assert_eq!(other.operation().nonce_str().map(NonceStr::as_str), Some(body_nonce(&request).as_str()));

    // A nonce given is the one sent.
    let given = bare().with_nonce(NonceStr::new("GIVEN1").unwrap());
    let (_, sent, _) = drive(Exchange::new(core.clone(), given), |_| ok(FINISH_OK));
    assert_eq!(body_nonce(&sent[0]), "GIVEN1");
}

fn core_with_retry(policy: RetryPolicy) -> Arc<ClientCore> {
    core(ClientConfig::new().retry_policy(policy))
}

#[test]
fn a_finish_that_times_out_is_retried_unchanged_and_reported_as_outcome_unknown() {
    let core = core(ClientConfig::new());
    let (result, sent, _) = drive(Exchange::new(core.clone(), finish()), |_| Reply::Fail(TransportErrorKind::Timeout));
    let err = result.unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert!(sent.len() > 1 && sent.iter().all(|r| r.body() == sent[0].body()));

    let (result, _, _) =
        drive(Exchange::new(core.clone(), refund_query()), |_| Reply::Fail(TransportErrorKind::Timeout));
    assert!(!result.unwrap_err().outcome_unknown(), "a query has no outcome to lose");

    let (result, sent, _) = drive(Exchange::new(core.clone(), finish()), |_| Reply::Fail(TransportErrorKind::Tls));
    assert!(!result.unwrap_err().outcome_unknown());
    assert_eq!(sent.len(), 1, "TLS failures are final");
}

#[test]
fn a_final_transport_failure_says_how_many_attempts_and_the_last_request_id() {
    let core = core(ClientConfig::new());
    let mut answered = false;
    let (result, sent, _) = drive(Exchange::new(core.clone(), refund_query()), |_| {
        if answered {
            return Reply::Fail(TransportErrorKind::Timeout);
        }
        answered = true;
        let mut busy = http::Response::new(SYSTEMERROR.to_vec());
        busy.headers_mut().insert("Request-ID", "08F1-REQ".parse().unwrap());
        Reply::Answer(busy)
    });
    let Err(Error::Transport(t)) = result else { panic!("a transport failure expected: {result:?}") };
    assert!(sent.len() > 2, "{} attempts", sent.len());
    assert_eq!(t.attempts(), Some(u32::try_from(sent.len()).unwrap()));
    assert_eq!(t.last_request_id(), Some("08F1-REQ"));

    // A failure that is not retried is the first attempt's, with no answer seen.
    let (result, _, _) = drive(Exchange::new(core.clone(), finish()), |_| Reply::Fail(TransportErrorKind::Tls));
    let Err(Error::Transport(t)) = result else { panic!("a transport failure expected: {result:?}") };
    assert_eq!((t.attempts(), t.last_request_id()), (Some(1), None));
}

/// A v3 server: checks the request's signature, answers `body` signed with `serial`.
fn signed(body: &[u8], serial: &str) -> http::Response<Vec<u8>> {
    let sig = security::sign_response(body, UNIX, "nonce1", serial, &private(&keys().platform)).unwrap();
    let mut response = http::Response::new(body.to_vec());
    for (name, value) in sig.headers() {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

fn merchant_keyset() -> KeySet {
    let mut set = KeySet::new();
    set.insert(
        VerifyingKey::from_der(MERCHANT_SERIAL, KeyKind::Merchant, &private(&keys().merchant).public_key_der())
            .unwrap(),
    );
    set
}

fn public_key_mode() -> (ClientConfig, &'static str) {
    let id = "PUB_KEY_ID_0000000000000024101100397200000006";
    let mut set = KeySet::new();
    set.insert(
        VerifyingKey::from_public_key_pem(PublicKeyId::new(id).unwrap(), &keys().platform.public_key_pem()).unwrap(),
    );
    (ClientConfig::new().credentials(credentials()).keys(KeyMode::Static(set)), id)
}

#[test]
fn v3_calls_are_signed_and_answers_verified() {
    let (config, id) = public_key_mode();
    let core = core(config.v3_base(BaseUrl::parse("https://127.0.0.1:9").unwrap()).unwrap());
    let (result, sent, _) = drive(Exchange::new(core.clone(), order_query()), |request| {
        let auth = security::verify_request(request, UNIX, MCHID, &merchant_keyset()).expect("a valid signature");
        assert_eq!(auth.nonce_str.len(), 32);
        assert_eq!(request.headers()["wechatpay-serial"], id);
        assert!(request.headers()["user-agent"].to_str().unwrap().starts_with("wxpay-rs/"));
        Reply::Answer(signed(ORDER_OK, id))
    });
    assert_eq!(result.unwrap().order_id, "3");
    assert_eq!(sent[0].uri().authority().unwrap().as_str(), "127.0.0.1:9");

    // A forged answer is refused and not retried; so is a missing signature.
    let (result, sent, _) = drive(Exchange::new(core.clone(), order_query()), |_| {
        let mut r = signed(ORDER_OK, id);
        r.body_mut()[3] ^= 1;
        Reply::Answer(r)
    });
    assert!(
        matches!(result.unwrap_err(), Error::Verification(v) if matches!(v.verification_error(), VerificationError::BadSignature(_)))
    );
    assert_eq!(sent.len(), 1);

    // Without credentials nothing is sent.
    let bare = core_with_retry(RetryPolicy::new());
    let (result, sent, _) = drive(Exchange::new(bare.clone(), order_query()), |_| unreachable!());
    assert!(matches!(result, Err(Error::Signing(_))));
    assert!(sent.is_empty());
}

fn certificates_answer(certs: &[&(String, String)], signed_by: &str) -> http::Response<Vec<u8>> {
    let data = certs
        .iter()
        .map(|(serial, pem)| {
            EncryptedCertificate::encrypt(
                pem,
                serial,
                "2026-01-01T00:00:00+08:00",
                "2030-01-01T00:00:00+08:00",
                &apiv3(),
                "0123456789ab",
            )
            .unwrap()
        })
        .collect();
    signed(&serde_json::to_vec(&CertificatesResponse::new(data)).unwrap(), signed_by)
}

#[test]
fn certificate_mode_downloads_on_first_use_and_refreshes_once_on_an_unknown_serial() {
    let config = ClientConfig::new()
        .credentials(credentials())
        .keys(KeyMode::Certificates { apiv3_key: apiv3(), keys: KeySet::new() });
    let core = core(config);
    let (a, b) = (&keys().cert_a, &keys().cert_b);

    let (result, sent, _) = drive(Exchange::new(core.clone(), order_query()), |request| match request.uri().path() {
        "/v3/certificates" => Reply::Answer(certificates_answer(&[a], &a.0)),
        _ => {
            assert_eq!(request.headers()["wechatpay-serial"], a.0.as_str(), "asks for the downloaded certificate");
            Reply::Answer(signed(ORDER_OK, &a.0))
        }
    });
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        sent.iter().map(|r| r.uri().path()).collect::<Vec<_>>(),
        ["/v3/certificates", "/v3/ecommerce/profitsharing/orders"]
    );

    // The next call does not download again.
    let (_, sent, _) = drive(Exchange::new(core.clone(), order_query()), |_| Reply::Answer(signed(ORDER_OK, &a.0)));
    assert_eq!(sent.len(), 1);

    // WeChat Pay rotates to certificate B: one refresh, then the same answer verifies.
    let (result, sent, _) = drive(Exchange::new(core.clone(), order_query()), |request| match request.uri().path() {
        "/v3/certificates" => Reply::Answer(certificates_answer(&[a, b], &b.0)),
        _ => Reply::Answer(signed(ORDER_OK, &b.0)),
    });
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(sent.len(), 2, "the answer is re-verified, not fetched again");
    assert!(core.keys().contains(&b.0) && core.keys().contains(&a.0));

    // Another unknown serial within the gap: no second refresh, the answer is refused.
    let (result, sent, _) =
        drive(Exchange::new(core.clone(), order_query()), |_| Reply::Answer(signed(ORDER_OK, "C0FFEE")));
    assert!(
        matches!(result.unwrap_err(), Error::Verification(v) if matches!(v.verification_error(), VerificationError::UnknownSerial(_)))
    );
    assert_eq!(sent.len(), 1);
}

#[test]
fn a_failed_download_keeps_the_client_usable() {
    let (a, _) = (&keys().cert_a, ());
    let mut held = KeySet::new();
    held.insert(VerifyingKey::from_certificate_pem(&a.1).unwrap());
    let config = ClientConfig::new()
        .credentials(credentials())
        .keys(KeyMode::Certificates { apiv3_key: apiv3(), keys: held })
        .refresh_policy(RefreshPolicy::default());
    let core = core(config);
    // The scheduled first download fails; the call goes on with the keys held.
    let (result, sent, _) = drive(Exchange::new(core.clone(), order_query()), |request| match request.uri().path() {
        "/v3/certificates" => Reply::Fail(TransportErrorKind::Connect),
        _ => Reply::Answer(signed(ORDER_OK, &a.0)),
    });
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(sent.len(), 2);

    // With no key at all, a failed download fails the call, and the next call does not hammer
    // the endpoint within after_failure.
    let empty = core_with_certificates_only();
    let (result, _, _) =
        drive(Exchange::new(empty.clone(), order_query()), |_| Reply::Fail(TransportErrorKind::Connect));
    assert!(matches!(result, Err(Error::Transport(_))));
    let (result, sent, _) =
        drive(Exchange::new(empty.clone(), order_query()), |_| unreachable!("no request within the gap"));
    assert!(
        matches!(&result, Err(Error::Verification(v)) if *v.verification_error() == VerificationError::NoKeys),
        "{result:?}"
    );
    // No answer was checked: no HTTP status is invented for it.
    let Err(Error::Verification(v)) = &result else { unreachable!() };
    assert_eq!(v.status(), None);
    assert_eq!(result.unwrap_err().to_string(), "no answer could be verified");
    assert!(sent.is_empty());
}

fn core_with_certificates_only() -> Arc<ClientCore> {
    core(
        ClientConfig::new()
            .credentials(credentials())
            .keys(KeyMode::Certificates { apiv3_key: apiv3(), keys: KeySet::new() }),
    )
}

#[test]
fn a_download_that_does_not_verify_adds_no_key() {
    let core = core_with_certificates_only();
    let a = &keys().cert_a;
    let (result, _, _) = drive(Exchange::new(core.clone(), order_query()), |_| {
        let mut r = certificates_answer(&[a], &a.0);
        r.headers_mut().insert("Wechatpay-Timestamp", (UNIX - 1000).to_string().parse().unwrap());
        Reply::Answer(r)
    });
    assert!(matches!(result, Err(Error::Verification(_))), "{result:?}");
    assert!(core.keys().is_empty());
}

#[test]
fn rate_limits_space_calls_of_one_operation() {
    let mut limiter = RateLimiter::off();
    limiter.set(cloudpay::RefundQueryRequest::SPEC.name, 10);
    let core = Arc::new(ClientCore::new(ClientConfig::new().rate_limits(limiter)));
    let mut waits = Vec::new();
    let now = Duration::from_secs(7);
    for _ in 0..3 {
        let mut exchange = Exchange::new(core.clone(), refund_query());
        match exchange.poll(now, UNIX, &mut entropy()) {
            Step::Sleep(d) => waits.push(d),
            Step::Send(_) => waits.push(Duration::ZERO),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(waits, [Duration::ZERO, Duration::from_millis(100), Duration::from_millis(200)]);
    let documented = RateLimiter::documented();
    assert_eq!(documented.limit("profitsharingreturnquery").map(|l| l.qps), Some(30));
    assert_eq!(documented.limit("profitsharingfinish").map(|l| l.qps), Some(60));
    assert_eq!(documented.limit("queryrefund"), None);
    assert_eq!(documented.limit("ecommerce/profitsharing/returnorders"), None, "not documented (docs/protocol.md §7)");
}

#[test]
fn polling_out_of_order_is_an_error_not_a_hang() {
    let core = core(ClientConfig::new());
    let mut exchange = Exchange::new(core.clone(), refund_query());
    let mut rng = entropy();
    assert!(matches!(exchange.poll(Duration::ZERO, UNIX, &mut rng), Step::Send(_)));
    assert!(matches!(exchange.poll(Duration::ZERO, UNIX, &mut rng), Step::Done(Err(Error::Signing(_)))));
}
