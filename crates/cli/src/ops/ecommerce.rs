//! `wxpay ecommerce ...`: the API v3 e-commerce profit-sharing queries (docs/protocol.md §2) as
//! subcommands: their flags, the request they build, and their tables. Signing and
//! verification flags are [`V3Args`].

use clap::{Args, Subcommand};
use wxpay_protocol::v3::{self, OrderQueryRequest, ReturnQueryRequest};
use wxpay_protocol::{OutOrderNo, OutReturnNo, TransactionId};

use super::{CliOperation, Flags, decode_v3, dispatch, flags};
use crate::args::required_note;
use crate::args::{CommonArgs, V3Args};
use crate::exit::CliError;
use crate::request::{field, order_ref, sub_mchid};
use crate::table::{ExtraNames, Grid, Table, amount, or_none};
use crate::times::{Step, Time};

/// The notes on API v3 credentials, at the end of `wxpay ecommerce --help` and its subcommands.
macro_rules! v3_notes {
    () => {
        "\
Requests are signed with --mchid, --merchant-serial and --private-key (or WXPAY_MCHID, \
WXPAY_MERCHANT_SERIAL, WXPAY_PRIVATE_KEY, or the --config file); a container can give the key's \
contents in WXPAY_PRIVATE_KEY_PEM instead of a path. --dry-run's --timestamp and --nonce make a \
dry run reproducible.
Answers are verified with --public-key and --public-key-id (or WXPAY_PUBLIC_KEY, \
WXPAY_PUBLIC_KEY_ID), every --platform-cert, and platform certificates downloaded with \
--apiv3-key-file (WXPAY_APIV3_KEY_FILE, or the key itself in WXPAY_APIV3_KEY). Sending needs at \
least one of them; --decode without them does NOT check the signature, and the answer is only \
as trustworthy as its file."
    };
}

/// Text shown at the end of `wxpay ecommerce --help`.
pub(crate) const V3_AFTER_HELP: &str = v3_notes!();

/// The end of `wxpay ecommerce order-query --help`.
const ORDER_QUERY_HELP: &str = concat!(
    "Examples:\n",
    "  wxpay ecommerce order-query --config wxpay.toml --sub-mchid 1900000109 \\\n",
    "      --transaction-id 4208450740201411110007820472 --out-order-no P20150806125346\n",
    "  WXPAY_PRIVATE_KEY_PEM=\"$(cat apiclient_key.pem)\" wxpay ecommerce order-query --mchid 1900007291 \\\n",
    "      --merchant-serial 408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB --public-key pub_key.pem \\\n",
    "      --public-key-id PUB_KEY_ID_0000000000000024101100397200000006 --sub-mchid 1900000109 \\\n",
    "      --transaction-id 4208450740201411110007820472 --out-order-no P20150806125346 --json\n",
    "  wxpay ecommerce order-query --sandbox -v --sub-mchid 1900000109 \\\n",
    "      --transaction-id 4208450740201411110007820472 --out-order-no P20150806125346\n",
    "\n",
    required_note!(),
    "\n\n",
    v3_notes!()
);

/// The end of `wxpay ecommerce return-query --help`.
const RETURN_QUERY_HELP: &str = concat!(
    "Examples:\n",
    "  wxpay ecommerce return-query --config wxpay.toml --sub-mchid 1900000109 \\\n",
    "      --out-order-no P20190806125346 --out-return-no R20190516001\n",
    "  wxpay ecommerce return-query --dry-run --config wxpay.toml --sub-mchid 1900000109 \\\n",
    "      --order-id 3008450740201411110007820472 --out-return-no R20190516001\n",
    "  wxpay ecommerce return-query --decode answer.http --public-key pub_key.pem \\\n",
    "      --public-key-id PUB_KEY_ID_0000000000000024101100397200000006 --now 1554208460\n",
    "\n",
    required_note!(),
    "\n\n",
    v3_notes!()
);

