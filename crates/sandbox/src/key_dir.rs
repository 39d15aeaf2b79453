//! The key directory (`--key-dir`, [`SandboxConfig::key_dir`](crate::SandboxConfig::key_dir)):
//! where a sandbox keeps its keys between starts, so that a team's docker-compose file or CI job
//! configures its clients once.
//!
//! A directory that holds none of the files gets a new set; one that holds all of them is read
//! back and checked (every file parses, every public key matches its private key, the ids of
//! `manifest.json` are valid and its `mchid` is the configured one, no certificate expires
//! within a day, the TLS certificate chains to the CA); anything in between is refused, naming
//! the file and the problem, never its contents. The TLS identity is kept too (the CA
//! certificate, and the server certificate with its key; the CA's key is never written), so
//! clients trust `tls_ca_cert.pem` once.
//!
//! Private files are created with mode 0600 and a new directory with 0700 (Unix), from the
//! first byte: never written first and restricted after.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use time::OffsetDateTime;
use wxpay_protocol::security::{Apiv3Key, KeyKind, MerchantSerial, PublicKeyId, RsaPrivateKey, VerifyingKey};

use crate::error::SandboxError;
use crate::keys::{
    APIV3_KEY, KeyFiles, MERCHANT_PRIVATE_KEY, MERCHANT_PUBLIC_KEY, PLATFORM_CERT, PLATFORM_PRIVATE_KEY,
    PlatformCertificate, PublicKeyPair, SandboxKeys, TEST_ONLY, TLS_CA_CERT, WECHATPAY_PRIVATE_KEY,
    WECHATPAY_PUBLIC_KEY, certificate_facts, hex, random_bytes,
};
use crate::tls::{self, TlsIdentity};

/// The ids of a generated set that no file holds.
const MANIFEST: &str = "manifest.json";
/// The HTTPS listener's certificate.
const TLS_CERT: &str = "tls_cert.pem";
/// Its private key.
const TLS_PRIVATE_KEY: &str = "tls_private_key.pem";

/// The files of a generated key set; the manifest is written last.
const KEY_SET: [&str; 8] = [
    MANIFEST,
    MERCHANT_PRIVATE_KEY,
    MERCHANT_PUBLIC_KEY,
    WECHATPAY_PUBLIC_KEY,
    WECHATPAY_PRIVATE_KEY,
    PLATFORM_CERT,
    PLATFORM_PRIVATE_KEY,
    APIV3_KEY,
];

/// The files of the TLS identity.
const TLS_SET: [&str; 3] = [TLS_CA_CERT, TLS_CERT, TLS_PRIVATE_KEY];

/// The version of `manifest.json`.
const FORMAT: u32 = 1;

/// A certificate that expires sooner than this is not reused.
const MIN_VALIDITY: time::Duration = time::Duration::days(1);

/// Whether a key directory's material was read back or made at this start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyDirOrigin {
    /// The directory held none of the files: they were generated and written.
    Generated,
    /// The directory held a complete set, which is served again.
    Reused,
}

impl KeyDirOrigin {
    /// `generated` or `reused`, as in the start-up line.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyDirOrigin::Generated => "generated",
            KeyDirOrigin::Reused => "reused",
        }
    }
}

/// A running sandbox's key directory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyDir {
    /// Where each file is.
    pub files: KeyFiles,
    /// Whether its material was reused or generated at this start. With keys given as files,
    /// this is about the TLS identity (the only material read back).
    pub origin: KeyDirOrigin,
    /// A temporary directory, removed when the sandbox shuts down or is dropped.
    pub temporary: bool,
}

/// `manifest.json`: the ids of a generated set (the platform serial is read from its
/// certificate).
#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    #[serde(default)]
    about: String,
    format: u32,
    mchid: String,
    merchant_serial: String,
    public_key_id: String,
}

/// The key material of a sandbox with a key directory.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) keys: SandboxKeys,
    pub(crate) tls: TlsIdentity,
    pub(crate) files: KeyFiles,
    pub(crate) origin: KeyDirOrigin,
}

