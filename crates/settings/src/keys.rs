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
use wxpay_protocol::security::KeyError;
use wxpay_protocol::security::{
    Apiv3Key, ClientIdentity, KeySet, Mchid, MerchantCredentials, MerchantSerial, PublicKeyId, RsaPrivateKey,
    VerifyingKey,
};
use wxpay_protocol::v2::{ApiV2Key, AppId, Merchant};
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

    /// The API v2 key, in `apiv2_key` (the contents) or else the `apiv2_key_file`, checked by
    /// the protocol's rule (32 printable characters; surrounding whitespace is not part of it),
    /// if given.
    pub fn apiv2_key(&self) -> Result<Option<ApiV2Key>, SettingsError> {
        if let Some(contents) = &self.apiv2_key {
            return ApiV2Key::new(contents.expose()).map(Some).map_err(|e| Setting::APIV2_KEY.invalid(None, e));
        }
        let Some(path) = self.apiv2_key_file.as_deref() else {
            return Ok(None);
        };
        let setting = Setting::APIV2_KEY_FILE;
        let bytes = read_bytes(setting, path, Some(Setting::APIV2_KEY))?;
        ApiV2Key::new(&bytes).map(Some).map_err(|e| setting.invalid(Some(path), e))
    }

    /// The signer of v2 calls: `mchid` (sent as `mch_id`), `appid` and the API v2 key
    /// (`apiv2_key_file`, or its contents in `apiv2_key`), all three required; a missing one
    /// is named in that order. The ids are checked before the key is read.
    ///
    /// ```
    /// # use wxpay_settings::Settings;
    /// let mut settings = Settings::default();
    /// settings.mchid = Some("1900000100".into());
    /// assert_eq!(settings.v2_merchant().unwrap_err().to_string(), "missing setting appid (env WXPAY_APPID)");
    /// settings.appid = Some("wx8888888888888888".into());
    /// settings.apiv2_key = Some(wxpay_settings::Secret::new("192006250b4c09247ec02edce69f6a2d"));
    /// let merchant = settings.v2_merchant()?;
    /// assert_eq!(merchant.mch_id().as_str(), "1900000100");
    /// # Ok::<(), wxpay_settings::SettingsError>(())
    /// ```
    pub fn v2_merchant(&self) -> Result<Merchant, SettingsError> {
        let mchid = required(self.mchid.as_deref(), Setting::MCHID)?;
        let appid = required(self.appid.as_deref(), Setting::APPID)?;
        if self.apiv2_key.is_none() {
            required(self.apiv2_key_file.as_deref(), Setting::APIV2_KEY_FILE)?;
        }
        let mchid = Mchid::new(mchid).map_err(|e| Setting::MCHID.invalid(None, e))?;
        let appid = AppId::new(appid)?;
        let key = self.apiv2_key()?.ok_or_else(|| Setting::APIV2_KEY_FILE.missing())?;
        Ok(Merchant::new(mchid, appid, key))
    }

    /// The TLS client certificate of the v2 calls under `/secapi/`: `client_cert` with its key
    /// (`client_key`, or its contents in `client_key_pem`), both or neither (`None`). The
    /// certificate file may hold the chain, leaf first; the key may be PKCS#8, PKCS#1 or SEC1.
    pub fn client_identity(&self) -> Result<Option<ClientIdentity>, SettingsError> {
        let contents = self.client_key_pem.as_ref().map(crate::Secret::expose);
        let key_path = self.client_key.as_deref();
        let cert_path = match (self.client_cert.as_deref(), key_path.is_some() || contents.is_some()) {
            (None, false) => return Ok(None),
            (None, true) => return Err(Setting::CLIENT_CERT.missing()),
            (Some(_), false) => return Err(Setting::CLIENT_KEY.missing()),
            (Some(path), true) => path,
        };
        let cert = read_bytes(Setting::CLIENT_CERT, cert_path, None)?;
        let (setting, key_file, key) = match (contents, key_path) {
            (Some(contents), _) => (Setting::CLIENT_KEY_PEM, None, Zeroizing::new(contents.to_vec())),
            (None, Some(path)) => {
                (Setting::CLIENT_KEY, Some(path), read_bytes(Setting::CLIENT_KEY, path, Some(Setting::CLIENT_KEY_PEM))?)
            }
            (None, None) => return Err(Setting::CLIENT_KEY.missing()),
        };
        ClientIdentity::from_pem(&cert, &key).map(Some).map_err(|e| match e {
            // The protocol says which of the two texts it could not read.
            KeyError::Pem { expected: "CERTIFICATE", .. } => {
                Setting::CLIENT_CERT.invalid(Some(cert_path), CredentialError::ClientIdentity(e))
            }
            e => setting.invalid(key_file, CredentialError::ClientIdentity(e)),
        })
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
