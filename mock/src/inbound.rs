//! What the mock needs from a request body: model, last user message text, stream flag.
//!
//! Parsing is lenient on purpose: a body the mock cannot read still gets an answer (the echo of
//! an empty prompt), because the point of the mock is to test the *client*; protocol checks that
//! real servers make (auth, `anthropic-version`…) live in `auth.rs`.

use serde_json::Value;

use crate::protocol::{Protocol, Route};

/// The parts of a request body that matching and rendering use.
#[derive(Debug, Default)]
pub(crate) struct Inbound {
    pub json: Option<Value>,
    /// Model: path model when the route has one, else body `model`.
    pub model: Option<String>,
    /// Text of the last user message (or `prompt` / embeddings input).
    pub prompt: String,
    /// The client asked for a streamed answer.
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    /// Gemini stream with `alt=sse` (otherwise a JSON array).
    pub alt_sse: bool,
}

impl Inbound {
    pub(crate) fn parse(route: &Route, query: Option<&str>, body: &[u8]) -> Inbound {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let p = route.protocol;
        let mut inbound = Inbound::default();
        if let Some(j) = &json {
            inbound.prompt = last_user_text(p, j);
            inbound.stream = match p {
                Protocol::OllamaChat | Protocol::OllamaGenerate => {
                    // Ollama streams unless told not to (PROTOCOLS.md §6.1).
                    j.get("stream").and_then(Value::as_bool).unwrap_or(true)
                }
                // The operation in the path decides (converse-stream, streamGenerateContent).
                Protocol::BedrockConverse
                | Protocol::BedrockInvoke
                | Protocol::Gemini
                | Protocol::Vertex => route.path_stream,
                p if p.is_embeddings() => false,
                _ => j.get("stream").and_then(Value::as_bool).unwrap_or(false),
            };
            inbound.include_usage = j
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        } else {
            inbound.stream = route.path_stream || p.is_ollama_native();
        }
        inbound.model = route.path_model.clone().or_else(|| {
            json.as_ref()
                .and_then(|j| j.get("model"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        inbound.alt_sse = query.is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
        inbound.json = json;
        inbound
    }
}

/// Concatenated text of the last user turn, per protocol.
pub(crate) fn last_user_text(p: Protocol, j: &Value) -> String {
    match p {
        Protocol::OllamaGenerate => str_at(j, "prompt"),
        Protocol::BedrockEmbed => str_at(j, "inputText"),
        Protocol::GeminiEmbed => j
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<String>()
            })
            .unwrap_or_default(),
        Protocol::OpenAiEmbeddings | Protocol::OllamaEmbed => match j.get("input") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        },
        Protocol::OpenAiResponses => match j.get("input") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => items
                .iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
                .map(|m| content_text(m.get("content")))
                .unwrap_or_default(),
            _ => String::new(),
        },
        Protocol::Gemini | Protocol::Vertex => j
            .get("contents")
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter().rev().find(|m| {
                    // A missing role means user in the Gemini API.
                    m.get("role").and_then(Value::as_str).unwrap_or("user") == "user"
                })
            })
            .and_then(|m| m.get("parts"))
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<String>()
            })
            .unwrap_or_default(),
        _ => j
            .get("messages")
            .and_then(Value::as_array)
            .and_then(|m| {
                m.iter()
                    .rev()
                    .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            })
            .map(|m| content_text(m.get("content")))
            .unwrap_or_default(),
    }
}

/// A string, or the text parts of a content array (OpenAI `{"type":"text","text"}`, Anthropic
/// `text` blocks, Bedrock `{"text"}` blocks, Responses `input_text`).
fn content_text(c: Option<&Value>) -> String {
    match c {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| {
                matches!(
                    p.get("type").and_then(Value::as_str),
                    None | Some("text" | "input_text")
                )
            })
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

fn str_at(j: &Value, key: &str) -> String {
    j.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn last_user_text_per_protocol() {
        let chat = json!({"messages":[{"role":"system","content":"s"},{"role":"user","content":"first"},{"role":"assistant","content":"a"},{"role":"user","content":[{"type":"text","text":"Capital "},{"type":"image_url","image_url":{}},{"type":"text","text":"of France?"}]}]});
        assert_eq!(
            last_user_text(Protocol::OpenAiChat, &chat),
            "Capital of France?"
        );
        let converse = json!({"messages":[{"role":"user","content":[{"text":"Say hi"}]}]});
        assert_eq!(
            last_user_text(Protocol::BedrockConverse, &converse),
            "Say hi"
        );
        let anthropic = json!({"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x"},{"type":"text","text":"go"}]}]});
        assert_eq!(last_user_text(Protocol::Anthropic, &anthropic), "go");
        let gemini = json!({"contents":[{"parts":[{"text":"Par"},{"text":"is?"}]}]});
        assert_eq!(last_user_text(Protocol::Gemini, &gemini), "Paris?");
        let generate = json!({"prompt":"why"});
        assert_eq!(last_user_text(Protocol::OllamaGenerate, &generate), "why");
        let resp =
            json!({"input":[{"role":"user","content":[{"type":"input_text","text":"hey"}]}]});
        assert_eq!(last_user_text(Protocol::OpenAiResponses, &resp), "hey");
    }
}
