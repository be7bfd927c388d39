//! The HTTP transport as a server sees it: plain HTTP to an IP address goes straight over
//! hyper (`runner/direct.rs`) with the headers reqwest would send; a proxy variable sends every
//! request through the proxy (reqwest), as before.

use std::time::Duration;

use promptdrift_mock::MockServer;

use crate::support::Project;

const KEY: &str = "sk-transport-test-key";

fn suite(base_url: &str) -> String {
    format!(
        "providers:\n  - id: openai-compatible:m\n    label: m\n    config: {{ base_url: \"{base_url}\", api_key_env: T_KEY }}\n\
         prompts: [\"{{{{ q }}}}\"]\n\
         cases:\n  - {{ id: one, vars: {{ q: \"question one\" }}, assert: [ {{ type: contains, value: \"question one\" }} ] }}\n\
         \x20 - {{ id: two, vars: {{ q: \"question two\" }}, assert: [ {{ type: contains, value: \"question two\" }} ] }}\n"
    )
}

#[test]
fn plain_http_requests_carry_the_usual_headers() {
    let mock = MockServer::start();
    let p = Project::new().env("T_KEY", KEY);
    p.file("suites/s.yaml", &suite(&format!("{}/v1", mock.url())));
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "-j", "1"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    let authority = mock.url().trim_start_matches("http://").to_string();
    for q in &requests {
        assert_eq!(q.method, "POST");
        assert_eq!(q.path, "/v1/chat/completions");
        assert_eq!(q.header("host"), Some(authority.as_str()));
        assert_eq!(q.header("accept"), Some("*/*"));
        assert_eq!(q.header("content-type"), Some("application/json"));
        assert_eq!(
            q.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert!(
            q.header("user-agent")
                .is_some_and(|ua| ua.starts_with("promptdrift/")),
            "{:?}",
            q.headers
        );
        assert_eq!(
            q.header("content-length"),
            Some(q.body.len().to_string().as_str())
        );
    }
    // Both requests went over one connection.
    assert_eq!(mock.connection_count(), 1);
}

#[test]
fn a_proxy_variable_sends_requests_through_the_proxy() {
    // The mock plays the proxy: the suite names a port nobody listens on, so an answer can
    // only come through `HTTP_PROXY`.
    let mock = MockServer::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/v1", dead.local_addr().unwrap());
    drop(dead);
    let p = Project::new().env("T_KEY", KEY);
    p.file("suites/s.yaml", &suite(&dead_url));
    let r = p
        .cmd(&[
            "run",
            "suites/s.yaml",
            "--no-cache",
            "-j",
            "1",
            "--max-retries",
            "0",
        ])
        .env("HTTP_PROXY", mock.url())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&r.stdout);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(out.contains("2 results: 2 passed"), "{out}");
    assert_eq!(mock.request_count(), 2);
    // Without the variable the same suite cannot connect.
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "--max-retries", "0"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.all().contains("cannot connect to 127.0.0.1:"),
        "{}",
        r.all()
    );
}

// ---- hostile servers: faults after the answer's head ------------------------------------------

/// A whole OpenAI chat answer.
const ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"question answered"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;

/// Two cases whose answer is [`ANSWER`]'s text.
fn answered_suite(base_url: &str) -> String {
    suite(base_url)
        .replace(
            "type: contains, value: \"question one\"",
            "type: contains, value: answered",
        )
        .replace(
            "type: contains, value: \"question two\"",
            "type: contains, value: answered",
        )
}

/// How the server breaks the first answer on each connection it chooses to break.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Head and half the body, then a TCP reset.
    ResetMidBody,
    /// Head (announcing the full length) and half the body, then a clean close.
    CutShort,
}

/// A server on 127.0.0.1 that breaks the first request it gets for each distinct prompt
/// (after sending the answer's head), then answers properly. Returns its address and the
/// number of requests it saw.
fn faulty_server(
    fault: Fault,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = seen.clone();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    std_listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let broken: Arc<Mutex<std::collections::HashSet<String>>> = Arc::default();
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let broken = broken.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    loop {
                        // Read one request: head, then `content-length` bytes of body.
                        let mut got = Vec::new();
                        let mut buf = [0u8; 4096];
                        let head_end = loop {
                            if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                                break i + 4;
                            }
                            match s.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&got[..head_end]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        while got.len() < head_end + len {
                            match s.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                        }
                        counted.fetch_add(1, Ordering::SeqCst);
                        let body = String::from_utf8_lossy(&got[head_end..]).into_owned();
                        let first = broken.lock().unwrap().insert(body);
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            ANSWER.len()
                        );
                        if first {
                            let _ = s.write_all(head.as_bytes()).await;
                            let _ = s.write_all(&ANSWER.as_bytes()[..ANSWER.len() / 2]).await;
                            let _ = s.flush().await;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            if let Fault::ResetMidBody = fault {
                                let _ = s.set_zero_linger();
                            }
                            return; // dropped: reset or closed, mid-body
                        }
                        let _ = s.write_all(head.as_bytes()).await;
                        let _ = s.write_all(ANSWER.as_bytes()).await;
                    }
                });
            }
        });
    });
    (addr, seen)
}

