//! What the Redis budget tests share: a `redis-server`, and a client of the sandbox. They live in
//! this package (not in wxpay-tests) so that its tests run from the packaged crate.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use wxpay_protocol::client::{ClientConfig, KeyMode};
use wxpay_protocol::{BaseUrl, NonceStr, OrderRef, OutOrderNo, OutReturnNo, SubMchId, cloudpay};
use wxpay_sandbox::Sandbox;

/// A `redis-server` on a loopback port of its own: `tests/src/redis.rs` of wxpay-tests, linked
/// here so that the packaged crate carries it.
#[allow(unreachable_pub)]
pub(crate) mod redis;

/// The sandbox's CA certificate, DER.
pub(crate) fn ca_der(sandbox: &Sandbox) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(sandbox.tls_ca_pem().as_bytes()).expect("the sandbox writes a PEM CA")
}

/// The client configuration for `sandbox`: its URLs, its merchant credentials and its keys.
pub(crate) fn client_config(sandbox: &Sandbox) -> ClientConfig {
    let base = |url: Option<String>| BaseUrl::parse(&url.expect("the listener is on")).expect("a valid URL");
    ClientConfig::new()
        .v3_base(base(sandbox.https_url()))
        .expect("the sandbox's https URL")
        .cloudpay_base(base(sandbox.http_url()))
        .credentials(sandbox.keys().merchant_credentials().expect("generated merchant key"))
        .keys(KeyMode::Static(sandbox.keys().wechatpay_keys().expect("generated keys")))
}

/// The return query of the CloudPay example (docs/protocol.md §8.1), which the sandbox serves.
pub(crate) fn return_query() -> cloudpay::ReturnQueryRequest {
    cloudpay::ReturnQueryRequest::new(
        SubMchId::new("1900000109").expect("valid"),
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346").expect("valid")),
        OutReturnNo::new("R20150806125346").expect("valid"),
    )
    .with_nonce(NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS").expect("valid"))
}
