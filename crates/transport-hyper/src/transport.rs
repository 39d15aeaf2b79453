//! The transport seam: anything that sends an `http::Request<Vec<u8>>` and returns the answer.

use std::future::Future;

use wxpay_protocol::TransportError;

/// Sends requests. [`HyperTransport`](crate::HyperTransport) is the default; a closure
/// `Fn(http::Request<Vec<u8>>) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>>`
/// is one too, which is how tests and embedders plug in their own stack. Its futures need not
/// be `Send` (a client whose futures are not `Send` runs on a current-thread runtime or a
/// `LocalSet`).
///
/// ```
/// use wxpay_transport_hyper::{AsyncTransport, Client};
/// let canned = |_request: http::Request<Vec<u8>>| async {
///     Ok::<_, wxpay_protocol::TransportError>(http::Response::new(b"{}".to_vec()))
/// };
/// let client = Client::builder().build_with_transport(canned);
/// # let _ = client;
/// ```
pub trait AsyncTransport {
    /// Sends `request` and reads the whole answer.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>>;
}

impl<F, Fut> AsyncTransport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Fut,
    Fut: Future<Output = Result<http::Response<Vec<u8>>, TransportError>>,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> {
        self(request)
    }
}
