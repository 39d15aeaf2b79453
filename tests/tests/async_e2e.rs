//! The async client against the sandbox over HTTPS: all five operations, faults, paging,
//! certificate mode and rate limits.

use std::time::Duration;

use futures_util::StreamExt;
use wxpay_protocol::client::{KeyMode, RateLimiter, RetryPolicy};
use wxpay_protocol::cloudpay::{RefundStatus, ReturnResult};
use wxpay_protocol::security::{KeySet, VerificationError};
use wxpay_protocol::v3::{OrderStatus, ReturnResult as V3ReturnResult};
use wxpay_protocol::{Error, ErrorCode, TransportErrorKind};
use wxpay_sandbox::{Fault, Sandbox, SandboxConfig};
use wxpay_tests::*;

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::new()).await.expect("the sandbox starts")
}

#[tokio::test]
async fn all_five_operations_over_https() {
    let sandbox = sandbox().await;
    let client = async_client(&sandbox, |b| b);

    // The return-query example (docs/protocol.md §8.1): PROCESSING on the first query, then the
    // documented result.
    assert_eq!(client.execute(return_query()).await.unwrap().result, ReturnResult::Processing);
    let settled = client.execute(return_query()).await.unwrap();
    assert_eq!((settled.result, settled.return_amount.get()), (ReturnResult::Success, 888));
    assert_eq!(settled.finish_time.unwrap().original(), "20180608170132");

    let finished = client.execute(finish("P20261121FIN1")).await.unwrap();
    assert_eq!(
        (finished.order_id.as_str(), finished.out_order_no.as_str()),
        ("3008450740201411110007820472", "P20261121FIN1")
    );
    assert_eq!(finished.receiver.unwrap().account, "190001001");

    let refunds = client.execute(refunds_of("1217752501201407033233368018")).await.unwrap();
    assert_eq!(refunds.listed_refunds()[0].refund_recv_accout.as_deref(), Some("招商银行信用卡0403"));

    let order = client.execute(order_query()).await.unwrap();
    assert_eq!(order.status, OrderStatus::Processing);
    let order = client.execute(order_query()).await.unwrap();
    assert_eq!((order.status, order.order_id.as_str()), (OrderStatus::Finished, "3008450740201411110007820472"));

    let ret = client.execute(v3_return_query()).await.unwrap();
    assert_eq!(ret.result, V3ReturnResult::Processing);
    let ret = client.execute(v3_return_query()).await.unwrap();
    assert_eq!((ret.result, ret.amount.get()), (V3ReturnResult::Success, 10));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn finish_is_idempotent_and_a_new_number_is_refused() {
    let sandbox = sandbox().await;
    let client = async_client(&sandbox, |b| b);
    let first = client.execute(finish("P1")).await.unwrap();
    assert_eq!(client.execute(finish("P1")).await.unwrap(), first);
    let err = client.execute(finish("P2")).await.unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::AmountOverdue));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let sandbox = sandbox().await;
    let client = async_client(&sandbox, |b| b);
    sandbox.inject("queryrefund", Fault::ServerError, 2).unwrap();
    let answer = client.execute(refunds_of("1217752501201407033233368018")).await.unwrap();
    assert_eq!(answer.refund_count, 1);
    sandbox.inject("ecommerce/profitsharing/orders", Fault::ServerError, 1).unwrap();
    assert!(client.execute(order_query()).await.is_ok());
    // More failures than attempts: the last error is reported, retryable.
    sandbox.inject("queryrefund", Fault::ServerError, 10).unwrap();
    let err = client.execute(refunds_of("1217752501201407033233368018")).await.unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::SystemError));
}

#[tokio::test]
async fn too_many_requests_backs_off_then_succeeds() {
    let sandbox = sandbox().await;
    let client = async_client(&sandbox, |b| b);
    sandbox.inject("ecommerce/profitsharing/returnorders", Fault::TooManyRequests, 2).unwrap();
    let started = std::time::Instant::now();
    assert!(client.execute(v3_return_query()).await.is_ok());
    // Two backoffs of at least half of 20 ms and 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(30));
}

