//! Anthropic Messages (`POST {base}/v1/messages`).
//!
//! Wire facts (PROTOCOLS.md §3): `x-api-key` + `anthropic-version` headers; `max_tokens` is
//! required (we default it); `system` is a top-level field, not a message; consecutive same-role
//! turns are merged; there is no `seed`; under API version `2026-10-21` sampling parameters are
//! rejected, so we pin `2023-06-01` unless the suite asks otherwise. `input_tokens` excludes
//! cache reads/writes, so normalised input adds them back. 529 is "overloaded", not a rate limit.

use serde_json::{Map, Value, json};

use super::content::Turns;
use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::tools;
use super::wire::{Auth, HttpRequest, RawResponse, WireRequest};
use super::{
    ErrorClass, FinishReason, Message, Provider, ProviderError, Request, Response, Usage,
    class_for_status, http_error,
};
use crate::suite::model::{ProviderSpec, Role};

mod stream;
pub use stream::MessageStream;

use super::stream::StreamDecoder;

/// Default API root.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// API version sent unless the suite sets `anthropic_version`.
pub const DEFAULT_VERSION: &str = "2023-06-01";
/// `max_tokens` sent when the suite sets none (the field is required).
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] = &["anthropic_version", "anthropic_beta"];

/// The Anthropic Messages protocol.
#[derive(Debug)]
pub struct Anthropic {
    id: String,
    model: String,
    url: String,
    version: String,
    beta: Option<String>,
    auth: Auth,
    extra_headers: Vec<(String, String)>,
    warnings: Vec<String>,
}

impl Anthropic {
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
            .help("write `anthropic:<model>`, for example `anthropic:claude-haiku-4-5`"));
        };
        let base = spec
            .config
            .base_url
            .clone()
            .or_else(|| ctx.var(crate::env::ANTHROPIC_BASE_URL))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        super::endpoint::check_base_url(&base)?;
        let key = ctx.api_key(spec, Some(crate::env::ANTHROPIC_API_KEY), true)?;
        let (headers, secret_headers) = super::http::resolve_headers(spec, ctx)?;
        let auth = key
            .map_or(Auth::None, |k| Auth::Header {
                name: "x-api-key".into(),
                value: k,
            })
            .with_secret_headers(secret_headers);
        let version = other_str(spec, "anthropic_version")?
            .unwrap_or(DEFAULT_VERSION)
            .to_string();
        let mut warnings = Vec::new();
        if spec.config.seed.is_some() {
            warnings.push(format!(
                "provider `{}`: Anthropic has no `seed` parameter; `seed` is not sent",
                spec.label
            ));
        }
        if spec.config.json_mode == Some(true) {
            warnings.push(format!(
                "provider `{}`: Anthropic has no JSON mode flag; `json_mode` is not sent (ask for JSON in the prompt)",
                spec.label
            ));
        }
        if version != DEFAULT_VERSION
            && (spec.config.temperature.is_some()
                || spec.config.top_p.is_some()
                || spec.config.top_k.is_some())
        {
            warnings.push(format!(
                "provider `{}`: anthropic-version {version} may reject temperature/top_p/top_k; pin `anthropic_version: {DEFAULT_VERSION}` to use them",
                spec.label
            ));
        }
        let extra_headers = headers;
        Ok(Anthropic {
            id: spec.id.clone(),
            model: model.to_string(),
            url: format!("{}/v1/messages", base.trim_end_matches('/')),
            version,
            beta: other_str(spec, "anthropic_beta")?.map(str::to_string),
            auth,
            extra_headers,
            warnings,
        })
    }

    /// The Messages body for `req` (`model` left out when `None`).
    pub fn body(req: &Request, model: Option<&str>) -> Value {
        let messages = messages(req);
        let mut body = Map::new();
        if let Some(model) = model {
            body.insert("model".into(), json!(model));
        }
        body.insert(
            "max_tokens".into(),
            json!(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
        );
        if let Some(system) = &req.system {
            body.insert("system".into(), json!(system));
        }
        body.insert("messages".into(), Value::Array(messages));
        if let Some(t) = req.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            body.insert("top_p".into(), json!(p));
        }
        if let Some(k) = req.top_k {
            body.insert("top_k".into(), json!(k));
        }
        if !req.stop.is_empty() {
            body.insert("stop_sequences".into(), json!(req.stop));
        }
        if !req.tools.is_empty() {
            body.insert("tools".into(), tools::anthropic_tools(&req.tools));
        }
        if let Some(choice) = &req.tool_choice {
            body.insert("tool_choice".into(), tools::anthropic_tool_choice(choice));
        }
        if let Some(config) = req
            .output_format()
            .as_ref()
            .and_then(super::output::anthropic_output_config)
        {
            body.insert("output_config".into(), config);
        }
        Value::Object(body)
    }
}

