//! OpenAI Chat Completions (JSON and SSE), Responses, Embeddings; Azure variants (filter
//! results, string error codes). PROTOCOLS.md §1, §2.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::{CREATED, Ctx, Rendered, Resolved, pieces, retry_headers};
use crate::protocol::Protocol;
use crate::reply::{ErrorKind, Finish};

fn finish_raw(f: &Finish) -> Cow<'_, str> {
    Cow::Borrowed(match f {
        Finish::Stop => "stop",
        Finish::Length => "length",
        Finish::ContentFilter => "content_filter",
        Finish::ToolCalls => "tool_calls",
        Finish::Raw(s) => return Cow::Borrowed(s.as_str()),
    })
}

/// Request-id headers every OpenAI-family answer carries.
fn id_headers(r: Rendered, ctx: &Ctx<'_>) -> Rendered {
    let r = r.header("x-request-id", format!("req_{}", ctx.request_id(32)));
    if ctx.protocol.is_azure() {
        r.header("apim-request-id", ctx.request_uuid())
    } else {
        r
    }
}

/// Headers of a successful answer: ids and rate-limit state.
pub(super) fn with_headers(r: Rendered, ctx: &Ctx<'_>) -> Rendered {
    let r = id_headers(r, ctx);
    if ctx.protocol.is_azure() {
        return r
            .header("x-ratelimit-remaining-requests", "99")
            .header("x-ratelimit-remaining-tokens", "99000");
    }
    r.header("openai-processing-ms", "12")
        .header("x-ratelimit-limit-requests", "10000")
        .header("x-ratelimit-remaining-requests", "9999")
        .header("x-ratelimit-reset-requests", "6ms")
        .header("x-ratelimit-limit-tokens", "200000")
        .header("x-ratelimit-remaining-tokens", "199990")
        .header("x-ratelimit-reset-tokens", "3ms")
}

fn safe_filter(filtered_violence: bool) -> Value {
    json!({
        "hate": {"filtered": false, "severity": "safe"},
        "self_harm": {"filtered": false, "severity": "safe"},
        "sexual": {"filtered": false, "severity": "safe"},
        "violence": {"filtered": filtered_violence, "severity": if filtered_violence { "medium" } else { "safe" }},
    })
}

pub(super) fn tool_call_id(ctx: &Ctx<'_>, i: usize) -> String {
    format!("call_{}", ctx.id(100 + i as u64, 24))
}

