//! OpenAI Chat Completions (`POST {base}/chat/completions`) and every server that speaks it
//! (`openai-compatible`: Ollama's `/v1`, vLLM, llama.cpp, LM Studio, Groq, Together…).
//!
//! Wire facts (PROTOCOLS.md §1.1): bearer auth; `max_completion_tokens` is the current field
//! (compatible servers often only read `max_tokens`); a refusal arrives as `finish_reason: stop`
//! with `message.refusal`; errors are `{"error":{message,type,param,code}}`, and a 429 with
//! `code: insufficient_quota` is not worth retrying.

use serde_json::{Map, Value, json};

use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::tools::{self, ToolCall};
use super::wire::{Auth, HttpRequest, RawResponse, WireRequest};
use super::{
    ErrorClass, FinishReason, Message, Provider, ProviderError, Request, Response, Usage,
    class_for_status, http_error,
};
use crate::suite::model::{ProviderSpec, Role};

mod stream;
pub use stream::ChatStream;

use super::stream::StreamDecoder;

/// Official API or a compatible server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `openai:<model>`: api.openai.com, `OPENAI_API_KEY` required.
    OpenAi,
    /// `openai-compatible:<model>`: `base_url` required, key only if `api_key_env` is set.
    Compatible,
}

/// The OpenAI chat-completions protocol.
#[derive(Debug)]
pub struct OpenAi {
    id: String,
    model: String,
    url: String,
    auth: Auth,
    extra_headers: Vec<(String, String)>,
    max_tokens_field: &'static str,
    extra_body: Map<String, Value>,
    warnings: Vec<String>,
}

/// Default API root.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] =
    &["organization", "project", "max_tokens_field", "extra_body"];

impl OpenAi {
    /// Builds from a suite entry.
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
        flavor: Flavor,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, CONFIG_KEYS)?;
        let Some(model) = spec.model() else {
            return Err(ProviderFactoryError::new(format!(
                "provider id `{}` names no model",
                spec.id
            ))
            .at("id")
            .help(format!(
                "write `{}:<model>`, for example `openai:gpt-5.4-mini`",
                spec.kind()
            )));
        };
        let base = match (flavor, &spec.config.base_url) {
            (_, Some(b)) => b.clone(),
            (Flavor::OpenAi, None) => ctx
                .var(crate::env::OPENAI_BASE_URL)
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            (Flavor::Compatible, None) => {
                return Err(ProviderFactoryError::new(format!(
                    "provider `{}` (openai-compatible) needs `config.base_url`",
                    spec.label
                ))
                .at("config")
                .help("for example `base_url: http://localhost:11434/v1` for Ollama"));
            }
        };
        super::endpoint::check_base_url(&base)?;
        let key = match flavor {
            Flavor::OpenAi => ctx.api_key(spec, Some(crate::env::OPENAI_API_KEY), true)?,
            Flavor::Compatible => ctx.api_key(spec, None, false)?,
        };
        let (headers, secret_headers) = super::http::resolve_headers(spec, ctx)?;
        let auth = key
            .map_or(Auth::None, Auth::Bearer)
            .with_secret_headers(secret_headers);
        let mut extra_headers = Vec::new();
        if let Some(org) = other_str(spec, "organization")? {
            extra_headers.push(("openai-organization".to_string(), org.to_string()));
        }
        if let Some(p) = other_str(spec, "project")? {
            extra_headers.push(("openai-project".to_string(), p.to_string()));
        }
        extra_headers.extend(headers);
        let max_tokens_field = match other_str(spec, "max_tokens_field")? {
            Some("max_tokens") => "max_tokens",
            Some("max_completion_tokens") => "max_completion_tokens",
            Some(other) => {
                return Err(ProviderFactoryError::new(format!(
                    "`max_tokens_field` must be `max_tokens` or `max_completion_tokens`, not `{other}`"
                ))
                .at("config.max_tokens_field"));
            }
            None if flavor == Flavor::Compatible => "max_tokens",
            None => "max_completion_tokens",
        };
        let extra_body = match spec.config.other.get("extra_body") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(ProviderFactoryError::new("`extra_body` must be a mapping")
                    .at("config.extra_body"));
            }
        };
        let mut warnings = Vec::new();
        if spec.config.top_k.is_some() && !extra_body.contains_key("top_k") {
            warnings.push(match flavor {
                Flavor::OpenAi => format!(
                    "provider `{}`: OpenAI chat completions has no `top_k`; `top_k` is not sent",
                    spec.label
                ),
                Flavor::Compatible => format!(
                    "provider `{}`: the OpenAI chat-completions protocol has no `top_k`, so it is not sent; for a server that reads it (vLLM), set `extra_body: {{top_k: N}}`",
                    spec.label
                ),
            });
        }
        Ok(OpenAi {
            id: spec.id.clone(),
            model: model.to_string(),
            url: format!("{}/chat/completions", base.trim_end_matches('/')),
            auth,
            extra_headers,
            max_tokens_field,
            extra_body,
            warnings,
        })
    }

    /// The request body for `req`.
    pub fn body(&self, req: &Request, model: Option<&str>) -> Value {
        chat_body(req, model, self.max_tokens_field, &self.extra_body)
    }
}

