//! Streamed answers, still without I/O: the runner feeds a [`StreamDecoder`] the body's bytes
//! as they arrive and asks it, at the end, for the assembled [`Response`].
//!
//! ```text
//!  bytes ─► framer ─────────────► vendor decoder ─────────────► Assembly ─► Response
//!           SseFramer (SSE)        openai/stream.rs (chat chunks)   text, refusal,
//!           LineFramer (NDJSON)    anthropic/stream.rs (events)     tool-call deltas,
//!           EventStreamFramer      gemini/stream.rs (chunks)        finish, usage, ids
//!           (AWS event stream)     ollama.rs, bedrock/stream.rs
//! ```
//!
//! - **Framers** (here) cut bytes into the vendor's units: SSE events (`event:` / `data:`
//!   fields, any line ending), NDJSON lines, AWS event-stream messages (decoded, CRCs checked,
//!   by `aws-smithy-eventstream`). A unit may arrive split across any number of reads.
//! - **Vendor decoders** (one per protocol, in the vendor's module) read each unit's JSON and
//!   push deltas into an [`Assembly`]; an in-stream error event becomes a classified
//!   [`ProviderError`] (an `overloaded_error` is retried like a 529).
//! - **[`Assembly`]** is the one place deltas become an answer: text and refusal pieces are
//!   appended, tool calls are keyed by the vendor's index and their argument fragments joined,
//!   then parsed as the non-streamed parsers parse whole arguments. A streamed answer therefore
//!   equals the non-streamed answer for the same content (the providers' tests check it on the
//!   documented fixtures).
//! - **The terminal event** each vendor defines (`data: [DONE]`, `message_stop`, a chunk with
//!   `finishReason`, `"done": true`, `messageStop` + `metadata`) must arrive: a stream that ends
//!   without it is a `protocol` error, never a silently shortened answer.
//!
//! Time to first token is measured by the runner: the first read after which
//! [`StreamDecoder::content_started`] is true.

use bytes::{Buf as _, BytesMut};
use serde_json::Value;

use super::{ErrorClass, ProviderError, Response, wire::RawResponse};
use crate::suite::tools::ToolCall;

/// Decodes one streamed answer. Pure: fed bytes, returns data; the runner does the I/O.
pub trait StreamDecoder: Send {
    /// Feeds the next bytes of the body (any split). An error (an in-stream error event, a
    /// unit that is not the vendor's format) ends the stream.
    fn feed(&mut self, bytes: &[u8]) -> Result<(), ProviderError>;

    /// Whether a content delta (text, refusal or tool call) has arrived: the first token.
    fn content_started(&self) -> bool;

    /// The body ended cleanly. `head` holds the status and headers (request ids). The
    /// assembled answer, or an error when the vendor's terminal event never came.
    fn finish(self: Box<Self>, head: &RawResponse) -> Result<Response, ProviderError>;
}

/// Largest unit (SSE event, NDJSON line, event-stream message) accepted, so a server that
/// never ends a line cannot grow memory without bound.
pub const MAX_UNIT_BYTES: usize = 16 * 1024 * 1024;

fn unit_too_large() -> ProviderError {
    ProviderError::protocol(format!(
        "a streamed event is larger than {} MB without ending",
        MAX_UNIT_BYTES / (1024 * 1024)
    ))
}

/// The error for a stream that ended without its terminal event.
pub fn unterminated(what: &str) -> ProviderError {
    ProviderError::protocol(format!(
        "the stream ended without {what}: the answer is incomplete"
    ))
}

// ---- framers --------------------------------------------------------------------------------

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field (`None`: the default `message`).
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// What an SSE body yields: events, and lines that are not SSE fields but a bare JSON value
/// (Gemini sends an error after the stream started that way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event.
    Event(SseEvent),
    /// A line starting with `{` or `[`.
    Bare(String),
}

/// Cuts an SSE body (the WHATWG event-stream format: `\n`, `\r\n` or `\r` line ends, `:`
/// comments, one optional space after the colon, events dispatched on a blank line) into
/// [`SseItem`]s.
#[derive(Debug, Default)]
pub struct SseFramer {
    lines: LineFramer,
    event: Option<String>,
    data: Option<String>,
}

