//! The three CloudPay operations on WeChat Pay's v2 wire (issue 13), through both transports
//! against the sandbox: signed XML both ways, mutual TLS for the finish under `/secapi/`,
//! refused signatures not retried, unsigned FAIL answers as API errors, paging through the
//! order with 36 refunds.

use futures_util::StreamExt;
use wxpay_protocol::client::ClientConfig;
use wxpay_protocol::cloudpay::ReturnResult;
use wxpay_protocol::security::{Mchid, SigningError, VerificationError};
use wxpay_protocol::v2::{ApiV2Key, AppId, Merchant, SignType};
use wxpay_protocol::{BaseUrl, Error};
use wxpay_sandbox::{Fault, Sandbox, SandboxConfig};
use wxpay_tests::*;

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::new()).await.expect("the sandbox starts")
}

/// The client configuration for the v2 wire over the sandbox's HTTPS listener, presenting the
/// sandbox's merchant certificate as the TLS client certificate.
fn v2_config(sandbox: &Sandbox) -> ClientConfig {
    client_config(sandbox)
        .v2_base(BaseUrl::parse(&sandbox.https_url().unwrap()).unwrap())
        .unwrap()
        .client_identity(sandbox.client_identity().expect("the merchant certificate"))
}

/// The same without a client certificate.
fn v2_config_without_identity(sandbox: &Sandbox) -> ClientConfig {
    client_config(sandbox).v2_base(BaseUrl::parse(&sandbox.https_url().unwrap()).unwrap()).unwrap()
}

fn merchant(sandbox: &Sandbox) -> Merchant {
    sandbox.v2_merchant().expect("the sandbox's v2 merchant")
}

