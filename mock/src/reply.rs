//! What to answer: a protocol-neutral [`Reply`], rendered per protocol by `render/`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::fixtures;

/// Why the answer stopped, in neutral terms; each protocol renders its own raw value.
///
/// | neutral | OpenAI / Azure / Ollama compat | Responses | Anthropic (and Bedrock invoke) | Bedrock Converse | Gemini / Vertex | Ollama native `done_reason` |
/// |---|---|---|---|---|---|---|
/// | `Stop` | `stop` | `completed` | `end_turn` | `end_turn` | `STOP` | `stop` |
/// | `Length` | `length` | `incomplete` + `max_output_tokens` | `max_tokens` | `max_tokens` | `MAX_TOKENS` | `length` |
/// | `ContentFilter` | `content_filter` | `incomplete` + `content_filter` | `refusal` | `guardrail_intervened` | `SAFETY` (no parts) | `stop` |
/// | `ToolCalls` | `tool_calls` | `completed` | `tool_use` | `tool_use` | `STOP` | `stop` |
/// | `Raw(s)` | `s` verbatim in the protocol's field | | | | | |
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finish {
    /// Natural end of the answer.
    Stop,
    /// Output token limit reached.
    Length,
    /// The answer was filtered or refused.
    ContentFilter,
    /// The model called tools.
    ToolCalls,
    /// A raw protocol value, passed through unchanged (`pause_turn`, `RECITATION`…).
    Raw(String),
}

/// A tool (function) call in an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// Function name.
    pub name: String,
    /// Arguments (an object; OpenAI renders it as a JSON string).
    pub arguments: Value,
}

/// Documented provider failures, each rendered with the protocol's status, headers and body
/// shape.
///
/// | kind | OpenAI / compat | Azure | Anthropic | Bedrock (`x-amzn-ErrorType`) | Gemini / Vertex | Ollama native |
/// |---|---|---|---|---|---|---|
/// | `RateLimited` | 429 `rate_limit_exceeded` + `retry-after`, `retry-after-ms`, `x-ratelimit-*` | 429, `code:"429"`, "retry after N seconds" + both headers | 429 `rate_limit_error` + `retry-after` | 429 `ThrottlingException` | 429 `RESOURCE_EXHAUSTED` + `RetryInfo.retryDelay` | 429 `{"error"}` |
/// | `QuotaExhausted` | 429 `insufficient_quota` | same | 429 `rate_limit_error`, `details.error_code: enforced_spend_limit_reached` | 400 `ServiceQuotaExceededException` | 429 `RESOURCE_EXHAUSTED` + `QuotaFailure` (per day), no `RetryInfo` | 429 `{"error"}` |
/// | `Overloaded` | 503 | 503 | **529** `overloaded_error` | 503 `ServiceUnavailableException` | 503 `UNAVAILABLE` | 503 `{"error"}` (server busy) |
/// | `Server` | 500 `server_error` | 500 | 500 `api_error` | 500 `InternalServerException` | 500 `INTERNAL` | 500 |
/// | `Timeout` | 504 | 504 | 504 `timeout_error` | 408 `ModelTimeoutException` | 504 `DEADLINE_EXCEEDED` | 500 |
/// | `InvalidRequest` | 400 `invalid_request_error` | 400 | 400 `invalid_request_error` | 400 `ValidationException` | 400 `INVALID_ARGUMENT` | 400 |
/// | `Unauthorized` | 401 `invalid_api_key` | 401 `code:"401"` | 401 `authentication_error` | 403 `UnrecognizedClientException` | Gemini 400 `API_KEY_INVALID`, Vertex 401 `UNAUTHENTICATED` | 401 |
/// | `Forbidden` | 403 | 403 | 403 `permission_error` | 403 `AccessDeniedException` | 403 `PERMISSION_DENIED` | 403 |
/// | `NotFound` | 404 `model_not_found` | 404 `DeploymentNotFound` | 404 `not_found_error` | 404 `ResourceNotFoundException` | 404 `NOT_FOUND` | 404 "model not found, try pulling it first" |
/// | `ContentFilter` | 400 `content_filter` (Azure shape) | 400 `content_filter` + `innererror` | 200 `stop_reason: refusal`, no text | 200 `guardrail_intervened` | 200 prompt blocked (`promptFeedback.blockReason: SAFETY`) | 400 |
/// | `PromptBlocked` | as `ContentFilter` | | | | 200, no `candidates`, `blockReason: SAFETY` | |
/// | `FinishSafety` | 200 `finish_reason: content_filter` | | 200 `refusal` | 200 `guardrail_intervened` | 200, candidate `finishReason: SAFETY`, no parts | 200 |
///
/// Responses that carry a request id header keep it (`x-request-id`, `request-id`,
/// `x-amzn-RequestId`). Anthropic error bodies also carry `request_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Too many requests; retryable after the server's delay (default 1 s, see
    /// [`Reply::retry_after`]).
    RateLimited,
    /// Spend or quota exhausted; retrying does not help.
    QuotaExhausted,
    /// Server overloaded (Anthropic 529, others 503).
    Overloaded,
    /// Internal server error (500).
    Server,
    /// Server-side timeout (504, Bedrock 408).
    Timeout,
    /// Malformed or unsupported request (400).
    InvalidRequest,
    /// Bad or missing credentials (401; Bedrock 403; Gemini 400 `API_KEY_INVALID`).
    Unauthorized,
    /// Credentials valid but not allowed (403).
    Forbidden,
    /// Unknown model or deployment (404).
    NotFound,
    /// The prompt was filtered (Azure 400 `content_filter`; see the table for others).
    ContentFilter,
    /// Gemini: 200 with no candidates and `promptFeedback.blockReason`.
    PromptBlocked,
    /// Gemini: a candidate with `finishReason: SAFETY` and no parts.
    FinishSafety,
}