/// A chat-completions body (shared with Azure OpenAI): system message first, then the
/// conversation; `max_tokens_field` is `max_completion_tokens` or `max_tokens`; `extra_body`
/// keys are merged last.
pub fn chat_body(
    req: &Request,
    model: Option<&str>,
    max_tokens_field: &str,
    extra_body: &Map<String, Value>,
) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = &req.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    let mut calls_seen = 0;
    for m in &req.messages {
        messages.push(chat_message(m, &mut calls_seen));
    }
    let mut body = Map::new();
    if let Some(model) = model {
        body.insert("model".into(), Value::String(model.to_string()));
    }
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if let Some(n) = req.max_tokens {
        body.insert(max_tokens_field.into(), json!(n));
    }
    if !req.stop.is_empty() {
        body.insert("stop".into(), json!(req.stop));
    }
    if let Some(s) = req.seed {
        body.insert("seed".into(), json!(s));
    }
    if let Some(f) = req.output_format() {
        body.insert(
            "response_format".into(),
            super::output::openai_response_format(&f),
        );
    }
    if !req.tools.is_empty() {
        body.insert("tools".into(), tools::openai_tools(&req.tools));
    }
    if let Some(choice) = &req.tool_choice {
        body.insert("tool_choice".into(), tools::openai_tool_choice(choice));
    }
    for (k, v) in extra_body {
        body.insert(k.clone(), v.clone());
    }
    if req.stream {
        // After `extra_body`: a stream must be a stream, and must end with its usage chunk
        // (other `stream_options` the suite sets are kept).
        body.insert("stream".into(), json!(true));
        let options = body.entry("stream_options").or_insert_with(|| json!({}));
        if !options.is_object() {
            *options = json!({});
        }
        if let Value::Object(o) = options {
            o.insert("include_usage".into(), json!(true));
        }
    }
    Value::Object(body)
}

/// One conversation message in chat-completions form: a `tool` message carries its
/// `tool_call_id`; an assistant turn that calls tools carries `tool_calls` (`content` is
/// `null` when it says nothing). `calls_seen` numbers calls that have no id.
fn chat_message(m: &Message, calls_seen: &mut usize) -> Value {
    match m.role {
        Role::Tool => json!({
            "role": "tool",
            "tool_call_id": m.tool_call_id.clone().unwrap_or_default(),
            "content": m.content,
        }),
        Role::Assistant if !m.tool_calls.is_empty() => {
            let calls = tools::openai_calls(&m.tool_calls, *calls_seen);
            *calls_seen += m.tool_calls.len();
            let content = if m.content.is_empty() {
                Value::Null
            } else {
                json!(m.content)
            };
            json!({"role": "assistant", "content": content, "tool_calls": calls})
        }
        Role::User => json!({"role": "user", "content": super::content::openai_content(m)}),
        role => json!({"role": role.as_str(), "content": m.content}),
    }
}

impl Provider for OpenAi {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        let mut http = HttpRequest::post_json(
            self.url.clone(),
            self.body(req, Some(&self.model)),
            self.auth.clone(),
        );
        http.headers.extend(self.extra_headers.iter().cloned());
        Ok(WireRequest::Http(http))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        parse_chat_completion(raw, "x-request-id")
    }

    fn stream_decoder(&self) -> Option<Box<dyn StreamDecoder>> {
        Some(Box::new(ChatStream::new(&["x-request-id"])))
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn price_model(&self) -> Option<&str> {
        Some(&self.model)
    }
}

