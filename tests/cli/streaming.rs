//! Streamed answers end to end, for every vendor with a streaming API: the binary against the
//! mock speaking OpenAI and Azure SSE, Anthropic's named SSE events, Gemini and Vertex
//! `streamGenerateContent?alt=sse`, Ollama NDJSON and Bedrock ConverseStream's binary event
//! stream (SigV4-signed). A streamed answer must equal the non-streamed one; time to first
//! token is recorded (and at least the mock's delay before the first chunk), asserted by
//! `ttft`, compared and gated by `compare`; a stream broken mid-answer is retried; a stream
//! missing its terminal event is an error on that case; cassettes and the cache keep the
//! assembled answer and say it was streamed; no key reaches any output.

use std::path::Path;
use std::time::Duration;

use promptdrift_mock::sigv4::AwsCredentials;
use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
use serde_json::{Value, json};

use crate::support::{Project, Run, assert_no_secrets, result_for, results};

const OPENAI_KEY: &str = "sk-stream-openai-0123456789";
const ANTHROPIC_KEY: &str = "sk-ant-stream-0123456789";
const AZURE_KEY: &str = "azure-stream-key-0123456789";
const GEMINI_KEY: &str = "AIzaSy-stream-gemini-key-0123";
const VERTEX_TOKEN: &str = "ya29.stream-vertex-token-0123";
const AKID: &str = "AKIDSTREAMTEST000001";
const AWS_SECRET: &str = "wJalrXUtnFEMI/promptdrift/STREAMSECRET";
const HAIKU: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

/// Every vendor with a streaming API: (label, protocol the mock sees).
const VENDORS: [(&str, Protocol); 7] = [
    ("openai", Protocol::OpenAiChat),
    ("azure", Protocol::AzureClassic),
    ("anthropic", Protocol::Anthropic),
    ("gemini", Protocol::Gemini),
    ("vertex", Protocol::Vertex),
    ("ollama", Protocol::OllamaChat),
    ("bedrock", Protocol::BedrockConverse),
];

fn secrets() -> [&'static str; 7] {
    [
        OPENAI_KEY,
        ANTHROPIC_KEY,
        AZURE_KEY,
        GEMINI_KEY,
        VERTEX_TOKEN,
        AKID,
        AWS_SECRET,
    ]
}

/// The mock, checking every vendor's credentials.
fn mock() -> MockServer {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, OPENAI_KEY);
    mock.expect_key(Protocol::Anthropic, ANTHROPIC_KEY);
    mock.expect_key(Protocol::AzureClassic, AZURE_KEY);
    mock.expect_key(Protocol::Gemini, GEMINI_KEY);
    mock.expect_key(Protocol::Vertex, VERTEX_TOKEN);
    mock.expect_aws_credentials(AwsCredentials::new(AKID, AWS_SECRET, "us-east-1"));
    mock
}

/// A project whose environment holds every vendor's (fake) credentials; `home` keeps any
/// real `~/.aws` out.
fn project(home: &Path) -> Project {
    Project::new()
        .env("HOME", home.to_str().unwrap())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        .env("AZURE_OPENAI_API_KEY", AZURE_KEY)
        .env("GEMINI_API_KEY", GEMINI_KEY)
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", VERTEX_TOKEN)
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
}

/// The providers list: one entry per vendor, labelled by vendor, `extra` added to each
/// config (`stream: true`…).
fn providers(url: &str, extra: &str) -> String {
    [
        format!("  - id: openai:gpt-stream\n    label: openai\n    config: {{ base_url: \"{url}/v1\", max_tokens: 64{extra} }}\n"),
        format!("  - id: azure:dep-stream\n    label: azure\n    config: {{ endpoint: \"{url}\"{extra} }}\n"),
        format!("  - id: anthropic:claude-stream\n    label: anthropic\n    config: {{ base_url: \"{url}\", max_tokens: 64{extra} }}\n"),
        format!("  - id: gemini:gemini-2.5-flash\n    label: gemini\n    config: {{ base_url: \"{url}\"{extra} }}\n"),
        format!("  - id: vertex:gemini-2.5-flash\n    label: vertex\n    config: {{ base_url: \"{url}\", project: p1, location: us-central1{extra} }}\n"),
        format!("  - id: ollama:llama3.2\n    label: ollama\n    config: {{ base_url: \"{url}\"{extra} }}\n"),
        format!("  - id: bedrock:{HAIKU}\n    label: bedrock\n    config: {{ endpoint_url: \"{url}\", region: us-east-1{extra} }}\n"),
    ]
    .concat()
}

