//! Streamed answers: OpenAI/Azure/Responses SSE, Anthropic SSE, Gemini SSE and JSON array,
//! Ollama NDJSON (the default), Bedrock event streams.

use promptdrift_mock::{MockServer, Reply, Rule, decode_event_stream};
use serde_json::{Value, json};

use crate::support::*;

#[test]
fn openai_sse_ends_with_done() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris is nice")));
    let mut body = chat_body("gpt-4.1-mini", "x");
    body["stream"] = true.into();
    body["stream_options"] = json!({"include_usage": true});
    let r = post(&format!("{}/v1/chat/completions", mock.url()), &[], &body);
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert!(
        r.header("transfer-encoding")
            .is_some_and(|v| v == "chunked")
    );
    let ev = sse_events(&r.text());
    assert!(ev.iter().all(|(name, _)| name.is_none()), "no event names");
    assert_eq!(ev.last().unwrap().1, "[DONE]");
    let chunks: Vec<Value> = ev[..ev.len() - 1]
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Paris is nice");
    let finish: Vec<&Value> = chunks
        .iter()
        .map(|c| &c["choices"][0]["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finish, [&json!("stop")]);
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["total_tokens"].is_u64());
    assert!(chunks[0]["usage"].is_null());
}

#[test]
fn azure_stream_starts_with_filter_results() {
    let mock = MockServer::start();
    let r = post(
        &format!(
            "{}/openai/deployments/d/chat/completions?api-version=2024-10-21",
            mock.url()
        ),
        &[("api-key", "k")],
        &json!({"stream": true, "messages": [{"role": "user", "content": "x"}]}),
    );
    let ev = sse_events(&r.text());
    let first: Value = serde_json::from_str(&ev[0].1).unwrap();
    assert_eq!(first["choices"], json!([]));
    assert!(first["prompt_filter_results"].is_array());
    assert_eq!(ev.last().unwrap().1, "[DONE]");
}

#[test]
fn anthropic_sse_ends_with_message_stop() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris").tool_call("f", json!({"a": 1}))));
    let mut body = anthropic_body("claude-sonnet-4-5", "x");
    body["stream"] = true.into();
    let r = post(
        &format!("{}/v1/messages", mock.url()),
        ANTHROPIC_HEADERS,
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let ev = sse_events(&r.text());
    let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    assert_eq!(names[0], "message_start");
    assert_eq!(*names.last().unwrap(), "message_stop");
    for (name, data) in &ev {
        let d: Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            d["type"],
            name.as_deref().unwrap(),
            "data.type matches event name"
        );
    }
    let text: String = ev
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter(|d| d["delta"]["type"] == "text_delta")
        .map(|d| d["delta"]["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(text, "Paris");
    let json_delta: Value = ev
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .find(|d| d["delta"]["type"] == "input_json_delta")
        .unwrap();
    assert_eq!(json_delta["delta"]["partial_json"], r#"{"a":1}"#);
    let delta: Value = serde_json::from_str(&ev[ev.len() - 2].1).unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert!(delta["usage"]["output_tokens"].is_u64());
}

#[test]
fn gemini_sse_and_array() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris is nice")));
    let base = format!(
        "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        mock.url()
    );
    let r = post(
        &format!("{base}?alt=sse"),
        &[("x-goog-api-key", "k")],
        &gemini_body("x"),
    );
    assert_eq!(r.status, 200);
    assert!(r.text().contains("\r\n\r\n"));
    let chunks: Vec<Value> = sse_events(&r.text())
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
        .collect();
    assert_eq!(text, "Paris is nice");
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(last["usageMetadata"]["candidatesTokenCount"].is_u64());
    assert!(mock.requests()[0].stream);

    let r = post(&base, &[("x-goog-api-key", "k")], &gemini_body("x"));
    let arr = r.json();
    assert_eq!(arr.as_array().unwrap().len(), chunks.len());
}

#[test]
fn ollama_streams_by_default() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris is nice")));
    let r = post(
        &format!("{}/api/chat", mock.url()),
        &[],
        &json!({"model": "llama3.2", "messages": [{"role": "user", "content": "x"}]}),
    );
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let text: String = lines
        .iter()
        .filter_map(|l| l["message"]["content"].as_str())
        .collect();
    assert_eq!(text, "Paris is nice");
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert!(last["eval_count"].is_u64());
    assert!(lines[..lines.len() - 1].iter().all(|l| l["done"] == false));
    // generate streams `response` pieces.
    let r = post(
        &format!("{}/api/generate", mock.url()),
        &[],
        &json!({"model": "llama3.2", "prompt": "x"}),
    );
    let text: String = r
        .text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|l| l["response"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text, "Paris is nice");
}

