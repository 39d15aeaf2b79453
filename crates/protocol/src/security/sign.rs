//! Request signing (docs/protocol.md §2.1), and its inverse for servers such as the sandbox.
//!
//! message = `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`, signature =
//! base64(RSASSA-PKCS1-v1_5 SHA-256), header = `WECHATPAY2-SHA256-RSA2048 mchid="..",
//! nonce_str="..",signature="..",timestamp="..",serial_no=".."` (one space after the scheme, no
//! spaces after the commas). PATH_AND_QUERY is the request's URI as sent, already
//! percent-encoded, so what is signed is exactly what is sent.

use crate::header;
use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};

use super::credentials::MerchantCredentials;
use super::error::{SigningError, VerificationError};
use super::verify::{Verifier, check_timestamp};
use crate::validate::NonceStr;

/// The `Authorization` scheme of API v3.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// The inputs of [`sign_request`]: who signs, when, and with which nonce. Time and randomness
/// come from the caller, so a signed request is reproducible.
#[derive(Debug, Clone)]
pub struct SigningParams<'a> {
    credentials: &'a MerchantCredentials,
    timestamp: i64,
    nonce: &'a NonceStr,
    wechatpay_serial: Option<&'a str>,
    user_agent: Cow<'a, str>,
}

impl<'a> SigningParams<'a> {
    /// Signing by `credentials` at `timestamp` (Unix seconds) with `nonce` (32 characters of
    /// `[0-9A-Za-z]` from a CSPRNG in production).
    pub fn new(credentials: &'a MerchantCredentials, timestamp: i64, nonce: &'a NonceStr) -> Self {
        Self { credentials, timestamp, nonce, wechatpay_serial: None, user_agent: Cow::Owned(default_user_agent()) }
    }

    /// Sends `Wechatpay-Serial: serial`: the key (`PUB_KEY_ID_...` or platform certificate
    /// serial) the answer should be signed with.
    pub fn wechatpay_serial(mut self, serial: &'a str) -> Self {
        self.wechatpay_serial = Some(serial);
        self
    }

