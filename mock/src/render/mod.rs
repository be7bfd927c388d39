//! Turns a protocol-neutral answer or error into one protocol's exact status, headers and body.
//!
//! One file per vendor family; this module owns what they share: the resolved answer
//! ([`Resolved`]), usage estimates, ids, stream chunking, and the dispatch by protocol. It never
//! touches the network: `server.rs` sends what it returns.

mod anthropic;
mod bedrock;
mod embeddings;
mod gemini;
mod ollama;
mod openai;
mod responses;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::inbound::Inbound;
use crate::protocol::Protocol;
use crate::reply::{Answer, AnswerText, ErrorKind, Finish, ToolCall};
use crate::rng;

/// Fixed `created` time (unix seconds) so bodies are byte-for-byte reproducible.
pub(crate) const CREATED: u64 = 1_763_985_600;
/// The same instant for protocols that send timestamps as text.
pub(crate) const CREATED_RFC3339: &str = "2025-11-24T12:00:00.000000Z";

/// A rendered answer, before it becomes a hyper response.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub status: u16,
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub body: RBody,
}

/// Whole body, or a stream of chunks (sent with chunked transfer encoding).
#[derive(Debug)]
pub(crate) enum RBody {
    Full(Vec<u8>),
    Chunks(Vec<Vec<u8>>),
}

impl RBody {
    /// All bytes, concatenated.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            RBody::Full(b) => b,
            RBody::Chunks(c) => c.concat(),
        }
    }
}

impl Rendered {
    pub(crate) fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Rendered {
        Rendered {
            status,
            headers: vec![(Cow::Borrowed("content-type"), Cow::Borrowed(content_type))],
            body: RBody::Full(body),
        }
    }

    pub(crate) fn json(status: u16, body: &Value) -> Rendered {
        Rendered::new(status, "application/json", body.to_string().into_bytes())
    }

    pub(crate) fn stream(content_type: &'static str, chunks: Vec<Vec<u8>>) -> Rendered {
        Rendered {
            status: 200,
            headers: vec![(Cow::Borrowed("content-type"), Cow::Borrowed(content_type))],
            body: RBody::Chunks(chunks),
        }
    }

    /// Adds a header; `name` must be a lowercase literal.
    pub(crate) fn header(
        mut self,
        name: &'static str,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        debug_assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "{name}");
        self.headers.push((Cow::Borrowed(name), value.into()));
        self
    }
}

/// Everything a renderer may use about the request being answered.
pub(crate) struct Ctx<'a> {
    pub protocol: Protocol,
    pub inbound: &'a Inbound,
    /// Hash of the request body: response ids derive from it (same request, same body).
    pub body_hash: u64,
    /// Server-wide request number: request-id *headers* derive from it (retries differ).
    pub seq: u64,
    /// Server delay hint for rate-limit / overload errors.
    pub retry_after: Option<Duration>,
}

impl Ctx<'_> {
    /// `n` hex digits derived from the body hash and a salt.
    pub(crate) fn id(&self, salt: u64, n: usize) -> String {
        hex_id(self.body_hash ^ rng::mix(salt), n)
    }

    /// `n` hex digits unique to this request (for request-id headers).
    pub(crate) fn request_id(&self, n: usize) -> String {
        hex_id(rng::mix(self.seq ^ 0x5eed) ^ self.body_hash, n)
    }

    /// A UUID-shaped request id (Bedrock, Azure `apim-request-id`).
    pub(crate) fn request_uuid(&self) -> String {
        let h = self.request_id(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    pub(crate) fn requested_model(&self) -> &str {
        self.inbound.model.as_deref().unwrap_or("mock-model")
    }
}

fn hex_id(seed: u64, n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    let mut x = seed;
    while out.len() < n {
        x = rng::mix(x);
        let _ = write!(out, "{x:016x}");
    }
    out.truncate(n);
    out
}

/// An answer with everything decided.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub text: String,
    pub finish: Finish,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub refusal: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub model: String,
    pub stop_sequence: Option<String>,
    pub embeddings: Option<Vec<Vec<f32>>>,
}

impl Resolved {
    pub(crate) fn total_tokens(&self) -> u32 {
        self.input_tokens + self.output_tokens
    }

    /// The text, or the refusal text where a protocol has no separate refusal field.
    pub(crate) fn text_or_refusal(&self) -> &str {
        match &self.refusal {
            Some(r) if self.text.is_empty() => r,
            _ => &self.text,
        }
    }
}

