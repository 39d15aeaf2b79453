//! Exit codes (DESIGN.md 6) and the one error type of the CLI.

use std::io;
use std::process::ExitCode;

use wxpay_protocol::ValidationError;
use wxpay_protocol::security::SigningError;

use crate::credentials::{CredentialError, Flag};
use crate::decode::RawHttpError;

/// The exit codes of `wxpay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: the operation succeeded.
    Ok = 0,
    /// 1: the CLI itself failed (no randomness or clock from the OS, a signer failure, output
    /// not writable).
    Internal = 1,
    /// 2: invalid input (a field, a missing flag, a base URL, an unreadable file, a credential,
    /// usage).
    InvalidInput = 2,
    /// 3: the answer is an API error.
    Api = 3,
    /// 4: the answer is malformed or unverifiable.
    Malformed = 4,
    /// 5: the request could not be sent or its answer not read (reserved for the transports).
    Transport = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// Why a `wxpay` run failed. `Display` is one short phrase; causes travel through `source()`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A flag's value broke a documented rule (named by the protocol's error).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A flag the operation requires was not given.
    #[error("{}", missing_text(field, *env))]
    MissingFlag {
        /// The API field the flag carries (or, for a credential, the flag as a field name).
        field: &'static str,
        /// The environment variable that can stand in for the flag, if any.
        env: Option<&'static str>,
    },
    /// A credential flag's value, or the file it names, was refused.
    #[error("invalid {flag}{}", file.as_deref().map(|f| format!(": {f}")).unwrap_or_default())]
    Credential {
        /// The flag.
        flag: Flag,
        /// The file it names, if it names one.
        file: Option<String>,
        /// Why.
        #[source]
        source: CredentialError,
    },
    /// The request could not be signed (the signer failed).
    #[error("cannot sign the request")]
    Signing(#[source] SigningError),
    /// The system clock is before 1970 (or beyond what a timestamp holds).
    #[error("cannot read the system clock as Unix seconds; give --timestamp or --now")]
    Clock,
    /// Neither `--dry-run` nor `--decode`: sending arrives with the transports.
    #[error("sending is not available in this version; use --dry-run or --decode")]
    SendUnavailable,
    /// The `--decode` input could not be read.
    #[error("cannot read {input}")]
    ReadInput {
        /// The file, or "standard input".
        input: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The raw HTTP framing around the answer is broken.
    #[error(transparent)]
    RawHttp(#[from] RawHttpError),
    /// The answer parsed into an error (an API error, or a malformed answer), or an API v3
    /// answer failed verification.
    #[error(transparent)]
    Answer(#[from] wxpay_protocol::Error),
    /// The operating system gave no randomness for `nonce_str`.
    #[error("cannot generate nonce_str: no randomness from the operating system")]
    Random(#[source] getrandom::Error),
    /// The output could not be produced.
    #[error("cannot write the output")]
    Output(#[source] io::Error),
    /// `wxpay demo` could not run.
    #[error("the demo failed")]
    Demo(#[from] crate::demo::DemoError),
    /// The embedded sandbox could not run.
    #[error("the sandbox failed")]
    Sandbox(#[source] wxpay_sandbox::SandboxError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] io::Error),
    /// The output could not be serialized as JSON.
    #[error("cannot serialize the output as JSON")]
    Json(#[source] serde_json::Error),
}

/// The flag (without `--`) that carries an API field: the field name in kebab-case, as clap
/// derives it from the argument structs.
pub(crate) fn flag_name(field: &str) -> String {
    field.replace('_', "-")
}

/// `missing --out-return-no (out_return_no)`, or `missing --mchid (env WXPAY_MCHID)` for a flag
/// that an environment variable can stand in for.
fn missing_text(field: &str, env: Option<&str>) -> String {
    match env {
        Some(env) => format!("missing --{} (env {env})", flag_name(field)),
        None => format!("missing --{} ({field})", flag_name(field)),
    }
}

impl CliError {
    /// The exit code for this error.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            CliError::Invalid(_) | CliError::MissingFlag { .. } | CliError::SendUnavailable => Exit::InvalidInput,
            CliError::ReadInput { .. } | CliError::Credential { .. } => Exit::InvalidInput,
            CliError::RawHttp(_) => Exit::Malformed,
            CliError::Answer(e) => match e {
                wxpay_protocol::Error::Api(_) => Exit::Api,
                wxpay_protocol::Error::Malformed(_) | wxpay_protocol::Error::Verification(_) => Exit::Malformed,
                wxpay_protocol::Error::InvalidRequest(_) => Exit::InvalidInput,
                wxpay_protocol::Error::Transport(_) => Exit::Transport,
                _ => Exit::Internal,
            },
            CliError::Signing(_) | CliError::Clock => Exit::Internal,
            CliError::Random(_) | CliError::Output(_) | CliError::Json(_) => Exit::Internal,
            CliError::Demo(_) | CliError::Runtime(_) => Exit::Internal,
            // Bad sandbox flags or key files are the user's input.
            CliError::Sandbox(_) => Exit::InvalidInput,
        }
    }
}
