//! Key-leak scans through the binary; every file a command writes and everything it prints
//! is searched for every key (raw and JSON-escaped):
//! - `no_key_reaches_any_output_file_or_log`: validate, live runs with `-vv` and trace logging,
//!   a cached re-run, record and replay, cache stats, with fake keys for OpenAI, Anthropic,
//!   Gemini, hosted Ollama, an `http` gateway's env header and env headers on OpenAI and Gemini;
//!   servers echo the key in their error messages.
//! - `a_hostile_server_echoing_every_key_leaves_none_in_any_file_or_stream`: every provider kind
//!   (OpenAI, Azure, Anthropic, Gemini, Vertex, Bedrock, http, exec) against a server that puts
//!   every key in error fields, headers, answers and retried failures; `-vv`, every `-o` kind,
//!   `$GITHUB_STEP_SUMMARY`, `--snapshot`, `--stream`, the cache with trace logs, record and
//!   replay, `report`; a key written literally in a suite's credential header too.
//! - `hostile_credential_endpoints_echoing_what_they_were_sent_leak_nothing`: every credential
//!   chain with a token endpoint (Entra ID client secret, workload identity, App Service managed
//!   identity; Google user credentials, service account, workload identity federation; AWS web
//!   identity, SSO, assume role, container, `credential_process`) against a server that echoes
//!   the whole request (form-encoded secrets, headers, signed assertions) in its refusal.
//! - `a_key_hidden_in_json_unicode_escapes_is_scrubbed_once_decoded`: a key spelled in `\u`
//!   escapes in an answer, its ids and an error's message and code; live, cached, recorded,
//!   replayed, every report kind and snapshots.

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
/// Written into the suite itself, in a credential header (not read from the environment).
const H_LITERAL: &str = "literal-suite-header-key-6a0e";

const HOSTILE_KEYS: [&str; 11] = [
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
    H_LITERAL,
];

/// Every provider kind the suite format has, each pointed at the hostile server (or, for
/// `exec`, a command that prints the key it finds in its environment).
fn hostile_suite(url: &str) -> String {
    format!(
        r#"providers:
  - id: openai:gpt-h
    label: openai
    config: {{ base_url: "{url}/v1", headers: {{ X-Api-Key: "{H_LITERAL}" }} }}
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

    // Comparisons, live and from results files, with every report kind; a merge.
    let r = p.run(&[
        "-vv",
        "compare",
        "suites",
        "--baseline",
        "openai",
        "--candidate",
        "bedrock",
        "--no-cache",
        "--save-results",
        "out/cmp-results.json",
        "-o",
        "out/cmp.json",
        "-o",
        "out/cmp.html",
        "-o",
        "out/cmp.xml",
        "-o",
        "out/cmp.md",
    ]);
    assert!(
        p.exists("out/cmp.html") && p.exists("out/cmp.md"),
        "{}",
        r.all()
    );
    assert!(
        p.read("out/cmp-results.json").contains("***"),
        "the compared answers carried the keys: {}",
        r.all()
    );
    runs.push(r);
    let r = p.run(&[
        "diff",
        "out/live.json",
        "out/replay.json",
        "-o",
        "out/diff.json",
        "-o",
        "out/diff.html",
        "-o",
        "out/diff.md",
        "-o",
        "out/diff.xml",
    ]);
    assert!(p.exists("out/diff.html"), "{}", r.all());
    runs.push(r);
    let r = p.run(&["merge", "out/live.json", "-o", "out/merged.json"]);
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
            if key == H_LITERAL && f.ends_with("suites/hostile.yaml") {
                continue; // where it was written
            }
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

// ---- hostile credential endpoints: token services that echo what they were sent --------------

/// A server on 127.0.0.1 that refuses every request and echoes all of it back: the request
/// body, line and headers (on one line) in the error body (as the field a vendor's error message lives in:
/// OAuth's `error_description`, STS's `<Message>`, a JSON `message`), and every header value in
/// a response header of its own. Returns its base URL.
fn echoing_token_server() -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = s.read(&mut chunk) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let Ok(n) = s.read(&mut chunk) else { return };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                // One line, the body first: messages often keep only an error's first line.
                let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
                let request = format!("{body} | {}", head.trim().replace("\r\n", " ; "));
                let quoted = serde_json::to_string(&request).unwrap();
                let (content_type, body) = if request.contains("Action=") {
                    (
                        "text/xml",
                        format!(
                            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>denied {request}</Message></Error></ErrorResponse>"
                        ),
                    )
                } else {
                    (
                        "application/json",
                        format!(
                            r#"{{"error":"invalid_grant","error_description":{quoted},"message":{quoted},"error_codes":[7000215],"Code":"Denied","Message":{quoted}}}"#
                        ),
                    )
                };
                let mut reply = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (i, line) in head.lines().skip(1).enumerate() {
                    if let Some((_, v)) = line.split_once(':') {
                        reply.push_str(&format!("x-echo-{i}: {}\r\n", v.trim()));
                    }
                }
                reply.push_str("\r\n");
                reply.push_str(&body);
                let _ = s.write_all(reply.as_bytes());
            });
        }
    });
    url
}

