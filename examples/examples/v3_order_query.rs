//! API v3 e-commerce profit-sharing order query (查询分账结果), with the async client, against
//! the embedded sandbox: the request signed, the answer's signature verified.
//!
//! Run: `cargo run -p wxpay-examples --example v3_order_query`
//!
//! Against WeChat Pay: write a `wxpay.toml` for your merchant (its keys are in the README) and
//! start the client from it, or from the `WXPAY_*` variables, instead of the sandbox's:
//!
//! ```text
//! let client = wxpay_transport_hyper::Client::from_file("wxpay.toml")?; // or Client::from_env()?
//! let order = client.execute(query).await?;
//! ```

use wxpay_examples::{SUB_MCH, TRANSACTION};
use wxpay_protocol::{OutOrderNo, SubMchId, TransactionId, v3};
use wxpay_transport_hyper::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let sandbox = wxpay_examples::start_sandbox().await?;
    let config = wxpay_examples::write_config(&sandbox)?;
    let client = Client::from_file(&config)?;

    let query = v3::OrderQueryRequest::new(
        SubMchId::new(SUB_MCH)?,
        TransactionId::new(TRANSACTION)?,
        OutOrderNo::new("P20150806125346")?,
    );
    let mut result = client.execute(query.clone()).await;
    // The sandbox, like WeChat Pay, answers PROCESSING until the order settles: ask again.
    if matches!(&result, Ok(order) if order.status == v3::OrderStatus::Processing) {
        result = client.execute(query).await;
    }
    sandbox.shutdown().await;
    let order = result?;

    println!("order {} of payment {}: {:?}", order.order_id, order.transaction_id, order.status);
    for receiver in order.receivers.iter().flatten() {
        println!("  {} fen to {:?}: {:?}", receiver.amount.get(), receiver.receiver_account, receiver.result);
    }
    if order.out_order_no != "P20150806125346" {
        return Err(format!("unexpected order number {}", order.out_order_no).into());
    }
    Ok(())
}