/// Parses a chat-completions answer (OpenAI, Azure, compatible servers).
pub fn parse_chat_completion(
    raw: &RawResponse,
    request_id_header: &str,
) -> Result<Response, ProviderError> {
    if !raw.is_success() {
        return Err(parse_error(raw));
    }
    if let Some(r) = fast::parse(raw, request_id_header) {
        return Ok(r);
    }
    parse_general(raw, request_id_header)
}

/// Reads any 2xx chat-completions body, tolerating every shape the protocol allows.
fn parse_general(raw: &RawResponse, request_id_header: &str) -> Result<Response, ProviderError> {
    let body: Value = raw
        .json()
        .map_err(|e| ProviderError::protocol(format!("response is not valid JSON: {e}")))?;
    if let Some(err) = body.get("error").filter(|e| !e.is_null()) {
        // Some compatible servers answer 200 with an error object.
        let (class_hint, code, message) = error_fields(err);
        let mut e = ProviderError::new(class_hint.unwrap_or(ErrorClass::Server), message);
        e.code = code;
        return Err(e);
    }
    let choice = body
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| ProviderError::protocol("response has no `choices[0]`"))?;
    let message = choice
        .get("message")
        .ok_or_else(|| ProviderError::protocol("`choices[0]` has no `message`"))?;
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    };
    let refusal = message
        .get("refusal")
        .and_then(Value::as_str)
        .map(str::to_string);
    let tool_calls: Vec<ToolCall> = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| calls.iter().map(tools::openai_call).collect())
        .unwrap_or_default();
    let finish_raw = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let finish = if refusal.is_some() {
        FinishReason::ContentFilter
    } else {
        finish_reason(&finish_raw)
    };
    let usage = body.get("usage").map_or_else(Usage::default, usage_of);
    Ok(Response {
        text,
        finish,
        finish_raw,
        refusal,
        usage,
        model: body
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string),
        response_id: body.get("id").and_then(Value::as_str).map(str::to_string),
        request_id: raw.header(request_id_header).map(str::to_string),
        server_latency_ms: None,
        tool_calls,
    })
}

/// Maps a chat-completions `finish_reason` onto the common set (a refusal is decided by the
/// caller: it finishes `stop` with `refusal` set).
pub(crate) fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "stop" | "" => FinishReason::Stop,
        "length" | "model_length" => FinishReason::Length,
        "content_filter" => FinishReason::ContentFilter,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "error" | "insufficient_system_resource" => FinishReason::Error,
        _ => FinishReason::Other,
    }
}

/// A chat-completions `usage` object, normalised.
pub(crate) fn usage_of(u: &Value) -> Usage {
    let input = u.get("prompt_tokens").and_then(Value::as_u64);
    let output = u.get("completion_tokens").and_then(Value::as_u64);
    Usage {
        input,
        output,
        total: u
            .get("total_tokens")
            .and_then(Value::as_u64)
            .or_else(|| Some(input? + output?)),
        cached_input: u
            .pointer("/prompt_tokens_details/cached_tokens")
            .and_then(Value::as_u64),
        reasoning: u
            .pointer("/completion_tokens_details/reasoning_tokens")
            .and_then(Value::as_u64),
    }
}

/// The common answer (a text reply, no tool calls, no error object) read straight into typed
/// fields, skipping what is not used, without building a JSON tree: a run spent an eighth of
/// its CPU time building trees it then read five fields from (bench/RESULTS.md). Anything
/// else (a type the general reader tolerates, tool calls, content parts, an error object, no
/// choices, bad JSON) returns `None` and the general reader takes over, so the result is
/// always the general reader's.
mod fast {
    use serde::Deserialize;
    use serde_json::Value;

