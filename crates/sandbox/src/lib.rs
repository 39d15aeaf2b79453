//! # wxpay-sandbox
//!
//! A local WeChat Pay for the five profit-sharing and refund operations: the CloudPay paths
//! (`POST /_/pay/profitsharingreturnquery`, `/_/pay/profitsharingfinish`, `/_/pay/queryrefund`)
//! and the API v3 queries (`GET /v3/ecommerce/profitsharing/orders`,
//! `/v3/ecommerce/profitsharing/returnorders`, `/v3/certificates`), and the same CloudPay
//! operations on WeChat Pay's v2 XML wire (`POST /pay/profitsharingreturnquery`,
//! `/secapi/pay/profitsharingfinish` with a TLS client certificate, `/pay/refundquery`), over
//! HTTP and HTTPS on loopback. It is strict the way WeChat Pay is: v3 requests must be signed by
//! the configured merchant key and v2 requests with its API v2 key, parameters are validated with
//! the same rules clients use, and every answer to an authenticated v3 request, and every v2
//! answer whose `return_code` is `SUCCESS`, is signed. Its data comes from the seeds' examples
//! ([`Fixtures::shipped`]); orders settle from `PROCESSING`, finish is idempotent, the
//! documented QPS limits apply, and faults can be injected.
//!
//! Its keys live in memory, in a temporary directory removed at shutdown
//! ([`SandboxConfig::temporary_key_dir`]), or in a directory of one's own that later starts read
//! back, so that clients are configured once ([`SandboxConfig::key_dir`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), wxpay_sandbox::SandboxError> {
//! use wxpay_sandbox::{Fault, Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::new()).await?;
//! println!("v3 at {}", sandbox.https_url().unwrap());
//! let credentials = sandbox.keys().merchant_credentials(); // sign requests with these
//! sandbox.inject("queryrefund", Fault::ServerError, 1).unwrap();
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod body;
pub mod cli;
mod error;
mod faults;
mod fixtures;
mod key_dir;
mod keys;
mod limits;
mod notify;
mod routes;
mod server;
mod state;
mod tls;
mod v2_keys;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use wxpay_protocol::cloudpay::ReplyShape;

pub use error::SandboxError;
pub use faults::Fault;
pub use fixtures::Fixtures;
pub use key_dir::{KeyDir, KeyDirOrigin};
pub use keys::{KeyFileArgs, KeyFiles, PlatformCertificate, PublicKeyPair, SandboxKeys};
pub use notify::{Attempt, Delivery, DeliveryState, NotifyRequest};
pub use server::Clock;
pub use state::Settle;
pub use v2_keys::{V2Files, V2Keys};

use server::Shared;
use state::State;
use tls::TlsIdentity;
use v2_keys::V2Options;

/// The merchant id the sandbox expects unless told otherwise.
pub const DEFAULT_MCHID: &str = "1900007291";

/// The app id v2 requests must carry unless told otherwise (the documents' example app id).
pub const DEFAULT_APPID: &str = "wx8888888888888888";

/// How to run a sandbox.
#[derive(Clone)]
pub struct SandboxConfig {
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    mchid: String,
    keys: Option<SandboxKeys>,
    fixtures: Option<Fixtures>,
    shape: ReplyShape,
    qps: HashMap<String, u32>,
    settle: Settle,
    clock: Clock,
    key_store: KeyStore,
    notify_url: Option<String>,
    notify_time_scale: f64,
    v2: V2Options,
}

