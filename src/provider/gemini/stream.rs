//! Streamed `streamGenerateContent?alt=sse` (Gemini and Vertex AI): `data:` lines, each a
//! partial `GenerateContentResponse` whose first candidate carries the next parts; the last
//! carries `finishReason` and the full `usageMetadata` (PROTOCOLS.md §5.1). There is no
//! terminator event: the chunk with `finishReason` is the terminal one (or a blocked prompt's
//! `promptFeedback.blockReason`). An error after the stream started may arrive as a bare JSON
//! object, not `data:`-prefixed.

use serde_json::Value;

use super::super::stream::{SseFramer, SseItem, StreamDecoder, parse_json, unterminated};
use super::super::{ProviderError, Response};
use super::{Gathered, REQUEST_ID_HEADER, google_error, prompt_blocked};
use crate::provider::wire::RawResponse;

/// Decodes a streamed `generateContent` answer.
#[derive(Debug)]
pub struct GenerateStream {
    sse: SseFramer,
    gathered: Gathered,
    feedback: Option<Value>,
    vendor: &'static str,
}

impl GenerateStream {
    /// A decoder; `vendor` (`Gemini`, `Vertex AI`) names the provider in messages.
    pub fn new(vendor: &'static str) -> Self {
        GenerateStream {
            sse: SseFramer::default(),
            gathered: Gathered::default(),
            feedback: None,
            vendor,
        }
    }

    fn item(&mut self, item: SseItem) -> Result<(), ProviderError> {
        let data = match item {
            SseItem::Event(e) => e.data,
            SseItem::Bare(line) => line,
        };
        let v = match parse_json(&data, self.vendor)? {
            // Errors may come wrapped in an array.
            Value::Array(mut items) if !items.is_empty() => items.remove(0),
            v => v,
        };
        if v.get("error").is_some() {
            let ok = RawResponse {
                status: 200,
                ..RawResponse::default()
            };
            let mut e = google_error(&ok, &v);
            e.message = format!("error inside the stream: {}", e.message);
            return Err(e);
        }
        self.gathered.envelope(&v);
        if let Some(f) = v
            .get("promptFeedback")
            .filter(|f| f.get("blockReason").is_some())
        {
            self.feedback = Some(f.clone());
        }
        if let Some(c) = v
            .get("candidates")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        {
            self.gathered.parts(c);
            self.gathered.candidate_end(c);
        }
        Ok(())
    }
}

impl StreamDecoder for GenerateStream {
    fn feed(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
        for item in self.sse.feed(bytes)? {
            self.item(item)?;
        }
        Ok(())
    }

    fn content_started(&self) -> bool {
        self.gathered.content
    }

    fn finish(mut self: Box<Self>, head: &RawResponse) -> Result<Response, ProviderError> {
        for item in self.sse.finish() {
            self.item(item)?;
        }
        if self.gathered.finish_raw.is_none() {
            return Err(
                prompt_blocked(self.vendor, self.feedback.as_ref()).unwrap_or_else(|| {
                    unterminated("a chunk with `finishReason` (the last chunk of a Gemini stream)")
                }),
            );
        }
        let mut g = self.gathered;
        g.request_id = head.header(REQUEST_ID_HEADER).map(str::to_string);
        g.answer(self.vendor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::gemini::parse_generate;
    use crate::provider::test_support::{fixture, raw};
    use crate::provider::{ErrorClass, FinishReason};

    fn decode(body: &str, split: usize) -> Result<Response, ProviderError> {
        let mut d: Box<dyn StreamDecoder> = Box::new(GenerateStream::new("Gemini"));
        for piece in body.as_bytes().chunks(split.max(1)) {
            d.feed(piece)?;
        }
        d.finish(&raw(200, &[], ""))
    }

    #[test]
    fn documented_stream_assembles_at_any_split() {
        let body = fixture("gemini", "stream.sse");
        for split in [1, 11, body.len()] {
            let r = decode(&body, split).unwrap();
            assert_eq!(r.text, "Paris");
            assert_eq!(r.finish, FinishReason::Stop);
            assert_eq!(r.usage.input, Some(9));
            assert_eq!(r.usage.output, Some(1));
            assert_eq!(r.usage.total, Some(10));
            assert_eq!(r.model.as_deref(), Some("gemini-2.5-flash"));
        }
    }

    #[test]
    fn streamed_function_call_equals_the_non_streamed_answer() {
        let streamed = decode(&fixture("gemini", "stream_function_call.sse"), 7).unwrap();
        let whole = parse_generate(
            &raw(200, &[], &fixture("gemini", "generate_function_call.json")),
            "Gemini",
        )
        .unwrap();
        assert_eq!(streamed, whole);
        assert_eq!(streamed.finish, FinishReason::ToolCalls);
    }

    #[test]
    fn no_finish_reason_is_an_error_and_a_bare_error_object_is_classified() {
        let body = fixture("gemini", "stream.sse");
        let first = &body[..body.find("\r\n\r\n").unwrap() + 4];
        let e = decode(first, 5).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
        assert!(e.message.contains("finishReason"), "{}", e.message);
        let with_error = format!(
            "{first}{}\r\n",
            fixture("gemini", "error_503_unavailable.json").replace('\n', "")
        );
        let e = decode(&with_error, 5).unwrap_err();
        assert_eq!(e.class, ErrorClass::Overloaded);
        assert!(e.is_retryable());
    }

    #[test]
    fn blocked_prompt_in_a_stream_is_a_content_filter_error() {
        let blocked = fixture("gemini", "generate_prompt_blocked.json").replace('\n', "");
        let e = decode(&format!("data: {blocked}\r\n\r\n"), 9).unwrap_err();
        assert_eq!(e.class, ErrorClass::ContentFilter);
    }
}