#[tokio::test]
async fn bad_missing_stale_and_unknown_signatures_are_refused_and_not_retried() {
    let sandbox = sandbox().await;
    let client = async_client(&sandbox, |b| b);
    let cases = [
        (Fault::WrongSignature, "bad signature"),
        (Fault::MissingSignature, "missing header"),
        (Fault::StaleTimestamp, "stale"),
        (Fault::UnknownSerial, "unknown serial"),
    ];
    for (fault, what) in cases {
        // Two faults queued: a retry would consume the second, and the next call would pass.
        sandbox.inject("ecommerce/profitsharing/orders", fault, 2).unwrap();
        let err = client.execute(order_query()).await.unwrap_err();
        let cause = verification(&err).unwrap_or_else(|| panic!("{what}: {err:?}"));
        match (fault, cause) {
            (Fault::WrongSignature, VerificationError::BadSignature(_))
            | (Fault::MissingSignature, VerificationError::MissingHeader(_))
            | (Fault::StaleTimestamp, VerificationError::Stale { .. })
            | (Fault::UnknownSerial, VerificationError::UnknownSerial(_)) => {}
            _ => panic!("{what}: {cause:?}"),
        }
        assert!(!err.is_retryable());
        assert!(client.execute(order_query()).await.is_err(), "{what}: the second fault is still queued");
        assert!(client.execute(order_query()).await.is_ok(), "{what}: then it works");
    }
}

#[tokio::test]
async fn timeouts_drops_and_truncation_are_retried() {
    let sandbox = sandbox().await;
    let client = async_client(&sandbox, |b| b.request_timeout(Duration::from_millis(300)));
    sandbox.inject("queryrefund", Fault::Delay { ms: 1000 }, 1).unwrap();
    assert!(client.execute(refunds_of(ORDER_36)).await.is_ok(), "a timed-out attempt is retried");
    sandbox.inject("queryrefund", Fault::Drop, 2).unwrap();
    assert!(client.execute(refunds_of(ORDER_36)).await.is_ok(), "dropped connections are retried");
    sandbox.inject("ecommerce/profitsharing/orders", Fault::Truncate, 1).unwrap();
    assert!(client.execute(order_query()).await.is_ok(), "a truncated answer is retried");
}

#[tokio::test]
async fn a_finish_that_keeps_timing_out_is_outcome_unknown() {
    let sandbox = sandbox().await;
    let config = client_config(&sandbox).retry_policy(quick_retries().max_attempts(2));
    let client = async_client_with(&sandbox, config, |b| b.request_timeout(Duration::from_millis(200)));
    sandbox.inject("profitsharingfinish", Fault::Delay { ms: 600 }, 2).unwrap();
    let err = client.execute(finish("P20261121T")).await.unwrap_err();
    assert!(err.is_timeout() && err.outcome_unknown(), "{err:?}");
    // Queried again with the same number, the finish went through exactly once.
    let again = client.execute(finish("P20261121T")).await.unwrap();
    assert_eq!(again.out_order_no, "P20261121T");
}

#[tokio::test]
async fn not_json_is_malformed_and_final() {
    let sandbox = sandbox().await;
    let client = async_client(&sandbox, |b| b);
    sandbox.inject("queryrefund", Fault::NotJson, 2).unwrap();
    let err = client.execute(refunds_of(ORDER_36)).await.unwrap_err();
    assert!(matches!(err, Error::Malformed(_)), "{err:?}");
    assert!(client.execute(refunds_of(ORDER_36)).await.is_err(), "the second fault was not consumed by a retry");
}

#[tokio::test]
async fn paging_through_36_refunds() {
    let sandbox = sandbox().await;
    let client = async_client(&sandbox, |b| b);
    let refunds: Vec<_> = client.refunds(refunds_of(ORDER_36)).collect().await;
    let refunds: Vec<_> = refunds.into_iter().map(Result::unwrap).collect();
    assert_eq!(refunds.len(), 36);
    assert_eq!(refunds[0].out_refund_no, "R20261121000000");
    assert_eq!(refunds[35].out_refund_no, "R20261121000035");
    assert_eq!(refunds.iter().filter(|r| r.refund_status == RefundStatus::Processing).count(), 2);
    let unique: std::collections::HashSet<_> = refunds.iter().map(|r| r.refund_id.clone()).collect();
    assert_eq!(unique.len(), 36);
}

#[tokio::test]
async fn certificate_mode_downloads_on_first_use() {
    let sandbox = sandbox().await;
    let client = async_client_with(&sandbox, client_config(&sandbox).keys(certificate_mode(&sandbox)), |b| b);
    assert!(client.core().keys().is_empty());
    assert!(client.execute(order_query()).await.is_ok());
    let platform = sandbox.keys().platform.as_ref().unwrap();
    assert!(client.core().keys().contains(&platform.serial), "the downloaded certificate is held");
    assert_eq!(client.core().keys().len(), 1);

    // A wrong APIv3 key cannot decrypt the download: the call fails, nothing is trusted.
    let wrong = wxpay_protocol::security::Apiv3Key::new(&[b'k'; 32]).unwrap();
    let client = async_client_with(
        &sandbox,
        client_config(&sandbox).keys(KeyMode::Certificates { apiv3_key: wrong, keys: KeySet::new() }),
        |b| b,
    );
    assert!(client.execute(order_query()).await.is_err());
    assert!(client.core().keys().is_empty());
}

