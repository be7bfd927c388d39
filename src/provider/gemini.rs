//! Google Gemini API (`POST {base}/{v1beta|v1}/models/{model}:generateContent`), and the body,
//! answer and error code it shares with Vertex AI ([`super::vertex`]).
//!
//! Wire facts (PROTOCOLS.md §5): `x-goog-api-key` auth (`GOOGLE_API_KEY`, then
//! `GEMINI_API_KEY`); the assistant role is `model`; the system prompt is a top-level
//! `systemInstruction`; sampling lives in `generationConfig` (JSON mode is `responseMimeType:
//! application/json`). A blocked prompt is HTTP 200 with no candidates and
//! `promptFeedback.blockReason`; a blocked answer is a candidate with `finishReason: SAFETY`
//! (or another safety reason) and no parts. Both become a case error of class
//! `content_filter` naming the reason and the blocked categories. A safety finish that still
//! carries text is an answer with finish reason `content_filter`. Errors are
//! `{"error":{code,message,status,details}}`; a 429's delay is `RetryInfo.retryDelay`.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::content::Turns;
use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::tools;
use super::wire::{Auth, HttpRequest, RawResponse, WireRequest};
use super::{
    ErrorClass, FinishReason, Message, Provider, ProviderError, Request, Response, Usage,
    class_for_status, http_error,
};
use crate::suite::model::{Mode, ProviderSpec, Role};
use crate::suite::tools::ToolCall;

mod stream;
pub use stream::GenerateStream;

use super::stream::StreamDecoder;

/// Default API root.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// API version used unless `config.api_version` says `v1`: `v1beta` carries every feature
/// (system instructions, JSON mode, thinking) for every model.
pub const DEFAULT_API_VERSION: &str = "v1beta";

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] = &["api_version", "safety_settings", "generation_config"];

/// Settings both Gemini and Vertex read from `config`: `safety_settings` (a list passed as
/// `safetySettings`) and `generation_config` (a mapping merged into `generationConfig`).
#[derive(Debug, Clone, Default)]
pub struct GoogleExtras {
    safety_settings: Option<Value>,
    generation_config: Map<String, Value>,
}

impl GoogleExtras {
    /// Reads and checks the two keys.
    pub fn from_spec(spec: &ProviderSpec) -> Result<Self, ProviderFactoryError> {
        let safety_settings = match spec.config.other.get("safety_settings") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Array(_)) => Some(v.clone()),
            Some(_) => {
                return Err(ProviderFactoryError::new(
                    "`safety_settings` must be a list of `{category, threshold}` mappings",
                )
                .at("config.safety_settings"));
            }
        };
        let generation_config = match spec.config.other.get("generation_config") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(
                    ProviderFactoryError::new("`generation_config` must be a mapping")
                        .at("config.generation_config"),
                );
            }
        };
        Ok(GoogleExtras {
            safety_settings,
            generation_config,
        })
    }
}

/// The Gemini API protocol.
#[derive(Debug)]
pub struct Gemini {
    id: String,
    model: String,
    url: String,
    auth: Auth,
    extra_headers: Vec<(String, String)>,
    extras: GoogleExtras,
}