    use super::{FinishReason, RawResponse, Response, Usage};

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        error: Option<Value>,
        choices: Vec<Choice>,
        #[serde(default)]
        usage: Option<UsageIn>,
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        id: Option<String>,
    }

    #[derive(Deserialize)]
    struct Choice {
        message: Message,
        #[serde(default)]
        finish_reason: Option<String>,
    }

    #[derive(Deserialize)]
    struct Message {
        #[serde(default)]
        content: Option<String>,
        #[serde(default)]
        refusal: Option<String>,
        #[serde(default)]
        tool_calls: Option<Value>,
    }

    #[derive(Deserialize)]
    struct UsageIn {
        #[serde(default)]
        prompt_tokens: Option<u64>,
        #[serde(default)]
        completion_tokens: Option<u64>,
        #[serde(default)]
        total_tokens: Option<u64>,
        #[serde(default)]
        prompt_tokens_details: Option<PromptDetails>,
        #[serde(default)]
        completion_tokens_details: Option<CompletionDetails>,
    }

    #[derive(Deserialize)]
    struct PromptDetails {
        #[serde(default)]
        cached_tokens: Option<u64>,
    }

    #[derive(Deserialize)]
    struct CompletionDetails {
        #[serde(default)]
        reasoning_tokens: Option<u64>,
    }

    pub(super) fn parse(raw: &RawResponse, request_id_header: &str) -> Option<Response> {
        let body: Body = serde_json::from_slice(&raw.body).ok()?;
        if body.error.is_some() {
            return None;
        }
        let choice = body.choices.into_iter().next()?;
        let message = choice.message;
        if message.tool_calls.as_ref().is_some_and(|t| !t.is_null()) {
            return None;
        }
        let finish_raw = choice.finish_reason.unwrap_or_default();
        let finish = if message.refusal.is_some() {
            FinishReason::ContentFilter
        } else {
            super::finish_reason(&finish_raw)
        };
        let usage = body.usage.map_or_else(Usage::default, |u| Usage {
            input: u.prompt_tokens,
            output: u.completion_tokens,
            total: u
                .total_tokens
                .or_else(|| Some(u.prompt_tokens? + u.completion_tokens?)),
            cached_input: u.prompt_tokens_details.and_then(|d| d.cached_tokens),
            reasoning: u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
        });
        Some(Response {
            text: message.content.unwrap_or_default(),
            finish,
            finish_raw,
            refusal: message.refusal,
            usage,
            model: body.model,
            response_id: body.id,
            request_id: raw.header(request_id_header).map(str::to_string),
            server_latency_ms: None,
            tool_calls: Vec::new(),
        })
    }
}

/// `(class hint, code, message)` from an OpenAI-style `error` value (object or string).
pub(crate) fn error_fields(err: &Value) -> (Option<ErrorClass>, Option<String>, String) {
    match err {
        Value::String(s) => (None, None, s.clone()),
        Value::Object(o) => {
            let code = o.get("code").and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            let kind = o.get("type").and_then(Value::as_str).map(str::to_string);
            let message = o
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message")
                .to_string();
            let hint = match code.as_deref() {
                Some("insufficient_quota") => Some(ErrorClass::QuotaExhausted),
                Some("content_filter") => Some(ErrorClass::ContentFilter),
                _ => None,
            };
            (hint, code.or(kind), message)
        }
        other => (None, None, other.to_string()),
    }
}

