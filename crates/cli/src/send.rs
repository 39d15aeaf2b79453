//! Send mode: the validated request goes out through `wxpay-transport-hyper`'s async client on a
//! tokio runtime the CLI starts, and the typed answer comes back.
//!
//! The client does everything that is a rule (rate limits, signing, certificate download,
//! verification, parsing, safe retries with the same merchant numbers); this module only
//! resolves what the client is configured with (endpoints, credentials, keys, extra roots, from
//! flags, the environment, a config file, or an embedded sandbox) and calls it.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use wxpay_protocol::client::{ClientConfig, KeyMode, RetryPolicy};
use wxpay_protocol::{Api, BaseUrl, Operation};
use wxpay_ratelimit_redis::{Options, RedisBudget};
use wxpay_sandbox::{Sandbox, SandboxConfig};
use wxpay_transport_hyper::Client;

use crate::args::{CommonArgs, V2Args, V3Args};
use crate::exit::CliError;
use crate::ops::{CliOperation, Flags};
use crate::request::Endpoints;
use crate::run::Report;
use crate::{credentials, render};

/// What the client is built from.
#[derive(Debug)]
struct Setup {
    /// Endpoints, credentials, keys, retries.
    config: ClientConfig,
    /// Roots trusted besides the WebPKI roots.
    roots: Vec<CertificateDer<'static>>,
}

/// What every client gets: the retry policy of `--max-attempts` and a `User-Agent` naming the
/// CLI after the SDK.
fn base_config(common: &CommonArgs, budget: Option<&Arc<RedisBudget>>) -> ClientConfig {
    let mut config = ClientConfig::new().user_agent_suffix(concat!("wxpay-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(attempts) = common.max_attempts {
        config = config.retry_policy(RetryPolicy::new().max_attempts(attempts));
    }
    if let Some(budget) = budget {
        config = config.shared_budget(budget.clone());
    }
    config
}

/// The budget of `--redis`, if given (the URL is never printed: it may hold a password).
pub(crate) fn redis_budget(common: &CommonArgs) -> Result<Option<Arc<RedisBudget>>, CliError> {
    let Some(url) = &common.redis else { return Ok(None) };
    let mut options = Options::default();
    if let Some(wait) = common.redis_wait {
        options = options.unavailable_after(wait);
    }
    Ok(Some(Arc::new(RedisBudget::open(url, options).map_err(CliError::Redis)?)))
}

/// The certificates of `--ca-cert` (a PEM file that may hold several), read by `wxpay-settings`.
fn ca_roots(common: &CommonArgs) -> Result<Vec<CertificateDer<'static>>, CliError> {
    let mut settings = wxpay_settings::Settings::default();
    settings.ca_cert.clone_from(&common.ca_cert);
    Ok(settings.ca_roots()?)
}

/// The set-up from flags, variables and the config file, checked before anything is sent: the
/// endpoint the call uses, for API v3 the merchant's credentials and a way to verify answers,
/// and for the v2 wire the merchant that signs (checked here so that a batch reports a missing
/// one once) and the TLS client certificate, if given (the finish needs it; the client says so
/// before sending).
fn prepare(
    common: &CommonArgs,
    v3: Option<&V3Args>,
    v2: Option<&V2Args>,
    api: Api,
    budget: Option<&Arc<RedisBudget>>,
) -> Result<Setup, CliError> {
    let endpoints = Endpoints::from_args(common, v2)?;
    let mut config = base_config(common, budget).cloudpay_base(endpoints.cloudpay.clone());
    if api == Api::V3 {
        // The protocol refuses a plain-http v3 URL that is not loopback (`Rule::PlainHttp`).
        config = config.v3_base(endpoints.v3.clone())?;
        if let Some(v3) = v3 {
            let merchant = credentials::merchant(v3)?;
            let keys = credentials::verifying_keys(v3)?;
            let mode = match credentials::apiv3_key(v3)? {
                Some(apiv3_key) => KeyMode::Certificates { apiv3_key, keys },
                None if keys.is_empty() => return Err(CliError::NoVerifyingKeys),
                None => KeyMode::Static(keys),
            };
            config = config.credentials(merchant).keys(mode);
        }
    }
    if let (Api::V2, Some(v2)) = (api, v2) {
        config = config.v2_base(endpoints.v2.clone()).map_err(|e| e.in_field("v2_url"))?;
        crate::ops::v2::merchant(v2)?;
        if let Some(identity) = crate::ops::v2::settings(v2).client_identity()? {
            config = config.client_identity(identity);
        }
    }
    Ok(Setup { config, roots: ca_roots(common)? })
}

