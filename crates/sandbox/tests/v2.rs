//! The v2 wire (docs/protocol.md §5, docs/sandbox.md "The v2 wire"): the three paths answer signed
//! XML that the protocol's `v2::Call` accepts, requests are verified the way WeChat Pay does,
//! `/secapi/` needs a TLS client certificate, and the CloudPay state, paging, limits and faults
//! hold on this wire too. Requests are built with `v2::Merchant::call(...).build(...)` and sent
//! raw; answers go back through `Call::parse`.

mod common;

use std::sync::Arc;

use common::{Raw, Received, Req, SUB, Via};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wxpay_protocol::cloudpay::{self, ReturnResult};
use wxpay_protocol::security::{ClientIdentity, Mchid};
use wxpay_protocol::v2::{self, AppId, Call, Fields, Merchant, SignType, V2Operation};
use wxpay_protocol::{
    BaseUrl, Description, Error, ErrorCode, NonceStr, Offset, Operation, OrderId, OrderRef, OutOrderNo, OutReturnNo,
    RefundLookup, SubMchId, TransactionId,
};
use wxpay_sandbox::{Fault, Sandbox};

/// The docs/protocol.md §8.3 payment that can be finished.
const PAID: &str = "4208450740201411110007820472";
/// The order with 36 refunds.
const PAGED: &str = "4200000000000000000000000036";

const SIGN_ERROR: &str =
    "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名错误]]></return_msg></xml>";

fn sub() -> SubMchId {
    SubMchId::new(SUB).unwrap()
}

fn nonce() -> NonceStr {
    NonceStr::new(common::nonce()).unwrap()
}

/// The docs/protocol.md §8.1 return that succeeds after one PROCESSING answer.
fn return_query() -> cloudpay::ReturnQueryRequest {
    cloudpay::ReturnQueryRequest::new(
        sub(),
        OrderRef::OrderId(OrderId::new("4208450740201411110007820472").unwrap()),
        OutReturnNo::new("R20150806125346").unwrap(),
    )
    .with_nonce(nonce())
}

fn finish(out_order_no: &str) -> cloudpay::FinishRequest {
    cloudpay::FinishRequest::new(
        sub(),
        TransactionId::new(PAID).unwrap(),
        OutOrderNo::new(out_order_no).unwrap(),
        Description::new("分账完结").unwrap(),
    )
    .with_nonce(nonce())
}

fn refund_page(offset: Option<u32>) -> cloudpay::RefundQueryRequest {
    let request =
        cloudpay::RefundQueryRequest::new(sub(), RefundLookup::TransactionId(TransactionId::new(PAGED).unwrap()))
            .with_nonce(nonce());
    match offset {
        Some(offset) => request.offset(Offset::new(offset)),
        None => request,
    }
}

/// A sandbox with the shared keys and a pinned clock.
async fn start() -> Sandbox {
    common::start().await.0
}

/// The raw request of `call` (path and signed XML body).
fn raw_request<R: V2Operation>(call: &Call<R>) -> Req {
    let built = call.build(&BaseUrl::v2_default()).unwrap();
    Req::post(built.uri().path()).header("Content-Type", "text/xml; charset=utf-8").body(built.body().clone())
}

/// A body signed by hand: `fields` as given, `sign_type` set, signed under `key`.
fn signed_body(mut fields: Fields, sign_type: SignType, key: &v2::ApiV2Key) -> Vec<u8> {
    fields.remove(v2::SIGN);
    fields.insert(v2::SIGN_TYPE, sign_type.as_str());
    let sign = v2::sign(&fields, sign_type, key);
    fields.insert(v2::SIGN, sign);
    fields.to_xml().into_bytes()
}

