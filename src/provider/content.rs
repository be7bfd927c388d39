//! Conversation content for vendors whose messages are lists of typed blocks (Anthropic,
//! Bedrock Converse, Gemini): one neutral message becomes a vendor role and its blocks, and
//! consecutive turns of one vendor role are merged into one message, as those APIs require
//! alternating roles (a `tool` result is a `user` turn for all three).
//!
//! Images come before a message's text for every vendor (Anthropic's guidance, and one order
//! for all keeps comparisons fair), each in its vendor's block:
//!
//! | vendor | image block |
//! |---|---|
//! | OpenAI, Azure, compatible | `{type: image_url, image_url: {url: "data:image/png;base64,…"}}` (content becomes a list of parts) |
//! | Anthropic | `{type: image, source: {type: base64, media_type, data}}` |
//! | Bedrock Converse | `{image: {format: png, source: {bytes: "<base64>"}}}` |
//! | Gemini, Vertex | `{inlineData: {mimeType, data}}` |
//! | Ollama | the message's `images: ["<base64>", …]` |
//!
//! Sources: openai-openapi (`ChatCompletionRequestMessageContentPartImage`),
//! anthropic-sdk-python (`ImageBlockParam`, `Base64ImageSourceParam`), aws-sdk-bedrockruntime
//! 1.153.0 (`ImageBlock`, `ImageSource::Bytes`, `ImageFormat`), python-genai (`Blob`,
//! `Part.inline_data`), ollama `docs/api.md` (`images`).

use serde_json::{Value, json};

use super::{Image, Message};

/// Whether a message's text gets a block of its own: when it has text, or nothing else.
pub(crate) fn text_block_needed(m: &Message) -> bool {
    !m.content.is_empty() || (m.tool_calls.is_empty() && m.images.is_empty())
}

/// OpenAI's `content` for a user message: the text, or parts (images, then the text).
pub(crate) fn openai_content(m: &Message) -> Value {
    if m.images.is_empty() {
        return json!(m.content);
    }
    let mut parts: Vec<Value> = m
        .images
        .iter()
        .map(|img| json!({"type": "image_url", "image_url": {"url": openai_image_url(img)}}))
        .collect();
    if !m.content.is_empty() {
        parts.push(json!({"type": "text", "text": m.content}));
    }
    Value::Array(parts)
}

/// The data URL of a loaded image (the runner loads every image before a request is built).
fn openai_image_url(img: &Image) -> String {
    img.data_url().unwrap_or_else(|| img.source.clone())
}

/// Anthropic's image block.
pub(crate) fn anthropic_image(img: &Image) -> Value {
    json!({"type": "image", "source": {
        "type": "base64",
        "media_type": img.media_type.as_deref().unwrap_or("image/png"),
        "data": img.base64().unwrap_or(""),
    }})
}

/// Bedrock Converse's image block.
pub(crate) fn bedrock_image(img: &Image) -> Value {
    json!({"image": {"format": img.format(), "source": {"bytes": img.base64().unwrap_or("")}}})
}

/// Gemini's inline-data part.
pub(crate) fn gemini_image(img: &Image) -> Value {
    json!({"inlineData": {
        "mimeType": img.media_type.as_deref().unwrap_or("image/png"),
        "data": img.base64().unwrap_or(""),
    }})
}

/// Ollama's `images` list.
pub(crate) fn ollama_images(m: &Message) -> Option<Value> {
    (!m.images.is_empty()).then(|| {
        Value::Array(
            m.images
                .iter()
                .map(|img| json!(img.base64().unwrap_or("")))
                .collect(),
        )
    })
}

/// Turns being built: (vendor role, blocks), consecutive same-role turns merged.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    turns: Vec<(&'static str, Vec<Value>)>,
}

impl Turns {
    /// Appends `blocks` as a turn of `role`, merging it into the previous turn of the same
    /// role. Tool results go first in their turn (Anthropic requires `tool_result` blocks
    /// before any text in a user message), so `results_first` blocks are placed before the
    /// turn's other blocks.
    pub(crate) fn push(&mut self, role: &'static str, blocks: Vec<Value>, results_first: bool) {
        match self.turns.last_mut() {
            Some((r, existing)) if *r == role => {
                if results_first {
                    let at = existing
                        .iter()
                        .position(|b| !is_result(b))
                        .unwrap_or(existing.len());
                    existing.splice(at..at, blocks);
                } else {
                    existing.extend(blocks);
                }
            }
            _ => self.turns.push((role, blocks)),
        }
    }

    /// The merged turns.
    pub(crate) fn into_inner(self) -> Vec<(&'static str, Vec<Value>)> {
        self.turns
    }
}

/// Whether a block is a tool result in any of the three vendors' spellings.
fn is_result(block: &Value) -> bool {
    block.get("type").and_then(Value::as_str) == Some("tool_result")
        || block.get("toolResult").is_some()
        || block.get("functionResponse").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_role_turns_merge_with_results_first() {
        let mut t = Turns::default();
        t.push("user", vec![json!({"type": "text", "text": "q"})], false);
        t.push("assistant", vec![json!({"type": "tool_use"})], false);
        t.push("user", vec![json!({"type": "tool_result", "n": 1})], true);
        t.push("user", vec![json!({"type": "text", "text": "and?"})], false);
        t.push("user", vec![json!({"type": "tool_result", "n": 2})], true);
        let turns = t.into_inner();
        assert_eq!(turns.len(), 3);
        assert_eq!(
            turns[2].1,
            vec![
                json!({"type": "tool_result", "n": 1}),
                json!({"type": "tool_result", "n": 2}),
                json!({"type": "text", "text": "and?"}),
            ]
        );
    }
}
