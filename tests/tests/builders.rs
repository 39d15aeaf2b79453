//! The two builders agree: the same methods, `build()` returning a `Result`, roots given as
//! `CertificateDer`, the same refusals.

use rustls::pki_types::CertificateDer;
use wxpay_sandbox::SandboxConfig;
use wxpay_tests::{BackgroundSandbox, ca_der, client_config, order_query};

#[test]
fn both_builders_refuse_the_same_roots_and_accept_the_same_calls() {
    let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
    let hyper = wxpay_transport_hyper::Client::builder().add_root_certificate(junk.clone()).build().unwrap_err();
    let blocking = wxpay_blocking::Client::builder().add_root_certificate(junk).build().unwrap_err();
    assert!(matches!(hyper, wxpay_transport_hyper::BuildError::Root(_)), "{hyper:?}");
    assert!(matches!(blocking, wxpay_blocking::BuildError::Root(_)), "{blocking:?}");
    assert_eq!(hyper.to_string(), blocking.to_string());

    let hyper = wxpay_transport_hyper::Client::builder().without_webpki_roots().build().unwrap_err();
    let blocking = wxpay_blocking::Client::builder().without_webpki_roots().build().unwrap_err();
    assert!(matches!(hyper, wxpay_transport_hyper::BuildError::NoRoots), "{hyper:?}");
    assert!(matches!(blocking, wxpay_blocking::BuildError::NoRoots), "{blocking:?}");

    // The same chain of calls builds a working client on both transports.
    let bg = BackgroundSandbox::start(SandboxConfig::new());
    let sandbox = &bg.sandbox;
    let blocking = wxpay_blocking::Client::builder()
        .config(client_config(sandbox))
        .add_root_certificate(ca_der(sandbox))
        .without_webpki_roots()
        .connect_timeout(std::time::Duration::from_secs(5))
        .request_timeout(std::time::Duration::from_secs(10))
        .pool_max_idle_per_host(4)
        .build()
        .unwrap();
    blocking.execute(order_query()).unwrap();
    let hyper = wxpay_transport_hyper::Client::builder()
        .config(client_config(sandbox))
        .add_root_certificate(ca_der(sandbox))
        .without_webpki_roots()
        .connect_timeout(std::time::Duration::from_secs(5))
        .request_timeout(std::time::Duration::from_secs(10))
        .pool_max_idle_per_host(4)
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(hyper.execute(order_query())).unwrap();
    bg.stop();
}
