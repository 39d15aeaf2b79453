//! CloudPay profit-sharing finish (完结分账), with the async client, against the embedded sandbox.
//!
//! Run: `cargo run -p wxpay-examples --example cloudpay_finish`
//!
//! Against WeChat Pay: write a `wxpay.toml` for your merchant (its keys are in the README) and
//! start the client from it, or from the `WXPAY_*` variables, instead of the sandbox's:
//!
//! ```text
//! let client = wxpay_transport_hyper::Client::from_file("wxpay.toml")?; // or Client::from_env()?
//! let answer = client.execute(finish).await?;
//! ```
//!
//! Finish is a write: after a timeout (`Error::outcome_unknown`), query or resend with the
//! *same* `out_order_no`, never a new one.

use wxpay_examples::{SUB_MCH, TRANSACTION};
use wxpay_protocol::{Description, OutOrderNo, SubMchId, TransactionId, cloudpay};
use wxpay_transport_hyper::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let sandbox = wxpay_examples::start_sandbox().await?;
    let config = wxpay_examples::write_config(&sandbox)?;
    let client = Client::from_file(&config)?;

    let finish = cloudpay::FinishRequest::new(
        SubMchId::new(SUB_MCH)?,
        TransactionId::new(TRANSACTION)?,
        OutOrderNo::new("P20261121EXAMPLE1")?,
        Description::new("分账已完成")?,
    );
    let result = client.execute(finish).await;
    sandbox.shutdown().await;
    let answer = result?;

    println!(
        "finished {} as order {} (WeChat Pay order {})",
        answer.transaction_id, answer.out_order_no, answer.order_id
    );
    if answer.out_order_no != "P20261121EXAMPLE1" {
        return Err(format!("unexpected order number {}", answer.out_order_no).into());
    }
    Ok(())
}
