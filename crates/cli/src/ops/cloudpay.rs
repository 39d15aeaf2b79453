//! `wxpay cloudpay ...`: the three CloudPay operations (docs/protocol.md §1) as subcommands: their
//! flags (the API's field names in kebab-case), the request they build, and their tables.

use clap::{Args, Subcommand};
use wxpay_protocol::cloudpay::{self, FinishRequest, RefundQueryRequest, ReturnQueryRequest};
use wxpay_protocol::{
    Description, Fen, Offset, OutOrderNo, OutRefundNo, OutReturnNo, OutTradeNo, RefundId, RefundLookup, SubMchId,
    TransactionId,
};
use wxpay_transport_hyper::Client;

use wxpay_protocol::v2::{Call, SubAppId};

use super::v2::{OverV2, cloudpay_wire_only};
use super::{CliOperation, Flags, Shown, dispatch, flags, shown};
use crate::args::required_note;
use crate::args::{CommonArgs, V2Args};
use crate::exit::CliError;
use crate::request::{field, given_nonce, optional, order_ref};
use crate::table::{ExtraNames, Grid, Table, amount, or_none};
use crate::times::{Step, Time};

/// The CloudPay operations.
#[derive(Debug, Subcommand)]
pub(crate) enum CloudPayCommand {
    /// Profit-sharing return query (查询分账回退结果).
    #[command(after_help = RETURN_QUERY_HELP)]
    ReturnQuery(ReturnQueryArgs),
    /// Profit-sharing finish (完结分账): unfreezes what is left of an order. A write.
    #[command(after_help = FINISH_HELP)]
    Finish(FinishArgs),
    /// Refund query (查询退款); at most 10 refunds per answer, see --offset.
    #[command(after_help = REFUND_QUERY_HELP)]
    RefundQuery(RefundQueryArgs),
}

/// The notes on the v2 wire, at the end of each CloudPay operation's help.
macro_rules! v2_notes {
    () => {
        "\
--wire v2 sends the operation to WeChat Pay's v2 API (--v2-url) as XML signed with the API v2 key: \
give --mchid, --appid and --apiv2-key-file (or WXPAY_MCHID, WXPAY_APPID, WXPAY_APIV2_KEY_FILE, the \
--config file; a container can give the key itself in WXPAY_APIV2_KEY). finish needs the merchant \
API certificate as TLS client certificate too: --client-cert and --client-key (WXPAY_CLIENT_CERT, \
WXPAY_CLIENT_KEY or WXPAY_CLIENT_KEY_PEM). --dry-run prints the signed XML (--nonce-str makes it \
reproducible); --decode checks an answer's sign when the API v2 key is given, and says so when it \
is not."
    };
}

/// The end of `wxpay cloudpay return-query --help`.
const RETURN_QUERY_HELP: &str = concat!(
    "Examples:\n",
    "  wxpay cloudpay return-query --sub-mch-id 1900000109 --out-order-no P20150806125346 \\\n",
    "      --out-return-no R20150806125346\n",
    "  wxpay cloudpay return-query --sandbox --json --sub-mch-id 1900000109 \\\n",
    "      --order-id 3008450740201411110007820472 --out-return-no R20150806125346\n",
    "  wxpay cloudpay return-query --decode answer.json\n",
    "  wxpay cloudpay return-query --wire v2 --config wxpay.toml --sub-mch-id 1900000109 \\\n",
    "      --out-order-no P20150806125346 --out-return-no R20150806125346\n",
    "\n",
    required_note!(),
    "\n\n",
    v2_notes!()
);

/// The end of `wxpay cloudpay finish --help`.
const FINISH_HELP: &str = concat!(
    "Examples:\n",
    "  wxpay cloudpay finish --sub-mch-id 1900000109 --transaction-id 4208450740201411110007820472 \\\n",
    "      --out-order-no P20150806125346 --description 分账已完成\n",
    "  wxpay cloudpay finish --dry-run --nonce-str 5K8264ILTKCH16CQ2502SI8ZNMTM67VS --sub-mch-id 1900000109 \\\n",
    "      --transaction-id 4208450740201411110007820472 --out-order-no P20150806125346 --description 分账已完成\n",
    "  wxpay cloudpay finish --batch finishes.csv --output results.jsonl\n",
    "  wxpay cloudpay finish --wire v2 --mchid 1900000100 --appid wx8888888888888888 \\\n",
    "      --apiv2-key-file apiv2_key --client-cert apiclient_cert.pem --client-key apiclient_key.pem \\\n",
    "      --sub-mch-id 1900000109 --transaction-id 4208450740201411110007820472 \\\n",
    "      --out-order-no P20150806125346 --description 分账已完成\n",
    "\n",
    "A finish whose outcome is unknown (a timeout) is resent with the same --out-order-no, never a new one.\n",
    "\n",
    required_note!(),
    "\n\n",
    v2_notes!()
);

