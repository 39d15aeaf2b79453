//! The settings' names, and why loading them failed. No error quotes a value: they name the
//! setting, its variable, and the file when the setting is a path and the value plainly a path
//! ([`path_shown`](crate::path_shown)).

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

use wxpay_protocol::ValidationError;
use wxpay_protocol::security::KeyError;

/// A setting: its key in the TOML file (and field of [`Settings`](crate::Settings)), the CLI flag
/// that carries it, and its environment variable. A secret's contents
/// ([`PRIVATE_KEY_PEM`](Self::PRIVATE_KEY_PEM), [`APIV3_KEY`](Self::APIV3_KEY),
/// [`APIV2_KEY`](Self::APIV2_KEY), [`CLIENT_KEY_PEM`](Self::CLIENT_KEY_PEM)) have only a
/// variable ([`Setting::is_contents`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Setting {
    key: &'static str,
    flag: &'static str,
    env: Option<&'static str>,
    contents: bool,
}

impl Setting {
    /// `mchid`, `WXPAY_MCHID`: the merchant id that signs API v3 requests, and the `mch_id` of
    /// v2 calls.
    pub const MCHID: Setting = Setting::new("mchid", "mchid", Some("WXPAY_MCHID"));
    /// `merchant_serial`, `WXPAY_MERCHANT_SERIAL`.
    pub const MERCHANT_SERIAL: Setting =
        Setting::new("merchant_serial", "merchant_serial", Some("WXPAY_MERCHANT_SERIAL"));
    /// `private_key` (a path), `WXPAY_PRIVATE_KEY`.
    pub const PRIVATE_KEY: Setting = Setting::new("private_key", "private_key", Some("WXPAY_PRIVATE_KEY"));
    /// `public_key` (a path), `WXPAY_PUBLIC_KEY`.
    pub const PUBLIC_KEY: Setting = Setting::new("public_key", "public_key", Some("WXPAY_PUBLIC_KEY"));
    /// `public_key_id`, `WXPAY_PUBLIC_KEY_ID`.
    pub const PUBLIC_KEY_ID: Setting = Setting::new("public_key_id", "public_key_id", Some("WXPAY_PUBLIC_KEY_ID"));
    /// `platform_certs` (paths; the CLI's repeated `--platform-cert`), no variable.
    pub const PLATFORM_CERTS: Setting = Setting::new("platform_certs", "platform_cert", None);
    /// `apiv3_key_file` (a path), `WXPAY_APIV3_KEY_FILE`.
    pub const APIV3_KEY_FILE: Setting = Setting::new("apiv3_key_file", "apiv3_key_file", Some("WXPAY_APIV3_KEY_FILE"));
    /// `WXPAY_PRIVATE_KEY_PEM`: the merchant's private key itself (PEM text), for containers and
    /// CI systems that hand secrets over as variable contents. Instead of
    /// [`PRIVATE_KEY`](Self::PRIVATE_KEY); no flag, no key in the file.
    pub const PRIVATE_KEY_PEM: Setting = Setting::contents("private_key_pem", "WXPAY_PRIVATE_KEY_PEM");
    /// `WXPAY_APIV3_KEY`: the APIv3 key itself (32 bytes). Instead of
    /// [`APIV3_KEY_FILE`](Self::APIV3_KEY_FILE); no flag, no key in the file.
    pub const APIV3_KEY: Setting = Setting::contents("apiv3_key", "WXPAY_APIV3_KEY");
    /// `base_url`, `WXPAY_BASE_URL`.
    pub const BASE_URL: Setting = Setting::new("base_url", "base_url", Some("WXPAY_BASE_URL"));
    /// `cloudpay_url`, `WXPAY_CLOUDPAY_URL`.
    pub const CLOUDPAY_URL: Setting = Setting::new("cloudpay_url", "cloudpay_url", Some("WXPAY_CLOUDPAY_URL"));
    /// `ca_cert` (a path), `WXPAY_CA_CERT`.
    pub const CA_CERT: Setting = Setting::new("ca_cert", "ca_cert", Some("WXPAY_CA_CERT"));
    /// `request_timeout` (seconds), `WXPAY_REQUEST_TIMEOUT`.
    pub const REQUEST_TIMEOUT: Setting =
        Setting::new("request_timeout", "request_timeout", Some("WXPAY_REQUEST_TIMEOUT"));
    /// `connect_timeout` (seconds), `WXPAY_CONNECT_TIMEOUT`.
    pub const CONNECT_TIMEOUT: Setting =
        Setting::new("connect_timeout", "connect_timeout", Some("WXPAY_CONNECT_TIMEOUT"));
    /// `redis_url` (the CLI's `--redis`), `WXPAY_REDIS_URL`: a rate budget shared through Redis.
    pub const REDIS_URL: Setting = Setting::new("redis_url", "redis", Some("WXPAY_REDIS_URL"));
    /// `v2_url`, `WXPAY_V2_URL`: the v2 API's base URL.
    pub const V2_URL: Setting = Setting::new("v2_url", "v2_url", Some("WXPAY_V2_URL"));
    /// `appid`, `WXPAY_APPID`: the app id of v2 calls.
    pub const APPID: Setting = Setting::new("appid", "appid", Some("WXPAY_APPID"));
    /// `apiv2_key_file` (a path), `WXPAY_APIV2_KEY_FILE`: the API v2 key that signs v2 calls.
    pub const APIV2_KEY_FILE: Setting = Setting::new("apiv2_key_file", "apiv2_key_file", Some("WXPAY_APIV2_KEY_FILE"));
    /// `WXPAY_APIV2_KEY`: the API v2 key itself (32 characters). Instead of
    /// [`APIV2_KEY_FILE`](Self::APIV2_KEY_FILE); no flag, no key in the file.
    pub const APIV2_KEY: Setting = Setting::contents("apiv2_key", "WXPAY_APIV2_KEY");
    /// `client_cert` (a path), `WXPAY_CLIENT_CERT`: the merchant API certificate
    /// (`apiclient_cert.pem`) presented as the TLS client certificate (v2 `/secapi/` calls).
    pub const CLIENT_CERT: Setting = Setting::new("client_cert", "client_cert", Some("WXPAY_CLIENT_CERT"));
    /// `client_key` (a path), `WXPAY_CLIENT_KEY`: the private key of
    /// [`CLIENT_CERT`](Self::CLIENT_CERT) (`apiclient_key.pem`).
    pub const CLIENT_KEY: Setting = Setting::new("client_key", "client_key", Some("WXPAY_CLIENT_KEY"));
    /// `WXPAY_CLIENT_KEY_PEM`: the TLS client key itself (PEM text). Instead of
    /// [`CLIENT_KEY`](Self::CLIENT_KEY); no flag, no key in the file.
    pub const CLIENT_KEY_PEM: Setting = Setting::contents("client_key_pem", "WXPAY_CLIENT_KEY_PEM");
    /// The config file (`--config`), `WXPAY_CONFIG`.
    pub const CONFIG: Setting = Setting::new("config", "config", Some("WXPAY_CONFIG"));

