//! CloudPay profit-sharing return query (查询分账回退结果), with the blocking client, against the
//! embedded sandbox.
//!
//! Run: `cargo run -p wxpay-examples --example cloudpay_return_query`
//!
//! Against WeChat Pay: write a `wxpay.toml` for your merchant (its keys are in the README) and
//! start the client from it, or from the `WXPAY_*` variables, instead of the sandbox's:
//!
//! ```text
//! let client = wxpay_blocking::Client::from_file("wxpay.toml")?; // or Client::from_env()?
//! let answer = client.execute(query)?;
//! ```
//!
//! CloudPay goes through WeChat Cloud Hosting's open-API sidecar (`cloudpay_url`, default
//! `http://api.weixin.qq.com`), which signs for you.

use wxpay_blocking::Client;
use wxpay_examples::{BackgroundSandbox, SUB_MCH};
use wxpay_protocol::{OrderRef, OutOrderNo, OutReturnNo, SubMchId, cloudpay};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let sandbox = BackgroundSandbox::start()?;
    let client = Client::from_file(sandbox.config_file())?;

    // No nonce_str: the client draws a fresh one (`.with_nonce(..)` gives your own).
    let query = cloudpay::ReturnQueryRequest::new(
        SubMchId::new(SUB_MCH)?,
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346")?),
        OutReturnNo::new("R20150806125346")?,
    );
    let answer = client.execute(query)?;

    println!(
        "return {} of order {}: {:?}, {} fen",
        answer.out_return_no,
        answer.out_order_no,
        answer.result,
        answer.return_amount.get()
    );
    if answer.out_return_no != "R20150806125346" {
        return Err(format!("unexpected return number {}", answer.out_return_no).into());
    }
    Ok(())
}