impl ErrorKind {
    /// Every kind, for tests that loop over them.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::RateLimited,
        ErrorKind::QuotaExhausted,
        ErrorKind::Overloaded,
        ErrorKind::Server,
        ErrorKind::Timeout,
        ErrorKind::InvalidRequest,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::ContentFilter,
        ErrorKind::PromptBlocked,
        ErrorKind::FinishSafety,
    ];
}

/// The text of an answer: fixed, or derived from the request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AnswerText {
    Fixed(String),
    /// `mock answer to: <last user message>`.
    Echo,
}

/// A successful answer before rendering.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub text: AnswerText,
    pub finish: Option<Finish>,
    pub usage: Option<(u32, u32)>,
    pub refusal: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub served_model: Option<String>,
    pub stop_sequence: Option<String>,
    pub embeddings: Option<Vec<Vec<f32>>>,
    pub stream_fault: Option<StreamFault>,
}

/// How a streamed answer goes wrong on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamFault {
    /// The first half of the chunks, then the connection breaks mid-body.
    Cut,
    /// Every chunk but the last (the terminal event), then a clean end.
    Unterminated,
}

impl Answer {
    fn new(text: AnswerText) -> Answer {
        Answer {
            text,
            finish: None,
            usage: None,
            refusal: None,
            tool_calls: Vec::new(),
            served_model: None,
            stop_sequence: None,
            embeddings: None,
            stream_fault: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Answer(Box<Answer>),
    Error(ErrorKind),
    StreamError(ErrorKind),
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    Malformed,
    Truncated,
    Close,
    Random(Arc<RandomReply>),
}

#[derive(Debug)]
pub(crate) struct RandomReply {
    pub seed: u64,
    pub choices: Vec<(u32, Reply)>,
    pub total: u64,
    pub draws: AtomicU64,
}

impl RandomReply {
    /// The reply for the next request: draw `n` of this reply's seeded sequence.
    pub(crate) fn pick(&self) -> &Reply {
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        let r = crate::rng::mix(self.seed ^ crate::rng::mix(n)) % self.total;
        let mut acc = 0u64;
        for (w, reply) in &self.choices {
            acc += u64::from(*w);
            if r < acc {
                return reply;
            }
        }
        &self.choices[self.choices.len() - 1].1
    }
}

/// A scripted answer, rendered in the matched protocol's exact wire format.
///
/// Build one with a constructor ([`text`](Reply::text), [`echo`](Reply::echo),
/// [`error`](Reply::error), [`raw`](Reply::raw), [`fixture`](Reply::fixture), a fault…), then
/// refine it with builders. Builders that only make sense for answers
/// ([`finish`](Reply::finish), [`usage`](Reply::usage)…) panic on other replies, so a test that
/// writes `Reply::error(..).usage(1, 2)` learns about it at once.
///
/// ```
/// use std::time::Duration;
/// use promptdrift_mock::{ErrorKind, Finish, Reply};
///
/// let cut = Reply::text("The capital of France is").finish(Finish::Length).usage(12, 5);
/// let refused = Reply::text("").refusal("I can't help with that.");
/// let slow = Reply::echo().delay(Duration::from_secs(5));
/// let limited = Reply::error(ErrorKind::RateLimited).retry_after(Duration::from_millis(50));
/// let final_429 = Reply::error(ErrorKind::RateLimited).header("x-should-retry", "false");
/// let flaky = Reply::random(7, vec![(7, Reply::text("Paris")), (3, Reply::error(ErrorKind::Server))]);
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) body: ReplyBody,
    pub(crate) delay: Option<Duration>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) retry_after: Option<Duration>,
    /// Streamed answers: pause before the first chunk, and between chunks.
    pub(crate) pace: Option<(Duration, Duration)>,
}