impl Gemini {
    /// Builds from a suite entry.
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, CONFIG_KEYS)?;
        let Some(model) = spec.model() else {
            return Err(ProviderFactoryError::new(format!(
                "provider id `{}` names no model",
                spec.id
            ))
            .at("id")
            .help("write `gemini:<model>`, for example `gemini:gemini-2.5-flash`"));
        };
        let api_version = match other_str(spec, "api_version")? {
            None => DEFAULT_API_VERSION,
            Some("v1beta") => "v1beta",
            Some("v1") => "v1",
            Some(other) => {
                return Err(ProviderFactoryError::new(format!(
                    "`api_version` must be `v1beta` or `v1`, not `{other}`"
                ))
                .at("config.api_version"));
            }
        };
        let base = spec
            .config
            .base_url
            .clone()
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        super::endpoint::check_base_url(&base)?;
        // `gemini-2.5-flash` → `models/gemini-2.5-flash`; `models/…` and `tunedModels/…` as given.
        let model_path = if model.contains('/') {
            model.to_string()
        } else {
            format!("models/{model}")
        };
        let auth = if ctx.mode == Mode::Replay {
            Auth::None
        } else {
            let key = if spec.config.api_key_env.is_some() {
                ctx.api_key(spec, None, true)?
            } else {
                ctx.var(crate::env::GOOGLE_API_KEY)
                    .or_else(|| ctx.var(crate::env::GEMINI_API_KEY))
                    .map(|k| crate::secret::Secret::new(k.trim()))
            };
            let Some(key) = key else {
                let mut e = ProviderFactoryError::new(format!(
                    "provider `{}` needs an API key in GOOGLE_API_KEY or GEMINI_API_KEY, and neither is set",
                    spec.label
                ))
                .help("export GEMINI_API_KEY=… (keys are read from the environment, never from suites), or run offline with `--mode replay`");
                e.missing_credentials = true;
                return Err(e);
            };
            Auth::Header {
                name: "x-goog-api-key".into(),
                value: key,
            }
        };
        let (extra_headers, secret_headers) = super::http::resolve_headers(spec, ctx)?;
        Ok(Gemini {
            id: spec.id.clone(),
            model: model.trim_start_matches("models/").to_string(),
            url: format!(
                "{}/{api_version}/{model_path}:generateContent",
                base.trim_end_matches('/')
            ),
            auth: auth.with_secret_headers(secret_headers),
            extra_headers,
            extras: GoogleExtras::from_spec(spec)?,
        })
    }
}

impl Provider for Gemini {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        Ok(generate_request(
            &self.url,
            req,
            &self.extras,
            &self.auth,
            &self.extra_headers,
        ))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        parse_generate(raw, "Gemini")
    }

    fn stream_decoder(&self) -> Option<Box<dyn StreamDecoder>> {
        Some(Box::new(GenerateStream::new("Gemini")))
    }

    fn price_model(&self) -> Option<&str> {
        Some(&self.model)
    }
}

/// The `generateContent` body for `req` (Gemini and Vertex).
pub fn generate_body(req: &Request, extras: &GoogleExtras) -> Value {
    let contents = contents(req);
    let mut body = Map::new();
    if let Some(system) = &req.system {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    body.insert("contents".into(), Value::Array(contents));
    let mut config = Map::new();
    if let Some(t) = req.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        config.insert("topP".into(), json!(p));
    }
    if let Some(k) = req.top_k {
        config.insert("topK".into(), json!(k));
    }
    if let Some(n) = req.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if !req.stop.is_empty() {
        config.insert("stopSequences".into(), json!(req.stop));
    }
    if let Some(s) = req.seed {
        config.insert("seed".into(), json!(s));
    }
    if let Some(f) = req.output_format() {
        super::output::gemini_generation_config(&f, &mut config);
    }
    for (k, v) in &extras.generation_config {
        config.insert(k.clone(), v.clone());
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    if let Some(s) = &extras.safety_settings {
        body.insert("safetySettings".into(), s.clone());
    }
    if !req.tools.is_empty() {
        body.insert("tools".into(), tools::gemini_tools(&req.tools));
        if let Some(choice) = &req.tool_choice {
            body.insert("toolConfig".into(), tools::gemini_tool_config(choice));
        }
    }
    Value::Object(body)
}

/// The conversation as `contents`: the assistant role is `model`; consecutive turns of one
/// role become one content with several parts; a tool result is a `functionResponse` part of
/// a `user` turn, named after the call it answers. Call ids are not sent: Gemini pairs calls
/// and results by name and order.
fn contents(req: &Request) -> Vec<Value> {
    let mut turns = Turns::default();
    for m in &req.messages {
        let role = if m.role == Role::Assistant {
            "model"
        } else {
            "user"
        };
        turns.push(role, parts(m), m.role == Role::Tool);
    }
    turns
        .into_inner()
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect()
}

fn parts(m: &Message) -> Vec<Value> {
    if m.role == Role::Tool {
        return vec![json!({"functionResponse": {
            "name": m.name.clone().unwrap_or_default(),
            "response": tools::gemini_function_response(&m.content),
        }})];
    }
    let mut out = Vec::with_capacity(1 + m.tool_calls.len() + m.images.len());
    out.extend(m.images.iter().map(super::content::gemini_image));
    if super::content::text_block_needed(m) {
        out.push(json!({"text": m.content}));
    }
    for c in &m.tool_calls {
        out.push(json!({"functionCall": {"name": c.name, "args": tools::arguments_object(c)}}));
    }
    out
}

/// Maps a `finishReason` onto the common set (PROTOCOLS.md §8.2); `STOP` with function
/// calls is decided by the caller.
pub fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => {
            FinishReason::ContentFilter
        }
        r if r.starts_with("IMAGE_") => FinishReason::ContentFilter,
        "MALFORMED_FUNCTION_CALL" | "UNEXPECTED_TOOL_CALL" | "TOO_MANY_TOOL_CALLS" => {
            FinishReason::Error
        }
        _ => FinishReason::Other,
    }
}

