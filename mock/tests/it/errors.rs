//! Error replies: status, headers and body shape per protocol (PROTOCOLS.md §1–6, §8.3).

use std::time::Duration;

use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};

use crate::support::*;

fn error_reply(p: Protocol, kind: ErrorKind) -> Resp {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::error(kind)));
    send(&mock, p, "hello")
}

/// Every protocol × every kind renders something its SDK can classify.
#[test]
fn every_kind_every_protocol_has_the_protocol_shape() {
    for p in Protocol::ALL {
        for kind in ErrorKind::ALL {
            let r = error_reply(p, kind);
            let ctx = format!("{p} {kind:?}: {} {}", r.status, r.text());
            assert!(
                r.header("content-type")
                    .unwrap()
                    .starts_with("application/"),
                "{ctx}"
            );
            if r.status == 200 {
                // Filter outcomes that are successes on the wire.
                assert!(
                    matches!(
                        kind,
                        ErrorKind::ContentFilter
                            | ErrorKind::PromptBlocked
                            | ErrorKind::FinishSafety
                    ),
                    "{ctx}"
                );
                continue;
            }
            let j = r.json();
            match p {
                _ if p.name().starts_with("openai") || p.name().starts_with("azure") => {
                    assert!(j["error"]["message"].is_string(), "{ctx}");
                    if j["error"].get("type").is_some() {
                        for k in ["message", "type", "param", "code"] {
                            assert!(j["error"].get(k).is_some(), "{ctx}: missing {k}");
                        }
                    } else {
                        assert!(p.name().starts_with("azure"), "{ctx}");
                        assert!(j["error"]["code"].is_string(), "{ctx}");
                    }
                    assert!(r.header("x-request-id").is_some(), "{ctx}");
                }
                Protocol::Anthropic => {
                    assert_eq!(j["type"], "error", "{ctx}");
                    assert!(j["error"]["type"].is_string(), "{ctx}");
                    assert!(j["error"]["message"].is_string(), "{ctx}");
                    assert!(j["request_id"].is_string(), "{ctx}");
                    assert!(r.header("request-id").is_some(), "{ctx}");
                }
                Protocol::BedrockConverse | Protocol::BedrockInvoke | Protocol::BedrockEmbed => {
                    assert!(j["message"].is_string(), "{ctx}");
                    let t = r.header("x-amzn-errortype").unwrap();
                    assert!(
                        t.contains("Exception:http://internal.amazon.com/coral/"),
                        "{ctx}"
                    );
                    assert!(r.header("x-amzn-requestid").is_some(), "{ctx}");
                }
                Protocol::Gemini | Protocol::Vertex | Protocol::GeminiEmbed => {
                    assert_eq!(j["error"]["code"], r.status, "{ctx}");
                    assert!(j["error"]["status"].is_string(), "{ctx}");
                    assert!(j["error"]["message"].is_string(), "{ctx}");
                    assert!(j["error"]["details"].is_array(), "{ctx}");
                }
                Protocol::OllamaChat | Protocol::OllamaGenerate | Protocol::OllamaEmbed => {
                    assert!(j["error"].is_string(), "{ctx}");
                }
                _ => unreachable!(),
            }
        }
    }
}

#[test]
fn statuses() {
    use ErrorKind as K;
    use Protocol as P;
    for (p, kind, status) in [
        (P::OpenAiChat, K::RateLimited, 429),
        (P::OpenAiChat, K::QuotaExhausted, 429),
        (P::OpenAiChat, K::Overloaded, 503),
        (P::OpenAiChat, K::Server, 500),
        (P::OpenAiChat, K::InvalidRequest, 400),
        (P::OpenAiChat, K::Unauthorized, 401),
        (P::OpenAiChat, K::Forbidden, 403),
        (P::OpenAiChat, K::NotFound, 404),
        (P::AzureClassic, K::ContentFilter, 400),
        (P::Anthropic, K::Overloaded, 529),
        (P::Anthropic, K::RateLimited, 429),
        (P::Anthropic, K::Timeout, 504),
        (P::BedrockConverse, K::Overloaded, 503),
        (P::BedrockConverse, K::Unauthorized, 403),
        (P::BedrockConverse, K::Timeout, 408),
        (P::BedrockConverse, K::QuotaExhausted, 400),
        (P::Gemini, K::Unauthorized, 400),
        (P::Vertex, K::Unauthorized, 401),
        (P::Gemini, K::Overloaded, 503),
        (P::Gemini, K::PromptBlocked, 200),
        (P::OllamaChat, K::NotFound, 404),
        (P::OllamaChat, K::Overloaded, 503),
    ] {
        assert_eq!(error_reply(p, kind).status, status, "{p} {kind:?}");
    }
}

