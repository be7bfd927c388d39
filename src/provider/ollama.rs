//! Ollama's native chat API (`POST {base}/api/chat`).
//!
//! Wire facts (PROTOCOLS.md §6.1): no auth locally (a bearer key only for hosted Ollama);
//! `stream` defaults to **true**, so we send `"stream": false` and read one JSON object (or,
//! with `stream: true`, read NDJSON lines: [`ChatStream`]);
//! sampling settings live under `options` (`num_predict` is the output-token limit); JSON mode
//! is `format: "json"`; usage is `prompt_eval_count` / `eval_count`; every duration is in
//! nanoseconds; errors are `{"error": "<message>"}` (404 when the model is not pulled).
//!
//! The OpenAI-compatible route (`openai-compatible:<model>` with `base_url:
//! http://localhost:11434/v1`) is the other way to reach the same server.

use serde_json::{Map, Value, json};

use super::registry::{BuildContext, ProviderFactoryError, check_other_keys};
use super::tools::{self, ToolCall, ToolChoice};
use super::wire::{Auth, HttpRequest, RawResponse, WireRequest};
use super::{
    ErrorClass, FinishReason, Message, Provider, ProviderError, Request, Response, Usage,
    class_for_status, http_error,
};
use crate::suite::model::{ProviderSpec, Role};

mod stream;
pub use stream::ChatStream;

use super::stream::StreamDecoder;

/// Where Ollama listens when neither `base_url` nor `OLLAMA_HOST` says otherwise.
pub const DEFAULT_BASE_URL: &str = "http://localhost:11434";
/// Ollama's default port, added to an `OLLAMA_HOST` that names none.
pub const DEFAULT_PORT: u16 = 11434;

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] = &["keep_alive", "options"];

/// The Ollama native chat protocol.
#[derive(Debug)]
pub struct Ollama {
    id: String,
    model: String,
    url: String,
    auth: Auth,
    extra_headers: Vec<(String, String)>,
    keep_alive: Option<Value>,
    extra_options: Map<String, Value>,
}

impl Ollama {
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
            .help("write `ollama:<model>`, for example `ollama:llama3.2`"));
        };
        let base = match &spec.config.base_url {
            Some(b) => b.clone(),
            None => match ctx.var(crate::env::OLLAMA_HOST) {
                Some(h) => host_to_base_url(&h),
                None => DEFAULT_BASE_URL.to_string(),
            },
        };
        super::endpoint::check_base_url(&base)?;
        // Local Ollama takes no key; hosted Ollama takes a bearer key from `api_key_env`.
        let key = ctx.api_key(spec, None, false)?;
        let (headers, secret_headers) = super::http::resolve_headers(spec, ctx)?;
        let auth = key
            .map_or(Auth::None, Auth::Bearer)
            .with_secret_headers(secret_headers);
        let keep_alive = match spec.config.other.get("keep_alive") {
            None | Some(Value::Null) => None,
            Some(v @ (Value::String(_) | Value::Number(_))) => Some(v.clone()),
            Some(_) => {
                return Err(ProviderFactoryError::new(
                    "`keep_alive` must be a duration (`5m`) or a number of seconds",
                )
                .at("config.keep_alive"));
            }
        };
        let extra_options = match spec.config.other.get("options") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(ProviderFactoryError::new(
                    "`options` must be a mapping of Ollama model options (`num_ctx: 8192`)",
                )
                .at("config.options"));
            }
        };
        Ok(Ollama {
            id: spec.id.clone(),
            model: model.to_string(),
            url: format!("{}/api/chat", base.trim_end_matches('/')),
            auth,
            extra_headers: headers,
            keep_alive,
            extra_options,
        })
    }

    /// The `/api/chat` body for `req`.
    pub fn body(&self, req: &Request) -> Value {
        let mut messages = Vec::with_capacity(req.messages.len() + 1);
        if let Some(system) = &req.system {
            messages.push(json!({"role": "system", "content": system}));
        }
        for m in &req.messages {
            messages.push(chat_message(m));
        }
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
        body.insert("messages".into(), Value::Array(messages));
        body.insert("stream".into(), json!(req.stream));
        // Ollama has no `tool_choice`: `none` is honoured by not offering the tools.
        if !req.tools.is_empty() && req.tool_choice != Some(ToolChoice::None) {
            body.insert("tools".into(), tools::openai_tools(&req.tools));
        }
        let mut options = self.extra_options.clone();
        if let Some(t) = req.temperature {
            options.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            options.insert("top_p".into(), json!(p));
        }
        if let Some(k) = req.top_k {
            options.insert("top_k".into(), json!(k));
        }
        if let Some(s) = req.seed {
            options.insert("seed".into(), json!(s));
        }
        if !req.stop.is_empty() {
            options.insert("stop".into(), json!(req.stop));
        }
        if let Some(n) = req.max_tokens {
            options.insert("num_predict".into(), json!(n));
        }
        if !options.is_empty() {
            body.insert("options".into(), Value::Object(options));
        }
        if let Some(format) = req
            .output_format()
            .as_ref()
            .and_then(super::output::ollama_format)
        {
            body.insert("format".into(), format);
        }
        if let Some(k) = &self.keep_alive {
            body.insert("keep_alive".into(), k.clone());
        }
        Value::Object(body)
    }
}