#[tokio::test]
async fn the_client_rate_limit_keeps_under_the_servers() {
    // The sandbox allows 20 refund queries per second per sub-merchant; a client limited to 20
    // per second, with retries off so that any refusal surfaces, is never refused.
    let sandbox = Sandbox::start(SandboxConfig::new().qps("queryrefund", 20)).await.unwrap();
    let mut limits = RateLimiter::off();
    limits.set("queryrefund", 20);
    let client = async_client_with(
        &sandbox,
        client_config(&sandbox).rate_limits(limits).retry_policy(RetryPolicy::never()),
        |b| b,
    );
    let calls = (0..30).map(|_| {
        let client = client.clone();
        async move { client.execute(refunds_of(ORDER_36)).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let limited = results.iter().filter(|r| r.as_ref().err().and_then(|e| e.as_api()).is_some()).count();
    assert_eq!(limited, 0, "{:?}", results.iter().find(|r| r.is_err()));

    // Without the client limit the same burst is refused in part.
    let unlimited = async_client_with(
        &sandbox,
        client_config(&sandbox).rate_limits(RateLimiter::off()).retry_policy(RetryPolicy::never()),
        |b| b,
    );
    let calls = (0..30).map(|_| {
        let client = unlimited.clone();
        async move { client.execute(refunds_of(ORDER_36)).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let codes: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()?.as_api()?.code().cloned()).collect();
    assert!(!codes.is_empty() && codes.iter().all(|c| *c == ErrorCode::FrequencyLimited), "{codes:?}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_final_tls_error() {
    let sandbox = sandbox().await;
    let client = wxpay_transport_hyper::Client::builder().config(client_config(&sandbox)).build().unwrap();
    let err = client.execute(order_query()).await.unwrap_err();
    assert!(matches!(&err, Error::Transport(t) if t.kind() == TransportErrorKind::Tls), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn certificate_mode_refreshes_once_on_a_new_serial() {
    let sandbox = sandbox().await;
    let client = async_client_with(&sandbox, client_config(&sandbox).keys(certificate_mode(&sandbox)), |b| b);
    assert!(client.execute(order_query()).await.is_ok());
    let before = sandbox.stats().requests;

    // WeChat Pay switches to a new platform certificate: the next answer names a serial the
    // client does not hold; it downloads once, then verifies the same answer.
    let new_serial = sandbox.rotate_platform_certificate().unwrap();
    assert!(!client.core().keys().contains(&new_serial));
    assert!(client.execute(v3_return_query()).await.is_ok());
    assert!(client.core().keys().contains(&new_serial));
    assert_eq!(sandbox.stats().requests - before, 2, "one call and one download, no resend");

    // Later calls use the held certificate without downloading.
    let before = sandbox.stats().requests;
    assert!(client.execute(order_query()).await.is_ok());
    assert_eq!(sandbox.stats().requests - before, 1);
}

#[tokio::test]
async fn connections_are_reused() {
    // HTTPS only, so that every connection the sandbox counts is a TLS one.
    let sandbox = Sandbox::start(SandboxConfig::new().http(None)).await.unwrap();
    let config = wxpay_protocol::client::ClientConfig::new()
        .v3_base(wxpay_protocol::BaseUrl::parse(&sandbox.https_url().unwrap()).unwrap())
        .unwrap()
        .credentials(sandbox.keys().merchant_credentials().unwrap())
        .keys(static_keys(&sandbox));
    let client = async_client_with(&sandbox, config.clone(), |b| b);
    for _ in 0..10 {
        assert!(client.execute(order_query()).await.is_ok());
    }
    let stats = sandbox.stats();
    assert_eq!(stats.tls_handshakes, stats.connections, "one handshake per connection");
    assert!(stats.connections <= 2, "{} connections for 10 sequential calls", stats.connections);

    let fresh = async_client_with(&sandbox, config, |b| b.pool_max_idle_per_host(0));
    for _ in 0..3 {
        assert!(fresh.execute(order_query()).await.is_ok());
    }
    assert_eq!(sandbox.stats().tls_handshakes, stats.tls_handshakes + 3, "without a pool, one handshake per call");
}
