//! Both transports present the merchant API certificate of `ClientConfig::client_identity` as a
//! TLS client certificate (docs/protocol.md §5: the v2 finish under `/secapi/` needs it), against a
//! local HTTPS server that requires one signed by its CA; without the certificate, the handshake
//! is refused (a TLS transport error) or, for a `/secapi/` call, nothing is sent at all; a key
//! that is not the certificate's is refused when the client is built.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use wxpay_protocol::client::{ClientConfig, RetryPolicy};
use wxpay_protocol::cloudpay::{FinishRequest, ReturnQueryRequest};
use wxpay_protocol::security::{ClientIdentity, Mchid, SigningError};
use wxpay_protocol::v2::{ApiV2Key, AppId, Merchant};
use wxpay_protocol::{BaseUrl, Error, TransportErrorKind, v2};
use wxpay_tests::{finish, return_query};

const MCH_ID: &str = "1900000100";
const APPID: &str = "wx8888888888888888";
const API_V2_KEY: &[u8; 32] = b"192006250b4c09247ec02edce69f6a2d";
const ORDER_ID: &str = "3008450740201411110007820472";

/// A test CA, a server certificate for 127.0.0.1 and a merchant API certificate (RSA, as
/// WeChat Pay issues them) signed by the CA, plus a key that belongs to neither.
struct Pki {
    ca: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key_der: Vec<u8>,
    client_cert_pem: String,
    client_key_pem: String,
    other_key_pem: String,
}

/// Generated once per test binary (RSA key generation is the slow part).
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "wxpay client TLS test CA");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();

        let server_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let server_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        let server = server_params.signed_by(&server_key, &ca).unwrap();

        let client_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let mut client_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params.distinguished_name.push(rcgen::DnType::CommonName, MCH_ID);
        client_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params.signed_by(&client_key, &ca).unwrap();
        let other_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();

        Pki {
            ca: CertificateDer::from(ca.der().to_vec()),
            server_chain: vec![CertificateDer::from(server.der().to_vec())],
            server_key_der: server_key.serialize_der(),
            client_cert_pem: client.pem(),
            client_key_pem: client_key.serialize_pem(),
            other_key_pem: other_key.serialize_pem(),
        }
    })
}

fn identity() -> ClientIdentity {
    let pki = pki();
    ClientIdentity::from_pem(pki.client_cert_pem.as_bytes(), pki.client_key_pem.as_bytes()).unwrap()
}

fn mismatched_identity() -> ClientIdentity {
    let pki = pki();
    ClientIdentity::from_pem(pki.client_cert_pem.as_bytes(), pki.other_key_pem.as_bytes()).unwrap()
}

fn merchant() -> Merchant {
    Merchant::new(Mchid::new(MCH_ID).unwrap(), AppId::new(APPID).unwrap(), ApiV2Key::new(API_V2_KEY).unwrap())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// An HTTPS server on 127.0.0.1 that requires a client certificate signed by the test CA and
/// answers a signed v2 finish with a signed success (one request per connection).
struct MtlsServer {
    addr: SocketAddr,
    /// TCP connections accepted, handshakes refused included.
    connections: Arc<AtomicUsize>,
    /// The paths of the requests read, in order.
    served: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MtlsServer {
    fn start() -> Self {
        let pki = pki();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca.clone()).unwrap();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider()).build().unwrap();
        let key = PrivateKeyDer::try_from(pki.server_key_der.clone()).unwrap();
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(pki.server_chain.clone(), key)
            .unwrap();
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (connections, served, stop) = (connections.clone(), served.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (config, served) = (config.clone(), served.clone());
                    std::thread::spawn(move || serve(stream, config, &served));
                }
            })
        };
        Self { addr, connections, served, stop, thread: Some(thread) }
    }

    fn base(&self) -> BaseUrl {
        BaseUrl::parse(&format!("https://{}", self.addr)).unwrap()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn served(&self) -> Vec<String> {
        self.served.lock().unwrap().clone()
    }
}

