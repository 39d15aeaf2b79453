//! Notifications (docs/protocol.md §6): the sandbox sends them when an order or a return settles
//! and on demand, signed and encrypted so that the protocol's parser reads them with the sandbox's
//! own keys, and retries a handler that fails on the compressed schedule.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{ORDER_QUERY, RETURN_QUERY, Req, T0, config, http as send_http, https};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wxpay_protocol::notify::{Event, EventType, Notification, parse_notification};
use wxpay_sandbox::{DeliveryState, NotifyRequest, Sandbox};

/// What the test handler saw: every request, as received, and when.
#[derive(Default)]
struct Seen {
    requests: Vec<(Instant, http::Request<Vec<u8>>)>,
}

/// A handler on a loopback port of its own that answers `statuses` in turn (then 200).
async fn handler(statuses: Vec<u16>) -> (SocketAddr, Arc<Mutex<Seen>>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let statuses = Arc::new(Mutex::new(statuses.into_iter()));
    let task = {
        let seen = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (seen, statuses) = (seen.clone(), statuses.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                        let (seen, statuses) = (seen.clone(), statuses.clone());
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await?.to_bytes().to_vec();
                            seen.lock()
                                .unwrap()
                                .requests
                                .push((Instant::now(), http::Request::from_parts(parts, body)));
                            let status = statuses.lock().unwrap().next().unwrap_or(200);
                            let mut answer = http::Response::new(Full::new(Bytes::from_static(b"{\"code\":\"FAIL\"}")));
                            *answer.status_mut() = http::StatusCode::from_u16(status).unwrap();
                            Ok::<_, hyper::Error>(answer)
                        }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        })
    };
    (addr, seen, task)
}

fn parse(sandbox: &Sandbox, request: &http::Request<Vec<u8>>) -> Notification {
    let keys = sandbox.keys().wechatpay_keys().unwrap();
    parse_notification(request, T0, &keys, sandbox.keys().apiv3_key()).unwrap()
}

async fn wait_for(sandbox: &Sandbox, state: DeliveryState, count: usize) -> Vec<wxpay_sandbox::Delivery> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let deliveries = sandbox.notifications();
        if deliveries.len() >= count && deliveries.iter().all(|d| d.state == state) {
            return deliveries;
        }
        assert!(Instant::now() < deadline, "deliveries never reached {state:?}: {deliveries:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_handler_that_fails_twice_gets_it_on_the_third_attempt_on_the_compressed_schedule() {
    let (addr, seen, task) = handler(vec![500, 503]).await;
    let (config, _) = config();
    // 0.01: the schedule's 15 s and 15 s become 150 ms and 150 ms.
    let sandbox =
        Sandbox::start(config.notify_url(format!("http://{addr}/notify")).notify_time_scale(0.01)).await.unwrap();
    let ids = sandbox.notify(&NotifyRequest::order("P20150806125346")).unwrap();
    assert_eq!(ids.len(), 1);

    let deliveries = wait_for(&sandbox, DeliveryState::Delivered, 1).await;
    let attempts: Vec<_> = deliveries[0].attempts.iter().map(|a| a.status).collect();
    assert_eq!(attempts, [Some(500), Some(503), Some(200)]);
    assert_eq!(deliveries[0].id, ids[0]);
    assert_eq!(deliveries[0].amount, 100);
    assert_eq!(deliveries[0].account, "1900000110");

    let requests = std::mem::take(&mut seen.lock().unwrap().requests);
    assert_eq!(requests.len(), 3);
    // The waits follow the schedule (15 s, 15 s) scaled by 0.01: at least 150 ms each, and far
    // less than the unscaled 15 s.
    for pair in requests.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= Duration::from_millis(150) && gap < Duration::from_secs(5), "{gap:?}");
    }
    // Every attempt is the same notification, verified and decrypted with the sandbox's keys.
    for (_, request) in &requests {
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), "/notify");
        let n = parse(&sandbox, request);
        assert_eq!(n.id, ids[0]);
        assert_eq!(n.event_type, EventType::ProfitSharingSuccess);
        let Event::ProfitSharing(e) = n.event else { panic!("{:?}", n.event) };
        assert_eq!(e.sp_mchid.as_deref(), Some(sandbox.keys().mchid.as_str()));
        assert_eq!(e.sub_mchid.as_deref(), Some("1900000109"));
        assert_eq!(e.transaction_id, "4208450740201411110007820472");
        assert_eq!(e.receiver.account, "1900000110");
        assert_eq!(e.receiver.amount.get(), 100);
    }
    sandbox.shutdown().await;
    task.abort();
}

