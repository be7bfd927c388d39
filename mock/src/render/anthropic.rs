//! Anthropic Messages (JSON and SSE) and its errors (PROTOCOLS.md §3). The message body is
//! shared with Bedrock InvokeModel, which returns the same shape.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::{Ctx, Rendered, Resolved, pieces, retry_headers};
use crate::reply::{ErrorKind, Finish};

pub(super) fn stop_reason(a: &Resolved) -> Cow<'_, str> {
    if a.stop_sequence.is_some() && matches!(a.finish, Finish::Stop) {
        return Cow::Borrowed("stop_sequence");
    }
    Cow::Borrowed(match &a.finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::ContentFilter => "refusal",
        Finish::ToolCalls => "tool_use",
        Finish::Raw(s) => return Cow::Borrowed(s.as_str()),
    })
}

fn tool_id(ctx: &Ctx<'_>, i: usize) -> String {
    format!("toolu_01{}", ctx.id(300 + i as u64, 22))
}

fn content(a: &Resolved, ctx: &Ctx<'_>) -> Vec<Value> {
    let mut blocks = Vec::new();
    let text = a.text_or_refusal();
    if !text.is_empty() || a.tool_calls.is_empty() {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for (i, t) in a.tool_calls.iter().enumerate() {
        blocks.push(
            json!({"type": "tool_use", "id": tool_id(ctx, i), "name": t.name, "input": t.arguments}),
        );
    }
    blocks
}

/// The Messages response object (`model` as given).
pub(super) fn message_body(a: &Resolved, ctx: &Ctx<'_>, model: &str) -> Value {
    json!({
        "id": format!("msg_01{}", ctx.id(4, 22)),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content(a, ctx),
        "stop_reason": stop_reason(a),
        "stop_sequence": a.stop_sequence,
        "usage": {
            "input_tokens": a.input_tokens,
            "output_tokens": a.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    })
}

fn with_headers(r: Rendered, ctx: &Ctx<'_>) -> Rendered {
    r.header("request-id", format!("req_01{}", ctx.request_id(22)))
        .header(
            "anthropic-organization-id",
            "00000000-0000-4000-8000-000000000000",
        )
}

fn ratelimit_headers(r: Rendered, remaining: bool) -> Rendered {
    let (req, tok) = if remaining {
        ("49", "39990")
    } else {
        ("0", "0")
    };
    r.header("anthropic-ratelimit-requests-limit", "50")
        .header("anthropic-ratelimit-requests-remaining", req)
        .header("anthropic-ratelimit-requests-reset", "2025-11-24T12:00:01Z")
        .header("anthropic-ratelimit-tokens-limit", "40000")
        .header("anthropic-ratelimit-tokens-remaining", tok)
        .header("anthropic-ratelimit-tokens-reset", "2025-11-24T12:00:01Z")
}

/// `POST /v1/messages`.
pub(super) fn message(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let r = if ctx.inbound.stream {
        let mut chunks = Vec::new();
        for (name, data) in stream_events(a, ctx, &a.model) {
            chunks.push(format!("event: {name}\ndata: {data}\n\n").into_bytes());
        }
        Rendered::stream("text/event-stream; charset=utf-8", chunks)
    } else {
        Rendered::json(200, &message_body(a, ctx, &a.model))
    };
    ratelimit_headers(with_headers(r, ctx), true)
}

/// The SSE events of a streamed message: `message_start`, per block
/// `content_block_start`/`…_delta`/`…_stop`, a `ping`, `message_delta`, `message_stop`.
pub(crate) fn stream_events(
    a: &Resolved,
    ctx: &Ctx<'_>,
    model: &str,
) -> Vec<(&'static str, Value)> {
    let mut start = message_body(a, ctx, model);
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["stop_sequence"] = Value::Null;
    start["usage"]["output_tokens"] = 1.into();
    let mut ev = vec![(
        "message_start",
        json!({"type": "message_start", "message": start}),
    )];
    let mut index = 0;
    let text = a.text_or_refusal();
    if !text.is_empty() || a.tool_calls.is_empty() {
        ev.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
        ));
        ev.push(("ping", json!({"type": "ping"})));
        for p in pieces(text) {
            ev.push((
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}}),
            ));
        }
        ev.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    for (i, t) in a.tool_calls.iter().enumerate() {
        ev.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
                   "content_block": {"type": "tool_use", "id": tool_id(ctx, i), "name": t.name, "input": {}}}),
        ));
        ev.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index,
                   "delta": {"type": "input_json_delta", "partial_json": t.arguments.to_string()}}),
        ));
        ev.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    ev.push((
        "message_delta",
        json!({"type": "message_delta",
               "delta": {"stop_reason": stop_reason(a), "stop_sequence": a.stop_sequence},
               "usage": {"output_tokens": a.output_tokens}}),
    ));
    ev.push(("message_stop", json!({"type": "message_stop"})));
    ev
}

fn error_body(ty: &str, message: &str, ctx: &Ctx<'_>) -> Value {
    json!({
        "type": "error",
        "error": {"type": ty, "message": message},
        "request_id": format!("req_01{}", ctx.request_id(22)),
    })
}

pub(super) fn error(kind: ErrorKind, ctx: &Ctx<'_>) -> Rendered {
    let model = ctx.requested_model();
    let (status, ty, message) = match kind {
        ErrorKind::RateLimited => (
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit. Please reduce the prompt length or try again later.".to_string(),
        ),
        ErrorKind::QuotaExhausted => {
            let mut body = error_body(
                "rate_limit_error",
                "You have reached your specified workspace API usage limits. You will regain access on 2025-12-01 at 00:00 UTC.",
                ctx,
            );
            body["error"]["details"] = json!({"error_code": "enforced_spend_limit_reached"});
            return with_headers(Rendered::json(429, &body), ctx);
        }
        ErrorKind::Overloaded => (529, "overloaded_error", "Overloaded".to_string()),
        ErrorKind::Server => (500, "api_error", "Internal server error".to_string()),
        ErrorKind::Timeout => (504, "timeout_error", "Request timed out".to_string()),
        ErrorKind::InvalidRequest => (
            400,
            "invalid_request_error",
            "messages: the request could not be processed by the mock".to_string(),
        ),
        ErrorKind::Unauthorized => (401, "authentication_error", "invalid x-api-key".to_string()),
        ErrorKind::Forbidden => (
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.".to_string(),
        ),
        ErrorKind::NotFound => (404, "not_found_error", format!("model: {model}")),
        ErrorKind::ContentFilter | ErrorKind::PromptBlocked | ErrorKind::FinishSafety => {
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
            return message(&a, ctx);
        }
    };
    let mut r = with_headers(Rendered::json(status, &error_body(ty, &message, ctx)), ctx);
    if kind == ErrorKind::RateLimited {
        r = ratelimit_headers(r, false);
    }
    retry_headers(r, ctx.retry_after, false)
}

pub(super) fn rejection(status: u16, ty: &str, message: &str, ctx: &Ctx<'_>) -> Rendered {
    with_headers(Rendered::json(status, &error_body(ty, message, ctx)), ctx)
}