/// A TLS connection to the HTTPS listener, trusting the sandbox's CA, presenting `identity`.
async fn exchange_tls(sandbox: &Sandbox, identity: Option<ClientIdentity>, req: &Req) -> Received {
    let addr = common::listener(sandbox, Via::Https);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(sandbox.tls_ca_pem().as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(identity) => {
            builder.with_client_auth_cert(identity.certificate_chain().to_vec(), identity.private_key()).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(addr.ip().to_string()).unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut tls = match connector.connect(name, tcp).await {
        Ok(tls) => tls,
        Err(e) => return Received { bytes: Vec::new(), error: Some(e.kind()) },
    };
    if let Err(e) = tls.write_all(&req.to_bytes(addr)).await {
        return Received { bytes: Vec::new(), error: Some(e.kind()) };
    }
    let mut bytes = Vec::new();
    let error = tls.read_to_end(&mut bytes).await.err().map(|e| e.kind());
    Received { bytes, error }
}

/// Sends `req` over HTTPS with the sandbox's merchant certificate.
async fn https_with_certificate(sandbox: &Sandbox, req: &Req) -> Raw {
    Raw::parse(exchange_tls(sandbox, Some(sandbox.client_identity().unwrap()), req).await)
}

fn fields(raw: &Raw) -> Fields {
    Fields::from_xml(&raw.body).unwrap_or_else(|e| panic!("not v2 XML ({e}): {}", raw.text()))
}

#[tokio::test]
async fn each_v2_path_answers_signed_xml_that_the_client_accepts() {
    let sandbox = start().await;
    let merchant = sandbox.v2_merchant().unwrap();
    assert_eq!(merchant.mch_id().as_str(), wxpay_sandbox::DEFAULT_MCHID);
    assert_eq!(merchant.appid().as_str(), wxpay_sandbox::DEFAULT_APPID);

    // Return query over plain HTTP: PROCESSING first, then the final state (the CloudPay state).
    let call = merchant.call(return_query());
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    assert_eq!(raw.status, 200);
    assert!(raw.header("content-type").unwrap().starts_with("text/xml"));
    let answer = fields(&raw);
    for (name, value) in [("return_code", "SUCCESS"), ("mch_id", "1900007291"), ("appid", "wx8888888888888888")] {
        assert_eq!(answer.get(name), Some(value), "{name}: {}", raw.text());
    }
    assert_eq!(answer.get("nonce_str").map(str::len), Some(32));
    assert_eq!(answer.get("sign").map(str::len), Some(64), "HMAC-SHA256, as the request");
    assert_eq!(call.parse(&raw.http()).unwrap().result, ReturnResult::Processing);
    let raw = common::http(&sandbox, &raw_request(&merchant.call(return_query()))).await;
    assert_eq!(call.parse(&raw.http()).unwrap().result, ReturnResult::Success);
    // Every answer has a fresh nonce.
    let again = common::http(&sandbox, &raw_request(&merchant.call(return_query()))).await;
    assert_ne!(fields(&again).get("nonce_str"), answer.get("nonce_str"));

    // Refund query over plain HTTP.
    let call = merchant.call(refund_page(None));
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    let page = call.parse(&raw.http()).unwrap();
    assert_eq!((page.refund_count, page.total_refund_count), (10, Some(36)));

    // Finish over HTTPS with the merchant certificate; the same out_order_no is the same request.
    let call = merchant.call(finish("P1"));
    let raw = https_with_certificate(&sandbox, &raw_request(&call)).await;
    let done = call.parse(&raw.http()).unwrap_or_else(|e| panic!("{e}: {}", raw.text()));
    assert_eq!((done.transaction_id.as_str(), done.out_order_no.as_str()), (PAID, "P1"));
    let raw = https_with_certificate(&sandbox, &raw_request(&merchant.call(finish("P1")))).await;
    assert_eq!(call.parse(&raw.http()).unwrap().out_order_no, "P1");
    // A new number for a finished payment: AMOUNT_OVERDUE, a signed business failure.
    let call = merchant.call(finish("P2"));
    let raw = https_with_certificate(&sandbox, &raw_request(&call)).await;
    let answer = fields(&raw);
    assert_eq!((answer.get("result_code"), answer.get("err_code")), (Some("FAIL"), Some("AMOUNT_OVERDUE")));
    assert!(answer.get("sign").is_some(), "return_code SUCCESS answers are signed: {}", raw.text());
    let err = call.parse(&raw.http()).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::AmountOverdue));
}

