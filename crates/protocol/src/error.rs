//! The error types of the protocol layer (docs/protocol.md §4).
//!
//! [`Error`] is the one type every fallible operation of the SDK returns in the end; its
//! variants wrap one type per kind of failure, and causes travel through
//! [`std::error::Error::source`], never stringified.

use std::error::Error as StdError;
use std::fmt;

use http::StatusCode;

pub use crate::api_error::{ApiError, ApiErrorOrigin, ErrorCode};
use crate::security::{SigningError, VerificationError};

/// Any failure of a WeChat Pay call, by kind.
///
/// ```
/// use wxpay_protocol::{Error, OutOrderNo};
/// let err: Error = OutOrderNo::new("").unwrap_err().into();
/// assert!(!err.is_retryable());
/// assert_eq!(err.to_string(), "invalid `out_order_no`: must not be empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request broke a documented rule before anything was sent.
    #[error(transparent)]
    InvalidRequest(#[from] ValidationError),
    /// The request could not be sent, or its answer could not be read.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The answer did not have any shape the API documents.
    #[error(transparent)]
    Malformed(#[from] MalformedResponse),
    /// WeChat Pay (or the gateway in front of it) answered with an error.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// A v3 request could not be signed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// A v3 answer's signature was missing or did not verify: it may be forged.
    #[error(transparent)]
    Verification(Box<UnverifiedResponse>),
    /// The shared rate budget gave no slot; the request was not sent.
    #[error(transparent)]
    RateBudget(#[from] crate::client::BudgetError),
}

impl From<UnverifiedResponse> for Error {
    fn from(e: UnverifiedResponse) -> Self {
        Error::Verification(Box::new(e))
    }
}

/// A v3 answer that failed verification; the raw answer is kept for the log. When no answer
/// could be checked at all (no key is held yet), there is no status: none is invented.
#[derive(Debug, thiserror::Error)]
#[error("{}", match status {
    Some(status) => format!("unverifiable response (HTTP {})", status.as_u16()),
    None => "no answer could be verified".to_owned(),
})]
pub struct UnverifiedResponse {
    #[source]
    cause: VerificationError,
    status: Option<StatusCode>,
    request_id: Option<String>,
    body: Vec<u8>,
}

impl UnverifiedResponse {
    /// Why `response` was refused.
    pub fn new<B: AsRef<[u8]>>(cause: VerificationError, response: &http::Response<B>) -> Self {
        Self {
            cause,
            status: Some(response.status()),
            request_id: crate::v3::request_id(response),
            body: response.body().as_ref().to_vec(),
        }
    }

    /// A failure before any answer could be checked (no key has been downloaded yet, say).
    pub(crate) fn without_response(cause: VerificationError) -> Self {
        Self { cause, status: None, request_id: None, body: Vec::new() }
    }

    /// Why verification failed (named so as not to be shadowed by the deprecated
    /// `std::error::Error::cause`).
    pub fn verification_error(&self) -> &VerificationError {
        &self.cause
    }

    /// The HTTP status of the answer; `None` when no answer was checked.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// The `Request-ID` header, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

impl Error {
    /// The API error, when WeChat Pay answered with one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The malformed answer, when the answer could not be read.
    pub fn as_malformed(&self) -> Option<&MalformedResponse> {
        match self {
            Error::Malformed(m) => Some(m),
            _ => None,
        }
    }
}

/// A request field broke a documented rule. `Display` names the field and the rule.
///
/// ```
/// use wxpay_protocol::{OutReturnNo, Rule};
/// let err = OutReturnNo::new("R".repeat(65)).unwrap_err();
/// assert_eq!(err.field(), "out_return_no");
/// assert_eq!(err.rule(), &Rule::TooLong { max_bytes: 64, actual_bytes: 65 });
/// assert_eq!(err.to_string(), "invalid `out_return_no`: must be at most 64 bytes of UTF-8, got 65");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}`: {rule}")]
pub struct ValidationError {
    field: &'static str,
    rule: Rule,
}

impl ValidationError {
    pub(crate) fn new(field: &'static str, rule: Rule) -> Self {
        Self { field, rule }
    }