/// The set-up for the embedded sandbox: its URLs, its merchant credentials, its public key and
/// platform certificate, and its CA.
fn prepare_sandbox(
    common: &CommonArgs,
    sandbox: &Sandbox,
    budget: Option<&Arc<RedisBudget>>,
) -> Result<Setup, CliError> {
    let base = |url: Option<String>| BaseUrl::parse(&url.unwrap_or_default());
    let mut config = base_config(common, budget)
        .v3_base(base(sandbox.https_url())?)?
        .cloudpay_base(base(sandbox.http_url())?)
        .v2_base(base(sandbox.https_url())?)?
        .client_identity(sandbox.client_identity().map_err(CliError::EmbeddedSandbox)?)
        .keys(KeyMode::Static(sandbox.keys().wechatpay_keys().map_err(CliError::EmbeddedSandbox)?));
    if let Some(credentials) = sandbox.keys().merchant_credentials() {
        config = config.credentials(credentials);
    }
    let mut roots = ca_roots(common)?;
    roots.extend(CertificateDer::pem_slice_iter(sandbox.tls_ca_pem().as_bytes()).filter_map(Result::ok));
    Ok(Setup { config, roots })
}

/// The client of `setup`.
fn build(setup: Setup, common: &CommonArgs) -> Result<Client, CliError> {
    let mut builder = Client::builder().config(setup.config);
    for root in setup.roots {
        builder = builder.add_root_certificate(root);
    }
    if let Some(timeout) = common.request_timeout {
        builder = builder.request_timeout(timeout);
    }
    if let Some(timeout) = common.connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    builder.build().map_err(CliError::Client)
}

/// Runs `work` with a client for calls on `api`, configured from the flags of `flags`, on a
/// tokio runtime started here; with `--sandbox`, an embedded sandbox runs beside it for the
/// duration. Settings are checked before the runtime starts.
pub(crate) fn with_client<T>(
    flags: &impl Flags,
    api: Api,
    work: impl AsyncFnOnce(&Client) -> T,
) -> Result<T, CliError> {
    with_client_and_budget(flags, api, redis_budget(flags.common())?, work)
}

/// [`with_client`] with the `--redis` budget already opened (a batch watches it for its
/// progress line).
pub(crate) fn with_client_and_budget<T>(
    flags: &impl Flags,
    api: Api,
    budget: Option<Arc<RedisBudget>>,
    work: impl AsyncFnOnce(&Client) -> T,
) -> Result<T, CliError> {
    let common = flags.common();
    let prepared =
        if common.sandbox { None } else { Some(prepare(common, flags.v3(), flags.v2(), api, budget.as_ref())?) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    runtime.block_on(async {
        let (setup, sandbox) = match prepared {
            Some(setup) => (setup, None),
            None => {
                let sandbox = Sandbox::start(SandboxConfig::new()).await.map_err(CliError::EmbeddedSandbox)?;
                eprintln!(
                    "note: --sandbox: sending to an embedded sandbox ({}, {}) with its test-only keys",
                    sandbox.http_url().unwrap_or_default(),
                    sandbox.https_url().unwrap_or_default()
                );
                flags.adopt_sandbox(&sandbox)?;
                (prepare_sandbox(common, &sandbox, budget.as_ref())?, Some(sandbox))
            }
        };
        let client = build(setup, common);
        let result = match client {
            Ok(client) => Ok(work(&client).await),
            Err(e) => Err(e),
        };
        if let Some(sandbox) = sandbox {
            sandbox.shutdown().await;
        }
        result
    })
}

/// Send mode: sends the request of `command` and prints its answer as a table, or as JSON with
/// `--json`.
pub(crate) fn one<C: CliOperation>(command: &C) -> Result<Report, CliError> {
    let common = command.common();
    // Checked before anything starts; with `--sandbox`, built once the embedded sandbox has
    // lent what it needs (the v2 wire's merchant).
    let op = if common.sandbox { None } else { Some(command.request()?) };
    let shown = with_client(command, C::Op::SPEC.api, async |client| {
        let op = match op {
            Some(op) => op,
            None => command.request()?,
        };
        command.send(client, op).await
    })??;
    let stdout = if common.json { render::json_line(&shown.json)? } else { shown.table };
    Ok(Report::new(stdout))
}
