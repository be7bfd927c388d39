//! Ollama native `/api/chat` and `/api/generate`: JSON, or NDJSON when `stream` is not
//! `false` (the default is to stream), and `{"error": "…"}` errors (PROTOCOLS.md §6.1).

use serde_json::{Value, json};

use super::{CREATED_RFC3339, Ctx, Rendered, Resolved, pieces};
use crate::protocol::Protocol;
use crate::reply::{ErrorKind, Finish};

fn done_reason(a: &Resolved) -> &str {
    match &a.finish {
        Finish::Length => "length",
        Finish::Raw(s) => s,
        Finish::Stop | Finish::ContentFilter | Finish::ToolCalls => "stop",
    }
}

fn piece(ctx: &Ctx<'_>, model: &str, text: &str, tool_calls: Option<Value>) -> Value {
    let mut v = json!({"model": model, "created_at": CREATED_RFC3339});
    if ctx.protocol == Protocol::OllamaGenerate {
        v["response"] = text.into();
    } else {
        let mut m = json!({"role": "assistant", "content": text});
        if let Some(t) = tool_calls {
            m["tool_calls"] = t;
        }
        v["message"] = m;
    }
    v["done"] = false.into();
    v
}

fn finish_fields(v: &mut Value, a: &Resolved) {
    v["done"] = true.into();
    v["done_reason"] = done_reason(a).into();
    v["total_duration"] = 402_000_000u64.into();
    v["load_duration"] = 2_100_000u64.into();
    v["prompt_eval_count"] = a.input_tokens.into();
    v["prompt_eval_duration"] = 61_000_000u64.into();
    v["eval_count"] = a.output_tokens.into();
    v["eval_duration"] = 88_000_000u64.into();
}

fn tool_calls(a: &Resolved) -> Option<Value> {
    (!a.tool_calls.is_empty()).then(|| {
        Value::Array(
            a.tool_calls
                .iter()
                .map(|t| json!({"function": {"name": t.name, "arguments": t.arguments}}))
                .collect(),
        )
    })
}

pub(super) fn answer(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let text = a.text_or_refusal();
    if !ctx.inbound.stream {
        let mut v = piece(ctx, &a.model, text, tool_calls(a));
        finish_fields(&mut v, a);
        return Rendered::json(200, &v);
    }
    let mut lines: Vec<Vec<u8>> = pieces(text)
        .into_iter()
        .map(|p| format!("{}\n", piece(ctx, &a.model, p, None)).into_bytes())
        .collect();
    if let Some(t) = tool_calls(a) {
        lines.push(format!("{}\n", piece(ctx, &a.model, "", Some(t))).into_bytes());
    }
    let mut last = piece(ctx, &a.model, "", None);
    finish_fields(&mut last, a);
    lines.push(format!("{last}\n").into_bytes());
    Rendered::stream("application/x-ndjson", lines)
}

fn err(status: u16, message: &str) -> Rendered {
    Rendered::json(status, &json!({"error": message}))
}

pub(super) fn error(kind: ErrorKind, ctx: &Ctx<'_>) -> Rendered {
    let model = ctx.requested_model();
    match kind {
        ErrorKind::RateLimited | ErrorKind::QuotaExhausted => err(429, "too many requests"),
        ErrorKind::Overloaded => err(
            503,
            "server busy, please try again.  maximum pending requests exceeded",
        ),
        ErrorKind::Server | ErrorKind::Timeout => err(500, "llama runner process has terminated"),
        ErrorKind::InvalidRequest | ErrorKind::ContentFilter | ErrorKind::PromptBlocked => {
            err(400, "invalid request: the mock refused this request")
        }
        ErrorKind::Unauthorized => err(401, "unauthorized"),
        ErrorKind::Forbidden => err(403, "forbidden"),
        ErrorKind::NotFound => err(
            404,
            &format!("model \"{model}\" not found, try pulling it first"),
        ),
        ErrorKind::FinishSafety => {
            let a = Resolved {
                text: String::new(),
                finish: Finish::Stop,
                input_tokens: 8 + super::estimate_tokens(&ctx.inbound.prompt),
                output_tokens: 1,
                refusal: None,
                tool_calls: Vec::new(),
                model: model.to_string(),
                stop_sequence: None,
                embeddings: None,
            };
            answer(&a, ctx)
        }
    }
}

pub(super) fn rejection(status: u16, message: &str) -> Rendered {
    err(status, message)
}
