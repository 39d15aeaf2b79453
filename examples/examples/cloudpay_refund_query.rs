//! CloudPay refund query (查询退款), with the async client, against the embedded sandbox: one
//! page, then every refund of an order page by page.
//!
//! Run: `cargo run -p wxpay-examples --example cloudpay_refund_query`
//!
//! Against WeChat Pay: write a `wxpay.toml` for your merchant (its keys are in the README) and
//! start the client from it, or from the `WXPAY_*` variables, instead of the sandbox's:
//!
//! ```text
//! let client = wxpay_transport_hyper::Client::from_file("wxpay.toml")?; // or Client::from_env()?
//! let first_page = client.execute(query).await?;
//! ```

use futures_util::TryStreamExt;
use wxpay_examples::{ORDER_36, SUB_MCH};
use wxpay_protocol::{RefundLookup, SubMchId, TransactionId, cloudpay};
use wxpay_transport_hyper::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let sandbox = wxpay_examples::start_sandbox().await?;
    let config = wxpay_examples::write_config(&sandbox)?;
    let client = Client::from_file(&config)?;

    let query = cloudpay::RefundQueryRequest::new(
        SubMchId::new(SUB_MCH)?,
        RefundLookup::TransactionId(TransactionId::new(ORDER_36)?),
    );
    let first_page = client.execute(query.clone()).await;
    // Every refund, ten per answer; the pager stops on pages that contradict each other.
    let all: Result<Vec<_>, _> = client.refunds(query).try_collect().await;
    sandbox.shutdown().await;
    let (first_page, all) = (first_page?, all?);

    println!("first page: {} of {:?} refunds", first_page.refund_count, first_page.total_refund_count);
    let total: u64 = all.iter().map(|r| r.refund_fee.get()).sum();
    println!("all pages: {} refunds, {total} fen", all.len());
    if Some(all.len()) != first_page.total_refund_count.and_then(|n| usize::try_from(n).ok()) {
        return Err(
            format!("paging found {} refunds, the answer says {:?}", all.len(), first_page.total_refund_count).into()
        );
    }
    Ok(())
}
