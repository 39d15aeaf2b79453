//! Reading an answer for `--decode`: a bare body, or a raw HTTP/1.1 response as copied from a
//! log (status line, headers, blank line, body), into an `http::Response`.
//!
//! This is HTTP framing only; what the body means is for the protocol's parsers. It is pure (no
//! file, no terminal, nothing else of the CLI), so that the fuzz target `raw_http` of
//! `crates/cli/fuzz` compiles it as it is; reading the input, within a size limit, is
//! [`crate::input`]'s.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// The most headers a raw response may have.
const MAX_HEADERS: usize = 128;

/// The HTTP framing of a raw response is broken: the answer is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RawHttpError {
    /// The status line or a header could not be parsed.
    #[error("the HTTP head cannot be parsed")]
    Head(#[source] httparse::Error),
    /// The input ends before the blank line that closes the head.
    #[error("the HTTP head is incomplete (no blank line after the headers)")]
    IncompleteHead,
    /// A captured request's method or target is not valid.
    #[error("the request line `{0}` is not valid")]
    RequestLine(String),
    /// The status code is outside 100..=999.
    #[error("HTTP status {0} is not valid")]
    Status(u16),
    /// A header name or value is not valid.
    #[error("header `{0}` is not valid")]
    Header(String),
    /// `Content-Length` is not a single decimal number.
    #[error("Content-Length `{0}` is not a decimal number")]
    ContentLength(String),
    /// The body is shorter than `Content-Length` says.
    #[error("the body has {actual} bytes but Content-Length is {expected}")]
    ShortBody {
        /// `Content-Length`.
        expected: usize,
        /// The bytes present.
        actual: usize,
    },
    /// A `Transfer-Encoding` other than `chunked`.
    #[error("Transfer-Encoding `{0}` is not supported (only chunked)")]
    TransferEncoding(String),
    /// The chunked body is broken.
    #[error("the chunked body is malformed: {0}")]
    Chunked(&'static str),
}

/// The answer in `input`: a raw HTTP response when it starts with `HTTP/` (after leading
/// whitespace), otherwise a bare body taken as HTTP 200 with no headers.
pub(crate) fn response(input: Vec<u8>) -> Result<http::Response<Vec<u8>>, RawHttpError> {
    let start = input.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(input.len());
    if input[start..].starts_with(b"HTTP/") { raw_response(&input[start..]) } else { Ok(http::Response::new(input)) }
}

/// `curl -i` prints an HTTP/2 answer's status line as `HTTP/2 429`; httparse reads HTTP/1.x
/// only, so that line is read as HTTP/1.1 (the head and body that follow have the same shape
/// once written into a log).
fn as_http1(input: &[u8]) -> Cow<'_, [u8]> {
    for prefix in [&b"HTTP/2 "[..], b"HTTP/2.0 "] {
        if let Some(rest) = input.strip_prefix(prefix) {
            let mut http1 = b"HTTP/1.1 ".to_vec();
            http1.extend_from_slice(rest);
            return Cow::Owned(http1);
        }
    }
    Cow::Borrowed(input)
}

/// Parses a raw HTTP/1.x response; CRLF and bare LF line endings are both accepted.
fn raw_response(input: &[u8]) -> Result<http::Response<Vec<u8>>, RawHttpError> {
    let input = as_http1(input);
    let input = input.as_ref();
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Response::new(&mut headers);
    let mut config = httparse::ParserConfig::default();
    config.allow_multiple_spaces_in_response_status_delimiters(true);
    let head_len = match config.parse_response(&mut head, input).map_err(RawHttpError::Head)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return Err(RawHttpError::IncompleteHead),
    };
    let code = head.code.ok_or(RawHttpError::IncompleteHead)?;
    let status = StatusCode::from_u16(code).map_err(|_| RawHttpError::Status(code))?;

    let (map, body) = headers_and_body(head.headers, &input[head_len..])?;

    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = map;
    Ok(response)
}

/// The headers and the body after a parsed head: the body framed by `Transfer-Encoding:
/// chunked` or `Content-Length`, else everything that follows.
fn headers_and_body(headers: &[httparse::Header<'_>], rest: &[u8]) -> Result<(HeaderMap, Vec<u8>), RawHttpError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for header in headers.iter() {
        let invalid = || RawHttpError::Header(header.name.to_owned());
        let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_bytes(header.value).map_err(|_| invalid())?;
        map.append(name, value);
    }

    let body = if is_chunked(&map)? {
        dechunk(rest)?
    } else {
        match content_length(&map)? {
            Some(expected) if rest.len() < expected => {
                return Err(RawHttpError::ShortBody { expected, actual: rest.len() });
            }
            Some(expected) => rest[..expected].to_vec(),
            None => rest.to_vec(),
        }
    };

    Ok((map, body))
}

/// A captured notification: a raw HTTP/1.x request (request line, headers, blank line, body),
/// as a proxy or `nc -l` shows it, into an `http::Request` with the body exactly as sent.
pub(crate) fn request(input: &[u8]) -> Result<http::Request<Vec<u8>>, RawHttpError> {
    let start = input.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(input.len());
    let input = &input[start..];
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    let head_len = match head.parse(input).map_err(RawHttpError::Head)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return Err(RawHttpError::IncompleteHead),
    };
    let method = head.method.unwrap_or_default();
    let method =
        http::Method::from_bytes(method.as_bytes()).map_err(|_| RawHttpError::RequestLine(method.to_owned()))?;
    let target = head.path.unwrap_or_default();
    let uri: http::Uri = target.parse().map_err(|_| RawHttpError::RequestLine(target.to_owned()))?;
    let (map, body) = headers_and_body(head.headers, &input[head_len..])?;
    let mut request = http::Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = map;
    Ok(request)
}

