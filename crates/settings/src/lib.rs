//! # wxpay-settings
//!
//! The settings of a wxpay client, read the way the `wxpay` command reads them: explicit values
//! (the CLI's flags), then `WXPAY_*` environment variables, then a TOML file (named by
//! `WXPAY_CONFIG` or given), then the defaults. The key files they name are read here too, into
//! the protocol's types: a [`ClientConfig`] (endpoints, merchant credentials, how answers are
//! verified) and the transport's extra CA roots and timeouts. Both transports build a client
//! from them in one call (`Client::from_env()`, `Client::from_file("wxpay.toml")`), and the CLI
//! uses this crate for its `--config` file and its credential flags.
//!
//! The file holds paths to key material, never key material: it can be shown without showing a
//! secret, and no error quotes a value from it (or from a key file, or a variable). For
//! containers and CI systems that hand secrets over as variable contents, four variables take
//! the contents themselves: `WXPAY_PRIVATE_KEY_PEM` (instead of a `private_key` file),
//! `WXPAY_APIV3_KEY` (instead of an `apiv3_key_file`), `WXPAY_APIV2_KEY` (instead of an
//! `apiv2_key_file`) and `WXPAY_CLIENT_KEY_PEM` (instead of a `client_key` file). They win
//! over the file's paths, are
//! refused when given together with the path (a flag or its variable), and are held in a
//! [`Secret`] that `Debug` does not show. Contents are never guessed from a path: a value given
//! where a path is expected that looks like key material ([`looks_like_content`]) is refused
//! ("looks like key content, not a path") without being shown.
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
//! request_timeout = 30                          # seconds
//! connect_timeout = 5
//!
//! # The v2 wire (wxpay_protocol::v2): mchid above is the v2 `mch_id` too.
//! v2_url = "https://api.mch.weixin.qq.com"
//! appid = "wx8888888888888888"
//! apiv2_key_file = "keys/apiv2_key"             # the 32-character API v2 key, not the APIv3 key
//! client_cert = "keys/apiclient_cert.pem"       # TLS client certificate for /secapi/ (finish)
//! client_key = "keys/apiclient_key.pem"
//! ```
//!
//! The v2 calls are signed by a [`v2::Merchant`](wxpay_protocol::v2::Merchant)
//! ([`Settings::v2_merchant`]); the client certificate goes into the [`ClientConfig`]
//! ([`Settings::client_identity`], [`Settings::client_config`]).
//!
//! Loading with an environment given as a map (what [`Settings::from_env`] does with the
//! process's own):
//!
//! ```
//! use std::collections::HashMap;
//! use wxpay_settings::Settings;
//!
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("wxpay.toml");
//! std::fs::write(&file, "mchid = \"1900007291\"\nbase_url = \"https://file.example\"\nprivate_key = \"k.pem\"\n")?;
//! let env = HashMap::from([
//!     ("WXPAY_CONFIG", file.to_str().unwrap()),
//!     ("WXPAY_BASE_URL", "https://env.example"),
//! ]);
//! let mut explicit = Settings::default();
//! explicit.mchid = Some("1230000109".into());
//! let settings = Settings::load(explicit, |name| env.get(name).map(|v| v.to_string()))?;
//! assert_eq!(settings.mchid.as_deref(), Some("1230000109")); // explicit > variable > file
//! assert_eq!(settings.base_url.as_deref(), Some("https://env.example")); // variable > file
//! assert_eq!(settings.private_key, Some(dir.path().join("k.pem"))); // relative to the file
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod error;
mod file;
mod keys;
mod secret;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use wxpay_protocol::BaseUrl;
use wxpay_protocol::client::ClientConfig;

pub use error::{CredentialError, Setting, SettingsError};
pub use secret::{Secret, looks_like_content, path_shown};

use crate::secret::ShownPath;