/// Classifies a non-2xx chat-completions answer.
pub fn parse_error(raw: &RawResponse) -> ProviderError {
    let (hint, code, message) = match raw.json() {
        Ok(v) => match v.get("error") {
            Some(err) => error_fields(err),
            None => (None, None, super::wire::body_excerpt(&raw.text())),
        },
        Err(_) => (None, None, super::wire::body_excerpt(&raw.text())),
    };
    let class = hint.unwrap_or_else(|| class_for_status(raw.status));
    http_error(raw, class, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, body: &str, headers: &[(&str, &str)]) -> RawResponse {
        RawResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            stderr: None,
        }
    }

    #[test]
    fn parses_documented_success() {
        let body = r#"{"id":"chatcmpl-abc123","object":"chat.completion","created":1763985600,"model":"gpt-4.1-mini-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":"Paris","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":2,"total_tokens":23,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_pd00000001"}"#;
        let r = parse_chat_completion(
            &raw(200, body, &[("x-request-id", "req_123")]),
            "x-request-id",
        )
        .unwrap();
        assert_eq!(r.text, "Paris");
        assert_eq!(r.finish, FinishReason::Stop);
        assert_eq!(r.usage.input, Some(21));
        assert_eq!(r.usage.total, Some(23));
        assert_eq!(r.model.as_deref(), Some("gpt-4.1-mini-2025-04-14"));
        assert_eq!(r.request_id.as_deref(), Some("req_123"));
    }

    #[test]
    fn classifies_quota_and_rate_limit() {
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        let e = parse_error(&raw(429, quota, &[]));
        assert_eq!(e.class, ErrorClass::QuotaExhausted);
        assert!(!e.is_retryable());
        let rl = r#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        let e = parse_error(&raw(
            429,
            rl,
            &[("retry-after-ms", "36"), ("retry-after", "1")],
        ));
        assert_eq!(e.class, ErrorClass::RateLimited);
        assert_eq!(e.retry_after, Some(std::time::Duration::from_millis(36)));
        assert!(e.is_retryable());
    }

    #[test]
    fn top_k_is_a_warning_not_a_silent_drop() {
        let env = |k: &str| (k == "OPENAI_API_KEY").then(|| "sk-x".to_string());
        let ctx = BuildContext {
            mode: crate::suite::model::Mode::Live,
            env: &env,
            suite_dir: std::path::Path::new("."),
            suite_name: "t",
            for_run: true,
        };
        let spec = crate::provider::http::test_spec("openai:gpt-4o-mini", "{top_k: 5}");
        let p = OpenAi::build(&spec, &ctx, Flavor::OpenAi).unwrap();
        assert_eq!(
            p.warnings(),
            vec![
                "provider `openai:gpt-4o-mini`: OpenAI chat completions has no `top_k`; `top_k` is not sent"
            ]
        );
        let spec = crate::provider::http::test_spec(
            "openai-compatible:m",
            "{top_k: 5, base_url: \"http://h/v1\", extra_body: {top_k: 5}}",
        );
        let p = OpenAi::build(&spec, &ctx, Flavor::Compatible).unwrap();
        assert!(p.warnings().is_empty(), "sent through extra_body");
    }

    #[test]
    fn env_headers_travel_as_credentials() {
        let env = |k: &str| match k {
            "OPENAI_API_KEY" => Some("sk-main-key".to_string()),
            "PROXY_TOKEN" => Some("proxy-secret-9".to_string()),
            _ => None,
        };
        let ctx = BuildContext {
            mode: crate::suite::model::Mode::Live,
            env: &env,
            suite_dir: std::path::Path::new("."),
            suite_name: "t",
            for_run: true,
        };
        let spec = crate::provider::http::test_spec(
            "openai:gpt-4o-mini",
            "{headers: {X-Proxy-Auth: \"{{ env.PROXY_TOKEN }}\", X-Team: qa}}",
        );
        let p = OpenAi::build(&spec, &ctx, Flavor::OpenAi).unwrap();
        let WireRequest::Http(h) = p.prepare(&Request::default()).unwrap() else {
            panic!()
        };
        assert!(h.headers.contains(&("x-team".into(), "qa".into())));
        assert!(!format!("{:?}", h.headers).contains("proxy-secret-9"));
        assert_eq!(
            h.auth.secret_values(),
            vec!["sk-main-key", "proxy-secret-9"]
        );
    }

    #[test]
    fn malformed_body_is_protocol_error() {
        let e =
            parse_chat_completion(&raw(200, "{\"choices\": [", &[]), "x-request-id").unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
    }

    /// The fast reader gives exactly the general reader's result whenever it answers, and
    /// leaves every unusual shape to it.
    #[test]
    fn fast_reader_agrees_with_the_general_reader() {
        let answered = [
            r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m-1","choices":[{"index":0,"message":{"role":"assistant","content":"Paris","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":18,"completion_tokens":14,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":5}},"service_tier":"default","system_fingerprint":"fp"}"#,
            r#"{"choices":[{"message":{"content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":{"content":"cut"},"finish_reason":"length"}],"usage":{"prompt_tokens":2,"completion_tokens":3}}"#,
            r#"{"choices":[{"message":{"content":"x"},"finish_reason":null}],"usage":null,"error":null}"#,
            r#"{"choices":[{"message":{"content":"a","tool_calls":null},"finish_reason":"weird"}],"model":"m"}"#,
        ];
        for body in answered {
            let r = raw(200, body, &[("x-request-id", "req-1")]);
            let fast = fast::parse(&r, "x-request-id").expect("the common shape is read fast");
            assert_eq!(fast, parse_general(&r, "x-request-id").unwrap(), "{body}");
            assert_eq!(parse_chat_completion(&r, "x-request-id").unwrap(), fast);
        }
        let left_to_the_general_reader = [
            r#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
            r#"{"error":{"message":"overloaded","type":"server_error"}}"#,
            r#"{"choices":[{"message":{"content":"a"}}],"usage":{"prompt_tokens":1.5}}"#,
            r#"{"choices":[{"message":{"content":"a"}}],"model":7}"#,
            r#"{"choices": ["#,
        ];
        for body in left_to_the_general_reader {
            let r = raw(200, body, &[]);
            assert!(fast::parse(&r, "x-request-id").is_none(), "{body}");
            assert_eq!(
                parse_chat_completion(&r, "x-request-id"),
                parse_general(&r, "x-request-id"),
                "{body}"
            );
        }
    }
}
