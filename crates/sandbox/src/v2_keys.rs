//! What the v2 wire needs besides the merchant id (docs/protocol.md §5): the app id, the API v2 key
//! that signs requests and answers, the merchant API certificate a client presents as its TLS
//! client certificate on `/secapi/` paths (with its private key), and the certificates the
//! HTTPS listener trusts for client authentication.
//!
//! The merchant certificate is self-signed (`CN` = the merchant id) and, when the sandbox holds
//! the merchant's private key (a generated set), it is issued for that same key, as WeChat Pay's
//! `apiclient_cert.pem` is for `apiclient_key.pem`; otherwise (keys given as files) it gets a key
//! of its own. In a key directory these files are kept beside the others and read back at the
//! next start; a directory written before the v2 wire existed gets them added.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use time::OffsetDateTime;
use wxpay_protocol::security::{ClientIdentity, Mchid};
use wxpay_protocol::v2::{ApiV2Key, AppId, Merchant};

use crate::error::SandboxError;
use crate::key_dir::{self, Access, Existing, write_file};
use crate::keys::{MERCHANT_PRIVATE_KEY, SandboxKeys, TEST_ONLY, certificate_facts, random_bytes};

/// The API v2 key file (32 characters, private).
pub(crate) const APIV2_KEY: &str = "apiv2_key";
/// The merchant API certificate (PEM).
pub(crate) const MERCHANT_CERT: &str = "merchant_cert.pem";
/// Its private key, when it is not the merchant's private key (keys given as files; private).
pub(crate) const MERCHANT_CERT_KEY: &str = "merchant_cert_key.pem";

/// How the v2 material is chosen (from [`SandboxConfig`](crate::SandboxConfig)).
#[derive(Debug, Clone)]
pub(crate) struct V2Options {
    pub(crate) appid: String,
    pub(crate) apiv2_key_file: Option<PathBuf>,
    pub(crate) client_ca_file: Option<PathBuf>,
}

/// Where the v2 files are. Paths only: never their contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct V2Files {
    /// The API v2 key: the file given with `--apiv2-key-file`, or the one in the key directory.
    pub apiv2_key: Option<PathBuf>,
    /// The merchant API certificate (in the key directory).
    pub merchant_cert: Option<PathBuf>,
    /// The certificate's private key: `merchant_private_key.pem` when it is the merchant's key,
    /// else `merchant_cert_key.pem` (in the key directory).
    pub merchant_key: Option<PathBuf>,
    /// The file given with `--client-ca`.
    pub client_ca: Option<PathBuf>,
}

/// The v2 material of a running sandbox. `Debug` shows no key.
#[derive(Clone)]
pub struct V2Keys {
    appid: AppId,
    apiv2_key: ApiV2Key,
    merchant_cert_pem: String,
    merchant_cert_key_pem: String,
    cert_key_is_merchant_key: bool,
    client_ca_pem: String,
    files: V2Files,
}