/// Where a sandbox keeps its keys.
#[derive(Debug, Clone)]
enum KeyStore {
    /// In memory only.
    Memory,
    /// In this directory, reused across starts.
    Dir(PathBuf),
    /// In a new temporary directory, removed at shutdown.
    Temporary,
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("http", &self.http)
            .field("https", &self.https)
            .field("mchid", &self.mchid)
            .field("keys", &self.keys)
            .field("shape", &self.shape)
            .field("qps", &self.qps)
            .field("settle", &self.settle)
            .field("key_store", &self.key_store)
            .field("notify_url", &self.notify_url)
            .field("notify_time_scale", &self.notify_time_scale)
            .field("v2", &self.v2)
            .finish_non_exhaustive()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SandboxConfig {
    /// HTTP and HTTPS on `127.0.0.1`, ports chosen by the system; generated keys; the shipped
    /// fixtures; bare snake_case CloudPay answers with indexed lists; the documented QPS limits;
    /// each fixture's own settling; the system clock; keys in memory only.
    pub fn new() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            http: Some(loopback),
            https: Some(loopback),
            mchid: DEFAULT_MCHID.to_owned(),
            keys: None,
            fixtures: None,
            shape: ReplyShape::new(),
            qps: limits::documented(),
            settle: Settle::PerFixture,
            clock: Arc::new(|| time::OffsetDateTime::now_utc().unix_timestamp()),
            key_store: KeyStore::Memory,
            notify_url: None,
            notify_time_scale: 1.0,
            v2: V2Options { appid: DEFAULT_APPID.to_owned(), apiv2_key_file: None, client_ca_file: None },
        }
    }

    /// The app id v2 requests must carry as `appid` (default [`DEFAULT_APPID`]).
    pub fn appid(mut self, appid: impl Into<String>) -> Self {
        self.v2.appid = appid.into();
        self
    }

    /// Reads the API v2 key (32 characters; surrounding whitespace ignored) from `path` at start,
    /// instead of generating one (or reading the key directory's `apiv2_key`). The file is not
    /// copied to the key directory.
    pub fn apiv2_key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.v2.apiv2_key_file = Some(path.into());
        self
    }

    /// Trusts the PEM certificates of `path` (read at start) for TLS client authentication,
    /// instead of the merchant certificate the sandbox makes ([`V2Keys::merchant_cert_pem`]).
    pub fn client_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.v2.client_ca_file = Some(path.into());
        self
    }

    /// Sends profit-sharing notifications to `url` (`http://`): when a v3 order's receivers or a
    /// return are first answered in their final state, and on demand ([`Sandbox::notify`],
    /// `POST /_sandbox/notify`). Signed with the sandbox's WeChat Pay key and encrypted under its
    /// APIv3 key as WeChat Pay's are; a failed delivery is sent again on WeChat Pay's schedule
    /// (docs/protocol.md §6), scaled by [`notify_time_scale`](Self::notify_time_scale).
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// Multiplies the notification retry schedule (15 s, 15 s, 30 s, 3 min, ... 6 h): 0.001 makes
    /// the first retries 15 ms apart. Negative or not-a-number is taken as 0.
    pub fn notify_time_scale(mut self, scale: f64) -> Self {
        self.notify_time_scale = if scale.is_finite() && scale > 0.0 { scale } else { 0.0 };
        self
    }

    /// The plain HTTP listener's address (`None`: no HTTP listener).
    pub fn http(mut self, addr: Option<SocketAddr>) -> Self {
        self.http = addr;
        self
    }

    /// The HTTPS listener's address (`None`: no HTTPS listener).
    pub fn https(mut self, addr: Option<SocketAddr>) -> Self {
        self.https = addr;
        self
    }

    /// The merchant id requests must carry (with generated keys).
    pub fn mchid(mut self, mchid: impl Into<String>) -> Self {
        self.mchid = mchid.into();
        self
    }

    /// Uses these keys instead of generating a set.
    pub fn keys(mut self, keys: SandboxKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Serves this data instead of the shipped fixtures.
    pub fn fixtures(mut self, fixtures: Fixtures) -> Self {
        self.fixtures = Some(fixtures);
        self
    }

    /// The shape of CloudPay answers (wrapped or bare, snake or camel, indexed or arrays).
    pub fn reply_shape(mut self, shape: ReplyShape) -> Self {
        self.shape = shape;
        self
    }

    /// Limits `operation` (a CloudPay path name, a v3 or a v2 operation name) to `qps` per
    /// second, counted per what its documented limit is counted per (docs/protocol.md §7); 0 refuses
    /// every request.
    pub fn qps(mut self, operation: impl Into<String>, qps: u32) -> Self {
        self.qps.insert(operation.into(), qps);
        self
    }

    /// No QPS limits at all.
    pub fn no_qps_limits(mut self) -> Self {
        self.qps.clear();
        self
    }

    /// When `PROCESSING` orders settle.
    pub fn settle(mut self, settle: Settle) -> Self {
        self.settle = settle;
        self
    }

    /// The clock (Unix seconds) used to check request timestamps and to sign answers.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Keeps the keys in `dir`, so that a restart serves the same ones: a directory that holds
    /// a complete set written by an earlier start is read back (ids, serials, keys and the TLS
    /// identity, all checked); a missing or empty one gets a new set (private files mode 0600,
    /// a new directory 0700, on Unix); anything else is refused with an error naming the file.
    /// The directory's `mchid` must be the configured one.
    ///
    /// With [`SandboxConfig::keys`], only the TLS identity is kept there, beside copies of the
    /// given public keys. See `docs/sandbox.md`, "For teams: stable keys".
    pub fn key_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.key_store = KeyStore::Dir(dir.into());
        self
    }

    /// Writes the keys to a new temporary directory (`$TMPDIR/wxpay-sandbox-*`, mode 0700 on
    /// Unix), removed when the sandbox shuts down or is dropped.
    pub fn temporary_key_dir(mut self) -> Self {
        self.key_store = KeyStore::Temporary;
        self
    }
}

