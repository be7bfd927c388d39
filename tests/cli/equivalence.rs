//! The opt-in equivalence judge (`drift.equivalence`) through the binary, against the mock:
//! embeddings with a threshold and a chat model; what is asked (only soft differences), what
//! the reasons say, the cache, cassettes, cost, failures, and `compare --results` / `diff`.

use promptdrift_mock::{MockServer, Protocol, Reply, Rule};
use serde_json::Value;

use crate::support::Project;

const KEY: &str = "sk-test-openai-equivalence-0123";

/// Two models on the mock answering four cases: one the same, one reworded, one negated, one
/// about something else.
fn answers(mock: &MockServer) {
    let pairs = [
        ("capital", "Paris.", "Paris."),
        (
            "refund",
            "Our refund window is 30 days.",
            "The refund window is 30 days.",
        ),
        (
            "jacket",
            "The jacket is waterproof.",
            "The jacket is not waterproof.",
        ),
        ("opening", "The store opens at 9.", "Doors open at 9."),
    ];
    for (q, a, b) in pairs {
        for (model, text) in [("model-a", a), ("model-b", b)] {
            mock.add_rule(
                Rule::new()
                    .model(model)
                    .prompt_contains(format!("question {q}"))
                    .reply(Reply::text(text)),
            );
        }
    }
}

fn suite(mock: &MockServer, drift: &str) -> String {
    format!(
        r#"providers:
  - id: openai:model-a
    label: old
    config: {{ base_url: "{url}/v1" }}
  - id: openai:model-b
    label: new
    config: {{ base_url: "{url}/v1" }}
prompts: ["Answer {{{{ q }}}}"]
{drift}
cases:
  - {{ id: capital, vars: {{ q: question capital }}, assert: [{{ type: icontains, value: paris }}] }}
  - {{ id: refund, vars: {{ q: question refund }}, assert: [{{ type: contains, value: "30" }}] }}
  - {{ id: jacket, vars: {{ q: question jacket }}, assert: [{{ type: icontains, value: jacket }}] }}
  - {{ id: opening, vars: {{ q: question opening }}, assert: [{{ type: contains, value: "9" }}] }}
"#,
        url = mock.url()
    )
}

fn project(mock: &MockServer) -> Project {
    Project::new()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &format!("{}/v1", mock.url()))
}