impl fmt::Debug for V2Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2Keys")
            .field("appid", &self.appid.as_str())
            .field("apiv2_key", &self.apiv2_key)
            .field("cert_key_is_merchant_key", &self.cert_key_is_merchant_key)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl V2Keys {
    /// The app id requests must carry as `appid`.
    pub fn appid(&self) -> &str {
        self.appid.as_str()
    }

    /// The API v2 key requests are verified with and answers signed with.
    pub fn apiv2_key(&self) -> &ApiV2Key {
        &self.apiv2_key
    }

    /// The merchant API certificate, PEM (self-signed, `CN` = the merchant id).
    pub fn merchant_cert_pem(&self) -> &str {
        &self.merchant_cert_pem
    }

    /// Whether the certificate is issued for the merchant's own private key (the one that signs
    /// v3 requests), as WeChat Pay's merchant API certificate is; `false` when the keys were given
    /// as files and the certificate has a key of its own.
    pub fn cert_key_is_merchant_key(&self) -> bool {
        self.cert_key_is_merchant_key
    }

    /// The certificates the HTTPS listener trusts for client authentication, PEM: those of
    /// `--client-ca`, or the merchant certificate.
    pub fn client_ca_pem(&self) -> &str {
        &self.client_ca_pem
    }

    /// The merchant certificate and its key, as a client presents them on `/secapi/` paths.
    pub fn client_identity(&self) -> Result<ClientIdentity, SandboxError> {
        ClientIdentity::from_pem(self.merchant_cert_pem.as_bytes(), self.merchant_cert_key_pem.as_bytes())
            .map_err(SandboxError::Key)
    }

    /// A v2 client's merchant: `mchid`, this app id and this API v2 key.
    pub fn merchant(&self, mchid: &str) -> Result<Merchant, SandboxError> {
        let mchid = Mchid::new(mchid).map_err(|_| SandboxError::Config("the merchant id is not a valid mchid"))?;
        Ok(Merchant::new(mchid, self.appid.clone(), self.apiv2_key.clone()))
    }

    /// Where the files are (all `None` for a sandbox whose keys live in memory only, except
    /// the files given on the command line).
    pub fn files(&self) -> &V2Files {
        &self.files
    }

    /// The client roots, DER.
    pub(crate) fn client_roots(&self) -> Result<Vec<CertificateDer<'static>>, SandboxError> {
        certificates(self.client_ca_pem.as_bytes()).ok_or(SandboxError::Config("no usable client CA certificate"))
    }
}

/// Every certificate of a PEM text; `None` when it holds none, or something unreadable.
fn certificates(pem: &[u8]) -> Option<Vec<CertificateDer<'static>>> {
    let all = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().ok()?;
    (!all.is_empty()).then_some(all)
}

fn read(path: &Path) -> Result<String, SandboxError> {
    std::fs::read_to_string(path).map_err(|e| SandboxError::Read(path.to_owned(), e))
}

/// A `KeyDirFile` error (fixed words, nothing of the file).
fn unusable(path: &Path, problem: &'static str) -> SandboxError {
    SandboxError::KeyDirFile { path: path.to_owned(), problem, source: None }
}

/// The v2 material: read back from `dir` or generated (and written there), or from the files
/// `options` names.
pub(crate) fn open(
    keys: &SandboxKeys,
    dir: Option<&Path>,
    options: &V2Options,
    now: OffsetDateTime,
) -> Result<V2Keys, SandboxError> {
    let appid = AppId::new(options.appid.clone()).map_err(|_| SandboxError::Config("--appid is not a valid app id"))?;
    let mut files = V2Files::default();

    let apiv2_key = match (&options.apiv2_key_file, dir) {
        (Some(path), _) => {
            files.apiv2_key = Some(path.clone());
            ApiV2Key::new(read(path)?.as_bytes()).map_err(SandboxError::Key)?
        }
        (None, Some(dir)) if dir.join(APIV2_KEY).exists() => {
            let path = dir.join(APIV2_KEY);
            let key = ApiV2Key::new(read(&path)?.as_bytes())
                .map_err(|_| unusable(&path, "not an API v2 key (32 printable characters)"))?;
            files.apiv2_key = Some(path);
            key
        }
        (None, dir) => {
            let text = wxpay_system::random_alphanumeric(32);
            let key = ApiV2Key::new(text.as_bytes()).map_err(SandboxError::Key)?;
            if let Some(dir) = dir {
                files.apiv2_key = Some(write_file(dir, APIV2_KEY, &text, Access::Private, Existing::Refuse)?);
            }
            key
        }
    };

    let merchant_key = keys.merchant_private_pem.as_deref();
    let (merchant_cert_pem, merchant_cert_key_pem, shared_key) = match dir {
        Some(dir) if dir.join(MERCHANT_CERT).exists() => {
            let (cert, key, shared) = load_cert(dir, merchant_key, now)?;
            files.merchant_cert = Some(dir.join(MERCHANT_CERT));
            files.merchant_key = Some(dir.join(if shared { MERCHANT_PRIVATE_KEY } else { MERCHANT_CERT_KEY }));
            (cert, key, shared)
        }
        Some(dir) if dir.join(MERCHANT_CERT_KEY).exists() => {
            return Err(SandboxError::KeyDirIncomplete { dir: dir.to_owned(), missing: vec![MERCHANT_CERT] });
        }
        dir => {
            let (cert, key, shared) = generate_cert(&keys.mchid, merchant_key, now)?;
            if let Some(dir) = dir {
                files.merchant_cert = Some(write_file(dir, MERCHANT_CERT, &cert, Access::Public, Existing::Refuse)?);
                files.merchant_key = Some(match shared {
                    true => dir.join(MERCHANT_PRIVATE_KEY),
                    false => write_file(
                        dir,
                        MERCHANT_CERT_KEY,
                        &format!("{TEST_ONLY}{key}"),
                        Access::Private,
                        Existing::Refuse,
                    )?,
                });
            }
            (cert, key, shared)
        }
    };

    let client_ca_pem = match &options.client_ca_file {
        Some(path) => {
            let text = read(path)?;
            if certificates(text.as_bytes()).is_none() {
                return Err(SandboxError::Config("--client-ca holds no readable PEM certificate"));
            }
            files.client_ca = Some(path.clone());
            text
        }
        None => merchant_cert_pem.clone(),
    };

    Ok(V2Keys {
        appid,
        apiv2_key,
        merchant_cert_pem,
        merchant_cert_key_pem,
        cert_key_is_merchant_key: shared_key,
        client_ca_pem,
        files,
    })
}

