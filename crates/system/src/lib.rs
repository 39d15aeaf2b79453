//! # wxpay-system
//!
//! What `wxpay-protocol` takes as inputs and never reads itself (docs/design.md §2: "time and
//! randomness are inputs"), read from the operating system once, here, for every crate that
//! needs it: the two transports, the sandbox and the CLI.
//!
//! - [`SystemEntropy`]: the system CSPRNG (aws-lc-rs, the one crypto stack of the workspace) as
//!   the protocol's [`Entropy`];
//! - [`unix_now`]: the wall clock in Unix seconds (signing timestamps, answer freshness);
//! - [`monotonic`]: a monotonic reading from one process-wide origin (rate limits, deadlines);
//! - [`nonce`] and [`random_alphanumeric`]: the protocol's generators fed by [`SystemEntropy`];
//! - [`SystemIo`]: a driver's [`Io`] made of a [`Channel`] (sending and sleeping, which each
//!   transport does its own way) and all of the above.
//!
//! ```
//! let a = wxpay_system::nonce();
//! assert_eq!(a.as_str().len(), 32);
//! assert_ne!(a, wxpay_system::nonce());
//! assert!(wxpay_system::unix_now() > 1_700_000_000);
//! let (t0, t1) = (wxpay_system::monotonic(), wxpay_system::monotonic());
//! assert!(t1 >= t0);
//! ```

#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wxpay_protocol::client::{self, Entropy, Io};
use wxpay_protocol::{NonceStr, TransportError};

/// The system's CSPRNG, for nonces and jitter.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn next_u64(&mut self) -> u64 {
        random_u64()
    }
}

/// A random value from the system CSPRNG.
pub fn random_u64() -> u64 {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    // The system RNG does not fail on supported platforms. If it ever did, the zeros that stay
    // would weaken jitter only: request nonces are checked together with a fresh timestamp,
    // and the protocol's generator never loops on a constant source.
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// A fresh 32-character nonce ([`client::random_nonce`]) from the system CSPRNG.
pub fn nonce() -> NonceStr {
    client::random_nonce(&mut SystemEntropy)
}

/// `len` characters of `[0-9A-Za-z]` ([`client::random_alphanumeric`]) from the system CSPRNG.
pub fn random_alphanumeric(len: usize) -> String {
    client::random_alphanumeric(&mut SystemEntropy, len)
}

/// The wall clock in Unix seconds (0 before 1970, which no real clock reads).
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A monotonic reading: the time since the first call in this process. Every client of the
/// process measures from the same origin, so clients sharing rate limits agree.
pub fn monotonic() -> Duration {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed()
}

/// What a transport does for a driver: send a request and read the answer, and wait. The clocks
/// and the CSPRNG come from the operating system ([`SystemIo`]).
pub trait Channel {
    /// Sends `request` and reads the whole answer.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>>;

    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
}

/// The [`Io`] of a driver that runs on this operating system: a [`Channel`], [`monotonic`],
/// [`unix_now`] and [`random_u64`].
#[derive(Debug, Clone)]
pub struct SystemIo<C>(pub C);

impl<C: Channel> Io for SystemIo<C> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> {
        self.0.send(request)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        self.0.sleep(duration)
    }

    fn monotonic(&self) -> Duration {
        monotonic()
    }

    fn unix_now(&self) -> i64 {
        unix_now()
    }

    fn random_u64(&self) -> u64 {
        random_u64()
    }
}
