//! A raw HTTP/1.1 client for the sandbox's integration tests. Requests are written byte by byte
//! over a `TcpStream` (wrapped in TLS for the HTTPS listener, trusting only the sandbox's CA),
//! answers are read until the server closes the connection and parsed here with `httparse`: no
//! part of our own client stack is involved, so the tests see exactly what any client would.
//!
//! Every sandbox here runs on a pinned clock ([`TestClock`]) and shares one generated key set
//! (RSA key generation is the slow part of a start).

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use wxpay_protocol::NonceStr;
use wxpay_protocol::security::{
    self, AUTH_SCHEME, AuthorizationHeader, MerchantCredentials, SigningParams, Verification, VerificationError,
};
use wxpay_sandbox::{DEFAULT_MCHID, Sandbox, SandboxConfig, SandboxKeys};

/// The time every sandbox starts at: 2025-11-21 04:40:00 UTC.
pub(crate) const T0: i64 = 1_763_700_000;

/// The sub-merchant of every shipped fixture.
pub(crate) const SUB: &str = "1900000109";

/// The v3 order query of the shipped fixture (docs/protocol.md §8.4).
pub(crate) const ORDER_QUERY: &str = "/v3/ecommerce/profitsharing/orders?sub_mchid=1900000109&transaction_id=4208450740201411110007820472&out_order_no=P20150806125346";

/// The v3 return query of the shipped fixture (docs/protocol.md §8.2).
pub(crate) const RETURN_QUERY: &str = "/v3/ecommerce/profitsharing/returnorders?sub_mchid=1900000109&out_order_no=P20150806125346&out_return_no=R20190516001";

/// One key set per test binary, generated at [`T0`].
pub(crate) fn keys() -> SandboxKeys {
    static KEYS: OnceLock<SandboxKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        SandboxKeys::generate(DEFAULT_MCHID, time::OffsetDateTime::from_unix_timestamp(T0).unwrap()).unwrap()
    })
    .clone()
}

/// The merchant's signing credentials of [`keys`].
pub(crate) fn credentials() -> MerchantCredentials {
    keys().merchant_credentials().expect("generated keys carry the merchant's private key")
}

/// A clock the test sets and advances (Unix seconds).
#[derive(Debug, Clone)]
pub(crate) struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub(crate) fn new(now: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now)))
    }

    pub(crate) fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    pub(crate) fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// The sandbox's view of this clock.
    pub(crate) fn clock(&self) -> wxpay_sandbox::Clock {
        let inner = self.0.clone();
        Arc::new(move || inner.load(Ordering::SeqCst))
    }
}

/// The shared keys and a clock pinned at [`T0`].
pub(crate) fn config() -> (SandboxConfig, TestClock) {
    let clock = TestClock::new(T0);
    (SandboxConfig::new().keys(keys()).clock(clock.clock()), clock)
}

/// A sandbox with the defaults, the shared keys and a pinned clock.
pub(crate) async fn start() -> (Sandbox, TestClock) {
    let (config, clock) = config();
    (Sandbox::start(config).await.unwrap(), clock)
}

/// Which listener a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Http,
    Https,
}

fn addr(url: Option<String>) -> SocketAddr {
    let url = url.expect("the listener is on");
    url.split_once("://").unwrap().1.parse().unwrap()
}

/// A request, written out by hand.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

static NONCES: AtomicU64 = AtomicU64::new(1);

/// A fresh 32-character nonce of digits.
pub(crate) fn nonce() -> String {
    format!("{:032}", NONCES.fetch_add(1, Ordering::Relaxed))
}

impl Req {
    pub(crate) fn new(method: &str, target: &str) -> Self {
        Self { method: method.to_owned(), target: target.to_owned(), headers: Vec::new(), body: Vec::new() }
    }

    pub(crate) fn get(target: &str) -> Self {
        Self::new("GET", target)
    }

    pub(crate) fn post(target: &str) -> Self {
        Self::new("POST", target)
    }

    /// `POST /_/pay/{op}` with a JSON body and `Content-Type: application/json`.
    pub(crate) fn cloudpay(op: &str, body: &Value) -> Self {
        Self::post(&format!("/_/pay/{op}")).header("Content-Type", "application/json").body(body.to_string())
    }

    /// `GET target` signed by the merchant at `timestamp`, with `Accept` and `User-Agent`.
    pub(crate) fn v3(target: &str, timestamp: i64) -> Self {
        Self::v3_with_serial(target, timestamp, None)
    }

