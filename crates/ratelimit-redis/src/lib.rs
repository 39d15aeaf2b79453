//! # wxpay-ratelimit-redis
//!
//! A rate budget that a fleet of wxpay workers shares through Redis. WeChat Pay counts a
//! merchant's calls on its side, for all of the merchant's processes together
//! (docs/protocol.md §7): four workers that each keep 30 QPS offer 120, and are answered
//! `FREQUENCY_LIMITED`. With this backend every worker reserves its slots from one budget per
//! operation (and, for finish, per receiving sub-merchant), so together they keep the documented
//! limit.
//!
//! The algorithm is GCRA in its "virtual scheduling" form, run as one Lua script on the Redis
//! server: it reads the server's clock (`TIME`), so workers whose clocks disagree still agree,
//! and it moves the budget's theoretical arrival time forward by `1/qps` atomically, so no two
//! workers get the same slot. Each call gets the next free slot and waits for it.
//!
//! When Redis cannot be reached, nothing is sent: the budget waits and reconnects, says so in
//! the log (and in [`RedisBudget::unreachable_since`], for progress lines), and gives up with
//! [`BudgetError::Unavailable`] after [`Options::unavailable_after`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use wxpay_protocol::client::ClientConfig;
//! use wxpay_ratelimit_redis::{Options, RedisBudget};
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let budget = RedisBudget::open("redis://127.0.0.1:6379/", Options::default())?;
//! let config = ClientConfig::new().shared_budget(Arc::new(budget));
//! // ... build the async client with `config`; the blocking client takes a `BlockingRedisBudget`.
//! # let _ = config; Ok(()) }
//! ```

#![forbid(unsafe_code)]

use std::future::{Future, ready};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use wxpay_protocol::client::{BudgetError, Permit, Reservation, SharedBudget};

/// The GCRA step, on the server's clock: the slot is the budget's theoretical arrival time (or
/// now, if that has passed); the next one is a whole interval later. Returns the wait in
/// microseconds. The key expires a second after its last slot, so idle budgets leave nothing.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
return tat - now
";

/// How a budget names its keys and rides out an unreachable Redis.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Prepended to every key (default `wxpay:rate:`): one prefix per fleet that shares budgets.
    pub key_prefix: String,
    /// How long to keep trying to reach Redis for one slot before failing (default 60 s).
    pub unavailable_after: Duration,
    /// The wait before the first reconnection; it doubles up to [`Options::max_backoff`]
    /// (default 100 ms).
    pub first_backoff: Duration,
    /// The longest wait between reconnections (default 2 s).
    pub max_backoff: Duration,
    /// The longest a connection attempt or a command may take (default 2 s).
    pub io_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            key_prefix: "wxpay:rate:".to_owned(),
            unavailable_after: Duration::from_secs(60),
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            io_timeout: Duration::from_secs(2),
        }
    }
}

impl Options {
    /// The key prefix.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// How long to keep trying to reach Redis for one slot.
    pub fn unavailable_after(mut self, after: Duration) -> Self {
        self.unavailable_after = after;
        self
    }
}

/// Why a budget could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The Redis URL was refused.
    #[error("invalid Redis URL")]
    Url(#[source] redis::RedisError),
}

/// Whether Redis is reachable, as the budget last found it.
#[derive(Debug, Default)]
struct Health(Mutex<Option<Instant>>);

impl Health {
    fn lock(&self) -> MutexGuard<'_, Option<Instant>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reachable(&self) {
        *self.lock() = None;
    }

    fn unreachable(&self) {
        self.lock().get_or_insert_with(Instant::now);
    }

    fn since(&self) -> Option<Instant> {
        *self.lock()
    }
}

/// Whether an error means Redis could not be reached (connect, I/O, timeout, dropped
/// connection): then the connection is opened again and the slot asked for again. Any other
/// error is an answer, and final.
fn unreachable(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_refusal() || e.is_timeout() || e.is_connection_dropped()
}

/// One connection's worth of operations, async or blocking: the reservation loop is written
/// once, over this ([`reserve`]); a blocking store's futures are ready when they are made.
trait Store: Sync {
    /// Runs the GCRA script for `key` with `interval_us`; the wait in microseconds.
    fn gcra(&self, key: String, interval_us: u64) -> impl Future<Output = redis::RedisResult<i64>> + Send;
    /// Waits before reconnecting.
    fn pause(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// Reserves the next slot of `permit`'s budget, reconnecting until `options.unavailable_after`.
async fn reserve<S: Store>(
    store: &S,
    options: &Options,
    health: &Health,
    permit: &Permit,
) -> Result<Duration, BudgetError> {
    let key = format!("{}{}", options.key_prefix, permit.key());
    let interval_us = u64::try_from(permit.interval().as_micros()).unwrap_or(u64::MAX);
    let started = Instant::now();
    let mut backoff = options.first_backoff;
    loop {
        match store.gcra(key.clone(), interval_us).await {
            Ok(wait_us) => {
                if health.since().is_some() {
                    tracing::info!(budget = key, "the shared rate budget is reachable again");
                }
                health.reachable();
                return Ok(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)));
            }
            Err(e) if !unreachable(&e) => return Err(BudgetError::Backend(Box::new(e))),
            Err(e) => {
                health.unreachable();
                let waited = started.elapsed();
                let Some(left) = options.unavailable_after.checked_sub(waited).filter(|d| !d.is_zero()) else {
                    return Err(BudgetError::Unavailable { waited, source: Box::new(e) });
                };
                tracing::warn!(budget = key, error = %e, ?waited, "the shared rate budget is unreachable; waiting, nothing is sent");
                store.pause(backoff.min(left)).await;
                backoff = (backoff * 2).min(options.max_backoff);
            }
        }
    }
}

