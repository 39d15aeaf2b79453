//! Key files into the protocol's types. This module only reads files; what a valid id, key or
//! certificate is, is the protocol's (`wxpay_protocol::security`). Key material is never
//! printed: errors name the setting and the file (only when the value is plainly a path; a value
//! that looks like key content is refused before anything is read), and carry the protocol's
//! errors, which hold no key material.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use wxpay_protocol::client::KeyMode;
use wxpay_protocol::security::{
    Apiv3Key, KeySet, Mchid, MerchantCredentials, MerchantSerial, PublicKeyId, RsaPrivateKey, VerifyingKey,
};
use zeroize::Zeroizing;

use crate::secret::{looks_like_content, path_shown};
use crate::{CredentialError, Setting, Settings, SettingsError};

impl Setting {
    /// The error for this setting when it is required and was not given.
    fn missing(self) -> SettingsError {
        SettingsError::Missing { setting: self }
    }

    /// The error for this setting when its value (or the file it names) was refused. The file is
    /// named only when it is plainly a path ([`path_shown`]).
    pub(crate) fn invalid(self, file: Option<&Path>, source: impl Into<CredentialError>) -> SettingsError {
        SettingsError::Credential {
            setting: self,
            file: file.and_then(path_shown).map(Path::to_owned),
            source: Box::new(source.into()),
        }
    }
}

/// The value of a required setting, or the error naming it.
fn required<T: ?Sized>(value: Option<&T>, setting: Setting) -> Result<&T, SettingsError> {
    value.ok_or_else(|| setting.missing())
}

/// Checks that `path` is plainly a path to a file, before it is read: a value that looks like
/// key material is refused without being shown (pointing at the variable for the contents, if
/// there is one), and a directory is "not a file".
fn check_path(setting: Setting, path: &Path, contents: Option<Setting>) -> Result<(), SettingsError> {
    if looks_like_content(path) {
        return Err(setting.invalid(None, CredentialError::LooksLikeContent { contents }));
    }
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(setting.invalid(Some(path), CredentialError::NotAFile)),
        _ => Ok(()),
    }
}

/// Reads a credential file; the copy is wiped from memory when dropped.
fn read_bytes(setting: Setting, path: &Path, contents: Option<Setting>) -> Result<Zeroizing<Vec<u8>>, SettingsError> {
    check_path(setting, path, contents)?;
    std::fs::read(path).map(Zeroizing::new).map_err(|e| setting.invalid(Some(path), CredentialError::Read(e)))
}

/// Reads a credential file as text; the copy is wiped from memory when dropped.
fn read_text(setting: Setting, path: &Path) -> Result<Zeroizing<String>, SettingsError> {
    check_path(setting, path, None)?;
    std::fs::read_to_string(path).map(Zeroizing::new).map_err(|e| setting.invalid(Some(path), CredentialError::Read(e)))
}

/// A secret's bytes as text, or the error naming where they came from (no byte is quoted).
fn utf8(setting: Setting, file: Option<&Path>, bytes: &[u8]) -> Result<Zeroizing<String>, SettingsError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(setting.invalid(file, CredentialError::NotText)),
    }
}