/// A new merchant certificate for `merchant_key` (PKCS#8 PEM), or for a new ECDSA P-256 key when
/// there is none: (certificate PEM, key PEM, whether the key is the merchant's). Valid from a day
/// before `now` for five years, for client authentication.
fn generate_cert(
    mchid: &str,
    merchant_key: Option<&str>,
    now: OffsetDateTime,
) -> Result<(String, String, bool), SandboxError> {
    let (key, shared) = match merchant_key {
        Some(pem) => (rcgen::KeyPair::from_pem(pem).map_err(SandboxError::Generate)?, true),
        None => (rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(SandboxError::Generate)?, false),
    };
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(SandboxError::Generate)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, mchid);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationalUnitName, "wxpay-sandbox merchant API certificate (test only)");
    let mut serial = random_bytes::<20>()?;
    serial[0] &= 0x7f; // a positive DER INTEGER without a leading zero byte
    serial[0] |= 0x10;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(5 * 365);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let certificate = params.self_signed(&key).map_err(SandboxError::Generate)?;
    let key_pem = match merchant_key {
        Some(pem) => pem.to_owned(),
        None => key.serialize_pem(),
    };
    Ok((certificate.pem(), key_pem, shared))
}

/// Reads `merchant_cert.pem` back, and the key it is for: the merchant's key when its public
/// half is the certificate's, else `merchant_cert_key.pem`.
fn load_cert(
    dir: &Path,
    merchant_key: Option<&str>,
    now: OffsetDateTime,
) -> Result<(String, String, bool), SandboxError> {
    let cert_path = dir.join(MERCHANT_CERT);
    let cert_pem = read(&cert_path)?;
    let facts = certificate_facts(&cert_pem).ok_or_else(|| unusable(&cert_path, "not a PEM X.509 certificate"))?;
    key_dir::check_validity(&cert_path, facts.not_after, now)?;
    let public_of =
        |pem: &str| rcgen::KeyPair::from_pem(pem).ok().map(|k| rcgen::PublicKeyData::subject_public_key_info(&k));
    if let Some(pem) = merchant_key
        && public_of(pem).is_some_and(|spki| spki == facts.spki)
    {
        return Ok((cert_pem, pem.to_owned(), true));
    }
    let key_path = dir.join(MERCHANT_CERT_KEY);
    if !key_path.exists() {
        return Err(unusable(
            &cert_path,
            "not a certificate for merchant_private_key.pem, and merchant_cert_key.pem is missing",
        ));
    }
    let text = read(&key_path)?;
    let pem = text.strip_prefix(TEST_ONLY).unwrap_or(&text).to_owned();
    match public_of(&pem) {
        None => Err(unusable(&key_path, "not a PEM private key")),
        Some(spki) if spki != facts.spki => Err(unusable(&key_path, "not the key of merchant_cert.pem")),
        Some(_) => Ok((cert_pem, pem, false)),
    }
}
