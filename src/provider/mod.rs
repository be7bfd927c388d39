//! Wire protocols: one module per vendor, behind one trait.
//!
//! A provider is *pure protocol*: it turns a provider-neutral [`Request`] into the exact wire
//! request its vendor expects ([`WireRequest`]), and turns the raw answer ([`RawResponse`]) back
//! into a neutral [`Response`] or a classified [`ProviderError`]. It never sends anything, never
//! retries, never sleeps. The runner owns transport, retries, rate limits, the cache and
//! cassettes, which is why a replayed cassette goes through exactly the same parser as a live
//! answer, and why the cache key (the wire request without credentials) can never hold a key.
//!
//! Streaming keeps the same split: with [`Request::stream`] set, `prepare` builds the vendor's
//! streaming request, and [`Provider::stream_decoder`] hands the runner a pure
//! [`stream::StreamDecoder`] that it feeds the body's bytes as they arrive; the decoder
//! assembles the same [`Response`] the non-streamed parser would give (see [`stream`]). Caches
//! and cassettes keep that assembled answer, marked streamed.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
mod content;
pub mod embeddings;
pub mod endpoint;
pub mod exec;
pub mod gemini;
pub mod http;
pub mod ids;
pub mod lifecycle;
pub mod ollama;
pub mod openai;
pub mod output;
pub mod registry;
pub mod schema;
pub mod stream;
mod templating;
#[cfg(test)]
mod test_support;
pub mod tools;
#[cfg(test)]
mod vendor_shapes;
pub mod vertex;
pub mod wire;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::suite::images::Image;
pub use crate::suite::model::ResponseFormat;
use crate::suite::model::Role;

pub use registry::{ProviderFactoryError, build_provider, known_kinds};
pub use tools::{Tool, ToolCall, ToolChoice};
pub use wire::{Auth, RawResponse, WireRequest};

/// A provider-neutral request: what the suite asked for, before any vendor mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Request {
    /// System instructions (joined system messages), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The conversation, in order (no system messages).
    pub messages: Vec<Message>,
    /// Sampling temperature, passed through unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Maximum output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Nucleus sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Stop sequences.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stop: Vec<String>,
    /// Sampling seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Ask for a JSON object answer.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub json_mode: bool,
    /// Tools the model may call (the prompt's, else the suite's).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tools: Vec<Tool>,
    /// Which tools the model may or must call; `None` = the vendor's default (`auto`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tool_choice: Option<ToolChoice>,
    /// Structured output (the prompt's, else the provider's); `json_mode` is
    /// [`ResponseFormat::JsonObject`] (see [`Request::output_format`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response_format: Option<ResponseFormat>,
    /// Use the vendor's streaming API; set only for providers whose
    /// [`Provider::stream_decoder`] is `Some`.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub stream: bool,
    /// The case's variables, filled only for providers whose request templates read `vars`
    /// ([`Provider::wants_vars`]: `http`, `exec`). Not part of the neutral request's JSON:
    /// what they change reaches the wire request, which is what caches and cassettes key on.
    #[serde(skip)]
    pub vars: serde_json::Map<String, Value>,
}

/// One chat message of a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `user`, `assistant` or `tool` (system text lives in [`Request::system`]).
    pub role: Role,
    /// Text content (a `tool` message: the tool's result).
    pub content: String,
    /// Tool calls of an `assistant` turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The tool a `tool` message comes from (Gemini's `functionResponse.name`, Ollama's
    /// `tool_name`): the name of the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Images of a `user` message (sent before its text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
}

impl Message {
    /// A plain text message.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
            images: Vec::new(),
        }
    }
}

impl Request {
    /// The answer's required shape: `response_format` (`None` for `text`), else `json_mode`
    /// as a JSON object.
    pub fn output_format(&self) -> Option<ResponseFormat> {
        match &self.response_format {
            Some(ResponseFormat::Text) => None,
            Some(f) => Some(f.clone()),
            None if self.json_mode => Some(ResponseFormat::JsonObject),
            None => None,
        }
    }

