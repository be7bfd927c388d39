//! Key-leak scan: a representative set of commands (validate, live runs with `-vv` and trace
//! logging, a cached re-run, record and replay, cache stats) with fake keys for every kind of
//! credential (OpenAI, Anthropic, Gemini, hosted Ollama, an `http` gateway's env header, env
//! headers on OpenAI and Gemini), including servers that echo the key back in error messages. Every file the
//! commands write and everything they print is scanned for every key.

use promptdrift_mock::{MockServer, Protocol, Reply, Rule};

use crate::support::{Project, Run};

const OPENAI_KEY: &str = "sk-leaktest-openai-7f3a9c";
const ANTHROPIC_KEY: &str = "sk-ant-leaktest-41b2e8d0";
const OLLAMA_KEY: &str = "ollama-leaktest-key-5e6f";
const GATEWAY_TOKEN: &str = "gw-leaktest-token-9d8c7b";
const PROXY_TOKEN: &str = "proxy-leaktest-token-1a2b";
const GEMINI_KEY: &str = "AIza-leaktest-gemini-3c4d";

const ALL_KEYS: [&str; 6] = [
    OPENAI_KEY,
    ANTHROPIC_KEY,
    OLLAMA_KEY,
    GATEWAY_TOKEN,
    PROXY_TOKEN,
    GEMINI_KEY,
];

fn suite(mock: &MockServer) -> String {
    format!(
        r#"providers:
  - id: openai:gpt-leak
    label: openai
    config:
      base_url: "{url}/v1"
      headers: {{ X-Proxy-Auth: "{{{{ env.PROXY_TOKEN }}}}" }}
  - id: anthropic:claude-leak
    label: anthropic
    config: {{ base_url: "{url}" }}
  - id: ollama:llama-leak
    label: ollama
    config: {{ base_url: "{url}", api_key_env: OLLAMA_API_KEY }}
  - id: http:gateway
    label: gateway
    config:
      url: "{url}/api/chat"
      headers: {{ Authorization: "Bearer {{{{ env.GATEWAY_TOKEN }}}}" }}
      body: {{ model: gw-leak, stream: false, messages: "{{{{ messages }}}}" }}
      response_path: $.message.content
  - id: gemini:gem-leak
    label: gemini
    config:
      base_url: "{url}"
      headers: {{ X-Proxy-Auth: "{{{{ env.PROXY_TOKEN }}}}" }}
  - id: exec:echo
    label: exec
    config: {{ command: [sh, -c, "cat; echo"] }}
prompts: ["{{{{ question }}}}"]
cases:
  - id: fine
    vars: {{ question: "hello there" }}
    assert: [ {{ type: contains, value: hello }} ]
  - id: echoed
    vars: {{ question: "echo-key please" }}
    assert: [ {{ type: contains, value: echo }} ]
"#,
        url = mock.url()
    )
}

/// Servers that put the caller's key into their error message, as some do.
fn echo_rules(mock: &MockServer) {
    let openai = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {OPENAI_KEY} (proxy {PROXY_TOKEN})","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
    );
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::OpenAiChat)
            .prompt_contains("echo-key")
            .reply(Reply::raw(
                401,
                &[("content-type", "application/json")],
                openai,
            )),
    );
    let anthropic = format!(
        r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {ANTHROPIC_KEY}"}}}}"#
    );
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::Anthropic)
            .prompt_contains("echo-key")
            .reply(Reply::raw(
                401,
                &[("content-type", "application/json")],
                anthropic,
            )),
    );
    mock.add_rule(
        Rule::new()
            .protocol(Protocol::Gemini)
            .prompt_contains("echo-key")
            .reply(Reply::raw(
                400,
                &[("content-type", "application/json")],
                format!(
                    r#"{{"error":{{"code":400,"message":"API key not valid: {GEMINI_KEY}","status":"INVALID_ARGUMENT"}}}}"#
                ),
            )),
    );
    mock.add_rule(
        Rule::new()
            .model("llama-leak")
            .prompt_contains("echo-key")
            .reply(Reply::raw(
                401,
                &[("content-type", "application/json")],
                format!(r#"{{"error":"unauthorized: Bearer {OLLAMA_KEY}"}}"#),
            )),
    );
    mock.add_rule(
        Rule::new()
            .model("gw-leak")
            .prompt_contains("echo-key")
            .reply(Reply::raw(
                403,
                &[("content-type", "application/json")],
                format!(r#"{{"error":{{"message":"token {GATEWAY_TOKEN} is not allowed"}}}}"#),
            )),
    );
}

fn assert_clean(p: &Project, runs: &[Run]) {
    for key in ALL_KEYS {
        for r in runs {
            assert!(
                !r.stdout.contains(key) && !r.stderr.contains(key),
                "key {key} printed: {}",
                r.all()
            );
        }
        for f in p.all_files() {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(key),
                "key {key} found in {}",
                f.display()
            );
        }
    }
}