/// The API v3 e-commerce operations.
#[derive(Debug, Subcommand)]
pub(crate) enum EcommerceCommand {
    /// Profit-sharing order query (查询分账结果).
    #[command(after_help = ORDER_QUERY_HELP)]
    OrderQuery(OrderQueryArgs),
    /// Profit-sharing return query (查询分账回退结果).
    #[command(after_help = RETURN_QUERY_HELP)]
    ReturnQuery(ReturnQueryArgs),
}

dispatch!(EcommerceCommand { OrderQuery, ReturnQuery });

flags! {
    OrderQueryArgs { sub_mchid, transaction_id, out_order_no } + v3
    ReturnQueryArgs { sub_mchid, order_id, out_order_no, out_return_no } + v3
}

/// `wxpay ecommerce order-query`.
// `[required]` in the flags' help is text for clap, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Clone, Args)]
pub(crate) struct OrderQueryArgs {
    /// `sub_mchid`: the second-level merchant. [required]
    #[arg(long)]
    pub(crate) sub_mchid: Option<String>,
    /// `transaction_id`: the payment. [required]
    #[arg(long)]
    pub(crate) transaction_id: Option<String>,
    /// `out_order_no`: the merchant's profit-sharing order number. [required]
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
// `[required]` in the flags' help is text for clap, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Clone, Args)]
pub(crate) struct ReturnQueryArgs {
    /// `sub_mchid`: the second-level merchant. [required]
    #[arg(long)]
    pub(crate) sub_mchid: Option<String>,
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
    /// Signing and verification (last: its help heading applies to the flags that follow it).
    #[command(flatten)]
    pub(crate) v3: V3Args,
}

impl CliOperation for OrderQueryArgs {
    type Op = OrderQueryRequest;
    type Output = v3::OrderQueryResponse;

    fn request(&self) -> Result<OrderQueryRequest, CliError> {
        Ok(OrderQueryRequest::new(
            sub_mchid(&self.sub_mchid)?,
            field(&self.transaction_id, TransactionId::FIELD, TransactionId::new)?,
            field(&self.out_order_no, OutOrderNo::FIELD, OutOrderNo::new)?,
        ))
    }

    fn table(answer: &v3::OrderQueryResponse) -> String {
        order_query_table(answer)
    }

    fn times(answer: &v3::OrderQueryResponse) -> Vec<Time<'_>> {
        let receivers = answer.receivers.iter().flatten().enumerate();
        receivers
            .filter_map(|(i, r)| {
                Time::at(vec![Step::Key("receivers"), Step::Index(i)], "finish_time", r.finish_time.as_ref())
            })
            .collect()
    }

    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<(v3::OrderQueryResponse, Option<String>), CliError> {
        decode_v3(response, Some(&self.v3), v3::OrderQueryResponse::parse)
    }
}

impl CliOperation for ReturnQueryArgs {
    type Op = ReturnQueryRequest;
    type Output = v3::ReturnQueryResponse;

    fn request(&self) -> Result<ReturnQueryRequest, CliError> {
        Ok(ReturnQueryRequest::new(
            sub_mchid(&self.sub_mchid)?,
            order_ref(&self.order_id, &self.out_order_no)?,
            field(&self.out_return_no, OutReturnNo::FIELD, OutReturnNo::new)?,
        ))
    }

    fn table(answer: &v3::ReturnQueryResponse) -> String {
        return_query_table(answer)
    }

    fn times(answer: &v3::ReturnQueryResponse) -> Vec<Time<'_>> {
        Time::at(vec![], "finish_time", answer.finish_time.as_ref()).into_iter().collect()
    }

    fn decode(
        &self,
        response: &http::Response<Vec<u8>>,
    ) -> Result<(v3::ReturnQueryResponse, Option<String>), CliError> {
        decode_v3(response, Some(&self.v3), v3::ReturnQueryResponse::parse)
    }
}

