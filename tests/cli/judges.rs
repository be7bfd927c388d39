//! Judges end to end (issue 5): the binary against the local mock acting as the models under
//! test *and* as the grader and the embedder. The mock answers grading prompts with prepared
//! verdicts (rules matching the grader's model and the prompt text) and embeddings with fixed
//! vectors. Covered: llm-rubric pass/fail, a malformed grader answer (retried once, then an
//! error), a grader outage (5xx after retries: the case is an error), factuality, closed QA,
//! answer relevance, `similar` above and below its threshold (and its cache), `command`
//! pass/fail/timeout/bad output/missing program, `select-best` over three providers, record then
//! replay of grader and embedder calls, validation errors, and the metrics summary.

use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
use serde_json::{Value, json};

use crate::support::Project;

const KEY: &str = "sk-test-judges-0123456789";

fn project() -> Project {
    Project::new().env("OPENAI_API_KEY", KEY)
}

/// A suite with one model under test (`gpt-a`), the grader `judge` and the embedder `embed`,
/// all on the mock.
fn suite(mock: &MockServer, cases: &str) -> String {
    format!(
        r#"providers:
  - id: openai:gpt-a
    label: gpt-a
    config: {{ base_url: "{url}/v1" }}
grader:
  id: openai:judge-model
  label: judge
  config: {{ base_url: "{url}/v1", temperature: 0 }}
embedder:
  id: openai:embed-model
  label: embed
  config: {{ base_url: "{url}/v1" }}
prompts:
  - "{{{{ question }}}}"
cases:
{cases}"#,
        url = mock.url()
    )
}

fn results(p: &Project) -> Value {
    serde_json::from_str(&p.read("out/results.json")).expect("results file is JSON")
}

fn result<'a>(doc: &'a Value, case: &str, provider: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"] == case && r["provider"] == provider)
        .unwrap_or_else(|| panic!("no result for {case} × {provider}: {doc:#}"))
}

fn model_requests(mock: &MockServer, model: &str) -> usize {
    mock.request_count_matching(|r| r.model.as_deref() == Some(model))
}

fn answers(mock: &MockServer, pairs: &[(&str, &str)]) {
    for (q, a) in pairs {
        mock.add_rule(
            Rule::new()
                .model("gpt-a")
                .prompt_contains(*q)
                .reply(Reply::text(*a)),
        );
    }
}

fn run(p: &Project, extra: &[&str]) -> crate::support::Run {
    let mut args = vec![
        "run",
        "suites/judges.yaml",
        "-o",
        "out/results.json",
        "--no-cache",
    ];
    args.extend_from_slice(extra);
    p.run(&args)
}

#[test]
fn llm_rubric_passes_and_fails_on_the_graders_verdict() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, KEY);
    answers(
        &mock,
        &[("France", "Paris."), ("Italy", "I think it is Milan.")],
    );
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("<answer>\nParis.\n</answer>")
            .reply(Reply::json_text(
                json!({"reason": "It names Paris.", "pass": true, "score": 0.9}),
            )),
    );
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("Milan")
            .reply(Reply::json_text(
                json!({"reason": "Milan is not the capital.", "pass": false, "score": 0.1}),
            )),
    );
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: france
    vars: { question: "Capital of France?" }
    assert:
      - type: llm-rubric
        value: Names the correct capital city
        metric: correctness
  - id: italy
    vars: { question: "Capital of Italy?" }
    assert:
      - type: llm-rubric
        value: Names the correct capital city
        metric: correctness
"#,
        ),
    );
    let r = run(&p, &[]);
    assert_eq!(r.code, 1, "one case fails: {}", r.all());
    let doc = results(&p);
    let ok = result(&doc, "france", "gpt-a");
    assert_eq!(ok["status"], "passed");
    assert_eq!(ok["assertions"][0]["pass"], true);
    assert_eq!(ok["assertions"][0]["score"], 0.9);
    assert_eq!(
        ok["assertions"][0]["reason"],
        "grader: It names Paris. (score 0.9)"
    );
    let bad = result(&doc, "italy", "gpt-a");
    assert_eq!(bad["status"], "failed");
    assert_eq!(
        bad["assertions"][0]["reason"],
        "grader: Milan is not the capital. (score 0.1)"
    );
    assert!(
        r.stdout
            .contains("llm-rubric: grader: Milan is not the capital."),
        "{}",
        r.stdout
    );
    // One grader call per answer, with the grader's own settings.
    assert_eq!(model_requests(&mock, "judge-model"), 2);
    let grader_req = mock
        .requests()
        .into_iter()
        .find(|q| q.model.as_deref() == Some("judge-model"))
        .unwrap();
    assert_eq!(
        grader_req.body_json().unwrap()["temperature"].as_f64(),
        Some(0.0)
    );
    assert_eq!(
        grader_req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    // Named metrics are aggregated per provider, in the report and the results file.
    assert!(r.stdout.contains("Metrics"), "{}", r.stdout);
    let m = &doc["summary"]["metrics"];
    assert_eq!(m[0]["provider"], "gpt-a");
    assert_eq!(m[0]["metric"], "correctness");
    assert_eq!(m[0]["count"], 2);
    assert_eq!(m[0]["passed"], 1);
    assert!((m[0]["mean"].as_f64().unwrap() - 0.5).abs() < 1e-9, "{m}");
}

