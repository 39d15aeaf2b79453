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
  --dry-run        build the request and print it; nothing is sent
  --decode FILE|-  parse an answer (a bare body, or a raw HTTP/1.1 response as copied from a log)
  (neither)        send the request: not available in this version

API v3 answers (`wxpay ecommerce ...`) are NOT signature-checked by --decode in this version.

Exit codes: 0 ok, 1 the CLI itself failed, 2 invalid input, 3 API error in the answer,
4 malformed answer, 5 transport failure.";

/// Text shown at the end of `wxpay ecommerce --help` and its subcommands.
const V3_AFTER_HELP: &str = "\
API v3 answers are NOT signature-checked by --decode in this version: a decoded answer is only \
as trustworthy as the file it came from.";

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
    /// API v3 answers are not signature-checked in this version.
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
}

impl Group {
    /// The mode and output flags of the chosen operation.
    pub(crate) fn common(&self) -> &CommonArgs {
        match self {
            Group::Cloudpay(CloudPayCommand::ReturnQuery(args)) => &args.common,
            Group::Cloudpay(CloudPayCommand::Finish(args)) => &args.common,
            Group::Cloudpay(CloudPayCommand::RefundQuery(args)) => &args.common,
            Group::Ecommerce(EcommerceCommand::OrderQuery(args)) => &args.common,
            Group::Ecommerce(EcommerceCommand::ReturnQuery(args)) => &args.common,
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
