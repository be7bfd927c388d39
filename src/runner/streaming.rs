//! Streamed answers on the wire: the request goes out as any other (direct hyper or
//! reqwest, credentials applied at the last moment), and the 2xx body is handed to the
//! provider's [`StreamDecoder`] piece by piece as it arrives. The time to the first piece that
//! brought content is the time to first token.
//!
//! - An answer that is not 2xx is read whole and returned as a [`RawResponse`], for the
//!   provider's ordinary error parser (and the ordinary retry rules).
//! - A 2xx answer with `content-type: application/json` is a server that ignored the stream
//!   request: an error naming that, never a silent fallback.
//! - A body that breaks mid-stream (connection reset, the server dying) is a `connection`
//!   error, retried like any transient fault; a body that ends cleanly without the vendor's
//!   terminal event is the decoder's `protocol` error, not retried.

use std::time::{Duration, Instant};

use super::direct::{BodySink, Failure};
use super::transport::{Transport, classify_reqwest, root_cause, wire_parts};
use crate::provider::stream::StreamDecoder;
use crate::provider::wire::{HttpRequest, RawResponse};
use crate::provider::{ErrorClass, ProviderError, Response};

/// What a streamed request brought back.
#[derive(Debug)]
pub(super) struct Streamed {
    /// Status and headers; the whole body only when the answer was not a stream (not 2xx).
    pub(super) head: RawResponse,
    /// For a 2xx stream: the assembled answer or why there is none. `None`: not 2xx.
    pub(super) outcome: Option<Result<Response, ProviderError>>,
    /// Time to first token.
    pub(super) ttft: Option<Duration>,
    /// Time to the end of the answer.
    pub(super) elapsed: Duration,
}

/// Feeds the body to the decoder, timing the first token.
struct Collect {
    started: Instant,
    head: RawResponse,
    decoder: Option<Box<dyn StreamDecoder>>,
    stream: bool,
    failed: Option<ProviderError>,
    received: usize,
    ttft: Option<Duration>,
}

/// Largest error body kept (an error answer is small; a runaway one is cut).
const MAX_ERROR_BODY: usize = 1024 * 1024;

impl BodySink for Collect {
    fn head(&mut self, status: u16, headers: Vec<(String, String)>) {
        self.head.status = status;
        self.head.headers = headers;
        self.stream = (200..300).contains(&status);
        if self.stream
            && self.head.header("content-type").is_some_and(|c| {
                c.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            })
        {
            self.failed = Some(ProviderError::protocol(
                "the server answered the streamed request with a whole JSON body (content-type application/json), not a stream: it may not support streaming; remove `stream: true` (or `--stream`) for this provider",
            ));
        }
    }

    fn data(&mut self, bytes: &[u8]) -> bool {
        self.received += bytes.len();
        if !self.stream {
            let room = MAX_ERROR_BODY.saturating_sub(self.head.body.len());
            self.head
                .body
                .extend_from_slice(&bytes[..bytes.len().min(room)]);
            return true;
        }
        if self.failed.is_some() {
            return false;
        }
        let Some(decoder) = self.decoder.as_mut() else {
            return false;
        };
        if let Err(e) = decoder.feed(bytes) {
            self.failed = Some(e);
            return false;
        }
        if self.ttft.is_none() && decoder.content_started() {
            self.ttft = Some(self.started.elapsed());
        }
        true
    }
}

impl Collect {
    fn new(decoder: Box<dyn StreamDecoder>, started: Instant) -> Self {
        Collect {
            started,
            head: RawResponse::default(),
            decoder: Some(decoder),
            stream: false,
            failed: None,
            received: 0,
            ttft: None,
        }
    }

    fn done(mut self) -> Streamed {
        let elapsed = self.started.elapsed();
        let outcome = self.stream.then(|| match self.failed.take() {
            Some(e) => Err(e),
            None => match self.decoder.take() {
                Some(d) => d.finish(&self.head),
                None => Err(ProviderError::protocol("the stream was not read")),
            },
        });
        Streamed {
            head: self.head,
            outcome,
            ttft: self.ttft,
            elapsed,
        }
    }

    /// A failure while reading, worded as the transport words its own, plus how far the
    /// stream got: a break mid-body is a retryable `connection` error.
    fn broken(&self, path: &str, timeout: Duration, timed_out: bool, cause: &str) -> ProviderError {
        if timed_out {
            return ProviderError::new(
                ErrorClass::Timeout,
                format!(
                    "no complete answer from {path} within {} ms ({} bytes of the stream received)",
                    timeout.as_millis(),
                    self.received
                ),
            );
        }
        ProviderError::new(
            ErrorClass::Connection,
            format!(
                "the stream from {path} broke after {} bytes: {cause}",
                self.received
            ),
        )
    }
}

impl Transport {
    /// Sends a streamed request, feeding a 2xx body to `decoder` as it arrives. Like
    /// [`Transport::send`], what comes back is scrubbed of every registered secret: the head,
    /// the assembled answer (pieces joined first) and any error message ([`crate::secret`]).
    pub(super) async fn send_stream(
        &self,
        http: &HttpRequest,
        timeout: Duration,
        decoder: Box<dyn StreamDecoder>,
    ) -> Result<Streamed, ProviderError> {
        match self.send_stream_raw(http, timeout, decoder).await {
            Ok(mut s) => {
                crate::secret::scrub_response(&mut s.head);
                match &mut s.outcome {
                    Some(Ok(answer)) => crate::secret::scrub_answer(answer),
                    Some(Err(e)) => crate::secret::scrub_string(&mut e.message),
                    None => {}
                }
                Ok(s)
            }
            Err(mut e) => {
                crate::secret::scrub_string(&mut e.message);
                Err(e)
            }
        }
    }

