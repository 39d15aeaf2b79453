//! The command line, as clap types.
//!
//! Field flags are the API's field names in kebab-case and are taken as plain strings: they are
//! validated by `wxpay-protocol`'s newtypes in [`crate::request`], so that an error names the API
//! field and the rule it broke rather than a clap parser.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use wxpay_protocol::BaseUrl;

/// Text shown at the end of `wxpay --help`.
const AFTER_HELP: &str = "\
Modes (every operation):
  --dry-run        build the request and print it (API v3 requests signed); nothing is sent
  --decode FILE|-  parse an answer (a bare body, or a raw HTTP/1.1 response as copied from a log)
  (neither)        send the request: not available in this version

API v3 (`wxpay ecommerce ...`): --dry-run needs the merchant's credentials (--mchid,
--merchant-serial, --private-key, or WXPAY_MCHID, WXPAY_MERCHANT_SERIAL, WXPAY_PRIVATE_KEY);
--decode verifies the answer's signature when --public-key with --public-key-id, or
--platform-cert, is given, and otherwise says that it did not.

Exit codes: 0 ok, 1 the CLI itself failed, 2 invalid input, 3 API error in the answer,
4 malformed or unverifiable answer, 5 transport failure.";

/// Text shown at the end of `wxpay ecommerce --help` and its subcommands.
const V3_AFTER_HELP: &str = "\
--dry-run signs the request with --mchid, --merchant-serial and --private-key (or WXPAY_MCHID, \
WXPAY_MERCHANT_SERIAL, WXPAY_PRIVATE_KEY); --timestamp and --nonce make it reproducible.
--decode verifies the answer's signature with --public-key and --public-key-id (or \
WXPAY_PUBLIC_KEY, WXPAY_PUBLIC_KEY_ID) and every --platform-cert; without them the answer is \
NOT signature-checked, and is only as trustworthy as the file it came from.";

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

/// `wxpay`: WeChat Pay profit-sharing and refund queries for operators.
#[derive(Debug, Parser)]
#[command(name = "wxpay", version, about, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// The API family and operation.
    #[command(subcommand)]
    pub(crate) group: Group,
}

/// The two API families.
#[derive(Debug, Subcommand)]
pub(crate) enum Group {
    /// CloudPay operations (JSON over WeChat Cloud Hosting's open-API sidecar; unsigned).
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

/// The CloudPay operations.
#[derive(Debug, Subcommand)]
pub(crate) enum CloudPayCommand {
    /// Profit-sharing return query (查询分账回退结果).
    ReturnQuery(CloudPayReturnQueryArgs),
    /// Profit-sharing finish (完结分账): unfreezes what is left of an order. A write.
    Finish(FinishArgs),
    /// Refund query (查询退款); at most 10 refunds per answer, see --offset.
    RefundQuery(RefundQueryArgs),
}

/// The API v3 e-commerce operations.
#[derive(Debug, Subcommand)]
pub(crate) enum EcommerceCommand {
    /// Profit-sharing order query (查询分账结果).
    #[command(after_help = V3_AFTER_HELP)]
    OrderQuery(OrderQueryArgs),
    /// Profit-sharing return query (查询分账回退结果).
    #[command(after_help = V3_AFTER_HELP)]
    ReturnQuery(EcommerceReturnQueryArgs),
}

/// The mode and output flags every operation takes.
#[derive(Debug, Args)]
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

    /// The API v3 base URL (used by `ecommerce` operations).
    #[arg(long, value_name = "URL", default_value = BaseUrl::V3_DEFAULT)]
    pub(crate) base_url: String,

    /// The CloudPay base URL (used by `cloudpay` operations).
    #[arg(long, value_name = "URL", default_value = BaseUrl::CLOUDPAY_DEFAULT)]
    pub(crate) cloudpay_url: String,
}