impl SseFramer {
    /// Feeds bytes; returns the items they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseItem>, ProviderError> {
        let mut out = Vec::new();
        for line in self.lines.feed(bytes)? {
            self.line(&line, &mut out);
        }
        Ok(out)
    }

    /// The body ended: a last event not followed by a blank line is dispatched too.
    pub fn finish(&mut self) -> Vec<SseItem> {
        let mut out = Vec::new();
        if let Some(line) = self.lines.finish() {
            self.line(&line, &mut out);
        }
        self.dispatch(&mut out);
        out
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseItem>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        if line.starts_with('{') || line.starts_with('[') {
            out.push(SseItem::Bare(line.to_string()));
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            // `id`, `retry` and unknown fields change nothing for one answer.
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            out.push(SseItem::Event(SseEvent { event, data }));
        }
    }
}

/// Cuts bytes into lines (`\n`, `\r\n` or a lone `\r`), decoded as UTF-8 (invalid bytes
/// become U+FFFD, as a browser's event source does).
#[derive(Debug, Default)]
pub struct LineFramer {
    buf: Vec<u8>,
    /// The previous read ended on `\r`: a `\n` starting this one belongs to it.
    after_cr: bool,
}

impl LineFramer {
    /// Feeds bytes; returns the lines they completed, without their line ends.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, ProviderError> {
        let mut out = Vec::new();
        let mut bytes = bytes;
        if self.after_cr && bytes.first() == Some(&b'\n') {
            bytes = &bytes[1..];
        }
        self.after_cr = false;
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' | b'\r' => {
                    self.buf.extend_from_slice(&bytes[start..i]);
                    out.push(String::from_utf8_lossy(&self.buf).into_owned());
                    self.buf.clear();
                    if bytes[i] == b'\r' {
                        if i + 1 == bytes.len() {
                            self.after_cr = true;
                        } else if bytes[i + 1] == b'\n' {
                            i += 1;
                        }
                    }
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        self.buf.extend_from_slice(&bytes[start..]);
        if self.buf.len() > MAX_UNIT_BYTES {
            return Err(unit_too_large());
        }
        Ok(out)
    }

    /// The text after the last line end, if any.
    pub fn finish(&mut self) -> Option<String> {
        if self.buf.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        Some(line)
    }
}

/// One AWS event-stream message, with its string headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    /// Headers with string values (`:message-type`, `:event-type`, `:exception-type`…).
    pub headers: Vec<(String, String)>,
    /// The payload (JSON for Bedrock).
    pub payload: Vec<u8>,
}

impl EventMessage {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Cuts an `application/vnd.amazon.eventstream` body into messages with
/// `aws-smithy-eventstream` (the AWS SDK's own decoder: lengths and both CRC-32s checked).
#[derive(Debug, Default)]
pub struct EventStreamFramer {
    buf: BytesMut,
    decoder: aws_smithy_eventstream::frame::MessageFrameDecoder,
}

impl EventStreamFramer {
    /// Feeds bytes; returns the messages they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<EventMessage>, ProviderError> {
        use aws_smithy_eventstream::frame::DecodedFrame;
        use aws_smithy_types::event_stream::HeaderValue;
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            let frame = self.decoder.decode_frame(&mut self.buf).map_err(|e| {
                ProviderError::protocol(format!("the event stream is not well-formed: {e}"))
            })?;
            let DecodedFrame::Complete(message) = frame else {
                break;
            };
            let headers = message
                .headers()
                .iter()
                .filter_map(|h| match h.value() {
                    HeaderValue::String(s) => {
                        Some((h.name().as_str().to_string(), s.as_str().to_string()))
                    }
                    _ => None,
                })
                .collect();
            out.push(EventMessage {
                headers,
                payload: message.payload().to_vec(),
            });
        }
        if self.buf.remaining() > MAX_UNIT_BYTES {
            return Err(unit_too_large());
        }
        Ok(out)
    }

    /// Bytes left over that do not make a whole message.
    pub fn leftover(&self) -> usize {
        self.buf.remaining()
    }
}

/// A unit's JSON, or a protocol error naming the vendor.
pub fn parse_json(text: &str, vendor: &str) -> Result<Value, ProviderError> {
    serde_json::from_str(text).map_err(|e| {
        ProviderError::protocol(format!(
            "a streamed {vendor} event is not valid JSON ({e}): {}",
            super::wire::body_excerpt(text)
        ))
    })
}

