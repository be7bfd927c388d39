//! ConverseStream (`POST /model/{id}/converse-stream`): an
//! `application/vnd.amazon.eventstream` body of binary messages (PROTOCOLS.md §4.3), framed
//! and CRC-checked by [`EventStreamFramer`]. Messages with `:message-type: event` are named
//! by `:event-type`: `messageStart` {role} → `contentBlockStart` {contentBlockIndex,
//! start.toolUse{toolUseId, name}} → `contentBlockDelta` {contentBlockIndex, delta.text |
//! delta.toolUse.input (a JSON fragment) | delta.reasoningContent} → `contentBlockStop` →
//! `messageStop` {stopReason} → `metadata` {usage, metrics.latencyMs}, the last event. An
//! `exception` message names its shape in `:exception-type` (`throttlingException`,
//! `modelStreamErrorException`…, classified as the same shapes are in error statuses); an
//! `error` message carries `:error-code` and `:error-message`.

use serde_json::Value;

use super::super::stream::{
    Assembly, EventMessage, EventStreamFramer, StreamDecoder, parse_json, stream_error,
    unterminated,
};
use super::super::{ProviderError, Response, Usage};
use super::{class_for_shape, finish_reason, usage_of};
use crate::provider::wire::RawResponse;

/// Decodes a ConverseStream answer.
#[derive(Debug, Default)]
pub struct ConverseStream {
    frames: EventStreamFramer,
    answer: Assembly,
    usage: Option<Usage>,
    metadata: bool,
}

