//! OpenAI Chat Completions (JSON and SSE), Responses, Embeddings; Azure variants (filter
//! results, string error codes). PROTOCOLS.md §1, §2.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use super::{CREATED, Ctx, Rendered, Resolved, pieces, retry_headers};
use crate::eventstream::base64;
use crate::protocol::Protocol;
use crate::reply::{ErrorKind, Finish};
use crate::rng;

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
fn with_headers(r: Rendered, ctx: &Ctx<'_>) -> Rendered {
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

fn tool_call_id(ctx: &Ctx<'_>, i: usize) -> String {
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

fn responses_body(a: &Resolved, ctx: &Ctx<'_>, in_progress: bool) -> Value {
    let (status, incomplete) = match (&a.finish, in_progress) {
        (_, true) => ("in_progress", Value::Null),
        (Finish::Length, _) => ("incomplete", json!({"reason": "max_output_tokens"})),
        (Finish::ContentFilter, _) => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    };
    let mut output = Vec::new();
    if !in_progress {
        if !a.text.is_empty() || a.refusal.is_some() || a.tool_calls.is_empty() {
            let part = match &a.refusal {
                Some(r) => json!({"type": "refusal", "refusal": r}),
                None => json!({"type": "output_text", "text": a.text, "annotations": []}),
            };
            output.push(json!({
                "type": "message",
                "id": format!("msg_{}", ctx.id(2, 24)),
                "status": if status == "completed" { "completed" } else { "incomplete" },
                "role": "assistant",
                "content": [part],
            }));
        }
        for (i, t) in a.tool_calls.iter().enumerate() {
            output.push(json!({
                "type": "function_call",
                "id": format!("fc_{}", ctx.id(200 + i as u64, 24)),
                "call_id": tool_call_id(ctx, i),
                "name": t.name,
                "arguments": t.arguments.to_string(),
                "status": "completed",
            }));
        }
    }
    let usage = if in_progress {
        Value::Null
    } else {
        json!({
            "input_tokens": a.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": a.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": a.total_tokens(),
        })
    };
    json!({
        "id": format!("resp_{}", ctx.id(3, 32)),
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": null,
        "incomplete_details": incomplete,
        "instructions": ctx.inbound.json.as_ref().and_then(|j| j.get("instructions")).cloned().unwrap_or(Value::Null),
        "max_output_tokens": ctx.inbound.json.as_ref().and_then(|j| j.get("max_output_tokens")).cloned().unwrap_or(Value::Null),
        "model": a.model,
        "output": output,
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "store": true,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "metadata": {},
    })
}

/// `POST /v1/responses`.
pub(super) fn responses(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    if !ctx.inbound.stream {
        return with_headers(Rendered::json(200, &responses_body(a, ctx, false)), ctx);
    }
    let mut seq = 0u64;
    let mut chunks = Vec::new();
    let mut ev = |name: &str, mut data: Value| {
        data["type"] = name.into();
        data["sequence_number"] = seq.into();
        seq += 1;
        chunks.push(format!("event: {name}\ndata: {data}\n\n").into_bytes());
    };
    let start = responses_body(a, ctx, true);
    ev("response.created", json!({"response": start}));
    ev("response.in_progress", json!({"response": start}));
    let done = responses_body(a, ctx, false);
    if let Some(items) = done["output"].as_array() {
        for (oi, item) in items.iter().enumerate() {
            let mut added = item.clone();
            if item["type"] == "message" {
                added["content"] = json!([]);
                added["status"] = "in_progress".into();
            }
            ev(
                "response.output_item.added",
                json!({"output_index": oi, "item": added}),
            );
            if item["type"] == "message" {
                let item_id = item["id"].clone();
                let part = &item["content"][0];
                if part["type"] == "output_text" {
                    ev(
                        "response.content_part.added",
                        json!({"item_id": item_id, "output_index": oi, "content_index": 0,
                               "part": {"type": "output_text", "text": "", "annotations": []}}),
                    );
                    for p in pieces(&a.text) {
                        ev(
                            "response.output_text.delta",
                            json!({"item_id": item_id, "output_index": oi, "content_index": 0, "delta": p, "logprobs": []}),
                        );
                    }
                    ev(
                        "response.output_text.done",
                        json!({"item_id": item_id, "output_index": oi, "content_index": 0, "text": a.text, "logprobs": []}),
                    );
                    ev(
                        "response.content_part.done",
                        json!({"item_id": item_id, "output_index": oi, "content_index": 0, "part": part}),
                    );
                }
            }
            ev(
                "response.output_item.done",
                json!({"output_index": oi, "item": item}),
            );
        }
    }
    let terminal = if done["status"] == "incomplete" {
        "response.incomplete"
    } else {
        "response.completed"
    };
    ev(terminal, json!({"response": done}));
    with_headers(
        Rendered::stream("text/event-stream; charset=utf-8", chunks),
        ctx,
    )
}

/// A deterministic bag-of-words vector: texts with the same words point the same way.
pub(crate) fn bag_of_words(text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![0f32; dims.max(1)];
    let mut any = false;
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let h = rng::hash(w.to_lowercase().as_bytes());
        #[allow(clippy::cast_possible_truncation)]
        let i = (h % v.len() as u64) as usize;
        v[i] += if h >> 63 == 0 { 1.0 } else { -1.0 };
        any = true;
    }
    if !any {
        v[0] = 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    } else {
        v[0] = 1.0;
    }
    v
}

/// `POST /v1/embeddings`.
pub(super) fn embeddings(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let j = ctx.inbound.json.as_ref();
    let inputs: Vec<String> = match j.and_then(|j| j.get("input")) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect(),
        _ => vec![String::new()],
    };
    let dims = j
        .and_then(|j| j.get("dimensions"))
        .and_then(Value::as_u64)
        .map_or(64, |d| usize::try_from(d.min(4096)).unwrap_or(64));
    let b64 = j
        .and_then(|j| j.get("encoding_format"))
        .and_then(Value::as_str)
        == Some("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = a
                .embeddings
                .as_ref()
                .and_then(|e| e.get(i).or(e.last()).cloned())
                .unwrap_or_else(|| bag_of_words(text, dims));
            let embedding = if b64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                Value::String(base64(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let tokens: u32 = inputs.iter().map(|t| super::estimate_tokens(t)).sum();
    let body = json!({
        "object": "list",
        "data": data,
        "model": a.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    with_headers(Rendered::json(200, &body), ctx)
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

    #[test]
    fn bag_of_words_is_order_free_and_unit() {
        let a = bag_of_words("Paris is the capital", 64);
        let b = bag_of_words("the capital is PARIS", 64);
        assert_eq!(a, b);
        let n: f32 = a.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-5);
        let c = bag_of_words("completely unrelated words here", 64);
        let dot: f32 = a.iter().zip(&c).map(|(x, y)| x * y).sum();
        assert!(dot < 0.9);
    }
}
