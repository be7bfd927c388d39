//! What the server saw: one [`RecordedRequest`] per request, kept exactly as received.

use std::time::Instant;

use serde_json::Value;

use crate::protocol::Protocol;

/// A request as the mock received it.
///
/// Nothing is normalised except header *names* (HTTP/1 names are case-insensitive; they are
/// stored lowercase). Header values, the raw still-percent-encoded path, the raw query and the
/// body bytes are exactly what came over the wire, so tests can check auth headers and scan for
/// leaked keys.
///
/// ```
/// # use promptdrift_mock::{MockServer, Protocol};
/// let mock = MockServer::start();
/// # let _ = std::process::Command::new("true"); // the binary under test would run here
/// for r in mock.requests() {
///     assert_eq!(r.method, "POST");
///     if r.protocol == Some(Protocol::OpenAiChat) {
///         assert!(r.header("authorization").is_some_and(|v| v.starts_with("Bearer ")));
///     }
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `POST`, `GET`…
    pub method: String,
    /// The raw path as received, still percent-encoded (`/model/a%3A0/converse`).
    pub path: String,
    /// The raw query string without `?`, if any.
    pub query: Option<String>,
    /// Every header in arrival order (names lowercase, values as sent).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// The protocol the route belongs to; `None` for paths the mock does not serve.
    pub protocol: Option<Protocol>,
    /// The model: Azure deployment / Bedrock modelId (decoded once) / Gemini model from the
    /// path, else body `model`.
    pub model: Option<String>,
    /// Text of the last user message (Ollama generate: `prompt`; embeddings: the inputs).
    pub prompt: Option<String>,
    /// The client asked for a stream.
    pub stream: bool,
    /// When the request (head and body) had arrived.
    pub received_at: Instant,
    /// Index (in insertion order) of the rule that answered; `None` for the default reply and
    /// for rejected requests.
    pub rule: Option<usize>,
    /// Why the protocol checks rejected the request (wrong key, bad signature, missing
    /// `anthropic-version`…), with the canonical request for SigV4 mismatches.
    pub rejection: Option<String>,
}

impl RecordedRequest {
    /// First value of a header (name case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in arrival order.
    #[must_use]
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as UTF-8 (lossy).
    #[must_use]
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON, if it is JSON.
    #[must_use]
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Whether any header value, the path, the query or the body contains `needle`
    /// (for "the key never leaves in the wrong place" checks).
    #[must_use]
    pub fn contains(&self, needle: &str) -> bool {
        self.path.contains(needle)
            || self.query.as_deref().is_some_and(|q| q.contains(needle))
            || self.headers.iter().any(|(_, v)| v.contains(needle))
            || self.body_str().contains(needle)
    }
}