#[test]
fn a_malformed_grader_answer_is_retried_once_then_an_error() {
    let mock = MockServer::start();
    answers(
        &mock,
        &[("first", "Answer one."), ("second", "Answer two.")],
    );
    // Case `once`: prose first, then (asked again) the JSON.
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("could not be read")
            .body_contains("Answer one.")
            .reply(Reply::json_text(
                json!({"pass": true, "score": 1, "reason": "fine"}),
            )),
    );
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("Answer one.")
            .reply(Reply::text("Looks good to me!")),
    );
    // Case `never`: never JSON.
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .body_contains("Answer two.")
            .reply(Reply::text("I would say it passes.")),
    );
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: once
    vars: { question: "first" }
    assert:
      - type: llm-rubric
        value: Is an answer
  - id: never
    vars: { question: "second" }
    assert:
      - type: contains
        value: Answer
      - type: llm-rubric
        value: Is an answer
"#,
        ),
    );
    let r = run(&p, &[]);
    assert_eq!(
        r.code,
        3,
        "a case that cannot be judged is an error: {}",
        r.all()
    );
    let doc = results(&p);
    let once = result(&doc, "once", "gpt-a");
    assert_eq!(once["status"], "passed", "{once:#}");
    let never = result(&doc, "never", "gpt-a");
    assert_eq!(never["status"], "error");
    assert_eq!(never["output"], "Answer two.", "the answer is kept");
    assert_eq!(never["assertions"][0]["pass"], true);
    let a = &never["assertions"][1];
    assert_eq!(a["pass"], false);
    assert_eq!(a["score"], 0.0);
    assert!(
        a["reason"]
            .as_str()
            .unwrap()
            .contains("the grader's answer could not be read, twice"),
        "{a}"
    );
    assert_eq!(never["error"]["class"], "protocol");
    // Two grader calls per case: the answer, then the repair turn.
    assert_eq!(model_requests(&mock, "judge-model"), 4);
    assert!(
        r.stdout.contains("ERROR never × gpt-a (protocol)"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_grader_outage_makes_the_case_an_error() {
    let mock = MockServer::start();
    answers(&mock, &[("France", "Paris.")]);
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .reply(Reply::error(ErrorKind::Server).header("retry-after-ms", "5")),
    );
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: france
    vars: { question: "Capital of France?" }
    assert:
      - type: contains
        value: Paris
      - type: llm-rubric
        value: Names the capital
"#,
        ),
    );
    let r = run(&p, &["--max-retries", "2"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let doc = results(&p);
    let res = result(&doc, "france", "gpt-a");
    assert_eq!(res["status"], "error");
    assert_eq!(res["error"]["class"], "server");
    let msg = res["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains(
            "`llm-rubric` could not be judged: grader `judge` failed after 3 attempts: HTTP 500"
        ),
        "{msg}"
    );
    assert_eq!(res["output"], "Paris.");
    assert_eq!(res["assertions"][0]["pass"], true);
    assert_eq!(
        model_requests(&mock, "judge-model"),
        3,
        "first attempt + 2 retries"
    );
    assert!(
        r.stdout.contains("1 result: 0 passed, 0 failed, 1 error"),
        "{}",
        r.stdout
    );
}

#[test]
fn factuality_and_closed_qa() {
    let mock = MockServer::start();
    answers(
        &mock,
        &[
            ("Paris", "Paris is in France, on the Seine."),
            ("Rome", "Rome is in Spain."),
        ],
    );
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("<expert_answer>")
            .prompt_contains("on the Seine")
            .reply(Reply::json_text(
                json!({"category": "B", "reason": "adds the river"}),
            )),
    );
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("<expert_answer>")
            .reply(Reply::json_text(
                json!({"category": "D", "reason": "Spain is wrong"}),
            )),
    );
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("<criterion>")
            .prompt_contains("Seine")
            .reply(Reply::text("The answer names a river.\nY")),
    );
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("<criterion>")
            .reply(Reply::text("No river is named.\nN")),
    );
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: paris
    vars: { question: "Where is Paris?" }
    assert:
      - type: factuality
        value: Paris is in France.
      - type: model-graded-closedqa
        value: names a river
  - id: rome
    vars: { question: "Where is Rome?" }
    assert:
      - type: model-graded-factuality
        value: Rome is in Italy.
      - type: model-graded-closedqa
        value: names a river