fn case<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["comparisons"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case_id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

fn compare(p: &Project, extra: &[&str]) -> (crate::support::Run, Value) {
    let mut args = vec![
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "suites/s.yaml",
        "-o",
        "cmp.json",
    ];
    args.extend_from_slice(extra);
    let r = p.run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = serde_json::from_str(&p.read("cmp.json")).unwrap();
    (r, doc)
}

fn embedding_requests(mock: &MockServer) -> Vec<String> {
    mock.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/embeddings"))
        .map(|r| {
            r.body_json().unwrap()["input"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn an_embeddings_judge_hears_only_soft_changes_and_is_cached() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiEmbeddings, KEY);
    answers(&mock);
    // Cosine 0.96 for the reworded pair; 0.5 for the other one.
    for (text, v) in [
        ("Our refund window is 30 days.", vec![1.0, 0.0]),
        ("The refund window is 30 days.", vec![0.96, 0.28]),
        ("The store opens at 9.", vec![1.0, 0.0]),
        ("Doors open at 9.", vec![0.5, 0.866_025_4]),
    ] {
        mock.add_rule(
            Rule::new()
                .protocol(Protocol::OpenAiEmbeddings)
                .prompt_contains(text)
                .reply(Reply::embeddings(vec![v])),
        );
    }
    let p = project(&mock);
    p.file(
        "suites/s.yaml",
        &suite(
            &mock,
            "drift:\n  equivalence:\n    embeddings: openai:text-embedding-3-small\n    threshold: 0.9",
        ),
    );
    let (r, doc) = compare(&p, &["--save-results", "results.json"]);
    assert_eq!(case(&doc, "capital")["class"], "unchanged");
    let refund = case(&doc, "refund");
    assert_eq!(refund["class"], "equivalent", "{refund}");
    assert_eq!(
        refund["reasons"][0],
        "equivalent (embeddings cosine 0.96 ≥ 0.90, openai:text-embedding-3-small), same outcomes"
    );
    // The deterministic reasons stay, after the judge's.
    assert_eq!(refund["reasons"][1], "words changed: 'Our' → 'The'");
    let jacket = case(&doc, "jacket");
    assert_eq!(jacket["class"], "changed");
    assert_eq!(jacket["reasons"][0], "negation added: 'not waterproof'");
    assert_eq!(
        jacket["reasons"].as_array().unwrap().last().unwrap(),
        "not sent to the equivalence judge: a hard change decides"
    );
    let opening = case(&doc, "opening");
    assert_eq!(opening["class"], "changed");
    assert!(
        opening["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "embeddings cosine 0.50 < 0.90 (openai:text-embedding-3-small)"),
        "{opening}"
    );
    // Each distinct answer of the two soft cases was embedded once; the negated pair never.
    let mut sent = embedding_requests(&mock);
    sent.sort();
    assert_eq!(
        sent,
        [
            "Doors open at 9.",
            "Our refund window is 30 days.",
            "The refund window is 30 days.",
            "The store opens at 9."
        ]
    );
    let j = &doc["comparisons"][0]["equivalence"];
    assert_eq!(j["asked"], 2);
    assert_eq!(
        (j["equivalent"].as_u64(), j["different"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (j["requests"].as_u64(), j["from_cache"].as_u64()),
        (Some(4), Some(0))
    );
    // The mock reports usage; text-embedding-3-small has a price.
    assert!(j["cost_usd"].as_f64().unwrap() > 0.0, "{j}");
    assert!(j["input_tokens"].as_u64().unwrap() > 0, "{j}");
    assert!(
        r.stdout.contains(
            "Equivalence judge openai:text-embedding-3-small (embeddings, cosine ≥ 0.9): 2 answer pair(s) asked, 1 equivalent, 1 different; 4 request(s), cost $"
        ),
        "{}",
        r.all()
    );
    // No key in any output.
    assert!(!r.all().contains(KEY));
    assert!(!p.read("cmp.json").contains(KEY));

    // Again: every judge request comes from the response cache, and the report says so.
    let (r, doc) = compare(&p, &[]);
    assert_eq!(embedding_requests(&mock).len(), 4);
    assert_eq!(case(&doc, "refund")["class"], "equivalent");
    let j = &doc["comparisons"][0]["equivalence"];
    assert_eq!(j["from_cache"], 4, "{j}");
    assert!(
        r.stdout.contains("4 request(s), 4 from the cache"),
        "{}",
        r.all()
    );

    // From saved results, and with `diff --suite`: the same classes.
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "suites/s.yaml",
        "--results",
        "results.json",
        "-o",
        "from-results.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: Value = serde_json::from_str(&p.read("from-results.json")).unwrap();
    assert_eq!(case(&doc, "refund")["class"], "equivalent");
    assert_eq!(case(&doc, "opening")["class"], "changed");
    let r = p.run(&[
        "diff",
        "results.json",
        "results.json",
        "--baseline-provider",
        "old",
        "--candidate-provider",
        "new",
        "--suite",
        "suites/s.yaml",
        "-o",
        "diff.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: Value = serde_json::from_str(&p.read("diff.json")).unwrap();
    assert_eq!(case(&doc, "refund")["class"], "equivalent");
    // Without the suite, `diff` has no judge: the rules alone decide.
    let r = p.run(&[
        "diff",
        "results.json",
        "results.json",
        "--baseline-provider",
        "old",
        "--candidate-provider",
        "new",
        "-o",
        "plain.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: Value = serde_json::from_str(&p.read("plain.json")).unwrap();
    assert_eq!(case(&doc, "refund")["class"], "changed");
    assert!(doc["comparisons"][0].get("equivalence").is_none());
    assert_eq!(embedding_requests(&mock).len(), 4);
}

fn judge_rule(mock: &MockServer, needle: &str, reply: Reply) {
    mock.add_rule(
        Rule::new()
            .model("gpt-4o-mini")
            .prompt_contains(needle)
            .reply(reply),
    );
}

#[test]
fn a_chat_judge_gives_its_reason_is_costed_recorded_and_replayed() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, KEY);
    answers(&mock);
    judge_rule(
        &mock,
        "Our refund window",
        Reply::text(r#"{"equivalent": true, "reason": "Both say 30 days."}"#).usage(100, 10),
    );
    judge_rule(
        &mock,
        "Doors open",
        Reply::text("I think they differ, maybe").usage(100, 10),
    );
    let p = project(&mock);
    p.file(
        "suites/s.yaml",
        &suite(
            &mock,
            "grader: { id: openai:gpt-4o-mini, config: { temperature: 0 } }\ndrift:\n  equivalence:\n    chat: openai:gpt-4o-mini",
        ),
    );
    let (r, doc) = compare(&p, &["--mode", "record"]);
    let refund = case(&doc, "refund");
    assert_eq!(refund["class"], "equivalent", "{refund}");
    assert_eq!(
        refund["reasons"][0],
        "equivalent (chat judge openai:gpt-4o-mini: Both say 30 days.), same outcomes"
    );
    // A reply that is not the asked-for JSON: no judgment, the case stays `changed`.
    let opening = case(&doc, "opening");
    assert_eq!(opening["class"], "changed");
    let last = opening["reasons"].as_array().unwrap().last().unwrap();
    assert_eq!(
        last,
        "equivalence judge failed: chat judge `openai:gpt-4o-mini`: the judge's reply holds no JSON object: \"I think they differ, maybe\""
    );
    assert_eq!(case(&doc, "jacket")["class"], "changed");
    // What the judge was sent: the instructions, the prompt and both answers, with the grader
    // entry's settings.
    let asked: Vec<Value> = mock
        .requests()
        .into_iter()
        .filter_map(|r| r.body_json())
        .filter(|b| b["model"] == "gpt-4o-mini")
        .collect();
    assert_eq!(asked.len(), 2);
    let refund_ask = asked
        .iter()
        .find(|b| b.to_string().contains("Our refund window"))
        .unwrap();
    assert_eq!(refund_ask["temperature"], 0.0);
    let system = refund_ask["messages"][0]["content"].as_str().unwrap();
    assert!(system.starts_with("You compare two answers"), "{system}");
    let user = refund_ask["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("Prompt:\n<<<\nuser: Answer question refund")
            && user.contains("Answer A:\n<<<\nOur refund window is 30 days.\n>>>")
            && user.contains("Answer B:\n<<<\nThe refund window is 30 days.\n>>>"),
        "{user}"
    );
    // Cost from the price table: gpt-4o-mini, 100 in + 10 out per request, two requests.
    let j = &doc["comparisons"][0]["equivalence"];
    let want = 2.0 * (100.0 * 0.15 + 10.0 * 0.60) / 1e6;
    assert!(
        (j["cost_usd"].as_f64().unwrap() - want).abs() < 1e-12,
        "{j}"
    );
    assert_eq!(
        (j["input_tokens"].as_u64(), j["output_tokens"].as_u64()),
        (Some(200), Some(20))
    );
    assert_eq!(j["failed"], 1);
    assert!(r.stdout.contains("1 failed (left `changed`"), "{}", r.all());
    assert!(p.exists("fixtures/cassettes/s/grader-openai-gpt-4o-mini.yaml"));

    // Replayed without the mock: the same judgments, from the cassettes.
    drop(mock);
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "suites/s.yaml",
        "--mode",
        "replay",
        "-o",
        "replayed.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: Value = serde_json::from_str(&p.read("replayed.json")).unwrap();
    assert_eq!(case(&doc, "refund")["class"], "equivalent");
    let j = &doc["comparisons"][0]["equivalence"];
    assert_eq!(j["from_cassette"], 2, "{j}");
}

#[test]
fn a_judge_without_its_key_is_a_warning_for_validate_and_bad_input_for_compare() {
    let mock = MockServer::start();
    answers(&mock);
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        &suite(
            &mock,
            "drift:\n  equivalence:\n    chat: openai:gpt-4o-mini",
        )
        .replace("config: {", "config: { api_key_env: ANSWER_KEY,"),
    );
    let p = p.env("ANSWER_KEY", "k");
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("OPENAI_API_KEY"), "{}", r.all());
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "suites/s.yaml",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("drift.equivalence.chat"), "{}", r.all());
}
