//! `wxpay demo`: the whole stack on the embedded sandbox. It starts `wxpay-sandbox` in-process
//! on loopback, points the async client at it over HTTPS (signing requests, downloading the
//! platform certificate with the APIv3 key and verifying every answer), runs the five
//! operations, pages through an order's 36 refunds, and shows an injected fault being retried.

use std::fmt::Write as _;

use futures_util::StreamExt;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use wxpay_protocol::client::{ClientConfig, KeyMode};
use wxpay_protocol::security::KeySet;
use wxpay_protocol::{
    BaseUrl, Description, OrderRef, OutOrderNo, OutReturnNo, RefundLookup, SubMchId, TransactionId, cloudpay, v3,
};
use wxpay_sandbox::{Fault, Sandbox, SandboxConfig};
use wxpay_transport_hyper::Client;

use crate::ops::{CliOperation, cloudpay as cloudpay_cli, ecommerce};

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DemoError {
    /// The sandbox did not start.
    #[error("the embedded sandbox did not start")]
    Sandbox(#[source] wxpay_sandbox::SandboxError),
    /// The client could not be built.
    #[error("the client could not be built")]
    Client(#[source] wxpay_transport_hyper::BuildError),
    /// A call failed (the sandbox answers every call of the demo, so this is a bug).
    #[error("{0} failed")]
    Call(&'static str, #[source] wxpay_protocol::Error),
    /// Paging stopped early.
    #[error("paging through the refunds failed")]
    Paging(#[source] wxpay_protocol::client::RefundsError),
    /// The tokio runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// A demo value broke a rule (a bug).
    #[error("a demo request is invalid")]
    Invalid(#[from] wxpay_protocol::ValidationError),
}

/// The ids of the seeds' examples, which the sandbox serves.
const SUB_MCH: &str = "1900000109";
const TRANSACTION: &str = "4208450740201411110007820472";
const ORDER_36: &str = "4200000000000000000000000036";

/// Runs the demo and returns what to print.
pub(crate) fn run(json_output: bool) -> Result<String, DemoError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(DemoError::Runtime)?;
    runtime.block_on(demo(json_output))
}

/// One step of the demo: its title, the human table and the JSON answer.
struct Section {
    title: String,
    table: String,
    json: Value,
}

async fn demo(json_output: bool) -> Result<String, DemoError> {
    let sandbox = Sandbox::start(SandboxConfig::new()).await.map_err(DemoError::Sandbox)?;
    let client = client(&sandbox)?;
    let mut sections = Vec::new();
    let sub = || SubMchId::new(SUB_MCH);

    let return_query = cloudpay::ReturnQueryRequest::new(
        sub()?,
        client.nonce(),
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346")?),
        OutReturnNo::new("R20150806125346")?,
    );
    for attempt in ["first query", "second query"] {
        let a = client.execute(return_query.clone()).await.map_err(|e| DemoError::Call("return query", e))?;
        sections.push(Section {
            title: format!("CloudPay profit-sharing return query ({attempt}: {})", a.result),
            table: cloudpay_cli::ReturnQueryArgs::table(&a),
            json: to_json::<cloudpay_cli::ReturnQueryArgs>("cloudpay return-query", &a),
        });
    }

    let finish = cloudpay::FinishRequest::new(
        sub()?,
        client.nonce(),
        TransactionId::new(TRANSACTION)?,
        OutOrderNo::new("P20261121DEMO1")?,
        Description::new("分账已完成")?,
    );
    let a = client.execute(finish).await.map_err(|e| DemoError::Call("finish", e))?;
    sections.push(Section {
        title: "CloudPay profit-sharing finish".into(),
        table: cloudpay_cli::FinishArgs::table(&a),
        json: to_json::<cloudpay_cli::FinishArgs>("cloudpay finish", &a),
    });

    let order =
        v3::OrderQueryRequest::new(sub()?, TransactionId::new(TRANSACTION)?, OutOrderNo::new("P20150806125346")?);
    let a = client.execute(order.clone()).await.map_err(|e| DemoError::Call("order query", e))?;
    let a = match a.status {
        v3::OrderStatus::Processing => client.execute(order).await.map_err(|e| DemoError::Call("order query", e))?,
        _ => a,
    };
    sections.push(Section {
        title: "API v3 e-commerce profit-sharing order query (signed, verified; queried until settled)".into(),
        table: ecommerce::OrderQueryArgs::table(&a),
        json: to_json::<ecommerce::OrderQueryArgs>("ecommerce order-query", &a),
    });

    let ret = v3::ReturnQueryRequest::new(
        sub()?,
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346")?),
        OutReturnNo::new("R20190516001")?,
    );
    let a = client.execute(ret.clone()).await.map_err(|e| DemoError::Call("return query", e))?;
    let a = match a.result {
        v3::ReturnResult::Processing => client.execute(ret).await.map_err(|e| DemoError::Call("return query", e))?,
        _ => a,
    };
    sections.push(Section {
        title: "API v3 e-commerce profit-sharing return query (signed, verified; queried until settled)".into(),
        table: ecommerce::ReturnQueryArgs::table(&a),
        json: to_json::<ecommerce::ReturnQueryArgs>("ecommerce return-query", &a),
    });

    // A fault: the next refund query answers SYSTEMERROR; the client retries the same request.
    let before = sandbox.stats().requests;
    sandbox.inject("queryrefund", Fault::ServerError, 1).map_err(DemoError::Sandbox)?;
    let refund = cloudpay::RefundQueryRequest::new(
        sub()?,
        client.nonce(),
        RefundLookup::TransactionId(TransactionId::new("1217752501201407033233368018")?),
    );
    let a = client.execute(refund).await.map_err(|e| DemoError::Call("refund query", e))?;
    let attempts = sandbox.stats().requests - before;
    sections.push(Section {
        title: format!("CloudPay refund query (an injected SYSTEMERROR, retried: {attempts} requests)"),
        table: cloudpay_cli::RefundQueryArgs::table(&a),
        json: to_json::<cloudpay_cli::RefundQueryArgs>("cloudpay refund-query", &a),
    });

    let before = sandbox.stats().requests;
    let all = cloudpay::RefundQueryRequest::new(
        sub()?,
        client.nonce(),
        RefundLookup::TransactionId(TransactionId::new(ORDER_36)?),
    );
    let refunds: Vec<_> = client.refunds(all).collect().await;
    let refunds = refunds.into_iter().collect::<Result<Vec<_>, _>>().map_err(DemoError::Paging)?;
    let pages = sandbox.stats().requests - before;
    let total: u64 = refunds.iter().map(|r| r.refund_fee.get()).sum();
    let mut paging = String::new();
    let _ = writeln!(paging, "  refunds       {}", refunds.len());
    let _ = writeln!(paging, "  pages         {pages} (at most 10 refunds per answer)");
    let _ = writeln!(paging, "  refunded      {total} fen ({}.{:02} yuan)", total / 100, total % 100);
    let _ = writeln!(
        paging,
        "  first / last  {} / {}",
        refunds.first().map_or("-", |r| r.out_refund_no.as_str()),
        refunds.last().map_or("-", |r| r.out_refund_no.as_str())
    );
    sections.push(Section {
        title: format!("Paging through the refunds of {ORDER_36}"),
        table: paging,
        json: json!({"operation": "refund paging", "refunds": refunds.len(), "pages": pages, "refund_fee_total": total}),
    });

    let stats = sandbox.stats();
    let info = sandbox.info().clone();
    sandbox.shutdown().await;
    if json_output {
        let operations: Vec<Value> = sections.into_iter().map(|s| s.json).collect();
        let out = json!({"sandbox": info, "operations": operations, "sandbox_stats": stats});
        return Ok(format!("{out}\n"));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wxpay demo: {} on {} (CloudPay) and {} (API v3, TLS)",
        info["sandbox"].as_str().unwrap_or("wxpay-sandbox"),
        info["http_url"].as_str().unwrap_or("-"),
        info["https_url"].as_str().unwrap_or("-"),
    );
    let _ = writeln!(
        out,
        "merchant {} signs every v3 request; answers are verified with the platform certificate \
         downloaded from /v3/certificates and decrypted with the APIv3 key.\n",
        info["mchid"].as_str().unwrap_or("-")
    );
    for s in sections {
        let _ = writeln!(out, "== {}\n{}", s.title, s.table);
    }
    let _ = writeln!(
        out,
        "sandbox: {} requests on {} connections ({} TLS handshakes)",
        stats.requests, stats.connections, stats.tls_handshakes
    );
    Ok(out)
}

fn to_json<C: CliOperation>(operation: &str, answer: &C::Output) -> Value {
    json!({"operation": operation, "answer": C::json(answer).unwrap_or(Value::Null)})
}

/// An async client for the sandbox in certificate mode: the platform certificate is downloaded
/// on first use and decrypted with the sandbox's APIv3 key.
fn client(sandbox: &Sandbox) -> Result<Client, DemoError> {
    let base = |url: Option<String>| BaseUrl::parse(&url.unwrap_or_default());
    let mut config = ClientConfig::new()
        .v3_base(base(sandbox.https_url())?)?
        .cloudpay_base(base(sandbox.http_url())?)
        .keys(KeyMode::Certificates { apiv3_key: sandbox.keys().apiv3_key().clone(), keys: KeySet::new() })
        .user_agent_suffix("wxpay-demo");
    if let Some(credentials) = sandbox.keys().merchant_credentials() {
        config = config.credentials(credentials);
    }
    let mut builder = Client::builder().config(config).without_webpki_roots();
    if let Ok(ca) = CertificateDer::from_pem_slice(sandbox.tls_ca_pem().as_bytes()) {
        builder = builder.add_root_certificate(ca);
    }
    builder.build().map_err(DemoError::Client)
}