/// About four characters per token, never zero.
pub(crate) fn estimate_tokens(s: &str) -> u32 {
    u32::try_from(s.chars().count().div_ceil(4))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// The echo text for a prompt.
pub(crate) fn echo_text(prompt: &str) -> String {
    let mut s = String::with_capacity(16 + prompt.len());
    s.push_str("mock answer to: ");
    s.push_str(prompt);
    s
}

pub(crate) fn resolve(answer: &Answer, ctx: &Ctx<'_>) -> Resolved {
    let text = match &answer.text {
        AnswerText::Fixed(t) => t.clone(),
        AnswerText::Echo => echo_text(&ctx.inbound.prompt),
    };
    let finish = answer.finish.clone().unwrap_or_else(|| {
        if !answer.tool_calls.is_empty() {
            Finish::ToolCalls
        } else if answer.refusal.is_some() && !ctx.protocol.is_openai_family() {
            Finish::ContentFilter
        } else {
            Finish::Stop
        }
    });
    let (input_tokens, output_tokens) = answer.usage.unwrap_or_else(|| {
        let tools: u32 = answer
            .tool_calls
            .iter()
            .map(|t| estimate_tokens(&t.arguments.to_string()) + 8)
            .sum();
        let out_text = answer.refusal.as_deref().unwrap_or(&text);
        (
            8 + estimate_tokens(&ctx.inbound.prompt),
            estimate_tokens(out_text) + tools,
        )
    });
    Resolved {
        text,
        finish,
        input_tokens,
        output_tokens,
        refusal: answer.refusal.clone(),
        tool_calls: answer.tool_calls.clone(),
        model: answer
            .served_model
            .clone()
            .unwrap_or_else(|| ctx.requested_model().to_string()),
        stop_sequence: answer.stop_sequence.clone(),
        embeddings: answer.embeddings.clone(),
    }
}

/// Splits text into word-sized pieces for streams ("Paris is" → "Paris ", "is").
pub(crate) fn pieces(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_space = false;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if !space && prev_space && i > start {
            out.push(&text[start..i]);
            start = i;
        }
        prev_space = space;
    }
    out.push(&text[start..]);
    out
}

/// Renders a successful answer (stream or not, as the request asked).
pub(crate) fn success(answer: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    match ctx.protocol {
        Protocol::OpenAiChat | Protocol::AzureClassic | Protocol::AzureV1 => {
            openai::chat(answer, ctx)
        }
        Protocol::OpenAiResponses => responses::responses(answer, ctx),
        Protocol::OpenAiEmbeddings => embeddings::embeddings(answer, ctx),
        Protocol::Anthropic => anthropic::message(answer, ctx),
        Protocol::BedrockConverse => bedrock::converse(answer, ctx),
        Protocol::BedrockInvoke => bedrock::invoke(answer, ctx),
        Protocol::Gemini | Protocol::Vertex => gemini::generate(answer, ctx),
        Protocol::OllamaChat | Protocol::OllamaGenerate => ollama::answer(answer, ctx),
        Protocol::GeminiEmbed => embeddings::gemini(answer, ctx),
        Protocol::BedrockEmbed => embeddings::titan(answer, ctx),
        Protocol::OllamaEmbed => embeddings::ollama(answer, ctx),
    }
}

/// Renders a documented failure.
pub(crate) fn error(kind: ErrorKind, ctx: &Ctx<'_>) -> Rendered {
    let retry = ctx.retry_after.or(match kind {
        ErrorKind::RateLimited => Some(Duration::from_secs(1)),
        _ => None,
    });
    let ctx = Ctx {
        retry_after: retry,
        ..*ctx
    };
    match ctx.protocol {
        Protocol::OpenAiChat
        | Protocol::OpenAiResponses
        | Protocol::OpenAiEmbeddings
        | Protocol::AzureClassic
        | Protocol::AzureV1 => openai::error(kind, &ctx),
        Protocol::Anthropic => anthropic::error(kind, &ctx),
        Protocol::BedrockConverse | Protocol::BedrockInvoke | Protocol::BedrockEmbed => {
            bedrock::error(kind, &ctx)
        }
        Protocol::Gemini | Protocol::Vertex | Protocol::GeminiEmbed => gemini::error(kind, &ctx),
        Protocol::OllamaChat | Protocol::OllamaGenerate | Protocol::OllamaEmbed => {
            ollama::error(kind, &ctx)
        }
    }
}