/// The conversation as Messages turns. Consecutive turns of one role are merged, as the
/// API would do, so the request is explicit: plain texts are joined by a blank line; turns
/// with tool calls or results become content blocks (`tool_use` in the assistant turn,
/// `tool_result` first in the following user turn).
fn messages(req: &Request) -> Vec<Value> {
    let mut turns = Turns::default();
    for m in &req.messages {
        let role = if m.role == Role::Assistant {
            "assistant"
        } else {
            "user"
        };
        turns.push(role, blocks(m), m.role == Role::Tool);
    }
    turns
        .into_inner()
        .into_iter()
        .map(|(role, blocks)| json!({"role": role, "content": content(blocks)}))
        .collect()
}

/// One message's content blocks.
fn blocks(m: &Message) -> Vec<Value> {
    let mut out = Vec::with_capacity(1 + m.tool_calls.len() + m.images.len());
    if m.role == Role::Tool {
        out.push(json!({
            "type": "tool_result",
            "tool_use_id": m.tool_call_id.clone().unwrap_or_default(),
            "content": m.content,
        }));
        return out;
    }
    out.extend(m.images.iter().map(super::content::anthropic_image));
    // An empty text block is refused; a turn that only calls tools (or shows images) has none.
    if super::content::text_block_needed(m) {
        out.push(json!({"type": "text", "text": m.content}));
    }
    for (i, c) in m.tool_calls.iter().enumerate() {
        out.push(json!({
            "type": "tool_use",
            "id": c.id_or(i),
            "name": c.name,
            "input": tools::arguments_object(c),
        }));
    }
    out
}

/// A turn's `content`: a string when it holds only text (merged texts joined by a blank
/// line), else the blocks.
fn content(blocks: Vec<Value>) -> Value {
    if blocks
        .iter()
        .all(|b| b.get("type").and_then(Value::as_str) == Some("text"))
    {
        let texts: Vec<&str> = blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect();
        return json!(texts.join("\n\n"));
    }
    Value::Array(blocks)
}

impl Provider for Anthropic {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        let mut http = HttpRequest::post_json(
            self.url.clone(),
            Self::body(req, Some(&self.model)),
            self.auth.clone(),
        )
        .header("anthropic-version", self.version.clone());
        if req.stream
            && let Value::Object(body) = &mut http.body
        {
            body.insert("stream".into(), json!(true));
        }
        if let Some(beta) = &self.beta {
            http = http.header("anthropic-beta", beta.clone());
        }
        http.headers.extend(self.extra_headers.iter().cloned());
        Ok(WireRequest::Http(http))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        parse_message(raw, "request-id")
    }

    fn request_warnings(&self, req: &Request) -> Vec<String> {
        super::output::no_json_object_mode(req, &self.id, "Anthropic")
    }

    fn stream_decoder(&self) -> Option<Box<dyn StreamDecoder>> {
        Some(Box::new(MessageStream::new("request-id")))
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn price_model(&self) -> Option<&str> {
        Some(&self.model)
    }
}

/// Parses a Messages answer (Anthropic API, Bedrock InvokeModel for Claude).
pub fn parse_message(
    raw: &RawResponse,
    request_id_header: &str,
) -> Result<Response, ProviderError> {
    if !raw.is_success() {
        return Err(parse_error(raw));
    }
    let body: Value = raw
        .json()
        .map_err(|e| ProviderError::protocol(format!("response is not valid JSON: {e}")))?;
    if body.get("type").and_then(Value::as_str) == Some("error") {
        return Err(error_from_body(raw, &body));
    }
    let content = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| ProviderError::protocol("response has no `content` array"))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in content {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => tool_calls.push(tools::anthropic_call(block)),
            _ => {}
        }
    }
    let finish_raw = body
        .get("stop_reason")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::protocol("response has no `stop_reason`"))?
        .to_string();
    let finish = finish_reason(&finish_raw);
    let refusal = refusal_of(&finish_raw, body.get("stop_details"));
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

