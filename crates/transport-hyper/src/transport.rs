//! The transport seam: anything that sends an `http::Request<Vec<u8>>` and returns the answer.

use std::future::Future;
use std::pin::Pin;

use wxpay_protocol::TransportError;

/// A boxed future of an answer.
pub type ResponseFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send + 'a>>;

/// Sends requests. [`HyperTransport`](crate::HyperTransport) is the default; a closure
/// `Fn(http::Request<Vec<u8>>) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>>`
/// is one too, which is how tests and embedders plug in their own stack.
///
/// ```
/// use wxpay_transport_hyper::{AsyncTransport, Client};
/// let canned = |_request: http::Request<Vec<u8>>| async {
///     Ok::<_, wxpay_protocol::TransportError>(http::Response::new(b"{}".to_vec()))
/// };
/// let client = Client::builder().build_with_transport(canned);
/// # let _ = client;
/// ```
pub trait AsyncTransport: Send + Sync {
    /// Sends `request` and reads the whole answer.
    fn send(&self, request: http::Request<Vec<u8>>) -> ResponseFuture<'_>;
}

impl<F, Fut> AsyncTransport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send + 'static,
{
    fn send(&self, request: http::Request<Vec<u8>>) -> ResponseFuture<'_> {
        Box::pin(self(request))
    }
}
