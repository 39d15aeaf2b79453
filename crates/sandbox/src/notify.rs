//! Profit-sharing notifications (docs/protocol.md §6): when an API v3 order's receiver or a return
//! reaches its final state (the first answer that shows it settled), or on demand
//! (`POST /_sandbox/notify`), the sandbox POSTs a notification to the configured URL, signed with
//! its WeChat Pay key and encrypted under its APIv3 key by wxpay-protocol's server side
//! ([`notify::NotificationDraft`], [`notify::sign_notification`]), and sends it again after each
//! failed delivery on WeChat Pay's schedule ([`notify::RETRY_SCHEDULE_SECS`]) multiplied by the
//! configured time scale. `GET /_sandbox/notifications` lists the deliveries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use wxpay_protocol::notify::{self, EventType, NotificationDraft};
use wxpay_protocol::security::{Apiv3Key, RsaPrivateKey};

use crate::error::SandboxError;
use crate::server::Shared;

/// How long one delivery attempt may take before it counts as failed (WeChat Pay's timeout is
/// not published; a handler on loopback answers well within it).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// One attempt to deliver a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    /// The HTTP status the handler answered, if it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why the attempt failed without an answer (refused, timed out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Milliseconds since the notification was created.
    pub after_ms: u64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryState {
    /// Not acknowledged yet; another attempt will follow.
    Pending,
    /// Acknowledged (200 or 204).
    Delivered,
    /// Every attempt of the schedule failed.
    GaveUp,
}

/// One notification and its delivery attempts (`GET /_sandbox/notifications`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Delivery {
    /// The notification's `id`.
    pub id: String,
    /// `event_type`.
    pub event_type: String,
    /// Where it is sent.
    pub url: String,
    /// `out_order_no` of the order.
    pub out_order_no: String,
    /// `receiver.account`.
    pub account: String,
    /// `receiver.amount`, in fen.
    pub amount: u64,
    /// Where the delivery stands.
    pub state: DeliveryState,
    /// Every attempt so far, first first.
    pub attempts: Vec<Attempt>,
}

/// What the delivery tasks need: the keys to sign and encrypt with, the log, the client.
struct Sender {
    url: String,
    time_scale: f64,
    mchid: String,
    serial: String,
    signer: Arc<RsaPrivateKey>,
    apiv3: Apiv3Key,
    clock: crate::server::Clock,
    log: Mutex<Vec<Delivery>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// The sandbox's notification sender (none without a notify URL).
pub(crate) struct Notifier {
    sender: Option<Arc<Sender>>,
    tasks: Mutex<JoinSet<()>>,
    counter: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("url", &self.sender.as_ref().map(|s| s.url.clone())).finish_non_exhaustive()
    }
}

