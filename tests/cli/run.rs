//! End-to-end runs: the binary against the mock providers (OpenAI and Anthropic protocols),
//! including faults: 429 with Retry-After, 500, 529, slow answers past the timeout, malformed
//! bodies. Each case must end passed, failed or errored with the right reason, and nothing
//! else in the run may be lost.

use std::time::Duration;

use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
use serde_json::Value;

use crate::support::{Project, redact};

const OPENAI_KEY: &str = "sk-test-openai-0123456789";
const ANTHROPIC_KEY: &str = "sk-ant-test-abcdefghijkl";

/// A suite with one OpenAI and one Anthropic provider pointed at the mock.
fn two_provider_suite(mock: &MockServer, cases: &str, extra: &str) -> String {
    format!(
        r#"description: two providers against the mock
providers:
  - id: openai:gpt-a
    label: gpt-a
    config: {{ base_url: "{url}/v1", temperature: 0, max_tokens: 64 }}
  - id: anthropic:claude-b
    label: claude-b
    config: {{ base_url: "{url}", max_tokens: 64 }}
prompts:
  - "Answer briefly: {{{{ question }}}}"
{extra}
cases:
{cases}"#,
        url = mock.url()
    )
}

fn project_with_keys() -> Project {
    Project::new()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
}

fn results(p: &Project, rel: &str) -> Value {
    serde_json::from_str(&p.read(rel)).expect("results file is JSON")
}

fn result_for<'a>(doc: &'a Value, case: &str, provider: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"] == case && r["provider"] == provider)
        .unwrap_or_else(|| panic!("no result for {case} × {provider}"))
}

#[test]
fn passes_and_failures_on_two_providers() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, OPENAI_KEY);
    mock.expect_key(Protocol::Anthropic, ANTHROPIC_KEY);
    mock.add_rule(
        Rule::new()
            .prompt_contains("France")
            .reply(Reply::text("Paris")),
    );
    mock.add_rule(
        Rule::new()
            .model("gpt-a")
            .prompt_contains("JSON")
            .reply(Reply::json_text(serde_json::json!({"city": "Rome"}))),
    );
    mock.add_rule(
        Rule::new()
            .model("claude-b")
            .prompt_contains("JSON")
            .reply(Reply::text("```json\n{\"city\": \"Rome\"}\n```")),
    );
    let p = project_with_keys();
    p.file(
        "suites/basic.yaml",
        &two_provider_suite(
            &mock,
            r#"  - id: capital
    vars: { question: "What is the capital of France?" }
    assert:
      - type: equals
        value: Paris
  - id: json-city
    vars: { question: "Give JSON with the city of the Colosseum" }
    assert:
      - type: is-json
      - type: json-path
        path: $.city
        value: Rome
"#,
            "",
        ),
    );
    let r = p.run(&["run", "suites/basic.yaml", "-o", "out/results.json"]);
    assert_eq!(r.code, 1, "one case fails on one provider: {}", r.all());
    let doc = results(&p, "out/results.json");
    assert_eq!(doc["schema"], "promptdrift-results");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["complete"], true);
    assert_eq!(doc["summary"]["total"], 4);
    assert_eq!(doc["summary"]["passed"], 3);
    assert_eq!(doc["summary"]["failed"], 1);
    let failed = result_for(&doc, "json-city", "claude-b");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["assertions"][0]["type"], "is-json");
    assert_eq!(failed["assertions"][0]["pass"], false);
    let ok = result_for(&doc, "capital", "gpt-a");
    assert_eq!(ok["output"], "Paris");
    assert_eq!(ok["finish_reason"], "stop");
    assert_eq!(ok["source"], "live");
    assert_eq!(
        ok["rendered"]["messages"][0]["content"],
        "Answer briefly: What is the capital of France?"
    );
    assert!(ok["usage"]["input"].as_u64().unwrap() > 0);
    // The table shows every case × provider and names the failure.
    insta::assert_snapshot!("table_basic", redact(&r.stdout, &p));
    // Keys were sent the way each vendor expects, and never written anywhere.
    for req in mock.requests() {
        match req.protocol {
            Some(Protocol::OpenAiChat) => assert_eq!(
                req.header("authorization"),
                Some(format!("Bearer {OPENAI_KEY}").as_str())
            ),
            Some(Protocol::Anthropic) => {
                assert_eq!(req.header("x-api-key"), Some(ANTHROPIC_KEY));
                assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
            }
            other => panic!("unexpected protocol {other:?}"),
        }
    }
    assert_no_keys(&p, &r);
}

