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
    /// The notification did not arrive, or did not verify (a bug).
    #[error("the notification failed: {0}")]
    Notification(String),
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
    // The demo's own notification handler, on a loopback port the sandbox is told about.
    let socket = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(DemoError::Runtime)?;
    let notify_url = format!("http://{}/wxpay/notify", socket.local_addr().map_err(DemoError::Runtime)?);
    let config = SandboxConfig::new().notify_url(notify_url).notify_time_scale(0.001);
    let sandbox = Sandbox::start(config).await.map_err(DemoError::Sandbox)?;
    let client = client(&sandbox)?;
    let mut sections = Vec::new();
    let sub = || SubMchId::new(SUB_MCH);

    let return_query = cloudpay::ReturnQueryRequest::new(
        sub()?,
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
    let all = cloudpay::RefundQueryRequest::new(sub()?, RefundLookup::TransactionId(TransactionId::new(ORDER_36)?));
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

    sections.push(v2_wire(&sandbox, &client, sub()?).await?);

    sections.push(notification(&sandbox, socket).await?);

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

/// The last step: the sandbox sends a profit-sharing notification for the order, signed and
/// encrypted like WeChat Pay's; the demo's handler on `socket` verifies and decrypts it with the
/// keys the merchant holds (the WeChat Pay key and the APIv3 key), and answers success.
async fn notification(sandbox: &Sandbox, socket: tokio::net::TcpListener) -> Result<Section, DemoError> {
    use hyper::service::service_fn;
    use wxpay_protocol::notify;

    let keys = sandbox.keys().wechatpay_keys().map_err(DemoError::Sandbox)?;
    let apiv3 = sandbox.keys().apiv3_key().clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = socket.accept().await {
            let (keys, apiv3, tx) = (keys.clone(), apiv3.clone(), tx.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let (keys, apiv3, tx) = (keys.clone(), apiv3.clone(), tx.clone());
                    async move {
                        use http_body_util::BodyExt;
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await?.to_bytes().to_vec();
                        let request = http::Request::from_parts(parts, body);
                        let parsed = notify::parse_notification(&request, wxpay_system::unix_now(), &keys, &apiv3);
                        let answer = match &parsed {
                            Ok(_) => notify::answer_success(),
                            Err(e) => notify::answer_failure(http::StatusCode::UNAUTHORIZED, &e.to_string()),
                        };
                        let _ = tx.send(parsed.map_err(|e| e.to_string()));
                        let (parts, body) = answer.into_parts();
                        Ok::<_, hyper::Error>(http::Response::from_parts(
                            parts,
                            http_body_util::Full::new(bytes::Bytes::from(body)),
                        ))
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    // The order query above was the first to answer FINISHED: the sandbox sent the order's
    // notification then (and the return's), as WeChat Pay does when a receiver is paid.
    let wait = async {
        while let Some(parsed) = rx.recv().await {
            match parsed {
                Ok(n) if n.event_type == notify::EventType::ProfitSharingSuccess => return Ok(n),
                Ok(_) => {}
                Err(e) => return Err(DemoError::Notification(e)),
            }
        }
        Err(DemoError::Notification("the handler stopped".to_owned()))
    };
    let received = tokio::time::timeout(std::time::Duration::from_secs(10), wait).await;
    server.abort();
    let n = received.map_err(|_| DemoError::Notification("nothing arrived within 10 s".to_owned()))??;
    let mut table = crate::listen::table(&n);
    let _ = writeln!(
        table,
        "  (sent when the order query first answered FINISHED; verified and decrypted by the demo's \
         handler, answered 200 SUCCESS)"
    );
    Ok(Section {
        title: "A profit-sharing notification, sent by the sandbox and received".to_owned(),
        table,
        json: json!({"operation": "notification", "notification": n}),
    })
}

/// The three CloudPay operations again, on WeChat Pay's v2 API as a merchant outside Cloud
/// Hosting calls them: signed `<xml>` bodies under the API v2 key, answers whose `sign` is
/// verified before they are read, and the finish over mutual TLS (`/secapi/`).
async fn v2_wire(sandbox: &Sandbox, client: &Client, sub: SubMchId) -> Result<Section, DemoError> {
    let merchant = sandbox.v2_merchant().map_err(DemoError::Sandbox)?;
    let returned = cloudpay::ReturnQueryRequest::new(
        sub.clone(),
        OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346")?),
        OutReturnNo::new("R20150806125346")?,
    );
    let returned = client.execute(merchant.call(returned)).await.map_err(|e| DemoError::Call("v2 return query", e))?;
    // The finish of the CloudPay section, sent again on the other wire with the same number:
    // the same finish, not a second one.
    let finish = cloudpay::FinishRequest::new(
        sub.clone(),
        TransactionId::new(TRANSACTION)?,
        OutOrderNo::new("P20261121DEMO1")?,
        Description::new("分账已完成")?,
    );
    let finished = client.execute(merchant.call(finish)).await.map_err(|e| DemoError::Call("v2 finish", e))?;
    let refund = cloudpay::RefundQueryRequest::new(
        sub,
        RefundLookup::TransactionId(TransactionId::new("1217752501201407033233368018")?),
    );
    let md5 = merchant.call(refund).with_sign_type(wxpay_protocol::v2::SignType::Md5)?;
    let refunds = client.execute(md5).await.map_err(|e| DemoError::Call("v2 refund query", e))?;

    let mut table = String::new();
    let _ = writeln!(table, "  merchant      mch_id {} appid {}", merchant.mch_id(), merchant.appid());
    let _ = writeln!(table, "  return query  POST /pay/profitsharingreturnquery (HMAC-SHA256): {}", returned.result);
    let _ = writeln!(
        table,
        "  finish        POST /secapi/pay/profitsharingfinish (HMAC-SHA256, mutual TLS): order {} for {}",
        finished.order_id, finished.out_order_no
    );
    let _ = writeln!(
        table,
        "  refund query  POST /pay/refundquery (MD5): {} refund(s), first {}",
        refunds.refund_count,
        refunds.listed_refunds().first().map_or("-", |r| r.refund_status.as_str())
    );
    let _ = writeln!(table, "  (each answer's sign verified with the API v2 key before it was read)");
    Ok(Section {
        title: "The same CloudPay operations on WeChat Pay's v2 API (signed XML)".to_owned(),
        table,
        json: json!({
            "operation": "v2 wire",
            "return_query": to_json::<cloudpay_cli::ReturnQueryArgs>("cloudpay return-query --wire v2", &returned),
            "finish": to_json::<cloudpay_cli::FinishArgs>("cloudpay finish --wire v2", &finished),
            "refund_query": to_json::<cloudpay_cli::RefundQueryArgs>("cloudpay refund-query --wire v2", &refunds),
        }),
    })
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
        .v2_base(base(sandbox.https_url())?)?
        .client_identity(sandbox.client_identity().map_err(DemoError::Sandbox)?)
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