/// Checks a notify URL: `http://` (the sandbox delivers over plain HTTP, to a handler on the
/// same machine or network).
pub(crate) fn check_url(url: &str) -> Result<(), SandboxError> {
    let uri: http::Uri = url.parse().map_err(|_| SandboxError::Config("--notify-url is not a URL"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(SandboxError::Config("--notify-url must be an http:// URL (the sandbox delivers over plain HTTP)"));
    }
    Ok(())
}

impl Notifier {
    pub(crate) fn new(
        url: Option<String>,
        time_scale: f64,
        keys: &crate::SandboxKeys,
        clock: crate::server::Clock,
    ) -> Result<Self, SandboxError> {
        let sender = match url {
            None => None,
            Some(url) => {
                check_url(&url)?;
                // WeChat Pay's public key signs when there is one (the mode WeChat Pay moves
                // merchants to), else the platform certificate. A notification names no serial to
                // sign with, unlike a request.
                let (serial, signer) = match (&keys.public_key, &keys.platform) {
                    (Some(k), _) => (k.id.as_str().to_owned(), k.signer.clone()),
                    (None, Some(p)) => (p.serial.clone(), p.signer.clone()),
                    (None, None) => return Err(SandboxError::Config("no key to sign notifications with")),
                };
                Some(Arc::new(Sender {
                    url,
                    time_scale,
                    mchid: keys.mchid.clone(),
                    serial,
                    signer,
                    apiv3: keys.apiv3_key().clone(),
                    clock,
                    log: Mutex::new(Vec::new()),
                    client: Client::builder(TokioExecutor::new()).build_http(),
                }))
            }
        };
        Ok(Self { sender, tasks: Mutex::new(JoinSet::new()), counter: std::sync::atomic::AtomicU64::new(0) })
    }

    /// Whether notifications are sent.
    pub(crate) fn enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// The deliveries so far, oldest first.
    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        self.sender.as_ref().map(|s| lock(&s.log).clone()).unwrap_or_default()
    }

    /// Stops every delivery in progress.
    pub(crate) fn abort_all(&self) {
        lock(&self.tasks).abort_all();
    }

    /// Sends the notifications of a v3 record (`operation` its query's name, `answer` the
    /// record as the query answers it once settled); returns their ids.
    pub(crate) fn notify_record(&self, operation: &str, answer: &Value, transaction_id: Option<&str>) -> Vec<String> {
        let Some(sender) = &self.sender else { return Vec::new() };
        let mut ids = Vec::new();
        for (event_type, resource) in events(operation, answer, &sender.mchid, transaction_id) {
            let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let salt = crate::keys::random_bytes::<4>().map(|b| crate::keys::hex(&b)).unwrap_or_default();
            let id = format!("EV-SBX{n:08}{salt}");
            let now = (sender.clock)();
            let create_time = rfc3339(now);
            let summary = if event_type == EventType::ProfitSharingReturn { "分账回退" } else { "分账" };
            let draft = NotificationDraft::new(id.clone(), create_time, event_type.clone(), summary, resource.clone());
            let receiver = &resource["receiver"];
            lock(&sender.log).push(Delivery {
                id: id.clone(),
                event_type: event_type.as_str().to_owned(),
                url: sender.url.clone(),
                out_order_no: resource["out_order_no"].as_str().unwrap_or_default().to_owned(),
                account: receiver["account"].as_str().unwrap_or_default().to_owned(),
                amount: receiver["amount"].as_u64().unwrap_or_default(),
                state: DeliveryState::Pending,
                attempts: Vec::new(),
            });
            let sender = sender.clone();
            lock(&self.tasks).spawn(deliver(sender, draft));
            ids.push(id);
        }
        // Reap finished deliveries so the set does not grow without bound.
        while lock(&self.tasks).try_join_next().is_some() {}
        ids
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// RFC 3339 in China time, as WeChat Pay writes times.
fn rfc3339(unix: i64) -> String {
    let china = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(china)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The notifications a settled record gives: one `PROFITSHARING.SUCCESS` per receiver of an
/// order that received its amount, one `PROFITSHARING.RETURN` for a return that succeeded.
fn events(operation: &str, answer: &Value, mchid: &str, transaction_id: Option<&str>) -> Vec<(EventType, Value)> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    match operation {
        "ecommerce/profitsharing/orders" => answer
            .get("receivers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|r| r.get("result").and_then(Value::as_str) == Some("SUCCESS"))
            .map(|r| {
                let account = r
                    .get("receiver_account")
                    .or_else(|| r.get("receiver_mchid"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let resource = json!({
                    "sp_mchid": mchid,
                    "sub_mchid": text(answer, "sub_mchid"),
                    "transaction_id": text(answer, "transaction_id"),
                    "order_id": text(answer, "order_id"),
                    "out_order_no": text(answer, "out_order_no"),
                    "receiver": {
                        "type": r.get("type").and_then(Value::as_str).unwrap_or("MERCHANT_ID"),
                        "account": account,
                        "amount": r.get("amount").cloned().unwrap_or(json!(0)),
                        "description": text(r, "description"),
                    },
                    "success_time": text(r, "finish_time"),
                });
                (EventType::ProfitSharingSuccess, resource)
            })
            .collect(),
        "ecommerce/profitsharing/returnorders" if answer.get("result").and_then(Value::as_str) == Some("SUCCESS") => {
            let order_id = answer.get("return_no").or_else(|| answer.get("order_id")).and_then(Value::as_str);
            let resource = json!({
                "sp_mchid": mchid,
                "sub_mchid": text(answer, "sub_mchid"),
                "transaction_id": transaction_id.unwrap_or_default(),
                "order_id": order_id.unwrap_or_default(),
                "out_order_no": text(answer, "out_order_no"),
                "receiver": {
                    "type": "MERCHANT_ID",
                    "account": text(answer, "return_mchid"),
                    "amount": answer.get("amount").cloned().unwrap_or(json!(0)),
                    "description": text(answer, "description"),
                },
                "success_time": text(answer, "finish_time"),
            });
            vec![(EventType::ProfitSharingReturn, resource)]
        }
        _ => Vec::new(),
    }
}

/// The operation names of the two v3 queries whose records notifications are about.
const ORDERS: &str = "ecommerce/profitsharing/orders";
const RETURNS: &str = "ecommerce/profitsharing/returnorders";

/// The `transaction_id` of a return's order: returns do not carry it, the order record does.
fn transaction_of(shared: &Shared, operation: &str, answer: &Value) -> Option<String> {
    if operation != RETURNS {
        return None;
    }
    let fields: Vec<(String, String)> = ["sub_mchid", "out_order_no"]
        .iter()
        .filter_map(|k| answer.get(*k).and_then(Value::as_str).map(|v| ((*k).to_owned(), v.to_owned())))
        .collect();
    let order = shared.state.v3_record(ORDERS, &fields)?;
    order.get("transaction_id").and_then(Value::as_str).map(str::to_owned)
}

/// A record was answered settled for the first time: its notifications go out.
pub(crate) fn notify_settled(shared: &Shared, operation: &str, answer: &Value) -> Vec<String> {
    let transaction_id = transaction_of(shared, operation, answer);
    shared.notifier.notify_record(operation, answer, transaction_id.as_deref())
}

/// What `POST /_sandbox/notify` (and [`Sandbox::notify`](crate::Sandbox::notify)) names: an order
/// by its ids, or one of its returns with `out_return_no`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, Serialize)]
#[non_exhaustive]
pub struct NotifyRequest {
    /// `sub_mchid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// `out_order_no`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_order_no: Option<String>,
    /// `order_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// `transaction_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// `out_return_no`: a return of the order (`PROFITSHARING.RETURN`) instead of the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_return_no: Option<String>,
}

impl NotifyRequest {
    /// The order with this `out_order_no`.
    pub fn order(out_order_no: impl Into<String>) -> Self {
        Self { out_order_no: Some(out_order_no.into()), ..Self::default() }
    }

    /// A return of an order.
    pub fn order_return(out_order_no: impl Into<String>, out_return_no: impl Into<String>) -> Self {
        Self { out_order_no: Some(out_order_no.into()), out_return_no: Some(out_return_no.into()), ..Self::default() }
    }
}

/// Sends the notifications of the record `request` names, whatever its state would read now;
/// their ids.
pub(crate) fn notify_on_demand(shared: &Shared, request: &NotifyRequest) -> Result<Vec<String>, &'static str> {
    if !shared.notifier.enabled() {
        return Err("no notify URL is configured (--notify-url)");
    }
    let mut fields = Vec::new();
    let mut add = |name: &str, value: &Option<String>| {
        if let Some(v) = value {
            fields.push((name.to_owned(), v.clone()));
        }
    };
    add("sub_mchid", &request.sub_mchid);
    add("out_order_no", &request.out_order_no);
    add("order_id", &request.order_id);
    let operation = match &request.out_return_no {
        Some(_) => {
            add("out_return_no", &request.out_return_no);
            RETURNS
        }
        None => {
            add("transaction_id", &request.transaction_id);
            ORDERS
        }
    };
    if fields.iter().all(|(n, _)| n == "sub_mchid") {
        return Err("name the order: out_order_no, order_id or transaction_id (and out_return_no for a return)");
    }
    let answer = shared.state.v3_record(operation, &fields).ok_or("no such order or return in the sandbox's data")?;
    let ids = notify_settled(shared, operation, &answer);
    if ids.is_empty() {
        return Err("the record has no receiver or return that succeeded: nothing to notify");
    }
    Ok(ids)
}

/// Delivers one notification: attempts until one is acknowledged or the schedule runs out.
async fn deliver(sender: Arc<Sender>, draft: NotificationDraft) {
    let started = std::time::Instant::now();
    let schedule = std::iter::once(0).chain(notify::RETRY_SCHEDULE_SECS);
    for (index, wait) in schedule.enumerate() {
        if index > 0 {
            let scaled = Duration::try_from_secs_f64(wait as f64 * sender.time_scale).unwrap_or(Duration::ZERO);
            tokio::time::sleep(scaled).await;
        }
        let (status, error) = match attempt(&sender, &draft).await {
            Ok(status) => (Some(status), None),
            Err(e) => (None, Some(e)),
        };
        let acknowledged = status.is_some_and(|s| http::StatusCode::from_u16(s).is_ok_and(notify::is_acknowledged));
        let last = index == notify::RETRY_SCHEDULE_SECS.len();
        let after_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut log = lock(&sender.log);
        if let Some(delivery) = log.iter_mut().find(|d| d.id == draft.id) {
            delivery.attempts.push(Attempt { status, error, after_ms });
            delivery.state = match (acknowledged, last) {
                (true, _) => DeliveryState::Delivered,
                (false, true) => DeliveryState::GaveUp,
                (false, false) => DeliveryState::Pending,
            };
        }
        drop(log);
        if acknowledged {
            tracing::debug!(id = draft.id, attempts = index + 1, "notification delivered");
            return;
        }
    }
}

/// One attempt: encrypted with a fresh nonce and signed with a fresh timestamp, as WeChat Pay
/// sends each retry. The status, or why there is none.
async fn attempt(sender: &Sender, draft: &NotificationDraft) -> Result<u16, String> {
    let nonce = wxpay_system::random_alphanumeric(12);
    let body = draft.encrypt(&sender.apiv3, &nonce).map_err(|e| format!("cannot encrypt: {e}"))?;
    let sign_nonce = wxpay_system::random_alphanumeric(32);
    let request = notify::sign_notification(
        &sender.url,
        body,
        (sender.clock)(),
        &sign_nonce,
        &sender.serial,
        sender.signer.as_ref(),
    )
    .map_err(|e| format!("cannot sign: {e}"))?;
    let (mut parts, body) = request.into_parts();
    parts.headers.insert(
        wxpay_protocol::header::REQUEST_ID,
        http::HeaderValue::from_str(&draft.id).unwrap_or(http::HeaderValue::from_static("SBX")),
    );
    let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
    let exchange = async {
        let response = sender.client.request(request).await.map_err(|e| format!("{e}"))?;
        let status = response.status().as_u16();
        // Read the answer to the end so the connection can be reused.
        let _ = response.into_body().collect().await;
        Ok(status)
    };
    match tokio::time::timeout(ATTEMPT_TIMEOUT, exchange).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settled_orders_give_one_event_per_successful_receiver() {
        let order = json!({"sub_mchid": "1900000109", "transaction_id": "42", "order_id": "30", "out_order_no": "P1",
        "receivers": [
            {"receiver_mchid": "1900000110", "amount": 100, "description": "d", "result": "SUCCESS", "finish_time": "2015-05-20T13:29:35.120+08:00"},
            {"receiver_mchid": "1900000111", "amount": 5, "description": "d", "result": "CLOSED"}
        ]});
        let sent = events(ORDERS, &order, "1900007291", None);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, EventType::ProfitSharingSuccess);
        assert_eq!(sent[0].1["receiver"]["account"], "1900000110");
        assert_eq!(sent[0].1["sp_mchid"], "1900007291");
        let ret = json!({"sub_mchid": "1900000109", "order_id": "30", "out_order_no": "P1", "return_mchid": "86693852",
            "amount": 10, "result": "SUCCESS"});
        let sent = events(RETURNS, &ret, "1900007291", Some("42"));
        assert_eq!(sent[0].0, EventType::ProfitSharingReturn);
        assert_eq!(sent[0].1["transaction_id"], "42");
        let failed = json!({"result": "FAILED"});
        assert!(events(RETURNS, &failed, "1", None).is_empty());
    }

    #[test]
    fn only_http_urls() {
        assert!(check_url("http://127.0.0.1:8080/notify").is_ok());
        assert!(check_url("https://example.com/notify").is_err());
        assert!(check_url("not a url").is_err());
    }
}
