//! Streamed Messages (`"stream": true`): named SSE events, each `data` carrying its `type`
//! (PROTOCOLS.md §3): `message_start` (id, model, initial `usage`) → per block
//! `content_block_start` / `content_block_delta` (`text_delta`, `input_json_delta` with
//! `partial_json`; thinking, signature and citation deltas are not answer text) /
//! `content_block_stop` → `message_delta` (`stop_reason`, `stop_sequence`, cumulative
//! `usage`) → **`message_stop`**, the terminal event. `ping` may come anywhere; `error`
//! (`overloaded_error`…) is a failure inside the stream.

use serde_json::{Map, Value};

use super::super::stream::{
    Assembly, SseFramer, SseItem, StreamDecoder, parse_json, stream_error, unterminated,
};
use super::super::{ProviderError, Response};
use super::{error_parts, finish_reason, refusal_of, usage_of};
use crate::provider::wire::RawResponse;

/// Decodes a streamed Messages answer.
#[derive(Debug)]
pub struct MessageStream {
    sse: SseFramer,
    answer: Assembly,
    /// `message_start`'s usage, updated by each `message_delta`'s (cumulative) fields.
    usage: Map<String, Value>,
    stop_details: Option<Value>,
    request_id_header: &'static str,
}

impl MessageStream {
    /// A decoder; `request_id_header` names the header holding the request id.
    pub fn new(request_id_header: &'static str) -> Self {
        MessageStream {
            sse: SseFramer::default(),
            answer: Assembly::default(),
            usage: Map::new(),
            stop_details: None,
            request_id_header,
        }
    }

    fn item(&mut self, item: SseItem) -> Result<(), ProviderError> {
        let (name, data) = match item {
            SseItem::Event(e) => (e.event, e.data),
            SseItem::Bare(line) => (None, line),
        };
        if self.answer.terminated {
            return Ok(());
        }
        let v = parse_json(&data, "Anthropic")?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(name.as_deref())
            .unwrap_or("");
        self.event(kind, &v)
    }

    fn merge_usage(&mut self, u: Option<&Value>) {
        if let Some(Value::Object(u)) = u {
            for (k, v) in u {
                if !v.is_null() {
                    self.usage.insert(k.clone(), v.clone());
                }
            }
        }
    }

    fn event(&mut self, kind: &str, v: &Value) -> Result<(), ProviderError> {
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message_start" => {
                let m = v.get("message");
                let s = |k: &str| {
                    m.and_then(|m| m.get(k))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                self.answer.response_id = s("id");
                self.answer.model = s("model");
                self.merge_usage(m.and_then(|m| m.get("usage")));
            }
            "content_block_start" => {
                let block = v.get("content_block");
                match block.and_then(|b| b.get("type")).and_then(Value::as_str) {
                    Some("text") => {
                        let t = block.and_then(|b| b.get("text")).and_then(Value::as_str);
                        self.answer.push_text(t.unwrap_or(""));
                    }
                    Some("tool_use") => {
                        let b = block.expect("matched a type");
                        self.answer.tool_start(index, b.get("id"), b.get("name"));
                        // Input normally arrives as `input_json_delta`s; a whole one here
                        // (non-empty) stands unless fragments follow.
                        if let Some(input) = b
                            .get("input")
                            .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()))
                        {
                            self.answer.tool_args_value(index, input.clone());
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = v.get("delta");
                let s = |k: &str| delta.and_then(|d| d.get(k)).and_then(Value::as_str);
                match delta.and_then(|d| d.get("type")).and_then(Value::as_str) {
                    Some("text_delta") => self.answer.push_text(s("text").unwrap_or("")),
                    Some("input_json_delta") => {
                        self.answer
                            .tool_args_fragment(index, s("partial_json").unwrap_or(""));
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                let delta = v.get("delta");
                if let Some(r) = delta
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str)
                {
                    self.answer.finish_raw = Some(r.to_string());
                }
                if let Some(d) = delta.and_then(|d| d.get("stop_details")) {
                    self.stop_details = Some(d.clone());
                }
                self.merge_usage(v.get("usage"));
            }
            "message_stop" => self.answer.terminated = true,
            "error" => {
                let (class, code, message) = error_parts(v, 200);
                return Err(stream_error(class, code, message));
            }
            // `ping`, `content_block_stop`, and event types added later.
            _ => {}
        }
        Ok(())
    }
}

impl StreamDecoder for MessageStream {
    fn feed(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
        for item in self.sse.feed(bytes)? {
            self.item(item)?;
        }
        Ok(())
    }

