//! The HTTP service: routing, the CloudPay, v3 and v2 handlers, answer signing, fault injection
//! and the admin endpoint. Every protocol rule comes from wxpay-protocol: requests are read with
//! the same validated types clients build, answers are written with its encoders and signed
//! with its signing functions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use wxpay_protocol::cloudpay::{CloudPayOp, Failure, ReplyShape};
use wxpay_protocol::security::{self, CertificatesResponse, EncryptedCertificate, KeySet};
use wxpay_protocol::{Api, ErrorCode, header as wx, v3};

use crate::body::Body;
use crate::faults::{Fault, Faults};
use crate::keys::{SandboxKeys, random_bytes};
use crate::limits::Limits;
use crate::routes::{self, Route, Serve, Served};
use crate::state::{Refusal, State};
use crate::v2_keys::V2Keys;

/// The largest request body read.
const MAX_BODY: usize = 64 * 1024;

/// The clock the sandbox reads (Unix seconds); tests may pin it.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Everything a request handler needs.
pub(crate) struct Shared {
    pub(crate) keys: SandboxKeys,
    /// The v2 wire's app id, API v2 key and merchant certificate.
    pub(crate) v2: V2Keys,
    pub(crate) merchant_keys: KeySet,
    pub(crate) state: State,
    pub(crate) limits: Limits,
    pub(crate) faults: Faults,
    pub(crate) shape: ReplyShape,
    pub(crate) clock: Clock,
    pub(crate) info: serde_json::Value,
    requests: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) tls_handshakes: AtomicU64,
    /// Platform certificates added by rotation, newest last: served beside the configured one,
    /// and the newest signs answers that name no serial.
    pub(crate) rotated: std::sync::RwLock<Vec<crate::keys::PlatformCertificate>>,
    /// Sends profit-sharing notifications (when a notify URL is configured).
    pub(crate) notifier: crate::notify::Notifier,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("keys", &self.keys).field("shape", &self.shape).finish_non_exhaustive()
    }
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        keys: SandboxKeys,
        v2: V2Keys,
        state: State,
        limits: Limits,
        shape: ReplyShape,
        clock: Clock,
        info: serde_json::Value,
        notifier: crate::notify::Notifier,
    ) -> Self {
        let merchant_keys = keys.merchant_keys();
        Self {
            keys,
            v2,
            merchant_keys,
            state,
            limits,
            faults: Faults::default(),
            shape,
            clock,
            info,
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            tls_handshakes: AtomicU64::new(0),
            rotated: std::sync::RwLock::default(),
            notifier,
        }
    }

    /// Every platform certificate served, oldest first.
    pub(crate) fn platform_certificates(&self) -> Vec<crate::keys::PlatformCertificate> {
        let rotated = self.rotated.read().unwrap_or_else(|p| p.into_inner());
        self.keys.platform.iter().chain(rotated.iter()).cloned().collect()
    }

    /// Connections accepted, TLS handshakes completed and requests served so far.
    pub(crate) fn stats(&self) -> crate::Stats {
        let (limited_admitted, frequency_limited) = self.limits.counts();
        crate::Stats {
            connections: self.connections.load(Ordering::Relaxed),
            tls_handshakes: self.tls_handshakes.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            limited_admitted,
            frequency_limited,
        }
    }

    fn request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let salt = random_bytes::<4>().map(|b| crate::keys::hex(&b)).unwrap_or_default();
        format!("SBX{n:010}{salt}")
    }
}

/// The connection is closed without an answer (the `drop` fault, or an unreadable request).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped: {0}")]
pub(crate) struct Dropped(&'static str);

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// What the server knows of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Connection {
    /// Whether the client presented a TLS client certificate, which the handshake verified
    /// against the client roots (`tls.rs`). Always `false` on plain HTTP.
    pub(crate) client_certificate: bool,
}