/// A connection reset (or closed) after the answer's head, mid-body, is a transient fault:
/// retried like a failed connection, on both transports (hyper straight to an IP address,
/// reqwest for host names), and every case ends passed on its second attempt.
#[test]
fn answers_cut_mid_body_are_retried_on_both_transports() {
    for fault in [Fault::ResetMidBody, Fault::CutShort] {
        for host in ["127.0.0.1", "localhost"] {
            let (addr, seen) = faulty_server(fault);
            let p = Project::new().env("T_KEY", KEY);
            let base = format!("http://{host}:{}/v1", addr.port());
            p.file("suites/s.yaml", &answered_suite(&base));
            let r = p.run(&[
                "run",
                "suites/s.yaml",
                "--no-cache",
                "-j",
                "1",
                "-o",
                "r.json",
            ]);
            let what = format!("{fault:?} via {host}");
            assert_eq!(r.code, 0, "{what}: {}", r.all());
            let doc: serde_json::Value = serde_json::from_str(&p.read("r.json")).unwrap();
            for res in doc["results"].as_array().unwrap() {
                assert_eq!(res["status"], "passed", "{what}: {res:#}");
                assert_eq!(res["attempts"], 2, "{what}: {res:#}");
            }
            assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 4, "{what}");
            // Without retries the fault is a `connection` error that says what happened.
            let (addr, _) = faulty_server(fault);
            p.file(
                "suites/s.yaml",
                &answered_suite(&format!("http://{host}:{}/v1", addr.port())),
            );
            let r = p.run(&[
                "run",
                "suites/s.yaml",
                "--no-cache",
                "--max-retries",
                "0",
                "-o",
                "r.json",
            ]);
            assert_eq!(r.code, 3, "{what}: {}", r.all());
            let doc: serde_json::Value = serde_json::from_str(&p.read("r.json")).unwrap();
            for res in doc["results"].as_array().unwrap() {
                assert_eq!(res["error"]["class"], "connection", "{what}: {res:#}");
                let msg = res["error"]["message"].as_str().unwrap();
                assert!(msg.contains("was cut short"), "{what}: {msg}");
            }
        }
    }
}

/// An answer whose JSON holds a lone UTF-16 surrogate (`\ud800`), which a strict parser
/// refuses, is kept: decoded with U+FFFD, with a warning on the result and on stderr.
#[test]
fn a_lone_surrogate_keeps_the_answer_with_a_warning() {
    use promptdrift_mock::{Reply, Rule};
    let mock = MockServer::start();
    let body = r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"question one: caf\ud800 ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;
    mock.add_rule(Rule::new().prompt_contains("one").reply(Reply::raw(
        200,
        &[("content-type", "application/json")],
        body,
    )));
    let p = Project::new().env("T_KEY", KEY);
    p.file("suites/s.yaml", &suite(&format!("{}/v1", mock.url())));
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "-o", "r.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr
            .contains("warning: one × m: the answer held invalid Unicode"),
        "{}",
        r.all()
    );
    let doc: serde_json::Value = serde_json::from_str(&p.read("r.json")).unwrap();
    let one = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"] == "one")
        .unwrap();
    assert_eq!(one["status"], "passed", "{one:#}");
    assert_eq!(one["output"], "question one: caf\u{fffd} ok");
    let w = one["warnings"][0].as_str().unwrap();
    assert!(w.contains("lone UTF-16 surrogate"), "{w}");
}

/// `-j 1000` under `ulimit -n 256`: the soft limit is raised to the hard one at start; when
/// the hard limit is 256 too, the requests in flight are capped below it, with a warning,
/// and no request fails with "too many open files".
#[cfg(unix)]
#[test]
fn a_low_open_file_limit_caps_concurrency_instead_of_failing_requests() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    // The mock lives in this process: give it room for a thousand connections.
    let now = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: now.maximum,
            maximum: now.maximum,
        },
    );
    const N: usize = 3000;
    let mock = MockServer::start();
    let p = Project::new().env("T_KEY", KEY);
    let cases: String = (0..N)
        .map(|i| format!("  - {{ id: c{i}, vars: {{ q: \"q{i}\" }}, assert: [ {{ type: contains, value: \"q{i}\" }} ] }}\n"))
        .collect();
    p.file(
        "suites/s.yaml",
        &format!(
            "providers:\n  - id: openai-compatible:m\n    label: m\n    config: {{ base_url: \"{}/v1\", api_key_env: T_KEY }}\nprompts: [\"{{{{ q }}}}\"]\ncases:\n{cases}",
            mock.url()
        ),
    );
    let bin = env!("CARGO_BIN_EXE_promptdrift");
    for (limit, capped) in [("-n 256", true), ("-S -n 256", false)] {
        let out = std::process::Command::new("sh")
            .args([
                "-c",
                &format!("ulimit {limit} && exec \"$0\" \"$@\""),
                bin,
                "run",
                "suites/s.yaml",
                "--no-cache",
                "-j",
                "1000",
                "-o",
                "r.json",
            ])
            .current_dir(p.path())
            .env("T_KEY", KEY)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "ulimit {limit}: {stderr}");
        assert_eq!(
            stderr.contains("need more open files than this process may have (limit 256): running at most 64 at a time"),
            capped,
            "ulimit {limit}: {stderr}"
        );
        let doc: serde_json::Value = serde_json::from_str(&p.read("r.json")).unwrap();
        assert_eq!(doc["summary"]["passed"], N, "ulimit {limit}");
    }
}
