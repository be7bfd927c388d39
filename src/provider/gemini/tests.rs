//! Gemini body, answers, safety blocks and errors against the documented fixtures.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::provider::Message;
use crate::provider::test_support::raw;

fn fixture(name: &str) -> String {
    crate::provider::test_support::fixture("gemini", name)
}

fn msg(role: Role, content: &str) -> Message {
    Message::new(role, content)
}

#[test]
fn body_matches_the_documented_request() {
    let req = Request {
        system: Some("Answer in one word.".into()),
        messages: vec![msg(Role::User, "Capital of France?")],
        temperature: Some(0.0),
        max_tokens: Some(64),
        stop: vec!["\n\n".into()],
        seed: Some(7),
        ..Request::default()
    };
    let want: Value = serde_json::from_str(&fixture("generate_request.json")).unwrap();
    let canon = |v: &Value| {
        let mut s = String::new();
        crate::provider::wire::canonical_json(v, &mut s);
        s
    };
    assert_eq!(
        canon(&generate_body(&req, &GoogleExtras::default())),
        canon(&want)
    );
}

#[test]
fn assistant_is_model_turns_merge_and_json_mode() {
    let req = Request {
        messages: vec![
            msg(Role::User, "a"),
            msg(Role::User, "b"),
            msg(Role::Assistant, "c"),
            msg(Role::User, "d"),
        ],
        top_k: Some(40),
        top_p: Some(0.5),
        json_mode: true,
        ..Request::default()
    };
    let mut extras = GoogleExtras::default();
    extras
        .generation_config
        .insert("thinkingConfig".into(), json!({"thinkingBudget": 0}));
    extras.safety_settings =
        Some(json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]));
    let b = generate_body(&req, &extras);
    assert_eq!(
        b["contents"],
        json!([
            {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
            {"role": "model", "parts": [{"text": "c"}]},
            {"role": "user", "parts": [{"text": "d"}]}
        ])
    );
    assert_eq!(
        b["generationConfig"],
        json!({"topP": 0.5, "topK": 40, "responseMimeType": "application/json", "thinkingConfig": {"thinkingBudget": 0}})
    );
    assert_eq!(b["safetySettings"][0]["threshold"], "BLOCK_NONE");
    assert!(b.get("systemInstruction").is_none());
}

#[test]
fn parses_success_thinking_and_vertex() {
    let r = parse_generate(&raw(200, &[], &fixture("generate_success.json")), "Gemini").unwrap();
    assert_eq!(r.text, "Paris");
    assert_eq!(r.finish, FinishReason::Stop);
    assert_eq!(r.finish_raw, "STOP");
    assert_eq!(r.usage.input, Some(9));
    assert_eq!(r.usage.output, Some(1));
    assert_eq!(r.usage.total, Some(10));
    assert_eq!(r.model.as_deref(), Some("gemini-2.5-flash"));
    assert!(r.response_id.is_some());
    let r = parse_generate(
        &raw(200, &[], &fixture("generate_success_thinking.json")),
        "Gemini",
    )
    .unwrap();
    assert_eq!(r.usage.output, Some(42), "thoughts count as output");
    assert_eq!(r.usage.reasoning, Some(41));
    assert_eq!(r.usage.total, Some(51));
    let r = parse_generate(
        &raw(200, &[], &fixture("vertex_generate_success.json")),
        "Vertex AI",
    )
    .unwrap();
    assert_eq!(r.text, "Paris");
    let r = parse_generate(
        &raw(200, &[], &fixture("generate_max_tokens.json")),
        "Gemini",
    )
    .unwrap();
    assert_eq!(r.finish, FinishReason::Length);
    let r = parse_generate(
        &raw(200, &[], &fixture("generate_function_call.json")),
        "Gemini",
    )
    .unwrap();
    assert_eq!(
        r.finish,
        FinishReason::ToolCalls,
        "function calls end with STOP"
    );
    assert_eq!(r.tool_calls.len(), 1);
}

