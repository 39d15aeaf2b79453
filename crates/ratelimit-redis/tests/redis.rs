//! The Redis budget against a real `redis-server` on a loopback port of its own: slots spaced
//! across separate connections (separate processes, as far as Redis can tell), both flavours on
//! one budget, an unreachable Redis, a Redis that comes back, and clients that share a budget
//! against a sandbox that enforces the limit.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::redis::{RedisServer, free_port};
use wxpay_protocol::client::{BudgetError, Permit, RateLimiter, SharedBudget};
use wxpay_protocol::{ErrorCode, Operation, cloudpay};
use wxpay_ratelimit_redis::{BlockingRedisBudget, Options, RedisBudget};
use wxpay_sandbox::{Sandbox, SandboxConfig};

fn permit(qps: u32) -> Permit {
    Permit::new("profitsharingreturnquery", "", qps).merchant("1900007291")
}

/// Where each reservation's slot lies on this process's monotonic clock: the server read its
/// clock somewhere during the round trip, so the slot is between (call + wait) and (answer +
/// wait). Bounds instead of a point keep the check true on a loaded machine.
async fn slots(budgets: &[&dyn SharedBudget], permit: &Permit, n: usize) -> Vec<(Instant, Instant)> {
    let mut slots = Vec::new();
    for i in 0..n {
        let asked = Instant::now();
        let wait = budgets[i % budgets.len()].reserve(permit).await.expect("a slot");
        slots.push((asked + wait, Instant::now() + wait));
    }
    slots
}

#[tokio::test]
async fn slots_are_one_interval_apart_across_connections() {
    let redis = RedisServer::start();
    let a = RedisBudget::open(&redis.url(), Options::default()).unwrap();
    let b = RedisBudget::open(&redis.url(), Options::default()).unwrap();
    let permit = permit(50); // 20 ms apart
    let slots = slots(&[&a, &b], &permit, 12).await;
    let tolerance = Duration::from_millis(1); // microsecond rounding on both sides
    for pair in slots.windows(2) {
        let ((lo, hi), (next_lo, next_hi)) = (pair[0], pair[1]);
        let (shortest, longest) = (next_lo.saturating_duration_since(hi), next_hi.saturating_duration_since(lo));
        assert!(
            shortest <= Duration::from_millis(20) + tolerance && longest + tolerance >= Duration::from_millis(20),
            "slots 20 ms apart on the server's clock: the gap lies in [{shortest:?}, {longest:?}]"
        );
    }
    // Another subject has its own budget: its first slot is now.
    let other = Permit::new("profitsharingfinish", "1900000109", 60).merchant("1900007291");
    assert!(a.reserve(&other).await.unwrap() < Duration::from_millis(5));
}

#[test]
fn the_blocking_budget_shares_the_async_one() {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let asynchronous = RedisBudget::open(&redis.url(), Options::default()).unwrap();
    let blocking = BlockingRedisBudget::open(&redis.url(), Options::default()).unwrap();
    let permit = permit(10); // 100 ms apart
    let asked = Instant::now();
    let first = runtime.block_on(asynchronous.reserve(&permit)).unwrap();
    let first_slot = (asked + first, Instant::now() + first);
    let asked = Instant::now();
    let second = wxpay_protocol::client::now_or_never(blocking.reserve(&permit))
        .expect("the blocking budget completes at once")
        .unwrap();
    let second_slot = (asked + second, Instant::now() + second);
    // The second slot is 100 ms after the first, within the round trips' uncertainty.
    let tolerance = Duration::from_millis(1);
    let shortest = second_slot.0.saturating_duration_since(first_slot.1);
    let longest = second_slot.1.saturating_duration_since(first_slot.0);
    assert!(
        shortest <= Duration::from_millis(100) + tolerance && longest + tolerance >= Duration::from_millis(100),
        "the gap lies in [{shortest:?}, {longest:?}]"
    );
}

