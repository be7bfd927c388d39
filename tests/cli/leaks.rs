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

// ---- a hostile server: every secret echoed everywhere it can put it -------------------------

const H_OPENAI: &str = "sk-hostile-openai-5b1c9e77";
const H_AZURE: &str = "azure-hostile-key-8d2f41aa";
const H_ANTHROPIC: &str = "sk-ant-hostile-6e3a0b19";
const H_GEMINI: &str = "AIza-hostile-gemini-7c4d2e";
const H_VERTEX: &str = "ya29.hostile-vertex-token-3f9a";
const H_AKID: &str = "AKIAHOSTILE7EXAMPLE";
const H_AWS_SECRET: &str = "hostile/secret+access/key-9Qx";
const H_AWS_SESSION: &str = "hostile-session-token-2b7e";
const H_GATEWAY: &str = "gw-hostile-token-4a8c";
const H_EXEC: &str = "exec-hostile-api-key-1d6f";

const HOSTILE_KEYS: [&str; 10] = [
    H_OPENAI,
    H_AZURE,
    H_ANTHROPIC,
    H_GEMINI,
    H_VERTEX,
    H_AKID,
    H_AWS_SECRET,
    H_AWS_SESSION,
    H_GATEWAY,
    H_EXEC,
];

/// Every provider kind the suite format has, each pointed at the hostile server (or, for
/// `exec`, a command that prints the key it finds in its environment).
fn hostile_suite(url: &str) -> String {
    format!(
        r#"providers:
  - id: openai:gpt-h
    label: openai
    config: {{ base_url: "{url}/v1" }}
  - id: azure:dep-h
    label: azure
    config: {{ endpoint: "{url}" }}
  - id: anthropic:claude-h
    label: anthropic
    config: {{ base_url: "{url}" }}
  - id: gemini:gemini-h
    label: gemini
    config: {{ base_url: "{url}" }}
  - id: vertex:gemini-v
    label: vertex
    config: {{ base_url: "{url}", location: us-central1 }}
  - id: bedrock:anthropic.claude-h
    label: bedrock
    config: {{ endpoint_url: "{url}", region: us-east-1 }}
  - id: http:gateway
    label: http
    config:
      url: "{url}/api/chat"
      headers: {{ Authorization: "Bearer {{{{ env.GATEWAY_TOKEN }}}}" }}
      body: {{ model: gw-h, stream: false, messages: "{{{{ messages }}}}" }}
      response_path: $.message.content
  - id: exec:echo
    label: exec
    config:
      command: [sh, -c, 'read q; case "$q" in *echo-error*) echo "refused $EXEC_API_KEY" >&2; exit 3;; *echo-retry*) echo "busy $EXEC_API_KEY" >&2; exit 75;; esac; echo "answer $EXEC_API_KEY"; echo "note $EXEC_API_KEY" >&2']
prompts: ["{{{{ q }}}}"]
cases:
  - id: answer
    vars: {{ q: "echo-answer please" }}
    assert: [ {{ type: contains, value: "nothing like this" }} ]
  - id: failure
    vars: {{ q: "echo-error please" }}
    assert: [ {{ type: contains, value: answer }} ]
  - id: retry
    vars: {{ q: "echo-retry please" }}
    assert: [ {{ type: contains, value: answer }} ]
"#
    )
}

/// Replies that carry every key: in an error body's `message`, `code`, `param`, `type` and
/// `status` (JSON-escaped too), in response headers, in answers, in retried failures.
fn hostile_rules(mock: &MockServer) {
    let all = HOSTILE_KEYS.join(" ");
    let escaped = all.replace('/', "\\/");
    let error_body = format!(
        r#"{{"error":{{"message":"bad credentials {all}","type":"{H_OPENAI}","code":"{H_AZURE}","param":"{escaped}","status":"{H_GEMINI}"}},"message":"denied {all}","type":"error"}}"#
    );
    let headers: Vec<(String, String)> = HOSTILE_KEYS
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("x-echo-{i}"), (*k).to_string()))
        .collect();
    let with_headers = |mut r: Reply| {
        for (k, v) in &headers {
            r = r.header(k.clone(), v.clone());
        }
        r
    };
    mock.add_rule(
        Rule::new()
            .prompt_contains("echo-error")
            .reply(with_headers(Reply::raw(
                400,
                &[
                    ("content-type", "application/json"),
                    ("x-amzn-errortype", "ValidationException"),
                ],
                error_body.clone(),
            ))),
    );
    // Seven HTTP providers: each fails once (a retry line under -vv), then answers.
    mock.add_rule(
        Rule::new()
            .prompt_contains("echo-retry")
            .times(7)
            .reply(with_headers(Reply::raw(
                503,
                &[("content-type", "application/json")],
                error_body,
            ))),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("echo-")
            .reply(with_headers(Reply::text(format!("the keys are {all}")))),
    );
}