/// Reads the key set in `dir`, or generates one and writes it there. With `given` keys (from
/// files), only the TLS identity is read back or generated, and the given public keys are
/// written beside it.
pub(crate) fn open(
    dir: &Path,
    mchid: &str,
    given: Option<SandboxKeys>,
    now: OffsetDateTime,
) -> Result<Opened, SandboxError> {
    let Some(keys) = given else {
        let all = [&KEY_SET[..], &TLS_SET[..]].concat();
        let found = present(dir, &all)?;
        if found.is_empty() {
            return generate(dir, mchid, now);
        }
        let missing = missing(&all, &found);
        if !missing.is_empty() {
            return Err(SandboxError::KeyDirIncomplete { dir: dir.to_owned(), missing });
        }
        let (keys, mut files) = load_keys(dir, mchid, now)?;
        let tls = load_tls(dir, now)?;
        files.tls_ca_cert = Some(dir.join(TLS_CA_CERT));
        files.tls_cert = Some(dir.join(TLS_CERT));
        files.tls_private_key = Some(dir.join(TLS_PRIVATE_KEY));
        return Ok(Opened { keys, tls, files, origin: KeyDirOrigin::Reused });
    };
    if !present(dir, &[MANIFEST])?.is_empty() {
        return Err(SandboxError::KeyDirInUse { dir: dir.to_owned() });
    }
    let found = present(dir, &TLS_SET)?;
    let (tls, origin) = if found.is_empty() {
        let tls = TlsIdentity::generate()?;
        create_dir(dir)?;
        write_tls(dir, &tls)?;
        (tls, KeyDirOrigin::Generated)
    } else {
        let missing = missing(&TLS_SET, &found);
        if !missing.is_empty() {
            return Err(SandboxError::KeyDirIncomplete { dir: dir.to_owned(), missing });
        }
        (load_tls(dir, now)?, KeyDirOrigin::Reused)
    };
    let mut files = keys.write_files(dir, Some(&tls.ca_pem), Existing::Replace)?;
    files.tls_cert = Some(dir.join(TLS_CERT));
    files.tls_private_key = Some(dir.join(TLS_PRIVATE_KEY));
    Ok(Opened { keys, tls, files, origin })
}

/// A new set, written to `dir` without replacing anything; the manifest comes last, so a set
/// without it was interrupted.
fn generate(dir: &Path, mchid: &str, now: OffsetDateTime) -> Result<Opened, SandboxError> {
    let keys = SandboxKeys::generate(mchid, now)?;
    let tls = TlsIdentity::generate()?;
    let mut files = keys.write_files(dir, Some(&tls.ca_pem), Existing::Refuse)?;
    write_tls(dir, &tls)?;
    files.tls_cert = Some(dir.join(TLS_CERT));
    files.tls_private_key = Some(dir.join(TLS_PRIVATE_KEY));
    let manifest = Manifest {
        about: "TEST ONLY: the ids of the keys wxpay-sandbox generated here. Delete this directory for a new set."
            .to_owned(),
        format: FORMAT,
        mchid: keys.mchid.clone(),
        merchant_serial: keys.merchant_serial.clone(),
        public_key_id: keys.public_key.as_ref().map(|k| k.id.as_str().to_owned()).unwrap_or_default(),
    };
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    files.manifest = Some(write_file(dir, MANIFEST, &text, Access::Public, Existing::Refuse)?);
    Ok(Opened { keys, tls, files, origin: KeyDirOrigin::Generated })
}

/// Writes the TLS certificate and its key (the CA certificate is written with the keys).
fn write_tls(dir: &Path, tls: &TlsIdentity) -> Result<(), SandboxError> {
    write_file(dir, TLS_CERT, &tls.cert_pem, Access::Public, Existing::Refuse)?;
    write_file(dir, TLS_PRIVATE_KEY, &format!("{TEST_ONLY}{}", tls.key_pem), Access::Private, Existing::Refuse)?;
    Ok(())
}

