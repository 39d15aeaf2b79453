//! API v3 credentials from flags or the environment: the merchant's signing key, the keys that
//! verify answers, and the APIv3 key.
//!
//! This module only reads files; what a valid id, key or certificate is, is the protocol's
//! (`wxpay_protocol::security`). Key material is never printed: errors name the flag, its
//! environment variable and the file, and carry the protocol's errors, which hold no key
//! material (see [`CredentialError`] for the one cause that is left out).

use std::error::Error;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use wxpay_protocol::security::{
    Apiv3Key, KeyError, KeySet, Mchid, MerchantCredentials, MerchantSerial, PublicKeyId, RsaPrivateKey, VerifyingKey,
};
use zeroize::Zeroizing;

use crate::args::{
    ENV_APIV3_KEY_FILE, ENV_MCHID, ENV_MERCHANT_SERIAL, ENV_PRIVATE_KEY, ENV_PUBLIC_KEY, ENV_PUBLIC_KEY_ID, V3Args,
};
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
/// `--merchant-serial`.
const MERCHANT_SERIAL: Flag = Flag { field: "merchant_serial", env: Some(ENV_MERCHANT_SERIAL) };
/// `--private-key`.
const PRIVATE_KEY: Flag = Flag { field: "private_key", env: Some(ENV_PRIVATE_KEY) };
/// `--public-key`.
const PUBLIC_KEY: Flag = Flag { field: "public_key", env: Some(ENV_PUBLIC_KEY) };
/// `--public-key-id`.
const PUBLIC_KEY_ID: Flag = Flag { field: "public_key_id", env: Some(ENV_PUBLIC_KEY_ID) };
/// `--platform-cert`.
const PLATFORM_CERT: Flag = Flag { field: "platform_cert", env: None };
/// `--apiv3-key-file`.
const APIV3_KEY_FILE: Flag = Flag { field: "apiv3_key_file", env: Some(ENV_APIV3_KEY_FILE) };

impl Flag {
    /// The error for this flag when it is required and was not given.
    fn missing(self) -> CliError {
        CliError::MissingFlag { field: self.field, env: self.env }
    }

    /// The error for this flag when its value (or the file it names) was refused.
    fn invalid(self, file: Option<&Path>, source: impl Into<CredentialError>) -> CliError {
        CliError::Credential { flag: self, file: file.map(|f| f.display().to_string()), source: source.into() }
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

/// Why a credential was refused.
///
/// `Display` and `source()` pass the protocol's [`KeyError`] through; it quotes nothing of the key.
#[derive(Debug)]
pub(crate) enum CredentialError {
    /// The file could not be read (or is not UTF-8 text).
    Read(io::Error),
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
            CredentialError::Key(e) => e.fmt(f),
        }
    }
}

impl Error for CredentialError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CredentialError::Read(e) => Some(e),
            CredentialError::Key(e) => e.source(),
        }
    }
}

/// The value of a required flag, or the error naming it and its variable.
fn required<T: ?Sized>(value: Option<&T>, flag: Flag) -> Result<&T, CliError> {
    value.ok_or_else(|| flag.missing())
}

/// Reads a credential file as text; the copy is wiped from memory when dropped.
fn read_text(flag: Flag, path: &Path) -> Result<Zeroizing<String>, CliError> {
    std::fs::read_to_string(path).map(Zeroizing::new).map_err(|e| flag.invalid(Some(path), CredentialError::Read(e)))
}

/// The credentials requests are signed with: `--mchid`, `--merchant-serial` and `--private-key`
/// (or their variables), all three required. Ids are checked before the key file is read.
pub(crate) fn merchant(args: &V3Args) -> Result<MerchantCredentials, CliError> {
    let mchid = required(args.mchid.as_deref(), MCHID)?;
    let serial = required(args.merchant_serial.as_deref(), MERCHANT_SERIAL)?;
    let path = required(args.private_key.as_deref(), PRIVATE_KEY)?;
    let mchid = Mchid::new(mchid).map_err(|e| MCHID.invalid(None, e))?;
    let serial = MerchantSerial::new(serial).map_err(|e| MERCHANT_SERIAL.invalid(None, e))?;
    let pem = read_text(PRIVATE_KEY, path)?;
    let key = RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| PRIVATE_KEY.invalid(Some(path), e))?;
    Ok(MerchantCredentials::from_parts(mchid, serial, Arc::new(key)))
}

/// The keys that verify answers: `--public-key` with `--public-key-id` (one needs the other),
/// and every `--platform-cert`. Empty when none is given.
pub(crate) fn verifying_keys(args: &V3Args) -> Result<KeySet, CliError> {
    let mut keys = KeySet::new();
    match (args.public_key.as_deref(), args.public_key_id.as_deref()) {
        (Some(path), Some(id)) => {
            let id = PublicKeyId::new(id).map_err(|e| PUBLIC_KEY_ID.invalid(None, e))?;
            let pem = read_text(PUBLIC_KEY, path)?;
            keys.insert(VerifyingKey::from_public_key_pem(id, &pem).map_err(|e| PUBLIC_KEY.invalid(Some(path), e))?);
        }
        (Some(_), None) => return Err(PUBLIC_KEY_ID.missing()),
        (None, Some(_)) => return Err(PUBLIC_KEY.missing()),
        (None, None) => {}
    }
    for path in &args.platform_cert {
        let pem = read_text(PLATFORM_CERT, path)?;
        keys.insert(VerifyingKey::from_certificate_pem(&pem).map_err(|e| PLATFORM_CERT.invalid(Some(path), e))?);
    }
    Ok(keys)
}

/// `--apiv3-key-file`, checked by the protocol's rule, if given.
pub(crate) fn apiv3_key(args: &V3Args) -> Result<Option<Apiv3Key>, CliError> {
    let Some(path) = args.apiv3_key_file.as_deref() else {
        return Ok(None);
    };
    let bytes = std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| APIV3_KEY_FILE.invalid(Some(path), CredentialError::Read(e)))?;
    Apiv3Key::new(&bytes).map(Some).map_err(|e| APIV3_KEY_FILE.invalid(Some(path), e))
}
