//! The answer body: whole, or cut off on purpose (the `truncate` fault).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

/// A body that is sent whole, or that fails after its first part so the connection is cut
/// before the announced `Content-Length` is reached.
#[derive(Debug)]
pub(crate) struct Body {
    data: Option<Bytes>,
    fail_after: bool,
    /// Whether the truncated body has let the connection flush its part.
    yielded: bool,
}

impl Body {
    /// The whole body.
    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        Self { data: Some(data.into()), fail_after: false, yielded: false }
    }

    /// The bytes of a whole body (`None` for a truncated one).
    pub(crate) fn into_full(self) -> Option<Bytes> {
        if self.fail_after { None } else { Some(self.data.unwrap_or_default()) }
    }

    /// `data`, then a failure that closes the connection.
    pub(crate) fn truncated(data: impl Into<Bytes>) -> Self {
        Self { data: Some(data.into()), fail_after: true, yielded: false }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if self.fail_after && !self.yielded {
            // hyper asks for the next frame before flushing the first, and drops the connection
            // with unflushed bytes when that fails: over TLS nothing at all reached the client.
            // Pending once makes it flush the head and the first part, then the failure cuts.
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.fail_after {
            self.fail_after = false;
            return Poll::Ready(Some(Err(std::io::Error::other("body truncated by fault injection"))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && !self.fail_after
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.data, self.fail_after) {
            (Some(d), false) => SizeHint::with_exact(d.len() as u64),
            (None, false) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}