/// Maps a `stop_reason` onto the common set.
pub(crate) fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// The refusal text of a `refusal` stop (`stop_details.explanation`, else a generic one).
pub(crate) fn refusal_of(stop_reason: &str, stop_details: Option<&Value>) -> Option<String> {
    (stop_reason == "refusal").then(|| {
        stop_details
            .and_then(|d| d.get("explanation"))
            .and_then(Value::as_str)
            .unwrap_or("the model refused")
            .to_string()
    })
}

/// A Messages `usage` object, normalised: input counts cache reads and writes too.
pub(crate) fn usage_of(u: &Value) -> Usage {
    let get = |k: &str| u.get(k).and_then(Value::as_u64);
    let cache_read = get("cache_read_input_tokens");
    let input = get("input_tokens")
        .map(|i| i + get("cache_creation_input_tokens").unwrap_or(0) + cache_read.unwrap_or(0));
    let output = get("output_tokens");
    Usage {
        input,
        output,
        total: input.zip(output).map(|(i, o)| i + o),
        cached_input: cache_read,
        reasoning: u
            .pointer("/output_tokens_details/thinking_tokens")
            .and_then(Value::as_u64),
    }
}

/// `(class, type, message)` of an error body `{"type":"error","error":{type,message}}`;
/// `status` classifies an unknown type.
pub(crate) fn error_parts(body: &Value, status: u16) -> (ErrorClass, Option<String>, String) {
    let kind = body
        .pointer("/error/type")
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_string();
    let detail_code = body
        .pointer("/error/details/error_code")
        .and_then(Value::as_str);
    let class = match (kind.as_deref(), detail_code) {
        (_, Some("enforced_spend_limit_reached")) | (Some("billing_error"), _) => {
            ErrorClass::QuotaExhausted
        }
        (Some("overloaded_error"), _) => ErrorClass::Overloaded,
        (Some("rate_limit_error"), _) => ErrorClass::RateLimited,
        (Some("authentication_error" | "permission_error"), _) => ErrorClass::Auth,
        (Some("timeout_error"), _) => ErrorClass::Timeout,
        (Some("api_error"), _) => ErrorClass::Server,
        (Some("invalid_request_error" | "not_found_error" | "request_too_large"), _) => {
            ErrorClass::InvalidRequest
        }
        _ => class_for_status(status),
    };
    (class, kind, message)
}

fn error_from_body(raw: &RawResponse, body: &Value) -> ProviderError {
    let (class, kind, message) = error_parts(body, raw.status);
    http_error(raw, class, kind, message)
}

/// Classifies a non-2xx Messages answer.
pub fn parse_error(raw: &RawResponse) -> ProviderError {
    match raw.json() {
        Ok(body) if body.get("error").is_some() => error_from_body(raw, &body),
        _ => http_error(
            raw,
            class_for_status(raw.status),
            None,
            super::wire::body_excerpt(&raw.text()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            headers: vec![("request-id".into(), "req_1".into())],
            body: body.as_bytes().to_vec(),
            stderr: None,
        }
    }

    #[test]
    fn body_has_top_level_system_and_merged_turns() {
        let req = Request {
            system: Some("Be brief.".into()),
            messages: vec![Message::new(Role::User, "a"), Message::new(Role::User, "b")],
            temperature: Some(0.0),
            ..Request::default()
        };
        let b = Anthropic::body(&req, Some("claude-x"));
        assert_eq!(b["system"], "Be brief.");
        assert_eq!(b["max_tokens"], 1024);
        assert_eq!(b["messages"].as_array().unwrap().len(), 1);
        assert_eq!(b["messages"][0]["content"], "a\n\nb");
    }

    #[test]
    fn parses_documented_success_and_usage() {
        let body = r#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Paris"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":19,"output_tokens":4,"cache_creation_input_tokens":2,"cache_read_input_tokens":3}}"#;
        let r = parse_message(&raw(200, body), "request-id").unwrap();
        assert_eq!(r.text, "Paris");
        assert_eq!(r.usage.input, Some(24));
        assert_eq!(r.usage.total, Some(28));
        assert_eq!(r.request_id.as_deref(), Some("req_1"));
    }

    #[test]
    fn overloaded_is_not_rate_limited() {
        let body = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_x"}"#;
        let e = parse_message(&raw(529, body), "request-id").unwrap_err();
        assert_eq!(e.class, ErrorClass::Overloaded);
        assert_eq!(e.status, Some(529));
        assert!(e.is_retryable());
    }
}
