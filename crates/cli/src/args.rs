//! The command line, as clap types.
//!
//! Field flags are the API's field names in kebab-case and are taken as plain strings: they are
//! validated by `wxpay-protocol`'s newtypes in [`crate::request`], so that an error names the API
//! field and the rule it broke rather than a clap parser.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use wxpay_settings::Secret;

use crate::ops::cloudpay::CloudPayCommand;
use crate::ops::ecommerce::{EcommerceCommand, V3_AFTER_HELP};

/// What `[required]` in a flag's help means, at the end of each operation's help. clap's own
/// `required` cannot be used: a required setting may come from a variable or the config file.
macro_rules! required_note {
    () => {
        "[required] marks what the operation needs, from a flag, its WXPAY_* variable or the --config \
file; [required: ...] names a choice of which exactly one (refund query: at least one) is given. \
Modes that do not send (--decode) need none of them."
    };
}
pub(crate) use required_note;

/// Text shown at the end of `wxpay --help`.
const AFTER_HELP: &str = "\
Modes (every operation):
  (default)        send the request and print the answer (a table, or --json)
  --dry-run        build the request and print it (API v3 and v2 requests signed); nothing is sent
  --decode FILE|-  parse an answer (a bare body, or a raw HTTP/1.1 response as copied from a log)
  --batch FILE     send one request per row of a CSV or JSON-lines file (see --output)

Settings come from flags, then WXPAY_* environment variables, then --config FILE (TOML), then
defaults. --sandbox starts an embedded sandbox and points everything at it.

CloudPay operations go over WeChat Cloud Hosting's sidecar (JSON, unsigned) by default; with
--wire v2 they are WeChat Pay's v2 API (signed XML to --v2-url): give --mchid, --appid and
--apiv2-key-file, and for finish --client-cert and --client-key (mutual TLS).

API v3 (`wxpay ecommerce ...`) needs the merchant's credentials (--mchid, --merchant-serial,
--private-key) and, to send, a way to verify answers: --public-key with --public-key-id,
--platform-cert, or --apiv3-key-file (platform certificates downloaded on first use).

Exit codes: 0 ok, 1 the CLI itself failed, 2 invalid input, 3 API error in the answer,
4 malformed or unverifiable answer, 5 transport failure. A batch exits with the highest code of
its rows (0 when every row succeeded).";

/// The environment variable for `--mchid`.
pub(crate) const ENV_MCHID: &str = "WXPAY_MCHID";
/// The environment variable for `--merchant-serial`.
pub(crate) const ENV_MERCHANT_SERIAL: &str = "WXPAY_MERCHANT_SERIAL";
/// The environment variable for `--private-key` (a file path, like the flag).
pub(crate) const ENV_PRIVATE_KEY: &str = "WXPAY_PRIVATE_KEY";
/// The environment variable for `--public-key` (a file path, like the flag).
pub(crate) const ENV_PUBLIC_KEY: &str = "WXPAY_PUBLIC_KEY";
/// The environment variable for `--public-key-id`.
pub(crate) const ENV_PUBLIC_KEY_ID: &str = "WXPAY_PUBLIC_KEY_ID";
/// The environment variable for `--apiv3-key-file`.
pub(crate) const ENV_APIV3_KEY_FILE: &str = "WXPAY_APIV3_KEY_FILE";
/// The environment variable for `--base-url`.
pub(crate) const ENV_BASE_URL: &str = "WXPAY_BASE_URL";
/// The environment variable for `--cloudpay-url`.
pub(crate) const ENV_CLOUDPAY_URL: &str = "WXPAY_CLOUDPAY_URL";
/// The environment variable for `--ca-cert`.
pub(crate) const ENV_CA_CERT: &str = "WXPAY_CA_CERT";
/// The environment variable for `--redis`.
pub(crate) const ENV_REDIS_URL: &str = "WXPAY_REDIS_URL";
/// The environment variable for `--v2-url`.
pub(crate) const ENV_V2_URL: &str = "WXPAY_V2_URL";
/// The environment variable for `--appid`.
pub(crate) const ENV_APPID: &str = "WXPAY_APPID";
/// The environment variable for `--apiv2-key-file` (a file path, like the flag).
pub(crate) const ENV_APIV2_KEY_FILE: &str = "WXPAY_APIV2_KEY_FILE";
/// The environment variable for `--client-cert` (a file path, like the flag).
pub(crate) const ENV_CLIENT_CERT: &str = "WXPAY_CLIENT_CERT";
/// The environment variable for `--client-key` (a file path, like the flag).
pub(crate) const ENV_CLIENT_KEY: &str = "WXPAY_CLIENT_KEY";
/// The environment variable for `--config`.
pub(crate) const ENV_CONFIG: &str = "WXPAY_CONFIG";