    /// The API field (or fields, for a choice) that broke the rule.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule that was broken.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    /// The same error reported under another field name: API v3 spells `sub_mch_id` as
    /// `sub_mchid`, and a caller that took the value under that name should report it so.
    pub fn in_field(mut self, field: &'static str) -> Self {
        self.field = field;
        self
    }
}

/// A documented rule a request field must obey.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The field is required and was empty.
    Empty,
    /// Longer than the limit, counted in UTF-8 bytes (docs/protocol.md §3).
    TooLong {
        /// The largest accepted length.
        max_bytes: usize,
        /// The length given.
        actual_bytes: usize,
    },
    /// A character outside the field's character class.
    Charset {
        /// The first offending character.
        ch: char,
        /// Its byte position in the value.
        at: usize,
        /// The class the field accepts, in words.
        allowed: &'static str,
    },
    /// Not a non-negative decimal integer.
    NotANonNegativeInteger,
    /// A number above the largest accepted value.
    OutOfRange {
        /// The largest accepted value.
        max: u64,
    },
    /// None of a set of alternative fields was given; exactly one is required.
    NoneOf(&'static [&'static str]),
    /// More than one of a set of mutually exclusive fields was given.
    MoreThanOneOf(&'static [&'static str]),
    /// Not a usable URL, and why.
    InvalidUrl(&'static str),
    /// A required field is absent.
    Missing,
    /// A request body that is not a JSON object (servers reading requests report this).
    NotJsonObject,
    /// The field has the wrong JSON type.
    WrongType {
        /// What was expected.
        expected: &'static str,
    },
    /// The field is given more than once.
    Repeated,
    /// A plain `http` URL where API v3 and v2 require `https` (loopback hosts excepted).
    PlainHttp,
    /// Not one of the values the operation accepts.
    OneOf(&'static [&'static str]),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Empty => f.write_str("must not be empty"),
            Rule::TooLong { max_bytes, actual_bytes } => {
                write!(f, "must be at most {max_bytes} bytes of UTF-8, got {actual_bytes}")
            }
            Rule::Charset { ch, at, allowed } => {
                write!(f, "character {ch:?} at byte {at} is not allowed (allowed: {allowed})")
            }
            Rule::NotANonNegativeInteger => f.write_str("must be a non-negative decimal integer"),
            Rule::OutOfRange { max } => write!(f, "must be at most {max}"),
            Rule::NoneOf(fields) => write!(f, "one of {} is required", fields.join(", ")),
            Rule::MoreThanOneOf(fields) => {
                write!(f, "only one of {} may be given", fields.join(", "))
            }
            Rule::InvalidUrl(reason) => write!(f, "must be a base URL: {reason}"),
            Rule::Missing => f.write_str("is required"),
            Rule::NotJsonObject => f.write_str("must be a JSON object"),
            Rule::WrongType { expected } => write!(f, "must be {expected}"),
            Rule::Repeated => f.write_str("must be given once"),
            Rule::OneOf(values) => write!(f, "must be one of {} for this operation", values.join(", ")),
            Rule::PlainHttp => {
                f.write_str("must use https for API v3 and v2 (plain http only to a loopback address, e.g. a sandbox)")
            }
        }
    }
}

