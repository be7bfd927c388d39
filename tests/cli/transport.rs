//! The HTTP transport as a server sees it: plain HTTP to an IP address goes straight over
//! hyper (`runner/direct.rs`) with the headers reqwest would send; a proxy variable sends every
//! request through the proxy (reqwest), as before.

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