impl Settings {
    /// The credentials API v3 requests are signed with: `mchid`, `merchant_serial` and the
    /// private key (the `private_key` file, or its contents in `private_key_pem`), all three or
    /// none (`None`: a CloudPay-only client). Ids are checked before the key is read; a missing
    /// one is named in that order.
    pub fn merchant_credentials(&self) -> Result<Option<MerchantCredentials>, SettingsError> {
        let contents = self.private_key_pem.as_ref().map(crate::Secret::expose);
        if self.mchid.is_none() && self.merchant_serial.is_none() && self.private_key.is_none() && contents.is_none() {
            return Ok(None);
        }
        let mchid = required(self.mchid.as_deref(), Setting::MCHID)?;
        let serial = required(self.merchant_serial.as_deref(), Setting::MERCHANT_SERIAL)?;
        let path = match contents {
            Some(_) => None,
            None => Some(required(self.private_key.as_deref(), Setting::PRIVATE_KEY)?),
        };
        let mchid = Mchid::new(mchid).map_err(|e| Setting::MCHID.invalid(None, e))?;
        let serial = MerchantSerial::new(serial).map_err(|e| Setting::MERCHANT_SERIAL.invalid(None, e))?;
        let (setting, pem) = match (contents, path) {
            (Some(contents), _) => (Setting::PRIVATE_KEY_PEM, utf8(Setting::PRIVATE_KEY_PEM, None, contents)?),
            (None, Some(path)) => {
                let bytes = read_bytes(Setting::PRIVATE_KEY, path, Some(Setting::PRIVATE_KEY_PEM))?;
                (Setting::PRIVATE_KEY, utf8(Setting::PRIVATE_KEY, Some(path), &bytes)?)
            }
            (None, None) => return Err(Setting::PRIVATE_KEY.missing()),
        };
        let key =
            RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| setting.invalid(path, CredentialError::PrivateKey(e)))?;
        Ok(Some(MerchantCredentials::from_parts(mchid, serial, Arc::new(key))))
    }

    /// The keys that verify answers: `public_key` with `public_key_id` (one needs the other),
    /// and every `platform_certs` file. Empty when none is given.
    pub fn verifying_keys(&self) -> Result<KeySet, SettingsError> {
        let mut keys = KeySet::new();
        match (self.public_key.as_deref(), self.public_key_id.as_deref()) {
            (Some(path), Some(id)) => {
                let id = PublicKeyId::new(id).map_err(|e| Setting::PUBLIC_KEY_ID.invalid(None, e))?;
                let pem = read_text(Setting::PUBLIC_KEY, path)?;
                let key = VerifyingKey::from_public_key_pem(id, &pem)
                    .map_err(|e| Setting::PUBLIC_KEY.invalid(Some(path), e))?;
                keys.insert(key);
            }
            (Some(_), None) => return Err(Setting::PUBLIC_KEY_ID.missing()),
            (None, Some(_)) => return Err(Setting::PUBLIC_KEY.missing()),
            (None, None) => {}
        }
        for path in &self.platform_certs {
            let pem = read_text(Setting::PLATFORM_CERTS, path)?;
            let key =
                VerifyingKey::from_certificate_pem(&pem).map_err(|e| Setting::PLATFORM_CERTS.invalid(Some(path), e))?;
            keys.insert(key);
        }
        Ok(keys)
    }

    /// The APIv3 key, in `apiv3_key` (the contents) or else the `apiv3_key_file`, checked by
    /// the protocol's rule, if given.
    pub fn apiv3_key(&self) -> Result<Option<Apiv3Key>, SettingsError> {
        if let Some(contents) = &self.apiv3_key {
            return Apiv3Key::new(contents.expose()).map(Some).map_err(|e| Setting::APIV3_KEY.invalid(None, e));
        }
        let Some(path) = self.apiv3_key_file.as_deref() else {
            return Ok(None);
        };
        let setting = Setting::APIV3_KEY_FILE;
        let bytes = read_bytes(setting, path, Some(Setting::APIV3_KEY))?;
        Apiv3Key::new(&bytes).map(Some).map_err(|e| setting.invalid(Some(path), e))
    }

    /// How answers are verified: with the APIv3 key, platform certificates downloaded on first
    /// use (the keys given are kept beside them); else with the keys given (maybe none, which
    /// is enough for CloudPay; an API v3 call then fails verification).
    pub fn key_mode(&self) -> Result<KeyMode, SettingsError> {
        let keys = self.verifying_keys()?;
        Ok(match self.apiv3_key()? {
            Some(apiv3_key) => KeyMode::Certificates { apiv3_key, keys },
            None => KeyMode::Static(keys),
        })
    }
}

/// The certificates of a PEM file that may hold several. The file is named only when it is
/// plainly a path, and the PEM reader's error is not quoted: it can quote the line it choked on,
/// which may be a key.
pub(crate) fn ca_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, SettingsError> {
    let file = path_shown(path).map(Path::to_owned);
    let pem = std::fs::read(path)
        .map_err(|e| SettingsError::CaCert { file: file.clone(), reason: format!("cannot read the file ({e})") })?;
    let roots = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| SettingsError::CaCert { file: file.clone(), reason: "not PEM certificates".to_owned() })?;
    if roots.is_empty() {
        return Err(SettingsError::CaCert { file, reason: "no CERTIFICATE block in the file".to_owned() });
    }
    Ok(roots)
}