/// One `/api/chat` message: an assistant turn's `tool_calls` carry arguments as objects; a
/// tool result is `role: tool` with the tool's name in `tool_name` (ollama `docs/api.md`).
fn chat_message(m: &Message) -> Value {
    let mut o = Map::new();
    o.insert("role".into(), json!(m.role.as_str()));
    o.insert("content".into(), json!(m.content));
    if let Some(images) = super::content::ollama_images(m) {
        o.insert("images".into(), images);
    }
    if !m.tool_calls.is_empty() {
        let calls: Vec<Value> = m
            .tool_calls
            .iter()
            .map(|c| json!({"function": {"name": c.name, "arguments": tools::arguments_object(c)}}))
            .collect();
        o.insert("tool_calls".into(), Value::Array(calls));
    }
    if m.role == Role::Tool
        && let Some(name) = &m.name
    {
        o.insert("tool_name".into(), json!(name));
    }
    Value::Object(o)
}

/// `OLLAMA_HOST` as a base URL: a scheme is optional (`http` assumed), and so is the port
/// (11434, as the Ollama CLI does); a trailing slash is dropped.
pub fn host_to_base_url(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    let (scheme, rest) = match host.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("http", host),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = if authority.is_empty() {
        "localhost".to_string()
    } else {
        authority.to_string()
    };
    // `[::1]` or `[::1]:11434`; `host` or `host:port`.
    let has_port = match authority.rfind(']') {
        Some(close) => authority[close..].contains(':'),
        None => authority.contains(':'),
    };
    let authority = if has_port || scheme == "https" {
        authority
    } else {
        format!("{authority}:{DEFAULT_PORT}")
    };
    format!("{scheme}://{authority}{path}")
}

impl Provider for Ollama {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        let mut http = HttpRequest::post_json(self.url.clone(), self.body(req), self.auth.clone());
        http.headers.extend(self.extra_headers.iter().cloned());
        Ok(WireRequest::Http(http))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        parse_chat(raw, &self.model)
    }

    fn request_warnings(&self, req: &Request) -> Vec<String> {
        match &req.tool_choice {
            Some(c @ (ToolChoice::Required | ToolChoice::Tool(_))) if !req.tools.is_empty() => {
                vec![format!(
                    "provider `{}`: Ollama has no `tool_choice`; `{}` is not sent, so the model may answer without calling a tool",
                    self.id,
                    c.describe()
                )]
            }
            _ => Vec::new(),
        }
    }

    fn stream_decoder(&self) -> Option<Box<dyn StreamDecoder>> {
        Some(Box::new(ChatStream::default()))
    }

    fn price_model(&self) -> Option<&str> {
        Some(&self.model)
    }
}

