//! `--config FILE`: settings from a TOML file, below flags and `WXPAY_*` variables.
//!
//! clap has already put each flag, or else its environment variable, into the arguments; this
//! module fills what is still unset from the file, so the precedence is flag > environment >
//! config file > default. Keys are paths for key material, never key material: the file can be
//! shown without showing a secret, and errors quote no value from it.
//!
//! ```toml
//! mchid = "1900007291"
//! merchant_serial = "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB"
//! private_key = "keys/apiclient_key.pem"        # relative to this file's directory
//! public_key = "keys/pub_key.pem"
//! public_key_id = "PUB_KEY_ID_0000000000000024101100397200000006"
//! platform_certs = ["keys/wechatpay_1.pem"]
//! apiv3_key_file = "keys/apiv3_key"
//! base_url = "https://api.mch.weixin.qq.com"
//! cloudpay_url = "http://api.weixin.qq.com"
//! ca_cert = "keys/corporate_ca.pem"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::args::{CommonArgs, Group, V3Args};
use crate::exit::CliError;

/// The keys a config file may hold; any other key is an error that names it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// `--mchid`.
    mchid: Option<String>,
    /// `--merchant-serial`.
    merchant_serial: Option<String>,
    /// `--private-key` (a path).
    private_key: Option<PathBuf>,
    /// `--public-key` (a path).
    public_key: Option<PathBuf>,
    /// `--public-key-id`.
    public_key_id: Option<String>,
    /// Every `--platform-cert` (paths).
    #[serde(default)]
    platform_certs: Vec<PathBuf>,
    /// `--apiv3-key-file` (a path).
    apiv3_key_file: Option<PathBuf>,
    /// `--base-url`.
    base_url: Option<String>,
    /// `--cloudpay-url`.
    cloudpay_url: Option<String>,
    /// `--ca-cert` (a path).
    ca_cert: Option<PathBuf>,
}

/// Fills the settings of the chosen operation that no flag or variable gave from its
/// `--config` file (or `WXPAY_CONFIG`), if any.
pub(crate) fn apply(group: &mut Group) -> Result<(), CliError> {
    let Some((common, mut v3)) = group.settings_mut() else { return Ok(()) };
    if let Some(v3) = v3.as_deref_mut() {
        crate::credentials::read_secret_variables(v3)?;
    }
    let Some(path) = common.config.clone() else { return Ok(()) };
    let file = load(&path)?;
    fill_common(common, &file);
    if let Some(v3) = v3 {
        fill_v3(v3, file);
    }
    Ok(())
}

/// Reads and parses the file, with relative paths made relative to its directory.
fn load(path: &Path) -> Result<ConfigFile, CliError> {
    // A value that looks like file contents (the TOML itself in WXPAY_CONFIG) is not shown.
    let shown = crate::credentials::path_shown(path);
    let text = std::fs::read_to_string(path).map_err(|source| CliError::ReadConfig { file: shown.clone(), source })?;
    let mut file: ConfigFile = toml::from_str(&text).map_err(|e| CliError::Config {
        file: shown,
        line: e.span().map(|span| line_of(&text, span.start)),
        // The message alone: toml's full rendering quotes the line, which may hold a secret
        // someone put in the wrong key.
        message: without_values(e.message()),
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let resolve = |p: &mut Option<PathBuf>| {
        if let Some(p) = p {
            *p = dir.join(&*p);
        }
    };
    resolve(&mut file.private_key);
    resolve(&mut file.public_key);
    resolve(&mut file.apiv3_key_file);
    resolve(&mut file.ca_cert);
    for cert in &mut file.platform_certs {
        *cert = dir.join(&*cert);
    }
    Ok(file)
}

/// A parse error's message without the value it may quote: serde's "invalid type: string
/// \"...\", expected ..." names the value, which may be a secret in the wrong key.
fn without_values(message: &str) -> String {
    for prefix in ["invalid type", "invalid value"] {
        if let Some(rest) = message.strip_prefix(prefix).and_then(|rest| rest.strip_prefix(": ")) {
            let expected = rest.find(", expected").map_or("", |at| &rest[at..]);
            return format!("{prefix} (value not shown){expected}");
        }
    }
    message.to_owned()
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

/// Sets `slot` from `value` when no flag or variable set it.
fn fill<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(value);
    }
}

/// The settings every operation has.
fn fill_common(common: &mut CommonArgs, file: &ConfigFile) {
    fill(&mut common.base_url, &file.base_url);
    fill(&mut common.cloudpay_url, &file.cloudpay_url);
    fill(&mut common.ca_cert, &file.ca_cert);
}

/// The API v3 credentials and keys.
fn fill_v3(v3: &mut V3Args, file: ConfigFile) {
    fill(&mut v3.mchid, &file.mchid);
    fill(&mut v3.merchant_serial, &file.merchant_serial);
    // A secret's contents in its variable (`WXPAY_PRIVATE_KEY_PEM`, `WXPAY_APIV3_KEY`) win over
    // the file's path.
    if !v3.private_key_pem.is_set() {
        fill(&mut v3.private_key, &file.private_key);
    }
    if !v3.apiv3_key.is_set() {
        fill(&mut v3.apiv3_key_file, &file.apiv3_key_file);
    }
    // The public key and its id come as a pair: a flag for either one keeps the file's pair out,
    // so that a key is never verified under another key's id.
    if v3.public_key.is_none() && v3.public_key_id.is_none() {
        v3.public_key = file.public_key;
        v3.public_key_id = file.public_key_id;
    }
    if v3.platform_cert.is_empty() {
        v3.platform_cert = file.platform_certs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_without_their_value() {
        let err = toml::from_str::<ConfigFile>("mchid = \"1\"\napiv3_key = \"s3cr3t\"\n").unwrap_err();
        assert!(err.message().contains("unknown field `apiv3_key`"), "{}", err.message());
        assert!(!err.message().contains("s3cr3t"));
        assert_eq!(line_of("mchid = \"1\"\napiv3_key = \"s3cr3t\"\n", err.span().unwrap().start), 2);
    }

    #[test]
    fn values_of_the_wrong_type_are_not_quoted() {
        let err = toml::from_str::<ConfigFile>("platform_certs = \"-----BEGIN PRIVATE KEY-----MIIE\"\n").unwrap_err();
        assert!(err.message().contains("MIIE"), "the test needs a message that quotes: {}", err.message());
        let message = without_values(err.message());
        assert!(!message.contains("MIIE") && !message.contains("BEGIN"), "{message}");
        assert!(message.starts_with("invalid type (value not shown), expected"), "{message}");
    }

    #[test]
    fn every_documented_key_parses() {
        let file: ConfigFile = toml::from_str(
            "mchid = \"1\"\nmerchant_serial = \"AB\"\nprivate_key = \"k.pem\"\npublic_key = \"p.pem\"\n\
             public_key_id = \"PUB_KEY_ID_1\"\nplatform_certs = [\"a.pem\", \"b.pem\"]\napiv3_key_file = \"v3\"\n\
             base_url = \"https://x\"\ncloudpay_url = \"http://y\"\nca_cert = \"ca.pem\"\n",
        )
        .unwrap();
        assert_eq!(file.platform_certs.len(), 2);
        assert_eq!(file.ca_cert.as_deref(), Some(Path::new("ca.pem")));
    }
}
