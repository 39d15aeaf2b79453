//! A client's configuration and the state its clones share: the keys (which a certificate
//! download updates), the refresh state and the rate limiter.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Duration;

use super::backoff::RetryPolicy;
use super::budget::{Permit, SharedBudget};
use super::limiter::RateLimiter;
use crate::endpoint::BaseUrl;
use crate::error::{Error, UnverifiedResponse, ValidationError};
use crate::operation::{Api, OperationSpec};
use crate::security::{
    self, Apiv3Key, CertificateError, ClientIdentity, KeySet, MerchantCredentials, RefreshDecision, RefreshPolicy,
    RefreshState,
};

/// How answers are verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeyMode {
    /// With the keys given: WeChat Pay public keys and/or platform certificates.
    Static(KeySet),
    /// Platform certificates downloaded with the APIv3 key on first use and refreshed by the
    /// [`RefreshPolicy`]; the keys given are kept beside them (migration).
    Certificates {
        /// The APIv3 key.
        apiv3_key: Apiv3Key,
        /// Keys held from the start.
        keys: KeySet,
    },
}

/// Everything a client is configured with.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub(crate) v3_base: BaseUrl,
    pub(crate) cloudpay_base: BaseUrl,
    pub(crate) v2_base: BaseUrl,
    pub(crate) client_identity: Option<ClientIdentity>,
    pub(crate) credentials: Option<MerchantCredentials>,
    pub(crate) keys: KeyMode,
    pub(crate) refresh: RefreshPolicy,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: RateLimiter,
    pub(crate) shared_budget: Option<Arc<dyn SharedBudget>>,
    pub(crate) user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientConfig {
    /// WeChat Pay's v3 endpoint, the Cloud Hosting sidecar for CloudPay, no v3 credentials, no
    /// keys, the default retry policy and the documented rate limits.
    pub fn new() -> Self {
        Self {
            v3_base: BaseUrl::v3_default(),
            cloudpay_base: BaseUrl::cloudpay_default(),
            v2_base: BaseUrl::v2_default(),
            client_identity: None,
            credentials: None,
            keys: KeyMode::Static(KeySet::new()),
            refresh: RefreshPolicy::default(),
            retry: RetryPolicy::default(),
            limiter: RateLimiter::documented(),
            shared_budget: None,
            user_agent: security::default_user_agent(),
        }
    }

    /// The API v3 base URL: `https`, or plain `http` to a loopback address only
    /// ([`BaseUrl::check_v3`]); anything else is refused here, before any request exists.
    ///
    /// ```
    /// use wxpay_protocol::{client::ClientConfig, BaseUrl, Rule};
    /// let config = ClientConfig::new().v3_base(BaseUrl::parse("http://127.0.0.1:8443")?)?;
    /// let refused = ClientConfig::new().v3_base(BaseUrl::parse("http://api.example.com")?).unwrap_err();
    /// assert_eq!(refused.rule(), &Rule::PlainHttp);
    /// # let _ = config;
    /// # Ok::<(), wxpay_protocol::ValidationError>(())
    /// ```
    pub fn v3_base(mut self, base: BaseUrl) -> Result<Self, ValidationError> {
        base.check_v3()?;
        self.v3_base = base;
        Ok(self)
    }

    /// The CloudPay base URL.
    pub fn cloudpay_base(mut self, base: BaseUrl) -> Self {
        self.cloudpay_base = base;
        self
    }

    /// The v2 base URL ([`crate::v2`]), under the same rule as
    /// [`v3_base`](Self::v3_base): `https`, or plain `http` to a loopback address.
    pub fn v2_base(mut self, base: BaseUrl) -> Result<Self, ValidationError> {
        base.check_v3()?;
        self.v2_base = base;
        Ok(self)
    }

    /// The merchant API certificate and key that the transports present as a TLS client
    /// certificate (the v2 calls under `/secapi/` need it; a server that does not ask for
    /// one never sees it).
    pub fn client_identity(mut self, identity: ClientIdentity) -> Self {
        self.client_identity = Some(identity);
        self
    }

    /// The TLS client certificate, if configured.
    pub fn tls_client_identity(&self) -> Option<&ClientIdentity> {
        self.client_identity.as_ref()
    }

    /// The merchant credentials that sign v3 requests.
    pub fn credentials(mut self, credentials: MerchantCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// How answers are verified.
    pub fn keys(mut self, keys: KeyMode) -> Self {
        self.keys = keys;
        self
    }

    /// When certificates are downloaded again.
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.refresh = policy;
        self
    }

    /// How failures are retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Client-side rate limits ([`RateLimiter::off`] for none).
    pub fn rate_limits(mut self, limiter: RateLimiter) -> Self {
        self.limiter = limiter;
        self
    }

    /// Obtains rate-limit slots from `budget`, a budget shared with other processes (Redis:
    /// `wxpay-ratelimit-redis`), instead of this process's own: the limits stay those of
    /// [`rate_limits`](Self::rate_limits), counted for every process that shares the budget.
    pub fn shared_budget(mut self, budget: Arc<dyn SharedBudget>) -> Self {
        self.shared_budget = Some(budget);
        self
    }

    /// Appends `suffix` to the `User-Agent` (which keeps naming the SDK).
    pub fn user_agent_suffix(mut self, suffix: &str) -> Self {
        self.user_agent = format!("{} {suffix}", security::default_user_agent());
        self
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }
}