/// The end of `wxpay cloudpay refund-query --help`.
const REFUND_QUERY_HELP: &str = concat!(
    "Examples:\n",
    "  wxpay cloudpay refund-query --sub-mch-id 1900000109 --out-refund-no 1217752501201407033233368018\n",
    "  wxpay cloudpay refund-query --sub-mch-id 1900000109 --transaction-id 1217752501201407033233368018 \\\n",
    "      --all-pages --json\n",
    "  wxpay cloudpay refund-query --sandbox --sub-mch-id 1900000109 --out-trade-no 1217752501201407033233368018\n",
    "  wxpay cloudpay refund-query --wire v2 --sign-type MD5 --config wxpay.toml --sub-mch-id 1900000109 \\\n",
    "      --out-refund-no 1217752501201407033233368018\n",
    "\n",
    required_note!(),
    "\n\n",
    v2_notes!()
);

dispatch!(CloudPayCommand { ReturnQuery, Finish, RefundQuery } via super::v2::visit);

flags! {
    ReturnQueryArgs { sub_mch_id, nonce_str, order_id, out_order_no, out_return_no } + v2
    FinishArgs { sub_mch_id, nonce_str, transaction_id, out_order_no, description } + v2
    RefundQueryArgs { sub_mch_id, nonce_str, refund_id, out_refund_no, transaction_id, out_trade_no, offset, sub_appid }
        + v2
}

/// `wxpay cloudpay return-query`.
// `[required]` in the flags' help is text for clap, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Clone, Args)]
pub(crate) struct ReturnQueryArgs {
    /// `sub_mch_id`: the sub-merchant. [required]
    #[arg(long)]
    pub(crate) sub_mch_id: Option<String>,
    /// `nonce_str`: at most 32 letters or digits; 32 random ones when absent.
    #[arg(long)]
    pub(crate) nonce_str: Option<String>,
    /// `order_id`: WeChat's profit-sharing order number. [required: this or --out-order-no]
    #[arg(long)]
    pub(crate) order_id: Option<String>,
    /// `out_order_no`: the merchant's profit-sharing order number. [required: this or --order-id]
    #[arg(long)]
    pub(crate) out_order_no: Option<String>,
    /// `out_return_no`: the merchant's return number. [required]
    #[arg(long)]
    pub(crate) out_return_no: Option<String>,
    /// Mode and output.
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// The v2 wire (last: its help heading applies to the flags that follow it).
    #[command(flatten)]
    pub(crate) v2: V2Args,
}

/// `wxpay cloudpay finish`.
// `[required]` in the flags' help is text for clap, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Clone, Args)]
pub(crate) struct FinishArgs {
    /// `sub_mch_id`: the sub-merchant. [required]
    #[arg(long)]
    pub(crate) sub_mch_id: Option<String>,
    /// `nonce_str`: at most 32 letters or digits; 32 random ones when absent.
    #[arg(long)]
    pub(crate) nonce_str: Option<String>,
    /// `transaction_id`: the payment. [required]
    #[arg(long)]
    pub(crate) transaction_id: Option<String>,
    /// `out_order_no`: the merchant's number for this finish; resend with the same one. [required]
    #[arg(long)]
    pub(crate) out_order_no: Option<String>,
    /// `description`: why profit sharing is finished (at most 80 bytes, no emoji). [required]
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Mode and output.
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// The v2 wire (last: its help heading applies to the flags that follow it).
    #[command(flatten)]
    pub(crate) v2: V2Args,
}

