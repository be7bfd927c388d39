//! Bedrock Converse / ConverseStream, InvokeModel / InvokeModelWithResponseStream (Anthropic
//! bodies) and Bedrock errors: status + `x-amzn-ErrorType` + `{"message": …}`
//! (PROTOCOLS.md §4).

use std::borrow::Cow;

use serde_json::{Value, json};

use super::{Ctx, Rendered, Resolved, anthropic, pieces};
use crate::eventstream;
use crate::reply::{ErrorKind, Finish};
use crate::sigv4::SigV4Error;

/// Service-side latency the mock reports.
const LATENCY_MS: u64 = 412;

fn stop_reason(a: &Resolved) -> Cow<'_, str> {
    if a.stop_sequence.is_some() && matches!(a.finish, Finish::Stop) {
        return Cow::Borrowed("stop_sequence");
    }
    Cow::Borrowed(match &a.finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::ContentFilter => "guardrail_intervened",
        Finish::ToolCalls => "tool_use",
        Finish::Raw(s) => return Cow::Borrowed(s.as_str()),
    })
}

fn request_id(r: Rendered, ctx: &Ctx<'_>) -> Rendered {
    r.header("x-amzn-requestid", ctx.request_uuid())
}

fn tool_use_id(ctx: &Ctx<'_>, i: usize) -> String {
    format!("tooluse_{}", ctx.id(400 + i as u64, 22))
}

fn usage(a: &Resolved) -> Value {
    json!({"inputTokens": a.input_tokens, "outputTokens": a.output_tokens, "totalTokens": a.total_tokens()})
}

/// `POST /model/{id}/converse` and `/converse-stream`.
pub(super) fn converse(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    if ctx.inbound.stream {
        return request_id(converse_stream(a, ctx), ctx);
    }
    let mut content = Vec::new();
    let text = a.text_or_refusal();
    if !text.is_empty() || a.tool_calls.is_empty() {
        content.push(json!({"text": text}));
    }
    for (i, t) in a.tool_calls.iter().enumerate() {
        content.push(json!({"toolUse": {"toolUseId": tool_use_id(ctx, i), "name": t.name, "input": t.arguments}}));
    }
    let body = json!({
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason(a),
        "usage": usage(a),
        "metrics": {"latencyMs": LATENCY_MS},
    });
    request_id(Rendered::json(200, &body), ctx)
}

fn converse_stream(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let ev = |name: &str, v: Value| eventstream::event(name, v.to_string().as_bytes());
    let mut frames = vec![ev("messageStart", json!({"role": "assistant"}))];
    let mut index = 0;
    let text = a.text_or_refusal();
    if !text.is_empty() || a.tool_calls.is_empty() {
        for p in pieces(text) {
            frames.push(ev(
                "contentBlockDelta",
                json!({"contentBlockIndex": index, "delta": {"text": p}}),
            ));
        }
        frames.push(ev("contentBlockStop", json!({"contentBlockIndex": index})));
        index += 1;
    }
    for (i, t) in a.tool_calls.iter().enumerate() {
        frames.push(ev(
            "contentBlockStart",
            json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": tool_use_id(ctx, i), "name": t.name}}}),
        ));
        frames.push(ev(
            "contentBlockDelta",
            json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": t.arguments.to_string()}}}),
        ));
        frames.push(ev("contentBlockStop", json!({"contentBlockIndex": index})));
        index += 1;
    }
    frames.push(ev("messageStop", json!({"stopReason": stop_reason(a)})));
    frames.push(ev(
        "metadata",
        json!({"usage": usage(a), "metrics": {"latencyMs": LATENCY_MS}}),
    ));
    Rendered::stream("application/vnd.amazon.eventstream", frames)
}

/// The Anthropic model name inside a Bedrock model id
/// (`us.anthropic.claude-3-5-haiku-20241022-v1:0` → `claude-3-5-haiku-20241022`).
fn anthropic_model(model_id: &str) -> String {
    let tail = model_id.rsplit('/').next().unwrap_or(model_id);
    let tail = tail.split_once("anthropic.").map_or(tail, |(_, t)| t);
    let tail = tail.split_once(':').map_or(tail, |(t, _)| t);
    match tail.rsplit_once("-v") {
        Some((base, v)) if v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty() => {
            base.to_string()
        }
        _ => tail.to_string(),
    }
}

