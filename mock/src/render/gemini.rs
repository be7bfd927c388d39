//! Gemini / Vertex `generateContent` and `streamGenerateContent` (SSE with `alt=sse`, else a
//! JSON array), safety blocks, and `google.rpc` errors (PROTOCOLS.md §5).

use std::borrow::Cow;

use serde_json::{Value, json};

use super::{CREATED_RFC3339, Ctx, Rendered, Resolved, google_duration, pieces};
use crate::protocol::Protocol;
use crate::reply::{ErrorKind, Finish};

fn finish_raw(a: &Resolved) -> Cow<'_, str> {
    Cow::Borrowed(match &a.finish {
        // Function calls end with STOP (detected from the parts).
        Finish::Stop | Finish::ToolCalls => "STOP",
        Finish::Length => "MAX_TOKENS",
        Finish::ContentFilter => "SAFETY",
        Finish::Raw(s) => return Cow::Borrowed(s.as_str()),
    })
}

fn safety_ratings(blocked: bool) -> Value {
    json!([
        {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": if blocked { "HIGH" } else { "NEGLIGIBLE" }, "blocked": blocked},
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    ])
}

fn usage(ctx: &Ctx<'_>, input: u32, output: Option<u32>) -> Value {
    let mut u = json!({
        "promptTokenCount": input,
        "totalTokenCount": input + output.unwrap_or(0),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": input}],
    });
    if let Some(o) = output {
        u["candidatesTokenCount"] = o.into();
    }
    if ctx.protocol == Protocol::Vertex {
        u["trafficType"] = "ON_DEMAND".into();
    }
    u
}

fn envelope(ctx: &Ctx<'_>, model: &str, mut body: Value) -> Value {
    body["modelVersion"] = model.into();
    body["responseId"] = ctx.id(5, 22).into();
    if ctx.protocol == Protocol::Vertex {
        body["createTime"] = CREATED_RFC3339.into();
    }
    body
}

fn parts(text: &str, a: &Resolved) -> Vec<Value> {
    let mut parts = Vec::new();
    if !text.is_empty() || a.tool_calls.is_empty() {
        parts.push(json!({"text": text}));
    }
    for t in &a.tool_calls {
        parts.push(json!({"functionCall": {"name": t.name, "args": t.arguments}}));
    }
    parts
}

fn candidate(a: &Resolved, content_parts: Option<Vec<Value>>, finish: bool) -> Value {
    let mut content = json!({"role": "model"});
    if let Some(p) = content_parts {
        content["parts"] = Value::Array(p);
    }
    let mut c = json!({"content": content, "index": 0});
    if finish {
        c["finishReason"] = finish_raw(a).into();
        if a.finish == Finish::ContentFilter {
            c["safetyRatings"] = safety_ratings(true);
        }
    }
    c
}

/// `…:generateContent` / `…:streamGenerateContent`.
pub(super) fn generate(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let text = a.text_or_refusal();
    // A SAFETY-blocked answer has no parts.
    let blocked = a.finish == Finish::ContentFilter;
    if !ctx.inbound.stream {
        let body = json!({
            "candidates": [candidate(a, (!blocked).then(|| parts(text, a)), true)],
            "usageMetadata": usage(ctx, a.input_tokens, (!blocked).then_some(a.output_tokens)),
        });
        return Rendered::json(200, &envelope(ctx, &a.model, body));
    }
    let mut chunks: Vec<Value> = Vec::new();
    if !blocked {
        for p in pieces(text) {
            chunks.push(json!({
                "candidates": [candidate(a, Some(vec![json!({"text": p})]), false)],
                "usageMetadata": usage(ctx, a.input_tokens, None),
            }));
        }
    }
    let tools: Vec<Value> = a
        .tool_calls
        .iter()
        .map(|t| json!({"functionCall": {"name": t.name, "args": t.arguments}}))
        .collect();
    let last_parts = if blocked {
        None
    } else if tools.is_empty() {
        // The final chunk carries the finish reason and an empty text part.
        Some(vec![json!({"text": ""})])
    } else {
        Some(tools)
    };
    chunks.push(json!({
        "candidates": [candidate(a, last_parts, true)],
        "usageMetadata": usage(ctx, a.input_tokens, Some(a.output_tokens)),
    }));
    let chunks: Vec<Value> = chunks
        .into_iter()
        .map(|c| envelope(ctx, &a.model, c))
        .collect();
    if ctx.inbound.alt_sse {
        let frames = chunks
            .iter()
            .map(|c| format!("data: {c}\r\n\r\n").into_bytes())
            .collect();
        Rendered::stream("text/event-stream", frames)
    } else {
        // Without alt=sse the stream is one JSON array, sent element by element.
        let n = chunks.len();
        let frames = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let open = if i == 0 { "[" } else { "" };
                let close = if i + 1 == n { "]" } else { ",\r\n" };
                format!("{open}{c}{close}").into_bytes()
            })
            .collect();
        Rendered::stream("application/json; charset=UTF-8", frames)
    }
}