/// Counters of a running sandbox (`GET /_sandbox/stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// TCP connections accepted, both listeners.
    pub connections: u64,
    /// TLS handshakes completed on the HTTPS listener.
    pub tls_handshakes: u64,
    /// Requests served.
    pub requests: u64,
    /// Requests of an operation with a QPS limit that the limit let through.
    pub limited_admitted: u64,
    /// Requests refused with FREQUENCY_LIMITED by the QPS limits.
    pub frequency_limited: u64,
}

/// A running sandbox. Dropping it stops it (and removes its temporary key directory, if it has
/// one); [`Sandbox::shutdown`] waits for that.
#[derive(Debug)]
pub struct Sandbox {
    shared: Arc<Shared>,
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    tls_ca_pem: String,
    tasks: JoinSet<()>,
    key_dir: Option<KeyDir>,
    /// Removes the temporary key directory when dropped.
    temporary: Option<tempfile::TempDir>,
}

/// What the sandbox prints at start and serves at `GET /_sandbox/info`.
fn info(
    keys: &SandboxKeys,
    appid: &str,
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    qps: &HashMap<String, u32>,
) -> serde_json::Value {
    serde_json::json!({
        "sandbox": concat!("wxpay-sandbox/", env!("CARGO_PKG_VERSION")),
        "cloudpay_url": http.map(|a| format!("http://{a}")),
        "http_url": http.map(|a| format!("http://{a}")),
        "https_url": https.map(|a| format!("https://{a}")),
        "mchid": keys.mchid,
        "appid": appid,
        "merchant_serial": keys.merchant_serial,
        "public_key_id": keys.public_key.as_ref().map(|k| k.id.as_str().to_owned()),
        "platform_serial": keys.platform.as_ref().map(|p| p.serial.clone()),
        "qps": qps,
    })
}