/// A client's configuration and the state every clone of it shares.
#[derive(Debug)]
pub struct ClientCore {
    pub(crate) config: ClientConfig,
    keys: RwLock<KeySet>,
    refresh: Mutex<RefreshState>,
    limiter: Mutex<RateLimiter>,
}

/// Locks without giving up on a poisoned lock: the data behind these locks stays consistent
/// between statements, so a panic elsewhere cannot leave it half-written.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ClientCore {
    /// The shared state of a client configured with `config`.
    pub fn new(config: ClientConfig) -> Self {
        let keys = match &config.keys {
            KeyMode::Static(k) | KeyMode::Certificates { keys: k, .. } => k.clone(),
        };
        let limiter = config.limiter.clone();
        Self { config, keys: RwLock::new(keys), refresh: Mutex::default(), limiter: Mutex::new(limiter) }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The keys answers are verified with now.
    pub fn keys(&self) -> RwLockReadGuard<'_, KeySet> {
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn base_for(&self, spec: &OperationSpec) -> &BaseUrl {
        match spec.api {
            Api::V3 => &self.config.v3_base,
            Api::CloudPay => &self.config.cloudpay_base,
            Api::V2 => &self.config.v2_base,
        }
    }

    pub(crate) fn apiv3_key(&self) -> Option<&Apiv3Key> {
        match &self.config.keys {
            KeyMode::Certificates { apiv3_key, .. } => Some(apiv3_key),
            KeyMode::Static(_) => None,
        }
    }

    pub(crate) fn reserve(&self, spec: &OperationSpec, sub_merchant: Option<&str>, now: Duration) -> Duration {
        lock(&self.limiter).reserve(spec, sub_merchant, now)
    }

    /// The permit a call of `spec` naming `sub_merchant` needs from a shared budget, if the
    /// operation is limited.
    pub(crate) fn permit(&self, spec: &OperationSpec, sub_merchant: Option<&str>) -> Option<Permit> {
        let limit = lock(&self.limiter).limit(spec.name)?;
        let permit = Permit::new(spec.name, spec.rate_subject(sub_merchant), limit.qps);
        Some(match &self.config.credentials {
            Some(credentials) => permit.merchant(credentials.mchid().as_str()),
            None => permit,
        })
    }

    pub(crate) fn scheduled_refresh(&self, unix: i64) -> RefreshDecision {
        lock(&self.refresh).scheduled(&self.config.refresh, unix)
    }

    pub(crate) fn unknown_serial(&self, unix: i64) -> RefreshDecision {
        lock(&self.refresh).on_unknown_serial(&self.config.refresh, unix)
    }

    /// Takes a certificate download: decrypts it, verifies its signature with the certificates
    /// it carries and the keys already held, then adds the certificates. On failure the keys
    /// already held stay (a failed download never leaves the client unusable).
    pub(crate) fn accept_certificates(&self, response: &http::Response<Vec<u8>>, unix: i64) -> Result<(), Error> {
        let result = self.decrypt_and_verify(response, unix);
        let mut refresh = lock(&self.refresh);
        match result {
            Ok(certificates) => {
                refresh.record_success(unix, certificates.iter().map(|c| c.expire_time.unix_timestamp()));
                let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
                for c in certificates {
                    keys.insert(c.key);
                }
                Ok(())
            }
            Err(e) => {
                refresh.record_failure(unix);
                Err(e)
            }
        }
    }

    fn decrypt_and_verify(
        &self,
        response: &http::Response<Vec<u8>>,
        unix: i64,
    ) -> Result<Vec<security::PlatformCertificate>, Error> {
        let Some(apiv3_key) = self.apiv3_key() else { return Ok(Vec::new()) };
        let answer = security::CertificatesResponse::parse_before_verification(response)?;
        let certificates = answer.decrypt(apiv3_key).map_err(|e| certificate_error(e, response))?;
        let mut keys = self.keys().clone();
        for c in &certificates {
            keys.insert(c.key.clone());
        }
        security::verify_response(response, unix, &keys).map_err(|e| UnverifiedResponse::new(e, response))?;
        Ok(certificates)
    }

    pub(crate) fn record_download_failure(&self, unix: i64) {
        lock(&self.refresh).record_failure(unix);
    }

    pub(crate) fn has_keys(&self) -> bool {
        !self.keys().is_empty()
    }
}

/// A certificate that cannot be decrypted or read makes the download answer malformed.
fn certificate_error(e: CertificateError, response: &http::Response<Vec<u8>>) -> Error {
    let kind = crate::error::MalformedKind::Inconsistent(format!("certificate download: {e}"));
    Error::Malformed(crate::error::MalformedResponse::new(kind, response.status(), response.body()).with_source(e))
}