    /// Replaces the `User-Agent` (which must keep naming the SDK; see [`default_user_agent`]).
    pub fn user_agent(mut self, user_agent: impl Into<Cow<'a, str>>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

/// `wxpay-rs/<version>`, the `User-Agent` that names the SDK (docs/protocol.md §2.1).
pub fn default_user_agent() -> String {
    format!("wxpay-rs/{}", crate::VERSION)
}

/// The message a v3 request signature covers.
///
/// ```
/// use wxpay_protocol::security::request_message;
/// assert_eq!(
///     request_message("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", b""),
///     b"GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n".to_vec(),
/// );
/// ```
pub fn request_message(method: &str, path_and_query: &str, timestamp: i64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let timestamp = timestamp.to_string();
    let mut m =
        Vec::with_capacity(method.len() + path_and_query.len() + timestamp.len() + nonce.len() + body.len() + 5);
    for part in [method.as_bytes(), path_and_query.as_bytes(), timestamp.as_bytes(), nonce.as_bytes(), body] {
        m.extend_from_slice(part);
        m.push(b'\n');
    }
    m
}

/// The headers that sign a request: `Authorization`, `Accept`, `User-Agent` and, when asked
/// for, `Wechatpay-Serial`. The message that was signed is kept for logs and test vectors.
#[derive(Debug, Clone)]
pub struct SignedHeaders {
    message: Vec<u8>,
    authorization: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl SignedHeaders {
    /// The `Authorization` header value.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }

    /// The exact bytes that were signed.
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// The headers, in the order they are set.
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    /// Sets the headers on `request`, replacing any of the same names.
    pub fn apply_to<B>(&self, request: &mut http::Request<B>) {
        for (name, value) in &self.headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
    }
}

/// Signs a built request (pure: the same inputs give the same headers).
///
/// The request is not changed; [`SignedHeaders::apply_to`] sets the headers.
pub fn sign_request<B: AsRef<[u8]>>(
    request: &http::Request<B>,
    params: &SigningParams<'_>,
) -> Result<SignedHeaders, SigningError> {
    let path_and_query = request.uri().path_and_query().ok_or(SigningError::NoPath)?.as_str();
    let nonce = params.nonce.as_str();
    let message =
        request_message(request.method().as_str(), path_and_query, params.timestamp, nonce, request.body().as_ref());
    let signature = BASE64.encode(params.credentials.signer().sign(&message)?);
    let authorization = format!(
        "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{}\",serial_no=\"{}\"",
        params.credentials.mchid(),
        params.timestamp,
        params.credentials.serial(),
    );
    let value = |name: &'static str, v: &str| HeaderValue::from_str(v).map_err(|_| SigningError::InvalidHeader(name));
    let mut headers = vec![
        (AUTHORIZATION, value("Authorization", &authorization)?),
        (ACCEPT, HeaderValue::from_static("application/json")),
        (USER_AGENT, value("User-Agent", &params.user_agent)?),
    ];
    if let Some(serial) = params.wechatpay_serial {
        headers.push((HeaderName::from_static("wechatpay-serial"), value(header::WECHATPAY_SERIAL, serial)?));
    }
    Ok(SignedHeaders { message, authorization, headers })
}

/// The five fields of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationHeader {
    /// `mchid`.
    pub mchid: String,
    /// `nonce_str`.
    pub nonce_str: String,
    /// `signature` (base64).
    pub signature: String,
    /// `timestamp` (Unix seconds).
    pub timestamp: i64,
    /// `serial_no`: the merchant certificate's serial.
    pub serial_no: String,
}

/// Reads an `Authorization` header: the scheme, one space, then exactly the five fields as
/// `key="value"` separated by commas, each once.
pub fn parse_authorization(header: &str) -> Result<AuthorizationHeader, VerificationError> {
    let bad = VerificationError::MalformedAuthorization;
    let rest = header
        .strip_prefix(AUTH_SCHEME)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(bad("the scheme must be WECHATPAY2-SHA256-RSA2048 followed by one space"))?;
    let (mut mchid, mut nonce, mut signature, mut timestamp, mut serial) = (None, None, None, None, None);
    for pair in rest.split(',') {
        let (key, value) = pair.split_once('=').ok_or(bad("a field is not key=\"value\""))?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .filter(|v| !v.contains('"'))
            .ok_or(bad("a value is not in double quotes"))?;
        let slot = match key {
            "mchid" => &mut mchid,
            "nonce_str" => &mut nonce,
            "signature" => &mut signature,
            "timestamp" => &mut timestamp,
            "serial_no" => &mut serial,
            _ => return Err(bad("unknown field")),
        };
        if slot.replace(value).is_some() {
            return Err(bad("a field is given twice"));
        }
    }
    let timestamp = timestamp.ok_or(bad("timestamp is missing"))?;
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("timestamp is not Unix seconds"));
    }
    Ok(AuthorizationHeader {
        mchid: mchid.ok_or(bad("mchid is missing"))?.to_owned(),
        nonce_str: nonce.filter(|n| !n.is_empty()).ok_or(bad("nonce_str is missing"))?.to_owned(),
        signature: signature.ok_or(bad("signature is missing"))?.to_owned(),
        timestamp: timestamp.parse().map_err(|_| bad("timestamp is not Unix seconds"))?,
        serial_no: serial.ok_or(bad("serial_no is missing"))?.to_owned(),
    })
}

/// Verifies a signed request as WeChat Pay does (for servers such as the sandbox): the
/// `Authorization` form, the merchant id, the timestamp within
/// [`MAX_CLOCK_SKEW_SECS`](super::MAX_CLOCK_SKEW_SECS) of `now`, and the signature over the request target as received,
/// with the key `verifier` holds for the header's `serial_no`.
pub fn verify_request<B: AsRef<[u8]>>(
    request: &http::Request<B>,
    now: i64,
    mchid: &str,
    verifier: &(impl Verifier + ?Sized),
) -> Result<AuthorizationHeader, VerificationError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .ok_or(VerificationError::MissingHeader("Authorization"))?
        .to_str()
        .map_err(|_| VerificationError::MalformedHeader("Authorization"))?;
    let auth = parse_authorization(header)?;
    if auth.mchid != mchid {
        return Err(VerificationError::WrongMchid(auth.mchid));
    }
    check_timestamp(auth.timestamp, now)?;
    let signature = BASE64.decode(&auth.signature).map_err(|_| VerificationError::MalformedBase64)?;
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let message =
        request_message(request.method().as_str(), target, auth.timestamp, &auth.nonce_str, request.body().as_ref());
    verifier.verify(&auth.serial_no, &message, &signature)?;
    Ok(auth)
}
