//! The response body: whole, chunked (streams), or deliberately cut (the truncation fault).

use std::collections::VecDeque;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// How long a truncated body waits after its partial data before failing, so hyper flushes
/// the part to the socket before it drops the connection.
const TRUNCATE_FLUSH: Duration = Duration::from_millis(30);

/// A response body.
#[derive(Debug)]
pub(crate) enum MockBody {
    /// One buffer; hyper sends `Content-Length`.
    Full(Option<Bytes>),
    /// Several frames; hyper sends `Transfer-Encoding: chunked` and flushes per frame.
    Chunks(VecDeque<Bytes>),
    /// Part of a body whose `Content-Length` promised more; then an error, which makes hyper
    /// close the connection mid-body.
    Truncated {
        part: Option<Bytes>,
        wait: Option<Pin<Box<Sleep>>>,
    },
    /// A stream sent frame by frame with pauses (`first` before the first frame, `between`
    /// before each later one); with `cut`, it then breaks (an error: hyper drops the
    /// connection without ending the chunked body) instead of ending.
    Paced(Box<Paced>),
}

/// State of a [`MockBody::Paced`] body.
#[derive(Debug)]
pub(crate) struct Paced {
    chunks: VecDeque<Bytes>,
    first: Duration,
    between: Duration,
    cut: bool,
    started: bool,
    wait: Option<Pin<Box<Sleep>>>,
    /// The pause before the frame (or the cut) being waited for is over.
    due: bool,
}

impl MockBody {
    pub(crate) fn full(b: impl Into<Bytes>) -> MockBody {
        MockBody::Full(Some(b.into()))
    }

    pub(crate) fn paced(
        chunks: VecDeque<Bytes>,
        first: Duration,
        between: Duration,
        cut: bool,
    ) -> MockBody {
        MockBody::Paced(Box::new(Paced {
            chunks,
            first,
            between,
            cut,
            started: false,
            wait: None,
            due: false,
        }))
    }

    pub(crate) fn truncated(part: impl Into<Bytes>) -> MockBody {
        MockBody::Truncated {
            part: Some(part.into()),
            wait: None,
        }
    }
}

/// The error a truncated body ends with.
#[derive(Debug)]
pub(crate) struct Cut;

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mock: body truncated on purpose")
    }
}

impl std::error::Error for Cut {}

impl Paced {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Cut>>> {
        if !self.due {
            let pause = match (self.chunks.is_empty(), self.started) {
                (true, _) if !self.cut => return Poll::Ready(None),
                // A flush pause before the break, so the last frame reaches the socket.
                (true, _) => TRUNCATE_FLUSH,
                (false, false) => self.first,
                (false, true) => self.between,
            };
            if !pause.is_zero() {
                let w = self
                    .wait
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(pause)));
                if w.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.wait = None;
            }
            self.due = true;
        }
        self.due = false;
        self.started = true;
        match self.chunks.pop_front() {
            Some(c) => Poll::Ready(Some(Ok(Frame::data(c)))),
            None => Poll::Ready(Some(Err(Cut))),
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Cut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Cut>>> {
        match self.get_mut() {
            MockBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Chunks(c) => Poll::Ready(c.pop_front().map(|b| Ok(Frame::data(b)))),
            MockBody::Truncated { part, wait } => {
                if let Some(p) = part.take() {
                    return Poll::Ready(Some(Ok(Frame::data(p))));
                }
                let w = wait.get_or_insert_with(|| Box::pin(tokio::time::sleep(TRUNCATE_FLUSH)));
                match w.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Cut))),
                    Poll::Pending => Poll::Pending,
                }
            }
            MockBody::Paced(p) => p.poll_next(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(b) => b.is_none(),
            MockBody::Chunks(c) => c.is_empty(),
            MockBody::Truncated { .. } => false,
            MockBody::Paced(p) => p.chunks.is_empty() && !p.cut,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Chunks(_) | MockBody::Truncated { .. } | MockBody::Paced(_) => {
                SizeHint::default()
            }
        }
    }
}