impl Reply {
    fn of(body: ReplyBody) -> Reply {
        Reply {
            body,
            delay: None,
            headers: Vec::new(),
            retry_after: None,
            pace: None,
        }
    }

    /// Answers `text` (finish `Stop`, usage estimated from the prompt and the text).
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::of(ReplyBody::Answer(Box::new(Answer::new(AnswerText::Fixed(
            text.into(),
        )))))
    }

    /// Answers `mock answer to: <last user message>` — what unmatched requests get.
    #[must_use]
    pub fn echo() -> Reply {
        Reply::of(ReplyBody::Answer(Box::new(Answer::new(AnswerText::Echo))))
    }

    /// Answers the compact JSON serialisation of `value` as the text
    /// (`Reply::json_text(json!({"answer": "Paris"}))` → `{"answer":"Paris"}`).
    #[must_use]
    pub fn json_text(value: impl Into<Value>) -> Reply {
        Reply::text(value.into().to_string())
    }

    /// Answers with one tool call (finish `ToolCalls`); chain [`tool_call`](Reply::tool_call)
    /// for more.
    ///
    /// ```
    /// # use promptdrift_mock::Reply;
    /// let r = Reply::tool("get_weather", serde_json::json!({"city": "Paris"}));
    /// ```
    pub fn tool(name: impl Into<String>, arguments: Value) -> Reply {
        Reply::text("").tool_call(name, arguments)
    }

    /// Embeddings endpoint: these vectors, one per input (otherwise the mock derives a
    /// deterministic bag-of-words vector from each input).
    #[must_use]
    pub fn embeddings(vectors: Vec<Vec<f32>>) -> Reply {
        let mut a = Answer::new(AnswerText::Fixed(String::new()));
        a.embeddings = Some(vectors);
        Reply::of(ReplyBody::Answer(Box::new(a)))
    }

    /// A documented failure, rendered per protocol (see [`ErrorKind`]).
    #[must_use]
    pub fn error(kind: ErrorKind) -> Reply {
        Reply::of(ReplyBody::Error(kind))
    }

    /// A failure *inside* a stream: for streamed requests, 200 with the first chunks of an
    /// answer, then the protocol's in-stream error and no terminator — OpenAI
    /// `data: {"error":…}` without `[DONE]`, Anthropic `event: error`, Gemini a bare error
    /// object, Ollama an `{"error":…}` line, Bedrock an `exception` frame
    /// (`throttlingException`, `serviceUnavailableException`, `validationException`,
    /// `internalServerException`). Non-streamed requests get [`Reply::error`].
    #[must_use]
    pub fn stream_error(kind: ErrorKind) -> Reply {
        Reply::of(ReplyBody::StreamError(kind))
    }

    /// Exactly this status, these headers and this body, whatever the protocol.
    ///
    /// ```
    /// # use promptdrift_mock::Reply;
    /// let r = Reply::raw(413, &[("content-type", "text/html")], "<html>Request Entity Too Large</html>");
    /// ```
    pub fn raw(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
        Reply::of(ReplyBody::Raw {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            body: body.into(),
        })
    }

    /// One of the embedded provider fixtures (path relative to `fixtures/`, see
    /// [`fixture_names`](crate::fixture_names)) with this status and extra headers.
    /// The content type follows the extension (`.json`, `.sse`, `.ndjson`).
    ///
    /// # Panics
    /// If no fixture has that name (the message lists them).
    ///
    /// ```
    /// # use promptdrift_mock::Reply;
    /// let r = Reply::fixture("anthropic/error_529_overloaded.json", 529, &[]);
    /// ```
    #[must_use]
    pub fn fixture(name: &str, status: u16, headers: &[(&str, &str)]) -> Reply {
        let Some(body) = fixtures::get(name) else {
            panic!(
                "no embedded fixture `{name}`; available: {}",
                fixtures::names().collect::<Vec<_>>().join(", ")
            );
        };
        let ext = std::path::Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        let ctype = match ext {
            "sse" => "text/event-stream",
            "ndjson" => "application/x-ndjson",
            _ => "application/json",
        };
        let mut all = vec![("content-type", ctype)];
        all.extend_from_slice(headers);
        Reply::raw(status, &all, body)
    }

    /// 200 with the protocol's `content-type` and a body that is not valid JSON (the success
    /// body cut in half).
    pub fn malformed() -> Reply {
        Reply::of(ReplyBody::Malformed)
    }

    /// 200 that declares the full `Content-Length` of the success body, sends half of it and
    /// closes the connection.
    pub fn truncated() -> Reply {
        Reply::of(ReplyBody::Truncated)
    }

    /// Closes the connection without answering (after [`delay`](Reply::delay), if any).
    pub fn close() -> Reply {
        Reply::of(ReplyBody::Close)
    }

    /// Picks one of `choices` per request, by weight, from a sequence fixed by `seed`: the
    /// n-th request answered by this reply always gets the same choice, so "passes 70 % of
    /// the time" is reproducible.
    ///
    /// # Panics
    /// If `choices` is empty or all weights are zero.
    #[must_use]
    pub fn random(seed: u64, choices: Vec<(u32, Reply)>) -> Reply {
        let total: u64 = choices.iter().map(|(w, _)| u64::from(*w)).sum();
        assert!(total > 0, "Reply::random needs a positive total weight");
        Reply::of(ReplyBody::Random(Arc::new(RandomReply {
            seed,
            choices,
            total,
            draws: AtomicU64::new(0),
        })))
    }

    /// Waits this long before answering (or before closing, for [`close`](Reply::close)).
    #[must_use]
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = Some(d);
        self
    }

    /// Streamed answers: wait `first` after the response head before the first chunk, and
    /// `between` before each later one (each chunk is flushed as it is sent), so a client's
    /// time to first token is at least `first` (plus [`delay`](Reply::delay), which comes
    /// before the head). No effect on answers that are not streamed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use promptdrift_mock::Reply;
    /// let slow_start = Reply::text("Paris is nice")
    ///     .stream_delays(Duration::from_millis(300), Duration::from_millis(20));
    /// ```
    #[must_use]
    pub fn stream_delays(mut self, first: Duration, between: Duration) -> Reply {
        self.pace = Some((first, between));
        self
    }

    /// Streamed answers: send the first half of the stream's chunks (at least one, never
    /// the last), then break the connection mid-body (the chunked body never ends), as a
    /// server dying or a reset mid-answer does. Non-streamed requests get the whole answer.
    #[must_use]
    pub fn cut_stream(mut self) -> Reply {
        self.answer_mut("cut_stream").stream_fault = Some(StreamFault::Cut);
        self
    }

    /// Streamed answers: send every chunk but the last, then end the body cleanly: the
    /// terminal event is missing (OpenAI `data: [DONE]`, Anthropic `message_stop`, Gemini's
    /// chunk with `finishReason`, Ollama's `"done": true` line, Bedrock's `metadata` event).
    /// Non-streamed requests get the whole answer.
    #[must_use]
    pub fn unterminated_stream(mut self) -> Reply {
        self.answer_mut("unterminated_stream").stream_fault = Some(StreamFault::Unterminated);
        self
    }

    /// Adds a response header (after the protocol's own, so it can override them).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Server delay for `RateLimited` / `Overloaded` errors: `retry-after` (whole seconds,
    /// rounded up) and `retry-after-ms` on OpenAI/Azure, `retry-after` on Anthropic,
    /// `RetryInfo.retryDelay` on Gemini. Default for `RateLimited`: 1 s; `Overloaded` sends
    /// none unless set.
    #[must_use]
    pub fn retry_after(mut self, d: Duration) -> Reply {
        self.retry_after = Some(d);
        self
    }

    fn answer_mut(&mut self, what: &str) -> &mut Answer {
        match &mut self.body {
            ReplyBody::Answer(a) => a,
            other => panic!("Reply::{what} applies to text answers, not to {other:?}"),
        }
    }

    /// Sets the finish reason (default `Stop`, or `ToolCalls` when there are tool calls).
    #[must_use]
    pub fn finish(mut self, finish: Finish) -> Reply {
        self.answer_mut("finish").finish = Some(finish);
        self
    }

    /// Sets usage (input, output) tokens instead of the estimate.
    #[must_use]
    pub fn usage(mut self, input_tokens: u32, output_tokens: u32) -> Reply {
        self.answer_mut("usage").usage = Some((input_tokens, output_tokens));
        self
    }

    /// A refusal: OpenAI `message.refusal` (content null, finish `stop`); Anthropic and
    /// Bedrock invoke `stop_reason: refusal`; elsewhere the refusal is the text and the finish
    /// is `ContentFilter`.
    #[must_use]
    pub fn refusal(mut self, text: impl Into<String>) -> Reply {
        self.answer_mut("refusal").refusal = Some(text.into());
        self
    }

    /// Adds a tool call.
    #[must_use]
    pub fn tool_call(mut self, name: impl Into<String>, arguments: Value) -> Reply {
        self.answer_mut("tool_call").tool_calls.push(ToolCall {
            name: name.into(),
            arguments,
        });
        self
    }

    /// The model name the response reports (default: the requested one).
    #[must_use]
    pub fn served_model(mut self, model: impl Into<String>) -> Reply {
        self.answer_mut("served_model").served_model = Some(model.into());
        self
    }

    /// Stopped on this stop sequence: Anthropic `stop_reason: stop_sequence` with
    /// `stop_sequence`, Bedrock `stop_sequence`, `stop`/`STOP` elsewhere.
    #[must_use]
    pub fn stop_sequence(mut self, seq: impl Into<String>) -> Reply {
        self.answer_mut("stop_sequence").stop_sequence = Some(seq.into());
        self
    }
}

impl Default for Reply {
    fn default() -> Reply {
        Reply::echo()
    }
}