impl Drop for MtlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One connection: the handshake (which fails without an acceptable client certificate; rustls
/// then sends its alert), one request, one answer. The socket is drained before it closes, so
/// that the client reads the alert rather than a reset.
fn serve(stream: TcpStream, config: Arc<ServerConfig>, served: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(connection) = ServerConnection::new(config) else { return };
    let mut tls = StreamOwned::new(connection, stream);
    if let Some((path, body)) = read_request(&mut tls) {
        served.lock().unwrap().push(path);
        let answer = answer(&body);
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            answer.len()
        );
        let _ = tls.write_all(head.as_bytes());
        let _ = tls.write_all(&answer);
        tls.conn.send_close_notify();
        let _ = tls.flush();
    }
    let _ = tls.sock.shutdown(Shutdown::Write);
    let mut sink = [0u8; 4096];
    while matches!(tls.sock.read(&mut sink), Ok(n) if n > 0) {}
}

/// The path and body of an HTTP/1.1 request with a `content-length`.
fn read_request(stream: &mut impl Read) -> Option<(String, Vec<u8>)> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let path = head.split(' ').nth(1)?.to_owned();
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = bytes[end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    Some((path, body))
}

/// A signed v2 success for a finish signed with the test key; an unsigned FAIL otherwise.
fn answer(body: &[u8]) -> Vec<u8> {
    let key = ApiV2Key::new(API_V2_KEY).unwrap();
    match v2::read_request::<FinishRequest>(body, &key) {
        Ok(received) => {
            let json = serde_json::json!({
                "return_code": "SUCCESS",
                "result_code": "SUCCESS",
                "transaction_id": received.request.transaction_id().as_str(),
                "out_order_no": received.request.out_order_no().as_str(),
                "order_id": ORDER_ID,
            });
            let add = [("mch_id", MCH_ID), ("appid", APPID), ("nonce_str", "7dTtdTWbWMsXkPTb")];
            v2::encode_answer(json.to_string().as_bytes(), &add, &key, received.sign_type).unwrap()
        }
        Err(_) => b"<xml><return_code>FAIL</return_code><return_msg>bad request</return_msg></xml>".to_vec(),
    }
}

/// The v2 wire pointed at `server`, retrying nothing (a refused handshake is final anyway).
fn config(server: &MtlsServer) -> ClientConfig {
    ClientConfig::new().v2_base(server.base()).unwrap().retry_policy(RetryPolicy::never())
}

fn v2_finish() -> v2::Call<FinishRequest> {
    merchant().call(finish("P20261121TLS"))
}

fn v2_return_query() -> v2::Call<ReturnQueryRequest> {
    merchant().call(return_query())
}

/// A TLS transport error caused by the server's `certificate_required` alert.
fn refused_for_want_of_a_certificate(err: &Error) -> bool {
    matches!(err, Error::Transport(t) if t.kind() == TransportErrorKind::Tls) && has_alert(err)
}

/// Whether the error chain holds rustls's `certificate_required` alert, looking inside
/// `io::Error`s and ureq's errors too (whose `source()` skips the error they wrap).
fn has_alert(error: &(dyn std::error::Error + 'static)) -> bool {
    let wrapped = error
        .downcast_ref::<std::io::Error>()
        .or(match error.downcast_ref::<ureq::Error>() {
            Some(ureq::Error::Io(io)) => Some(io),
            _ => None,
        })
        .and_then(std::io::Error::get_ref);
    matches!(
        error.downcast_ref::<rustls::Error>(),
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired))
    ) || wrapped.is_some_and(|inner| has_alert(inner))
        || error.source().is_some_and(has_alert)
}

fn async_client(config: ClientConfig) -> wxpay_transport_hyper::Client {
    wxpay_transport_hyper::Client::builder()
        .config(config)
        .add_root_certificate(pki().ca.clone())
        .without_webpki_roots()
        .build()
        .unwrap()
}

fn blocking_client(config: ClientConfig) -> wxpay_blocking::Client {
    wxpay_blocking::Client::builder().config(config).add_root_certificate(pki().ca.clone()).build().unwrap()
}

#[tokio::test]
async fn async_client_presents_the_configured_certificate() {
    let server = MtlsServer::start();
    let client = async_client(config(&server).client_identity(identity()));
    let finished = client.execute(v2_finish()).await.unwrap();
    assert_eq!((finished.order_id.as_str(), finished.out_order_no.as_str()), (ORDER_ID, "P20261121TLS"));
    assert_eq!(server.served(), ["/secapi/pay/profitsharingfinish"]);
}

