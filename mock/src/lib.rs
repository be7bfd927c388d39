//! Local mock servers that speak the real wire protocols of OpenAI (chat, Responses,
//! embeddings), Azure OpenAI (classic and v1), Anthropic Messages, AWS Bedrock (Converse and
//! InvokeModel, SigV4-verified), Gemini, Vertex AI and Ollama (native and OpenAI-compatible),
//! for promptdrift's tests and benchmark. Facts come from `shared/providers/PROTOCOLS.md`.
//!
//! One [`MockServer`] serves every protocol on one `127.0.0.1` port, routed by path:
//!
//! | protocol | route | client base URL |
//! |---|---|---|
//! | OpenAI chat (and compatible: Ollama `/v1`, vLLM…) | `POST /v1/chat/completions` | `{url}/v1` |
//! | OpenAI Responses / embeddings | `POST /v1/responses`, `/v1/embeddings` | `{url}/v1` |
//! | Azure classic | `POST /openai/deployments/{d}/chat/completions?api-version=…` | endpoint `{url}` |
//! | Azure v1 | `POST /openai/v1/chat/completions` | `{url}/openai/v1` |
//! | Anthropic | `POST /v1/messages` | `{url}` |
//! | Bedrock | `POST /model/{id}/converse`, `/converse-stream`, `/invoke`, `/invoke-with-response-stream` | endpoint `{url}` |
//! | Gemini | `POST /{v1,v1beta}/models/{m}:generateContent`, `:streamGenerateContent[?alt=sse]` | `{url}` |
//! | Vertex | `POST /{v1,v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent` | `{url}` |
//! | Ollama native | `POST /api/chat`, `/api/generate` | `{url}` |
//! | Gemini embeddings | `POST /{v1,v1beta}/models/{m}:embedContent` | `{url}` |
//! | Bedrock Titan embeddings | `POST /model/{amazon.titan-embed-…}/invoke` | endpoint `{url}` |
//! | Ollama embeddings | `POST /api/embed` | `{url}` |
//!
//! Cloud credential endpoints (AWS STS, SSO, container and instance metadata; Google's token
//! endpoint, STS and metadata server; Entra ID and Azure managed identity) are served by a
//! separate [`IdentityServer`].
//!
//! Anything else gets OpenAI's `404 Invalid URL (POST /x)`. `GET /__mock/stats` and
//! `GET /__mock/requests` report what the server saw (for the standalone binary): the stats are
//! `{"requests": N, "connections": M}`, M counting the TCP connections accepted.
//!
//! # In a test
//!
//! ```
//! use std::time::Duration;
//! use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
//!
//! let mock = MockServer::start();                 // 127.0.0.1:0, stops on drop
//! mock.expect_key(Protocol::OpenAiChat, "sk-test-1");
//! // "429 then success": a rule limited to one use, then a normal rule.
//! mock.add_rule(Rule::new().times(1).reply(
//!     Reply::error(ErrorKind::RateLimited).retry_after(Duration::from_millis(20)),
//! ));
//! mock.add_rule(Rule::new().model("gpt-a").prompt_contains("France").reply(Reply::text("Paris")));
//! // Unmatched requests get "mock answer to: <last user message>".
//!
//! // … run the promptdrift binary with OPENAI_BASE_URL={mock.url()}/v1 …
//!
//! for r in mock.requests() {
//!     assert_eq!(r.header("authorization"), Some("Bearer sk-test-1"));
//! }
//! ```
//!
//! # The standalone binary
//!
//! `promptdrift-mock [--port 0] [--latency-ms N] [--error-rate F] [--seed S] [--no-record]`
//! prints `listening on http://127.0.0.1:PORT` and serves the same routes until killed. For
//! throughput: `cargo build -p promptdrift-mock --release`, then
//! `wrk -t2 -c64 -d10s -s mock/bench/chat.lua http://127.0.0.1:PORT` against
//! `promptdrift-mock --no-record`.
//!
//! Answers are deterministic functions of the request and the rules: ids derive from a hash
//! of the body, timestamps are fixed, usage is estimated from the text (about four characters
//! per token) unless [`Reply::usage`] sets it.
//!
//! # Checks a real server makes (on by default)
//!
//! [`MockServer::check_requests`] turns them off. Without a configured key the credential
//! only has to be present.
//!
//! - OpenAI / compatible / Responses / embeddings: `Authorization: Bearer <key>` when
//!   [`MockServer::expect_key`] set one (401 otherwise).
//! - Azure: `api-key` or Bearer always; classic URLs need `?api-version=` (404 `Resource not
//!   found` otherwise).
//! - Anthropic: `x-api-key` or Bearer; `anthropic-version` `2023-06-01` or `2026-10-21`; under
//!   `2026-10-21` a body with `temperature`/`top_p`/`top_k` gets 400 `… Extra inputs are not
//!   permitted`.
//! - Bedrock: SigV4 verified against [`MockServer::expect_aws_credentials`] by the crate's own
//!   implementation ([`sigv4`]), or Bearer with [`MockServer::expect_bedrock_bearer`]; without
//!   either, the `Authorization` header must have SigV4's structure. Failures are 403 with
//!   `x-amzn-ErrorType` (`InvalidSignatureException`, `UnrecognizedClientException`,
//!   `MissingAuthenticationTokenException`…) and `{"message": …}`.
//! - Gemini: `x-goog-api-key` or `?key=` (403 when missing, 400 `API_KEY_INVALID` when
//!   wrong); Vertex: Bearer (401 `UNAUTHENTICATED`).
//! - Ollama native: Bearer only when a key is expected.
//! - Every protocol, once authenticated: the body's tools, tool choice, tool calls and
//!   results in the conversation, images and structured-output settings have the vendor's
//!   documented shapes (400 in the vendor's error format otherwise; the rules and their
//!   sources are listed in `src/shapes.rs`).

mod auth;
mod body;
mod eventstream;
mod fixtures;
mod identity;
mod inbound;
mod pipeline;
mod protocol;
mod ratelimit;
mod record;
mod render;
mod reply;
mod rng;
mod rule;
mod server;
mod shapes;
pub mod sigv4;
mod tls;

pub use eventstream::EventMessage;
pub use fixtures::fixture_names;
pub use identity::{IdentityRequest, IdentityServer, IssuedAws, IssuedToken};
pub use protocol::Protocol;
pub use record::RecordedRequest;
pub use reply::{ErrorKind, Finish, Reply, ToolCall};
pub use rule::{Rule, RuleHandle};
pub use server::{MockServer, MockServerBuilder};

/// Decodes an AWS event-stream body (Bedrock ConverseStream /
/// InvokeModelWithResponseStream) into messages, checking both CRCs.
///
/// # Errors
/// On a short frame, bad lengths, a CRC mismatch or a non-string header.
pub fn decode_event_stream(body: &[u8]) -> Result<Vec<EventMessage>, String> {
    eventstream::decode(body)
}

/// A deterministic bag-of-words unit vector, as the embeddings endpoint returns by default:
/// texts with the same words (any order, any case) get the same vector.
#[must_use]
pub fn bag_of_words_embedding(text: &str, dims: usize) -> Vec<f32> {
    render::bag_of_words(text, dims)
}