/// `wxpay cloudpay return-query`.
#[derive(Debug, Args)]
pub(crate) struct CloudPayReturnQueryArgs {
    /// `sub_mch_id`: the sub-merchant.
    #[arg(long)]
    pub(crate) sub_mch_id: Option<String>,
    /// `nonce_str`: at most 32 letters or digits; 32 random ones when absent.
    #[arg(long)]
    pub(crate) nonce_str: Option<String>,
    /// `order_id`: WeChat's profit-sharing order number (or give --out-order-no).
    #[arg(long)]
    pub(crate) order_id: Option<String>,
    /// `out_order_no`: the merchant's profit-sharing order number (or give --order-id).
    #[arg(long)]
    pub(crate) out_order_no: Option<String>,
    /// `out_return_no`: the merchant's return number.
    #[arg(long)]
    pub(crate) out_return_no: Option<String>,
    /// Mode and output.
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// `wxpay cloudpay finish`.
#[derive(Debug, Args)]
pub(crate) struct FinishArgs {
    /// `sub_mch_id`: the sub-merchant.
    #[arg(long)]
    pub(crate) sub_mch_id: Option<String>,
    /// `nonce_str`: at most 32 letters or digits; 32 random ones when absent.
    #[arg(long)]
    pub(crate) nonce_str: Option<String>,
    /// `transaction_id`: the payment.
    #[arg(long)]
    pub(crate) transaction_id: Option<String>,
    /// `out_order_no`: the merchant's number for this finish; resend with the same one.
    #[arg(long)]
    pub(crate) out_order_no: Option<String>,
    /// `description`: why profit sharing is finished (at most 80 bytes, no emoji).
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Mode and output.
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// `wxpay cloudpay refund-query`.
#[derive(Debug, Args)]
pub(crate) struct RefundQueryArgs {
    /// `sub_mch_id`: the sub-merchant.
    #[arg(long)]
    pub(crate) sub_mch_id: Option<String>,
    /// `nonce_str`: at most 32 letters or digits; 32 random ones when absent.
    #[arg(long)]
    pub(crate) nonce_str: Option<String>,
    /// `refund_id`: WeChat's refund number (highest priority of the four ids).
    #[arg(long)]
    pub(crate) refund_id: Option<String>,
    /// `out_refund_no`: the merchant's refund number (second priority).
    #[arg(long)]
    pub(crate) out_refund_no: Option<String>,
    /// `transaction_id`: the payment (third priority).
    #[arg(long)]
    pub(crate) transaction_id: Option<String>,
    /// `out_trade_no`: the merchant's order number (lowest priority).
    #[arg(long)]
    pub(crate) out_trade_no: Option<String>,
    /// `offset`: skip this many refunds (a non-negative integer; pages hold 10).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) offset: Option<String>,
    /// Mode and output.
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// `wxpay ecommerce order-query`.
#[derive(Debug, Args)]
pub(crate) struct OrderQueryArgs {
    /// `sub_mchid`: the second-level merchant.
    #[arg(long)]
    pub(crate) sub_mchid: Option<String>,
    /// `transaction_id`: the payment.
    #[arg(long)]
    pub(crate) transaction_id: Option<String>,
    /// `out_order_no`: the merchant's profit-sharing order number.
    #[arg(long)]
    pub(crate) out_order_no: Option<String>,
    /// Mode and output.
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Signing and verification (last: its help heading applies to the flags that follow it).
    #[command(flatten)]
    pub(crate) v3: V3Args,
}

/// `wxpay ecommerce return-query`.
#[derive(Debug, Args)]
pub(crate) struct EcommerceReturnQueryArgs {
    /// `sub_mchid`: the second-level merchant.
    #[arg(long)]
    pub(crate) sub_mchid: Option<String>,
    /// `order_id`: WeChat's profit-sharing order number (or give --out-order-no).
    #[arg(long)]
    pub(crate) order_id: Option<String>,
    /// `out_order_no`: the merchant's profit-sharing order number (or give --order-id).
    #[arg(long)]
    pub(crate) out_order_no: Option<String>,
    /// `out_return_no`: the merchant's return number.
    #[arg(long)]
    pub(crate) out_return_no: Option<String>,
    /// Mode and output.
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Signing and verification (last: its help heading applies to the flags that follow it).
    #[command(flatten)]
    pub(crate) v3: V3Args,
}

/// The API v3 credentials and signing inputs of `wxpay ecommerce ...`. Files are read, and keys
/// checked, only by the mode that uses them (see [`crate::credentials`]); key material is never
/// printed.
#[derive(Debug, Args)]
#[command(next_help_heading = "API v3 signing and verification")]
pub(crate) struct V3Args {
    /// The merchant id (`mchid`) that signs requests. Required by --dry-run.
    #[arg(long, value_name = "MCHID", env = ENV_MCHID, hide_env_values = true)]
    pub(crate) mchid: Option<String>,