/// Serves one request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    connection: Connection,
    request: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_BODY).collect().await.map_err(|_| Dropped("unreadable request body"))?.to_bytes();
    let request = Request::from_parts(parts, body.to_vec());
    let request_id = shared.request_id();
    let path = request.uri().path().to_owned();
    let mut response = if path.starts_with("/_sandbox/") {
        admin(&shared, &request)
    } else if let Some(route) = routes::route_at(&path) {
        let spec = route.spec;
        match spec.api {
            Api::CloudPay if spec.method != *request.method() => {
                json_response(StatusCode::METHOD_NOT_ALLOWED, Vec::new())
            }
            Api::CloudPay => with_fault(&shared, spec.name, |fault| cloudpay(&shared, route, &request, fault)).await?,
            Api::V3 if spec.method != *request.method() => v3_refusal(&Refusal::new(
                ErrorCode::InvalidRequest,
                format!("only {} is served here", spec.method.as_http()),
            ))
            .map_status(StatusCode::METHOD_NOT_ALLOWED),
            Api::V3 => {
                if let Err(e) =
                    security::verify_request(&request, (shared.clock)(), &shared.keys.mchid, &shared.merchant_keys)
                {
                    // 401 answers go to unauthenticated requests and are not signed
                    // (docs/protocol.md §2.4). They come before faults: a request that is not the
                    // merchant's does not use up a fault queued for the merchant's next request.
                    v3_refusal(&Refusal::new(ErrorCode::SignErrorV3, e.to_string()))
                } else {
                    with_fault(&shared, spec.name, |fault| v3_answer(&shared, route, &request, fault, &request_id))
                        .await?
                }
            }
            Api::V2 if spec.method != *request.method() => xml_response(StatusCode::METHOD_NOT_ALLOWED, Vec::new()),
            // Refused before the request is read, and before faults (as v3's authentication):
            // WeChat Pay's front end refuses the connection's request (docs/protocol.md §5).
            Api::V2 if spec.needs_client_certificate() && !connection.client_certificate => no_client_certificate(),
            Api::V2 => with_fault(&shared, spec.name, |fault| v2(&shared, route, &request, fault)).await?,
            // A wire this sandbox does not serve yet.
            _ => v3_refusal(&Refusal::new(ErrorCode::ResourceNotExists, "no such path in wxpay-sandbox"))
                .map_status(StatusCode::NOT_FOUND),
        }
    } else {
        v3_refusal(&Refusal::new(ErrorCode::ResourceNotExists, "no such path in wxpay-sandbox"))
    };
    let headers = response.headers_mut();
    headers.insert(wx::REQUEST_ID, HeaderValue::from_str(&request_id).unwrap_or(HeaderValue::from_static("SBX")));
    headers.insert(header::SERVER, HeaderValue::from_static(concat!("wxpay-sandbox/", env!("CARGO_PKG_VERSION"))));
    Ok(response)
}

/// Takes the operation's next fault and runs `answer` under it.
async fn with_fault(
    shared: &Shared,
    operation: &str,
    answer: impl FnOnce(Option<Fault>) -> Response<Body>,
) -> Result<Response<Body>, Dropped> {
    let fault = shared.faults.take(operation);
    match fault {
        Some(Fault::Drop) => return Err(Dropped("fault injection")),
        Some(Fault::Delay { ms }) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
        _ => {}
    }
    Ok(answer(fault))
}

// ------------------------------------------------------------------------------------------
// CloudPay

fn cloudpay(shared: &Shared, route: &Route, request: &Request<Vec<u8>>, fault: Option<Fault>) -> Response<Body> {
    let shape = shared.shape;
    let Some(op) = CloudPayOp::from_name(route.spec.name) else {
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, Vec::new());
    };
    let fail = |refusal: &Refusal| {
        json_response(StatusCode::OK, Failure::with_code(refusal.code.clone(), &refusal.message).encode(op, shape))
    };
    match fault {
        Some(Fault::ServerError) => return fail(&Refusal::new(ErrorCode::SystemError, "系统超时")),
        Some(Fault::TooManyRequests) => return fail(&Refusal::new(ErrorCode::FrequencyLimited, "频率限制")),
        Some(Fault::NotJson) => return not_json(),
        _ => {}
    }
    let json_body = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json_body {
        return json_response(
            StatusCode::OK,
            Failure::without_code("Content-Type must be application/json").encode(op, shape),
        );
    }
    let Serve::Json(serve) = route.serve else { return json_response(StatusCode::INTERNAL_SERVER_ERROR, Vec::new()) };
    let response = match serve(shared, request, (shared.clock)()) {
        Served::Answer(answer) => json_response(StatusCode::OK, answer),
        Served::Refused(refusal) => fail(&refusal),
    };
    truncate_if(fault, response)
}