// ---- assembly -------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct ToolDraft {
    key: u64,
    id: Value,
    name: Value,
    args_text: String,
    args_value: Option<Value>,
}

/// The answer being assembled from a stream's deltas: the shared target of every vendor
/// decoder (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Assembly {
    /// Text so far.
    pub text: String,
    /// Refusal text so far (OpenAI `delta.refusal`).
    pub refusal: Option<String>,
    tools: Vec<ToolDraft>,
    /// The vendor's finish value, once sent.
    pub finish_raw: Option<String>,
    /// Model the server reports.
    pub model: Option<String>,
    /// Response id from the body.
    pub response_id: Option<String>,
    /// Server-side latency, when the vendor reports one.
    pub server_latency_ms: Option<u64>,
    /// The terminal event arrived.
    pub terminated: bool,
    content: bool,
}

impl Assembly {
    /// Appends text.
    pub fn push_text(&mut self, s: &str) {
        if !s.is_empty() {
            self.content = true;
            self.text.push_str(s);
        }
    }

    /// Appends refusal text.
    pub fn push_refusal(&mut self, s: &str) {
        if !s.is_empty() {
            self.content = true;
            self.refusal.get_or_insert_with(String::new).push_str(s);
        }
    }

    fn draft(&mut self, key: u64) -> &mut ToolDraft {
        self.content = true;
        match self.tools.iter().position(|t| t.key == key) {
            Some(i) => &mut self.tools[i],
            None => {
                self.tools.push(ToolDraft {
                    key,
                    ..ToolDraft::default()
                });
                self.tools.last_mut().expect("just pushed")
            }
        }
    }

    /// A tool call starts (or gets its id / name) at the vendor's index `key`.
    pub fn tool_start(&mut self, key: u64, id: Option<&Value>, name: Option<&Value>) {
        let d = self.draft(key);
        if let Some(id) = id.filter(|v| !v.is_null()) {
            d.id = id.clone();
        }
        if let Some(name) = name.filter(|v| !v.is_null()) {
            d.name = name.clone();
        }
    }

    /// A fragment of a tool call's arguments, as JSON text.
    pub fn tool_args_fragment(&mut self, key: u64, fragment: &str) {
        self.draft(key).args_text.push_str(fragment);
    }

    /// A tool call's whole arguments value (Gemini, Ollama send complete calls).
    pub fn tool_args_value(&mut self, key: u64, value: Value) {
        self.draft(key).args_value = Some(value);
    }

    /// Tool calls started so far.
    pub fn tool_count(&self) -> usize {
        self.tools.len()
    }

    /// The tool calls in order of first appearance, read as the non-streamed parsers read
    /// them: a whole arguments value (Gemini, Ollama) as it is, argument text through
    /// [`ToolCall::from_json_text`] (no text = no arguments; text that is not JSON is kept as
    /// `raw_arguments`).
    pub fn tool_calls(&self) -> Vec<ToolCall> {
        self.tools
            .iter()
            .map(|t| {
                let id = t.id.as_str().map(str::to_string);
                let name = t.name.as_str().unwrap_or_default();
                match &t.args_value {
                    Some(v) => ToolCall::from_value(id, name, v.clone()),
                    None => ToolCall::from_json_text(id, name, &t.args_text),
                }
            })
            .collect()
    }

    /// Whether any content delta arrived.
    pub fn content_started(&self) -> bool {
        self.content
    }
}