    /// Like [`Req::v3`], also asking for answers signed by `serial` (`Wechatpay-Serial`).
    pub(crate) fn v3_with_serial(target: &str, timestamp: i64, serial: Option<&str>) -> Self {
        let mut req = Self::get(target);
        for (name, value) in signed_headers(&credentials(), "GET", target, timestamp, serial) {
            req = req.header(&name, &value);
        }
        req
    }

    /// Adds a header (sent as given, in order).
    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces every header called `name` (any case) with one of `value`.
    pub(crate) fn set(self, name: &str, value: &str) -> Self {
        self.without(name).header(name, value)
    }

    /// Removes every header called `name` (any case).
    pub(crate) fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// The value of header `name`.
    pub(crate) fn get_header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub(crate) fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The bytes on the wire: request line, `Host`, `Connection: close`, the headers,
    /// `Content-Length` when there is a body or the method is POST, then the body.
    pub(crate) fn to_bytes(&self, host: SocketAddr) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n", self.method, self.target);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || self.method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// The headers `sign_request` sets for `METHOD target` at `timestamp`: `Authorization`,
/// `Accept`, `User-Agent` and, when asked for, `Wechatpay-Serial`.
pub(crate) fn signed_headers(
    credentials: &MerchantCredentials,
    method: &str,
    target: &str,
    timestamp: i64,
    serial: Option<&str>,
) -> Vec<(String, String)> {
    let mut request = http::Request::new(Vec::new());
    *request.method_mut() = method.parse().unwrap();
    *request.uri_mut() = target.parse().unwrap();
    let nonce = NonceStr::new(nonce()).unwrap();
    let mut params = SigningParams::new(credentials, timestamp, &nonce);
    if let Some(serial) = serial {
        params = params.wechatpay_serial(serial);
    }
    let signed = security::sign_request(&request, &params).unwrap();
    signed.headers().iter().map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned())).collect()
}

/// The five fields of a valid `Authorization` for `GET target` at `timestamp`.
pub(crate) fn authorization_fields(target: &str, timestamp: i64) -> AuthorizationHeader {
    let headers = signed_headers(&credentials(), "GET", target, timestamp, None);
    let auth = &headers.iter().find(|(n, _)| n == "authorization").unwrap().1;
    security::parse_authorization(auth).unwrap()
}

/// An `Authorization` value written from `fields` (name, value) after the scheme.
pub(crate) fn authorization(fields: &[(&str, &str)]) -> String {
    let list: Vec<String> = fields.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{AUTH_SCHEME} {}", list.join(","))
}

/// What came back on a connection: the bytes until the server closed it, and the error that
/// ended reading, if any.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) bytes: Vec<u8>,
    pub(crate) error: Option<std::io::ErrorKind>,
}

async fn write_and_read<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, request: &[u8]) -> Received {
    stream.write_all(request).await.unwrap();
    stream.flush().await.unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) => return Received { bytes, error: None },
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) => return Received { bytes, error: Some(e.kind()) },
        }
    }
}

/// A TLS connector that trusts only the sandbox's CA, on the aws-lc-rs provider.
pub(crate) fn tls_connector(ca_pem: &str) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Sends `request` to `addr` (over TLS when `tls_ca_pem` is given) and reads until the server
/// closes the connection.
pub(crate) async fn exchange_at(addr: SocketAddr, tls_ca_pem: Option<&str>, request: &[u8]) -> Received {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    match tls_ca_pem {
        None => write_and_read(tcp, request).await,
        Some(ca) => {
            let name = ServerName::try_from(addr.ip().to_string()).unwrap();
            let tls = tls_connector(ca).connect(name, tcp).await.unwrap();
            write_and_read(tls, request).await
        }
    }
}

/// The listener's address.
pub(crate) fn listener(sandbox: &Sandbox, via: Via) -> SocketAddr {
    match via {
        Via::Http => addr(sandbox.http_url()),
        Via::Https => addr(sandbox.https_url()),
    }
}

/// Sends `req` to the sandbox and returns what came back, unparsed.
pub(crate) async fn exchange(sandbox: &Sandbox, via: Via, req: &Req) -> Received {
    let addr = listener(sandbox, via);
    let ca = (via == Via::Https).then(|| sandbox.tls_ca_pem());
    exchange_at(addr, ca, &req.to_bytes(addr)).await
}

/// Sends `req` and parses the answer.
pub(crate) async fn send(sandbox: &Sandbox, via: Via, req: &Req) -> Raw {
    Raw::parse(exchange(sandbox, via, req).await)
}

