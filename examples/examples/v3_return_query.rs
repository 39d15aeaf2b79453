//! API v3 e-commerce profit-sharing return query (查询分账回退结果), with the blocking client,
//! against the embedded sandbox: the request signed, the answer's signature verified.
//!
//! Run: `cargo run -p wxpay-examples --example v3_return_query`
//!
//! Against WeChat Pay: write a `wxpay.toml` for your merchant (its keys are in the README) and
//! start the client from it, or from the `WXPAY_*` variables, instead of the sandbox's:
//!
//! ```text
//! let client = wxpay_blocking::Client::from_file("wxpay.toml")?; // or Client::from_env()?
//! let answer = client.execute(query)?;
//! ```

use wxpay_blocking::Client;
use wxpay_examples::{BackgroundSandbox, SUB_MCH};
use wxpay_protocol::{OrderRef, OutOrderNo, OutReturnNo, SubMchId, v3};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let sandbox = BackgroundSandbox::start()?;
    let client = Client::from_file(sandbox.config_file())?;

    let query = v3::ReturnQueryRequest::new(
        SubMchId::new(SUB_MCH)?,
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346")?),
        OutReturnNo::new("R20190516001")?,
    );
    let mut answer = client.execute(query.clone())?;
    // The sandbox, like WeChat Pay, answers PROCESSING until the return settles: ask again.
    if answer.result == v3::ReturnResult::Processing {
        answer = client.execute(query)?;
    }

    println!(
        "return {} of order {}: {:?}, {} fen",
        answer.out_return_no,
        answer.out_order_no,
        answer.result,
        answer.amount.get()
    );
    if answer.out_return_no != "R20190516001" {
        return Err(format!("unexpected return number {}", answer.out_return_no).into());
    }
    Ok(())
}