/// An in-stream error: the status was 200, so the class comes from the vendor's error type.
pub fn stream_error(class: ErrorClass, code: Option<String>, message: String) -> ProviderError {
    let mut e = ProviderError::new(class, format!("error inside the stream: {message}"));
    e.code = code;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn events(items: Vec<SseItem>) -> Vec<(Option<String>, String)> {
        items
            .into_iter()
            .map(|i| match i {
                SseItem::Event(e) => (e.event, e.data),
                SseItem::Bare(b) => (Some("bare".into()), b),
            })
            .collect()
    }

    #[test]
    fn sse_framer_handles_any_split_and_line_end() {
        let body = "event: a\r\ndata: 1\r\n\r\n: comment\ndata:2\ndata: 3\n\nevent: b\rdata: {\"x\":1}\r\r{\"error\":1}\n";
        let want = vec![
            (Some("a".to_string()), "1".to_string()),
            (None, "2\n3".to_string()),
            (Some("b".to_string()), "{\"x\":1}".to_string()),
            (Some("bare".to_string()), "{\"error\":1}".to_string()),
        ];
        // Whole, and cut at every byte.
        for cut in 0..=body.len() {
            let mut f = SseFramer::default();
            let mut got = events(f.feed(&body.as_bytes()[..cut]).unwrap());
            got.extend(events(f.feed(&body.as_bytes()[cut..]).unwrap()));
            got.extend(events(f.finish()));
            assert_eq!(got, want, "cut at {cut}");
        }
        // One byte at a time.
        let mut f = SseFramer::default();
        let mut got = Vec::new();
        for b in body.as_bytes() {
            got.extend(events(f.feed(std::slice::from_ref(b)).unwrap()));
        }
        got.extend(events(f.finish()));
        assert_eq!(got, want);
    }

    #[test]
    fn sse_last_event_without_blank_line_is_dispatched_at_the_end() {
        let mut f = SseFramer::default();
        assert!(f.feed(b"data: x").unwrap().is_empty());
        assert_eq!(
            events(f.finish()),
            vec![(None, "x".to_string())],
            "an unterminated last event still counts"
        );
    }

    #[test]
    fn line_framer_keeps_utf8_split_across_reads() {
        let text = "é€\n{\"a\":\"ü\"}\n";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut f = LineFramer::default();
            let mut got = f.feed(&bytes[..cut]).unwrap();
            got.extend(f.feed(&bytes[cut..]).unwrap());
            assert_eq!(got, vec!["é€", "{\"a\":\"ü\"}"], "cut at {cut}");
            assert_eq!(f.finish(), None);
        }
    }

    #[test]
    fn event_stream_framer_checks_crcs_and_waits_for_whole_messages() {
        use aws_smithy_eventstream::frame::write_message_to;
        use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
        let msg = |t: &str, p: &str| {
            let m = Message::new(p.as_bytes().to_vec())
                .add_header(Header::new(
                    ":message-type",
                    HeaderValue::String("event".into()),
                ))
                .add_header(Header::new(
                    ":event-type",
                    HeaderValue::String(t.to_string().into()),
                ));
            let mut out = Vec::new();
            write_message_to(&m, &mut out).unwrap();
            out
        };
        let mut body = msg("messageStart", r#"{"role":"assistant"}"#);
        body.extend(msg("messageStop", r#"{"stopReason":"end_turn"}"#));
        for cut in 0..=body.len() {
            let mut f = EventStreamFramer::default();
            let mut got = f.feed(&body[..cut]).unwrap();
            got.extend(f.feed(&body[cut..]).unwrap());
            assert_eq!(got.len(), 2, "cut at {cut}");
            assert_eq!(got[0].header(":event-type"), Some("messageStart"));
            assert_eq!(got[1].payload, br#"{"stopReason":"end_turn"}"#);
            assert_eq!(f.leftover(), 0);
        }
        let mut bad = body.clone();
        bad[20] ^= 1;
        let e = EventStreamFramer::default().feed(&bad).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
    }

    #[test]
    fn assembly_joins_tool_fragments_by_index() {
        let mut a = Assembly::default();
        assert!(!a.content_started());
        a.tool_start(1, Some(&json!("c2")), Some(&json!("g")));
        a.tool_start(0, Some(&json!("c1")), Some(&json!("f")));
        a.tool_args_fragment(0, "{\"a\":");
        a.tool_args_fragment(1, "not json");
        a.tool_args_fragment(0, "1}");
        assert!(a.content_started());
        let calls = a.tool_calls();
        assert_eq!(
            (calls[0].id.as_deref(), calls[0].name.as_str()),
            (Some("c2"), "g")
        );
        assert_eq!(calls[0].arguments, Value::Null);
        assert_eq!(calls[0].raw_arguments.as_deref(), Some("not json"));
        assert_eq!(
            (calls[1].id.as_deref(), calls[1].name.as_str()),
            (Some("c1"), "f")
        );
        assert_eq!(calls[1].arguments, json!({"a": 1}));
        let mut b = Assembly::default();
        b.tool_start(0, Some(&json!("t")), Some(&json!("f")));
        assert_eq!(b.tool_calls()[0].arguments, json!({}));
    }
}