// ------------------------------------------------------------------------------------------
// The v2 wire (docs/protocol.md §5)

fn xml_response(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"));
    response
}

/// A `/secapi/` request on a connection without a client certificate: what WeChat Pay's nginx
/// front end answers (HTTP 400, its standard page for a missing client certificate), before
/// the request reaches the API. See docs/sandbox.md, "The v2 wire", for the evidence.
fn no_client_certificate() -> Response<Body> {
    const PAGE: &str = "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n\
                        <center><h1>400 Bad Request</h1></center>\r\n\
                        <center>No required SSL certificate was sent</center>\r\n\
                        <hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let mut response = Response::new(Body::full(PAGE.as_bytes()));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// Answers a v2 request under its fault: the route reads, verifies and answers it in signed
/// XML; `server_error` and `too_many_requests` become the failure it answers with once the
/// request is read (SYSTEMERROR, FREQUENCY_LIMITED, as on CloudPay), `not_json` an HTML body,
/// `missing_signature` takes `sign` out of the answer, `wrong_signature` changes it (or adds
/// one to an unsigned answer), `truncate` cuts it.
fn v2(shared: &Shared, route: &Route, request: &Request<Vec<u8>>, fault: Option<Fault>) -> Response<Body> {
    let forced = match fault {
        Some(Fault::ServerError) => Some(Refusal::new(ErrorCode::SystemError, "系统超时")),
        Some(Fault::TooManyRequests) => Some(Refusal::new(ErrorCode::FrequencyLimited, "频率限制")),
        Some(Fault::NotJson) => return not_json(),
        _ => None,
    };
    let Serve::V2(serve) = route.serve else { return xml_response(StatusCode::INTERNAL_SERVER_ERROR, Vec::new()) };
    let mut body = serve(shared, request, (shared.clock)(), forced);
    if let Some(fault @ (Fault::MissingSignature | Fault::WrongSignature)) = fault
        && let Ok(mut fields) = wxpay_protocol::v2::Fields::from_xml(&body)
    {
        let sign = wxpay_protocol::v2::SIGN;
        match (fault, fields.remove(sign)) {
            (Fault::WrongSignature, Some(good)) => {
                // Another signature of the same length and alphabet.
                let first = if good.starts_with('0') { "1" } else { "0" };
                fields.insert(sign, format!("{first}{}", good.get(1..).unwrap_or("")));
            }
            (Fault::WrongSignature, None) => {
                fields.insert(sign, "0".repeat(64));
            }
            _ => {}
        }
        body = fields.to_xml().into_bytes();
    }
    truncate_if(fault, xml_response(StatusCode::OK, body))
}

fn not_json() -> Response<Body> {
    let mut response = Response::new(Body::full(&b"<html><body>502 Bad Gateway</body></html>"[..]));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// The `truncate` fault: announce the whole length, send half, cut the connection.
fn truncate_if(fault: Option<Fault>, response: Response<Body>) -> Response<Body> {
    if fault != Some(Fault::Truncate) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Some(bytes) = body.into_full() else { return Response::from_parts(parts, Body::full(Bytes::new())) };
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::truncated(bytes.slice(..bytes.len() / 2)))
}

// ------------------------------------------------------------------------------------------
// API v3

/// An unsigned v3 error answer: the status WeChat Pay gives the code, and the v3 error body.
fn v3_refusal(refusal: &Refusal) -> Response<Body> {
    let status = refusal.code.v3_status().unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, v3::error_body(refusal.code.as_str(), &refusal.message))
}

/// A response with another status.
trait MapStatus {
    fn map_status(self, status: StatusCode) -> Self;
}

