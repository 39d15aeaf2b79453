//! API v3 answers to authenticated requests: 400 for missing headers and each invalid
//! parameter, 404 for unknown orders, signed 200s parsed by the protocol's own types, the
//! choice of signing key by `Wechatpay-Serial`, and `/v3/certificates`.

mod common;

use common::{ORDER_QUERY, RETURN_QUERY, Raw, Req, T0, https, start};
use wxpay_protocol::security::{CertificatesRequest, Verification};
use wxpay_protocol::{Operation, Timestamp, v3};
use wxpay_sandbox::{KeyFileArgs, Sandbox, SandboxKeys};

const ORDERS: &str = "/v3/ecommerce/profitsharing/orders";
const RETURNS: &str = "/v3/ecommerce/profitsharing/returnorders";

/// The answer verifies with the sandbox's keys, signed by `serial`.
fn assert_signed_by(raw: &Raw, sandbox: &Sandbox, serial: &str) {
    assert_eq!(raw.verify(sandbox, T0), Ok(Verification::Signed { serial: serial.to_owned() }));
    assert_eq!(raw.header("Wechatpay-Serial"), Some(serial));
    assert_eq!(raw.header("Wechatpay-Signature-Type"), Some("WECHATPAY2-SHA256-RSA2048"));
    assert_eq!(raw.header("Wechatpay-Timestamp"), Some(T0.to_string().as_str()));
    let nonce = raw.header("Wechatpay-Nonce").unwrap();
    assert!(nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_alphanumeric()), "{nonce}");
    assert!(raw.header("Request-ID").is_some());
}

fn platform_serial(sandbox: &Sandbox) -> String {
    sandbox.keys().platform.as_ref().unwrap().serial.clone()
}

#[tokio::test]
async fn order_query_answers_the_fixture_signed() {
    let (sandbox, _) = start().await;
    // The fixture is PROCESSING for its first query; the second is final.
    https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await;
    let raw = https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await;
    assert_eq!(raw.status, 200);
    assert_signed_by(&raw, &sandbox, &platform_serial(&sandbox));
    let request = v3::OrderQueryRequest::from_query(ORDER_QUERY.split_once('?').unwrap().1).unwrap();
    let answer = raw.parse_v3(&request, &sandbox, T0).unwrap();
    assert_eq!(answer.status, v3::OrderStatus::Finished);
    assert_eq!(answer.order_id, "3008450740201411110007820472");
    assert_eq!(answer.finish_amount.map(|f| f.get()), Some(100));
    let receivers = answer.receivers.unwrap();
    assert_eq!(receivers.len(), 1);
    assert_eq!(receivers[0].receiver_mchid.as_deref(), Some("1900000110"));
    assert_eq!(receivers[0].result, v3::ReceiverResult::Success);
    assert_eq!(receivers[0].finish_time.as_ref().map(Timestamp::original), Some("2015-05-20T13:29:35.120+08:00"));
    // The fixture's detail_id and its made-up fields reach the client, at their level.
    assert_eq!(receivers[0].detail_id.as_deref(), Some("3601111111111111111111"));
    assert!(receivers[0].extra.contains_key("x_future_field"));
    assert_eq!(
        answer.extra.get("x_future_field").map(|v| v["note"].clone()),
        Some("an order field no type knows".into())
    );
    let body: serde_json::Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(body["receivers"][0]["detail_id"], "3601111111111111111111");
    assert_eq!(body["x_future_field"]["since"], "sandbox");
}

#[tokio::test]
async fn return_query_by_either_order_number() {
    let (sandbox, _) = start().await;
    let by_order_id =
        format!("{RETURNS}?sub_mchid=1900000109&order_id=3008450740201411110007820472&out_return_no=R20190516001");
    for target in [RETURN_QUERY, by_order_id.as_str()] {
        let raw = https(&sandbox, &Req::v3(target, T0)).await;
        assert_eq!(raw.status, 200, "{}", raw.text());
        assert_signed_by(&raw, &sandbox, &platform_serial(&sandbox));
        let answer = raw.parse_verified(&sandbox, T0, v3::ReturnQueryResponse::parse).unwrap();
        assert_eq!(answer.out_return_no, "R20190516001");
        assert_eq!(answer.amount.get(), 10);
        assert_eq!(answer.return_mchid, "86693852");
    }
}