#[test]
fn blocking_client_presents_the_configured_certificate() {
    let server = MtlsServer::start();
    let client = blocking_client(config(&server).client_identity(identity()));
    let finished = client.execute(v2_finish()).unwrap();
    assert_eq!((finished.order_id.as_str(), finished.out_order_no.as_str()), (ORDER_ID, "P20261121TLS"));
    assert_eq!(server.served(), ["/secapi/pay/profitsharingfinish"]);
}

#[tokio::test]
async fn async_client_without_a_certificate_is_refused_by_the_server() {
    let server = MtlsServer::start();
    let client = async_client(config(&server));
    // Not under /secapi/: the client sends it, the server refuses the handshake.
    let err = client.execute(v2_return_query()).await.unwrap_err();
    assert!(refused_for_want_of_a_certificate(&err), "{err:?}");
    assert!(server.connections() >= 1);
    assert!(server.served().is_empty());
}

#[test]
fn blocking_client_without_a_certificate_is_refused_by_the_server() {
    let server = MtlsServer::start();
    let client = blocking_client(config(&server));
    let err = client.execute(v2_return_query()).unwrap_err();
    assert!(refused_for_want_of_a_certificate(&err), "{err:?}");
    assert!(server.connections() >= 1);
    assert!(server.served().is_empty());
}

#[tokio::test]
async fn async_secapi_call_without_a_certificate_is_never_sent() {
    let server = MtlsServer::start();
    let client = async_client(config(&server));
    let err = client.execute(v2_finish()).await.unwrap_err();
    assert!(matches!(err, Error::Signing(SigningError::MissingClientCertificate(_))), "{err:?}");
    assert_eq!(server.connections(), 0);
}

#[test]
fn blocking_secapi_call_without_a_certificate_is_never_sent() {
    let server = MtlsServer::start();
    let client = blocking_client(config(&server));
    let err = client.execute(v2_finish()).unwrap_err();
    assert!(matches!(err, Error::Signing(SigningError::MissingClientCertificate(_))), "{err:?}");
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_by_both_builders() {
    let config = ClientConfig::new().client_identity(mismatched_identity());
    let hyper = wxpay_transport_hyper::Client::builder().config(config.clone()).build().unwrap_err();
    let blocking = wxpay_blocking::Client::builder().config(config).build().unwrap_err();
    assert!(matches!(hyper, wxpay_transport_hyper::BuildError::ClientKeyMismatch), "{hyper:?}");
    assert!(matches!(blocking, wxpay_blocking::BuildError::ClientKeyMismatch), "{blocking:?}");
    assert_eq!(hyper.to_string(), blocking.to_string());
}

#[test]
fn a_key_rustls_cannot_use_is_refused_by_both_builders() {
    // A PKCS#8 section that is not a key: `ClientIdentity` only reads the PEM; rustls refuses it.
    let junk_key = "-----BEGIN PRIVATE KEY-----\nMAMCAQE=\n-----END PRIVATE KEY-----\n";
    let identity = ClientIdentity::from_pem(pki().client_cert_pem.as_bytes(), junk_key.as_bytes()).unwrap();
    let config = ClientConfig::new().client_identity(identity);
    let hyper = wxpay_transport_hyper::Client::builder().config(config.clone()).build().unwrap_err();
    let blocking = wxpay_blocking::Client::builder().config(config).build().unwrap_err();
    assert!(matches!(hyper, wxpay_transport_hyper::BuildError::ClientIdentity(_)), "{hyper:?}");
    assert!(matches!(blocking, wxpay_blocking::BuildError::ClientIdentity(_)), "{blocking:?}");
    assert_eq!(hyper.to_string(), blocking.to_string());
}

#[test]
fn no_key_material_in_debug_output() {
    let config = ClientConfig::new().client_identity(identity());
    let pem_body: String = pki().client_key_pem.lines().nth(1).unwrap().to_owned();
    let key = PrivateKeyDer::from_pem_slice(pki().client_key_pem.as_bytes()).unwrap();
    let key_bytes = format!("{:?}", &key.secret_der()[..16]);
    let hyper = wxpay_transport_hyper::Client::builder().config(config.clone());
    let blocking = wxpay_blocking::Client::builder().config(config.clone());
    let shown = [
        format!("{hyper:?}"),
        format!("{:?}", hyper.build().unwrap()),
        format!("{blocking:?}"),
        format!("{:?}", blocking.build().unwrap()),
    ];
    for shown in shown {
        assert!(!shown.contains(&pem_body) && !shown.contains(&key_bytes), "{shown}");
    }
}