#[test]
fn faults_end_as_errors_or_retries_and_nothing_else_is_lost() {
    let mock = MockServer::start();
    // 429 with a short Retry-After, once: the retry succeeds.
    mock.add_rule(
        Rule::new()
            .model("gpt-a")
            .prompt_contains("rate-limited")
            .times(1)
            .reply(Reply::error(ErrorKind::RateLimited).retry_after(Duration::from_millis(30))),
    );
    // 529 overloaded once on Anthropic: retried.
    mock.add_rule(
        Rule::new()
            .model("claude-b")
            .prompt_contains("overloaded")
            .times(1)
            .reply(Reply::error(ErrorKind::Overloaded).header("retry-after-ms", "20")),
    );
    // 500 every time: an error after the retries.
    mock.add_rule(
        Rule::new()
            .prompt_contains("broken server")
            .reply(Reply::error(ErrorKind::Server).header("retry-after-ms", "5")),
    );
    // Slow past the 300 ms timeout.
    mock.add_rule(
        Rule::new()
            .prompt_contains("slow")
            .reply(Reply::text("too late").delay(Duration::from_millis(1500))),
    );
    // Malformed body.
    mock.add_rule(
        Rule::new()
            .prompt_contains("garbled")
            .reply(Reply::malformed()),
    );
    // Quota exhausted: never retried.
    mock.add_rule(
        Rule::new()
            .model("gpt-a")
            .prompt_contains("quota")
            .reply(Reply::error(ErrorKind::QuotaExhausted)),
    );
    let p = project_with_keys();
    let cases = ["rate-limited", "overloaded", "broken server", "slow", "garbled", "quota", "fine"]
        .iter()
        .map(|q| format!("  - id: {}\n    vars: {{ question: \"{q}\" }}\n    assert: [ {{ type: contains, value: mock }} ]\n", q.replace(' ', "-")))
        .collect::<String>();
    p.file(
        "suites/faults.yaml",
        &two_provider_suite(
            &mock,
            &cases,
            "options: { timeout_ms: 300, max_retries: 2 }",
        ),
    );
    let r = p.run(&["run", "suites/faults.yaml", "-o", "results.json", "-j", "4"]);
    assert_eq!(r.code, 3, "errors left cases unanswered: {}", r.all());
    let doc = results(&p, "results.json");
    assert_eq!(
        doc["summary"]["total"], 14,
        "every case × provider has a result"
    );
    let rl = result_for(&doc, "rate-limited", "gpt-a");
    assert_eq!(rl["status"], "passed", "{rl}");
    assert_eq!(rl["attempts"], 2);
    let ov = result_for(&doc, "overloaded", "claude-b");
    assert_eq!(ov["status"], "passed", "{ov}");
    assert_eq!(ov["attempts"], 2);
    for provider in ["gpt-a", "claude-b"] {
        let s = result_for(&doc, "broken-server", provider);
        assert_eq!(s["status"], "error");
        assert_eq!(s["error"]["class"], "server");
        assert_eq!(s["error"]["status"], 500);
        assert_eq!(s["attempts"], 3, "first attempt + 2 retries");
        let t = result_for(&doc, "slow", provider);
        assert_eq!(t["error"]["class"], "timeout", "{t}");
        let g = result_for(&doc, "garbled", provider);
        assert_eq!(g["error"]["class"], "protocol", "{g}");
        assert_eq!(g["attempts"], 1, "a malformed body is not retried");
        assert_eq!(result_for(&doc, "fine", provider)["status"], "passed");
    }
    let q = result_for(&doc, "quota", "gpt-a");
    assert_eq!(q["error"]["class"], "quota_exhausted");
    assert_eq!(q["attempts"], 1, "quota exhaustion is not retried");
    assert_eq!(result_for(&doc, "quota", "claude-b")["status"], "passed");
    // The terminal names each error with the provider's reason.
    assert!(
        r.stdout
            .contains("ERROR broken-server × gpt-a (server, after 3 attempts)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("ERROR slow × claude-b (timeout, after 3 attempts)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("ERROR quota × gpt-a (quota_exhausted)"),
        "{}",
        r.stdout
    );
    assert_no_keys(&p, &r);
}

#[test]
fn missing_key_is_an_error_before_any_request() {
    let mock = MockServer::start();
    let p = Project::new().env("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    p.file(
        "suites/s.yaml",
        &two_provider_suite(&mock, "  - id: one\n    vars: { question: hi }\n    assert: [ { type: contains, value: hi } ]\n", ""),
    );
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("OPENAI_API_KEY"), "{}", r.all());
    assert!(
        r.stderr.contains("suites/s.yaml:"),
        "error points into the suite: {}",
        r.all()
    );
    assert_eq!(mock.request_count(), 0, "nothing was sent");
}

