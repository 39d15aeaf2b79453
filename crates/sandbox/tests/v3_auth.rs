//! API v3 authentication: every cause of `401 SIGN_ERROR`, sent as raw HTTPS requests whose
//! `Authorization` headers are written by hand, and the properties of a 401 answer (unsigned,
//! with a `Request-ID`).

mod common;

use common::{ORDER_QUERY, Raw, Req, T0, authorization, authorization_fields, https, start};
use wxpay_protocol::security::{MerchantCredentials, RsaPrivateKey, Verification};
use wxpay_sandbox::Sandbox;

/// A 401 `SIGN_ERROR` whose message contains `needle`, unsigned, with a `Request-ID`.
fn assert_401(raw: &Raw, needle: &str) {
    raw.assert_v3_error(401, "SIGN_ERROR", needle);
    assert!(!raw.has_signature_headers(), "401 answers are not signed: {:?}", raw.headers);
    let request_id = raw.header("Request-ID").expect("a Request-ID");
    assert!(request_id.starts_with("SBX"), "{request_id}");
    assert_eq!(raw.header("Content-Type"), Some("application/json"));
}

/// Sends the fixture's order query with `authorization` (or none) and the other headers right.
async fn with_authorization(sandbox: &Sandbox, authorization: Option<&str>) -> Raw {
    let mut req = Req::v3(ORDER_QUERY, T0).without("Authorization");
    if let Some(value) = authorization {
        req = req.header("Authorization", value);
    }
    https(sandbox, &req).await
}

#[tokio::test]
async fn a_signed_request_is_answered_and_the_answer_verifies() {
    let (sandbox, _) = start().await;
    let raw = https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    assert!(matches!(raw.verify(&sandbox, T0), Ok(Verification::Signed { .. })));
    assert_eq!(raw.json()["out_order_no"], "P20150806125346");
}

#[tokio::test]
async fn missing_authorization() {
    let (sandbox, _) = start().await;
    assert_401(&with_authorization(&sandbox, None).await, "missing header Authorization");
}

#[tokio::test]
async fn wrong_scheme() {
    let (sandbox, _) = start().await;
    let good = Req::v3(ORDER_QUERY, T0).get_header("Authorization").unwrap().to_owned();
    let fields = good.strip_prefix("WECHATPAY2-SHA256-RSA2048 ").unwrap();
    for bad in [
        format!("WECHATPAY2-SHA256-RSA4096 {fields}"),
        format!("wechatpay2-sha256-rsa2048 {fields}"),
        format!("WECHATPAY2-SHA256-RSA2048  {fields}"), // two spaces
        format!("WECHATPAY2-SHA256-RSA2048{fields}"),
        format!("Bearer {fields}"),
        fields.to_owned(),
    ] {
        let raw = with_authorization(&sandbox, Some(&bad)).await;
        assert_401(&raw, "malformed Authorization");
    }
    // The same fields after the right scheme are accepted: the scheme is what was wrong.
    assert_eq!(with_authorization(&sandbox, Some(&good)).await.status, 200);
}

#[tokio::test]
async fn each_of_the_five_fields_missing() {
    let (sandbox, _) = start().await;
    let a = authorization_fields(ORDER_QUERY, T0);
    let timestamp = a.timestamp.to_string();
    let all = [
        ("mchid", a.mchid.as_str()),
        ("nonce_str", a.nonce_str.as_str()),
        ("signature", a.signature.as_str()),
        ("timestamp", timestamp.as_str()),
        ("serial_no", a.serial_no.as_str()),
    ];
    assert_eq!(with_authorization(&sandbox, Some(&authorization(&all))).await.status, 200);
    for (i, (name, _)) in all.iter().enumerate() {
        let mut fields = all.to_vec();
        fields.remove(i);
        let raw = with_authorization(&sandbox, Some(&authorization(&fields))).await;
        assert_401(&raw, &format!("{name} is missing"));
    }
    // An empty nonce counts as missing; a field given twice or an unknown field is malformed.
    let mut empty_nonce = all.to_vec();
    empty_nonce[1].1 = "";
    assert_401(&with_authorization(&sandbox, Some(&authorization(&empty_nonce))).await, "nonce_str is missing");
    let mut twice = all.to_vec();
    twice.push(("mchid", a.mchid.as_str()));
    assert_401(&with_authorization(&sandbox, Some(&authorization(&twice))).await, "given twice");
    let mut unknown = all.to_vec();
    unknown.push(("appid", "wx1"));
    assert_401(&with_authorization(&sandbox, Some(&authorization(&unknown))).await, "unknown field");
}