#[test]
fn bedrock_converse_stream_frames() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris is nice")));
    let c = creds();
    mock.expect_aws_credentials(c.clone());
    let r = bedrock_post(
        &mock,
        &c,
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream",
        &converse_body("x"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.amazon.eventstream")
    );
    let frames = decode_event_stream(&r.body).unwrap();
    let names: Vec<&str> = frames.iter().map(|f| f.event_type().unwrap()).collect();
    assert_eq!(names.first(), Some(&"messageStart"));
    assert_eq!(names.last(), Some(&"metadata"));
    assert!(names.contains(&"messageStop"));
    assert!(
        frames
            .iter()
            .all(|f| f.header(":message-type") == Some("event"))
    );
    let text: String = frames
        .iter()
        .filter_map(|f| serde_json::from_slice::<Value>(&f.payload).ok())
        .filter_map(|p| p["delta"]["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text, "Paris is nice");
    let meta: Value = serde_json::from_slice(&frames.last().unwrap().payload).unwrap();
    assert!(meta["usage"]["totalTokens"].is_u64());
    assert!(meta["metrics"]["latencyMs"].is_u64());
}

#[test]
fn bedrock_invoke_stream_chunks() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris")));
    let c = creds();
    mock.expect_aws_credentials(c.clone());
    let r = bedrock_post(
        &mock,
        &c,
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke-with-response-stream",
        &json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
                "messages": [{"role": "user", "content": "x"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let frames = decode_event_stream(&r.body).unwrap();
    assert!(frames.iter().all(|f| f.event_type() == Some("chunk")));
    let last: Value = serde_json::from_slice(&frames.last().unwrap().payload).unwrap();
    assert!(last["bytes"].is_string());
}

#[test]
fn responses_sse() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris is nice")));
    let r = post(
        &format!("{}/v1/responses", mock.url()),
        &[],
        &json!({"model": "gpt-5.4", "input": "x", "stream": true}),
    );
    let ev = sse_events(&r.text());
    assert_eq!(ev[0].0.as_deref(), Some("response.created"));
    assert_eq!(ev.last().unwrap().0.as_deref(), Some("response.completed"));
    let text: String = ev
        .iter()
        .filter(|(n, _)| n.as_deref() == Some("response.output_text.delta"))
        .map(|(_, d)| {
            serde_json::from_str::<Value>(d).unwrap()["delta"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(text, "Paris is nice");
    for (i, (_, d)) in ev.iter().enumerate() {
        assert_eq!(
            serde_json::from_str::<Value>(d).unwrap()["sequence_number"],
            i
        );
    }
}

#[test]
fn errors_inside_streams() {
    use promptdrift_mock::{ErrorKind, Protocol};
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::stream_error(ErrorKind::Overloaded)));
    let u = mock.url();
    // OpenAI: an error chunk, no [DONE].
    let mut body = chat_body("m", "one two three four");
    body["stream"] = true.into();
    let r = post(&format!("{u}/v1/chat/completions"), &[], &body);
    assert_eq!(r.status, 200);
    let ev = sse_events(&r.text());
    assert!(ev.len() >= 2);
    assert_ne!(ev.last().unwrap().1, "[DONE]");
    let last: Value = serde_json::from_str(&ev.last().unwrap().1).unwrap();
    assert_eq!(last["error"]["type"], "server_error");
    // Anthropic: `event: error` with the overloaded error, no message_stop.
    let mut body = anthropic_body("c", "one two three");
    body["stream"] = true.into();
    let r = post(&format!("{u}/v1/messages"), ANTHROPIC_HEADERS, &body);
    let ev = sse_events(&r.text());
    assert_eq!(ev[0].0.as_deref(), Some("message_start"));
    let (name, data) = ev.last().unwrap();
    assert_eq!(name.as_deref(), Some("error"));
    assert_eq!(
        serde_json::from_str::<Value>(data).unwrap(),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    // Ollama: an {"error"} line last.
    let r = post(
        &format!("{u}/api/chat"),
        &[],
        &json!({"model": "m", "messages": [{"role": "user", "content": "a b c"}]}),
    );
    let last: Value = serde_json::from_str(r.text().lines().last().unwrap()).unwrap();
    assert!(last["error"].is_string());
    // Gemini array mode stays a valid JSON array.
    let r = post(
        &format!("{u}/v1/models/g:streamGenerateContent"),
        &[("x-goog-api-key", "k")],
        &gemini_body("a b c"),
    );
    let arr = r.json();
    assert_eq!(
        arr.as_array().unwrap().last().unwrap()["error"]["status"],
        "UNAVAILABLE"
    );
    // Bedrock: an exception frame.
    let r = bedrock_post(
        &mock,
        &creds(),
        "/model/m/converse-stream",
        &converse_body("a b c"),
    );
    let frames = decode_event_stream(&r.body).unwrap();
    let last = frames.last().unwrap();
    assert_eq!(last.header(":message-type"), Some("exception"));
    assert_eq!(
        last.header(":exception-type"),
        Some("serviceUnavailableException")
    );
    // Not streamed: the plain error.
    assert_eq!(send(&mock, Protocol::OpenAiChat, "x").status, 503);
}

/// Sends `request` raw and returns each read with the time since sending it.
fn timed_reads(addr: std::net::SocketAddr, request: &[u8]) -> Vec<(std::time::Duration, Vec<u8>)> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let sent = std::time::Instant::now();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.push((sent.elapsed(), buf[..n].to_vec()));
                if buf[..n].ends_with(b"0\r\n\r\n") {
                    break;
                }
            }
        }
    }
    out
}

#[test]
fn stream_delays_pace_the_chunks() {
    use std::time::Duration;
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new().reply(
            Reply::text("one two three four five")
                .stream_delays(Duration::from_millis(200), Duration::from_millis(30)),
        ),
    );
    let mut body = chat_body("m", "x");
    body["stream"] = true.into();
    let reads = timed_reads(
        mock.addr(),
        &raw_post(
            "/v1/chat/completions",
            &body,
            "authorization: Bearer sk-test\r\n",
        ),
    );
    let all: Vec<u8> = reads.iter().flat_map(|(_, b)| b.clone()).collect();
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("data: [DONE]"), "{text}");
    // The head comes at once; the first chunk only after the first delay.
    let (head_at, _) = reads[0];
    let first_data = reads
        .iter()
        .find(|(_, b)| String::from_utf8_lossy(b).contains("data: "))
        .unwrap()
        .0;
    assert!(head_at < Duration::from_millis(150), "{head_at:?}");
    assert!(first_data >= Duration::from_millis(200), "{first_data:?}");
    // Role chunk, five words, finish chunk, [DONE]: eight later chunks, 30 ms apart.
    let (last_at, _) = reads.last().unwrap();
    assert!(
        *last_at >= Duration::from_millis(200 + 7 * 30),
        "{last_at:?} for {} reads",
        reads.len()
    );
    // Non-streamed answers ignore the pacing.
    let r = post(
        &format!("{}/v1/chat/completions", mock.url()),
        &[],
        &chat_body("m", "x"),
    );
    assert_eq!(
        r.json()["choices"][0]["message"]["content"],
        "one two three four five"
    );
}