#[tokio::test]
async fn accept_and_user_agent_are_required() {
    let (sandbox, _) = start().await;
    let signed = Req::v3(ORDER_QUERY, T0);
    let serial = platform_serial(&sandbox);
    for (req, needle) in [
        (signed.clone().without("Accept"), "Accept: application/json is required"),
        (signed.clone().set("Accept", "text/html"), "Accept: application/json is required"),
        (signed.clone().set("Accept", ""), "Accept: application/json is required"),
        (signed.clone().without("User-Agent"), "User-Agent is required"),
        (signed.clone().set("User-Agent", " "), "User-Agent is required"),
    ] {
        let raw = https(&sandbox, &req).await;
        raw.assert_v3_error(400, "PARAM_ERROR", needle);
        // Errors to authenticated requests are signed too.
        assert_signed_by(&raw, &sandbox, &serial);
    }
    for accept in ["*/*", "application/*", "text/html, application/json;q=0.9"] {
        let raw = https(&sandbox, &signed.clone().set("Accept", accept)).await;
        assert_eq!(raw.status, 200, "Accept: {accept}: {}", raw.text());
    }
}

#[tokio::test]
async fn each_invalid_parameter_is_a_400_naming_the_field() {
    let (sandbox, _) = start().await;
    let long = "P".repeat(65);
    let cases = [
        // order query
        (
            format!("{ORDERS}?sub_mchid=1900000109&transaction_id=4208450740201411110007820472&out_order_no={long}"),
            "`out_order_no`: must be at most 64 bytes",
        ),
        (
            format!(
                "{ORDERS}?sub_mchid=1900000109&transaction_id=4208450740201411110007820472&out_order_no=P%20150806"
            ),
            "`out_order_no`",
        ),
        (
            format!(
                "{ORDERS}?sub_mchid=1900000109&transaction_id=4208450740201411110007820472&out_order_no=P%E5%88%86"
            ),
            "`out_order_no`",
        ),
        (format!("{ORDERS}?transaction_id=4208450740201411110007820472&out_order_no=P20150806125346"), "`sub_mchid`"),
        (format!("{ORDERS}?sub_mchid=1900000109&out_order_no=P20150806125346"), "`transaction_id`"),
        (format!("{ORDERS}?sub_mchid=1900000109&transaction_id=4208450740201411110007820472"), "`out_order_no`"),
        (
            format!(
                "{ORDERS}?sub_mchid={}&transaction_id=4208450740201411110007820472&out_order_no=P1",
                "1".repeat(33)
            ),
            "`sub_mchid`: must be at most 32 bytes",
        ),
        (
            format!("{ORDERS}?sub_mchid=1900000109&transaction_id={}&out_order_no=P1", "4".repeat(33)),
            "`transaction_id`: must be at most 32 bytes",
        ),
        (
            format!(
                "{ORDERS}?sub_mchid=1900000109&sub_mchid=1900000109&transaction_id=4208450740201411110007820472&out_order_no=P1"
            ),
            "`sub_mchid`",
        ),
        (
            format!("{ORDERS}?sub_mchid=1900000109&transaction_id=4208450740201411110007820472&out_order_no="),
            "`out_order_no`",
        ),
        // return query
        (
            format!(
                "{RETURNS}?sub_mchid=1900000109&order_id=3008450740201411110007820472&out_order_no=P20150806125346&out_return_no=R20190516001"
            ),
            "`order_id|out_order_no`",
        ),
        (format!("{RETURNS}?sub_mchid=1900000109&out_return_no=R20190516001"), "`order_id|out_order_no`"),
        (
            format!("{RETURNS}?sub_mchid=1900000109&out_order_no=P20150806125346&out_return_no={}", "R".repeat(65)),
            "`out_return_no`: must be at most 64 bytes",
        ),
        (format!("{RETURNS}?sub_mchid=1900000109&out_order_no=P20150806125346&out_return_no=R%23"), "`out_return_no`"),
        (format!("{RETURNS}?sub_mchid=1900000109&out_order_no=P20150806125346"), "`out_return_no`"),
        (format!("{RETURNS}?out_order_no=P20150806125346&out_return_no=R20190516001"), "`sub_mchid`"),
    ];
    for (target, needle) in cases {
        let raw = https(&sandbox, &Req::v3(&target, T0)).await;
        assert_eq!(raw.status, 400, "{target}: {}", raw.text());
        raw.assert_v3_error(400, "PARAM_ERROR", needle);
        assert!(raw.verify(&sandbox, T0).is_ok(), "{target}");
        // The protocol reads the answer as the API error it is.
        let err = raw.parse_verified(&sandbox, T0, v3::OrderQueryResponse::parse).unwrap_err();
        let api = err.as_api().expect("an API error");
        assert_eq!(api.code().map(|c| c.as_str()), Some("PARAM_ERROR"));
        assert_eq!(api.request_id(), raw.header("Request-ID"));
    }
}

