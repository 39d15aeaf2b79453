//! The sandbox's command line, shared by the `wxpay-sandbox` binary and `wxpay sandbox`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use wxpay_protocol::cloudpay::{KeyCase, ListStyle, NumberStyle, ReplyShape};

use crate::{Fixtures, KeyFileArgs, Sandbox, SandboxConfig, SandboxError, SandboxKeys, Settle};

/// The flags of `wxpay-sandbox`.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address of the plain HTTP listener (CloudPay, and v3 over HTTP), or `off`.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR|off")]
    pub listen: String,
    /// Address of the HTTPS listener (self-signed certificate generated at start), or `off`.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR|off")]
    pub tls: String,
    /// The merchant id v3 requests must carry.
    #[arg(long, default_value = crate::DEFAULT_MCHID)]
    pub mchid: String,
    /// The serial of the merchant's API certificate (with --merchant-public-key).
    #[arg(long, requires = "merchant_public_key")]
    pub merchant_serial: Option<String>,
    /// The merchant's public key (SPKI PEM) or API certificate, to verify requests with.
    #[arg(long, value_name = "FILE", requires = "merchant_serial", requires = "apiv3_key_file")]
    pub merchant_public_key: Option<PathBuf>,
    /// WeChat Pay public-key mode: the private key that signs answers (with --public-key-id).
    #[arg(long, value_name = "FILE", requires = "public_key_id")]
    pub platform_private_key: Option<PathBuf>,
    /// The `PUB_KEY_ID_...` of --platform-private-key.
    #[arg(long, value_name = "ID", requires = "platform_private_key")]
    pub public_key_id: Option<String>,
    /// Platform-certificate mode: the certificate (with --platform-cert-key).
    #[arg(long, value_name = "FILE", requires = "platform_cert_key")]
    pub platform_cert: Option<PathBuf>,
    /// The platform certificate's private key.
    #[arg(long, value_name = "FILE", requires = "platform_cert")]
    pub platform_cert_key: Option<PathBuf>,
    /// The APIv3 key (32 bytes) the certificate download is encrypted with.
    #[arg(long, value_name = "FILE")]
    pub apiv3_key_file: Option<PathBuf>,
    /// The API v2 key (32 characters) v2 requests are verified and answers signed with
    /// (default: generated, kept in the key directory as `apiv2_key`).
    #[arg(long, value_name = "FILE")]
    pub apiv2_key_file: Option<PathBuf>,
    /// The app id v2 requests must carry as `appid`.
    #[arg(long, value_name = "ID", default_value = crate::DEFAULT_APPID)]
    pub appid: String,
    /// PEM certificates trusted for TLS client authentication on `/secapi/` paths (default: the
    /// merchant certificate the sandbox makes, `merchant_cert` in its JSON line).
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// The data to serve (the form of the shipped fixtures/default.json).
    #[arg(long, value_name = "FILE")]
    pub fixtures: Option<PathBuf>,
    /// A QPS limit: OP=N, OP a CloudPay path name, a v3 or a v2 operation name (repeatable;
    /// defaults: profitsharingreturnquery=30, profitsharingfinish=60,
    /// pay/profitsharingreturnquery=30, secapi/pay/profitsharingfinish=60).
    #[arg(long, value_name = "OP=N", value_parser = parse_qps)]
    pub qps: Vec<(String, u32)>,
    /// Where the keys (test-only) and the TLS CA certificate are kept: a set found there is
    /// reused, an empty or missing directory gets a new one (default: a temporary directory,
    /// removed at exit).
    #[arg(long, value_name = "DIR")]
    pub key_dir: Option<PathBuf>,
    /// Wrap CloudPay answers in {"errcode","errmsg","respdata"}.
    #[arg(long)]
    pub cloudpay_wrapped: bool,
    /// Key case of CloudPay answers.
    #[arg(long, value_enum, default_value_t = Keys::Snake)]
    pub cloudpay_keys: Keys,
    /// How CloudPay refund lists are written.
    #[arg(long, value_enum, default_value_t = Lists::Indexed)]
    pub cloudpay_lists: Lists,
    /// Write CloudPay integers as strings of digits.
    #[arg(long)]
    pub cloudpay_numbers_as_strings: bool,
    /// Orders that start PROCESSING settle after this many queries (default: each fixture's own).
    #[arg(long, value_name = "N", conflicts_with = "settle_after_secs")]
    pub settle_after_queries: Option<u32>,
    /// Orders that start PROCESSING settle this many seconds after their first query.
    #[arg(long, value_name = "SECONDS")]
    pub settle_after_secs: Option<i64>,
    /// Send profit-sharing notifications to this http:// URL (when an order's receivers or a
    /// return settle, and on `POST /_sandbox/notify`), retried on WeChat Pay's schedule.
    #[arg(long, value_name = "URL")]
    pub notify_url: Option<String>,
    /// Multiply the notification retry schedule (15s, 15s, 30s, 3m, ... 6h) by this factor
    /// (0.001: 15 ms, 15 ms, 30 ms, ...).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, requires = "notify_url")]
    pub notify_time_scale: f64,
}

