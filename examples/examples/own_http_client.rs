//! The sans-IO core with your own HTTP client (here ureq, used directly): build the request with
//! `Operation::build`, sign it, send it, verify the answer with `security::verify_response`, and
//! parse the verified answer. No wxpay transport is involved; retries, rate limits and
//! certificate downloads are then yours (the transports' `client::Driver` does them otherwise).
//!
//! Run: `cargo run -p wxpay-examples --example own_http_client`
//!
//! Against WeChat Pay: read your merchant's `wxpay.toml` (or the `WXPAY_*` variables) instead
//! of the sandbox's, and use the default base URL:
//!
//! ```text
//! let settings = wxpay_settings::Settings::from_file("wxpay.toml")?; // or Settings::from_env()?
//! let base = settings.v3_base()?; // https://api.mch.weixin.qq.com unless base_url says otherwise
//! ```

use std::sync::Arc;

use wxpay_examples::{BackgroundSandbox, SUB_MCH, TRANSACTION};
use wxpay_protocol::security::{self, SigningParams};
use wxpay_protocol::{BaseUrl, Operation, OutOrderNo, SubMchId, TransactionId, v3};
use wxpay_settings::Settings;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let sandbox = BackgroundSandbox::start()?;
    // The same settings the clients read; only the keys are taken from them here.
    let settings = Settings::from_file(sandbox.config_file())?;
    let credentials = settings.merchant_credentials()?.ok_or("the settings name no merchant")?;
    let keys = settings.verifying_keys()?;
    // The sandbox's plain-HTTP listener: the core allows plain http for API v3 on loopback only.
    let base = BaseUrl::parse(&sandbox.sandbox().http_url().ok_or("no HTTP listener")?)?;

    // 1. Build: a validated request becomes an `http::Request<Vec<u8>>`.
    let query = v3::OrderQueryRequest::new(
        SubMchId::new(SUB_MCH)?,
        TransactionId::new(TRANSACTION)?,
        OutOrderNo::new("P20150806125346")?,
    );
    let mut request = query.build(&base)?;

    // 2. Sign: time and randomness are inputs (here from the operating system).
    let nonce = wxpay_system::nonce();
    let mut params = SigningParams::new(&credentials, wxpay_system::unix_now(), &nonce);
    if let Some(serial) = keys.preferred_serial() {
        params = params.wechatpay_serial(serial);
    }
    security::sign_request(&request, &params)?.apply_to(&mut request);

    // 3. Send with any HTTP client; error statuses are answers too (they are signed).
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    let agent =
        ureq::Agent::new_with_config(ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).build());
    let (parts, mut body) = agent.run(request)?.into_parts();
    let response = http::Response::from_parts(parts, body.read_to_vec()?);

    // 4. Verify, then parse: a v3 parser takes only a verified answer.
    let verified = security::verify_response(&response, wxpay_system::unix_now(), &keys)?;
    let order = query.parse(verified)?;

    println!(
        "order {} of payment {}: {:?} (HTTP {})",
        order.order_id,
        order.transaction_id,
        order.status,
        response.status()
    );
    if order.transaction_id != TRANSACTION {
        return Err(format!("unexpected payment {}", order.transaction_id).into());
    }
    Ok(())
}