/// `wxpay`: WeChat Pay profit-sharing and refund queries for operators.
#[derive(Debug, Parser)]
#[command(name = "wxpay", version, about, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// The API family and operation.
    #[command(subcommand)]
    pub(crate) group: Group,

    /// Log more on standard error: -v each call (operation, attempts, Request-ID), -vv each
    /// attempt, -vvv everything. RUST_LOG, when set, chooses instead. No log holds key material.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = "Logging")]
    pub(crate) verbose: u8,

    /// Log only errors (the result and its error are printed all the same).
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = "Logging")]
    pub(crate) quiet: bool,
}

/// The two API families.
#[derive(Debug, Subcommand)]
pub(crate) enum Group {
    /// CloudPay operations (JSON over WeChat Cloud Hosting's open-API sidecar, unsigned; or with
    /// --wire v2, WeChat Pay's v2 API: signed XML).
    #[command(subcommand)]
    Cloudpay(CloudPayCommand),
    /// E-commerce platform operations (API v3).
    #[command(subcommand, after_help = V3_AFTER_HELP)]
    Ecommerce(EcommerceCommand),
    /// Runs all five operations against an embedded sandbox on loopback: real HTTPS, signing,
    /// certificate download and verification, paging, and a retried fault. Needs no credentials.
    Demo(DemoArgs),
    /// Runs the local WeChat Pay sandbox in the foreground (the flags of `wxpay-sandbox`).
    Sandbox(SandboxCommandArgs),
    /// Receives profit-sharing notifications on 127.0.0.1, verifies and decrypts them with the
    /// configured keys, prints each, answers WeChat Pay's success body, and optionally forwards
    /// them (as JSON) to your handler.
    Listen(crate::listen::ListenArgs),
    /// Profit-sharing notifications: `wxpay notify decode FILE` verifies, decrypts and prints a
    /// captured one.
    #[command(subcommand)]
    Notify(crate::listen::NotifyCommand),
    /// Prints a shell completion script, generated from the command's definition.
    #[command(after_help = "Examples:\n  \
        wxpay completions bash > ~/.local/share/bash-completion/completions/wxpay\n  \
        wxpay completions zsh > ~/.zfunc/_wxpay\n  \
        wxpay completions fish > ~/.config/fish/completions/wxpay.fish")]
    Completions(CompletionsArgs),
    /// Prints the man page (roff), generated from the command's definition.
    #[command(after_help = "Examples:\n  wxpay man > wxpay.1 && man ./wxpay.1\n  \
        wxpay man --dir /usr/local/share/man/man1")]
    Man(ManArgs),
}

/// `wxpay man`.
#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write one page per command into DIR (wxpay.1, wxpay-ecommerce.1,
    /// wxpay-ecommerce-order-query.1, ...) instead of printing wxpay.1.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