#[test]
fn openai_rate_limit_and_quota() {
    let r = error_reply(Protocol::OpenAiChat, ErrorKind::RateLimited);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("retry-after-ms"), Some("1000"));
    assert_eq!(r.header("x-ratelimit-remaining-requests"), Some("0"));
    assert_eq!(r.json()["error"]["code"], "rate_limit_exceeded");
    let r = error_reply(Protocol::OpenAiChat, ErrorKind::QuotaExhausted);
    assert_eq!(r.json()["error"]["code"], "insufficient_quota");
    assert_eq!(r.json()["error"]["type"], "insufficient_quota");
    assert!(r.header("retry-after").is_none());
    let r = error_reply(Protocol::OpenAiChat, ErrorKind::NotFound);
    assert_eq!(r.json()["error"]["code"], "model_not_found");
}

#[test]
fn retry_after_and_extra_headers() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new().protocol(Protocol::OpenAiChat).reply(
            Reply::error(ErrorKind::RateLimited)
                .retry_after(Duration::from_millis(50))
                .header("x-should-retry", "false"),
        ),
    );
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::Gemini)
            .reply(Reply::error(ErrorKind::RateLimited).retry_after(Duration::from_millis(1500))),
    );
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::Anthropic)
            .reply(Reply::error(ErrorKind::Overloaded).retry_after(Duration::from_secs(3))),
    );
    let r = send(&mock, Protocol::OpenAiChat, "x");
    assert_eq!(r.header("retry-after-ms"), Some("50"));
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("x-should-retry"), Some("false"));
    let j = send(&mock, Protocol::Gemini, "x").json();
    let retry = j["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
        .unwrap();
    assert_eq!(retry["retryDelay"], "1.500s");
    assert_eq!(j["error"]["status"], "RESOURCE_EXHAUSTED");
    let r = send(&mock, Protocol::Anthropic, "x");
    assert_eq!(r.status, 529);
    assert_eq!(r.header("retry-after"), Some("3"));
    assert!(r.header("retry-after-ms").is_none());
    assert_eq!(r.json()["error"]["type"], "overloaded_error");
}

#[test]
fn azure_specific_errors() {
    let r = error_reply(Protocol::AzureClassic, ErrorKind::RateLimited);
    let j = r.json();
    assert_eq!(j["error"]["code"], "429", "Azure uses a string code");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("retry after 1 seconds")
    );
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("retry-after-ms"), Some("1000"));
    let j = error_reply(Protocol::AzureV1, ErrorKind::ContentFilter).json();
    assert_eq!(j["error"]["code"], "content_filter");
    assert_eq!(
        j["error"]["innererror"]["code"],
        "ResponsibleAIPolicyViolation"
    );
    assert_eq!(
        j["error"]["innererror"]["content_filter_result"]["violence"]["filtered"],
        true
    );
    let j = error_reply(Protocol::AzureClassic, ErrorKind::NotFound).json();
    assert_eq!(j["error"]["code"], "DeploymentNotFound");
}

