//! # wxpay-blocking
//!
//! The blocking client of wxpay, for plain programs, batch jobs and other SDKs' blocking code:
//! ureq 3 over rustls (the aws-lc-rs provider wxpay-protocol uses, passed explicitly), with no
//! async runtime inside. Every call is driven by the same
//! [`wxpay_protocol::client::Driver`] as the async client: rate-limited, signed, verified,
//! parsed, and retried only when safe.
//!
//! Calling it from inside an async runtime works (it blocks the calling thread, it never panics),
//! but it holds that worker thread for the whole call: in async code, prefer
//! `wxpay-transport-hyper`, or wrap calls in `tokio::task::spawn_blocking`.
//!
//! ## TLS
//!
//! Server certificates are checked against the WebPKI roots, or only against the added roots
//! once one is added. The merchant API certificate that the v2 calls under `/secapi/` need as a
//! TLS client certificate (docs/protocol.md §5) is configured once, on the
//! [`ClientConfig`](wxpay_protocol::client::ClientConfig)
//! ([`client_identity`](wxpay_protocol::client::ClientConfig::client_identity)), as for the
//! async client, and every connection offers it to a server that asks: client authentication is
//! requested by the server, so WeChat Pay's other endpoints never see it. A key that does not
//! belong to the certificate is refused by [`ClientBuilder::build`]
//! ([`BuildError::ClientKeyMismatch`]), not on the first call; a `/secapi/` call on a client
//! without a certificate fails before anything is sent
//! ([`SigningError::MissingClientCertificate`](wxpay_protocol::security::SigningError::MissingClientCertificate)).
//!
//! ```no_run
//! use wxpay_blocking::Client;
//! use wxpay_protocol::{cloudpay, RefundId, RefundLookup, SubMchId};
//!
//! let client = Client::builder().build()?;
//! let query = cloudpay::RefundQueryRequest::new(
//!     SubMchId::new("1900000109")?,
//!     RefundLookup::RefundId(RefundId::new("50000000382019052709732678859")?),
//! ); // the client fills in `nonce_str`
//! let answer = client.execute(query)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod client;
mod transport;

pub use client::{Client, ClientBuilder, Refunds};
pub use transport::{BuildError, Transport, UreqTransport};
pub use wxpay_protocol;
pub use wxpay_protocol::client::RefundsError;