#[tokio::test]
async fn an_unreachable_redis_fails_after_the_configured_time_and_sends_nothing() {
    let url = format!("redis://127.0.0.1:{}/", free_port()); // nothing listens there
    let budget = RedisBudget::open(&url, Options::default().unavailable_after(Duration::from_millis(400))).unwrap();
    let started = Instant::now();
    let err = budget.reserve(&permit(30)).await.unwrap_err();
    let BudgetError::Unavailable { waited, .. } = &err else { panic!("{err:?}") };
    assert!(*waited >= Duration::from_millis(400) && started.elapsed() < Duration::from_secs(5), "{waited:?}");
    assert!(budget.unreachable_since().is_some());
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    // The Debug output names no URL (it may carry a password).
    assert!(!format!("{budget:?}").contains("redis://"));
}

#[tokio::test]
async fn a_redis_that_comes_back_within_the_window_gives_the_slot() {
    let mut redis = RedisServer::start();
    let port = redis.port();
    let budget = RedisBudget::open(&redis.url(), Options::default()).unwrap();
    budget.reserve(&permit(30)).await.unwrap();
    redis.kill();
    let restarted = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        RedisServer::start_on(port)
    });
    let started = Instant::now();
    let wait = budget.reserve(&permit(30)).await.expect("a slot once Redis is back");
    assert!(started.elapsed() >= Duration::from_millis(500), "it waited for Redis: {:?}", started.elapsed());
    assert!(wait < Duration::from_millis(40));
    assert!(budget.unreachable_since().is_none(), "reachable again");
    drop(restarted.join().unwrap());
}

/// Two clients (each its own state, like two processes) calling the return query, against a
/// sandbox that allows `sandbox_qps` of it; each client's own limit is `sandbox_qps`.
async fn two_clients(shared: Option<&str>, sandbox_qps: u32, calls_each: usize) -> (u64, u64, Duration) {
    let sandbox =
        Sandbox::start(SandboxConfig::new().qps(cloudpay::ReturnQueryRequest::SPEC.name, sandbox_qps)).await.unwrap();
    let client = |budget: Option<Arc<dyn SharedBudget>>| {
        let mut limits = RateLimiter::off();
        limits.set(cloudpay::ReturnQueryRequest::SPEC.name, sandbox_qps);
        let mut config = common::client_config(&sandbox).rate_limits(limits);
        if let Some(budget) = budget {
            config = config.shared_budget(budget);
        }
        wxpay_transport_hyper::Client::builder()
            .config(config.retry_policy(wxpay_protocol::client::RetryPolicy::new().max_attempts(1)))
            .add_root_certificate(common::ca_der(&sandbox))
            .build()
            .unwrap()
    };
    let budget = |url: &str| -> Arc<dyn SharedBudget> { Arc::new(RedisBudget::open(url, Options::default()).unwrap()) };
    let (a, b) = match shared {
        Some(url) => (client(Some(budget(url))), client(Some(budget(url)))),
        None => (client(None), client(None)),
    };
    let started = Instant::now();
    let run = |c: wxpay_transport_hyper::Client| async move {
        let mut limited = 0u64;
        for _ in 0..calls_each {
            if let Err(e) = c.execute(common::return_query()).await {
                assert_eq!(e.as_api().and_then(|a| a.code()), Some(&ErrorCode::FrequencyLimited), "{e}");
                limited += 1;
            }
        }
        limited
    };
    let (la, lb) = tokio::join!(run(a), run(b));
    let elapsed = started.elapsed();
    let stats = sandbox.stats();
    assert_eq!(stats.frequency_limited, la + lb, "the sandbox counts what the clients saw");
    sandbox.shutdown().await;
    (stats.limited_admitted, stats.frequency_limited, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_sharing_a_budget_keep_the_limit_together() {
    let redis = RedisServer::start();
    // Shared: 40 calls at 10 QPS in all, none refused.
    let (admitted, refused, elapsed) = two_clients(Some(&redis.url()), 10, 20).await;
    assert_eq!((admitted, refused), (40, 0));
    assert!(elapsed >= Duration::from_millis(2900), "{elapsed:?}: 40 calls at 10 QPS after a burst of 10");
    // Each with its own budget: twice the rate is offered, and the sandbox refuses some.
    let (_, refused, _) = two_clients(None, 10, 20).await;
    assert!(refused > 0, "without the shared budget the sandbox answers FREQUENCY_LIMITED");
}