/// Parses an `/api/chat` answer. `model` names the model in the "not found" hint.
pub fn parse_chat(raw: &RawResponse, model: &str) -> Result<Response, ProviderError> {
    if !raw.is_success() {
        return Err(parse_error(raw, model));
    }
    let body = match raw.json() {
        Ok(v) => v,
        // A server that streamed anyway (NDJSON): fold the lines into one answer.
        Err(e) => fold_ndjson(&raw.text())
            .ok_or_else(|| ProviderError::protocol(format!("response is not valid JSON: {e}")))?,
    };
    if let Some(err) = body.get("error").filter(|e| !e.is_null()) {
        // A failure after the status line was sent (a streamed answer's last line).
        let message = err.as_str().map_or_else(|| err.to_string(), str::to_string);
        return Err(ProviderError::new(ErrorClass::Server, message));
    }
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return Err(ProviderError::protocol(
            "response has no `message` (is this an Ollama /api/chat answer?)",
        ));
    };
    if body.get("done").and_then(Value::as_bool) == Some(false) {
        return Err(ProviderError::protocol(
            "the answer is not finished (`done: false`): the stream was cut short",
        ));
    }
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let tool_calls: Vec<ToolCall> = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| calls.iter().map(tools::ollama_call).collect())
        .unwrap_or_default();
    Ok(answer(text, tool_calls, &body))
}

/// The answer from its text, tool calls and the last (`done: true`) object's fields:
/// `done_reason`, counts (`prompt_eval_count`, `eval_count`), `total_duration` (ns), `model`.
pub(crate) fn answer(text: String, tool_calls: Vec<ToolCall>, last: &Value) -> Response {
    let finish_raw = last
        .get("done_reason")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let finish = match finish_raw.as_str() {
        "stop" | "" if !tool_calls.is_empty() => FinishReason::ToolCalls,
        "stop" | "" => FinishReason::Stop,
        "length" => FinishReason::Length,
        _ => FinishReason::Other,
    };
    let input = last.get("prompt_eval_count").and_then(Value::as_u64);
    let output = last.get("eval_count").and_then(Value::as_u64);
    let usage = Usage {
        input,
        output,
        total: input.zip(output).map(|(i, o)| i + o),
        cached_input: None,
        reasoning: None,
    };
    Response {
        text,
        finish,
        finish_raw,
        refusal: None,
        usage,
        model: last
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string),
        response_id: None,
        request_id: None,
        server_latency_ms: last
            .get("total_duration")
            .and_then(Value::as_u64)
            .map(|ns| ns / 1_000_000),
        tool_calls,
    }
}

/// Joins NDJSON chunks (`message.content` concatenated, the last line's stats kept), or
/// `None` if the text is not NDJSON. An `{"error"}` line wins.
fn fold_ndjson(text: &str) -> Option<Value> {
    let mut content = String::new();
    let mut last: Option<Value> = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).ok()?;
        if v.get("error").is_some_and(|e| !e.is_null()) {
            return Some(v);
        }
        if let Some(c) = v.pointer("/message/content").and_then(Value::as_str) {
            content.push_str(c);
        }
        last = Some(v);
    }
    let mut last = last?;
    if let Some(m) = last.get_mut("message").and_then(Value::as_object_mut) {
        m.insert("content".into(), Value::String(content));
    }
    Some(last)
}

