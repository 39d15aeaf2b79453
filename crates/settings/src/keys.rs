//! Key files into the protocol's types. This module only reads files; what a valid id, key or
//! certificate is, is the protocol's (`wxpay_protocol::security`). Key material is never
//! printed: errors name the setting and the file, and carry the protocol's errors, which hold no
//! key material.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use wxpay_protocol::client::KeyMode;
use wxpay_protocol::security::{
    Apiv3Key, KeySet, Mchid, MerchantCredentials, MerchantSerial, PublicKeyId, RsaPrivateKey, VerifyingKey,
};
use zeroize::Zeroizing;

use crate::{CredentialError, Setting, Settings, SettingsError};

impl Setting {
    /// The error for this setting when it is required and was not given.
    fn missing(self) -> SettingsError {
        SettingsError::Missing { setting: self }
    }

    /// The error for this setting when its value (or the file it names) was refused.
    fn invalid(self, file: Option<&Path>, source: impl Into<CredentialError>) -> SettingsError {
        SettingsError::Credential { setting: self, file: file.map(Path::to_owned), source: Box::new(source.into()) }
    }
}

/// The value of a required setting, or the error naming it.
fn required<T: ?Sized>(value: Option<&T>, setting: Setting) -> Result<&T, SettingsError> {
    value.ok_or_else(|| setting.missing())
}

/// Reads a credential file as text; the copy is wiped from memory when dropped.
fn read_text(setting: Setting, path: &Path) -> Result<Zeroizing<String>, SettingsError> {
    std::fs::read_to_string(path).map(Zeroizing::new).map_err(|e| setting.invalid(Some(path), CredentialError::Read(e)))
}

impl Settings {
    /// The credentials API v3 requests are signed with: `mchid`, `merchant_serial` and the
    /// `private_key` file, all three or none (`None`: a CloudPay-only client). Ids are checked
    /// before the key file is read; a missing one is named in that order.
    pub fn merchant_credentials(&self) -> Result<Option<MerchantCredentials>, SettingsError> {
        if self.mchid.is_none() && self.merchant_serial.is_none() && self.private_key.is_none() {
            return Ok(None);
        }
        let mchid = required(self.mchid.as_deref(), Setting::MCHID)?;
        let serial = required(self.merchant_serial.as_deref(), Setting::MERCHANT_SERIAL)?;
        let path = required(self.private_key.as_deref(), Setting::PRIVATE_KEY)?;
        let mchid = Mchid::new(mchid).map_err(|e| Setting::MCHID.invalid(None, e))?;
        let serial = MerchantSerial::new(serial).map_err(|e| Setting::MERCHANT_SERIAL.invalid(None, e))?;
        let pem = read_text(Setting::PRIVATE_KEY, path)?;
        let key = RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| Setting::PRIVATE_KEY.invalid(Some(path), e))?;
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

    /// The APIv3 key in `apiv3_key_file`, checked by the protocol's rule, if given.
    pub fn apiv3_key(&self) -> Result<Option<Apiv3Key>, SettingsError> {
        let Some(path) = self.apiv3_key_file.as_deref() else {
            return Ok(None);
        };
        let setting = Setting::APIV3_KEY_FILE;
        let bytes = std::fs::read(path)
            .map(Zeroizing::new)
            .map_err(|e| setting.invalid(Some(path), CredentialError::Read(e)))?;
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

/// The certificates of a PEM file that may hold several.
pub(crate) fn ca_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, SettingsError> {
    let file = path.to_owned();
    let pem = std::fs::read(path)
        .map_err(|e| SettingsError::CaCert { file: file.clone(), reason: format!("cannot read the file ({e})") })?;
    let roots = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SettingsError::CaCert { file: file.clone(), reason: format!("not PEM certificates ({e})") })?;
    if roots.is_empty() {
        return Err(SettingsError::CaCert { file, reason: "no CERTIFICATE block in the file".to_owned() });
    }
    Ok(roots)
}
