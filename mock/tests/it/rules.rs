//! Rule matching: order, `.times(n)`, each condition, default echo, seeded random replies.

use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
use serde_json::json;

use crate::support::*;

fn chat_text(r: &Resp) -> String {
    r.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn first_match_wins_and_times_limits() {
    let mock = MockServer::start();
    let limited = mock.add_rule(
        Rule::new()
            .times(2)
            .reply(Reply::error(ErrorKind::RateLimited)),
    );
    let ok = mock.add_rule(Rule::new().reply(Reply::text("ok")));
    mock.add_rule(Rule::new().reply(Reply::text("never")));
    let statuses: Vec<u16> = (0..4)
        .map(|_| send(&mock, Protocol::OpenAiChat, "x").status)
        .collect();
    assert_eq!(statuses, [429, 429, 200, 200]);
    assert_eq!(limited.hits(), 2);
    assert!(limited.is_exhausted());
    assert_eq!(ok.hits(), 2);
    assert!(!ok.is_exhausted());
    let rules: Vec<Option<usize>> = mock.requests().iter().map(|r| r.rule).collect();
    assert_eq!(rules, [Some(0), Some(0), Some(1), Some(1)]);
}

#[test]
fn default_is_echo_and_can_change() {
    let mock = MockServer::start();
    let r = send(&mock, Protocol::OpenAiChat, "What is 2+2?");
    assert_eq!(chat_text(&r), "mock answer to: What is 2+2?");
    assert_eq!(mock.requests()[0].rule, None);
    mock.set_default_reply(Reply::text("default"));
    assert_eq!(
        chat_text(&send(&mock, Protocol::OpenAiChat, "x")),
        "default"
    );
}

#[test]
fn model_matching_per_protocol() {
    let mock = MockServer::start();
    for (model, text) in [
        ("gpt-a", "openai"),
        ("my-deploy", "azure"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "bedrock"),
        ("gemini-2.5-flash", "gemini"),
        ("claude-x", "anthropic"),
        ("llama3.2", "ollama"),
    ] {
        mock.add_rule(Rule::new().model(model).reply(Reply::text(text)));
    }
    let u = mock.url();
    let r = post(
        &format!("{u}/v1/chat/completions"),
        &[],
        &chat_body("gpt-a", "x"),
    );
    assert_eq!(chat_text(&r), "openai");
    let r = post(
        &format!("{u}/openai/deployments/my-deploy/chat/completions?api-version=2024-10-21"),
        &[("api-key", "k")],
        &json!({"model": "ignored", "messages": [{"role": "user", "content": "x"}]}),
    );
    assert_eq!(chat_text(&r), "azure");
    let r = bedrock_post(
        &mock,
        &creds(),
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
        &converse_body("x"),
    );
    assert_eq!(
        r.json()["output"]["message"]["content"][0]["text"],
        "bedrock"
    );
    let r = post(
        &format!("{u}/v1beta/models/gemini-2.5-flash:generateContent"),
        &[("x-goog-api-key", "k")],
        &gemini_body("x"),
    );
    assert_eq!(
        r.json()["candidates"][0]["content"]["parts"][0]["text"],
        "gemini"
    );
    let r = post(
        &format!("{u}/v1/messages"),
        ANTHROPIC_HEADERS,
        &anthropic_body("claude-x", "x"),
    );
    assert_eq!(r.json()["content"][0]["text"], "anthropic");
    let r = post(
        &format!("{u}/api/chat"),
        &[],
        &json!({"model": "llama3.2", "stream": false, "messages": [{"role": "user", "content": "x"}]}),
    );
    assert_eq!(r.json()["message"]["content"], "ollama");
}

#[test]
fn conditions() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::Anthropic)
            .reply(Reply::text("anthropic only")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("capital")
            .prompt_contains("France")
            .reply(Reply::text("Paris")),
    );
    mock.add_rule(
        Rule::new()
            .body_contains("\"temperature\":0")
            .reply(Reply::text("cold")),
    );
    mock.add_rule(
        Rule::new()
            .header_value("x-case", "7")
            .reply(Reply::text("case 7")),
    );
    mock.add_rule(Rule::new().header("x-flag").reply(Reply::text("flagged")));
    mock.add_rule(Rule::new().stream(true).reply(Reply::text("streamed")));
    mock.add_rule(
        Rule::new()
            .when(|r| r.body_json().is_some_and(|j| j["seed"] == 7))
            .reply(Reply::text("seeded")),
    );
    let url = format!("{}/v1/chat/completions", mock.url());
    // The last user message is what counts, not the system prompt or earlier turns.
    let body = json!({"model": "m", "messages": [
        {"role": "system", "content": "capital France"},
        {"role": "user", "content": "What is the capital of France?"}]});
    assert_eq!(chat_text(&post(&url, &[], &body)), "Paris");
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris"},
        {"role": "user", "content": "And Spain?"}]});
    assert!(chat_text(&post(&url, &[], &body)).starts_with("mock answer to: And Spain?"));
    let mut body = chat_body("m", "x");
    body["temperature"] = 0.into();
    assert_eq!(chat_text(&post(&url, &[], &body)), "cold");
    assert_eq!(
        chat_text(&post(&url, &[("x-case", "7")], &chat_body("m", "x"))),
        "case 7"
    );
    assert!(
        chat_text(&post(&url, &[("x-case", "8")], &chat_body("m", "x"))).starts_with("mock answer")
    );
    assert_eq!(
        chat_text(&post(&url, &[("x-flag", "")], &chat_body("m", "x"))),
        "flagged"
    );
    let mut body = chat_body("m", "x");
    body["seed"] = 7.into();
    assert_eq!(chat_text(&post(&url, &[], &body)), "seeded");
    let mut body = chat_body("m", "x");
    body["stream"] = true.into();
    assert!(post(&url, &[], &body).text().contains("streamed"));
    let r = send(&mock, Protocol::Anthropic, "capital of France");
    assert_eq!(r.json()["content"][0]["text"], "anthropic only");
}