/// `wxpay completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// The command line's definition, as parsed and as completions and the man page describe it:
/// [`Cli`], with each family's endpoint flag kept to the family it applies to (`--base-url`
/// for `ecommerce`, `--cloudpay-url` for `cloudpay`). The other family's flag is hidden,
/// takes no variable, and is refused if given.
pub(crate) fn command() -> clap::Command {
    use clap::CommandFactory;
    /// The endpoint flag `id` in the operations of a family it does not apply to.
    fn elsewhere(id: &'static str, family: &'static str) -> impl FnMut(clap::Command) -> clap::Command {
        move |op| {
            op.mut_arg(id, |arg| {
                arg.hide(true).env(None).value_parser(move |_: &str| -> Result<String, String> {
                    Err(format!("it applies to `wxpay {family}` operations only"))
                })
            })
        }
    }
    Cli::command()
        .mut_subcommand("cloudpay", |c| c.mut_subcommands(elsewhere("base_url", "ecommerce")))
        .mut_subcommand("ecommerce", |c| c.mut_subcommands(elsewhere("cloudpay_url", "cloudpay")))
}

/// `wxpay demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Print one JSON object (the typed answers) instead of tables.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `wxpay sandbox`.
#[derive(Debug, Args)]
pub(crate) struct SandboxCommandArgs {
    /// The sandbox's flags.
    #[command(flatten)]
    pub(crate) sandbox: wxpay_sandbox::cli::SandboxArgs,
}

/// The mode, output and sending flags every operation takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct CommonArgs {
    /// Build the request and print it; send nothing.
    #[arg(long, conflicts_with = "decode")]
    pub(crate) dry_run: bool,

    /// Parse an answer from FILE (`-` for standard input) and print it. The input is a bare body
    /// (taken as HTTP 200) or a raw HTTP/1.1 response starting with `HTTP/` (`HTTP/2` as
    /// `curl -i` prints it is read the same way). Request flags are not needed (and are ignored).
    /// API v3 answers are signature-checked only when verifying keys are given.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) decode: Option<PathBuf>,

    /// Print machine-readable JSON on standard output, errors included.
    #[arg(long)]
    pub(crate) json: bool,

    /// The API v3 base URL (default `https://api.mch.weixin.qq.com`).
    /// Plain http is sent to loopback addresses only (sandboxes and test servers).
    #[arg(long, value_name = "URL", env = ENV_BASE_URL, help_heading = "Sending")]
    pub(crate) base_url: Option<String>,

    /// The CloudPay base URL (default `http://api.weixin.qq.com`, the WeChat Cloud Hosting
    /// open-API sidecar, which is plain http by design).
    #[arg(long, value_name = "URL", env = ENV_CLOUDPAY_URL, help_heading = "Sending")]
    pub(crate) cloudpay_url: Option<String>,

    /// Settings from a TOML file (keys: mchid, merchant_serial, private_key, public_key,
    /// public_key_id, platform_certs, apiv3_key_file, base_url, cloudpay_url, ca_cert,
    /// request_timeout, connect_timeout, redis_url, and for --wire v2 v2_url, appid,
    /// apiv2_key_file, client_cert, client_key); flags and WXPAY_* variables win over it.
    /// Relative paths in it are relative to its directory. The library reads the same file
    /// (wxpay-settings).
    #[arg(long, value_name = "FILE", env = ENV_CONFIG, hide_env_values = true, allow_hyphen_values = true, help_heading = "Sending")]
    pub(crate) config: Option<PathBuf>,

    /// Also trust the CA certificates in this PEM file (a private CA, a test server's), besides
    /// the WebPKI roots.
    #[arg(long, value_name = "FILE", env = ENV_CA_CERT, hide_env_values = true, allow_hyphen_values = true, help_heading = "Sending")]
    pub(crate) ca_cert: Option<PathBuf>,

    /// Start an embedded sandbox on loopback for this run and send to it, with its test
    /// credentials and keys (every endpoint and credential setting is replaced).
    #[arg(long, conflicts_with_all = ["dry_run", "decode"], help_heading = "Sending")]
    pub(crate) sandbox: bool,

    /// The time one attempt may take, from sending to the last byte of the answer, in seconds
    /// (default 30).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, help_heading = "Sending")]
    pub(crate) request_timeout: Option<Duration>,

    /// The TCP connect timeout, in seconds (default 5).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, help_heading = "Sending")]
    pub(crate) connect_timeout: Option<Duration>,

    /// Attempts per call, the first included (default 4; 1 never retries). Only retryable
    /// failures are retried, always with the same merchant numbers.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20), help_heading = "Sending")]
    pub(crate) max_attempts: Option<u32>,

    /// Send one request per row of FILE: CSV with a header row of field names (`sub_mch_id`,
    /// `out_order_no`, ...), or JSON lines (one object per line). Flags given here are defaults
    /// for missing columns.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dry_run", "decode"], help_heading = "Batch")]
    pub(crate) batch: Option<PathBuf>,

    /// Where --batch writes one JSON line per row (default: standard output). If the file
    /// exists, rows it already holds a result or a final error for are skipped (resume).
    #[arg(long, value_name = "FILE", requires = "batch", help_heading = "Batch")]
    pub(crate) output: Option<PathBuf>,

    /// How many --batch rows are in flight at once; the documented rate limits apply on top.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 8,
        value_parser = clap::value_parser!(u16).range(1..=256),
        help_heading = "Batch"
    )]
    pub(crate) concurrency: u16,

    /// Take only the rows of shard I of N (`1/4` ... `4/4`): row k belongs to shard
    /// ((k - 1) mod N) + 1, so N workers given the same file and `--shard 1/N` ... `N/N` share
    /// it without overlap. Give each worker its own --output.
    #[arg(long, value_name = "I/N", value_parser = parse_shard, requires = "batch", help_heading = "Batch")]
    pub(crate) shard: Option<Shard>,

    /// Obtain rate-limit slots from a budget shared through Redis (`redis://host:port/db`) with
    /// every other worker that uses the same Redis, so that together they keep WeChat Pay's
    /// per-merchant limits. When Redis cannot be reached nothing is sent: the call waits and
    /// fails after --redis-wait.
    #[arg(long, value_name = "URL", env = ENV_REDIS_URL, hide_env_values = true, help_heading = "Sending")]
    pub(crate) redis: Option<String>,

    /// How long a call waits for an unreachable --redis before it fails, in seconds (default 60).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds, requires = "redis", help_heading = "Sending")]
    pub(crate) redis_wait: Option<Duration>,
}