impl MapStatus for Response<Body> {
    fn map_status(mut self, status: StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

fn v3_answer(
    shared: &Shared,
    route: &Route,
    request: &Request<Vec<u8>>,
    fault: Option<Fault>,
    request_id: &str,
) -> Response<Body> {
    // The request was authenticated before its fault was taken (see `handle`).
    let now = (shared.clock)();
    let served = match fault {
        Some(Fault::ServerError) => Served::Refused(Refusal::new(ErrorCode::SystemErrorV3, "系统错误")),
        Some(Fault::TooManyRequests) => Served::Refused(Refusal::new(ErrorCode::FrequencyLimited, "频率限制")),
        Some(Fault::NotJson) => Served::Answer(b"<html><body>502 Bad Gateway</body></html>".to_vec()),
        _ => v3_process(shared, route, request, now),
    };
    let (status, body) = match served {
        Served::Answer(body) => (StatusCode::OK, body),
        Served::Refused(refusal) => (
            refusal.code.v3_status().unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            v3::error_body(refusal.code.as_str(), &refusal.message),
        ),
    };
    let mut response = json_response(status, body.clone());
    if fault == Some(Fault::NotJson) {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    }
    if let Err(e) = sign(shared, request, &mut response, &body, now, fault) {
        tracing::error!(request_id, error = %e, "cannot sign the answer");
        return v3_refusal(&Refusal::new(ErrorCode::SystemErrorV3, "cannot sign"));
    }
    truncate_if(fault, response)
}

fn header_present(request: &Request<Vec<u8>>, name: header::HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

fn v3_process(shared: &Shared, route: &Route, request: &Request<Vec<u8>>, now: i64) -> Served {
    // WeChat Pay requires both headers of every v3 request (docs/protocol.md §2.1).
    let accepts_json = header_present(request, header::ACCEPT).is_some_and(|a| {
        a.split(',')
            .any(|t| matches!(t.split(';').next().map(str::trim), Some("application/json" | "*/*" | "application/*")))
    });
    if !accepts_json {
        return Served::Refused(Refusal::new(ErrorCode::ParamError, "Accept: application/json is required"));
    }
    if header_present(request, header::USER_AGENT).is_none() {
        return Served::Refused(Refusal::new(ErrorCode::ParamError, "User-Agent is required"));
    }
    match route.serve {
        Serve::Json(serve) => serve(shared, request, now),
        Serve::V2(_) => Served::Refused(Refusal::new(ErrorCode::SystemErrorV3, "not a v3 route")),
    }
}

/// `GET /v3/certificates`: the platform certificate encrypted under the APIv3 key.
pub(crate) fn certificates(shared: &Shared) -> Result<CertificatesResponse, crate::error::SandboxError> {
    let mut data = Vec::new();
    for p in &shared.platform_certificates() {
        let format = &time::format_description::well_known::Rfc3339;
        let china = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
        let effective = p.not_before.to_offset(china).format(format).unwrap_or_default();
        let expire = p.not_after.to_offset(china).format(format).unwrap_or_default();
        let nonce = wxpay_system::random_alphanumeric(12);
        data.push(
            EncryptedCertificate::encrypt(
                &p.certificate_pem,
                &p.serial,
                &effective,
                &expire,
                shared.keys.apiv3_key(),
                &nonce,
            )
            .map_err(|_| crate::error::SandboxError::Config("cannot encrypt the platform certificate"))?,
        );
    }
    Ok(CertificatesResponse::new(data))
}

/// Signs a v3 answer with the key the request's `Wechatpay-Serial` names: the public key or
/// the platform certificate; when it names neither, the platform certificate if configured,
/// else the public key (as WeChat Pay does while merchants migrate). "The platform certificate"
/// is the newest one after [`Sandbox::rotate_platform_certificate`](crate::Sandbox::rotate_platform_certificate).
fn sign(
    shared: &Shared,
    request: &Request<Vec<u8>>,
    response: &mut Response<Body>,
    body: &[u8],
    now: i64,
    fault: Option<Fault>,
) -> Result<(), crate::error::SandboxError> {
    if fault == Some(Fault::MissingSignature) {
        return Ok(());
    }
    let keys = &shared.keys;
    let asked = request.headers().get(wx::WECHATPAY_SERIAL).and_then(|v| v.to_str().ok()).unwrap_or("");
    let public = keys.public_key.as_ref().map(|k| (k.id.as_str(), &k.signer));
    // After a rotation the newest platform certificate signs: older ones are only listed by
    // /v3/certificates (WeChat Pay signs with the new certificate once it has switched).
    let certificates = shared.platform_certificates();
    let chosen = match (public, certificates.last()) {
        (Some(pk), _) if pk.0 == asked => pk,
        (_, Some(pc)) => (pc.serial.as_str(), &pc.signer),
        (Some(pk), None) => pk,
        (None, None) => return Err(crate::error::SandboxError::Config("no key to sign answers with")),
    };
    let timestamp = if fault == Some(Fault::StaleTimestamp) { now - 600 } else { now };
    let nonce = wxpay_system::random_alphanumeric(32);
    let signed_body: Vec<u8> = if fault == Some(Fault::WrongSignature) { [body, b" "].concat() } else { body.to_vec() };
    let serial =
        if fault == Some(Fault::UnknownSerial) { "PUB_KEY_ID_0000000000000000000000000000UNKNOWN" } else { chosen.0 };
    let signature = security::sign_response(&signed_body, timestamp, &nonce, serial, chosen.1.as_ref())
        .map_err(|_| crate::error::SandboxError::Config("the signer failed"))?;
    for (name, value) in signature.headers() {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Admin endpoint

/// `/_sandbox/...`: `GET info`, `GET stats`, `GET notifications`, `POST faults`
/// `{"operation","fault":{"kind",...},"count"}`, `POST notify` `{"out_order_no",...}`, `POST reset`.
fn admin(shared: &Shared, request: &Request<Vec<u8>>) -> Response<Body> {
    #[derive(serde::Deserialize)]
    struct Inject {
        operation: String,
        fault: Fault,
        #[serde(default = "one")]
        count: u32,
    }
    fn one() -> u32 {
        1
    }
    let error =
        |status, message: &str| json_response(status, serde_json::json!({ "error": message }).to_string().into_bytes());
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/_sandbox/info") => json_response(StatusCode::OK, shared.info.to_string().into_bytes()),
        (&Method::GET, "/_sandbox/stats") => {
            json_response(StatusCode::OK, serde_json::to_vec(&shared.stats()).unwrap_or_default())
        }
        (&Method::POST, "/_sandbox/reset") => {
            shared.state.reset();
            shared.faults.clear();
            json_response(StatusCode::OK, b"{\"reset\":true}".to_vec())
        }
        (&Method::GET, "/_sandbox/notifications") => {
            json_response(StatusCode::OK, serde_json::to_vec(&shared.notifier.deliveries()).unwrap_or_default())
        }
        (&Method::POST, "/_sandbox/notify") => {
            match serde_json::from_slice::<crate::notify::NotifyRequest>(request.body()) {
                Err(e) => error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "expected {{\"out_order_no\"|\"order_id\"|\"transaction_id\",\"sub_mchid\"?,\"out_return_no\"?}}: {e}"
                    ),
                ),
                Ok(wanted) => match crate::notify::notify_on_demand(shared, &wanted) {
                    Ok(ids) => json_response(
                        StatusCode::OK,
                        serde_json::json!({ "notifications": ids }).to_string().into_bytes(),
                    ),
                    Err(message) => error(StatusCode::CONFLICT, message),
                },
            }
        }
        (&Method::POST, "/_sandbox/faults") => match serde_json::from_slice::<Inject>(request.body()) {
            Err(e) => error(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"operation\",\"fault\":{{\"kind\"}},\"count\"}}: {e}"),
            ),
            Ok(inject) => match check_operation(&inject.operation, inject.fault) {
                Err(message) => error(StatusCode::BAD_REQUEST, message),
                Ok(()) => {
                    shared.faults.inject(&inject.operation, inject.fault, inject.count);
                    json_response(
                        StatusCode::OK,
                        serde_json::json!({ "queued": inject.count }).to_string().into_bytes(),
                    )
                }
            },
        },
        _ => error(
            StatusCode::NOT_FOUND,
            "admin paths: GET /_sandbox/info, GET /_sandbox/stats, GET /_sandbox/notifications, POST /_sandbox/faults, \
             POST /_sandbox/notify, POST /_sandbox/reset",
        ),
    }
}

/// Whether `fault` can be injected for the operation named `operation`.
pub(crate) fn check_operation(operation: &str, fault: Fault) -> Result<(), &'static str> {
    let Some(route) = routes::route_named(operation) else {
        return Err("unknown operation; use a CloudPay path name, a v3 or a v2 operation name");
    };
    match route.spec.api {
        Api::CloudPay if fault.is_signature_fault() => {
            Err("CloudPay answers are not signed: signature faults apply to v3 and v2 operations only")
        }
        Api::V2 if matches!(fault, Fault::StaleTimestamp | Fault::UnknownSerial) => {
            Err("v2 answers carry no timestamp or serial: only missing_signature and wrong_signature apply")
        }
        _ => Ok(()),
    }
}