#[test]
fn record_then_replay_offline() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .prompt_contains("France")
            .reply(Reply::text("Paris")),
    );
    let p = project_with_keys();
    let suite = two_provider_suite(
        &mock,
        "  - id: capital\n    vars: { question: \"Capital of France?\" }\n    assert: [ { type: equals, value: Paris } ]\n",
        "",
    );
    p.file("suites/rec.yaml", &suite);
    let r = p.run(&["run", "suites/rec.yaml", "--mode", "record"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let cassette = p.read("fixtures/cassettes/rec/gpt-a.yaml");
    assert!(
        cassette.contains("format: promptdrift-cassette"),
        "{cassette}"
    );
    assert!(cassette.contains("provider: openai:gpt-a"));
    assert!(cassette.contains("case: capital"));
    assert!(p.exists("fixtures/cassettes/rec/claude-b.yaml"));
    let sent = mock.request_count();
    assert_eq!(sent, 2);
    drop(mock);
    // Replay: no keys, no server.
    let offline = Project::new();
    for f in p.all_files() {
        let rel = f
            .strip_prefix(p.path())
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        if rel.starts_with("fixtures/") || rel.starts_with("suites/") {
            offline.file(&rel, &std::fs::read_to_string(&f).unwrap());
        }
    }
    let r = offline.run(&["run", "suites/rec.yaml", "--mode", "replay", "-o", "r.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = results(&offline, "r.json");
    assert_eq!(result_for(&doc, "capital", "gpt-a")["source"], "cassette");
    assert_eq!(result_for(&doc, "capital", "claude-b")["output"], "Paris");
    // A changed prompt is not in the cassette: an error naming the case and what differs.
    offline.file(
        "suites/rec.yaml",
        &suite.replace("Answer briefly", "Answer"),
    );
    let r = offline.run(&["run", "suites/rec.yaml", "--mode", "replay", "-o", "r.json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let doc = results(&offline, "r.json");
    let miss = result_for(&doc, "capital", "gpt-a");
    assert_eq!(miss["error"]["class"], "not_recorded");
    let msg = miss["error"]["message"].as_str().unwrap();
    assert!(msg.contains("no recording for case `capital`"), "{msg}");
    assert!(msg.contains("body.messages[0].content"), "{msg}");
    assert_no_keys(&p, &r);
}

#[test]
fn cache_answers_a_rerun_without_requests() {
    let mock = MockServer::start();
    let p = project_with_keys();
    p.file(
        "suites/c.yaml",
        &two_provider_suite(&mock, "  - id: one\n    vars: { question: hello }\n    assert: [ { type: contains, value: hello } ]\n", ""),
    );
    let r = p.run(&["run", "suites/c.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mock.request_count(), 2);
    let r = p.run(&["run", "suites/c.yaml", "-o", "again.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        mock.request_count(),
        2,
        "the re-run was answered from the cache"
    );
    assert!(
        r.stdout.contains("2 answers came from the response cache"),
        "{}",
        r.stdout
    );
    let doc = results(&p, "again.json");
    assert_eq!(result_for(&doc, "one", "gpt-a")["source"], "cache");
    let r = p.run(&["run", "suites/c.yaml", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mock.request_count(), 4);
    let r = p.run(&["cache", "stats"]);
    assert!(r.stdout.contains("2 cached answers"), "{}", r.all());
    let r = p.run(&["cache", "clear"]);
    assert!(r.stdout.contains("removed 2 cached answers"), "{}", r.all());
    assert_no_keys(&p, &r);
}

#[test]
fn quickstart_runs_offline_from_the_repository() {
    // The README's first command, on the repository's own suite and cassettes.
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptdrift"))
        .args(["run", "suites/quickstart.yaml"])
        .current_dir(root)
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("PROMPTDRIFT_MODE")
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("quickstart: 4 cases × 2 providers (replay)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("8 results: 8 passed, 0 failed, 0 errors"),
        "{stdout}"
    );
    // Its committed snapshots (snapshots/quickstart/) match the cassettes' answers.
    assert!(
        stdout.contains("snapshots: 0 new, 0 changed, 8 unchanged in snapshots/"),
        "{stdout}"
    );
}

/// No file the run wrote, and nothing it printed, holds an API key.
fn assert_no_keys(p: &Project, last: &crate::support::Run) {
    for key in [OPENAI_KEY, ANTHROPIC_KEY] {
        assert!(
            !last.stdout.contains(key) && !last.stderr.contains(key),
            "key printed: {}",
            last.all()
        );
        for f in p.all_files() {
            let bytes = std::fs::read(&f).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(key), "key found in {}", f.display());
        }
    }
}

/// Issue 7: HTTP connections are reused. 150 cases × 2 providers on one mock at `-j 4` open
/// at most a few connections (a client that opened one per request would open 300).
#[test]
fn http_connections_are_reused() {
    let mock = MockServer::start();
    let p = project_with_keys();
    let cases: String = (0..150)
        .map(|i| format!("  - vars: {{ question: \"question {i}\" }}\n"))
        .collect();
    p.file(
        "suites/many.yaml",
        &two_provider_suite(
            &mock,
            &cases,
            "defaults:\n  assert:\n    - type: contains\n      value: question\n",
        ),
    );
    let r = p.run(&["run", "suites/many.yaml", "-j", "4", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("300 results: 300 passed"), "{}", r.stdout);
    assert_eq!(mock.request_count(), 300);
    let connections = mock.connection_count();
    assert!(
        (1..=8).contains(&connections),
        "300 requests at -j 4 opened {connections} connections"
    );
}

/// Two runs writing the same `-o results.json`: the second is refused before it touches the
/// file (exit 2, a clear message), and the first finishes a valid file.
#[test]
fn a_second_run_writing_the_same_results_file_is_refused() {
    let mock = MockServer::start();
    mock.set_default_reply(Reply::echo().delay(std::time::Duration::from_millis(200)));
    let p = Project::new();
    let cases: String = (0..10)
        .map(|i| format!("  - {{ id: c{i}, vars: {{ q: \"q{i}\" }}, assert: [ {{ type: contains, value: \"q{i}\" }} ] }}\n"))
        .collect();
    p.file(
        "suites/s.yaml",
        &format!(
            "providers:\n  - id: openai-compatible:m\n    label: m\n    config: {{ base_url: \"{}/v1\" }}\nprompts: [\"{{{{ q }}}}\"]\ncases:\n{cases}",
            mock.url()
        ),
    );
    let first = p
        .cmd(&[
            "run",
            "suites/s.yaml",
            "--no-cache",
            "-j",
            "1",
            "-o",
            "out/results.json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first run has the file (its head is written once it holds the lock).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !p
        .read_opt("out/results.json")
        .is_some_and(|t| t.contains("\"results\":["))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = p.run(&[
        "run",
        "suites/s.yaml",
        "--no-cache",
        "-o",
        "out/results.json",
    ]);
    assert_eq!(second.code, 2, "{}", second.all());
    assert!(
        second.stderr.contains(
            "cannot write out/results.json: another promptdrift run is writing this file"
        ),
        "{}",
        second.all()
    );
    let out = first.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&p.read("out/results.json")).expect("valid JSON");
    assert_eq!(doc["complete"], true);
    assert_eq!(doc["results"].as_array().unwrap().len(), 10);
    // Once the first run is done, the file can be written again.
    let again = p.run(&["run", "suites/s.yaml", "-o", "out/results.json"]);
    assert_eq!(again.code, 0, "{}", again.all());
}

/// The top level holds what the design card names: `Cargo.toml`, `src`, `suites`, `fixtures`,
/// `snapshots` (the quickstart's accepted answers) and `tests`.
#[test]
fn the_top_level_layout_is_the_design_cards() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(root.join("Cargo.toml").is_file());
    for dir in ["src", "suites", "fixtures", "snapshots", "tests"] {
        assert!(root.join(dir).is_dir(), "no `{dir}/` at the top level");
    }
    let snaps: Vec<_> = std::fs::read_dir(root.join("snapshots/quickstart/claude-haiku"))
        .expect("the quickstart's snapshots")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
        .collect();
    assert_eq!(snaps.len(), 4, "one snapshot per quickstart case");
}