/// One shard of a batch: the `index`-th (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    /// Which shard, from 1.
    pub(crate) index: u32,
    /// How many shards.
    pub(crate) count: u32,
}

impl Shard {
    /// Whether data row `number` (from 1) belongs to this shard.
    pub(crate) fn takes(self, number: usize) -> bool {
        let count = usize::try_from(self.count).unwrap_or(usize::MAX);
        let index = usize::try_from(self.index).unwrap_or(usize::MAX);
        number.checked_sub(1).is_some_and(|k| k % count + 1 == index)
    }
}

/// `I/N` with 1 <= I <= N.
fn parse_shard(s: &str) -> Result<Shard, String> {
    let (i, n) = s.split_once('/').ok_or("expected I/N, such as 2/4")?;
    let number = |t: &str| t.trim().parse::<u32>().map_err(|_| format!("{t:?} is not a whole number"));
    let (index, count) = (number(i)?, number(n)?);
    if count == 0 || index == 0 || index > count {
        return Err(format!("the shard must be 1 to {count} of {count} (1 <= I <= N, N > 0)"));
    }
    Ok(Shard { index, count })
}

/// A positive number of seconds (`0.5`, `30`).
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let seconds: f64 = s.parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if seconds.is_nan() || seconds <= 0.0 {
        return Err("must be more than 0 seconds".to_owned());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{s:?} is too long"))
}

/// The API v3 credentials and signing inputs of `wxpay ecommerce ...`. Files are read, and keys
/// checked, only by the mode that uses them (see [`crate::credentials`]); key material is never
/// printed.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "API v3 signing and verification")]
pub(crate) struct V3Args {
    /// The merchant id (`mchid`) that signs requests. [required to send and with --dry-run]
    #[arg(long, value_name = "MCHID", env = ENV_MCHID, hide_env_values = true)]
    pub(crate) mchid: Option<String>,