#[tokio::test]
async fn a_bad_or_missing_request_sign_is_refused_unsigned_with_签名错误() {
    let sandbox = start().await;
    let merchant = sandbox.v2_merchant().unwrap();
    let call = merchant.call(refund_page(None));
    let good = call.fields().unwrap();

    let mut tampered = good.clone();
    let sign = tampered.get("sign").unwrap().to_owned();
    tampered.insert("sign", format!("{}{}", if sign.starts_with('A') { "B" } else { "A" }, &sign[1..]));
    let mut unsigned = good.clone();
    unsigned.remove("sign");
    let mut changed = good.clone();
    changed.insert("offset", "10"); // signed without it
    let other_key = v2::ApiV2Key::new(b"192006250b4c09247ec02edce69f6a2d").unwrap();
    let foreign = signed_body(good.clone(), SignType::HmacSha256, &other_key);
    for body in [tampered.to_xml().into_bytes(), unsigned.to_xml().into_bytes(), changed.to_xml().into_bytes(), foreign]
    {
        let raw = common::http(&sandbox, &Req::post("/pay/refundquery").body(body)).await;
        assert_eq!(raw.status, 200);
        assert_eq!(raw.text(), SIGN_ERROR);
        // The client reads it as a failure of the call, not as a forged answer.
        let err = call.parse(&raw.http()).unwrap_err();
        assert!(err.as_api().is_some(), "{err:?}");
    }

    // Not XML, a DOCTYPE, a field that breaks its rule, another merchant or app.
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"sub_mch_id\":\"1900000109\"}".to_vec(), "XML格式错误"),
        (b"<!DOCTYPE xml><xml><a>1</a></xml>".to_vec(), "XML格式错误"),
        (
            {
                let mut f = good.clone();
                f.insert("transaction_id", "not-digits");
                signed_body(f, SignType::HmacSha256, sandbox.v2_keys().apiv2_key())
            },
            "参数错误: transaction_id",
        ),
        (
            {
                let mut f = good.clone();
                f.insert("mch_id", "1230000109");
                signed_body(f, SignType::HmacSha256, sandbox.v2_keys().apiv2_key())
            },
            "mch_id 不是本沙箱的商户号 1900007291",
        ),
        (
            {
                let mut f = good.clone();
                f.insert("appid", "wxd930ea5d5a258f4f");
                signed_body(f, SignType::HmacSha256, sandbox.v2_keys().apiv2_key())
            },
            "appid和mch_id不匹配",
        ),
    ];
    for (body, message) in cases {
        let raw = common::http(&sandbox, &Req::post("/pay/refundquery").body(body)).await;
        let answer = fields(&raw);
        assert_eq!(answer.get("return_code"), Some("FAIL"), "{}", raw.text());
        assert!(answer.get("return_msg").unwrap().starts_with(message), "{}", raw.text());
        assert_eq!(answer.get("sign"), None, "FAIL answers are not signed");
    }
}

#[tokio::test]
async fn md5_is_refused_on_the_profit_sharing_paths_and_accepted_on_the_refund_query() {
    let sandbox = start().await;
    let merchant = sandbox.v2_merchant().unwrap();
    let key = sandbox.v2_keys().apiv2_key();
    let return_md5 = signed_body(merchant.call(return_query()).fields().unwrap(), SignType::Md5, key);
    let raw = common::http(&sandbox, &Req::post("/pay/profitsharingreturnquery").body(return_md5)).await;
    assert_eq!(fields(&raw).get("return_msg"), Some("参数错误: 本接口的 sign_type 只能是 HMAC-SHA256"));
    let finish_md5 = signed_body(merchant.call(finish("P1")).fields().unwrap(), SignType::Md5, key);
    let raw = https_with_certificate(&sandbox, &Req::post("/secapi/pay/profitsharingfinish").body(finish_md5)).await;
    assert_eq!(fields(&raw).get("return_msg"), Some("参数错误: 本接口的 sign_type 只能是 HMAC-SHA256"));
    // Without sign_type, MD5 is meant (the v2 default): refused there too.
    let mut fields_md5 = merchant.call(return_query()).fields().unwrap();
    fields_md5.remove(v2::SIGN_TYPE);
    fields_md5.remove(v2::SIGN);
    let sign = v2::sign(&fields_md5, SignType::Md5, key);
    fields_md5.insert(v2::SIGN, sign);
    let raw = common::http(&sandbox, &Req::post("/pay/profitsharingreturnquery").body(fields_md5.to_xml())).await;
    assert_eq!(fields(&raw).get("return_code"), Some("FAIL"));

    // The refund query takes MD5 and answers signed with MD5.
    let call = merchant.call(refund_page(None)).with_sign_type(SignType::Md5).unwrap();
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    assert_eq!(fields(&raw).get("sign").map(str::len), Some(32), "an MD5 sign: {}", raw.text());
    assert_eq!(call.parse(&raw.http()).unwrap().refund_count, 10);
    // ...and without sign_type at all (MD5).
    let mut bare = call.fields().unwrap();
    bare.remove(v2::SIGN_TYPE);
    bare.remove(v2::SIGN);
    let sign = v2::sign(&bare, SignType::Md5, key);
    bare.insert(v2::SIGN, sign);
    let raw = common::http(&sandbox, &Req::post("/pay/refundquery").body(bare.to_xml())).await;
    assert_eq!(call.parse(&raw.http()).unwrap().refund_count, 10);
}