/// One credential chain pointed at the echoing server: the environment and files it needs,
/// the provider entry, and the secrets it sends there.
struct Chain {
    name: &'static str,
    provider: String,
    env: Vec<(&'static str, String)>,
    secrets: Vec<&'static str>,
}

const T_AZ_SECRET: &str = "azure/hostile+client~secret=TEST";
const T_AZ_ASSERTION: &str = "eyJhbGciOi.azure-federated-assertion.TEST";
const T_AZ_IDENTITY_HEADER: &str = "app-service-identity-header-TEST";
const T_G_CLIENT_SECRET: &str = "gcloud-hostile-client-secret-TEST";
const T_G_REFRESH: &str = "1//hostile-refresh-token-TEST";
const T_G_SUBJECT: &str = "eyJhbGciOi.google-subject-token.TEST";
const T_G_OIDC_REQUEST: &str = "gh-oidc-request-token-hostile-TEST";
const T_AWS_WEB_TOKEN: &str = "eyJhbGciOi.aws-web-identity.TEST";
const T_AWS_SSO: &str = "aws-sso-access-token-hostile-TEST";
const T_AWS_CONTAINER: &str = "aws-container-authorization-TEST";
const T_AWS_AKID: &str = "AKIAHOSTILESOURCE001";
const T_AWS_SECRET: &str = "hostile/source+profile/secret/TEST";
const T_PROCESS_KEY: &str = "process-printed-api-key-TEST";

fn chains(url: &str, home: &std::path::Path) -> Vec<Chain> {
    let file = |name: &str, content: &str| {
        let f = home.join(name);
        std::fs::write(&f, content).unwrap();
        f.to_str().unwrap().to_string()
    };
    let azure = "  - id: azure:gpt-4o-mini\n    config: { endpoint: \"http://127.0.0.1:9\" }\n";
    let vertex = "  - id: vertex:gemini-2.5-flash\n    config: { base_url: \"http://127.0.0.1:9\", location: us-central1, project: p }\n";
    let bedrock = "  - id: bedrock:anthropic.claude-h\n    config: { endpoint_url: \"http://127.0.0.1:9\", region: us-east-1 }\n";
    let gcloud = home.join("gcloud");
    std::fs::create_dir_all(&gcloud).unwrap();
    std::fs::write(
        gcloud.join("application_default_credentials.json"),
        serde_json::json!({"type": "authorized_user", "client_id": "c.apps.googleusercontent.com", "client_secret": T_G_CLIENT_SECRET, "refresh_token": T_G_REFRESH, "token_uri": format!("{url}/token")}).to_string(),
    )
    .unwrap();
    let service_account = file(
        "sa.json",
        &serde_json::json!({"type": "service_account", "project_id": "p", "private_key_id": "k1", "private_key": include_str!("../fixtures/credentials/test-rsa-key.pem"), "client_email": "sa@p.iam.gserviceaccount.com", "client_id": "1", "token_uri": format!("{url}/token")}).to_string(),
    );
    let subject = file("subject-token", T_G_SUBJECT);
    let external_file = file(
        "external-file.json",
        &serde_json::json!({"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": format!("{url}/v1/token"), "credential_source": {"file": subject}}).to_string(),
    );
    let external_url = file(
        "external-url.json",
        &serde_json::json!({"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": format!("{url}/v1/token"), "credential_source": {"url": format!("{url}/oidc"), "headers": {"Authorization": format!("Bearer {T_G_OIDC_REQUEST}")}, "format": {"type": "json", "subject_token_field_name": "value"}}}).to_string(),
    );
    let aws = home.join(".aws");
    std::fs::create_dir_all(aws.join("sso/cache")).unwrap();
    std::fs::write(
        aws.join("config"),
        "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\nregion = us-east-1\n\n[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\n\n[profile role]\nrole_arn = arn:aws:iam::123456789012:role/ci\nsource_profile = base\nregion = us-east-1\n\n[profile base]\nregion = us-east-1\n\n[profile process]\ncredential_process = sh -c 'echo \"refused: $PROCESS_API_KEY\" >&2; exit 1'\n",
    )
    .unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[base]\naws_access_key_id = {T_AWS_AKID}\naws_secret_access_key = {T_AWS_SECRET}\n"
        ),
    )
    .unwrap();
    // The SSO token cache: the file name is the SHA-1 of the session name (`sha1sum`).
    std::fs::write(
        aws.join("sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        serde_json::json!({"accessToken": T_AWS_SSO, "expiresAt": "2099-01-01T00:00:00Z", "region": "us-east-1", "startUrl": "https://corp.awsapps.com/start"}).to_string(),
    )
    .unwrap();
    let web_token = file("web-identity-token", T_AWS_WEB_TOKEN);
    let assertion = file("azure-federated-token", T_AZ_ASSERTION);
    let az = |extra: Vec<(&'static str, String)>| {
        let mut env = vec![
            ("AZURE_TENANT_ID", "tenant-1".to_string()),
            ("AZURE_CLIENT_ID", "client-1".to_string()),
            ("AZURE_AUTHORITY_HOST", url.to_string()),
        ];
        env.extend(extra);
        env
    };
    vec![
        Chain {
            name: "azure client secret",
            provider: azure.into(),
            env: az(vec![("AZURE_CLIENT_SECRET", T_AZ_SECRET.into())]),
            secrets: vec![T_AZ_SECRET],
        },
        Chain {
            name: "azure workload identity",
            provider: azure.into(),
            env: az(vec![("AZURE_FEDERATED_TOKEN_FILE", assertion)]),
            secrets: vec![T_AZ_ASSERTION],
        },
        Chain {
            name: "azure managed identity (App Service)",
            provider: azure.into(),
            env: vec![
                ("IDENTITY_ENDPOINT", format!("{url}/msi/token")),
                ("IDENTITY_HEADER", T_AZ_IDENTITY_HEADER.into()),
            ],
            secrets: vec![T_AZ_IDENTITY_HEADER],
        },
        Chain {
            name: "google authorized user",
            provider: vertex.into(),
            env: vec![("CLOUDSDK_CONFIG", gcloud.to_str().unwrap().into())],
            secrets: vec![T_G_CLIENT_SECRET, T_G_REFRESH],
        },
        Chain {
            name: "google service account",
            provider: vertex.into(),
            env: vec![("GOOGLE_APPLICATION_CREDENTIALS", service_account)],
            // The signed assertion is checked below: no `eyJ` JWT reaches any output.
            secrets: vec!["PRIVATE KEY"],
        },
        Chain {
            name: "google external account (file)",
            provider: vertex.into(),
            env: vec![("GOOGLE_APPLICATION_CREDENTIALS", external_file)],
            secrets: vec![T_G_SUBJECT],
        },
        Chain {
            name: "google external account (url)",
            provider: vertex.into(),
            env: vec![("GOOGLE_APPLICATION_CREDENTIALS", external_url)],
            secrets: vec![T_G_OIDC_REQUEST],
        },
        Chain {
            name: "aws web identity",
            provider: bedrock.into(),
            env: vec![
                ("AWS_WEB_IDENTITY_TOKEN_FILE", web_token),
                ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci".into()),
                ("AWS_ENDPOINT_URL_STS", url.to_string()),
            ],
            secrets: vec![T_AWS_WEB_TOKEN],
        },
        Chain {
            name: "aws sso",
            provider: bedrock.into(),
            env: vec![
                ("AWS_PROFILE", "sso".into()),
                ("AWS_ENDPOINT_URL_SSO", url.to_string()),
            ],
            secrets: vec![T_AWS_SSO],
        },
        Chain {
            name: "aws assume role",
            provider: bedrock.into(),
            env: vec![
                ("AWS_PROFILE", "role".into()),
                ("AWS_ENDPOINT_URL_STS", url.to_string()),
            ],
            secrets: vec![T_AWS_AKID, T_AWS_SECRET],
        },
        Chain {
            name: "aws container",
            provider: bedrock.into(),
            env: vec![
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    format!("{url}/v2/credentials/t"),
                ),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", T_AWS_CONTAINER.into()),
            ],
            secrets: vec![T_AWS_CONTAINER],
        },
        Chain {
            name: "aws credential_process",
            provider: bedrock.into(),
            env: vec![
                ("AWS_PROFILE", "process".into()),
                ("PROCESS_API_KEY", T_PROCESS_KEY.into()),
            ],
            secrets: vec![T_PROCESS_KEY],
        },
    ]
}