    /// Whether the conversation holds tool calls or tool results (Anthropic and Bedrock then
    /// require the tools to be declared).
    pub fn conversation_has_tools(&self) -> bool {
        self.messages
            .iter()
            .any(|m| !m.tool_calls.is_empty() || m.role == Role::Tool)
    }
}

/// Why generation stopped, normalised across providers (the raw value is kept too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    #[default]
    Stop,
    /// Output-token limit or context window reached.
    Length,
    /// Stopped or blocked by a safety system, or refused.
    ContentFilter,
    /// The model asked for tool calls.
    ToolCalls,
    /// The provider reported a generation error.
    Error,
    /// Anything else (kept raw in `finish_raw`).
    Other,
}

impl FinishReason {
    /// The snake_case name used in results and in `finish-reason` assertions.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Error => "error",
            FinishReason::Other => "other",
        }
    }
}

/// Token usage, normalised: `input` counts every input token (cached ones included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Usage {
    /// All input tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<u64>,
    /// Output tokens (reasoning included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<u64>,
    /// Total as reported (or input + output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Input tokens read from a prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<u64>,
    /// Reasoning / thinking tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<u64>,
}

/// A provider-neutral answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Response {
    /// Concatenated text of the first choice / candidate.
    pub text: String,
    /// Normalised finish reason.
    pub finish: FinishReason,
    /// The provider's own finish value (`end_turn`, `STOP`, …).
    pub finish_raw: String,
    /// The model's refusal message, when the provider reports one separately.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Token usage.
    pub usage: Usage,
    /// The model id the server says it used (snapshot ids such as `gpt-4o-2024-08-06`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Response id from the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// Request id from the headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Server-side latency when the provider reports one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_latency_ms: Option<u64>,
    /// Tool calls requested by the model.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tool_calls: Vec<ToolCall>,
}

/// How a failure should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The request is wrong (400, 404 model, 413, 422); retrying cannot help.
    InvalidRequest,
    /// Credentials missing or refused (401, 403).
    Auth,
    /// The provider's safety system refused the request.
    ContentFilter,
    /// Rate limited (429); retry after the server's delay.
    RateLimited,
    /// Quota or spend limit exhausted; retrying cannot help.
    QuotaExhausted,
    /// Overloaded (529, 503); retry.
    Overloaded,
    /// Timed out (client timeout, 408, 504); retry.
    Timeout,
    /// Server error (500, 502); retry within limits.
    Server,
    /// Connection failed; retry.
    Connection,
    /// The answer could not be understood (malformed or truncated body).
    Protocol,
    /// A recording or cache entry was needed and is missing.
    NotRecorded,
    /// Local configuration problem found at call time (missing key, bad URL).
    Config,
    /// The run was interrupted before this request finished.
    Cancelled,
}

impl ErrorClass {
    /// Whether the runner may retry this class by default.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorClass::RateLimited
                | ErrorClass::Overloaded
                | ErrorClass::Timeout
                | ErrorClass::Server
                | ErrorClass::Connection
        )
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::InvalidRequest => "invalid_request",
            ErrorClass::Auth => "auth",
            ErrorClass::ContentFilter => "content_filter",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::QuotaExhausted => "quota_exhausted",
            ErrorClass::Overloaded => "overloaded",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Server => "server",
            ErrorClass::Connection => "connection",
            ErrorClass::Protocol => "protocol",
            ErrorClass::NotRecorded => "not_recorded",
            ErrorClass::Config => "config",
            ErrorClass::Cancelled => "cancelled",
        }
    }
}