    /// The serial of the merchant's API certificate (`serial_no` in Authorization). [required to
    /// send and with --dry-run]
    #[arg(long, value_name = "SERIAL", env = ENV_MERCHANT_SERIAL, hide_env_values = true)]
    pub(crate) merchant_serial: Option<String>,

    /// The merchant's API private key: a PKCS#8 PEM file (`apiclient_key.pem`, `-----BEGIN PRIVATE
    /// KEY-----`); never printed. Or its contents in WXPAY_PRIVATE_KEY_PEM (no flag takes
    /// contents). [required to send and with --dry-run]
    #[arg(long, value_name = "FILE", env = ENV_PRIVATE_KEY, hide_env_values = true, allow_hyphen_values = true)]
    pub(crate) private_key: Option<PathBuf>,

    /// A WeChat Pay public key: a PEM file (`-----BEGIN PUBLIC KEY-----`), given with
    /// --public-key-id. Answers are verified with it; requests name it in Wechatpay-Serial.
    #[arg(long, value_name = "FILE", env = ENV_PUBLIC_KEY, hide_env_values = true, allow_hyphen_values = true)]
    pub(crate) public_key: Option<PathBuf>,

    /// The id of --public-key (`PUB_KEY_ID_...`).
    #[arg(long, value_name = "PUB_KEY_ID_...", env = ENV_PUBLIC_KEY_ID, hide_env_values = true)]
    pub(crate) public_key_id: Option<String>,

    /// A WeChat Pay platform certificate: a PEM file; repeat for several. Answers are verified
    /// with them; without --public-key, requests name one in Wechatpay-Serial.
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) platform_cert: Vec<PathBuf>,

    /// A file holding the APIv3 key (32 bytes; surrounding whitespace is ignored). Sending with
    /// it downloads the platform certificates on first use and decrypts them with it; it is
    /// enough to verify answers. Never printed. Or the key itself in WXPAY_APIV3_KEY.
    #[arg(long, value_name = "FILE", env = ENV_APIV3_KEY_FILE, hide_env_values = true, allow_hyphen_values = true)]
    pub(crate) apiv3_key_file: Option<PathBuf>,

    /// The signing timestamp, in Unix seconds (default: the system clock). With --nonce, a dry
    /// run is reproducible.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(0..))]
    pub(crate) timestamp: Option<i64>,

    /// `WXPAY_PRIVATE_KEY_PEM`: the private key's contents, instead of --private-key.
    #[arg(skip)]
    pub(crate) private_key_pem: Option<Secret>,

    /// `WXPAY_APIV3_KEY`: the APIv3 key itself, instead of --apiv3-key-file.
    #[arg(skip)]
    pub(crate) apiv3_key: Option<Secret>,

    /// The signing nonce (`nonce_str` in Authorization; default: 32 random letters and digits).
    #[arg(long, value_name = "STR")]
    pub(crate) nonce: Option<String>,

    /// The time --decode checks an answer's Wechatpay-Timestamp against, in Unix seconds
    /// (default: the system clock), so that an answer copied from a log can be verified.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(0..))]
    pub(crate) now: Option<i64>,
}

/// The wire a CloudPay operation travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Wire {
    /// JSON through WeChat Cloud Hosting's open-API sidecar, unsigned (`--cloudpay-url`).
    #[default]
    Cloudpay,
    /// WeChat Pay's v2 API: XML signed with the API v2 key (`--v2-url`).
    V2,
}

/// A v2 signature algorithm, as `sign_type` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SignTypeArg {
    /// `MD5` (the refund query only).
    #[value(name = "MD5")]
    Md5,
    /// `HMAC-SHA256` (every operation; the default).
    #[value(name = "HMAC-SHA256")]
    HmacSha256,
}

impl SignTypeArg {
    /// The protocol's algorithm.
    pub(crate) fn sign_type(self) -> wxpay_protocol::v2::SignType {
        match self {
            SignTypeArg::Md5 => wxpay_protocol::v2::SignType::Md5,
            SignTypeArg::HmacSha256 => wxpay_protocol::v2::SignType::HmacSha256,
        }
    }
}