/// Classifies a non-2xx answer: `{"error": "…"}`; a 404 about the model gets a hint.
pub fn parse_error(raw: &RawResponse, model: &str) -> ProviderError {
    let message = raw
        .json()
        .ok()
        .and_then(|v| {
            v.get("error").map(|e| match e {
                Value::String(s) => s.clone(),
                // OpenAI-style error objects, should a proxy sit in front.
                Value::Object(o) => o
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| e.to_string(), str::to_string),
                other => other.to_string(),
            })
        })
        .unwrap_or_else(|| super::wire::body_excerpt(&raw.text()));
    let class = class_for_status(raw.status);
    let message = if raw.status == 404 && message.contains("not found") {
        format!("{message} (run `ollama pull {model}` on the Ollama server)")
    } else {
        message
    };
    http_error(raw, class, None, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::model::Role;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/mock/fixtures/ollama/");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}{name}")).expect("fixture")
    }

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            stderr: None,
        }
    }

    fn provider(config: &str) -> Ollama {
        let spec = super::super::http::test_spec("ollama:llama3.2", config);
        let env = |_: &str| None;
        let ctx = BuildContext {
            mode: crate::suite::model::Mode::Live,
            env: &env,
            suite_dir: std::path::Path::new("."),
            suite_name: "t",
            for_run: true,
        };
        Ollama::build(&spec, &ctx).expect("builds")
    }

    #[test]
    fn request_matches_the_documented_example() {
        let p = provider("{temperature: 0, max_tokens: 64, seed: 7, stop: [\"\\n\\n\"]}");
        let req = Request {
            system: Some("Answer in one word.".into()),
            messages: vec![crate::provider::Message::new(
                Role::User,
                "Capital of France?",
            )],
            temperature: Some(0.0),
            max_tokens: Some(64),
            seed: Some(7),
            stop: vec!["\n\n".into()],
            ..Request::default()
        };
        let expected: Value = serde_json::from_str(&fixture("chat_request.json")).unwrap();
        let mut a = String::new();
        let mut b = String::new();
        crate::provider::wire::canonical_json(&p.body(&req), &mut a);
        crate::provider::wire::canonical_json(&expected, &mut b);
        assert_eq!(a, b);
        let WireRequest::Http(h) = p.prepare(&req).unwrap() else {
            panic!("http")
        };
        assert_eq!(h.url, "http://localhost:11434/api/chat");
        assert_eq!(h.auth, Auth::None);
    }

    #[test]
    fn json_mode_top_k_and_extra_options() {
        let p = provider("{top_k: 40, json_mode: true, options: {num_ctx: 8192}, keep_alive: 5m}");
        let req = Request {
            top_k: Some(40),
            json_mode: true,
            ..Request::default()
        };
        let body = p.body(&req);
        assert_eq!(body["format"], "json");
        assert_eq!(body["stream"], false);
        assert_eq!(body["options"]["top_k"], 40);
        assert_eq!(body["options"]["num_ctx"], 8192);
        assert_eq!(body["keep_alive"], "5m");
    }

    #[test]
    fn parses_success_with_usage_and_server_latency() {
        let r = parse_chat(&raw(200, &fixture("chat_success.json")), "llama3.2").unwrap();
        assert_eq!(r.text, "Paris");
        assert_eq!(r.finish, FinishReason::Stop);
        assert_eq!(r.finish_raw, "stop");
        assert_eq!(r.usage.input, Some(26));
        assert_eq!(r.usage.output, Some(2));
        assert_eq!(r.usage.total, Some(28));
        assert_eq!(r.server_latency_ms, Some(1532));
        assert_eq!(r.model.as_deref(), Some("llama3.2"));
    }

    #[test]
    fn parses_tool_calls_as_objects() {
        let r = parse_chat(&raw(200, &fixture("chat_tool_calls.json")), "llama3.2").unwrap();
        assert_eq!(r.finish, FinishReason::ToolCalls);
        assert_eq!(r.tool_calls.len(), 1);
        assert_eq!(r.tool_calls[0].name, "get_weather");
        assert_eq!(r.tool_calls[0].arguments["city"], "Paris");
    }

    #[test]
    fn length_and_load_finish_reasons() {
        let body = fixture("chat_success.json")
            .replace("\"done_reason\": \"stop\"", "\"done_reason\": \"length\"");
        let r = parse_chat(&raw(200, &body), "m").unwrap();
        assert_eq!(r.finish, FinishReason::Length);
        let body = fixture("chat_success.json")
            .replace("\"done_reason\": \"stop\"", "\"done_reason\": \"load\"");
        let r = parse_chat(&raw(200, &body), "m").unwrap();
        assert_eq!(r.finish, FinishReason::Other);
        assert_eq!(r.finish_raw, "load");
    }

    #[test]
    fn model_not_found_is_invalid_request_with_a_pull_hint() {
        let e = parse_chat(
            &raw(404, &fixture("error_404_model_not_found.json")),
            "llama9",
        )
        .unwrap_err();
        assert_eq!(e.class, ErrorClass::InvalidRequest);
        assert_eq!(e.status, Some(404));
        assert!(
            e.message.contains("model \"llama9\" not found"),
            "{}",
            e.message
        );
        assert!(e.message.contains("ollama pull llama9"), "{}", e.message);
        assert!(!e.is_retryable());
    }

    #[test]
    fn bad_request_and_server_errors() {
        let e = parse_chat(&raw(400, &fixture("error_400_bad_request.json")), "m").unwrap_err();
        assert_eq!(e.class, ErrorClass::InvalidRequest);
        assert_eq!(
            e.message,
            "invalid character 'x' looking for beginning of value"
        );
        let e = parse_chat(&raw(503, r#"{"error":"server busy"}"#), "m").unwrap_err();
        assert_eq!(e.class, ErrorClass::Overloaded);
        assert!(e.is_retryable());
        let e = parse_chat(&raw(500, "<html>oops</html>"), "m").unwrap_err();
        assert_eq!(e.class, ErrorClass::Server);
        assert_eq!(e.message, "<html>oops</html>");
    }

    #[test]
    fn streamed_answers_are_folded_and_stream_errors_surface() {
        let r = parse_chat(&raw(200, &fixture("chat_stream.ndjson")), "m").unwrap();
        assert_eq!(r.text, "Paris");
        assert_eq!(r.usage.output, Some(2));
        assert_eq!(r.server_latency_ms, Some(402));
        let e = parse_chat(&raw(200, &fixture("chat_stream_error.ndjson")), "m").unwrap_err();
        assert_eq!(e.class, ErrorClass::Server);
        assert!(
            e.message.contains("an error was encountered"),
            "{}",
            e.message
        );
    }

    #[test]
    fn malformed_and_unfinished_bodies_are_protocol_errors() {
        let e = parse_chat(&raw(200, "{\"message\": {\"content\": \"Pa"), "m").unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
        let e = parse_chat(&raw(200, &fixture("generate_success.json")), "m").unwrap_err();
        assert_eq!(
            e.class,
            ErrorClass::Protocol,
            "a /api/generate body has no message"
        );
        let e = parse_chat(
            &raw(
                200,
                r#"{"message":{"role":"assistant","content":"Par"},"done":false}"#,
            ),
            "m",
        )
        .unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
    }

    #[test]
    fn ollama_host_forms() {
        assert_eq!(host_to_base_url("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(host_to_base_url("gpu-box"), "http://gpu-box:11434");
        assert_eq!(host_to_base_url("http://gpu-box/"), "http://gpu-box:11434");
        assert_eq!(
            host_to_base_url("https://ollama.example.com"),
            "https://ollama.example.com"
        );
        assert_eq!(host_to_base_url("[::1]"), "http://[::1]:11434");
        assert_eq!(host_to_base_url("[::1]:9000"), "http://[::1]:9000");
        assert_eq!(
            host_to_base_url("http://proxy:80/ollama"),
            "http://proxy:80/ollama"
        );
    }
}