impl Sandbox {
    /// Binds the listeners and starts serving.
    pub async fn start(config: SandboxConfig) -> Result<Self, SandboxError> {
        let now =
            time::OffsetDateTime::from_unix_timestamp((config.clock)()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let fixtures = match config.fixtures {
            Some(f) => f,
            None => Fixtures::shipped()?,
        };
        let mut temporary = None;
        let dir = match config.key_store {
            KeyStore::Memory => None,
            KeyStore::Dir(dir) => Some(dir),
            KeyStore::Temporary => {
                let dir = temporary.insert(key_dir::temporary_dir()?);
                Some(dir.path().to_owned())
            }
        };
        let (keys, tls, mut key_dir) = match &dir {
            None => {
                let keys = match config.keys {
                    Some(keys) => keys,
                    None => SandboxKeys::generate(&config.mchid, now)?,
                };
                (keys, TlsIdentity::generate()?, None)
            }
            Some(dir) => {
                let opened = key_dir::open(dir, &config.mchid, config.keys, now)?;
                let key_dir = KeyDir { files: opened.files, origin: opened.origin, temporary: temporary.is_some() };
                (opened.keys, opened.tls, Some(key_dir))
            }
        };
        let v2 = v2_keys::open(&keys, dir.as_deref(), &config.v2, now)?;
        if let Some(key_dir) = &mut key_dir {
            let files = v2.files();
            key_dir.files.apiv2_key = files.apiv2_key.clone();
            key_dir.files.merchant_cert = files.merchant_cert.clone();
            if !v2.cert_key_is_merchant_key() {
                key_dir.files.merchant_cert_key = files.merchant_key.clone();
            }
        }
        let tls_config = tls.with_client_auth(v2.client_roots()?)?;
        let bind =
            |addr: SocketAddr| async move { TcpListener::bind(addr).await.map_err(|e| SandboxError::Bind(addr, e)) };
        let http_listener = match config.http {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let https_listener = match config.https {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        let local = |l: &Option<TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
        let (http, https) = (local(&http_listener), local(&https_listener));
        let mut info = info(&keys, v2.appid(), http, https, &config.qps);
        if let Some(object) = info.as_object_mut() {
            object.insert("notify_url".into(), serde_json::json!(config.notify_url));
        }
        let notifier =
            notify::Notifier::new(config.notify_url.clone(), config.notify_time_scale, &keys, config.clock.clone())?;
        let shared = Arc::new(Shared::new(
            keys,
            v2,
            State::new(fixtures, config.settle),
            limits::Limits::new(config.qps),
            config.shape,
            config.clock,
            info,
            notifier,
        ));
        let mut tasks = JoinSet::new();
        if let Some(listener) = http_listener {
            tasks.spawn(serve(listener, None, shared.clone()));
        }
        if let Some(listener) = https_listener {
            tasks.spawn(serve(listener, Some(tokio_rustls::TlsAcceptor::from(tls_config)), shared.clone()));
        }
        Ok(Self { shared, http, https, tls_ca_pem: tls.ca_pem, tasks, key_dir, temporary })
    }

    /// `http://127.0.0.1:PORT`, the base URL for CloudPay (and plain-HTTP v3 and v2) clients.
    /// v2 calls to `/secapi/` paths are refused here: no client certificate can come over plain
    /// HTTP.
    pub fn http_url(&self) -> Option<String> {
        self.http.map(|a| format!("http://{a}"))
    }

    /// `https://127.0.0.1:PORT`, the base URL for v3 and v2 clients that trust
    /// [`Sandbox::tls_ca_pem`]. A v2 client presents [`Sandbox::client_identity`] for `/secapi/`
    /// paths.
    pub fn https_url(&self) -> Option<String> {
        self.https.map(|a| format!("https://{a}"))
    }

    /// The v2 material: app id, API v2 key, merchant certificate, trusted client CAs.
    pub fn v2_keys(&self) -> &V2Keys {
        &self.shared.v2
    }

    /// A v2 client's merchant: the sandbox's `mchid` and app id, and its API v2 key
    /// (`wxpay_protocol::v2::Merchant::call` signs requests with it).
    pub fn v2_merchant(&self) -> Result<wxpay_protocol::v2::Merchant, SandboxError> {
        self.shared.v2.merchant(&self.shared.keys.mchid)
    }

    /// The merchant certificate and its key, the TLS client certificate `/secapi/` paths need.
    pub fn client_identity(&self) -> Result<wxpay_protocol::security::ClientIdentity, SandboxError> {
        self.shared.v2.client_identity()
    }

    /// The CA certificate of the HTTPS listener, PEM.
    pub fn tls_ca_pem(&self) -> &str {
        &self.tls_ca_pem
    }

    /// The keys: merchant credentials for clients, WeChat Pay keys to verify answers with.
    pub fn keys(&self) -> &SandboxKeys {
        &self.shared.keys
    }

    /// The key directory, when the sandbox was configured with one
    /// ([`SandboxConfig::key_dir`], [`SandboxConfig::temporary_key_dir`]).
    pub fn key_dir(&self) -> Option<&KeyDir> {
        self.key_dir.as_ref()
    }

    /// The start-up information (URLs, ids), as printed by the binary.
    pub fn info(&self) -> &serde_json::Value {
        &self.shared.info
    }

    /// Makes the next `count` answers of `operation` misbehave. CloudPay operations are named by
    /// their path (`queryrefund`), v3 and v2 ones by their
    /// [`OperationSpec::name`](wxpay_protocol::OperationSpec::name) (`pay/refundquery`).
    pub fn inject(&self, operation: &str, fault: Fault, count: u32) -> Result<(), SandboxError> {
        server::check_operation(operation, fault).map_err(SandboxError::Config)?;
        self.shared.faults.inject(operation, fault, count);
        Ok(())
    }

    /// Rotates the platform certificate as WeChat Pay does: a new certificate (new key, new
    /// serial) is served by `/v3/certificates` beside the old ones and signs every answer whose
    /// request names no serial, or names it. Returns the new serial.
    pub fn rotate_platform_certificate(&self) -> Result<String, SandboxError> {
        let now = time::OffsetDateTime::from_unix_timestamp((self.shared.clock)())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let certificate = keys::PlatformCertificate::generate(now)?;
        let serial = certificate.serial.clone();
        self.shared.rotated.write().unwrap_or_else(|p| p.into_inner()).push(certificate);
        Ok(serial)
    }

    /// Connections, TLS handshakes and requests so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Every notification sent so far and its delivery attempts, oldest first.
    pub fn notifications(&self) -> Vec<Delivery> {
        self.shared.notifier.deliveries()
    }

    /// Sends the notifications of an order (one per receiver that received its amount) or of one
    /// of its returns, now, whatever its state reads; returns their ids. Needs
    /// [`SandboxConfig::notify_url`].
    pub fn notify(&self, request: &NotifyRequest) -> Result<Vec<String>, SandboxError> {
        notify::notify_on_demand(&self.shared, request).map_err(SandboxError::Config)
    }

    /// Forgets queries, finishes and queued faults.
    pub fn reset(&self) {
        self.shared.state.reset();
        self.shared.faults.clear();
    }

    /// Stops serving, waits for the listeners to close, and removes the temporary key
    /// directory, if there is one.
    pub async fn shutdown(mut self) {
        self.tasks.abort_all();
        self.shared.notifier.abort_all();
        while self.tasks.join_next().await.is_some() {}
        if let Some(dir) = self.temporary.take() {
            let path = dir.path().to_owned();
            if let Err(e) = dir.close() {
                tracing::warn!(error = %e, dir = %path.display(), "cannot remove the temporary key directory");
            }
        }
    }
}

/// Accepts connections until aborted; each connection is served on its own task, aborted with
/// the listener.
async fn serve(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        // Answers are small and written in parts: without this, Nagle's algorithm and delayed
        // ACKs add ~40 ms to every answer on a new connection.
        let _ = stream.set_nodelay(true);
        shared.connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shared = shared.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let builder = http1::Builder::new();
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => {
                        shared.tls_handshakes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        // Verified against the client roots by the handshake (tls.rs).
                        let client_certificate = stream.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                        let connection = server::Connection { client_certificate };
                        let service = service_fn(move |request| server::handle(shared.clone(), connection, request));
                        builder.serve_connection(TokioIo::new(stream), service).await
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        return;
                    }
                },
                None => {
                    let connection = server::Connection { client_certificate: false };
                    let service = service_fn(move |request| server::handle(shared.clone(), connection, request));
                    builder.serve_connection(TokioIo::new(stream), service).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
}