/// The v2 wire of `wxpay cloudpay ...` (`--wire v2`): the merchant that signs, the endpoint,
/// and the TLS client certificate of the finish. Files are read, and keys checked, only when
/// the v2 wire is used, by the mode that needs them; key material is never printed.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "v2 wire")]
pub(crate) struct V2Args {
    /// The wire: `cloudpay` (JSON through WeChat Cloud Hosting's open-API sidecar, unsigned) or
    /// `v2` (WeChat Pay's v2 API: XML signed with the API v2 key, sent to --v2-url).
    #[arg(long, value_enum, default_value_t = Wire::Cloudpay)]
    pub(crate) wire: Wire,

    /// The v2 API base URL (default `https://api.mch.weixin.qq.com`). Plain http is sent to
    /// loopback addresses only (sandboxes and test servers).
    #[arg(long, value_name = "URL", env = ENV_V2_URL)]
    pub(crate) v2_url: Option<String>,

    /// `mch_id`: the service provider's merchant id. [required with --wire v2 to send and with
    /// --dry-run]
    #[arg(long, value_name = "MCHID", env = ENV_MCHID, hide_env_values = true)]
    pub(crate) mchid: Option<String>,

    /// `appid`: the service provider's app id. [required with --wire v2 to send and with
    /// --dry-run]
    #[arg(long, value_name = "APPID", env = ENV_APPID, hide_env_values = true)]
    pub(crate) appid: Option<String>,

    /// A file holding the API v2 key (32 characters, set under API安全 → API密钥; not the APIv3
    /// key; surrounding whitespace is ignored). It signs requests and verifies answers (with
    /// --decode, too); never printed. Or the key itself in WXPAY_APIV2_KEY. [required with
    /// --wire v2 to send and with --dry-run]
    #[arg(long, value_name = "FILE", env = ENV_APIV2_KEY_FILE, hide_env_values = true, allow_hyphen_values = true)]
    pub(crate) apiv2_key_file: Option<PathBuf>,

    /// The merchant API certificate (`apiclient_cert.pem`), presented as the TLS client
    /// certificate: finish (under /secapi/) needs it, with --client-key.
    #[arg(long, value_name = "FILE", env = ENV_CLIENT_CERT, hide_env_values = true, allow_hyphen_values = true)]
    pub(crate) client_cert: Option<PathBuf>,

    /// The private key of --client-cert (`apiclient_key.pem`); never printed. Or its contents
    /// in WXPAY_CLIENT_KEY_PEM.
    #[arg(long, value_name = "FILE", env = ENV_CLIENT_KEY, hide_env_values = true, allow_hyphen_values = true)]
    pub(crate) client_key: Option<PathBuf>,

    /// `sign_type`: how requests are signed and answers verified (default HMAC-SHA256; MD5 is
    /// accepted by the refund query only).
    #[arg(long, value_enum, value_name = "MD5|HMAC-SHA256")]
    pub(crate) sign_type: Option<SignTypeArg>,

    /// `WXPAY_APIV2_KEY`: the API v2 key itself, instead of --apiv2-key-file.
    #[arg(skip)]
    pub(crate) apiv2_key: Option<Secret>,

    /// `WXPAY_CLIENT_KEY_PEM`: the TLS client key's contents, instead of --client-key.
    #[arg(skip)]
    pub(crate) client_key_pem: Option<Secret>,
}

/// The settings of an operation that a config file may fill in: the common ones, and the API
/// v3 or the v2 wire's ones.
#[derive(Debug)]
pub(crate) struct SettingsMut<'a> {
    /// The mode, output and sending flags.
    pub(crate) common: &'a mut CommonArgs,
    /// The API v3 flags (`wxpay ecommerce ...`).
    pub(crate) v3: Option<&'a mut V3Args>,
    /// The v2 wire's flags (`wxpay cloudpay ...`).
    pub(crate) v2: Option<&'a mut V2Args>,
}