/// A failed call, classified. This is data for the case's result, never a crash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub struct ProviderError {
    /// What kind of failure.
    pub class: ErrorClass,
    /// HTTP status, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The provider's error type/code (`rate_limit_error`, `insufficient_quota`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The provider's message, or ours.
    pub message: String,
    /// Server-requested delay before a retry.
    #[serde(skip)]
    pub retry_after: Option<Duration>,
    /// Server's explicit retry decision (`x-should-retry`).
    #[serde(skip)]
    pub should_retry: Option<bool>,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.status, &self.code) {
            (Some(s), Some(c)) => write!(f, "HTTP {s} {c}: {}", self.message),
            (Some(s), None) => write!(f, "HTTP {s}: {}", self.message),
            (None, Some(c)) => write!(f, "{c}: {}", self.message),
            (None, None) => write!(f, "{}", self.message),
        }
    }
}

impl ProviderError {
    /// A new error of this class with a message.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        ProviderError {
            class,
            status: None,
            code: None,
            message: message.into(),
            retry_after: None,
            should_retry: None,
        }
    }

    /// An unparsable or unexpected body.
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Protocol, message)
    }

    /// Whether the runner should retry: the server's `x-should-retry` wins, then the class.
    pub fn is_retryable(&self) -> bool {
        self.should_retry.unwrap_or_else(|| self.class.retryable())
    }
}

/// One vendor's protocol.
pub trait Provider: Send + Sync + fmt::Debug {
    /// The id as written in the suite (`openai:gpt-5.4-mini`).
    fn id(&self) -> &str;

    /// Builds the exact wire request for `req` (without sending it). Settings the provider
    /// cannot honour were reported by [`Provider::warnings`] at build time.
    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError>;

    /// Parses the raw answer to a prepared request (for a streamed request: an answer that
    /// is not a 2xx stream, such as an error status, or a server that ignored `stream`).
    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError>;

    /// A fresh decoder for the 2xx body of a request prepared with [`Request::stream`], or
    /// `None` when this protocol has no streaming API (then `stream` is never set).
    fn stream_decoder(&self) -> Option<Box<dyn stream::StreamDecoder>> {
        None
    }

    /// Settings in the suite this provider cannot honour, one line each (validation warnings).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// What this provider cannot honour exactly in `req` (a tool choice, a response format it
    /// has no field for…), one line each. The planner asks once per provider and prompt, with
    /// the first case's request, and reports the lines as warnings of that prompt.
    fn request_warnings(&self, _req: &Request) -> Vec<String> {
        Vec::new()
    }

    /// Whether [`Provider::prepare`] reads [`Request::vars`] (request templates that use
    /// `{{ vars.NAME }}`); the planner fills them only then.
    fn wants_vars(&self) -> bool {
        false
    }

    /// The model name used for the price table.
    fn price_model(&self) -> Option<&str> {
        None
    }

    /// Where the credential of a live run comes from (the cloud providers), for `-v` output
    /// and the results file's `run.credentials`; never a secret.
    fn credential_info(&self) -> Option<crate::credentials::CredentialInfo> {
        None
    }
}

/// Classifies an HTTP error status when the body says nothing more specific.
pub fn class_for_status(status: u16) -> ErrorClass {
    match status {
        401 | 403 => ErrorClass::Auth,
        408 | 504 => ErrorClass::Timeout,
        429 => ErrorClass::RateLimited,
        503 | 529 => ErrorClass::Overloaded,
        s if s >= 500 => ErrorClass::Server,
        409 => ErrorClass::Server,
        _ => ErrorClass::InvalidRequest,
    }
}

/// Builds an error for a non-2xx answer: status, server retry hints (`retry-after-ms`,
/// `retry-after` in seconds or as an HTTP date, `x-should-retry`), class, code and message.
pub fn http_error(
    raw: &RawResponse,
    class: ErrorClass,
    code: Option<String>,
    message: String,
) -> ProviderError {
    ProviderError {
        class,
        status: Some(raw.status),
        code,
        message,
        retry_after: retry_after(raw),
        should_retry: raw.header("x-should-retry").and_then(|v| match v.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }),
    }
}

/// The server's requested delay: `retry-after-ms` first, then `retry-after` (seconds, float
/// allowed, or an HTTP date).
pub fn retry_after(raw: &RawResponse) -> Option<Duration> {
    if let Some(ms) = raw
        .header("retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let v = raw.header("retry-after")?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}
