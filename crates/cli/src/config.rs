//! `--config FILE`: settings from a TOML file, below flags and `WXPAY_*` variables.
//!
//! The file, the variables and the precedence are `wxpay-settings`'s, which the library's
//! `Client::from_env()` / `Client::from_file(..)` read the same way: clap has put each flag, or
//! else its environment variable, into the arguments (the explicit values); this module fills
//! what is still unset from the variables and the file, so the precedence is flag, then
//! environment, then config file, then default. The file holds paths to key material, never key
//! material, and errors quote no value from it. Its keys are listed in `wxpay_settings`'s
//! documentation.
//!
//! The secrets' contents (`WXPAY_PRIVATE_KEY_PEM`, `WXPAY_APIV3_KEY`, and for `--wire v2`
//! `WXPAY_APIV2_KEY` and `WXPAY_CLIENT_KEY_PEM`) are read by `wxpay-settings` too, from the
//! variables: they win over the file's paths and are refused together with `--private-key` /
//! `--apiv3-key-file` / `--apiv2-key-file` / `--client-key` (or their variables).

use wxpay_settings::{Settings, SettingsError};

use crate::args::{CommonArgs, Group, SettingsMut, V2Args, V3Args};
use crate::credentials::{CredentialError, Flag};
use crate::exit::CliError;
use crate::listen::NotifyCommand;

/// Fills the settings of the chosen operation that no flag or variable gave from its
/// `--config` file (or `WXPAY_CONFIG`), if any. `wxpay listen` and `wxpay notify decode` read no
/// config file; they get the secrets' content variables only.
pub(crate) fn apply(group: &mut Group) -> Result<(), CliError> {
    match group {
        Group::Listen(args) => return variables(&mut args.keys),
        Group::Notify(NotifyCommand::Decode(args)) => return variables(&mut args.keys),
        Group::Cloudpay(_)
        | Group::Ecommerce(_)
        | Group::Demo(_)
        | Group::Sandbox(_)
        | Group::Completions(_)
        | Group::Man(_) => {}
    }
    let Some(SettingsMut { common, v3, v2 }) = group.settings_mut() else { return Ok(()) };
    let explicit = explicit(common, v3.as_deref(), v2.as_deref());
    let merged = Settings::load(explicit, |name| std::env::var(name).ok())?;
    if let Some(v2) = v2 {
        v2.mchid.clone_from(&merged.mchid);
        v2.appid.clone_from(&merged.appid);
        v2.apiv2_key_file.clone_from(&merged.apiv2_key_file);
        v2.apiv2_key.clone_from(&merged.apiv2_key);
        v2.client_cert.clone_from(&merged.client_cert);
        v2.client_key.clone_from(&merged.client_key);
        v2.client_key_pem.clone_from(&merged.client_key_pem);
        v2.v2_url.clone_from(&merged.v2_url);
    }
    common.base_url = merged.base_url;
    common.cloudpay_url = merged.cloudpay_url;
    common.ca_cert = merged.ca_cert;
    common.request_timeout = merged.request_timeout;
    common.connect_timeout = merged.connect_timeout;
    common.redis = merged.redis_url.map(|url| url.as_str().to_owned());
    if let Some(v3) = v3 {
        v3.mchid = merged.mchid;
        v3.merchant_serial = merged.merchant_serial;
        v3.private_key = merged.private_key;
        v3.private_key_pem = merged.private_key_pem;
        v3.public_key = merged.public_key;
        v3.public_key_id = merged.public_key_id;
        v3.platform_cert = merged.platform_certs;
        v3.apiv3_key_file = merged.apiv3_key_file;
        v3.apiv3_key = merged.apiv3_key;
    }
    Ok(())
}

/// The keys' flags (and the variables clap read for them) with the secrets' content variables,
/// checked as `wxpay-settings` checks them; no other variable, and no config file.
fn variables(v3: &mut V3Args) -> Result<(), CliError> {
    use wxpay_settings::Setting;
    let secrets = [Setting::PRIVATE_KEY, Setting::PRIVATE_KEY_PEM, Setting::APIV3_KEY_FILE, Setting::APIV3_KEY];
    let var = |name: &str| secrets.iter().any(|s| s.env() == Some(name)).then(|| std::env::var(name).ok()).flatten();
    let merged = Settings::load(settings(v3), var)?;
    v3.private_key_pem = merged.private_key_pem;
    v3.apiv3_key = merged.apiv3_key;
    Ok(())
}

/// The flags (and the variables clap read for them) as the explicit layer.
fn explicit(common: &CommonArgs, v3: Option<&V3Args>, v2: Option<&V2Args>) -> Settings {
    let mut settings = match (v3, v2) {
        (Some(v3), _) => settings(v3),
        (None, Some(v2)) => crate::ops::v2::settings(v2),
        (None, None) => Settings::default(),
    };
    settings.base_url.clone_from(&common.base_url);
    settings.cloudpay_url.clone_from(&common.cloudpay_url);
    settings.ca_cert.clone_from(&common.ca_cert);
    settings.request_timeout = common.request_timeout;
    settings.connect_timeout = common.connect_timeout;
    settings.redis_url = common.redis.clone().map(wxpay_settings::RedisUrl::new);
    settings.config.clone_from(&common.config);
    settings
}

/// The API v3 flags as settings (the credentials are read from them by `wxpay-settings`).
pub(crate) fn settings(v3: &V3Args) -> Settings {
    let mut settings = Settings::default();
    settings.mchid.clone_from(&v3.mchid);
    settings.merchant_serial.clone_from(&v3.merchant_serial);
    settings.private_key.clone_from(&v3.private_key);
    settings.private_key_pem.clone_from(&v3.private_key_pem);
    settings.public_key.clone_from(&v3.public_key);
    settings.public_key_id.clone_from(&v3.public_key_id);
    settings.platform_certs.clone_from(&v3.platform_cert);
    settings.apiv3_key_file.clone_from(&v3.apiv3_key_file);
    settings.apiv3_key.clone_from(&v3.apiv3_key);
    settings
}

impl From<SettingsError> for CliError {
    /// The library's errors in the CLI's words: a setting is named by its flag and variable (a
    /// secret's contents by their variable alone); a file only when it is plainly a path, as
    /// the library decided.
    fn from(e: SettingsError) -> Self {
        let flag = |s: wxpay_settings::Setting| Flag { field: s.flag(), env: s.env(), env_only: s.is_contents() };
        let shown = |file: Option<std::path::PathBuf>| file.map(|f| f.display().to_string());
        match e {
            SettingsError::Invalid(e) => CliError::Invalid(e),
            SettingsError::Missing { setting } => CliError::MissingFlag { field: setting.flag(), env: setting.env() },
            SettingsError::Credential { setting, file, source } => CliError::Credential {
                flag: flag(setting),
                file: shown(file),
                source: Box::new(match *source {
                    wxpay_settings::CredentialError::Both(other) => CredentialError::Both(flag(other)),
                    other => CredentialError::Settings(other),
                }),
            },
            SettingsError::ReadConfig { file, source } => CliError::ReadConfig { file: shown(file), source },
            SettingsError::Config { file, line, message } => CliError::Config { file: shown(file), line, message },
            SettingsError::CaCert { file, reason } => CliError::CaCert { file: shown(file), reason },
            other => CliError::Settings(other),
        }
    }
}
