//! Converse body, answers, stop reasons and errors against the documented fixtures.
use super::*;
use crate::provider::Message;
use crate::provider::endpoint::encode_segment;
use crate::provider::test_support::raw;

fn fixture(name: &str) -> String {
    crate::provider::test_support::fixture("bedrock", name)
}

fn provider() -> Bedrock {
    Bedrock {
        id: "bedrock:m".into(),
        url: "http://x/model/m/converse".into(),
        auth: Auth::None,
        extra_headers: Vec::new(),
        extra_fields: Map::new(),
        warnings: Vec::new(),
        credentials: None,
    }
}

#[test]
fn model_ids_and_arns_are_one_segment() {
    assert_eq!(
        encode_segment("anthropic.claude-3-5-haiku-20241022-v1:0"),
        "anthropic.claude-3-5-haiku-20241022-v1%3A0"
    );
    assert_eq!(
        encode_segment(
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x-v1:0"
        ),
        "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-x-v1%3A0"
    );
    assert_eq!(encode_segment("a b%~"), "a%20b%25~");
    assert_eq!(
        default_endpoint("us-west-2"),
        "https://bedrock-runtime.us-west-2.amazonaws.com"
    );
    assert_eq!(
        default_endpoint("cn-north-1"),
        "https://bedrock-runtime.cn-north-1.amazonaws.com.cn"
    );
}

#[test]
fn body_matches_the_documented_request() {
    let req = Request {
        system: Some("Answer in one word.".into()),
        messages: vec![Message::new(Role::User, "Capital of France?")],
        temperature: Some(0.0),
        max_tokens: Some(64),
        stop: vec!["\n\n".into()],
        ..Request::default()
    };
    let want: Value = serde_json::from_str(&fixture("converse_request.json")).unwrap();
    let canon = |v: &Value| {
        let mut s = String::new();
        crate::provider::wire::canonical_json(v, &mut s);
        s
    };
    assert_eq!(canon(&provider().body(&req)), canon(&want));
}

#[test]
fn same_role_turns_merge_and_top_k_goes_to_additional_fields() {
    let req = Request {
        messages: vec![
            Message::new(Role::User, "a"),
            Message::new(Role::User, "b"),
            Message::new(Role::Assistant, "c"),
        ],
        top_k: Some(40),
        top_p: Some(0.9),
        ..Request::default()
    };
    let mut p = provider();
    p.extra_fields.insert("k".into(), json!(1));
    let b = p.body(&req);
    assert_eq!(
        b["messages"],
        json!([
            {"role": "user", "content": [{"text": "a"}, {"text": "b"}]},
            {"role": "assistant", "content": [{"text": "c"}]}
        ])
    );
    assert_eq!(b["inferenceConfig"], json!({"topP": 0.9}));
    assert_eq!(
        b["additionalModelRequestFields"],
        json!({"top_k": 40, "k": 1})
    );
    assert!(b.get("system").is_none());
}

#[test]
fn parses_documented_success() {
    let r = parse_converse(&raw(
        200,
        &[("x-amzn-requestid", "rid-1")],
        &fixture("converse_success.json"),
    ))
    .unwrap();
    assert_eq!(r.text, "Paris");
    assert_eq!(r.finish, FinishReason::Stop);
    assert_eq!(r.finish_raw, "end_turn");
    assert_eq!(r.usage.input, Some(18));
    assert_eq!(r.usage.output, Some(3));
    assert_eq!(r.usage.total, Some(21));
    assert_eq!(r.server_latency_ms, Some(412));
    assert_eq!(r.request_id.as_deref(), Some("rid-1"));
    let r = parse_converse(&raw(200, &[], &fixture("converse_max_tokens.json"))).unwrap();
    assert_eq!(r.finish, FinishReason::Length);
    let r = parse_converse(&raw(200, &[], &fixture("converse_guardrail.json"))).unwrap();
    assert_eq!(r.finish, FinishReason::ContentFilter);
    let r = parse_converse(&raw(200, &[], &fixture("converse_tool_use.json"))).unwrap();
    assert_eq!(r.finish, FinishReason::ToolCalls);
    assert_eq!(r.tool_calls.len(), 1);
}

#[test]
fn classifies_documented_errors() {
    let cases = [
        (
            "error_400_validation.json",
            400,
            "ValidationException",
            ErrorClass::InvalidRequest,
        ),
        (
            "error_403_access_denied.json",
            403,
            "AccessDeniedException",
            ErrorClass::Auth,
        ),
        (
            "error_403_invalid_signature.json",
            403,
            "InvalidSignatureException",
            ErrorClass::Auth,
        ),
        (
            "error_404_not_found.json",
            404,
            "ResourceNotFoundException",
            ErrorClass::InvalidRequest,
        ),
        (
            "error_429_throttling.json",
            429,
            "ThrottlingException",
            ErrorClass::RateLimited,
        ),
        (
            "error_500_internal.json",
            500,
            "InternalServerException",
            ErrorClass::Server,
        ),
        (
            "error_503_unavailable.json",
            503,
            "ServiceUnavailableException",
            ErrorClass::Overloaded,
        ),
    ];
    for (file, status, shape, class) in cases {
        let header = format!("{shape}:http://internal.amazon.com/coral/com.amazon.bedrock/");
        let e = parse_error(&raw(
            status,
            &[("x-amzn-errortype", &header)],
            &fixture(file),
        ));
        assert_eq!(e.class, class, "{file}");
        assert_eq!(e.code.as_deref(), Some(shape), "{file}");
        assert!(
            !e.message.is_empty() && !e.message.contains('{'),
            "{file}: {}",
            e.message
        );
        assert_eq!(e.status, Some(status));
    }
    // No header: `__type` in the body, `Message` capitalised.
    let e = parse_error(&raw(
        408,
        &[],
        r#"{"__type":"com.amazon.bedrock#ModelTimeoutException","Message":"slow"}"#,
    ));
    assert_eq!(e.class, ErrorClass::Timeout);
    assert_eq!(e.code.as_deref(), Some("ModelTimeoutException"));
    assert_eq!(e.message, "slow");
    // Unknown shape: the status decides.
    let e = parse_error(&raw(502, &[], "<html>bad gateway</html>"));
    assert_eq!(e.class, ErrorClass::Server);
    assert!(e.message.contains("bad gateway"));
}

#[test]
fn stop_reasons_map_onto_the_common_set() {
    for (raw, want) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("model_context_window_exceeded", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("guardrail_intervened", FinishReason::ContentFilter),
        ("content_filtered", FinishReason::ContentFilter),
        ("malformed_model_output", FinishReason::Error),
        ("malformed_tool_use", FinishReason::Error),
        ("something_new", FinishReason::Other),
    ] {
        assert_eq!(finish_reason(raw), want, "{raw}");
    }
}

#[test]
fn missing_stop_reason_is_a_protocol_error() {
    let e = parse_converse(&raw(200, &[], r#"{"output":{"message":{"content":[]}}}"#)).unwrap_err();
    assert_eq!(e.class, ErrorClass::Protocol);
}