/// Credentials with the sandbox's merchant key but another mchid or serial.
fn credentials_as(mchid: &str, serial: &str) -> MerchantCredentials {
    let files = tempfile::tempdir().unwrap();
    let written = common::keys().write_dir(files.path(), None).unwrap();
    let pem = std::fs::read_to_string(written.merchant_private_key.unwrap()).unwrap();
    MerchantCredentials::new(mchid, serial, RsaPrivateKey::from_pkcs8_pem(&pem).unwrap()).unwrap()
}

fn signed_by(credentials: &MerchantCredentials, target: &str, timestamp: i64) -> Req {
    let mut req = Req::get(target);
    for (name, value) in common::signed_headers(credentials, "GET", target, timestamp, None) {
        req = req.header(&name, &value);
    }
    req
}

#[tokio::test]
async fn wrong_mchid() {
    let (sandbox, _) = start().await;
    let keys = sandbox.keys();
    let other = credentials_as("1900000001", &keys.merchant_serial);
    assert_401(&https(&sandbox, &signed_by(&other, ORDER_QUERY, T0)).await, "Authorization is for mchid 1900000001");
    // The same key under the right mchid passes.
    let same = credentials_as(&keys.mchid, &keys.merchant_serial);
    assert_eq!(https(&sandbox, &signed_by(&same, ORDER_QUERY, T0)).await.status, 200);
}