fn suite(providers: &str, cases: &str, extra: &str) -> String {
    format!(
        "description: streamed answers against the mock\nproviders:\n{providers}prompts:\n  - \"Answer briefly: {{{{ question }}}}\"\n{extra}\ncases:\n{cases}"
    )
}

/// A case whose id is `id`, asking `question`, with `assert` (a YAML flow list).
fn case(id: &str, question: &str, assert: &str) -> String {
    format!("  - id: {id}\n    vars: {{ question: \"{question}\" }}\n    assert: {assert}\n")
}

fn run_ok(p: &Project, args: &[&str]) -> Run {
    let r = p.run(args);
    assert_eq!(r.code, 0, "{}", r.all());
    r
}

/// A result without the fields that differ between a streamed and a non-streamed answer.
fn comparable(r: &Value) -> Value {
    let mut r = r.clone();
    for k in [
        "latency_ms",
        "ttft_ms",
        "output_tokens_per_second",
        "streamed",
    ] {
        r.as_object_mut().unwrap().remove(k);
    }
    // The mock makes up a fresh call id for each answer.
    for call in r
        .get_mut("tool_calls")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        call.as_object_mut().unwrap().remove("id");
    }
    r
}

#[test]
fn streamed_answers_equal_non_streamed_answers_for_every_vendor() {
    let mock = mock();
    mock.add_rule(
        Rule::new()
            .prompt_contains("capital")
            .reply(Reply::text("Paris is the capital of France.").usage(12, 7)),
    );
    mock.add_rule(
        Rule::new().prompt_contains("weather").reply(
            Reply::text("Let me check the weather.")
                .tool_call("get_weather", json!({"city": "Paris", "unit": "celsius"}))
                .usage(20, 9),
        ),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("essay")
            .reply(Reply::text("One. Two three.").finish(promptdrift_mock::Finish::Length)),
    );
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    let cases = [
        case(
            "capital",
            "What is the capital of France?",
            "[ { type: contains, value: Paris } ]",
        ),
        case(
            "weather",
            "What is the weather in Paris?",
            "[ { type: contains, value: check } ]",
        ),
        case(
            "essay",
            "Write an essay",
            "[ { type: finish-reason, value: length } ]",
        ),
    ]
    .concat();
    p.file(
        "suites/s.yaml",
        &suite(&providers(&mock.url(), ""), &cases, ""),
    );
    run_ok(
        &p,
        &["run", "suites/s.yaml", "--no-cache", "-o", "whole.json"],
    );
    assert_eq!(
        mock.request_count_matching(|r| r.stream),
        0,
        "nothing streamed without --stream"
    );
    let r = run_ok(
        &p,
        &[
            "run",
            "suites/s.yaml",
            "--no-cache",
            "--stream",
            "-o",
            "streamed.json",
        ],
    );
    // Every vendor was asked through its streaming API.
    for (label, protocol) in VENDORS {
        let streamed = mock.request_count_matching(|r| r.protocol == Some(protocol) && r.stream);
        assert_eq!(streamed, 3, "{label}: streamed requests\n{}", r.all());
    }
    let reqs = mock.requests();
    let streamed_req = |p: Protocol| {
        reqs.iter()
            .find(|r| r.protocol == Some(p) && r.stream)
            .unwrap()
    };
    let openai = streamed_req(Protocol::OpenAiChat).body_json().unwrap();
    assert_eq!(openai["stream"], true);
    assert_eq!(openai["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        streamed_req(Protocol::Anthropic).body_json().unwrap()["stream"],
        true
    );
    assert_eq!(
        streamed_req(Protocol::OllamaChat).body_json().unwrap()["stream"],
        true
    );
    let gem = streamed_req(Protocol::Gemini);
    assert!(gem.path.ends_with(":streamGenerateContent"), "{}", gem.path);
    assert_eq!(gem.query.as_deref(), Some("alt=sse"));
    assert!(
        streamed_req(Protocol::Vertex)
            .path
            .ends_with(":streamGenerateContent")
    );
    let br = streamed_req(Protocol::BedrockConverse);
    assert!(br.path.ends_with("/converse-stream"), "{}", br.path);
    assert_eq!(
        br.header("accept"),
        Some("application/vnd.amazon.eventstream")
    );

    let whole = results(&p, "whole.json");
    let streamed = results(&p, "streamed.json");
    for (label, _) in VENDORS {
        for id in ["capital", "weather", "essay"] {
            let w = result_for(&whole, id, label);
            let s = result_for(&streamed, id, label);
            assert_eq!(w["status"], "passed", "{label}/{id}: {w}");
            assert_eq!(comparable(s), comparable(w), "{label}/{id}");
            assert!(
                w.get("ttft_ms").is_none() && w.get("streamed").is_none(),
                "{w}"
            );
            assert_eq!(s["streamed"], true, "{s}");
            assert!(s["ttft_ms"].is_u64(), "{label}/{id}: {s}");
            assert!(s["ttft_ms"].as_u64() <= s["latency_ms"].as_u64(), "{s}");
        }
        assert_eq!(
            result_for(&streamed, "capital", label)["output"],
            "Paris is the capital of France."
        );
        assert_eq!(
            result_for(&streamed, "essay", label)["finish_reason"],
            "length"
        );
        assert_eq!(
            result_for(&streamed, "weather", label)["finish_reason"],
            "tool_calls"
        );
    }
    let usage = &result_for(&streamed, "capital", "anthropic")["usage"];
    assert_eq!(
        (&usage["input"], &usage["output"], &usage["total"]),
        (&json!(12), &json!(7), &json!(19))
    );
    assert_no_secrets(&p, &r, &secrets());
}

#[test]
fn time_to_first_token_is_recorded_and_asserted() {
    let mock = mock();
    let first = Duration::from_millis(300);
    mock.add_rule(
        Rule::new().prompt_contains("slow").reply(
            Reply::text("Paris is lovely in the spring.")
                .usage(10, 40)
                .stream_delays(first, Duration::from_millis(20)),
        ),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("quick")
            .reply(Reply::text("Paris.").usage(10, 2)),
    );
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    let cases = [
        case(
            "slow",
            "slow question",
            "[ { type: ttft, threshold: 150 } ]",
        ),
        case(
            "slow-ok",
            "slow question again",
            "[ { type: ttft, threshold: 20000 } ]",
        ),
        case(
            "quick",
            "quick question",
            "[ { type: ttft, threshold: 250 } ]",
        ),
    ]
    .concat();
    p.file(
        "suites/s.yaml",
        &suite(&providers(&mock.url(), ", stream: true"), &cases, ""),
    );
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "-o", "results.json"]);
    assert_eq!(r.code, 1, "the slow ttft assertion fails: {}", r.all());
    let doc = results(&p, "results.json");
    for (label, _) in VENDORS {
        let slow = result_for(&doc, "slow", label);
        let ttft = slow["ttft_ms"].as_u64().unwrap();
        assert!(
            ttft >= 300,
            "{label}: ttft {ttft} ms < the mock's 300 ms delay: {slow}"
        );
        assert!(slow["latency_ms"].as_u64().unwrap() >= ttft, "{slow}");
        let tps = slow["output_tokens_per_second"].as_f64().unwrap();
        assert!(tps > 0.0, "{slow}");
        assert_eq!(slow["status"], "failed", "{label}: {slow}");
        let reason = slow["assertions"][0]["reason"].as_str().unwrap();
        assert!(
            reason.contains(&format!(
                "time to first token {ttft} ms is over the limit of 150 ms"
            )),
            "{reason}"
        );
        assert_eq!(result_for(&doc, "slow-ok", label)["status"], "passed");
        let quick = result_for(&doc, "quick", label);
        assert_eq!(quick["status"], "passed", "{label}: {quick}");
        assert!(quick["ttft_ms"].as_u64().unwrap() < 250, "{quick}");
    }
    // Not streamed: the `ttft` assertion cannot pass, and says why.
    p.file(
        "suites/s.yaml",
        &suite(&providers(&mock.url(), ""), &cases, ""),
    );
    let r = p.run(&[
        "run",
        "suites/s.yaml",
        "-p",
        "openai",
        "--no-cache",
        "-o",
        "plain.json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p, "plain.json");
    let quick = result_for(&doc, "quick", "openai");
    assert_eq!(quick["status"], "failed", "{quick}");
    assert!(quick.get("ttft_ms").is_none());
    let reason = quick["assertions"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("the answer was not streamed"), "{reason}");
    assert!(reason.contains("--stream"), "{reason}");
}

#[test]
fn a_stream_broken_mid_answer_is_retried_then_succeeds() {
    let mock = mock();
    for (_, protocol) in VENDORS {
        mock.add_rule(
            Rule::new()
                .protocol(protocol)
                .times(1)
                .reply(Reply::text("Paris is the capital of France.").cut_stream()),
        );
    }
    mock.add_rule(Rule::new().reply(Reply::text("Paris is the capital of France.")));
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    p.file(
        "suites/s.yaml",
        &suite(
            &providers(&mock.url(), ", stream: true"),
            &case(
                "capital",
                "capital of France?",
                "[ { type: contains, value: Paris } ]",
            ),
            "",
        ),
    );
    let r = run_ok(
        &p,
        &[
            "run",
            "suites/s.yaml",
            "--no-cache",
            "-o",
            "results.json",
            "-v",
        ],
    );
    let doc = results(&p, "results.json");
    for (label, _) in VENDORS {
        let res = result_for(&doc, "capital", label);
        assert_eq!(res["status"], "passed", "{label}: {res}");
        assert_eq!(res["attempts"], 2, "{label}: retried once: {res}");
        assert_eq!(res["output"], "Paris is the capital of France.");
    }
    assert!(
        r.stderr.contains("broke after"),
        "the retry says why: {}",
        r.all()
    );
}

#[test]
fn in_stream_errors_are_classified_and_retried() {
    let mock = mock();
    for (_, protocol) in VENDORS {
        mock.add_rule(
            Rule::new()
                .protocol(protocol)
                .times(1)
                .reply(Reply::stream_error(ErrorKind::Overloaded)),
        );
    }
    mock.add_rule(Rule::new().reply(Reply::text("Paris.")));
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    p.file(
        "suites/s.yaml",
        &suite(
            &providers(&mock.url(), ""),
            &case(
                "capital",
                "capital of France?",
                "[ { type: contains, value: Paris } ]",
            ),
            "",
        ),
    );
    let r = run_ok(
        &p,
        &[
            "run",
            "suites/s.yaml",
            "--stream",
            "--no-cache",
            "-o",
            "results.json",
        ],
    );
    let doc = results(&p, "results.json");
    for (label, _) in VENDORS {
        let res = result_for(&doc, "capital", label);
        assert_eq!(res["status"], "passed", "{label}: {res}\n{}", r.all());
        assert_eq!(res["attempts"], 2, "{label}: {res}");
    }
}

#[test]
fn a_stream_without_its_terminal_event_is_an_error_on_that_case() {
    let mock = mock();
    mock.add_rule(
        Rule::new()
            .prompt_contains("unfinished")
            .reply(Reply::text("Paris is the capital").unterminated_stream()),
    );
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    let cases = [
        case(
            "cut",
            "unfinished answer",
            "[ { type: contains, value: Paris } ]",
        ),
        case(
            "fine",
            "whole answer",
            "[ { type: contains, value: mock } ]",
        ),
    ]
    .concat();
    p.file(
        "suites/s.yaml",
        &suite(&providers(&mock.url(), ", stream: true"), &cases, ""),
    );
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "-o", "results.json"]);
    assert_eq!(r.code, 3, "unanswered cases: {}", r.all());
    let doc = results(&p, "results.json");
    let terminal = [
        ("openai", "`data: [DONE]`"),
        ("azure", "`data: [DONE]`"),
        ("anthropic", "`message_stop`"),
        ("gemini", "`finishReason`"),
        ("vertex", "`finishReason`"),
        ("ollama", "`\"done\": true`"),
        ("bedrock", "the `metadata` event"),
    ];
    for (label, event) in terminal {
        let res = result_for(&doc, "cut", label);
        assert_eq!(res["status"], "error", "{label}: {res}");
        assert!(
            res.get("output").is_none(),
            "no silently shortened answer: {res}"
        );
        let e = &res["error"];
        assert_eq!(e["class"], "protocol", "{label}: {e}");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains("the stream ended without"), "{label}: {msg}");
        assert!(msg.contains(event), "{label}: {msg}");
        assert_eq!(res["attempts"], 1, "not retried: {res}");
        assert_eq!(result_for(&doc, "fine", label)["status"], "passed");
    }
}