#[test]
fn blocked_prompt_and_blocked_answer_are_content_filter_errors() {
    let e = parse_generate(
        &raw(200, &[], &fixture("generate_prompt_blocked.json")),
        "Gemini",
    )
    .unwrap_err();
    assert_eq!(e.class, ErrorClass::ContentFilter);
    assert_eq!(e.code.as_deref(), Some("SAFETY"));
    assert_eq!(
        e.message,
        "Gemini blocked the prompt (promptFeedback.blockReason SAFETY): HARM_CATEGORY_DANGEROUS_CONTENT (HIGH)"
    );
    assert!(!e.is_retryable());
    let e = parse_generate(
        &raw(200, &[], &fixture("generate_finish_safety.json")),
        "Vertex AI",
    )
    .unwrap_err();
    assert_eq!(e.class, ErrorClass::ContentFilter);
    assert_eq!(
        e.message,
        "Vertex AI blocked the answer (finishReason SAFETY): HARM_CATEGORY_DANGEROUS_CONTENT (HIGH)"
    );
    // A safety finish that still has text is an answer, filtered.
    let partial = r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Part"}]},"finishReason":"RECITATION"}]}"#;
    let r = parse_generate(&raw(200, &[], partial), "Gemini").unwrap();
    assert_eq!(r.finish, FinishReason::ContentFilter);
    assert_eq!(r.text, "Part");
    // No candidates and no reason: a clear protocol error.
    let e = parse_generate(&raw(200, &[], r#"{"usageMetadata":{}}"#), "Gemini").unwrap_err();
    assert_eq!(e.class, ErrorClass::Protocol);
    assert!(e.message.contains("no candidates"), "{}", e.message);
}

#[test]
fn classifies_documented_errors() {
    let cases = [
        (
            "error_400_api_key_invalid.json",
            400,
            ErrorClass::Auth,
            "API_KEY_INVALID",
        ),
        (
            "error_400_invalid_argument.json",
            400,
            ErrorClass::InvalidRequest,
            "INVALID_ARGUMENT",
        ),
        (
            "error_404_not_found.json",
            404,
            ErrorClass::InvalidRequest,
            "NOT_FOUND",
        ),
        (
            "error_429_resource_exhausted.json",
            429,
            ErrorClass::RateLimited,
            "RESOURCE_EXHAUSTED",
        ),
        (
            "error_500_internal.json",
            500,
            ErrorClass::Server,
            "INTERNAL",
        ),
        (
            "error_503_unavailable.json",
            503,
            ErrorClass::Overloaded,
            "UNAVAILABLE",
        ),
    ];
    for (file, status, class, code) in cases {
        let e = parse_error(&raw(status, &[], &fixture(file)));
        assert_eq!(e.class, class, "{file}");
        assert_eq!(e.code.as_deref(), Some(code), "{file}");
        assert_eq!(e.status, Some(status));
        assert!(!e.message.contains('{'), "{file}: {}", e.message);
    }
    let e = parse_error(&raw(
        429,
        &[],
        &fixture("error_429_resource_exhausted.json"),
    ));
    assert_eq!(e.retry_after, Some(Duration::from_secs(42)));
    // A header wins over RetryInfo.
    let e = parse_error(&raw(
        429,
        &[("retry-after", "3")],
        &fixture("error_429_resource_exhausted.json"),
    ));
    assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
    // Array-wrapped errors, daily quota without RetryInfo.
    let daily = r#"[{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}]"#;
    let e = parse_error(&raw(429, &[], daily));
    assert_eq!(e.class, ErrorClass::QuotaExhausted);
    assert!(!e.is_retryable());
}

#[test]
fn finish_reasons_map_onto_the_common_set() {
    for (raw, want) in [
        ("STOP", FinishReason::Stop),
        ("MAX_TOKENS", FinishReason::Length),
        ("SAFETY", FinishReason::ContentFilter),
        ("RECITATION", FinishReason::ContentFilter),
        ("BLOCKLIST", FinishReason::ContentFilter),
        ("PROHIBITED_CONTENT", FinishReason::ContentFilter),
        ("SPII", FinishReason::ContentFilter),
        ("IMAGE_SAFETY", FinishReason::ContentFilter),
        ("MALFORMED_FUNCTION_CALL", FinishReason::Error),
        ("UNEXPECTED_TOOL_CALL", FinishReason::Error),
        ("TOO_MANY_TOOL_CALLS", FinishReason::Error),
        ("LANGUAGE", FinishReason::Other),
        ("OTHER", FinishReason::Other),
        ("FINISH_REASON_UNSPECIFIED", FinishReason::Other),
        ("NO_IMAGE", FinishReason::Other),
    ] {
        assert_eq!(finish_reason(raw), want, "{raw}");
    }
}

#[test]
fn google_durations() {
    assert_eq!(
        parse_google_duration(&json!("42s")),
        Some(Duration::from_secs(42))
    );
    assert_eq!(
        parse_google_duration(&json!("0.250s")),
        Some(Duration::from_millis(250))
    );
    assert_eq!(parse_google_duration(&json!("soon")), None);
}