/// `wxpay cloudpay refund-query`.
// `[required]` in the flags' help is text for clap, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Clone, Args)]
pub(crate) struct RefundQueryArgs {
    /// `sub_mch_id`: the sub-merchant. [required]
    #[arg(long)]
    pub(crate) sub_mch_id: Option<String>,
    /// `nonce_str`: at most 32 letters or digits; 32 random ones when absent.
    #[arg(long)]
    pub(crate) nonce_str: Option<String>,
    /// `refund_id`: WeChat's refund number (highest priority of the four ids). [required: one of the four ids]
    #[arg(long)]
    pub(crate) refund_id: Option<String>,
    /// `out_refund_no`: the merchant's refund number (second priority). [required: one of the four ids]
    #[arg(long)]
    pub(crate) out_refund_no: Option<String>,
    /// `transaction_id`: the payment (third priority). [required: one of the four ids]
    #[arg(long)]
    pub(crate) transaction_id: Option<String>,
    /// `out_trade_no`: the merchant's order number (lowest priority). [required: one of the four ids]
    #[arg(long)]
    pub(crate) out_trade_no: Option<String>,
    /// `offset`: skip this many refunds (a non-negative integer; pages hold 10).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) offset: Option<String>,
    /// Send mode: fetch every page (from offset 0) and print all the refunds.
    #[arg(long, conflicts_with_all = ["offset", "dry_run", "decode"])]
    pub(crate) all_pages: bool,
    /// Mode and output.
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// The v2 wire (its help heading applies to the flags that follow it).
    #[command(flatten)]
    pub(crate) v2: V2Args,
    /// `sub_appid`: the sub-merchant's app id (--wire v2 only).
    #[arg(long, value_name = "SUB_APPID")]
    pub(crate) sub_appid: Option<String>,
}

impl OverV2 for ReturnQueryArgs {
    fn wire_args(&self) -> &V2Args {
        &self.v2
    }

    fn cloudpay_request(&self) -> Result<ReturnQueryRequest, CliError> {
        given_nonce(
            ReturnQueryRequest::new(
                field(&self.sub_mch_id, SubMchId::FIELD, SubMchId::new)?,
                order_ref(&self.order_id, &self.out_order_no)?,
                field(&self.out_return_no, OutReturnNo::FIELD, OutReturnNo::new)?,
            ),
            &self.nonce_str,
        )
    }
}

impl CliOperation for ReturnQueryArgs {
    type Op = ReturnQueryRequest;
    type Output = cloudpay::ReturnQueryResponse;

    fn request(&self) -> Result<ReturnQueryRequest, CliError> {
        cloudpay_wire_only(self)?;
        self.cloudpay_request()
    }

    fn table(answer: &cloudpay::ReturnQueryResponse) -> String {
        return_query_table(answer)
    }

    fn times(answer: &cloudpay::ReturnQueryResponse) -> Vec<Time<'_>> {
        Time::at(vec![], "finish_time", answer.finish_time.as_ref()).into_iter().collect()
    }

    fn decode(
        &self,
        response: &http::Response<Vec<u8>>,
    ) -> Result<(cloudpay::ReturnQueryResponse, Option<String>), CliError> {
        Ok((cloudpay::ReturnQueryResponse::parse(response)?, None))
    }
}

impl OverV2 for FinishArgs {
    fn wire_args(&self) -> &V2Args {
        &self.v2
    }

    fn cloudpay_request(&self) -> Result<FinishRequest, CliError> {
        given_nonce(
            FinishRequest::new(
                field(&self.sub_mch_id, SubMchId::FIELD, SubMchId::new)?,
                field(&self.transaction_id, TransactionId::FIELD, TransactionId::new)?,
                field(&self.out_order_no, OutOrderNo::FIELD, OutOrderNo::new)?,
                field(&self.description, Description::FIELD, Description::new)?,
            ),
            &self.nonce_str,
        )
    }
}

impl CliOperation for FinishArgs {
    type Op = FinishRequest;
    type Output = cloudpay::FinishResponse;

    fn request(&self) -> Result<FinishRequest, CliError> {
        cloudpay_wire_only(self)?;
        self.cloudpay_request()
    }

    fn table(answer: &cloudpay::FinishResponse) -> String {
        finish_table(answer)
    }

    fn decode(
        &self,
        response: &http::Response<Vec<u8>>,
    ) -> Result<(cloudpay::FinishResponse, Option<String>), CliError> {
        Ok((cloudpay::FinishResponse::parse(response)?, None))
    }
}

impl OverV2 for RefundQueryArgs {
    fn wire_args(&self) -> &V2Args {
        &self.v2
    }