#[test]
fn a_hostile_server_echoing_every_key_leaves_none_in_any_file_or_stream() {
    let mock = MockServer::start();
    mock.check_requests(false);
    hostile_rules(&mock);
    let home = tempfile::tempdir().unwrap();
    let summary = tempfile::tempdir().unwrap();
    let step_summary = summary.path().join("step-summary.md");
    let p = Project::new()
        .env("HOME", home.path().to_str().unwrap())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("OPENAI_API_KEY", H_OPENAI)
        .env("AZURE_OPENAI_API_KEY", H_AZURE)
        .env("ANTHROPIC_API_KEY", H_ANTHROPIC)
        .env("GEMINI_API_KEY", H_GEMINI)
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", H_VERTEX)
        .env("GOOGLE_CLOUD_PROJECT", "proj-h")
        .env("AWS_ACCESS_KEY_ID", H_AKID)
        .env("AWS_SECRET_ACCESS_KEY", H_AWS_SECRET)
        .env("AWS_SESSION_TOKEN", H_AWS_SESSION)
        .env("GATEWAY_TOKEN", H_GATEWAY)
        .env("EXEC_API_KEY", H_EXEC)
        .env("GITHUB_STEP_SUMMARY", step_summary.to_str().unwrap());
    p.file("suites/hostile.yaml", &hostile_suite(&mock.url()));
    let mut runs = Vec::new();

    // Live, every report kind, snapshots, the step summary, debug logging.
    let r = p.run(&[
        "-vv",
        "run",
        "suites",
        "--snapshot",
        "-o",
        "out/live.json",
        "-o",
        "out/live.xml",
        "-o",
        "out/live.html",
        "-o",
        "out/live.md",
    ]);
    assert_eq!(r.code, 3, "the error cases are errors: {}", r.all());
    assert!(
        r.stderr.contains("retry: retry × "),
        "-vv retry lines: {}",
        r.all()
    );
    let live: serde_json::Value = serde_json::from_str(&p.read("out/live.json")).unwrap();
    let results = live["results"].as_array().unwrap();
    assert_eq!(results.len(), 24);
    // The server did put the keys in: what it sent arrives masked.
    for r in results.iter().filter(|r| r["case_id"] == "answer") {
        let out = r["output"].as_str().unwrap_or_default();
        assert!(out.contains("***"), "{r:#}");
    }
    for r in results.iter().filter(|r| r["case_id"] == "failure") {
        assert_eq!(r["status"], "error", "{r:#}");
        assert!(r["error"].to_string().contains("***"), "{r:#}");
    }
    assert!(
        p.all_files()
            .iter()
            .any(|f| f.to_string_lossy().ends_with(".snap.new"))
    );
    runs.push(r);

    // Streamed (every provider with a streaming API; `http` and `exec` say they cannot).
    let r = p.run(&[
        "-vv",
        "run",
        "suites",
        "--stream",
        "--no-cache",
        "-o",
        "out/stream.json",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    let streamed: serde_json::Value = serde_json::from_str(&p.read("out/stream.json")).unwrap();
    let answers: Vec<&serde_json::Value> = streamed["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["case_id"] == "answer" && r["ttft_ms"].is_u64())
        .collect();
    assert!(answers.len() >= 6, "streamed answers: {streamed:#}");
    for r in answers {
        assert!(
            r["output"].as_str().unwrap_or_default().contains("***"),
            "{r:#}"
        );
    }
    runs.push(r);

    // From the cache, with trace logging.
    let out = p
        .cmd(&["run", "suites", "-o", "out/cached.json"])
        .env("PROMPTDRIFT_LOG", "trace")
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        r.stdout.contains("came from the response cache"),
        "{}",
        r.all()
    );
    runs.push(r);

    // Record, then replay from the cassettes.
    let r = p.run(&["-vv", "run", "suites", "--mode", "record", "--no-cache"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(p.exists("fixtures/cassettes/hostile/openai.yaml"));
    assert!(p.exists("fixtures/cassettes/hostile/bedrock.yaml"));
    runs.push(r);
    let r = p.run(&[
        "-vv",
        "run",
        "suites",
        "--mode",
        "replay",
        "-o",
        "out/replay.json",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    runs.push(r);
    let r = p.run(&["report", "out/live.json", "-o", "out/report.html"]);
    assert_eq!(r.code, 0, "{}", r.all());
    runs.push(r);

    for key in HOSTILE_KEYS {
        for r in &runs {
            assert!(
                !r.stdout.contains(key) && !r.stderr.contains(key),
                "key {key} printed: {}",
                r.all()
            );
        }
        for f in p.all_files().into_iter().chain([step_summary.clone()]) {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
            assert!(!text.contains(key), "key {key} found in {}", f.display());
            let escaped = key.replace('/', "\\/");
            assert!(
                !text.contains(&escaped),
                "key {key} found in {}",
                f.display()
            );
        }
    }
    assert!(
        std::fs::read_to_string(&step_summary)
            .unwrap()
            .contains("hostile")
    );
}