"#,
        ),
    );
    let r = run(&p, &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p);
    let paris = result(&doc, "paris", "gpt-a");
    assert_eq!(paris["status"], "passed");
    assert!(
        paris["assertions"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("grader: (B) the answer is a superset of the reference")
    );
    assert_eq!(
        paris["assertions"][1]["reason"],
        "grader: the answer meets the criterion: The answer names a river."
    );
    let rome = result(&doc, "rome", "gpt-a");
    assert_eq!(rome["assertions"][0]["pass"], false);
    assert_eq!(rome["assertions"][0]["type"], "factuality");
    assert_eq!(rome["assertions"][1]["pass"], false);
}

fn embedding_rules(mock: &MockServer) {
    for (text, v) in [
        ("Paris is the capital of France.", vec![1.0, 0.0]),
        ("The capital of France is Paris.", vec![0.8, 0.6]),
        ("Bananas are yellow.", vec![0.0, 1.0]),
    ] {
        mock.add_rule(
            Rule::new()
                .protocol(Protocol::OpenAiEmbeddings)
                .prompt_contains(text)
                .reply(Reply::embeddings(vec![v])),
        );
    }
}

#[test]
fn similar_above_and_below_the_threshold_and_embeddings_are_cached() {
    let mock = MockServer::start();
    answers(
        &mock,
        &[
            ("France", "Paris is the capital of France."),
            ("fruit", "Bananas are yellow."),
        ],
    );
    embedding_rules(&mock);
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: close
    vars: { question: "Capital of France?" }
    assert:
      - type: similar
        value: The capital of France is Paris.
        metric: closeness
  - id: far
    vars: { question: "A fruit?" }
    assert:
      - type: similar
        value: The capital of France is Paris.
        threshold: 0.7
        metric: closeness
"#,
        ),
    );
    let r = p.run(&["run", "suites/judges.yaml", "-o", "out/results.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p);
    let close = result(&doc, "close", "gpt-a");
    assert_eq!(close["status"], "passed");
    assert!((close["assertions"][0]["score"].as_f64().unwrap() - 0.8).abs() < 1e-6);
    assert_eq!(
        close["assertions"][0]["reason"],
        "cosine similarity 0.800 with the reference (≥ threshold 0.75)"
    );
    let far = result(&doc, "far", "gpt-a");
    assert_eq!(far["status"], "failed");
    assert_eq!(
        far["assertions"][0]["reason"],
        "cosine similarity 0.600 with the reference (< threshold 0.7)"
    );
    // The reference is embedded once for both cases: 3 distinct texts, 3 requests.
    let embed_calls =
        || mock.request_count_matching(|r| r.protocol == Some(Protocol::OpenAiEmbeddings));
    assert_eq!(embed_calls(), 3);
    for q in mock
        .requests()
        .iter()
        .filter(|q| q.protocol == Some(Protocol::OpenAiEmbeddings))
    {
        assert_eq!(q.model.as_deref(), Some("embed-model"));
        assert_eq!(
            q.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
    // A second run answers every embedding (and chat) from the response cache.
    let r2 = p.run(&["run", "suites/judges.yaml", "-o", "out/results.json"]);
    assert_eq!(r2.code, 1, "{}", r2.all());
    assert_eq!(embed_calls(), 3, "embeddings came from the cache");
    assert_eq!(results(&p)["summary"]["metrics"][0]["count"], 2);
    // No key in anything written.
    for f in p.all_files() {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(!text.contains(KEY), "{} holds the key", f.display());
    }
}

/// An OpenAI embeddings response holding `vector` as it is written (no f32 in the way).
fn raw_embedding(vector: &str) -> Reply {
    Reply::raw(
        200,
        &[("content-type", "application/json")],
        format!(
            r#"{{"object":"list","data":[{{"object":"embedding","index":0,"embedding":{vector}}}],"model":"embed-model","usage":{{"prompt_tokens":2,"total_tokens":2}}}}"#
        ),
    )
}

/// Issue 11 §4: embedding components beyond f32's range (±3.4e38) are kept as f64, and the
/// cosine of vectors whose squares overflow even f64 is still right; a component JSON cannot
/// hold as a number (`1e400`) is a clear error on the case, never `-inf` or `NaN`.
#[test]
fn similar_keeps_embeddings_in_f64() {
    let mock = MockServer::start();
    answers(
        &mock,
        &[
            ("beyond f32", "answer-one"),
            ("beyond f64 squares", "answer-two"),
            ("out of range", "answer-three"),
        ],
    );
    for (text, vector) in [
        ("answer-one", "[1e39, 1e39]"),
        ("reference-one", "[2e39, 0]"),
        ("answer-two", "[1e200, 0, 1e200]"),
        ("reference-two", "[1e-200, 0, 1e-200]"),
        ("answer-three", "[1e400, 0]"),
        ("reference-three", "[1, 0]"),
    ] {
        mock.add_rule(
            Rule::new()
                .protocol(Protocol::OpenAiEmbeddings)
                .prompt_contains(text)
                .reply(raw_embedding(vector)),
        );
    }
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: beyond-f32
    vars: { question: "beyond f32" }
    assert:
      - { type: similar, value: reference-one, threshold: 0.7 }
  - id: beyond-f64-squares
    vars: { question: "beyond f64 squares" }
    assert:
      - { type: similar, value: reference-two, threshold: 0.99 }
  - id: out-of-range
    vars: { question: "out of range" }
    assert:
      - { type: similar, value: reference-three }
"#,
        ),
    );
    let r = p.run(&[
        "run",
        "suites/judges.yaml",
        "--no-cache",
        "-o",
        "out/results.json",
    ]);
    assert_eq!(
        r.code,
        3,
        "the out-of-range vector is an error: {}",
        r.all()
    );
    let doc = results(&p);
    let one = result(&doc, "beyond-f32", "gpt-a");
    assert_eq!(one["status"], "passed", "{one:#}");
    let score = one["assertions"][0]["score"].as_f64().unwrap();
    assert!(
        (score - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12,
        "{score}"
    );
    assert_eq!(
        one["assertions"][0]["reason"],
        "cosine similarity 0.707 with the reference (≥ threshold 0.7)"
    );
    let two = result(&doc, "beyond-f64-squares", "gpt-a");
    assert_eq!(two["status"], "passed", "{two:#}");
    assert!((two["assertions"][0]["score"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let three = result(&doc, "out-of-range", "gpt-a");
    assert_eq!(three["status"], "error", "{three:#}");
    let why = three["error"]["message"].as_str().unwrap();
    assert!(
        why.contains("embed") && why.contains("out of range"),
        "{why}"
    );
    assert!(
        !r.stdout.contains("inf") && !r.stdout.contains("NaN"),
        "{}",
        r.all()
    );
}

/// Two suites of one run, each with its embedder `openai:embed-model` on its own server: each
/// suite's `similar` uses its own server's vectors (the in-run embeddings memo is keyed by
/// the host too).
#[test]
fn embedders_with_one_id_on_two_servers_do_not_answer_for_each_other() {
    let (near, far) = (MockServer::start(), MockServer::start());
    for (mock, reference) in [(&near, "[1, 0]"), (&far, "[0, 1]")] {
        answers(mock, &[("capital", "Paris")]);
        mock.add_rule(
            Rule::new()
                .protocol(Protocol::OpenAiEmbeddings)
                .prompt_contains("Paris")
                .reply(raw_embedding("[1, 0]")),
        );
        mock.add_rule(
            Rule::new()
                .protocol(Protocol::OpenAiEmbeddings)
                .prompt_contains("the reference")
                .reply(raw_embedding(reference)),
        );
    }
    let p = project();
    let cases = r#"  - id: capital
    vars: { question: "capital" }
    assert:
      - { type: similar, value: the reference, threshold: 0.5 }
"#;
    p.file("suites/near.yaml", &suite(&near, cases));
    p.file("suites/far.yaml", &suite(&far, cases));
    let r = p.run(&[
        "run",
        "suites/near.yaml",
        "suites/far.yaml",
        "--no-cache",
        "-o",
        "out/results.json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p);
    let by_suite = |s: &str| {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["suite"] == s)
            .unwrap()["assertions"][0]["score"]
            .as_f64()
            .unwrap()
    };
    assert_eq!((by_suite("near"), by_suite("far")), (1.0, 0.0), "{doc:#}");
}

#[test]
fn similar_through_gemini_bedrock_titan_and_ollama_embedders() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::GeminiEmbed, "g-test-key-123");
    mock.expect_bedrock_bearer("bedrock-test-key-456");
    answers(&mock, &[("France", "Paris is the capital of France.")]);
    for (protocol, model) in [
        (Protocol::GeminiEmbed, "gemini-embedding-001"),
        (Protocol::BedrockEmbed, "amazon.titan-embed-text-v2:0"),
        (Protocol::OllamaEmbed, "nomic-embed-text"),
    ] {
        for (text, v) in [
            ("Paris is the capital of France.", vec![1.0, 0.0]),
            ("The capital of France is Paris.", vec![0.8, 0.6]),
        ] {
            mock.add_rule(
                Rule::new()
                    .protocol(protocol)
                    .model(model)
                    .prompt_contains(text)
                    .reply(Reply::embeddings(vec![v])),
            );
        }
    }
    let url = mock.url();
    for (embedder, protocol) in [
        (
            format!("{{ id: gemini:gemini-embedding-001, config: {{ base_url: \"{url}\" }} }}"),
            Protocol::GeminiEmbed,
        ),
        (
            format!(
                "{{ id: \"bedrock:amazon.titan-embed-text-v2:0\", config: {{ region: us-east-1, endpoint_url: \"{url}\" }} }}"
            ),
            Protocol::BedrockEmbed,
        ),
        (
            format!("{{ id: ollama:nomic-embed-text, config: {{ base_url: \"{url}\" }} }}"),
            Protocol::OllamaEmbed,
        ),
    ] {
        let p = project()
            .env("GEMINI_API_KEY", "g-test-key-123")
            .env("AWS_BEARER_TOKEN_BEDROCK", "bedrock-test-key-456");
        p.file(
            "suites/judges.yaml",
            &format!(
                r#"providers: [{{ id: openai:gpt-a, label: gpt-a, config: {{ base_url: "{url}/v1" }} }}]
embedder: {embedder}
prompts: ["{{{{ question }}}}"]
cases:
  - id: close
    vars: {{ question: "Capital of France?" }}
    assert:
      - type: similar
        value: The capital of France is Paris.
"#
            ),
        );
        let before = mock.request_count_matching(|r| r.protocol == Some(protocol));
        let r = run(&p, &[]);
        assert_eq!(r.code, 0, "{protocol}: {}", r.all());
        let doc = results(&p);
        let a = &result(&doc, "close", "gpt-a")["assertions"][0];
        assert!(
            (a["score"].as_f64().unwrap() - 0.8).abs() < 1e-6,
            "{protocol}: {a}"
        );
        let sent = mock.request_count_matching(|r| r.protocol == Some(protocol)) - before;
        assert_eq!(sent, 2, "{protocol}: output and reference");
        for f in p.all_files() {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
            assert!(!text.contains("g-test-key-123") && !text.contains("bedrock-test-key-456"));
        }
    }
    assert!(
        mock.requests().iter().all(|r| r.rejection.is_none()),
        "every request was accepted"
    );
}

#[test]
fn titan_embeddings_are_sigv4_signed() {
    let mock = MockServer::start();
    mock.expect_aws_credentials(
        promptdrift_mock::sigv4::AwsCredentials::new(
            "AKIDJUDGES0001",
            "judges-secret-access-key",
            "eu-west-1",
        )
        .session_token("judges-session-token"),
    );
    answers(&mock, &[("France", "Paris is the capital of France.")]);
    for (text, v) in [
        ("Paris is the capital of France.", vec![1.0, 0.0]),
        ("The capital of France is Paris.", vec![0.6, 0.8]),
    ] {
        mock.add_rule(
            Rule::new()
                .protocol(Protocol::BedrockEmbed)
                .prompt_contains(text)
                .reply(Reply::embeddings(vec![v])),
        );
    }
    let home = tempfile::tempdir().unwrap();
    let p = project()
        .env("HOME", home.path().to_str().unwrap())
        .env("AWS_ACCESS_KEY_ID", "AKIDJUDGES0001")
        .env("AWS_SECRET_ACCESS_KEY", "judges-secret-access-key")
        .env("AWS_SESSION_TOKEN", "judges-session-token")
        .env("AWS_REGION", "eu-west-1");
    p.file(
        "suites/judges.yaml",
        &format!(
            r#"providers: [{{ id: openai:gpt-a, label: gpt-a, config: {{ base_url: "{url}/v1" }} }}]
embedder: {{ id: "bedrock:amazon.titan-embed-text-v2:0", config: {{ endpoint_url: "{url}", dimensions: 256 }} }}
prompts: ["{{{{ question }}}}"]
cases:
  - id: far
    vars: {{ question: "Capital of France?" }}
    assert:
      - type: similar
        value: The capital of France is Paris.
"#,
            url = mock.url()
        ),
    );
    let r = run(&p, &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p);
    let a = &result(&doc, "far", "gpt-a")["assertions"][0];
    assert_eq!(
        a["reason"],
        "cosine similarity 0.600 with the reference (< threshold 0.75)"
    );
    let titan: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|q| q.protocol == Some(Protocol::BedrockEmbed))
        .collect();
    assert_eq!(titan.len(), 2);
    for q in &titan {
        assert!(q.rejection.is_none(), "{:?}", q.rejection);
        assert_eq!(q.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
        assert_eq!(q.body_json().unwrap()["dimensions"], 256);
        assert!(
            q.header("authorization")
                .unwrap()
                .starts_with("AWS4-HMAC-SHA256 Credential=AKIDJUDGES0001/")
        );
        assert_eq!(
            q.header("x-amz-security-token"),
            Some("judges-session-token")
        );
    }
    for f in p.all_files() {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains("judges-secret-access-key") && !text.contains("judges-session-token")
        );
    }
}

#[test]
fn answer_relevance_uses_the_grader_and_the_embedder() {
    let mock = MockServer::start();
    answers(&mock, &[("France", "Paris is the capital of France.")]);
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("different questions")
            .reply(Reply::json_text(json!({"questions": ["What is the capital of France?", "Which city is the French capital?"]}))),
    );
    for (text, v) in [
        ("What is the capital of France?", vec![1.0, 0.0]),
        ("Which city is the French capital?", vec![0.6, 0.8]),
    ] {
        mock.add_rule(
            Rule::new()
                .protocol(Protocol::OpenAiEmbeddings)
                .prompt_contains(text)
                .reply(Reply::embeddings(vec![v])),
        );
    }
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: relevant
    vars: { question: "What is the capital of France?" }
    assert:
      - type: answer-relevance
        threshold: 0.75
"#,
        ),
    );
    let r = run(&p, &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = results(&p);
    let a = &result(&doc, "relevant", "gpt-a")["assertions"][0];
    // Mean of cos = 1.0 and 0.6.
    assert!((a["score"].as_f64().unwrap() - 0.8).abs() < 1e-6, "{a}");
    assert!(
        a["reason"]
            .as_str()
            .unwrap()
            .contains("mean similarity 0.80"),
        "{a}"
    );
}

fn script(p: &Project, name: &str, body: &str) {
    let path = p.file(name, &format!("#!/bin/sh\n{body}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn command_pass_fail_timeout_and_bad_output() {
    let mock = MockServer::start();
    answers(&mock, &[("France", "Paris.")]);
    let p = project();
    // Reads the JSON on stdin and checks the answer in it.
    script(
        &p,
        "checks/verdict.sh",
        r#"input=$(cat)
case "$input" in
  *'"output":"Paris."'*'"case_id":"'*) echo '{"pass": true, "score": 0.8, "reason": "saw Paris and the context"}' ;;
  *) echo '{"pass": false, "reason": "unexpected input"}' ;;
esac"#,
    );
    script(
        &p,
        "checks/exit1.sh",
        "cat >/dev/null\necho 'too short' \nexit 1",
    );
    script(&p, "checks/slow.sh", "sleep 5");
    script(&p, "checks/garbled.sh", "echo '{pass: yes'");
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: verdict
    vars: { question: "Capital of France?" }
    assert:
      - type: command
        value: [checks/verdict.sh]
  - id: exit-code
    vars: { question: "Capital of France?" }
    assert:
      - type: command
        value: checks/exit1.sh
  - id: timeout
    vars: { question: "Capital of France?" }
    assert:
      - type: command
        value: [checks/slow.sh]
        config: { timeout_ms: 300 }
  - id: garbled
    vars: { question: "Capital of France?" }
    assert:
      - type: command
        value: [checks/garbled.sh]
  - id: missing
    vars: { question: "Capital of France?" }
    assert:
      - type: command
        value: [promptdrift-no-such-checker, --flag]
"#,
        ),
    );
    let started = std::time::Instant::now();
    let r = run(&p, &[]);
    assert!(
        started.elapsed().as_secs() < 4,
        "the slow command was killed at its timeout"
    );
    assert_eq!(r.code, 3, "{}", r.all());
    let doc = results(&p);
    let v = result(&doc, "verdict", "gpt-a");
    assert_eq!(v["status"], "passed", "{v:#}");
    assert_eq!(v["assertions"][0]["score"], 0.8);
    assert_eq!(v["assertions"][0]["reason"], "saw Paris and the context");
    let e = result(&doc, "exit-code", "gpt-a");
    assert_eq!(e["status"], "failed");
    assert!(
        e["assertions"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("exited with 1: \"too short\"")
    );
    let t = result(&doc, "timeout", "gpt-a");
    assert_eq!(t["status"], "error");
    assert_eq!(t["error"]["class"], "timeout");
    assert!(
        t["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not finish within 300 ms")
    );
    let g = result(&doc, "garbled", "gpt-a");
    assert_eq!(g["status"], "error");
    assert!(
        g["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{g:#}"
    );
    let m = result(&doc, "missing", "gpt-a");
    assert_eq!(m["status"], "error");
    assert!(
        m["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot run command `promptdrift-no-such-checker`: no such program"),
        "{m:#}"
    );
    // A program given as a path that does not exist is found by `validate`.
    p.file(
        "suites/bad.yaml",
        &suite(&mock, "  - vars: { question: q }\n    assert:\n      - type: command\n        value: ./checks/nope.sh\n"),
    );
    let v = p.run(&["validate", "suites/bad.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    assert!(
        v.stderr.contains("program `./checks/nope.sh` not found"),
        "{}",
        v.stderr
    );
}

#[test]
fn select_best_compares_three_providers() {
    let mock = MockServer::start();
    for (model, text) in [
        (
            "m-a",
            "Paris is the capital and largest city of France, on the Seine.",
        ),
        ("m-b", "Paris."),
        ("m-c", "It's Paris, I believe."),
    ] {
        mock.add_rule(Rule::new().model(model).reply(Reply::text(text)));
    }
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("<answer number=\"3\">")
            .reply(Reply::json_text(
                json!({"best": 2, "reason": "the shortest correct answer"}),
            )),
    );
    let p = project();
    p.file(
        "suites/judges.yaml",
        &format!(
            r#"providers:
  - {{ id: openai:m-a, label: a, config: {{ base_url: "{url}/v1" }} }}
  - {{ id: openai:m-b, label: b, config: {{ base_url: "{url}/v1" }} }}
  - {{ id: openai:m-c, label: c, config: {{ base_url: "{url}/v1" }} }}
grader: {{ id: openai:judge-model, label: judge, config: {{ base_url: "{url}/v1" }} }}
prompts: ["{{{{ question }}}}"]
cases:
  - id: capital
    vars: {{ question: "Capital of France?" }}
    assert:
      - type: contains
        value: Paris
      - type: select-best
        value: the most concise correct answer
  - id: plain
    vars: {{ question: "Say hi" }}
    assert:
      - type: icontains
        value: paris
"#,
            url = mock.url()
        ),
    );
    let r = run(&p, &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p);
    let b = result(&doc, "capital", "b");
    assert_eq!(b["status"], "passed", "{b:#}");
    assert_eq!(
        b["assertions"][1]["reason"],
        "the grader picked this answer as the best of 3: the shortest correct answer"
    );
    for other in ["a", "c"] {
        let r = result(&doc, "capital", other);
        assert_eq!(r["status"], "failed");
        assert_eq!(r["assertions"][0]["pass"], true);
        assert_eq!(
            r["assertions"][1]["reason"],
            "the grader picked the answer of `b` as the best of 3: the shortest correct answer"
        );
    }
    // One grader call for the three answers, each numbered in the prompt.
    assert_eq!(model_requests(&mock, "judge-model"), 1);
    let prompt = mock
        .requests()
        .into_iter()
        .find(|q| q.model.as_deref() == Some("judge-model"))
        .and_then(|q| q.prompt)
        .unwrap();
    assert!(
        prompt.contains("<answer number=\"1\">\nParis is the capital and largest city"),
        "{prompt}"
    );
    assert!(prompt.contains("<answer number=\"2\">\nParis.\n</answer>"));
    assert_eq!(doc["summary"]["total"], 6);
    // A single provider cannot be compared: a validation error.
    let v = p.run(&["run", "suites/judges.yaml", "-p", "a"]);
    assert_eq!(v.code, 2, "{}", v.all());
    assert!(
        v.stderr
            .contains("`select-best` compares the answers of several providers"),
        "{}",
        v.stderr
    );
}

#[test]
fn grader_and_embedder_calls_are_recorded_and_replayed() {
    let mock = MockServer::start();
    answers(&mock, &[("France", "Paris is the capital of France.")]);
    embedding_rules(&mock);
    mock.add_rule(Rule::new().model("judge-model").reply(Reply::json_text(
        json!({"pass": true, "score": 1, "reason": "correct"}),
    )));
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: capital
    vars: { question: "Capital of France?" }
    assert:
      - type: llm-rubric
        value: Names Paris
      - type: similar
        value: The capital of France is Paris.
"#,
        ),
    );
    let rec = p.run(&["run", "suites/judges.yaml", "--mode", "record"]);
    assert_eq!(rec.code, 0, "{}", rec.all());
    for f in ["gpt-a", "grader-judge", "embedder-embed"] {
        let path = format!("fixtures/cassettes/judges/{f}.yaml");
        assert!(p.exists(&path), "{path} written");
        assert!(!p.read(&path).contains(KEY));
    }
    let grader = p.read("fixtures/cassettes/judges/grader-judge.yaml");
    assert!(grader.contains("provider: openai:judge-model"), "{grader}");
    assert!(grader.contains("case: capital"));
    let before = mock.request_count();
    // Replay needs neither the key nor the server.
    let replay = Project::new();
    for f in p.all_files() {
        let rel = f.strip_prefix(p.path()).unwrap();
        if rel.starts_with("fixtures") || rel.starts_with("suites") {
            replay.file(rel.to_str().unwrap(), &std::fs::read_to_string(&f).unwrap());
        }
    }
    let r = replay.run(&[
        "run",
        "suites/judges.yaml",
        "--mode",
        "replay",
        "-o",
        "out/results.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mock.request_count(), before, "nothing was sent");
    let doc = results(&replay);
    let res = result(&doc, "capital", "gpt-a");
    assert_eq!(res["source"], "cassette");
    assert_eq!(res["assertions"][0]["reason"], "grader: correct (score 1)");
    assert!((res["assertions"][1]["score"].as_f64().unwrap() - 0.8).abs() < 1e-6);
    // A grading prompt that changed since the recording is a replay miss for the grader.
    let changed = replay
        .read("suites/judges.yaml")
        .replace("value: Names Paris", "value: Names Paris in one word");
    replay.file("suites/judges.yaml", &changed);
    let r = replay.run(&[
        "run",
        "suites/judges.yaml",
        "--mode",
        "replay",
        "-o",
        "out/results.json",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    let res = result(&results(&replay), "capital", "gpt-a").clone();
    assert_eq!(res["error"]["class"], "not_recorded");
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("grader judge"),
        "{res:#}"
    );
}

#[test]
fn validation_names_missing_graders_and_bad_grader_settings() {
    let p = project();
    p.file(
        "suites/judges.yaml",
        r#"providers: [openai:gpt-a]
prompts: ["{{ question }}"]
cases:
  - vars: { question: q }
    assert:
      - type: llm-rubric
        value: polite
      - type: similar
        value: hello
      - type: llm-rubric
        value: terse
        provider: anthropix:claude
      - type: factuality
        value: ref
        config: { prompt: "{{ answer }}" }
"#,
    );
    let r = p.run(&["validate", "suites/judges.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let e = &r.stderr;
    assert!(
        e.contains("`llm-rubric` needs a grader model, and the suite has no `grader:`"),
        "{e}"
    );
    assert!(e.contains("add `grader: openai:gpt-4.1-mini`"), "{e}");
    assert!(
        e.contains("`similar` needs an embeddings model, and the suite has no `embedder:`"),
        "{e}"
    );
    assert!(e.contains("unknown provider `anthropix`"), "{e}");
    assert!(e.contains("uses unknown variable `answer`"), "{e}");
    // Each error points at its line.
    assert!(e.contains("suites/judges.yaml:6:"), "{e}");
    assert!(e.contains("suites/judges.yaml:15:27"), "{e}");
    // A grading prompt override for a type that has none.
    p.file(
        "suites/prompts.yaml",
        r#"providers: [openai:gpt-a]
prompts: ["{{ question }}"]
options:
  grader_prompts:
    llm-rubrik: "x"
cases:
  - vars: { question: q }
"#,
    );
    let r = p.run(&["validate", "suites/prompts.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("`llm-rubrik` has no grading prompt"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("suites/prompts.yaml:5:17"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `llm-rubric`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn transforms_and_assert_sets_through_the_binary() {
    let mock = MockServer::start();
    answers(
        &mock,
        &[(
            "order",
            "Here you go:\n```json\n{\"status\": \"shipped\", \"message\": \"Your parcel is on its way!\"}\n```\nAnything else?",
        )],
    );
    mock.add_rule(
        Rule::new()
            .model("judge-model")
            .prompt_contains("<answer>\nYour parcel is on its way!\n</answer>")
            .reply(Reply::json_text(
                json!({"pass": false, "score": 0.4, "reason": "no tracking link"}),
            )),
    );
    let p = project();
    p.file(
        "suites/judges.yaml",
        &suite(
            &mock,
            r#"  - id: order
    vars: { question: "Where is my order?" }
    assert:
      - type: equals
        transform: $.status
        value: shipped
      - type: is-json
        transform: '```json\n([\s\S]*?)\n```'
      - type: assert-set
        threshold: 0.5
        metric: support
        assert:
          - type: icontains
            value: shipped
          - type: llm-rubric
            transform: $.message
            value: Gives a tracking link
  - id: strict
    vars: { question: "Where is my order? (strict)" }
    assert:
      - type: assert-set
        assert:
          - type: icontains
            value: shipped
          - type: llm-rubric
            transform: $.message
            value: Gives a tracking link
"#,
        ),
    );
    mock.add_rule(
        Rule::new()
            .model("gpt-a")
            .prompt_contains("strict")
            .reply(Reply::text("```json\n{\"status\": \"shipped\", \"message\": \"Your parcel is on its way!\"}\n```")),
    );
    let r = run(&p, &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p);
    let ok = result(&doc, "order", "gpt-a");
    assert_eq!(ok["status"], "passed", "{ok:#}");
    let set = &ok["assertions"][2];
    assert!((set["score"].as_f64().unwrap() - 0.7).abs() < 1e-9, "{set}");
    assert_eq!(
        set["reason"],
        "1 of 2 assertions in the set passed (score 0.70 ≥ threshold 0.5); failed: `llm-rubric`: grader: no tracking link (score 0.4)"
    );
    // Without a threshold every assertion of the set must pass.
    let strict = result(&doc, "strict", "gpt-a");
    assert_eq!(strict["status"], "failed");
    // The grader saw only the transformed text, once per case.
    assert_eq!(model_requests(&mock, "judge-model"), 2);
    assert_eq!(doc["summary"]["metrics"][0]["metric"], "support");
}