/// Sends `req` to the plain HTTP listener.
pub(crate) async fn http(sandbox: &Sandbox, req: &Req) -> Raw {
    send(sandbox, Via::Http, req).await
}

/// Sends `req` to the HTTPS listener.
pub(crate) async fn https(sandbox: &Sandbox, req: &Req) -> Raw {
    send(sandbox, Via::Https, req).await
}

/// A CloudPay call over HTTP.
pub(crate) async fn cloudpay(sandbox: &Sandbox, op: &str, body: &Value) -> Raw {
    http(sandbox, &Req::cloudpay(op, body)).await
}

/// A parsed answer.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// The `Content-Length` header, if any.
    pub(crate) content_length: Option<usize>,
    /// The error that ended reading (a TLS connection cut without close_notify, say).
    pub(crate) error: Option<std::io::ErrorKind>,
}

impl Raw {
    /// Parses the status line and headers; the body is what follows, up to `Content-Length`.
    pub(crate) fn parse(received: Received) -> Self {
        let bytes = received.bytes;
        assert!(!bytes.is_empty(), "no answer at all (read ended with {:?})", received.error);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&bytes).unwrap() {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => panic!("incomplete head: {:?}", String::from_utf8_lossy(&bytes)),
        };
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), String::from_utf8(h.value.to_vec()).unwrap()))
            .collect();
        let status = response.code.unwrap();
        let content_length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse::<usize>().unwrap());
        assert!(
            !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding")),
            "the sandbox answers with Content-Length"
        );
        let mut body = bytes[head_len..].to_vec();
        if let Some(len) = content_length {
            body.truncate(len);
        }
        Self { status, headers, body, content_length, error: received.error }
    }

    /// The value of header `name` (any case); panics if it appears more than once.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = values.next().map(|(_, v)| v.as_str());
        assert!(values.next().is_none(), "{name} appears twice");
        first
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// Whether any `Wechatpay-*` signature header is present.
    pub(crate) fn has_signature_headers(&self) -> bool {
        [
            "Wechatpay-Timestamp",
            "Wechatpay-Nonce",
            "Wechatpay-Signature",
            "Wechatpay-Serial",
            "Wechatpay-Signature-Type",
        ]
        .iter()
        .any(|h| self.header(h).is_some())
    }

    /// The answer as an `http::Response`, for the protocol's parsers and verifier.
    pub(crate) fn http(&self) -> http::Response<Vec<u8>> {
        let mut builder = http::Response::builder().status(self.status);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder.body(self.body.clone()).unwrap()
    }

    /// Verifies the answer with `sandbox`'s WeChat Pay keys at `now`.
    pub(crate) fn verify(&self, sandbox: &Sandbox, now: i64) -> Result<Verification, VerificationError> {
        security::verify_response(&self.http(), now, &sandbox.keys().wechatpay_keys().unwrap())
            .map(|verified| verified.verification().clone())
    }

    /// Verifies the answer with `sandbox`'s WeChat Pay keys at `now` and parses it with `parse`.
    pub(crate) fn parse_verified<T>(
        &self,
        sandbox: &Sandbox,
        now: i64,
        parse: impl FnOnce(&security::Verified<'_>) -> Result<T, wxpay_protocol::Error>,
    ) -> Result<T, wxpay_protocol::Error> {
        let http = self.http();
        let verified = security::verify_response(&http, now, &sandbox.keys().wechatpay_keys().unwrap())
            .expect("an answer signed with the sandbox's keys");
        parse(&verified)
    }

    /// Verifies the answer with `sandbox`'s WeChat Pay keys at `now` and parses it as `operation`'s.
    pub(crate) fn parse_v3<O>(
        &self,
        operation: &O,
        sandbox: &Sandbox,
        now: i64,
    ) -> Result<O::Output, wxpay_protocol::Error>
    where
        O: for<'a> wxpay_protocol::Operation<Answer<'a> = security::Verified<'a>>,
    {
        let http = self.http();
        let verified = security::verify_response(&http, now, &sandbox.keys().wechatpay_keys().unwrap())
            .expect("an answer signed with the sandbox's keys");
        operation.parse(verified)
    }

    /// Asserts a v3 error answer: status, `code`, and a message containing `needle`.
    pub(crate) fn assert_v3_error(&self, status: u16, code: &str, needle: &str) {
        assert_eq!(self.status, status, "{}", String::from_utf8_lossy(&self.body));
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        let message = body["message"].as_str().expect("a message");
        assert!(message.contains(needle), "{message:?} should mention {needle:?}");
    }
}