    /// The request carries only the id WeChat Pay would use (the lookup priority).
    fn cloudpay_request(&self) -> Result<RefundQueryRequest, CliError> {
        let sub_mch_id = field(&self.sub_mch_id, SubMchId::FIELD, SubMchId::new)?;
        let lookup = RefundLookup::by_priority(
            optional(&self.refund_id, RefundId::new)?,
            optional(&self.out_refund_no, OutRefundNo::new)?,
            optional(&self.transaction_id, TransactionId::new)?,
            optional(&self.out_trade_no, OutTradeNo::new)?,
        )?;
        let request = given_nonce(RefundQueryRequest::new(sub_mch_id, lookup), &self.nonce_str)?;
        Ok(match optional(&self.offset, |s| s.parse::<Offset>())? {
            Some(offset) => request.offset(offset),
            None => request,
        })
    }

    /// `--sub-appid`, if given.
    fn v2_call(&self, call: Call<RefundQueryRequest>) -> Result<Call<RefundQueryRequest>, CliError> {
        Ok(match optional(&self.sub_appid, SubAppId::new)? {
            Some(sub_appid) => call.with_sub_appid(sub_appid),
            None => call,
        })
    }

    fn v2_only_flag(&self) -> Option<&'static str> {
        match self.sub_appid {
            Some(_) => Some("sub-appid"),
            None => self.v2.sign_type.map(|_| "sign-type"),
        }
    }

    /// One page, or with `--all-pages` every refund of every page.
    async fn send_v2(&self, client: &Client, call: Call<RefundQueryRequest>) -> Result<Shown, CliError> {
        if !self.all_pages {
            return shown::<Self>(&client.execute(call).await?);
        }
        all_pages_shown(super::all_refunds(client, call).await?)
    }
}

impl CliOperation for RefundQueryArgs {
    type Op = RefundQueryRequest;
    type Output = cloudpay::RefundQueryResponse;

    fn request(&self) -> Result<RefundQueryRequest, CliError> {
        cloudpay_wire_only(self)?;
        self.cloudpay_request()
    }

    fn table(answer: &cloudpay::RefundQueryResponse) -> String {
        refund_query_table(answer)
    }

    /// The refunds are `{"kind": "listed", "refunds": [...]}` under `refunds`.
    fn times(answer: &cloudpay::RefundQueryResponse) -> Vec<Time<'_>> {
        refund_times(&[Step::Key("refunds"), Step::Key("refunds")], answer.listed_refunds())
    }

    fn decode(
        &self,
        response: &http::Response<Vec<u8>>,
    ) -> Result<(cloudpay::RefundQueryResponse, Option<String>), CliError> {
        Ok((cloudpay::RefundQueryResponse::parse(response)?, None))
    }

    /// One page, or with `--all-pages` every refund of every page.
    async fn send(&self, client: &Client, op: RefundQueryRequest) -> Result<Shown, CliError> {
        if !self.all_pages {
            return shown::<Self>(&client.execute(op).await?);
        }
        all_pages_shown(super::all_refunds(client, op).await?)
    }
}

/// `--all-pages`: every refund of every page, with their total.
fn all_pages_shown(refunds: Vec<cloudpay::Refund>) -> Result<Shown, CliError> {
    let total = Fen::new(refunds.iter().map(|r| r.refund_fee.get()).sum());
    let mut json = serde_json::json!({ "refund_count": refunds.len(), "refund_fee_total": total, "refunds": refunds });
    crate::times::add_rfc3339(&mut json, refund_times(&[Step::Key("refunds")], &refunds));
    Ok(Shown { json, table: all_refunds_table(&refunds, total) })
}

/// The `refund_success_time` of each refund, the refunds being the list at `list`.
fn refund_times<'a>(list: &[Step], refunds: &'a [cloudpay::Refund]) -> Vec<Time<'a>> {
    let at = |i| [list, &[Step::Index(i)]].concat();
    refunds
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Time::at(at(i), "refund_success_time", r.refund_success_time.as_ref()))
        .collect()
}

/// `wxpay cloudpay return-query`.
fn return_query_table(a: &cloudpay::ReturnQueryResponse) -> String {
    let mut t = Table::default();
    t.row("result", &a.result)
        .opt("fail_reason", a.fail_reason.as_ref())
        .row("order_id", &a.order_id)
        .row("out_order_no", &a.out_order_no)
        .row("out_return_no", &a.out_return_no)
        .row("return_no", &a.return_no)
        .fen("return_amount", a.return_amount)
        .opt("return_account", a.return_account.as_ref())
        .opt("return_account_type", a.return_account_type.as_ref())
        .opt("description", a.description.as_ref())
        .opt("finish_time", a.finish_time.as_ref())
        .opt("mch_id", a.mch_id.as_ref())
        .opt("sub_mch_id", a.sub_mch_id.as_ref())
        .opt("appid", a.appid.as_ref());
    ExtraNames::default().add("", &a.extra).row(&mut t);
    t.to_string()
}

