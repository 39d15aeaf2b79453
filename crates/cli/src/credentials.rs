//! API v3 credentials from flags or the environment: the merchant's signing key, the keys that
//! verify answers, and the APIv3 key.
//!
//! Reading the key files is `wxpay-settings`'s (the library reads them the same way); what a
//! valid id, key or certificate is, is the protocol's (`wxpay_protocol::security`). Key
//! material is never printed: errors name the flag, its environment variable and the file, and
//! carry the protocol's errors, which hold no key material.
//!
//! A value given where a path is expected is shown in an error only when it is plainly a path
//! (`wxpay_settings::path_shown`): a value with a line break or a PEM marker, or that names no
//! file and has a part as long as a key, is refused as "looks like key content" and never
//! echoed. Contents are taken only from the variables made for them (`WXPAY_PRIVATE_KEY_PEM`,
//! `WXPAY_APIV3_KEY`, read by `wxpay-settings` into the arguments, see `config`), never guessed
//! from a path variable.

use std::error::Error;
use std::fmt;

use wxpay_protocol::security::{Apiv3Key, KeySet, MerchantCredentials};

use crate::args::{ENV_MCHID, V3Args};
use crate::config;
use crate::exit::{CliError, flag_name};

/// A credential flag and the environment variable that can stand in for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag {
    /// The flag as a field name (`merchant_serial` for `--merchant-serial`).
    pub(crate) field: &'static str,
    /// The environment variable, if the flag has one.
    pub(crate) env: Option<&'static str>,
    /// Whether there is only the variable (a secret's contents), and no flag.
    pub(crate) env_only: bool,
}

/// `--mchid`.
const MCHID: Flag = Flag { field: "mchid", env: Some(ENV_MCHID), env_only: false };

impl Flag {
    /// The error for this flag when it is required and was not given.
    fn missing(self) -> CliError {
        CliError::MissingFlag { field: self.field, env: self.env }
    }
}

impl fmt::Display for Flag {
    /// `--mchid (env WXPAY_MCHID)`, `--platform-cert` for a flag without a variable, or
    /// `WXPAY_APIV3_KEY` for a variable without a flag.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (true, Some(env)) = (self.env_only, self.env) {
            return f.write_str(env);
        }
        write!(f, "--{}", flag_name(self.field))?;
        match self.env {
            Some(env) => write!(f, " (env {env})"),
            None => Ok(()),
        }
    }
}

/// Why a credential was refused: `wxpay-settings`' reason ("not a file", "not a PKCS#8 private
/// key", "looks like key content, not a path", the protocol's), with the other setting of
/// "both given" named by its flag.
///
/// `Display` and `source()` pass the library's error through; it quotes nothing of the key.
#[derive(Debug)]
pub(crate) enum CredentialError {
    /// The library's reason.
    Settings(wxpay_settings::CredentialError),
    /// This variable and the flag (or its variable) were both given.
    Both(Flag),
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialError::Settings(e) => e.fmt(f),
            CredentialError::Both(other) => write!(f, "{other} is given too; give one of them"),
        }
    }
}

impl Error for CredentialError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CredentialError::Settings(e) => e.source(),
            CredentialError::Both(_) => None,
        }
    }
}

/// The credentials requests are signed with: `--mchid`, `--merchant-serial` and `--private-key`
/// (or their variables; the key's contents in `WXPAY_PRIVATE_KEY_PEM`), all three required. Ids
/// are checked before the key is read.
pub(crate) fn merchant(args: &V3Args) -> Result<MerchantCredentials, CliError> {
    config::settings(args).merchant_credentials()?.ok_or_else(|| MCHID.missing())
}

/// The keys that verify answers: `--public-key` with `--public-key-id` (one needs the other),
/// and every `--platform-cert`. Empty when none is given.
pub(crate) fn verifying_keys(args: &V3Args) -> Result<KeySet, CliError> {
    Ok(config::settings(args).verifying_keys()?)
}

/// `--apiv3-key-file` (or `WXPAY_APIV3_KEY`), checked by the protocol's rule, if given.
pub(crate) fn apiv3_key(args: &V3Args) -> Result<Option<Apiv3Key>, CliError> {
    Ok(config::settings(args).apiv3_key()?)
}