/// `HARM_CATEGORY_DANGEROUS_CONTENT (HIGH)` for each rating marked `blocked` (or, when none
/// is, each rating above `NEGLIGIBLE`/`LOW`).
fn blocked_categories(ratings: Option<&Value>) -> Vec<String> {
    let Some(list) = ratings.and_then(Value::as_array) else {
        return Vec::new();
    };
    let describe = |r: &Value| {
        format!(
            "{} ({})",
            r.get("category").and_then(Value::as_str).unwrap_or("?"),
            r.get("probability").and_then(Value::as_str).unwrap_or("?")
        )
    };
    let blocked: Vec<String> = list
        .iter()
        .filter(|r| r.get("blocked").and_then(Value::as_bool) == Some(true))
        .map(describe)
        .collect();
    if !blocked.is_empty() {
        return blocked;
    }
    list.iter()
        .filter(|r| {
            !matches!(
                r.get("probability").and_then(Value::as_str),
                None | Some("NEGLIGIBLE" | "LOW")
            )
        })
        .map(describe)
        .collect()
}

fn safety_error(
    vendor: &str,
    what: &str,
    field: &str,
    reason: &str,
    detail: Option<&str>,
    ratings: Option<&Value>,
) -> ProviderError {
    let mut message = format!("{vendor} blocked the {what} ({field} {reason})");
    let cats = blocked_categories(ratings);
    if !cats.is_empty() {
        message.push_str(": ");
        message.push_str(&cats.join(", "));
    }
    if let Some(d) = detail.filter(|d| !d.is_empty()) {
        message.push_str(". ");
        message.push_str(d);
    }
    let mut e = ProviderError::new(ErrorClass::ContentFilter, message);
    e.code = Some(reason.to_string());
    e
}

/// Parses a `generateContent` answer; `vendor` (`Gemini`, `Vertex AI`) names the provider in
/// messages.
pub fn parse_generate(raw: &RawResponse, vendor: &str) -> Result<Response, ProviderError> {
    if !raw.is_success() {
        return Err(parse_error(raw));
    }
    let body: Value = raw
        .json()
        .map_err(|e| ProviderError::protocol(format!("response is not valid JSON: {e}")))?;
    // A non-streamed answer is an object; tolerate a one-element array.
    let body = match body {
        Value::Array(mut items) if items.len() == 1 => items.remove(0),
        other => other,
    };
    if body.get("error").is_some() {
        return Err(google_error(raw, &body));
    }
    let feedback = body.get("promptFeedback");
    let candidate = body
        .get("candidates")
        .and_then(Value::as_array)
        .and_then(|c| c.first());
    let Some(candidate) = candidate else {
        return Err(prompt_blocked(vendor, feedback).unwrap_or_else(|| {
            ProviderError::protocol(format!(
                "{vendor} returned no candidates and no promptFeedback.blockReason"
            ))
        }));
    };
    let mut g = Gathered::default();
    g.parts(candidate);
    g.candidate_end(candidate);
    g.envelope(&body);
    g.request_id = raw.header(REQUEST_ID_HEADER).map(str::to_string);
    g.answer(vendor)
}

/// The header holding the request id.
pub(crate) const REQUEST_ID_HEADER: &str = "x-goog-request-id";

/// The safety error for a blocked prompt (`promptFeedback.blockReason`), if it was blocked.
pub(crate) fn prompt_blocked(vendor: &str, feedback: Option<&Value>) -> Option<ProviderError> {
    let reason = feedback?.get("blockReason")?.as_str()?;
    Some(safety_error(
        vendor,
        "prompt",
        "promptFeedback.blockReason",
        reason,
        feedback
            .and_then(|f| f.get("blockReasonMessage"))
            .and_then(Value::as_str),
        feedback.and_then(|f| f.get("safetyRatings")),
    ))
}