    async fn send_stream_raw(
        &self,
        http: &HttpRequest,
        timeout: Duration,
        decoder: Box<dyn StreamDecoder>,
    ) -> Result<Streamed, ProviderError> {
        let (method, headers, body) = wire_parts(http).await?;
        let path = http.path_and_query();
        if let Some(direct) = &self.direct
            && let Some(origin) = direct.origin(&http.url)
        {
            let req = super::direct::request(&origin, method, headers, body, &self.user_agent);
            let mut sink = Collect::new(decoder, Instant::now());
            let sent = direct
                .send_streaming(&origin, req, timeout, &mut sink)
                .await;
            return match sent {
                Ok(()) => Ok(sink.done()),
                // Before the head: the transport's own words (connect, send, timeout).
                Err(e) if sink.head.status == 0 => {
                    Err(super::transport::classify_direct(e, http, timeout))
                }
                Err(Failure::Timeout) => Err(sink.broken(path, timeout, true, "")),
                Err(Failure::Body(e)) => Err(sink.broken(path, timeout, false, &root_cause(&e))),
                Err(e) => Err(super::transport::classify_direct(e, http, timeout)),
            };
        }
        // Boxed: reqwest's future is large.
        Box::pin(self.stream_reqwest(http, method, headers, body, timeout, decoder)).await
    }

    async fn stream_reqwest(
        &self,
        http: &HttpRequest,
        method: reqwest::Method,
        headers: reqwest::header::HeaderMap,
        body: Vec<u8>,
        timeout: Duration,
        decoder: Box<dyn StreamDecoder>,
    ) -> Result<Streamed, ProviderError> {
        let client = self.client()?;
        let mut sink = Collect::new(decoder, Instant::now());
        let mut resp = client
            .request(method, &http.url)
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| classify_reqwest(&e, http, timeout))?;
        let head = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        sink.head(resp.status().as_u16(), head);
        loop {
            match resp.chunk().await {
                Ok(Some(bytes)) => {
                    if !sink.data(&bytes) {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let path = http.path_and_query();
                    return Err(sink.broken(path, timeout, e.is_timeout(), &root_cause(&e)));
                }
            }
        }
        Ok(sink.done())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::stream::{Assembly, LineFramer};

    /// A decoder for tests: each line is text; a line `END` terminates.
    struct Lines(LineFramer, Assembly);

    impl StreamDecoder for Lines {
        fn feed(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
            for l in self.0.feed(bytes)? {
                if l == "END" {
                    self.1.terminated = true;
                } else if l == "FAIL" {
                    return Err(ProviderError::new(ErrorClass::Overloaded, "in-stream"));
                } else {
                    self.1.push_text(&l);
                }
            }
            Ok(())
        }
        fn content_started(&self) -> bool {
            self.1.content_started()
        }
        fn finish(self: Box<Self>, _head: &RawResponse) -> Result<Response, ProviderError> {
            if !self.1.terminated {
                return Err(crate::provider::stream::unterminated("END"));
            }
            Ok(Response {
                text: self.1.text.clone(),
                ..Response::default()
            })
        }
    }

    fn decoder() -> Box<dyn StreamDecoder> {
        Box::new(Lines(LineFramer::default(), Assembly::default()))
    }

    #[test]
    fn sink_times_the_first_content_and_keeps_error_bodies_whole() {
        let t0 = Instant::now() - Duration::from_millis(50);
        let mut c = Collect::new(decoder(), t0);
        c.head(200, vec![("content-type".into(), "text/plain".into())]);
        assert!(c.data(b""));
        assert!(c.ttft.is_none());
        assert!(c.data(b"Par"));
        assert!(c.ttft.is_none(), "no whole line yet");
        assert!(c.data(b"is\nEND\n"));
        let ttft = c.ttft.expect("first token");
        assert!(ttft >= Duration::from_millis(50));
        let s = c.done();
        assert_eq!(s.outcome.unwrap().unwrap().text, "Paris");
        assert!(s.elapsed >= ttft);

        let mut c = Collect::new(decoder(), Instant::now());
        c.head(529, vec![]);
        assert!(c.data(b"{\"type\":\"error\"}"));
        let s = c.done();
        assert!(s.outcome.is_none());
        assert_eq!(s.head.body, b"{\"type\":\"error\"}");

        let mut c = Collect::new(decoder(), Instant::now());
        c.head(200, vec![]);
        assert!(!c.data(b"a\nFAIL\n"), "an in-stream error stops reading");
        assert_eq!(
            c.done().outcome.unwrap().unwrap_err().class,
            ErrorClass::Overloaded
        );

        let mut c = Collect::new(decoder(), Instant::now());
        c.head(200, vec![]);
        c.data(b"a\n");
        let e = c.done().outcome.unwrap().unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);

        let mut c = Collect::new(decoder(), Instant::now());
        c.head(
            200,
            vec![("content-type".into(), "application/json".into())],
        );
        assert!(!c.data(b"{}"));
        let e = c.done().outcome.unwrap().unwrap_err();
        assert!(e.message.contains("not a stream"), "{}", e.message);
    }

    #[test]
    fn a_break_mid_stream_is_a_retryable_connection_error() {
        let mut c = Collect::new(decoder(), Instant::now());
        c.head(200, vec![]);
        c.data(b"Par");
        let e = c.broken("/v1/x", Duration::from_secs(1), false, "connection reset");
        assert_eq!(e.class, ErrorClass::Connection);
        assert!(e.is_retryable());
        assert!(e.message.contains("broke after 3 bytes"), "{}", e.message);
        let e = c.broken("/v1/x", Duration::from_secs(1), true, "");
        assert_eq!(e.class, ErrorClass::Timeout);
    }
}
