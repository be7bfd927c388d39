//! Embeddings: OpenAI (`POST /v1/embeddings`, `float` or `base64` encoding, PROTOCOLS.md §1.3),
//! Gemini `embedContent`, Bedrock Titan text embeddings (`InvokeModel`) and Ollama `/api/embed`.
//! Vectors are the rule's ([`Reply::embeddings`](crate::Reply::embeddings)) or deterministic
//! bag-of-words vectors of the input.

use serde_json::{Value, json};

use super::openai::with_headers;
use super::{Ctx, Rendered, Resolved};
use crate::eventstream::base64;
use crate::rng;

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

/// The rule's first vector, or a bag-of-words vector of `text`.
fn one_vector(a: &Resolved, text: &str, dims: usize) -> Vec<f32> {
    a.embeddings
        .as_ref()
        .and_then(|e| e.first().cloned())
        .unwrap_or_else(|| bag_of_words(text, dims))
}

fn dims_at(ctx: &Ctx<'_>, key: &str, default: usize) -> usize {
    ctx.inbound
        .json
        .as_ref()
        .and_then(|j| j.get(key))
        .and_then(Value::as_u64)
        .map_or(default, |d| usize::try_from(d.min(4096)).unwrap_or(default))
}

/// Gemini `models/{m}:embedContent`: `{"embedding": {"values": […]}}`.
pub(super) fn gemini(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let v = one_vector(
        a,
        &ctx.inbound.prompt,
        dims_at(ctx, "outputDimensionality", 64),
    );
    Rendered::json(200, &json!({"embedding": {"values": v}}))
}

/// Bedrock Titan text embeddings (V2 response shape).
pub(super) fn titan(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let v = one_vector(a, &ctx.inbound.prompt, dims_at(ctx, "dimensions", 64));
    let body = json!({
        "embedding": v,
        "inputTextTokenCount": super::estimate_tokens(&ctx.inbound.prompt),
        "embeddingsByType": {"float": v},
    });
    Rendered::json(200, &body).header("x-amzn-requestid", ctx.request_uuid())
}

/// Ollama `/api/embed`: one vector per input.
pub(super) fn ollama(a: &Resolved, ctx: &Ctx<'_>) -> Rendered {
    let inputs: Vec<String> = match ctx.inbound.json.as_ref().and_then(|j| j.get("input")) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![String::new()],
    };
    let dims = dims_at(ctx, "dimensions", 64);
    let vectors: Vec<Vec<f32>> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            a.embeddings
                .as_ref()
                .and_then(|e| e.get(i).or(e.last()).cloned())
                .unwrap_or_else(|| bag_of_words(t, dims))
        })
        .collect();
    let tokens: u32 = inputs.iter().map(|t| super::estimate_tokens(t)).sum();
    let body = json!({
        "model": a.model,
        "embeddings": vectors,
        "total_duration": 14_143_917,
        "load_duration": 1_019_500,
        "prompt_eval_count": tokens,
    });
    Rendered::json(200, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

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