/// The start of `answer`'s stream, then the protocol's in-stream error (see
/// [`Reply::stream_error`](crate::Reply::stream_error)).
pub(crate) fn stream_error(kind: ErrorKind, answer: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let err = error(kind, ctx);
    if !ctx.inbound.stream || err.status == 200 {
        return err;
    }
    let ok = success(answer, ctx);
    let RBody::Chunks(mut chunks) = ok.body else {
        return err;
    };
    // Keep at least one chunk, never the last one (it may carry the terminator).
    chunks.truncate(chunks.len().saturating_sub(1).clamp(1, 2));
    let mut e: Value = serde_json::from_slice(&err.body.into_bytes()).unwrap_or(Value::Null);
    let tail = match ctx.protocol {
        p if p.is_openai_family() => format!("data: {e}\n\n").into_bytes(),
        Protocol::Anthropic => {
            if let Some(o) = e.as_object_mut() {
                o.remove("request_id");
            }
            format!("event: error\ndata: {e}\n\n").into_bytes()
        }
        Protocol::Gemini | Protocol::Vertex if ctx.inbound.alt_sse => {
            format!("{e}\r\n").into_bytes()
        }
        // JSON-array stream: the kept elements end with ",\r\n"; close the array.
        Protocol::Gemini | Protocol::Vertex => format!("{e}]").into_bytes(),
        Protocol::BedrockConverse | Protocol::BedrockInvoke => {
            let exception = match kind {
                ErrorKind::RateLimited | ErrorKind::QuotaExhausted => "throttlingException",
                ErrorKind::Overloaded => "serviceUnavailableException",
                ErrorKind::InvalidRequest => "validationException",
                ErrorKind::Timeout => "modelTimeoutException",
                _ => "internalServerException",
            };
            crate::eventstream::frame(
                &[
                    (":exception-type", exception),
                    (":content-type", "application/json"),
                    (":message-type", "exception"),
                ],
                serde_json::json!({"message": e["message"]})
                    .to_string()
                    .as_bytes(),
            )
        }
        _ => format!("{e}\n").into_bytes(),
    };
    chunks.push(tail);
    Rendered {
        status: 200,
        headers: ok.headers,
        body: RBody::Chunks(chunks),
    }
}

/// Adds `retry-after` (whole seconds, rounded up) and `retry-after-ms`.
pub(crate) fn retry_headers(r: Rendered, d: Option<Duration>, with_ms: bool) -> Rendered {
    let Some(d) = d else { return r };
    let secs = d.as_millis().div_ceil(1000);
    let r = r.header("retry-after", secs.to_string());
    if with_ms {
        r.header("retry-after-ms", d.as_millis().to_string())
    } else {
        r
    }
}

/// The protocol's rejection for a request the checks refused (auth, missing version…).
pub(crate) fn rejection(rej: &crate::auth::Rejection, ctx: &Ctx<'_>) -> Rendered {
    use crate::auth::Rejection as R;
    match rej {
        R::Bedrock(e) => bedrock::sigv4_error(e, ctx),
        R::Status {
            status,
            kind_hint,
            message,
        } => match ctx.protocol {
            p if p.is_openai_family() => openai::rejection(*status, kind_hint, message, ctx),
            Protocol::Anthropic => anthropic::rejection(*status, kind_hint, message, ctx),
            Protocol::Gemini | Protocol::Vertex | Protocol::GeminiEmbed => {
                gemini::rejection(*status, kind_hint, message, ctx)
            }
            Protocol::BedrockConverse | Protocol::BedrockInvoke | Protocol::BedrockEmbed => {
                bedrock::rejection(*status, kind_hint, message, ctx)
            }
            _ => ollama::rejection(*status, message),
        },
    }
}

/// `404` for a path the mock does not serve, in OpenAI's shape (`Invalid URL (POST /x)`).
pub(crate) fn unknown_route(method: &str, path: &str) -> Rendered {
    Rendered::json(
        404,
        &serde_json::json!({"error": {
            "message": format!("Invalid URL ({method} {path})"),
            "type": "invalid_request_error",
            "param": null,
            "code": null,
        }}),
    )
}

/// The same answer as a non-stream body, cut in half: not valid JSON.
pub(crate) fn malformed(answer: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let mut r = success_unstreamed(answer, ctx);
    let full = std::mem::replace(&mut r.body, RBody::Full(Vec::new())).into_bytes();
    let cut = (full.len() / 2).max(1);
    r.body = RBody::Full(full[..cut].to_vec());
    r
}

/// The non-stream success, whatever the request asked (for faults).
pub(crate) fn success_unstreamed(answer: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    if !ctx.inbound.stream {
        return success(answer, ctx);
    }
    let copy = Inbound {
        json: ctx.inbound.json.clone(),
        model: ctx.inbound.model.clone(),
        prompt: ctx.inbound.prompt.clone(),
        stream: false,
        include_usage: false,
        alt_sse: false,
    };
    success(
        answer,
        &Ctx {
            inbound: &copy,
            ..*ctx
        },
    )
}

/// Google-style duration (`"42s"`, `"0.050s"`).
pub(crate) fn google_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

pub(crate) use embeddings::bag_of_words;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_all_text() {
        let t = "Paris is  the capital\nof France";
        let p = pieces(t);
        assert_eq!(p.concat(), t);
        assert_eq!(p[0], "Paris ");
        assert!(pieces("").is_empty());
        assert_eq!(pieces("one"), vec!["one"]);
    }

    #[test]
    fn durations() {
        assert_eq!(google_duration(Duration::from_secs(42)), "42s");
        assert_eq!(google_duration(Duration::from_millis(50)), "0.050s");
    }
}
