//! The TOML file: the keys it may hold, relative paths, and errors that quote no value.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::{Setting, Settings, SettingsError};

/// The keys a config file may hold; any other key is an error that names it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    mchid: Option<String>,
    merchant_serial: Option<String>,
    private_key: Option<PathBuf>,
    public_key: Option<PathBuf>,
    public_key_id: Option<String>,
    #[serde(default)]
    platform_certs: Vec<PathBuf>,
    apiv3_key_file: Option<PathBuf>,
    base_url: Option<String>,
    cloudpay_url: Option<String>,
    ca_cert: Option<PathBuf>,
    request_timeout: Option<f64>,
    connect_timeout: Option<f64>,
    redis_url: Option<String>,
    v2_url: Option<String>,
    appid: Option<String>,
    apiv2_key_file: Option<PathBuf>,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
}

/// Reads and parses the file at `path`, with relative paths made relative to its directory.
pub(crate) fn read(path: &Path) -> Result<Settings, SettingsError> {
    // A value that looks like file contents (the TOML itself in WXPAY_CONFIG) is not shown.
    let shown = crate::path_shown(path).map(Path::to_owned);
    let text =
        std::fs::read_to_string(path).map_err(|source| SettingsError::ReadConfig { file: shown.clone(), source })?;
    let file: ConfigFile = toml::from_str(&text).map_err(|e| SettingsError::Config {
        file: shown,
        line: e.span().map(|span| line_of(&text, span.start)),
        // The message alone: toml's full rendering quotes the line, which may hold a secret
        // someone put in the wrong key.
        message: scrub(e.message()),
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let resolve = |p: Option<PathBuf>| p.map(|p| dir.join(p));
    let timeout = |setting: Setting, value: Option<f64>| value.map(|s| duration(setting, s)).transpose();
    Ok(Settings {
        mchid: file.mchid,
        merchant_serial: file.merchant_serial,
        private_key: resolve(file.private_key),
        public_key: resolve(file.public_key),
        public_key_id: file.public_key_id,
        platform_certs: file.platform_certs.into_iter().map(|p| dir.join(p)).collect(),
        apiv3_key_file: resolve(file.apiv3_key_file),
        base_url: file.base_url,
        cloudpay_url: file.cloudpay_url,
        ca_cert: resolve(file.ca_cert),
        request_timeout: timeout(Setting::REQUEST_TIMEOUT, file.request_timeout)?,
        connect_timeout: timeout(Setting::CONNECT_TIMEOUT, file.connect_timeout)?,
        redis_url: file.redis_url.map(crate::RedisUrl::new),
        v2_url: file.v2_url,
        appid: file.appid,
        apiv2_key_file: resolve(file.apiv2_key_file),
        client_cert: resolve(file.client_cert),
        client_key: resolve(file.client_key),
        private_key_pem: None,
        apiv3_key: None,
        apiv2_key: None,
        client_key_pem: None,
        config: None,
    })
}

/// A variable's positive number of seconds (`0.5`, `30`).
pub(crate) fn seconds(setting: Setting, text: &str) -> Result<Duration, SettingsError> {
    let value = text
        .trim()
        .parse::<f64>()
        .map_err(|_| SettingsError::Value { setting, reason: "must be a number of seconds" })?;
    duration(setting, value)
}

/// A positive, finite number of seconds.
fn duration(setting: Setting, seconds: f64) -> Result<Duration, SettingsError> {
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(SettingsError::Value { setting, reason: "must be more than 0 seconds" });
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| SettingsError::Value { setting, reason: "is too long" })
}

/// serde's type errors quote the value (`invalid type: string "...", expected f64`): only what
/// was expected is kept, and the line says where.
fn scrub(message: &str) -> String {
    let quoting = ["invalid type", "invalid value", "invalid length"].iter().find(|p| message.starts_with(**p));
    match (quoting, message.rfind(", expected ")) {
        (Some(kind), Some(at)) => format!("{kind} (value not shown), {}", &message[at + 2..]),
        (Some(kind), None) => format!("{kind} (value not shown)"),
        (None, _) => message.to_owned(),
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_without_their_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wxpay.toml");
        std::fs::write(&path, "mchid = \"1\"\napiv3_key = \"s3cr3t\"\n").unwrap();
        let err = read(&path).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("invalid config file {} (line 2): unknown field `apiv3_key`", path.display())),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"), "{text}");
        let missing = dir.path().join("missing.toml");
        let err = read(&missing).unwrap_err();
        assert_eq!(err.to_string(), format!("cannot read the config file {}", missing.display()));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn every_documented_key_parses_and_paths_are_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wxpay.toml");
        std::fs::write(
            &path,
            "mchid = \"1\"\nmerchant_serial = \"AB\"\nprivate_key = \"keys/k.pem\"\npublic_key = \"p.pem\"\n\
             public_key_id = \"PUB_KEY_ID_1\"\nplatform_certs = [\"a.pem\", \"/abs/b.pem\"]\napiv3_key_file = \"v3\"\n\
             base_url = \"https://x\"\ncloudpay_url = \"http://y\"\nca_cert = \"ca.pem\"\n\
             request_timeout = 2.5\nconnect_timeout = 1\nv2_url = \"https://z\"\nappid = \"wx1\"\n\
             apiv2_key_file = \"v2\"\nclient_cert = \"c.pem\"\nclient_key = \"/abs/k.pem\"\n",
        )
        .unwrap();
        let s = read(&path).unwrap();
        assert_eq!(s.private_key, Some(dir.path().join("keys/k.pem")));
        assert_eq!(s.public_key, Some(dir.path().join("p.pem")));
        assert_eq!(s.apiv3_key_file, Some(dir.path().join("v3")));
        assert_eq!(s.ca_cert, Some(dir.path().join("ca.pem")));
        assert_eq!(s.platform_certs, vec![dir.path().join("a.pem"), PathBuf::from("/abs/b.pem")]);
        assert_eq!((s.mchid.as_deref(), s.merchant_serial.as_deref()), (Some("1"), Some("AB")));
        assert_eq!(s.public_key_id.as_deref(), Some("PUB_KEY_ID_1"));
        assert_eq!((s.base_url.as_deref(), s.cloudpay_url.as_deref()), (Some("https://x"), Some("http://y")));
        assert_eq!(s.request_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(1)));
        assert_eq!((s.v2_url.as_deref(), s.appid.as_deref()), (Some("https://z"), Some("wx1")));
        assert_eq!(s.apiv2_key_file, Some(dir.path().join("v2")));
        assert_eq!((s.client_cert, s.client_key), (Some(dir.path().join("c.pem")), Some(PathBuf::from("/abs/k.pem"))));
        // A wrong type names the key, not the value.
        std::fs::write(&path, "request_timeout = \"s3cr3t\"\n").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("line 1") && !err.contains("s3cr3t"), "{err}");
        assert!(err.ends_with("invalid type (value not shown), expected f64"), "{err}");
        // A key in a list's place: the message names the type expected, not the key.
        std::fs::write(&path, "platform_certs = \"-----BEGIN PRIVATE KEY-----MIIE\"\n").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(!err.contains("MIIE") && !err.contains("BEGIN"), "{err}");
        assert!(err.contains("invalid type (value not shown), expected"), "{err}");
        std::fs::write(&path, "request_timeout = -1\n").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("request_timeout"));
    }
}
