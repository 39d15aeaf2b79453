//! API v3 credentials from flags or the environment: the merchant's signing key, the keys that
//! verify answers, and the APIv3 key.
//!
//! This module only reads files; what a valid id, key or certificate is, is the protocol's
//! (`wxpay_protocol::security`). Key material is never printed: errors name the flag, its
//! environment variable and the file, and carry the protocol's errors, which hold no key
//! material (see [`CredentialError`] for the one cause that is left out).
//!
//! A value given where a path is expected is shown in an error only when it is plainly a path
//! ([`path_shown`]): a value with a line break or a PEM marker, or that names no file and has a
//! part as long as a key, is refused as "looks like key content" and never echoed. Contents are
//! taken only from the variables made for them ([`ENV_PRIVATE_KEY_PEM`], [`ENV_APIV3_KEY`]),
//! never guessed from a path variable.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Component, Path};
use std::sync::Arc;

use wxpay_protocol::security::{
    Apiv3Key, KeyError, KeySet, Mchid, MerchantCredentials, MerchantSerial, PublicKeyId, RsaPrivateKey, VerifyingKey,
};
use zeroize::Zeroizing;

use crate::args::{
    ENV_APIV3_KEY_FILE, ENV_MCHID, ENV_MERCHANT_SERIAL, ENV_PRIVATE_KEY, ENV_PUBLIC_KEY, ENV_PUBLIC_KEY_ID, V3Args,
};
use crate::exit::{CliError, flag_name};

/// The variable holding the merchant's private key itself (PEM text), for containers and CI
/// systems that hand secrets over as variable contents. Instead of `--private-key`.
pub(crate) const ENV_PRIVATE_KEY_PEM: &str = "WXPAY_PRIVATE_KEY_PEM";
/// The variable holding the APIv3 key itself (32 bytes). Instead of `--apiv3-key-file`.
pub(crate) const ENV_APIV3_KEY: &str = "WXPAY_APIV3_KEY";

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
/// `--merchant-serial`.
const MERCHANT_SERIAL: Flag = Flag { field: "merchant_serial", env: Some(ENV_MERCHANT_SERIAL), env_only: false };
/// `--private-key`.
const PRIVATE_KEY: Flag = Flag { field: "private_key", env: Some(ENV_PRIVATE_KEY), env_only: false };
/// `--public-key`.
const PUBLIC_KEY: Flag = Flag { field: "public_key", env: Some(ENV_PUBLIC_KEY), env_only: false };
/// `--public-key-id`.
const PUBLIC_KEY_ID: Flag = Flag { field: "public_key_id", env: Some(ENV_PUBLIC_KEY_ID), env_only: false };
/// `--platform-cert`.
const PLATFORM_CERT: Flag = Flag { field: "platform_cert", env: None, env_only: false };
/// `WXPAY_PRIVATE_KEY_PEM`.
const PRIVATE_KEY_PEM: Flag = Flag { field: "private_key_pem", env: Some(ENV_PRIVATE_KEY_PEM), env_only: true };
/// `WXPAY_APIV3_KEY`.
const APIV3_KEY: Flag = Flag { field: "apiv3_key", env: Some(ENV_APIV3_KEY), env_only: true };
/// `--apiv3-key-file`.
const APIV3_KEY_FILE: Flag = Flag { field: "apiv3_key_file", env: Some(ENV_APIV3_KEY_FILE), env_only: false };

impl Flag {
    /// The error for this flag when it is required and was not given.
    fn missing(self) -> CliError {
        CliError::MissingFlag { field: self.field, env: self.env }
    }

    /// The error for this flag when its value (or the file it names) was refused. The file is
    /// named only when it is plainly a path ([`path_shown`]).
    fn invalid(self, file: Option<&Path>, source: impl Into<CredentialError>) -> CliError {
        CliError::Credential { flag: self, file: file.and_then(path_shown), source: Box::new(source.into()) }
    }
}

/// The longest part of a path that is shown when it names no file: an APIv3 key is 32 bytes,
/// and a key's base64 longer still, so a value with a longer part that is not a file is taken
/// for a secret given in the wrong place.
const LONGEST_UNKNOWN_PART: usize = 31;

/// Whether a value given where a path is expected looks like key material rather than a path:
/// it holds a line break or another control character, or a PEM `-----BEGIN`/`-----END`
/// marker, or it names nothing on disk and either has a part of 32 characters or more or is
/// base64 as long as an APIv3 key (letters, digits, `/` and at least one `+` or `=`, no dot).
pub(crate) fn looks_like_content(value: &Path) -> bool {
    let bytes = value.as_os_str().as_encoded_bytes();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if bytes.iter().any(u8::is_ascii_control) || has(b"-----BEGIN") || has(b"-----END") || has(b"PRIVATE KEY") {
        return true;
    }
    let long_part = value.components().any(|c| match c {
        Component::Normal(part) => part.len() > LONGEST_UNKNOWN_PART,
        _ => false,
    });
    let base64 = bytes.len() > LONGEST_UNKNOWN_PART
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b))
        && bytes.iter().any(|b| b"+=".contains(b));
    (long_part || base64) && std::fs::symlink_metadata(value).is_err()
}

