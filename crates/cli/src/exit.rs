//! Exit codes (docs/design.md §4) and the one error type of the CLI.

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
    /// 5: the request could not be sent or its answer not read.
    Transport = 5,
    /// 130: a batch stopped by Ctrl-C (the calls in flight finished and were written; the same
    /// command resumes it).
    Interrupted = 130,
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
        /// The file it names, if it names one and the value is plainly a path (never a value
        /// that looks like key material, see `wxpay_settings::path_shown`).
        file: Option<String>,
        /// Why.
        #[source]
        source: Box<CredentialError>,
    },
    /// The request could not be signed (the signer failed).
    #[error("cannot sign the request")]
    Signing(#[source] SigningError),
    /// The `--config` file could not be read.
    #[error("cannot read the config file{}", shown_file(file))]
    ReadConfig {
        /// The file, unless the value looks like file contents rather than a path.
        file: Option<String>,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The `--config` file is not valid TOML, or holds an unknown key or a value of the wrong
    /// type.
    #[error("invalid config file{}{}: {message}", shown_file(file), line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Config {
        /// The file, unless the value looks like file contents rather than a path.
        file: Option<String>,
        /// The line of the error, when known.
        line: Option<usize>,
        /// What is wrong (it names the key; it quotes no value).
        message: String,
    },
    /// The `--redis` URL was refused (the URL is not repeated: it may hold a password).
    #[error("invalid --redis URL (env WXPAY_REDIS_URL)")]
    Redis(#[source] wxpay_ratelimit_redis::OpenError),
    /// Another setting was refused (a timeout that is not a positive number of seconds).
    #[error(transparent)]
    Settings(wxpay_settings::SettingsError),
    /// An operation on a wire this CLI does not serve.
    #[error("the CLI does not serve operations on the {0:?} wire")]
    UnsupportedWire(wxpay_protocol::Api),
    /// A flag that only the v2 wire reads was given on the CloudPay wire.
    #[error("--{flag} applies to --wire v2 only")]
    V2Only {
        /// The flag, without `--`.
        flag: &'static str,
    },
    /// An API v3 request would be sent with no way to verify its answer.
    #[error(
        "no key to verify API v3 answers with: give --public-key with --public-key-id \
         (env WXPAY_PUBLIC_KEY, WXPAY_PUBLIC_KEY_ID), --platform-cert, or --apiv3-key-file \
         (env WXPAY_APIV3_KEY_FILE) to download the platform certificates"
    )]
    NoVerifyingKeys,
    /// The `--ca-cert` file could not be read, or holds no certificate.
    #[error("invalid --ca-cert{}: {reason}", shown_file(file))]
    CaCert {
        /// The file, unless the value looks like file contents rather than a path.
        file: Option<String>,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built (the TLS configuration or a root was refused).
    #[error("cannot build the HTTP client")]
    Client(#[source] wxpay_transport_hyper::BuildError),
    /// The refund pages contradict each other (`--all-pages`).
    #[error("the refunds could not be collected page by page")]
    Paging(#[source] wxpay_protocol::client::RefundsError),
    /// The embedded sandbox of `--sandbox` could not start.
    #[error("the embedded sandbox did not start")]
    EmbeddedSandbox(#[source] wxpay_sandbox::SandboxError),
    /// The `--batch` file could not be read, or is not CSV or JSON lines.
    #[error("cannot read the batch file {file}{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Batch {
        /// The file.
        file: String,
        /// What is wrong with it, if it was read.
        reason: Option<String>,
        /// The read error, if it was not.
        #[source]
        source: Option<io::Error>,
    },
    /// The `--output` file of a batch could not be read, truncated or written.
    #[error("cannot use the batch output file {file}")]
    BatchOutput {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A command-line argument is not UTF-8 where text is expected (clap names no flag).
    #[error("the value of {flag} is not UTF-8")]
    NotUtf8 {
        /// The flag (`--out-order-no`), or `an argument` when none can be told.
        flag: String,
    },
    /// One `--batch` row cannot be read (a line that is not a JSON object, a CSV record with
    /// the wrong number of fields, a value that is not text).
    #[error("invalid row: {0}")]
    BadRow(String),
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
    /// `wxpay listen` and `wxpay notify decode` need keys to verify and decrypt with.
    #[error(
        "no key to verify notifications with: give --public-key with --public-key-id \
         (env WXPAY_PUBLIC_KEY, WXPAY_PUBLIC_KEY_ID) or --platform-cert, and --apiv3-key-file"
    )]
    NoNotificationKeys,
    /// A notification was refused (verification, decryption or its JSON).
    #[error(transparent)]
    Notification(wxpay_protocol::notify::NotificationError),
    /// `wxpay listen --forward` takes an http:// URL.
    #[error("invalid --forward {0}: an http:// URL is expected")]
    Forward(String),
    /// `wxpay listen` could not listen on its address.
    #[error("cannot listen on {0}")]
    Listen(String, #[source] io::Error),
    /// The output could not be serialized as JSON.
    #[error("cannot serialize the output as JSON")]
    Json(#[source] serde_json::Error),
}

/// The flag (without `--`) that carries an API field: the field name in kebab-case, as clap
/// derives it from the argument structs.
pub(crate) fn flag_name(field: &str) -> String {
    field.replace('_', "-")
}

/// ` FILE`, or nothing when the file is not shown.
fn shown_file(file: &Option<String>) -> String {
    file.as_deref().map(|f| format!(" {f}")).unwrap_or_default()
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
            CliError::Invalid(_) | CliError::MissingFlag { .. } | CliError::NotUtf8 { .. } => Exit::InvalidInput,
            CliError::ReadInput { .. } | CliError::Credential { .. } => Exit::InvalidInput,
            CliError::ReadConfig { .. } | CliError::Config { .. } | CliError::Settings(_) => Exit::InvalidInput,
            CliError::Batch { .. } | CliError::BadRow(_) => Exit::InvalidInput,
            CliError::BatchOutput { .. } => Exit::Internal,
            CliError::NoVerifyingKeys | CliError::CaCert { .. } | CliError::Redis(_) => Exit::InvalidInput,
            CliError::V2Only { .. } => Exit::InvalidInput,
            // A root the user gave was refused; anything else is the CLI's own fault.
            CliError::Client(wxpay_transport_hyper::BuildError::Root(_)) => Exit::InvalidInput,
            CliError::Client(_) | CliError::EmbeddedSandbox(_) => Exit::Internal,
            CliError::RawHttp(_) | CliError::Paging(_) => Exit::Malformed,
            CliError::Answer(e) => match e {
                wxpay_protocol::Error::Api(_) => Exit::Api,
                wxpay_protocol::Error::Malformed(_) | wxpay_protocol::Error::Verification(_) => Exit::Malformed,
                wxpay_protocol::Error::InvalidRequest(_) => Exit::InvalidInput,
                // Nothing was sent: a setting the call needs is missing (the finish's TLS client
                // certificate on the v2 wire; v3 credentials are checked before sending).
                wxpay_protocol::Error::Signing(
                    SigningError::MissingCredentials | SigningError::MissingClientCertificate(_),
                ) => Exit::InvalidInput,
                // Nothing was sent: the shared budget's store was unreachable (retryable later,
                // like a connect failure).
                wxpay_protocol::Error::Transport(_) | wxpay_protocol::Error::RateBudget(_) => Exit::Transport,
                _ => Exit::Internal,
            },
            CliError::Signing(_) | CliError::UnsupportedWire(_) => Exit::Internal,
            CliError::Output(_) | CliError::Json(_) => Exit::Internal,
            CliError::Demo(_) | CliError::Runtime(_) => Exit::Internal,
            CliError::NoNotificationKeys | CliError::Forward(_) | CliError::Listen(..) => Exit::InvalidInput,
            CliError::Notification(_) => Exit::Malformed,
            // Bad sandbox flags or key files are the user's input.
            CliError::Sandbox(_) => Exit::InvalidInput,
        }
    }
}
