//! Each protocol's success body carries the fields typed SDKs require (PROTOCOLS.md §9.3).

use promptdrift_mock::{Finish, MockServer, Protocol, Reply, Rule};
use serde_json::{Value, json};

use crate::support::*;

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {p} in {v}"))
}

fn n(v: &Value, p: &str) -> u64 {
    v.pointer(p)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no number at {p} in {v}"))
}

#[test]
fn openai_chat_success() {
    let mock = MockServer::start();
    let r = post(
        &format!("{}/v1/chat/completions", mock.url()),
        &[("authorization", "Bearer sk-x")],
        &chat_body("gpt-4.1-mini", "Capital of France?"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("x-request-id").unwrap().starts_with("req_"));
    assert!(r.header("x-ratelimit-remaining-requests").is_some());
    let j = r.json();
    assert!(s(&j, "/id").starts_with("chatcmpl-"));
    assert_eq!(s(&j, "/object"), "chat.completion");
    assert!(j["created"].is_u64());
    assert_eq!(s(&j, "/model"), "gpt-4.1-mini");
    let c = &j["choices"][0];
    assert_eq!(c["index"], 0);
    assert_eq!(c["message"]["role"], "assistant");
    assert_eq!(
        c["message"]["content"],
        "mock answer to: Capital of France?"
    );
    assert!(c["message"]["refusal"].is_null());
    assert!(c.get("logprobs").is_some_and(Value::is_null));
    assert_eq!(c["finish_reason"], "stop");
    let (p, o) = (
        n(&j, "/usage/prompt_tokens"),
        n(&j, "/usage/completion_tokens"),
    );
    assert!(p > 0 && o > 0);
    assert_eq!(n(&j, "/usage/total_tokens"), p + o);
    // Deterministic: the same request gets the same body.
    let again = post(
        &format!("{}/v1/chat/completions", mock.url()),
        &[],
        &chat_body("gpt-4.1-mini", "Capital of France?"),
    );
    assert_eq!(again.body, r.body);
}

#[test]
fn openai_text_builders() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new().model("len").reply(
            Reply::text("The capital of")
                .finish(Finish::Length)
                .usage(21, 8)
                .served_model("gpt-4.1-mini-2025-04-14"),
        ),
    );
    mock.add_rule(
        Rule::new()
            .model("refuse")
            .reply(Reply::text("").refusal("I can't help with that.")),
    );
    mock.add_rule(
        Rule::new()
            .model("tool")
            .reply(Reply::tool("get_weather", json!({"city": "Paris"}))),
    );
    mock.add_rule(
        Rule::new()
            .model("json")
            .reply(Reply::json_text(json!({"answer": "Paris"}))),
    );
    let url = format!("{}/v1/chat/completions", mock.url());
    let j = post(&url, &[], &chat_body("len", "x")).json();
    assert_eq!(j["choices"][0]["finish_reason"], "length");
    assert_eq!(j["usage"]["prompt_tokens"], 21);
    assert_eq!(j["usage"]["completion_tokens"], 8);
    assert_eq!(j["usage"]["total_tokens"], 29);
    assert_eq!(j["model"], "gpt-4.1-mini-2025-04-14");
    let j = post(&url, &[], &chat_body("refuse", "x")).json();
    assert!(j["choices"][0]["message"]["content"].is_null());
    assert_eq!(
        j["choices"][0]["message"]["refusal"],
        "I can't help with that."
    );
    assert_eq!(j["choices"][0]["finish_reason"], "stop");
    let j = post(&url, &[], &chat_body("tool", "x")).json();
    let call = &j["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(j["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(call["type"], "function");
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(call["function"]["name"], "get_weather");
    // OpenAI tool arguments are a JSON *string*.
    assert_eq!(call["function"]["arguments"], r#"{"city":"Paris"}"#);
    let j = post(&url, &[], &chat_body("json", "x")).json();
    assert_eq!(
        j["choices"][0]["message"]["content"],
        r#"{"answer":"Paris"}"#
    );
}

#[test]
fn azure_classic_and_v1() {
    let mock = MockServer::start();
    let r = post(
        &format!(
            "{}/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21",
            mock.url()
        ),
        &[("api-key", "az-key")],
        &json!({"messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("apim-request-id").is_some());
    let j = r.json();
    assert_eq!(j["model"], "my-deploy");
    assert_eq!(j["prompt_filter_results"][0]["prompt_index"], 0);
    assert_eq!(
        j["choices"][0]["content_filter_results"]["violence"]["filtered"],
        false
    );
    let reqs = mock.requests();
    assert_eq!(reqs[0].protocol, Some(Protocol::AzureClassic));
    assert_eq!(reqs[0].model.as_deref(), Some("my-deploy"));
    assert_eq!(reqs[0].query.as_deref(), Some("api-version=2024-10-21"));

    let r = post(
        &format!("{}/openai/v1/chat/completions", mock.url()),
        &[("authorization", "Bearer az-key")],
        &chat_body("my-deploy", "hi"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(mock.requests()[1].protocol, Some(Protocol::AzureV1));
    assert_eq!(r.json()["model"], "my-deploy");
}

#[test]
fn anthropic_success() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .prompt_contains("stop")
            .reply(Reply::text("Paris").stop_sequence("\n\n")),
    );
    let url = format!("{}/v1/messages", mock.url());
    let r = post(
        &url,
        ANTHROPIC_HEADERS,
        &anthropic_body("claude-sonnet-4-5", "Capital?"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("request-id").unwrap().starts_with("req_"));
    assert!(r.header("anthropic-ratelimit-requests-remaining").is_some());
    let j = r.json();
    assert!(s(&j, "/id").starts_with("msg_"));
    assert_eq!(j["type"], "message");
    assert_eq!(j["role"], "assistant");
    assert_eq!(j["model"], "claude-sonnet-4-5");
    assert_eq!(j["content"][0]["type"], "text");
    assert_eq!(j["content"][0]["text"], "mock answer to: Capital?");
    assert_eq!(j["stop_reason"], "end_turn");
    assert!(j.get("stop_sequence").is_some_and(Value::is_null));
    assert!(n(&j, "/usage/input_tokens") > 0);
    assert!(n(&j, "/usage/output_tokens") > 0);

    let j = post(&url, ANTHROPIC_HEADERS, &anthropic_body("c", "stop here")).json();
    assert_eq!(j["stop_reason"], "stop_sequence");
    assert_eq!(j["stop_sequence"], "\n\n");
}

#[test]
fn anthropic_finish_mapping() {
    let mock = MockServer::start();
    for (model, finish) in [
        ("a", Finish::Length),
        ("b", Finish::ContentFilter),
        ("c", Finish::ToolCalls),
        ("d", Finish::Raw("pause_turn".into())),
    ] {
        mock.add_rule(
            Rule::new()
                .model(model)
                .reply(Reply::text("x").finish(finish)),
        );
    }
    let url = format!("{}/v1/messages", mock.url());
    for (model, want) in [
        ("a", "max_tokens"),
        ("b", "refusal"),
        ("c", "tool_use"),
        ("d", "pause_turn"),
    ] {
        let j = post(&url, ANTHROPIC_HEADERS, &anthropic_body(model, "x")).json();
        assert_eq!(j["stop_reason"], want, "{model}");
    }
    mock.add_rule(
        Rule::new()
            .model("t")
            .reply(Reply::tool("get_weather", json!({"city": "Paris"}))),
    );
    let j = post(&url, ANTHROPIC_HEADERS, &anthropic_body("t", "x")).json();
    assert_eq!(j["stop_reason"], "tool_use");
    assert_eq!(j["content"][0]["type"], "tool_use");
    // Anthropic tool input is a JSON *object*.
    assert_eq!(j["content"][0]["input"]["city"], "Paris");
    assert!(
        j["content"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("toolu_")
    );
}

#[test]
fn bedrock_converse_success() {
    let mock = MockServer::start();
    let c = creds();
    mock.expect_aws_credentials(c.clone());
    let path = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse";
    let r = bedrock_post(&mock, &c, path, &converse_body("Say hi"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("x-amzn-requestid").unwrap().len() == 36);
    let j = r.json();
    assert_eq!(j["output"]["message"]["role"], "assistant");
    assert_eq!(
        j["output"]["message"]["content"][0]["text"],
        "mock answer to: Say hi"
    );
    assert_eq!(j["stopReason"], "end_turn");
    let (i, o) = (n(&j, "/usage/inputTokens"), n(&j, "/usage/outputTokens"));
    assert_eq!(n(&j, "/usage/totalTokens"), i + o);
    assert!(n(&j, "/metrics/latencyMs") > 0);
    let rec = &mock.requests()[0];
    assert_eq!(rec.protocol, Some(Protocol::BedrockConverse));
    assert_eq!(
        rec.model.as_deref(),
        Some("anthropic.claude-3-5-haiku-20241022-v1:0")
    );
    assert_eq!(rec.path, path, "raw path kept percent-encoded");

    mock.add_rule(
        Rule::new()
            .prompt_contains("guard")
            .reply(Reply::text("Blocked.").finish(Finish::ContentFilter)),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("tool")
            .reply(Reply::tool("lookup", json!({"q": 1}))),
    );
    let j = bedrock_post(&mock, &c, path, &converse_body("guard")).json();
    assert_eq!(j["stopReason"], "guardrail_intervened");
    let j = bedrock_post(&mock, &c, path, &converse_body("tool")).json();
    assert_eq!(j["stopReason"], "tool_use");
    assert_eq!(
        j["output"]["message"]["content"][0]["toolUse"]["input"]["q"],
        1
    );
}

#[test]
fn bedrock_invoke_success() {
    let mock = MockServer::start();
    let c = creds();
    mock.expect_aws_credentials(c.clone());
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                      "messages": [{"role": "user", "content": "Capital?"}]});
    let r = bedrock_post(
        &mock,
        &c,
        "/model/us.anthropic.claude-3-5-haiku-20241022-v1:0/invoke",
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["type"], "message");
    assert_eq!(j["model"], "claude-3-5-haiku-20241022");
    assert_eq!(j["content"][0]["text"], "mock answer to: Capital?");
    assert_eq!(
        r.header("x-amzn-bedrock-input-token-count").unwrap(),
        j["usage"]["input_tokens"].to_string()
    );
    assert!(r.header("x-amzn-bedrock-output-token-count").is_some());
    assert!(r.header("x-amzn-bedrock-invocation-latency").is_some());
    assert_eq!(mock.requests()[0].protocol, Some(Protocol::BedrockInvoke));
}

#[test]
fn gemini_v1_v1beta_and_vertex() {
    let mock = MockServer::start();
    for v in ["v1", "v1beta"] {
        let r = post(
            &format!("{}/{v}/models/gemini-2.5-flash:generateContent", mock.url()),
            &[("x-goog-api-key", "g-key")],
            &gemini_body("Capital?"),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        assert_eq!(j["candidates"][0]["content"]["role"], "model");
        assert_eq!(
            j["candidates"][0]["content"]["parts"][0]["text"],
            "mock answer to: Capital?"
        );
        assert_eq!(j["candidates"][0]["finishReason"], "STOP");
        let (p, c) = (
            n(&j, "/usageMetadata/promptTokenCount"),
            n(&j, "/usageMetadata/candidatesTokenCount"),
        );
        assert_eq!(n(&j, "/usageMetadata/totalTokenCount"), p + c);
        assert_eq!(j["modelVersion"], "gemini-2.5-flash");
        assert!(j["responseId"].is_string());
    }
    let r = post(
        &format!(
            "{}/v1beta1/projects/proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
            mock.url()
        ),
        &[("authorization", "Bearer ya29.token")],
        &gemini_body("Capital?"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert!(j["createTime"].is_string());
    assert_eq!(j["usageMetadata"]["trafficType"], "ON_DEMAND");
    let reqs = mock.requests();
    assert_eq!(reqs[2].protocol, Some(Protocol::Vertex));
    assert_eq!(reqs[2].model.as_deref(), Some("gemini-2.5-flash"));

    // Function calls finish with STOP.
    mock.add_rule(Rule::new().reply(Reply::tool("get_weather", json!({"city": "Paris"}))));
    let j = post(
        &format!("{}/v1/models/g:generateContent", mock.url()),
        &[("x-goog-api-key", "k")],
        &gemini_body("x"),
    )
    .json();
    assert_eq!(j["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        j["candidates"][0]["content"]["parts"][0]["functionCall"]["args"]["city"],
        "Paris"
    );
}

#[test]
fn gemini_finish_mapping() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .prompt_contains("long")
            .reply(Reply::text("cut").finish(Finish::Length)),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("unsafe")
            .reply(Reply::text("x").finish(Finish::ContentFilter)),
    );
    let url = format!("{}/v1/models/g:generateContent", mock.url());
    let h = [("x-goog-api-key", "k")];
    let j = post(&url, &h, &gemini_body("long")).json();
    assert_eq!(j["candidates"][0]["finishReason"], "MAX_TOKENS");
    let j = post(&url, &h, &gemini_body("unsafe")).json();
    assert_eq!(j["candidates"][0]["finishReason"], "SAFETY");
    assert!(j["candidates"][0]["content"].get("parts").is_none());
}

#[test]
fn ollama_native_non_stream() {
    let mock = MockServer::start();
    let j = post(
        &format!("{}/api/chat", mock.url()),
        &[],
        &json!({"model": "llama3.2", "stream": false, "messages": [{"role": "user", "content": "Capital?"}]}),
    )
    .json();
    assert_eq!(j["model"], "llama3.2");
    assert_eq!(j["message"]["role"], "assistant");
    assert_eq!(j["message"]["content"], "mock answer to: Capital?");
    assert_eq!(j["done"], true);
    assert_eq!(j["done_reason"], "stop");
    for k in [
        "total_duration",
        "prompt_eval_count",
        "eval_count",
        "eval_duration",
    ] {
        assert!(j[k].is_u64(), "{k}");
    }
    let j = post(
        &format!("{}/api/generate", mock.url()),
        &[],
        &json!({"model": "llama3.2", "stream": false, "prompt": "Why?"}),
    )
    .json();
    assert_eq!(j["response"], "mock answer to: Why?");
    assert_eq!(j["done"], true);
    mock.add_rule(Rule::new().reply(Reply::tool("f", json!({"a": 1}))));
    let j = post(
        &format!("{}/api/chat", mock.url()),
        &[],
        &json!({"model": "m", "stream": false, "messages": [{"role": "user", "content": "x"}]}),
    )
    .json();
    assert_eq!(
        j["message"]["tool_calls"][0]["function"]["arguments"]["a"],
        1
    );
    assert_eq!(j["done_reason"], "stop");
}

#[test]
fn ollama_compat_route_is_openai_chat() {
    let mock = MockServer::start();
    let j = post(
        &format!("{}/v1/chat/completions", mock.url()),
        &[],
        &chat_body("llama3.2", "hi"),
    )
    .json();
    assert_eq!(j["object"], "chat.completion");
    assert_eq!(mock.requests()[0].protocol, Some(Protocol::OpenAiChat));
}

#[test]
fn embeddings() {
    let mock = MockServer::start();
    let url = format!("{}/v1/embeddings", mock.url());
    let j = post(
        &url,
        &[],
        &json!({"model": "text-embedding-3-small", "input": ["Paris is the capital", "the capital is Paris", "bananas"]}),
    )
    .json();
    assert_eq!(j["object"], "list");
    assert_eq!(j["model"], "text-embedding-3-small");
    let v: Vec<Vec<f64>> = (0..3)
        .map(|i| {
            assert_eq!(j["data"][i]["object"], "embedding");
            assert_eq!(j["data"][i]["index"], i);
            serde_json::from_value(j["data"][i]["embedding"].clone()).unwrap()
        })
        .collect();
    assert_eq!(v[0].len(), 64);
    assert_eq!(v[0], v[1]);
    assert_ne!(v[0], v[2]);
    assert!(j["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    // dimensions and base64 encoding.
    let j = post(
        &url,
        &[],
        &json!({"model": "m", "input": "x", "dimensions": 8, "encoding_format": "base64"}),
    )
    .json();
    let b64 = j["data"][0]["embedding"].as_str().unwrap();
    assert_eq!(b64.len(), 44, "8 f32 = 32 bytes = 44 base64 chars");
    // Explicit vectors.
    mock.add_rule(Rule::new().reply(Reply::embeddings(vec![vec![0.5, 0.5]])));
    let j = post(&url, &[], &json!({"model": "m", "input": "x"})).json();
    assert_eq!(j["data"][0]["embedding"], json!([0.5, 0.5]));
}

#[test]
fn gemini_titan_and_ollama_embeddings() {
    let mock = MockServer::start();
    let g = post(
        &format!("{}/v1beta/models/gemini-embedding-001:embedContent", mock.url()),
        &[("x-goog-api-key", "g")],
        &json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "Paris is the capital"}]}, "outputDimensionality": 16}),
    )
    .json();
    let gv: Vec<f32> = serde_json::from_value(g["embedding"]["values"].clone()).unwrap();
    assert_eq!(gv.len(), 16);
    assert_eq!(
        gv,
        promptdrift_mock::bag_of_words_embedding("the capital is Paris", 16)
    );
    let t = send(&mock, Protocol::BedrockEmbed, "Paris is the capital");
    assert_eq!(t.status, 200, "{}", t.text());
    assert!(t.header("x-amzn-requestid").is_some());
    let t = t.json();
    assert_eq!(t["embedding"].as_array().unwrap().len(), 64);
    assert_eq!(t["embeddingsByType"]["float"], t["embedding"]);
    assert!(t["inputTextTokenCount"].as_u64().unwrap() > 0);
    let o = send(&mock, Protocol::OllamaEmbed, "Paris").json();
    assert_eq!(o["model"], "m-1");
    assert_eq!(o["embeddings"].as_array().unwrap().len(), 1);
    let reqs = mock.requests();
    assert_eq!(reqs[0].protocol, Some(Protocol::GeminiEmbed));
    assert_eq!(reqs[0].model.as_deref(), Some("gemini-embedding-001"));
    assert_eq!(reqs[0].prompt.as_deref(), Some("Paris is the capital"));
    assert_eq!(reqs[1].protocol, Some(Protocol::BedrockEmbed));
    assert_eq!(
        reqs[1].model.as_deref(),
        Some("amazon.titan-embed-text-v2:0")
    );
    assert_eq!(reqs[1].prompt.as_deref(), Some("Paris is the capital"));
    assert_eq!(reqs[2].protocol, Some(Protocol::OllamaEmbed));
    // Rule vectors, per protocol.
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::BedrockEmbed)
            .prompt_contains("fixed")
            .reply(Reply::embeddings(vec![vec![0.6, 0.8]])),
    );
    let t = send(&mock, Protocol::BedrockEmbed, "fixed").json();
    let v: Vec<f32> = serde_json::from_value(t["embedding"].clone()).unwrap();
    assert_eq!(v, [0.6f32, 0.8]);
    // Without the right credentials, Bedrock's own rejection.
    let r = post(
        &format!("{}/model/amazon.titan-embed-text-v2%3A0/invoke", mock.url()),
        &[],
        &json!({"inputText": "x"}),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn responses_api() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .prompt_contains("long")
            .reply(Reply::text("The capital of").finish(Finish::Length)),
    );
    let url = format!("{}/v1/responses", mock.url());
    let j = post(&url, &[], &json!({"model": "gpt-5.4", "input": "Capital?"})).json();
    assert!(j["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(j["object"], "response");
    assert_eq!(j["status"], "completed");
    assert_eq!(j["output"][0]["type"], "message");
    assert_eq!(j["output"][0]["content"][0]["type"], "output_text");
    assert_eq!(
        j["output"][0]["content"][0]["text"],
        "mock answer to: Capital?"
    );
    assert!(j["usage"]["total_tokens"].is_u64());
    let j = post(&url, &[], &json!({"model": "gpt-5.4", "input": "long"})).json();
    assert_eq!(j["status"], "incomplete");
    assert_eq!(j["incomplete_details"]["reason"], "max_output_tokens");
}

#[test]
fn unknown_route_is_openai_404() {
    let mock = MockServer::start();
    let r = post(&format!("{}/v1/nope", mock.url()), &[], &json!({}));
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["message"], "Invalid URL (POST /v1/nope)");
    let r = get(&format!("{}/v1/chat/completions", mock.url()));
    assert_eq!(r.status, 404);
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].protocol, None);
    let stats = get(&format!("{}/__mock/stats", mock.url())).json();
    assert_eq!(stats["requests"], 2);
}