#[test]
fn random_replies_are_seeded() {
    fn run(seed: u64) -> Vec<u16> {
        let mock = MockServer::start();
        mock.add_rule(Rule::new().reply(Reply::random(
            seed,
            vec![
                (7, Reply::text("pass")),
                (3, Reply::error(ErrorKind::Server)),
            ],
        )));
        (0..200)
            .map(|_| send(&mock, Protocol::OpenAiChat, "x").status)
            .collect()
    }
    let a = run(42);
    let ok = a.iter().filter(|s| **s == 200).count();
    assert!(
        (120..=160).contains(&ok),
        "{ok}/200 passed, expected about 140"
    );
    assert!(a.iter().all(|s| *s == 200 || *s == 500));
    assert_eq!(run(42), a, "same seed, same sequence");
    assert_ne!(run(43), a, "another seed, another sequence");
}

#[test]
fn random_can_nest_faults_and_delays() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(
        Reply::random(1, vec![(1, Reply::text("a")), (1, Reply::text("b"))]).header("x-outer", "1"),
    ));
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let r = send(&mock, Protocol::OpenAiChat, "x");
        assert_eq!(r.header("x-outer"), Some("1"));
        seen.insert(chat_text(&r));
    }
    assert_eq!(seen.len(), 2);
}

#[test]
fn requests_are_recorded_exactly() {
    let mock = MockServer::start();
    let r = post(
        &format!("{}/v1/chat/completions?x=1", mock.url()),
        &[
            ("authorization", "Bearer sk-secret"),
            ("X-Custom", "Value With Case"),
        ],
        &chat_body("gpt-a", "hello"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(mock.request_count(), 1);
    let reqs = mock.requests();
    let req = &reqs[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.query.as_deref(), Some("x=1"));
    assert_eq!(req.header("Authorization"), Some("Bearer sk-secret"));
    assert_eq!(req.header("x-custom"), Some("Value With Case"));
    assert_eq!(req.model.as_deref(), Some("gpt-a"));
    assert_eq!(req.prompt.as_deref(), Some("hello"));
    assert_eq!(req.body_json().unwrap(), chat_body("gpt-a", "hello"));
    assert!(req.contains("sk-secret"));
    assert!(!req.stream);
    assert_eq!(
        mock.request_count_matching(|r| r.model.as_deref() == Some("gpt-a")),
        1
    );
    mock.clear_requests();
    assert_eq!(mock.request_count(), 0);
    assert!(mock.requests().is_empty());
    send(&mock, Protocol::OpenAiChat, "x");
    assert_eq!(mock.request_count(), 1);
}

#[test]
fn record_limit_keeps_the_first_n() {
    let mock = MockServer::builder().record_limit(2).start();
    for p in ["a", "b", "c"] {
        send(&mock, Protocol::OpenAiChat, p);
    }
    let prompts: Vec<String> = mock
        .requests()
        .into_iter()
        .filter_map(|r| r.prompt)
        .collect();
    assert_eq!(prompts, ["a", "b"]);
    assert_eq!(mock.request_count(), 3);
}

#[test]
fn clear_rules() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::text("ruled")));
    assert_eq!(chat_text(&send(&mock, Protocol::OpenAiChat, "x")), "ruled");
    mock.clear_rules();
    assert_eq!(
        chat_text(&send(&mock, Protocol::OpenAiChat, "x")),
        "mock answer to: x"
    );
}