/// `POST /model/{id}/invoke` and `/invoke-with-response-stream` (Anthropic Messages bodies).
pub(super) fn invoke(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let model = if a.model == ctx.requested_model() {
        anthropic_model(&a.model)
    } else {
        a.model.clone()
    };
    if ctx.inbound.stream {
        let mut frames = Vec::new();
        for (name, mut data) in anthropic::stream_events(a, ctx, &model) {
            if name == "ping" {
                continue;
            }
            if name == "message_stop" {
                data["amazon-bedrock-invocationMetrics"] = json!({
                    "inputTokenCount": a.input_tokens,
                    "outputTokenCount": a.output_tokens,
                    "invocationLatency": LATENCY_MS,
                    "firstByteLatency": 120,
                });
            }
            let payload = json!({"bytes": eventstream::base64(data.to_string().as_bytes())});
            frames.push(eventstream::event("chunk", payload.to_string().as_bytes()));
        }
        let r = Rendered::stream("application/vnd.amazon.eventstream", frames)
            .header("x-amzn-bedrock-content-type", "application/json");
        return request_id(r, ctx);
    }
    let r = Rendered::json(200, &anthropic::message_body(a, ctx, &model))
        .header(
            "x-amzn-bedrock-input-token-count",
            a.input_tokens.to_string(),
        )
        .header(
            "x-amzn-bedrock-output-token-count",
            a.output_tokens.to_string(),
        )
        .header("x-amzn-bedrock-invocation-latency", LATENCY_MS.to_string());
    request_id(r, ctx)
}

const BEDROCK_NS: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";
const CORAL_NS: &str = "http://internal.amazon.com/coral/com.amazon.coral.service/";

fn aws_error(status: u16, shape: &str, ns: &str, message: &str, ctx: &Ctx<'_>) -> Rendered {
    let r = Rendered::json(status, &json!({"message": message}))
        .header("x-amzn-errortype", format!("{shape}:{ns}"));
    request_id(r, ctx)
}

pub(super) fn error(kind: ErrorKind, ctx: &Ctx<'_>) -> Rendered {
    let model = ctx.requested_model();
    let (status, shape, message): (u16, &str, Cow<'_, str>) = match kind {
        ErrorKind::RateLimited => (
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.".into(),
        ),
        ErrorKind::QuotaExhausted => (
            400,
            "ServiceQuotaExceededException",
            "Your request exceeds the service quota for your account. You can view your quotas at https://docs.aws.amazon.com/servicequotas/latest/userguide/gs-request-quota.html.".into(),
        ),
        ErrorKind::Overloaded => (
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.".into(),
        ),
        ErrorKind::Server => (
            500,
            "InternalServerException",
            "The system encountered an unexpected error during processing. Try your request again.".into(),
        ),
        ErrorKind::Timeout => (
            408,
            "ModelTimeoutException",
            "Model has timed out in processing the request. Try your request again.".into(),
        ),
        ErrorKind::InvalidRequest => (
            400,
            "ValidationException",
            "Malformed input request, please reformat your input and try again.".into(),
        ),
        ErrorKind::Unauthorized => {
            return aws_error(
                403,
                "UnrecognizedClientException",
                CORAL_NS,
                "The security token included in the request is invalid.",
                ctx,
            );
        }
        ErrorKind::Forbidden => (
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.".into(),
        ),
        ErrorKind::NotFound => (
            404,
            "ResourceNotFoundException",
            format!("Could not resolve the foundation model from the provided model identifier: {model}").into(),
        ),
        ErrorKind::ContentFilter | ErrorKind::PromptBlocked | ErrorKind::FinishSafety => {
            let a = Resolved {
                text: "Sorry, the model cannot answer this question.".into(),
                finish: Finish::ContentFilter,
                input_tokens: 8 + super::estimate_tokens(&ctx.inbound.prompt),
                output_tokens: 10,
                refusal: None,
                tool_calls: Vec::new(),
                model: model.to_string(),
                stop_sequence: None,
                embeddings: None,
            };
            return super::success(&a, ctx);
        }
    };
    aws_error(status, shape, BEDROCK_NS, &message, ctx)
}

/// 403 from the AWS front end for a signature problem.
pub(super) fn sigv4_error(e: &SigV4Error, ctx: &Ctx<'_>) -> Rendered {
    let (shape, message) = e.aws_error();
    aws_error(403, shape, CORAL_NS, &message, ctx)
}

pub(super) fn rejection(status: u16, shape: &str, message: &str, ctx: &Ctx<'_>) -> Rendered {
    aws_error(status, shape, CORAL_NS, message, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_model_names() {
        assert_eq!(
            anthropic_model("anthropic.claude-3-5-haiku-20241022-v1:0"),
            "claude-3-5-haiku-20241022"
        );
        assert_eq!(
            anthropic_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "claude-sonnet-4-5-20250929"
        );
        assert_eq!(anthropic_model("my-model"), "my-model");
    }
}
