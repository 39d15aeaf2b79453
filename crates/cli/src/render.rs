//! Output: built requests (`--dry-run`), decoded answers as JSON, and errors, for people or
//! (with `--json`) for programs. Human tables of answers are in [`crate::table`].

use std::error::Error as _;

use serde_json::{Map, Value, json};
use wxpay_protocol::security::{KeyError, SignedHeaders};
use wxpay_protocol::{RetryClass, TransportErrorKind, ValidationError};

use crate::credentials::CredentialError;
use crate::exit::{CliError, Exit, flag_name};
use crate::table::{escape, escape_bytes};

/// A header value as text (bytes that are not visible ASCII are replaced).
fn header_text(value: &http::HeaderValue) -> String {
    value.to_str().map_or_else(|_| String::from_utf8_lossy(value.as_bytes()).into_owned(), str::to_owned)
}

/// A signed message on one line (see [`escape_bytes`]): the exact bytes that were signed.
fn escape_message(message: &[u8]) -> String {
    escape_bytes(message)
}

/// A request in the human form: `METHOD URL`, the headers, a blank line, the body (pretty JSON
/// when it is JSON), and for a signed (API v3) request the line `signed message: ...`: the exact
/// bytes that were signed, on one line (see [`escape_message`]).
pub(crate) fn request_text(request: &http::Request<Vec<u8>>, signed: Option<&SignedHeaders>) -> String {
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
    if let Some(signed) = signed {
        out.push_str(&format!("signed message: {}\n", escape_message(signed.message())));
    }
    out
}

/// A request as one JSON object: `{"method","url","headers","body"}`, with the body parsed as
/// JSON (`null` when empty, a string if it is not JSON), and for a signed (API v3) request
/// `"signed_message"`: the exact message that was signed, as a string.
pub(crate) fn request_json(request: &http::Request<Vec<u8>>, signed: Option<&SignedHeaders>) -> Value {
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
    let mut object = json!({
        "method": request.method().as_str(),
        "url": request.uri().to_string(),
        "headers": headers,
        "body": body,
    });
    if let Some(signed) = signed {
        object["signed_message"] = String::from_utf8_lossy(signed.message()).into_owned().into();
    }
    object
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

/// The kind of a transport failure, as one word.
fn transport_kind(kind: TransportErrorKind) -> &'static str {
    match kind {
        TransportErrorKind::Connect => "connect",
        TransportErrorKind::Tls => "tls",
        TransportErrorKind::Timeout => "timeout",
        TransportErrorKind::Io => "io",
        _ => "other",
    }
}

/// What a write whose outcome is unknown asks of the operator (docs/protocol.md §4).
const OUTCOME_UNKNOWN: &str = "outcome unknown: the finish may have taken effect; \
                               query or resend with the same out_order_no (never a new one)";

/// How to give the v2 finish its TLS client certificate.
const CLIENT_CERTIFICATE_HINT: &str = "give --client-cert and --client-key (env WXPAY_CLIENT_CERT, \
                                       WXPAY_CLIENT_KEY; or the key's contents in WXPAY_CLIENT_KEY_PEM)";

/// Whether the client refused a `/secapi/` call for want of a TLS client certificate.
fn is_missing_client_certificate(err: &CliError) -> bool {
    matches!(
        err,
        CliError::Answer(wxpay_protocol::Error::Signing(
            wxpay_protocol::security::SigningError::MissingClientCertificate(_)
        ))
    )
}

/// The one-line summary of an error: its `Display`, with the kind of a transport failure.
fn summary(err: &CliError) -> String {
    match err {
        CliError::Answer(wxpay_protocol::Error::Transport(t)) => {
            let mut text = format!("transport failure ({}): {t}", transport_kind(t.kind()));
            match t.attempts() {
                Some(1) => text.push_str(" after 1 attempt"),
                Some(n) => text.push_str(&format!(" after {n} attempts")),
                None => {}
            }
            if let Some(id) = t.last_request_id() {
                text.push_str(&format!(" (last Request-ID {id})"));
            }
            text
        }
        _ => err.to_string(),
    }
}

/// An error for people: `error: ...`, the retry class of an API error or a transport failure,
/// what to do when a write's outcome is unknown, then one `caused by: ...` line per source.
///
/// Every line is [`escape`]d: a message, code or field name from an answer or a file cannot
/// drive the terminal or forge a line of its own.
pub(crate) fn error_text(err: &CliError) -> String {
    let mut out = format!("error: {}\n", escape(&summary(err)));
    if let CliError::Answer(e @ (wxpay_protocol::Error::Api(_) | wxpay_protocol::Error::Transport(_))) = err {
        if e.outcome_unknown() {
            out.push_str(&format!("{OUTCOME_UNKNOWN}\n"));
        }
        out.push_str(&format!("retry: {}\n", retry_text(e.retry_class())));
    }
    if is_missing_client_certificate(err) {
        out.push_str(&format!("hint: {CLIENT_CERTIFICATE_HINT}\n"));
    }
    for cause in causes(err) {
        out.push_str(&format!("caused by: {}\n", escape(&cause)));
    }
    out
}

/// The fields of a validation error.
fn validation_fields(e: &ValidationError, object: &mut Map<String, Value>) {
    object.insert("field".into(), e.field().into());
    object.insert("rule".into(), e.rule().to_string().into());
}