/// Every setting, each from one layer: explicit values, variables, a file (see
/// [`Settings::load`]). Paths name files; the only key material is a secret's contents
/// ([`private_key_pem`](Self::private_key_pem), [`apiv3_key`](Self::apiv3_key),
/// [`apiv2_key`](Self::apiv2_key), [`client_key_pem`](Self::client_key_pem)), which `Debug`
/// shows only as set, as it does a path that looks like key material ([`looks_like_content`])
/// and the Redis URL.
///
/// Build explicit values from [`Settings::default`] and set the fields.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// The merchant id that signs API v3 requests, and the `mch_id` of v2 calls (`mchid`,
    /// `WXPAY_MCHID`).
    pub mchid: Option<String>,
    /// The serial of the merchant's API certificate (`merchant_serial`, `WXPAY_MERCHANT_SERIAL`).
    pub merchant_serial: Option<String>,
    /// The merchant's PKCS#8 PEM private key file (`private_key`, `WXPAY_PRIVATE_KEY`).
    pub private_key: Option<PathBuf>,
    /// The merchant's private key itself, PEM text (`WXPAY_PRIVATE_KEY_PEM`; no key in the
    /// file): instead of [`private_key`](Self::private_key), never with it.
    pub private_key_pem: Option<Secret>,
    /// A WeChat Pay public key PEM file (`public_key`, `WXPAY_PUBLIC_KEY`), with its id.
    pub public_key: Option<PathBuf>,
    /// The id of [`public_key`](Self::public_key) (`public_key_id`, `WXPAY_PUBLIC_KEY_ID`).
    pub public_key_id: Option<String>,
    /// WeChat Pay platform certificate PEM files (`platform_certs`; no variable).
    pub platform_certs: Vec<PathBuf>,
    /// A file holding the APIv3 key (`apiv3_key_file`, `WXPAY_APIV3_KEY_FILE`): platform
    /// certificates are then downloaded on first use.
    pub apiv3_key_file: Option<PathBuf>,
    /// The APIv3 key itself (`WXPAY_APIV3_KEY`; no key in the file): instead of
    /// [`apiv3_key_file`](Self::apiv3_key_file), never with it.
    pub apiv3_key: Option<Secret>,
    /// The API v3 base URL (`base_url`, `WXPAY_BASE_URL`; default [`BaseUrl::V3_DEFAULT`]).
    pub base_url: Option<String>,
    /// The CloudPay base URL (`cloudpay_url`, `WXPAY_CLOUDPAY_URL`; default
    /// [`BaseUrl::CLOUDPAY_DEFAULT`]).
    pub cloudpay_url: Option<String>,
    /// A PEM file of CA certificates trusted besides the WebPKI roots (`ca_cert`, `WXPAY_CA_CERT`).
    pub ca_cert: Option<PathBuf>,
    /// The time one attempt may take (`request_timeout` in seconds, `WXPAY_REQUEST_TIMEOUT`;
    /// the transport's default, 30 s, when unset).
    pub request_timeout: Option<Duration>,
    /// The TCP connect timeout (`connect_timeout` in seconds, `WXPAY_CONNECT_TIMEOUT`; the
    /// transport's default, 5 s, when unset).
    pub connect_timeout: Option<Duration>,
    /// A Redis whose rate budget a fleet of workers shares (`redis_url`, `WXPAY_REDIS_URL`;
    /// `wxpay-ratelimit-redis`). Never printed: it may hold a password.
    pub redis_url: Option<RedisUrl>,
    /// The v2 API's base URL (`v2_url`, `WXPAY_V2_URL`; default [`BaseUrl::V2_DEFAULT`]).
    pub v2_url: Option<String>,
    /// The app id of v2 calls (`appid`, `WXPAY_APPID`).
    pub appid: Option<String>,
    /// A file holding the API v2 key (`apiv2_key_file`, `WXPAY_APIV2_KEY_FILE`): the 32
    /// characters that sign v2 calls (not the APIv3 key).
    pub apiv2_key_file: Option<PathBuf>,
    /// The API v2 key itself (`WXPAY_APIV2_KEY`; no key in the file): instead of
    /// [`apiv2_key_file`](Self::apiv2_key_file), never with it.
    pub apiv2_key: Option<Secret>,
    /// The merchant API certificate, a PEM file (`client_cert`, `WXPAY_CLIENT_CERT`), presented
    /// as the TLS client certificate: the v2 calls under `/secapi/` (the finish) need it.
    pub client_cert: Option<PathBuf>,
    /// The private key of [`client_cert`](Self::client_cert), a PEM file (`client_key`,
    /// `WXPAY_CLIENT_KEY`).
    pub client_key: Option<PathBuf>,
    /// The TLS client key itself, PEM text (`WXPAY_CLIENT_KEY_PEM`; no key in the file):
    /// instead of [`client_key`](Self::client_key), never with it.
    pub client_key_pem: Option<Secret>,
    /// The TOML file read below the explicit values and the variables (`WXPAY_CONFIG`).
    pub config: Option<PathBuf>,
}

/// A Redis URL, which may hold a password: `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// The URL as given.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisUrl([redacted])")
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn path(p: &Option<PathBuf>) -> Option<ShownPath<'_>> {
            p.as_deref().map(ShownPath)
        }
        let certs: Vec<ShownPath<'_>> = self.platform_certs.iter().map(|p| ShownPath(p)).collect();
        f.debug_struct("Settings")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("private_key", &path(&self.private_key))
            .field("private_key_pem", &self.private_key_pem)
            .field("public_key", &path(&self.public_key))
            .field("public_key_id", &self.public_key_id)
            .field("platform_certs", &certs)
            .field("apiv3_key_file", &path(&self.apiv3_key_file))
            .field("apiv3_key", &self.apiv3_key)
            .field("base_url", &self.base_url)
            .field("cloudpay_url", &self.cloudpay_url)
            .field("ca_cert", &path(&self.ca_cert))
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("redis_url", &self.redis_url)
            .field("v2_url", &self.v2_url)
            .field("appid", &self.appid)
            .field("apiv2_key_file", &path(&self.apiv2_key_file))
            .field("apiv2_key", &self.apiv2_key)
            .field("client_cert", &path(&self.client_cert))
            .field("client_key", &path(&self.client_key))
            .field("client_key_pem", &self.client_key_pem)
            .field("config", &path(&self.config))
            .finish()
    }
}

