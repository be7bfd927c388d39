//! Streamed chat completions (`"stream": true`): SSE `data:` events without names, each a
//! `chat.completion.chunk`, then `data: [DONE]` (PROTOCOLS.md §1.1).
//!
//! Per chunk: `choices[0].delta` carries `content`, `refusal` and `tool_calls` pieces
//! (`index` keys a call; `id` and `function.name` come once, `function.arguments` in
//! fragments); `finish_reason` arrives on the last content chunk. With
//! `stream_options.include_usage` a final chunk with empty `choices` carries `usage`. Azure
//! may open with a chunk holding only `prompt_filter_results` (empty `choices`, empty `id`).
//! A chunk with an `error` key is a failure inside the stream.

use serde_json::Value;

use super::super::stream::{
    Assembly, SseFramer, SseItem, StreamDecoder, parse_json, stream_error, unterminated,
};
use super::super::{ErrorClass, FinishReason, ProviderError, Response, Usage};
use super::{error_fields, finish_reason, usage_of};
use crate::provider::wire::RawResponse;

/// Decodes a streamed chat completion (OpenAI, Azure OpenAI, compatible servers).
#[derive(Debug)]
pub struct ChatStream {
    sse: SseFramer,
    answer: Assembly,
    usage: Option<Usage>,
    request_id_headers: &'static [&'static str],
}

impl ChatStream {
    /// A decoder; `request_id_headers` name the headers holding the request id, first
    /// found wins.
    pub fn new(request_id_headers: &'static [&'static str]) -> Self {
        ChatStream {
            sse: SseFramer::default(),
            answer: Assembly::default(),
            usage: None,
            request_id_headers,
        }
    }

    fn item(&mut self, item: SseItem) -> Result<(), ProviderError> {
        let data = match item {
            SseItem::Event(e) => e.data,
            SseItem::Bare(line) => line,
        };
        if self.answer.terminated {
            return Ok(());
        }
        if data.trim() == "[DONE]" {
            self.answer.terminated = true;
            return Ok(());
        }
        let chunk = parse_json(&data, "chat-completions")?;
        self.chunk(&chunk)
    }

    fn chunk(&mut self, chunk: &Value) -> Result<(), ProviderError> {
        if let Some(err) = chunk.get("error").filter(|e| !e.is_null()) {
            let (hint, code, message) = error_fields(err);
            return Err(stream_error(
                hint.unwrap_or(ErrorClass::Server),
                code,
                message,
            ));
        }
        let text = |k: &str| {
            chunk
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(id) = text("id") {
            self.answer.response_id = Some(id);
        }
        if let Some(m) = text("model") {
            self.answer.model = Some(m);
        }
        if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage_of(u));
        }
        let choices = chunk.get("choices").and_then(Value::as_array);
        // The first choice only, as the non-streamed parser reads `choices[0]`.
        let first = choices.and_then(|c| {
            c.iter()
                .find(|ch| ch.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        });
        if let Some(choice) = first {
            self.choice(choice);
        }
        Ok(())
    }

    fn choice(&mut self, choice: &Value) {
        if let Some(delta) = choice.get("delta") {
            if let Some(t) = delta.get("content").and_then(Value::as_str) {
                self.answer.push_text(t);
            }
            if let Some(r) = delta.get("refusal").and_then(Value::as_str) {
                self.answer.push_refusal(r);
            }
            for (pos, call) in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let key = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .unwrap_or(pos as u64);
                let f = call.get("function");
                self.answer
                    .tool_start(key, call.get("id"), f.and_then(|f| f.get("name")));
                if let Some(args) = f.and_then(|f| f.get("arguments")).and_then(Value::as_str) {
                    self.answer.tool_args_fragment(key, args);
                }
            }
        }
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            self.answer.finish_raw = Some(f.to_string());
        }
    }
}

impl StreamDecoder for ChatStream {
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
            return Err(unterminated("`data: [DONE]`"));
        }
        let a = self.answer;
        let finish_raw = a.finish_raw.clone().unwrap_or_default();
        let finish = if a.refusal.is_some() {
            FinishReason::ContentFilter
        } else {
            finish_reason(&finish_raw)
        };
        Ok(Response {
            tool_calls: a.tool_calls(),
            text: a.text,
            finish,
            finish_raw,
            refusal: a.refusal,
            usage: self.usage.unwrap_or_default(),
            model: a.model,
            response_id: a.response_id,
            request_id: self
                .request_id_headers
                .iter()
                .find_map(|h| head.header(h))
                .map(str::to_string),
            server_latency_ms: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::openai::parse_chat_completion;
    use crate::provider::test_support::{fixture, raw};

    fn decode(body: &str, split: usize) -> Result<Response, ProviderError> {
        let mut d: Box<dyn StreamDecoder> = Box::new(ChatStream::new(&["x-request-id"]));
        for piece in body.as_bytes().chunks(split.max(1)) {
            d.feed(piece)?;
        }
        d.finish(&raw(200, &[("x-request-id", "req_s")], ""))
    }

    #[test]
    fn documented_stream_assembles_at_any_split() {
        let body = fixture("openai", "chat_stream.sse");
        for split in [1, 7, 64, body.len()] {
            let r = decode(&body, split).unwrap();
            assert_eq!(r.text, "Paris");
            assert_eq!(r.finish, FinishReason::Stop);
            assert_eq!(r.usage.input, Some(21));
            assert_eq!(r.usage.output, Some(2));
            assert_eq!(r.usage.total, Some(23));
            assert_eq!(r.model.as_deref(), Some("gpt-4.1-mini-2025-04-14"));
            assert_eq!(r.response_id.as_deref(), Some("chatcmpl-s1"));
            assert_eq!(r.request_id.as_deref(), Some("req_s"));
        }
    }

    #[test]
    fn streamed_tool_calls_equal_the_non_streamed_answer() {
        let streamed = decode(&fixture("openai", "chat_stream_tool_calls.sse"), 5).unwrap();
        let whole = parse_chat_completion(
            &raw(
                200,
                &[("x-request-id", "req_s")],
                &fixture("openai", "chat_tool_calls.json"),
            ),
            "x-request-id",
        )
        .unwrap();
        assert_eq!(streamed.tool_calls, whole.tool_calls);
        assert_eq!(streamed.finish, FinishReason::ToolCalls);
        assert_eq!(streamed.text, whole.text);
        assert_eq!(streamed.usage.input, whole.usage.input);
        assert_eq!(streamed.usage.output, whole.usage.output);
    }

    #[test]
    fn missing_done_is_an_error_and_error_chunks_are_classified() {
        let body = fixture("openai", "chat_stream.sse").replace("data: [DONE]", "");
        let e = decode(&body, 9).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
        assert!(e.message.contains("[DONE]"), "{}", e.message);
        let cut = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Pa\"}}]}\n\ndata: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n";
        let e = decode(cut, 4).unwrap_err();
        assert_eq!(e.class, ErrorClass::Server);
        assert!(e.is_retryable());
        assert!(
            e.message.contains("The server had an error"),
            "{}",
            e.message
        );
    }

    #[test]
    fn refusal_deltas_make_a_content_filter_finish() {
        let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\" help.\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        let r = decode(body, 3).unwrap();
        assert_eq!(r.refusal.as_deref(), Some("I can't help."));
        assert_eq!(r.finish, FinishReason::ContentFilter);
        assert_eq!(r.text, "");
    }
}