/// The `kind` of a JSON error: `invalid_input`, `api`, `malformed`, `unverifiable`, `transport`
/// or `internal`, matching the exit code (`malformed` and `unverifiable` share exit 4).
fn error_kind(err: &CliError) -> &'static str {
    match err.exit() {
        Exit::InvalidInput => "invalid_input",
        Exit::Api => "api",
        Exit::Malformed if matches!(err, CliError::Answer(wxpay_protocol::Error::Verification(_))) => "unverifiable",
        Exit::Malformed => "malformed",
        Exit::Transport => "transport",
        Exit::Ok | Exit::Internal | Exit::Interrupted => "internal",
    }
}

/// An error for programs: `{"error":{"kind",...}}`, where `kind` is `invalid_input`, `api`,
/// `malformed`, `unverifiable`, `transport` or `internal` (matching the exit code), `summary` is
/// the one-line message, and the other fields depend on the kind.
pub(crate) fn error_json(err: &CliError) -> Value {
    let kind = error_kind(err);
    let mut object = Map::new();
    object.insert("kind".into(), kind.into());
    object.insert("summary".into(), summary(err).into());
    match err {
        CliError::Invalid(e) | CliError::Answer(wxpay_protocol::Error::InvalidRequest(e)) => {
            validation_fields(e, &mut object);
        }
        CliError::MissingFlag { field, env } => {
            object.insert("field".into(), (*field).into());
            object.insert("flag".into(), format!("--{}", flag_name(field)).into());
            if let Some(env) = env {
                object.insert("env".into(), (*env).into());
            }
            object.insert("rule".into(), "required".into());
        }
        CliError::Credential { flag, file, source } => {
            if !flag.env_only {
                object.insert("flag".into(), format!("--{}", flag_name(flag.field)).into());
            }
            if let Some(env) = flag.env {
                object.insert("env".into(), env.into());
            }
            if let Some(file) = file {
                object.insert("file".into(), file.as_str().into());
            }
            if let CredentialError::Settings(wxpay_settings::CredentialError::Key(KeyError::InvalidId {
                field,
                reason,
            })) = &**source
            {
                object.insert("field".into(), (*field).into());
                object.insert("rule".into(), (*reason).into());
            }
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
        CliError::Answer(wxpay_protocol::Error::Verification(u)) => {
            object.insert("unverifiable".into(), u.verification_error().to_string().into());
            if let Some(status) = u.status() {
                object.insert("status".into(), status.as_u16().into());
            }
            object.insert("request_id".into(), u.request_id().into());
        }
        CliError::Answer(e @ wxpay_protocol::Error::Transport(t)) => {
            object.insert("transport_kind".into(), transport_kind(t.kind()).into());
            object.insert("attempts".into(), t.attempts().into());
            object.insert("request_id".into(), t.last_request_id().into());
            object.insert("outcome_unknown".into(), e.outcome_unknown().into());
            object.insert("retryable".into(), e.is_retryable().into());
            if e.outcome_unknown() {
                object.insert("advice".into(), OUTCOME_UNKNOWN.into());
            }
        }
        CliError::Answer(wxpay_protocol::Error::RateBudget(_)) => {
            object.insert("transport_kind".into(), "rate_budget".into());
            object.insert("outcome_unknown".into(), false.into());
            // Nothing was sent: a later run may send it (a batch resends the row on resume).
            object.insert("retryable".into(), true.into());
        }
        CliError::Paging(e) => {
            object.insert("malformed".into(), e.to_string().into());
        }
        CliError::ReadConfig { file, .. } => {
            object.insert("file".into(), file.as_deref().into());
        }
        CliError::Config { file, line, message } => {
            object.insert("file".into(), file.as_deref().into());
            object.insert("line".into(), (*line).into());
            object.insert("message".into(), message.as_str().into());
        }
        CliError::NoVerifyingKeys => {
            object.insert(
                "flags".into(),
                json!(["--public-key", "--public-key-id", "--platform-cert", "--apiv3-key-file"]),
            );
            object.insert("rule".into(), "required".into());
        }
        _ if is_missing_client_certificate(err) => {
            object.insert("flags".into(), json!(["--client-cert", "--client-key"]));
            object.insert("rule".into(), "required".into());
            object.insert("advice".into(), CLIENT_CERTIFICATE_HINT.into());
        }
        CliError::V2Only { flag } => {
            object.insert("flag".into(), format!("--{flag}").into());
            object.insert("rule".into(), "--wire v2 only".into());
        }
        CliError::Batch { file, .. } | CliError::BatchOutput { file, .. } => {
            object.insert("file".into(), file.as_str().into());
        }
        CliError::NotUtf8 { flag } => {
            object.insert("flag".into(), flag.as_str().into());
            object.insert("rule".into(), "not UTF-8".into());
        }
        CliError::BadRow(reason) => {
            object.insert("row".into(), reason.as_str().into());
        }
        CliError::CaCert { file, .. } => {
            object.insert("flag".into(), "--ca-cert".into());
            object.insert("file".into(), file.as_deref().into());
        }

        _ => {}
    }
    let causes = causes(err);
    if !causes.is_empty() {
        object.insert("caused_by".into(), causes.into());
    }
    json!({ "error": object })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_messages_are_shown_on_one_line() {
        assert_eq!(
            escape_message(b"GET\n/v3/x?a=1%7C2\n1554208460\nN0\n\n"),
            r"GET\n/v3/x?a=1%7C2\n1554208460\nN0\n\n"
        );
        assert_eq!(escape_message(b"a\\nb\r\t\x01\xFF\n"), r"a\\nb\r\t\x01\xFF\n");
        assert_eq!(escape_message("分账\u{85}".as_bytes()), r"分账\xC2\x85");
    }
}
