//! The three CloudPay operations on WeChat Pay's v2 API, as a merchant outside WeChat Cloud
//! Hosting calls them: signed `<xml>`, answers verified with the API v2 key, and the finish over
//! mutual TLS (the merchant API certificate as the TLS client certificate). Against the
//! embedded sandbox.
//!
//! Run: `cargo run -p wxpay-examples --example v2_wire`
//!
//! Against WeChat Pay: the same two lines with your `wxpay.toml` (`mchid`, `appid`,
//! `apiv2_key_file`, `client_cert`, `client_key`; `v2_url` defaults to
//! `https://api.mch.weixin.qq.com`), or with `Client::from_env()` / `Settings::from_env()`.

use futures_util::StreamExt;
use wxpay_examples::{ORDER_36, SUB_MCH, TRANSACTION};
use wxpay_protocol::v2::SignType;
use wxpay_protocol::{Description, OrderRef, OutOrderNo, OutReturnNo, RefundLookup, SubMchId, TransactionId, cloudpay};
use wxpay_settings::Settings;
use wxpay_transport_hyper::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let sandbox = wxpay_examples::start_sandbox().await?;
    let config = wxpay_examples::write_config(&sandbox)?;
    let result = run(&config).await;
    sandbox.shutdown().await;
    result
}

async fn run(config: &std::path::Path) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // The client (with the client certificate) and the merchant that signs, from one file.
    let client = Client::from_file(config)?;
    let merchant = Settings::from_file(config)?.v2_merchant()?;

    let returned = cloudpay::ReturnQueryRequest::new(
        SubMchId::new(SUB_MCH)?,
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346")?),
        OutReturnNo::new("R20150806125346")?,
    );
    let returned = client.execute(merchant.call(returned)).await?;
    println!("return query: {} ({} fen)", returned.result, returned.return_amount.get());

    let finish = cloudpay::FinishRequest::new(
        SubMchId::new(SUB_MCH)?,
        TransactionId::new(TRANSACTION)?,
        OutOrderNo::new("P20261121V2EXAMPLE")?,
        Description::new("分账已完成")?,
    );
    let finished = client.execute(merchant.call(finish)).await?;
    println!("finish over mutual TLS: WeChat Pay order {}", finished.order_id);

    // The refund query also takes MD5 (the v2 default); every page is signed and verified.
    let query = cloudpay::RefundQueryRequest::new(
        SubMchId::new(SUB_MCH)?,
        RefundLookup::TransactionId(TransactionId::new(ORDER_36)?),
    );
    let refunds: Vec<_> = client.refunds(merchant.call(query).with_sign_type(SignType::Md5)?).collect().await;
    let refunds = refunds.into_iter().collect::<Result<Vec<_>, _>>()?;
    println!("refund query: {} refunds, paged and verified", refunds.len());

    if finished.out_order_no != "P20261121V2EXAMPLE" || refunds.len() != 36 {
        return Err("unexpected answers".into());
    }
    Ok(())
}