#[tokio::test]
async fn the_refund_query_pages_through_36_refunds_over_v2() {
    let sandbox = start().await;
    let merchant = sandbox.v2_merchant().unwrap();
    let mut ids = Vec::new();
    for offset in [0, 10, 20, 30] {
        let call = merchant.call(refund_page(Some(offset)));
        let raw = common::http(&sandbox, &raw_request(&call)).await;
        let page = call.parse(&raw.http()).unwrap();
        assert_eq!(page.total_refund_count, Some(36));
        assert_eq!(page.refund_count, if offset == 30 { 6 } else { 10 });
        ids.extend(page.listed_refunds().iter().map(|r| r.refund_id.clone()));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 36, "every refund once");
    // Past the total: PARAM_ERROR, a signed business failure.
    let call = merchant.call(refund_page(Some(36)));
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    assert_eq!(fields(&raw).get("err_code"), Some("PARAM_ERROR"));
    let err = call.parse(&raw.http()).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::ParamError));
}

#[tokio::test]
async fn secapi_needs_a_client_certificate_as_wechat_pay_does() {
    let sandbox = start().await;
    let merchant = sandbox.v2_merchant().unwrap();
    let req = raw_request(&merchant.call(finish("P1")));
    let page = "<center>No required SSL certificate was sent</center>";

    // HTTPS without a certificate: the handshake lets the client in, the path refuses.
    let raw = Raw::parse(exchange_tls(&sandbox, None, &req).await);
    assert_eq!(raw.status, 400);
    assert!(raw.text().contains(page), "{}", raw.text());
    // Plain HTTP: no certificate can come.
    let raw = common::http(&sandbox, &req).await;
    assert_eq!(raw.status, 400);
    assert!(raw.text().contains("<title>400 No required SSL certificate was sent</title>"), "{}", raw.text());
    // Nothing was finished: with the certificate, P2 is the first number and succeeds.
    let call = merchant.call(finish("P2"));
    let raw = https_with_certificate(&sandbox, &raw_request(&call)).await;
    assert_eq!(call.parse(&raw.http()).unwrap().out_order_no, "P2");

    // The other paths take requests with or without a certificate, over both listeners.
    let call = merchant.call(refund_page(None));
    for raw in [
        Raw::parse(exchange_tls(&sandbox, None, &raw_request(&call)).await),
        https_with_certificate(&sandbox, &raw_request(&call)).await,
        common::https(&sandbox, &raw_request(&call)).await,
    ] {
        assert_eq!(call.parse(&raw.http()).unwrap().refund_count, 10);
    }
}

/// A self-signed client certificate and its key.
fn other_identity() -> (String, ClientIdentity) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "1900000100");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key).unwrap();
    let identity = ClientIdentity::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    (cert.pem(), identity)
}