fn usage(a: &Resolved) -> Value {
    json!({
        "prompt_tokens": a.input_tokens,
        "completion_tokens": a.output_tokens,
        "total_tokens": a.total_tokens(),
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

/// `POST …/chat/completions` (OpenAI, compatible servers, Azure).
pub(super) fn chat(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    if ctx.inbound.stream {
        return with_headers(chat_stream(a, ctx), ctx);
    }
    if !ctx.protocol.is_azure() && a.tool_calls.is_empty() {
        return with_headers(chat_plain(a, ctx), ctx);
    }
    chat_general(a, ctx)
}

/// Any chat answer, built as a JSON value.
fn chat_general(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let content = if a.refusal.is_some() || (a.text.is_empty() && !a.tool_calls.is_empty()) {
        Value::Null
    } else {
        Value::String(a.text.clone())
    };
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    message.insert("content".into(), content);
    message.insert(
        "refusal".into(),
        a.refusal.clone().map_or(Value::Null, Value::String),
    );
    message.insert("annotations".into(), json!([]));
    if !a.tool_calls.is_empty() {
        let calls: Vec<Value> = a
            .tool_calls
            .iter()
            .enumerate()
            .map(|(i, t)| {
                json!({"id": tool_call_id(ctx, i), "type": "function",
                       "function": {"name": t.name, "arguments": t.arguments.to_string()}})
            })
            .collect();
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    let mut choice = json!({
        "index": 0,
        "message": message,
        "logprobs": null,
        "finish_reason": finish_raw(&a.finish),
    });
    let mut body = json!({
        "id": format!("chatcmpl-{}", ctx.id(1, 24)),
        "object": "chat.completion",
        "created": CREATED,
        "model": a.model,
    });
    if ctx.protocol.is_azure() {
        let filtered = a.finish == Finish::ContentFilter;
        choice["content_filter_results"] = safe_filter(filtered);
        body["prompt_filter_results"] =
            json!([{"prompt_index": 0, "content_filter_results": safe_filter(false)}]);
    }
    body["choices"] = json!([choice]);
    body["usage"] = usage(a);
    body["service_tier"] = "default".into();
    body["system_fingerprint"] = "fp_mock000001".into();
    with_headers(Rendered::json(200, &body), ctx)
}

/// The common case (no tools, not Azure) written directly: the benchmark's hot path, and
/// byte-for-byte what [`chat_general`] produces (tested).
fn chat_plain(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    use std::fmt::Write as _;
    let esc = |s: &str| Value::from(s).to_string();
    let (content, refusal) = match &a.refusal {
        Some(r) => ("null".to_string(), esc(r)),
        None => (esc(&a.text), "null".to_string()),
    };
    let mut b = String::with_capacity(600 + a.text.len() + a.model.len());
    let _ = write!(
        b,
        r#"{{"id":"chatcmpl-{id}","object":"chat.completion","created":{CREATED},"model":{model},"choices":[{{"index":0,"message":{{"role":"assistant","content":{content},"refusal":{refusal},"annotations":[]}},"logprobs":null,"finish_reason":{finish}}}],"usage":{{"prompt_tokens":{i},"completion_tokens":{o},"total_tokens":{t},"prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}},"completion_tokens_details":{{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}},"service_tier":"default","system_fingerprint":"fp_mock000001"}}"#,
        id = ctx.id(1, 24),
        model = esc(&a.model),
        finish = esc(&finish_raw(&a.finish)),
        i = a.input_tokens,
        o = a.output_tokens,
        t = a.total_tokens(),
    );
    Rendered::new(200, "application/json", b.into_bytes())
}

fn sse_data(v: &Value) -> Vec<u8> {
    let mut out = b"data: ".to_vec();
    out.extend_from_slice(v.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
    out
}

fn chat_stream(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let id = format!("chatcmpl-{}", ctx.id(1, 24));
    let usage_null = ctx.inbound.include_usage;
    let chunk = |delta: Value, finish: Value| {
        let mut c = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": a.model,
            "system_fingerprint": "fp_mock000001",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if usage_null {
            c["usage"] = Value::Null;
        }
        sse_data(&c)
    };
    let mut chunks = Vec::new();
    if ctx.protocol.is_azure() {
        // Azure sends the prompt filter results first, with no choices.
        chunks.push(sse_data(&json!({
            "id": "", "object": "", "created": 0, "model": "", "choices": [],
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": safe_filter(false)}],
        })));
    }
    chunks.push(chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    ));
    if let Some(r) = &a.refusal {
        for p in pieces(r) {
            chunks.push(chunk(json!({"refusal": p}), Value::Null));
        }
    } else {
        for p in pieces(&a.text) {
            chunks.push(chunk(json!({"content": p}), Value::Null));
        }
    }
    for (i, t) in a.tool_calls.iter().enumerate() {
        chunks.push(chunk(
            json!({"tool_calls": [{"index": i, "id": tool_call_id(ctx, i), "type": "function",
                                   "function": {"name": t.name, "arguments": ""}}]}),
            Value::Null,
        ));
        chunks.push(chunk(
            json!({"tool_calls": [{"index": i, "function": {"arguments": t.arguments.to_string()}}]}),
            Value::Null,
        ));
    }
    chunks.push(chunk(json!({}), json!(finish_raw(&a.finish))));
    if ctx.inbound.include_usage {
        chunks.push(sse_data(&json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": a.model,
            "system_fingerprint": "fp_mock000001",
            "choices": [],
            "usage": usage(a),
        })));
    }
    chunks.push(b"data: [DONE]\n\n".to_vec());
    Rendered::stream("text/event-stream; charset=utf-8", chunks)
}

#[allow(clippy::needless_pass_by_value)] // `json!` borrows; owned values read better at call sites
fn openai_error(
    status: u16,
    message: &str,
    ty: Value,
    param: Value,
    code: Value,
    ctx: &Ctx<'_>,
) -> Rendered {
    let body = json!({"error": {"message": message, "type": ty, "param": param, "code": code}});
    id_headers(Rendered::json(status, &body), ctx)
}

/// Azure's short error body: `{"error":{"code":"429","message":…}}`.
fn azure_error(status: u16, code: &str, message: &str, ctx: &Ctx<'_>) -> Rendered {
    let body = json!({"error": {"code": code, "message": message}});
    id_headers(Rendered::json(status, &body), ctx)
}

#[allow(clippy::too_many_lines)] // one arm per documented error kind
pub(super) fn error(kind: ErrorKind, ctx: &Ctx<'_>) -> Rendered {
    let azure = ctx.protocol.is_azure();
    let model = ctx.requested_model();
    let retry_secs = ctx.retry_after.map_or(1, |d| d.as_millis().div_ceil(1000));
    let r = match kind {
        ErrorKind::RateLimited if azure => azure_error(
            429,
            "429",
            &format!(
                "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after {retry_secs} seconds. Please contact Azure support service if you would like to further increase the default rate limit."
            ),
            ctx,
        ),
        ErrorKind::RateLimited => openai_error(
            429,
            &format!(
                "Rate limit reached for {model} in organization org-mock on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in {retry_secs}s."
            ),
            "requests".into(),
            Value::Null,
            "rate_limit_exceeded".into(),
            ctx,
        )
        .header("x-ratelimit-limit-requests", "500")
        .header("x-ratelimit-remaining-requests", "0")
        .header("x-ratelimit-reset-requests", format!("{retry_secs}s")),
        ErrorKind::QuotaExhausted => openai_error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota".into(),
            Value::Null,
            "insufficient_quota".into(),
            ctx,
        ),
        ErrorKind::Overloaded => openai_error(
            503,
            "The engine is currently overloaded, please try again later.",
            "server_error".into(),
            Value::Null,
            Value::Null,
            ctx,
        ),
        ErrorKind::Server => openai_error(
            500,
            "The server had an error while processing your request. Sorry about that!",
            "server_error".into(),
            Value::Null,
            Value::Null,
            ctx,
        ),
        ErrorKind::Timeout => openai_error(
            504,
            "The server did not respond in time.",
            "server_error".into(),
            Value::Null,
            "timeout".into(),
            ctx,
        ),
        ErrorKind::InvalidRequest => openai_error(
            400,
            "Invalid value for 'messages': the request could not be processed by the mock.",
            "invalid_request_error".into(),
            "messages".into(),
            "invalid_value".into(),
            ctx,
        ),
        ErrorKind::Unauthorized if azure => azure_error(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
            ctx,
        ),
        ErrorKind::Unauthorized => openai_error(
            401,
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error".into(),
            Value::Null,
            "invalid_api_key".into(),
            ctx,
        ),
        ErrorKind::Forbidden => openai_error(
            403,
            "Country, region, or territory not supported",
            "request_forbidden".into(),
            Value::Null,
            "unsupported_country_region_territory".into(),
            ctx,
        ),
        ErrorKind::NotFound if ctx.protocol == Protocol::AzureClassic => azure_error(
            404,
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
            ctx,
        ),
        ErrorKind::NotFound => openai_error(
            404,
            &format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error".into(),
            Value::Null,
            "model_not_found".into(),
            ctx,
        ),
        ErrorKind::ContentFilter | ErrorKind::PromptBlocked => {
            let body = json!({"error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
                "type": null,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": safe_filter(true),
                },
            }});
            id_headers(Rendered::json(400, &body), ctx)
        }
        ErrorKind::FinishSafety => {
            let a = Resolved {
                text: String::new(),
                finish: Finish::ContentFilter,
                input_tokens: 8 + super::estimate_tokens(&ctx.inbound.prompt),
                output_tokens: 1,
                refusal: None,
                tool_calls: Vec::new(),
                model: model.to_string(),
                stop_sequence: None,
                embeddings: None,
            };
            return super::success(&a, ctx);
        }
    };
    retry_headers(r, ctx.retry_after, true)
}