#[test]
fn cassettes_and_the_cache_keep_the_assembled_answer_and_say_it_was_streamed() {
    let mock = mock();
    mock.add_rule(
        Rule::new()
            .prompt_contains("capital")
            .reply(Reply::text("Paris is the capital.").usage(9, 5)),
    );
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    p.file(
        "suites/s.yaml",
        &suite(
            &providers(&mock.url(), ""),
            &case(
                "capital",
                "capital of France?",
                "[ { type: contains, value: Paris } ]",
            ),
            "",
        ),
    );
    run_ok(
        &p,
        &[
            "run",
            "suites/s.yaml",
            "--stream",
            "--mode",
            "record",
            "-o",
            "rec.json",
        ],
    );
    let n = mock.request_count();
    for (label, _) in VENDORS {
        let cassette = p.read(&format!("fixtures/cassettes/s/{label}.yaml"));
        assert!(cassette.contains("streamed: true"), "{label}: {cassette}");
        assert!(cassette.contains("ttft_ms:"), "{cassette}");
        assert!(
            cassette.contains("text: Paris is the capital."),
            "{cassette}"
        );
    }
    let r = run_ok(
        &p,
        &[
            "run",
            "suites/s.yaml",
            "--stream",
            "--mode",
            "replay",
            "-o",
            "replay.json",
        ],
    );
    assert_eq!(mock.request_count(), n, "replay sent nothing");
    let rec = results(&p, "rec.json");
    let replay = results(&p, "replay.json");
    for (label, _) in VENDORS {
        let a = result_for(&rec, "capital", label);
        let b = result_for(&replay, "capital", label);
        assert_eq!(b["source"], "cassette");
        assert_eq!(b["streamed"], true);
        assert_eq!(b["ttft_ms"], a["ttft_ms"], "the recorded ttft: {b}");
        assert_eq!(b["output"], a["output"]);
        assert_eq!(b["usage"], a["usage"]);
    }
    // A streamed recording never answers a request that is not streamed (nor the reverse).
    let r2 = p.run(&[
        "run",
        "suites/s.yaml",
        "-p",
        "openai",
        "--mode",
        "replay",
        "-o",
        "x.json",
    ]);
    assert_eq!(r2.code, 3, "{}", r2.all());
    let x = results(&p, "x.json");
    let e = &result_for(&x, "capital", "openai")["error"];
    assert_eq!(e["class"], "not_recorded", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("body.stream"),
        "{e}"
    );
    assert_no_secrets(&p, &r, &secrets());

    // The cache: a second live streamed run answers from it, still streamed, with its ttft.
    let n = mock.request_count();
    run_ok(
        &p,
        &["run", "suites/s.yaml", "--stream", "-o", "live1.json"],
    );
    assert_eq!(mock.request_count(), n + VENDORS.len());
    let r = run_ok(
        &p,
        &["run", "suites/s.yaml", "--stream", "-o", "live2.json"],
    );
    assert_eq!(
        mock.request_count(),
        n + VENDORS.len(),
        "answered from the cache"
    );
    let live1 = results(&p, "live1.json");
    let live2 = results(&p, "live2.json");
    for (label, _) in VENDORS {
        let b = result_for(&live2, "capital", label);
        assert_eq!(b["source"], "cache", "{b}");
        assert_eq!(b["streamed"], true);
        assert_eq!(
            b["ttft_ms"],
            result_for(&live1, "capital", label)["ttft_ms"]
        );
        assert_eq!(b["output"], "Paris is the capital.");
    }
    // Not streamed: the cached streamed answers are not used.
    let r3 = run_ok(
        &p,
        &["run", "suites/s.yaml", "-p", "openai", "-o", "live3.json"],
    );
    assert_eq!(
        result_for(&results(&p, "live3.json"), "capital", "openai")["source"],
        "live"
    );
    assert_no_secrets(&p, &r, &secrets());
    assert_no_secrets(&p, &r3, &secrets());
}