/// Which of `names` exist in `dir` (a missing `dir` holds none).
fn present(dir: &Path, names: &[&'static str]) -> Result<Vec<&'static str>, SandboxError> {
    let mut found = Vec::new();
    for name in names {
        let path = dir.join(name);
        match std::fs::symlink_metadata(&path) {
            Ok(_) => found.push(*name),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SandboxError::Read(path, e)),
        }
    }
    Ok(found)
}

/// Which of `names` are not in `found`.
fn missing(names: &[&'static str], found: &[&'static str]) -> Vec<&'static str> {
    names.iter().filter(|name| !found.contains(name)).copied().collect()
}

/// A `KeyDirFile` error.
fn unusable(path: &Path, problem: &'static str) -> SandboxError {
    SandboxError::KeyDirFile { path: path.to_owned(), problem, source: None }
}

/// A `KeyDirFile` error with a source that quotes nothing of the file.
fn unusable_because(
    path: &Path,
    problem: &'static str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> SandboxError {
    SandboxError::KeyDirFile { path: path.to_owned(), problem, source: Some(Box::new(source)) }
}

fn read(path: &Path) -> Result<String, SandboxError> {
    std::fs::read_to_string(path).map_err(|e| SandboxError::Read(path.to_owned(), e))
}

/// An RSA private key file, and its PEM without the test-only line.
fn private_key(path: &Path) -> Result<(Arc<RsaPrivateKey>, String), SandboxError> {
    let text = read(path)?;
    let key =
        RsaPrivateKey::from_pkcs8_pem(&text).map_err(|e| unusable_because(path, "not a PKCS#8 RSA private key", e))?;
    let pem = text.strip_prefix(TEST_ONLY).unwrap_or(&text).to_owned();
    Ok((Arc::new(key), pem))
}

/// The `SubjectPublicKeyInfo` DER of a private key's public half.
fn spki_of(path: &Path, key: &RsaPrivateKey) -> Result<Vec<u8>, SandboxError> {
    key.public_key_pem()
        .ok()
        .and_then(|pem| SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()).ok())
        .map(|spki| spki.as_ref().to_vec())
        .ok_or_else(|| unusable(path, "its public half cannot be encoded"))
}

/// A public key file that must hold the public key `spki`; `mismatch` says whose.
fn matching_public_key(path: &Path, spki: &[u8], mismatch: &'static str) -> Result<String, SandboxError> {
    let text = read(path)?;
    let der = SubjectPublicKeyInfoDer::from_pem_slice(text.as_bytes())
        .map_err(|_| unusable(path, "not a PEM public key (SubjectPublicKeyInfo)"))?;
    if der.as_ref() != spki {
        return Err(unusable(path, mismatch));
    }
    Ok(text)
}

/// Refuses a certificate that expires within a day of `now`.
pub(crate) fn check_validity(path: &Path, not_after: OffsetDateTime, now: OffsetDateTime) -> Result<(), SandboxError> {
    if not_after - now < MIN_VALIDITY {
        return Err(SandboxError::KeyDirExpired { path: path.to_owned(), not_after });
    }
    Ok(())
}