#[test]
fn hostile_credential_endpoints_echoing_what_they_were_sent_leak_nothing() {
    let url = echoing_token_server();
    let home = tempfile::tempdir().unwrap();
    for chain in chains(&url, home.path()) {
        let mut p = Project::new().env("HOME", home.path().to_str().unwrap());
        for (k, v) in &chain.env {
            p = p.env(k, v);
        }
        p.file(
            "suites/s.yaml",
            &format!(
                "providers:\n{}prompts: [\"{{{{ q }}}}\"]\ncases:\n  - id: one\n    vars: {{ q: hello }}\n    assert: [ {{ type: contains, value: hi }} ]\n",
                chain.provider
            ),
        );
        let mut runs = Vec::new();
        let r = p.run(&[
            "-vv",
            "run",
            "suites",
            "-o",
            "out/r.json",
            "-o",
            "out/r.html",
        ]);
        assert_eq!(r.code, 2, "{}: {}", chain.name, r.all());
        // The endpoint's echo is in the message (masked), except where the message keeps
        // only the status (a subject-token URL's refusal).
        assert_eq!(
            r.stderr.contains("***"),
            chain.name != "google external account (url)",
            "{}: {}",
            chain.name,
            r.all()
        );
        runs.push(r);
        let out = p
            .cmd(&["run", "suites", "-o", "out/trace.json"])
            .env("PROMPTDRIFT_LOG", "trace")
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        runs.push(Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
        for secret in &chain.secrets {
            for r in &runs {
                assert!(
                    !r.stdout.contains(secret) && !r.stderr.contains(secret),
                    "{}: {secret} printed: {}",
                    chain.name,
                    r.all()
                );
            }
            for f in p.all_files() {
                let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
                assert!(
                    !text.contains(secret),
                    "{}: {secret} in {}",
                    chain.name,
                    f.display()
                );
            }
        }
        // No signed assertion (a JWT: `eyJ…`) the chain made or read is printed either.
        for r in &runs {
            assert!(
                !r.all().contains("eyJ"),
                "{}: a JWT printed: {}",
                chain.name,
                r.all()
            );
        }
    }
}

/// Every character of `s` as a JSON `\uXXXX` escape: valid JSON a parser decodes to `s`.
fn unicode_escaped(s: &str) -> String {
    s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect()
}

#[test]
fn a_key_hidden_in_json_unicode_escapes_is_scrubbed_once_decoded() {
    const KEY: &str = "sk-escaped-echo-0b7d5e21";
    let mock = MockServer::start();
    mock.check_requests(false);
    let escaped = unicode_escaped(KEY);
    mock.add_rule(
        Rule::new()
            .prompt_contains("answer")
            .reply(Reply::raw(
                200,
                &[("content-type", "application/json")],
                format!(
                    r#"{{"id":"chatcmpl-{escaped}","object":"chat.completion","created":1,"model":"m-{escaped}","choices":[{{"index":0,"message":{{"role":"assistant","content":"your key is {escaped}"}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}}}"#
                ),
            )),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("error")
            .reply(Reply::raw(
                401,
                &[("content-type", "application/json")],
                format!(
                    r#"{{"error":{{"message":"Incorrect API key provided: {escaped}","type":"invalid_request_error","code":"{escaped}"}}}}"#
                ),
            )),
    );
    let p = Project::new().env("OPENAI_API_KEY", KEY);
    p.file(
        "suites/esc.yaml",
        &format!(
            "providers:\n  - id: openai:gpt-esc\n    label: openai\n    config: {{ base_url: \"{}/v1\" }}\nprompts: [\"{{{{ q }}}}\"]\ncases:\n  - id: answer\n    vars: {{ q: answer }}\n    assert: [ {{ type: contains, value: nothing }} ]\n  - id: error\n    vars: {{ q: error }}\n    assert: [ {{ type: contains, value: nothing }} ]\n",
            mock.url()
        ),
    );
    let mut runs = vec![p.run(&[
        "-vv",
        "run",
        "suites",
        "--snapshot",
        "--max-retries",
        "0",
        "-o",
        "out/r.json",
        "-o",
        "out/r.html",
        "-o",
        "out/r.md",
        "-o",
        "out/r.xml",
    ])];
    assert_eq!(runs[0].code, 3, "{}", runs[0].all());
    let doc: serde_json::Value = serde_json::from_str(&p.read("out/r.json")).unwrap();
    let answer = crate::support::result_for(&doc, "answer", "openai");
    assert_eq!(answer["output"], "your key is ***", "{answer:#}");
    let error = crate::support::result_for(&doc, "error", "openai");
    assert!(
        error["error"]["message"].as_str().unwrap().ends_with("***"),
        "{error:#}"
    );
    runs.push(p.run(&["run", "suites", "-o", "out/cached.json"]));
    runs.push(p.run(&["run", "suites", "--mode", "record", "--no-cache"]));
    runs.push(p.run(&["run", "suites", "--mode", "replay", "-o", "out/replay.json"]));
    for r in &runs {
        assert!(
            !r.stdout.contains(KEY) && !r.stderr.contains(KEY),
            "{}",
            r.all()
        );
    }
    for f in p.all_files() {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(!text.contains(KEY), "key in {}", f.display());
    }
}