#[test]
fn cut_stream_breaks_the_connection_mid_body() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris is the capital of France").cut_stream()));
    let mut body = anthropic_body("claude", "x");
    body["stream"] = true.into();
    let e = try_post(
        &format!("{}/v1/messages", mock.url()),
        ANTHROPIC_HEADERS,
        body.to_string().into_bytes(),
        None,
    )
    .unwrap_err();
    assert!(e.is_body() || e.is_decode() || e.is_request(), "{e:?}");
    let reads = timed_reads(
        mock.addr(),
        &raw_post(
            "/v1/messages",
            &body,
            "x-api-key: k\r\nanthropic-version: 2023-06-01\r\n",
        ),
    );
    let all: Vec<u8> = reads.iter().flat_map(|(_, b)| b.clone()).collect();
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("event: message_start"), "{text}");
    assert!(!text.contains("message_stop"), "{text}");
    assert!(
        !text.ends_with("0\r\n\r\n"),
        "the chunked body never ends: {text}"
    );
    // A request that is not streamed gets the whole answer.
    let r = post(
        &format!("{}/v1/messages", mock.url()),
        ANTHROPIC_HEADERS,
        &anthropic_body("claude", "x"),
    );
    assert_eq!(
        r.json()["content"][0]["text"],
        "Paris is the capital of France"
    );
}