/// The path as it may be shown in an error or `--json`, or `None` when the value looks like key
/// material ([`looks_like_content`]) and must not be echoed.
pub(crate) fn path_shown(path: &Path) -> Option<String> {
    (!looks_like_content(path)).then(|| path.display().to_string())
}

/// A secret's contents from a variable made for them; `Debug` shows only whether it is set.
#[derive(Clone, Default)]
pub(crate) struct Secret(Option<Zeroizing<Vec<u8>>>);

impl Secret {
    /// The contents, if set.
    fn get(&self) -> Option<&[u8]> {
        self.0.as_deref().map(Vec::as_slice)
    }

    /// Whether it is set.
    pub(crate) fn is_set(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "Secret(<set, not shown>)" } else { "Secret(None)" })
    }
}

/// Reads the secret-contents variables ([`ENV_PRIVATE_KEY_PEM`], [`ENV_APIV3_KEY`]) into
/// `args`. Each one stands in for its path flag; both given is refused rather than guessed.
/// Called before the config file fills in what is left, so a config file's path does not
/// compete with a variable's contents.
pub(crate) fn read_secret_variables(args: &mut V3Args) -> Result<(), CliError> {
    let read = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(os_bytes);
    if let Some(pem) = read(ENV_PRIVATE_KEY_PEM) {
        if args.private_key.is_some() {
            return Err(PRIVATE_KEY_PEM.invalid(None, CredentialError::Both(PRIVATE_KEY)));
        }
        args.private_key_pem = Secret(Some(pem));
    }
    if let Some(key) = read(ENV_APIV3_KEY) {
        if args.apiv3_key_file.is_some() {
            return Err(APIV3_KEY.invalid(None, CredentialError::Both(APIV3_KEY_FILE)));
        }
        args.apiv3_key = Secret(Some(key));
    }
    Ok(())
}

/// A variable's bytes, kept in memory that is wiped when dropped.
fn os_bytes(value: std::ffi::OsString) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(value.into_encoded_bytes())
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

/// Why a credential was refused.
///
/// `Display` and `source()` pass the protocol's [`KeyError`] through; it quotes nothing of the key.
#[derive(Debug)]
pub(crate) enum CredentialError {
    /// The file could not be read (or is not UTF-8 text).
    Read(io::Error),
    /// The path names a directory or something else that is not a file.
    NotAFile,
    /// The contents are not UTF-8 text (so not PEM).
    NotText,
    /// The value given as a path looks like key material ([`looks_like_content`]); it is not
    /// shown.
    LooksLikeContent {
        /// The variable made for the contents, if there is one.
        contents_env: Option<&'static str>,
    },
    /// This variable and the flag (or its variable) were both given.
    Both(Flag),
    /// The private key is not a PKCS#8 private key the protocol accepts.
    PrivateKey(KeyError),
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
            CredentialError::LooksLikeContent { contents_env: Some(env) } => write!(
                f,
                "looks like key content, not a path (the value is not shown); give a file's path, \
                 or the contents in {env}"
            ),
            CredentialError::LooksLikeContent { contents_env: None } => {
                f.write_str("looks like key content, not a path (the value is not shown); give a file's path")
            }
            CredentialError::Both(other) => write!(f, "{other} is given too; give one of them"),
            CredentialError::PrivateKey(e) => {
                write!(f, "not a PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`, apiclient_key.pem): {e}")
            }
            CredentialError::Key(e) => e.fmt(f),
        }
    }
}

impl Error for CredentialError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CredentialError::Read(e) => Some(e),
            CredentialError::Key(e) | CredentialError::PrivateKey(e) => e.source(),
            _ => None,
        }
    }
}

/// The value of a required flag, or the error naming it and its variable.
fn required<T: ?Sized>(value: Option<&T>, flag: Flag) -> Result<&T, CliError> {
    value.ok_or_else(|| flag.missing())
}

/// Checks that `path` is plainly a path to a file, before it is read: a value that looks like
/// key material is refused without being shown, and a directory is "not a file".
fn check_path(flag: Flag, path: &Path, contents_env: Option<&'static str>) -> Result<(), CliError> {
    if looks_like_content(path) {
        return Err(flag.invalid(None, CredentialError::LooksLikeContent { contents_env }));
    }
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(flag.invalid(Some(path), CredentialError::NotAFile)),
        _ => Ok(()),
    }
}