#[test]
fn anthropic_errors() {
    let j = error_reply(Protocol::Anthropic, ErrorKind::QuotaExhausted).json();
    assert_eq!(j["error"]["type"], "rate_limit_error");
    assert_eq!(
        j["error"]["details"]["error_code"],
        "enforced_spend_limit_reached"
    );
    let r = error_reply(Protocol::Anthropic, ErrorKind::RateLimited);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(
        r.header("anthropic-ratelimit-requests-remaining"),
        Some("0")
    );
    let j = error_reply(Protocol::Anthropic, ErrorKind::ContentFilter).json();
    assert_eq!(j["stop_reason"], "refusal");
}

#[test]
fn bedrock_errors() {
    use ErrorKind as K;
    for (kind, shape) in [
        (K::RateLimited, "ThrottlingException"),
        (K::InvalidRequest, "ValidationException"),
        (K::Forbidden, "AccessDeniedException"),
        (K::NotFound, "ResourceNotFoundException"),
        (K::Server, "InternalServerException"),
        (K::Overloaded, "ServiceUnavailableException"),
        (K::QuotaExhausted, "ServiceQuotaExceededException"),
    ] {
        for p in [Protocol::BedrockConverse, Protocol::BedrockInvoke] {
            let r = error_reply(p, kind);
            let t = r.header("x-amzn-errortype").unwrap();
            assert_eq!(t.split(':').next(), Some(shape), "{p} {kind:?}");
        }
    }
    let j = error_reply(Protocol::BedrockConverse, K::ContentFilter).json();
    assert_eq!(j["stopReason"], "guardrail_intervened");
}

#[test]
fn gemini_errors_and_blocks() {
    let j = error_reply(Protocol::Gemini, ErrorKind::RateLimited).json();
    let types: Vec<&str> = j["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["@type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"type.googleapis.com/google.rpc.RetryInfo"));
    assert!(types.contains(&"type.googleapis.com/google.rpc.QuotaFailure"));
    let j = error_reply(Protocol::Gemini, ErrorKind::Unauthorized).json();
    assert_eq!(j["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(j["error"]["details"][0]["reason"], "API_KEY_INVALID");
    let r = error_reply(Protocol::Gemini, ErrorKind::PromptBlocked);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert!(j.get("candidates").is_none());
    assert_eq!(j["promptFeedback"]["blockReason"], "SAFETY");
    let j = error_reply(Protocol::Vertex, ErrorKind::FinishSafety).json();
    assert_eq!(j["candidates"][0]["finishReason"], "SAFETY");
    assert!(j["candidates"][0]["content"].get("parts").is_none());
    let j = error_reply(Protocol::Gemini, ErrorKind::Overloaded).json();
    assert_eq!(j["error"]["status"], "UNAVAILABLE");
}

#[test]
fn ollama_errors() {
    let j = error_reply(Protocol::OllamaChat, ErrorKind::NotFound).json();
    assert_eq!(j["error"], "model \"m-1\" not found, try pulling it first");
    assert_eq!(j.as_object().unwrap().len(), 1);
}

#[test]
fn raw_and_fixture_replies() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().times(1).reply(Reply::fixture(
        "anthropic/error_529_overloaded.json",
        529,
        &[("retry-after", "2")],
    )));
    mock.add_rule(Rule::new().times(1).reply(Reply::raw(
        413,
        &[("content-type", "text/html")],
        "<html>too large</html>",
    )));
    let r = send(&mock, Protocol::Anthropic, "x");
    assert_eq!(r.status, 529);
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["error"]["type"], "overloaded_error");
    let r = send(&mock, Protocol::Anthropic, "x");
    assert_eq!(r.status, 413);
    assert_eq!(r.text(), "<html>too large</html>");
    assert!(promptdrift_mock::fixture_names().any(|n| n == "gemini/stream.sse"));
    let r = Reply::fixture("openai/chat_stream.sse", 200, &[]);
    drop(r);
}

#[test]
#[should_panic(expected = "no embedded fixture")]
fn unknown_fixture_panics() {
    let _ = Reply::fixture("openai/nope.json", 200, &[]);
}

#[test]
#[should_panic(expected = "applies to text answers")]
fn answer_builder_on_error_panics() {
    let _ = Reply::error(ErrorKind::Server).usage(1, 2);
}
