//! A profit-sharing notification handler in axum.
//!
//! WeChat Pay POSTs a signed notification whose resource is encrypted under the APIv3 key when a
//! profit-sharing order's receiver is paid (`PROFITSHARING.SUCCESS`) or an amount is returned
//! (`PROFITSHARING.RETURN`), and sends it again until the handler answers 200 or 204. The handler
//! below hands the request (headers and the body exactly as received) to
//! `wxpay_protocol::notify::parse_notification`, which verifies the signature, checks the
//! timestamp, decrypts and types the resource, and answers with the SDK's bodies.
//!
//! To run it with nothing else, the example starts the embedded sandbox with its notify URL
//! pointing at the axum server, asks it for a notification, and exits 0 once the handler has
//! received, verified, decrypted and acknowledged it (1 otherwise):
//!
//! ```sh
//! cargo run -p wxpay-examples --example notify_axum
//! ```
//!
//! In production, the keys come from the merchant platform (WeChat Pay's public key and its id,
//! or the platform certificates, and the APIv3 key) and the URL must be https.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use tokio::sync::mpsc;
use wxpay_protocol::notify::{self, Event, Notification};
use wxpay_protocol::security::{Apiv3Key, KeySet};
use wxpay_sandbox::{DeliveryState, NotifyRequest, Sandbox, SandboxConfig};

/// What the handler needs: the keys, and where it hands verified notifications on.
struct Handler {
    keys: KeySet,
    apiv3: Apiv3Key,
    received: mpsc::UnboundedSender<Notification>,
}

/// `POST /wxpay/notify`.
async fn notification(State(handler): State<Arc<Handler>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // The signature covers the body as received: read it whole, change nothing.
    let answer = match to_bytes(body, 64 * 1024).await {
        Err(_) => notify::answer_failure(http::StatusCode::BAD_REQUEST, "unreadable body"),
        Ok(body) => {
            let request = http::Request::from_parts(parts, body.to_vec());
            match notify::parse_notification(&request, wxpay_system::unix_now(), &handler.keys, &handler.apiv3) {
                Ok(n) => {
                    // Handle it idempotently: the same `id` can arrive more than once.
                    let _ = handler.received.send(n);
                    notify::answer_success()
                }
                // Not from WeChat Pay, or not readable: refuse, and WeChat Pay sends it again.
                Err(e) => notify::answer_failure(http::StatusCode::UNAUTHORIZED, &e.to_string()),
            }
        }
    };
    answer.map(Body::from)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The handler's server, on a loopback port of its own.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/wxpay/notify", listener.local_addr()?);

    // The sandbox plays WeChat Pay: it signs with its WeChat Pay key and encrypts under its
    // APIv3 key, and retries failed deliveries on WeChat Pay's schedule, 1000 times faster here.
    let sandbox = Sandbox::start(SandboxConfig::new().notify_url(&url).notify_time_scale(0.001)).await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handler = Arc::new(Handler {
        keys: sandbox.keys().wechatpay_keys()?,
        apiv3: sandbox.keys().apiv3_key().clone(),
        received: tx,
    });
    let app = Router::new().route("/wxpay/notify", post(notification)).with_state(handler);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let sent = sandbox.notify(&NotifyRequest::order("P20150806125346"))?;
    println!("the sandbox sent {} to {url}", sent.join(", "));
    let n = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .map_err(|_| "no notification arrived within 10 s")?
        .ok_or("the handler stopped")?;
    let Event::ProfitSharing(event) = &n.event else {
        return Err(format!("unexpected event {}", n.event_type).into());
    };
    println!(
        "{} {}: {} fen to {} {} (order {}, verified with {})",
        n.event_type,
        n.id,
        event.receiver.amount,
        event.receiver.receiver_type,
        event.receiver.account,
        event.out_order_no,
        n.serial
    );
    if n.id != sent[0] || event.receiver.amount.get() != 100 {
        return Err("the received notification is not the one sent".into());
    }

    // WeChat Pay (the sandbox) saw the acknowledgement: no retry follows.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = sandbox.notifications();
        match deliveries.first().map(|d| d.state) {
            Some(DeliveryState::Delivered) => break,
            _ if tokio::time::Instant::now() > deadline => {
                return Err(format!("not acknowledged: {deliveries:?}").into());
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    println!("acknowledged: 200 {{\"code\":\"SUCCESS\"}}");
    server.abort();
    sandbox.shutdown().await;
    Ok(())
}