/// Reads and checks a generated set.
fn load_keys(dir: &Path, mchid: &str, now: OffsetDateTime) -> Result<(SandboxKeys, KeyFiles), SandboxError> {
    let path = |name: &str| dir.join(name);

    let manifest_path = path(MANIFEST);
    let manifest: Manifest = serde_json::from_str(&read(&manifest_path)?)
        .map_err(|e| unusable_because(&manifest_path, "not a manifest of wxpay-sandbox", e))?;
    if manifest.format != FORMAT {
        return Err(unusable(&manifest_path, "written by another version of wxpay-sandbox (unknown format)"));
    }
    if manifest.mchid != mchid {
        return Err(SandboxError::KeyDirMchid {
            path: manifest_path,
            found: manifest.mchid,
            configured: mchid.to_owned(),
        });
    }
    let merchant_serial = MerchantSerial::new(manifest.merchant_serial)
        .map_err(|e| unusable_because(&manifest_path, "invalid merchant_serial", e))?;
    let public_key_id = PublicKeyId::new(manifest.public_key_id)
        .map_err(|e| unusable_because(&manifest_path, "invalid public_key_id", e))?;

    let (merchant, merchant_private_pem) = private_key(&path(MERCHANT_PRIVATE_KEY))?;
    let merchant_spki = spki_of(&path(MERCHANT_PRIVATE_KEY), &merchant)?;
    matching_public_key(&path(MERCHANT_PUBLIC_KEY), &merchant_spki, "not the public half of merchant_private_key.pem")?;
    let merchant_public = VerifyingKey::from_der(merchant_serial.as_str(), KeyKind::Merchant, &merchant_spki)
        .map_err(|e| unusable_because(&path(MERCHANT_PRIVATE_KEY), "not a usable RSA key", e))?;

    let (wechat, wechat_private_pem) = private_key(&path(WECHATPAY_PRIVATE_KEY))?;
    let wechat_spki = spki_of(&path(WECHATPAY_PRIVATE_KEY), &wechat)?;
    let public_pem = matching_public_key(
        &path(WECHATPAY_PUBLIC_KEY),
        &wechat_spki,
        "not the public half of wechatpay_private_key.pem",
    )?;

    let cert_path = path(PLATFORM_CERT);
    let certificate_pem = read(&cert_path)?;
    let facts =
        certificate_facts(&certificate_pem).ok_or_else(|| unusable(&cert_path, "not a PEM X.509 certificate"))?;
    check_validity(&cert_path, facts.not_after, now)?;
    let serial = VerifyingKey::from_certificate_pem(&certificate_pem)
        .map_err(|e| unusable_because(&cert_path, "not a usable platform certificate", e))?
        .serial()
        .to_owned();
    let (platform, platform_private_pem) = private_key(&path(PLATFORM_PRIVATE_KEY))?;
    if spki_of(&path(PLATFORM_PRIVATE_KEY), &platform)? != facts.spki {
        return Err(unusable(&path(PLATFORM_PRIVATE_KEY), "not the key of platform_cert.pem"));
    }

    let apiv3_path = path(APIV3_KEY);
    let apiv3_text = read(&apiv3_path)?;
    let apiv3_key = Apiv3Key::new(apiv3_text.as_bytes())
        .map_err(|e| unusable_because(&apiv3_path, "not an APIv3 key (32 characters)", e))?;

    let keys = SandboxKeys {
        mchid: mchid.to_owned(),
        merchant_serial: merchant_serial.as_str().to_owned(),
        merchant_public,
        merchant_private_pem: Some(merchant_private_pem),
        public_key: Some(PublicKeyPair {
            id: public_key_id,
            public_pem,
            signer: wechat,
            private_pem: Some(wechat_private_pem),
        }),
        platform: Some(PlatformCertificate {
            serial,
            certificate_pem,
            not_before: facts.not_before,
            not_after: facts.not_after,
            signer: platform,
            private_pem: Some(platform_private_pem),
        }),
        apiv3_key,
        apiv3_key_text: Some(apiv3_text.trim().to_owned()),
    };
    let files = KeyFiles {
        dir: dir.to_owned(),
        merchant_private_key: Some(path(MERCHANT_PRIVATE_KEY)),
        merchant_public_key: Some(path(MERCHANT_PUBLIC_KEY)),
        wechatpay_public_key: Some(path(WECHATPAY_PUBLIC_KEY)),
        wechatpay_private_key: Some(path(WECHATPAY_PRIVATE_KEY)),
        platform_cert: Some(cert_path),
        platform_private_key: Some(path(PLATFORM_PRIVATE_KEY)),
        apiv3_key: Some(apiv3_path),
        manifest: Some(manifest_path),
        ..KeyFiles::default()
    };
    Ok((keys, files))
}