#[tokio::test]
async fn all_three_operations_over_v2_with_mutual_tls() {
    let sandbox = sandbox().await;
    let client = async_client_with(&sandbox, v2_config(&sandbox), |b| b);
    let m = merchant(&sandbox);

    assert_eq!(client.execute(m.call(return_query())).await.unwrap().result, ReturnResult::Processing);
    let settled = client.execute(m.call(return_query())).await.unwrap();
    assert_eq!((settled.result, settled.return_amount.get()), (ReturnResult::Success, 888));

    let finished = client.execute(m.call(finish("P2026V2FIN1"))).await.unwrap();
    assert_eq!(finished.out_order_no, "P2026V2FIN1");
    assert_eq!(finished.mch_id.as_deref(), Some(m.mch_id().as_str()), "the v2 answer names the merchant");
    assert!(finished.sign.as_deref().is_some_and(|s| s.len() == 64), "signed with HMAC-SHA256");
    // The same number again is the same finish; the sandbox's state is the CloudPay one.
    let again = client.execute(m.call(finish("P2026V2FIN1"))).await.unwrap();
    assert_eq!((again.order_id, again.out_order_no), (finished.order_id, finished.out_order_no));
    assert_ne!(again.nonce_str, finished.nonce_str, "each answer is signed over a fresh nonce");

    let md5 = m.call(refunds_of("1217752501201407033233368018")).with_sign_type(SignType::Md5).unwrap();
    let refunds = client.execute(md5).await.unwrap();
    assert_eq!(refunds.listed_refunds()[0].refund_recv_accout.as_deref(), Some("招商银行信用卡0403"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn paging_through_36_refunds_over_v2() {
    let sandbox = sandbox().await;
    let client = async_client_with(&sandbox, v2_config(&sandbox), |b| b);
    let query = merchant(&sandbox).call(refunds_of(ORDER_36));
    let refunds: Vec<_> = client.refunds(query).collect().await;
    assert_eq!(refunds.len(), 36);
    let mut ids: Vec<_> = refunds.into_iter().map(|r| r.unwrap().out_refund_no).collect();
    ids.dedup();
    assert_eq!(ids.len(), 36, "36 different refunds");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn finish_without_a_client_certificate_is_refused_before_sending() {
    let sandbox = sandbox().await;
    let client = async_client_with(&sandbox, v2_config_without_identity(&sandbox), |b| b);
    let before = sandbox.stats().requests;
    let err = client.execute(merchant(&sandbox).call(finish("P2026V2NOCERT"))).await.unwrap_err();
    assert!(matches!(&err, Error::Signing(SigningError::MissingClientCertificate(_))), "{err:?}");
    assert!(err.to_string().contains("TLS client certificate"), "{err}");
    assert_eq!(sandbox.stats().requests, before, "nothing was sent");
    // The queries need no certificate.
    assert!(client.execute(merchant(&sandbox).call(refunds_of(ORDER_36))).await.is_ok());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn tampered_or_missing_answer_signatures_are_refused_and_not_retried() {
    let sandbox = sandbox().await;
    let client = async_client_with(&sandbox, v2_config(&sandbox), |b| b);
    let m = merchant(&sandbox);
    for (fault, expected) in
        [(Fault::WrongSignature, VerificationError::BadSign), (Fault::MissingSignature, VerificationError::MissingSign)]
    {
        sandbox.inject("pay/refundquery", fault, 1).unwrap();
        let before = sandbox.stats().requests;
        let err = client.execute(m.call(refunds_of(ORDER_36))).await.unwrap_err();
        assert_eq!(verification(&err), Some(&expected), "{err:?}");
        assert_eq!(sandbox.stats().requests, before + 1, "sent once, not retried");
    }
    // The fault was used up: the next call is answered and verified.
    assert!(client.execute(m.call(refunds_of(ORDER_36))).await.is_ok());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn unsigned_fail_answers_are_api_errors() {
    let sandbox = sandbox().await;
    let client = async_client_with(&sandbox, v2_config(&sandbox), |b| b);
    let m = merchant(&sandbox);
    // A merchant with another API v2 key: the sandbox cannot verify the request and answers
    // FAIL, unsigned, as WeChat Pay does.
    let wrong_key = Merchant::new(
        m.mch_id().clone(),
        m.appid().clone(),
        ApiV2Key::new(b"ffffffffffffffffffffffffffffffff").unwrap(),
    );
    let before = sandbox.stats().requests;
    let err = client.execute(wrong_key.call(refunds_of(ORDER_36))).await.unwrap_err();
    let api = err.as_api().unwrap_or_else(|| panic!("an API error, got {err:?}"));
    assert_eq!(api.message(), Some("签名错误"));
    assert!(!err.is_retryable());
    assert_eq!(sandbox.stats().requests, before + 1);
    // Another app id: refused the same way, by name.
    let other_app = Merchant::new(
        Mchid::new(m.mch_id().as_str()).unwrap(),
        AppId::new("wx0000000000000000").unwrap(),
        m.key().clone(),
    );
    let err = client.execute(other_app.call(refunds_of(ORDER_36))).await.unwrap_err();
    assert!(err.as_api().is_some(), "{err:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn queries_go_over_plain_http_to_a_loopback_sandbox_too() {
    let sandbox = sandbox().await;
    let config = client_config(&sandbox).v2_base(BaseUrl::parse(&sandbox.http_url().unwrap()).unwrap()).unwrap();
    let client = async_client_with(&sandbox, config, |b| b);
    let answer = client.execute(merchant(&sandbox).call(refunds_of(ORDER_36))).await.unwrap();
    assert_eq!(answer.total_refund_count, Some(36));
    sandbox.shutdown().await;
}

#[test]
fn the_blocking_client_does_the_same() {
    let background = BackgroundSandbox::start(SandboxConfig::new());
    let sandbox = &background.sandbox;
    let client = blocking_client_with(sandbox, v2_config(sandbox), |b| b);
    let m = merchant(sandbox);

    assert_eq!(client.execute(m.call(return_query())).unwrap().result, ReturnResult::Processing);
    let finished = client.execute(m.call(finish("P2026V2BLK1"))).unwrap();
    assert_eq!(finished.out_order_no, "P2026V2BLK1");
    let refunds: Vec<_> = client.refunds(m.call(refunds_of(ORDER_36))).collect();
    assert_eq!(refunds.len(), 36);
    assert!(refunds.iter().all(Result::is_ok));

    sandbox.inject("secapi/pay/profitsharingfinish", Fault::WrongSignature, 1).unwrap();
    let before = sandbox.stats().requests;
    let err = client.execute(m.call(finish("P2026V2BLK1"))).unwrap_err();
    assert_eq!(verification(&err), Some(&VerificationError::BadSign));
    assert_eq!(sandbox.stats().requests, before + 1);

    let without = blocking_client_with(sandbox, v2_config_without_identity(sandbox), |b| b);
    let err = without.execute(m.call(finish("P2026V2BLK2"))).unwrap_err();
    assert!(matches!(err, Error::Signing(SigningError::MissingClientCertificate(_))), "{err:?}");
    background.stop();
}
