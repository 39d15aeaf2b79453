//! The blocking client against the sandbox over HTTPS, the sandbox running on its own runtime.

use std::time::Duration;

use wxpay_protocol::cloudpay::ReturnResult;
use wxpay_protocol::security::VerificationError;
use wxpay_protocol::v3::OrderStatus;
use wxpay_protocol::{Error, ErrorCode, TransportErrorKind};
use wxpay_sandbox::{Fault, SandboxConfig};
use wxpay_tests::*;

#[test]
fn all_five_operations_over_https() {
    let bg = BackgroundSandbox::start(SandboxConfig::new());
    let client = blocking_client(&bg.sandbox, |b| b);
    assert_eq!(client.execute(return_query()).unwrap().result, ReturnResult::Processing);
    assert_eq!(client.execute(return_query()).unwrap().result, ReturnResult::Success);
    assert_eq!(client.execute(finish("P20261121B")).unwrap().out_order_no, "P20261121B");
    assert_eq!(client.execute(refunds_of("1217752501201407033233368018")).unwrap().refund_count, 1);
    assert_eq!(client.execute(order_query()).unwrap().status, OrderStatus::Processing);
    assert_eq!(client.execute(order_query()).unwrap().status, OrderStatus::Finished);
    assert_eq!(client.execute(v3_return_query()).unwrap().out_return_no, "R20190516001");
    bg.stop();
}

#[test]
fn faults_retried_or_refused() {
    let bg = BackgroundSandbox::start(SandboxConfig::new());
    let client = blocking_client(&bg.sandbox, |b| b.request_timeout(Duration::from_millis(300)));
    let sandbox = &bg.sandbox;

    sandbox.inject("queryrefund", Fault::ServerError, 1).unwrap();
    assert!(client.execute(refunds_of(ORDER_36)).is_ok(), "500 then success");
    sandbox.inject("queryrefund", Fault::TooManyRequests, 1).unwrap();
    assert!(client.execute(refunds_of(ORDER_36)).is_ok(), "429 with backoff");
    sandbox.inject("queryrefund", Fault::Delay { ms: 1000 }, 1).unwrap();
    assert!(client.execute(refunds_of(ORDER_36)).is_ok(), "timeout then success");
    sandbox.inject("queryrefund", Fault::Drop, 1).unwrap();
    assert!(client.execute(refunds_of(ORDER_36)).is_ok(), "dropped connection then success");

    sandbox.inject("ecommerce/profitsharing/orders", Fault::WrongSignature, 2).unwrap();
    let err = client.execute(order_query()).unwrap_err();
    assert!(
        matches!(&err, Error::Verification(v) if matches!(v.verification_error(), VerificationError::BadSignature(_)))
    );
    assert!(client.execute(order_query()).is_err(), "not retried: the second fault is still queued");
    sandbox.inject("ecommerce/profitsharing/orders", Fault::StaleTimestamp, 1).unwrap();
    let err = client.execute(order_query()).unwrap_err();
    assert!(
        matches!(&err, Error::Verification(v) if matches!(v.verification_error(), VerificationError::Stale { .. }))
    );

    sandbox.inject("profitsharingfinish", Fault::Delay { ms: 1000 }, 10).unwrap();
    let err = client.execute(finish("P20261121BT")).unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    bg.stop();
}

#[test]
fn paging_certificates_and_errors() {
    let bg = BackgroundSandbox::start(SandboxConfig::new());
    let sandbox = &bg.sandbox;
    let client = blocking_client(sandbox, |b| b);
    let refunds: Vec<_> = client.refunds(refunds_of(ORDER_36)).collect::<Result<_, _>>().unwrap();
    assert_eq!(refunds.len(), 36);
    assert_eq!(refunds[35].out_refund_no, "R20261121000035");

    let err = client.execute(refunds_of("4200000000000000000000009999")).unwrap_err();
    assert_eq!(err.as_api().unwrap().code(), Some(&ErrorCode::RefundNotExist));

    let certs = blocking_client_with(sandbox, client_config(sandbox).keys(certificate_mode(sandbox)), |b| b);
    assert!(certs.execute(v3_return_query()).is_ok());
    assert!(certs.core().keys().contains(&sandbox.keys().platform.as_ref().unwrap().serial));

    // Without the sandbox's CA, the WebPKI roots refuse its certificate: a final TLS error.
    let untrusted = wxpay_blocking::Client::builder().config(client_config(sandbox)).build().unwrap();
    let err = untrusted.execute(order_query()).unwrap_err();
    assert!(matches!(&err, Error::Transport(t) if t.kind() == TransportErrorKind::Tls), "{err:?}");
    bg.stop();
}

#[test]
fn calling_from_inside_a_tokio_runtime_neither_panics_nor_deadlocks() {
    let bg = BackgroundSandbox::start(SandboxConfig::new());
    let client = blocking_client(&bg.sandbox, |b| b);
    // A current-thread runtime: the blocking call holds its only thread, and completes because
    // nothing it needs runs on that runtime.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answer = runtime.block_on(async { client.execute(order_query()) });
    assert!(answer.is_ok(), "{answer:?}");
    // And through spawn_blocking, as documented for async code.
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let c = client.clone();
    let answer =
        multi.block_on(async move { tokio::task::spawn_blocking(move || c.execute(refunds_of(ORDER_36))).await });
    assert_eq!(answer.unwrap().unwrap().refund_count, 10);
    bg.stop();
}