#[tokio::test]
async fn client_ca_chooses_the_certificates_trusted_and_others_fail_the_handshake() {
    let (other_pem, other) = other_identity();
    // By default only the sandbox's merchant certificate is trusted.
    let sandbox = start().await;
    let req = raw_request(&sandbox.v2_merchant().unwrap().call(finish("P1")));
    let received = exchange_tls(&sandbox, Some(other.clone()), &req).await;
    assert!(received.bytes.is_empty(), "an untrusted certificate fails the handshake");
    assert_eq!(sandbox.v2_keys().client_ca_pem(), sandbox.v2_keys().merchant_cert_pem());

    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("client_ca.pem");
    std::fs::write(&ca, &other_pem).unwrap();
    let (config, _) = common::config();
    let sandbox = Sandbox::start(config.client_ca_file(&ca)).await.unwrap();
    assert_eq!(sandbox.v2_keys().files().client_ca.as_deref(), Some(ca.as_path()));
    let call = sandbox.v2_merchant().unwrap().call(finish("P1"));
    let raw = Raw::parse(exchange_tls(&sandbox, Some(other), &raw_request(&call)).await);
    assert_eq!(call.parse(&raw.http()).unwrap().out_order_no, "P1");
    let received = exchange_tls(&sandbox, Some(sandbox.client_identity().unwrap()), &raw_request(&call)).await;
    assert!(received.bytes.is_empty(), "the merchant certificate is no longer trusted");

    // A file without a certificate is refused at start.
    std::fs::write(&ca, "not a certificate").unwrap();
    let (config, _) = common::config();
    assert!(Sandbox::start(config.client_ca_file(&ca)).await.is_err());
}

#[tokio::test]
async fn signature_faults_make_answers_the_client_refuses() {
    let sandbox = start().await;
    let merchant = sandbox.v2_merchant().unwrap();
    for fault in [Fault::MissingSignature, Fault::WrongSignature] {
        sandbox.inject("pay/refundquery", fault, 1).unwrap();
        let call = merchant.call(refund_page(None));
        let raw = common::http(&sandbox, &raw_request(&call)).await;
        let answer = fields(&raw);
        assert_eq!(answer.get("return_code"), Some("SUCCESS"), "{fault:?}");
        match fault {
            Fault::MissingSignature => assert_eq!(answer.get("sign"), None),
            _ => assert_eq!(answer.get("sign").map(str::len), Some(64)),
        }
        assert!(matches!(call.parse(&raw.http()), Err(Error::Verification(_))), "{fault:?}");
        // The next answer is good again.
        let raw = common::http(&sandbox, &raw_request(&call)).await;
        assert!(call.parse(&raw.http()).is_ok());
    }
    // A wrong signature on an unsigned (FAIL) answer: one that does not verify is added.
    sandbox.inject("pay/profitsharingreturnquery", Fault::WrongSignature, 1).unwrap();
    let unknown = cloudpay::ReturnQueryRequest::new(
        sub(),
        OrderRef::OutOrderNo(OutOrderNo::new("P-unknown").unwrap()),
        OutReturnNo::new("R-unknown").unwrap(),
    )
    .with_nonce(nonce());
    let call = merchant.call(unknown);
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    assert!(matches!(call.parse(&raw.http()), Err(Error::Verification(_))), "{}", raw.text());

    // Faults that need a timestamp or a serial do not apply to v2.
    assert!(sandbox.inject("pay/refundquery", Fault::StaleTimestamp, 1).is_err());
    assert!(sandbox.inject("secapi/pay/profitsharingfinish", Fault::UnknownSerial, 1).is_err());
}

#[tokio::test]
async fn other_faults_and_limits_hold_on_v2() {
    let (config, _) = common::config();
    let sandbox = Sandbox::start(config.qps("pay/profitsharingreturnquery", 2)).await.unwrap();
    let merchant = sandbox.v2_merchant().unwrap();
    let call = merchant.call(refund_page(None));

    sandbox.inject("pay/refundquery", Fault::ServerError, 1).unwrap();
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    let err = call.parse(&raw.http()).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::SystemError), "signed, then a failure: {err:?}");
    assert!(err.is_retryable());

    sandbox.inject("pay/refundquery", Fault::TooManyRequests, 1).unwrap();
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    assert_eq!(call.parse(&raw.http()).unwrap_err().as_api().unwrap().code(), Some(&ErrorCode::FrequencyLimited));

    sandbox.inject("pay/refundquery", Fault::NotJson, 1).unwrap();
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    assert!(matches!(call.parse(&raw.http()), Err(Error::Malformed(_))), "not XML");

    sandbox.inject("pay/refundquery", Fault::Truncate, 1).unwrap();
    let raw = common::http(&sandbox, &raw_request(&call)).await;
    assert!(raw.body.len() < raw.content_length.unwrap(), "cut short");

    sandbox.inject("pay/refundquery", Fault::Drop, 1).unwrap();
    let received = common::exchange(&sandbox, Via::Http, &raw_request(&call)).await;
    assert!(received.bytes.is_empty());
    assert!(call.parse(&common::http(&sandbox, &raw_request(&call)).await.http()).is_ok());

    // The v2 return query's own limit (30 per merchant by default; 2 here).
    let call = merchant.call(return_query());
    let mut limited = 0;
    for _ in 0..3 {
        let raw = common::http(&sandbox, &raw_request(&call)).await;
        if let Err(err) = call.parse(&raw.http()) {
            assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::FrequencyLimited));
            limited += 1;
        }
    }
    assert_eq!(limited, 1);
    assert_eq!(sandbox.info()["qps"]["pay/profitsharingreturnquery"], 2);
    assert_eq!(sandbox.info()["qps"]["secapi/pay/profitsharingfinish"], 60);
}