    const fn new(key: &'static str, flag: &'static str, env: Option<&'static str>) -> Self {
        Self { key, flag, env, contents: false }
    }

    const fn contents(field: &'static str, env: &'static str) -> Self {
        Self { key: field, flag: field, env: Some(env), contents: true }
    }

    /// The key in the TOML file (for a secret's contents, which the file never holds, the
    /// field of [`Settings`](crate::Settings)).
    pub fn key(self) -> &'static str {
        self.key
    }

    /// The CLI flag, as a field name (`merchant_serial` for `--merchant-serial`; for a secret's
    /// contents, which no flag takes, the field of [`Settings`](crate::Settings)).
    pub fn flag(self) -> &'static str {
        self.flag
    }

    /// Whether this is a secret's contents, given only by its variable (no flag, no key in the
    /// file).
    pub fn is_contents(self) -> bool {
        self.contents
    }

    /// The environment variable, if the setting has one.
    pub fn env(self) -> Option<&'static str> {
        self.env
    }
}

impl fmt::Display for Setting {
    /// `mchid (env WXPAY_MCHID)`, `platform_certs` for a setting without a variable, or
    /// `WXPAY_APIV3_KEY` for a secret's contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (true, Some(env)) = (self.contents, self.env) {
            return f.write_str(env);
        }
        f.write_str(self.key)?;
        match self.env {
            Some(env) => write!(f, " (env {env})"),
            None => Ok(()),
        }
    }
}