impl Settings {
    /// The process's `WXPAY_*` variables over the file `WXPAY_CONFIG` names, if any:
    /// [`Settings::load`] with no explicit value and [`std::env::var`].
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::load(Self::default(), |name| std::env::var(name).ok())
    }

    /// The file at `path` under the process's `WXPAY_*` variables, which win over it as they do
    /// over the CLI's `--config`: [`Settings::load`] with `path` as the explicit `config`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        let explicit = Self { config: Some(path.as_ref().to_owned()), ..Self::default() };
        Self::load(explicit, |name| std::env::var(name).ok())
    }

    /// The CLI's precedence: `explicit` values, then the variables `var` returns (a name such
    /// as `WXPAY_MCHID` to its value; an empty value counts as unset), then the TOML file named
    /// by the explicit `config` or else `WXPAY_CONFIG`. What none of them sets keeps its default.
    ///
    /// A secret's contents (`WXPAY_PRIVATE_KEY_PEM`, `WXPAY_APIV3_KEY`, `WXPAY_APIV2_KEY`,
    /// `WXPAY_CLIENT_KEY_PEM`) win over the file's path for the same secret, and are refused ([`CredentialError::Both`]) when an explicit
    /// value or a variable gives that path too.
    ///
    /// The environment is an input so that tests and embedders can pass a map;
    /// [`Settings::from_env`] passes the process's.
    pub fn load(explicit: Self, var: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let vars = Self::from_vars(var)?;
        let given = |has: fn(&Self) -> bool| has(&explicit) || has(&vars);
        if given(|s| s.private_key_pem.is_some()) && given(|s| s.private_key.is_some()) {
            return Err(Setting::PRIVATE_KEY_PEM.invalid(None, CredentialError::Both(Setting::PRIVATE_KEY)));
        }
        if given(|s| s.apiv3_key.is_some()) && given(|s| s.apiv3_key_file.is_some()) {
            return Err(Setting::APIV3_KEY.invalid(None, CredentialError::Both(Setting::APIV3_KEY_FILE)));
        }
        if given(|s| s.apiv2_key.is_some()) && given(|s| s.apiv2_key_file.is_some()) {
            return Err(Setting::APIV2_KEY.invalid(None, CredentialError::Both(Setting::APIV2_KEY_FILE)));
        }
        if given(|s| s.client_key_pem.is_some()) && given(|s| s.client_key.is_some()) {
            return Err(Setting::CLIENT_KEY_PEM.invalid(None, CredentialError::Both(Setting::CLIENT_KEY)));
        }
        let upper = explicit.or(vars);
        match upper.config.clone() {
            Some(path) => Ok(upper.or(Self::read_file(&path)?)),
            None => Ok(upper),
        }
    }

    /// The `WXPAY_*` variables alone (see [`Setting`] for their names), the secrets' contents
    /// included (whether a path is given with them is checked by [`Settings::load`]).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |setting: Setting| setting.env().and_then(&var).filter(|v| !v.is_empty());
        let seconds = |setting: Setting| get(setting).map(|v| file::seconds(setting, &v)).transpose();
        Ok(Self {
            mchid: get(Setting::MCHID),
            merchant_serial: get(Setting::MERCHANT_SERIAL),
            private_key: get(Setting::PRIVATE_KEY).map(PathBuf::from),
            private_key_pem: get(Setting::PRIVATE_KEY_PEM).map(Secret::new),
            public_key: get(Setting::PUBLIC_KEY).map(PathBuf::from),
            public_key_id: get(Setting::PUBLIC_KEY_ID),
            platform_certs: Vec::new(),
            apiv3_key_file: get(Setting::APIV3_KEY_FILE).map(PathBuf::from),
            apiv3_key: get(Setting::APIV3_KEY).map(Secret::new),
            base_url: get(Setting::BASE_URL),
            cloudpay_url: get(Setting::CLOUDPAY_URL),
            ca_cert: get(Setting::CA_CERT).map(PathBuf::from),
            request_timeout: seconds(Setting::REQUEST_TIMEOUT)?,
            connect_timeout: seconds(Setting::CONNECT_TIMEOUT)?,
            redis_url: get(Setting::REDIS_URL).map(RedisUrl),
            v2_url: get(Setting::V2_URL),
            appid: get(Setting::APPID),
            apiv2_key_file: get(Setting::APIV2_KEY_FILE).map(PathBuf::from),
            apiv2_key: get(Setting::APIV2_KEY).map(Secret::new),
            client_cert: get(Setting::CLIENT_CERT).map(PathBuf::from),
            client_key: get(Setting::CLIENT_KEY).map(PathBuf::from),
            client_key_pem: get(Setting::CLIENT_KEY_PEM).map(Secret::new),
            config: get(Setting::CONFIG).map(PathBuf::from),
        })
    }

    /// The TOML file at `path` alone: unknown keys are refused (naming the key, quoting no
    /// value) and relative paths are taken relative to the file's directory.
    pub fn read_file(path: &Path) -> Result<Self, SettingsError> {
        file::read(path)
    }

    /// These settings, with what they leave unset taken from `lower`. The public key and its
    /// id come as a pair: either one set here keeps `lower`'s pair out, so that a key is never
    /// checked under another key's id. A secret's path and its contents are a pair too: either
    /// one set here keeps `lower`'s out (a variable's contents win over the file's path). The
    /// platform certificates are a list, taken whole.
    pub fn or(mut self, lower: Self) -> Self {
        fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
            if slot.is_none() {
                *slot = value;
            }
        }
        fill(&mut self.mchid, lower.mchid);
        fill(&mut self.merchant_serial, lower.merchant_serial);
        if self.private_key.is_none() && self.private_key_pem.is_none() {
            self.private_key = lower.private_key;
            self.private_key_pem = lower.private_key_pem;
        }
        if self.public_key.is_none() && self.public_key_id.is_none() {
            self.public_key = lower.public_key;
            self.public_key_id = lower.public_key_id;
        }
        if self.platform_certs.is_empty() {
            self.platform_certs = lower.platform_certs;
        }
        if self.apiv3_key_file.is_none() && self.apiv3_key.is_none() {
            self.apiv3_key_file = lower.apiv3_key_file;
            self.apiv3_key = lower.apiv3_key;
        }
        fill(&mut self.base_url, lower.base_url);
        fill(&mut self.cloudpay_url, lower.cloudpay_url);
        fill(&mut self.ca_cert, lower.ca_cert);
        fill(&mut self.request_timeout, lower.request_timeout);
        fill(&mut self.connect_timeout, lower.connect_timeout);
        fill(&mut self.redis_url, lower.redis_url);
        fill(&mut self.v2_url, lower.v2_url);
        fill(&mut self.appid, lower.appid);
        if self.apiv2_key_file.is_none() && self.apiv2_key.is_none() {
            self.apiv2_key_file = lower.apiv2_key_file;
            self.apiv2_key = lower.apiv2_key;
        }
        fill(&mut self.client_cert, lower.client_cert);
        if self.client_key.is_none() && self.client_key_pem.is_none() {
            self.client_key = lower.client_key;
            self.client_key_pem = lower.client_key_pem;
        }
        fill(&mut self.config, lower.config);
        self
    }

    /// The API v3 base URL (WeChat Pay's when unset). Plain `http` is refused unless it is a
    /// loopback address when the [`ClientConfig`] is built ([`Settings::client_config`]).
    pub fn v3_base(&self) -> Result<BaseUrl, SettingsError> {
        Ok(BaseUrl::parse(self.base_url.as_deref().unwrap_or(BaseUrl::V3_DEFAULT))?)
    }

    /// The CloudPay base URL (the Cloud Hosting sidecar when unset).
    pub fn cloudpay_base(&self) -> Result<BaseUrl, SettingsError> {
        Ok(BaseUrl::parse(self.cloudpay_url.as_deref().unwrap_or(BaseUrl::CLOUDPAY_DEFAULT))
            .map_err(|e| e.in_field("cloudpay_url"))?)
    }

    /// The v2 API's base URL (WeChat Pay's when unset). Plain `http` is refused unless it is a
    /// loopback address when the [`ClientConfig`] is built ([`Settings::client_config`]).
    pub fn v2_base(&self) -> Result<BaseUrl, SettingsError> {
        Ok(BaseUrl::parse(self.v2_url.as_deref().unwrap_or(BaseUrl::V2_DEFAULT)).map_err(|e| e.in_field("v2_url"))?)
    }

    /// Everything a client is configured with: the three base URLs, the merchant credentials
    /// (when any of them is set), how answers are verified ([`Settings::key_mode`]), and the
    /// TLS client certificate of the v2 `/secapi/` calls ([`Settings::client_identity`], when
    /// given). The retry policy, rate limits and `User-Agent` are [`ClientConfig`]'s defaults;
    /// set them on the result. The v2 calls' signer is not part of it: see
    /// [`Settings::v2_merchant`].
    pub fn client_config(&self) -> Result<ClientConfig, SettingsError> {
        let mut config = ClientConfig::new()
            .v3_base(self.v3_base()?)?
            .cloudpay_base(self.cloudpay_base()?)
            .v2_base(self.v2_base()?)
            .map_err(|e| e.in_field("v2_url"))?
            .keys(self.key_mode()?);
        if let Some(credentials) = self.merchant_credentials()? {
            config = config.credentials(credentials);
        }
        if let Some(identity) = self.client_identity()? {
            config = config.client_identity(identity);
        }
        Ok(config)
    }

    /// The certificates of [`ca_cert`](Self::ca_cert) (a PEM file that may hold several), for
    /// the transport to trust besides the WebPKI roots; empty when unset.
    pub fn ca_roots(&self) -> Result<Vec<CertificateDer<'static>>, SettingsError> {
        match &self.ca_cert {
            Some(path) => keys::ca_roots(path),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn explicit_wins_over_variables_which_win_over_the_file_which_wins_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wxpay.toml");
        std::fs::write(
            &file,
            "mchid = \"3\"\nmerchant_serial = \"F3\"\nbase_url = \"https://file.example\"\n\
             cloudpay_url = \"http://file.example\"\nrequest_timeout = 7\n",
        )
        .unwrap();
        let env = vars(&[
            ("WXPAY_CONFIG", file.to_str().unwrap()),
            ("WXPAY_MCHID", "2"),
            ("WXPAY_BASE_URL", "https://env.example"),
            ("WXPAY_CONNECT_TIMEOUT", "0.5"),
            ("WXPAY_CLOUDPAY_URL", ""), // empty: unset
        ]);
        let explicit = Settings { mchid: Some("1".into()), ..Settings::default() };
        let s = Settings::load(explicit, &env).unwrap();
        assert_eq!(s.mchid.as_deref(), Some("1"));
        assert_eq!(s.base_url.as_deref(), Some("https://env.example"));
        assert_eq!(s.merchant_serial.as_deref(), Some("F3"));
        assert_eq!(s.cloudpay_url.as_deref(), Some("http://file.example"));
        assert_eq!(s.request_timeout, Some(Duration::from_secs(7)));
        assert_eq!(s.connect_timeout, Some(Duration::from_millis(500)));
        assert_eq!(s.config.as_deref(), Some(file.as_path()));
        // Defaults for what nothing sets.
        assert_eq!(s.public_key, None);
        let bare = Settings::load(Settings::default(), vars(&[])).unwrap();
        assert_eq!(bare, Settings::default());
        assert_eq!(bare.v3_base().unwrap().as_str(), BaseUrl::V3_DEFAULT);
        assert_eq!(bare.cloudpay_base().unwrap().as_str(), BaseUrl::CLOUDPAY_DEFAULT);
        // An explicit file wins over WXPAY_CONFIG.
        let other = dir.path().join("other.toml");
        std::fs::write(&other, "mchid = \"4\"\n").unwrap();
        let explicit = Settings { config: Some(other), ..Settings::default() };
        let s = Settings::load(explicit, vars(&[("WXPAY_CONFIG", file.to_str().unwrap())])).unwrap();
        assert_eq!(s.mchid.as_deref(), Some("4"));
        assert_eq!(s.merchant_serial, None);
    }

    #[test]
    fn the_public_key_pair_and_the_certificate_list_are_taken_whole() {
        let upper = Settings { public_key_id: Some("PUB_KEY_ID_1".into()), ..Settings::default() };
        let lower = Settings {
            public_key: Some("p.pem".into()),
            public_key_id: Some("PUB_KEY_ID_2".into()),
            platform_certs: vec!["a.pem".into(), "b.pem".into()],
            ..Settings::default()
        };
        let merged = upper.or(lower.clone());
        assert_eq!((merged.public_key, merged.public_key_id.as_deref()), (None, Some("PUB_KEY_ID_1")));
        assert_eq!(merged.platform_certs.len(), 2);
        let upper = Settings { platform_certs: vec!["c.pem".into()], ..Settings::default() };
        let merged = upper.or(lower);
        assert_eq!(merged.platform_certs, vec![PathBuf::from("c.pem")]);
        assert_eq!(merged.public_key_id.as_deref(), Some("PUB_KEY_ID_2"));
    }

    #[test]
    fn bad_timeouts_name_the_variable_and_quote_nothing() {
        let err = Settings::from_vars(vars(&[("WXPAY_REQUEST_TIMEOUT", "s3cr3t")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("WXPAY_REQUEST_TIMEOUT"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        let err = Settings::from_vars(vars(&[("WXPAY_CONNECT_TIMEOUT", "0")])).unwrap_err();
        assert!(err.to_string().contains("more than 0"), "{err}");
    }

    /// Asserts that neither `Display`, the `source()` chain nor `Debug` of `err` holds `secret`.
    fn assert_hidden(err: &SettingsError, secret: &str) {
        let mut texts = vec![err.to_string(), format!("{err:?}")];
        let mut source = std::error::Error::source(err);
        while let Some(e) = source {
            texts.push(e.to_string());
            source = e.source();
        }
        for text in texts {
            assert!(!text.contains(secret), "{text}");
        }
    }

    const PEM: &str =
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ\n-----END PRIVATE KEY-----\n";
    const APIV3: &str = "0123456789abcdefghijklmnopqrstuv";

    #[test]
    fn content_variables_are_read_hidden_and_win_over_the_files_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wxpay.toml");
        std::fs::write(&file, "private_key = \"k.pem\"\napiv3_key_file = \"v3\"\n").unwrap();
        let env = vars(&[
            ("WXPAY_CONFIG", file.to_str().unwrap()),
            ("WXPAY_PRIVATE_KEY_PEM", PEM),
            ("WXPAY_APIV3_KEY", APIV3),
        ]);
        let s = Settings::load(Settings::default(), env).unwrap();
        assert_eq!(s.private_key, None, "the variable's contents win over the file's path");
        assert_eq!(s.apiv3_key_file, None);
        assert_eq!(s.private_key_pem.as_ref().map(Secret::expose), Some(PEM.as_bytes()));
        let debug = format!("{s:?}");
        assert!(debug.contains("private_key_pem: Some(Secret(<set, not shown>))"), "{debug}");
        assert!(!debug.contains("MIIE") && !debug.contains(APIV3), "{debug}");
        // The APIv3 key from its variable is checked by the protocol's rule like the file.
        assert!(s.apiv3_key().unwrap().is_some());
        let short = Settings { apiv3_key: Some(Secret::new("0123456789")), ..Settings::default() };
        let err = short.apiv3_key().unwrap_err();
        assert_eq!(err.to_string(), "invalid setting WXPAY_APIV3_KEY");
        assert_hidden(&err, "0123456789");
        // Contents that are not a key are named by their variable, never shown.
        let s = Settings {
            mchid: Some("1900007291".into()),
            merchant_serial: Some("408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB".into()),
            ..s
        };
        let err = s.merchant_credentials().unwrap_err();
        assert!(
            matches!(&err, SettingsError::Credential { setting: Setting::PRIVATE_KEY_PEM, file: None, source }
                if matches!(**source, CredentialError::PrivateKey(_))),
            "{err:?}"
        );
        assert!(std::error::Error::source(&err).unwrap().to_string().starts_with("not a PKCS#8 private key"));
        assert_hidden(&err, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw");
    }

    #[test]
    fn contents_and_a_path_for_the_same_secret_are_refused() {
        for (env, explicit) in [
            (vec![("WXPAY_PRIVATE_KEY_PEM", PEM), ("WXPAY_PRIVATE_KEY", "k.pem")], Settings::default()),
            (
                vec![("WXPAY_PRIVATE_KEY_PEM", PEM)],
                Settings { private_key: Some("k.pem".into()), ..Settings::default() },
            ),
        ] {
            let err = Settings::load(explicit, vars(&env)).unwrap_err();
            assert_eq!(err.to_string(), "invalid setting WXPAY_PRIVATE_KEY_PEM");
            let cause = std::error::Error::source(&err).unwrap().to_string();
            assert_eq!(cause, "private_key (env WXPAY_PRIVATE_KEY) is given too; give one of them");
            assert_hidden(&err, "MIIE");
        }
        let explicit = Settings { apiv3_key: Some(Secret::new(APIV3)), ..Settings::default() };
        let err = Settings::load(explicit, vars(&[("WXPAY_APIV3_KEY_FILE", "v3")])).unwrap_err();
        assert!(matches!(&err, SettingsError::Credential { setting: Setting::APIV3_KEY, .. }), "{err:?}");
        assert_hidden(&err, APIV3);
    }

    #[test]
    fn a_secret_where_a_path_is_expected_is_refused_and_never_shown() {
        let s = Settings {
            mchid: Some("1900007291".into()),
            merchant_serial: Some("408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB".into()),
            private_key: Some(PEM.into()),
            apiv3_key_file: Some(APIV3.into()),
            ..Settings::default()
        };
        let debug = format!("{s:?}");
        assert!(!debug.contains("MIIE") && !debug.contains(APIV3), "{debug}");
        let err = s.merchant_credentials().unwrap_err();
        assert!(matches!(&err, SettingsError::Credential { setting: Setting::PRIVATE_KEY, file: None, .. }));
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.starts_with("looks like key content, not a path"), "{cause}");
        assert!(cause.ends_with("or the contents in WXPAY_PRIVATE_KEY_PEM"), "{cause}");
        assert_hidden(&err, "MIIE");
        let err = s.apiv3_key().unwrap_err();
        assert!(std::error::Error::source(&err).unwrap().to_string().ends_with("WXPAY_APIV3_KEY"), "{err:?}");
        assert_hidden(&err, APIV3);
        // The CA certificates and the config file's own path, given contents.
        let s = Settings { ca_cert: Some(PEM.into()), ..Settings::default() };
        let err = s.ca_roots().unwrap_err();
        assert!(matches!(&err, SettingsError::CaCert { file: None, .. }), "{err:?}");
        assert_hidden(&err, "MIIE");
        let toml = format!("private_key = \"{APIV3}\"\n");
        let err = Settings::load(Settings::default(), vars(&[("WXPAY_CONFIG", &toml)])).unwrap_err();
        assert!(matches!(&err, SettingsError::ReadConfig { file: None, .. }), "{err:?}");
        assert_hidden(&err, APIV3);
    }

    #[test]
    fn corrupt_files_are_named_by_kind_and_their_contents_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let base = Settings {
            mchid: Some("1900007291".into()),
            merchant_serial: Some("408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB".into()),
            ..Settings::default()
        };
        let cause = |s: &Settings| {
            let err = s.merchant_credentials().unwrap_err();
            assert_hidden(&err, "MIIE");
            let SettingsError::Credential { file, source, .. } = err else { panic!("{err:?}") };
            (file, source.to_string())
        };
        // A directory.
        let s = Settings { private_key: Some(dir.path().to_owned()), ..base.clone() };
        assert_eq!(cause(&s), (Some(dir.path().to_owned()), "not a file".to_owned()));
        // Not UTF-8, and not a key: the file is a path, so it is named.
        let not_utf8 = dir.path().join("not-utf8.pem");
        let mut bytes = PEM.as_bytes().to_vec();
        bytes[40] = 0xFF;
        std::fs::write(&not_utf8, bytes).unwrap();
        let s = Settings { private_key: Some(not_utf8.clone()), ..base.clone() };
        assert_eq!(cause(&s), (Some(not_utf8), "not a PKCS#8 private key: not PEM text".to_owned()));
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, PEM).unwrap();
        let s = Settings { private_key: Some(garbage.clone()), ..base };
        let (file, text) = cause(&s);
        assert_eq!(file, Some(garbage));
        assert!(text.starts_with("not a PKCS#8 private key"), "{text}");
        // A CA file whose PEM does not parse: the reader's error is not quoted.
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIE!!not base64\n-----END CERTIFICATE-----\n").unwrap();
        let err = Settings { ca_cert: Some(ca.clone()), ..Settings::default() }.ca_roots().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid ca_cert (env WXPAY_CA_CERT) {}: not PEM certificates", ca.display())
        );
        assert_hidden(&err, "MIIE");
    }

    const APIV2: &str = "192006250b4c09247ec02edce69f6a2d";

    #[test]
    fn the_v2_settings_load_in_the_same_precedence_and_make_a_merchant() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("apiv2_key");
        std::fs::write(&key_file, format!("{APIV2}\n")).unwrap();
        let file = dir.path().join("wxpay.toml");
        std::fs::write(
            &file,
            "mchid = \"1900000100\"\nappid = \"wxfile\"\napiv2_key_file = \"apiv2_key\"\n\
             v2_url = \"https://file.example\"\nclient_cert = \"c.pem\"\nclient_key = \"k.pem\"\n",
        )
        .unwrap();
        let env = vars(&[("WXPAY_CONFIG", file.to_str().unwrap()), ("WXPAY_APPID", "wx8888888888888888")]);
        let s = Settings::load(Settings::default(), env).unwrap();
        assert_eq!(s.appid.as_deref(), Some("wx8888888888888888"), "variable > file");
        assert_eq!(s.apiv2_key_file, Some(key_file.clone()), "relative to the file");
        assert_eq!(s.client_cert, Some(dir.path().join("c.pem")));
        assert_eq!(s.client_key, Some(dir.path().join("k.pem")));
        assert_eq!(s.v2_base().unwrap().as_str(), "https://file.example");
        let merchant = s.v2_merchant().unwrap();
        assert_eq!((merchant.mch_id().as_str(), merchant.appid().as_str()), ("1900000100", "wx8888888888888888"));
        assert_eq!(Settings::default().v2_base().unwrap().as_str(), BaseUrl::V2_DEFAULT);
        // Missing ones are named in order, and an invalid appid by the protocol's rule.
        let err = Settings::default().v2_merchant().unwrap_err();
        assert_eq!(err.to_string(), "missing setting mchid (env WXPAY_MCHID)");
        let s = Settings { mchid: Some("1900000100".into()), appid: Some("wx1".into()), ..Settings::default() };
        assert_eq!(
            s.v2_merchant().unwrap_err().to_string(),
            "missing setting apiv2_key_file (env WXPAY_APIV2_KEY_FILE)"
        );
        let s = Settings { appid: Some("wx-1".into()), apiv2_key: Some(Secret::new(APIV2)), ..s };
        assert!(s.v2_merchant().unwrap_err().to_string().contains("appid"));
        // A plain-http v2 URL off loopback is refused, naming v2_url.
        let s = Settings { v2_url: Some("http://api.example.com".into()), ..Settings::default() };
        assert!(s.client_config().unwrap_err().to_string().contains("v2_url"), "{:?}", s.client_config());
    }

    #[test]
    fn the_apiv2_key_content_variable_is_hidden_and_never_taken_with_its_path() {
        let s = Settings::load(Settings::default(), vars(&[("WXPAY_APIV2_KEY", APIV2)])).unwrap();
        assert!(s.apiv2_key().unwrap().is_some());
        let debug = format!("{s:?}");
        assert!(debug.contains("apiv2_key: Some(Secret(<set, not shown>))") && !debug.contains(APIV2), "{debug}");
        let err =
            Settings::load(Settings::default(), vars(&[("WXPAY_APIV2_KEY", APIV2), ("WXPAY_APIV2_KEY_FILE", "k")]))
                .unwrap_err();
        assert_eq!(err.to_string(), "invalid setting WXPAY_APIV2_KEY");
        assert_hidden(&err, APIV2);
        // The variable's contents win over the file's path.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wxpay.toml");
        std::fs::write(&file, "apiv2_key_file = \"v2\"\nclient_key = \"k.pem\"\n").unwrap();
        let env = vars(&[
            ("WXPAY_CONFIG", file.to_str().unwrap()),
            ("WXPAY_APIV2_KEY", APIV2),
            ("WXPAY_CLIENT_KEY_PEM", PEM),
        ]);
        let s = Settings::load(Settings::default(), env).unwrap();
        assert_eq!((s.apiv2_key_file, s.client_key), (None, None));
        // A short key: named by its variable, not shown.
        let s = Settings { apiv2_key: Some(Secret::new("0123456789")), ..Settings::default() };
        let err = s.apiv2_key().unwrap_err();
        assert_eq!(err.to_string(), "invalid setting WXPAY_APIV2_KEY");
        assert_hidden(&err, "0123456789");
        // The key where its file's path is expected.
        let s = Settings { apiv2_key_file: Some(APIV2.into()), ..Settings::default() };
        assert!(!format!("{s:?}").contains(APIV2));
        let err = s.apiv2_key().unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.starts_with("looks like key content, not a path"), "{cause}");
        assert!(cause.ends_with("or the contents in WXPAY_APIV2_KEY"), "{cause}");
        assert_hidden(&err, APIV2);
        assert_hidden(&err, "1920062");
    }

    #[test]
    fn the_client_identity_needs_both_files_and_names_the_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["merchant".into()]).unwrap().self_signed(&key).unwrap();
        let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        assert!(Settings::default().client_identity().unwrap().is_none());
        let s = Settings { client_cert: Some(cert_file.clone()), ..Settings::default() };
        assert_eq!(s.client_identity().unwrap_err().to_string(), "missing setting client_key (env WXPAY_CLIENT_KEY)");
        let s = Settings { client_key_pem: Some(Secret::new(key.serialize_pem())), ..Settings::default() };
        assert_eq!(s.client_identity().unwrap_err().to_string(), "missing setting client_cert (env WXPAY_CLIENT_CERT)");
        let s = Settings { client_cert: Some(cert_file.clone()), ..s };
        assert_eq!(s.client_identity().unwrap().unwrap().certificate_chain().len(), 1);
        let s = Settings {
            client_cert: Some(cert_file.clone()),
            client_key: Some(key_file.clone()),
            ..Settings::default()
        };
        assert!(s.client_config().unwrap().tls_client_identity().is_some());
        // Swapped: the certificate file holds no certificate.
        let s = Settings { client_cert: Some(key_file.clone()), client_key: Some(cert_file.clone()), ..s };
        let err = s.client_identity().unwrap_err();
        assert!(matches!(&err, SettingsError::Credential { setting: Setting::CLIENT_CERT, .. }), "{err:?}");
        // The key's contents where its path is expected: refused, not shown.
        let pem = key.serialize_pem();
        let s = Settings { client_cert: Some(cert_file), client_key: Some(pem.clone().into()), ..Settings::default() };
        let err = s.client_identity().unwrap_err();
        assert!(matches!(&err, SettingsError::Credential { setting: Setting::CLIENT_KEY, file: None, .. }), "{err:?}");
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.ends_with("or the contents in WXPAY_CLIENT_KEY_PEM"), "{cause}");
        assert_hidden(&err, &pem[30..60]);
        let err = Settings::load(
            Settings { client_key: Some("k.pem".into()), ..Settings::default() },
            vars(&[("WXPAY_CLIENT_KEY_PEM", &pem)]),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "invalid setting WXPAY_CLIENT_KEY_PEM");
    }

    #[test]
    fn a_plain_http_v3_url_is_refused_by_the_protocol_rule() {
        let s = Settings { base_url: Some("http://api.example.com".into()), ..Settings::default() };
        let err = s.client_config().unwrap_err();
        assert!(matches!(err, SettingsError::Invalid(_)), "{err:?}");
        let s = Settings { cloudpay_url: Some("not a url".into()), ..Settings::default() };
        assert!(s.client_config().unwrap_err().to_string().contains("cloudpay_url"));
    }
}
