//! # wxpay-transport-hyper
//!
//! The async client of wxpay: hyper 1 with the hyper-util connection pool and hyper-rustls (the
//! aws-lc-rs provider wxpay-protocol uses, WebPKI roots by default, extra roots configurable).
//! Every call is driven by [`wxpay_protocol::client::Exchange`]: rate-limited per operation,
//! signed (v3), verified, parsed, and retried with backoff only when retrying is safe, always
//! with the same merchant numbers.
//!
//! ## TLS
//!
//! Server certificates are checked against the WebPKI roots (or only the added roots, with
//! [`ClientBuilder::without_webpki_roots`]). The merchant API certificate that the v2 calls
//! under `/secapi/` need as a TLS client certificate (docs/protocol.md §5) is configured once, on the
//! [`ClientConfig`](wxpay_protocol::client::ClientConfig)
//! ([`client_identity`](wxpay_protocol::client::ClientConfig::client_identity)), and every
//! connection offers it to a server that asks: client authentication is requested by the
//! server, so WeChat Pay's other endpoints never see it. A key that does not belong to the
//! certificate is refused by [`ClientBuilder::build`] ([`BuildError::ClientKeyMismatch`]); a
//! `/secapi/` call on a client without a certificate fails before anything is sent
//! ([`SigningError::MissingClientCertificate`](wxpay_protocol::security::SigningError::MissingClientCertificate)).
//!
//! ```no_run
//! use wxpay_protocol::{cloudpay, RefundLookup, SubMchId, TransactionId};
//! use wxpay_transport_hyper::Client;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder().build()?;
//! let query = cloudpay::RefundQueryRequest::new(
//!     SubMchId::new("1900000109")?,
//!     RefundLookup::TransactionId(TransactionId::new("4200000000000000000000000036")?),
//! ); // the client fills in `nonce_str`
//! let first_page = client.execute(query).await?;
//! println!("{} refunds", first_page.refund_count);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod client;
mod hyper_transport;
mod transport;

pub use client::{Client, ClientBuilder, RefundStreamError};
pub use hyper_transport::{BuildError, HyperTransport};
pub use transport::AsyncTransport;
pub use wxpay_protocol;
pub use wxpay_protocol::client::RefundsError;