#[tokio::test]
async fn the_v2_material_is_exposed_and_kept_in_a_key_dir() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    let (config, _) = common::config();
    let first = Sandbox::start(config.key_dir(&path).appid("wx2421b1c4370ec43b")).await.unwrap();
    let v2 = first.v2_keys();
    assert_eq!(v2.appid(), "wx2421b1c4370ec43b");
    assert_eq!(first.info()["appid"], "wx2421b1c4370ec43b");
    let files = v2.files().clone();
    assert_eq!(files.apiv2_key.as_deref(), Some(path.join("apiv2_key").as_path()));
    assert_eq!(files.merchant_cert.as_deref(), Some(path.join("merchant_cert.pem").as_path()));
    let key_dir = first.key_dir().unwrap();
    assert_eq!(key_dir.files.apiv2_key, files.apiv2_key);
    assert_eq!(key_dir.files.merchant_cert, files.merchant_cert);
    assert_eq!(std::fs::read_to_string(path.join("merchant_cert.pem")).unwrap(), v2.merchant_cert_pem());
    assert_eq!(std::fs::read_to_string(path.join("apiv2_key")).unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |name: &str| std::fs::metadata(path.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("apiv2_key"), 0o600);
        assert_eq!(mode("merchant_cert.pem") & 0o022, 0);
    }
    // Debug shows no key.
    let apiv2_text = std::fs::read_to_string(path.join("apiv2_key")).unwrap();
    assert!(!format!("{v2:?} {first:?}").contains(&apiv2_text));

    let probe = {
        let mut f = Fields::new();
        f.insert("probe", "1");
        f
    };
    let signature = v2::sign(&probe, SignType::HmacSha256, v2.apiv2_key());
    let cert = v2.merchant_cert_pem().to_owned();
    first.shutdown().await;

    let (config, _) = common::config();
    let second = Sandbox::start(config.key_dir(&path).appid("wx2421b1c4370ec43b")).await.unwrap();
    assert_eq!(v2::sign(&probe, SignType::HmacSha256, second.v2_keys().apiv2_key()), signature, "the same key");
    assert_eq!(second.v2_keys().merchant_cert_pem(), cert);
    assert!(second.v2_keys().cert_key_is_merchant_key());
    // A client configured from the first start's files works against the second.
    let key = v2::ApiV2Key::new(apiv2_text.as_bytes()).unwrap();
    let merchant = Merchant::new(
        Mchid::new(wxpay_sandbox::DEFAULT_MCHID).unwrap(),
        AppId::new("wx2421b1c4370ec43b").unwrap(),
        key,
    );
    let merchant_key = std::fs::read_to_string(path.join("merchant_private_key.pem")).unwrap();
    let identity = ClientIdentity::from_pem(cert.as_bytes(), merchant_key.as_bytes()).unwrap();
    let call = merchant.call(finish("P1"));
    let raw = Raw::parse(exchange_tls(&second, Some(identity), &raw_request(&call)).await);
    assert_eq!(call.parse(&raw.http()).unwrap().out_order_no, "P1");
    second.shutdown().await;
}

/// The v2 paths are the spec's: one route per `OperationSpec`.
#[test]
fn the_paths_are_the_protocols() {
    let paths: Vec<&str> = v2::OPERATIONS.iter().map(|spec| spec.path).collect();
    assert_eq!(paths, ["/pay/profitsharingreturnquery", "/secapi/pay/profitsharingfinish", "/pay/refundquery"]);
    assert!(<cloudpay::FinishRequest as V2Operation>::V2_SPEC.needs_client_certificate());
}
