//! The driving loop is the protocol's and names no runtime: calls can be spawned onto a
//! multi-threaded runtime (the futures are `Send` with the hyper transport), and a transport
//! whose futures are not `Send` drives calls on a current-thread runtime. An API v3 base URL
//! over plain http is refused before any client exists.

use std::cell::Cell;
use std::rc::Rc;

use wxpay_protocol::client::ClientConfig;
use wxpay_protocol::{BaseUrl, ErrorCode, Rule, TransportError};
use wxpay_sandbox::{Sandbox, SandboxConfig};
use wxpay_tests::*;

const REFUND_NOT_EXIST: &[u8] =
    br#"{"return_code":"SUCCESS","result_code":"FAIL","err_code":"REFUNDNOTEXIST","err_code_des":"none"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_of_the_hyper_client_can_be_spawned() {
    let sandbox = Sandbox::start(SandboxConfig::new()).await.expect("the sandbox starts");
    let client = async_client(&sandbox, |b| b);
    let spawned = tokio::spawn({
        let client = client.clone();
        async move { client.execute(order_query()).await }
    });
    assert_eq!(spawned.await.expect("the task ran").expect("an answer").sub_mchid, SUB_MCH);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_transport_whose_futures_are_not_send_drives_calls() {
    let sent = Rc::new(Cell::new(0u32));
    let transport = {
        let sent = sent.clone();
        move |request: http::Request<Vec<u8>>| {
            let sent = sent.clone(); // an `Rc` held across the await: the future is not `Send`
            async move {
                tokio::task::yield_now().await;
                sent.set(sent.get() + 1);
                assert_eq!(request.uri().path(), "/_/pay/queryrefund");
                Ok::<_, TransportError>(http::Response::new(REFUND_NOT_EXIST.to_vec()))
            }
        }
    };
    let client = wxpay_transport_hyper::Client::builder().config(ClientConfig::new()).build_with_transport(transport);
    let err = client.execute(refunds_of(ORDER_36)).await.unwrap_err();
    assert_eq!(err.as_api().and_then(|api| api.code()), Some(&ErrorCode::RefundNotExist));
    assert_eq!(sent.get(), 1);
}

#[test]
fn a_plain_http_v3_base_url_is_refused_before_any_client_exists() {
    for url in ["http://api.mch.weixin.qq.com", "http://10.0.0.1:8080", "http://example.com/prefix"] {
        let err = ClientConfig::new().v3_base(BaseUrl::parse(url).unwrap()).unwrap_err();
        assert_eq!((err.field(), err.rule()), ("base_url", &Rule::PlainHttp), "{url}");
    }
    // Loopback (sandboxes, test servers) and https are accepted; both transports take only a
    // `ClientConfig`, so neither can be given the refused URL.
    for url in ["http://127.0.0.1:8080", "http://[::1]:1", "http://localhost", "https://api.mch.weixin.qq.com"] {
        assert!(ClientConfig::new().v3_base(BaseUrl::parse(url).unwrap()).is_ok(), "{url}");
    }
    let sent = std::sync::atomic::AtomicU32::new(0);
    let counting = |_: http::Request<Vec<u8>>| {
        sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(http::Response::new(Vec::new()))
    };
    let blocking = wxpay_blocking::Client::builder().config(ClientConfig::new()).build_with_transport(counting);
    // The default v3 base is WeChat Pay's https endpoint: a call without credentials fails
    // before sending, and nothing reached the transport.
    assert!(blocking.execute(order_query()).is_err());
    assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 0);
}