/// `wxpay cloudpay finish`.
fn finish_table(a: &cloudpay::FinishResponse) -> String {
    let mut t = Table::default();
    t.row("accepted", "yes (query the order for the outcome)")
        .row("transaction_id", &a.transaction_id)
        .row("out_order_no", &a.out_order_no)
        .row("order_id", &a.order_id);
    if let Some(r) = &a.receiver {
        t.row("receiver", format!("{} {}", r.receiver_type, r.account))
            .opt_fen("receiver_amount", r.amount)
            .opt("receiver_description", r.description.as_ref());
    }
    t.opt("mch_id", a.mch_id.as_ref())
        .opt("sub_mch_id", a.sub_mch_id.as_ref())
        .opt("appid", a.appid.as_ref())
        .opt("sub_appid", a.sub_appid.as_ref());
    let mut extra = ExtraNames::default();
    extra.add("", &a.extra);
    if let Some(r) = &a.receiver {
        extra.add("receiver", &r.extra);
    }
    extra.row(&mut t);
    t.to_string()
}

/// `wxpay cloudpay refund-query`: the refunds as one row each.
fn refund_query_table(a: &cloudpay::RefundQueryResponse) -> String {
    let mut t = Table::default();
    t.row("transaction_id", &a.transaction_id)
        .opt("out_trade_no", a.out_trade_no.as_ref())
        .fen("total_fee", a.total_fee)
        .opt_fen("settlement_total_fee", a.settlement_total_fee)
        .fen("cash_fee", a.cash_fee)
        .opt("fee_type", a.fee_type.as_ref())
        .row("refund_count", a.refund_count)
        .opt("total_refund_count", a.total_refund_count)
        .opt("mch_id", a.mch_id.as_ref())
        .opt("sub_mch_id", a.sub_mch_id.as_ref())
        .opt("appid", a.appid.as_ref())
        .opt("sub_appid", a.sub_appid.as_ref());
    match &a.refunds {
        cloudpay::RefundDetails::Listed(refunds) if refunds.is_empty() => {
            t.row("refunds", "no refunds");
        }
        cloudpay::RefundDetails::Listed(refunds) => {
            t.grid("refunds", format!("{} listed", refunds.len()), refund_grid(refunds));
        }
        cloudpay::RefundDetails::NotReturned => {
            t.row("refunds", format!("details not returned (refund_count {})", a.refund_count));
        }
        _ => {
            t.row("refunds", "not shown (unknown kind of refund list; use --json)");
        }
    }
    let mut extra = ExtraNames::default();
    extra.add("", &a.extra);
    refund_extras(&mut extra, a.listed_refunds());
    extra.row(&mut t);
    t.to_string()
}

/// The extra fields of refunds and their coupons.
fn refund_extras(extra: &mut ExtraNames, refunds: &[cloudpay::Refund]) {
    for r in refunds {
        extra.add("refunds[]", &r.extra);
        for c in &r.coupons {
            extra.add("refunds[].coupons[]", &c.extra);
        }
    }
}

/// The refunds as a grid, one row each.
fn refund_grid(refunds: &[cloudpay::Refund]) -> Grid {
    let mut grid = Grid::new(&["refund_id", "out_refund_no", "refund_fee", "refund_status", "refund_success_time"]);
    for r in refunds {
        grid.push(vec![
            r.refund_id.clone(),
            r.out_refund_no.clone(),
            amount(r.refund_fee),
            r.refund_status.to_string(),
            or_none(r.refund_success_time.as_ref()),
        ]);
    }
    grid
}

/// `wxpay cloudpay refund-query --all-pages`: every refund of every page, one row each.
pub(crate) fn all_refunds_table(refunds: &[cloudpay::Refund], total: Fen) -> String {
    let mut t = Table::default();
    t.row("refund_count", refunds.len()).fen("refund_fee_total", total);
    if refunds.is_empty() {
        t.row("refunds", "no refunds");
    } else {
        t.grid("refunds", format!("{} listed (all pages)", refunds.len()), refund_grid(refunds));
    }
    let mut extra = ExtraNames::default();
    refund_extras(&mut extra, refunds);
    extra.row(&mut t);
    t.to_string()
}