/// `wxpay ecommerce order-query`: the receivers as one row each.
fn order_query_table(a: &v3::OrderQueryResponse) -> String {
    let mut t = Table::default();
    t.row("status", &a.status)
        .opt("close_reason", a.close_reason.as_ref())
        .row("order_id", &a.order_id)
        .row("out_order_no", &a.out_order_no)
        .row("transaction_id", &a.transaction_id)
        .row("sub_mchid", &a.sub_mchid)
        .opt_fen("finish_amount", a.finish_amount)
        .opt("finish_description", a.finish_description.as_ref());
    match &a.receivers {
        None => {}
        Some(receivers) if receivers.is_empty() => {
            t.row("receivers", "none");
        }
        Some(receivers) => {
            let mut grid = Grid::new(&[
                "account",
                "type",
                "amount",
                "result",
                "finish_time",
                "fail_reason",
                "detail_id",
                "description",
            ]);
            for r in receivers {
                grid.push(vec![
                    or_none(r.receiver_account.as_ref().or(r.receiver_mchid.as_ref())),
                    or_none(r.receiver_type.as_ref()),
                    amount(r.amount),
                    r.result.to_string(),
                    or_none(r.finish_time.as_ref()),
                    or_none(r.fail_reason.as_ref()),
                    or_none(r.detail_id.as_ref()),
                    r.description.clone(),
                ]);
            }
            t.grid("receivers", format!("{} listed", receivers.len()), grid);
        }
    }
    let mut extra = ExtraNames::default();
    extra.add("", &a.extra);
    for r in a.receivers.iter().flatten() {
        extra.add("receivers[]", &r.extra);
    }
    extra.row(&mut t);
    t.to_string()
}

/// `wxpay ecommerce return-query`.
fn return_query_table(a: &v3::ReturnQueryResponse) -> String {
    let mut t = Table::default();
    t.row("result", &a.result)
        .opt("fail_reason", a.fail_reason.as_ref())
        .row("order_id", &a.order_id)
        .row("out_order_no", &a.out_order_no)
        .row("out_return_no", &a.out_return_no)
        .row("return_no", &a.return_no)
        .fen("amount", a.amount)
        .row("return_mchid", &a.return_mchid)
        .row("sub_mchid", &a.sub_mchid)
        .opt("finish_time", a.finish_time.as_ref());
    ExtraNames::default().add("", &a.extra).row(&mut t);
    t.to_string()
}

#[cfg(test)]
mod tests {
    use wxpay_protocol::security::danger;

    use super::*;

    #[test]
    fn detail_id_is_a_column_and_extra_fields_are_named() {
        let body = br#"{"sub_mchid":"1900000109","transaction_id":"42","out_order_no":"P1","order_id":"300",
            "status":"FINISHED","settle_mode":"T1","receivers":[{"type":"MERCHANT_ID","receiver_account":"1900000110",
            "amount":100,"description":"d","result":"SUCCESS","detail_id":"3601111111111111111111","create_time":"x"}]}"#;
        let response = http::Response::new(body.to_vec());
        let answer = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&response)).unwrap();
        let table = order_query_table(&answer);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines.iter().any(|l| l.trim_start().starts_with("account ") && l.contains("  detail_id  ")), "{table}");
        assert!(lines.iter().any(|l| l.contains("3601111111111111111111")), "{table}");
        let extra = lines.last().and_then(|l| l.strip_prefix("extra fields")).map(str::trim_start);
        assert_eq!(extra, Some("receivers[].create_time, settle_mode (values: --json)"), "{table}");

        let body = br#"{"sub_mchid":"1","transaction_id":"2","out_order_no":"3","order_id":"4","status":"FINISHED"}"#;
        let response = http::Response::new(body.to_vec());
        let answer = v3::OrderQueryResponse::parse(&danger::inspect_unverified(&response)).unwrap();
        assert!(!order_query_table(&answer).contains("extra fields"), "no row without extra fields");
    }
}