/// `throttlingException` → `ThrottlingException`.
fn shape_name(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

impl ConverseStream {
    fn message(&mut self, m: &EventMessage) -> Result<(), ProviderError> {
        let payload = String::from_utf8_lossy(&m.payload);
        match m.header(":message-type") {
            Some("exception") => {
                let shape = shape_name(m.header(":exception-type").unwrap_or("exception"));
                let v: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
                let message = ["message", "Message", "errorMessage"]
                    .iter()
                    .find_map(|k| v.get(*k).and_then(Value::as_str))
                    .map_or_else(|| payload.to_string(), str::to_string);
                return Err(stream_error(
                    class_for_shape(&shape, 200),
                    Some(shape),
                    message,
                ));
            }
            Some("error") => {
                let code = m.header(":error-code").unwrap_or("error").to_string();
                let message = m.header(":error-message").unwrap_or("").to_string();
                return Err(stream_error(
                    class_for_shape(&code, 200),
                    Some(code),
                    message,
                ));
            }
            _ => {}
        }
        let v = parse_json(&payload, "Bedrock ConverseStream")?;
        let index = v
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match m.header(":event-type").unwrap_or("") {
            "contentBlockStart" => {
                if let Some(t) = v.pointer("/start/toolUse") {
                    self.answer
                        .tool_start(index, t.get("toolUseId"), t.get("name"));
                }
            }
            "contentBlockDelta" => {
                let delta = v.get("delta");
                if let Some(t) = delta.and_then(|d| d.get("text")).and_then(Value::as_str) {
                    self.answer.push_text(t);
                }
                if let Some(input) = delta
                    .and_then(|d| d.pointer("/toolUse/input"))
                    .and_then(Value::as_str)
                {
                    self.answer.tool_args_fragment(index, input);
                }
            }
            "messageStop" => {
                if let Some(r) = v.get("stopReason").and_then(Value::as_str) {
                    self.answer.finish_raw = Some(r.to_string());
                }
            }
            "metadata" => {
                self.metadata = true;
                self.usage = v.get("usage").map(usage_of);
                self.answer.server_latency_ms =
                    v.pointer("/metrics/latencyMs").and_then(Value::as_u64);
            }
            // `messageStart`, `contentBlockStop`, and event types added later.
            _ => {}
        }
        Ok(())
    }
}

impl StreamDecoder for ConverseStream {
    fn feed(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
        for m in self.frames.feed(bytes)? {
            self.message(&m)?;
        }
        Ok(())
    }

    fn content_started(&self) -> bool {
        self.answer.content_started()
    }

    fn finish(self: Box<Self>, head: &RawResponse) -> Result<Response, ProviderError> {
        if self.frames.leftover() > 0 {
            return Err(unterminated(
                "a whole last event (it stops inside an event-stream message)",
            ));
        }
        let Some(finish_raw) = self.answer.finish_raw.clone() else {
            return Err(unterminated("`messageStop`"));
        };
        if !self.metadata {
            return Err(unterminated("the `metadata` event"));
        }
        let a = self.answer;
        Ok(Response {
            tool_calls: a.tool_calls(),
            text: a.text,
            finish: finish_reason(&finish_raw),
            finish_raw,
            refusal: None,
            usage: self.usage.unwrap_or_default(),
            // Converse does not echo the model.
            model: None,
            response_id: None,
            request_id: head.header("x-amzn-requestid").map(str::to_string),
            server_latency_ms: a.server_latency_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::bedrock::parse_converse;
    use crate::provider::test_support::raw;
    use crate::provider::{ErrorClass, FinishReason};
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::{Header, HeaderValue, Message};

    fn frame(kind: &str, name: &str, payload: &str) -> Vec<u8> {
        let (type_header, message_type) = match kind {
            "event" => (":event-type", "event"),
            _ => (":exception-type", "exception"),
        };
        let m = Message::new(payload.as_bytes().to_vec())
            .add_header(Header::new(
                type_header,
                HeaderValue::String(name.to_string().into()),
            ))
            .add_header(Header::new(
                ":content-type",
                HeaderValue::String("application/json".into()),
            ))
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String(message_type.into()),
            ));
        let mut out = Vec::new();
        write_message_to(&m, &mut out).unwrap();
        out
    }

    fn events(list: &[(&str, &str)]) -> Vec<u8> {
        list.iter()
            .flat_map(|(n, p)| frame("event", n, p))
            .collect()
    }

    fn decode(body: &[u8], split: usize) -> Result<Response, ProviderError> {
        let mut d: Box<dyn StreamDecoder> = Box::<ConverseStream>::default();
        for piece in body.chunks(split.max(1)) {
            d.feed(piece)?;
        }
        d.finish(&raw(200, &[("x-amzn-requestid", "r-1")], ""))
    }

    /// `converse_stream_tool_use.events.json` (the documented tool-use answer,
    /// `converse_tool_use.json`, as ConverseStream events), framed by the AWS crate.
    fn tool_use_stream() -> Vec<u8> {
        let list: Vec<serde_json::Value> =
            serde_json::from_str(&crate::provider::test_support::fixture(
                "bedrock",
                "converse_stream_tool_use.events.json",
            ))
            .unwrap();
        list.iter()
            .flat_map(|e| {
                frame(
                    "event",
                    e["event"].as_str().unwrap(),
                    &e["payload"].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn streamed_tool_use_equals_the_non_streamed_answer() {
        let whole = parse_converse(&raw(
            200,
            &[("x-amzn-requestid", "r-1")],
            &crate::provider::test_support::fixture("bedrock", "converse_tool_use.json"),
        ))
        .unwrap();
        let body = tool_use_stream();
        for split in [1, 29, body.len()] {
            assert_eq!(decode(&body, split).unwrap(), whole, "split {split}");
        }
        assert_eq!(whole.finish, FinishReason::ToolCalls);
    }

    #[test]
    fn exceptions_are_classified_and_missing_events_are_errors() {
        let mut body = events(&[
            ("messageStart", r#"{"role":"assistant"}"#),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"Pa"}}"#,
            ),
        ]);
        let unfinished = body.clone();
        body.extend(frame(
            "exception",
            "throttlingException",
            r#"{"message":"Too many requests, please wait before trying again."}"#,
        ));
        let e = decode(&body, 7).unwrap_err();
        assert_eq!(e.class, ErrorClass::RateLimited);
        assert_eq!(e.code.as_deref(), Some("ThrottlingException"));
        let e = decode(&unfinished, 7).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
        assert!(e.message.contains("messageStop"), "{}", e.message);
        let mut no_metadata = unfinished.clone();
        no_metadata.extend(events(&[("messageStop", r#"{"stopReason":"end_turn"}"#)]));
        let e = decode(&no_metadata, 7).unwrap_err();
        assert!(e.message.contains("metadata"), "{}", e.message);
        let half = &unfinished[..unfinished.len() - 3];
        let e = decode(half, 7).unwrap_err();
        assert!(
            e.message.contains("inside an event-stream message"),
            "{}",
            e.message
        );
    }
}
