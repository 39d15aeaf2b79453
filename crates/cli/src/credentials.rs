//! API v3 credentials from flags or the environment: the merchant's signing key, the keys that
//! verify answers, and the APIv3 key.
//!
//! Reading the key files is `wxpay-settings`'s (the library reads them the same way); what a
//! valid id, key or certificate is, is the protocol's (`wxpay_protocol::security`). Key
//! material is never printed: errors name the flag, its environment variable and the file, and
//! carry the protocol's errors, which hold no key material.

use std::fmt;

use wxpay_protocol::security::{Apiv3Key, KeySet, MerchantCredentials};
pub(crate) use wxpay_settings::CredentialError;

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
}

/// `--mchid`.
const MCHID: Flag = Flag { field: "mchid", env: Some(ENV_MCHID) };

impl Flag {
    /// The error for this flag when it is required and was not given.
    fn missing(self) -> CliError {
        CliError::MissingFlag { field: self.field, env: self.env }
    }
}

impl fmt::Display for Flag {
    /// `--mchid (env WXPAY_MCHID)`, or `--platform-cert` for a flag without a variable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--{}", flag_name(self.field))?;
        match self.env {
            Some(env) => write!(f, " (env {env})"),
            None => Ok(()),
        }
    }
}

/// The credentials requests are signed with: `--mchid`, `--merchant-serial` and `--private-key`
/// (or their variables), all three required. Ids are checked before the key file is read.
pub(crate) fn merchant(args: &V3Args) -> Result<MerchantCredentials, CliError> {
    config::settings(args).merchant_credentials()?.ok_or_else(|| MCHID.missing())
}

/// The keys that verify answers: `--public-key` with `--public-key-id` (one needs the other),
/// and every `--platform-cert`. Empty when none is given.
pub(crate) fn verifying_keys(args: &V3Args) -> Result<KeySet, CliError> {
    Ok(config::settings(args).verifying_keys()?)
}

/// `--apiv3-key-file`, checked by the protocol's rule, if given.
pub(crate) fn apiv3_key(args: &V3Args) -> Result<Option<Apiv3Key>, CliError> {
    Ok(config::settings(args).apiv3_key()?)
}