/// An answer that matches no documented shape. The raw body is kept for the log.
#[derive(Debug, thiserror::Error)]
#[error("malformed response: {kind}")]
pub struct MalformedResponse {
    kind: MalformedKind,
    status: StatusCode,
    body: Vec<u8>,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl MalformedResponse {
    pub(crate) fn new(kind: MalformedKind, status: StatusCode, body: &[u8]) -> Self {
        Self { kind, status, body: body.to_vec(), source: None }
    }

    pub(crate) fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The same error about `body`, the bytes as received (a v2 answer is read in its JSON
    /// form; its errors keep the XML).
    pub(crate) fn with_body(mut self, body: &[u8]) -> Self {
        body[..body.len().min(crate::MAX_ANSWER_BYTES)].clone_into(&mut self.body);
        self
    }

    /// What was wrong with the answer.
    pub fn kind(&self) -> &MalformedKind {
        &self.kind
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The raw body as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// What made an answer malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedKind {
    /// The body is not JSON.
    NotJson,
    /// The body is JSON but not an object.
    NotAnObject,
    /// A required field is missing (or empty).
    MissingField(String),
    /// A field has the wrong JSON type or an unparsable value.
    InvalidField {
        /// The field, as named in the documents.
        field: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The same field arrived twice (say in snake_case and camelCase) with different values.
    ConflictingField(String),
    /// The answer contradicts itself (say a list shorter than its count).
    Inconsistent(String),
    /// A status the API does not document for this kind of answer.
    UnexpectedStatus,
    /// The body is not a flat v2 `<xml>` document (docs/protocol.md §5), and why.
    NotXml(crate::v2::XmlError),
    /// The body is longer than the parsers read ([`MAX_ANSWER_BYTES`](crate::MAX_ANSWER_BYTES)).
    TooLarge {
        /// The length of the body, in bytes.
        len: usize,
        /// The limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for MalformedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MalformedKind::NotJson => f.write_str("body is not JSON"),
            MalformedKind::NotAnObject => f.write_str("body is not a JSON object"),
            MalformedKind::NotXml(why) => write!(f, "body is not a v2 XML document: {why}"),
            MalformedKind::MissingField(field) => write!(f, "required field `{field}` is missing"),
            MalformedKind::InvalidField { field, expected } => {
                write!(f, "field `{field}` is not {expected}")
            }
            MalformedKind::TooLarge { len, limit } => {
                write!(f, "body of {len} bytes is longer than the {limit} bytes an answer may have")
            }
            MalformedKind::ConflictingField(field) => {
                write!(f, "field `{field}` is given twice with different values")
            }
            MalformedKind::Inconsistent(what) => write!(f, "inconsistent answer: {what}"),
            MalformedKind::UnexpectedStatus => f.write_str("unexpected HTTP status"),
        }
    }
}

/// The request could not be sent, or its answer could not be read. Transports build it; the
/// protocol layer only classifies it.
///
/// ```
/// use wxpay_protocol::{Error, TransportError, TransportErrorKind};
/// let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "deadline");
/// let err: Error = TransportError::new(TransportErrorKind::Timeout, timeout).on_write(true).into();
/// assert!(err.outcome_unknown());
/// assert!(err.is_retryable());
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct TransportError {
    kind: TransportErrorKind,
    write: bool,
    attempts: Option<u32>,
    request_id: Option<String>,
    #[source]
    source: Box<dyn StdError + Send + Sync + 'static>,
}

impl TransportError {
    /// A transport failure of `kind` caused by `source`.
    pub fn new(kind: TransportErrorKind, source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Self { kind, write: false, attempts: None, request_id: None, source: source.into() }
    }

    /// Records, on the error that ends a call, how many times its request was sent and the
    /// `Request-ID` of the last answer it got, if any (the client's exchange does this).
    ///
    /// ```
    /// use wxpay_protocol::{TransportError, TransportErrorKind};
    /// let io = std::io::Error::other("reset");
    /// let err = TransportError::new(TransportErrorKind::Io, io).after_attempts(4, Some("08F1".into()));
    /// assert_eq!(err.attempts(), Some(4));
    /// assert_eq!(err.last_request_id(), Some("08F1"));
    /// ```
    pub fn after_attempts(mut self, attempts: u32, request_id: Option<String>) -> Self {
        self.attempts = Some(attempts);
        self.request_id = request_id;
        self
    }

    /// How many times the call's request was sent, when the client recorded it.
    pub fn attempts(&self) -> Option<u32> {
        self.attempts
    }

    /// The `Request-ID` of the last answer the call got before it failed, if any.
    pub fn last_request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Marks the failed request as a write (profit-sharing finish): if it may have reached the
    /// server, its outcome is unknown rather than failed (docs/protocol.md §4).
    pub fn on_write(mut self, write: bool) -> Self {
        self.write = write;
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the request was a write.
    pub fn is_write(&self) -> bool {
        self.write
    }
}

/// The kinds of transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made: nothing was sent.
    Connect,
    /// The TLS handshake failed (an untrusted or invalid certificate): nothing was sent.
    Tls,
    /// No complete answer within the deadline: the request may have been processed.
    Timeout,
    /// The connection failed after the request may have been sent.
    Io,
}

impl TransportErrorKind {
    /// Whether the request may have reached the server.
    pub fn may_have_been_sent(self) -> bool {
        matches!(self, TransportErrorKind::Timeout | TransportErrorKind::Io)
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Tls => "TLS handshake failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Io => "connection failed",
        })
    }
}