/// Why a credential was refused. No variant holds, and no message quotes, any part of the value.
///
/// `Display` and `source()` pass the protocol's [`KeyError`] through; it quotes nothing of the key.
#[derive(Debug)]
#[non_exhaustive]
pub enum CredentialError {
    /// The file could not be read (or is not UTF-8 text).
    Read(io::Error),
    /// The path names a directory or something else that is not a file.
    NotAFile,
    /// The contents are not UTF-8 text (so not PEM).
    NotText,
    /// The value given as a path looks like key material
    /// ([`looks_like_content`](crate::looks_like_content)); it is not shown.
    LooksLikeContent {
        /// The variable made for the contents, if there is one.
        contents: Option<Setting>,
    },
    /// This secret's contents and its path (the other setting) were both given: refused rather
    /// than guessed.
    Both(Setting),
    /// The private key is not a PKCS#8 private key the protocol accepts.
    PrivateKey(KeyError),
    /// The TLS client certificate or its key is not PEM the protocol accepts.
    ClientIdentity(KeyError),
    /// The protocol refused the id, key or certificate.
    Key(KeyError),
}

impl From<KeyError> for CredentialError {
    fn from(e: KeyError) -> Self {
        CredentialError::Key(e)
    }
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialError::Read(_) => f.write_str("cannot read the file"),
            CredentialError::NotAFile => f.write_str("not a file"),
            CredentialError::NotText => f.write_str("not a PKCS#8 private key: not PEM text"),
            CredentialError::LooksLikeContent { contents: Some(setting) } => write!(
                f,
                "looks like key content, not a path (the value is not shown); give a file's path, \
                 or the contents in {}",
                setting.env().unwrap_or(setting.key())
            ),
            CredentialError::LooksLikeContent { contents: None } => {
                f.write_str("looks like key content, not a path (the value is not shown); give a file's path")
            }
            CredentialError::Both(other) => write!(f, "{other} is given too; give one of them"),
            CredentialError::PrivateKey(e) => {
                write!(f, "not a PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`, apiclient_key.pem): {e}")
            }
            CredentialError::ClientIdentity(e) => write!(f, "not a usable TLS client certificate or key: {e}"),
            CredentialError::Key(e) => e.fmt(f),
        }
    }
}

impl Error for CredentialError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CredentialError::Read(e) => Some(e),
            CredentialError::Key(e) | CredentialError::PrivateKey(e) | CredentialError::ClientIdentity(e) => e.source(),
            CredentialError::NotAFile
            | CredentialError::NotText
            | CredentialError::LooksLikeContent { .. }
            | CredentialError::Both(_) => None,
        }
    }
}

/// Why the settings could not be loaded. `Display` is one short phrase; causes travel through
/// `source()`; nothing quotes a value, and a file is named only when it is plainly a path
/// ([`path_shown`](crate::path_shown)), in `Display` and `Debug` alike.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A value broke a documented rule (a base URL; the error names its field).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A setting that the others require was not given (the merchant's id, serial and key come
    /// together; a public key needs its id and the other way round).
    #[error("missing setting {setting}")]
    Missing {
        /// The setting.
        setting: Setting,
    },
    /// A credential's value, or the file it names, was refused.
    #[error("invalid setting {setting}{}", file.as_ref().map(|f| format!(": {}", f.display())).unwrap_or_default())]
    Credential {
        /// The setting.
        setting: Setting,
        /// The file it names, if it names one and the value is plainly a path.
        file: Option<PathBuf>,
        /// Why.
        #[source]
        source: Box<CredentialError>,
    },
    /// A setting's value is not of its kind (a timeout that is not a positive number of
    /// seconds).
    #[error("invalid setting {setting}: {reason}")]
    Value {
        /// The setting.
        setting: Setting,
        /// What it must be.
        reason: &'static str,
    },
    /// The config file could not be read.
    #[error("cannot read the config file{}", shown(file))]
    ReadConfig {
        /// The file, unless the value looks like file contents rather than a path.
        file: Option<PathBuf>,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The config file is not valid TOML, or holds an unknown key or a value of the wrong type.
    #[error("invalid config file{}{}: {message}", shown(file), line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Config {
        /// The file (always plainly a path: it was read).
        file: Option<PathBuf>,
        /// The line of the error, when known.
        line: Option<usize>,
        /// What is wrong (it names the key; it quotes no value).
        message: String,
    },
    /// The `ca_cert` file could not be read, or holds no certificate.
    #[error("invalid {}{}: {reason}", Setting::CA_CERT, shown(file))]
    CaCert {
        /// The file, unless the value looks like file contents rather than a path.
        file: Option<PathBuf>,
        /// Why (never the PEM reader's error, which can quote the line it choked on).
        reason: String,
    },
}

/// ` FILE`, or nothing when the file is not shown.
fn shown(file: &Option<PathBuf>) -> String {
    file.as_ref().map(|f| format!(" {}", f.display())).unwrap_or_default()
}