#[tokio::test]
async fn unknown_orders_are_404() {
    let (sandbox, _) = start().await;
    for target in [
        ORDER_QUERY.replace("P20150806125346", "P20150806125399"),
        ORDER_QUERY.replace("4208450740201411110007820472", "4208450740201411110007820499"),
        ORDER_QUERY.replace("1900000109", "1900000199"),
        RETURN_QUERY.replace("R20190516001", "R20190516099"),
        RETURN_QUERY.replace("P20150806125346", "P20150806125399"),
        RETURN_QUERY.replace("sub_mchid=1900000109", "sub_mchid=1900000199"),
    ] {
        let raw = https(&sandbox, &Req::v3(&target, T0)).await;
        raw.assert_v3_error(404, "RESOURCE_NOT_EXISTS", "记录不存在");
        assert_signed_by(&raw, &sandbox, &platform_serial(&sandbox));
    }
}

#[tokio::test]
async fn other_paths_and_methods() {
    let (sandbox, _) = start().await;
    let raw = https(&sandbox, &Req::v3("/v3/profitsharing/orders?x=1", T0)).await;
    raw.assert_v3_error(404, "RESOURCE_NOT_EXISTS", "no such path");
    assert!(!raw.has_signature_headers());
    let raw = https(&sandbox, &Req::new("POST", ORDER_QUERY).body("{}")).await;
    raw.assert_v3_error(405, "INVALID_REQUEST", "only GET");
    assert!(!raw.has_signature_headers());
    // CloudPay paths answer only POST.
    let raw = common::http(&sandbox, &Req::get("/_/pay/queryrefund")).await;
    assert_eq!(raw.status, 405);
}

#[tokio::test]
async fn the_signing_key_follows_wechatpay_serial() {
    let (sandbox, _) = start().await;
    let public = sandbox.keys().public_key.as_ref().unwrap().id.as_str().to_owned();
    let platform = platform_serial(&sandbox);
    let lower = platform.to_ascii_lowercase();
    for (asked, expected) in [
        (Some(public.as_str()), public.as_str()),
        (Some(platform.as_str()), platform.as_str()),
        (Some(lower.as_str()), platform.as_str()),
        (None, platform.as_str()),
        (Some("PUB_KEY_ID_0114232134912410000000000000"), platform.as_str()),
        (Some("5157F09EFDC096DE15EBE81A47057A7232F1B8E1"), platform.as_str()),
    ] {
        let raw = https(&sandbox, &Req::v3_with_serial(ORDER_QUERY, T0, asked)).await;
        assert_eq!(raw.status, 200);
        assert_signed_by(&raw, &sandbox, expected);
        // Error answers are signed with the same choice.
        let raw = https(&sandbox, &Req::v3_with_serial(&ORDER_QUERY.replace("P2015", "X2015"), T0, asked)).await;
        assert_eq!(raw.status, 404);
        assert_signed_by(&raw, &sandbox, expected);
    }
}

/// Keys read back from files: the merchant key and the WeChat Pay public-key pair only.
fn public_key_only(dir: &std::path::Path) -> SandboxKeys {
    let keys = common::keys();
    let files = keys.write_dir(dir, None).unwrap();
    SandboxKeys::from_files(&KeyFileArgs {
        mchid: keys.mchid.clone(),
        merchant_serial: keys.merchant_serial.clone(),
        merchant_public_key: files.merchant_public_key.unwrap(),
        platform_private_key: files.wechatpay_private_key,
        public_key_id: Some(keys.public_key.as_ref().unwrap().id.as_str().to_owned()),
        platform_cert: None,
        platform_cert_key: None,
        apiv3_key_file: files.apiv3_key.unwrap(),
    })
    .unwrap()
}

#[tokio::test]
async fn without_a_platform_certificate_answers_are_signed_with_the_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = public_key_only(dir.path());
    assert!(keys.platform.is_none());
    let public = keys.public_key.as_ref().unwrap().id.as_str().to_owned();
    let clock = common::TestClock::new(T0);
    let sandbox = Sandbox::start(wxpay_sandbox::SandboxConfig::new().keys(keys).clock(clock.clock())).await.unwrap();
    for asked in [None, Some(public.as_str()), Some(platform_serial_of_shared().as_str())] {
        let raw = https(&sandbox, &Req::v3_with_serial(ORDER_QUERY, T0, asked)).await;
        assert_eq!(raw.status, 200, "{}", raw.text());
        assert_signed_by(&raw, &sandbox, &public);
    }
    // The certificate download lists nothing, and is signed with the public key.
    let raw = https(&sandbox, &Req::v3("/v3/certificates", T0)).await;
    assert_eq!(raw.status, 200);
    assert_signed_by(&raw, &sandbox, &public);
    assert_eq!(raw.json(), serde_json::json!({ "data": [] }));
}

fn platform_serial_of_shared() -> String {
    common::keys().platform.unwrap().serial
}

