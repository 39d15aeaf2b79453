//! What the examples share: an embedded sandbox to call, and a `wxpay.toml` pointing at it, so
//! that every example starts its client the way a merchant does, from a settings file:
//!
//! ```text
//! let client = wxpay_transport_hyper::Client::from_file("wxpay.toml")?;  // or Client::from_env()?
//! ```
//!
//! Against WeChat Pay itself, write `wxpay.toml` with your merchant's ids and key files (keys
//! in `wxpay_settings`'s documentation and the README) and pass its path instead.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use wxpay_sandbox::{Sandbox, SandboxConfig, SandboxError};

/// The sub-merchant of the sandbox's shipped records.
pub const SUB_MCH: &str = "1900000109";
/// A payment the shipped records know (the documents' finish and order query examples).
pub const TRANSACTION: &str = "4208450740201411110007820472";
/// An order with 36 refunds in the shipped records (four pages of ten).
pub const ORDER_36: &str = "4200000000000000000000000036";

/// Why the embedded sandbox could not be set up.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Starts a sandbox on loopback with its keys in a temporary directory (removed when it stops).
pub async fn start_sandbox() -> Result<Sandbox, SandboxError> {
    Sandbox::start(SandboxConfig::new().temporary_key_dir()).await
}

/// Writes `wxpay.toml` into the sandbox's key directory: its URLs, its merchant's ids, and the
/// key files by relative path (as a merchant's file names its own), for API v3, CloudPay and
/// the v2 wire (the app id, the API v2 key, the merchant certificate presented for mutual TLS).
/// Returns the file's path.
pub fn write_config(sandbox: &Sandbox) -> Result<PathBuf, Error> {
    let dir = sandbox.key_dir().ok_or("the sandbox has no key directory")?;
    let files = &dir.files;
    let name = |path: &Option<PathBuf>| -> Result<String, Error> {
        let path = path.as_deref().ok_or("a key file is missing")?;
        Ok(path.file_name().and_then(|n| n.to_str()).ok_or("a key file name is not UTF-8")?.to_owned())
    };
    let v2 = sandbox.v2_keys();
    let v2_files = v2.files();
    let keys = sandbox.keys();
    let public_key_id = keys.public_key.as_ref().ok_or("the sandbox has no public key")?.id.as_str().to_owned();
    let text = format!(
        "# The embedded sandbox, written by wxpay-examples.\n\
         mchid = {mchid:?}\n\
         merchant_serial = {serial:?}\n\
         private_key = {private_key:?}\n\
         public_key = {public_key:?}\n\
         public_key_id = {public_key_id:?}\n\
         base_url = {base_url:?}\n\
         cloudpay_url = {cloudpay_url:?}\n\
         ca_cert = {ca_cert:?}\n\
         v2_url = {v2_url:?}\n\
         appid = {appid:?}\n\
         apiv2_key_file = {apiv2_key:?}\n\
         client_cert = {client_cert:?}\n\
         client_key = {client_key:?}\n",
        mchid = keys.mchid,
        serial = keys.merchant_serial,
        private_key = name(&files.merchant_private_key)?,
        public_key = name(&files.wechatpay_public_key)?,
        base_url = sandbox.https_url().ok_or("no HTTPS listener")?,
        cloudpay_url = sandbox.http_url().ok_or("no HTTP listener")?,
        ca_cert = name(&files.tls_ca_cert)?,
        v2_url = sandbox.https_url().ok_or("no HTTPS listener")?,
        appid = v2.appid(),
        apiv2_key = name(&v2_files.apiv2_key)?,
        client_cert = name(&v2_files.merchant_cert)?,
        client_key = name(&v2_files.merchant_key)?,
    );
    let path = files.dir.join("wxpay.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// A sandbox on a runtime of its own, for the blocking examples (and anything without a tokio
/// runtime). Stops when dropped.
#[derive(Debug)]
pub struct BackgroundSandbox {
    runtime: Option<tokio::runtime::Runtime>,
    sandbox: Option<Sandbox>,
    config: PathBuf,
}

impl BackgroundSandbox {
    /// Starts a sandbox and writes its `wxpay.toml`.
    pub fn start() -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let sandbox = runtime.block_on(start_sandbox())?;
        let config = write_config(&sandbox)?;
        Ok(Self { runtime: Some(runtime), sandbox: Some(sandbox), config })
    }

    /// The sandbox.
    pub fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().expect("present until dropped")
    }

    /// Its `wxpay.toml`.
    pub fn config_file(&self) -> &Path {
        &self.config
    }
}

impl Drop for BackgroundSandbox {
    fn drop(&mut self) {
        if let (Some(runtime), Some(sandbox)) = (self.runtime.take(), self.sandbox.take()) {
            runtime.block_on(sandbox.shutdown());
        }
    }
}
