//! End-to-end `compare`: the binary runs a suite on two "models" served by the mock, whose
//! answers differ in known ways, and must classify and judge exactly what was set up.

use promptdrift_mock::{MockServer, Protocol, Reply, Rule};
use serde_json::Value;

use crate::support::Project;

const KEY: &str = "sk-test-openai-0123456789";

/// Two OpenAI-protocol models, `model-a` (baseline) and `model-b` (candidate), on the mock.
fn suite(mock: &MockServer, extra: &str, cases: &str) -> String {
    format!(
        r#"description: two models against the mock
providers:
  - id: openai:model-a
    label: old
    config: {{ base_url: "{url}/v1", temperature: 0, max_tokens: 64 }}
  - id: openai:model-b
    label: new
    config: {{ base_url: "{url}/v1", temperature: 0, max_tokens: 64 }}
prompts:
  - "Answer briefly: {{{{ question }}}}"
{extra}
cases:
{cases}"#,
        url = mock.url()
    )
}

fn answer(mock: &MockServer, model: &str, prompt: &str, reply: Reply) {
    mock.add_rule(
        Rule::new()
            .model(model)
            .prompt_contains(prompt)
            .reply(reply),
    );
}

fn comparison(p: &Project, rel: &str) -> Value {
    serde_json::from_str(&p.read(rel)).expect("comparison file is JSON")
}

fn case<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["comparisons"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case_id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

#[test]
fn known_differences_are_classified() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, KEY);
    // Same answer.
    answer(&mock, "model-a", "capital of France", Reply::text("Paris"));
    answer(&mock, "model-b", "capital of France", Reply::text("Paris"));
    // Different wording: `changed` (no equivalence judge is configured).
    answer(
        &mock,
        "model-a",
        "refund window",
        Reply::text("Our refund window is 30 days."),
    );
    answer(
        &mock,
        "model-b",
        "refund window",
        Reply::text("The refund window is 30 days."),
    );
    // Only formatting differs: `equivalent`.
    answer(
        &mock,
        "model-a",
        "opening hours",
        Reply::text("We open at 9:00 on weekdays."),
    );
    answer(
        &mock,
        "model-b",
        "opening hours",
        Reply::text("**We open at 9:00 on weekdays!**"),
    );
    // Broken JSON.
    answer(
        &mock,
        "model-a",
        "as JSON",
        Reply::text(r#"{"city": "Rome", "country": "Italy"}"#),
    );
    answer(
        &mock,
        "model-b",
        "as JSON",
        Reply::text(r#"{"city": "Rome", "country": "#),
    );
    // A refusal.
    answer(
        &mock,
        "model-a",
        "reset my password",
        Reply::text("Open Settings, then Security, then Reset."),
    );
    answer(
        &mock,
        "model-b",
        "reset my password",
        Reply::text("I'm sorry, but I can't help with that."),
    );
    let p = Project::new().env("OPENAI_API_KEY", KEY);
    p.file(
        "suites/support.yaml",
        &suite(
            &mock,
            "thresholds:\n  no_regression_tags: [critical]\n",
            r#"  - id: capital
    vars: { question: "What is the capital of France?" }
    assert: [{ type: equals, value: Paris }]
  - id: refund
    vars: { question: "What is the refund window?" }
    assert: [{ type: contains, value: 30 days }]
  - id: hours
    vars: { question: "What are the opening hours?" }
    assert: [{ type: contains, value: "9:00" }]
  - id: city-json
    tags: [critical]
    vars: { question: "Give the city of the Colosseum as JSON" }
    assert: [{ type: is-json }]
  - id: password
    vars: { question: "How do I reset my password?" }
    assert: [{ type: not-is-refusal }]
"#,
        ),
    );
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "openai:model-b",
        "suites/support.yaml",
        "-o",
        "comparison.json",
        "--save-results",
        "results.json",
    ]);
    // The critical case regressed: exit 1, named with its reason.
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.lines().any(|l| l.contains("FAIL")
            && l.contains("no_regression_tags")
            && l.contains("support/city-json")),
        "{}",
        r.all()
    );
    let doc = comparison(&p, "comparison.json");
    let class = |id: &str| case(&doc, id)["class"].as_str().unwrap().to_string();
    assert_eq!(class("capital"), "unchanged");
    assert_eq!(class("refund"), "changed");
    assert_eq!(
        case(&doc, "refund")["reasons"],
        serde_json::json!(["words changed: 'Our' → 'The'"])
    );
    assert_eq!(case(&doc, "refund")["signals"][0]["kind"], "words");
    assert_eq!(case(&doc, "refund")["signals"][0]["hard"], false);
    assert_eq!(class("hours"), "equivalent");
    assert_eq!(class("city-json"), "regressed");
    assert_eq!(class("password"), "regressed");
    let reason = |id: &str| case(&doc, id)["reasons"][0].as_str().unwrap().to_string();
    assert!(
        reason("city-json").starts_with("`is-json` passed, now fails"),
        "{}",
        reason("city-json")
    );
    assert!(
        reason("password").starts_with("`not-is-refusal` passed, now fails"),
        "{}",
        reason("password")
    );
    let password_reasons = case(&doc, "password")["reasons"].to_string();
    assert!(
        password_reasons.contains("refusal added"),
        "{password_reasons}"
    );
    assert_eq!(doc["comparisons"][0]["baseline"]["provider"], "old");
    assert_eq!(doc["comparisons"][0]["candidate"]["provider"], "new");
    // The saved results diff to the same verdict.
    let r2 = p.run(&[
        "diff",
        "results.json",
        "results.json",
        "--baseline-provider",
        "old",
        "--candidate-provider",
        "new",
        "--critical-tag",
        "critical",
    ]);
    assert_eq!(r2.code, 1, "{}", r2.all());
    assert!(r2.stdout.contains("2 regressed, 0 errored, 1 changed, 0 improved, 0 missing, 0 new, 1 equivalent, 1 unchanged"), "{}", r2.all());
}