/// A request the checks refused (missing/wrong key, missing `api-version`).
pub(super) fn rejection(status: u16, code: &str, message: &str, ctx: &Ctx<'_>) -> Rendered {
    if ctx.protocol.is_azure() {
        return azure_error(status, code, message, ctx);
    }
    let code = if code.is_empty() {
        Value::Null
    } else {
        code.into()
    };
    openai_error(
        status,
        message,
        "invalid_request_error".into(),
        Value::Null,
        code,
        ctx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::Inbound;

    #[test]
    fn fast_chat_body_equals_general_body() {
        let inbound = Inbound {
            model: Some("gpt-\"quoted\"\n".into()),
            prompt: "Capital?".into(),
            ..Inbound::default()
        };
        let ctx = Ctx {
            protocol: Protocol::OpenAiChat,
            inbound: &inbound,
            body_hash: 7,
            seq: 1,
            retry_after: None,
        };
        for (text, refusal, finish) in [
            ("Paris \u{e9}\t\"x\"", None, Finish::Stop),
            ("", Some("no.".to_string()), Finish::Stop),
            ("cut", None, Finish::Raw("weird".into())),
        ] {
            let a = Resolved {
                text: text.into(),
                finish,
                input_tokens: 3,
                output_tokens: 4,
                refusal,
                tool_calls: Vec::new(),
                model: inbound.model.clone().unwrap(),
                stop_sequence: None,
                embeddings: None,
            };
            let fast = chat_plain(&a, &ctx).body.into_bytes();
            let general = chat_general(&a, &ctx).body.into_bytes();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(general).unwrap()
            );
        }
    }
}