    /// The serial of the merchant's API certificate (`serial_no` in Authorization). Required by
    /// --dry-run.
    #[arg(long, value_name = "SERIAL", env = ENV_MERCHANT_SERIAL, hide_env_values = true)]
    pub(crate) merchant_serial: Option<String>,

    /// The merchant's API private key: a PKCS#8 PEM file (`apiclient_key.pem`,
    /// `-----BEGIN PRIVATE KEY-----`). Required by --dry-run; never printed.
    #[arg(long, value_name = "FILE", env = ENV_PRIVATE_KEY, hide_env_values = true)]
    pub(crate) private_key: Option<PathBuf>,

    /// A WeChat Pay public key: a PEM file (`-----BEGIN PUBLIC KEY-----`), given with
    /// --public-key-id. --decode verifies answers with it; --dry-run names it in Wechatpay-Serial.
    #[arg(long, value_name = "FILE", env = ENV_PUBLIC_KEY, hide_env_values = true)]
    pub(crate) public_key: Option<PathBuf>,

    /// The id of --public-key (`PUB_KEY_ID_...`).
    #[arg(long, value_name = "PUB_KEY_ID_...", env = ENV_PUBLIC_KEY_ID, hide_env_values = true)]
    pub(crate) public_key_id: Option<String>,

    /// A WeChat Pay platform certificate: a PEM file; repeat for several. --decode verifies
    /// answers with them; without --public-key, --dry-run names one in Wechatpay-Serial.
    #[arg(long, value_name = "FILE")]
    pub(crate) platform_cert: Vec<PathBuf>,

    /// A file holding the APIv3 key (32 bytes; surrounding whitespace is ignored), which
    /// decrypts downloaded platform certificates. It is checked now; the download itself arrives
    /// with the transport.
    #[arg(long, value_name = "FILE")]
    pub(crate) apiv3_key_file: Option<PathBuf>,

    /// The signing timestamp, in Unix seconds (default: the system clock). With --nonce, a dry
    /// run is reproducible.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(0..))]
    pub(crate) timestamp: Option<i64>,

    /// The signing nonce (`nonce_str` in Authorization; default: 32 random letters and digits).
    #[arg(long, value_name = "STR")]
    pub(crate) nonce: Option<String>,

    /// The time --decode checks an answer's Wechatpay-Timestamp against, in Unix seconds
    /// (default: the system clock), so that an answer copied from a log can be verified.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(0..))]
    pub(crate) now: Option<i64>,
}

impl Group {
    /// The mode and output flags of the chosen operation (`None` for `demo` and `sandbox`).
    pub(crate) fn common(&self) -> Option<&CommonArgs> {
        match self {
            Group::Cloudpay(CloudPayCommand::ReturnQuery(args)) => Some(&args.common),
            Group::Cloudpay(CloudPayCommand::Finish(args)) => Some(&args.common),
            Group::Cloudpay(CloudPayCommand::RefundQuery(args)) => Some(&args.common),
            Group::Ecommerce(EcommerceCommand::OrderQuery(args)) => Some(&args.common),
            Group::Ecommerce(EcommerceCommand::ReturnQuery(args)) => Some(&args.common),
            Group::Demo(_) | Group::Sandbox(_) => None,
        }
    }

    /// Whether output (errors included) is JSON.
    pub(crate) fn json(&self) -> bool {
        match self {
            Group::Demo(args) => args.json,
            _ => self.common().is_some_and(|c| c.json),
        }
    }
}

/// What to do with the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Send the request (not available in this version).
    Send,
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
    /// The mode the flags select (clap already refuses `--dry-run` with `--decode`).
    pub(crate) fn mode(&self) -> Mode {
        match &self.decode {
            Some(path) if path.as_os_str() == "-" => Mode::Decode(Input::Stdin),
            Some(path) => Mode::Decode(Input::File(path.clone())),
            None if self.dry_run => Mode::DryRun,
            None => Mode::Send,
        }
    }
}