/// The budget for async clients (`wxpay-transport-hyper`): one multiplexed connection, opened
/// on first use and again after a failure.
pub struct RedisBudget {
    client: redis::Client,
    script: redis::Script,
    connection: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    options: Options,
    health: Arc<Health>,
}

/// The URL is left out: it may hold the Redis password.
impl std::fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBudget")
            .field("options", &self.options)
            .field("unreachable_since", &self.health.since())
            .finish_non_exhaustive()
    }
}

impl RedisBudget {
    /// A budget on the Redis at `url` (`redis://host:port/db`); nothing is connected yet.
    pub fn open(url: &str, options: Options) -> Result<Self, OpenError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(OpenError::Url)?,
            script: redis::Script::new(GCRA),
            connection: tokio::sync::Mutex::default(),
            options,
            health: Arc::default(),
        })
    }

    /// Since when Redis has been unreachable, if it is (for progress lines).
    pub fn unreachable_since(&self) -> Option<Instant> {
        self.health.since()
    }
}

impl Store for RedisBudget {
    async fn gcra(&self, key: String, interval_us: u64) -> redis::RedisResult<i64> {
        let mut slot = self.connection.lock().await;
        let mut connection = match slot.take() {
            Some(connection) => connection,
            None => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(self.options.io_timeout))
                    .set_response_timeout(Some(self.options.io_timeout));
                self.client.get_multiplexed_async_connection_with_config(&config).await?
            }
        };
        let result = self.script.key(key).arg(interval_us).invoke_async(&mut connection).await;
        // A broken connection is dropped and opened again on the next attempt.
        if !result.as_ref().is_err_and(unreachable) {
            *slot = Some(connection);
        }
        result
    }

    fn pause(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}

impl SharedBudget for RedisBudget {
    fn reserve<'a>(&'a self, permit: &'a Permit) -> Reservation<'a> {
        Box::pin(reserve(self, &self.options, &self.health, permit))
    }
}

/// The budget for the blocking client (`wxpay-blocking`): one connection, opened on first use
/// and again after a failure; every call completes before it returns.
pub struct BlockingRedisBudget {
    client: redis::Client,
    script: redis::Script,
    connection: Mutex<Option<redis::Connection>>,
    options: Options,
    health: Arc<Health>,
}

/// The URL is left out: it may hold the Redis password.
impl std::fmt::Debug for BlockingRedisBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingRedisBudget")
            .field("options", &self.options)
            .field("unreachable_since", &self.health.since())
            .finish_non_exhaustive()
    }
}

impl BlockingRedisBudget {
    /// A budget on the Redis at `url`; nothing is connected yet.
    pub fn open(url: &str, options: Options) -> Result<Self, OpenError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(OpenError::Url)?,
            script: redis::Script::new(GCRA),
            connection: Mutex::default(),
            options,
            health: Arc::default(),
        })
    }

    /// Since when Redis has been unreachable, if it is.
    pub fn unreachable_since(&self) -> Option<Instant> {
        self.health.since()
    }

    fn gcra_now(&self, key: String, interval_us: u64) -> redis::RedisResult<i64> {
        let mut slot = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        let mut connection = match slot.take() {
            Some(connection) => connection,
            None => {
                let connection = self.client.get_connection_with_timeout(self.options.io_timeout)?;
                connection.set_read_timeout(Some(self.options.io_timeout))?;
                connection.set_write_timeout(Some(self.options.io_timeout))?;
                connection
            }
        };
        let result = self.script.key(key).arg(interval_us).invoke(&mut connection);
        if !result.as_ref().is_err_and(unreachable) {
            *slot = Some(connection);
        }
        result
    }
}

impl Store for BlockingRedisBudget {
    fn gcra(&self, key: String, interval_us: u64) -> impl Future<Output = redis::RedisResult<i64>> + Send {
        ready(self.gcra_now(key, interval_us))
    }

    fn pause(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        std::thread::sleep(duration);
        ready(())
    }
}

impl SharedBudget for BlockingRedisBudget {
    fn reserve<'a>(&'a self, permit: &'a Permit) -> Reservation<'a> {
        Box::pin(reserve(self, &self.options, &self.health, permit))
    }
}