#[test]
fn unterminated_stream_lacks_only_the_terminal_event() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("Paris is nice").unterminated_stream()));
    let mut body = chat_body("m", "x");
    body["stream"] = true.into();
    let r = post(&format!("{}/v1/chat/completions", mock.url()), &[], &body);
    assert_eq!(r.status, 200);
    let ev = sse_events(&r.text());
    assert!(ev.iter().all(|(_, d)| d != "[DONE]"), "{}", r.text());
    let text: String = ev
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(text, "Paris is nice", "everything else is there");
    let c = creds();
    mock.expect_aws_credentials(c.clone());
    let r = bedrock_post(&mock, &c, "/model/m-1/converse-stream", &converse_body("x"));
    let frames = decode_event_stream(&r.body).unwrap();
    assert_eq!(frames.last().unwrap().event_type(), Some("messageStop"));
}

#[test]
fn event_stream_frames_decode_with_the_aws_crate() {
    use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
    use aws_smithy_types::event_stream::HeaderValue;
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .reply(Reply::text("Paris is nice").tool_call("get_weather", json!({"city": "Paris"}))),
    );
    let c = creds();
    mock.expect_aws_credentials(c.clone());
    let r = bedrock_post(&mock, &c, "/model/m-1/converse-stream", &converse_body("x"));
    assert_eq!(r.status, 200, "{}", r.text());
    let ours = decode_event_stream(&r.body).unwrap();
    let mut buf = bytes::BytesMut::from(&r.body[..]);
    let mut decoder = MessageFrameDecoder::new();
    let mut theirs = Vec::new();
    while let DecodedFrame::Complete(m) = decoder.decode_frame(&mut buf).unwrap() {
        theirs.push(m);
    }
    assert!(buf.is_empty(), "nothing left over");
    assert_eq!(theirs.len(), ours.len());
    for (m, o) in theirs.iter().zip(&ours) {
        let header = |name: &str| {
            m.headers()
                .iter()
                .find(|h| h.name().as_str() == name)
                .and_then(|h| match h.value() {
                    HeaderValue::String(s) => Some(s.as_str().to_string()),
                    _ => None,
                })
        };
        assert_eq!(header(":event-type").as_deref(), o.event_type());
        assert_eq!(header(":message-type").as_deref(), Some("event"));
        assert_eq!(header(":content-type").as_deref(), Some("application/json"));
        assert_eq!(m.payload().as_ref(), o.payload.as_slice());
    }
    let names: Vec<&str> = ours.iter().map(|f| f.event_type().unwrap()).collect();
    assert_eq!(
        names,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "contentBlockStart",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
}
