//! Exit codes (DESIGN.md 6) and the one error type of the CLI.

use std::io;
use std::process::ExitCode;

use wxpay_protocol::ValidationError;

use crate::decode::RawHttpError;

/// The exit codes of `wxpay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: the operation succeeded.
    Ok = 0,
    /// 1: the CLI itself failed (no randomness from the OS, output not writable).
    Internal = 1,
    /// 2: invalid input (a field, a missing flag, a base URL, an unreadable file, usage).
    InvalidInput = 2,
    /// 3: the answer is an API error.
    Api = 3,
    /// 4: the answer is malformed (or, later, unverifiable).
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
    #[error("missing --{} ({field})", flag_name(field))]
    MissingFlag {
        /// The API field the flag carries.
        field: &'static str,
    },
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
    /// The answer parsed into an error: an API error, or a malformed answer.
    #[error(transparent)]
    Answer(#[from] wxpay_protocol::Error),
    /// The operating system gave no randomness for `nonce_str`.
    #[error("cannot generate nonce_str: no randomness from the operating system")]
    Random(#[source] getrandom::Error),
    /// The output could not be produced.
    #[error("cannot write the output")]
    Output(#[source] io::Error),
    /// The output could not be serialized as JSON.
    #[error("cannot serialize the output as JSON")]
    Json(#[source] serde_json::Error),
}

/// The flag (without `--`) that carries an API field: the field name in kebab-case, as clap
/// derives it from the argument structs.
pub(crate) fn flag_name(field: &str) -> String {
    field.replace('_', "-")
}

impl CliError {
    /// The exit code for this error.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            CliError::Invalid(_) | CliError::MissingFlag { .. } | CliError::SendUnavailable => Exit::InvalidInput,
            CliError::ReadInput { .. } => Exit::InvalidInput,
            CliError::RawHttp(_) => Exit::Malformed,
            CliError::Answer(e) => match e {
                wxpay_protocol::Error::Api(_) => Exit::Api,
                wxpay_protocol::Error::Malformed(_) => Exit::Malformed,
                wxpay_protocol::Error::InvalidRequest(_) => Exit::InvalidInput,
                wxpay_protocol::Error::Transport(_) => Exit::Transport,
                _ => Exit::Internal,
            },
            CliError::Random(_) | CliError::Output(_) | CliError::Json(_) => Exit::Internal,
        }
    }
}
