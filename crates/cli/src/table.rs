//! Human-readable tables of decoded answers: one aligned `key  value` row per field, amounts as
//! fen with yuan in brackets, and lists (refunds, receivers) as grids.
//!
//! The tables are compact: signatures and nonces are left out (`--json` prints everything).
//! Fields of an answer that no type knows are named in one `extra fields` row; `--json` prints
//! their values.

use std::collections::BTreeSet;
use std::fmt::{self, Display};

use wxpay_protocol::{Extra, Fen, cloudpay, v3};

/// An amount as `888 (8.88 yuan)`.
fn amount(fen: Fen) -> String {
    format!("{fen} ({} yuan)", fen.yuan_string())
}

/// What an empty cell shows.
const NONE: &str = "-";

/// The width of `s` in characters (not bytes), for padding.
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Writes `cells` padded to `widths`, two spaces apart, without trailing spaces.
fn write_cells(out: &mut String, indent: &str, cells: &[&str], widths: &[usize]) {
    let mut line = String::from(indent);
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(width(cell));
        line.extend(std::iter::repeat_n(' ', pad));
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// A grid with a header row; columns are as wide as their widest cell.
#[derive(Debug)]
struct Grid {
    header: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

impl Grid {
    fn new(header: &'static [&'static str]) -> Self {
        Self { header, rows: Vec::new() }
    }

    fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn write(&self, out: &mut String, indent: &str) {
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        write_cells(out, indent, self.header, &widths);
        for row in &self.rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            write_cells(out, indent, &cells, &widths);
        }
    }
}

/// Key/value rows with the keys padded to one width, and grids under some of them.
#[derive(Debug, Default)]
struct Table {
    rows: Vec<(&'static str, String, Option<Grid>)>,
}

impl Table {
    /// A row.
    fn row(&mut self, key: &'static str, value: impl Display) -> &mut Self {
        self.rows.push((key, value.to_string(), None));
        self
    }

    /// A row when the value is present.
    fn opt(&mut self, key: &'static str, value: Option<impl Display>) -> &mut Self {
        if let Some(value) = value {
            self.row(key, value);
        }
        self
    }

    /// An amount row.
    fn fen(&mut self, key: &'static str, value: Fen) -> &mut Self {
        self.row(key, amount(value))
    }

    /// An amount row when the amount is present.
    fn opt_fen(&mut self, key: &'static str, value: Option<Fen>) -> &mut Self {
        self.opt(key, value.map(amount))
    }

    /// A row followed by a grid.
    fn grid(&mut self, key: &'static str, value: impl Display, grid: Grid) -> &mut Self {
        self.rows.push((key, value.to_string(), Some(grid)));
        self
    }
}

impl Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_width = self.rows.iter().map(|(key, _, _)| width(key)).max().unwrap_or(0);
        let mut out = String::new();
        for (key, value, grid) in &self.rows {
            write_cells(&mut out, "", &[key, value], &[key_width]);
            if let Some(grid) = grid {
                grid.write(&mut out, "  ");
            }
        }
        f.write_str(&out)
    }
}

/// A value or [`NONE`].
fn or_none(value: Option<impl Display>) -> String {
    value.map_or_else(|| NONE.to_owned(), |v| v.to_string())
}

/// The names of extra fields, for one row: the answer's as they are, nested ones under their
/// list (`receivers[].name`), each once.
#[derive(Debug, Default)]
struct ExtraNames(BTreeSet<String>);

impl ExtraNames {
    /// The fields of `extra`, under `path` (`""` for the answer itself).
    fn add(&mut self, path: &str, extra: &Extra) -> &mut Self {
        for key in extra.keys() {
            self.0.insert(if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") });
        }
        self
    }

    /// The `extra fields` row, when there are any.
    fn row(&self, t: &mut Table) {
        if !self.0.is_empty() {
            let names: Vec<&str> = self.0.iter().map(String::as_str).collect();
            t.row("extra fields", format!("{} (values: --json)", names.join(", ")));
        }
    }
}

/// `wxpay cloudpay return-query`.
pub(crate) fn cloudpay_return_query(a: &cloudpay::ReturnQueryResponse) -> String {
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
pub(crate) fn cloudpay_finish(a: &cloudpay::FinishResponse) -> String {
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
pub(crate) fn cloudpay_refund_query(a: &cloudpay::RefundQueryResponse) -> String {
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
    for r in a.listed_refunds() {
        extra.add("refunds[]", &r.extra);
        for c in &r.coupons {
            extra.add("refunds[].coupons[]", &c.extra);
        }
    }
    extra.row(&mut t);
    t.to_string()
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
pub(crate) fn cloudpay_all_refunds(refunds: &[cloudpay::Refund], total: Fen) -> String {
    let mut t = Table::default();
    t.row("refund_count", refunds.len()).fen("refund_fee_total", total);
    if refunds.is_empty() {
        t.row("refunds", "no refunds");
    } else {
        t.grid("refunds", format!("{} listed (all pages)", refunds.len()), refund_grid(refunds));
    }
    let mut extra = ExtraNames::default();
    for r in refunds {
        extra.add("refunds[]", &r.extra);
        for c in &r.coupons {
            extra.add("refunds[].coupons[]", &c.extra);
        }
    }
    extra.row(&mut t);
    t.to_string()
}

/// `wxpay ecommerce order-query`: the receivers as one row each.
pub(crate) fn v3_order_query(a: &v3::OrderQueryResponse) -> String {
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
pub(crate) fn v3_return_query(a: &v3::ReturnQueryResponse) -> String {
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
    use super::*;

    #[test]
    fn keys_and_columns_are_aligned() {
        let mut grid = Grid::new(&["id", "fee"]);
        grid.push(vec!["12345".into(), amount(Fen::new(5))]);
        let mut t = Table::default();
        t.row("a", "x").fen("long_key", Fen::new(888)).grid("list", "1 listed", grid);
        assert_eq!(
            t.to_string(),
            "a         x\nlong_key  888 (8.88 yuan)\nlist      1 listed\n  id     fee\n  12345  5 (0.05 yuan)\n"
        );
    }

    #[test]
    fn detail_id_is_a_column_and_extra_fields_are_named() {
        let body = br#"{"sub_mchid":"1900000109","transaction_id":"42","out_order_no":"P1","order_id":"300",
            "status":"FINISHED","settle_mode":"T1","receivers":[{"type":"MERCHANT_ID","receiver_account":"1900000110",
            "amount":100,"description":"d","result":"SUCCESS","detail_id":"3601111111111111111111","create_time":"x"}]}"#;
        let answer = v3::OrderQueryResponse::parse(&http::Response::new(body.to_vec())).unwrap();
        let table = v3_order_query(&answer);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines.iter().any(|l| l.trim_start().starts_with("account ") && l.contains("  detail_id  ")), "{table}");
        assert!(lines.iter().any(|l| l.contains("3601111111111111111111")), "{table}");
        let extra = lines.last().and_then(|l| l.strip_prefix("extra fields")).map(str::trim_start);
        assert_eq!(extra, Some("receivers[].create_time, settle_mode (values: --json)"), "{table}");

        let body = br#"{"sub_mchid":"1","transaction_id":"2","out_order_no":"3","order_id":"4","status":"FINISHED"}"#;
        let answer = v3::OrderQueryResponse::parse(&http::Response::new(body.to_vec())).unwrap();
        assert!(!v3_order_query(&answer).contains("extra fields"), "no row without extra fields");
    }
}