    fn content_started(&self) -> bool {
        self.answer.content_started()
    }

    fn finish(mut self: Box<Self>, head: &RawResponse) -> Result<Response, ProviderError> {
        for item in self.sse.finish() {
            self.item(item)?;
        }
        if !self.answer.terminated {
            return Err(unterminated("`message_stop`"));
        }
        let Some(finish_raw) = self.answer.finish_raw.clone() else {
            return Err(ProviderError::protocol(
                "the stream has no `stop_reason` (no `message_delta` event)",
            ));
        };
        let usage = if self.usage.is_empty() {
            crate::provider::Usage::default()
        } else {
            usage_of(&Value::Object(std::mem::take(&mut self.usage)))
        };
        let a = self.answer;
        Ok(Response {
            tool_calls: a.tool_calls(),
            text: a.text,
            finish: finish_reason(&finish_raw),
            refusal: refusal_of(&finish_raw, self.stop_details.as_ref()),
            finish_raw,
            usage,
            model: a.model,
            response_id: a.response_id,
            request_id: head.header(self.request_id_header).map(str::to_string),
            server_latency_ms: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::anthropic::parse_message;
    use crate::provider::test_support::{fixture, raw};
    use crate::provider::{ErrorClass, FinishReason};

    fn decode(body: &str, split: usize) -> Result<Response, ProviderError> {
        let mut d: Box<dyn StreamDecoder> = Box::new(MessageStream::new("request-id"));
        for piece in body.as_bytes().chunks(split.max(1)) {
            d.feed(piece)?;
        }
        d.finish(&raw(200, &[("request-id", "req_1")], ""))
    }

    #[test]
    fn documented_stream_assembles_at_any_split() {
        let body = fixture("anthropic", "messages_stream.sse");
        for split in [1, 13, body.len()] {
            let r = decode(&body, split).unwrap();
            assert_eq!(r.text, "Paris");
            assert_eq!(r.finish, FinishReason::Stop);
            assert_eq!(r.finish_raw, "end_turn");
            assert_eq!(r.usage.input, Some(19));
            assert_eq!(r.usage.output, Some(4), "message_delta's cumulative count");
            assert_eq!(r.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
            assert_eq!(r.request_id.as_deref(), Some("req_1"));
        }
    }

    #[test]
    fn streamed_tool_use_equals_the_non_streamed_answer() {
        let streamed = decode(&fixture("anthropic", "messages_stream_tool_use.sse"), 6).unwrap();
        let whole = parse_message(
            &raw(
                200,
                &[("request-id", "req_1")],
                &fixture("anthropic", "messages_tool_use.json"),
            ),
            "request-id",
        )
        .unwrap();
        assert_eq!(streamed, whole);
    }

    #[test]
    fn error_event_is_classified_and_a_missing_stop_is_an_error() {
        let e = decode(&fixture("anthropic", "messages_stream_error.sse"), 10).unwrap_err();
        assert_eq!(e.class, ErrorClass::Overloaded);
        assert!(e.is_retryable());
        assert_eq!(e.code.as_deref(), Some("overloaded_error"));
        let body = fixture("anthropic", "messages_stream.sse");
        let cut = &body[..body.find("event: message_stop").unwrap()];
        let e = decode(cut, 10).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
        assert!(e.message.contains("message_stop"), "{}", e.message);
    }
}