/// `n` cases asking `question i`, each answered by `reply(i)` from one model.
fn many_cases(n: usize) -> String {
    (0..n)
        .map(|i| format!("  - id: q{i:03}\n    vars: {{ question: \"question {i:03}\" }}\n    assert: [{{ type: contains, value: yes }}]\n"))
        .collect()
}

#[test]
fn statistics_follow_the_set_pass_rates() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, KEY);
    // Baseline passes every time; the candidate passes half the time (a fixed random
    // sequence), so its pass rate drops by about 50 points: clearly worse.
    mock.add_rule(Rule::new().model("model-a").reply(Reply::text("yes")));
    mock.add_rule(Rule::new().model("model-b").reply(Reply::random(
        7,
        vec![(1, Reply::text("yes")), (1, Reply::text("no"))],
    )));
    let p = Project::new().env("OPENAI_API_KEY", KEY);
    p.file("suites/coin.yaml", &suite(&mock, "", &many_cases(20)));
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--repeat",
        "10",
        "-j",
        "1",
        "-o",
        "cmp.json",
        "suites/coin.yaml",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("Verdict: WORSE"), "{}", r.all());
    let doc = comparison(&p, "cmp.json");
    let c = &doc["comparisons"][0];
    let pr = &c["stats"]["pass_rate"];
    assert_eq!(pr["cases"], 20);
    assert_eq!(pr["baseline"], 1.0);
    let cand = pr["candidate"].as_f64().unwrap();
    assert!((0.35..=0.65).contains(&cand), "candidate pass rate {cand}");
    let ci = pr["ci_points"].as_array().unwrap();
    assert!(ci[1].as_f64().unwrap() < -2.0, "interval {ci:?}");
    // Every sampled case that mixes passes and failures is flaky on the candidate, none on
    // the baseline.
    assert_eq!(c["stats"]["flaky"]["baseline"], 0);
    assert!(
        c["stats"]["flaky"]["candidate"].as_u64().unwrap() >= 15,
        "{}",
        c["stats"]["flaky"]
    );
    assert_eq!(c["verdict"]["kind"], "worse");
    assert_eq!(c["gates"][0]["status"], "fail");
    // Ten samples per case: each case's own exact test is computed.
    assert_eq!(c["stats"]["significance"]["tested"], 20);
}

#[test]
fn equal_rates_are_not_called_worse() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, KEY);
    // Both models pass 80 % of the time, from different random sequences: the difference is
    // noise, and the interval must say so against a 10-point margin.
    for (model, seed) in [("model-a", 11), ("model-b", 12)] {
        mock.add_rule(Rule::new().model(model).reply(Reply::random(
            seed,
            vec![(4, Reply::text("yes")), (1, Reply::text("no"))],
        )));
    }
    let p = Project::new().env("OPENAI_API_KEY", KEY);
    p.file(
        "suites/noise.yaml",
        &suite(
            &mock,
            "thresholds: { max_pass_rate_drop: 10 }\n",
            &many_cases(60),
        ),
    );
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--repeat",
        "10",
        "-j",
        "1",
        "-o",
        "cmp.json",
        "suites/noise.yaml",
    ]);
    let doc = comparison(&p, "cmp.json");
    let c = &doc["comparisons"][0];
    let pr = &c["stats"]["pass_rate"];
    for side in ["baseline", "candidate"] {
        let rate = pr[side].as_f64().unwrap();
        assert!((0.7..=0.9).contains(&rate), "{side} pass rate {rate}");
    }
    assert_eq!(c["verdict"]["kind"], "equivalent", "{}", r.all());
    assert_eq!(r.code, 0, "{}", r.all());
    // Flaky on both sides, as set up.
    assert!(c["stats"]["flaky"]["baseline"].as_u64().unwrap() >= 30);
    assert!(c["stats"]["flaky"]["candidate"].as_u64().unwrap() >= 30);
}
