//! Streamed `/api/chat` (`"stream": true`, Ollama's default): `application/x-ndjson`, one JSON
//! object per line, each with a `message` piece (`content`, whole `tool_calls`); the last has
//! `"done": true` with `done_reason`, the token counts and the durations (PROTOCOLS.md §6.1).
//! There is no other terminator: a stream without a `done: true` line is incomplete. A
//! failure after the status line is a last line `{"error": "…"}`.

use serde_json::Value;

use super::super::stream::{
    Assembly, LineFramer, StreamDecoder, parse_json, stream_error, unterminated,
};
use super::super::{ErrorClass, ProviderError, Response};
use super::answer;
use crate::provider::tools::ollama_call;
use crate::provider::wire::RawResponse;
use crate::suite::tools::ToolCall;

/// Decodes a streamed Ollama chat answer.
#[derive(Debug, Default)]
pub struct ChatStream {
    lines: LineFramer,
    answer: Assembly,
    tool_calls: Vec<ToolCall>,
    last: Option<Value>,
}

impl ChatStream {
    fn line(&mut self, line: &str) -> Result<(), ProviderError> {
        if line.trim().is_empty() || self.last.is_some() {
            return Ok(());
        }
        let v = parse_json(line, "Ollama")?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            let message = err.as_str().map_or_else(|| err.to_string(), str::to_string);
            return Err(stream_error(ErrorClass::Server, None, message));
        }
        if let Some(m) = v.get("message") {
            if let Some(t) = m.get("content").and_then(Value::as_str) {
                self.answer.push_text(t);
            }
            for c in m
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                // Ollama sends whole calls; the assembly only marks the first token.
                self.answer
                    .tool_start(self.tool_calls.len() as u64, None, None);
                self.tool_calls.push(ollama_call(c));
            }
        }
        if v.get("done").and_then(Value::as_bool) == Some(true) {
            self.last = Some(v);
        }
        Ok(())
    }
}

impl StreamDecoder for ChatStream {
    fn feed(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
        for line in self.lines.feed(bytes)? {
            self.line(&line)?;
        }
        Ok(())
    }

    fn content_started(&self) -> bool {
        self.answer.content_started()
    }

    fn finish(mut self: Box<Self>, _head: &RawResponse) -> Result<Response, ProviderError> {
        if let Some(line) = self.lines.finish() {
            self.line(&line)?;
        }
        let Some(last) = self.last.take() else {
            return Err(unterminated("a line with `\"done\": true`"));
        };
        Ok(answer(
            std::mem::take(&mut self.answer.text),
            std::mem::take(&mut self.tool_calls),
            &last,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::FinishReason;
    use crate::provider::ollama::parse_chat;
    use crate::provider::test_support::{fixture, raw};

    fn decode(body: &str, split: usize) -> Result<Response, ProviderError> {
        let mut d: Box<dyn StreamDecoder> = Box::<ChatStream>::default();
        for piece in body.as_bytes().chunks(split.max(1)) {
            d.feed(piece)?;
        }
        d.finish(&raw(200, &[], ""))
    }

    #[test]
    fn documented_stream_assembles_at_any_split() {
        let body = fixture("ollama", "chat_stream.ndjson");
        for split in [1, 17, body.len()] {
            let r = decode(&body, split).unwrap();
            assert_eq!(r.text, "Paris");
            assert_eq!(r.finish, FinishReason::Stop);
            assert_eq!(r.usage.input, Some(26));
            assert_eq!(r.usage.output, Some(2));
            assert_eq!(r.server_latency_ms, Some(402));
        }
    }

    #[test]
    fn streamed_tool_calls_equal_the_non_streamed_answer() {
        let streamed = decode(&fixture("ollama", "chat_stream_tool_calls.ndjson"), 8).unwrap();
        let whole = parse_chat(
            &raw(200, &[], &fixture("ollama", "chat_tool_calls.json")),
            "m",
        )
        .unwrap();
        assert_eq!(streamed, whole);
    }

    #[test]
    fn error_line_and_missing_done_are_errors() {
        let e = decode(&fixture("ollama", "chat_stream_error.ndjson"), 9).unwrap_err();
        assert_eq!(e.class, ErrorClass::Server);
        assert!(
            e.message.contains("an error was encountered"),
            "{}",
            e.message
        );
        let body = fixture("ollama", "chat_stream.ndjson");
        let cut: String = body.lines().take(2).map(|l| format!("{l}\n")).collect();
        let e = decode(&cut, 9).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
        assert!(e.message.contains("done"), "{}", e.message);
    }
}
