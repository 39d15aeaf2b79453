//! Output: built requests (`--dry-run`), decoded answers as JSON, and errors, for people or
//! (with `--json`) for programs. Human tables of answers are in [`crate::table`].

use std::error::Error as _;

use serde_json::{Map, Value, json};
use wxpay_protocol::{RetryClass, ValidationError};

use crate::exit::{CliError, Exit, flag_name};

/// A header value as text (bytes that are not visible ASCII are replaced).
fn header_text(value: &http::HeaderValue) -> String {
    value.to_str().map_or_else(|_| String::from_utf8_lossy(value.as_bytes()).into_owned(), str::to_owned)
}

/// A request in the human form: `METHOD URL`, the headers, a blank line, the body (pretty JSON
/// when it is JSON), and for API v3 the `signed target`: the exact path and query to be signed.
pub(crate) fn request_text(request: &http::Request<Vec<u8>>, signed: bool) -> String {
    let mut out = format!("{} {}\n", request.method(), request.uri());
    for (name, value) in request.headers() {
        out.push_str(&format!("{name}: {}\n", header_text(value)));
    }
    out.push('\n');
    let body = request.body();
    if !body.is_empty() {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => out.push_str(&serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())),
            Err(_) => out.push_str(&String::from_utf8_lossy(body)),
        }
        out.push('\n');
    }
    if signed && let Some(target) = request.uri().path_and_query() {
        out.push_str(&format!("signed target: {target}\n"));
    }
    out
}

/// A request as one JSON object: `{"method","url","headers","body"}`, with the body parsed as
/// JSON (`null` when empty, a string if it is not JSON).
pub(crate) fn request_json(request: &http::Request<Vec<u8>>) -> Value {
    let mut headers = Map::new();
    for name in request.headers().keys() {
        let values: Vec<String> = request.headers().get_all(name).iter().map(header_text).collect();
        headers.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
    }
    let body = request.body();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    };
    json!({
        "method": request.method().as_str(),
        "url": request.uri().to_string(),
        "headers": headers,
        "body": body,
    })
}

/// A value as one line of JSON.
pub(crate) fn json_line(value: &impl serde::Serialize) -> Result<String, CliError> {
    let mut line = serde_json::to_string(value).map_err(CliError::Json)?;
    line.push('\n');
    Ok(line)
}

/// The `source()` chain of an error, outermost first.
fn causes(err: &CliError) -> Vec<String> {
    let mut causes = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes
}

/// The retry class of an answer's error, in words.
fn retry_text(class: RetryClass) -> &'static str {
    match class {
        RetryClass::Retryable => "retryable: the identical request may be sent again after a backoff",
        RetryClass::Final => "final: sending the same request again cannot succeed",
        _ => "unknown",
    }
}

/// An error for people: `error: ...`, the retry class of an API error, then one
/// `caused by: ...` line per source.
pub(crate) fn error_text(err: &CliError) -> String {
    let mut out = format!("error: {err}\n");
    if let CliError::Answer(e @ wxpay_protocol::Error::Api(_)) = err {
        out.push_str(&format!("retry: {}\n", retry_text(e.retry_class())));
    }
    for cause in causes(err) {
        out.push_str(&format!("caused by: {cause}\n"));
    }
    out
}

/// The fields of a validation error.
fn validation_fields(e: &ValidationError, object: &mut Map<String, Value>) {
    object.insert("field".into(), e.field().into());
    object.insert("rule".into(), e.rule().to_string().into());
}

/// An error for programs: `{"error":{"kind",...}}`, where `kind` is `invalid_input`, `api`,
/// `malformed`, `transport` or `internal` (matching the exit code), `summary` is the one-line
/// message, and the other fields depend on the kind.
pub(crate) fn error_json(err: &CliError) -> Value {
    let kind = match err.exit() {
        Exit::InvalidInput => "invalid_input",
        Exit::Api => "api",
        Exit::Malformed => "malformed",
        Exit::Transport => "transport",
        Exit::Ok | Exit::Internal => "internal",
    };
    let mut object = Map::new();
    object.insert("kind".into(), kind.into());
    object.insert("summary".into(), err.to_string().into());
    match err {
        CliError::Invalid(e) | CliError::Answer(wxpay_protocol::Error::InvalidRequest(e)) => {
            validation_fields(e, &mut object);
        }
        CliError::MissingFlag { field } => {
            object.insert("field".into(), (*field).into());
            object.insert("flag".into(), format!("--{}", flag_name(field)).into());
            object.insert("rule".into(), "required".into());
        }
        CliError::ReadInput { input, .. } => {
            object.insert("input".into(), input.as_str().into());
        }
        CliError::RawHttp(e) => {
            object.insert("malformed".into(), e.to_string().into());
        }
        CliError::Answer(e @ wxpay_protocol::Error::Api(api)) => {
            object.insert("status".into(), api.status().as_u16().into());
            object.insert("code".into(), api.code().map(|c| c.as_str()).into());
            object.insert("message".into(), api.message().into());
            object.insert("request_id".into(), api.request_id().into());
            object.insert("retryable".into(), e.is_retryable().into());
            object.insert("origin".into(), api.origin().to_string().into());
            if let Some(code) = api.gateway_code() {
                object.insert("gateway_code".into(), code.into());
            }
            if let Some(detail) = api.detail() {
                object.insert("detail".into(), detail.clone());
            }
        }
        CliError::Answer(wxpay_protocol::Error::Malformed(m)) => {
            object.insert("malformed".into(), m.kind().to_string().into());
            object.insert("status".into(), m.status().as_u16().into());
        }
        _ => {}
    }
    let causes = causes(err);
    if !causes.is_empty() {
        object.insert("caused_by".into(), causes.into());
    }
    json!({ "error": object })
}