#[test]
fn streamed_text_that_echoes_a_key_is_scrubbed_everywhere() {
    let mock = mock();
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::OpenAiChat)
            .reply(Reply::text(format!(
                "Your key is {OPENAI_KEY}, keep it safe."
            ))),
    );
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::Anthropic)
            .reply(Reply::text(format!("Echo: {ANTHROPIC_KEY}"))),
    );
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    p.file(
        "suites/s.yaml",
        &suite(
            &providers(&mock.url(), ", stream: true"),
            &case(
                "echo",
                "say my key",
                "[ { type: contains, value: \"***\" } ]",
            ),
            "",
        ),
    );
    let r = p.run(&[
        "run",
        "suites/s.yaml",
        "-p",
        "openai",
        "-p",
        "anthropic",
        "--mode",
        "record",
        "-o",
        "results.json",
        "-o",
        "report.html",
        "-o",
        "report.md",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = results(&p, "results.json");
    assert_eq!(
        result_for(&doc, "echo", "openai")["output"],
        "Your key is ***, keep it safe."
    );
    assert_eq!(result_for(&doc, "echo", "anthropic")["output"], "Echo: ***");
    assert_no_secrets(&p, &r, &secrets());
}

#[test]
fn providers_without_a_streaming_api() {
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        "providers:\n  - id: exec:echo\n    label: cmd\n    config: { command: [cat], stream: true }\nprompts: [\"{{ q }}\"]\ncases:\n  - id: hi\n    vars: { q: hi }\n    assert: [ { type: contains, value: hi } ]\n",
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.all().contains("providers[0].config.stream"),
        "{}",
        r.all()
    );
    assert!(r.all().contains("has no streaming API"), "{}", r.all());
    // Under --stream a provider that cannot stream is named, and answers unstreamed.
    p.file(
        "suites/s.yaml",
        "providers:\n  - id: exec:echo\n    label: cmd\n    config: { command: [cat] }\nprompts: [\"{{ q }}\"]\ncases:\n  - id: hi\n    vars: { q: hi }\n    assert: [ { type: contains, value: hi } ]\n",
    );
    let r = p.run(&["run", "suites/s.yaml", "--stream", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr
            .contains("under `--stream` its answers are not streamed"),
        "{}",
        r.all()
    );
    let doc = results(&p, "results.json");
    let res = result_for(&doc, "hi", "cmd");
    assert!(
        res.get("streamed").is_none() && res.get("ttft_ms").is_none(),
        "{res}"
    );
}

#[test]
fn compare_reports_and_gates_time_to_first_token() {
    let mock = mock();
    mock.add_rule(
        Rule::new()
            .model("model-slow")
            .reply(Reply::echo().stream_delays(Duration::from_millis(250), Duration::ZERO)),
    );
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    let url = mock.url();
    let cases: String = (1..=4)
        .map(|i| {
            case(
                &format!("c{i}"),
                &format!("question {i}"),
                "[ { type: contains, value: mock } ]",
            )
        })
        .collect();
    p.file(
        "suites/s.yaml",
        &suite(
            &format!(
                "  - id: openai:model-fast\n    label: fast\n    config: {{ base_url: \"{url}/v1\" }}\n  - id: openai:model-slow\n    label: slow\n    config: {{ base_url: \"{url}/v1\" }}\n"
            ),
            &cases,
            "thresholds: { max_p95_ttft_increase: 50 }",
        ),
    );
    let r = p.run(&[
        "compare",
        "suites/s.yaml",
        "--baseline",
        "fast",
        "--candidate",
        "slow",
        "--stream",
        "--no-cache",
        "-o",
        "cmp.json",
    ]);
    assert_eq!(r.code, 1, "the ttft gate fails: {}", r.all());
    assert!(r.stdout.contains("Time to first token: p50"), "{}", r.all());
    let cmp: Value = serde_json::from_str(&p.read("cmp.json")).unwrap();
    let cmp = &cmp["comparisons"][0];
    let ttft = &cmp["stats"]["ttft"];
    assert!(ttft["candidate_p95"].as_f64().unwrap() >= 250.0, "{ttft}");
    assert!(ttft["baseline_p50"].as_f64().unwrap() < 250.0, "{ttft}");
    let gate = cmp["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "p95_ttft")
        .unwrap();
    assert_eq!(gate["status"], "fail", "{gate}");
    assert!(
        gate["detail"]
            .as_str()
            .unwrap()
            .contains("p95 time to first token rose"),
        "{gate}"
    );
    // The flag overrides the suite: a generous limit passes.
    let r = p.run(&[
        "compare",
        "suites/s.yaml",
        "--baseline",
        "fast",
        "--candidate",
        "slow",
        "--stream",
        "--max-p95-ttft-increase",
        "100000",
        "-o",
        "cmp2.json",
    ]);
    let cmp: Value = serde_json::from_str(&p.read("cmp2.json")).unwrap();
    let cmp = &cmp["comparisons"][0];
    let gate = cmp["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "p95_ttft")
        .unwrap();
    assert_eq!(gate["status"], "pass", "{gate}\n{}", r.all());
    assert_ne!(r.code, 1, "{}", r.all());
}

/// Through a proxy, requests go through reqwest rather than the direct hyper path: streams are
/// read as they arrive there too, and a break mid-stream is retried.
#[test]
fn streams_through_the_reqwest_path_too() {
    let mock = mock();
    for protocol in [
        Protocol::OpenAiChat,
        Protocol::BedrockConverse,
        Protocol::Anthropic,
    ] {
        mock.add_rule(
            Rule::new()
                .protocol(protocol)
                .prompt_contains("flaky")
                .times(1)
                .reply(Reply::text("Paris is the capital.").cut_stream()),
        );
    }
    mock.add_rule(
        Rule::new().reply(
            Reply::text("Paris is the capital.")
                .stream_delays(Duration::from_millis(200), Duration::from_millis(10)),
        ),
    );
    let home = tempfile::tempdir().unwrap();
    // The mock plays the proxy: the suite names a port nobody listens on, so an answer can
    // only come through `HTTP_PROXY`.
    let p = project(home.path()).env("HTTP_PROXY", &mock.url());
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let cases = [
        case(
            "slow",
            "slow question",
            "[ { type: ttft, threshold: 60000 } ]",
        ),
        case(
            "flaky",
            "flaky question",
            "[ { type: contains, value: Paris } ]",
        ),
    ]
    .concat();
    p.file(
        "suites/s.yaml",
        &suite(&providers(&url, ", stream: true"), &cases, ""),
    );
    let r = run_ok(
        &p,
        &[
            "run",
            "suites/s.yaml",
            "-p",
            "openai",
            "-p",
            "bedrock",
            "-p",
            "anthropic",
            "--no-cache",
            "-o",
            "results.json",
        ],
    );
    let doc = results(&p, "results.json");
    for label in ["openai", "bedrock", "anthropic"] {
        let slow = result_for(&doc, "slow", label);
        assert_eq!(slow["status"], "passed", "{label}: {slow}\n{}", r.all());
        assert!(slow["ttft_ms"].as_u64().unwrap() >= 200, "{slow}");
        let flaky = result_for(&doc, "flaky", label);
        assert_eq!(flaky["status"], "passed", "{label}: {flaky}");
        assert_eq!(flaky["attempts"], 2, "{flaky}");
    }
}

/// Declared tools with `--stream`, on every vendor: the streamed request carries the vendor's
/// tools field (the mock checks the shape), the call is assembled from the stream's pieces and
/// judged by `tool-call` and `is-valid-tool-call` as a whole answer's would be.
#[test]
fn streamed_tool_calls_are_judged_like_whole_ones_for_every_vendor() {
    let mock = mock();
    mock.add_rule(Rule::new().prompt_contains("weather").reply(
        Reply::text("").tool_call("get_weather", json!({"city": "Paris", "unit": "celsius"})),
    ));
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path());
    let tools = "tools:\n  - type: function\n    function:\n      name: get_weather\n      description: Current weather for a city\n      parameters:\n        type: object\n        properties: { city: { type: string }, unit: { type: string, enum: [celsius, fahrenheit] } }\n        required: [city]\n";
    p.file(
        "suites/s.yaml",
        &suite(
            &providers(&mock.url(), ""),
            &case(
                "weather",
                "What is the weather in Paris?",
                "[ { type: tool-call, value: { name: get_weather, arguments: { city: Paris } } }, { type: is-valid-tool-call } ]",
            ),
            tools,
        ),
    );
    run_ok(
        &p,
        &[
            "run",
            "suites/s.yaml",
            "--stream",
            "--no-cache",
            "-o",
            "r.json",
        ],
    );
    let doc = results(&p, "r.json");
    for (label, proto) in VENDORS {
        let r = result_for(&doc, "weather", label);
        assert_eq!(r["status"], "passed", "{label}: {r}");
        assert_eq!(r["streamed"], true, "{label}: {r}");
        assert_eq!(r["tool_calls"][0]["name"], "get_weather", "{label}: {r}");
        assert_eq!(
            r["tool_calls"][0]["arguments"]["unit"], "celsius",
            "{label}: {r}"
        );
        let req = mock
            .requests()
            .into_iter()
            .find(|q| q.protocol == Some(proto))
            .unwrap_or_else(|| panic!("no {proto:?} request"));
        assert!(req.rejection.is_none(), "{label}: {:?}", req.rejection);
        assert!(req.stream, "{label}: not a streaming request");
        let body = req.body_json().unwrap();
        let declared = match label {
            "gemini" | "vertex" => &body["tools"][0]["functionDeclarations"][0]["name"],
            "bedrock" => &body["toolConfig"]["tools"][0]["toolSpec"]["name"],
            "openai" | "azure" | "ollama" => &body["tools"][0]["function"]["name"],
            _ => &body["tools"][0]["name"],
        };
        assert_eq!(declared, "get_weather", "{label}: {body}");
    }
    assert_no_secrets(&p, &run_ok(&p, &["validate", "suites/s.yaml"]), &secrets());
}