fn google_error(code: u16, status: &str, message: &str, details: &Value) -> Rendered {
    Rendered::new(
        code,
        "application/json; charset=UTF-8",
        json!({"error": {"code": code, "message": message, "status": status, "details": details}})
            .to_string()
            .into_bytes(),
    )
}

fn quota_failure(model: &str, per: &str) -> Value {
    json!({
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [{
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": format!("GenerateRequestsPer{per}PerProjectPerModel-FreeTier"),
            "quotaDimensions": {"location": "global", "model": model},
            "quotaValue": "10",
        }],
    })
}

fn help() -> Value {
    json!({"@type": "type.googleapis.com/google.rpc.Help",
           "links": [{"description": "Learn more about Gemini API quotas",
                      "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]})
}

pub(super) fn error(kind: ErrorKind, ctx: &Ctx<'_>) -> Rendered {
    let model = ctx.requested_model();
    match kind {
        ErrorKind::RateLimited => {
            let mut details = vec![quota_failure(model, "Minute"), help()];
            if let Some(d) = ctx.retry_after {
                details.push(json!({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                    "retryDelay": google_duration(d)}));
            }
            google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                &Value::Array(details),
            )
        }
        ErrorKind::QuotaExhausted => google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
            &json!([quota_failure(model, "Day"), help()]),
        ),
        ErrorKind::Overloaded => {
            let mut details = Vec::new();
            if let Some(d) = ctx.retry_after {
                details.push(json!({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                    "retryDelay": google_duration(d)}));
            }
            google_error(
                503,
                "UNAVAILABLE",
                "The model is overloaded. Please try again later.",
                &Value::Array(details),
            )
        }
        ErrorKind::Server => google_error(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            &json!([]),
        ),
        ErrorKind::Timeout => google_error(
            504,
            "DEADLINE_EXCEEDED",
            "The request timed out. Please try again.",
            &json!([]),
        ),
        ErrorKind::InvalidRequest => google_error(
            400,
            "INVALID_ARGUMENT",
            "Request contains an invalid argument.",
            &json!([]),
        ),
        ErrorKind::Unauthorized => {
            unauthorized(ctx, "API key not valid. Please pass a valid API key.")
        }
        ErrorKind::Forbidden => google_error(
            403,
            "PERMISSION_DENIED",
            "The caller does not have permission",
            &json!([]),
        ),
        ErrorKind::NotFound => google_error(
            404,
            "NOT_FOUND",
            &format!(
                "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
            ),
            &json!([]),
        ),
        ErrorKind::ContentFilter | ErrorKind::PromptBlocked => {
            let body = json!({
                "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": safety_ratings(true)},
                "usageMetadata": usage(ctx, 8 + super::estimate_tokens(&ctx.inbound.prompt), None),
            });
            Rendered::json(200, &envelope(ctx, model, body))
        }
        ErrorKind::FinishSafety => {
            let a = Resolved {
                text: String::new(),
                finish: Finish::ContentFilter,
                input_tokens: 8 + super::estimate_tokens(&ctx.inbound.prompt),
                output_tokens: 0,
                refusal: None,
                tool_calls: Vec::new(),
                model: model.to_string(),
                stop_sequence: None,
                embeddings: None,
            };
            generate(&a, ctx)
        }
    }
}

/// Gemini: 400 `INVALID_ARGUMENT` + `API_KEY_INVALID`; Vertex: 401 `UNAUTHENTICATED`.
fn unauthorized(ctx: &Ctx<'_>, message: &str) -> Rendered {
    if ctx.protocol == Protocol::Vertex {
        return google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            &json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                    "metadata": {"service": "aiplatform.googleapis.com", "method": "google.cloud.aiplatform.v1beta1.PredictionService.GenerateContent"}}]),
        );
    }
    google_error(
        400,
        "INVALID_ARGUMENT",
        message,
        &json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}}]),
    )
}

/// Refusals from the checks: `code` is a `google.rpc` status or `API_KEY_INVALID`.
pub(super) fn rejection(status: u16, code: &str, message: &str, ctx: &Ctx<'_>) -> Rendered {
    match code {
        "API_KEY_INVALID" | "UNAUTHENTICATED" => unauthorized(ctx, message),
        _ => google_error(status, code, message, &json!([])),
    }
}