impl Group {
    /// The mode and output flags of the chosen operation (`None` for `demo` and `sandbox`).
    pub(crate) fn common(&self) -> Option<&CommonArgs> {
        match self {
            Group::Cloudpay(command) => Some(command.common()),
            Group::Ecommerce(command) => Some(command.common()),
            Group::Demo(_)
            | Group::Sandbox(_)
            | Group::Listen(_)
            | Group::Notify(_)
            | Group::Completions(_)
            | Group::Man(_) => None,
        }
    }

    /// The mode, output and sending flags of the chosen operation, and its API v3 or v2 wire
    /// flags, for filling in from a config file.
    pub(crate) fn settings_mut(&mut self) -> Option<SettingsMut<'_>> {
        match self {
            Group::Cloudpay(command) => Some(command.settings_mut()),
            Group::Ecommerce(command) => Some(command.settings_mut()),
            Group::Demo(_)
            | Group::Sandbox(_)
            | Group::Listen(_)
            | Group::Notify(_)
            | Group::Completions(_)
            | Group::Man(_) => None,
        }
    }

    /// Whether output (errors included) is JSON.
    pub(crate) fn json(&self) -> bool {
        match self {
            Group::Demo(args) => args.json,
            Group::Listen(args) => args.json,
            Group::Notify(crate::listen::NotifyCommand::Decode(args)) => args.json,
            Group::Cloudpay(_) | Group::Ecommerce(_) => self.common().is_some_and(|c| c.json),
            Group::Sandbox(_) | Group::Completions(_) | Group::Man(_) => false,
        }
    }
}

/// What to do with the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Send the request.
    Send,
    /// Send one request per row of this file.
    Batch(PathBuf),
    /// Print the request.
    DryRun,
    /// Parse an answer from this input.
    Decode(Input),
}

/// Where `--decode` reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl CommonArgs {
    /// The mode the flags select (clap already refuses `--dry-run`, `--decode` and `--batch`
    /// together).
    pub(crate) fn mode(&self) -> Mode {
        match (&self.decode, &self.batch) {
            (Some(path), _) if path.as_os_str() == "-" => Mode::Decode(Input::Stdin),
            (Some(path), _) => Mode::Decode(Input::File(path.clone())),
            (None, _) if self.dry_run => Mode::DryRun,
            (None, Some(batch)) => Mode::Batch(batch.clone()),
            (None, None) => Mode::Send,
        }
    }
}

/// The flag whose value is the first argument that is not UTF-8: `--flag=<value>`, or the flag
/// before a separate value; `an argument` when it is neither (a subcommand or a positional).
pub(crate) fn not_utf8_flag(args: &[std::ffi::OsString]) -> String {
    let mut previous: Option<&str> = None;
    for arg in args.iter().skip(1) {
        match arg.to_str() {
            Some(text) => previous = Some(text),
            None => {
                let bytes = arg.as_encoded_bytes();
                if bytes.starts_with(b"--")
                    && let Some(eq) = bytes.iter().position(|&b| b == b'=')
                {
                    return String::from_utf8_lossy(&bytes[..eq]).into_owned();
                }
                return match previous {
                    Some(flag) if flag.starts_with('-') && !flag.contains('=') => flag.to_owned(),
                    _ => "an argument".to_owned(),
                };
            }
        }
    }
    "an argument".to_owned()
}

#[cfg(test)]
mod utf8_tests {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    use super::not_utf8_flag;

    #[test]
    fn the_flag_of_a_value_that_is_not_utf8_is_named() {
        let bad = || OsString::from_vec(b"P\xFF1".to_vec());
        let args = |list: Vec<OsString>| [vec![OsString::from("wxpay")], list].concat();
        let flag = OsString::from("--out-order-no");
        assert_eq!(not_utf8_flag(&args(vec![flag, bad()])), "--out-order-no");
        assert_eq!(not_utf8_flag(&args(vec![OsString::from_vec(b"--sub-mchid=\xFF".to_vec())])), "--sub-mchid");
        assert_eq!(not_utf8_flag(&args(vec![bad()])), "an argument");
    }
}