#[tokio::test]
async fn unknown_merchant_serial() {
    let (sandbox, _) = start().await;
    let other = credentials_as(&sandbox.keys().mchid, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1");
    let raw = https(&sandbox, &signed_by(&other, ORDER_QUERY, T0)).await;
    assert_401(&raw, "no key for serial 5157F09EFDC096DE15EBE81A47057A7232F1B8E1");
}

#[tokio::test]
async fn timestamps_more_than_300_seconds_away() {
    let (config, clock) = common::config();
    let sandbox = Sandbox::start(config).await.unwrap();
    let now = clock.now();
    assert_401(&https(&sandbox, &Req::v3(ORDER_QUERY, now - 301)).await, "is 301 s old");
    assert_401(&https(&sandbox, &Req::v3(ORDER_QUERY, now + 301)).await, "is 301 s in the future");
    // 300 s either way is still accepted.
    assert_eq!(https(&sandbox, &Req::v3(ORDER_QUERY, now - 300)).await.status, 200);
    assert_eq!(https(&sandbox, &Req::v3(ORDER_QUERY, now + 300)).await.status, 200);
    // The sandbox reads its own (pinned) clock: once it moves on, the same timestamp is stale.
    clock.advance(1000);
    assert_401(&https(&sandbox, &Req::v3(ORDER_QUERY, now)).await, "is 1000 s old");
    assert_eq!(https(&sandbox, &Req::v3(ORDER_QUERY, now + 1000)).await.status, 200);
}

#[tokio::test]
async fn bad_signature() {
    let (sandbox, _) = start().await;
    let a = authorization_fields(ORDER_QUERY, T0);
    // A valid signature, of another request.
    let other = authorization_fields("/v3/certificates", T0);
    let timestamp = a.timestamp.to_string();
    let header = authorization(&[
        ("mchid", &a.mchid),
        ("nonce_str", &a.nonce_str),
        ("signature", &other.signature),
        ("timestamp", &timestamp),
        ("serial_no", &a.serial_no),
    ]);
    let raw = with_authorization(&sandbox, Some(&header)).await;
    assert_401(&raw, &format!("bad signature for serial {}", a.serial_no));
}

#[tokio::test]
async fn a_signature_over_another_target() {
    let (sandbox, _) = start().await;
    // Extra query parameters are allowed; the signature must cover the target exactly as sent.
    let signed = format!("{ORDER_QUERY}&a=1");
    let sent = format!("{ORDER_QUERY}&a=2");
    let ok = https(&sandbox, &Req::v3(&signed, T0)).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let header = Req::v3(&signed, T0).get_header("Authorization").unwrap().to_owned();
    let raw = https(&sandbox, &Req::v3(&sent, T0).set("Authorization", &header)).await;
    assert_401(&raw, "bad signature");
    // Percent-encoding counts too: `%7C` and `|` are different targets.
    let encoded = "/v3/ecommerce/profitsharing/orders?sub_mchid=1900000109&transaction_id=4208450740201411110007820472&out_order_no=P%7C1";
    let header = Req::v3(encoded, T0).get_header("Authorization").unwrap().to_owned();
    let raw = https(&sandbox, &Req::v3(&encoded.replace("%7C", "%7c"), T0).set("Authorization", &header)).await;
    assert_401(&raw, "bad signature");
}

#[tokio::test]
async fn a_signature_that_is_not_base64() {
    let (sandbox, _) = start().await;
    let a = authorization_fields(ORDER_QUERY, T0);
    let timestamp = a.timestamp.to_string();
    let header = authorization(&[
        ("mchid", &a.mchid),
        ("nonce_str", &a.nonce_str),
        ("signature", "not*base64!"),
        ("timestamp", &timestamp),
        ("serial_no", &a.serial_no),
    ]);
    assert_401(&with_authorization(&sandbox, Some(&header)).await, "not valid base64");
}

#[tokio::test]
async fn a_timestamp_that_is_not_a_number() {
    let (sandbox, _) = start().await;
    let a = authorization_fields(ORDER_QUERY, T0);
    let header = authorization(&[
        ("mchid", &a.mchid),
        ("nonce_str", &a.nonce_str),
        ("signature", &a.signature),
        ("timestamp", "-1"),
        ("serial_no", &a.serial_no),
    ]);
    assert_401(&with_authorization(&sandbox, Some(&header)).await, "timestamp is not Unix seconds");
}

#[tokio::test]
async fn every_v3_path_checks_the_signature_first() {
    let (sandbox, _) = start().await;
    for target in [ORDER_QUERY, common::RETURN_QUERY, "/v3/certificates"] {
        // Even a request that would be a 400 (no Accept) or a 404 is refused as unsigned first.
        let raw = https(&sandbox, &Req::get(target)).await;
        assert_401(&raw, "missing header Authorization");
        let unknown = target.replace("P20150806125346", "P0");
        let raw = https(&sandbox, &Req::v3(&unknown, T0).without("Authorization")).await;
        assert_401(&raw, "missing header Authorization");
    }
    // Over plain HTTP the same rules apply.
    let raw = common::http(&sandbox, &Req::get(ORDER_QUERY)).await;
    assert_401(&raw, "missing header Authorization");
    assert_eq!(common::http(&sandbox, &Req::v3(ORDER_QUERY, T0)).await.status, 200);
}

#[tokio::test]
async fn request_ids_differ() {
    let (sandbox, _) = start().await;
    let a = with_authorization(&sandbox, None).await;
    let b = with_authorization(&sandbox, None).await;
    assert_ne!(a.header("Request-ID"), b.header("Request-ID"));
    assert!(a.header("Server").unwrap().starts_with("wxpay-sandbox/"));
}

#[tokio::test]
async fn replays_are_not_detected() {
    // WeChat Pay may refuse a nonce it has seen; the sandbox keeps no nonce history, so the
    // same signed request is answered each time (docs/sandbox.md lists this).
    let (sandbox, _) = start().await;
    let req = Req::v3(ORDER_QUERY, T0);
    assert_eq!(https(&sandbox, &req).await.status, 200);
    assert_eq!(https(&sandbox, &req).await.status, 200);
}