#[tokio::test]
async fn certificates_decrypt_with_the_apiv3_key() {
    let (sandbox, _) = start().await;
    let raw = https(&sandbox, &Req::v3("/v3/certificates", T0)).await;
    assert_eq!(raw.status, 200);
    let platform = sandbox.keys().platform.as_ref().unwrap();
    assert_signed_by(&raw, &sandbox, &platform.serial);
    let answer = raw.parse_v3(&CertificatesRequest, &sandbox, T0).unwrap();
    assert_eq!(answer.data.len(), 1);
    let entry = &answer.data[0];
    assert_eq!(entry.serial_no, platform.serial);
    assert_eq!(entry.encrypt_certificate.algorithm, "AEAD_AES_256_GCM");
    assert_eq!(entry.encrypt_certificate.associated_data, "certificate");
    assert_eq!(entry.encrypt_certificate.nonce.len(), 12);
    // Validity in China time, RFC 3339.
    assert!(entry.effective_time.ends_with("+08:00"), "{}", entry.effective_time);
    let certificates = answer.decrypt(sandbox.keys().apiv3_key()).unwrap();
    assert_eq!(certificates.len(), 1);
    let certificate = &certificates[0];
    assert_eq!(certificate.serial, platform.serial);
    assert_eq!(certificate.pem, platform.certificate_pem);
    assert_eq!(certificate.effective_time.unix_timestamp(), platform.not_before.unix_timestamp());
    assert_eq!(certificate.expire_time.unix_timestamp(), platform.not_after.unix_timestamp());
    assert_eq!(platform.not_before.unix_timestamp(), T0 - 86_400);
    // The decrypted key verifies the download's own signature.
    let mut set = wxpay_protocol::security::KeySet::new();
    set.insert(certificate.key.clone());
    assert!(wxpay_protocol::security::verify_response(&raw.http(), T0, &set).is_ok());
    // Another APIv3 key does not decrypt it.
    let wrong = wxpay_protocol::security::Apiv3Key::new(&[b'k'; 32]).unwrap();
    assert!(answer.decrypt(&wrong).is_err());
    // Each download uses a fresh nonce.
    let again =
        https(&sandbox, &Req::v3("/v3/certificates", T0)).await.parse_v3(&CertificatesRequest, &sandbox, T0).unwrap();
    assert_ne!(again.data[0].encrypt_certificate.nonce, entry.encrypt_certificate.nonce);
}

#[tokio::test]
async fn a_rotated_platform_certificate_is_listed_beside_the_old_one_and_signs() {
    let (sandbox, _) = start().await;
    let old = platform_serial(&sandbox);
    let new = sandbox.rotate_platform_certificate().unwrap();
    assert_ne!(new, old);
    let raw = https(&sandbox, &Req::v3("/v3/certificates", T0)).await;
    // Signed by the new certificate, which only the download itself carries: read it unverified.
    let http = raw.http();
    let listed = CertificatesRequest.parse(wxpay_protocol::security::danger::inspect_unverified(&http)).unwrap();
    let certificates = listed.decrypt(sandbox.keys().apiv3_key()).unwrap();
    let serials: Vec<&str> = certificates.iter().map(|c| c.serial.as_str()).collect();
    assert_eq!(serials, [old.as_str(), new.as_str()]);
    // What a client knows after downloading: both certificates and the public key.
    let mut keys = sandbox.keys().wechatpay_keys().unwrap();
    for certificate in &certificates {
        keys.insert(certificate.key.clone());
    }
    let public = sandbox.keys().public_key.as_ref().unwrap().id.as_str().to_owned();
    for (asked, expected) in [
        (None, new.as_str()),
        (Some(old.as_str()), new.as_str()),
        (Some(new.as_str()), new.as_str()),
        (Some(public.as_str()), public.as_str()),
    ] {
        let raw = https(&sandbox, &Req::v3_with_serial(ORDER_QUERY, T0, asked)).await;
        assert_eq!(raw.header("Wechatpay-Serial"), Some(expected), "asked {asked:?}");
        let http = raw.http();
        let verified = wxpay_protocol::security::verify_response(&http, T0, &keys).map(|v| v.verification().clone());
        assert_eq!(verified, Ok(Verification::Signed { serial: expected.to_owned() }));
    }
}

#[tokio::test]
async fn stats_count_connections_handshakes_and_requests() {
    let (sandbox, _) = start().await;
    https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await;
    https(&sandbox, &Req::get(ORDER_QUERY)).await;
    common::http(&sandbox, &Req::get("/_sandbox/info")).await;
    let raw = common::http(&sandbox, &Req::get("/_sandbox/stats")).await;
    assert_eq!(raw.status, 200);
    // The stats request itself is counted.
    // The order query has no limit by default: no limited request was admitted or refused.
    assert_eq!(
        raw.json(),
        serde_json::json!({"connections": 4, "tls_handshakes": 2, "requests": 4, "limited_admitted": 0, "frequency_limited": 0})
    );
    let stats = sandbox.stats();
    assert_eq!((stats.connections, stats.tls_handshakes, stats.requests), (4, 2, 4));
}
