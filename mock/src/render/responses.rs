//! OpenAI Responses API (`POST /v1/responses`): JSON and SSE with named events
//! (PROTOCOLS.md §1.2).

use serde_json::{Value, json};

use super::openai::{tool_call_id, with_headers};
use super::{CREATED, Ctx, Rendered, Resolved, pieces};
use crate::reply::Finish;

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