/// Reads a credential file; the copy is wiped from memory when dropped.
fn read_bytes(flag: Flag, path: &Path, contents_env: Option<&'static str>) -> Result<Zeroizing<Vec<u8>>, CliError> {
    check_path(flag, path, contents_env)?;
    std::fs::read(path).map(Zeroizing::new).map_err(|e| flag.invalid(Some(path), CredentialError::Read(e)))
}

/// Reads a credential file as text; the copy is wiped from memory when dropped.
fn read_text(flag: Flag, path: &Path) -> Result<Zeroizing<String>, CliError> {
    check_path(flag, path, None)?;
    std::fs::read_to_string(path).map(Zeroizing::new).map_err(|e| flag.invalid(Some(path), CredentialError::Read(e)))
}

/// Bytes of a secret as text, or the error naming where they came from (no byte is quoted).
fn utf8(flag: Flag, file: Option<&Path>, bytes: &[u8]) -> Result<Zeroizing<String>, CliError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(flag.invalid(file, CredentialError::NotText)),
    }
}

/// The credentials requests are signed with: `--mchid`, `--merchant-serial` and `--private-key`
/// (or their variables), all three required. Ids are checked before the key file is read.
pub(crate) fn merchant(args: &V3Args) -> Result<MerchantCredentials, CliError> {
    let mchid = required(args.mchid.as_deref(), MCHID)?;
    let serial = required(args.merchant_serial.as_deref(), MERCHANT_SERIAL)?;
    let contents = args.private_key_pem.get();
    let path = match contents {
        Some(_) => None,
        None => Some(required(args.private_key.as_deref(), PRIVATE_KEY)?),
    };
    let mchid = Mchid::new(mchid).map_err(|e| MCHID.invalid(None, e))?;
    let serial = MerchantSerial::new(serial).map_err(|e| MERCHANT_SERIAL.invalid(None, e))?;
    let (flag, pem) = match (contents, path) {
        (Some(contents), _) => (PRIVATE_KEY_PEM, utf8(PRIVATE_KEY_PEM, None, contents)?),
        (None, Some(path)) => {
            let bytes = read_bytes(PRIVATE_KEY, path, Some(ENV_PRIVATE_KEY_PEM))?;
            (PRIVATE_KEY, utf8(PRIVATE_KEY, Some(path), &bytes)?)
        }
        (None, None) => return Err(PRIVATE_KEY.missing()),
    };
    let key = RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| flag.invalid(path, CredentialError::PrivateKey(e)))?;
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

/// `--apiv3-key-file` (or `WXPAY_APIV3_KEY`), checked by the protocol's rule, if given.
pub(crate) fn apiv3_key(args: &V3Args) -> Result<Option<Apiv3Key>, CliError> {
    if let Some(contents) = args.apiv3_key.get() {
        return Apiv3Key::new(contents).map(Some).map_err(|e| APIV3_KEY.invalid(None, e));
    }
    let Some(path) = args.apiv3_key_file.as_deref() else {
        return Ok(None);
    };
    let bytes = read_bytes(APIV3_KEY_FILE, path, Some(ENV_APIV3_KEY))?;
    Apiv3Key::new(&bytes).map(Some).map_err(|e| APIV3_KEY_FILE.invalid(Some(path), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_look_like_keys_are_not_paths() {
        let content = [
            "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----MIIE",
            "line\nbreak",
            // An APIv3 key, alone and under a directory (a config file's relative path).
            "0123456789abcdefghijklmnopqrstuv",
            "/no/such/dir/0123456789abcdefghijklmnopqrstuv",
            // A 32-byte key in base64, whose `/` splits it into short parts.
            "q1w2e3r4/t5y6u7i8o9p0+a1s2d3f4g5h6j7k8l9z0=",
        ];
        for value in content {
            assert!(looks_like_content(Path::new(value)), "{value:?}");
            assert_eq!(path_shown(Path::new(value)), None, "{value:?}");
        }
        let paths = [
            "apiclient_key.pem",
            "/etc/wxpay/apiclient_key.pem",
            "/no/such/dir/keys/apiv3_key",
            "/var/lib/wxpay/secrets/merchantkey1",
            "C:\\keys\\apiclient_key.pem",
        ];
        for value in paths {
            assert!(!looks_like_content(Path::new(value)), "{value:?}");
            assert_eq!(path_shown(Path::new(value)).as_deref(), Some(value));
        }
        // An existing file is a path, whatever its name.
        let dir = std::env::temp_dir();
        assert!(!looks_like_content(&dir));
    }
}