/// Whether the body is chunked; an error for any other transfer coding.
/// `Transfer-Encoding` wins over `Content-Length` (RFC 9112, 6.3).
fn is_chunked(headers: &HeaderMap) -> Result<bool, RawHttpError> {
    let mut codings = Vec::new();
    for value in headers.get_all(http::header::TRANSFER_ENCODING) {
        let text = value.to_str().map_err(|_| RawHttpError::Header("transfer-encoding".to_owned()))?;
        codings.extend(text.split(',').map(str::trim).filter(|c| !c.is_empty()));
    }
    match codings.as_slice() {
        [] => Ok(false),
        [only] if only.eq_ignore_ascii_case("chunked") => Ok(true),
        _ => Err(RawHttpError::TransferEncoding(codings.join(", "))),
    }
}

/// The `Content-Length`, if any; repeated equal values count once (RFC 9110, 8.6).
fn content_length(headers: &HeaderMap) -> Result<Option<usize>, RawHttpError> {
    let mut length = None;
    for value in headers.get_all(http::header::CONTENT_LENGTH) {
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        for item in text.split(',').map(str::trim) {
            let n = parse_decimal(item).ok_or_else(|| RawHttpError::ContentLength(text.clone()))?;
            if length.is_some_and(|previous| previous != n) {
                return Err(RawHttpError::ContentLength(text));
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// A non-empty string of ASCII digits that fits in `usize`.
fn parse_decimal(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Splits off one line (without its CRLF or LF); `None` when no line ending is left.
fn take_line(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = input.iter().position(|&b| b == b'\n')?;
    let line = &input[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, &input[end + 1..]))
}

/// Decodes a chunked body (RFC 9112, 7.1): chunk extensions and trailers are ignored; a chunk's
/// data may be followed by CRLF or, in a copied log, a bare LF.
fn dechunk(mut input: &[u8]) -> Result<Vec<u8>, RawHttpError> {
    let mut body = Vec::new();
    loop {
        let (line, rest) = take_line(input).ok_or(RawHttpError::Chunked("a chunk size line is missing"))?;
        let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size_text)
            .ok()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or(RawHttpError::Chunked("a chunk size is not a hexadecimal number"))?;
        if size == 0 {
            return Ok(body);
        }
        let data = rest.get(..size).ok_or(RawHttpError::Chunked("a chunk is shorter than its size"))?;
        body.extend_from_slice(data);
        let after = &rest[size..];
        input = after
            .strip_prefix(b"\r\n")
            .or_else(|| after.strip_prefix(b"\n"))
            .ok_or(RawHttpError::Chunked("a chunk is longer than its size"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_body_is_a_200_without_headers() {
        let response = response(b"{\"a\":1}".to_vec()).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().is_empty());
        assert_eq!(response.body(), b"{\"a\":1}");
    }

    #[test]
    fn raw_with_bare_lf_and_content_length_truncates() {
        let raw = b"HTTP/1.1 404 Not Found\nRequest-ID: abc\nContent-Length: 2\n\n{}trailing";
        let response = response(raw.to_vec()).unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["request-id"], "abc");
        assert_eq!(response.body(), b"{}");
    }

    #[test]
    fn http2_status_line_as_curl_prints_it() {
        let raw = b"HTTP/2 429 \r\nrequest-id: r1\r\n\r\n{}";
        let response = response(raw.to_vec()).unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["request-id"], "r1");
        assert_eq!(response.body(), b"{}");
    }

    #[test]
    fn short_body_is_an_error() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}";
        assert_eq!(response(raw.to_vec()).unwrap_err(), RawHttpError::ShortBody { expected: 10, actual: 2 });
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n\
                    3;ext=1\r\n{\"a\r\nB\n\":12345678}\n0\r\nTrailer: x\r\n\r\n";
        let response = response(raw.to_vec()).unwrap();
        assert_eq!(response.body(), b"{\"a\":12345678}");
    }

    #[test]
    fn broken_chunks_are_errors() {
        for body in [&b"zz\r\n"[..], b"5\r\nab", b"2\r\nabc\r\n0\r\n\r\n", b"2\r\nab\r\n"] {
            let mut raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            raw.extend_from_slice(body);
            assert!(matches!(response(raw).unwrap_err(), RawHttpError::Chunked(_)), "{body:?}");
        }
    }

    #[test]
    fn raw_requests_keep_method_target_headers_and_exact_body() {
        let raw =
            b"\nPOST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nWechatpay-Serial: S\r\nContent-Length: 4\r\n\r\n{} \nextra";
        let request = request(raw).unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri().path(), "/notify");
        assert_eq!(request.headers()["wechatpay-serial"], "S");
        assert_eq!(request.body(), b"{} \n");
        assert_eq!(super::request(b"POST /n HTTP/1.1\r\n").unwrap_err(), RawHttpError::IncompleteHead);
        assert!(matches!(super::request(b"HTTP/1.1 200 OK\r\n\r\n").unwrap_err(), RawHttpError::Head(_)));
    }

    #[test]
    fn broken_heads_are_errors() {
        assert_eq!(response(b"HTTP/1.1 200 OK\r\nA: b\r\n".to_vec()).unwrap_err(), RawHttpError::IncompleteHead);
        assert!(matches!(response(b"HTTP/1.1 2x0 OK\r\n\r\n".to_vec()).unwrap_err(), RawHttpError::Head(_)));
        assert!(matches!(
            response(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n".to_vec()).unwrap_err(),
            RawHttpError::ContentLength(_)
        ));
        assert!(matches!(
            response(b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n12".to_vec()).unwrap_err(),
            RawHttpError::ContentLength(_)
        ));
        assert!(matches!(
            response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec()).unwrap_err(),
            RawHttpError::TransferEncoding(_)
        ));
    }
}
