//! Shared set-up of the end-to-end tests: a sandbox, and clients of both transports pointed at
//! it over HTTPS (v3) and HTTP (CloudPay), trusting its CA and verifying with its keys.

pub mod redis;
pub mod sandbox_process;

use std::time::Duration;

/// The README's examples compile (and, unless `no_run`, run) as doctests here, where every
/// crate of the workspace is a dependency.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct Readme;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use wxpay_protocol::client::{ClientConfig, KeyMode, RetryPolicy};
use wxpay_protocol::{BaseUrl, NonceStr, OrderRef, OutOrderNo, OutReturnNo, SubMchId, TransactionId, cloudpay, v3};
use wxpay_sandbox::{Sandbox, SandboxConfig};

/// The sub-merchant of the seeds' examples.
pub const SUB_MCH: &str = "1900000109";
/// The payment of the finish and order-query examples (docs/protocol.md §8.3, §8.4).
pub const TRANSACTION: &str = "4208450740201411110007820472";
/// The order with 36 refunds in the shipped fixtures.
pub const ORDER_36: &str = "4200000000000000000000000036";

/// The sandbox's CA certificate, DER.
pub fn ca_der(sandbox: &Sandbox) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(sandbox.tls_ca_pem().as_bytes()).expect("the sandbox writes a PEM CA")
}

/// Quick retries, so fault tests stay fast.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::new().backoff(Duration::from_millis(20), Duration::from_millis(100))
}

/// Certificate mode: no key held, the platform certificate downloaded on first use with the
/// sandbox's APIv3 key.
pub fn certificate_mode(sandbox: &Sandbox) -> KeyMode {
    KeyMode::Certificates {
        apiv3_key: sandbox.keys().apiv3_key().clone(),
        keys: wxpay_protocol::security::KeySet::new(),
    }
}

/// Verification with the sandbox's public key and platform certificate.
pub fn static_keys(sandbox: &Sandbox) -> KeyMode {
    KeyMode::Static(sandbox.keys().wechatpay_keys().expect("generated keys"))
}

/// The client configuration for `sandbox`: its URLs, its merchant credentials, its keys, quick
/// retries and the documented rate limits.
pub fn client_config(sandbox: &Sandbox) -> ClientConfig {
    ClientConfig::new()
        .v3_base(base(sandbox.https_url()))
        .expect("the sandbox's https URL")
        .cloudpay_base(base(sandbox.http_url()))
        .credentials(sandbox.keys().merchant_credentials().expect("generated merchant key"))
        .keys(static_keys(sandbox))
        .retry_policy(quick_retries())
}

/// An async client for `sandbox` with `config`, trusting only the sandbox's CA; `configure`
/// adjusts the transport.
pub fn async_client_with(
    sandbox: &Sandbox,
    config: ClientConfig,
    configure: impl FnOnce(wxpay_transport_hyper::ClientBuilder) -> wxpay_transport_hyper::ClientBuilder,
) -> wxpay_transport_hyper::Client {
    let builder = wxpay_transport_hyper::Client::builder()
        .config(config)
        .add_root_certificate(ca_der(sandbox))
        .without_webpki_roots();
    configure(builder).build().expect("a valid TLS configuration")
}

/// An async client for `sandbox` with [`client_config`].
pub fn async_client(
    sandbox: &Sandbox,
    configure: impl FnOnce(wxpay_transport_hyper::ClientBuilder) -> wxpay_transport_hyper::ClientBuilder,
) -> wxpay_transport_hyper::Client {
    async_client_with(sandbox, client_config(sandbox), configure)
}

/// A blocking client for `sandbox` with `config`, trusting only the sandbox's CA.
pub fn blocking_client_with(
    sandbox: &Sandbox,
    config: ClientConfig,
    configure: impl FnOnce(wxpay_blocking::ClientBuilder) -> wxpay_blocking::ClientBuilder,
) -> wxpay_blocking::Client {
    let builder = wxpay_blocking::Client::builder().config(config).add_root_certificate(ca_der(sandbox));
    configure(builder).build().expect("a valid TLS configuration")
}

/// A blocking client for `sandbox` with [`client_config`].
pub fn blocking_client(
    sandbox: &Sandbox,
    configure: impl FnOnce(wxpay_blocking::ClientBuilder) -> wxpay_blocking::ClientBuilder,
) -> wxpay_blocking::Client {
    blocking_client_with(sandbox, client_config(sandbox), configure)
}

/// Why an answer's signature was refused, if that is the error.
pub fn verification(err: &wxpay_protocol::Error) -> Option<&wxpay_protocol::security::VerificationError> {
    match err {
        wxpay_protocol::Error::Verification(v) => Some(v.verification_error()),
        _ => None,
    }
}

fn base(url: Option<String>) -> BaseUrl {
    BaseUrl::parse(&url.expect("the listener is on")).expect("the sandbox's URL is valid")
}

/// A sandbox on its own multi-threaded runtime, for blocking clients (whose calls block the
/// calling thread, which must not be the one serving the sandbox).
#[derive(Debug)]
pub struct BackgroundSandbox {
    /// The sandbox.
    pub sandbox: Sandbox,
    runtime: tokio::runtime::Runtime,
}

impl BackgroundSandbox {
    /// Starts a sandbox with `config` on a new runtime.
    pub fn start(config: SandboxConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let sandbox = runtime.block_on(Sandbox::start(config)).expect("the sandbox starts");
        Self { sandbox, runtime }
    }

    /// Stops the sandbox.
    pub fn stop(self) {
        let Self { sandbox, runtime } = self;
        runtime.block_on(sandbox.shutdown());
    }
}

fn nonce() -> NonceStr {
    NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS").expect("valid")
}

fn sub() -> SubMchId {
    SubMchId::new(SUB_MCH).expect("valid")
}

/// The return query of the CloudPay example (docs/protocol.md §8.1).
pub fn return_query() -> cloudpay::ReturnQueryRequest {
    cloudpay::ReturnQueryRequest::new(
        sub(),
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346").expect("valid")),
        OutReturnNo::new("R20150806125346").expect("valid"),
    )
    .with_nonce(nonce())
}

/// A finish of the example payment (docs/protocol.md §8.3) under `out_order_no`.
pub fn finish(out_order_no: &str) -> cloudpay::FinishRequest {
    cloudpay::FinishRequest::new(
        sub(),
        TransactionId::new(TRANSACTION).expect("valid"),
        OutOrderNo::new(out_order_no).expect("valid"),
        wxpay_protocol::Description::new("分账已完成").expect("valid"),
    )
    .with_nonce(nonce())
}

/// The refunds of `transaction`.
pub fn refunds_of(transaction: &str) -> cloudpay::RefundQueryRequest {
    cloudpay::RefundQueryRequest::new(
        sub(),
        wxpay_protocol::RefundLookup::TransactionId(TransactionId::new(transaction).expect("valid")),
    )
    .with_nonce(nonce())
}

/// The order query of the v3 example (docs/protocol.md §8.4).
pub fn order_query() -> v3::OrderQueryRequest {
    v3::OrderQueryRequest::new(
        sub(),
        TransactionId::new(TRANSACTION).expect("valid"),
        OutOrderNo::new("P20150806125346").expect("valid"),
    )
}

/// The return query of the v3 example (docs/protocol.md §8.2).
pub fn v3_return_query() -> v3::ReturnQueryRequest {
    v3::ReturnQueryRequest::new(
        sub(),
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346").expect("valid")),
        OutReturnNo::new("R20190516001").expect("valid"),
    )
}