/// CloudPay key case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Keys {
    /// `return_code`.
    Snake,
    /// `returnCode`, as wx-server-sdk hands it to cloud functions.
    Camel,
}

/// CloudPay list style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lists {
    /// `refund_id_0`.
    Indexed,
    /// `refund_id_list`.
    Arrays,
}

fn parse_qps(s: &str) -> Result<(String, u32), String> {
    let (op, n) = s.split_once('=').ok_or("expected OP=N")?;
    if wxpay_protocol::operation_named(op).is_none() {
        let names: Vec<_> = wxpay_protocol::operations().map(|spec| spec.name).collect();
        return Err(format!("unknown operation {op:?}; one of {}", names.join(", ")));
    }
    Ok((op.to_owned(), n.parse().map_err(|_| format!("{n:?} is not a whole number"))?))
}

fn listen(addr: &str) -> Result<Option<SocketAddr>, SandboxError> {
    match addr {
        "off" => Ok(None),
        _ => addr.parse().map(Some).map_err(|_| SandboxError::Config("--listen and --tls take ADDR:PORT or off")),
    }
}

impl SandboxArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> Result<SandboxConfig, SandboxError> {
        let mut config = SandboxConfig::new()
            .http(listen(&self.listen)?)
            .https(listen(&self.tls)?)
            .mchid(&self.mchid)
            .appid(&self.appid);
        if let Some(path) = &self.apiv2_key_file {
            config = config.apiv2_key_file(path);
        }
        if let Some(path) = &self.client_ca {
            config = config.client_ca_file(path);
        }
        if let (Some(key), Some(serial), Some(apiv3)) =
            (&self.merchant_public_key, &self.merchant_serial, &self.apiv3_key_file)
        {
            config = config.keys(SandboxKeys::from_files(&KeyFileArgs {
                mchid: self.mchid.clone(),
                merchant_serial: serial.clone(),
                merchant_public_key: key.clone(),
                platform_private_key: self.platform_private_key.clone(),
                public_key_id: self.public_key_id.clone(),
                platform_cert: self.platform_cert.clone(),
                platform_cert_key: self.platform_cert_key.clone(),
                apiv3_key_file: apiv3.clone(),
            })?);
        } else if self.platform_private_key.is_some() || self.platform_cert.is_some() || self.apiv3_key_file.is_some() {
            return Err(SandboxError::Config(
                "key files need --merchant-public-key, --merchant-serial and --apiv3-key-file",
            ));
        }
        config = match &self.key_dir {
            Some(dir) => config.key_dir(dir),
            None => config.temporary_key_dir(),
        };
        if let Some(path) = &self.fixtures {
            config = config.fixtures(Fixtures::from_file(path)?);
        }
        for (op, n) in &self.qps {
            config = config.qps(op.clone(), *n);
        }
        let shape = ReplyShape::new()
            .wrapped(self.cloudpay_wrapped)
            .key_case(if self.cloudpay_keys == Keys::Camel { KeyCase::Camel } else { KeyCase::Snake })
            .list_style(if self.cloudpay_lists == Lists::Arrays { ListStyle::Arrays } else { ListStyle::Indexed })
            .number_style(if self.cloudpay_numbers_as_strings { NumberStyle::Strings } else { NumberStyle::Numbers });
        config = config.reply_shape(shape);
        if let Some(n) = self.settle_after_queries {
            config = config.settle(Settle::AfterQueries(n));
        }
        if let Some(s) = self.settle_after_secs {
            config = config.settle(Settle::AfterSeconds(s));
        }
        if let Some(url) = &self.notify_url {
            config = config.notify_url(url).notify_time_scale(self.notify_time_scale);
        }
        Ok(config)
    }

    /// Starts the sandbox with its keys in `--key-dir` (reused or generated) or in a temporary
    /// directory, prints one JSON line describing it on stdout and one line for people on
    /// stderr, and serves until Ctrl-C or SIGTERM; then it stops and removes the temporary
    /// directory.
    pub async fn run_foreground(&self) -> Result<(), SandboxError> {
        let config = self.config()?;
        for (flag, addr) in [("--listen", &self.listen), ("--tls", &self.tls)] {
            if let Ok(Some(a)) = listen(addr)
                && !a.ip().is_loopback()
            {
                eprintln!("warning: {flag} {a} is reachable from other machines; the sandbox's keys are test-only");
            }
        }
        // Installed before the line is printed: a signal sent as soon as it is read stops the
        // sandbox cleanly instead of killing it with its temporary directory left behind.
        let stop = Stop::install();
        let sandbox = Sandbox::start(config).await?;
        let mut line = sandbox.info().clone();
        if let (Some(object), Some(key_dir)) = (line.as_object_mut(), sandbox.key_dir()) {
            object.insert("key_dir".into(), serde_json::json!(key_dir.files.dir));
            object.insert("key_dir_origin".into(), serde_json::json!(key_dir.origin.as_str()));
            object.insert("files".into(), serde_json::to_value(&key_dir.files).unwrap_or_default());
        }
        if let Some(object) = line.as_object_mut() {
            // What a v2 client needs besides `mchid` and `appid` (docs/sandbox.md, "The v2 wire").
            let files = sandbox.v2_keys().files();
            object.insert("apiv2_key".into(), serde_json::json!(files.apiv2_key));
            object.insert("merchant_cert".into(), serde_json::json!(files.merchant_cert));
            object.insert("merchant_key".into(), serde_json::json!(files.merchant_key));
            object.insert("client_ca".into(), serde_json::json!(files.client_ca));
        }
        println!("{line}");
        eprintln!("{}", self.human_line(&sandbox));
        stop.wait().await;
        sandbox.shutdown().await;
        Ok(())
    }

    /// `wxpay-sandbox listening on http://127.0.0.1:PORT and https://127.0.0.1:PORT; keys in DIR
    /// (reused); Ctrl-C to stop`.
    fn human_line(&self, sandbox: &Sandbox) -> String {
        let urls: Vec<String> = [sandbox.http_url(), sandbox.https_url()].into_iter().flatten().collect();
        let listening = match urls.is_empty() {
            true => "listening nowhere (--listen off, --tls off)".to_owned(),
            false => format!("listening on {}", urls.join(" and ")),
        };
        let keys = match sandbox.key_dir() {
            Some(dir) => {
                let how = match dir.temporary {
                    true => format!("{}, temporary: removed at exit", dir.origin.as_str()),
                    false => dir.origin.as_str().to_owned(),
                };
                let path = dir.files.dir.display();
                match self.merchant_public_key.is_some() {
                    true => format!(
                        "keys from the given files, TLS CA, public keys and merchant certificate in {path} ({how})"
                    ),
                    false => format!("keys in {path} ({how})"),
                }
            }
            None => "keys in memory".to_owned(),
        };
        format!("wxpay-sandbox {listening}; {keys}; Ctrl-C to stop")
    }
}

/// What stops the foreground sandbox: Ctrl-C (SIGINT), or SIGTERM as `docker stop` and CI
/// runners send it.
#[derive(Debug)]
struct Stop {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Stop {
    /// Takes the signals over now (on Unix), before anyone can send them. A signal that cannot
    /// be taken over keeps its default action: it ends the process.
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self { interrupt: signal(SignalKind::interrupt()).ok(), terminate: signal(SignalKind::terminate()).ok() }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for one of them.
    async fn wait(self) {
        #[cfg(unix)]
        {
            async fn received(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = received(self.interrupt) => {}
                () = received(self.terminate) => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            // Serve until killed.
            std::future::pending::<()>().await;
        }
    }
}