/// Reads and checks the TLS identity: both certificates valid for more than a day, the server
/// certificate issued by the CA for `localhost`, and its key matching it.
fn load_tls(dir: &Path, now: OffsetDateTime) -> Result<TlsIdentity, SandboxError> {
    let ca_path = dir.join(TLS_CA_CERT);
    let ca_pem = read(&ca_path)?;
    let ca = certificate_facts(&ca_pem).ok_or_else(|| unusable(&ca_path, "not a PEM X.509 certificate"))?;
    check_validity(&ca_path, ca.not_after, now)?;

    let cert_path = dir.join(TLS_CERT);
    let cert_pem = read(&cert_path)?;
    let cert = certificate_facts(&cert_pem).ok_or_else(|| unusable(&cert_path, "not a PEM X.509 certificate"))?;
    check_validity(&cert_path, cert.not_after, now)?;

    let key_path = dir.join(TLS_PRIVATE_KEY);
    let key_text = read(&key_path)?;
    // The PEM reader's own errors may quote the text: only a fixed problem is reported.
    let key =
        PrivateKeyDer::from_pem_slice(key_text.as_bytes()).map_err(|_| unusable(&key_path, "not a PEM private key"))?;

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.der))
        .map_err(|e| unusable_because(&ca_path, "not usable as a CA certificate", e))?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), tls::provider())
        .build()
        .map_err(|e| unusable_because(&ca_path, "not usable as a CA certificate", e))?;
    let at = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now.unix_timestamp()).unwrap_or(0)));
    let cert_der = CertificateDer::from(cert.der);
    let localhost = ServerName::try_from("localhost").map_err(|e| unusable_because(&cert_path, "no server name", e))?;
    verifier
        .verify_server_cert(&cert_der, &[], &localhost, &[], at)
        .map_err(|e| unusable_because(&cert_path, "not a certificate for localhost issued by tls_ca_cert.pem", e))?;

    // Built only to check that the key is the certificate's.
    tls::server_config(vec![cert_der], key, None)
        .map_err(|e| unusable_because(&key_path, "not the usable key of tls_cert.pem", e))?;
    let key_pem = key_text.strip_prefix(TEST_ONLY).unwrap_or(&key_text).to_owned();
    Ok(TlsIdentity { ca_pem, cert_pem, key_pem })
}

/// Whether a file holds a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Readable by all (0644 on Unix, less if the umask says so).
    Public,
    /// Readable by its owner only (0600 on Unix).
    Private,
}

/// What to do when the file exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Fail: the file is created, never opened.
    Refuse,
    /// Replace it atomically (a new file renamed over it).
    Replace,
}

/// Creates `dir` and its missing parents, mode 0700 on Unix.
pub(crate) fn create_dir(dir: &Path) -> Result<(), SandboxError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| SandboxError::Write(dir.to_owned(), e))
}

/// Writes `dir/name`, creating the file with its final mode.
pub(crate) fn write_file(
    dir: &Path,
    name: &str,
    contents: &str,
    access: Access,
    existing: Existing,
) -> Result<PathBuf, SandboxError> {
    let path = dir.join(name);
    let result = match existing {
        Existing::Refuse => create_new(&path, contents, access),
        Existing::Replace => {
            let temporary = dir.join(format!(".{name}.{}.tmp", hex(&random_bytes::<6>()?)));
            create_new(&temporary, contents, access).and_then(|()| std::fs::rename(&temporary, &path)).inspect_err(
                |_| {
                    let _ = std::fs::remove_file(&temporary);
                },
            )
        }
    };
    result.map_err(|e| SandboxError::Write(path.clone(), e))?;
    Ok(path)
}

/// Creates a new file with `access`'s mode and writes `contents`; removes it again if the write
/// fails.
fn create_new(path: &Path, contents: &str, access: Access) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(
        &mut options,
        match access {
            Access::Public => 0o644,
            Access::Private => 0o600,
        },
    );
    #[cfg(not(unix))]
    let _ = access;
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes()).inspect_err(|_| {
        drop(std::fs::remove_file(path));
    })
}

/// A new temporary directory (mode 0700 on Unix), removed when dropped.
pub(crate) fn temporary_dir() -> Result<tempfile::TempDir, SandboxError> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("wxpay-sandbox-");
    #[cfg(unix)]
    let permissions = std::os::unix::fs::PermissionsExt::from_mode(0o700);
    #[cfg(unix)]
    builder.permissions(permissions);
    builder.tempdir().map_err(|e| SandboxError::Write(std::env::temp_dir(), e))
}