#[test]
fn no_key_reaches_any_output_file_or_log() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, OPENAI_KEY);
    mock.expect_key(Protocol::Anthropic, ANTHROPIC_KEY);
    mock.expect_key(Protocol::Gemini, GEMINI_KEY);
    echo_rules(&mock);
    let p = Project::new()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        .env("OLLAMA_API_KEY", OLLAMA_KEY)
        .env("GATEWAY_TOKEN", GATEWAY_TOKEN)
        .env("PROXY_TOKEN", PROXY_TOKEN)
        .env("GEMINI_API_KEY", GEMINI_KEY);
    p.file("suites/leak.yaml", &suite(&mock));
    let mut runs = Vec::new();

    let r = p.run(&["validate", "suites"]);
    assert_eq!(r.code, 0, "{}", r.all());
    runs.push(r);

    let r = p.run(&[
        "-vv",
        "run",
        "suites",
        "-o",
        "out/live.json",
        "--max-retries",
        "0",
    ]);
    assert_eq!(r.code, 3, "the echo cases are auth errors: {}", r.all());
    let live: serde_json::Value = serde_json::from_str(&p.read("out/live.json")).unwrap();
    let results = live["results"].as_array().unwrap();
    assert_eq!(results.len(), 12);
    // Each echoed key became `***` in the stored message; the message itself survives.
    for r in results
        .iter()
        .filter(|r| r["case_id"] == "echoed" && r["provider"] != "exec")
    {
        let msg = r["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains("***"), "{r:#}");
    }
    for r in results.iter().filter(|r| r["case_id"] == "fine") {
        assert_eq!(r["status"], "passed", "{r:#}");
    }
    runs.push(r);

    let r = p.run(&[
        "-vv",
        "run",
        "suites",
        "-o",
        "out/cached.json",
        "--max-retries",
        "0",
    ]);
    assert!(
        r.stdout.contains("answers came from the response cache"),
        "{}",
        r.all()
    );
    runs.push(r);

    let r = p.run(&[
        "-vv",
        "run",
        "suites",
        "--mode",
        "record",
        "--max-retries",
        "0",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(p.exists("fixtures/cassettes/leak/gateway.yaml"));
    assert!(p.exists("fixtures/cassettes/leak/openai.yaml"));
    runs.push(r);

    let r = p.run(&["run", "suites", "--mode", "replay", "-o", "out/replay.json"]);
    assert_eq!(r.code, 3, "replayed errors are errors again: {}", r.all());
    runs.push(r);

    let r = p
        .cmd(&["run", "suites", "--no-cache", "--max-retries", "0"])
        .env("PROMPTDRIFT_LOG", "trace")
        .output()
        .unwrap();
    runs.push(Run {
        code: r.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&r.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&r.stderr).into_owned(),
    });
    assert!(
        runs.last().unwrap().stderr.len() > 1000,
        "trace logging produced output to scan"
    );

    let r = p.run(&["cache", "stats"]);
    assert_eq!(r.code, 0, "{}", r.all());
    runs.push(r);

    assert_clean(&p, &runs);

    // Keys went out only where each vendor expects them, never in a path or body.
    for q in mock.requests() {
        for key in ALL_KEYS {
            assert!(
                !q.path.contains(key) && !q.body_str().contains(key),
                "{q:?}"
            );
        }
        match q.model.as_deref() {
            Some("gpt-leak") => {
                assert_eq!(
                    q.header("authorization"),
                    Some(format!("Bearer {OPENAI_KEY}").as_str())
                );
                assert_eq!(q.header("x-proxy-auth"), Some(PROXY_TOKEN));
            }
            Some("claude-leak") => assert_eq!(q.header("x-api-key"), Some(ANTHROPIC_KEY)),
            Some("gem-leak") => {
                assert_eq!(q.header("x-goog-api-key"), Some(GEMINI_KEY));
                assert_eq!(q.header("x-proxy-auth"), Some(PROXY_TOKEN));
            }
            Some("llama-leak") => assert_eq!(
                q.header("authorization"),
                Some(format!("Bearer {OLLAMA_KEY}").as_str())
            ),
            Some("gw-leak") => assert_eq!(
                q.header("authorization"),
                Some(format!("Bearer {GATEWAY_TOKEN}").as_str())
            ),
            other => panic!("unexpected request for {other:?}"),
        }
    }
}