#[tokio::test]
async fn settling_sends_the_order_and_the_return_notifications_once() {
    let (addr, seen, task) = handler(Vec::new()).await;
    let (config, _) = config();
    let sandbox = Sandbox::start(config.notify_url(format!("http://{addr}/n"))).await.unwrap();
    // The first query reads PROCESSING: nothing is sent.
    https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(sandbox.notifications().is_empty());
    // The second reads settled: one notification; later queries send nothing more.
    https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await;
    https(&sandbox, &Req::v3(ORDER_QUERY, T0)).await;
    https(&sandbox, &Req::v3(RETURN_QUERY, T0)).await;
    https(&sandbox, &Req::v3(RETURN_QUERY, T0)).await;
    let deliveries = wait_for(&sandbox, DeliveryState::Delivered, 2).await;
    assert_eq!(deliveries.len(), 2);
    let events: Vec<_> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(events, ["PROFITSHARING.SUCCESS", "PROFITSHARING.RETURN"]);

    let requests = std::mem::take(&mut seen.lock().unwrap().requests);
    let back = parse(&sandbox, &requests[1].1);
    assert_eq!(back.event_type, EventType::ProfitSharingReturn);
    let Event::ProfitSharing(e) = back.event else { panic!() };
    assert_eq!(e.receiver.account, "86693852");
    assert_eq!(e.receiver.amount.get(), 10);
    // The return's transaction comes from its order's record.
    assert_eq!(e.transaction_id, "4208450740201411110007820472");

    // The admin endpoint lists them, and triggers more on demand.
    let listed = send_http(&sandbox, &Req::get("/_sandbox/notifications")).await;
    let listed: serde_json::Value = serde_json::from_slice(&listed.body).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert_eq!(listed[0]["state"], "delivered");
    let body = serde_json::json!({"out_order_no": "P20150806125346", "out_return_no": "R20190516001"}).to_string();
    let triggered = send_http(&sandbox, &Req::post("/_sandbox/notify").body(body)).await;
    assert_eq!(triggered.status, 200, "{}", String::from_utf8_lossy(&triggered.body));
    wait_for(&sandbox, DeliveryState::Delivered, 3).await;
    let unknown = send_http(&sandbox, &Req::post("/_sandbox/notify").body(r#"{"out_order_no":"NOPE"}"#)).await;
    assert_eq!(unknown.status, 409);
    sandbox.shutdown().await;
    task.abort();
}

#[tokio::test]
async fn a_handler_that_never_answers_2xx_is_retried_on_the_whole_schedule() {
    let (addr, seen, task) = handler(vec![500; 32]).await;
    let (config, _) = config();
    // 0.00001: the whole 24 h 4 m schedule takes under a second.
    let sandbox =
        Sandbox::start(config.notify_url(format!("http://{addr}/")).notify_time_scale(0.00001)).await.unwrap();
    sandbox.notify(&NotifyRequest::order("P20150806125346")).unwrap();
    let deliveries = wait_for(&sandbox, DeliveryState::GaveUp, 1).await;
    // The first attempt and one per step of the schedule.
    assert_eq!(deliveries[0].attempts.len(), 16);
    assert_eq!(seen.lock().unwrap().requests.len(), 16);
    sandbox.shutdown().await;
    task.abort();
}

#[tokio::test]
async fn refused_connections_are_failed_attempts() {
    // A port nobody listens on (bound, then closed).
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let (config, _) = config();
    let sandbox =
        Sandbox::start(config.notify_url(format!("http://127.0.0.1:{port}/")).notify_time_scale(0.001)).await.unwrap();
    sandbox.notify(&NotifyRequest::order("P20150806125346")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sandbox.notifications()[0].attempts.len() < 2 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let delivery = &sandbox.notifications()[0];
    assert_eq!(delivery.attempts[0].status, None);
    assert!(delivery.attempts[0].error.is_some());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn without_a_notify_url_nothing_is_sent_and_on_demand_is_refused() {
    let (config, _) = config();
    let sandbox = Sandbox::start(config).await.unwrap();
    assert!(sandbox.notify(&NotifyRequest::order("P20150806125346")).is_err());
    assert!(sandbox.notifications().is_empty());
    assert!(Sandbox::start(common::config().0.notify_url("https://example.com/notify")).await.is_err());
    sandbox.shutdown().await;
}