/// What the first candidate said, gathered from one body or from a stream's chunks, and how
/// it becomes an answer (the same for both, so a streamed answer equals the whole one).
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    pub(crate) text: String,
    pub(crate) tool_calls: Vec<ToolCall>,
    pub(crate) content: bool,
    pub(crate) finish_raw: Option<String>,
    pub(crate) finish_message: Option<String>,
    pub(crate) safety_ratings: Option<Value>,
    pub(crate) usage: Option<Value>,
    pub(crate) model: Option<String>,
    pub(crate) response_id: Option<String>,
    pub(crate) request_id: Option<String>,
}

impl Gathered {
    /// Adds a candidate's parts: text (thoughts skipped) and function calls (Gemini sends no
    /// call ids; Vertex may; [`ToolCall::id_or`] numbers the missing ones when a tool result
    /// needs one).
    pub(crate) fn parts(&mut self, candidate: &Value) {
        let parts = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(t) = part.get("text").and_then(Value::as_str) {
                self.content |= !t.is_empty();
                self.text.push_str(t);
            } else if let Some(call) = part.get("functionCall") {
                self.content = true;
                self.tool_calls.push(tools::gemini_call(call));
            }
        }
    }

    /// Keeps a candidate's finish fields, when it has them.
    pub(crate) fn candidate_end(&mut self, candidate: &Value) {
        if let Some(f) = candidate.get("finishReason").and_then(Value::as_str) {
            self.finish_raw = Some(f.to_string());
            self.finish_message = candidate
                .get("finishMessage")
                .and_then(Value::as_str)
                .map(str::to_string);
            self.safety_ratings = candidate.get("safetyRatings").cloned();
        }
    }

    /// Keeps the body's usage, model version and response id (the last ones seen win).
    pub(crate) fn envelope(&mut self, body: &Value) {
        if let Some(u) = body.get("usageMetadata") {
            self.usage = Some(u.clone());
        }
        let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        if let Some(m) = s("modelVersion") {
            self.model = Some(m);
        }
        if let Some(id) = s("responseId") {
            self.response_id = Some(id);
        }
    }

    /// The answer; a safety finish with nothing in it is a `content_filter` error.
    pub(crate) fn answer(self, vendor: &str) -> Result<Response, ProviderError> {
        let finish_raw = self.finish_raw.unwrap_or_default();
        let mut finish = finish_reason(&finish_raw);
        if finish == FinishReason::ContentFilter
            && self.text.is_empty()
            && self.tool_calls.is_empty()
        {
            return Err(safety_error(
                vendor,
                "answer",
                "finishReason",
                &finish_raw,
                self.finish_message.as_deref(),
                self.safety_ratings.as_ref(),
            ));
        }
        if finish == FinishReason::Stop && !self.tool_calls.is_empty() {
            finish = FinishReason::ToolCalls;
        }
        Ok(Response {
            text: self.text,
            finish,
            finish_raw,
            refusal: None,
            usage: self.usage.as_ref().map_or_else(Usage::default, usage_of),
            model: self.model,
            response_id: self.response_id,
            request_id: self.request_id,
            server_latency_ms: None,
            tool_calls: self.tool_calls,
        })
    }
}

/// A `usageMetadata` object, normalised: thinking tokens count as output.
pub(crate) fn usage_of(u: &Value) -> Usage {
    let get = |k: &str| u.get(k).and_then(Value::as_u64);
    let input = get("promptTokenCount");
    let thoughts = get("thoughtsTokenCount");
    // Thinking tokens are billed as output; count them there.
    let output = match (get("candidatesTokenCount"), thoughts) {
        (None, None) => None,
        (c, t) => Some(c.unwrap_or(0) + t.unwrap_or(0)),
    };
    Usage {
        input,
        output,
        total: get("totalTokenCount").or_else(|| Some(input? + output?)),
        cached_input: get("cachedContentTokenCount"),
        reasoning: thoughts,
    }
}

/// The streaming URL for a `…:generateContent` URL: `…:streamGenerateContent?alt=sse`.
pub(crate) fn stream_url(url: &str) -> String {
    match url.strip_suffix(":generateContent") {
        Some(base) => format!("{base}:streamGenerateContent?alt=sse"),
        None => url.to_string(),
    }
}

/// A `generateContent` request: the streaming URL when `req.stream`.
pub(crate) fn generate_request(
    url: &str,
    req: &Request,
    extras: &GoogleExtras,
    auth: &Auth,
    extra_headers: &[(String, String)],
) -> WireRequest {
    let url = if req.stream {
        stream_url(url)
    } else {
        url.to_string()
    };
    let mut http = HttpRequest::post_json(url, generate_body(req, extras), auth.clone());
    http.headers.extend(extra_headers.iter().cloned());
    WireRequest::Http(http)
}

/// Classifies a non-2xx Gemini / Vertex answer.
pub fn parse_error(raw: &RawResponse) -> ProviderError {
    match raw.json() {
        Ok(Value::Array(items)) if items.first().is_some_and(|v| v.get("error").is_some()) => {
            google_error(raw, &items[0])
        }
        Ok(v) if v.get("error").is_some() => google_error(raw, &v),
        _ => http_error(
            raw,
            class_for_status(raw.status),
            None,
            super::wire::body_excerpt(&raw.text()),
        ),
    }
}

pub(crate) fn google_error(raw: &RawResponse, body: &Value) -> ProviderError {
    let err = &body["error"];
    let status = err
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_string();
    let details: &[Value] = err
        .get("details")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let of_type = |suffix: &'static str| {
        details.iter().filter(move |d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with(suffix))
        })
    };
    let reason = of_type("google.rpc.ErrorInfo")
        .find_map(|d| d.get("reason").and_then(Value::as_str))
        .map(str::to_string);
    let retry_delay = of_type("google.rpc.RetryInfo")
        .find_map(|d| d.get("retryDelay"))
        .and_then(parse_google_duration);
    let per_day = of_type("google.rpc.QuotaFailure").any(|d| {
        d.get("violations")
            .and_then(Value::as_array)
            .is_some_and(|vs| {
                vs.iter().any(|v| {
                    v.get("quotaId")
                        .and_then(Value::as_str)
                        .is_some_and(|q| q.contains("PerDay"))
                })
            })
    });
    let http_status = if raw.is_success() {
        err.get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500)
    } else {
        raw.status
    };
    let class = match (status.as_deref(), reason.as_deref()) {
        (_, Some("API_KEY_INVALID" | "API_KEY_EXPIRED" | "ACCESS_TOKEN_EXPIRED")) => {
            ErrorClass::Auth
        }
        (Some("PERMISSION_DENIED" | "UNAUTHENTICATED"), _) => ErrorClass::Auth,
        (Some("RESOURCE_EXHAUSTED"), _) if per_day && retry_delay.is_none() => {
            ErrorClass::QuotaExhausted
        }
        (Some("RESOURCE_EXHAUSTED"), _) => ErrorClass::RateLimited,
        (Some("UNAVAILABLE"), _) => ErrorClass::Overloaded,
        (Some("DEADLINE_EXCEEDED"), _) => ErrorClass::Timeout,
        (Some("INTERNAL" | "UNKNOWN" | "DATA_LOSS" | "ABORTED"), _) => ErrorClass::Server,
        (
            Some(
                "INVALID_ARGUMENT"
                | "FAILED_PRECONDITION"
                | "OUT_OF_RANGE"
                | "NOT_FOUND"
                | "ALREADY_EXISTS",
            ),
            _,
        ) => ErrorClass::InvalidRequest,
        _ => class_for_status(http_status),
    };
    let code = match reason.as_deref() {
        Some(r @ ("API_KEY_INVALID" | "API_KEY_EXPIRED")) => Some(r.to_string()),
        _ => status,
    };
    let mut e = http_error(raw, class, code, message);
    e.status = Some(http_status);
    // Header hints first (§8.3), then RetryInfo.
    if e.retry_after.is_none() {
        e.retry_after = retry_delay;
    }
    e
}

/// A `google.protobuf.Duration` in JSON form: `"42s"`, `"1.5s"`, `"0.250s"`.
pub fn parse_google_duration(v: &Value) -> Option<Duration> {
    let s = v.as_str()?.trim();
    let secs: f64 = s.strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests;
